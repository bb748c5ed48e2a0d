// <sg-analytics-dashboard>: the whole dashboard as one custom element, so a portal embeds it with
// one script tag and one element. index.html uses it too.
//
//   <script type="module" src="https://portal.example/sg-analytics/www/element.js"></script>
//   <sg-analytics-dashboard instance-url="example.sourcegraphcloud.com"></sg-analytics-dashboard>
//
// Attributes (all optional, read once when the element connects):
//   base-url      API base URL (default https://analytics.sourcegraph.com; the page's origin when
//                 served from localhost)
//   instance-url  instance to prefill
//   granularity   by_user | by_user_month | by_user_day | by_user_day_client_language
//   start-date, end-date   YYYY-MM-DD to prefill
//   module-url    where pkg/sg_analytics.js lives (default ../pkg/ beside this file)
//   sync-url      keep the view in the page's URL hash (index.html sets it; portals usually not)
// Events: `sg-analytics-loaded` (detail: the export's info) bubbles from the element once data is shown.

import { Dashboard, browserStore, browserUrl } from "./app.js";
import { AnalyticsClient } from "./client.js";
import { View } from "./view.js";

const here = (path) => new URL(path, import.meta.url).href;

/** Chart.js is a classic script (UMD, global `Chart`); load it when the host page did not. */
function ensureChartJs() {
  if (typeof globalThis.Chart === "function") return Promise.resolve();
  const src = here("./vendor/chart.umd.js");
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

export class SgAnalyticsDashboard extends HTMLElement {
  async connectedCallback() {
    if (this.dashboard) return;
    const root = this.shadowRoot ?? this.attachShadow({ mode: "open" });
    await ensureChartJs();
    if (!this.isConnected || this.dashboard) return;
    const attr = (name) => this.getAttribute(name) ?? undefined;
    const view = new View(root, { stylesheet: here("./styles.css") });
    const client = new AnalyticsClient({ moduleUrl: attr("module-url") ? new URL(attr("module-url"), location.href) : undefined });
    this.client = client;
    this.dashboard = new Dashboard({
      view,
      client,
      store: browserStore(),
      url: this.hasAttribute("sync-url") ? browserUrl() : null,
      env: { origin: location.origin, hostname: location.hostname },
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
