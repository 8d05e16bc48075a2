//! Sign-in sessions (Keycloak's user sessions).

use super::{sql, Exec};

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
    /// The user agent of the program that signed in (capped where it is recorded).
    pub user_agent: Option<String>,
    /// The clientId of the client the session was started through.
    pub client: Option<String>,
}

/// Where a session or token was made from: the caller's address and user agent.
#[derive(Debug, Clone, Copy, Default)]
pub struct Origin<'a> {
    pub ip_address: Option<&'a str>,
    pub user_agent: Option<&'a str>,
}

/// Starts a session of `user` through the client `client` (a clientId); returns its id.
pub async fn insert(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    user: &UserId,
    client: &str,
    origin: Origin<'_>,
) -> Result<String, StoreError> {
    let id = uuid::Uuid::new_v4().to_string();
    let now = crate::clock::now_secs();
    sql!(
        db,
        query!(
            "INSERT INTO user_session (id, realm_id, user_id, ip_address, started_at,
            last_access_at, user_agent, client)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            id,
            realm,
            user,
            origin.ip_address,
            now,
            now,
            origin.user_agent,
            client
        )
        .execute
    )?;
    Ok(id)
}

pub async fn find(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    id: &str,
) -> Result<Option<Session>, StoreError> {
    Ok(sql!(db, query_as!(
        Session,
        r#"SELECT id, realm_id AS "realm_id: _", user_id AS "user_id: _", ip_address, started_at, last_access_at,
            user_agent, client
         FROM user_session WHERE id = $1 AND realm_id = $2"#,
        id,
        realm
    ).fetch_optional)?)
}

/// The user's sessions, newest first.
pub async fn list_for_user(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    user: &UserId,
) -> Result<Vec<Session>, StoreError> {
    Ok(sql!(db, query_as!(
        Session,
        r#"SELECT id, realm_id AS "realm_id: _", user_id AS "user_id: _", ip_address, started_at, last_access_at,
            user_agent, client
         FROM user_session WHERE realm_id = $1 AND user_id = $2 ORDER BY started_at DESC"#,
        realm,
        user
    ).fetch_all)?)
}

/// A session of the realm with its user's name.
#[derive(Debug, Clone)]
pub struct RealmSession {
    pub id: String,
    pub user_id: UserId,
    pub username: String,
    pub ip_address: Option<String>,
    pub started_at: i64,
    pub last_access_at: i64,
    pub user_agent: Option<String>,
    pub client: Option<String>,
}

/// `max` of the realm's sessions from `first`, most recently used first.
pub async fn list_for_realm(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    first: i64,
    max: i64,
) -> Result<Vec<RealmSession>, StoreError> {
    Ok(sql!(
        db,
        query_as!(
            RealmSession,
            r#"SELECT s.id AS "id!", s.user_id AS "user_id!: _", u.username AS "username!",
            s.ip_address, s.started_at AS "started_at!", s.last_access_at AS "last_access_at!",
            s.user_agent, s.client
         FROM user_session s JOIN app_user u ON u.id = s.user_id
         WHERE s.realm_id = $1
         ORDER BY s.last_access_at DESC, s.id LIMIT $2 OFFSET $3"#,
            realm,
            max,
            first
        )
        .fetch_all
    )?)
}

pub async fn touch(db: impl Into<Exec<'_>>, id: &str, now: i64) -> Result<(), StoreError> {
    sql!(
        db,
        query!(
            "UPDATE user_session SET last_access_at = $1 WHERE id = $2",
            now,
            id
        )
        .execute
    )?;
    Ok(())
}

/// Ends a session; its refresh tokens go with it.
pub async fn delete(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    id: &str,
) -> Result<bool, StoreError> {
    let done = sql!(
        db,
        query!(
            "DELETE FROM user_session WHERE id = $1 AND realm_id = $2",
            id,
            realm
        )
        .execute
    )?;
    Ok(done == 1)
}

/// Ends every session of the user.
pub async fn delete_for_user(db: impl Into<Exec<'_>>, user: &UserId) -> Result<u64, StoreError> {
    let done = sql!(
        db,
        query!("DELETE FROM user_session WHERE user_id = $1", user).execute
    )?;
    Ok(done)
}
