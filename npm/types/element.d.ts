// `sg-analytics/element`: importing it defines <sg-analytics-dashboard>, the whole dashboard in
// one custom element (attributes: base-url, instance-url, granularity, start-date, end-date,
// module-url, sync-url; event: sg-analytics-loaded with the export's info as detail).
export class SgAnalyticsDashboard extends HTMLElement {}

declare global {
  interface HTMLElementTagNameMap {
    "sg-analytics-dashboard": SgAnalyticsDashboard;
  }
}
