//! What a query asks for: the JSON-facing [`Query`], [`Filter`] and [`Sort`], the group keys, the
//! metrics a summary can carry, and the minutes saved per feature. Every surface (CLI, JS API, the
//! page through `info()`) takes these rules from here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::schema::{header_says_percent, KnownColumn};
use crate::table::{Data, Measure, Table};

/// Minutes saved per use of a feature, by default: `hoursSaved` = Σ count × minutes / 60.
pub const DEFAULT_MINUTES_SAVED: &[(KnownColumn, f64)] = &[
    (KnownColumn::CompletionAcceptances, 2.0),
    (KnownColumn::AutoEditAccepted, 2.0),
    (KnownColumn::ChatEvents, 5.0),
    (KnownColumn::CommandEvents, 5.0),
    (KnownColumn::Searches, 5.0),
    (KnownColumn::CodeNavigationEvents, 1.0),
];

/// The smallest denominator a rate is shown firmly over, by default: a rate over fewer (completion
/// suggestions, characters written, active users, a cohort's users, ...) is flagged a small
/// sample. Queries set their own with `minSample`.
pub const DEFAULT_MIN_SAMPLE: u64 = 50;

/// Short names accepted for the features in `minutesSaved`, beside the column names.
const FEATURE_ALIASES: &[(&str, KnownColumn)] = &[
    ("completions", KnownColumn::CompletionAcceptances),
    ("autoedits", KnownColumn::AutoEditAccepted),
    ("auto-edits", KnownColumn::AutoEditAccepted),
    ("chat", KnownColumn::ChatEvents),
    ("commands", KnownColumn::CommandEvents),
    ("searches", KnownColumn::Searches),
    ("search", KnownColumn::Searches),
    ("navigation", KnownColumn::CodeNavigationEvents),
    ("codenavigation", KnownColumn::CodeNavigationEvents),
];

/// What to summarize and how. Every field is optional in JSON (camelCase); unknown fields are an
/// error, so a typo is not silently ignored.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Query {
    /// Group keys, in order: `user`, `day`, `week`, `month`, `client`, `language`. Default: none
    /// (totals only).
    pub group_by: Vec<String>,
    /// Which rows to keep. Default: all.
    pub filter: Filter,
    /// The order of the groups. Default: by the group keys, ascending.
    pub sort: Option<Sort>,
    /// At most this many groups. Default: all.
    pub limit: Option<usize>,
    /// Skip this many groups first. Default: 0.
    pub offset: usize,
    /// Minutes saved per use of a feature, by column name (or `completions`, `autoEdits`, `chat`,
    /// `commands`, `searches`, `navigation`). Default: [`DEFAULT_MINUTES_SAVED`]; entries given
    /// here replace those defaults one by one.
    pub minutes_saved: BTreeMap<String, f64>,
    /// Only these metrics (structural fields such as `users` or `hoursSaved`, or column names), in
    /// the summary's usual order; the others are neither computed nor reported. Default: every
    /// metric.
    pub metrics: Option<Vec<String>>,
    /// The metrics each group carries (a grouped table's columns after its keys, and a grouped
    /// CSV's), in the summary's usual order: those named here that mean something for the
    /// grouping (the summary's `columnChoices`); when none of them does, the export's default
    /// columns that do ([`crate::Info::default_columns`]). Each must be a metric of the export
    /// and, with `metrics`, one of those. The totals carry every metric either way. Default:
    /// every metric that means something for the grouping.
    pub columns: Option<Vec<String>>,
    /// Whether the summary carries the ingest warnings. Default: true.
    pub include_warnings: bool,
    /// `previous`: also the totals over the equally long range just before this one (the
    /// summary's `previous`). Default: none.
    pub compare: Option<Compare>,
    /// The CSV's header: `names` (the summary's keys, `avgDau`, `Combined CAR`) or `labels`
    /// (the page's headings with each rate's scale, `Average DAU`, `Combined CAR (ratio 0–1)`).
    /// Default: `names`.
    pub headers: Headers,
    /// The smallest denominator a rate is shown firmly over (the summary's `smallSample` lists the
    /// rates under it). Default: [`DEFAULT_MIN_SAMPLE`].
    pub min_sample: Option<u64>,
}

/// The header of a summary's CSV.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Headers {
    /// The summary's own keys: structural fields in camelCase, columns under their names.
    #[default]
    Names,
    /// The headings the page shows, with each rate's scale (the summary's `labels`).
    Labels,
}

