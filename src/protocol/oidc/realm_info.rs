//! `GET /realms/{realm}` (the realm's public key and service URLs) and its JWKS.

use actix_web::{web, HttpResponse};
use serde_json::json;

use super::OidcError;
use crate::domain::Realm;
use crate::http::Base;
use crate::state::AppState;
use crate::store;

/// Finds an enabled realm by name, or answers 404.
pub(super) async fn enabled_realm(state: &AppState, name: &str) -> Result<Realm, OidcError> {
    store::realms::find_by_name(state.db.read(), name)
        .await?
        .filter(|r| r.enabled)
        .ok_or(OidcError::RealmNotFound)
}

/// Finds a realm by name, enabled or not, or answers 404.
pub(super) async fn existing_realm(state: &AppState, name: &str) -> Result<Realm, OidcError> {
    store::realms::find_by_name(state.db.read(), name)
        .await?
        .ok_or(OidcError::RealmNotFound)
}

/// `GET /realms/{realm}`, in the order of Keycloak's `PublicRealmRepresentation`.
#[derive(serde::Serialize)]
struct PublicRealm<'a> {
    realm: &'a str,
    public_key: &'a str,
    #[serde(rename = "token-service")]
    token_service: String,
    #[serde(rename = "account-service")]
    account_service: String,
    #[serde(rename = "tokens-not-before")]
    tokens_not_before: i64,
}

/// The realm's public information, as Keycloak publishes it.
pub async fn realm(
    state: web::Data<AppState>,
    path: web::Path<String>,
    base: Base,
) -> Result<HttpResponse, OidcError> {
    let realm = enabled_realm(&state, &path).await?;
    let keys = state.keyring.get(&state.db, &realm.id).await?;
    let issuer = base.issuer(realm.name.as_str());
    Ok(HttpResponse::Ok().json(PublicRealm {
        realm: realm.name.as_str(),
        public_key: &keys.active()?.public_key_b64,
        token_service: format!("{issuer}/protocol/openid-connect"),
        account_service: format!("{issuer}/account"),
        tokens_not_before: 0,
    }))
}

/// The realm's JSON Web Key Set.
pub async fn certs(
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, OidcError> {
    let realm = enabled_realm(&state, &path).await?;
    let keys = state.keyring.get(&state.db, &realm.id).await?;
    let jwks: Vec<_> = keys.keys.iter().map(|k| &k.jwk).collect();
    Ok(HttpResponse::Ok().json(json!({ "keys": jwks })))
}
