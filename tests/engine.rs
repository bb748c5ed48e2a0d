//! The engine against the reference model on the sample exports, and the contract's edge cases.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use serde_json::{json, Value};
use sg_analytics::{ErrorKind, Query, QueryCache, Table};

fn summarize(csv: &[u8], query: Value) -> Value {
    let table = Table::from_bytes(csv).unwrap();
    let query: Query = serde_json::from_value(query).unwrap();
    table.summarize(&query).unwrap().to_value()
}

const ADDITIVE: &[&str] = &[
    "Searches",
    "Code Navigation Events",
    "Code Insight Views",
    "Chat Events",
    "Command Events",
    "Combined Completion Suggestions",
    "Combined Completion Acceptances",
    "Total Accepted Char Count",
    "Total Characters Written by Cody",
    "Total Characters Written",
    "Auto-edit suggested events",
    "Auto-edit accepted events",
    "Lines changed by chats and commands",
    "Lines changed by completions and auto-edits",
];

#[test]
fn monthly_summary_of_the_day_sample_matches_a_hand_computation() {
    let csv = fixture("by_user_day.csv");
    let (_, all) = rows(&csv);
    let s = summarize(&csv, json!({"groupBy": ["month"]}));
    let groups = s["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2);
    for g in groups {
        let month = g["key"]["month"].as_str().unwrap();
        let kept: Vec<&Row> = all
            .iter()
            .filter(|r| r.date.as_ref().unwrap().starts_with(month))
            .collect();
        for m in ADDITIVE {
            assert_eq!(g[m].as_f64().unwrap(), sum(&kept, m), "{month} {m}");
        }
        assert_eq!(g["users"], users(&kept));
        assert_eq!(g["activeUsers"], active_users(&kept));
        let car = sum(&kept, "Combined Completion Acceptances")
            / sum(&kept, "Combined Completion Suggestions");
        assert!(approx(g["Combined CAR"].as_f64().unwrap(), car));
        let (mut wn, mut wd) = (0.0, 0.0);
        for r in &kept {
            if let (Some(w), Some(s)) = (
                r.metrics["Weighted CAR"],
                r.metrics["Combined Completion Suggestions"],
            ) {
                if s > 0.0 {
                    wn += w * s;
                    wd += s;
                }
            }
        }
        assert!(
            approx(g["Weighted CAR"].as_f64().unwrap(), wn / wd),
            "{month} Weighted CAR"
        );
        let pct = 100.0 * sum(&kept, "Total Characters Written by Cody")
            / sum(&kept, "Total Characters Written");
        assert!(approx(
            g["Percentage of Code Written by Cody"].as_f64().unwrap(),
            pct
        ));
        // The sample runs 2025-03-01..2025-04-14: April's average is over its 14 days in range.
        let (from, to) = if month == "2025-03" {
            ("2025-03-01", "2025-03-31")
        } else {
            ("2025-04-01", "2025-04-14")
        };
        assert!(
            approx(g["avgDau"].as_f64().unwrap(), avg_dau(&kept, from, to)),
            "{month}"
        );
    }
    let everything: Vec<&Row> = all.iter().collect();
    let t = &s["totals"];
    assert!(approx(
        t["avgDau"].as_f64().unwrap(),
        avg_dau(&everything, "2025-03-01", "2025-04-14")
    ));
    let user_days: std::collections::BTreeSet<_> = all.iter().map(|r| (&r.user, &r.date)).collect();
    assert!(approx(
        t["avgDaysActivePerUser"].as_f64().unwrap(),
        user_days.len() as f64 / users(&everything) as f64
    ));
    let hours = (2.0 * sum(&everything, "Combined Completion Acceptances")
        + 2.0 * sum(&everything, "Auto-edit accepted events")
        + 5.0
            * (sum(&everything, "Chat Events")
                + sum(&everything, "Command Events")
                + sum(&everything, "Searches"))
        + sum(&everything, "Code Navigation Events"))
        / 60.0;
    assert!(approx(t["hoursSaved"].as_f64().unwrap(), hours));
}

#[test]
fn the_four_granularities_agree_on_totals() {
    let finest = summarize(&fixture("by_user_day_client_language.csv"), json!({}));
    for name in ["by_user.csv", "by_user_month.csv", "by_user_day.csv"] {
        let s = summarize(&fixture(name), json!({}));
        for m in ADDITIVE
            .iter()
            .copied()
            .chain(["users", "activeUsers", "hoursSaved"])
        {
            assert_eq!(s["totals"][m], finest["totals"][m], "{name}: {m}");
        }
        for rate in [
            "Combined CAR",
            "Percentage of Code Written by Cody",
            "Auto-edit acceptance rate",
        ] {
            assert!(
                approx(
                    s["totals"][rate].as_f64().unwrap(),
                    finest["totals"][rate].as_f64().unwrap()
                ),
                "{name}: {rate}"
            );
        }
    }
    let day = summarize(&fixture("by_user_day.csv"), json!({}));
    assert_eq!(day["totals"]["avgDau"], finest["totals"]["avgDau"]);
    assert_eq!(
        day["totals"]["avgDaysActivePerUser"],
        finest["totals"]["avgDaysActivePerUser"]
    );
    let by_user = summarize(&fixture("by_user.csv"), json!({}));
    assert_eq!(
        by_user["totals"]["avgDau"],
        Value::Null,
        "avgDau needs daily rows"
    );
    // Monthly groups of the month file equal monthly groups of the day file.
    let a = summarize(&fixture("by_user_month.csv"), json!({"groupBy": ["month"]}));
    let b = summarize(&fixture("by_user_day.csv"), json!({"groupBy": ["month"]}));
    for (x, y) in a["groups"]
        .as_array()
        .unwrap()
        .iter()
        .zip(b["groups"].as_array().unwrap())
    {
        assert_eq!(x["key"], y["key"]);
        for m in ADDITIVE.iter().copied().chain(["users", "activeUsers"]) {
            assert_eq!(x[m], y[m], "{m}");
        }
    }
}

#[test]
fn grouping_the_granularity_cannot_provide_is_an_error_that_says_so() {
    for (file, key) in [
        ("by_user_day.csv", "client"),
        ("by_user_month.csv", "day"),
        ("by_user.csv", "month"),
    ] {
        let table = Table::from_bytes(&fixture(file)).unwrap();
        let q: Query = serde_json::from_value(json!({"groupBy": [key]})).unwrap();
        let e = table.summarize(&q).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Query);
        assert!(
            e.message().contains(&format!("cannot group by {key}")),
            "{e}"
        );
        assert!(e.message().contains("granularity"), "{e}");
    }
}

