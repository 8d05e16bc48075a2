//! Refresh tokens (docker identity tokens among them), stored as SHA-256 digests.

use super::{sql, Exec};

use super::sessions::Origin;
use super::{Db, StoreError};
use crate::domain::{ClientUuid, RealmId, UserId};

/// What a refresh token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A docker-v2 identity token: reusable until it expires or is revoked.
    Docker,
    /// An OIDC refresh token tied to a session.
    Refresh,
    /// An OIDC offline token.
    Offline,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::Docker => "docker",
            TokenKind::Refresh => "refresh",
            TokenKind::Offline => "offline",
        }
    }
}

/// A stored refresh token (without the token itself, which is never stored).
#[derive(Debug, Clone)]
pub struct StoredToken {
    pub id: String,
    pub realm_id: RealmId,
    pub user_id: UserId,
    pub client_id: ClientUuid,
    pub session_id: Option<String>,
    pub kind: String,
    pub ip_address: Option<String>,
    pub created_at: i64,
    pub last_used_at: i64,
    pub expires_at: i64,
    /// Whether the login this token continues was single sign-on (`acr` "0").
    pub sso: bool,
    /// The `auth_time` of the login this token continues, if it has one.
    pub auth_time: Option<i64>,
    /// The user agent of the program the token was issued to (capped where it is recorded).
    pub user_agent: Option<String>,
}

/// A token to insert.
pub struct NewToken<'a> {
    pub realm_id: &'a RealmId,
    pub user_id: &'a UserId,
    pub client_id: &'a ClientUuid,
    pub session_id: Option<&'a str>,
    pub token_hash: &'a [u8],
    pub kind: TokenKind,
    pub origin: Origin<'a>,
    pub expires_at: i64,
    /// Whether the login this token continues was single sign-on (`acr` "0").
    pub sso: bool,
    /// The `auth_time` of the login this token continues, if it has one.
    pub auth_time: Option<i64>,
}

pub async fn insert(db: impl Into<Exec<'_>>, token: &NewToken<'_>) -> Result<String, StoreError> {
    let id = uuid::Uuid::new_v4().to_string();
    let now = crate::clock::now_secs();
    let kind = token.kind.as_str();
    sql!(
        db,
        query!(
            "INSERT INTO refresh_token (id, realm_id, user_id, client_id, session_id, token_hash,
            kind, ip_address, created_at, last_used_at, expires_at, sso, auth_time, user_agent)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
            id,
            token.realm_id,
            token.user_id,
            token.client_id,
            token.session_id,
            token.token_hash,
            kind,
            token.origin.ip_address,
            now,
            now,
            token.expires_at,
            token.sso,
            token.auth_time,
            token.origin.user_agent,
        )
        .execute
    )?;
    Ok(id)
}

/// The live (unexpired) token with this digest in this realm.
pub async fn find_live(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    token_hash: &[u8],
    now: i64,
) -> Result<Option<StoredToken>, StoreError> {
    Ok(sql!(db, query_as!(
        StoredToken,
        r#"SELECT id, realm_id AS "realm_id: _", user_id AS "user_id: _",
            client_id AS "client_id: _", session_id, kind, ip_address, created_at, last_used_at, expires_at,
            sso AS "sso: bool", auth_time, user_agent
         FROM refresh_token WHERE token_hash = $1 AND realm_id = $2 AND expires_at > $3"#,
        token_hash,
        realm,
        now
    ).fetch_optional)?)
}

/// `find_live` through the read cache. A token's recorded uses leave its cached copy alone
/// (see [`touch_all`]), so a cached copy that looks expired is read again: its use may have
/// been recorded by another process, or pushed its idle expiry forward.
pub async fn find_live_cached(
    db: &Db,
    realm: &RealmId,
    token_hash: &[u8],
    now: i64,
) -> Result<Option<StoredToken>, StoreError> {
    let cache = db.cache();
    let token = cache
        .get_usable_or_load(
            &cache.tokens_by_digest,
            token_hash.to_vec(),
            |cached| cached.expires_at > now,
            || find_live(db.read(), realm, token_hash, now),
        )
        .await?;
    Ok(token.filter(|t| &t.realm_id == realm && t.expires_at > now))
}

/// Records a use and pushes the idle expiry forward, never past `max_expires_at`.
pub async fn touch(
    db: impl Into<Exec<'_>>,
    id: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), StoreError> {
    sql!(
        db,
        query!(
            "UPDATE refresh_token SET last_used_at = $1, expires_at = $2 WHERE id = $3",
            now,
            expires_at,
            id
        )
        .execute
    )?;
    Ok(())
}

