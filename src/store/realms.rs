//! Realms and their settings.

use super::{sql, Exec};

use super::{conflict_on_unique, Db, StoreError};
use crate::domain::{Realm, RealmId};

/// Inserts a new realm; a taken name is a conflict.
pub async fn insert(db: impl Into<Exec<'_>>, realm: &Realm) -> Result<(), StoreError> {
    let now = crate::clock::now_secs();
    sql!(db, query!(
        "INSERT INTO realm (id, name, display_name, enabled, access_token_lifespan,
            sso_session_idle_timeout, sso_session_max_lifespan, offline_session_idle_timeout,
            brute_force_protected, permanent_lockout, failure_factor, wait_increment_seconds,
            max_failure_wait_seconds, minimum_quick_login_wait_seconds,
            quick_login_check_milli_seconds, max_delta_time_seconds, events_enabled,
            events_expiration, enabled_event_types, admin_events_enabled,
            admin_events_details_enabled, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)",
        realm.id,
        realm.name,
        realm.display_name,
        realm.enabled,
        realm.access_token_lifespan,
        realm.sso_session_idle_timeout,
        realm.sso_session_max_lifespan,
        realm.offline_session_idle_timeout,
        realm.brute_force_protected,
        realm.permanent_lockout,
        realm.failure_factor,
        realm.wait_increment_seconds,
        realm.max_failure_wait_seconds,
        realm.minimum_quick_login_wait_seconds,
        realm.quick_login_check_milli_seconds,
        realm.max_delta_time_seconds,
        realm.events_enabled,
        realm.events_expiration,
        realm.enabled_event_types,
        realm.admin_events_enabled,
        realm.admin_events_details_enabled,
        now,
    ).execute)
    .map_err(conflict_on_unique(
        "Conflict detected. See logs for details",
    ))
    .map(drop)
}

/// Writes every setting of an existing realm (the name included).
pub async fn update(db: impl Into<Exec<'_>>, realm: &Realm) -> Result<bool, StoreError> {
    let done = sql!(db, query!(
        "UPDATE realm SET name = $1, display_name = $2, enabled = $3, access_token_lifespan = $4,
            sso_session_idle_timeout = $5, sso_session_max_lifespan = $6,
            offline_session_idle_timeout = $7, brute_force_protected = $8, permanent_lockout = $9,
            failure_factor = $10, wait_increment_seconds = $11, max_failure_wait_seconds = $12,
            minimum_quick_login_wait_seconds = $13, quick_login_check_milli_seconds = $14,
            max_delta_time_seconds = $15, events_enabled = $16, events_expiration = $17,
            enabled_event_types = $18, admin_events_enabled = $19, admin_events_details_enabled = $20
         WHERE id = $21",
        realm.name,
        realm.display_name,
        realm.enabled,
        realm.access_token_lifespan,
        realm.sso_session_idle_timeout,
        realm.sso_session_max_lifespan,
        realm.offline_session_idle_timeout,
        realm.brute_force_protected,
        realm.permanent_lockout,
        realm.failure_factor,
        realm.wait_increment_seconds,
        realm.max_failure_wait_seconds,
        realm.minimum_quick_login_wait_seconds,
        realm.quick_login_check_milli_seconds,
        realm.max_delta_time_seconds,
        realm.events_enabled,
        realm.events_expiration,
        realm.enabled_event_types,
        realm.admin_events_enabled,
        realm.admin_events_details_enabled,
        realm.id,
    ).execute)
    .map_err(conflict_on_unique(format!(
        "Realm {} already exists",
        realm.name
    )))?;
    Ok(done == 1)
}

/// Deletes a realm and, through the cascading keys, everything in it.
pub async fn delete(db: impl Into<Exec<'_>>, id: &RealmId) -> Result<bool, StoreError> {
    let done = sql!(db, query!("DELETE FROM realm WHERE id = $1", id).execute)?;
    Ok(done == 1)
}

