//! The one summary shape every output speaks (docs/numbers.md). Values stay typed until here:
//! a summary becomes JSON only when it is serialized.

use serde::ser::{SerializeMap, SerializeStruct};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::query::spec::{Filter, Headers};
use crate::table::Input;
use crate::warning::Warning;

/// One value of a summary: a metric or a key field, typed (JSON only at the edge).
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// No value: a ratio without a denominator, a people-file attribute a user has no line for.
    Null,
    /// A count or an integer key (a JSON number, written as the nearest float beyond 2^53).
    Int(i64),
    /// A rate, an average or a sum of fractions.
    Float(f64),
    /// A text key: a user, a date, a client.
    Text(String),
    /// A flag.
    Bool(bool),
}

/// Integers beyond this lose precision as a JSON (JavaScript) number: they are written as the
/// nearest float rather than refused.
const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

impl Cell {
    /// A float; `Null` for a non-finite value (which every ratio's check on its denominator
    /// rules out). A negative zero (the sum of no terms, in Rust) is written as `0.0`: no answer
    /// says "-0".
    pub(crate) fn float(x: f64) -> Cell {
        if x.is_finite() {
            Cell::Float(x + 0.0)
        } else {
            Cell::Null
        }
    }

    /// The value as a number, for sorting (`None` for null, text and booleans).
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Cell::Int(x) => Some(x as f64),
            Cell::Float(x) => Some(x),
            _ => None,
        }
    }
}

impl Serialize for Cell {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Cell::Null => s.serialize_none(),
            Cell::Int(x) if x.unsigned_abs() <= MAX_SAFE_INTEGER as u64 => s.serialize_i64(*x),
            Cell::Int(x) => s.serialize_f64(*x as f64),
            Cell::Float(x) => s.serialize_f64(*x),
            Cell::Text(t) => s.serialize_str(t),
            Cell::Bool(b) => s.serialize_bool(*b),
        }
    }
}

/// One group of a grouped summary: its key fields' values and its metrics' values, in the
/// summary's order of names ([`Summary::key_names`], [`Summary::metrics`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// The key fields' values.
    pub key: Vec<Cell>,
    /// The metrics' values.
    pub values: Vec<Cell>,
}

/// A summary: what went in, the totals over the kept rows, and the groups.
///
/// Structural keys are camelCase; metric keys are the export's own column names, so new columns
/// flow through untouched. Serializes (`serde`) to exactly the documented JSON shape.
#[derive(Clone, Debug)]
pub struct Summary {
    pub(crate) input: Input,
    /// `None` when the query left them out.
    pub(crate) warnings: Option<Vec<Warning>>,
    pub(crate) warnings_total: u64,
    /// The names of the metrics, in the order of `totals` and of each group's values.
    pub(crate) metrics: Vec<String>,
    pub(crate) totals: Vec<Cell>,
    /// Per metric (in the order of `metrics`): whether it means something for each group of
    /// this grouping (`users` does not per user).
    pub(crate) per_group: Vec<bool>,
    /// Per metric: whether the groups carry it (it means something per group, and the query's
    /// `columns` choose it).
    pub(crate) carried: Vec<bool>,
    /// The names of the key fields, in the order of each group's key.
    pub(crate) key_names: Vec<String>,
    pub(crate) groups: Vec<Group>,
    /// Groups before `offset` and `limit` were applied (for paging).
    pub(crate) groups_total: usize,
    /// The group keys, in order.
    pub(crate) group_by: Vec<String>,
    /// Metrics that cannot be recomputed exactly from the export (labelled approximate).
    pub(crate) approximate: Vec<String>,
    /// The minutes saved per feature that `hoursSaved` used.
    pub(crate) minutes_saved: Vec<(String, f64)>,
    /// With `compare: "previous"`: the previous range and the totals over it.
    pub(crate) previous: Option<Previous>,
    /// With `compare: "lastPeriods"`: the totals over the last two periods the range covers
    /// whole.
    pub(crate) last_periods: Option<LastPeriods>,
    /// The smallest denominator a rate is shown firmly over.
    pub(crate) min_sample: u64,
    /// Each rate with a denominator among the metrics: (the rate's, the denominator's position in
    /// `metrics`).
    pub(crate) denominators: Vec<(usize, usize)>,
    /// With a joined user registry: what the filter did with its service accounts.
    pub(crate) service_accounts: Option<ServiceAccounts>,
    /// The filter asked for, as given (a download records what it shows).
    pub(crate) filter: Filter,
    /// The first and last day the figures cover (`YYYY-MM-DD`): the filter's dates, else the
    /// data's; `None` for an export without dates.
    pub(crate) range: Option<(String, String)>,
    /// The heading the page shows for each key field, then each metric (in the order of
    /// [`Summary::key_names`] and [`Summary::metrics`]), with a rate's scale.
    pub(crate) labels: Vec<String>,
    /// Whether the CSV's header is the names or the labels.
    pub(crate) headers: Headers,
}

