//! Roll-ups: the export summed once, after it is read, at coarser grains, so that a view change
//! costs what the roll-ups hold rather than a pass over every row.
//!
//! A row's *slice* is its client, language and `Active Sourcegraph User` value: every filter the
//! page offers but dates and users keeps or drops whole slices. These structures are built:
//!
//! - the **cube**: per day and slice, the row count and every numeric column's sum (exact, in the
//!   column's scaled integers), non-empty counts (row means) and weighted sums: the sums of any
//!   grouping by day, week, month, client and language, under any filter on dates, clients,
//!   languages and activity;
//! - the **users' sums**: the same per user and slice: the sums of a grouping by user, under any
//!   filter but dates;
//! - the **user-days**: per user and day, which slices the user's rows of that day have (as an id
//!   of that set of slices, shared by the many user-days with the same set): the exact distinct
//!   users, active users, user-days and active user-days of any of these groupings, dates
//!   included, and each user's first and last active day;
//! - the **grains** ([`grain`]): the same distinct counts counted ahead per week, month, day and
//!   the whole range, by set of slices, for groupings whose periods a filter keeps whole (the
//!   totals, the time chart): a step per entry instead of a pass over the user-days;
//! - the **coarse cubes** ([`Coarse`]): the cube added up per week, month and the whole range,
//!   whose cells the groupings a filter keeps whole add instead of the days' (the totals: a
//!   cell per slice);
//! - the **users' months** ([`months`], large exports only): per user and calendar month, where
//!   its rows start, its active days and the sums of the summed columns: a range of dates adds
//!   the months it holds whole from them and reads only the rows and user-days of the few days
//!   at its ends (the grouping by user, and the distinct counts of the totals).
//!
//! A query uses them when they answer it exactly ([`Rollup::grouping`] says so), else the query
//! scans the rows as before. The sums are added with the same kernels as the scan's, over the
//! roll-ups' entries instead of rows: integer sums are exact in any order, so the answers are the
//! scan's to the bit (`tests/rollup.rs` holds them to it on random exports and filters).
//!
//! Built only for exports whose users' rows are contiguous and dated in order (as exports are
//! written), with integer numeric columns; sizes are checked so that no input can wrap them on a
//! 32-bit target, and any allocation that fails leaves the table without roll-ups (or, in the
//! users' months' build, without the users' months alone).

use std::rc::Rc;

use crate::column::num::Ints;
use crate::column::packed::Cells;
use crate::column::{
    cells_or, try_filled, weighted_heap_bytes, Acc, Chunked, DayColumn, FxHashMap, Layout,
    NumColumn, Run, TextColumn, WeightedSums, NO_GROUP, NULL_DAY,
};
use crate::date::{month_number, week_start};
use crate::summary::ServiceAccounts;
use crate::table::{Data, Measure, Table};

use super::days::Days;
use super::filter::{date_kept, Parts};
use super::spec::Key;
use super::stats::{DistinctCounts, Needs, Stats};

mod grain;
mod months;

use grain::{Grain, Period};
pub(crate) use months::MonthRuns;
use months::UserMonths;

/// No entry, no group.
const NONE: u32 = NO_GROUP;

/// A grouping by user under a range ([`Rollup::user_runs`]): its runs of rows, a row of each
/// group, the rows of each, and the runs split at month ends.
pub(crate) type UserRuns = (Vec<Run>, Vec<u32>, Vec<u64>, Option<MonthRuns>);

/// Slices kept in a dense table of (client, language, activity) up to this many combinations.
const DENSE_SLICES: u64 = 1 << 22;

/// Cube cells found through a dense table of (day, slice) up to this many combinations.
const DENSE_CELLS: u64 = 1 << 24;

/// Groups of a cube grouping: (time bucket, client/language part) up to this many combinations.
const MAX_GROUP_TABLE: u64 = 1 << 24;

/// Partial sums per entry of one roll-up (a cube cell, a user's slice).
struct Level {
    /// Rows per entry.
    rows: NumColumn,
    /// Per column index: the sums of numeric columns.
    sums: Vec<Option<NumColumn>>,
    /// Per column index: non-empty cells, for the row means.
    counts: Vec<Option<NumColumn>>,
    /// Per column index: Σ(value × weight) and Σ weight, for the weighted means.
    weighted: Vec<Option<WeightedSums>>,
}

/// `values` in the narrowest column that holds them (all are ≥ 0 but for unknown columns).
fn narrow<T: Copy + Into<i64>>(values: &[T], scale: u8) -> Option<NumColumn> {
    let (lo, hi) = values.iter().fold((0i64, 0i64), |(lo, hi), &x| {
        let x: i64 = x.into();
        (lo.min(x), hi.max(x))
    });
    let cells = values.iter().map(|&x| x.into());
    let data = if lo < 0 {
        if lo == i64::MIN {
            return None;
        }
        Ints::I64(Chunked::try_from_iter(cells).ok()?)
    } else if hi < i64::from(u8::MAX) {
        Ints::U8(Cells::try_from_iter(cells.map(|x| x as u8)).ok()?)
    } else if hi < i64::from(u16::MAX) {
        Ints::U16(Cells::try_from_iter(cells.map(|x| x as u16)).ok()?)
    } else if hi < i64::from(u32::MAX) {
        Ints::U32(Cells::try_from_iter(cells.map(|x| x as u32)).ok()?)
    } else {
        Ints::I64(Chunked::try_from_iter(cells).ok()?)
    };
    Some(NumColumn { scale, data })
}

fn heap(column: &NumColumn) -> usize {
    column.heap_bytes()
}

impl Level {
    /// Sums every row into entry `ids[row]` (`NONE`: nowhere). `None` when a sum is not an exact
    /// integer (a float column, or past i64).
    fn build(table: &Table, ids: &[u32], n: usize) -> Option<Level> {
        let layout = Layout::Ids(ids);
        let mut rows = try_filled(n, 0i64)?;
        for &g in ids {
            if g != NONE {
                rows[g as usize] += 1;
            }
        }
        let columns = table.columns.len();
        let mut level = Level {
            rows: narrow(&rows, 0)?,
            sums: try_collect((0..columns).map(|_| None))?,
            counts: try_collect((0..columns).map(|_| None))?,
            weighted: try_filled(columns, None)?,
        };
        for (i, column) in table.columns.iter().enumerate() {
            let Data::Num(values) = &column.data else {
                continue;
            };
            if values.is_float() {
                continue;
            }
            let mut acc = Acc::Int(try_filled(n, 0)?);
            let mut counts = match column.measure {
                Some(Measure::Mean) => Some(try_filled(n, 0u32)?),
                _ => None,
            };
            // Past i64, or the memory short: the scan answers.
            values.try_accumulate(layout, &mut acc, counts.as_deref_mut())?;
            let Acc::Int(sums) = acc else {
                return None;
            };
            level.sums[i] = Some(narrow(&sums, values.scale)?);
            if let Some(counts) = counts {
                level.counts[i] = narrow(&try_collect(counts.into_iter().map(i64::from))?, 0);
            }
            if let Some(Measure::WeightedMean { weight }) = column.measure {
                if let Data::Num(weights) = &table.columns[weight].data {
                    if !weights.is_float() {
                        let (num, den) = (try_filled(n, 0.0)?, try_filled(n, 0.0)?);
                        level.weighted[i] =
                            Some(values.weighted_sums_into(weights, layout, num, den));
                    }
                }
            }
        }
        Some(level)
    }

