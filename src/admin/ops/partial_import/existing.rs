//! What of a partial import the realm already holds, read before anything is written, and the
//! checks Keycloak makes then: client roles need their client, FAIL refuses the first name
//! taken, and every composite names a role that exists or is imported.

use std::collections::{HashMap, HashSet};

use super::{client_roles, groups, realm_roles, PartialImportRepr, MAX_RESOURCES};
use crate::admin::ops::access::Actor;
use crate::admin::ops::role_mappings::MAX_ROLES;
use crate::admin::ops::{clients, roles, users, OpsError};
use crate::admin::repr::GroupRepr;
use crate::state::AppState;
use crate::store::users::UserFilter;

/// The names the import itself brings, looked up in constant time (an import names up to
/// thousands of roles, each perhaps many times).
pub(super) struct Imported<'a> {
    clients: HashSet<&'a str>,
    realm_roles: HashSet<&'a str>,
    client_roles: HashSet<(&'a str, &'a str)>,
}

impl<'a> Imported<'a> {
    /// Whether the import brings the realm role `name`.
    pub fn has_realm_role(&self, name: &str) -> bool {
        self.realm_roles.contains(name)
    }

    pub fn of(repr: &'a PartialImportRepr) -> Imported<'a> {
        Imported {
            clients: repr
                .clients
                .iter()
                .flatten()
                .filter_map(|c| c.client_id.as_deref())
                .collect(),
            realm_roles: realm_roles(repr)
                .filter_map(|r| r.name.as_deref())
                .collect(),
            client_roles: client_roles(repr)
                .filter_map(|(client, r)| Some((client, r.name.as_deref()?)))
                .collect(),
        }
    }
}

/// The ids of the realm's resources that the import names.
#[derive(Debug, Default)]
pub(super) struct Existing {
    /// Realm role name to role id.
    pub realm_roles: HashMap<String, String>,
    /// Whether `realm_roles` was read (an import without roles, by an admin who may not view
    /// the realm, leaves the realm roles its users and groups name to the mapping itself).
    pub realm_roles_read: bool,
    /// clientId to the client's internal id, for the clients the import names.
    pub clients: HashMap<String, String>,
    /// (clientId, role name) to role id, for the clients the import gives roles to.
    pub client_roles: HashMap<(String, String), String>,
    /// Top-level group path (`/name`) to group id.
    pub groups: HashMap<String, String>,
    /// Username (lower case) or email to user id.
    pub users: HashMap<String, String>,
}

/// The path a partial import's group is looked up by: the import's groups are top-level, so
/// `/name` (Keycloak reads the group's `path`, which its exports write so).
pub(super) fn group_path(group: &GroupRepr) -> String {
    format!("/{}", group.name.as_deref().unwrap_or_default())
}

impl Existing {
    /// Reads what the realm holds of the names in `repr`.
    pub async fn read(
        state: &AppState,
        actor: &Actor,
        realm: &str,
        repr: &PartialImportRepr,
    ) -> Result<Existing, OpsError> {
        let mut found = Existing::default();
        // Only what the import touches is read, so that an admin who may create users but
        // not see clients can still import users.
        let has_roles = realm_roles(repr).next().is_some() || client_roles(repr).next().is_some();
        let users = repr.users.iter().flatten();
        let maps_realm_roles = users
            .map(|u| &u.realm_roles)
            .chain(groups::all(repr).map(|g| &g.realm_roles))
            .any(|r| r.as_ref().is_some_and(|r| !r.is_empty()));
        if has_roles || maps_realm_roles {
            match roles::list(state, actor, realm).await {
                Ok(listed) => {
                    found.realm_roles_read = true;
                    found.realm_roles = listed
                        .into_iter()
                        .map(|(r, _)| (r.name, r.id.to_string()))
                        .collect();
                }
                Err(OpsError::Forbidden) if !has_roles => {}
                Err(err) => return Err(err),
            }
        }
        let role_clients = repr.roles.iter().flat_map(|r| r.client.iter().flatten());
        let mut named: HashSet<&str> = role_clients.map(|(client, _)| client.as_str()).collect();
        for role in realm_roles(repr).chain(client_roles(repr).map(|(_, r)| r)) {
            let parts = role
                .composites
                .iter()
                .flat_map(|c| c.client.iter().flatten());
            named.extend(parts.map(|(client, _)| client.as_str()));
        }
        for user in repr.users.iter().flatten() {
            named.extend(user.client_roles.iter().flatten().map(|(c, _)| c.as_str()));
        }
        for group in groups::all(repr) {
            named.extend(group.client_roles.iter().flatten().map(|(c, _)| c.as_str()));
        }
        let imported = repr.clients.iter().flatten();
        let looked_up: HashSet<&str> = imported
            .filter_map(|c| c.client_id.as_deref())
            .chain(named.iter().copied())
            .collect();
        if looked_up.len() > MAX_RESOURCES {
            return Err(OpsError::Invalid(format!(
                "A partial import names at most {MAX_RESOURCES} clients"
            )));
        }
        for client_id in looked_up {
            let listing = clients::list(state, actor, realm, Some(client_id), "", 0, 1).await?;
            if let Some(c) = listing.clients.into_iter().next() {
                found.clients.insert(client_id.to_owned(), c.id.to_string());
            }
        }
        for client_id in named {
            let Some(id) = found.clients.get(client_id).cloned() else {
                continue;
            };
            for (role, _) in clients::roles(state, actor, realm, &id).await? {
                found
                    .client_roles
                    .insert((client_id.to_owned(), role.name), role.id.to_string());
            }
        }
        if repr.groups.as_ref().is_some_and(|g| !g.is_empty()) {
            // The import's groups are top-level: only top-level paths can clash.
            let all = crate::admin::ops::groups::all(state, actor, realm).await?;
            for group in all.into_iter().filter(|g| g.parent_id.is_none()) {
                found
                    .groups
                    .insert(format!("/{}", group.name), group.id.to_string());
            }
        }
        for user in repr.users.iter().flatten() {
            let username = user.username.as_deref().unwrap_or_default().to_lowercase();
            let by_username = UserFilter {
                username: Some(username.clone()),
                ..UserFilter::default()
            };
            let email = user
                .email
                .as_deref()
                .map(str::trim)
                .filter(|e| !e.is_empty());
            let by_email = email.map(|email| {
                let filter = UserFilter {
                    email: Some(email.to_owned()),
                    ..UserFilter::default()
                };
                (email.to_lowercase(), filter)
            });
            for (key, mut filter) in std::iter::once((username, by_username)).chain(by_email) {
                filter.exact = true;
                let listed = users::list(state, actor, realm, &filter, 0, 1).await?;
                if let Some(existing) = listed.into_iter().next() {
                    found.users.insert(key, existing.id.to_string());
                }
            }
        }
        Ok(found)
    }

