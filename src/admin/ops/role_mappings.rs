//! Role mappings of users and groups as Keycloak's `RoleMapperResource` and
//! `ClientRoleMappingsResource` serve them: all mappings at once, realm or client roles
//! mapped directly, in effect (`composite`) or still mappable (`available`).
//!
//! Mapping or unmapping a role needs `manage-users` and every power the role carries; a user's
//! mappings change only if the actor also holds every power the user has.

use std::collections::HashSet;

use super::access::{authorize, Actor, Granted, ManageUsers, Powers, Right, ViewUsers};
use super::audited::{Change, Operation};
use super::OpsError;
use crate::admin::repr::RoleRepr;
use crate::domain::{Client, ClientUuid, GroupId, Role, RoleId, UserId};
use crate::state::AppState;
use crate::store;

/// Whose mappings: a user's or a group's (by id).
#[derive(Debug, Clone, Copy)]
pub enum MapperAt<'a> {
    User(&'a str),
    Group(&'a str),
}

#[derive(Debug, Clone)]
enum Mapper {
    User(UserId),
    Group(GroupId),
}

/// Which roles of a realm or client to answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Mapped directly.
    Direct,
    /// Held in effect: through groups, parent groups and composites too.
    Effective,
    /// Not mapped directly, and mappable by the caller.
    Available,
}

/// Every direct mapping: realm roles, and per client its roles.
#[derive(Debug, Clone, Default)]
pub struct Mappings {
    pub realm: Vec<(Role, bool)>,
    pub clients: Vec<(Client, Vec<(Role, bool)>)>,
}

/// The most roles one request maps or unmaps.
pub const MAX_ROLES: usize = 1000;

async fn mapper<R: Right + super::access::SeesUsers>(
    state: &AppState,
    granted: &Granted<R>,
    at: MapperAt<'_>,
) -> Result<Mapper, OpsError> {
    Ok(match at {
        MapperAt::User(id) => Mapper::User(super::users::find(state, granted, id).await?.id),
        MapperAt::Group(id) => Mapper::Group(super::groups::find(state, granted, id).await?.id),
    })
}

async fn direct(state: &AppState, mapper: &Mapper) -> Result<Vec<Role>, OpsError> {
    let db = state.db.read();
    Ok(match mapper {
        Mapper::User(id) => store::roles::user_mappings(db, id).await?,
        Mapper::Group(id) => store::roles::group_mappings(db, id).await?,
    })
}

async fn effective(state: &AppState, mapper: &Mapper) -> Result<Vec<Role>, OpsError> {
    let db = state.db.read();
    Ok(match mapper {
        Mapper::User(id) => store::roles::user_effective(db, id).await?,
        Mapper::Group(id) => store::roles::group_effective(db, id).await?,
    })
}

/// The client of the realm named by internal id, as role mappings look it up.
async fn client_of<R: Right>(
    state: &AppState,
    granted: &Granted<R>,
    id: &str,
) -> Result<Client, OpsError> {
    let id = ClientUuid::parse(id).ok_or(OpsError::NotFound("Client"))?;
    store::clients::find_by_id(state.db.read(), &granted.realm().id, &id)
        .await?
        .ok_or(OpsError::NotFound("Client"))
}

fn flagged(roles: Vec<Role>, composites: &HashSet<RoleId>) -> Vec<(Role, bool)> {
    roles
        .into_iter()
        .map(|r| {
            let composite = composites.contains(&r.id);
            (r, composite)
        })
        .collect()
}

/// Every role mapped directly, realm roles apart from each client's.
pub async fn all(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    at: MapperAt<'_>,
) -> Result<Mappings, OpsError> {
    let granted = authorize::<ViewUsers>(state, actor, realm).await?;
    let mapper = mapper(state, &granted, at).await?;
    let composites = store::roles::composite_ids(state.db.read(), &granted.realm().id).await?;
    let mut mappings = Mappings::default();
    for (role, composite) in flagged(direct(state, &mapper).await?, &composites) {
        let Some(client) = role.client_id.clone() else {
            mappings.realm.push((role, composite));
            continue;
        };
        match mappings.clients.iter_mut().find(|(c, _)| c.id == client) {
            Some((_, roles)) => roles.push((role, composite)),
            None => {
                let Some(found) =
                    store::clients::find_by_id(state.db.read(), &granted.realm().id, &client)
                        .await?
                else {
                    continue;
                };
                mappings.clients.push((found, vec![(role, composite)]));
            }
        }
    }
    Ok(mappings)
}

