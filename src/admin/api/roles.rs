//! `/admin/realms/{realm}/roles`, `/roles-by-id`, and the single client role
//! (`/clients/{id}/roles/{name}`): roles, their replacement, deletion and composites.

use actix_web::{web, HttpResponse};
use serde::Deserialize;

use super::created;
use super::error::ApiError;
use super::query_bool;
use super::strict_json::Strict;
use crate::admin::ops::role_composites::Children;
use crate::admin::ops::role_edits::RoleAt;
use crate::admin::ops::{self, access::Actor};
use crate::admin::repr::{RoleRepr, UserRepr};
use crate::domain::Role;
use crate::http::Base;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/{realm}/roles", web::get().to(list))
        .route("/{realm}/roles", web::post().to(create))
        .route(
            "/{realm}/clients/{client}/roles",
            web::get().to(client_roles),
        );
    for (prefix, kind) in [
        ("/{realm}/roles/{name}", Kind::Realm),
        ("/{realm}/roles-by-id/{name}", Kind::Id),
        ("/{realm}/clients/{client}/roles/{name}", Kind::Client),
    ] {
        cfg.service(
            web::resource(prefix)
                .app_data(web::Data::new(kind))
                .route(web::get().to(get))
                .route(web::put().to(update))
                .route(web::delete().to(delete)),
        )
        .service(
            web::resource(format!("{prefix}/composites"))
                .app_data(web::Data::new(kind))
                .route(web::get().to(composites))
                .route(web::post().to(add_composites))
                .route(web::delete().to(remove_composites)),
        )
        .service(
            web::resource(format!("{prefix}/users"))
                .app_data(web::Data::new(kind))
                .route(web::get().to(users)),
        )
        .service(
            web::resource(format!("{prefix}/groups"))
                .app_data(web::Data::new(kind))
                .route(web::get().to(groups)),
        )
        .service(
            web::resource(format!("{prefix}/composites/realm"))
                .app_data(web::Data::new(kind))
                .route(web::get().to(realm_composites)),
        )
        .service(
            web::resource(format!("{prefix}/composites/clients/{{of}}"))
                .app_data(web::Data::new(kind))
                .route(web::get().to(client_composites)),
        );
    }
}

/// How the role of a route is addressed.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Realm,
    Id,
    Client,
}

/// The path parameters of a single-role route.
#[derive(Debug, Deserialize)]
struct RolePath {
    realm: String,
    name: String,
    client: Option<String>,
    of: Option<String>,
}

impl RolePath {
    fn at(&self, kind: Kind) -> RoleAt<'_> {
        match (kind, self.client.as_deref()) {
            (Kind::Client, Some(client)) => RoleAt::Client {
                client,
                name: &self.name,
            },
            (Kind::Id, _) => RoleAt::Id(&self.name),
            _ => RoleAt::Realm(&self.name),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListQuery {
    search: Option<String>,
    first: Option<i64>,
    max: Option<i64>,
    brief_representation: Option<String>,
}

async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    realm: web::Path<String>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let roles = ops::roles::list(&state, &actor, &realm).await?;
    Ok(HttpResponse::Ok().json(listing(&state, &roles, &query).await?))
}

/// A client's roles, listed like the realm's.
async fn client_roles(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(String, String)>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let (realm, client) = path.into_inner();
    let roles = ops::clients::roles(&state, &actor, &realm, &client).await?;
    Ok(HttpResponse::Ok().json(listing(&state, &roles, &query).await?))
}

/// A role listing as Keycloak gives it: `search` in names and descriptions (any case), pages
/// only with a search or with both `first` and `max` (a negative bound is none), brief unless
/// `briefRepresentation=false`.
async fn listing(
    state: &AppState,
    roles: &[(Role, bool)],
    query: &ListQuery,
) -> Result<Vec<RoleRepr>, ApiError> {
    let brief = query_bool(&query.brief_representation).unwrap_or(true);
    let search = query
        .search
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(str::to_lowercase);
    let matching = roles.iter().filter(|(r, _)| {
        search.as_deref().is_none_or(|s| {
            r.name.to_lowercase().contains(s)
                || r.description
                    .as_deref()
                    .is_some_and(|d| d.to_lowercase().contains(s))
        })
    });
    let paging = search.is_some() || (query.first.is_some() && query.max.is_some());
    let (first, max) = if paging {
        (query.first, query.max)
    } else {
        (None, None)
    };
    let mut out = Vec::new();
    for (role, composite) in paged(matching, first, max) {
        out.push(if brief {
            RoleRepr::of(role, *composite)
        } else {
            ops::role_edits::full(state, role).await?
        });
    }
    Ok(out)
}

fn paged<'a>(
    roles: impl Iterator<Item = &'a (Role, bool)>,
    first: Option<i64>,
    max: Option<i64>,
) -> impl Iterator<Item = &'a (Role, bool)> {
    let first = first.filter(|f| *f >= 0).unwrap_or(0) as usize;
    let max = max.filter(|m| *m >= 0).map_or(usize::MAX, |m| m as usize);
    roles.skip(first).take(max)
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
    kind: web::Data<Kind>,
    path: web::Path<RolePath>,
) -> Result<HttpResponse, ApiError> {
    let role = ops::role_edits::get(&state, &actor, &path.realm, path.at(**kind)).await?;
    Ok(HttpResponse::Ok().json(role))
}

