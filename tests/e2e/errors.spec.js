// Every failure the client reports gets a panel that says what happened and the way out; retries
// recover from transient faults; cancel stops a slow download. Faults come from the mock, chosen
// by the base URL (`/_mock/fault=...`).

import { test, expect } from "@playwright/test";
import net from "node:net";
import { DEMO_TOKEN, connect, mockBase, waitForDashboard } from "./helpers.js";

test.use({ locale: "en-US" });

const panel = (page) => page.locator(".error-panel");

async function expectPanel(page, kind, title) {
  await expect(panel(page)).toBeVisible({ timeout: 45_000 });
  await expect(panel(page)).toHaveAttribute("data-kind", kind);
  await expect(page.locator(".error-title")).toHaveText(title);
  await expect(page.locator(".error-message")).not.toBeEmpty();
  // One next step, visible; the engineer's detail folded away.
  await expect(page.locator(".error-next")).toBeVisible();
  await expect(page.locator(".error-next")).toContainText(/^Next: ./);
  await expect(page.locator(".error-detail")).not.toHaveAttribute("open", "");
  // The secret never shows up in what the page tells the user.
  expect(await panel(page).textContent()).not.toContain(DEMO_TOKEN);
  await expect(page.locator(".progress")).toBeHidden();
  await expect(page.getByRole("button", { name: "Load usage" })).toBeEnabled();
}

async function closedPort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test.beforeEach(async ({ page }) => {
  await page.goto("/");
});

test("a rejected token (401) says so", async ({ page, baseURL }) => {
  await connect(page, { base: mockBase(baseURL, "users=5;days=5"), token: "not-the-right-token", expectLoaded: false });
  await expectPanel(page, "unauthorized", "The token was rejected");
  expect(await panel(page).textContent()).not.toContain("not-the-right-token");
});

test("a 401 from a gateway says so", async ({ page, baseURL }) => {
  await connect(page, { base: mockBase(baseURL, "fault=401"), expectLoaded: false });
  await expectPanel(page, "unauthorized", "The token was rejected");
});

for (const status of [403, 404]) {
  test(`no access to the instance (${status}) says so`, async ({ page, baseURL }) => {
    await connect(page, { base: mockBase(baseURL, `fault=${status}`), expectLoaded: false });
    await expectPanel(page, "forbidden", "No access to this instance");
    await expect(page.locator(".error-next")).toContainText("instance URL");
  });
}

test("a rate limit (429) is retried and then loads", async ({ page, baseURL }) => {
  const base = mockBase(baseURL, "users=6;days=6;fault=429;times=1;retryAfter=1");
  await connect(page, { base, expectLoaded: false });
  await waitForDashboard(page);
  await expect(panel(page)).toBeHidden();
  const { hits } = await (await page.request.get(`${base}/_hits`)).json();
  expect(hits).toBeGreaterThanOrEqual(2); // the refused request, the retry (and the registry)
});

test("a server error that persists (500) ends in a panel after retries", async ({ page, baseURL }) => {
  test.setTimeout(90_000);
  const base = mockBase(baseURL, "fault=500");
  await connect(page, { base, expectLoaded: false });
  await expectPanel(page, "server", "Sourcegraph Analytics is not answering properly");
  const { hits } = await (await page.request.get(`${base}/_hits`)).json();
  expect(hits).toBeGreaterThan(1);
});

test("a body cut short says so and keeps nothing", async ({ page, baseURL }) => {
  await connect(page, { base: mockBase(baseURL, "users=30;days=60;fault=cut"), expectLoaded: false });
  await expectPanel(page, "cut", "The download was cut short");
  await expect(page.locator(".dashboard")).toBeHidden();
});

test("an export too large for the page is refused before it is read, and the page stays usable", async ({ page, baseURL }) => {
  // The mock announces Content-Length: 40000000000.
  await connect(page, { base: mockBase(baseURL, "users=30;days=60;fault=huge"), expectLoaded: false });
  await expectPanel(page, "too-large", "This export is too large to open in the page");
  const message = page.locator(".error-message");
  await expect(message).toContainText("40 GB");
  await expect(message).toContainText("Nothing was read");
  await expect(message).toContainText("sg-analytics fetch");
  await expect(page.locator(".error-next")).toContainText("coarser granularity");
  await expect(page.locator(".dashboard")).toBeHidden();
  // The same page (and worker) loads the next export.
  await connect(page, { base: mockBase(baseURL, "users=5;days=5") });
  await expect(panel(page)).toBeHidden();
});

