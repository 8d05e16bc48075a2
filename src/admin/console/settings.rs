//! Realm settings: the General, Tokens, Security defenses and Events tabs. Each tab is a list
//! of fields; saving builds a partial `RealmRepr` and calls `ops::realms::update`, or for the
//! Events tab `ops::event_settings::update` (which needs manage-events, as in Keycloak).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

use super::error::ConsoleError;
use super::form::{number, seconds, Errors, FormData, Posted};
use super::page::{duration, render_status, short_duration, Layout, Target};
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
            choices: Vec::new(),
        };
        let flag = |name, label, value: bool, help: &str| Field {
            kind: "checkbox",
            name,
            label,
            value: String::new(),
            checked: typed.map_or(value, |f| f.checked(name)),
            required: false,
            help: help.to_owned(),
            choices: Vec::new(),
        };
        let seconds = |name, value: i64, help: &str| Field {
            kind: "text",
            name,
            label: label_of(name),
            value: typed.map_or(short_duration(value), |f| f.raw(name).to_owned()),
            checked: false,
            required: true,
            help: format!(
                "{help} Typed as 30s, 5m, 1h or 2d. Now: {}.",
                duration(value)
            ),
            choices: Vec::new(),
        };
        let count = |name, value: i64, help: &str| Field {
            kind: "number",
            help: help.to_owned(),
            value: typed.map_or(value.to_string(), |f| f.raw(name).to_owned()),
            ..seconds(name, value, help)
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
                seconds("access_token_lifespan", realm.access_token_lifespan, "How long access tokens, docker registry tokens among them, stay valid."),
                seconds("sso_session_idle_timeout", realm.sso_session_idle_timeout, "A session unused this long ends (console sessions too)."),
                seconds("sso_session_max_lifespan", realm.sso_session_max_lifespan, "A session ends this long after sign-in, used or not."),
                seconds("offline_session_idle_timeout", realm.offline_session_idle_timeout, "How long an unused docker identity token (offline token) lives."),
            ],
            Tab::Security => vec![
                flag("brute_force_protected", "Brute force detection", realm.brute_force_protected, "Slow down and lock sign-ins after repeated failures."),
                flag("permanent_lockout", "Permanent lockout", realm.permanent_lockout, "Lock a username until an admin unlocks it, once it reaches the failure factor."),
                count("failure_factor", realm.failure_factor, "Failures before each wait increment."),
                seconds("wait_increment_seconds", realm.wait_increment_seconds, "Added to the lock every time the failure count reaches a multiple of the maximum."),
                seconds("max_failure_wait_seconds", realm.max_failure_wait_seconds, "The longest temporary lock."),
                count("quick_login_check_milli_seconds", realm.quick_login_check_milli_seconds, "Failures closer together than this count as quick."),
                seconds("minimum_quick_login_wait_seconds", realm.minimum_quick_login_wait_seconds, "The lock after quick failures."),
                seconds("max_delta_time_seconds", realm.max_delta_time_seconds, "The failure count restarts after this long without failures."),
            ],
            Tab::Events => vec![
                flag("events_enabled", "Save events", realm.events_enabled, "Store login events (sign-ins, docker and OIDC tokens) of this realm."),
                seconds("events_expiration", realm.events_expiration, "Login events older than this are deleted every minute; 0 keeps them until the realm's bound is reached."),
                Field {
                    kind: "choices",
                    choices: event_type_choices(realm, typed),
                    ..text("enabled_event_types", "Saved types", String::new(), "Only these types are stored; with every type ticked, types added later are stored too.")
                },
                flag("admin_events_enabled", "Save admin events", realm.admin_events_enabled, "Store who changed what in this realm."),
                flag("admin_events_details_enabled", "Include representation", realm.admin_events_details_enabled, "Store the JSON written with each admin event."),
            ],
        }
    }

    /// The partial representation a saved form becomes.
    fn repr(self, form: &FormData, errors: &mut Errors) -> RealmRepr {
        match self {
            Tab::General => RealmRepr {
                display_name: Some(form.get("display_name").to_owned()),
                enabled: Some(form.checked("enabled")),
                ..RealmRepr::default()
            },
            Tab::Tokens => RealmRepr {
                access_token_lifespan: seconds(
                    form,
                    "access_token_lifespan",
                    label_of("access_token_lifespan"),
                    errors,
                ),
                sso_session_idle_timeout: seconds(
                    form,
                    "sso_session_idle_timeout",
                    label_of("sso_session_idle_timeout"),
                    errors,
                ),
                sso_session_max_lifespan: seconds(
                    form,
                    "sso_session_max_lifespan",
                    label_of("sso_session_max_lifespan"),
                    errors,
                ),
                offline_session_idle_timeout: seconds(
                    form,
                    "offline_session_idle_timeout",
                    label_of("offline_session_idle_timeout"),
                    errors,
                ),
                ..RealmRepr::default()
            },
            Tab::Security => RealmRepr {
                failure_factor: number(form, "failure_factor", errors),
                wait_increment_seconds: seconds(
                    form,
                    "wait_increment_seconds",
                    label_of("wait_increment_seconds"),
                    errors,
                ),
                max_failure_wait_seconds: seconds(
                    form,
                    "max_failure_wait_seconds",
                    label_of("max_failure_wait_seconds"),
                    errors,
                ),
                quick_login_check_milli_seconds: number(
                    form,
                    "quick_login_check_milli_seconds",
                    errors,
                ),
                minimum_quick_login_wait_seconds: seconds(
                    form,
                    "minimum_quick_login_wait_seconds",
                    label_of("minimum_quick_login_wait_seconds"),
                    errors,
                ),
                max_delta_time_seconds: seconds(
                    form,
                    "max_delta_time_seconds",
                    label_of("max_delta_time_seconds"),
                    errors,
                ),
                brute_force_protected: Some(form.checked("brute_force_protected")),
                permanent_lockout: Some(form.checked("permanent_lockout")),
                ..RealmRepr::default()
            },
            Tab::Events => RealmRepr {
                events_enabled: Some(form.checked("events_enabled")),
                events_expiration: seconds(
                    form,
                    "events_expiration",
                    label_of("events_expiration"),
                    errors,
                ),
                enabled_event_types: Some(chosen_event_types(form, errors)),
                admin_events_enabled: Some(form.checked("admin_events_enabled")),
                admin_events_details_enabled: Some(form.checked("admin_events_details_enabled")),
                ..RealmRepr::default()
            },
        }
    }
}

