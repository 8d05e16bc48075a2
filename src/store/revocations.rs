//! Revocations short of ending a session: single access tokens by `jti`, and a client taken
//! out of a session (Keycloak's detached client session). Also the clients of sessions,
//! read from the sessions' live refresh tokens.

use super::{sql, Exec};

use super::sessions::Session;
use super::StoreError;
use crate::domain::{ClientUuid, RealmId};

/// Remembers a revoked access token until it expires, and forgets expired ones.
pub async fn revoke_access(
    db: &super::Pool,
    realm: &RealmId,
    jti: &str,
    expires_at: i64,
    now: i64,
) -> Result<(), StoreError> {
    sql!(
        db,
        query!(
            "DELETE FROM revoked_access_token WHERE expires_at < $1",
            now
        )
        .execute
    )?;
    sql!(
        db,
        query!(
            "INSERT INTO revoked_access_token (jti, realm_id, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (jti) DO NOTHING",
            jti,
            realm,
            expires_at
        )
        .execute
    )?;
    Ok(())
}

/// Whether an access token (its `jti`, session, `azp` and `iat`) was revoked, on its own or
/// with its client's place in the session.
pub async fn access_revoked(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    jti: &str,
    session: &str,
    azp: &str,
    issued_at: i64,
) -> Result<bool, StoreError> {
    let found = sql!(
        db,
        query_scalar!(
            r#"SELECT CAST(1 AS BIGINT) AS "hit!: i64" FROM revoked_access_token WHERE jti = $1
           UNION ALL
           SELECT CAST(1 AS BIGINT) FROM client_session_revocation r JOIN client c ON c.id = r.client_id
            WHERE r.session_id = $2 AND c.realm_id = $3 AND c.client_id = $4 AND r.revoked_at >= $5
           LIMIT 1"#,
            jti,
            session,
            realm,
            azp,
            issued_at
        )
        .fetch_optional
    )?;
    Ok(found.is_some())
}

/// Whether the client `azp` was taken out of `session` after issuing a token at `issued_at`.
pub async fn client_detached(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    session: &str,
    azp: &str,
    issued_at: i64,
) -> Result<bool, StoreError> {
    let found = sql!(db, query_scalar!(
        r#"SELECT CAST(1 AS BIGINT) AS "hit!: i64" FROM client_session_revocation r
           JOIN client c ON c.id = r.client_id
           WHERE r.session_id = $1 AND c.realm_id = $2 AND c.client_id = $3 AND r.revoked_at >= $4"#,
        session,
        realm,
        azp,
        issued_at
    ).fetch_optional)?;
    Ok(found.is_some())
}

/// Takes `client` out of `session`: its refresh tokens there are deleted and the access
/// tokens it was issued there until `now` stop working. Returns whether the session still
/// has other clients.
pub async fn detach_client(
    db: &super::Pool,
    session: &str,
    client: &ClientUuid,
    now: i64,
) -> Result<bool, StoreError> {
    let mut tx = db.begin().await?;
    sql!(
        &mut *tx,
        query!(
            "DELETE FROM refresh_token WHERE session_id = $1 AND client_id = $2",
            session,
            client
        )
        .execute
    )?;
    sql!(
        &mut *tx,
        query!(
            "INSERT INTO client_session_revocation (session_id, client_id, revoked_at)
         VALUES ($1, $2, $3)
         ON CONFLICT (session_id, client_id) DO UPDATE SET revoked_at = excluded.revoked_at",
            session,
            client,
            now
        )
        .execute
    )?;
    let others = sql!(
        &mut *tx,
        query_scalar!(
            r#"SELECT COUNT(*) AS "n!: i64" FROM refresh_token
           WHERE session_id = $1 AND expires_at > $2 AND kind <> 'docker'"#,
            session,
            now
        )
        .fetch_one
    )?;
    tx.commit().await?;
    Ok(others > 0)
}

/// A client of a session: its internal id and its clientId.
#[derive(Debug, Clone)]
pub struct SessionClient {
    pub session_id: String,
    pub client_uuid: ClientUuid,
    pub client_id: String,
}

/// The clients of the realm's sessions (those holding live refresh tokens), by session.
pub async fn session_clients(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    now: i64,
) -> Result<Vec<SessionClient>, StoreError> {
    Ok(sql!(
        db,
        query_as!(
            SessionClient,
            r#"SELECT DISTINCT t.session_id AS "session_id!", c.id AS "client_uuid: _",
                c.client_id
           FROM refresh_token t JOIN client c ON c.id = t.client_id
           WHERE t.realm_id = $1 AND t.session_id IS NOT NULL AND t.expires_at > $2
             AND t.kind <> 'docker'
           ORDER BY c.client_id"#,
            realm,
            now
        )
        .fetch_all
    )?)
}

/// The sessions in which `client` holds live refresh tokens, oldest first.
pub async fn sessions_of_client(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    client: &ClientUuid,
    now: i64,
) -> Result<Vec<Session>, StoreError> {
    Ok(sql!(
        db,
        query_as!(
            Session,
            r#"SELECT s.id, s.realm_id AS "realm_id: _", s.user_id AS "user_id: _", s.ip_address,
                s.started_at, s.last_access_at, s.user_agent, s.client
           FROM user_session s
           WHERE s.realm_id = $1 AND EXISTS (
               SELECT 1 FROM refresh_token t
               WHERE t.session_id = s.id AND t.client_id = $2 AND t.expires_at > $3
                 AND t.kind <> 'docker')
           ORDER BY s.started_at, s.id"#,
            realm,
            client,
            now
        )
        .fetch_all
    )?)
}

/// Ends every session of the realm.
pub async fn end_realm_sessions(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
) -> Result<u64, StoreError> {
    let done = sql!(
        db,
        query!("DELETE FROM user_session WHERE realm_id = $1", realm).execute
    )?;
    Ok(done)
}
