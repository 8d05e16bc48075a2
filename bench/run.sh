#!/usr/bin/env bash
# The keywarden benchmark, one command: builds the release server, the raw_rates and
# http_ceiling examples and the libargon2 driver (bench/argon2_rate.c), then runs
# bench/bench.py, which prints each figure beside its ceiling measured in the same run, with
# the ratio, the target and PASS/FAIL, and writes the report as JSON. Extra arguments go to
# bench.py (see --help), e.g.
#   bench/run.sh --quick                       a smoke run of every section
#   bench/run.sh --only realistic --keep       one section, keeping logs and wrk output
# Needs cargo, cc, python3, wrk and libargon2 (scripts/install-test-deps.sh installs them);
# sqlite3 for the fallback below.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in cargo cc python3 wrk; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is not installed" >&2; exit 1; }
done
[[ -e /usr/include/argon2.h ]] ||
    { echo "bench: libargon2 is not installed (apt-get install -y libargon2-dev)" >&2; exit 1; }

build() {
    cargo build --release --quiet --bin keywarden --example raw_rates --example http_ceiling
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
    cat migrations/sqlite/*.sql | sqlite3 "$scratch/schema.db"
    DATABASE_URL="sqlite://$scratch/schema.db" build
fi
cc -O2 -Wall -pthread -o target/release/examples/argon2_rate bench/argon2_rate.c -largon2

python3 bench/bench.py \
    --server target/release/keywarden \
    --raw-rates target/release/examples/raw_rates \
    --argon2-rate target/release/examples/argon2_rate \
    --http-ceiling target/release/examples/http_ceiling \
    "$@"
