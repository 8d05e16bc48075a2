#!/usr/bin/env bash
# SQLite against PostgreSQL with the same release binary (bench/backends.py): the refresh
# path's throughput and p99, admin writes per second, and the cost of the cross-replica
# guarantee. PostgreSQL is a throwaway server (scripts/temp-postgres.sh) with fsync on, as in
# production. Extra arguments go to backends.py, e.g. bench/backends.sh --seconds 20
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in cargo python3 wrk pgbench; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is not installed" >&2; exit 1; }
done
cargo build --release --quiet --bin keywarden

work=$(mktemp -d)
trap 'scripts/temp-postgres.sh stop "$work/pg" 2>/dev/null || true; rm -rf "$work"' EXIT
chmod 755 "$work"
server=$(TEMP_POSTGRES_FSYNC=on scripts/temp-postgres.sh start "$work/pg" 54398)
psql -q "$server" -c "CREATE DATABASE bench"
python3 bench/backends.py --server target/release/keywarden \
    --postgres "${server%/postgres}/bench" "$@"
