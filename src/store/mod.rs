//! The store: every SQL statement lives in this module, one file per aggregate. Functions take
//! an [`Exec`] (a pool or a transaction, of SQLite or PostgreSQL; see `backend`), so the same
//! call works on either database, on the pool or inside a transaction.

pub mod auth_codes;
pub mod backend;
pub mod cache;
pub mod cache_changes;
mod cache_version;
pub mod clients;
pub mod console_sessions;
pub mod copy;
pub mod credentials;
pub mod events;
pub mod groups;
pub mod keys;
pub mod login_failures;
pub mod realms;
pub mod registry_downloads;
pub mod revocations;
pub mod roles;
pub mod sessions;
pub mod sso;
pub mod tokens;
pub mod user_batches;
pub mod users;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::Connection as _;

pub(crate) use backend::sql;
pub use backend::{Backend, Conn, Exec, Pool, Tx};

/// The database. On SQLite: a pool of readers, one writer so that writes queue in the process
/// instead of spinning on SQLite's busy lock, and a file that belongs to this process alone
/// (see `lock_database`). On PostgreSQL: one pool for both, shared with any number of other
/// replicas. Either way, the read cache (see `cache`).
#[derive(Clone)]
pub struct Db {
    reader: Pool,
    writer: Pool,
    cache: Arc<cache::ReadCache>,
    _owner: Option<Arc<std::fs::File>>,
}

impl Db {
    /// The pool for reads (on SQLite, any number at once, thanks to WAL).
    pub fn read(&self) -> &Pool {
        &self.reader
    }

    /// The pool for single-statement writes. The calling request reads the cache's shared
    /// epoch again afterwards, so that it sees its own write (see `cache`).
    pub fn write(&self) -> &Pool {
        cache::forget_request_epoch();
        &self.writer
    }

    /// A write transaction.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        self.writer.begin().await
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.writer.backend()
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
    #[error("unsupported database URL '{0}': expected sqlite://PATH or postgres://HOST/DATABASE")]
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
    #[error("invalid --db-schema '{0}': expected letters, digits and _")]
    BadSchema(String),
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

/// How to reach the database: its URL (`sqlite://PATH` or `postgres://HOST:PORT/DATABASE`)
/// and, for PostgreSQL, what Keycloak's `--db-*` options add to it.
#[derive(Debug, Clone, Default)]
pub struct DbOptions {
    pub url: String,
    pub username: Option<String>,
    pub password: Option<SecretString>,
    /// The schema to work in (PostgreSQL's `search_path`), created if missing.
    pub schema: Option<String>,
    /// Connections in the pool (PostgreSQL; Keycloak's default is 100).
    pub pool_max_size: Option<u32>,
}

impl DbOptions {
    /// Options with nothing but the URL.
    pub fn url(url: impl Into<String>) -> DbOptions {
        DbOptions {
            url: url.into(),
            ..DbOptions::default()
        }
    }
}

/// Opens the database at `url` (see `open_with`).
pub async fn open(url: &str) -> Result<Db, OpenError> {
    open_with(&DbOptions::url(url)).await
}

/// Opens (creating if needed) the database and applies the embedded migrations.
pub async fn open_with(options: &DbOptions) -> Result<Db, OpenError> {
    let url = options.url.as_str();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return open_postgres(options).await;
    }
    open_sqlite(url).await
}

/// Opens the PostgreSQL database, retrying for a while if it is not up yet, and applies the
/// migrations. sqlx's migrator holds an advisory lock while it works, so replicas that start
/// together migrate once.
async fn open_postgres(options: &DbOptions) -> Result<Db, OpenError> {
    let url = options.url.as_str();
    let open_error = |source| OpenError::Open {
        url: redact_url(url),
        source,
    };
    let mut connect = PgConnectOptions::from_str(url)
        .map_err(open_error)?
        .application_name("keywarden");
    if let Some(username) = &options.username {
        connect = connect.username(username);
    }
    if let Some(password) = &options.password {
        connect = connect.password(password.expose_secret());
    }
    if let Some(schema) = &options.schema {
        if schema.is_empty()
            || !schema
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(OpenError::BadSchema(schema.clone()));
        }
        connect = connect.options([("search_path", schema.as_str())]);
    }
    let pool_options = PgPoolOptions::new()
        .max_connections(options.pool_max_size.unwrap_or(100))
        .min_connections(1)
        // Every connection is pinged before it is handed out, so one the server dropped (a
        // PostgreSQL restart, a failover) is closed and replaced instead of failing a
        // request; sqlx's default, stated because replicas rely on it.
        .test_before_acquire(true)
        .acquire_timeout(Duration::from_secs(5));
    let mut attempts = 0;
    let pool = loop {
        match pool_options.clone().connect_with(connect.clone()).await {
            Ok(pool) => break pool,
            Err(err) if attempts < 30 && is_unreachable(&err) => {
                attempts += 1;
                tracing::warn!("database {} not reachable yet: {err}", redact_url(url));
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(err) => return Err(open_error(err)),
        }
    };
    if let Some(schema) = &options.schema {
        sqlx::raw_sql(&format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\""))
            .execute(&pool)
            .await
            .map_err(open_error)?;
    }
    sqlx::migrate!("./migrations/postgres").run(&pool).await?;
    let cache = Arc::new(cache::ReadCache::shared(pool.clone()));
    let pool = Pool::Postgres(pool);
    Ok(Db {
        reader: pool.clone(),
        writer: pool,
        cache,
        _owner: None,
    })
}

