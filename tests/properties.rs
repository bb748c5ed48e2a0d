//! Property tests against a simple reference model: additive metrics add up over any grouping,
//! day groups roll up into month groups, and a filter and its complement partition the rows.
#![cfg(not(target_arch = "wasm32"))]

mod common;
#[path = "common/row_cells.rs"]
mod row_cells;

use std::collections::BTreeMap;

use proptest::prelude::*;
use row_cells::{cells, Cells};
use serde_json::{json, Value};
use sg_analytics::{PeriodQuery, Query, QueryCache, Table};

const CLIENTS: [&str; 3] = ["vscode.cody", "jetbrains.cody", "server.web"];
const LANGUAGES: [&str; 3] = ["go", "", "rust"];

#[derive(Clone, Debug)]
struct GenRow {
    user: u8,
    day: u8,
    cells: Cells<bool>,
}

fn row() -> impl Strategy<Value = GenRow> {
    (0u8..8, 0u8..45, cells(any::<bool>())).prop_map(|(user, day, cells)| GenRow {
        user,
        day,
        cells,
    })
}

fn date(day: u8) -> String {
    // 45 days from 2025-01-20 cross a month end and several week starts.
    common::days("2025-01-20", "2025-03-10")[usize::from(day)].clone()
}

fn to_csv(rows: &[GenRow]) -> Vec<u8> {
    let mut out = String::from("Instance user ID,Username,Active Sourcegraph User,Client Name,Timestamp Date,Language,Chat Events,Combined Completion Suggestions,Combined Completion Acceptances,Combined CAR\n");
    for r in rows {
        let (u, accepted) = (&r.cells, r.cells.accepted());
        let car = if u.suggestions == 0 {
            String::new()
        } else {
            format!("{:.4}", f64::from(accepted) / f64::from(u.suggestions))
        };
        out += &format!(
            "{},user{},{},{},{},{},{},{},{},{}\n",
            100 + u32::from(r.user),
            r.user,
            u.active,
            CLIENTS[u.client],
            date(r.day),
            LANGUAGES[u.language],
            u.chats.map_or(String::new(), |c| c.to_string()),
            u.suggestions,
            accepted,
            car
        );
    }
    out.into_bytes()
}

fn summarize(table: &Table, query: Value) -> Value {
    let query: Query = serde_json::from_value(query).unwrap();
    table.summarize(&query).unwrap().to_value()
}

