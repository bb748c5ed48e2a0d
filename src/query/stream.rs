//! Summaries in bounded memory: the export read in chunks of rows, each chunk aggregated and
//! dropped, so that memory holds the groups and the distinct users, not the rows.
//!
//! Nothing here restates a metric rule. Each chunk is a [`Table`] of its own, filtered
//! ([`Filter`]), grouped ([`Grouping`]) and summed ([`Stats::compute`]) by the code that answers
//! in memory; the chunk's sums are added into the groups' (scaled integers stay exact), the
//! distinct users and user-days go into sets keyed by the groups' values, and at the end the
//! metrics are read from the summed state by [`Stats::value`], the groups ordered by the same
//! comparisons. What the whole input decides (the type of an unknown column, the measures, the
//! data's first and last day, the warnings) is decided once, at the end, from all the chunks.
//! The answers are those of [`Table::summarize`] over the whole export.

use crate::builder::{negative_cells, type_unknown_column, warn_negative_count, Content};
use crate::column::{Acc, FxHashMap, NumColumn, TextColumn, NULL_DAY};
use crate::date::{month_start, week_start};
use crate::error::Error;
use crate::ingest::{Ending, Ingester};
use crate::schema::{self, ColumnShape, Measure};
use crate::summary::{Cell, Group, Summary};
use crate::table::{Data, Table};

use super::group::{days_in_range, Grouping};
use super::rank::{case_insensitive_ranks, compare, compare_f64};
use super::spec::{group_keys, minutes_saved};
use super::stats::{average_range, DistinctCounts, Needs, Stats};
use super::{
    active_spans, assemble, key_fields, resolve_sort, span_cell, Answers, Key, KeyField, Query,
    SortBy,
};

/// Rows in a chunk: tens of megabytes of table, few enough that two or three chunks in flight
/// stay far below the whole export.
pub const CHUNK_ROWS: usize = 1 << 19;

/// An export read into chunks of rows ([`Chunk`]), each to be aggregated and dropped.
pub struct Chunker {
    ingester: Ingester,
    rows: usize,
}

/// Rows of an export, from a [`Chunker`]: every row of the export is in exactly one chunk.
pub struct Chunk(pub(super) Table);

/// What the whole input found, given with its last chunk by [`Chunker::finish`].
pub struct ChunkEnd(pub(super) Ending);

impl Default for Chunker {
    fn default() -> Self {
        Chunker::new(CHUNK_ROWS)
    }
}

impl Chunker {
    /// A chunker that hands over the rows every `rows` rows (at least one).
    pub fn new(rows: usize) -> Chunker {
        Chunker {
            ingester: Ingester::new(),
            rows: rows.max(1),
        }
    }

    /// Reads the next bytes of the export (as [`Ingester::push`]); returns the rows read so far
    /// once they fill a chunk.
    pub fn push(&mut self, bytes: &[u8]) -> Result<Option<Chunk>, Error> {
        self.ingester.push(bytes)?;
        if self.ingester.rows() < self.rows {
            return Ok(None);
        }
        Ok(self.ingester.take_rows().map(Chunk))
    }

    /// Ends the export: its last rows (perhaps none) and what the whole input found.
    pub fn finish(self) -> Result<(Chunk, ChunkEnd), Error> {
        let (last, ending) = self.ingester.finish_rows()?;
        Ok((Chunk(last), ChunkEnd(ending)))
    }
}

impl Chunk {
    /// Rows in the chunk.
    pub fn rows(&self) -> usize {
        self.0.rows
    }

    /// The chunk's rows as a table: unknown columns not typed yet (text), as read.
    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) fn into_table(self) -> Table {
        self.0
    }

    #[cfg(not(target_arch = "wasm32"))]
    pub(crate) fn table(&self) -> &Table {
        &self.0
    }
}

impl ChunkEnd {
    /// The warnings kept (as [`Table::warnings`] of the whole input).
    pub fn warnings(&self) -> &[crate::warning::Warning] {
        &self.0.warnings.list
    }

    /// All the warnings, those kept and those only counted.
    pub fn warnings_total(&self) -> u64 {
        self.0.warnings.total
    }

    /// Rows skipped (wrong number of fields), each reported in the warnings.
    pub fn skipped_rows(&self) -> u64 {
        self.0.skipped_rows
    }
}

/// What the query can be answered from in chunks: everything but a people file, a registry
/// (service accounts) and `compare` (which reads another range), which need the whole table.
impl Query {
    /// Whether [`SummaryStream`] can answer this query.
    pub fn streams(&self) -> bool {
        self.compare.is_none() && self.filter.attributes.is_empty()
    }
}