/// The realm roles (`client` None) or one client's roles in the `view` asked for.
pub async fn roles(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    at: MapperAt<'_>,
    client: Option<&str>,
    view: View,
) -> Result<Vec<(Role, bool)>, OpsError> {
    let granted = authorize::<ViewUsers>(state, actor, realm).await?;
    let mapper = mapper(state, &granted, at).await?;
    let client = match client {
        Some(id) => Some(client_of(state, &granted, id).await?.id),
        None => None,
    };
    let db = state.db.read();
    let composites = store::roles::composite_ids(db, &granted.realm().id).await?;
    let of_container = |r: &Role| r.client_id == client;
    let roles = match view {
        View::Direct => direct(state, &mapper).await?,
        View::Effective => effective(state, &mapper).await?,
        View::Available => {
            let mapped: HashSet<RoleId> = direct(state, &mapper)
                .await?
                .into_iter()
                .map(|r| r.id)
                .collect();
            let candidates = match &client {
                Some(client) => store::roles::list_client_roles(db, client).await?,
                None => store::roles::list_realm_roles(db, &granted.realm().id).await?,
            };
            let mut available = Vec::new();
            if granted.also::<ManageUsers>().is_none() {
                return Ok(Vec::new());
            }
            for role in candidates.into_iter().filter(|r| !mapped.contains(&r.id)) {
                if granted.actor().covers(
                    &granted.realm().id,
                    &powers_of(state, &granted, &role).await?,
                ) {
                    available.push(role);
                }
            }
            available
        }
    };
    Ok(flagged(
        roles.into_iter().filter(of_container).collect(),
        &composites,
    ))
}

async fn powers_of<R: Right>(
    state: &AppState,
    granted: &Granted<R>,
    role: &Role,
) -> Result<Powers, OpsError> {
    let roles = store::roles::role_effective_roles(state.db.read(), &role.id).await?;
    Ok(Powers::of(&roles, granted.in_master()))
}

/// Maps (`add`) or unmaps realm roles (`client` None) or one client's roles. The roles are
/// named by id or name; no list at all unmaps every role of that realm or client.
pub async fn change(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    at: MapperAt<'_>,
    client: Option<&str>,
    body: Option<&[RoleRepr]>,
    add: bool,
) -> Result<(), OpsError> {
    if body.is_some_and(|b| b.len() > MAX_ROLES) {
        return Err(OpsError::Invalid(format!(
            "At most {MAX_ROLES} roles at once"
        )));
    }
    let granted = authorize::<ManageUsers>(state, actor, realm).await?;
    let mapper = match at {
        MapperAt::User(id) => {
            Mapper::User(super::users::find_to_manage(state, &granted, id).await?.id)
        }
        MapperAt::Group(id) => Mapper::Group(super::groups::find(state, &granted, id).await?.id),
    };
    let client = match client {
        Some(id) => Some(client_of(state, &granted, id).await?),
        None => None,
    };
    let roles = match body {
        Some(refs) => {
            let mut roles = Vec::with_capacity(refs.len());
            for r in refs {
                roles.push(resolve(state, &granted, client.as_ref(), r).await?);
            }
            roles
        }
        None => direct(state, &mapper)
            .await?
            .into_iter()
            .filter(|r| r.client_id == client.as_ref().map(|c| c.id.clone()))
            .collect(),
    };
    let mut tx = granted.begin(state).await?;
    if let Mapper::User(user) = &mapper {
        tx.require_covers(user).await?;
    }
    for role in &roles {
        granted.require_covers(&super::users::role_powers(tx.conn(), &granted, role).await?)?;
        match (&mapper, add) {
            (Mapper::User(u), true) => store::roles::grant_to_user(tx.conn(), u, &role.id).await?,
            (Mapper::User(u), false) => {
                store::roles::revoke_from_user(tx.conn(), u, &role.id).await?
            }
            (Mapper::Group(g), true) => {
                store::roles::grant_to_group(tx.conn(), g, &role.id).await?
            }
            (Mapper::Group(g), false) => {
                store::roles::revoke_from_group(tx.conn(), g, &role.id).await?
            }
        }
    }
    let (owner, id) = match &mapper {
        Mapper::User(u) => ("users", u.to_string()),
        Mapper::Group(g) => ("groups", g.to_string()),
    };
    let (kind, path) = match &client {
        Some(c) => (
            "CLIENT_ROLE_MAPPING",
            format!("{owner}/{id}/role-mappings/clients/{}", c.id),
        ),
        None => (
            "REALM_ROLE_MAPPING",
            format!("{owner}/{id}/role-mappings/realm"),
        ),
    };
    let operation = if add {
        Operation::Create
    } else {
        Operation::Delete
    };
    let reprs: Vec<RoleRepr> = roles.iter().map(|r| RoleRepr::of(r, false)).collect();
    tx.commit(Change::new(operation, kind, path).with(&reprs))
        .await?;
    Ok(())
}

/// A role of the realm (or of `client`) named by id, or by name when no id matches.
async fn resolve<R: Right>(
    state: &AppState,
    granted: &Granted<R>,
    client: Option<&Client>,
    wanted: &RoleRepr,
) -> Result<Role, OpsError> {
    let db = state.db.read();
    let container = client.map(|c| c.id.clone());
    if let Some(id) = wanted.id.as_deref().and_then(RoleId::parse) {
        if let Some(role) = store::roles::find_by_id(db, &granted.realm().id, &id).await? {
            if role.client_id == container {
                return Ok(role);
            }
        }
    }
    let found = match (wanted.name.as_deref(), client) {
        (Some(name), Some(client)) => store::roles::find_client_role(db, &client.id, name).await?,
        (Some(name), None) => store::roles::find_realm_role(db, &granted.realm().id, name).await?,
        (None, _) => None,
    };
    found.ok_or(OpsError::NotFound("Role"))
}
