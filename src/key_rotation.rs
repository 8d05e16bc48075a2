//! Key rotation that a configured registry survives. Beside each algorithm's ACTIVE key, a
//! realm keeps a pre-generated NEXT key: PASSIVE (it verifies, never signs), published in the
//! JWKS and in every registry bundle. A rotation makes the next key ACTIVE, leaves the old
//! one PASSIVE (tokens it signed verify until they expire) and generates a new next key. So a
//! registry that loaded its bundle after the next key existed trusts the switch before it
//! happens. A rotation runs now, or at a scheduled time (the next keys' `activates_at`),
//! which a background task honours on every replica; the store's conditional promotion makes
//! sure only one of them performs it.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::clock::Clock;
use crate::crypto::keys::{generate_key, SigningAlgorithm};
use crate::domain::{KeyId, RealmId, RealmKey};
use crate::store::{self, Conn, Db, StoreError};

/// How often scheduled rotations are looked for.
pub const INTERVAL: Duration = Duration::from_secs(5);

/// Generates a key of `algorithm` for the realm (off the runtime), not yet stored; a next
/// key is stored with `store::keys::insert_next`.
pub async fn generate(
    realm: &RealmId,
    realm_name: &str,
    algorithm: SigningAlgorithm,
    status: &str,
    now: i64,
) -> Result<RealmKey, StoreError> {
    let name = realm_name.to_owned();
    let generated = tokio::task::spawn_blocking(move || generate_key(&name, algorithm))
        .await
        .map_err(|e| StoreError::Corrupt(format!("key generation stopped: {e}")))?
        .map_err(|e| StoreError::Corrupt(format!("key generation failed: {e}")))?;
    Ok(RealmKey {
        id: KeyId::new(),
        realm_id: realm.clone(),
        kid: generated.kid,
        algorithm: algorithm.as_str().into(),
        status: status.into(),
        private_key_der: generated.private_key_der,
        public_key_der: generated.public_key_der,
        certificate_der: generated.certificate_der,
        created_at: now,
        is_next: false,
        activates_at: None,
    })
}

/// The algorithms that have an ACTIVE key but no next key among `keys`.
pub fn missing_next(keys: &[RealmKey]) -> Vec<SigningAlgorithm> {
    let with_next: BTreeSet<&str> = keys
        .iter()
        .filter(|k| k.is_next)
        .map(|k| k.algorithm.as_str())
        .collect();
    let active: BTreeSet<&str> = keys
        .iter()
        .filter(|k| k.status == "ACTIVE")
        .map(|k| k.algorithm.as_str())
        .collect();
    active
        .difference(&with_next)
        .filter_map(|name| SigningAlgorithm::parse(name))
        .collect()
}

/// When the realm's next keys become active, if a rotation is scheduled.
pub fn scheduled(keys: &[RealmKey]) -> Option<i64> {
    keys.iter()
        .filter(|k| k.is_next)
        .filter_map(|k| k.activates_at)
        .min()
}

/// Gives every algorithm with an ACTIVE key a next key (on the same schedule as the realm's
/// other next keys); answers whether one was added. Racing writers end with one next key per
/// algorithm: the store keeps the first.
pub async fn ensure_next(
    db: &Db,
    realm: &RealmId,
    realm_name: &str,
    now: i64,
) -> Result<bool, StoreError> {
    let keys = store::keys::list_all(db.write(), realm).await?;
    let schedule = scheduled(&keys);
    let mut added = false;
    for algorithm in missing_next(&keys) {
        let mut key = generate(realm, realm_name, algorithm, "PASSIVE", now).await?;
        key.is_next = true;
        key.activates_at = schedule;
        if store::keys::insert_next(db.write(), &key).await? {
            tracing::info!(realm = realm_name, kid = %key.kid, "generated the next signing key");
            added = true;
        }
    }
    Ok(added)
}

/// The keys a rotation needs: the next keys it promotes and their pre-generated successors.
pub struct Plan {
    pub promote: Vec<RealmKey>,
    pub successors: Vec<RealmKey>,
}

