//! User operations that carry rules beyond a plain write: default roles for new users,
//! and revoking every refresh token when a password changes or a user is disabled.

use sqlx::SqliteConnection;

use super::OpsError;
use crate::domain::{Realm, User};
use crate::store;

/// Inserts a user and grants the realm's default roles, as Keycloak does.
pub async fn create(
    conn: &mut SqliteConnection,
    realm: &Realm,
    user: &User,
) -> Result<(), OpsError> {
    store::users::insert(&mut *conn, user).await?;
    let default_roles = format!("default-roles-{}", realm.name);
    if let Some(role) = store::roles::find_realm_role(&mut *conn, &realm.id, &default_roles).await?
    {
        store::roles::grant_to_user(&mut *conn, &user.id, &role.id).await?;
    }
    Ok(())
}

/// Stores a new password hash (already computed off the runtime) and revokes the user's
/// refresh tokens, docker identity tokens included.
pub async fn set_password_hash(
    conn: &mut SqliteConnection,
    user: &User,
    phc: &str,
    temporary: bool,
) -> Result<(), OpsError> {
    store::users::set_password(&mut *conn, &user.id, phc, temporary).await?;
    store::tokens::revoke_all_for_user(&mut *conn, &user.id).await?;
    Ok(())
}

/// Writes a changed user; disabling one revokes its refresh tokens.
pub async fn update(conn: &mut SqliteConnection, user: &User) -> Result<(), OpsError> {
    if !store::users::update(&mut *conn, user).await? {
        return Err(OpsError::NotFound("User"));
    }
    if !user.enabled {
        store::tokens::revoke_all_for_user(&mut *conn, &user.id).await?;
    }
    Ok(())
}
