-- Keycloak's credential fields that its admin API shows and changes
-- (`/users/{id}/credentials`).
--
-- The label a user or an admin gives a credential (`userLabel`). Optional, as in Keycloak;
-- a password reset clears it, because Keycloak replaces the whole credential then.
ALTER TABLE credential ADD COLUMN user_label TEXT;

-- The credential's place in the user's list (Keycloak's `priority`): the list is shown in
-- ascending order, a new credential goes last (the highest priority plus 10), and
-- `moveToFirst` / `moveAfter` renumber the list 10, 20, 30... Every existing user has one
-- credential at most, so 10 is already the right value for all of them.
ALTER TABLE credential ADD COLUMN priority INTEGER NOT NULL DEFAULT 10;