#[test]
fn rates_with_a_zero_denominator_are_null() {
    let csv = b"Instance user ID,Active Sourcegraph User,Timestamp Date,Combined Completion Suggestions,Combined Completion Acceptances,Combined CAR\n1,true,2025-01-01,0,0,\n2,true,2025-01-02,4,1,0.25\n";
    let s = summarize(csv, json!({"groupBy": ["day"]}));
    assert_eq!(s["groups"][0]["Combined CAR"], Value::Null);
    assert_eq!(s["groups"][1]["Combined CAR"], 0.25);
    assert_eq!(s["totals"]["Combined CAR"], 0.25);
}

#[test]
fn filters_by_date_user_client_language_and_activity() {
    let csv = fixture("by_user_day_client_language.csv");
    let (_, all) = rows(&csv);
    let kept: Vec<&Row> = all
        .iter()
        .filter(|r| {
            r.date.as_deref().unwrap() >= "2025-03-10" && r.date.as_deref().unwrap() <= "2025-03-20"
        })
        .filter(|r| r.client == "vscode.cody" && (r.language == "go" || r.language.is_empty()))
        .collect();
    let s = summarize(
        &csv,
        json!({"filter": {"from": "2025-03-10", "to": "2025-03-20",
        "clients": ["VSCODE.cody"], "languages": ["go", ""]}}),
    );
    assert_eq!(s["totals"]["rows"], kept.len());
    assert_eq!(
        s["totals"]["Chat Events"].as_f64().unwrap(),
        sum(&kept, "Chat Events")
    );
    assert!(approx(
        s["totals"]["avgDau"].as_f64().unwrap(),
        avg_dau(&kept, "2025-03-10", "2025-03-20")
    ));

    let s = summarize(
        &csv,
        json!({"filter": {"users": ["eva.chen0@example.com", "1007"]}}),
    );
    assert_eq!(s["totals"]["users"], 2);
    let s = summarize(&csv, json!({"filter": {"userSearch": "OKAFOR"}}));
    let okafor: Vec<&Row> = all
        .iter()
        .filter(|r| r.user == "1014" || r.user == "1021")
        .collect();
    assert!(s["totals"]["users"].as_u64().unwrap() >= 2);
    assert!(s["totals"]["rows"].as_u64().unwrap() >= okafor.len() as u64);
}

