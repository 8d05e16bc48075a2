//! Login events and admin events: storing them (login events in batches, details capped),
//! listing, clearing, and pruning expired ones in bounded batches.

use std::collections::BTreeMap;

use super::{sql, Exec};

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

/// The most characters kept of one detail value (a docker scope string, say).
pub const MAX_DETAIL_CHARS: usize = 256;
/// The most bytes kept of all detail values of one event together.
pub const MAX_DETAILS_BYTES: usize = 1024;
/// The most characters kept of an event's other free-text fields (client id, error, address).
const MAX_FIELD_CHARS: usize = 256;

/// `text` cut to at most `chars` characters, its memory given back.
fn truncated(text: &mut String, chars: usize) {
    if let Some((end, _)) = text.char_indices().nth(chars) {
        text.truncate(end);
    }
    text.shrink_to_fit();
}

impl LoginEvent {
    /// The event with every value cut to its bound: each detail value to `MAX_DETAIL_CHARS`
    /// characters, and the details together to `MAX_DETAILS_BYTES` (later ones are emptied).
    pub fn capped(mut self) -> LoginEvent {
        let mut budget = MAX_DETAILS_BYTES;
        for value in self.details.values_mut() {
            truncated(value, MAX_DETAIL_CHARS);
            if value.len() > budget {
                let mut end = budget;
                while !value.is_char_boundary(end) {
                    end -= 1;
                }
                value.truncate(end);
                value.shrink_to_fit();
            }
            budget -= value.len();
        }
        let fields = [
            &mut self.user_id,
            &mut self.client_id,
            &mut self.ip_address,
            &mut self.error,
        ];
        for text in fields.into_iter().flatten() {
            truncated(text, MAX_FIELD_CHARS);
        }
        self
    }

    /// Roughly the bytes the event holds in memory, for bounding the queue of unsaved events.
    pub fn size(&self) -> usize {
        let text = |t: &Option<String>| t.as_ref().map_or(0, String::capacity);
        let details: usize = self
            .details
            .iter()
            .map(|(k, v)| k.len() + v.capacity() + 32)
            .sum();
        std::mem::size_of::<LoginEvent>()
            + text(&self.user_id)
            + text(&self.client_id)
            + text(&self.ip_address)
            + text(&self.error)
            + details
    }
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
    sql!(
        &mut writer,
        query!(
            sqlite: "INSERT INTO login_event (id, realm_id, time_ms, type, user_id, client_id,
            ip_address, error, details)
         SELECT value ->> 'id', value ->> 'realm_id', value ->> 'time_ms', value ->> 'type',
            value ->> 'user_id', value ->> 'client_id', value ->> 'ip_address',
            value ->> 'error', value ->> 'details'
         FROM json_each($1)
         WHERE EXISTS (SELECT 1 FROM realm WHERE realm.id = value ->> 'realm_id')",
            postgres: "INSERT INTO login_event (id, realm_id, time_ms, type, user_id, client_id,
            ip_address, error, details)
         SELECT e.id, e.realm_id, e.time_ms, e.type, e.user_id, e.client_id, e.ip_address,
            e.error, e.details
         FROM jsonb_to_recordset(CAST(CAST($1 AS TEXT) AS JSONB)) AS e (id TEXT, realm_id TEXT,
            time_ms BIGINT, type TEXT, user_id TEXT, client_id TEXT, ip_address TEXT,
            error TEXT, details TEXT)
         WHERE EXISTS (SELECT 1 FROM realm WHERE realm.id = e.realm_id)",
            rows
        )
        .execute
    )?;
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
    /// Stored even though the realm keeps no admin events (the change that switched them off).
    pub even_if_disabled: bool,
}