impl Plan {
    /// Plans the rotation of `keys`' next keys (only those due at `due`, if given), generating
    /// their successors before any transaction starts.
    pub async fn of(
        keys: Vec<RealmKey>,
        realm_name: &str,
        now: i64,
        due: Option<i64>,
    ) -> Result<Plan, StoreError> {
        let promote: Vec<RealmKey> = keys
            .into_iter()
            .filter(|k| k.is_next)
            .filter(|k| due.is_none_or(|at| k.activates_at.is_some_and(|t| t <= at)))
            .collect();
        let mut successors = Vec::with_capacity(promote.len());
        for key in &promote {
            let algorithm = SigningAlgorithm::parse(&key.algorithm)
                .ok_or_else(|| StoreError::Corrupt(format!("key algorithm {}", key.algorithm)))?;
            let mut successor =
                generate(&key.realm_id, realm_name, algorithm, "PASSIVE", now).await?;
            successor.is_next = true;
            successors.push(successor);
        }
        Ok(Plan {
            promote,
            successors,
        })
    }

    /// Performs the rotation in `conn`: each planned next key becomes ACTIVE, the keys it
    /// replaces PASSIVE, and its successor the next key. Answers false, having changed
    /// nothing that the caller should keep, when another writer promoted a planned key
    /// first: the caller rolls back.
    pub async fn apply(self, conn: &mut Conn) -> Result<bool, StoreError> {
        for key in &self.promote {
            if !store::keys::promote_next(&mut *conn, &key.realm_id, &key.id).await? {
                return Ok(false);
            }
            store::keys::demote_active_except(&mut *conn, &key.realm_id, &key.algorithm, &key.id)
                .await?;
        }
        for key in &self.successors {
            store::keys::insert_next(&mut *conn, key).await?;
        }
        Ok(true)
    }
}

/// What a registry's last recorded bundle means for the next rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Readiness {
    /// No download was recorded: what the registry trusts is unknown here.
    Unknown,
    /// The bundle carries the signing key and the next key: the switch is safe.
    Ready,
    /// The bundle carries the signing key but not the next one: reload before the switch.
    ReloadBeforeSwitch,
    /// The bundle lacks the key that signs now: tokens fail already.
    ReloadNow,
}

/// Whether a registry whose tokens are signed with `algorithm` and whose bundle carried
/// `kids` (`None`: no download recorded) survives the switch to the realm's next key.
pub fn readiness(keys: &[RealmKey], algorithm: &str, kids: Option<&[String]>) -> Readiness {
    let Some(kids) = kids else {
        return Readiness::Unknown;
    };
    let carries = |key: &&RealmKey| kids.iter().any(|kid| kid == &key.kid);
    let of_algorithm = |key: &&RealmKey| key.algorithm == algorithm;
    let active = keys
        .iter()
        .filter(of_algorithm)
        .filter(|k| k.status == "ACTIVE");
    if !active.clone().any(|k| carries(&k)) && active.clone().next().is_some() {
        return Readiness::ReloadNow;
    }
    let mut next = keys.iter().filter(of_algorithm).filter(|k| k.is_next);
    if next.all(|k| carries(&k)) {
        Readiness::Ready
    } else {
        Readiness::ReloadBeforeSwitch
    }
}

/// Starts the task that performs scheduled rotations.
pub fn start(db: Db, clock: Clock) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(INTERVAL);
        loop {
            ticks.tick().await;
            if let Err(err) = rotate_due(&db, clock.now_secs()).await {
                tracing::warn!(error = %err, "scheduled key rotation failed");
            }
        }
    });
}

/// Rotates every realm whose next keys are due at `now`; answers how many realms rotated.
pub async fn rotate_due(db: &Db, now: i64) -> Result<usize, StoreError> {
    let mut rotated = 0;
    for realm in store::keys::due_realms(db.write(), now).await? {
        let Some(name) = realm_name(db, &realm).await? else {
            continue;
        };
        let keys = store::keys::list_all(db.write(), &realm).await?;
        let plan = Plan::of(keys, &name, now, Some(now)).await?;
        if plan.promote.is_empty() {
            continue;
        }
        let mut tx = db.write().begin().await?;
        if plan.apply(&mut tx).await? {
            tx.commit().await?;
            tracing::info!(realm = %name, "rotated the signing keys as scheduled");
            rotated += 1;
        } else {
            tx.rollback().await?;
        }
    }
    Ok(rotated)
}

