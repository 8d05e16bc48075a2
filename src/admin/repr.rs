//! Keycloak's JSON representations (RealmRepresentation, UserRepresentation, ...), the input
//! and output of the admin operations. Absent fields are `None` and are left out of output,
//! as Keycloak omits nulls; on update, absent fields leave the stored value alone.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::domain::{setting_ranges, Client, EventTypes, Group, Realm, Role, User};
use crate::protocol::docker::AccessPolicy;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RealmRepr {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub realm: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token_lifespan: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sso_session_idle_timeout: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sso_session_max_lifespan: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offline_session_idle_timeout: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brute_force_protected: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permanent_lockout: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure_factor: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wait_increment_seconds: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_failure_wait_seconds: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum_quick_login_wait_seconds: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quick_login_check_milli_seconds: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_delta_time_seconds: Option<i64>,
    #[serde(
        default,
        deserialize_with = "lenient_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub events_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events_expiration: Option<i64>,
    /// Accepted for Keycloak's exports; keywarden has one listener, its own store.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events_listeners: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled_event_types: Option<Vec<String>>,
    #[serde(
        default,
        deserialize_with = "lenient_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub admin_events_enabled: Option<bool>,
    #[serde(
        default,
        deserialize_with = "lenient_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub admin_events_details_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users: Option<Vec<UserRepr>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clients: Option<Vec<ClientRepr>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<GroupRepr>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<RolesRepr>,
    /// The composite role every user of the realm holds (`default-roles-{realm}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_role: Option<RoleRepr>,
    /// Keycloak 12 and older: the realm roles new users get, instead of `defaultRole`.
    #[serde(default, skip_serializing)]
    pub default_roles: Option<Vec<String>>,
    /// Every other field of Keycloak's representation, kept as it came (see migration 0012).
    #[serde(flatten)]
    pub kept: Map<String, Value>,
}

/// The `roles` of a realm export: realm roles, and client roles by clientId.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RolesRepr {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub realm: Option<Vec<RoleRepr>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<BTreeMap<String, Vec<RoleRepr>>>,
}

impl RealmRepr {
    pub fn of(realm: &Realm) -> RealmRepr {
        RealmRepr {
            id: Some(realm.id.to_string()),
            realm: Some(realm.name.to_string()),
            display_name: realm.display_name.clone(),
            enabled: Some(realm.enabled),
            access_token_lifespan: Some(realm.access_token_lifespan),
            sso_session_idle_timeout: Some(realm.sso_session_idle_timeout),
            sso_session_max_lifespan: Some(realm.sso_session_max_lifespan),
            offline_session_idle_timeout: Some(realm.offline_session_idle_timeout),
            brute_force_protected: Some(realm.brute_force_protected),
            permanent_lockout: Some(realm.permanent_lockout),
            failure_factor: Some(realm.failure_factor),
            wait_increment_seconds: Some(realm.wait_increment_seconds),
            max_failure_wait_seconds: Some(realm.max_failure_wait_seconds),
            minimum_quick_login_wait_seconds: Some(realm.minimum_quick_login_wait_seconds),
            quick_login_check_milli_seconds: Some(realm.quick_login_check_milli_seconds),
            max_delta_time_seconds: Some(realm.max_delta_time_seconds),
            events_enabled: Some(realm.events_enabled),
            events_expiration: Some(realm.events_expiration),
            events_listeners: Some(vec![EVENTS_LISTENER.to_owned()]),
            enabled_event_types: Some(realm.enabled_event_types.names()),
            admin_events_enabled: Some(realm.admin_events_enabled),
            admin_events_details_enabled: Some(realm.admin_events_details_enabled),
            users: None,
            clients: None,
            groups: None,
            roles: None,
            default_role: None,
            default_roles: None,
            kept: Map::new(),
        }
    }

