-- Keycloak's `acr` claim: "1" when a client's tokens come from a login that asked for
-- credentials, "0" when the client was signed in by single sign-on from an existing session.
-- A code remembers which it was, and so does every refresh token, because a refreshed access
-- token keeps the acr of the login it continues. Both default to a fresh login, which is what
-- every code and refresh token issued before this column existed came from or is treated as.
ALTER TABLE auth_code ADD COLUMN sso BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE refresh_token ADD COLUMN sso BOOLEAN NOT NULL DEFAULT FALSE;

-- Keycloak's `auth_time`: when the user last typed credentials in a browser. A password grant
-- has none (Keycloak leaves the claim out), a code-flow login has its session's start, and a
-- refresh token carries the value of the login it continues, NULL meaning no claim.
ALTER TABLE refresh_token ADD COLUMN auth_time INTEGER;
