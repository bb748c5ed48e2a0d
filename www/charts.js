// A thin wrapper over Chart.js (the vendored UMD build, global `Chart`): one chart per name, updated
// in place, coloured from the page's CSS variables so light and dark mode both read well.

import { formatCompact } from "./format.js";

const reducedMotion = () => globalThis.matchMedia?.("(prefers-reduced-motion: reduce)").matches ?? false;

/** Reads the theme from CSS custom properties on the canvas (they inherit into shadow roots). */
export function theme(canvas) {
  const style = getComputedStyle(canvas);
  const read = (name, fallback) => style.getPropertyValue(name).trim() || fallback;
  return {
    text: read("--sga-muted", "#5b6170"),
    grid: read("--sga-grid", "rgba(127,127,127,0.2)"),
    series: [read("--sga-chart-1", "#3b6cf6"), read("--sga-chart-2", "#0ea5a4"), read("--sga-chart-3", "#f59e0b")],
    negative: read("--sga-danger", "#b42318"),
    line: read("--sga-text", "#1b1f2c"),
    font: read("--sga-font", "system-ui, sans-serif"),
  };
}

/** How each spec type maps onto a Chart.js config. */
function config(spec, colors) {
  const horizontal = Boolean(spec.horizontal);
  const color = spec.color === "negative" ? colors.negative : (colors.series[spec.color ?? 0] ?? colors.series[0]);
  // A constant line to read the series against (the quick ratio's 1), named in the legend.
  const reference = spec.reference
    ? [{ type: "line", label: spec.reference.label, data: spec.labels.map(() => spec.reference.value), borderColor: colors.text, borderDash: [6, 4], borderWidth: 1.5, pointRadius: 0, fill: false, tension: 0 }]
    : [];
  const format = spec.format ?? formatCompact;
  const valueAxis = {
    beginAtZero: true,
    grid: { color: colors.grid },
    ticks: { color: colors.text, callback: (value) => format(value) },
  };
  const labelAxis = {
    grid: { display: false },
    ticks: { color: colors.text, autoSkip: true, maxRotation: 0 },
  };
  return {
    type: spec.type ?? "bar",
    data: {
      labels: spec.labels,
      datasets: [
        {
          label: spec.label,
          data: spec.values,
          backgroundColor: spec.type === "line" ? `${color}33` : color,
          borderColor: color,
          borderWidth: spec.type === "line" ? 2 : 0,
          borderRadius: spec.type === "line" ? 0 : 4,
          maxBarThickness: 28,
          pointRadius: spec.values.length > 60 ? 0 : 2,
          fill: spec.type === "line" && !spec.reference,
          tension: 0.25,
          spanGaps: false,
        },
        ...reference,
      ],
    },
    options: {
      indexAxis: horizontal ? "y" : "x",
      responsive: true,
      maintainAspectRatio: false,
      animation: reducedMotion() ? false : { duration: 250 },
      font: { family: colors.font },
      plugins: {
        legend: { display: Boolean(spec.reference), labels: { color: colors.text } },
        tooltip: { callbacks: { label: (item) => `${spec.label}: ${format(item.raw)}` } },
      },
      scales: horizontal ? { x: valueAxis, y: labelAxis } : { x: labelAxis, y: valueAxis },
    },
  };
}

export class Charts {
  constructor() {
    this.charts = new Map();
  }

  /** True when Chart.js is loaded. */
  get available() {
    return typeof globalThis.Chart === "function";
  }

  /**
   * Draws (or redraws) chart `name` on `canvas` from `{type, labels, values, label, horizontal,
   * format, color}`. Labels go to Chart.js as data, which draws them on the canvas as text.
   * `colors` is the theme read once for a batch of charts (reading it makes the browser bring its
   * styles up to date, which after other changes to the page costs a full style pass each time).
   */
  draw(name, canvas, spec, colors = theme(canvas)) {
    if (!this.available) return false;
    const cfg = config(spec, colors);
    const existing = this.charts.get(name);
    if (existing && existing.canvas === canvas && existing.config.type === cfg.type) {
      existing.data = cfg.data;
      existing.options = cfg.options;
      existing.update();
      return true;
    }
    existing?.destroy();
    this.charts.set(name, new globalThis.Chart(canvas, cfg));
    return true;
  }

  remove(name) {
    this.charts.get(name)?.destroy();
    this.charts.delete(name);
  }

  removeAll() {
    for (const name of [...this.charts.keys()]) this.remove(name);
  }
}
