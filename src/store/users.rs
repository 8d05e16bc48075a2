//! Users, their password credentials, role mappings and group memberships.

use std::collections::BTreeMap;

use sqlx::SqliteExecutor;

use super::{conflict_on_unique, from_json, to_json, StoreError};
use crate::domain::{RealmId, User, UserId, Username};

struct UserRow {
    id: UserId,
    realm_id: RealmId,
    username: Username,
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    enabled: bool,
    email_verified: bool,
    created_timestamp_ms: i64,
    attributes: String,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;

    fn try_from(row: UserRow) -> Result<Self, StoreError> {
        Ok(User {
            attributes: from_json::<BTreeMap<String, Vec<String>>>(
                "app_user.attributes",
                &row.attributes,
            )?,
            id: row.id,
            realm_id: row.realm_id,
            username: row.username,
            email: row.email,
            first_name: row.first_name,
            last_name: row.last_name,
            enabled: row.enabled,
            email_verified: row.email_verified,
            created_timestamp_ms: row.created_timestamp_ms,
        })
    }
}

/// Inserts a user; a taken username is a conflict with Keycloak's message.
pub async fn insert(db: impl SqliteExecutor<'_>, user: &User) -> Result<(), StoreError> {
    let attributes = to_json(&user.attributes);
    sqlx::query!(
        "INSERT INTO app_user (id, realm_id, username, email, first_name, last_name, enabled,
            email_verified, created_timestamp_ms, attributes)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        user.id,
        user.realm_id,
        user.username,
        user.email,
        user.first_name,
        user.last_name,
        user.enabled,
        user.email_verified,
        user.created_timestamp_ms,
        attributes,
    )
    .execute(db)
    .await
    .map_err(conflict_on_unique("User exists with same username"))
    .map(drop)
}

