//! `keywarden export` and `keywarden import`, as Keycloak's `kc.sh export` and `kc.sh
//! import`: the same options, files and semantics, on the database `start` uses. They run
//! while no server holds the database (a running server keeps it locked).

use std::path::Path;

use anyhow::Context;
use serde_json::Value;

use crate::admin::ops::realm_export::{self, ExportParts};
use crate::admin::ops::{realm_import, realms::MASTER};
use crate::admin::realm_file::{self, RealmFile};
use crate::admin::repr::{RealmRepr, UserRepr};
use crate::config::{ExportArgs, ImportArgs, Settings, UsersExport};
use crate::crypto::passwords::PasswordHasher;
use crate::keyring::Keyring;
use crate::login_log::LoginLog;
use crate::protocol::verified_credentials::VerifiedCredentials;
use crate::state::AppState;
use crate::store::{self, Db, DbOptions, OpenError};
use crate::token_touches::TokenTouches;

/// Opens the database for a tool, saying plainly when a server holds it.
async fn open(options: &DbOptions) -> anyhow::Result<Db> {
    store::open_with(options).await.map_err(|err| match err {
        OpenError::InUse(file) => anyhow::anyhow!(
            "database {file} is in use by a running keywarden server: stop it first"
        ),
        other => other.into(),
    })
}

/// Writes the realms asked for to a file or a directory.
pub async fn export(args: &ExportArgs) -> anyhow::Result<()> {
    let db = open(&args.db.options()?).await?;
    let realms = match &args.realm {
        Some(name) => vec![store::realms::find_by_name(db.read(), name)
            .await?
            .with_context(|| format!("realm '{name}' not found"))?],
        None => store::realms::list(db.read()).await?,
    };
    let parts = ExportParts {
        users: args.users != UsersExport::Skip,
        ..ExportParts::FULL
    };
    let mut exported = Vec::with_capacity(realms.len());
    for realm in &realms {
        exported.push(realm_export::export(db.read(), realm, parts).await?);
    }
    if let Some(file) = &args.file {
        let document = match (&args.realm, exported.as_slice()) {
            (Some(_), [one]) => serde_json::to_value(one)?,
            _ => serde_json::to_value(&exported)?,
        };
        return write_json(file, &document);
    }
    let dir = args.dir.as_deref().context("--dir or --file is needed")?;
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for mut repr in exported {
        write_realm_dir(dir, &mut repr, args)?;
    }
    Ok(())
}

/// `{realm}-realm.json`, and the users as `--users` says.
fn write_realm_dir(dir: &Path, repr: &mut RealmRepr, args: &ExportArgs) -> anyhow::Result<()> {
    let name = repr.realm.clone().unwrap_or_default();
    let users = match args.users {
        UsersExport::RealmFile => None,
        _ => repr.users.take(),
    };
    write_json(
        &dir.join(format!("{name}-realm.json")),
        &serde_json::to_value(&*repr)?,
    )?;
    let Some(users) = users else {
        return Ok(());
    };
    let per_file = match args.users {
        UsersExport::DifferentFiles => args.users_per_file as usize,
        _ => users.len().max(1),
    };
    for (index, chunk) in users.chunks(per_file).enumerate() {
        write_users(dir, &name, index, chunk)?;
    }
    if users.is_empty() && args.users == UsersExport::SameFile {
        write_users(dir, &name, 0, &[])?;
    }
    Ok(())
}

fn write_users(dir: &Path, realm: &str, index: usize, users: &[UserRepr]) -> anyhow::Result<()> {
    let document = serde_json::json!({"realm": realm, "users": users});
    write_json(&dir.join(format!("{realm}-users-{index}.json")), &document)
}

fn write_json(path: &Path, value: &Value) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// Imports the realms of a file or a directory: a realm that exists is replaced with
/// `--override true` (Keycloak's default) and left alone with `--override false`.
pub async fn import(args: &ImportArgs) -> anyhow::Result<()> {
    let realms = match (&args.file, &args.dir) {
        (Some(file), _) => read_file(file)?,
        (None, Some(dir)) => realm_file::read_dir(dir)
            .map_err(anyhow::Error::msg)?
            .into_iter()
            .map(|(_, realm)| realm)
            .collect(),
        (None, None) => anyhow::bail!("--dir or --file is needed"),
    };
    let options = args.db.options()?;
    let db = open(&options).await?;
    let state = tool_state(db, options);
    if store::realms::find_by_name(state.db.read(), MASTER)
        .await?
        .is_none()
    {
        let mut tx = state.db.begin().await?;
        crate::admin::ops::realms::create_named(&mut tx, MASTER).await?;
        tx.commit().await?;
    }
    for realm in realms {
        let name = realm.repr.realm.clone().unwrap_or_default();
        let exists = store::realms::find_by_name(state.db.read(), &name)
            .await?
            .is_some();
        if exists && !args.replace {
            println!("realm {name} exists: skipped (--override false)");
            continue;
        }
        let imported = realm_import::replace(&state, &realm.repr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot import realm {name}: {e}"))?;
        for part in realm.left_out.iter().chain(&imported.left_out) {
            println!("realm {name}: {part}");
        }
        println!("realm {name} imported");
    }
    Ok(())
}

/// A file holds one realm, or an array of realms (an export of every realm).
fn read_file(path: &Path) -> anyhow::Result<Vec<RealmFile>> {
    let size = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    anyhow::ensure!(
        size <= realm_file::MAX_FILE_BYTES,
        "{} is too large",
        path.display()
    );
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    realm_file::parse_many(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

fn tool_state(db: Db, options: DbOptions) -> AppState {
    AppState {
        login_log: LoginLog::start(db.clone()),
        keyring: Keyring::new(&db),
        touches: TokenTouches::start(db.clone()),
        db,
        passwords: PasswordHasher::per_core(),
        guesses: Default::default(),
        verified: VerifiedCredentials::new(std::time::Duration::ZERO),
        draining: Default::default(),
        settings: Settings::for_tool(options),
        clock: crate::clock::Clock::system(),
    }
}
