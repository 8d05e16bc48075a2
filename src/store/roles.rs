//! Realm and client roles, composites, and user/group role mappings.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::{sql, Exec};

use super::{conflict_on_unique, from_json, to_json, StoreError};
use crate::domain::{ClientUuid, GroupId, RealmId, Role, RoleId, UserId};

/// Inserts a realm role (`client_id` None) or a client role.
pub async fn insert(db: impl Into<Exec<'_>>, role: &Role) -> Result<(), StoreError> {
    let container = role
        .client_id
        .as_ref()
        .map(|c| c.as_str())
        .unwrap_or(role.realm_id.as_str());
    sql!(
        db,
        query!(
            "INSERT INTO role (id, realm_id, client_id, container_id, name, description)
         VALUES ($1, $2, $3, $4, $5, $6)",
            role.id,
            role.realm_id,
            role.client_id,
            container,
            role.name,
            role.description,
        )
        .execute
    )
    .map_err(conflict_on_unique(format!(
        "Role with name {} already exists",
        role.name
    )))
    .map(drop)
}

pub async fn delete(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    id: &RoleId,
) -> Result<bool, StoreError> {
    let done = sql!(
        db,
        query!(
            "DELETE FROM role WHERE id = $1 AND realm_id = $2",
            id,
            realm
        )
        .execute
    )?;
    Ok(done == 1)
}

/// Makes `parent` a composite that also grants `child`.
pub async fn add_composite(
    db: impl Into<Exec<'_>>,
    parent: &RoleId,
    child: &RoleId,
) -> Result<(), StoreError> {
    sql!(
        db,
        query!(
        "INSERT INTO role_composite (parent_id, child_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        parent,
        child
    )
        .execute
    )?;
    Ok(())
}

/// A realm role by name.
pub async fn find_realm_role(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    name: &str,
) -> Result<Option<Role>, StoreError> {
    Ok(sql!(db, query_as!(
        Role,
        r#"SELECT id AS "id: _", realm_id AS "realm_id: _", client_id AS "client_id: _", name, description
         FROM role WHERE container_id = $1 AND realm_id = $1 AND name = $2"#,
        realm,
        name
    ).fetch_optional)?)
}

/// A client role by name.
pub async fn find_client_role(
    db: impl Into<Exec<'_>>,
    client: &ClientUuid,
    name: &str,
) -> Result<Option<Role>, StoreError> {
    Ok(sql!(db, query_as!(
        Role,
        r#"SELECT id AS "id: _", realm_id AS "realm_id: _", client_id AS "client_id: _", name, description
         FROM role WHERE container_id = $1 AND name = $2"#,
        client,
        name
    ).fetch_optional)?)
}

/// The realm's realm roles, by name.
pub async fn list_realm_roles(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
) -> Result<Vec<Role>, StoreError> {
    Ok(sql!(db, query_as!(
        Role,
        r#"SELECT id AS "id: _", realm_id AS "realm_id: _", client_id AS "client_id: _", name, description
         FROM role WHERE container_id = $1 AND realm_id = $1 ORDER BY name"#,
        realm
    ).fetch_all)?)
}

/// Grants a role to a user directly.
pub async fn grant_to_user(
    db: impl Into<Exec<'_>>,
    user: &UserId,
    role: &RoleId,
) -> Result<(), StoreError> {
    sql!(
        db,
        query!(
        "INSERT INTO user_role_mapping (user_id, role_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        user,
        role
    )
        .execute
    )?;
    Ok(())
}

/// Takes a directly granted role away from a user.
pub async fn revoke_from_user(
    db: impl Into<Exec<'_>>,
    user: &UserId,
    role: &RoleId,
) -> Result<(), StoreError> {
    sql!(
        db,
        query!(
            "DELETE FROM user_role_mapping WHERE user_id = $1 AND role_id = $2",
            user,
            role
        )
        .execute
    )?;
    Ok(())
}

