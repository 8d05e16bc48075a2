// Every console page fits a phone and a wide screen: sign in as the master admin, fill a realm
// so that every page has content (lib.mjs seedRealm), then crawl every console page reachable
// by GET links from the console (same-origin /admin/ links only; never sign-out, never a
// form, never a download), and at 390 and 1440 px check each for horizontal overflow and take
// a screenshot ($ARTIFACTS/{width}-{page}.png). Crawling, not a list, so new pages are covered.
//
// Run by tests/it/console_layout.rs against a server it spawns; the environment is described
// in lib.mjs.

import assert from "node:assert/strict";
import { base, horizontalOverflow, seedRealm, shot, signIn, step, watchedPage, withBrowser } from "./lib.mjs";

const realm = "layout-team";
const widths = [390, 1440];
/** At most this many URLs fetched to find links, and this many of one kind of page laid out. */
const MAX_FETCHES = 800;
const MAX_PER_KIND = 2;
/** Kinds of page expected at least (the crawl must not stop early unnoticed). */
const MIN_KINDS = Number(process.env.MIN_KINDS ?? 25);

const uuid = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/** The console links in a page's HTML: same origin, a console path, never sign-out. */
function linksIn(html, pageUrl) {
  const origin = new URL(base).origin;
  const links = [];
  for (const [tag] of html.matchAll(/<a\b[^>]*>/g)) {
    if (/\sdownload[\s=>]/.test(tag)) continue;
    const href = /\shref="([^"]*)"/.exec(tag)?.[1];
    if (!href) continue;
    const url = new URL(href.replaceAll("&amp;", "&"), pageUrl);
    url.hash = "";
    if (url.origin !== origin || !/\/admin\/[^/]+\/console(\/|$)/.test(url.pathname)) continue;
    if (/\/signout$/.test(url.pathname)) continue;
    links.push(url.toString());
  }
  return links;
}

/** A page's kind: its path with ids and the realm it is about left out, and its query's names. */
function kindOf(url) {
  const { pathname, searchParams } = new URL(url);
  const path = pathname.replace(uuid, "{id}").replace(/^(\/admin\/[^/]+\/console\/)[^/]+(?=\/)/, "$1{realm}");
  return `${path}?${[...searchParams.keys()].sort().join("&")}`;
}

/** A file-name-safe slug of a URL's path and query. */
function slug(url) {
  const { pathname, search } = new URL(url);
  const text = `${pathname.replace(/^\/admin\/master\/console\/?/, "")}${search}`.replace(uuid, (id) => id.slice(0, 8)).replace(/[^a-zA-Z0-9]+/g, "-").replace(/^-|-$/g, "");
  return (text || "realms").slice(0, 120);
}

async function main() {
  step(`fill the realm ${realm}`);
  await seedRealm(realm);

  await withBrowser(async (browser, problems) => {
    const pages = {};
    for (const width of widths) {
      pages[width] = await watchedPage(browser, problems, { width, height: 900 });
      await signIn(pages[width]);
    }
    // Find every console URL by following links in the HTML (a cheap GET each), the realm
    // with content first; lay out the first MAX_PER_KIND pages of each kind in both widths.
    const console_ = `${base}/admin/master/console`;
    const queue = [`${console_}/${realm}/`, `${console_}/`];
    const seen = new Set(queue);
    const perKind = new Map();
    const overflowing = [];
    let fetches = 0;
    let visited = 0;
    while (queue.length > 0 && fetches < MAX_FETCHES) {
      const asked = queue.shift();
      fetches += 1;
      // Only HTML pages: a download (a zip, a certificate) is not a page to lay out.
      const response = await pages[1440].request.get(asked);
      const type = response.headers()["content-type"] ?? "";
      if (response.status() !== 200 || !type.startsWith("text/html")) continue;
      // A redirect (the realm's root leads to a tab) is laid out where it ends.
      const url = response.url();
      if (url !== asked) {
        if (seen.has(url)) continue;
        seen.add(url);
      }
      for (const link of linksIn(await response.text(), url)) {
        if (seen.has(link)) continue;
        seen.add(link);
        // The content-filled realm's pages go first.
        if (link.includes(`/console/${realm}/`)) queue.unshift(link);
        else queue.push(link);
      }
      const kind = kindOf(url);
      if ((perKind.get(kind) ?? 0) >= MAX_PER_KIND) continue;
      perKind.set(kind, (perKind.get(kind) ?? 0) + 1);
      visited += 1;
      for (const width of widths) {
        const page = pages[width];
        const shown = await page.goto(url);
        assert.equal(shown.status(), 200, `${url} at ${width} px`);
        const overflow = await horizontalOverflow(page);
        if (overflow > 0) overflowing.push(`${url} is ${overflow} px wider than ${width} px`);
        await shot(page, `${width}-${slug(url)}`);
      }
    }
    step(`${visited} pages of ${perKind.size} kinds checked at ${widths.join(" and ")} px (${fetches} fetched)`);
    assert.ok(perKind.size >= MIN_KINDS, `only ${perKind.size} kinds of page were reached`);
    for (const needed of ["/sessions", "/settings/keys", "/access-policy", "/events/admin"]) {
      assert.ok([...perKind.keys()].some((kind) => kind.split("?")[0].endsWith(needed)), `no page ending ${needed} was laid out`);
    }
    assert.deepEqual(overflowing, [], "pages wider than the screen");
  });
}

await main();