/// Stores an admin event if its realm keeps admin events (`adminEventsEnabled`, or the event
/// says `even_if_disabled`), with the representation only if it keeps details; the realm's
/// settings are read by the same statement, so the event follows the settings its own
/// transaction sees.
pub async fn insert_admin(db: impl Into<Exec<'_>>, event: &AdminEvent) -> Result<(), StoreError> {
    let id = uuid::Uuid::new_v4().to_string();
    let now = crate::clock::now_ms();
    sql!(
        db,
        query!(
            "INSERT INTO admin_event (id, realm_id, time_ms, operation_type, resource_type,
            resource_path, auth_realm_id, auth_user_id, ip_address, representation)
         SELECT $1, realm.id, $3, $4, $5, $6, $7, $8, $9,
            CASE WHEN realm.admin_events_details_enabled THEN $10 END
         FROM realm WHERE realm.id = $2 AND (realm.admin_events_enabled OR $11)",
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
            event.even_if_disabled,
        )
        .execute
    )?;
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
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    filter: &LoginEventFilter,
    first: i64,
    max: i64,
) -> Result<Vec<StoredLoginEvent>, StoreError> {
    Ok(sql!(db, query_as!(
        StoredLoginEvent,
        sqlite: r#"SELECT time_ms, type AS event_type, user_id, client_id, ip_address, error, details
         FROM login_event
         WHERE realm_id = $1
           AND ($2 IS NULL OR type = $2)
           AND (($3 IS NULL AND $4 IS NULL) OR user_id = $3
                OR json_extract(details, '$.username') = $4)
           AND ($5 IS NULL OR client_id = $5)
           AND ($6 IS NULL OR time_ms >= $6)
           AND ($7 IS NULL OR time_ms < $7)
         ORDER BY time_ms DESC, rowid DESC LIMIT $9 OFFSET $8"#,
        postgres: r#"SELECT time_ms, type AS event_type, user_id, client_id, ip_address, error, details
         FROM login_event
         WHERE realm_id = $1
           AND (CAST($2 AS TEXT) IS NULL OR type = $2)
           AND ((CAST($3 AS TEXT) IS NULL AND CAST($4 AS TEXT) IS NULL) OR user_id = $3
                OR CAST(details AS JSONB) ->> 'username' = $4)
           AND (CAST($5 AS TEXT) IS NULL OR client_id = $5)
           AND (CAST($6 AS BIGINT) IS NULL OR time_ms >= $6)
           AND (CAST($7 AS BIGINT) IS NULL OR time_ms < $7)
         ORDER BY time_ms DESC, seq DESC LIMIT $9 OFFSET $8"#,
        realm,
        filter.event_type,
        filter.user_id,
        filter.username,
        filter.client_id,
        filter.from_ms,
        filter.to_ms,
        first,
        max
    ).fetch_all)?)
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
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    filter: &AdminEventFilter,
    first: i64,
    max: i64,
) -> Result<Vec<StoredAdminEvent>, StoreError> {
    Ok(sql!(db, query_as!(
        StoredAdminEvent,
        sqlite: r#"SELECT time_ms, operation_type, resource_type, resource_path, auth_realm_id,
            auth_user_id, ip_address, representation
         FROM admin_event
         WHERE realm_id = $1
           AND ($2 IS NULL OR operation_type = $2)
           AND ($3 IS NULL OR resource_type = $3)
           AND ($4 IS NULL OR auth_user_id = $4)
           AND ($5 IS NULL OR time_ms >= $5)
           AND ($6 IS NULL OR time_ms < $6)
         ORDER BY time_ms DESC, rowid DESC LIMIT $8 OFFSET $7"#,
        postgres: r#"SELECT time_ms, operation_type, resource_type, resource_path, auth_realm_id,
            auth_user_id, ip_address, representation
         FROM admin_event
         WHERE realm_id = $1
           AND (CAST($2 AS TEXT) IS NULL OR operation_type = $2)
           AND (CAST($3 AS TEXT) IS NULL OR resource_type = $3)
           AND (CAST($4 AS TEXT) IS NULL OR auth_user_id = $4)
           AND (CAST($5 AS BIGINT) IS NULL OR time_ms >= $5)
           AND (CAST($6 AS BIGINT) IS NULL OR time_ms < $6)
         ORDER BY time_ms DESC, seq DESC LIMIT $8 OFFSET $7"#,
        realm,
        filter.operation_type,
        filter.resource_type,
        filter.auth_user_id,
        filter.from_ms,
        filter.to_ms,
        first,
        max
    ).fetch_all)?)
}

/// Which events a clear or prune removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Login,
    Admin,
}

