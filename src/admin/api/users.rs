//! `/admin/realms/{realm}/users`: users, passwords, role mappings, groups and tokens.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::error::ApiError;
use super::strict_json::Strict;
use super::{created, query_bool, Paging};
use crate::admin::ops::{self, access::Actor};
use crate::admin::repr::{CredentialRepr, GroupRepr, UserRepr};
use crate::http::Base;
use crate::state::AppState;
use crate::store::users::UserFilter;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/{realm}/users", web::get().to(list))
        .route("/{realm}/users", web::post().to(create))
        .route("/{realm}/users/count", web::get().to(count))
        .route("/{realm}/users/profile", web::get().to(profile))
        .route(
            "/{realm}/users/profile/metadata",
            web::get().to(profile_metadata),
        )
        .route("/{realm}/users/{id}", web::get().to(get))
        .route("/{realm}/users/{id}", web::put().to(update))
        .route("/{realm}/users/{id}", web::delete().to(delete))
        .route(
            "/{realm}/users/{id}/reset-password",
            web::put().to(reset_password),
        )
        .route("/{realm}/users/{id}/groups", web::get().to(groups))
        .route(
            "/{realm}/users/{id}/groups/count",
            web::get().to(groups_count),
        )
        .route(
            "/{realm}/users/{id}/groups/{group}",
            web::put().to(join_group),
        )
        .route(
            "/{realm}/users/{id}/groups/{group}",
            web::delete().to(leave_group),
        )
        .route("/{realm}/users/{id}/identity-tokens", web::get().to(tokens))
        .route(
            "/{realm}/users/{id}/identity-tokens/{token}",
            web::delete().to(revoke_token),
        )
        .route("/{realm}/users/{id}/logout", web::post().to(logout));
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserQuery {
    search: Option<String>,
    username: Option<String>,
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    enabled: Option<String>,
    email_verified: Option<String>,
    exact: Option<String>,
    q: Option<String>,
    brief_representation: Option<String>,
}

impl UserQuery {
    /// Keycloak's three cases: `search` alone (with `enabled`), the per-field filters (which
    /// also find service accounts), or everyone but service accounts.
    fn filter(&self, listing: bool) -> UserFilter {
        if let Some(search) = &self.search {
            return UserFilter {
                search: Some(search.trim().to_owned()),
                enabled: query_bool(&self.enabled),
                ..UserFilter::default()
            };
        }
        let attributes: Vec<(String, String)> = self
            .q
            .as_deref()
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|pair| pair.split_once(':'))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let fields = self.username.is_some()
            || self.email.is_some()
            || self.first_name.is_some()
            || self.last_name.is_some()
            || self.enabled.is_some()
            || self.email_verified.is_some()
            || self.exact.is_some()
            || !attributes.is_empty();
        UserFilter {
            username: self.username.clone(),
            email: self.email.clone(),
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            enabled: query_bool(&self.enabled),
            email_verified: query_bool(&self.email_verified),
            exact: listing && query_bool(&self.exact).unwrap_or(false),
            attributes,
            include_service_accounts: listing && fields,
            ..UserFilter::default()
        }
    }
}

type UserPath = web::Path<(String, String)>;

async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    realm: web::Path<String>,
    query: web::Query<UserQuery>,
    paging: web::Query<Paging>,
) -> Result<HttpResponse, ApiError> {
    let users = ops::users::list(
        &state,
        &actor,
        &realm,
        &query.filter(true),
        paging.first(),
        paging.max(100),
    )
    .await?;
    let brief = query_bool(&query.brief_representation) == Some(true);
    let access = ops::users::listing_access(&state, &actor, &realm).await?;
    Ok(HttpResponse::Ok().json(
        users
            .iter()
            .map(|u| UserRepr {
                access: Some(access.clone()),
                ..UserRepr::listed(u, brief)
            })
            .collect::<Vec<_>>(),
    ))
}

async fn count(
    state: web::Data<AppState>,
    actor: Actor,
    realm: web::Path<String>,
    query: web::Query<UserQuery>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok()
        .json(ops::users::count(&state, &actor, &realm, &query.filter(false)).await?))
}

async fn profile(
    state: web::Data<AppState>,
    actor: Actor,
    realm: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(ops::user_profile::config(&state, &actor, &realm).await?))
}

async fn profile_metadata(
    state: web::Data<AppState>,
    actor: Actor,
    realm: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(ops::user_profile::metadata(&state, &actor, &realm).await?))
}

async fn create(
    state: web::Data<AppState>,
    actor: Actor,
    base: Base,
    realm: web::Path<String>,
    body: Strict<UserRepr>,
) -> Result<HttpResponse, ApiError> {
    let user = ops::users::create(&state, &actor, &realm, &body).await?;
    Ok(created(&base, &format!("/{realm}/users/{}", user.id)))
}

