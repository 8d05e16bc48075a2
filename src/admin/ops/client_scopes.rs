//! Client scopes: the built-in scopes every Keycloak 26 realm is created with, read-only.
//! Their ids are stable (derived from the realm and the scope's name), so a client can list
//! them and come back for one. keywarden's tokens do not depend on them, so writing them is
//! refused in plain words rather than accepted and ignored.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::access::{authorize, visible_realm, Actor, QueryClients, ViewClients};
use super::OpsError;
use crate::domain::{Client, Protocol, Realm};
use crate::state::AppState;

/// What a scope is added to: every new client of its protocol, or offered to them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Default,
    Optional,
    /// Neither: `service_account`, given by default only to clients with a service account.
    ServiceAccount,
}

/// One built-in scope: name, protocol, description, kind and its attributes.
struct Builtin {
    name: &'static str,
    protocol: &'static str,
    description: &'static str,
    kind: Kind,
    attributes: &'static [(&'static str, &'static str)],
}

const OIDC: &str = "openid-connect";
const SAML: &str = "saml";
const IN_TOKEN: (&str, &str) = ("include.in.token.scope", "true");
const NOT_IN_TOKEN: (&str, &str) = ("include.in.token.scope", "false");
const ON_CONSENT: (&str, &str) = ("display.on.consent.screen", "true");
const NOT_ON_CONSENT: (&str, &str) = ("display.on.consent.screen", "false");

const BUILTINS: [Builtin; 15] = [
    Builtin {
        name: "AuthnContextClassRef",
        protocol: SAML,
        description: "AuthnContextClassRef Level of Authentiation",
        kind: Kind::Default,
        attributes: &[],
    },
    Builtin {
        name: "acr",
        protocol: OIDC,
        description:
            "OpenID Connect scope for add acr (authentication context class reference) to the token",
        kind: Kind::Default,
        attributes: &[NOT_IN_TOKEN, NOT_ON_CONSENT],
    },
    Builtin {
        name: "address",
        protocol: OIDC,
        description: "OpenID Connect built-in scope: address",
        kind: Kind::Optional,
        attributes: &[
            IN_TOKEN,
            ("consent.screen.text", "${addressScopeConsentText}"),
            ON_CONSENT,
        ],
    },
    Builtin {
        name: "basic",
        protocol: OIDC,
        description: "OpenID Connect scope for add all basic claims to the token",
        kind: Kind::Default,
        attributes: &[NOT_IN_TOKEN, NOT_ON_CONSENT],
    },
    Builtin {
        name: "email",
        protocol: OIDC,
        description: "OpenID Connect built-in scope: email",
        kind: Kind::Default,
        attributes: &[
            IN_TOKEN,
            ("consent.screen.text", "${emailScopeConsentText}"),
            ON_CONSENT,
        ],
    },
    Builtin {
        name: "microprofile-jwt",
        protocol: OIDC,
        description: "Microprofile - JWT built-in scope",
        kind: Kind::Optional,
        attributes: &[IN_TOKEN, NOT_ON_CONSENT],
    },
    Builtin {
        name: "offline_access",
        protocol: OIDC,
        description: "OpenID Connect built-in scope: offline_access",
        kind: Kind::Optional,
        attributes: &[
            ("consent.screen.text", "${offlineAccessScopeConsentText}"),
            ON_CONSENT,
        ],
    },
    Builtin {
        name: "organization",
        protocol: OIDC,
        description: "Additional claims about the organization a subject belongs to",
        kind: Kind::Optional,
        attributes: &[
            IN_TOKEN,
            ("consent.screen.text", "${organizationScopeConsentText}"),
            ON_CONSENT,
        ],
    },
    Builtin {
        name: "phone",
        protocol: OIDC,
        description: "OpenID Connect built-in scope: phone",
        kind: Kind::Optional,
        attributes: &[
            IN_TOKEN,
            ("consent.screen.text", "${phoneScopeConsentText}"),
            ON_CONSENT,
        ],
    },
    Builtin {
        name: "profile",
        protocol: OIDC,
        description: "OpenID Connect built-in scope: profile",
        kind: Kind::Default,
        attributes: &[
            IN_TOKEN,
            ("consent.screen.text", "${profileScopeConsentText}"),
            ON_CONSENT,
        ],
    },
    Builtin {
        name: "role_list",
        protocol: SAML,
        description: "SAML role list",
        kind: Kind::Default,
        attributes: &[
            ("consent.screen.text", "${samlRoleListScopeConsentText}"),
            ON_CONSENT,
        ],
    },
    Builtin {
        name: "roles",
        protocol: OIDC,
        description: "OpenID Connect scope for add user roles to the access token",
        kind: Kind::Default,
        attributes: &[
            NOT_IN_TOKEN,
            ("consent.screen.text", "${rolesScopeConsentText}"),
            ON_CONSENT,
        ],
    },
    Builtin {
        name: "saml_organization",
        protocol: SAML,
        description: "Organization Membership",
        kind: Kind::Default,
        attributes: &[NOT_ON_CONSENT],
    },
    Builtin {
        name: "service_account",
        protocol: OIDC,
        description: "Specific scope for a client enabled for service accounts",
        kind: Kind::ServiceAccount,
        attributes: &[NOT_IN_TOKEN, NOT_ON_CONSENT],
    },
    Builtin {
        name: "web-origins",
        protocol: OIDC,
        description: "OpenID Connect scope for add allowed web origins to the access token",
        kind: Kind::Default,
        attributes: &[NOT_IN_TOKEN, ("consent.screen.text", ""), NOT_ON_CONSENT],
    },
];

