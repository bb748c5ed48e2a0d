//! The JS API in headless Chromium against the local mock of the Analytics API (started by
//! `cargo xtask test`, which passes its address at compile time as `SG_MOCK_URL`).
#![cfg(target_arch = "wasm32")]

use js_sys::{Object, Reflect, Uint8Array};
use sg_analytics::{
    fetch_credits, fetch_dashboard, fetch_registry, fetch_report, Report, ReportBuilder,
};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const TOKEN: &str = "sgdemo-local-token";

fn mock() -> &'static str {
    // Read at compile time: the test runs in a browser, which has no environment.
    match option_env!("SG_MOCK_URL") {
        Some(url) => url,
        None => panic!("SG_MOCK_URL is not set: run these tests with `cargo xtask test`"),
    }
}

/// A base URL on the mock with dataset and fault options (`/_mock/<opts>`). Each call gets its
/// own `id`, so fault counters (`times=N`) start afresh even on a long-running server.
fn base(opts: &str) -> String {
    let run = (js_sys::Math::random() * 1e12) as u64;
    format!("{}/_mock/{opts};id={run}", mock())
}

fn options(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    Reflect::set(
        &o,
        &"instanceUrl".into(),
        &"https://demo.sourcegraph.example/".into(),
    )
    .unwrap();
    Reflect::set(&o, &"token".into(), &TOKEN.into()).unwrap();
    for (k, v) in pairs {
        Reflect::set(&o, &(*k).into(), v).unwrap();
    }
    o.into()
}

fn message(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .unwrap_or_else(|| format!("{e:?}"))
}

fn name(e: &JsValue) -> String {
    e.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.name()))
        .unwrap_or_default()
}

async fn fetch_err(pairs: &[(&str, JsValue)]) -> JsValue {
    match fetch_report(options(pairs)).await {
        Ok(_) => panic!("expected the fetch to fail"),
        Err(e) => e,
    }
}

/// The same export read whole by the browser, for comparison.
async fn raw_export(base_url: &str, query: &str) -> Vec<u8> {
    let init = web_sys::RequestInit::new();
    let headers = web_sys::Headers::new().unwrap();
    headers
        .set("Authorization", &format!("Bearer {TOKEN}"))
        .unwrap();
    init.set_headers(&headers);
    let url = format!(
        "{base_url}/api/reports/by-user-client-date?instanceURL=demo.sourcegraph.example{query}"
    );
    let request = web_sys::Request::new_with_str_and_init(&url, &init).unwrap();
    let global = js_sys::global();
    let fetch = Reflect::get(&global, &"fetch".into()).unwrap();
    let promise = js_sys::Function::from(fetch)
        .call1(&global, &request)
        .unwrap();
    let response: web_sys::Response = JsFuture::from(js_sys::Promise::from(promise))
        .await
        .unwrap()
        .unchecked_into();
    assert_eq!(response.status(), 200);
    let buffer = JsFuture::from(response.array_buffer().unwrap())
        .await
        .unwrap();
    Uint8Array::new(&buffer).to_vec()
}

