"""authlib's OpenID Connect client (the one its Flask/Django/Starlette integrations use) through
keywarden's login page: discovery, the authorization-code flow with PKCE S256, ID token
validation against the JWKS (signature, iss, aud, nonce, at_hash), userinfo, refresh and
RP-initiated logout. Both URL layouts.

The "browser" is a requests.Session that keeps cookies and never follows redirects: the
redirect_uri (http://127.0.0.1:9/callback) is only read from the Location header, never
connected to.
"""

from __future__ import annotations

import os
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import pytest
import requests
from authlib.integrations.base_client.sync_app import BaseApp, OAuth2Mixin
from authlib.integrations.base_client.sync_openid import OpenIDMixin
from authlib.integrations.requests_client import OAuth2Session
from conftest import LAYOUTS, master_admin, unique

os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")  # plain HTTP on loopback

incompat = pytest.mark.server_incompat
PASSWORD = "Code-pass-1"
REDIRECT_URI = "http://127.0.0.1:9/callback"
AFTER_LOGOUT = "http://127.0.0.1:9/after-logout"


class _NoFramework:
    """authlib's apps report refreshed tokens to their web framework; there is none here."""

    def update_token(self, *args, **kwargs):
        pass


class OIDCApp(OAuth2Mixin, OpenIDMixin, BaseApp):
    """authlib's framework-independent OAuth 2 / OIDC app over requests."""

    client_cls = OAuth2Session


@pytest.fixture(scope="module", params=LAYOUTS)
def layout(request):
    return request.param


@pytest.fixture(scope="module")
def env(server, layout):
    realm = unique(f"code-{layout}")
    admin = master_admin(server, layout)
    admin.create_realm({"realm": realm, "enabled": True})
    admin.change_current_realm(realm)
    user_id = admin.create_user(
        {"username": "bob", "email": "bob@example.test", "firstName": "Bob", "lastName": "Builder",
         "enabled": True, "emailVerified": True}
    )
    admin.set_user_password(user_id, PASSWORD, temporary=False)
    internal = admin.create_client(
        {
            "clientId": "webapp",
            "publicClient": False,
            "standardFlowEnabled": True,
            "redirectUris": [REDIRECT_URI],
            "attributes": {"post.logout.redirect.uris": AFTER_LOGOUT, "pkce.code.challenge.method": "S256"},
        }
    )
    secret = admin.get_client_secrets(internal)["value"]
    admin.create_client(
        {"clientId": "spa", "publicClient": True, "redirectUris": [REDIRECT_URI],
         "attributes": {"pkce.code.challenge.method": "S256"}}
    )
    base = server.base(layout)
    return {
        "realm": realm,
        "user_id": user_id,
        "secret": secret,
        "issuer": f"{base}/realms/{realm}",
        "discovery": f"{base}/realms/{realm}/.well-known/openid-configuration",
    }


def app(env, client_id="webapp", confidential=True) -> OIDCApp:
    return OIDCApp(
        _NoFramework(),
        client_id=client_id,
        client_secret=env["secret"] if confidential else None,
        server_metadata_url=env["discovery"],
        client_kwargs={
            "scope": "openid profile email",
            "code_challenge_method": "S256",
            **({} if confidential else {"token_endpoint_auth_method": "none"}),
        },
    )


class _Forms(HTMLParser):
    """Collects every <form> with its action, method and <input> name/value pairs."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append({"action": a.get("action"), "method": (a.get("method") or "get").lower(),
                               "fields": {}})
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1]["fields"][a["name"]] = a.get("value") or ""


def login_form(html: str) -> dict:
    parser = _Forms()
    parser.feed(html)
    forms = [f for f in parser.forms if "password" in f["fields"]]
    assert forms, f"no login form with a password field in:\n{html[:2000]}"
    return forms[0]


def submit_login(browser: requests.Session, auth_url: str, username="bob", password=PASSWORD):
    """GETs the login page, fills in the form, POSTs it; returns the POST's response."""
    page = browser.get(auth_url, allow_redirects=False, timeout=10)
    assert page.status_code == 200, (page.status_code, page.text[:500])
    assert "text/html" in page.headers.get("Content-Type", "")
    form = login_form(page.text)
    assert form["method"] == "post"
    fields = dict(form["fields"])
    fields["username"] = username
    fields["password"] = password
    action = urljoin(page.url, form["action"] or page.url)
    return browser.post(action, data=fields, allow_redirects=False, timeout=10)


