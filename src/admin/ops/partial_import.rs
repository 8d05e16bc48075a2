//! Keycloak's partial import (`POST /admin/realms/{realm}/partialImport`): realm roles,
//! clients, top-level groups and users from a representation, each added, skipped or
//! overwritten when one of the same name exists (`ifResourceExists`: FAIL, SKIP or
//! OVERWRITE). Each resource goes through the operation the admin API uses for it, with its
//! permission checks, so nobody imports more than they could create by hand. With FAIL every
//! name is checked before anything is written. Overwriting updates the existing resource in
//! place (its id and mappings stay); Keycloak deletes and recreates it.

use serde::{Deserialize, Serialize};

use super::access::Actor;
use super::OpsError;
use crate::admin::repr::{ClientRepr, GroupRepr, RoleRepr, RolesRepr, UserRepr};
use crate::state::AppState;
use crate::store::users::UserFilter;

/// The largest partial import file read, in bytes.
pub const MAX_BYTES: usize = 4 * 1024 * 1024;
/// The most resources one partial import carries.
pub const MAX_RESOURCES: usize = 2000;

/// What to do with a resource whose name is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum IfExists {
    Fail,
    Skip,
    Overwrite,
}

/// Keycloak's PartialImportRepresentation (what keywarden imports of it).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartialImportRepr {
    #[serde(default)]
    pub if_resource_exists: Option<IfExists>,
    #[serde(default)]
    pub users: Option<Vec<UserRepr>>,
    #[serde(default)]
    pub clients: Option<Vec<ClientRepr>>,
    #[serde(default)]
    pub groups: Option<Vec<GroupRepr>>,
    #[serde(default)]
    pub roles: Option<RolesRepr>,
}

/// One resource's outcome, as Keycloak's PartialImportResult.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportResult {
    pub action: &'static str,
    pub resource_type: &'static str,
    pub resource_name: String,
    pub id: String,
}

/// Keycloak's PartialImportResults.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportResults {
    pub overwritten: usize,
    pub added: usize,
    pub skipped: usize,
    pub results: Vec<ImportResult>,
}

impl ImportResults {
    fn push(&mut self, action: &'static str, resource_type: &'static str, name: &str, id: String) {
        match action {
            "ADDED" => self.added += 1,
            "SKIPPED" => self.skipped += 1,
            _ => self.overwritten += 1,
        }
        self.results.push(ImportResult {
            action,
            resource_type,
            resource_name: name.to_owned(),
            id,
        });
    }
}

/// The ids of the resources of the realm already named as the import's.
struct Existing {
    roles: Vec<(String, String)>,
    clients: Vec<(String, String)>,
    groups: Vec<(String, String)>,
    users: Vec<(String, String)>,
}

fn id_of<'a>(list: &'a [(String, String)], name: &str) -> Option<&'a str> {
    list.iter()
        .find(|(n, _)| n == name)
        .map(|(_, id)| id.as_str())
}

async fn existing(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    repr: &PartialImportRepr,
) -> Result<Existing, OpsError> {
    let mut found = Existing {
        roles: Vec::new(),
        clients: Vec::new(),
        groups: Vec::new(),
        users: Vec::new(),
    };
    if realm_roles(repr).next().is_some() {
        found.roles = super::roles::list(state, actor, realm)
            .await?
            .into_iter()
            .map(|(r, _)| (r.name, r.id.to_string()))
            .collect();
    }
    for client in repr.clients.iter().flatten() {
        let name = client.client_id.as_deref().unwrap_or_default();
        let listing = super::clients::list(state, actor, realm, Some(name), "", 0, 1).await?;
        if let Some(c) = listing.clients.into_iter().next() {
            found.clients.push((name.to_owned(), c.id.to_string()));
        }
    }
    if repr.groups.as_ref().is_some_and(|g| !g.is_empty()) {
        found.groups = super::groups::all(state, actor, realm)
            .await?
            .into_iter()
            .filter(|g| g.parent_id.is_none())
            .map(|g| (g.name, g.id.to_string()))
            .collect();
    }
    for user in repr.users.iter().flatten() {
        let name = user.username.as_deref().unwrap_or_default().to_lowercase();
        let filter = UserFilter {
            username: Some(name.clone()),
            exact: true,
            ..UserFilter::default()
        };
        if let Some(u) = super::users::list(state, actor, realm, &filter, 0, 1)
            .await?
            .into_iter()
            .next()
        {
            found.users.push((name, u.id.to_string()));
        }
    }
    Ok(found)
}

fn realm_roles(repr: &PartialImportRepr) -> impl Iterator<Item = &RoleRepr> {
    repr.roles.iter().flat_map(|r| r.realm.iter().flatten())
}

fn count(repr: &PartialImportRepr) -> usize {
    realm_roles(repr).count()
        + repr.clients.as_ref().map_or(0, Vec::len)
        + repr.groups.as_ref().map_or(0, Vec::len)
        + repr.users.as_ref().map_or(0, Vec::len)
}

