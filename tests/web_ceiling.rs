//! The memory ceiling through the JS API, in headless Chromium: an export that will not fit in a
//! report's memory budget stops early with an error coded `too_large` (never a trap or an
//! internal message), nothing half-read becomes a report, and the module goes on working.
#![cfg(target_arch = "wasm32")]

use js_sys::Reflect;
use sg_analytics::{allocation_failed, Report, ReportBuilder};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn code(e: &JsValue) -> String {
    Reflect::get(e, &"code".into())
        .ok()
        .and_then(|c| c.as_string())
        .unwrap_or_default()
}

fn message(e: &JsValue) -> String {
    Reflect::get(e, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .unwrap_or_default()
}

/// An export of `rows` rows at the finest granularity.
fn export(rows: usize) -> Vec<u8> {
    let mut csv = String::from(
        "Instance user ID,Active Sourcegraph User,Client Name,Timestamp Date,Language,Chat Events\n",
    );
    for r in 0..rows {
        csv.push_str(&format!(
            "{},{},{},2025-01-{:02},{},{}\n",
            r / 30,
            r % 4 != 0,
            ["vscode.cody", "jetbrains.cody"][r % 2],
            1 + r % 28,
            ["go", "rust", ""][r % 3],
            r % 9
        ));
    }
    csv.into_bytes()
}

#[wasm_bindgen_test]
fn an_export_over_the_budget_is_a_too_large_error_and_the_module_goes_on() {
    let data = export(200_000);
    let mut builder = ReportBuilder::new();
    assert_eq!(builder.memory_budget(), Some(f64::from(3u32 << 30)));
    // 1.8 MB for the report: the export (7.9 MB of CSV) needs about 2.3 with room for queries
    // (about 7.5 bytes a row as it is read, its cells packed), while its size alone could fit
    // (1.5 MB at the least a CSV byte can take), so it is read until the rows show it will not.
    builder.set_memory_budget(Some(1.8e6)).unwrap();
    builder.expect_bytes(data.len() as f64).unwrap();
    let mut failure = None;
    for chunk in data.chunks(1 << 16) {
        if let Err(e) = builder.push(chunk) {
            failure = Some(e);
            break;
        }
    }
    let e = failure.expect("1.8 MB cannot hold 200 000 rows");
    assert_eq!(code(&e), "too_large", "{}", message(&e));
    let m = message(&e);
    assert!(m.contains("rows") && m.contains("would need about"), "{m}");
    assert!(m.contains("sg-analytics summarize"), "{m}");
    // Reading stopped, and nothing half-read becomes a report.
    assert_eq!(builder.rows(), 0);
    assert_eq!(
        code(&builder.push(b"1,true,x,2025-01-01,go,1\n").unwrap_err()),
        "too_large"
    );
    let e = builder
        .finish()
        .err()
        .expect("no report from a refused export");
    assert_eq!(code(&e), "too_large");
    // No allocation failed: the budget stopped it first.
    assert!(!allocation_failed());
    // The module goes on: the next export (under the default budget) reads and answers.
    let report = Report::from_csv(JsValue::from(js_sys::Uint8Array::from(&data[..]))).unwrap();
    assert_eq!(report.rows(), 200_000);
    let summary = report.summarize(None).unwrap();
    let totals = Reflect::get(&summary, &"totals".into()).unwrap();
    let users = Reflect::get(&totals, &"users".into()).unwrap();
    assert_eq!(users.as_f64(), Some(6667.0));
}

#[wasm_bindgen_test]
fn a_file_size_that_can_never_fit_is_refused_before_reading() {
    let mut builder = ReportBuilder::new();
    // 20 GB under the default 3 GiB budget.
    let e = builder.expect_bytes(2e10).unwrap_err();
    assert_eq!(code(&e), "too_large", "{}", message(&e));
    assert!(message(&e).contains("Nothing was read"), "{}", message(&e));
    // A size that may fit is taken.
    let mut builder = ReportBuilder::new();
    builder.expect_bytes(2e9).unwrap();
    builder.push(&export(10)).unwrap();
    assert_eq!(builder.finish().unwrap().rows(), 10);
}