    /// This level's entries added into `n` coarser ones (entry `i` into `ids[i]`); `None` when
    /// the memory is not there or a sum passes i64. Integer sums and the weighted sums' exact
    /// integers are the same in any order, so the coarser level's answers are the finer one's.
    fn coarser(&self, ids: &[u32], n: usize) -> Option<Level> {
        let layout = Layout::Ids(ids);
        let add = |column: &NumColumn| -> Option<NumColumn> {
            let mut acc = Acc::Int(try_filled(n, 0)?);
            column.try_accumulate(layout, &mut acc, None)?;
            let Acc::Int(sums) = acc else {
                return None;
            };
            narrow(&sums, column.scale)
        };
        let each = |columns: &[Option<NumColumn>]| -> Option<Vec<Option<NumColumn>>> {
            let mut out = Vec::new();
            out.try_reserve_exact(columns.len()).ok()?;
            for column in columns {
                out.push(match column {
                    Some(c) => Some(add(c)?),
                    None => None,
                });
            }
            Some(out)
        };
        let mut weighted = Vec::new();
        weighted.try_reserve_exact(self.weighted.len()).ok()?;
        for sums in &self.weighted {
            weighted.push(match sums {
                Some((num, den, scale)) => {
                    let (mut gn, mut gd) = (try_filled(n, 0.0)?, try_filled(n, 0.0)?);
                    for ((&g, &x), &w) in ids.iter().zip(num).zip(den) {
                        gn[g as usize] += x;
                        gd[g as usize] += w;
                    }
                    Some((gn, gd, *scale))
                }
                None => None,
            });
        }
        Some(Level {
            rows: add(&self.rows)?,
            sums: each(&self.sums)?,
            counts: each(&self.counts)?,
            weighted,
        })
    }

    fn heap_bytes(&self) -> usize {
        heap(&self.rows)
            + self.sums.iter().flatten().map(heap).sum::<usize>()
            + self.counts.iter().flatten().map(heap).sum::<usize>()
            + weighted_heap_bytes(&self.weighted)
    }

    /// The sums, counts and weighted sums `needs` asks, per group, over entries in group
    /// `groups[entry]` (`NONE`: none).
    fn stats(&self, table: &Table, groups: &[u32], n: usize, needs: &Needs, stats: &mut Stats) {
        let layout = Layout::Ids(groups);
        for &i in &needs.sums {
            let (Some(column), Data::Num(values)) = (&self.sums[i], &table.columns[i].data) else {
                continue;
            };
            let mut acc = values.accumulator(n);
            column.accumulate(layout, &mut acc, None);
            stats.sums[i] = Some(acc);
        }
        for &i in &needs.counts {
            let Some(column) = &self.counts[i] else {
                continue;
            };
            let mut acc = Acc::Int(vec![0; n]);
            column.accumulate(layout, &mut acc, None);
            if let Acc::Int(c) = acc {
                stats.counts[i] = Some(c.into_iter().map(|x| x as u32).collect());
            }
        }
        for &i in &needs.weighted {
            let Some((num, den, scale)) = &self.weighted[i] else {
                continue;
            };
            let (mut gn, mut gd) = (vec![0.0; n], vec![0.0; n]);
            for ((&g, &x), &w) in groups.iter().zip(num).zip(den) {
                if g != NONE {
                    gn[g as usize] += x;
                    gd[g as usize] += w;
                }
            }
            stats.weighted[i] = Some((gn, gd, *scale));
        }
    }
}

/// The items in a vector, or `None` when the memory is not there.
fn try_collect<T>(items: impl ExactSizeIterator<Item = T>) -> Option<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(items.len()).ok()?;
    v.extend(items);
    Some(v)
}

/// Moves `v` into a vector of exactly its length, or `None` when the memory for it is not there
/// (`shrink_to_fit` cannot fail but by aborting).
fn try_shrink<T: Copy>(v: &mut Vec<T>) -> Option<()> {
    if v.capacity() > v.len() {
        let mut exact = Vec::new();
        exact.try_reserve_exact(v.len()).ok()?;
        exact.extend_from_slice(v);
        *v = exact;
    }
    Some(())
}

/// Appends `x`, or `None` when the memory for it is not there.
fn try_push<T>(v: &mut Vec<T>, x: T) -> Option<()> {
    v.try_reserve(1).ok()?;
    v.push(x);
    Some(())
}

/// Ids given to keys below a bound: in a dense table when the bound is small enough, else in a
/// hash map. A key's slot is `NONE` until it is given one.
enum KeyIds {
    Dense(Vec<u32>),
    Hashed(FxHashMap<u64, u32>),
}

impl KeyIds {
    /// For keys below `keys`, dense up to `dense` of them; `None` when the memory is not there.
    fn new(keys: u64, dense: u64) -> Option<KeyIds> {
        Some(if keys <= dense {
            KeyIds::Dense(try_filled(keys as usize, NONE)?)
        } else {
            KeyIds::Hashed(FxHashMap::default())
        })
    }

    /// The slot of `key`, made room for first, or `None` when the memory for it is not there.
    fn slot(&mut self, key: u64) -> Option<&mut u32> {
        match self {
            KeyIds::Dense(table) => Some(&mut table[key as usize]),
            KeyIds::Hashed(map) => {
                map.try_reserve(1).ok()?;
                Some(map.entry(key).or_insert(NONE))
            }
        }
    }
}

/// The cube's cells added up per coarser period (a week, a month, the whole range) and slice. A
/// grouping with no time key but that period's, under a filter that keeps each period whole or not
/// at all, adds these instead of the days' cells: the totals one cell per slice, the week chart
/// one per week and slice.
struct Coarse {
    period: Period,
    /// Per day index of the grid: its period.
    of: Vec<u32>,
    /// Per period: its first day index.
    first: Vec<u32>,
    /// Per cell: its period, its slice, and its first row. Cells are numbered in the order of
    /// their first rows, as the day cube's are, so that a grouping's groups come in the same
    /// order whichever cube it adds.
    cell_period: Vec<u32>,
    cell_slice: Vec<u32>,
    cell_rep: Vec<u32>,
    level: Level,
}

impl Coarse {
    /// Gives back the room the cells grew into (one at a time) during the build.
    fn shrink(&mut self) -> Option<()> {
        for v in [
            &mut self.cell_period,
            &mut self.cell_slice,
            &mut self.cell_rep,
        ] {
            try_shrink(v)?;
        }
        Some(())
    }

    fn heap_bytes(&self) -> usize {
        (self.of.capacity()
            + self.first.capacity()
            + self.cell_period.capacity()
            + self.cell_slice.capacity()
            + self.cell_rep.capacity())
            * 4
            + self.level.heap_bytes()
    }
}

/// Per user-day, the id of its set of slices: 16 bits while there are at most 65 536 sets (a
/// year of 3 000 users has 16 000), 32 past that.
enum SetIds {
    Narrow(Vec<u16>),
    Wide(Vec<u32>),
}

impl SetIds {
    #[inline]
    fn get(&self, k: usize) -> u32 {
        match self {
            SetIds::Narrow(v) => u32::from(v[k]),
            SetIds::Wide(v) => v[k],
        }
    }

    /// The ids of user-days `days`.
    fn range(&self, days: std::ops::Range<usize>) -> impl Iterator<Item = u32> + '_ {
        days.map(|k| self.get(k))
    }

    /// Appends `set`, widening the ids the first time one needs more than 16 bits; `None` when
    /// the memory is not there.
    fn push(&mut self, set: u32) -> Option<()> {
        if let (SetIds::Narrow(v), Err(_)) = (&*self, u16::try_from(set)) {
            *self = SetIds::Wide(try_collect(v.iter().map(|&s| u32::from(s)))?);
        }
        match self {
            SetIds::Narrow(v) => try_push(v, set as u16),
            SetIds::Wide(v) => try_push(v, set),
        }
    }

    fn shrink(&mut self) -> Option<()> {
        match self {
            SetIds::Narrow(v) => try_shrink(v),
            SetIds::Wide(v) => try_shrink(v),
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            SetIds::Narrow(v) => v.capacity() * 2,
            SetIds::Wide(v) => v.capacity() * 4,
        }
    }
}

/// The cells a cube grouping adds: the day cube's, or a coarser cube's.
struct CubeCells<'a> {
    /// Per cell: its day index (of its period's first day, in a coarser cube).
    day: &'a [u32],
    slice: &'a [u32],
    rep: &'a [u32],
    level: &'a Level,
    /// A coarser cube's periods' first days (`None`: the day cube).
    first: Option<&'a [u32]>,
}

