"""python-keycloak's KeycloakAdmin against keywarden's admin REST API, in both URL layouts.

Every test runs twice: with server_url `http://127.0.0.1:PORT/` (Keycloak 17+) and
`http://127.0.0.1:PORT/auth/` (Keycloak <= 16). Each layout works in a realm of its own, created
by the master admin (admin/admin through admin-cli).
"""

from __future__ import annotations

import pytest
import requests
from conftest import LAYOUTS, master_admin, unique
from keycloak import (
    KeycloakAdmin,
    KeycloakAuthenticationError,
    KeycloakDeleteError,
    KeycloakGetError,
    KeycloakOpenID,
    KeycloakPostError,
)

incompat = pytest.mark.server_incompat


@pytest.fixture(scope="module", params=LAYOUTS)
def layout(request):
    return request.param


@pytest.fixture(scope="module")
def realm(server, layout):
    """A fresh realm for this layout's tests; its name."""
    name = unique(f"py-{layout}")
    admin = master_admin(server, layout)
    assert admin.create_realm({"realm": name, "enabled": True}) == b""
    return name


@pytest.fixture
def admin(server, layout, realm) -> KeycloakAdmin:
    """The master admin, acting on the test realm."""
    return master_admin(server, layout, realm)


def openid(server, layout, realm, client_id="admin-cli", secret=None) -> KeycloakOpenID:
    return KeycloakOpenID(
        server_url=server.base(layout) + "/",
        realm_name=realm,
        client_id=client_id,
        client_secret_key=secret,
    )


def new_user(admin: KeycloakAdmin, password: str | None = "Secret-pass-1", **extra) -> tuple[str, str]:
    """Creates an enabled user (with a permanent password when given); (id, username)."""
    username = unique("user")
    payload = {
        "username": username,
        "email": f"{username}@example.test",
        "firstName": "Ada",
        "lastName": "Lovelace",
        "enabled": True,
        "emailVerified": True,
    }
    payload.update(extra)
    user_id = admin.create_user(payload)
    if password is not None:
        admin.set_user_password(user_id, password, temporary=False)
    return user_id, username


# ---- signing in, layouts ----


def test_admin_signs_in_to_master_and_token_issuer_carries_the_layout(server, layout):
    admin = master_admin(server, layout)
    realms = [r["realm"] for r in admin.get_realms()]
    assert "master" in realms
    token = admin.connection.token
    assert token["token_type"].lower() == "bearer"
    assert token["refresh_token"]
    claims = KeycloakOpenID(
        server_url=server.base(layout) + "/", realm_name="master", client_id="admin-cli"
    ).decode_token(token["access_token"])
    assert claims["iss"] == f"{server.base(layout)}/realms/master"
    assert claims["preferred_username"] == "admin"
    assert claims["azp"] == "admin-cli"


def test_admin_with_a_wrong_password_is_refused(server, layout):
    # Keycloak 26.7 answers 400 invalid_grant, which python-keycloak raises as KeycloakPostError
    with pytest.raises((KeycloakPostError, KeycloakAuthenticationError)) as err:
        KeycloakAdmin(
            server_url=server.base(layout) + "/",
            username="admin",
            password="wrong",
            realm_name="master",
        ).get_realms()
    assert err.value.response_code == 400
    assert b"invalid_grant" in err.value.response_body


def test_admin_api_without_a_token_is_401(server, layout, realm):
    r = requests.get(f"{server.base(layout)}/admin/realms/{realm}/users", timeout=10)
    assert r.status_code == 401


# ---- realms ----


def test_realm_created_and_read_back(server, layout, realm):
    admin = master_admin(server, layout)
    assert realm in [r["realm"] for r in admin.get_realms()]
    rep = admin.get_realm(realm)
    assert rep["realm"] == realm
    assert rep["enabled"] is True
    assert rep["id"]
    assert rep["accessTokenLifespan"] == 300
    assert rep["ssoSessionIdleTimeout"] == 1800
    assert rep["ssoSessionMaxLifespan"] == 36000


def test_duplicate_realm_is_409(server, layout, realm):
    admin = master_admin(server, layout)
    with pytest.raises(KeycloakPostError) as err:
        admin.create_realm({"realm": realm, "enabled": True})
    assert err.value.response_code == 409


