//! Realm signing keys, loaded from the store once and kept parsed in memory.

use std::sync::Arc;

use crate::crypto::keys::LoadedKey;
use crate::domain::RealmId;
use crate::store::cache::Memo;
use crate::store::{self, Db, StoreError};

/// Why a realm's keys are unavailable.
#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("realm has no active signing key")]
    NoActiveKey,
}

/// A realm's usable keys; the active one first.
pub struct RealmKeys {
    pub keys: Vec<LoadedKey>,
}

impl RealmKeys {
    /// The key that signs new tokens.
    pub fn active(&self) -> Result<&LoadedKey, KeyringError> {
        self.keys
            .iter()
            .find(|k| k.active)
            .ok_or(KeyringError::NoActiveKey)
    }
}

/// A cache of parsed realm keys, kept by the store's read cache: a rotation, a new key, a
/// removal or the realm's deletion changes `realm_key` rows, which drops the realm's entry
/// (on PostgreSQL, on every replica; see `store::cache`).
pub struct Keyring {
    realms: Arc<Memo<RealmId, Arc<RealmKeys>>>,
}

impl Keyring {
    /// An empty keyring whose entries `db`'s changes drop.
    pub fn new(db: &Db) -> Self {
        let realms = Arc::new(Memo::new(
            store::cache::tables::REALM_KEY,
            |realm: &RealmId, _: &Arc<RealmKeys>, change: &store::cache::Change| {
                change.is("realm_key", realm.as_str())
            },
        ));
        db.cache().register(realms.clone());
        Keyring { realms }
    }

    /// The realm's keys, loading them from the store when the cache has none that are current.
    pub async fn get(&self, db: &Db, realm: &RealmId) -> Result<Arc<RealmKeys>, KeyringError> {
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
                Ok(Some(Arc::new(RealmKeys { keys })))
            })
            .await?;
        loaded.ok_or(KeyringError::NoActiveKey)
    }
}
