#!/usr/bin/env python3
"""The keywarden token-issuance benchmark driver (started by bench/run.sh after the build).

Measures, in one run: the server's start-up time and idle memory, the docker-v2 token endpoint
under wrk load (GET with Basic credentials, POST refresh_token with an identity token), and
around each load run the raw argon2id verify or RS256 sign rate it is compared with
(bench/raw_rates.rs); then prints a report with the ratios and PASS/FAIL per target.

Exit status: 0 when the run worked, whatever the targets say; 1 when something failed,
including any non-200 answer under load (a benchmark of error responses is worthless).
"""

import argparse
import base64
import http.client
import json
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
ADMIN, ADMIN_PASSWORD = "admin", "admin"
REALM, SERVICE, USER, PASSWORD = "bench", "registry", "dev", "pw"
TOKEN_PATH = f"/realms/{REALM}/protocol/docker-v2/auth"
GET_QUERY = f"service={SERVICE}&scope=repository:{USER}/app:pull,push"
REFRESH_SCOPE = f"repository:{USER}/app:pull"

TARGETS = {
    "basic_ratio": 0.85,
    "refresh_ratio": 0.60,
    "refresh_p99_ms": 50.0,
    "peak_rss_mib": 64.0,
}
# Cores other processes may use during a measurement before the report calls it unreliable.
NOISE_CORES = 0.2
# Change of a raw rate across a load run beyond which the report calls the ratio unreliable.
DRIFT = 0.10


