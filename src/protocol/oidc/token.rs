//! The token endpoint: password, refresh_token, authorization_code and client_credentials
//! grants.

use std::collections::BTreeMap;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use secrecy::SecretString;
use serde_json::{json, Value};

use super::claims::{self, Grant, IdClaims, Profile};
use super::client_auth::authenticate_client;
use super::form::{field, parse_form, reject_duplicates, Form};
use super::realm_info::enabled_realm;
use super::OidcError;
use crate::clock;
use crate::crypto::{self, jwt};
use crate::domain::{Client, Realm, User};
use crate::http::Base;
use crate::protocol::login;
use crate::state::AppState;
use crate::store::tokens::{NewToken, TokenKind};
use crate::store::{self};

/// `POST /realms/{realm}/protocol/openid-connect/token`.
pub async fn token(
    req: HttpRequest,
    state: web::Data<AppState>,
    realm: web::Path<String>,
    base: Base,
    body: web::Bytes,
) -> Result<HttpResponse, OidcError> {
    let realm = enabled_realm(&state, &realm).await?;
    let form = parse_form(&body);
    let client = authenticate_client(&state, &realm, &req, &form).await?;
    reject_duplicates(&body)?;
    let ip = login::client_ip(&req, &state);
    let body = match field(&form, "grant_type") {
        Some("password") => {
            password_grant(&state, &realm, &base, &client, &form, ip.as_deref()).await?
        }
        Some("refresh_token") => refresh_grant(&state, &realm, &base, &client, &form).await?,
        Some("authorization_code") => code_grant(&state, &realm, &base, &client, &form).await?,
        Some("client_credentials") => {
            client_credentials_grant(&state, &realm, &base, &client, &form, ip.as_deref()).await?
        }
        Some(other) => {
            return Err(OidcError::UnsupportedGrantType(format!(
                "Unsupported grant_type: {other}"
            )))
        }
        None => {
            return Err(OidcError::InvalidRequest(
                "Missing form parameter: grant_type".into(),
            ))
        }
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
        .json(body))
}

async fn password_grant(
    state: &AppState,
    realm: &Realm,
    base: &Base,
    client: &Client,
    form: &Form,
    ip: Option<&str>,
) -> Result<Value, OidcError> {
    if !client.direct_access_grants_enabled {
        return Err(OidcError::UnauthorizedClient(
            "Client not allowed for direct access grants",
        ));
    }
    let username = field(form, "username").unwrap_or_default();
    let password = SecretString::from(form.get("password").cloned().unwrap_or_default());
    let mut details = BTreeMap::from([
        ("auth_method", "openid-connect".to_owned()),
        ("grant_type", "password".to_owned()),
        ("username", username.to_owned()),
    ]);
    let user = match login::verify_password(state, realm, username, password, ip).await? {
        Ok(user) => user,
        Err((failure, user)) => {
            let mut event = login::event(
                realm,
                "LOGIN_ERROR",
                user.as_ref(),
                Some(client.client_id.as_str()),
                ip,
                details,
            );
            event.error = Some(failure.code().to_owned());
            login::record(state, realm, event).await;
            return Err(match failure {
                login::LoginFailure::ActionRequired => {
                    OidcError::InvalidGrant("Account is not fully set up")
                }
                // Keycloak tells a disabled account apart once the password is right.
                login::LoginFailure::UserDisabled => OidcError::InvalidGrant("Account disabled"),
                _ => OidcError::InvalidUserCredentials,
            });
        }
    };
    let session = store::sessions::insert(state.db.write(), &realm.id, &user.id, ip).await?;
    let body = issue(
        state,
        realm,
        base,
        client,
        &user,
        Some(&session),
        field(form, "scope"),
        None,
    )
    .await?;
    details.insert("session", session);
    login::record(
        state,
        realm,
        login::event(
            realm,
            "LOGIN",
            Some(&user),
            Some(client.client_id.as_str()),
            ip,
            details,
        ),
    )
    .await;
    Ok(body)
}

