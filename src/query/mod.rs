//! Queries over a [`Table`]: filter, group, aggregate by the metric rules of docs/numbers.md, sort
//! and page.
//!
//! A query runs in stages, each kept for the next query that can use it: the [`Filter`] becomes a
//! selection of rows (`filter`), the selection is cut into groups (`group`), and only then are the
//! metrics computed (`aggregate`, `distinct`), and only those asked for. A sorted, paged table
//! computes its sort metric for every group and everything else for the returned page alone.
//! Values stay typed until the [`Summary`] is serialized.

mod activity_stream;
mod adoption;
mod aggregate;
mod answer;
mod days;
mod distinct;
mod engagement;
mod fields;
mod filter;
mod group;
mod inactive;
mod info;
#[cfg(not(target_arch = "wasm32"))]
mod parallel;
pub(crate) mod period;
mod rank;
mod rollup;
pub(crate) mod spec;
mod stats;
mod stream;

use std::rc::Rc;

use crate::date::{format_day, month_first_day, month_number};
use crate::error::Error;
use crate::summary::{Cell, Group, LastPeriods, PeriodTotals, Previous, ServiceAccounts, Summary};
use crate::table::Table;

pub use activity_stream::{ActivityStream, InactiveStream, PeriodAnswer, Streamed};
pub use adoption::{Cohort, Growth, GrowthPeriod, Period, PeriodQuery, Retention};
use answer::{assemble, Answers};
pub use engagement::{
    feature_label, FeatureCounts, FeaturePeriod, Features, Stickiness, StickinessPeriod,
};
use fields::{active_spans, key_fields, resolve_sort, span_cell, KeyField, SortBy};
pub(crate) use filter::Selection;
use group::Grouping;
pub use inactive::{Inactive, InactiveQuery, InactiveUser};
pub use info::{Card, Choices, Info, MetricInfo};
#[cfg(not(target_arch = "wasm32"))]
pub use parallel::{read_chunks, read_pieces};
use rank::{rank, Asked, Ranking, TextRanks};
use rollup::{Pass, Rollup};
use spec::{group_keys, minutes_saved};
pub use spec::{
    Compare, Filter, Headers, MetricKind, Query, Sort, DEFAULT_MINUTES_SAVED, DEFAULT_MIN_SAMPLE,
};
pub(crate) use spec::{Key, Metric};
use stats::{average_range, Needs, Stats};
pub use stream::{Chunk, ChunkEnd, Chunker, SummaryStream, CHUNK_ROWS};

/// Minutes saved per feature, as (column index, minutes).
type Minutes = Vec<(usize, f64)>;

/// How many groupings of the current filter a [`QueryCache`] keeps (the page's view uses four:
/// the table's keys, the time chart's, client and language).
const MAX_GROUPINGS: usize = 4;

/// What one filter's queries share: its selection, its groupings (most recently used last), its
/// totals, and the order of the last sorted table.
struct FilterState {
    filter: Filter,
    /// The filter's first and last day, when given.
    from: Option<i32>,
    to: Option<i32>,
    /// The rows it keeps, found when a grouping needs them (not when the roll-ups answer).
    selection: Option<Rc<Selection>>,
    /// The roll-ups and the filter over their dimensions, when they can say it.
    rolled: Option<(Rc<Rollup>, Rc<Pass>)>,
    groupings: Vec<Rc<Grouping>>,
    /// Totals known so far, with the minutes they were computed with.
    totals: Vec<(Metric, Minutes, Cell)>,
    /// The ranking of each sorted grouping (most recently used last; at most one per grouping).
    rankings: Vec<Rc<Ranking>>,
    /// The totals over the previous range (`compare: "previous"`), with the metrics and minutes
    /// they are for: paging a compared table does not compute them again.
    previous: Option<(Vec<Metric>, Minutes, Previous)>,
}

/// Keeps the work of one filter (the rows it keeps, the groups, the totals, the order of a sorted
/// table) between queries, so that the queries of one view, and paging or sorting the table
/// later, do not scan the table again. It holds one filter at a time: a query with another filter
/// replaces it, so its memory is bounded (at most a row mask and four group-id vectors).
///
/// A cache belongs to one table: drop it (or call [`QueryCache::clear`]) when the table changes.
#[derive(Default)]
pub struct QueryCache {
    state: Option<FilterState>,
    /// Per text column: each dictionary entry's rank in case-insensitive order.
    ranks: TextRanks,
    /// The table's roll-ups, when built ([`QueryCache::with_rollups`]).
    rollup: Option<Rc<Rollup>>,
}