/// A summary computed chunk by chunk: [`SummaryStream::add`] each [`Chunk`] in the export's
/// order, then [`SummaryStream::finish`] with the last one. The answer is the one
/// [`Table::summarize`] gives over the whole export (see [`Query::streams`] for what it
/// answers).
pub struct SummaryStream {
    query: Query,
    state: Option<State>,
}

/// What is known of the export so far.
struct State {
    fields: Vec<KeyField>,
    /// The columns' types, the rows and the dates, as the whole input will have them.
    typing: Typing,
    /// Every user seen, numbered.
    users: UserNumbers,
    /// The groups asked for (`None` without group keys), and the one group of the totals.
    grouped: Option<Part>,
    total: Part,
    /// The query cannot be answered (a metric or sort the export cannot have, a filter that does
    /// not fit it): the chunks are only typed, and the end says why, in the whole table's order
    /// of checks (this error, if the end's checks pass).
    doomed: Option<Error>,
}

/// One grouping's state: its groups by their key values, and their summed state.
struct Part {
    keys: Vec<Key>,
    ids: FxHashMap<Vec<KeyValue>, u32>,
    /// Per group: its key cells (as the first row of the group gives them) and that row's date.
    cells: Vec<Vec<Cell>>,
    dates: Vec<i32>,
    /// Per group: its first and last active day.
    spans: Vec<Option<(i32, i32)>>,
    rows: Vec<u64>,
    /// Per column: the sums, in units of `10^-scale` for integers.
    sums: Vec<Option<(u8, Acc)>>,
    counts: Vec<Option<Vec<u32>>>,
    /// Per column: Σ value × weight, Σ weight, and their scales (`None` when in plain units).
    weighted: Vec<Option<Weighted>>,
    sets: Sets,
    distinct: DistinctCounts,
}

/// Per column of a weighted mean: its sums per group.
struct Weighted {
    num: Vec<f64>,
    den: Vec<f64>,
    /// The scales of the values and of the weights, while both are scaled integers.
    scales: Option<(u8, u8)>,
}

/// A group key's value: a text (user, client, language), the first day of a period, or none.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum KeyValue {
    Text(String),
    Day(i32),
    Null,
}

/// Sets of (a, b, c) with c a small dense integer (a day, a group id), as 64-bit words of c.
#[derive(Default)]
struct Bits {
    words: FxHashMap<(u32, u32, i64), u64>,
    /// The word last used (rows of a user come together): written back when another is used.
    cached: Option<((u32, u32, i64), u64)>,
}

impl Bits {
    /// Adds (a, b, c); true when it was not there yet.
    #[inline]
    fn insert(&mut self, a: u32, b: u32, c: i64) -> bool {
        let key = (a, b, c >> 6);
        let bit = 1u64 << (c & 63);
        match &mut self.cached {
            Some((k, word)) if *k == key => {
                let new = *word & bit == 0;
                *word |= bit;
                new
            }
            cached => {
                if let Some((k, word)) = cached.take() {
                    self.words.insert(k, word);
                }
                let word = self.words.get(&key).copied().unwrap_or(0);
                self.cached = Some((key, word | bit));
                word & bit == 0
            }
        }
    }
}

/// The distinct users and user-days of a part's groups.
#[derive(Default)]
struct Sets {
    users: Bits,
    active_users: Bits,
    user_days: Bits,
    active_user_days: Bits,
}

impl SummaryStream {
    /// A summary of `query` to be computed chunk by chunk.
    pub fn new(query: &Query) -> SummaryStream {
        SummaryStream {
            query: query.clone(),
            state: None,
        }
    }

    /// Adds the rows of a chunk. Fails on the first chunk when the query does not fit the export
    /// (a group key, filter or feature it lacks).
    pub fn add(&mut self, chunk: Chunk) -> Result<(), Error> {
        let mut table = chunk.0;
        if self.state.is_none() {
            self.state = Some(State::new(&table, &self.query)?);
        }
        let state = self.state.as_mut().expect("set above");
        state.add(&mut table, &self.query)
    }

    /// Adds the last chunk and answers.
    pub fn finish(mut self, last: Chunk, end: ChunkEnd) -> Result<Summary, Error> {
        self.add(last)?;
        let state = self.state.take().expect("add sets the state");
        state.finish(&self.query, end.0)
    }
}