impl CubeCells<'_> {
    fn len(&self) -> usize {
        self.slice.len()
    }

    /// The day index that stands for cell `c`: its day, or its period's first day.
    fn day(&self, c: usize) -> usize {
        match self.first {
            Some(first) => first[self.day[c] as usize] as usize,
            None => self.day[c] as usize,
        }
    }

    /// Where cell `c` goes in a cube grouping's `map` (see [`Kind::Cube`]), or `None` when the
    /// filter drops its day (`day_kept`) or its slice.
    fn slot(
        &self,
        c: usize,
        day_kept: &[bool],
        day_part: &[u32],
        slice_part: &[u32],
        parts: u64,
    ) -> Option<usize> {
        let (d, s) = (self.day(c), self.slice[c] as usize);
        if !day_kept[d] || slice_part[s] == NONE {
            return None;
        }
        Some((u64::from(day_part[d]) * parts + u64::from(slice_part[s])) as usize)
    }
}

/// The roll-ups of one table (see the module's description).
pub(crate) struct Rollup {
    grid: Days,
    /// Per slice: client code, language code, and whether its rows count as active.
    slice_client: Vec<u32>,
    slice_language: Vec<u32>,
    slice_active: Vec<bool>,
    /// Per slice: its `Active Sourcegraph User` is true (what "active only" keeps).
    slice_true: Vec<bool>,
    /// Per slice: its rows are a service account's, by the registry joined when the roll-ups
    /// were built (`service_flags`, per code of the user ID column).
    slice_service: Vec<bool>,
    service_flags: Option<Vec<u8>>,
    /// Per cube cell: day index (`grid.days` for rows without a date), slice, first row.
    cell_day: Vec<u32>,
    cell_slice: Vec<u32>,
    cell_rep: Vec<u32>,
    cube: Level,
    /// The cube added up per week, month and the whole range (none when a row has no date).
    coarse: Vec<Coarse>,
    /// Per user (identity code): the first of its entries in `tuple_slice` (one more at the end).
    user_tuples: Vec<u32>,
    tuple_slice: Vec<u32>,
    users: Level,
    /// Per user: its first row.
    user_rep: Vec<u32>,
    /// Per user: the first of its user-days (one more at the end); per user-day, its day index
    /// and its set of slices.
    user_days: Vec<u32>,
    day_of: Vec<u16>,
    set_of: SetIds,
    /// Per set of slices: where its slices start in `set_slices` (one more at the end).
    set_start: Vec<u32>,
    set_slices: Vec<u32>,
    /// Distinct counts counted ahead per time grain (none when a row has no date).
    grains: Vec<Grain>,
    /// Per user and month: where its rows and user-days start, its active days and its sums
    /// (none where they would not pay).
    months: Option<UserMonths>,
    /// How many groupings' distinct counts the grains have answered (for tests and benchmarks).
    pub(crate) counted_ahead: std::cell::Cell<usize>,
    /// How many groupings' sums a coarser cube has answered (for tests and benchmarks).
    pub(crate) summed_coarse: std::cell::Cell<usize>,
    /// How many answers under a range the users' months have given: a column's sums by user, or
    /// the distinct counts of the totals (for tests and benchmarks).
    pub(crate) summed_months: std::cell::Cell<usize>,
    /// The user ID, e-mail and username hold one value per user, so a filter on them keeps or
    /// drops whole users.
    functional: bool,
}

