#!/bin/sh
# The kill test of tests/it/production_failover.rs with the killed replica down longer:
# three replicas on PostgreSQL behind HAProxy under skopeo, wrk and writer load; one replica
# SIGKILLed for SECONDS (default 60), then all three restarted one after another. Prints the
# figures (and fails as the test does).
#   bench/failover.sh [SECONDS]
# Needs what scripts/install-test-deps.sh installs (PostgreSQL, HAProxy, registry, skopeo, wrk).
set -eu
cd "$(dirname "$0")/.."
KEYWARDEN_FAILOVER_KILLED_SECONDS="${1:-60}" exec cargo test --test it -- --nocapture --exact \
    production_failover::a_replica_killed_under_load_and_rolling_restarts_lose_nothing
