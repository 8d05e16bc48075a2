-- Roles and groups carry attributes, as Keycloak's do: `{name: [values]}`.
-- Stored as one JSON object per row, like app_user.attributes and client.attributes: they are
-- only ever read and replaced whole (a role or group PUT replaces them), never searched by SQL,
-- so a separate attribute table would buy nothing but joins. '{}' keeps existing rows valid.
ALTER TABLE role ADD COLUMN attributes TEXT NOT NULL DEFAULT '{}';
ALTER TABLE app_group ADD COLUMN attributes TEXT NOT NULL DEFAULT '{}';
-- Keycloak 26 groups carry a free-text description; NULL when none was given.
ALTER TABLE app_group ADD COLUMN description TEXT;
