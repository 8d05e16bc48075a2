-- What the revocation endpoint revokes short of a whole session, as Keycloak does it.
--
-- An access token revoked on its own (Keycloak's single-use "revoked" entry keyed by the
-- token's `jti`). Access tokens are not stored, so the `jti` is remembered instead, until
-- the token would have expired anyway; rows past `expires_at` are pruned on the next
-- revocation. The session and its refresh tokens stay alive, as in Keycloak.
CREATE TABLE revoked_access_token (
    jti        TEXT    NOT NULL PRIMARY KEY,
    realm_id   TEXT    NOT NULL REFERENCES realm (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
);
CREATE INDEX revoked_access_token_expiry ON revoked_access_token (expires_at);

-- A client taken out of a session (Keycloak detaches the client session when its refresh
-- token is revoked): access tokens the client was issued in that session up to
-- `revoked_at` stop working, while the session and its other clients go on. The row goes
-- with the session or the client.
CREATE TABLE client_session_revocation (
    session_id TEXT    NOT NULL REFERENCES user_session (id) ON DELETE CASCADE,
    client_id  TEXT    NOT NULL REFERENCES client (id) ON DELETE CASCADE,
    revoked_at INTEGER NOT NULL,
    PRIMARY KEY (session_id, client_id)
);

-- A session's clients are the clients holding its live refresh tokens; the admin API lists
-- them per session and counts sessions per client, so refresh tokens are found by session.
CREATE INDEX refresh_token_session ON refresh_token (session_id);
