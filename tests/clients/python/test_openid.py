"""python-keycloak's KeycloakOpenID (plus authlib for RFC 7009 revocation, which python-keycloak
lacks) against keywarden's OIDC endpoints, in both URL layouts.

Each layout gets a realm with a user `alice` (a realm role `reader`) and a confidential client
`backend` (secret read through the admin API).
"""

from __future__ import annotations

import base64
import json
import os

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from conftest import LAYOUTS, master_admin, unique
from keycloak import (
    KeycloakAuthenticationError,
    KeycloakGetError,
    KeycloakOpenID,
    KeycloakPostError,
)

os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")  # plain HTTP on loopback

incompat = pytest.mark.server_incompat
PASSWORD = "Alice-pass-1"


@pytest.fixture(scope="module", params=LAYOUTS)
def layout(request):
    return request.param


@pytest.fixture(scope="module")
def env(server, layout):
    """{realm, user_id, username, client_id, secret, base}"""
    realm = unique(f"oidc-{layout}")
    admin = master_admin(server, layout)
    admin.create_realm({"realm": realm, "enabled": True})
    admin.change_current_realm(realm)
    user_id = admin.create_user(
        {
            "username": "alice",
            "email": "alice@example.test",
            "firstName": "Alice",
            "lastName": "Liddell",
            "enabled": True,
            "emailVerified": True,
        }
    )
    admin.set_user_password(user_id, PASSWORD, temporary=False)
    admin.create_realm_role({"name": "reader"})
    admin.assign_realm_roles(user_id, [admin.get_realm_role("reader")])
    internal = admin.create_client(
        {
            "clientId": "backend",
            "publicClient": False,
            "directAccessGrantsEnabled": True,
            "serviceAccountsEnabled": True,
            "redirectUris": ["http://127.0.0.1:9/callback"],
        }
    )
    secret = admin.get_client_secrets(internal)["value"]
    # A resource server: alice holds its role, so it is in the audience of her access tokens
    # and may introspect them (Keycloak 26.7 shows an access token to no other client).
    resource = admin.create_client({"clientId": "resource", "publicClient": False})
    admin.create_client_role(resource, {"name": "reader"})
    admin.assign_client_role(user_id, resource, [admin.get_client_role(resource, "reader")])
    return {
        "realm": realm,
        "user_id": user_id,
        "username": "alice",
        "client_id": "backend",
        "secret": secret,
        "resource_secret": admin.get_client_secrets(resource)["value"],
        "base": server.base(layout),
    }


def kc(env, confidential=True) -> KeycloakOpenID:
    return KeycloakOpenID(
        server_url=env["base"] + "/",
        realm_name=env["realm"],
        client_id=env["client_id"] if confidential else "admin-cli",
        client_secret_key=env["secret"] if confidential else None,
    )


def login(env, confidential=True) -> dict:
    return kc(env, confidential).token(env["username"], PASSWORD)


def jwt_payload(token: str) -> dict:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def endpoint(env, path: str) -> str:
    return f"{env['base']}/realms/{env['realm']}/protocol/openid-connect/{path}"


# ---- discovery, realm info, keys ----


def test_well_known(env):
    wk = kc(env).well_known()
    issuer = f"{env['base']}/realms/{env['realm']}"
    assert wk["issuer"] == issuer
    assert wk["authorization_endpoint"] == issuer + "/protocol/openid-connect/auth"
    assert wk["token_endpoint"] == issuer + "/protocol/openid-connect/token"
    assert wk["userinfo_endpoint"] == issuer + "/protocol/openid-connect/userinfo"
    assert wk["jwks_uri"] == issuer + "/protocol/openid-connect/certs"
    assert wk["end_session_endpoint"] == issuer + "/protocol/openid-connect/logout"
    assert wk["introspection_endpoint"] == issuer + "/protocol/openid-connect/token/introspect"
    assert wk["revocation_endpoint"] == issuer + "/protocol/openid-connect/revoke"
    assert "S256" in wk["code_challenge_methods_supported"]
    assert {"authorization_code", "password", "refresh_token", "client_credentials"} <= set(
        wk["grant_types_supported"]
    )
    assert "RS256" in wk["id_token_signing_alg_values_supported"]


