//! The table builder: typed columns filled a block of records at a time (or one record at a time).
//!
//! The ingester reads CSV (records, line numbers, limits, parts) and feeds the records' fields
//! here: plain records in blocks ([`Block`], typed a column at a time), the others one by one;
//! the builder types and stores them, as the schema says each column is to be read
//! ([`schema::role_of`]), and at the end decides what the schema leaves to the data (unknown
//! columns typed by content, measures from [`schema::measures`]).

mod cells;

use std::collections::{HashMap, HashSet};

use cells::{
    bad_cell, bool_cell, date_cell, note_negative, num_cell, text_cell, truncate, warn_negatives,
};
pub(crate) use cells::{negative_cells, type_unknown_column, warn_negative_count, Content};

use crate::column::{Chunked, DayColumn, NumColumn, TextColumn, NULL_DAY};
use crate::error::{Error, ErrorKind};
use crate::schema::{
    self, display_header, is_structural_name, ColumnShape, KnownColumn, Measure, Role,
};
use crate::table::{Column, Data, Table};
use crate::verbatim::Verbatim;
use crate::warning::Warnings;

/// A record's fields where they lie: `data[start(i)..ends[i]]`, where a field starts `gap`
/// bytes after the previous one ends (0 in csv-core's output, which has no delimiters; 1 for a
/// record read in place, where a comma separates the fields).
#[derive(Clone, Copy)]
pub(crate) struct Fields<'a> {
    pub data: &'a [u8],
    pub ends: &'a [usize],
    pub gap: usize,
}

impl<'a> Fields<'a> {
    /// How many fields.
    #[inline(always)]
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Field `i`'s bytes.
    #[inline(always)]
    pub fn get(&self, i: usize) -> &'a [u8] {
        let start = if i == 0 {
            0
        } else {
            self.ends[i - 1] + self.gap
        };
        &self.data[start..self.ends[i]]
    }
}

/// Records queued for [`TableBuilder::push_block`]: for each record, where each of its fields
/// starts in the input, then one past its line end (field `c` of record `r` is
/// `data[bounds[r * (width + 1) + c]..bounds[r * (width + 1) + c + 1] - 1]`); and the line each
/// record starts on.
#[derive(Default)]
pub(crate) struct Block {
    bounds: Vec<usize>,
    lines: Vec<u64>,
}

impl Block {
    /// Records that fill a block: enough to pay for the per-column decisions, few enough that
    /// their offsets stay in the cache.
    pub const ROWS: usize = 256;

    /// How many records.
    #[inline(always)]
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Queues a record that starts at `start` in the input, its fields ending at
    /// `start + ends[i]` (as [`crate::scan::split_record`] gives them), on line `line`.
    #[inline(always)]
    pub fn push(&mut self, start: usize, ends: &[usize], line: u64) {
        self.bounds.push(start);
        self.bounds.extend(ends.iter().map(|&e| start + e + 1));
        self.lines.push(line);
    }

    pub fn clear(&mut self) {
        self.bounds.clear();
        self.lines.clear();
    }
}

