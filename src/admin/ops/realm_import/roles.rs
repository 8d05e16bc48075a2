//! The roles of an imported realm: realm roles, then client roles (each with its attributes,
//! within the admin API's caps), then (once every role exists, so that a composite may name a
//! role listed after it) their composites, as Keycloak imports them. The realm's default role (`default-roles-{realm}`) is the one the
//! realm was made with, never a second one; an export older than Keycloak 13 lists default
//! roles instead (`defaultRoles`, and `defaultRoles` on clients), which become its parts.

use crate::store::Conn;

use super::clients::Clients;
use crate::admin::ops::access::DEFAULT_ROLES;
use crate::admin::ops::realms::role;
use crate::admin::ops::role_edits::checked_attributes;
use crate::admin::ops::OpsError;
use crate::admin::repr::{CompositesRepr, RealmRepr, RoleRepr};
use crate::domain::{Client, Realm, Role};
use crate::store;

/// The role by name, created when missing (as Keycloak creates the roles that mappings
/// name). An existing role that is not built in takes the description given.
pub(super) async fn find_or_create(
    conn: &mut Conn,
    realm: &Realm,
    client: Option<&Client>,
    name: &str,
    description: Option<&String>,
) -> Result<Role, OpsError> {
    // Capped as the role `PUT` caps it.
    let description = description.map(|d| d.chars().take(4096).collect::<String>());
    let description = description.as_ref();
    let existing = match client {
        None => store::roles::find_realm_role(&mut *conn, &realm.id, name).await?,
        Some(client) => store::roles::find_client_role(&mut *conn, &client.id, name).await?,
    };
    if let Some(mut existing) = existing {
        let builtin = store::roles::builtin_of(&mut *conn, &existing.id).await?;
        if description.is_some()
            && builtin.is_none()
            && existing.description.as_ref() != description
        {
            existing.description = description.cloned();
            store::roles::update(&mut *conn, &existing).await?;
        }
        return Ok(existing);
    }
    let mut created = role(realm, client, name);
    created.description = description.cloned().filter(|d| !d.is_empty());
    store::roles::insert(&mut *conn, &created).await?;
    Ok(created)
}

/// The realm's default role takes the name the file gives it (a realm exported as `team`
/// and imported as `team-copy` keeps `default-roles-team`), so that the file's role of that
/// name is the default role, as in Keycloak, and no second one is made.
async fn adopt_default_role_name(
    conn: &mut Conn,
    realm: &Realm,
    repr: &RealmRepr,
) -> Result<(), OpsError> {
    let Some(name) = repr
        .default_role
        .as_ref()
        .and_then(|r| r.name.as_deref())
        .map(str::trim)
        .filter(|n| !n.is_empty())
    else {
        return Ok(());
    };
    let Some(mut default) =
        store::roles::find_builtin_realm_role(&mut *conn, &realm.id, DEFAULT_ROLES).await?
    else {
        return Ok(());
    };
    if default.name != name {
        default.name = name.to_owned();
        store::roles::update(&mut *conn, &default).await?;
    }
    Ok(())
}

fn name_of<'a>(repr: &'a RoleRepr, path: &str) -> Result<&'a str, OpsError> {
    let name = repr.name.as_deref().unwrap_or_default().trim();
    if name.is_empty() {
        return Err(OpsError::Invalid(format!(
            "{path}.name: a role needs a name"
        )));
    }
    Ok(name)
}

pub(super) async fn create_realm_roles(
    conn: &mut Conn,
    realm: &Realm,
    repr: &RealmRepr,
) -> Result<(), OpsError> {
    adopt_default_role_name(conn, realm, repr).await?;
    let roles = repr.roles.as_ref().and_then(|r| r.realm.as_ref());
    for (index, role_repr) in roles.into_iter().flatten().enumerate() {
        let path = format!("roles.realm[{index}]");
        let name = name_of(role_repr, &path)?;
        let role = find_or_create(conn, realm, None, name, role_repr.description.as_ref()).await?;
        set_attributes(conn, &role, role_repr, &path).await?;
    }
    Ok(())
}

pub(super) async fn create_client_roles(
    conn: &mut Conn,
    realm: &Realm,
    clients: &Clients,
    repr: &RealmRepr,
) -> Result<(), OpsError> {
    let by_client = repr.roles.as_ref().and_then(|r| r.client.as_ref());
    for (client_id, roles) in by_client.into_iter().flatten() {
        if clients.is_left_out(client_id) || roles.is_empty() {
            continue;
        }
        let path = format!("roles.client.{client_id}");
        let client = clients.require(client_id, &path)?;
        for (index, role_repr) in roles.iter().enumerate() {
            let path = format!("{path}[{index}]");
            let name = name_of(role_repr, &path)?;
            let role = find_or_create(
                conn,
                realm,
                Some(client),
                name,
                role_repr.description.as_ref(),
            )
            .await?;
            set_attributes(conn, &role, role_repr, &path).await?;
        }
    }
    Ok(())
}

