//! Logout: `POST` with a refresh token ends its session (204); RP-initiated logout (`GET` or
//! `POST` with `id_token_hint`) ends the session it names and returns to
//! `post_logout_redirect_uri` when the client registered it; the browser's single sign-on
//! session ends with it.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};

use super::claims::IdClaims;
use super::client_auth::authenticate_client;
use super::form::{parse_form, Form};
use super::realm_info::enabled_realm;
use super::{redirects, OidcError};
use crate::crypto::{self, jwt};
use crate::domain::Realm;
use crate::http::Base;
use crate::state::AppState;
use crate::store;

pub async fn get(
    state: web::Data<AppState>,
    realm: web::Path<String>,
    req: HttpRequest,
    base: Base,
) -> Result<HttpResponse, OidcError> {
    let realm = enabled_realm(&state, &realm).await?;
    let query = parse_form(req.query_string().as_bytes());
    let mut response = rp_initiated(&state, &realm, &base, &query).await?;
    super::authorize::end_browser_session(&req, &state, &realm, &base, &mut response).await?;
    Ok(response)
}

pub async fn post(
    state: web::Data<AppState>,
    realm: web::Path<String>,
    req: HttpRequest,
    base: Base,
    body: web::Bytes,
) -> Result<HttpResponse, OidcError> {
    let realm = enabled_realm(&state, &realm).await?;
    let form = parse_form(&body);
    let Some(refresh_token) = form.get("refresh_token").filter(|t| !t.is_empty()) else {
        let mut response = rp_initiated(&state, &realm, &base, &form).await?;
        super::authorize::end_browser_session(&req, &state, &realm, &base, &mut response).await?;
        return Ok(response);
    };
    let client = authenticate_client(&state, &realm, &req, &form).await?;
    let now = state.clock.now_secs();
    let stored = store::tokens::find_live(
        state.db.read(),
        &realm.id,
        &crypto::token_digest(refresh_token),
        now,
    )
    .await?
    .filter(|t| t.client_id == client.id)
    .ok_or(OidcError::InvalidGrant("Invalid refresh token"))?;
    match stored.session_id.as_deref() {
        Some(session) => store::sessions::delete(state.db.write(), &realm.id, session).await?,
        None => {
            store::tokens::revoke_by_hash(
                state.db.write(),
                &realm.id,
                &crypto::token_digest(refresh_token),
            )
            .await?
        }
    };
    Ok(HttpResponse::NoContent().finish())
}

async fn rp_initiated(
    state: &AppState,
    realm: &Realm,
    base: &Base,
    params: &Form,
) -> Result<HttpResponse, OidcError> {
    let keys = state.keyring.get(&state.db, &realm.id).await?;
    let hint = params
        .get("id_token_hint")
        .filter(|t| !t.is_empty())
        .map(|t| jwt::verify_signature::<IdClaims>(t, &keys.keys))
        .transpose()
        .map_err(|_| OidcError::InvalidRequest("Invalid id_token_hint".into()))?;
    let redirect = match params
        .get("post_logout_redirect_uri")
        .filter(|u| !u.is_empty())
    {
        Some(uri) => Some(logout_redirect(state, realm, base, params, hint.as_ref(), uri).await?),
        None => None,
    };
    if let Some(session) = hint.as_ref().and_then(|h| h.sid.as_deref()) {
        store::sessions::delete(state.db.write(), &realm.id, session).await?;
    }
    Ok(match redirect {
        Some(location) => HttpResponse::Found()
            .insert_header((header::LOCATION, location.as_str()))
            .finish(),
        None => HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body("You are signed out."),
    })
}

/// Where a logout returns to: `redirect`, if the client registered it, with `state` added.
async fn logout_redirect(
    state: &AppState,
    realm: &Realm,
    base: &Base,
    params: &Form,
    hint: Option<&IdClaims>,
    redirect: &str,
) -> Result<url::Url, OidcError> {
    let client_id = params
        .get("client_id")
        .cloned()
        .or_else(|| hint.map(|h| h.azp.clone()));
    let client = match client_id {
        Some(id) => store::clients::find_by_client_id(state.db.read(), &realm.id, &id).await?,
        None => None,
    };
    let client = client.ok_or_else(|| {
        OidcError::InvalidRequest("Missing parameters: id_token_hint or client_id".into())
    })?;
    if !redirects::allowed_after_logout(&client, redirect, base.as_str()) {
        return Err(OidcError::InvalidRequest("Invalid redirect uri".into()));
    }
    let mut location = url::Url::parse(redirect)
        .map_err(|_| OidcError::InvalidRequest("Invalid redirect uri".into()))?;
    if let Some(state_param) = params.get("state") {
        location.query_pairs_mut().append_pair("state", state_param);
    }
    Ok(location)
}