impl std::fmt::Debug for QueryCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QueryCache")
            .field("filter", &self.state.as_ref().map(|s| &s.filter))
            .finish()
    }
}

impl Table {
    /// Answers a query: totals over the kept rows and, with `groupBy`, one entry per group.
    pub fn summarize(&self, query: &Query) -> Result<Summary, Error> {
        QueryCache::default().summarize(self, query)
    }

    /// Answers several queries at once, sharing the filtering, the grouping and the totals
    /// between those that have them in common (the queries of one view).
    pub fn summarize_many(&self, queries: &[Query]) -> Result<Vec<Summary>, Error> {
        QueryCache::default().summarize_many(self, queries)
    }

    /// With a joined user registry: what `filter` does with its service accounts (left out by
    /// default) and how many its other conditions keep; `None` without a registry.
    pub fn service_accounts(&self, filter: &Filter) -> Result<Option<ServiceAccounts>, Error> {
        if self.user_flags.is_none() {
            return Ok(None);
        }
        Ok(filter.select(self)?.service_accounts)
    }

    /// The rows a filter keeps.
    pub(crate) fn select(&self, filter: &Filter) -> Result<Selection, Error> {
        filter.select(self)
    }
}

impl QueryCache {
    /// An empty cache.
    pub fn new() -> QueryCache {
        QueryCache::default()
    }

    /// A cache that first sums the table at coarser grains (per day, client, language and
    /// activity; per user; per user and day), once, so that the queries they answer exactly
    /// (those of the page's views) cost what they hold instead of a pass over every row. Without
    /// them (tables whose users' rows are not contiguous and in date order, or numbers that are
    /// not exact integers, or memory short) it is [`QueryCache::new`]. For a table queried many
    /// times, as the page's is; a single query is cheaper without.
    pub fn with_rollups(table: &Table) -> QueryCache {
        QueryCache {
            rollup: Rollup::build(table, false).map(Rc::new),
            ..QueryCache::default()
        }
    }

    /// [`QueryCache::with_rollups`] with every time grain's distinct counts counted ahead, however
    /// small the export (which otherwise keeps only those that pay): for tests, so that small
    /// exports take that path too.
    #[doc(hidden)]
    pub fn with_every_rollup(table: &Table) -> QueryCache {
        QueryCache {
            rollup: Rollup::build(table, true).map(Rc::new),
            ..QueryCache::default()
        }
    }

    /// What the roll-ups hold, for measurements (`None` without them).
    pub fn rollup_shape(&self) -> Option<String> {
        self.rollup.as_ref().map(|r| format!("{r:?}"))
    }

    /// Bytes the roll-ups hold (0 without them).
    pub fn rollup_bytes(&self) -> usize {
        self.rollup.as_ref().map_or(0, |r| r.heap_bytes())
    }

    /// How many groupings' distinct counts came from the time grains counted ahead, since the
    /// roll-ups were built (for tests and benchmarks: whether a view took the fastest path).
    pub fn counted_ahead(&self) -> usize {
        self.rollup.as_ref().map_or(0, |r| r.counted_ahead.get())
    }

    /// How many groupings' sums came from a cube added up per week, month or the whole range
    /// rather than from the days' cells, since the roll-ups were built (for tests and
    /// benchmarks).
    pub fn summed_coarse(&self) -> usize {
        self.rollup.as_ref().map_or(0, |r| r.summed_coarse.get())
    }

    /// How many answers under a range of dates came from the users' months (per user and
    /// calendar month, its sums and active days) rather than from every kept row or user-day:
    /// a column's sums by user, or the distinct counts of the totals; since the roll-ups were
    /// built (for tests and benchmarks).
    pub fn summed_months(&self) -> usize {
        self.rollup.as_ref().map_or(0, |r| r.summed_months.get())
    }

    /// How many of the current filter's kept groupings the roll-ups answer (for tests and
    /// benchmarks: whether a view took the fast path).
    pub fn rolled_groupings(&self) -> usize {
        self.state.as_ref().map_or(0, |s| {
            s.groupings.iter().filter(|g| g.rolled.is_some()).count()
        })
    }

