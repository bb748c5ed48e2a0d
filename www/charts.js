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
    series: [read("--sga-chart-1", "#3b6cf6"), read("--sga-chart-2", "#0ea5a4"), read("--sga-chart-3", "#f59e0b"), read("--sga-chart-4", "#db2777")],
    negative: read("--sga-danger", "#b42318"),
    line: read("--sga-text", "#1b1f2c"),
    font: read("--sga-font", "system-ui, sans-serif"),
    surface: read("--sga-surface", "#ffffff"),
  };
}

/** Diagonal hatching in `color` over a light wash of it: how a partial period's bar is drawn. */
function hatch(color) {
  const tile = document.createElement("canvas");
  tile.width = tile.height = 8;
  const g = tile.getContext("2d");
  g.fillStyle = `${color}30`;
  g.fillRect(0, 0, 8, 8);
  g.strokeStyle = color;
  g.lineWidth = 1.5;
  g.beginPath();
  for (const [x0, y0, x1, y1] of [[0, 8, 8, 0], [-4, 4, 4, -4], [4, 12, 12, 4]]) {
    g.moveTo(x0, y0);
    g.lineTo(x1, y1);
  }
  g.stroke();
  return g.createPattern(tile, "repeat");
}

/**
 * One Chart.js dataset of a spec's series. `partial[i]` (a period the range covers only in part):
 * the bar is hatched, the line dashed into and out of the point, the point hollow. `small[i]` (a
 * rate on a small sample): the point is a larger triangle.
 */
function dataset(spec, { label, values, color: colorIndex }, colors) {
  const color = colorIndex === "negative" ? colors.negative : (colors.series[colorIndex ?? 0] ?? colors.series[0]);
  const line = spec.type === "line";
  const partial = spec.partial ?? [];
  const small = spec.small ?? [];
  const each = (yes, no) => (partial.some(Boolean) || small.some(Boolean) ? values.map((_, i) => yes(i) ?? no) : no);
  const base = {
    label,
    data: values,
    borderColor: color,
    borderWidth: line ? 2 : 0,
    borderRadius: line ? 0 : 4,
    maxBarThickness: 28,
    // Several counts on one chart: straight segments, so no curve dips below zero between them.
    tension: spec.series ? 0 : 0.25,
    spanGaps: false,
  };
  if (!line) return { ...base, backgroundColor: each((i) => (partial[i] ? hatch(color) : undefined), color), borderWidth: each((i) => (partial[i] ? 1 : undefined), 0) };
  return {
    ...base,
    backgroundColor: `${color}33`,
    fill: !spec.reference && !spec.series,
    pointRadius: each((i) => (small[i] ? 5 : undefined), values.length > 60 ? 0 : 2),
    pointStyle: each((i) => (small[i] ? "triangle" : undefined), "circle"),
    pointBackgroundColor: each((i) => (partial[i] ? colors.surface : undefined), color),
    // Given a segment style, Chart.js resolves it for every segment of the line on each update
    // (1.5 of the 3 ms a year's weekly line takes): only a line with a partial period has one.
    ...(partial.some(Boolean) ? { segment: { borderDash: (ctx) => (partial[ctx.p0DataIndex] || partial[ctx.p1DataIndex] ? [5, 4] : undefined) } } : {}),
  };
}

/** How each spec type maps onto a Chart.js config. A spec has one series (`label`, `values`,
 * `color`) or several (`series`: [{label, values, color}], shown with a legend). */
function config(spec, colors) {
  const horizontal = Boolean(spec.horizontal);
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
  const series = spec.series ?? [{ label: spec.label, values: spec.values, color: spec.color }];
  return {
    type: spec.type ?? "bar",
    data: {
      labels: spec.labels,
      datasets: [...series.map((one) => dataset(spec, one, colors)), ...reference],
    },
    options: {
      indexAxis: horizontal ? "y" : "x",
      responsive: true,
      maintainAspectRatio: false,
      animation: reducedMotion() ? false : { duration: 250 },
      font: { family: colors.font },
      plugins: {
        legend: { display: Boolean(spec.reference || spec.series), labels: { color: colors.text } },
        tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${format(item.raw)}${spec.notes?.[item.dataIndex] ? ` (${spec.notes[item.dataIndex]})` : ""}` } },
      },
      scales: horizontal ? { x: valueAxis, y: labelAxis } : { x: labelAxis, y: valueAxis },
    },
  };
}

export class Charts {
  constructor() {
    this.charts = new Map();
    /** What each chart was last drawn from (see `draw`). */
    this.shown = new WeakMap();
  }

  /** True when Chart.js is loaded. */
  get available() {
    return typeof globalThis.Chart === "function";
  }

  /**
   * Draws (or redraws) chart `name` on `canvas` from `{type, labels, values, label, horizontal,
   * format, color}` or `{type, labels, series, ...}`, each with optional `partial`, `small` and
   * `notes` (a tooltip's addition) per label. Labels go to Chart.js as data, which draws them on the canvas as text.
   * `colors` is the theme read once for a batch of charts (reading it makes the browser bring its
   * styles up to date, which after other changes to the page costs a full style pass each time).
   */
  draw(name, canvas, spec, colors = theme(canvas)) {
    if (!this.available) return false;
    // What the chart shows, as text: the spec without its functions (its description holds the
    // values as its format writes them) and the theme. A chart asked to show what it shows
    // already is left as drawn: a Chart.js update resolves every option, lays out and draws the
    // whole chart again (2–5 ms a chart in a redraw), which a filter that keeps the chart's
    // answer (the top users under "Active only") would otherwise pay for nothing.
    const shown = JSON.stringify([spec, colors, reducedMotion()]);
    const existing = this.charts.get(name);
    const here = existing?.canvas === canvas;
    if (here && this.shown.get(existing) === shown) return true;
    const cfg = config(spec, colors);
    let chart = existing;
    if (here && existing.config.type === cfg.type) {
      existing.data = cfg.data;
      existing.options = cfg.options;
      existing.update();
    } else {
      existing?.destroy();
      chart = new globalThis.Chart(canvas, cfg);
      this.charts.set(name, chart);
    }
    this.shown.set(chart, shown);
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