/// The labels of the fields the form names, as the tabs show them.
const LABELS: [(&str, &str); 13] = [
    ("access_token_lifespan", "Access token lifespan"),
    ("sso_session_idle_timeout", "SSO session idle"),
    ("sso_session_max_lifespan", "SSO session max"),
    ("offline_session_idle_timeout", "Offline session idle"),
    ("failure_factor", "Max login failures"),
    ("wait_increment_seconds", "Wait increment"),
    ("max_failure_wait_seconds", "Max wait"),
    (
        "quick_login_check_milli_seconds",
        "Quick login check (milliseconds)",
    ),
    (
        "minimum_quick_login_wait_seconds",
        "Minimum quick login wait",
    ),
    ("max_delta_time_seconds", "Failure reset time"),
    ("events_expiration", "Events expiration"),
    ("enabled_event_types", "Saved types"),
    ("enabled", "Enabled"),
];

/// The label of the field `name`.
fn label_of(name: &str) -> &'static str {
    LABELS
        .iter()
        .find(|(n, _)| *n == name)
        .map_or("This field", |(_, label)| label)
}

/// An operation's refusal as form errors, on the field it names and with the setting named
/// by the field's label, not as the representation names it (`accessTokenLifespan`).
fn refusal(err: ops::OpsError) -> Result<Errors, ConsoleError> {
    if let ops::OpsError::Invalid(message) = &err {
        if let Some((camel, field)) = FIELD_NAMES.iter().find(|(c, _)| message.contains(c)) {
            let mut errors = Errors::default();
            errors.add(field, message.replacen(camel, label_of(field), 1));
            return Ok(errors);
        }
    }
    Errors::from_ops(err, &[])
}

/// Every login event type, ticked when the realm stores it (or, after a refused save, when
/// it was ticked).
fn event_type_choices(realm: &Realm, typed: Option<&FormData>) -> Vec<(String, bool)> {
    let ticked = typed.map(|f| f.all("enabled_event_types"));
    crate::protocol::login::EVENT_TYPES
        .iter()
        .map(|t| {
            let on = match &ticked {
                Some(ticked) => ticked.iter().any(|x| x == t),
                None => realm.enabled_event_types.allows(t),
            };
            ((*t).to_owned(), on)
        })
        .collect()
}

/// The ticked event types; every type ticked is stored as none listed (every type).
fn chosen_event_types(form: &FormData, errors: &mut Errors) -> Vec<String> {
    let all = crate::protocol::login::EVENT_TYPES;
    let ticked: Vec<String> = form
        .all("enabled_event_types")
        .into_iter()
        .filter(|t| all.contains(&t.as_str()))
        .collect();
    if ticked.is_empty() && form.checked("events_enabled") {
        errors.add(
            "enabled_event_types",
            "Saved types: tick at least one type, or switch saving events off.",
        );
    }
    if ticked.len() == all.len() {
        return Vec::new();
    }
    ticked
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
    /// `text`, `readonly`, `number`, `checkbox` or `choices`.
    kind: &'static str,
    name: &'static str,
    label: &'static str,
    value: String,
    checked: bool,
    required: bool,
    help: String,
    /// For `choices`: each option and whether it is ticked.
    choices: Vec<(String, bool)>,
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
    /// Where the realm's own administrators (team admins) sign in.
    signin_address: String,
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
        signin_address: format!(
            "{}/admin/{}/console/",
            console.base.as_str().trim_end_matches('/'),
            realm.name
        ),
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
    if !tab.editable(&console.target(&path.target).await?) {
        return Err(ConsoleError::Forbidden);
    }
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
            let errors = refusal(err)?;
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
