//! Realm signing keys: ACTIVE keys sign, PASSIVE keys verify, DISABLED keys do neither; one
//! PASSIVE key per realm and algorithm may be the pre-generated next key (`is_next`).

use super::{sql, Exec};

use super::StoreError;
use crate::domain::{KeyId, RealmId, RealmKey};

pub async fn insert(db: impl Into<Exec<'_>>, key: &RealmKey) -> Result<(), StoreError> {
    sql!(
        db,
        query!(
            "INSERT INTO realm_key (id, realm_id, kid, algorithm, status, private_key_der,
            public_key_der, certificate_der, created_at, is_next, activates_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            key.id,
            key.realm_id,
            key.kid,
            key.algorithm,
            key.status,
            key.private_key_der,
            key.public_key_der,
            key.certificate_der,
            key.created_at,
            key.is_next,
            key.activates_at,
        )
        .execute
    )?;
    Ok(())
}

/// Adds `key` as the realm's next key of its algorithm unless it already has one (the
/// unique index `realm_key_one_next` decides between racing writers); answers whether it
/// was added.
pub async fn insert_next(db: impl Into<Exec<'_>>, key: &RealmKey) -> Result<bool, StoreError> {
    let done = sql!(
        db,
        query!(
            "INSERT INTO realm_key (id, realm_id, kid, algorithm, status, private_key_der,
            public_key_der, certificate_der, created_at, is_next, activates_at)
         VALUES ($1, $2, $3, $4, 'PASSIVE', $5, $6, $7, $8, TRUE, $9)
         ON CONFLICT DO NOTHING",
            key.id,
            key.realm_id,
            key.kid,
            key.algorithm,
            key.private_key_der,
            key.public_key_der,
            key.certificate_der,
            key.created_at,
            key.activates_at,
        )
        .execute
    )?;
    Ok(done == 1)
}

/// The realm's usable keys (ACTIVE and PASSIVE, the next keys among them): active first,
/// then newest first.
pub async fn list_usable(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
) -> Result<Vec<RealmKey>, StoreError> {
    Ok(sql!(
        db,
        query_as!(
            RealmKey,
            r#"SELECT id AS "id: _", realm_id AS "realm_id: _", kid, algorithm, status,
            private_key_der, public_key_der, certificate_der, created_at, is_next, activates_at
         FROM realm_key WHERE realm_id = $1 AND status IN ('ACTIVE', 'PASSIVE')
         ORDER BY CASE WHEN status = 'ACTIVE' THEN 0 ELSE 1 END, created_at DESC, kid"#,
            realm
        )
        .fetch_all
    )?)
}

/// Every key of the realm, DISABLED ones too: active first, then newest first.
pub async fn list_all(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
) -> Result<Vec<RealmKey>, StoreError> {
    Ok(sql!(
        db,
        query_as!(
            RealmKey,
            r#"SELECT id AS "id: _", realm_id AS "realm_id: _", kid, algorithm, status,
            private_key_der, public_key_der, certificate_der, created_at, is_next, activates_at
         FROM realm_key WHERE realm_id = $1
         ORDER BY CASE WHEN status = 'ACTIVE' THEN 0 ELSE 1 END, created_at DESC, kid"#,
            realm
        )
        .fetch_all
    )?)
}

/// Makes the next key `id` ACTIVE, if it still is the next key: answers false when another
/// writer promoted or dropped it first.
pub async fn promote_next(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    id: &KeyId,
) -> Result<bool, StoreError> {
    let done = sql!(
        db,
        query!(
            "UPDATE realm_key SET status = 'ACTIVE', is_next = FALSE, activates_at = NULL
         WHERE id = $1 AND realm_id = $2 AND is_next",
            id,
            realm
        )
        .execute
    )?;
    Ok(done == 1)
}

/// Marks every ACTIVE key of the realm for `algorithm` but `keep` PASSIVE.
pub async fn demote_active_except(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    algorithm: &str,
    keep: &KeyId,
) -> Result<(), StoreError> {
    sql!(
        db,
        query!(
            "UPDATE realm_key SET status = 'PASSIVE'
         WHERE realm_id = $1 AND algorithm = $2 AND status = 'ACTIVE' AND id <> $3",
            realm,
            algorithm,
            keep
        )
        .execute
    )?;
    Ok(())
}

/// Sets when the realm's next keys become active (`None`: at the next manual rotation).
pub async fn schedule_next(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    at: Option<i64>,
) -> Result<u64, StoreError> {
    Ok(sql!(
        db,
        query!(
            "UPDATE realm_key SET activates_at = $1 WHERE realm_id = $2 AND is_next",
            at,
            realm
        )
        .execute
    )?)
}

/// The realms with a next key due at `now` (seconds).
pub async fn due_realms(db: impl Into<Exec<'_>>, now: i64) -> Result<Vec<RealmId>, StoreError> {
    Ok(sql!(
        db,
        query_scalar!(
            r#"SELECT DISTINCT realm_id AS "realm_id: RealmId" FROM realm_key
         WHERE is_next AND activates_at IS NOT NULL AND activates_at <= $1"#,
            now
        )
        .fetch_all
    )?)
}

/// Drops the realm's next key of `algorithm`, if any.
pub async fn delete_next(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    algorithm: &str,
) -> Result<(), StoreError> {
    sql!(
        db,
        query!(
            "DELETE FROM realm_key WHERE realm_id = $1 AND algorithm = $2 AND is_next",
            realm,
            algorithm
        )
        .execute
    )?;
    Ok(())
}

/// Sets a key's status: ACTIVE, PASSIVE or DISABLED. A next key set anything but PASSIVE
/// stops being the next key.
pub async fn set_status(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    id: &KeyId,
    status: &str,
) -> Result<bool, StoreError> {
    let done = sql!(
        db,
        query!(
            "UPDATE realm_key SET status = $1,
                is_next = (is_next AND $1 = 'PASSIVE'),
                activates_at = CASE WHEN $1 = 'PASSIVE' THEN activates_at END
         WHERE id = $2 AND realm_id = $3",
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