def callback_params(response) -> dict:
    assert response.status_code in (302, 303), (response.status_code, response.text[:500])
    location = response.headers["Location"]
    assert location.startswith(REDIRECT_URI + "?"), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def run_code_flow(env, client_id="webapp", confidential=True, browser=None):
    """The whole flow; (app, authorization request, token, browser)."""
    oidc = app(env, client_id, confidential)
    req = oidc.create_authorization_url(redirect_uri=REDIRECT_URI)
    assert "code_challenge_method=S256" in req["url"] and "nonce=" in req["url"]
    browser = browser or requests.Session()
    params = callback_params(submit_login(browser, req["url"]))
    assert params["state"] == req["state"]
    token = oidc.fetch_access_token(
        redirect_uri=REDIRECT_URI, code=params["code"], code_verifier=req["code_verifier"]
    )
    return oidc, req, token, browser, params


# ---- the flow ----


def test_discovery_through_authlib(env):
    metadata = app(env).load_server_metadata()
    assert metadata["issuer"] == env["issuer"]
    assert metadata["authorization_endpoint"].startswith(env["issuer"])
    assert "S256" in metadata["code_challenge_methods_supported"]
    jwks = app(env).fetch_jwk_set()
    assert jwks["keys"]


def test_code_flow_with_pkce_and_id_token_validation(env):
    oidc, req, token, _, params = run_code_flow(env)
    assert params.get("iss") in (None, env["issuer"])  # RFC 9207, Keycloak sends it
    assert token["token_type"].lower() == "bearer"
    assert token["id_token"] and token["refresh_token"]
    # signature against the JWKS, iss, aud, nonce, azp, at_hash, exp/iat
    claims = oidc.parse_id_token(token, nonce=req["nonce"])
    assert claims["iss"] == env["issuer"]
    assert claims["aud"] in ("webapp", ["webapp"])
    assert claims["nonce"] == req["nonce"]
    assert claims["sub"] == env["user_id"]
    assert claims["preferred_username"] == "bob"
    assert claims["at_hash"]
    assert claims.get("typ") == "ID"


def test_id_token_with_a_wrong_nonce_is_refused(env):
    oidc, _, token, _, _ = run_code_flow(env)
    with pytest.raises(Exception):
        oidc.parse_id_token(token, nonce="not-the-nonce")


def test_userinfo_and_refresh_through_authlib(env):
    oidc, _, token, _, _ = run_code_flow(env)
    info = oidc.userinfo(token=token)
    assert info["sub"] == env["user_id"]
    assert info["email"] == "bob@example.test"
    metadata = oidc.load_server_metadata()
    session = OAuth2Session("webapp", env["secret"], token=token)
    refreshed = session.refresh_token(metadata["token_endpoint"])
    assert refreshed["access_token"] and refreshed["access_token"] != token["access_token"]


def test_public_client_code_flow_with_pkce(env):
    oidc, req, token, _, _ = run_code_flow(env, client_id="spa", confidential=False)
    claims = oidc.parse_id_token(token, nonce=req["nonce"])
    assert claims["aud"] in ("spa", ["spa"])
    assert claims["azp"] == "spa"


@incompat(
    "GET /protocol/openid-connect/auth from a browser that has just signed in shows the login "
    "form again (200): keywarden keeps no SSO session cookie; Keycloak (KEYCLOAK_IDENTITY / "
    "KEYCLOAK_SESSION cookies) redirects straight back with a new code while the SSO session "
    "lives, which is what every OIDC app relies on for silent re-authentication"
)
def test_single_sign_on_second_authorization_skips_the_form(env):
    _, _, _, browser, _ = run_code_flow(env)
    oidc = app(env)
    req = oidc.create_authorization_url(redirect_uri=REDIRECT_URI)
    again = browser.get(req["url"], allow_redirects=False, timeout=10)
    params = callback_params(again)
    token = oidc.fetch_access_token(redirect_uri=REDIRECT_URI, code=params["code"],
                                    code_verifier=req["code_verifier"])
    assert oidc.parse_id_token(token, nonce=req["nonce"])["sub"] == env["user_id"]


# ---- what must be refused ----


def test_wrong_code_verifier_is_invalid_grant(env):
    oidc = app(env)
    req = oidc.create_authorization_url(redirect_uri=REDIRECT_URI)
    params = callback_params(submit_login(requests.Session(), req["url"]))
    with pytest.raises(Exception) as err:
        oidc.fetch_access_token(redirect_uri=REDIRECT_URI, code=params["code"],
                                code_verifier="x" * 50)
    assert "invalid_grant" in str(err.value)


