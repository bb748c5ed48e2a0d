//! Growth, retention and the inactive users in bounded memory: the export read in chunks of rows
//! ([`Chunk`]), each chunk's kept rows turned into its users' active periods (or their last active
//! day and line, for the inactive list) and dropped, so that memory holds periods × distinct
//! users, never the rows.
//!
//! Each chunk is a [`Table`] of its own, filtered by [`Table::select`]. The range, the periods,
//! their partial flags, the counts and the inactive list's cut and order are computed at the end by
//! the same functions as the whole table's (`adoption::growth`, `adoption::retention`,
//! `adoption::inactive_answer`, ...). The one test written again here ([`visit`]) is whether a
//! kept row makes its user active on its day (a true `Active Sourcegraph User`, or any row
//! without that column, on a day of the range): the whole table's `Activity` knows the range
//! before it reads the rows, a chunk does not (the bounds not given by the filter are the kept
//! rows' first and last dates), so here every active day within the filter's own bounds is kept
//! and the range applied at the end. The tests hold both to the same answers.

use crate::column::NULL_DAY;
use crate::error::Error;
use crate::table::Table;
use crate::warning::Warning;

use super::adoption::{
    active_flags, activity_columns, check_grain, growth, range_periods, retention, Coverage,
    Growth, Period, PeriodFacts, PeriodQuery, Retention,
};
use super::filter::Selection;
use super::inactive::{
    check_inactive, inactive, inactive_answer, inactive_since, Inactive, InactiveQuery,
    InactiveUser, INACTIVE,
};
use super::stream::{Chunk, ChunkEnd, Typing, UserNumbers};

/// Which answer a stream computes (its checks and messages name it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeriodAnswer {
    /// [`Table::growth`].
    Growth,
    /// [`Table::retention`].
    Retention,
}

impl PeriodAnswer {
    fn what(self) -> &'static str {
        match self {
            PeriodAnswer::Growth => "growth",
            PeriodAnswer::Retention => "retention",
        }
    }
}

/// Growth or retention computed chunk by chunk: [`ActivityStream::add`] each [`Chunk`] in the
/// export's order, then [`ActivityStream::growth`] or [`ActivityStream::retention`] with the last
/// one. The answer is the whole table's ([`Table::growth`], [`Table::retention`]) for any filter
/// but a people file's attributes and the service accounts of a registry (which need the whole
/// table joined).
pub struct ActivityStream {
    query: PeriodQuery,
    answer: PeriodAnswer,
    state: Option<State>,
}

/// An answer read in chunks, with what the whole input's reading found.
#[derive(Clone, Debug)]
pub struct Streamed<T> {
    /// The answer.
    pub answer: T,
    /// The input's first warnings, as the whole table lists them.
    pub warnings: Vec<Warning>,
    /// How many warnings there were in all.
    pub warnings_total: u64,
    /// Rows skipped (malformed).
    pub skipped_rows: u64,
}

struct State {
    /// The whole input's columns and warnings.
    typing: Typing,
    users: UserNumbers,
    /// Per user (by number): their active period numbers, ascending and distinct.
    periods: Vec<Vec<i64>>,
    /// The first and last date of the kept rows.
    kept: Option<(i32, i32)>,
    /// The filter's own bounds of the range.
    bounds: (Option<i32>, Option<i32>),
}

impl ActivityStream {
    /// A stream computing `answer` for `query`.
    pub fn new(query: &PeriodQuery, answer: PeriodAnswer) -> ActivityStream {
        ActivityStream {
            query: query.clone(),
            answer,
            state: None,
        }
    }

    /// Adds the rows of a chunk. Fails on the first chunk when the export cannot answer (no
    /// dates, no users, weeks of a month-grain export, a filter that does not fit it).
    pub fn add(&mut self, chunk: Chunk) -> Result<(), Error> {
        let mut table = chunk.0;
        let what = self.answer.what();
        let query = &self.query;
        let state = match &mut self.state {
            Some(state) => state,
            None => {
                if !query.filter.attributes.is_empty() {
                    return Err(Error::query(
                        "a filter on a people file's columns needs the whole table",
                    ));
                }
                check_grain(&table, query.period, what)?;
                activity_columns(&table, what)?;
                let selection = table.select(&query.filter)?;
                self.state.insert(State {
                    typing: Typing::new(&table),
                    users: UserNumbers::default(),
                    periods: Vec::new(),
                    kept: None,
                    bounds: (selection.from, selection.to),
                })
            }
        };
        state.typing.add(&mut table);
        state.add(&table, query, what)
    }