class BenchError(Exception):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_status_kib(pid, field):
    """A `VmRSS`/`VmHWM`-style field of /proc/PID/status, in KiB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise BenchError(f"no {field} in /proc/{pid}/status")


def proc_cpu_seconds(pid, task=None):
    """User + system CPU time of a process (or one of its threads) so far."""
    path = f"/proc/{pid}/task/{task}/stat" if task else f"/proc/{pid}/stat"
    with open(path) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# Server threads by name prefix: actix's HTTP workers (which also sign tokens), the SQLite
# connection threads of sqlx, and the password hashing threads.
THREAD_GROUPS = (("actix-rt", "http workers"), ("sqlx-sqlite", "sqlite threads"),
                 ("argon2", "argon2 threads"))


def thread_cpu(pid):
    """CPU seconds so far per live thread: {tid: (group, seconds)}."""
    threads = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
            seconds = proc_cpu_seconds(pid, tid)
        except OSError:
            continue
        group = next((g for prefix, g in THREAD_GROUPS if name.startswith(prefix)), "other")
        threads[tid] = (group, seconds)
    return threads


def cpu_by_group(before, after, total):
    """Seconds per thread group between two thread_cpu() snapshots; threads that exited in
    between are counted under "other" (the process total minus the live threads)."""
    groups = {group: 0.0 for _, group in THREAD_GROUPS}
    groups["other"] = 0.0
    for tid, (group, seconds) in after.items():
        groups[group] += seconds - before.get(tid, (group, 0.0))[1]
    groups["other"] += max(total - sum(groups.values()), 0.0)
    return groups


def machine_busy_seconds():
    """CPU seconds all processes have used so far, summed over cores (from /proc/stat)."""
    with open("/proc/stat") as f:
        user, nice, system, _idle, _iowait, irq, softirq, steal = \
            map(int, f.readline().split()[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def mib(kib):
    return kib / 1024


class Server:
    """One keywarden process on a free port, its output appended to log_path."""

    def __init__(self, binary, db_path, log_path, db_url=None):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("KC_")}
        env.update(KC_BOOTSTRAP_ADMIN_USERNAME=ADMIN, KC_BOOTSTRAP_ADMIN_PASSWORD=ADMIN_PASSWORD)
        args = [binary, "start-dev", "--features=docker", "--http-host=127.0.0.1",
                f"--http-port={self.port}", f"--db-url={db_url or 'sqlite://' + db_path}"]
        self.log = open(log_path, "ab")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(args, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout=30.0):
        """Polls /health/ready until it answers 200; returns seconds since exec."""
        deadline = self.started + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"server exited with {self.proc.returncode} before ready "
                                 f"(log: {self.log.name})")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                conn.request("GET", "/health/ready")
                status = conn.getresponse().status
                conn.close()
                if status == 200:
                    return time.monotonic() - self.started
            except OSError:
                pass
            time.sleep(0.001)
        raise BenchError(f"server not ready after {timeout} s (log: {self.log.name})")

    def status_kib(self, field):
        return proc_status_kib(self.proc.pid, field)

    def wait_idle(self, timeout=15.0):
        """Waits until the server stops using CPU (work queued by a previous run drains)."""
        deadline = time.monotonic() + timeout
        last = proc_cpu_seconds(self.proc.pid)
        while time.monotonic() < deadline:
            time.sleep(0.25)
            now = proc_cpu_seconds(self.proc.pid)
            if now - last < 0.01:
                return
            last = now

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def request(method, url, *, headers=None, json_body=None, form=None):
    """An HTTP call that answers (status, parsed JSON or text); never raises on 4xx/5xx."""
    headers = dict(headers or {})
    data = None
    if json_body is not None:
        data = json.dumps(json_body).encode()
        headers["Content-Type"] = "application/json"
    elif form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")


def expect(what, status, body, wanted):
    if status not in wanted:
        raise BenchError(f"{what}: HTTP {status}: {str(body)[:300]}")
    return body


def set_up_realm(base):
    """Creates the bench realm, its docker-v2 client and user; returns the Basic header and
    an identity token."""
    token = expect("admin token", *request(
        "POST", f"{base}/realms/master/protocol/openid-connect/token",
        form={"grant_type": "password", "client_id": "admin-cli",
              "username": ADMIN, "password": ADMIN_PASSWORD}), {200})["access_token"]
    admin = {"Authorization": f"Bearer {token}"}
    expect("create realm", *request("POST", f"{base}/admin/realms", headers=admin,
                                    json_body={"realm": REALM, "enabled": True}), {201})
    expect("create client", *request(
        "POST", f"{base}/admin/realms/{REALM}/clients", headers=admin,
        json_body={"clientId": SERVICE, "protocol": "docker-v2"}), {201})
    expect("create user", *request(
        "POST", f"{base}/admin/realms/{REALM}/users", headers=admin,
        json_body={"username": USER, "enabled": True,
                   "credentials": [{"type": "password", "value": PASSWORD,
                                    "temporary": False}]}), {201})

    basic = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    body = expect("GET token with Basic", *request(
        "GET", f"{base}{TOKEN_PATH}?{GET_QUERY}", headers={"Authorization": basic}), {200})
    if not body.get("token"):
        raise BenchError(f"GET token with Basic: no token in {body}")
    body = expect("GET identity token", *request(
        "GET", f"{base}{TOKEN_PATH}?{GET_QUERY}&offline_token=true",
        headers={"Authorization": basic}), {200})
    identity = body.get("refresh_token")
    if not identity:
        raise BenchError(f"GET identity token: no refresh_token in {body}")
    body = expect("POST refresh_token", *request(
        "POST", f"{base}{TOKEN_PATH}", form=refresh_form(identity)), {200})
    if not body.get("token"):
        raise BenchError(f"POST refresh_token: no token in {body}")
    return basic, identity


def refresh_form(identity):
    return {"grant_type": "refresh_token", "refresh_token": identity,
            "service": SERVICE, "scope": REFRESH_SCOPE}


def raw_rate(binary, kind, seconds):
    """One raw_rates measurement ("argon2" or "rs256"): threads, per_s, cpu_ms_per_op, and
    the cores other processes kept busy meanwhile."""
    busy, own = machine_busy_seconds(), children_cpu_seconds()
    started = time.monotonic()
    out = subprocess.run([binary, kind, str(seconds)], check=True, capture_output=True,
                         text=True)
    wall = time.monotonic() - started
    other = (machine_busy_seconds() - busy - (children_cpu_seconds() - own)) / wall
    values = dict(line.split("=", 1) for line in out.stdout.split() if "=" in line)
    rate = {key: float(value) for key, value in values.items()}
    rate["threads"] = int(rate["threads"])
    rate["other_cores"] = max(other, 0.0)
    return rate


def measure_start_up(binary, work, runs):
    """Median exec-to-ready time and idle VmHWM, on fresh databases and on an existing one."""
    results = {}
    existing_db = os.path.join(work, "existing", "kw.db")
    for kind in ("fresh", "existing"):
        times, hwm = [], []
        for i in range(runs):
            db = os.path.join(work, f"fresh-{i}", "kw.db") if kind == "fresh" else existing_db
            if kind == "existing" and not os.path.exists(db):
                prepare = Server(binary, db, os.path.join(work, "start-up.log"))
                try:
                    prepare.wait_ready()
                finally:
                    prepare.stop()
            server = Server(binary, db, os.path.join(work, "start-up.log"))
            try:
                times.append(server.wait_ready())
                hwm.append(server.status_kib("VmHWM"))
            finally:
                server.stop()
        results[kind] = (statistics.median(times), min(times), max(times),
                         statistics.median(hwm))
    return results


class RssSampler(threading.Thread):
    """Polls a process's VmRSS until stopped; keeps the maximum."""

    def __init__(self, pid, interval=0.05):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.peak_kib = 0
        self.halt = threading.Event()

    def run(self):
        while not self.halt.is_set():
            self.peak_kib = max(self.peak_kib, proc_status_kib(self.pid, "VmRSS"))
            self.halt.wait(self.interval)

    def stop(self):
        self.halt.set()
        self.join()
        return self.peak_kib


