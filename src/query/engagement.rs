//! Engagement answers over the rows a filter keeps: stickiness (how many days a week or month
//! people are active, average DAU, DAU/MAU) and feature depth (who uses search, completions, chat
//! and auto-edit, who started, and how many features each active user uses).
//!
//! Both use the adoption answers' range, periods and active-day rule (see `adoption`), and need
//! day-grain exports: a month has one row per user, which says nothing of the days inside it.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::column::FxHashMap;
use crate::error::Error;
use crate::schema::KnownColumn;
use crate::summary::pairs_as_map;
use crate::table::{Data, Table};

use super::adoption::{small, Activity, Period, PeriodQuery};

/// Stickiness per period: how habitual the use is.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Stickiness {
    /// The period length.
    pub period: Period,
    /// The smallest denominator a rate is shown firmly over.
    pub min_sample: u64,
    /// Every period of the range, empty ones included.
    pub periods: Vec<StickinessPeriod>,
    /// The latest period the range covers whole and someone was active in (the one whose
    /// days-active histogram the page and the report show); `None` when there is none.
    pub latest_complete: Option<String>,
}

/// One period of [`Stickiness`].
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StickinessPeriod {
    /// The period's key (`YYYY-MM-DD` of the Monday, or `YYYY-MM`).
    pub period: String,
    /// Whether the range leaves out some of the period's days.
    pub partial: bool,
    /// Users active on at least one day of the period.
    pub active_users: u64,
    /// `days_active[i]`: how many of them were active on exactly `i + 1` days of the period; as
    /// long as the period has days inside the range.
    pub days_active: Vec<u64>,
    /// The mean, over the period's days inside the range, of the users active that day.
    pub avg_dau: f64,
    /// `avg_dau / active_users`; `None` when no one was active.
    pub dau_over_mau: Option<f64>,
    /// Whether DAU/MAU stands on fewer active users than the minimum.
    pub small_sample: bool,
}

/// The features feature depth looks at, each with its heading and the columns whose sum says a
/// user used it (a feature is left out when the export lacks one of its columns).
const FEATURES: [(&str, &str, &[KnownColumn]); 4] = [
    ("search", "Search", &[KnownColumn::Searches]),
    (
        "completions",
        "Completions",
        &[KnownColumn::CompletionAcceptances],
    ),
    (
        "chat",
        "Chat",
        &[KnownColumn::ChatEvents, KnownColumn::CommandEvents],
    ),
    ("autoEdit", "Auto-edit", &[KnownColumn::AutoEditAccepted]),
];

/// The heading of a feature (`autoEdit` → `Auto-edit`), as the page, the report and the CLI's
/// table show it; `None` for a name that is not a feature.
pub fn feature_label(feature: &str) -> Option<&'static str> {
    FEATURES
        .iter()
        .find(|(name, ..)| *name == feature)
        .map(|&(_, label, _)| label)
}

/// Feature depth per period: who uses which feature, who started, and how many each uses.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Features {
    /// The period length.
    pub period: Period,
    /// The smallest denominator a rate is shown firmly over.
    pub min_sample: u64,
    /// The features the export has the columns of, in this order: `search`, `completions`,
    /// `chat`, `autoEdit`.
    pub features: Vec<String>,
    /// Each of [`Features::features`] with its heading (`autoEdit` → `Auto-edit`), written as a
    /// JSON object.
    #[serde(serialize_with = "pairs_as_map")]
    pub labels: Vec<(String, String)>,
    /// Every period of the range, empty ones included.
    pub periods: Vec<FeaturePeriod>,
}

/// One period of [`Features`].
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FeaturePeriod {
    /// The period's key (`YYYY-MM-DD` of the Monday, or `YYYY-MM`).
    pub period: String,
    /// Whether the range leaves out some of the period's days.
    pub partial: bool,
    /// Users active on at least one day of the period.
    pub active_users: u64,
    /// Per feature (in [`Features::features`]' order): the users who used it in the period.
    pub users: FeatureCounts,
    /// Per feature: the users who used it in the period and in no earlier period of the range.
    pub new_users: FeatureCounts,
    /// `breadth[k]`: the period's active users who used exactly `k` of the features.
    pub breadth: Vec<u64>,
    /// Whether the shares of the period's active users stand on fewer than the minimum.
    pub small_sample: bool,
}

