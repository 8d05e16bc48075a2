// Shared pieces of the Chromium scripts in tests/e2e: the environment, the browser, a page
// that records console errors and server errors, screenshots, sign-in and the overflow check.
//
// Environment (set by tests/it/chromium.rs):
//   BASE_URL     the server, e.g. http://127.0.0.1:8080 (required)
//   ARTIFACTS    where screenshots and downloads go (required)
//   ADMIN_USER, ADMIN_PASSWORD   the master realm's admin
//   CHROMIUM     the browser (default /usr/bin/chromium)

import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

export const base = required("BASE_URL").replace(/\/$/, "");
export const artifacts = required("ARTIFACTS");
export const adminUser = process.env.ADMIN_USER ?? "admin";
export const adminPassword = process.env.ADMIN_PASSWORD ?? "admin-password";

export function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} must be set`);
  return value;
}

export function step(text) {
  console.log(`- ${text}`);
}

/** The claims of a JWT (not verified: the registry does that). */
export function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString("utf8"));
}

export async function shot(page, name) {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}

export async function expectBanner(page, text) {
  const banner = page.locator(".banner.success");
  await banner.waitFor();
  assert.match(await banner.innerText(), text);
}

/** Starts headless Chromium. */
export async function launch() {
  mkdirSync(artifacts, { recursive: true });
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/**
 * A page in a new context whose console errors (other than the 4xx a refused form answers on
 * purpose), page errors and 5xx responses are pushed to `problems`.
 */
export async function watchedPage(browser, problems, viewport = { width: 1280, height: 800 }) {
  const context = await browser.newContext({ acceptDownloads: true, viewport });
  const page = await context.newPage();
  page.on("console", (message) => {
    const expected = /^Failed to load resource: the server responded with a status of 4\d\d/;
    if (message.type() === "error" && !expected.test(message.text())) {
      problems.push(`console: ${message.text()}`);
    }
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("response", (response) => {
    if (response.status() >= 500) problems.push(`${response.status()} from ${response.url()}`);
  });
  return page;
}

/** Signs in to a realm's console (master by default) with the given credentials. */
export async function signIn(page, { realm = "master", username = adminUser, password = adminPassword } = {}) {
  await page.goto(`${base}/admin/${realm}/console/signin`);
  await page.fill("#username", username);
  await page.fill("#password", password);
  await page.click("button[type=submit]");
  await page.waitForLoadState("load");
}

/** How far the page's content reaches past the viewport's width, in CSS pixels (0: none). */
export async function horizontalOverflow(page) {
  return page.evaluate(() => Math.max(0, document.documentElement.scrollWidth - window.innerWidth));
}

/** Fails unless the page fits the viewport's width. */
export async function assertNoOverflow(page, label) {
  const overflow = await horizontalOverflow(page);
  assert.equal(overflow, 0, `${label} is ${overflow} px wider than the ${page.viewportSize().width} px screen`);
}

/** Runs `body` with a browser, closes it, and fails with every problem recorded. */
export async function withBrowser(body) {
  const browser = await launch();
  const problems = [];
  try {
    await body(browser, problems);
  } finally {
    await browser.close();
  }
  assert.deepEqual(problems, [], "the browser saw errors");
}

/** A master admin access token (password grant on admin-cli). */
export async function adminToken() {
  const response = await fetch(`${base}/realms/master/protocol/openid-connect/token`, {
    method: "POST",
    body: new URLSearchParams({ grant_type: "password", client_id: "admin-cli", username: adminUser, password: adminPassword }),
  });
  assert.equal(response.status, 200, "admin token");
  return (await response.json()).access_token;
}

/** Calls the admin REST API (`/admin/realms{path}`) as the master admin; returns the response. */
export async function adminApi(token, method, path, body) {
  const response = await fetch(`${base}/admin/realms${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  assert.ok(response.status < 300, `${method} ${path}: ${response.status} ${await response.clone().text()}`);
  return response;
}

