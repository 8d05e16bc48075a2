//! A confidential client's Credentials tab: the secret, and regenerating it (asked first).

use actix_web::{web, HttpResponse};
use askama::Template;

use super::{load, ClientPath, ClientView};
use crate::admin::console::confirm::{self, Question};
use crate::admin::console::error::ConsoleError;
use crate::admin::console::form::Posted;
use crate::admin::console::page::{render, Layout};
use crate::admin::console::session::Console;
use crate::admin::ops;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/{target}/clients/{id}/credentials", web::get().to(show))
        .route(
            "/{target}/clients/{id}/credentials/regenerate",
            web::get().to(confirm_regenerate),
        )
        .route(
            "/{target}/clients/{id}/credentials/regenerate",
            web::post().to(regenerate),
        );
}

#[derive(Template)]
#[template(path = "console/clients/credentials.html")]
struct CredentialsPage {
    layout: Layout,
    tab: &'static str,
    client: ClientView,
    secret: String,
}

async fn show(console: Console, path: web::Path<ClientPath>) -> Result<HttpResponse, ConsoleError> {
    let (target, client) = load(&console, &path).await?;
    let secret = ops::clients::secret(&console.state, &console.actor, &path.target, &path.id)
        .await?
        .unwrap_or_default();
    let client = ClientView::of(&client);
    let layout = console
        .layout(
            format!("Client {} · Credentials", client.client_id),
            Some(&target),
            "clients",
        )
        .await?;
    render(
        &console,
        &CredentialsPage {
            layout,
            tab: "credentials",
            client,
            secret,
        },
    )
}

async fn confirm_regenerate(
    console: Console,
    path: web::Path<ClientPath>,
) -> Result<HttpResponse, ConsoleError> {
    let (target, client) = load(&console, &path).await?;
    if !target.manage_clients {
        return Err(ConsoleError::Forbidden);
    }
    let question = Question {
        heading: format!("Regenerate the secret of {}", client.client_id),
        message: "Applications using the current secret can no longer authenticate until they \
                  are given the new one."
            .into(),
        action: format!(
            "{}/clients/{}/credentials/regenerate",
            target.path, client.id
        ),
        button: "Regenerate secret".into(),
        cancel: format!("{}/clients/{}/credentials", target.path, client.id),
        type_to_confirm: None,
    };
    let layout = console
        .layout("Regenerate secret", Some(&target), "clients")
        .await?;
    confirm::ask(&console, layout, &question, None)
}

async fn regenerate(
    posted: Posted,
    path: web::Path<ClientPath>,
) -> Result<HttpResponse, ConsoleError> {
    let console = posted.console;
    ops::clients::regenerate_secret(&console.state, &console.actor, &path.target, &path.id).await?;
    Ok(console.done(
        &format!(
            "{}/clients/{}/credentials",
            console.paths.realm(&path.target),
            path.id
        ),
        "New secret generated.",
    ))
}
