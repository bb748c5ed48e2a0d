//! The users' months: per user and calendar month, where the user's rows of that month start,
//! its active days, and the sums of every summed column over its rows. A range of dates then
//! adds the months it holds whole from them, and of a month it cuts only the rows (or user-days)
//! inside it, or the month's figure less those outside it when they are fewer: under "Last 90
//! days" of a year that ends on a month's last day, a user's two days at the range's start are
//! read instead of ninety. Used for the grouping by user's sums and for the distinct counts of
//! the totals, under a filter on dates (and users) alone.

use std::rc::Rc;

use crate::column::{try_filled, Acc, DayColumn, Layout, NumColumn, Run, NO_GROUP};
use crate::table::{Data, Measure, Table};

use super::grain::Period;
use super::{day_indexes, level_rows, narrow, try_push, Pass, Rollup};

/// The users' months are kept when the export has at least this many rows per user and month of
/// its range (a year of 80 000 users has 24): where they are smaller than that, they would cost
/// more memory than they save time.
const MONTH_RATIO: usize = 8;

/// ... and at least this many rows (4.2 million). Below that a range's rows are summed in a few
/// milliseconds, and the months, a chunk or less per column and month, are not packed: they
/// would cost a byte a row (1.1 on a year of 3 000 users, 853 028 rows).
const MONTH_ROWS: usize = 1 << 22;

/// See the module's description.
pub(super) struct UserMonths {
    /// Per month of the grid (0 is the month of its first day), its first day index on the grid;
    /// one more at the end, the grid's length.
    first_day: Vec<u32>,
    /// Per day index of the grid, its month.
    month_of: Vec<u16>,
    /// Per user and month boundary (`u × (months + 1) + m`): how many of the user's dated rows
    /// come before month `m` (at the last boundary, all of them).
    before: NumColumn,
    /// Per user and month boundary (`u × (months + 1) + m`): how many of the user's dated
    /// user-days come before month `m`.
    days_before: NumColumn,
    /// Per month, each user's active days in it (days with a row whose `Active Sourcegraph User`
    /// counts as active, or any row without the column).
    active_days: Vec<Vec<u8>>,
    /// Per column index, for summed columns: per month, each user's sum of its rows of that
    /// month, in the column's scaled integers (a column per month: the months a range holds
    /// whole are added for every user at once, in a pass over each month's users).
    sums: Vec<Option<Vec<NumColumn>>>,
}

