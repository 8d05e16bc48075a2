//! Realms and their settings.

use sqlx::SqliteExecutor;

use super::{conflict_on_unique, Db, StoreError};
use crate::domain::{Realm, RealmId};

/// Inserts a new realm; a taken name is a conflict.
pub async fn insert(db: impl SqliteExecutor<'_>, realm: &Realm) -> Result<(), StoreError> {
    let now = crate::clock::now_secs();
    sqlx::query!(
        "INSERT INTO realm (id, name, display_name, enabled, access_token_lifespan,
            sso_session_idle_timeout, sso_session_max_lifespan, offline_session_idle_timeout,
            brute_force_protected, permanent_lockout, failure_factor, wait_increment_seconds,
            max_failure_wait_seconds, minimum_quick_login_wait_seconds,
            quick_login_check_milli_seconds, max_delta_time_seconds, events_enabled,
            events_expiration, enabled_event_types, admin_events_enabled,
            admin_events_details_enabled, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
    )
    .execute(db)
    .await
    .map_err(conflict_on_unique(
        "Conflict detected. See logs for details",
    ))
    .map(drop)
}

/// Writes every setting of an existing realm (the name included).
pub async fn update(db: impl SqliteExecutor<'_>, realm: &Realm) -> Result<bool, StoreError> {
    let done = sqlx::query!(
        "UPDATE realm SET name = ?, display_name = ?, enabled = ?, access_token_lifespan = ?,
            sso_session_idle_timeout = ?, sso_session_max_lifespan = ?,
            offline_session_idle_timeout = ?, brute_force_protected = ?, permanent_lockout = ?,
            failure_factor = ?, wait_increment_seconds = ?, max_failure_wait_seconds = ?,
            minimum_quick_login_wait_seconds = ?, quick_login_check_milli_seconds = ?,
            max_delta_time_seconds = ?, events_enabled = ?, events_expiration = ?,
            enabled_event_types = ?, admin_events_enabled = ?, admin_events_details_enabled = ?
         WHERE id = ?",
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
    )
    .execute(db)
    .await
    .map_err(conflict_on_unique(format!(
        "Realm {} already exists",
        realm.name
    )))?;
    Ok(done.rows_affected() == 1)
}

/// Deletes a realm and, through the cascading keys, everything in it.
pub async fn delete(db: impl SqliteExecutor<'_>, id: &RealmId) -> Result<bool, StoreError> {
    let done = sqlx::query!("DELETE FROM realm WHERE id = ?", id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn find_by_name(
    db: impl SqliteExecutor<'_>,
    name: &str,
) -> Result<Option<Realm>, StoreError> {
    Ok(sqlx::query_as!(
        Realm,
        r#"SELECT id AS "id: _", name AS "name: _", display_name, enabled,
            access_token_lifespan, sso_session_idle_timeout, sso_session_max_lifespan,
            offline_session_idle_timeout, brute_force_protected, permanent_lockout,
            failure_factor, wait_increment_seconds, max_failure_wait_seconds,
            minimum_quick_login_wait_seconds, quick_login_check_milli_seconds,
            max_delta_time_seconds, events_enabled, events_expiration,
            enabled_event_types AS "enabled_event_types: _", admin_events_enabled,
            admin_events_details_enabled
         FROM realm WHERE name = ?"#,
        name
    )
    .fetch_optional(db)
    .await?)
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
pub async fn list(db: impl SqliteExecutor<'_>) -> Result<Vec<Realm>, StoreError> {
    Ok(sqlx::query_as!(
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
    .fetch_all(db)
    .await?)
}

/// Which layout of built-in clients and roles the realm was brought to (0: made before any).
pub async fn layout_version(db: impl SqliteExecutor<'_>, id: &RealmId) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar!("SELECT layout_version FROM realm WHERE id = ?", id)
            .fetch_optional(db)
            .await?
            .unwrap_or_default(),
    )
}

/// Records that the realm was brought to layout `version`.
pub async fn set_layout_version(
    db: impl SqliteExecutor<'_>,
    id: &RealmId,
    version: i64,
) -> Result<(), StoreError> {
    sqlx::query!(
        "UPDATE realm SET layout_version = ? WHERE id = ?",
        version,
        id
    )
    .execute(db)
    .await?;
    Ok(())
}
