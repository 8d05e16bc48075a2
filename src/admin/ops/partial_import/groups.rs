//! The groups of a partial import, as Keycloak's `importGroup`: each top-level group added,
//! skipped or overwritten; a group added comes with its subgroups at every depth, and each
//! group written gets the realm and client roles it names.

use std::collections::HashMap;

use super::existing::{group_path, Existing};
use super::{ImportResults, PartialImportRepr};
use crate::admin::ops::access::Actor;
use crate::admin::ops::role_mappings::{self, MapperAt};
use crate::admin::ops::{groups, OpsError};
use crate::admin::repr::{GroupRepr, RoleRepr};
use crate::state::AppState;

/// Every group of the import, subgroups included, at any depth.
pub(super) fn all(repr: &PartialImportRepr) -> impl Iterator<Item = &GroupRepr> {
    let mut stack: Vec<&GroupRepr> = repr.groups.iter().flatten().collect();
    std::iter::from_fn(move || {
        let group = stack.pop()?;
        stack.extend(group.sub_groups.iter().flatten());
        Some(group)
    })
}

/// Adds, skips or overwrites the import's top-level groups. `clients` maps clientId to
/// internal id, the import's new clients included.
pub(super) async fn import(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    repr: &PartialImportRepr,
    found: &Existing,
    clients: &HashMap<String, String>,
    overwrite: bool,
) -> Result<ImportResults, OpsError> {
    let mut results = ImportResults::default();
    for group in repr.groups.iter().flatten() {
        let name = group.name.as_deref().unwrap_or_default();
        match found.groups.get(&group_path(group)) {
            Some(id) if overwrite => {
                groups::update(state, actor, realm, id, group).await?;
                map_roles(state, actor, realm, clients, id, group).await?;
                results.push("OVERWRITTEN", "GROUP", name, id.clone());
            }
            Some(id) => results.push("SKIPPED", "GROUP", name, id.clone()),
            None => {
                let created = groups::create(state, actor, realm, None, group).await?;
                let id = created.id.to_string();
                with_subgroups(state, actor, realm, clients, &id, group).await?;
                results.push("ADDED", "GROUP", name, id);
            }
        }
    }
    Ok(results)
}

/// Gives the new group `id` its roles, then creates its subgroups (and theirs) with theirs.
async fn with_subgroups(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    clients: &HashMap<String, String>,
    id: &str,
    group: &GroupRepr,
) -> Result<(), OpsError> {
    let mut pending = vec![(id.to_owned(), group)];
    while let Some((id, group)) = pending.pop() {
        map_roles(state, actor, realm, clients, &id, group).await?;
        for sub in group.sub_groups.iter().flatten() {
            let child = groups::create(state, actor, realm, Some(&id), sub).await?;
            pending.push((child.id.to_string(), sub));
        }
    }
    Ok(())
}

/// Maps the realm and client roles the group's representation names to the group `id`.
async fn map_roles(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    clients: &HashMap<String, String>,
    id: &str,
    group: &GroupRepr,
) -> Result<(), OpsError> {
    let at = MapperAt::Group(id);
    let by_name = |names: &[String]| -> Vec<RoleRepr> {
        names
            .iter()
            .map(|name| RoleRepr {
                name: Some(name.clone()),
                ..RoleRepr::default()
            })
            .collect()
    };
    if let Some(names) = group.realm_roles.as_deref().filter(|n| !n.is_empty()) {
        role_mappings::change(state, actor, realm, at, None, Some(&by_name(names)), true).await?;
    }
    for (client_id, names) in group.client_roles.iter().flatten() {
        if names.is_empty() {
            continue;
        }
        let client = clients.get(client_id).ok_or(OpsError::NotFound("Client"))?;
        let roles = by_name(names);
        role_mappings::change(state, actor, realm, at, Some(client), Some(&roles), true).await?;
    }
    Ok(())
}
