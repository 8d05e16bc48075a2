//! `/admin/realms/{realm}/clients`: clients, secrets, the docker access policy and the
//! installation downloads.

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::json;

use super::error::ApiError;
use super::strict_json::Strict;
use super::{created, Paging};
use crate::admin::ops::{self, access::Actor};
use crate::admin::repr::{ClientRepr, RoleRepr, UserRepr};
use crate::domain::Protocol;
use crate::http::Base;
use crate::protocol::docker::{downloads, AccessPolicy};
use crate::state::AppState;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/{realm}/clients", web::get().to(list))
        .route("/{realm}/clients", web::post().to(create))
        .route("/{realm}/clients/{id}", web::get().to(get))
        .route("/{realm}/clients/{id}", web::put().to(update))
        .route("/{realm}/clients/{id}", web::delete().to(delete))
        .route("/{realm}/clients/{id}/client-secret", web::get().to(secret))
        .route(
            "/{realm}/clients/{id}/client-secret",
            web::post().to(regenerate_secret),
        )
        .route(
            "/{realm}/clients/{id}/client-secret/rotated",
            web::get().to(rotated_secret),
        )
        .route(
            "/{realm}/clients/{id}/client-secret/rotated",
            web::delete().to(invalidate_rotated_secret),
        )
        .route(
            "/{realm}/clients/{id}/service-account-user",
            web::get().to(service_account_user),
        )
        .route("/{realm}/clients/{id}/roles", web::post().to(create_role))
        .route(
            "/{realm}/clients/{id}/docker-access-policy",
            web::get().to(policy),
        )
        .route(
            "/{realm}/clients/{id}/docker-access-policy",
            web::put().to(set_policy),
        )
        .route(
            "/{realm}/clients/{id}/installation/providers/{provider}",
            web::get().to(installation),
        );
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClientQuery {
    client_id: Option<String>,
    search: Option<String>,
}

type ClientPath = web::Path<(String, String)>;

async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    realm: web::Path<String>,
    query: web::Query<ClientQuery>,
    paging: web::Query<Paging>,
) -> Result<HttpResponse, ApiError> {
    let search = query.search.as_deref().unwrap_or_default();
    let clients = ops::clients::list(
        &state,
        &actor,
        &realm,
        query.client_id.as_deref(),
        search,
        paging.first(),
        paging.max(100),
    )
    .await?;
    let access = ops::clients::access(&state, &actor, &realm).await?;
    let reprs: Vec<ClientRepr> = if clients.settings_visible {
        clients
            .clients
            .iter()
            .map(|c| admin_view(c, access.clone()))
            .collect()
    } else {
        clients.clients.iter().map(ClientRepr::brief).collect()
    };
    Ok(HttpResponse::Ok().json(reprs))
}

async fn create(
    state: web::Data<AppState>,
    actor: Actor,
    base: Base,
    realm: web::Path<String>,
    body: Strict<ClientRepr>,
) -> Result<HttpResponse, ApiError> {
    let client = ops::clients::create(&state, &actor, &realm, &body).await?;
    Ok(created(&base, &format!("/{realm}/clients/{}", client.id)))
}

/// A client as the admin API shows it: with its client scopes and the caller's `access`.
fn admin_view(
    client: &crate::domain::Client,
    access: std::collections::BTreeMap<&'static str, bool>,
) -> ClientRepr {
    use ops::client_scopes::{names_for, Kind};
    ClientRepr {
        default_client_scopes: Some(names_for(client, Kind::Default)),
        optional_client_scopes: Some(names_for(client, Kind::Optional)),
        access: Some(access),
        ..ClientRepr::of(client)
    }
}

async fn get(
    state: web::Data<AppState>,
    actor: Actor,
    path: ClientPath,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    let client = ops::clients::get(&state, &actor, &realm, &id).await?;
    let access = ops::clients::access(&state, &actor, &realm).await?;
    let mut repr = admin_view(&client, access);
    repr.kept = ops::clients::kept_fields(&state, &client).await?;
    Ok(HttpResponse::Ok().json(repr))
}

