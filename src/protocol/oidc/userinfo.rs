//! `userinfo`: the profile behind a live access token, sent as a Bearer header or (on POST) as
//! the `access_token` form field. As Keycloak's: 401 with an empty body and a Bearer challenge
//! without a valid token, 403 `insufficient_scope` without `openid`.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::bearer;
use super::claims::Profile;
use super::form::{field, parse_form};
use super::realm_info::enabled_realm;
use super::OidcError;
use crate::state::AppState;

pub async fn userinfo(
    req: HttpRequest,
    state: web::Data<AppState>,
    realm: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, OidcError> {
    let realm = enabled_realm(&state, &realm).await?;
    let name = || realm.name.to_string();
    let form = parse_form(&body);
    let token = match (bearer::bearer_token(&req), field(&form, "access_token")) {
        (Some(_), Some(_)) => {
            return Err(OidcError::InvalidRequest(
                "More than one method used for including an access token".into(),
            ))
        }
        (Some(header), None) => Some(header),
        (None, form_token) => form_token,
    };
    let token = token
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