/// Grants a role to every member of a group.
pub async fn grant_to_group(
    db: impl Into<Exec<'_>>,
    group: &GroupId,
    role: &RoleId,
) -> Result<(), StoreError> {
    sql!(
        db,
        query!(
        "INSERT INTO group_role_mapping (group_id, role_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        group,
        role
    )
        .execute
    )?;
    Ok(())
}

/// The realm roles granted to the user directly (not through groups or composites).
pub async fn user_realm_roles(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    user: &UserId,
) -> Result<Vec<Role>, StoreError> {
    Ok(sql!(
        db,
        query_as!(
            Role,
            r#"SELECT r.id AS "id: _", r.realm_id AS "realm_id: _", r.client_id AS "client_id: _",
            r.name, r.description
         FROM role r JOIN user_role_mapping m ON m.role_id = r.id
         WHERE m.user_id = $2 AND r.container_id = $1 ORDER BY r.name"#,
            realm,
            user
        )
        .fetch_all
    )?)
}

/// A role the user holds in effect: directly, through a group (or its ancestors) or through a
/// composite. `client` is the clientId for client roles, None for realm roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffectiveRole {
    pub name: String,
    pub client: Option<String>,
    /// What the role is when it is built in (see `mark_builtin`).
    pub builtin: Option<String>,
    /// What the role's client is when it is built in.
    pub client_builtin: Option<String>,
    /// The realm that the role's client administers, for the clients of master that carry
    /// one realm's admin roles (`master-realm`, `{realm}-realm`).
    pub managed_realm: Option<RealmId>,
}

/// Every role the user holds in effect.
pub async fn effective_roles(
    db: impl Into<Exec<'_>>,
    user: &UserId,
) -> Result<Vec<EffectiveRole>, StoreError> {
    Ok(sql!(db, query_as!(
        EffectiveRole,
        r#"WITH RECURSIVE
            user_groups (id) AS (
                SELECT group_id FROM group_membership WHERE user_id = $1
                UNION
                SELECT g.parent_id FROM app_group g JOIN user_groups ug ON g.id = ug.id
                WHERE g.parent_id IS NOT NULL),
            granted (id) AS (
                SELECT role_id FROM user_role_mapping WHERE user_id = $1
                UNION
                SELECT role_id FROM group_role_mapping WHERE group_id IN (SELECT id FROM user_groups)),
            effective (id) AS (
                SELECT id FROM granted
                UNION
                SELECT rc.child_id FROM role_composite rc JOIN effective e ON rc.parent_id = e.id)
         SELECT r.name AS "name!", c.client_id AS "client?", r.builtin AS "builtin?",
                c.builtin AS "client_builtin?", c.manages_realm_id AS "managed_realm?: RealmId"
         FROM role r LEFT JOIN client c ON c.id = r.client_id
         WHERE r.id IN (SELECT id FROM effective)
         ORDER BY c.client_id, r.name"#,
        user
    ).fetch_all)?)
}

/// A role of the realm by id.
pub async fn find_by_id(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    id: &RoleId,
) -> Result<Option<Role>, StoreError> {
    Ok(sql!(db, query_as!(
        Role,
        r#"SELECT id AS "id: _", realm_id AS "realm_id: _", client_id AS "client_id: _", name, description
         FROM role WHERE id = $1 AND realm_id = $2"#,
        id,
        realm
    ).fetch_optional)?)
}

/// The client's roles, by name.
pub async fn list_client_roles(
    db: impl Into<Exec<'_>>,
    client: &ClientUuid,
) -> Result<Vec<Role>, StoreError> {
    Ok(sql!(db, query_as!(
        Role,
        r#"SELECT id AS "id: _", realm_id AS "realm_id: _", client_id AS "client_id: _", name, description
         FROM role WHERE container_id = $1 ORDER BY name"#,
        client
    ).fetch_all)?)
}