/// Deletes up to `batch` events of the realm older than `before_ms` (all of them with
/// `i64::MAX`) and answers how many went. No cached read depends on events, so the read
/// cache stays warm.
pub async fn delete_batch(
    db: &Db,
    kind: EventKind,
    realm: &RealmId,
    before_ms: i64,
    batch: i64,
) -> Result<u64, StoreError> {
    let mut writer = db.write().acquire().await?;
    let done = match kind {
        EventKind::Login => sql!(&mut writer, query!(
sqlite: "DELETE FROM login_event WHERE rowid IN (SELECT rowid FROM login_event
                    WHERE realm_id = $1 AND time_ms < $2 LIMIT $3)",
                postgres: "DELETE FROM login_event WHERE seq IN (SELECT seq FROM login_event
                    WHERE realm_id = $1 AND time_ms < $2 LIMIT $3)",
                realm,
                before_ms,
                batch
            ).execute)?,
        EventKind::Admin => sql!(&mut writer, query!(
sqlite: "DELETE FROM admin_event WHERE rowid IN (SELECT rowid FROM admin_event
                    WHERE realm_id = $1 AND time_ms < $2 LIMIT $3)",
                postgres: "DELETE FROM admin_event WHERE seq IN (SELECT seq FROM admin_event
                    WHERE realm_id = $1 AND time_ms < $2 LIMIT $3)",
                realm,
                before_ms,
                batch
            ).execute)?,
    };
    Ok(done)
}

/// The time of the realm's `keep`-th newest event (counting from 0), if it has that many:
/// events older than it are beyond the per-realm bound.
pub async fn time_of_nth_newest(
    db: impl Into<Exec<'_>>,
    kind: EventKind,
    realm: &RealmId,
    keep: i64,
) -> Result<Option<i64>, StoreError> {
    Ok(match kind {
        EventKind::Login => sql!(
            db,
            query_scalar!(
                "SELECT time_ms FROM login_event WHERE realm_id = $1
                 ORDER BY time_ms DESC LIMIT 1 OFFSET $2",
                realm,
                keep
            )
            .fetch_optional
        )?,
        EventKind::Admin => sql!(
            db,
            query_scalar!(
                "SELECT time_ms FROM admin_event WHERE realm_id = $1
                 ORDER BY time_ms DESC LIMIT 1 OFFSET $2",
                realm,
                keep
            )
            .fetch_optional
        )?,
    })
}

/// How many events of the kind the realm holds.
pub async fn count(
    db: impl Into<Exec<'_>>,
    kind: EventKind,
    realm: &RealmId,
) -> Result<i64, StoreError> {
    Ok(match kind {
        EventKind::Login => sql!(
            db,
            query_scalar!(
                "SELECT COUNT(*) AS \"count!\" FROM login_event WHERE realm_id = $1",
                realm
            )
            .fetch_one
        )?,
        EventKind::Admin => sql!(
            db,
            query_scalar!(
                "SELECT COUNT(*) AS \"count!\" FROM admin_event WHERE realm_id = $1",
                realm
            )
            .fetch_one
        )?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event_with(details: &[(&'static str, String)]) -> LoginEvent {
        LoginEvent {
            realm_id: RealmId::new(),
            event_type: "LOGIN_ERROR",
            user_id: None,
            client_id: Some("c".repeat(10_000)),
            ip_address: None,
            error: Some("invalid_token".into()),
            details: details.iter().cloned().collect(),
        }
    }

    #[test]
    fn every_detail_is_cut_to_its_bound() {
        let event =
            event_with(&[("scope", "é".repeat(100_000)), ("username", "dev".into())]).capped();
        assert_eq!(event.details["scope"].chars().count(), MAX_DETAIL_CHARS);
        assert_eq!(event.details["username"], "dev");
        assert_eq!(event.client_id.unwrap().len(), MAX_FIELD_CHARS);
    }

    #[test]
    fn the_details_together_are_bounded() {
        let many: Vec<(&'static str, String)> = ["a", "b", "c", "d", "e", "f", "g"]
            .into_iter()
            .map(|k| (k, "x".repeat(1000)))
            .collect();
        let event = event_with(&many).capped();
        let total: usize = event.details.values().map(String::len).sum();
        assert!(total <= MAX_DETAILS_BYTES, "{total}");
        assert!(event.size() < 4096);
    }

    #[test]
    fn a_capped_event_keeps_no_memory_of_what_was_cut() {
        let event = event_with(&[("scope", "s".repeat(300_000))]).capped();
        assert!(event.details["scope"].capacity() <= MAX_DETAIL_CHARS);
        assert!(event.size() < 4096, "{}", event.size());
    }
}
