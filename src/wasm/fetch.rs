//! The fetch client: carries out a [`FetchPlan`] with the browser's `fetch`, streaming the body
//! into the core's ingester chunk by chunk as it arrives.
//!
//! Requests are built with gloo-net's `RequestBuilder`, which sets every option the secrets rules
//! ask for (redirect, credentials, referrer policy, cache, abort signal) and works on the main
//! thread and in workers alike; the body is read with a `ReadableStreamDefaultReader`, never as
//! one string.

use gloo_net::http::{RequestBuilder, Response};
use js_sys::{Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortSignal, ReadableStreamDefaultReader, ReferrerPolicy, RequestCache, RequestCredentials,
    RequestRedirect,
};

use super::{js_error, to_js, Report, UserRegistry};
use crate::fetch_plan::{
    backoff_ms, cut_short_message, is_retryable, network_message, not_csv_message, retry_after_ms,
    scrub, status_message, FetchPlan, CREDITS_PATH, REGISTRY_PATH,
};
use crate::Ingester;

/// Why a fetch stopped.
enum Failure {
    /// The caller's `AbortSignal` fired.
    Aborted,
    /// Anything else, with the message for the user.
    Message(String),
}

impl Failure {
    /// A JS `Error` (named `AbortError` for a cancel) whose message cannot carry the token.
    fn into_js(self, token: &str) -> JsValue {
        match self {
            Failure::Aborted => {
                let e = js_sys::Error::new("The fetch was cancelled.");
                e.set_name("AbortError");
                e.into()
            }
            Failure::Message(m) => js_error(scrub(&m, token)),
        }
    }
}

impl From<crate::Error> for Failure {
    fn from(e: crate::Error) -> Failure {
        Failure::Message(e.to_string())
    }
}

struct Options {
    plan: FetchPlan,
    token: String,
    signal: Option<AbortSignal>,
    on_progress: Option<Function>,
    month_windows: bool,
    max_retries: u32,
}

fn field(options: &JsValue, key: &str) -> JsValue {
    Reflect::get(options, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn string_field(options: &JsValue, key: &str) -> Result<Option<String>, JsValue> {
    let v = field(options, key);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.as_string()
        .map(Some)
        .ok_or_else(|| js_error(format!("options.{key} must be a string")))
}

impl Options {
    fn from_js(options: &JsValue, what: &str) -> Result<Options, JsValue> {
        if !options.is_object() {
            return Err(js_error(format!(
                "{what} takes an options object: {{ instanceUrl, token, ... }}"
            )));
        }
        let instance = string_field(options, "instanceUrl")?
            .ok_or_else(|| js_error("options.instanceUrl is required (your instance's address)"))?;
        let token = string_field(options, "token")?
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                js_error("options.token is required (a Sourcegraph Analytics access token)")
            })?;
        let plan = FetchPlan::new(
            &instance,
            string_field(options, "baseUrl")?.as_deref(),
            string_field(options, "granularity")?.as_deref(),
            string_field(options, "startDate")?.as_deref(),
            string_field(options, "endDate")?.as_deref(),
        )
        .map_err(|e| js_error(scrub(e.message(), &token)))?;
        let signal = match field(options, "signal") {
            v if v.is_undefined() || v.is_null() => None,
            v => Some(
                v.dyn_into::<AbortSignal>()
                    .map_err(|_| js_error("options.signal must be an AbortSignal"))?,
            ),
        };
        let on_progress = match field(options, "onProgress") {
            v if v.is_undefined() || v.is_null() => None,
            v => Some(
                v.dyn_into::<Function>()
                    .map_err(|_| js_error("options.onProgress must be a function"))?,
            ),
        };
        let max_retries = field(options, "maxRetries")
            .as_f64()
            .map_or(3, |n| n.clamp(0.0, 10.0) as u32);
        Ok(Options {
            plan,
            token,
            signal,
            on_progress,
            month_windows: field(options, "monthWindows").as_bool().unwrap_or(false),
            max_retries,
        })
    }

    fn aborted(&self) -> bool {
        self.signal.as_ref().is_some_and(AbortSignal::aborted)
    }

    fn check_abort(&self) -> Result<(), Failure> {
        if self.aborted() {
            Err(Failure::Aborted)
        } else {
            Ok(())
        }
    }
}

