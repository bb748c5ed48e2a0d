//! The one summary shape every output speaks (see `DESIGN.md`).

use serde::Serialize;
use serde_json::{Map, Value};

/// Something the ingest noticed: a skipped row, or a cell that did not parse.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// The physical line the record starts on (1 is the header).
    pub line: u64,
    /// The column of a bad cell (`None` for a skipped row).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// What was expected and what was found.
    pub message: String,
}

/// The `input` part of a summary.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Input {
    pub rows: usize,
    pub skipped_rows: u64,
    pub granularity: crate::Granularity,
    pub first_date: Option<String>,
    pub last_date: Option<String>,
    pub columns: Vec<String>,
}

/// One group of a grouped summary.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Group {
    pub key: Map<String, Value>,
    #[serde(flatten)]
    pub stats: Map<String, Value>,
}

/// A summary: what went in, the totals over the kept rows, and the groups.
///
/// Structural keys are camelCase; metric keys are the export's own column names, so new columns
/// flow through untouched. Serializes (`serde`) to exactly the documented JSON shape.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub(crate) input: Input,
    pub(crate) warnings: Vec<Warning>,
    pub(crate) warnings_total: u64,
    pub(crate) totals: Map<String, Value>,
    pub(crate) groups: Vec<Group>,
    /// Groups before `offset` and `limit` were applied (for paging).
    pub(crate) groups_total: usize,
    /// The group keys, in order.
    pub(crate) group_by: Vec<String>,
    /// Metrics that cannot be recomputed exactly from the export (labelled approximate).
    pub(crate) approximate: Vec<String>,
    /// The minutes saved per feature that `hoursSaved` used.
    pub(crate) minutes_saved: Map<String, Value>,
}

impl Summary {
    /// The totals over every kept row: `rows`, `users`, `activeUsers`, `avgDau`,
    /// `avgDaysActivePerUser`, `hoursSaved`, then one entry per numeric column.
    pub fn totals(&self) -> &Map<String, Value> {
        &self.totals
    }

    /// The groups, each as `{"key": {...}, "users": ..., ...}` (the JSON of one group).
    pub fn groups(&self) -> Vec<Value> {
        self.groups
            .iter()
            .map(|g| serde_json::to_value(g).unwrap_or(Value::Null))
            .collect()
    }

    /// How many groups there were before paging.
    pub fn groups_total(&self) -> usize {
        self.groups_total
    }

    /// The summary as pretty-printed JSON, in the documented shape.
    pub fn to_json(&self) -> String {
        // Serializing maps of strings and finite numbers cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The summary as a JSON value.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}
