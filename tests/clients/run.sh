#!/usr/bin/env bash
# keywarden driven by Keycloak's own client libraries:
#   python/  pytest: python-keycloak (KeycloakAdmin, KeycloakOpenID) and authlib
#   node/    node --test: @keycloak/keycloak-admin-client and openid-client
#
# Installs the pinned dependencies (a venv in tests/clients/.venv from
# python/requirements.txt; `npm ci` from node/package-lock.json), builds target/debug/keywarden
# when it is missing (unless KEYWARDEN_BIN names another binary), then runs both suites; each
# starts its own server on a free loopback port. Both suites always run; the exit status is
# non-zero if either failed, or if a needed tool is missing (never a silent skip).
#
# Environment: KEYWARDEN_BIN (binary to test), KEYWARDEN_LOG_DIR (server logs; default
# tests/clients/.logs), PYTEST_ARGS / NODE_TEST_ARGS (extra arguments for each runner).
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

log() { echo "clients: $*" >&2; }
die() {
    log "error: $*"
    exit 2
}

need() {
    command -v "$1" >/dev/null 2>&1 || die "'$1' is required ($2) but is not on PATH"
}

need python3 "the python-keycloak/authlib suite"
need node "the keycloak-admin-client/openid-client suite"
need npm "installing the Node suite's dependencies"

node_major="$(node -p 'process.versions.node.split(".")[0]')"
((node_major >= 20)) || die "Node.js >= 20 is required (openid-client 6), found $(node --version)"

# ---- the server binary ----
export KEYWARDEN_BIN="${KEYWARDEN_BIN:-$repo/target/debug/keywarden}"
case "$KEYWARDEN_BIN" in
/*) ;;
*) KEYWARDEN_BIN="$repo/$KEYWARDEN_BIN" ;;
esac
if [[ ! -x $KEYWARDEN_BIN ]]; then
    if [[ $KEYWARDEN_BIN == "$repo/target/debug/keywarden" ]]; then
        need cargo "building target/debug/keywarden"
        log "building keywarden (cargo build)"
        (cd "$repo" && cargo build --locked --bin keywarden) || die "cargo build failed"
    fi
    [[ -x $KEYWARDEN_BIN ]] || die "keywarden binary not found at $KEYWARDEN_BIN"
fi
log "server binary: $KEYWARDEN_BIN"

export KEYWARDEN_LOG_DIR="${KEYWARDEN_LOG_DIR:-$here/.logs}"
mkdir -p "$KEYWARDEN_LOG_DIR"

# ---- dependencies ----
venv="$here/.venv"
if [[ ! -x $venv/bin/python ]]; then
    log "creating $venv"
    python3 -m venv "$venv" || die "python3 -m venv failed (on Debian: apt-get install python3-venv)"
fi
log "installing python/requirements.txt"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/python/requirements.txt" ||
    die "pip install failed"

log "installing node/ (npm ci)"
(cd "$here/node" && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed"

# ---- the suites ----
status=0

log "running the Python suite (pytest)"
# shellcheck disable=SC2086
(cd "$here/python" && "$venv/bin/python" -m pytest ${PYTEST_ARGS:-})
py_status=$?
((py_status == 0)) || status=1

log "running the Node suite (node --test)"
# shellcheck disable=SC2086
(cd "$here/node" && node --test --test-concurrency=1 ${NODE_TEST_ARGS:-} test/admin.test.js test/oidc.test.js)
node_status=$?
((node_status == 0)) || status=1

log "python suite exit ${py_status}, node suite exit ${node_status}; server logs in $KEYWARDEN_LOG_DIR"
exit "$status"