/// The headings the page shows for the structural fields and the key fields (a column keeps its
/// name; a people-file attribute keeps its header).
const LABELS: [(&str, &str); 19] = [
    ("rows", "Rows"),
    ("users", "Users"),
    ("activeUsers", "Active users"),
    ("avgDau", "Average DAU"),
    ("avgDaysActivePerUser", "Days active per user"),
    ("hoursSaved", "Hours saved"),
    ("user", "User"),
    ("day", "Day"),
    ("week", "Week of"),
    ("month", "Month"),
    ("client", "Client"),
    ("language", "Language"),
    ("email", "E-mail"),
    ("username", "Username"),
    ("serviceAccount", "Service account"),
    ("siteAdmin", "Site admin"),
    ("firstActive", "First active"),
    ("lastActive", "Last active"),
    ("smallSample", "Small sample"),
];

/// Every structural and key field with its heading.
pub(crate) fn field_labels() -> impl Iterator<Item = (&'static str, &'static str)> {
    LABELS.into_iter()
}

/// The heading of a structural or key field (`None` for a column or an attribute).
pub(crate) fn field_label(name: &str) -> Option<&'static str> {
    LABELS.iter().find(|(n, _)| *n == name).map(|(_, l)| *l)
}

/// What a query's totals are compared with.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Compare {
    /// The equally long range that ends the day before the range starts (for month-grain
    /// exports, the same number of months before).
    Previous,
    /// The last two periods the range covers whole, inside it: the last complete month and the
    /// one before, else (day grain) the last complete week and the one before. What can be
    /// compared when the range before lies outside the data.
    #[serde(rename = "lastPeriods")]
    LastPeriods,
}

impl Default for Query {
    fn default() -> Query {
        Query {
            group_by: Vec::new(),
            filter: Filter::default(),
            sort: None,
            limit: None,
            offset: 0,
            minutes_saved: BTreeMap::new(),
            metrics: None,
            columns: None,
            include_warnings: true,
            compare: None,
            min_sample: None,
            headers: Headers::Names,
        }
    }
}

/// Which rows to keep. Every field is optional in JSON (camelCase); all given conditions must hold.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Filter {
    /// First day kept, `YYYY-MM-DD`, inclusive. Month rows are kept when their month overlaps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Last day kept, `YYYY-MM-DD`, inclusive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Users to keep, each matched exactly (any case) against user ID, e-mail or username.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<String>,
    /// Keep users whose ID, e-mail or username contains this text (any case).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_search: Option<String>,
    /// Clients to keep (`Client Name`, exact, any case).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub clients: Vec<String>,
    /// Languages to keep (`Language`, exact, any case; `""` keeps rows without one).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<String>,
    /// Keep only rows whose `Active Sourcegraph User` is true.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub active_only: bool,
    /// Whether to drop the users a joined user registry marks as service accounts. Default
    /// (`None`): dropped when a registry is joined, so bots do not make the headline; `false`
    /// counts them, `true` without a joined registry is an error. The summary's
    /// `serviceAccounts` says which was done and how many users it concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exclude_service_accounts: Option<bool>,
    /// Per attribute of a joined people file, the values to keep (exact, any case; `""` keeps
    /// the users without a value).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, Vec<String>>,
}

/// The order of the groups.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Sort {
    /// A group key (`month`, `user`, ...) or a metric (`users`, `Chat Events`, ...).
    pub by: String,
    /// Largest first. Default: false. Empty values (`null`) sort last either way.
    #[serde(default)]
    pub desc: bool,
}

/// A group key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Key {
    User,
    Day,
    Week,
    Month,
    Client,
    Language,
    /// An attribute of the joined people file (by index).
    Attribute(u16),
}

impl Key {
    /// Every group key, in the order they are listed to users.
    pub(crate) const ALL: [Key; 6] = [
        Key::User,
        Key::Day,
        Key::Week,
        Key::Month,
        Key::Client,
        Key::Language,
    ];

    fn parse(name: &str) -> Option<Key> {
        let name = name.trim();
        Key::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(name))
    }

    /// The name of a built-in key (an attribute's is the table's: [`Table::key_name`]).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Key::User => "user",
            Key::Day => "day",
            Key::Week => "week",
            Key::Month => "month",
            Key::Client => "client",
            Key::Language => "language",
            Key::Attribute(_) => "attribute",
        }
    }

    pub(crate) fn is_time(self) -> bool {
        matches!(self, Key::Day | Key::Week | Key::Month)
    }

    /// Why this export cannot group by the key, or `None` when it can.
    fn missing(self, table: &Table) -> Option<&'static str> {
        match self {
            Key::User => table.identity().is_none().then_some("no user column"),
            Key::Day | Key::Week if !table.granularity.has_days() => Some("no daily dates"),
            Key::Month if table.date.is_none() => Some("no dates"),
            Key::Client if table.client.is_none() => Some("no Client Name column"),
            Key::Language if table.language.is_none() => Some("no Language column"),
            _ => None,
        }
    }
}