/// Gives the role the attributes its representation carries, within the admin API's caps.
async fn set_attributes(
    conn: &mut Conn,
    role: &Role,
    repr: &RoleRepr,
    path: &str,
) -> Result<(), OpsError> {
    let Some(given) = &repr.attributes else {
        return Ok(());
    };
    let attributes = checked_attributes(given).map_err(|e| super::attributes_at(e, path))?;
    store::roles::set_attributes(&mut *conn, &role.id, &attributes).await?;
    Ok(())
}

/// Adds every composite's parts; a part that names no role is an error naming its path.
pub(super) async fn add_composites(
    conn: &mut Conn,
    realm: &Realm,
    clients: &Clients,
    repr: &RealmRepr,
) -> Result<(), OpsError> {
    let Some(roles) = &repr.roles else {
        return Ok(());
    };
    for (index, role_repr) in roles.realm.iter().flatten().enumerate() {
        if let Some(composites) = &role_repr.composites {
            let name = role_repr.name.as_deref().unwrap_or_default().trim();
            if let Some(parent) = store::roles::find_realm_role(&mut *conn, &realm.id, name).await?
            {
                let path = format!("roles.realm[{index}].composites");
                add_parts(conn, realm, clients, &parent, composites, &path).await?;
            }
        }
    }
    for (client_id, client_roles) in roles.client.iter().flatten() {
        let Some(client) = clients.get(client_id) else {
            continue;
        };
        for (index, role_repr) in client_roles.iter().enumerate() {
            if let Some(composites) = &role_repr.composites {
                let name = role_repr.name.as_deref().unwrap_or_default().trim();
                if let Some(parent) =
                    store::roles::find_client_role(&mut *conn, &client.id, name).await?
                {
                    let path = format!("roles.client.{client_id}[{index}].composites");
                    add_parts(conn, realm, clients, &parent, composites, &path).await?;
                }
            }
        }
    }
    Ok(())
}

async fn add_parts(
    conn: &mut Conn,
    realm: &Realm,
    clients: &Clients,
    parent: &Role,
    composites: &CompositesRepr,
    path: &str,
) -> Result<(), OpsError> {
    for name in composites.realm.iter().flatten() {
        let child = store::roles::find_realm_role(&mut *conn, &realm.id, name.trim())
            .await?
            .ok_or_else(|| OpsError::Invalid(format!("{path}.realm: no realm role '{name}'")))?;
        if child.id != parent.id {
            store::roles::add_composite(&mut *conn, &parent.id, &child.id).await?;
        }
    }
    for (client_id, names) in composites.client.iter().flatten() {
        if clients.is_left_out(client_id) {
            continue;
        }
        let client = clients.require(client_id, &format!("{path}.client"))?;
        for name in names {
            let child = store::roles::find_client_role(&mut *conn, &client.id, name.trim())
                .await?
                .ok_or_else(|| {
                    OpsError::Invalid(format!(
                        "{path}.client.{client_id}: no role '{name}' in client '{client_id}'"
                    ))
                })?;
            if child.id != parent.id {
                store::roles::add_composite(&mut *conn, &parent.id, &child.id).await?;
            }
        }
    }
    Ok(())
}

/// An export older than Keycloak 13 has no `defaultRole`: its `defaultRoles` lists (on the
/// realm and on each client) become parts of the realm's default role.
pub(super) async fn add_legacy_default_roles(
    conn: &mut Conn,
    realm: &Realm,
    clients: &Clients,
    repr: &RealmRepr,
) -> Result<(), OpsError> {
    if repr.default_role.is_some() {
        return Ok(());
    }
    let Some(default) =
        store::roles::find_builtin_realm_role(&mut *conn, &realm.id, DEFAULT_ROLES).await?
    else {
        return Ok(());
    };
    for name in repr.default_roles.iter().flatten() {
        let part = find_or_create(conn, realm, None, name.trim(), None).await?;
        store::roles::add_composite(&mut *conn, &default.id, &part.id).await?;
    }
    for client_repr in repr.clients.iter().flatten() {
        let Some(names) = client_repr
            .kept
            .get("defaultRoles")
            .and_then(|v| v.as_array())
        else {
            continue;
        };
        let Some(client) = clients.get(client_repr.client_id.as_deref().unwrap_or_default()) else {
            continue;
        };
        for name in names.iter().filter_map(|n| n.as_str()) {
            let part = find_or_create(conn, realm, Some(client), name.trim(), None).await?;
            store::roles::add_composite(&mut *conn, &default.id, &part.id).await?;
        }
    }
    Ok(())
}
