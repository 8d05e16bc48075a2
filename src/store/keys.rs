//! Realm signing keys.

use sqlx::SqliteExecutor;

use super::StoreError;
use crate::domain::{KeyId, RealmId, RealmKey};

pub async fn insert(db: impl SqliteExecutor<'_>, key: &RealmKey) -> Result<(), StoreError> {
    sqlx::query!(
        "INSERT INTO realm_key (id, realm_id, kid, algorithm, status, private_key_der,
            public_key_der, certificate_der, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        key.id,
        key.realm_id,
        key.kid,
        key.algorithm,
        key.status,
        key.private_key_der,
        key.public_key_der,
        key.certificate_der,
        key.created_at,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The realm's usable keys (ACTIVE and PASSIVE), newest first.
pub async fn list_usable(
    db: impl SqliteExecutor<'_>,
    realm: &RealmId,
) -> Result<Vec<RealmKey>, StoreError> {
    Ok(sqlx::query_as!(
        RealmKey,
        r#"SELECT id AS "id: _", realm_id AS "realm_id: _", kid, algorithm, status,
            private_key_der, public_key_der, certificate_der, created_at
         FROM realm_key WHERE realm_id = ? AND status IN ('ACTIVE', 'PASSIVE')
         ORDER BY created_at DESC, kid"#,
        realm
    )
    .fetch_all(db)
    .await?)
}

/// Marks every ACTIVE key of the realm PASSIVE (before a new active key is added).
pub async fn demote_active(db: impl SqliteExecutor<'_>, realm: &RealmId) -> Result<(), StoreError> {
    sqlx::query!(
        "UPDATE realm_key SET status = 'PASSIVE' WHERE realm_id = ? AND status = 'ACTIVE'",
        realm
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn delete(
    db: impl SqliteExecutor<'_>,
    realm: &RealmId,
    id: &KeyId,
) -> Result<bool, StoreError> {
    let done = sqlx::query!(
        "DELETE FROM realm_key WHERE id = ? AND realm_id = ?",
        id,
        realm
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}
