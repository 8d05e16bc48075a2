//! Writes of many new users at once, for realm imports: each statement carries a batch of
//! rows as one JSON array, unpacked by the database (SQLite's `json_each`, PostgreSQL's
//! `jsonb_to_recordset`), so that 100,000 users take a few hundred statements instead of
//! several per user.

use serde::Serialize;

use super::{sql, to_json, Exec, StoreError};
use crate::domain::{GroupId, RoleId, User, UserId};

/// Rows per statement: large enough that statements cost little, small enough that no one
/// JSON document grows past a few hundred KiB.
pub const BATCH: usize = 1000;

#[derive(Serialize)]
struct UserRow<'a> {
    id: &'a UserId,
    realm_id: &'a str,
    username: &'a str,
    email: Option<&'a str>,
    first_name: Option<&'a str>,
    last_name: Option<&'a str>,
    enabled: bool,
    email_verified: bool,
    created_timestamp_ms: i64,
    attributes: String,
    required_actions: String,
}

/// A password credential of a new user.
#[derive(Serialize)]
pub struct NewPassword<'a> {
    pub user_id: &'a UserId,
    /// The PHC string.
    pub secret_data: &'a str,
    pub temporary: bool,
    pub user_label: Option<&'a str>,
}

#[derive(Serialize)]
struct PasswordRow<'a> {
    id: String,
    created_at: i64,
    #[serde(flatten)]
    password: &'a NewPassword<'a>,
}

/// Inserts new users (at most [`BATCH`] for one statement of sensible size).
pub async fn insert_users(db: impl Into<Exec<'_>>, users: &[User]) -> Result<(), StoreError> {
    let rows: Vec<UserRow> = users
        .iter()
        .map(|user| UserRow {
            id: &user.id,
            realm_id: user.realm_id.as_str(),
            username: user.username.as_str(),
            email: user.email.as_deref(),
            first_name: user.first_name.as_deref(),
            last_name: user.last_name.as_deref(),
            enabled: user.enabled,
            email_verified: user.email_verified,
            created_timestamp_ms: user.created_timestamp_ms,
            attributes: to_json(&user.attributes),
            required_actions: to_json(&user.required_actions),
        })
        .collect();
    let rows = to_json(&rows);
    sql!(
        db,
        query!(
            sqlite: "INSERT INTO app_user (id, realm_id, username, email, first_name, last_name,
                enabled, email_verified, created_timestamp_ms, attributes, required_actions)
             SELECT value ->> '$.id', value ->> '$.realm_id', value ->> '$.username',
                value ->> '$.email', value ->> '$.first_name', value ->> '$.last_name',
                value ->> '$.enabled', value ->> '$.email_verified',
                value ->> '$.created_timestamp_ms', value ->> '$.attributes',
                value ->> '$.required_actions'
             FROM json_each($1)",
            postgres: "INSERT INTO app_user (id, realm_id, username, email, first_name, last_name,
                enabled, email_verified, created_timestamp_ms, attributes, required_actions)
             SELECT id, realm_id, username, email, first_name, last_name, enabled,
                email_verified, created_timestamp_ms, attributes, required_actions
             FROM jsonb_to_recordset($1::text::jsonb) AS r(id TEXT, realm_id TEXT,
                username TEXT, email TEXT, first_name TEXT, last_name TEXT, enabled BOOLEAN,
                email_verified BOOLEAN, created_timestamp_ms BIGINT, attributes TEXT,
                required_actions TEXT)",
            rows,
        )
        .execute
    )
    .map_err(super::conflict_on_unique("User exists with same username"))?;
    Ok(())
}

/// Inserts the password credentials of new users (who have none yet): each is their first
/// credential, created now.
pub async fn insert_passwords(
    db: impl Into<Exec<'_>>,
    passwords: &[NewPassword<'_>],
) -> Result<(), StoreError> {
    let now = crate::clock::now_secs();
    let rows: Vec<PasswordRow> = passwords
        .iter()
        .map(|password| PasswordRow {
            id: uuid::Uuid::new_v4().to_string(),
            created_at: now,
            password,
        })
        .collect();
    let rows = to_json(&rows);
    sql!(
        db,
        query!(
            sqlite: "INSERT INTO credential (id, user_id, type, secret_data, temporary,
                created_at, priority, user_label)
             SELECT value ->> '$.id', value ->> '$.user_id', 'password',
                value ->> '$.secret_data', value ->> '$.temporary', value ->> '$.created_at',
                10, value ->> '$.user_label'
             FROM json_each($1)",
            postgres: "INSERT INTO credential (id, user_id, type, secret_data, temporary,
                created_at, priority, user_label)
             SELECT id, user_id, 'password', secret_data, temporary, created_at, 10, user_label
             FROM jsonb_to_recordset($1::text::jsonb) AS r(id TEXT, user_id TEXT,
                secret_data TEXT, temporary BOOLEAN, created_at BIGINT, user_label TEXT)",
            rows,
        )
        .execute
    )?;
    Ok(())
}

/// Grants roles to users, `(user, role)` pairs; a pair granted already stays as it is.
pub async fn grant_roles(
    db: impl Into<Exec<'_>>,
    grants: &[(&UserId, &RoleId)],
) -> Result<(), StoreError> {
    let pairs = to_json(&grants);
    sql!(
        db,
        query!(
            sqlite: "INSERT INTO user_role_mapping (user_id, role_id)
             SELECT value ->> '$[0]', value ->> '$[1]' FROM json_each($1) WHERE true
             ON CONFLICT DO NOTHING",
            postgres: "INSERT INTO user_role_mapping (user_id, role_id)
             SELECT pair ->> 0, pair ->> 1 FROM jsonb_array_elements($1::text::jsonb) AS pair
             ON CONFLICT DO NOTHING",
            pairs,
        )
        .execute
    )?;
    Ok(())
}

/// Adds users to groups, `(user, group)` pairs; a member already stays one.
pub async fn add_members(
    db: impl Into<Exec<'_>>,
    members: &[(&UserId, &GroupId)],
) -> Result<(), StoreError> {
    let pairs = to_json(&members);
    sql!(
        db,
        query!(
            sqlite: "INSERT INTO group_membership (user_id, group_id)
             SELECT value ->> '$[0]', value ->> '$[1]' FROM json_each($1) WHERE true
             ON CONFLICT DO NOTHING",
            postgres: "INSERT INTO group_membership (user_id, group_id)
             SELECT pair ->> 0, pair ->> 1 FROM jsonb_array_elements($1::text::jsonb) AS pair
             ON CONFLICT DO NOTHING",
            pairs,
        )
        .execute
    )?;
    Ok(())
}

/// Which of `ids` some user (of any realm) has already.
pub async fn taken_ids(db: impl Into<Exec<'_>>, ids: &[&str]) -> Result<Vec<String>, StoreError> {
    let ids = to_json(&ids);
    Ok(sql!(
        db,
        query_scalar!(
            sqlite: r#"SELECT id AS "id!" FROM app_user WHERE id IN (SELECT value FROM json_each($1))"#,
            postgres: r#"SELECT id AS "id!" FROM app_user
             WHERE id IN (SELECT jsonb_array_elements_text($1::text::jsonb))"#,
            ids,
        )
        .fetch_all
    )?)
}
