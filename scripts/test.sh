#!/usr/bin/env bash
# The whole test suite, as CI runs it: install the real peers the tests drive (registry,
# docker, podman, skopeo, Chromium, PostgreSQL, HAProxy, the Keycloak client libraries), run
# every test on SQLite, then the integration suite again with every test server on
# PostgreSQL (a throwaway server the tests start and remove; see tests/it/postgres.rs).
set -euo pipefail
cd "$(dirname "$0")/.."

threads=${TEST_THREADS:-4}
scripts/install-test-deps.sh
# playwright-core for the Chromium scripts, before the tests that use it run side by side.
[[ -e tests/e2e/node_modules/playwright-core/package.json ]] ||
    (cd tests/e2e && npm ci --no-audit --no-fund)
cargo test --locked --all-targets -- --test-threads="$threads"
# The second pass leaves out the modules whose databases do not depend on the backend: they
# run on PostgreSQL (replicas, failover, the move to PostgreSQL), on SQLite (backups) or on
# both (schema parity) in the first pass already.
KEYWARDEN_TEST_BACKEND=postgres cargo test --locked --test it -- --test-threads="$threads" \
    --skip production_replicas --skip production_failover --skip production_move \
    --skip production_backup --skip schema_parity
