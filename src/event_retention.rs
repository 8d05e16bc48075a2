//! Keeps the stored events bounded: a background task deletes, on an interval, login events
//! older than their realm's `eventsExpiration`, and in every realm the oldest login and admin
//! events beyond a fixed bound. Deletes go in small batches, each its own short write, so
//! sign-ins and admin writes queue behind one batch at most; they leave the read cache warm.
//! On PostgreSQL it also trims the replicas' log of cache changes (see `store::cache`).

use std::time::Duration;

use crate::store::events::{self, EventKind};
use crate::store::{self, Db, StoreError};

/// How often expired events are looked for.
pub const INTERVAL: Duration = Duration::from_secs(60);
/// The most login events a realm keeps, whatever its settings.
pub const MAX_LOGIN_EVENTS_PER_REALM: i64 = 1_000_000;
/// The most admin events a realm keeps.
pub const MAX_ADMIN_EVENTS_PER_REALM: i64 = 100_000;
/// Rows deleted per write.
const BATCH: i64 = 1000;

/// Starts the task on the current runtime.
pub fn start(db: Db) {
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(INTERVAL);
        loop {
            ticks.tick().await;
            if let Err(err) = prune(&db, crate::clock::now_ms()).await {
                tracing::warn!(error = %err, "pruning events failed");
            }
            if db.backend() == store::Backend::Postgres {
                if let Err(err) = store::cache_changes::prune(db.write()).await {
                    tracing::warn!(error = %err, "pruning cache changes failed");
                }
            }
        }
    });
}

/// Deletes what is expired or beyond the bounds at `now_ms`; answers how many events went.
pub async fn prune(db: &Db, now_ms: i64) -> Result<u64, StoreError> {
    let mut deleted = 0;
    for realm in store::realms::list(db.read()).await? {
        if realm.events_expiration > 0 {
            let cutoff = now_ms.saturating_sub(realm.events_expiration.saturating_mul(1000));
            deleted += delete_before(db, EventKind::Login, &realm.id, cutoff).await?;
        }
        for (kind, bound) in [
            (EventKind::Login, MAX_LOGIN_EVENTS_PER_REALM),
            (EventKind::Admin, MAX_ADMIN_EVENTS_PER_REALM),
        ] {
            deleted += trim_to(db, kind, &realm.id, bound).await?;
        }
    }
    Ok(deleted)
}

/// Deletes the realm's oldest events until at most about `bound` remain.
pub async fn trim_to(
    db: &Db,
    kind: EventKind,
    realm: &crate::domain::RealmId,
    bound: i64,
) -> Result<u64, StoreError> {
    match events::time_of_nth_newest(db.read(), kind, realm, bound).await? {
        Some(cutoff) => delete_before(db, kind, realm, cutoff.saturating_add(1)).await,
        None => Ok(0),
    }
}

async fn delete_before(
    db: &Db,
    kind: EventKind,
    realm: &crate::domain::RealmId,
    before_ms: i64,
) -> Result<u64, StoreError> {
    let mut deleted = 0;
    loop {
        let batch = events::delete_batch(db, kind, realm, before_ms, BATCH).await?;
        deleted += batch;
        if batch < BATCH as u64 {
            return Ok(deleted);
        }
        tokio::task::yield_now().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Realm, RealmName};
    use crate::store::events::LoginEvent;

    async fn realm_with_events(times: &[i64], expiration: i64) -> (tempfile::TempDir, Db, Realm) {
        let dir = tempfile::tempdir().unwrap();
        let db = store::open(&format!("sqlite://{}/kw.db", dir.path().display()))
            .await
            .unwrap();
        let mut realm = Realm::new(RealmName::parse("team").unwrap());
        realm.events_expiration = expiration;
        store::realms::insert(db.write(), &realm).await.unwrap();
        let batch: Vec<(i64, LoginEvent)> = times
            .iter()
            .map(|&t| {
                let event = LoginEvent {
                    realm_id: realm.id.clone(),
                    event_type: "LOGIN",
                    user_id: None,
                    client_id: None,
                    ip_address: None,
                    error: None,
                    details: Default::default(),
                };
                (t, event)
            })
            .collect();
        events::insert_logins(&db, &batch).await.unwrap();
        (dir, db, realm)
    }

    #[tokio::test]
    async fn expired_login_events_are_deleted() {
        let now = 10_000_000;
        let times: Vec<i64> = (0..2500).map(|i| now - 7_200_000 + i).collect();
        let mut all = times.clone();
        all.extend([now - 1000, now]);
        let (_dir, db, realm) = realm_with_events(&all, 3600).await;
        assert_eq!(prune(&db, now).await.unwrap(), 2500);
        let left = events::count(db.read(), EventKind::Login, &realm.id).await;
        assert_eq!(left.unwrap(), 2);
    }

    #[tokio::test]
    async fn without_expiration_events_stay() {
        let (_dir, db, realm) = realm_with_events(&[1, 2, 3], 0).await;
        assert_eq!(prune(&db, 10_000_000).await.unwrap(), 0);
        let left = events::count(db.read(), EventKind::Login, &realm.id).await;
        assert_eq!(left.unwrap(), 3);
    }

    #[tokio::test]
    async fn a_realm_keeps_at_most_the_bound() {
        let times: Vec<i64> = (0..3000).collect();
        let (_dir, db, realm) = realm_with_events(&times, 0).await;
        let deleted = trim_to(&db, EventKind::Login, &realm.id, 1000)
            .await
            .unwrap();
        assert_eq!(deleted, 2000);
        let left = events::count(db.read(), EventKind::Login, &realm.id).await;
        assert_eq!(left.unwrap(), 1000, "the newest are kept");
    }
}
