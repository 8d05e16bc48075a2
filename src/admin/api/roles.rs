//! `/admin/realms/{realm}/roles` and `/roles-by-id`.

use actix_web::{web, HttpResponse};

use super::created;
use super::error::ApiError;
use super::strict_json::Strict;
use crate::admin::ops::{self, access::Actor};
use crate::admin::repr::{RoleRepr, UserRepr};
use crate::http::Base;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/{realm}/roles", web::get().to(list))
        .route("/{realm}/roles", web::post().to(create))
        .route("/{realm}/roles/{name}", web::get().to(get))
        .route("/{realm}/roles/{name}", web::put().to(update))
        .route("/{realm}/roles/{name}", web::delete().to(delete))
        .route("/{realm}/roles/{name}/users", web::get().to(users))
        .route("/{realm}/roles-by-id/{id}", web::get().to(get_by_id));
}

type RolePath = web::Path<(String, String)>;

async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    realm: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let roles = ops::roles::list(&state, &actor, &realm).await?;
    Ok(HttpResponse::Ok().json(
        roles
            .iter()
            .map(|(r, c)| RoleRepr::of(r, *c))
            .collect::<Vec<_>>(),
    ))
}

async fn create(
    state: web::Data<AppState>,
    actor: Actor,
    base: Base,
    realm: web::Path<String>,
    body: Strict<RoleRepr>,
) -> Result<HttpResponse, ApiError> {
    let role = ops::roles::create(&state, &actor, &realm, &body).await?;
    let name: String = url::form_urlencoded::byte_serialize(role.name.as_bytes()).collect();
    Ok(created(
        &base,
        &format!("/{realm}/roles/{}", name.replace('+', "%20")),
    ))
}

async fn get(
    state: web::Data<AppState>,
    actor: Actor,
    path: RolePath,
) -> Result<HttpResponse, ApiError> {
    let (realm, name) = path.into_inner();
    let (role, composite) = ops::roles::get(&state, &actor, &realm, &name).await?;
    Ok(HttpResponse::Ok().json(RoleRepr::of(&role, composite)))
}

async fn get_by_id(
    state: web::Data<AppState>,
    actor: Actor,
    path: RolePath,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    let (role, composite) = ops::roles::get_by_id(&state, &actor, &realm, &id).await?;
    Ok(HttpResponse::Ok().json(RoleRepr::of(&role, composite)))
}

async fn update(
    state: web::Data<AppState>,
    actor: Actor,
    path: RolePath,
    body: Strict<RoleRepr>,
) -> Result<HttpResponse, ApiError> {
    let (realm, name) = path.into_inner();
    ops::roles::update(&state, &actor, &realm, &name, &body).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn delete(
    state: web::Data<AppState>,
    actor: Actor,
    path: RolePath,
) -> Result<HttpResponse, ApiError> {
    let (realm, name) = path.into_inner();
    ops::roles::delete(&state, &actor, &realm, &name).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn users(
    state: web::Data<AppState>,
    actor: Actor,
    path: RolePath,
) -> Result<HttpResponse, ApiError> {
    let (realm, name) = path.into_inner();
    let users = ops::roles::users_with(&state, &actor, &realm, &name).await?;
    Ok(HttpResponse::Ok().json(users.iter().map(UserRepr::of).collect::<Vec<_>>()))
}