/// A count per feature, written as a JSON object in the features' order.
#[derive(Clone, Debug, PartialEq)]
pub struct FeatureCounts(pub Vec<(String, u64)>);

impl FeatureCounts {
    /// The count of a feature (`None` when the export lacks it).
    pub fn get(&self, feature: &str) -> Option<u64> {
        self.0.iter().find(|(f, _)| f == feature).map(|&(_, n)| n)
    }
}

impl Serialize for FeatureCounts {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (feature, n) in &self.0 {
            map.serialize_entry(feature, n)?;
        }
        map.end()
    }
}

/// Day-grain exports only: a month or `by_user` export says which granularity to fetch.
fn check_days(table: &Table, what: &str) -> Result<(), Error> {
    if table.granularity.has_days() {
        return Ok(());
    }
    Err(Error::query(format!(
        "{what} counts active days, and this {} export has none: fetch it at the by_user_day \
         (or finer) granularity",
        table.granularity
    )))
}

impl Table {
    /// Stickiness per period over the rows `query.filter` keeps.
    pub fn stickiness(&self, query: &PeriodQuery) -> Result<Stickiness, Error> {
        check_days(self, "stickiness")?;
        let activity = Activity::of(self, &query.filter, "stickiness")?;
        let Some((lo, hi)) = activity.range else {
            return Ok(Stickiness {
                period: query.period,
                min_sample: query.min_sample(),
                periods: Vec::new(),
                latest_complete: None,
            });
        };
        let (first, count, _) = activity.periods(query.period);
        let index = |d: i32| (query.period.number(d) - first) as usize;
        // Per day of the range: the users active that day.
        let mut dau = vec![0u64; (i64::from(hi) - i64::from(lo) + 1) as usize];
        // Per period: the active users, and how many were active on exactly n days.
        let mut histogram: Vec<Vec<u64>> = vec![Vec::new(); count];
        for days in activity.days.iter().flatten() {
            let mut run: Option<(usize, usize)> = None;
            for &d in days {
                dau[(d - lo) as usize] += 1;
                let p = index(d);
                run = match run {
                    Some((q, n)) if q == p => Some((q, n + 1)),
                    other => {
                        if let Some((q, n)) = other {
                            bump(&mut histogram[q], n);
                        }
                        Some((p, 1))
                    }
                };
            }
            if let Some((q, n)) = run {
                bump(&mut histogram[q], n);
            }
        }
        let periods = (0..count)
            .map(|p| {
                let number = first + p as i64;
                let (start, end) = query.period.days(number);
                let (start, end) = (start.max(lo), end.min(hi));
                let days = (end - start + 1) as usize;
                let mut days_active = std::mem::take(&mut histogram[p]);
                days_active.resize(days, 0);
                let active_users: u64 = days_active.iter().sum();
                let dau_sum: u64 = dau[(start - lo) as usize..=(end - lo) as usize]
                    .iter()
                    .sum();
                let avg_dau = dau_sum as f64 / days as f64;
                StickinessPeriod {
                    period: query.period.key(number),
                    partial: activity.partial(query.period, number),
                    active_users,
                    days_active,
                    avg_dau,
                    dau_over_mau: (active_users > 0).then(|| avg_dau / active_users as f64),
                    small_sample: small(active_users, query.min_sample()),
                }
            })
            .collect::<Vec<_>>();
        Ok(Stickiness {
            period: query.period,
            min_sample: query.min_sample(),
            latest_complete: latest_complete(&periods),
            periods,
        })
    }

