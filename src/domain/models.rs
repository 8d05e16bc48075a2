//! The stored shapes of realms, users, clients, roles, groups and keys.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{
    ClientIdName, ClientUuid, EventTypes, GroupId, KeyId, RealmId, RealmName, RoleId, UserId,
    Username,
};

/// A realm and its settings (Keycloak's names and defaults).
#[derive(Debug, Clone)]
pub struct Realm {
    pub id: RealmId,
    pub name: RealmName,
    pub display_name: Option<String>,
    pub enabled: bool,
    pub access_token_lifespan: i64,
    pub sso_session_idle_timeout: i64,
    pub sso_session_max_lifespan: i64,
    pub offline_session_idle_timeout: i64,
    pub brute_force_protected: bool,
    pub permanent_lockout: bool,
    pub failure_factor: i64,
    pub wait_increment_seconds: i64,
    pub max_failure_wait_seconds: i64,
    pub minimum_quick_login_wait_seconds: i64,
    pub quick_login_check_milli_seconds: i64,
    pub max_delta_time_seconds: i64,
    /// Whether login events are stored (Keycloak's `eventsEnabled`).
    pub events_enabled: bool,
    /// Seconds a login event is kept; 0 keeps it until the per-realm bound removes it.
    pub events_expiration: i64,
    /// Which login events are stored (empty: every type).
    pub enabled_event_types: EventTypes,
    /// Whether admin events are stored.
    pub admin_events_enabled: bool,
    /// Whether admin events keep the representation written.
    pub admin_events_details_enabled: bool,
}

impl Realm {
    /// A new realm with Keycloak's defaults.
    pub fn new(name: RealmName) -> Self {
        Realm {
            id: RealmId::new(),
            name,
            display_name: None,
            enabled: true,
            access_token_lifespan: 300,
            sso_session_idle_timeout: 1800,
            sso_session_max_lifespan: 36000,
            offline_session_idle_timeout: 2_592_000,
            brute_force_protected: false,
            permanent_lockout: false,
            failure_factor: 30,
            wait_increment_seconds: 60,
            max_failure_wait_seconds: 900,
            minimum_quick_login_wait_seconds: 60,
            quick_login_check_milli_seconds: 1000,
            max_delta_time_seconds: 43200,
            events_enabled: false,
            events_expiration: 0,
            enabled_event_types: EventTypes::default(),
            admin_events_enabled: false,
            admin_events_details_enabled: false,
        }
    }
}

/// A user of one realm.
#[derive(Debug, Clone)]
pub struct User {
    pub id: UserId,
    pub realm_id: RealmId,
    pub username: Username,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub enabled: bool,
    pub email_verified: bool,
    pub created_timestamp_ms: i64,
    pub attributes: BTreeMap<String, Vec<String>>,
    /// Keycloak's required actions, e.g. `UPDATE_PASSWORD` after a temporary password.
    pub required_actions: Vec<String>,
}

impl User {
    pub fn new(realm_id: RealmId, username: Username) -> Self {
        User {
            id: UserId::new(),
            realm_id,
            username,
            email: None,
            first_name: None,
            last_name: None,
            enabled: true,
            email_verified: false,
            created_timestamp_ms: crate::clock::now_ms(),
            attributes: BTreeMap::new(),
            required_actions: Vec::new(),
        }
    }
}

/// The protocol a client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Protocol {
    #[serde(rename = "openid-connect")]
    OpenIdConnect,
    #[serde(rename = "docker-v2")]
    DockerV2,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::OpenIdConnect => "openid-connect",
            Protocol::DockerV2 => "docker-v2",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "openid-connect" => Some(Protocol::OpenIdConnect),
            "docker-v2" => Some(Protocol::DockerV2),
            _ => None,
        }
    }
}

/// A client application of one realm.
#[derive(Debug, Clone)]
pub struct Client {
    pub id: ClientUuid,
    pub realm_id: RealmId,
    pub client_id: ClientIdName,
    pub name: Option<String>,
    pub description: Option<String>,
    pub protocol: Protocol,
    pub enabled: bool,
    pub public_client: bool,
    pub secret: Option<String>,
    pub root_url: Option<String>,
    pub base_url: Option<String>,
    pub redirect_uris: Vec<String>,
    pub web_origins: Vec<String>,
    pub standard_flow_enabled: bool,
    pub direct_access_grants_enabled: bool,
    pub service_accounts_enabled: bool,
    pub attributes: BTreeMap<String, String>,
    /// A docker-v2 client's repository access policy; `None` grants what is asked.
    pub access_policy: Option<crate::protocol::docker::AccessPolicy>,
}

impl Client {
    /// A new enabled public client with Keycloak's defaults.
    pub fn new(realm_id: RealmId, client_id: ClientIdName, protocol: Protocol) -> Self {
        Client {
            id: ClientUuid::new(),
            realm_id,
            client_id,
            name: None,
            description: None,
            protocol,
            enabled: true,
            public_client: true,
            secret: None,
            root_url: None,
            base_url: None,
            redirect_uris: Vec::new(),
            web_origins: Vec::new(),
            standard_flow_enabled: true,
            direct_access_grants_enabled: true,
            service_accounts_enabled: false,
            attributes: BTreeMap::new(),
            access_policy: None,
        }
    }
}

/// A realm role (`client_id` None) or a client role.
#[derive(Debug, Clone)]
pub struct Role {
    pub id: RoleId,
    pub realm_id: RealmId,
    pub client_id: Option<ClientUuid>,
    pub name: String,
    pub description: Option<String>,
}

/// A group in a realm's group tree.
#[derive(Debug, Clone)]
pub struct Group {
    pub id: GroupId,
    pub realm_id: RealmId,
    pub parent_id: Option<GroupId>,
    pub name: String,
}

/// A realm signing key as stored.
#[derive(Debug, Clone)]
pub struct RealmKey {
    pub id: KeyId,
    pub realm_id: RealmId,
    pub kid: String,
    pub algorithm: String,
    pub status: String,
    pub private_key_der: Vec<u8>,
    pub public_key_der: Vec<u8>,
    pub certificate_der: Vec<u8>,
    pub created_at: i64,
    /// The realm's pre-generated next key of its algorithm: PASSIVE until a rotation.
    pub is_next: bool,
    /// When a scheduled rotation makes this next key ACTIVE.
    pub activates_at: Option<i64>,
}
