//! The docker-v2 token endpoint, `{base}/realms/{realm}/protocol/docker-v2/auth`.
//!
//! GET with Basic credentials, as Keycloak answers it, plus: POST `grant_type=password` and
//! `grant_type=refresh_token` (docker, skopeo, podman and containerd use them), reusable
//! identity tokens for `docker login`, anonymous access where the policy allows it, a 401
//! Basic challenge instead of an error page, and CORS for browser registry UIs listed in the
//! client's web origins.
//!
//! Every request is bounded before any lookup: a query string or form body of at most
//! [`MAX_PARAMS_BYTES`], and scopes within [`scope::parse_all`]'s limits.

use std::collections::BTreeMap;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::error::DockerError;
use super::policy::AccessPolicy;
use super::scope::{self, Scope};
use super::{conditions, subject};
use crate::crypto::{self, jwt};
use crate::domain::token_settings::DockerTokenHeader;
use crate::domain::{Client, Protocol, Realm, User};
use crate::http::{basic, cors, Base};
use crate::protocol::login;
use crate::state::AppState;
use crate::store::events::LoginEvent;
use crate::store::sessions::Origin;
use crate::store::tokens::{NewToken, TokenKind, TokenUse};
use crate::store::{self};

/// The claims of a docker registry token.
#[derive(Debug, Serialize, Deserialize)]
pub struct DockerClaims {
    pub iss: String,
    pub sub: String,
    /// The service, as a plain string: registry 2.8 refuses an array.
    pub aud: String,
    pub exp: i64,
    pub nbf: i64,
    pub iat: i64,
    pub jti: String,
    pub access: Vec<Scope>,
}

/// The longest query string or form body the endpoint reads, in bytes: room for the most
/// scopes of the longest names, percent-encoded.
pub const MAX_PARAMS_BYTES: usize = 32 * 1024;

/// The request parameters, from the query (GET) or the form body (POST). `scope` may repeat.
#[derive(Debug, Default)]
struct TokenParams {
    service: Option<String>,
    scopes: Vec<String>,
    account: Option<String>,
    offline_token: bool,
    grant_type: Option<String>,
    username: Option<String>,
    password: Option<SecretString>,
    refresh_token: Option<String>,
}

impl TokenParams {
    fn parse(encoded: &[u8]) -> TokenParams {
        let mut params = TokenParams::default();
        for (key, value) in url::form_urlencoded::parse(encoded) {
            let value = value.into_owned();
            match key.as_ref() {
                "service" => params.service = Some(value),
                "scope" => params.scopes.push(value),
                "account" => params.account = Some(value),
                "offline_token" => params.offline_token = value.eq_ignore_ascii_case("true"),
                "grant_type" => params.grant_type = Some(value),
                "username" => params.username = Some(value),
                "password" => params.password = Some(SecretString::from(value)),
                "refresh_token" => params.refresh_token = Some(value),
                _ => {}
            }
        }
        params
    }
}

/// How the caller proves who it is.
enum Grant {
    Password {
        username: String,
        password: SecretString,
        offline: bool,
    },
    Refresh(String),
    Anonymous,
}

impl Grant {
    fn method(&self) -> &'static str {
        match self {
            Grant::Password { .. } => "password",
            Grant::Refresh(_) => "refresh_token",
            Grant::Anonymous => "anonymous",
        }
    }
}

/// `OPTIONS`: the CORS preflight; the service named in the query decides which origins
/// are allowed.
pub async fn preflight(
    req: HttpRequest,
    state: web::Data<AppState>,
    realm: web::Path<String>,
    base: Base,
) -> HttpResponse {
    let service = query_params(&req).ok().and_then(|p| p.service);
    let allowed = allowed_origin(&req, &state, &realm, service.as_deref(), &base).await;
    cors::preflight(allowed, "GET, POST, OPTIONS")
}

/// The query's parameters, refused when the query string is longer than [`MAX_PARAMS_BYTES`].
fn query_params(req: &HttpRequest) -> Result<TokenParams, DockerError> {
    let query = req.query_string();
    if query.len() > MAX_PARAMS_BYTES {
        return Err(DockerError::InvalidRequest(format!(
            "query string too long: at most {MAX_PARAMS_BYTES} bytes"
        )));
    }
    Ok(TokenParams::parse(query.as_bytes()))
}

