//! `/admin/realms` and `/admin/realms/{realm}`, plus the realm's keys.

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::created;
use super::error::ApiError;
use crate::admin::ops::{self, access::Actor};
use crate::admin::realm_file;
use crate::admin::repr::RealmRepr;
use crate::crypto::keys::LoadedKey;
use crate::http::client_gone::ClientGone;
use crate::http::Base;
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("", web::get().to(list))
        .route("", web::post().to(create))
        .route("/{realm}", web::get().to(get))
        .route("/{realm}", web::put().to(update))
        .route("/{realm}", web::delete().to(delete))
        .route("/{realm}/keys", web::get().to(keys))
        .route("/{realm}/partial-export", web::post().to(partial_export))
        .service(
            web::resource("/{realm}/partialImport")
                .app_data(web::PayloadConfig::new(ops::partial_import::MAX_BYTES))
                .route(web::post().to(partial_import)),
        );
}

async fn list(state: web::Data<AppState>, actor: Actor) -> Result<HttpResponse, ApiError> {
    let mut realms: Vec<RealmRepr> = Vec::new();
    for realm in ops::realms::list(&state, &actor).await? {
        realms.push(ops::realms::representation(state.db.read(), &realm).await?);
    }
    Ok(HttpResponse::Ok().json(realms))
}

/// Creates a realm, importing what its representation carries. The body is read as
/// Keycloak reads a realm file: of a key given twice the last wins, and an error names the
/// JSON path of what is wrong.
async fn create(
    state: web::Data<AppState>,
    actor: Actor,
    base: Base,
    body: web::Bytes,
    client: ClientGone,
) -> Result<HttpResponse, ApiError> {
    let file = realm_file::parse(&body).map_err(ApiError::BadRequest)?;
    let imported = tokio::select! {
        created = ops::realms::create(&state, &actor, &file.repr) => created?,
        () = client.wait() => {
            tracing::info!(realm = file.repr.realm.as_deref(), "realm import stopped: the client left");
            return Ok(HttpResponse::BadRequest().finish());
        }
    };
    for part in file.left_out.iter().chain(&imported.left_out) {
        tracing::info!(realm = %imported.realm.name, "import left out {part}");
    }
    Ok(created(&base, &format!("/{}", imported.realm.name)))
}

async fn get(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let realm = ops::realms::get(&state, &actor, &path).await?;
    Ok(HttpResponse::Ok().json(ops::realms::representation(state.db.read(), &realm).await?))
}

async fn update(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
    body: web::Json<RealmRepr>,
) -> Result<HttpResponse, ApiError> {
    ops::realms::update(&state, &actor, &path, &body).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn delete(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    ops::realms::delete(&state, &actor, &path).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExportQuery {
    export_clients: Option<String>,
    export_groups_and_roles: Option<String>,
}

/// Keycloak's partial export: settings, and on request clients (secrets masked), realm roles
/// and groups; the result imports as a new realm.
async fn partial_export(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let exported = ops::realm_export::partial(
        &state,
        &actor,
        &path,
        super::query_bool(&query.export_clients).unwrap_or(false),
        super::query_bool(&query.export_groups_and_roles).unwrap_or(false),
    )
    .await?;
    Ok(HttpResponse::Ok().json(exported))
}

/// Keycloak's partial import: realm roles, clients, groups and users, each added, skipped or
/// overwritten as `ifResourceExists` says.
async fn partial_import(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let repr: ops::partial_import::PartialImportRepr = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("Invalid partial import: {e}")))?;
    let results = ops::partial_import::import(&state, &actor, &path, &repr).await?;
    Ok(HttpResponse::Ok().json(results))
}

/// Keycloak's KeysMetadataRepresentation.
async fn keys(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (_, keys) = ops::realms::keys(&state, &actor, &path).await?;
    let mut active = serde_json::Map::new();
    let mut list = Vec::new();
    for key in &keys {
        let loaded = LoadedKey::load(key).map_err(|e| ApiError::Internal(e.into()))?;
        if loaded.active {
            active
                .entry(key.algorithm.clone())
                .or_insert_with(|| json!(key.kid));
        }
        let es256 = key.algorithm == "ES256";
        list.push(json!({
            // Keycloak's providerId is the id of the key's provider component.
            "providerId": key.id.to_string(),
            "providerPriority": 100,
            "kid": key.kid,
            "status": key.status,
            "type": if es256 { "EC" } else { "RSA" },
            "algorithm": key.algorithm,
            "publicKey": loaded.public_key_b64,
            "certificate": loaded.certificate_b64,
            "use": "SIG",
        }));
    }
    Ok(HttpResponse::Ok().json(json!({"active": active, "keys": list})))
}
