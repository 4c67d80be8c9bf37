// The dashboard in headless Chromium, against a server that is already
// running with the demo township (tests/browser/run starts one).
//
//   BASE_URL=http://127.0.0.1:8080 node tests/browser/dashboard.mjs
//
// Signs in as the demo admin through the page, compares the cards with the
// API's figures, checks the charts drew, submits a visit through the API as a
// demo member and waits for the page to count it. Exits non-zero on failure.

import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { chromium } from "playwright-core";

const BASE_URL = (process.env.BASE_URL || "http://127.0.0.1:8080").replace(/\/$/, "");
const SCREENSHOT = process.env.SCREENSHOT || "target/browser/dashboard.png";
const ADMIN = { phone: "13800000000", password: "xianfeng-demo" };
const MEMBER = { phone: "13800000101", password: "xianfeng-demo" };
const POLL_WAIT_MS = 12_000;

// ---- the API, as the test's own client ----

async function api(method, path, { token, body, headers } = {}) {
  const res = await fetch(BASE_URL + path, {
    method,
    headers: {
      ...(body ? { "Content-Type": "application/json" } : {}),
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  const json = text ? JSON.parse(text) : null;
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${text}`);
  return json;
}

const login = async (who) => (await api("POST", "/api/v1/auth/login", { body: who })).access_token;

// ---- a tiny runner: named checks, in order, stopping at the first failure ----

let passed = 0;
let failed = 0;

async function check(name, fn) {
  const started = Date.now();
  try {
    await fn();
    passed++;
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (err) {
    failed++;
    console.log(`FAIL ${name}: ${err && err.stack ? err.stack : err}`);
    throw err;
  }
}

function assertEqual(actual, expected, what) {
  if (actual !== expected) {
    throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

const digits = (text) => text.replace(/[^\d.%]/g, "");

// ---- the run ----

const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});

const problems = [];
const statsAnswers = []; // [{status, revalidating}] of /api/v1/stats/overview

let expect401 = false; // while a 401 is forced on purpose, its console line is expected

function watch(page) {
  page.on("pageerror", (err) => problems.push(`page error: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() !== "error") return;
    if (expect401 && /status of 401/.test(msg.text())) return;
    problems.push(`console error: ${msg.text()}`);
  });
}

