//! Users, their password credentials, role mappings and group memberships.

use std::collections::BTreeMap;

use super::{sql, Exec};

use super::{conflict_on_unique, from_json, to_json, Db, StoreError};
use crate::domain::{ClientUuid, RealmId, User, UserId, Username};

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
    required_actions: String,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;

    fn try_from(row: UserRow) -> Result<Self, StoreError> {
        Ok(User {
            attributes: from_json::<BTreeMap<String, Vec<String>>>(
                "app_user.attributes",
                &row.attributes,
            )?,
            required_actions: from_json("app_user.required_actions", &row.required_actions)?,
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
pub async fn insert(db: impl Into<Exec<'_>>, user: &User) -> Result<(), StoreError> {
    let attributes = to_json(&user.attributes);
    let required_actions = to_json(&user.required_actions);
    sql!(
        db,
        query!(
            "INSERT INTO app_user (id, realm_id, username, email, first_name, last_name, enabled,
            email_verified, created_timestamp_ms, attributes, required_actions)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
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
            required_actions,
        )
        .execute
    )
    .map_err(conflict_on_unique("User exists with same username"))
    .map(drop)
}

/// Writes every field of an existing user.
pub async fn update(db: impl Into<Exec<'_>>, user: &User) -> Result<bool, StoreError> {
    let attributes = to_json(&user.attributes);
    let required_actions = to_json(&user.required_actions);
    let done = sql!(db, query!(
        "UPDATE app_user SET username = $1, email = $2, first_name = $3, last_name = $4, enabled = $5,
            email_verified = $6, attributes = $7, required_actions = $8
         WHERE id = $9 AND realm_id = $10",
        user.username,
        user.email,
        user.first_name,
        user.last_name,
        user.enabled,
        user.email_verified,
        attributes,
        required_actions,
        user.id,
        user.realm_id,
    ).execute)
    .map_err(conflict_on_unique("User exists with same username"))?;
    Ok(done == 1)
}

pub async fn delete(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    id: &UserId,
) -> Result<bool, StoreError> {
    let done = sql!(
        db,
        query!(
            "DELETE FROM app_user WHERE id = $1 AND realm_id = $2",
            id,
            realm
        )
        .execute
    )?;
    Ok(done == 1)
}

pub async fn find_by_id(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    id: &UserId,
) -> Result<Option<User>, StoreError> {
    sql!(db, query_as!(
        UserRow,
        r#"SELECT id AS "id: _", realm_id AS "realm_id: _", username AS "username: _", email,
            first_name, last_name, enabled, email_verified, created_timestamp_ms, attributes, required_actions
         FROM app_user WHERE id = $1 AND realm_id = $2"#,
        id,
        realm
    ).fetch_optional)?
    .map(User::try_from)
    .transpose()
}

/// `find_by_id` through the read cache.
pub async fn find_by_id_cached(
    db: &Db,
    realm: &RealmId,
    id: &UserId,
) -> Result<Option<User>, StoreError> {
    let cache = db.cache();
    let user = cache
        .get_or_load(&cache.users_by_id, id.clone(), || {
            find_by_id(db.read(), realm, id)
        })
        .await?;
    Ok(user.filter(|u| &u.realm_id == realm))
}

/// `find_by_username` through the read cache.
pub async fn find_by_username_cached(
    db: &Db,
    realm: &RealmId,
    username: &Username,
) -> Result<Option<User>, StoreError> {
    let cache = db.cache();
    let key = (realm.clone(), username.to_string());
    cache
        .get_or_load(&cache.users_by_username, key, || {
            find_by_username(db.read(), realm, username)
        })
        .await
}

/// Looks a user up by username (already lower-cased by `Username::parse`).
pub async fn find_by_username(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    username: &Username,
) -> Result<Option<User>, StoreError> {
    sql!(db, query_as!(
        UserRow,
        r#"SELECT id AS "id: _", realm_id AS "realm_id: _", username AS "username: _", email,
            first_name, last_name, enabled, email_verified, created_timestamp_ms, attributes, required_actions
         FROM app_user WHERE realm_id = $1 AND username = $2"#,
        realm,
        username
    ).fetch_optional)?
    .map(User::try_from)
    .transpose()
}

/// Which users a listing returns, by Keycloak's rules: each whitespace-separated word of
/// `search` must start username, email, first or last name (`*` is a wildcard; a word in
/// double quotes must equal one of them); the per-field filters match a substring, or the
/// whole value when `exact`; `attributes` pairs must be held (a substring of a value, or
/// the whole value when `exact`).
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub search: Option<String>,
    pub username: Option<String>,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub enabled: Option<bool>,
    pub email_verified: Option<bool>,
    pub exact: bool,
    pub attributes: Vec<(String, String)>,
    /// Service-account users are left out unless this is set, as in Keycloak.
    pub include_service_accounts: bool,
}

/// The most words of a search, and attribute pairs, that are looked at.
const MAX_TERMS: usize = 16;

struct Patterns {
    /// JSON array of LIKE patterns, each matching one of the four fields.
    prefixes: Option<String>,
    /// JSON array of words one of the four fields must equal.
    exact_words: Option<String>,
    username: Option<String>,
    email: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    /// JSON array of `[name, value pattern]`.
    attributes: Option<String>,
}

impl UserFilter {
    fn patterns(&self) -> Patterns {
        let field = |value: &Option<String>| {
            value
                .as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(|v| self.contains_or_equals(v))
        };
        let (mut prefixes, mut exact_words) = (Vec::new(), Vec::new());
        for word in self
            .search
            .as_deref()
            .unwrap_or_default()
            .split_whitespace()
            .take(MAX_TERMS)
        {
            let word = word.to_lowercase();
            if word.len() >= 2 && word.starts_with('"') && word.ends_with('"') {
                exact_words.push(word[1..word.len() - 1].to_owned());
            } else {
                let mut pattern = escape_like(&word).replace('*', "%");
                if !pattern.ends_with('%') {
                    pattern.push('%');
                }
                prefixes.push(pattern);
            }
        }
        let attributes: Vec<(String, String)> = self
            .attributes
            .iter()
            .take(MAX_TERMS)
            .map(|(name, value)| (name.clone(), self.contains_or_equals(value)))
            .collect();
        let json_unless_empty = |items: String, empty: bool| (!empty).then_some(items);
        Patterns {
            prefixes: json_unless_empty(to_json(&prefixes), prefixes.is_empty()),
            exact_words: json_unless_empty(to_json(&exact_words), exact_words.is_empty()),
            username: field(&self.username),
            email: field(&self.email),
            first_name: field(&self.first_name),
            last_name: field(&self.last_name),
            attributes: json_unless_empty(to_json(&attributes), attributes.is_empty()),
        }
    }

    /// A lower-case LIKE pattern: the value itself when `exact`, else anything containing it.
    fn contains_or_equals(&self, value: &str) -> String {
        let escaped = escape_like(&value.to_lowercase());
        if self.exact {
            escaped
        } else {
            format!("%{escaped}%")
        }
    }
}

/// A page of the users matching `filter`, ordered by username.
pub async fn search(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    filter: &UserFilter,
    first: i64,
    max: i64,
) -> Result<Vec<User>, StoreError> {
    let p = filter.patterns();
    sql!(db, query_as!(
        UserRow,
        sqlite: r#"SELECT id AS "id: _", realm_id AS "realm_id: _", username AS "username: _", email,
            first_name, last_name, enabled, email_verified, created_timestamp_ms, attributes, required_actions
         FROM app_user
         WHERE realm_id = $1
           AND ($2 IS NULL OR NOT EXISTS (SELECT 1 FROM json_each($2) w WHERE NOT coalesce(
                username LIKE w.value ESCAPE '\' OR lower(email) LIKE w.value ESCAPE '\'
                OR lower(first_name) LIKE w.value ESCAPE '\' OR lower(last_name) LIKE w.value ESCAPE '\',
                FALSE)))
           AND ($3 IS NULL OR NOT EXISTS (SELECT 1 FROM json_each($3) w WHERE NOT coalesce(
                username = w.value OR lower(email) = w.value
                OR lower(first_name) = w.value OR lower(last_name) = w.value, FALSE)))
           AND ($4 IS NULL OR username LIKE $4 ESCAPE '\')
           AND ($5 IS NULL OR lower(email) LIKE $5 ESCAPE '\')
           AND ($6 IS NULL OR lower(first_name) LIKE $6 ESCAPE '\')
           AND ($7 IS NULL OR lower(last_name) LIKE $7 ESCAPE '\')
           AND ($8 IS NULL OR enabled = $8)
           AND ($9 IS NULL OR email_verified = $9)
           AND ($10 IS NULL OR NOT EXISTS (SELECT 1 FROM json_each($10) pair WHERE NOT EXISTS (
                SELECT 1 FROM json_each(app_user.attributes) a, json_each(a.value) v
                WHERE a.key = json_extract(pair.value, '$[0]')
                  AND lower(v.value) LIKE json_extract(pair.value, '$[1]') ESCAPE '\')))
           AND ($11 OR service_account_client_id IS NULL)
         ORDER BY username LIMIT $13 OFFSET $12"#,
        postgres: r#"SELECT id AS "id: _", realm_id AS "realm_id: _", username AS "username: _", email,
            first_name, last_name, enabled, email_verified, created_timestamp_ms, attributes, required_actions
         FROM app_user
         WHERE realm_id = $1
           AND (CAST($2 AS TEXT) IS NULL OR NOT EXISTS (
                SELECT 1 FROM jsonb_array_elements_text(CAST($2 AS JSONB)) w WHERE NOT coalesce(
                username LIKE w.value ESCAPE '\' OR lower(email) LIKE w.value ESCAPE '\'
                OR lower(first_name) LIKE w.value ESCAPE '\' OR lower(last_name) LIKE w.value ESCAPE '\',
                FALSE)))
           AND (CAST($3 AS TEXT) IS NULL OR NOT EXISTS (
                SELECT 1 FROM jsonb_array_elements_text(CAST($3 AS JSONB)) w WHERE NOT coalesce(
                username = w.value OR lower(email) = w.value
                OR lower(first_name) = w.value OR lower(last_name) = w.value, FALSE)))
           AND (CAST($4 AS TEXT) IS NULL OR username LIKE $4 ESCAPE '\')
           AND (CAST($5 AS TEXT) IS NULL OR lower(email) LIKE $5 ESCAPE '\')
           AND (CAST($6 AS TEXT) IS NULL OR lower(first_name) LIKE $6 ESCAPE '\')
           AND (CAST($7 AS TEXT) IS NULL OR lower(last_name) LIKE $7 ESCAPE '\')
           AND (CAST($8 AS BOOLEAN) IS NULL OR enabled = $8)
           AND (CAST($9 AS BOOLEAN) IS NULL OR email_verified = $9)
           AND (CAST($10 AS TEXT) IS NULL OR NOT EXISTS (
                SELECT 1 FROM jsonb_array_elements(CAST($10 AS JSONB)) pair WHERE NOT EXISTS (
                SELECT 1 FROM jsonb_each(CAST(app_user.attributes AS JSONB)) a,
                    jsonb_array_elements_text(a.value) v
                WHERE a.key = pair.value ->> 0
                  AND lower(v.value) LIKE pair.value ->> 1 ESCAPE '\')))
           AND ($11 OR service_account_client_id IS NULL)
         ORDER BY username LIMIT $13 OFFSET $12"#,
        realm,
        p.prefixes,
        p.exact_words,
        p.username,
        p.email,
        p.first_name,
        p.last_name,
        filter.enabled,
        filter.email_verified,
        p.attributes,
        filter.include_service_accounts,
        first,
        max
    ).fetch_all)?
    .into_iter()
    .map(User::try_from)
    .collect()
}

/// How many users match `filter`.
pub async fn count(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    filter: &UserFilter,
) -> Result<i64, StoreError> {
    let p = filter.patterns();
    Ok(sql!(db, query_scalar!(
        sqlite: r#"SELECT COUNT(*) AS "n!: i64" FROM app_user
         WHERE realm_id = $1
           AND ($2 IS NULL OR NOT EXISTS (SELECT 1 FROM json_each($2) w WHERE NOT coalesce(
                username LIKE w.value ESCAPE '\' OR lower(email) LIKE w.value ESCAPE '\'
                OR lower(first_name) LIKE w.value ESCAPE '\' OR lower(last_name) LIKE w.value ESCAPE '\',
                FALSE)))
           AND ($3 IS NULL OR NOT EXISTS (SELECT 1 FROM json_each($3) w WHERE NOT coalesce(
                username = w.value OR lower(email) = w.value
                OR lower(first_name) = w.value OR lower(last_name) = w.value, FALSE)))
           AND ($4 IS NULL OR username LIKE $4 ESCAPE '\')
           AND ($5 IS NULL OR lower(email) LIKE $5 ESCAPE '\')
           AND ($6 IS NULL OR lower(first_name) LIKE $6 ESCAPE '\')
           AND ($7 IS NULL OR lower(last_name) LIKE $7 ESCAPE '\')
           AND ($8 IS NULL OR enabled = $8)
           AND ($9 IS NULL OR email_verified = $9)
           AND ($10 IS NULL OR NOT EXISTS (SELECT 1 FROM json_each($10) pair WHERE NOT EXISTS (
                SELECT 1 FROM json_each(app_user.attributes) a, json_each(a.value) v
                WHERE a.key = json_extract(pair.value, '$[0]')
                  AND lower(v.value) LIKE json_extract(pair.value, '$[1]') ESCAPE '\')))
           AND ($11 OR service_account_client_id IS NULL)"#,
        postgres: r#"SELECT COUNT(*) AS "n!: i64" FROM app_user
         WHERE realm_id = $1
           AND (CAST($2 AS TEXT) IS NULL OR NOT EXISTS (
                SELECT 1 FROM jsonb_array_elements_text(CAST($2 AS JSONB)) w WHERE NOT coalesce(
                username LIKE w.value ESCAPE '\' OR lower(email) LIKE w.value ESCAPE '\'
                OR lower(first_name) LIKE w.value ESCAPE '\' OR lower(last_name) LIKE w.value ESCAPE '\',
                FALSE)))
           AND (CAST($3 AS TEXT) IS NULL OR NOT EXISTS (
                SELECT 1 FROM jsonb_array_elements_text(CAST($3 AS JSONB)) w WHERE NOT coalesce(
                username = w.value OR lower(email) = w.value
                OR lower(first_name) = w.value OR lower(last_name) = w.value, FALSE)))
           AND (CAST($4 AS TEXT) IS NULL OR username LIKE $4 ESCAPE '\')
           AND (CAST($5 AS TEXT) IS NULL OR lower(email) LIKE $5 ESCAPE '\')
           AND (CAST($6 AS TEXT) IS NULL OR lower(first_name) LIKE $6 ESCAPE '\')
           AND (CAST($7 AS TEXT) IS NULL OR lower(last_name) LIKE $7 ESCAPE '\')
           AND (CAST($8 AS BOOLEAN) IS NULL OR enabled = $8)
           AND (CAST($9 AS BOOLEAN) IS NULL OR email_verified = $9)
           AND (CAST($10 AS TEXT) IS NULL OR NOT EXISTS (
                SELECT 1 FROM jsonb_array_elements(CAST($10 AS JSONB)) pair WHERE NOT EXISTS (
                SELECT 1 FROM jsonb_each(CAST(app_user.attributes AS JSONB)) a,
                    jsonb_array_elements_text(a.value) v
                WHERE a.key = pair.value ->> 0
                  AND lower(v.value) LIKE pair.value ->> 1 ESCAPE '\')))
           AND ($11 OR service_account_client_id IS NULL)"#,
        realm,
        p.prefixes,
        p.exact_words,
        p.username,
        p.email,
        p.first_name,
        p.last_name,
        filter.enabled,
        filter.email_verified,
        p.attributes,
        filter.include_service_accounts
    ).fetch_one)?)
}

/// LIKE's wildcards escaped with `\`.
fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

/// The members of a group, ordered by username.
pub async fn members_of(
    db: impl Into<Exec<'_>>,
    group: &crate::domain::GroupId,
    first: i64,
    max: i64,
) -> Result<Vec<User>, StoreError> {
    sql!(db, query_as!(
        UserRow,
        r#"SELECT u.id AS "id: _", u.realm_id AS "realm_id: _", u.username AS "username: _", u.email,
            u.first_name, u.last_name, u.enabled, u.email_verified, u.created_timestamp_ms, u.attributes, u.required_actions
         FROM app_user u JOIN group_membership m ON m.user_id = u.id
         WHERE m.group_id = $1 ORDER BY u.username LIMIT $2 OFFSET $3"#,
        group,
        max,
        first
    ).fetch_all)?
    .into_iter()
    .map(User::try_from)
    .collect()
}

/// Whether the realm has any user at all (the bootstrap admin is created only if not).
pub async fn any_in_realm(db: impl Into<Exec<'_>>, realm: &RealmId) -> Result<bool, StoreError> {
    Ok(sql!(
        db,
        query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM app_user WHERE realm_id = $1) AS "exists!: bool""#,
            realm
        )
        .fetch_one
    )?)
}

/// Sets (or replaces) the user's password hash. A new password goes last in the user's
/// credential list; a replaced one keeps its id and place but, as in Keycloak, is a new
/// credential otherwise: created now, without a label.
pub async fn set_password(
    db: impl Into<Exec<'_>>,
    user: &UserId,
    phc: &str,
    temporary: bool,
) -> Result<(), StoreError> {
    let id = uuid::Uuid::new_v4().to_string();
    let now = crate::clock::now_secs();
    sql!(
        db,
        query!(
        "INSERT INTO credential (id, user_id, type, secret_data, temporary, created_at, priority)
         VALUES ($1, $2, 'password', $3, $4, $5,
            (SELECT COALESCE(MAX(priority), 0) + 10 FROM credential WHERE user_id = $6))
         ON CONFLICT (user_id, type) DO UPDATE SET
            secret_data = excluded.secret_data, temporary = excluded.temporary,
            created_at = excluded.created_at, user_label = NULL",
        id,
        user,
        phc,
        temporary,
        now,
        user,
    )
        .execute
    )?;
    Ok(())
}

/// The user's stored password hash, if any.
pub async fn password_hash(
    db: impl Into<Exec<'_>>,
    user: &UserId,
) -> Result<Option<String>, StoreError> {
    Ok(sql!(
        db,
        query_scalar!(
            "SELECT secret_data FROM credential WHERE user_id = $1 AND type = 'password'",
            user
        )
        .fetch_optional
    )?)
}

/// `password_hash` through the read cache.
pub async fn password_hash_cached(db: &Db, user: &UserId) -> Result<Option<String>, StoreError> {
    let cache = db.cache();
    cache
        .get_or_load(&cache.password_hashes, user.clone(), || {
            password_hash(db.read(), user)
        })
        .await
}

/// Ids of the groups the user belongs to directly.
pub async fn group_ids(
    db: impl Into<Exec<'_>>,
    user: &UserId,
) -> Result<Vec<crate::domain::GroupId>, StoreError> {
    Ok(sql!(db, query_scalar!(
        r#"SELECT group_id AS "group_id: crate::domain::GroupId" FROM group_membership WHERE user_id = $1"#,
        user
    ).fetch_all)?)
}

/// Whether another user of the realm already has this email.
pub async fn email_taken(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    email: &str,
    except: &UserId,
) -> Result<bool, StoreError> {
    Ok(sql!(db, query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM app_user WHERE realm_id = $1 AND email = $2 AND id <> $3) AS "taken!: bool""#,
        realm,
        email,
        except
    ).fetch_one)?)
}

/// Looks a user up by email (stored lower-case), for signing in with an email address.
pub async fn find_by_email(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    email: &str,
) -> Result<Option<User>, StoreError> {
    let email = email.trim().to_lowercase();
    sql!(db, query_as!(
        UserRow,
        r#"SELECT id AS "id: _", realm_id AS "realm_id: _", username AS "username: _", email,
            first_name, last_name, enabled, email_verified, created_timestamp_ms, attributes, required_actions
         FROM app_user WHERE realm_id = $1 AND email = $2 ORDER BY username LIMIT 1"#,
        realm,
        email
    ).fetch_optional)?
    .map(User::try_from)
    .transpose()
}

/// Links a user to the client it is the service account of.
pub async fn link_service_account(
    db: impl Into<Exec<'_>>,
    user: &UserId,
    client: &ClientUuid,
) -> Result<(), StoreError> {
    sql!(
        db,
        query!(
            "UPDATE app_user SET service_account_client_id = $1 WHERE id = $2",
            client,
            user
        )
        .execute
    )?;
    Ok(())
}

/// The service-account user of a client, found by its link (never by its name).
pub async fn find_service_account(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
    client: &ClientUuid,
) -> Result<Option<User>, StoreError> {
    sql!(db, query_as!(
        UserRow,
        r#"SELECT id AS "id: _", realm_id AS "realm_id: _", username AS "username: _", email,
            first_name, last_name, enabled, email_verified, created_timestamp_ms, attributes, required_actions
         FROM app_user WHERE realm_id = $1 AND service_account_client_id = $2"#,
        realm,
        client
    ).fetch_optional)?
    .map(User::try_from)
    .transpose()
}

/// Every user of a realm, by username (for export).
pub async fn list_all(db: impl Into<Exec<'_>>, realm: &RealmId) -> Result<Vec<User>, StoreError> {
    sql!(db, query_as!(
        UserRow,
        r#"SELECT id AS "id: _", realm_id AS "realm_id: _", username AS "username: _", email,
            first_name, last_name, enabled, email_verified, created_timestamp_ms, attributes, required_actions
         FROM app_user WHERE realm_id = $1 ORDER BY username"#,
        realm
    ).fetch_all)?
    .into_iter()
    .map(User::try_from)
    .collect()
}

/// A user's stored password, for export.
pub struct StoredPassword {
    pub user_id: UserId,
    pub phc: String,
    pub temporary: bool,
    pub created_at: i64,
    pub user_label: Option<String>,
}

/// The stored passwords of a realm's users.
pub async fn passwords_in_realm(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
) -> Result<Vec<StoredPassword>, StoreError> {
    Ok(sql!(db, query_as!(
        StoredPassword,
        r#"SELECT c.user_id AS "user_id: UserId", c.secret_data AS phc, c.temporary, c.created_at,
            c.user_label
         FROM credential c JOIN app_user u ON u.id = c.user_id
         WHERE u.realm_id = $1 AND c.type = 'password'"#,
        realm
    ).fetch_all)?)
}

/// The realm's service-account users with the client each belongs to.
pub async fn service_account_links(
    db: impl Into<Exec<'_>>,
    realm: &RealmId,
) -> Result<Vec<(UserId, ClientUuid)>, StoreError> {
    struct Row {
        id: UserId,
        client: ClientUuid,
    }
    Ok(sql!(
        db,
        query_as!(
            Row,
            r#"SELECT id AS "id: UserId", service_account_client_id AS "client!: ClientUuid"
         FROM app_user WHERE realm_id = $1 AND service_account_client_id IS NOT NULL"#,
            realm
        )
        .fetch_all
    )?
    .into_iter()
    .map(|row| (row.id, row.client))
    .collect())
}
