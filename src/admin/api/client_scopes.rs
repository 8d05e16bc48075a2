//! `/client-scopes`, the realm's `default-default-client-scopes` and
//! `default-optional-client-scopes`, and a client's `default-client-scopes` and
//! `optional-client-scopes`: Keycloak's built-in scopes, read-only.

use actix_web::{web, HttpResponse};

use super::error::ApiError;
use crate::admin::ops::client_scopes::Kind;
use crate::admin::ops::{self, access::Actor};
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/{realm}/client-scopes", web::get().to(list))
        .route("/{realm}/client-scopes", web::post().to(refuse))
        .route("/{realm}/client-scopes/{id}", web::get().to(get))
        .route("/{realm}/client-scopes/{id}", web::put().to(refuse))
        .route("/{realm}/client-scopes/{id}", web::delete().to(refuse));
    for (path, kind) in [
        ("default-default-client-scopes", Kind::Default),
        ("default-optional-client-scopes", Kind::Optional),
    ] {
        cfg.service(
            web::resource(format!("/{{realm}}/{path}"))
                .app_data(web::Data::new(kind))
                .route(web::get().to(realm_defaults)),
        )
        .service(
            web::resource(format!("/{{realm}}/{path}/{{scope}}"))
                .route(web::put().to(refuse))
                .route(web::delete().to(refuse)),
        );
    }
    for (path, kind) in [
        ("default-client-scopes", Kind::Default),
        ("optional-client-scopes", Kind::Optional),
    ] {
        cfg.service(
            web::resource(format!("/{{realm}}/clients/{{client}}/{path}"))
                .app_data(web::Data::new(kind))
                .route(web::get().to(of_client)),
        )
        .service(
            web::resource(format!("/{{realm}}/clients/{{client}}/{path}/{{scope}}"))
                .route(web::put().to(refuse))
                .route(web::delete().to(refuse)),
        );
    }
}

async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    realm: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(ops::client_scopes::list(&state, &actor, &realm).await?))
}

async fn get(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    Ok(HttpResponse::Ok().json(ops::client_scopes::get(&state, &actor, &realm, &id).await?))
}

async fn realm_defaults(
    state: web::Data<AppState>,
    actor: Actor,
    kind: web::Data<Kind>,
    realm: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let scopes = ops::client_scopes::realm_defaults(&state, &actor, &realm, **kind).await?;
    Ok(HttpResponse::Ok().json(scopes))
}

async fn of_client(
    state: web::Data<AppState>,
    actor: Actor,
    kind: web::Data<Kind>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (realm, client) = path.into_inner();
    let scopes = ops::client_scopes::of_client(&state, &actor, &realm, &client, **kind).await?;
    Ok(HttpResponse::Ok().json(scopes))
}

/// Every write: 400 with the reason, the realm's path segment first checked.
async fn refuse(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<Vec<String>>,
) -> Result<HttpResponse, ApiError> {
    let realm = path.first().cloned().unwrap_or_default();
    ops::client_scopes::refuse_write(&state, &actor, &realm).await?;
    Ok(HttpResponse::NoContent().finish())
}