/// `req`'s origin when the realm's enabled docker-v2 client `service` lists it among its web
/// origins; `None` without an Origin header, for an unknown service or any other origin.
async fn allowed_origin<'r>(
    req: &'r HttpRequest,
    state: &AppState,
    realm_name: &str,
    service: Option<&str>,
    base: &Base,
) -> Option<&'r str> {
    let origin = cors::origin_of(req)?;
    let service = service.filter(|s| !s.is_empty())?;
    let realm = store::realms::find_by_name_cached(&state.db, realm_name)
        .await
        .ok()
        .flatten()
        .filter(|r| r.enabled)?;
    let client = store::clients::find_by_client_id_cached(&state.db, &realm.id, service)
        .await
        .ok()
        .flatten()
        .filter(|c| c.enabled && c.protocol == Protocol::DockerV2)?;
    cors::client_allows(&client, base.as_str(), origin).then_some(origin)
}

/// `GET`: Basic credentials (or none), parameters in the query.
pub async fn get(
    req: HttpRequest,
    state: web::Data<AppState>,
    realm: web::Path<String>,
    base: Base,
) -> HttpResponse {
    let params = match query_params(&req) {
        Ok(params) => params,
        Err(err) => return err.error_response(),
    };
    let grant = match basic_credentials(&req) {
        Ok(Some(credentials)) => Ok(Grant::Password {
            username: credentials.username,
            password: credentials.password,
            offline: params.offline_token,
        }),
        Ok(None) => Ok(Grant::Anonymous),
        Err(()) => Err(DockerError::InvalidCredentials {
            realm: realm.to_string(),
        }),
    };
    answer(&req, &state, &realm, &base, params, grant).await
}

/// `POST`: an OAuth2-style form (`grant_type=password|refresh_token`), also chunked. The
/// body is read up to [`MAX_PARAMS_BYTES`] (see [`super::routes`]); `service` may also be in
/// the query, where a browser's preflight sees it.
pub async fn post(
    req: HttpRequest,
    state: web::Data<AppState>,
    realm: web::Path<String>,
    base: Base,
    body: web::Bytes,
) -> HttpResponse {
    let mut params = TokenParams::parse(&body);
    if params.service.is_none() {
        match query_params(&req) {
            Ok(query) => params.service = query.service,
            Err(err) => return err.error_response(),
        }
    }
    let grant = match params.grant_type.as_deref() {
        Some("password") => match (params.username.take(), params.password.take()) {
            (Some(username), Some(password)) => Ok(Grant::Password {
                username,
                password,
                offline: true,
            }),
            _ => Err(DockerError::InvalidRequest(
                "username and password are required".into(),
            )),
        },
        Some("refresh_token") => params
            .refresh_token
            .take()
            .map(Grant::Refresh)
            .ok_or_else(|| DockerError::InvalidRequest("refresh_token is required".into())),
        Some(other) => Err(DockerError::InvalidRequest(format!(
            "unsupported grant_type '{other}'"
        ))),
        None => match basic_credentials(&req) {
            Ok(Some(credentials)) => Ok(Grant::Password {
                username: credentials.username,
                password: credentials.password,
                offline: params.offline_token,
            }),
            Ok(None) => Ok(Grant::Anonymous),
            Err(()) => Err(DockerError::InvalidCredentials {
                realm: realm.to_string(),
            }),
        },
    };
    answer(&req, &state, &realm, &base, params, grant).await
}

/// `Ok(None)` without an Authorization header, `Err` when it is present but not Basic.
fn basic_credentials(req: &HttpRequest) -> Result<Option<basic::BasicCredentials>, ()> {
    match req.headers().get(header::AUTHORIZATION) {
        None => Ok(None),
        Some(value) => value
            .to_str()
            .ok()
            .and_then(basic::parse)
            .map(Some)
            .ok_or(()),
    }
}

async fn answer(
    req: &HttpRequest,
    state: &AppState,
    realm_name: &str,
    base: &Base,
    params: TokenParams,
    grant: Result<Grant, DockerError>,
) -> HttpResponse {
    let requested = scope::parse_all(params.scopes.iter().map(String::as_str))
        .map_err(|err| DockerError::InvalidRequest(err.to_string()));
    let result = match (requested, grant) {
        (Err(err), _) | (_, Err(err)) => Err(err),
        (Ok(requested), Ok(grant)) => {
            issue(req, state, realm_name, base, &params, requested, grant).await
        }
    };
    let mut response = match result {
        Ok(body) => HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::PRAGMA, "no-cache"))
            .json(body),
        Err(err) => err.error_response(),
    };
    if let Some(origin) =
        allowed_origin(req, state, realm_name, params.service.as_deref(), base).await
    {
        cors::add_to(&mut response, origin);
    }
    response
}

/// What an attempt is recorded with.
struct Attempt<'a> {
    realm: &'a Realm,
    client: Option<&'a Client>,
    ip: Option<String>,
    user_agent: Option<String>,
    username: Option<String>,
    scopes: String,
    method: &'static str,
}