def test_certs_and_public_key(env):
    certs = kc(env).certs()
    rsa = [k for k in certs["keys"] if k["kty"] == "RSA" and k.get("use") == "sig"]
    assert rsa, certs
    key = rsa[0]
    assert key["alg"] == "RS256"
    assert key["kid"] and key["n"] and key["e"]
    assert key.get("x5c"), "Keycloak publishes the certificate chain in x5c"
    public_key = kc(env).public_key()
    assert "BEGIN" not in public_key  # base64 DER, no PEM armour
    base64.b64decode(public_key)


# ---- token endpoint ----


def test_password_grant_token_response(env):
    token = login(env)
    for key in ("access_token", "expires_in", "refresh_expires_in", "refresh_token",
                "token_type", "not-before-policy", "session_state", "scope", "id_token"):
        assert key in token, key
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 300
    assert token["refresh_expires_in"] == 1800
    assert token["not-before-policy"] == 0
    assert "openid" in token["scope"].split()


def test_access_token_claims_validate_against_certs(env):
    token = login(env)
    claims = kc(env).decode_token(token["access_token"])  # signature checked against /certs
    assert claims["iss"] == f"{env['base']}/realms/{env['realm']}"
    assert claims["sub"] == env["user_id"]
    assert claims["typ"] == "Bearer"
    assert claims["azp"] == "backend"
    assert claims["preferred_username"] == "alice"
    assert claims["email"] == "alice@example.test"
    assert claims["email_verified"] is True
    assert claims["given_name"] == "Alice"
    assert claims["family_name"] == "Liddell"
    assert claims["name"] == "Alice Liddell"
    assert "reader" in claims["realm_access"]["roles"]
    assert claims["sid"] == token["session_state"]
    assert claims["exp"] - claims["iat"] == 300
    assert claims["jti"]


def test_id_token_claims(env):
    token = login(env)
    claims = kc(env).decode_token(token["id_token"])
    assert claims["typ"] == "ID"
    assert claims["aud"] == "backend" or claims["aud"] == ["backend"]
    assert claims["azp"] == "backend"
    assert claims["sub"] == env["user_id"]
    assert claims["at_hash"]


def test_decode_token_rejects_a_tampered_token(env):
    token = login(env)["access_token"]
    header, payload, sig = token.split(".")
    body = jwt_payload(token)
    body["preferred_username"] = "mallory"
    forged = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
    with pytest.raises(Exception):  # jwcrypto refuses the signature
        kc(env).decode_token(f"{header}.{forged}.{sig}")


def test_wrong_password_is_400_invalid_grant(env):
    # Keycloak 26.7 answers 400, which python-keycloak raises as KeycloakPostError
    with pytest.raises(KeycloakPostError) as err:
        kc(env).token(env["username"], "wrong")
    assert err.value.response_code == 400
    body = json.loads(err.value.response_body)
    assert body == {"error": "invalid_grant", "error_description": "Invalid user credentials"}


def test_wrong_client_secret_is_401_unauthorized_client(env):
    bad = KeycloakOpenID(
        server_url=env["base"] + "/", realm_name=env["realm"], client_id="backend",
        client_secret_key="not-the-secret",
    )
    with pytest.raises(KeycloakAuthenticationError) as err:
        bad.token(env["username"], PASSWORD)
    assert err.value.response_code == 401
    assert json.loads(err.value.response_body) == {
        "error": "unauthorized_client",
        "error_description": "Invalid client or Invalid client credentials",
    }


def test_public_admin_cli_password_grant(env):
    token = login(env, confidential=False)
    claims = kc(env, confidential=False).decode_token(token["access_token"])
    assert claims["azp"] == "admin-cli"


def test_client_credentials_grant(env):
    token = kc(env).token(grant_type="client_credentials")
    claims = kc(env).decode_token(token["access_token"])
    assert claims["azp"] == "backend"
    assert claims["preferred_username"] == "service-account-backend"
    # Keycloak 26: no refresh token and no session for a service account by default
    assert "refresh_token" not in token and token["refresh_expires_in"] == 0
    assert "sid" not in claims and claims["client_id"] == "backend"


def test_client_secret_by_http_basic(env):
    r = requests.post(
        endpoint(env, "token"),
        data={"grant_type": "password", "username": "alice", "password": PASSWORD},
        auth=("backend", env["secret"]),
        timeout=10,
    )
    assert r.status_code == 200, r.text
    assert r.json()["access_token"]