impl std::fmt::Debug for Rollup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rollup")
            .field("slices", &self.slice_client.len())
            .field("cells", &self.cell_day.len())
            .field("user_slices", &self.tuple_slice.len())
            .field("user_days", &self.day_of.len())
            .field("sets", &(self.set_start.len() - 1))
            .field(
                "coarse",
                &self
                    .coarse
                    .iter()
                    .map(|c| (c.period, c.cell_period.len(), c.heap_bytes()))
                    .collect::<Vec<_>>(),
            )
            .field("months", &self.months.as_ref().map(UserMonths::months))
            .field(
                "grains",
                &self
                    .grains
                    .iter()
                    .map(|g| (g.period, g.entries()))
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// The roll-ups' 32-bit vectors, borrowed as `$r` (`&` or `&mut`): the one list that
/// [`Rollup::shrink`] shrinks and [`Rollup::heap_bytes`] counts, so that a vector added to the
/// roll-ups is both or neither.
macro_rules! words {
    ($rollup:ident, $($r:tt)+) => {
        [
            $($r)+ $rollup.slice_client,
            $($r)+ $rollup.slice_language,
            $($r)+ $rollup.cell_day,
            $($r)+ $rollup.cell_slice,
            $($r)+ $rollup.cell_rep,
            $($r)+ $rollup.user_tuples,
            $($r)+ $rollup.tuple_slice,
            $($r)+ $rollup.user_rep,
            $($r)+ $rollup.user_days,
            $($r)+ $rollup.set_start,
            $($r)+ $rollup.set_slices,
        ]
    };
}

/// The roll-ups' per-slice flags, as [`words!`] lists their 32-bit vectors.
macro_rules! flags {
    ($rollup:ident, $($r:tt)+) => {
        [
            $($r)+ $rollup.slice_active,
            $($r)+ $rollup.slice_true,
            $($r)+ $rollup.slice_service,
        ]
    };
}

impl Rollup {
    /// Builds the roll-ups, or `None` when the table does not qualify (no users, rows not in
    /// user and date order, more rows than 32-bit ids, a float or overflowing measure) or the
    /// memory is not there. `every_grain` keeps every time grain's counts counted ahead, however
    /// many entries they take (for tests: small exports keep none).
    pub(crate) fn build(table: &Table, every_grain: bool) -> Option<Rollup> {
        let identity = table.identity()?;
        if !table.dates_sorted_within_users {
            return None;
        }
        let n = table.rows;
        u32::try_from(n).ok()?;
        for column in &table.columns {
            if let (Data::Num(values), Some(_)) = (&column.data, column.measure) {
                if values.is_float() {
                    return None;
                }
            }
        }
        let grid = Days::of(table);
        // Day indexes (rows without a date last) are kept in 16 bits: 179 years of days.
        let days = u32::try_from(grid.days).ok()?.checked_add(1)?;
        if days > u32::from(u16::MAX) {
            return None;
        }
        let dates = table.dates();
        let client = table.text(table.client);
        let language = table.text(table.language);
        let active = match table.active.map(|i| &table.columns[i].data) {
            Some(Data::Bool(b)) => Some(b),
            _ => None,
        };

        // Slices.
        let nc = client.map_or(1, |c| c.values.len().max(1)) as u64;
        let nl = language.map_or(1, |c| c.values.len().max(1)) as u64;
        let combos = nc.checked_mul(nl)?.checked_mul(6)?;
        let ids = table.text(table.user_id);
        let flags = table.user_flags.as_ref().filter(|_| ids.is_some());
        let mut slice_ids = KeyIds::new(combos, DENSE_SLICES)?;
        let mut rollup = Rollup {
            grid,
            slice_client: Vec::new(),
            slice_language: Vec::new(),
            slice_active: Vec::new(),
            slice_true: Vec::new(),
            slice_service: Vec::new(),
            service_flags: match flags {
                Some(f) => Some(try_collect(f.iter().copied())?),
                None => None,
            },
            cell_day: Vec::new(),
            cell_slice: Vec::new(),
            cell_rep: Vec::new(),
            cube: Level::build(table, &[], 0)?,
            coarse: Vec::new(),
            user_tuples: Vec::new(),
            tuple_slice: Vec::new(),
            users: Level::build(table, &[], 0)?,
            user_rep: Vec::new(),
            user_days: Vec::new(),
            day_of: Vec::new(),
            set_of: SetIds::Narrow(Vec::new()),
            set_start: try_filled(1, 0)?,
            set_slices: Vec::new(),
            grains: Vec::new(),
            months: None,
            counted_ahead: std::cell::Cell::new(0),
            summed_coarse: std::cell::Cell::new(0),
            summed_months: std::cell::Cell::new(0),
            functional: true,
        };
        let mut slice_of: Vec<u32> = try_filled(n, 0u32)?;
        let (clients, languages) = (codes_or_zero(client, n), codes_or_zero(language, n));
        let flagged = codes_or_zero(flags.and(ids), n);
        for (row, ((slot, (c, l)), flagged)) in slice_of
            .iter_mut()
            .zip(clients.zip(languages))
            .zip(flagged)
            .enumerate()
        {
            let a = active.map_or(1, |a| a[row].min(2));
            let service = flags.map_or(0, |f| f[flagged as usize] & 1);
            let key =
                ((u64::from(c) * nl + u64::from(l)) * 3 + u64::from(a)) * 2 + u64::from(service);
            let next = rollup.slice_client.len() as u32;
            let id = slice_ids.slot(key)?;
            if *id == NONE {
                *id = next;
                try_push(&mut rollup.slice_client, c)?;
                try_push(&mut rollup.slice_language, l)?;
                try_push(&mut rollup.slice_active, active.is_none() || a == 1)?;
                try_push(&mut rollup.slice_true, a == 1)?;
                try_push(&mut rollup.slice_service, service == 1)?;
            }
            *slot = *id;
        }
        drop(slice_ids);
        let slices = rollup.slice_client.len() as u64;

        // The cube.
        let mut ids: Vec<u32> = try_filled(n, NONE)?;
        let cells = u64::from(days).checked_mul(slices.max(1))?;
        let mut cell_ids = KeyIds::new(cells, DENSE_CELLS)?;
        for ((row, id), day) in ids.iter_mut().enumerate().zip(day_indexes(grid, dates, n)) {
            let slice = slice_of[row];
            let key = u64::from(day) * slices + u64::from(slice);
            let next = rollup.cell_day.len() as u32;
            let cell = cell_ids.slot(key)?;
            if *cell == NONE {
                *cell = next;
                try_push(&mut rollup.cell_day, day)?;
                try_push(&mut rollup.cell_slice, slice)?;
                try_push(&mut rollup.cell_rep, row as u32)?;
            }
            *id = *cell;
        }
        drop(cell_ids);
        rollup.cube = Level::build(table, &ids, rollup.cell_day.len())?;

        // Per user and slice; users' rows are contiguous, and codes follow the rows' order.
        let users = identity.values.len();
        let mut tuple_of: Vec<u32> = try_filled(slices as usize, NONE)?;
        let mut tuple_user: Vec<u32> = try_filled(slices as usize, NONE)?;
        let mut previous = NONE;
        let user_columns = [table.user_id, table.email, table.username].map(|i| table.text(i));
        // Each user column's codes, read alongside the rows, and each one's at the row before.
        let mut names = user_columns.map(|c| c.map(|c| c.codes.iter()));
        let mut before = [NONE; 3];
        for ((row, id), u) in ids.iter_mut().enumerate().zip(identity.codes.iter()) {
            let mut same = true;
            for (codes, before) in names.iter_mut().flatten().zip(&mut before) {
                let code = codes.next().unwrap_or(NONE);
                same &= code == *before;
                *before = code;
            }
            if u != previous {
                if u as usize != rollup.user_tuples.len() {
                    return None;
                }
                try_push(&mut rollup.user_tuples, rollup.tuple_slice.len() as u32)?;
                try_push(&mut rollup.user_rep, row as u32)?;
                previous = u;
            } else {
                rollup.functional &= same;
            }
            let slice = slice_of[row] as usize;
            if tuple_user[slice] != u {
                tuple_user[slice] = u;
                tuple_of[slice] = rollup.tuple_slice.len() as u32;
                try_push(&mut rollup.tuple_slice, slice as u32)?;
            }
            *id = tuple_of[slice];
        }
        if rollup.user_tuples.len() != users {
            return None;
        }
        try_push(&mut rollup.user_tuples, rollup.tuple_slice.len() as u32)?;
        drop(tuple_of);
        drop(tuple_user);
        rollup.users = Level::build(table, &ids, rollup.tuple_slice.len())?;
        drop(ids);

        // User-days, each with its set of slices.
        let mut sets: FxHashMap<Vec<u32>, u32> = FxHashMap::default();
        let mut current: Vec<u32> = Vec::new();
        let (mut user, mut day) = (NONE, NONE);
        // Per user: the last dated day, and whether rows without a date were seen: each user's
        // days must come in order, rows without a date last (as exports write them), so that a
        // user-day is one entry and a filter's days are one stretch of each user's.
        let (mut last_dated, mut undated) = (None::<u32>, false);
        // Whether any user-day has no date (then no grains: see `grain`).
        let mut any_undated = false;
        let finish = |rollup: &mut Rollup,
                      sets: &mut FxHashMap<Vec<u32>, u32>,
                      current: &mut Vec<u32>,
                      day: u32|
         -> Option<()> {
            let set = rollup.intern(sets, current)?;
            try_push(&mut rollup.day_of, day as u16)?;
            rollup.set_of.push(set)?;
            current.clear();
            Some(())
        };
        let rows = slice_of.iter().zip(identity.codes.iter());
        for ((&slice, u), d) in rows.zip(day_indexes(grid, dates, n)) {
            if u != user || d != day {
                if user != NONE {
                    finish(&mut rollup, &mut sets, &mut current, day)?;
                }
                if u != user {
                    try_push(&mut rollup.user_days, rollup.day_of.len() as u32)?;
                    (last_dated, undated) = (None, false);
                }
                if d == days - 1 {
                    if std::mem::replace(&mut undated, true) {
                        return None;
                    }
                    any_undated = true;
                } else {
                    // Dates in order, rows without one after them.
                    if undated || last_dated.is_some_and(|l| l >= d) {
                        return None;
                    }
                    last_dated = Some(d);
                }
                (user, day) = (u, d);
            }
            try_push(&mut current, slice)?;
        }
        if user != NONE {
            finish(&mut rollup, &mut sets, &mut current, day)?;
        }
        try_push(&mut rollup.user_days, rollup.day_of.len() as u32)?;
        drop(slice_of);
        if days > 1 && !any_undated {
            rollup.grains = rollup.count_grains(&mut sets, every_grain)?;
            rollup.grains.sort_by_key(Grain::entries);
            rollup.coarse = rollup.coarse_cubes(every_grain)?;
        }
        rollup.months = UserMonths::build(table, &rollup, every_grain);
        rollup.shrink()?;
        Some(rollup)
    }

    /// The cube added up per whole range, month and week (coarsest first), each kept when it
    /// has at most a quarter of the day cube's cells (every one with `every`), as the grains are;
    /// `None` when the memory is not there. Only for exports whose rows all have a date.
    fn coarse_cubes(&self, every: bool) -> Option<Vec<Coarse>> {
        let (base, grid) = (self.grid.base, self.grid.days as u32);
        let slices = self.slice_client.len() as u64;
        let cells = self.cell_day.len();
        let mut out = Vec::new();
        for period in [Period::All, Period::Month, Period::Week] {
            let of: Vec<u32> = try_collect((0..grid).map(|i| period.of(base, i)))?;
            let periods = of.last().map_or(0, |&p| p as usize + 1);
            let mut first: Vec<u32> = try_filled(periods, NONE)?;
            for (i, &p) in of.iter().enumerate().rev() {
                first[p as usize] = i as u32;
            }
            let mut slots = KeyIds::new((periods as u64).checked_mul(slices)?, DENSE_CELLS)?;
            let mut ids: Vec<u32> = try_filled(cells, NONE)?;
            let (mut cell_period, mut cell_slice, mut cell_rep) =
                (Vec::new(), Vec::new(), Vec::new());
            // Day cells come in the order of their first rows: the first of a coarse cell's is
            // its first row.
            for (c, id) in ids.iter_mut().enumerate() {
                let (p, slice) = (of[self.cell_day[c] as usize], self.cell_slice[c]);
                let slot = slots.slot(u64::from(p) * slices + u64::from(slice))?;
                if *slot == NONE {
                    *slot = cell_period.len() as u32;
                    try_push(&mut cell_period, p)?;
                    try_push(&mut cell_slice, slice)?;
                    try_push(&mut cell_rep, self.cell_rep[c])?;
                }
                *id = *slot;
            }
            drop(slots);
            if !every && cell_period.len().saturating_mul(grain::GRAIN_RATIO) > cells {
                continue;
            }
            let level = self.cube.coarser(&ids, cell_period.len())?;
            try_push(
                &mut out,
                Coarse {
                    period,
                    of,
                    first,
                    cell_period,
                    cell_slice,
                    cell_rep,
                    level,
                },
            )?;
        }
        Some(out)
    }

    /// Which cube a cube grouping with time keys `time` adds under `pass`: the coarsest whose
    /// periods the keys and the filter take whole (each period's days all kept or all dropped,
    /// and all in one time bucket), else (`None`) the day cube.
    fn cube_for(&self, time: &[Key], pass: &Pass) -> Option<usize> {
        let fits = |period: Period| match time {
            [] => true,
            [Key::Week] => period == Period::Week,
            [Key::Month] => period == Period::Month,
            _ => false,
        };
        let whole = |coarse: &Coarse| {
            coarse
                .of
                .iter()
                .enumerate()
                .all(|(d, &p)| pass.day[d] == pass.day[coarse.first[p as usize] as usize])
        };
        self.coarse.iter().position(|c| fits(c.period) && whole(c))
    }

    /// The cells of cube `which` ([`Rollup::cube_for`]).
    fn cells(&self, which: Option<usize>) -> CubeCells<'_> {
        match which.map(|i| &self.coarse[i]) {
            Some(c) => CubeCells {
                day: &c.cell_period,
                slice: &c.cell_slice,
                rep: &c.cell_rep,
                level: &c.level,
                first: Some(&c.first),
            },
            None => CubeCells {
                day: &self.cell_day,
                slice: &self.cell_slice,
                rep: &self.cell_rep,
                level: &self.cube,
                first: None,
            },
        }
    }

    /// The slices of set `k`.
    fn set_members(&self, k: usize) -> &[u32] {
        &self.set_slices[self.set_start[k] as usize..self.set_start[k + 1] as usize]
    }

    /// The id of the set of slices in `slices` (sorted and deduplicated here), a new one when
    /// `sets` does not have it yet; `None` when the memory is not there.
    fn intern(
        &mut self,
        sets: &mut FxHashMap<Vec<u32>, u32>,
        slices: &mut Vec<u32>,
    ) -> Option<u32> {
        slices.sort_unstable();
        slices.dedup();
        if let Some(&set) = sets.get(slices.as_slice()) {
            return Some(set);
        }
        let set = sets.len() as u32;
        self.set_slices.try_reserve(slices.len()).ok()?;
        self.set_slices.extend_from_slice(slices);
        try_push(&mut self.set_start, self.set_slices.len() as u32)?;
        sets.try_reserve(1).ok()?;
        sets.insert(try_collect(slices.iter().copied())?, set);
        Some(set)
    }

    /// Gives back the room the build's vectors grew into past their entries (up to as much
    /// again: a vector doubles as it grows); `None` when the memory for the copies is not there.
    fn shrink(&mut self) -> Option<()> {
        for v in words!(self, &mut) {
            try_shrink(v)?;
        }
        for v in flags!(self, &mut) {
            try_shrink(v)?;
        }
        try_shrink(&mut self.day_of)?;
        self.set_of.shrink()?;
        for grain in &mut self.grains {
            grain.shrink()?;
        }
        for coarse in &mut self.coarse {
            coarse.shrink()?;
        }
        Some(())
    }

    /// Bytes the roll-ups hold on the heap: their vectors' room, not only their entries.
    pub(crate) fn heap_bytes(&self) -> usize {
        let words: usize = words!(self, &).iter().map(|v| v.capacity()).sum();
        let bools: usize = flags!(self, &).iter().map(|v| v.capacity()).sum();
        words * 4
            + bools
            + self.service_flags.as_ref().map_or(0, Vec::capacity)
            + self.cube.heap_bytes()
            + self.coarse.iter().map(Coarse::heap_bytes).sum::<usize>()
            + self.users.heap_bytes()
            + self.set_of.heap_bytes()
            + self.day_of.capacity() * 2
            + self.grains.iter().map(Grain::heap_bytes).sum::<usize>()
            + self.months.as_ref().map_or(0, UserMonths::heap_bytes)
    }

    /// A filter's conditions over the roll-ups' dimensions, or `None` when they cannot say it
    /// exactly (a filter on user names whose columns hold several values for one user).
    pub(crate) fn pass(&self, table: &Table, parts: &Parts) -> Option<Pass> {
        let slices = self.slice_client.len();
        // Service accounts left out by slice when the registry is the one the roll-ups know.
        let by_slice = parts.human.is_some()
            && self.service_flags.is_some()
            && self.service_flags.as_ref() == table.user_flags.as_ref();
        // The filter's conditions but service accounts, and all of them.
        let others = (0..slices)
            .map(|s| {
                let c = self.slice_client[s] as usize;
                let l = self.slice_language[s] as usize;
                parts.clients.as_ref().is_none_or(|k| k[c])
                    && parts.languages.as_ref().is_none_or(|k| k[l])
                    && (!parts.active_only || self.slice_true[s])
            })
            .collect::<Vec<bool>>();
        let slice = (0..slices)
            .map(|s| others[s] && !(by_slice && self.slice_service[s]))
            .collect::<Vec<bool>>();
        let dated = parts.from.is_some() || parts.to.is_some();
        let month_rows = !table.granularity.has_days();
        let mut day: Vec<bool> = (0..self.grid.days)
            .map(|i| {
                !dated || date_kept(month_rows, parts.from, parts.to, self.grid.base + i as i32)
            })
            .collect();
        day.push(!dated);
        let users = self.user_rep.len();
        let human = parts.human.as_ref().filter(|_| !by_slice);
        if parts.user_hits.is_some() && !self.functional {
            return None;
        }
        // Per user: kept by the conditions on who they are, service accounts aside.
        let mut others_keep = vec![true; users];
        for (u, k) in others_keep.iter_mut().enumerate() {
            let row = self.user_rep[u] as usize;
            if let Some(hits) = &parts.user_hits {
                *k &= hits.iter().any(|(i, hits)| {
                    table
                        .text(Some(*i))
                        .is_some_and(|c| hits[c.codes.get(row) as usize])
                });
            }
            for by in &parts.attributes {
                *k &= by[u];
            }
        }
        let filtered = parts.user_hits.is_some() || !parts.attributes.is_empty() || human.is_some();
        let user = filtered.then(|| {
            let mut keep = others_keep.clone();
            if let (Some(human), Some(ids)) = (human, table.text(table.user_id)) {
                for (u, k) in keep.iter_mut().enumerate() {
                    *k &= human[ids.codes.get(self.user_rep[u] as usize) as usize];
                }
            }
            keep
        });
        let sets = self.set_start.len() - 1;
        let set_bits = (0..sets)
            .map(|k| {
                self.set_members(k).iter().fold(0u8, |bits, &s| {
                    let s = s as usize;
                    bits | if slice[s] {
                        1 | (u8::from(self.slice_active[s]) << 1)
                    } else {
                        0
                    }
                })
            })
            .collect();
        let first = day.iter().position(|&k| k).unwrap_or(day.len()) as u32;
        let last = day.iter().rposition(|&k| k).map_or(0, |i| i as u32);
        // With a joined registry: how many service accounts have a row the other conditions
        // keep (what leaving them out leaves out, or what counting them adds).
        let registry = table.user_flags.as_deref().zip(table.text(table.user_id));
        let service_accounts = registry.map(|(flags, ids)| {
            let sets = self.set_start.len() - 1;
            let others_set: Vec<bool> = (0..sets)
                .map(|k| self.set_members(k).iter().any(|&s| others[s as usize]))
                .collect();
            let users = (0..users)
                .filter(|&u| {
                    let code = ids.codes.get(self.user_rep[u] as usize) as usize;
                    flags[code] & 1 != 0
                        && others_keep[u]
                        && (self.user_days[u] as usize..self.user_days[u + 1] as usize).any(|k| {
                            day[usize::from(self.day_of[k])]
                                && others_set[self.set_of.get(k) as usize]
                        })
                })
                .count();
            ServiceAccounts {
                excluded: parts.human.is_some(),
                users,
            }
        });
        Some(Pass {
            slice,
            day,
            dated,
            user,
            set_bits,
            first,
            last,
            service_accounts,
        })
    }

    /// The groups of `keys` under `pass`, when the roll-ups answer them exactly: keys of time,
    /// client and language without a filter on users; or by user without a filter on dates. Gives
    /// a row of each group (where its key values are read), the rows of each, and how the
    /// roll-ups' entries map to the groups.
    pub(crate) fn grouping(
        self: &Rc<Self>,
        keys: &[Key],
        pass: &Rc<Pass>,
    ) -> Option<(Vec<u32>, Vec<u64>, Rolled)> {
        if keys == [Key::User] {
            return self.by_user(pass);
        }
        let cube_key = |k: &Key| {
            matches!(
                k,
                Key::Day | Key::Week | Key::Month | Key::Client | Key::Language
            )
        };
        if pass.user.is_some() || !keys.iter().all(cube_key) {
            return None;
        }
        // Each day's time bucket (its tuple of the time keys' values), the null bucket last.
        let base = self.grid.base;
        let first = base;
        let bucket = |key: Key, i: usize| -> i64 {
            let d = base + i as i32;
            match key {
                Key::Day => i as i64,
                Key::Week => i64::from((week_start(d) - week_start(first)) / 7),
                _ => month_number(d) - month_number(first),
            }
        };
        let time: Vec<Key> = keys.iter().copied().filter(|k| k.is_time()).collect();
        let (day_part, day_parts) = if time.is_empty() {
            (vec![0; self.grid.days + 1], 1)
        } else {
            let mut day_part = Vec::with_capacity(self.grid.days + 1);
            let mut seen: FxHashMap<Vec<i64>, u32> = FxHashMap::default();
            for i in 0..self.grid.days {
                let tuple: Vec<i64> = time.iter().map(|&k| bucket(k, i)).collect();
                let next = seen.len() as u32;
                day_part.push(*seen.entry(tuple).or_insert(next));
            }
            day_part.push(seen.len() as u32);
            (day_part, seen.len() as u64 + 1)
        };
        // Each kept slice's part: its client and language, as far as the keys name them.
        let (by_client, by_language) = (keys.contains(&Key::Client), keys.contains(&Key::Language));
        let mut parts_seen: FxHashMap<(u32, u32), u32> = FxHashMap::default();
        let slice_part: Vec<u32> = (0..self.slice_client.len())
            .map(|s| {
                if !pass.slice[s] {
                    return NONE;
                }
                let key = (
                    if by_client { self.slice_client[s] } else { 0 },
                    if by_language {
                        self.slice_language[s]
                    } else {
                        0
                    },
                );
                let next = parts_seen.len() as u32;
                *parts_seen.entry(key).or_insert(next)
            })
            .collect();
        let parts = parts_seen.len().max(1) as u64;
        let size = day_parts.checked_mul(parts)?;
        if size > MAX_GROUP_TABLE {
            return None;
        }
        let mut map = vec![NONE; size as usize];
        let (mut reps, mut sizes) = (Vec::new(), Vec::new());
        let cube = self.cube_for(&time, pass);
        let cells = self.cells(cube);
        let rows = level_rows(&cells.level.rows);
        for c in 0..cells.len() {
            let Some(at) = cells.slot(c, &pass.day, &day_part, &slice_part, parts) else {
                continue;
            };
            let slot = &mut map[at];
            if *slot == NONE {
                *slot = reps.len() as u32;
                reps.push(cells.rep[c]);
                sizes.push(0u64);
            }
            sizes[*slot as usize] += rows(c);
        }
        if keys.is_empty() && reps.is_empty() {
            // Totals over nothing: one empty group, as the scan gives.
            reps.push(0);
            sizes.push(0);
        }
        let rolled = Rolled {
            rollup: Rc::clone(self),
            pass: Rc::clone(pass),
            kind: Kind::Cube {
                day_part,
                slice_part,
                parts,
                map,
                cube,
            },
        };
        Some((reps, sizes, rolled))
    }

    /// The grouping by user of a filter on dates (and on who the users are) that keeps every
    /// slice, as one run of rows per user: each user's rows are together and in date order (rows
    /// without a date last), so the rows a range keeps are one stretch of each user's, found by
    /// bisection on the dates instead of a pass over every row (within the months of the range,
    /// with the users' months). Gives the runs, a row of each group (its first kept row) and the
    /// rows of each, groups numbered in row order, as the scan numbers them, and with the users'
    /// months the same runs split at month ends. `None` for other filters (the users' sums
    /// answer a filter without dates; one on clients, languages or activity is the scan's).
    pub(crate) fn user_runs(self: &Rc<Self>, table: &Table, pass: &Pass) -> Option<UserRuns> {
        if !pass.dated || !pass.slice.iter().all(|&k| k) {
            return None;
        }
        let dates = table.dates()?;
        let day = |row: usize| day_index(self.grid, Some(dates), row);
        let (first, last) = (pass.first, pass.last);
        // The users' months narrow the bisection to the months of the range, and split each
        // user's run at month ends (for ranges of days on the grid).
        let months = self
            .months
            .as_ref()
            .filter(|_| first <= last && (last as usize) < self.grid.days);
        let mut split = match months.and_then(|m| m.plan(first, last)) {
            Some(plan) => Some(MonthRuns::new(self, plan)?),
            None => None,
        };
        let (mut runs, mut reps, mut sizes) = (Vec::new(), Vec::new(), Vec::new());
        for u in 0..self.user_rep.len() {
            if pass.user.as_ref().is_some_and(|k| !k[u]) {
                continue;
            }
            let start = self.user_rep[u] as usize;
            let end = self.user_rep.get(u + 1).map_or(table.rows, |&r| r as usize);
            // The first kept row is among the rows of the range's first month, the row after
            // the last among those of its last month.
            let [head, tail] =
                months.map_or([(start, end); 2], |m| m.windows(start, u, first, last));
            let bisect = |(mut lo, mut hi): (usize, usize), below: &dyn Fn(u32) -> bool| {
                while lo < hi {
                    let mid = lo + (hi - lo) / 2;
                    if below(day(mid)) {
                        lo = mid + 1;
                    } else {
                        hi = mid;
                    }
                }
                lo
            };
            let from = bisect(head, &|d| d < first);
            let to = bisect(tail, &|d| d <= last);
            if from < to {
                if let (Some(m), Some(split)) = (months, split.as_mut()) {
                    m.split((start, u, reps.len()), (from, to), split)?;
                }
                try_push(
                    &mut runs,
                    Run {
                        start: from,
                        end: to,
                        group: reps.len(),
                    },
                )?;
                try_push(&mut reps, from as u32)?;
                try_push(&mut sizes, (to - from) as u64)?;
            }
        }
        Some((runs, reps, sizes, split))
    }

    fn by_user(self: &Rc<Self>, pass: &Rc<Pass>) -> Option<(Vec<u32>, Vec<u64>, Rolled)> {
        if pass.dated {
            return None;
        }
        let rows = level_rows(&self.users.rows);
        let users = self.user_rep.len();
        let mut user_group = vec![NONE; users];
        let (mut reps, mut sizes) = (Vec::new(), Vec::new());
        for u in 0..users {
            if pass.user.as_ref().is_some_and(|k| !k[u]) {
                continue;
            }
            let (from, to) = (
                self.user_tuples[u] as usize,
                self.user_tuples[u + 1] as usize,
            );
            let kept: u64 = (from..to)
                .filter(|&t| pass.slice[self.tuple_slice[t] as usize])
                .map(&rows)
                .sum();
            let any = (from..to).any(|t| pass.slice[self.tuple_slice[t] as usize]);
            if any {
                user_group[u] = reps.len() as u32;
                reps.push(self.user_rep[u]);
                sizes.push(kept);
            }
        }
        let rolled = Rolled {
            rollup: Rc::clone(self),
            pass: Rc::clone(pass),
            kind: Kind::Users { user_group },
        };
        Some((reps, sizes, rolled))
    }
}