    /// Forgets everything (the table changed).
    pub fn clear(&mut self) {
        *self = QueryCache::default();
    }

    /// Forgets the answers kept, not the roll-ups: for a table whose rows did not change (a
    /// registry or a people file joined).
    pub fn clear_answers(&mut self) {
        *self = QueryCache {
            rollup: self.rollup.take(),
            ..QueryCache::default()
        };
    }

    /// Bytes the cache holds on the heap (the row mask, the groupings, the rankings with their
    /// metrics, and the dictionaries' sort ranks).
    pub fn heap_bytes(&self) -> usize {
        let ranks: usize = self.ranks.heap_bytes();
        let Some(state) = &self.state else {
            return ranks;
        };
        ranks
            + state.selection.as_ref().map_or(0, |s| s.heap_bytes())
            + state
                .groupings
                .iter()
                .map(|g| g.heap_bytes())
                .sum::<usize>()
            + state
                .rankings
                .iter()
                .map(|r| {
                    r.order.capacity() * 4 + r.stats.as_ref().map_or(0, |(_, s)| s.heap_bytes())
                })
                .sum::<usize>()
    }

    /// Like [`Table::summarize_many`], keeping what the next queries can use.
    pub fn summarize_many(
        &mut self,
        table: &Table,
        queries: &[Query],
    ) -> Result<Vec<Summary>, Error> {
        queries
            .iter()
            .enumerate()
            .map(|(i, q)| {
                self.summarize(table, q).map_err(|e| {
                    if queries.len() == 1 {
                        e
                    } else {
                        Error::new(e.kind(), format!("query {}: {}", i + 1, e.message()))
                    }
                })
            })
            .collect()
    }

    /// Like [`Table::summarize`], keeping what the next queries can use.
    pub fn summarize(&mut self, table: &Table, query: &Query) -> Result<Summary, Error> {
        let keys = group_keys(table, &query.group_by)?;
        let minutes = minutes_saved(table, &query.minutes_saved)?;
        let metrics = table.requested_metrics(query.metrics.as_deref())?;
        let columns = table.requested_columns(query.columns.as_deref(), &metrics)?;
        let key_fields = key_fields(table, &keys);
        let sort = query
            .sort
            .as_ref()
            .map(|s| resolve_sort(table, &key_fields, s))
            .transpose()?;
        self.use_filter(table, &query.filter)?;
        let state = self.state.as_mut().expect("use_filter sets the state");
        let range = average_range(table, state.from, state.to);

        let mut ranked = None;
        let (groups, groups_total) = if keys.is_empty() {
            (Vec::new(), 0)
        } else {
            let grouping = grouping(table, state, &keys)?;
            let needs = Needs::of(table, &metrics, &minutes);
            let asked = Asked {
                sort: query.sort.as_ref(),
                by: sort.as_ref(),
                minutes: &minutes,
                needs: &needs,
                limit: query.limit.unwrap_or(usize::MAX),
                end: query
                    .offset
                    .saturating_add(query.limit.unwrap_or(usize::MAX)),
                range,
            };
            let ranking = self.ranking(table, &grouping, &asked);
            let order = &ranking.order;
            let start = query.offset.min(order.len());
            let end = start
                .saturating_add(query.limit.unwrap_or(usize::MAX))
                .min(order.len());
            let page = &order[start..end];
            // The page's metrics: from the ranking when it has them, else computed for the page.
            let paged;
            let (stats, ids): (&Stats, Vec<u32>) = match &ranking.stats {
                Some((covered, stats)) if covered.covers(&needs) => (stats, page.to_vec()),
                _ => {
                    let restricted = grouping.restrict(page);
                    paged = Stats::compute(table, &restricted, &needs, range);
                    (&paged, (0..page.len() as u32).collect())
                }
            };
            // Each page group's first and last active day, when its key carries them.
            let spans = key_fields
                .contains(&KeyField::FirstActive)
                .then(|| active_spans(table, &grouping.restrict(page)));
            let groups = page
                .iter()
                .zip(ids)
                .enumerate()
                .map(|(i, (&g, id))| Group {
                    key: key_fields
                        .iter()
                        .map(|&f| match (f, &spans) {
                            (KeyField::FirstActive | KeyField::LastActive, Some(spans)) => {
                                span_cell(f, spans[i])
                            }
                            _ => f.cell(table, grouping.reps[g as usize] as usize),
                        })
                        .collect(),
                    values: metrics
                        .iter()
                        .map(|&m| stats.value(table, m, id as usize, &minutes))
                        .collect(),
                })
                .collect();
            ranked = Some(Rc::clone(&ranking));
            (groups, grouping.len())
        };
        let state = self.state.as_mut().expect("use_filter sets the state");
        let grouped = ranked.as_ref().and_then(|r| r.stats.as_ref());
        let totals = totals(table, state, &metrics, &minutes, range, grouped)?;
        let last_periods = match query.compare {
            Some(Compare::LastPeriods) => last_periods(
                table,
                query,
                self.rollup.clone(),
                &[Period::Month, Period::Week],
            )?,
            _ => None,
        };
        let state = self.state.as_mut().expect("use_filter sets the state");
        let previous = match query.compare {
            Some(Compare::Previous) => {
                let known = state.previous.as_ref().filter(|(m, mins, _)| {
                    *m == metrics && (!metrics.contains(&Metric::HoursSaved) || *mins == minutes)
                });
                match known {
                    Some((_, _, previous)) => Some(previous.clone()),
                    None => {
                        let previous = previous_totals(table, query, self.rollup.clone())?;
                        let state = self.state.as_mut().expect("use_filter sets the state");
                        if let Some(previous) = &previous {
                            state.previous =
                                Some((metrics.clone(), minutes.clone(), previous.clone()));
                        }
                        previous
                    }
                }
            }
            _ => None,
        };

        Ok(assemble(
            table,
            query,
            Answers {
                keys: &keys,
                fields: &key_fields,
                metrics: &metrics,
                columns,
                minutes: &minutes,
                totals,
                groups,
                groups_total,
                previous,
                last_periods,
                service_accounts: self.service_accounts(table)?,
            },
        ))
    }

