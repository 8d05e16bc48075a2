// openid-client (v6, on oauth4webapi) against keywarden's OIDC endpoints, in both URL layouts:
// discovery, password and client_credentials grants, the authorization-code flow with PKCE S256
// through the login page (ID token signature checked against the JWKS, iss, aud, nonce), userinfo,
// refresh, introspection, revocation and RP-initiated logout.
//
// The "browser" is fetch with redirect: "manual" and a hand-kept cookie jar; the redirect_uri
// (http://127.0.0.1:9/callback) is only read from the Location header, never connected to.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import * as oidc from "openid-client";

import { LAYOUTS, startServer, unique } from "./server.js";

const REDIRECT_URI = "http://127.0.0.1:9/callback";
const AFTER_LOGOUT = "http://127.0.0.1:9/after-logout";
const PASSWORD = "Carol-pass-1";

let server;
before(async () => {
  server = await startServer("node-oidc");
});
after(async () => {
  await server?.stop();
});

/** A minimal browser: keeps cookies, never follows redirects. */
class Browser {
  cookies = new Map();

  async fetch(url, init = {}) {
    const headers = new Headers(init.headers);
    if (this.cookies.size) {
      headers.set("cookie", [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    }
    const res = await fetch(url, { ...init, headers, redirect: "manual" });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const eq = pair.indexOf("=");
      this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
    return res;
  }
}

function decodeEntities(s) {
  return s
    .replaceAll("&amp;", "&")
    .replaceAll("&quot;", '"')
    .replaceAll("&#39;", "'")
    .replaceAll("&#x27;", "'")
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">");
}

/** The login form of a page: its action and its inputs (name -> value). */
function loginForm(html, pageUrl) {
  const form = html.match(/<form\b[^>]*>[\s\S]*?<\/form>/i);
  assert.ok(form, `no form in the login page:\n${html.slice(0, 1500)}`);
  const action = form[0].match(/\baction="([^"]*)"/i);
  const fields = {};
  for (const input of form[0].matchAll(/<input\b[^>]*>/gi)) {
    const name = input[0].match(/\bname="([^"]*)"/i);
    if (!name) continue;
    const value = input[0].match(/\bvalue="([^"]*)"/i);
    fields[decodeEntities(name[1])] = value ? decodeEntities(value[1]) : "";
  }
  assert.ok("password" in fields, "the form has a password field");
  return { action: new URL(decodeEntities(action?.[1] || pageUrl), pageUrl), fields };
}

async function signIn(browser, authUrl, username = "carol", password = PASSWORD) {
  const page = await browser.fetch(authUrl);
  assert.equal(page.status, 200);
  const { action, fields } = loginForm(await page.text(), authUrl);
  const res = await browser.fetch(action, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ ...fields, username, password }),
  });
  return res;
}