#[wasm_bindgen_test]
async fn streamed_ingest_equals_from_csv_on_the_same_bytes() {
    let b = base("users=15;days=40");
    let report = fetch_report(options(&[("baseUrl", b.clone().into())]))
        .await
        .unwrap();
    let bytes = raw_export(&b, "").await;
    let whole = Report::from_csv(Uint8Array::from(&bytes[..]).into()).unwrap();
    let query: JsValue = js_sys::JSON::parse(r#"{"groupBy": ["month", "client"]}"#).unwrap();
    assert_eq!(
        report
            .to_json(Some(query.clone().unchecked_into()))
            .unwrap(),
        whole.to_json(Some(query.clone().unchecked_into())).unwrap()
    );
    // Pushed in odd-sized chunks through the builder: the same again.
    let mut builder = ReportBuilder::new();
    for chunk in bytes.chunks(977) {
        builder.push(chunk).unwrap();
    }
    assert_eq!(builder.rows(), report.rows());
    assert_eq!(
        builder
            .finish()
            .unwrap()
            .to_json(Some(query.clone().unchecked_into()))
            .unwrap(),
        whole.to_json(Some(query.unchecked_into())).unwrap()
    );
    assert!(report.rows() > 100);
}

#[wasm_bindgen_test]
async fn summaries_are_plain_objects_in_the_documented_shape() {
    let report = fetch_report(options(&[("baseUrl", base("users=8;days=20").into())]))
        .await
        .unwrap();
    let query =
        js_sys::JSON::parse(r#"{"groupBy": ["week"], "sort": {"by": "users", "desc": true}}"#)
            .unwrap();
    let summary = report.summarize(Some(query.unchecked_into())).unwrap();
    let totals = Reflect::get(&summary, &"totals".into()).unwrap();
    assert!(
        !totals.is_instance_of::<js_sys::Map>(),
        "totals must be a plain object"
    );
    assert!(Reflect::get(&totals, &"Chat Events".into())
        .unwrap()
        .as_f64()
        .is_some());
    let groups: js_sys::Array = Reflect::get(&summary, &"groups".into())
        .unwrap()
        .unchecked_into();
    let first = groups.get(0);
    assert!(Reflect::get(
        &Reflect::get(&first, &"key".into()).unwrap(),
        &"week".into()
    )
    .unwrap()
    .as_string()
    .is_some());
    // A typo in a query is an Error naming the field, not a silent default.
    let bad = js_sys::JSON::parse(r#"{"groupby": ["week"]}"#).unwrap();
    let e = report.summarize(Some(bad.unchecked_into())).unwrap_err();
    assert!(e.is_instance_of::<js_sys::Error>());
    assert!(message(&e).contains("groupby"), "{}", message(&e));
}

#[wasm_bindgen_test]
async fn progress_reports_bytes_and_rows() {
    let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::<(f64, f64)>::new()));
    let sink = seen.clone();
    let callback = wasm_bindgen::closure::Closure::<dyn FnMut(JsValue)>::new(move |p: JsValue| {
        let get = |k: &str| Reflect::get(&p, &k.into()).unwrap().as_f64().unwrap();
        sink.borrow_mut().push((get("bytes"), get("rows")));
    });
    let report = fetch_report(options(&[
        ("baseUrl", base("users=30;days=90").into()),
        ("onProgress", callback.as_ref().clone()),
    ]))
    .await
    .unwrap();
    let seen = seen.borrow();
    let (bytes, rows) = *seen.last().expect("at least one progress call");
    assert_eq!(rows as usize, report.rows());
    assert!(bytes > 10_000.0);
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0), "bytes only grow");
}

#[wasm_bindgen_test]
async fn rate_limits_are_retried_honouring_retry_after() {
    let started = js_sys::Date::now();
    let report = fetch_report(options(&[(
        "baseUrl",
        base("users=4;days=5;fault=429;times=2;retryAfter=1").into(),
    )]))
    .await
    .unwrap();
    let elapsed = js_sys::Date::now() - started;
    assert!(report.rows() > 0);
    assert!(
        elapsed >= 2000.0,
        "two waits of Retry-After: 1 took only {elapsed} ms"
    );
}

#[wasm_bindgen_test]
async fn server_errors_are_retried_then_reported() {
    let report = fetch_report(options(&[(
        "baseUrl",
        base("users=4;days=5;fault=503;times=1;retryAfter=0").into(),
    )]))
    .await
    .unwrap();
    assert!(report.rows() > 0);
    let e = fetch_err(&[
        ("baseUrl", base("fault=500").into()),
        ("maxRetries", 1.into()),
    ])
    .await;
    assert!(message(&e).contains("(500)"), "{}", message(&e));
    assert!(message(&e).contains("try again"));
}

fn code(e: &JsValue) -> String {
    Reflect::get(e, &"code".into())
        .ok()
        .and_then(|c| c.as_string())
        .unwrap_or_default()
}