/// Fetches the export (`/api/reports/by-user-client-date`) and parses it as it streams in.
/// Rejects with an `Error` whose message says what went wrong and what to do; with an
/// `AbortError` when the signal fires.
#[wasm_bindgen(js_name = fetchReport)]
pub async fn fetch_report(
    #[wasm_bindgen(unchecked_param_type = "FetchOptions")] options: JsValue,
) -> Result<Report, JsValue> {
    let options = Options::from_js(&options, "fetchReport")?;
    run_report(&options)
        .await
        .map_err(|f| f.into_js(&options.token))
}

/// Fetches the user registry (`/api/reports/user-registry`), to join with
/// `report.joinRegistry(registry)`.
#[wasm_bindgen(js_name = fetchRegistry)]
pub async fn fetch_registry(
    #[wasm_bindgen(unchecked_param_type = "FetchOptions")] options: JsValue,
) -> Result<UserRegistry, JsValue> {
    let options = Options::from_js(&options, "fetchRegistry")?;
    let result = async {
        let url = options.plan.url(REGISTRY_PATH);
        let response = request(&options, &url).await?;
        let bytes = response
            .binary()
            .await
            .map_err(|_| failure_in_body(&options, 0))?;
        Ok::<_, Failure>(UserRegistry {
            inner: crate::Registry::from_bytes(&bytes)?,
        })
    };
    result.await.map_err(|f| f.into_js(&options.token))
}

/// Fetches the credit buckets (`/api/credits`): parsed JSON as it is, or a CSV answer as an array
/// of objects keyed by its header.
#[wasm_bindgen(js_name = fetchCredits, unchecked_return_type = "Promise<unknown>")]
pub async fn fetch_credits(
    #[wasm_bindgen(unchecked_param_type = "FetchOptions")] options: JsValue,
) -> Result<JsValue, JsValue> {
    let options = Options::from_js(&options, "fetchCredits")?;
    let result = async {
        let plan = &options.plan;
        let mut url = plan.url(CREDITS_PATH);
        for (name, value) in [("startDate", &plan.start_date), ("endDate", &plan.end_date)] {
            if let Some(v) = value {
                url.push_str(&format!("&{name}={v}"));
            }
        }
        let response = request(&options, &url).await?;
        let content_type = response.headers().get("content-type").unwrap_or_default();
        let text = response
            .text()
            .await
            .map_err(|_| failure_in_body(&options, 0))?;
        let value = if content_type.contains("json") || text.trim_start().starts_with(['{', '[']) {
            serde_json::from_str::<serde_json::Value>(&text).map_err(|e| {
                Failure::Message(format!("the credits answer is not valid JSON: {e}"))
            })?
        } else {
            csv_objects(&text)?
        };
        to_js(&value).map_err(|e| Failure::Message(format!("{e:?}")))
    };
    result.await.map_err(|f| f.into_js(&options.token))
}

fn csv_objects(text: &str) -> Result<serde_json::Value, Failure> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| Failure::Message(format!("the credits answer is not CSV: {e}")))?
        .clone();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record =
            record.map_err(|e| Failure::Message(format!("the credits answer is not CSV: {e}")))?;
        let object: serde_json::Map<String, serde_json::Value> = headers
            .iter()
            .zip(record.iter())
            .map(|(h, v)| (h.to_string(), serde_json::Value::from(v)))
            .collect();
        rows.push(serde_json::Value::Object(object));
    }
    Ok(serde_json::Value::Array(rows))
}

