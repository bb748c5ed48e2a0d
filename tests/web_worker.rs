//! The module in a dedicated Web Worker (where the page ingests): fetch, retry waits and queries
//! work without a `window`.
#![cfg(target_arch = "wasm32")]

use js_sys::{Object, Reflect};
use sg_analytics::{fetch_report, Report};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_dedicated_worker);

fn options(base: &str) -> JsValue {
    let o = Object::new();
    for (k, v) in [
        ("instanceUrl", "demo.sourcegraph.example".to_string()),
        ("token", "sgdemo-local-token".to_string()),
        ("baseUrl", base.to_string()),
    ] {
        Reflect::set(&o, &k.into(), &v.into()).unwrap();
    }
    o.into()
}

#[wasm_bindgen_test]
async fn fetches_retries_and_summarizes_in_a_worker() {
    let mock = match option_env!("SG_MOCK_URL") {
        Some(url) => url,
        None => panic!("SG_MOCK_URL is not set: run these tests with `cargo xtask test`"),
    };
    let document = Reflect::get(&js_sys::global(), &"document".into()).unwrap();
    assert!(document.is_undefined(), "this test must run in a worker");
    let run = (js_sys::Math::random() * 1e12) as u64;
    // One 503 first: the retry's wait uses the worker's own setTimeout.
    let base = format!("{mock}/_mock/users=6;days=14;fault=503;times=1;retryAfter=0;id={run}");
    let report = fetch_report(options(&base)).await.unwrap();
    assert!(report.rows() > 0);
    let csv = Report::from_csv(report.filtered_csv(JsValue::UNDEFINED).unwrap().into()).unwrap();
    assert_eq!(csv.rows(), report.rows());
}
