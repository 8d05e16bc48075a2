//! Realm settings > Keys: the realm's signing keys (kid, algorithm, status), certificate
//! downloads, rotation, and removal of passive keys.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::confirm::{self, Question};
use super::error::ConsoleError;
use super::form::Posted;
use super::page::{datetime, render, Layout, Target};
use super::realms::RealmPath;
use super::session::Console;
use crate::admin::ops;
use crate::crypto::keys::certificate_pem;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/{target}/settings/keys", web::get().to(list))
        .route("/{target}/settings/keys/rotate", web::post().to(rotate))
        .route(
            "/{target}/settings/keys/{id}/certificate",
            web::get().to(certificate),
        )
        .route(
            "/{target}/settings/keys/{id}/remove",
            web::get().to(confirm_remove),
        )
        .route(
            "/{target}/settings/keys/{id}/remove",
            web::post().to(remove),
        );
}

#[derive(Debug, Deserialize)]
struct KeyPath {
    target: String,
    id: String,
}

/// A key as listed.
struct KeyRow {
    id: String,
    kid: String,
    algorithm: String,
    status: String,
    created: String,
}

#[derive(Template)]
#[template(path = "console/settings/keys.html")]
struct KeysPage {
    layout: Layout,
    tab: &'static str,
    keys: Vec<KeyRow>,
}

async fn list(console: Console, path: web::Path<RealmPath>) -> Result<HttpResponse, ConsoleError> {
    let (_, keys) = ops::realms::keys(&console.state, &console.actor, &path.target).await?;
    let target = console.target(&path.target).await?;
    let layout = console
        .layout("Realm settings · Keys", Some(&target), "settings")
        .await?;
    let keys = keys
        .into_iter()
        .map(|k| KeyRow {
            id: k.id.to_string(),
            kid: k.kid,
            algorithm: k.algorithm,
            status: k.status,
            created: datetime(k.created_at),
        })
        .collect();
    render(
        &console,
        &KeysPage {
            layout,
            tab: "keys",
            keys,
        },
    )
}

async fn rotate(posted: Posted, path: web::Path<RealmPath>) -> Result<HttpResponse, ConsoleError> {
    let console = posted.console;
    let key = ops::keys::rotate(&console.state, &console.actor, &path.target).await?;
    Ok(console.done(
        &format!("{}/settings/keys", console.paths.realm(&path.target)),
        &format!(
            "New active key {} created; the previous key stays passive until removed.",
            key.kid
        ),
    ))
}

async fn certificate(
    console: Console,
    path: web::Path<KeyPath>,
) -> Result<HttpResponse, ConsoleError> {
    let key = ops::keys::get(&console.state, &console.actor, &path.target, &path.id).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/x-pem-file")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{}-certificate.pem\"", path.target),
        ))
        .body(certificate_pem(&key.certificate_der)))
}

fn remove_question(target: &Target, id: &str, kid: &str) -> Question {
    Question {
        heading: "Remove key".into(),
        message: format!(
            "Key {kid} will be removed: tokens it signed stop being accepted, and registries \
             that trust its certificate must be given the new one."
        ),
        action: format!("{}/settings/keys/{id}/remove", target.path),
        button: "Remove key".into(),
        cancel: format!("{}/settings/keys", target.path),
        type_to_confirm: None,
    }
}

async fn confirm_remove(
    console: Console,
    path: web::Path<KeyPath>,
) -> Result<HttpResponse, ConsoleError> {
    let key = ops::keys::get(&console.state, &console.actor, &path.target, &path.id).await?;
    let target = console.target(&path.target).await?;
    let layout = console
        .layout("Remove key", Some(&target), "settings")
        .await?;
    confirm::ask(
        &console,
        layout,
        &remove_question(&target, &path.id, &key.kid),
        None,
    )
}

async fn remove(posted: Posted, path: web::Path<KeyPath>) -> Result<HttpResponse, ConsoleError> {
    let console = posted.console;
    let key = ops::keys::remove(&console.state, &console.actor, &path.target, &path.id).await?;
    Ok(console.done(
        &format!("{}/settings/keys", console.paths.realm(&path.target)),
        &format!("Key {} removed.", key.kid),
    ))
}
