-- Built-in roles and clients are known by what they are, not by their names: a name can be
-- edited, this column cannot. NULL for everything an administrator created.
--   role.builtin:   'admin' and 'create-realm' (master only), 'default-roles' and the two
--                   roles it holds ('offline_access', 'uma_authorization'), and each
--                   realm-management client role under its Keycloak name ('realm-admin', ...)
--   client.builtin: 'admin-cli', 'realm-management'
-- Admin status is decided from these markers, and the marked rows cannot be renamed,
-- deleted or disabled.
--
-- Existing rows are recognised by their structure where names could have been changed:
-- composites are made only when a realm is created (no API edits them), so the realm's
-- default role is its one composite realm role, and `realm-management` is the client whose
-- `realm-admin` is a composite. A realm role renamed to `admin` in master is not marked if it
-- is that composite.
ALTER TABLE client ADD COLUMN builtin TEXT;
ALTER TABLE role ADD COLUMN builtin TEXT;

UPDATE client SET builtin = 'realm-management'
WHERE id IN (SELECT r.client_id FROM role r
             WHERE r.client_id IS NOT NULL AND r.name = 'realm-admin'
               AND r.id IN (SELECT parent_id FROM role_composite));

UPDATE client SET builtin = 'admin-cli'
WHERE client_id = 'admin-cli';

UPDATE role SET builtin = name
WHERE client_id IN (SELECT id FROM client WHERE builtin = 'realm-management');

UPDATE role SET builtin = 'default-roles'
WHERE client_id IS NULL
  AND id IN (SELECT parent_id FROM role_composite);

UPDATE role SET builtin = name
WHERE client_id IS NULL
  AND builtin IS NULL
  AND name IN ('admin', 'create-realm')
  AND realm_id IN (SELECT id FROM realm WHERE name = 'master');

UPDATE role SET builtin = name
WHERE client_id IS NULL
  AND name IN ('offline_access', 'uma_authorization')
  AND id IN (SELECT child_id FROM role_composite
             WHERE parent_id IN (SELECT id FROM role WHERE builtin = 'default-roles'));

CREATE INDEX role_builtin ON role (realm_id, builtin) WHERE builtin IS NOT NULL;
