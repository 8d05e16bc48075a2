//! Token introspection (RFC 7662) as Keycloak 26 answers it, for confidential clients.
//!
//! An access token is shown to a client only if the client is in its audience (`aud`) and the
//! client it was issued to is enabled: a client never sees its own access tokens, as in
//! Keycloak 26.7. A refresh token is shown only to the client it was issued to. Anything else
//! is `{"active": false}`. An active answer is the token's claims in their order, then
//! `client_id`, `username`, `token_type` and `active`.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::{json, Value};

use super::claims::{self, Flow, Grant, Subject};
use super::client_auth::{authenticate_client, INVALID};
use super::form::{parse_form, reject_duplicates};
use super::ordered::Ordered;
use super::{bearer, OidcError};
use crate::clock;
use crate::crypto::{self, jwt};
use crate::domain::{Client, Realm, User};
use crate::state::AppState;
use crate::store;

/// The client attribute that lets a client ask for the introspected token as a JWT.
const JWT_CLAIM_ATTRIBUTE: &str = "client.introspection.response.allow.jwt.claim.enabled";

/// `POST .../token/introspect`.
pub async fn introspect(
    req: HttpRequest,
    state: web::Data<AppState>,
    realm: web::Path<String>,
    body: web::Bytes,
) -> Result<HttpResponse, OidcError> {
    let realm = live_realm(&state, &realm).await?;
    let form = parse_form(&body);
    // No client named is `invalid_client`; a client that fails to authenticate is
    // "Authentication failed.", as Keycloak 26.7 answers.
    let client = authenticate_client(&state, &realm, &req, &form)
        .await
        .map_err(|err| match err {
            OidcError::Internal(err) => OidcError::Internal(err),
            OidcError::BadClient(_) => OidcError::InvalidClient(INVALID),
            _ => OidcError::AuthenticationFailed,
        })?;
    if client.public_client {
        return Err(OidcError::ClientNotAllowed("Client not allowed."));
    }
    reject_duplicates(&body)?;
    let token = form
        .get("token")
        .ok_or_else(|| OidcError::InvalidRequest("Token not provided.".into()))?;
    let refresh_hint = match form.get("token_type_hint").map(String::as_str) {
        None | Some("access_token") | Some("requesting_party_token") => false,
        Some("refresh_token") => true,
        Some(_) => return Err(OidcError::InvalidRequest("Unsupported token type.".into())),
    };
    let found = match refresh_hint {
        true => match refresh_metadata(&state, &realm, &client, token).await? {
            Some(found) => Some(found),
            None => access_metadata(&state, &realm, &client, token).await?,
        },
        false => access_metadata(&state, &realm, &client, token).await?,
    };
    let Some(mut metadata) = found else {
        return Ok(answer(json!({"active": false})));
    };
    let wants_jwt = req
        .headers()
        .get(header::ACCEPT)
        .is_some_and(|accept| accept.as_bytes() == b"application/jwt");
    if wants_jwt
        && client
            .attributes
            .get(JWT_CLAIM_ATTRIBUTE)
            .is_some_and(|v| v == "true")
    {
        metadata.set("jwt", json!(token));
    }
    Ok(answer(metadata))
}

/// An introspection answer, never cached (Keycloak's `@NoCache`).
fn answer(body: impl serde::Serialize) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .json(body)
}

/// The realm of an OIDC endpoint that Keycloak serves only while the realm is enabled: an
/// unknown realm is 404, a disabled one 403 `access_denied` "Realm not enabled".
pub(super) async fn live_realm(state: &AppState, name: &str) -> Result<Realm, OidcError> {
    let realm = store::realms::find_by_name(state.db.read(), name)
        .await?
        .ok_or(OidcError::RealmNotFound)?;
    if !realm.enabled {
        return Err(OidcError::RealmDisabled);
    }
    Ok(realm)
}

/// A live access token addressed to `client`: its claims and the introspection fields.
async fn access_metadata(
    state: &AppState,
    realm: &Realm,
    client: &Client,
    token: &str,
) -> Result<Option<Ordered>, OidcError> {
    let Some((claims, user)) = bearer::verify_access(state, realm, token).await? else {
        return Ok(None);
    };
    if !claims.aud.contains(client.client_id.as_str()) {
        return Ok(None);
    }
    let issuer_enabled = store::clients::find_by_client_id(state.db.read(), &realm.id, &claims.azp)
        .await?
        .is_some_and(|issuer| issuer.enabled);
    if !issuer_enabled {
        return Ok(None);
    }
    let keys = state.keyring.get(&state.db, &realm.id).await?;
    let Ok(mut metadata) = jwt::verify_signature::<Ordered>(token, &keys.keys) else {
        return Ok(None);
    };
    if metadata.get("scope").and_then(Value::as_str) == Some("") {
        metadata.remove("scope");
    }
    Ok(Some(finish(metadata, &claims.azp, &user, &claims.typ)))
}

