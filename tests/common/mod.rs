//! A deliberately simple reference model of the metric rules in docs/numbers.md, written from
//! their definitions with plain maps over `csv::StringRecord`s, to check the engine against.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{json, Value};

pub const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).unwrap()
}

/// One parsed row of a well-formed export.
#[derive(Clone, Debug)]
pub struct Row {
    pub user: String,
    pub active: bool,
    pub date: Option<String>,
    pub client: String,
    pub language: String,
    pub metrics: HashMap<String, Option<f64>>,
}

pub fn rows(csv: &[u8]) -> (Vec<String>, Vec<Row>) {
    let mut r = csv::Reader::from_reader(csv);
    let headers: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    let idx = |name: &str| headers.iter().position(|h| h == name);
    let date = idx("Timestamp Date").or_else(|| idx("Timestamp Month"));
    let text = [
        "Instance user ID",
        "User Email",
        "Username",
        "Active Sourcegraph User",
        "Client Name",
        "Timestamp Date",
        "Timestamp Month",
        "Language",
    ];
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        let get = |i: Option<usize>| i.map(|i| rec[i].to_string()).unwrap_or_default();
        let metrics = headers
            .iter()
            .enumerate()
            .filter(|(_, h)| !text.contains(&h.as_str()))
            .map(|(i, h)| (h.clone(), rec[i].trim().parse::<f64>().ok()))
            .collect();
        out.push(Row {
            user: get(idx("Instance user ID")),
            active: matches!(
                get(idx("Active Sourcegraph User")).to_lowercase().as_str(),
                "true" | "yes" | "y" | "t" | "1"
            ),
            date: date.map(|i| rec[i][..10.min(rec[i].len())].to_string()),
            client: get(idx("Client Name")),
            language: get(idx("Language")),
            metrics,
        });
    }
    (headers, out)
}

pub fn sum(rows: &[&Row], metric: &str) -> f64 {
    rows.iter()
        .filter_map(|r| r.metrics.get(metric).copied().flatten())
        .sum()
}

pub fn users(rows: &[&Row]) -> usize {
    rows.iter().map(|r| &r.user).collect::<BTreeSet<_>>().len()
}

pub fn active_users(rows: &[&Row]) -> usize {
    rows.iter()
        .filter(|r| r.active)
        .map(|r| &r.user)
        .collect::<BTreeSet<_>>()
        .len()
}

/// Calendar days from `from` to `to`, inclusive, as `YYYY-MM-DD` strings.
pub fn days(from: &str, to: &str) -> Vec<String> {
    let parse = |s: &str| {
        let p: Vec<u32> = s.split('-').map(|x| x.parse().unwrap()).collect();
        (p[0] as i32, p[1], p[2])
    };
    let (mut y, mut m, mut d) = parse(from);
    let mut out = Vec::new();
    loop {
        let s = format!("{y:04}-{m:02}-{d:02}");
        let done = s.as_str() >= to;
        out.push(s);
        if done {
            return out;
        }
        let dim = match m {
            4 | 6 | 9 | 11 => 30,
            2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
            2 => 28,
            _ => 31,
        };
        d += 1;
        if d > dim {
            d = 1;
            m += 1;
            if m > 12 {
                m = 1;
                y += 1;
            }
        }
    }
}

/// Mean over every calendar day of `from..=to` of the distinct active users that day.
pub fn avg_dau(rows: &[&Row], from: &str, to: &str) -> f64 {
    let mut per_day: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.active) {
        per_day
            .entry(r.date.as_deref().unwrap())
            .or_default()
            .insert(&r.user);
    }
    let range = days(from, to);
    range
        .iter()
        .map(|d| per_day.get(d.as_str()).map_or(0, |s| s.len()))
        .sum::<usize>() as f64
        / range.len() as f64
}

