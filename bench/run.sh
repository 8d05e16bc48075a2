#!/usr/bin/env bash
# The keywarden token-issuance benchmark: builds the release server and the raw-rates helper,
# then runs bench/bench.py (raw crypto rates, start-up, wrk load on the docker-v2 token
# endpoint) and prints the report. Extra arguments go to bench.py (see --help), e.g.
#   bench/run.sh --seconds 20 --keep
# Needs cargo, python3 and wrk (apt-get install -y wrk); sqlite3 for the fallback below.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in cargo python3 wrk; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is not installed" >&2; exit 1; }
done

build() {
    cargo build --release --quiet --bin keywarden --example raw_rates
}

# While queries are being edited the sqlx offline cache (.sqlx/) can lag behind src/; then
# sqlx checks the queries against a scratch database made from migrations/ instead.
log=$(mktemp)
scratch=$(mktemp -d)
trap 'rm -rf "$log" "$scratch"' EXIT
if ! build 2>"$log"; then
    if [[ -n ${DATABASE_URL:-} ]] || ! command -v sqlite3 >/dev/null ||
        ! grep -q "cargo sqlx prepare" "$log"; then
        cat "$log" >&2
        exit 1
    fi
    echo "bench: sqlx query cache is stale; building against a scratch database" >&2
    cat migrations/*.sql | sqlite3 "$scratch/schema.db"
    DATABASE_URL="sqlite://$scratch/schema.db" build
fi

python3 bench/bench.py \
    --server target/release/keywarden \
    --raw-rates target/release/examples/raw_rates \
    "$@"
