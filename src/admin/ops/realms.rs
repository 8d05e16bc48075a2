//! Realm operations. A new realm gets what Keycloak gives one: a signing key and certificate,
//! the `admin-cli` and `realm-management` clients, and the default roles. A realm
//! representation may carry roles, groups, clients and users to import.

use sqlx::SqliteConnection;

use super::access::{authorize, creator_of, Actor, Right};
use super::events::{self, Operation};
use super::OpsError;
use crate::admin::repr::{GroupRepr, RealmRepr, UserRepr};
use crate::crypto::keys::generate_realm_key;
use crate::domain::{
    Client, ClientIdName, Group, GroupId, KeyId, Protocol, Realm, RealmKey, RealmName, Role,
    RoleId, User, Username,
};
use crate::state::AppState;
use crate::store;

/// The name of the realm that administers all others.
pub const MASTER: &str = "master";

/// The client roles of `realm-management`; `realm-admin` is a composite of all the others.
pub const REALM_MANAGEMENT_ROLES: [&str; 12] = [
    "view-realm",
    "manage-realm",
    "view-users",
    "manage-users",
    "query-users",
    "query-groups",
    "view-clients",
    "manage-clients",
    "query-clients",
    "create-client",
    "view-events",
    "manage-events",
];

/// Creates a realm with its key, default clients and roles, inside the caller's transaction.
/// The key is generated before any write so the transaction stays short.
pub async fn provision(conn: &mut SqliteConnection, realm: Realm) -> Result<Realm, OpsError> {
    let name = realm.name.as_str().to_owned();
    let generated = tokio::task::spawn_blocking(move || generate_realm_key(&name))
        .await
        .map_err(|e| anyhow::anyhow!("key generation stopped: {e}"))?
        .map_err(anyhow::Error::from)?;
    store::realms::insert(&mut *conn, &realm).await?;
    store::keys::insert(
        &mut *conn,
        &RealmKey {
            id: KeyId::new(),
            realm_id: realm.id.clone(),
            kid: generated.kid,
            algorithm: "RS256".into(),
            status: "ACTIVE".into(),
            private_key_der: generated.private_key_der,
            public_key_der: generated.public_key_der,
            certificate_der: generated.certificate_der,
            created_at: crate::clock::now_secs(),
        },
    )
    .await?;

    let admin_cli = Client {
        name: Some("${client_admin-cli}".into()),
        standard_flow_enabled: false,
        ..Client::new(
            realm.id.clone(),
            ClientIdName::parse("admin-cli")?,
            Protocol::OpenIdConnect,
        )
    };
    store::clients::insert(&mut *conn, &admin_cli).await?;

    let management = Client {
        name: Some("${client_realm-management}".into()),
        public_client: false,
        standard_flow_enabled: false,
        direct_access_grants_enabled: false,
        attributes: [("bearerOnly".to_owned(), "true".to_owned())].into(),
        ..Client::new(
            realm.id.clone(),
            ClientIdName::parse("realm-management")?,
            Protocol::OpenIdConnect,
        )
    };
    store::clients::insert(&mut *conn, &management).await?;
    let realm_admin = role(&realm, Some(&management), "realm-admin");
    store::roles::insert(&mut *conn, &realm_admin).await?;
    for name in REALM_MANAGEMENT_ROLES {
        let child = role(&realm, Some(&management), name);
        store::roles::insert(&mut *conn, &child).await?;
        store::roles::add_composite(&mut *conn, &realm_admin.id, &child.id).await?;
    }

    let default_roles = role(&realm, None, &format!("default-roles-{}", realm.name));
    store::roles::insert(&mut *conn, &default_roles).await?;
    for name in ["offline_access", "uma_authorization"] {
        let child = role(&realm, None, name);
        store::roles::insert(&mut *conn, &child).await?;
        store::roles::add_composite(&mut *conn, &default_roles.id, &child.id).await?;
    }
    if realm.name.as_str() == MASTER {
        for name in ["admin", "create-realm"] {
            store::roles::insert(&mut *conn, &role(&realm, None, name)).await?;
        }
    }
    Ok(realm)
}

