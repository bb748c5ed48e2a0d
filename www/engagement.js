// The Adoption view's engagement answers: stickiness (DAU/MAU over time, average DAU, the days-active
// histogram of the latest complete period) and feature depth (users and first-time users per feature,
// breadth). Every number is the module's (`report.stickiness`, `report.features`), shown as given:
// this file picks and words them, it computes none. Partial periods are hatched on the charts and
// said in words; the range's first period is the baseline; rates on a small sample are marked.
// The period tables and the sentences serve the growth and retention tables too (view.js).
// It builds its own elements (dom.js) and draws on the view's Charts; view.js imports it, never the
// other way round.

import { theme } from "./charts.js";
import { assign, h } from "./dom.js";
import { NONE, formatCount, formatDecimal, formatRatio } from "./format.js";

/** "a, b and c". */
function list(items) {
  return items.length < 2 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

function plural(n, word) {
  return `${formatCount(n)} ${word}${n === 1 ? "" : "s"}`;
}

/**
 * The sentence under a chart or table that says which periods are partial, and why they look low;
 * `days(p)`: a period's days in the range, when known; `how`: how they are drawn.
 */
export function partialSentence(period, periods, { days, how = "Hatched (dashed on a line)" } = {}) {
  const partial = periods.filter((p) => p.partial);
  if (partial.length === 0) return "";
  const one = partial.length === 1;
  const named = list(partial.map((p) => (days ? `${p.period} (${plural(days(p), "day")} in the range)` : p.period)));
  return `${how}: ${named} ${one ? "is a partial" : "are partial"} ${period}${one ? "" : "s"}. The range covers only part of ${one ? "it" : "them"}, so ${one ? "its" : "their"} counts are lower than a whole ${period}'s would be: not a drop in use.`;
}

/**
 * The sentence that names the range's first period as the baseline, and what that does to the
 * answer (`what`: `BASELINE.features`, `BASELINE.growth`).
 */
export function baselineSentence(period, periods, what) {
  if (periods.length === 0) return "";
  return `${periods[0].period} is the range's first ${period}, the baseline: ${what}`;
}

/** What the baseline does to each answer: the end of `baselineSentence`. */
export const BASELINE = {
  features: "people who used a feature before the range cannot be told from first-time users there, so all of its users count as first-time.",
  growth: "people active before the range cannot be told from new ones there, so all of its active users count as new (none as retained or resurrected).",
};

/** Each period's marks in words ("baseline, partial, small sample"), for tooltips and descriptions. */
export function periodNotes(periods, { baseline = false, small = (p) => p.smallSample } = {}) {
  return periods.map((p, i) => [baseline && i === 0 ? "baseline" : "", p.partial ? "partial" : "", small(p) ? "small sample" : ""].filter(Boolean).join(", "));
}

/** Chart labels, the first period called the baseline. */
export function baselineLabels(periods) {
  return periods.map((p, i) => (i === 0 ? `${p.period} (baseline)` : p.period));
}

/** Chart and table specs from `report.stickiness`. */
export function stickinessSpecs(s) {
  const labels = s.periods.map((p) => p.period);
  const partial = s.periods.map((p) => p.partial);
  const small = s.periods.map((p) => p.smallSample);
  const notes = periodNotes(s.periods);
  // Which period is "the latest complete" is the module's rule (`latestComplete`), as in the report.
  const latest = s.periods.find((p) => p.period === s.latestComplete);
  return {
    period: s.period,
    minSample: s.minSample,
    partialNote: partialSentence(s.period, s.periods, { days: (p) => p.daysActive.length }),
    smallNote: small.some(Boolean) ? `Triangles and “small sample”: DAU/MAU over fewer than ${formatCount(s.minSample)} active users, a hint rather than a figure.` : "",
    dauOverMau: {
      name: "stickiness-ratio",
      type: "line",
      title: `DAU/MAU by ${s.period}`,
      label: "DAU/MAU",
      labels,
      values: s.periods.map((p) => p.dauOverMau),
      partial,
      small,
      notes,
      format: formatRatio,
      description: describe(`DAU/MAU by ${s.period}`, s.periods, (p) => formatRatio(p.dauOverMau), notes),
    },
    avgDau: {
      name: "stickiness-dau",
      type: "bar",
      title: `Average DAU by ${s.period}`,
      label: "Average DAU",
      labels,
      values: s.periods.map((p) => p.avgDau),
      partial,
      notes,
      color: 1,
      format: formatDecimal,
      description: describe(`Average DAU by ${s.period}`, s.periods, (p) => formatDecimal(p.avgDau), notes),
    },
    histogram: latest
      ? {
          name: "stickiness-days",
          type: "bar",
          title: `Days active in ${latest.period}, the latest complete ${s.period}`,
          label: "Users",
          labels: latest.daysActive.map((_, i) => plural(i + 1, "day")),
          values: latest.daysActive,
          color: 2,
          description: `Days active in ${latest.period}: ${latest.daysActive.map((n, i) => `${plural(n, "user")} on ${plural(i + 1, "day")}`).join(", ")}.`,
        }
      : null,
    noHistogram: latest ? "" : `No complete ${s.period} with active users in this range: the histogram needs one.`,
    rows: s.periods.map((p) => ({
      period: p.period,
      partial: p.partial,
      cells: [
        ["activeUsers", formatCount(p.activeUsers)],
        ["avgDau", formatDecimal(p.avgDau)],
        ["dauOverMau", p.dauOverMau === null ? NONE : formatRatio(p.dauOverMau), p.smallSample],
      ],
    })),
    columns: [
      ["activeUsers", "Active users"],
      ["avgDau", "Average DAU"],
      ["dauOverMau", "DAU/MAU"],
    ],
  };
}

/** Chart and table specs from `report.features`. */
export function featuresSpecs(f) {
  const labels = baselineLabels(f.periods);
  const partial = f.periods.map((p) => p.partial);
  const notes = periodNotes(f.periods, { baseline: true, small: () => false });
  // Each feature under the module's heading (`autoEdit` → "Auto-edit").
  const label = (name) => f.labels?.[name] ?? name;
  const series = (key) => f.features.map((name, i) => ({ label: label(name), values: f.periods.map((p) => p[key][name]), color: i }));
  const breadthWidth = f.features.length + 1;
  return {
    period: f.period,
    minSample: f.minSample,
    features: f.features.map(label),
    partialNote: partialSentence(f.period, f.periods),
    baselineNote: baselineSentence(f.period, f.periods, BASELINE.features),
    smallNote: f.periods.some((p) => p.smallSample) ? `“Small sample”: a ${f.period} with fewer than ${formatCount(f.minSample)} active users; its spread over the features is a hint rather than a figure.` : "",
    users: {
      name: "features-users",
      type: "line",
      title: `Users per feature by ${f.period}`,
      labels,
      series: series("users"),
      partial,
      notes,
      description: `Users per feature by ${f.period}: ${describeFeatures(f, "users", label)}`,
    },
    newUsers: {
      name: "features-new",
      type: "bar",
      title: `First-time users per feature by ${f.period}`,
      labels,
      series: series("newUsers"),
      partial,
      notes,
      description: `First-time users per feature by ${f.period} (the first, ${f.periods[0]?.period ?? NONE}, is the baseline): ${describeFeatures(f, "newUsers", label)}`,
    },
    columns: [
      ["activeUsers", "Active users"],
      ...f.features.map((name) => [`users-${name}`, `${label(name)} users`]),
      ...f.features.map((name) => [`new-${name}`, `${label(name)} first-time`]),
      ...Array.from({ length: breadthWidth }, (_, k) => [`breadth-${k}`, `${plural(k, "feature")}`]),
    ],
    rows: f.periods.map((p, i) => ({
      period: p.period,
      partial: p.partial,
      baseline: i === 0,
      cells: [
        ["activeUsers", formatCount(p.activeUsers), p.smallSample],
        ...f.features.map((name) => [`users-${name}`, formatCount(p.users[name])]),
        ...f.features.map((name) => [`new-${name}`, formatCount(p.newUsers[name])]),
        ...Array.from({ length: breadthWidth }, (_, k) => [`breadth-${k}`, formatCount(p.breadth[k])]),
      ],
    })),
  };
}

/** "DAU/MAU by week: 2024-12-30 30.0% (partial), 2025-01-06 28.6%, …" (the last 12 periods). */
export function describe(title, periods, format, notes) {
  if (periods.length === 0) return `${title}: no data.`;
  const from = Math.max(0, periods.length - 12);
  const shown = periods.slice(from).map((p, i) => `${p.period} ${format(p)}${notes[from + i] ? ` (${notes[from + i]})` : ""}`);
  return `${title}${from ? `, the last 12 of ${periods.length}` : ""}: ${shown.join(", ")}.`;
}

/** The latest period's count per feature (each under its heading, `label`), in words. */
function describeFeatures(f, key, label) {
  const last = f.periods.at(-1);
  if (!last) return "no data.";
  return `${plural(f.periods.length, f.period)}; in ${last.period}${last.partial ? " (partial)" : ""}, ${f.features.map((name) => `${label(name)} ${formatCount(last[key][name])}`).join(", ")}.`;
}

/** A period's row header: the period, then its marks (baseline, partial) as tags. */
export function periodHeader(row) {
  return h("th", { scope: "row" }, row.period, row.baseline ? h("span", { class: "tag baseline" }, "baseline") : null, row.partial ? h("span", { class: "tag partial" }, "partial") : null);
}

/**
 * A table of periods (`spec.columns`: [key, label]; `spec.rows`: {period, partial, baseline,
 * cells: [key, text, small]}): the period with its marks, then the cells, a small sample tagged.
 */
export function periodTable(head, body, spec, width) {
  head.replaceChildren(h("tr", {}, h("th", { scope: "col" }, "Period"), spec.columns.map(([key, label]) => h("th", { scope: "col", class: "num", "data-col": key }, label))));
  body.replaceChildren(
    ...spec.rows.map((row) =>
      h(
        "tr",
        { "data-period": row.period, class: row.partial ? "partial" : null },
        periodHeader(row),
        row.cells.map(([key, text, small]) => h("td", { class: "num", "data-col": key }, text, small ? h("span", { class: "tag small-sample" }, "small sample") : null)),
      ),
    ),
  );
  if (spec.rows.length === 0) body.append(h("tr", {}, h("td", { colspan: String(width), class: "empty-row" }, "No active users in this view.")));
}

/** A note paragraph, hidden while it has no text. */
export function setNote(el, text) {
  assign(el, { textContent: text, hidden: !text });
}

/**
 * The two sections in the page, drawn with the view's `charts`; `emit` reports a download asked for.
 */
export class EngagementView {
  constructor(charts, emit) {
    this.charts = charts;
    this.emit = emit;
    this.refs = {};
    this.drawn = new Set();
  }

  /** The stickiness and feature depth sections, empty until rendered. */
  build() {
    const r = this.refs;
    const figure = (name, cls) => {
      const canvas = h("canvas", { role: "img" });
      const title = h("figcaption", { class: "chart-title" });
      const box = h("div", { class: `chart-box ${cls}` }, canvas);
      return { el: h("figure", { class: "engagement-chart", "data-chart": name }, title, box), canvas, title };
    };
    const downloadButton = (what, label) => h("div", { class: "downloads", role: "group", "aria-label": `${label.replace(/ CSV$/, "")} download` }, h("button", { type: "button", class: "button small", "data-download": what, onclick: () => this.emit("download", { what }) }, label));
    r.ratio = figure("stickiness-ratio", "stickiness-box");
    r.dau = figure("stickiness-dau", "stickiness-box");
    r.days = figure("stickiness-days", "stickiness-box");
    r.users = figure("features-users", "engagement-box");
    r.newUsers = figure("features-new", "engagement-box");
    r.stickinessTable = h("table", { class: "grid compact stickiness-table" }, (r.stickinessCaption = h("caption", { class: "visually-hidden" })), (r.stickinessHead = h("thead")), (r.stickinessBody = h("tbody")));
    r.featuresTable = h("table", { class: "grid compact features-table" }, (r.featuresCaption = h("caption", { class: "visually-hidden" })), (r.featuresHead = h("thead")), (r.featuresBody = h("tbody")));
    const note = (cls) => h("p", { class: `note ${cls}`, hidden: true });
    // A section: its title, the module's problem (hidden until there is one), and the answer:
    // its note (`r[name + "Note"]`), then `parts`.
    const section = (name, title, ...parts) => {
      r[`${name}Problem`] = h("p", { class: "engagement-problem", role: "status", hidden: true });
      r[`${name}Answer`] = h("div", { class: "engagement-answer" }, (r[`${name}Note`] = h("p", { class: "note" })), ...parts);
      return h("section", { class: `${name}-card panel`, "aria-labelledby": `sga-${name}-title` }, h("h2", { class: "section-title", id: `sga-${name}-title` }, title), r[`${name}Problem`], r[`${name}Answer`]);
    };
    r.stickiness = section(
      "stickiness",
      "Stickiness",
      (r.stickinessPartial = note("partial-note")),
      (r.stickinessSmall = note("small-note")),
      h("div", { class: "growth-multiples" }, r.ratio.el, r.dau.el, r.days.el),
      (r.noHistogram = note("histogram-note")),
      h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": "Stickiness numbers" }, r.stickinessTable),
      downloadButton("stickiness-csv", "Stickiness CSV"),
    );
    r.features = section(
      "features",
      "Feature depth",
      (r.featuresBaseline = note("baseline-note")),
      (r.featuresPartial = note("partial-note")),
      (r.featuresSmall = note("small-note")),
      h("div", { class: "engagement-pair" }, r.users.el, r.newUsers.el),
      h("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": "Feature depth numbers (scrolls sideways)" }, r.featuresTable),
      downloadButton("features-csv", "Feature depth CSV"),
    );
    return [r.stickiness, r.features];
  }

  /** Removes every chart (the view cannot answer, or is torn down). */
  clear() {
    for (const name of this.drawn) this.charts.remove(name);
    this.drawn.clear();
  }

  /**
   * Draws `stickiness` and `features` (module answers, or `{problem}`: the module's message when
   * the export cannot answer, e.g. a month export); an undefined part is left as drawn.
   */
  render({ stickiness, features }) {
    const r = this.refs;
    const draws = [];
    const part = (answer, problemEl, answerEl, names, draw) => {
      if (!answer) return;
      const problem = answer.problem;
      problemEl.hidden = !problem;
      answerEl.hidden = Boolean(problem);
      problemEl.textContent = problem ?? "";
      if (problem) for (const name of names) this.remove(name);
      else draws.push(...draw(answer));
    };
    part(stickiness, r.stickinessProblem, r.stickinessAnswer, ["stickiness-ratio", "stickiness-dau", "stickiness-days"], (s) => this.renderStickiness(stickinessSpecs(s)));
    part(features, r.featuresProblem, r.featuresAnswer, ["features-users", "features-new"], (f) => this.renderFeatures(featuresSpecs(f)));
    if (draws.length === 0) return;
    // Every DOM write first, then one theme read, then the draw (as the view's other charts).
    const colors = theme(r.stickiness);
    for (const [figure, spec] of draws) {
      figure.canvas.setAttribute("aria-label", spec.description);
      if (this.charts.draw(spec.name, figure.canvas, spec, colors)) this.drawn.add(spec.name);
    }
  }

  remove(name) {
    this.charts.remove(name);
    this.drawn.delete(name);
  }

  renderStickiness(s) {
    const r = this.refs;
    r.stickinessNote.textContent = `Is the use a habit? DAU/MAU is the average daily active users ÷ the ${s.period}'s active users: near 100%, the same people every day; low, most came on few of its days. Days active: how many of a ${s.period}'s active users were active on 1, 2, … of its days.`;
    setNote(r.stickinessPartial, s.partialNote);
    setNote(r.stickinessSmall, s.smallNote);
    setNote(r.noHistogram, s.noHistogram);
    r.stickinessCaption.textContent = `Stickiness by ${s.period}`;
    periodTable(r.stickinessHead, r.stickinessBody, s, 4);
    const draws = [
      [r.ratio, s.dauOverMau],
      [r.dau, s.avgDau],
    ];
    r.ratio.title.textContent = s.dauOverMau.title;
    r.dau.title.textContent = s.avgDau.title;
    r.days.el.hidden = !s.histogram;
    if (s.histogram) {
      r.days.title.textContent = s.histogram.title;
      draws.push([r.days, s.histogram]);
    } else this.remove("stickiness-days");
    return draws;
  }

  renderFeatures(f) {
    const r = this.refs;
    r.featuresNote.textContent = f.features.length === 0 ? "This export has the columns of none of the features, so there is no use per feature to show." : `Who uses what, each ${f.period}: users per feature (${list(f.features)}), and first-time users (their first use of that feature in the range). People moving from completions to chat and auto-edit show as those lines rising and as their first-time bars. Breadth: how many of the ${plural(f.features.length, "feature")} each active user used.`;
    setNote(r.featuresBaseline, f.baselineNote);
    setNote(r.featuresPartial, f.partialNote);
    setNote(r.featuresSmall, f.smallNote);
    r.featuresCaption.textContent = `Feature depth by ${f.period}: users and first-time users per feature, and breadth`;
    periodTable(r.featuresHead, r.featuresBody, f, f.columns.length + 1);
    r.users.title.textContent = f.users.title;
    r.newUsers.title.textContent = f.newUsers.title;
    return [
      [r.users, f.users],
      [r.newUsers, f.newUsers],
    ];
  }
}
