//! Adoption answers over the rows a filter keeps (docs/numbers.md, "Adoption answers"): growth
//! accounting and retention cohorts per week or month, and the users with no active day lately.
//!
//! All three start from the same facts: each user's active days in the range. A user is active on
//! a day when a kept row of theirs for that day says so (`Active Sourcegraph User`; without that
//! column, any kept row).

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::date::{
    format_day, format_month, month_end, month_first_day, month_number, month_start, week_start,
};
use crate::error::Error;
use crate::query::DEFAULT_MIN_SAMPLE;
use crate::registry::Registry;
use crate::table::{Data, Table};

use super::filter::Selection;
use super::spec::Filter;

/// Most periods a retention table spans (its size grows with the square of the periods).
const MAX_RETENTION_PERIODS: usize = 1000;

/// The length of a period: a week (starting on Monday) or a calendar month.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    /// Monday to Sunday; keyed by the Monday, `YYYY-MM-DD`.
    Week,
    /// A calendar month; keyed `YYYY-MM`.
    #[default]
    Month,
}

impl Period {
    /// Parses `week` or `month`.
    pub fn parse(s: &str) -> Result<Period, Error> {
        match s.trim() {
            "week" => Ok(Period::Week),
            "month" => Ok(Period::Month),
            other => Err(Error::query(format!(
                "period: expected \"week\" or \"month\", found {other:?}"
            ))),
        }
    }

    /// The period's number, counted from an arbitrary origin (consecutive periods differ by 1).
    pub(super) fn number(self, day: i32) -> i64 {
        match self {
            // Day 4 (1970-01-05) is a Monday: every Monday is 4 more than a multiple of 7.
            Period::Week => (i64::from(week_start(day)) - 4).div_euclid(7),
            Period::Month => month_number(day),
        }
    }

    /// The first and last day of the period with this number.
    pub(super) fn days(self, number: i64) -> (i32, i32) {
        match self {
            Period::Week => {
                let monday = (number * 7 + 4) as i32;
                (monday, monday + 6)
            }
            Period::Month => {
                let first = month_first_day(number).unwrap_or(i32::MAX);
                (first, month_end(first))
            }
        }
    }

    /// The key of the period with this number.
    pub(super) fn key(self, number: i64) -> String {
        match self {
            Period::Week => format_day((number * 7 + 4) as i32),
            Period::Month => month_first_day(number).map_or_else(String::new, format_month),
        }
    }
}

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

/// What the inactive-users answer asks: how many days without activity, and a filter.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InactiveQuery {
    /// A user is inactive with no active day in the `days` days ending at the range's last day.
    pub days: u32,
    /// The rows to consider.
    #[serde(default)]
    pub filter: Filter,
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

/// The users with no active day in the last `days` days of the range.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Inactive {
    /// The days without activity asked for.
    pub days: u32,
    /// The range's last day (`None` when no row is kept and no date is given).
    pub as_of: Option<String>,
    /// The inactive users: never active first, then the longest inactive, then by user ID.
    pub users: Vec<InactiveUser>,
    /// Whether a user registry was joined: every user then carries its flags, and the CSV
    /// ([`Inactive::to_csv`]) has their columns. Not part of the JSON (the flags say it).
    #[serde(skip)]
    pub registry: bool,
}

