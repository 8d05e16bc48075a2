//! Single sign-on cookies of the code flow.

use super::{sql, Exec};

use super::sessions::Session;
use super::StoreError;
use crate::domain::RealmId;

/// Binds a cookie's digest to a session.
pub async fn insert(
    db: impl Into<Exec<'_>>,
    token_hash: &[u8],
    session_id: &str,
) -> Result<(), StoreError> {
    sql!(
        db,
        query!(
            "INSERT INTO sso_cookie (token_hash, session_id) VALUES ($1, $2)",
            token_hash,
            session_id
        )
        .execute
    )?;
    Ok(())
}

/// The session a cookie names, in this realm.
pub async fn session(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    token_hash: &[u8],
) -> Result<Option<Session>, StoreError> {
    Ok(sql!(
        db,
        query_as!(
            Session,
            r#"SELECT s.id, s.realm_id AS "realm_id: _", s.user_id AS "user_id: _", s.ip_address,
            s.started_at, s.last_access_at, s.user_agent, s.client
         FROM sso_cookie c JOIN user_session s ON s.id = c.session_id
         WHERE c.token_hash = $1 AND s.realm_id = $2"#,
            token_hash,
            realm
        )
        .fetch_optional
    )?)
}
