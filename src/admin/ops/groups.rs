//! Group operations: the tree, children, renames, deletion and members.

use super::access::{authorize, Actor, Granted, ManageUsers, Right, ViewUsers};
use super::audited::Change;
use super::OpsError;
use crate::admin::repr::GroupRepr;
use crate::domain::{Group, GroupId, User};
use crate::state::AppState;
use crate::store;
use crate::store::groups::GroupDetails;

fn group_name(raw: Option<&str>) -> Result<String, OpsError> {
    let name = raw.unwrap_or_default().trim();
    if name.is_empty() {
        return Err(OpsError::Invalid("Group name is missing".into()));
    }
    if name.len() > 255 || name.contains('/') {
        return Err(OpsError::Invalid(
            "Group name must be at most 255 characters, without '/'".into(),
        ));
    }
    Ok(name.to_owned())
}

pub(super) async fn find<R: Right>(
    state: &AppState,
    granted: &Granted<R>,
    id: &str,
) -> Result<Group, OpsError> {
    let id = GroupId::parse(id).ok_or(OpsError::NotFound("Could not find group by id"))?;
    store::groups::find_by_id(state.db.read(), &granted.realm().id, &id)
        .await?
        .ok_or(OpsError::NotFound("Could not find group by id"))
}

/// Every group of the realm (callers shape the tree).
pub async fn all(state: &AppState, actor: &Actor, realm: &str) -> Result<Vec<Group>, OpsError> {
    let granted = authorize::<ViewUsers>(state, actor, realm).await?;
    Ok(store::groups::list_all(state.db.read(), &granted.realm().id).await?)
}

/// One group and every group of its realm.
pub async fn get(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
) -> Result<(Group, Vec<Group>), OpsError> {
    let granted = authorize::<ViewUsers>(state, actor, realm).await?;
    let group = find(state, &granted, id).await?;
    let all = store::groups::list_all(state.db.read(), &granted.realm().id).await?;
    Ok((group, all))
}

/// Creates a top-level group, or a child of `parent`.
pub async fn create(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    parent: Option<&str>,
    repr: &GroupRepr,
) -> Result<Group, OpsError> {
    let granted = authorize::<ManageUsers>(state, actor, realm).await?;
    let parent = match parent {
        Some(id) => Some(find(state, &granted, id).await?),
        None => None,
    };
    if let Some(parent) = &parent {
        require_room_below(state, parent).await?;
    }
    let group = Group {
        id: GroupId::new(),
        realm_id: granted.realm().id.clone(),
        parent_id: parent.map(|p| p.id),
        name: group_name(repr.name.as_deref())?,
    };
    let details = details_of(repr, GroupDetails::default())?;
    let mut tx = granted.begin(state).await?;
    store::groups::insert(tx.conn(), &group)
        .await
        .map_err(|e| sibling_conflict(e, &group))?;
    store::groups::set_details(tx.conn(), &group.id, &details).await?;
    tx.commit(Change::create("GROUP", format!("groups/{}", group.id)).with(repr))
        .await?;
    Ok(group)
}

/// The deepest a group may sit (top-level groups are at depth 1). Trees, paths and searches
/// follow every level, so an unbounded chain would make their answers unbounded too.
pub const MAX_DEPTH: usize = 100;

/// Refuses a child of `parent` beyond `MAX_DEPTH`, walking up at most that many parents.
async fn require_room_below(state: &AppState, parent: &Group) -> Result<(), OpsError> {
    let mut above = parent.parent_id.clone();
    for _ in 1..MAX_DEPTH - 1 {
        let Some(id) = above else {
            return Ok(());
        };
        above = store::groups::find_by_id(state.db.read(), &parent.realm_id, &id)
            .await?
            .and_then(|g| g.parent_id);
    }
    match above {
        None => Ok(()),
        Some(_) => Err(OpsError::Invalid(format!(
            "Groups nest at most {MAX_DEPTH} deep"
        ))),
    }
}

fn sibling_conflict(err: store::StoreError, group: &Group) -> OpsError {
    match (err, &group.parent_id) {
        (store::StoreError::Conflict(_), Some(_)) => OpsError::Conflict(format!(
            "Sibling group named '{}' already exists.",
            group.name
        )),
        (other, _) => other.into(),
    }
}

/// The description and attributes `repr` sets, as Keycloak's group update does: the
/// description given (absent clears it), the attributes given (absent keeps `current`'s).
pub(super) fn details_of(
    repr: &GroupRepr,
    current: GroupDetails,
) -> Result<GroupDetails, OpsError> {
    let attributes = match &repr.attributes {
        Some(given) => super::role_edits::checked_attributes(given)?,
        None => current.attributes,
    };
    Ok(GroupDetails {
        description: repr
            .description
            .clone()
            .filter(|d| !d.trim().is_empty())
            .map(|d| d.chars().take(4096).collect()),
        attributes,
    })
}

/// Replaces a group as Keycloak's `PUT` does: the name is required, the description and
/// attributes follow `details_of`; subgroups are left alone.
pub async fn update(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
    repr: &GroupRepr,
) -> Result<(), OpsError> {
    let granted = authorize::<ManageUsers>(state, actor, realm).await?;
    let mut group = find(state, &granted, id).await?;
    if repr
        .id
        .as_deref()
        .is_some_and(|given| given != group.id.to_string())
    {
        return Err(OpsError::Invalid("Invalid group id".into()));
    }
    group.name = group_name(repr.name.as_deref())?;
    let current = store::groups::details_in(state.db.read(), &granted.realm().id)
        .await?
        .remove(&group.id)
        .unwrap_or_default();
    let details = details_of(repr, current)?;
    let mut tx = granted.begin(state).await?;
    store::groups::rename(tx.conn(), &group)
        .await
        .map_err(|e| match e {
            store::StoreError::Conflict(_) => OpsError::Conflict(format!(
                "Sibling group named '{}' already exists.",
                group.name
            )),
            other => other.into(),
        })?;
    store::groups::set_details(tx.conn(), &group.id, &details).await?;
    tx.commit(Change::update("GROUP", format!("groups/{}", group.id)).with(repr))
        .await?;
    Ok(())
}

/// Renames a group (the console's edit), leaving its description and attributes.
pub async fn rename(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
    repr: &GroupRepr,
) -> Result<(), OpsError> {
    let granted = authorize::<ManageUsers>(state, actor, realm).await?;
    let mut group = find(state, &granted, id).await?;
    if repr.name.is_some() {
        group.name = group_name(repr.name.as_deref())?;
    }
    let mut tx = granted.begin(state).await?;
    store::groups::rename(tx.conn(), &group)
        .await
        .map_err(|e| sibling_conflict(e, &group))?;
    tx.commit(Change::update("GROUP", format!("groups/{}", group.id)).with(repr))
        .await?;
    Ok(())
}

pub async fn delete(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
) -> Result<(), OpsError> {
    let granted = authorize::<ManageUsers>(state, actor, realm).await?;
    let group = find(state, &granted, id).await?;
    let mut tx = granted.begin(state).await?;
    store::groups::delete(tx.conn(), &granted.realm().id, &group.id).await?;
    tx.commit(Change::delete("GROUP", format!("groups/{}", group.id)))
        .await?;
    Ok(())
}

pub async fn members(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
    first: i64,
    max: i64,
) -> Result<Vec<User>, OpsError> {
    let granted = authorize::<ViewUsers>(state, actor, realm).await?;
    let group = find(state, &granted, id).await?;
    Ok(
        store::users::members_of(state.db.read(), &group.id, first.max(0), max.clamp(0, 1000))
            .await?,
    )
}
