//! The realm selector (the console's home), creating a realm, and deleting one (confirmed by
//! typing its name).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::confirm::{self, Question};
use super::error::ConsoleError;
use super::form::{Errors, Posted};
use super::page::{render, render_status, see_other, Layout, Target};
use super::session::Console;
use crate::admin::ops;
use crate::admin::repr::RealmRepr;
use crate::domain::Realm;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/signin/realm", web::get().to(to_realm_console))
        .route("/{target}/settings/delete", web::get().to(confirm_delete))
        .route("/{target}/settings/delete", web::post().to(delete));
}

/// The `{target}` of a realm page's path.
#[derive(Debug, Deserialize)]
pub struct RealmPath {
    pub target: String,
}

#[derive(Template)]
#[template(path = "console/realms/index.html")]
struct IndexPage {
    layout: Layout,
    realms: Vec<Realm>,
}

/// `GET /`: the realms the admin can see.
pub async fn index(console: Console) -> Result<HttpResponse, ConsoleError> {
    let realms = ops::realms::list(&console.state, &console.actor).await?;
    let layout = console.layout("Realms", None, "realms").await?;
    render(&console, &IndexPage { layout, realms })
}

/// `GET /{target}/`: a realm's first page the admin may open.
pub async fn landing(
    console: Console,
    path: web::Path<RealmPath>,
) -> Result<HttpResponse, ConsoleError> {
    let target = console.target(&path.target).await?;
    let section = [
        (target.view_realm, "settings"),
        (target.view_clients, "clients"),
        (target.view_users, "users"),
        (target.view_events, "events"),
    ]
    .into_iter()
    .find_map(|(may, section)| may.then_some(section))
    .ok_or(ConsoleError::Forbidden)?;
    Ok(see_other(&format!("{}/{section}", target.path)))
}

#[derive(Debug, Deserialize)]
struct RealmQuery {
    realm: Option<String>,
}

/// `GET /signin/realm?realm=team`: the sign-in page of a realm's own console, where its
/// administrators (users of that realm) sign in.
async fn to_realm_console(
    req: actix_web::HttpRequest,
    state: web::Data<crate::state::AppState>,
    query: web::Query<RealmQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let name = query.realm.as_deref().unwrap_or_default().trim();
    let name = crate::domain::RealmName::parse(name)
        .map_err(|_| ConsoleError::BadRequest("Type the name of a realm.".into()))?;
    let base = crate::http::Base::of(&req, &state);
    let paths = super::page::Paths::of(&base, name.as_str());
    Ok(see_other(&format!("{}/", paths.root)))
}

#[derive(Template)]
#[template(path = "console/realms/new.html")]
struct NewRealmPage {
    layout: Layout,
    name: String,
    display_name: String,
    enabled: bool,
    errors: Errors,
}

/// `GET /new-realm`.
pub async fn new_form(console: Console) -> Result<HttpResponse, ConsoleError> {
    if !console.actor.may_create_realms() {
        return Err(ConsoleError::Forbidden);
    }
    let layout = console.layout("Create realm", None, "realms").await?;
    let page = NewRealmPage {
        layout,
        name: String::new(),
        display_name: String::new(),
        enabled: true,
        errors: Errors::default(),
    };
    render(&console, &page)
}

/// `POST /new-realm`.
pub async fn create(posted: Posted) -> Result<HttpResponse, ConsoleError> {
    let Posted { console, form } = posted;
    let repr = RealmRepr {
        realm: Some(form.get("name").to_owned()),
        display_name: Some(form.get("display_name").to_owned()),
        enabled: Some(form.checked("enabled")),
        ..RealmRepr::default()
    };
    let existing = ops::realms::list(&console.state, &console.actor).await?;
    super::names::ask_on_case_twin(
        &form,
        "realm",
        existing.iter().map(|r| r.name.as_str()),
        form.get("name"),
    )?;
    match ops::realms::create(&console.state, &console.actor, &repr).await {
        Ok(ops::realm_import::Imported { realm, .. }) => Ok(console.done(
            &format!("{}/settings", console.paths.realm(realm.name.as_str())),
            &format!("Realm {} created.", realm.name),
        )),
        Err(err) => {
            let mut errors = Errors::from_ops(err, &[("realm name", "name")])?;
            if errors.general.as_deref() == Some("Conflict detected. See logs for details") {
                errors.general = None;
                errors.add("name", "A realm with this name already exists.");
            }
            let page = NewRealmPage {
                layout: console.layout("Create realm", None, "realms").await?,
                name: form.get("name").to_owned(),
                display_name: form.get("display_name").to_owned(),
                enabled: form.checked("enabled"),
                errors,
            };
            render_status(&console, &page, StatusCode::BAD_REQUEST)
        }
    }
}

fn delete_question(target: &Target) -> Question {
    Question {
        heading: format!("Delete realm {}", target.name),
        message: "This deletes the realm with all its users, clients, roles, groups, keys, \
                  sessions and events. It cannot be undone."
            .into(),
        action: format!("{}/settings/delete", target.path),
        button: "Delete realm".into(),
        cancel: format!("{}/settings", target.path),
        type_to_confirm: Some(target.name.clone()),
    }
}

async fn confirm_delete(
    console: Console,
    path: web::Path<RealmPath>,
) -> Result<HttpResponse, ConsoleError> {
    let target = console.target(&path.target).await?;
    if !console.actor.is_master_admin() {
        return Err(ConsoleError::Forbidden);
    }
    let layout = console
        .layout("Delete realm", Some(&target), "settings")
        .await?;
    confirm::ask(&console, layout, &delete_question(&target), None)
}

async fn delete(posted: Posted, path: web::Path<RealmPath>) -> Result<HttpResponse, ConsoleError> {
    let Posted { console, form } = posted;
    let target = console.target(&path.target).await?;
    if form.get("confirm_name") != target.name {
        let layout = console
            .layout("Delete realm", Some(&target), "settings")
            .await?;
        let message = "Type the realm's name exactly to delete it.";
        return confirm::ask(&console, layout, &delete_question(&target), Some(message));
    }
    ops::realms::delete(&console.state, &console.actor, &target.name).await?;
    Ok(console.done(
        &format!("{}/", console.paths.root),
        &format!("Realm {} deleted.", target.name),
    ))
}
