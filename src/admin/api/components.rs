//! `/admin/realms/{realm}/components`: the realm's key providers as Keycloak's components.
//! Each realm key is one component: `rsa-generated` (RS256) or `ecdsa-generated` (ES256,
//! P-256), with the `active` and `enabled` switches of Keycloak's key providers.

use std::collections::BTreeMap;

use actix_web::{web, HttpResponse};
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use crate::admin::ops::keys::ProviderSwitches;
use crate::admin::ops::{self, access::Actor};
use crate::crypto::keys::SigningAlgorithm;
use crate::domain::{Realm, RealmKey};
use crate::http::Base;
use crate::state::AppState;

/// The component type of key providers.
const KEY_PROVIDER: &str = "org.keycloak.keys.KeyProvider";
/// The priority every generated key reports.
const PRIORITY: &str = "100";
/// At most this many config entries, each of at most this many values.
const MAX_CONFIG: usize = 32;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/{realm}/components", web::get().to(list))
        .route("/{realm}/components", web::post().to(create))
        .route("/{realm}/components/{id}", web::get().to(get))
        .route("/{realm}/components/{id}", web::put().to(update))
        .route("/{realm}/components/{id}", web::delete().to(remove));
}

/// Keycloak's ComponentRepresentation, as far as key providers use it.
#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ComponentRepr {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    #[serde(default)]
    pub config: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    #[serde(rename = "type")]
    kind: Option<String>,
    name: Option<String>,
    parent: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ComponentPath {
    realm: String,
    id: String,
}

async fn list(
    state: web::Data<AppState>,
    actor: Actor,
    realm: web::Path<String>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let (realm, keys) = ops::keys::providers(&state, &actor, &realm).await?;
    let wanted = |c: &ComponentRepr| {
        query
            .kind
            .as_deref()
            .is_none_or(|k| c.provider_type.as_deref() == Some(k))
            && query
                .name
                .as_deref()
                .is_none_or(|n| c.name.as_deref() == Some(n))
            && query
                .parent
                .as_deref()
                .is_none_or(|p| c.parent_id.as_deref() == Some(p))
    };
    let components: Vec<_> = keys
        .iter()
        .map(|k| representation(&realm, k))
        .filter(wanted)
        .collect();
    Ok(HttpResponse::Ok().json(components))
}

async fn get(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<ComponentPath>,
) -> Result<HttpResponse, ApiError> {
    let (realm, keys) = ops::keys::providers(&state, &actor, &path.realm).await?;
    keys.iter()
        .find(|k| k.id.to_string() == path.id)
        .map(|k| HttpResponse::Ok().json(representation(&realm, k)))
        .ok_or_else(|| ApiError::NotFound("Could not find component".into()))
}

async fn create(
    state: web::Data<AppState>,
    actor: Actor,
    base: Base,
    realm: web::Path<String>,
    body: web::Json<ComponentRepr>,
) -> Result<HttpResponse, ApiError> {
    if body.provider_type.as_deref() != Some(KEY_PROVIDER) {
        return Err(ApiError::BadRequest(
            "Only key providers (org.keycloak.keys.KeyProvider) can be created".into(),
        ));
    }
    let algorithm = match body.provider_id.as_deref() {
        Some("rsa-generated") => SigningAlgorithm::Rs256,
        Some("ecdsa-generated") => SigningAlgorithm::Es256,
        _ => {
            return Err(ApiError::BadRequest(
                "Unsupported key provider: rsa-generated and ecdsa-generated are offered".into(),
            ))
        }
    };
    let switches = validate(&body.config, algorithm)?;
    let key = ops::keys::create_provider(&state, &actor, &realm, algorithm, switches).await?;
    Ok(super::created(
        &base,
        &format!("/{realm}/components/{}", key.id),
    ))
}

