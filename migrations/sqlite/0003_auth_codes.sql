-- Authorization codes of the OIDC code flow: single use (taken with DELETE ... RETURNING)
-- and short-lived. Like refresh tokens, only a SHA-256 digest of the code is stored.
CREATE TABLE auth_code (
    code_hash             BLOB    NOT NULL PRIMARY KEY,
    realm_id              TEXT    NOT NULL REFERENCES realm (id) ON DELETE CASCADE,
    client_id             TEXT    NOT NULL REFERENCES client (id) ON DELETE CASCADE,
    user_id               TEXT    NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
    session_id            TEXT    NOT NULL REFERENCES user_session (id) ON DELETE CASCADE,
    redirect_uri          TEXT    NOT NULL,
    scope                 TEXT,
    nonce                 TEXT,
    code_challenge        TEXT,
    code_challenge_method TEXT,
    expires_at            INTEGER NOT NULL
);
