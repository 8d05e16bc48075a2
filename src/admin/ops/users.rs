//! User operations: create (with credentials, groups and roles), update, delete, passwords,
//! role mappings, group memberships, and identity tokens.

use std::collections::BTreeMap;

use crate::store::Conn;
use secrecy::SecretString;

use super::access::{
    authorize, Actor, Granted, ManageUsers, Powers, QueryUsers, SeesUsers, ViewUsers,
};
use super::audited::Change;
use super::OpsError;
use crate::admin::repr::{CredentialRepr, UserRepr};
use crate::domain::{GroupId, Realm, Role, RoleId, User, UserId, Username};
use crate::state::AppState;
use crate::store::tokens::StoredToken;
use crate::store::users::UserFilter;
use crate::store::{self};

/// Inserts a user and grants the realm's default roles, as Keycloak does.
pub async fn insert_with_defaults(
    conn: &mut Conn,
    realm: &Realm,
    user: &User,
) -> Result<(), OpsError> {
    store::users::insert(&mut *conn, user).await?;
    if let Some(role) =
        store::roles::find_builtin_realm_role(&mut *conn, &realm.id, super::access::DEFAULT_ROLES)
            .await?
    {
        store::roles::grant_to_user(&mut *conn, &user.id, &role.id).await?;
    }
    Ok(())
}

/// Stores a new password hash (computed off the runtime) and revokes the user's sessions and
/// refresh tokens, docker identity tokens included.
pub async fn set_password_hash(
    conn: &mut Conn,
    user: &User,
    phc: &str,
    temporary: bool,
) -> Result<(), OpsError> {
    store::users::set_password(&mut *conn, &user.id, phc, temporary).await?;
    let mut updated = user.clone();
    require_password_update(&mut updated, temporary);
    store::users::update(&mut *conn, &updated).await?;
    store::tokens::revoke_all_for_user(&mut *conn, &user.id).await?;
    store::sessions::delete_for_user(&mut *conn, &user.id).await?;
    Ok(())
}

/// The required action a temporary password brings.
pub const UPDATE_PASSWORD: &str = "UPDATE_PASSWORD";

/// Adds `UPDATE_PASSWORD` for a temporary password, or clears it for a permanent one.
pub fn require_password_update(user: &mut User, temporary: bool) {
    user.required_actions.retain(|a| a != UPDATE_PASSWORD);
    if temporary {
        user.required_actions.push(UPDATE_PASSWORD.to_owned());
    }
}

/// Finds a user of the granted realm by id (a malformed id is simply not found).
pub async fn find<R: SeesUsers>(
    state: &AppState,
    granted: &Granted<R>,
    id: &str,
) -> Result<User, OpsError> {
    let id = UserId::parse(id).ok_or(OpsError::NotFound("User"))?;
    store::users::find_by_id(state.db.read(), &granted.realm().id, &id)
        .await?
        .ok_or(OpsError::NotFound("User"))
}

/// Finds a user the actor may change: one whose powers the actor holds every one of, so that
/// `manage-users` cannot take over an administrator with more rights.
pub async fn find_to_manage(
    state: &AppState,
    granted: &Granted<ManageUsers>,
    id: &str,
) -> Result<User, OpsError> {
    let user = find(state, granted, id).await?;
    let powers = granted.powers_of(state, &user.id).await?;
    granted.require_covers(&powers)?;
    Ok(user)
}

/// Searches users. Holding only `query-users` finds nobody, as in Keycloak: the results are
/// the users the caller may view.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    filter: &UserFilter,
    first: i64,
    max: i64,
) -> Result<Vec<User>, OpsError> {
    let queried = authorize::<QueryUsers>(state, actor, realm).await?;
    let Some(granted) = queried.also::<ViewUsers>() else {
        return Ok(Vec::new());
    };
    if let Some(id) = by_id(filter) {
        return Ok(match UserId::parse(id) {
            Some(id) => store::users::find_by_id(state.db.read(), &granted.realm().id, &id)
                .await?
                .into_iter()
                .collect(),
            None => Vec::new(),
        });
    }
    Ok(store::users::search(
        state.db.read(),
        &granted.realm().id,
        filter,
        first.max(0),
        max.clamp(0, 1000),
    )
    .await?)
}