    /// Merges the present settings into `realm` (not the name, not the id).
    pub fn apply_settings(&self, realm: &mut Realm) -> Result<(), String> {
        fn positive(name: &str, value: Option<i64>, target: &mut i64) -> Result<(), String> {
            if let Some(v) = value {
                *target = setting_ranges::within(name, v, setting_ranges::range_of(name))?;
            }
            Ok(())
        }
        if let Some(display_name) = &self.display_name {
            realm.display_name = Some(display_name.clone()).filter(|d| !d.trim().is_empty());
        }
        if let Some(enabled) = self.enabled {
            realm.enabled = enabled;
        }
        positive(
            "accessTokenLifespan",
            self.access_token_lifespan,
            &mut realm.access_token_lifespan,
        )?;
        positive(
            "ssoSessionIdleTimeout",
            self.sso_session_idle_timeout,
            &mut realm.sso_session_idle_timeout,
        )?;
        positive(
            "ssoSessionMaxLifespan",
            self.sso_session_max_lifespan,
            &mut realm.sso_session_max_lifespan,
        )?;
        positive(
            "offlineSessionIdleTimeout",
            self.offline_session_idle_timeout,
            &mut realm.offline_session_idle_timeout,
        )?;
        if let Some(v) = self.brute_force_protected {
            realm.brute_force_protected = v;
        }
        if let Some(v) = self.permanent_lockout {
            realm.permanent_lockout = v;
        }
        positive(
            "failureFactor",
            self.failure_factor,
            &mut realm.failure_factor,
        )?;
        positive(
            "waitIncrementSeconds",
            self.wait_increment_seconds,
            &mut realm.wait_increment_seconds,
        )?;
        positive(
            "maxFailureWaitSeconds",
            self.max_failure_wait_seconds,
            &mut realm.max_failure_wait_seconds,
        )?;
        positive(
            "minimumQuickLoginWaitSeconds",
            self.minimum_quick_login_wait_seconds,
            &mut realm.minimum_quick_login_wait_seconds,
        )?;
        positive(
            "quickLoginCheckMilliSeconds",
            self.quick_login_check_milli_seconds,
            &mut realm.quick_login_check_milli_seconds,
        )?;
        positive(
            "maxDeltaTimeSeconds",
            self.max_delta_time_seconds,
            &mut realm.max_delta_time_seconds,
        )?;
        EventsConfigRepr {
            events_enabled: self.events_enabled,
            events_expiration: self.events_expiration,
            events_listeners: None,
            enabled_event_types: self.enabled_event_types.clone(),
            admin_events_enabled: self.admin_events_enabled,
            admin_events_details_enabled: self.admin_events_details_enabled,
        }
        .apply(realm)
    }
}

/// The one event listener keywarden has: its own store, named as Keycloak's default.
pub const EVENTS_LISTENER: &str = "jboss-logging";

/// The longest `eventsExpiration` accepted: ten years, in seconds.
const MAX_EVENTS_EXPIRATION: i64 = 10 * 365 * 86_400;

/// Keycloak's RealmEventsConfigRepresentation (`/admin/realms/{realm}/events/config`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventsConfigRepr {
    #[serde(default, deserialize_with = "lenient_bool")]
    pub events_enabled: Option<bool>,
    #[serde(default)]
    pub events_expiration: Option<i64>,
    #[serde(default)]
    pub events_listeners: Option<Vec<String>>,
    #[serde(default)]
    pub enabled_event_types: Option<Vec<String>>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub admin_events_enabled: Option<bool>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub admin_events_details_enabled: Option<bool>,
}

impl EventsConfigRepr {
    /// The realm's settings; an empty type list is shown as every type keywarden records,
    /// as Keycloak shows its default types.
    pub fn of(realm: &Realm) -> EventsConfigRepr {
        let mut types = realm.enabled_event_types.names();
        if types.is_empty() {
            types = crate::protocol::login::EVENT_TYPES
                .iter()
                .map(|t| (*t).to_owned())
                .collect();
        }
        EventsConfigRepr {
            events_enabled: Some(realm.events_enabled),
            events_expiration: Some(realm.events_expiration),
            events_listeners: Some(vec![EVENTS_LISTENER.to_owned()]),
            enabled_event_types: Some(types),
            admin_events_enabled: Some(realm.admin_events_enabled),
            admin_events_details_enabled: Some(realm.admin_events_details_enabled),
        }
    }

