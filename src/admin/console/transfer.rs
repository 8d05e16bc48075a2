//! Realm settings > Export & import: Keycloak's partial export (a JSON download of the
//! realm's settings with, on request, its clients and its groups and roles) and partial
//! import (a JSON file of realm roles, clients, groups and users, each added, skipped or
//! overwritten when its name is taken), through the same operations as the admin API.

use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;

use super::error::ConsoleError;
use super::form::{Errors, FormData, Posted};
use super::page::{render_status, Layout};
use super::realms::RealmPath;
use super::session::Console;
use crate::admin::ops;
use crate::admin::ops::partial_import::{IfExists, ImportResults, PartialImportRepr};

/// The largest JSON text imported from the form.
const MAX_JSON_BYTES: usize = 1024 * 1024;
/// The largest form body read (the JSON, URL-encoded).
const MAX_FORM_BYTES: usize = 4 * MAX_JSON_BYTES;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/{target}/settings/transfer", web::get().to(show))
        .route("/{target}/settings/transfer/export", web::post().to(export))
        .service(
            web::resource("/{target}/settings/transfer/import")
                .app_data(web::PayloadConfig::new(MAX_FORM_BYTES))
                .route(web::post().to(import)),
        );
}

#[derive(Template)]
#[template(path = "console/settings/transfer.html")]
struct TransferPage {
    layout: Layout,
    tab: &'static str,
    form: FormData,
    errors: Errors,
    results: Option<ImportResults>,
    max_kib: usize,
}

async fn page(
    console: &Console,
    target: &str,
    form: FormData,
    errors: Errors,
    results: Option<ImportResults>,
) -> Result<HttpResponse, ConsoleError> {
    let target = console.target(target).await?;
    if !target.view_realm {
        return Err(ConsoleError::Forbidden);
    }
    let layout = console
        .layout(
            "Realm settings · Export & import",
            Some(&target),
            "settings",
        )
        .await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let page = TransferPage {
        layout,
        tab: "transfer",
        form,
        errors,
        results,
        max_kib: MAX_JSON_BYTES / 1024,
    };
    render_status(console, &page, status)
}

async fn show(console: Console, path: web::Path<RealmPath>) -> Result<HttpResponse, ConsoleError> {
    page(
        &console,
        &path.target,
        FormData::default(),
        Errors::default(),
        None,
    )
    .await
}

/// The partial export, downloaded as `realm-export.json`.
async fn export(posted: Posted, path: web::Path<RealmPath>) -> Result<HttpResponse, ConsoleError> {
    let Posted { console, form } = posted;
    let exported = ops::realm_export::partial(
        &console.state,
        &console.actor,
        &path.target,
        form.checked("export_clients"),
        form.checked("export_groups_and_roles"),
    )
    .await?;
    let body =
        serde_json::to_vec_pretty(&exported).map_err(|e| ConsoleError::Internal(e.into()))?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header(ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename("realm-export.json".into())],
        })
        .body(body))
}

/// Reads the form's JSON and policy, or says what is wrong with them.
fn parse(form: &FormData, errors: &mut Errors) -> Option<PartialImportRepr> {
    let text = form.raw("json").trim();
    if text.is_empty() {
        errors.add(
            "json",
            "Choose a file or paste the JSON of a partial export.",
        );
        return None;
    }
    if text.len() > MAX_JSON_BYTES {
        errors.add(
            "json",
            format!(
                "The file is larger than {} KiB; import it in parts, or with the admin API.",
                MAX_JSON_BYTES / 1024
            ),
        );
        return None;
    }
    let policy = match form.get("if_resource_exists") {
        "SKIP" => IfExists::Skip,
        "OVERWRITE" => IfExists::Overwrite,
        _ => IfExists::Fail,
    };
    match serde_json::from_str::<PartialImportRepr>(text) {
        Ok(mut repr) => {
            repr.if_resource_exists = Some(policy);
            Some(repr)
        }
        Err(err) => {
            errors.add(
                "json",
                format!(
                    "This is not a realm export keywarden can read (line {}, column {}): {}.",
                    err.line(),
                    err.column(),
                    short(&err)
                ),
            );
            None
        }
    }
}

/// serde's message without its position (given apart).
fn short(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

async fn import(posted: Posted, path: web::Path<RealmPath>) -> Result<HttpResponse, ConsoleError> {
    let Posted { console, form } = posted;
    let mut errors = Errors::default();
    let Some(repr) = parse(&form, &mut errors) else {
        return page(&console, &path.target, form, errors, None).await;
    };
    match ops::partial_import::import(&console.state, &console.actor, &path.target, &repr).await {
        Ok(results) => {
            page(
                &console,
                &path.target,
                FormData::default(),
                Errors::default(),
                Some(results),
            )
            .await
        }
        Err(err) => {
            let errors = Errors::from_ops(err, &[])?;
            page(&console, &path.target, form, errors, None).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreadable_json_is_explained_with_its_position() {
        let mut errors = Errors::default();
        let form = FormData::parse(b"json=%7B%22roles%22%3A+5%7D");
        assert!(parse(&form, &mut errors).is_none());
        let message = errors.field("json").unwrap();
        assert!(message.contains("line 1"), "{message}");
        let mut errors = Errors::default();
        let form = FormData::parse(b"json=%7B%7D&if_resource_exists=SKIP");
        let repr = parse(&form, &mut errors).unwrap();
        assert_eq!(repr.if_resource_exists, Some(IfExists::Skip));
    }
}