async fn issue(
    req: &HttpRequest,
    state: &AppState,
    realm_name: &str,
    base: &Base,
    params: &TokenParams,
    requested: Vec<Scope>,
    grant: Grant,
) -> Result<serde_json::Value, DockerError> {
    let realm = store::realms::find_by_name_cached(&state.db, realm_name)
        .await?
        .filter(|r| r.enabled)
        .ok_or(DockerError::RealmNotFound)?;
    let mut attempt = Attempt {
        realm: &realm,
        client: None,
        ip: login::client_ip(req, state),
        user_agent: login::user_agent(req),
        username: params.account.clone(),
        scopes: params.scopes.join(" "),
        method: grant.method(),
    };
    let service = params
        .service
        .as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| DockerError::InvalidRequest("Missing parameter: service".into()))?;
    let client = store::clients::find_by_client_id_cached(&state.db, &realm.id, service)
        .await?
        .filter(|c| c.protocol == Protocol::DockerV2);
    let Some(client) = client.filter(|c| c.enabled) else {
        record_failure(state, &attempt, None, "invalid_client").await;
        return Err(DockerError::InvalidClient);
    };
    attempt.client = Some(&client);
    let policy = client
        .access_policy
        .clone()
        .unwrap_or(AccessPolicy::AllowAll);

    let (user, identity_token) = match grant {
        Grant::Anonymous => {
            if !policy.admits_anonymous(&requested) {
                return Err(DockerError::CredentialsRequired {
                    realm: realm.name.to_string(),
                });
            }
            (None, None)
        }
        Grant::Password {
            username,
            password,
            offline,
        } => {
            attempt.username = Some(username.clone());
            let user = authenticate(state, &attempt, &username, password).await?;
            let token = if offline {
                Some(new_identity_token(state, &realm, &client, &user, &attempt).await?)
            } else {
                None
            };
            (Some(user), token)
        }
        Grant::Refresh(token) => {
            let user = redeem(state, &attempt, &client, &token).await?;
            attempt.username = Some(user.username.to_string());
            (Some(user), Some(token))
        }
    };

    let address = attempt
        .ip
        .as_deref()
        .and_then(conditions::parse_client_address);
    let subject = subject::load(&state.db, &realm, user.as_ref(), address, &policy).await?;
    let granted = policy.grant(&subject, &requested);
    let key = (state.keyring)
        .for_client(&state.db, &realm, &client, crate::keyring::ACCESS_TOKEN_ALG)
        .await?;
    let now = state.clock.now_secs();
    let claims = DockerClaims {
        iss: base.issuer(realm.name.as_str()),
        sub: subject.username.clone().unwrap_or_default(),
        aud: client.client_id.to_string(),
        exp: crate::clock::expiry(now, realm.access_token_lifespan),
        nbf: now,
        iat: now,
        jti: uuid::Uuid::new_v4().to_string(),
        access: granted,
    };
    let token = jwt::sign(&claims, &key, header_kind(&client)).map_err(anyhow::Error::from)?;
    record_success(state, &attempt, user.as_ref(), &claims.access).await;

    let issued_at = time::OffsetDateTime::from_unix_timestamp(now)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    let mut body = json!({
        "token": token,
        "access_token": token,
        "expires_in": realm.access_token_lifespan,
        "issued_at": issued_at,
    });
    if let Some(refresh) = identity_token {
        body["refresh_token"] = json!(refresh);
    }
    Ok(body)
}

/// The header the client's `docker.token.header` attribute asks for.
fn header_kind(client: &Client) -> jwt::HeaderKind {
    match DockerTokenHeader::of(&client.attributes) {
        DockerTokenHeader::X5c => jwt::HeaderKind::WithCertificate,
        DockerTokenHeader::Kid => jwt::HeaderKind::Plain,
        DockerTokenHeader::JwkThumbprint => jwt::HeaderKind::Thumbprint,
    }
}

/// Checks a username and password (see `login::verify_password`); every failure answers
/// the same 401.
async fn authenticate(
    state: &AppState,
    attempt: &Attempt<'_>,
    username: &str,
    password: SecretString,
) -> Result<User, DockerError> {
    match login::verify_password(
        state,
        attempt.realm,
        username,
        password,
        attempt.ip.as_deref(),
    )
    .await?
    {
        Ok(user) => Ok(user),
        Err((failure, user)) => {
            record_failure(state, attempt, user.as_ref(), failure.code()).await;
            Err(DockerError::InvalidCredentials {
                realm: attempt.realm.name.to_string(),
            })
        }
    }
}

