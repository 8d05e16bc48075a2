//! Bearer-token authentication of admin REST calls: an access token issued by any realm of
//! this server, still backed by a live session of an enabled user.

use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

use super::error::ApiError;
use crate::admin::ops::access::Actor;
use crate::crypto::jwt;
use crate::domain::UserId;
use crate::protocol::login;
use crate::protocol::oidc::claims::AccessClaims;
use crate::state::AppState;
use crate::store;

impl FromRequest for Actor {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Actor, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .expect("AppState is registered")
                .clone();
            let token = req
                .headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| {
                    v.strip_prefix("Bearer ")
                        .or_else(|| v.strip_prefix("bearer "))
                })
                .map(str::trim)
                .ok_or(ApiError::Unauthorized)?;
            let ip = login::client_ip(&req, &state);
            actor_from_token(&state, token, ip).await
        })
    }
}

/// Verifies an access token and loads the administrator it names.
pub async fn actor_from_token(
    state: &AppState,
    token: &str,
    ip: Option<String>,
) -> Result<Actor, ApiError> {
    let realm_name = issuer_realm(token).ok_or(ApiError::Unauthorized)?;
    let realm = store::realms::find_by_name(state.db.read(), &realm_name)
        .await?
        .filter(|r| r.enabled)
        .ok_or(ApiError::Unauthorized)?;
    let keys = state
        .keyring
        .get(&state.db, &realm.id)
        .await
        .map_err(|e| ApiError::Internal(e.into()))?;
    let claims: AccessClaims =
        jwt::verify(token, &keys.keys, None).map_err(|_| ApiError::Unauthorized)?;
    if claims.typ != "Bearer" || !claims.iss.ends_with(&format!("/realms/{}", realm.name)) {
        return Err(ApiError::Unauthorized);
    }
    let session = claims.sid.as_deref().ok_or(ApiError::Unauthorized)?;
    if store::sessions::find(state.db.read(), &realm.id, session)
        .await?
        .is_none()
    {
        return Err(ApiError::Unauthorized);
    }
    let user_id = UserId::parse(&claims.sub).ok_or(ApiError::Unauthorized)?;
    let user = store::users::find_by_id(state.db.read(), &realm.id, &user_id)
        .await?
        .filter(|u| u.enabled)
        .ok_or(ApiError::Unauthorized)?;
    Actor::load(state, &realm, &user.id, user.username.to_string(), ip)
        .await
        .map_err(ApiError::from)
}

/// The realm named by an unverified token's `iss` (`.../realms/{name}`); the signature is
/// then checked with that realm's keys.
fn issuer_realm(token: &str) -> Option<String> {
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
