//! Stickiness, feature depth and partial periods against answers worked out by hand on a small
//! export whose range starts on a Wednesday and ends on a Tuesday (partial weeks at both ends).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::*;
use serde_json::{json, Value};
use sg_analytics::{ErrorKind, PeriodQuery, Table};

/// 2025-01-01 (Wed) to 2025-01-14 (Tue). A is active on 6 days and uses every feature; B is active
/// on 3 days (its 01-09 row is not active, so its searches that day do not count, and its 01-03
/// and 01-10 rows use no feature); C's only row is not active.
const EXPORT: &str = include_str!("fixtures/engagement.csv");

fn query(v: Value) -> PeriodQuery {
    serde_json::from_value(v).unwrap()
}

fn table() -> Table {
    Table::from_bytes(EXPORT.as_bytes()).unwrap()
}

#[test]
fn stickiness_by_week_counts_days_active_and_dau_over_the_days_in_the_range() {
    let got = serde_json::to_value(
        table()
            .stickiness(&query(json!({"period": "week"})))
            .unwrap(),
    )
    .unwrap();
    assert_eq!(got["period"], "week");
    let periods = got["periods"].as_array().unwrap();
    // Week of 2024-12-30: 5 days in the range (Jan 1-5); A on 2 days, B on 1; DAU 1,1,1,0,0.
    // Week of 2025-01-06: 7 days; A on 3, B on 1 (01-09 is not active); DAU 1,1,1,0,1,0,0.
    // Week of 2025-01-13: 2 days in the range; A and B on 1 each; DAU 1,1.
    let expected = [
        ("2024-12-30", true, vec![1, 1, 0, 0, 0], 3.0 / 5.0),
        ("2025-01-06", false, vec![1, 0, 1, 0, 0, 0, 0], 4.0 / 7.0),
        ("2025-01-13", true, vec![2, 0], 1.0),
    ];
    assert_eq!(periods.len(), expected.len());
    for (p, (key, partial, days, dau)) in periods.iter().zip(expected) {
        assert_eq!(p["period"], key);
        assert_eq!(p["partial"], partial, "{key}");
        assert_eq!(p["activeUsers"], 2, "{key}");
        assert_eq!(p["daysActive"], json!(days), "{key}");
        assert!(approx(p["avgDau"].as_f64().unwrap(), dau), "{key}: {p}");
        assert!(
            approx(p["dauOverMau"].as_f64().unwrap(), dau / 2.0),
            "{key}"
        );
    }
}

#[test]
fn stickiness_by_month_and_a_range_of_whole_weeks() {
    let t = table();
    let month = t.stickiness(&query(json!({"period": "month"}))).unwrap();
    assert_eq!(month.periods.len(), 1);
    let january = &month.periods[0];
    // 14 days of January in the range: partial. A on 6 days, B on 3; 9 user-days over 14 days.
    assert!(january.partial);
    assert_eq!(january.days_active.len(), 14);
    let mut histogram = vec![0; 14];
    (histogram[2], histogram[5]) = (1, 1);
    assert_eq!(january.days_active, histogram);
    assert!(approx(january.avg_dau, 9.0 / 14.0));

    // A range of one whole week: nothing partial; an empty week is listed with no one active.
    let week = t
        .stickiness(&query(
            json!({"period": "week", "filter": {"from": "2025-01-06", "to": "2025-01-19"}}),
        ))
        .unwrap();
    assert_eq!(week.periods.len(), 2);
    assert!(week.periods.iter().all(|p| !p.partial));
    let last = &week.periods[1];
    assert_eq!(last.period, "2025-01-13");
    assert_eq!(
        (last.active_users, last.dau_over_mau),
        (2, Some(2.0 / 7.0 / 2.0))
    );
}