async fn refresh_grant(
    state: &AppState,
    realm: &Realm,
    base: &Base,
    client: &Client,
    form: &Form,
) -> Result<Value, OidcError> {
    const INVALID: &str = "Invalid refresh token";
    let token = field(form, "refresh_token").ok_or(OidcError::InvalidRequest(
        "Missing parameter: refresh_token".into(),
    ))?;
    let now = state.clock.now_secs();
    let digest = crypto::token_digest(token);
    let stored = store::tokens::find_live(state.db.read(), &realm.id, &digest, now)
        .await?
        .filter(|t| t.kind != TokenKind::Docker.as_str() && t.client_id == client.id)
        .ok_or(OidcError::InvalidGrant(INVALID))?;
    let session_id = stored.session_id.clone();
    let session = match &session_id {
        Some(id) => Some(
            store::sessions::find(state.db.read(), &realm.id, id)
                .await?
                .filter(|s| session_alive(realm, s.started_at, s.last_access_at, now))
                .ok_or(OidcError::InvalidGrant("Session not active"))?,
        ),
        None => None,
    };
    let user = store::users::find_by_id(state.db.read(), &realm.id, &stored.user_id)
        .await?
        .filter(|u| u.enabled)
        .ok_or(OidcError::InvalidGrant(INVALID))?;
    // Refresh tokens rotate: the presented one is spent.
    if !store::tokens::revoke_by_hash(state.db.write(), &realm.id, &digest).await? {
        return Err(OidcError::InvalidGrant(INVALID));
    }
    if let Some(session) = &session {
        store::sessions::touch(state.db.write(), &session.id, now).await?;
    }
    issue(
        state,
        realm,
        base,
        client,
        &user,
        session_id.as_deref(),
        field(form, "scope"),
        None,
    )
    .await
}

async fn code_grant(
    state: &AppState,
    realm: &Realm,
    base: &Base,
    client: &Client,
    form: &Form,
) -> Result<Value, OidcError> {
    const INVALID: &str = "Code not valid";
    let code =
        field(form, "code").ok_or(OidcError::InvalidRequest("Missing parameter: code".into()))?;
    let grant = store::auth_codes::take(state.db.write(), &realm.id, &crypto::token_digest(code))
        .await?
        .filter(|g| g.client_id == client.id && g.expires_at > state.clock.now_secs())
        .ok_or(OidcError::InvalidGrant(INVALID))?;
    if field(form, "redirect_uri") != Some(grant.redirect_uri.as_str()) {
        return Err(OidcError::InvalidGrant("Incorrect redirect_uri"));
    }
    if let Some(challenge) = &grant.code_challenge {
        let verifier = field(form, "code_verifier").ok_or(OidcError::InvalidGrant(
            "PKCE verification failed: Code verifier missing",
        ))?;
        if !super::authorize::pkce_matches(
            grant.code_challenge_method.as_deref(),
            challenge,
            verifier,
        ) {
            return Err(OidcError::InvalidGrant(
                "PKCE verification failed: Invalid code verifier",
            ));
        }
    }
    store::sessions::find(state.db.read(), &realm.id, &grant.session_id)
        .await?
        .ok_or(OidcError::InvalidGrant("Session not active"))?;
    let user = store::users::find_by_id(state.db.read(), &realm.id, &grant.user_id)
        .await?
        .filter(|u| u.enabled)
        .ok_or(OidcError::InvalidGrant(INVALID))?;
    issue(
        state,
        realm,
        base,
        client,
        &user,
        Some(&grant.session_id),
        grant.scope.as_deref(),
        grant.nonce,
    )
    .await
}

async fn client_credentials_grant(
    state: &AppState,
    realm: &Realm,
    base: &Base,
    client: &Client,
    form: &Form,
    ip: Option<&str>,
) -> Result<Value, OidcError> {
    if client.public_client || !client.service_accounts_enabled {
        return Err(OidcError::UnauthorizedClient(
            "Client not enabled to retrieve service account",
        ));
    }
    let user = store::users::find_service_account(state.db.read(), &realm.id, &client.id)
        .await?
        .filter(|u| u.enabled)
        .ok_or(OidcError::UnauthorizedClient(
            "Client not enabled to retrieve service account",
        ))?;
    let session = store::sessions::insert(state.db.write(), &realm.id, &user.id, ip).await?;
    let mut body = issue(
        state,
        realm,
        base,
        client,
        &user,
        Some(&session),
        field(form, "scope"),
        None,
    )
    .await?;
    // Keycloak issues no refresh token for client credentials.
    if let Some(object) = body.as_object_mut() {
        object.remove("refresh_token");
        object.insert("refresh_expires_in".into(), json!(0));
    }
    Ok(body)
}

