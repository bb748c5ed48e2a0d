//! Grouping: every kept row gets the dense id of its group (the packed key values index a dense
//! array when it is small, a hash map otherwise), and the kept rows are cut into runs of one group.

use crate::column::packed::{Cell, Cells};
use crate::column::{Codes, DayColumn, FxHashMap, Layout, Run, TextColumn, NO_GROUP, NULL_DAY};
use crate::date::{month_end, month_number, month_start, week_start};
use crate::error::Error;
use crate::table::{Table, UNMAPPED};

use super::days::Days;
use super::filter::Selection;
use super::rollup::{MonthRuns, Rolled};
use super::spec::Key;

/// The id of a row the filter dropped.
const DROPPED: u32 = NO_GROUP;

/// Runs pay off when they are long (groups of users or dates in a sorted export); below this many
/// rows per run on average, a group id per row is cheaper to aggregate over.
const MIN_RUN_LENGTH: u64 = 8;

/// A page of groups holding at most 1/this of the rows is laid out as runs whatever their length:
/// one pass over its runs costs less than one over every row's group id.
const SMALL_PAGE: u64 = 16;

/// One component of a group key, mapped to a dense index below its size.
enum Component<'a> {
    /// Dictionary codes (user, client, language), and how many there are.
    Codes(&'a TextColumn, u64),
    /// A time key: the index of each grid day, and the size (the last index is for rows without a
    /// date).
    Days(Vec<u32>, u64),
    /// A people-file attribute: the user's code (of this column) mapped to the user's value, and
    /// the size (the last index is for users without a value).
    Mapped(&'a TextColumn, &'a [u32], u64),
}

impl Component<'_> {
    fn new(table: &Table, key: Key, grid: Days) -> Component<'_> {
        let codes = match key {
            Key::User => table.identity(),
            Key::Client => table.text(table.client),
            Key::Language => table.text(table.language),
            Key::Attribute(a) => {
                let (Some(users), Some(attributes)) = (table.identity(), &table.attributes) else {
                    return Component::Days(Vec::new(), 1);
                };
                let a = usize::from(a);
                let size = attributes.values[a].len() as u64 + 1;
                return Component::Mapped(users, &attributes.of_user[a], size);
            }
            Key::Day | Key::Week | Key::Month => {
                let first = grid.base;
                let index: Vec<u32> = (0..grid.days)
                    .map(|i| {
                        let d = first + i as i32;
                        (match key {
                            Key::Day => i as i64,
                            Key::Week => i64::from((week_start(d) - week_start(first)) / 7),
                            _ => month_number(d) - month_number(first),
                        }) as u32
                    })
                    .collect();
                let size = index.last().map_or(0, |&x| u64::from(x) + 1) + 1;
                return Component::Days(index, size);
            }
        };
        match codes {
            Some(c) => Component::Codes(c, c.values.len().max(1) as u64),
            None => Component::Days(Vec::new(), 1),
        }
    }

    /// `packed[row] = packed[row] × size + index(row)` for every row, one loop per kind.
    fn pack(&self, packed: &mut [u32], dates: Option<&DayColumn>, grid: Days) {
        fn codes<C: Cell>(packed: &mut [u32], codes: &Cells<C>, size: u32) {
            codes.for_slices(0, codes.len(), |start, codes| {
                let packed = packed.get_mut(start..).unwrap_or(&mut []);
                for (p, &c) in packed.iter_mut().zip(codes) {
                    *p = *p * size + Into::<u32>::into(c);
                }
            });
        }
        let size = self.size() as u32;
        match self {
            Component::Codes(c, _) => match &c.codes {
                Codes::U8(v) => codes(packed, v, size),
                Codes::U16(v) => codes(packed, v, size),
                Codes::U32(v) => codes(packed, v, size),
                other => other.for_each(|row, c| packed[row] = packed[row] * size + c),
            },
            Component::Mapped(users, map, _) => {
                let unmapped = size - 1;
                users.codes.for_each(|row, code| {
                    let v = map[code as usize];
                    packed[row] = packed[row] * size + if v == UNMAPPED { unmapped } else { v };
                });
            }
            Component::Days(index, _) => {
                let Some(dates) = dates else {
                    packed.iter_mut().for_each(|p| *p = *p * size + (size - 1));
                    return;
                };
                // Day numbers outside the grid (and the empty date) wrap to large offsets.
                for (p, d) in packed.iter_mut().zip(dates.iter()) {
                    let offset = d.wrapping_sub(grid.base) as u32 as usize;
                    *p = *p * size + index.get(offset).copied().unwrap_or(size - 1);
                }
            }
        }
    }

    fn size(&self) -> u64 {
        match self {
            Component::Codes(_, n) | Component::Days(_, n) | Component::Mapped(_, _, n) => *n,
        }
    }

    #[inline]
    fn index(&self, row: usize, dates: Option<&DayColumn>, grid: Days) -> u64 {
        match self {
            Component::Codes(c, _) => u64::from(c.codes.get(row)),
            Component::Mapped(users, map, size) => match map[users.codes.get(row) as usize] {
                UNMAPPED => size - 1,
                v => u64::from(v),
            },
            Component::Days(index, size) => dates
                .and_then(|d| grid.index(d.get(row)))
                .map_or(size - 1, |i| u64::from(index[i])),
        }
    }
}