/// Writes a role's name and description.
pub async fn update(db: impl Into<Exec<'_>>, role: &Role) -> Result<bool, StoreError> {
    let done = sql!(
        db,
        query!(
            "UPDATE role SET name = $1, description = $2 WHERE id = $3 AND realm_id = $4",
            role.name,
            role.description,
            role.id,
            role.realm_id
        )
        .execute
    )
    .map_err(conflict_on_unique(format!(
        "Role with name {} already exists",
        role.name
    )))?;
    Ok(done == 1)
}

/// Whether the role is a composite (grants other roles).
pub async fn is_composite(db: impl Into<Exec<'_>>, role: &RoleId) -> Result<bool, StoreError> {
    Ok(sql!(db, query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM role_composite WHERE parent_id = $1) AS "composite!: bool""#,
        role
    ).fetch_one)?)
}

/// Users holding the role directly.
pub async fn user_ids_with(
    db: impl Into<Exec<'_>>,
    role: &RoleId,
) -> Result<Vec<UserId>, StoreError> {
    Ok(sql!(
        db,
        query_scalar!(
            r#"SELECT user_id AS "user_id: UserId" FROM user_role_mapping WHERE role_id = $1"#,
            role
        )
        .fetch_all
    )?)
}

/// Groups granted the role directly.
pub async fn group_ids_with(
    db: impl Into<Exec<'_>>,
    role: &RoleId,
) -> Result<Vec<GroupId>, StoreError> {
    Ok(sql!(
        db,
        query_scalar!(
            r#"SELECT group_id AS "group_id: GroupId" FROM group_role_mapping WHERE role_id = $1"#,
            role
        )
        .fetch_all
    )?)
}

/// The roles of `client` granted to the user directly.
pub async fn user_client_roles(
    db: impl Into<Exec<'_>>,
    client: &ClientUuid,
    user: &UserId,
) -> Result<Vec<Role>, StoreError> {
    Ok(sql!(
        db,
        query_as!(
            Role,
            r#"SELECT r.id AS "id: _", r.realm_id AS "realm_id: _", r.client_id AS "client_id: _",
            r.name, r.description
         FROM role r JOIN user_role_mapping m ON m.role_id = r.id
         WHERE m.user_id = $2 AND r.container_id = $1 ORDER BY r.name"#,
            client,
            user
        )
        .fetch_all
    )?)
}

/// The realm roles granted to a group directly.
pub async fn group_realm_roles(
    db: impl Into<Exec<'_>>,
    group: &GroupId,
) -> Result<Vec<Role>, StoreError> {
    Ok(sql!(
        db,
        query_as!(
            Role,
            r#"SELECT r.id AS "id: _", r.realm_id AS "realm_id: _", r.client_id AS "client_id: _",
            r.name, r.description
         FROM role r JOIN group_role_mapping m ON m.role_id = r.id
         WHERE m.group_id = $1 AND r.client_id IS NULL ORDER BY r.name"#,
            group
        )
        .fetch_all
    )?)
}

/// Every role that members of `group` hold through it (its own mappings, its ancestors' and
/// their composites).
pub async fn group_effective_roles(
    db: impl Into<Exec<'_>>,
    group: &GroupId,
) -> Result<Vec<EffectiveRole>, StoreError> {
    Ok(sql!(
        db,
        query_as!(
            EffectiveRole,
            r#"WITH RECURSIVE
            lineage (id) AS (
                SELECT $1
                UNION
                SELECT g.parent_id FROM app_group g JOIN lineage l ON g.id = l.id
                WHERE g.parent_id IS NOT NULL),
            effective (id) AS (
                SELECT role_id FROM group_role_mapping WHERE group_id IN (SELECT id FROM lineage)
                UNION
                SELECT rc.child_id FROM role_composite rc JOIN effective e ON rc.parent_id = e.id)
         SELECT r.name AS "name!", c.client_id AS "client?", r.builtin AS "builtin?",
                c.builtin AS "client_builtin?", c.manages_realm_id AS "managed_realm?: RealmId"
         FROM role r LEFT JOIN client c ON c.id = r.client_id
         WHERE r.id IN (SELECT id FROM effective)"#,
            group
        )
        .fetch_all
    )?)
}

