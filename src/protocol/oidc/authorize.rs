//! The authorization endpoint of the code flow: a server-rendered sign-in page (CSRF-protected
//! with a double-submit cookie), then a single-use code sent back to the client's
//! registered redirect URI. PKCE (`plain`, `S256`) is honoured.

use std::collections::BTreeMap;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use askama::Template;
use secrecy::SecretString;

use super::form::{parse_form, Form};
use super::realm_info::enabled_realm;
use super::{redirects, OidcError};
use crate::clock;
use crate::crypto;
use crate::domain::{Client, Protocol, Realm};
use crate::http::cookies::{self, CookieScope};
use crate::http::Base;
use crate::protocol::login;
use crate::state::AppState;
use crate::store;
use crate::store::auth_codes::AuthCode;

/// How long a code may wait to be exchanged.
const CODE_LIFETIME_SECS: i64 = 60;
const CSRF_COOKIE: &str = "KEYWARDEN_LOGIN_CSRF";
/// The single sign-on cookie: a browser that signed in once gets codes without the form.
const IDENTITY_COOKIE: &str = "KEYWARDEN_IDENTITY";

/// The authorization request parameters carried through the sign-in form.
const REQUEST_PARAMS: [&str; 8] = [
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
];

#[derive(Template)]
#[template(path = "oidc/login.html")]
struct LoginPage<'a> {
    realm_title: &'a str,
    action: String,
    csrf: &'a str,
    request: Vec<(&'static str, String)>,
    username: &'a str,
    error: Option<&'a str>,
    /// Set when the user must replace a temporary password: the signed action token.
    update_password: Option<&'a str>,
}

/// The claims of the action token that carries a verified temporary-password sign-in to the
/// update-password form. `fp` pins the password it was issued for, so the token dies with it.
#[derive(serde::Serialize, serde::Deserialize)]
struct ActionClaims {
    sub: String,
    typ: String,
    exp: i64,
    fp: String,
}

const UPDATE_PASSWORD_ACTION: &str = "update-password";
/// How long the update-password form stays valid.
const ACTION_LIFETIME_SECS: i64 = 300;

/// A validated authorization request.
struct AuthRequest {
    client: Client,
    /// The redirect URI as the request named it (the code must be redeemed with it), or the
    /// client's default when it named none.
    redirect_uri: String,
    /// Where the browser goes back to: `redirect_uri`, parsed.
    target: url::Url,
    params: Form,
}

/// Checks the client and redirect URI; errors here are shown, never redirected.
async fn validate(
    state: &AppState,
    realm: &Realm,
    base: &Base,
    params: &Form,
) -> Result<AuthRequest, OidcError> {
    let client_id = params
        .get("client_id")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| OidcError::InvalidRequest("Missing parameter: client_id".into()))?;
    let client = store::clients::find_by_client_id(state.db.read(), &realm.id, client_id)
        .await?
        .filter(|c| c.enabled && c.protocol == Protocol::OpenIdConnect)
        .ok_or(OidcError::InvalidClient("Client not found"))?;
    if !client.standard_flow_enabled {
        return Err(OidcError::UnauthorizedClient(
            "Client is not allowed to initiate browser login",
        ));
    }
    let invalid = || OidcError::InvalidRequest("Invalid parameter: redirect_uri".into());
    let (redirect_uri, target) = match params.get("redirect_uri").filter(|u| !u.is_empty()) {
        Some(uri) if redirects::allowed(&client, uri, base.as_str()) => {
            (uri.clone(), url::Url::parse(uri).map_err(|_| invalid())?)
        }
        Some(_) => return Err(invalid()),
        None => {
            let target = redirects::default_for(&client, base.as_str()).ok_or_else(|| {
                OidcError::InvalidRequest("Missing parameter: redirect_uri".into())
            })?;
            (target.to_string(), target)
        }
    };
    Ok(AuthRequest {
        client,
        redirect_uri,
        target,
        params: params.clone(),
    })
}

