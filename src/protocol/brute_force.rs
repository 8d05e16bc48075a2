//! Brute-force protection of every password sign-in (console, OIDC, docker), by the realm's
//! "security defenses" settings and Keycloak's rules: every `failureFactor` failures add
//! `waitIncrementSeconds` of lock (at most `maxFailureWaitSeconds`); failures closer together
//! than `quickLoginCheckMilliSeconds` lock for `minimumQuickLoginWaitSeconds`; the count
//! restarts after `maxDeltaTimeSeconds` without failure; with permanent lockout,
//! `failureFactor` failures lock until an admin unlocks.
//! Counted per username typed, known or not, so a lock says nothing about which accounts exist.
//!
//! Guesses checked at the same time are counted before their outcome is known: a guess takes
//! a slot first, and gets one only if the failures on record plus every guess still being
//! checked, all taken as failures, would not lock the name by the failure factor. A guess
//! without a slot is refused without its password being checked, so parallel guesses never
//! get past the failure factor. The quick-login lock is left out of that count, so that up to
//! `failureFactor` sign-ins of one account may run in parallel (a CI robot's, say); it still
//! applies to each failure as it is stored. Taking a slot and settling one (storing the
//! failure) are serialized per name.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use crate::domain::{Realm, RealmId, Username};
use crate::state::AppState;
use crate::store::login_failures::LoginFailure;
use crate::store::{self, StoreError};

/// A lock that only an admin lifts.
pub const PERMANENT: i64 = i64::MAX;

/// Names tracked before idle entries are dropped (entries in use are always kept).
const TRACKED_NAMES: usize = 4096;

/// The key failures are counted under: the username as the store would hold it.
pub fn key(username: &str) -> String {
    Username::parse(username).map_or_else(
        |_| username.trim().to_lowercase().chars().take(255).collect(),
        |u| u.to_string(),
    )
}

/// The guesses being checked right now, per realm and name.
#[derive(Default)]
pub struct Guesses {
    names: Mutex<HashMap<(RealmId, String), Arc<Name>>>,
}

/// One name's guesses in flight, and the lock that orders taking and settling slots.
#[derive(Default)]
struct Name {
    turn: tokio::sync::Mutex<()>,
    in_flight: AtomicI64,
    /// Failures this process stored for the name.
    failures_stored: AtomicI64,
}

impl Guesses {
    fn name(&self, realm: &RealmId, key: &str) -> Arc<Name> {
        let mut names = self.names.lock().unwrap_or_else(|e| e.into_inner());
        if names.len() >= TRACKED_NAMES {
            names.retain(|_, name| Arc::strong_count(name) > 1);
        }
        names
            .entry((realm.clone(), key.to_owned()))
            .or_default()
            .clone()
    }
}

/// The right to check one password guess; see the module documentation.
pub struct Slot {
    name: Arc<Name>,
    key: String,
    settled: bool,
    failures_on_record: bool,
    /// `Name::failures_stored` when the slot was taken.
    failures_stored: i64,
}