/// How many users match. Holding only `query-users` counts nobody, like the listing (the
/// hardening issue closed what Keycloak's count leaks).
pub async fn count(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    filter: &UserFilter,
) -> Result<i64, OpsError> {
    let queried = authorize::<QueryUsers>(state, actor, realm).await?;
    let Some(granted) = queried.also::<ViewUsers>() else {
        return Ok(0);
    };
    if let Some(id) = by_id(filter) {
        let found = match UserId::parse(id) {
            Some(id) => store::users::find_by_id(state.db.read(), &granted.realm().id, &id)
                .await?
                .is_some(),
            None => false,
        };
        return Ok(i64::from(found));
    }
    Ok(store::users::count(state.db.read(), &granted.realm().id, filter).await?)
}

/// Keycloak's `search=id:{id}`: the one user with that id.
fn by_id(filter: &UserFilter) -> Option<&str> {
    filter
        .search
        .as_deref()
        .and_then(|s| s.strip_prefix("id:"))
        .map(str::trim)
}

/// What the caller may do with `user`, as the `access` map of Keycloak's single read
/// (managing needs every power the user holds; keywarden has no impersonation).
pub async fn access(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    user: &User,
) -> Result<BTreeMap<&'static str, bool>, OpsError> {
    let granted = authorize::<QueryUsers>(state, actor, realm).await?;
    let view = granted.also::<ViewUsers>().is_some();
    let manage = match granted.also::<ManageUsers>() {
        Some(manager) => actor.covers(
            &granted.realm().id,
            &manager.powers_of(state, &user.id).await?,
        ),
        None => false,
    };
    Ok(BTreeMap::from([
        ("manageGroupMembership", manage),
        ("resetPassword", manage),
        ("view", view),
        ("mapRoles", manage),
        ("impersonate", false),
        ("manage", manage),
    ]))
}

/// The one-key `access` map a user listing carries: whether the caller manages users.
pub async fn listing_access(
    state: &AppState,
    actor: &Actor,
    realm: &str,
) -> Result<BTreeMap<&'static str, bool>, OpsError> {
    let granted = authorize::<QueryUsers>(state, actor, realm).await?;
    Ok(BTreeMap::from([(
        "manage",
        granted.also::<ManageUsers>().is_some(),
    )]))
}

pub async fn get(state: &AppState, actor: &Actor, realm: &str, id: &str) -> Result<User, OpsError> {
    let granted = authorize::<ViewUsers>(state, actor, realm).await?;
    find(state, &granted, id).await
}

/// The password to set from a credentials list, validated.
fn password_of(credentials: &[CredentialRepr]) -> Result<Option<(SecretString, bool)>, OpsError> {
    let Some(credential) = credentials
        .iter()
        .find(|c| c.kind.as_deref().unwrap_or("password") == "password")
    else {
        return Ok(None);
    };
    let value = credential.value.clone().unwrap_or_default();
    if value.is_empty() {
        return Err(OpsError::Invalid("Password must not be empty".into()));
    }
    Ok(Some((
        SecretString::from(value),
        credential.temporary.unwrap_or(false),
    )))
}

/// The password a reset sets, read as Keycloak does: the type is ignored, a missing value is
/// "No password provided" and a blank one "Empty password not allowed".
fn reset_password_of(credential: &CredentialRepr) -> Result<(SecretString, bool), OpsError> {
    let value = credential
        .value
        .as_deref()
        .ok_or_else(|| OpsError::Refused("No password provided".into()))?;
    if value.trim().is_empty() {
        return Err(OpsError::Refused("Empty password not allowed".into()));
    }
    Ok((
        SecretString::from(value.to_owned()),
        credential.temporary.unwrap_or(false),
    ))
}

