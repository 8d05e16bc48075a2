-- Keycloak's required actions (e.g. UPDATE_PASSWORD after an admin sets a temporary
-- password): a JSON array of action names. A user with any pending action cannot get
-- tokens until it is done.
ALTER TABLE app_user ADD COLUMN required_actions TEXT NOT NULL DEFAULT '[]';
