//! Adoption answers over the rows a filter keeps (docs/numbers.md, "Adoption answers"): growth
//! accounting and retention cohorts per week or month; the users with no active day lately are
//! `inactive`'s.
//!
//! All three start from the same facts ([`Activity`]): each user's active days in the range. A user is active on
//! a day when a kept row of theirs for that day says so (`Active Sourcegraph User`; without that
//! column, any kept row).

use serde::{Deserialize, Serialize};

use crate::date::{month_end, month_start};
use crate::error::Error;
use crate::table::{Data, Table};

use super::filter::Selection;
pub use super::period::Period;
use super::spec::Filter;
use super::spec::DEFAULT_MIN_SAMPLE;

/// Most periods a retention table spans (its size grows with the square of the periods).
const MAX_RETENTION_PERIODS: usize = 1000;

/// What growth accounting and retention cohorts ask: a period and a filter.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct PeriodQuery {
    /// `week` or `month` (the default).
    pub period: Period,
    /// The rows to consider.
    pub filter: Filter,
    /// The smallest denominator a rate is shown firmly over (each period's or cohort's
    /// `smallSample`). Default: [`DEFAULT_MIN_SAMPLE`].
    pub min_sample: Option<u64>,
}

impl PeriodQuery {
    /// The minimum the query sets, else the default.
    pub(super) fn min_sample(&self) -> u64 {
        self.min_sample.unwrap_or(DEFAULT_MIN_SAMPLE)
    }
}

/// Whether a rate over `denominator` is a small sample: there is a rate (the denominator is not
/// 0) and it stands on fewer than `minimum`.
pub(super) fn small(denominator: u64, minimum: u64) -> bool {
    denominator > 0 && denominator < minimum
}

/// Growth accounting: per period, who was active, new, retained, resurrected or churned.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Growth {
    /// The period length.
    pub period: Period,
    /// The smallest denominator a rate is shown firmly over.
    pub min_sample: u64,
    /// Every period of the range, empty ones included.
    pub periods: Vec<GrowthPeriod>,
}

/// One period of [`Growth`].
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GrowthPeriod {
    /// The period's key (`YYYY-MM-DD` of the Monday, or `YYYY-MM`).
    pub period: String,
    /// Whether the range leaves out some of the period's days (the first or the last period):
    /// its counts are not comparable with a whole period's.
    pub partial: bool,
    /// Users active in the period.
    pub active_users: u64,
    /// Active in the period and in no earlier period of the range.
    pub new_users: u64,
    /// Active in the period and the one before.
    pub retained_users: u64,
    /// Active in the period, not in the one before, but in an earlier one.
    pub resurrected_users: u64,
    /// Active in the period before, not in this one.
    pub churned_users: u64,
    /// (new + resurrected) / churned; `None` when no one churned.
    pub quick_ratio: Option<f64>,
    /// Whether the quick ratio stands on fewer churned users than the minimum.
    pub small_sample: bool,
}

/// Retention cohorts: for the users first active in each period, how many are active k periods
/// later.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Retention {
    /// The period length.
    pub period: Period,
    /// The smallest denominator a rate is shown firmly over.
    pub min_sample: u64,
    /// The cohorts with users, oldest first.
    pub cohorts: Vec<Cohort>,
    /// The keys of the periods the range covers only in part (the first, the last, or both).
    pub partial_periods: Vec<String>,
}

/// One cohort of [`Retention`].
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Cohort {
    /// The period the cohort's users were first active in.
    pub cohort: String,
    /// How many users the cohort has.
    pub users: u64,
    /// `active[k]`: how many of them are active k periods later, up to the range's last period.
    pub active: Vec<u64>,
    /// Whether the cohort (the denominator of its shares) has fewer users than the minimum.
    #[serde(rename = "smallSample")]
    pub small_sample: bool,
}