    /// The id of the user the import's user would clash with: same username, or same email
    /// (keywarden, like Keycloak by default, allows no duplicate emails).
    pub fn user_id(&self, user: &crate::admin::repr::UserRepr) -> Option<&str> {
        let username = user.username.as_deref().unwrap_or_default().to_lowercase();
        self.users
            .get(&username)
            .or_else(|| {
                user.email
                    .as_deref()
                    .map(str::trim)
                    .filter(|e| !e.is_empty())
                    .and_then(|e| self.users.get(&e.to_lowercase()))
            })
            .map(String::as_str)
    }

    /// Whether the client `client_id` exists or is among the import's clients.
    pub fn client_known(&self, imported: &Imported, client_id: &str) -> bool {
        self.clients.contains_key(client_id) || imported.clients.contains(client_id)
    }

    /// Whether the realm role `name` exists (as far as was read) or is imported.
    fn realm_role_known(&self, imported: &Imported, name: &str) -> bool {
        !self.realm_roles_read
            || self.realm_roles.contains_key(name)
            || imported.realm_roles.contains(name)
    }

    /// Whether the role `name` of the client `client_id` exists or is imported.
    pub fn client_role_known(&self, imported: &Imported, client_id: &str, name: &str) -> bool {
        imported.client_roles.contains(&(client_id, name))
            || self
                .client_roles
                .contains_key(&(client_id.to_owned(), name.to_owned()))
    }

