//! `/admin/realms/{realm}/events` (login events), `/admin-events` and `/events/config`, in
//! Keycloak's shapes.

use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::error::ApiError;
use super::Paging;
use crate::admin::ops::{self, access::Actor};
use crate::admin::repr::EventsConfigRepr;
use crate::state::AppState;
use crate::store::events::{AdminEventFilter, EventKind, LoginEventFilter};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/{realm}/events", web::get().to(logins))
        .route("/{realm}/events", web::delete().to(clear_logins))
        .route("/{realm}/events/config", web::get().to(config))
        .route("/{realm}/events/config", web::put().to(update_config))
        .route("/{realm}/admin-events", web::get().to(admin))
        .route("/{realm}/admin-events", web::delete().to(clear_admin));
}

async fn config(
    state: web::Data<AppState>,
    actor: Actor,
    realm: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let realm = ops::event_settings::get(&state, &actor, &realm).await?;
    Ok(HttpResponse::Ok().json(EventsConfigRepr::of(&realm)))
}

async fn update_config(
    state: web::Data<AppState>,
    actor: Actor,
    realm: web::Path<String>,
    body: web::Json<EventsConfigRepr>,
) -> Result<HttpResponse, ApiError> {
    ops::event_settings::update(&state, &actor, &realm, &body).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn clear_logins(
    state: web::Data<AppState>,
    actor: Actor,
    realm: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    ops::event_settings::clear(&state, &actor, &realm, EventKind::Login).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn clear_admin(
    state: web::Data<AppState>,
    actor: Actor,
    realm: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    ops::event_settings::clear(&state, &actor, &realm, EventKind::Admin).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Keycloak's `dateFrom` / `dateTo`: `yyyy-MM-dd` or epoch milliseconds.
fn date_ms(raw: &Option<String>, end_of_day: bool) -> Result<Option<i64>, ApiError> {
    let Some(raw) = raw.as_deref().filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    if let Ok(ms) = raw.parse::<i64>() {
        return Ok(Some(ms));
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let date = time::Date::parse(raw, &format)
        .map_err(|_| ApiError::BadRequest(format!("Invalid date '{raw}': expected yyyy-MM-dd")))?;
    let start = date.midnight().assume_utc().unix_timestamp() * 1000;
    Ok(Some(if end_of_day {
        start + 86_400_000
    } else {
        start
    }))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LoginQuery {
    #[serde(rename = "type")]
    event_type: Option<String>,
    user: Option<String>,
    client: Option<String>,
    date_from: Option<String>,
    date_to: Option<String>,
}

async fn logins(
    state: web::Data<AppState>,
    actor: Actor,
    realm: web::Path<String>,
    query: web::Query<LoginQuery>,
    paging: web::Query<Paging>,
) -> Result<HttpResponse, ApiError> {
    let filter = LoginEventFilter {
        event_type: query.event_type.clone().filter(|t| !t.is_empty()),
        user_id: None,
        username: query.user.clone().filter(|u| !u.is_empty()),
        client_id: query.client.clone().filter(|c| !c.is_empty()),
        from_ms: date_ms(&query.date_from, false)?,
        to_ms: date_ms(&query.date_to, true)?,
    };
    let realm_repr = ops::audit::realm(&state, &actor, &realm).await?;
    let events = ops::audit::login_events(
        &state,
        &actor,
        &realm,
        &filter,
        paging.first(),
        paging.max(100),
    )
    .await?;
    let list: Vec<Value> = events
        .into_iter()
        .map(|view| {
            let event = view.event;
            let details: Value = serde_json::from_str(&event.details).unwrap_or_else(|_| json!({}));
            json!({
                "time": event.time_ms,
                "type": event.event_type,
                "realmId": realm_repr.id,
                "clientId": event.client_id,
                "userId": event.user_id,
                "ipAddress": event.ip_address,
                "error": event.error,
                "details": details,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(list))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AdminQuery {
    operation_types: Option<String>,
    resource_types: Option<String>,
    auth_user: Option<String>,
    date_from: Option<String>,
    date_to: Option<String>,
}

async fn admin(
    state: web::Data<AppState>,
    actor: Actor,
    realm: web::Path<String>,
    query: web::Query<AdminQuery>,
    paging: web::Query<Paging>,
) -> Result<HttpResponse, ApiError> {
    let filter = AdminEventFilter {
        operation_type: query.operation_types.clone().filter(|t| !t.is_empty()),
        resource_type: query.resource_types.clone().filter(|t| !t.is_empty()),
        auth_user_id: query.auth_user.clone().filter(|u| !u.is_empty()),
        from_ms: date_ms(&query.date_from, false)?,
        to_ms: date_ms(&query.date_to, true)?,
    };
    let realm_repr = ops::audit::realm(&state, &actor, &realm).await?;
    let events = ops::audit::admin_events(
        &state,
        &actor,
        &realm,
        &filter,
        paging.first(),
        paging.max(100),
    )
    .await?;
    let list: Vec<Value> = events
        .into_iter()
        .map(|view| {
            let event = view.event;
            json!({
                "time": event.time_ms,
                "realmId": realm_repr.id,
                "authDetails": {
                    "realmId": event.auth_realm_id,
                    "clientId": "admin-cli",
                    "userId": event.auth_user_id,
                    "ipAddress": event.ip_address,
                },
                "operationType": event.operation_type,
                "resourceType": event.resource_type,
                "resourcePath": event.resource_path,
                "representation": event.representation,
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(list))
}
