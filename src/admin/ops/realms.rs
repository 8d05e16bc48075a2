//! Realm operations. A new realm gets what Keycloak gives one: a signing key and certificate,
//! and the built-in clients and roles (see `layout`). A realm representation may carry roles,
//! groups, clients and users to import.

use sqlx::SqliteConnection;

use super::access::{authorize, authorize_realm_creation, Actor, ManageRealm, ViewRealm};
use super::audited::{Audited, Change};
use super::OpsError;
use super::{layout, realm_import};
use crate::admin::repr::{GroupRepr, RealmRepr};
use crate::crypto::keys::generate_realm_key;
use crate::domain::{Client, Group, KeyId, Realm, RealmKey, RealmName, Role, RoleId};
use crate::state::AppState;
use crate::store;

/// The name of the realm that administers all others.
pub const MASTER: &str = "master";

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

    layout::ensure(&mut *conn, &realm).await?;
    Ok(realm)
}

pub(super) fn role(realm: &Realm, client: Option<&Client>, name: &str) -> Role {
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
    Ok(authorize::<ViewRealm>(state, actor, realm)
        .await?
        .realm()
        .clone())
}

/// Creates (and imports) a realm from a representation, recording its admin event in the same
/// transaction.
pub async fn create(state: &AppState, actor: &Actor, repr: &RealmRepr) -> Result<Realm, OpsError> {
    let creation = authorize_realm_creation(actor)?;
    let prepared = realm_import::prepare(state, repr).await?;
    let mut tx = creation.begin(state).await?;
    let realm = realm_import::write(state, tx.conn(), repr, prepared).await?;
    if !actor.is_master_admin() {
        layout::grant_to_creator(tx.conn(), &realm.id, &actor.user_id).await?;
    }
    tx.commit(
        Change::create("REALM", format!("realms/{}", realm.name)).with(&RealmRepr::of(&realm)),
    )
    .await?;
    Ok(realm)
}

/// Merges realm settings (and a rename) from a partial representation.
pub async fn update(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    repr: &RealmRepr,
) -> Result<Realm, OpsError> {
    let granted = authorize::<ManageRealm>(state, actor, realm).await?;
    let mut realm = granted.realm().clone();
    let old_name = realm.name.to_string();
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
    let mut tx = granted.begin(state).await?;
    store::realms::update(tx.conn(), &realm).await?;
    layout::rename(tx.conn(), &old_name, &realm).await?;
    tx.commit(
        Change::update("REALM", format!("realms/{}", realm.name)).with(&RealmRepr::of(&realm)),
    )
    .await?;
    Ok(realm)
}

/// Deletes a realm and everything in it (never master).
pub async fn delete(state: &AppState, actor: &Actor, realm: &str) -> Result<(), OpsError> {
    let granted = authorize::<ManageRealm>(state, actor, realm).await?;
    if granted.realm().name.as_str() == MASTER {
        return Err(OpsError::Invalid(
            "The master realm cannot be deleted".into(),
        ));
    }
    if !actor.is_master_admin() {
        return Err(OpsError::Forbidden);
    }
    let mut tx = Audited::in_actor_realm(state, actor).await?;
    store::realms::delete(tx.conn(), &granted.realm().id).await?;
    tx.commit(Change::delete(
        "REALM",
        format!("realms/{}", granted.realm().name),
    ))
    .await?;
    state.keyring.invalidate(&granted.realm().id);
    Ok(())
}

/// The realm's usable signing keys.
pub async fn keys(
    state: &AppState,
    actor: &Actor,
    realm: &str,
) -> Result<(Realm, Vec<RealmKey>), OpsError> {
    let granted = authorize::<ViewRealm>(state, actor, realm).await?;
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
    let granted = authorize::<ManageRealm>(state, actor, realm).await?;
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
