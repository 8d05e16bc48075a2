//! Issuing tokens: the access token, a refresh token and (for `openid`) an ID token, answered
//! as Keycloak's `AccessTokenResponse` in its key order.

use actix_web::http::header;
use actix_web::HttpResponse;
use serde::Serialize;

use super::claims::{self, Grant, IdClaims, Profile, RefreshClaims, Subject};
use super::OidcError;
use crate::clock;
use crate::crypto::{self, jwt};
use crate::domain::{Client, Realm, User};
use crate::http::Base;
use crate::keyring;
use crate::state::AppState;
use crate::store::sessions::Origin;
use crate::store::tokens::{NewToken, TokenKind};
use crate::store::{self};

/// The token endpoint's answer, keys in Keycloak's order.
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    access_token: String,
    expires_in: i64,
    refresh_expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    token_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id_token: Option<String>,
    #[serde(rename = "not-before-policy")]
    not_before_policy: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_state: Option<String>,
    scope: String,
}

impl TokenResponse {
    /// The 200 answer, uncacheable as RFC 6749 asks.
    pub fn respond(&self) -> HttpResponse {
        HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .insert_header((header::PRAGMA, "no-cache"))
            .json(self)
    }
}

/// Who a token is for and what was asked.
pub struct Request<'a> {
    pub realm: &'a Realm,
    pub base: &'a Base,
    pub client: &'a Client,
    pub user: &'a User,
    pub subject: Subject<'a>,
    /// When the session began; tokens never outlive its maximum lifespan.
    pub session_started: i64,
    pub requested_scope: Option<&'a str>,
    pub nonce: Option<String>,
    /// The caller's address and user agent, recorded with a refresh token.
    pub origin: Origin<'a>,
}

/// Whether the client gets a refresh token: Keycloak's `use.refresh.tokens` (on unless
/// "false"), and for a service account `client_credentials.use_refresh_token` (off unless
/// "true").
pub fn wants_refresh(client: &Client, service_account: bool) -> bool {
    let attribute = |name: &str| client.attributes.get(name).map(String::as_str);
    let refresh = attribute("use.refresh.tokens") != Some("false");
    if service_account {
        refresh && attribute("client_credentials.use_refresh_token") == Some("true")
    } else {
        refresh
    }
}

/// A positive number of seconds a client attribute sets, if any.
fn client_limit(client: &Client, name: &str) -> Option<i64> {
    client
        .attributes
        .get(name)
        .and_then(|v| v.trim().parse::<i64>().ok())
        .filter(|seconds| *seconds > 0)
}

/// Issues the tokens of `request`.
pub async fn issue(state: &AppState, request: Request<'_>) -> Result<TokenResponse, OidcError> {
    let Request {
        realm,
        base,
        client,
        user,
        subject,
        session_started,
        requested_scope,
        nonce,
        origin,
    } = request;
    let now = state.clock.now_secs();
    // Keycloak's client session limits (`client.session.max.lifespan`,
    // `client.session.idle.timeout`) shorten the realm's when a client sets them.
    let session_end = clock::expiry(session_started, realm.sso_session_max_lifespan).min(
        client_limit(client, "client.session.max.lifespan")
            .map_or(i64::MAX, |max| clock::expiry(session_started, max)),
    );
    let lifespan = claims::access_lifespan(realm, client);
    let exp = if lifespan < 0 {
        session_end
    } else {
        clock::expiry(now, lifespan).min(session_end)
    };
    let roles = store::roles::effective_roles(state.db.read(), &user.id).await?;
    let scope = super::scope::effective(requested_scope);
    let issuer = base.issuer(realm.name.as_str());
    let (session_id, sso, auth_time, refresh) = match subject {
        Subject::Session {
            id, sso, auth_time, ..
        } => (id, sso, auth_time, wants_refresh(client, false)),
        Subject::ServiceAccount {
            session_id,
            refreshable,
            ..
        } => (session_id, false, None, refreshable),
    };
    let access = claims::access_claims(
        &Grant {
            realm,
            issuer: issuer.clone(),
            user,
            client,
            subject,
            scope: &scope,
            nonce: nonce.clone(),
            roles: &roles,
            exp,
        },
        now,
    );
    let access_key = (state.keyring)
        .for_client(&state.db, realm, client, keyring::ACCESS_TOKEN_ALG)
        .await?;
    let access_token = jwt::sign(&access, &access_key, jwt::HeaderKind::Plain)?;

    let mut response = TokenResponse {
        access_token,
        expires_in: exp - now,
        refresh_expires_in: 0,
        refresh_token: None,
        token_type: "Bearer",
        id_token: None,
        not_before_policy: 0,
        session_state: access.sid.clone(),
        scope,
    };
    if refresh {
        let idle = client_limit(client, "client.session.idle.timeout")
            .map_or(realm.sso_session_idle_timeout, |idle| {
                idle.min(realm.sso_session_idle_timeout)
            });
        let refresh_exp = clock::expiry(now, idle).min(session_end);
        // Shaped like Keycloak's (a JWT of `typ` Refresh, which some clients read); what makes
        // it unguessable is the random `jti`, and it is looked up by its digest like any token.
        let claims = RefreshClaims {
            exp: refresh_exp,
            iat: now,
            jti: crypto::random_token(),
            iss: issuer.clone(),
            aud: issuer.clone(),
            sub: user.id.to_string(),
            typ: "Refresh".into(),
            azp: client.client_id.to_string(),
            nonce: nonce.clone(),
            sid: access.sid.clone(),
            scope: response.scope.clone(),
        };
        // Refresh tokens are read only by keywarden itself: the realm's RS256 key signs them.
        let keys = state.keyring.get(&state.db, &realm.id).await?;
        let token = jwt::sign(&claims, keys.active()?, jwt::HeaderKind::Plain)?;
        store::tokens::insert(
            state.db.write(),
            &NewToken {
                realm_id: &realm.id,
                user_id: &user.id,
                client_id: &client.id,
                session_id: Some(session_id),
                token_hash: &crypto::token_digest(&token),
                kind: TokenKind::Refresh,
                origin,
                expires_at: refresh_exp,
                sso,
                auth_time,
            },
        )
        .await?;
        response.refresh_expires_in = refresh_exp - now;
        response.refresh_token = Some(token);
    }
    if response.scope.split_whitespace().any(|s| s == "openid") {
        let id = IdClaims {
            exp,
            iat: now,
            auth_time: access.auth_time,
            jti: uuid::Uuid::new_v4().to_string(),
            iss: issuer,
            aud: client.client_id.to_string(),
            sub: user.id.to_string(),
            typ: "ID".into(),
            azp: client.client_id.to_string(),
            nonce,
            sid: access.sid.clone(),
            at_hash: claims::at_hash(&response.access_token),
            acr: access.acr.clone(),
            profile: Profile::of(user),
        };
        let id_key = (state.keyring)
            .for_client(&state.db, realm, client, keyring::ID_TOKEN_ALG)
            .await?;
        response.id_token = Some(jwt::sign(&id, &id_key, jwt::HeaderKind::Plain)?);
    }
    Ok(response)
}
