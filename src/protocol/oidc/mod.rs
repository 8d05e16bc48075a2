//! OpenID Connect endpoints under `/realms/{realm}`.

pub mod claims;
mod error;
mod realm_info;
pub mod token;

pub use error::OidcError;

use actix_web::web;

/// Registers the OIDC routes (relative to a layout's prefix).
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/realms/{realm}", web::get().to(realm_info::realm))
        .route(
            "/realms/{realm}/protocol/openid-connect/certs",
            web::get().to(realm_info::certs),
        )
        .route(
            "/realms/{realm}/protocol/openid-connect/token",
            web::post().to(token::token),
        );
}