/// An OAuth error sent back to the client's redirect URI.
fn redirect_error(request: &AuthRequest, error: &str, description: &str) -> HttpResponse {
    let mut location = request.target.clone();
    {
        let mut query = location.query_pairs_mut();
        query
            .append_pair("error", error)
            .append_pair("error_description", description);
        if let Some(state) = request.params.get("state") {
            query.append_pair("state", state);
        }
    }
    HttpResponse::Found()
        .insert_header((header::LOCATION, location.as_str()))
        .finish()
}

/// Checks what only the client could get wrong after the redirect URI is known.
fn protocol_error(request: &AuthRequest) -> Option<HttpResponse> {
    if request.params.get("response_type").map(String::as_str) != Some("code") {
        return Some(redirect_error(
            request,
            "unsupported_response_type",
            "Only the code flow is supported",
        ));
    }
    let param = |name: &str| {
        request
            .params
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    };
    if let Err(refused) = super::scope::check(param("scope")) {
        return Some(redirect_error(
            request,
            "invalid_scope",
            &refused.to_string(),
        ));
    }
    let method = param("code_challenge_method");
    if !matches!(method, None | Some("plain") | Some("S256")) {
        return Some(redirect_error(
            request,
            "invalid_request",
            "Invalid parameter: code_challenge_method",
        ));
    }
    // A client may demand PKCE with a given method, as Keycloak's `pkce.code.challenge.method`.
    let required = request
        .client
        .attributes
        .get("pkce.code.challenge.method")
        .filter(|m| !m.is_empty());
    if let Some(required) = required {
        if param("code_challenge").is_none() {
            return Some(redirect_error(
                request,
                "invalid_request",
                "Missing parameter: code_challenge_method",
            ));
        }
        if method.unwrap_or("plain") != required {
            return Some(redirect_error(
                request,
                "invalid_request",
                "Invalid parameter: code_challenge_method",
            ));
        }
    }
    None
}

/// What the page shows besides the request: the username typed, an error, and the
/// update-password step's action token.
#[derive(Default)]
struct PageState<'a> {
    username: &'a str,
    error: Option<&'a str>,
    update_password: Option<&'a str>,
}

fn render(
    realm: &Realm,
    base: &Base,
    csrf: &str,
    request: &AuthRequest,
    page_state: PageState<'_>,
) -> HttpResponse {
    let page = LoginPage {
        realm_title: realm.display_name.as_deref().unwrap_or(realm.name.as_str()),
        action: base.join(&format!(
            "/realms/{}/protocol/openid-connect/auth",
            realm.name
        )),
        csrf,
        request: REQUEST_PARAMS
            .iter()
            .filter_map(|name| request.params.get(*name).map(|v| (*name, v.clone())))
            .collect(),
        username: page_state.username,
        error: page_state.error,
        update_password: page_state.update_password,
    };
    match page.render() {
        Ok(html) => {
            let mut response = HttpResponse::Ok()
                .content_type("text/html; charset=utf-8")
                .insert_header((header::CACHE_CONTROL, "no-store"))
                // Keycloak's framing rules and policy, then ours: no script, no base, inline style only.
                .insert_header((
                    header::CONTENT_SECURITY_POLICY,
                    "frame-src 'self'; frame-ancestors 'self'; object-src 'none'; \
                 default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'",
                ))
                .body(html);
            cookies::set(
                &mut response,
                &cookies::build(CSRF_COOKIE, csrf.to_owned(), &realm_scope(base, realm)),
            );
            response
        }
        Err(err) => actix_web::ResponseError::error_response(&OidcError::Internal(err.into())),
    }
}

/// The sign-in cookies apply to the realm's own URLs only.
fn realm_scope(base: &Base, realm: &Realm) -> CookieScope {
    CookieScope::under(base, &format!("/realms/{}/", realm.name))
}

/// Ends the session the browser's identity cookie names, and makes the browser forget it.
pub(super) async fn end_browser_session(
    req: &HttpRequest,
    state: &AppState,
    realm: &Realm,
    base: &Base,
    response: &mut HttpResponse,
) -> Result<(), OidcError> {
    if let Some(token) = cookies::get(req, IDENTITY_COOKIE) {
        if let Some(session) =
            store::sso::session(state.db.read(), &realm.id, &crypto::token_digest(&token)).await?
        {
            store::sessions::delete(state.db.write(), &realm.id, &session.id).await?;
        }
        cookies::set(
            response,
            &cookies::removal(IDENTITY_COOKIE, &realm_scope(base, realm)),
        );
    }
    Ok(())
}

