//! The one write path of the admin operations: a transaction that only a grant of a writing
//! right can open, and that commits only together with its admin event (who changed what, and
//! the representation written, secrets masked).

use crate::store::{Conn, Tx};
use serde::Serialize;
use serde_json::Value;

use super::access::{Actor, Granted, Powers, RealmCreation, Writes};
use super::OpsError;
use crate::domain::{ClientUuid, RealmId, UserId};
use crate::state::AppState;
use crate::store::{self, events::AdminEvent};

/// What the mask of a secret reads, as Keycloak writes it.
pub const MASKED: &str = "**********";

/// What kind of change an admin event records.
#[derive(Debug, Clone, Copy)]
pub enum Operation {
    Create,
    Update,
    Delete,
    Action,
}

impl Operation {
    fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
            Operation::Action => "ACTION",
        }
    }
}

/// The admin event of a write: operation, resource and, optionally, what was written.
#[derive(Debug)]
pub struct Change {
    operation: Operation,
    resource_type: &'static str,
    resource_path: String,
    representation: Option<Value>,
    even_if_disabled: bool,
}

impl Change {
    pub fn new(operation: Operation, resource_type: &'static str, path: impl Into<String>) -> Self {
        Change {
            operation,
            resource_type,
            resource_path: path.into(),
            representation: None,
            even_if_disabled: false,
        }
    }

    /// Records the change even if the realm keeps no admin events once it is made (switching
    /// admin events off is the last one kept, as in Keycloak).
    pub fn even_if_disabled(mut self) -> Self {
        self.even_if_disabled = true;
        self
    }

    pub fn create(resource_type: &'static str, path: impl Into<String>) -> Self {
        Change::new(Operation::Create, resource_type, path)
    }

    pub fn update(resource_type: &'static str, path: impl Into<String>) -> Self {
        Change::new(Operation::Update, resource_type, path)
    }

    pub fn delete(resource_type: &'static str, path: impl Into<String>) -> Self {
        Change::new(Operation::Delete, resource_type, path)
    }

    pub fn action(resource_type: &'static str, path: impl Into<String>) -> Self {
        Change::new(Operation::Action, resource_type, path)
    }

    /// Attaches the representation written, with every secret masked.
    pub fn with(mut self, representation: &impl Serialize) -> Self {
        self.representation = serde_json::to_value(representation).ok().map(|mut value| {
            mask_secrets(&mut value);
            value
        });
        self
    }
}

/// Replaces secrets (a client's `secret`, a credential's `value`) by the mask, at any depth.
fn mask_secrets(value: &mut Value) {
    match value {
        Value::Object(fields) => {
            for (key, field) in fields.iter_mut() {
                let secret = matches!(key.as_str(), "secret" | "value" | "password");
                if secret && field.is_string() {
                    *field = Value::String(MASKED.into());
                } else {
                    mask_secrets(field);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_secrets),
        _ => {}
    }
}

/// Whether the actor signed in to master, whose roles reach every realm.
fn in_master(actor: &Actor) -> bool {
    actor.realm_name == super::realms::MASTER
}

/// A write transaction that must end with its admin event.
pub struct Audited<'a> {
    tx: Tx,
    actor: &'a Actor,
    realm: RealmId,
    in_master: bool,
}

impl<R: Writes> Granted<R> {
    /// Opens the audited write transaction of this grant; its event goes to the granted realm.
    pub async fn begin(&self, state: &AppState) -> Result<Audited<'_>, OpsError> {
        Audited::open(
            state,
            self.actor(),
            self.realm().id.clone(),
            self.in_master(),
        )
        .await
    }
}

impl RealmCreation {
    /// Opens the audited transaction that creates a realm; like a realm's deletion, its event
    /// is recorded in the actor's realm (master), as Keycloak does.
    pub async fn begin(&self, state: &AppState) -> Result<Audited<'_>, OpsError> {
        let actor = self.actor();
        Audited::open(state, actor, actor.realm_id.clone(), in_master(actor)).await
    }
}

