-- The admin console's sign-in state.

-- A console sign-in is a user session (so it shows in the user's sessions, and a
-- password reset, a disable or a user logout ends it through the cascade) plus
-- what only the console needs: the cookie, stored as a SHA-256 digest so a copy
-- of the database cannot be replayed, and the CSRF token its forms carry.
CREATE TABLE console_session (
    token_hash  BLOB NOT NULL PRIMARY KEY,
    session_id  TEXT NOT NULL UNIQUE REFERENCES user_session (id) ON DELETE CASCADE,
    csrf_token  TEXT NOT NULL
);

-- Brute-force detection, Keycloak's "login failures": failed sign-ins per realm
-- and username. Keyed by the username typed rather than a user id, so unknown
-- usernames are counted (and slowed down) exactly like real ones and the
-- counter tells nothing about which accounts exist. locked_until_ms is the
-- epoch millisecond before which sign-in is refused (0: not locked).
CREATE TABLE login_failure (
    realm_id        TEXT    NOT NULL REFERENCES realm (id) ON DELETE CASCADE,
    username        TEXT    NOT NULL,
    num_failures    INTEGER NOT NULL,
    last_failure_ms INTEGER NOT NULL,
    locked_until_ms INTEGER NOT NULL DEFAULT 0,
    last_ip         TEXT,
    PRIMARY KEY (realm_id, username)
);