/// One user of [`Inactive`].
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct InactiveUser {
    /// The user's key (the instance user ID, else the e-mail or username the export has).
    pub user: String,
    /// The user's e-mail, when the export has the column and the user is in it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The user's username, likewise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The user's last active day in the range (`None`: never active in it).
    pub last_active: Option<String>,
    /// With a registry: whether the registry marks the user a service account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_account: Option<bool>,
    /// With a registry: whether the registry marks the user a site admin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site_admin: Option<bool>,
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
    first_rows: Vec<u32>,
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

    /// The users with no active day in the last `query.days` days of the range: the users of the
    /// kept rows and, with a registry, every user it lists that the filter is about (its user
    /// names or search, people-file attributes, service accounts and, for clients or languages,
    /// a row of them in the export). Dates and "active only" decide which days count, not whose
    /// seat it is.
    pub fn inactive_users(
        &self,
        query: &InactiveQuery,
        registry: Option<&Registry>,
    ) -> Result<Inactive, Error> {
        check_inactive(query)?;
        if registry.is_some() && self.user_id.is_none() {
            return Err(Error::query(
                "a user registry matches users by Instance user ID, and this export has no such \
                 column",
            ));
        }
        let activity = Activity::of(self, &query.filter, INACTIVE)?;
        // Whose seats the filter is about: a registry adds only the users that pass it too.
        let candidates = query.filter.select_users(self)?;
        let as_of = activity.range.map(|(_, hi)| hi);
        let since = inactive_since(query, as_of);
        let users = self.identity().expect("Activity::of checks the users");
        // The e-mail and username beside a user ID, read from the user's first kept row, or, for
        // a registry's user with no kept row, from their first row in the export.
        let first_rows = registry.is_some().then(|| users.first_rows());
        let text = |column: Option<usize>, code: usize| -> Option<String> {
            let t = self.text(column).filter(|_| self.user_id.is_some())?;
            let row = match &activity.days[code] {
                Some(_) => activity.first_rows[code],
                None => first_rows.as_ref()?[code],
            };
            Some(t.value(row as usize).to_string())
        };
        let flags = |id: &str| registry.map(|r| r.flags(id).unwrap_or(0));
        let mut out: Vec<(Option<i32>, InactiveUser)> = Vec::new();
        for (code, days) in activity.days.iter().enumerate() {
            // Users with a kept row, and a registry's users whose rows the filter's dates,
            // clients or activity left out (their seats are still the filter's).
            if days.is_none() && !(registry.is_some() && candidates.keeps(code)) {
                continue;
            }
            let user = users.values[code].clone();
            if days.is_none() && registry.is_some_and(|r| r.flags(&user).is_none()) {
                continue;
            }
            let last = days.as_ref().and_then(|d| d.last().copied());
            if !inactive(last, since) {
                continue;
            }
            let f = flags(&user);
            out.push((
                last,
                InactiveUser {
                    email: text(self.email, code),
                    username: text(self.username, code),
                    user,
                    last_active: last.map(format_day),
                    service_account: f.map(|f| f & 1 != 0),
                    site_admin: f.map(|f| f & 2 != 0),
                },
            ));
        }
        if let Some(registry) = registry {
            let in_export: HashSet<&str> = users.values.iter().map(String::as_str).collect();
            for (id, f) in registry.users() {
                if in_export.contains(id) || !candidates.keeps_absent(id, f) {
                    continue;
                }
                out.push((
                    None,
                    InactiveUser {
                        user: id.to_string(),
                        email: None,
                        username: None,
                        last_active: None,
                        service_account: Some(f & 1 != 0),
                        site_admin: Some(f & 2 != 0),
                    },
                ));
            }
        }
        Ok(inactive_answer(query, as_of, out, registry.is_some()))
    }
}

/// How the inactive users list names itself in errors.
pub(super) const INACTIVE: &str = "the inactive users list";

/// Checks the inactive users query.
pub(super) fn check_inactive(query: &InactiveQuery) -> Result<(), Error> {
    if query.days == 0 {
        return Err(Error::query("days: expected at least 1"));
    }
    Ok(())
}

/// The first day of the last `query.days` days of the range (which ends `as_of`).
pub(super) fn inactive_since(query: &InactiveQuery, as_of: Option<i32>) -> Option<i64> {
    as_of.map(|d| i64::from(d) - i64::from(query.days) + 1)
}

/// Whether a user last active on `last` (`None`: never) has no active day since `since`.
pub(super) fn inactive(last: Option<i32>, since: Option<i64>) -> bool {
    last.is_none_or(|d| since.is_none_or(|s| i64::from(d) < s))
}

/// The answer from its inactive users and their last active days: never active first, then the
/// longest inactive, then by user.
pub(super) fn inactive_answer(
    query: &InactiveQuery,
    as_of: Option<i32>,
    out: Vec<(Option<i32>, InactiveUser)>,
    registry: bool,
) -> Inactive {
    let mut order: Vec<u32> = (0..out.len() as u32).collect();
    crate::order::sort_indices(&mut order, &|a, b| {
        let ((a, ua), (b, ub)) = (&out[a as usize], &out[b as usize]);
        a.cmp(b).then_with(|| ua.user.cmp(&ub.user))
    });
    let mut out: Vec<Option<InactiveUser>> = out.into_iter().map(|(_, u)| Some(u)).collect();
    Inactive {
        days: query.days,
        as_of: as_of.map(format_day),
        users: order
            .into_iter()
            .filter_map(|i| out[i as usize].take())
            .collect(),
        registry,
    }
}
