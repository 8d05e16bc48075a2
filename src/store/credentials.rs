//! A user's credentials as Keycloak's admin API lists them: id, type, label, creation date
//! and place in the list. Setting a password lives with the user (`users::set_password`).

use super::{sql, Conn, Exec};

use super::StoreError;
use crate::domain::UserId;

/// Keycloak's gap between neighbouring priorities.
const PRIORITY_STEP: i64 = 10;

/// A stored credential. `secret_data` is the PHC string of a password.
#[derive(Debug, Clone)]
pub struct StoredCredential {
    pub id: String,
    pub kind: String,
    pub user_label: Option<String>,
    /// Seconds since the epoch.
    pub created_at: i64,
    pub priority: i64,
    pub secret_data: String,
}

/// The user's credentials in Keycloak's order (priority, then age).
pub async fn list_for_user(
    db: impl Into<Exec<'_>>,
    user: &UserId,
) -> Result<Vec<StoredCredential>, StoreError> {
    Ok(sql!(
        db,
        query_as!(
            StoredCredential,
            r#"SELECT id AS "id!", type AS kind, user_label, created_at, priority, secret_data
         FROM credential WHERE user_id = $1 ORDER BY priority, created_at, id"#,
            user
        )
        .fetch_all
    )?)
}

/// One of the user's credentials by id (another user's is not found).
pub async fn find(
    db: impl Into<Exec<'_>>,
    user: &UserId,
    id: &str,
) -> Result<Option<StoredCredential>, StoreError> {
    Ok(sql!(
        db,
        query_as!(
            StoredCredential,
            r#"SELECT id AS "id!", type AS kind, user_label, created_at, priority, secret_data
         FROM credential WHERE user_id = $1 AND id = $2"#,
            user,
            id
        )
        .fetch_optional
    )?)
}

/// Removes one of the user's credentials and closes the gap it leaves in the list, as
/// Keycloak does; false if there was none.
pub async fn delete(conn: &mut Conn, user: &UserId, id: &str) -> Result<bool, StoreError> {
    let Some(removed) = find(&mut *conn, user, id).await? else {
        return Ok(false);
    };
    sql!(
        &mut *conn,
        query!(
            "DELETE FROM credential WHERE user_id = $1 AND id = $2",
            user,
            id
        )
        .execute
    )?;
    sql!(
        &mut *conn,
        query!(
            "UPDATE credential SET priority = priority - $1 WHERE user_id = $2 AND priority > $3",
            PRIORITY_STEP,
            user,
            removed.priority
        )
        .execute
    )?;
    Ok(true)
}

/// Sets the label of one of the user's credentials; false if there is no such credential.
pub async fn set_label(
    db: impl Into<Exec<'_>>,
    user: &UserId,
    id: &str,
    label: &str,
) -> Result<bool, StoreError> {
    let done = sql!(
        db,
        query!(
            "UPDATE credential SET user_label = $1 WHERE user_id = $2 AND id = $3",
            label,
            user,
            id
        )
        .execute
    )?;
    Ok(done == 1)
}

/// Moves credential `id` to the top of the user's list (`after` None) or just below
/// `after`, then renumbers the list 10, 20, 30... as Keycloak does. Nothing changes if
/// either credential is not the user's (Keycloak answers that move with success too).
pub async fn move_after(
    conn: &mut Conn,
    user: &UserId,
    id: &str,
    after: Option<&str>,
) -> Result<(), StoreError> {
    let mut ids: Vec<String> = list_for_user(&mut *conn, user)
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    let Some(order) = reordered(&mut ids, id, after) else {
        return Ok(());
    };
    for (index, id) in order.iter().enumerate() {
        let priority = (index as i64 + 1) * PRIORITY_STEP;
        sql!(
            &mut *conn,
            query!(
                "UPDATE credential SET priority = $1 WHERE user_id = $2 AND id = $3",
                priority,
                user,
                id
            )
            .execute
        )?;
    }
    Ok(())
}

