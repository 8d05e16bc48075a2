//! The docker-v2 protocol: the registry token endpoint, scope parsing, the repository access
//! policy, and the registry configuration downloads.

pub mod conditions;
pub mod decision;
pub mod downloads;
mod error;
pub mod pattern;
pub mod policy;
pub mod scope;
pub mod subject;
mod token;
mod trust_chain;

pub use error::DockerError;
pub use policy::AccessPolicy;
pub use token::DockerClaims;

use actix_web::web;

/// Registers the docker-v2 routes (only when the docker feature is on). A token request's
/// body larger than [`token::MAX_PARAMS_BYTES`] is refused with 413 while it is read.
pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/realms/{realm}/protocol/docker-v2/auth")
            .app_data(web::PayloadConfig::new(token::MAX_PARAMS_BYTES))
            .route(web::get().to(token::get))
            .route(web::post().to(token::post))
            .route(web::method(actix_web::http::Method::OPTIONS).to(token::preflight)),
    )
    .route(
        "/realms/{realm}/protocol/docker-v2/trust-chain",
        web::get().to(trust_chain::get),
    );
}
