"""What the benchmark's sections share: the keywarden process, HTTP calls, /proc readings,
wrk runs (bench/token.lua) and the raw ceiling rates (raw_rates, argon2_rate)."""

import base64
import http.client
import json
import os
import resource
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
ADMIN, ADMIN_PASSWORD = "admin", "admin"
REALM, SERVICE, USER, PASSWORD = "bench", "registry", "dev", "pw"
TOKEN_PATH = f"/realms/{REALM}/protocol/docker-v2/auth"
REFRESH_SCOPE = f"repository:{USER}/app:pull"


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


def own_cpu_seconds():
    """CPU seconds of this driver and of the children it waited for (wrk, raw_rates)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def mib(kib):
    return kib / 1024


class Server:
    """One keywarden process on a free port, its output appended to log_path."""

    def __init__(self, binary, db_path, log_path, db_url=None):
        os.makedirs(os.path.dirname(db_path), exist_ok=True)
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
        wait_idle(self.proc.pid, timeout)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def wait_idle(pid, timeout=15.0):
    """Waits until a process stops using CPU (work queued by a previous run drains)."""
    deadline = time.monotonic() + timeout
    last = proc_cpu_seconds(pid)
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = proc_cpu_seconds(pid)
        if now - last < 0.01:
            return
        last = now


def request(method, url, *, headers=None, json_body=None, form=None, timeout=30):
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
        with urllib.request.urlopen(req, timeout=timeout) as resp:
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


def admin_headers(base):
    """A master-realm admin token as request headers."""
    token = expect("admin token", *request(
        "POST", f"{base}/realms/master/protocol/openid-connect/token",
        form={"grant_type": "password", "client_id": "admin-cli",
              "username": ADMIN, "password": ADMIN_PASSWORD}), {200})["access_token"]
    return {"Authorization": f"Bearer {token}"}


def basic_header(username, password):
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def set_up_realm(base):
    """Creates the bench realm, its docker-v2 client and user through the admin API; returns
    the Basic header and an identity token (for the benchmarks that need no user list)."""
    admin = admin_headers(base)
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
    identity = identity_token(base, USER, PASSWORD)
    expect("POST refresh_token", *request(
        "POST", f"{base}{TOKEN_PATH}", form=refresh_form(identity)), {200})
    return basic_header(USER, PASSWORD), identity


def refresh_form(identity, service=SERVICE):
    return {"grant_type": "refresh_token", "refresh_token": identity,
            "service": service, "scope": REFRESH_SCOPE}


def jwt_header(token):
    """The decoded JOSE header of a compact JWS."""
    part = token.split(".", 1)[0]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def keycloak_hash(raw_binary, password):
    """One server-made argon2id hash of `password`: {"phc", "secret_data", "credential_data"}."""
    out = subprocess.run([raw_binary, "hash", password], check=True, capture_output=True,
                         text=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def realm_file(path, users, password_hash, **settings):
    """Writes a realm file for `keywarden import`: the bench realm with its docker-v2 client
    and `users` (names), all with the one precomputed hash (same parameters as the server's)."""
    credential = {"type": "password", "secretData": password_hash["secret_data"],
                  "credentialData": password_hash["credential_data"], "temporary": False}
    realm = {"realm": REALM, "enabled": True, **settings,
             "clients": [{"clientId": SERVICE, "protocol": "docker-v2", "enabled": True}],
             "users": [{"username": name, "enabled": True, "credentials": [credential]}
                       for name in users]}
    with open(path, "w") as f:
        json.dump(realm, f)


def import_realm(binary, path, db_path, log_path):
    """`keywarden import` of a realm file into a new SQLite database; returns seconds taken."""
    os.makedirs(os.path.dirname(db_path), exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KC_")}
    started = time.monotonic()
    with open(log_path, "ab") as log:
        done = subprocess.run([binary, "import", f"--file={path}", f"--db-url=sqlite://{db_path}"],
                              env=env, stdout=log, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        raise BenchError(f"keywarden import failed ({done.returncode}; log: {log_path})")
    return time.monotonic() - started


def identity_token(base, username, password, service=SERVICE):
    """A docker identity token, as `docker login` gets one: POST grant_type=password."""
    form = {"grant_type": "password", "username": username, "password": password,
            "service": service, "scope": REFRESH_SCOPE, "offline_token": "true"}
    body = expect(f"identity token of {username}", *request(
        "POST", f"{base}{TOKEN_PATH}", form=form), {200})
    if not body.get("refresh_token"):
        raise BenchError(f"identity token of {username}: no refresh_token in {body}")
    return body["refresh_token"]


def raw_rate(command):
    """One ceiling measurement by a raw_rates-style command: threads, per_s, cpu_ms_per_op,
    and the cores other processes kept busy meanwhile."""
    busy, own = machine_busy_seconds(), own_cpu_seconds()
    started = time.monotonic()
    out = subprocess.run(command, check=True, capture_output=True, text=True)
    wall = time.monotonic() - started
    other = (machine_busy_seconds() - busy - (own_cpu_seconds() - own)) / wall
    values = dict(line.split("=", 1) for line in out.stdout.split() if "=" in line)
    rate = {key: float(value) for key, value in values.items()}
    rate["threads"] = int(rate["threads"])
    rate["other_cores"] = max(other, 0.0)
    return rate


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


def run_wrk(pid, name, url, script_args, args, work, settle=True):
    """One wrk run with bench/token.lua against the process `pid`; returns its KW figures plus
    the process's RSS and CPU use and what other processes used meanwhile (this driver's own
    threads, such as background traffic, are not counted as others). With `settle`, waits
    for the process to go idle first."""
    cmd = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.seconds}s",
           "--latency", "--timeout", "10s", "-s", os.path.join(BENCH_DIR, "token.lua"),
           url, "--", *script_args]
    if settle:
        wait_idle(pid)
    sampler = RssSampler(pid)
    server_before, own_before = proc_cpu_seconds(pid), own_cpu_seconds()
    threads_before = thread_cpu(pid)
    busy_before = machine_busy_seconds()
    sampler.start()
    try:
        out = subprocess.run(cmd, capture_output=True, text=True)
    finally:
        peak = sampler.stop()
    busy = machine_busy_seconds() - busy_before
    server_cpu = proc_cpu_seconds(pid) - server_before
    by_group = cpu_by_group(threads_before, thread_cpu(pid), server_cpu)
    own_cpu = own_cpu_seconds() - own_before
    with open(os.path.join(work, f"wrk-{name.replace(' ', '-')}.txt"), "w") as f:
        f.write(" ".join(cmd[:-1]) + " ...\n" + out.stdout + out.stderr)
    if out.returncode != 0:
        raise BenchError(f"wrk {name} failed ({out.returncode}): {out.stderr.strip()}")
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
    result["own_cores"] = own_cpu / seconds
    result["other_cores"] = max(busy - server_cpu - own_cpu, 0.0) / seconds
    result["rss_end_kib"] = proc_status_kib(pid, "VmRSS")
    return result


def bracketed(pid, raws, run):
    """Runs `run()` between two rounds of raw measurements (`raws`: {name: command}): the
    host's speed drifts, so the ceiling a load run is compared with is the mean of one taken
    just before and one just after it, each with the server idle."""
    wait_idle(pid)
    before = {name: raw_rate(command) for name, command in raws.items()}
    result = run()
    wait_idle(pid)
    after = {name: raw_rate(command) for name, command in raws.items()}
    ceilings = {}
    for name in raws:
        b, a = before[name], after[name]
        raw = {key: (b[key] + a[key]) / 2 for key in ("per_s", "cpu_ms_per_op")}
        raw["threads"] = b["threads"]
        raw["drift"] = a["per_s"] / b["per_s"] - 1
        raw["other_cores"] = max(b["other_cores"], a["other_cores"])
        ceilings[name] = raw
    return ceilings, result
