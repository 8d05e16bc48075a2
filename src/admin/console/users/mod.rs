//! Users: the searchable, paged list and the create form here; each tab of a user's page in
//! a file of its own.

mod credentials;
mod details;
mod groups;
mod roles;
mod sessions;

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use super::error::ConsoleError;
use super::form::{Errors, FormData, Posted};
use super::page::{datetime_ms, render, render_status, Layout, Pager, Target};
use super::realms::RealmPath;
use super::session::Console;
use crate::admin::ops;
use crate::admin::repr::UserRepr;
use crate::domain::User;
use crate::store::users::UserFilter;

/// Users per page.
const PAGE_SIZE: i64 = 20;

/// Which field an operation's message is about.
const FIELDS: [(&str, &str); 2] = [("email", "email"), ("username", "username")];

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/{target}/users", web::get().to(list))
        .route("/{target}/users/new", web::get().to(new_form))
        .route("/{target}/users/new", web::post().to(create))
        .configure(details::routes)
        .configure(credentials::routes)
        .configure(roles::routes)
        .configure(groups::routes)
        .configure(sessions::routes);
}

/// The path of a user's pages.
#[derive(Debug, Deserialize)]
pub struct UserPath {
    pub target: String,
    pub id: String,
}

/// A user as pages show it.
#[derive(Debug, Clone)]
pub struct UserView {
    pub id: String,
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub enabled: bool,
    pub email_verified: bool,
    pub created: String,
}

impl UserView {
    pub fn of(user: &User) -> UserView {
        UserView {
            id: user.id.to_string(),
            username: user.username.to_string(),
            email: user.email.clone().unwrap_or_default(),
            first_name: user.first_name.clone().unwrap_or_default(),
            last_name: user.last_name.clone().unwrap_or_default(),
            enabled: user.enabled,
            email_verified: user.email_verified,
            created: datetime_ms(user.created_timestamp_ms),
        }
    }
}

/// The realm and user a user page is about (the user must be visible to the admin).
pub async fn load(console: &Console, path: &UserPath) -> Result<(Target, UserView), ConsoleError> {
    let user = ops::users::get(&console.state, &console.actor, &path.target, &path.id).await?;
    let target = console.target(&path.target).await?;
    Ok((target, UserView::of(&user)))
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    q: Option<String>,
    page: Option<i64>,
}

#[derive(Template)]
#[template(path = "console/users/list.html")]
struct ListPage {
    layout: Layout,
    q: String,
    users: Vec<UserView>,
    pager: Pager,
}

async fn list(
    console: Console,
    path: web::Path<RealmPath>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let q = query.q.clone().unwrap_or_default();
    let filter = UserFilter {
        search: Some(q.clone()),
        ..UserFilter::default()
    };
    let (first, max, page) = Pager::window(query.page, PAGE_SIZE);
    let mut users = ops::users::list(
        &console.state,
        &console.actor,
        &path.target,
        &filter,
        first,
        max,
    )
    .await?;
    let target = console.target(&path.target).await?;
    let pager = Pager::build(
        &format!("{}/users", target.path),
        &[("q", &q)],
        page,
        PAGE_SIZE,
        &mut users,
    );
    let layout = console.layout("Users", Some(&target), "users").await?;
    let users = users.iter().map(UserView::of).collect();
    render(
        &console,
        &ListPage {
            layout,
            q,
            users,
            pager,
        },
    )
}

#[derive(Template)]
#[template(path = "console/users/new.html")]
struct NewPage {
    layout: Layout,
    form: FormData,
    errors: Errors,
}

async fn new_form(
    console: Console,
    path: web::Path<RealmPath>,
) -> Result<HttpResponse, ConsoleError> {
    let target = console.target(&path.target).await?;
    if !target.manage_users {
        return Err(ConsoleError::Forbidden);
    }
    let layout = console
        .layout("Create user", Some(&target), "users")
        .await?;
    let form = FormData::parse(b"enabled=on");
    render(
        &console,
        &NewPage {
            layout,
            form,
            errors: Errors::default(),
        },
    )
}

async fn create(posted: Posted, path: web::Path<RealmPath>) -> Result<HttpResponse, ConsoleError> {
    let Posted { console, form } = posted;
    let repr = UserRepr {
        username: Some(form.get("username").to_owned()),
        email: Some(form.get("email").to_owned()),
        first_name: Some(form.get("first_name").to_owned()),
        last_name: Some(form.get("last_name").to_owned()),
        enabled: Some(form.checked("enabled")),
        email_verified: Some(form.checked("email_verified")),
        ..UserRepr::default()
    };
    match ops::users::create(&console.state, &console.actor, &path.target, &repr).await {
        Ok(user) => Ok(console.done(
            &format!(
                "{}/users/{}/credentials",
                console.paths.realm(&path.target),
                user.id
            ),
            &format!(
                "User {} created. Set a password for it here.",
                user.username
            ),
        )),
        Err(err) => {
            let errors = Errors::from_ops(err, &FIELDS)?;
            let target = console.target(&path.target).await?;
            let layout = console
                .layout("Create user", Some(&target), "users")
                .await?;
            render_status(
                &console,
                &NewPage {
                    layout,
                    form,
                    errors,
                },
                StatusCode::BAD_REQUEST,
            )
        }
    }
}