/// Builds a [`Table`] from the header and then one record at a time.
pub(crate) struct TableBuilder {
    table: Table,
    /// The last date cell parsed (column, raw bytes, day number): exports are sorted by user then
    /// date, so the same date repeats on many rows.
    last_date: (usize, Vec<u8>, i32),
    /// [`TableBuilder::push_block`]'s bad cells (record, column, what was expected), reused.
    bad: Vec<(usize, usize, &'static str)>,
    /// Per column: the line of the first negative number in an unknown column (typed only at
    /// the end: warned then, if it is a count).
    negatives: Vec<Option<u64>>,
}

impl TableBuilder {
    /// Sets up the columns from the header row (`line` is its line, for warnings). Fails when the
    /// header names none of the export's columns, unless `any_csv` (records read only for their
    /// shape, never stored).
    pub fn new(
        header: &[String],
        line: u64,
        warnings: &mut Warnings,
        any_csv: bool,
    ) -> Result<TableBuilder, Error> {
        let mut columns: Vec<Column> = Vec::with_capacity(header.len());
        // Names taken so far, and for each base name the next suffix to try: unique-ifying stays
        // linear however many names repeat (a header of 6 000 equal names was cubic).
        let mut taken: HashSet<String> = HashSet::with_capacity(header.len());
        let mut next_suffix: HashMap<String, usize> = HashMap::new();
        for written in header {
            let mut known = KnownColumn::from_header(written);
            if let Some(k) = known {
                if columns.iter().any(|c| c.known == Some(k)) {
                    warnings.add(
                        line,
                        Some(display_header(written)),
                        format!(
                            "the column {:?} appears twice; the second is kept as an unknown \
                             column",
                            k.name()
                        ),
                    );
                    known = None;
                }
            }
            let mut name = known.map_or_else(|| display_header(written), |k| k.name().to_string());
            if known.is_none() {
                if written.contains('\0') {
                    warnings.add(
                        line,
                        Some(name.clone()),
                        "a column name with a NUL byte: it is reported with U+FFFD in its place"
                            .to_string(),
                    );
                }
                let mut base = name.clone();
                if is_structural_name(&base) {
                    // A column never overwrites a computed figure (the summary's structural
                    // fields always win): it is renamed, and the renaming is said.
                    base = format!("{base} (column)");
                    warnings.add(
                        line,
                        Some(name.clone()),
                        format!(
                            "the column {name:?} has the name of a computed field of the \
                             summary; it is reported as {base:?}"
                        ),
                    );
                }
                name = base.clone();
                if taken.contains(&name) {
                    let n = next_suffix.entry(base.clone()).or_insert(2);
                    loop {
                        name = format!("{base} ({n})");
                        *n += 1;
                        if !taken.contains(&name) {
                            break;
                        }
                    }
                }
            }
            taken.insert(name.clone());
            let data = match schema::role_of(known) {
                Role::Bool => Data::Bool(Chunked::new()),
                Role::Date => Data::Date(DayColumn::new()),
                Role::Count | Role::Rate => Data::Num(NumColumn::new()),
                Role::Text => Data::Text(TextColumn::new()),
            };
            columns.push(Column {
                name,
                header: written.trim_start_matches('\u{feff}').to_string(),
                known,
                data,
                measure: None,
                verbatim: Verbatim::new(),
            });
        }
        if !any_csv && columns.iter().all(|c| c.known.is_none()) {
            let first = header.first().map_or("", |h| h.as_str());
            return Err(Error::new(
                ErrorKind::Input,
                format!(
                    "this is not a Sourcegraph Analytics export: its first line names none of the \
                     export's columns (it starts with {:?}); expected a CSV header such as \
                     \"Instance user ID,User Email,Username,...\"",
                    truncate(first.trim(), 60)
                ),
            ));
        }
        if !any_csv
            && columns
                .iter()
                .all(|c| c.known.is_none_or(KnownColumn::is_user_key))
        {
            // Opened in place of the export it was meant to be joined to: refused, not summed
            // into a dashboard of zeros.
            let users: Vec<&str> = columns
                .iter()
                .filter_map(|c| c.known.map(KnownColumn::name))
                .collect();
            return Err(Error::new(
                ErrorKind::PeopleFile,
                format!(
                    "this is a people file, not an export: its header (line {line}) names {} and \
                     no usage column. Open the usage export first, then join this file to it (the \
                     page's People file, or the CLI's --attributes FILE)",
                    users.join(", ")
                ),
            ));
        }
        let known: Vec<Option<KnownColumn>> = columns.iter().map(|c| c.known).collect();
        let find = |k: KnownColumn| known.iter().position(|&c| c == Some(k));
        let table = Table {
            user_id: find(KnownColumn::UserId),
            email: find(KnownColumn::UserEmail),
            username: find(KnownColumn::Username),
            active: find(KnownColumn::Active),
            client: find(KnownColumn::ClientName),
            language: find(KnownColumn::Language),
            date: find(KnownColumn::TimestampDate).or_else(|| find(KnownColumn::TimestampMonth)),
            granularity: schema::Granularity::of_columns(&known),
            columns,
            rows: 0,
            skipped_rows: 0,
            warnings: Vec::new(),
            warnings_total: 0,
            first_date: None,
            last_date: None,
            user_flags: None,
            users_contiguous: false,
            dates_sorted_within_users: false,
            attributes: None,
        };
        Ok(TableBuilder {
            negatives: vec![None; table.columns.len()],
            table,
            last_date: (usize::MAX, Vec::new(), NULL_DAY),
            bad: Vec::new(),
        })
    }

    /// How many fields a record must have.
    pub fn width(&self) -> usize {
        self.table.columns.len()
    }