def test_update_and_delete_realm(server, layout):
    admin = master_admin(server, layout)
    name = unique("gone")
    admin.create_realm({"realm": name, "enabled": True})
    admin.update_realm(name, {"displayName": "Short lived", "accessTokenLifespan": 120})
    rep = admin.get_realm(name)
    assert rep["displayName"] == "Short lived"
    assert rep["accessTokenLifespan"] == 120
    assert rep["enabled"] is True  # PUT merges
    admin.delete_realm(name)
    with pytest.raises(KeycloakGetError) as err:
        admin.get_realm(name)
    assert err.value.response_code == 404


def test_every_realm_has_a_public_admin_cli_client(admin):
    client_id = admin.get_client_id("admin-cli")
    assert client_id
    assert admin.get_client(client_id)["publicClient"] is True


# ---- users ----


def test_create_user_and_find_it_by_username(admin):
    user_id, username = new_user(admin, password=None)
    assert admin.get_user_id(username) == user_id
    # get_user_id lower-cases; an upper-case query must still find the user
    assert admin.get_user_id(username.upper()) == user_id
    found = admin.get_users({"username": username, "exact": True})
    assert [u["id"] for u in found] == [user_id]
    user = found[0]
    assert user["username"] == username
    assert user["email"] == f"{username}@example.test"
    assert user["firstName"] == "Ada"
    assert user["lastName"] == "Lovelace"
    assert user["enabled"] is True
    assert user["emailVerified"] is True
    assert isinstance(user["createdTimestamp"], int) and user["createdTimestamp"] > 10**12
    assert admin.get_user(user_id)["username"] == username


def test_username_is_stored_lower_case(admin):
    mixed = unique("MiXeD").replace("mixed", "MiXeD")
    user_id = admin.create_user({"username": mixed, "enabled": True})
    assert admin.get_user(user_id)["username"] == mixed.lower()
    assert admin.get_user_id(mixed) == user_id


def test_exact_search_does_not_match_prefixes(admin):
    _, username = new_user(admin, password=None)
    longer_id, _ = new_user(admin, password=None, username=username + "x")
    exact = admin.get_users({"username": username, "exact": True})
    assert [u["username"] for u in exact] == [username]
    fuzzy = admin.get_users({"username": username})
    assert {u["username"] for u in fuzzy} == {username, username + "x"}
    assert longer_id in {u["id"] for u in admin.get_users({"search": username})}


def test_user_paging_first_and_max(admin):
    for _ in range(3):
        new_user(admin, password=None, lastName="Pager")
    everyone = admin.get_users({})
    assert len(everyone) >= 3
    page = admin.get_users({"first": 1, "max": 2})
    assert len(page) == 2
    assert [u["id"] for u in page] == [u["id"] for u in everyone[1:3]]


def test_users_count(admin):
    before = admin.users_count()
    assert isinstance(before, int)
    _, username = new_user(admin, password=None)
    assert admin.users_count() == before + 1
    assert admin.users_count({"search": username}) == 1


def test_duplicate_username_is_409_with_keycloak_message(admin):
    _, username = new_user(admin, password=None)
    with pytest.raises(KeycloakPostError) as err:
        admin.create_user({"username": username, "enabled": True})
    assert err.value.response_code == 409
    assert b"User exists with same username" in err.value.response_body


def test_duplicate_email_is_409_with_keycloak_message(admin):
    _, username = new_user(admin, password=None)
    with pytest.raises(KeycloakPostError) as err:
        admin.create_user({"username": unique("other"), "email": f"{username}@example.test"})
    assert err.value.response_code == 409
    assert b"User exists with same email" in err.value.response_body


def test_create_user_exist_ok_returns_the_existing_id(admin):
    user_id, username = new_user(admin, password=None)
    assert admin.create_user({"username": username}, exist_ok=True) == user_id


def test_set_password_then_password_grant_works(server, layout, realm, admin):
    _, username = new_user(admin, password="First-pass-1")
    token = openid(server, layout, realm).token(username, "First-pass-1")
    assert token["access_token"]
    claims = openid(server, layout, realm).decode_token(token["access_token"])
    assert claims["preferred_username"] == username
    assert claims["iss"] == f"{server.base(layout)}/realms/{realm}"


