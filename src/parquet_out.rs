//! The export as Parquet, for engines past one machine (DuckDB, Spark, BigQuery): the export's own
//! column names, typed by the export's layout ([`ParquetLayout`], [`ParquetType`]), and the
//! granularity in the file's key-value metadata. Native only: the wasm module does not carry it.
//!
//! Written as the rows come ([`ParquetSink`]: one file, or one per month), with the `parquet`
//! crate's column writers, [`ROW_GROUP_ROWS`] rows of the input at a time, Snappy-compressed,
//! every column `OPTIONAL` (an empty cell is `NULL`).

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Arc;

use parquet::basic::{Compression, LogicalType, Repetition, Type as Physical};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int32Type, Int64Type};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::{Type, TypePtr};

use crate::column::{DayColumn, NULL_BOOL, NULL_DAY};
use crate::date::{format_day, format_month, month_first_day, month_number, parse_day};
use crate::error::{Error, ErrorKind};
use crate::number::{parse_num, Num};
use crate::query::Chunk;
use crate::schema::{self, ColumnShape, Granularity, KnownColumn};
use crate::table::{Column, Data, Measure, Table};

/// The key of the file's key-value metadata that holds the export's granularity
/// (`by_user_day_client_language`, `by_user_day`, `by_user_month` or `by_user`).
pub const GRANULARITY_KEY: &str = "sg_analytics.granularity";

/// Rows of the input per window of row groups (a single file's row group): large enough for
/// engines to scan well, small enough that the rows held (a few bytes a cell) stay a few tens of
/// megabytes.
pub const ROW_GROUP_ROWS: usize = 1 << 20;

/// The name of the partition for rows without a date, as Hive, Spark and DuckDB spell a `NULL`
/// partition value.
pub const NULL_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// How a column is typed in Parquet, by what the summaries do with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParquetType {
    /// `Timestamp Date`, `Timestamp Month`: `DATE` (a month is its first day).
    Date,
    /// `Active Sourcegraph User`: `BOOLEAN`.
    Boolean,
    /// A count (summed) whose cells are all whole numbers: `INT64`.
    Int64,
    /// A rate or percentage (never summed), or a count with fractional cells: `DOUBLE`.
    Double,
    /// Text (user, client, language, and unknown columns that are not all numbers): `STRING`.
    /// An empty `Language` is `NULL`; other empty text stays `""`.
    String,
}

impl ParquetType {
    /// The type as engines name it: `DATE`, `BOOLEAN`, `INT64`, `DOUBLE`, `STRING`.
    pub fn as_str(self) -> &'static str {
        match self {
            ParquetType::Date => "DATE",
            ParquetType::Boolean => "BOOLEAN",
            ParquetType::Int64 => "INT64",
            ParquetType::Double => "DOUBLE",
            ParquetType::String => "STRING",
        }
    }

    fn parquet(self, name: &str) -> Result<TypePtr, Error> {
        let (physical, logical) = match self {
            ParquetType::Date => (Physical::INT32, Some(LogicalType::Date)),
            ParquetType::Boolean => (Physical::BOOLEAN, None),
            ParquetType::Int64 => (Physical::INT64, None),
            ParquetType::Double => (Physical::DOUBLE, None),
            ParquetType::String => (Physical::BYTE_ARRAY, Some(LogicalType::String)),
        };
        Type::primitive_type_builder(name, physical)
            .with_repetition(Repetition::OPTIONAL)
            .with_logical_type(logical)
            .build()
            .map(Arc::new)
            .map_err(parquet_error)
    }
}

/// One `month=YYYY-MM` partition of a table: the rows dated in that month, or (`month: None`)
/// the rows without a date.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Partition {
    /// The month, `YYYY-MM`; `None` for the rows whose date cell was empty or invalid.
    pub month: Option<String>,
    /// How many rows it has.
    pub rows: usize,
}