impl Table {
    /// The group keys this export can provide, in the order they are listed to users: the
    /// built-in ones, then a joined people file's attributes.
    pub(crate) fn group_keys(&self) -> Vec<Key> {
        let attributes = self.attributes.as_ref().map_or(0, |a| a.names.len());
        Key::ALL
            .into_iter()
            .filter(|k| k.missing(self).is_none())
            .chain((0..attributes).map(|a| Key::Attribute(a as u16)))
            .collect()
    }

    /// A key's name: a built-in key's, or an attribute's header as written.
    pub(crate) fn key_name(&self, key: Key) -> &str {
        match (key, &self.attributes) {
            (Key::Attribute(a), Some(attributes)) => &attributes.names[usize::from(a)],
            _ => key.name(),
        }
    }
}

/// The query's group keys, checked against what the export can provide.
pub(crate) fn group_keys(table: &Table, names: &[String]) -> Result<Vec<Key>, Error> {
    let mut keys = Vec::new();
    for name in names {
        let attribute = || {
            let a = table.attributes.as_ref()?.find(name)?;
            u16::try_from(a).ok().map(Key::Attribute)
        };
        let key = Key::parse(name).or_else(attribute).ok_or_else(|| {
            let attributes = table.attributes.as_ref().map_or(String::new(), |a| {
                a.names.iter().map(|n| format!(", {n}")).collect()
            });
            Error::query(format!(
                "unknown group key {name:?}: expected user, day, week, month, client or \
                 language{attributes}"
            ))
        })?;
        if keys.contains(&key) {
            return Err(Error::query(format!("group key {name:?} is given twice")));
        }
        if let Some(missing) = key.missing(table) {
            let finer = match key {
                Key::Client | Key::Language => "by_user_day_client_language",
                Key::Day | Key::Week => "by_user_day or by_user_day_client_language",
                _ => "a finer granularity",
            };
            return Err(Error::query(format!(
                "cannot group by {}: this {} export has {missing}; fetch the export with \
                 granularity {finer} to group by {}",
                key.name(),
                table.granularity,
                key.name()
            )));
        }
        keys.push(key);
    }
    Ok(keys)
}

/// A figure a summary can carry: a structural field, or an export column's metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Metric {
    Rows,
    Users,
    ActiveUsers,
    AvgDau,
    AvgDaysActivePerUser,
    HoursSaved,
    /// A numeric column with a measure (by column index).
    Column(usize),
}

impl Metric {
    /// Whether the metric means something for each group of a grouping by `keys`. A user's group
    /// holds one user: its users and active users are 1 and its average DAU a share of one user,
    /// so none is shown per user. A day's group holds one day: every user in it was active on
    /// one day, so days active per user is 1. The totals carry every metric either way.
    pub(crate) fn per_group(self, keys: &[Key]) -> bool {
        match self {
            Metric::Users | Metric::ActiveUsers | Metric::AvgDau => !keys.contains(&Key::User),
            Metric::AvgDaysActivePerUser => !keys.contains(&Key::Day),
            _ => true,
        }
    }
}

/// The users' figures a grouped table shows by default beside hours saved, with a user column
/// (without one they are blank, and `rows` is shown instead).
const DEFAULT_USER_FIELDS: [Metric; 4] = [
    Metric::Users,
    Metric::ActiveUsers,
    Metric::AvgDau,
    Metric::AvgDaysActivePerUser,
];

/// The export columns a grouped table shows by default, beside [`DEFAULT_USER_FIELDS`]: the headline
/// rates (as the cards) and the most used features' counts. Every other metric is a choice away.
const DEFAULT_COLUMNS: [KnownColumn; 6] = [
    KnownColumn::ChatEvents,
    KnownColumn::CompletionAcceptances,
    KnownColumn::CombinedCar,
    KnownColumn::PercentWrittenByCody,
    KnownColumn::AutoEditRate,
    KnownColumn::Searches,
];

