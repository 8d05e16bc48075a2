//! Access-token verification shared by userinfo, introspection and the admin API: a valid
//! RS256 signature by one of the realm's keys, an unexpired `Bearer` token issued by that
//! realm, a session that is still alive (a service account's token names its session in its
//! `jti`), a token not revoked (alone or with its client's place in the session), and an
//! enabled user.

use crate::crypto::jwt;
use crate::domain::{Realm, User, UserId};
use crate::protocol::oidc::claims::AccessClaims;
use crate::state::AppState;
use crate::store::{self, StoreError};

/// Why an access token is refused, worded as Keycloak's userinfo endpoint words it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// A bad signature, an expired token, another type or another realm's.
    Unverified,
    /// Its session no longer exists.
    NoSession,
    /// Its session is past the realm's idle or absolute limit.
    SessionExpired,
    UserNotFound,
    UserDisabled,
}

impl Rejection {
    pub fn description(self) -> &'static str {
        match self {
            Rejection::Unverified => "Token verification failed",
            Rejection::NoSession => "user_session_not_found",
            Rejection::SessionExpired => "session_expired",
            Rejection::UserNotFound => "User not found",
            Rejection::UserDisabled => "User disabled",
        }
    }
}

/// The claims of a token signed by the realm, unexpired, of type `Bearer` and issued by the
/// realm; its session and user are not looked at.
pub async fn verify_signed(
    state: &AppState,
    realm: &Realm,
    token: &str,
) -> Result<Option<AccessClaims>, StoreError> {
    let keys = match state.keyring.get(&state.db, &realm.id).await {
        Ok(keys) => keys,
        Err(crate::keyring::KeyringError::Store(err)) => return Err(err),
        Err(_) => return Ok(None),
    };
    Ok(jwt::verify::<AccessClaims>(token, &keys.keys)
        .ok()
        .filter(|c| c.typ == "Bearer" && c.iss.ends_with(&format!("/realms/{}", realm.name))))
}

/// The user behind verified claims, if their session is alive and the user enabled.
pub async fn check_session(
    state: &AppState,
    realm: &Realm,
    claims: &AccessClaims,
) -> Result<Result<User, Rejection>, StoreError> {
    let Some(session_id) = crate::protocol::oidc::claims::session_of(claims) else {
        return Ok(Err(Rejection::NoSession));
    };
    let Some(session) = store::sessions::find(state.db.read(), &realm.id, session_id).await? else {
        return Ok(Err(Rejection::NoSession));
    };
    let now = state.clock.now_secs();
    if !super::token::session_alive(realm, session.started_at, session.last_access_at, now) {
        return Ok(Err(Rejection::SessionExpired));
    }
    if store::revocations::access_revoked(
        state.db.read(),
        &realm.id,
        &claims.jti,
        session_id,
        &claims.azp,
        claims.iat,
    )
    .await?
    {
        return Ok(Err(Rejection::Unverified));
    }
    let Some(user_id) = UserId::parse(&claims.sub) else {
        return Ok(Err(Rejection::UserNotFound));
    };
    Ok(
        match store::users::find_by_id(state.db.read(), &realm.id, &user_id).await? {
            None => Err(Rejection::UserNotFound),
            Some(user) if !user.enabled => Err(Rejection::UserDisabled),
            Some(user) => Ok(user),
        },
    )
}

/// The claims and user behind a live access token, or `None` for any invalid token.
pub async fn verify_access(
    state: &AppState,
    realm: &Realm,
    token: &str,
) -> Result<Option<(AccessClaims, User)>, StoreError> {
    let Some(claims) = verify_signed(state, realm, token).await? else {
        return Ok(None);
    };
    Ok(check_session(state, realm, &claims)
        .await?
        .ok()
        .map(|user| (claims, user)))
}

/// The realm named by an unverified token's `iss` (`.../realms/{name}`); the signature is
/// then checked with that realm's keys.
pub fn issuer_realm(token: &str) -> Option<String> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let iss = value.get("iss")?.as_str()?;
    let (_, name) = iss.rsplit_once("/realms/")?;
    (!name.is_empty() && !name.contains('/')).then(|| name.to_owned())
}

/// The token of an `Authorization: Bearer` header.
pub fn bearer_token(req: &actix_web::HttpRequest) -> Option<&str> {
    req.headers()
        .get(actix_web::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
}
