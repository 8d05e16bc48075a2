//! Failed sign-ins per realm and username, for brute-force detection.

use sqlx::SqliteExecutor;

use super::StoreError;
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
    db: impl SqliteExecutor<'_>,
    realm: &RealmId,
    username: &str,
) -> Result<Option<LoginFailure>, StoreError> {
    Ok(sqlx::query_as!(
        LoginFailure,
        r#"SELECT realm_id AS "realm_id: _", username, num_failures, last_failure_ms,
            locked_until_ms, last_ip
         FROM login_failure WHERE realm_id = ? AND username = ?"#,
        realm,
        username
    )
    .fetch_optional(db)
    .await?)
}

/// Inserts or replaces the record.
pub async fn save(db: impl SqliteExecutor<'_>, failure: &LoginFailure) -> Result<(), StoreError> {
    sqlx::query!(
        "INSERT INTO login_failure (realm_id, username, num_failures, last_failure_ms,
            locked_until_ms, last_ip)
         VALUES (?, ?, ?, ?, ?, ?)
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
    .execute(db)
    .await?;
    Ok(())
}

/// Forgets the username's failures (after a successful sign-in, or an admin's unlock).
pub async fn clear(
    db: impl SqliteExecutor<'_>,
    realm: &RealmId,
    username: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query!(
        "DELETE FROM login_failure WHERE realm_id = ? AND username = ?",
        realm,
        username
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}
