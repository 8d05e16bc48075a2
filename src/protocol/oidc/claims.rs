//! The claims of Keycloak-style access and ID tokens, and how they are built for a user.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::{Realm, User};
use crate::store::roles::EffectiveRole;

/// A list of role names (`realm_access`, `resource_access.{client}`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct RoleList {
    pub roles: Vec<String>,
}

/// An access token's claims, as Keycloak issues them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub iss: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aud: Vec<String>,
    pub sub: String,
    pub typ: String,
    pub azp: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    pub scope: String,
    #[serde(default)]
    pub realm_access: RoleList,
    #[serde(default)]
    pub resource_access: BTreeMap<String, RoleList>,
    #[serde(flatten)]
    pub profile: Profile,
}

/// The profile claims shared by access tokens, ID tokens and userinfo.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Profile {
    pub preferred_username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default)]
    pub email_verified: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
}

impl Profile {
    pub fn of(user: &User) -> Profile {
        let name = match (&user.first_name, &user.last_name) {
            (Some(first), Some(last)) => Some(format!("{first} {last}")),
            (Some(one), None) | (None, Some(one)) => Some(one.clone()),
            (None, None) => None,
        };
        Profile {
            preferred_username: user.username.to_string(),
            email: user.email.clone(),
            email_verified: user.email_verified,
            name,
            given_name: user.first_name.clone(),
            family_name: user.last_name.clone(),
        }
    }
}

/// An ID token's claims.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdClaims {
    pub exp: i64,
    pub iat: i64,
    pub auth_time: i64,
    pub jti: String,
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub typ: String,
    pub azp: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    pub at_hash: String,
    #[serde(flatten)]
    pub profile: Profile,
}

/// What an access token is issued for.
pub struct Grant<'a> {
    pub realm: &'a Realm,
    pub issuer: String,
    pub user: &'a User,
    pub client_id: &'a str,
    pub session_id: Option<&'a str>,
    pub scope: &'a str,
    pub roles: &'a [EffectiveRole],
}

/// Builds the access token claims for a grant.
pub fn access_claims(grant: &Grant<'_>, now: i64) -> AccessClaims {
    let mut realm_access = RoleList::default();
    let mut resource_access: BTreeMap<String, RoleList> = BTreeMap::new();
    for role in grant.roles {
        match &role.client {
            None => realm_access.roles.push(role.name.clone()),
            Some(client) => resource_access
                .entry(client.clone())
                .or_default()
                .roles
                .push(role.name.clone()),
        }
    }
    let aud = resource_access
        .keys()
        .filter(|c| c.as_str() != grant.client_id)
        .cloned()
        .collect();
    AccessClaims {
        exp: crate::clock::expiry(now, grant.realm.access_token_lifespan),
        iat: now,
        jti: uuid::Uuid::new_v4().to_string(),
        iss: grant.issuer.clone(),
        aud,
        sub: grant.user.id.to_string(),
        typ: "Bearer".into(),
        azp: grant.client_id.to_owned(),
        sid: grant.session_id.map(str::to_owned),
        scope: grant.scope.to_owned(),
        realm_access,
        resource_access,
        profile: Profile::of(grant.user),
    }
}

/// The scope string Keycloak reports: `openid` when asked, then the default `profile email`.
pub fn effective_scope(requested: Option<&str>) -> String {
    let openid = requested.is_some_and(|s| s.split_whitespace().any(|x| x == "openid"));
    if openid {
        "openid profile email".into()
    } else {
        "profile email".into()
    }
}

/// `at_hash`: the left half of the SHA-256 of the access token, base64url.
pub fn at_hash(access_token: &str) -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(access_token.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
}