/// The list with `id` moved to the front or just after `after`; None if either is missing.
fn reordered<'a>(ids: &'a mut Vec<String>, id: &str, after: Option<&str>) -> Option<&'a [String]> {
    let from = ids.iter().position(|c| c == id)?;
    let moved = ids.remove(from);
    let to = match after {
        None => 0,
        Some(after) if after == id => return None,
        Some(after) => ids.iter().position(|c| c == after)? + 1,
    };
    ids.insert(to, moved);
    Some(ids)
}

/// Replaces the user's password hash by `fresh` only if it is still `verified`, the hash
/// a sign-in has just checked (a password changed meanwhile is left alone). The credential
/// keeps its id, label, creation date and place, as in Keycloak's re-hash.
pub async fn replace_password_hash(
    db: impl Into<Exec<'_>>,
    user: &UserId,
    verified: &str,
    fresh: &str,
) -> Result<bool, StoreError> {
    let done = sql!(
        db,
        query!(
            "UPDATE credential SET secret_data = $1
         WHERE user_id = $2 AND type = 'password' AND secret_data = $3",
            fresh,
            user,
            verified
        )
        .execute
    )?;
    Ok(done == 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Realm, RealmName, User, Username};
    use crate::store::{self, realms, users};

    #[tokio::test]
    async fn a_rehash_never_undoes_a_password_changed_meanwhile() {
        let dir = tempfile::tempdir().unwrap();
        let db = store::open(&format!("sqlite://{}/kw.db", dir.path().display()))
            .await
            .unwrap();
        let realm = Realm::new(RealmName::parse("team").unwrap());
        realms::insert(db.write(), &realm).await.unwrap();
        let user = User::new(realm.id.clone(), Username::parse("dev").unwrap());
        users::insert(db.write(), &user).await.unwrap();
        users::set_password(db.write(), &user.id, "$pbkdf2-sha256$old", false)
            .await
            .unwrap();
        let before = list_for_user(db.read(), &user.id).await.unwrap();
        set_label(db.write(), &user.id, &before[0].id, "mine")
            .await
            .unwrap();

        assert!(
            replace_password_hash(db.write(), &user.id, "$pbkdf2-sha256$old", "$argon2id$new")
                .await
                .unwrap()
        );
        let after = list_for_user(db.read(), &user.id).await.unwrap();
        assert_eq!(after[0].secret_data, "$argon2id$new");
        assert_eq!(
            (&after[0].id, &after[0].user_label, after[0].created_at),
            (
                &before[0].id,
                &Some("mine".to_owned()),
                before[0].created_at
            ),
            "the same credential, label and date"
        );

        users::set_password(db.write(), &user.id, "$argon2id$changed", false)
            .await
            .unwrap();
        assert!(
            !replace_password_hash(db.write(), &user.id, "$argon2id$new", "$argon2id$late")
                .await
                .unwrap(),
            "a late re-hash of the old password is dropped"
        );
        let stored = users::password_hash(db.read(), &user.id).await.unwrap();
        assert_eq!(stored.as_deref(), Some("$argon2id$changed"));
    }

    fn ids(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn moves_follow_keycloaks_linked_list() {
        let mut list = ids(&["a", "b", "c"]);
        assert_eq!(
            reordered(&mut list, "c", None).unwrap(),
            ids(&["c", "a", "b"])
        );
        let mut list = ids(&["a", "b", "c"]);
        assert_eq!(
            reordered(&mut list, "a", Some("b")).unwrap(),
            ids(&["b", "a", "c"])
        );
        let mut list = ids(&["a", "b", "c"]);
        assert_eq!(
            reordered(&mut list, "a", Some("c")).unwrap(),
            ids(&["b", "c", "a"])
        );
        let mut list = ids(&["a", "b", "c"]);
        assert_eq!(
            reordered(&mut list, "c", Some("a")).unwrap(),
            ids(&["a", "c", "b"])
        );
        assert!(reordered(&mut ids(&["a"]), "x", None).is_none());
        assert!(reordered(&mut ids(&["a", "b"]), "a", Some("x")).is_none());
        assert!(reordered(&mut ids(&["a", "b"]), "a", Some("a")).is_none());
    }
}
