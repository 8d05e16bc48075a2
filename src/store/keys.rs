//! Realm signing keys.

use super::{sql, Exec};

use super::StoreError;
use crate::domain::{KeyId, RealmId, RealmKey};

pub async fn insert(db: impl Into<Exec<'_>>, key: &RealmKey) -> Result<(), StoreError> {
    sql!(
        db,
        query!(
            "INSERT INTO realm_key (id, realm_id, kid, algorithm, status, private_key_der,
            public_key_der, certificate_der, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
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
        .execute
    )?;
    Ok(())
}

/// The realm's usable keys (ACTIVE and PASSIVE), newest first.
pub async fn list_usable(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
) -> Result<Vec<RealmKey>, StoreError> {
    Ok(sql!(
        db,
        query_as!(
            RealmKey,
            r#"SELECT id AS "id: _", realm_id AS "realm_id: _", kid, algorithm, status,
            private_key_der, public_key_der, certificate_der, created_at
         FROM realm_key WHERE realm_id = $1 AND status IN ('ACTIVE', 'PASSIVE')
         ORDER BY created_at DESC, kid"#,
            realm
        )
        .fetch_all
    )?)
}

/// Every key of the realm, DISABLED ones too, newest first.
pub async fn list_all(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
) -> Result<Vec<RealmKey>, StoreError> {
    Ok(sql!(
        db,
        query_as!(
            RealmKey,
            r#"SELECT id AS "id: _", realm_id AS "realm_id: _", kid, algorithm, status,
            private_key_der, public_key_der, certificate_der, created_at
         FROM realm_key WHERE realm_id = $1
         ORDER BY created_at DESC, kid"#,
            realm
        )
        .fetch_all
    )?)
}

/// Marks every ACTIVE key of the realm for `algorithm` PASSIVE (before a new active key for
/// that algorithm is added).
pub async fn demote_active(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    algorithm: &str,
) -> Result<(), StoreError> {
    sql!(
        db,
        query!(
            "UPDATE realm_key SET status = 'PASSIVE'
         WHERE realm_id = $1 AND algorithm = $2 AND status = 'ACTIVE'",
            realm,
            algorithm
        )
        .execute
    )?;
    Ok(())
}

/// Sets a key's status: ACTIVE, PASSIVE or DISABLED.
pub async fn set_status(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    id: &KeyId,
    status: &str,
) -> Result<bool, StoreError> {
    let done = sql!(
        db,
        query!(
            "UPDATE realm_key SET status = $1 WHERE id = $2 AND realm_id = $3",
            status,
            id,
            realm
        )
        .execute
    )?;
    Ok(done == 1)
}

pub async fn delete(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    id: &KeyId,
) -> Result<bool, StoreError> {
    let done = sql!(
        db,
        query!(
            "DELETE FROM realm_key WHERE id = $1 AND realm_id = $2",
            id,
            realm
        )
        .execute
    )?;
    Ok(done == 1)
}