/// Whether a connection error may go away by itself (the server is still starting).
fn is_unreachable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut => true,
        sqlx::Error::Database(db) => db.code().as_deref() == Some("57P03"),
        _ => false,
    }
}

/// The URL without its password, for messages.
fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Opens (creating if needed) the SQLite database, with WAL, foreign keys and a busy timeout,
/// and applies the embedded migrations.
async fn open_sqlite(url: &str) -> Result<Db, OpenError> {
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
                let mut handle = conn.lock_handle().await?;
                let (changed, rolled_back) = (cache.clone(), cache.clone());
                handle.set_update_hook(move |row| {
                    let insert = matches!(row.operation, sqlx::sqlite::SqliteOperation::Insert);
                    changed.row_changed(row.table, insert);
                });
                handle.set_rollback_hook(move || rolled_back.write_abandoned());
                handle.set_commit_hook(move || {
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
                if cache.write_under_way() {
                    cache.write_finished(cache_changes::take(conn).await.ok());
                }
                Ok(true)
            })
        })
        .connect_with(options.clone().synchronous(SqliteSynchronous::Full))
        .await
        .map_err(open_error)?;
    sqlx::migrate!("./migrations/sqlite").run(&writer).await?;
    // Readers are few and keep a small page cache each: most reads are answered by the read
    // cache, the rest find their pages in the operating system's cache; sixteen readers with
    // SQLite's default 2 MiB each held up to 32 MiB of copies.
    let reader = SqlitePoolOptions::new()
        .max_connections(READERS)
        .min_connections(1)
        .test_before_acquire(false)
        .connect_with(
            options
                .read_only(true)
                .pragma("cache_size", format!("-{READER_PAGE_CACHE_KIB}")),
        )
        .await
        .map_err(open_error)?;
    Ok(Db {
        reader: Pool::Sqlite(reader),
        writer: Pool::Sqlite(writer),
        cache,
        _owner: owner,
    })
}

/// The SQLite reader connections: reads run one per core at most, and a few more cover
/// readers waiting on the disk.
const READERS: u32 = 8;
/// The page cache of each SQLite reader connection, in KiB.
const READER_PAGE_CACHE_KIB: u32 = 256;

/// Holds a lock named by `key` until the transaction ends, so that transactions of every
/// replica that take the same key run one after the other (PostgreSQL's advisory locks;
/// on SQLite the single writer already runs every write transaction alone).
pub async fn serialize_on(conn: &mut Conn, key: &str) -> Result<(), StoreError> {
    if conn.backend() == Backend::Sqlite {
        return Ok(());
    }
    sql!(
        conn,
        query_scalar!(
            sqlite: r#"SELECT CAST(1 AS BIGINT) AS "locked!: i64" WHERE $1 IS NOT NULL"#,
            postgres: r#"SELECT CAST(1 AS BIGINT) AS "locked!"
                FROM (SELECT pg_advisory_xact_lock(hashtextextended($1, 0))) AS held"#,
            key
        )
        .fetch_all
    )?;
    Ok(())
}

/// How long the readiness probe waits for the database. Far below the pool's acquire
/// timeout: a load balancer's health check (HAProxy's, say) must get an answer, not hang,
/// while the database is unreachable.
pub const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// Answers whether the database responds within [`PING_TIMEOUT`] (for /health/ready).
pub async fn ping(db: &Db) -> bool {
    let query = async {
        sql!(
            db.read(),
            query_scalar!("SELECT CAST(1 AS BIGINT) AS \"one!\"").fetch_one
        )
    };
    matches!(tokio::time::timeout(PING_TIMEOUT, query).await, Ok(Ok(_)))
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
        let synchronous = |pool: &super::Pool| {
            let super::Pool::Sqlite(pool) = pool.clone() else {
                panic!("a SQLite database")
            };
            async move {
                sqlx::query_scalar::<_, i64>("PRAGMA synchronous")
                    .fetch_one(&pool)
                    .await
            }
        };
        assert_eq!(synchronous(db.write()).await.unwrap(), FULL);
        assert_eq!(synchronous(db.read()).await.unwrap(), NORMAL);
    }
}
