//! `/admin/realms/{realm}/groups`: the group tree, children and members.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::error::ApiError;
use super::strict_json::Strict;
use super::{created, Paging};
use crate::admin::ops::{self, access::Actor};
use crate::admin::repr::{GroupRepr, UserRepr};
use crate::http::Base;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/{realm}/groups", web::get().to(list))
        .route("/{realm}/groups", web::post().to(create))
        .route("/{realm}/groups/count", web::get().to(count))
        .route("/{realm}/groups/{id}", web::get().to(get))
        .route("/{realm}/groups/{id}", web::put().to(update))
        .route("/{realm}/groups/{id}", web::delete().to(delete))
        .route("/{realm}/groups/{id}/children", web::get().to(children))
        .route(
            "/{realm}/groups/{id}/children",
            web::post().to(create_child),
        )
        .route("/{realm}/groups/{id}/members", web::get().to(members))
        .route("/{realm}/group-by-path/{path:.*}", web::get().to(by_path));
}

#[derive(Debug, Deserialize)]
struct GroupQuery {
    search: Option<String>,
}

type GroupPath = web::Path<(String, String)>;

/// Top-level groups with their subtrees; with `search`, the groups whose name contains it.
async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    realm: web::Path<String>,
    query: web::Query<GroupQuery>,
    paging: web::Query<Paging>,
) -> Result<HttpResponse, ApiError> {
    let all = ops::groups::all(&state, &actor, &realm).await?;
    let search = query
        .search
        .as_deref()
        .map(str::to_lowercase)
        .filter(|s| !s.is_empty());
    let groups: Vec<GroupRepr> = all
        .iter()
        .filter(|g| match &search {
            Some(s) => g.name.to_lowercase().contains(s),
            None => g.parent_id.is_none(),
        })
        .skip(paging.first().max(0) as usize)
        .take(paging.max(100) as usize)
        .map(|g| GroupRepr::of(g, &all, usize::MAX))
        .collect();
    Ok(HttpResponse::Ok().json(groups))
}

async fn count(
    state: web::Data<AppState>,
    actor: Actor,
    realm: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let all = ops::groups::all(&state, &actor, &realm).await?;
    let top = all.iter().filter(|g| g.parent_id.is_none()).count();
    Ok(HttpResponse::Ok().json(json!({"count": top})))
}

async fn create(
    state: web::Data<AppState>,
    actor: Actor,
    base: Base,
    realm: web::Path<String>,
    body: Strict<GroupRepr>,
) -> Result<HttpResponse, ApiError> {
    let group = ops::groups::create(&state, &actor, &realm, None, &body).await?;
    Ok(created(&base, &format!("/{realm}/groups/{}", group.id)))
}

async fn create_child(
    state: web::Data<AppState>,
    actor: Actor,
    base: Base,
    path: GroupPath,
    body: Strict<GroupRepr>,
) -> Result<HttpResponse, ApiError> {
    let (realm, parent) = path.into_inner();
    let group = ops::groups::create(&state, &actor, &realm, Some(&parent), &body).await?;
    Ok(created(&base, &format!("/{realm}/groups/{}", group.id)))
}

async fn get(
    state: web::Data<AppState>,
    actor: Actor,
    path: GroupPath,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    let (group, all) = ops::groups::get(&state, &actor, &realm, &id).await?;
    Ok(HttpResponse::Ok().json(GroupRepr::of(&group, &all, usize::MAX)))
}

async fn children(
    state: web::Data<AppState>,
    actor: Actor,
    path: GroupPath,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    let (group, all) = ops::groups::get(&state, &actor, &realm, &id).await?;
    let children: Vec<GroupRepr> = all
        .iter()
        .filter(|g| g.parent_id.as_ref() == Some(&group.id))
        .map(|g| GroupRepr::of(g, &all, 0))
        .collect();
    Ok(HttpResponse::Ok().json(children))
}

async fn update(
    state: web::Data<AppState>,
    actor: Actor,
    path: GroupPath,
    body: Strict<GroupRepr>,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    ops::groups::rename(&state, &actor, &realm, &id, &body).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn delete(
    state: web::Data<AppState>,
    actor: Actor,
    path: GroupPath,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    ops::groups::delete(&state, &actor, &realm, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn members(
    state: web::Data<AppState>,
    actor: Actor,
    path: GroupPath,
    paging: web::Query<Paging>,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    let users =
        ops::groups::members(&state, &actor, &realm, &id, paging.first(), paging.max(100)).await?;
    Ok(HttpResponse::Ok().json(users.iter().map(UserRepr::of).collect::<Vec<_>>()))
}

/// A group by its full path (`/parent/child`).
async fn by_path(
    state: web::Data<AppState>,
    actor: Actor,
    path: GroupPath,
) -> Result<HttpResponse, ApiError> {
    let (realm, wanted) = path.into_inner();
    let wanted = format!("/{}", wanted.trim_matches('/'));
    let all = ops::groups::all(&state, &actor, &realm).await?;
    let group = all
        .iter()
        .find(|g| crate::store::groups::path_of(&g.id, &all).as_deref() == Some(wanted.as_str()))
        .ok_or_else(|| ApiError::NotFound(format!("Group path does not exist: {wanted}")))?;
    Ok(HttpResponse::Ok().json(GroupRepr::of(group, &all, usize::MAX)))
}
