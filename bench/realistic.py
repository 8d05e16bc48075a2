"""The realistic-traffic section (issue 12, part 3): many users imported with hashed
credentials, brute-force protection and login events on; identity-token refreshes spread over
thousands of users while new `docker login`s (password grants that each store an identity
token) and admin writes (user creations and updates) go on at steady rates. The figure is the
spread refresh rate against the single-user refresh rate measured on the same server just
before."""

import http.client
import json
import os
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

from common import (PASSWORD, REALM, REFRESH_SCOPE, SERVICE, TOKEN_PATH, BenchError, Server,
                    admin_headers, expect, identity_token, import_realm, keycloak_hash,
                    proc_status_kib, realm_file, refresh_form, request, run_wrk)

EVENT_TYPES = ["LOGIN", "LOGIN_ERROR", "REFRESH_TOKEN", "REFRESH_TOKEN_ERROR"]


def user_name(i):
    return f"user{i:05d}"


class Paced(threading.Thread):
    """Calls `action(n)` for n = 0, 1, ... at `per_second` on a fixed schedule, from enough
    threads that answers taking up to a second do not slow the schedule; counts done and
    failed calls and keeps the first failure."""

    def __init__(self, name, per_second, action):
        super().__init__(daemon=True, name=name)
        self.per_second, self.action = per_second, action
        self.pool = ThreadPoolExecutor(int(per_second) + 4)
        self.halt = threading.Event()
        self.lock = threading.Lock()
        self.done = self.failed = 0
        self.first_error = ""
        self.latencies = []

    def call(self, n):
        started = time.monotonic()
        try:
            self.action(n)
            with self.lock:
                self.done += 1
                self.latencies.append(time.monotonic() - started)
        except Exception as err:  # a failure of any kind is counted and reported
            with self.lock:
                self.failed += 1
                self.first_error = self.first_error or str(err)[:300]

    def run(self):
        self.started = start = time.monotonic()
        n = 0
        while not self.halt.wait(max(start + n / self.per_second - time.monotonic(), 0)):
            self.pool.submit(self.call, n)
            n += 1

    def stop(self):
        self.halt.set()
        self.join()
        self.pool.shutdown(wait=True, cancel_futures=True)
        seconds = time.monotonic() - self.started
        latencies = sorted(self.latencies) or [0.0]
        return {"done": self.done, "failed": self.failed, "first_error": self.first_error,
                "per_s": self.done / seconds,
                "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))]}


class Connection:
    """A keep-alive connection to the server (one per thread). A request on a connection the
    server closed while it was idle (its keep-alive timeout) is sent again on a new one, as
    HTTP clients do."""

    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.used = False

    def call(self, method, path, body, headers):
        try:
            return self.send(method, path, body, headers)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            if not self.used:
                raise
            self.conn.close()
            return self.send(method, path, body, headers)

    def send(self, method, path, body, headers):
        self.conn.request(method, path, body=body, headers=headers)
        answer = self.conn.getresponse()
        self.used = not answer.will_close
        return answer.status, answer.read()


def docker_logins(port, first, count):
    """`docker login` as the docker CLI does it: a password grant asking for an identity
    token, for users first, first+1, ... (cycling through `count`)."""
    local = threading.local()

    def login(n):
        if not hasattr(local, "conn"):
            local.conn = Connection(port)
        form = {"grant_type": "password", "username": user_name(first + n % count),
                "password": PASSWORD, "service": SERVICE, "scope": REFRESH_SCOPE,
                "offline_token": "true"}
        status, body = local.conn.call("POST", TOKEN_PATH, urllib.parse.urlencode(form),
                                       {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 200 or b"refresh_token" not in body:
            raise BenchError(f"docker login: HTTP {status}: {body[:200]!r}")
    return login


def admin_writes(port, admin, first, count):
    """Admin API writes: even calls create a user, odd calls update an existing one."""
    local = threading.local()
    headers = {**admin, "Content-Type": "application/json"}

    def write(n):
        if not hasattr(local, "conn"):
            local.conn = Connection(port)
        if n % 2 == 0:
            path = f"/admin/realms/{REALM}/users"
            status, body = local.conn.call("POST", path, json.dumps(
                {"username": f"created{n:06d}", "enabled": True}), headers)
            wanted = 201
        else:
            status, body = local.conn.call("GET", f"/admin/realms/{REALM}/users?exact=true&"
                                           f"username={user_name(first + n % count)}", None, admin)
            if status == 200 and json.loads(body):
                user = json.loads(body)[0]["id"]
                status, body = local.conn.call(
                    "PUT", f"/admin/realms/{REALM}/users/{user}",
                    json.dumps({"firstName": f"updated {n}"}), headers)
            wanted = 204
        if status != wanted:
            raise BenchError(f"admin write: HTTP {status}: {body[:200]!r}")
    return write


def fetch_identity_tokens(base, count, workers=8):
    """Identity tokens of users 0 .. count-1 (each costs the server one argon2 verify)."""
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda i: identity_token(base, user_name(i), PASSWORD),
                             range(count)))


def measure(binaries, work, args):
    users, with_tokens = args.realistic_users, args.realistic_tokens
    realm_path = os.path.join(work, "realistic-realm.json")
    realm_file(realm_path, [user_name(i) for i in range(users)],
               keycloak_hash(binaries.raw_rates, PASSWORD), bruteForceProtected=True,
               eventsEnabled=True, enabledEventTypes=EVENT_TYPES)
    db, log = os.path.join(work, "realistic", "kw.db"), os.path.join(work, "realistic.log")
    import_seconds = import_realm(binaries.server, realm_path, db, log)
    os.remove(realm_path)
    server = Server(binaries.server, db, log)
    try:
        server.wait_ready()
        admin = admin_headers(server.base)
        expect("master token lifespan", *request(
            "PUT", f"{server.base}/admin/realms/master", headers=admin,
            json_body={"accessTokenLifespan": 3600}), {204})
        admin = admin_headers(server.base)
        realm = expect("realm settings", *request(
            "GET", f"{server.base}/admin/realms/{REALM}", headers=admin), {200})
        if not (realm.get("bruteForceProtected") and realm.get("eventsEnabled")):
            raise BenchError("the imported realm lacks brute-force protection or events")
        started = time.monotonic()
        tokens = fetch_identity_tokens(server.base, with_tokens)
        tokens_seconds = time.monotonic() - started
        forms = os.path.join(work, "identity-tokens.txt")
        with open(forms, "w") as f:
            f.writelines(urllib.parse.urlencode(refresh_form(t)) + "\n" for t in tokens)
        url = f"{server.base}{TOKEN_PATH}"
        single = run_wrk(server.proc.pid, "single-user refresh", url,
                         ["post", urllib.parse.urlencode(refresh_form(tokens[0]))], args, work)
        logins = Paced("docker logins", args.login_rate,
                       docker_logins(server.port, with_tokens, users - with_tokens))
        writes = Paced("admin writes", args.admin_write_rate,
                       admin_writes(server.port, admin, with_tokens, users - with_tokens))
        server.wait_idle()
        logins.start()
        writes.start()
        try:
            spread = run_wrk(server.proc.pid, "spread refresh", url, ["post-any", forms], args,
                             work, settle=False)
        finally:
            background = {"docker logins": logins.stop(), "admin writes": writes.stop()}
        if server.proc.poll() is not None:
            raise BenchError(f"server died under realistic traffic ({server.proc.returncode})")
        hwm = proc_status_kib(server.proc.pid, "VmHWM")
    finally:
        server.stop()
    return {"runs": {"single-user refresh": single, "spread refresh": spread},
            "background": background, "hwm": hwm,
            "facts": {"users": users, "identity_tokens": with_tokens,
                      "import_s": import_seconds, "identity_tokens_s": tokens_seconds}}
