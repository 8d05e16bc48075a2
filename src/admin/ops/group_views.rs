//! Groups as Keycloak 26 shows them: brief or full representations with `path`,
//! `subGroupCount`, an empty `subGroups` unless a search builds the hierarchy, the caller's
//! `access`, and (full) description, attributes and role names.

use std::collections::BTreeMap;

use super::access::{authorize, Actor, Granted, ManageUsers, ViewUsers};
use super::OpsError;
use crate::admin::repr::GroupRepr;
use crate::domain::{Group, GroupId};
use crate::state::AppState;
use crate::store;
use crate::store::groups::GroupDetails;

/// Every group of a realm with what its representations need.
pub struct Listing {
    pub all: Vec<Group>,
    details: BTreeMap<GroupId, GroupDetails>,
    access: BTreeMap<&'static str, bool>,
}

/// Which groups a listing answers.
#[derive(Debug, Clone, Default)]
pub struct GroupFilter {
    /// Names containing this (case-insensitive), or equal to it with `exact`.
    pub search: Option<String>,
    pub exact: bool,
    /// `key:value` pairs every answered group's attributes hold.
    pub attributes: Vec<(String, String)>,
}

impl GroupFilter {
    fn active(&self) -> bool {
        self.search.is_some() || !self.attributes.is_empty()
    }

    fn matches(&self, group: &Group, details: Option<&GroupDetails>) -> bool {
        let named = match &self.search {
            Some(s) if self.exact => group.name == *s,
            Some(s) => group.name.to_lowercase().contains(&s.to_lowercase()),
            None => true,
        };
        named
            && self.attributes.iter().all(|(key, value)| {
                details
                    .and_then(|d| d.attributes.get(key))
                    .is_some_and(|values| values.contains(value))
            })
    }
}

/// Loads every group of the realm for a caller who may view users and groups.
pub async fn listing(state: &AppState, actor: &Actor, realm: &str) -> Result<Listing, OpsError> {
    let granted = authorize::<ViewUsers>(state, actor, realm).await?;
    load(state, &granted).await
}

async fn load(state: &AppState, granted: &Granted<ViewUsers>) -> Result<Listing, OpsError> {
    let db = state.db.read();
    let manage = granted.also::<ManageUsers>().is_some();
    let access = BTreeMap::from([
        ("view", true),
        ("viewMembers", true),
        ("manage", manage),
        ("manageMembers", manage),
        ("manageMembership", manage),
    ]);
    Ok(Listing {
        all: store::groups::list_all(db, &granted.realm().id).await?,
        details: store::groups::details_in(db, &granted.realm().id).await?,
        access,
    })
}

impl Listing {
    /// The group with this id (a malformed id is not found).
    pub fn find(&self, id: &str) -> Result<&Group, OpsError> {
        GroupId::parse(id)
            .and_then(|id| self.all.iter().find(|g| g.id == id))
            .ok_or(OpsError::NotFound("Could not find group by id"))
    }

    /// The groups `filter` selects: with no search, the top-level groups; by name.
    pub fn select(&self, filter: &GroupFilter) -> Vec<&Group> {
        self.all
            .iter()
            .filter(|g| {
                if filter.active() {
                    filter.matches(g, self.details.get(&g.id))
                } else {
                    g.parent_id.is_none()
                }
            })
            .collect()
    }

    /// The subgroups of `parent` that `filter` selects, by name.
    pub fn children(&self, parent: &GroupId, filter: &GroupFilter) -> Vec<&Group> {
        self.all
            .iter()
            .filter(|g| g.parent_id.as_ref() == Some(parent))
            .filter(|g| filter.matches(g, self.details.get(&g.id)))
            .collect()
    }

    /// Keycloak's representation of one group, its subgroups left out.
    pub async fn repr(
        &self,
        state: &AppState,
        group: &Group,
        full: bool,
    ) -> Result<GroupRepr, OpsError> {
        let mut repr = GroupRepr::of(group, &self.all, 0);
        let details = self.details.get(&group.id).cloned().unwrap_or_default();
        repr.description = details.description;
        repr.access = Some(self.access.clone());
        if full {
            let mut realm_roles = Vec::new();
            let mut client_roles: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for role in store::roles::group_mappings(state.db.read(), &group.id).await? {
                match &role.client_id {
                    None => realm_roles.push(role.name),
                    Some(client) => {
                        let client =
                            store::clients::find_by_id(state.db.read(), &group.realm_id, client)
                                .await?;
                        if let Some(client) = client {
                            client_roles
                                .entry(client.client_id.to_string())
                                .or_default()
                                .push(role.name);
                        }
                    }
                }
            }
            repr.attributes = Some(details.attributes);
            repr.realm_roles = Some(realm_roles);
            repr.client_roles = Some(client_roles);
        }
        Ok(repr)
    }

    /// The top-level groups leading to `matched`, each holding only the subgroups on the way to
    /// a matched group, as Keycloak answers a search.
    pub async fn hierarchy(
        &self,
        state: &AppState,
        matched: &[&Group],
        full: bool,
    ) -> Result<Vec<GroupRepr>, OpsError> {
        let mut roots: Vec<GroupRepr> = Vec::new();
        for group in matched {
            let mut chain = vec![*group];
            while let Some(parent) = chain
                .last()
                .and_then(|g| g.parent_id.as_ref())
                .and_then(|p| self.all.iter().find(|g| &g.id == p))
            {
                if chain.len() > self.all.len() {
                    break;
                }
                chain.push(parent);
            }
            let mut level = &mut roots;
            for node in chain.iter().rev() {
                let id = node.id.to_string();
                let at = match level.iter().position(|r| r.id.as_deref() == Some(&id)) {
                    Some(at) => at,
                    None => {
                        level.push(self.repr(state, node, full).await?);
                        level.len() - 1
                    }
                };
                level = level[at].sub_groups.get_or_insert_with(Vec::new);
            }
        }
        sort(&mut roots);
        Ok(roots)
    }
}

fn sort(groups: &mut [GroupRepr]) {
    groups.sort_by(|a, b| a.name.cmp(&b.name));
    for group in groups {
        if let Some(children) = group.sub_groups.as_mut() {
            sort(children);
        }
    }
}
