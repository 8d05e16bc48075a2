//! The claims of Keycloak-style access, ID and refresh tokens, and how they are built.
//!
//! What Keycloak 26's default client scopes put in a token: `basic` (`sub`, `auth_time`),
//! `acr`, `roles` (`realm_access`, `resource_access`, and `aud` by the audience-resolve mapper),
//! `web-origins` (`allowed-origins`), `profile` and `email`; a service account's token also
//! carries the `service_account` scope's `client_id`, `clientHost` and `clientAddress`.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::domain::{Client, Realm, User};
use crate::store::roles::EffectiveRole;

/// A list of role names (`realm_access`, `resource_access.{client}`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct RoleList {
    pub roles: Vec<String>,
}

/// `aud`: a string when there is one audience, an array when there are more (Keycloak's
/// `StringOrArraySerializer`), left out when there is none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Audience(pub Vec<String>);

impl Audience {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, client_id: &str) -> bool {
        self.0.iter().any(|a| a == client_id)
    }
}

impl Serialize for Audience {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0.as_slice() {
            [one] => serializer.serialize_str(one),
            many => many.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Audience {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum OneOrMany {
            One(String),
            Many(Vec<String>),
        }
        Ok(Audience(match OneOrMany::deserialize(deserializer)? {
            OneOrMany::One(one) => vec![one],
            OneOrMany::Many(many) => many,
        }))
    }
}

/// An access token's claims, in the order Keycloak writes them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub exp: i64,
    pub iat: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    pub jti: String,
    pub iss: String,
    #[serde(default, skip_serializing_if = "Audience::is_empty")]
    pub aud: Audience,
    pub sub: String,
    pub typ: String,
    pub azp: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    #[serde(
        default,
        rename = "allowed-origins",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub allowed_origins: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub realm_access: Option<RoleList>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub resource_access: BTreeMap<String, RoleList>,
    pub scope: String,
    #[serde(
        default,
        rename = "clientHost",
        skip_serializing_if = "Option::is_none"
    )]
    pub client_host: Option<String>,
    #[serde(
        default,
        rename = "clientAddress",
        skip_serializing_if = "Option::is_none"
    )]
    pub client_address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(flatten)]
    pub profile: Profile,
}

/// The profile claims shared by access tokens, ID tokens and userinfo.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Profile {
    #[serde(default)]
    pub email_verified: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub preferred_username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl Profile {
    pub fn of(user: &User) -> Profile {
        let name = match (&user.first_name, &user.last_name) {
            (Some(first), Some(last)) => Some(format!("{first} {last}")),
            (Some(one), None) | (None, Some(one)) => Some(one.clone()),
            (None, None) => None,
        };
        Profile {
            email_verified: user.email_verified,
            name,
            preferred_username: user.username.to_string(),
            given_name: user.first_name.clone(),
            family_name: user.last_name.clone(),
            email: user.email.clone(),
        }
    }
}

/// An ID token's claims.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdClaims {
    pub exp: i64,
    pub iat: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    #[serde(flatten)]
    pub profile: Profile,
}

/// A refresh token's claims: Keycloak's `RefreshToken`, addressed to the issuer itself.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshClaims {
    pub exp: i64,
    pub iat: i64,
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
    pub scope: String,
}

/// The grant a user's token comes from, which Keycloak 26 writes as its `jti` prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Password,
    Code,
    Refresh,
}

impl Flow {
    fn jti_prefix(self) -> &'static str {
        match self {
            Flow::Password => "onrtro:",
            Flow::Code => "onrtac:",
            Flow::Refresh => "onrtrt:",
        }
    }
}

/// The sign-in behind a token: a user session, or a service account's client login.
pub enum Subject<'a> {
    /// A user session: its id, when its user authenticated, and whether this client reused
    /// it by single sign-on (Keycloak's `acr` "0") rather than by a fresh login ("1").
    Session {
        id: &'a str,
        /// When credentials were last typed in a browser; none after a password grant.
        auth_time: Option<i64>,
        sso: bool,
        flow: Flow,
    },
    /// A service account's token: the calling host, and session claims only when the client
    /// keeps a session to refresh (Keycloak's session is transient otherwise).
    ServiceAccount {
        session_id: &'a str,
        host: Option<&'a str>,
        refreshable: bool,
    },
}

/// What an access token is issued for.
pub struct Grant<'a> {
    pub realm: &'a Realm,
    pub issuer: String,
    pub user: &'a User,
    pub client: &'a Client,
    pub subject: Subject<'a>,
    pub scope: &'a str,
    pub nonce: Option<String>,
    pub roles: &'a [EffectiveRole],
    /// When the access token expires (see `lifespan`).
    pub exp: i64,
}

/// The `jti` prefix of a service account's access token, whose session (kept for revocation,
/// never shown as `sid`) follows it; Keycloak prefixes client-credentials tokens the same way.
pub const SERVICE_ACCOUNT_JTI: &str = "trrtcc:";