fn role(realm: &Realm, client: Option<&Client>, name: &str) -> Role {
    Role {
        id: RoleId::new(),
        realm_id: realm.id.clone(),
        client_id: client.map(|c| c.id.clone()),
        name: name.to_owned(),
        description: None,
    }
}

/// Parses a realm name and provisions a realm with Keycloak's defaults.
pub async fn create_named(conn: &mut SqliteConnection, name: &str) -> Result<Realm, OpsError> {
    let name = RealmName::parse(name)?;
    provision(conn, Realm::new(name)).await
}

/// The realms the actor can see.
pub async fn list(state: &AppState, actor: &Actor) -> Result<Vec<Realm>, OpsError> {
    Ok(store::realms::list(state.db.read())
        .await?
        .into_iter()
        .filter(|r| actor.sees(r))
        .collect())
}

pub async fn get(state: &AppState, actor: &Actor, realm: &str) -> Result<Realm, OpsError> {
    Ok(authorize(state, actor, realm, Right::ViewRealm)
        .await?
        .realm()
        .clone())
}

/// Creates (and imports) a realm from a representation.
pub async fn create(state: &AppState, actor: &Actor, repr: &RealmRepr) -> Result<Realm, OpsError> {
    if !actor.may_create_realms {
        return Err(OpsError::Forbidden);
    }
    let realm = import(state, repr).await?;
    let granted = creator_of(actor, realm.clone());
    let mut tx = state.db.begin().await?;
    events::record(
        &mut tx,
        &granted,
        Operation::Create,
        "REALM",
        format!("realms/{}", realm.name),
        Some(&RealmRepr::of(&realm)),
    )
    .await?;
    tx.commit().await?;
    Ok(realm)
}

/// Creates a realm with everything its representation carries, in one transaction: nothing
/// is written unless all of it is.
pub async fn import(state: &AppState, repr: &RealmRepr) -> Result<Realm, OpsError> {
    let name = RealmName::parse(repr.realm.as_deref().unwrap_or_default())?;
    let mut realm = Realm::new(name);
    repr.apply_settings(&mut realm).map_err(OpsError::Invalid)?;
    let hashes = hash_passwords(state, repr.users.as_deref().unwrap_or_default()).await?;
    let mut tx = state.db.begin().await?;
    if store::realms::find_by_name(&mut *tx, realm.name.as_str())
        .await?
        .is_some()
    {
        return Err(OpsError::Conflict(
            "Conflict detected. See logs for details".into(),
        ));
    }
    let realm = provision(&mut tx, realm).await?;
    for role_repr in repr.roles.iter().flat_map(|r| r.realm.iter().flatten()) {
        let name = role_repr.name.as_deref().unwrap_or_default().trim();
        if name.is_empty()
            || store::roles::find_realm_role(&mut *tx, &realm.id, name)
                .await?
                .is_some()
        {
            continue;
        }
        let mut new_role = role(&realm, None, name);
        new_role.description = role_repr.description.clone();
        store::roles::insert(&mut *tx, &new_role).await?;
    }
    for group in repr.groups.iter().flatten() {
        import_group(&mut tx, &realm, None, group).await?;
    }
    for client in repr.clients.iter().flatten() {
        let builtin = matches!(
            client.client_id.as_deref(),
            Some("admin-cli" | "realm-management")
        );
        if !builtin {
            super::clients::insert_from(state, &mut tx, &realm, client).await?;
        }
    }
    for (user_repr, phc) in repr.users.iter().flatten().zip(hashes) {
        import_user(&mut tx, &realm, user_repr, phc).await?;
    }
    tx.commit().await?;
    Ok(realm)
}

/// Hashes the plain passwords of imported users before the transaction opens.
async fn hash_passwords(
    state: &AppState,
    users: &[UserRepr],
) -> Result<Vec<Option<(String, bool)>>, OpsError> {
    let mut hashes = Vec::with_capacity(users.len());
    for user in users {
        let credential =
            user.credentials.iter().flatten().find(|c| {
                c.kind.as_deref().unwrap_or("password") == "password" && c.value.is_some()
            });
        hashes.push(match credential {
            Some(c) => {
                let secret = secrecy::SecretString::from(c.value.clone().unwrap_or_default());
                let phc = state
                    .passwords
                    .hash(secret)
                    .await
                    .map_err(anyhow::Error::from)?;
                Some((phc, c.temporary.unwrap_or(false)))
            }
            None => None,
        });
    }
    Ok(hashes)
}