/// The kept rows' users and their active days, over the range.
pub(super) struct Activity {
    /// The range's first and last day (`None` when nothing is kept and no dates are given).
    pub range: Option<(i32, i32)>,
    /// The days the range covers.
    coverage: Coverage,
    /// For each user (by dictionary code) with a kept row: their active days in the range,
    /// ascending and distinct; users with a kept row but no active day have an empty list.
    pub days: Vec<Option<Vec<i32>>>,
    /// For each user with a kept row, the first such row.
    pub first_rows: Vec<u32>,
}

impl Activity {
    pub(super) fn of(table: &Table, filter: &Filter, what: &str) -> Result<Activity, Error> {
        Activity::visiting(table, filter, what, &mut |_, _, _| {})
    }

    /// [`Activity::of`], calling `visit(row, user code, day)` for each row that makes its user
    /// active on a day of the range.
    pub(super) fn visiting(
        table: &Table,
        filter: &Filter,
        what: &str,
        visit: &mut dyn FnMut(usize, usize, i32),
    ) -> Result<Activity, Error> {
        let (dates, users) = activity_columns(table, what)?;
        let selection: Selection = table.select(filter)?;
        let active = active_flags(table);
        let kept_days = || {
            (0..table.rows)
                .filter(|&r| selection.keeps(r) && dates.get(r) != crate::column::NULL_DAY)
        };
        let lo = selection
            .from
            .or_else(|| kept_days().map(|r| dates.get(r)).min());
        let hi = selection
            .to
            .or_else(|| kept_days().map(|r| dates.get(r)).max());
        let range = lo.zip(hi).filter(|(lo, hi)| lo <= hi);
        let mut days: Vec<Option<Vec<i32>>> = vec![None; users.values.len()];
        let mut first_rows = vec![0u32; users.values.len()];
        for row in (0..table.rows).filter(|&r| selection.keeps(r)) {
            let code = users.codes.get(row) as usize;
            let list = days[code].get_or_insert_with(|| {
                first_rows[code] = row as u32;
                Vec::new()
            });
            let d = dates.get(row);
            let in_range = range.is_some_and(|(lo, hi)| (lo..=hi).contains(&d));
            if in_range && active.is_none_or(|a| a[row] == 1) {
                visit(row, code, d);
                if list.last() != Some(&d) {
                    list.push(d);
                }
            }
        }
        for list in days.iter_mut().flatten() {
            if !list.is_sorted() {
                // The cold paths' one sort (see `crate::order`), not one more copy of it for `i32`.
                let mut order: Vec<u32> = (0..list.len() as u32).collect();
                crate::order::sort_indices(&mut order, &|a, b| {
                    list[a as usize].cmp(&list[b as usize])
                });
                *list = order.into_iter().map(|i| list[i as usize]).collect();
                list.dedup();
            }
        }
        let coverage = Coverage::of(table, (selection.from, selection.to), range);
        Ok(Activity {
            range,
            coverage,
            days,
            first_rows,
        })
    }

    /// Whether the range leaves out some of the days of the period with number `number`.
    pub(super) fn partial(&self, period: Period, number: i64) -> bool {
        self.coverage.partial(period, number)
    }

    /// What growth and retention are computed from.
    fn facts(&self, period: Period) -> PeriodFacts {
        let (first, count, users) = self.periods(period);
        PeriodFacts {
            first,
            count,
            users,
            coverage: self.coverage,
        }
    }

    /// The period numbers of the range (first, count), and each user's active periods (ascending,
    /// distinct; users with none left out).
    pub(super) fn periods(&self, period: Period) -> (i64, usize, Vec<Vec<usize>>) {
        let Some((lo, hi)) = self.range else {
            return (0, 0, Vec::new());
        };
        let (first, count) = range_periods(period, lo, hi);
        // Each day of the range's period, computed once.
        let of_day: Vec<u32> = (lo..=hi)
            .map(|d| (period.number(d) - first) as u32)
            .collect();
        let users = self
            .days
            .iter()
            .flatten()
            .filter(|d| !d.is_empty())
            .map(|days| {
                let mut ps: Vec<usize> = days
                    .iter()
                    .map(|&d| of_day[(i64::from(d) - i64::from(lo)) as usize] as usize)
                    .collect();
                ps.dedup();
                ps
            })
            .collect();
        (first, count, users)
    }
}

