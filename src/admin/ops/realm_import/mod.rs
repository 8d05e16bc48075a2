//! Importing a realm from its representation (a create with content, `--import-realm` at
//! start, `keywarden import`), as Keycloak imports one: roles first and their composites once
//! every role exists, clients with their roles, groups, then users with their ids, mappings,
//! groups and passwords (plain, or hashed in Keycloak's stored form). What keywarden does not
//! implement is kept on the realm and its clients and given back by export.
//!
//! Everything cheap is checked first (the name is free, every username and clientId is
//! valid, every stored hash is readable), then plain passwords are hashed a few at a time on
//! the password threads, and only then is everything written in one transaction. A caller
//! that goes away stops the import: the hashing futures are dropped with the request.

mod clients;
pub(super) mod passwords;
mod roles;
mod users;

use std::collections::HashSet;

use crate::store::Conn;

use super::layout;
use super::realms::{provision, MASTER};
use super::OpsError;
use crate::admin::repr::{RealmRepr, UserRepr};
use crate::domain::{ClientIdName, Realm, RealmName, Username};
use crate::state::AppState;
use crate::store;

/// What an import needs besides its representation, computed before any write.
pub struct Prepared {
    realm: Realm,
    passwords: Vec<Option<passwords::Password>>,
    left_out: Vec<String>,
}

/// A realm written by an import, and what of its representation was left out.
#[derive(Debug)]
pub struct Imported {
    pub realm: Realm,
    pub left_out: Vec<String>,
}

/// Creates a realm with everything its representation carries, in one transaction: nothing
/// is written unless all of it is.
pub async fn import(state: &AppState, repr: &RealmRepr) -> Result<Imported, OpsError> {
    let prepared = prepare(state, repr).await?;
    let mut tx = state.db.begin().await?;
    let imported = write(state, &mut tx, repr, prepared).await?;
    tx.commit().await?;
    Ok(imported)
}

/// Validates the representation, refuses a realm name in use, reads the stored password
/// hashes and hashes the plain passwords.
pub async fn prepare(state: &AppState, repr: &RealmRepr) -> Result<Prepared, OpsError> {
    let prepared = prepare_content(repr)?;
    ensure_name_free(state.db.read(), &prepared.realm).await?;
    finish(state, repr, prepared.realm).await
}

/// Imports a realm in place of the realm of the same name, if there is one (`keywarden
/// import --override true`): the old realm goes in the same transaction as the new one comes.
pub async fn replace(state: &AppState, repr: &RealmRepr) -> Result<Imported, OpsError> {
    let realm = prepare_content(repr)?;
    let prepared = finish(state, repr, realm.realm).await?;
    let mut tx = state.db.begin().await?;
    let existing = store::realms::find_by_name(&mut *tx, prepared.realm.name.as_str()).await?;
    if let Some(existing) = &existing {
        store::realms::delete(&mut *tx, &existing.id).await?;
    }
    let imported = write(state, &mut tx, repr, prepared).await?;
    if imported.realm.name.as_str() == MASTER {
        // Master's clients that administer the other realms went with the old master.
        for other in store::realms::list(&mut *tx).await? {
            if other.id != imported.realm.id {
                layout::ensure(&mut tx, &other).await?;
            }
        }
    }
    tx.commit().await?;
    Ok(imported)
}

/// The realm's name and settings, checked, with the usernames and clientIds.
fn prepare_content(repr: &RealmRepr) -> Result<Prepared, OpsError> {
    let name = RealmName::parse(repr.realm.as_deref().unwrap_or_default())
        .map_err(|e| OpsError::Invalid(format!("realm: {e}")))?;
    let mut realm = Realm::new(name);
    repr.apply_settings(&mut realm).map_err(OpsError::Invalid)?;
    check_usernames(repr.users.as_deref().unwrap_or_default())?;
    check_client_ids(repr)?;
    Ok(Prepared {
        realm,
        passwords: Vec::new(),
        left_out: Vec::new(),
    })
}

async fn finish(state: &AppState, repr: &RealmRepr, realm: Realm) -> Result<Prepared, OpsError> {
    let users = repr.users.as_deref().unwrap_or_default();
    let mut left_out = Vec::new();
    let passwords = passwords::prepare(state, users, &mut left_out).await?;
    Ok(Prepared {
        realm,
        passwords,
        left_out,
    })
}

async fn ensure_name_free(
    db: impl Into<crate::store::Exec<'_>>,
    realm: &Realm,
) -> Result<(), OpsError> {
    if store::realms::find_by_name(db, realm.name.as_str())
        .await?
        .is_some()
    {
        return Err(OpsError::Conflict(
            "Conflict detected. See logs for details".into(),
        ));
    }
    Ok(())
}

/// Every imported user needs a valid username that no other imported user has.
fn check_usernames(users: &[UserRepr]) -> Result<(), OpsError> {
    let mut seen = HashSet::with_capacity(users.len());
    for (index, user) in users.iter().enumerate() {
        let username = Username::parse(user.username.as_deref().unwrap_or_default())
            .map_err(|e| OpsError::Invalid(format!("users[{index}].username: {e}")))?;
        if !seen.insert(username.to_string()) {
            return Err(OpsError::Conflict(format!(
                "users[{index}]: username {username} appears twice"
            )));
        }
    }
    Ok(())
}

/// Every client needs a valid clientId that no other client of the file has.
fn check_client_ids(repr: &RealmRepr) -> Result<(), OpsError> {
    let mut seen = HashSet::new();
    for (index, client) in repr.clients.iter().flatten().enumerate() {
        let client_id = ClientIdName::parse(client.client_id.as_deref().unwrap_or_default())
            .map_err(|e| OpsError::Invalid(format!("clients[{index}].clientId: {e}")))?;
        if !seen.insert(client_id.to_string()) {
            return Err(OpsError::Conflict(format!(
                "clients[{index}]: clientId {client_id} appears twice"
            )));
        }
    }
    Ok(())
}

/// A refusal of the attributes of the role or group at `path` (`roles.realm[2]`), naming
/// `{path}.attributes` as every import refusal names its path.
fn attributes_at(err: OpsError, path: &str) -> OpsError {
    match err {
        OpsError::Invalid(message) => OpsError::Invalid(format!("{path}.attributes: {message}")),
        other => other,
    }
}

/// Writes a prepared realm and its content through `conn` (the caller's transaction).
pub async fn write(
    state: &AppState,
    conn: &mut Conn,
    repr: &RealmRepr,
    prepared: Prepared,
) -> Result<Imported, OpsError> {
    ensure_name_free(&mut *conn, &prepared.realm).await?;
    let realm = provision(&mut *conn, prepared.realm).await?;
    store::realms::set_kept(&mut *conn, &realm.id, &repr.kept).await?;
    let mut left_out = prepared.left_out;
    roles::create_realm_roles(&mut *conn, &realm, repr).await?;
    let clients = clients::import(state, &mut *conn, &realm, repr, &mut left_out).await?;
    roles::create_client_roles(&mut *conn, &realm, &clients, repr).await?;
    roles::add_composites(&mut *conn, &realm, &clients, repr).await?;
    roles::add_legacy_default_roles(&mut *conn, &realm, &clients, repr).await?;
    users::import_groups(&mut *conn, &realm, &clients, repr).await?;
    users::import_users(&mut *conn, &realm, &clients, repr, prepared.passwords).await?;
    clients::ensure_service_accounts(&mut *conn, &realm, &clients).await?;
    Ok(Imported { realm, left_out })
}
