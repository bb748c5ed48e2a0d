//! A report to share: one self-contained HTML file (no script, no request to anything: inline CSS
//! and SVG charts), printable on A4, whose numbers are the core's own answers (the same queries as
//! the CLI and the page). Every value from the export is written as escaped text.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Deserialize;

use crate::cost::{Cost, CostQuery, Credits};
use crate::error::Error;
use crate::query::{
    feature_label, Features, Filter, Growth, Period, PeriodQuery, Query, Retention, Sort,
    Stickiness,
};
use crate::summary::{Cell, Summary};
use crate::table::Table;

/// What the report states and how it is cut. Every field is optional in JSON (camelCase).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct ReportOptions {
    /// The instance the export is of, as stated in the report's head (none: "an export").
    pub instance: Option<String>,
    /// The rows the report is about.
    pub filter: Filter,
    /// The period of the trend, growth, retention, stickiness and feature depth (month by
    /// default).
    pub period: Period,
    /// The key of the top groups (`user` by default; a people file's column for teams).
    pub by: Option<String>,
    /// How many top groups (10 by default).
    pub top: Option<usize>,
    /// Minutes saved per use, as a summary's `minutesSaved`.
    pub minutes_saved: BTreeMap<String, f64>,
    /// The smallest denominator a rate is shown firmly over (50 by default).
    pub min_sample: Option<u64>,
    /// The day the report was made, `YYYY-MM-DD` in UTC, stated in its head (none: not stated).
    pub generated: Option<String>,
}

/// Text for HTML: `&`, `<`, `>`, `"` and `'` escaped, so no value from the export is markup.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// A count with thousands separators.
fn count(n: f64) -> String {
    let whole = format!("{:.0}", n.abs());
    let mut out = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0.0 && whole != "0" {
        out.insert(0, '-');
    }
    out
}

/// A number for reading: integers with separators, others with two decimals.
fn number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        count(n)
    } else if n.abs() >= 100.0 {
        format!(
            "{}.{:02}",
            count(n.trunc()),
            ((n.abs().fract() * 100.0).round() as u64).min(99)
        )
    } else {
        format!("{n:.2}")
    }
}

/// A share (0–1) as a percentage.
fn percent(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

/// A summary's value of `name` (`None` when it is absent or null).
fn value(summary: &Summary, values: &[Cell], name: &str) -> Option<f64> {
    let at = summary.metrics().iter().position(|m| m == name)?;
    values.get(at)?.as_f64()
}

/// A value as the report shows it: percentages for the rates given as shares, numbers otherwise.
fn shown(name: &str, x: f64) -> String {
    match name {
        "Combined CAR" | "Weighted CAR" | "Auto-edit acceptance rate" => percent(x),
        "Percentage of Code Written by Cody" => format!("{x:.1}%"),
        _ => number(x),
    }
}

/// The headline metrics, in the order of the cards.
const CARDS: [(&str, &str); 7] = [
    ("activeUsers", "Active users"),
    ("avgDau", "Average DAU"),
    ("hoursSaved", "Hours saved"),
    ("Combined CAR", "Completion acceptance"),
    ("Percentage of Code Written by Cody", "Code written by Cody"),
    ("Chat Events", "Chat events"),
    ("Searches", "Searches"),
];

/// The report's style: screen and print (A4), no external resource.
const STYLE: &str = "
:root{--ink:#1d2433;--muted:#5b6475;--line:#d9dee7;--accent:#3b5bdb;--warn:#b35c00}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:var(--ink);max-width:60rem;margin:2rem auto;padding:0 1rem}
h1{font-size:1.6rem;margin:0 0 .25rem}h2{font-size:1.15rem;margin:2rem 0 .5rem;border-bottom:1px solid var(--line);padding-bottom:.25rem}
.meta{color:var(--muted);margin:.1rem 0}.meta b{color:var(--ink);font-weight:600}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(11rem,1fr));gap:.6rem;margin:1rem 0 .4rem}
.card{border:1px solid var(--line);border-radius:.4rem;padding:.6rem .75rem}
.card .label{color:var(--muted);font-size:.8rem}.card .value{font-size:1.35rem;font-weight:600;display:block}
.delta{font-size:.8rem;color:var(--muted)}.note{color:var(--muted);font-size:.85rem}.small{color:var(--warn)}
table{border-collapse:collapse;width:100%;margin:.5rem 0;font-size:.85rem}
th,td{border-bottom:1px solid var(--line);padding:.25rem .4rem;text-align:right}
th:first-child,td:first-child{text-align:left}th{color:var(--muted);font-weight:600}
tr.partial td{background:repeating-linear-gradient(135deg,#fff,#fff 4px,#f1f3f7 4px,#f1f3f7 8px)}
svg{width:100%;height:auto;display:block;margin:.5rem 0}
svg text{font:11px system-ui,sans-serif;fill:var(--muted)}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem}dt{font-weight:600}dd{margin:0}
.legend span{display:inline-block;margin-right:1rem;font-size:.8rem}
.legend i{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:-1px}
@page{size:A4;margin:14mm}
@media print{body{margin:0;max-width:none;font-size:11px}section{break-inside:avoid}h2{break-after:avoid}.cards{grid-template-columns:repeat(4,1fr)}}
";

/// The colours of a chart's series, in order.
const COLOURS: [&str; 5] = ["#3b5bdb", "#2b8a3e", "#e67700", "#c2255c", "#5f3dc4"];

/// One series of a chart: a name and a value per period (`None`: no value).
struct Series<'a> {
    name: &'a str,
    values: Vec<Option<f64>>,
}