async fn realm_name(db: &Db, realm: &RealmId) -> Result<Option<String>, StoreError> {
    Ok(store::realms::list(db.read())
        .await?
        .into_iter()
        .find(|r| &r.id == realm)
        .map(|r| r.name.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(algorithm: &str, status: &str, is_next: bool, activates_at: Option<i64>) -> RealmKey {
        RealmKey {
            id: KeyId::new(),
            realm_id: RealmId::new(),
            kid: "kid".into(),
            algorithm: algorithm.into(),
            status: status.into(),
            private_key_der: vec![],
            public_key_der: vec![],
            certificate_der: vec![],
            created_at: 0,
            is_next,
            activates_at,
        }
    }

    #[test]
    fn only_algorithms_with_an_active_key_and_no_next_key_need_one() {
        let keys = [
            key("RS256", "ACTIVE", false, None),
            key("RS256", "PASSIVE", true, None),
            key("ES256", "ACTIVE", false, None),
            key("ES256", "PASSIVE", false, None),
        ];
        assert_eq!(missing_next(&keys), vec![SigningAlgorithm::Es256]);
        assert!(missing_next(&keys[..2]).is_empty());
        assert!(missing_next(&[key("ES256", "PASSIVE", false, None)]).is_empty());
    }

    #[test]
    fn a_registry_is_ready_only_when_its_bundle_carries_the_next_key() {
        let mut active = key("RS256", "ACTIVE", false, None);
        active.kid = "A".into();
        let mut next = key("RS256", "PASSIVE", true, None);
        next.kid = "N".into();
        let mut es = key("ES256", "ACTIVE", false, None);
        es.kid = "E".into();
        let keys = [active, next, es];
        let kids = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(readiness(&keys, "RS256", None), Readiness::Unknown);
        assert_eq!(
            readiness(&keys, "RS256", Some(&kids(&["A", "N"]))),
            Readiness::Ready
        );
        assert_eq!(
            readiness(&keys, "RS256", Some(&kids(&["A"]))),
            Readiness::ReloadBeforeSwitch
        );
        assert_eq!(
            readiness(&keys, "RS256", Some(&kids(&["N"]))),
            Readiness::ReloadNow
        );
        assert_eq!(
            readiness(&keys, "ES256", Some(&kids(&["E"]))),
            Readiness::Ready,
            "no ES256 next key yet"
        );
    }

    #[test]
    fn the_schedule_is_the_earliest_next_key_activation() {
        let keys = [
            key("RS256", "PASSIVE", true, Some(50)),
            key("ES256", "PASSIVE", true, Some(40)),
            key("RS256", "PASSIVE", false, Some(10)),
        ];
        assert_eq!(scheduled(&keys), Some(40));
        assert_eq!(scheduled(&keys[2..]), None);
    }

    #[tokio::test]
    async fn a_plan_for_due_keys_leaves_the_others() {
        let keys = vec![
            key("RS256", "PASSIVE", true, Some(100)),
            key("ES256", "PASSIVE", true, None),
            key("RS256", "ACTIVE", false, None),
        ];
        let due = Plan::of(keys.clone(), "team", 0, Some(100)).await.unwrap();
        assert_eq!(due.promote.len(), 1);
        assert_eq!(due.promote[0].algorithm, "RS256");
        assert_eq!(due.successors.len(), 1);
        assert!(due.successors[0].is_next && due.successors[0].status == "PASSIVE");
        assert!(Plan::of(keys.clone(), "team", 0, Some(99))
            .await
            .unwrap()
            .promote
            .is_empty());
        assert_eq!(
            Plan::of(keys, "team", 0, None).await.unwrap().promote.len(),
            2
        );
    }
}
