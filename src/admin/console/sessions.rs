//! The realm's Sessions page: every sign-in session and live token (docker identity tokens
//! among them) of the realm, paged, each with who, which client, when to the second, from
//! where and with what program, and a way to end or revoke it. The rows are built here for
//! a user's Sessions tab too.

use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::error::ConsoleError;
use super::form::Posted;
use super::page::{moment, render, Layout, Pager};
use super::realms::RealmPath;
use super::session::Console;
use crate::admin::ops;
use crate::store::tokens::RealmToken;

/// Rows per page.
const PAGE_SIZE: i64 = 25;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/{target}/sessions", web::get().to(list))
        .route("/{target}/sessions", web::post().to(change));
}

/// The first characters of an id: enough to tell a row from its neighbours at a glance.
pub fn short_id(id: &str) -> String {
    id.chars().take(8).collect()
}

/// A token's kind in words.
pub fn kind_label(kind: &str) -> String {
    match kind {
        "docker" => "Docker identity token".into(),
        "offline" => "Offline token".into(),
        "refresh" => "Refresh token".into(),
        other => other.to_owned(),
    }
}

/// A sign-in session as a table row.
pub struct SessionRow {
    pub id: String,
    pub short_id: String,
    pub user_id: String,
    pub username: String,
    pub clients: String,
    pub ip: String,
    pub user_agent: String,
    pub started: String,
    pub last_access: String,
    pub current: bool,
}

/// A live token as a table row.
pub struct TokenRow {
    pub id: String,
    pub short_id: String,
    pub user_id: String,
    pub username: String,
    pub kind: String,
    pub client: String,
    pub ip: String,
    pub user_agent: String,
    pub created: String,
    pub last_used: String,
    pub expires: String,
}

impl TokenRow {
    /// The row of a realm's token.
    pub fn of(t: RealmToken) -> TokenRow {
        TokenRow {
            short_id: short_id(&t.id),
            id: t.id,
            user_id: t.user_id.to_string(),
            username: t.username,
            kind: kind_label(&t.kind),
            client: t.client_id,
            ip: t.ip_address.unwrap_or_default(),
            user_agent: t.user_agent.unwrap_or_default(),
            created: moment(t.created_at),
            last_used: moment(t.last_used_at),
            expires: moment(t.expires_at),
        }
    }
}

/// Which of the two listings the page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Show {
    Sessions,
    Tokens,
}

impl Show {
    /// `tokens` shows the tokens; anything else the sessions.
    fn parse(text: &str) -> Show {
        if text == "tokens" {
            Show::Tokens
        } else {
            Show::Sessions
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Show::Sessions => "sessions",
            Show::Tokens => "tokens",
        }
    }
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    show: Option<String>,
    page: Option<i64>,
}

#[derive(Template)]
#[template(path = "console/sessions/list.html")]
struct ListPage {
    layout: Layout,
    show: &'static str,
    page: i64,
    sessions: Vec<SessionRow>,
    tokens: Vec<TokenRow>,
    pager: Pager,
}

async fn list(
    console: Console,
    path: web::Path<RealmPath>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let (state, actor, realm) = (&console.state, &console.actor, &path.target);
    let show = Show::parse(query.show.as_deref().unwrap_or_default());
    let (first, max, page) = Pager::window(query.page, PAGE_SIZE);
    let target = console.target(realm).await?;
    let here = format!("{}/sessions", target.path);
    let query = [("show", show.as_str())];
    let (mut sessions, mut tokens) = (Vec::new(), Vec::new());
    let pager = match show {
        Show::Sessions => {
            let mut rows = ops::sessions::page_of_realm(state, actor, realm, first, max).await?;
            let pager = Pager::build(&here, &query, page, PAGE_SIZE, &mut rows);
            sessions = rows
                .into_iter()
                .map(|s| SessionRow {
                    current: s.id == console.session_id,
                    short_id: short_id(&s.id),
                    id: s.id,
                    user_id: s.user_id.to_string(),
                    username: s.username,
                    clients: s.client.unwrap_or_default(),
                    ip: s.ip_address.unwrap_or_default(),
                    user_agent: s.user_agent.unwrap_or_default(),
                    started: moment(s.started_at),
                    last_access: moment(s.last_access_at),
                })
                .collect();
            pager
        }
        Show::Tokens => {
            let mut rows = ops::sessions::tokens_of_realm(state, actor, realm, first, max).await?;
            let pager = Pager::build(&here, &query, page, PAGE_SIZE, &mut rows);
            tokens = rows.into_iter().map(TokenRow::of).collect();
            pager
        }
    };
    let layout = console
        .layout("Sessions", Some(&target), "sessions")
        .await?;
    render(
        &console,
        &ListPage {
            layout,
            show: show.as_str(),
            page,
            sessions,
            tokens,
            pager,
        },
    )
}

/// Ends a session or revokes a token of the realm, as a user's own tab does (`manage-users`,
/// and only for a user the admin may manage), then shows the same listing again.
async fn change(posted: Posted, path: web::Path<RealmPath>) -> Result<HttpResponse, ConsoleError> {
    let Posted { console, form } = posted;
    let (state, actor, realm) = (&console.state, &console.actor, &path.target);
    let user = form.get("user");
    let message = match form.get("action") {
        "end-session" => {
            ops::user_sessions::end(state, actor, realm, user, form.get("session")).await?;
            "Session ended."
        }
        "revoke-token" => {
            ops::users::revoke_token(state, actor, realm, user, form.get("token")).await?;
            "Token revoked."
        }
        _ => return Err(ConsoleError::BadRequest("Unknown action.".into())),
    };
    let show = Show::parse(form.get("show"));
    let page = form
        .get("page")
        .parse::<i64>()
        .unwrap_or(1)
        .clamp(1, 1_000_000);
    let mut back = format!(
        "{}/sessions?show={}",
        console.paths.realm(realm),
        show.as_str()
    );
    if page > 1 {
        back.push_str(&format!("&page={page}"));
    }
    Ok(console.done(&back, message))
}
