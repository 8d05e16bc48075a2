-- Keycloak's event settings per realm. Login events are stored only when
-- events_enabled, and only the types listed in enabled_event_types (space
-- separated; empty means every type). events_expiration is in seconds (0 keeps
-- events until the per-realm bound removes the oldest). Admin events are stored
-- only when admin_events_enabled, with the representation written only when
-- admin_events_details_enabled. New realms start with everything off, as in
-- Keycloak; realms that existed before this migration keep recording as they did.
ALTER TABLE realm ADD COLUMN events_enabled BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE realm ADD COLUMN events_expiration INTEGER NOT NULL DEFAULT 0;
ALTER TABLE realm ADD COLUMN enabled_event_types TEXT NOT NULL DEFAULT '';
ALTER TABLE realm ADD COLUMN admin_events_enabled BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE realm ADD COLUMN admin_events_details_enabled BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE realm SET events_enabled = TRUE, admin_events_enabled = TRUE,
    admin_events_details_enabled = TRUE;