    /// What the current filter did with the service accounts of a joined registry: from the
    /// roll-ups' view of the filter, else from its selection of rows.
    fn service_accounts(&mut self, table: &Table) -> Result<Option<ServiceAccounts>, Error> {
        let state = self.state.as_mut().expect("use_filter sets the state");
        if table.user_flags.is_none() {
            return Ok(None);
        }
        if let Some((_, pass)) = &state.rolled {
            return Ok(pass.service_accounts);
        }
        if state.selection.is_none() {
            state.selection = Some(Rc::new(table.select(&state.filter)?));
        }
        Ok(state.selection.as_ref().and_then(|s| s.service_accounts))
    }

    /// Makes `filter` the current one (keeping its state when it already is).
    fn use_filter(&mut self, table: &Table, filter: &Filter) -> Result<(), Error> {
        if self.state.as_ref().is_some_and(|s| &s.filter == filter) {
            return Ok(());
        }
        let (from, to, selection, rolled) = match &self.rollup {
            Some(rollup) => {
                let parts = filter.parts(table)?;
                let pass = rollup.pass(table, &parts).map(Rc::new);
                let rolled = pass.map(|p| (Rc::clone(rollup), p));
                (parts.from, parts.to, None, rolled)
            }
            None => {
                let selection = table.select(filter)?;
                (selection.from, selection.to, Some(Rc::new(selection)), None)
            }
        };
        self.state = Some(FilterState {
            filter: filter.clone(),
            from,
            to,
            selection,
            rolled,
            groupings: Vec::new(),
            totals: Vec::new(),
            rankings: Vec::new(),
            previous: None,
        });
        Ok(())
    }

