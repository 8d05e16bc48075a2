//! Groups (a tree per realm) and memberships.

use std::collections::BTreeMap;

use super::{sql, Exec};

use super::{conflict_on_unique, from_json, to_json, StoreError};
use crate::domain::{Group, GroupId, RealmId, UserId};

pub async fn insert(db: impl Into<Exec<'_>>, group: &Group) -> Result<(), StoreError> {
    sql!(
        db,
        query!(
            "INSERT INTO app_group (id, realm_id, parent_id, name) VALUES ($1, $2, $3, $4)",
            group.id,
            group.realm_id,
            group.parent_id,
            group.name,
        )
        .execute
    )
    .map_err(conflict_on_unique(format!(
        "Top level group named '{}' already exists.",
        group.name
    )))
    .map(drop)
}

pub async fn find_by_id(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    id: &GroupId,
) -> Result<Option<Group>, StoreError> {
    Ok(sql!(
        db,
        query_as!(
            Group,
            r#"SELECT id AS "id: _", realm_id AS "realm_id: _", parent_id AS "parent_id: _", name
         FROM app_group WHERE id = $1 AND realm_id = $2"#,
            id,
            realm
        )
        .fetch_optional
    )?)
}

/// Every group of the realm (callers build paths and trees from it).
pub async fn list_all(db: impl Into<Exec<'_>>, realm: &RealmId) -> Result<Vec<Group>, StoreError> {
    Ok(sql!(
        db,
        query_as!(
            Group,
            r#"SELECT id AS "id: _", realm_id AS "realm_id: _", parent_id AS "parent_id: _", name
         FROM app_group WHERE realm_id = $1 ORDER BY name"#,
            realm
        )
        .fetch_all
    )?)
}

pub async fn add_member(
    db: impl Into<Exec<'_>>,
    group: &GroupId,
    user: &UserId,
) -> Result<(), StoreError> {
    sql!(
        db,
        query!(
        "INSERT INTO group_membership (user_id, group_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        user,
        group
    )
        .execute
    )?;
    Ok(())
}

pub async fn remove_member(
    db: impl Into<Exec<'_>>,
    group: &GroupId,
    user: &UserId,
) -> Result<(), StoreError> {
    sql!(
        db,
        query!(
            "DELETE FROM group_membership WHERE user_id = $1 AND group_id = $2",
            user,
            group
        )
        .execute
    )?;
    Ok(())
}

/// The full path (`/parent/child`) of a group, given every group of its realm.
pub fn path_of(group: &GroupId, all: &[Group]) -> Option<String> {
    let mut names = Vec::new();
    let mut current = all.iter().find(|g| &g.id == group)?;
    loop {
        names.push(current.name.as_str());
        match &current.parent_id {
            Some(parent) if names.len() <= all.len() => {
                current = all.iter().find(|g| &g.id == parent)?;
            }
            _ => break,
        }
    }
    names.reverse();
    Some(format!("/{}", names.join("/")))
}

pub async fn rename(db: impl Into<Exec<'_>>, group: &Group) -> Result<bool, StoreError> {
    let done = sql!(
        db,
        query!(
            "UPDATE app_group SET name = $1 WHERE id = $2 AND realm_id = $3",
            group.name,
            group.id,
            group.realm_id
        )
        .execute
    )
    .map_err(conflict_on_unique(format!(
        "Top level group named '{}' already exists.",
        group.name
    )))?;
    Ok(done == 1)
}

/// Deletes a group and, through the cascade, its subgroups and memberships.
pub async fn delete(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    id: &GroupId,
) -> Result<bool, StoreError> {
    let done = sql!(
        db,
        query!(
            "DELETE FROM app_group WHERE id = $1 AND realm_id = $2",
            id,
            realm
        )
        .execute
    )?;
    Ok(done == 1)
}

/// What a group carries besides its place in the tree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupDetails {
    pub description: Option<String>,
    pub attributes: BTreeMap<String, Vec<String>>,
}

/// The description and attributes of every group of the realm, by group.
pub async fn details_in(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
) -> Result<BTreeMap<GroupId, GroupDetails>, StoreError> {
    struct Row {
        id: GroupId,
        description: Option<String>,
        attributes: String,
    }
    let rows = sql!(db, query_as!(
        Row,
        r#"SELECT id AS "id: GroupId", description, attributes FROM app_group WHERE realm_id = $1"#,
        realm
    ).fetch_all)?;
    rows.into_iter()
        .map(|row| {
            let details = GroupDetails {
                description: row.description,
                attributes: from_json("app_group.attributes", &row.attributes)?,
            };
            Ok((row.id, details))
        })
        .collect()
}

/// Replaces a group's description and attributes.
pub async fn set_details(
    db: impl Into<Exec<'_>>,
    group: &GroupId,
    details: &GroupDetails,
) -> Result<(), StoreError> {
    let attributes = to_json(&details.attributes);
    sql!(
        db,
        query!(
            "UPDATE app_group SET description = $1, attributes = $2 WHERE id = $3",
            details.description,
            attributes,
            group
        )
        .execute
    )?;
    Ok(())
}

/// Every membership of the realm's users, as (user, group) pairs.
pub async fn memberships(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
) -> Result<Vec<(UserId, GroupId)>, StoreError> {
    struct Row {
        user_id: UserId,
        group_id: GroupId,
    }
    Ok(sql!(
        db,
        query_as!(
            Row,
            r#"SELECT m.user_id AS "user_id: UserId", m.group_id AS "group_id: GroupId"
         FROM group_membership m JOIN app_group g ON g.id = m.group_id
         WHERE g.realm_id = $1"#,
            realm
        )
        .fetch_all
    )?
    .into_iter()
    .map(|row| (row.user_id, row.group_id))
    .collect())
}
