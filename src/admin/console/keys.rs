//! Realm settings > Keys: the realm's signing keys (kid, algorithm, status, the next key),
//! rotation now or at a scheduled time, the registries that must reload their bundle before
//! the switch, certificate downloads, and removal of passive keys.

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
use crate::admin::ops::keys::RegistryState;
use crate::crypto::keys::certificate_pem;
use crate::domain::RealmKey;
use crate::key_rotation::Readiness;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/{target}/settings/keys", web::get().to(list))
        .route("/{target}/settings/keys/rotate", web::post().to(rotate))
        .route("/{target}/settings/keys/schedule", web::post().to(schedule))
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
    /// "Active", "Passive" or "Next".
    status: &'static str,
    created: String,
}

impl KeyRow {
    fn of(key: &RealmKey) -> KeyRow {
        KeyRow {
            id: key.id.to_string(),
            kid: key.kid.clone(),
            algorithm: key.algorithm.clone(),
            status: match (key.status.as_str(), key.is_next) {
                ("ACTIVE", _) => "Active",
                (_, true) => "Next",
                _ => "Passive",
            },
            created: datetime(key.created_at),
        }
    }
}

/// A registry as listed: what its last download carried, and what that means.
struct RegistryRow {
    client_id: String,
    uuid: String,
    downloaded: Option<String>,
    /// The badge: "Ready", "Reload before the switch", "Reload now" or "Unknown".
    badge: &'static str,
    badge_class: &'static str,
    explanation: &'static str,
}

impl RegistryRow {
    fn of(registry: &RegistryState) -> RegistryRow {
        let (badge, badge_class, explanation) = match registry.readiness {
            Readiness::Ready => (
                "Ready",
                "badge ok",
                "Its last bundle carries the next key: it keeps working after the switch.",
            ),
            Readiness::ReloadBeforeSwitch => (
                "Reload before the switch",
                "badge off",
                "Its last bundle lacks the next key: download the bundle again and reload the \
                 registry before the switch, or its logins fail after it.",
            ),
            Readiness::ReloadNow => (
                "Reload now",
                "badge off",
                "Its last bundle lacks the key that signs now: its logins fail until it \
                 reloads a new bundle.",
            ),
            Readiness::Unknown => (
                "Unknown",
                "badge",
                "No download from the console or the admin API is recorded: a bundle fetched \
                 from the public trust-chain address cannot be told apart. Reload it with a \
                 bundle fetched now to be sure.",
            ),
        };
        RegistryRow {
            client_id: registry.client.client_id.to_string(),
            uuid: registry.client.id.to_string(),
            downloaded: registry.downloaded_at.map(datetime),
            badge,
            badge_class,
            explanation,
        }
    }
}

#[derive(Template)]
#[template(path = "console/settings/keys.html")]
struct KeysPage {
    layout: Layout,
    tab: &'static str,
    keys: Vec<KeyRow>,
    /// When the next keys become active, in words.
    switch: Option<String>,
    registries: Vec<RegistryRow>,
    /// How many registries must reload before (or since) the switch.
    must_reload: usize,
}

async fn list(console: Console, path: web::Path<RealmPath>) -> Result<HttpResponse, ConsoleError> {
    let overview = ops::keys::overview(&console.state, &console.actor, &path.target).await?;
    let target = console.target(&path.target).await?;
    let layout = console
        .layout("Realm settings · Keys", Some(&target), "settings")
        .await?;
    let registries: Vec<RegistryRow> = overview.registries.iter().map(RegistryRow::of).collect();
    render(
        &console,
        &KeysPage {
            layout,
            tab: "keys",
            keys: overview.keys.iter().map(KeyRow::of).collect(),
            switch: overview.scheduled.map(datetime),
            must_reload: overview
                .registries
                .iter()
                .filter(|r| {
                    matches!(
                        r.readiness,
                        Readiness::ReloadBeforeSwitch | Readiness::ReloadNow
                    )
                })
                .count(),
            registries,
        },
    )
}

async fn rotate(posted: Posted, path: web::Path<RealmPath>) -> Result<HttpResponse, ConsoleError> {
    let console = posted.console;
    let keys = ops::keys::rotate(&console.state, &console.actor, &path.target).await?;
    let kids: Vec<&str> = keys.iter().map(|k| k.kid.as_str()).collect();
    Ok(console.done(
        &format!("{}/settings/keys", console.paths.realm(&path.target)),
        &format!(
            "Rotated: {} now signs; the previous key stays passive until removed, and a new \
             next key is published.",
            kids.join(", ")
        ),
    ))
}

/// The `at` field of the schedule form: `YYYY-MM-DDTHH:MM` (a `datetime-local` value), UTC.
fn parse_utc(value: &str) -> Option<i64> {
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let value = value.trim();
    if value.len() > 32 {
        return None;
    }
    time::PrimitiveDateTime::parse(value, &format)
        .ok()
        .map(|t| t.assume_utc().unix_timestamp())
}

async fn schedule(
    posted: Posted,
    path: web::Path<RealmPath>,
) -> Result<HttpResponse, ConsoleError> {
    let console = posted.console;
    let at = match posted.form.get("at").trim() {
        "" => None,
        value => Some(parse_utc(value).ok_or_else(|| {
            ConsoleError::BadRequest("Give the switch time as a date and a time (UTC).".into())
        })?),
    };
    ops::keys::schedule(&console.state, &console.actor, &path.target, at).await?;
    let message = match at {
        Some(at) => format!("The next key becomes active at {}.", datetime(at)),
        None => "The scheduled switch is cancelled: the next key waits for a rotation.".into(),
    };
    Ok(console.done(
        &format!("{}/settings/keys", console.paths.realm(&path.target)),
        &message,
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

fn remove_question(target: &Target, id: &str, key: &RealmKey, trusting: &[String]) -> Question {
    let what = if key.is_next {
        format!(
            "Key {} is the next key: it will be removed and a new next key generated, so every \
             registry must reload its bundle again before the switch.",
            key.kid
        )
    } else {
        format!(
            "Key {} will be removed: tokens it signed stop being accepted here, and bundles \
             downloaded from now on no longer carry it.",
            key.kid
        )
    };
    let registries = if trusting.is_empty() {
        " No registry's recorded bundle relies on it alone.".to_owned()
    } else {
        format!(
            " Registries whose last bundle carries it but not the key that signs now, and which \
             still need it until they reload: {}.",
            trusting.join(", ")
        )
    };
    Question {
        heading: "Remove key".into(),
        message: format!("{what}{registries}"),
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
    let overview = ops::keys::overview(&console.state, &console.actor, &path.target).await?;
    let trusting: Vec<String> = overview
        .registries
        .iter()
        .filter(|r| r.kids.contains(&key.kid))
        .filter(|r| key.is_next || r.readiness == Readiness::ReloadNow)
        .map(|r| r.client.client_id.to_string())
        .collect();
    let target = console.target(&path.target).await?;
    let layout = console
        .layout("Remove key", Some(&target), "settings")
        .await?;
    confirm::ask(
        &console,
        layout,
        &remove_question(&target, &path.id, &key, &trusting),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn switch_times_are_read_as_utc() {
        assert_eq!(parse_utc("2030-01-02T03:04"), Some(1_893_553_440));
        assert_eq!(parse_utc(" 1970-01-01T00:01 "), Some(60));
        assert_eq!(parse_utc("tomorrow"), None);
        assert_eq!(parse_utc("2030-13-02T03:04"), None);
    }
}
