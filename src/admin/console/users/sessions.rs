//! A user's Sessions tab: sign-in sessions and live tokens (docker identity tokens among
//! them), each revocable, and signing the user out everywhere.

use actix_web::{web, HttpResponse};
use askama::Template;

use super::{load, UserPath, UserView};
use crate::admin::console::error::ConsoleError;
use crate::admin::console::form::Posted;
use crate::admin::console::page::{datetime, render, Layout};
use crate::admin::console::session::Console;
use crate::admin::ops;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/{target}/users/{id}/sessions", web::get().to(show))
        .route("/{target}/users/{id}/sessions", web::post().to(change));
}

struct SessionRow {
    id: String,
    ip: String,
    started: String,
    last_access: String,
    current: bool,
}

struct TokenRow {
    id: String,
    kind: String,
    client: String,
    ip: String,
    created: String,
    last_used: String,
    expires: String,
}

#[derive(Template)]
#[template(path = "console/users/sessions.html")]
struct SessionsPage {
    layout: Layout,
    tab: &'static str,
    user: UserView,
    sessions: Vec<SessionRow>,
    tokens: Vec<TokenRow>,
}

fn kind_label(kind: &str) -> String {
    match kind {
        "docker" => "Docker identity token".into(),
        "offline" => "Offline token".into(),
        "refresh" => "Refresh token".into(),
        other => other.to_owned(),
    }
}

async fn show(console: Console, path: web::Path<UserPath>) -> Result<HttpResponse, ConsoleError> {
    let (target, user) = load(&console, &path).await?;
    let (state, actor) = (&console.state, &console.actor);
    let sessions = ops::user_sessions::sessions(state, actor, &path.target, &path.id)
        .await?
        .into_iter()
        .map(|s| SessionRow {
            current: s.id == console.session_id,
            id: s.id,
            ip: s.ip_address.unwrap_or_default(),
            started: datetime(s.started_at),
            last_access: datetime(s.last_access_at),
        })
        .collect();
    let tokens = ops::user_sessions::tokens(state, actor, &path.target, &path.id)
        .await?
        .into_iter()
        .map(|t| TokenRow {
            id: t.token.id,
            kind: kind_label(&t.token.kind),
            client: t.client_id.unwrap_or_default(),
            ip: t.token.ip_address.unwrap_or_default(),
            created: datetime(t.token.created_at),
            last_used: datetime(t.token.last_used_at),
            expires: datetime(t.token.expires_at),
        })
        .collect();
    let layout = console
        .layout(
            format!("User {} · Sessions", user.username),
            Some(&target),
            "users",
        )
        .await?;
    let page = SessionsPage {
        layout,
        tab: "sessions",
        user,
        sessions,
        tokens,
    };
    render(&console, &page)
}

async fn change(posted: Posted, path: web::Path<UserPath>) -> Result<HttpResponse, ConsoleError> {
    let Posted { console, form } = posted;
    let (state, actor) = (&console.state, &console.actor);
    let (realm, id) = (&path.target, &path.id);
    let message = match form.get("action") {
        "end-session" => {
            ops::user_sessions::end(state, actor, realm, id, form.get("session")).await?;
            "Session ended."
        }
        "revoke-token" => {
            ops::users::revoke_token(state, actor, realm, id, form.get("token")).await?;
            "Token revoked."
        }
        "logout" => {
            ops::users::logout(state, actor, realm, id).await?;
            "Signed out everywhere: every session ended and every token revoked."
        }
        _ => return Err(ConsoleError::BadRequest("Unknown action.".into())),
    };
    let back = format!("{}/users/{}/sessions", console.paths.realm(realm), id);
    Ok(console.done(&back, message))
}