impl Partition {
    /// The partition's folder, Hive-style: `month=2025-01`, or `month=__HIVE_DEFAULT_PARTITION__`.
    pub fn dir_name(&self) -> String {
        format!("month={}", self.month.as_deref().unwrap_or(NULL_PARTITION))
    }

    /// What a folder's name stands for, the inverse of [`Partition::dir_name`]: `month=2025-01`
    /// is `Some(Some("2025-01"))`, the rows without a date `Some(None)`; a name that is no
    /// partition's (`month=2025-1`, `notes`) is `None`.
    pub fn month_of_dir_name(name: &str) -> Option<Option<String>> {
        let value = name.strip_prefix("month=")?;
        if value == NULL_PARTITION {
            return Some(None);
        }
        let first = parse_day(&format!("{value}-01"))?;
        (format_month(first) == value).then(|| Some(value.to_string()))
    }
}

/// The granularity a Parquet file states in its key-value metadata ([`GRANULARITY_KEY`]), as
/// [`Table::write_parquet`] writes it; `Ok(None)` for a Parquet file without it (not written by
/// sg-analytics); an error for a file that is not Parquet or states an unknown granularity.
pub fn parquet_granularity(file: std::fs::File) -> Result<Option<Granularity>, Error> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let reader = SerializedFileReader::new(file)
        .map_err(|e| Error::new(ErrorKind::Input, format!("not a Parquet file ({e})")))?;
    let metadata = reader.metadata().file_metadata().key_value_metadata();
    let Some(value) = metadata
        .into_iter()
        .flatten()
        .find(|kv| kv.key == GRANULARITY_KEY)
        .and_then(|kv| kv.value.as_deref())
    else {
        return Ok(None);
    };
    value.parse().map(Some)
}

/// The first day an incremental fetch into a dataset asks for (`--append`): the first day of the
/// newest month present (which may have been partial when it was fetched, so it is fetched again
/// and replaced; later months are added, older ones left as they are). Without a month present,
/// `from` (a full fetch). `from` and `to` are the dates given (`YYYY-MM-DD`): a `from` after that
/// first day would replace the newest month with part of it, and a `to` before it would fetch
/// nothing, so either is an error that says so.
pub fn append_start(
    newest: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<Option<String>, Error> {
    let Some(month) = newest else {
        return Ok(from.map(str::to_string));
    };
    let first = parse_day(&format!("{month}-01"))
        .ok_or_else(|| Error::query(format!("{month:?} is not a month (YYYY-MM)")))?;
    let start = format_day(first);
    let day = |flag: &str, v: &str| {
        parse_day(v).ok_or_else(|| {
            Error::query(format!("{flag} must be a date as YYYY-MM-DD, found {v:?}"))
        })
    };
    if let Some(from) = from {
        if day("--from", from)? > first {
            return Err(Error::query(format!(
                "--from {from} is after the first day of the newest month present ({month}): \
                 an incremental fetch fetches that month whole ({start} on) and replaces it"
            )));
        }
    }
    if let Some(to) = to {
        if day("--to", to)? < first {
            return Err(Error::query(format!(
                "--to {to} is before the newest month present ({month}): an incremental fetch \
                 fetches from {start}; give a later --to, or another folder"
            )));
        }
    }
    Ok(Some(start))
}

/// A failure of the Parquet writer (not of the input's cells: those are `ErrorKind::Input`).
fn parquet_error(e: parquet::errors::ParquetError) -> Error {
    Error::query(format!("writing Parquet: {e}"))
}

/// The Parquet columns of an export, each column's name and type, in the export's order, with
/// its granularity: what every file written from it holds, whatever rows it holds.
///
/// Known columns are typed by the export's documented layout alone (their role), never by their
/// cells, so that every month of a dataset has the same schema: a count is `INT64` in every
/// file, and a cell of it that is not a whole number is an error. Unknown columns are typed by
/// all their cells ([`LayoutLearner`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParquetLayout {
    columns: Vec<(String, ParquetType)>,
    granularity: Granularity,
}

