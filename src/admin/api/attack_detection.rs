//! `/admin/realms/{realm}/attack-detection/brute-force/users/{id}`: a user's failed sign-ins
//! and lock, as Keycloak reports them, and clearing them.

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::error::ApiError;
use crate::admin::ops::{self, access::Actor};
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/{realm}/attack-detection/brute-force/users/{id}",
        web::get().to(status),
    )
    .route(
        "/{realm}/attack-detection/brute-force/users/{id}",
        web::delete().to(clear),
    );
}

/// Keycloak's map: `disabled` while locked, the failure count, the last failure (ms) and
/// its address (`n/a` without one).
async fn status(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    let record = ops::attack_detection::status(&state, &actor, &realm, &id).await?;
    let now = state.clock.now_ms();
    Ok(HttpResponse::Ok().json(match record {
        Some(r) => json!({
            "disabled": r.locked_until_ms > now,
            "numFailures": r.num_failures,
            "numTemporaryLockouts": 0,
            "lastFailure": r.last_failure_ms,
            "lastIPFailure": r.last_ip.unwrap_or_else(|| "n/a".to_owned()),
        }),
        None => json!({
            "disabled": false,
            "numFailures": 0,
            "numTemporaryLockouts": 0,
            "lastFailure": 0,
            "lastIPFailure": "n/a",
        }),
    }))
}

async fn clear(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    ops::attack_detection::clear(&state, &actor, &realm, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}
