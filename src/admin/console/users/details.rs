//! A user's Details tab (names, email, enabled, email verified; the brute-force lock and its
//! release) and deleting the user.

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

use super::{load, UserPath, UserView, FIELDS};
use crate::admin::console::confirm::{self, Question};
use crate::admin::console::error::ConsoleError;
use crate::admin::console::form::{Errors, FormData, Posted};
use crate::admin::console::page::{datetime_ms, render_status, Layout, Target};
use crate::admin::console::session::Console;
use crate::admin::ops;
use crate::admin::repr::UserRepr;
use crate::protocol::brute_force::PERMANENT;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/{target}/users/{id}", web::get().to(show))
        .route("/{target}/users/{id}", web::post().to(save))
        .route("/{target}/users/{id}/unlock", web::post().to(unlock))
        .route("/{target}/users/{id}/delete", web::get().to(confirm_delete))
        .route("/{target}/users/{id}/delete", web::post().to(delete));
}

#[derive(Template)]
#[template(path = "console/users/details.html")]
struct DetailsPage {
    layout: Layout,
    tab: &'static str,
    user: UserView,
    /// The form's values: the user's, or what was typed before a refused save.
    form: FormData,
    errors: Errors,
    /// The brute-force state, in words, when the user has failed sign-ins.
    lock: Option<String>,
    locked: bool,
}

fn form_of(user: &UserView) -> FormData {
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    serializer
        .append_pair("email", &user.email)
        .append_pair("first_name", &user.first_name)
        .append_pair("last_name", &user.last_name);
    if user.enabled {
        serializer.append_pair("enabled", "on");
    }
    if user.email_verified {
        serializer.append_pair("email_verified", "on");
    }
    FormData::parse(serializer.finish().as_bytes())
}

async fn page(
    console: &Console,
    path: &UserPath,
    target: Target,
    user: UserView,
    typed: Option<FormData>,
    errors: Errors,
) -> Result<HttpResponse, ConsoleError> {
    let failure =
        ops::attack_detection::status(&console.state, &console.actor, &path.target, &path.id)
            .await?;
    let now = crate::clock::now_ms();
    let locked = failure.as_ref().is_some_and(|f| f.locked_until_ms > now);
    let lock = failure.map(|f| match f.locked_until_ms {
        PERMANENT => format!(
            "Locked after {} failed sign-ins until an admin unlocks it.",
            f.num_failures
        ),
        until if until > now => format!(
            "Temporarily locked after {} failed sign-ins, until {}.",
            f.num_failures,
            datetime_ms(until)
        ),
        _ => format!("{} failed sign-ins recently.", f.num_failures),
    });
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let layout = console
        .layout(format!("User {}", user.username), Some(&target), "users")
        .await?;
    let page = DetailsPage {
        layout,
        tab: "details",
        form: typed.unwrap_or_else(|| form_of(&user)),
        user,
        errors,
        lock,
        locked,
    };
    render_status(console, &page, status)
}

async fn show(console: Console, path: web::Path<UserPath>) -> Result<HttpResponse, ConsoleError> {
    let (target, user) = load(&console, &path).await?;
    page(&console, &path, target, user, None, Errors::default()).await
}

async fn save(posted: Posted, path: web::Path<UserPath>) -> Result<HttpResponse, ConsoleError> {
    let Posted { console, form } = posted;
    let repr = UserRepr {
        email: Some(form.get("email").to_owned()),
        first_name: Some(form.get("first_name").to_owned()),
        last_name: Some(form.get("last_name").to_owned()),
        enabled: Some(form.checked("enabled")),
        email_verified: Some(form.checked("email_verified")),
        ..UserRepr::default()
    };
    match ops::users::update(
        &console.state,
        &console.actor,
        &path.target,
        &path.id,
        &repr,
    )
    .await
    {
        Ok(user) => Ok(console.done(
            &format!("{}/users/{}", console.paths.realm(&path.target), path.id),
            &format!("User {} saved.", user.username),
        )),
        Err(err) => {
            let errors = Errors::from_ops(err, &FIELDS)?;
            let (target, user) = load(&console, &path).await?;
            page(&console, &path, target, user, Some(form), errors).await
        }
    }
}

async fn unlock(posted: Posted, path: web::Path<UserPath>) -> Result<HttpResponse, ConsoleError> {
    let console = posted.console;
    ops::attack_detection::clear(&console.state, &console.actor, &path.target, &path.id).await?;
    Ok(console.done(
        &format!("{}/users/{}", console.paths.realm(&path.target), path.id),
        "Failed sign-ins cleared; the user can sign in again.",
    ))
}

fn delete_question(target: &Target, user: &UserView) -> Question {
    Question {
        heading: format!("Delete user {}", user.username),
        message: "The user, their credentials, role mappings, group memberships, sessions and \
                  tokens are deleted. This cannot be undone."
            .into(),
        action: format!("{}/users/{}/delete", target.path, user.id),
        button: "Delete user".into(),
        cancel: format!("{}/users/{}", target.path, user.id),
        type_to_confirm: None,
    }
}

async fn confirm_delete(
    console: Console,
    path: web::Path<UserPath>,
) -> Result<HttpResponse, ConsoleError> {
    let (target, user) = load(&console, &path).await?;
    if !target.manage_users {
        return Err(ConsoleError::Forbidden);
    }
    let layout = console
        .layout("Delete user", Some(&target), "users")
        .await?;
    confirm::ask(&console, layout, &delete_question(&target, &user), None)
}

async fn delete(posted: Posted, path: web::Path<UserPath>) -> Result<HttpResponse, ConsoleError> {
    let console = posted.console;
    let (_, user) = load(&console, &path).await?;
    ops::users::delete(&console.state, &console.actor, &path.target, &path.id).await?;
    Ok(console.done(
        &format!("{}/users", console.paths.realm(&path.target)),
        &format!("User {} deleted.", user.username),
    ))
}