    /// Merges the present settings into `realm`.
    pub fn apply(&self, realm: &mut Realm) -> Result<(), String> {
        if let Some(enabled) = self.events_enabled {
            realm.events_enabled = enabled;
        }
        match self.events_expiration {
            Some(e) if !(0..=MAX_EVENTS_EXPIRATION).contains(&e) => {
                return Err(format!(
                    "eventsExpiration must be between 0 and {MAX_EVENTS_EXPIRATION} seconds"
                ));
            }
            Some(e) => realm.events_expiration = e,
            None => {}
        }
        if let Some(types) = &self.enabled_event_types {
            realm.enabled_event_types = EventTypes::parse(types)?;
        }
        if let Some(enabled) = self.admin_events_enabled {
            realm.admin_events_enabled = enabled;
        }
        if let Some(enabled) = self.admin_events_details_enabled {
            realm.admin_events_details_enabled = enabled;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CredentialRepr {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing)]
    pub value: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub temporary: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_date: Option<i64>,
    /// A hashed password in Keycloak's stored form: `{"value", "salt", "additionalParameters"}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_data: Option<String>,
    /// `{"hashIterations", "algorithm", "additionalParameters"}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential_data: Option<String>,
    /// The flat hashed form of Keycloak's oldest exports.
    #[serde(default, skip_serializing)]
    pub hashed_salted_value: Option<String>,
    #[serde(default, skip_serializing)]
    pub salt: Option<String>,
    #[serde(default, skip_serializing)]
    pub hash_iterations: Option<i64>,
    #[serde(default, skip_serializing)]
    pub algorithm: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRepr {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub email_verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<BTreeMap<String, Vec<String>>>,
    #[serde(
        default,
        deserialize_with = "lenient_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_timestamp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub totp: Option<bool>,
    /// The clientId of the client this user is the service account of.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_account_client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials: Option<Vec<CredentialRepr>>,
    /// Credential types an admin may disable (output only; keywarden has none).
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub disableable_credential_types: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required_actions: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub realm_roles: Option<Vec<String>>,
    /// Client roles by clientId.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_roles: Option<BTreeMap<String, Vec<String>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_before: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<String>>,
    /// What the caller may do with the user (output only), in Keycloak's key order.
    #[serde(
        skip_deserializing,
        skip_serializing_if = "Option::is_none",
        serialize_with = "user_access_in_keycloak_order"
    )]
    pub access: Option<BTreeMap<&'static str, bool>>,
}

/// The order Keycloak 26 serialises a user's `access` map in (its hash order).
const USER_ACCESS_ORDER: [&str; 6] = [
    "manageGroupMembership",
    "resetPassword",
    "view",
    "mapRoles",
    "impersonate",
    "manage",
];

/// Writes a user's `access` map with Keycloak's keys first, in its order.
fn user_access_in_keycloak_order<S: serde::Serializer>(
    access: &Option<BTreeMap<&'static str, bool>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let Some(access) = access else {
        return serializer.serialize_none();
    };
    let known = USER_ACCESS_ORDER
        .iter()
        .filter_map(|key| access.get_key_value(key));
    let rest = access
        .iter()
        .filter(|(key, _)| !USER_ACCESS_ORDER.contains(key));
    let mut map = serializer.serialize_map(Some(access.len()))?;
    for (key, value) in known.chain(rest) {
        map.serialize_entry(key, value)?;
    }
    map.end()
}