let exitCode = 0;
const t0 = Date.now();
try {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: "zh-CN" });
  const page = await context.newPage();
  watch(page);
  page.on("response", (res) => {
    if (new URL(res.url()).pathname === "/api/v1/stats/overview") {
      statsAnswers.push({
        status: res.status(),
        revalidating: Boolean(res.request().headers()["if-none-match"]),
      });
    }
  });

  const visitsValue = page.locator('[data-card="visits"] .value');

  await check("the page loads and signs in the demo admin", async () => {
    const res = await page.goto(`${BASE_URL}/dashboard`);
    assertEqual(res.status(), 200, "GET /dashboard");
    await page.locator("#phone").fill(ADMIN.phone);
    await page.locator("#password").fill(ADMIN.password);
    await page.locator("#login-submit").click();
    await page.locator("#board").waitFor({ state: "visible", timeout: 10_000 });
    await visitsValue.and(page.locator("[data-value]")).waitFor({ timeout: 10_000 });
  });

  const adminToken = await login(ADMIN);
  const overview = await api("GET", "/api/v1/stats/overview", { token: adminToken });

  await check("the cards show the API's figures", async () => {
    const cards = {
      members: overview.members,
      households: overview.households,
      visits: overview.visits.total,
      pending: overview.pending_reviews,
      mediation: overview.mediation.total,
      pledges: overview.pledges.total,
      rectifications: overview.rectifications.open,
    };
    for (const [card, expected] of Object.entries(cards)) {
      const value = page.locator(`[data-card="${card}"] .value`);
      assertEqual(await value.getAttribute("data-value"), String(expected), `${card} card's value`);
      assertEqual(digits(await value.innerText()), String(expected), `${card} card's text`);
    }
    const coverage = await page.locator('[data-card="coverage"] .value').innerText();
    assertEqual(coverage, `${(overview.visit_coverage * 100).toFixed(1)}%`, "coverage card");
    const mediationSub = await page.locator('[data-card="mediation"] .sub').innerText();
    const rate = `${(overview.mediation.resolution_rate * 100).toFixed(1)}%`;
    if (!mediationSub.includes(rate)) throw new Error(`mediation card "${mediationSub}" lacks ${rate}`);
  });

  await check("the branch table lists every branch, worst first", async () => {
    const rows = await api("GET", "/api/v1/stats/branches", { token: adminToken });
    const names = await page.locator("#branches tbody tr td:first-child").allInnerTexts();
    assertEqual(JSON.stringify(names), JSON.stringify(rows.items.map((r) => r.name)), "branch rows");
  });

  await check("the charts rendered onto canvases", async () => {
    for (const id of ["chart-weekly", "chart-kinds"]) {
      const canvas = page.locator(`#${id} canvas`).first();
      await canvas.waitFor({ timeout: 5_000 });
      const box = await canvas.boundingBox();
      if (!box || box.width < 50 || box.height < 50) {
        throw new Error(`#${id} canvas is ${JSON.stringify(box)}`);
      }
    }
  });

  await check("pending reviews are listed with their age", async () => {
    const queue = await api("GET", "/api/v1/reviews?status=pending&limit=50", { token: adminToken });
    const items = page.locator("#reviews li:not(.empty)");
    assertEqual(await items.count(), queue.items.length, "listed reviews");
    if (queue.items.length) {
      const first = await items.first().innerText();
      if (!first.includes(queue.items[0].title) || !first.includes("等待")) {
        throw new Error(`first review reads "${first}"`);
      }
    }
  });

  const before = overview.visits.total;
  let waitedMs = 0;
  await check("a visit submitted through the API appears within one polling period", async () => {
    const memberToken = await login(MEMBER);
    const households = await api("GET", "/api/v1/me/households", { token: memberToken });
    if (!households.items.length) throw new Error("the demo member has no households");
    await api("POST", "/api/v1/visits", {
      token: memberToken,
      headers: { "Idempotency-Key": randomUUID() },
      body: {
        household_id: households.items[0].id,
        kind: "assistance",
        visited_at: new Date().toISOString(),
        location: { lat: 30.27, lng: 120.15 },
        summary: "浏览器测试走访",
      },
    });
    const submitted = Date.now();
    await page.waitForFunction(
      (expected) =>
        document.querySelector('[data-card="visits"] .value')?.getAttribute("data-value") === expected,
      String(before + 1),
      { timeout: POLL_WAIT_MS, polling: 100 },
    );
    waitedMs = Date.now() - submitted;
    console.log(`     visits card went ${before} → ${before + 1} in ${waitedMs} ms`);
  });

  await check("polls revalidate with If-None-Match and keep the data on 304", async () => {
    const deadline = Date.now() + POLL_WAIT_MS;
    while (!statsAnswers.some((a) => a.status === 304) && Date.now() < deadline) {
      await page.waitForTimeout(250);
    }
    if (!statsAnswers.some((a) => a.status === 304 && a.revalidating)) {
      throw new Error(`no 304 among ${JSON.stringify(statsAnswers)}`);
    }
    await page.waitForTimeout(500);
    assertEqual(await visitsValue.getAttribute("data-value"), String(before + 1), "visits card after a 304");
    const stamp = await page.locator("#stamp").innerText();
    if (!/最后更新：\d\d:\d\d:\d\d/.test(stamp)) throw new Error(`stamp reads "${stamp}"`);
  });

  await check("a 401 is answered by one token refresh and a retry", async () => {
    const refreshes = [];
    const onResponse = (res) => {
      if (new URL(res.url()).pathname === "/api/v1/auth/refresh") refreshes.push(res.status());
    };
    page.on("response", onResponse);
    const tokenBefore = await page.evaluate(() => sessionStorage.getItem("xianfeng.dashboard.session"));
    let forced = 0;
    let passedOn = 0;
    expect401 = true;
    await page.route("**/api/v1/stats/overview", async (route) => {
      if (forced++ === 0) {
        await route.fulfill({
          status: 401,
          contentType: "application/json",
          body: JSON.stringify({ error: { code: "unauthenticated", message: "登录已过期", details: [] } }),
        });
      } else {
        passedOn++;
        await route.continue();
      }
    });
    const deadline = Date.now() + POLL_WAIT_MS;
    while (!(refreshes.length && passedOn) && Date.now() < deadline) await page.waitForTimeout(100);
    await page.unroute("**/api/v1/stats/overview");
    page.off("response", onResponse);
    expect401 = false;
    assertEqual(JSON.stringify(refreshes), "[200]", "refresh answers");
    if (!passedOn) throw new Error("the request was not retried after the refresh");
    if (!(await page.locator("#board").isVisible())) throw new Error("the page signed out");
    const tokenAfter = await page.evaluate(() => sessionStorage.getItem("xianfeng.dashboard.session"));
    if (tokenAfter === tokenBefore) throw new Error("sessionStorage still holds the old tokens");
  });

  mkdirSync(dirname(SCREENSHOT), { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  console.log(`     screenshot: ${SCREENSHOT}`);

  await check("on a phone the page fits the screen's width", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    if (overflow > 0) throw new Error(`the page is ${overflow}px wider than the screen`);
    await page.screenshot({ path: SCREENSHOT.replace(/\.png$/, "-phone.png"), fullPage: true });
  });

  await check("a member who signs in is told the dashboard is not for them", async () => {
    const other = await context.browser().newContext({ viewport: { width: 1366, height: 768 } });
    const memberPage = await other.newPage();
    watch(memberPage);
    await memberPage.goto(`${BASE_URL}/dashboard`);
    await memberPage.locator("#phone").fill(MEMBER.phone);
    await memberPage.locator("#password").fill(MEMBER.password);
    await memberPage.locator("#login-submit").click();
    const error = memberPage.locator("#login-error");
    await error.waitFor({ state: "visible", timeout: 10_000 });
    const text = await error.innerText();
    if (!text.includes("支部书记")) throw new Error(`the message reads "${text}"`);
    if (await memberPage.locator("#board").isVisible()) throw new Error("the board is shown to a member");
    await other.close();
  });

  await check("no script errors or blocked resources", async () => {
    if (problems.length) throw new Error(problems.join("\n"));
  });
} catch (err) {
  exitCode = 1;
  if (!failed) {
    failed++;
    console.log(`FAIL setup: ${err && err.stack ? err.stack : err}`);
  }
} finally {
  await browser.close();
}

console.log(`\nbrowser tests took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(exitCode);
