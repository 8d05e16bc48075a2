//! First start: the master realm, the bootstrap admin while master has no users, the built-in
//! clients and roles that realms of an older database lack, and the realm files of
//! `--import-realm`.

use std::path::Path;

use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};

use crate::admin::ops;
use crate::admin::ops::realms::MASTER;
use crate::admin::realm_file;
use crate::config::{BootstrapAdmin, Settings};
use crate::crypto::passwords;
use crate::domain::{User, Username};
use crate::state::AppState;
use crate::store::{self, Backend, Db};

/// The access token lifespan Keycloak gives a new master realm, in seconds.
const MASTER_ACCESS_TOKEN_LIFESPAN: i64 = 60;

/// Where `--import-realm` looks for realm JSON files, as in Keycloak.
pub const IMPORT_DIR: &str = "data/import";

/// Creates the master realm if missing, the bootstrap admin if master has no users, then
/// imports realm files when asked.
pub async fn run(state: &AppState) -> anyhow::Result<()> {
    // PostgreSQL replicas that start together take turns: the first creates what is missing,
    // the others find it there. (A SQLite file has one server.)
    let turn = match state.db.backend() {
        Backend::Postgres => {
            let mut turn = state.db.begin().await?;
            store::serialize_on(&mut turn, "start-up").await?;
            Some(turn)
        }
        Backend::Sqlite => None,
    };
    bootstrap_master(&state.db, &state.settings).await?;
    ops::layout::backfill(&state.db).await?;
    if state.settings.import_realm {
        import_realms(state, Path::new(IMPORT_DIR)).await?;
    }
    if let Some(turn) = turn {
        turn.commit().await?;
    }
    Ok(())
}

/// Imports the realms of `dir` in Keycloak's shapes (realm files, with their users inside or
/// in `{realm}-users-N.json` files beside them), skipping realms that already exist.
pub async fn import_realms(state: &AppState, dir: &Path) -> anyhow::Result<()> {
    let realms = realm_file::read_dir(dir).map_err(anyhow::Error::msg)?;
    for (file, realm) in realms {
        let name = realm.repr.realm.clone().unwrap_or_default();
        if store::realms::find_by_name(state.db.read(), &name)
            .await?
            .is_some()
        {
            tracing::info!(realm = %name, "realm exists; import skipped");
            continue;
        }
        let imported = ops::realm_import::import(state, &realm.repr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot import {}: {e}", file.display()))?;
        for part in realm.left_out.iter().chain(&imported.left_out) {
            tracing::warn!(realm = %name, "import left out {part}");
        }
        tracing::info!(realm = %name, file = %file.display(), "imported realm");
    }
    Ok(())
}

async fn bootstrap_master(db: &Db, settings: &Settings) -> anyhow::Result<()> {
    let master = match store::realms::find_by_name(db.read(), MASTER).await? {
        Some(realm) => realm,
        None => {
            let mut tx = db.begin().await?;
            let mut realm = ops::realms::create_named(&mut tx, MASTER).await?;
            // Keycloak's master realm issues access tokens for one minute.
            realm.access_token_lifespan = MASTER_ACCESS_TOKEN_LIFESPAN;
            store::realms::update(&mut *tx, &realm).await?;
            tx.commit().await?;
            tracing::info!("created the master realm");
            realm
        }
    };
    if store::users::any_in_realm(db.read(), &master.id).await? {
        return Ok(());
    }
    let (admin, generated) = match &settings.bootstrap_admin {
        Some(admin) => (admin.clone(), false),
        None if settings.dev_mode => (
            BootstrapAdmin {
                username: "admin".into(),
                password: SecretString::from(crate::crypto::random_token()[..20].to_owned()),
            },
            true,
        ),
        None => anyhow::bail!(
            "the master realm has no users: set KC_BOOTSTRAP_ADMIN_USERNAME and KC_BOOTSTRAP_ADMIN_PASSWORD"
        ),
    };
    let username = Username::parse(&admin.username).context("invalid bootstrap admin username")?;
    let password = admin.password.clone();
    let phc =
        tokio::task::spawn_blocking(move || passwords::hash_blocking(password.expose_secret()))
            .await??;
    let user = User::new(master.id.clone(), username);
    let mut tx = db.begin().await?;
    ops::users::insert_with_defaults(&mut tx, &master, &user).await?;
    ops::users::set_password_hash(&mut tx, &user, &phc, false).await?;
    for role in ["admin", "create-realm"] {
        if let Some(role) = store::roles::find_realm_role(&mut *tx, &master.id, role).await? {
            store::roles::grant_to_user(&mut *tx, &user.id, &role.id).await?;
        }
    }
    tx.commit().await?;
    if generated {
        // Printed once, on purpose: this is the only way to learn the generated password.
        tracing::warn!(
            "created bootstrap admin 'admin' with password '{}'; change it in the console",
            admin.password.expose_secret()
        );
    } else {
        tracing::info!(username = %user.username, "created bootstrap admin");
    }
    Ok(())
}
