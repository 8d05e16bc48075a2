//! Realm settings: the General, Tokens, Security defenses and Events tabs. Each tab is a list
//! of fields; saving builds a partial `RealmRepr` and calls `ops::realms::update`, or for the
//! Events tab `ops::event_settings::update` (which needs manage-events, as in Keycloak).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

use super::error::ConsoleError;
use super::form::{number, Errors, FormData, Posted};
use super::page::{duration, render_status, Layout, Target};
use super::realms::RealmPath;
use super::session::Console;
use crate::admin::ops;
use crate::admin::repr::{EventsConfigRepr, RealmRepr};
use crate::domain::Realm;

pub fn routes(cfg: &mut web::ServiceConfig) {
    for tab in [Tab::General, Tab::Tokens, Tab::Security, Tab::Events] {
        cfg.route(
            tab.route(),
            web::get().to(move |c: Console, p: web::Path<RealmPath>| show(c, p, tab)),
        )
        .route(
            tab.route(),
            web::post().to(move |p: Posted, path: web::Path<RealmPath>| save(p, path, tab)),
        );
    }
}

/// A settings tab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tab {
    General,
    Tokens,
    Security,
    Events,
}

impl Tab {
    fn route(self) -> &'static str {
        match self {
            Tab::General => "/{target}/settings",
            Tab::Tokens => "/{target}/settings/tokens",
            Tab::Security => "/{target}/settings/security",
            Tab::Events => "/{target}/settings/events",
        }
    }

    fn id(self) -> &'static str {
        match self {
            Tab::General => "general",
            Tab::Tokens => "tokens",
            Tab::Security => "security",
            Tab::Events => "events",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Tab::General => "General",
            Tab::Tokens => "Tokens",
            Tab::Security => "Security defenses",
            Tab::Events => "Events",
        }
    }

    /// The role that changing the tab's settings needs.
    fn role(self) -> &'static str {
        match self {
            Tab::Events => "manage-events",
            _ => "manage-realm",
        }
    }

    /// Whether the admin may change the tab's settings.
    fn editable(self, target: &Target) -> bool {
        match self {
            Tab::Events => target.manage_events,
            _ => target.manage_realm,
        }
    }

    /// The tab's fields, showing `realm` (or, after a refused save, what was typed).
    fn fields(self, realm: &Realm, typed: Option<&FormData>) -> Vec<Field> {
        let text = |name, label, value: String, help: &str| Field {
            kind: "text",
            name,
            label,
            value: typed.map_or(value, |f| f.raw(name).to_owned()),
            checked: false,
            required: false,
            help: help.to_owned(),
        };
        let flag = |name, label, value: bool, help: &str| Field {
            kind: "checkbox",
            name,
            label,
            value: String::new(),
            checked: typed.map_or(value, |f| f.checked(name)),
            required: false,
            help: help.to_owned(),
        };
        let seconds = |name, label, value: i64, help: &str| Field {
            kind: "number",
            name,
            label,
            value: typed.map_or(value.to_string(), |f| f.raw(name).to_owned()),
            checked: false,
            required: true,
            help: format!("{help} Now: {}.", duration(value)),
        };
        let count = |name, label, value: i64, help: &str| Field {
            help: help.to_owned(),
            ..seconds(name, label, value, help)
        };
        match self {
            Tab::General => vec![
                Field {
                    kind: "readonly",
                    ..text("name", "Realm name", realm.name.to_string(), "Part of every URL of the realm; it cannot be changed.")
                },
                text("display_name", "Display name", realm.display_name.clone().unwrap_or_default(), "Shown on sign-in pages."),
                flag("enabled", "Enabled", realm.enabled, "Users of a disabled realm cannot sign in or get tokens."),
            ],
            Tab::Tokens => vec![
                seconds("access_token_lifespan", "Access token lifespan (seconds)", realm.access_token_lifespan, "How long access tokens, docker registry tokens among them, stay valid."),
                seconds("sso_session_idle_timeout", "SSO session idle (seconds)", realm.sso_session_idle_timeout, "A session unused this long ends (console sessions too)."),
                seconds("sso_session_max_lifespan", "SSO session max (seconds)", realm.sso_session_max_lifespan, "A session ends this long after sign-in, used or not."),
                seconds("offline_session_idle_timeout", "Offline session idle (seconds)", realm.offline_session_idle_timeout, "How long an unused docker identity token (offline token) lives."),
            ],
            Tab::Security => vec![
                flag("brute_force_protected", "Brute force detection", realm.brute_force_protected, "Slow down and lock sign-ins after repeated failures."),
                flag("permanent_lockout", "Permanent lockout", realm.permanent_lockout, "Lock a username until an admin unlocks it, once it reaches the failure factor."),
                count("failure_factor", "Max login failures", realm.failure_factor, "Failures before each wait increment."),
                seconds("wait_increment_seconds", "Wait increment (seconds)", realm.wait_increment_seconds, "Added to the lock every time the failure count reaches a multiple of the maximum."),
                seconds("max_failure_wait_seconds", "Max wait (seconds)", realm.max_failure_wait_seconds, "The longest temporary lock."),
                count("quick_login_check_milli_seconds", "Quick login check (milliseconds)", realm.quick_login_check_milli_seconds, "Failures closer together than this count as quick."),
                seconds("minimum_quick_login_wait_seconds", "Minimum quick login wait (seconds)", realm.minimum_quick_login_wait_seconds, "The lock after quick failures."),
                seconds("max_delta_time_seconds", "Failure reset time (seconds)", realm.max_delta_time_seconds, "The failure count restarts after this long without failures."),
            ],
            Tab::Events => vec![
                flag("events_enabled", "Save events", realm.events_enabled, "Store login events (sign-ins, docker and OIDC tokens) of this realm."),
                Field {
                    help: "Login events older than this are deleted; 0 keeps them until the realm's bound is reached.".to_owned(),
                    ..count("events_expiration", "Expiration (seconds)", realm.events_expiration, "")
                },
                text("enabled_event_types", "Saved types", realm.enabled_event_types.to_string(), "Event types to store, separated by spaces (LOGIN LOGIN_ERROR ...); empty stores every type."),
                flag("admin_events_enabled", "Save admin events", realm.admin_events_enabled, "Store who changed what in this realm."),
                flag("admin_events_details_enabled", "Include representation", realm.admin_events_details_enabled, "Store the JSON written with each admin event."),
            ],
        }
    }

    /// The partial representation a saved form becomes.
    fn repr(self, form: &FormData, errors: &mut Errors) -> RealmRepr {
        let mut n = |name| number(form, name, errors);
        match self {
            Tab::General => RealmRepr {
                display_name: Some(form.get("display_name").to_owned()),
                enabled: Some(form.checked("enabled")),
                ..RealmRepr::default()
            },
            Tab::Tokens => RealmRepr {
                access_token_lifespan: n("access_token_lifespan"),
                sso_session_idle_timeout: n("sso_session_idle_timeout"),
                sso_session_max_lifespan: n("sso_session_max_lifespan"),
                offline_session_idle_timeout: n("offline_session_idle_timeout"),
                ..RealmRepr::default()
            },
            Tab::Security => RealmRepr {
                failure_factor: n("failure_factor"),
                wait_increment_seconds: n("wait_increment_seconds"),
                max_failure_wait_seconds: n("max_failure_wait_seconds"),
                quick_login_check_milli_seconds: n("quick_login_check_milli_seconds"),
                minimum_quick_login_wait_seconds: n("minimum_quick_login_wait_seconds"),
                max_delta_time_seconds: n("max_delta_time_seconds"),
                brute_force_protected: Some(form.checked("brute_force_protected")),
                permanent_lockout: Some(form.checked("permanent_lockout")),
                ..RealmRepr::default()
            },
            Tab::Events => RealmRepr {
                events_enabled: Some(form.checked("events_enabled")),
                events_expiration: n("events_expiration"),
                enabled_event_types: Some(
                    form.get("enabled_event_types")
                        .split_whitespace()
                        .map(str::to_owned)
                        .collect(),
                ),
                admin_events_enabled: Some(form.checked("admin_events_enabled")),
                admin_events_details_enabled: Some(form.checked("admin_events_details_enabled")),
                ..RealmRepr::default()
            },
        }
    }
}