def run_wrk(server, name, url, script_args, args, work):
    """One wrk run with bench/token.lua; returns its KW figures plus RSS and CPU use."""
    cmd = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.seconds}s",
           "--latency", "--timeout", "10s", "-s", os.path.join(BENCH_DIR, "token.lua"),
           url, "--", *script_args]
    server.wait_idle()
    sampler = RssSampler(server.proc.pid)
    server_before, wrk_before = proc_cpu_seconds(server.proc.pid), children_cpu_seconds()
    threads_before = thread_cpu(server.proc.pid)
    busy_before = machine_busy_seconds()
    sampler.start()
    try:
        out = subprocess.run(cmd, capture_output=True, text=True)
    finally:
        peak = sampler.stop()
    busy = machine_busy_seconds() - busy_before
    server_cpu = proc_cpu_seconds(server.proc.pid) - server_before
    by_group = cpu_by_group(threads_before, thread_cpu(server.proc.pid), server_cpu)
    wrk_cpu = children_cpu_seconds() - wrk_before
    with open(os.path.join(work, f"wrk-{name}.txt"), "w") as f:
        f.write(" ".join(cmd[:-1]) + " ...\n" + out.stdout + out.stderr)
    if out.returncode != 0:
        raise BenchError(f"wrk {name} failed ({out.returncode}): {out.stderr.strip()}")
    if server.proc.poll() is not None:
        raise BenchError(f"server died during {name} (exit {server.proc.returncode})")
    kw = {}
    for line in out.stdout.splitlines():
        if line.startswith("KW "):
            key, _, value = line[3:].partition("=")
            kw[key] = value
    result = {k: int(v) for k, v in kw.items() if k != "first_error"}
    result["first_error"] = kw.get("first_error", "")
    seconds = result["duration_us"] / 1e6
    result["rps"] = result["requests"] / seconds
    result["peak_rss_kib"] = peak
    result["server_cores"] = server_cpu / seconds
    result["server_cores_by_group"] = {g: c / seconds for g, c in by_group.items()}
    result["server_cpu_ms_per_req"] = 1000 * server_cpu / max(result["requests"], 1)
    result["wrk_cores"] = wrk_cpu / seconds
    result["other_cores"] = max(busy - server_cpu - wrk_cpu, 0.0) / seconds
    result["rss_end_kib"] = server.status_kib("VmRSS")
    return result


def bracketed(server, raw_binary, kind, args, run):
    """Runs `run()` between two raw measurements of `kind`: the host's speed drifts, so the
    ceiling a load run is compared with is the mean of one taken just before and one just
    after it, each with the server idle."""
    server.wait_idle()
    before = raw_rate(raw_binary, kind, args.raw_seconds)
    result = run()
    server.wait_idle()
    after = raw_rate(raw_binary, kind, args.raw_seconds)
    raw = {key: (before[key] + after[key]) / 2 for key in ("per_s", "cpu_ms_per_op")}
    raw["threads"] = before["threads"]
    raw["drift"] = after["per_s"] / before["per_s"] - 1
    raw["other_cores"] = max(before["other_cores"], after["other_cores"])
    return raw, result