impl UserMonths {
    /// Builds them for the users of `rollup` (each user's rows together, dated in order, rows
    /// without a date last); `None` when the table has no dates, when they would be large for the
    /// rows (unless `every`: for tests), when a sum passes i64 or when the memory is not there
    /// (the roll-ups go on without them).
    pub(super) fn build(table: &Table, rollup: &Rollup, every: bool) -> Option<UserMonths> {
        let (grid, user_rep, n) = (rollup.grid, &rollup.user_rep[..], table.rows);
        let dates: &DayColumn = table.dates()?;
        let days = u32::try_from(grid.days).ok().filter(|&d| d > 0)?;
        let months = Period::Month.of(grid.base, days - 1) as usize + 1;
        u16::try_from(months).ok()?;
        let users = user_rep.len();
        let stride = months + 1;
        let entries = users.checked_mul(stride).filter(|&e| e > 0)?;
        if !every && (n < MONTH_ROWS || entries.saturating_mul(MONTH_RATIO) > n) {
            return None;
        }
        let mut month_of: Vec<u16> = try_filled(grid.days, 0)?;
        let mut first_day: Vec<u32> = Vec::new();
        first_day.try_reserve_exact(stride).ok()?;
        for (i, m) in (0..days).zip(&mut month_of) {
            let month = Period::Month.of(grid.base, i);
            *m = month as u16;
            if month as usize == first_day.len() {
                first_day.push(i);
            }
        }
        first_day.push(days);
        // Each user's dated rows before each month: its rows counted per month, then added up.
        let mut before: Vec<u32> = try_filled(entries, 0)?;
        let mut u = 0;
        for (row, d) in day_indexes(grid, Some(dates), n).enumerate() {
            while user_rep.get(u + 1).is_some_and(|&r| r as usize <= row) {
                u += 1;
            }
            if let Some(&m) = month_of.get(d as usize) {
                before[u * stride + usize::from(m) + 1] += 1;
            }
        }
        running_totals(&mut before, stride);
        // Each summed column, a month at a time: a run of rows per user into the user's sum.
        let mut runs: Vec<Run> = Vec::new();
        runs.try_reserve_exact(users).ok()?;
        let mut sums = Vec::new();
        sums.try_reserve_exact(table.columns.len()).ok()?;
        for column in &table.columns {
            let (Data::Num(values), Some(Measure::Sum)) = (&column.data, column.measure) else {
                sums.push(None);
                continue;
            };
            if values.is_float() {
                sums.push(None);
                continue;
            }
            let mut by_month = Vec::new();
            by_month.try_reserve_exact(months).ok()?;
            for m in 0..months {
                runs.clear();
                for (u, (&rep, rows)) in
                    user_rep.iter().zip(before.chunks_exact(stride)).enumerate()
                {
                    let (start, end) = (
                        rep as usize + rows[m] as usize,
                        rep as usize + rows[m + 1] as usize,
                    );
                    if start < end {
                        runs.push(Run {
                            start,
                            end,
                            group: u,
                        });
                    }
                }
                let mut acc = Acc::Int(try_filled(users, 0)?);
                values.try_accumulate(Layout::Runs(&runs), &mut acc, None)?;
                let Acc::Int(month) = acc else {
                    return None;
                };
                by_month.push(narrow(&month, values.scale)?);
            }
            sums.push(Some(by_month));
        }
        drop(runs);
        let before = narrow(&before, 0)?;
        // Each user-day's set of slices has an active one, or not.
        let sets = rollup.set_start.len() - 1;
        let mut set_active: Vec<bool> = try_filled(sets, false)?;
        for (k, active) in set_active.iter_mut().enumerate() {
            *active = rollup
                .set_members(k)
                .iter()
                .any(|&s| rollup.slice_active[s as usize]);
        }
        let mut active_days = Vec::new();
        active_days.try_reserve_exact(months).ok()?;
        for _ in 0..months {
            active_days.push(try_filled(users, 0u8)?);
        }
        let mut days_before: Vec<u32> = try_filled(entries, 0)?;
        for ((u, ends), counts) in rollup
            .user_days
            .windows(2)
            .enumerate()
            .zip(days_before.chunks_exact_mut(stride))
        {
            for k in ends[0] as usize..ends[1] as usize {
                let d = usize::from(rollup.day_of[k]);
                if let Some(&m) = month_of.get(d) {
                    let active = set_active[rollup.set_of.get(k) as usize];
                    active_days[usize::from(m)][u] += u8::from(active);
                    counts[usize::from(m) + 1] += 1;
                }
            }
        }
        running_totals(&mut days_before, stride);
        Some(UserMonths {
            first_day,
            month_of,
            before,
            days_before: narrow(&days_before, 0)?,
            active_days,
            sums,
        })
    }

    /// Bytes held on the heap.
    pub(super) fn heap_bytes(&self) -> usize {
        self.first_day.capacity() * 4
            + self.month_of.capacity() * 2
            + self.active_days.capacity() * std::mem::size_of::<Vec<u8>>()
            + self.active_days.iter().map(Vec::capacity).sum::<usize>()
            + self.before.heap_bytes()
            + self.days_before.heap_bytes()
            + self.sums.capacity() * std::mem::size_of::<Option<Vec<NumColumn>>>()
            + self
                .sums
                .iter()
                .flatten()
                .map(|m| {
                    m.capacity() * std::mem::size_of::<NumColumn>()
                        + m.iter().map(NumColumn::heap_bytes).sum::<usize>()
                })
                .sum::<usize>()
    }

    /// The calendar months they cover.
    pub(super) fn months(&self) -> usize {
        self.first_day.len() - 1
    }

    /// The rows of user `u` (whose rows start at `start`) from the start of month `m` on: the
    /// first row of month `m`, or (with `m` past the last month) the row after its dated rows.
    fn row(&self, start: usize, u: usize, m: usize) -> usize {
        start + level_rows(&self.before)(u * (self.months() + 1) + m) as usize
    }