fn import_group<'a>(
    conn: &'a mut SqliteConnection,
    realm: &'a Realm,
    parent: Option<&'a GroupId>,
    repr: &'a GroupRepr,
) -> futures_util::future::BoxFuture<'a, Result<(), OpsError>> {
    Box::pin(async move {
        let name = repr.name.as_deref().unwrap_or_default().trim();
        if name.is_empty() || name.contains('/') {
            return Err(OpsError::Invalid(format!("Invalid group name '{name}'")));
        }
        let group = Group {
            id: GroupId::new(),
            realm_id: realm.id.clone(),
            parent_id: parent.cloned(),
            name: name.to_owned(),
        };
        store::groups::insert(&mut *conn, &group).await?;
        for role_name in repr.realm_roles.iter().flatten() {
            let role = store::roles::find_realm_role(&mut *conn, &realm.id, role_name)
                .await?
                .ok_or_else(|| {
                    OpsError::Invalid(format!("Group '{name}' names unknown role '{role_name}'"))
                })?;
            store::roles::grant_to_group(&mut *conn, &group.id, &role.id).await?;
        }
        for child in repr.sub_groups.iter().flatten() {
            import_group(conn, realm, Some(&group.id), child).await?;
        }
        Ok(())
    })
}

async fn import_user(
    conn: &mut SqliteConnection,
    realm: &Realm,
    repr: &UserRepr,
    phc: Option<(String, bool)>,
) -> Result<(), OpsError> {
    let username = Username::parse(repr.username.as_deref().unwrap_or_default())?;
    let mut user = User::new(realm.id.clone(), username);
    user.email = repr
        .email
        .clone()
        .filter(|e| !e.is_empty())
        .map(|e| e.to_lowercase());
    user.first_name = repr.first_name.clone();
    user.last_name = repr.last_name.clone();
    user.enabled = repr.enabled.unwrap_or(true);
    user.email_verified = repr.email_verified.unwrap_or(false);
    user.attributes = repr.attributes.clone().unwrap_or_default();
    user.required_actions = repr.required_actions.clone().unwrap_or_default();
    if let Some((_, temporary)) = &phc {
        super::users::require_password_update(&mut user, *temporary);
    }
    super::users::insert_with_defaults(conn, realm, &user).await?;
    if let Some((phc, temporary)) = phc {
        store::users::set_password(&mut *conn, &user.id, &phc, temporary).await?;
    }
    for role_name in repr.realm_roles.iter().flatten() {
        let role = store::roles::find_realm_role(&mut *conn, &realm.id, role_name)
            .await?
            .ok_or_else(|| {
                OpsError::Invalid(format!(
                    "User '{}' names unknown role '{role_name}'",
                    user.username
                ))
            })?;
        store::roles::grant_to_user(&mut *conn, &user.id, &role.id).await?;
    }
    if let Some(paths) = &repr.groups {
        let all = store::groups::list_all(&mut *conn, &realm.id).await?;
        for path in paths {
            let wanted = format!("/{}", path.trim().trim_start_matches('/'));
            let group = all
                .iter()
                .find(|g| store::groups::path_of(&g.id, &all).as_deref() == Some(wanted.as_str()))
                .ok_or_else(|| {
                    OpsError::Invalid(format!(
                        "User '{}' names unknown group '{path}'",
                        user.username
                    ))
                })?;
            store::groups::add_member(&mut *conn, &group.id, &user.id).await?;
        }
    }
    Ok(())
}