def test_code_is_single_use(env):
    oidc = app(env)
    req = oidc.create_authorization_url(redirect_uri=REDIRECT_URI)
    params = callback_params(submit_login(requests.Session(), req["url"]))
    oidc.fetch_access_token(redirect_uri=REDIRECT_URI, code=params["code"],
                            code_verifier=req["code_verifier"])
    with pytest.raises(Exception) as err:
        oidc.fetch_access_token(redirect_uri=REDIRECT_URI, code=params["code"],
                                code_verifier=req["code_verifier"])
    assert "invalid_grant" in str(err.value)


def test_wrong_password_shows_the_form_again(env):
    req = app(env).create_authorization_url(redirect_uri=REDIRECT_URI)
    browser = requests.Session()
    r = submit_login(browser, req["url"], password="wrong")
    assert r.status_code in (200, 401)
    assert "Location" not in r.headers
    assert "Invalid username or password" in r.text
    login_form(r.text)  # the form is there again
    # and the right password still works from that page
    params = callback_params(submit_login(browser, req["url"]))
    assert params["code"]


def test_login_post_without_csrf_is_refused(env):
    req = app(env).create_authorization_url(redirect_uri=REDIRECT_URI)
    browser = requests.Session()
    page = browser.get(req["url"], allow_redirects=False, timeout=10)
    form = login_form(page.text)
    fields = {k: v for k, v in form["fields"].items() if "csrf" not in k.lower()}
    fields.update(username="bob", password=PASSWORD)
    r = browser.post(urljoin(page.url, form["action"] or page.url), data=fields,
                     allow_redirects=False, timeout=10)
    # refused: no redirect, no code (Keycloak itself answers an "expired page" with a 200 page)
    assert r.status_code in (200, 400, 403), r.status_code
    assert "Location" not in r.headers
    assert "code=" not in r.text


def test_unregistered_redirect_uri_is_refused_without_redirect(env):
    oidc = app(env)
    req = oidc.create_authorization_url(redirect_uri="http://127.0.0.1:9/evil")
    r = requests.get(req["url"], allow_redirects=False, timeout=10)
    assert r.status_code == 400
    assert "Location" not in r.headers


@incompat(
    "GET /protocol/openid-connect/auth without code_challenge for a client whose attribute "
    "pkce.code.challenge.method is S256 shows the login form (200); Keycloak enforces the "
    "attribute and redirects to the redirect_uri with error=invalid_request "
    "(Missing parameter: code_challenge_method)"
)
def test_pkce_required_when_the_client_says_s256(env):
    metadata = app(env).load_server_metadata()
    r = requests.get(
        metadata["authorization_endpoint"],
        params={"client_id": "webapp", "response_type": "code", "redirect_uri": REDIRECT_URI,
                "scope": "openid", "state": "s1"},
        allow_redirects=False, timeout=10,
    )
    # Keycloak redirects back with error=invalid_request (Missing parameter: code_challenge_method)
    params = callback_params(r)
    assert params["error"] == "invalid_request"
    assert params["state"] == "s1"


# ---- RP-initiated logout ----


def test_rp_initiated_logout(env):
    oidc, _, token, browser, _ = run_code_flow(env)
    logout = oidc.create_logout_url(post_logout_redirect_uri=AFTER_LOGOUT,
                                    id_token_hint=token["id_token"])
    r = browser.get(logout["url"], allow_redirects=False, timeout=10)
    assert r.status_code in (302, 303), (r.status_code, r.text[:300])
    location = r.headers["Location"]
    assert location.startswith(AFTER_LOGOUT)
    assert parse_qs(urlsplit(location).query)["state"] == [logout["state"]]
    # the session is over: userinfo refuses its access token, the next login shows the form
    assert requests.get(oidc.load_server_metadata()["userinfo_endpoint"],
                        headers={"Authorization": f"Bearer {token['access_token']}"},
                        timeout=10).status_code == 401
    req = oidc.create_authorization_url(redirect_uri=REDIRECT_URI)
    page = browser.get(req["url"], allow_redirects=False, timeout=10)
    assert page.status_code == 200
    login_form(page.text)


def test_rp_initiated_logout_refuses_an_unregistered_post_logout_uri(env):
    oidc, _, token, browser, _ = run_code_flow(env)
    logout = oidc.create_logout_url(post_logout_redirect_uri="http://127.0.0.1:9/evil",
                                    id_token_hint=token["id_token"])
    r = browser.get(logout["url"], allow_redirects=False, timeout=10)
    assert r.status_code == 400
    assert "Location" not in r.headers
