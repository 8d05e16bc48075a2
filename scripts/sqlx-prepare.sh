#!/usr/bin/env bash
# Regenerates .sqlx/, the query metadata that lets builds check SQL without a database: every
# statement once against SQLite and once against PostgreSQL (a throwaway server, see
# scripts/temp-postgres.sh), each dialect built alone (KEYWARDEN_SQLX_PREPARE, see build.rs).
# Run after changing a query or a migration, and after `cargo fmt` (which may re-indent SQL).
set -euo pipefail
cd "$(dirname "$0")/.."

work=$(mktemp -d)
trap 'scripts/temp-postgres.sh stop "$work/pg" 2>/dev/null || true; rm -rf "$work"' EXIT
chmod 755 "$work"

sqlite_db=$work/keywarden.db
for migration in migrations/sqlite/*.sql; do sqlite3 "$sqlite_db" < "$migration"; done
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
pg_url=$(scripts/temp-postgres.sh start "$work/pg" "$port")
for migration in migrations/postgres/*.sql; do
    psql -q -v ON_ERROR_STOP=1 "$pg_url" -f "$migration" >/dev/null
done

rm -rf .sqlx && mkdir .sqlx
for dialect in sqlite postgres; do
    url=$([[ $dialect == sqlite ]] && echo "sqlite:$sqlite_db" || echo "$pg_url")
    touch src/lib.rs
    KEYWARDEN_SQLX_PREPARE=$dialect DATABASE_URL=$url SQLX_OFFLINE=false \
        SQLX_OFFLINE_DIR="$PWD/.sqlx" cargo check --all-targets --quiet
done
touch src/lib.rs
echo "wrote $(ls .sqlx | wc -l) query files to .sqlx/"
