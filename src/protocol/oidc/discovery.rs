//! `/.well-known/openid-configuration`: every URL built from the base the client used.
//!
//! The keys are those of Keycloak's `OIDCWellKnownProvider`, in its order, for what
//! keywarden implements; a capability keywarden lacks is either declared `false` (where
//! Keycloak declares it) or left out with its endpoint.

use actix_web::{web, HttpResponse};
use serde::Serialize;

use super::realm_info::enabled_realm;
use super::OidcError;
use crate::http::Base;
use crate::state::AppState;

/// The client authentication methods of the token, introspection and revocation endpoints.
const CLIENT_AUTH_METHODS: [&str; 2] = ["client_secret_basic", "client_secret_post"];

/// The discovery document.
#[derive(Serialize)]
struct Configuration {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    introspection_endpoint: String,
    userinfo_endpoint: String,
    end_session_endpoint: String,
    frontchannel_logout_session_supported: bool,
    frontchannel_logout_supported: bool,
    jwks_uri: String,
    grant_types_supported: [&'static str; 4],
    acr_values_supported: [&'static str; 2],
    response_types_supported: [&'static str; 1],
    subject_types_supported: [&'static str; 1],
    prompt_values_supported: [&'static str; 1],
    id_token_signing_alg_values_supported: [&'static str; 2],
    userinfo_signing_alg_values_supported: [&'static str; 1],
    response_modes_supported: [&'static str; 1],
    token_endpoint_auth_methods_supported: [&'static str; 2],
    introspection_endpoint_auth_methods_supported: [&'static str; 2],
    claims_supported: [&'static str; 10],
    claim_types_supported: [&'static str; 1],
    claims_parameter_supported: bool,
    scopes_supported: [&'static str; 7],
    request_parameter_supported: bool,
    request_uri_parameter_supported: bool,
    code_challenge_methods_supported: [&'static str; 2],
    tls_client_certificate_bound_access_tokens: bool,
    revocation_endpoint: String,
    revocation_endpoint_auth_methods_supported: [&'static str; 2],
    backchannel_logout_supported: bool,
    backchannel_logout_session_supported: bool,
    require_pushed_authorization_requests: bool,
    authorization_response_iss_parameter_supported: bool,
}

pub async fn configuration(
    state: web::Data<AppState>,
    realm: web::Path<String>,
    base: Base,
) -> Result<HttpResponse, OidcError> {
    let realm = enabled_realm(&state, &realm).await?;
    let issuer = base.issuer(realm.name.as_str());
    let endpoint = |path: &str| format!("{issuer}/protocol/openid-connect{path}");
    Ok(HttpResponse::Ok().json(Configuration {
        authorization_endpoint: endpoint("/auth"),
        token_endpoint: endpoint("/token"),
        introspection_endpoint: endpoint("/token/introspect"),
        userinfo_endpoint: endpoint("/userinfo"),
        end_session_endpoint: endpoint("/logout"),
        frontchannel_logout_session_supported: false,
        frontchannel_logout_supported: false,
        jwks_uri: endpoint("/certs"),
        grant_types_supported: [
            "authorization_code",
            "client_credentials",
            "password",
            "refresh_token",
        ],
        acr_values_supported: ["0", "1"],
        response_types_supported: ["code"],
        subject_types_supported: ["public"],
        prompt_values_supported: ["login"],
        id_token_signing_alg_values_supported: ["RS256", "ES256"],
        // Userinfo answers plain JSON; Keycloak names that "none".
        userinfo_signing_alg_values_supported: ["none"],
        response_modes_supported: ["query"],
        token_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
        introspection_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
        claims_supported: [
            "aud",
            "sub",
            "iss",
            "auth_time",
            "name",
            "given_name",
            "family_name",
            "preferred_username",
            "email",
            "acr",
        ],
        claim_types_supported: ["normal"],
        claims_parameter_supported: false,
        scopes_supported: [
            "openid",
            "basic",
            "email",
            "web-origins",
            "profile",
            "acr",
            "roles",
        ],
        request_parameter_supported: false,
        request_uri_parameter_supported: false,
        code_challenge_methods_supported: ["plain", "S256"],
        tls_client_certificate_bound_access_tokens: false,
        revocation_endpoint: endpoint("/revoke"),
        revocation_endpoint_auth_methods_supported: CLIENT_AUTH_METHODS,
        backchannel_logout_supported: false,
        backchannel_logout_session_supported: false,
        require_pushed_authorization_requests: false,
        authorization_response_iss_parameter_supported: true,
        issuer,
    }))
}
