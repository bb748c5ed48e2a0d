//! The columnar report: an export's columns of typed cells, the roles of its columns, what the
//! ingest noticed and what joins added. The ingester builds it; the queries, the joins and the
//! writers read it, each from its own module; this file imports none of them.

use serde::Serialize;

use crate::column::{
    cells_or, Chunked, Codes, DayColumn, FxHashMap, NumColumn, TextColumn, NULL_DAY,
};
use crate::date::format_day;
use crate::schema::{Granularity, KnownColumn};
use crate::verbatim::Verbatim;
use crate::warning::Warning;

/// A column's cells.
#[derive(Clone, Debug)]
pub(crate) enum Data {
    Text(TextColumn),
    /// `0` false, `1` true, `NULL_BOOL` empty.
    Bool(Chunked<u8>),
    /// Day numbers, `NULL_DAY` empty.
    Date(DayColumn),
    Num(NumColumn),
}

pub(crate) use crate::schema::Measure;

/// One column of the report.
#[derive(Clone, Debug)]
pub(crate) struct Column {
    /// The name it is reported under: canonical for known columns, the trimmed header otherwise.
    pub name: String,
    /// The header as written (BOM dropped), for writing the original rows back.
    pub header: String,
    pub known: Option<KnownColumn>,
    pub data: Data,
    /// For numeric columns: how they aggregate (`None` for text, dates, booleans).
    pub measure: Option<Measure>,
    /// How its cells were written, to write kept rows back as they were read.
    pub verbatim: Verbatim,
}

impl Column {
    /// Bytes of heap the column's cells take (its dictionary and kept text included).
    fn heap_bytes(&self) -> usize {
        self.verbatim.heap_bytes()
            + match &self.data {
                Data::Text(t) => t.heap_bytes(),
                Data::Bool(v) => v.heap_bytes(),
                Data::Date(v) => v.heap_bytes(),
                Data::Num(n) => n.heap_bytes(),
            }
    }
}

impl Data {
    /// How the cells are stored, in a few words (for memory measurements).
    fn storage(&self) -> String {
        match self {
            Data::Text(t) => format!(
                "text, {} values, codes {}",
                t.values.len(),
                t.codes.storage()
            ),
            Data::Bool(_) => "booleans, u8".into(),
            Data::Date(d) => d.storage().into(),
            Data::Num(n) => format!("numbers, {}", n.storage()),
        }
    }
}

/// A parsed export: columns of typed cells, plus what the ingest noticed.
#[derive(Clone, Debug)]
pub struct Table {
    pub(crate) columns: Vec<Column>,
    pub(crate) rows: usize,
    pub(crate) skipped_rows: u64,
    pub(crate) warnings: Vec<Warning>,
    pub(crate) warnings_total: u64,
    pub(crate) granularity: Granularity,
    /// Indexes of the columns with a role in queries.
    pub(crate) user_id: Option<usize>,
    pub(crate) email: Option<usize>,
    pub(crate) username: Option<usize>,
    pub(crate) active: Option<usize>,
    pub(crate) client: Option<usize>,
    pub(crate) language: Option<usize>,
    pub(crate) date: Option<usize>,
    pub(crate) first_date: Option<i32>,
    pub(crate) last_date: Option<i32>,
    /// From a joined user registry: per code of the identity column, bit 0 service account,
    /// bit 1 site admin.
    pub(crate) user_flags: Option<Vec<u8>>,
    /// Each user's rows are contiguous (as exports are written): distinct counts need no sets.
    pub(crate) users_contiguous: bool,
    /// ... and within each user's rows, dates never go back.
    pub(crate) dates_sorted_within_users: bool,
    /// A joined people file: attributes per user (group keys and filters).
    pub(crate) attributes: Option<Attributes>,
}

/// The joined attributes, per user of the report.
#[derive(Clone, Debug)]
pub(crate) struct Attributes {
    /// The attributes' names (the file's headers, as written).
    pub names: Vec<String>,
    /// Per attribute: its distinct values, in order of first appearance in the file.
    pub values: Vec<Vec<String>>,
    /// Per attribute: per code of the report's identity column, the index of the user's value, or
    /// [`UNMAPPED`].
    pub of_user: Vec<Vec<u32>>,
    /// When the file is keyed by user ID: per ID, each attribute's value index (or
    /// [`UNMAPPED`]), so that users absent from the export (a registry's) can be looked up.
    pub by_id: Option<FxHashMap<String, Vec<u32>>>,
}