/// The dates and the users an activity is read from, or an error that says which the export lacks
/// (`what`: the answer asking).
pub(super) fn activity_columns<'t>(
    table: &'t Table,
    what: &str,
) -> Result<(&'t crate::column::DayColumn, &'t crate::column::TextColumn), Error> {
    let Some(dates) = table.dates() else {
        return Err(Error::query(format!(
            "{what} needs dates, and this {} export has none: fetch it at the by_user_day \
             (or finer) granularity",
            table.granularity
        )));
    };
    let Some(users) = table.identity() else {
        return Err(Error::query(format!(
            "{what} needs users: the export has no user ID, e-mail or username column"
        )));
    };
    Ok((dates, users))
}

/// Per row, whether it says its user was active (`Active Sourcegraph User`: 1 true); `None`
/// without that column (every kept row counts).
pub(super) fn active_flags(table: &Table) -> Option<&crate::column::Chunked<u8>> {
    match table.active.map(|i| &table.columns[i].data) {
        Some(Data::Bool(b)) => Some(b),
        _ => None,
    }
}

/// The first period number of the range `lo..=hi` and how many periods it spans.
pub(super) fn range_periods(period: Period, lo: i32, hi: i32) -> (i64, usize) {
    let first = period.number(lo);
    (first, (period.number(hi) - first + 1) as usize)
}

/// The days a range covers: the range, except that a month-grain export's rows cover their whole
/// month, so a bound read from its rows (not given by the filter) reaches the month's edge.
#[derive(Clone, Copy, Debug)]
pub(super) struct Coverage(Option<(i32, i32)>);

impl Coverage {
    /// The coverage of `range` (the filter's dates `bounds`, else the kept rows' first and
    /// last) in `table`'s granularity.
    pub(super) fn of(
        table: &Table,
        bounds: (Option<i32>, Option<i32>),
        range: Option<(i32, i32)>,
    ) -> Coverage {
        let months = !table.granularity.has_days();
        Coverage(range.map(|(lo, hi)| match months {
            true => (
                if bounds.0.is_some() {
                    lo
                } else {
                    month_start(lo)
                },
                if bounds.1.is_some() {
                    hi
                } else {
                    month_end(hi)
                },
            ),
            false => (lo, hi),
        }))
    }

    /// Whether the range leaves out some of the days of the period with number `number`.
    pub(super) fn partial(&self, period: Period, number: i64) -> bool {
        let (start, end) = period.days(number);
        self.0.is_some_and(|(lo, hi)| start < lo || end > hi)
    }

    /// The numbers of the last two periods the range covers whole, oldest first ("the last
    /// complete period and the one before"); `None` when it covers fewer than two.
    pub(super) fn last_two_whole(&self, period: Period) -> Option<[i64; 2]> {
        let (_, hi) = self.0?;
        let n = period.number(hi);
        let last = if self.partial(period, n) { n - 1 } else { n };
        (!self.partial(period, last) && !self.partial(period, last - 1)).then_some([last - 1, last])
    }

    /// The keys of the range's partial periods (the first and the last at most).
    fn partial_keys(&self, period: Period, first: i64, count: usize) -> Vec<String> {
        let mut keys = Vec::new();
        for n in [first, first + count as i64 - 1] {
            if count > 0 && self.partial(period, n) && keys.last() != Some(&period.key(n)) {
                keys.push(period.key(n));
            }
        }
        keys
    }
}

/// What growth and retention are computed from, by the whole table ([`Activity::periods`]) or
/// chunk by chunk (`super::activity_stream`): the range's first period number and how many
/// periods it spans, each user's active periods (indices from the first, ascending, distinct;
/// users with none left out), and the days the range covers.
pub(super) struct PeriodFacts {
    pub first: i64,
    pub count: usize,
    pub users: Vec<Vec<usize>>,
    pub coverage: Coverage,
}

