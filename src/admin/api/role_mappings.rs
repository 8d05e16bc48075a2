//! `/users/{id}/role-mappings` and `/groups/{id}/role-mappings`: Keycloak's role mapper of a
//! user or group, realm-level and per client, direct, effective (`composite`) and `available`.

use std::collections::BTreeMap;

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::error::ApiError;
use super::query_bool;
use crate::admin::ops::role_mappings::{MapperAt, View};
use crate::admin::ops::{self, access::Actor};
use crate::admin::repr::RoleRepr;
use crate::domain::Role;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    for (owner, kind) in [("users", Owner::User), ("groups", Owner::Group)] {
        let base = format!("/{{realm}}/{owner}/{{id}}/role-mappings");
        let data = web::Data::new(kind);
        cfg.service(
            web::resource(base.clone())
                .app_data(data.clone())
                .route(web::get().to(all)),
        )
        .service(
            web::resource(format!("{base}/realm"))
                .app_data(data.clone())
                .route(web::get().to(direct))
                .route(web::post().to(add))
                .route(web::delete().to(remove)),
        )
        .service(
            web::resource(format!("{base}/realm/composite"))
                .app_data(data.clone())
                .route(web::get().to(effective)),
        )
        .service(
            web::resource(format!("{base}/realm/available"))
                .app_data(data.clone())
                .route(web::get().to(available)),
        )
        .service(
            web::resource(format!("{base}/clients/{{client}}"))
                .app_data(data.clone())
                .route(web::get().to(direct))
                .route(web::post().to(add))
                .route(web::delete().to(remove)),
        )
        .service(
            web::resource(format!("{base}/clients/{{client}}/composite"))
                .app_data(data.clone())
                .route(web::get().to(effective)),
        )
        .service(
            web::resource(format!("{base}/clients/{{client}}/available"))
                .app_data(data)
                .route(web::get().to(available)),
        );
    }
}

/// Whose role mappings a route serves.
#[derive(Debug, Clone, Copy)]
enum Owner {
    User,
    Group,
}

#[derive(Debug, Deserialize)]
struct MapperPath {
    realm: String,
    id: String,
    client: Option<String>,
}

impl MapperPath {
    fn at(&self, owner: Owner) -> MapperAt<'_> {
        match owner {
            Owner::User => MapperAt::User(&self.id),
            Owner::Group => MapperAt::Group(&self.id),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct BriefQuery {
    brief_representation: Option<String>,
}

fn brief(roles: &[(Role, bool)]) -> Vec<RoleRepr> {
    roles.iter().map(|(r, c)| RoleRepr::of(r, *c)).collect()
}

/// `{realmMappings, clientMappings: {clientId: {id, client, mappings}}}`, empty parts left out.
async fn all(
    state: web::Data<AppState>,
    actor: Actor,
    owner: web::Data<Owner>,
    path: web::Path<MapperPath>,
) -> Result<HttpResponse, ApiError> {
    let mappings = ops::role_mappings::all(&state, &actor, &path.realm, path.at(**owner)).await?;
    let mut body = serde_json::Map::new();
    if !mappings.realm.is_empty() {
        body.insert("realmMappings".into(), json!(brief(&mappings.realm)));
    }
    if !mappings.clients.is_empty() {
        let clients: BTreeMap<String, _> = mappings
            .clients
            .iter()
            .map(|(client, roles)| {
                (
                    client.client_id.to_string(),
                    json!({"id": client.id, "client": client.client_id, "mappings": brief(roles)}),
                )
            })
            .collect();
        body.insert("clientMappings".into(), json!(clients));
    }
    Ok(HttpResponse::Ok().json(body))
}

async fn answer(
    state: &AppState,
    actor: &Actor,
    owner: Owner,
    path: &MapperPath,
    view: View,
    full: bool,
) -> Result<HttpResponse, ApiError> {
    let roles = ops::role_mappings::roles(
        state,
        actor,
        &path.realm,
        path.at(owner),
        path.client.as_deref(),
        view,
    )
    .await?;
    if !full {
        return Ok(HttpResponse::Ok().json(brief(&roles)));
    }
    let mut out = Vec::with_capacity(roles.len());
    for (role, _) in &roles {
        out.push(ops::role_edits::full(state, role).await?);
    }
    Ok(HttpResponse::Ok().json(out))
}

async fn direct(
    state: web::Data<AppState>,
    actor: Actor,
    owner: web::Data<Owner>,
    path: web::Path<MapperPath>,
) -> Result<HttpResponse, ApiError> {
    answer(&state, &actor, **owner, &path, View::Direct, false).await
}

async fn effective(
    state: web::Data<AppState>,
    actor: Actor,
    owner: web::Data<Owner>,
    path: web::Path<MapperPath>,
    query: web::Query<BriefQuery>,
) -> Result<HttpResponse, ApiError> {
    let full = query_bool(&query.brief_representation) == Some(false);
    answer(&state, &actor, **owner, &path, View::Effective, full).await
}

async fn available(
    state: web::Data<AppState>,
    actor: Actor,
    owner: web::Data<Owner>,
    path: web::Path<MapperPath>,
) -> Result<HttpResponse, ApiError> {
    answer(&state, &actor, **owner, &path, View::Available, false).await
}

async fn add(
    state: web::Data<AppState>,
    actor: Actor,
    owner: web::Data<Owner>,
    path: web::Path<MapperPath>,
    body: web::Json<Vec<RoleRepr>>,
) -> Result<HttpResponse, ApiError> {
    ops::role_mappings::change(
        &state,
        &actor,
        &path.realm,
        path.at(**owner),
        path.client.as_deref(),
        Some(&body),
        true,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Without a body, every role of the realm (or client) is unmapped, as in Keycloak.
async fn remove(
    state: web::Data<AppState>,
    actor: Actor,
    owner: web::Data<Owner>,
    path: web::Path<MapperPath>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let roles: Option<Vec<RoleRepr>> = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        Some(
            serde_json::from_slice(&body)
                .map_err(|_| ApiError::BadRequest("Cannot parse the JSON".into()))?,
        )
    };
    ops::role_mappings::change(
        &state,
        &actor,
        &path.realm,
        path.at(**owner),
        path.client.as_deref(),
        roles.as_deref(),
        false,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