#[wasm_bindgen_test]
async fn a_body_cut_short_is_an_error_not_a_report() {
    let e = fetch_err(&[
        ("baseUrl", base("users=40;days=120;fault=cut").into()),
        ("maxRetries", 1.into()),
    ])
    .await;
    assert!(message(&e).contains("cut short"), "{}", message(&e));
    assert_eq!(code(&e), "cut_short");
    // Cut once: fetched again from the start, and the same report as an uncut fetch.
    let whole = fetch_report(options(&[("baseUrl", base("users=40;days=120").into())]))
        .await
        .unwrap();
    let again = fetch_report(options(&[(
        "baseUrl",
        base("users=40;days=120;fault=cut;times=1").into(),
    )]))
    .await
    .unwrap();
    assert_eq!(again.to_json(None).unwrap(), whole.to_json(None).unwrap());
}

#[wasm_bindgen_test]
async fn bad_options_send_no_request() {
    // The mock answers the first request with this opts string with a 401: if the refused call
    // had sent one, the next call would succeed.
    let b = base("users=2;days=2;fault=401;times=1");
    let e = fetch_err(&[
        ("baseUrl", b.clone().into()),
        ("startDate", "2025-13-01".into()),
    ])
    .await;
    assert_eq!(code(&e), "invalid_options", "{}", message(&e));
    let e = fetch_err(&[("baseUrl", b.into())]).await;
    assert_eq!(code(&e), "unauthorized", "{}", message(&e));
}

#[wasm_bindgen_test]
async fn an_unknown_instance_is_not_found() {
    let e = fetch_err(&[("baseUrl", base("fault=404").into())]).await;
    assert_eq!(code(&e), "not_found");
    assert!(
        message(&e).contains("demo.sourcegraph.example") && message(&e).contains("(404)"),
        "{}",
        message(&e)
    );
}

#[wasm_bindgen_test]
async fn an_html_page_is_not_an_export() {
    let e = fetch_err(&[("baseUrl", base("fault=html").into())]).await;
    assert!(
        message(&e).contains("instead of a CSV export"),
        "{}",
        message(&e)
    );
}

#[wasm_bindgen_test]
async fn refused_tokens_and_instances_get_distinct_messages_without_the_token() {
    let secret = "sgp_secret_token_that_must_not_leak_123";
    let o = options(&[("baseUrl", base("users=2;days=2").into())]);
    Reflect::set(&o, &"token".into(), &secret.into()).unwrap();
    let e = fetch_report(o).await.err().unwrap();
    let m = message(&e);
    assert!(m.contains("(401)") && m.contains("new token"), "{m}");
    assert!(!m.contains(secret));
    let e = fetch_err(&[("baseUrl", base("fault=403").into())]).await;
    assert!(
        message(&e).contains("no access to the instance demo.sourcegraph.example"),
        "{}",
        message(&e)
    );
    // A token pasted where the instance goes is scrubbed from the message too.
    let o = options(&[("baseUrl", base("users=2;days=2").into())]);
    Reflect::set(
        &o,
        &"instanceUrl".into(),
        &format!("https:// {TOKEN}").into(),
    )
    .unwrap();
    let e = fetch_report(o).await.err().unwrap();
    assert!(!message(&e).contains(TOKEN), "{}", message(&e));
}

#[wasm_bindgen_test]
async fn options_are_checked_before_any_request() {
    let e = fetch_err(&[
        ("granularity", "by_week".into()),
        ("baseUrl", "http://127.0.0.1:9".into()),
    ])
    .await;
    assert!(
        message(&e).contains("unknown granularity"),
        "{}",
        message(&e)
    );
    let e = fetch_err(&[("baseUrl", "http://analytics.example.com".into())]).await;
    assert!(message(&e).contains("must use https"), "{}", message(&e));
    let e = fetch_err(&[("startDate", "2025-02-30".into())]).await;
    assert!(message(&e).contains("startDate"), "{}", message(&e));
}

#[wasm_bindgen_test]
async fn a_refused_connection_says_what_to_do() {
    // Nothing listens on port 9 of this machine.
    let e = fetch_err(&[("baseUrl", "http://127.0.0.1:9".into())]).await;
    let m = message(&e);
    assert!(
        m.contains("CORS") && m.contains("--proxy") && m.contains("curl"),
        "{m}"
    );
    assert!(!m.contains(TOKEN));
}