def test_reset_password_replaces_the_old_one(server, layout, realm, admin):
    user_id, username = new_user(admin, password="Old-pass-1")
    admin.set_user_password(user_id, "New-pass-2", temporary=False)
    kc = openid(server, layout, realm)
    assert kc.token(username, "New-pass-2")["access_token"]
    with pytest.raises((KeycloakPostError, KeycloakAuthenticationError)) as err:
        kc.token(username, "Old-pass-1")
    assert err.value.response_code in (400, 401)
    assert b"invalid_grant" in err.value.response_body


@incompat(
    "PUT /admin/realms/{r}/users/{id}/reset-password with temporary=true (python-keycloak's "
    "default) ignores 'temporary': no UPDATE_PASSWORD in requiredActions and the password "
    "grant succeeds; Keycloak adds UPDATE_PASSWORD and refuses the direct grant with 400 "
    "invalid_grant 'Account is not fully set up'"
)
def test_temporary_password_requires_an_update_before_password_grant(server, layout, realm, admin):
    user_id, username = new_user(admin, password=None)
    admin.set_user_password(user_id, "Temp-pass-1")  # python-keycloak's default: temporary=True
    assert "UPDATE_PASSWORD" in admin.get_user(user_id).get("requiredActions", [])
    with pytest.raises((KeycloakPostError, KeycloakAuthenticationError)) as err:
        openid(server, layout, realm).token(username, "Temp-pass-1")
    assert err.value.response_code == 400
    assert b"Account is not fully set up" in err.value.response_body


def test_disable_user_merges_and_blocks_login(server, layout, realm, admin):
    user_id, username = new_user(admin, password="Pass-word-1")
    kc = openid(server, layout, realm)
    earlier = kc.token(username, "Pass-word-1")
    admin.update_user(user_id, {"enabled": False})
    user = admin.get_user(user_id)
    assert user["enabled"] is False
    # PUT merged the partial body: nothing else was lost
    assert user["username"] == username
    assert user["email"] == f"{username}@example.test"
    assert user["firstName"] == "Ada"
    with pytest.raises((KeycloakPostError, KeycloakAuthenticationError)) as err:
        kc.token(username, "Pass-word-1")
    assert err.value.response_code == 400
    assert b"invalid_grant" in err.value.response_body
    # a disabled user's sessions end: the earlier refresh token no longer works
    with pytest.raises((KeycloakPostError, KeycloakAuthenticationError)):
        kc.refresh_token(earlier["refresh_token"])
    # re-enabling lets the user in again
    admin.update_user(user_id, {"enabled": True})
    assert kc.token(username, "Pass-word-1")["access_token"]


def test_update_user_attributes(admin):
    user_id, _ = new_user(admin, password=None)
    admin.update_user(user_id, {"firstName": "Grace", "attributes": {"team": ["blue"]}})
    user = admin.get_user(user_id)
    assert user["firstName"] == "Grace"
    assert user["lastName"] == "Lovelace"
    assert user["attributes"] == {"team": ["blue"]}


def test_delete_user(server, layout, realm, admin):
    user_id, username = new_user(admin, password="Pass-word-1")
    earlier = openid(server, layout, realm).token(username, "Pass-word-1")
    admin.delete_user(user_id)
    with pytest.raises(KeycloakGetError) as err:
        admin.get_user(user_id)
    assert err.value.response_code == 404
    assert admin.get_user_id(username) is None
    with pytest.raises((KeycloakPostError, KeycloakAuthenticationError)):
        openid(server, layout, realm).refresh_token(earlier["refresh_token"])
    with pytest.raises(KeycloakDeleteError) as err:
        admin.delete_user(user_id)
    assert err.value.response_code == 404


def test_user_logout_ends_sessions(server, layout, realm, admin):
    user_id, username = new_user(admin, password="Pass-word-1")
    kc = openid(server, layout, realm)
    token = kc.token(username, "Pass-word-1")
    admin.user_logout(user_id)
    with pytest.raises((KeycloakPostError, KeycloakAuthenticationError)) as err:
        kc.refresh_token(token["refresh_token"])
    assert err.value.response_code == 400
    with pytest.raises(KeycloakAuthenticationError):
        kc.userinfo(token["access_token"])


