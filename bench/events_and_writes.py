"""Starts a keywarden binary on a fresh data directory and measures one of:
  writes N        : N sequential admin API user creations (no password) -> writes/s
  scopes N EVENTS : N anonymous docker token POSTs of 255 KB (unknown service), 8 at a time,
                    with login events off or on -> database growth and server RSS
  import N        : a realm with N users with passwords, first abandoned after 2 s (the
                    server's CPU must stop), then imported in full -> time and server RSS
usage: python3 bench/events_and_writes.py target/release/keywarden writes 1000
       python3 bench/events_and_writes.py target/release/keywarden scopes 2000 on|off
       python3 bench/events_and_writes.py target/release/keywarden import 10000"""
import http.client, json, os, socket, subprocess, sys, tempfile, threading, time, urllib.parse

binary, mode = sys.argv[1], sys.argv[2]
n = int(sys.argv[3])
data = tempfile.mkdtemp()
with socket.socket() as s:
    s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]
env = {"PATH": os.environ["PATH"], "KC_HTTP_PORT": str(port), "KEYCLOAK_ADMIN": "admin",
       "KEYCLOAK_ADMIN_PASSWORD": "pw", "KC_FEATURES": "docker", "KC_LOG_LEVEL": "warn"}
server = subprocess.Popen([binary, "start-dev"], cwd=data, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

def conn():
    return http.client.HTTPConnection("127.0.0.1", port, timeout=60)

def call(c, method, path, body=None, token=None, form=None):
    headers = {}
    if token: headers["Authorization"] = "Bearer " + token
    if body is not None:
        body = json.dumps(body); headers["Content-Type"] = "application/json"
    if form is not None:
        body = urllib.parse.urlencode(form); headers["Content-Type"] = "application/x-www-form-urlencoded"
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse(); data_ = r.read()
    return r.status, data_

for _ in range(500):
    try:
        if call(conn(), "GET", "/health/ready")[0] == 200: break
    except OSError: pass
    time.sleep(0.02)
c = conn()
def token():
    st, body = call(c, "POST", "/realms/master/protocol/openid-connect/token",
                    form={"grant_type": "password", "client_id": "admin-cli", "username": "admin", "password": "pw"})
    return json.loads(body)["access_token"]
t = token()
assert call(c, "POST", "/admin/realms", {"realm": "team", "enabled": True}, t)[0] == 201
assert call(c, "PUT", "/admin/realms/master", {"accessTokenLifespan": 3600}, t)[0] == 204
t = token()

def rss(field):
    for line in open(f"/proc/{server.pid}/status"):
        if line.startswith(field): return int(line.split()[1]) // 1024
def db_bytes():
    return sum(os.path.getsize(os.path.join(data, "data", f)) for f in os.listdir(os.path.join(data, "data")))

try:
    if mode == "import":
        users = [{"username": f"user{i}", "enabled": True,
                  "credentials": [{"type": "password", "value": f"password-{i}"}]} for i in range(n)]
        realm = {"realm": "imported", "enabled": True, "users": users}
        def cpu_ticks():
            fields = open(f"/proc/{server.pid}/stat").read().rsplit(")", 1)[1].split()
            return int(fields[11]) + int(fields[12])
        abandoned = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            call(abandoned, "POST", "/admin/realms", realm, t)
        except OSError:
            pass
        abandoned.close()
        time.sleep(1)
        ticks = cpu_ticks(); time.sleep(5)
        print(f"after the client left: {(cpu_ticks() - ticks) / 5:.0f} CPU ticks/s (100 = one core)")
        before = rss("VmRSS")
        start = time.monotonic()
        st, _ = call(http.client.HTTPConnection("127.0.0.1", port, timeout=3600), "POST",
                     "/admin/realms", realm, t)
        took = time.monotonic() - start
        assert st == 201, st
        time.sleep(1)
        print(f"import of {n} users: {st} in {took:.1f} s ({n / took:.0f} users/s); "
              f"RSS {before} -> {rss('VmRSS')} MiB (peak {rss('VmHWM')} MiB)")
    elif mode == "writes":
        start = time.monotonic()
        for i in range(n):
            st, _ = call(c, "POST", "/admin/realms/team/users", {"username": f"u{i}", "enabled": True}, t)
            assert st == 201, st
        took = time.monotonic() - start
        print(f"{n} user creations in {took:.2f} s: {n / took:.0f} writes/s")
    else:
        events = sys.argv[4] == "on"
        assert call(c, "PUT", "/admin/realms/team/events/config", {"eventsEnabled": events}, t)[0] == 204
        call(c, "POST", "/admin/realms/team/clients", {"clientId": "registry", "protocol": "docker-v2"}, t)
        time.sleep(1)
        before_db, before_rss = db_bytes(), rss("VmRSS")
        body = urllib.parse.urlencode({"service": "unknown", "scope": "repository:" + "a" * (255 * 1024 - 40) + ":pull"})
        count = [0]; lock = threading.Lock()
        def worker():
            w = conn()
            while True:
                with lock:
                    if count[0] >= n: return
                    count[0] += 1
                w.request("POST", "/realms/team/protocol/docker-v2/auth", body=body,
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
                w.getresponse().read()
        threads = [threading.Thread(target=worker) for _ in range(8)]
        start = time.monotonic()
        for th in threads: th.start()
        for th in threads: th.join()
        took = time.monotonic() - start
        call(c, "GET", "/admin/realms/team/events?max=1", token=t)  # flushes the queue
        time.sleep(1)
        print(f"{n} requests of {len(body)} bytes in {took:.1f} s, events {'on' if events else 'off'}: "
              f"database {before_db / 1e6:.1f} -> {db_bytes() / 1e6:.1f} MB, "
              f"RSS {before_rss} -> {rss('VmRSS')} MiB (peak {rss('VmHWM')} MiB)")
finally:
    server.terminate(); server.wait()
    if mode == "scopes":
        import sqlite3
        db = sqlite3.connect(os.path.join(data, "data", "keywarden.db"))
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        rows, longest = db.execute("SELECT COUNT(*), MAX(length(details)) FROM login_event").fetchone()
        print(f"login events stored: {rows}, largest details {longest} bytes; database file after "
              f"checkpoint {os.path.getsize(os.path.join(data, 'data', 'keywarden.db')) / 1e6:.1f} MB")
        db.close()
    import shutil
    shutil.rmtree(data)