impl State {
    fn new(table: &Table, query: &Query) -> Result<State, Error> {
        if !query.streams() {
            return Err(Error::query(
                "this query needs the whole table (compare, or a people file's attributes)",
            ));
        }
        let keys = group_keys(table, &query.group_by)?;
        if keys.iter().any(|k| matches!(k, Key::Attribute(_))) {
            return Err(Error::query(
                "grouping by a people file's column needs the whole table",
            ));
        }
        minutes_saved(table, &query.minutes_saved)?;
        // The metrics and the sort are checked in the whole table's order, before the filter,
        // against the columns as they will be if every unknown column turns out numbers (a name
        // missing then is missing for good).
        let mut assumed = table.without_rows();
        for column in &mut assumed.columns {
            if column.known.is_none() {
                column.data = Data::Num(NumColumn::of_scale(0, false));
            }
        }
        let measures = measures(&assumed, |_, c| matches!(c.data, Data::Num(_)));
        for (column, measure) in assumed.columns.iter_mut().zip(measures) {
            column.measure = measure;
        }
        // A name missing then fails at the end, with the list of the whole input's metrics.
        let doomed = assumed
            .requested_metrics(query.metrics.as_deref())
            .and_then(|m| assumed.requested_columns(query.columns.as_deref(), &m))
            .and_then(|_| match &query.sort {
                Some(sort) => resolve_sort(&assumed, &key_fields(&assumed, &keys), sort).map(drop),
                None => Ok(()),
            })
            .err();
        let columns = table.columns.len();
        Ok(State {
            fields: key_fields(table, &keys),
            grouped: (!keys.is_empty()).then(|| Part::new(&keys, columns)),
            total: Part::new(&[], columns),
            typing: Typing::new(table),
            users: UserNumbers::default(),
            doomed,
        })
    }

    fn add(&mut self, table: &mut Table, query: &Query) -> Result<(), Error> {
        self.typing.add(table);
        if self.doomed.is_some() {
            return Ok(());
        }
        // A filter that does not fit the export fails at the end, after the checks of the
        // metrics and the sort (which the whole input's columns decide), as the whole table's.
        let selection = match table.select(&query.filter) {
            Ok(selection) => selection,
            Err(e) => {
                self.doomed = Some(e);
                return Ok(());
            }
        };
        let minutes = minutes_saved(table, &query.minutes_saved)?;
        let mut needs = Needs::of(table, &table.metrics(), &minutes);
        needs.distinct = Default::default();
        let users = self.users.of(table);
        let spans = self.fields.contains(&KeyField::FirstActive);
        for part in self.grouped.iter_mut().chain([&mut self.total]) {
            let grouping = Grouping::new(table, &part.keys, &selection)?;
            let stats = Stats::compute(table, &grouping, &needs, None);
            let ids = part.ids_of(table, &grouping, &self.fields);
            part.add_stats(table, &stats, &ids);
            part.add_distinct(table, &grouping, &ids, &users);
            if spans && !part.keys.is_empty() {
                for (g, span) in active_spans(table, &grouping).into_iter().enumerate() {
                    let Some((first, last)) = span else { continue };
                    let known = &mut part.spans[ids[g] as usize];
                    let (a, b) = known.get_or_insert((first, last));
                    (*a, *b) = ((*a).min(first), (*b).max(last));
                }
            }
        }
        Ok(())
    }

    fn finish(mut self, query: &Query, ending: Ending) -> Result<Summary, Error> {
        let table = self.typing.finish(ending);

        let keys = group_keys(&table, &query.group_by)?;
        let minutes = minutes_saved(&table, &query.minutes_saved)?;
        let metrics = table.requested_metrics(query.metrics.as_deref())?;
        let columns = table.requested_columns(query.columns.as_deref(), &metrics)?;
        let fields = key_fields(&table, &keys);
        let sort = query
            .sort
            .as_ref()
            .map(|s| resolve_sort(&table, &fields, s))
            .transpose()?;
        if let Some(e) = self.doomed.take() {
            return Err(e);
        }
        let selection = table.select(&query.filter)?;
        let range = average_range(&table, selection.from, selection.to);

        let total = self.total.stats(&table, range);
        let totals = metrics
            .iter()
            .map(|&m| total.value(&table, m, 0, &minutes))
            .collect();
        let (groups, groups_total) = match self.grouped.take() {
            None => (Vec::new(), 0),
            Some(part) => {
                let stats = part.stats(&table, range);
                let order = part.order(&table, &fields, sort.as_ref(), &stats, &minutes);
                let start = query.offset.min(order.len());
                let end = start
                    .saturating_add(query.limit.unwrap_or(usize::MAX))
                    .min(order.len());
                let groups = order[start..end]
                    .iter()
                    .map(|&g| Group {
                        key: part.key(g as usize, &fields),
                        values: metrics
                            .iter()
                            .map(|&m| stats.value(&table, m, g as usize, &minutes))
                            .collect(),
                    })
                    .collect();
                (groups, order.len())
            }
        };
        Ok(assemble(
            &table,
            query,
            Answers {
                keys: &keys,
                fields: &fields,
                metrics: &metrics,
                columns,
                minutes: &minutes,
                totals,
                groups,
                groups_total,
                previous: None,
                last_periods: None,
                service_accounts: None,
            },
        ))
    }
}