/// Writes every field of an existing user.
pub async fn update(db: impl SqliteExecutor<'_>, user: &User) -> Result<bool, StoreError> {
    let attributes = to_json(&user.attributes);
    let done = sqlx::query!(
        "UPDATE app_user SET username = ?, email = ?, first_name = ?, last_name = ?, enabled = ?,
            email_verified = ?, attributes = ?
         WHERE id = ? AND realm_id = ?",
        user.username,
        user.email,
        user.first_name,
        user.last_name,
        user.enabled,
        user.email_verified,
        attributes,
        user.id,
        user.realm_id,
    )
    .execute(db)
    .await
    .map_err(conflict_on_unique("User exists with same username"))?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete(
    db: impl SqliteExecutor<'_>,
    realm: &RealmId,
    id: &UserId,
) -> Result<bool, StoreError> {
    let done = sqlx::query!(
        "DELETE FROM app_user WHERE id = ? AND realm_id = ?",
        id,
        realm
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn find_by_id(
    db: impl SqliteExecutor<'_>,
    realm: &RealmId,
    id: &UserId,
) -> Result<Option<User>, StoreError> {
    sqlx::query_as!(
        UserRow,
        r#"SELECT id AS "id: _", realm_id AS "realm_id: _", username AS "username: _", email,
            first_name, last_name, enabled, email_verified, created_timestamp_ms, attributes
         FROM app_user WHERE id = ? AND realm_id = ?"#,
        id,
        realm
    )
    .fetch_optional(db)
    .await?
    .map(User::try_from)
    .transpose()
}

/// Looks a user up by username (already lower-cased by `Username::parse`).
pub async fn find_by_username(
    db: impl SqliteExecutor<'_>,
    realm: &RealmId,
    username: &Username,
) -> Result<Option<User>, StoreError> {
    sqlx::query_as!(
        UserRow,
        r#"SELECT id AS "id: _", realm_id AS "realm_id: _", username AS "username: _", email,
            first_name, last_name, enabled, email_verified, created_timestamp_ms, attributes
         FROM app_user WHERE realm_id = ? AND username = ?"#,
        realm,
        username
    )
    .fetch_optional(db)
    .await?
    .map(User::try_from)
    .transpose()
}

/// A page of users whose username, email or names contain `search` (all users when empty),
/// ordered by username.
pub async fn search(
    db: impl SqliteExecutor<'_>,
    realm: &RealmId,
    search: &str,
    first: i64,
    max: i64,
) -> Result<Vec<User>, StoreError> {
    let pattern = like_pattern(search);
    sqlx::query_as!(
        UserRow,
        r#"SELECT id AS "id: _", realm_id AS "realm_id: _", username AS "username: _", email,
            first_name, last_name, enabled, email_verified, created_timestamp_ms, attributes
         FROM app_user
         WHERE realm_id = ?1 AND (?2 = '%%' OR username LIKE ?2 ESCAPE '\'
            OR lower(email) LIKE ?2 ESCAPE '\' OR lower(first_name) LIKE ?2 ESCAPE '\'
            OR lower(last_name) LIKE ?2 ESCAPE '\')
         ORDER BY username LIMIT ?4 OFFSET ?3"#,
        realm,
        pattern,
        first,
        max
    )
    .fetch_all(db)
    .await?
    .into_iter()
    .map(User::try_from)
    .collect()
}

/// How many users `search` would find without paging.
pub async fn count(
    db: impl SqliteExecutor<'_>,
    realm: &RealmId,
    search: &str,
) -> Result<i64, StoreError> {
    let pattern = like_pattern(search);
    Ok(sqlx::query_scalar!(
        r#"SELECT COUNT(*) AS "n!: i64" FROM app_user
         WHERE realm_id = ?1 AND (?2 = '%%' OR username LIKE ?2 ESCAPE '\'
            OR lower(email) LIKE ?2 ESCAPE '\' OR lower(first_name) LIKE ?2 ESCAPE '\'
            OR lower(last_name) LIKE ?2 ESCAPE '\')"#,
        realm,
        pattern
    )
    .fetch_one(db)
    .await?)
}

/// `%text%` with LIKE's wildcards escaped, lower-cased.
fn like_pattern(search: &str) -> String {
    let escaped = search
        .trim()
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// Whether the realm has any user at all (the bootstrap admin is created only if not).
pub async fn any_in_realm(
    db: impl SqliteExecutor<'_>,
    realm: &RealmId,
) -> Result<bool, StoreError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM app_user WHERE realm_id = ?) AS "exists!: bool""#,
        realm
    )
    .fetch_one(db)
    .await?)
}

/// Sets (or replaces) the user's password hash.
pub async fn set_password(
    db: impl SqliteExecutor<'_>,
    user: &UserId,
    phc: &str,
    temporary: bool,
) -> Result<(), StoreError> {
    let id = uuid::Uuid::new_v4().to_string();
    let now = crate::clock::now_secs();
    sqlx::query!(
        "INSERT INTO credential (id, user_id, type, secret_data, temporary, created_at)
         VALUES (?, ?, 'password', ?, ?, ?)
         ON CONFLICT (user_id, type) DO UPDATE SET
            secret_data = excluded.secret_data, temporary = excluded.temporary,
            created_at = excluded.created_at",
        id,
        user,
        phc,
        temporary,
        now,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The user's stored password hash, if any.
pub async fn password_hash(
    db: impl SqliteExecutor<'_>,
    user: &UserId,
) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar!(
        "SELECT secret_data FROM credential WHERE user_id = ? AND type = 'password'",
        user
    )
    .fetch_optional(db)
    .await?)
}

/// Ids of the groups the user belongs to directly.
pub async fn group_ids(
    db: impl SqliteExecutor<'_>,
    user: &UserId,
) -> Result<Vec<crate::domain::GroupId>, StoreError> {
    Ok(sqlx::query_scalar!(
        r#"SELECT group_id AS "group_id: crate::domain::GroupId" FROM group_membership WHERE user_id = ?"#,
        user
    )
    .fetch_all(db)
    .await?)
}