/// The password an update's inline `credentials` set, read as Keycloak does: the type is
/// ignored, the last entry wins, and `temporary` on any entry only ever adds
/// `UPDATE_PASSWORD`. An entry without a value refuses the whole update.
fn inline_password(
    credentials: &[CredentialRepr],
) -> Result<Option<(SecretString, bool)>, OpsError> {
    if credentials
        .iter()
        .any(|c| c.value.as_deref().is_none_or(str::is_empty))
    {
        return Err(OpsError::Invalid("Could not update user!".into()));
    }
    let temporary = credentials.iter().any(|c| c.temporary == Some(true));
    Ok(credentials
        .last()
        .and_then(|c| c.value.clone())
        .map(|value| (SecretString::from(value), temporary)))
}

/// Applies the present fields of `repr` to `user`, validated.
fn merge(user: &mut User, repr: &UserRepr) -> Result<(), OpsError> {
    if let Some(username) = &repr.username {
        let parsed = Username::parse(username)?;
        if parsed != user.username {
            return Err(OpsError::Field {
                field: "username",
                key: "readOnlyUsernameMessage",
                text: "Username can't be changed",
            });
        }
    }
    let text = |v: &Option<String>| {
        v.as_ref()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
    };
    if repr.email.is_some() {
        let email = text(&repr.email);
        if let Some(email) = &email {
            if !email.contains('@') || email.contains(char::is_whitespace) {
                return Err(OpsError::Invalid("Invalid email address.".into()));
            }
        }
        user.email = email.map(|e| e.to_lowercase());
    }
    if repr.first_name.is_some() {
        user.first_name = text(&repr.first_name);
    }
    if repr.last_name.is_some() {
        user.last_name = text(&repr.last_name);
    }
    if let Some(enabled) = repr.enabled {
        user.enabled = enabled;
    }
    if let Some(verified) = repr.email_verified {
        user.email_verified = verified;
    }
    if let Some(attributes) = &repr.attributes {
        user.attributes = super::role_edits::checked_attributes(attributes)?;
    }
    if let Some(actions) = &repr.required_actions {
        user.required_actions = actions
            .iter()
            .map(|a| a.trim().to_owned())
            .filter(|a| !a.is_empty())
            .collect();
        user.required_actions.dedup();
    }
    Ok(())
}

/// Creates a user from a representation, with its password, groups and realm roles.
pub async fn create(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    repr: &UserRepr,
) -> Result<User, OpsError> {
    let granted = authorize::<ManageUsers>(state, actor, realm).await?;
    let username = Username::parse(repr.username.as_deref().unwrap_or_default())?;
    let mut user = User::new(granted.realm().id.clone(), username.clone());
    merge(
        &mut user,
        &UserRepr {
            username: None,
            ..repr.clone()
        },
    )?;
    let password = password_of(repr.credentials.as_deref().unwrap_or_default())?;
    let phc = match &password {
        Some((secret, _)) => Some(
            state
                .passwords
                .hash(secret.clone())
                .await
                .map_err(anyhow::Error::from)?,
        ),
        None => None,
    };
    if let Some((_, temporary)) = &password {
        require_password_update(&mut user, *temporary);
    }
    let mut tx = granted.begin(state).await?;
    if let Some(email) = &user.email {
        if store::users::email_taken(tx.conn(), &granted.realm().id, email, &user.id).await? {
            return Err(OpsError::Conflict("User exists with same email".into()));
        }
    }
    insert_with_defaults(tx.conn(), granted.realm(), &user).await?;
    if let (Some(phc), Some((_, temporary))) = (&phc, &password) {
        store::users::set_password(tx.conn(), &user.id, phc, *temporary).await?;
    }
    for name in repr.realm_roles.iter().flatten() {
        let role = store::roles::find_realm_role(tx.conn(), &granted.realm().id, name)
            .await?
            .ok_or(OpsError::NotFound("Role"))?;
        granted.require_covers(&role_powers(tx.conn(), &granted, &role).await?)?;
        store::roles::grant_to_user(tx.conn(), &user.id, &role.id).await?;
    }
    if let Some(paths) = &repr.groups {
        let all = store::groups::list_all(tx.conn(), &granted.realm().id).await?;
        for path in paths {
            let group = all
                .iter()
                .find(|g| {
                    store::groups::path_of(&g.id, &all).as_deref()
                        == Some(normalise_path(path).as_str())
                })
                .ok_or(OpsError::NotFound("Group"))?;
            granted.require_covers(&group_powers(tx.conn(), &granted, &group.id).await?)?;
            store::groups::add_member(tx.conn(), &group.id, &user.id).await?;
        }
    }
    tx.commit(Change::create("USER", format!("users/{}", user.id)).with(&UserRepr::of(&user)))
        .await?;
    Ok(user)
}

