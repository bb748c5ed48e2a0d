//! The export as Parquet, for engines past one machine (DuckDB, Spark, BigQuery): the export's own
//! column names, typed by the same rules the summaries use (see [`ParquetType`]), and the
//! granularity in the file's key-value metadata. Native only: the wasm module does not carry it.
//!
//! Written with the `parquet` crate's column writers, one row group per [`ROW_GROUP_ROWS`] rows,
//! Snappy-compressed, every column `OPTIONAL` (an empty cell is `NULL`).

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
use crate::schema::{Granularity, KnownColumn};
use crate::table::{Column, Data, Measure, Table};

/// The key of the file's key-value metadata that holds the export's granularity
/// (`by_user_day_client_language`, `by_user_day`, `by_user_month` or `by_user`).
pub const GRANULARITY_KEY: &str = "sg_analytics.granularity";

/// Rows per row group: large enough for engines to scan well, small enough that one group's
/// values (a few bytes a cell) stay a few tens of megabytes.
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

    /// The type of a column, from how the core reads and aggregates it (its role and measure).
    fn of(column: &Column) -> ParquetType {
        match &column.data {
            Data::Date(_) => ParquetType::Date,
            Data::Bool(_) => ParquetType::Boolean,
            Data::Text(_) => ParquetType::String,
            Data::Num(n) => match column.measure {
                Some(Measure::Sum) if n.scale == 0 && !n.is_float() => ParquetType::Int64,
                _ => ParquetType::Double,
            },
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
    /// Its days: from the month's first day up to (not including) the next month's.
    days: Option<(i32, i32)>,
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

/// Which rows a file holds.
enum Rows<'a> {
    All(usize),
    Listed(&'a [u32]),
}

impl Rows<'_> {
    fn len(&self) -> usize {
        match self {
            Rows::All(n) => *n,
            Rows::Listed(rows) => rows.len(),
        }
    }

    fn get(&self, i: usize) -> usize {
        match self {
            Rows::All(_) => i,
            Rows::Listed(rows) => rows[i] as usize,
        }
    }
}

fn parquet_error(e: parquet::errors::ParquetError) -> Error {
    Error::new(ErrorKind::Input, format!("writing Parquet: {e}"))
}

impl Table {
    /// Each column's name and Parquet type, in the export's order.
    pub fn parquet_columns(&self) -> Vec<(String, ParquetType)> {
        self.columns
            .iter()
            .map(|c| (c.name.clone(), ParquetType::of(c)))
            .collect()
    }

    /// Writes every row as one Parquet file into `out`.
    pub fn write_parquet<W: Write + Send>(&self, out: W) -> Result<(), Error> {
        self.write_rows(Rows::All(self.rows), out)
    }

    /// The table's `month=YYYY-MM` partitions, oldest first, then the rows without a date (if
    /// any). An export without dates (`by_user`) has no months: an error that says so.
    pub fn partitions(&self) -> Result<Vec<Partition>, Error> {
        let Some(dates) = self.dates() else {
            return Err(Error::query(format!(
                "this {} export has no dates to partition by month: write one file (-o FILE), \
                 or fetch the by_user_month granularity or finer",
                self.granularity
            )));
        };
        let mut months: BTreeMap<i64, usize> = BTreeMap::new();
        let mut undated = 0;
        // Rows come in runs of a month (an export is by user, then date): one lookup a run.
        let mut last: Option<(i32, i64)> = None;
        for d in dates.iter() {
            if d == NULL_DAY {
                undated += 1;
                continue;
            }
            let month = match last {
                Some((day, month)) if day == d => month,
                _ => month_number(d),
            };
            last = Some((d, month));
            *months.entry(month).or_default() += 1;
        }
        let mut partitions: Vec<Partition> = months
            .into_iter()
            .filter_map(|(number, rows)| {
                let first = month_first_day(number)?;
                let next = month_first_day(number + 1)?;
                Some(Partition {
                    month: Some(format_month(first)),
                    rows,
                    days: Some((first, next)),
                })
            })
            .collect();
        if undated > 0 {
            partitions.push(Partition {
                month: None,
                rows: undated,
                days: None,
            });
        }
        Ok(partitions)
    }

    /// Writes the rows of one partition (from [`Table::partitions`]) as one Parquet file.
    pub fn write_parquet_partition<W: Write + Send>(
        &self,
        partition: &Partition,
        out: W,
    ) -> Result<(), Error> {
        let no_dates = DayColumn::new();
        let dates = self.dates().unwrap_or(&no_dates);
        let within = |d: i32| match partition.days {
            Some((first, next)) => d != NULL_DAY && first <= d && d < next,
            None => d == NULL_DAY,
        };
        let mut rows: Vec<u32> = Vec::with_capacity(partition.rows);
        for (r, _) in dates.iter().enumerate().filter(|&(_, d)| within(d)) {
            rows.push(u32::try_from(r).map_err(|_| {
                Error::query("an export past 2^32 rows cannot be partitioned: split it first")
            })?);
        }
        self.write_rows(Rows::Listed(&rows), out)
    }

    fn write_rows<W: Write + Send>(&self, rows: Rows, out: W) -> Result<(), Error> {
        let types = self.parquet_columns();
        let fields = types
            .iter()
            .map(|(name, t)| t.parquet(name))
            .collect::<Result<Vec<_>, _>>()?;
        let schema = Type::group_type_builder("schema")
            .with_fields(fields)
            .build()
            .map_err(parquet_error)?;
        let properties = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_created_by(format!("sg-analytics {}", env!("CARGO_PKG_VERSION")))
            .set_key_value_metadata(Some(vec![KeyValue::new(
                GRANULARITY_KEY.to_string(),
                self.granularity.as_str().to_string(),
            )]))
            .build();
        let mut writer = SerializedFileWriter::new(out, Arc::new(schema), Arc::new(properties))
            .map_err(parquet_error)?;
        let mut start = 0;
        // An empty table still writes one (empty) row group, so readers see its schema.
        loop {
            let end = (start + ROW_GROUP_ROWS).min(rows.len());
            let mut group = writer.next_row_group().map_err(parquet_error)?;
            for (column, (_, t)) in self.columns.iter().zip(&types) {
                let mut chunk = group.next_column().map_err(parquet_error)?.ok_or_else(|| {
                    Error::query("writing Parquet: fewer columns than the schema")
                })?;
                let at = |i: usize| rows.get(i);
                write_column(column, *t, (start..end).map(at), &mut chunk)?;
                chunk.close().map_err(parquet_error)?;
            }
            group.close().map_err(parquet_error)?;
            start = end;
            if start >= rows.len() {
                break;
            }
        }
        writer.close().map_err(parquet_error)?;
        Ok(())
    }
}

/// Writes one column's cells of `rows` into the column chunk: the present values, and a
/// definition level per row (1 present, 0 `NULL`).
fn write_column(
    column: &Column,
    t: ParquetType,
    rows: impl ExactSizeIterator<Item = usize>,
    chunk: &mut parquet::file::writer::SerializedColumnWriter<'_>,
) -> Result<(), Error> {
    let mut levels: Vec<i16> = Vec::with_capacity(rows.len());
    macro_rules! write {
        ($kind:ty, $values:expr) => {{
            chunk
                .typed::<$kind>()
                .write_batch(&$values, Some(&levels), None)
                .map_err(parquet_error)?;
        }};
    }
    let mut present = |p: bool| levels.push(i16::from(p));
    match (&column.data, t) {
        (Data::Date(days), _) => {
            let values: Vec<i32> = rows
                .map(|r| days.get(r))
                .filter(|&d| {
                    present(d != NULL_DAY);
                    d != NULL_DAY
                })
                .collect();
            write!(Int32Type, values)
        }
        (Data::Bool(flags), _) => {
            let values: Vec<bool> = rows
                .map(|r| flags[r])
                .filter(|&b| {
                    present(b != NULL_BOOL);
                    b != NULL_BOOL
                })
                .map(|b| b == 1)
                .collect();
            write!(BoolType, values)
        }
        (Data::Text(text), _) => {
            let empty_is_null = column.known == Some(KnownColumn::Language);
            // One shared buffer per distinct value: a row's cell is a reference to it.
            let dictionary: Vec<ByteArray> = text
                .values
                .iter()
                .map(|v| ByteArray::from(v.as_str()))
                .collect();
            let values: Vec<ByteArray> = rows
                .map(|r| text.codes.get(r) as usize)
                .filter(|&code| {
                    let keep = !(empty_is_null && text.values[code].is_empty());
                    present(keep);
                    keep
                })
                .map(|code| dictionary[code].clone())
                .collect();
            write!(ByteArrayType, values)
        }
        (Data::Num(num), ParquetType::Int64) => {
            let values: Vec<i64> = rows
                .filter_map(|r| {
                    let v = num.get_whole(r);
                    present(v.is_some());
                    v
                })
                .collect();
            write!(Int64Type, values)
        }
        (Data::Num(num), _) => {
            let values: Vec<f64> = rows
                .filter_map(|r| {
                    let v = num.get(r);
                    present(v.is_some());
                    v
                })
                .collect();
            write!(DoubleType, values)
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_folder_names_read_back_as_their_months() {
        for month in ["2025-01", "1999-12"] {
            let p = Partition {
                month: Some(month.into()),
                rows: 1,
                days: None,
            };
            assert_eq!(
                Partition::month_of_dir_name(&p.dir_name()),
                Some(Some(month.into()))
            );
        }
        let undated = Partition {
            month: None,
            rows: 1,
            days: None,
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
