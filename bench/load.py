"""The single-user section: the token endpoint under wrk load with one user's credentials or
identity token, each run beside the ceiling it is measured against (raw argon2 verify by
keywarden's code and by libargon2, RS256 and ES256 signing, a minimal actix-web endpoint).

Runs: first-time Basic (a different user on every request, each once: the argon2 limit),
repeated Basic (the same user every time: what a verified-credential cache can save), the
refresh path with an RS256 identity token, the same with ES256 (a second client whose tokens
the realm's `ecdsa-generated` key signs), and the HTTP ceiling with the same wrk command."""

import http.client
import os
import subprocess
import time
import urllib.parse

from common import (PASSWORD, REALM, SERVICE, TOKEN_PATH, USER, BenchError, Server, admin_headers,
                    basic_header, bracketed, expect, free_port, identity_token, import_realm,
                    jwt_header, keycloak_hash, proc_status_kib, realm_file, refresh_form,
                    request, run_wrk)

ES256_SERVICE = "registry-es256"
GET_QUERY = f"service={SERVICE}&scope=repository:{USER}/app:pull,push"
FIRST_TIME_PREFIX = "first"


def first_time_users(args):
    """Enough users for one first-time Basic run: keywarden's argon2id verifies about 60
    passwords per second per core here; a run that needs more says so (`reused`)."""
    return [f"{FIRST_TIME_PREFIX}{i:05d}" for i in range(120 * args.seconds * os.cpu_count())]


def enable_es256(base, admin):
    """The realm's P-256 key and the client whose tokens it signs; an identity token of that
    client whose tokens are ES256, or raises BenchError saying what the server lacks."""
    status, body = request("POST", f"{base}/admin/realms/{REALM}/components", headers=admin,
                           json_body={"name": "bench-ec", "providerId": "ecdsa-generated",
                                      "providerType": "org.keycloak.keys.KeyProvider",
                                      "config": {"priority": ["200"],
                                                 "ecdsaEllipticCurveKey": ["P-256"]}})
    if status != 201:
        raise BenchError(f"POST components (ecdsa-generated): HTTP {status}: {str(body)[:200]}")
    expect("create ES256 client", *request(
        "POST", f"{base}/admin/realms/{REALM}/clients", headers=admin,
        json_body={"clientId": ES256_SERVICE, "protocol": "docker-v2",
                   "attributes": {"access.token.signed.response.alg": "ES256"}}), {201})
    identity = identity_token(base, USER, PASSWORD, service=ES256_SERVICE)
    body = expect("ES256 refresh", *request(
        "POST", f"{base}{TOKEN_PATH}", form=refresh_form(identity, ES256_SERVICE)), {200})
    alg = jwt_header(body.get("token", "e30.")).get("alg")
    if alg != "ES256":
        raise BenchError(f"the {ES256_SERVICE} client's tokens are {alg}, not ES256")
    return identity


def set_up(binary, raw_binary, work, args):
    """Imports the realm (the user and the first-time users, one precomputed hash), starts the
    server; returns it with the identity tokens and the size of a refresh answer."""
    password_hash = keycloak_hash(raw_binary, PASSWORD)
    users = first_time_users(args)
    with open(os.path.join(work, "first-time.txt"), "w") as f:
        f.writelines(basic_header(name, PASSWORD) + "\n" for name in users)
    realm_path = os.path.join(work, "load-realm.json")
    realm_file(realm_path, [USER, *users], password_hash)
    db = os.path.join(work, "load", "kw.db")
    log = os.path.join(work, "load.log")
    import_seconds = import_realm(binary, realm_path, db, log)
    server = Server(binary, db, log)
    try:
        server.wait_ready()
        admin = admin_headers(server.base)
        body = expect("GET token with Basic", *request(
            "GET", f"{server.base}{TOKEN_PATH}?{GET_QUERY}",
            headers={"Authorization": basic_header(USER, PASSWORD)}), {200})
        if not body.get("token"):
            raise BenchError(f"GET token with Basic: no token in {body}")
        identity = identity_token(server.base, USER, PASSWORD)
        body_bytes = answer_size(server.port, identity)
        try:
            es256, es256_error = enable_es256(server.base, admin), None
        except BenchError as err:
            es256, es256_error = None, str(err)
    except BaseException:
        server.stop()
        raise
    return server, {"phc": password_hash["phc"], "identity": identity, "es256": es256,
                    "es256_error": es256_error, "body_bytes": body_bytes, "users": len(users),
                    "import_s": import_seconds}


