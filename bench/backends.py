#!/usr/bin/env python3
"""SQLite against PostgreSQL, the same release binary in one run (started by
bench/backends.sh): the docker-v2 refresh path under wrk (throughput and p99), sequential
admin writes per second, and the cost of the cross-replica guarantee (the one read of
`cache_version` each PostgreSQL request makes), measured as that statement's round trip.

Exit status: 0 when the run worked, whatever the targets say; 1 when something failed.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as bench  # noqa: E402

TARGET_REFRESH_RATIO = 0.8


def admin_writes(base, count):
    """Creates `count` users one after another through the admin API; answers writes/s."""
    token = bench.expect("admin token", *bench.request(
        "POST", f"{base}/realms/master/protocol/openid-connect/token",
        form={"grant_type": "password", "client_id": "admin-cli",
              "username": bench.ADMIN, "password": bench.ADMIN_PASSWORD}), {200})["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    started = time.monotonic()
    for i in range(count):
        bench.expect("create user", *bench.request(
            "POST", f"{base}/admin/realms/{bench.REALM}/users", headers=headers,
            json_body={"username": f"writer-{i}", "enabled": True}), {201})
    return count / (time.monotonic() - started)


def measure(binary, name, db_url, work, args):
    server = bench.Server(binary, os.path.join(work, name, "kw.db"),
                          os.path.join(work, f"{name}.log"), db_url=db_url)
    try:
        server.wait_ready(timeout=60)
        _, identity = bench.set_up_realm(server.base)
        url = f"{server.base}{bench.TOKEN_PATH}"
        refresh = bench.run_wrk(server.proc.pid, f"{name}-refresh", url,
                                ["post", urllib.parse.urlencode(bench.refresh_form(identity))],
                                args, work)
        writes = admin_writes(server.base, args.writes)
    finally:
        server.stop()
    return refresh, writes


def version_round_trip_us(pg_url, seconds):
    """The mean latency of `SELECT version FROM cache_version WHERE id` by one client."""
    script = os.path.join(tempfile.mkdtemp(), "version.sql")
    with open(script, "w") as f:
        f.write("SELECT version FROM cache_version WHERE id;\n")
    out = subprocess.run(["pgbench", "-n", "-M", "prepared", "-c", "1", "-T", str(seconds),
                          "-f", script, pg_url], capture_output=True, text=True, check=True)
    for line in out.stdout.splitlines():
        if line.startswith("latency average"):
            return float(line.split("=")[1].split()[0]) * 1000
    raise bench.BenchError(f"no latency in pgbench output: {out.stdout}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True)
    parser.add_argument("--postgres", required=True, help="URL of an empty database")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--writes", type=int, default=500)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="kw-backends-")
    for sub in ("sqlite", "postgres"):
        os.makedirs(os.path.join(work, sub))
    try:
        lite, lite_writes = measure(args.server, "sqlite", None, work, args)
        pg, pg_writes = measure(args.server, "postgres", args.postgres, work, args)
        round_trip = version_round_trip_us(args.postgres, 5)
    except bench.BenchError as err:
        print(f"backends: {err} (work dir {work})", file=sys.stderr)
        return 1
    ratio = pg["rps"] / lite["rps"]
    print(f"refresh path, {args.connections} connections, {args.seconds} s each (wrk):")
    for name, r in (("sqlite", lite), ("postgres", pg)):
        print(f"  {name:9} {r['rps']:8.0f} req/s  p99 {r['latency_p99_us'] / 1000:6.1f} ms  "
              f"server {r['server_cpu_ms_per_req']:.2f} ms CPU/req  "
              f"other processes {r['other_cores']:.2f} cores")
    verdict = "PASS" if ratio >= TARGET_REFRESH_RATIO else "FAIL"
    print(f"  postgres / sqlite = {ratio:.2f} (target >= {TARGET_REFRESH_RATIO}) {verdict}")
    print(f"admin writes (user creations, one at a time): sqlite {lite_writes:.0f}/s, "
          f"postgres {pg_writes:.0f}/s")
    print(f"cross-replica guarantee: one cache_version read per request = "
          f"{round_trip:.0f} us round trip (pgbench, 1 client)")
    print(f"work dir: {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