pub fn approx(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// The period key of a `YYYY-MM-DD` day: `YYYY-MM` for months, the Monday's date for weeks
/// (counted from 2024-12-30, a Monday, in whole days).
pub fn period_key(day: &str, week: bool) -> String {
    if !week {
        return day[..7].to_string();
    }
    static CALENDAR: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    let all = CALENDAR.get_or_init(|| days("1990-01-01", "2100-01-01"));
    let at = all.binary_search_by(|d| d.as_str().cmp(day)).unwrap() as i64;
    let monday = all.iter().position(|d| d == "2024-12-30").unwrap() as i64;
    all[(at - (at - monday).rem_euclid(7)) as usize].clone()
}

/// The days of the period with this key: the 7 days of a week, every day of a month.
pub fn period_days(key: &str, week: bool) -> usize {
    if week {
        return 7;
    }
    days(&format!("{key}-01"), &format!("{key}-31"))
        .iter()
        .filter(|d| d.starts_with(key))
        .count()
}

/// One period of the reference: its key, its active users, and whether `from..=to` leaves out
/// some of its days.
pub type PeriodSet = (String, BTreeSet<String>, bool);

/// The reference for growth, retention and inactive users: each period's set of active users,
/// from the rows kept, over every period of `from..=to` (for a month-grain export, `to` is the
/// last month's last day: its rows cover the whole month).
pub fn active_sets(rows: &[&Row], from: &str, to: &str, week: bool) -> Vec<PeriodSet> {
    let mut periods: Vec<(String, BTreeSet<String>, usize)> = Vec::new();
    for day in days(from, to) {
        let key = period_key(&day, week);
        if periods.last().map(|(k, _, _)| k) != Some(&key) {
            periods.push((key, BTreeSet::new(), 0));
        }
        periods.last_mut().unwrap().2 += 1;
    }
    for r in rows.iter().filter(|r| r.active) {
        let day = r.date.as_deref().unwrap();
        if day < from || day > to {
            continue;
        }
        let key = period_key(day, week);
        let (_, set, _) = periods.iter_mut().find(|(k, _, _)| *k == key).unwrap();
        set.insert(r.user.clone());
    }
    periods
        .into_iter()
        .map(|(key, set, n)| {
            let partial = n < period_days(&key, week);
            (key, set, partial)
        })
        .collect()
}

/// The growth table the reference computes from the active sets.
pub fn reference_growth(periods: &[PeriodSet]) -> Value {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let out: Vec<Value> = periods
        .iter()
        .enumerate()
        .map(|(i, (key, now, partial))| {
            let empty = BTreeSet::new();
            let before = if i > 0 { &periods[i - 1].1 } else { &empty };
            let new = now.difference(&seen).count() as u64;
            let retained = now.intersection(before).count() as u64;
            let resurrected = now
                .iter()
                .filter(|u| !before.contains(*u) && seen.contains(*u))
                .count() as u64;
            let churned = before.difference(now).count() as u64;
            seen.extend(now.iter().cloned());
            json!({
                "period": key,
                "partial": partial,
                "activeUsers": now.len(),
                "newUsers": new,
                "retainedUsers": retained,
                "resurrectedUsers": resurrected,
                "churnedUsers": churned,
                "quickRatio": if churned == 0 { Value::Null } else { json!((new + resurrected) as f64 / churned as f64) },
                "smallSample": churned > 0 && churned < 50,
            })
        })
        .collect();
    json!(out)
}

pub fn reference_retention(periods: &[PeriodSet]) -> Value {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut cohorts = Vec::new();
    for (c, (key, now, _)) in periods.iter().enumerate() {
        let cohort: BTreeSet<&String> = now.iter().filter(|u| !seen.contains(*u)).collect();
        seen.extend(now.iter().cloned());
        if cohort.is_empty() {
            continue;
        }
        let active: Vec<usize> = periods[c..]
            .iter()
            .map(|(_, set, _)| cohort.iter().filter(|u| set.contains(**u)).count())
            .collect();
        let small = cohort.len() < 50;
        cohorts.push(
            json!({"cohort": key, "users": cohort.len(), "active": active, "smallSample": small}),
        );
    }
    json!(cohorts)
}

/// Seats for the inactive list under a filter: an export as of 2025-03-31 (client rows, bob's
/// last row not active), a people file keyed by user ID (10, 11 and 13 are seats with no row;
/// 4 and 12 have no line) and a registry (5 and 13 are service accounts).
pub const SEATS_EXPORT: &str = "Instance user ID,User Email,Username,Active Sourcegraph User,Timestamp Date,Client Name,Searches
1,a@x.io,alice,true,2025-03-31,VS Code,1
2,b@x.io,bob,true,2025-03-01,VS Code,1
2,b@x.io,bob,false,2025-03-30,VS Code,0
3,c@x.io,carol,true,2025-03-02,JetBrains,1
4,d@x.io,dan,true,2025-03-03,JetBrains,1
5,ci@x.io,ci-bot,true,2025-03-04,JetBrains,1
";
/// See [`SEATS_EXPORT`].
pub const SEATS_PEOPLE: &str =
    "Instance user ID,Team\n1,Search\n2,Search\n3,Cloud\n5,Search\n10,Search\n11,Cloud\n13,Search\n";
/// See [`SEATS_EXPORT`].
pub const SEATS_REGISTRY: &str = "Instance user ID,Service Account,Site Admin
1,false,false
2,false,false
3,false,false
4,false,false
5,true,false
10,false,false
11,false,false
12,false,false
13,true,false
";
