//! Login events and admin events.

use std::collections::BTreeMap;

use sqlx::SqliteExecutor;

use super::{to_json, Db, StoreError};
use crate::domain::RealmId;

/// A login event to record (LOGIN, LOGIN_ERROR, ...).
#[derive(Debug, Clone)]
pub struct LoginEvent {
    pub realm_id: RealmId,
    pub event_type: &'static str,
    pub user_id: Option<String>,
    pub client_id: Option<String>,
    pub ip_address: Option<String>,
    pub error: Option<String>,
    pub details: BTreeMap<&'static str, String>,
}

/// Stores login events recorded at the given times (ms), all in one statement: the batch
/// travels as one JSON array, so a burst of sign-ins costs one write. Events of a realm
/// deleted in the meantime are dropped with it.
pub async fn insert_logins(db: &Db, events: &[(i64, LoginEvent)]) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let rows: Vec<serde_json::Value> = events
        .iter()
        .map(|(time_ms, event)| {
            serde_json::json!({
                "id": uuid::Uuid::new_v4().to_string(),
                "realm_id": event.realm_id,
                "time_ms": time_ms,
                "type": event.event_type,
                "user_id": event.user_id,
                "client_id": event.client_id,
                "ip_address": event.ip_address,
                "error": event.error,
                "details": to_json(&event.details),
            })
        })
        .collect();
    let rows = to_json(&rows);
    // No cached read depends on login events, so this write leaves the read cache warm.
    let mut writer = db.write().acquire().await?;
    let _quiet = db.cache().quiet_writes();
    sqlx::query!(
        "INSERT INTO login_event (id, realm_id, time_ms, type, user_id, client_id, ip_address,
            error, details)
         SELECT value ->> 'id', value ->> 'realm_id', value ->> 'time_ms', value ->> 'type',
            value ->> 'user_id', value ->> 'client_id', value ->> 'ip_address',
            value ->> 'error', value ->> 'details'
         FROM json_each(?)
         WHERE EXISTS (SELECT 1 FROM realm WHERE realm.id = value ->> 'realm_id')",
        rows
    )
    .execute(&mut *writer)
    .await?;
    Ok(())
}

/// A stored login event.
#[derive(Debug, Clone)]
pub struct StoredLoginEvent {
    pub time_ms: i64,
    pub event_type: String,
    pub user_id: Option<String>,
    pub client_id: Option<String>,
    pub ip_address: Option<String>,
    pub error: Option<String>,
    pub details: String,
}

/// An admin event to record: who changed what.
#[derive(Debug, Clone)]
pub struct AdminEvent {
    pub realm_id: RealmId,
    pub operation_type: &'static str,
    pub resource_type: &'static str,
    pub resource_path: String,
    pub auth_realm_id: Option<String>,
    pub auth_user_id: Option<String>,
    pub ip_address: Option<String>,
    pub representation: Option<String>,
}

pub async fn insert_admin(
    db: impl SqliteExecutor<'_>,
    event: &AdminEvent,
) -> Result<(), StoreError> {
    let id = uuid::Uuid::new_v4().to_string();
    let now = crate::clock::now_ms();
    sqlx::query!(
        "INSERT INTO admin_event (id, realm_id, time_ms, operation_type, resource_type,
            resource_path, auth_realm_id, auth_user_id, ip_address, representation)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        id,
        event.realm_id,
        now,
        event.operation_type,
        event.resource_type,
        event.resource_path,
        event.auth_realm_id,
        event.auth_user_id,
        event.ip_address,
        event.representation,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Which login events a listing returns; absent fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct LoginEventFilter {
    pub event_type: Option<String>,
    /// Events about this user id...
    pub user_id: Option<String>,
    /// ...or naming this username in their details (failed sign-ins of unknown users have
    /// no user id).
    pub username: Option<String>,
    pub client_id: Option<String>,
    /// From this epoch millisecond (inclusive).
    pub from_ms: Option<i64>,
    /// Before this epoch millisecond.
    pub to_ms: Option<i64>,
}

/// A page of the realm's login events matching `filter`, newest first.
pub async fn search_logins(
    db: impl SqliteExecutor<'_>,
    realm: &RealmId,
    filter: &LoginEventFilter,
    first: i64,
    max: i64,
) -> Result<Vec<StoredLoginEvent>, StoreError> {
    Ok(sqlx::query_as!(
        StoredLoginEvent,
        r#"SELECT time_ms, type AS event_type, user_id, client_id, ip_address, error, details
         FROM login_event
         WHERE realm_id = ?1
           AND (?2 IS NULL OR type = ?2)
           AND ((?3 IS NULL AND ?4 IS NULL) OR user_id = ?3
                OR json_extract(details, '$.username') = ?4)
           AND (?5 IS NULL OR client_id = ?5)
           AND (?6 IS NULL OR time_ms >= ?6)
           AND (?7 IS NULL OR time_ms < ?7)
         ORDER BY time_ms DESC, rowid DESC LIMIT ?9 OFFSET ?8"#,
        realm,
        filter.event_type,
        filter.user_id,
        filter.username,
        filter.client_id,
        filter.from_ms,
        filter.to_ms,
        first,
        max
    )
    .fetch_all(db)
    .await?)
}

/// Which admin events a listing returns; absent fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct AdminEventFilter {
    pub operation_type: Option<String>,
    pub resource_type: Option<String>,
    /// The id of the administrator who made the change.
    pub auth_user_id: Option<String>,
    /// From this epoch millisecond (inclusive).
    pub from_ms: Option<i64>,
    /// Before this epoch millisecond.
    pub to_ms: Option<i64>,
}

/// A stored admin event.
#[derive(Debug, Clone)]
pub struct StoredAdminEvent {
    pub time_ms: i64,
    pub operation_type: String,
    pub resource_type: String,
    pub resource_path: String,
    pub auth_realm_id: Option<String>,
    pub auth_user_id: Option<String>,
    pub ip_address: Option<String>,
    pub representation: Option<String>,
}

/// A page of the realm's admin events matching `filter`, newest first.
pub async fn search_admin(
    db: impl SqliteExecutor<'_>,
    realm: &RealmId,
    filter: &AdminEventFilter,
    first: i64,
    max: i64,
) -> Result<Vec<StoredAdminEvent>, StoreError> {
    Ok(sqlx::query_as!(
        StoredAdminEvent,
        r#"SELECT time_ms, operation_type, resource_type, resource_path, auth_realm_id,
            auth_user_id, ip_address, representation
         FROM admin_event
         WHERE realm_id = ?1
           AND (?2 IS NULL OR operation_type = ?2)
           AND (?3 IS NULL OR resource_type = ?3)
           AND (?4 IS NULL OR auth_user_id = ?4)
           AND (?5 IS NULL OR time_ms >= ?5)
           AND (?6 IS NULL OR time_ms < ?6)
         ORDER BY time_ms DESC, rowid DESC LIMIT ?8 OFFSET ?7"#,
        realm,
        filter.operation_type,
        filter.resource_type,
        filter.auth_user_id,
        filter.from_ms,
        filter.to_ms,
        first,
        max
    )
    .fetch_all(db)
    .await?)
}
