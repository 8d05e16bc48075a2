//! Realm signing key operations: rotation (a new ACTIVE key; the old one stays PASSIVE so
//! tokens it signed still verify), removal of passive keys, and certificate downloads.

use super::access::{authorize, Actor, ManageRealm, ViewRealm};
use super::audited::Change;
use super::OpsError;
use crate::crypto::keys::generate_realm_key;
use crate::domain::{KeyId, RealmKey};
use crate::state::AppState;
use crate::store;

/// Generates a new ACTIVE key for the realm and demotes the current one to PASSIVE.
pub async fn rotate(state: &AppState, actor: &Actor, realm: &str) -> Result<RealmKey, OpsError> {
    let granted = authorize::<ManageRealm>(state, actor, realm).await?;
    let name = granted.realm().name.to_string();
    let generated = tokio::task::spawn_blocking(move || generate_realm_key(&name))
        .await
        .map_err(|e| anyhow::anyhow!("key generation stopped: {e}"))?
        .map_err(anyhow::Error::from)?;
    let key = RealmKey {
        id: KeyId::new(),
        realm_id: granted.realm().id.clone(),
        kid: generated.kid,
        algorithm: "RS256".into(),
        status: "ACTIVE".into(),
        private_key_der: generated.private_key_der,
        public_key_der: generated.public_key_der,
        certificate_der: generated.certificate_der,
        created_at: crate::clock::now_secs(),
    };
    let mut tx = granted.begin(state).await?;
    store::keys::demote_active(tx.conn(), &key.realm_id).await?;
    store::keys::insert(tx.conn(), &key).await?;
    tx.commit(Change::create("REALM_KEY", format!("keys/{}", key.kid)))
        .await?;
    Ok(key)
}

/// One usable key of the realm by its row id.
pub async fn get(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
) -> Result<RealmKey, OpsError> {
    let granted = authorize::<ViewRealm>(state, actor, realm).await?;
    let id = KeyId::parse(id).ok_or(OpsError::NotFound("Key"))?;
    store::keys::list_usable(state.db.read(), &granted.realm().id)
        .await?
        .into_iter()
        .find(|k| k.id == id)
        .ok_or(OpsError::NotFound("Key"))
}

/// Removes a PASSIVE key: tokens it signed stop verifying. The ACTIVE key cannot be removed.
pub async fn remove(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
) -> Result<RealmKey, OpsError> {
    let granted = authorize::<ManageRealm>(state, actor, realm).await?;
    let key = get(state, actor, realm, id).await?;
    if key.status == "ACTIVE" {
        return Err(OpsError::Invalid(
            "The active key cannot be removed: rotate first".into(),
        ));
    }
    let mut tx = granted.begin(state).await?;
    store::keys::delete(tx.conn(), &granted.realm().id, &key.id).await?;
    tx.commit(Change::delete("REALM_KEY", format!("keys/{}", key.kid)))
        .await?;
    Ok(key)
}