/// The live session a browser's identity cookie names, with its enabled, ready user.
pub(super) async fn sso_session(
    req: &HttpRequest,
    state: &AppState,
    realm: &Realm,
) -> Result<Option<(String, crate::domain::User)>, OidcError> {
    let Some(token) = cookies::get(req, IDENTITY_COOKIE) else {
        return Ok(None);
    };
    let now = state.clock.now_secs();
    let session = store::sso::session(state.db.read(), &realm.id, &crypto::token_digest(&token))
        .await?
        .filter(|s| super::token::session_alive(realm, s.started_at, s.last_access_at, now));
    let Some(session) = session else {
        return Ok(None);
    };
    let user = store::users::find_by_id(state.db.read(), &realm.id, &session.user_id)
        .await?
        .filter(|u| u.enabled && u.required_actions.is_empty());
    Ok(user.map(|user| (session.id, user)))
}

/// `GET .../auth`: shows the sign-in page.
pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    realm: web::Path<String>,
    base: Base,
) -> Result<HttpResponse, OidcError> {
    let realm = enabled_realm(&state, &realm).await?;
    let query = parse_form(req.query_string().as_bytes());
    let request = validate(&state, &realm, &base, &query).await?;
    if let Some(error) = protocol_error(&request) {
        return Ok(error);
    }
    let forced = request
        .params
        .get("prompt")
        .is_some_and(|p| p.split(' ').any(|x| x == "login"));
    if !forced {
        if let Some((session, user)) = sso_session(&req, &state, &realm).await? {
            store::sessions::touch(state.db.write(), &session, state.clock.now_secs()).await?;
            let details = BTreeMap::from([
                ("auth_method", "openid-connect".to_owned()),
                ("response_type", "code".to_owned()),
                ("username", user.username.to_string()),
                ("sso", "true".to_owned()),
            ]);
            let caller = login::Caller::of(&req, &state);
            let params = request.params.clone();
            let signed_in = SignedIn {
                user: &user,
                session: Some(session),
                caller: &caller,
            };
            return finish_login(&state, &realm, &base, &request, &params, signed_in, details)
                .await;
        }
    }
    Ok(render(
        &realm,
        &base,
        &crypto::random_token(),
        &request,
        PageState::default(),
    ))
}

/// `POST .../auth`: checks the credentials and redirects with a code.
pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    realm: web::Path<String>,
    base: Base,
    body: web::Bytes,
) -> Result<HttpResponse, OidcError> {
    let realm = enabled_realm(&state, &realm).await?;
    let form = parse_form(&body);
    let request = validate(&state, &realm, &base, &form).await?;
    if let Some(error) = protocol_error(&request) {
        return Ok(error);
    }
    let cookie = cookies::get(&req, CSRF_COOKIE).unwrap_or_default();
    let sent = form.get("csrf").map(String::as_str).unwrap_or_default();
    if cookie.is_empty() || !crypto::constant_time_eq(cookie.as_bytes(), sent.as_bytes()) {
        let fresh = crypto::random_token();
        let page_state = PageState {
            error: Some("Your sign-in page expired. Please try again."),
            ..PageState::default()
        };
        return Ok(render(&realm, &base, &fresh, &request, page_state));
    }
    let caller = login::Caller::of(&req, &state);
    let ip = caller.ip.clone();
    if let Some(token) = form.get("action_token") {
        return update_password(
            &state, &realm, &base, &cookie, &request, &form, token, caller,
        )
        .await;
    }
    let username = form.get("username").map(String::as_str).unwrap_or_default();
    let password = SecretString::from(form.get("password").cloned().unwrap_or_default());
    let details = BTreeMap::from([
        ("auth_method", "openid-connect".to_owned()),
        ("response_type", "code".to_owned()),
        ("username", username.to_owned()),
        ("redirect_uri", request.redirect_uri.clone()),
    ]);
    let client_id = request.client.client_id.to_string();
    let user =
        match login::verify_password(&state, &realm, username, password, ip.as_deref()).await? {
            Ok(user) => user,
            Err((failure, user)) => {
                let mut event = login::event(
                    &realm,
                    "LOGIN_ERROR",
                    user.as_ref(),
                    Some(&client_id),
                    ip.as_deref(),
                    details,
                );
                event.error = Some(failure.code().to_owned());
                login::record(&state, &realm, event).await;
                if let (login::LoginFailure::ActionRequired, Some(user)) = (failure, &user) {
                    if user.required_actions == [crate::admin::ops::users::UPDATE_PASSWORD] {
                        let token = action_token(&state, &realm, user).await?;
                        let page_state = PageState {
                            username,
                            update_password: Some(&token),
                            ..PageState::default()
                        };
                        return Ok(render(&realm, &base, &cookie, &request, page_state));
                    }
                }
                let page_state = PageState {
                    username,
                    error: Some("Invalid username or password."),
                    ..PageState::default()
                };
                return Ok(render(&realm, &base, &cookie, &request, page_state));
            }
        };
    let signed_in = SignedIn {
        user: &user,
        session: None,
        caller: &caller,
    };
    finish_login(&state, &realm, &base, &request, &form, signed_in, details).await
}