/// Row `row`'s day index on `grid`: `grid.days` (the index after the last day) for a row
/// without a date, or for every row of an export without dates.
fn day_index(grid: Days, dates: Option<&DayColumn>, row: usize) -> u32 {
    grid_index(grid, dates.map_or(NULL_DAY, |d| d.get(row)))
}

/// Day `day`'s index on `grid`: `grid.days` for `NULL_DAY` or a day off the grid.
fn grid_index(grid: Days, day: i32) -> u32 {
    grid.index(day).map_or(grid.days as u32, |i| i as u32)
}

/// The codes of `column` in order (of `n` rows), or `n` zeros without one.
fn codes_or_zero(column: Option<&TextColumn>, n: usize) -> impl Iterator<Item = u32> + '_ {
    cells_or(column.map(|c| c.codes.iter()), 0, n)
}

/// [`day_index`] of every row in order (of `n` rows), the dates unpacked a block at a time.
fn day_indexes(grid: Days, dates: Option<&DayColumn>, n: usize) -> impl Iterator<Item = u32> + '_ {
    let dated = dates.map(|d| d.iter().map(move |day| grid_index(grid, day)));
    cells_or(dated, grid.days as u32, n)
}

/// The row count of entry `i` of a level.
fn level_rows(rows: &NumColumn) -> impl Fn(usize) -> u64 + '_ {
    move |i| match &rows.data {
        Ints::U8(v) => u64::from(v.get(i)),
        Ints::U16(v) => u64::from(v.get(i)),
        Ints::U32(v) => u64::from(v.get(i)),
        Ints::I64(v) => v[i] as u64,
        Ints::F64(v) => v[i] as u64,
    }
}

