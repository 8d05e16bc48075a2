//! Token revocation (RFC 7009) as Keycloak 26 answers it.
//!
//! A refresh token takes its client out of the session (the client's refresh and access
//! tokens there stop working; the session ends with its last client). An access token is
//! revoked alone; its session and refresh token live on. A token of another client is
//! refused (400 "Unmatching clients"); a token that is not one of the realm's, or whose
//! session is gone, answers 200 with Keycloak's `invalid_token` body.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::client_auth::authenticate_client;
use super::form::{parse_form, reject_duplicates};
use super::introspect::live_realm;
use super::OidcError;
use crate::crypto::jwt;
use crate::domain::{Client, Realm, UserId};
use crate::state::AppState;
use crate::store;

/// What a token signed by the realm says of itself, expired or not.
#[derive(serde::Deserialize)]
struct Revocable {
    #[serde(default)]
    jti: String,
    #[serde(default)]
    exp: i64,
    #[serde(default)]
    iat: i64,
    #[serde(default)]
    sub: String,
    #[serde(default)]
    typ: String,
    azp: Option<String>,
    sid: Option<String>,
}

/// `POST .../revoke`.
pub async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    realm: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, OidcError> {
    let realm = live_realm(&state, &realm).await?;
    let form = parse_form(&body);
    let client = authenticate_client(&state, &realm, &req, &form).await?;
    reject_duplicates(&body)?;
    let token = form
        .get("token")
        .ok_or_else(|| OidcError::InvalidRequest("Token not provided".into()))?;
    let keys = state.keyring.get(&state.db, &realm.id).await?;
    let Ok(claims) = jwt::verify_signature::<Revocable>(token, &keys.keys) else {
        return Ok(invalid_token());
    };
    let refresh = matches!(claims.typ.as_str(), "Refresh" | "Offline");
    if !refresh && !matches!(claims.typ.as_str(), "Bearer" | "DPoP") {
        return Err(OidcError::UnsupportedTokenType);
    }
    let Some(azp) = claims.azp.as_deref() else {
        return Ok(invalid_token());
    };
    if azp != client.client_id.as_str() {
        return Err(OidcError::UnmatchingClients);
    }
    let Some(session) = live_session(&state, &realm, &client, &claims).await? else {
        return Ok(invalid_token());
    };
    let now = state.clock.now_secs();
    if refresh {
        let others =
            store::revocations::detach_client(state.db.write(), &session, &client.id, now).await?;
        if !others {
            store::sessions::delete(state.db.write(), &realm.id, &session).await?;
        }
    } else {
        store::revocations::revoke_access(
            state.db.write(),
            &realm.id,
            &claims.jti,
            claims.exp,
            now,
        )
        .await?;
    }
    Ok(HttpResponse::Ok().finish())
}

/// The token's session, if it is still there with the token's user enabled and the client
/// still in it.
async fn live_session(
    state: &AppState,
    realm: &Realm,
    client: &Client,
    claims: &Revocable,
) -> Result<Option<String>, OidcError> {
    let session_id = claims
        .sid
        .as_deref()
        .or_else(|| claims.jti.strip_prefix(super::claims::SERVICE_ACCOUNT_JTI));
    let Some(session_id) = session_id else {
        return Ok(None);
    };
    let Some(session) = store::sessions::find(state.db.read(), &realm.id, session_id).await? else {
        return Ok(None);
    };
    let owner = UserId::parse(&claims.sub).filter(|id| *id == session.user_id);
    let Some(owner) = owner else {
        return Ok(None);
    };
    let enabled = store::users::find_by_id(state.db.read(), &realm.id, &owner)
        .await?
        .is_some_and(|u| u.enabled);
    let detached = store::revocations::client_detached(
        state.db.read(),
        &realm.id,
        session_id,
        client.client_id.as_str(),
        claims.iat,
    )
    .await?;
    Ok((enabled && !detached).then_some(session.id))
}

/// Keycloak's answer to a token it cannot revoke: 200 with an `invalid_token` body.
fn invalid_token() -> HttpResponse {
    HttpResponse::Ok().json(json!({"error": "invalid_token", "error_description": "Invalid token"}))
}
