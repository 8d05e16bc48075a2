//! Copies a whole SQLite database into an empty PostgreSQL one, ids and all, for
//! `keywarden copy-database`.
//!
//! Unlike the rest of the store, these statements are built at run time (`sqlx::query` and
//! `QueryBuilder`) rather than compiled by `sql!`: the copy works on every table and column
//! there is, and takes their lists from the target's catalog (`information_schema`,
//! `pg_constraint`) so that no list here can go stale when a migration adds a table or a
//! column. Tables are copied parents first (by their foreign keys; rows of a table that
//! refers to itself, parents first too), each column read from SQLite by name and decoded by
//! its PostgreSQL type. PostgreSQL fills identity columns itself (the `seq` of events), in the
//! order SQLite wrote the rows. Everything goes in one target transaction, in batches, so
//! memory stays bounded and a failed copy leaves nothing behind.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::TryStreamExt as _;
use sqlx::postgres::PgConnection;
use sqlx::sqlite::SqliteRow;
use sqlx::{Postgres, QueryBuilder, Row as _};

use super::Db;

/// Tables the copy leaves alone: the migrator's own, and the replicas' cache version and log
/// of changes (the version is bumped instead, so replicas drop their caches).
const SKIPPED: [&str; 3] = ["_sqlx_migrations", "cache_version", "cache_change"];

/// PostgreSQL's bind limit is 65535 parameters per statement; batches stay well below it.
const MAX_PARAMETERS: usize = 30_000;

/// Rows per INSERT, at most.
const BATCH_ROWS: usize = 500;

/// Why nothing was copied.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("the source must be a SQLite database and the target a PostgreSQL one")]
    Backends,
    #[error("the target database already holds realms ({0}): copy into an empty database")]
    TargetNotEmpty(String),
    #[error("the foreign keys of tables {0} form a cycle")]
    Cycle(String),
    #[error("column {table}.{column} has type {data_type}, which the copy does not know")]
    UnknownType {
        table: String,
        column: String,
        data_type: String,
    },
    #[error("cannot read {table} from the source: {error}")]
    Read { table: String, error: sqlx::Error },
    #[error("cannot write {table} to the target: {error}")]
    Write { table: String, error: sqlx::Error },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// How many rows of one table were copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    pub table: String,
    pub rows: u64,
}

/// A column of the target, with the PostgreSQL type its values are decoded as.
#[derive(Debug, Clone)]
struct Column {
    name: String,
    kind: Kind,
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Text,
    BigInt,
    Boolean,
    Bytes,
}

/// One value on its way from SQLite to PostgreSQL.
enum Value {
    Text(Option<String>),
    BigInt(Option<i64>),
    Boolean(Option<bool>),
    Bytes(Option<Vec<u8>>),
}

/// A table to copy: its columns, and the column that refers to its own table, if any.
#[derive(Debug, Clone)]
struct Table {
    name: String,
    columns: Vec<Column>,
    self_reference: Option<(String, String)>,
}

/// Copies every row of `source` (SQLite) into `target` (PostgreSQL, migrated and without a
/// realm), in one transaction; answers the rows copied per table, in the order copied.
pub async fn copy(source: &Db, target: &Db) -> Result<Vec<Copied>, CopyError> {
    let (Some(reader), Some(writer)) = (source.read().sqlite(), target.write().postgres()) else {
        return Err(CopyError::Backends);
    };
    let mut tx = writer.begin().await?;
    let realms: Vec<String> = sqlx::query_scalar("SELECT name FROM realm ORDER BY name LIMIT 5")
        .fetch_all(&mut *tx)
        .await?;
    if !realms.is_empty() {
        return Err(CopyError::TargetNotEmpty(realms.join(", ")));
    }
    let tables = tables_in_order(&mut tx).await?;
    let mut read = reader.begin().await?;
    let mut report = Vec::with_capacity(tables.len());
    for table in &tables {
        let rows = copy_table(&mut read, &mut tx, table).await?;
        report.push(Copied {
            table: table.name.clone(),
            rows,
        });
    }
    sqlx::query("UPDATE cache_version SET version = version + 1")
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    read.rollback().await?;
    Ok(report)
}