/// How a chart draws its series.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// Lines over the periods, the first period marked as the baseline.
    Lines,
    /// Grouped bars over the periods, the first period marked as the baseline.
    Bars,
    /// Grouped bars over anything else (a histogram): no baseline.
    Histogram,
}

/// An SVG chart: the partial periods hatched; `title` is its accessible name.
fn chart(
    title: &str,
    labels: &[String],
    partial: &[bool],
    series: &[Series<'_>],
    kind: Kind,
) -> String {
    let bars = kind != Kind::Lines;
    let (w, h, left, bottom, top) = (640.0, 200.0, 44.0, 24.0, 10.0);
    let n = labels.len().max(1);
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .fold(0.0_f64, |m, &v| m.max(v));
    let max = if max > 0.0 { max } else { 1.0 };
    let step = (w - left) / n as f64;
    let x = |i: usize| left + step * (i as f64 + 0.5);
    let y = |v: f64| top + (h - top - bottom) * (1.0 - v / max);
    let mut svg = format!(
        "<svg viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\"><defs><pattern id=\"hatch\" \
         width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" patternTransform=\"rotate(45)\">\
         <rect width=\"6\" height=\"6\" fill=\"#fff\"/><line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" \
         stroke=\"#dde1ea\" stroke-width=\"3\"/></pattern></defs>",
        esc(title)
    );
    for (i, &p) in partial.iter().enumerate() {
        if p {
            let _ = write!(
                svg,
                "<rect x=\"{:.1}\" y=\"{top}\" width=\"{step:.1}\" height=\"{:.1}\" fill=\"url(#hatch)\"><title>partial period</title></rect>",
                left + step * i as f64,
                h - top - bottom
            );
        }
    }
    for frac in [0.0, 0.5, 1.0] {
        let v = max * frac;
        let _ = write!(
            svg,
            "<line x1=\"{left}\" x2=\"{w}\" y1=\"{0:.1}\" y2=\"{0:.1}\" stroke=\"#e9ecf2\"/><text x=\"{1}\" y=\"{2:.1}\" text-anchor=\"end\">{3}</text>",
            y(v),
            left - 4.0,
            y(v) + 4.0,
            esc(&number((v * 100.0).round() / 100.0))
        );
    }
    let every = n.div_ceil(12);
    for (i, label) in labels.iter().enumerate() {
        if i % every == 0 {
            let _ = write!(
                svg,
                "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                x(i),
                h - 8.0,
                esc(label)
            );
        }
    }
    if !labels.is_empty() && kind != Kind::Histogram {
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">baseline</text>",
            x(0),
            top + 10.0
        );
    }
    let width = step * 0.8 / series.len().max(1) as f64;
    for (k, s) in series.iter().enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        if bars {
            for (i, v) in s.values.iter().enumerate() {
                let Some(v) = v else { continue };
                let bx = left + step * i as f64 + step * 0.1 + width * k as f64;
                let _ = write!(
                    svg,
                    "<rect x=\"{bx:.1}\" y=\"{:.1}\" width=\"{width:.1}\" height=\"{:.1}\" fill=\"{colour}\"><title>{}: {}</title></rect>",
                    y(*v),
                    (h - bottom - y(*v)).max(0.0),
                    esc(s.name),
                    esc(&number(*v))
                );
            }
        } else {
            let points: Vec<String> = s
                .values
                .iter()
                .enumerate()
                .filter_map(|(i, v)| v.map(|v| format!("{:.1},{:.1}", x(i), y(v))))
                .collect();
            let _ = write!(
                svg,
                "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>",
                points.join(" ")
            );
        }
    }
    svg.push_str("</svg><p class=\"legend\">");
    for (k, s) in series.iter().enumerate() {
        let _ = write!(
            svg,
            "<span><i style=\"background:{}\"></i>{}</span>",
            COLOURS[k % COLOURS.len()],
            esc(s.name)
        );
    }
    svg.push_str("</p>");
    svg
}

