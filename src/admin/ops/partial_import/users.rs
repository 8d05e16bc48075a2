//! The users of a partial import: their passwords are read before anything is written (a hash
//! in Keycloak's stored form is kept as it is, a plain value is hashed), then each user is
//! added, skipped or overwritten, with its password and its client role mappings.

use super::existing::Existing;
use super::{ImportResults, PartialImportRepr};
use crate::admin::ops::access::Actor;
use crate::admin::ops::realm_import::passwords::{self, Password};
use crate::admin::ops::{client_role_mappings, users, OpsError};
use crate::admin::repr::UserRepr;
use crate::state::AppState;

/// The passwords of the users that will be written (not those skipped), in their order.
pub(super) struct Prepared {
    passwords: Vec<Option<Password>>,
}

/// Reads (and hashes) the passwords of the users the import writes.
pub(super) async fn prepare(
    state: &AppState,
    repr: &PartialImportRepr,
    found: &Existing,
    overwrite: bool,
) -> Result<Prepared, OpsError> {
    let written: Vec<UserRepr> = repr
        .users
        .iter()
        .flatten()
        .filter(|u| overwrite || found.user_id(u).is_none())
        .cloned()
        .collect();
    // A hash of an algorithm keywarden does not know leaves the user without a password, as
    // a Keycloak without that algorithm's extension would.
    let mut unknown_algorithms = Vec::new();
    let passwords = passwords::prepare(state, &written, &mut unknown_algorithms).await?;
    Ok(Prepared { passwords })
}

/// Adds, skips or overwrites the import's users.
pub(super) async fn import(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    repr: &PartialImportRepr,
    found: &Existing,
    overwrite: bool,
    prepared: Prepared,
) -> Result<ImportResults, OpsError> {
    let mut results = ImportResults::default();
    let mut passwords = prepared.passwords.into_iter();
    for user in repr.users.iter().flatten() {
        let name = user.username.as_deref().unwrap_or_default().to_lowercase();
        let existing = found.user_id(user);
        if let (Some(id), false) = (existing, overwrite) {
            results.push("SKIPPED", "USER", &name, id.to_owned());
            continue;
        }
        let fresh = UserRepr {
            id: None,
            credentials: None,
            ..user.clone()
        };
        let id = match existing {
            Some(id) => {
                users::update(state, actor, realm, id, &fresh).await?;
                results.push("OVERWRITTEN", "USER", &name, id.to_owned());
                id.to_owned()
            }
            None => {
                let created = users::create(state, actor, realm, &fresh).await?;
                results.push("ADDED", "USER", &name, created.id.to_string());
                created.id.to_string()
            }
        };
        if let Some(password) = passwords.next().flatten() {
            let (phc, temporary) = (&password.phc, password.temporary);
            users::set_password_from_hash(state, actor, realm, &id, phc, temporary).await?;
        }
        for (client_id, names) in user.client_roles.iter().flatten() {
            client_role_mappings::map(state, actor, realm, &id, client_id, names, true).await?;
        }
    }
    Ok(results)
}
