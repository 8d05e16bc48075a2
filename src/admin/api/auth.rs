//! Bearer-token authentication of admin REST calls: an access token issued by any realm of
//! this server, still backed by a live session of an enabled user.

use actix_web::{web, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

use super::error::ApiError;
use crate::admin::ops::access::Actor;
use crate::protocol::login;
use crate::protocol::oidc::bearer;
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
            let token = bearer::bearer_token(&req).ok_or(ApiError::Unauthorized)?;
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
    let realm_name = bearer::issuer_realm(token).ok_or(ApiError::Unauthorized)?;
    let realm = store::realms::find_by_name(state.db.read(), &realm_name)
        .await?
        .filter(|r| r.enabled)
        .ok_or(ApiError::Unauthorized)?;
    let (_, user) = bearer::verify_access(state, &realm, token)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    Actor::load(state, &realm, &user.id, user.username.to_string(), ip)
        .await
        .map_err(ApiError::from)
}
