//! A client's Settings tab (enabled, access type, flows, redirect URIs, web origins) and
//! deleting the client.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

use super::{load, ClientPath, ClientView, FIELDS};
use crate::admin::console::confirm::{self, Question};
use crate::admin::console::error::ConsoleError;
use crate::admin::console::form::{Errors, FormData, Posted};
use crate::admin::console::page::{render_status, Layout, Target};
use crate::admin::console::session::Console;
use crate::admin::ops;
use crate::admin::repr::ClientRepr;
use crate::domain::Client;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/{target}/clients/{id}", web::get().to(show))
        .route("/{target}/clients/{id}", web::post().to(save))
        .route(
            "/{target}/clients/{id}/delete",
            web::get().to(confirm_delete),
        )
        .route("/{target}/clients/{id}/delete", web::post().to(delete));
}

#[derive(Template)]
#[template(path = "console/clients/settings.html")]
struct SettingsPage {
    layout: Layout,
    tab: &'static str,
    client: ClientView,
    form: FormData,
    errors: Errors,
}

/// The form's values for a stored client.
fn form_of(client: &Client) -> FormData {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    s.append_pair("client_id", client.client_id.as_str())
        .append_pair("name", &ClientView::of(client).name)
        .append_pair(
            "description",
            client.description.as_deref().unwrap_or_default(),
        )
        .append_pair("root_url", client.root_url.as_deref().unwrap_or_default())
        .append_pair("redirect_uris", &client.redirect_uris.join("\n"))
        .append_pair("web_origins", &client.web_origins.join("\n"));
    for (name, on) in [
        ("enabled", client.enabled),
        ("confidential", !client.public_client),
        ("standard_flow", client.standard_flow_enabled),
        ("direct_access", client.direct_access_grants_enabled),
        ("service_accounts", client.service_accounts_enabled),
    ] {
        if on {
            s.append_pair(name, "on");
        }
    }
    FormData::parse(s.finish().as_bytes())
}

async fn page(
    console: &Console,
    target: Target,
    client: &Client,
    form: FormData,
    errors: Errors,
) -> Result<HttpResponse, ConsoleError> {
    let view = ClientView::of(client);
    let layout = console
        .layout(
            format!("Client {}", view.client_id),
            Some(&target),
            "clients",
        )
        .await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let page = SettingsPage {
        layout,
        tab: "settings",
        client: view,
        form,
        errors,
    };
    render_status(console, &page, status)
}

async fn show(console: Console, path: web::Path<ClientPath>) -> Result<HttpResponse, ConsoleError> {
    let (target, client) = load(&console, &path).await?;
    let form = form_of(&client);
    page(&console, target, &client, form, Errors::default()).await
}

/// The partial representation the form becomes; docker-v2 clients have no OIDC settings
/// but web origins (the browser registry UIs allowed to call the token endpoint).
fn repr_of(form: &FormData, docker: bool) -> ClientRepr {
    let common = ClientRepr {
        client_id: Some(form.get("client_id").to_owned()),
        name: Some(form.get("name").to_owned()),
        description: Some(form.get("description").to_owned()),
        enabled: Some(form.checked("enabled")),
        web_origins: Some(form.lines("web_origins")),
        ..ClientRepr::default()
    };
    if docker {
        return common;
    }
    ClientRepr {
        public_client: Some(!form.checked("confidential")),
        standard_flow_enabled: Some(form.checked("standard_flow")),
        direct_access_grants_enabled: Some(form.checked("direct_access")),
        service_accounts_enabled: Some(form.checked("service_accounts")),
        root_url: Some(form.get("root_url").to_owned()),
        redirect_uris: Some(form.lines("redirect_uris")),
        ..common
    }
}

async fn save(posted: Posted, path: web::Path<ClientPath>) -> Result<HttpResponse, ConsoleError> {
    let Posted { console, form } = posted;
    let (target, client) = load(&console, &path).await?;
    let repr = repr_of(&form, ClientView::of(&client).docker);
    match ops::clients::update(
        &console.state,
        &console.actor,
        &path.target,
        &path.id,
        &repr,
    )
    .await
    {
        Ok(saved) => Ok(console.done(
            &format!("{}/clients/{}", target.path, saved.id),
            &format!("Client {} saved.", saved.client_id),
        )),
        Err(err) => {
            let errors = Errors::from_ops(err, &FIELDS)?;
            page(&console, target, &client, form, errors).await
        }
    }
}

fn delete_question(target: &Target, client: &ClientView) -> Question {
    Question {
        heading: format!("Delete client {}", client.client_id),
        message: "Applications and registries using this client stop getting tokens, and \
                  every token issued to it is revoked. This cannot be undone."
            .into(),
        action: format!("{}/clients/{}/delete", target.path, client.id),
        button: "Delete client".into(),
        cancel: format!("{}/clients/{}", target.path, client.id),
        type_to_confirm: None,
    }
}

async fn confirm_delete(
    console: Console,
    path: web::Path<ClientPath>,
) -> Result<HttpResponse, ConsoleError> {
    let (target, client) = load(&console, &path).await?;
    if !target.manage_clients {
        return Err(ConsoleError::Forbidden);
    }
    let layout = console
        .layout("Delete client", Some(&target), "clients")
        .await?;
    confirm::ask(
        &console,
        layout,
        &delete_question(&target, &ClientView::of(&client)),
        None,
    )
}

async fn delete(posted: Posted, path: web::Path<ClientPath>) -> Result<HttpResponse, ConsoleError> {
    let console = posted.console;
    let (target, client) = load(&console, &path).await?;
    ops::clients::delete(&console.state, &console.actor, &path.target, &path.id).await?;
    Ok(console.done(
        &format!("{}/clients", target.path),
        &format!("Client {} deleted.", client.client_id),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn docker_clients_send_no_oidc_settings() {
        let form = FormData::parse(b"client_id=registry&enabled=on&redirect_uris=x");
        let repr = repr_of(&form, true);
        assert_eq!(repr.redirect_uris, None);
        assert_eq!(repr.public_client, None);
        let repr = repr_of(&form, false);
        assert_eq!(repr.redirect_uris, Some(vec!["x".to_owned()]));
        assert_eq!(repr.public_client, Some(true));
    }
}
