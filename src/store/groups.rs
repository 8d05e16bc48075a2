//! Groups (a tree per realm) and memberships.

use std::collections::BTreeMap;

use sqlx::SqliteExecutor;

use super::{conflict_on_unique, from_json, to_json, StoreError};
use crate::domain::{Group, GroupId, RealmId, UserId};

pub async fn insert(db: impl SqliteExecutor<'_>, group: &Group) -> Result<(), StoreError> {
    sqlx::query!(
        "INSERT INTO app_group (id, realm_id, parent_id, name) VALUES (?, ?, ?, ?)",
        group.id,
        group.realm_id,
        group.parent_id,
        group.name,
    )
    .execute(db)
    .await
    .map_err(conflict_on_unique(format!(
        "Top level group named '{}' already exists.",
        group.name
    )))
    .map(drop)
}

pub async fn find_by_id(
    db: impl SqliteExecutor<'_>,
    realm: &RealmId,
    id: &GroupId,
) -> Result<Option<Group>, StoreError> {
    Ok(sqlx::query_as!(
        Group,
        r#"SELECT id AS "id: _", realm_id AS "realm_id: _", parent_id AS "parent_id: _", name
         FROM app_group WHERE id = ? AND realm_id = ?"#,
        id,
        realm
    )
    .fetch_optional(db)
    .await?)
}

/// Every group of the realm (callers build paths and trees from it).
pub async fn list_all(
    db: impl SqliteExecutor<'_>,
    realm: &RealmId,
) -> Result<Vec<Group>, StoreError> {
    Ok(sqlx::query_as!(
        Group,
        r#"SELECT id AS "id: _", realm_id AS "realm_id: _", parent_id AS "parent_id: _", name
         FROM app_group WHERE realm_id = ? ORDER BY name"#,
        realm
    )
    .fetch_all(db)
    .await?)
}

pub async fn add_member(
    db: impl SqliteExecutor<'_>,
    group: &GroupId,
    user: &UserId,
) -> Result<(), StoreError> {
    sqlx::query!(
        "INSERT INTO group_membership (user_id, group_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
        user,
        group
    )
    .execute(db)
    .await?;
    Ok(())
}

pub async fn remove_member(
    db: impl SqliteExecutor<'_>,
    group: &GroupId,
    user: &UserId,
) -> Result<(), StoreError> {
    sqlx::query!(
        "DELETE FROM group_membership WHERE user_id = ? AND group_id = ?",
        user,
        group
    )
    .execute(db)
    .await?;
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

pub async fn rename(db: impl SqliteExecutor<'_>, group: &Group) -> Result<bool, StoreError> {
    let done = sqlx::query!(
        "UPDATE app_group SET name = ? WHERE id = ? AND realm_id = ?",
        group.name,
        group.id,
        group.realm_id
    )
    .execute(db)
    .await
    .map_err(conflict_on_unique(format!(
        "Top level group named '{}' already exists.",
        group.name
    )))?;
    Ok(done.rows_affected() == 1)
}

/// Deletes a group and, through the cascade, its subgroups and memberships.
pub async fn delete(
    db: impl SqliteExecutor<'_>,
    realm: &RealmId,
    id: &GroupId,
) -> Result<bool, StoreError> {
    let done = sqlx::query!(
        "DELETE FROM app_group WHERE id = ? AND realm_id = ?",
        id,
        realm
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// What a group carries besides its place in the tree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupDetails {
    pub description: Option<String>,
    pub attributes: BTreeMap<String, Vec<String>>,
}

/// The description and attributes of every group of the realm, by group.
pub async fn details_in(
    db: impl SqliteExecutor<'_>,
    realm: &RealmId,
) -> Result<BTreeMap<GroupId, GroupDetails>, StoreError> {
    let rows = sqlx::query!(
        r#"SELECT id AS "id: GroupId", description, attributes FROM app_group WHERE realm_id = ?"#,
        realm
    )
    .fetch_all(db)
    .await?;
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
    db: impl SqliteExecutor<'_>,
    group: &GroupId,
    details: &GroupDetails,
) -> Result<(), StoreError> {
    let attributes = to_json(&details.attributes);
    sqlx::query!(
        "UPDATE app_group SET description = ?, attributes = ? WHERE id = ?",
        details.description,
        attributes,
        group
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Every membership of the realm's users, as (user, group) pairs.
pub async fn memberships(
    db: impl SqliteExecutor<'_>,
    realm: &RealmId,
) -> Result<Vec<(UserId, GroupId)>, StoreError> {
    Ok(sqlx::query!(
        r#"SELECT m.user_id AS "user_id: UserId", m.group_id AS "group_id: GroupId"
         FROM group_membership m JOIN app_group g ON g.id = m.group_id
         WHERE g.realm_id = ?"#,
        realm
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(|row| (row.user_id, row.group_id))
    .collect())
}
