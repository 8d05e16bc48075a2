//! The log of changed cached rows that triggers keep (migration 0019; see `cache`).

use sqlx::{PgPool, SqliteConnection};

use super::backend::On;
use super::cache::Change;
use super::{sql, Exec, StoreError};

/// Changes kept on PostgreSQL behind the newest: a replica further behind drops its cache.
const KEPT_CHANGES: i64 = 100_000;

struct Logged {
    version: i64,
    tbl: String,
    key: String,
}

impl Logged {
    fn change(self) -> Change {
        Change {
            table: self.tbl,
            key: self.key,
        }
    }
}

/// SQLite: takes (and empties) the log, over the writer connection.
pub(crate) async fn take(conn: &mut SqliteConnection) -> Result<Vec<Change>, StoreError> {
    let logged = sql!(
        Exec::Sqlite(On::Conn(conn)),
        query_as!(
            Logged,
            r#"DELETE FROM cache_change RETURNING version AS "version!", tbl AS "tbl!", key AS "key!""#
        )
        .fetch_all
    )?;
    Ok(logged.into_iter().map(Logged::change).collect())
}

/// PostgreSQL: the changes logged after version `from`, oldest first, with their versions;
/// at most one more than `cache::MAX_CHANGES`, so that a caller can tell it was not all.
pub(crate) async fn since(pool: &PgPool, from: u64) -> Result<Vec<(u64, Change)>, StoreError> {
    let from = i64::try_from(from).unwrap_or(i64::MAX);
    let limit = super::cache::MAX_CHANGES as i64 + 1;
    let logged = sql!(
        Exec::Postgres(On::Pool(pool)),
        query_as!(
            Logged,
            r#"SELECT version AS "version!", tbl AS "tbl!", key AS "key!" FROM cache_change
             WHERE version > $1 ORDER BY version LIMIT $2"#,
            from,
            limit
        )
        .fetch_all
    )?;
    Ok(logged
        .into_iter()
        .map(|logged| (logged.version.max(0) as u64, logged.change()))
        .collect())
}

/// Deletes changes older than the last [`KEPT_CHANGES`] (PostgreSQL; SQLite's writer empties
/// the log as it goes).
pub async fn prune(db: impl Into<Exec<'_>>) -> Result<u64, StoreError> {
    Ok(sql!(
        db,
        query!(
            "DELETE FROM cache_change
             WHERE version < (SELECT version FROM cache_version WHERE id) - $1",
            KEPT_CHANGES
        )
        .execute
    )?)
}