fn normalise_path(path: &str) -> String {
    format!("/{}", path.trim().trim_start_matches('/'))
}

/// Merges a partial representation into a user; disabling revokes its tokens.
pub async fn update(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
    repr: &UserRepr,
) -> Result<User, OpsError> {
    let granted = authorize::<ManageUsers>(state, actor, realm).await?;
    let mut user = find_to_manage(state, &granted, id).await?;
    merge(&mut user, repr)?;
    let password = inline_password(repr.credentials.as_deref().unwrap_or_default())?;
    let phc = match &password {
        Some((secret, temporary)) => {
            if *temporary && !user.required_actions.iter().any(|a| a == UPDATE_PASSWORD) {
                user.required_actions.push(UPDATE_PASSWORD.to_owned());
            }
            let hashed = state.passwords.hash(secret.clone()).await;
            Some((hashed.map_err(anyhow::Error::from)?, *temporary))
        }
        None => None,
    };
    let mut tx = granted.begin(state).await?;
    tx.require_covers(&user.id).await?;
    if let Some(email) = &user.email {
        if store::users::email_taken(tx.conn(), &granted.realm().id, email, &user.id).await? {
            return Err(OpsError::Conflict("User exists with same email".into()));
        }
    }
    if !store::users::update(tx.conn(), &user).await? {
        return Err(OpsError::NotFound("User"));
    }
    if let Some((phc, temporary)) = &phc {
        store::users::set_password(tx.conn(), &user.id, phc, *temporary).await?;
    }
    if !user.enabled || phc.is_some() {
        store::tokens::revoke_all_for_user(tx.conn(), &user.id).await?;
        store::sessions::delete_for_user(tx.conn(), &user.id).await?;
    }
    tx.commit(Change::update("USER", format!("users/{}", user.id)).with(&UserRepr::of(&user)))
        .await?;
    Ok(user)
}

pub async fn delete(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
) -> Result<(), OpsError> {
    let granted = authorize::<ManageUsers>(state, actor, realm).await?;
    let user = find_to_manage(state, &granted, id).await?;
    let mut tx = granted.begin(state).await?;
    tx.require_covers(&user.id).await?;
    store::users::delete(tx.conn(), &granted.realm().id, &user.id).await?;
    tx.commit(Change::delete("USER", format!("users/{}", user.id)))
        .await?;
    Ok(())
}

/// Sets a user's password (Keycloak's reset-password).
pub async fn reset_password(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
    credential: &CredentialRepr,
) -> Result<(), OpsError> {
    let granted = authorize::<ManageUsers>(state, actor, realm).await?;
    let user = find_to_manage(state, &granted, id).await?;
    let (password, temporary) = reset_password_of(credential)?;
    let phc = state
        .passwords
        .hash(password)
        .await
        .map_err(anyhow::Error::from)?;
    store_password(state, &granted, &user, &phc, temporary).await
}