def test_sessions_are_listed_and_ended_as_keycloak_does(server, layout, realm, admin):
    user_id, username = new_user(admin, password="Pass-word-1")
    token = openid(server, layout, realm).token(username, "Pass-word-1")
    cli = admin.get_client_id("admin-cli")
    [session] = admin.get_sessions(user_id)
    assert session["id"] == token["session_state"]
    assert session["username"] == username
    assert session["userId"] == user_id
    assert session["clients"] == {cli: "admin-cli"}
    assert session["start"] % 1000 == 0
    assert session["rememberMe"] is False
    assert any(s["id"] == session["id"] for s in admin.get_client_all_sessions(cli))
    row = next(r for r in admin.get_client_sessions_stats() if r["clientId"] == "admin-cli")
    assert row["id"] == cli
    assert row["offline"] == "0"
    assert int(row["active"]) >= 1
    admin.user_logout(user_id)
    assert admin.get_sessions(user_id) == []


def test_unknown_user_is_404(admin):
    with pytest.raises(KeycloakGetError) as err:
        admin.get_user("00000000-0000-0000-0000-000000000000")
    assert err.value.response_code == 404


# ---- clients ----


def confidential_client(admin: KeycloakAdmin, **extra) -> tuple[str, str]:
    client_id = unique("app")
    payload = {
        "clientId": client_id,
        "name": "An app",
        "protocol": "openid-connect",
        "publicClient": False,
        "redirectUris": ["http://127.0.0.1:9/callback"],
        "directAccessGrantsEnabled": True,
        "serviceAccountsEnabled": True,
    }
    payload.update(extra)
    return admin.create_client(payload), client_id


def test_create_oidc_client_and_read_its_secret(admin):
    internal_id, client_id = confidential_client(admin)
    assert admin.get_client_id(client_id) == internal_id
    rep = admin.get_client(internal_id)
    assert rep["id"] == internal_id
    assert rep["clientId"] == client_id
    assert rep["protocol"] == "openid-connect"
    assert rep["publicClient"] is False
    assert rep["enabled"] is True
    assert rep["standardFlowEnabled"] is True
    assert rep["redirectUris"] == ["http://127.0.0.1:9/callback"]
    secret = admin.get_client_secrets(internal_id)
    assert secret["type"] == "secret"
    assert secret["value"]
    assert rep.get("secret") in (None, secret["value"])
    regenerated = admin.generate_client_secrets(internal_id)
    assert regenerated["type"] == "secret"
    assert regenerated["value"] and regenerated["value"] != secret["value"]
    assert admin.get_client_secrets(internal_id)["value"] == regenerated["value"]


def test_create_docker_v2_client_and_read_its_secret(admin):
    client_id = unique("registry")
    internal_id = admin.create_client(
        {"clientId": client_id, "protocol": "docker-v2", "publicClient": False}
    )
    rep = admin.get_client(internal_id)
    assert rep["protocol"] == "docker-v2"
    assert rep["clientId"] == client_id
    assert admin.get_client_id(client_id) == internal_id
    secret = admin.get_client_secrets(internal_id)
    assert secret["type"] == "secret"
    assert secret["value"]
    # the registry settings download, through the library's signed-in connection
    url = (
        f"admin/realms/{admin.connection.realm_name}/clients/{internal_id}"
        "/installation/providers/docker-v2-registry-config-file"
    )
    r = admin.connection.raw_get(url)
    assert r.status_code == 200, r.text
    assert f"service: {client_id}" in r.text
    assert "/protocol/docker-v2/auth" in r.text


def test_client_credentials_with_the_secret(server, layout, realm, admin):
    internal_id, client_id = confidential_client(admin)
    secret = admin.get_client_secrets(internal_id)["value"]
    kc = openid(server, layout, realm, client_id, secret)
    token = kc.token(grant_type="client_credentials")
    claims = kc.decode_token(token["access_token"])
    assert claims["azp"] == client_id
    # a KeycloakAdmin signed in with client credentials (the service-account pattern)
    KeycloakAdmin(
        server_url=server.base(layout) + "/",
        realm_name=realm,
        client_id=client_id,
        client_secret_key=secret,
    ).connection.get_token()