    /// Where user `u`'s first row of the days `first..=last` (grid indexes, in order) may be, and
    /// where the row after its last may be: the rows of `first`'s month, and of `last`'s (and
    /// the row after them).
    pub(super) fn windows(
        &self,
        start: usize,
        u: usize,
        first: u32,
        last: u32,
    ) -> [(usize, usize); 2] {
        let (mf, ml) = (self.month(first), self.month(last));
        let row = |m: usize| self.row(start, u, m);
        [(row(mf), row(mf + 1)), (row(ml), row(ml + 1))]
    }

    fn month(&self, day: u32) -> usize {
        usize::from(self.month_of[day as usize])
    }

    /// How the days `first..=last` (grid indexes, `first <= last`) split at month ends, the
    /// same for every user; `None` when they cut a single month (its rows answer).
    pub(super) fn plan(&self, first: u32, last: u32) -> Option<Plan> {
        let (mf, ml) = (self.month(first), self.month(last));
        let (lo, hi) = (self.first_day[mf], self.first_day[ml + 1] - 1);
        // A cut month is summed whole, less the rows of the days it leaves out, when those days
        // are fewer than the days it keeps.
        let whole_first = first == lo || (mf < ml && first - lo < self.first_day[mf + 1] - first);
        let whole_last = last == hi || (mf < ml && hi - last < last + 1 - self.first_day[ml]);
        (mf < ml || (whole_first && whole_last)).then_some(Plan {
            days: (first, last),
            first: (mf, whole_first),
            last: (ml, whole_last),
        })
    }

    /// Adds group `group`, user `u`'s rows `from..to` (its rows starting at `start`) to `out`, as
    /// its plan splits them.
    pub(super) fn split(
        &self,
        (start, u, group): (usize, usize, usize),
        (from, to): (usize, usize),
        out: &mut MonthRuns,
    ) -> Option<()> {
        for (rows, add) in out.plan.edges(|m| self.row(start, u, m), (from, to)) {
            if rows.is_empty() {
                continue;
            }
            let run = Run {
                start: rows.start,
                end: rows.end,
                group,
            };
            try_push(if add { &mut out.plus } else { &mut out.minus }, run)?;
        }
        *out.user_group.get_mut(u)? = group as u32;
        Some(())
    }

    /// The distinct users, active users, user-days and active user-days of the days `plan`
    /// splits, in one group, for a filter that keeps every slice (and the users `pass` keeps):
    /// each user's days in the range are a stretch of its user-days, found by bisection among
    /// those of the range's first and last month; its active days are those of the months the
    /// range holds whole, plus or less those of the few days at its ends.
    pub(super) fn distinct(
        &self,
        rollup: &Rollup,
        pass: &Pass,
        plan: Plan,
        daily: bool,
    ) -> [u64; 4] {
        let ((first, last), (mf, ml)) = (plan.days, (plan.first.0, plan.last.0));
        let stride = self.months() + 1;
        let whole = &self.active_days[plan.whole()];
        let [mut users, mut active_users, mut user_days, mut active_user_days] = [0u64; 4];
        for u in 0..rollup.user_rep.len() {
            if pass.user.as_ref().is_some_and(|k| !k[u]) {
                continue;
            }
            let all = rollup.user_days[u] as usize..rollup.user_days[u + 1] as usize;
            let days = &rollup.day_of[all.clone()];
            let at = |m: usize| level_rows(&self.days_before)(u * stride + m) as usize;
            let (lo, hi) = (at(mf), at(ml));
            let start = lo + days[lo..at(mf + 1)].partition_point(|&d| u32::from(d) < first);
            let end = hi + days[hi..at(ml + 1)].partition_point(|&d| u32::from(d) <= last);
            if start >= end {
                continue;
            }
            let mut act: u64 = whole.iter().map(|m| u64::from(m[u])).sum();
            for (ks, add) in plan.edges(at, (start, end)) {
                let active: u64 = ks
                    .map(|k| {
                        u64::from(pass.set_bits[rollup.set_of.get(all.start + k) as usize] >> 1)
                    })
                    .sum();
                act = if add { act + active } else { act - active };
            }
            users += 1;
            active_users += u64::from(act > 0);
            if daily {
                user_days += (end - start) as u64;
                active_user_days += act;
            }
        }
        rollup.summed_months.set(rollup.summed_months.get() + 1);
        [users, active_users, user_days, active_user_days]
    }
}

