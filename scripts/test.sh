#!/usr/bin/env bash
# The whole test suite, as CI runs it: install the real peers the tests drive (registry,
# docker, podman, skopeo, Chromium, the Keycloak client libraries), then run every test.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-deps.sh
cargo test --locked --all-targets -- --test-threads="${TEST_THREADS:-4}"