def test_client_installation_keycloak_json(server, layout, realm, admin):
    internal_id, client_id = confidential_client(admin)
    secret = admin.get_client_secrets(internal_id)["value"]
    conf = admin.get_client_installation_provider(internal_id, "keycloak-oidc-keycloak-json")
    assert conf["realm"] == realm
    assert conf["resource"] == client_id
    assert conf["credentials"]["secret"] == secret
    assert conf["auth-server-url"].rstrip("/") == server.base(layout)


def test_update_client_merges(admin):
    internal_id, client_id = confidential_client(admin)
    admin.update_client(internal_id, {"description": "updated"})
    rep = admin.get_client(internal_id)
    assert rep["description"] == "updated"
    assert rep["clientId"] == client_id
    assert rep["redirectUris"] == ["http://127.0.0.1:9/callback"]
    assert rep["serviceAccountsEnabled"] is True


def test_duplicate_client_is_409(admin):
    _, client_id = confidential_client(admin)
    with pytest.raises(KeycloakPostError) as err:
        admin.create_client({"clientId": client_id})
    assert err.value.response_code == 409
    assert f"Client {client_id} already exists".encode() in err.value.response_body


def test_delete_client(admin):
    internal_id, client_id = confidential_client(admin)
    admin.delete_client(internal_id)
    assert admin.get_client_id(client_id) is None
    with pytest.raises(KeycloakGetError) as err:
        admin.get_client(internal_id)
    assert err.value.response_code == 404


# ---- realm roles ----


def test_create_role_and_read_it_back(admin, realm):
    name = unique("role")
    assert admin.create_realm_role({"name": name, "description": "pushes"}) == name
    role = admin.get_realm_role(name)
    assert role["name"] == name
    assert role["description"] == "pushes"
    assert role["composite"] is False
    assert role["clientRole"] is False
    assert role["containerId"] == admin.get_realm(realm)["id"]
    assert admin.get_role_by_id(role["id"])["name"] == name
    assert name in [r["name"] for r in admin.get_realm_roles()]


def test_duplicate_role_is_409(admin):
    name = unique("role")
    admin.create_realm_role({"name": name})
    with pytest.raises(KeycloakPostError) as err:
        admin.create_realm_role({"name": name})
    assert err.value.response_code == 409
    assert f"Role with name {name} already exists".encode() in err.value.response_body
    # skip_exists swallows the 409
    assert admin.create_realm_role({"name": name}, skip_exists=True) == name


def test_assign_realm_roles_and_read_them_back(server, layout, realm, admin):
    user_id, username = new_user(admin)
    names = [unique("push"), unique("pull")]
    for name in names:
        admin.create_realm_role({"name": name})
    roles = [admin.get_realm_role(n) for n in names]
    admin.assign_realm_roles(user_id, roles)
    mapped = {r["name"] for r in admin.get_realm_roles_of_user(user_id)}
    assert set(names) <= mapped
    assert [u["id"] for u in admin.get_realm_role_members(names[0])] == [user_id]
    # the roles reach the access token
    kc = openid(server, layout, realm)
    claims = kc.decode_token(kc.token(username, "Secret-pass-1")["access_token"])
    assert set(names) <= set(claims["realm_access"]["roles"])
    # and can be removed again
    admin.delete_realm_roles_of_user(user_id, [roles[0]])
    mapped = {r["name"] for r in admin.get_realm_roles_of_user(user_id)}
    assert names[0] not in mapped and names[1] in mapped


def test_update_and_delete_role(admin):
    name = unique("role")
    admin.create_realm_role({"name": name})
    admin.update_realm_role(name, {"name": name, "description": "changed"})
    assert admin.get_realm_role(name)["description"] == "changed"
    admin.delete_realm_role(name)
    with pytest.raises(KeycloakGetError) as err:
        admin.get_realm_role(name)
    assert err.value.response_code == 404


# ---- groups ----


