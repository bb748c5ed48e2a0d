//! Grouping: every kept row gets the dense id of its group (the packed key values index a dense
//! array when it is small, a hash map otherwise), and the kept rows are cut into runs of one group.

use crate::column::{FxHashMap, Run, TextColumn, NULL_DAY};
use crate::date::{civil_from_days, month_end, month_start, week_start};
use crate::error::Error;
use crate::table::Table;

use super::filter::Selection;
use super::spec::Key;

/// The id of a row the filter dropped.
pub(crate) const DROPPED: u32 = u32::MAX;

/// The day grid: every calendar day of the data, from `base` to `base + days - 1`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Days {
    pub base: i32,
    pub days: usize,
}

impl Days {
    pub fn of(table: &Table) -> Days {
        match (table.first_date, table.last_date) {
            (Some(lo), Some(hi)) => Days {
                base: lo,
                days: usize::try_from(i64::from(hi) - i64::from(lo) + 1).unwrap_or(0),
            },
            _ => Days { base: 0, days: 0 },
        }
    }

    /// The index of a day in the grid; `None` for an empty date.
    #[inline]
    pub fn index(self, d: i32) -> Option<usize> {
        if d == NULL_DAY {
            return None;
        }
        usize::try_from(i64::from(d) - i64::from(self.base))
            .ok()
            .filter(|&i| i < self.days)
    }
}

fn month_number(day: i32) -> i64 {
    let (y, m, _) = civil_from_days(day);
    i64::from(y) * 12 + i64::from(m) - 1
}

/// One component of a group key, mapped to a dense index below its size.
enum Component<'a> {
    /// Dictionary codes (user, client, language), and how many there are.
    Codes(&'a TextColumn, u64),
    /// A time key: the index of each grid day, and the size (the last index is for rows without a
    /// date).
    Days(Vec<u32>, u64),
}

impl Component<'_> {
    fn new(table: &Table, key: Key, grid: Days) -> Component<'_> {
        let codes = match key {
            Key::User => table.identity(),
            Key::Client => table.text(table.client),
            Key::Language => table.text(table.language),
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

    fn size(&self) -> u64 {
        match self {
            Component::Codes(_, n) | Component::Days(_, n) => *n,
        }
    }

    #[inline]
    fn index(&self, row: usize, dates: Option<&[i32]>, grid: Days) -> u64 {
        match self {
            Component::Codes(c, _) => u64::from(c.codes.get(row)),
            Component::Days(index, size) => dates
                .and_then(|d| grid.index(d[row]))
                .map_or(size - 1, |i| u64::from(index[i])),
        }
    }
}

/// The kept rows of one query, cut into groups.
#[derive(Debug)]
pub(crate) struct Grouping {
    pub keys: Vec<Key>,
    /// The group of every row (`DROPPED` for rows the filter dropped); `None` when the grouping
    /// only has runs (a page of groups).
    pub ids: Option<Vec<u32>>,
    /// A row of each group: where its key values are read.
    pub reps: Vec<u32>,
    /// Consecutive kept rows of one group.
    pub runs: Vec<Run>,
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
            // One group, even with no kept rows: totals over nothing are 0 (or null for rates).
            return Ok(Grouping {
                keys: Vec::new(),
                ids: None,
                reps: vec![0],
                runs: selected_runs(selection, table.rows),
            });
        }
        let mut reps: Vec<u32> = Vec::new();
        let mut dense = usize::try_from(product)
            .ok()
            .filter(|&p| p <= 1 << 22)
            .map(|p| vec![DROPPED; p]);
        let mut sparse: FxHashMap<u64, u32> = FxHashMap::default();
        let mut ids = vec![DROPPED; table.rows];
        for (row, id) in ids.iter_mut().enumerate() {
            if !selection.keeps(row) {
                continue;
            }
            let combined = components
                .iter()
                .fold(0u64, |acc, c| acc * c.size() + c.index(row, dates, grid));
            let slot = match &mut dense {
                Some(dense) => &mut dense[combined as usize],
                None => sparse.entry(combined).or_insert(DROPPED),
            };
            if *slot == DROPPED {
                *slot = reps.len() as u32;
                reps.push(row as u32);
            }
            *id = *slot;
        }
        let runs = runs(&ids);
        Ok(Grouping {
            keys: keys.to_vec(),
            ids: Some(ids),
            reps,
            runs,
        })
    }

    /// How many groups there are.
    pub fn len(&self) -> usize {
        self.reps.len()
    }

    /// The same rows restricted to `groups` (old ids), renumbered in that order: what a page of a
    /// sorted table needs computed.
    pub fn restrict(&self, groups: &[u32]) -> Grouping {
        let mut new_id = vec![DROPPED; self.len()];
        for (i, &g) in groups.iter().enumerate() {
            new_id[g as usize] = i as u32;
        }
        let runs = self
            .runs
            .iter()
            .filter_map(|r| {
                let group = new_id[r.group];
                (group != DROPPED).then_some(Run {
                    start: r.start,
                    end: r.end,
                    group: group as usize,
                })
            })
            .collect();
        Grouping {
            keys: self.keys.clone(),
            ids: None,
            reps: groups.iter().map(|&g| self.reps[g as usize]).collect(),
            runs,
        }
    }

    /// The calendar days of `range` that each group's time keys cover (all of them without time
    /// keys; 0 for groups without a date).
    pub fn days_in_range(&self, table: &Table, (lo, hi): (i32, i32)) -> Vec<u64> {
        let dates = table.dates();
        self.reps
            .iter()
            .map(|&row| {
                if !self.keys.iter().any(|k| k.is_time()) {
                    return (i64::from(hi) - i64::from(lo) + 1).max(0) as u64;
                }
                let d = dates.map_or(NULL_DAY, |d| d[row as usize]);
                let mut span = (lo, hi);
                for key in &self.keys {
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
            })
            .collect()
    }
}

/// The runs of kept rows, all in group 0.
fn selected_runs(selection: &Selection, rows: usize) -> Vec<Run> {
    let Some(mask) = selection.mask() else {
        return (rows > 0)
            .then_some(Run {
                start: 0,
                end: rows,
                group: 0,
            })
            .into_iter()
            .collect();
    };
    let mut runs: Vec<Run> = Vec::new();
    for (row, _) in mask.iter().enumerate().filter(|(_, &k)| k) {
        match runs.last_mut() {
            Some(run) if run.end == row => run.end = row + 1,
            _ => runs.push(Run {
                start: row,
                end: row + 1,
                group: 0,
            }),
        }
    }
    runs
}

fn runs(ids: &[u32]) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    for (row, &g) in ids.iter().enumerate() {
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
