//! Access-token verification shared by userinfo, introspection and the admin API: a valid
//! RS256 signature by one of the realm's keys, an unexpired `Bearer` token issued by that
//! realm, a session that still exists (a service account's token names its session in its
//! `jti`), a token not revoked (alone or with its client's place in the session), and an
//! enabled user.

use crate::crypto::jwt;
use crate::domain::{Realm, User, UserId};
use crate::protocol::oidc::claims::AccessClaims;
use crate::state::AppState;
use crate::store::{self, StoreError};

/// The claims and user behind a live access token, or `None` for any invalid token.
pub async fn verify_access(
    state: &AppState,
    realm: &Realm,
    token: &str,
) -> Result<Option<(AccessClaims, User)>, StoreError> {
    let keys = match state.keyring.get(&state.db, &realm.id).await {
        Ok(keys) => keys,
        Err(crate::keyring::KeyringError::Store(err)) => return Err(err),
        Err(_) => return Ok(None),
    };
    let Ok(claims) = jwt::verify::<AccessClaims>(token, &keys.keys) else {
        return Ok(None);
    };
    if claims.typ != "Bearer" || !claims.iss.ends_with(&format!("/realms/{}", realm.name)) {
        return Ok(None);
    }
    let Some(session) = crate::protocol::oidc::claims::session_of(&claims) else {
        return Ok(None);
    };
    if store::sessions::find(state.db.read(), &realm.id, session)
        .await?
        .is_none()
    {
        return Ok(None);
    }
    if store::revocations::access_revoked(
        state.db.read(),
        &realm.id,
        &claims.jti,
        session,
        &claims.azp,
        claims.iat,
    )
    .await?
    {
        return Ok(None);
    }
    let Some(user_id) = UserId::parse(&claims.sub) else {
        return Ok(None);
    };
    let user = store::users::find_by_id(state.db.read(), &realm.id, &user_id)
        .await?
        .filter(|u| u.enabled);
    Ok(user.map(|user| (claims, user)))
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
