//! Both databases hold the same schema: every table and column that the SQLite migrations
//! build, the PostgreSQL migrations build too, with the same type and nullability (SQLite's
//! INTEGER is BIGINT there, BLOB is BYTEA). So a migration written for one database and
//! forgotten for the other fails here, not in production.

use std::collections::BTreeMap;

use sqlx::Row;

/// (table, column) -> (type, nullable), in SQLite's words.
type Columns = BTreeMap<(String, String), (String, bool)>;

/// Columns PostgreSQL has that SQLite does not need: the event order SQLite gets from rowid.
const POSTGRES_ONLY: [(&str, &str); 2] = [("admin_event", "seq"), ("login_event", "seq")];

async fn sqlite_columns() -> Columns {
    let dir = tempfile::tempdir().unwrap();
    let db = keywarden::store::open(&format!("sqlite://{}/kw.db", dir.path().display()))
        .await
        .unwrap();
    let pool = db.read().sqlite().unwrap();
    let rows = sqlx::query(
        "SELECT m.name AS table_name, p.name AS column_name, p.type AS type, p.\"notnull\" AS not_null,
                p.pk AS pk
         FROM sqlite_master m, pragma_table_info(m.name) p
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> '_sqlx_migrations'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    rows.iter()
        .map(|row| {
            let pk: i64 = row.get("pk");
            let not_null: i64 = row.get("not_null");
            (
                (row.get("table_name"), row.get("column_name")),
                (
                    row.get::<String, _>("type").to_uppercase(),
                    not_null == 0 && pk == 0,
                ),
            )
        })
        .collect()
}

async fn postgres_columns() -> Columns {
    let db = keywarden::store::open(&crate::postgres::new_database().await)
        .await
        .unwrap();
    let pool = db.read().postgres().unwrap();
    let rows = sqlx::query(
        "SELECT table_name::TEXT AS table_name, column_name::TEXT AS column_name,
                data_type::TEXT AS type, is_nullable::TEXT AS nullable
         FROM information_schema.columns
         WHERE table_schema = current_schema() AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    rows.iter()
        .map(|row| {
            let table: String = row.get("table_name");
            let column: String = row.get("column_name");
            let sqlite_type = match row.get::<String, _>("type").as_str() {
                "bigint" => "INTEGER",
                "bytea" => "BLOB",
                "boolean" => "BOOLEAN",
                "text" => "TEXT",
                other => panic!("{table}.{column} has type {other}, which SQLite has no twin for"),
            };
            let nullable = row.get::<String, _>("nullable") == "YES";
            ((table, column), (sqlite_type.to_owned(), nullable))
        })
        .collect()
}

#[tokio::test]
async fn both_databases_have_the_same_tables_columns_types_and_nullability() {
    let sqlite = sqlite_columns().await;
    let mut postgres = postgres_columns().await;
    for (table, column) in POSTGRES_ONLY {
        assert!(
            postgres
                .remove(&(table.to_owned(), column.to_owned()))
                .is_some(),
            "{table}.{column} is gone: update POSTGRES_ONLY"
        );
    }
    assert!(
        sqlite.len() > 100,
        "the schema was read: {} columns",
        sqlite.len()
    );
    let only_sqlite: Vec<_> = sqlite
        .keys()
        .filter(|k| !postgres.contains_key(*k))
        .collect();
    let only_postgres: Vec<_> = postgres
        .keys()
        .filter(|k| !sqlite.contains_key(*k))
        .collect();
    assert!(
        only_sqlite.is_empty(),
        "missing on PostgreSQL: {only_sqlite:?}"
    );
    assert!(
        only_postgres.is_empty(),
        "missing on SQLite: {only_postgres:?}"
    );
    let differing: Vec<_> = sqlite
        .iter()
        .filter(|(key, shape)| postgres[*key] != **shape)
        .map(|(key, shape)| (key, shape, &postgres[key]))
        .collect();
    assert!(
        differing.is_empty(),
        "(column, sqlite, postgres): {differing:?}"
    );
}