#[test]
fn feature_depth_by_week_counts_users_first_timers_and_breadth() {
    let got =
        serde_json::to_value(table().features(&query(json!({"period": "week"}))).unwrap()).unwrap();
    assert_eq!(
        got["features"],
        json!(["search", "completions", "chat", "autoEdit"])
    );
    let expected = json!([
        {
            "period": "2024-12-30", "partial": true, "activeUsers": 2,
            // A searched and accepted completions; B was active with no feature.
            "users": {"search": 1, "completions": 1, "chat": 0, "autoEdit": 0},
            "newUsers": {"search": 1, "completions": 1, "chat": 0, "autoEdit": 0},
            "breadth": [1, 0, 1, 0, 0], "smallSample": true
        },
        {
            "period": "2025-01-06", "partial": false, "activeUsers": 2,
            // A: chat (a chat and two commands) and search again; B's searches were on a day
            // it was not active.
            "users": {"search": 1, "completions": 0, "chat": 1, "autoEdit": 0},
            "newUsers": {"search": 0, "completions": 0, "chat": 1, "autoEdit": 0},
            "breadth": [1, 0, 1, 0, 0], "smallSample": true
        },
        {
            "period": "2025-01-13", "partial": true, "activeUsers": 2,
            // A: auto-edit for the first time; B: completions for the first time.
            "users": {"search": 0, "completions": 1, "chat": 0, "autoEdit": 1},
            "newUsers": {"search": 0, "completions": 1, "chat": 0, "autoEdit": 1},
            "breadth": [0, 2, 0, 0, 0], "smallSample": true
        }
    ]);
    assert_eq!(got["periods"], expected);
}

#[test]
fn feature_depth_leaves_out_a_feature_whose_columns_the_export_lacks() {
    // Without the auto-edit column, and without Command Events (chat needs both of its columns).
    let csv: String = EXPORT
        .lines()
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            format!("{}\n", [&cells[..5], &cells[6..7]].concat().join(","))
        })
        .collect();
    let t = Table::from_bytes(csv.as_bytes()).unwrap();
    let got = t.features(&query(json!({"period": "month"}))).unwrap();
    assert_eq!(got.features, ["search", "completions"]);
    let january = &got.periods[0];
    assert_eq!(january.users.get("search"), Some(1));
    assert_eq!(january.users.get("completions"), Some(2));
    assert_eq!(january.users.get("autoEdit"), None);
    // A used both, B completions only.
    assert_eq!(january.breadth, [0, 1, 1]);
}

#[test]
fn month_and_user_grain_exports_say_which_granularity_to_fetch() {
    for file in ["by_user_month.csv", "by_user.csv"] {
        let t = Table::from_bytes(&fixture(file)).unwrap();
        for e in [
            t.stickiness(&query(json!({"period": "month"})))
                .unwrap_err(),
            t.features(&query(json!({"period": "month"}))).unwrap_err(),
        ] {
            assert_eq!(e.kind(), ErrorKind::Query);
            assert!(e.message().contains("by_user_day"), "{file}: {e}");
        }
    }
}

#[test]
fn growth_and_retention_mark_the_partial_periods_at_both_ends() {
    let t = table();
    let growth = t.growth(&query(json!({"period": "week"}))).unwrap();
    let partial: Vec<bool> = growth.periods.iter().map(|p| p.partial).collect();
    assert_eq!(partial, [true, false, true]);
    let retention = t.retention(&query(json!({"period": "week"}))).unwrap();
    assert_eq!(retention.partial_periods, ["2024-12-30", "2025-01-13"]);
    let whole =
        query(json!({"period": "week", "filter": {"from": "2024-12-30", "to": "2025-01-19"}}));
    assert!(t.growth(&whole).unwrap().periods.iter().all(|p| !p.partial));
    assert!(t.retention(&whole).unwrap().partial_periods.is_empty());

    // A month-grain export's rows cover their months: partial only where a filter cuts one.
    let months = Table::from_bytes(&fixture("by_user_month.csv")).unwrap();
    let all = months.growth(&query(json!({"period": "month"}))).unwrap();
    assert!(all.periods.iter().all(|p| !p.partial));
    let first = all.periods[0].period.clone();
    let cut = query(json!({"period": "month", "filter": {"from": format!("{first}-15")}}));
    let partial: Vec<bool> = months
        .growth(&cut)
        .unwrap()
        .periods
        .iter()
        .map(|p| p.partial)
        .collect();
    assert!(partial[0]);
    assert!(partial[1..].iter().all(|p| !p));
    assert_eq!(months.retention(&cut).unwrap().partial_periods, [first]);
}