for (const layout of LAYOUTS) {
  describe(`openid-client, ${layout} layout`, () => {
    let realm;
    let issuer;
    let secret;
    let resourceSecret;
    let userId;

    // Setup through the admin REST API by hand (fetch), so that this file tests openid-client
    // whatever state the admin client's own compatibility is in (see admin.test.js).
    before(async () => {
      realm = unique(`oidc-node-${layout}`);
      issuer = `${server.base(layout)}/realms/${realm}`;
      const base = server.base(layout);
      const tokenRes = await fetch(`${base}/realms/master/protocol/openid-connect/token`, {
        method: "POST",
        body: new URLSearchParams({
          grant_type: "password",
          client_id: "admin-cli",
          username: "admin",
          password: "admin",
        }),
      });
      assert.equal(tokenRes.status, 200);
      const { access_token: adminToken } = await tokenRes.json();
      const admin = async (method, path, body) => {
        const res = await fetch(`${base}/admin/realms${path}`, {
          method,
          headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        assert.ok(res.ok, `${method} ${path}: ${res.status} ${await res.clone().text()}`);
        return res;
      };
      const idOf = (res) => res.headers.get("location").split("/").pop();
      await admin("POST", "", { realm, enabled: true });
      userId = idOf(
        await admin("POST", `/${realm}/users`, {
          username: "carol",
          email: "carol@example.test",
          firstName: "Carol",
          lastName: "Danvers",
          enabled: true,
          emailVerified: true,
        }),
      );
      await admin("PUT", `/${realm}/users/${userId}/reset-password`, {
        type: "password",
        value: PASSWORD,
        temporary: false,
      });
      const clientUuid = idOf(
        await admin("POST", `/${realm}/clients`, {
          clientId: "node-app",
          publicClient: false,
          directAccessGrantsEnabled: true,
          serviceAccountsEnabled: true,
          redirectUris: [REDIRECT_URI],
          attributes: { "post.logout.redirect.uris": AFTER_LOGOUT },
        }),
      );
      ({ value: secret } = await (await admin("GET", `/${realm}/clients/${clientUuid}/client-secret`)).json());
      // A resource server: carol and node-app's service account hold its role, so it is in
      // the audience of their access tokens and may introspect them (Keycloak 26.7 shows an
      // access token to no other client, not even the one it was issued to).
      const resourceUuid = idOf(
        await admin("POST", `/${realm}/clients`, { clientId: "node-resource", publicClient: false }),
      );
      ({ value: resourceSecret } = await (
        await admin("GET", `/${realm}/clients/${resourceUuid}/client-secret`)
      ).json());
      await admin("POST", `/${realm}/clients/${resourceUuid}/roles`, { name: "reader" });
      const reader = await (await admin("GET", `/${realm}/clients/${resourceUuid}/roles/reader`)).json();
      const [robot] = await (
        await admin("GET", `/${realm}/users?username=service-account-node-app&exact=true`)
      ).json();
      for (const holder of [userId, robot.id]) {
        await admin("POST", `/${realm}/users/${holder}/role-mappings/clients/${resourceUuid}`, [reader]);
      }
    });

    async function resourceServer() {
      return oidc.discovery(new URL(issuer), "node-resource", resourceSecret, undefined, {
        execute: [oidc.allowInsecureRequests],
      });
    }

    async function config() {
      const c = await oidc.discovery(new URL(issuer), "node-app", secret, undefined, {
        execute: [oidc.allowInsecureRequests],
      });
      oidc.enableNonRepudiationChecks(c); // verify ID token signatures against the JWKS
      return c;
    }

    async function codeFlow(c, browser = new Browser()) {
      const codeVerifier = oidc.randomPKCECodeVerifier();
      const nonce = oidc.randomNonce();
      const state = oidc.randomState();
      const url = oidc.buildAuthorizationUrl(c, {
        redirect_uri: REDIRECT_URI,
        scope: "openid profile email",
        code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
        code_challenge_method: "S256",
        nonce,
        state,
      });
      const res = await signIn(browser, url);
      assert.ok([302, 303].includes(res.status), `login POST answered ${res.status}`);
      const location = res.headers.get("location");
      assert.ok(location.startsWith(`${REDIRECT_URI}?`), location);
      const tokens = await oidc.authorizationCodeGrant(c, new URL(location), {
        pkceCodeVerifier: codeVerifier,
        expectedNonce: nonce,
        expectedState: state,
        idTokenExpected: true,
      });
      return { tokens, browser, nonce };
    }

    it("discovers the issuer", async () => {
      const c = await config();
      const md = c.serverMetadata();
      assert.equal(md.issuer, issuer);
      assert.equal(md.token_endpoint, `${issuer}/protocol/openid-connect/token`);
      assert.ok(md.code_challenge_methods_supported.includes("S256"));
    });

    it("authorization-code flow with PKCE S256 through the login page; ID token validated", async () => {
      const c = await config();
      const { tokens, nonce } = await codeFlow(c);
      const idClaims = tokens.claims(); // signature (JWKS), iss, aud, azp, nonce, exp checked
      assert.equal(idClaims.iss, issuer);
      assert.equal(idClaims.sub, userId);
      assert.equal(idClaims.nonce, nonce);
      assert.ok(idClaims.aud === "node-app" || idClaims.aud.includes("node-app"));
      assert.equal(idClaims.preferred_username, "carol");
      const info = await oidc.fetchUserInfo(c, tokens.access_token, idClaims.sub);
      assert.equal(info.email, "carol@example.test");
      const refreshed = await oidc.refreshTokenGrant(c, tokens.refresh_token);
      assert.ok(refreshed.access_token);
      assert.equal(refreshed.claims()?.sub ?? userId, userId);
    });

    it("password grant, introspection and revocation", async () => {
      const c = await config();
      const tokens = await oidc.genericGrantRequest(c, "password", {
        username: "carol",
        password: PASSWORD,
        scope: "openid",
      });
      assert.equal(tokens.token_type.toLowerCase(), "bearer");
      assert.equal(tokens.claims().sub, userId);
      const resource = await resourceServer();
      const active = await oidc.tokenIntrospection(resource, tokens.access_token);
      assert.equal(active.active, true);
      assert.equal(active.username, "carol");
      assert.equal(active.client_id, "node-app");
      assert.equal((await oidc.tokenIntrospection(c, tokens.access_token)).active, false);
      await oidc.tokenRevocation(c, tokens.access_token);
      assert.equal((await oidc.tokenIntrospection(resource, tokens.access_token)).active, false);
      await oidc.tokenRevocation(c, tokens.refresh_token);
      await assert.rejects(oidc.refreshTokenGrant(c, tokens.refresh_token), (err) => {
        assert.equal(err.error, "invalid_grant");
        return true;
      });
    });

    it("client_credentials grant", async () => {
      const c = await config();
      const tokens = await oidc.clientCredentialsGrant(c);
      const info = await oidc.tokenIntrospection(await resourceServer(), tokens.access_token);
      assert.equal(info.active, true);
      assert.equal(info.client_id, "node-app");
    });

    it("a wrong password is invalid_grant", async () => {
      const c = await config();
      await assert.rejects(
        oidc.genericGrantRequest(c, "password", { username: "carol", password: "wrong" }),
        (err) => {
          assert.equal(err.error, "invalid_grant");
          return true;
        },
      );
    });

    it("RP-initiated logout with post_logout_redirect_uri ends the session", async () => {
      const c = await config();
      const { tokens, browser } = await codeFlow(c);
      const state = oidc.randomState();
      const url = oidc.buildEndSessionUrl(c, {
        id_token_hint: tokens.id_token,
        post_logout_redirect_uri: AFTER_LOGOUT,
        state,
      });
      const res = await browser.fetch(url);
      assert.ok([302, 303].includes(res.status), `logout answered ${res.status}`);
      const location = new URL(res.headers.get("location"));
      assert.equal(`${location.origin}${location.pathname}`, AFTER_LOGOUT);
      assert.equal(location.searchParams.get("state"), state);
      await assert.rejects(oidc.fetchUserInfo(c, tokens.access_token, oidc.skipSubjectCheck));
    });

    // Keycloak keeps an SSO session cookie: a second authorization request from the same
    // browser redirects straight back with a code, without showing the login form.
    it("[incompat] single sign-on: a second authorization skips the login form", async () => {
      const c = await config();
      const { browser } = await codeFlow(c);
      const url = oidc.buildAuthorizationUrl(c, {
        redirect_uri: REDIRECT_URI,
        scope: "openid",
        code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
        code_challenge_method: "S256",
        state: "again",
      });
      const res = await browser.fetch(url);
      assert.ok([302, 303].includes(res.status), `second authorization answered ${res.status}`);
    });
  });
}
