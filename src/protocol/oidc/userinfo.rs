//! `userinfo`: the profile behind a live access token, sent as a Bearer header or (on POST) as
//! the `access_token` form field. As Keycloak's: 401 with an empty body and a Bearer challenge
//! without a valid token, 403 `insufficient_scope` without `openid`.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

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
    // Keycloak's order: the token itself, its scope, then its session and user.
    let refused = |rejection: bearer::Rejection| OidcError::InvalidToken {
        realm: name(),
        description: rejection.description(),
    };
    let claims = bearer::verify_signed(&state, &realm, token)
        .await?
        .ok_or_else(|| refused(bearer::Rejection::Unverified))?;
    if !claims.scope.split_whitespace().any(|s| s == "openid") {
        return Err(OidcError::InsufficientScope {
            realm: name(),
            description: "Missing openid scope",
        });
    }
    let user = bearer::check_session(&state, &realm, &claims)
        .await?
        .map_err(refused)?;
    let body = UserInfo {
        sub: &claims.sub,
        profile: Profile::of(&user),
    };
    // Keycloak sends two Cache-Control headers here, then Pragma.
    Ok(HttpResponse::Ok()
        .append_header((header::CACHE_CONTROL, "no-store"))
        .append_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(body))
}

/// The userinfo answer in Keycloak's key order: `sub`, then the profile claims.
#[derive(serde::Serialize)]
struct UserInfo<'a> {
    sub: &'a str,
    #[serde(flatten)]
    profile: Profile,
}