impl Drop for Slot {
    fn drop(&mut self) {
        if !self.settled {
            self.name.in_flight.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Whether a guess at `username` may be checked now: `Ok(None)` when protection is off,
/// `Ok(Some(slot))` when it may, and `Err(Refused)` when the name is locked or the guesses
/// already being checked could lock it.
pub async fn take_slot(
    state: &AppState,
    realm: &Realm,
    username: &str,
    now_ms: i64,
) -> Result<Result<Option<Slot>, Refused>, StoreError> {
    if !realm.brute_force_protected {
        return Ok(Ok(None));
    }
    let key = key(username);
    let name = state.guesses.name(&realm.id, &key);
    let _turn = name.turn.lock().await;
    let record = store::login_failures::find(state.db.read(), &realm.id, &key).await?;
    let in_flight = name.in_flight.load(Ordering::SeqCst);
    if !admits(realm, record.as_ref(), in_flight, now_ms) {
        return Ok(Err(Refused));
    }
    name.in_flight.fetch_add(1, Ordering::SeqCst);
    Ok(Ok(Some(Slot {
        name: name.clone(),
        key,
        settled: false,
        failures_on_record: record.is_some(),
        failures_stored: name.failures_stored.load(Ordering::SeqCst),
    })))
}

/// A guess refused by brute-force protection, unchecked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refused;

/// Whether a guess may be checked at `now_ms` with `in_flight` others being checked: the name
/// is not locked, and taking each of them as a failure, the failure factor would not lock it.
pub fn admits(realm: &Realm, record: Option<&LoginFailure>, in_flight: i64, now_ms: i64) -> bool {
    let mut record = record.cloned();
    if record.as_ref().is_some_and(|r| r.locked_until_ms > now_ms) {
        return false;
    }
    for _ in 0..in_flight {
        let next = next_record(realm, record.as_ref(), now_ms, false);
        if next.locked_until_ms > now_ms {
            return false;
        }
        record = Some(next);
    }
    true
}

impl Slot {
    /// Whether the name had no failure on record when the slot was taken.
    pub fn no_failures_on_record(&self) -> bool {
        !self.failures_on_record
    }

    /// The guess was wrong: one more failure, counted once, then the slot is free.
    pub async fn failed(
        mut self,
        state: &AppState,
        realm: &Realm,
        ip: Option<&str>,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        let name = self.name.clone();
        let _turn = name.turn.lock().await;
        store::login_failures::add_failure(&state.db, &realm.id, &self.key, |previous| {
            let mut next = after_failure(realm, previous, now_ms);
            next.last_ip = ip.map(str::to_owned);
            next
        })
        .await?;
        name.failures_stored.fetch_add(1, Ordering::SeqCst);
        self.settle();
        Ok(())
    }

    /// The guess was right: the name's failures are forgotten (written only when there are
    /// any), then the slot is free. A name that had none on record when the slot was taken,
    /// and none stored by this process since, is not looked up again: a clean sign-in costs
    /// one read and no write.
    pub async fn succeeded(mut self, state: &AppState, realm: &Realm) -> Result<(), StoreError> {
        let name = self.name.clone();
        let _turn = name.turn.lock().await;
        let clean = !self.failures_on_record
            && name.failures_stored.load(Ordering::SeqCst) == self.failures_stored;
        if !clean
            && store::login_failures::find(state.db.read(), &realm.id, &self.key)
                .await?
                .is_some()
        {
            store::login_failures::clear(state.db.write(), &realm.id, &self.key).await?;
        }
        self.settle();
        Ok(())
    }

    fn settle(&mut self) {
        self.name.in_flight.fetch_sub(1, Ordering::SeqCst);
        self.settled = true;
    }
}

/// The record after one more failure at `now_ms` (Keycloak's `BruteForceProtector`).
pub fn after_failure(realm: &Realm, previous: Option<&LoginFailure>, now_ms: i64) -> LoginFailure {
    next_record(realm, previous, now_ms, true)
}

/// `after_failure`, with or without the quick-login lock.
fn next_record(
    realm: &Realm,
    previous: Option<&LoginFailure>,
    now_ms: i64,
    quick_login_check: bool,
) -> LoginFailure {
    let last = previous.map_or(0, |p| p.last_failure_ms);
    let delta = if last > 0 { now_ms - last } else { 0 };
    let mut failures = previous.map_or(0, |p| p.num_failures);
    if delta > realm.max_delta_time_seconds.saturating_mul(1000) {
        failures = 0;
    }
    failures += 1;
    let factor = realm.failure_factor.max(1);
    let mut wait = realm
        .wait_increment_seconds
        .saturating_mul(failures / factor);
    if quick_login_check && wait == 0 && last > 0 && delta < realm.quick_login_check_milli_seconds {
        wait = realm.minimum_quick_login_wait_seconds;
    }
    let mut locked_until = previous.map_or(0, |p| p.locked_until_ms);
    if wait > 0 {
        let wait = wait.min(realm.max_failure_wait_seconds);
        locked_until = locked_until.max(now_ms.saturating_add(wait.saturating_mul(1000)));
    }
    if realm.permanent_lockout && failures >= factor {
        locked_until = PERMANENT;
    }
    LoginFailure {
        realm_id: realm.id.clone(),
        username: String::new(),
        num_failures: failures,
        last_failure_ms: now_ms,
        locked_until_ms: locked_until,
        last_ip: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::RealmName;

    fn realm() -> Realm {
        Realm {
            brute_force_protected: true,
            failure_factor: 3,
            wait_increment_seconds: 60,
            max_failure_wait_seconds: 900,
            quick_login_check_milli_seconds: 1000,
            minimum_quick_login_wait_seconds: 30,
            max_delta_time_seconds: 3600,
            ..Realm::new(RealmName::parse("r").unwrap())
        }
    }

    fn fail_times(realm: &Realm, times: &[i64]) -> LoginFailure {
        let mut record = None;
        for &t in times {
            record = Some(after_failure(realm, record.as_ref(), t));
        }
        record.unwrap()
    }

    #[test]
    fn every_failure_factor_failures_add_a_wait_increment() {
        let realm = realm();
        let record = fail_times(&realm, &[10_000, 20_000]);
        assert_eq!(record.locked_until_ms, 0);
        let record = fail_times(&realm, &[10_000, 20_000, 30_000]);
        assert_eq!(record.locked_until_ms, 30_000 + 60_000);
    }

    #[test]
    fn quick_successive_failures_lock_for_the_minimum_wait() {
        let record = fail_times(&realm(), &[10_000, 10_500]);
        assert_eq!(record.locked_until_ms, 10_500 + 30_000);
    }

    #[test]
    fn the_count_restarts_after_the_max_delta() {
        let record = fail_times(&realm(), &[10_000, 20_000, 20_000 + 3_600_001]);
        assert_eq!(record.num_failures, 1);
    }

    #[test]
    fn waits_never_exceed_the_maximum() {
        let mut realm = realm();
        realm.failure_factor = 1;
        realm.wait_increment_seconds = 600;
        let record = fail_times(&realm, &[10_000, 20_000, 30_000]);
        assert_eq!(record.locked_until_ms, 30_000 + 900_000);
    }

    #[test]
    fn permanent_lockout_locks_until_unlocked() {
        let mut realm = realm();
        realm.permanent_lockout = true;
        let record = fail_times(&realm, &[10_000, 20_000, 30_000]);
        assert_eq!(record.locked_until_ms, PERMANENT);
    }

    #[test]
    fn guesses_in_flight_count_as_failures_before_their_outcome() {
        let mut realm = realm();
        realm.permanent_lockout = true;
        realm.quick_login_check_milli_seconds = 1;
        realm.minimum_quick_login_wait_seconds = 1;
        let now = 10_000;
        assert!(admits(&realm, None, 0, now));
        assert!(admits(&realm, None, 1, now));
        assert!(
            !admits(&realm, None, 3, now),
            "three in flight may all fail and lock"
        );
        let record = fail_times(&realm, &[1_000]);
        assert!(admits(&realm, Some(&record), 0, now));
        let locked = fail_times(&realm, &[1_000, 2_000, 3_000]);
        assert!(!admits(&realm, Some(&locked), 0, now), "locked on record");
    }

    #[test]
    fn parallel_sign_ins_below_the_failure_factor_are_checked() {
        let realm = realm();
        assert!(admits(&realm, None, 2, 10_000), "quick failures aside");
        assert!(!admits(&realm, None, 3, 10_000), "the factor is reached");
        let record = fail_times(&realm, &[9_000]);
        assert!(!admits(&realm, Some(&record), 2, 10_000));
    }

    #[test]
    fn usernames_are_counted_as_stored() {
        assert_eq!(key("  Alice "), "alice");
        assert_eq!(key("a b"), "a b");
    }
}