#[test]
fn sort_limit_and_offset_page_through_groups() {
    let csv = fixture("by_user_day.csv");
    let all = summarize(
        &csv,
        json!({"groupBy": ["user"], "sort": {"by": "Chat Events", "desc": true}}),
    );
    let chats: Vec<f64> = all["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["Chat Events"].as_f64().unwrap())
        .collect();
    assert!(chats.windows(2).all(|w| w[0] >= w[1]));
    assert_eq!(all["groupsTotal"], 25);
    let page = summarize(
        &csv,
        json!({"groupBy": ["user"], "sort": {"by": "Chat Events", "desc": true}, "limit": 5, "offset": 5}),
    );
    assert_eq!(
        page["groups"].as_array().unwrap()[..],
        all["groups"].as_array().unwrap()[5..10]
    );
    let table = Table::from_bytes(&csv).unwrap();
    let bad: Query =
        serde_json::from_value(json!({"groupBy": ["user"], "sort": {"by": "nope"}})).unwrap();
    assert!(table
        .summarize(&bad)
        .unwrap_err()
        .message()
        .contains("cannot sort by \"nope\""));
}

#[test]
fn minutes_saved_are_configurable_and_checked() {
    let csv = fixture("by_user.csv");
    let base = summarize(&csv, json!({}));
    let more = summarize(&csv, json!({"minutesSaved": {"chat": 6, "Searches": 5}}));
    let chats = base["totals"]["Chat Events"].as_f64().unwrap();
    let diff = more["totals"]["hoursSaved"].as_f64().unwrap()
        - base["totals"]["hoursSaved"].as_f64().unwrap();
    assert!(approx(diff, chats / 60.0));
    let table = Table::from_bytes(&csv).unwrap();
    let bad: Query = serde_json::from_value(json!({"minutesSaved": {"coffee": 3}})).unwrap();
    assert!(table
        .summarize(&bad)
        .unwrap_err()
        .message()
        .contains("coffee"));
}

#[test]
fn an_export_without_the_features_of_hours_saved_saves_zero_hours_not_minus_zero() {
    // No column of `hoursSaved` is present: its sum has no terms, which Rust's float sum makes
    // -0.0. Every surface writes the summary's JSON, so it must say 0.
    let csv = b"User Email,Active Sourcegraph User\na@example.com,true\nb@example.com,false\n";
    let s = summarize(csv, json!({}));
    let hours = s["totals"]["hoursSaved"].as_f64().unwrap();
    assert_eq!(hours, 0.0);
    assert!(hours.is_sign_positive(), "hoursSaved is -0");
    assert!(!s.to_string().contains("-0"), "{s}");
}

#[test]
fn unknown_query_fields_are_rejected() {
    assert!(serde_json::from_value::<Query>(json!({"groupby": ["month"]})).is_err());
    assert!(serde_json::from_value::<Query>(json!({"filter": {"client": ["x"]}})).is_err());
}

#[test]
fn header_drift_is_matched_and_unknown_columns_flow_through() {
    let s = summarize(&fixture("header_drift.csv"), json!({}));
    assert_eq!(s["input"]["granularity"], "by_user_day");
    let columns: Vec<&str> = s["input"]["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(
        columns[..5],
        [
            "Instance user ID",
            "Username",
            "Active Sourcegraph User",
            "Timestamp Date",
            "Chat Events"
        ]
    );
    assert_eq!(s["totals"]["Chat Events"], 7);
    assert_eq!(
        s["totals"]["Agent Runs"], 4,
        "an unknown numeric column is summed"
    );
    assert!(
        s["totals"].get("Team").is_none(),
        "an unknown text column is not a metric"
    );
    assert!(approx(
        s["totals"]["Agent success rate"].as_f64().unwrap(),
        (0.5 + 1.0 + 0.25) / 3.0
    ));
    assert!(s["approximate"]
        .as_array()
        .unwrap()
        .contains(&json!("Agent success rate")));
    assert_eq!(s["totals"]["activeUsers"], 2);
    assert_eq!(s["totals"]["Combined CAR"], 0.3);
    assert_eq!(s["input"]["lastDate"], "2025-03-05");
    assert_eq!(s["warningsTotal"], 0);
}

#[test]
fn quoted_fields_keep_commas_quotes_and_newlines() {
    let table = Table::from_bytes(&fixture("quoted.csv")).unwrap();
    let s = table
        .summarize(&serde_json::from_value(json!({"groupBy": ["client"]})).unwrap())
        .unwrap()
        .to_value();
    let clients: Vec<&str> = s["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["key"]["client"].as_str().unwrap())
        .collect();
    assert_eq!(clients, ["jetbrains\ncody", "vscode.cody"]);
    let s = table
        .summarize(&serde_json::from_value(json!({"groupBy": ["user"]})).unwrap())
        .unwrap()
        .to_value();
    assert_eq!(s["groups"][0]["key"]["email"], "doe, jane@example.com");
    assert_eq!(s["groups"][0]["key"]["username"], "jane \"jd\" doe");
    // Written back, the same fields survive a round trip through a CSV reader.
    let out = table.filtered_csv(&Default::default()).unwrap();
    let again = Table::from_bytes(out.as_bytes()).unwrap();
    assert_eq!(
        again.summarize(&Default::default()).unwrap().to_value()["totals"],
        table.summarize(&Default::default()).unwrap().to_value()["totals"]
    );
}

#[test]
fn ragged_rows_are_skipped_and_reported_with_line_numbers() {
    let s = summarize(&fixture("ragged.csv"), json!({}));
    assert_eq!(s["input"]["rows"], 2);
    assert_eq!(s["input"]["skippedRows"], 2);
    let lines: Vec<u64> = s["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [3, 4]);
    assert!(s["warnings"][0]["message"]
        .as_str()
        .unwrap()
        .contains("3 fields, but the header has 4"));
    assert_eq!(s["totals"]["Chat Events"], 5);
}

#[test]
fn bad_cells_are_reported_and_count_as_empty() {
    let s = summarize(&fixture("bad_cells.csv"), json!({}));
    let w: Vec<(u64, &str)> = s["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["line"].as_u64().unwrap(), w["column"].as_str().unwrap()))
        .collect();
    assert_eq!(
        w,
        [
            (2, "Searches"),
            (3, "Active Sourcegraph User"),
            (4, "Timestamp Date")
        ]
    );
    assert_eq!(s["input"]["rows"], 4);
    assert_eq!(s["totals"]["Searches"], 4);
    assert_eq!(s["totals"]["Chat Events"].as_f64().unwrap(), 156.0);
    assert_eq!(s["totals"]["activeUsers"], 3);
}

#[test]
fn empty_input_is_an_error_and_header_only_is_zero_rows() {
    let e = Table::from_bytes(&fixture("empty.csv")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::EmptyInput);
    let s = summarize(&fixture("header_only.csv"), json!({"groupBy": ["month"]}));
    assert_eq!(s["input"]["rows"], 0);
    assert_eq!(s["totals"]["users"], 0);
    assert_eq!(s["totals"]["avgDau"], Value::Null);
    assert_eq!(s["groups"], json!([]));
}

#[test]
fn invalid_utf8_is_decoded_lossily() {
    let s = summarize(&fixture("invalid_utf8.csv"), json!({"groupBy": ["user"]}));
    assert_eq!(s["groups"][0]["key"]["username"], "caf\u{fffd}");
    assert_eq!(s["totals"]["Chat Events"], 3);
}

#[test]
fn filtered_rows_keep_original_columns_and_guard_formulas() {
    let table = Table::from_bytes(&fixture("hostile.csv")).unwrap();
    let out = table
        .filtered_csv(&serde_json::from_value(json!({"from": "2025-01-02"})).unwrap())
        .unwrap();
    let mut r = csv::Reader::from_reader(out.as_bytes());
    assert_eq!(
        r.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "Instance user ID",
            "User Email",
            "Username",
            "Active Sourcegraph User",
            "Timestamp Date",
            "Chat Events"
        ]
    );
    let recs: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    assert_eq!(recs.len(), 2);
    assert_eq!(&recs[0][1], "'@SUM(1+1)");
    assert_eq!(&recs[0][2], "'+cmd|' /C calc'!A0");
    assert_eq!(&recs[0][5], "-3", "a negative number is not a formula");
    // Written back as read: the leading tab stays, and is guarded like a formula.
    assert_eq!(&recs[1][1], "'\ttab@example.com");
    assert_eq!(&recs[1][2], "'-minus");
    let s = table
        .summarize(&serde_json::from_value(json!({"groupBy": ["user"]})).unwrap())
        .unwrap();
    let csv_out = s.to_csv();
    assert!(csv_out.contains("'=HYPERLINK("));
    assert!(!csv_out.contains(",=HYPERLINK("));
}

#[test]
fn month_rows_are_kept_when_their_month_overlaps_the_range() {
    let s = summarize(
        &fixture("by_user_month.csv"),
        json!({"filter": {"from": "2025-04-10"}}),
    );
    let (_, all) = rows(&fixture("by_user_month.csv"));
    let april: Vec<&Row> = all
        .iter()
        .filter(|r| r.date.as_deref() == Some("2025-04-01"))
        .collect();
    assert_eq!(s["totals"]["rows"], april.len());
}

#[test]
fn info_tells_what_the_export_can_answer() {
    let day = Table::from_bytes(&fixture("by_user_day.csv"))
        .unwrap()
        .info();
    assert_eq!(day.group_keys, ["user", "day", "week", "month"]);
    assert_eq!(day.time_keys, ["day", "week", "month"]);
    let finest = Table::from_bytes(&fixture("by_user_day_client_language.csv"))
        .unwrap()
        .info();
    assert_eq!(
        finest.group_keys,
        ["user", "day", "week", "month", "client", "language"]
    );
    let month = Table::from_bytes(&fixture("by_user_month.csv"))
        .unwrap()
        .info();
    assert_eq!(month.group_keys, ["user", "month"]);
    assert_eq!(month.time_keys, ["month"]);
    let kind = |name: &str| {
        let m = finest.metrics.iter().find(|m| m.name == name).unwrap();
        (serde_json::to_value(m.kind).unwrap(), m.percent)
    };
    assert_eq!(kind("Chat Events"), (json!("count"), false));
    assert_eq!(kind("Combined CAR"), (json!("rate"), false));
    assert_eq!(kind("Weighted CAR"), (json!("approximate"), false));
    assert_eq!(
        kind("Percentage of Code Written by Cody"),
        (json!("rate"), true)
    );
    let minutes: Value = serde_json::to_value(&finest).unwrap()["defaultMinutes"].clone();
    assert_eq!(minutes["Chat Events"], 5.0);
    assert_eq!(minutes["Combined Completion Acceptances"], 2.0);
    // Filter choices, most rows first: the counts say so.
    let (_, all) = rows(&fixture("by_user_day_client_language.csv"));
    let clients = finest.choices.clients.clone().unwrap();
    let count = |c: &str| all.iter().filter(|r| r.client == c).count();
    assert!(clients.windows(2).all(|w| count(&w[0]) >= count(&w[1])));
    assert_eq!(
        clients.len(),
        all.iter()
            .map(|r| r.client.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    );
    assert!(day.choices.clients.is_none());
}

#[test]
fn a_query_computes_and_reports_only_the_metrics_it_names() {
    let csv = fixture("by_user_day.csv");
    let s = summarize(
        &csv,
        json!({"groupBy": ["month"], "metrics": ["Chat Events", "users"], "includeWarnings": false}),
    );
    let names: Vec<&String> = s["totals"].as_object().unwrap().keys().collect();
    assert_eq!(names, ["users", "Chat Events"]); // the summary's order, not the query's
    assert!(s.get("warnings").is_none());
    let full = summarize(&csv, json!({"groupBy": ["month"]}));
    assert_eq!(s["totals"]["Chat Events"], full["totals"]["Chat Events"]);
    assert_eq!(s["groups"][0]["users"], full["groups"][0]["users"]);
    let table = Table::from_bytes(&csv).unwrap();
    let q: Query = serde_json::from_value(json!({"metrics": ["Chat Evnts"]})).unwrap();
    let e = table.summarize(&q).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Query);
    assert!(e.message().contains("\"Chat Evnts\"") && e.message().contains("Chat Events"));
}

#[test]
fn summarize_many_answers_each_query_as_alone_and_names_the_one_that_fails() {
    let table = Table::from_bytes(&fixture("by_user_day.csv")).unwrap();
    let queries: Vec<Query> = serde_json::from_value(json!([
        {"groupBy": ["user"], "sort": {"by": "hoursSaved", "desc": true}, "limit": 5},
        {"groupBy": ["week"], "metrics": ["activeUsers"]},
        {"groupBy": ["user"], "filter": {"activeOnly": true}, "limit": 3, "offset": 2},
        {},
    ]))
    .unwrap();
    let many = table.summarize_many(&queries).unwrap();
    for (q, s) in queries.iter().zip(&many) {
        assert_eq!(s.to_value(), table.summarize(q).unwrap().to_value());
    }
    let bad: Vec<Query> = serde_json::from_value(json!([{}, {"groupBy": ["client"]}])).unwrap();
    let e = table.summarize_many(&bad).unwrap_err();
    assert!(
        e.message().starts_with("query 2: cannot group by client"),
        "{e}"
    );
}

#[test]
fn sums_beyond_2_pow_53_are_reported_as_the_nearest_float() {
    let csv = b"Instance user ID,Chat Events\n1,9007199254740993\n2,1\n";
    let s = summarize(csv, json!({}));
    let chat = &s["totals"]["Chat Events"];
    assert!(chat.is_f64(), "{chat}");
    assert_eq!(chat.as_f64(), Some(9007199254740994.0));
    let small = summarize(b"Instance user ID,Chat Events\n1,3\n", json!({}));
    assert!(small["totals"]["Chat Events"].is_i64());
}

/// The cache keeps one filter's work: a view with a new filter replaces the last one's, so what
/// it holds stays within a few bytes a row however many views are asked for.
#[test]
fn the_query_cache_holds_one_filter_and_stays_bounded() {
    let days = common::days("2025-01-01", "2025-03-31");
    let mut csv = String::from("Instance user ID,Username,Active Sourcegraph User,Client Name,Timestamp Date,Language,Chat Events,Combined Completion Suggestions,Combined Completion Acceptances\n");
    let mut rows = 0;
    for user in 0..60 {
        for (d, day) in days.iter().enumerate() {
            for (c, client) in ["vscode.cody", "jetbrains.cody"].iter().enumerate() {
                if (user + d + c) % 3 == 0 {
                    continue;
                }
                let language = ["go", "rust", ""][(user + d) % 3];
                let active = (user + d) % 4 != 0;
                csv += &format!(
                    "{user},u{user},{active},{client},{day},{language},{},{},{}\n",
                    d % 7,
                    c + d % 5,
                    d % 3
                );
                rows += 1;
            }
        }
    }
    let table = Table::from_bytes(csv.as_bytes()).unwrap();
    let view = |from: &str, active: bool| -> Vec<Query> {
        let filter = json!({"from": from, "activeOnly": active});
        serde_json::from_value(json!([
            {"groupBy": ["user"], "filter": filter, "sort": {"by": "hoursSaved", "desc": true}, "limit": 25},
            {"groupBy": ["week"], "filter": filter, "metrics": ["activeUsers"]},
            {"groupBy": ["client"], "filter": filter, "metrics": ["hoursSaved"], "sort": {"by": "hoursSaved", "desc": true}, "limit": 12},
            {"groupBy": ["language"], "filter": filter, "metrics": ["hoursSaved"], "sort": {"by": "hoursSaved", "desc": true}, "limit": 12},
            {"groupBy": ["user", "day"], "filter": filter, "metrics": ["rows"]},
        ]))
        .unwrap()
    };
    let mut cache = QueryCache::new();
    cache.summarize_many(&table, &view(&days[1], true)).unwrap();
    let one = cache.heap_bytes();
    assert!(
        one >= rows,
        "a filtered view keeps at least its row mask: {one} bytes"
    );
    let mut most = one;
    for (i, day) in days.iter().enumerate().take(40) {
        let answers = cache
            .summarize_many(&table, &view(day, i % 2 == 0))
            .unwrap();
        // The cached answers are the uncached ones.
        let fresh = table.summarize_many(&view(day, i % 2 == 0)).unwrap();
        assert_eq!(
            answers.iter().map(|a| a.to_value()).collect::<Vec<_>>(),
            fresh.iter().map(|a| a.to_value()).collect::<Vec<_>>()
        );
        most = most.max(cache.heap_bytes());
    }
    // One filter's state: a row mask, at most four groupings of 4-byte ids (or fewer bytes of
    // runs), and per group a row, a size, a rank and the metrics asked (user × day has nearly a
    // group a row here); never the sum of forty views.
    assert!(
        most <= 2 * one,
        "{most} bytes after 40 views, {one} after one"
    );
    assert!(most <= 32 * rows, "{most} bytes for {rows} rows");
}

/// A query's totals are the same numbers to the last digit whatever it groups by (totals may be
/// added up from the groups' sums, which must then be exact).
#[test]
fn totals_do_not_depend_on_the_grouping() {
    for file in [
        "by_user_day_client_language.csv",
        "by_user_day.csv",
        "by_user_month.csv",
    ] {
        let csv = fixture(file);
        let plain = summarize(&csv, json!({}))["totals"].clone();
        for keys in [
            json!(["day"]),
            json!(["user"]),
            json!(["month"]),
            json!(["client", "language"]),
        ] {
            let table = Table::from_bytes(&csv).unwrap();
            let query: Query = serde_json::from_value(json!({"groupBy": keys})).unwrap();
            let Ok(grouped) = table.summarize(&query) else {
                continue;
            };
            assert_eq!(grouped.to_value()["totals"], plain, "{file} by {keys}");
        }
    }
}

/// A people file that lists its users again and again gave one warning per line, uncapped
/// (200 000 lines on stderr): the first ones are kept, all are counted, as the report's own.
#[test]
fn a_people_files_warnings_are_capped_and_counted() {
    let mut table = Table::from_bytes(b"Instance user ID,Chat Events\n1,2\n").unwrap();
    let mut people = String::from("Instance user ID,Team\n1,A\n");
    for _ in 0..5000 {
        people.push_str("1,B\n");
    }
    let join = table.join_attributes(people.as_bytes()).unwrap();
    assert_eq!(join.warnings.len(), Table::MAX_WARNINGS);
    assert_eq!(join.warnings_total, 5000);
    assert_eq!(join.warnings[0].line, 3);
    assert_eq!(join.matched, 1);
}

/// A people file's column names are checked against each other and the export's by hash: the
/// clash is still found among many columns, whatever its case against the export.
#[test]
fn a_people_files_column_clashes_are_found_among_many() {
    let mut table = Table::from_bytes(b"Instance user ID,Chat Events\n1,2\n").unwrap();
    let names: Vec<String> = (0..20_000).map(|i| format!("c{i}")).collect();
    let header = format!("Instance user ID,{},c7\n", names.join(","));
    let e = table.join_attributes(header.as_bytes()).unwrap_err();
    assert!(e.to_string().contains("\"c7\" appears twice"), "{e}");
    let e = table
        .join_attributes(b"Instance user ID,CHAT EVENTS\n1,x\n")
        .unwrap_err();
    assert!(e.to_string().contains("built-in key"), "{e}");
    let header = format!("Instance user ID,{}\n", names.join(","));
    assert_eq!(
        table
            .join_attributes(header.as_bytes())
            .unwrap()
            .attributes
            .len(),
        20_000
    );
}

/// Regression: a download named its columns otherwise than the screen (`avgDau`), mixed a fraction
/// (CAR 0.222) with a percent (13.47) without saying so, and recorded neither the filters nor the
/// range. The summary carries the filter asked, the range its figures cover and each field's
/// heading with a rate's scale; `headers: "labels"` writes those headings as the CSV's header.
#[test]
fn a_summary_records_its_filter_range_and_headings_and_its_csv_can_use_the_headings() {
    let csv = fixture("by_user_day.csv");
    let query = json!({"groupBy": ["week"], "filter": {"from": "2025-03-03", "clients": []}});
    let s = summarize(&csv, query.clone());
    assert_eq!(s["filter"], json!({"from": "2025-03-03"}));
    let last = Table::from_bytes(&csv)
        .unwrap()
        .info()
        .input
        .last_date
        .unwrap();
    assert_eq!(s["range"], json!({"from": "2025-03-03", "to": last}));
    let labels = &s["labels"];
    assert_eq!(labels["week"], "Week of");
    assert_eq!(labels["avgDau"], "Average DAU");
    assert_eq!(labels["Chat Events"], "Chat Events");
    assert_eq!(labels["Combined CAR"], "Combined CAR (ratio 0–1)");
    assert_eq!(
        labels["Percentage of Code Written by Cody"],
        "Percentage of Code Written by Cody (%)"
    );
    // Every key and metric has one.
    let named = s["totals"].as_object().unwrap().len() + 1;
    assert_eq!(labels.as_object().unwrap().len(), named);

    let table = Table::from_bytes(&csv).unwrap();
    let mut q: Query = serde_json::from_value(query).unwrap();
    let names = table.summarize(&q).unwrap().to_csv();
    q.headers = sg_analytics::Headers::Labels;
    let labelled = table.summarize(&q).unwrap().to_csv();
    let header = |text: &str| text.lines().next().unwrap().to_string();
    assert!(header(&names).starts_with("week,rows,users,activeUsers,avgDau,"));
    assert!(header(&labelled).starts_with("Week of,Rows,Users,Active users,Average DAU,"));
    assert!(header(&labelled).contains("Combined CAR (ratio 0–1)"));
    // Only the header differs.
    assert_eq!(
        names.lines().skip(1).collect::<Vec<_>>(),
        labelled.lines().skip(1).collect::<Vec<_>>()
    );
    // The metrics' headings are info()'s too, for the page.
    let info = table.info();
    let car = info
        .metrics
        .iter()
        .find(|m| m.name == "Combined CAR")
        .unwrap();
    assert_eq!(car.label, "Combined CAR (ratio 0–1)");
    assert!(info
        .labels
        .iter()
        .any(|(n, l)| n == "avgDau" && l == "Average DAU"));
}

/// A page of many groups sorts only the groups up to a few pages past it: every page, in any
/// order through one cache, is that slice of the whole order (ties broken by the group keys).
#[test]
fn pages_of_many_groups_are_slices_of_the_whole_order() {
    let mut csv =
        String::from("Instance user ID,Active Sourcegraph User,Timestamp Date,Chat Events\n");
    for u in 0..3000 {
        // Few distinct values: most groups tie on the metric, so the keys decide.
        csv += &format!("{u},true,2025-01-01,{}\n", (u * 7919) % 13);
    }
    let table = Table::from_bytes(csv.as_bytes()).unwrap();
    let ask = |offset: usize, limit: Option<usize>, desc: bool| -> Query {
        let mut q = json!({"groupBy": ["user"], "sort": {"by": "Chat Events", "desc": desc}, "offset": offset});
        if let Some(limit) = limit {
            q["limit"] = limit.into();
        }
        serde_json::from_value(q).unwrap()
    };
    for desc in [true, false] {
        let all = table.summarize(&ask(0, None, desc)).unwrap().to_value();
        let all = all["groups"].as_array().unwrap();
        assert_eq!(all.len(), 3000);
        let mut cache = QueryCache::new();
        for (offset, limit) in [
            (0, 25),
            (25, 25),
            (2900, 100),
            (1000, 10),
            (0, 25),
            (2990, 50),
        ] {
            let page = cache
                .summarize(&table, &ask(offset, Some(limit), desc))
                .unwrap()
                .to_value();
            let end = (offset + limit).min(all.len());
            assert_eq!(
                page["groups"].as_array().unwrap()[..],
                all[offset..end],
                "offset {offset}, desc {desc}"
            );
            assert_eq!(page["groupsTotal"], 3000);
        }
    }
}
