//! Liveness and readiness probes.

use actix_web::{web, HttpResponse};
use serde_json::json;

use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/health/live", web::get().to(live))
        .route("/health/ready", web::get().to(ready));
}

async fn live() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "UP", "checks": []}))
}

/// Ready when the database answers, and not once shutdown has begun (so a load balancer
/// takes the replica out while it still serves what it was sent).
async fn ready(state: web::Data<AppState>) -> HttpResponse {
    if state.draining.is_set() {
        HttpResponse::ServiceUnavailable()
            .json(json!({"status": "DOWN", "checks": [{"name": "shutdown", "status": "DOWN"}]}))
    } else if crate::store::ping(&state.db).await {
        HttpResponse::Ok()
            .json(json!({"status": "UP", "checks": [{"name": "database", "status": "UP"}]}))
    } else {
        HttpResponse::ServiceUnavailable()
            .json(json!({"status": "DOWN", "checks": [{"name": "database", "status": "DOWN"}]}))
    }
}
