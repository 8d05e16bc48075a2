//! Admin console sign-ins: a user session plus the console's cookie digest and CSRF token.

use super::{sql, Exec};

use super::StoreError;
use crate::domain::{RealmId, UserId};

/// A console sign-in as loaded for a request.
#[derive(Debug, Clone)]
pub struct ConsoleSession {
    /// The underlying user session's id.
    pub session_id: String,
    pub realm_id: RealmId,
    pub user_id: UserId,
    pub csrf_token: String,
    pub started_at: i64,
    pub last_access_at: i64,
}

/// Attaches a console cookie (by digest) and a CSRF token to an existing user session.
pub async fn insert(
    db: impl Into<Exec<'_>>,
    token_hash: &[u8],
    session_id: &str,
    csrf_token: &str,
) -> Result<(), StoreError> {
    sql!(
        db,
        query!(
            "INSERT INTO console_session (token_hash, session_id, csrf_token) VALUES ($1, $2, $3)",
            token_hash,
            session_id,
            csrf_token
        )
        .execute
    )?;
    Ok(())
}

/// The console sign-in whose cookie has this digest, with its session's times.
pub async fn find(
    db: impl Into<Exec<'_>>,
    token_hash: &[u8],
) -> Result<Option<ConsoleSession>, StoreError> {
    Ok(sql!(
        db,
        query_as!(
            ConsoleSession,
            r#"SELECT s.id AS session_id, s.realm_id AS "realm_id: _", s.user_id AS "user_id: _",
            c.csrf_token, s.started_at, s.last_access_at
         FROM console_session c JOIN user_session s ON s.id = c.session_id
         WHERE c.token_hash = $1"#,
            token_hash
        )
        .fetch_optional
    )?)
}