/// The structural fields, in the summary's order.
const STRUCTURAL: [(&str, Metric); 6] = [
    ("rows", Metric::Rows),
    ("users", Metric::Users),
    ("activeUsers", Metric::ActiveUsers),
    ("avgDau", Metric::AvgDau),
    ("avgDaysActivePerUser", Metric::AvgDaysActivePerUser),
    ("hoursSaved", Metric::HoursSaved),
];

/// How a column's metric is computed, as `info()` reports it to the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricKind {
    /// A published count: summed.
    Count,
    /// A published rate, recomputed exactly from its summed parts.
    Rate,
    /// A rate that can only be approximated from the export (a weighted or row mean).
    Approximate,
    /// A column outside the published table whose cells are all numbers: summed.
    Unknown,
}

impl Table {
    /// Every metric a summary of this export carries, in order: the structural fields, then each
    /// numeric column.
    pub(crate) fn metrics(&self) -> Vec<Metric> {
        let columns = self
            .columns
            .iter()
            .enumerate()
            .filter(|(_, c)| matches!(c.data, Data::Num(_)) && c.measure.is_some())
            .map(|(i, _)| Metric::Column(i));
        STRUCTURAL.iter().map(|&(_, m)| m).chain(columns).collect()
    }

    /// The metrics a chart can show per group, in the picker's order: hours saved, active users
    /// and users (with a user column), then every numeric column's metric, rates included (a
    /// group's rate is the ratio of the group's sums, never a mean of the rows' rates).
    pub(crate) fn chart_metrics(&self) -> Vec<Metric> {
        let users: &[Metric] = if self.identity().is_some() {
            &[Metric::ActiveUsers, Metric::Users]
        } else {
            &[]
        };
        [Metric::HoursSaved]
            .iter()
            .chain(users)
            .copied()
            .chain(
                self.metrics()
                    .into_iter()
                    .filter(|m| matches!(m, Metric::Column(_))),
            )
            .collect()
    }

    /// The metrics a grouped table shows by default, in the summary's order: users, active users,
    /// average DAU, days active per user and hours saved (`rows` instead of the users' counts
    /// when the export has no user column), then the columns of [`DEFAULT_COLUMNS`] it has.
    pub(crate) fn default_columns(&self) -> Vec<Metric> {
        let users = self.identity().is_some();
        self.metrics()
            .into_iter()
            .filter(|&m| match m {
                Metric::Rows => !users,
                Metric::HoursSaved => true,
                Metric::Column(i) => self.columns[i]
                    .known
                    .is_some_and(|k| DEFAULT_COLUMNS.contains(&k)),
                m => users && DEFAULT_USER_FIELDS.contains(&m),
            })
            .collect()
    }

    /// The query's `columns` among `metrics` (the metrics it asks for): `None` when it names
    /// none. An unknown name, or one outside `metrics`, is an error.
    pub(crate) fn requested_columns(
        &self,
        names: Option<&[String]>,
        metrics: &[Metric],
    ) -> Result<Option<Vec<Metric>>, Error> {
        let Some(names) = names else {
            return Ok(None);
        };
        let columns = self
            .requested_metrics(Some(names))
            .map_err(|e| Error::query(format!("columns: {}", e.message())))?;
        if let Some(&outside) = columns.iter().find(|m| !metrics.contains(m)) {
            return Err(Error::query(format!(
                "columns: {:?} is not among the query's metrics",
                self.metric_name(outside)
            )));
        }
        Ok(Some(columns))
    }

    /// The name a metric is reported under.
    pub(crate) fn metric_name(&self, metric: Metric) -> &str {
        match metric {
            Metric::Column(i) => &self.columns[i].name,
            m => STRUCTURAL
                .iter()
                .find(|(_, s)| *s == m)
                .map_or("", |(name, _)| name),
        }
    }

    /// The kind of a column's metric (`None` for structural fields).
    pub(crate) fn metric_kind(&self, metric: Metric) -> Option<MetricKind> {
        let Metric::Column(i) = metric else {
            return None;
        };
        let column = &self.columns[i];
        Some(match column.measure? {
            Measure::Sum if column.known.is_some() => MetricKind::Count,
            Measure::Sum => MetricKind::Unknown,
            Measure::Ratio { .. } => MetricKind::Rate,
            Measure::WeightedMean { .. } | Measure::Mean => MetricKind::Approximate,
        })
    }

