//! Keycloak's partial import (`POST /admin/realms/{realm}/partialImport`): clients, realm
//! and client roles (with their composites), groups (with their subgroups and role mappings)
//! and users (with their passwords and role mappings) from a representation, each added, skipped or overwritten when one of the
//! same name exists (`ifResourceExists`: FAIL, SKIP or OVERWRITE), answered with Keycloak's
//! results and messages. Each resource goes through the operation the admin API uses for it,
//! with its permission checks, so nobody imports more than they could create by hand. Every
//! refusal Keycloak makes up front (a taken name under FAIL, client roles of a missing
//! client, a composite naming no role) comes before the first write. Overwriting updates the
//! existing resource in place (its id and mappings stay); Keycloak deletes and recreates it.

use serde::{Deserialize, Serialize};

mod existing;
mod groups;
mod roles;
mod users;

use super::access::Actor;
use super::OpsError;
use crate::admin::repr::{ClientRepr, GroupRepr, RoleRepr, RolesRepr, UserRepr};
use crate::state::AppState;
use existing::{Existing, Imported};

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
    fn extend(&mut self, other: ImportResults) {
        self.overwritten += other.overwritten;
        self.added += other.added;
        self.skipped += other.skipped;
        self.results.extend(other.results);
    }

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

/// The import's realm roles.
pub(super) fn realm_roles(repr: &PartialImportRepr) -> impl Iterator<Item = &RoleRepr> {
    repr.roles.iter().flat_map(|r| r.realm.iter().flatten())
}

/// The import's client roles, with the clientId each belongs to.
pub(super) fn client_roles(repr: &PartialImportRepr) -> impl Iterator<Item = (&str, &RoleRepr)> {
    repr.roles
        .iter()
        .flat_map(|r| r.client.iter().flatten())
        .flat_map(|(client, roles)| roles.iter().map(move |role| (client.as_str(), role)))
}

fn count(repr: &PartialImportRepr) -> usize {
    realm_roles(repr).count()
        + client_roles(repr).count()
        + repr.clients.as_ref().map_or(0, Vec::len)
        + groups::all(repr).count()
        + repr.users.as_ref().map_or(0, Vec::len)
}

/// Every role, client, group and user of the import has a name (Keycloak refuses one
/// without).
fn check_names(repr: &PartialImportRepr) -> Result<(), OpsError> {
    let nameless = |name: Option<&String>| name.is_none_or(|n| n.trim().is_empty());
    let (mut clients, mut groups, mut users) = (
        repr.clients.iter().flatten(),
        groups::all(repr),
        repr.users.iter().flatten(),
    );
    let refusals = [
        (
            realm_roles(repr).any(|r| nameless(r.name.as_ref())),
            "Realm role to import does not have a name",
        ),
        (
            client_roles(repr).any(|(_, r)| nameless(r.name.as_ref())),
            "Client role to import does not have a name",
        ),
        (
            clients.any(|c| nameless(c.client_id.as_ref())),
            "Client to import does not have a clientId",
        ),
        (
            groups.any(|g| nameless(g.name.as_ref())),
            "Group to import does not have a name",
        ),
        (
            users.any(|u| nameless(u.username.as_ref())),
            "User to import does not have a username",
        ),
    ];
    match refusals.into_iter().find(|(refused, _)| *refused) {
        Some((_, message)) => Err(OpsError::Invalid(message.into())),
        None => Ok(()),
    }
}

/// Imports the resources of `repr` into `realm`, in Keycloak's order: clients, roles,
/// groups, users. Every check that can refuse the import is made before the first write.
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
    check_names(repr)?;
    let policy = repr.if_resource_exists.unwrap_or(IfExists::Fail);
    let found = Existing::read(state, actor, realm, repr).await?;
    let imported = Imported::of(repr);
    found.check_role_clients(repr, &imported)?;
    if policy == IfExists::Fail {
        if let Some(message) = found.first_taken(repr) {
            return Err(OpsError::Conflict(message));
        }
    }
    roles::check_composites(repr, &found, &imported)?;
    found.check_mappings(repr, &imported)?;
    let overwrite = policy == IfExists::Overwrite;
    let passwords = users::prepare(state, repr, &found, overwrite).await?;
    let mut results = ImportResults::default();
    let mut clients = found.clients.clone();
    for client in repr.clients.iter().flatten() {
        let name = client.client_id.as_deref().unwrap_or_default();
        match found.clients.get(name) {
            Some(id) if overwrite => {
                let fresh = ClientRepr {
                    id: None,
                    ..client.clone()
                };
                super::clients::update(state, actor, realm, id, &fresh).await?;
                results.push("OVERWRITTEN", "CLIENT", name, id.clone());
            }
            Some(id) => results.push("SKIPPED", "CLIENT", name, id.clone()),
            None => {
                let created = super::clients::create(state, actor, realm, client).await?;
                clients.insert(name.to_owned(), created.id.to_string());
                results.push("ADDED", "CLIENT", name, created.id.to_string());
            }
        }
    }
    let roles = roles::import(state, actor, realm, repr, &found, &clients, overwrite).await?;
    results.extend(roles);
    let groups = groups::import(state, actor, realm, repr, &found, &clients, overwrite).await?;
    results.extend(groups);
    let users = users::import(state, actor, realm, repr, &found, overwrite, passwords).await?;
    results.extend(users);
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
