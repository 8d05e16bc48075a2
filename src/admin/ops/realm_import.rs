//! Importing a realm from its representation (a create with content, or `--import-realm` at
//! start). Everything cheap is checked first (the name is free, every username is valid and
//! unique), then passwords are hashed a few at a time on the password threads, and only then
//! is everything written in one transaction. A caller that goes away stops the import: the
//! hashing futures are dropped with the request, and queued hashes whose caller is gone are
//! skipped.

use std::collections::{HashMap, HashSet};

use futures_util::{StreamExt, TryStreamExt};
use secrecy::SecretString;
use sqlx::SqliteConnection;

use super::realms::{provision, role};
use super::OpsError;
use crate::admin::repr::{GroupRepr, RealmRepr, UserRepr};
use crate::domain::{Group, GroupId, Realm, RealmName, User, Username};
use crate::state::AppState;
use crate::store;

/// Password hashes computed at once per import, so one import cannot fill the hashing queue
/// ahead of every sign-in.
const HASHES_IN_FLIGHT: usize = 4;

/// What an import needs besides its representation, computed before any write.
pub struct Prepared {
    realm: Realm,
    hashes: Vec<Option<(String, bool)>>,
}

/// Creates a realm with everything its representation carries, in one transaction: nothing
/// is written unless all of it is.
pub async fn import(state: &AppState, repr: &RealmRepr) -> Result<Realm, OpsError> {
    let prepared = prepare(state, repr).await?;
    let mut tx = state.db.begin().await?;
    let realm = write(state, &mut tx, repr, prepared).await?;
    tx.commit().await?;
    Ok(realm)
}

/// Validates the representation, refuses a realm name in use, and hashes the passwords.
pub async fn prepare(state: &AppState, repr: &RealmRepr) -> Result<Prepared, OpsError> {
    let name = RealmName::parse(repr.realm.as_deref().unwrap_or_default())?;
    let mut realm = Realm::new(name);
    repr.apply_settings(&mut realm).map_err(OpsError::Invalid)?;
    ensure_name_free(state.db.read(), &realm).await?;
    let users = repr.users.as_deref().unwrap_or_default();
    check_usernames(users)?;
    let hashes = hash_passwords(state, users).await?;
    Ok(Prepared { realm, hashes })
}

async fn ensure_name_free(
    db: impl sqlx::SqliteExecutor<'_>,
    realm: &Realm,
) -> Result<(), OpsError> {
    if store::realms::find_by_name(db, realm.name.as_str())
        .await?
        .is_some()
    {
        return Err(OpsError::Conflict(
            "Conflict detected. See logs for details".into(),
        ));
    }
    Ok(())
}

/// Every imported user needs a valid username that no other imported user has.
fn check_usernames(users: &[UserRepr]) -> Result<(), OpsError> {
    let mut seen = HashSet::with_capacity(users.len());
    for (index, user) in users.iter().enumerate() {
        let username = Username::parse(user.username.as_deref().unwrap_or_default())
            .map_err(|e| OpsError::Invalid(format!("users[{index}].username: {e}")))?;
        if !seen.insert(username.to_string()) {
            return Err(OpsError::Conflict(format!(
                "users[{index}]: username {username} appears twice"
            )));
        }
    }
    Ok(())
}

/// Hashes the plain passwords of imported users, a few at a time, in the users' order.
async fn hash_passwords(
    state: &AppState,
    users: &[UserRepr],
) -> Result<Vec<Option<(String, bool)>>, OpsError> {
    futures_util::stream::iter(users)
        .map(|user| async move {
            let credential = user.credentials.iter().flatten().find(|c| {
                c.kind.as_deref().unwrap_or("password") == "password" && c.value.is_some()
            });
            let Some(credential) = credential else {
                return Ok(None);
            };
            let secret = SecretString::from(credential.value.clone().unwrap_or_default());
            let phc = state
                .passwords
                .hash(secret)
                .await
                .map_err(anyhow::Error::from)?;
            Ok::<_, OpsError>(Some((phc, credential.temporary.unwrap_or(false))))
        })
        .buffered(HASHES_IN_FLIGHT)
        .try_collect()
        .await
}