async fn get(
    state: web::Data<AppState>,
    actor: Actor,
    path: UserPath,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    let user = ops::users::get(&state, &actor, &realm, &id).await?;
    let access = ops::users::access(&state, &actor, &realm, &user).await?;
    Ok(HttpResponse::Ok().json(UserRepr::admin(&user, access)))
}

async fn update(
    state: web::Data<AppState>,
    actor: Actor,
    path: UserPath,
    body: Strict<UserRepr>,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    ops::users::update(&state, &actor, &realm, &id, &body).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn delete(
    state: web::Data<AppState>,
    actor: Actor,
    path: UserPath,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    ops::users::delete(&state, &actor, &realm, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn reset_password(
    state: web::Data<AppState>,
    actor: Actor,
    path: UserPath,
    body: Strict<CredentialRepr>,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    ops::users::reset_password(&state, &actor, &realm, &id, &body).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupsQuery {
    brief_representation: Option<String>,
    search: Option<String>,
    first: Option<i64>,
    max: Option<i64>,
}

/// The groups the user belongs to directly whose name contains `search` (any case).
async fn user_groups(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
    search: Option<&str>,
) -> Result<(ops::group_views::Listing, Vec<crate::domain::GroupId>), ApiError> {
    let (ids, _) = ops::users::groups(state, actor, realm, id).await?;
    let listing = ops::group_views::listing(state, actor, realm).await?;
    let search = search.map(str::to_lowercase).filter(|s| !s.is_empty());
    let matching = listing
        .all
        .iter()
        .filter(|g| ids.contains(&g.id))
        .filter(|g| {
            search
                .as_deref()
                .is_none_or(|s| g.name.to_lowercase().contains(s))
        })
        .map(|g| g.id.clone())
        .collect();
    Ok((listing, matching))
}

/// The user's groups: id, name, path, parentId and an empty subGroups, with attributes and
/// role names when `briefRepresentation=false`; `search` and paging as Keycloak.
async fn groups(
    state: web::Data<AppState>,
    actor: Actor,
    path: UserPath,
    query: web::Query<GroupsQuery>,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    let (listing, ids) = user_groups(&state, &actor, &realm, &id, query.search.as_deref()).await?;
    let full = query_bool(&query.brief_representation) == Some(false);
    let first = query.first.filter(|f| *f >= 0).unwrap_or(0) as usize;
    let max = query
        .max
        .filter(|m| *m >= 0)
        .map_or(usize::MAX, |m| m as usize);
    let mut groups: Vec<GroupRepr> = Vec::new();
    for group in listing
        .all
        .iter()
        .filter(|g| ids.contains(&g.id))
        .skip(first)
        .take(max)
    {
        let mut repr = listing.repr(&state, group, full).await?;
        repr.sub_group_count = None;
        repr.access = None;
        groups.push(repr);
    }
    Ok(HttpResponse::Ok().json(groups))
}

/// `{"count": n}`: how many groups the user belongs to directly (matching `search`).
async fn groups_count(
    state: web::Data<AppState>,
    actor: Actor,
    path: UserPath,
    query: web::Query<GroupsQuery>,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    let (_, ids) = user_groups(&state, &actor, &realm, &id, query.search.as_deref()).await?;
    Ok(HttpResponse::Ok().json(json!({"count": ids.len()})))
}

async fn join_group(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (realm, id, group) = path.into_inner();
    ops::users::set_membership(&state, &actor, &realm, &id, &group, true).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn leave_group(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (realm, id, group) = path.into_inner();
    ops::users::set_membership(&state, &actor, &realm, &id, &group, false).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The user's live refresh and docker identity tokens (never the tokens themselves).
async fn tokens(
    state: web::Data<AppState>,
    actor: Actor,
    path: UserPath,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    let tokens = ops::users::tokens(&state, &actor, &realm, &id).await?;
    let list: Vec<_> = tokens
        .iter()
        .map(|t| {
            json!({
                "id": t.id,
                "kind": t.kind,
                "clientId": t.client_id,
                "ipAddress": t.ip_address,
                "created": t.created_at * 1000,
                "lastAccess": t.last_used_at * 1000,
                "expires": t.expires_at * 1000,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(list))
}

async fn revoke_token(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (realm, id, token) = path.into_inner();
    ops::users::revoke_token(&state, &actor, &realm, &id, &token).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn logout(
    state: web::Data<AppState>,
    actor: Actor,
    path: UserPath,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    ops::users::logout(&state, &actor, &realm, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}
