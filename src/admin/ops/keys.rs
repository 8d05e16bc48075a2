//! Realm signing key operations: rotation (a new ACTIVE key; the old one stays PASSIVE so
//! tokens it signed still verify), removal of passive keys, and certificate downloads.

use super::access::{authorize, Actor, ManageRealm, ViewRealm};
use super::audited::Change;
use super::OpsError;
use crate::crypto::keys::{generate_key, generate_realm_key, SigningAlgorithm};
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
    store::keys::demote_active(tx.conn(), &key.realm_id, &key.algorithm).await?;
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

/// A key provider's switches, as a component's `active` and `enabled` config carry them.
#[derive(Debug, Clone, Copy)]
pub struct ProviderSwitches {
    pub active: bool,
    pub enabled: bool,
}

impl ProviderSwitches {
    /// The key status these switches mean: DISABLED keys neither sign nor verify, PASSIVE
    /// keys only verify.
    fn status(self) -> &'static str {
        match (self.enabled, self.active) {
            (false, _) => "DISABLED",
            (true, true) => "ACTIVE",
            (true, false) => "PASSIVE",
        }
    }
}

/// Every key of the realm (its key-provider components), disabled ones too.
pub async fn providers(
    state: &AppState,
    actor: &Actor,
    realm: &str,
) -> Result<(crate::domain::Realm, Vec<RealmKey>), OpsError> {
    let granted = authorize::<ViewRealm>(state, actor, realm).await?;
    let keys = store::keys::list_all(state.db.read(), &granted.realm().id).await?;
    Ok((granted.realm().clone(), keys))
}

/// Adds a generated key for `algorithm` (Keycloak's `rsa-generated` or `ecdsa-generated`
/// component). An active key signs at once for the clients that ask for its algorithm;
/// other active keys of that algorithm stay active, so their tokens still verify.
pub async fn create_provider(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    algorithm: SigningAlgorithm,
    switches: ProviderSwitches,
) -> Result<RealmKey, OpsError> {
    let granted = authorize::<ManageRealm>(state, actor, realm).await?;
    let name = granted.realm().name.to_string();
    let generated = tokio::task::spawn_blocking(move || generate_key(&name, algorithm))
        .await
        .map_err(|e| anyhow::anyhow!("key generation stopped: {e}"))?
        .map_err(anyhow::Error::from)?;
    let key = RealmKey {
        id: KeyId::new(),
        realm_id: granted.realm().id.clone(),
        kid: generated.kid,
        algorithm: algorithm.as_str().into(),
        status: switches.status().into(),
        private_key_der: generated.private_key_der,
        public_key_der: generated.public_key_der,
        certificate_der: generated.certificate_der,
        created_at: crate::clock::now_secs(),
    };
    let mut tx = granted.begin(state).await?;
    store::keys::insert(tx.conn(), &key).await?;
    tx.commit(Change::create(
        "COMPONENT",
        format!("components/{}", key.id),
    ))
    .await?;
    Ok(key)
}

/// Turns a key provider on or off. The realm's last active RS256 key stays: it signs what
/// every client without a chosen algorithm gets.
pub async fn switch_provider(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
    switches: ProviderSwitches,
) -> Result<RealmKey, OpsError> {
    let granted = authorize::<ManageRealm>(state, actor, realm).await?;
    let (key, others) = provider_and_others(state, &granted.realm().id, id).await?;
    if switches.status() != "ACTIVE" {
        keep_default_key(&key, &others)?;
    }
    let mut tx = granted.begin(state).await?;
    store::keys::set_status(tx.conn(), &granted.realm().id, &key.id, switches.status()).await?;
    tx.commit(Change::update(
        "COMPONENT",
        format!("components/{}", key.id),
    ))
    .await?;
    Ok(RealmKey {
        status: switches.status().into(),
        ..key
    })
}

/// Removes a key provider and its key: tokens it signed stop verifying.
pub async fn remove_provider(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
) -> Result<(), OpsError> {
    let granted = authorize::<ManageRealm>(state, actor, realm).await?;
    let (key, others) = provider_and_others(state, &granted.realm().id, id).await?;
    keep_default_key(&key, &others)?;
    let mut tx = granted.begin(state).await?;
    store::keys::delete(tx.conn(), &granted.realm().id, &key.id).await?;
    tx.commit(Change::delete(
        "COMPONENT",
        format!("components/{}", key.id),
    ))
    .await?;
    Ok(())
}

async fn provider_and_others(
    state: &AppState,
    realm: &crate::domain::RealmId,
    id: &str,
) -> Result<(RealmKey, Vec<RealmKey>), OpsError> {
    let id = KeyId::parse(id).ok_or(OpsError::NotFound("Could not find component"))?;
    let (mine, others): (Vec<_>, Vec<_>) = store::keys::list_all(state.db.read(), realm)
        .await?
        .into_iter()
        .partition(|k| k.id == id);
    let key = mine
        .into_iter()
        .next()
        .ok_or(OpsError::NotFound("Could not find component"))?;
    Ok((key, others))
}

fn keep_default_key(key: &RealmKey, others: &[RealmKey]) -> Result<(), OpsError> {
    let rs256 = SigningAlgorithm::Rs256.as_str();
    let last_default = key.status == "ACTIVE"
        && key.algorithm == rs256
        && !others
            .iter()
            .any(|k| k.status == "ACTIVE" && k.algorithm == rs256);
    if last_default {
        return Err(OpsError::Invalid(
            "The realm's only active RS256 key cannot be disabled or removed: add another first"
                .into(),
        ));
    }
    Ok(())
}