/** A `docker login` of `username` to `realm`'s registry client, as `agent`: an identity token. */
export async function dockerLogin(realm, service, username, password, agent) {
  const url = `${base}/realms/${realm}/protocol/docker-v2/auth?service=${service}&offline_token=true&client_id=docker`;
  const basic = Buffer.from(`${username}:${password}`).toString("base64");
  const response = await fetch(url, { headers: { Authorization: `Basic ${basic}`, "User-Agent": agent } });
  assert.equal(response.status, 200, `docker login of ${username}: ${await response.clone().text()}`);
}

/**
 * Fills `realm` so that every console page has content: saved events, a docker-v2 client with
 * an access policy, realm roles, a group tree, users with a long email, sign-in sessions,
 * refresh tokens and docker identity tokens, and a wrong password among the logins.
 */
export async function seedRealm(realm) {
  const token = await adminToken();
  await adminApi(token, "POST", "", { realm, enabled: true, displayName: `${realm} (a realm with a rather long display name)` });
  await adminApi(token, "PUT", `/${realm}/events/config`, { eventsEnabled: true, adminEventsEnabled: true, adminEventsDetailsEnabled: true });
  const created = await adminApi(token, "POST", `/${realm}/clients`, { clientId: "registry", protocol: "docker-v2" });
  const client = created.headers.get("location").split("/").pop();
  for (const name of ["pusher", "reader", "registry-administrators-with-a-long-role-name"]) {
    await adminApi(token, "POST", `/${realm}/roles`, { name, description: `The ${name} role` });
  }
  await adminApi(token, "PUT", `/${realm}/clients/${client}/docker-access-policy`, {
    mode: "rules",
    rules: [
      { repository: "**", who: "authenticated", actions: ["pull"] },
      { repository: "**", who: "role:pusher", actions: ["pull", "push"] },
      { repository: "${username}/*", who: "authenticated", actions: ["*"] },
      { repository: "team/a-rather-long-repository-name/with/many/segments/**", who: "group:developers", actions: ["pull", "push", "delete"] },
    ],
  });
  const group = await adminApi(token, "POST", `/${realm}/groups`, { name: "developers" });
  const groupId = group.headers.get("location").split("/").pop();
  await adminApi(token, "POST", `/${realm}/groups/${groupId}/children`, { name: "backend" });
  const users = {};
  for (const name of ["alice", "bob", "carol-with-a-long-username"]) {
    const response = await adminApi(token, "POST", `/${realm}/users`, {
      username: name,
      enabled: true,
      email: `${name}@an-example-organisation-with-a-long-domain.example`,
      firstName: name,
      lastName: "Tester",
      credentials: [{ type: "password", value: "Correct-Horse-9", temporary: false }],
    });
    users[name] = response.headers.get("location").split("/").pop();
  }
  await adminApi(token, "PUT", `/${realm}/users/${users.alice}/groups/${groupId}`);
  const roles = await (await adminApi(token, "GET", `/${realm}/roles/pusher`)).json();
  await adminApi(token, "POST", `/${realm}/users/${users.alice}/role-mappings/realm`, [roles]);
  await dockerLogin(realm, "registry", "alice", "Correct-Horse-9", "docker/28.2.2 go/go1.24.3 git-commit/e6534b4 kernel/6.1.0 os/linux arch/amd64 UpstreamClient(Docker-Client/28.2.2 \\(linux\\))");
  await dockerLogin(realm, "registry", "alice", "Correct-Horse-9", "skopeo/1.13.3");
  await dockerLogin(realm, "registry", "bob", "Correct-Horse-9", "containerd/v1.7.27");
  for (const name of ["alice", "carol-with-a-long-username"]) {
    const response = await fetch(`${base}/realms/${realm}/protocol/openid-connect/token`, {
      method: "POST",
      headers: { "User-Agent": "python-keycloak/5.1.1 (a longer user agent that goes on for a while)" },
      body: new URLSearchParams({ grant_type: "password", client_id: "admin-cli", username: name, password: "Correct-Horse-9" }),
    });
    assert.equal(response.status, 200, `password grant of ${name}`);
  }
  const refused = await fetch(`${base}/realms/${realm}/protocol/docker-v2/auth?service=registry`, {
    headers: { Authorization: `Basic ${Buffer.from("bob:wrong").toString("base64")}` },
  });
  assert.equal(refused.status, 401, "a wrong password is refused");
  return { users, client, group: groupId };
}