/// Keycloak's ClientScopeRepresentation (without protocol mappers).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientScope {
    pub id: String,
    pub name: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<std::collections::BTreeMap<&'static str, &'static str>>,
    #[serde(skip)]
    pub kind: Kind,
}

/// The answer to every write: the built-in scopes cannot be changed here.
pub const READ_ONLY: &str = "Client scopes are built in and read-only in keywarden";

/// A stable id for a built-in scope of a realm.
fn scope_id(realm: &Realm, name: &str) -> String {
    let digest = Sha256::digest(format!("client-scope:{}:{name}", realm.id).as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

fn full(realm: &Realm, scope: &Builtin) -> ClientScope {
    ClientScope {
        id: scope_id(realm, scope.name),
        name: scope.name,
        description: Some(scope.description),
        protocol: Some(scope.protocol),
        attributes: Some(scope.attributes.iter().copied().collect()),
        kind: scope.kind,
    }
}

/// Only the id, name and protocol, as the realm's default-scope listings give them.
fn brief(scope: ClientScope) -> ClientScope {
    ClientScope {
        description: None,
        attributes: None,
        ..scope
    }
}

/// Only the id and name, as a client's scope listings give them.
fn named(scope: ClientScope) -> ClientScope {
    ClientScope {
        protocol: None,
        ..brief(scope)
    }
}

/// Every built-in scope of the realm; a caller who may only query clients gets none, as in
/// Keycloak.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    realm: &str,
) -> Result<Vec<ClientScope>, OpsError> {
    let queried = authorize::<QueryClients>(state, actor, realm).await?;
    let Some(granted) = queried.also::<ViewClients>() else {
        return Ok(Vec::new());
    };
    Ok(all(granted.realm()))
}

fn all(realm: &Realm) -> Vec<ClientScope> {
    BUILTINS.iter().map(|s| full(realm, s)).collect()
}

/// One built-in scope by id.
pub async fn get(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
) -> Result<ClientScope, OpsError> {
    let granted = authorize::<ViewClients>(state, actor, realm).await?;
    all(granted.realm())
        .into_iter()
        .find(|s| s.id == id)
        .ok_or(OpsError::NotFound("Could not find client scope"))
}

/// The realm's default scopes of `kind` (given to each new client): id, name and protocol.
pub async fn realm_defaults(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    kind: Kind,
) -> Result<Vec<ClientScope>, OpsError> {
    let granted = authorize::<ViewClients>(state, actor, realm).await?;
    Ok(all(granted.realm())
        .into_iter()
        .filter(|s| s.kind == kind)
        .map(brief)
        .collect())
}

/// The built-in scopes of `kind` a client gets: those of its protocol (docker-v2 has none),
/// and `service_account` among the defaults of a client with a service account.
fn of_kind(client: &Client, kind: Kind) -> impl Iterator<Item = &'static Builtin> {
    let protocol = match client.protocol {
        Protocol::OpenIdConnect => Some(OIDC),
        Protocol::DockerV2 => None,
    };
    let service_account = kind == Kind::Default && client.service_accounts_enabled;
    BUILTINS.iter().filter(move |s| {
        Some(s.protocol) == protocol
            && (s.kind == kind || (service_account && s.kind == Kind::ServiceAccount))
    })
}

/// The names of the scopes of `kind` a client gets.
pub fn names_for(client: &Client, kind: Kind) -> Vec<String> {
    of_kind(client, kind).map(|s| s.name.to_owned()).collect()
}

/// A client's scopes of `kind`: the realm's defaults of its protocol (docker-v2 has none).
pub async fn of_client(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    client: &str,
    kind: Kind,
) -> Result<Vec<ClientScope>, OpsError> {
    let granted = authorize::<ViewClients>(state, actor, realm).await?;
    let client = super::clients::find(state, &granted, client).await?;
    Ok(of_kind(&client, kind)
        .map(|s| named(full(granted.realm(), s)))
        .collect())
}

/// Any write to a client scope or a default-scope list: refused, after the caller is known
/// to administer the realm.
pub async fn refuse_write(state: &AppState, actor: &Actor, realm: &str) -> Result<(), OpsError> {
    visible_realm(state, actor, realm).await?;
    Err(OpsError::Invalid(READ_ONLY.into()))
}
