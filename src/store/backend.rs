//! The two databases behind one store: SQLite (the default, one process) and PostgreSQL (any
//! number of replicas). Store functions take an [`Exec`] (a pool or a transaction of either)
//! and run their statements through [`sql!`](crate::store::sql), which compiles each statement
//! once per dialect and checks both against their schemas at build time (`.sqlx/`). A
//! statement is written once, in the SQL both understand (`$1` parameters, `ON CONFLICT`,
//! `RETURNING`), or as a `sqlite:`/`postgres:` pair where they differ; either way no change
//! can reach one dialect and miss the other.

use std::fmt;

use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use sqlx::pool::PoolConnection;
use sqlx::{Database, Describe, Either, Execute, Executor, PgPool, Postgres, Sqlite, SqlitePool};

/// Which database a deployment runs on (`--db`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A connection pool of either database.
#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Pool {
    /// Starts a transaction.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(Tx {
            conn: match self {
                Pool::Sqlite(pool) => Conn::Sqlite(pool.begin().await?),
                Pool::Postgres(pool) => Conn::Postgres(pool.begin().await?),
            },
        })
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        match self {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// The SQLite pool, if this is one (for tools and tests that speak to it directly).
    pub fn sqlite(&self) -> Option<&SqlitePool> {
        match self {
            Pool::Sqlite(pool) => Some(pool),
            Pool::Postgres(_) => None,
        }
    }

    /// The PostgreSQL pool, if this is one.
    pub fn postgres(&self) -> Option<&PgPool> {
        match self {
            Pool::Postgres(pool) => Some(pool),
            Pool::Sqlite(_) => None,
        }
    }

    /// Takes one connection out of the pool until the result is dropped.
    pub async fn acquire(&self) -> Result<Held, sqlx::Error> {
        Ok(match self {
            Pool::Sqlite(pool) => Held::Sqlite(pool.acquire().await?),
            Pool::Postgres(pool) => Held::Postgres(pool.acquire().await?),
        })
    }
}

/// A connection taken out of its pool (see `Pool::acquire`).
pub enum Held {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

impl Held {
    /// Starts a transaction on this connection, which goes back to the pool when it ends.
    pub async fn begin(self) -> Result<Tx, sqlx::Error> {
        Ok(Tx {
            conn: match self {
                Held::Sqlite(conn) => Conn::Sqlite(sqlx::Transaction::begin(conn, None).await?),
                Held::Postgres(conn) => Conn::Postgres(sqlx::Transaction::begin(conn, None).await?),
            },
        })
    }
}

/// An open transaction; dereferences to the [`Conn`] store functions take. Dropped without
/// `commit`, it rolls back.
pub struct Tx {
    conn: Conn,
}

impl Tx {
    /// Commits; the calling request then reads the cache's shared epoch again, so that it
    /// sees its own write (see `store::cache`).
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        let done = match self.conn {
            Conn::Sqlite(tx) => tx.commit().await,
            Conn::Postgres(tx) => tx.commit().await,
        };
        super::cache::forget_request_epoch();
        done
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self.conn {
            Conn::Sqlite(tx) => tx.rollback().await,
            Conn::Postgres(tx) => tx.rollback().await,
        }
    }
}

impl std::ops::Deref for Tx {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        &self.conn
    }
}

impl std::ops::DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut Conn {
        &mut self.conn
    }
}

/// The connection inside a transaction, for functions that run several statements in it.
pub enum Conn {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

impl Conn {
    /// Which database this is.
    pub fn backend(&self) -> Backend {
        match self {
            Conn::Sqlite(_) => Backend::Sqlite,
            Conn::Postgres(_) => Backend::Postgres,
        }
    }
}

impl fmt::Debug for Conn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Conn({:?})", self.backend())
    }
}

/// What one statement runs on: a pool or a transaction, of either database.
#[derive(Debug)]
pub enum Exec<'c> {
    Sqlite(On<'c, Sqlite>),
    Postgres(On<'c, Postgres>),
}

/// A pool or a connection of one database, as one `sqlx::Executor`.
pub enum On<'c, DB: Database> {
    Pool(&'c sqlx::Pool<DB>),
    Conn(&'c mut DB::Connection),
}

impl<DB: Database> fmt::Debug for On<'_, DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            On::Pool(_) => "Pool",
            On::Conn(_) => "Conn",
        })
    }
}

impl<'c> From<&'c Pool> for Exec<'c> {
    fn from(pool: &'c Pool) -> Self {
        match pool {
            Pool::Sqlite(pool) => Exec::Sqlite(On::Pool(pool)),
            Pool::Postgres(pool) => Exec::Postgres(On::Pool(pool)),
        }
    }
}

impl<'c> From<&'c mut Conn> for Exec<'c> {
    fn from(conn: &'c mut Conn) -> Self {
        match conn {
            Conn::Sqlite(tx) => Exec::Sqlite(On::Conn(&mut **tx)),
            Conn::Postgres(tx) => Exec::Postgres(On::Conn(&mut **tx)),
        }
    }
}

impl<'c> From<&'c mut Held> for Exec<'c> {
    fn from(held: &'c mut Held) -> Self {
        match held {
            Held::Sqlite(conn) => Exec::Sqlite(On::Conn(&mut **conn)),
            Held::Postgres(conn) => Exec::Postgres(On::Conn(&mut **conn)),
        }
    }
}