/// The claims a refresh token names in its payload.
#[derive(serde::Deserialize)]
struct RefreshClaims {
    exp: i64,
    iat: i64,
    jti: String,
    #[serde(default)]
    aud: Option<Value>,
    typ: String,
    azp: String,
    #[serde(default)]
    sid: Option<String>,
    #[serde(default)]
    scope: String,
}

/// A live refresh token of `client`: as Keycloak, the access token it stands for (the
/// user's current claims) with the refresh token's own identity, type and lifetime.
async fn refresh_metadata(
    state: &AppState,
    realm: &Realm,
    client: &Client,
    token: &str,
) -> Result<Option<Ordered>, OidcError> {
    let now = state.clock.now_secs();
    let stored = store::tokens::find_live(
        state.db.read(),
        &realm.id,
        &crypto::token_digest(token),
        now,
    )
    .await?
    .filter(|t| t.client_id == client.id && t.kind != "docker");
    let Some(stored) = stored else {
        return Ok(None);
    };
    let keys = state.keyring.get(&state.db, &realm.id).await?;
    let Ok(refresh) = jwt::verify_signature::<RefreshClaims>(token, &keys.keys) else {
        return Ok(None);
    };
    if refresh.azp != client.client_id.as_str() || refresh.exp <= now {
        return Ok(None);
    }
    if let Some(session) = &stored.session_id {
        let alive = store::sessions::find(state.db.read(), &realm.id, session)
            .await?
            .is_some_and(|s| {
                now <= clock::expiry(s.last_access_at, realm.sso_session_idle_timeout)
                    && now <= clock::expiry(s.started_at, realm.sso_session_max_lifespan)
            });
        if !alive {
            return Ok(None);
        }
    }
    let user = store::users::find_by_id(state.db.read(), &realm.id, &stored.user_id)
        .await?
        .filter(|u| u.enabled);
    let Some(user) = user else {
        return Ok(None);
    };
    let Some(session_id) = refresh.sid.as_deref() else {
        return Ok(None);
    };
    let roles = store::roles::effective_roles(state.db.read(), &user.id).await?;
    let issuer = refresh_issuer(token).unwrap_or_default();
    let access = claims::access_claims(
        &Grant {
            realm,
            issuer,
            user: &user,
            client,
            subject: Subject::Session {
                id: session_id,
                auth_time: None,
                sso: false,
                flow: Flow::Refresh,
            },
            scope: &refresh.scope,
            nonce: None,
            roles: &roles,
            exp: refresh.exp,
        },
        refresh.iat,
    );
    let Some(mut metadata) = Ordered::of(&access) else {
        return Ok(None);
    };
    metadata.set("exp", json!(refresh.exp));
    metadata.set("jti", json!(refresh.jti));
    metadata.set("aud", audience(refresh.aud, metadata.get("aud")));
    metadata.set("typ", json!(refresh.typ));
    if refresh.scope.is_empty() {
        metadata.remove("scope");
    }
    Ok(Some(finish(metadata, &refresh.azp, &user, &refresh.typ)))
}

/// The refresh token's own audience, then the clients the user's roles name.
fn audience(own: Option<Value>, resolved: Option<&Value>) -> Value {
    let mut all: Vec<Value> = match own {
        Some(Value::Array(values)) => values,
        Some(Value::String(one)) => vec![Value::String(one)],
        _ => Vec::new(),
    };
    match resolved {
        Some(Value::Array(values)) => all.extend(values.iter().cloned()),
        Some(Value::String(one)) => all.push(Value::String(one.clone())),
        _ => {}
    }
    match all.len() {
        1 => all.remove(0),
        _ => Value::Array(all),
    }
}

/// The `iss` of a verified token.
fn refresh_issuer(token: &str) -> Option<String> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    Ordered::parse(&bytes)?
        .get("iss")?
        .as_str()
        .map(str::to_owned)
}

/// Appends Keycloak's introspection fields to a token's claims.
fn finish(mut metadata: Ordered, azp: &str, user: &User, typ: &str) -> Ordered {
    metadata.set("client_id", json!(azp));
    if metadata.get("username").is_none() {
        let username = metadata
            .get("preferred_username")
            .cloned()
            .unwrap_or_else(|| json!(user.username.as_str()));
        metadata.set("username", username);
    }
    metadata.set("token_type", json!(typ));
    metadata.set("active", json!(true));
    metadata
}