impl ParquetLayout {
    /// Each column's name and Parquet type, in the export's order.
    pub fn columns(&self) -> &[(String, ParquetType)] {
        &self.columns
    }

    /// The export's granularity, stated in each file's metadata.
    pub fn granularity(&self) -> Granularity {
        self.granularity
    }

    /// The layout of a whole table (its unknown columns typed by its cells).
    pub fn of_table(table: &Table) -> ParquetLayout {
        let mut learner = LayoutLearner::default();
        learner.learn(table);
        learner.layout_of(table)
    }

    fn schema(&self) -> Result<TypePtr, Error> {
        let fields = self
            .columns
            .iter()
            .map(|(name, t)| t.parquet(name))
            .collect::<Result<Vec<_>, _>>()?;
        Type::group_type_builder("schema")
            .with_fields(fields)
            .build()
            .map(Arc::new)
            .map_err(parquet_error)
    }

    fn properties(&self) -> Arc<WriterProperties> {
        Arc::new(
            WriterProperties::builder()
                .set_compression(Compression::SNAPPY)
                .set_created_by(format!("sg-analytics {}", env!("CARGO_PKG_VERSION")))
                .set_key_value_metadata(Some(vec![KeyValue::new(
                    GRANULARITY_KEY.to_string(),
                    self.granularity.as_str().to_string(),
                )]))
                .build(),
        )
    }
}

/// What an unknown column's cells were, so far.
#[derive(Clone, Copy, Debug, Default)]
struct Seen {
    /// A cell that is not a number: the column is text.
    text: bool,
    /// A number.
    numbers: bool,
    /// The largest count of decimal places of its numbers, and whether one was a float (an
    /// exponent, or too long to keep exactly).
    scale: u8,
    float: bool,
}

/// Learns a [`ParquetLayout`] from an export's chunks of rows, in any order: the known columns
/// are typed by the export's layout, the unknown ones by all their cells, as the whole table
/// types them (numbers when every non-empty cell is one and there is one; a count's `INT64`
/// when every one is written without decimals, else `DOUBLE`).
#[derive(Default)]
pub struct LayoutLearner {
    /// Per column: what an unknown column's cells were (`None` for a known column).
    seen: Vec<Option<Seen>>,
}

impl LayoutLearner {
    /// Whether the layout of this export needs its every row: it has unknown columns (typed by
    /// their cells). Without, the header alone (any chunk) gives it.
    pub fn needs_every_row(chunk: &Chunk) -> bool {
        chunk.table().columns.iter().any(|c| c.known.is_none())
    }

    /// Learns from a chunk's cells.
    pub fn add(&mut self, chunk: &Chunk) {
        self.learn(chunk.table());
    }

    /// The layout of the export, from the columns of any of its chunks (they all have the same)
    /// and the cells learned from.
    pub fn finish(self, chunk: &Chunk) -> ParquetLayout {
        self.layout_of(chunk.table())
    }

    fn learn(&mut self, table: &Table) {
        if self.seen.is_empty() {
            self.seen = table
                .columns
                .iter()
                .map(|c| c.known.is_none().then(Seen::default))
                .collect();
        }
        for (column, seen) in table.columns.iter().zip(&mut self.seen) {
            let Some(seen) = seen else { continue };
            match &column.data {
                // A chunk's unknown columns are its cells' text; a whole table's are typed.
                Data::Text(text) => {
                    for value in text.values.iter().filter(|v| !v.is_empty()) {
                        match parse_num(value) {
                            Some(Num::Dec { scale, .. }) => {
                                seen.numbers = true;
                                seen.scale = seen.scale.max(scale);
                            }
                            Some(Num::Float(_)) => {
                                seen.numbers = true;
                                seen.float = true;
                            }
                            None => seen.text = true,
                        }
                    }
                }
                Data::Num(n) => {
                    seen.numbers |= n.len() > 0;
                    seen.scale = seen.scale.max(n.scale);
                    seen.float |= n.is_float();
                }
                Data::Date(_) | Data::Bool(_) => {}
            }
        }
    }