/// Groups with packed keys below this many are found by index in a dense array, the others by
/// hashing.
const DENSE_GROUPS: u64 = 1 << 22;

/// The id of a kept row whose group's id is in `slot` (`DROPPED` for a group not seen yet, which
/// gets the next id and `row` as its representative).
#[inline(always)]
fn assign(slot: &mut u32, row: usize, reps: &mut Vec<u32>) -> u32 {
    if *slot == DROPPED {
        *slot = reps.len() as u32;
        reps.push(row as u32);
    }
    *slot
}

/// The rows of each of `n` groups, and how many runs of one group the ids make. Branch-free, with
/// two sets of counters (even and odd rows) so consecutive rows of one group do not wait on each
/// other; dropped rows count into a spare slot.
fn sizes_and_runs(ids: &[u32], n: usize) -> (Vec<u64>, u64) {
    let mut even = vec![0u64; n + 1];
    let mut odd = vec![0u64; n + 1];
    let slot = |g: u32| (g as usize).min(n);
    let mut runs = 0u64;
    let mut last = DROPPED;
    for pair in ids.chunks_exact(2) {
        even[slot(pair[0])] += 1;
        odd[slot(pair[1])] += 1;
        runs += u64::from(pair[0] != last && pair[0] != DROPPED);
        runs += u64::from(pair[1] != pair[0] && pair[1] != DROPPED);
        last = pair[1];
    }
    if let [.., g] = ids[ids.len() & !1..] {
        even[slot(g)] += 1;
        runs += u64::from(g != last && g != DROPPED);
    }
    even.truncate(n);
    for (e, o) in even.iter_mut().zip(odd) {
        *e += o;
    }
    (even, runs)
}

/// The kept rows of one query, cut into groups: as runs of rows when they are long, else as a
/// group id per row.
#[derive(Debug)]
pub(crate) struct Grouping {
    pub keys: Vec<Key>,
    /// Runs of kept rows of one group, or (`None`) `ids`.
    runs: Option<Vec<Run>>,
    /// The group of every row (`DROPPED` for rows the filter dropped) when there are no runs.
    ids: Vec<u32>,
    /// A row of each group: where its key values are read.
    pub reps: Vec<u32>,
    /// The number of rows of each group.
    pub sizes: Vec<u64>,
    /// Set when the roll-ups answer this grouping: its metrics come from them, and it has
    /// neither runs nor ids.
    pub rolled: Option<Rolled>,
    /// Runs by user under a range, split at month ends: the sums of the users' months answer
    /// the summed columns.
    pub months: Option<MonthRuns>,
}