/// Every name of the import that is taken, as Keycloak's FAIL refuses it.
fn first_taken(repr: &PartialImportRepr, found: &Existing) -> Option<String> {
    let taken = |list: &[(String, String)], kind: &str, name: &str| {
        id_of(list, name).map(|_| format!("{kind} '{name}' already exists"))
    };
    realm_roles(repr)
        .find_map(|r| {
            taken(
                &found.roles,
                "Realm role",
                r.name.as_deref().unwrap_or_default(),
            )
        })
        .or_else(|| {
            repr.clients.iter().flatten().find_map(|c| {
                taken(
                    &found.clients,
                    "Client",
                    c.client_id.as_deref().unwrap_or_default(),
                )
            })
        })
        .or_else(|| {
            repr.groups.iter().flatten().find_map(|g| {
                taken(
                    &found.groups,
                    "Group",
                    g.name.as_deref().unwrap_or_default(),
                )
            })
        })
        .or_else(|| {
            repr.users.iter().flatten().find_map(|u| {
                let name = u.username.as_deref().unwrap_or_default().to_lowercase();
                taken(&found.users, "User", &name)
            })
        })
}

/// Imports the resources of `repr` into `realm`.
pub async fn import(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    repr: &PartialImportRepr,
) -> Result<ImportResults, OpsError> {
    if count(repr) > MAX_RESOURCES {
        return Err(OpsError::Invalid(format!(
            "A partial import holds at most {MAX_RESOURCES} resources"
        )));
    }
    if repr.roles.as_ref().is_some_and(|r| r.client.is_some()) {
        return Err(OpsError::Invalid(
            "Client roles are imported with their client (clients[].roles is not read): \
             leave out roles.client"
                .into(),
        ));
    }
    let policy = repr.if_resource_exists.unwrap_or(IfExists::Fail);
    let found = existing(state, actor, realm, repr).await?;
    if policy == IfExists::Fail {
        if let Some(message) = first_taken(repr, &found) {
            return Err(OpsError::Conflict(message));
        }
    }
    let mut results = ImportResults::default();
    let overwrite = policy == IfExists::Overwrite;
    for role in realm_roles(repr) {
        let name = role.name.as_deref().unwrap_or_default();
        match id_of(&found.roles, name) {
            Some(id) if overwrite => {
                super::roles::update(state, actor, realm, name, role).await?;
                results.push("OVERWRITTEN", "REALM_ROLE", name, id.to_owned());
            }
            Some(id) => results.push("SKIPPED", "REALM_ROLE", name, id.to_owned()),
            None => {
                let created = super::roles::create(state, actor, realm, role).await?;
                results.push("ADDED", "REALM_ROLE", name, created.id.to_string());
            }
        }
    }
    for client in repr.clients.iter().flatten() {
        let name = client.client_id.as_deref().unwrap_or_default();
        match id_of(&found.clients, name) {
            Some(id) if overwrite => {
                let fresh = ClientRepr {
                    id: None,
                    ..client.clone()
                };
                super::clients::update(state, actor, realm, id, &fresh).await?;
                results.push("OVERWRITTEN", "CLIENT", name, id.to_owned());
            }
            Some(id) => results.push("SKIPPED", "CLIENT", name, id.to_owned()),
            None => {
                let created = super::clients::create(state, actor, realm, client).await?;
                results.push("ADDED", "CLIENT", name, created.id.to_string());
            }
        }
    }
    for group in repr.groups.iter().flatten() {
        let name = group.name.as_deref().unwrap_or_default();
        match id_of(&found.groups, name) {
            Some(id) if overwrite => {
                super::groups::update(state, actor, realm, id, group).await?;
                results.push("OVERWRITTEN", "GROUP", name, id.to_owned());
            }
            Some(id) => results.push("SKIPPED", "GROUP", name, id.to_owned()),
            None => {
                let created = super::groups::create(state, actor, realm, None, group).await?;
                results.push("ADDED", "GROUP", name, created.id.to_string());
            }
        }
    }
    for user in repr.users.iter().flatten() {
        let name = user.username.as_deref().unwrap_or_default().to_lowercase();
        match id_of(&found.users, &name) {
            Some(id) if overwrite => {
                let fresh = UserRepr {
                    id: None,
                    ..user.clone()
                };
                super::users::update(state, actor, realm, id, &fresh).await?;
                results.push("OVERWRITTEN", "USER", &name, id.to_owned());
            }
            Some(id) => results.push("SKIPPED", "USER", &name, id.to_owned()),
            None => {
                let created = super::users::create(state, actor, realm, user).await?;
                results.push("ADDED", "USER", &name, created.id.to_string());
            }
        }
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_reads_as_keycloak_writes_it() {
        let repr: PartialImportRepr = serde_json::from_str(
            r#"{"ifResourceExists": "SKIP", "roles": {"realm": [{"name": "a"}]}}"#,
        )
        .unwrap();
        assert_eq!(repr.if_resource_exists, Some(IfExists::Skip));
        assert_eq!(count(&repr), 1);
        assert!(
            serde_json::from_str::<PartialImportRepr>(r#"{"ifResourceExists": "MAYBE"}"#).is_err()
        );
    }
}