/// Builds the access token claims for a grant.
pub fn access_claims(grant: &Grant<'_>, now: i64) -> AccessClaims {
    let mut realm_roles = Vec::new();
    let mut resource_access: BTreeMap<String, RoleList> = BTreeMap::new();
    for role in grant.roles {
        match &role.client {
            None => realm_roles.push(role.name.clone()),
            Some(client) => resource_access
                .entry(client.clone())
                .or_default()
                .roles
                .push(role.name.clone()),
        }
    }
    let client_id = grant.client.client_id.as_str();
    // The audience-resolve mapper: every client whose roles the token carries but the caller.
    let aud = Audience(
        resource_access
            .keys()
            .filter(|c| c.as_str() != client_id)
            .cloned()
            .collect(),
    );
    let (jti, sid, auth_time, acr, host) = match grant.subject {
        Subject::Session {
            id,
            auth_time,
            sso,
            flow,
        } => (
            format!("{}{}", flow.jti_prefix(), uuid::Uuid::new_v4()),
            Some(id.to_owned()),
            auth_time,
            if sso { "0" } else { "1" },
            None,
        ),
        Subject::ServiceAccount {
            session_id,
            host,
            refreshable,
        } => (
            format!("{SERVICE_ACCOUNT_JTI}{session_id}"),
            refreshable.then(|| session_id.to_owned()),
            None,
            "1",
            Some(host.unwrap_or_default().to_owned()),
        ),
    };
    AccessClaims {
        exp: grant.exp,
        iat: now,
        auth_time,
        jti,
        iss: grant.issuer.clone(),
        aud,
        sub: grant.user.id.to_string(),
        typ: "Bearer".into(),
        azp: client_id.to_owned(),
        nonce: grant.nonce.clone(),
        sid,
        acr: Some(acr.to_owned()),
        allowed_origins: super::web_origins::allowed(grant.client),
        realm_access: (!realm_roles.is_empty()).then_some(RoleList { roles: realm_roles }),
        resource_access,
        scope: grant.scope.to_owned(),
        client_address: host.clone(),
        client_host: host.clone(),
        client_id: host.map(|_| client_id.to_owned()),
        profile: Profile::of(grant.user),
    }
}

/// The session an access token belongs to: its `sid`, or for a service account's token the
/// session named in its `jti`.
pub fn session_of(claims: &AccessClaims) -> Option<&str> {
    claims
        .sid
        .as_deref()
        .or_else(|| claims.jti.strip_prefix(SERVICE_ACCOUNT_JTI))
}

/// The access token lifespan: the client's `access.token.lifespan` attribute when set,
/// otherwise the realm's; `-1` lives as long as the session may.
pub fn access_lifespan(realm: &Realm, client: &Client) -> i64 {
    client
        .attributes
        .get("access.token.lifespan")
        .and_then(|v| v.trim().parse::<i64>().ok())
        .unwrap_or(realm.access_token_lifespan)
}

/// `at_hash`: the left half of the SHA-256 of the access token, base64url.
pub fn at_hash(access_token: &str) -> String {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(access_token.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_audience_is_a_string_and_several_an_array() {
        let one = Audience(vec!["account".into()]);
        assert_eq!(serde_json::to_string(&one).unwrap(), r#""account""#);
        let two = Audience(vec!["a".into(), "b".into()]);
        assert_eq!(serde_json::to_string(&two).unwrap(), r#"["a","b"]"#);
        let back: Audience = serde_json::from_str(r#""account""#).unwrap();
        assert_eq!(back, one);
    }

    #[test]
    fn empty_role_claims_and_audience_are_left_out() {
        use crate::domain::{ClientIdName, Protocol, RealmName, Username};
        let realm = Realm::new(RealmName::parse("shop").unwrap());
        let user = User::new(realm.id.clone(), Username::parse("ann").unwrap());
        let client = Client::new(
            realm.id.clone(),
            ClientIdName::parse("web").unwrap(),
            Protocol::OpenIdConnect,
        );
        let grant = Grant {
            realm: &realm,
            issuer: "http://kw/realms/shop".into(),
            user: &user,
            client: &client,
            subject: Subject::Session {
                id: "s",
                auth_time: Some(1),
                sso: true,
                flow: Flow::Refresh,
            },
            scope: "email profile",
            nonce: None,
            roles: &[],
            exp: 100,
        };
        let claims = serde_json::to_value(access_claims(&grant, 1)).unwrap();
        for absent in ["aud", "realm_access", "resource_access", "allowed-origins"] {
            assert!(claims.get(absent).is_none(), "{absent}: {claims}");
        }
        assert_eq!(claims["acr"], "0");
        assert_eq!(claims["sid"], "s");
        assert!(claims["jti"].as_str().unwrap().starts_with("onrtrt:"));
    }
}
