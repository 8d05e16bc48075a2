//! Logout as Keycloak 26.7 answers it.
//!
//! A `POST` carrying `refresh_token` is the back-channel logout: the client authenticates,
//! the token's session ends (204, again on a replay). Anything else is RP-initiated logout
//! (`GET` query or `POST` body; the first of a repeated parameter counts): after the
//! checks, Keycloak's order of 400 pages ("Invalid parameter: id_token_hint", "Missing
//! parameters: id_token_hint", "Invalid redirect uri"), it ends the session at once when an
//! `id_token_hint` (or a client with a registered target and no browser session) vouches
//! for the request, and otherwise asks the browser to confirm. A rejected logout ends
//! nothing.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;

use super::client_auth::authenticate_named_client;
use super::form::{parse_form, Form};
use super::realm_info::enabled_realm;
use super::{redirects, OidcError};
use crate::crypto::jwt;
use crate::domain::{Client, Realm};
use crate::http::Base;
use crate::state::AppState;
use crate::store;

/// How long a confirmation page may be answered.
const CONFIRM_LIFETIME_SECS: i64 = 1800;
const CONFIRM_TYPE: &str = "logout-confirm";

#[derive(Template)]
#[template(path = "oidc/logout.html")]
struct LogoutPage<'a> {
    title: &'a str,
    error: Option<&'a str>,
    confirm_code: Option<&'a str>,
    confirm_action: &'a str,
}

/// `GET .../logout`.
pub async fn get(
    state: web::Data<AppState>,
    realm: web::Path<String>,
    req: HttpRequest,
    base: Base,
) -> Result<HttpResponse, OidcError> {
    let realm = enabled_realm(&state, &realm).await?;
    let params = first_values(req.query_string().as_bytes());
    rp_initiated(&req, &state, &realm, &base, &params).await
}

/// `POST .../logout`: back-channel with a `refresh_token`, RP-initiated without.
pub async fn post(
    state: web::Data<AppState>,
    realm: web::Path<String>,
    req: HttpRequest,
    base: Base,
    body: web::Bytes,
) -> Result<HttpResponse, OidcError> {
    let realm = enabled_realm(&state, &realm).await?;
    let params = first_values(&body);
    match params.get("refresh_token") {
        Some(token) => backchannel(&req, &state, &realm, &parse_form(&body), token).await,
        None => rp_initiated(&req, &state, &realm, &base, &params).await,
    }
}

/// The parameters of a query or body, the first of a repeated one winning (Keycloak's
/// `getFirst`); empty values count as absent.
fn first_values(raw: &[u8]) -> Form {
    let mut form = Form::new();
    for (name, value) in url::form_urlencoded::parse(raw) {
        if name == "refresh_token" || !value.is_empty() {
            form.entry(name.into_owned()).or_insert(value.into_owned());
        }
    }
    form
}

/// What a refresh token presented at logout says of itself.
#[derive(serde::Deserialize)]
struct RefreshParty {
    typ: String,
    azp: Option<String>,
    sid: Option<String>,
}

async fn backchannel(
    req: &HttpRequest,
    state: &AppState,
    realm: &Realm,
    form: &Form,
    token: &str,
) -> Result<HttpResponse, OidcError> {
    const INVALID: &str = "Invalid refresh token";
    let client = authenticate_named_client(state, realm, req, form).await?;
    let keys = state.keyring.get(&state.db, &realm.id).await?;
    let party = jwt::verify_signature::<RefreshParty>(token, &keys.keys)
        .ok()
        .filter(|p| matches!(p.typ.as_str(), "Refresh" | "Offline"))
        .ok_or(OidcError::InvalidGrant(INVALID))?;
    if party.azp.as_deref() != Some(client.client_id.as_str()) {
        return Err(OidcError::InvalidGrant(
            "Invalid refresh token. Token client and authorized client don't match",
        ));
    }
    if let Some(session) = party.sid.as_deref() {
        store::sessions::delete(state.db.write(), &realm.id, session).await?;
    }
    Ok(HttpResponse::NoContent()
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .finish())
}

/// What an `id_token_hint` says of itself (expired hints are accepted, as in Keycloak).
#[derive(serde::Deserialize)]
struct Hint {
    typ: String,
    azp: Option<String>,
    sid: Option<String>,
}

/// What a confirmation page carries to the confirming `POST`, signed by the realm.
#[derive(serde::Serialize, serde::Deserialize)]
struct Pending {
    typ: String,
    exp: i64,
    /// The browser session the page was shown to: only that browser can confirm.
    browser: Option<String>,
    /// The session the `id_token_hint` named.
    hinted: Option<String>,
    redirect: Option<String>,
    state: Option<String>,
}