/// The messages of `ops::realms::update` name fields in camelCase.
const FIELD_NAMES: [(&str, &str); 13] = [
    ("eventsExpiration", "events_expiration"),
    ("enabledEventTypes", "enabled_event_types"),
    ("accessTokenLifespan", "access_token_lifespan"),
    ("ssoSessionIdleTimeout", "sso_session_idle_timeout"),
    ("ssoSessionMaxLifespan", "sso_session_max_lifespan"),
    ("offlineSessionIdleTimeout", "offline_session_idle_timeout"),
    ("failureFactor", "failure_factor"),
    ("waitIncrementSeconds", "wait_increment_seconds"),
    ("maxFailureWaitSeconds", "max_failure_wait_seconds"),
    (
        "minimumQuickLoginWaitSeconds",
        "minimum_quick_login_wait_seconds",
    ),
    (
        "quickLoginCheckMilliSeconds",
        "quick_login_check_milli_seconds",
    ),
    ("maxDeltaTimeSeconds", "max_delta_time_seconds"),
    ("disabled", "enabled"),
];

/// One input of a settings tab.
#[derive(Debug, Clone)]
struct Field {
    /// `text`, `readonly`, `number` or `checkbox`.
    kind: &'static str,
    name: &'static str,
    label: &'static str,
    value: String,
    checked: bool,
    required: bool,
    help: String,
}