/// A filter over the roll-ups' dimensions.
#[derive(Debug)]
pub(crate) struct Pass {
    /// Per slice: kept.
    slice: Vec<bool>,
    /// Per day index (the last for rows without a date): kept.
    day: Vec<bool>,
    /// The filter has dates.
    dated: bool,
    /// Per user: kept (`None`: every user).
    user: Option<Vec<bool>>,
    /// Per set of slices: bit 0, one of them is kept; bit 1, one of them is kept and active.
    set_bits: Vec<u8>,
    /// The day indexes kept are `first..=last` (the last index, rows without a date, only
    /// without dates in the filter).
    first: u32,
    last: u32,
    /// With a joined registry, what the filter did with its service accounts.
    pub(crate) service_accounts: Option<ServiceAccounts>,
}

/// A grouping answered from the roll-ups: how their entries map to groups.
#[derive(Debug)]
pub(crate) struct Rolled {
    rollup: Rc<Rollup>,
    pass: Rc<Pass>,
    kind: Kind,
}

#[derive(Debug)]
enum Kind {
    /// Groups of time, client and language: a cell of day `d` and slice `s` is in group
    /// `map[day_part[d] × parts + slice_part[s]]` (`slice_part` is `NONE` for slices dropped).
    /// The sums add the cells of cube `cube` ([`Rollup::cube_for`]).
    Cube {
        day_part: Vec<u32>,
        slice_part: Vec<u32>,
        parts: u64,
        map: Vec<u32>,
        cube: Option<usize>,
    },
    /// Groups of users: user `u` is in `user_group[u]`.
    Users { user_group: Vec<u32> },
}

