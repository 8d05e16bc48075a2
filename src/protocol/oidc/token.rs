//! The token endpoint: password, refresh_token, authorization_code and client_credentials
//! grants, each failure worded as Keycloak 26 words it.

use std::collections::BTreeMap;

use actix_web::{web, HttpRequest, HttpResponse};
use secrecy::SecretString;

use super::claims::{Flow, RefreshClaims, Subject};
use super::client_auth::authenticate_client;
use super::form::{field, parse_form, reject_duplicates, Form};
use super::issue::{issue, Request, TokenResponse};
use super::realm_info::existing_realm;
use super::OidcError;
use crate::clock;
use crate::crypto::{self, jwt};
use crate::domain::{Client, Realm};
use crate::http::Base;
use crate::protocol::login;
use crate::state::AppState;
use crate::store::sessions::Origin;
use crate::store::tokens::TokenKind;
use crate::store::{self};

/// The grants the endpoint serves.
enum GrantType {
    Password,
    RefreshToken,
    AuthorizationCode,
    ClientCredentials,
}

/// Reads `grant_type` before the client is authenticated, as Keycloak does.
fn grant_type(form: &Form) -> Result<GrantType, OidcError> {
    match field(form, "grant_type") {
        Some("password") => Ok(GrantType::Password),
        Some("refresh_token") => Ok(GrantType::RefreshToken),
        Some("authorization_code") => Ok(GrantType::AuthorizationCode),
        Some("client_credentials") => Ok(GrantType::ClientCredentials),
        Some(_) => Err(OidcError::UnsupportedGrantType(
            "Unsupported grant_type".into(),
        )),
        None => Err(OidcError::InvalidRequest(
            "Missing form parameter: grant_type".into(),
        )),
    }
}

/// `POST /realms/{realm}/protocol/openid-connect/token`.
pub async fn token(
    req: HttpRequest,
    state: web::Data<AppState>,
    realm: web::Path<String>,
    base: Base,
    body: web::Bytes,
) -> Result<HttpResponse, OidcError> {
    let realm = existing_realm(&state, &realm).await?;
    if !realm.enabled {
        return Err(OidcError::RealmDisabled);
    }
    let form = parse_form(&body);
    let grant = grant_type(&form)?;
    let client = authenticate_client(&state, &realm, &req, &form).await?;
    reject_duplicates(&body)?;
    let caller = login::Caller::of(&req, &state);
    let at = Endpoint {
        state: &state,
        realm: &realm,
        base: &base,
        client: &client,
        form: &form,
        ip: caller.ip.as_deref(),
        origin: caller.origin(),
    };
    let response = match grant {
        GrantType::Password => password_grant(&at).await?,
        GrantType::RefreshToken => refresh_grant(&at).await?,
        GrantType::AuthorizationCode => code_grant(&at).await?,
        GrantType::ClientCredentials => client_credentials_grant(&at).await?,
    };
    Ok(response.respond())
}

/// What every grant works with.
struct Endpoint<'a> {
    state: &'a AppState,
    realm: &'a Realm,
    base: &'a Base,
    client: &'a Client,
    form: &'a Form,
    ip: Option<&'a str>,
    /// The caller's address and user agent, recorded with the sessions and tokens made here.
    origin: Origin<'a>,
}