    /// Feature depth per period over the rows `query.filter` keeps: a user uses a feature in a
    /// period when its columns sum to more than 0 over the rows that make the user active then.
    pub fn features(&self, query: &PeriodQuery) -> Result<Features, Error> {
        check_days(self, "feature depth")?;
        let features: Vec<(&str, Vec<usize>)> = FEATURES
            .iter()
            .filter_map(|&(name, _, known)| {
                let columns: Option<Vec<usize>> = known
                    .iter()
                    .map(|&k| {
                        self.column(k)
                            .filter(|&i| matches!(self.columns[i].data, Data::Num(_)))
                    })
                    .collect();
                Some((name, columns?))
            })
            .collect();
        let value = |column: usize, row: usize| match &self.columns[column].data {
            Data::Num(n) => n.get(row).unwrap_or(0.0),
            _ => 0.0,
        };
        // Per user and period of activity (by the period's absolute number): each feature's sum
        // over the rows that make the user active.
        let mut sums: FxHashMap<(usize, i64), [f64; FEATURES.len()]> = FxHashMap::default();
        let activity = Activity::visiting(
            self,
            &query.filter,
            "feature depth",
            &mut |row, user, day| {
                let sum = sums
                    .entry((user, query.period.number(day)))
                    .or_insert([0.0; FEATURES.len()]);
                for (f, (_, columns)) in features.iter().enumerate() {
                    sum[f] += columns.iter().map(|&c| value(c, row)).sum::<f64>();
                }
            },
        )?;
        let (first, count, _) = activity.periods(query.period);
        let n = features.len();
        // Per user: the first period each feature was used in.
        let mut first_use: FxHashMap<usize, [i64; FEATURES.len()]> = FxHashMap::default();
        for (&(user, p), sum) in &sums {
            let firsts = first_use.entry(user).or_insert([i64::MAX; FEATURES.len()]);
            for (f, &s) in sum[..n].iter().enumerate() {
                if s > 0.0 {
                    firsts[f] = firsts[f].min(p);
                }
            }
        }
        let mut users = vec![vec![0u64; n]; count];
        let mut new_users = vec![vec![0u64; n]; count];
        let mut breadth = vec![vec![0u64; n + 1]; count];
        let mut active = vec![0u64; count];
        for (&(user, number), sum) in &sums {
            let p = (number - first) as usize;
            active[p] += 1;
            let mut k = 0;
            for (f, &s) in sum[..n].iter().enumerate() {
                if s > 0.0 {
                    k += 1;
                    users[p][f] += 1;
                    if first_use[&user][f] == number {
                        new_users[p][f] += 1;
                    }
                }
            }
            breadth[p][k] += 1;
        }
        let names: Vec<String> = features.iter().map(|(f, _)| f.to_string()).collect();
        let labels = features
            .iter()
            .filter_map(|&(f, _)| Some((f.to_string(), feature_label(f)?.to_string())))
            .collect();
        let counts =
            |row: &[u64]| FeatureCounts(names.iter().cloned().zip(row.iter().copied()).collect());
        let periods = (0..count)
            .map(|p| {
                let number = first + p as i64;
                FeaturePeriod {
                    period: query.period.key(number),
                    partial: activity.partial(query.period, number),
                    active_users: active[p],
                    users: counts(&users[p]),
                    new_users: counts(&new_users[p]),
                    breadth: std::mem::take(&mut breadth[p]),
                    small_sample: small(active[p], query.min_sample()),
                }
            })
            .collect();
        Ok(Features {
            period: query.period,
            min_sample: query.min_sample(),
            features: names,
            labels,
            periods,
        })
    }
}

/// The rule for "the latest complete period": the last one the range covers whole (not
/// `partial`) with at least one active user.
fn latest_complete(periods: &[StickinessPeriod]) -> Option<String> {
    periods
        .iter()
        .rfind(|p| !p.partial && p.active_users > 0)
        .map(|p| p.period.clone())
}

/// Counts one more user active on `n` days (`n >= 1`) in a period's histogram.
fn bump(histogram: &mut Vec<u64>, n: usize) {
    if histogram.len() < n {
        histogram.resize(n, 0);
    }
    histogram[n - 1] += 1;
}
