//! A client's Installation tab: for docker-v2 clients the registry downloads (Docker Compose
//! bundle, registry config file, variable override, realm certificate), for OIDC clients a
//! `keycloak.json`. The text formats are previewed on the page.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde_json::json;

use super::{ClientPath, ClientView};
use crate::admin::console::error::ConsoleError;
use crate::admin::console::page::{render, Layout};
use crate::admin::console::session::Console;
use crate::admin::ops;
use crate::domain::{Client, Protocol, Realm};
use crate::http::Base;
use crate::protocol::docker::downloads::{self, Download, DownloadError};

/// The OIDC adapter configuration's provider id.
const KEYCLOAK_JSON: &str = "keycloak-oidc-keycloak-json";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/{target}/clients/{id}/installation", web::get().to(show))
        .route(
            "/{target}/clients/{id}/installation/{provider}",
            web::get().to(download),
        );
}

/// A download as offered on the page.
struct Offer {
    provider: &'static str,
    title: &'static str,
    description: &'static str,
    /// The content, for text formats.
    preview: Option<String>,
}

#[derive(Template)]
#[template(path = "console/clients/installation.html")]
struct InstallationPage {
    layout: Layout,
    tab: &'static str,
    client: ClientView,
    offers: Vec<Offer>,
}

/// What each docker-v2 download is.
const DOCKER_OFFERS: [(&str, &str, &str); 4] = [
    (
        "docker-v2-compose-yaml",
        "Docker Compose YAML",
        "A zip with a docker-compose.yaml that runs a registry trusting this realm, its TLS \
         certificate and the realm's certificate.",
    ),
    (
        "docker-v2-registry-config-file",
        "Registry configuration file",
        "The auth section of the registry's config.yml.",
    ),
    (
        "docker-v2-variable-override",
        "Variable override",
        "REGISTRY_AUTH_TOKEN_* variables to pass to docker run.",
    ),
    (
        "docker-v2-trust-chain",
        "Realm certificate",
        "The certificate the registry checks token signatures with (its rootcertbundle).",
    ),
];

async fn show(console: Console, path: web::Path<ClientPath>) -> Result<HttpResponse, ConsoleError> {
    let (realm, client) =
        ops::clients::for_installation(&console.state, &console.actor, &path.target, &path.id)
            .await?;
    let target = console.target(&path.target).await?;
    let offers = match client.protocol {
        Protocol::OpenIdConnect => vec![Offer {
            provider: KEYCLOAK_JSON,
            title: "Keycloak OIDC JSON",
            description: "keycloak.json for Keycloak's OIDC adapters.",
            preview: Some(keycloak_json(&console.base, &realm, &client)),
        }],
        Protocol::DockerV2 => {
            let mut offers = Vec::new();
            for (provider, title, description) in DOCKER_OFFERS {
                let preview = if provider == "docker-v2-compose-yaml" {
                    None
                } else {
                    let built = build(&console, &realm, &client, provider).await?;
                    Some(String::from_utf8_lossy(&built.body).into_owned())
                };
                offers.push(Offer {
                    provider,
                    title,
                    description,
                    preview,
                });
            }
            offers
        }
    };
    let client = ClientView::of(&client);
    let layout = console
        .layout(
            format!("Client {} · Installation", client.client_id),
            Some(&target),
            "clients",
        )
        .await?;
    render(
        &console,
        &InstallationPage {
            layout,
            tab: "installation",
            client,
            offers,
        },
    )
}

async fn download(
    console: Console,
    path: web::Path<(String, String, String, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let (_, target, id, provider) = path.into_inner();
    let (realm, client) =
        ops::clients::for_installation(&console.state, &console.actor, &target, &id).await?;
    let file = match client.protocol {
        Protocol::OpenIdConnect if provider == KEYCLOAK_JSON => Download {
            content_type: "application/json",
            filename: "keycloak.json".into(),
            body: keycloak_json(&console.base, &realm, &client).into_bytes(),
        },
        Protocol::DockerV2 => build(&console, &realm, &client, &provider).await?,
        Protocol::OpenIdConnect => return Err(ConsoleError::NotFound("Download".into())),
    };
    Ok(HttpResponse::Ok()
        .content_type(file.content_type)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}\"", file.filename),
        ))
        .body(file.body))
}

/// The adapter configuration, in the shape of the admin API's installation endpoint.
fn keycloak_json(base: &Base, realm: &Realm, client: &Client) -> String {
    let mut body = json!({
        "realm": realm.name,
        "auth-server-url": format!("{}/", base.as_str()),
        "ssl-required": "external",
        "resource": client.client_id,
        "confidential-port": 0,
    });
    if client.public_client {
        body["public-client"] = json!(true);
    } else {
        body["credentials"] = json!({"secret": client.secret});
    }
    serde_json::to_string_pretty(&body).expect("JSON values serialize")
}

/// Builds a docker-v2 download with the realm's certificates (off the runtime: the
/// compose bundle generates a TLS key).
async fn build(
    console: &Console,
    realm: &Realm,
    client: &Client,
    provider: &str,
) -> Result<Download, ConsoleError> {
    if !console.state.settings.features.docker || !downloads::PROVIDERS.contains(&provider) {
        return Err(ConsoleError::NotFound("Download".into()));
    }
    let keys = console
        .state
        .keyring
        .get(&console.state.db, &realm.id)
        .await
        .map_err(|e| ConsoleError::Internal(e.into()))?;
    let certificate = keys.trust_chain_pem();
    if downloads::carries_trust_chain(provider) {
        if let Err(err) = ops::keys::record_download(&console.state, client, &keys.kids()).await {
            tracing::warn!(error = %err, "could not record a registry download");
        }
    }
    let (base, realm, client, provider) = (
        console.base.clone(),
        realm.clone(),
        client.clone(),
        provider.to_owned(),
    );
    web::block(move || downloads::build(&provider, &base, &realm, &client, &certificate))
        .await
        .map_err(|e| ConsoleError::Internal(anyhow::anyhow!("download worker failed: {e}")))?
        .map_err(|e| match e {
            DownloadError::UnknownProvider(_) => ConsoleError::NotFound("Download".into()),
            DownloadError::Internal(err) => ConsoleError::Internal(err),
        })
}
