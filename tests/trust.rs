//! What the page's charts and table may show, as the core decides it: the metrics a chart can
//! pick (rates included, each group's rate the ratio of its sums), and which metrics mean
//! something per group.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::collections::BTreeMap;

use common::*;
use serde_json::{json, Value};
use sg_analytics::{Query, Table};

/// A JSON list of strings.
fn names(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect()
}

fn summarize(table: &Table, query: Value) -> Value {
    let query: Query = serde_json::from_value(query).unwrap();
    table.summarize(&query).unwrap().to_value()
}

#[test]
fn every_metric_can_be_charted_rates_included_and_a_weeks_rate_is_the_ratio_of_its_sums() {
    let csv = fixture("by_user_day.csv");
    let table = Table::from_bytes(&csv).unwrap();
    let info = table.info();
    // Every column's metric is offered, whatever its kind, after the structural ones.
    let columns: Vec<&str> = info.metrics.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(
        &info.chart_metrics[..3],
        ["hoursSaved", "activeUsers", "users"]
    );
    assert_eq!(&info.chart_metrics[3..], &columns[..]);
    assert!(info.chart_metrics.iter().any(|m| m == "Combined CAR"));
    assert!(info
        .chart_metrics
        .iter()
        .any(|m| m == "Percentage of Code Written by Cody"));
    let denominator = |name: &str| {
        info.metrics
            .iter()
            .find(|m| m.name == name)
            .unwrap()
            .denominator
            .clone()
    };
    assert_eq!(
        denominator("Combined CAR").as_deref(),
        Some("Combined Completion Suggestions")
    );
    assert_eq!(denominator("Chat Events"), None);

    // The time chart's query: one rate and its denominator per week.
    let (_, all) = rows(&csv);
    let mut weeks: BTreeMap<String, Vec<&Row>> = BTreeMap::new();
    for r in &all {
        weeks
            .entry(period_key(r.date.as_deref().unwrap(), true))
            .or_default()
            .push(r);
    }
    // A minimum between the weeks' denominators, so that some weeks are under it and some not.
    let mut sizes: Vec<f64> = weeks
        .values()
        .map(|rows| sum(rows, "Combined Completion Suggestions"))
        .collect();
    sizes.sort_by(f64::total_cmp);
    let minimum = sizes[sizes.len() / 2];
    let s = summarize(
        &table,
        json!({"groupBy": ["week"], "metrics": ["Combined CAR", "Combined Completion Suggestions"], "minSample": minimum as u64}),
    );
    let groups = s["groups"].as_array().unwrap();
    assert_eq!(groups.len(), weeks.len());
    let mut small = 0;
    for g in groups {
        let rows = &weeks[g["key"]["week"].as_str().unwrap()];
        let suggestions = sum(rows, "Combined Completion Suggestions");
        let car = sum(rows, "Combined Completion Acceptances") / suggestions;
        assert!(approx(g["Combined CAR"].as_f64().unwrap(), car), "{g}");
        let flagged = g["smallSample"]
            .as_array()
            .unwrap()
            .contains(&json!("Combined CAR"));
        assert_eq!(flagged, suggestions > 0.0 && suggestions < minimum, "{g}");
        small += usize::from(flagged);
    }
    assert!(
        small > 0 && small < groups.len(),
        "the minimum marks some weeks, not all"
    );
    // Not the mean of the rows' own rates, which differs on this sample.
    let row_mean = |rows: &[&Row]| {
        let rates: Vec<f64> = rows
            .iter()
            .filter_map(|r| r.metrics["Combined CAR"])
            .collect();
        rates.iter().sum::<f64>() / rates.len() as f64
    };
    assert!(weeks.values().any(|rows| !approx(
        row_mean(rows),
        sum(rows, "Combined Completion Acceptances") / sum(rows, "Combined Completion Suggestions")
    )));
}

