//! A user's Credentials tab: set a password, temporary or not.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

use super::{load, UserPath, UserView};
use crate::admin::console::error::ConsoleError;
use crate::admin::console::form::{Errors, Posted};
use crate::admin::console::page::{render_status, Layout};
use crate::admin::console::session::Console;
use crate::admin::ops;
use crate::admin::repr::CredentialRepr;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/{target}/users/{id}/credentials", web::get().to(show))
        .route(
            "/{target}/users/{id}/credentials",
            web::post().to(set_password),
        );
}

#[derive(Template)]
#[template(path = "console/users/credentials.html")]
struct CredentialsPage {
    layout: Layout,
    tab: &'static str,
    user: UserView,
    temporary: bool,
    errors: Errors,
}

async fn page(
    console: &Console,
    path: &UserPath,
    temporary: bool,
    errors: Errors,
) -> Result<HttpResponse, ConsoleError> {
    let (target, user) = load(console, path).await?;
    let layout = console
        .layout(
            format!("User {} · Credentials", user.username),
            Some(&target),
            "users",
        )
        .await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let page = CredentialsPage {
        layout,
        tab: "credentials",
        user,
        temporary,
        errors,
    };
    render_status(console, &page, status)
}

async fn show(console: Console, path: web::Path<UserPath>) -> Result<HttpResponse, ConsoleError> {
    page(&console, &path, false, Errors::default()).await
}

async fn set_password(
    posted: Posted,
    path: web::Path<UserPath>,
) -> Result<HttpResponse, ConsoleError> {
    let Posted { console, form } = posted;
    let temporary = form.checked("temporary");
    let password = form.raw("password");
    let mut errors = Errors::default();
    if password.is_empty() {
        errors.add("password", "Enter a password.");
    } else if password != form.raw("password_confirmation") {
        errors.add("password_confirmation", "The passwords do not match.");
    }
    if !errors.is_empty() {
        return page(&console, &path, temporary, errors).await;
    }
    let credential = CredentialRepr {
        kind: Some("password".into()),
        value: Some(password.to_owned()),
        temporary: Some(temporary),
        ..CredentialRepr::default()
    };
    match ops::users::reset_password(
        &console.state,
        &console.actor,
        &path.target,
        &path.id,
        &credential,
    )
    .await
    {
        Ok(()) => Ok(console.done(
            &format!(
                "{}/users/{}/credentials",
                console.paths.realm(&path.target),
                path.id
            ),
            "Password set. The user's sessions and tokens were revoked.",
        )),
        Err(err) => {
            let errors = Errors::from_ops(err, &[("password", "password")])?;
            page(&console, &path, temporary, errors).await
        }
    }
}
