//! The hostile corpus (`tests/fixtures/hostile/`): each input with the outcome it must give, in
//! `expected.json`. Shared by the native test (`tests/hostile.rs`) and the browser test
//! (`tests/web_hostile.rs`), so the module answers exactly as the core does.

use serde_json::Value;

/// The manifest: a list of cases, each with `file` or `generate`, and what it must give.
pub const MANIFEST: &str = include_str!("../fixtures/hostile/expected.json");

/// The corpus's files, compiled in (the browser has no file system).
pub const FILES: &[(&str, &[u8])] = &[
    (
        "bad_times.csv",
        include_bytes!("../fixtures/hostile/bad_times.csv"),
    ),
    (
        "bare_cr.csv",
        include_bytes!("../fixtures/hostile/bare_cr.csv"),
    ),
    (
        "nul_header.csv",
        include_bytes!("../fixtures/hostile/nul_header.csv"),
    ),
    (
        "structural_case.csv",
        include_bytes!("../fixtures/hostile/structural_case.csv"),
    ),
    (
        "extreme_dates.csv",
        include_bytes!("../fixtures/hostile/extreme_dates.csv"),
    ),
    (
        "huge_numbers.csv",
        include_bytes!("../fixtures/hostile/huge_numbers.csv"),
    ),
    (
        "negative_counts.csv",
        include_bytes!("../fixtures/hostile/negative_counts.csv"),
    ),
    (
        "nul_bytes.csv",
        include_bytes!("../fixtures/hostile/nul_bytes.csv"),
    ),
    (
        "open_quote.csv",
        include_bytes!("../fixtures/hostile/open_quote.csv"),
    ),
    (
        "structural_names.csv",
        include_bytes!("../fixtures/hostile/structural_names.csv"),
    ),
    (
        "unrelated_header.csv",
        include_bytes!("../fixtures/hostile/unrelated_header.csv"),
    ),
];

/// The cases of the manifest.
pub fn cases() -> Vec<Value> {
    serde_json::from_str::<Value>(MANIFEST)
        .expect("expected.json is JSON")
        .as_array()
        .expect("expected.json is a list")
        .clone()
}

/// The input bytes of a case: its file, or its generated text (`head`, then `row` `times` times
/// with `{i}` replaced by the row's number, then `tail`).
pub fn input(case: &Value) -> Vec<u8> {
    if let Some(file) = case["file"].as_str() {
        return FILES
            .iter()
            .find(|(name, _)| *name == file)
            .unwrap_or_else(|| panic!("{file} is not in corpus::FILES"))
            .1
            .to_vec();
    }
    let g = &case["generate"];
    let row = g["row"].as_str().expect("generate.row");
    let times = g["times"].as_u64().expect("generate.times");
    let mut out = String::from(g["head"].as_str().unwrap_or(""));
    for i in 0..times {
        if row.contains("{i}") {
            out.push_str(&row.replace("{i}", &i.to_string()));
        } else {
            out.push_str(row);
        }
    }
    out.push_str(g["tail"].as_str().unwrap_or(""));
    out.into_bytes()
}

/// The query a case runs (`{}` unless it names one).
pub fn query(case: &Value) -> Value {
    case.get("query")
        .cloned()
        .unwrap_or_else(|| Value::Object(Default::default()))
}

fn same_number(found: &Value, wanted: &Value) -> bool {
    match (found.as_f64(), wanted.as_f64()) {
        (Some(f), Some(0.0)) => f == 0.0,
        (Some(f), Some(w)) => ((f - w) / w).abs() < 1e-12,
        _ => false,
    }
}

/// Checks the outcome of a case: the error message, or the summary (`Ok`) of its query.
pub fn check(case: &Value, outcome: Result<Value, String>) -> Result<(), String> {
    let name = case["name"].as_str().unwrap_or("?");
    let fail = |what: String| Err(format!("{name}: {what}"));
    let summary = match (outcome, case["error"].as_str()) {
        (Err(message), Some(wanted)) if message.contains(wanted) => return Ok(()),
        (Err(message), Some(wanted)) => {
            return fail(format!("error {message:?} does not say {wanted:?}"))
        }
        (Ok(_), Some(wanted)) => return fail(format!("no error; expected one saying {wanted:?}")),
        (Err(message), None) => return fail(format!("unexpected error {message:?}")),
        (Ok(summary), None) => summary,
    };
    let input = &summary["input"];
    for field in ["rows", "skippedRows", "firstDate", "lastDate"] {
        if let Some(wanted) = case.get(field) {
            if &input[field] != wanted {
                return fail(format!(
                    "input.{field} is {}, expected {wanted}",
                    input[field]
                ));
            }
        }
    }
    let columns: Vec<&str> = input["columns"]
        .as_array()
        .map(|c| c.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if let Some(n) = case["columnsCount"].as_u64() {
        if columns.len() as u64 != n {
            return fail(format!("{} columns, expected {n}", columns.len()));
        }
        let mut unique = columns.clone();
        unique.sort_unstable();
        unique.dedup();
        if unique.len() != columns.len() {
            return fail("column names are not unique".into());
        }
    }
    for wanted in case["columnsInclude"].as_array().into_iter().flatten() {
        if !columns.iter().any(|c| Some(*c) == wanted.as_str()) {
            return fail(format!("no column {wanted}"));
        }
    }
    if let Some(wanted) = case.get("warningsTotal") {
        if &summary["warningsTotal"] != wanted {
            return fail(format!(
                "warningsTotal is {}, expected {wanted}: {}",
                summary["warningsTotal"], summary["warnings"]
            ));
        }
    }
    let warnings = summary["warnings"].as_array().cloned().unwrap_or_default();
    for wanted in case["warnings"].as_array().into_iter().flatten() {
        let found = warnings.iter().any(|w| {
            w["line"] == wanted["line"]
                && (wanted.get("column").is_none() || w["column"] == wanted["column"])
                && w["message"]
                    .as_str()
                    .is_some_and(|m| m.contains(wanted["contains"].as_str().unwrap_or("")))
        });
        if !found {
            return fail(format!("no warning like {wanted} among {warnings:?}"));
        }
    }
    if let Some(n) = case["groups"].as_u64() {
        if summary["groupsTotal"].as_u64() != Some(n) {
            return fail(format!("{} groups, expected {n}", summary["groupsTotal"]));
        }
    }
    if case["groupKeysAreObjects"] == Value::Bool(true) {
        for g in summary["groups"].as_array().into_iter().flatten() {
            // A user's group carries no user count (it would be 1); a column named so stays apart.
            if !g["key"].is_object() || g.get("users").is_some_and(|u| *u != 1) {
                return fail(format!("a group's key or users was overwritten: {g}"));
            }
        }
    }
    for (metric, wanted) in case["totals"].as_object().into_iter().flatten() {
        let found = &summary["totals"][metric];
        if !same_number(found, wanted) {
            return fail(format!("totals[{metric:?}] is {found}, expected {wanted}"));
        }
    }
    Ok(())
}
