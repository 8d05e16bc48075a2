//! `keywarden copy-database`: moves an installation from SQLite to PostgreSQL by copying
//! every row of the (stopped) server's SQLite file into an empty PostgreSQL database, which
//! is migrated first. The copy itself is `store::copy`.

use anyhow::Context as _;

use crate::config::CopyDatabaseArgs;
use crate::store::{self, copy, OpenError};

/// Copies the source database into the target; answers one line per table with its rows.
pub async fn copy_database(args: &CopyDatabaseArgs) -> anyhow::Result<Vec<String>> {
    let source_options = args.db.options()?;
    if !source_options.url.starts_with("sqlite:") {
        anyhow::bail!(
            "copy-database copies a SQLite database: give the source as --db-url sqlite://FILE"
        );
    }
    let to = args.to_db_url.trim();
    if !["postgres://", "postgresql://", "jdbc:postgresql:"]
        .iter()
        .any(|prefix| to.starts_with(prefix))
    {
        anyhow::bail!(
            "invalid --to-db-url: expected jdbc:postgresql://HOST[:PORT]/DATABASE or postgres://HOST[:PORT]/DATABASE"
        );
    }
    let target_options = args.target()?;
    let source = store::open_with(&source_options)
        .await
        .map_err(|err| match err {
            OpenError::InUse(file) => anyhow::anyhow!(
                "database {file} is in use by a running keywarden server: stop it first"
            ),
            other => other.into(),
        })?;
    let target = store::open_with(&target_options)
        .await
        .context("cannot open the target database")?;
    let copied = copy::copy(&source, &target).await?;
    let width = copied.iter().map(|c| c.table.len()).max().unwrap_or(0);
    Ok(copied
        .iter()
        .map(|c| format!("{:<width$}  {}", c.table, c.rows))
        .collect())
}
