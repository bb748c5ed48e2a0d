//! The JS API in headless Chromium with no server: the global `fetch` is replaced by a stub that
//! records each request and answers from a script. This checks what a server cannot see (the
//! request's redirect, credentials, referrer and cache modes) and answers the local mock does not
//! give (a 400 that names a parameter, a body that echoes the token, a wrong Content-Length).
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use js_sys::{Array, Object, Promise, Reflect};
use sg_analytics::{
    fetch_credits, fetch_report, plan_fetch, warm_up, Report, ReportBuilder, UserRegistry,
};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;
use web_sys::{Request, Response, ResponseInit};

wasm_bindgen_test_configure!(run_in_browser);

const TOKEN: &str = "sgp_0123456789abcdef_offline_test_token";
const CSV: &str = "Instance user ID,Active Sourcegraph User,Timestamp Date,Chat Events\r\n\
                   1,true,2025-01-01,3\r\n2,false,2025-01-02,4\r\n";

/// One scripted answer of the stub.
#[derive(Clone)]
enum Answer {
    Respond {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
    /// A CSV body streamed in the given chunks, from a byte stream (read with a BYOB reader) or
    /// from a plain stream (the default reader).
    Stream {
        chunks: Vec<String>,
        byte_stream: bool,
    },
    /// What `fetch` does on a network or CORS failure.
    FailedToFetch,
    /// What `fetch` does on an abort: reject with the signal's reason once it fires.
    Hang,
}

fn csv(body: &str) -> Answer {
    Answer::Respond {
        status: 200,
        headers: vec![("Content-Type", "text/csv".into())],
        body: body.into(),
    }
}

fn status(status: u16, body: &str) -> Answer {
    Answer::Respond {
        status,
        headers: vec![("Content-Type", "text/plain".into())],
        body: body.into(),
    }
}

/// Replaces `globalThis.fetch` until dropped. Answers in order; the last one repeats.
struct Stub {
    requests: Rc<RefCell<Vec<Request>>>,
    original: JsValue,
    _closure: Closure<dyn FnMut(Request) -> Promise>,
}

impl Stub {
    fn install(answers: Vec<Answer>) -> Stub {
        let requests = Rc::new(RefCell::new(Vec::new()));
        let seen = requests.clone();
        let mut answers: VecDeque<Answer> = answers.into();
        let closure = Closure::<dyn FnMut(Request) -> Promise>::new(move |request: Request| {
            // `Request` has its own `clone()`, the JS one.
            seen.borrow_mut().push(Clone::clone(&request));
            let answer = if answers.len() > 1 {
                answers.pop_front()
            } else {
                answers.front().cloned()
            };
            match answer.expect("the stub has an answer") {
                Answer::Respond {
                    status,
                    headers,
                    body,
                } => {
                    let init = ResponseInit::new();
                    init.set_status(status);
                    let h = Object::new();
                    for (k, v) in headers {
                        Reflect::set(&h, &k.into(), &v.into()).unwrap();
                    }
                    init.set_headers(&h);
                    let response = Response::new_with_opt_str_and_init(Some(&body), &init).unwrap();
                    Promise::resolve(&JsValue::from(response))
                }
                Answer::Stream {
                    chunks,
                    byte_stream,
                } => {
                    let make = js_sys::Function::new_with_args(
                        "chunks, bytes",
                        "const encoder = new TextEncoder();
                         const source = { start(c) {
                           for (const chunk of chunks) c.enqueue(encoder.encode(chunk));
                           c.close();
                         } };
                         if (bytes) source.type = 'bytes';
                         return new Response(new ReadableStream(source),
                           { headers: { 'Content-Type': 'text/csv' } });",
                    );
                    let chunks: Array = chunks.iter().map(|c| JsValue::from(c.as_str())).collect();
                    let response = make
                        .call2(&JsValue::NULL, &chunks, &byte_stream.into())
                        .unwrap();
                    Promise::resolve(&response)
                }
                Answer::FailedToFetch => {
                    Promise::reject(&js_sys::TypeError::new("Failed to fetch").into())
                }
                Answer::Hang => {
                    let signal = request.signal();
                    Promise::new(&mut |_resolve, reject| {
                        let reason_of = signal.clone();
                        let on_abort = Closure::once_into_js(move || {
                            reject.call1(&JsValue::NULL, &reason_of.reason()).unwrap();
                        });
                        signal
                            .add_event_listener_with_callback("abort", on_abort.unchecked_ref())
                            .unwrap();
                    })
                }
            }
        });
        let global = js_sys::global();
        let original = Reflect::get(&global, &"fetch".into()).unwrap();
        Reflect::set(&global, &"fetch".into(), closure.as_ref()).unwrap();
        Stub {
            requests,
            original,
            _closure: closure,
        }
    }

    fn count(&self) -> usize {
        self.requests.borrow().len()
    }

    fn request(&self, i: usize) -> Request {
        Clone::clone(&self.requests.borrow()[i])
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        let _ = Reflect::set(&js_sys::global(), &"fetch".into(), &self.original);
    }
}

fn options(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    Reflect::set(
        &o,
        &"instanceUrl".into(),
        &" https://Demo.Sourcegraph.example/search?q=x ".into(),
    )
    .unwrap();
    Reflect::set(&o, &"token".into(), &TOKEN.into()).unwrap();
    Reflect::set(&o, &"baseUrl".into(), &"https://api.test.example/".into()).unwrap();
    for (k, v) in pairs {
        Reflect::set(&o, &(*k).into(), v).unwrap();
    }
    o.into()
}

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &key.into()).unwrap()
}