/// The claims of a refresh token.
#[derive(serde::Serialize)]
struct RefreshClaims<'a> {
    exp: i64,
    iat: i64,
    jti: String,
    iss: String,
    aud: String,
    sub: String,
    typ: &'static str,
    azp: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    sid: Option<&'a str>,
    scope: &'a str,
}

/// Whether a session is within the realm's idle and absolute limits.
pub fn session_alive(realm: &Realm, started_at: i64, last_access_at: i64, now: i64) -> bool {
    now <= clock::expiry(last_access_at, realm.sso_session_idle_timeout)
        && now <= clock::expiry(started_at, realm.sso_session_max_lifespan)
}

/// Issues the access token, a refresh token and (for `openid`) an ID token.
#[allow(clippy::too_many_arguments)]
pub async fn issue(
    state: &AppState,
    realm: &Realm,
    base: &Base,
    client: &Client,
    user: &User,
    session_id: Option<&str>,
    requested_scope: Option<&str>,
    nonce: Option<String>,
) -> Result<Value, OidcError> {
    let now = state.clock.now_secs();
    let roles = store::roles::effective_roles(state.db.read(), &user.id).await?;
    let scope = claims::effective_scope(requested_scope);
    let issuer = base.issuer(realm.name.as_str());
    let access = claims::access_claims(
        &Grant {
            realm,
            issuer: issuer.clone(),
            user,
            client_id: client.client_id.as_str(),
            session_id,
            scope: &scope,
            roles: &roles,
        },
        now,
    );
    let keys = state.keyring.get(&state.db, &realm.id).await?;
    let key = keys.active()?;
    let access_token = jwt::sign(&access, key, jwt::HeaderKind::Plain)?;

    // Shaped like Keycloak's (a JWT of `typ` Refresh, which some clients read); what makes
    // it unguessable is the random `jti`, and it is looked up by its digest like any token.
    let refresh_lifetime = realm.sso_session_idle_timeout;
    let refresh_claims = RefreshClaims {
        exp: clock::expiry(now, refresh_lifetime),
        iat: now,
        jti: crypto::random_token(),
        iss: access.iss.clone(),
        aud: access.iss.clone(),
        sub: user.id.to_string(),
        typ: "Refresh",
        azp: client.client_id.as_str(),
        sid: session_id,
        scope: &scope,
    };
    let refresh_token = jwt::sign(&refresh_claims, key, jwt::HeaderKind::Plain)?;
    store::tokens::insert(
        state.db.write(),
        &NewToken {
            realm_id: &realm.id,
            user_id: &user.id,
            client_id: &client.id,
            session_id,
            token_hash: &crypto::token_digest(&refresh_token),
            kind: TokenKind::Refresh,
            ip_address: None,
            expires_at: clock::expiry(now, refresh_lifetime),
        },
    )
    .await?;

    let mut body = json!({
        "access_token": access_token,
        "expires_in": realm.access_token_lifespan,
        "refresh_expires_in": refresh_lifetime,
        "refresh_token": refresh_token,
        "token_type": "Bearer",
        "not-before-policy": 0,
        "scope": scope,
    });
    if let Some(session) = session_id {
        body["session_state"] = json!(session);
    }
    if scope.split_whitespace().any(|s| s == "openid") {
        let id = IdClaims {
            exp: access.exp,
            iat: now,
            auth_time: now,
            jti: uuid::Uuid::new_v4().to_string(),
            iss: issuer,
            aud: client.client_id.to_string(),
            sub: user.id.to_string(),
            typ: "ID".into(),
            azp: client.client_id.to_string(),
            nonce,
            sid: session_id.map(str::to_owned),
            at_hash: claims::at_hash(&access_token),
            profile: Profile::of(user),
        };
        body["id_token"] = json!(jwt::sign(&id, key, jwt::HeaderKind::Plain)?);
    }
    Ok(body)
}
