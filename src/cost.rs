//! Cost: the credits the Analytics API reports (`/api/credits`) beside the usage, as credits per
//! active user and per hour saved, per month and for the range, and per team where the credits
//! allow it.
//!
//! The credits answer's format is not documented, so it is read defensively: the list of buckets
//! is looked for where such answers keep it, each bucket's month and credits used by the names
//! such fields go by, and what is missing is said ([`Credits::notes`]), never guessed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::Error;
use crate::query::{Filter, Query};
use crate::summary::{Cell, Summary};
use crate::table::Table;

/// Where an answer may keep its list of buckets, most likely first (any other key holding a list
/// of objects is looked at after these).
const LIST_KEYS: [&str; 7] = [
    "buckets", "credits", "months", "data", "items", "rows", "results",
];

/// The names a bucket's month goes by (folded: lower case, letters and digits only), most likely
/// first; its value starts with `YYYY-MM`.
const MONTH_FIELDS: [&str; 7] = [
    "month",
    "period",
    "startdate",
    "start",
    "date",
    "bucket",
    "timestamp",
];

/// The names of a bucket's credits used (folded), most likely first.
const USED_FIELDS: [&str; 7] = [
    "creditsused",
    "used",
    "creditsconsumed",
    "consumed",
    "totalcredits",
    "credits",
    "usage",
];

/// The names of a bucket's user, when the credits are per user (folded).
const USER_FIELDS: [&str; 6] = [
    "instanceuserid",
    "userid",
    "user",
    "useremail",
    "email",
    "username",
];