def test_groups_subgroups_and_members(admin):
    top_name = unique("team")
    top = admin.create_group({"name": top_name})
    sub = admin.create_group({"name": "devs"}, parent=top)
    assert top and sub and top != sub
    group = admin.get_group(top)
    assert group["name"] == top_name
    assert group["path"] == f"/{top_name}"
    children = admin.get_group_children(top)
    assert [(c["id"], c["name"], c["path"]) for c in children] == [(sub, "devs", f"/{top_name}/devs")]
    assert admin.get_group(sub)["path"] == f"/{top_name}/devs"
    listed = {g["id"]: g for g in admin.get_groups()}
    assert top in listed
    assert [g["id"] for g in listed[top]["subGroups"]] == [sub]

    user_id, _ = new_user(admin, password=None)
    admin.group_user_add(user_id, sub)
    assert [m["id"] for m in admin.get_group_members(sub)] == [user_id]
    assert [g["path"] for g in admin.get_user_groups(user_id)] == [f"/{top_name}/devs"]
    admin.group_user_remove(user_id, sub)
    assert admin.get_group_members(sub) == []


def test_groups_count(admin):
    before = admin.groups_count()["count"]
    top = admin.create_group({"name": unique("counted")})
    admin.create_group({"name": "child"}, parent=top)
    assert admin.groups_count() == {"count": before + 2}  # every group, as Keycloak 26
    assert admin.groups_count({"top": "true"})["count"] >= 1


@incompat(
    "GET /admin/realms/{r}/group-by-path/{path} (KeycloakAdmin.get_group_by_path) is not "
    "served: 404 {\"error\":\"Not Found\"}; Keycloak answers the GroupRepresentation"
)
def test_group_by_path(admin):
    top_name = unique("team")
    top = admin.create_group({"name": top_name})
    sub = admin.create_group({"name": "ops"}, parent=top)
    assert admin.get_group_by_path(f"/{top_name}")["id"] == top
    assert admin.get_group_by_path(f"/{top_name}/ops")["id"] == sub


def test_duplicate_group_is_409(admin):
    name = unique("dup")
    admin.create_group({"name": name})
    with pytest.raises(KeycloakPostError) as err:
        admin.create_group({"name": name})
    assert err.value.response_code == 409
    assert admin.create_group({"name": name}, skip_exists=True) is None


def test_delete_group_deletes_its_subgroups(admin):
    top = admin.create_group({"name": unique("doomed")})
    sub = admin.create_group({"name": "child"}, parent=top)
    admin.delete_group(top)
    for gid in (top, sub):
        with pytest.raises(KeycloakGetError) as err:
            admin.get_group(gid)
        assert err.value.response_code == 404


# ---- keys ----


def test_keys_match_the_jwks(server, layout, realm, admin):
    keys = admin.get_keys()
    rs256 = keys["active"]["RS256"]
    entry = next(k for k in keys["keys"] if k["kid"] == rs256)
    assert entry["algorithm"] == "RS256"
    assert entry["status"] == "ACTIVE"
    assert entry["publicKey"] and entry["certificate"]
    certs = openid(server, layout, realm).certs()
    assert rs256 in [k["kid"] for k in certs["keys"]]
    assert openid(server, layout, realm).public_key() == entry["publicKey"]


# ---- who may use the admin API ----


def test_a_plain_user_of_the_realm_is_403(server, layout, realm, admin):
    _, username = new_user(admin, password="Plain-pass-1")
    plain = KeycloakAdmin(
        server_url=server.base(layout) + "/",
        username=username,
        password="Plain-pass-1",
        realm_name=realm,
        user_realm_name=realm,
    )
    with pytest.raises(KeycloakGetError) as err:
        plain.get_users({})
    assert err.value.response_code == 403