/// A role and every role its composites grant.
pub async fn role_effective_roles(
    db: impl Into<Exec<'_>>,
    role: &RoleId,
) -> Result<Vec<EffectiveRole>, StoreError> {
    Ok(sql!(
        db,
        query_as!(
            EffectiveRole,
            r#"WITH RECURSIVE
            effective (id) AS (
                SELECT $1
                UNION
                SELECT rc.child_id FROM role_composite rc JOIN effective e ON rc.parent_id = e.id)
         SELECT r.name AS "name!", c.client_id AS "client?", r.builtin AS "builtin?",
                c.builtin AS "client_builtin?", c.manages_realm_id AS "managed_realm?: RealmId"
         FROM role r LEFT JOIN client c ON c.id = r.client_id
         WHERE r.id IN (SELECT id FROM effective)"#,
            role
        )
        .fetch_all
    )?)
}

/// Marks a role as built in: `what` names it for good, whatever its name becomes.
pub async fn mark_builtin(
    db: impl Into<Exec<'_>>,
    role: &RoleId,
    what: &str,
) -> Result<(), StoreError> {
    sql!(
        db,
        query!("UPDATE role SET builtin = $1 WHERE id = $2", what, role).execute
    )?;
    Ok(())
}

/// What a role is when it is built in.
pub async fn builtin_of(
    db: impl Into<Exec<'_>>,
    role: &RoleId,
) -> Result<Option<String>, StoreError> {
    Ok(sql!(
        db,
        query_scalar!("SELECT builtin FROM role WHERE id = $1", role).fetch_optional
    )?
    .flatten())
}

/// The built-in realm role `what` of a realm (its name may differ).
pub async fn find_builtin_realm_role(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    what: &str,
) -> Result<Option<Role>, StoreError> {
    Ok(sql!(db, query_as!(
        Role,
        r#"SELECT id AS "id: _", realm_id AS "realm_id: _", client_id AS "client_id: _", name, description
         FROM role WHERE realm_id = $1 AND builtin = $2 AND client_id IS NULL"#,
        realm,
        what
    ).fetch_optional)?)
}

/// Every role of a realm, realm and client roles alike (for export).
pub async fn list_all(db: impl Into<Exec<'_>>, realm: &RealmId) -> Result<Vec<Role>, StoreError> {
    Ok(sql!(db, query_as!(
        Role,
        r#"SELECT id AS "id: _", realm_id AS "realm_id: _", client_id AS "client_id: _", name, description
         FROM role WHERE realm_id = $1 ORDER BY name"#,
        realm
    ).fetch_all)?)
}

/// A link between two ids: a composite and its part, a user or group and its role.
pub struct Link<A, B> {
    pub from: A,
    pub to: B,
}

/// Every composite of a realm as (composite, part) links.
pub async fn composite_links(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
) -> Result<Vec<Link<RoleId, RoleId>>, StoreError> {
    Ok(sql!(
        db,
        query_as!(
            Link::<RoleId, RoleId>,
            r#"SELECT c.parent_id AS "from: RoleId", c.child_id AS "to: RoleId"
         FROM role_composite c JOIN role r ON r.id = c.parent_id
         WHERE r.realm_id = $1"#,
            realm
        )
        .fetch_all
    )?)
}

/// Every direct role mapping of the realm's users.
pub async fn user_links(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
) -> Result<Vec<Link<UserId, RoleId>>, StoreError> {
    Ok(sql!(
        db,
        query_as!(
            Link::<UserId, RoleId>,
            r#"SELECT m.user_id AS "from: UserId", m.role_id AS "to: RoleId"
         FROM user_role_mapping m JOIN role r ON r.id = m.role_id
         WHERE r.realm_id = $1"#,
            realm
        )
        .fetch_all
    )?)
}

