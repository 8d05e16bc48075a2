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

/// Ready when the database answers.
async fn ready(state: web::Data<AppState>) -> HttpResponse {
    if crate::store::ping(&state.db).await {
        HttpResponse::Ok()
            .json(json!({"status": "UP", "checks": [{"name": "database", "status": "UP"}]}))
    } else {
        HttpResponse::ServiceUnavailable()
            .json(json!({"status": "DOWN", "checks": [{"name": "database", "status": "DOWN"}]}))
    }
}
