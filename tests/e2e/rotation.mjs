// Key rotation on the console's Keys page in real headless Chromium: the next key is listed,
// the registries table says which registry must reload, "Rotate now" makes the next key sign,
// and a switch can be scheduled. Screenshots at 1440 and 390 px wide go to $ARTIFACTS; the
// page must fit both widths.
//
// Run by tests/it/console_rotation.rs, which creates the realm $REALM with the docker-v2
// clients "given-registry" (its bundle downloaded) and "unknown-registry" first.

import assert from "node:assert/strict";
import { assertNoOverflow, base, expectBanner, required, shot, signIn, step, watchedPage, withBrowser } from "./lib.mjs";

const realm = required("REALM");
const keysPage = `${base}/admin/master/console/${realm}/settings/keys`;

/** The kid in the keys table's row whose status badge reads `status`. */
async function kidWithStatus(page, status) {
  const row = page.locator("tbody tr", { has: page.locator(`td .badge:text-is("${status}")`) }).first();
  return (await row.locator("td.mono").innerText()).trim();
}

/** The badge of a registry's row. */
async function registryBadge(page, name) {
  const row = page.locator("#registries tbody tr", { has: page.locator(`a:text-is("${name}")`) });
  return (await row.locator(".badge").innerText()).trim();
}

async function main() {
  await withBrowser(async (browser, problems) => {
    const page = await watchedPage(browser, problems, { width: 1440, height: 900 });
    await signIn(page);

    step("the Keys page lists the active and the next key, and the registries");
    await page.goto(keysPage);
    const active = await kidWithStatus(page, "Active");
    const next = await kidWithStatus(page, "Next");
    assert.notEqual(active, next);
    assert.match(await page.locator("#next-switch").innerText(), /when you rotate/);
    assert.equal(await registryBadge(page, "given-registry"), "Ready");
    assert.equal(await registryBadge(page, "unknown-registry"), "Unknown");
    await assertNoOverflow(page, "Keys at 1440 px");
    await shot(page, "01-keys-1440");

    step("Rotate now: the next key signs, the old key stays passive, a new next key appears");
    await page.click("button:text-is('Rotate now')");
    await expectBanner(page, new RegExp(`Rotated: ${next.replaceAll(":", "\\:")} now signs`));
    assert.equal(await kidWithStatus(page, "Active"), next);
    assert.equal(await kidWithStatus(page, "Passive"), active);
    const newNext = await kidWithStatus(page, "Next");
    assert.ok(newNext !== active && newNext !== next);
    assert.equal(await registryBadge(page, "given-registry"), "Reload before the switch");
    assert.match(await page.locator(".banner.warning").innerText(), /1 registry must reload/);
    await assertNoOverflow(page, "Keys after rotation at 1440 px");
    await shot(page, "02-rotated-1440");

    step("a switch is scheduled for tomorrow and shown");
    const tomorrow = new Date(Date.now() + 24 * 3600 * 1000).toISOString().slice(0, 16);
    await page.fill("#switch-at", tomorrow);
    await page.click("button:text-is('Schedule the switch')");
    await expectBanner(page, /The next key becomes active at/);
    assert.match(await page.locator("#next-switch").innerText(), /as scheduled/);
    assert.match(await page.locator("#next-switch").innerText(), new RegExp(tomorrow.slice(0, 10)));
    await shot(page, "03-scheduled-1440");

    step("the page fits a 390 px screen");
    const phone = await watchedPage(browser, problems, { width: 390, height: 844 });
    await signIn(phone);
    await phone.goto(keysPage);
    await assertNoOverflow(phone, "Keys at 390 px");
    await shot(phone, "04-keys-390");
  });
}

await main();
