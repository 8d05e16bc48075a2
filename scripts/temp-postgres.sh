#!/usr/bin/env bash
# A throwaway PostgreSQL server in a directory, for the tests and scripts/sqlx-prepare.sh.
#   scripts/temp-postgres.sh start DIR PORT   # initdb + start; prints the URL
#   scripts/temp-postgres.sh stop DIR         # stop (the caller removes DIR)
# initdb refuses to run as root, so as root the server runs as the unprivileged `postgres`
# user of Debian's package. Listens on 127.0.0.1 only; trust authentication; fsync off unless
# TEMP_POSTGRES_FSYNC=on (benchmarks).
set -euo pipefail

bin=$(dirname "$(command -v pg_ctl 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/pg_ctl | sort -V | tail -1)")
as_owner() {
    if [[ $EUID -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
start)
    dir=$2 port=$3
    mkdir -p "$dir"
    [[ $EUID -eq 0 ]] && chown postgres "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync >/dev/null
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w -o \
        "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=${TEMP_POSTGRES_FSYNC:-off} -c max_connections=300" \
        start >/dev/null
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
stop)
    as_owner "$bin/pg_ctl" -D "$2/data" -m immediate stop >/dev/null
    ;;
*)
    echo "usage: $0 start DIR PORT | stop DIR" >&2
    exit 2
    ;;
esac
