//! The hostile corpus (`tests/fixtures/hostile/expected.json`) through the JS API in headless
//! Chromium: a 32-bit `usize`, and wasm's own memory, must give the outcome the core gives
//! natively (`tests/hostile.rs`): a clear error that names the line, or the right answer; never a
//! trap.
#![cfg(target_arch = "wasm32")]

#[path = "common/corpus.rs"]
mod corpus;

use js_sys::{Reflect, Uint8Array, JSON};
use sg_analytics::Report;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn message(e: &JsValue) -> String {
    assert!(e.is_instance_of::<js_sys::Error>(), "not an Error: {e:?}");
    Reflect::get(e, &"message".into())
        .unwrap()
        .as_string()
        .unwrap_or_default()
}

fn module_outcome(bytes: &[u8], query: &serde_json::Value) -> Result<serde_json::Value, String> {
    let report = Report::from_csv(Uint8Array::from(bytes).into()).map_err(|e| message(&e))?;
    let query = JSON::parse(&query.to_string()).unwrap();
    let summary = report
        .summarize(Some(query.unchecked_into()))
        .map_err(|e| message(&e))?;
    let text = JSON::stringify(&summary).unwrap().as_string().unwrap();
    Ok(serde_json::from_str(&text).unwrap())
}

#[wasm_bindgen_test]
fn every_hostile_input_gives_its_outcome_in_the_browser() {
    let mut failures = Vec::new();
    for case in corpus::cases() {
        let outcome = module_outcome(&corpus::input(&case), &corpus::query(&case));
        if let Err(e) = corpus::check(&case, outcome) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