/// Growth accounting from the facts of its periods.
pub(super) fn growth(query: &PeriodQuery, facts: &PeriodFacts) -> Growth {
    let PeriodFacts {
        first,
        count,
        ref users,
        coverage,
    } = *facts;
    let mut rows = vec![[0u64; 5]; count];
    let [active, new, retained, resurrected, churned] = [0, 1, 2, 3, 4];
    for periods in users {
        rows[periods[0]][new] += 1;
        for (i, &p) in periods.iter().enumerate() {
            rows[p][active] += 1;
            if i > 0 {
                let kind = if periods[i - 1] + 1 == p {
                    retained
                } else {
                    resurrected
                };
                rows[p][kind] += 1;
            }
            let next = periods.get(i + 1).copied();
            if next != Some(p + 1) && p + 1 < count {
                rows[p + 1][churned] += 1;
            }
        }
    }
    let periods = rows
        .iter()
        .enumerate()
        .map(|(i, r)| GrowthPeriod {
            period: query.period.key(first + i as i64),
            partial: coverage.partial(query.period, first + i as i64),
            active_users: r[active],
            new_users: r[new],
            retained_users: r[retained],
            resurrected_users: r[resurrected],
            churned_users: r[churned],
            quick_ratio: (r[churned] > 0)
                .then(|| (r[new] + r[resurrected]) as f64 / r[churned] as f64),
            small_sample: small(r[churned], query.min_sample()),
        })
        .collect();
    Growth {
        period: query.period,
        min_sample: query.min_sample(),
        periods,
    }
}

/// Retention cohorts from the facts of their periods.
pub(super) fn retention(query: &PeriodQuery, facts: &PeriodFacts) -> Result<Retention, Error> {
    let PeriodFacts {
        first,
        count,
        ref users,
        coverage,
    } = *facts;
    if count > MAX_RETENTION_PERIODS {
        return Err(Error::query(format!(
            "retention over {count} periods is more than the {MAX_RETENTION_PERIODS} a table \
             can show: narrow the date range or use month periods"
        )));
    }
    let mut cohorts: Vec<Option<Cohort>> = vec![None; count];
    for periods in users {
        let c = periods[0];
        let cohort = cohorts[c].get_or_insert_with(|| Cohort {
            cohort: query.period.key(first + c as i64),
            users: 0,
            active: vec![0; count - c],
            small_sample: false,
        });
        cohort.users += 1;
        for &p in periods {
            cohort.active[p - c] += 1;
        }
    }
    let minimum = query.min_sample();
    Ok(Retention {
        period: query.period,
        min_sample: minimum,
        cohorts: cohorts
            .into_iter()
            .flatten()
            .map(|c| Cohort {
                small_sample: small(c.users, minimum),
                ..c
            })
            .collect(),
        partial_periods: coverage.partial_keys(query.period, first, count),
    })
}

pub(super) fn check_grain(table: &Table, period: Period, what: &str) -> Result<(), Error> {
    if period == Period::Week && !table.granularity.has_days() {
        return Err(Error::query(format!(
            "{what} by week needs days, and this {} export has months only: use month periods \
             or fetch the by_user_day granularity",
            table.granularity
        )));
    }
    Ok(())
}

impl Table {
    /// Growth accounting per period over the rows `query.filter` keeps.
    pub fn growth(&self, query: &PeriodQuery) -> Result<Growth, Error> {
        check_grain(self, query.period, "growth")?;
        let activity = Activity::of(self, &query.filter, "growth")?;
        Ok(growth(query, &activity.facts(query.period)))
    }

    /// Retention cohorts per period over the rows `query.filter` keeps.
    pub fn retention(&self, query: &PeriodQuery) -> Result<Retention, Error> {
        check_grain(self, query.period, "retention")?;
        let activity = Activity::of(self, &query.filter, "retention")?;
        retention(query, &activity.facts(query.period))
    }
}