impl Rolled {
    /// The same grouping restricted to `groups` (old ids), renumbered in that order.
    pub(crate) fn restrict(&self, groups: &[u32], old: usize) -> Rolled {
        let mut new_id = vec![NONE; old];
        for (i, &g) in groups.iter().enumerate() {
            new_id[g as usize] = i as u32;
        }
        let renumber = |ids: &[u32]| -> Vec<u32> {
            ids.iter()
                .map(|&g| if g == NONE { NONE } else { new_id[g as usize] })
                .collect()
        };
        let kind = match &self.kind {
            Kind::Cube {
                day_part,
                slice_part,
                parts,
                map,
                cube,
            } => Kind::Cube {
                day_part: day_part.clone(),
                slice_part: slice_part.clone(),
                parts: *parts,
                map: renumber(map),
                cube: *cube,
            },
            Kind::Users { user_group } => Kind::Users {
                user_group: renumber(user_group),
            },
        };
        Rolled {
            rollup: Rc::clone(&self.rollup),
            pass: Rc::clone(&self.pass),
            kind,
        }
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        match &self.kind {
            Kind::Cube {
                day_part,
                slice_part,
                map,
                ..
            } => (day_part.len() + slice_part.len() + map.len()) * 4,
            Kind::Users { user_group } => user_group.len() * 4,
        }
    }

    /// The metrics `needs` asks (but the days in range), for every group: `sizes` are the groups'
    /// rows.
    pub(crate) fn stats(
        &self,
        table: &Table,
        sizes: &[u64],
        needs: &Needs,
        range: Option<(i32, i32)>,
    ) -> Stats {
        let n = sizes.len();
        let mut stats = Stats::empty(sizes.to_vec(), table.columns.len());
        let r = &self.rollup;
        let p = &self.pass;
        match &self.kind {
            Kind::Cube {
                day_part,
                slice_part,
                parts,
                map,
                cube,
            } => {
                let cells = r.cells(*cube);
                if cube.is_some() {
                    r.summed_coarse.set(r.summed_coarse.get() + 1);
                }
                let groups: Vec<u32> = (0..cells.len())
                    .map(|c| {
                        cells
                            .slot(c, &p.day, day_part, slice_part, *parts)
                            .map_or(NONE, |at| map[at])
                    })
                    .collect();
                cells.level.stats(table, &groups, n, needs, &mut stats);
            }
            Kind::Users { user_group } => {
                let mut groups = vec![NONE; r.tuple_slice.len()];
                for (u, &g) in user_group.iter().enumerate() {
                    if g == NONE {
                        continue;
                    }
                    let tuples = r.user_tuples[u] as usize..r.user_tuples[u + 1] as usize;
                    for (slot, &s) in groups[tuples.clone()]
                        .iter_mut()
                        .zip(&r.tuple_slice[tuples])
                    {
                        if p.slice[s as usize] {
                            *slot = g;
                        }
                    }
                }
                r.users.stats(table, &groups, n, needs, &mut stats);
            }
        }
        if needs.distinct.any() && table.identity().is_some() {
            stats.distinct = self.distinct(n, range.is_some() && table.dates().is_some());
        }
        stats
    }

