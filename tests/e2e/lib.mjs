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