impl<'a> Audited<'a> {
    async fn open(
        state: &AppState,
        actor: &'a Actor,
        realm: RealmId,
        in_master: bool,
    ) -> Result<Audited<'a>, OpsError> {
        Ok(Audited {
            tx: state.db.begin().await?,
            actor,
            realm,
            in_master,
        })
    }

    /// An audited transaction whose event is recorded in the actor's own realm (for a change
    /// that removes the realm it concerns).
    pub(super) async fn in_actor_realm(
        state: &AppState,
        actor: &'a Actor,
    ) -> Result<Audited<'a>, OpsError> {
        Audited::open(state, actor, actor.realm_id.clone(), in_master(actor)).await
    }

    /// Refuses unless the actor holds every admin power of `user`, read inside this
    /// transaction: writes go one at a time through the single writer, so no role can reach
    /// the user between this check and the commit.
    pub async fn require_covers(&mut self, user: &UserId) -> Result<(), OpsError> {
        let roles = store::roles::effective_roles(&mut *self.tx, user).await?;
        if self
            .actor
            .covers(&self.realm, &Powers::of(&roles, self.in_master))
        {
            Ok(())
        } else {
            Err(OpsError::Forbidden)
        }
    }

    /// The same check for the service account of `client`, if it has one.
    pub async fn require_covers_service_account(
        &mut self,
        client: &ClientUuid,
    ) -> Result<(), OpsError> {
        let account =
            store::users::find_service_account(&mut *self.tx, &self.realm, client).await?;
        match account {
            Some(user) => self.require_covers(&user.id).await,
            None => Ok(()),
        }
    }

    /// The connection to write through.
    pub fn conn(&mut self) -> &mut Conn {
        &mut self.tx
    }

    /// Commits one of the few writes Keycloak records no admin event for (a credential's
    /// label or place in the user's list).
    pub async fn commit_unrecorded(mut self) -> Result<(), OpsError> {
        self.check_own_powers().await?;
        self.tx.commit().await?;
        Ok(())
    }

    /// Refuses, when the actor asked to be warned, a write that leaves them with fewer admin
    /// powers than they had: their roles are read again inside this transaction.
    async fn check_own_powers(&mut self) -> Result<(), OpsError> {
        if !self.actor.keep_own_powers {
            return Ok(());
        }
        let roles = store::roles::effective_roles(&mut *self.tx, &self.actor.user_id).await?;
        if Powers::of(&roles, in_master(self.actor)).keeps(&self.actor.powers) {
            Ok(())
        } else {
            Err(OpsError::Refused(super::LOSES_OWN_POWERS.to_owned()))
        }
    }

    /// Records the admin event and commits: both happen, or neither.
    pub async fn commit(mut self, change: Change) -> Result<(), OpsError> {
        self.check_own_powers().await?;
        let event = AdminEvent {
            realm_id: self.realm,
            operation_type: change.operation.as_str(),
            resource_type: change.resource_type,
            resource_path: change.resource_path,
            auth_realm_id: Some(self.actor.realm_id.to_string()),
            auth_user_id: Some(self.actor.user_id.to_string()),
            ip_address: self.actor.ip.clone(),
            representation: change.representation.map(|r| r.to_string()),
            even_if_disabled: change.even_if_disabled,
        };
        store::events::insert_admin(&mut *self.tx, &event).await?;
        self.tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_are_masked_at_any_depth() {
        let change = Change::update("CLIENT", "clients/x").with(&json!({
            "clientId": "app",
            "secret": "s3cr3t",
            "credentials": [{"type": "password", "value": "hunter2"}],
        }));
        let text = change.representation.unwrap().to_string();
        assert!(
            !text.contains("s3cr3t") && !text.contains("hunter2"),
            "{text}"
        );
        assert!(text.contains(MASKED) && text.contains("\"app\""));
    }
}
