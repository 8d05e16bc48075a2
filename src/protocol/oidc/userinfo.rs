//! `userinfo`: the profile behind a live access token. As Keycloak's: 401 with an empty body
//! and a Bearer challenge without a valid token, 403 `insufficient_scope` without `openid`.

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
    let name = || realm.name.to_string();
    let token = bearer::bearer_token(&req)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| OidcError::MissingToken { realm: name() })?;
    let (claims, user) = bearer::verify_access(&state, &realm, token)
        .await?
        .ok_or_else(|| OidcError::InvalidToken {
            realm: name(),
            description: "Token verification failed",
        })?;
    if !claims.scope.split_whitespace().any(|s| s == "openid") {
        return Err(OidcError::InsufficientScope {
            realm: name(),
            description: "Missing openid scope",
        });
    }
    let mut body = serde_json::to_value(Profile::of(&user)).map_err(anyhow::Error::from)?;
    body["sub"] = json!(claims.sub);
    Ok(HttpResponse::Ok().json(body))
}
