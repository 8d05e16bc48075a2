//! `userinfo`: the profile behind a live access token; 401 with a Bearer challenge otherwise.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::bearer;
use super::claims::Profile;
use super::realm_info::enabled_realm;
use super::OidcError;
use crate::state::AppState;

pub async fn userinfo(
    req: HttpRequest,
    state: web::Data<AppState>,
    realm: web::Path<String>,
) -> Result<HttpResponse, OidcError> {
    let realm = enabled_realm(&state, &realm).await?;
    let token = bearer::bearer_token(&req).ok_or(OidcError::InvalidToken("Token not provided"))?;
    let (claims, user) = bearer::verify_access(&state, &realm, token)
        .await?
        .ok_or(OidcError::InvalidToken("Token verification failed"))?;
    let mut body = serde_json::to_value(Profile::of(&user)).map_err(anyhow::Error::from)?;
    body["sub"] = json!(claims.sub);
    Ok(HttpResponse::Ok().json(body))
}
