//! What the page's charts and table may show, as the core decides it: the metrics a chart can
//! pick (rates included, each group's rate the ratio of its sums), and which metrics mean
//! something per group.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::collections::BTreeMap;

use common::*;
use serde_json::{json, Value};
use sg_analytics::{Query, Table};

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