/// What a filter did with the service accounts of a joined user registry: the summary's
/// `serviceAccounts`, present only when a registry is joined.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ServiceAccounts {
    /// Whether they were left out (the default with a registry) or counted.
    pub excluded: bool,
    /// How many distinct service accounts have a row the filter's other conditions keep: the
    /// users left out, or counted.
    pub users: usize,
}

/// The totals of the same query over the range before the query's.
#[derive(Clone, Debug)]
pub struct Previous {
    /// The previous range's first day, `YYYY-MM-DD`.
    pub from: String,
    /// Its last day.
    pub to: String,
    /// The totals over it, in the order of [`Summary::metrics`].
    pub totals: Vec<Cell>,
}

/// The totals of the same query over the last two periods its range covers whole (the last
/// complete period and the one before), each as [`PeriodTotals`].
#[derive(Clone, Debug)]
pub struct LastPeriods {
    /// Whether the periods are months or weeks.
    pub period: crate::query::period::Period,
    /// The period before the last complete one.
    pub before: PeriodTotals,
    /// The last complete period.
    pub latest: PeriodTotals,
}

/// One period of [`LastPeriods`]: its key (`YYYY-MM` or the Monday's `YYYY-MM-DD`), its days
/// and the totals over them.
#[derive(Clone, Debug)]
pub struct PeriodTotals {
    /// The period's key.
    pub period: String,
    /// Its first and last day and the totals over them.
    pub totals: Previous,
}

struct LastPeriodsJson<'a>(&'a Summary, &'a LastPeriods);

impl Serialize for LastPeriodsJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut out = s.serialize_struct("LastPeriods", 3)?;
        out.serialize_field("period", &self.1.period)?;
        out.serialize_field("before", &PeriodJson(self.0, &self.1.before))?;
        out.serialize_field("latest", &PeriodJson(self.0, &self.1.latest))?;
        out.end()
    }
}

struct PeriodJson<'a>(&'a Summary, &'a PeriodTotals);

impl Serialize for PeriodJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut out = s.serialize_struct("PeriodTotals", 3)?;
        out.serialize_field("period", &self.1.period)?;
        let p = &self.1.totals;
        out.serialize_field(
            "range",
            &Range {
                from: &p.from,
                to: &p.to,
            },
        )?;
        out.serialize_field("totals", &Fields(&self.0.metrics, &p.totals))?;
        out.end()
    }
}

/// A range of days, as JSON.
#[derive(Serialize)]
struct Range<'a> {
    from: &'a str,
    to: &'a str,
}

struct PreviousJson<'a>(&'a Summary, &'a Previous);

impl Serialize for PreviousJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut out = s.serialize_struct("Previous", 2)?;
        out.serialize_field(
            "range",
            &Range {
                from: &self.1.from,
                to: &self.1.to,
            },
        )?;
        out.serialize_field("totals", &Fields(&self.0.metrics, &self.1.totals))?;
        out.end()
    }
}

/// Names zipped with values, serialized as one JSON object.
pub(crate) struct Fields<'a, V: Serialize>(pub &'a [String], pub &'a [V]);

impl<V: Serialize> Serialize for Fields<'_, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (name, value) in self.0.iter().zip(self.1) {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// `(name, value)` pairs serialized as one JSON object, in order.
pub(crate) fn pairs_as_map<S: Serializer, V: Serialize>(
    pairs: &[(String, V)],
    s: S,
) -> Result<S::Ok, S::Error> {
    let mut map = s.serialize_map(Some(pairs.len()))?;
    for (name, value) in pairs {
        map.serialize_entry(name, value)?;
    }
    map.end()
}

/// A group as JSON: `{"key": {...}, metric: value, ...}`.
struct GroupJson<'a> {
    summary: &'a Summary,
    group: &'a Group,
}