    fn layout_of(&self, table: &Table) -> ParquetLayout {
        let numeric: Vec<bool> = table
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| match self.seen.get(i).copied().flatten() {
                Some(seen) => seen.numbers && !seen.text,
                None => matches!(c.data, Data::Num(_)),
            })
            .collect();
        let shapes: Vec<ColumnShape<'_>> = table
            .columns
            .iter()
            .zip(&numeric)
            .map(|(c, &numeric)| ColumnShape {
                known: c.known,
                numeric,
                name: &c.name,
            })
            .collect();
        let measures = schema::measures(&shapes);
        let columns = table
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let t = match (&c.data, numeric[i], measures[i]) {
                    (Data::Date(_), ..) => ParquetType::Date,
                    (Data::Bool(_), ..) => ParquetType::Boolean,
                    (_, false, _) => ParquetType::String,
                    (_, true, Some(Measure::Sum)) => match self.seen.get(i).copied().flatten() {
                        // An unknown count: INT64 when no cell has decimals.
                        Some(seen) if seen.scale > 0 || seen.float => ParquetType::Double,
                        _ => ParquetType::Int64,
                    },
                    (_, true, _) => ParquetType::Double,
                };
                (c.name.clone(), t)
            })
            .collect();
        ParquetLayout {
            columns,
            granularity: table.granularity,
        }
    }
}

/// How a [`ParquetSink`] places its rows into files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    /// Every row in one file.
    One,
    /// One file per month of the rows' dates (Hive-style `month=YYYY-MM` partitions), the
    /// rows without a date in one more.
    ByMonth,
}

/// The rows of one table waiting for a file's next row group.
struct Slice {
    table: Arc<Table>,
    /// The table's rows, in order.
    rows: Vec<u32>,
    /// The number (from 0) of the table's first row in the whole input.
    base: u64,
}

/// One file being written.
struct Open<W: Write + Send> {
    partition: Partition,
    writer: SerializedFileWriter<W>,
    pending: Vec<Slice>,
    groups: usize,
}

/// The export written as Parquet as its rows come, in bounded memory: rows are buffered until
/// [`ROW_GROUP_ROWS`] rows of the input have come, then each file's share of them is written as
/// one row group of that file, and dropped. Memory holds one window of rows (and the chunk
/// being read), never the export. Where the row groups start depends only on the rows' order,
/// not on how the input was cut into chunks: the same rows give the same bytes. One file
/// (`Split::One`) gets row groups of exactly [`ROW_GROUP_ROWS`] rows (the last fewer); a
/// month's file gets, per window, that month's rows in it.
pub struct ParquetSink<W: Write + Send, F: FnMut(&Partition) -> std::io::Result<W>> {
    layout: ParquetLayout,
    split: Split,
    open: F,
    files: BTreeMap<(bool, i64), Open<W>>,
    /// Rows of the input so far, and of them in the current window.
    rows: u64,
    window: usize,
    /// Rows of a window: [`ROW_GROUP_ROWS`] (fewer in tests).
    window_rows: usize,
}

impl<W: Write + Send, F: FnMut(&Partition) -> std::io::Result<W>> ParquetSink<W, F> {
    /// A sink writing rows of `layout` into files opened with `open` when their first row comes
    /// (for [`Split::One`], the one file's partition has no month); an error of `open` (its
    /// message saying which file) stops the writing.
    pub fn new(layout: ParquetLayout, split: Split, open: F) -> ParquetSink<W, F> {
        ParquetSink {
            layout,
            split,
            open,
            files: BTreeMap::new(),
            rows: 0,
            window: 0,
            window_rows: ROW_GROUP_ROWS,
        }
    }

    /// Writes a chunk's rows (a chunk of the export whose layout this sink writes).
    pub fn add(&mut self, chunk: Chunk) -> Result<(), Error> {
        self.add_table(Arc::new(chunk.into_table()))
    }

