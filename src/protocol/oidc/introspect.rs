//! Token introspection (RFC 7662) and revocation (RFC 7009), for authenticated clients.

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;

use super::realm_info::enabled_realm;
use super::token::{authenticate_client, parse_form};
use super::{bearer, OidcError};
use crate::crypto;
use crate::state::AppState;
use crate::store;

/// `POST .../token/introspect`: `{"active": false}` for anything not live.
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
    let token = form.get("token").map(String::as_str).unwrap_or_default();
    if let Some((claims, _)) = bearer::verify_access(&state, &realm, token).await? {
        let mut body = serde_json::to_value(&claims).map_err(anyhow::Error::from)?;
        body["active"] = json!(true);
        body["client_id"] = json!(claims.azp);
        body["username"] = json!(claims.profile.preferred_username);
        body["token_type"] = json!("Bearer");
        return Ok(HttpResponse::Ok().json(body));
    }
    let now = crate::clock::now_secs();
    let refresh = store::tokens::find_live(
        state.db.read(),
        &realm.id,
        &crypto::token_digest(token),
        now,
    )
    .await?;
    Ok(HttpResponse::Ok().json(match refresh {
        Some(stored) => json!({
            "active": true,
            "token_type": "Refresh",
            "typ": "Refresh",
            "sub": stored.user_id,
            "exp": stored.expires_at,
            "iat": stored.created_at,
        }),
        None => json!({"active": false}),
    }))
}

/// `POST .../revoke`: revokes a refresh token of the calling client. Answers 200 whether or
/// not the token existed, as RFC 7009 asks.
pub async fn revoke(
    req: HttpRequest,
    state: web::Data<AppState>,
    realm: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, OidcError> {
    let realm = enabled_realm(&state, &realm).await?;
    let form = parse_form(&body);
    let client = authenticate_client(&state, &realm, &req, &form).await?;
    let token = form
        .get("token")
        .filter(|t| !t.is_empty())
        .ok_or_else(|| OidcError::InvalidRequest("Token not provided".into()))?;
    let digest = crypto::token_digest(token);
    let now = crate::clock::now_secs();
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
            if let Some(session) = claims.sid.as_deref() {
                store::sessions::delete(state.db.write(), &realm.id, session).await?;
            }
        }
    }
    Ok(HttpResponse::Ok().finish())
}