/// The whole input's column types, rows and dates, learned chunk by chunk: what the whole
/// table's builder decides from all the rows at once (the type of an unknown column, the scale of
/// a number column, the measures, the warnings of negative counts).
pub(super) struct Typing {
    /// Per column: what its cells were, for an unknown column (`Empty` until a chunk says).
    content: Vec<Content>,
    /// Per column: the largest scale of its numbers so far, and whether it turned to floats.
    scales: Vec<(u8, bool)>,
    /// Per unknown column: how many negative numbers it held.
    negatives: Vec<u64>,
    rows: usize,
    first_date: Option<i32>,
    last_date: Option<i32>,
    /// The columns, without cells (from the first chunk).
    schema: Table,
}

impl Typing {
    /// Typing from the first chunk's columns.
    pub(super) fn new(table: &Table) -> Typing {
        let columns = table.columns.len();
        Typing {
            content: vec![Content::Empty; columns],
            scales: vec![(0, false); columns],
            negatives: vec![0; columns],
            rows: 0,
            first_date: None,
            last_date: None,
            schema: table.without_rows(),
        }
    }

    /// Learns from a chunk, and types its columns as the whole input's typing would (see
    /// [`Typing::type_columns`]).
    pub(super) fn add(&mut self, table: &mut Table) {
        self.type_columns(table);
        self.rows += table.rows;
        if let Some(first) = table.first_date {
            self.first_date = Some(self.first_date.map_or(first, |d| d.min(first)));
        }
        if let Some(last) = table.last_date {
            self.last_date = Some(self.last_date.map_or(last, |d| d.max(last)));
        }
    }

    /// The whole input's table without its rows: the columns as the whole input types them,
    /// its rows counted, its dates spanned and its warnings.
    pub(super) fn finish(&mut self, ending: Ending) -> Table {
        let mut table = self.schema(ending.skipped_rows);
        let mut warnings = ending.warnings;
        for (i, column) in table.columns.iter().enumerate() {
            if let (Some(line), Some(Measure::Sum), Data::Num(_)) =
                (ending.first_negatives[i], column.measure, &column.data)
            {
                warn_negative_count(&mut warnings, line, &column.name, self.negatives[i]);
            }
        }
        table.warnings = warnings.list;
        table.warnings_total = warnings.total;
        table
    }

    /// Types the chunk's unknown columns by their content, as the whole input's typing would
    /// (a column is text for good once a cell is not a number), sets the measures that the
    /// whole input will have if the columns still undecided turn out numbers, and notes the
    /// scales and negative numbers.
    fn type_columns(&mut self, table: &mut Table) {
        for (i, column) in table.columns.iter_mut().enumerate() {
            if column.known.is_none() && self.content[i] != Content::Text {
                match type_unknown_column(column) {
                    Content::Numbers => {
                        self.content[i] = Content::Numbers;
                        if let Data::Num(n) = &column.data {
                            self.negatives[i] += negative_cells(n);
                        }
                    }
                    Content::Text => self.content[i] = Content::Text,
                    Content::Empty => {}
                }
            }
            if let Data::Num(n) = &column.data {
                let (scale, float) = &mut self.scales[i];
                *scale = (*scale).max(n.scale);
                *float |= n.is_float();
            }
        }
        let measures = measures(table, |i, c| {
            matches!(c.data, Data::Num(_))
                || (c.known.is_none() && self.content[i] != Content::Text)
        });
        for (column, measure) in table.columns.iter_mut().zip(measures) {
            column.measure = measure;
        }
    }

    /// The whole input's table without its rows (kept from the last chunk's columns, emptied):
    /// each number column at the largest scale it had, unknown columns typed by all their
    /// cells, the measures of those types, the rows counted and the dates spanned.
    fn schema(&mut self, skipped_rows: u64) -> Table {
        let mut table = self.schema.without_rows();
        for (i, column) in table.columns.iter_mut().enumerate() {
            let numbers = column.known.is_some() || self.content[i] == Content::Numbers;
            column.data = match (&column.data, numbers) {
                (Data::Num(_) | Data::Text(_), true) if column.known.is_none() => {
                    Data::Num(NumColumn::of_scale(self.scales[i].0, self.scales[i].1))
                }
                (Data::Num(_), _) => {
                    Data::Num(NumColumn::of_scale(self.scales[i].0, self.scales[i].1))
                }
                (Data::Text(_), _) => Data::Text(TextColumn::new()),
                (Data::Bool(_), _) => Data::Bool(Default::default()),
                (Data::Date(_), _) => Data::Date(Default::default()),
            };
        }
        let measures = measures(&table, |_, c| matches!(c.data, Data::Num(_)));
        for (column, measure) in table.columns.iter_mut().zip(measures) {
            column.measure = measure;
        }
        table.rows = self.rows;
        table.skipped_rows = skipped_rows;
        table.first_date = self.first_date;
        table.last_date = self.last_date;
        table
    }
}

