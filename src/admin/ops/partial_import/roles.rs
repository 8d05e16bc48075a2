//! The roles of a partial import: realm roles, then client roles (`roles.client`, keyed by
//! clientId), each added, skipped or overwritten, then the composites of every role added or
//! overwritten, once all of them exist (an overwritten role's parts are replaced, as
//! Keycloak's delete-and-recreate leaves only the new ones).

use std::collections::HashMap;

use super::existing::{Existing, Imported};
use super::{client_roles, realm_roles, ImportResults, PartialImportRepr};
use crate::admin::ops::access::Actor;
use crate::admin::ops::role_composites::{self, Children, MAX_CHILDREN};
use crate::admin::ops::role_edits::{self, RoleAt};
use crate::admin::ops::{clients, roles, OpsError};
use crate::admin::repr::RoleRepr;
use crate::state::AppState;

/// Refuses, before anything is written, a composite naming a role that neither exists nor is
/// imported, in Keycloak's words, and a role with more parts than one change takes.
pub(super) fn check_composites(
    repr: &PartialImportRepr,
    found: &Existing,
    imported: &Imported,
) -> Result<(), OpsError> {
    let all = realm_roles(repr).chain(client_roles(repr).map(|(_, r)| r));
    for role in all {
        let Some(composites) = &role.composites else {
            continue;
        };
        let parts = composites.realm.iter().flatten().count()
            + composites
                .client
                .iter()
                .flatten()
                .map(|(_, n)| n.len())
                .sum::<usize>();
        if parts > MAX_CHILDREN {
            return Err(OpsError::Invalid(format!(
                "At most {MAX_CHILDREN} roles at once"
            )));
        }
        for name in composites.realm.iter().flatten() {
            if !found.realm_roles.contains_key(name) && !imported.has_realm_role(name) {
                return Err(OpsError::Invalid(format!(
                    "Unable to find composite realm role: {name}"
                )));
            }
        }
        for (client, names) in composites.client.iter().flatten() {
            if !found.client_known(imported, client) {
                return Err(OpsError::Invalid(format!(
                    "App doesn't exist in role definitions: {}",
                    role.name.as_deref().unwrap_or_default()
                )));
            }
            if let Some(name) = names
                .iter()
                .find(|name| !found.client_role_known(imported, client, name))
            {
                return Err(OpsError::Invalid(format!(
                    "Unable to find composite client role: {name}"
                )));
            }
        }
    }
    Ok(())
}

/// A role written by the import whose composites are set once every role exists.
struct Written<'a> {
    id: String,
    repr: &'a RoleRepr,
    overwritten: bool,
}

/// Adds, skips or overwrites the import's realm and client roles, then sets their
/// composites. `clients` maps clientId to internal id, the import's new clients included.
pub(super) async fn import<'a>(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    repr: &'a PartialImportRepr,
    found: &Existing,
    clients: &HashMap<String, String>,
    overwrite: bool,
) -> Result<ImportResults, OpsError> {
    let mut results = ImportResults::default();
    let mut written: Vec<Written<'a>> = Vec::new();
    for role in realm_roles(repr) {
        let name = role.name.as_deref().unwrap_or_default();
        match found.realm_roles.get(name) {
            Some(id) if overwrite => {
                roles::update(state, actor, realm, name, role).await?;
                results.push("OVERWRITTEN", "REALM_ROLE", name, id.clone());
                written.push(Written {
                    id: id.clone(),
                    repr: role,
                    overwritten: true,
                });
            }
            Some(id) => results.push("SKIPPED", "REALM_ROLE", name, id.clone()),
            None => {
                let created = roles::create(state, actor, realm, role).await?;
                results.push("ADDED", "REALM_ROLE", name, created.id.to_string());
                written.push(Written {
                    id: created.id.to_string(),
                    repr: role,
                    overwritten: false,
                });
            }
        }
    }
    for (client_id, role) in client_roles(repr) {
        let name = role.name.as_deref().unwrap_or_default();
        let client = clients.get(client_id).ok_or_else(|| {
            OpsError::Precondition(format!(
                "Can not import client roles for nonexistent client named {client_id}"
            ))
        })?;
        // Keycloak names a client role's result by both names and gives the client's id.
        let result_name = format!("{client_id}-->{name}");
        let key = (client_id.to_owned(), name.to_owned());
        match found.client_roles.get(&key) {
            Some(id) if overwrite => {
                let at = RoleAt::Client { client, name };
                role_edits::update(state, actor, realm, at, role).await?;
                results.push("OVERWRITTEN", "CLIENT_ROLE", &result_name, client.clone());
                written.push(Written {
                    id: id.clone(),
                    repr: role,
                    overwritten: true,
                });
            }
            Some(_) => results.push("SKIPPED", "CLIENT_ROLE", &result_name, client.clone()),
            None => {
                let created = clients::create_role(state, actor, realm, client, role).await?;
                results.push("ADDED", "CLIENT_ROLE", &result_name, client.clone());
                written.push(Written {
                    id: created.id.to_string(),
                    repr: role,
                    overwritten: false,
                });
            }
        }
    }
    for role in &written {
        set_composites(state, actor, realm, clients, role).await?;
    }
    Ok(results)
}

/// Gives the written role exactly the parts its representation names.
async fn set_composites(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    clients: &HashMap<String, String>,
    role: &Written<'_>,
) -> Result<(), OpsError> {
    let at = RoleAt::Id(&role.id);
    if role.overwritten {
        let old: Vec<RoleRepr> = role_composites::list(state, actor, realm, at, Children::All)
            .await?
            .into_iter()
            .map(|(child, _)| by_id(child.id.to_string()))
            .collect();
        if !old.is_empty() {
            role_composites::change(state, actor, realm, at, &old, false).await?;
        }
    }
    let Some(composites) = &role.repr.composites else {
        return Ok(());
    };
    let mut children = Vec::new();
    for name in composites.realm.iter().flatten() {
        let (child, _) = roles::get(state, actor, realm, name).await?;
        children.push(by_id(child.id.to_string()));
    }
    for (client_id, names) in composites.client.iter().flatten() {
        let client = clients
            .get(client_id)
            .ok_or(OpsError::NotFound("Could not find client"))?;
        let of_client = clients::roles(state, actor, realm, client).await?;
        for name in names {
            let (child, _) = of_client
                .iter()
                .find(|(r, _)| &r.name == name)
                .ok_or(OpsError::NotFound("Could not find composite role"))?;
            children.push(by_id(child.id.to_string()));
        }
    }
    if !children.is_empty() {
        role_composites::change(state, actor, realm, at, &children, true).await?;
    }
    Ok(())
}

fn by_id(id: String) -> RoleRepr {
    RoleRepr {
        id: Some(id),
        ..RoleRepr::default()
    }
}
