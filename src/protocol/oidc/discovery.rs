//! `/.well-known/openid-configuration`: every URL built from the base the client used.

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::realm_info::enabled_realm;
use super::OidcError;
use crate::http::Base;
use crate::state::AppState;

pub async fn configuration(
    state: web::Data<AppState>,
    realm: web::Path<String>,
    base: Base,
) -> Result<HttpResponse, OidcError> {
    let realm = enabled_realm(&state, &realm).await?;
    let issuer = base.issuer(realm.name.as_str());
    let endpoint = |path: &str| format!("{issuer}/protocol/openid-connect{path}");
    Ok(HttpResponse::Ok().json(json!({
        "issuer": issuer,
        "authorization_endpoint": endpoint("/auth"),
        "token_endpoint": endpoint("/token"),
        "introspection_endpoint": endpoint("/token/introspect"),
        "userinfo_endpoint": endpoint("/userinfo"),
        "end_session_endpoint": endpoint("/logout"),
        "revocation_endpoint": endpoint("/revoke"),
        "jwks_uri": endpoint("/certs"),
        "grant_types_supported": ["authorization_code", "refresh_token", "password", "client_credentials"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "userinfo_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["plain", "S256"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "name", "given_name",
            "family_name", "preferred_username", "email", "email_verified"],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "frontchannel_logout_supported": false,
        "backchannel_logout_supported": false,
    })))
}