const ADDITIVE: [&str; 4] = [
    "rows",
    "Chat Events",
    "Combined Completion Suggestions",
    "Combined Completion Acceptances",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn sums_over_groups_equal_the_totals(rows in proptest::collection::vec(row(), 1..120)) {
        let table = Table::from_bytes(&to_csv(&rows)).unwrap();
        let totals = summarize(&table, json!({}))["totals"].clone();
        for key in ["user", "day", "week", "month", "client", "language"] {
            let s = summarize(&table, json!({"groupBy": [key]}));
            for metric in ADDITIVE {
                let sum: f64 = s["groups"].as_array().unwrap().iter().map(|g| g[metric].as_f64().unwrap()).sum();
                prop_assert_eq!(sum, totals[metric].as_f64().unwrap(), "{} by {}", metric, key);
            }
        }
    }

    #[test]
    fn days_roll_up_into_months(rows in proptest::collection::vec(row(), 1..120)) {
        let table = Table::from_bytes(&to_csv(&rows)).unwrap();
        let by_day = summarize(&table, json!({"groupBy": ["day", "client"]}));
        let by_month = summarize(&table, json!({"groupBy": ["month", "client"]}));
        let mut rolled: BTreeMap<(String, String), [f64; 4]> = BTreeMap::new();
        for g in by_day["groups"].as_array().unwrap() {
            let month = g["key"]["day"].as_str().unwrap()[..7].to_string();
            let entry = rolled.entry((month, g["key"]["client"].as_str().unwrap().to_string())).or_default();
            for (i, m) in ADDITIVE.iter().enumerate() {
                entry[i] += g[m].as_f64().unwrap();
            }
        }
        let months: BTreeMap<(String, String), [f64; 4]> = by_month["groups"].as_array().unwrap().iter().map(|g| {
            let key = (g["key"]["month"].as_str().unwrap().to_string(), g["key"]["client"].as_str().unwrap().to_string());
            (key, ADDITIVE.map(|m| g[m].as_f64().unwrap()))
        }).collect();
        prop_assert_eq!(rolled, months);
    }

    #[test]
    fn a_filter_and_its_complement_partition_the_rows(rows in proptest::collection::vec(row(), 1..120), cut in 0u8..44, client in 0usize..3) {
        let table = Table::from_bytes(&to_csv(&rows)).unwrap();
        let totals = summarize(&table, json!({}))["totals"].clone();
        let pairs = [
            (json!({"to": date(cut)}), json!({"from": date(cut + 1)})),
            (json!({"clients": [CLIENTS[client]]}),
             json!({"clients": CLIENTS.iter().enumerate().filter(|(i, _)| *i != client).map(|(_, c)| *c).collect::<Vec<_>>()})),
        ];
        for (a, b) in pairs {
            let x = summarize(&table, json!({"filter": a}))["totals"].clone();
            let y = summarize(&table, json!({"filter": b}))["totals"].clone();
            for metric in ADDITIVE {
                prop_assert_eq!(x[metric].as_f64().unwrap() + y[metric].as_f64().unwrap(), totals[metric].as_f64().unwrap());
            }
        }
    }

    #[test]
    fn distinct_counts_and_daily_averages_match_the_reference(rows in proptest::collection::vec(row(), 1..120), from in 0u8..20, len in 0u8..25) {
        let csv = to_csv(&rows);
        let table = Table::from_bytes(&csv).unwrap();
        let (from, to) = (date(from), date(from + len));
        let s = summarize(&table, json!({"filter": {"from": from, "to": to}, "groupBy": ["week"]}));
        let (_, all) = common::rows(&csv);
        let kept: Vec<&common::Row> = all.iter().filter(|r| r.date.as_deref().unwrap() >= from.as_str() && r.date.as_deref().unwrap() <= to.as_str()).collect();
        prop_assert_eq!(s["totals"]["users"].as_u64().unwrap() as usize, common::users(&kept));
        prop_assert_eq!(s["totals"]["activeUsers"].as_u64().unwrap() as usize, common::active_users(&kept));
        prop_assert!(common::approx(s["totals"]["avgDau"].as_f64().unwrap(), common::avg_dau(&kept, &from, &to)));
        let sugg = common::sum(&kept, "Combined Completion Suggestions");
        let car = s["totals"]["Combined CAR"].as_f64();
        if sugg == 0.0 {
            prop_assert_eq!(car, None);
        } else {
            prop_assert!(common::approx(car.unwrap(), common::sum(&kept, "Combined Completion Acceptances") / sugg));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Exports list each user's rows together, by date, and the engine counts distinct users and
    /// user-days without sets then; any other order takes the sets. Both must agree.
    #[test]
    fn row_order_never_changes_the_answer(rows in proptest::collection::vec(row(), 1..150), from in 0u8..20) {
        let mut sorted = rows.clone();
        sorted.sort_by_key(|r| (r.user, r.day));
        let (a, b) = (Table::from_bytes(&to_csv(&rows)).unwrap(), Table::from_bytes(&to_csv(&sorted)).unwrap());
        for keys in [json!([]), json!(["user"]), json!(["user", "month"]), json!(["day"]), json!(["week", "client"]), json!(["language"])] {
            let query = json!({"groupBy": keys, "filter": {"from": date(from)}});
            let (x, y) = (summarize(&a, query.clone()), summarize(&b, query));
            prop_assert_eq!(&x["totals"], &y["totals"]);
            prop_assert_eq!(&x["groups"], &y["groups"]);
        }
    }
}

/// Header cells and bytes that make hostile CSV: every known shape of cell, quotes, separators.
fn hostile_input() -> impl Strategy<Value = Vec<u8>> {
    let header = prop::sample::select(vec![
        "Instance user ID,Active Sourcegraph User,Client Name,Timestamp Date,Language,Chat Events,Combined CAR,Combined Completion Suggestions,Combined Completion Acceptances,Weighted CAR,x\n",
        "User Email,Timestamp Month,Searches,Agent rate\n",
        "Username,Timestamp Date,Searches\r\n",
        "\u{feff}Instance user ID\n",
        "",
    ]);
    let piece = prop::sample::select(vec![
        ",",
        "\n",
        "\r\n",
        "\"",
        "\"\"",
        "1",
        "-7",
        "0.5",
        "1e308",
        "-1e308",
        "99999999999999999999",
        "2025-01-31",
        "2025-02",
        "0000-01-01",
        "9999-12-31",
        "2025-02-30",
        "true",
        "no",
        "x",
        " ",
        "\u{fffd}",
        "=A1",
        "\u{0}",
        "18446744073709551615",
        "-9223372036854775808",
        "4294967295",
        "255",
        "65535",
        ".000000001",
    ]);
    (header, proptest::collection::vec(piece, 0..200)).prop_map(|(h, pieces)| {
        let mut bytes = h.as_bytes().to_vec();
        for p in pieces {
            bytes.extend_from_slice(p.as_bytes());
        }
        bytes
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The contract is "never panics on any input": every query either answers or errors.
    #[test]
    fn any_input_and_query_answers_or_errors_without_panicking(bytes in hostile_input(), raw in proptest::collection::vec(any::<u8>(), 0..64)) {
        for input in [&bytes, &raw] {
            let Ok(table) = Table::from_bytes(input) else { continue };
            for keys in [json!([]), json!(["user"]), json!(["day", "client"]), json!(["week", "language"]), json!(["month"])] {
                for filter in [json!({}), json!({"from": "2025-01-01", "to": "2025-02-01", "activeOnly": true}), json!({"userSearch": "1", "clients": ["x"]})] {
                    let query: Query = serde_json::from_value(json!({"groupBy": keys, "filter": filter, "sort": {"by": "users", "desc": true}})).unwrap();
                    if let Ok(s) = table.summarize(&query) {
                        let _ = (s.to_json(), s.to_csv());
                    }
                    let _ = table.filtered_csv(&query.filter);
                }
            }
        }
    }
}

const KEYS: [&str; 6] = ["user", "day", "week", "month", "client", "language"];
const SORTS: [&str; 7] = [
    "hoursSaved",
    "users",
    "avgDau",
    "Chat Events",
    "Combined CAR",
    "user",
    "month",
];
const METRICS: [&str; 6] = [
    "rows",
    "users",
    "activeUsers",
    "avgDaysActivePerUser",
    "Chat Events",
    "Combined CAR",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A page of a sorted table, computed late (the sort metric for every group, the rest for the
    /// page), with only some metrics, through one cache shared by several queries and filters, is
    /// exactly that slice of the full answer.
    #[test]
    fn paged_cached_and_partial_answers_are_slices_of_the_full_one(
        rows in proptest::collection::vec(row(), 1..120),
        asks in proptest::collection::vec(
            (0usize..6, 0usize..7, any::<bool>(), 0usize..5, 0usize..8, proptest::collection::vec(0usize..6, 0..4), any::<bool>()),
            1..6,
        ),
    ) {
        let table = Table::from_bytes(&to_csv(&rows)).unwrap();
        let mut cache = QueryCache::new();
        let queries: Vec<Query> = asks
            .iter()
            .map(|(key, sort, desc, offset, limit, metrics, active)| {
                // A key can only sort its own grouping.
                let by = if KEYS.contains(&SORTS[*sort]) { KEYS[*key] } else { SORTS[*sort] };
                let mut names: Vec<&str> = metrics.iter().map(|&m| METRICS[m]).collect();
                names.push(by);
                names.retain(|n| !KEYS.contains(n));
                serde_json::from_value(json!({
                    "groupBy": [KEYS[*key]],
                    "filter": {"activeOnly": active},
                    "sort": {"by": by, "desc": desc},
                    "offset": offset,
                    "limit": limit,
                    "metrics": names,
                }))
                .unwrap()
            })
            .collect();
        let many = table.summarize_many(&queries).unwrap();
        for (query, together) in queries.iter().zip(many) {
            let cached = cache.summarize(&table, query).unwrap().to_value();
            let together = together.to_value();
            let full_query = Query { limit: None, offset: 0, metrics: None, ..query.clone() };
            let full = table.summarize(&full_query).unwrap().to_value();
            let names = query.metrics.clone().unwrap();
            let project = |g: &Value| -> Value {
                let mut out = serde_json::Map::new();
                out.insert("key".into(), g["key"].clone());
                for n in &names {
                    out.insert(n.clone(), g[n.as_str()].clone());
                }
                Value::Object(out)
            };
            let expected: Vec<Value> = full["groups"]
                .as_array()
                .unwrap()
                .iter()
                .skip(query.offset)
                .take(query.limit.unwrap())
                .map(project)
                .collect();
            for answer in [&cached, &together] {
                prop_assert_eq!(&answer["groups"].as_array().unwrap().iter().map(project).collect::<Vec<_>>(), &expected);
                prop_assert_eq!(&answer["groupsTotal"], &full["groupsTotal"]);
                // Only the metrics asked for, in the summary's order, with the full answer's values.
                let totals = answer["totals"].as_object().unwrap();
                prop_assert_eq!(totals.len(), names.iter().collect::<std::collections::BTreeSet<_>>().len());
                for (name, value) in totals {
                    prop_assert!(names.contains(name));
                    prop_assert_eq!(value, &full["totals"][name.as_str()]);
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Growth accounting and retention cohorts equal the reference's (sets per period), by week
    /// and by month, with a date filter, whatever the row order.
    #[test]
    fn growth_and_retention_match_the_reference(rows in proptest::collection::vec(row(), 1..150), from in 0u8..20, len in 0u8..25, week in any::<bool>(), sorted in any::<bool>()) {
        let mut rows = rows;
        if sorted {
            rows.sort_by_key(|r| (r.user, r.day));
        }
        let csv = to_csv(&rows);
        let table = Table::from_bytes(&csv).unwrap();
        let (_, parsed) = common::rows(&csv);
        let parsed: Vec<&common::Row> = parsed.iter().collect();
        let (lo, hi) = (date(from), date(from + len));
        let period = if week { "week" } else { "month" };
        let query: PeriodQuery = serde_json::from_value(json!({"period": period, "filter": {"from": lo, "to": hi}})).unwrap();
        let sets = common::active_sets(&parsed, &lo, &hi, week);
        let growth = serde_json::to_value(table.growth(&query).unwrap()).unwrap();
        prop_assert_eq!(&growth["periods"], &common::reference_growth(&sets));
        let retention = serde_json::to_value(table.retention(&query).unwrap()).unwrap();
        prop_assert_eq!(&retention["cohorts"], &common::reference_retention(&sets));
    }
}
