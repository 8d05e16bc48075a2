//! A realm's event settings (Keycloak's `events/config`) and clearing its stored events.

use super::access::{authorize, Actor, ManageEvents, ViewEvents};
use super::audited::Change;
use super::OpsError;
use crate::admin::repr::EventsConfigRepr;
use crate::domain::Realm;
use crate::state::AppState;
use crate::store::events::EventKind;
use crate::store::{self};

/// Rows deleted per write when a realm's events are cleared.
const CLEAR_BATCH: i64 = 5000;

/// The realm's event settings.
pub async fn get(state: &AppState, actor: &Actor, realm: &str) -> Result<Realm, OpsError> {
    let granted = authorize::<ViewEvents>(state, actor, realm).await?;
    Ok(granted.realm().clone())
}

/// Replaces the realm's event settings, as Keycloak's PUT does: `eventsEnabled` and
/// `eventsExpiration` fall back to off and 0 when absent, the other fields keep their value.
/// The change is recorded as an admin event if admin events were on before or after it.
pub async fn update(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    repr: &EventsConfigRepr,
) -> Result<Realm, OpsError> {
    let granted = authorize::<ManageEvents>(state, actor, realm).await?;
    let mut realm = granted.realm().clone();
    let repr = EventsConfigRepr {
        events_enabled: Some(repr.events_enabled.unwrap_or(false)),
        events_expiration: Some(repr.events_expiration.unwrap_or(0)),
        ..repr.clone()
    };
    repr.apply(&mut realm).map_err(OpsError::Invalid)?;
    let mut change = Change::update("REALM", "events/config").with(&repr);
    if granted.realm().admin_events_enabled {
        change = change.even_if_disabled();
    }
    let mut tx = granted.begin(state).await?;
    store::realms::update(tx.conn(), &realm).await?;
    tx.commit(change).await?;
    Ok(realm)
}

/// Deletes every stored event of the kind in the realm, in batches.
pub async fn clear(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    kind: EventKind,
) -> Result<(), OpsError> {
    let granted = authorize::<ManageEvents>(state, actor, realm).await?;
    if kind == EventKind::Login {
        state.login_log.flush().await;
    }
    let realm_id = &granted.realm().id;
    while store::events::delete_batch(&state.db, kind, realm_id, i64::MAX, CLEAR_BATCH).await?
        == CLEAR_BATCH as u64
    {
        tokio::task::yield_now().await;
    }
    Ok(())
}
