// The console pages and rough edges of issue 13 (section 5) in real headless Chromium: the
// team admin's sign-in address, durations typed as 5m, the event settings, a role name that
// differs only by case, a group's role mapping, the warning before an admin removes their
// own rights, the HTML 404 page, and a team admin landing on their realm. Every page is
// shot at 1440 and 390 px wide and checked for horizontal overflow.
//
// Run by tests/it/console_pages.rs against a server it spawns; the environment is
// described in lib.mjs.

import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { adminPassword, adminUser, artifacts, assertNoOverflow, base, expectBanner, shot, signIn, step, watchedPage, withBrowser } from "./lib.mjs";

const realm = "pages-team";
const root = `${base}/admin/master/console`;
const lead = { name: "lead", password: "Lead-Password-1" };

/** Calls the admin REST API as the master admin. */
async function api(method, path, body) {
  const form = new URLSearchParams({ grant_type: "password", client_id: "admin-cli", username: adminUser, password: adminPassword });
  const token = await fetch(`${base}/realms/master/protocol/openid-connect/token`, { method: "POST", body: form });
  const { access_token: bearer } = await token.json();
  const response = await fetch(`${base}/admin/realms${path}`, {
    method,
    headers: { Authorization: `Bearer ${bearer}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(response.status < 300, `${method} ${path}: ${response.status} ${await response.clone().text()}`);
  return response.status === 200 ? response.json() : response;
}

/** Shoots the page at both widths, failing if it is wider than either screen. */
async function both(pages, url, name) {
  for (const [width, page] of pages) {
    await page.goto(url);
    await assertNoOverflow(page, `${name} at ${width} px`);
    await shot(page, `${name}-${width}`);
  }
}

async function main() {
  await withBrowser(async (browser, problems) => {
    const page = await watchedPage(browser, problems, { width: 1440, height: 900 });
    const narrow = await watchedPage(browser, problems, { width: 390, height: 844 });
    const pages = [[1440, page], [390, narrow]];

    step("the master sign-in page tells team admins where to go");
    await page.goto(`${root}/signin`);
    assert.match(await page.locator("body").innerText(), /Your realm/);
    await both(pages, `${root}/signin`, "01-master-signin");

    step("the admin signs in at both widths and creates a realm");
    await signIn(page);
    await signIn(narrow);
    await page.goto(`${root}/new-realm`);
    await page.fill("#name", realm);
    await page.getByRole("button", { name: "Create" }).click();
    await expectBanner(page, new RegExp(`Realm ${realm} created`));

    step("the realm's General tab shows where its team admins sign in");
    const address = await page.locator("#signin_address").inputValue();
    assert.equal(address, `${base}/admin/${realm}/console/`);
    await both(pages, `${root}/${realm}/settings`, "02-general");

    step("durations are typed as 5m and shown back so");
    await page.goto(`${root}/${realm}/settings/tokens`);
    await page.fill("#access_token_lifespan", "5m");
    await page.fill("#sso_session_idle_timeout", "1h");
    await page.getByRole("button", { name: "Save" }).click();
    await expectBanner(page, /Tokens settings saved/);
    assert.equal(await page.locator("#access_token_lifespan").inputValue(), "5m");
    assert.equal((await api("GET", `/${realm}`)).accessTokenLifespan, 300);
    await page.fill("#access_token_lifespan", "5x");
    await page.getByRole("button", { name: "Save" }).click();
    assert.match(await page.locator(".field-error").first().innerText(), /^Access token lifespan: enter a duration/);
    await shot(page, "03-tokens-error-1440");
    await both(pages, `${root}/${realm}/settings/tokens`, "03-tokens");

    step("Security defenses say that docker and OIDC sign-ins count too");
    await page.goto(`${root}/${realm}/settings/security`);
    assert.match(await page.locator("form .help").first().innerText(), /docker login/);
    await both(pages, `${root}/${realm}/settings/security`, "04-security");

    step("the event settings: types ticked, expiration in days");
    await page.goto(`${root}/${realm}/settings/events`);
    await page.check("#events_enabled");
    await page.fill("#events_expiration", "2d");
    for (const type of ["CLIENT_LOGIN", "CODE_TO_TOKEN", "REFRESH_TOKEN", "LOGOUT"]) {
      await page.uncheck(`input[name=enabled_event_types][value=${type}]`);
    }
    await page.getByRole("button", { name: "Save" }).click();
    await expectBanner(page, /Events settings saved/);
    const config = await api("GET", `/${realm}/events/config`);
    assert.deepEqual(config.enabledEventTypes, ["LOGIN", "LOGIN_ERROR"]);
    assert.equal(config.eventsExpiration, 172800);
    await both(pages, `${root}/${realm}/settings/events`, "05-events");

    step("a role named as another but for case is created only after a warning");
    await api("POST", `/${realm}/roles`, { name: "deployer" });
    await page.goto(`${root}/${realm}/roles`);
    await page.locator("summary", { hasText: "Create role" }).click();
    await page.fill("#name", "Deployer");
    await page.getByRole("button", { name: "Create" }).first().click();
    await page.getByRole("heading", { name: "A name that differs only by case" }).waitFor();
    assert.match(await page.locator("main").innerText(), /There is already a role named deployer/);
    await shot(page, "06-case-warning-1440");
    await page.getByRole("button", { name: "Create it anyway" }).click();
    await expectBanner(page, /Role Deployer created/);

    step("a group's role mapping gives its members the role");
    const group = await api("POST", `/${realm}/groups`, { name: "ops" });
    const groupId = group.headers.get("location").split("/").pop();
    await page.goto(`${root}/${realm}/groups/${groupId}`);
    await page.getByRole("link", { name: "Role mapping" }).click();
    await page.getByRole("heading", { name: "Realm roles" }).waitFor();
    await page.locator("form:has(input[value=add]) label", { hasText: /^ ?deployer$/ }).first().click();
    await page.getByRole("button", { name: "Assign selected" }).first().click();
    await expectBanner(page, /1 role assigned to the group/);
    const mapped = await api("GET", `/${realm}/groups/${groupId}/role-mappings/realm`);
    assert.deepEqual(mapped.map((r) => r.name), ["deployer"]);
    await both(pages, `${root}/${realm}/groups/${groupId}/roles`, "07-group-roles");

    step("removing your own admin role asks first");
    const [me] = await api("GET", `/master/users?username=${adminUser}&exact=true`);
    await page.goto(`${root}/master/users/${me.id}/roles`);
    await page.locator("form:has(input[value=remove]) label", { hasText: /^ ?admin$/ }).first().click();
    await page.getByRole("button", { name: "Remove selected" }).first().click();
    await page.getByRole("heading", { name: "Remove your own admin rights?" }).waitFor();
    await shot(page, "08-own-rights-1440");
    await page.getByRole("link", { name: "Cancel" }).click();
    const roles = await api("GET", `/master/users/${me.id}/role-mappings/realm`);
    assert.ok(roles.some((r) => r.name === "admin"), "the admin role is still there");

    step("a partial export downloads, and a file imports part of a realm");
    await page.goto(`${root}/${realm}/settings/transfer`);
    await page.check("#export_groups_and_roles");
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Export" }).click(),
    ]);
    assert.equal(download.suggestedFilename(), "realm-export.json");
    const exported = JSON.parse(readFileSync(await download.path(), "utf8"));
    assert.ok(exported.roles.realm.some((r) => r.name === "deployer"));
    const file = join(artifacts, "partial-import.json");
    writeFileSync(file, JSON.stringify({ roles: { realm: [{ name: "deployer" }, { name: "pusher" }] }, groups: [{ name: "qa" }] }));
    await page.setInputFiles("#json_file", file);
    await page.waitForFunction(() => document.getElementById("json").value.includes("pusher"));
    await page.selectOption("#if_resource_exists", "SKIP");
    await page.getByRole("button", { name: "Import" }).click();
    assert.match(await page.locator("[role=status]").innerText(), /2 added, 1 skipped, 0 overwritten/);
    await shot(page, "09-import-results-1440");
    await both(pages, `${root}/${realm}/settings/transfer`, "09-transfer");

    step("unknown console paths answer the console's 404 page");
    for (const [width, p] of pages) {
      const response = await p.goto(`${root}/${realm}/no-such-page`);
      assert.equal(response.status(), 404);
      await p.getByRole("heading", { name: "Not found" }).waitFor();
      await assertNoOverflow(p, `404 at ${width} px`);
      await shot(p, `10-not-found-${width}`);
    }

    step("a team admin signs in at their realm's console and lands on it");
    const created = await api("POST", `/${realm}/users`, {
      username: lead.name,
      enabled: true,
      credentials: [{ type: "password", value: lead.password, temporary: false }],
    });
    const leadId = created.headers.get("location").split("/").pop();
    const [management] = await api("GET", `/${realm}/clients?clientId=realm-management`);
    await api("POST", `/${realm}/users/${leadId}/role-mappings/clients/${management.id}`, [{ name: "manage-users" }, { name: "view-users" }]);
    const team = await watchedPage(browser, problems, { width: 390, height: 844 });
    await team.goto(`${base}/admin/master/console/signin`);
    await team.fill("#realm", realm);
    await team.getByRole("button", { name: "Go to its sign-in" }).click();
    assert.match(team.url(), new RegExp(`/admin/${realm}/console/signin`));
    await team.fill("#username", lead.name);
    await team.fill("#password", lead.password);
    await team.click("button[type=submit]");
    await team.waitForLoadState("load");
    assert.match(team.url(), new RegExp(`/admin/${realm}/console/${realm}/users$`));
    await assertNoOverflow(team, "team admin's landing at 390 px");
    await shot(team, "11-team-landing-390");
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
