//! Realm signing keys, loaded from the store once and kept parsed in memory.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::crypto::keys::{LoadedKey, SigningAlgorithm};
use crate::domain::{Client, Realm, RealmId};
use crate::key_rotation;
use crate::store::cache::Memo;
use crate::store::{self, Db, StoreError};

pub use crate::domain::token_settings::{ACCESS_TOKEN_ALG, ID_TOKEN_ALG};

/// Why a realm's keys are unavailable.
#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("realm has no active signing key")]
    NoActiveKey,
    #[error("fallback key: {0}")]
    Fallback(#[from] crate::crypto::keys::KeyError),
}

/// A realm's usable keys; the active ones first, newest first. The next keys are among
/// them (PASSIVE: published, never signing).
pub struct RealmKeys {
    pub keys: Vec<LoadedKey>,
    /// Whether adding missing next keys was tried for this load (once per load, so a store
    /// that refuses the write costs one key generation, not one per request).
    next_tried: AtomicBool,
}

impl RealmKeys {
    /// The key that signs with the realm's default algorithm, RS256.
    pub fn active(&self) -> Result<&LoadedKey, KeyringError> {
        self.active_for(SigningAlgorithm::Rs256)
            .ok_or(KeyringError::NoActiveKey)
    }

    /// The newest active key of `algorithm`.
    pub fn active_for(&self, algorithm: SigningAlgorithm) -> Option<&LoadedKey> {
        self.keys
            .iter()
            .find(|k| k.active && k.signing_algorithm() == algorithm)
    }

    /// The key ids of every usable key: what a registry given `trust_chain_pem` trusts.
    pub fn kids(&self) -> Vec<String> {
        self.keys.iter().map(|k| k.kid.clone()).collect()
    }

    /// Whether an algorithm that signs has no next key yet.
    fn lacks_next(&self) -> bool {
        self.keys.iter().filter(|k| k.active).any(|active| {
            !self
                .keys
                .iter()
                .any(|k| k.next && k.algorithm == active.algorithm)
        })
    }

    /// Every usable key's certificate as one PEM bundle: a registry's `rootcertbundle`.
    /// It carries the active, the passive and the next keys, so a registry given it keeps
    /// working across the next rotation.
    pub fn trust_chain_pem(&self) -> String {
        use base64::Engine;
        let mut bundle = String::new();
        for key in &self.keys {
            if let Ok(der) = base64::engine::general_purpose::STANDARD.decode(&key.certificate_b64)
            {
                bundle.push_str(&crate::crypto::keys::certificate_pem(&der));
            }
        }
        bundle
    }
}

/// A cache of parsed realm keys, kept by the store's read cache: a rotation, a new key, a
/// removal or the realm's deletion changes `realm_key` rows, which drops the realm's entry
/// (on PostgreSQL, on every replica; see `store::cache`).
pub struct Keyring {
    realms: Arc<Memo<RealmId, Arc<RealmKeys>>>,
}

/// The key that signs a client's tokens, held with the realm's loaded keys.
pub struct ClientKey {
    keys: Arc<RealmKeys>,
    at: usize,
}

impl std::ops::Deref for ClientKey {
    type Target = LoadedKey;

    fn deref(&self) -> &LoadedKey {
        &self.keys.keys[self.at]
    }
}

/// The algorithm a client's `attribute` names; unset or unknown: RS256.
pub fn requested_algorithm(client: &Client, attribute: &str) -> SigningAlgorithm {
    client
        .attributes
        .get(attribute)
        .and_then(|name| SigningAlgorithm::parse(name))
        .unwrap_or(SigningAlgorithm::Rs256)
}

impl Keyring {
    /// An empty keyring whose entries `db`'s changes drop.
    pub fn new(db: &Db) -> Self {
        let realms = Arc::new(Memo::new(
            store::cache::tables::REALM_KEY,
            |realm: &RealmId, _: &Arc<RealmKeys>, changes: &store::cache::ChangeIndex<'_>| {
                changes.contains("realm_key", realm.as_str())
            },
        ));
        db.cache().register(realms.clone());
        Keyring { realms }
    }

    /// The active key of the algorithm the client's `attribute` asks for. A realm without
    /// one gets a generated key first, as Keycloak creates its `fallback-{alg}` provider.
    pub async fn for_client(
        &self,
        db: &Db,
        realm: &Realm,
        client: &Client,
        attribute: &str,
    ) -> Result<ClientKey, KeyringError> {
        let algorithm = requested_algorithm(client, attribute);
        let found = |keys: Arc<RealmKeys>| {
            let at = keys
                .keys
                .iter()
                .position(|k| k.active && k.signing_algorithm() == algorithm)?;
            Some(ClientKey { keys, at })
        };
        if let Some(key) = found(self.get(db, &realm.id).await?) {
            return Ok(key);
        }
        add_fallback_key(db, realm, algorithm).await?;
        found(self.get(db, &realm.id).await?).ok_or(KeyringError::NoActiveKey)
    }

    /// The realm's keys, loading them from the store when the cache has none that are
    /// current. A realm whose signing algorithms lack a next key (a realm from before key
    /// rotation, a new ES256 provider) gets one first.
    pub async fn get(&self, db: &Db, realm: &RealmId) -> Result<Arc<RealmKeys>, KeyringError> {
        let keys = self.load(db, realm).await?;
        if !keys.lacks_next() || keys.next_tried.swap(true, Ordering::Relaxed) {
            return Ok(keys);
        }
        let Some(name) = store::realms::list(db.read())
            .await?
            .into_iter()
            .find(|r| &r.id == realm)
            .map(|r| r.name.to_string())
        else {
            return Ok(keys);
        };
        match key_rotation::ensure_next(db, realm, &name, crate::clock::now_secs()).await {
            Ok(true) => self.load(db, realm).await,
            Ok(false) => Ok(keys),
            Err(err) => {
                tracing::warn!(realm = %name, error = %err, "could not add the next signing key");
                Ok(keys)
            }
        }
    }

    async fn load(&self, db: &Db, realm: &RealmId) -> Result<Arc<RealmKeys>, KeyringError> {
        let loaded = db
            .cache()
            .get_or_load(&self.realms, realm.clone(), || async {
                let keys = store::keys::list_usable(db.read(), realm).await?;
                let mut keys = keys
                    .iter()
                    .map(LoadedKey::load)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|err| StoreError::Corrupt(format!("realm_key: {err}")))?;
                keys.sort_by_key(|k| !k.active);
                Ok(Some(Arc::new(RealmKeys {
                    keys,
                    next_tried: AtomicBool::new(false),
                })))
            })
            .await?;
        loaded.ok_or(KeyringError::NoActiveKey)
    }
}

/// Generates and stores an active key of `algorithm` for the realm.
async fn add_fallback_key(
    db: &Db,
    realm: &Realm,
    algorithm: SigningAlgorithm,
) -> Result<(), KeyringError> {
    let key = key_rotation::generate(
        &realm.id,
        realm.name.as_str(),
        algorithm,
        "ACTIVE",
        crate::clock::now_secs(),
    )
    .await?;
    tracing::info!(realm = %realm.name, algorithm = algorithm.as_str(), "added a fallback signing key");
    store::keys::insert(db.write(), &key).await?;
    Ok(())
}