#[wasm_bindgen_test]
async fn abort_stops_the_fetch_mid_body() {
    let controller = web_sys::AbortController::new().unwrap();
    let signal = controller.signal();
    let abort = wasm_bindgen::closure::Closure::<dyn FnMut(JsValue)>::new(move |_p: JsValue| {
        controller.abort();
    });
    let started = js_sys::Date::now();
    let e = fetch_err(&[
        (
            "baseUrl",
            base("users=40;days=200;fault=slow;delayMs=100").into(),
        ),
        ("signal", signal.into()),
        ("onProgress", abort.as_ref().clone()),
    ])
    .await;
    assert_eq!(name(&e), "AbortError", "{}", message(&e));
    assert!(js_sys::Date::now() - started < 5000.0);
}

#[wasm_bindgen_test]
async fn abort_with_a_reason_while_waiting_for_a_chunk() {
    // The signal errors the body stream with its reason (here a string, not an Error) while the
    // read is pending between two slow chunks.
    let controller = web_sys::AbortController::new().unwrap();
    let signal = controller.signal();
    let abort = wasm_bindgen::closure::Closure::once_into_js(move || {
        controller.abort_with_reason(&"the user left".into())
    });
    let global = js_sys::global();
    let set_timeout: js_sys::Function = Reflect::get(&global, &"setTimeout".into())
        .unwrap()
        .unchecked_into();
    set_timeout.call2(&global, &abort, &300.into()).unwrap();
    let started = js_sys::Date::now();
    let e = fetch_err(&[
        (
            "baseUrl",
            base("users=40;days=200;fault=slow;delayMs=200").into(),
        ),
        ("signal", signal.into()),
    ])
    .await;
    assert_eq!(name(&e), "AbortError", "{}", message(&e));
    assert!(js_sys::Date::now() - started < 5000.0);
}

#[wasm_bindgen_test]
async fn month_windows_give_the_same_report_as_one_request() {
    let b = base("users=10;days=75");
    let range = [
        ("startDate", JsValue::from("2025-01-10")),
        ("endDate", JsValue::from("2025-03-05")),
    ];
    let mut single = range.to_vec();
    single.push(("baseUrl", b.clone().into()));
    let mut windowed = single.clone();
    windowed.push(("monthWindows", true.into()));
    let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::<(f64, f64)>::new()));
    let sink = seen.clone();
    let callback = wasm_bindgen::closure::Closure::<dyn FnMut(JsValue)>::new(move |p: JsValue| {
        let get = |k: &str| Reflect::get(&p, &k.into()).unwrap().as_f64().unwrap();
        sink.borrow_mut().push((get("window"), get("windows")));
    });
    let one = fetch_report(options(&single)).await.unwrap();
    let mut observed = windowed.clone();
    observed.push(("onProgress", callback.as_ref().clone()));
    let windows = fetch_report(options(&observed)).await.unwrap();
    {
        let seen = seen.borrow();
        assert!(seen.iter().all(|&(_, n)| n == 3.0), "{seen:?}");
        assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0), "{seen:?}");
        assert_eq!(seen.first().map(|w| w.0), Some(1.0));
        assert_eq!(seen.last().map(|w| w.0), Some(3.0));
    }
    let query = js_sys::JSON::parse(r#"{"groupBy": ["day"]}"#).unwrap();
    assert_eq!(
        one.to_json(Some(query.clone().unchecked_into())).unwrap(),
        windows.to_json(Some(query.unchecked_into())).unwrap()
    );
    assert!(one.rows() > 0);
    // A window that fails once is fetched again without starting over.
    let mut flaky = windowed.clone();
    flaky.retain(|(k, _)| *k != "baseUrl");
    flaky.push(("baseUrl", base("users=10;days=75;fault=cut;times=1").into()));
    let again = fetch_report(options(&flaky)).await.unwrap();
    assert_eq!(again.rows(), one.rows());
}

