// Telling docker logins apart in real headless Chromium: realm `team` holds two identity
// tokens of `dev`, one from docker and one from skopeo (made by tests/it/console_sessions.rs).
// The admin opens the realm's Sessions page from the sidebar, sees each token's client, times
// to the second, address, user agent and short id, revokes the skopeo one, and finds the
// docker one on dev's own Sessions tab. Screenshots at 1440 and 390 px go to $ARTIFACTS.

import assert from "node:assert/strict";
import { assertNoOverflow, expectBanner, shot, signIn, step, watchedPage, withBrowser } from "./lib.mjs";

const seconds = /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/;

async function main() {
  await withBrowser(async (browser, problems) => {
    const page = await watchedPage(browser, problems, { width: 1440, height: 900 });
    await signIn(page);

    step("the realm's Sessions page is in its navigation");
    await page.getByRole("link", { name: "team" }).first().click();
    await page.getByRole("navigation", { name: "team realm" }).getByRole("link", { name: "Sessions" }).click();
    await page.getByRole("heading", { name: "Sessions", level: 1 }).waitFor();
    await page.getByRole("link", { name: "Tokens" }).click();
    await page.waitForURL(/show=tokens/);

    step("each token shows its client, times to the second, address and user agent");
    const rows = page.locator("table.sessions-table tbody tr");
    assert.equal(await rows.count(), 2);
    const docker = rows.filter({ hasText: "docker/28.2.2" });
    const skopeo = rows.filter({ hasText: "skopeo/1.13.3" });
    for (const row of [docker, skopeo]) {
      const text = await row.innerText();
      assert.match(text, /Docker identity token/);
      assert.match(text, /registry/);
      assert.match(text, /127\.0\.0\.1/);
      assert.match(text, seconds);
      assert.match(text, /\bdev\b/);
    }
    const dockerId = await docker.locator("td").first().locator(".mono").innerText();
    assert.match(dockerId, /^[0-9a-f]{8}$/, "a short token id");
    await assertNoOverflow(page, "the tokens page");
    await shot(page, "01-realm-tokens-1440");

    step("revoking the skopeo login leaves the docker one");
    await skopeo.getByRole("button", { name: /Revoke/ }).click();
    await expectBanner(page, /Token revoked/);
    assert.equal(await rows.count(), 1);
    assert.match(await rows.first().innerText(), /docker\/28\.2\.2/);
    await shot(page, "02-realm-tokens-after-revoke");

    step("dev's own Sessions tab shows the same token");
    await rows.first().getByRole("link", { name: "dev" }).click();
    await page.getByRole("heading", { name: "Tokens" }).waitFor();
    const tab = await page.locator("main").innerText();
    assert.match(tab, new RegExp(dockerId));
    assert.match(tab, seconds);
    await shot(page, "03-user-sessions-1440");

    step("the sign-in sessions tab lists the admin's own console session");
    await page.goto(page.url().replace(/\/team\/users\/.*$/, "/master/sessions"));
    const own = page.locator("table.sessions-table tbody tr").filter({ hasText: "this session" });
    assert.match(await own.innerText(), /security-admin-console/);
    await shot(page, "04-master-sessions-1440");

    step("at 390 px the tables scroll inside their frames");
    const phone = await watchedPage(browser, problems, { width: 390, height: 844 });
    await signIn(phone);
    for (const [path, name] of [["/team/sessions?show=tokens", "05-realm-tokens-390"], ["/master/sessions", "06-master-sessions-390"]]) {
      await phone.goto(page.url().replace(/\/master\/sessions.*$/, path));
      await assertNoOverflow(phone, path);
      await shot(phone, name);
    }
  });
}

await main();