impl UserRepr {
    /// Keycloak's brief representation (`briefRepresentation=true`): attributes only when there
    /// are any, no `totp`, `disableableCredentialTypes`, `requiredActions` or `notBefore`.
    pub fn brief(user: &User) -> UserRepr {
        UserRepr {
            attributes: Some(user.attributes.clone()).filter(|a| !a.is_empty()),
            id: Some(user.id.to_string()),
            username: Some(user.username.to_string()),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            email: user.email.clone(),
            email_verified: Some(user.email_verified),
            enabled: Some(user.enabled),
            created_timestamp: Some(user.created_timestamp_ms),
            ..UserRepr::default()
        }
    }

    /// Keycloak's full representation: attributes only when there are any, `totp`,
    /// `disableableCredentialTypes`, `requiredActions` and `notBefore`.
    pub fn full(user: &User) -> UserRepr {
        UserRepr {
            required_actions: Some(user.required_actions.clone()),
            totp: Some(false),
            not_before: Some(0),
            disableable_credential_types: Some(Vec::new()),
            ..UserRepr::brief(user)
        }
    }

    /// The full representation with what the caller may do with the user.
    pub fn admin(user: &User, access: BTreeMap<&'static str, bool>) -> UserRepr {
        UserRepr {
            access: Some(access),
            ..UserRepr::full(user)
        }
    }

    /// Brief when `brief`, else full: the member listings of roles and groups.
    pub fn listed(user: &User, brief: bool) -> UserRepr {
        if brief {
            UserRepr::brief(user)
        } else {
            UserRepr::full(user)
        }
    }