/// Every user seen so far, numbered in the order they came.
#[derive(Default)]
pub(super) struct UserNumbers(FxHashMap<String, u32>);

impl UserNumbers {
    /// The number of each of the chunk's users (by dictionary code), numbering the new ones.
    pub(super) fn of(&mut self, table: &Table) -> Vec<u32> {
        let Some(identity) = table.identity() else {
            return Vec::new();
        };
        identity
            .values
            .iter()
            .map(|v| {
                let next = self.0.len() as u32;
                *self.0.entry(v.clone()).or_insert(next)
            })
            .collect()
    }
}

/// The schema's measures of the table's columns, `numeric` saying which are numbers.
fn measures(
    table: &Table,
    numeric: impl Fn(usize, &crate::table::Column) -> bool,
) -> Vec<Option<Measure>> {
    let shapes: Vec<ColumnShape<'_>> = table
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| ColumnShape {
            known: c.known,
            numeric: numeric(i, c),
            name: &c.name,
        })
        .collect();
    schema::measures(&shapes)
}

impl Part {
    fn new(keys: &[Key], columns: usize) -> Part {
        let mut part = Part {
            keys: keys.to_vec(),
            ids: FxHashMap::default(),
            cells: Vec::new(),
            dates: Vec::new(),
            spans: Vec::new(),
            rows: Vec::new(),
            sums: vec![None; columns],
            counts: vec![None; columns],
            weighted: (0..columns).map(|_| None).collect(),
            sets: Sets::default(),
            distinct: DistinctCounts::default(),
        };
        if keys.is_empty() {
            // The totals: one group, even over no rows.
            part.new_group(Vec::new(), Vec::new(), NULL_DAY);
        }
        part
    }

    fn new_group(&mut self, key: Vec<KeyValue>, cells: Vec<Cell>, date: i32) -> u32 {
        let id = self.cells.len() as u32;
        self.ids.insert(key, id);
        self.cells.push(cells);
        self.dates.push(date);
        self.spans.push(None);
        self.rows.push(0);
        let d = &mut self.distinct;
        for v in [
            &mut d.users,
            &mut d.active_users,
            &mut d.user_days,
            &mut d.active_user_days,
        ] {
            v.push(0);
        }
        id
    }

    /// The part's group id of each of the chunk's groups, adding the groups not seen yet (in
    /// the order of their first rows, as the whole table's grouping numbers them).
    fn ids_of(&mut self, table: &Table, grouping: &Grouping, fields: &[KeyField]) -> Vec<u32> {
        if self.keys.is_empty() {
            return vec![0];
        }
        let dates = table.dates();
        grouping
            .reps
            .iter()
            .map(|&rep| {
                let row = rep as usize;
                let date = dates.map_or(NULL_DAY, |d| d.get(row));
                let key: Vec<KeyValue> = self
                    .keys
                    .iter()
                    .map(|&k| key_value(table, k, row, date))
                    .collect();
                if let Some(&id) = self.ids.get(&key) {
                    return id;
                }
                let cells = fields
                    .iter()
                    .map(|&f| match f {
                        KeyField::FirstActive | KeyField::LastActive => Cell::Null,
                        f => f.cell(table, row),
                    })
                    .collect();
                self.new_group(key, cells, date)
            })
            .collect()
    }

    /// Adds a chunk's sums, counts and weighted sums (of its groups `ids`).
    fn add_stats(&mut self, table: &Table, stats: &Stats, ids: &[u32]) {
        let n = self.cells.len();
        for (g, &rows) in stats.rows.iter().enumerate() {
            self.rows[ids[g] as usize] += rows;
        }
        for (i, acc) in stats.sums.iter().enumerate() {
            let (Some(acc), Data::Num(column)) = (acc, &table.columns[i].data) else {
                continue;
            };
            let scale = if column.is_float() {
                None
            } else {
                Some(column.scale)
            };
            add_sums(&mut self.sums[i], scale, acc, ids, n);
        }
        for (i, counts) in stats.counts.iter().enumerate() {
            let Some(counts) = counts else { continue };
            let mine = self.counts[i].get_or_insert_with(Vec::new);
            mine.resize(n, 0);
            for (g, &c) in counts.iter().enumerate() {
                mine[ids[g] as usize] += c;
            }
        }
        for (i, weighted) in stats.weighted.iter().enumerate() {
            let (Some((num, den, _)), Some(Measure::WeightedMean { weight })) =
                (weighted, table.columns[i].measure)
            else {
                continue;
            };
            let scale_of = |c: usize| match &table.columns[c].data {
                Data::Num(n) if !n.is_float() => Some(n.scale),
                _ => None,
            };
            let scales = scale_of(i).zip(scale_of(weight));
            let mine = self.weighted[i].get_or_insert_with(|| Weighted {
                num: Vec::new(),
                den: Vec::new(),
                scales,
            });
            mine.add(num, den, scales, ids, n);
        }
    }