/// Who finishes signing in: the user, the session a browser already has (single sign-on),
/// and the caller's address and user agent.
struct SignedIn<'a> {
    user: &'a crate::domain::User,
    session: Option<String>,
    caller: &'a login::Caller,
}

/// Signs `who` in for `request`: a session (new unless single sign-on found one), the
/// identity cookie, and a single-use code sent back to the client.
async fn finish_login(
    state: &AppState,
    realm: &Realm,
    base: &Base,
    request: &AuthRequest,
    form: &Form,
    who: SignedIn<'_>,
    details: BTreeMap<&'static str, String>,
) -> Result<HttpResponse, OidcError> {
    let SignedIn {
        user,
        session,
        caller,
    } = who;
    let ip = caller.ip.as_deref();
    let client_id = request.client.client_id.to_string();
    let scope = realm_scope(base, realm);
    let mut identity = None;
    let sso = session.is_some();
    let session = match session {
        Some(session) => session,
        None => {
            let session = store::sessions::insert(
                state.db.write(),
                &realm.id,
                &user.id,
                &client_id,
                caller.origin(),
            )
            .await?;
            let token = crypto::random_token();
            store::sso::insert(state.db.write(), &crypto::token_digest(&token), &session).await?;
            identity = Some(cookies::build(IDENTITY_COOKIE, token, &scope));
            session
        }
    };
    let code = crypto::random_token();
    let param = |name: &str| form.get(name).filter(|v| !v.is_empty()).cloned();
    let challenge = param("code_challenge");
    store::auth_codes::insert(
        state.db.write(),
        &crypto::token_digest(&code),
        &AuthCode {
            realm_id: realm.id.clone(),
            client_id: request.client.id.clone(),
            user_id: user.id.clone(),
            session_id: session.clone(),
            redirect_uri: request.redirect_uri.clone(),
            scope: param("scope"),
            nonce: param("nonce"),
            code_challenge_method: challenge
                .as_ref()
                .map(|_| param("code_challenge_method").unwrap_or_else(|| "plain".into())),
            code_challenge: challenge,
            expires_at: clock::expiry(state.clock.now_secs(), CODE_LIFETIME_SECS),
            sso,
        },
    )
    .await?;
    login::record(
        state,
        realm,
        login::event(realm, "LOGIN", Some(user), Some(&client_id), ip, details),
    )
    .await;
    let mut location = request.target.clone();
    {
        let mut query = location.query_pairs_mut();
        if let Some(state_param) = form.get("state") {
            query.append_pair("state", state_param);
        }
        query
            .append_pair("session_state", &session)
            .append_pair("iss", &base.issuer(realm.name.as_str()))
            .append_pair("code", &code);
    }
    let mut response = HttpResponse::Found()
        .insert_header((header::LOCATION, location.as_str()))
        .finish();
    cookies::set(&mut response, &cookies::removal(CSRF_COOKIE, &scope));
    if let Some(identity) = &identity {
        cookies::set(&mut response, identity);
    }
    Ok(response)
}

