//! What a set of metrics needs computed per group ([`Needs`]), the state computed ([`Stats`]), and
//! each metric's value from it: counts summed, rates recomputed from their summed parts
//! (docs/numbers.md). Filled over a grouping's rows by `aggregate`, or from the roll-ups.

use crate::column::{weighted_heap_bytes, Acc, NumColumn, WeightedSums};
use crate::summary::Cell;
use crate::table::{Data, Measure, Table};

use super::spec::Metric;

/// What a set of metrics needs computed: distinct counts, and per column a sum, a count of
/// non-empty cells, or a weighted sum.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Needs {
    pub distinct: DistinctNeeds,
    /// Column indexes to sum.
    pub sums: Vec<usize>,
    /// Columns whose non-empty cells are counted (row means).
    pub counts: Vec<usize>,
    /// Columns with a suggestion-weighted mean.
    pub weighted: Vec<usize>,
}

impl Needs {
    /// Whether everything `other` needs is computed for `self`.
    pub fn covers(&self, other: &Needs) -> bool {
        let d = (self.distinct, other.distinct);
        (d.0.users || !d.1.users)
            && (d.0.active_users || !d.1.active_users)
            && (d.0.user_days || !d.1.user_days)
            && (d.0.active_user_days || !d.1.active_user_days)
            && other.sums.iter().all(|i| self.sums.contains(i))
            && other.counts.iter().all(|i| self.counts.contains(i))
            && other.weighted.iter().all(|i| self.weighted.contains(i))
    }

    /// Adds what `other` needs.
    pub fn add(&mut self, other: &Needs) {
        let d = &mut self.distinct;
        d.users |= other.distinct.users;
        d.active_users |= other.distinct.active_users;
        d.user_days |= other.distinct.user_days;
        d.active_user_days |= other.distinct.active_user_days;
        for (mine, theirs) in [
            (&mut self.sums, &other.sums),
            (&mut self.counts, &other.counts),
            (&mut self.weighted, &other.weighted),
        ] {
            for &i in theirs {
                if !mine.contains(&i) {
                    mine.push(i);
                }
            }
        }
    }

    pub fn of(table: &Table, metrics: &[Metric], minutes: &[(usize, f64)]) -> Needs {
        let mut needs = Needs::default();
        let sum = |i: usize, needs: &mut Needs| {
            if !needs.sums.contains(&i) {
                needs.sums.push(i);
            }
        };
        for &metric in metrics {
            match metric {
                Metric::Rows => {}
                Metric::Users => needs.distinct.users = true,
                Metric::ActiveUsers => needs.distinct.active_users = true,
                Metric::AvgDau => needs.distinct.active_user_days = true,
                Metric::AvgDaysActivePerUser => {
                    needs.distinct.users = true;
                    needs.distinct.user_days = true;
                }
                Metric::HoursSaved => minutes.iter().for_each(|&(i, _)| sum(i, &mut needs)),
                Metric::Column(i) => match table.columns[i].measure {
                    Some(Measure::Sum) => sum(i, &mut needs),
                    Some(Measure::Ratio {
                        numerator,
                        denominator,
                        ..
                    }) => {
                        sum(numerator, &mut needs);
                        sum(denominator, &mut needs);
                    }
                    Some(Measure::WeightedMean { .. }) => needs.weighted.push(i),
                    Some(Measure::Mean) => {
                        sum(i, &mut needs);
                        needs.counts.push(i);
                    }
                    None => {}
                },
            }
        }
        needs
    }
}

/// Which distinct counts to compute.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct DistinctNeeds {
    pub users: bool,
    pub active_users: bool,
    pub user_days: bool,
    pub active_user_days: bool,
}

impl DistinctNeeds {
    pub fn any(self) -> bool {
        self.users || self.active_users || self.user_days || self.active_user_days
    }
}

/// Per group: distinct users, active users, user-days and active user-days (those asked for).
#[derive(Debug, Default)]
pub(crate) struct DistinctCounts {
    pub users: Vec<u64>,
    pub active_users: Vec<u64>,
    pub user_days: Vec<u64>,
    pub active_user_days: Vec<u64>,
}

/// The accumulated state of every group of a grouping.
pub(crate) struct Stats {
    pub rows: Vec<u64>,
    pub distinct: DistinctCounts,
    /// Calendar days in each group's part of the range (`None` without daily figures).
    pub days_in_range: Option<Vec<u64>>,
    /// Per column index: sums, counts of non-empty cells, Σ(weight × value) and Σ weight.
    pub sums: Vec<Option<Acc>>,
    pub counts: Vec<Option<Vec<u32>>>,
    pub weighted: Vec<Option<WeightedSums>>,
}

/// The range of days that daily averages are taken over: the filter's from/to where given, else
/// the data's first and last date (`None` without day grain).
pub(crate) fn average_range(
    table: &Table,
    from: Option<i32>,
    to: Option<i32>,
) -> Option<(i32, i32)> {
    match (from.or(table.first_date), to.or(table.last_date)) {
        (Some(lo), Some(hi)) if table.granularity.has_days() && lo <= hi => Some((lo, hi)),
        _ => None,
    }
}

impl Stats {
    /// Rows per group and nothing else yet, for a table of `columns` columns.
    pub fn empty(rows: Vec<u64>, columns: usize) -> Stats {
        Stats {
            rows,
            distinct: DistinctCounts::default(),
            days_in_range: None,
            sums: vec![None; columns],
            counts: vec![None; columns],
            weighted: vec![None; columns],
        }
    }