    /// The groups of the grouping in the order asked (by the keys without a sort), from the
    /// cache when a query with the same grouping asked the same order. When the page asked for
    /// is a large part of the groups, every group's metrics are computed on the way, once.
    fn ranking(&mut self, table: &Table, grouping: &Grouping, asked: &Asked) -> Rc<Ranking> {
        let state = self.state.as_mut().expect("use_filter sets the state");
        let by_metric = matches!(asked.by, Some(SortBy::Metric(..)));
        let found = state.rankings.iter().position(|r| {
            r.keys == grouping.keys
                && r.sort.as_ref() == asked.sort
                && (!by_metric || r.minutes == asked.minutes)
        });
        if let Some(at) = found {
            let ranking = state.rankings.remove(at);
            let useful = ranking
                .stats
                .as_ref()
                .is_some_and(|(covered, _)| covered.covers(asked.needs));
            // Keep a ranking without the metrics asked only when the page is small; and only
            // when it has sorted the groups up to the page's end.
            let reaches = ranking.sorted >= asked.end.min(grouping.len());
            if reaches && (useful || !asked.wants_all(grouping)) {
                state.rankings.push(Rc::clone(&ranking));
                return ranking;
            }
        }
        let ranking = Rc::new(rank(table, grouping, asked, &mut self.ranks));
        let state = self.state.as_mut().expect("use_filter sets the state");
        if state.rankings.len() >= MAX_GROUPINGS {
            state.rankings.remove(0);
        }
        state.rankings.push(Rc::clone(&ranking));
        ranking
    }
}

/// The cached grouping of the current filter by `keys`, or a new one (dropping the least
/// recently used beyond [`MAX_GROUPINGS`]).
fn grouping(table: &Table, state: &mut FilterState, keys: &[Key]) -> Result<Rc<Grouping>, Error> {
    if let Some(at) = state.groupings.iter().position(|g| g.keys == keys) {
        let found = state.groupings.remove(at);
        state.groupings.push(Rc::clone(&found));
        return Ok(found);
    }
    let rolled = state
        .rolled
        .as_ref()
        .and_then(|(rollup, pass)| rollup.grouping(keys, pass));
    // By user under a range of dates: one run of rows per user, from the roll-ups' users.
    let runs = || {
        state
            .rolled
            .as_ref()
            .filter(|_| keys == [Key::User])
            .and_then(|(rollup, pass)| rollup.user_runs(table, pass))
    };
    let made = match rolled {
        Some((reps, sizes, rolled)) => {
            Rc::new(Grouping::rolled(keys.to_vec(), reps, sizes, rolled))
        }
        None if let Some((runs, reps, sizes, months)) = runs() => {
            Rc::new(Grouping::of_runs(keys.to_vec(), runs, reps, sizes, months))
        }
        None => {
            let selection = match &state.selection {
                Some(selection) => Rc::clone(selection),
                None => {
                    let selection = Rc::new(table.select(&state.filter)?);
                    state.selection = Some(Rc::clone(&selection));
                    selection
                }
            };
            Rc::new(Grouping::new(table, keys, &selection)?)
        }
    };
    if state.groupings.len() >= MAX_GROUPINGS {
        state.groupings.remove(0);
    }
    state.groupings.push(Rc::clone(&made));
    Ok(made)
}

/// The totals of `metrics` over the current filter's rows, computing (together) only those not
/// known yet. Sums are added up from `grouped` (a grouping's metrics, with what they cover) when
/// it has them; distinct counts are always counted over the rows.
fn totals(
    table: &Table,
    state: &mut FilterState,
    metrics: &[Metric],
    minutes: &[(usize, f64)],
    range: Option<(i32, i32)>,
    grouped: Option<&(Needs, Stats)>,
) -> Result<Vec<Cell>, Error> {
    let known = |state: &FilterState, m: Metric| {
        state
            .totals
            .iter()
            .find(|(k, mins, _)| *k == m && (m != Metric::HoursSaved || mins == minutes))
            .map(|(_, _, c)| c.clone())
    };
    let mut missing: Vec<Metric> = metrics
        .iter()
        .copied()
        .filter(|&m| known(state, m).is_none())
        .collect();
    if let Some((covered, stats)) = grouped {
        let additive = |m: Metric| {
            let needs = Needs::of(table, &[m], minutes);
            !needs.distinct.any() && covered.covers(&needs)
        };
        let (from_groups, rest) = missing.into_iter().partition(|&m| additive(m));
        missing = rest;
        let from_groups: Vec<Metric> = from_groups;
        if !from_groups.is_empty() {
            let merged = stats.merged(table);
            for m in from_groups {
                let value = merged.value(table, m, 0, minutes);
                state.totals.push((m, minutes.to_vec(), value));
            }
        }
    }
    if !missing.is_empty() {
        let all = grouping(table, state, &[])?;
        let stats = Stats::compute(table, &all, &Needs::of(table, &missing, minutes), range);
        for m in missing {
            let value = stats.value(table, m, 0, minutes);
            state.totals.push((m, minutes.to_vec(), value));
        }
    }
    Ok(metrics.iter().filter_map(|&m| known(state, m)).collect())
}