/// Every direct role mapping of the realm's groups.
pub async fn group_links(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
) -> Result<Vec<Link<GroupId, RoleId>>, StoreError> {
    Ok(sql!(
        db,
        query_as!(
            Link::<GroupId, RoleId>,
            r#"SELECT m.group_id AS "from: GroupId", m.role_id AS "to: RoleId"
         FROM group_role_mapping m JOIN role r ON r.id = m.role_id
         WHERE r.realm_id = $1"#,
            realm
        )
        .fetch_all
    )?)
}

/// Gives a role its description unless it already has one.
pub async fn describe_if_blank(
    db: impl Into<Exec<'_>>,
    role: &RoleId,
    description: &str,
) -> Result<(), StoreError> {
    sql!(
        db,
        query!(
            "UPDATE role SET description = $1 WHERE id = $2 AND description IS NULL",
            description,
            role
        )
        .execute
    )?;
    Ok(())
}

/// A role's attributes (`{name: [values]}`).
pub async fn attributes_of(
    db: impl Into<Exec<'_>>,
    role: &RoleId,
) -> Result<BTreeMap<String, Vec<String>>, StoreError> {
    let raw = sql!(
        db,
        query_scalar!("SELECT attributes FROM role WHERE id = $1", role).fetch_optional
    )?;
    raw.map_or(Ok(BTreeMap::new()), |raw| {
        from_json("role.attributes", &raw)
    })
}

/// Replaces a role's attributes.
pub async fn set_attributes(
    db: impl Into<Exec<'_>>,
    role: &RoleId,
    attributes: &BTreeMap<String, Vec<String>>,
) -> Result<(), StoreError> {
    let raw = to_json(attributes);
    sql!(
        db,
        query!("UPDATE role SET attributes = $1 WHERE id = $2", raw, role).execute
    )?;
    Ok(())
}

/// The attributes of every role of the realm that has any, by role.
pub async fn attributes_in(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
) -> Result<HashMap<RoleId, BTreeMap<String, Vec<String>>>, StoreError> {
    struct Row {
        id: RoleId,
        attributes: String,
    }
    let rows = sql!(db, query_as!(
        Row,
        r#"SELECT id AS "id: RoleId", attributes FROM role WHERE realm_id = $1 AND attributes <> '{}'"#,
        realm
    ).fetch_all)?;
    rows.into_iter()
        .map(|row| Ok((row.id, from_json("role.attributes", &row.attributes)?)))
        .collect()
}

/// Stops `parent` from granting `child`.
pub async fn remove_composite(
    db: impl Into<Exec<'_>>,
    parent: &RoleId,
    child: &RoleId,
) -> Result<(), StoreError> {
    sql!(
        db,
        query!(
            "DELETE FROM role_composite WHERE parent_id = $1 AND child_id = $2",
            parent,
            child
        )
        .execute
    )?;
    Ok(())
}

/// The roles `parent` grants directly, realm roles first, then by name.
pub async fn composites_of(
    db: impl Into<Exec<'_>>,
    parent: &RoleId,
) -> Result<Vec<Role>, StoreError> {
    Ok(sql!(
        db,
        query_as!(
            Role,
            r#"SELECT r.id AS "id: _", r.realm_id AS "realm_id: _", r.client_id AS "client_id: _",
            r.name, r.description
         FROM role r JOIN role_composite rc ON rc.child_id = r.id
         WHERE rc.parent_id = $1 ORDER BY r.client_id IS NOT NULL, r.client_id, r.name"#,
            parent
        )
        .fetch_all
    )?)
}

/// The ids of the realm's composite roles.
pub async fn composite_ids(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
) -> Result<HashSet<RoleId>, StoreError> {
    Ok(sql!(
        db,
        query_scalar!(
            r#"SELECT DISTINCT rc.parent_id AS "id!: RoleId"
         FROM role_composite rc JOIN role r ON r.id = rc.parent_id WHERE r.realm_id = $1"#,
            realm
        )
        .fetch_all
    )?
    .into_iter()
    .collect())
}

