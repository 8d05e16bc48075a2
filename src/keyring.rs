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
///
/// A load that raced an invalidation must not put the keys it read back: every invalidation
/// bumps a generation, and a load stores its keys only if the generation it started under
/// is still current.
#[derive(Default)]
pub struct Keyring {
    inner: RwLock<Cached>,
}

#[derive(Default)]
struct Cached {
    realms: HashMap<RealmId, Arc<RealmKeys>>,
    generation: u64,
}

impl Keyring {
    /// The realm's keys, loading them from the store on first use.
    pub async fn get(&self, db: &Db, realm: &RealmId) -> Result<Arc<RealmKeys>, KeyringError> {
        let generation = {
            let cached = self.inner.read().unwrap_or_else(|e| e.into_inner());
            if let Some(keys) = cached.realms.get(realm) {
                return Ok(keys.clone());
            }
            cached.generation
        };
        let mut keys = store::keys::list_usable(db.read(), realm)
            .await?
            .iter()
            .map(LoadedKey::load)
            .collect::<Result<Vec<_>, _>>()?;
        keys.sort_by_key(|k| !k.active);
        let keys = Arc::new(RealmKeys { keys });
        self.store_if_current(realm, keys.clone(), generation);
        Ok(keys)
    }

    /// Caches `keys` unless an invalidation happened since `generation` was read.
    fn store_if_current(&self, realm: &RealmId, keys: Arc<RealmKeys>, generation: u64) -> bool {
        let mut cached = self.inner.write().unwrap_or_else(|e| e.into_inner());
        if cached.generation != generation {
            return false;
        }
        cached.realms.insert(realm.clone(), keys);
        true
    }

    /// Forgets the realm's cached keys (after a rotation, a removal or the realm's deletion).
    pub fn invalidate(&self, realm: &RealmId) {
        let mut cached = self.inner.write().unwrap_or_else(|e| e.into_inner());
        cached.generation += 1;
        cached.realms.remove(realm);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_load_that_raced_an_invalidation_does_not_put_old_keys_back() {
        let keyring = Keyring::default();
        let realm = RealmId::new();
        let started_under = keyring.inner.read().unwrap().generation;
        keyring.invalidate(&realm);
        let stale = Arc::new(RealmKeys { keys: Vec::new() });
        assert!(!keyring.store_if_current(&realm, stale.clone(), started_under));
        assert!(!keyring.inner.read().unwrap().realms.contains_key(&realm));
        let current = keyring.inner.read().unwrap().generation;
        assert!(keyring.store_if_current(&realm, stale, current));
    }
}