    /// Adds the last chunk and answers growth accounting.
    pub fn growth(self, last: Chunk, end: ChunkEnd) -> Result<Streamed<Growth>, Error> {
        let query = self.query.clone();
        self.finish(last, end, |facts| Ok(growth(&query, facts)))
    }

    /// Adds the last chunk and answers retention cohorts.
    pub fn retention(self, last: Chunk, end: ChunkEnd) -> Result<Streamed<Retention>, Error> {
        let query = self.query.clone();
        self.finish(last, end, |facts| retention(&query, facts))
    }

    fn finish<T>(
        mut self,
        last: Chunk,
        end: ChunkEnd,
        answer: impl FnOnce(&PeriodFacts) -> Result<T, Error>,
    ) -> Result<Streamed<T>, Error> {
        self.add(last)?;
        let mut state = self.state.take().expect("add sets the state");
        let table = state.typing.finish(end.0);
        let facts = state.facts(&table, self.query.period);
        Ok(Streamed {
            answer: answer(&facts)?,
            warnings: table.warnings,
            warnings_total: table.warnings_total,
            skipped_rows: table.skipped_rows,
        })
    }
}

impl State {
    fn add(&mut self, table: &Table, query: &PeriodQuery, what: &str) -> Result<(), Error> {
        let (_, users) = activity_columns(table, what)?;
        let selection = table.select(&query.filter)?;
        let numbers = self.users.of(table);
        let mut last: Option<(i32, i64)> = None;
        let periods = &mut self.periods;
        visit(
            table,
            &selection,
            self.bounds,
            &mut self.kept,
            |row, day| {
                let Some(d) = day else { return };
                let period = match last {
                    Some((day, p)) if day == d => p,
                    _ => query.period.number(d),
                };
                last = Some((d, period));
                let user = numbers[users.codes.get(row) as usize] as usize;
                if periods.len() <= user {
                    periods.resize_with(user + 1, Vec::new);
                }
                let list = &mut periods[user];
                match list.last() {
                    Some(&p) if p == period => {}
                    None => list.push(period),
                    Some(&p) if p < period => list.push(period),
                    Some(_) => {
                        if let Err(at) = list.binary_search(&period) {
                            list.insert(at, period);
                        }
                    }
                }
            },
        );
        Ok(())
    }

    /// The range (the filter's bounds, else the kept rows' first and last dates) and each
    /// user's active periods within it, as the whole table's `Activity` gives them.
    fn facts(&self, table: &Table, period: Period) -> PeriodFacts {
        let range = range(self.bounds, self.kept);
        let coverage = Coverage::of(table, self.bounds, range);
        let Some((lo, hi)) = range else {
            return PeriodFacts {
                first: 0,
                count: 0,
                users: Vec::new(),
                coverage,
            };
        };
        let (first, count) = range_periods(period, lo, hi);
        let users = self
            .periods
            .iter()
            .filter(|ps| !ps.is_empty())
            .map(|ps| ps.iter().map(|&p| (p - first) as usize).collect())
            .collect();
        PeriodFacts {
            first,
            count,
            users,
            coverage,
        }
    }
}

/// The range: the filter's bounds, else the kept rows' first and last dates (`None` when they
/// cross or nothing was kept), as the whole table's `Activity` has it.
fn range(bounds: (Option<i32>, Option<i32>), kept: Option<(i32, i32)>) -> Option<(i32, i32)> {
    match (
        bounds.0.or(kept.map(|k| k.0)),
        bounds.1.or(kept.map(|k| k.1)),
    ) {
        (Some(lo), Some(hi)) if lo <= hi => Some((lo, hi)),
        _ => None,
    }
}

/// Visits a chunk's kept rows in order: widens `kept` to their dates, and calls `each(row,
/// day)` for every kept row, with the day when the row makes its user active on a day within
/// the filter's `bounds` (a true `Active Sourcegraph User`, or any row without that column).
fn visit(
    table: &Table,
    selection: &Selection,
    bounds: (Option<i32>, Option<i32>),
    kept: &mut Option<(i32, i32)>,
    mut each: impl FnMut(usize, Option<i32>),
) {
    let Some(dates) = table.dates() else { return };
    let active = active_flags(table);
    let (from, to) = bounds;
    for row in (0..table.rows).filter(|&r| selection.keeps(r)) {
        let d = dates.get(row);
        if d == NULL_DAY {
            each(row, None);
            continue;
        }
        let (lo, hi) = kept.get_or_insert((d, d));
        (*lo, *hi) = ((*lo).min(d), (*hi).max(d));
        let in_range = from.is_none_or(|f| d >= f) && to.is_none_or(|t| d <= t);
        let counts = in_range && active.is_none_or(|a| a[row] == 1);
        each(row, counts.then_some(d));
    }
}

