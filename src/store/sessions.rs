//! Sign-in sessions (Keycloak's user sessions).

use sqlx::SqliteExecutor;

use super::StoreError;
use crate::domain::{RealmId, UserId};

/// A stored session.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub realm_id: RealmId,
    pub user_id: UserId,
    pub ip_address: Option<String>,
    pub started_at: i64,
    pub last_access_at: i64,
}

/// Starts a session; returns its id.
pub async fn insert(
    db: impl SqliteExecutor<'_>,
    realm: &RealmId,
    user: &UserId,
    ip: Option<&str>,
) -> Result<String, StoreError> {
    let id = uuid::Uuid::new_v4().to_string();
    let now = crate::clock::now_secs();
    sqlx::query!(
        "INSERT INTO user_session (id, realm_id, user_id, ip_address, started_at, last_access_at)
         VALUES (?, ?, ?, ?, ?, ?)",
        id,
        realm,
        user,
        ip,
        now,
        now
    )
    .execute(db)
    .await?;
    Ok(id)
}

pub async fn find(
    db: impl SqliteExecutor<'_>,
    realm: &RealmId,
    id: &str,
) -> Result<Option<Session>, StoreError> {
    Ok(sqlx::query_as!(
        Session,
        r#"SELECT id, realm_id AS "realm_id: _", user_id AS "user_id: _", ip_address, started_at, last_access_at
         FROM user_session WHERE id = ? AND realm_id = ?"#,
        id,
        realm
    )
    .fetch_optional(db)
    .await?)
}

/// The user's sessions, newest first.
pub async fn list_for_user(
    db: impl SqliteExecutor<'_>,
    realm: &RealmId,
    user: &UserId,
) -> Result<Vec<Session>, StoreError> {
    Ok(sqlx::query_as!(
        Session,
        r#"SELECT id, realm_id AS "realm_id: _", user_id AS "user_id: _", ip_address, started_at, last_access_at
         FROM user_session WHERE realm_id = ? AND user_id = ? ORDER BY started_at DESC"#,
        realm,
        user
    )
    .fetch_all(db)
    .await?)
}

pub async fn touch(db: impl SqliteExecutor<'_>, id: &str, now: i64) -> Result<(), StoreError> {
    sqlx::query!(
        "UPDATE user_session SET last_access_at = ? WHERE id = ?",
        now,
        id
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Ends a session; its refresh tokens go with it.
pub async fn delete(
    db: impl SqliteExecutor<'_>,
    realm: &RealmId,
    id: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query!(
        "DELETE FROM user_session WHERE id = ? AND realm_id = ?",
        id,
        realm
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Ends every session of the user.
pub async fn delete_for_user(
    db: impl SqliteExecutor<'_>,
    user: &UserId,
) -> Result<u64, StoreError> {
    let done = sqlx::query!("DELETE FROM user_session WHERE user_id = ?", user)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}
