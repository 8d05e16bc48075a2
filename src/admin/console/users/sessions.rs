//! A user's Sessions tab: sign-in sessions and live tokens (docker identity tokens among
//! them), each with its client, times to the second, address, user agent and a short id, each
//! revocable, and signing the user out everywhere.

use actix_web::{web, HttpResponse};
use askama::Template;

use super::{load, UserPath, UserView};
use crate::admin::console::error::ConsoleError;
use crate::admin::console::form::Posted;
use crate::admin::console::page::{moment, render, Layout};
use crate::admin::console::session::Console;
use crate::admin::console::sessions::{kind_label, short_id, SessionRow, TokenRow};
use crate::admin::ops;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/{target}/users/{id}/sessions", web::get().to(show))
        .route("/{target}/users/{id}/sessions", web::post().to(change));
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

/// The client a session was started through, then any other client holding its tokens.
fn clients_of(view: &ops::sessions::SessionView) -> String {
    let mut names: Vec<&str> = view.session.client.as_deref().into_iter().collect();
    for (_, client_id) in &view.clients {
        if !names.contains(&client_id.as_str()) {
            names.push(client_id);
        }
    }
    names.join(", ")
}

async fn show(console: Console, path: web::Path<UserPath>) -> Result<HttpResponse, ConsoleError> {
    let (target, user) = load(&console, &path).await?;
    let (state, actor) = (&console.state, &console.actor);
    let sessions = ops::sessions::of_user(state, actor, &path.target, &path.id)
        .await?
        .into_iter()
        .map(|view| SessionRow {
            clients: clients_of(&view),
            current: view.session.id == console.session_id,
            short_id: short_id(&view.session.id),
            user_id: user.id.clone(),
            username: user.username.clone(),
            ip: view.session.ip_address.unwrap_or_default(),
            user_agent: view.session.user_agent.unwrap_or_default(),
            started: moment(view.session.started_at),
            last_access: moment(view.session.last_access_at),
            id: view.session.id,
        })
        .collect();
    let tokens = ops::user_sessions::tokens(state, actor, &path.target, &path.id)
        .await?
        .into_iter()
        .map(|t| TokenRow {
            short_id: short_id(&t.token.id),
            id: t.token.id,
            user_id: user.id.clone(),
            username: user.username.clone(),
            kind: kind_label(&t.token.kind),
            client: t.client_id.unwrap_or_default(),
            ip: t.token.ip_address.unwrap_or_default(),
            user_agent: t.token.user_agent.unwrap_or_default(),
            created: moment(t.token.created_at),
            last_used: moment(t.token.last_used_at),
            expires: moment(t.token.expires_at),
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
