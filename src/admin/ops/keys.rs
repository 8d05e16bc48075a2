//! Realm signing key operations: rotation to the pre-generated next key (now or at a
//! scheduled time, see `key_rotation`), removal of passive keys, the key providers of the
//! components API, and what each registry's last download means for the next switch.

use super::access::{authorize, Actor, ManageRealm, ViewRealm};
use super::audited::Change;
use super::OpsError;
use crate::crypto::keys::SigningAlgorithm;
use crate::domain::{Client, KeyId, Protocol, Realm, RealmKey};
use crate::key_rotation::{self, Plan, Readiness};
use crate::state::AppState;
use crate::store;

/// Registries listed on the Keys page, at most.
const MAX_REGISTRIES: i64 = 500;
/// How far ahead a rotation may be scheduled: a year.
const MAX_SCHEDULE_AHEAD: i64 = 366 * 24 * 3600;

/// Rotates the realm's keys now: each next key becomes ACTIVE, the keys it replaces stay
/// PASSIVE, and new next keys are generated. Answers the keys that sign from now on.
pub async fn rotate(
    state: &AppState,
    actor: &Actor,
    realm: &str,
) -> Result<Vec<RealmKey>, OpsError> {
    let granted = authorize::<ManageRealm>(state, actor, realm).await?;
    let (id, name) = (&granted.realm().id, granted.realm().name.as_str());
    let now = state.clock.now_secs();
    key_rotation::ensure_next(&state.db, id, name, now).await?;
    let keys = store::keys::list_all(state.db.write(), id).await?;
    let plan = Plan::of(keys, name, now, None).await?;
    if plan.promote.is_empty() {
        return Err(OpsError::Invalid(
            "The realm has no next key to rotate to".into(),
        ));
    }
    let promoted: Vec<RealmKey> = plan
        .promote
        .iter()
        .map(|k| RealmKey {
            status: "ACTIVE".into(),
            is_next: false,
            activates_at: None,
            ..k.clone()
        })
        .collect();
    let mut tx = granted.begin(state).await?;
    if !plan.apply(tx.conn()).await? {
        return Err(OpsError::Conflict(
            "The keys were just rotated by another request".into(),
        ));
    }
    tx.commit(Change::update("REALM_KEY", "keys")).await?;
    Ok(promoted)
}

/// Schedules the switch to the realm's next keys at `at` (seconds), or cancels it (`None`).
pub async fn schedule(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    at: Option<i64>,
) -> Result<(), OpsError> {
    let granted = authorize::<ManageRealm>(state, actor, realm).await?;
    let now = state.clock.now_secs();
    if let Some(at) = at {
        if at <= now {
            return Err(OpsError::Invalid(
                "The rotation time must be in the future".into(),
            ));
        }
        if at > now + MAX_SCHEDULE_AHEAD {
            return Err(OpsError::Invalid(
                "A rotation can be scheduled at most a year ahead".into(),
            ));
        }
    }
    let (id, name) = (&granted.realm().id, granted.realm().name.as_str());
    key_rotation::ensure_next(&state.db, id, name, now).await?;
    let mut tx = granted.begin(state).await?;
    store::keys::schedule_next(tx.conn(), id, at).await?;
    tx.commit(Change::update("REALM_KEY", "keys/next")).await?;
    Ok(())
}

/// A registry (docker-v2 client) as the Keys page shows it.
pub struct RegistryState {
    pub client: Client,
    /// When it was last given a bundle from the console or the admin API.
    pub downloaded_at: Option<i64>,
    /// The key ids that bundle carried.
    pub kids: Vec<String>,
    pub readiness: Readiness,
}

/// A realm's keys, its scheduled switch, and its registries' readiness for it.
pub struct KeysOverview {
    pub realm: Realm,
    /// The usable keys, next keys among them.
    pub keys: Vec<RealmKey>,
    /// When the next keys become active, if a rotation is scheduled.
    pub scheduled: Option<i64>,
    pub registries: Vec<RegistryState>,
}

