#!/usr/bin/env bash
# Regenerates .sqlx/, the query metadata that lets builds check SQL without a database.
# Run after changing a query or a migration.
set -euo pipefail
cd "$(dirname "$0")/.."

db=$(mktemp -d)/keywarden.db
for migration in migrations/*.sql; do sqlite3 "$db" < "$migration"; done
rm -rf .sqlx && mkdir .sqlx
touch src/lib.rs
DATABASE_URL="sqlite:$db" SQLX_OFFLINE_DIR="$PWD/.sqlx" cargo check --all-targets --quiet
echo "wrote $(ls .sqlx | wc -l) query files to .sqlx/"