impl Serialize for GroupJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let summary = self.summary;
        let names = &summary.metrics;
        let mut map = s.serialize_map(Some(names.len() + 2))?;
        map.serialize_entry("key", &Fields(&summary.key_names, &self.group.key))?;
        for ((name, value), _) in names
            .iter()
            .zip(&self.group.values)
            .zip(&summary.carried)
            .filter(|(_, &shown)| shown)
        {
            map.serialize_entry(name, value)?;
        }
        if !summary.denominators.is_empty() {
            map.serialize_entry(
                "smallSample",
                &summary.group_small_sample(&self.group.values),
            )?;
        }
        map.end()
    }
}

struct Groups<'a>(&'a Summary);

impl Serialize for Groups<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.groups.iter().map(|group| GroupJson {
            summary: self.0,
            group,
        }))
    }
}

/// `(name, value)` pairs as one JSON object.
struct Pairs<'a, V: Serialize>(&'a [(String, V)]);

impl<V: Serialize> Serialize for Pairs<'_, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        pairs_as_map(self.0, s)
    }
}

struct Minutes<'a>(&'a [(String, f64)]);

impl Serialize for Minutes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        pairs_as_map(self.0, s)
    }
}

impl Serialize for Summary {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut out = s.serialize_struct("Summary", 19)?;
        out.serialize_field("input", &self.input)?;
        match &self.warnings {
            Some(warnings) => out.serialize_field("warnings", warnings)?,
            None => out.skip_field("warnings")?,
        }
        out.serialize_field("warningsTotal", &self.warnings_total)?;
        out.serialize_field("totals", &Fields(&self.metrics, &self.totals))?;
        out.serialize_field("groups", &Groups(self))?;
        out.serialize_field("groupsTotal", &self.groups_total)?;
        out.serialize_field("groupBy", &self.group_by)?;
        out.serialize_field("groupMetrics", &self.group_metrics())?;
        out.serialize_field("columnChoices", &self.column_choices())?;
        out.serialize_field("approximate", &self.approximate)?;
        out.serialize_field("minutesSaved", &Minutes(&self.minutes_saved))?;
        out.serialize_field("minSample", &self.min_sample)?;
        let denominators: Vec<(String, &String)> = self
            .denominators
            .iter()
            .map(|&(rate, d)| (self.metrics[rate].clone(), &self.metrics[d]))
            .collect();
        out.serialize_field("denominators", &Pairs(&denominators))?;
        out.serialize_field("smallSample", &self.small_sample(&self.totals))?;
        match &self.previous {
            Some(previous) => out.serialize_field("previous", &PreviousJson(self, previous))?,
            None => out.skip_field("previous")?,
        }
        match &self.last_periods {
            Some(last) => out.serialize_field("lastPeriods", &LastPeriodsJson(self, last))?,
            None => out.skip_field("lastPeriods")?,
        }
        match &self.service_accounts {
            Some(service) => out.serialize_field("serviceAccounts", service)?,
            None => out.skip_field("serviceAccounts")?,
        }
        out.serialize_field("filter", &self.filter)?;
        match &self.range {
            Some((from, to)) => out.serialize_field("range", &Range { from, to })?,
            None => out.skip_field("range")?,
        }
        let names: Vec<String> = self
            .key_names
            .iter()
            .chain(&self.metrics)
            .cloned()
            .collect();
        out.serialize_field("labels", &Fields(&names, &self.labels))?;
        out.end()
    }
}

impl Summary {
    /// What went in.
    pub fn input(&self) -> &Input {
        &self.input
    }

    /// The first warnings of the ingest (empty when the query left them out).
    pub fn warnings(&self) -> &[Warning] {
        self.warnings.as_deref().unwrap_or_default()
    }

    /// How many warnings there were in all.
    pub fn warnings_total(&self) -> u64 {
        self.warnings_total
    }

    /// The names of the metrics, in the order of [`Summary::total_values`] and of each group's
    /// values.
    pub fn metrics(&self) -> &[String] {
        &self.metrics
    }

    /// The totals, typed, in the order of [`Summary::metrics`].
    pub fn total_values(&self) -> &[Cell] {
        &self.totals
    }

    /// The names of the key fields, in the order of each group's key.
    pub fn key_names(&self) -> &[String] {
        &self.key_names
    }

    /// The groups, typed, after paging.
    pub fn group_values(&self) -> &[Group] {
        &self.groups
    }

    /// The metrics that cannot be recomputed exactly from the export (labelled approximate).
    pub fn approximate(&self) -> &[String] {
        &self.approximate
    }

    /// With `compare: "previous"`: the range before and its totals.
    pub fn previous(&self) -> Option<&Previous> {
        self.previous.as_ref()
    }

