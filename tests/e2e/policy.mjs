// The access policy editor in real headless Chromium: add rules with "Add rule" (no page
// load), remove one, choose deny and an address, watch fields that do not apply disappear,
// save, read a field error in the form's words, and ask the tester which rule decided.
// At 1440 and 390 px wide, the page must fit the screen. Screenshots go to $ARTIFACTS.
//
// Run by tests/it/policy_rules.rs, which creates realm `team` with docker-v2 client
// `registry` (internal id in $CLIENT), role `dev` and user `alice`; see lib.mjs for the rest.

import assert from "node:assert/strict";
import { assertNoOverflow, base, expectBanner, required, shot, signIn, step, watchedPage, withBrowser } from "./lib.mjs";

const client = required("CLIENT");
const policyUrl = `${base}/admin/master/console/team/clients/${client}/access-policy`;

async function cards(page) {
  return page.locator(".rule-card").count();
}

await withBrowser(async (browser, problems) => {
  const page = await watchedPage(browser, problems, { width: 1440, height: 900 });
  await signIn(page);
  await page.goto(policyUrl);

  step("one rule to fill in; fields that do not apply are hidden");
  assert.equal(await cards(page), 1);
  await page.check("input[name=mode][value=rules]");
  await page.fill("#rule0_repository", "**");
  await page.check("input[name=rule0_pull]");
  await page.check("input[name=rule0_push]");
  assert.equal(await page.isVisible("#rule0_name"), false, "no name for any signed-in user");
  await page.selectOption("#rule0_who", "role");
  assert.equal(await page.isVisible("#rule0_name"), true, "a role needs its name");
  await page.selectOption("#rule0_who", "anonymous");
  assert.equal(await page.isVisible("#rule0_attributes"), false, "anonymous has no attributes");
  await page.selectOption("#rule0_who", "authenticated");

  step("Add rule adds a card in the page");
  const before = page.url();
  await page.getByRole("button", { name: "Add rule" }).click();
  assert.equal(await cards(page), 2);
  assert.equal(page.url(), before, "no page load");
  await page.selectOption("#rule1_effect", "deny");
  await page.fill("#rule1_repository", "prod/**");
  await page.check("input[name=rule1_push]");
  assert.match(await page.locator(".rule-card").nth(1).getAttribute("class"), /deny/);

  step("a catalog rule hides the pattern; Remove takes the rule out");
  await page.getByRole("button", { name: "Add rule" }).click();
  await page.selectOption("#rule2_target", "catalog");
  assert.equal(await page.isVisible("#rule2_repository"), false);
  await page.getByRole("button", { name: "Remove rule 3" }).click();
  assert.equal(await cards(page), 2);

  step("an address rule for anonymous pulls");
  await page.getByRole("button", { name: "Add rule" }).click();
  await page.fill("#rule3_repository", "library/*");
  await page.selectOption("#rule3_who", "anonymous");
  await page.check("input[name=rule3_pull]");
  await page.fill("#rule3_ip", "127.0.0.1, ::1");
  assert.equal(await page.locator("[data-rule-number]").nth(2).innerText(), "3", "renumbered");
  await shot(page, "01-editing-1440");

  step("save");
  await page.getByRole("button", { name: "Save policy" }).click();
  await expectBanner(page, /Access policy saved/);
  assert.equal(await cards(page), 3);
  assert.equal(await page.inputValue("#rule2_ip"), "127.0.0.1, ::1");
  assert.equal(await page.inputValue("#rule1_effect"), "deny");
  await assertNoOverflow(page, "the saved policy");
  await shot(page, "02-saved-1440");

  step("the tester names the rule that decided");
  await page.fill("#test_user", "alice");
  await page.fill("#test_scope", "repository:prod/app:pull,push");
  await page.getByRole("button", { name: "Test" }).click();
  const answer = page.locator(".tester-answer");
  await answer.waitFor();
  assert.match(await answer.innerText(), /pull: granted by rule 1/);
  assert.match(await answer.innerText(), /push: denied by rule 2/);
  assert.match(await answer.innerText(), /realm roles: .*dev/);
  await shot(page, "03-tester-1440");

  await page.fill("#test_user", "");
  await page.fill("#test_scope", "library/alpine");
  await page.fill("#test_address", "192.0.2.1");
  await page.getByRole("button", { name: "Test" }).click();
  await page.locator(".tester-answer").waitFor();
  assert.match(await page.locator(".tester-answer").innerText(), /pull: not granted/);
  await page.fill("#test_address", "127.0.0.1");
  await page.getByRole("button", { name: "Test" }).click();
  await page.locator(".tester-answer").waitFor();
  assert.match(await page.locator(".tester-answer").innerText(), /pull: granted by rule 3/);

  step("a bad address is named as the form names it");
  await page.fill("#rule2_ip", "10.0.0.0/33");
  await page.getByRole("button", { name: "Save policy" }).click();
  const error = page.locator(".rule-card .field-error");
  await error.waitFor();
  assert.match(await error.innerText(), /^⚠?\s*Rule 3 · From addresses: /);
  assert.doesNotMatch(await error.innerText(), /'who'|ip:/);
  await shot(page, "04-error-1440");

  step("390 px: the editor and the tester fit the screen");
  const phone = await watchedPage(browser, problems, { width: 390, height: 844 });
  await signIn(phone);
  await phone.goto(`${policyUrl}?test_user=alice&test_scope=${encodeURIComponent("repository:prod/app:pull,push")}`);
  await phone.locator(".tester-answer").waitFor();
  await assertNoOverflow(phone, "the access policy at 390 px");
  await shot(phone, "05-policy-390");
  await phone.getByRole("button", { name: "Add rule" }).click();
  assert.equal(await phone.locator(".rule-card").count(), 4);
  await assertNoOverflow(phone, "the access policy with a new rule at 390 px");
  await shot(phone, "06-added-390");
});
