//! A docker-v2 client's Access policy tab: allow-all (Keycloak's behaviour), or ordered rules
//! edited as a form, one row per rule, with blank rows to add more (no JavaScript needed).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde_json::{json, Value};

use super::{load, ClientPath, ClientView};
use crate::admin::console::error::ConsoleError;
use crate::admin::console::form::{FormData, Posted};
use crate::admin::console::page::{render_status, Layout};
use crate::admin::console::session::Console;
use crate::admin::ops;
use crate::protocol::docker::policy::Rule;
use crate::protocol::docker::AccessPolicy;

/// Blank rows offered below the rules.
const BLANK_ROWS: usize = 3;
/// The most rows a form may carry.
const MAX_ROWS: usize = 500;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/{target}/clients/{id}/access-policy", web::get().to(show))
        .route("/{target}/clients/{id}/access-policy", web::post().to(save));
}

/// One rule as a form row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct RuleRow {
    /// `repository` or `catalog`.
    target: String,
    repository: String,
    /// `authenticated`, `anonymous`, `role` or `group`.
    who: String,
    /// The role or group name.
    name: String,
    pull: bool,
    push: bool,
    delete: bool,
    all: bool,
    error: Option<String>,
}

impl RuleRow {
    fn blank() -> RuleRow {
        RuleRow {
            target: "repository".into(),
            who: "authenticated".into(),
            ..RuleRow::default()
        }
    }

    /// A stored rule as a row (read through its JSON form, the policy's public shape).
    fn of(rule: &Rule) -> RuleRow {
        let value = serde_json::to_value(rule).unwrap_or(Value::Null);
        let text = |key: &str| value[key].as_str().unwrap_or_default().to_owned();
        let actions: Vec<&str> = value["actions"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let who = text("who");
        let (who, name) = match who.split_once(':') {
            Some((kind, name)) => (kind.to_owned(), name.to_owned()),
            None => (who, String::new()),
        };
        RuleRow {
            target: if value["catalog"] == json!(true) {
                "catalog".into()
            } else {
                "repository".into()
            },
            repository: text("repository"),
            who,
            name,
            pull: actions.contains(&"pull"),
            push: actions.contains(&"push"),
            delete: actions.contains(&"delete"),
            all: actions.contains(&"*"),
            error: None,
        }
    }

    /// Row `i` of a posted form.
    fn from_form(form: &FormData, i: usize) -> RuleRow {
        let field = |name: &str| form.get(&format!("rule{i}_{name}")).to_owned();
        let checked = |name: &str| form.checked(&format!("rule{i}_{name}"));
        RuleRow {
            target: field("target"),
            repository: field("repository"),
            who: field("who"),
            name: field("name"),
            pull: checked("pull"),
            push: checked("push"),
            delete: checked("delete"),
            all: checked("all"),
            error: None,
        }
    }

    fn is_blank(&self) -> bool {
        self.target != "catalog"
            && self.repository.is_empty()
            && self.name.is_empty()
            && !(self.pull || self.push || self.delete || self.all)
    }

    /// The rule this row stands for, or why it is not one.
    fn rule(&self) -> Result<Rule, String> {
        let actions: Vec<&str> = [
            (self.pull, "pull"),
            (self.push, "push"),
            (self.delete, "delete"),
            (self.all, "*"),
        ]
        .into_iter()
        .filter_map(|(on, action)| on.then_some(action))
        .collect();
        let who = match self.who.as_str() {
            "role" | "group" => format!("{}:{}", self.who, self.name),
            other => other.to_owned(),
        };
        let mut value = json!({"who": who, "actions": actions});
        if self.target == "catalog" {
            value["catalog"] = json!(true);
        } else {
            value["repository"] = json!(self.repository);
        }
        serde_json::from_value(value).map_err(|e| e.to_string())
    }
}

#[derive(Template)]
#[template(path = "console/clients/policy.html")]
struct PolicyPage {
    layout: Layout,
    tab: &'static str,
    client: ClientView,
    allow_all: bool,
    rows: Vec<RuleRow>,
    /// Whether some row is marked invalid.
    invalid_rows: bool,
    error: Option<String>,
}

async fn page(
    console: &Console,
    path: &ClientPath,
    allow_all: bool,
    mut rows: Vec<RuleRow>,
    error: Option<String>,
) -> Result<HttpResponse, ConsoleError> {
    let (target, client) = load(console, path).await?;
    let client = ClientView::of(&client);
    if !client.docker {
        return Err(ConsoleError::NotFound("Access policy".into()));
    }
    rows.extend(std::iter::repeat_n(RuleRow::blank(), BLANK_ROWS));
    let layout = console
        .layout(
            format!("Client {} · Access policy", client.client_id),
            Some(&target),
            "clients",
        )
        .await?;
    let invalid_rows = rows.iter().any(|r| r.error.is_some());
    let status = if invalid_rows || error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = PolicyPage {
        layout,
        tab: "policy",
        client,
        allow_all,
        rows,
        invalid_rows,
        error,
    };
    render_status(console, &page, status)
}

async fn show(console: Console, path: web::Path<ClientPath>) -> Result<HttpResponse, ConsoleError> {
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
    page(&console, &path, allow_all, rows, None).await
}

async fn save(posted: Posted, path: web::Path<ClientPath>) -> Result<HttpResponse, ConsoleError> {
    let Posted { console, form } = posted;
    let count = form.get("rows").parse::<usize>().unwrap_or(0).min(MAX_ROWS);
    let allow_all = form.get("mode") != "rules";
    let mut rows = Vec::new();
    let mut rules = Vec::new();
    for i in 0..count {
        let mut row = RuleRow::from_form(&form, i);
        if row.is_blank() || form.checked(&format!("rule{i}_remove")) {
            continue;
        }
        match row.rule() {
            Ok(rule) => rules.push(rule),
            Err(message) => row.error = Some(message),
        }
        rows.push(row);
    }
    if !allow_all && rows.iter().any(|r| r.error.is_some()) {
        return page(&console, &path, allow_all, rows, None).await;
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
            page(&console, &path, allow_all, rows, Some(message)).await
        }
        Err(err) => Err(err.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_round_trip_through_rules() {
        let row = RuleRow {
            repository: "team/${username}/**".into(),
            who: "role".into(),
            name: "pusher".into(),
            pull: true,
            push: true,
            ..RuleRow::blank()
        };
        let rule = row.rule().unwrap();
        assert_eq!(RuleRow::of(&rule), row);
    }

    #[test]
    fn catalog_rows_need_no_repository() {
        let row = RuleRow {
            target: "catalog".into(),
            all: true,
            ..RuleRow::blank()
        };
        assert_eq!(RuleRow::of(&row.rule().unwrap()), row);
    }

    #[test]
    fn invalid_rows_explain_themselves() {
        let row = RuleRow {
            repository: "x".into(),
            ..RuleRow::blank()
        };
        assert!(row.rule().unwrap_err().contains("at least one action"));
        let row = RuleRow {
            repository: "x".into(),
            who: "role".into(),
            pull: true,
            ..RuleRow::blank()
        };
        assert!(row.rule().is_err());
    }
}
