#!/usr/bin/env python3
"""Server CPU per docker-v2 token request that fails before any password is verified, at the
largest input the server accepts (and just beyond it).

Starts the release server (bench/run.sh builds it), creates the bench realm, then sends each
request shape N times over one keep-alive connection and divides the server process's CPU
time (utime + stime from /proc/PID/stat, after the work it queued has drained) by N.

    cargo build --release --bin keywarden
    python3 bench/reject_cpu.py --server target/release/keywarden --requests 2000

Also measures an anonymous request against the largest policy the server accepts, whose
patterns keep the matcher busy to their last token (it ends in a signed token, not a failure),
and against a one-rule policy for comparison.
"""

import argparse
import http.client
import os
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common as bench  # noqa: E402  (the shared server and HTTP helpers)

MAX_PARAMS_BYTES = 32 * 1024
MAX_SCOPES = 32
NAME = "a" * 255


def longest_scope(index):
    """A 512-byte scope with a 255-byte name (the limits), distinct per index."""
    head = f"repository:{NAME[:-3]}{index:03d}:"
    actions = ",".join(["pull", "push", "delete", "*"] * 64)
    return (head + actions)[:512].rstrip(",")


LONGEST_RULE = {"repository": "*?" * 255 + "*x", "who": "anonymous", "actions": ["pull"]}
SMALL_RULE = {"repository": "library/*", "who": "anonymous", "actions": ["pull"]}
SCOPES = "&".join("scope=" + longest_scope(i) for i in range(MAX_SCOPES))


def shapes(basic_wrong_scheme):
    """(name, method, path+query, headers, body) per request shape."""
    path = bench.TOKEN_PATH
    refresh = urllib.parse.urlencode({
        "grant_type": "refresh_token", "service": bench.SERVICE,
        "refresh_token": "x" * 14_000}) + "&" + SCOPES
    refresh = refresh[:MAX_PARAMS_BYTES]
    return [
        ("unknown service, 32 longest scopes", "GET", f"{path}?service=nope&{SCOPES}", {}, None),
        ("no credentials, 32 longest scopes", "GET",
         f"{path}?service={bench.SERVICE}&{SCOPES}", {}, None),
        ("non-Basic Authorization, 32 longest scopes", "GET",
         f"{path}?service={bench.SERVICE}&{SCOPES}", {"Authorization": basic_wrong_scheme}, None),
        ("unknown identity token, 32 KiB form", "POST", path,
         {"Content-Type": "application/x-www-form-urlencoded"}, refresh.encode()),
        ("33 scopes (refused)", "GET",
         f"{path}?service={bench.SERVICE}&{SCOPES}&scope=repository:b:pull", {}, None),
        ("query of 32 KiB + 1 (refused)", "GET",
         f"{path}?service={bench.SERVICE}&account={'x' * MAX_PARAMS_BYTES}", {}, None),
        ("body of 220 KiB (refused)", "POST", path,
         {"Content-Type": "application/x-www-form-urlencoded"}, b"scope=" + b"x" * (220 * 1024)),
    ]


def send_all(port, method, target, headers, body, count):
    """Sends `count` requests, reconnecting when the server closes; returns the statuses."""
    statuses = {}
    conn = None
    for _ in range(count):
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request(method, target, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            statuses[response.status] = statuses.get(response.status, 0) + 1
            if response.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        except (ConnectionError, http.client.HTTPException):
            statuses["reset"] = statuses.get("reset", 0) + 1
            conn.close()
            conn = None
    if conn is not None:
        conn.close()
    return statuses


def measure(server, name, method, target, headers, body, count):
    server.wait_idle()
    before = bench.proc_cpu_seconds(server.proc.pid)
    started = time.monotonic()
    statuses = send_all(server.port, method, target, headers, body, count)
    wall = time.monotonic() - started
    server.wait_idle()
    spent = bench.proc_cpu_seconds(server.proc.pid) - before
    size = len(target) + len(body or b"")
    print(f"{name:48} {size:>7} B  {spent / count * 1e6:8.1f} us CPU/request  "
          f"({count} in {wall:.1f} s, statuses {statuses})")
    return spent / count


def store_anonymous_policy(base, rules):
    """Stores `rules` as the docker client's policy."""
    token = bench.expect("admin token", *bench.request(
        "POST", f"{base}/realms/master/protocol/openid-connect/token",
        form={"grant_type": "password", "client_id": "admin-cli",
              "username": bench.ADMIN, "password": bench.ADMIN_PASSWORD}), {200})["access_token"]
    admin = {"Authorization": f"Bearer {token}"}
    clients = bench.expect("find client", *bench.request(
        "GET", f"{base}/admin/realms/{bench.REALM}/clients?clientId={bench.SERVICE}",
        headers=admin), {200})
    bench.expect("store policy", *bench.request(
        "PUT", f"{base}/admin/realms/{bench.REALM}/clients/{clients[0]['id']}/docker-access-policy",
        headers=admin, json_body={"mode": "rules", "rules": rules}), {204})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="target/release/keywarden")
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="keywarden-reject-")
    server = bench.Server(args.server, os.path.join(work, "bench.db"),
                          os.path.join(work, "server.log"))
    try:
        server.wait_ready()
        bench.set_up_realm(server.base)
        print(f"server CPU per request, {args.requests} requests per shape "
              f"(clock tick {1e6 / os.sysconf('SC_CLK_TCK'):.0f} us)")
        worst = 0.0
        for name, method, target, headers, body in shapes("Bearer x"):
            count = args.requests if body is None or len(body) < 64 * 1024 else args.requests // 4
            worst = max(worst, measure(server, name, method, target, headers, body, count))
        print(f"worst before password verification: {worst * 1e6:.1f} us")
        # The largest accepted policy: every pattern keeps the matcher's position set alive
        # to its last token against the 255-byte names, then fails; then one small rule, to
        # tell the matching from the rest (an RS256 signature above all).
        anonymous_query = f"{bench.TOKEN_PATH}?service={bench.SERVICE}&{SCOPES}"
        for name, rules in [
            ("anonymous, largest policy, 32 longest scopes", [LONGEST_RULE] * 16),
            ("anonymous, one-rule policy, 32 longest scopes", [SMALL_RULE]),
        ]:
            store_anonymous_policy(server.base, rules)
            measure(server, name, "GET", anonymous_query, {}, None, args.requests // 4)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