/// The CSVs (the CLI's `--format csv` and the page's downloads) hold what the answers hold, under
/// named columns; a shorter period's histogram ends in blank cells.
#[test]
fn stickiness_and_feature_depth_csv_hold_the_answers() {
    let t = table();
    let parse = |text: &str| -> Vec<Vec<String>> {
        csv::Reader::from_reader(text.as_bytes())
            .records()
            .map(|r| r.unwrap().iter().map(String::from).collect())
            .collect()
    };
    let header = |text: &str| -> Vec<String> {
        let mut r = csv::Reader::from_reader(text.as_bytes());
        r.headers().unwrap().iter().map(String::from).collect()
    };
    let week = query(json!({"period": "week"}));
    let stickiness = t.stickiness(&week).unwrap();
    let text = stickiness.to_csv();
    let h = header(&text);
    assert_eq!(
        &h[..6],
        [
            "period",
            "partial",
            "activeUsers",
            "avgDau",
            "dauOverMau",
            "smallSample"
        ]
    );
    assert_eq!(
        h[6..],
        (1..=7).map(|n| format!("days{n}")).collect::<Vec<_>>()
    );
    let rows = parse(&text);
    assert_eq!(rows.len(), 3);
    for (row, p) in rows.iter().zip(&stickiness.periods) {
        assert_eq!(row[0], p.period);
        assert_eq!(row[1], p.partial.to_string());
        assert_eq!(row[2].parse::<u64>().unwrap(), p.active_users);
        assert!(approx(row[3].parse().unwrap(), p.avg_dau));
        assert_eq!(row[5], p.small_sample.to_string());
        let days: Vec<u64> = row[6..]
            .iter()
            .take_while(|c| !c.is_empty())
            .map(|c| c.parse().unwrap())
            .collect();
        assert_eq!(days, p.days_active);
        assert!(row[6 + days.len()..].iter().all(String::is_empty));
    }

    let features = t.features(&week).unwrap();
    let text = features.to_csv();
    let h = header(&text);
    let rows = parse(&text);
    for (row, p) in rows.iter().zip(&features.periods) {
        let at = |name: &str| &row[h.iter().position(|c| c == name).unwrap()];
        assert_eq!(at("period"), &p.period);
        assert_eq!(at("activeUsers").parse::<u64>().unwrap(), p.active_users);
        assert_eq!(at("smallSample"), &p.small_sample.to_string());
        for f in &features.features {
            assert_eq!(
                at(&format!("{f} users")).parse::<u64>().ok(),
                p.users.get(f)
            );
            assert_eq!(
                at(&format!("{f} new users")).parse::<u64>().ok(),
                p.new_users.get(f)
            );
        }
        for (k, n) in p.breadth.iter().enumerate() {
            assert_eq!(at(&format!("breadth{k}")).parse::<u64>().unwrap(), *n);
        }
    }
}

/// The latest complete period is the core's one rule (the page's histogram and the report's ask
/// for it): the last period the range covers whole with someone active in it.
#[test]
fn the_latest_complete_period_is_whole_and_has_active_users() {
    let t = table();
    let latest = |v: Value| t.stickiness(&query(v)).unwrap().latest_complete;
    // Weeks of Dec 30 (partial), Jan 6 (whole), Jan 13 (partial): Jan 6.
    assert_eq!(
        latest(json!({"period": "week"})).as_deref(),
        Some("2025-01-06")
    );
    // Jan 6 to 26: three whole weeks, the last with no one active: Jan 13.
    assert_eq!(
        latest(json!({"period": "week", "filter": {"from": "2025-01-06", "to": "2025-01-26"}}))
            .as_deref(),
        Some("2025-01-13")
    );
    // One month, covered for 14 of its 31 days: none.
    assert_eq!(latest(json!({"period": "month"})), None);
    let json =
        serde_json::to_value(t.stickiness(&query(json!({"period": "month"}))).unwrap()).unwrap();
    assert_eq!(json["latestComplete"], Value::Null);
}

/// Each feature's heading comes from the core with the answer, for the page, the report and the
/// CLI's table; an export without a feature's columns has no heading for it.
#[test]
fn feature_depth_carries_each_features_heading() {
    let got =
        serde_json::to_value(table().features(&query(json!({"period": "week"}))).unwrap()).unwrap();
    assert_eq!(
        got["labels"],
        json!({"search": "Search", "completions": "Completions", "chat": "Chat", "autoEdit": "Auto-edit"})
    );
    let csv: String = EXPORT
        .lines()
        .map(|line| format!("{}\n", line.rsplit_once(',').unwrap().0))
        .collect();
    let t = Table::from_bytes(csv.as_bytes()).unwrap();
    let f = t.features(&query(json!({"period": "week"}))).unwrap();
    assert_eq!(f.features, ["search", "completions", "chat"]);
    assert_eq!(
        f.labels.iter().map(|(_, l)| l.as_str()).collect::<Vec<_>>(),
        ["Search", "Completions", "Chat"]
    );
}

