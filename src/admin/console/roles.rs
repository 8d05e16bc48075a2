//! Realm roles: the searchable list with a create form, a role's page (name, description,
//! the users holding it), and deleting a role.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::confirm::{self, Question};
use super::error::ConsoleError;
use super::form::{Errors, FormData, Posted};
use super::page::{render_status, Layout, Pager, Target};
use super::realms::RealmPath;
use super::session::Console;
use crate::admin::ops::{self, OpsError};
use crate::admin::repr::RoleRepr;
use crate::domain::Role;

/// Roles per page.
const PAGE_SIZE: i64 = 20;
/// Which field an operation's message is about.
const FIELDS: [(&str, &str); 2] = [("role name", "name"), ("already exists", "name")];

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/{target}/roles", web::get().to(list))
        .route("/{target}/roles", web::post().to(create))
        .route("/{target}/roles/{id}", web::get().to(show))
        .route("/{target}/roles/{id}", web::post().to(save))
        .route("/{target}/roles/{id}/delete", web::get().to(confirm_delete))
        .route("/{target}/roles/{id}/delete", web::post().to(delete));
}

#[derive(Debug, Deserialize)]
struct RolePath {
    target: String,
    id: String,
}

/// A role as listed.
struct RoleRow {
    id: String,
    name: String,
    description: String,
    composite: bool,
    default: bool,
}

impl RoleRow {
    fn of(role: &Role, composite: bool, realm: &str) -> RoleRow {
        RoleRow {
            id: role.id.to_string(),
            name: role.name.clone(),
            description: role.description.clone().unwrap_or_default(),
            composite,
            default: role.name == format!("default-roles-{realm}"),
        }
    }
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    q: Option<String>,
    page: Option<i64>,
}

#[derive(Template)]
#[template(path = "console/roles/list.html")]
struct ListPage {
    layout: Layout,
    q: String,
    roles: Vec<RoleRow>,
    pager: Pager,
    form: FormData,
    errors: Errors,
}

async fn list_page(
    console: &Console,
    target: &str,
    query: &ListQuery,
    form: FormData,
    errors: Errors,
) -> Result<HttpResponse, ConsoleError> {
    let q = query.q.clone().unwrap_or_default();
    let needle = q.to_lowercase();
    let (first, max, page) = Pager::window(query.page, PAGE_SIZE);
    let mut roles: Vec<RoleRow> = ops::roles::list(&console.state, &console.actor, target)
        .await?
        .iter()
        .filter(|(role, _)| role.name.to_lowercase().contains(&needle))
        .skip(first as usize)
        .take(max as usize)
        .map(|(role, composite)| RoleRow::of(role, *composite, target))
        .collect();
    let target = console.target(target).await?;
    let pager = Pager::build(
        &format!("{}/roles", target.path),
        &[("q", &q)],
        page,
        PAGE_SIZE,
        &mut roles,
    );
    let layout = console
        .layout("Realm roles", Some(&target), "roles")
        .await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let page = ListPage {
        layout,
        q,
        roles,
        pager,
        form,
        errors,
    };
    render_status(console, &page, status)
}