/// Adds up each stretch of `stride` counts in place (each entry the sum of those up to it).
fn running_totals(counts: &mut [u32], stride: usize) {
    for user in counts.chunks_exact_mut(stride) {
        for m in 1..stride {
            user[m] += user[m - 1];
        }
    }
}

/// How a range of days splits at month ends ([`UserMonths::plan`]): its first and last day (grid
/// indexes), and its first and last month, each with whether it is summed whole (less the
/// entries of the days the range leaves out of it) or from its entries in the range.
#[derive(Clone, Copy, Debug)]
pub(super) struct Plan {
    days: (u32, u32),
    first: (usize, bool),
    last: (usize, bool),
}

impl Plan {
    /// The months summed whole.
    fn whole(self) -> std::ops::Range<usize> {
        let ((mf, whole_first), (ml, whole_last)) = (self.first, self.last);
        let from = if whole_first { mf } else { mf + 1 };
        let to = if whole_last { ml + 1 } else { ml };
        from..to.max(from)
    }

    /// One user's entries (its rows, or its user-days) at the range's two ends, whose month `m`
    /// starts at entry `at(m)` and whose entries in the range are `start..end`: each with
    /// whether it is added to the months summed whole (a cut month's entries in the range) or
    /// taken away from them (a month summed whole, its entries out of the range).
    fn edges(
        self,
        at: impl Fn(usize) -> usize,
        (start, end): (usize, usize),
    ) -> [(std::ops::Range<usize>, bool); 2] {
        let ((mf, whole_first), (ml, whole_last)) = (self.first, self.last);
        [
            if whole_first {
                (at(mf)..start, false)
            } else {
                (start..at(mf + 1), true)
            },
            if whole_last {
                (end..at(ml + 1), false)
            } else {
                (at(ml)..end, true)
            },
        ]
    }
}

/// A grouping by user under a range of dates, as the users' months add it up: each group's sum
/// of a summed column is the sum of the months its plan holds whole (every user's, from the
/// users' months, into the group `user_group` gives it), plus its rows in the months the range cuts (`plus`),
/// less the rows the range leaves out of a cut month counted whole (`minus`).
#[derive(Debug)]
pub(crate) struct MonthRuns {
    rollup: Rc<Rollup>,
    plan: Plan,
    user_group: Vec<u32>,
    plus: Vec<Run>,
    minus: Vec<Run>,
}

impl MonthRuns {
    /// Empty, for the users of `rollup` and a range split as `plan`.
    pub(super) fn new(rollup: &Rc<Rollup>, plan: Plan) -> Option<MonthRuns> {
        Some(MonthRuns {
            rollup: Rc::clone(rollup),
            plan,
            user_group: try_filled(rollup.user_rep.len(), NO_GROUP)?,
            plus: Vec::new(),
            minus: Vec::new(),
        })
    }

    /// The sums of column `i` of `n` groups; `None` when the users' months have no sums of it,
    /// or when the parts' integer sums do not add up within i64 (the rows answer then).
    pub(crate) fn sums(&self, table: &Table, i: usize, n: usize) -> Option<Acc> {
        let rollup = &self.rollup;
        let months = rollup.months.as_ref()?.sums.get(i)?.as_ref()?;
        let Data::Num(values) = &table.columns[i].data else {
            return None;
        };
        let part = |columns: &[NumColumn], layout: Layout| {
            let mut acc = Acc::Int(try_filled(n, 0)?);
            for column in columns {
                column.try_accumulate(layout, &mut acc, None)?;
            }
            match acc {
                Acc::Int(s) => Some(s),
                Acc::Float(_) => None,
            }
        };
        let whole = months.get(self.plan.whole()).unwrap_or(&[]);
        let mut sums = part(whole, Layout::Ids(&self.user_group))?;
        let plus = part(std::slice::from_ref(values), Layout::Runs(&self.plus))?;
        let minus = part(std::slice::from_ref(values), Layout::Runs(&self.minus))?;
        for ((s, p), m) in sums.iter_mut().zip(plus).zip(minus) {
            *s = s.checked_add(p)?.checked_sub(m)?;
        }
        rollup.summed_months.set(rollup.summed_months.get() + 1);
        Some(Acc::Int(sums))
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.user_group.capacity() * 4
            + (self.plus.capacity() + self.minus.capacity()) * std::mem::size_of::<Run>()
    }
}