#[derive(Template)]
#[template(path = "console/settings/tab.html")]
struct SettingsPage {
    layout: Layout,
    tab: &'static str,
    fields: Vec<Field>,
    errors: Errors,
    editable: bool,
    role: &'static str,
    max_login_events: i64,
    max_admin_events: i64,
}

async fn page(
    console: &Console,
    target: &str,
    tab: Tab,
    realm: &Realm,
    typed: Option<&FormData>,
    errors: Errors,
) -> Result<HttpResponse, ConsoleError> {
    let target = console.target(target).await?;
    let layout = console
        .layout(
            format!("Realm settings · {}", tab.title()),
            Some(&target),
            "settings",
        )
        .await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let page = SettingsPage {
        editable: tab.editable(layout.realm()),
        layout,
        tab: tab.id(),
        fields: tab.fields(realm, typed),
        errors,
        role: tab.role(),
        max_login_events: crate::event_retention::MAX_LOGIN_EVENTS_PER_REALM,
        max_admin_events: crate::event_retention::MAX_ADMIN_EVENTS_PER_REALM,
    };
    render_status(console, &page, status)
}

/// The realm as the tab shows it: the Events tab needs only view-events.
async fn current(console: &Console, target: &str, tab: Tab) -> Result<Realm, ConsoleError> {
    Ok(match tab {
        Tab::Events => ops::event_settings::get(&console.state, &console.actor, target).await?,
        _ => ops::realms::get(&console.state, &console.actor, target).await?,
    })
}

async fn show(
    console: Console,
    path: web::Path<RealmPath>,
    tab: Tab,
) -> Result<HttpResponse, ConsoleError> {
    let realm = current(&console, &path.target, tab).await?;
    page(&console, &path.target, tab, &realm, None, Errors::default()).await
}

async fn save(
    posted: Posted,
    path: web::Path<RealmPath>,
    tab: Tab,
) -> Result<HttpResponse, ConsoleError> {
    let Posted { console, form } = posted;
    let realm = current(&console, &path.target, tab).await?;
    let mut errors = Errors::default();
    let repr = tab.repr(&form, &mut errors);
    if !errors.is_empty() {
        return page(&console, &path.target, tab, &realm, Some(&form), errors).await;
    }
    let saved = match tab {
        Tab::Events => {
            let config = EventsConfigRepr {
                events_enabled: repr.events_enabled,
                events_expiration: repr.events_expiration,
                events_listeners: None,
                enabled_event_types: repr.enabled_event_types,
                admin_events_enabled: repr.admin_events_enabled,
                admin_events_details_enabled: repr.admin_events_details_enabled,
            };
            ops::event_settings::update(&console.state, &console.actor, &path.target, &config).await
        }
        _ => ops::realms::update(&console.state, &console.actor, &path.target, &repr).await,
    };
    match saved {
        Ok(_) => Ok(console.done(
            &format!(
                "{}{}",
                console.paths.root,
                tab.route()
                    .replace("/{target}", &format!("/{}", path.target))
            ),
            &format!("{} settings saved.", tab.title()),
        )),
        Err(err) => {
            let errors = Errors::from_ops(err, &FIELD_NAMES)?;
            page(&console, &path.target, tab, &realm, Some(&form), errors).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_saves_keep_what_was_typed() {
        let realm = Realm::new(crate::domain::RealmName::parse("r").unwrap());
        let form = FormData::parse(b"access_token_lifespan=abc");
        let fields = Tab::Tokens.fields(&realm, Some(&form));
        assert_eq!(fields[0].value, "abc");
        let mut errors = Errors::default();
        let repr = Tab::Tokens.repr(&form, &mut errors);
        assert_eq!(repr.access_token_lifespan, None);
        assert!(errors.field("access_token_lifespan").is_some());
    }
}