def test_refresh_token(env):
    first = login(env)
    refreshed = kc(env).refresh_token(first["refresh_token"])
    assert refreshed["access_token"] and refreshed["access_token"] != first["access_token"]
    assert refreshed["refresh_token"] and refreshed["refresh_token"] != first["refresh_token"]
    assert refreshed["session_state"] == first["session_state"]
    claims = kc(env).decode_token(refreshed["access_token"])
    assert claims["sub"] == env["user_id"]


@incompat(
    "POST /protocol/openid-connect/token returns an opaque refresh_token (43 random "
    "characters); Keycloak's refresh token is a JWT (HS512, typ 'Refresh', with exp, sid, "
    "azp) that clients decode without validation to read its expiry and session"
)
def test_refresh_token_is_a_keycloak_jwt(env):
    token = login(env)
    claims = kc(env).decode_token(token["refresh_token"], validate=False)
    assert claims["typ"] == "Refresh"
    assert claims["azp"] == "backend"
    assert claims["sid"] == token["session_state"]
    assert claims["exp"] - claims["iat"] == token["refresh_expires_in"]


def test_bad_refresh_token_is_400_invalid_grant(env):
    with pytest.raises(KeycloakPostError) as err:
        kc(env).refresh_token("not-a-token")
    assert err.value.response_code == 400
    assert json.loads(err.value.response_body)["error"] == "invalid_grant"


# ---- introspection ----


def resource_server(env) -> KeycloakOpenID:
    return KeycloakOpenID(
        server_url=env["base"] + "/",
        realm_name=env["realm"],
        client_id="resource",
        client_secret_key=env["resource_secret"],
    )


def test_introspect_with_a_confidential_client(env):
    token = login(env)
    info = resource_server(env).introspect(token["access_token"])
    assert info["active"] is True
    assert info["username"] == "alice"
    assert info["sub"] == env["user_id"]
    assert info["client_id"] == "backend"
    assert info["token_type"] == "Bearer"
    assert info["exp"] > info["iat"]
    assert "reader" in info["realm_access"]["roles"]
    assert info["typ"] == "Bearer"
    assert "resource" in info["aud"]


def test_an_access_token_is_inactive_to_a_client_outside_its_audience(env):
    token = login(env)
    assert kc(env).introspect(token["access_token"]) == {"active": False}


def test_introspect_refresh_token_says_refresh(env):
    # python-keycloak sends no token_type_hint but for RPTs; Keycloak shows a refresh token
    # only to its client, with the hint, so this goes through authlib.
    token = login(env)
    r = authlib_session(env).introspect_token(
        endpoint(env, "token/introspect"),
        token=token["refresh_token"],
        token_type_hint="refresh_token",
    )
    assert r.status_code == 200, r.text
    info = r.json()
    assert info["active"] is True
    assert info["typ"] == "Refresh"
    assert info["token_type"] == "Refresh"
    assert info["sub"] == env["user_id"]
    assert info["username"] == "alice"


def test_introspect_garbage_is_inactive(env):
    assert kc(env).introspect("garbage") == {"active": False}


@incompat(
    "POST /protocol/openid-connect/token/introspect with a PUBLIC client (client_id=admin-cli, "
    "no secret) answers 200 with the token's claims; Keycloak refuses introspection by "
    "public clients (403 invalid_request 'Client not allowed.'): any public client can read "
    "anyone's token here"
)
def test_introspect_needs_client_authentication(env):
    token = login(env)
    with pytest.raises((KeycloakAuthenticationError, KeycloakPostError)) as err:
        kc(env, confidential=False).introspect(token["access_token"])
    assert err.value.response_code in (400, 401, 403)


# ---- userinfo ----


def test_userinfo(env):
    token = login(env)
    info = kc(env).userinfo(token["access_token"])
    assert info["sub"] == env["user_id"]
    assert info["preferred_username"] == "alice"
    assert info["email"] == "alice@example.test"
    assert info["email_verified"] is True
    assert info["name"] == "Alice Liddell"
    assert info["given_name"] == "Alice"
    assert info["family_name"] == "Liddell"


def test_userinfo_with_a_bad_token_is_401_with_bearer_challenge(env):
    with pytest.raises(KeycloakAuthenticationError) as err:
        kc(env).userinfo("garbage")
    assert err.value.response_code == 401
    r = requests.get(endpoint(env, "userinfo"), headers={"Authorization": "Bearer garbage"},
                     timeout=10)
    assert r.status_code == 401
    challenge = r.headers.get("WWW-Authenticate", "")
    assert challenge.startswith(f'Bearer realm="{env["realm"]}"')
    assert 'error="invalid_token"' in challenge
    assert r.text == ""