    /// Rows stored so far.
    pub fn rows(&self) -> usize {
        self.table.rows
    }

    /// Makes room for `more` rows after the last in every column, by the vectors' usual growth,
    /// or fails without allocating when the memory is not there (a wasm module's last gigabyte):
    /// the growth that would otherwise end the module is a plain error.
    pub fn try_grow(&mut self, more: usize) -> Result<(), std::collections::TryReserveError> {
        for column in &mut self.table.columns {
            match &mut column.data {
                Data::Text(t) => t.try_grow(more)?,
                Data::Num(n) => n.try_grow(more)?,
                Data::Date(d) => d.try_grow(more)?,
                Data::Bool(b) => b.try_grow(more)?,
            }
        }
        Ok(())
    }

    /// Bytes the cells stored so far take (dictionaries and kept texts included, spare capacity
    /// not): what the rows read cost, for projecting the whole input's.
    pub fn used_bytes(&self) -> usize {
        self.table
            .columns
            .iter()
            .map(|c| {
                c.verbatim.used_bytes()
                    + match &c.data {
                        Data::Text(t) => t.used_bytes(),
                        Data::Num(n) => n.used_bytes(),
                        Data::Date(d) => d.used_bytes(),
                        Data::Bool(b) => b.used_bytes(),
                    }
            })
            .sum()
    }

    /// Bytes the table holds on the heap so far, its room reserved ahead included.
    #[cfg(test)]
    pub fn heap_bytes(&self) -> usize {
        self.table.heap_bytes()
    }

    /// The capacity of the first date column, for tests of the reservation.
    #[cfg(test)]
    pub fn date_capacity(&self) -> Option<usize> {
        self.table.columns.iter().find_map(|c| match &c.data {
            Data::Date(d) => Some(d.capacity()),
            _ => None,
        })
    }

    /// Stores one record of [`TableBuilder::width`] fields. A cell that does not parse as its
    /// column's type counts as empty and is reported (with `line()`, computed only then).
    pub fn push_row(
        &mut self,
        fields: Fields<'_>,
        line: impl Fn() -> u64,
        warnings: &mut Warnings,
    ) {
        let table = &mut self.table;
        let row = table.rows;
        for (col, column) in table.columns.iter_mut().enumerate() {
            let raw = fields.get(col);
            let verbatim = &mut column.verbatim;
            let days = column.known == Some(KnownColumn::TimestampDate);
            let problem = match &mut column.data {
                Data::Text(t) => {
                    text_cell(t, verbatim, row, raw);
                    if column.known.is_none() {
                        note_negative(&mut self.negatives[col], raw, &line);
                    }
                    None
                }
                Data::Num(n) => num_cell(n, verbatim, column.known, row, raw),
                Data::Date(d) => date_cell(d, verbatim, &mut self.last_date, col, row, raw, days),
                Data::Bool(b) => bool_cell(b, verbatim, row, raw),
            };
            if let Some(expected) = problem {
                bad_cell(warnings, line(), &column.name, raw, expected);
            }
        }
        table.rows += 1;
    }