/// One recorded use of a token: its digest, id, the time of the use and the idle expiry it
/// pushes the token to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenUse {
    pub token_hash: Vec<u8>,
    pub id: String,
    pub at: i64,
    pub expires_at: i64,
}

/// `touch` of many tokens, in transactions of at most 1,000. Uses change no cached entry
/// (migration 0024 leaves them out of the change log); the cached copies of the tokens are
/// updated in place, so that their next refresh does not record the use again.
pub async fn touch_all(db: &Db, uses: &[TokenUse]) -> Result<(), StoreError> {
    let cache = db.cache();
    for chunk in uses.chunks(1000) {
        let mut tx = db.begin().await?;
        cache.recording_uses(true);
        let written = record_uses(&mut tx, chunk).await;
        let committed = match written {
            Ok(()) => tx.commit().await.map_err(StoreError::from),
            Err(err) => Err(err),
        };
        cache.recording_uses(false);
        committed?;
        for used in chunk {
            cache
                .tokens_by_digest
                .update(used.token_hash.as_slice(), |token| {
                    token.last_used_at = used.at;
                    token.expires_at = used.expires_at;
                });
        }
    }
    Ok(())
}

async fn record_uses(tx: &mut super::Tx, uses: &[TokenUse]) -> Result<(), StoreError> {
    for used in uses {
        touch(&mut *tx, &used.id, used.at, used.expires_at).await?;
    }
    Ok(())
}

/// The user's live tokens, newest first.
pub async fn list_for_user(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    user: &UserId,
    now: i64,
) -> Result<Vec<StoredToken>, StoreError> {
    Ok(sql!(db, query_as!(
        StoredToken,
        r#"SELECT id, realm_id AS "realm_id: _", user_id AS "user_id: _",
            client_id AS "client_id: _", session_id, kind, ip_address, created_at, last_used_at, expires_at,
            sso AS "sso: bool", auth_time, user_agent
         FROM refresh_token WHERE realm_id = $1 AND user_id = $2 AND expires_at > $3
         ORDER BY created_at DESC"#,
        realm,
        user,
        now
    ).fetch_all)?)
}

/// A live token of the realm with its user's name and its client's clientId.
#[derive(Debug, Clone)]
pub struct RealmToken {
    pub id: String,
    pub user_id: UserId,
    pub username: String,
    pub client_id: String,
    pub kind: String,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: i64,
    pub last_used_at: i64,
    pub expires_at: i64,
}

/// `max` of the realm's live tokens from `first`, most recently used first.
pub async fn list_for_realm(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    now: i64,
    first: i64,
    max: i64,
) -> Result<Vec<RealmToken>, StoreError> {
    Ok(sql!(
        db,
        query_as!(
            RealmToken,
            r#"SELECT t.id AS "id!", t.user_id AS "user_id!: _", u.username AS "username!",
            c.client_id AS "client_id!", t.kind AS "kind!", t.ip_address, t.user_agent,
            t.created_at AS "created_at!", t.last_used_at AS "last_used_at!",
            t.expires_at AS "expires_at!"
         FROM refresh_token t JOIN app_user u ON u.id = t.user_id
            JOIN client c ON c.id = t.client_id
         WHERE t.realm_id = $1 AND t.expires_at > $2
         ORDER BY t.last_used_at DESC, t.id LIMIT $3 OFFSET $4"#,
            realm,
            now,
            max,
            first
        )
        .fetch_all
    )?)
}

/// Revokes one of the user's tokens by id.
pub async fn revoke(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    user: &UserId,
    id: &str,
) -> Result<bool, StoreError> {
    let done = sql!(
        db,
        query!(
            "DELETE FROM refresh_token WHERE id = $1 AND realm_id = $2 AND user_id = $3",
            id,
            realm,
            user
        )
        .execute
    )?;
    Ok(done == 1)
}

/// Revokes a token by its digest (OAuth revocation, logout).
pub async fn revoke_by_hash(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    token_hash: &[u8],
) -> Result<bool, StoreError> {
    let done = sql!(
        db,
        query!(
            "DELETE FROM refresh_token WHERE token_hash = $1 AND realm_id = $2",
            token_hash,
            realm
        )
        .execute
    )?;
    Ok(done == 1)
}

/// Revokes every token of the user (password change, disable).
pub async fn revoke_all_for_user(
    db: impl Into<Exec<'_>>,
    user: &UserId,
) -> Result<u64, StoreError> {
    let done = sql!(
        db,
        query!("DELETE FROM refresh_token WHERE user_id = $1", user).execute
    )?;
    Ok(done)
}