    /// Adds the chunk's distinct users and user-days to each group's sets.
    fn add_distinct(&mut self, table: &Table, grouping: &Grouping, ids: &[u32], users: &[u32]) {
        let Some(identity) = table.identity() else {
            return;
        };
        let active = match table.active.map(|i| &table.columns[i].data) {
            Some(Data::Bool(b)) => Some(b),
            _ => None,
        };
        let dates = table.dates().filter(|_| table.granularity.has_days());
        let by_time = self.keys.iter().all(|k| k.is_time());
        let by_user = self.keys.contains(&Key::User);
        let (sets, d) = (&mut self.sets, &mut self.distinct);
        grouping.layout().for_each_row(|row, g| {
            let g = ids[g];
            let gi = g as usize;
            let u = users[identity.codes.get(row) as usize];
            let act = active.is_none_or(|a| a[row] == 1);
            if sets.users.insert(u, 0, i64::from(g)) {
                d.users[gi] += 1;
            }
            if act && sets.active_users.insert(u, 0, i64::from(g)) {
                d.active_users[gi] += 1;
            }
            let Some(day) = dates.map(|d| d.get(row)).filter(|&d| d != NULL_DAY) else {
                return;
            };
            // A user-day of the group: the day decides the group when the keys are all times;
            // the group decides the user when the user is a key.
            let (a, b) = if by_time {
                (u, 0)
            } else if by_user {
                (g, 0)
            } else {
                (u, g + 1)
            };
            let day = i64::from(day);
            if sets.user_days.insert(a, b, day) {
                d.user_days[gi] += 1;
            }
            if act && sets.active_user_days.insert(a, b, day) {
                d.active_user_days[gi] += 1;
            }
        });
    }

    /// The summed state as the in-memory [`Stats`], its sums in the whole input's scales.
    fn stats(&self, table: &Table, range: Option<(i32, i32)>) -> Stats {
        let n = self.cells.len();
        let daily = range.is_some() && table.dates().is_some();
        let d = &self.distinct;
        Stats {
            rows: self.rows.clone(),
            distinct: DistinctCounts {
                users: d.users.clone(),
                active_users: d.active_users.clone(),
                user_days: if daily {
                    d.user_days.clone()
                } else {
                    vec![0; n]
                },
                active_user_days: if daily {
                    d.active_user_days.clone()
                } else {
                    vec![0; n]
                },
            },
            days_in_range: range.filter(|_| daily).map(|range| {
                self.dates
                    .iter()
                    .map(|&date| days_in_range(&self.keys, date, range))
                    .collect()
            }),
            sums: self
                .sums
                .iter()
                .enumerate()
                .map(|(i, sums)| {
                    let (scale, acc) = sums.as_ref()?;
                    let Data::Num(column) = &table.columns[i].data else {
                        return None;
                    };
                    let mut acc = acc.clone();
                    if let Acc::Int(s) = &acc {
                        acc = if column.is_float() {
                            Acc::Float(s.iter().map(|&x| unscale(x, *scale)).collect())
                        } else {
                            rescaled(s, *scale, column.scale)
                        };
                    }
                    Some(padded(acc, n))
                })
                .collect(),
            counts: self
                .counts
                .iter()
                .map(|c| {
                    c.as_ref().map(|c| {
                        let mut c = c.clone();
                        c.resize(n, 0);
                        c
                    })
                })
                .collect(),
            weighted: self
                .weighted
                .iter()
                .enumerate()
                .map(|(i, w)| {
                    let w = w.as_ref()?;
                    let scale_of = |c: usize| match &table.columns[c].data {
                        Data::Num(col) if !col.is_float() => Some(col.scale),
                        _ => None,
                    };
                    let Some(Measure::WeightedMean { weight }) = table.columns[i].measure else {
                        return None;
                    };
                    let whole = scale_of(i).zip(scale_of(weight));
                    let mut w = Weighted {
                        num: w.num.clone(),
                        den: w.den.clone(),
                        scales: w.scales,
                    };
                    w.num.resize(n, 0.0);
                    w.den.resize(n, 0.0);
                    w.rescale(whole);
                    let divisor = whole.map_or(1.0, |(v, _)| 10f64.powi(i32::from(v)));
                    Some((w.num, w.den, divisor))
                })
                .collect(),
        }
    }

