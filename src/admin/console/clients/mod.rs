//! Clients: the searchable, paged list and the create form here; each tab of a client's page
//! in a file of its own.

mod credentials;
mod installation;
mod policy;
mod policy_rows;
mod policy_tester;
mod settings;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::error::ConsoleError;
use super::form::{Errors, FormData, Posted};
use super::page::{render, render_status, Layout, Pager, Target};
use super::realms::RealmPath;
use super::session::Console;
use crate::admin::ops;
use crate::admin::repr::ClientRepr;
use crate::domain::{Client, Protocol};

/// Clients per page.
const PAGE_SIZE: i64 = 20;

/// Which field an operation's message is about.
const FIELDS: [(&str, &str); 3] = [
    ("client id", "client_id"),
    ("already exists", "client_id"),
    ("protocol", "protocol"),
];

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/{target}/clients", web::get().to(list))
        .route("/{target}/clients/new", web::get().to(new_form))
        .route("/{target}/clients/new", web::post().to(create))
        .configure(settings::routes)
        .configure(credentials::routes)
        .configure(policy::routes)
        .configure(installation::routes);
}

/// The path of a client's pages.
#[derive(Debug, Deserialize)]
pub struct ClientPath {
    pub target: String,
    pub id: String,
}

/// A client as pages show it.
#[derive(Debug, Clone)]
pub struct ClientView {
    pub id: String,
    pub client_id: String,
    pub name: String,
    pub docker: bool,
    pub enabled: bool,
    pub public_client: bool,
    pub built_in: bool,
}

impl ClientView {
    pub fn of(client: &Client) -> ClientView {
        ClientView {
            id: client.id.to_string(),
            client_id: client.client_id.to_string(),
            name: client
                .name
                .clone()
                .filter(|n| !n.starts_with("${"))
                .unwrap_or_default(),
            docker: client.protocol == Protocol::DockerV2,
            enabled: client.enabled,
            public_client: client.public_client,
            built_in: crate::admin::ops::layout::is_layout_client(client.client_id.as_str())
                || client.client_id.as_str() == "master-realm",
        }
    }

    /// Whether the Credentials tab applies (confidential OIDC clients).
    pub fn has_secret(&self) -> bool {
        !self.docker && !self.public_client
    }
}

/// The realm and client a client page is about.
pub async fn load(console: &Console, path: &ClientPath) -> Result<(Target, Client), ConsoleError> {
    let client = ops::clients::get(&console.state, &console.actor, &path.target, &path.id).await?;
    let target = console.target(&path.target).await?;
    Ok((target, client))
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    q: Option<String>,
    page: Option<i64>,
}

#[derive(Template)]
#[template(path = "console/clients/list.html")]
struct ListPage {
    layout: Layout,
    q: String,
    clients: Vec<ClientView>,
    pager: Pager,
}

async fn list(
    console: Console,
    path: web::Path<RealmPath>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let q = query.q.clone().unwrap_or_default();
    let (first, max, page) = Pager::window(query.page, PAGE_SIZE);
    let mut clients = ops::clients::list(
        &console.state,
        &console.actor,
        &path.target,
        None,
        &q,
        first,
        max,
    )
    .await?;
    let target = console.target(&path.target).await?;
    let pager = Pager::build(
        &format!("{}/clients", target.path),
        &[("q", &q)],
        page,
        PAGE_SIZE,
        &mut clients.clients,
    );
    let layout = console.layout("Clients", Some(&target), "clients").await?;
    let clients = clients.clients.iter().map(ClientView::of).collect();
    render(
        &console,
        &ListPage {
            layout,
            q,
            clients,
            pager,
        },
    )
}

#[derive(Template)]
#[template(path = "console/clients/new.html")]
struct NewPage {
    layout: Layout,
    docker_enabled: bool,
    form: FormData,
    errors: Errors,
}

async fn new_form(
    console: Console,
    path: web::Path<RealmPath>,
) -> Result<HttpResponse, ConsoleError> {
    let target = console.target(&path.target).await?;
    if !target.manage_clients {
        return Err(ConsoleError::Forbidden);
    }
    let layout = console
        .layout("Create client", Some(&target), "clients")
        .await?;
    let page = NewPage {
        layout,
        docker_enabled: console.state.settings.features.docker,
        form: FormData::parse(b"protocol=openid-connect"),
        errors: Errors::default(),
    };
    render(&console, &page)
}

async fn create(posted: Posted, path: web::Path<RealmPath>) -> Result<HttpResponse, ConsoleError> {
    let Posted { console, form } = posted;
    let docker = form.get("protocol") == Protocol::DockerV2.as_str();
    let repr = ClientRepr {
        client_id: Some(form.get("client_id").to_owned()),
        protocol: Some(form.get("protocol").to_owned()),
        name: Some(form.get("name").to_owned()),
        description: Some(form.get("description").to_owned()),
        public_client: Some(docker || !form.checked("confidential")),
        ..ClientRepr::default()
    };
    let existing = ops::clients::list(
        &console.state,
        &console.actor,
        &path.target,
        None,
        "",
        0,
        1000,
    )
    .await?;
    super::names::ask_on_case_twin(
        &form,
        "client",
        existing.clients.iter().map(|c| c.client_id.as_str()),
        form.get("client_id"),
    )?;
    match ops::clients::create(&console.state, &console.actor, &path.target, &repr).await {
        Ok(client) => Ok(console.done(
            &format!(
                "{}/clients/{}",
                console.paths.realm(&path.target),
                client.id
            ),
            &format!("Client {} created.", client.client_id),
        )),
        Err(err) => {
            let errors = Errors::from_ops(err, &FIELDS)?;
            let target = console.target(&path.target).await?;
            let layout = console
                .layout("Create client", Some(&target), "clients")
                .await?;
            let page = NewPage {
                layout,
                docker_enabled: console.state.settings.features.docker,
                form,
                errors,
            };
            render_status(&console, &page, StatusCode::BAD_REQUEST)
        }
    }
}
