-- Single sign-on for the OIDC code flow: the browser's identity cookie, stored as a SHA-256
-- digest, names the user session it signed in. Ending the session ends the cookie's use.
CREATE TABLE sso_cookie (
    token_hash BLOB NOT NULL PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES user_session (id) ON DELETE CASCADE
);
CREATE INDEX sso_cookie_session ON sso_cookie (session_id);