async fn password_grant(at: &Endpoint<'_>) -> Result<TokenResponse, OidcError> {
    let Endpoint {
        state,
        realm,
        client,
        form,
        ip,
        ..
    } = *at;
    if !client.direct_access_grants_enabled {
        return Err(OidcError::UnauthorizedClient(
            "Client not allowed for direct access grants",
        ));
    }
    super::scope::check(field(form, "scope"))?;
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
    let session = store::sessions::insert(
        state.db.write(),
        &realm.id,
        &user.id,
        client.client_id.as_str(),
        at.origin,
    )
    .await?;
    let now = state.clock.now_secs();
    let response = issue(
        state,
        Request {
            origin: at.origin,
            realm,
            base: at.base,
            client,
            user: &user,
            subject: Subject::Session {
                id: &session,
                auth_time: None,
                sso: false,
                flow: Flow::Password,
            },
            session_started: now,
            requested_scope: field(form, "scope"),
            nonce: None,
        },
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
    Ok(response)
}

/// The checks of Keycloak's `TokenManager.refreshAccessToken`, in its order and words: the
/// token itself, then its session, then whether it was already spent.
async fn refresh_grant(at: &Endpoint<'_>) -> Result<TokenResponse, OidcError> {
    const INVALID: &str = "Invalid refresh token";
    let Endpoint {
        state,
        realm,
        client,
        form,
        ..
    } = *at;
    let token =
        field(form, "refresh_token").ok_or(OidcError::InvalidRequest("No refresh token".into()))?;
    let keys = state.keyring.get(&state.db, &realm.id).await?;
    let claims = jwt::verify_signature::<RefreshClaims>(token, &keys.keys)
        .ok()
        .filter(|c| matches!(c.typ.as_str(), "Refresh" | "Offline"))
        .ok_or(OidcError::InvalidGrant(INVALID))?;
    let now = state.clock.now_secs();
    if claims.exp <= now {
        return Err(OidcError::InvalidGrant("Token is not active"));
    }
    if claims.azp != client.client_id.as_str() {
        return Err(OidcError::InvalidGrant(
            "Invalid refresh token. Token client and authorized client don't match",
        ));
    }
    const ENDED: OidcError = OidcError::InvalidGrant("Session not active");
    let session_id = claims.sid.as_deref().ok_or(ENDED)?;
    let session = store::sessions::find(state.db.read(), &realm.id, session_id)
        .await?
        .filter(|s| session_alive(realm, s.started_at, s.last_access_at, now))
        .ok_or(ENDED)?;
    let user = store::users::find_by_id(state.db.read(), &realm.id, &session.user_id)
        .await?
        .filter(|u| u.enabled)
        .ok_or(ENDED)?;
    // Refresh tokens rotate (Keycloak's "Revoke Refresh Token" with no reuse allowed): the
    // presented one is spent, and a spent one is answered as Keycloak answers a replay.
    const REPLAYED: OidcError =
        OidcError::InvalidGrant("Maximum allowed refresh token reuse exceeded");
    let digest = crypto::token_digest(token);
    let stored = store::tokens::find_live(state.db.read(), &realm.id, &digest, now)
        .await?
        .filter(|t| t.kind != TokenKind::Docker.as_str() && t.client_id == client.id)
        .ok_or(REPLAYED)?;
    if !store::tokens::revoke_by_hash(state.db.write(), &realm.id, &digest).await? {
        return Err(REPLAYED);
    }
    store::sessions::touch(state.db.write(), &session.id, now).await?;
    let service_account = client.service_accounts_enabled
        && store::users::find_service_account(state.db.read(), &realm.id, &client.id)
            .await?
            .is_some_and(|account| account.id == user.id);
    let subject = if service_account {
        Subject::ServiceAccount {
            session_id: &session.id,
            host: session.ip_address.as_deref(),
            refreshable: super::issue::wants_refresh(client, true),
        }
    } else {
        Subject::Session {
            id: &session.id,
            auth_time: stored.auth_time,
            sso: stored.sso,
            flow: Flow::Refresh,
        }
    };
    issue(
        state,
        Request {
            origin: at.origin,
            realm,
            base: at.base,
            client,
            user: &user,
            subject,
            session_started: session.started_at,
            requested_scope: Some(claims.scope.as_str()),
            nonce: claims.nonce.clone(),
        },
    )
    .await
}

async fn code_grant(at: &Endpoint<'_>) -> Result<TokenResponse, OidcError> {
    const INVALID: &str = "Code not valid";
    let Endpoint {
        state,
        realm,
        client,
        form,
        ..
    } = *at;
    let code =
        field(form, "code").ok_or(OidcError::InvalidRequest("Missing parameter: code".into()))?;
    let now = state.clock.now_secs();
    let grant = store::auth_codes::take(state.db.write(), &realm.id, &crypto::token_digest(code))
        .await?
        .filter(|g| g.expires_at > now)
        .ok_or(OidcError::InvalidGrant(INVALID))?;
    let session = store::sessions::find(state.db.read(), &realm.id, &grant.session_id)
        .await?
        .ok_or(OidcError::InvalidGrant("User session not found"))?;
    let user = store::users::find_by_id(state.db.read(), &realm.id, &grant.user_id)
        .await?
        .ok_or(OidcError::InvalidGrant("User not found"))?;
    if !user.enabled {
        return Err(OidcError::InvalidGrant("User disabled"));
    }
    if field(form, "redirect_uri") != Some(grant.redirect_uri.as_str()) {
        return Err(OidcError::InvalidGrant("Incorrect redirect_uri"));
    }
    if grant.client_id != client.id {
        return Err(OidcError::InvalidGrant(
            "Auth error: Found different client_id in clientSession",
        ));
    }
    if !client.standard_flow_enabled {
        return Err(OidcError::InvalidGrant(
            "Client not allowed to exchange code",
        ));
    }
    if !session_alive(realm, session.started_at, session.last_access_at, now) {
        return Err(OidcError::InvalidGrant("Session not active"));
    }
    super::pkce::verify(
        grant.code_challenge_method.as_deref(),
        grant.code_challenge.as_deref(),
        field(form, "code_verifier"),
    )?;
    issue(
        state,
        Request {
            origin: at.origin,
            realm,
            base: at.base,
            client,
            user: &user,
            subject: Subject::Session {
                id: &session.id,
                auth_time: Some(session.started_at),
                sso: grant.sso,
                flow: Flow::Code,
            },
            session_started: session.started_at,
            requested_scope: grant.scope.as_deref(),
            nonce: grant.nonce.clone(),
        },
    )
    .await
}

/// Keycloak's `ClientCredentialsGrantType`: a token for the client's service account, with
/// no session claims and, unless the client asks for one, no refresh token.
async fn client_credentials_grant(at: &Endpoint<'_>) -> Result<TokenResponse, OidcError> {
    let Endpoint {
        state,
        realm,
        client,
        form,
        ip,
        ..
    } = *at;
    if client.public_client {
        return Err(OidcError::ClientUnauthorized(
            "Public client not allowed to retrieve service account",
        ));
    }
    if !client.service_accounts_enabled {
        return Err(OidcError::ClientUnauthorized(
            "Client not enabled to retrieve service account",
        ));
    }
    let user = store::users::find_service_account(state.db.read(), &realm.id, &client.id)
        .await?
        .ok_or_else(|| {
            OidcError::ServiceAccountUnavailable(
                "The associated service account for the client does not exist".into(),
            )
        })?;
    if !user.enabled {
        return Err(OidcError::ServiceAccountUnavailable(format!(
            "User '{}' disabled",
            user.username
        )));
    }
    super::scope::check(field(form, "scope"))?;
    // A session row, never shown in the token, lets the token be revoked and listed.
    let session = store::sessions::insert(
        state.db.write(),
        &realm.id,
        &user.id,
        client.client_id.as_str(),
        at.origin,
    )
    .await?;
    issue(
        state,
        Request {
            origin: at.origin,
            realm,
            base: at.base,
            client,
            user: &user,
            subject: Subject::ServiceAccount {
                session_id: &session,
                host: ip,
                refreshable: super::issue::wants_refresh(client, true),
            },
            session_started: state.clock.now_secs(),
            requested_scope: field(form, "scope"),
            nonce: None,
        },
    )
    .await
}

/// Whether a session is within the realm's idle and absolute limits.
pub fn session_alive(realm: &Realm, started_at: i64, last_access_at: i64, now: i64) -> bool {
    now <= clock::expiry(last_access_at, realm.sso_session_idle_timeout)
        && now <= clock::expiry(started_at, realm.sso_session_max_lifespan)
}