/// A field name folded for matching: `creditsUsed`, `credits_used` and `Credits Used` alike.
fn fold(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The credits answer, read: credits used per month (and per user, when the answer says whose).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Credits {
    /// Credits used per month (`YYYY-MM`), summed over the month's buckets, in month order.
    pub months: Vec<(String, f64)>,
    /// Per bucket (`(month, user, credits)`, as the answer lists them), when the buckets name a
    /// user; `None` when the credits are the instance's only.
    pub per_user: Option<Vec<(String, String, f64)>>,
    /// The unit the answer names (`credits` when it names none).
    pub unit: String,
    /// What could not be read, in words: buckets without a month or a number, the field the
    /// months were read from.
    pub notes: Vec<String>,
}

impl Credits {
    /// Reads a credits answer: JSON (an object holding a list of buckets, or the list itself), or
    /// CSV (a header, then one bucket a line). Native only: in the browser, `fetchCredits` has
    /// already parsed the answer, and a CSV reader here would be a second copy in the module.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn from_bytes(bytes: &[u8]) -> Result<Credits, Error> {
        let json = bytes
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|b| matches!(b, b'{' | b'['));
        if json {
            let value: Value = serde_json::from_slice(bytes)
                .map_err(|e| Error::query(format!("the credits file is not valid JSON: {e}")))?;
            return Credits::from_value(&value);
        }
        let not_csv =
            |e: csv::Error| Error::query(format!("the credits file is neither JSON nor CSV: {e}"));
        let mut reader = csv::Reader::from_reader(bytes);
        let header: Vec<String> = reader
            .headers()
            .map_err(not_csv)?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = record.map_err(not_csv)?;
            let object: Map<String, Value> = header
                .iter()
                .zip(record.iter())
                .map(|(h, v)| (h.clone(), Value::from(v)))
                .collect();
            rows.push(Value::Object(object));
        }
        Credits::from_value(&Value::Array(rows))
    }

    /// Reads a credits answer already parsed (what `fetchCredits` returns: JSON as it came, or a
    /// CSV answer as objects keyed by its header).
    pub fn from_value(value: &Value) -> Result<Credits, Error> {
        let buckets = buckets(value).ok_or_else(|| {
            let fields = match value {
                Value::Object(o) => o.keys().cloned().collect::<Vec<_>>().join(", "),
                _ => "none".to_string(),
            };
            Error::query(format!(
                "the credits answer holds no list of buckets (looked for {} or a list itself); \
                 its fields: {fields}",
                LIST_KEYS.join(", ")
            ))
        })?;
        let unit = match value {
            Value::Object(o) => o.get("unit").and_then(Value::as_str),
            _ => None,
        }
        .unwrap_or("credits")
        .to_string();
        let mut keys: Vec<&String> = Vec::new();
        for b in &buckets {
            for k in b.keys() {
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
        }
        let find = |names: &[&str]| -> Option<String> {
            names
                .iter()
                .find_map(|n| keys.iter().find(|k| fold(k) == *n).map(|k| k.to_string()))
        };
        let all = || {
            let names: Vec<&str> = keys.iter().map(|k| k.as_str()).collect();
            names.join(", ")
        };
        let used = find(&USED_FIELDS).ok_or_else(|| {
            Error::query(format!(
                "the credits buckets say no credits used (no field named creditsUsed, used, \
                 consumed, credits, ...); their fields: {}",
                all()
            ))
        })?;
        let month = find(&MONTH_FIELDS).ok_or_else(|| {
            Error::query(format!(
                "the credits buckets say no month (no field named month, period, startDate, \
                 date, ...); their fields: {}",
                all()
            ))
        })?;
        let user = find(&USER_FIELDS);
        // Plain lists rather than maps: each map type is one more copy of its code in the wasm
        // module, and an answer has a few months.
        let mut months: Vec<(String, f64)> = Vec::new();
        let mut per_user: Vec<(String, String, f64)> = Vec::new();
        let (mut no_month, mut no_number) = (0usize, 0usize);
        for b in &buckets {
            let Some(key) = b.get(&month).and_then(month_of) else {
                no_month += 1;
                continue;
            };
            let Some(n) = b.get(&used).and_then(number) else {
                no_number += 1;
                continue;
            };
            match months.iter_mut().find(|(m, _)| *m == key) {
                Some(month) => month.1 += n,
                None => months.push((key.clone(), n)),
            }
            if let Some(user) = &user {
                per_user.push((key, b.get(user).map_or(String::new(), text), n));
            }
        }
        let mut notes = Vec::new();
        if fold(&month) != "month" {
            notes.push(format!("the months are read from the buckets' {month:?}"));
        }
        if no_month > 0 {
            notes.push(format!(
                "{no_month} bucket(s) without a month (YYYY-MM...) in {month:?} are left out"
            ));
        }
        if no_number > 0 {
            notes.push(format!(
                "{no_number} bucket(s) without a number in {used:?} are left out"
            ));
        }
        let mut order: Vec<u32> = (0..months.len() as u32).collect();
        crate::order::sort_indices(&mut order, &|a, b| {
            months[a as usize].0.cmp(&months[b as usize].0)
        });
        Ok(Credits {
            months: order.iter().map(|&i| months[i as usize].clone()).collect(),
            per_user: user.map(|_| per_user),
            unit,
            notes,
        })
    }

    fn used_in(&self, month: &str) -> Option<f64> {
        self.months
            .iter()
            .find(|(m, _)| m == month)
            .map(|&(_, n)| n)
    }
}

/// The answer's list of buckets (objects), if it has one.
pub(crate) fn buckets(value: &Value) -> Option<Vec<&Map<String, Value>>> {
    fn objects(v: &Value) -> Option<Vec<&Map<String, Value>>> {
        v.as_array()?.iter().map(Value::as_object).collect()
    }
    if value.is_array() {
        return objects(value);
    }
    let map = value.as_object()?;
    let named = LIST_KEYS.iter().filter_map(|k| map.get(*k));
    let others = map
        .iter()
        .filter(|(k, _)| !LIST_KEYS.contains(&k.as_str()))
        .map(|(_, v)| v)
        .filter(|v| v.as_array().is_some_and(|a| !a.is_empty()));
    named.chain(others).find_map(objects)
}

/// `YYYY-MM` from a month or a date (`2025-01`, `2025-01-01`, `2025-01-01T00:00:00Z`).
fn month_of(value: &Value) -> Option<String> {
    let s = value.as_str()?.trim();
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let month = digits(0..4) && b.get(4) == Some(&b'-') && digits(5..7);
    (month && (b.len() == 7 || b[7] == b'-')).then(|| s[..7].to_string())
}

/// A number, given as one or as its text (a CSV cell).
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|n| n.is_finite())
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.trim().to_string(),
        other => other.to_string(),
    }
}

