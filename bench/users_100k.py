#!/usr/bin/env python3
"""100,000 users (issue 12, part 5): imports a realm of N users with Keycloak-format hashes
(bench/gen_users.py) with `keywarden import --file` and `--dir`, and reports, each against its
target:

  import seconds            under 60 s (--file and --dir)
  peak RSS of the import    under 512 MiB
  server RSS at rest        under 100 MB: server started on the imported database, one
                            sign-in, then --rest seconds of quiet (VmRSS)
  token p99, N vs 10 users  within 15 %: wrk on the docker-v2 token endpoint, GET with Basic
                            of one user and POST refresh_token with an identity token

Release build. Needs python3 and wrk; `--db postgres` also needs scripts/temp-postgres.sh's
PostgreSQL binaries. Prints one line per figure and exits 1 if any figure fails.

    bench/users_100k.py                       # SQLite, 100,000 users
    bench/users_100k.py --db postgres         # the same on a throwaway PostgreSQL
    bench/users_100k.py --users 20000 --seconds 5 --no-build
"""

import argparse
import base64
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "keywarden")
ADMIN, ADMIN_PASSWORD = "admin", "admin"
REALM, SERVICE, PASSWORD = "bench", "registry", "aNic3Passw0rd"
TOKEN_PATH = f"/realms/{REALM}/protocol/docker-v2/auth"
QUERY = f"service={SERVICE}&scope=repository:app:pull"

IMPORT_SECONDS, IMPORT_RSS_MIB, REST_RSS_MB, P99_RATIO = 60.0, 512, 100, 1.15


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_measured(cmd, env=None):
    """Runs cmd; answers (seconds, peak RSS KiB, stdout)."""
    started = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{out.decode()}")
    return seconds, usage.ru_maxrss, out.decode()


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def request(method, url, headers=None, form=None):
    data = urllib.parse.urlencode(form).encode() if form else None
    headers = dict(headers or {})
    if form:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(errors="replace")


class Server:
    """`keywarden start-dev` on a database, on a free port."""

    def __init__(self, db_url, log_path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("KC_")}
        env.update(KC_BOOTSTRAP_ADMIN_USERNAME=ADMIN, KC_BOOTSTRAP_ADMIN_PASSWORD=ADMIN_PASSWORD)
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen(
            [BINARY, "start-dev", "--features=docker", "--http-host=127.0.0.1",
             f"--http-port={self.port}", f"--db-url={db_url}"],
            env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"server exited early (log: {log_path})")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                conn.request("GET", "/health/ready")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        sys.exit(f"server not ready (log: {log_path})")

    def rss_kib(self):
        return status_kib(self.proc.pid, "VmRSS")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def sign_in(server, username):
    """One docker token with Basic; answers the Basic header and an identity token."""
    basic = "Basic " + base64.b64encode(f"{username}:{PASSWORD}".encode()).decode()
    status, body = request("GET", f"{server.base}{TOKEN_PATH}?{QUERY}&offline_token=true",
                           headers={"Authorization": basic})
    if status != 200 or not body.get("refresh_token"):
        sys.exit(f"sign-in of {username}: HTTP {status}: {str(body)[:300]}")
    return basic, body["refresh_token"]


def wrk_p99_ms(server, args, script_args):
    cmd = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.seconds}s",
           "--latency", "--timeout", "10s", "-s", os.path.join(ROOT, "bench", "token.lua"),
           server.base + TOKEN_PATH + ("?" + QUERY if script_args[0] == "get" else ""),
           "--", *script_args]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    kw = dict(line[3:].split("=", 1) for line in out.splitlines() if line.startswith("KW "))
    if int(kw["status_other"]) or int(kw["socket_errors"]):
        sys.exit(f"wrk {script_args[0]}: errors: {kw}")
    return int(kw["latency_p99_us"]) / 1000, int(kw["requests"]) / (int(kw["duration_us"]) / 1e6)


def token_figures(db_url, user, args, work, name):
    """Starts a server on the database, signs `user` in, measures both token paths; answers
    (rss at rest KiB, {path: (p99 ms, rps)})."""
    server = Server(db_url, os.path.join(work, f"server-{name}.log"))
    try:
        basic, identity = sign_in(server, user)
        time.sleep(args.rest)
        rest = server.rss_kib()
        form = urllib.parse.urlencode({"grant_type": "refresh_token", "refresh_token": identity,
                                       "service": SERVICE, "scope": "repository:app:pull"})
        figures = {"GET Basic": wrk_p99_ms(server, args, ["get", basic]),
                   "POST refresh": wrk_p99_ms(server, args, ["post", form])}
        return rest, figures
    finally:
        server.stop()