#[wasm_bindgen_test]
async fn the_registry_joins_and_credits_are_plain_data() {
    let b = base("users=40;days=10");
    let mut report = fetch_report(options(&[("baseUrl", b.clone().into())]))
        .await
        .unwrap();
    let registry = fetch_registry(options(&[("baseUrl", b.clone().into())]))
        .await
        .unwrap();
    assert!(registry.service_accounts() > 0);
    assert!(report.join_registry(&registry) > 0);
    let ask = |json: &str| {
        report
            .summarize(Some(js_sys::JSON::parse(json).unwrap().unchecked_into()))
            .unwrap()
    };
    let all = ask(r#"{"filter": {"excludeServiceAccounts": false}}"#);
    let humans = ask(r#"{"filter": {"excludeServiceAccounts": true}}"#);
    // Left out by default once the registry is joined, and the summary says so.
    let default = report.summarize(None).unwrap();
    let service = Reflect::get(&default, &"serviceAccounts".into()).unwrap();
    assert_eq!(
        Reflect::get(&service, &"excluded".into())
            .unwrap()
            .as_bool(),
        Some(true)
    );
    let users = |s: &JsValue| {
        Reflect::get(&Reflect::get(s, &"totals".into()).unwrap(), &"users".into())
            .unwrap()
            .as_f64()
            .unwrap()
    };
    assert!(users(&humans) < users(&all));
    assert_eq!(users(&default), users(&humans));
    assert_eq!(
        Reflect::get(&service, &"users".into()).unwrap().as_f64(),
        Some(users(&all) - users(&humans))
    );
    let credits = fetch_credits(options(&[("baseUrl", b.into())]))
        .await
        .unwrap();
    assert!(credits.is_object() && !credits.is_instance_of::<js_sys::Map>());
}

fn code_of(e: &JsValue) -> String {
    Reflect::get(e, &"code".into())
        .unwrap()
        .as_string()
        .unwrap_or_default()
}

#[wasm_bindgen_test]
async fn a_body_that_stops_coming_is_given_up_after_the_idle_timeout() {
    // Headers, then nothing for 5 s at a time: with a 1 s idle timeout, no retry, a stall.
    let e = fetch_err(&[
        (
            "baseUrl",
            base("users=2;days=3;fault=slow;delayMs=5000;chunk=256").into(),
        ),
        ("idleTimeout", 1.into()),
        ("maxRetries", 0.into()),
    ])
    .await;
    assert_eq!(code_of(&e), "stalled", "{}", message(&e));
    let e = fetch_err(&[("idleTimeout", 0.into())]).await;
    assert_eq!(code_of(&e), "invalid_options", "{}", message(&e));
}

#[wasm_bindgen_test]
async fn the_dashboard_fetch_joins_the_registry_and_reports_a_failing_credits_answer() {
    let b = base("users=40;days=10;credits=500");
    let answer = fetch_dashboard(options(&[("baseUrl", b.into())]))
        .await
        .unwrap();
    let get = |o: &JsValue, k: &str| Reflect::get(o, &k.into()).unwrap();
    let registry = get(&answer, "registry");
    assert_eq!(get(&registry, "loaded").as_bool(), Some(true));
    let credits = get(&answer, "credits");
    assert_eq!(get(&credits, "loaded").as_bool(), Some(false));
    assert_eq!(
        get(&credits, "code").as_string().as_deref(),
        Some("server_error")
    );
    assert_eq!(get(&credits, "status").as_f64(), Some(500.0));
    let report = get(&answer, "report");
    // The registry is joined: service accounts can be left out.
    let summarize: js_sys::Function = get(&report, "summarize").dyn_into().unwrap();
    let users = |query: &str| {
        let q = js_sys::JSON::parse(query).unwrap();
        let s = summarize.call1(&report, &q).unwrap();
        get(&get(&s, "totals"), "users").as_f64().unwrap()
    };
    // Left out by default once the registry is joined; counted when asked.
    assert!(users("{}") < users(r#"{"filter": {"excludeServiceAccounts": false}}"#));
    assert_eq!(
        users("{}"),
        users(r#"{"filter": {"excludeServiceAccounts": true}}"#)
    );
    // Without the extras, one request: neither is loaded nor failed.
    let answer = fetch_dashboard(options(&[
        ("baseUrl", base("users=4;days=3").into()),
        ("withRegistry", false.into()),
        ("withCredits", false.into()),
    ]))
    .await
    .unwrap();
    let registry = get(&answer, "registry");
    assert_eq!(get(&registry, "loaded").as_bool(), Some(false));
    assert!(get(&registry, "error").is_undefined());
}