/// A page's starting minimum is the module's default (`info().defaultMinSample`), the one a
/// period query without `minSample` uses: 2 active users are under it, and not under 2.
#[test]
fn the_default_minimum_is_the_one_info_states() {
    let t = table();
    let info = serde_json::to_value(t.info()).unwrap();
    assert_eq!(info["defaultMinSample"], 50);
    let small = |v: Value| -> Vec<bool> {
        let s = t.stickiness(&query(v)).unwrap();
        s.periods.iter().map(|p| p.small_sample).collect()
    };
    assert_eq!(small(json!({"period": "week"})), [true, true, true]);
    assert_eq!(
        small(json!({"period": "week", "minSample": 2})),
        [false, false, false]
    );
}

/// `compare: "lastPeriods"`: the totals over the last two periods the range covers whole (months,
/// else weeks), the cards' comparison when the range before holds no data; absent when the range
/// holds fewer than two whole periods.
#[test]
fn the_last_two_whole_periods_of_the_range_are_compared() {
    let t = table();
    // Jan 1 (Wed) to Jan 14 (Tue): no whole month, one whole week (Jan 6-12): nothing to compare.
    let none = summary(&t, json!({"compare": "lastPeriods"}));
    assert!(none.get("lastPeriods").is_none(), "{none}");
    assert!(none.get("previous").is_none());
    // Dec 30 to Jan 19: three whole weeks; the last two are Jan 6-12 and Jan 13-19. Jan 6-12
    // holds 5 rows (A on 6, 7, 8; B on 9, 10) and 6 searches (A's 1, B's 5 on a row that is
    // not active but is kept); Jan 13-19 holds 2 rows and none. Both weeks: A and B active.
    let weeks = summary(
        &t,
        json!({"compare": "lastPeriods",
        "filter": {"from": "2024-12-30", "to": "2025-01-19"}}),
    )["lastPeriods"]
        .clone();
    assert_eq!(weeks["period"], "week");
    assert_eq!(weeks["before"]["period"], "2025-01-06");
    assert_eq!(
        weeks["before"]["range"],
        json!({"from": "2025-01-06", "to": "2025-01-12"})
    );
    assert_eq!(weeks["latest"]["period"], "2025-01-13");
    assert_eq!(
        weeks["latest"]["range"],
        json!({"from": "2025-01-13", "to": "2025-01-19"})
    );
    let total = |which: &str, name: &str| weeks[which]["totals"][name].as_f64().unwrap();
    assert_eq!(
        (total("before", "rows"), total("latest", "rows")),
        (5.0, 2.0)
    );
    assert_eq!(
        (total("before", "Searches"), total("latest", "Searches")),
        (6.0, 0.0)
    );
    assert_eq!(
        (
            total("before", "activeUsers"),
            total("latest", "activeUsers")
        ),
        (2.0, 2.0)
    );
    // Dec 1 to Feb 28: three whole months; months come before weeks. February has no rows.
    let months = summary(
        &t,
        json!({"compare": "lastPeriods",
        "filter": {"from": "2024-12-01", "to": "2025-02-28"}}),
    )["lastPeriods"]
        .clone();
    assert_eq!(months["period"], "month");
    assert_eq!(
        (&months["before"]["period"], &months["latest"]["period"]),
        (&json!("2025-01"), &json!("2025-02"))
    );
    assert_eq!(months["before"]["totals"]["rows"], 11);
    assert_eq!(months["latest"]["totals"]["rows"], 0);
}

/// A month-grain export's rows cover their whole month: March and April are whole, and there are
/// no weeks to fall back on.
#[test]
fn a_month_export_compares_its_last_two_months() {
    let t = Table::from_bytes(include_bytes!("fixtures/by_user_month.csv")).unwrap();
    let got = summary(&t, json!({"compare": "lastPeriods"}));
    let last = &got["lastPeriods"];
    assert_eq!(last["period"], "month");
    assert_eq!(
        (&last["before"]["period"], &last["latest"]["period"]),
        (&json!("2025-03"), &json!("2025-04"))
    );
    // The fixture's Searches column: 1062 in March, 500 in April (summed by hand with awk).
    assert_eq!(last["before"]["totals"]["Searches"], 1062.0);
    assert_eq!(last["latest"]["totals"]["Searches"], 500.0);
    assert_eq!(last["before"]["totals"]["rows"], 25);
}

/// The summary of a query given as JSON, as JSON.
fn summary(t: &Table, query: Value) -> Value {
    let q: sg_analytics::Query = serde_json::from_value(query).unwrap();
    serde_json::to_value(t.summarize(&q).unwrap()).unwrap()
}