class Postgres:
    """A throwaway PostgreSQL server (scripts/temp-postgres.sh)."""

    def __init__(self, work):
        self.dir = os.path.join(work, "pg")
        self.port = free_port()
        script = os.path.join(ROOT, "scripts", "temp-postgres.sh")
        env = dict(os.environ, TEMP_POSTGRES_FSYNC="on")
        out = subprocess.run([script, "start", self.dir, str(self.port)], check=True, env=env,
                             capture_output=True, text=True).stdout.strip().splitlines()
        self.url = out[-1] if out else f"postgres://postgres@127.0.0.1:{self.port}/postgres"
        self.script = script

    def database(self, name):
        subprocess.run(["psql", self.url, "-qc", f"CREATE DATABASE {name}"], check=True)
        return self.url.rsplit("/", 1)[0] + "/" + name

    def stop(self):
        subprocess.run([self.script, "stop", self.dir], capture_output=True)


def verdict(ok):
    return "PASS" if ok else "FAIL"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=100000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--seconds", type=int, default=10, help="per wrk run")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rest", type=float, default=10, help="seconds of quiet before RSS")
    parser.add_argument("--no-build", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("users_100k: wrk is not installed (apt-get install -y wrk)")
    if not args.no_build:
        subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "keywarden"],
                       cwd=ROOT, check=True)
    work = tempfile.mkdtemp(prefix="kw-users-")
    os.chmod(work, 0o755)  # PostgreSQL runs as its own user when this runs as root
    postgres = Postgres(work) if args.db == "postgres" else None
    failed = False
    try:
        gen = os.path.join(ROOT, "bench", "gen_users.py")
        big, small, big_dir = (os.path.join(work, n) for n in ("big.json", "small.json", "dir"))
        subprocess.run([sys.executable, gen, "--users", str(args.users), "--file", big], check=True)
        subprocess.run([sys.executable, gen, "--users", str(args.users), "--dir", big_dir,
                        "--users-per-file", "5000"], check=True)
        subprocess.run([sys.executable, gen, "--users", "10", "--file", small], check=True)

        def db_url(name):
            if postgres:
                return postgres.database(name)
            return "sqlite://" + os.path.join(work, name + ".db")

        lines = []

        def figure(text, ok):
            nonlocal failed
            failed |= not ok
            lines.append(f"{verdict(ok)}  {text}")
            print(lines[-1], flush=True)

        print(f"users_100k: {args.users} users on {args.db}, release build, work dir {work}")
        big_db = db_url("big")
        for what, source, url in (("--file", big, big_db), ("--dir", big_dir, db_url("dir"))):
            seconds, peak_kib, _ = run_measured([BINARY, "import", what, source,
                                                 f"--db-url={url}"])
            figure(f"import {what} of {args.users} users: {seconds:.1f} s "
                   f"(target < {IMPORT_SECONDS:.0f} s)", seconds < IMPORT_SECONDS)
            figure(f"import {what} peak RSS: {peak_kib / 1024:.0f} MiB "
                   f"(target < {IMPORT_RSS_MIB} MiB)", peak_kib / 1024 < IMPORT_RSS_MIB)
        small_db = db_url("small")
        run_measured([BINARY, "import", "--file", small, f"--db-url={small_db}"])

        user = "user000001"
        rest_big, big_figures = token_figures(big_db, user, args, work, "big")
        figure(f"server RSS at rest with {args.users} users: {rest_big / 1000:.1f} MB "
               f"(target < {REST_RSS_MB} MB)", rest_big / 1000 < REST_RSS_MB)
        _, small_figures = token_figures(small_db, user, args, work, "small")
        for path, (p99_big, rps_big) in big_figures.items():
            p99_small, rps_small = small_figures[path]
            ratio = p99_big / p99_small if p99_small else float("inf")
            figure(f"{path} p99: {p99_big:.2f} ms with {args.users} users, {p99_small:.2f} ms "
                   f"with 10 ({ratio:.2f}x; target <= {P99_RATIO}x; "
                   f"{rps_big:.0f} vs {rps_small:.0f} req/s)", ratio <= P99_RATIO)
    finally:
        if postgres:
            postgres.stop()
        if args.keep:
            print(f"users_100k: work dir kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