/// The inactive users list computed chunk by chunk: [`InactiveStream::add`] each [`Chunk`],
/// then [`InactiveStream::finish`] with the last. The answer is [`Table::inactive_users`]
/// without a registry (a registry's users without rows, and its service accounts, need the
/// whole table), for any filter but a people file's attributes. Memory: per user of the kept
/// rows, their ID, e-mail, username and last active day.
pub struct InactiveStream {
    query: InactiveQuery,
    state: Option<InactiveState>,
}

struct InactiveState {
    typing: Typing,
    users: UserNumbers,
    /// Per user (by number) with a kept row: their line, and their last active day.
    seen: Vec<Option<(InactiveUser, Option<i32>)>>,
    kept: Option<(i32, i32)>,
    bounds: (Option<i32>, Option<i32>),
}

impl InactiveStream {
    /// A stream computing the inactive users for `query`.
    pub fn new(query: &InactiveQuery) -> InactiveStream {
        InactiveStream {
            query: query.clone(),
            state: None,
        }
    }

    /// Adds the rows of a chunk. Fails on the first chunk when the query or the export cannot
    /// answer.
    pub fn add(&mut self, chunk: Chunk) -> Result<(), Error> {
        let mut table = chunk.0;
        let query = &self.query;
        let state = match &mut self.state {
            Some(state) => state,
            None => {
                check_inactive(query)?;
                if !query.filter.attributes.is_empty() {
                    return Err(Error::query(
                        "a filter on a people file's columns needs the whole table",
                    ));
                }
                activity_columns(&table, INACTIVE)?;
                let selection = table.select(&query.filter)?;
                self.state.insert(InactiveState {
                    typing: Typing::new(&table),
                    users: UserNumbers::default(),
                    seen: Vec::new(),
                    kept: None,
                    bounds: (selection.from, selection.to),
                })
            }
        };
        state.typing.add(&mut table);
        let (_, users) = activity_columns(&table, INACTIVE)?;
        let selection = table.select(&query.filter)?;
        let numbers = state.users.of(&table);
        // The e-mail and username beside a user ID, from the user's first kept row.
        let text = |column: Option<usize>, row: usize| -> Option<String> {
            let t = table.text(column).filter(|_| table.user_id.is_some())?;
            Some(t.value(row).to_string())
        };
        let seen = &mut state.seen;
        visit(
            &table,
            &selection,
            state.bounds,
            &mut state.kept,
            |row, day| {
                let code = users.codes.get(row) as usize;
                let user = numbers[code] as usize;
                if seen.len() <= user {
                    seen.resize_with(user + 1, || None);
                }
                let (_, last) = seen[user].get_or_insert_with(|| {
                    let line = InactiveUser {
                        user: users.values[code].clone(),
                        email: text(table.email, row),
                        username: text(table.username, row),
                        last_active: None,
                        service_account: None,
                        site_admin: None,
                    };
                    (line, None)
                });
                if let Some(d) = day {
                    *last = Some(last.map_or(d, |l| l.max(d)));
                }
            },
        );
        Ok(())
    }

    /// Adds the last chunk and answers.
    pub fn finish(mut self, last: Chunk, end: ChunkEnd) -> Result<Streamed<Inactive>, Error> {
        self.add(last)?;
        let mut state = self.state.take().expect("add sets the state");
        let table = state.typing.finish(end.0);
        let as_of = range(state.bounds, state.kept).map(|(_, hi)| hi);
        let since = inactive_since(&self.query, as_of);
        let out = state
            .seen
            .into_iter()
            .flatten()
            .filter(|(_, last)| inactive(*last, since))
            .map(|(line, last)| {
                let last_active = last.map(crate::date::format_day);
                (
                    last,
                    InactiveUser {
                        last_active,
                        ..line
                    },
                )
            })
            .collect();
        Ok(Streamed {
            answer: inactive_answer(&self.query, as_of, out, false),
            warnings: table.warnings,
            warnings_total: table.warnings_total,
            skipped_rows: table.skipped_rows,
        })
    }
}