for (const [fault, says] of [
  ["nodates", "ignored startDate and endDate"],
  ["empty", "came back empty"],
]) {
  test(`a month window from a lying server (${fault}) is refused, never a partial or multiplied report`, async ({ page, baseURL }) => {
    test.setTimeout(90_000);
    const base = mockBase(baseURL, `users=5;days=60;fault=${fault}`);
    await connect(page, { base, startDate: "2025-01-01", endDate: "2025-02-28", monthWindows: true, expectLoaded: false });
    await expectPanel(page, "window", "A month of the export did not match what was asked");
    await expect(page.locator(".error-message")).toContainText(says);
    await expect(page.locator(".dashboard")).toBeHidden();
    const { hits } = await (await page.request.get(`${base}/_hits`)).json();
    expect(hits).toBeGreaterThan(1); // the window was fetched again before giving up
  });
}

test("an HTML login page instead of CSV says so", async ({ page, baseURL }) => {
  await connect(page, { base: mockBase(baseURL, "fault=html"), expectLoaded: false });
  await expectPanel(page, "not-csv", "The answer was not a usage export");
});

test("a refused connection explains the ways out, with a curl command", async ({ page }) => {
  const port = await closedPort();
  await connect(page, { base: `http://127.0.0.1:${port}`, expectLoaded: false });
  await expectPanel(page, "network", "The page could not reach Sourcegraph Analytics");
  // Regression: the panel said the same thing four times and told a manager to run `cargo xtask
  // serve --proxy`. Now: one sentence, one step (the command to download), the proxy folded away.
  await expect(page.locator(".error-message")).toHaveText("Your browser could not connect to the Analytics API from this page.");
  await expect(page.locator(".error-next")).toContainText("Download the export with the command below");
  await expect(page.locator(".error-hints")).toBeHidden();
  expect(await panel(page).innerText()).not.toContain("cargo xtask");
  await page.locator(".error-detail > summary").click();
  await expect(page.locator(".error-hints")).toContainText("cargo xtask serve --proxy");
  const command = page.locator(".error-command");
  await expect(command).toBeVisible();
  await expect(command).toContainText("curl");
  await expect(command).toContainText("instanceURL=demo.sourcegraph.local");
  await expect(command).toContainText("$SG_ANALYTICS_TOKEN");
});

test("a plain-http base URL on another host is refused before any request", async ({ page }) => {
  const requests = [];
  page.on("request", (request) => requests.push(request.url()));
  await connect(page, { base: "http://analytics.example.com", expectLoaded: false });
  await expect(panel(page)).toHaveAttribute("data-kind", "input");
  await expect(page.locator(".error-title")).toHaveText("The API base URL is not allowed");
  expect(requests.filter((url) => url.includes("example.com"))).toEqual([]);
});

test("a slow download shows its progress in MB and rows", async ({ page, baseURL }) => {
  await connect(page, { base: mockBase(baseURL, "users=60;days=120;fault=slow;delayMs=100;chunk=4096"), expectLoaded: false });
  await expect(page.locator(".progress")).toBeVisible();
  await expect(page.locator(".progress-detail")).toContainText(/MB · [1-9][\d,]* rows/);
  await page.locator(".progress").getByRole("button", { name: "Cancel" }).click();
  await expect(page.locator(".progress")).toBeHidden();
});

test("cancel stops a slow download", async ({ page, baseURL }) => {
  const base = mockBase(baseURL, "users=60;days=120;fault=slow;delayMs=250;chunk=2048");
  await connect(page, { base, expectLoaded: false });
  const progress = page.locator(".progress");
  await expect(progress).toBeVisible();
  // Cancel once the body is streaming (the mock has answered the request).
  await expect.poll(async () => (await (await page.request.get(`${base}/_hits`)).json()).hits).toBeGreaterThan(0);
  await page.waitForTimeout(500);
  await progress.getByRole("button", { name: "Cancel" }).click();
  await expect(progress).toBeHidden();
  await expect(page.locator(".status")).toContainText("Cancelled");
  await expect(panel(page)).toBeHidden();
  await expect(page.locator(".dashboard")).toBeHidden();
  await expect(page.getByRole("button", { name: "Load usage" })).toBeEnabled();
  // Nothing was fetched after the cancel: no registry request followed.
  await page.waitForTimeout(500);
  expect((await (await page.request.get(`${base}/_hits`)).json()).hits).toBe(1);
});