    pub fn heap_bytes(&self) -> usize {
        let acc = |a: &Acc| match a {
            Acc::Int(v) => v.capacity() * 8,
            Acc::Float(v) => v.capacity() * 8,
        };
        let d = &self.distinct;
        self.rows.capacity() * 8
            + (d.users.capacity()
                + d.active_users.capacity()
                + d.user_days.capacity()
                + d.active_user_days.capacity())
                * 8
            + self.days_in_range.as_ref().map_or(0, |v| v.capacity() * 8)
            + self.sums.iter().flatten().map(acc).sum::<usize>()
            + self
                .counts
                .iter()
                .flatten()
                .map(|c| c.capacity() * 4)
                .sum::<usize>()
            + weighted_heap_bytes(&self.weighted)
    }

    /// The additive state of every group merged into one group (sums, counts, weighted sums and
    /// rows; not the distinct counts, which do not add up).
    pub fn merged(&self, table: &Table) -> Stats {
        let one = |v: &[u32]| vec![v.iter().map(|&c| u64::from(c)).sum::<u64>() as u32];
        Stats {
            rows: vec![self.rows.iter().sum()],
            distinct: DistinctCounts::default(),
            days_in_range: None,
            sums: self
                .sums
                .iter()
                .enumerate()
                .map(|(i, acc)| {
                    acc.as_ref().map(|acc| match acc {
                        // A total past i64 is the nearest float, as a group's would be.
                        Acc::Int(s) => match s.iter().try_fold(0i64, |a, &x| a.checked_add(x)) {
                            Some(total) => Acc::Int(vec![total]),
                            None => {
                                Acc::Float(vec![(0..s.len()).map(|g| self.sum(table, i, g)).sum()])
                            }
                        },
                        Acc::Float(s) => Acc::Float(vec![s.iter().sum()]),
                    })
                })
                .collect(),
            counts: self.counts.iter().map(|c| c.as_deref().map(one)).collect(),
            weighted: self
                .weighted
                .iter()
                .map(|w| {
                    w.as_ref().map(|(num, den, scale)| {
                        (vec![num.iter().sum()], vec![den.iter().sum()], *scale)
                    })
                })
                .collect(),
        }
    }

    fn sum(&self, table: &Table, i: usize, g: usize) -> f64 {
        match (&table.columns[i].data, &self.sums[i]) {
            (Data::Num(n), Some(acc)) => n.sum_value(acc, g),
            _ => 0.0,
        }
    }

    /// The value of `metric` for group `g`.
    pub fn value(&self, table: &Table, metric: Metric, g: usize, minutes: &[(usize, f64)]) -> Cell {
        let has_users = table.identity().is_some();
        let count = |v: &[u64]| {
            if has_users {
                Cell::Int(v[g] as i64)
            } else {
                Cell::Null
            }
        };
        let daily = |num: &[u64], den: u64| match &self.days_in_range {
            Some(_) if has_users => ratio(num[g] as f64, den as f64),
            _ => Cell::Null,
        };
        match metric {
            Metric::Rows => Cell::Int(self.rows[g] as i64),
            Metric::Users => count(&self.distinct.users),
            Metric::ActiveUsers => count(&self.distinct.active_users),
            Metric::AvgDau => daily(
                &self.distinct.active_user_days,
                self.days_in_range.as_ref().map_or(0, |d| d[g]),
            ),
            Metric::AvgDaysActivePerUser => daily(&self.distinct.user_days, self.distinct.users[g]),
            Metric::HoursSaved => Cell::float(
                minutes
                    .iter()
                    .map(|&(i, m)| self.sum(table, i, g) * m / 60.0)
                    .sum(),
            ),
            Metric::Column(i) => {
                let Data::Num(values) = &table.columns[i].data else {
                    return Cell::Null;
                };
                match table.columns[i].measure {
                    Some(Measure::Sum) => sum_cell(values, self.sums[i].as_ref(), g),
                    Some(Measure::Ratio {
                        numerator,
                        denominator,
                        factor,
                    }) => ratio(
                        f64::from(factor) * self.sum(table, numerator, g),
                        self.sum(table, denominator, g),
                    ),
                    Some(Measure::WeightedMean { .. }) => match &self.weighted[i] {
                        Some((num, den, scale)) => match ratio(num[g], den[g]) {
                            Cell::Float(x) => Cell::float(x / scale),
                            other => other,
                        },
                        None => Cell::Null,
                    },
                    Some(Measure::Mean) => match &self.counts[i] {
                        Some(c) => ratio(self.sum(table, i, g), f64::from(c[g])),
                        None => Cell::Null,
                    },
                    None => Cell::Null,
                }
            }
        }
    }
}

/// A sum: exact integers for whole-number columns, else the float.
fn sum_cell(values: &NumColumn, acc: Option<&Acc>, g: usize) -> Cell {
    match acc {
        Some(Acc::Int(s)) if values.scale == 0 => Cell::Int(s[g]),
        Some(acc) => Cell::float(values.sum_value(acc, g)),
        None => Cell::Null,
    }
}

/// `num / den`, or null when the denominator is 0.
fn ratio(num: f64, den: f64) -> Cell {
    if den == 0.0 {
        Cell::Null
    } else {
        Cell::float(num / den)
    }
}
