//! A deliberately simple reference model of the metric contract in DESIGN.md, written from the
//! spec with plain maps over `csv::StringRecord`s, to check the engine against.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, HashMap};

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