#[test]
fn each_group_carries_only_the_metrics_that_mean_something_for_its_grouping() {
    let csv = fixture("by_user_day.csv");
    let table = Table::from_bytes(&csv).unwrap();
    let per_user = ["users", "activeUsers", "avgDau"];
    // By user: a user's group has one user, so no "Users 1 / Active users 1 / Average DAU 0.6".
    let s = summarize(&table, json!({"groupBy": ["user"]}));
    let shown = names(&s["groupMetrics"]);
    for name in per_user {
        assert!(!shown.contains(&name.to_string()), "{name}");
        assert!(s["groups"][0].get(name).is_none(), "{name}");
        assert!(s["totals"][name].is_number(), "the totals keep {name}");
    }
    assert!(shown.contains(&"hoursSaved".to_string()));
    assert!(shown.contains(&"avgDaysActivePerUser".to_string()));
    // A user's days active are over one user: a count, not a small sample.
    for g in s["groups"].as_array().unwrap() {
        assert!(!g["smallSample"]
            .as_array()
            .unwrap()
            .contains(&json!("avgDaysActivePerUser")));
    }
    assert!(shown.contains(&"Combined CAR".to_string()));
    // Each group carries exactly the group metrics.
    let group = s["groups"][0].as_object().unwrap();
    let carried: Vec<&String> = group
        .keys()
        .filter(|k| *k != "key" && *k != "smallSample")
        .collect();
    assert_eq!(carried.len(), shown.len());
    // The CSV's header, names and labels: the keys, then the group metrics.
    let query: Query = serde_json::from_value(json!({"groupBy": ["user"]})).unwrap();
    let text = table.summarize(&query).unwrap().to_csv();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    for name in per_user {
        assert!(!header.contains(&name), "{name} in {header:?}");
    }
    assert!(header.contains(&"hoursSaved"));
    let mut labelled = query.clone();
    labelled.headers = sg_analytics::Headers::Labels;
    let text = table.summarize(&labelled).unwrap().to_csv();
    let header = text.lines().next().unwrap();
    assert!(!header.contains("Average DAU") && !header.contains("Active users"));
    assert!(header.contains("Hours saved"));
    // Every row has as many cells as the header.
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let width = reader.headers().unwrap().len();
    assert!(reader.records().all(|r| r.unwrap().len() == width));

    // By day: everyone in a day's group was active one day.
    let s = summarize(&table, json!({"groupBy": ["day"]}));
    let shown = names(&s["groupMetrics"]);
    assert!(!shown.contains(&"avgDaysActivePerUser".to_string()));
    assert!(shown.contains(&"users".to_string()));
    assert!(s["groups"][0].get("avgDaysActivePerUser").is_none());
    // By month: every metric means something.
    let s = summarize(&table, json!({"groupBy": ["month"]}));
    assert_eq!(
        names(&s["groupMetrics"]),
        s["totals"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>()
    );
    assert!(s["groups"][0]["users"].as_u64().unwrap() > 1);
}

#[test]
fn the_clis_table_per_user_shows_no_user_counts() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/by_user_day.csv");
    let run = |by: &str| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_sg-analytics"))
            .args(["summarize", path.to_str().unwrap(), "--by", by])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    let header = |text: &str| {
        let at = text.find("\nGroups by").unwrap();
        text[at..]
            .lines()
            .nth(2)
            .unwrap()
            .split_whitespace()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    let by_user = header(&run("user"));
    assert_eq!(by_user[0], "user");
    assert!(!by_user.contains(&"users".to_string()), "{by_user:?}");
    assert!(!by_user.contains(&"activeUsers".to_string()));
    assert!(!by_user.contains(&"avgDau".to_string()));
    assert!(by_user.contains(&"hoursSaved".to_string()));
    // Per month the user counts mean something, and are shown.
    let by_month = header(&run("month"));
    assert!(by_month.contains(&"users".to_string()) && by_month.contains(&"avgDau".to_string()));
}

#[test]
fn a_tables_columns_default_to_a_few_from_the_core_and_a_choice_narrows_groups_and_csv() {
    let csv = fixture("by_user_day_client_language.csv");
    let table = Table::from_bytes(&csv).unwrap();
    let info = table.info();
    // Every metric can be a column; by default, the users' figures and hours saved, then the
    // headline rates and the most used features' counts, in the export's order.
    let (header, _) = rows(&csv);
    let chosen = [
        "Searches",
        "Chat Events",
        "Combined Completion Acceptances",
        "Combined CAR",
        "Percentage of Code Written by Cody",
        "Auto-edit acceptance rate",
    ];
    let mut expected: Vec<String> = [
        "users",
        "activeUsers",
        "avgDau",
        "avgDaysActivePerUser",
        "hoursSaved",
    ]
    .map(String::from)
    .to_vec();
    expected.extend(
        header
            .iter()
            .filter(|h| chosen.contains(&h.as_str()))
            .cloned(),
    );
    assert_eq!(info.default_columns, expected);
    let all = summarize(&table, json!({}));
    let every: Vec<&String> = all["totals"].as_object().unwrap().keys().collect();
    assert_eq!(info.table_columns.iter().collect::<Vec<_>>(), every);
    assert!(info.table_columns.len() > info.default_columns.len() + 10);

    // Grouped by user with the defaults: the user counts mean nothing per user and go.
    let plain = summarize(&table, json!({"groupBy": ["user"]}));
    let s = summarize(
        &table,
        json!({"groupBy": ["user"], "columns": info.default_columns}),
    );
    let shown = names(&s["groupMetrics"]);
    let meant = names(&plain["groupMetrics"]);
    assert_eq!(names(&s["columnChoices"]), meant);
    let defaults: Vec<String> = expected
        .iter()
        .filter(|c| meant.contains(c))
        .cloned()
        .collect();
    assert_eq!(shown, defaults);
    assert!(!shown.contains(&"users".to_string()));
    // The totals keep every metric; the groups carry the columns and their small samples only.
    assert_eq!(s["totals"], plain["totals"]);
    for (g, p) in s["groups"]
        .as_array()
        .unwrap()
        .iter()
        .zip(plain["groups"].as_array().unwrap())
    {
        let carried: Vec<&String> = g
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| *k != "key" && *k != "smallSample")
            .collect();
        assert_eq!(carried, shown.iter().collect::<Vec<_>>());
        assert_eq!(g["key"], p["key"]);
        let small: Vec<Value> = p["smallSample"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| shown.contains(&r.as_str().unwrap().to_string()))
            .cloned()
            .collect();
        assert_eq!(g["smallSample"], json!(small));
    }

    // A choice of one's own: in the summary's order, whatever order it was given in; what means
    // nothing per user is left out.
    let query = json!({"groupBy": ["user"], "columns": ["Combined CAR", "users", "Chat Events"], "headers": "labels"});
    let s = summarize(&table, query.clone());
    assert_eq!(names(&s["groupMetrics"]), ["Chat Events", "Combined CAR"]);
    let query: Query = serde_json::from_value(query).unwrap();
    let text = table.summarize(&query).unwrap().to_csv();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let head: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    let car = &s["labels"]["Combined CAR"];
    // The key fields (the user, their e-mail, ...), then the two columns chosen.
    let keys = s["groups"][0]["key"].as_object().unwrap().len();
    assert_eq!(head[0], "User");
    assert_eq!(
        head[keys..],
        ["Chat Events", car.as_str().unwrap(), "Small sample"]
    );
    assert!(car.as_str().unwrap().contains("ratio 0–1"), "{car}");
    assert!(reader.records().all(|r| r.unwrap().len() == head.len()));

    // A choice of which nothing means something per user: the defaults that do.
    let s = summarize(&table, json!({"groupBy": ["user"], "columns": ["users"]}));
    assert_eq!(names(&s["groupMetrics"]), defaults);
    // Per month, users are a column like any.
    let s = summarize(&table, json!({"groupBy": ["month"], "columns": ["users"]}));
    assert_eq!(names(&s["groupMetrics"]), ["users"]);

    // Names the export lacks, or that the query's metrics leave out, are refused, with the name.
    let refused = |q: Value| {
        let q: Query = serde_json::from_value(q).unwrap();
        table.summarize(&q).unwrap_err().to_string()
    };
    let e = refused(json!({"groupBy": ["user"], "columns": ["Chat Evnets"]}));
    assert!(e.contains("columns") && e.contains("Chat Evnets"), "{e}");
    let e = refused(
        json!({"groupBy": ["user"], "metrics": ["hoursSaved"], "columns": ["Chat Events"]}),
    );
    assert!(e.contains("columns") && e.contains("Chat Events"), "{e}");
}