/// Stores a new identity token for `docker login` and returns it (it is never stored itself).
async fn new_identity_token(
    state: &AppState,
    realm: &Realm,
    client: &Client,
    user: &User,
    attempt: &Attempt<'_>,
) -> Result<String, DockerError> {
    let token = crypto::random_token();
    let digest = crypto::token_digest(&token);
    store::tokens::insert(
        state.db.write(),
        &NewToken {
            realm_id: &realm.id,
            user_id: &user.id,
            client_id: &client.id,
            session_id: None,
            token_hash: &digest,
            kind: TokenKind::Docker,
            sso: false,
            auth_time: None,
            origin: Origin {
                ip_address: attempt.ip.as_deref(),
                user_agent: attempt.user_agent.as_deref(),
            },
            expires_at: crate::clock::expiry(
                state.clock.now_secs(),
                realm.offline_session_idle_timeout,
            ),
        },
    )
    .await?;
    Ok(token)
}

/// How often a token's idle expiry is pushed forward: at most once a minute per token.
const TOUCH_INTERVAL_SECS: i64 = 60;

/// Redeems an identity token: it must be live, issued for this service, and its user enabled.
/// The token stays valid (docker keeps reusing it); its idle expiry slides forward.
async fn redeem(
    state: &AppState,
    attempt: &Attempt<'_>,
    client: &Client,
    token: &str,
) -> Result<User, DockerError> {
    let realm = attempt.realm;
    let now = state.clock.now_secs();
    let invalid = || DockerError::InvalidToken {
        realm: realm.name.to_string(),
    };
    let digest = crypto::token_digest(token);
    let stored = store::tokens::find_live_cached(&state.db, &realm.id, &digest, now)
        .await?
        .filter(|t| t.kind == TokenKind::Docker.as_str() && t.client_id == client.id);
    let Some(stored) = stored else {
        record_failure(state, attempt, None, "invalid_token").await;
        return Err(invalid());
    };
    let user = store::users::find_by_id_cached(&state.db, &realm.id, &stored.user_id).await?;
    let Some(user) = user.filter(|u| u.enabled) else {
        record_failure(state, attempt, None, "user_disabled").await;
        return Err(invalid());
    };
    if now - stored.last_used_at >= TOUCH_INTERVAL_SECS {
        let expires_at = crate::clock::expiry(now, realm.offline_session_idle_timeout);
        state.touches.record(TokenUse {
            token_hash: digest,
            id: stored.id.clone(),
            at: now,
            expires_at,
        });
    }
    Ok(user)
}

fn event(attempt: &Attempt<'_>, event_type: &'static str, user: Option<&User>) -> LoginEvent {
    let mut details = BTreeMap::from([
        ("auth_method", "docker-v2".to_owned()),
        ("grant_type", attempt.method.to_owned()),
    ]);
    if let Some(username) = &attempt.username {
        details.insert("username", username.clone());
    }
    if !attempt.scopes.is_empty() {
        details.insert("scope", attempt.scopes.clone());
    }
    LoginEvent {
        realm_id: attempt.realm.id.clone(),
        event_type,
        user_id: user.map(|u| u.id.to_string()),
        client_id: attempt.client.map(|c| c.client_id.to_string()),
        ip_address: attempt.ip.clone(),
        error: None,
        details,
    }
}

async fn record_success(
    state: &AppState,
    attempt: &Attempt<'_>,
    user: Option<&User>,
    granted: &[Scope],
) {
    let mut event = event(attempt, "LOGIN", user);
    let granted: Vec<String> = granted
        .iter()
        .map(|s| format!("{}:{}:{}", s.resource_type, s.name, s.actions.join(",")))
        .collect();
    event.details.insert("granted", granted.join(" "));
    login::record(state, attempt.realm, event).await;
}

async fn record_failure(
    state: &AppState,
    attempt: &Attempt<'_>,
    user: Option<&User>,
    reason: &str,
) {
    let mut event = event(attempt, "LOGIN_ERROR", user);
    event.error = Some(reason.to_owned());
    login::record(state, attempt.realm, event).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn params_keep_every_scope_and_decode_forms() {
        let params = TokenParams::parse(
            b"service=reg&scope=repository%3Aa%3Apull&scope=repository:b:pull+repository:c:push&offline_token=true&password=p%3Aw",
        );
        assert_eq!(params.service.as_deref(), Some("reg"));
        assert_eq!(
            params.scopes,
            ["repository:a:pull", "repository:b:pull repository:c:push"]
        );
        assert!(params.offline_token);
        assert_eq!(params.password.unwrap().expose_secret(), "p:w");
    }
}
