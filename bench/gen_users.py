#!/usr/bin/env python3
"""Writes a Keycloak realm export with N users holding hashed passwords, as `kc.sh export`
writes it: one realm file with `users` inside (--file), or a directory of
`{realm}-realm.json` and `{realm}-users-K.json` files (--dir, as `--users different_files`).

Every user has a password credential in Keycloak's stored form (`secretData` and
`credentialData`): even-numbered users a pbkdf2-sha512 hash (Keycloak 24's default, 210,000
iterations), odd-numbered users an argon2id hash (Keycloak 25+'s default). One hash of each
kind is computed (or taken from a real Keycloak 26 export) and reused; the password of every
user is PASSWORD below. The realm also holds a docker-v2 client named `registry`.

    bench/gen_users.py --users 100000 --file /tmp/bench-realm.json
    bench/gen_users.py --users 100000 --dir /tmp/bench-dir --users-per-file 5000
"""

import argparse
import base64
import hashlib
import json
import os
import sys
import uuid

REALM = "bench"
CLIENT = "registry"
PASSWORD = "aNic3Passw0rd"
# A real Keycloak 26 export's argon2id hash of PASSWORD (tests/fixtures/keycloak-exports/
# kc26-openbeheer-realm-export.json): 7 MiB, 5 passes.
ARGON2_SECRET = {"value": "opK2JwNdEiwrKJgKzYdalxOTSxuX0Kh+0nsLMCZNDTQ=",
                 "salt": "cFXf3ITG9X9kJDuOlYw2Xw==", "additionalParameters": {}}
ARGON2_DATA = {"hashIterations": 5, "algorithm": "argon2",
               "additionalParameters": {"hashLength": ["32"], "memory": ["7168"],
                                        "type": ["id"], "version": ["1.3"],
                                        "parallelism": ["1"]}}
PBKDF2_ITERATIONS = 210000


def pbkdf2_credential():
    salt = os.urandom(16)
    key = hashlib.pbkdf2_hmac("sha512", PASSWORD.encode(), salt, PBKDF2_ITERATIONS, 64)
    secret = {"value": base64.b64encode(key).decode(), "salt": base64.b64encode(salt).decode(),
              "additionalParameters": {}}
    data = {"hashIterations": PBKDF2_ITERATIONS, "algorithm": "pbkdf2-sha512",
            "additionalParameters": {}}
    return json.dumps(secret, separators=(",", ":")), json.dumps(data, separators=(",", ":"))


def user(index, hashes):
    secret, data = hashes[index % 2]
    created = 1728047925356 + index
    return {
        "id": str(uuid.UUID(int=index + 1, version=4)),
        "username": f"user{index:06d}",
        "firstName": "User",
        "lastName": f"Number {index}",
        "email": f"user{index:06d}@bench.test",
        "emailVerified": True,
        "createdTimestamp": created,
        "enabled": True,
        "totp": False,
        "credentials": [{
            "id": str(uuid.UUID(int=(1 << 64) + index, version=4)),
            "type": "password",
            "createdDate": created,
            "secretData": secret,
            "credentialData": data,
        }],
        "disableableCredentialTypes": [],
        "requiredActions": [],
        "realmRoles": [f"default-roles-{REALM}"],
        "notBefore": 0,
        "groups": [],
    }


def realm(with_users):
    document = {
        "realm": REALM,
        "enabled": True,
        "clients": [{"clientId": CLIENT, "protocol": "docker-v2", "enabled": True,
                     "publicClient": True}],
    }
    if with_users is not None:
        document["users"] = with_users
    return document


def write_json(path, document):
    with open(path, "w") as f:
        json.dump(document, f, separators=(",", ":"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, required=True, help="how many users")
    out = parser.add_mutually_exclusive_group(required=True)
    out.add_argument("--file", help="one realm file with the users inside")
    out.add_argument("--dir", help="a directory of realm and users files")
    parser.add_argument("--users-per-file", type=int, default=50,
                        help="users per {realm}-users-K.json file with --dir (Keycloak: 50)")
    args = parser.parse_args()
    hashes = [pbkdf2_credential(), (json.dumps(ARGON2_SECRET, separators=(",", ":")),
                                    json.dumps(ARGON2_DATA, separators=(",", ":")))]
    users = [user(i, hashes) for i in range(args.users)]
    if args.file:
        write_json(args.file, realm(users))
        return
    os.makedirs(args.dir, exist_ok=True)
    write_json(os.path.join(args.dir, f"{REALM}-realm.json"), realm(None))
    per_file = max(args.users_per_file, 1)
    for k, start in enumerate(range(0, len(users), per_file)):
        write_json(os.path.join(args.dir, f"{REALM}-users-{k}.json"),
                   {"realm": REALM, "users": users[start:start + per_file]})


if __name__ == "__main__":
    sys.exit(main())