def measure_load(binary, raw_binary, work, args):
    server = Server(binary, os.path.join(work, "load", "kw.db"), os.path.join(work, "load.log"))
    try:
        server.wait_ready()
        basic, identity = set_up_realm(server.base)
        idle = {"rss": server.status_kib("VmRSS"), "hwm": server.status_kib("VmHWM"),
                "threads": proc_status_kib(server.proc.pid, "Threads")}
        url = f"{server.base}{TOKEN_PATH}"
        argon2, get = bracketed(server, raw_binary, "argon2", args, lambda: run_wrk(
            server, "get-basic", f"{url}?{GET_QUERY}", ["get", basic], args, work))
        rs256, post = bracketed(server, raw_binary, "rs256", args, lambda: run_wrk(
            server, "post-refresh", url,
            ["post", urllib.parse.urlencode(refresh_form(identity))], args, work))
        after = {"hwm": server.status_kib("VmHWM"),
                 "threads": proc_status_kib(server.proc.pid, "Threads")}
    finally:
        server.stop()
    return {"idle": idle, "after": after, "argon2": argon2, "get": get, "rs256": rs256,
            "post": post}


def verdict(ok):
    return "PASS" if ok else "FAIL"


def report(ctx):
    a, load = ctx["args"], ctx["load"]
    argon2, rs256, get, post = load["argon2"], load["rs256"], load["get"], load["post"]
    runs = (("GET Basic", get), ("POST refresh_token", post))
    cores = argon2["threads"]
    print()
    print("keywarden token-issuance benchmark")
    print(f"  cores (available_parallelism)  {cores}  (= raw threads = actix workers = "
          f"argon2 threads)")
    print(f"  release binary                 {ctx['binary_size'] / 1e6:.2f} MB "
          f"({ctx['binary_size']} bytes)")
    print()
    print(f"Raw crypto rates ({cores} threads; mean of {a.raw_seconds:g} s just before and "
          f"just after the load run they are compared with)")
    for name, raw in (("argon2id verify (v1.3 m=7168 t=5 p=1, 32 B)", argon2),
                      ("RS256 sign (RSA-2048, aws-lc-rs)", rs256)):
        print(f"  {name:<44} {raw['per_s']:8.1f} /s   CPU {raw['cpu_ms_per_op']:6.2f} ms/op"
              f"   drift {100 * raw['drift']:+5.1f} %")
    print()
    print(f"Start-up, exec -> /health/ready 200 (median of {a.start_runs} [min..max])")
    for kind in ("fresh", "existing"):
        med, lo, hi, hwm_kib = ctx["start"][kind]
        print(f"  {kind + ' DB':<12} {med * 1000:7.1f} ms  [{lo * 1000:6.1f} ..{hi * 1000:6.1f}]"
              f"   idle VmHWM after ready {mib(hwm_kib):5.1f} MiB")
    print()
    print(f"Token endpoint under load (wrk -t{a.threads} -c{a.connections} -d{a.seconds}s "
          f"--latency)")
    idle = load["idle"]
    print(f"  idle before load (after set-up): VmRSS {mib(idle['rss']):.1f} MiB, "
          f"VmHWM {mib(idle['hwm']):.1f} MiB, {idle['threads']} threads")
    print(f"  {'':<20} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8}"
          f" {'200':>7} {'non-200':>8} {'sock err':>8}")
    for name, r in runs:
        print(f"  {name:<20} {r['rps']:8.1f} {r['latency_p50_us'] / 1000:8.2f}"
              f" {r['latency_p90_us'] / 1000:8.2f} {r['latency_p99_us'] / 1000:8.2f}"
              f" {r['latency_max_us'] / 1000:8.2f} {r['status_200']:7d} {r['status_other']:8d}"
              f" {r['socket_errors']:8d}")
        if r["first_error"]:
            print(f"    first non-200: {r['first_error']}")
    print(f"  {'':<20} {'peak RSS':>10} {'RSS at end':>11} {'server':>12} {'server CPU':>11}"
          f" {'wrk':>10} {'others':>10}")
    for name, r in runs:
        print(f"  {name:<20} {mib(r['peak_rss_kib']):6.1f} MiB {mib(r['rss_end_kib']):7.1f} MiB"
              f" {r['server_cores']:6.2f} cores {r['server_cpu_ms_per_req']:6.2f} ms/req"
              f" {r['wrk_cores']:4.2f} cores {r['other_cores']:4.2f} cores")
    print("  server cores by thread:")
    for name, r in runs:
        groups = ", ".join(f"{g} {c:.2f}" for g, c in r["server_cores_by_group"].items())
        print(f"    {name:<18} {groups}")
    after = load["after"]
    print(f"  after load: VmHWM {mib(after['hwm']):.1f} MiB, {after['threads']} threads")
    print()

    peak = max(after["hwm"], get["peak_rss_kib"], post["peak_rss_kib"])
    non200 = sum(r["status_other"] + r["socket_errors"] for _, r in runs)
    basic_ratio, refresh_ratio = get["rps"] / argon2["per_s"], post["rps"] / rs256["per_s"]
    p99_ms = post["latency_p99_us"] / 1000
    rows = [
        ("GET-Basic req/s / raw argon2 verify/s", f"{basic_ratio:.3f}",
         f">= {TARGETS['basic_ratio']}", basic_ratio >= TARGETS["basic_ratio"]),
        ("POST-refresh req/s / raw RS256 sign/s", f"{refresh_ratio:.3f}",
         f">= {TARGETS['refresh_ratio']}", refresh_ratio >= TARGETS["refresh_ratio"]),
        ("POST-refresh p99", f"{p99_ms:.2f} ms", f"< {TARGETS['refresh_p99_ms']:g} ms",
         p99_ms < TARGETS["refresh_p99_ms"]),
        ("peak RSS under load (VmHWM)", f"{mib(peak):.1f} MiB",
         f"< {TARGETS['peak_rss_mib']:g} MiB", mib(peak) < TARGETS["peak_rss_mib"]),
        ("non-200 answers + socket errors", f"{non200}", "= 0", non200 == 0),
    ]
    print("Targets")
    for name, value, target, ok in rows:
        print(f"  {name:<40} {value:>11}  {target:<11} {verdict(ok)}")
    noise = max([argon2["other_cores"], rs256["other_cores"]]
                + [r["other_cores"] for _, r in runs])
    if noise > NOISE_CORES:
        print(f"  warning: other processes kept up to {noise:.2f} cores busy during the run; "
              f"rates and ratios are unreliable")
    drift = max(abs(argon2["drift"]), abs(rs256["drift"]))
    if drift > DRIFT:
        print(f"  warning: the raw rates moved by up to {100 * drift:.0f} % across a load run "
              f"(host speed drifting); ratios are unreliable")
    if a.keep:
        print()
        print(f"wrk output and server logs kept in {ctx['work']}")
    return non200


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True, help="the release keywarden binary")
    parser.add_argument("--raw-rates", required=True, help="the raw_rates example binary")
    parser.add_argument("--seconds", type=int, default=15, help="wrk duration per endpoint")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--raw-seconds", type=float, default=3.0,
                        help="duration of each raw crypto measurement")
    parser.add_argument("--start-runs", type=int, default=10, help="start-ups per DB kind")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise BenchError("wrk is not installed (apt-get install -y wrk)")

    work = tempfile.mkdtemp(prefix="keywarden-bench-")
    ctx = {"args": args, "work": work, "binary_size": os.path.getsize(args.server)}
    ok = False
    try:
        print(f"start-up, {args.start_runs} runs on fresh and on an existing DB...",
              file=sys.stderr)
        ctx["start"] = measure_start_up(args.server, work, args.start_runs)
        print(f"token endpoint under load (2 x {args.seconds} s, each between two raw rate "
              f"measurements of {args.raw_seconds:g} s)...", file=sys.stderr)
        ctx["load"] = measure_load(args.server, args.raw_rates, work, args)
        non200 = report(ctx)
        ok = non200 == 0
        if not ok:
            print(f"error: {non200} requests did not answer 200; the figures above are not "
                  f"valid", file=sys.stderr)
    finally:
        if ok and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        elif not ok:
            print(f"bench: wrk output and server logs kept in {work}", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (BenchError, subprocess.CalledProcessError, OSError) as err:
        print(f"bench: error: {err}", file=sys.stderr)
        sys.exit(1)
