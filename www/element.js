// <sg-analytics-dashboard>: the whole dashboard as one custom element, so a portal embeds it with
// one script tag and one element. index.html uses it too.
//
//   <script type="module" src="https://portal.example/sg-analytics/www/element.js"></script>
//   <sg-analytics-dashboard instance-url="example.sourcegraphcloud.com"></sg-analytics-dashboard>
//
// Attributes (all optional, read once when the element connects):
//   base-url      API base URL (default https://analytics.sourcegraph.com; the page's origin when
//                 it is the local server: see local-demo)
//   instance-url  instance to prefill
//   granularity   by_user | by_user_month | by_user_day | by_user_day_client_language
//   start-date, end-date   YYYY-MM-DD to prefill
//   module-url    where pkg/sg_analytics.js lives (default ../pkg/ beside this file)
//   assets-url    where the package's files are served (the folder holding www/ and pkg/), for a
//                 bundler that does not emit them (esbuild); by default the bundler's, or beside
//                 this file
//   sync-url      keep the view in the page's URL hash (index.html sets it; portals usually not)
//   local-demo    ask the page's origin whether it is the project's local server (`cargo xtask
//                 serve`); if it is, its mock or proxy is the default API and the demo is offered
//                 (index.html sets it; a static host answers no)
// Events: `sg-analytics-loaded` (detail: the export's info) bubbles from the element once data is shown.

import { Dashboard, browserStore, browserUrl } from "./app.js";
import { AnalyticsClient } from "./client.js";
import { View } from "./view.js";

// The files beside this one, each named by a `new URL("literal", import.meta.url)`: the form Vite,
// webpack and Rollup recognise, so that a portal's bundler emits them and rewrites these URLs.
// Bundlers that do not (esbuild) leave them relative to the bundle: `assets-url` names where the
// package's files are served instead.
const ASSETS = {
  chart: new URL("./vendor/chart.umd.js", import.meta.url),
  styles: new URL("./styles.css", import.meta.url),
};

/** An asset's URL: under `assets-url` (the package's root: www/ and pkg/ below it) when given. */
function asset(name, assetsUrl) {
  if (!assetsUrl) return ASSETS[name].href;
  return new URL({ chart: "www/vendor/chart.umd.js", styles: "www/styles.css" }[name], assetsUrl).href;
}

/** Chart.js is a classic script (UMD, global `Chart`); load it when the host page did not. */
function ensureChartJs(src) {
  if (typeof globalThis.Chart === "function") return Promise.resolve();
  let script = document.querySelector(`script[data-sg-analytics-chart]`);
  if (!script) {
    script = document.createElement("script");
    script.src = src;
    script.dataset.sgAnalyticsChart = "";
    document.head.append(script);
  }
  return new Promise((resolve) => {
    script.addEventListener("load", resolve, { once: true });
    script.addEventListener("error", resolve, { once: true }); // charts are optional: the rest works
  });
}

/**
 * Whether the page's origin is the project's local server (`cargo xtask serve`, with its mock or
 * its proxy): it answers this path, a static host does not. Asked only with `local-demo`.
 */
async function askLocalServer() {
  try {
    const answer = await fetch(new URL("/.well-known/sg-analytics-local", location.origin), { cache: "no-store", credentials: "omit", redirect: "error", signal: AbortSignal.timeout(3000) });
    if (!answer.ok) return false;
    const { api } = await answer.json();
    return api === "mock" || api === "proxy";
  } catch {
    return false;
  }
}

export class SgAnalyticsDashboard extends HTMLElement {
  async connectedCallback() {
    if (this.dashboard) return;
    const root = this.shadowRoot ?? this.attachShadow({ mode: "open" });
    const attr = (name) => this.getAttribute(name) ?? undefined;
    const assetsUrl = attr("assets-url") ? new URL(attr("assets-url"), location.href) : undefined;
    const [local] = await Promise.all([this.hasAttribute("local-demo") ? askLocalServer() : false, ensureChartJs(asset("chart", assetsUrl))]);
    if (!this.isConnected || this.dashboard) return;
    const view = new View(root, { stylesheet: asset("styles", assetsUrl) });
    const client = new AnalyticsClient({ assetsUrl, moduleUrl: attr("module-url") ? new URL(attr("module-url"), location.href) : undefined });
    this.client = client;
    this.dashboard = new Dashboard({
      view,
      client,
      store: browserStore(),
      url: this.hasAttribute("sync-url") ? browserUrl() : null,
      env: { origin: location.origin, local },
      defaults: {
        baseUrl: attr("base-url"),
        instanceUrl: attr("instance-url"),
        granularity: attr("granularity"),
        startDate: attr("start-date"),
        endDate: attr("end-date"),
      },
      onLoaded: (info) => this.dispatchEvent(new CustomEvent("sg-analytics-loaded", { detail: info, bubbles: true, composed: true })),
    });
    this.view = view;
    this.dashboard.start();
  }

  disconnectedCallback() {
    this.dashboard?.stop();
    this.view?.destroy();
    this.client?.terminate();
    this.dashboard = this.view = this.client = null;
    this.shadowRoot?.replaceChildren();
  }
}

if (!customElements.get("sg-analytics-dashboard")) customElements.define("sg-analytics-dashboard", SgAnalyticsDashboard);