    /// The heading the page shows for a metric, with a rate's scale: `Average DAU`,
    /// `Combined CAR (ratio 0–1)`, `Percentage of Code Written by Cody (%)`, and
    /// `(approximate, ...)` for a rate the export cannot give exactly.
    pub(crate) fn metric_label(&self, metric: Metric) -> String {
        let name = self.metric_name(metric);
        if let Some(label) = field_label(name).filter(|_| !matches!(metric, Metric::Column(_))) {
            return label.to_string();
        }
        let scale = if self.metric_is_percent(metric) {
            "%"
        } else {
            "ratio 0–1"
        };
        match self.metric_kind(metric) {
            Some(MetricKind::Rate) => format!("{name} ({scale})"),
            Some(MetricKind::Approximate) => format!("{name} (approximate, {scale})"),
            _ => name.to_string(),
        }
    }

    /// Whether a column's metric is a percentage (0–100) rather than a ratio (0–1) or a count:
    /// a rate (exact or approximate) whose header says so.
    pub(crate) fn metric_is_percent(&self, metric: Metric) -> bool {
        matches!(
            self.metric_kind(metric),
            Some(MetricKind::Rate | MetricKind::Approximate)
        ) && header_says_percent(self.metric_name(metric))
    }

    /// The metrics a query asks for, in the summary's order; a name this export does not carry is
    /// an error that lists the ones it does.
    pub(crate) fn requested_metrics(&self, names: Option<&[String]>) -> Result<Vec<Metric>, Error> {
        let all = self.metrics();
        let Some(names) = names else {
            return Ok(all);
        };
        let mut wanted = Vec::with_capacity(names.len());
        for name in names {
            let name = name.trim();
            let metric = all
                .iter()
                .copied()
                .find(|&m| self.metric_name(m) == name)
                .ok_or_else(|| {
                    let known: Vec<&str> = all.iter().map(|&m| self.metric_name(m)).collect();
                    Error::query(format!(
                        "unknown metric {name:?}: this export has {}",
                        known.join(", ")
                    ))
                })?;
            wanted.push(metric);
        }
        Ok(all.into_iter().filter(|m| wanted.contains(m)).collect())
    }

    /// The metric a rate is a share of: a ratio's summed denominator, the suggestions that weigh
    /// `Weighted CAR`, the users `avgDaysActivePerUser` is a mean over; `None` for counts and
    /// for a rate whose parts the export lacks.
    pub(crate) fn denominator(&self, metric: Metric) -> Option<Metric> {
        match metric {
            Metric::AvgDaysActivePerUser => Some(Metric::Users),
            Metric::Column(i) => match self.columns[i].measure? {
                Measure::Ratio { denominator, .. } => Some(Metric::Column(denominator)),
                Measure::WeightedMean { weight } => Some(Metric::Column(weight)),
                Measure::Sum | Measure::Mean => None,
            },
            _ => None,
        }
    }

    /// The default minutes saved per feature, for the features this export has (column index,
    /// minutes).
    pub(crate) fn default_minutes(&self) -> Vec<(usize, f64)> {
        // No overrides: nothing can be refused.
        minutes_saved(self, &BTreeMap::new()).unwrap_or_default()
    }
}

/// The features counted in `hoursSaved`, as (column index, minutes), after the query's overrides.
pub(crate) fn minutes_saved(
    table: &Table,
    given: &BTreeMap<String, f64>,
) -> Result<Vec<(usize, f64)>, Error> {
    let mut minutes: Vec<(KnownColumn, f64)> = DEFAULT_MINUTES_SAVED.to_vec();
    for (name, &value) in given {
        let folded = name.trim().to_lowercase().replace([' ', '_'], "");
        let feature = FEATURE_ALIASES
            .iter()
            .find(|(alias, _)| *alias == folded)
            .map(|&(_, k)| k)
            .or_else(|| KnownColumn::from_header(name))
            .filter(|k| DEFAULT_MINUTES_SAVED.iter().any(|(d, _)| d == k))
            .ok_or_else(|| {
                let names: Vec<&str> = DEFAULT_MINUTES_SAVED
                    .iter()
                    .map(|(k, _)| k.name())
                    .collect();
                Error::query(format!(
                    "minutesSaved: unknown feature {name:?}; expected one of {}",
                    names.join(", ")
                ))
            })?;
        if !value.is_finite() || value < 0.0 {
            return Err(Error::query(format!(
                "minutesSaved: {name:?} must be a number of minutes ≥ 0, found {value}"
            )));
        }
        if let Some(entry) = minutes.iter_mut().find(|(k, _)| *k == feature) {
            entry.1 = value;
        }
    }
    Ok(minutes
        .into_iter()
        .filter_map(|(k, m)| table.column(k).map(|i| (i, m)))
        .filter(|&(i, _)| matches!(table.columns[i].data, Data::Num(_)))
        .collect())
}
