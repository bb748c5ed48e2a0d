//! The module in a dedicated Web Worker (where the page ingests): fetch, retry waits and queries
//! work without a `window`.
#![cfg(target_arch = "wasm32")]

use js_sys::{Object, Reflect};
use sg_analytics::{fetch_report, Report};
use wasm_bindgen::{JsCast, JsValue};
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
    // One 503 first: the retry's wait (Retry-After: 1) uses the worker's own setTimeout.
    let base = format!("{mock}/_mock/users=6;days=14;fault=503;times=1;retryAfter=1;id={run}");
    let started = js_sys::Date::now();
    let report = fetch_report(options(&base)).await.unwrap();
    assert!(js_sys::Date::now() - started >= 1000.0);
    assert!(report.rows() > 0);
    let csv = Report::from_csv(report.filtered_csv(None).unwrap().into()).unwrap();
    assert_eq!(csv.rows(), report.rows());
}

#[wasm_bindgen_test]
async fn an_abort_in_a_worker_cuts_the_wait_short() {
    let mock = match option_env!("SG_MOCK_URL") {
        Some(url) => url,
        None => panic!("SG_MOCK_URL is not set: run these tests with `cargo xtask test`"),
    };
    let run = (js_sys::Math::random() * 1e12) as u64;
    let base = format!("{mock}/_mock/users=2;days=2;fault=429;retryAfter=30;id={run}");
    let controller = web_sys::AbortController::new().unwrap();
    let o = options(&base);
    Reflect::set(&o, &"signal".into(), &controller.signal()).unwrap();
    let abort = wasm_bindgen::closure::Closure::once_into_js(move || controller.abort());
    let global = js_sys::global();
    let set_timeout: js_sys::Function = Reflect::get(&global, &"setTimeout".into())
        .unwrap()
        .unchecked_into();
    set_timeout.call2(&global, &abort, &300.into()).unwrap();
    let started = js_sys::Date::now();
    let e = fetch_report(o).await.err().unwrap();
    let name = Reflect::get(&e, &"name".into()).unwrap().as_string();
    assert_eq!(name.as_deref(), Some("AbortError"));
    assert!(
        js_sys::Date::now() - started < 5000.0,
        "the 30 s wait was not cut short"
    );
}