    /// Distinct users, active users, user-days and active user-days per group, from the
    /// user-days: users come one after another, and each user's days in order, so a group has
    /// seen a user (a user-day) before exactly when it was the last it saw.
    fn distinct(&self, n: usize, daily: bool) -> DistinctCounts {
        let r = &self.rollup;
        let p = &self.pass;
        let mut out = DistinctCounts {
            users: vec![0; n],
            active_users: vec![0; n],
            user_days: vec![0; n],
            active_user_days: vec![0; n],
        };
        let undated = r.grid.days as u32;
        let users = r.user_rep.len();
        match &self.kind {
            Kind::Users { user_group } => {
                for (u, &g) in user_group.iter().enumerate().take(users) {
                    if g == NONE {
                        continue;
                    }
                    let g = g as usize;
                    out.users[g] = 1;
                    for k in r.user_days[u] as usize..r.user_days[u + 1] as usize {
                        let bits = p.set_bits[r.set_of.get(k) as usize];
                        let dated = daily && u32::from(r.day_of[k]) != undated;
                        out.active_users[g] |= u64::from(bits >> 1);
                        out.user_days[g] += u64::from(dated && bits & 1 != 0);
                        out.active_user_days[g] += u64::from(dated && bits & 2 != 0);
                    }
                }
            }
            Kind::Cube {
                day_part,
                slice_part,
                parts,
                map,
                ..
            } => {
                // Each user's days are in order, the day without a date last: the user-days a
                // filter keeps are one stretch of them, found by bisection.
                let kept = |u: usize| {
                    let all = r.user_days[u] as usize..r.user_days[u + 1] as usize;
                    let days = &r.day_of[all.clone()];
                    let start = all.start + days.partition_point(|&d| u32::from(d) < p.first);
                    let end = all.start + days.partition_point(|&d| u32::from(d) <= p.last);
                    start..end.max(start)
                };
                let by_slice = slice_part.iter().any(|&x| x != NONE && x != 0);
                if !by_slice {
                    // One group per day (or none): groups follow one another with the days, so
                    // a user is new to a group exactly when the group changes.
                    let day_group: Vec<u32> = (0..day_part.len())
                        .map(|d| {
                            if p.day[d] {
                                map[(u64::from(day_part[d]) * parts) as usize]
                            } else {
                                NONE
                            }
                        })
                        .collect();
                    // Counted ahead, by the first grain (the smallest) whose periods each fall
                    // whole in one group or none.
                    let grid = r.grid.days;
                    for counted in &r.grains {
                        let counts =
                            counted.counts(&day_group[..grid], &p.set_bits, daily, &mut out);
                        if counts.is_some() {
                            r.counted_ahead.set(r.counted_ahead.get() + 1);
                            return out;
                        }
                    }
                    // One group of a range of days, every slice kept: from the users' months.
                    let (first, last) = (p.first as usize, p.last as usize);
                    let one = (first <= last && last < grid)
                        .then(|| day_group[first])
                        .filter(|&g| g != NONE && day_group[first..=last].iter().all(|&x| x == g));
                    let months = r.months.as_ref().filter(|_| p.slice.iter().all(|&k| k));
                    if let (Some(g), Some(months)) = (one, months) {
                        if let Some(plan) = months.plan(p.first, p.last) {
                            let g = g as usize;
                            [
                                out.users[g],
                                out.active_users[g],
                                out.user_days[g],
                                out.active_user_days[g],
                            ] = months.distinct(r, p, plan, daily);
                            return out;
                        }
                    }
                    for u in 0..users {
                        let (mut last, mut last_active) = (NONE, NONE);
                        for k in kept(u) {
                            let d = u32::from(r.day_of[k]);
                            let bits = p.set_bits[r.set_of.get(k) as usize];
                            let g = day_group[d as usize];
                            if bits == 0 || g == NONE {
                                continue;
                            }
                            let dated = u64::from(daily && d != undated);
                            let gi = g as usize;
                            out.users[gi] += u64::from(g != last);
                            out.user_days[gi] += dated;
                            last = g;
                            if bits & 2 != 0 {
                                out.active_users[gi] += u64::from(g != last_active);
                                out.active_user_days[gi] += dated;
                                last_active = g;
                            }
                        }
                    }
                    return out;
                }
                // Stamps: 1 + the last user (user-day) each group counted.
                let (mut user_seen, mut active_seen) = (vec![0u32; n], vec![0u32; n]);
                let (mut day_seen, mut active_day_seen) = (vec![0u32; n], vec![0u32; n]);
                let mut count = |g: usize, u: u32, k: u32, dated: bool, act: bool| {
                    if user_seen[g] != u + 1 {
                        user_seen[g] = u + 1;
                        out.users[g] += 1;
                    }
                    if dated && day_seen[g] != k + 1 {
                        day_seen[g] = k + 1;
                        out.user_days[g] += 1;
                    }
                    if act {
                        if active_seen[g] != u + 1 {
                            active_seen[g] = u + 1;
                            out.active_users[g] += 1;
                        }
                        if dated && active_day_seen[g] != k + 1 {
                            active_day_seen[g] = k + 1;
                            out.active_user_days[g] += 1;
                        }
                    }
                };
                for u in 0..users {
                    for k in kept(u) {
                        let d = r.day_of[k] as usize;
                        let set = r.set_of.get(k) as usize;
                        if p.set_bits[set] == 0 || !p.day[d] {
                            continue;
                        }
                        let dated = daily && d as u32 != undated;
                        let row = u64::from(day_part[d]) * parts;
                        for &s in r.set_members(set) {
                            let part = slice_part[s as usize];
                            if part == NONE {
                                continue;
                            }
                            // A page of groups leaves the others out.
                            let g = map[(row + u64::from(part)) as usize];
                            if g != NONE {
                                count(
                                    g as usize,
                                    u as u32,
                                    k as u32,
                                    dated,
                                    r.slice_active[s as usize],
                                );
                            }
                        }
                    }
                }
            }
        }
        out
    }

    /// Each group's first and last active day (groups by user).
    pub(crate) fn active_spans(&self, n: usize) -> Option<Vec<Option<(i32, i32)>>> {
        let Kind::Users { user_group } = &self.kind else {
            return None;
        };
        let r = &self.rollup;
        let undated = r.grid.days as u32;
        let mut spans = vec![None; n];
        for (u, &g) in user_group.iter().enumerate() {
            if g == NONE {
                continue;
            }
            for k in r.user_days[u] as usize..r.user_days[u + 1] as usize {
                let bits = self.pass.set_bits[r.set_of.get(k) as usize];
                if bits & 2 == 0 || u32::from(r.day_of[k]) == undated {
                    continue;
                }
                let d = r.grid.base + i32::from(r.day_of[k]);
                let span: &mut Option<(i32, i32)> = &mut spans[g as usize];
                let s = span.get_or_insert((d, d));
                *s = (s.0.min(d), s.1.max(d));
            }
        }
        Some(spans)
    }
}

#[cfg(test)]
mod tests {
    use super::{narrow, SetIds};
    use crate::column::num::Ints;

    #[test]
    fn set_ids_stay_16_bits_until_one_needs_more_then_keep_every_id() {
        let ids: Vec<u32> = (0..70_000u32).map(|i| (i * 7919) % 66_000).collect();
        let mut set_of = SetIds::Narrow(Vec::new());
        let mut widened_at = None;
        for (k, &id) in ids.iter().enumerate() {
            set_of.push(id).unwrap();
            if widened_at.is_none() && matches!(set_of, SetIds::Wide(_)) {
                widened_at = Some(k);
            }
        }
        // The first id past 16 bits widens the column, and not before.
        assert_eq!(
            widened_at,
            ids.iter().position(|&id| id > u32::from(u16::MAX))
        );
        assert!((0..ids.len()).all(|k| set_of.get(k) == ids[k]));
        assert!(set_of.range(10..20).eq(ids[10..20].iter().copied()));
    }

    #[test]
    fn narrow_keeps_each_sum_in_a_width_that_holds_it() {
        assert!(matches!(narrow(&[0i64, 254], 0).unwrap().data, Ints::U8(_)));
        assert!(matches!(
            narrow(&[0i64, 255], 0).unwrap().data,
            Ints::U16(_)
        ));
        assert!(matches!(
            narrow(&[70_000i64], 0).unwrap().data,
            Ints::U32(_)
        ));
        assert!(matches!(
            narrow(&[1i64 << 40], 0).unwrap().data,
            Ints::I64(_)
        ));
        assert!(matches!(narrow(&[-1i64, 3], 0).unwrap().data, Ints::I64(_)));
        assert!(narrow(&[i64::MIN], 0).is_none());
        // Unsigned counts (the users' months' row offsets) too.
        assert!(matches!(
            narrow(&[0u32, 70_000], 0).unwrap().data,
            Ints::U32(_)
        ));
        assert!(matches!(narrow(&[u32::MAX], 0).unwrap().data, Ints::I64(_)));
    }
}