    /// The groups in the query's order: by the sort's key or metric, the group keys breaking
    /// ties (as [`super::QueryCache`] orders them).
    fn order(
        &self,
        table: &Table,
        fields: &[KeyField],
        sort: Option<&SortBy>,
        stats: &Stats,
        minutes: &[(usize, f64)],
    ) -> Vec<u32> {
        let n = self.cells.len();
        let ranks = |f: usize| -> Vec<Option<u64>> {
            let cells: Vec<Cell> = (0..n).map(|g| self.key(g, fields).swap_remove(f)).collect();
            let texts: Vec<String> = cells
                .iter()
                .map(|c| match c {
                    Cell::Text(t) => t.clone(),
                    _ => String::new(),
                })
                .collect();
            let text_ranks = case_insensitive_ranks(&texts);
            cells
                .iter()
                .enumerate()
                .map(|(g, c)| match c {
                    Cell::Text(_) => Some(u64::from(text_ranks[g])),
                    Cell::Bool(b) => Some(u64::from(*b)),
                    _ => None,
                })
                .collect()
        };
        let key_ranks: Vec<Vec<Option<u64>>> = fields
            .iter()
            .enumerate()
            .filter(|(_, f)| matches!(f, KeyField::Key(_)))
            .map(|(i, _)| ranks(i))
            .collect();
        let by_keys = |a: usize, b: usize| {
            key_ranks
                .iter()
                .map(|r| compare(r[a], r[b], false))
                .find(|o| o.is_ne())
                .unwrap_or(std::cmp::Ordering::Equal)
        };
        enum First {
            Key(Vec<Option<u64>>, bool),
            Metric(Vec<Option<f64>>, bool),
            Keys,
        }
        let first = match sort {
            Some(SortBy::Key(field, desc)) => {
                let at = fields.iter().position(|f| f == field).unwrap_or(0);
                First::Key(ranks(at), *desc)
            }
            Some(SortBy::Metric(metric, desc)) => First::Metric(
                (0..n)
                    .map(|g| stats.value(table, *metric, g, minutes).as_f64())
                    .collect(),
                *desc,
            ),
            None => First::Keys,
        };
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.sort_by(|&a, &b| {
            let (i, j) = (a as usize, b as usize);
            match &first {
                First::Key(r, desc) => compare(r[i], r[j], *desc),
                First::Metric(v, desc) => compare_f64(v[i], v[j], *desc),
                First::Keys => std::cmp::Ordering::Equal,
            }
            .then_with(|| by_keys(i, j))
        });
        order
    }

    /// A group's key cells, its first and last active day filled in.
    fn key(&self, g: usize, fields: &[KeyField]) -> Vec<Cell> {
        fields
            .iter()
            .zip(&self.cells[g])
            .map(|(&f, cell)| match f {
                KeyField::FirstActive | KeyField::LastActive => span_cell(f, self.spans[g]),
                _ => cell.clone(),
            })
            .collect()
    }
}

/// The value of key `k` on `row` (whose date is `date`), as the whole table's grouping tells
/// groups apart: the text of a user, client or language; the first day of a period.
fn key_value(table: &Table, key: Key, row: usize, date: i32) -> KeyValue {
    let text = |t: Option<&TextColumn>| {
        t.map_or(KeyValue::Null, |t| KeyValue::Text(t.value(row).to_string()))
    };
    let day = |f: fn(i32) -> i32| {
        if date == NULL_DAY || table.dates().is_none() {
            KeyValue::Null
        } else {
            KeyValue::Day(f(date))
        }
    };
    match key {
        Key::User => text(table.identity()),
        Key::Client => text(table.text(table.client)),
        Key::Language => text(table.text(table.language)),
        Key::Day => day(|d| d),
        Key::Week => day(week_start),
        Key::Month => day(month_start),
        Key::Attribute(_) => KeyValue::Null,
    }
}

/// `10^scale`, or `None` past `i64`.
fn pow10(scale: u8) -> Option<i64> {
    10i64.checked_pow(u32::from(scale))
}

/// A scaled integer's value.
fn unscale(x: i64, scale: u8) -> f64 {
    x as f64 / 10f64.powi(i32::from(scale))
}

/// Integer sums at `from` scale moved to `to` (at least `from`); floats past `i64`.
fn rescaled(sums: &[i64], from: u8, to: u8) -> Acc {
    let factor = pow10(to.saturating_sub(from));
    let scaled: Option<Vec<i64>> = sums
        .iter()
        .map(|&x| factor.and_then(|f| x.checked_mul(f)))
        .collect();
    match scaled {
        Some(s) => Acc::Int(s),
        None => Acc::Float(sums.iter().map(|&x| unscale(x, from)).collect()),
    }
}