impl Attributes {
    /// The attribute named `name` (as written).
    pub fn find(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name.trim())
    }

    /// The value of attribute `a` for the user with identity code `user`.
    pub fn value(&self, a: usize, user: u32) -> Option<&str> {
        let v = self.of_user[a][user as usize];
        (v != UNMAPPED).then(|| self.values[a][v as usize].as_str())
    }

    /// The value of attribute `a` for the user with this ID, whether or not the export has them;
    /// `None` when the file has no value for them or is not keyed by user ID.
    pub fn value_by_id(&self, a: usize, id: &str) -> Option<&str> {
        let v = *self.by_id.as_ref()?.get(id.trim())?.get(a)?;
        (v != UNMAPPED).then(|| self.values[a][v as usize].as_str())
    }
}

/// The value index of a user without one.
pub(crate) const UNMAPPED: u32 = u32::MAX;

/// What went in: the `input` part of every summary.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    /// Data rows kept.
    pub rows: usize,
    /// Rows skipped (wrong number of fields), each reported in the warnings.
    pub skipped_rows: u64,
    /// The export's granularity, detected from its header.
    pub granularity: Granularity,
    /// The first date in the data (`YYYY-MM-DD`), if the export has dates.
    pub first_date: Option<String>,
    /// The last date in the data (`YYYY-MM-DD`).
    pub last_date: Option<String>,
    /// The columns, in the export's order, under their reported names.
    pub columns: Vec<String>,
}

impl Table {
    /// How many warnings are kept with their details; the rest are only counted.
    pub const MAX_WARNINGS: usize = crate::warning::MAX_WARNINGS;

    /// The same columns, without their cells (empty columns of the same types, a number
    /// column at its scale), nor rows, warnings, registry or people file.
    pub(crate) fn without_rows(&self) -> Table {
        let columns = self
            .columns
            .iter()
            .map(|c| Column {
                name: c.name.clone(),
                header: c.header.clone(),
                known: c.known,
                data: match &c.data {
                    Data::Text(_) => Data::Text(TextColumn::new()),
                    Data::Bool(_) => Data::Bool(Chunked::new()),
                    Data::Date(_) => Data::Date(DayColumn::new()),
                    Data::Num(n) => Data::Num(n.emptied()),
                },
                measure: c.measure,
                verbatim: Verbatim::new(),
            })
            .collect();
        Table {
            columns,
            rows: 0,
            skipped_rows: 0,
            warnings: Vec::new(),
            warnings_total: 0,
            granularity: self.granularity,
            user_id: self.user_id,
            email: self.email,
            username: self.username,
            active: self.active,
            client: self.client,
            language: self.language,
            date: self.date,
            first_date: None,
            last_date: None,
            user_flags: None,
            users_contiguous: false,
            dates_sorted_within_users: false,
            attributes: None,
        }
    }

    /// Data rows kept.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// The export's granularity, detected from its header.
    pub fn granularity(&self) -> Granularity {
        self.granularity
    }

    /// The warnings kept (at most [`Table::MAX_WARNINGS`]).
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// What went in.
    pub(crate) fn input(&self) -> Input {
        Input {
            rows: self.rows,
            skipped_rows: self.skipped_rows,
            granularity: self.granularity,
            first_date: self.first_date.map(format_day),
            last_date: self.last_date.map(format_day),
            columns: self.columns.iter().map(|c| c.name.clone()).collect(),
        }
    }

    /// Bytes of heap the table's cells take (dictionaries included), for memory measurements.
    pub fn heap_bytes(&self) -> usize {
        self.columns.iter().map(Column::heap_bytes).sum()
    }

    /// Where [`Table::heap_bytes`] goes: per column, its name, how its cells are stored and its
    /// bytes, for memory measurements.
    #[doc(hidden)]
    pub fn heap_bytes_by_column(&self) -> Vec<(String, String, usize)> {
        self.columns
            .iter()
            .map(|c| (c.name.clone(), c.data.storage(), c.heap_bytes()))
            .collect()
    }