/// An HTML table: a header and rows of cells already escaped; rows marked partial are hatched.
fn table(header: &[&str], rows: &[(bool, Vec<String>)]) -> String {
    let mut out = String::from("<table><thead><tr>");
    for h in header {
        let _ = write!(out, "<th scope=\"col\">{}</th>", esc(h));
    }
    out.push_str("</tr></thead><tbody>");
    for (partial, cells) in rows {
        out.push_str(if *partial {
            "<tr class=\"partial\">"
        } else {
            "<tr>"
        });
        for c in cells {
            let _ = write!(out, "<td>{c}</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
    out
}

/// A section that could not be answered for this export, and why.
fn unavailable(title: &str, error: &Error) -> String {
    format!(
        "<section><h2>{}</h2><p class=\"note\">Not in this report: {}</p></section>",
        esc(title),
        esc(error.message())
    )
}

/// `*`, marked as a small sample.
const SMALL: &str = "<span class=\"small\" title=\"small sample\">*</span>";

/// A value, with the small-sample mark when `small`.
fn marked(text: String, small: bool) -> String {
    if small {
        text + SMALL
    } else {
        text
    }
}

/// The periods' labels and whether each is partial, from growth (every period of the range).
fn periods(growth: &Growth) -> (Vec<String>, Vec<bool>) {
    growth
        .periods
        .iter()
        .map(|p| (p.period.clone(), p.partial))
        .unzip()
}

impl Table {
    /// The report to share, as one HTML document; `credits` adds the cost.
    pub fn report_html(
        &self,
        options: &ReportOptions,
        credits: Option<&Credits>,
    ) -> Result<String, Error> {
        let period = options.period;
        let unit = match period {
            Period::Week => "week",
            Period::Month => "month",
        };
        let query = |group_by: Vec<String>| Query {
            group_by,
            filter: options.filter.clone(),
            minutes_saved: options.minutes_saved.clone(),
            min_sample: options.min_sample,
            include_warnings: false,
            ..Query::default()
        };
        let totals = self.summarize(&query(Vec::new()))?;
        let pq = PeriodQuery {
            period,
            filter: options.filter.clone(),
            min_sample: options.min_sample,
        };
        let growth = self.growth(&pq);
        let mut out =
            String::from("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">");
        out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        // Nothing may load: no script, no style, image, font or frame from anywhere.
        out.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">");
        let instance = options.instance.as_deref().unwrap_or("an export");
        let _ = write!(
            out,
            "<title>Sourcegraph usage report: {}</title><style>{STYLE}</style></head><body>",
            esc(instance)
        );
        out.push_str(&self.report_head(options, &totals, instance));
        out.push_str(&cards(&totals, self, &query, period, unit));
        match &growth {
            Ok(growth) => {
                let (labels, partial) = periods(growth);
                out.push_str(&self.trend(&query, &labels, &partial, unit)?);
                out.push_str(&growth_section(growth, &labels, &partial));
            }
            Err(e) => out.push_str(&unavailable("Trend and growth", e)),
        }
        match self.retention(&pq) {
            Ok(r) => out.push_str(&retention_section(&r)),
            Err(e) => out.push_str(&unavailable("Retention", &e)),
        }
        match self.stickiness(&pq) {
            Ok(s) => out.push_str(&stickiness_section(&s)),
            Err(e) => out.push_str(&unavailable("Stickiness", &e)),
        }
        match self.features(&pq) {
            Ok(f) => out.push_str(&features_section(&f)),
            Err(e) => out.push_str(&unavailable("Feature depth", &e)),
        }
        out.push_str(&self.top_groups(options, &query)?);
        if let Some(credits) = credits {
            let cost = self.cost(
                credits,
                &CostQuery {
                    filter: options.filter.clone(),
                    minutes_saved: options.minutes_saved.clone(),
                    by: None,
                },
            );
            match cost {
                Ok(cost) => out.push_str(&cost_section(&cost)),
                Err(e) => out.push_str(&unavailable("Cost", &e)),
            }
        }
        out.push_str(&definitions(&totals));
        out.push_str("</body></html>\n");
        Ok(out)
    }

    /// The head: what the report is of (instance, range, granularity, filters, when).
    fn report_head(&self, options: &ReportOptions, totals: &Summary, instance: &str) -> String {
        let input = totals.input();
        let f = &options.filter;
        let from = f.from.clone().or(input.first_date.clone());
        let to = f.to.clone().or(input.last_date.clone());
        let range = match (from, to) {
            (Some(a), Some(b)) => format!("{a} to {b}"),
            _ => "all dates (the export has none)".into(),
        };
        let mut filters = Vec::new();
        let list = |name: &str, values: &[String]| format!("{name}: {}", values.join(", "));
        if !f.users.is_empty() {
            filters.push(list("users", &f.users));
        }
        if let Some(s) = &f.user_search {
            filters.push(format!("users matching “{s}”"));
        }
        if !f.clients.is_empty() {
            filters.push(list("clients", &f.clients));
        }
        if !f.languages.is_empty() {
            filters.push(list("languages", &f.languages));
        }
        if f.active_only {
            filters.push("active rows only".into());
        }
        if f.excludes_service_accounts(self) {
            filters.push("service accounts left out".into());
        }
        for (column, values) in &f.attributes {
            filters.push(list(column, values));
        }
        let filters = if filters.is_empty() {
            "none".to_string()
        } else {
            filters.join("; ")
        };
        let mut head = format!(
            "<header><h1>Sourcegraph usage report</h1>\
             <p class=\"meta\">Instance: <b data-field=\"instance\">{}</b></p>\
             <p class=\"meta\">Range: <b data-field=\"range\">{}</b></p>\
             <p class=\"meta\">Granularity: <b data-field=\"granularity\">{}</b> ({} rows)</p>\
             <p class=\"meta\">Filters: <b data-field=\"filters\">{}</b></p>",
            esc(instance),
            esc(&range),
            input.granularity.as_str(),
            count(input.rows as f64),
            esc(&filters)
        );
        if let Some(day) = &options.generated {
            let _ = write!(
                head,
                "<p class=\"meta\">Made on <b data-field=\"generated\">{}</b> (UTC)</p>",
                esc(day)
            );
        }
        head.push_str("</header>");
        head
    }

    /// Active users and average DAU per period, with the partial periods hatched.
    fn trend(
        &self,
        query: &dyn Fn(Vec<String>) -> Query,
        labels: &[String],
        partial: &[bool],
        unit: &str,
    ) -> Result<String, Error> {
        let by = self.summarize(&query(vec![unit.to_string()]))?;
        let per = |name: &str| -> Vec<Option<f64>> {
            labels
                .iter()
                .map(|l| {
                    by.group_values()
                        .iter()
                        .find(|g| matches!(g.key.first(), Some(Cell::Text(k)) if k == l))
                        .and_then(|g| value(&by, &g.values, name))
                })
                .collect()
        };
        let active = per("activeUsers");
        let dau = per("avgDau");
        let mut series = vec![Series {
            name: "Active users",
            values: active,
        }];
        if dau.iter().any(Option::is_some) {
            series.push(Series {
                name: "Average DAU",
                values: dau,
            });
        }
        Ok(format!(
            "<section><h2>Usage trend by {unit}</h2>{}<p class=\"note\">Hatched: a partial {unit} \
             (the range covers only some of its days), so lower counts there are not a drop. \
             The first {unit} is the baseline: users active before the range cannot be told \
             from new ones.</p></section>",
            chart(
                "Active users and average DAU",
                labels,
                partial,
                &series,
                Kind::Lines
            )
        ))
    }

    /// The top groups by active users (users by hours saved).
    fn top_groups(
        &self,
        options: &ReportOptions,
        query: &dyn Fn(Vec<String>) -> Query,
    ) -> Result<String, Error> {
        let by = options.by.clone().unwrap_or_else(|| "user".into());
        let sort = if by == "user" {
            "hoursSaved"
        } else {
            "activeUsers"
        };
        let mut q = query(vec![by.clone()]);
        q.sort = Some(Sort {
            by: sort.into(),
            desc: true,
        });
        q.limit = Some(options.top.unwrap_or(10));
        let summary = match self.summarize(&q) {
            Ok(s) => s,
            Err(e) => return Ok(unavailable("Top groups", &e)),
        };
        let columns: Vec<&str> = [
            "activeUsers",
            "hoursSaved",
            "Chat Events",
            "Combined CAR",
            "Percentage of Code Written by Cody",
        ]
        .into_iter()
        // Only what means something per group (no active users per user).
        .filter(|c| summary.group_metrics().contains(c))
        .collect();
        let rows: Vec<(bool, Vec<String>)> = summary
            .group_values()
            .iter()
            .map(|g| {
                let small = summary.group_small_sample(&g.values);
                let key = match g.key.first() {
                    Some(Cell::Text(t)) => esc(t),
                    Some(Cell::Null) | None => "(unmapped)".into(),
                    Some(other) => esc(&format!("{other:?}")),
                };
                let cells = columns.iter().map(|c| {
                    let v = value(&summary, &g.values, c).map_or("—".into(), |x| shown(c, x));
                    marked(esc(&v), small.contains(c))
                });
                (false, std::iter::once(key).chain(cells).collect())
            })
            .collect();
        // The page's headings (each rate with its scale), as the grouped downloads have them.
        let label = |name: &str| -> String {
            let names = summary.key_names().iter().chain(summary.metrics());
            names
                .zip(&summary.labels)
                .find(|(n, _)| *n == name)
                .map_or_else(|| name.to_string(), |(_, l)| l.clone())
        };
        let labels: Vec<String> = std::iter::once(by.as_str())
            .chain(columns.iter().copied())
            .map(label)
            .collect();
        let header: Vec<&str> = labels.iter().map(String::as_str).collect();
        Ok(format!(
            "<section><h2>Top {} by {}</h2>{}<p class=\"note\">{} of {} shown, by {} (most first).</p></section>",
            esc(&by),
            if sort == "hoursSaved" { "hours saved" } else { "active users" },
            table(&header, &rows),
            summary.group_values().len(),
            summary.groups_total(),
            esc(&label(sort))
        ))
    }
}

/// The headline cards, each with its change from the complete period before the last.
fn cards(
    totals: &Summary,
    table: &Table,
    query: &dyn Fn(Vec<String>) -> Query,
    period: Period,
    unit: &str,
) -> String {
    // The last complete period and the one before, when the range holds two: the core's rule,
    // which the page's cards ask too (`compare: "lastPeriods"`).
    let compared = crate::query::last_periods(table, &query(Vec::new()), None, &[period])
        .ok()
        .flatten()
        .map(|c| (c.before, c.latest));
    let small: Vec<&str> = totals
        .small_sample(totals.total_values())
        .into_iter()
        .filter(|r| CARDS.iter().any(|(c, _)| c == r))
        .collect();
    let mut out = String::from("<section><h2>Headlines</h2><div class=\"cards\">");
    for (name, label) in CARDS {
        let Some(v) = value(totals, totals.total_values(), name) else {
            continue;
        };
        let delta = compared.as_ref().and_then(|(before, last)| {
            let b = value(totals, &before.totals.totals, name)?;
            let l = value(totals, &last.totals.totals, name)?;
            let (before, last) = (&before.period, &last.period);
            (b != 0.0).then(|| format!("{:+.0}% ({last} vs {before})", 100.0 * (l - b) / b))
        });
        let _ = write!(
            out,
            "<div class=\"card\" data-metric=\"{}\"><span class=\"label\">{}</span><span class=\"value\" data-value=\"{}\">{}</span>{}</div>",
            esc(name),
            esc(label),
            v,
            marked(esc(&shown(name, v)), small.contains(&name)),
            delta.map_or(String::new(), |d| format!("<span class=\"delta\">{}</span>", esc(&d)))
        );
    }
    out.push_str("</div>");
    let note = match &compared {
        Some((before, last)) => format!(
            "Changes compare the last complete {unit} ({}) with the one before ({}); \
             partial {unit}s at the range's edges are not compared.",
            last.period, before.period
        ),
        None => {
            format!("No changes shown: the range holds fewer than two complete {unit}s to compare.")
        }
    };
    let _ = write!(out, "<p class=\"note\">{}</p>", esc(&note));
    if !small.is_empty() {
        let _ = write!(
            out,
            "<p class=\"note\">{SMALL} small sample: the rate stands on fewer than {} (its denominator).</p>",
            totals.min_sample()
        );
    }
    out.push_str("</section>");
    out
}

fn growth_section(growth: &Growth, labels: &[String], partial: &[bool]) -> String {
    let column = |f: fn(&crate::query::GrowthPeriod) -> u64| -> Vec<Option<f64>> {
        growth.periods.iter().map(|p| Some(f(p) as f64)).collect()
    };
    let series = [
        Series {
            name: "New",
            values: column(|p| p.new_users),
        },
        Series {
            name: "Retained",
            values: column(|p| p.retained_users),
        },
        Series {
            name: "Resurrected",
            values: column(|p| p.resurrected_users),
        },
        Series {
            name: "Churned",
            values: column(|p| p.churned_users),
        },
    ];
    let rows: Vec<(bool, Vec<String>)> = growth
        .periods
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let label = if i == 0 {
                format!("{} (baseline)", p.period)
            } else {
                p.period.clone()
            };
            let ratio = p.quick_ratio.map_or("—".into(), |q| format!("{q:.2}"));
            (
                p.partial,
                vec![
                    esc(&label),
                    count(p.active_users as f64),
                    count(p.new_users as f64),
                    count(p.retained_users as f64),
                    count(p.resurrected_users as f64),
                    count(p.churned_users as f64),
                    marked(ratio, p.small_sample),
                ],
            )
        })
        .collect();
    format!(
        "<section><h2>Growth</h2>{}{}<p class=\"note\">New: first active in the range (in the \
         baseline period, everyone is new); retained: active the period before too; resurrected: \
         back after a gap; churned: active the period before, not now. Quick ratio = (new + \
         resurrected) ÷ churned.</p></section>",
        chart(
            "Users gained and lost per period",
            labels,
            partial,
            &series,
            Kind::Bars
        ),
        table(
            &[
                "period",
                "active",
                "new",
                "retained",
                "resurrected",
                "churned",
                "quick ratio"
            ],
            &rows
        )
    )
}

fn retention_section(r: &Retention) -> String {
    let width = r.cohorts.iter().map(|c| c.active.len()).max().unwrap_or(0);
    let mut header = vec!["cohort".to_string(), "users".to_string()];
    header.extend((0..width).map(|k| format!("+{k}")));
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    let rows: Vec<(bool, Vec<String>)> = r
        .cohorts
        .iter()
        .map(|c| {
            let mut cells = vec![
                esc(&c.cohort),
                marked(count(c.users as f64), c.small_sample),
            ];
            cells.extend(
                c.active
                    .iter()
                    .map(|&n| percent(n as f64 / c.users.max(1) as f64)),
            );
            cells.resize(width + 2, String::new());
            (r.partial_periods.contains(&c.cohort), cells)
        })
        .collect();
    format!(
        "<section><h2>Retention</h2>{}<p class=\"note\">Each cohort is the users first active in \
         that period; +k is the share of them active k periods later. Hatched: a partial \
         period. {SMALL} a cohort of fewer than {} users.</p></section>",
        table(&header, &rows),
        r.min_sample
    )
}

fn stickiness_section(s: &Stickiness) -> String {
    let labels: Vec<String> = s.periods.iter().map(|p| p.period.clone()).collect();
    let partial: Vec<bool> = s.periods.iter().map(|p| p.partial).collect();
    let series = [Series {
        name: "DAU/MAU",
        values: s.periods.iter().map(|p| p.dau_over_mau).collect(),
    }];
    let latest = s
        .latest_complete
        .as_ref()
        .and_then(|key| s.periods.iter().find(|p| &p.period == key));
    let histogram = latest.map_or(String::new(), |p| {
        let labels: Vec<String> = (1..=p.days_active.len()).map(|d| d.to_string()).collect();
        let bars = [Series {
            name: "users active on that many days",
            values: p.days_active.iter().map(|&n| Some(n as f64)).collect(),
        }];
        format!(
            "<p>Days active in {}, the latest complete period:</p>{}",
            esc(&p.period),
            chart(
                "Days active histogram",
                &labels,
                &vec![false; labels.len()],
                &bars,
                Kind::Histogram
            )
        )
    });
    let rows: Vec<(bool, Vec<String>)> = s
        .periods
        .iter()
        .map(|p| {
            let ratio = p.dau_over_mau.map_or("—".into(), percent);
            (
                p.partial,
                vec![
                    esc(&p.period),
                    count(p.active_users as f64),
                    number((p.avg_dau * 100.0).round() / 100.0),
                    marked(ratio, p.small_sample),
                ],
            )
        })
        .collect();
    format!(
        "<section><h2>Stickiness</h2>{}{}{}<p class=\"note\">DAU/MAU = average daily active users \
         ÷ the period's active users: near 100% means the same people every day.</p></section>",
        chart(
            "DAU/MAU per period",
            &labels,
            &partial,
            &series,
            Kind::Lines
        ),
        histogram,
        table(&["period", "active users", "average DAU", "DAU/MAU"], &rows)
    )
}

fn features_section(f: &Features) -> String {
    let labels: Vec<String> = f.periods.iter().map(|p| p.period.clone()).collect();
    let partial: Vec<bool> = f.periods.iter().map(|p| p.partial).collect();
    let series: Vec<Series<'_>> = f
        .features
        .iter()
        .map(|name| Series {
            name: feature_label(name).unwrap_or(name),
            values: f
                .periods
                .iter()
                .map(|p| {
                    let users = p.users.get(name)? as f64;
                    (p.active_users > 0).then(|| users / p.active_users as f64)
                })
                .collect(),
        })
        .collect();
    let mut header = vec!["period", "active users"];
    header.extend(
        f.features
            .iter()
            .map(|name| feature_label(name).unwrap_or(name)),
    );
    let rows: Vec<(bool, Vec<String>)> = f
        .periods
        .iter()
        .map(|p| {
            let mut cells = vec![
                esc(&p.period),
                marked(count(p.active_users as f64), p.small_sample),
            ];
            cells.extend(p.users.0.iter().map(|(_, n)| count(*n as f64)));
            (p.partial, cells)
        })
        .collect();
    format!(
        "<section><h2>Feature depth</h2>{}{}<p class=\"note\">The share of each period's active \
         users who used each feature: people moving from completions to chat and auto-edit show \
         as those lines rising.</p></section>",
        chart(
            "Share of active users per feature",
            &labels,
            &partial,
            &series,
            Kind::Lines
        ),
        table(&header, &rows)
    )
}

fn cost_section(cost: &Cost) -> String {
    let opt = |x: Option<f64>| x.map_or("—".into(), |x| number((x * 100.0).round() / 100.0));
    let rows: Vec<(bool, Vec<String>)> = cost
        .lines()
        .into_iter()
        .map(|l| {
            (
                false,
                vec![
                    esc(&l.key),
                    opt(l.credits_used),
                    count(l.active_users as f64),
                    number((l.hours_saved * 100.0).round() / 100.0),
                    opt(l.credits_per_active_user),
                    opt(l.credits_per_hour_saved),
                ],
            )
        })
        .collect();
    let notes: String = cost
        .notes
        .iter()
        .map(|n| format!("<p class=\"note\">{}</p>", esc(n)))
        .collect();
    format!(
        "<section><h2>Cost ({})</h2>{}{notes}</section>",
        esc(&cost.unit),
        table(
            &[
                "month",
                "credits used",
                "active users",
                "hours saved",
                "per active user",
                "per hour saved"
            ],
            &rows
        )
    )
}

/// The definitions of every number in the report.
fn definitions(totals: &Summary) -> String {
    let minutes: Vec<String> = serde_json::to_value(totals)
        .ok()
        .and_then(|v| v.get("minutesSaved").cloned())
        .and_then(|m| m.as_object().cloned())
        .map(|m| m.iter().map(|(k, v)| format!("{k} {v} min")).collect())
        .unwrap_or_default();
    let items = [
        ("Active user", "a user with a row whose Active Sourcegraph User is true on a day of the range (any row, when the export has no such column)."),
        ("Average DAU", "the mean, over every day of the range, of the users active that day."),
        ("Hours saved", "the sum over features of uses × minutes saved per use, ÷ 60."),
        ("Completion acceptance", "accepted ÷ suggested completions (Combined CAR), from the summed counts."),
        ("Code written by Cody", "characters written by Cody ÷ all characters written."),
        ("Partial period", "a week or month the range covers only in part: its counts are not comparable with a whole period's."),
        ("Baseline", "the range's first period: users active before the range cannot be told from new ones, so all its users count as new."),
        ("Small sample", "a rate whose denominator is under the minimum (a cohort, a period's active users, the suggestions): a hint, not a figure."),
        ("DAU/MAU", "average DAU ÷ the period's active users."),
        ("Feature use", "search: searches; completions: accepted completions; chat: chat and command events; auto-edit: accepted auto-edits; each > 0 in the period."),
        ("Credits per active user / per hour saved", "the month's (or range's) credits used ÷ its active users / hours saved; credits are the whole instance's."),
    ];
    let mut out = String::from("<section><h2>Definitions</h2><dl>");
    for (term, text) in items {
        let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", esc(term), esc(text));
    }
    if !minutes.is_empty() {
        let _ = write!(
            out,
            "<dt>Minutes saved per use</dt><dd>{}</dd>",
            esc(&minutes.join(", "))
        );
    }
    out.push_str("</dl></section>");
    out
}
