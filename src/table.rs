//! The columnar report an [`Ingester`](crate::Ingester) builds.

use serde::Serialize;

use crate::column::{NumColumn, TextColumn, NULL_DAY};
use crate::date::format_day;
use crate::error::Error;
use crate::ingest::Ingester;
use crate::query::MetricKind;
use crate::registry::Registry;
use crate::schema::{header_says_percent, Granularity, KnownColumn};
use crate::summary::Warning;
use crate::verbatim::Verbatim;

/// A column's cells.
#[derive(Clone, Debug)]
pub(crate) enum Data {
    Text(TextColumn),
    /// `0` false, `1` true, `NULL_BOOL` empty.
    Bool(Vec<u8>),
    /// Day numbers, `NULL_DAY` empty.
    Date(Vec<i32>),
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
    pub(crate) attributes: Option<crate::attributes::Attributes>,
}

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

/// What the ingest found, and what this export can answer: everything a page needs to offer
/// the right controls without keeping a copy of the core's rules.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Info {
    /// What went in (the same as every summary's `input`).
    #[serde(flatten)]
    pub input: Input,
    /// The first warnings (at most [`Table::MAX_WARNINGS`]).
    pub warnings: Vec<Warning>,
    /// How many warnings there were in all.
    pub warnings_total: u64,
    /// The group keys this export can provide (`user`, `day`, `week`, `month`, `client`,
    /// `language`), in that order.
    pub group_keys: Vec<String>,
    /// The columns of a joined people file (group keys and `filter.attributes`), in its order.
    pub attributes: Vec<String>,
    /// The time keys among them (`day`, `week`, `month`), finest first.
    pub time_keys: Vec<String>,
    /// Each numeric column's metric and how it is computed, in the export's order.
    pub metrics: Vec<MetricInfo>,
    /// The minutes saved per use of each feature this export has, by default (column name →
    /// minutes), in the order `hoursSaved` lists them.
    #[serde(serialize_with = "crate::summary::pairs_as_map")]
    pub default_minutes: Vec<(String, f64)>,
    /// The values a filter can choose from, most rows first.
    pub choices: Choices,
}

/// A column's metric, as [`Info`] lists it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct MetricInfo {
    /// The column's reported name (the key in summaries).
    pub name: String,
    /// How it aggregates.
    pub kind: MetricKind,
    /// The value is a percentage (0–100) rather than a ratio (0–1) or a count.
    pub percent: bool,
}

/// The values a filter can choose from.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct Choices {
    /// Every `Client Name`, most rows first (`None` without the column).
    pub clients: Option<Vec<String>>,
    /// Every `Language` (`""` for rows without one), most rows first.
    pub languages: Option<Vec<String>>,
    /// Per column of a joined people file, in its order: the values its users have (empty
    /// without a people file).
    pub attributes: Vec<crate::attributes::AttributeChoices>,
}

impl Serialize for Granularity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl Table {
    /// How many warnings are kept with their details; the rest are only counted.
    pub const MAX_WARNINGS: usize = 1000;

    /// Parses a whole export held in memory.
    pub fn from_bytes(data: &[u8]) -> Result<Table, Error> {
        let mut ingester = Ingester::new();
        ingester.expect_bytes(data.len() as u64);
        for chunk in data.chunks(1 << 20) {
            ingester.push(chunk)?;
        }
        ingester.finish()
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

    /// What the ingest found, and what this export can answer.
    pub fn info(&self) -> Info {
        let group_keys = self.group_keys();
        let by_rows = |index: Option<usize>| {
            let column = self.text(index)?;
            let mut rows = vec![0u64; column.values.len()];
            column.codes.for_each(|_, code| rows[code as usize] += 1);
            Some(
                crate::order::most_first(&rows)
                    .into_iter()
                    .map(|c| column.values[c].clone())
                    .collect(),
            )
        };
        Info {
            input: self.input(),
            warnings: self.warnings.clone(),
            warnings_total: self.warnings_total,
            time_keys: group_keys
                .iter()
                .filter(|k| k.is_time())
                .map(|&k| self.key_name(k).to_string())
                .collect(),
            group_keys: group_keys
                .iter()
                .map(|&k| self.key_name(k).to_string())
                .collect(),
            attributes: self
                .attributes
                .as_ref()
                .map_or_else(Vec::new, |a| a.names.clone()),
            metrics: self
                .metrics()
                .into_iter()
                .filter_map(|m| {
                    let kind = self.metric_kind(m)?;
                    let name = self.metric_name(m).to_string();
                    let percent = kind != MetricKind::Count
                        && kind != MetricKind::Unknown
                        && header_says_percent(&name);
                    Some(MetricInfo {
                        name,
                        kind,
                        percent,
                    })
                })
                .collect(),
            default_minutes: self
                .default_minutes()
                .into_iter()
                .map(|(i, m)| (self.columns[i].name.clone(), m))
                .collect(),
            choices: Choices {
                clients: by_rows(self.client),
                languages: by_rows(self.language),
                attributes: self.attribute_choices(),
            },
        }
    }

    /// Bytes of heap the table's cells take (dictionaries included), for memory measurements.
    pub fn heap_bytes(&self) -> usize {
        self.columns
            .iter()
            .map(|c| {
                c.verbatim.heap_bytes()
                    + match &c.data {
                        Data::Text(t) => t.heap_bytes(),
                        Data::Bool(v) => v.capacity(),
                        Data::Date(v) => v.capacity() * 4,
                        Data::Num(n) => n.heap_bytes(),
                    }
            })
            .sum()
    }

    /// Joins a user registry: service accounts can then be excluded by the filter
    /// (`excludeServiceAccounts`) and site admins are marked in groups by user. Users are matched
    /// by `Instance user ID`; returns how many of the report's users the registry knows.
    pub fn join_registry(&mut self, registry: &Registry) -> usize {
        let Some(Data::Text(ids)) = self.user_id.map(|i| &self.columns[i].data) else {
            return 0;
        };
        let mut known = 0;
        let flags = ids
            .values
            .iter()
            .map(|id| match registry.flags(id) {
                Some(f) => {
                    known += 1;
                    f
                }
                None => 0,
            })
            .collect();
        self.user_flags = Some(flags);
        known
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

    pub(crate) fn dates(&self) -> Option<&[i32]> {
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
            for row in 0..self.rows {
                let u = identity.codes.get(row);
                if u != previous {
                    if std::mem::replace(&mut seen[u as usize], true) {
                        contiguous = false;
                        break;
                    }
                    (previous, last_day) = (u, i32::MIN);
                }
                let d = dates.map_or(NULL_DAY, |d| d[row]);
                if d != NULL_DAY {
                    sorted &= d >= last_day;
                    last_day = d;
                }
            }
        }
        self.users_contiguous = contiguous;
        self.dates_sorted_within_users = contiguous && sorted;
    }

    /// Recomputes the first and last date.
    pub(crate) fn compute_date_range(&mut self) {
        let range = self.dates().and_then(|d| {
            let mut it = d.iter().copied().filter(|&x| x != NULL_DAY);
            let first = it.next()?;
            Some(it.fold((first, first), |(lo, hi), x| (lo.min(x), hi.max(x))))
        });
        (self.first_date, self.last_date) = match range {
            Some((lo, hi)) => (Some(lo), Some(hi)),
            None => (None, None),
        };
    }
}