/// Writes a prepared realm and its content through `conn` (the caller's transaction).
pub async fn write(
    state: &AppState,
    conn: &mut SqliteConnection,
    repr: &RealmRepr,
    prepared: Prepared,
) -> Result<Realm, OpsError> {
    ensure_name_free(&mut *conn, &prepared.realm).await?;
    let realm = provision(&mut *conn, prepared.realm).await?;
    for role_repr in repr.roles.iter().flat_map(|r| r.realm.iter().flatten()) {
        let name = role_repr.name.as_deref().unwrap_or_default().trim();
        if name.is_empty()
            || store::roles::find_realm_role(&mut *conn, &realm.id, name)
                .await?
                .is_some()
        {
            continue;
        }
        let mut new_role = role(&realm, None, name);
        new_role.description = role_repr.description.clone();
        store::roles::insert(&mut *conn, &new_role).await?;
    }
    for group in repr.groups.iter().flatten() {
        import_group(&mut *conn, &realm, None, group).await?;
    }
    for client in repr.clients.iter().flatten() {
        let builtin = super::layout::is_layout_client(client.client_id.as_deref().unwrap_or(""));
        if !builtin {
            super::clients::insert_from(state, &mut *conn, &realm, client).await?;
        }
    }
    let all = store::groups::list_all(&mut *conn, &realm.id).await?;
    let group_paths: HashMap<String, GroupId> = all
        .iter()
        .filter_map(|g| Some((store::groups::path_of(&g.id, &all)?, g.id.clone())))
        .collect();
    for (user_repr, phc) in repr.users.iter().flatten().zip(prepared.hashes) {
        import_user(&mut *conn, &realm, &group_paths, user_repr, phc).await?;
    }
    Ok(realm)
}

fn import_group<'a>(
    conn: &'a mut SqliteConnection,
    realm: &'a Realm,
    parent: Option<&'a GroupId>,
    repr: &'a GroupRepr,
) -> futures_util::future::BoxFuture<'a, Result<(), OpsError>> {
    Box::pin(async move {
        let name = repr.name.as_deref().unwrap_or_default().trim();
        if name.is_empty() || name.contains('/') {
            return Err(OpsError::Invalid(format!("Invalid group name '{name}'")));
        }
        let group = Group {
            id: GroupId::new(),
            realm_id: realm.id.clone(),
            parent_id: parent.cloned(),
            name: name.to_owned(),
        };
        store::groups::insert(&mut *conn, &group).await?;
        for role_name in repr.realm_roles.iter().flatten() {
            let role = store::roles::find_realm_role(&mut *conn, &realm.id, role_name)
                .await?
                .ok_or_else(|| {
                    OpsError::Invalid(format!("Group '{name}' names unknown role '{role_name}'"))
                })?;
            store::roles::grant_to_group(&mut *conn, &group.id, &role.id).await?;
        }
        for child in repr.sub_groups.iter().flatten() {
            import_group(conn, realm, Some(&group.id), child).await?;
        }
        Ok(())
    })
}

async fn import_user(
    conn: &mut SqliteConnection,
    realm: &Realm,
    group_paths: &HashMap<String, GroupId>,
    repr: &UserRepr,
    phc: Option<(String, bool)>,
) -> Result<(), OpsError> {
    let username = Username::parse(repr.username.as_deref().unwrap_or_default())?;
    let mut user = User::new(realm.id.clone(), username);
    user.email = repr
        .email
        .clone()
        .filter(|e| !e.is_empty())
        .map(|e| e.to_lowercase());
    user.first_name = repr.first_name.clone();
    user.last_name = repr.last_name.clone();
    user.enabled = repr.enabled.unwrap_or(true);
    user.email_verified = repr.email_verified.unwrap_or(false);
    user.attributes = repr.attributes.clone().unwrap_or_default();
    user.required_actions = repr.required_actions.clone().unwrap_or_default();
    if let Some((_, temporary)) = &phc {
        super::users::require_password_update(&mut user, *temporary);
    }
    super::users::insert_with_defaults(conn, realm, &user).await?;
    if let Some((phc, temporary)) = phc {
        store::users::set_password(&mut *conn, &user.id, &phc, temporary).await?;
    }
    for role_name in repr.realm_roles.iter().flatten() {
        let role = store::roles::find_realm_role(&mut *conn, &realm.id, role_name)
            .await?
            .ok_or_else(|| {
                OpsError::Invalid(format!(
                    "User '{}' names unknown role '{role_name}'",
                    user.username
                ))
            })?;
        store::roles::grant_to_user(&mut *conn, &user.id, &role.id).await?;
    }
    for path in repr.groups.iter().flatten() {
        let wanted = format!("/{}", path.trim().trim_start_matches('/'));
        let group = group_paths.get(&wanted).ok_or_else(|| {
            OpsError::Invalid(format!(
                "User '{}' names unknown group '{path}'",
                user.username
            ))
        })?;
        store::groups::add_member(&mut *conn, group, &user.id).await?;
    }
    Ok(())
}