    /// Writes a table's rows (a whole export's, or those of one of its chunks, in order).
    pub fn add_table(&mut self, table: Arc<Table>) -> Result<(), Error> {
        if self.split == Split::ByMonth && table.dates().is_none() {
            return Err(Error::query(format!(
                "this {} export has no dates to partition by month: write one file (-o FILE), \
                 or fetch the by_user_month granularity or finer",
                table.granularity
            )));
        }
        if table.columns.len() != self.layout.columns.len() {
            return Err(Error::query(format!(
                "the export has {} columns where its Parquet layout has {}",
                table.columns.len(),
                self.layout.columns.len()
            )));
        }
        let base = self.rows;
        let no_dates = DayColumn::new();
        let dates = table.dates().unwrap_or(&no_dates);
        let mut start = 0;
        // Rows come in runs of a month (an export is by user, then date): one lookup a run.
        let mut last: Option<(i32, i64)> = None;
        while start < table.rows {
            let end = table.rows.min(start + (self.window_rows - self.window));
            for r in start..end {
                let key = match self.split {
                    Split::One => (false, 0),
                    Split::ByMonth => match dates.get(r) {
                        NULL_DAY => (true, 0),
                        d => {
                            let month = match last {
                                Some((day, month)) if day == d => month,
                                _ => month_number(d),
                            };
                            last = Some((d, month));
                            (false, month)
                        }
                    },
                };
                let file = match self.files.entry(key) {
                    std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::btree_map::Entry::Vacant(e) => {
                        let partition = partition_of(self.split, key)?;
                        let out =
                            (self.open)(&partition).map_err(|e| Error::query(e.to_string()))?;
                        let writer = SerializedFileWriter::new(
                            out,
                            self.layout.schema()?,
                            self.layout.properties(),
                        )
                        .map_err(parquet_error)?;
                        e.insert(Open {
                            partition,
                            writer,
                            pending: Vec::new(),
                            groups: 0,
                        })
                    }
                };
                file.partition.rows += 1;
                match file.pending.last_mut() {
                    Some(slice) if Arc::ptr_eq(&slice.table, &table) => slice.rows.push(r as u32),
                    _ => file.pending.push(Slice {
                        table: Arc::clone(&table),
                        rows: vec![r as u32],
                        base,
                    }),
                }
            }
            self.rows += (end - start) as u64;
            self.window += end - start;
            if self.window == self.window_rows {
                self.flush()?;
            }
            start = end;
        }
        Ok(())
    }

    /// Writes each file's pending rows as one row group.
    fn flush(&mut self) -> Result<(), Error> {
        for file in self.files.values_mut() {
            if !file.pending.is_empty() {
                write_group(&mut file.writer, &self.layout, &file.pending)?;
                file.pending.clear();
                file.groups += 1;
            }
        }
        self.window = 0;
        Ok(())
    }

    /// Writes the last row groups and the files' footers; returns each file's partition (its
    /// rows counted) and its writer, oldest month first, then the rows without a date. With
    /// [`Split::One`] there is always one file (with no rows, one empty row group, so that
    /// readers see its schema); by month, a file per month that had rows.
    pub fn finish(mut self) -> Result<Vec<(Partition, W)>, Error> {
        self.flush()?;
        if self.split == Split::One && self.files.is_empty() {
            let partition = partition_of(Split::One, (false, 0))?;
            let out = (self.open)(&partition).map_err(|e| Error::query(e.to_string()))?;
            let writer =
                SerializedFileWriter::new(out, self.layout.schema()?, self.layout.properties())
                    .map_err(parquet_error)?;
            self.files.insert(
                (false, 0),
                Open {
                    partition,
                    writer,
                    pending: Vec::new(),
                    groups: 0,
                },
            );
        }
        let mut done = Vec::with_capacity(self.files.len());
        for (_, mut file) in std::mem::take(&mut self.files) {
            if file.groups == 0 {
                write_group(&mut file.writer, &self.layout, &[])?;
            }
            let out = file.writer.into_inner().map_err(parquet_error)?;
            done.push((file.partition, out));
        }
        Ok(done)
    }
}

