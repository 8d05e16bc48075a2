//! Composite roles: the roles a role also grants (`/roles/{name}/composites`,
//! `/clients/{id}/roles/{name}/composites`, `/roles-by-id/{id}/composites`).
//!
//! Adding or removing a child changes what everyone holding the parent may do, so besides the
//! right to change the parent, the actor must hold every power of the parent and of each
//! child: nobody makes a role carry more than they hold. Adding a child also needs the right to
//! change roles of the child's kind, as in Keycloak.

use super::access::Actor;
use super::audited::{Change, Operation};
use super::role_edits::{find_to_manage, find_to_view, ManageRole, RoleAt};
use super::OpsError;
use crate::admin::repr::RoleRepr;
use crate::domain::{ClientUuid, Role, RoleId};
use crate::state::AppState;
use crate::store;

/// The most roles one request adds or removes.
pub const MAX_CHILDREN: usize = 1000;

/// Which of a role's children to list.
#[derive(Debug, Clone, Copy)]
pub enum Children<'a> {
    All,
    Realm,
    /// The roles of one client (its internal id).
    Client(&'a str),
}

/// The role's direct children with whether each is a composite.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    at: RoleAt<'_>,
    which: Children<'_>,
) -> Result<Vec<(Role, bool)>, OpsError> {
    let (realm, role) = find_to_view(state, actor, realm, at).await?;
    let db = state.db.read();
    let client = match which {
        Children::Client(raw) => {
            let id = ClientUuid::parse(raw)
                .ok_or(OpsError::NotFound(super::clients::CLIENT_NOT_FOUND))?;
            store::clients::find_by_id(db, &realm.id, &id)
                .await?
                .ok_or(OpsError::NotFound(super::clients::CLIENT_NOT_FOUND))?;
            Some(id)
        }
        _ => None,
    };
    let composites = store::roles::composite_ids(db, &realm.id).await?;
    Ok(store::roles::composites_of(db, &role.id)
        .await?
        .into_iter()
        .filter(|child| match which {
            Children::All => true,
            Children::Realm => child.client_id.is_none(),
            Children::Client(_) => child.client_id == client,
        })
        .map(|child| {
            let composite = composites.contains(&child.id);
            (child, composite)
        })
        .collect())
}

/// Adds (`add`) or removes the roles named by id in `children` as children of the role.
pub async fn change(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    at: RoleAt<'_>,
    children: &[RoleRepr],
    add: bool,
) -> Result<(), OpsError> {
    if children.len() > MAX_CHILDREN {
        return Err(OpsError::Invalid(format!(
            "At most {MAX_CHILDREN} roles at once"
        )));
    }
    let (grant, role) = find_to_manage(state, actor, realm, at).await?;
    let mut tx = grant.begin(state).await?;
    grant.require_covers(tx.conn(), &role).await?;
    for child in children {
        let child = match child.id.as_deref().and_then(RoleId::parse) {
            Some(id) => store::roles::find_by_id(tx.conn(), &grant.realm().id, &id).await?,
            None => None,
        }
        .ok_or(OpsError::NotFound("Could not find composite role"))?;
        if add && !grant.may_manage_kind_of(&child) {
            return Err(OpsError::Forbidden);
        }
        grant.require_covers(tx.conn(), &child).await?;
        if add {
            store::roles::add_composite(tx.conn(), &role.id, &child.id).await?;
        } else {
            store::roles::remove_composite(tx.conn(), &role.id, &child.id).await?;
        }
    }
    let operation = if add {
        Operation::Create
    } else {
        Operation::Delete
    };
    tx.commit(
        Change::new(
            operation,
            ManageRole::resource_type(&role),
            format!("{}/composites", super::role_edits::path_of(&role)),
        )
        .with(&children),
    )
    .await?;
    Ok(())
}