def test_userinfo_without_openid_scope_is_403(env):
    token = kc(env).token(env["username"], PASSWORD, scope="profile")
    r = requests.get(endpoint(env, "userinfo"),
                     headers={"Authorization": f"Bearer {token['access_token']}"}, timeout=10)
    assert r.status_code == 403
    assert 'error="insufficient_scope"' in r.headers.get("WWW-Authenticate", "")


# ---- logout ----


def test_logout_then_userinfo_is_401(env):
    token = login(env)
    assert kc(env).userinfo(token["access_token"])["sub"] == env["user_id"]
    assert kc(env).logout(token["refresh_token"]) == {}  # 204
    with pytest.raises(KeycloakAuthenticationError) as err:
        kc(env).userinfo(token["access_token"])
    assert err.value.response_code == 401
    with pytest.raises(KeycloakPostError) as err:
        kc(env).refresh_token(token["refresh_token"])
    assert err.value.response_code == 400
    assert kc(env).introspect(token["access_token"])["active"] is False


def test_logout_of_one_session_leaves_another(env):
    one, two = login(env), login(env)
    kc(env).logout(one["refresh_token"])
    assert kc(env).userinfo(two["access_token"])["sub"] == env["user_id"]


def test_public_client_logout(env):
    token = login(env, confidential=False)
    assert kc(env, confidential=False).logout(token["refresh_token"]) == {}
    with pytest.raises(KeycloakAuthenticationError):
        kc(env, confidential=False).userinfo(token["access_token"])


# ---- revocation (RFC 7009) through authlib; python-keycloak has no revoke call ----


def authlib_session(env) -> OAuth2Session:
    return OAuth2Session(env["client_id"], env["secret"])  # client_secret_basic


def test_revoke_refresh_token(env):
    token = login(env)
    r = authlib_session(env).revoke_token(
        endpoint(env, "revoke"), token=token["refresh_token"], token_type_hint="refresh_token"
    )
    assert r.status_code == 200, r.text
    with pytest.raises(KeycloakPostError) as err:
        kc(env).refresh_token(token["refresh_token"])
    assert err.value.response_code == 400


def test_revoke_access_token(env):
    token = login(env)
    r = authlib_session(env).revoke_token(
        endpoint(env, "revoke"), token=token["access_token"], token_type_hint="access_token"
    )
    assert r.status_code == 200, r.text
    assert resource_server(env).introspect(token["access_token"]) == {"active": False}
    # revoked alone: the session and its refresh token live on, as in Keycloak
    assert "access_token" in kc(env).refresh_token(token["refresh_token"])
    with pytest.raises(KeycloakAuthenticationError):
        kc(env).userinfo(token["access_token"])


def test_revoke_with_client_secret_post(env):
    token = login(env)
    session = OAuth2Session(
        env["client_id"], env["secret"], revocation_endpoint_auth_method="client_secret_post"
    )
    r = session.revoke_token(endpoint(env, "revoke"), token=token["refresh_token"])
    assert r.status_code == 200, r.text
    with pytest.raises(KeycloakPostError):
        kc(env).refresh_token(token["refresh_token"])


def test_revoke_unknown_token_is_200(env):
    r = authlib_session(env).revoke_token(endpoint(env, "revoke"), token="garbage")
    assert r.status_code == 200, r.text


def test_authlib_introspect_with_basic_auth(env):
    token = login(env)
    r = OAuth2Session("resource", env["resource_secret"]).introspect_token(
        endpoint(env, "token/introspect"), token=token["access_token"]
    )
    assert r.status_code == 200, r.text
    assert r.json()["active"] is True


# ---- realm info ----


def test_realm_info(env):
    r = requests.get(f"{env['base']}/realms/{env['realm']}", timeout=10)
    assert r.status_code == 200
    info = r.json()
    assert info["realm"] == env["realm"]
    assert info["token-service"] == f"{env['base']}/realms/{env['realm']}/protocol/openid-connect"
    assert info["account-service"] == f"{env['base']}/realms/{env['realm']}/account"


def test_unknown_realm_is_404(env):
    bad = KeycloakOpenID(server_url=env["base"] + "/", realm_name="no-such-realm",
                         client_id="admin-cli")
    with pytest.raises(KeycloakGetError) as err:
        bad.well_known()
    assert err.value.response_code == 404
