-- The clients and roles Keycloak creates with every realm (account, account-console, broker,
-- security-admin-console, the admin roles, master's `master-realm` and `{realm}-realm`).
--
-- client.manages_realm_id: set on the clients of master whose roles administer one realm
-- (`master-realm` for master itself, `{realm}-realm` for every other realm), naming that
-- realm. It links the client to the realm it administers rather than to its clientId, which
-- follows a rename; it cascades, so deleting a realm deletes its client in master with its
-- roles and every grant of them (Keycloak's masterAdminClient).
ALTER TABLE client ADD COLUMN manages_realm_id TEXT REFERENCES realm (id) ON DELETE CASCADE;

-- realm.layout_version: which layout the realm's built-in clients and roles were brought to.
-- 0 for every realm made before this migration; start-up brings such realms to the current
-- layout once, adding only what is missing, and new realms are made at it. Recording it keeps
-- the backfill from running again over an administrator's later changes.
ALTER TABLE realm ADD COLUMN layout_version INTEGER NOT NULL DEFAULT 0;

CREATE INDEX client_manages_realm ON client (manages_realm_id) WHERE manages_realm_id IS NOT NULL;
