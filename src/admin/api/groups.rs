//! `/admin/realms/{realm}/groups`: the group tree, children and members.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::error::ApiError;
use super::strict_json::Strict;
use super::{created, query_bool, Paging};
use crate::admin::ops::group_views::GroupFilter;
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
#[serde(rename_all = "camelCase")]
struct GroupQuery {
    search: Option<String>,
    q: Option<String>,
    exact: Option<String>,
    first: Option<i64>,
    max: Option<i64>,
    brief_representation: Option<String>,
    populate_hierarchy: Option<String>,
    top: Option<String>,
}

impl GroupQuery {
    fn filter(&self) -> GroupFilter {
        GroupFilter {
            search: self.search.as_deref().map(str::trim).map(str::to_owned),
            exact: query_bool(&self.exact).unwrap_or(false),
            attributes: self.q.as_deref().map(parse_q).unwrap_or_default(),
        }
    }

    fn page<T>(&self, items: Vec<T>, default_max: Option<i64>) -> Vec<T> {
        let first = self.first.unwrap_or(0).max(0) as usize;
        let max = self
            .max
            .or(default_max)
            .filter(|m| *m >= 0)
            .map_or(usize::MAX, |m| m as usize);
        items.into_iter().skip(first).take(max).collect()
    }
}

/// Keycloak's `q` search: space-separated `key:value` pairs (at most 32).
fn parse_q(raw: &str) -> Vec<(String, String)> {
    raw.split_whitespace()
        .filter_map(|pair| pair.split_once(':'))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .take(32)
        .collect()
}

type GroupPath = web::Path<(String, String)>;

/// Top-level groups; with `search` or `q`, the matching groups inside their hierarchy.
async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    realm: web::Path<String>,
    query: web::Query<GroupQuery>,
) -> Result<HttpResponse, ApiError> {
    let listing = ops::group_views::listing(&state, &actor, &realm).await?;
    let full = query_bool(&query.brief_representation) == Some(false);
    let mut selected = listing.select(&query.filter());
    if query_bool(&query.top).unwrap_or(false) {
        selected.retain(|g| g.parent_id.is_none());
    }
    let selected = query.page(selected, None);
    let groups = if query_bool(&query.populate_hierarchy).unwrap_or(true) {
        listing.hierarchy(&state, &selected, full).await?
    } else {
        let mut out = Vec::with_capacity(selected.len());
        for group in selected {
            out.push(listing.repr(&state, group, full).await?);
        }
        out
    };
    Ok(HttpResponse::Ok().json(groups))
}

#[derive(Debug, Deserialize)]
struct CountQuery {
    search: Option<String>,
    top: Option<String>,
}

/// `{"count": n}`: every group, the top-level ones with `top=true`, or those whose name
/// contains `search`.
async fn count(
    state: web::Data<AppState>,
    actor: Actor,
    realm: web::Path<String>,
    query: web::Query<CountQuery>,
) -> Result<HttpResponse, ApiError> {
    let all = ops::groups::all(&state, &actor, &realm).await?;
    let count = match &query.search {
        Some(search) => {
            let search = search.to_lowercase();
            all.iter()
                .filter(|g| g.name.to_lowercase().contains(&search))
                .count()
        }
        None if query_bool(&query.top).unwrap_or(false) => {
            all.iter().filter(|g| g.parent_id.is_none()).count()
        }
        None => all.len(),
    };
    Ok(HttpResponse::Ok().json(json!({"count": count})))
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
    let listing = ops::group_views::listing(&state, &actor, &realm).await?;
    let mut repr = listing.repr(&state, &group, true).await?;
    repr.sub_group_count = None;
    let location = base.join(&format!("/admin/realms/{realm}/groups/{}", group.id));
    Ok(HttpResponse::Created()
        .insert_header((actix_web::http::header::LOCATION, location))
        .json(repr))
}

async fn get(
    state: web::Data<AppState>,
    actor: Actor,
    path: GroupPath,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    let listing = ops::group_views::listing(&state, &actor, &realm).await?;
    let group = listing.find(&id)?;
    Ok(HttpResponse::Ok().json(listing.repr(&state, group, true).await?))
}

/// A page of a group's subgroups (10 unless `max` says otherwise), full unless
/// `briefRepresentation=true`.
async fn children(
    state: web::Data<AppState>,
    actor: Actor,
    path: GroupPath,
    query: web::Query<GroupQuery>,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    let listing = ops::group_views::listing(&state, &actor, &realm).await?;
    let group = listing.find(&id)?;
    let full = query_bool(&query.brief_representation) != Some(true);
    let children = query.page(listing.children(&group.id, &query.filter()), Some(10));
    let mut out = Vec::with_capacity(children.len());
    for child in children {
        out.push(listing.repr(&state, child, full).await?);
    }
    Ok(HttpResponse::Ok().json(out))
}

async fn update(
    state: web::Data<AppState>,
    actor: Actor,
    path: GroupPath,
    body: Strict<GroupRepr>,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    ops::groups::update(&state, &actor, &realm, &id, &body).await?;
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
    query: web::Query<GroupQuery>,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    let users =
        ops::groups::members(&state, &actor, &realm, &id, paging.first(), paging.max(100)).await?;
    let brief = query_bool(&query.brief_representation) == Some(true);
    Ok(HttpResponse::Ok().json(
        users
            .iter()
            .map(|u| UserRepr::listed(u, brief))
            .collect::<Vec<_>>(),
    ))
}

/// A group by its full path (`/parent/child`): the single read without `access`.
async fn by_path(
    state: web::Data<AppState>,
    actor: Actor,
    path: GroupPath,
) -> Result<HttpResponse, ApiError> {
    let (realm, wanted) = path.into_inner();
    let wanted = format!("/{}", wanted.trim_matches('/'));
    let listing = ops::group_views::listing(&state, &actor, &realm).await?;
    let group = listing
        .all
        .iter()
        .find(|g| {
            crate::store::groups::path_of(&g.id, &listing.all).as_deref() == Some(wanted.as_str())
        })
        .ok_or_else(|| ApiError::NotFound("Group path does not exist".into()))?;
    let mut repr = listing.repr(&state, group, true).await?;
    repr.access = None;
    Ok(HttpResponse::Ok().json(repr))
}
