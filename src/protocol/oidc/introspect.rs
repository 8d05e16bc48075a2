//! Token introspection (RFC 7662) and revocation (RFC 7009), for authenticated clients.
//!
//! A client learns about a token only if the token concerns it, as Keycloak decides: an
//! access token issued to it (`azp`) or addressed to it (`aud`), a refresh token issued to it.
//! Any other token is `{"active": false}` to it, and revoking it is refused.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::claims::AccessClaims;
use super::client_auth::authenticate_client;
use super::form::{parse_form, reject_duplicates};
use super::realm_info::enabled_realm;
use super::{bearer, OidcError};
use crate::crypto::{self, jwt};
use crate::domain::{Client, Realm};
use crate::state::AppState;
use crate::store;

/// `POST .../token/introspect`: `{"active": false}` for anything not live or not the caller's.
pub async fn introspect(
    req: HttpRequest,
    state: web::Data<AppState>,
    realm: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, OidcError> {
    let realm = enabled_realm(&state, &realm).await?;
    let form = parse_form(&body);
    let client = authenticate_client(&state, &realm, &req, &form).await?;
    if client.public_client {
        return Err(OidcError::ClientNotAllowed("Client not allowed."));
    }
    reject_duplicates(&body)?;
    let token = form
        .get("token")
        .ok_or_else(|| OidcError::InvalidRequest("Token not provided.".into()))?;
    let inactive = || HttpResponse::Ok().json(json!({"active": false}));
    if let Some((claims, _)) = bearer::verify_access(&state, &realm, token).await? {
        if !concerns(&claims, &client) {
            return Ok(inactive());
        }
        let mut body = serde_json::to_value(&claims).map_err(anyhow::Error::from)?;
        body["active"] = json!(true);
        body["client_id"] = json!(claims.azp);
        body["username"] = json!(claims.profile.preferred_username);
        body["token_type"] = json!("Bearer");
        return Ok(HttpResponse::Ok().json(body));
    }
    let now = state.clock.now_secs();
    let refresh = store::tokens::find_live(
        state.db.read(),
        &realm.id,
        &crypto::token_digest(token),
        now,
    )
    .await?
    .filter(|stored| stored.client_id == client.id);
    Ok(match refresh {
        Some(stored) => HttpResponse::Ok().json(json!({
            "active": true,
            "token_type": "Refresh",
            "typ": "Refresh",
            "client_id": client.client_id.as_str(),
            "sub": stored.user_id,
            "exp": stored.expires_at,
            "iat": stored.created_at,
        })),
        None => inactive(),
    })
}

/// Whether an access token was issued to `client` or is addressed to it.
fn concerns(claims: &AccessClaims, client: &Client) -> bool {
    let client_id = client.client_id.as_str();
    claims.azp == client_id || claims.aud.contains(client_id)
}

/// What a signed token says of itself, whatever its expiry: its type and its client.
#[derive(serde::Deserialize)]
struct Party {
    typ: Option<String>,
    azp: Option<String>,
}

/// The token types revocation accepts (Keycloak's: no ID tokens).
const REVOCABLE_TYPES: [&str; 3] = ["Bearer", "Refresh", "Offline"];

/// `POST .../revoke`: revokes a token of the calling client. Answers 200 whether or not the
/// token existed, as RFC 7009 asks, but refuses, as Keycloak does, a token issued to another
/// client (401 `unauthorized_client` "Unmatching clients") and an ID token (400
/// `unsupported_token_type`).
pub async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    realm: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, OidcError> {
    let realm = enabled_realm(&state, &realm).await?;
    let form = parse_form(&body);
    let client = authenticate_client(&state, &realm, &req, &form).await?;
    reject_duplicates(&body)?;
    let token = form
        .get("token")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| OidcError::InvalidRequest("Token not provided".into()))?;
    if let Some(party) = party_of(&state, &realm, token).await? {
        if !party
            .typ
            .as_deref()
            .is_some_and(|typ| REVOCABLE_TYPES.contains(&typ))
        {
            return Err(OidcError::UnsupportedTokenType);
        }
        if party
            .azp
            .is_some_and(|azp| azp != client.client_id.as_str())
        {
            return Err(OidcError::UnmatchingClients);
        }
    }
    let digest = crypto::token_digest(token);
    let now = state.clock.now_secs();
    if let Some(stored) = store::tokens::find_live(state.db.read(), &realm.id, &digest, now).await?
    {
        if stored.client_id == client.id {
            match stored.session_id.as_deref() {
                Some(session) => {
                    store::sessions::delete(state.db.write(), &realm.id, session).await?
                }
                None => store::tokens::revoke_by_hash(state.db.write(), &realm.id, &digest).await?,
            };
        }
    } else if let Some((claims, _)) = bearer::verify_access(&state, &realm, token).await? {
        if claims.azp == client.client_id.as_str() {
            if let Some(session) = super::claims::session_of(&claims) {
                store::sessions::delete(state.db.write(), &realm.id, session).await?;
            }
        }
    }
    Ok(HttpResponse::Ok().finish())
}

/// What a token signed by one of the realm's keys says of itself, expired or not; `None`
/// for anything else (a docker identity token, garbage).
async fn party_of(
    state: &AppState,
    realm: &Realm,
    token: &str,
) -> Result<Option<Party>, OidcError> {
    let keys = state.keyring.get(&state.db, &realm.id).await?;
    Ok(jwt::verify_signature::<Party>(token, &keys.keys).ok())
}