/// The partition of a sink's file key: (without a date, month number).
fn partition_of(split: Split, (undated, number): (bool, i64)) -> Result<Partition, Error> {
    if split == Split::One || undated {
        return Ok(Partition {
            month: None,
            rows: 0,
        });
    }
    match month_first_day(number) {
        Some(first) => Ok(Partition {
            month: Some(format_month(first)),
            rows: 0,
        }),
        None => Err(Error::query("a date past the calendar's range")),
    }
}

/// One column's values of a row group, and a definition level per row (1 present, 0 `NULL`).
enum Values {
    Date(Vec<i32>),
    Boolean(Vec<bool>),
    Int64(Vec<i64>),
    Double(Vec<f64>),
    Text(Vec<ByteArray>),
}

/// Writes the rows of `slices` as one row group.
fn write_group<W: Write + Send>(
    writer: &mut SerializedFileWriter<W>,
    layout: &ParquetLayout,
    slices: &[Slice],
) -> Result<(), Error> {
    let mut group = writer.next_row_group().map_err(parquet_error)?;
    let rows: usize = slices.iter().map(|s| s.rows.len()).sum();
    for (i, (name, t)) in layout.columns.iter().enumerate() {
        let mut levels: Vec<i16> = Vec::with_capacity(rows);
        let mut values = match t {
            ParquetType::Date => Values::Date(Vec::with_capacity(rows)),
            ParquetType::Boolean => Values::Boolean(Vec::with_capacity(rows)),
            ParquetType::Int64 => Values::Int64(Vec::with_capacity(rows)),
            ParquetType::Double => Values::Double(Vec::with_capacity(rows)),
            ParquetType::String => Values::Text(Vec::with_capacity(rows)),
        };
        for slice in slices {
            let column = &slice.table.columns[i];
            column_values(column, name, slice, &mut values, &mut levels)?;
        }
        let mut chunk = group
            .next_column()
            .map_err(parquet_error)?
            .ok_or_else(|| Error::query("writing Parquet: fewer columns than the schema"))?;
        macro_rules! write {
            ($kind:ty, $values:expr) => {
                chunk
                    .typed::<$kind>()
                    .write_batch($values, Some(&levels), None)
                    .map_err(parquet_error)?
            };
        }
        match &values {
            Values::Date(v) => write!(Int32Type, v),
            Values::Boolean(v) => write!(BoolType, v),
            Values::Int64(v) => write!(Int64Type, v),
            Values::Double(v) => write!(DoubleType, v),
            Values::Text(v) => write!(ByteArrayType, v),
        };
        chunk.close().map_err(parquet_error)?;
    }
    group.close().map_err(parquet_error)?;
    Ok(())
}