async fn list(
    console: Console,
    path: web::Path<RealmPath>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ConsoleError> {
    list_page(
        &console,
        &path.target,
        &query,
        FormData::default(),
        Errors::default(),
    )
    .await
}

async fn create(posted: Posted, path: web::Path<RealmPath>) -> Result<HttpResponse, ConsoleError> {
    let Posted { console, form } = posted;
    let repr = RoleRepr {
        name: Some(form.get("name").to_owned()),
        description: Some(form.get("description").to_owned()),
        ..RoleRepr::default()
    };
    let existing = ops::roles::list(&console.state, &console.actor, &path.target).await?;
    super::names::ask_on_case_twin(
        &form,
        "role",
        existing.iter().map(|(r, _)| r.name.as_str()),
        form.get("name"),
    )?;
    match ops::roles::create(&console.state, &console.actor, &path.target, &repr).await {
        Ok(role) => Ok(console.done(
            &format!("{}/roles/{}", console.paths.realm(&path.target), role.id),
            &format!("Role {} created.", role.name),
        )),
        Err(err) => {
            let errors = Errors::from_ops(err, &FIELDS)?;
            let query = ListQuery {
                q: None,
                page: None,
            };
            list_page(&console, &path.target, &query, form, errors).await
        }
    }
}

#[derive(Template)]
#[template(path = "console/roles/details.html")]
struct DetailsPage {
    layout: Layout,
    role: RoleRow,
    /// Usernames and ids of the users holding the role directly; `None` when the admin may
    /// not see users.
    holders: Option<Vec<(String, String)>>,
    form: FormData,
    errors: Errors,
}

async fn details_page(
    console: &Console,
    path: &RolePath,
    typed: Option<FormData>,
    errors: Errors,
) -> Result<HttpResponse, ConsoleError> {
    let (role, composite) =
        ops::roles::get_by_id(&console.state, &console.actor, &path.target, &path.id).await?;
    let holders = match ops::roles::users_with(
        &console.state,
        &console.actor,
        &path.target,
        &role.name,
    )
    .await
    {
        Ok(users) => Some(
            users
                .into_iter()
                .map(|u| (u.id.to_string(), u.username.to_string()))
                .collect(),
        ),
        Err(OpsError::Forbidden) => None,
        Err(err) => return Err(err.into()),
    };
    let row = RoleRow::of(&role, composite, &path.target);
    let form = typed.unwrap_or_else(|| {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        s.append_pair("name", &row.name)
            .append_pair("description", &row.description);
        FormData::parse(s.finish().as_bytes())
    });
    let target = console.target(&path.target).await?;
    let layout = console
        .layout(format!("Role {}", row.name), Some(&target), "roles")
        .await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let page = DetailsPage {
        layout,
        role: row,
        holders,
        form,
        errors,
    };
    render_status(console, &page, status)
}

async fn show(console: Console, path: web::Path<RolePath>) -> Result<HttpResponse, ConsoleError> {
    details_page(&console, &path, None, Errors::default()).await
}

async fn save(posted: Posted, path: web::Path<RolePath>) -> Result<HttpResponse, ConsoleError> {
    let Posted { console, form } = posted;
    let (role, _) =
        ops::roles::get_by_id(&console.state, &console.actor, &path.target, &path.id).await?;
    let repr = RoleRepr {
        name: Some(form.get("name").to_owned()),
        description: Some(form.get("description").to_owned()),
        ..RoleRepr::default()
    };
    match ops::roles::update(
        &console.state,
        &console.actor,
        &path.target,
        &role.name,
        &repr,
    )
    .await
    {
        Ok(()) => Ok(console.done(
            &format!("{}/roles/{}", console.paths.realm(&path.target), path.id),
            "Role saved.",
        )),
        Err(err) => {
            let errors = Errors::from_ops(err, &FIELDS)?;
            details_page(&console, &path, Some(form), errors).await
        }
    }
}

fn delete_question(target: &Target, id: &str, name: &str) -> Question {
    Question {
        heading: format!("Delete role {name}"),
        message: "Users and groups holding the role lose it, and docker access rules naming it \
                  stop matching. This cannot be undone."
            .into(),
        action: format!("{}/roles/{id}/delete", target.path),
        button: "Delete role".into(),
        cancel: format!("{}/roles/{id}", target.path),
        type_to_confirm: None,
    }
}

async fn confirm_delete(
    console: Console,
    path: web::Path<RolePath>,
) -> Result<HttpResponse, ConsoleError> {
    let (role, _) =
        ops::roles::get_by_id(&console.state, &console.actor, &path.target, &path.id).await?;
    let target = console.target(&path.target).await?;
    if !target.manage_realm {
        return Err(ConsoleError::Forbidden);
    }
    let layout = console
        .layout("Delete role", Some(&target), "roles")
        .await?;
    confirm::ask(
        &console,
        layout,
        &delete_question(&target, &path.id, &role.name),
        None,
    )
}

async fn delete(posted: Posted, path: web::Path<RolePath>) -> Result<HttpResponse, ConsoleError> {
    let console = posted.console;
    let (role, _) =
        ops::roles::get_by_id(&console.state, &console.actor, &path.target, &path.id).await?;
    ops::roles::delete(&console.state, &console.actor, &path.target, &role.name).await?;
    Ok(console.done(
        &format!("{}/roles", console.paths.realm(&path.target)),
        &format!("Role {} deleted.", role.name),
    ))
}
