//! A docker-v2 client's Access policy tab: allow-all (Keycloak's behaviour), or ordered allow
//! and deny rules edited as a form, one card per rule. "Add rule" and "Remove" work without
//! JavaScript (they post the form and get it back with a row more or less, nothing saved);
//! the console script does the same in the page. Rules naming a role or group the realm does
//! not have are saved, with a warning: the role may come later, as with docker_auth's ACLs
//! and Keycloak's own policies. The tester below asks the saved policy, through the token
//! endpoint's engine, what a user would get and which rule decided.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

use super::policy_rows::RuleRow;
use super::policy_tester::{Answer, Tester, TesterQuery};
use super::{load, ClientPath, ClientView};
use crate::admin::console::error::ConsoleError;
use crate::admin::console::form::Posted;
use crate::admin::console::page::{render_status, Layout};
use crate::admin::console::session::Console;
use crate::admin::ops;
use crate::admin::ops::docker_policy::KnownNames;
use crate::protocol::docker::policy::{Who, MAX_RULES};
use crate::protocol::docker::AccessPolicy;

/// The most rows a form may carry (rules, and rows left blank or removed).
const MAX_ROWS: usize = 2 * MAX_RULES;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/{target}/clients/{id}/access-policy", web::get().to(show))
        .route("/{target}/clients/{id}/access-policy", web::post().to(save));
}

#[derive(Template)]
#[template(path = "console/clients/policy.html")]
struct PolicyPage {
    layout: Layout,
    tab: &'static str,
    client: ClientView,
    allow_all: bool,
    rows: Vec<RuleRow>,
    /// A blank row for the "Add rule" script to copy.
    blank: RuleRow,
    /// Whether some row is marked invalid.
    invalid_rows: bool,
    error: Option<String>,
    roles: Vec<String>,
    groups: Vec<String>,
    tester: Tester,
}

/// What the page is rendered with besides the client.
struct Shown {
    allow_all: bool,
    rows: Vec<RuleRow>,
    error: Option<String>,
    status: StatusCode,
    tester: Tester,
}

async fn page(
    console: &Console,
    path: &ClientPath,
    mut shown: Shown,
) -> Result<HttpResponse, ConsoleError> {
    let (target, client) = load(console, path).await?;
    let client = ClientView::of(&client);
    if !client.docker {
        return Err(ConsoleError::NotFound("Access policy".into()));
    }
    let names =
        ops::docker_policy::known_names(&console.state, &console.actor, &path.target).await?;
    warn_unknown(&mut shown.rows, &names);
    if shown.rows.is_empty() {
        shown.rows.push(RuleRow::blank());
    }
    let layout = console
        .layout(
            format!("Client {} · Access policy", client.client_id),
            Some(&target),
            "clients",
        )
        .await?;
    let invalid_rows = shown.rows.iter().any(|r| r.error.is_some());
    let page = PolicyPage {
        layout,
        tab: "policy",
        client,
        allow_all: shown.allow_all,
        rows: shown.rows,
        blank: RuleRow::blank(),
        invalid_rows,
        error: shown.error,
        roles: names.roles.unwrap_or_default(),
        groups: names.groups.unwrap_or_default(),
        tester: shown.tester,
    };
    render_status(console, &page, shown.status)
}

/// Marks rows naming a role or group the realm lacks (saved all the same).
fn warn_unknown(rows: &mut [RuleRow], names: &KnownNames) {
    for row in rows.iter_mut().filter(|r| r.error.is_none()) {
        let who = match row.who.as_str() {
            "role" => Who::Role(row.name.clone()),
            "group" => Who::Group(row.name.clone()),
            _ => continue,
        };
        row.warning = names.unknown(&who);
    }
}

async fn show(
    console: Console,
    path: web::Path<ClientPath>,
    query: web::Query<TesterQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let policy = ops::clients::policy(&console.state, &console.actor, &path.target, &path.id).await;
    let policy = match policy {
        Ok(policy) => policy,
        Err(ops::OpsError::Invalid(_)) => {
            return Err(ConsoleError::NotFound("Access policy".into()))
        }
        Err(err) => return Err(err.into()),
    };
    let (allow_all, rows) = match &policy {
        AccessPolicy::AllowAll => (true, Vec::new()),
        AccessPolicy::Rules { rules } => (false, rules.iter().map(RuleRow::of).collect()),
    };
    let tester = Tester::run(&console, &path, query.into_inner()).await?;
    let shown = Shown {
        allow_all,
        rows,
        error: None,
        status: StatusCode::OK,
        tester,
    };
    page(&console, &path, shown).await
}

/// Which button posted the form.
#[derive(Debug, PartialEq, Eq)]
enum Button {
    Save,
    Add,
    Remove(usize),
}

async fn save(posted: Posted, path: web::Path<ClientPath>) -> Result<HttpResponse, ConsoleError> {
    let Posted { console, form } = posted;
    let count = form.get("rows").parse::<usize>().unwrap_or(0).min(MAX_ROWS);
    let allow_all = form.get("mode") != "rules";
    let button = if form.checked("add") {
        Button::Add
    } else if let Ok(i) = form.get("remove").parse::<usize>() {
        Button::Remove(i)
    } else {
        Button::Save
    };
    let mut rows = Vec::new();
    let mut rules = Vec::new();
    for i in 0..count {
        let mut row = RuleRow::from_form(&form, i);
        if row.is_blank() || button == Button::Remove(i) {
            continue;
        }
        if button == Button::Save {
            match row.rule() {
                Ok(rule) => rules.push(rule),
                Err(error) => row.error = Some((error.0, error.1)),
            }
        }
        rows.push(row);
    }
    let tester = Tester::run(&console, &path, TesterQuery::default()).await?;
    let shown = |rows, error, status| Shown {
        allow_all,
        rows,
        error,
        status,
        tester,
    };
    if button == Button::Add {
        if rows.len() < MAX_RULES {
            rows.push(RuleRow::blank());
        }
        return page(&console, &path, shown(rows, None, StatusCode::OK)).await;
    }
    if button != Button::Save {
        return page(&console, &path, shown(rows, None, StatusCode::OK)).await;
    }
    if !allow_all && rows.iter().any(|r| r.error.is_some()) {
        return page(&console, &path, shown(rows, None, StatusCode::BAD_REQUEST)).await;
    }
    let policy = if allow_all {
        AccessPolicy::AllowAll
    } else {
        AccessPolicy::Rules { rules }
    };
    let result = ops::clients::set_access_policy(
        &console.state,
        &console.actor,
        &path.target,
        &path.id,
        policy,
    )
    .await;
    match result {
        Ok(()) => Ok(console.done(
            &format!(
                "{}/clients/{}/access-policy",
                console.paths.realm(&path.target),
                path.id
            ),
            "Access policy saved.",
        )),
        Err(ops::OpsError::Invalid(message)) => {
            page(
                &console,
                &path,
                shown(rows, Some(message), StatusCode::BAD_REQUEST),
            )
            .await
        }
        Err(err) => Err(err.into()),
    }
}
