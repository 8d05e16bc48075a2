//! Authorization codes of the OIDC code flow.

use super::{sql, Exec};

use super::StoreError;
use crate::domain::{ClientUuid, RealmId, UserId};

/// A code's grant, as stored.
#[derive(Debug, Clone)]
pub struct AuthCode {
    pub realm_id: RealmId,
    pub client_id: ClientUuid,
    pub user_id: UserId,
    pub session_id: String,
    pub redirect_uri: String,
    pub scope: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub expires_at: i64,
    /// Whether the code was issued by single sign-on, without asking for credentials.
    pub sso: bool,
}

pub async fn insert(
    db: impl Into<Exec<'_>>,
    code_hash: &[u8],
    code: &AuthCode,
) -> Result<(), StoreError> {
    sql!(
        db,
        query!(
        "INSERT INTO auth_code (code_hash, realm_id, client_id, user_id, session_id, redirect_uri,
            scope, nonce, code_challenge, code_challenge_method, expires_at, sso)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        code_hash,
        code.realm_id,
        code.client_id,
        code.user_id,
        code.session_id,
        code.redirect_uri,
        code.scope,
        code.nonce,
        code.code_challenge,
        code.code_challenge_method,
        code.expires_at,
        code.sso,
    )
        .execute
    )?;
    Ok(())
}

/// Removes and returns a code: a second use finds nothing.
pub async fn take(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    code_hash: &[u8],
) -> Result<Option<AuthCode>, StoreError> {
    Ok(sql!(db, query_as!(
        AuthCode,
        r#"DELETE FROM auth_code WHERE code_hash = $1 AND realm_id = $2
         RETURNING realm_id AS "realm_id!: _", client_id AS "client_id!: _", user_id AS "user_id!: _",
            session_id AS "session_id!", redirect_uri AS "redirect_uri!", scope, nonce, code_challenge,
            code_challenge_method, expires_at AS "expires_at!", sso AS "sso!: bool""#,
        code_hash,
        realm
    ).fetch_optional)?)
}