/// What the cost answer asks: the usage's filter, the minutes saved per feature (as a summary's
/// `minutesSaved`), and a people file's column to break the cost down by.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct CostQuery {
    /// The rows whose usage the credits are set against.
    pub filter: Filter,
    /// Minutes saved per use, as in a summary.
    pub minutes_saved: BTreeMap<String, f64>,
    /// A joined people file's column (`Team`): the cost per value, where the credits say whose.
    pub by: Option<String>,
}

/// Credits set against the usage.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Cost {
    /// The credits' unit.
    pub unit: String,
    /// One line per month of the usage.
    pub months: Vec<CostLine>,
    /// The range: every month of the usage, when each has credits.
    pub range: CostLine,
    /// Per value of `by`, when asked and the credits name users; else `None`.
    pub groups: Option<Vec<CostLine>>,
    /// What the figures cannot say, in words (credits missing for a month, credits that are the
    /// instance's under a filter of users, no per-team credits, ...).
    pub notes: Vec<String>,
}

/// Credits and usage over a month, the range or a group.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CostLine {
    /// The month (`YYYY-MM`), `range`, or the group's value (`""` for the unmapped).
    pub key: String,
    /// Credits used (`None`: the credits say nothing of it).
    pub credits_used: Option<f64>,
    /// Distinct active users.
    pub active_users: u64,
    /// Hours saved.
    pub hours_saved: f64,
    /// `credits_used / active_users` (`None` without credits or active users).
    pub credits_per_active_user: Option<f64>,
    /// `credits_used / hours_saved` (`None` without credits or hours saved).
    pub credits_per_hour_saved: Option<f64>,
}

impl CostLine {
    fn new(key: String, credits_used: Option<f64>, active_users: u64, hours_saved: f64) -> Self {
        let per = |d: f64| credits_used.filter(|_| d > 0.0).map(|c| c / d);
        CostLine {
            key,
            credits_used,
            active_users,
            hours_saved,
            credits_per_active_user: per(active_users as f64),
            credits_per_hour_saved: per(hours_saved),
        }
    }
}

/// A summary's first key as text (`""` for none).
fn key_text(key: &[Cell]) -> String {
    match key.first() {
        Some(Cell::Text(v)) => v.clone(),
        _ => String::new(),
    }
}

/// `activeUsers` and `hoursSaved` of a summary's values (in that order: the summary's).
fn usage(values: &[Cell]) -> (u64, f64) {
    let n = |c: Option<&Cell>| c.and_then(Cell::as_f64).unwrap_or(0.0);
    (n(values.first()) as u64, n(values.get(1)))
}

impl Table {
    /// The credits set against the usage of the rows `query.filter` keeps.
    pub fn cost(&self, credits: &Credits, query: &CostQuery) -> Result<Cost, Error> {
        let summary = |group_by: Vec<String>| {
            self.summarize(&Query {
                group_by,
                filter: query.filter.clone(),
                minutes_saved: query.minutes_saved.clone(),
                metrics: Some(vec!["activeUsers".into(), "hoursSaved".into()]),
                include_warnings: false,
                ..Query::default()
            })
        };
        let by_month = summary(vec!["month".into()])?;
        let mut notes = credits.notes.clone();
        let mut missing = Vec::new();
        let months: Vec<CostLine> = by_month
            .group_values()
            .iter()
            .map(|g| {
                let month = key_text(&g.key);
                let used = credits.used_in(&month);
                if used.is_none() {
                    missing.push(month.clone());
                }
                let (active, hours) = usage(&g.values);
                CostLine::new(month, used, active, hours)
            })
            .collect();
        let (active, hours) = usage(summary(Vec::new())?.total_values());
        let range_used = missing
            .is_empty()
            .then(|| months.iter().filter_map(|m| m.credits_used).sum());
        if !missing.is_empty() {
            notes.push(format!(
                "no credits for {}: the range's figures need every month's",
                missing.join(", ")
            ));
        }
        let outside: Vec<&str> = credits
            .months
            .iter()
            .filter(|(m, _)| !months.iter().any(|l| &l.key == m))
            .map(|(m, _)| m.as_str())
            .collect();
        if !outside.is_empty() {
            notes.push(format!(
                "credits for {} are outside the usage's months and left out",
                outside.join(", ")
            ));
        }
        let f = &query.filter;
        let narrowed = !f.users.is_empty()
            || f.user_search.is_some()
            || !f.clients.is_empty()
            || !f.languages.is_empty()
            || !f.attributes.is_empty()
            || f.excludes_service_accounts(self);
        if narrowed {
            notes.push(
                "the credits are the whole instance's: the filter narrows the usage (users, \
                 clients, languages or people-file values), not the credits"
                    .into(),
            );
        }
        let groups = match (&query.by, &credits.per_user) {
            (None, _) => None,
            (Some(by), None) => {
                notes.push(format!(
                    "no cost per {by}: the credits answer gives credits per month for the whole \
                     instance, not per user, so they cannot be split by {by}"
                ));
                None
            }
            (Some(by), Some(per_user)) => {
                let users = summary(vec!["user".into(), by.clone()])?;
                let groups = summary(vec![by.clone()])?;
                Some(cost_by(by, per_user, &months, &users, &groups, &mut notes))
            }
        };
        Ok(Cost {
            unit: credits.unit.clone(),
            range: CostLine::new("range".into(), range_used, active, hours),
            months,
            groups,
            notes,
        })
    }
}

