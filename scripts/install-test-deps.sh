#!/usr/bin/env bash
# Installs the real peers the test suite drives, on Debian 12 (bookworm), as root:
# the Docker registry, skopeo, podman, dockerd (docker.io), wrk, hyperfine, sqlite3, openssl,
# chromium, chromedriver, haproxy, docker-compose (whose `config` checks the compose file
# without an engine), PostgreSQL (the suite runs a second time on a throwaway server) and
# libargon2 (bench/run.sh measures the reference argon2 beside keywarden's).
#
# Idempotent and quick: when every needed command is already on PATH, apt is not touched.
# Otherwise it runs `apt-get update`, checks that each missing package has a candidate, and
# installs only those packages (--no-install-recommends). While it installs, a temporary
# policy-rc.d keeps package scripts from starting services (the registry on :5000, dockerd,
# containerd, haproxy): the tests start private instances of their own. The system registry service is
# then stopped and disabled if it runs or is enabled, with or without systemd.
# Ends with a one-line summary of versions.
set -euo pipefail

export PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
export DEBIAN_FRONTEND=noninteractive
export NEEDRESTART_SUSPEND=1

# Each package, and the command (or, starting with /, the file) that shows it is installed.
readonly PACKAGES=(
    docker-registry:docker-registry
    skopeo:skopeo
    podman:podman
    docker.io:dockerd
    wrk:wrk
    hyperfine:hyperfine
    sqlite3:sqlite3
    openssl:openssl
    chromium:chromium
    chromium-driver:chromedriver
    haproxy:haproxy
    docker-compose:docker-compose
    postgresql:pg_ctlcluster
    libargon2-dev:/usr/include/argon2.h
)
readonly POLICY_RC_D=/usr/sbin/policy-rc.d

log() { echo "install-test-deps: $*" >&2; }
die() { log "error: $*"; exit 1; }

# Whether the command or file of a PACKAGES entry is there.
present() {
    local what=${1#*:}
    if [[ $what == /* ]]; then
        [[ -e $what ]]
    else
        command -v "$what" >/dev/null 2>&1
    fi
}

# Prints the packages whose command is not on PATH (or whose file is missing), one a line.
missing_packages() {
    local entry
    for entry in "${PACKAGES[@]}"; do
        present "$entry" || echo "${entry%%:*}"
    done
}

require_root() {
    [[ $EUID -eq 0 ]] || die "run as root (sudo $0) to install: $*"
}

warn_unless_bookworm() {
    local release
    release=$(
        # shellcheck disable=SC1091
        if [[ -r /etc/os-release ]]; then . /etc/os-release; fi
        echo "${ID:-} ${VERSION_CODENAME:-}"
    )
    [[ $release == "debian bookworm" ]] ||
        log "warning: made for Debian 12 (bookworm), this is '${release}'"
}

# Fails unless apt knows an installable version of every package given.
check_candidates() {
    local package candidate unknown=()
    for package in "$@"; do
        candidate=$(apt-cache policy "$package" | awk '/Candidate:/ { print $2 }')
        [[ -n $candidate && $candidate != "(none)" ]] || unknown+=("$package")
    done
    ((${#unknown[@]} == 0)) || die "apt has no candidate for: ${unknown[*]}"
}

# A policy-rc.d that forbids starting services, removed on exit unless it was there before.
block_service_starts() {
    [[ -e $POLICY_RC_D ]] && return
    printf '#!/bin/sh\nexit 101\n' >"$POLICY_RC_D"
    chmod 0755 "$POLICY_RC_D"
    trap 'rm -f "$POLICY_RC_D"' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

install_packages() {
    require_root "$@"
    warn_unless_bookworm
    log "installing: $*"
    apt-get -q update
    check_candidates "$@"
    block_service_starts
    apt-get -q install -y --no-install-recommends "$@"
}

# The tests run their own registries; a system one would only hold port 5000 and memory.
keep_system_registry_off() {
    [[ $EUID -eq 0 ]] || return 0
    if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
        if systemctl --quiet is-active docker-registry.service ||
            systemctl --quiet is-enabled docker-registry.service 2>/dev/null; then
            log "stopping and disabling the system docker-registry service"
            systemctl disable --now docker-registry.service >/dev/null 2>&1 || true
        fi
    elif [[ -x /etc/init.d/docker-registry ]]; then
        if /etc/init.d/docker-registry status >/dev/null 2>&1; then
            log "stopping the system docker-registry service"
            /etc/init.d/docker-registry stop >/dev/null 2>&1 || true
        fi
        update-rc.d docker-registry disable >/dev/null 2>&1 || true
    fi
}

# "package version" for each package, from dpkg, or where the command lives when apt did not
# install it.
print_versions() {
    local entry package version summary=()
    for entry in "${PACKAGES[@]}"; do
        package=${entry%%:*}
        version=$(dpkg-query -W -f='${Version}' "$package" 2>/dev/null || true)
        summary+=("$package ${version:-($(command -v "${entry#*:}"))}")
    done
    local line
    line=$(printf '%s, ' "${summary[@]}")
    echo "test deps: ${line%, }"
}

main() {
    local missing
    mapfile -t missing < <(missing_packages)
    if ((${#missing[@]} > 0)); then
        install_packages "${missing[@]}"
    fi
    keep_system_registry_off
    print_versions
}

main "$@"