    /// With `compare: "lastPeriods"`: the last two periods the range covers whole and their
    /// totals (`None` when it covers fewer than two).
    pub fn last_periods(&self) -> Option<&LastPeriods> {
        self.last_periods.as_ref()
    }

    /// The metrics each group carries, in the order of [`Summary::metrics`]: of the
    /// [`Summary::column_choices`], those the query's `columns` chose (all of them by default).
    /// A table of the groups shows these.
    pub fn group_metrics(&self) -> Vec<&str> {
        self.names_where(&self.carried)
    }

    /// The metrics that mean something for each group of this grouping, in the order of
    /// [`Summary::metrics`] (not `users`, `activeUsers` or `avgDau` per user, not
    /// `avgDaysActivePerUser` per day): what a table's columns may be chosen from.
    pub fn column_choices(&self) -> Vec<&str> {
        self.names_where(&self.per_group)
    }

    fn names_where(&self, flags: &[bool]) -> Vec<&str> {
        self.metrics
            .iter()
            .zip(flags)
            .filter(|(_, &flag)| flag)
            .map(|(name, _)| name.as_str())
            .collect()
    }

    /// Whether the metric at `index` (in [`Summary::metrics`]) is among
    /// [`Summary::group_metrics`].
    pub fn is_group_metric(&self, index: usize) -> bool {
        self.carried.get(index).copied().unwrap_or(false)
    }

    /// The smallest denominator a rate is shown firmly over (the query's `minSample`).
    pub fn min_sample(&self) -> u64 {
        self.min_sample
    }

    /// Each rate among the metrics that has a denominator, with the denominator's name.
    pub fn denominators(&self) -> Vec<(&str, &str)> {
        self.denominators
            .iter()
            .map(|&(r, d)| (self.metrics[r].as_str(), self.metrics[d].as_str()))
            .collect()
    }

    /// The rates among `values` (the totals or a group's, in the order of
    /// [`Summary::metrics`]) that have a value over a denominator under the minimum: small
    /// samples.
    pub fn small_sample(&self, values: &[Cell]) -> Vec<&str> {
        self.small_sample_where(values, |_, _| true)
    }

    /// [`Summary::small_sample`] of a group's values: only the rates the groups carry
    /// ([`Summary::group_metrics`]) whose denominator means something per group (a user's days
    /// active are over one user, which is no sample). The one rule for every table of groups.
    pub fn group_small_sample(&self, values: &[Cell]) -> Vec<&str> {
        let meant = |i: usize| self.per_group.get(i).copied().unwrap_or(false);
        self.small_sample_where(values, |rate, d| self.is_group_metric(rate) && meant(d))
    }

    fn small_sample_where(
        &self,
        values: &[Cell],
        counts: impl Fn(usize, usize) -> bool,
    ) -> Vec<&str> {
        self.denominators
            .iter()
            .filter(|&&(rate, d)| counts(rate, d))
            .filter(|&&(rate, d)| {
                let has_value = values.get(rate).is_some_and(|v| v.as_f64().is_some());
                let under = values
                    .get(d)
                    .and_then(Cell::as_f64)
                    .is_some_and(|n| n < self.min_sample as f64);
                has_value && under
            })
            .map(|&(rate, _)| self.metrics[rate].as_str())
            .collect()
    }

    /// With a joined user registry: whether its service accounts were left out, and how many.
    pub fn service_accounts(&self) -> Option<ServiceAccounts> {
        self.service_accounts
    }

    /// The totals over every kept row: `rows`, `users`, `activeUsers`, `avgDau`,
    /// `avgDaysActivePerUser`, `hoursSaved`, then one entry per numeric column (those the query
    /// asked for).
    pub fn totals(&self) -> Map<String, Value> {
        match serde_json::to_value(Fields(&self.metrics, &self.totals)) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        }
    }

    /// The groups, each as `{"key": {...}, "users": ..., ...}` (the JSON of one group).
    pub fn groups(&self) -> Vec<Value> {
        self.groups
            .iter()
            .map(|group| {
                serde_json::to_value(GroupJson {
                    summary: self,
                    group,
                })
                .unwrap_or(Value::Null)
            })
            .collect()
    }

    /// How many groups there were before paging.
    pub fn groups_total(&self) -> usize {
        self.groups_total
    }

    /// The summary as pretty-printed JSON, in the documented shape.
    pub fn to_json(&self) -> String {
        // Serializing strings and finite numbers cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The summary as a JSON value.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}
