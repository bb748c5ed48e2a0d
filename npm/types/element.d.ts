// `sg-analytics/element`: importing it defines <sg-analytics-dashboard>, the whole dashboard in
// one custom element. Attributes (read when it is attached): base-url, instance-url, granularity,
// start-date, end-date, module-url, assets-url, sync-url, local-demo.
import type { Info } from "../pkg/sg_analytics.js";
import type { AnalyticsClient } from "./client.js";

/** The element's events, by name. */
export interface SgAnalyticsDashboardEventMap extends HTMLElementEventMap {
  /** An export is shown (fetched or opened); bubbles out of the shadow root. */
  "sg-analytics-loaded": CustomEvent<Info>;
}

export class SgAnalyticsDashboard extends HTMLElement {
  /** The worker helper the element talks to, once attached (null after it is removed). */
  client: AnalyticsClient | null;
  addEventListener<K extends keyof SgAnalyticsDashboardEventMap>(
    type: K,
    listener: (this: SgAnalyticsDashboard, event: SgAnalyticsDashboardEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof SgAnalyticsDashboardEventMap>(
    type: K,
    listener: (this: SgAnalyticsDashboard, event: SgAnalyticsDashboardEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: boolean | EventListenerOptions): void;
}

declare global {
  interface HTMLElementTagNameMap {
    "sg-analytics-dashboard": SgAnalyticsDashboard;
  }
  interface DocumentEventMap {
    /** Bubbles (composed) from any <sg-analytics-dashboard> on the page. */
    "sg-analytics-loaded": CustomEvent<Info>;
  }
}
