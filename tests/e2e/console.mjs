// The admin console walkthrough in real headless Chromium: sign in as the master admin,
// create a realm, create a docker-v2 client and restrict it with an access policy, download
// the Docker Compose bundle, create a user and set their password; then that user gets a
// docker registry token. Screenshots of the main pages go to $ARTIFACTS.
//
// Run by tests/it/console_e2e.rs against a server it spawns; the environment is described in
// lib.mjs.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { adminPassword, adminUser, artifacts, base, claims, expectBanner, shot, step, watchedPage, withBrowser } from "./lib.mjs";

const realm = "e2e-team";
const registry = "registry";
const user = { name: "alice", password: "Correct-Horse-9" };

/** The file names in a zip archive, read from its central directory. */
function zipEntries(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let end = bytes.length - 22;
  while (end >= 0 && view.getUint32(end, true) !== 0x06054b50) end -= 1;
  assert.ok(end >= 0, "the download is a zip archive");
  const count = view.getUint16(end + 10, true);
  let offset = view.getUint32(end + 16, true);
  const names = [];
  for (let i = 0; i < count; i += 1) {
    assert.equal(view.getUint32(offset, true), 0x02014b50, "central directory entry");
    const nameLength = view.getUint16(offset + 28, true);
    const extra = view.getUint16(offset + 30, true);
    const comment = view.getUint16(offset + 32, true);
    names.push(new TextDecoder().decode(bytes.subarray(offset + 46, offset + 46 + nameLength)));
    offset += 46 + nameLength + extra + comment;
  }
  return names;
}

async function dockerToken(scope) {
  const url = `${base}/realms/${realm}/protocol/docker-v2/auth?service=${registry}&scope=${encodeURIComponent(scope)}`;
  const basic = Buffer.from(`${user.name}:${user.password}`).toString("base64");
  const response = await fetch(url, { headers: { Authorization: `Basic ${basic}` } });
  assert.equal(response.status, 200, `docker token for ${scope}: ${await response.clone().text()}`);
  return claims((await response.json()).token);
}

