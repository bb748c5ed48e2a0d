//! What an export can answer, for a page to offer the right controls: [`Info`] (`info()`), the
//! input, the warnings, the group keys, the metrics and how each is computed, the default minutes
//! saved and the values a filter can choose from, all taken from the query's own rules.

use serde::Serialize;

use super::MetricKind;
use crate::attributes::AttributeChoices;
use crate::order::most_first;
use crate::summary::pairs_as_map;
use crate::table::{Input, Table};
use crate::warning::Warning;

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
    /// The metrics a chart can show per group (a picker's choices), in order: `hoursSaved`,
    /// `activeUsers` and `users` (with a user column), then each column's metric, rates
    /// included (a group's rate is the ratio of its sums).
    pub chart_metrics: Vec<String>,
    /// Every metric a grouped table can show as a column, in the summary's order (a query's
    /// `columns` choose among them; each grouping's `columnChoices` are those that mean
    /// something for it).
    pub table_columns: Vec<String>,
    /// The columns a grouped table shows by default, in order: users, active users, average
    /// DAU, days active per user (with a user column; `rows` without one), hours saved, then the
    /// headline rates and the most used features' counts this export has.
    pub default_columns: Vec<String>,
    /// The minutes saved per use of each feature this export has, by default (column name →
    /// minutes), in the order `hoursSaved` lists them.
    #[serde(serialize_with = "pairs_as_map")]
    pub default_minutes: Vec<(String, f64)>,
    /// The values a filter can choose from, most rows first.
    pub choices: Choices,
    /// The heading the page shows for each structural field (`avgDau` → `Average DAU`) and
    /// group or key field (`week` → `Week of`); a column is headed by its metric's `label`.
    #[serde(serialize_with = "pairs_as_map")]
    pub labels: Vec<(String, String)>,
    /// The headline numbers a page shows first, in order.
    pub cards: Vec<Card>,
    /// The smallest denominator a rate is shown firmly over when a query sets no `minSample`
    /// ([`super::DEFAULT_MIN_SAMPLE`]): a page's starting value for its minimum.
    pub default_min_sample: u64,
}

/// The headline numbers a page shows first: the metric, its short heading, and what it is in a
/// few words. A metric the export lacks shows as empty.
const CARDS: [(&str, &str, &str); 8] = [
    ("users", "Users", "distinct users in the kept rows"),
    ("activeUsers", "Active users", "users marked active"),
    ("avgDau", "Average DAU", "mean daily active users"),
    (
        "avgDaysActivePerUser",
        "Days active per user",
        "mean distinct days per user",
    ),
    (
        "hoursSaved",
        "Hours saved",
        "estimated, from minutes per feature",
    ),
    ("Combined CAR", "Completion acceptance", "Combined CAR"),
    (
        "Percentage of Code Written by Cody",
        "Code written by Cody",
        "share of characters written",
    ),
    (
        "Auto-edit acceptance rate",
        "Auto-edit acceptance",
        "accepted ÷ suggested",
    ),
];

/// A headline number, as [`Info`] lists it.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Card {
    /// The metric (a structural field or a column name: the key in summaries).
    pub metric: String,
    /// Its short heading on the card.
    pub label: String,
    /// What it is, in a few words.
    pub note: String,
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
    /// The heading the page and labelled CSVs show: the name, with a rate's scale
    /// (`Combined CAR (ratio 0–1)`).
    pub label: String,
    /// For a rate, the column it is a share of (`Combined Completion Suggestions` for
    /// `Combined CAR`): ask for it beside the rate and each group's `smallSample` says where it
    /// is under the minimum sample. `None` for a count, or a rate whose parts the export lacks.
    pub denominator: Option<String>,
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
    pub attributes: Vec<AttributeChoices>,
}

impl Table {
    /// What the ingest found, and what this export can answer.
    pub fn info(&self) -> Info {
        let group_keys = self.group_keys();
        let by_rows = |index: Option<usize>| {
            let column = self.text(index)?;
            let mut rows = vec![0u64; column.values.len()];
            column.codes.for_each(|_, code| rows[code as usize] += 1);
            Some(
                most_first(&rows)
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
                    Some(MetricInfo {
                        label: self.metric_label(m),
                        kind: self.metric_kind(m)?,
                        percent: self.metric_is_percent(m),
                        denominator: self.denominator(m).map(|d| self.metric_name(d).to_string()),
                        name: self.metric_name(m).to_string(),
                    })
                })
                .collect(),
            chart_metrics: self
                .chart_metrics()
                .into_iter()
                .map(|m| self.metric_name(m).to_string())
                .collect(),
            table_columns: self
                .metrics()
                .into_iter()
                .map(|m| self.metric_name(m).to_string())
                .collect(),
            default_columns: self
                .default_columns()
                .into_iter()
                .map(|m| self.metric_name(m).to_string())
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
            labels: super::spec::field_labels()
                .map(|(name, label)| (name.to_string(), label.to_string()))
                .collect(),
            cards: CARDS
                .iter()
                .map(|&(metric, label, note)| Card {
                    metric: metric.to_string(),
                    label: label.to_string(),
                    note: note.to_string(),
                })
                .collect(),
            default_min_sample: super::DEFAULT_MIN_SAMPLE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::Query;

    #[test]
    fn each_card_is_a_metric_the_core_computes_and_is_shown_once() {
        let table =
            Table::from_bytes(include_bytes!("../../tests/e2e/fixtures/by_user_day.csv")).unwrap();
        let cards = table.info().cards;
        assert_eq!(cards.len(), CARDS.len());
        for (i, card) in cards.iter().enumerate() {
            assert!(
                cards[..i].iter().all(|c| c.metric != card.metric),
                "{} twice",
                card.metric
            );
            let query = Query {
                metrics: Some(vec![card.metric.clone()]),
                ..Query::default()
            };
            let summary = table.summarize(&query);
            assert!(summary.is_ok(), "{}: {:?}", card.metric, summary.err());
            assert!(!card.label.is_empty() && !card.note.is_empty());
        }
    }
}