def answer_size(port, identity):
    """Bytes of a refresh answer's body, as the server sends it to wrk."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", TOKEN_PATH, body=urllib.parse.urlencode(refresh_form(identity)),
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    answer = conn.getresponse()
    raw = answer.read()
    conn.close()
    if answer.status != 200:
        raise BenchError(f"POST refresh_token: HTTP {answer.status}")
    return len(raw)


def http_ceiling(ceiling_binary, body_bytes, form, args, work):
    """The minimal actix-web endpoint answering `body_bytes`, under the refresh run's wrk."""
    port = free_port()
    with open(os.path.join(work, "http-ceiling.log"), "ab") as log:
        proc = subprocess.Popen([ceiling_binary, str(port), str(body_bytes)], stdout=log,
                                stderr=subprocess.STDOUT)
    try:
        for _ in range(500):
            try:
                status, _ = request("GET", f"http://127.0.0.1:{port}/", timeout=1)
                if status == 200:
                    break
            except OSError:
                time.sleep(0.01)
        else:
            raise BenchError("http_ceiling did not answer")
        return run_wrk(proc.pid, "http-ceiling", f"http://127.0.0.1:{port}{TOKEN_PATH}",
                       ["post", form], args, work)
    finally:
        proc.terminate()
        proc.wait()


def measure(binaries, work, args):
    """The section's runs on one server; returns the figures, ceilings and set-up facts."""
    server, facts = set_up(binaries.server, binaries.raw_rates, work, args)
    pid, url = server.proc.pid, f"{server.base}{TOKEN_PATH}"
    phc = facts.pop("phc")
    raw_seconds = str(args.raw_seconds)
    argon2 = {"argon2 (keywarden)": [binaries.raw_rates, "argon2", raw_seconds],
              "argon2 (libargon2)": [binaries.argon2_rate, phc, PASSWORD, raw_seconds]}
    runs, ceilings, errors = {}, {}, {}

    def run(name, script_args, path=url):
        runs[name] = run_wrk(pid, name, path, script_args, args, work)
        if server.proc.poll() is not None:
            raise BenchError(f"server died during {name} (exit {server.proc.returncode})")
        return runs[name]

    try:
        idle = {"rss": proc_status_kib(pid, "VmRSS"), "hwm": proc_status_kib(pid, "VmHWM"),
                "threads": proc_status_kib(pid, "Threads")}
        found, _ = bracketed(pid, argon2, lambda: (
            run("first-time Basic", ["get-once", os.path.join(work, "first-time.txt"),
                                     str(args.threads)], f"{url}?{GET_QUERY}"),
            run("repeated Basic", ["get", basic_header(USER, PASSWORD)], f"{url}?{GET_QUERY}")))
        ceilings.update(found)
        form = urllib.parse.urlencode(refresh_form(facts["identity"]))
        found, _ = bracketed(pid, {"RS256 sign": [binaries.raw_rates, "rs256", raw_seconds]},
                             lambda: run("RS256 refresh", ["post", form]))
        ceilings.update(found)
        if facts["es256"]:
            es_form = urllib.parse.urlencode(refresh_form(facts["es256"], ES256_SERVICE))
            found, _ = bracketed(
                pid, {"ES256 sign": [binaries.raw_rates, "es256", raw_seconds]},
                lambda: run("ES256 refresh", ["post", es_form]))
            ceilings.update(found)
        else:
            errors["ES256 refresh"] = facts["es256_error"]
            ceilings["ES256 sign"] = bracketed(
                pid, {"ES256 sign": [binaries.raw_rates, "es256", raw_seconds]},
                lambda: None)[0]["ES256 sign"]
        after = {"hwm": proc_status_kib(pid, "VmHWM"),
                 "threads": proc_status_kib(pid, "Threads")}
    finally:
        server.stop()
    runs["HTTP ceiling"] = http_ceiling(binaries.http_ceiling, facts["body_bytes"], form,
                                        args, work)
    return {"runs": runs, "ceilings": ceilings, "errors": errors, "idle": idle,
            "after": after, "facts": {k: v for k, v in facts.items()
                                      if k in ("body_bytes", "users", "import_s")}}
