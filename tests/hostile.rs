//! The hostile corpus (`tests/fixtures/hostile/expected.json`): each input gives the outcome it
//! names, through the core in chunks and through the real CLI; `tests/web_hostile.rs` runs the
//! same cases in the browser.
#![cfg(not(target_arch = "wasm32"))]

mod common;

#[path = "common/corpus.rs"]
mod corpus;

use std::process::Command;

use serde_json::Value;
use sg_analytics::{Ingester, Query};

/// The core's answer to a case, the input pushed in chunks of `chunk` bytes.
fn core_outcome(bytes: &[u8], query: &Value, chunk: usize) -> Result<Value, String> {
    let mut ingester = Ingester::new();
    for part in bytes.chunks(chunk) {
        ingester.push(part).map_err(|e| e.to_string())?;
    }
    let table = ingester.finish().map_err(|e| e.to_string())?;
    let query: Query = serde_json::from_value(query.clone()).map_err(|e| e.to_string())?;
    table
        .summarize(&query)
        .map(|s| s.to_value())
        .map_err(|e| e.to_string())
}

#[test]
fn every_hostile_input_gives_its_outcome_in_any_chunking() {
    let mut failures = Vec::new();
    for case in corpus::cases() {
        let bytes = corpus::input(&case);
        let query = corpus::query(&case);
        for chunk in [bytes.len().max(1), 4096, 1000] {
            if let Err(e) = corpus::check(&case, core_outcome(&bytes, &query, chunk)) {
                failures.push(format!("{e} (chunks of {chunk} bytes)"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The CLI's `--by` and the JSON summary, for a case's query.
fn cli_outcome(path: &std::path::Path, query: &Value) -> Result<Value, String> {
    let mut args = vec![
        "summarize".to_string(),
        path.display().to_string(),
        "--format".into(),
        "json".into(),
    ];
    if let Some(keys) = query["groupBy"].as_array() {
        let keys: Vec<&str> = keys.iter().filter_map(Value::as_str).collect();
        args.extend(["--by".to_string(), keys.join(",")]);
    }
    let o = Command::new(env!("CARGO_BIN_EXE_sg-analytics"))
        .args(&args)
        .output()
        .unwrap();
    if o.status.success() {
        Ok(serde_json::from_slice(&o.stdout).unwrap())
    } else {
        assert_eq!(o.status.code(), Some(2), "an input error exits 2");
        Err(String::from_utf8_lossy(&o.stderr).into_owned())
    }
}

#[test]
fn the_cli_gives_the_same_outcomes() {
    let dir = std::env::temp_dir().join(format!("sg-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut failures = Vec::new();
    for (i, case) in corpus::cases().iter().enumerate() {
        let path = dir.join(format!("case-{i}.csv"));
        std::fs::write(&path, corpus::input(case)).unwrap();
        if let Err(e) = corpus::check(case, cli_outcome(&path, &corpus::query(case))) {
            failures.push(format!("CLI: {e}"));
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_file_of_the_corpus_has_a_case_and_is_compiled_in() {
    let dir = std::path::Path::new(common::FIXTURES).join("hostile");
    let cases = corpus::cases();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name == "expected.json" {
            continue;
        }
        assert!(
            corpus::FILES.iter().any(|(f, _)| *f == name),
            "{name} is not in corpus::FILES"
        );
        assert!(
            cases.iter().any(|c| c["file"] == name.as_str()),
            "{name} has no case in expected.json"
        );
    }
}
