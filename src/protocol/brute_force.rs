//! Brute-force protection of every password sign-in (console, OIDC, docker), by the realm's
//! "security defenses" settings and
//! Keycloak's rules: every `failureFactor` failures add `waitIncrementSeconds` of lock (at most
//! `maxFailureWaitSeconds`); failures closer together than `quickLoginCheckMilliSeconds` lock
//! for `minimumQuickLoginWaitSeconds`; the count restarts after `maxDeltaTimeSeconds` without
//! failure; with permanent lockout, `failureFactor` failures lock until an admin unlocks.
//! Counted per username typed, known or not, so a lock says nothing about which accounts exist.

use crate::domain::{Realm, Username};
use crate::state::AppState;
use crate::store::login_failures::LoginFailure;
use crate::store::{self, StoreError};

/// A lock that only an admin lifts.
pub const PERMANENT: i64 = i64::MAX;

/// The key failures are counted under: the username as the store would hold it.
pub fn key(username: &str) -> String {
    Username::parse(username).map_or_else(
        |_| username.trim().to_lowercase().chars().take(255).collect(),
        |u| u.to_string(),
    )
}

/// Whether sign-in as `username` is refused until a later time.
pub async fn locked(
    state: &AppState,
    realm: &Realm,
    username: &str,
    now_ms: i64,
) -> Result<bool, StoreError> {
    if !realm.brute_force_protected {
        return Ok(false);
    }
    let record = store::login_failures::find(state.db.read(), &realm.id, &key(username)).await?;
    Ok(record.is_some_and(|r| r.locked_until_ms > now_ms))
}

/// Counts a failed sign-in.
pub async fn failed(
    state: &AppState,
    realm: &Realm,
    username: &str,
    ip: Option<&str>,
    now_ms: i64,
) -> Result<(), StoreError> {
    if !realm.brute_force_protected {
        return Ok(());
    }
    let key = key(username);
    let previous = store::login_failures::find(state.db.read(), &realm.id, &key).await?;
    let mut next = after_failure(realm, previous.as_ref(), now_ms);
    next.realm_id = realm.id.clone();
    next.username = key;
    next.last_ip = ip.map(str::to_owned);
    store::login_failures::save(state.db.write(), &next).await
}

/// Forgets the failures of `username` after a successful sign-in.
pub async fn succeeded(state: &AppState, realm: &Realm, username: &str) -> Result<(), StoreError> {
    if realm.brute_force_protected {
        store::login_failures::clear(state.db.write(), &realm.id, &key(username)).await?;
    }
    Ok(())
}

/// The record after one more failure at `now_ms` (Keycloak's `BruteForceProtector`).
pub fn after_failure(realm: &Realm, previous: Option<&LoginFailure>, now_ms: i64) -> LoginFailure {
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
    if wait == 0 && last > 0 && delta < realm.quick_login_check_milli_seconds {
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
    fn usernames_are_counted_as_stored() {
        assert_eq!(key("  Alice "), "alice");
        assert_eq!(key("a b"), "a b");
    }
}
