//! Client authentication at the token, introspection, revocation and logout endpoints: HTTP
//! Basic or the `client_id` / `client_secret` form fields.

use actix_web::http::header;
use actix_web::HttpRequest;
use secrecy::{ExposeSecret, SecretString};

use super::form::{field, Form};
use super::OidcError;
use crate::crypto;
use crate::domain::{Client, Protocol, Realm};
use crate::http::basic;
use crate::state::AppState;
use crate::store;

/// How Keycloak words every failed client authentication but a missing `client_id`.
pub const INVALID: &str = "Invalid client or Invalid client credentials";

/// Identifies the client by Basic credentials or the `client_id` field; confidential clients
/// must present their secret (compared in constant time). Failures are worded as Keycloak's
/// client authenticator words them: no client named is 400 `invalid_client`, an unknown or
/// disabled client 401 `invalid_client`, a missing or wrong secret 401 `unauthorized_client`.
pub async fn authenticate_client(
    state: &AppState,
    realm: &Realm,
    req: &HttpRequest,
    form: &Form,
) -> Result<Client, OidcError> {
    let authorization = req.headers().get(header::AUTHORIZATION);
    let from_header = authorization
        .and_then(|v| v.to_str().ok())
        .and_then(basic::parse)
        .map(|c| {
            let id = url::form_urlencoded::parse(format!("a={}", c.username).as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or(c.username);
            (id, Some(c.password))
        });
    let (client_id, secret) = match from_header {
        Some(pair) => pair,
        // Another scheme than Basic and no `client_id`: Keycloak challenges for Basic.
        None if authorization.is_some() && field(form, "client_id").is_none() => {
            return Err(OidcError::BasicChallenge {
                realm: realm.name.to_string(),
            })
        }
        None => {
            let id = field(form, "client_id")
                .ok_or(OidcError::BadClient("Missing client_id parameter"))?;
            (
                id.to_owned(),
                field(form, "client_secret").map(|s| SecretString::from(s.to_owned())),
            )
        }
    };
    let client = store::clients::find_by_client_id(state.db.read(), &realm.id, &client_id)
        .await?
        .filter(|c| c.protocol == Protocol::OpenIdConnect && c.enabled)
        .ok_or(OidcError::InvalidClient(INVALID))?;
    if !client.public_client {
        let expected = client.secret.as_deref().unwrap_or_default();
        let given = secret
            .as_ref()
            .map(|s| s.expose_secret().as_bytes())
            .unwrap_or_default();
        if expected.is_empty() || !crypto::constant_time_eq(expected.as_bytes(), given) {
            return Err(OidcError::ClientUnauthorized(INVALID));
        }
    }
    Ok(client)
}

/// As [`authenticate_client`], but a request naming no client is 401 `invalid_client`, as
/// Keycloak 26.7 answers at the introspection and logout endpoints.
pub async fn authenticate_named_client(
    state: &AppState,
    realm: &Realm,
    req: &HttpRequest,
    form: &Form,
) -> Result<Client, OidcError> {
    match authenticate_client(state, realm, req, form).await {
        Err(OidcError::BadClient(_)) => Err(OidcError::InvalidClient(INVALID)),
        other => other,
    }
}