/// Per value of the people-file column `by`: the credits of its users in the usage's months (a
/// user is matched by the export's user key, in any case), its active users and hours saved.
/// `users` is the usage grouped by user and `by`, `groups` by `by`.
fn cost_by(
    by: &str,
    per_user: &[(String, String, f64)],
    months: &[CostLine],
    users: &Summary,
    groups: &Summary,
    notes: &mut Vec<String>,
) -> Vec<CostLine> {
    // Groups by user carry more keys (first and last active day): `by`'s is found by its name.
    let at = users.key_names().iter().position(|n| n == by).unwrap_or(1);
    // Each user (lower case) with their value of `by`, sorted by user for a binary search.
    let value_of: Vec<(String, String)> = users
        .group_values()
        .iter()
        .map(|g| {
            let value = g.key.get(at..).map_or(String::new(), key_text);
            (key_text(&g.key).to_lowercase(), value)
        })
        .collect();
    let mut order: Vec<u32> = (0..value_of.len() as u32).collect();
    crate::order::sort_indices(&mut order, &|a, b| {
        value_of[a as usize].0.cmp(&value_of[b as usize].0)
    });
    let values: Vec<String> = groups
        .group_values()
        .iter()
        .map(|g| key_text(&g.key))
        .collect();
    let mut credits = vec![0.0; values.len()];
    let mut unmatched = 0.0;
    for (month, user, n) in per_user {
        if !months.iter().any(|m| &m.key == month) {
            continue;
        }
        let user = user.to_lowercase();
        let found = order
            .binary_search_by(|&i| value_of[i as usize].0.cmp(&user))
            .ok()
            .and_then(|at| {
                values
                    .iter()
                    .position(|v| *v == value_of[order[at] as usize].1)
            });
        match found {
            Some(group) => credits[group] += n,
            None => unmatched += n,
        }
    }
    if unmatched > 0.0 {
        // Written as the JSON writes numbers: `{}` of an f64 would be one more float printer
        // in the wasm module.
        let unmatched = serde_json::to_string(&unmatched).unwrap_or_default();
        notes.push(format!(
            "{unmatched} credits are of users with no usage under the filter, so in no {by}"
        ));
    }
    groups
        .group_values()
        .iter()
        .zip(values)
        .zip(credits)
        .map(|((g, value), used)| {
            let (active, hours) = usage(&g.values);
            CostLine::new(value, Some(used), active, hours)
        })
        .collect()
}

impl Cost {
    /// The columns of the cost CSV and table.
    pub fn header(&self) -> Vec<&'static str> {
        vec![
            "key",
            "creditsUsed",
            "activeUsers",
            "hoursSaved",
            "creditsPerActiveUser",
            "creditsPerHourSaved",
        ]
    }

    /// The months, then the range, then the groups.
    pub fn lines(&self) -> Vec<&CostLine> {
        self.months
            .iter()
            .chain(std::iter::once(&self.range))
            .chain(self.groups.iter().flatten())
            .collect()
    }
}
