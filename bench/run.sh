#!/usr/bin/env bash
# The keywarden token-issuance benchmark: builds the release server and the raw-rates helper,
# then runs bench/bench.py (raw crypto rates, start-up, wrk load on the docker-v2 token
# endpoint) and prints the report. Extra arguments go to bench.py (see --help), e.g.
#   bench/run.sh --seconds 20 --keep
# Needs cargo, python3 and wrk (apt-get install -y wrk).
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in cargo python3 wrk; do
    command -v "$tool" >/dev/null || { echo "bench: $tool is not installed" >&2; exit 1; }
done

cargo build --release --quiet --bin keywarden --example raw_rates
exec python3 bench/bench.py \
    --server target/release/keywarden \
    --raw-rates target/release/examples/raw_rates \
    "$@"