async fn rp_initiated(
    req: &HttpRequest,
    state: &AppState,
    realm: &Realm,
    base: &Base,
    params: &Form,
) -> Result<HttpResponse, OidcError> {
    if params.contains_key("redirect_uri") {
        return Ok(error_page("Invalid parameter: redirect_uri"));
    }
    let target = params.get("post_logout_redirect_uri");
    let hint_raw = params.get("id_token_hint");
    let client_id = params.get("client_id");
    if target.is_some() && hint_raw.is_none() && client_id.is_none() {
        return Ok(error_page("Missing parameters: id_token_hint"));
    }
    let named = match client_id {
        Some(id) => store::clients::find_by_client_id(state.db.read(), &realm.id, id).await?,
        None => None,
    };
    let mut forced = client_id.is_some() && named.is_none();
    let hint = match hint_raw {
        Some(raw) => match verify_hint(state, realm, raw).await? {
            Some(hint) => Some(hint),
            None => return Ok(error_page("Invalid parameter: id_token_hint")),
        },
        None => None,
    };
    let mut confirm = true;
    let client: Option<Client> = match (client_id, &hint) {
        (None, Some(hint)) => {
            let found = match hint.azp.as_deref() {
                Some(azp) => {
                    store::clients::find_by_client_id(state.db.read(), &realm.id, azp).await?
                }
                None => None,
            };
            confirm = found.is_none();
            found
        }
        (Some(id), Some(hint)) => {
            if hint.azp.as_deref().is_some_and(|azp| azp != id) {
                return Ok(error_page("Invalid parameter: id_token_hint"));
            }
            confirm = hint.azp.is_none();
            named
        }
        (_, None) => named,
    };
    let redirect = match target {
        Some(uri) => match &client {
            Some(c) if redirects::allowed_after_logout(c, uri, base.as_str()) => Some(uri.clone()),
            _ => return Ok(error_page("Invalid redirect uri")),
        },
        None => None,
    };
    let browser = super::authorize::sso_session(req, state, realm)
        .await?
        .map(|(id, _)| id);
    let hinted = hint.as_ref().and_then(|h| h.sid.clone());
    match &browser {
        Some(session) => forced |= hinted.as_ref().is_some_and(|h| h != session),
        None => {
            if hint.is_none() && client.is_some() && redirect.is_some() {
                confirm = false;
            }
        }
    }
    let pending = Pending {
        typ: CONFIRM_TYPE.into(),
        exp: crate::clock::expiry(state.clock.now_secs(), CONFIRM_LIFETIME_SECS),
        browser,
        hinted,
        redirect,
        state: params.get("state").cloned(),
    };
    if confirm || forced {
        return confirmation_page(state, realm, base, &pending).await;
    }
    finish(req, state, realm, base, &pending).await
}

/// A verified `id_token_hint` of this realm, or `None`.
async fn verify_hint(
    state: &AppState,
    realm: &Realm,
    raw: &str,
) -> Result<Option<Hint>, OidcError> {
    let keys = state.keyring.get(&state.db, &realm.id).await?;
    Ok(jwt::verify_signature::<Hint>(raw, &keys.keys)
        .ok()
        .filter(|hint| hint.typ == "ID"))
}

/// `POST .../logout/logout-confirm`: the browser confirmed the logout its page asked about.
pub async fn confirm(
    state: web::Data<AppState>,
    realm: web::Path<String>,
    req: HttpRequest,
    base: Base,
    body: web::Bytes,
) -> Result<HttpResponse, OidcError> {
    let realm = enabled_realm(&state, &realm).await?;
    let form = first_values(&body);
    let keys = state.keyring.get(&state.db, &realm.id).await?;
    let pending = form
        .get("session_code")
        .and_then(|code| jwt::verify::<Pending>(code, &keys.keys).ok())
        .filter(|p| p.typ == CONFIRM_TYPE && form.contains_key("confirmLogout"));
    let Some(pending) = pending else {
        return Ok(error_page("Logout failed"));
    };
    let browser = super::authorize::sso_session(&req, &state, &realm)
        .await?
        .map(|(id, _)| id);
    if pending.browser.is_some() && pending.browser != browser {
        return Ok(error_page("Logout failed"));
    }
    finish(&req, &state, &realm, &base, &pending).await
}

/// Ends the sessions a logout names and answers with its redirect or the logged-out page.
async fn finish(
    req: &HttpRequest,
    state: &AppState,
    realm: &Realm,
    base: &Base,
    pending: &Pending,
) -> Result<HttpResponse, OidcError> {
    if let Some(session) = &pending.hinted {
        store::sessions::delete(state.db.write(), &realm.id, session).await?;
    }
    let mut response = match pending.redirect.as_deref().map(url::Url::parse) {
        Some(Ok(mut location)) => {
            if let Some(value) = &pending.state {
                location.query_pairs_mut().append_pair("state", value);
            }
            HttpResponse::Found()
                .insert_header((header::LOCATION, location.as_str()))
                .insert_header((header::CACHE_CONTROL, "no-cache"))
                .finish()
        }
        _ => page(StatusCode::OK, "You are logged out", None, None, ""),
    };
    super::authorize::end_browser_session(req, state, realm, base, &mut response).await?;
    Ok(response)
}

async fn confirmation_page(
    state: &AppState,
    realm: &Realm,
    base: &Base,
    pending: &Pending,
) -> Result<HttpResponse, OidcError> {
    let keys = state.keyring.get(&state.db, &realm.id).await?;
    let code = jwt::sign(pending, keys.active()?, jwt::HeaderKind::Plain)?;
    let action = format!(
        "{}/protocol/openid-connect/logout/logout-confirm",
        base.issuer(realm.name.as_str())
    );
    Ok(page(
        StatusCode::OK,
        "Logging out",
        None,
        Some(&code),
        &action,
    ))
}

/// Keycloak's 400 page for a refused logout.
fn error_page(message: &str) -> HttpResponse {
    page(
        StatusCode::BAD_REQUEST,
        "We are sorry...",
        Some(message),
        None,
        "",
    )
}

fn page(
    status: StatusCode,
    title: &str,
    error: Option<&str>,
    confirm_code: Option<&str>,
    confirm_action: &str,
) -> HttpResponse {
    let html = LogoutPage {
        title,
        error,
        confirm_code,
        confirm_action,
    }
    .render()
    .unwrap_or_default();
    HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .content_type("text/html; charset=utf-8")
        .body(html)
}
