//! OpenID Connect endpoints under `/realms/{realm}`.

mod authorize;
pub mod bearer;
pub mod claims;
mod client_auth;
mod discovery;
mod error;
mod form;
mod introspect;
mod issue;
mod logout;
mod ordered;
mod pkce;
mod realm_info;
pub mod redirects;
mod revoke;
mod scope;
pub mod token;
mod unknown;
mod userinfo;
mod web_origins;

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
            "/realms/{realm}/.well-known/openid-configuration",
            web::get().to(discovery::configuration),
        )
        .route(
            "/realms/{realm}/protocol/openid-connect/token",
            web::post().to(token::token),
        )
        .route(
            "/realms/{realm}/protocol/openid-connect/auth",
            web::get().to(authorize::show),
        )
        .route(
            "/realms/{realm}/protocol/openid-connect/auth",
            web::post().to(authorize::submit),
        )
        .route(
            "/realms/{realm}/protocol/openid-connect/userinfo",
            web::get().to(userinfo::userinfo),
        )
        .route(
            "/realms/{realm}/protocol/openid-connect/userinfo",
            web::post().to(userinfo::userinfo),
        )
        .route(
            "/realms/{realm}/protocol/openid-connect/token/introspect",
            web::post().to(introspect::introspect),
        )
        .route(
            "/realms/{realm}/protocol/openid-connect/revoke",
            web::post().to(revoke::revoke),
        )
        .route(
            "/realms/{realm}/protocol/openid-connect/logout",
            web::get().to(logout::get),
        )
        .route(
            "/realms/{realm}/protocol/openid-connect/logout",
            web::post().to(logout::post),
        )
        .route(
            "/realms/{realm}/protocol/openid-connect/logout/logout-confirm",
            web::post().to(logout::confirm),
        )
        .route(
            "/realms/{realm}/protocol/openid-connect/{rest:.*}",
            web::get().to(unknown::endpoint),
        )
        .route(
            "/realms/{realm}/protocol/{protocol}",
            web::get().to(unknown::protocol),
        );
}