pub async fn find_by_name(
    db: impl Into<Exec<'_>>,
    name: &str,
) -> Result<Option<Realm>, StoreError> {
    Ok(sql!(
        db,
        query_as!(
            Realm,
            r#"SELECT id AS "id: _", name AS "name: _", display_name, enabled,
            access_token_lifespan, sso_session_idle_timeout, sso_session_max_lifespan,
            offline_session_idle_timeout, brute_force_protected, permanent_lockout,
            failure_factor, wait_increment_seconds, max_failure_wait_seconds,
            minimum_quick_login_wait_seconds, quick_login_check_milli_seconds,
            max_delta_time_seconds, events_enabled, events_expiration,
            enabled_event_types AS "enabled_event_types: _", admin_events_enabled,
            admin_events_details_enabled
         FROM realm WHERE name = $1"#,
            name
        )
        .fetch_optional
    )?)
}

/// `find_by_name` through the read cache.
pub async fn find_by_name_cached(db: &Db, name: &str) -> Result<Option<Realm>, StoreError> {
    let cache = db.cache();
    cache
        .get_or_load(&cache.realms_by_name, name.to_owned(), || {
            find_by_name(db.read(), name)
        })
        .await
}

/// All realms, ordered by name.
pub async fn list(db: impl Into<Exec<'_>>) -> Result<Vec<Realm>, StoreError> {
    Ok(sql!(
        db,
        query_as!(
            Realm,
            r#"SELECT id AS "id: _", name AS "name: _", display_name, enabled,
            access_token_lifespan, sso_session_idle_timeout, sso_session_max_lifespan,
            offline_session_idle_timeout, brute_force_protected, permanent_lockout,
            failure_factor, wait_increment_seconds, max_failure_wait_seconds,
            minimum_quick_login_wait_seconds, quick_login_check_milli_seconds,
            max_delta_time_seconds, events_enabled, events_expiration,
            enabled_event_types AS "enabled_event_types: _", admin_events_enabled,
            admin_events_details_enabled
         FROM realm ORDER BY name"#
        )
        .fetch_all
    )?)
}

/// The realm representation's fields that keywarden keeps without implementing them (a JSON
/// object by Keycloak's field names).
pub async fn kept(
    db: impl Into<Exec<'_>>,
    id: &RealmId,
) -> Result<serde_json::Map<String, serde_json::Value>, StoreError> {
    let raw = sql!(
        db,
        query_scalar!("SELECT kept FROM realm WHERE id = $1", id).fetch_optional
    )?
    .unwrap_or_default();
    if raw.is_empty() {
        return Ok(serde_json::Map::new());
    }
    super::from_json("realm.kept", &raw)
}

/// Replaces the fields kept for a realm.
pub async fn set_kept(
    db: impl Into<Exec<'_>>,
    id: &RealmId,
    kept: &serde_json::Map<String, serde_json::Value>,
) -> Result<(), StoreError> {
    let raw = super::to_json(kept);
    sql!(
        db,
        query!("UPDATE realm SET kept = $1 WHERE id = $2", raw, id).execute
    )?;
    Ok(())
}

/// Which layout of built-in clients and roles the realm was brought to (0: made before any).
pub async fn layout_version(db: impl Into<Exec<'_>>, id: &RealmId) -> Result<i64, StoreError> {
    Ok(sql!(
        db,
        query_scalar!("SELECT layout_version FROM realm WHERE id = $1", id).fetch_optional
    )?
    .unwrap_or_default())
}

/// Records that the realm was brought to layout `version`.
pub async fn set_layout_version(
    db: impl Into<Exec<'_>>,
    id: &RealmId,
    version: i64,
) -> Result<(), StoreError> {
    sql!(
        db,
        query!(
            "UPDATE realm SET layout_version = $1 WHERE id = $2",
            version,
            id
        )
        .execute
    )?;
    Ok(())
}