    pub fn of(user: &User) -> UserRepr {
        UserRepr {
            id: Some(user.id.to_string()),
            username: Some(user.username.to_string()),
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            email: user.email.clone(),
            email_verified: Some(user.email_verified),
            enabled: Some(user.enabled),
            created_timestamp: Some(user.created_timestamp_ms),
            attributes: Some(user.attributes.clone()),
            required_actions: Some(user.required_actions.clone()),
            totp: Some(false),
            not_before: Some(0),
            ..UserRepr::default()
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientRepr {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub enabled: Option<bool>,
    #[serde(
        default,
        deserialize_with = "lenient_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub public_client: Option<bool>,
    #[serde(
        default,
        deserialize_with = "lenient_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub bearer_only: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub root_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirect_uris: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web_origins: Option<Vec<String>>,
    #[serde(
        default,
        deserialize_with = "lenient_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub standard_flow_enabled: Option<bool>,
    #[serde(
        default,
        deserialize_with = "lenient_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub direct_access_grants_enabled: Option<bool>,
    #[serde(
        default,
        deserialize_with = "lenient_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub service_accounts_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<BTreeMap<String, String>>,
    /// keywarden's docker-v2 repository access policy (absent: allow-all).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub docker_access_policy: Option<AccessPolicy>,
    /// The client scopes given by default (output only).
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub default_client_scopes: Option<Vec<String>>,
    /// The client scopes offered (output only).
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub optional_client_scopes: Option<Vec<String>>,
    /// What the caller may do with the client (output only).
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub access: Option<BTreeMap<&'static str, bool>>,
    /// Keycloak's fields keywarden does not implement, kept by imports (see migration 0012).
    #[serde(flatten)]
    pub kept: Map<String, Value>,
}

impl ClientRepr {
    /// What a caller who may only query clients sees: id, clientId and description.
    pub fn brief(client: &Client) -> ClientRepr {
        ClientRepr {
            id: Some(client.id.to_string()),
            client_id: Some(client.client_id.to_string()),
            description: client.description.clone(),
            ..ClientRepr::default()
        }
    }

    pub fn of(client: &Client) -> ClientRepr {
        ClientRepr {
            id: Some(client.id.to_string()),
            client_id: Some(client.client_id.to_string()),
            name: client.name.clone(),
            description: client.description.clone(),
            protocol: Some(client.protocol.as_str().to_owned()),
            enabled: Some(client.enabled),
            public_client: Some(client.public_client),
            bearer_only: Some(
                client
                    .attributes
                    .get("bearerOnly")
                    .is_some_and(|v| v == "true"),
            ),
            secret: client.secret.clone().filter(|_| !client.public_client),
            root_url: client.root_url.clone(),
            base_url: client.base_url.clone(),
            redirect_uris: Some(client.redirect_uris.clone()),
            web_origins: Some(client.web_origins.clone()),
            standard_flow_enabled: Some(client.standard_flow_enabled),
            direct_access_grants_enabled: Some(client.direct_access_grants_enabled),
            service_accounts_enabled: Some(client.service_accounts_enabled),
            attributes: Some(client.attributes.clone()),
            docker_access_policy: client.access_policy.clone(),
            ..ClientRepr::default()
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleRepr {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub composite: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_role: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub container_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<BTreeMap<String, Vec<String>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub composites: Option<CompositesRepr>,
}

/// The parts of a composite role: realm roles by name, client roles by clientId.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CompositesRepr {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub realm: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<BTreeMap<String, Vec<String>>>,
}

impl RoleRepr {
    /// Keycloak's full representation: the brief one with the attributes.
    pub fn full(
        role: &Role,
        composite: bool,
        attributes: BTreeMap<String, Vec<String>>,
    ) -> RoleRepr {
        RoleRepr {
            attributes: Some(attributes),
            ..RoleRepr::of(role, composite)
        }
    }

    /// Keycloak's brief representation (no attributes).
    pub fn of(role: &Role, composite: bool) -> RoleRepr {
        RoleRepr {
            id: Some(role.id.to_string()),
            name: Some(role.name.clone()),
            description: role.description.clone(),
            composite: Some(composite),
            client_role: Some(role.client_id.is_some()),
            container_id: Some(
                role.client_id
                    .as_ref()
                    .map_or_else(|| role.realm_id.to_string(), |c| c.to_string()),
            ),
            attributes: None,
            composites: None,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupRepr {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_group_count: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_groups: Option<Vec<GroupRepr>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub realm_roles: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attributes: Option<BTreeMap<String, Vec<String>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_roles: Option<BTreeMap<String, Vec<String>>>,
    /// What the caller may do with the group (output only).
    #[serde(skip_deserializing, skip_serializing_if = "Option::is_none")]
    pub access: Option<BTreeMap<&'static str, bool>>,
}

impl GroupRepr {
    /// A group with its path and (when `depth` > 0) its subgroups, from every group of the realm.
    pub fn of(group: &Group, all: &[Group], depth: usize) -> GroupRepr {
        let children: Vec<&Group> = all
            .iter()
            .filter(|g| g.parent_id.as_ref() == Some(&group.id))
            .collect();
        GroupRepr {
            id: Some(group.id.to_string()),
            name: Some(group.name.clone()),
            path: crate::store::groups::path_of(&group.id, all),
            parent_id: group.parent_id.as_ref().map(|p| p.to_string()),
            sub_group_count: Some(children.len() as i64),
            sub_groups: Some(if depth > 0 {
                children
                    .into_iter()
                    .map(|c| GroupRepr::of(c, all, depth - 1))
                    .collect()
            } else {
                Vec::new()
            }),
            ..GroupRepr::default()
        }
    }
}

/// Accepts `true`, `false`, `"true"`, `"True"`, `"false"`, `"False"` (python-keycloak sends
/// Python's spelling) and null.
pub fn lenient_bool<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Bool(bool),
        Text(String),
    }
    match Option::<Raw>::deserialize(deserializer)? {
        None => Ok(None),
        Some(Raw::Bool(b)) => Ok(Some(b)),
        Some(Raw::Text(t)) => match t.to_ascii_lowercase().as_str() {
            "true" => Ok(Some(true)),
            "false" => Ok(Some(false)),
            _ => Err(serde::de::Error::custom(format!(
                "expected a boolean, found \"{t}\""
            ))),
        },
    }
}
