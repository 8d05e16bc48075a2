//! Events: login events (docker, OIDC and console sign-ins) and admin events (who changed
//! what), each filterable by type, user, client or resource, and time, newest first.

use std::collections::BTreeMap;

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::error::ConsoleError;
use super::page::{moment_ms, parse_date_ms, render, Layout, Pager};
use super::realms::RealmPath;
use super::session::Console;
use crate::admin::ops;
use crate::protocol::login::EVENT_TYPES;
use crate::store::events::{AdminEventFilter, LoginEventFilter};

/// Events per page.
const PAGE_SIZE: i64 = 50;
/// A day in milliseconds: the "to" date includes its whole day.
const DAY_MS: i64 = 86_400_000;

/// Admin operations and resource types offered in the filter.
const OPERATIONS: [&str; 4] = ["CREATE", "UPDATE", "DELETE", "ACTION"];
const RESOURCES: [&str; 10] = [
    "REALM",
    "REALM_KEY",
    "USER",
    "USER_SESSION",
    "USER_TOKEN",
    "REALM_ROLE",
    "REALM_ROLE_MAPPING",
    "CLIENT_ROLE_MAPPING",
    "CLIENT",
    "GROUP",
];

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/{target}/events", web::get().to(logins))
        .route("/{target}/events/admin", web::get().to(admin));
}

/// The filter form's values, as typed.
#[derive(Debug, Clone, Default, Deserialize)]
struct EventQuery {
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    client: String,
    #[serde(default)]
    resource: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    page: Option<i64>,
}

impl EventQuery {
    fn opt(value: &str) -> Option<String> {
        Some(value.trim().to_owned()).filter(|v| !v.is_empty())
    }

    fn window(&self) -> (Option<i64>, Option<i64>) {
        (
            parse_date_ms(&self.from),
            parse_date_ms(&self.to).map(|t| t + DAY_MS),
        )
    }

    fn pairs(&self) -> [(&'static str, &str); 6] {
        [
            ("type", &self.kind),
            ("user", &self.user),
            ("client", &self.client),
            ("resource", &self.resource),
            ("from", &self.from),
            ("to", &self.to),
        ]
    }
}

struct LoginRow {
    time: String,
    kind: String,
    failed: bool,
    user: String,
    client: String,
    ip: String,
    error: String,
    details: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "console/events/logins.html")]
struct LoginsPage {
    layout: Layout,
    tab: &'static str,
    query: EventQuery,
    types: &'static [&'static str],
    events: Vec<LoginRow>,
    pager: Pager,
    /// Whether the realm saves the events of this tab.
    saving: bool,
}

async fn logins(
    console: Console,
    path: web::Path<RealmPath>,
    query: web::Query<EventQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let query = query.into_inner();
    let (from_ms, to_ms) = query.window();
    let filter = LoginEventFilter {
        event_type: EventQuery::opt(&query.kind),
        username: EventQuery::opt(&query.user),
        client_id: EventQuery::opt(&query.client),
        from_ms,
        to_ms,
        ..LoginEventFilter::default()
    };
    let (first, max, page) = Pager::window(query.page, PAGE_SIZE);
    let settings = ops::event_settings::get(&console.state, &console.actor, &path.target).await?;
    let mut events = ops::audit::login_events(
        &console.state,
        &console.actor,
        &path.target,
        &filter,
        first,
        max,
    )
    .await?;
    let target = console.target(&path.target).await?;
    let pager = Pager::build(
        &format!("{}/events", target.path),
        &query.pairs(),
        page,
        PAGE_SIZE,
        &mut events,
    );
    let events = events
        .into_iter()
        .map(|view| {
            let e = view.event;
            let details: BTreeMap<String, String> =
                serde_json::from_str(&e.details).unwrap_or_default();
            LoginRow {
                time: moment_ms(e.time_ms),
                failed: e.error.is_some(),
                kind: e.event_type,
                user: view.username.or(e.user_id).unwrap_or_default(),
                client: e.client_id.unwrap_or_default(),
                ip: e.ip_address.unwrap_or_default(),
                error: e.error.unwrap_or_default(),
                details: details
                    .into_iter()
                    .filter(|(k, _)| k != "username")
                    .collect(),
            }
        })
        .collect();
    let layout = console.layout("Events", Some(&target), "events").await?;
    let page = LoginsPage {
        layout,
        tab: "logins",
        query,
        types: EVENT_TYPES,
        events,
        pager,
        saving: settings.events_enabled,
    };
    render(&console, &page)
}

struct AdminRow {
    time: String,
    operation: String,
    resource_type: String,
    resource_path: String,
    by: String,
    ip: String,
    representation: String,
}

#[derive(Template)]
#[template(path = "console/events/admin.html")]
struct AdminPage {
    layout: Layout,
    tab: &'static str,
    query: EventQuery,
    operations: &'static [&'static str],
    resources: &'static [&'static str],
    events: Vec<AdminRow>,
    pager: Pager,
    /// Whether the realm saves the events of this tab.
    saving: bool,
}

/// A stored representation, pretty-printed when it is JSON.
fn pretty(raw: Option<String>) -> String {
    let raw = raw.unwrap_or_default();
    serde_json::from_str::<serde_json::Value>(&raw)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or(raw)
}

async fn admin(
    console: Console,
    path: web::Path<RealmPath>,
    query: web::Query<EventQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let query = query.into_inner();
    let (from_ms, to_ms) = query.window();
    let filter = AdminEventFilter {
        operation_type: EventQuery::opt(&query.kind),
        resource_type: EventQuery::opt(&query.resource),
        auth_user_id: EventQuery::opt(&query.user),
        from_ms,
        to_ms,
    };
    let (first, max, page) = Pager::window(query.page, PAGE_SIZE);
    let settings = ops::event_settings::get(&console.state, &console.actor, &path.target).await?;
    let mut events = ops::audit::admin_events(
        &console.state,
        &console.actor,
        &path.target,
        &filter,
        first,
        max,
    )
    .await?;
    let target = console.target(&path.target).await?;
    let pager = Pager::build(
        &format!("{}/events/admin", target.path),
        &query.pairs(),
        page,
        PAGE_SIZE,
        &mut events,
    );
    let events = events
        .into_iter()
        .map(|view| {
            let e = view.event;
            AdminRow {
                time: moment_ms(e.time_ms),
                operation: e.operation_type,
                resource_type: e.resource_type,
                resource_path: e.resource_path,
                by: view.username.or(e.auth_user_id).unwrap_or_default(),
                ip: e.ip_address.unwrap_or_default(),
                representation: pretty(e.representation),
            }
        })
        .collect();
    let layout = console
        .layout("Admin events", Some(&target), "events")
        .await?;
    let page = AdminPage {
        layout,
        tab: "admin",
        query,
        operations: &OPERATIONS,
        resources: &RESOURCES,
        events,
        pager,
        saving: settings.admin_events_enabled,
    };
    render(&console, &page)
}