impl<'c> From<&'c mut Tx> for Exec<'c> {
    fn from(tx: &'c mut Tx) -> Self {
        Exec::from(&mut tx.conn)
    }
}

impl<'c, DB: Database> Executor<'c> for On<'c, DB>
where
    for<'a> &'a sqlx::Pool<DB>: Executor<'a, Database = DB>,
    for<'a> &'a mut DB::Connection: Executor<'a, Database = DB>,
{
    type Database = DB;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<DB::QueryResult, DB::Row>, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, DB>,
    {
        match self {
            On::Pool(pool) => pool.fetch_many(query),
            On::Conn(conn) => conn.fetch_many(query),
        }
    }

    fn fetch_optional<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxFuture<'e, Result<Option<DB::Row>, sqlx::Error>>
    where
        'c: 'e,
        E: 'q + Execute<'q, DB>,
    {
        match self {
            On::Pool(pool) => pool.fetch_optional(query),
            On::Conn(conn) => conn.fetch_optional(query),
        }
    }

    fn prepare_with<'e, 'q: 'e>(
        self,
        sql: &'q str,
        parameters: &'e [DB::TypeInfo],
    ) -> BoxFuture<'e, Result<DB::Statement<'q>, sqlx::Error>>
    where
        'c: 'e,
    {
        match self {
            On::Pool(pool) => pool.prepare_with(sql, parameters),
            On::Conn(conn) => conn.prepare_with(sql, parameters),
        }
    }

    fn describe<'e, 'q: 'e>(self, sql: &'q str) -> BoxFuture<'e, Result<Describe<DB>, sqlx::Error>>
    where
        'c: 'e,
    {
        match self {
            On::Pool(pool) => pool.describe(sql),
            On::Conn(conn) => conn.describe(sql),
        }
    }
}

/// Runs one statement on an [`Exec`] (anything that converts into one), compiled for both
/// databases:
///
/// ```ignore
/// sql!(db.read(), query_as!(Row, "SELECT ... WHERE id = $1", id).fetch_optional)
/// sql!(&mut *tx, query!("DELETE FROM x WHERE id = $1", id).execute) // rows affected
/// sql!(ex, query_scalar!(sqlite: "...", postgres: "...", args).fetch_all)
/// ```
///
/// Each dialect's statement is compiled separately and its columns checked against its own
/// schema. Arguments are bound with their own types on both (`as _` for PostgreSQL, whose
/// macros would otherwise insist on plain `&str` where the domain passes its id types); the
/// PostgreSQL copy of a shared text carries a trailing comment so the two have their own
/// entries in `.sqlx/`. `scripts/sqlx-prepare.sh` builds once per database with the
/// `sqlx_prepare` cfg set (see `build.rs`), which leaves out the other dialect's arm.
macro_rules! sql {
    ($ex:expr, query_as!($row:path, sqlite: $lite:literal, postgres: $pg:literal $(, $arg:expr)* $(,)?) . $method:ident) => {
        $crate::store::sql!(@run $ex, $method,
            sqlx::query_as!($row, $lite $(, $arg)*),
            sqlx::query_as!($row, $pg $(, $arg as _)*))
    };
    ($ex:expr, query_as!($row:path, $text:literal $(, $arg:expr)* $(,)?) . $method:ident) => {
        $crate::store::sql!(@run $ex, $method,
            sqlx::query_as!($row, $text $(, $arg)*),
            sqlx::query_as!($row, $text + "\n-- postgres" $(, $arg as _)*))
    };
    ($ex:expr, $kind:ident!(sqlite: $lite:literal, postgres: $pg:literal $(, $arg:expr)* $(,)?) . $method:ident) => {
        $crate::store::sql!(@run $ex, $method,
            sqlx::$kind!($lite $(, $arg)*),
            sqlx::$kind!($pg $(, $arg as _)*))
    };
    ($ex:expr, $kind:ident!($text:literal $(, $arg:expr)* $(,)?) . $method:ident) => {
        $crate::store::sql!(@run $ex, $method,
            sqlx::$kind!($text $(, $arg)*),
            sqlx::$kind!($text + "\n-- postgres" $(, $arg as _)*))
    };
    (@run $ex:expr, execute, $lite:expr, $pg:expr) => {
        match Into::<$crate::store::Exec<'_>>::into($ex) {
            #[cfg(not(sqlx_prepare = "postgres"))]
            $crate::store::Exec::Sqlite(on) => $lite.execute(on).await.map(|done| done.rows_affected()),
            #[cfg(not(sqlx_prepare = "sqlite"))]
            $crate::store::Exec::Postgres(on) => $pg.execute(on).await.map(|done| done.rows_affected()),
            #[allow(unreachable_patterns)]
            _ => unreachable!("this build prepares the other dialect's statements"),
        }
    };
    (@run $ex:expr, $method:ident, $lite:expr, $pg:expr) => {
        match Into::<$crate::store::Exec<'_>>::into($ex) {
            #[cfg(not(sqlx_prepare = "postgres"))]
            $crate::store::Exec::Sqlite(on) => $lite.$method(on).await,
            #[cfg(not(sqlx_prepare = "sqlite"))]
            $crate::store::Exec::Postgres(on) => $pg.$method(on).await,
            #[allow(unreachable_patterns)]
            _ => unreachable!("this build prepares the other dialect's statements"),
        }
    };
}
pub(crate) use sql;