    /// Client roles need a client that exists or is imported (Keycloak answers 412).
    pub fn check_role_clients(
        &self,
        repr: &PartialImportRepr,
        imported: &Imported,
    ) -> Result<(), OpsError> {
        let keys = repr.roles.iter().flat_map(|r| r.client.iter().flatten());
        for (client_id, _) in keys {
            if !self.client_known(imported, client_id) {
                return Err(OpsError::Precondition(format!(
                    "Can not import client roles for nonexistent client named {client_id}"
                )));
            }
        }
        Ok(())
    }

    /// Every role a user or group of the import is given exists or is imported, and no
    /// list is longer than one mapping takes, so that nothing is half written.
    pub fn check_mappings(
        &self,
        repr: &PartialImportRepr,
        imported: &Imported,
    ) -> Result<(), OpsError> {
        let users = repr
            .users
            .iter()
            .flatten()
            .map(|u| (&u.realm_roles, &u.client_roles));
        let groups = groups::all(repr).map(|g| (&g.realm_roles, &g.client_roles));
        for (realm, clients) in users.chain(groups) {
            let lists = realm.iter().chain(clients.iter().flat_map(|c| c.values()));
            if lists.into_iter().any(|names| names.len() > MAX_ROLES) {
                return Err(OpsError::Invalid(format!(
                    "At most {MAX_ROLES} roles at once"
                )));
            }
            if let Some(name) = realm
                .iter()
                .flatten()
                .find(|name| !self.realm_role_known(imported, name))
            {
                return Err(OpsError::Invalid(format!("Could not find role '{name}'")));
            }
            for (client_id, names) in clients.iter().flatten() {
                if !self.client_known(imported, client_id) {
                    return Err(OpsError::Invalid(format!(
                        "Unable to find client role mappings for client: {client_id}"
                    )));
                }
                if let Some(name) = names
                    .iter()
                    .find(|name| !self.client_role_known(imported, client_id, name))
                {
                    return Err(OpsError::Invalid(format!(
                        "Could not find role '{name}' of client '{client_id}'"
                    )));
                }
            }
        }
        Ok(())
    }

    /// The first name of the import that is taken, in Keycloak's words and order (clients,
    /// realm roles, client roles, groups, users), for FAIL.
    pub fn first_taken(&self, repr: &PartialImportRepr) -> Option<String> {
        let clients = repr.clients.iter().flatten().find_map(|c| {
            let name = c.client_id.as_deref().unwrap_or_default();
            self.clients
                .contains_key(name)
                .then(|| format!("Client id '{name}' already exists"))
        });
        let realm = || {
            realm_roles(repr).find_map(|r| {
                let name = r.name.as_deref().unwrap_or_default();
                self.realm_roles
                    .contains_key(name)
                    .then(|| format!("Realm role '{name}' already exists."))
            })
        };
        let client = || {
            client_roles(repr).find_map(|(client, r)| {
                let name = r.name.as_deref().unwrap_or_default();
                self.client_roles
                    .contains_key(&(client.to_owned(), name.to_owned()))
                    .then(|| format!("Client role '{name}' for client '{client}' already exists."))
            })
        };
        let group = || {
            repr.groups.iter().flatten().find_map(|g| {
                let path = group_path(g);
                self.groups
                    .contains_key(&path)
                    .then(|| format!("Group '{path}' already exists"))
            })
        };
        let user = || {
            repr.users.iter().flatten().find_map(|u| {
                let name = u.username.as_deref().unwrap_or_default().to_lowercase();
                self.user_id(u)
                    .map(|_| format!("User with user name {name} already exists."))
            })
        };
        clients
            .or_else(realm)
            .or_else(client)
            .or_else(group)
            .or_else(user)
    }
}