async fn run_report(options: &Options) -> Result<Report, Failure> {
    options.check_abort()?;
    let mut ingester = Ingester::new();
    let mut progress = ProgressReporter::new(options.on_progress.clone());
    if options.month_windows {
        let windows = options.plan.month_windows()?;
        let total = windows.len();
        for (i, window) in windows.iter().enumerate() {
            let bytes = fetch_window(options, window, &mut progress, &ingester, (i, total)).await?;
            if i > 0 {
                ingester.start_part()?;
            }
            ingester.push(&bytes)?;
            progress.bytes_done += bytes.len() as f64;
            progress.report(0.0, ingester.rows(), Some((i + 1, total)), true);
        }
    } else {
        let response = request(options, &options.plan.report_url()).await?;
        let mut sink = |chunk: &[u8], bytes: f64| {
            ingester.push(chunk)?;
            progress.report(bytes, ingester.rows(), None, false);
            Ok(())
        };
        let bytes = read_body(options, &response, &mut sink).await?;
        progress.bytes_done = bytes;
        progress.report(0.0, ingester.rows(), None, true);
    }
    options.check_abort()?;
    Ok(Report::from(ingester.finish()?))
}

/// One month of a windowed fetch, buffered until it is complete so that a failed window can be
/// fetched again without touching the report; a cut body is retried like a 5xx.
async fn fetch_window(
    options: &Options,
    window: &FetchPlan,
    progress: &mut ProgressReporter,
    ingester: &Ingester,
    (index, total): (usize, usize),
) -> Result<Vec<u8>, Failure> {
    let mut attempt = 0;
    loop {
        let response = request(options, &window.report_url()).await?;
        let mut buffer = Vec::new();
        let rows = ingester.rows();
        let result = {
            let mut sink = |chunk: &[u8], bytes: f64| {
                buffer.extend_from_slice(chunk);
                progress.report(bytes, rows, Some((index, total)), false);
                Ok(())
            };
            read_body(options, &response, &mut sink).await
        };
        match result {
            Ok(_) => return Ok(buffer),
            Err(Failure::Message(_)) if attempt < options.max_retries && !options.aborted() => {
                sleep(options, backoff_ms(attempt, js_sys::Math::random())).await?;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Sends a GET with the token in the `Authorization` header only, retrying 429 and 5xx answers
/// (honouring `Retry-After`) a bounded number of times. Returns a successful response.
async fn request(options: &Options, url: &str) -> Result<Response, Failure> {
    let mut attempt = 0;
    loop {
        options.check_abort()?;
        let sent = RequestBuilder::new(url)
            .header("Authorization", &format!("Bearer {}", options.token))
            .redirect(RequestRedirect::Error)
            .credentials(RequestCredentials::Omit)
            .referrer_policy(ReferrerPolicy::NoReferrer)
            .cache(RequestCache::NoStore)
            .abort_signal(options.signal.as_ref())
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(_) if options.aborted() => return Err(Failure::Aborted),
            // The browser gives no detail on purpose (a CORS refusal looks like a network error).
            Err(_) => return Err(Failure::Message(network_message(&options.plan))),
        };
        let status = response.status();
        if response.ok() {
            return Ok(response);
        }
        if is_retryable(status) && attempt < options.max_retries {
            let wait = response
                .headers()
                .get("retry-after")
                .and_then(|v| retry_after_ms(&v, js_sys::Date::now()))
                .unwrap_or_else(|| backoff_ms(attempt, js_sys::Math::random()));
            sleep(options, wait).await?;
            attempt += 1;
            continue;
        }
        let hint = response.text().await.unwrap_or_default();
        return Err(Failure::Message(status_message(
            status,
            &options.plan,
            &hint,
        )));
    }
}

fn failure_in_body(options: &Options, bytes: u64) -> Failure {
    if options.aborted() {
        Failure::Aborted
    } else {
        Failure::Message(cut_short_message(bytes))
    }
}

/// Takes each chunk of a body, with the bytes read so far.
type Sink<'a> = dyn FnMut(&[u8], f64) -> Result<(), Failure> + 'a;

/// Reads a successful response's body chunk by chunk into `sink` (with the bytes read so far);
/// returns the bytes read. An HTML answer, a body cut short, or fewer bytes than `Content-Length`
/// announced are errors.
async fn read_body(
    options: &Options,
    response: &Response,
    sink: &mut Sink<'_>,
) -> Result<f64, Failure> {
    let headers = response.headers();
    let content_type = headers.get("content-type").unwrap_or_default();
    if content_type.to_ascii_lowercase().contains("text/html") {
        return Err(Failure::Message(not_csv_message(
            &options.plan,
            &content_type,
        )));
    }
    let expected = headers
        .get("content-length")
        .and_then(|v| v.trim().parse::<f64>().ok());
    let Some(body) = response.body() else {
        return Ok(0.0);
    };
    let reader: ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let mut bytes = 0.0;
    let mut buffer = Vec::new();
    loop {
        let chunk = match JsFuture::from(reader.read()).await {
            Ok(chunk) => chunk,
            Err(_) => return Err(failure_in_body(options, bytes as u64)),
        };
        if Reflect::get(&chunk, &"done".into())
            .ok()
            .and_then(|d| d.as_bool())
            .unwrap_or(true)
        {
            break;
        }
        let Ok(value) = Reflect::get(&chunk, &"value".into()) else {
            break;
        };
        let array: Uint8Array = value.unchecked_into();
        buffer.resize(array.length() as usize, 0);
        array.copy_to(&mut buffer);
        bytes += buffer.len() as f64;
        if let Err(e) = sink(&buffer, bytes) {
            let _ = reader.cancel();
            return Err(e);
        }
        if options.aborted() {
            let _ = reader.cancel();
            return Err(Failure::Aborted);
        }
    }
    if expected.is_some_and(|n| bytes < n) {
        return Err(Failure::Message(cut_short_message(bytes as u64)));
    }
    Ok(bytes)
}

/// Calls `onProgress` at most every 100 ms (and once at the end of each part).
struct ProgressReporter {
    callback: Option<Function>,
    /// Bytes of the parts already complete.
    bytes_done: f64,
    last: f64,
}

impl ProgressReporter {
    fn new(callback: Option<Function>) -> ProgressReporter {
        ProgressReporter {
            callback,
            bytes_done: 0.0,
            last: f64::NEG_INFINITY,
        }
    }

    fn report(
        &mut self,
        part_bytes: f64,
        rows: usize,
        window: Option<(usize, usize)>,
        force: bool,
    ) {
        let Some(callback) = &self.callback else {
            return;
        };
        let now = js_sys::Date::now();
        if !force && now - self.last < 100.0 {
            return;
        }
        self.last = now;
        let p = Object::new();
        let set = |k: &str, v: f64| {
            let _ = Reflect::set(&p, &k.into(), &v.into());
        };
        set("bytes", self.bytes_done + part_bytes);
        set("rows", rows as f64);
        if let Some((i, n)) = window {
            set("window", i as f64);
            set("windows", n as f64);
        }
        // A failing progress callback is the page's bug; it must not stop the fetch.
        let _ = callback.call1(&JsValue::NULL, &p);
    }
}

/// Waits `ms`, in steps so that an abort is noticed within 50 ms. Works on the main thread and in
/// workers: `setTimeout` is looked up on the global object.
async fn sleep(options: &Options, ms: f64) -> Result<(), Failure> {
    let mut left = ms;
    while left > 0.0 {
        options.check_abort()?;
        let step = left.min(50.0);
        let promise = Promise::new(&mut |resolve, reject| {
            let global = js_sys::global();
            let set_timeout = Reflect::get(&global, &"setTimeout".into())
                .ok()
                .and_then(|f| f.dyn_into::<Function>().ok());
            match set_timeout {
                Some(f) => {
                    if f.call2(&global, &resolve, &step.into()).is_err() {
                        let _ = reject.call0(&JsValue::NULL);
                    }
                }
                None => {
                    let _ = reject.call0(&JsValue::NULL);
                }
            }
        });
        JsFuture::from(promise)
            .await
            .map_err(|_| Failure::Message("no timer in this JavaScript environment".into()))?;
        left -= step;
    }
    options.check_abort()
}
