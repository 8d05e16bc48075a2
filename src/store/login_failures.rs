//! Failed sign-ins per realm and username, for brute-force detection. These rows are never
//! cached, so the writes here leave the read cache warm.

use super::{sql, Exec};

use super::{Db, StoreError};
use crate::domain::RealmId;

/// The failure record of one username in one realm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginFailure {
    pub realm_id: RealmId,
    pub username: String,
    pub num_failures: i64,
    pub last_failure_ms: i64,
    pub locked_until_ms: i64,
    pub last_ip: Option<String>,
}

pub async fn find(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    username: &str,
) -> Result<Option<LoginFailure>, StoreError> {
    Ok(sql!(
        db,
        query_as!(
            LoginFailure,
            r#"SELECT realm_id AS "realm_id: _", username, num_failures, last_failure_ms,
            locked_until_ms, last_ip
         FROM login_failure WHERE realm_id = $1 AND username = $2"#,
            realm,
            username
        )
        .fetch_optional
    )?)
}

/// Counts one more failure of `username`: `next` turns the record as it is (if any) into the
/// record after the failure. The read and the write are one transaction on the single writer
/// connection, so no other write comes between them and every failure is counted once.
pub async fn add_failure(
    db: &Db,
    realm: &RealmId,
    username: &str,
    next: impl FnOnce(Option<&LoginFailure>) -> LoginFailure,
) -> Result<LoginFailure, StoreError> {
    let writer = db.write().acquire().await?;
    let mut tx = writer.begin().await?;
    super::serialize_on(&mut tx, &format!("login_failure/{realm}/{username}")).await?;
    let previous = find(&mut *tx, realm, username).await?;
    let mut record = next(previous.as_ref());
    record.realm_id = realm.clone();
    record.username = username.to_owned();
    save(&mut *tx, &record).await?;
    tx.commit().await?;
    Ok(record)
}

/// Inserts or replaces the record.
pub async fn save(db: impl Into<Exec<'_>>, failure: &LoginFailure) -> Result<(), StoreError> {
    sql!(
        db,
        query!(
            "INSERT INTO login_failure (realm_id, username, num_failures, last_failure_ms,
            locked_until_ms, last_ip)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (realm_id, username) DO UPDATE SET
            num_failures = excluded.num_failures, last_failure_ms = excluded.last_failure_ms,
            locked_until_ms = excluded.locked_until_ms, last_ip = excluded.last_ip",
            failure.realm_id,
            failure.username,
            failure.num_failures,
            failure.last_failure_ms,
            failure.locked_until_ms,
            failure.last_ip,
        )
        .execute
    )?;
    Ok(())
}

/// Forgets the username's failures (after a successful sign-in, or an admin's unlock).
pub async fn clear(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    username: &str,
) -> Result<bool, StoreError> {
    let done = sql!(
        db,
        query!(
            "DELETE FROM login_failure WHERE realm_id = $1 AND username = $2",
            realm,
            username
        )
        .execute
    )?;
    Ok(done == 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Realm, RealmName};
    use crate::store;

    /// Counting failures and forgetting them leave cached rows (a realm here) in the cache.
    #[tokio::test]
    async fn failure_writes_leave_the_read_cache_warm() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/kw.db", dir.path().display());
        let db = store::open(&url).await.unwrap();
        let realm = Realm::new(RealmName::parse("team").unwrap());
        store::realms::insert(db.write(), &realm).await.unwrap();
        let behind_the_cache = sqlx::SqlitePool::connect(&url).await.unwrap();
        let lifespan = |r: Option<Realm>| r.unwrap().access_token_lifespan;
        let set_behind = |value: i64| {
            sqlx::query("UPDATE realm SET access_token_lifespan = ?")
                .bind(value)
                .execute(&behind_the_cache)
        };
        // Once the insert's write is over, the realm is cached: a change made behind the
        // cache's back is not seen.
        let mut cached = None;
        for value in 1..=100 {
            set_behind(value).await.unwrap();
            lifespan(
                store::realms::find_by_name_cached(&db, "team")
                    .await
                    .unwrap(),
            );
            set_behind(-value).await.unwrap();
            let served = lifespan(
                store::realms::find_by_name_cached(&db, "team")
                    .await
                    .unwrap(),
            );
            if served == value {
                cached = Some(value);
                break;
            }
            tokio::task::yield_now().await;
        }
        let cached = cached.expect("the realm gets cached");

        let counted = add_failure(&db, &realm.id, "dev", |previous| LoginFailure {
            num_failures: previous.map_or(0, |p| p.num_failures) + 1,
            last_failure_ms: 1,
            locked_until_ms: 0,
            last_ip: None,
            realm_id: realm.id.clone(),
            username: String::new(),
        })
        .await
        .unwrap();
        assert_eq!(counted.num_failures, 1);
        assert!(clear(db.write(), &realm.id, "dev").await.unwrap());
        assert_eq!(find(db.read(), &realm.id, "dev").await.unwrap(), None);

        let served = lifespan(
            store::realms::find_by_name_cached(&db, "team")
                .await
                .unwrap(),
        );
        assert_eq!(served, cached, "still served from the cache");
    }
}