/// Appends one column's cells of a slice's rows to `values`, a definition level per row.
fn column_values(
    column: &Column,
    name: &str,
    slice: &Slice,
    values: &mut Values,
    levels: &mut Vec<i16>,
) -> Result<(), Error> {
    let rows = slice.rows.iter().map(|&r| r as usize);
    // A cell that the column's type cannot hold: an error that says where.
    let misfit = |r: usize, cell: &str, what: &str| {
        Error::new(
            ErrorKind::Input,
            format!(
                "row {} (the header not counted), column {name:?}: {cell:?} {what}; every file \
                 of the export (every month of a dataset) types a column alike; fix the cell, \
                 or drop the column",
                slice.base + r as u64 + 1
            ),
        )
    };
    match (&column.data, values) {
        (Data::Date(days), Values::Date(out)) => {
            for d in rows.map(|r| days.get(r)) {
                levels.push(i16::from(d != NULL_DAY));
                if d != NULL_DAY {
                    out.push(d);
                }
            }
        }
        (Data::Bool(flags), Values::Boolean(out)) => {
            for b in rows.map(|r| flags[r]) {
                levels.push(i16::from(b != NULL_BOOL));
                if b != NULL_BOOL {
                    out.push(b == 1);
                }
            }
        }
        (Data::Text(text), Values::Text(out)) => {
            let empty_is_null = column.known == Some(KnownColumn::Language);
            // One shared buffer per distinct value: a row's cell is a reference to it.
            let dictionary: Vec<ByteArray> = text
                .values
                .iter()
                .map(|v| ByteArray::from(v.as_str()))
                .collect();
            for code in rows.map(|r| text.codes.get(r) as usize) {
                let keep = !(empty_is_null && text.values[code].is_empty());
                levels.push(i16::from(keep));
                if keep {
                    out.push(dictionary[code].clone());
                }
            }
        }
        (Data::Num(num), Values::Int64(out)) => {
            for r in rows {
                let v = num.get_whole(r);
                levels.push(i16::from(v.is_some()));
                match v {
                    Some(Ok(v)) => out.push(v),
                    Some(Err(())) => {
                        let mut cell = String::new();
                        num.format(r, &mut cell);
                        return Err(misfit(
                            r,
                            &cell,
                            "is not a whole number, and this column is a count, INT64",
                        ));
                    }
                    None => {}
                }
            }
        }
        (Data::Num(num), Values::Double(out)) => {
            for v in rows.map(|r| num.get(r)) {
                levels.push(i16::from(v.is_some()));
                out.extend(v);
            }
        }
        // An unknown column of numbers, in a chunk: its cells' text, parsed.
        (Data::Text(text), values @ (Values::Int64(_) | Values::Double(_))) => {
            let parsed: Vec<Option<Num>> = text.values.iter().map(|v| parse_num(v)).collect();
            for r in rows {
                let code = text.codes.get(r) as usize;
                let value = &text.values[code];
                let Some(n) = parsed[code] else {
                    if value.is_empty() {
                        levels.push(0);
                        continue;
                    }
                    return Err(misfit(r, value, "is not a number"));
                };
                levels.push(1);
                match values {
                    Values::Int64(out) => match n {
                        Num::Dec { mantissa, scale: 0 } => out.push(mantissa),
                        _ => {
                            return Err(misfit(
                                r,
                                value,
                                "is not a whole number, and this column is a count, INT64",
                            ))
                        }
                    },
                    Values::Double(out) => out.push(n.to_f64()),
                    _ => unreachable!("matched above"),
                }
            }
        }
        _ => {
            return Err(Error::query(format!(
                "writing Parquet: column {name:?} is not of its layout's type"
            )))
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::Chunker;

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

    /// The fixtures with an export's rows (not the empty or undecodable ones).
    fn fixtures() -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        for dir in [FIXTURES.to_string(), format!("{FIXTURES}/hostile")] {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|e| e == "csv") {
                    let bytes = std::fs::read(&path).unwrap();
                    if Table::from_bytes(&bytes).is_ok_and(|t| t.rows > 0) {
                        out.push((path.display().to_string(), bytes));
                    }
                }
            }
        }
        assert!(out.len() > 10, "{}", out.len());
        out
    }

    /// The files a sink writes from `tables` (in order), with windows of `window` rows.
    fn sink_bytes(
        layout: &ParquetLayout,
        split: Split,
        window: usize,
        tables: Vec<Table>,
    ) -> Result<Vec<(Partition, Vec<u8>)>, Error> {
        let mut sink = ParquetSink::new(layout.clone(), split, |_| Ok(Vec::new()));
        sink.window_rows = window;
        for table in tables {
            sink.add_table(Arc::new(table))?;
        }
        sink.finish()
    }

    /// The export's chunks of `rows` rows, as read, and its layout learned from them.
    fn chunks(bytes: &[u8], rows: usize) -> (ParquetLayout, Vec<Table>) {
        let mut chunker = Chunker::new(rows);
        let mut chunks = Vec::new();
        for piece in bytes.chunks(4096) {
            chunks.extend(chunker.push(piece).unwrap());
        }
        let (last, _) = chunker.finish().unwrap();
        let mut learner = LayoutLearner::default();
        for chunk in chunks.iter().chain([&last]) {
            learner.add(chunk);
        }
        let layout = learner.finish(&last);
        chunks.push(last);
        (layout, chunks.into_iter().map(Chunk::into_table).collect())
    }

    #[test]
    fn the_files_do_not_depend_on_how_the_rows_were_chunked() {
        for (name, bytes) in fixtures() {
            let whole = Table::from_bytes(&bytes).unwrap();
            let layout = ParquetLayout::of_table(&whole);
            let splits = if whole.dates().is_some() {
                vec![Split::One, Split::ByMonth]
            } else {
                vec![Split::One]
            };
            for split in splits {
                for window in [ROW_GROUP_ROWS, 3] {
                    let expected = sink_bytes(
                        &layout,
                        split,
                        window,
                        vec![Table::from_bytes(&bytes).unwrap()],
                    );
                    for rows in [1, 2, 5, 1 << 20] {
                        let (learned, tables) = chunks(&bytes, rows);
                        assert_eq!(learned, layout, "{name}: the layout, chunks of {rows}");
                        let got = sink_bytes(&layout, split, window, tables);
                        assert_eq!(
                            got, expected,
                            "{name}: {split:?}, windows of {window}, chunks of {rows}"
                        );
                    }
                }
                // Smaller windows cut the same rows into more row groups: the same values.
                let values = |window| {
                    let tables = vec![Table::from_bytes(&bytes).unwrap()];
                    sink_bytes(&layout, split, window, tables).map(|files| {
                        files
                            .into_iter()
                            .map(|(p, bytes)| (p, rows_of(bytes)))
                            .collect::<Vec<_>>()
                    })
                };
                assert_eq!(values(3), values(ROW_GROUP_ROWS), "{name}: {split:?}");
            }
        }
    }

    /// A Parquet file's rows, as the `parquet` crate reads them back.
    fn rows_of(bytes: Vec<u8>) -> Vec<String> {
        use parquet::file::reader::{FileReader, SerializedFileReader};
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(&bytes).unwrap();
        let reader = SerializedFileReader::new(file).unwrap();
        reader
            .get_row_iter(None)
            .unwrap()
            .map(|row| row.unwrap().to_string())
            .collect()
    }

    #[test]
    fn partition_folder_names_read_back_as_their_months() {
        for month in ["2025-01", "1999-12"] {
            let p = Partition {
                month: Some(month.into()),
                rows: 1,
            };
            assert_eq!(
                Partition::month_of_dir_name(&p.dir_name()),
                Some(Some(month.into()))
            );
        }
        let undated = Partition {
            month: None,
            rows: 1,
        };
        assert_eq!(
            Partition::month_of_dir_name(&undated.dir_name()),
            Some(None)
        );
        for name in [
            "month=2025-13",
            "month=2025-1",
            "month=2025-01-01",
            "2025-01",
            "month=",
        ] {
            assert_eq!(Partition::month_of_dir_name(name), None, "{name}");
        }
    }

    #[test]
    fn an_incremental_fetch_starts_on_the_newest_months_first_day() {
        let start = |newest, from, to| append_start(newest, from, to);
        assert_eq!(start(None, None, None), Ok(None));
        assert_eq!(
            start(None, Some("2024-06-03"), None),
            Ok(Some("2024-06-03".into()))
        );
        assert_eq!(
            start(Some("2025-03"), None, None),
            Ok(Some("2025-03-01".into()))
        );
        // A --from before the newest month (the same cron line every day) does not move it.
        assert_eq!(
            start(Some("2025-03"), Some("2024-01-01"), Some("2025-03-01")),
            Ok(Some("2025-03-01".into()))
        );
        let e = start(Some("2025-03"), Some("2025-03-02"), None).unwrap_err();
        assert!(e.message().contains("--from 2025-03-02 is after"), "{e}");
        let e = start(Some("2025-03"), None, Some("2025-02-28")).unwrap_err();
        assert!(e.message().contains("--to 2025-02-28 is before"), "{e}");
    }
}