/// Sets a user's password from a hash already made (or read from a Keycloak export), as
/// reset-password does.
pub async fn set_password_from_hash(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
    phc: &str,
    temporary: bool,
) -> Result<(), OpsError> {
    let granted = authorize::<ManageUsers>(state, actor, realm).await?;
    let user = find_to_manage(state, &granted, id).await?;
    store_password(state, &granted, &user, phc, temporary).await
}

/// Stores `phc` as the password of `user`, recorded as Keycloak records a reset-password.
async fn store_password(
    state: &AppState,
    granted: &Granted<ManageUsers>,
    user: &User,
    phc: &str,
    temporary: bool,
) -> Result<(), OpsError> {
    let mut tx = granted.begin(state).await?;
    tx.require_covers(&user.id).await?;
    set_password_hash(tx.conn(), user, phc, temporary).await?;
    tx.commit(Change::action(
        "USER",
        format!("users/{}/reset-password", user.id),
    ))
    .await?;
    Ok(())
}

/// The realm roles mapped to the user directly.
pub async fn realm_roles(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
) -> Result<Vec<Role>, OpsError> {
    let granted = authorize::<ViewUsers>(state, actor, realm).await?;
    let user = find(state, &granted, id).await?;
    Ok(store::roles::user_realm_roles(state.db.read(), &granted.realm().id, &user.id).await?)
}

/// Grants (`add`) or takes away realm roles, each named by id or name.
pub async fn map_realm_roles(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
    roles: &[(Option<String>, Option<String>)],
    add: bool,
) -> Result<(), OpsError> {
    let granted = authorize::<ManageUsers>(state, actor, realm).await?;
    let user = find_to_manage(state, &granted, id).await?;
    let mut tx = granted.begin(state).await?;
    tx.require_covers(&user.id).await?;
    for (role_id, name) in roles {
        let role = resolve_realm_role(
            tx.conn(),
            granted.realm(),
            role_id.as_deref(),
            name.as_deref(),
        )
        .await?;
        granted.require_covers(&role_powers(tx.conn(), &granted, &role).await?)?;
        if add {
            store::roles::grant_to_user(tx.conn(), &user.id, &role.id).await?;
        } else {
            store::roles::revoke_from_user(tx.conn(), &user.id, &role.id).await?;
        }
    }
    let operation = if add {
        super::audited::Operation::Create
    } else {
        super::audited::Operation::Delete
    };
    tx.commit(Change::new(
        operation,
        "REALM_ROLE_MAPPING",
        format!("users/{}/role-mappings/realm", user.id),
    ))
    .await?;
    Ok(())
}

/// The powers a role carries, composites included: handing it out (or taking it away)
/// needs them all, so `manage-users` cannot promote anyone above the actor, and only a master
/// admin hands out master's `admin` and `create-realm`.
pub async fn role_powers<R: super::access::Right>(
    conn: &mut Conn,
    granted: &Granted<R>,
    role: &Role,
) -> Result<Powers, OpsError> {
    let roles = store::roles::role_effective_roles(&mut *conn, &role.id).await?;
    Ok(Powers::of(&roles, granted.in_master()))
}

/// The powers that membership of a group carries (its roles and its ancestors').
pub async fn group_powers<R: super::access::Right>(
    conn: &mut Conn,
    granted: &Granted<R>,
    group: &GroupId,
) -> Result<Powers, OpsError> {
    let roles = store::roles::group_effective_roles(&mut *conn, group).await?;
    Ok(Powers::of(&roles, granted.in_master()))
}

