//! Realm operations. A new realm gets what Keycloak gives one: a signing key and certificate,
//! and the built-in clients and roles (see `layout`). A realm representation may carry roles,
//! groups, clients and users to import.

use crate::store::Conn;

use super::access::{
    authorize, authorize_realm_creation, Actor, ManageRealm, ViewRealm, DEFAULT_ROLES,
};
use super::audited::{Audited, Change};
use super::OpsError;
use super::{layout, realm_import};
use crate::admin::repr::RealmRepr;
use crate::crypto::keys::SigningAlgorithm;
use crate::domain::{Client, Realm, RealmKey, RealmName, Role, RoleId};
use crate::key_rotation;
use crate::state::AppState;
use crate::store;

/// The name of the realm that administers all others.
pub const MASTER: &str = "master";

/// Creates a realm with its signing key and next key (see `key_rotation`), default clients
/// and roles, inside the caller's transaction. The keys are generated before any write so
/// the transaction stays short.
pub async fn provision(conn: &mut Conn, realm: Realm) -> Result<Realm, OpsError> {
    let now = crate::clock::now_secs();
    let name = realm.name.as_str();
    let (active, next) = tokio::try_join!(
        key_rotation::generate(&realm.id, name, SigningAlgorithm::Rs256, "ACTIVE", now),
        key_rotation::generate(&realm.id, name, SigningAlgorithm::Rs256, "PASSIVE", now),
    )?;
    store::realms::insert(&mut *conn, &realm).await?;
    store::keys::insert(&mut *conn, &active).await?;
    store::keys::insert_next(&mut *conn, &next).await?;

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
pub async fn create_named(conn: &mut Conn, name: &str) -> Result<Realm, OpsError> {
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

/// The realm's representation as Keycloak gives it: keywarden's settings, and the fields it
/// keeps without implementing them over Keycloak's defaults.
pub async fn representation(db: &crate::store::Pool, realm: &Realm) -> Result<RealmRepr, OpsError> {
    let mut repr = RealmRepr::of(realm);
    if let Some(default) =
        store::roles::find_builtin_realm_role(db, &realm.id, DEFAULT_ROLES).await?
    {
        repr.default_role = Some(crate::admin::repr::RoleRepr::of(&default, true));
    }
    let kept = store::realms::kept(db, &realm.id).await?;
    repr.kept = crate::admin::realm_defaults::realm_fields(&kept);
    crate::admin::realm_defaults::mask_secrets(&mut repr.kept);
    Ok(repr)
}

pub async fn get(state: &AppState, actor: &Actor, realm: &str) -> Result<Realm, OpsError> {
    Ok(authorize::<ViewRealm>(state, actor, realm)
        .await?
        .realm()
        .clone())
}

/// Creates (and imports) a realm from a representation, recording its admin event in the same
/// transaction.
pub async fn create(
    state: &AppState,
    actor: &Actor,
    repr: &RealmRepr,
) -> Result<realm_import::Imported, OpsError> {
    let creation = authorize_realm_creation(actor)?;
    let prepared = realm_import::prepare(state, repr).await?;
    let mut tx = creation.begin(state).await?;
    let imported = realm_import::write(state, tx.conn(), repr, prepared).await?;
    let realm = &imported.realm;
    if !actor.is_master_admin() {
        layout::grant_to_creator(tx.conn(), &realm.id, &actor.user_id).await?;
    }
    tx.commit(
        Change::create("REALM", format!("realms/{}", realm.name)).with(&RealmRepr::of(realm)),
    )
    .await?;
    Ok(imported)
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
    let mut kept = store::realms::kept(tx.conn(), &realm.id).await?;
    let settable: Vec<(String, serde_json::Value)> =
        crate::admin::realm_defaults::settable(&repr.kept)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
    if !settable.is_empty() {
        kept.extend(settable);
        store::realms::set_kept(tx.conn(), &realm.id, &kept).await?;
    }
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