/// Every role (realm and client) granted to the user directly.
pub async fn user_mappings(
    db: impl Into<Exec<'_>>,
    user: &UserId,
) -> Result<Vec<Role>, StoreError> {
    Ok(sql!(
        db,
        query_as!(
            Role,
            r#"SELECT r.id AS "id: _", r.realm_id AS "realm_id: _", r.client_id AS "client_id: _",
            r.name, r.description
         FROM role r JOIN user_role_mapping m ON m.role_id = r.id
         WHERE m.user_id = $1 ORDER BY r.client_id IS NOT NULL, r.client_id, r.name"#,
            user
        )
        .fetch_all
    )?)
}

/// Every role (realm and client) granted to the group directly.
pub async fn group_mappings(
    db: impl Into<Exec<'_>>,
    group: &GroupId,
) -> Result<Vec<Role>, StoreError> {
    Ok(sql!(
        db,
        query_as!(
            Role,
            r#"SELECT r.id AS "id: _", r.realm_id AS "realm_id: _", r.client_id AS "client_id: _",
            r.name, r.description
         FROM role r JOIN group_role_mapping m ON m.role_id = r.id
         WHERE m.group_id = $1 ORDER BY r.client_id IS NOT NULL, r.client_id, r.name"#,
            group
        )
        .fetch_all
    )?)
}

/// Takes a directly granted role away from a group.
pub async fn revoke_from_group(
    db: impl Into<Exec<'_>>,
    group: &GroupId,
    role: &RoleId,
) -> Result<(), StoreError> {
    sql!(
        db,
        query!(
            "DELETE FROM group_role_mapping WHERE group_id = $1 AND role_id = $2",
            group,
            role
        )
        .execute
    )?;
    Ok(())
}

/// Every role the user holds in effect (directly, through groups and their ancestors, and
/// through composites), by name.
pub async fn user_effective(
    db: impl Into<Exec<'_>>,
    user: &UserId,
) -> Result<Vec<Role>, StoreError> {
    Ok(sql!(db, query_as!(
        Role,
        r#"WITH RECURSIVE
            user_groups (id) AS (
                SELECT group_id FROM group_membership WHERE user_id = $1
                UNION
                SELECT g.parent_id FROM app_group g JOIN user_groups ug ON g.id = ug.id
                WHERE g.parent_id IS NOT NULL),
            granted (id) AS (
                SELECT role_id FROM user_role_mapping WHERE user_id = $1
                UNION
                SELECT role_id FROM group_role_mapping WHERE group_id IN (SELECT id FROM user_groups)),
            effective (id) AS (
                SELECT id FROM granted
                UNION
                SELECT rc.child_id FROM role_composite rc JOIN effective e ON rc.parent_id = e.id)
         SELECT r.id AS "id!: _", r.realm_id AS "realm_id!: _", r.client_id AS "client_id: _",
            r.name AS "name!", r.description
         FROM role r WHERE r.id IN (SELECT id FROM effective) ORDER BY r.name"#,
        user
    ).fetch_all)?)
}

/// Every role a group's members hold through it (its and its ancestors' mappings and their
/// composites), by name.
pub async fn group_effective(
    db: impl Into<Exec<'_>>,
    group: &GroupId,
) -> Result<Vec<Role>, StoreError> {
    Ok(sql!(
        db,
        query_as!(
            Role,
            r#"WITH RECURSIVE
            lineage (id) AS (
                SELECT $1
                UNION
                SELECT g.parent_id FROM app_group g JOIN lineage l ON g.id = l.id
                WHERE g.parent_id IS NOT NULL),
            effective (id) AS (
                SELECT role_id FROM group_role_mapping WHERE group_id IN (SELECT id FROM lineage)
                UNION
                SELECT rc.child_id FROM role_composite rc JOIN effective e ON rc.parent_id = e.id)
         SELECT r.id AS "id!: _", r.realm_id AS "realm_id!: _", r.client_id AS "client_id: _",
            r.name AS "name!", r.description
         FROM role r WHERE r.id IN (SELECT id FROM effective) ORDER BY r.name"#,
            group
        )
        .fetch_all
    )?)
}