/// A realm role of `realm` by id (preferred) or name.
pub async fn resolve_realm_role(
    conn: &mut Conn,
    realm: &Realm,
    id: Option<&str>,
    name: Option<&str>,
) -> Result<Role, OpsError> {
    let by_id = match id.and_then(RoleId::parse) {
        Some(id) => store::roles::find_by_id(&mut *conn, &realm.id, &id)
            .await?
            .filter(|r| r.client_id.is_none()),
        None => None,
    };
    match (by_id, name) {
        (Some(role), _) => Ok(role),
        (None, Some(name)) => store::roles::find_realm_role(&mut *conn, &realm.id, name)
            .await?
            .ok_or(OpsError::NotFound("Role")),
        (None, None) => Err(OpsError::NotFound("Role")),
    }
}

/// The groups the user belongs to directly.
pub async fn groups(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
) -> Result<(Vec<GroupId>, Vec<crate::domain::Group>), OpsError> {
    let granted = authorize::<ViewUsers>(state, actor, realm).await?;
    let user = find(state, &granted, id).await?;
    let ids = store::users::group_ids(state.db.read(), &user.id).await?;
    let all = store::groups::list_all(state.db.read(), &granted.realm().id).await?;
    Ok((ids, all))
}

/// Adds the user to a group (`join`) or removes them from it.
pub async fn set_membership(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
    group_id: &str,
    join: bool,
) -> Result<(), OpsError> {
    let granted = authorize::<ManageUsers>(state, actor, realm).await?;
    let user = find_to_manage(state, &granted, id).await?;
    let group_id = GroupId::parse(group_id).ok_or(OpsError::NotFound("Group"))?;
    let group = store::groups::find_by_id(state.db.read(), &granted.realm().id, &group_id)
        .await?
        .ok_or(OpsError::NotFound("Group"))?;
    let mut tx = granted.begin(state).await?;
    tx.require_covers(&user.id).await?;
    granted.require_covers(&group_powers(tx.conn(), &granted, &group.id).await?)?;
    if join {
        store::groups::add_member(tx.conn(), &group.id, &user.id).await?;
    } else {
        store::groups::remove_member(tx.conn(), &group.id, &user.id).await?;
    }
    let operation = if join {
        super::audited::Operation::Create
    } else {
        super::audited::Operation::Delete
    };
    tx.commit(Change::new(
        operation,
        "GROUP_MEMBERSHIP",
        format!("users/{}/groups/{}", user.id, group.id),
    ))
    .await?;
    Ok(())
}

/// The user's live refresh and identity tokens.
pub async fn tokens(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
) -> Result<Vec<StoredToken>, OpsError> {
    let granted = authorize::<ViewUsers>(state, actor, realm).await?;
    let user = find(state, &granted, id).await?;
    Ok(store::tokens::list_for_user(
        state.db.read(),
        &granted.realm().id,
        &user.id,
        crate::clock::now_secs(),
    )
    .await?)
}

/// Revokes one of the user's tokens by its id.
pub async fn revoke_token(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
    token_id: &str,
) -> Result<(), OpsError> {
    let granted = authorize::<ManageUsers>(state, actor, realm).await?;
    let user = find_to_manage(state, &granted, id).await?;
    let mut tx = granted.begin(state).await?;
    tx.require_covers(&user.id).await?;
    if !store::tokens::revoke(tx.conn(), &granted.realm().id, &user.id, token_id).await? {
        return Err(OpsError::NotFound("Token"));
    }
    tx.commit(Change::delete(
        "USER_TOKEN",
        format!("users/{}/tokens/{}", user.id, token_id),
    ))
    .await?;
    Ok(())
}

/// Ends all of the user's sessions and revokes every token (Keycloak's user logout).
pub async fn logout(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
) -> Result<(), OpsError> {
    let granted = authorize::<ManageUsers>(state, actor, realm).await?;
    let user = find_to_manage(state, &granted, id).await?;
    let mut tx = granted.begin(state).await?;
    tx.require_covers(&user.id).await?;
    store::tokens::revoke_all_for_user(tx.conn(), &user.id).await?;
    store::sessions::delete_for_user(tx.conn(), &user.id).await?;
    tx.commit(Change::action("USER", format!("users/{}/logout", user.id)))
        .await?;
    Ok(())
}
