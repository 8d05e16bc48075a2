//! Realm signing keys, loaded from the store once and kept parsed in memory.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::crypto::keys::LoadedKey;
use crate::domain::RealmId;
use crate::store::{self, Db, StoreError};

/// Why a realm's keys are unavailable.
#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Key(#[from] crate::crypto::keys::KeyError),
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

/// A cache of parsed realm keys, filled on first use and dropped on rotation or deletion.
#[derive(Default)]
pub struct Keyring {
    realms: RwLock<HashMap<RealmId, Arc<RealmKeys>>>,
}

impl Keyring {
    /// The realm's keys, loading them from the store on first use.
    pub async fn get(&self, db: &Db, realm: &RealmId) -> Result<Arc<RealmKeys>, KeyringError> {
        if let Some(keys) = self.realms.read().expect("keyring lock").get(realm) {
            return Ok(keys.clone());
        }
        let mut keys = store::keys::list_usable(db.read(), realm)
            .await?
            .iter()
            .map(LoadedKey::load)
            .collect::<Result<Vec<_>, _>>()?;
        keys.sort_by_key(|k| !k.active);
        let keys = Arc::new(RealmKeys { keys });
        self.realms
            .write()
            .expect("keyring lock")
            .insert(realm.clone(), keys.clone());
        Ok(keys)
    }

    /// Forgets the realm's cached keys (after a rotation, a removal or the realm's deletion).
    pub fn invalidate(&self, realm: &RealmId) {
        self.realms.write().expect("keyring lock").remove(realm);
    }
}