#[test]
fn without_a_user_column_the_default_columns_count_rows_not_users() {
    let table =
        Table::from_bytes(b"Timestamp Date,Chat Events,Code Insight Views\n2025-01-01,3,1\n")
            .unwrap();
    assert_eq!(
        table.info().default_columns,
        ["rows", "hoursSaved", "Chat Events"]
    );
}

#[test]
fn the_reports_top_groups_show_only_what_means_something_per_group_and_mark_by_the_one_rule() {
    let table = Table::from_bytes(&fixture("by_user_day.csv")).unwrap();
    // The top groups' table: its header row follows its heading.
    let top = |by: &str, min_sample: u64| -> (Vec<String>, Vec<String>) {
        let options = sg_analytics::ReportOptions {
            by: Some(by.into()),
            min_sample: Some(min_sample),
            ..Default::default()
        };
        let html = table.report_html(&options, None).unwrap();
        let at = html.find(&format!("<h2>Top {by}")).unwrap();
        let section = &html[at..at + html[at..].find("</section>").unwrap()];
        let cells = |open: &str, close: &str| -> Vec<String> {
            section
                .split(open)
                .skip(1)
                .map(|c| c[..c.find(close).unwrap()].to_string())
                .collect()
        };
        (cells("<th scope=\"col\">", "</th>"), cells("<td>", "</td>"))
    };
    // The headings are the page's (the summary's labels, each rate with its scale). Per user,
    // active users would read 1: not a column. Per month it is one.
    let labels = summarize(&table, json!({"groupBy": ["user"]}))["labels"].clone();
    let label = |name: &str| labels[name].as_str().unwrap().to_string();
    let (header, _) = top("user", 50);
    assert_eq!(header[0], label("user"));
    assert!(!header.contains(&label("activeUsers")), "{header:?}");
    assert!(header.contains(&label("hoursSaved")), "{header:?}");
    assert!(top("month", 50).0.contains(&label("activeUsers")));
    // A minimum above every user's suggestions: each user's acceptance rate is marked, as the
    // summary's group_small_sample says; with a minimum of 0, none is.
    let (header, cells) = top("user", u64::MAX);
    let car = header
        .iter()
        .position(|h| *h == label("Combined CAR"))
        .unwrap();
    assert!(header[car].contains("ratio 0–1"));
    let marked: Vec<bool> = cells
        .chunks(header.len())
        .map(|row| row[car].contains("small sample"))
        .collect();
    assert!(!marked.is_empty() && marked.iter().all(|&m| m), "{cells:?}");
    let (_, cells) = top("user", 0);
    assert!(cells.iter().all(|c| !c.contains("small sample")));
}