    /// Stores the records of `block` (fields of [`TableBuilder::width`], all in `data`), one
    /// column at a time: one decision on the column's type per block, not per cell, and each
    /// column's state stays at hand. The same cells, values and warnings (in row order, then
    /// column order) as [`TableBuilder::push_row`] for each record in turn.
    pub fn push_block(&mut self, data: &[u8], block: &Block, warnings: &mut Warnings) {
        let n = block.len();
        if n == 0 {
            return;
        }
        let stride = self.table.columns.len() + 1;
        debug_assert_eq!(block.bounds.len(), n * stride);
        let row0 = self.table.rows;
        let bad = &mut self.bad;
        bad.clear();
        for (col, column) in self.table.columns.iter_mut().enumerate() {
            let bounds = &block.bounds[col..];
            let cell = |r: usize| {
                let b = &bounds[r * stride..r * stride + 2];
                &data[b[0]..b[1] - 1]
            };
            let verbatim = &mut column.verbatim;
            let days = column.known == Some(KnownColumn::TimestampDate);
            match &mut column.data {
                Data::Text(t) => {
                    t.push_cells(verbatim, row0, n, cell);
                    if column.known.is_none() {
                        let slot = &mut self.negatives[col];
                        for r in 0..n {
                            if slot.is_some() {
                                break;
                            }
                            note_negative(slot, cell(r), || block.lines[r]);
                        }
                    }
                }
                Data::Num(c) => {
                    let mut r = 0;
                    while r < n {
                        r = c.push_plain_cells(verbatim, row0, r, n, cell);
                        if r < n {
                            // A cell of another form, or one that widens the column.
                            if let Some(p) = num_cell(c, verbatim, column.known, row0 + r, cell(r))
                            {
                                bad.push((r, col, p));
                            }
                            r += 1;
                        }
                    }
                }
                Data::Date(d) => {
                    for r in 0..n {
                        let raw = cell(r);
                        if let Some(p) =
                            date_cell(d, verbatim, &mut self.last_date, col, row0 + r, raw, days)
                        {
                            bad.push((r, col, p));
                        }
                    }
                }
                Data::Bool(b) => {
                    for r in 0..n {
                        if let Some(p) = bool_cell(b, verbatim, row0 + r, cell(r)) {
                            bad.push((r, col, p));
                        }
                    }
                }
            }
        }
        if !bad.is_empty() {
            // Reported as row by row: by row, then by column (through the module's one sort for
            // cold paths, src/order.rs).
            let mut order: Vec<u32> = (0..bad.len() as u32).collect();
            crate::order::sort_indices(&mut order, &|a, b| {
                let (x, y) = (&bad[a as usize], &bad[b as usize]);
                (x.0, x.1).cmp(&(y.0, y.1))
            });
            for &(r, col, expected) in order.iter().map(|&i| &bad[i as usize]) {
                let b = &block.bounds[r * stride + col..];
                let raw = &data[b[0]..b[1] - 1];
                bad_cell(
                    warnings,
                    block.lines[r],
                    &self.table.columns[col].name,
                    raw,
                    expected,
                );
            }
        }
        self.table.rows += n;
    }

    /// The rows stored so far, as a table of their own, the builder going on with empty columns
    /// of the same types (a number column keeps its scale, so that a column's scale only grows
    /// over the chunks, as over the whole input). The chunk's unknown columns are still text and
    /// it has no measures: what the input as a whole decides is left to whoever reads the
    /// chunks (see [`crate::query::SummaryStream`]); its dates and row order are noted.
    pub fn take_rows(&mut self) -> Table {
        let mut chunk = self.table.without_rows();
        std::mem::swap(&mut chunk.columns, &mut self.table.columns);
        chunk.rows = std::mem::take(&mut self.table.rows);
        for column in &mut chunk.columns {
            column.verbatim.finish();
            if let Data::Text(t) = &mut column.data {
                t.finish();
            }
        }
        chunk.compute_date_range();
        chunk.compute_order();
        chunk
    }

    /// The lines of the first negative number of each unknown column (see
    /// [`warn_negative_count`]).
    pub fn first_negatives(&self) -> &[Option<u64>] {
        &self.negatives
    }

    /// The table, once the input has ended: unknown columns typed by their content, spare
    /// capacity given back, measures as the schema decides, dates and row order noted.
    pub fn finish(self, skipped_rows: u64, mut warnings: Warnings) -> Table {
        let mut table = self.table;
        for column in &mut table.columns {
            let _ = type_unknown_column(column);
            column.verbatim.finish();
            match &mut column.data {
                Data::Text(t) => t.finish(),
                Data::Num(n) => n.shrink(),
                Data::Date(d) => d.shrink_to_fit(),
                Data::Bool(b) => b.shrink_to_fit(),
            }
        }
        let shapes: Vec<ColumnShape<'_>> = table
            .columns
            .iter()
            .map(|c| ColumnShape {
                known: c.known,
                numeric: matches!(c.data, Data::Num(_)),
                name: &c.name,
            })
            .collect();
        let measures = schema::measures(&shapes);
        for (c, m) in table.columns.iter_mut().zip(measures) {
            c.measure = m;
        }
        for (column, first) in table.columns.iter().zip(&self.negatives) {
            if let (Some(line), Some(Measure::Sum), Data::Num(n)) =
                (first, column.measure, &column.data)
            {
                warn_negatives(&mut warnings, *line, &column.name, n);
            }
        }
        table.skipped_rows = skipped_rows;
        table.warnings = warnings.list;
        table.warnings_total = warnings.total;
        table.compute_date_range();
        table.compute_order();
        table
    }
}
