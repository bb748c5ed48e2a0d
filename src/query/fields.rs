//! The fields of a group's key (a group key, or what groups by user also carry: e-mail,
//! username, the registry's flags, the first and last active day), their names and values; and
//! what a sort names, resolved to a key field or a metric.

use super::group::Grouping;
use super::spec::{Key, Metric, Sort};
use crate::column::NULL_DAY;
use crate::date::{format_day, format_month, week_start};
use crate::error::Error;
use crate::summary::Cell;
use crate::table::{Data, Table};

/// A field of a group's key: a group key, or what groups by user also carry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum KeyField {
    Key(Key),
    Email,
    Username,
    ServiceAccount,
    SiteAdmin,
    /// The group's first and last active day (groups by user, in exports with dates).
    FirstActive,
    LastActive,
}

/// Each group's first and last active day over its kept rows (a row is active when its `Active
/// Sourcegraph User` is true, or always without that column); `None` for a group never active.
pub(super) fn active_spans(table: &Table, grouping: &Grouping) -> Vec<Option<(i32, i32)>> {
    if let Some(spans) = grouping
        .rolled
        .as_ref()
        .and_then(|r| r.active_spans(grouping.len()))
    {
        return spans;
    }
    let mut spans: Vec<Option<(i32, i32)>> = vec![None; grouping.len()];
    let Some(dates) = table.dates() else {
        return spans;
    };
    let active = match table.active.map(|i| &table.columns[i].data) {
        Some(Data::Bool(b)) => Some(b),
        _ => None,
    };
    grouping.layout().for_each_row(|row, g| {
        let d = dates.get(row);
        if d == NULL_DAY || active.is_some_and(|a| a[row] != 1) {
            return;
        }
        let span = spans[g].get_or_insert((d, d));
        *span = (span.0.min(d), span.1.max(d));
    });
    spans
}

/// The first or last active day of a span, as a key cell.
pub(super) fn span_cell(field: KeyField, span: Option<(i32, i32)>) -> Cell {
    match span {
        Some((first, _)) if field == KeyField::FirstActive => Cell::Text(format_day(first)),
        Some((_, last)) => Cell::Text(format_day(last)),
        None => Cell::Null,
    }
}

impl KeyField {
    pub(super) fn name(self, table: &Table) -> &str {
        match self {
            KeyField::Key(k) => table.key_name(k),
            KeyField::Email => "email",
            KeyField::Username => "username",
            KeyField::ServiceAccount => "serviceAccount",
            KeyField::SiteAdmin => "siteAdmin",
            KeyField::FirstActive => "firstActive",
            KeyField::LastActive => "lastActive",
        }
    }

    /// The text column the field reads (`None` for dates and flags).
    pub(super) fn text_column(self, table: &Table) -> Option<usize> {
        match self {
            KeyField::Key(Key::User) => table.identity_index(),
            KeyField::Key(Key::Client) => table.client,
            KeyField::Key(Key::Language) => table.language,
            KeyField::Email => table.email,
            KeyField::Username => table.username,
            _ => None,
        }
    }

    /// The field's value on a row.
    pub(super) fn cell(self, table: &Table, row: usize) -> Cell {
        let text = |i: Option<usize>| {
            table
                .text(i)
                .map_or(Cell::Null, |t| Cell::Text(t.value(row).to_string()))
        };
        let date = table.dates().map_or(NULL_DAY, |d| d.get(row));
        let day = |f: fn(i32) -> String| {
            if date == NULL_DAY {
                Cell::Null
            } else {
                Cell::Text(f(date))
            }
        };
        let flag = |bit: u8| match (&table.user_flags, table.text(table.user_id)) {
            (Some(flags), Some(ids)) => Cell::Bool(flags[ids.codes.get(row) as usize] & bit != 0),
            _ => Cell::Null,
        };
        match self {
            KeyField::Key(Key::Attribute(a)) => {
                let value = table.identity().zip(table.attributes.as_ref()).and_then(
                    |(users, attributes)| attributes.value(usize::from(a), users.codes.get(row)),
                );
                value.map_or(Cell::Null, |v| Cell::Text(v.to_string()))
            }
            KeyField::Key(Key::Day) => day(format_day),
            KeyField::Key(Key::Week) => day(|d| format_day(week_start(d))),
            KeyField::Key(Key::Month) => day(format_month),
            KeyField::ServiceAccount => flag(1),
            KeyField::SiteAdmin => flag(2),
            text_field => text(text_field.text_column(table)),
        }
    }
}

/// The fields of each group's key: the group keys in order; after `user`, when the export has
/// user IDs, the e-mail and username, and with a joined registry the service-account and
/// site-admin flags.
pub(super) fn key_fields(table: &Table, keys: &[Key]) -> Vec<KeyField> {
    let mut fields = Vec::new();
    for &key in keys {
        fields.push(KeyField::Key(key));
        if key == Key::User && table.user_id.is_some() {
            if table.email.is_some() {
                fields.push(KeyField::Email);
            }
            if table.username.is_some() {
                fields.push(KeyField::Username);
            }
            if table.user_flags.is_some() {
                fields.extend([KeyField::ServiceAccount, KeyField::SiteAdmin]);
            }
        }
        if key == Key::User && table.date.is_some() {
            fields.extend([KeyField::FirstActive, KeyField::LastActive]);
        }
    }
    fields
}

/// What a sort names, resolved.
pub(super) enum SortBy {
    Key(KeyField, bool),
    Metric(Metric, bool),
}

pub(super) fn resolve_sort(
    table: &Table,
    fields: &[KeyField],
    sort: &Sort,
) -> Result<SortBy, Error> {
    let name = sort.by.trim();
    if let Some(&field) = fields.iter().find(|f| f.name(table) == name) {
        return Ok(SortBy::Key(field, sort.desc));
    }
    let metrics = table.metrics();
    if let Some(&metric) = metrics.iter().find(|&&m| table.metric_name(m) == name) {
        return Ok(SortBy::Metric(metric, sort.desc));
    }
    let mut known: Vec<&str> = fields.iter().map(|f| f.name(table)).collect();
    known.extend(metrics.iter().map(|&m| table.metric_name(m)));
    Err(Error::query(format!(
        "cannot sort by {name:?}: expected a group key or a metric ({})",
        known.join(", ")
    )))
}