@incompat(
    "Client-role endpoints are not served: GET /admin/realms/{r}/clients/{uuid}/roles/{name} "
    "(KeycloakAdmin.get_client_role) and POST /users/{id}/role-mappings/clients/{uuid} "
    "(assign_client_role) answer 404 {\"error\":\"Not Found\"}. That is how a realm's own "
    "admins are made (realm-management roles); Keycloak answers the RoleRepresentation / 204 "
    "and the user may then administer that realm, and only it, with a token from that realm"
)
def test_a_realm_admin_with_realm_management_roles(server, layout, realm, admin):
    user_id, username = new_user(admin, password="Realm-admin-1")
    rm = admin.get_client_id("realm-management")
    role = admin.get_client_role(rm, "manage-users")
    view = admin.get_client_role(rm, "view-users")
    admin.assign_client_role(user_id, rm, [role, view])
    realm_admin = KeycloakAdmin(
        server_url=server.base(layout) + "/",
        username=username,
        password="Realm-admin-1",
        realm_name=realm,
        user_realm_name=realm,
    )
    assert username in [u["username"] for u in realm_admin.get_users({"username": username})]
    realm_admin.change_current_realm("master")
    with pytest.raises((KeycloakGetError, KeycloakAuthenticationError)) as err:
        realm_admin.get_users({})
    assert err.value.response_code in (401, 403)


def test_malformed_json_and_wrong_types_are_400_and_write_nothing(admin):
    before = admin.users_count()
    url = f"admin/realms/{admin.connection.realm_name}/users"
    for body in ('{"username": ', '{"username": 5}', '{"username": "typed", "enabled": "yes"}'):
        r = admin.connection.raw_post(url, data=body)
        assert r.status_code == 400, (body, r.status_code, r.text)
        assert r.json().get("errorMessage") or r.json().get("error")
    assert admin.users_count() == before


# ---- admin events ----


@incompat(
    "GET /admin/realms/{r}/admin-events (KeycloakAdmin.get_admin_events) is not served: 404 "
    "{\"error\":\"Not Found\"}; Keycloak lists AdminEventRepresentations (time, realmId, "
    "authDetails{realmId,clientId,userId,ipAddress}, operationType, resourceType, "
    "resourcePath, representation) once the realm has adminEventsEnabled"
)
def test_admin_events_record_who_did_what(server, layout, realm, admin):
    admin.update_realm(realm, {"adminEventsEnabled": True, "adminEventsDetailsEnabled": True})
    user_id, username = new_user(admin, password=None)
    events = admin.get_admin_events({"operationTypes": "CREATE", "resourceTypes": "USER"})
    mine = [e for e in events if e.get("resourcePath") == f"users/{user_id}"]
    assert len(mine) == 1, events
    event = mine[0]
    assert event["operationType"] == "CREATE"
    assert event["resourceType"] == "USER"
    assert event["realmId"] == admin.get_realm(realm)["id"]
    assert event["authDetails"]["userId"] == master_admin(server, layout).get_user_id("admin")
    assert event["authDetails"]["clientId"]
    assert isinstance(event["time"], int)
    assert username in event["representation"]


# ---- composites, role mappings, groups, scopes (Keycloak 26's admin surface) ----


def test_role_composites_and_roles_by_id(admin):
    parent, child = unique("parent"), unique("child")
    admin.create_realm_role({"name": parent})
    admin.create_realm_role({"name": child, "attributes": {"tier": ["gold"]}})
    child_rep = admin.get_realm_role(child)
    assert child_rep["attributes"] == {"tier": ["gold"]}
    admin.add_composite_realm_roles_to_role(parent, [child_rep])
    assert admin.get_realm_role(parent)["composite"] is True
    assert [r["name"] for r in admin.get_composite_realm_roles_of_role(parent)] == [child]
    admin.remove_composite_realm_roles_to_role(parent, [child_rep])
    assert admin.get_composite_realm_roles_of_role(parent) == []

    by_id = admin.get_role_by_id(child_rep["id"])
    assert by_id["name"] == child and by_id["clientRole"] is False
    admin.update_role_by_id(child_rep["id"], {"name": child})
    replaced = admin.get_role_by_id(child_rep["id"])
    assert "description" not in replaced and replaced["attributes"] == {"tier": ["gold"]}
    admin.delete_role_by_id(child_rep["id"])
    with pytest.raises(KeycloakGetError) as err:
        admin.get_role_by_id(child_rep["id"])
    assert err.value.response_code == 404