/// The Keys page's view of the realm. Missing next keys are generated first.
pub async fn overview(
    state: &AppState,
    actor: &Actor,
    realm: &str,
) -> Result<KeysOverview, OpsError> {
    let granted = authorize::<ViewRealm>(state, actor, realm).await?;
    let id = &granted.realm().id;
    state
        .keyring
        .get(&state.db, id)
        .await
        .map_err(|e| anyhow::anyhow!(e))?;
    let keys = store::keys::list_usable(state.db.read(), id).await?;
    let downloads = store::registry_downloads::list(state.db.read(), id).await?;
    let clients = store::clients::search(state.db.read(), id, "", 0, MAX_REGISTRIES).await?;
    let registries = clients
        .into_iter()
        .filter(|c| c.protocol == Protocol::DockerV2)
        .map(|client| {
            let download = downloads.iter().find(|d| d.client_id == client.id);
            let algorithm =
                crate::keyring::requested_algorithm(&client, crate::keyring::ACCESS_TOKEN_ALG);
            RegistryState {
                readiness: key_rotation::readiness(
                    &keys,
                    algorithm.as_str(),
                    download.map(|d| d.kids.as_slice()),
                ),
                downloaded_at: download.map(|d| d.downloaded_at),
                kids: download.map(|d| d.kids.clone()).unwrap_or_default(),
                client,
            }
        })
        .collect();
    Ok(KeysOverview {
        realm: granted.realm().clone(),
        scheduled: key_rotation::scheduled(&keys),
        keys,
        registries,
    })
}

/// Records that `client` was just given a bundle carrying `kids` (its caller made the
/// download, under its own permission check).
pub async fn record_download(
    state: &AppState,
    client: &Client,
    kids: &[String],
) -> Result<(), OpsError> {
    store::registry_downloads::record(
        state.db.write(),
        &client.realm_id,
        &client.id,
        kids,
        state.clock.now_secs(),
    )
    .await?;
    Ok(())
}

/// One usable key of the realm by its row id.
pub async fn get(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
) -> Result<RealmKey, OpsError> {
    let granted = authorize::<ViewRealm>(state, actor, realm).await?;
    let id = KeyId::parse(id).ok_or(OpsError::NotFound("Key"))?;
    store::keys::list_usable(state.db.read(), &granted.realm().id)
        .await?
        .into_iter()
        .find(|k| k.id == id)
        .ok_or(OpsError::NotFound("Key"))
}

/// Removes a PASSIVE key: tokens it signed stop verifying. The ACTIVE key cannot be removed.
pub async fn remove(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
) -> Result<RealmKey, OpsError> {
    let granted = authorize::<ManageRealm>(state, actor, realm).await?;
    let key = get(state, actor, realm, id).await?;
    if key.status == "ACTIVE" {
        return Err(OpsError::Invalid(
            "The active key cannot be removed: rotate first".into(),
        ));
    }
    let mut tx = granted.begin(state).await?;
    store::keys::delete(tx.conn(), &granted.realm().id, &key.id).await?;
    tx.commit(Change::delete("REALM_KEY", format!("keys/{}", key.kid)))
        .await?;
    Ok(key)
}

/// A key provider's switches, as a component's `active` and `enabled` config carry them.
#[derive(Debug, Clone, Copy)]
pub struct ProviderSwitches {
    pub active: bool,
    pub enabled: bool,
}

impl ProviderSwitches {
    /// The key status these switches mean: DISABLED keys neither sign nor verify, PASSIVE
    /// keys only verify.
    fn status(self) -> &'static str {
        match (self.enabled, self.active) {
            (false, _) => "DISABLED",
            (true, true) => "ACTIVE",
            (true, false) => "PASSIVE",
        }
    }
}

/// Every key of the realm (its key-provider components), disabled ones too.
pub async fn providers(
    state: &AppState,
    actor: &Actor,
    realm: &str,
) -> Result<(crate::domain::Realm, Vec<RealmKey>), OpsError> {
    let granted = authorize::<ViewRealm>(state, actor, realm).await?;
    let keys = store::keys::list_all(state.db.read(), &granted.realm().id).await?;
    Ok((granted.realm().clone(), keys))
}