impl Grouping {
    /// Groups the selected rows by `keys` (every kept row in group 0 without keys).
    pub fn new(table: &Table, keys: &[Key], selection: &Selection) -> Result<Grouping, Error> {
        let grid = Days::of(table);
        let dates = table.dates();
        let components: Vec<Component> = keys
            .iter()
            .map(|&key| Component::new(table, key, grid))
            .collect();
        let product = components
            .iter()
            .try_fold(1u64, |p, c| p.checked_mul(c.size()))
            .ok_or_else(|| Error::query("too many group keys for this export"))?;
        if keys.is_empty() {
            return Ok(Grouping::all(selection, table.rows));
        }
        let mut reps: Vec<u32> = Vec::new();
        let ids = if product <= DENSE_GROUPS {
            // Column by column: each row's key values packed into one dense index, then each
            // index replaced by its group's id.
            let mut ids = vec![0u32; table.rows];
            for component in &components {
                component.pack(&mut ids, dates, grid);
            }
            let mut slots = vec![DROPPED; product as usize];
            match selection.mask() {
                None => {
                    for (row, id) in ids.iter_mut().enumerate() {
                        *id = assign(&mut slots[*id as usize], row, &mut reps);
                    }
                }
                Some(mask) => {
                    for (row, (id, &keep)) in ids.iter_mut().zip(mask).enumerate() {
                        *id = if keep {
                            assign(&mut slots[*id as usize], row, &mut reps)
                        } else {
                            DROPPED
                        };
                    }
                }
            }
            ids
        } else {
            let mut slots: FxHashMap<u64, u32> = FxHashMap::default();
            (0..table.rows)
                .map(|row| {
                    if !selection.keeps(row) {
                        return DROPPED;
                    }
                    let key = components
                        .iter()
                        .fold(0u64, |acc, c| acc * c.size() + c.index(row, dates, grid));
                    assign(slots.entry(key).or_insert(DROPPED), row, &mut reps)
                })
                .collect()
        };
        let (sizes, runs) = sizes_and_runs(&ids, reps.len());
        let kept: u64 = sizes.iter().sum();
        let runs =
            (runs.saturating_mul(MIN_RUN_LENGTH) <= kept).then(|| runs_of(ids.iter().copied()));
        Ok(Grouping {
            keys: keys.to_vec(),
            ids: if runs.is_some() { Vec::new() } else { ids },
            runs,
            reps,
            sizes,
            rolled: None,
            months: None,
        })
    }

    /// Every kept row in one group (even with no kept rows: totals over nothing are 0, or null
    /// for rates), as runs when they are long, else as ids.
    fn all(selection: &Selection, rows: usize) -> Grouping {
        let whole = |runs, ids, kept| Grouping {
            keys: Vec::new(),
            runs,
            ids,
            reps: vec![0],
            sizes: vec![kept],
            rolled: None,
            months: None,
        };
        let Some(mask) = selection.mask() else {
            let run = Run {
                start: 0,
                end: rows,
                group: 0,
            };
            return whole(
                Some((rows > 0).then_some(run).into_iter().collect()),
                Vec::new(),
                rows as u64,
            );
        };
        let (mut starts, mut kept, mut last) = (0u64, 0u64, false);
        for &k in mask {
            starts += u64::from(k && !last);
            kept += u64::from(k);
            last = k;
        }
        if starts.saturating_mul(MIN_RUN_LENGTH) > kept {
            let ids = mask.iter().map(|&k| if k { 0 } else { DROPPED }).collect();
            return whole(None, ids, kept);
        }
        let mut runs: Vec<Run> = Vec::with_capacity(starts as usize);
        for (row, &k) in mask.iter().enumerate() {
            match runs.last_mut() {
                Some(run) if k && run.end == row => run.end = row + 1,
                _ if k => runs.push(Run {
                    start: row,
                    end: row + 1,
                    group: 0,
                }),
                _ => {}
            }
        }
        whole(Some(runs), Vec::new(), kept)
    }

    pub fn heap_bytes(&self) -> usize {
        self.rolled.as_ref().map_or(0, Rolled::heap_bytes)
            + self.months.as_ref().map_or(0, MonthRuns::heap_bytes)
            + self
                .runs
                .as_ref()
                .map_or(0, |r| r.capacity() * std::mem::size_of::<Run>())
            + self.ids.capacity() * 4
            + self.reps.capacity() * 4
            + self.sizes.capacity() * 8
    }

    /// How many groups there are.
    pub fn len(&self) -> usize {
        self.reps.len()
    }

