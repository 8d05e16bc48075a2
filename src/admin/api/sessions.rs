//! The session endpoints of Keycloak's admin API: a user's and a client's sessions, counts
//! and per-client statistics, ending one session or all of a realm's, and push-revocation.

use std::collections::BTreeMap;

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::error::ApiError;
use super::query_bool;
use crate::admin::ops::sessions::{ClientStats, SessionView};
use crate::admin::ops::{self, access::Actor};
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/{realm}/users/{id}/sessions", web::get().to(user_sessions))
        .route(
            "/{realm}/users/{id}/offline-sessions/{client}",
            web::get().to(user_offline_sessions),
        )
        .route(
            "/{realm}/clients/{id}/user-sessions",
            web::get().to(client_sessions),
        )
        .route(
            "/{realm}/clients/{id}/session-count",
            web::get().to(client_session_count),
        )
        .route(
            "/{realm}/clients/{id}/offline-sessions",
            web::get().to(client_offline_sessions),
        )
        .route(
            "/{realm}/clients/{id}/offline-session-count",
            web::get().to(client_offline_session_count),
        )
        .route(
            "/{realm}/clients/{id}/push-revocation",
            web::post().to(client_push_revocation),
        )
        .route("/{realm}/client-session-stats", web::get().to(stats))
        .route("/{realm}/sessions/{session}", web::delete().to(end))
        .route("/{realm}/logout-all", web::post().to(logout_all))
        .route("/{realm}/push-revocation", web::post().to(push_revocation));
}

/// Keycloak's `UserSessionRepresentation`, its keys in Keycloak's order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionRepr {
    id: String,
    username: String,
    user_id: String,
    ip_address: String,
    /// Milliseconds, whole seconds as Keycloak stores them.
    start: i64,
    last_access: i64,
    remember_me: bool,
    clients: BTreeMap<String, String>,
    transient_user: bool,
}

impl SessionRepr {
    fn of(view: &SessionView) -> SessionRepr {
        SessionRepr {
            id: view.session.id.clone(),
            username: view.username.clone(),
            user_id: view.session.user_id.to_string(),
            ip_address: view.session.ip_address.clone().unwrap_or_default(),
            start: view.session.started_at.saturating_mul(1000),
            last_access: view.session.last_access_at.saturating_mul(1000),
            remember_me: false,
            clients: view
                .clients
                .iter()
                .map(|(uuid, client_id)| (uuid.to_string(), client_id.clone()))
                .collect(),
            transient_user: false,
        }
    }
}

/// A row of `client-session-stats`: a Java map of strings, in the order Keycloak writes it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StatsRepr {
    offline: String,
    client_id: String,
    active: String,
    id: String,
}

impl StatsRepr {
    fn of(stats: &ClientStats) -> StatsRepr {
        StatsRepr {
            offline: "0".into(),
            client_id: stats.client_id.clone(),
            active: stats.active.to_string(),
            id: stats.client_uuid.to_string(),
        }
    }
}

/// A read: JSON with Keycloak's `Cache-Control: no-cache`.
fn read(body: impl Serialize) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .json(body)
}

fn reprs(views: &[SessionView]) -> Vec<SessionRepr> {
    views.iter().map(SessionRepr::of).collect()
}

async fn user_sessions(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    let views = ops::sessions::of_user(&state, &actor, &realm, &id).await?;
    Ok(read(reprs(&views)))
}

async fn user_offline_sessions(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (realm, id, client) = path.into_inner();
    let views = ops::sessions::offline_of_user(&state, &actor, &realm, &id, &client).await?;
    Ok(read(reprs(&views)))
}

/// The client listings' bounds: either alone pages, a negative one is no bound, one that is
/// not a number is Keycloak's generic 404.
#[derive(Deserialize)]
struct Bounds {
    first: Option<String>,
    max: Option<String>,
}

impl Bounds {
    fn apply<T>(&self, rows: Vec<T>) -> Result<Vec<T>, ApiError> {
        let parse = |raw: &Option<String>| -> Result<Option<usize>, ApiError> {
            match raw.as_deref() {
                None => Ok(None),
                Some(text) => text
                    .trim()
                    .parse::<i64>()
                    .map(|n| usize::try_from(n).ok())
                    .map_err(|_| ApiError::NotFound("HTTP 404 Not Found".into())),
            }
        };
        let first = parse(&self.first)?.unwrap_or(0);
        let max = parse(&self.max)?.unwrap_or(usize::MAX);
        Ok(rows.into_iter().skip(first).take(max).collect())
    }
}

async fn client_sessions(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(String, String)>,
    bounds: web::Query<Bounds>,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    let views = ops::sessions::of_client(&state, &actor, &realm, &id).await?;
    Ok(read(bounds.apply(reprs(&views))?))
}

async fn client_session_count(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    let views = ops::sessions::of_client(&state, &actor, &realm, &id).await?;
    Ok(read(json!({"count": views.len()})))
}

async fn client_offline_sessions(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(String, String)>,
    bounds: web::Query<Bounds>,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    ops::sessions::offline_of_client(&state, &actor, &realm, &id).await?;
    Ok(read(bounds.apply(Vec::<SessionRepr>::new())?))
}

async fn client_offline_session_count(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    ops::sessions::offline_of_client(&state, &actor, &realm, &id).await?;
    Ok(read(json!({"count": 0})))
}

async fn stats(
    state: web::Data<AppState>,
    actor: Actor,
    realm: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let stats = ops::sessions::stats(&state, &actor, &realm).await?;
    Ok(read(stats.iter().map(StatsRepr::of).collect::<Vec<_>>()))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EndQuery {
    is_offline: Option<String>,
}

async fn end(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(String, String)>,
    query: web::Query<EndQuery>,
) -> Result<HttpResponse, ApiError> {
    let (realm, session) = path.into_inner();
    let offline = query_bool(&query.is_offline).unwrap_or(false);
    ops::sessions::end(&state, &actor, &realm, &session, offline).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Keycloak's `GlobalRequestResult` with no client to notify: `{}`.
fn no_requests() -> HttpResponse {
    HttpResponse::Ok().json(json!({}))
}

async fn logout_all(
    state: web::Data<AppState>,
    actor: Actor,
    realm: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    ops::sessions::end_all(&state, &actor, &realm).await?;
    Ok(no_requests())
}

async fn push_revocation(
    state: web::Data<AppState>,
    actor: Actor,
    realm: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    ops::sessions::push_revocation(&state, &actor, &realm).await?;
    Ok(no_requests())
}

async fn client_push_revocation(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    ops::sessions::push_client_revocation(&state, &actor, &realm, &id).await?;
    Ok(no_requests())
}