    pub(crate) fn column(&self, known: KnownColumn) -> Option<usize> {
        self.columns.iter().position(|c| c.known == Some(known))
    }

    pub(crate) fn text(&self, index: Option<usize>) -> Option<&TextColumn> {
        match index.map(|i| &self.columns[i].data) {
            Some(Data::Text(t)) => Some(t),
            _ => None,
        }
    }

    pub(crate) fn dates(&self) -> Option<&DayColumn> {
        match self.date.map(|i| &self.columns[i].data) {
            Some(Data::Date(d)) => Some(d),
            _ => None,
        }
    }

    /// The identity column: `Instance user ID`, else e-mail, else username.
    pub(crate) fn identity(&self) -> Option<&TextColumn> {
        self.text(self.identity_index())
    }

    /// The index of the identity column.
    pub(crate) fn identity_index(&self) -> Option<usize> {
        [self.user_id, self.email, self.username]
            .into_iter()
            .find(|&i| self.text(i).is_some())
            .flatten()
    }

    /// Finds out whether each user's rows are contiguous, and dated in order within them.
    pub(crate) fn compute_order(&mut self) {
        let (mut contiguous, mut sorted) = (false, false);
        if let Some(identity) = self.identity() {
            let dates = self.dates();
            let mut seen = vec![false; identity.values.len()];
            let (mut previous, mut last_day) = (u32::MAX, i32::MIN);
            contiguous = true;
            sorted = true;
            let days = cells_or(dates.map(|d| d.iter()), NULL_DAY, self.rows);
            for (u, d) in identity.codes.iter().zip(days) {
                if u != previous {
                    if std::mem::replace(&mut seen[u as usize], true) {
                        contiguous = false;
                        break;
                    }
                    (previous, last_day) = (u, i32::MIN);
                }
                if d != NULL_DAY {
                    sorted &= d >= last_day;
                    last_day = d;
                }
            }
        }
        self.users_contiguous = contiguous;
        self.dates_sorted_within_users = contiguous && sorted;
    }

    /// Keeps the e-mail and username columns as one value per user when each user has one (as
    /// exports are written): their codes per row go, and they read the user ID column's codes
    /// through a map. Left as they are otherwise.
    pub(crate) fn share_user_codes(&mut self) {
        let Some(id) = self.user_id.filter(|_| self.text(self.user_id).is_some()) else {
            return;
        };
        let users = match &self.columns[id].data {
            Data::Text(t) => t.values.len(),
            _ => return,
        };
        let mut shared: Option<std::sync::Arc<Codes>> = None;
        for column in [self.email, self.username].into_iter().flatten() {
            let (Data::Text(ids), Data::Text(c)) =
                (&self.columns[id].data, &self.columns[column].data)
            else {
                continue;
            };
            let mut map = vec![u32::MAX; users];
            let mut functional = true;
            for (u, code) in ids.codes.iter().zip(c.codes.iter()) {
                let u = u as usize;
                if map[u] == u32::MAX {
                    map[u] = code;
                } else if map[u] != code {
                    functional = false;
                    break;
                }
            }
            if !functional {
                continue;
            }
            let users = match &mut shared {
                Some(codes) => codes.clone(),
                None => {
                    let Data::Text(ids) = &mut self.columns[id].data else {
                        continue;
                    };
                    let codes = std::sync::Arc::new(std::mem::replace(
                        &mut ids.codes,
                        Codes::U8(crate::column::packed::Cells::new()),
                    ));
                    ids.codes = Codes::Shared(codes.clone());
                    shared.insert(codes).clone()
                }
            };
            if let Data::Text(c) = &mut self.columns[column].data {
                c.codes = Codes::PerUser { users, map };
            }
        }
    }

    /// Recomputes the first and last date.
    pub(crate) fn compute_date_range(&mut self) {
        let range = self.dates().and_then(|d| {
            let mut it = d.iter().filter(|&x| x != NULL_DAY);
            let first = it.next()?;
            Some(it.fold((first, first), |(lo, hi), x| (lo.min(x), hi.max(x))))
        });
        (self.first_date, self.last_date) = match range {
            Some((lo, hi)) => (Some(lo), Some(hi)),
            None => (None, None),
        };
    }
}