def test_user_role_mappings_composite_available_and_all(admin):
    user_id, _ = new_user(admin, password=None)
    name = unique("role")
    admin.create_realm_role({"name": name})
    role = admin.get_realm_role(name)
    assert name in {r["name"] for r in admin.get_available_realm_roles_of_user(user_id)}
    admin.assign_realm_roles(user_id, [role])
    assert name not in {r["name"] for r in admin.get_available_realm_roles_of_user(user_id)}
    effective = {r["name"] for r in admin.get_composite_realm_roles_of_user(user_id)}
    assert {name, "offline_access"} <= effective  # offline_access through default-roles
    mappings = admin.get_all_roles_of_user(user_id)
    assert name in {r["name"] for r in mappings["realmMappings"]}
    assert "clientMappings" not in mappings

    rm = admin.get_client_id("realm-management")
    view = admin.get_client_role(rm, "view-users")
    admin.assign_client_role(user_id, rm, [view])
    mappings = admin.get_all_roles_of_user(user_id)
    assert mappings["clientMappings"]["realm-management"]["id"] == rm
    assert [r["name"] for r in mappings["clientMappings"]["realm-management"]["mappings"]] == [
        "view-users"
    ]
    composite = {r["name"] for r in admin.get_composite_client_roles_of_user(user_id, rm)}
    assert "view-users" in composite


def test_group_attributes_and_realm_roles(admin):
    name = unique("role")
    admin.create_realm_role({"name": name})
    group_id = admin.create_group({"name": unique("crew"), "attributes": {"site": ["north"]}})
    admin.assign_group_realm_roles(group_id, [admin.get_realm_role(name)])
    assert [r["name"] for r in admin.get_group_realm_roles(group_id)] == [name]
    group = admin.get_group(group_id)
    assert group["attributes"] == {"site": ["north"]}
    assert group["realmRoles"] == [name]
    assert group["access"]["manage"] is True
    admin.update_group(group_id, {"name": group["name"], "attributes": {"site": ["south"]}})
    assert admin.get_group(group_id)["attributes"] == {"site": ["south"]}
    admin.delete_group_realm_roles(group_id, [admin.get_realm_role(name)])
    assert admin.get_group_realm_roles(group_id) == []


def test_user_search_is_a_prefix_search_and_quotes_are_exact(admin):
    stem = unique("srch")
    admin.create_user({"username": f"{stem}-one", "enabled": True})
    admin.create_user({"username": f"x{stem}", "enabled": True})
    found = {u["username"] for u in admin.get_users({"search": stem})}
    assert found == {f"{stem}-one"}
    assert admin.get_users({"search": f'"{stem}"'}) == []
    assert {u["username"] for u in admin.get_users({"search": f"*{stem}"})} == {
        f"{stem}-one",
        f"x{stem}",
    }
    assert admin.users_count({"search": stem}) == 1


def test_service_account_user_and_client_secret(admin):
    client_id = unique("robot")
    internal = admin.create_client(
        {"clientId": client_id, "publicClient": False, "serviceAccountsEnabled": True}
    )
    account = admin.get_client_service_account_user(internal)
    assert account["username"] == f"service-account-{client_id}"
    secret = admin.get_client_secrets(internal)
    assert secret["type"] == "secret" and secret["value"]


def test_client_scopes_are_keycloaks_built_in_ones(admin):
    scopes = {s["name"]: s for s in admin.get_client_scopes()}
    assert {"profile", "email", "roles", "web-origins", "acr", "basic", "offline_access"} <= set(
        scopes
    )
    profile = admin.get_client_scope(scopes["profile"]["id"])
    assert profile["protocol"] == "openid-connect"
    defaults = {s["name"] for s in admin.get_default_default_client_scopes()}
    assert {"profile", "email", "roles"} <= defaults
    cli = admin.get_client_id("admin-cli")
    assert {s["name"] for s in admin.get_client_default_client_scopes(cli)} == {
        "acr",
        "basic",
        "email",
        "profile",
        "roles",
        "web-origins",
    }


def test_user_profile_is_keycloaks_default(admin):
    url = f"admin/realms/{admin.connection.realm_name}/users/profile"
    profile = admin.connection.raw_get(url).json()
    assert [a["name"] for a in profile["attributes"]] == ["username", "email", "firstName", "lastName"]
