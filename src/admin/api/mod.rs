//! The Keycloak admin REST API under `/admin/realms`: a thin JSON face over the operations.

mod attack_detection;
pub mod auth;
mod client_scopes;
mod clients;
mod components;
pub mod error;
mod events;
mod groups;
mod realms;
mod role_mappings;
mod roles;
mod sessions;
pub mod strict_json;
mod user_credentials;
mod users;

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Deserialize;

use crate::http::Base;

/// Registers the admin REST routes (relative to a layout's prefix).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/admin/realms")
            .app_data(
                web::JsonConfig::default()
                    .limit(4 * 1024 * 1024)
                    .error_handler(error::json_error),
            )
            .app_data(web::PayloadConfig::new(4 * 1024 * 1024))
            .configure(attack_detection::routes)
            .configure(realms::routes)
            .configure(components::routes)
            .configure(users::routes)
            .configure(user_credentials::routes)
            .configure(clients::routes)
            .configure(client_scopes::routes)
            .configure(roles::routes)
            .configure(role_mappings::routes)
            .configure(groups::routes)
            .configure(events::routes)
            .configure(sessions::routes),
    );
}

/// `201 Created` with an absolute `Location` and an empty body, as Keycloak answers a create.
fn created(base: &Base, path: &str) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::LOCATION, base.join(&format!("/admin/realms{path}"))))
        .finish()
}

/// Paging parameters (`first`, `max`), Keycloak's defaults.
#[derive(Debug, Deserialize)]
struct Paging {
    first: Option<i64>,
    max: Option<i64>,
}

impl Paging {
    fn first(&self) -> i64 {
        self.first.unwrap_or(0)
    }

    fn max(&self, default: i64) -> i64 {
        self.max.filter(|m| *m >= 0).unwrap_or(default)
    }
}

/// A query boolean that may arrive as `true`, `True` or `1`.
fn query_bool(raw: &Option<String>) -> Option<bool> {
    raw.as_deref()
        .map(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "1"))
}