async fn update(
    state: web::Data<AppState>,
    actor: Actor,
    kind: web::Data<Kind>,
    path: web::Path<RolePath>,
    body: Strict<RoleRepr>,
) -> Result<HttpResponse, ApiError> {
    ops::role_edits::update(&state, &actor, &path.realm, path.at(**kind), &body).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn delete(
    state: web::Data<AppState>,
    actor: Actor,
    kind: web::Data<Kind>,
    path: web::Path<RolePath>,
) -> Result<HttpResponse, ApiError> {
    ops::role_edits::delete(&state, &actor, &path.realm, path.at(**kind)).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn list_children(
    state: &AppState,
    actor: &Actor,
    kind: Kind,
    path: &RolePath,
    which: Children<'_>,
    query: Option<&ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let roles = ops::role_composites::list(state, actor, &path.realm, path.at(kind), which).await?;
    let search = query
        .and_then(|q| q.search.as_deref())
        .map(str::to_lowercase);
    let matching = roles.iter().filter(|(r, _)| {
        search
            .as_deref()
            .is_none_or(|s| r.name.to_lowercase().contains(s))
    });
    let out: Vec<RoleRepr> = paged(
        matching,
        query.and_then(|q| q.first),
        query.and_then(|q| q.max),
    )
    .map(|(r, composite)| RoleRepr::of(r, *composite))
    .collect();
    Ok(HttpResponse::Ok().json(out))
}

async fn composites(
    state: web::Data<AppState>,
    actor: Actor,
    kind: web::Data<Kind>,
    path: web::Path<RolePath>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    list_children(&state, &actor, **kind, &path, Children::All, Some(&query)).await
}

async fn realm_composites(
    state: web::Data<AppState>,
    actor: Actor,
    kind: web::Data<Kind>,
    path: web::Path<RolePath>,
) -> Result<HttpResponse, ApiError> {
    list_children(&state, &actor, **kind, &path, Children::Realm, None).await
}

async fn client_composites(
    state: web::Data<AppState>,
    actor: Actor,
    kind: web::Data<Kind>,
    path: web::Path<RolePath>,
) -> Result<HttpResponse, ApiError> {
    let of = path.of.clone().unwrap_or_default();
    list_children(&state, &actor, **kind, &path, Children::Client(&of), None).await
}

async fn add_composites(
    state: web::Data<AppState>,
    actor: Actor,
    kind: web::Data<Kind>,
    path: web::Path<RolePath>,
    body: web::Json<Vec<RoleRepr>>,
) -> Result<HttpResponse, ApiError> {
    ops::role_composites::change(&state, &actor, &path.realm, path.at(**kind), &body, true).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn remove_composites(
    state: web::Data<AppState>,
    actor: Actor,
    kind: web::Data<Kind>,
    path: web::Path<RolePath>,
    body: web::Json<Vec<RoleRepr>>,
) -> Result<HttpResponse, ApiError> {
    ops::role_composites::change(&state, &actor, &path.realm, path.at(**kind), &body, false)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The users holding the role directly, full unless `briefRepresentation=true`.
async fn users(
    state: web::Data<AppState>,
    actor: Actor,
    kind: web::Data<Kind>,
    path: web::Path<RolePath>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let users = ops::roles::holders(&state, &actor, &path.realm, path.at(**kind)).await?;
    let brief = query_bool(&query.brief_representation) == Some(true);
    let page = paged_items(users.iter(), query.first, query.max.or(Some(100)));
    Ok(HttpResponse::Ok().json(page.map(|u| UserRepr::listed(u, brief)).collect::<Vec<_>>()))
}

/// The groups granted the role directly, brief unless `briefRepresentation=false`.
async fn groups(
    state: web::Data<AppState>,
    actor: Actor,
    kind: web::Data<Kind>,
    path: web::Path<RolePath>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let ids = ops::roles::groups_with(&state, &actor, &path.realm, path.at(**kind)).await?;
    let listing = ops::group_views::listing(&state, &actor, &path.realm).await?;
    let full = query_bool(&query.brief_representation) == Some(false);
    let held = listing.all.iter().filter(|g| ids.contains(&g.id));
    let mut out = Vec::new();
    for group in paged_items(held, query.first, query.max.or(Some(100))) {
        let mut repr = listing.repr(&state, group, full).await?;
        repr.sub_group_count = None;
        repr.access = None;
        out.push(repr);
    }
    Ok(HttpResponse::Ok().json(out))
}

fn paged_items<T>(
    items: impl Iterator<Item = T>,
    first: Option<i64>,
    max: Option<i64>,
) -> impl Iterator<Item = T> {
    let first = first.filter(|f| *f >= 0).unwrap_or(0) as usize;
    let max = max.filter(|m| *m >= 0).map_or(usize::MAX, |m| m as usize);
    items.skip(first).take(max)
}