fn message(e: &JsValue) -> String {
    get(e, "message").as_string().unwrap_or_default()
}

fn code(e: &JsValue) -> String {
    get(e, "code").as_string().unwrap_or_default()
}

/// Every error must be a real `Error` and never carry the token.
fn checked(e: JsValue) -> JsValue {
    assert!(e.is_instance_of::<js_sys::Error>(), "not an Error: {e:?}");
    assert!(
        !message(&e).contains(TOKEN) && !message(&e).contains("0123456789abcdef"),
        "the token leaked: {}",
        message(&e)
    );
    e
}

async fn report_err(pairs: &[(&str, JsValue)]) -> JsValue {
    match fetch_report(options(pairs)).await {
        Ok(_) => panic!("expected the fetch to fail"),
        Err(e) => checked(e),
    }
}

#[wasm_bindgen_test]
async fn the_token_goes_only_in_the_header_and_nothing_else_leaves() {
    let stub = Stub::install(vec![csv(CSV)]);
    let report = fetch_report(options(&[
        ("granularity", "by_user_day".into()),
        ("startDate", "2025-01-01".into()),
        ("endDate", "2025-01-31".into()),
    ]))
    .await
    .unwrap();
    assert_eq!(report.rows(), 2);
    assert_eq!(stub.count(), 1);
    let r = stub.request(0);
    assert_eq!(
        r.url(),
        "https://api.test.example/api/reports/by-user-client-date?\
         instanceURL=demo.sourcegraph.example&granularity=by_user_day\
         &startDate=2025-01-01&endDate=2025-01-31"
    );
    assert_eq!(r.method(), "GET");
    assert_eq!(
        r.headers().get("Authorization").unwrap().as_deref(),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    for (property, expected) in [
        ("redirect", "error"),
        ("credentials", "omit"),
        ("referrerPolicy", "no-referrer"),
        ("cache", "no-store"),
        ("mode", "cors"),
    ] {
        assert_eq!(get(&r, property).as_string().as_deref(), Some(expected));
    }
}

#[wasm_bindgen_test]
async fn options_are_checked_before_any_request() {
    let stub = Stub::install(vec![csv(CSV)]);
    let cases: Vec<(Vec<(&str, JsValue)>, &str)> = vec![
        (
            vec![("instanceURL", "x.example.com".into())],
            "did you mean \"instanceUrl\"",
        ),
        (vec![("startDate", "2025-02-30".into())], "startDate"),
        (
            vec![
                ("startDate", "2025-03-02".into()),
                ("endDate", "2025-03-01".into()),
            ],
            "after endDate",
        ),
        (vec![("granularity", "by_week".into())], "by_week"),
        (vec![("baseUrl", "http://0.0.0.0:9".into())], "https"),
        (vec![("maxRetries", (-1).into())], "maxRetries"),
        (
            vec![("monthWindows", true.into())],
            "both startDate and endDate",
        ),
        (vec![("monthWindows", "yes".into())], "monthWindows"),
        (vec![("onProgress", "log".into())], "onProgress"),
        (
            vec![("token", "Bearer abc".into())],
            "paste the token alone",
        ),
    ];
    for (pairs, expected) in cases {
        let e = report_err(&pairs).await;
        assert_eq!(code(&e), "invalid_options", "{}", message(&e));
        assert!(message(&e).contains(expected), "{}", message(&e));
    }
    // An aborted signal stops it before the request too.
    let controller = web_sys::AbortController::new().unwrap();
    controller.abort();
    let e = report_err(&[("signal", controller.signal().into())]).await;
    assert_eq!(get(&e, "name").as_string().as_deref(), Some("AbortError"));
    assert_eq!(stub.count(), 0, "no request may be sent for bad options");
}

#[wasm_bindgen_test]
async fn http_errors_say_what_to_do_and_carry_code_and_status() {
    let cases = [
        (
            400,
            "startDate is before the retention window",
            "bad_request",
            "startDate (2025-01-01)",
        ),
        (
            400,
            "",
            "bad_request",
            "instanceURL (demo.sourcegraph.example)",
        ),
        (401, "", "unauthorized", "new token"),
        (
            403,
            "",
            "forbidden",
            "no access to the instance demo.sourcegraph.example",
        ),
        (404, "", "not_found", "check the instance URL"),
        (418, "", "http_error", "418"),
    ];
    for (s, body, expected_code, expected) in cases {
        let stub = Stub::install(vec![status(s, body)]);
        let e = report_err(&[("startDate", "2025-01-01".into())]).await;
        assert_eq!(code(&e), expected_code, "{}", message(&e));
        assert_eq!(get(&e, "status").as_f64(), Some(f64::from(s)));
        assert!(message(&e).contains(expected), "{s}: {}", message(&e));
        assert_eq!(stub.count(), 1, "{s} is not retried");
    }
}

#[wasm_bindgen_test]
async fn a_token_echoed_by_the_server_is_scrubbed() {
    let _stub = Stub::install(vec![status(
        400,
        &format!("bad request for token {TOKEN} and instanceURL"),
    )]);
    let e = report_err(&[]).await;
    assert!(message(&e).contains("[token]"), "{}", message(&e));
    // And a token pasted into the instance field.
    let e = report_err(&[("instanceUrl", format!("https:// {TOKEN}").into())]).await;
    assert_eq!(code(&e), "invalid_options");
}

#[wasm_bindgen_test]
async fn a_refused_request_explains_cors_and_the_ways_out() {
    let stub = Stub::install(vec![Answer::FailedToFetch]);
    let e = report_err(&[("granularity", "by_user".into())]).await;
    let m = message(&e);
    assert_eq!(code(&e), "network");
    assert!(
        m.contains("CORS") && m.contains("cargo xtask serve --proxy"),
        "{m}"
    );
    assert!(
        m.contains("curl") && m.contains("Authorization: Bearer $SG_ANALYTICS_TOKEN"),
        "{m}"
    );
    assert!(
        m.contains("instanceURL=demo.sourcegraph.example&granularity=by_user"),
        "{m}"
    );
    // A CORS refusal would fail the same way again: it is not retried.
    assert_eq!(stub.count(), 1);
}

#[wasm_bindgen_test]
async fn bodies_cut_short_are_never_a_report() {
    let cut = "Instance user ID,Active Sourcegraph User,Timestamp Date,Chat Events\n1,true,2025-01-01,3\n2,fal";
    let short_of_length = Answer::Respond {
        status: 200,
        headers: vec![
            ("Content-Type", "text/csv".into()),
            ("Content-Length", "5000".into()),
        ],
        body: CSV.into(),
    };
    for answer in [csv(cut), short_of_length] {
        let stub = Stub::install(vec![answer]);
        let e = report_err(&[("maxRetries", 1.into())]).await;
        assert_eq!(code(&e), "cut_short", "{}", message(&e));
        assert_eq!(stub.count(), 2, "retried once, then given up");
    }
    // Cut once, then whole: the retry starts afresh, with no row counted twice.
    let stub = Stub::install(vec![csv(cut), csv(CSV)]);
    let report = fetch_report(options(&[])).await.unwrap();
    assert_eq!(report.rows(), 2);
    assert_eq!(stub.count(), 2);
}

/// Options for a month-windowed fetch of January and February 2025, retrying once.
fn two_windows() -> Vec<(&'static str, JsValue)> {
    vec![
        ("startDate", "2025-01-01".into()),
        ("endDate", "2025-02-28".into()),
        ("monthWindows", true.into()),
        ("maxRetries", 1.into()),
    ]
}

#[wasm_bindgen_test]
async fn a_month_window_empty_or_outside_its_dates_is_an_error_never_a_report() {
    let jan = "Instance user ID,Timestamp Date,Chat Events\n1,2025-01-05,3\n";
    let feb = "Instance user ID,Timestamp Date,Chat Events\n1,2025-02-05,4\n";
    // February answers 200 with an empty body, also when fetched again.
    let stub = Stub::install(vec![csv(jan), csv("")]);
    let e = report_err(&two_windows()).await;
    assert_eq!(code(&e), "bad_window", "{}", message(&e));
    assert!(
        message(&e).contains("2025-02-01 to 2025-02-28 came back empty"),
        "{}",
        message(&e)
    );
    assert_eq!(stub.count(), 3, "January, February, February again");
    drop(stub);
    // A proxy that drops startDate/endDate: each window gets both months.
    let both = format!("{jan}1,2025-02-05,4\n");
    let stub = Stub::install(vec![csv(&both)]);
    let e = report_err(&two_windows()).await;
    assert_eq!(code(&e), "bad_window", "{}", message(&e));
    assert!(
        message(&e).contains("row dated 2025-02-05 (line 3)"),
        "{}",
        message(&e)
    );
    assert!(message(&e).contains("ignored startDate and endDate"));
    assert_eq!(stub.count(), 2, "January, January again");
    drop(stub);
    // Empty once, then right: the window is fetched again and the report is whole.
    let stub = Stub::install(vec![csv(jan), csv(""), csv(feb)]);
    let report = fetch_report(options(&two_windows())).await.unwrap();
    assert_eq!(report.rows(), 2);
    assert_eq!(stub.count(), 3);
}

#[wasm_bindgen_test]
async fn an_announced_3_gb_body_reserves_a_capped_size_and_is_cut_short() {
    // Over a megabyte of rows, so the ingester has sampled row sizes and reserves for the rest.
    let mut body =
        String::from("Instance user ID,Active Sourcegraph User,Timestamp Date,Chat Events\n");
    let mut i = 0;
    while body.len() < 3 << 20 {
        body += &format!("{},true,2025-01-{:02},{}\n", i / 40, 1 + i % 28, i % 9);
        i += 1;
    }
    let stub = Stub::install(vec![Answer::Respond {
        status: 200,
        headers: vec![
            ("Content-Type", "text/csv".into()),
            // Believed for reserving only up to a cap, and small enough to fit the memory
            // budget by its rows' size (a larger one is refused, below).
            ("Content-Length", "3000000000".into()),
        ],
        body,
    }]);
    let e = report_err(&[("maxRetries", 0.into())]).await;
    assert_eq!(code(&e), "cut_short", "{}", message(&e));
    assert_eq!(stub.count(), 1);
}

#[wasm_bindgen_test]
async fn an_announced_40_gb_body_is_refused_as_too_large_before_it_is_read() {
    let stub = Stub::install(vec![Answer::Respond {
        status: 200,
        headers: vec![
            ("Content-Type", "text/csv".into()),
            ("Content-Length", "40000000000".into()),
        ],
        body: CSV.into(),
    }]);
    let e = report_err(&[("maxRetries", 2.into())]).await;
    assert_eq!(code(&e), "too_large", "{}", message(&e));
    let m = message(&e);
    assert!(m.contains("40 GB") && m.contains("Nothing was read"), "{m}");
    assert!(m.contains("sg-analytics fetch"), "{m}");
    // Fetching again would not make it fit: not retried.
    assert_eq!(stub.count(), 1);
}

#[wasm_bindgen_test]
async fn answers_that_are_not_an_export_are_refused() {
    let html = Answer::Respond {
        status: 200,
        headers: vec![("Content-Type", "text/html; charset=utf-8".into())],
        body: "<!doctype html><title>Sign in</title>".into(),
    };
    let cases = [
        (html, "instead of a CSV export"),
        (
            csv("<html><body>Sign in</body></html>\n"),
            "not a Sourcegraph Analytics export",
        ),
        (
            csv("{\"error\": \"oops\"}"),
            "not a Sourcegraph Analytics export",
        ),
        (csv(""), "empty answer"),
    ];
    for (answer, expected) in cases {
        let stub = Stub::install(vec![answer]);
        let e = report_err(&[]).await;
        assert_eq!(code(&e), "not_csv", "{}", message(&e));
        assert!(message(&e).contains(expected), "{}", message(&e));
        assert_eq!(stub.count(), 1);
    }
}

#[wasm_bindgen_test]
async fn retry_after_as_an_http_date_is_honoured() {
    // Two seconds ahead, rounded down to the second by the date format: a wait of 1 to 2 s.
    let at = js_sys::Date::new(&(js_sys::Date::now() + 2000.0).into());
    let date = String::from(at.to_utc_string());
    let stub = Stub::install(vec![
        Answer::Respond {
            status: 503,
            headers: vec![("Retry-After", date)],
            body: String::new(),
        },
        csv(CSV),
    ]);
    let started = js_sys::Date::now();
    let report = fetch_report(options(&[])).await.unwrap();
    let elapsed = js_sys::Date::now() - started;
    assert_eq!(report.rows(), 2);
    assert_eq!(stub.count(), 2);
    assert!(elapsed >= 900.0, "waited only {elapsed} ms");
}

fn abort_after(controller: &web_sys::AbortController, ms: i32, reason: &str) {
    let controller = controller.clone();
    let reason = JsValue::from(reason);
    let abort = Closure::once_into_js(move || controller.abort_with_reason(&reason));
    let global = js_sys::global();
    let set_timeout: js_sys::Function = get(&global, "setTimeout").unchecked_into();
    set_timeout.call2(&global, &abort, &ms.into()).unwrap();
}

#[wasm_bindgen_test]
async fn abort_during_a_backoff_wait_or_a_request_is_an_abort_error() {
    // A 30 s Retry-After: the abort must not wait for it.
    let stub = Stub::install(vec![Answer::Respond {
        status: 429,
        headers: vec![("Retry-After", "30".into())],
        body: String::new(),
    }]);
    let controller = web_sys::AbortController::new().unwrap();
    abort_after(&controller, 200, "the user left");
    let started = js_sys::Date::now();
    let e = report_err(&[("signal", controller.signal().into())]).await;
    assert_eq!(get(&e, "name").as_string().as_deref(), Some("AbortError"));
    assert_eq!(code(&e), "aborted");
    assert!(js_sys::Date::now() - started < 5000.0);
    assert_eq!(stub.count(), 1);
    drop(stub);
    // A request in flight rejects with the signal's reason, here a plain string (not an Error):
    // still an AbortError, never a trap.
    let stub = Stub::install(vec![Answer::Hang]);
    let controller = web_sys::AbortController::new().unwrap();
    abort_after(&controller, 100, "the user left");
    let e = report_err(&[("signal", controller.signal().into())]).await;
    assert_eq!(get(&e, "name").as_string().as_deref(), Some("AbortError"));
    // The request carried the call's own signal, not the caller's, and it was aborted with an
    // `Error` (a DOMException named AbortError), whatever reason the caller gave.
    let sent = stub.request(0).signal();
    assert_ne!(
        JsValue::from(sent.clone()),
        JsValue::from(controller.signal())
    );
    assert!(sent.aborted());
    assert!(sent.reason().is_instance_of::<js_sys::Error>());
    assert_eq!(
        get(&sent.reason(), "name").as_string().as_deref(),
        Some("AbortError")
    );
}

#[wasm_bindgen_test]
async fn credits_are_plain_data_whether_json_or_csv() {
    let json = Answer::Respond {
        status: 200,
        headers: vec![("Content-Type", "application/json".into())],
        body: r#"{"buckets": [{"start": "2025-01-01", "credits": 12.5}]}"#.into(),
    };
    let stub = Stub::install(vec![json]);
    let credits = fetch_credits(options(&[("startDate", "2025-01-01".into())]))
        .await
        .unwrap();
    assert!(!credits.is_instance_of::<js_sys::Map>());
    let bucket = Array::from(&get(&credits, "buckets")).get(0);
    assert_eq!(get(&bucket, "credits").as_f64(), Some(12.5));
    assert_eq!(
        stub.request(0).url(),
        "https://api.test.example/api/credits?instanceURL=demo.sourcegraph.example\
         &startDate=2025-01-01"
    );
    drop(stub);
    let _stub = Stub::install(vec![csv(
        "Month,Credits used\n2025-01,\"1,200\"\n2025-02,30\n",
    )]);
    let rows = Array::from(&fetch_credits(options(&[])).await.unwrap());
    assert_eq!(rows.length(), 2);
    assert_eq!(
        get(&rows.get(0), "Credits used").as_string().as_deref(),
        Some("1,200")
    );
}

#[wasm_bindgen_test]
fn the_builder_and_from_csv_refuse_misuse_with_errors() {
    let mut builder = ReportBuilder::new();
    builder.push(CSV.as_bytes()).unwrap();
    assert_eq!(builder.rows(), 2);
    assert_eq!(builder.bytes(), CSV.len() as f64);
    let report = builder.finish().unwrap();
    assert_eq!(report.rows(), 2);
    for e in [
        builder.push(b"1,true,2025-01-03,1\n").unwrap_err(),
        builder.finish().err().unwrap(),
        Report::from_csv(JsValue::from(42)).err().unwrap(),
        Report::from_csv("".into()).err().unwrap(),
        report
            .summarize(Some(
                js_sys::JSON::parse(r#"{"groupBy": ["client"]}"#)
                    .unwrap()
                    .unchecked_into(),
            ))
            .unwrap_err(),
        report
            .filtered_csv(Some(
                js_sys::JSON::parse(r#"{"clients": "vscode"}"#)
                    .unwrap()
                    .unchecked_into(),
            ))
            .unwrap_err(),
    ] {
        assert!(e.is_instance_of::<js_sys::Error>(), "{e:?}");
        assert!(!message(&e).is_empty());
    }
    // Strings and bytes are the same input.
    let from_text = Report::from_csv(CSV.into()).unwrap();
    let from_bytes = Report::from_csv(js_sys::Uint8Array::from(CSV.as_bytes()).into()).unwrap();
    assert_eq!(
        from_text.to_json(None).unwrap(),
        from_bytes.to_json(None).unwrap()
    );
    let info = from_text.info().unwrap();
    assert_eq!(get(&info, "rows").as_f64(), Some(2.0));
    assert_eq!(
        get(&info, "granularity").as_string().as_deref(),
        Some("by_user_day")
    );
}

#[wasm_bindgen_test]
fn plan_fetch_checks_options_by_the_fetchs_rules_without_a_request_or_the_token() {
    let stub = Stub::install(Vec::new());
    let plan = plan_fetch(options(&[])).unwrap();
    assert_eq!(get(&plan, "ok"), JsValue::TRUE);
    assert_eq!(
        get(&plan, "instance").as_string().unwrap(),
        "demo.sourcegraph.example"
    );
    assert_eq!(
        get(&plan, "baseUrl").as_string().unwrap(),
        "https://api.test.example"
    );
    let url = get(&plan, "url").as_string().unwrap();
    assert!(url.starts_with("https://api.test.example/api/reports/by-user-client-date?instanceURL=demo.sourcegraph.example"), "{url}");
    let curl = get(&plan, "curl").as_string().unwrap();
    assert!(
        curl.contains("$SG_ANALYTICS_TOKEN") && curl.contains(&format!("'{url}'")),
        "{curl}"
    );
    assert!(!curl.contains(" -L") && !curl.contains(TOKEN));
    // Month windows: one request per month of the range.
    let windows = plan_fetch(options(&[
        ("startDate", "2025-01-15".into()),
        ("endDate", "2025-03-02".into()),
        ("monthWindows", true.into()),
    ]))
    .unwrap();
    assert_eq!(get(&windows, "windows").as_f64(), Some(3.0));
    // The problem, and the option at fault, instead of an exception.
    for (pairs, field) in [
        (
            vec![("baseUrl", JsValue::from("http://evil.example"))],
            "baseUrl",
        ),
        (
            vec![("instanceUrl", JsValue::from("https:///"))],
            "instanceUrl",
        ),
        (vec![("startDate", JsValue::from("2025-02-30"))], "dates"),
        (vec![("monthWindows", JsValue::TRUE)], "monthWindows"),
    ] {
        let plan = plan_fetch(options(&pairs)).unwrap();
        assert_eq!(get(&plan, "ok"), JsValue::FALSE);
        assert_eq!(get(&plan, "field").as_string().as_deref(), Some(field));
        let problem = get(&plan, "problem").as_string().unwrap();
        assert!(!problem.is_empty() && !problem.contains(TOKEN), "{problem}");
    }
    assert_eq!(stub.count(), 0, "planFetch sent a request");
}

#[wasm_bindgen_test]
fn summarize_many_answers_a_view_and_errors_carry_a_code() {
    let report = Report::from_csv(CSV.into()).unwrap();
    let queries: JsValue = js_sys::JSON::parse(
        r#"[{"groupBy": ["day"], "metrics": ["activeUsers"], "includeWarnings": false},
            {"groupBy": ["user"], "sort": {"by": "Chat Events", "desc": true}, "limit": 1}]"#,
    )
    .unwrap();
    let many: Array = report.summarize_many(queries.clone()).unwrap().into();
    assert_eq!(many.length(), 2);
    for (i, query) in Array::from(&queries).iter().enumerate() {
        let alone = report.summarize(Some(query.unchecked_into())).unwrap();
        assert_eq!(
            js_sys::JSON::stringify(&many.get(i as u32)).unwrap(),
            js_sys::JSON::stringify(&alone).unwrap()
        );
    }
    // The same answers as JSON text (what the dashboard's worker sends the page), once parsed.
    // Rates, averages, a comparison and warnings included: every kind of value a view shows.
    let view: JsValue = js_sys::JSON::parse(
        r#"[{"groupBy": ["day"], "metrics": ["activeUsers"], "includeWarnings": false},
            {"groupBy": ["user"], "sort": {"by": "Chat Events", "desc": true}, "limit": 1},
            {"compare": "lastPeriods"}, {"groupBy": ["day"], "compare": "previous",
             "filter": {"from": "2025-01-02"}}]"#,
    )
    .unwrap();
    let text = report.summarize_many_json(view.clone()).unwrap();
    assert_eq!(
        js_sys::JSON::stringify(&js_sys::JSON::parse(&text).unwrap()).unwrap(),
        js_sys::JSON::stringify(&report.summarize_many(view).unwrap()).unwrap()
    );
    let e = report
        .summarize_many_json(JsValue::from_str("[]"))
        .unwrap_err();
    assert!(
        message(&e).contains("summarizeManyJson takes an array"),
        "{}",
        message(&e)
    );
    let top = many.get(1);
    let group = Array::from(&get(&top, "groups")).get(0);
    assert_eq!(
        get(&get(&group, "key"), "user").as_string().as_deref(),
        Some("2")
    );
    let e = report
        .summarize_many(js_sys::JSON::parse(r#"[{}, {"groupBy": ["client"]}]"#).unwrap())
        .unwrap_err();
    assert_eq!(code(&checked(e.clone())), "invalid_query");
    assert!(message(&e).starts_with("query 2:"), "{}", message(&e));
    let e = Report::from_csv("not,an,export\n1,2,3\n".into())
        .err()
        .unwrap();
    assert_eq!(code(&checked(e)), "invalid_input");
}

/// The adoption answers through the JS API are the core's (the same JSON), a joined registry's
/// users who never appear are listed as inactive, and a bad period is an `invalid_query`.
#[wasm_bindgen_test]
fn growth_retention_and_inactive_users_through_the_js_api() {
    let csv = "Instance user ID,Active Sourcegraph User,Timestamp Date,Chat Events\r\n\
               1,true,2025-01-01,3\r\n2,true,2025-01-02,4\r\n1,true,2025-02-03,1\r\n\
               3,false,2025-02-04,1\r\n2,true,2025-03-05,2\r\n";
    let table = sg_analytics::Table::from_bytes(csv.as_bytes()).unwrap();
    let mut report = Report::from_csv(csv.into()).unwrap();
    let query = |json: &str| js_sys::JSON::parse(json).unwrap().unchecked_into();
    let inactive_query = |json: &str| js_sys::JSON::parse(json).unwrap().unchecked_into();
    // Both as JS writes them (0.0 and 0 are one number there).
    let same = |js: JsValue, core: serde_json::Value| {
        let core = js_sys::JSON::parse(&core.to_string()).unwrap();
        assert_eq!(
            String::from(js_sys::JSON::stringify(&js).unwrap()),
            String::from(js_sys::JSON::stringify(&core).unwrap())
        );
    };
    let growth = table
        .growth(&serde_json::from_str(r#"{"period": "month"}"#).unwrap())
        .unwrap();
    same(
        report
            .growth(Some(query(r#"{"period": "month"}"#)))
            .unwrap(),
        serde_json::to_value(&growth).unwrap(),
    );
    // January: 1 and 2 new; February: 1 retained, 2 churned; March: 2 resurrected, 1 churned.
    assert_eq!(growth.periods[2].resurrected_users, 1);
    let retention = table.retention(&Default::default()).unwrap();
    same(
        report.retention(None).unwrap(),
        serde_json::to_value(&retention).unwrap(),
    );
    // Their CSVs are the core's writers' (the CLI's `growth`/`retention --format csv`), and hold
    // the same periods and cohorts.
    let growth_csv = report
        .growth_csv(Some(query(r#"{"period": "month"}"#)))
        .unwrap();
    assert_eq!(growth_csv, growth.to_csv());
    assert_eq!(
        growth_csv,
        "period,activeUsers,newUsers,retainedUsers,resurrectedUsers,churnedUsers,quickRatio,partial,smallSample\n\
         2025-01,2,2,0,0,0,,false,false\n2025-02,1,0,1,0,1,0.00,false,true\n2025-03,1,0,0,1,1,1.00,true,true\n"
    );
    // Stickiness and feature depth, and their CSVs, are the core's too.
    for period in [r#"{"period": "month"}"#, r#"{"period": "week"}"#] {
        let core: sg_analytics::PeriodQuery = serde_json::from_str(period).unwrap();
        let stickiness = table.stickiness(&core).unwrap();
        same(
            report.stickiness(Some(query(period))).unwrap(),
            serde_json::to_value(&stickiness).unwrap(),
        );
        assert_eq!(
            report.stickiness_csv(Some(query(period))).unwrap(),
            stickiness.to_csv()
        );
        let features = table.features(&core).unwrap();
        same(
            report.features(Some(query(period))).unwrap(),
            serde_json::to_value(&features).unwrap(),
        );
        assert_eq!(
            report.features_csv(Some(query(period))).unwrap(),
            features.to_csv()
        );
    }
    let retention_csv = report.retention_csv(None).unwrap();
    assert_eq!(retention_csv, retention.to_csv());
    assert_eq!(
        retention_csv,
        "cohort,users,+0,+1,+2,smallSample\n2025-01,2,2,1,1,true\n"
    );

    let registry = UserRegistry::from_csv(
        "Instance user ID,Service Account,Site Admin\n9,true,false\n1,false,true\n".into(),
    )
    .unwrap();
    report.join_registry(&registry);
    // Service accounts counted (the default leaves them out once the registry is joined).
    let counted = r#"{"days": 20, "filter": {"excludeServiceAccounts": false}}"#;
    let inactive = report.inactive_users(inactive_query(counted)).unwrap();
    let users = Array::from(&get(&inactive, "users"));
    let ids: Vec<String> = users
        .iter()
        .map(|u| get(&u, "user").as_string().unwrap())
        .collect();
    // 9 and 3 never active (null first, by ID), then 1 (last active 2025-02-03).
    assert_eq!(ids, ["3", "9", "1"]);
    assert_eq!(get(&users.get(1), "serviceAccount").as_bool(), Some(true));
    // The CSV of the same list is the core's writer's (the CLI's `inactive --format csv`).
    let core_registry = sg_analytics::Registry::from_bytes(
        b"Instance user ID,Service Account,Site Admin\n9,true,false\n1,false,true\n",
    )
    .unwrap();
    let core_query: sg_analytics::InactiveQuery = serde_json::from_str(counted).unwrap();
    assert_eq!(
        report.inactive_users_csv(inactive_query(counted)).unwrap(),
        table
            .inactive_users(&core_query, Some(&core_registry))
            .unwrap()
            .to_csv()
    );

    let e = report
        .growth(Some(query(r#"{"period": "day"}"#)))
        .unwrap_err();
    assert_eq!(code(&checked(e)), "invalid_query");
}

/// `filteredCsv` gives back the rows as they were read: padding, leading zeros, timestamps, bad
/// cells and spaces included; only a formula gets its guard.
/// `report.cost` reads what `fetchCredits` returns (here a CSV answer's objects, cells as text)
/// and answers as the core does; an answer without buckets is an error that names its fields.
#[wasm_bindgen_test]
fn cost_through_the_js_api_is_the_cores() {
    let csv = "Instance user ID,Active Sourcegraph User,Timestamp Date,Chat Events\r\n\
               1,true,2025-01-01,3\r\n2,true,2025-01-02,4\r\n1,true,2025-02-03,1\r\n";
    let table = sg_analytics::Table::from_bytes(csv.as_bytes()).unwrap();
    let report = Report::from_csv(csv.into()).unwrap();
    let credits =
        r#"[{"month": "2025-01", "creditsUsed": "30"}, {"month": "2025-02", "creditsUsed": "12"}]"#;
    let core = table
        .cost(
            &sg_analytics::Credits::from_value(&serde_json::from_str(credits).unwrap()).unwrap(),
            &Default::default(),
        )
        .unwrap();
    // January: 2 active users, 30 credits; February: 1 user, 12 credits.
    assert_eq!(core.months[0].credits_per_active_user, Some(15.0));
    assert_eq!(core.range.credits_used, Some(42.0));
    let js = report
        .cost(js_sys::JSON::parse(credits).unwrap(), JsValue::UNDEFINED)
        .unwrap();
    // Both as JS writes them (15.0 and 15 are one number there).
    let core = js_sys::JSON::parse(&serde_json::to_string(&core).unwrap()).unwrap();
    assert_eq!(
        String::from(js_sys::JSON::stringify(&js).unwrap()),
        String::from(js_sys::JSON::stringify(&core).unwrap())
    );
    let odd = js_sys::JSON::parse(r#"{"status": "ok", "total": 12.5}"#).unwrap();
    let err = report.cost(odd, JsValue::UNDEFINED).unwrap_err();
    let message = String::from(js_sys::Error::from(err).message());
    assert!(
        message.contains("no list of buckets") && message.contains("status, total"),
        "{message}"
    );
}

#[wasm_bindgen_test]
fn filtered_rows_are_the_rows_read() {
    let input = "Instance user ID,Active Sourcegraph User,Timestamp Date,Combined CAR,Zip,Team\r\n\
                 1,TRUE,2025-01-02T00:00:00Z,0.2290,08123, core \r\n\
                 2,no,2025-01-03T00:00:00Z,0.0000,00042,\"a, b\"\r\n\
                 3,maybe,soon,n/a,12000,=1+1\r\n";
    let report = Report::from_csv(input.into()).unwrap();
    let all = report.filtered_csv(None).unwrap();
    let expected = input.replace("\r\n", "\n").replace(",=1+1", ",'=1+1");
    assert_eq!(all, expected);
}

/// A server that ignores the dates of a month window would multiply rows: such a window is
/// retried, then refused with `bad_window`, never joined into the report.
#[wasm_bindgen_test]
async fn a_month_window_with_rows_outside_its_dates_is_refused() {
    let stub = Stub::install(vec![csv(CSV)]);
    let e = report_err(&[
        ("startDate", "2025-01-01".into()),
        ("endDate", "2025-02-28".into()),
        ("monthWindows", true.into()),
        ("maxRetries", 1.into()),
    ])
    .await;
    assert_eq!(code(&e), "bad_window", "{}", message(&e));
    assert!(
        message(&e).contains("2025-02-01 to 2025-02-28"),
        "{}",
        message(&e)
    );
    // January kept to its dates; February was fetched, retried once, then refused.
    assert_eq!(stub.count(), 3);
}

/// `joinAttributes` adds the people file's columns as group keys and filters, in the browser as
/// natively; users without a line are null.
#[wasm_bindgen_test]
fn a_people_file_joins_in_the_browser() {
    let mut report = Report::from_csv(CSV.into()).unwrap();
    let join = report
        .join_attributes("Instance user ID,Team\n1,Search\n".into())
        .unwrap();
    assert_eq!(get(&join, "matched").as_f64(), Some(1.0));
    assert_eq!(get(&join, "unmatched").as_f64(), Some(1.0));
    let query = js_sys::JSON::parse(
        r#"{"groupBy": ["Team"], "metrics": ["Chat Events"], "filter": {"attributes": {"Team": ["search", ""]}}}"#,
    )
    .unwrap();
    let summary = report.summarize(Some(query.unchecked_into())).unwrap();
    let groups = Array::from(&get(&summary, "groups"));
    assert_eq!(groups.length(), 2);
    let first = groups.get(0);
    assert_eq!(
        get(&get(&first, "key"), "Team").as_string().as_deref(),
        Some("Search")
    );
    assert_eq!(get(&first, "Chat Events").as_f64(), Some(3.0));
    assert!(get(&get(&groups.get(1), "key"), "Team").is_null());
    let e = report.join_attributes("Team\nx\n".into()).unwrap_err();
    assert_eq!(code(&checked(e)), "invalid_input");
}

/// A body of a few megabytes, in chunks of every size from one byte to more than the megabyte a
/// byte stream is read into at a time: read as a byte stream (BYOB) and as a plain stream (the
/// default reader), the report is the one `Report.fromCsv` makes of the same bytes, records split
/// across chunks and reads included.
#[wasm_bindgen_test]
async fn a_streamed_body_gives_the_report_of_its_bytes_whatever_its_chunks() {
    let header =
        "Instance user ID,Active Sourcegraph User,Timestamp Date,Client Name,Chat Events\n";
    let mut body = String::from(header);
    let mut i = 0u32;
    while body.len() < 3 << 20 {
        let quoted = if i % 97 == 0 {
            "\"a, \"\"b\"\"\""
        } else {
            "vscode"
        };
        body.push_str(&format!(
            "{},{},2025-0{}-{:02},{quoted},{}\r\n",
            i % 500,
            i % 3 == 0,
            1 + i % 9,
            1 + i % 28,
            i % 11
        ));
        i += 1;
    }
    // Chunk sizes cycle through 1 byte, a few KiB and 1.5 MiB.
    let sizes = [1usize, 7, 4093, 65_536, 1_572_864, 300_001];
    let mut chunks = Vec::new();
    let mut at = 0;
    for size in sizes.iter().cycle() {
        if at >= body.len() {
            break;
        }
        let end = (at + size).min(body.len());
        chunks.push(body[at..end].to_string());
        at = end;
    }
    let query = js_sys::JSON::parse(r#"{"groupBy": ["day", "client"]}"#).unwrap();
    let expected = Report::from_csv(body.as_str().into())
        .unwrap()
        .to_json(Some(query.clone().unchecked_into()))
        .unwrap();
    for byte_stream in [true, false] {
        let _stub = Stub::install(vec![Answer::Stream {
            chunks: chunks.clone(),
            byte_stream,
        }]);
        let report = fetch_report(options(&[])).await.unwrap();
        assert_eq!(
            report
                .to_json(Some(query.clone().unchecked_into()))
                .unwrap(),
            expected,
            "byte stream: {byte_stream}"
        );
    }
}

/// The warm-up (made-up export, the page's first queries) runs without an error and leaves
/// nothing behind: a report read after it is the same as one read before.
#[wasm_bindgen_test]
fn warm_up_runs_and_changes_no_report() {
    let query = || {
        Some(
            js_sys::JSON::parse(r#"{"groupBy": ["day"]}"#)
                .unwrap()
                .unchecked_into(),
        )
    };
    let before = Report::from_csv(CSV.into())
        .unwrap()
        .to_json(query())
        .unwrap();
    warm_up().unwrap();
    let after = Report::from_csv(CSV.into())
        .unwrap()
        .to_json(query())
        .unwrap();
    assert_eq!(before, after);
}
