//! Posted forms: [`Posted`] is the only way a handler receives a form, and it refuses any
//! POST whose CSRF token is not the session's. [`Errors`] carries what a form shows inline.

use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use futures_util::future::LocalBoxFuture;

use super::error::ConsoleError;
use super::session::Console;
use crate::admin::ops::OpsError;
use crate::http::csrf;

/// A url-encoded form body: every field in order, repeated names kept.
#[derive(Debug, Clone, Default)]
pub struct FormData(Vec<(String, String)>);

impl FormData {
    pub fn parse(body: &[u8]) -> FormData {
        FormData(url::form_urlencoded::parse(body).into_owned().collect())
    }

    /// Every field, in order.
    pub fn fields(&self) -> &[(String, String)] {
        &self.0
    }

    /// The first value of `name`, untrimmed ("" when absent).
    pub fn raw(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// The first value of `name`, trimmed ("" when absent).
    pub fn get(&self, name: &str) -> &str {
        self.raw(name).trim()
    }

    /// The trimmed value of `name`, `None` when absent or blank.
    pub fn opt(&self, name: &str) -> Option<String> {
        Some(self.get(name).to_owned()).filter(|v| !v.is_empty())
    }

    /// Whether the checkbox `name` was ticked.
    pub fn checked(&self, name: &str) -> bool {
        self.0.iter().any(|(n, _)| n == name)
    }

    /// Every non-blank value of `name`.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(n, v)| n == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_owned())
            .collect()
    }

    /// The non-blank lines of a textarea.
    pub fn lines(&self, name: &str) -> Vec<String> {
        self.raw(name)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

/// The field of a form re-posted after the admin confirmed losing their own admin rights.
pub const CONFIRM_OWN: &str = "confirm_own";

/// A signed-in POST whose CSRF token checked out, with its form.
pub struct Posted {
    pub console: Console,
    pub form: FormData,
}

impl FromRequest for Posted {
    type Error = ConsoleError;
    type Future = LocalBoxFuture<'static, Result<Posted, ConsoleError>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let console = Console::from_request(req, payload);
        let body = web::Bytes::from_request(req, payload);
        let cross_site = csrf::cross_site(req);
        let req = req.clone();
        Box::pin(async move {
            let mut console = console.await?;
            let body = body
                .await
                .map_err(|_| ConsoleError::BadRequest("The form could not be read.".into()))?;
            let form = FormData::parse(&body);
            if cross_site || !csrf::matches(&console.csrf, Some(form.raw(csrf::FIELD))) {
                return Err(ConsoleError::CsrfRefused);
            }
            // Until the admin confirms, no write may take their own admin rights away; the
            // form is kept for the page that asks (see `error::pages`).
            console.actor.keep_own_powers = !form.checked(CONFIRM_OWN);
            req.extensions_mut().insert(form.clone());
            Ok(Posted { console, form })
        })
    }
}

/// What a form shows when it is sent back: one message for the form, and per-field ones.
#[derive(Debug, Clone, Default)]
pub struct Errors {
    pub general: Option<String>,
    fields: Vec<(&'static str, String)>,
}

impl Errors {
    /// The message for field `name`, if any.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, m)| m.as_str())
    }

    /// Adds a message for field `name`.
    pub fn add(&mut self, name: &'static str, message: impl Into<String>) {
        self.fields.push((name, message.into()));
    }

    pub fn is_empty(&self) -> bool {
        self.general.is_none() && self.fields.is_empty()
    }

    /// An operation's refusal as form errors: invalid input and conflicts are shown on the
    /// form, attached to the field the message names (`fields` maps a message prefix to a
    /// field); anything else is the caller's error.
    pub fn from_ops(
        err: OpsError,
        fields: &[(&str, &'static str)],
    ) -> Result<Errors, ConsoleError> {
        let message = match err {
            OpsError::Refused(message) if message == crate::admin::ops::LOSES_OWN_POWERS => {
                return Err(ConsoleError::LosesOwnPowers)
            }
            OpsError::Invalid(message)
            | OpsError::Conflict(message)
            | OpsError::Precondition(message) => message,
            OpsError::Refused(message) => message.to_owned(),
            other => return Err(other.into()),
        };
        let mut errors = Errors::default();
        match fields
            .iter()
            .find(|(prefix, _)| message.to_lowercase().contains(&prefix.to_lowercase()))
        {
            Some((_, field)) => errors.add(field, message),
            None => errors.general = Some(message),
        }
        Ok(errors)
    }
}

/// Parses a whole number of seconds (or any count) from a form field.
pub fn number(form: &FormData, name: &'static str, errors: &mut Errors) -> Option<i64> {
    match form.get(name).parse::<i64>() {
        Ok(value) => Some(value),
        Err(_) => {
            errors.add(name, "Enter a whole number.");
            None
        }
    }
}

/// Parses a duration field (`30s`, `5m`, `1h`, `2d` or plain seconds) into seconds; a
/// refusal names the field by its `label`, as the form shows it.
pub fn seconds(
    form: &FormData,
    name: &'static str,
    label: &str,
    errors: &mut Errors,
) -> Option<i64> {
    let parsed = super::page::parse_duration(form.get(name));
    if parsed.is_none() {
        errors.add(
            name,
            format!(
                "{label}: enter a duration such as 30s, 5m, 1h or 2d (or a number of seconds), \
                 at most ten years."
            ),
        );
    }
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_keep_repeated_fields_and_decode() {
        let form = FormData::parse(b"role=a&role=b+c&role=&name=+x%26y+&on=1");
        assert_eq!(form.all("role"), ["a", "b c"]);
        assert_eq!(form.get("name"), "x&y");
        assert!(form.checked("on"));
        assert!(!form.checked("off"));
        assert_eq!(form.opt("missing"), None);
    }

    #[test]
    fn ops_messages_land_on_the_field_they_name() {
        let errors = Errors::from_ops(
            OpsError::Invalid("Invalid email address.".into()),
            &[("email", "email")],
        )
        .unwrap();
        assert_eq!(errors.field("email"), Some("Invalid email address."));
        let errors =
            Errors::from_ops(OpsError::Conflict("taken".into()), &[("email", "email")]).unwrap();
        assert_eq!(errors.general.as_deref(), Some("taken"));
        assert!(Errors::from_ops(OpsError::Forbidden, &[]).is_err());
    }
}
