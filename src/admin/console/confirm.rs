//! The page that asks before a destructive action: what will happen, a cancel link, and a
//! button that posts the action (and, for the gravest, a name to type first).

use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use askama::Template;

use super::error::ConsoleError;
use super::page::{render_status, Layout};
use super::session::Console;

/// What to ask.
pub struct Question {
    pub heading: String,
    pub message: String,
    /// Where the confirmation is posted.
    pub action: String,
    pub button: String,
    pub cancel: String,
    /// When set, the admin must type this exact text (e.g. the realm's name).
    pub type_to_confirm: Option<String>,
}

#[derive(Template)]
#[template(path = "console/confirm.html")]
struct ConfirmPage<'a> {
    layout: Layout,
    question: &'a Question,
    error: Option<&'a str>,
}

/// Renders the question; `error` explains why a previous confirmation was refused.
pub fn ask(
    console: &Console,
    layout: Layout,
    question: &Question,
    error: Option<&str>,
) -> Result<HttpResponse, ConsoleError> {
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    render_status(
        console,
        &ConfirmPage {
            layout,
            question,
            error,
        },
        status,
    )
}