async fn update(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<ComponentPath>,
    body: web::Json<ComponentRepr>,
) -> Result<HttpResponse, ApiError> {
    let (_, keys) = ops::keys::providers(&state, &actor, &path.realm).await?;
    let key = keys
        .iter()
        .find(|k| k.id.to_string() == path.id)
        .ok_or_else(|| ApiError::NotFound("Could not find component".into()))?;
    let algorithm = SigningAlgorithm::parse(&key.algorithm)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("unknown key algorithm")))?;
    let switches = validate(&body.config, algorithm)?;
    ops::keys::switch_provider(&state, &actor, &path.realm, &path.id, switches).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn remove(
    state: web::Data<AppState>,
    actor: Actor,
    path: web::Path<ComponentPath>,
) -> Result<HttpResponse, ApiError> {
    ops::keys::remove_provider(&state, &actor, &path.realm, &path.id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Checks a key provider's config as Keycloak's validation helper does and returns its
/// switches (both default to on).
fn validate(
    config: &BTreeMap<String, Vec<String>>,
    algorithm: SigningAlgorithm,
) -> Result<ProviderSwitches, ApiError> {
    if config.len() > MAX_CONFIG || config.values().any(|v| v.len() > MAX_CONFIG) {
        return Err(ApiError::BadRequest("Too many config values".into()));
    }
    let first = |key: &str| config.get(key).and_then(|v| v.first()).map(String::as_str);
    if first("priority").is_some_and(|p| p.trim().parse::<i64>().is_err()) {
        return Err(ApiError::BadRequest("'Priority' should be a number".into()));
    }
    let switch = |key: &str, label: &str| match first(key) {
        None | Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(_) => Err(ApiError::BadRequest(format!(
            "'{label}' should be 'true' or 'false'"
        ))),
    };
    let switches = ProviderSwitches {
        enabled: switch("enabled", "Enabled")?,
        active: switch("active", "Active")?,
    };
    match (algorithm, first("ecdsaEllipticCurveKey")) {
        (SigningAlgorithm::Es256, None | Some("P-256")) | (SigningAlgorithm::Rs256, _) => {}
        (SigningAlgorithm::Es256, Some("P-384" | "P-521")) => {
            return Err(ApiError::BadRequest(
                "Only the P-256 curve (ES256) is supported".into(),
            ))
        }
        (SigningAlgorithm::Es256, Some(_)) => {
            return Err(ApiError::BadRequest(
                "'Elliptic Curve' should be one of [P-256, P-384, P-521]".into(),
            ))
        }
    }
    if algorithm == SigningAlgorithm::Rs256 && first("keySize").is_some_and(|size| size != "2048") {
        return Err(ApiError::BadRequest(
            "Only 2048-bit RSA keys are supported".into(),
        ));
    }
    Ok(switches)
}

/// A key as Keycloak shows its provider component (private keys are never shown).
fn representation(realm: &Realm, key: &RealmKey) -> ComponentRepr {
    let es256 = key.algorithm == SigningAlgorithm::Es256.as_str();
    let provider = if es256 {
        "ecdsa-generated"
    } else {
        "rsa-generated"
    };
    let flag = |on: bool| vec![on.to_string()];
    let mut config = BTreeMap::from([
        ("priority".to_owned(), vec![PRIORITY.to_owned()]),
        ("enabled".to_owned(), flag(key.status != "DISABLED")),
        ("active".to_owned(), flag(key.status == "ACTIVE")),
    ]);
    if es256 {
        config.insert("ecdsaEllipticCurveKey".into(), vec!["P-256".into()]);
    } else {
        config.insert("keySize".into(), vec!["2048".into()]);
        config.insert("algorithm".into(), vec![key.algorithm.clone()]);
    }
    ComponentRepr {
        id: Some(key.id.to_string()),
        name: Some(provider.to_owned()),
        provider_id: Some(provider.to_owned()),
        provider_type: Some(KEY_PROVIDER.to_owned()),
        parent_id: Some(realm.id.to_string()),
        config,
    }
}
