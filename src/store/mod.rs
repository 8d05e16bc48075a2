//! The store: every SQL statement lives in this module, one file per aggregate. Functions take
//! any SQLite executor, so the same call works on the pool or inside a transaction.

pub mod auth_codes;
pub mod cache;
pub mod clients;
pub mod console_sessions;
pub mod credentials;
pub mod events;
pub mod groups;
pub mod keys;
pub mod login_failures;
pub mod realms;
pub mod revocations;
pub mod roles;
pub mod sessions;
pub mod sso;
pub mod tokens;
pub mod users;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Connection as _, Sqlite, SqlitePool, Transaction};

/// The database: a pool of readers, one writer so that writes queue in the process instead
/// of spinning on SQLite's busy lock, and the read cache that every write invalidates. The
/// database file belongs to this process alone (see `lock_database`).
#[derive(Clone)]
pub struct Db {
    reader: SqlitePool,
    writer: SqlitePool,
    cache: Arc<cache::ReadCache>,
    _owner: Option<Arc<std::fs::File>>,
}

impl Db {
    /// The pool for reads (any number at once, thanks to WAL).
    pub fn read(&self) -> &SqlitePool {
        &self.reader
    }

    /// The pool for single-statement writes.
    pub fn write(&self) -> &SqlitePool {
        &self.writer
    }

    /// A write transaction.
    pub async fn begin(&self) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
        self.writer.begin().await
    }

    /// The read cache (see `cache`).
    pub(crate) fn cache(&self) -> &cache::ReadCache {
        &self.cache
    }
}

/// Why a store call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique constraint refused the write; the text says what already exists.
    #[error("{0}")]
    Conflict(String),
    #[error("stored data is malformed: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Turns a unique-constraint violation into `Conflict(message)`; other errors pass through.
/// The one place where constraint names become user-facing conflicts.
pub(crate) fn conflict_on_unique(
    message: impl Into<String>,
) -> impl FnOnce(sqlx::Error) -> StoreError {
    let message = message.into();
    move |err| match &err {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(message),
        _ => StoreError::Database(err),
    }
}

/// A database URL the server cannot use.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("unsupported database URL '{0}': expected sqlite://PATH")]
    UnsupportedUrl(String),
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot open database {url}: {source}")]
    Open { url: String, source: sqlx::Error },
    #[error("cannot apply migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database {0} is in use by another keywarden server")]
    InUse(String),
    #[error("cannot lock {path}: {source}")]
    Lock {
        path: String,
        source: std::io::Error,
    },
}

/// Takes an exclusive lock on the database file (creating it if needed): one server per
/// database, because each server caches rows and learns of changes only through its own
/// writes. The lock is the file's own, so a symlink or hard link to it is refused too; it is
/// a `flock`, which SQLite's own (POSIX) locks do not interact with, and it goes with the
/// process, however that ends.
fn lock_database(file: &str) -> Result<std::fs::File, OpenError> {
    let lock_error = |source| OpenError::Lock {
        path: file.to_owned(),
        source,
    };
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(file)
        .map_err(lock_error)?;
    match lock.try_lock() {
        Ok(()) => Ok(lock),
        Err(std::fs::TryLockError::WouldBlock) => Err(OpenError::InUse(file.to_owned())),
        Err(std::fs::TryLockError::Error(source)) => Err(lock_error(source)),
    }
}

/// Opens (creating if needed) the SQLite database, with WAL, foreign keys and a busy timeout,
/// and applies the embedded migrations.
pub async fn open(url: &str) -> Result<Db, OpenError> {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .filter(|p| !p.is_empty())
        .ok_or_else(|| OpenError::UnsupportedUrl(url.to_owned()))?;
    let file = path.split('?').next().unwrap_or(path);
    if file != ":memory:" {
        if let Some(dir) = std::path::Path::new(file)
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
        {
            std::fs::create_dir_all(dir).map_err(|source| OpenError::DataDir {
                path: dir.display().to_string(),
                source,
            })?;
        }
    }
    let owner = match file {
        ":memory:" => None,
        file => Some(Arc::new(lock_database(file)?)),
    };
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{path}"))
        .map_err(|source| OpenError::Open {
            url: url.to_owned(),
            source,
        })?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    let open_error = |source| OpenError::Open {
        url: url.to_owned(),
        source,
    };
    // Every write goes through this one connection, so it is where the read cache learns of
    // writes: the commit hook runs just before a commit becomes visible, and the connection
    // comes back to the pool after its statement or transaction is over.
    // Connections are in-process: no liveness ping is needed before handing one out.
    // The writer syncs the WAL at every commit (`synchronous=FULL`), so a write acknowledged
    // to a caller (a revocation, a password change) survives power loss, not only a crash of
    // the process; readers write nothing, so NORMAL suits them.
    let cache = Arc::new(cache::ReadCache::new());
    let (committing, released) = (cache.clone(), cache.clone());
    let writer = SqlitePoolOptions::new()
        .max_connections(1)
        .max_lifetime(None)
        .test_before_acquire(false)
        .after_connect(move |conn, _| {
            let cache = committing.clone();
            Box::pin(async move {
                conn.lock_handle().await?.set_commit_hook(move || {
                    cache.write_started();
                    true
                });
                Ok(())
            })
        })
        .after_release(move |conn, _| {
            let cache = released.clone();
            Box::pin(async move {
                // A cancelled caller may leave its last statement still running on the
                // connection's thread; the ping queues behind it, so the write is over.
                conn.ping().await?;
                cache.write_finished();
                Ok(true)
            })
        })
        .connect_with(options.clone().synchronous(SqliteSynchronous::Full))
        .await
        .map_err(open_error)?;
    sqlx::migrate!("./migrations").run(&writer).await?;
    let reader = SqlitePoolOptions::new()
        .max_connections(16)
        .min_connections(1)
        .test_before_acquire(false)
        .connect_with(options.read_only(true))
        .await
        .map_err(open_error)?;
    Ok(Db {
        reader,
        writer,
        cache,
        _owner: owner,
    })
}

/// Answers whether the database responds (for /health/ready).
pub async fn ping(db: &Db) -> bool {
    sqlx::query_scalar!("SELECT 1 AS one")
        .fetch_one(db.read())
        .await
        .is_ok()
}

/// Decodes a JSON column, naming the column on failure.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    column: &str,
    raw: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(raw).map_err(|e| StoreError::Corrupt(format!("{column}: {e}")))
}

/// Encodes a value for a JSON column.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("plain data serializes")
}

#[cfg(test)]
mod tests {
    /// SQLite's `PRAGMA synchronous` values.
    const NORMAL: i64 = 1;
    const FULL: i64 = 2;

    #[tokio::test]
    async fn the_writer_syncs_every_commit() {
        let dir = tempfile::tempdir().unwrap();
        let db = super::open(&format!("sqlite://{}/kw.db", dir.path().display()))
            .await
            .unwrap();
        let synchronous = |pool| sqlx::query_scalar::<_, i64>("PRAGMA synchronous").fetch_one(pool);
        assert_eq!(synchronous(db.write()).await.unwrap(), FULL);
        assert_eq!(synchronous(db.read()).await.unwrap(), NORMAL);
    }
}