fn padded(acc: Acc, n: usize) -> Acc {
    match acc {
        Acc::Int(mut s) => {
            s.resize(n, 0);
            Acc::Int(s)
        }
        Acc::Float(mut s) => {
            s.resize(n, 0.0);
            Acc::Float(s)
        }
    }
}

/// Adds a chunk's sums (`scale`: of its scaled integers; `None` for floats) into `mine`, chunk
/// group `g` into group `ids[g]` of `n`. Integers stay exact while they fit in `i64`.
fn add_sums(mine: &mut Option<(u8, Acc)>, scale: Option<u8>, acc: &Acc, ids: &[u32], n: usize) {
    let (have, sums) = mine.get_or_insert_with(|| (scale.unwrap_or(0), Acc::Int(Vec::new())));
    *sums = padded(std::mem::replace(sums, Acc::Int(Vec::new())), n);
    // Both sides as integers at one scale, else both as floats.
    let theirs = match (acc, scale) {
        (Acc::Int(s), Some(scale)) => {
            let target = (*have).max(scale);
            if let Acc::Int(m) = sums {
                *sums = rescaled(m, *have, target);
            }
            *have = target;
            rescaled(s, scale, target)
        }
        (Acc::Int(s), None) => Acc::Float(s.iter().map(|&x| x as f64).collect()),
        (Acc::Float(s), _) => Acc::Float(s.clone()),
    };
    let theirs = match (&*sums, theirs) {
        (Acc::Int(_), Acc::Int(t)) => Acc::Int(t),
        (Acc::Float(_), Acc::Int(t)) => Acc::Float(t.iter().map(|&x| unscale(x, *have)).collect()),
        (_, Acc::Float(t)) => Acc::Float(t),
    };
    if let (Acc::Int(m), Acc::Float(_)) = (&*sums, &theirs) {
        *sums = Acc::Float(m.iter().map(|&x| unscale(x, *have)).collect());
    }
    match (sums, theirs) {
        (Acc::Int(m), Acc::Int(t)) => {
            let mut overflow = false;
            let before = m.clone();
            for (g, &x) in t.iter().enumerate() {
                let slot = &mut m[ids[g] as usize];
                match slot.checked_add(x) {
                    Some(s) => *slot = s,
                    None => overflow = true,
                }
            }
            if overflow {
                let mut floats: Vec<f64> = before.iter().map(|&x| unscale(x, *have)).collect();
                for (g, &x) in t.iter().enumerate() {
                    floats[ids[g] as usize] += unscale(x, *have);
                }
                *mine = Some((*have, Acc::Float(floats)));
            }
        }
        (Acc::Float(m), Acc::Float(t)) => {
            for (g, &x) in t.iter().enumerate() {
                m[ids[g] as usize] += x;
            }
        }
        _ => unreachable!("both sides were made alike"),
    }
}

impl Weighted {
    /// Adds a chunk's weighted sums (in its `scales`) into groups `ids` of `n`.
    fn add(&mut self, num: &[f64], den: &[f64], scales: Option<(u8, u8)>, ids: &[u32], n: usize) {
        self.num.resize(n, 0.0);
        self.den.resize(n, 0.0);
        let target = match (self.scales, scales) {
            (Some(a), Some(b)) => Some((a.0.max(b.0), a.1.max(b.1))),
            _ => None,
        };
        self.rescale(target);
        let mut theirs = Weighted {
            num: num.to_vec(),
            den: den.to_vec(),
            scales,
        };
        theirs.rescale(target);
        for (g, (&a, &b)) in theirs.num.iter().zip(&theirs.den).enumerate() {
            self.num[ids[g] as usize] += a;
            self.den[ids[g] as usize] += b;
        }
    }

    /// Moves the sums to `to` (value and weight scales; `None`: plain units).
    fn rescale(&mut self, to: Option<(u8, u8)>) {
        let p = |s: u8| 10f64.powi(i32::from(s));
        let (num_factor, den_factor) = match (self.scales, to) {
            (Some((v, w)), Some((tv, tw))) => (p(tv - v) * p(tw - w), p(tw - w)),
            (Some((v, w)), None) => (1.0 / (p(v) * p(w)), 1.0 / p(w)),
            (None, _) => (1.0, 1.0),
        };
        if num_factor != 1.0 || den_factor != 1.0 {
            self.num.iter_mut().for_each(|x| *x *= num_factor);
            self.den.iter_mut().for_each(|x| *x *= den_factor);
        }
        self.scales = to;
    }
}
