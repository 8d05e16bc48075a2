//! Paths under a realm's `protocol/` that name nothing, answered as Keycloak 26 answers them.

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::realm_info::existing_realm;
use super::OidcError;
use crate::state::AppState;

/// `/realms/{realm}/protocol/{protocol}` for a protocol Keycloak does not know: 404
/// `{"error": "Protocol not found"}`, or the realm's own 404 when the realm does not exist.
pub async fn protocol(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, OidcError> {
    existing_realm(&state, &path.0).await?;
    Ok(HttpResponse::NotFound().json(json!({"error": "Protocol not found"})))
}

/// `/realms/{realm}/protocol/openid-connect/...` naming no endpoint: 404
/// `{"error": "HTTP 404 Not Found"}` (JAX-RS wording), or the realm's own 404.
pub async fn endpoint(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, OidcError> {
    existing_realm(&state, &path.0).await?;
    Ok(HttpResponse::NotFound().json(json!({"error": "HTTP 404 Not Found"})))
}