    /// How the kept rows map to groups, for the aggregating loops.
    pub fn layout(&self) -> Layout<'_> {
        match &self.runs {
            Some(runs) => Layout::Runs(runs),
            None => Layout::Ids(&self.ids),
        }
    }

    /// The same rows restricted to `groups` (old ids), renumbered in that order: what a page of a
    /// sorted table needs computed. By group id, a page holding a small part of the rows becomes
    /// runs (however short), so that its metrics are computed over its own rows, not every row.
    pub fn restrict(&self, groups: &[u32]) -> Grouping {
        if let Some(rolled) = &self.rolled {
            return Grouping::rolled(
                self.keys.clone(),
                groups.iter().map(|&g| self.reps[g as usize]).collect(),
                groups.iter().map(|&g| self.sizes[g as usize]).collect(),
                rolled.restrict(groups, self.len()),
            );
        }
        let mut new_id = vec![DROPPED; self.len()];
        for (i, &g) in groups.iter().enumerate() {
            new_id[g as usize] = i as u32;
        }
        let renumber = |g: u32| {
            if g == DROPPED {
                DROPPED
            } else {
                new_id[g as usize]
            }
        };
        let kept: u64 = groups.iter().map(|&g| self.sizes[g as usize]).sum();
        let (runs, ids) = match &self.runs {
            Some(runs) => (
                Some(
                    runs.iter()
                        .filter_map(|r| {
                            let group = new_id[r.group];
                            (group != DROPPED).then_some(Run {
                                group: group as usize,
                                ..*r
                            })
                        })
                        .collect(),
                ),
                Vec::new(),
            ),
            None if kept.saturating_mul(SMALL_PAGE) <= self.ids.len() as u64 => (
                Some(runs_of(self.ids.iter().map(|&g| renumber(g)))),
                Vec::new(),
            ),
            None => (None, self.ids.iter().map(|&g| renumber(g)).collect()),
        };
        Grouping {
            keys: self.keys.clone(),
            runs,
            ids,
            reps: groups.iter().map(|&g| self.reps[g as usize]).collect(),
            sizes: groups.iter().map(|&g| self.sizes[g as usize]).collect(),
            rolled: None,
            months: None,
        }
    }

    /// A grouping whose kept rows are `runs` (in row order, groups numbered in order of first
    /// row), with a row of each group and the rows of each.
    pub(crate) fn of_runs(
        keys: Vec<Key>,
        runs: Vec<Run>,
        reps: Vec<u32>,
        sizes: Vec<u64>,
        months: Option<MonthRuns>,
    ) -> Grouping {
        Grouping {
            keys,
            runs: Some(runs),
            ids: Vec::new(),
            reps,
            sizes,
            rolled: None,
            months,
        }
    }

    /// A grouping the roll-ups answer: a row of each group (where its key values are read), the
    /// rows of each, and how the roll-ups' entries map to the groups.
    pub(crate) fn rolled(
        keys: Vec<Key>,
        reps: Vec<u32>,
        sizes: Vec<u64>,
        rolled: Rolled,
    ) -> Grouping {
        Grouping {
            keys,
            runs: None,
            ids: Vec::new(),
            reps,
            sizes,
            rolled: Some(rolled),
            months: None,
        }
    }

    /// The calendar days of `range` that each group's time keys cover (all of them without time
    /// keys; 0 for groups without a date).
    pub fn days_in_range(&self, table: &Table, range: (i32, i32)) -> Vec<u64> {
        let dates = table.dates();
        self.reps
            .iter()
            .map(|&row| {
                // (Every kept row's group is a group, but the one group of no rows has none.)
                let timed = self.keys.iter().any(|k| k.is_time());
                let d = match dates {
                    Some(d) if timed => d.get(row as usize),
                    _ => NULL_DAY,
                };
                days_in_range(&self.keys, d, range)
            })
            .collect()
    }
}

/// The calendar days of `range` that a group keyed by `keys` covers, the date of its rows being
/// `d` (all of them without time keys; 0 for a group without a date).
pub(crate) fn days_in_range(keys: &[Key], d: i32, (lo, hi): (i32, i32)) -> u64 {
    if !keys.iter().any(|k| k.is_time()) {
        return (i64::from(hi) - i64::from(lo) + 1).max(0) as u64;
    }
    let mut span = (lo, hi);
    for key in keys {
        if d == NULL_DAY && key.is_time() {
            return 0;
        }
        let (a, b) = match key {
            Key::Day => (d, d),
            Key::Week => (week_start(d), week_start(d) + 6),
            Key::Month => (month_start(d), month_end(d)),
            _ => continue,
        };
        span = (span.0.max(a), span.1.min(b));
    }
    (i64::from(span.1) - i64::from(span.0) + 1).max(0) as u64
}

/// The runs of rows of one group, from every row's group id.
fn runs_of(ids: impl IntoIterator<Item = u32>) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    for (row, g) in ids.into_iter().enumerate() {
        if g == DROPPED {
            continue;
        }
        match runs.last_mut() {
            Some(run) if run.end == row && run.group == g as usize => run.end = row + 1,
            _ => runs.push(Run {
                start: row,
                end: row + 1,
                group: g as usize,
            }),
        }
    }
    runs
}
