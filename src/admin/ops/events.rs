//! Admin events: every change records who made it, on what, and the representation written.

use serde::Serialize;
use sqlx::SqliteConnection;

use super::access::Granted;
use super::OpsError;
use crate::store::{self, events::AdminEvent};

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

/// Records an admin event in the caller's transaction.
pub async fn record(
    conn: &mut SqliteConnection,
    granted: &Granted,
    operation: Operation,
    resource_type: &'static str,
    resource_path: String,
    representation: Option<&impl Serialize>,
) -> Result<(), OpsError> {
    let actor = granted.actor();
    let event = AdminEvent {
        realm_id: granted.realm().id.clone(),
        operation_type: operation.as_str(),
        resource_type,
        resource_path,
        auth_realm_id: Some(actor.realm_id.to_string()),
        auth_user_id: Some(actor.user_id.to_string()),
        ip_address: actor.ip.clone(),
        representation: representation.map(|r| serde_json::to_string(r).unwrap_or_default()),
    };
    store::events::insert_admin(conn, &event).await?;
    Ok(())
}