/// The fingerprint of the user's current password hash that an action token is bound to.
async fn password_fingerprint(
    state: &AppState,
    user: &crate::domain::User,
) -> Result<String, OidcError> {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let phc = store::users::password_hash(state.db.read(), &user.id)
        .await?
        .unwrap_or_default();
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(&Sha256::digest(phc.as_bytes())[..16]))
}

/// A short-lived token, signed with the realm key, proving the temporary password was right.
async fn action_token(
    state: &AppState,
    realm: &Realm,
    user: &crate::domain::User,
) -> Result<String, OidcError> {
    let keys = state.keyring.get(&state.db, &realm.id).await?;
    let key = keys.active()?;
    let claims = ActionClaims {
        sub: user.id.to_string(),
        typ: UPDATE_PASSWORD_ACTION.into(),
        exp: clock::expiry(state.clock.now_secs(), ACTION_LIFETIME_SECS),
        fp: password_fingerprint(state, user).await?,
    };
    Ok(crypto::jwt::sign(
        &claims,
        key,
        crypto::jwt::HeaderKind::Plain,
    )?)
}

/// The update-password step: checks the action token and the new password, stores it as a
/// permanent password (which clears `UPDATE_PASSWORD`), then finishes the sign-in.
#[allow(clippy::too_many_arguments)]
async fn update_password(
    state: &AppState,
    realm: &Realm,
    base: &Base,
    csrf: &str,
    request: &AuthRequest,
    form: &Form,
    token: &str,
    caller: login::Caller,
) -> Result<HttpResponse, OidcError> {
    let expired = || {
        let page_state = PageState {
            error: Some("Your sign-in page expired. Please sign in again."),
            ..PageState::default()
        };
        render(realm, base, csrf, request, page_state)
    };
    let keys = state.keyring.get(&state.db, &realm.id).await?;
    let Ok(claims) = crypto::jwt::verify::<ActionClaims>(token, &keys.keys) else {
        return Ok(expired());
    };
    let user_id = crate::domain::UserId::parse(&claims.sub);
    let user = match user_id {
        Some(id) if claims.typ == UPDATE_PASSWORD_ACTION => {
            store::users::find_by_id(state.db.read(), &realm.id, &id).await?
        }
        _ => None,
    };
    let Some(user) = user.filter(|u| u.enabled) else {
        return Ok(expired());
    };
    if password_fingerprint(state, &user).await? != claims.fp {
        return Ok(expired());
    }
    let new = form.get("password-new").cloned().unwrap_or_default();
    let problem = if new.is_empty() {
        Some("Please specify a password.")
    } else if form.get("password-confirm") != Some(&new) {
        Some("Passwords don't match.")
    } else {
        None
    };
    if let Some(problem) = problem {
        let page_state = PageState {
            username: user.username.as_str(),
            error: Some(problem),
            update_password: Some(token),
        };
        return Ok(render(realm, base, csrf, request, page_state));
    }
    let phc = state
        .passwords
        .hash(SecretString::from(new))
        .await
        .map_err(anyhow::Error::from)?;
    let mut tx = state.db.begin().await.map_err(anyhow::Error::from)?;
    crate::admin::ops::users::set_password_hash(&mut tx, &user, &phc, false)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    tx.commit().await.map_err(anyhow::Error::from)?;
    let mut user = user;
    crate::admin::ops::users::require_password_update(&mut user, false);
    let details = BTreeMap::from([
        ("auth_method", "openid-connect".to_owned()),
        ("response_type", "code".to_owned()),
        ("username", user.username.to_string()),
        ("required_action", "UPDATE_PASSWORD".to_owned()),
    ]);
    let signed_in = SignedIn {
        user: &user,
        session: None,
        caller: &caller,
    };
    finish_login(state, realm, base, request, form, signed_in, details).await
}