/// The totals of `query` over the equally long range that ends the day before its range starts
/// (the filter's from/to, else the data's first and last day); for month-grain exports, the same
/// number of whole months before. Computed apart from the cache, which keeps the view's filter.
/// `None` when the range is empty (a filter that starts after the data ends): nothing to compare.
fn previous_totals(
    table: &Table,
    query: &Query,
    rollup: Option<Rc<Rollup>>,
) -> Result<Option<Previous>, Error> {
    let parts = query.filter.parts(table)?;
    let (Some(from), Some(to)) = (
        parts.from.or(table.first_date),
        parts.to.or(table.last_date),
    ) else {
        return Err(Error::query(format!(
            "compare: \"previous\" needs dates, and this {} export has none",
            table.granularity
        )));
    };
    if from > to {
        return Ok(None);
    }
    let (prev_from, prev_to) = if table.granularity.has_days() {
        let days = i64::from(to) - i64::from(from) + 1;
        let prev_to = i64::from(from) - 1;
        (prev_to - days + 1, prev_to)
    } else {
        let months = month_number(to) - month_number(from) + 1;
        let start = month_number(from) - months;
        let first = |n: i64| month_first_day(n).map_or(i64::MIN, i64::from);
        (first(start), first(start + months).saturating_sub(1))
    };
    let (Ok(prev_from), Ok(prev_to)) = (i32::try_from(prev_from), i32::try_from(prev_to)) else {
        return Err(Error::query(
            "compare: the previous range is out of the calendar",
        ));
    };
    totals_over(table, query, rollup, prev_from, prev_to).map(Some)
}

/// The totals of `query` (its filter, metrics and minutes) over the days `from..=to` instead of
/// its range: a compared range. Computed apart from the cache, which keeps the view's filter.
fn totals_over(
    table: &Table,
    query: &Query,
    rollup: Option<Rc<Rollup>>,
    from: i32,
    to: i32,
) -> Result<Previous, Error> {
    let mut asked = Query {
        group_by: Vec::new(),
        sort: None,
        limit: None,
        offset: 0,
        compare: None,
        include_warnings: false,
        ..query.clone()
    };
    asked.filter.from = Some(format_day(from));
    asked.filter.to = Some(format_day(to));
    let mut cache = QueryCache {
        rollup,
        ..QueryCache::default()
    };
    Ok(Previous {
        from: format_day(from),
        to: format_day(to),
        totals: cache.summarize(table, &asked)?.totals,
    })
}

/// The totals of `query` over the last two periods its range covers whole (the last complete
/// period and the one before, both inside the range: the filter's dates, else the data's), with
/// the first of `periods` that has two; `None` when none has (weeks need a day-grain export).
/// The summary's `compare: "lastPeriods"` asks it with months then weeks; the report with its
/// period, for its cards.
pub(crate) fn last_periods(
    table: &Table,
    query: &Query,
    rollup: Option<Rc<Rollup>>,
    periods: &[Period],
) -> Result<Option<LastPeriods>, Error> {
    let parts = query.filter.parts(table)?;
    let range = parts
        .from
        .or(table.first_date)
        .zip(parts.to.or(table.last_date))
        .filter(|(lo, hi)| lo <= hi);
    let coverage = adoption::Coverage::of(table, (parts.from, parts.to), range);
    for &period in periods {
        if period == Period::Week && !table.granularity.has_days() {
            continue;
        }
        let Some([before, latest]) = coverage.last_two_whole(period) else {
            continue;
        };
        let totals = |number: i64| -> Result<PeriodTotals, Error> {
            let (from, to) = period.days(number);
            Ok(PeriodTotals {
                period: period.key(number),
                totals: totals_over(table, query, rollup.clone(), from, to)?,
            })
        };
        return Ok(Some(LastPeriods {
            period,
            before: totals(before)?,
            latest: totals(latest)?,
        }));
    }
    Ok(None)
}
