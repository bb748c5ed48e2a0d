//! The summary of a query assembled from its answers (totals, groups, the previous range) and
//! what the table says of them: one shape, whether the answers were computed in memory or chunk
//! by chunk.

use crate::date::format_day;
use crate::summary::{Cell, Group, LastPeriods, Previous, ServiceAccounts, Summary};
use crate::table::Table;

use super::fields::KeyField;
use super::spec::{self, Key, Metric, MetricKind, Query, DEFAULT_MIN_SAMPLE};

/// What a summary answers, computed (in memory, or chunk by chunk).
pub(super) struct Answers<'a> {
    pub(super) keys: &'a [Key],
    pub(super) fields: &'a [KeyField],
    pub(super) metrics: &'a [Metric],
    /// The query's `columns` ([`Table::requested_columns`]).
    pub(super) columns: Option<Vec<Metric>>,
    pub(super) minutes: &'a [(usize, f64)],
    pub(super) totals: Vec<Cell>,
    pub(super) groups: Vec<Group>,
    pub(super) groups_total: usize,
    pub(super) previous: Option<Previous>,
    pub(super) last_periods: Option<LastPeriods>,
    pub(super) service_accounts: Option<ServiceAccounts>,
}

/// The summary of `table` for `query`: the answers with what the table says of them (input,
/// warnings, names, approximate metrics, minutes, denominators).
pub(super) fn assemble(table: &Table, query: &Query, a: Answers) -> Summary {
    let per_group: Vec<bool> = a.metrics.iter().map(|m| m.per_group(a.keys)).collect();
    // The columns asked for that mean something per group; none of them, the default ones.
    let among = |wanted: &[Metric]| -> Vec<bool> {
        a.metrics
            .iter()
            .zip(&per_group)
            .map(|(m, &meant)| meant && wanted.contains(m))
            .collect()
    };
    let carried = match &a.columns {
        None => per_group.clone(),
        Some(wanted) => {
            let chosen = among(wanted);
            if chosen.contains(&true) {
                chosen
            } else {
                among(&table.default_columns())
            }
        }
    };
    Summary {
        input: table.input(),
        warnings: query.include_warnings.then(|| table.warnings.clone()),
        warnings_total: table.warnings_total,
        metrics: a
            .metrics
            .iter()
            .map(|&m| table.metric_name(m).to_string())
            .collect(),
        totals: a.totals,
        per_group,
        carried,
        key_names: a.fields.iter().map(|f| f.name(table).to_string()).collect(),
        groups: a.groups,
        groups_total: a.groups_total,
        group_by: a
            .keys
            .iter()
            .map(|&k| table.key_name(k).to_string())
            .collect(),
        approximate: table
            .metrics()
            .into_iter()
            .filter(|&m| table.metric_kind(m) == Some(MetricKind::Approximate))
            .map(|m| table.metric_name(m).to_string())
            .collect(),
        minutes_saved: a
            .minutes
            .iter()
            .map(|&(i, m)| (table.columns[i].name.clone(), m))
            .collect(),
        previous: a.previous,
        last_periods: a.last_periods,
        min_sample: query.min_sample.unwrap_or(DEFAULT_MIN_SAMPLE),
        denominators: a
            .metrics
            .iter()
            .enumerate()
            .filter_map(|(at, &m)| {
                let d = table.denominator(m)?;
                Some((at, a.metrics.iter().position(|&n| n == d)?))
            })
            .collect(),
        service_accounts: a.service_accounts,
        filter: query.filter.clone(),
        range: {
            // The filter's dates (checked when it was resolved), else the data's.
            let day =
                |d: &Option<String>| d.as_deref().and_then(|d| crate::date::parse_day(d.trim()));
            day(&query.filter.from)
                .or(table.first_date)
                .zip(day(&query.filter.to).or(table.last_date))
                .map(|(from, to)| (format_day(from), format_day(to)))
        },
        labels: a
            .fields
            .iter()
            .map(|f| {
                let name = f.name(table);
                spec::field_label(name)
                    .filter(|_| !matches!(f, KeyField::Key(Key::Attribute(_))))
                    .map_or_else(|| name.to_string(), str::to_string)
            })
            .chain(a.metrics.iter().map(|&m| table.metric_label(m)))
            .collect(),
        headers: query.headers,
    }
}