async fn update(
    state: web::Data<AppState>,
    actor: Actor,
    path: ClientPath,
    body: Strict<ClientRepr>,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    ops::clients::update(&state, &actor, &realm, &id, &body).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn delete(
    state: web::Data<AppState>,
    actor: Actor,
    path: ClientPath,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    ops::clients::delete(&state, &actor, &realm, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn secret(
    state: web::Data<AppState>,
    actor: Actor,
    path: ClientPath,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    let body = match ops::clients::secret(&state, &actor, &realm, &id).await? {
        Some(value) => json!({"type": "secret", "value": value}),
        None => json!({"type": "secret"}),
    };
    Ok(HttpResponse::Ok().json(body))
}

async fn regenerate_secret(
    state: web::Data<AppState>,
    actor: Actor,
    path: ClientPath,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    let value = ops::clients::regenerate_secret(&state, &actor, &realm, &id).await?;
    Ok(HttpResponse::Ok().json(json!({"type": "secret", "value": value})))
}

async fn rotated_secret(
    state: web::Data<AppState>,
    actor: Actor,
    path: ClientPath,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    let value = ops::client_credentials::rotated_secret(&state, &actor, &realm, &id).await?;
    Ok(HttpResponse::Ok().json(json!({"type": "secret", "value": value})))
}

async fn invalidate_rotated_secret(
    state: web::Data<AppState>,
    actor: Actor,
    path: ClientPath,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    ops::client_credentials::invalidate_rotated_secret(&state, &actor, &realm, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn service_account_user(
    state: web::Data<AppState>,
    actor: Actor,
    path: ClientPath,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    let user = ops::client_credentials::service_account_user(&state, &actor, &realm, &id).await?;
    Ok(HttpResponse::Ok().json(UserRepr::full(&user)))
}

async fn create_role(
    state: web::Data<AppState>,
    actor: Actor,
    base: Base,
    path: ClientPath,
    body: Strict<RoleRepr>,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    let role = ops::clients::create_role(&state, &actor, &realm, &id, &body).await?;
    let name: String = url::form_urlencoded::byte_serialize(role.name.as_bytes()).collect();
    Ok(created(
        &base,
        &format!("/{realm}/clients/{id}/roles/{}", name.replace('+', "%20")),
    ))
}

async fn policy(
    state: web::Data<AppState>,
    actor: Actor,
    path: ClientPath,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    Ok(HttpResponse::Ok().json(ops::clients::policy(&state, &actor, &realm, &id).await?))
}

/// keywarden's own endpoint: a policy that cannot be read is refused with the reason.
async fn set_policy(
    state: web::Data<AppState>,
    actor: Actor,
    path: ClientPath,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let (realm, id) = path.into_inner();
    let policy: AccessPolicy = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("Unable to read JSON: {e}")))?;
    ops::clients::set_access_policy(&state, &actor, &realm, &id, policy).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Keycloak's installation downloads: the docker-v2 formats, and `keycloak.json` for OIDC.
async fn installation(
    state: web::Data<AppState>,
    actor: Actor,
    base: Base,
    path: web::Path<(String, String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (realm, id, provider) = path.into_inner();
    let (realm, client) = ops::clients::for_installation(&state, &actor, &realm, &id).await?;
    let unknown = || {
        ApiError::NotFound(format!(
            "Unknown installation provider '{provider}' for this client"
        ))
    };
    match client.protocol {
        Protocol::OpenIdConnect if provider == "keycloak-oidc-keycloak-json" => {
            let mut body = json!({
                "realm": realm.name,
                "auth-server-url": format!("{}/", base.as_str()),
                "ssl-required": "external",
                "resource": client.client_id,
                "confidential-port": 0,
            });
            if client.public_client {
                body["public-client"] = json!(true);
            } else {
                body["credentials"] = json!({"secret": client.secret});
            }
            Ok(HttpResponse::Ok().json(body))
        }
        Protocol::DockerV2
            if state.settings.features.docker
                && downloads::PROVIDERS.contains(&provider.as_str()) =>
        {
            let keys = state
                .keyring
                .get(&state.db, &realm.id)
                .await
                .map_err(|e| ApiError::Internal(e.into()))?;
            let certificate = keys.trust_chain_pem();
            if downloads::carries_trust_chain(&provider) {
                if let Err(err) = ops::keys::record_download(&state, &client, &keys.kids()).await {
                    tracing::warn!(error = %err, "could not record a registry download");
                }
            }
            let (realm_for_build, base_for_build) = (realm.clone(), base.clone());
            let download = web::block(move || {
                downloads::build(
                    &provider,
                    &base_for_build,
                    &realm_for_build,
                    &client,
                    &certificate,
                )
            })
            .await
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("download worker failed: {e}")))?
            .map_err(|e| match e {
                downloads::DownloadError::UnknownProvider(message) => ApiError::NotFound(message),
                downloads::DownloadError::Internal(err) => ApiError::Internal(err),
            })?;
            Ok(HttpResponse::Ok()
                .content_type(download.content_type)
                .insert_header((
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{}\"", download.filename),
                ))
                .body(download.body))
        }
        _ => Err(unknown()),
    }
}
