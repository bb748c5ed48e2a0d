//! Writers: the summary as CSV (JSON is `serde`), and the original rows that pass a filter.

use std::borrow::Cow;
use std::io::Write;

use crate::column::NULL_DAY;
use crate::cost::Cost;
use crate::error::{Error, ErrorKind};
use crate::number::parse_num;
use crate::query::{Features, Filter, Growth, Headers, Inactive, Retention, Stickiness};
use crate::summary::{Cell, Summary};
use crate::table::{Column, Data, Table};

/// Guards a text cell against spreadsheet formula injection: a cell that starts with `=`, `+`, `-`,
/// `@`, tab or CR is prefixed with `'`, unless the whole cell is a number.
pub fn guard_formula(cell: &str) -> Cow<'_, str> {
    let risky = cell
        .as_bytes()
        .first()
        .is_some_and(|b| matches!(b, b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r'));
    if risky && parse_num(cell).is_none() {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

fn io_error(e: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Input, format!("writing CSV: {e}"))
}

fn cell_text(cell: &Cell) -> String {
    match cell {
        Cell::Null => String::new(),
        Cell::Text(s) => guard_formula(s).into_owned(),
        // Numbers and booleans as in the JSON.
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

impl Summary {
    /// The grouped result as CSV: the group keys, then the metrics that mean something per group
    /// ([`Summary::group_metrics`]), one row per group; without group keys, one row of totals with
    /// every metric. When a rate has its denominator among the metrics, a last
    /// column `smallSample` lists the rates of the row whose denominator is under the minimum
    /// (`; ` between them). Text cells are formula-guarded.
    pub fn to_csv(&self) -> String {
        let rows: Vec<(&[Cell], &[Cell])> = if self.group_by.is_empty() {
            vec![(&[], &self.totals)]
        } else {
            self.groups
                .iter()
                .map(|g| (&g.key[..], &g.values[..]))
                .collect()
        };
        let flagged = !self.denominators.is_empty();
        let grouped = !self.group_by.is_empty();
        let shown = |i: usize| !grouped || self.is_group_metric(i);
        let keys = self.key_names.len();
        let metric_names = match self.headers {
            Headers::Names => &self.metrics[..],
            Headers::Labels => &self.labels[keys..],
        };
        let key_names = match self.headers {
            Headers::Names => &self.key_names[..],
            Headers::Labels => &self.labels[..keys],
        };
        let names: Vec<&String> = key_names
            .iter()
            .chain(
                metric_names
                    .iter()
                    .enumerate()
                    .filter(|&(i, _)| shown(i))
                    .map(|(_, n)| n),
            )
            .collect();
        let small = match self.headers {
            Headers::Names => "smallSample",
            Headers::Labels => "Small sample",
        };
        let header = names
            .into_iter()
            .map(|name| guard_formula(name).into_owned())
            .chain(flagged.then(|| small.to_string()))
            .collect();
        let lines: Vec<Vec<String>> = std::iter::once(header)
            .chain(rows.into_iter().map(|(key, values)| {
                key.iter()
                    .chain(
                        values
                            .iter()
                            .enumerate()
                            .filter(|&(i, _)| shown(i))
                            .map(|(_, v)| v),
                    )
                    .map(cell_text)
                    .chain(flagged.then(|| {
                        let small = if grouped {
                            self.group_small_sample(values)
                        } else {
                            self.small_sample(values)
                        };
                        guard_formula(&small.join("; ")).into_owned()
                    }))
                    .collect()
            }))
            .collect();
        csv_text(&lines)
    }
}

impl Inactive {
    /// The columns of the inactive users' CSV and table: `user`, `email`, `username`,
    /// `lastActive`, then `serviceAccount` and `siteAdmin` when a user registry was joined.
    pub fn header(&self) -> Vec<&'static str> {
        let mut header = vec!["user", "email", "username", "lastActive"];
        if self.registry {
            header.extend(["serviceAccount", "siteAdmin"]);
        }
        header
    }

    /// Each user's cells under [`Inactive::header`], unguarded: blank for a missing e-mail or
    /// username, `never` for no active day, `true`/`false` for the registry's flags.
    pub fn cells(&self) -> Vec<Vec<String>> {
        let flag = |f: Option<bool>| f.map_or(String::new(), |b| b.to_string());
        self.users
            .iter()
            .map(|u| {
                let mut row = vec![
                    u.user.clone(),
                    u.email.clone().unwrap_or_default(),
                    u.username.clone().unwrap_or_default(),
                    u.last_active.clone().unwrap_or_else(|| "never".into()),
                ];
                if self.registry {
                    row.extend([flag(u.service_account), flag(u.site_admin)]);
                }
                row
            })
            .collect()
    }

    /// The inactive users as CSV (the CLI's `inactive --format csv`, the page's download): the
    /// header, then one row per user in the list's order; text cells formula-guarded.
    pub fn to_csv(&self) -> String {
        // The header's names need no guard.
        guarded_csv(&self.header(), &self.cells())
    }
}

/// Header and rows as CSV, every cell formula-guarded.
fn guarded_csv(header: &[&str], rows: &[Vec<String>]) -> String {
    let guard = |cells: &mut dyn Iterator<Item = &str>| -> Vec<String> {
        cells.map(|c| guard_formula(c).into_owned()).collect()
    };
    let lines: Vec<Vec<String>> = std::iter::once(guard(&mut header.iter().copied()))
        .chain(
            rows.iter()
                .map(|row| guard(&mut row.iter().map(String::as_str))),
        )
        .collect();
    csv_text(&lines)
}

/// Lines of cells as CSV text (quoted where CSV needs it). Every small CSV answer (a summary,
/// growth, retention, the inactive users) is written here, through one `write_record`: each other
/// instantiation of the CSV writer would be one more copy of it in the wasm module.
fn csv_text(lines: &[Vec<String>]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    for line in lines {
        // Writing into a Vec cannot fail.
        let _ = w.write_record(line);
    }
    let bytes = w.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

impl Growth {
    /// The columns of the growth CSV and table: `period`, the five user counts, `quickRatio`.
    pub fn header(&self) -> Vec<&'static str> {
        vec![
            "period",
            "activeUsers",
            "newUsers",
            "retainedUsers",
            "resurrectedUsers",
            "churnedUsers",
            "quickRatio",
            "partial",
            "smallSample",
        ]
    }

    /// Each period's cells under [`Growth::header`], unguarded: the counts as integers, the quick
    /// ratio to two decimals, blank when no one churned, whether the range covers the period only
    /// in part and whether the quick ratio stands on fewer churned users than the minimum
    /// (`true`/`false`).
    pub fn cells(&self) -> Vec<Vec<String>> {
        self.periods
            .iter()
            .map(|p| {
                let counts = [
                    p.active_users,
                    p.new_users,
                    p.retained_users,
                    p.resurrected_users,
                    p.churned_users,
                ];
                std::iter::once(p.period.clone())
                    .chain(counts.iter().map(u64::to_string))
                    .chain([p.quick_ratio.map_or(String::new(), |q| format!("{q:.2}"))])
                    .chain([p.partial.to_string(), p.small_sample.to_string()])
                    .collect()
            })
            .collect()
    }

    /// The growth table as CSV (the CLI's `growth --format csv`, the page's download): the
    /// header, then one row per period, oldest first; text cells formula-guarded.
    pub fn to_csv(&self) -> String {
        guarded_csv(&self.header(), &self.cells())
    }
}

impl Retention {
    /// The columns of the retention CSV and table: `cohort`, `users`, then `+0`, `+1`, … up to
    /// the oldest cohort's last period, then `smallSample` (the cohort has fewer users than the
    /// minimum).
    pub fn header(&self) -> Vec<String> {
        let widest = self.cohorts.iter().map(|c| c.active.len()).max();
        let mut header = vec!["cohort".to_string(), "users".to_string()];
        header.extend((0..widest.unwrap_or(0)).map(|k| format!("+{k}")));
        header.push("smallSample".to_string());
        header
    }

    /// Each cohort's cells under [`Retention::header`], unguarded: the active counts (not
    /// shares); a younger cohort has fewer periods after it, and its row has blank cells before
    /// the flag.
    pub fn cells(&self) -> Vec<Vec<String>> {
        let width = self.cohorts.iter().map(|c| c.active.len()).max();
        self.cohorts
            .iter()
            .map(|c| {
                let mut row: Vec<String> = [c.cohort.clone(), c.users.to_string()]
                    .into_iter()
                    .chain(c.active.iter().map(u64::to_string))
                    .collect();
                row.resize(2 + width.unwrap_or(0), String::new());
                row.push(c.small_sample.to_string());
                row
            })
            .collect()
    }

    /// The retention cohorts as CSV (the CLI's `retention --format csv`, the page's download):
    /// the header, then one row per cohort, oldest first; text cells formula-guarded.
    pub fn to_csv(&self) -> String {
        let header = self.header();
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        guarded_csv(&header, &self.cells())
    }
}

/// A number as the JSON answer writes it; blank for `None`.
fn float_text(x: Option<f64>) -> String {
    x.map_or(String::new(), |x| cell_text(&Cell::float(x)))
}

impl Stickiness {
    /// The columns of the stickiness CSV and table: `period`, `partial`, `activeUsers`, `avgDau`,
    /// `dauOverMau`, `smallSample` (DAU/MAU over fewer active users than the minimum), then
    /// `days1`, `days2`, …: how many users were active on exactly that many days of the period
    /// (up to the longest period's days). The flags come before the variable columns, as in the
    /// growth CSV; retention's come last, after its variable ones, to keep its first columns.
    pub fn header(&self) -> Vec<String> {
        let widest = self.periods.iter().map(|p| p.days_active.len()).max();
        let mut header: Vec<String> = [
            "period",
            "partial",
            "activeUsers",
            "avgDau",
            "dauOverMau",
            "smallSample",
        ]
        .map(String::from)
        .into();
        header.extend((1..=widest.unwrap_or(0)).map(|n| format!("days{n}")));
        header
    }

    /// Each period's cells under [`Stickiness::header`], unguarded; a shorter period's row ends
    /// in blank cells.
    pub fn cells(&self) -> Vec<Vec<String>> {
        let width = self.header().len();
        self.periods
            .iter()
            .map(|p| {
                let mut row = vec![
                    p.period.clone(),
                    p.partial.to_string(),
                    p.active_users.to_string(),
                    float_text(Some(p.avg_dau)),
                    float_text(p.dau_over_mau),
                    p.small_sample.to_string(),
                ];
                row.extend(p.days_active.iter().map(u64::to_string));
                row.resize(width, String::new());
                row
            })
            .collect()
    }

    /// The stickiness periods as CSV (the CLI's `stickiness --format csv`, the page's download).
    pub fn to_csv(&self) -> String {
        let header = self.header();
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        guarded_csv(&header, &self.cells())
    }
}

impl Features {
    /// The columns of the feature-depth CSV and table: `period`, `partial`, `activeUsers`,
    /// `smallSample` (fewer active users than the minimum), then per feature `<feature> users` and
    /// `<feature> new users`, then `breadth0` … `breadthN`: the active users who used exactly
    /// that many of the features.
    pub fn header(&self) -> Vec<String> {
        let mut header: Vec<String> = ["period", "partial", "activeUsers", "smallSample"]
            .map(String::from)
            .into();
        header.extend(self.features.iter().map(|f| format!("{f} users")));
        header.extend(self.features.iter().map(|f| format!("{f} new users")));
        header.extend((0..=self.features.len()).map(|k| format!("breadth{k}")));
        header
    }

    /// [`Features::header`] for reading (the CLI's table): each feature under its heading
    /// (`Auto-edit users`, `Auto-edit new users`).
    pub fn labelled_header(&self) -> Vec<String> {
        let label = |f: &str| crate::query::feature_label(f).unwrap_or(f).to_string();
        let mut header = self.header();
        for (i, f) in self.features.iter().enumerate() {
            header[4 + i] = format!("{} users", label(f));
            header[4 + self.features.len() + i] = format!("{} new users", label(f));
        }
        header
    }

    /// Each period's cells under [`Features::header`], unguarded.
    pub fn cells(&self) -> Vec<Vec<String>> {
        self.periods
            .iter()
            .map(|p| {
                [
                    p.period.clone(),
                    p.partial.to_string(),
                    p.active_users.to_string(),
                    p.small_sample.to_string(),
                ]
                .into_iter()
                .chain(p.users.0.iter().map(|(_, n)| n.to_string()))
                .chain(p.new_users.0.iter().map(|(_, n)| n.to_string()))
                .chain(p.breadth.iter().map(u64::to_string))
                .collect()
            })
            .collect()
    }

    /// The feature-depth periods as CSV (the CLI's `features --format csv`, the page's download).
    pub fn to_csv(&self) -> String {
        let header = self.header();
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        guarded_csv(&header, &self.cells())
    }
}

impl Cost {
    /// Each line's cells under [`Cost::header`] (the months, the range, the groups), unguarded:
    /// numbers as the JSON writes them, blank for none.
    pub fn cells(&self) -> Vec<Vec<String>> {
        self.lines()
            .into_iter()
            .map(|l| {
                vec![
                    l.key.clone(),
                    float_text(l.credits_used),
                    l.active_users.to_string(),
                    float_text(Some(l.hours_saved)),
                    float_text(l.credits_per_active_user),
                    float_text(l.credits_per_hour_saved),
                ]
            })
            .collect()
    }

    /// The cost as CSV (the CLI's `cost --format csv`): the months, then a `range` line, then the
    /// groups; text cells formula-guarded.
    pub fn to_csv(&self) -> String {
        guarded_csv(&self.header(), &self.cells())
    }
}

impl Table {
    /// The original rows that pass the filter, as CSV in their original columns and order, under
    /// the header as written: every cell's text as it was read (after CSV unquoting). The only
    /// changes are the formula guard (a leading `'`) and quoting where CSV needs it; invalid
    /// UTF-8 is decoded lossily.
    pub fn filtered_csv(&self, filter: &Filter) -> Result<String, Error> {
        let mut out = Vec::new();
        self.write_filtered_csv(filter, &mut out)?;
        String::from_utf8(out).map_err(io_error)
    }

    /// Like [`Table::filtered_csv`], writing to `out`; returns the number of rows written.
    pub fn write_filtered_csv<W: Write>(&self, filter: &Filter, out: W) -> Result<usize, Error> {
        let selection = self.select(filter)?;
        let mut w = csv::Writer::from_writer(out);
        w.write_record(
            self.columns
                .iter()
                .map(|c| guard_formula(&c.header).into_owned()),
        )
        .map_err(io_error)?;
        let mut cells: Vec<String> = vec![String::new(); self.columns.len()];
        let mut kept: Vec<_> = self.columns.iter().map(|c| c.verbatim.cursor()).collect();
        let mut written = 0;
        for row in 0..self.rows {
            if !selection.keeps(row) {
                continue;
            }
            for ((cell, column), kept) in cells.iter_mut().zip(&self.columns).zip(&mut kept) {
                cell.clear();
                match kept.text(row) {
                    Some(text) => cell.push_str(&guard_formula(text)),
                    None => {
                        render(column, row, cell);
                        let guarded = match guard_formula(cell) {
                            Cow::Owned(guarded) => Some(guarded),
                            Cow::Borrowed(_) => None,
                        };
                        if let Some(guarded) = guarded {
                            *cell = guarded;
                        }
                    }
                }
            }
            w.write_record(&cells).map_err(io_error)?;
            written += 1;
        }
        w.flush().map_err(io_error)?;
        Ok(written)
    }
}

/// A cell whose text the column's format reproduces, from its value.
fn render(column: &Column, row: usize, out: &mut String) {
    let format = &column.verbatim;
    match &column.data {
        Data::Text(t) => out.push_str(t.value(row)),
        Data::Num(n) => format.render_num(n, row, out),
        Data::Date(d) if d.get(row) == NULL_DAY => {}
        Data::Date(d) => format.render_date(d.get(row), out),
        Data::Bool(b) => format.render_bool(b[row], out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_guarded_but_numbers_are_not() {
        assert_eq!(guard_formula("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(guard_formula("+1 555"), "'+1 555");
        assert_eq!(guard_formula("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(guard_formula("\tx"), "'\tx");
        assert_eq!(guard_formula("-3.5"), "-3.5");
        assert_eq!(guard_formula("+7"), "+7");
        assert_eq!(guard_formula("alice"), "alice");
        assert_eq!(guard_formula(""), "");
    }
}