/// Merges realm settings (and a rename) from a partial representation.
pub async fn update(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    repr: &RealmRepr,
) -> Result<Realm, OpsError> {
    let granted = authorize(state, actor, realm, Right::ManageRealm).await?;
    let mut realm = granted.realm().clone();
    if let Some(name) = &repr.realm {
        let name = RealmName::parse(name)?;
        if name != realm.name && realm.name.as_str() == MASTER {
            return Err(OpsError::Invalid(
                "The master realm cannot be renamed".into(),
            ));
        }
        realm.name = name;
    }
    repr.apply_settings(&mut realm).map_err(OpsError::Invalid)?;
    if realm.name.as_str() == MASTER && !realm.enabled {
        return Err(OpsError::Invalid(
            "The master realm cannot be disabled".into(),
        ));
    }
    let mut tx = state.db.begin().await?;
    store::realms::update(&mut *tx, &realm).await?;
    events::record(
        &mut tx,
        &granted,
        Operation::Update,
        "REALM",
        format!("realms/{}", realm.name),
        Some(&RealmRepr::of(&realm)),
    )
    .await?;
    tx.commit().await?;
    Ok(realm)
}

/// Deletes a realm and everything in it (never master).
pub async fn delete(state: &AppState, actor: &Actor, realm: &str) -> Result<(), OpsError> {
    let granted = authorize(state, actor, realm, Right::ManageRealm).await?;
    if granted.realm().name.as_str() == MASTER {
        return Err(OpsError::Invalid(
            "The master realm cannot be deleted".into(),
        ));
    }
    if !actor.master_admin {
        return Err(OpsError::Forbidden);
    }
    store::realms::delete(state.db.write(), &granted.realm().id).await?;
    state.keyring.invalidate(&granted.realm().id);
    Ok(())
}

/// The realm's usable signing keys.
pub async fn keys(
    state: &AppState,
    actor: &Actor,
    realm: &str,
) -> Result<(Realm, Vec<RealmKey>), OpsError> {
    let granted = authorize(state, actor, realm, Right::ViewRealm).await?;
    let keys = store::keys::list_usable(state.db.read(), &granted.realm().id).await?;
    Ok((granted.realm().clone(), keys))
}

/// What a partial export includes besides the realm settings.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExportParts {
    pub clients: bool,
    pub groups_and_roles: bool,
}

/// The realm as a representation that `import` accepts (Keycloak's partial export): client
/// secrets masked, no users.
pub async fn export(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    parts: ExportParts,
) -> Result<RealmRepr, OpsError> {
    let granted = authorize(state, actor, realm, Right::ManageRealm).await?;
    let realm = granted.realm();
    let mut repr = RealmRepr::of(realm);
    if parts.clients {
        let clients = store::clients::search(state.db.read(), &realm.id, "", 0, i64::MAX).await?;
        repr.clients = Some(
            clients
                .iter()
                .map(|client| {
                    let mut client_repr = crate::admin::repr::ClientRepr::of(client);
                    if client_repr.secret.is_some() {
                        client_repr.secret = Some("**********".into());
                    }
                    client_repr
                })
                .collect(),
        );
    }
    if parts.groups_and_roles {
        let roles = store::roles::list_realm_roles(state.db.read(), &realm.id).await?;
        repr.roles = Some(crate::admin::repr::RolesRepr {
            realm: Some(
                roles
                    .iter()
                    .map(|r| crate::admin::repr::RoleRepr::of(r, false))
                    .collect(),
            ),
        });
        let groups = store::groups::list_all(state.db.read(), &realm.id).await?;
        let mut top = Vec::new();
        for group in groups.iter().filter(|g| g.parent_id.is_none()) {
            top.push(group_export(state, group, &groups).await?);
        }
        repr.groups = Some(top);
    }
    Ok(repr)
}

/// A group with its realm roles and subgroups, as import reads it.
fn group_export<'a>(
    state: &'a AppState,
    group: &'a Group,
    all: &'a [Group],
) -> futures_util::future::BoxFuture<'a, Result<GroupRepr, OpsError>> {
    Box::pin(async move {
        let mut repr = GroupRepr::of(group, all, 0);
        let roles = store::roles::group_realm_roles(state.db.read(), &group.id).await?;
        repr.realm_roles = Some(roles.into_iter().map(|r| r.name).collect());
        let mut children = Vec::new();
        for child in all
            .iter()
            .filter(|g| g.parent_id.as_ref() == Some(&group.id))
        {
            children.push(group_export(state, child, all).await?);
        }
        repr.sub_groups = Some(children);
        repr.id = None;
        repr.parent_id = None;
        Ok(repr)
    })
}
