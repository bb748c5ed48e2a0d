//! Growth and retention in bounded memory: the export read in chunks of rows ([`Chunk`]), each
//! chunk's kept rows turned into its users' active periods and dropped, so that memory holds each
//! user's active periods (periods × distinct users), never the rows.
//!
//! Nothing here restates a rule of the answers. Each chunk is a [`Table`] of its own, filtered by
//! [`Table::select`]; who is active on which day is read as [`Table::growth`] reads it (a kept
//! row with a true `Active Sourcegraph User`, or any kept row without that column, on a day of
//! the range); the range, the periods, their partial flags and the counts are computed at the end
//! by the same functions as the whole table's (`adoption::growth`, `adoption::retention`). The
//! one thing the stream decides otherwise is the range's bounds not given by the filter: the kept
//! rows' first and last dates, which a chunk cannot know, so every active day is kept and the
//! range applied at the end (a day outside the filter's own bounds is never kept).

use crate::column::NULL_DAY;
use crate::error::Error;
use crate::table::Table;
use crate::warning::Warning;

use super::adoption::{
    active_flags, activity_columns, check_grain, growth, range_periods, retention, Coverage,
    Growth, Period, PeriodFacts, PeriodQuery, Retention,
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
        let (dates, users) = activity_columns(table, what)?;
        let selection = table.select(&query.filter)?;
        let active = active_flags(table);
        let numbers = self.users.of(table);
        let (from, to) = self.bounds;
        let mut last: Option<(i32, i64)> = None;
        for row in (0..table.rows).filter(|&r| selection.keeps(r)) {
            let d = dates.get(row);
            if d == NULL_DAY {
                continue;
            }
            let (lo, hi) = self.kept.get_or_insert((d, d));
            (*lo, *hi) = ((*lo).min(d), (*hi).max(d));
            let in_range = from.is_none_or(|f| d >= f) && to.is_none_or(|t| d <= t);
            if !in_range || active.is_some_and(|a| a[row] != 1) {
                continue;
            }
            let period = match last {
                Some((day, p)) if day == d => p,
                _ => query.period.number(d),
            };
            last = Some((d, period));
            let user = numbers[users.codes.get(row) as usize] as usize;
            if self.periods.len() <= user {
                self.periods.resize_with(user + 1, Vec::new);
            }
            let list = &mut self.periods[user];
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
        }
        Ok(())
    }

    /// The range (the filter's bounds, else the kept rows' first and last dates) and each
    /// user's active periods within it, as the whole table's `Activity` gives them.
    fn facts(&self, table: &Table, period: Period) -> PeriodFacts {
        let (from, to) = self.bounds;
        let range = match (
            from.or(self.kept.map(|k| k.0)),
            to.or(self.kept.map(|k| k.1)),
        ) {
            (Some(lo), Some(hi)) if lo <= hi => Some((lo, hi)),
            _ => None,
        };
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