/// The target's tables (but `SKIPPED`) with their columns, ordered by their foreign keys.
async fn tables_in_order(conn: &mut PgConnection) -> Result<Vec<Table>, CopyError> {
    let columns: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT c.table_name::text, c.column_name::text, c.data_type::text
         FROM information_schema.columns c
         JOIN information_schema.tables t
           ON t.table_schema = c.table_schema AND t.table_name = c.table_name
         WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
           AND c.is_identity = 'NO' AND c.is_generated = 'NEVER'
         ORDER BY c.table_name, c.ordinal_position",
    )
    .fetch_all(&mut *conn)
    .await?;
    let references: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT child.relname::text, parent.relname::text,
                own.attname::text, referred.attname::text
         FROM pg_constraint k
         JOIN pg_class child ON child.oid = k.conrelid
         JOIN pg_class parent ON parent.oid = k.confrelid
         JOIN pg_attribute own ON own.attrelid = k.conrelid AND own.attnum = k.conkey[1]
         JOIN pg_attribute referred ON referred.attrelid = k.confrelid AND referred.attnum = k.confkey[1]
         WHERE k.contype = 'f' AND child.relnamespace =
               (SELECT oid FROM pg_namespace WHERE nspname = current_schema())",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut tables: BTreeMap<String, Table> = BTreeMap::new();
    for (table, column, data_type) in columns {
        if SKIPPED.contains(&table.as_str()) {
            continue;
        }
        let kind = match data_type.as_str() {
            "text" => Kind::Text,
            "bigint" => Kind::BigInt,
            "boolean" => Kind::Boolean,
            "bytea" => Kind::Bytes,
            _ => {
                return Err(CopyError::UnknownType {
                    table,
                    column,
                    data_type,
                })
            }
        };
        tables
            .entry(table.clone())
            .or_insert_with(|| Table {
                name: table,
                columns: Vec::new(),
                self_reference: None,
            })
            .columns
            .push(Column { name: column, kind });
    }
    let mut parents: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (child, parent, own, referred) in references {
        if child == parent {
            if let Some(table) = tables.get_mut(&child) {
                table.self_reference = Some((own, referred));
            }
        } else if tables.contains_key(&child) && tables.contains_key(&parent) {
            parents.entry(child).or_default().insert(parent);
        }
    }
    let mut ordered = Vec::with_capacity(tables.len());
    while !tables.is_empty() {
        let ready: Vec<String> = tables
            .keys()
            .filter(|name| {
                parents
                    .get(*name)
                    .is_none_or(|p| p.iter().all(|p| !tables.contains_key(p)))
            })
            .cloned()
            .collect();
        if ready.is_empty() {
            let left: Vec<&str> = tables.keys().map(String::as_str).collect();
            return Err(CopyError::Cycle(left.join(", ")));
        }
        for name in ready {
            ordered.extend(tables.remove(&name));
        }
    }
    Ok(ordered)
}

/// Streams one table's rows from SQLite into PostgreSQL, a batch at a time.
async fn copy_table(
    read: &mut sqlx::SqliteConnection,
    write: &mut PgConnection,
    table: &Table,
) -> Result<u64, CopyError> {
    let read_error = |error| CopyError::Read {
        table: table.name.clone(),
        error,
    };
    let batch_rows = (MAX_PARAMETERS / table.columns.len().max(1)).clamp(1, BATCH_ROWS);
    let select = select_rows(table);
    let mut rows = sqlx::query(&select).fetch(&mut *read);
    let mut batch: Vec<Vec<Value>> = Vec::with_capacity(batch_rows);
    let mut copied = 0;
    while let Some(row) = rows.try_next().await.map_err(read_error)? {
        batch.push(decode(&row, &table.columns).map_err(read_error)?);
        if batch.len() == batch_rows {
            copied += insert(write, table, std::mem::take(&mut batch)).await?;
        }
    }
    if !batch.is_empty() {
        copied += insert(write, table, batch).await?;
    }
    Ok(copied)
}

/// The SQLite query that reads a table's rows in the order they were written, rows that
/// refer to their own table after the row they refer to.
fn select_rows(table: &Table) -> String {
    let columns: Vec<String> = table
        .columns
        .iter()
        .map(|c| format!("t.{}", quote(&c.name)))
        .collect();
    let columns = columns.join(", ");
    let name = quote(&table.name);
    match &table.self_reference {
        None => format!("SELECT {columns} FROM {name} AS t ORDER BY t.rowid"),
        Some((own, referred)) => {
            let (own, referred) = (quote(own), quote(referred));
            format!(
                "WITH RECURSIVE depth(key, level) AS (
                     SELECT {referred}, 0 FROM {name} WHERE {own} IS NULL
                     UNION ALL
                     SELECT c.{referred}, depth.level + 1 FROM {name} AS c
                     JOIN depth ON c.{own} = depth.key
                 )
                 SELECT {columns} FROM {name} AS t JOIN depth ON t.{referred} = depth.key
                 ORDER BY depth.level, t.rowid"
            )
        }
    }
}

fn decode(row: &SqliteRow, columns: &[Column]) -> Result<Vec<Value>, sqlx::Error> {
    columns
        .iter()
        .map(|column| {
            let name = column.name.as_str();
            Ok(match column.kind {
                Kind::Text => Value::Text(row.try_get(name)?),
                Kind::BigInt => Value::BigInt(row.try_get(name)?),
                Kind::Boolean => Value::Boolean(row.try_get(name)?),
                Kind::Bytes => Value::Bytes(row.try_get(name)?),
            })
        })
        .collect()
}

async fn insert(
    write: &mut PgConnection,
    table: &Table,
    batch: Vec<Vec<Value>>,
) -> Result<u64, CopyError> {
    let columns: Vec<String> = table.columns.iter().map(|c| quote(&c.name)).collect();
    let mut query: QueryBuilder<Postgres> = QueryBuilder::new(format!(
        "INSERT INTO {} ({}) ",
        quote(&table.name),
        columns.join(", ")
    ));
    query.push_values(batch, |mut row, values| {
        for value in values {
            match value {
                Value::Text(v) => row.push_bind(v),
                Value::BigInt(v) => row.push_bind(v),
                Value::Boolean(v) => row.push_bind(v),
                Value::Bytes(v) => row.push_bind(v),
            };
        }
    });
    let done = query
        .build()
        .execute(&mut *write)
        .await
        .map_err(|error| CopyError::Write {
            table: table.name.clone(),
            error,
        })?;
    Ok(done.rows_affected())
}

/// A table or column name as an SQL identifier (the catalog's names, quoted for both).
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