/// Adds a generated key for `algorithm` (Keycloak's `rsa-generated` or `ecdsa-generated`
/// component). An active key signs at once for the clients that ask for its algorithm;
/// other active keys of that algorithm stay active, so their tokens still verify.
pub async fn create_provider(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    algorithm: SigningAlgorithm,
    switches: ProviderSwitches,
) -> Result<RealmKey, OpsError> {
    let granted = authorize::<ManageRealm>(state, actor, realm).await?;
    let key = key_rotation::generate(
        &granted.realm().id,
        granted.realm().name.as_str(),
        algorithm,
        switches.status(),
        state.clock.now_secs(),
    )
    .await?;
    let mut tx = granted.begin(state).await?;
    store::keys::insert(tx.conn(), &key).await?;
    tx.commit(Change::create(
        "COMPONENT",
        format!("components/{}", key.id),
    ))
    .await?;
    Ok(key)
}

/// Turns a key provider on or off. The realm's last active RS256 key stays: it signs what
/// every client without a chosen algorithm gets. A next key turned active or disabled stops
/// being the next key (a new one is generated when the realm's keys are next loaded).
pub async fn switch_provider(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
    switches: ProviderSwitches,
) -> Result<RealmKey, OpsError> {
    let granted = authorize::<ManageRealm>(state, actor, realm).await?;
    let (key, others) = provider_and_others(state, &granted.realm().id, id).await?;
    if switches.status() != "ACTIVE" {
        keep_default_key(&key, &others)?;
    }
    let mut tx = granted.begin(state).await?;
    store::keys::set_status(tx.conn(), &granted.realm().id, &key.id, switches.status()).await?;
    if switches.status() != "ACTIVE" && last_active_of_its_algorithm(&key, &others) {
        store::keys::delete_next(tx.conn(), &granted.realm().id, &key.algorithm).await?;
    }
    tx.commit(Change::update(
        "COMPONENT",
        format!("components/{}", key.id),
    ))
    .await?;
    Ok(RealmKey {
        status: switches.status().into(),
        ..key
    })
}

/// Removes a key provider and its key: tokens it signed stop verifying. A removed next key
/// is replaced when the realm's keys are next loaded.
pub async fn remove_provider(
    state: &AppState,
    actor: &Actor,
    realm: &str,
    id: &str,
) -> Result<(), OpsError> {
    let granted = authorize::<ManageRealm>(state, actor, realm).await?;
    let (key, others) = provider_and_others(state, &granted.realm().id, id).await?;
    keep_default_key(&key, &others)?;
    let mut tx = granted.begin(state).await?;
    store::keys::delete(tx.conn(), &granted.realm().id, &key.id).await?;
    if last_active_of_its_algorithm(&key, &others) {
        store::keys::delete_next(tx.conn(), &granted.realm().id, &key.algorithm).await?;
    }
    tx.commit(Change::delete(
        "COMPONENT",
        format!("components/{}", key.id),
    ))
    .await?;
    Ok(())
}

async fn provider_and_others(
    state: &AppState,
    realm: &crate::domain::RealmId,
    id: &str,
) -> Result<(RealmKey, Vec<RealmKey>), OpsError> {
    let id = KeyId::parse(id).ok_or(OpsError::NotFound("Could not find component"))?;
    let (mine, others): (Vec<_>, Vec<_>) = store::keys::list_all(state.db.read(), realm)
        .await?
        .into_iter()
        .partition(|k| k.id == id);
    let key = mine
        .into_iter()
        .next()
        .ok_or(OpsError::NotFound("Could not find component"))?;
    Ok((key, others))
}

/// Whether `key` is its algorithm's only ACTIVE key: without it, the algorithm's next key
/// has nothing to succeed and goes too.
fn last_active_of_its_algorithm(key: &RealmKey, others: &[RealmKey]) -> bool {
    key.status == "ACTIVE"
        && !others
            .iter()
            .any(|k| k.status == "ACTIVE" && k.algorithm == key.algorithm)
}

fn keep_default_key(key: &RealmKey, others: &[RealmKey]) -> Result<(), OpsError> {
    let rs256 = SigningAlgorithm::Rs256.as_str();
    let last_default = key.status == "ACTIVE"
        && key.algorithm == rs256
        && !others
            .iter()
            .any(|k| k.status == "ACTIVE" && k.algorithm == rs256);
    if last_default {
        return Err(OpsError::Invalid(
            "The realm's only active RS256 key cannot be disabled or removed: add another first"
                .into(),
        ));
    }
    Ok(())
}
