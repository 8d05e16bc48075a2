//! `/admin/realms/{realm}/users/{id}/credentials`: a user's credentials as Keycloak lists
//! them (never their secret), deleted, labelled and reordered.

use actix_web::{web, HttpResponse};
use serde::Serialize;
use serde_json::json;

use super::error::ApiError;
use crate::admin::ops::user_credentials::EMPTY_LABEL;
use crate::admin::ops::{self, access::Actor, OpsError};
use crate::crypto::keycloak_credential::keycloak_from_phc;
use crate::state::AppState;
use crate::store::credentials::StoredCredential;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/{realm}/users/{id}/credentials", web::get().to(list))
        .route(
            "/{realm}/users/{id}/credentials/{credential}",
            web::delete().to(delete),
        )
        .route(
            "/{realm}/users/{id}/credentials/{credential}/userLabel",
            web::put().to(set_label),
        )
        .route(
            "/{realm}/users/{id}/credentials/{credential}/moveToFirst",
            web::post().to(move_to_first),
        )
        .route(
            "/{realm}/users/{id}/credentials/{credential}/moveAfter/{previous}",
            web::post().to(move_after),
        )
        .route(
            "/{realm}/users/{id}/configured-user-storage-credential-types",
            web::get().to(storage_types),
        );
}

/// Keycloak's CredentialRepresentation as `GET .../credentials` answers it: no
/// `secretData`, and `credentialData` as the JSON string Keycloak stores.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CredentialOut {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_label: Option<String>,
    created_date: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    credential_data: Option<String>,
}

impl CredentialOut {
    fn of(credential: StoredCredential) -> Self {
        let credential_data = match credential.kind.as_str() {
            "password" => keycloak_from_phc(&credential.secret_data).map(|k| k.credential_data),
            _ => None,
        };
        CredentialOut {
            id: credential.id,
            kind: credential.kind,
            user_label: credential.user_label,
            created_date: credential.created_at.saturating_mul(1000),
            credential_data,
        }
    }
}

type UserPath = web::Path<(String, String)>;
type CredentialPath = web::Path<(String, String, String)>;

async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    path: UserPath,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    let credentials = ops::user_credentials::list(&state, &actor, &realm, &id).await?;
    Ok(HttpResponse::Ok().json(
        credentials
            .into_iter()
            .map(CredentialOut::of)
            .collect::<Vec<_>>(),
    ))
}

async fn delete(
    state: web::Data<AppState>,
    actor: Actor,
    path: CredentialPath,
) -> Result<HttpResponse, ApiError> {
    let (realm, id, credential) = path.into_inner();
    ops::user_credentials::delete(&state, &actor, &realm, &id, &credential).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The label arrives as the plain-text body. An empty one is refused as Keycloak refuses it:
/// `{"error": "missingCredentialLabel", "error_description": ...}`.
async fn set_label(
    state: web::Data<AppState>,
    actor: Actor,
    path: CredentialPath,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (realm, id, credential) = path.into_inner();
    let label = String::from_utf8_lossy(&body);
    match ops::user_credentials::set_label(&state, &actor, &realm, &id, &credential, &label).await {
        Ok(()) => Ok(HttpResponse::NoContent().finish()),
        Err(OpsError::Invalid(message)) if message == EMPTY_LABEL => Ok(HttpResponse::BadRequest()
            .json(json!({"error": "missingCredentialLabel", "error_description": message}))),
        Err(err) => Err(err.into()),
    }
}

async fn move_to_first(
    state: web::Data<AppState>,
    actor: Actor,
    path: CredentialPath,
) -> Result<HttpResponse, ApiError> {
    let (realm, id, credential) = path.into_inner();
    ops::user_credentials::move_after(&state, &actor, &realm, &id, &credential, None).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn move_after(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<(String, String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (realm, id, credential, previous) = path.into_inner();
    ops::user_credentials::move_after(&state, &actor, &realm, &id, &credential, Some(&previous))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The credential types a user storage provides: none, for keywarden's own users.
async fn storage_types(
    state: web::Data<AppState>,
    actor: Actor,
    path: UserPath,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    ops::user_credentials::require_viewable(&state, &actor, &realm, &id).await?;
    Ok(HttpResponse::Ok().json(Vec::<String>::new()))
}