async function main() {
  await withBrowser(async (browser, problems) => {
    const page = await watchedPage(browser, problems);

    step("the root leads to the master console's sign-in page");
    await page.goto(`${base}/`);
    assert.match(page.url(), /\/admin\/master\/console\/signin/);
    await shot(page, "01-signin");

    step("a wrong password is refused on the form");
    await page.fill("#username", adminUser);
    await page.fill("#password", "not-the-password");
    await page.click("button[type=submit]");
    assert.match(await page.locator(".banner.error").innerText(), /Invalid username or password/);

    step("the admin signs in");
    await page.fill("#password", adminPassword);
    await page.click("button[type=submit]");
    await page.getByRole("heading", { name: "Realms" }).waitFor();
    await shot(page, "02-realms");

    step("create a realm");
    await page.getByRole("link", { name: "Create realm" }).first().click();
    await page.fill("#name", realm);
    await page.fill("#display_name", "E2E Team");
    await page.getByRole("button", { name: "Create" }).click();
    await expectBanner(page, new RegExp(`Realm ${realm} created`));
    assert.match(page.url(), new RegExp(`/admin/master/console/${realm}/settings$`));
    await shot(page, "03-realm-settings");

    step("switch on saving events, which a new realm does not do");
    await page.getByRole("navigation", { name: "Realm settings" }).getByRole("link", { name: "Events" }).click();
    await page.check("#events_enabled");
    await page.check("#admin_events_enabled");
    await page.getByRole("button", { name: "Save" }).click();
    await expectBanner(page, /settings saved/);
    assert.ok(await page.isChecked("#events_enabled"));
    await shot(page, "03b-realm-events");

    step("create a docker-v2 client");
    await page.getByRole("navigation", { name: `${realm} realm` }).getByRole("link", { name: "Clients" }).click();
    await shot(page, "04-clients");
    await page.getByRole("link", { name: "Create client" }).click();
    await page.selectOption("#protocol", "docker-v2");
    await page.fill("#client_id", registry);
    await page.getByRole("button", { name: "Create" }).click();
    await expectBanner(page, new RegExp(`Client ${registry} created`));
    await shot(page, "05-client-settings");

    step("restrict the registry: each user pulls and pushes under their own name");
    await page.getByRole("link", { name: "Access policy" }).click();
    await page.check("input[name=mode][value=rules]");
    await page.fill("#rule0_repository", "${username}/**");
    await page.selectOption("#rule0_who", "authenticated");
    await page.check("input[name=rule0_pull]");
    await page.check("input[name=rule0_push]");
    await page.getByRole("button", { name: "Save policy" }).click();
    await expectBanner(page, /Access policy saved/);
    assert.equal(await page.inputValue("#rule0_repository"), "${username}/**");
    await shot(page, "06-access-policy");

    step("download the Docker Compose bundle");
    await page.getByRole("link", { name: "Installation" }).click();
    await shot(page, "07-installation");
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.locator('a[href$="/installation/docker-v2-compose-yaml"]').click(),
    ]);
    assert.equal(download.suggestedFilename(), "keycloak-docker-compose-yaml.zip");
    const zipPath = join(artifacts, "keycloak-docker-compose-yaml.zip");
    await download.saveAs(zipPath);
    const entries = zipEntries(readFileSync(zipPath));
    for (const name of ["docker-compose.yaml", "certs/localhost.crt", "certs/localhost.key", "certs/localhost_trust_chain.pem", "README.md"]) {
      assert.ok(entries.includes(`keycloak-docker-compose-yaml/${name}`), `zip holds ${name}: ${entries}`);
    }

    step("create a user and set a password");
    await page.getByRole("navigation", { name: `${realm} realm` }).getByRole("link", { name: "Users" }).click();
    await page.getByRole("link", { name: "Create user" }).click();
    await page.fill("#username", user.name);
    await page.fill("#email", "alice@example.com");
    await page.fill("#first_name", "Alice");
    await page.fill("#last_name", "Liddell");
    await page.getByRole("button", { name: "Create" }).click();
    await expectBanner(page, new RegExp(`User ${user.name} created`));
    await page.fill("#password", user.password);
    await page.fill("#password_confirmation", user.password);
    assert.equal(await page.isChecked("#temporary"), false);
    await page.getByRole("button", { name: "Set password" }).click();
    await expectBanner(page, /Password set/);
    await shot(page, "08-user-credentials");
    await page.getByRole("link", { name: "Details" }).click();
    await shot(page, "09-user-details");

    step("the user gets a docker token, limited by the policy");
    const own = await dockerToken(`repository:${user.name}/app:pull,push`);
    assert.equal(own.sub, user.name);
    assert.deepEqual(own.access, [{ type: "repository", name: `${user.name}/app`, actions: ["pull", "push"] }]);
    const other = await dockerToken("repository:bob/app:pull");
    assert.deepEqual(other.access ?? [], []);

    step("the user's role mapping and sessions tabs");
    await page.getByRole("link", { name: "Role mapping" }).click();
    await page.getByRole("heading", { name: "Realm administration (realm-management)" }).waitFor();
    await shot(page, "16-user-roles");
    await page.getByRole("link", { name: "Sessions & tokens" }).click();
    await shot(page, "17-user-sessions");

    step("groups and realm roles");
    await page.getByRole("navigation", { name: `${realm} realm` }).getByRole("link", { name: "Groups" }).click();
    await page.locator("summary", { hasText: "Create group" }).click();
    await page.fill("#name", "developers");
    await page.getByRole("button", { name: "Create" }).click();
    await expectBanner(page, /Group developers created/);
    await page.fill("#member", user.name);
    await page.getByRole("button", { name: "Add", exact: true }).click();
    await expectBanner(page, new RegExp(`${user.name} added to the group`));
    await shot(page, "18-group");
    await page.getByRole("navigation", { name: `${realm} realm` }).getByRole("link", { name: "Realm roles" }).click();
    await shot(page, "19-roles");

    step("the users list, the events and the keys");
    await page.getByRole("navigation", { name: `${realm} realm` }).getByRole("link", { name: "Users" }).click();
    await page.getByRole("link", { name: user.name, exact: true }).waitFor();
    await shot(page, "10-users");
    await page.getByRole("navigation", { name: `${realm} realm` }).getByRole("link", { name: "Events" }).click();
    await page.getByRole("cell", { name: user.name, exact: true }).first().waitFor();
    await shot(page, "11-events");
    await page.getByRole("link", { name: "Admin events" }).click();
    await shot(page, "12-admin-events");
    await page.getByRole("navigation", { name: `${realm} realm` }).getByRole("link", { name: "Realm settings" }).click();
    await page.getByRole("link", { name: "Keys" }).click();
    await page.getByRole("button", { name: "Rotate now" }).click();
    await expectBanner(page, /Rotated: .* now signs/);
    await shot(page, "13-keys");

    step("the console on a half-screen laptop window");
    await page.setViewportSize({ width: 700, height: 800 });
    await page.goto(`${base}/admin/master/console/${realm}/users`);
    await shot(page, "14-users-narrow");
    await page.setViewportSize({ width: 1280, height: 800 });

    step("delete the realm only after typing its name");
    await page.goto(`${base}/admin/master/console/${realm}/settings/delete`);
    await page.fill("#confirm_name", "wrong");
    await page.getByRole("button", { name: "Delete realm" }).click();
    assert.match(await page.locator(".banner.error").innerText(), /Type the realm's name/);
    await shot(page, "15-delete-realm");

    step("a page that does not exist explains itself");
    await page.goto(`${base}/admin/master/console/no-such-realm/users`);
    assert.match(await page.locator("h1").innerText(), /Not found/);
    await shot(page, "20-not-found");

    step("sign out");
    await page.goto(`${base}/admin/master/console/`);
    await page.getByRole("button", { name: "Sign out" }).click();
    await expectBanner(page, /signed out/);
    await page.goto(`${base}/admin/master/console/`);
    assert.match(page.url(), /\/signin/);
  });
  console.log("the console walkthrough passed");
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
