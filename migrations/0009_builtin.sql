-- Built-in roles and clients are known by what they are, not by their names: a name can be
-- edited, this column cannot. NULL for everything an administrator created.
--   role.builtin:   'admin' and 'create-realm' (master only), 'default-roles' and the two
--                   roles it holds ('offline_access', 'uma_authorization'), and each
--                   realm-management client role under its Keycloak name ('realm-admin', ...)
--   client.builtin: 'admin-cli', 'realm-management'
-- Admin status is decided from these markers, and the marked rows cannot be renamed,
-- deleted or disabled.
ALTER TABLE client ADD COLUMN builtin TEXT;
ALTER TABLE role ADD COLUMN builtin TEXT;

UPDATE client SET builtin = client_id
WHERE client_id IN ('admin-cli', 'realm-management');

UPDATE role SET builtin = name
WHERE client_id IN (SELECT id FROM client WHERE builtin = 'realm-management');

UPDATE role SET builtin = 'default-roles'
WHERE client_id IS NULL
  AND name = 'default-roles-' || (SELECT realm.name FROM realm WHERE realm.id = role.realm_id);

UPDATE role SET builtin = name
WHERE client_id IS NULL
  AND name IN ('admin', 'create-realm')
  AND realm_id IN (SELECT id FROM realm WHERE name = 'master');

UPDATE role SET builtin = name
WHERE client_id IS NULL
  AND name IN ('offline_access', 'uma_authorization')
  AND id IN (SELECT child_id FROM role_composite
             WHERE parent_id IN (SELECT id FROM role WHERE builtin = 'default-roles'));

CREATE INDEX role_builtin ON role (realm_id, builtin) WHERE builtin IS NOT NULL;
