//! The fetch client: carries out a [`FetchPlan`] with the browser's `fetch`, streaming the body
//! into the core's ingester chunk by chunk as it arrives.
//!
//! Requests are made with gloo-net. gloo-net turns a rejected `fetch` into its error with
//! `unreachable!()` when the rejection is not an `Error`, which is what a caller's
//! `controller.abort("some reason")` would produce: so the caller's signal never reaches a request.
//! Each call has an internal `AbortController` whose signal the requests carry; it is aborted,
//! with its default reason (a `DOMException` named `AbortError`, an `Error`), when the caller's
//! signal fires. The body is read with a `ReadableStreamDefaultReader`, never as one string.
//! gloo-net calls the global `fetch`, and `setTimeout` is taken from the global scope too, so the
//! module works on the main thread and in workers alike.

use gloo_net::http::{Method, Request, RequestBuilder};
use js_sys::{Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AbortController, AbortSignal, Headers, ReadableStream, ReadableStreamDefaultReader,
    ReferrerPolicy, RequestCache, RequestCredentials, RequestMode, RequestRedirect, Response,
};

use super::{to_js, Report, UserRegistry};
use crate::fetch_plan::{
    check_base_url, check_max_retries, check_option_name, check_token, network_message,
    normalize_instance, scrub, FetchPlan, DEFAULT_MAX_RETRIES, REGISTRY_PATH,
};
use crate::fetch_policy::{
    check_complete, check_content_type, check_window, content_length, FetchCode, FetchError,
    Retries,
};
use crate::Ingester;

/// The requests' own `AbortController`, aborted when the caller's signal fires. `abort()` with no
/// reason rejects a `fetch` with a `DOMException` named `AbortError`, an `Error`, whatever reason
/// the caller gave (a string, a number): gloo-net never sees anything else.
struct AbortLink {
    controller: AbortController,
    caller: Option<AbortSignal>,
    on_abort: Option<Closure<dyn FnMut()>>,
}

impl AbortLink {
    fn new(caller: Option<&AbortSignal>) -> Result<AbortLink, FetchError> {
        let controller = AbortController::new().map_err(|_| {
            FetchError::new(
                FetchCode::InvalidOptions,
                "this browser has no AbortController: the fetch cannot be made cancellable",
            )
        })?;
        let mut link = AbortLink {
            controller,
            caller: caller.cloned(),
            on_abort: None,
        };
        if let Some(signal) = caller {
            if signal.aborted() {
                link.controller.abort();
            } else {
                let controller = link.controller.clone();
                let on_abort = Closure::<dyn FnMut()>::new(move || controller.abort());
                let _ = signal
                    .add_event_listener_with_callback("abort", on_abort.as_ref().unchecked_ref());
                link.on_abort = Some(on_abort);
            }
        }
        Ok(link)
    }

    /// The signal every request of the call carries.
    fn signal(&self) -> AbortSignal {
        self.controller.signal()
    }
}

impl Drop for AbortLink {
    fn drop(&mut self) {
        if let (Some(signal), Some(on_abort)) = (&self.caller, &self.on_abort) {
            let _ = signal
                .remove_event_listener_with_callback("abort", on_abort.as_ref().unchecked_ref());
        }
    }
}

/// A fetch error as a JS `Error` (named `AbortError` for a cancel) with `code`, and `field` and
/// `status` where known; its message is scrubbed of the token whatever produced it.
fn into_js(e: FetchError, token: &str) -> JsValue {
    let e = e.scrub(token);
    let error = js_sys::Error::new(&e.message);
    if e.code == FetchCode::Aborted {
        error.set_name("AbortError");
    }
    // Setting a property on a fresh Error cannot fail.
    let _ = Reflect::set(&error, &"code".into(), &e.code.as_str().into());
    if let Some(field) = e.field {
        let _ = Reflect::set(&error, &"field".into(), &field.into());
    }
    if let Some(status) = e.status {
        let _ = Reflect::set(&error, &"status".into(), &status.into());
    }
    error.into()
}

/// The options of `fetchReport`, `fetchRegistry` and `fetchCredits`, all checked.
struct Options {
    plan: FetchPlan,
    token: String,
    signal: Option<AbortSignal>,
    /// What the requests carry instead of `signal`.
    link: AbortLink,
    on_progress: Option<Function>,
    month_windows: bool,
    max_retries: u32,
}

fn field(options: &JsValue, key: &str) -> Option<JsValue> {
    Reflect::get(options, &JsValue::from_str(key))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

fn invalid(what: &str, message: impl std::fmt::Display) -> FetchError {
    FetchError::new(FetchCode::InvalidOptions, format!("{what}: {message}"))
}

/// An invalid option, naming the option at fault for programs (a form marks that field).
fn invalid_in(what: &str, field: &'static str, message: impl std::fmt::Display) -> FetchError {
    FetchError::invalid_option(field, format!("{what}: {message}"))
}

impl Options {
    /// Reads and checks every option before anything is sent.
    fn from_js(options: &JsValue, what: &str) -> Result<Options, FetchError> {
        Options::read(options, what, true)
    }

    /// Reads and checks the options; `need_token`: a missing token is an error.
    fn read(options: &JsValue, what: &str, need_token: bool) -> Result<Options, FetchError> {
        if !options.is_object() || options.is_function() {
            return Err(invalid(
                what,
                "takes an options object: { instanceUrl, token, ... }",
            ));
        }
        for key in Object::keys(options.unchecked_ref::<Object>()).iter() {
            check_option_name(&key.as_string().unwrap_or_default())
                .map_err(|e| invalid(what, e))?;
        }
        let string = |key: &'static str| -> Result<Option<String>, FetchError> {
            match field(options, key) {
                None => Ok(None),
                Some(v) => v.as_string().map(Some).ok_or_else(|| {
                    invalid_in(what, key, format!("options.{key} must be a string"))
                }),
            }
        };
        let instance = string("instanceUrl")?.ok_or_else(|| {
            invalid_in(
                what,
                "instanceUrl",
                "options.instanceUrl is required (your Sourcegraph instance's address)",
            )
        })?;
        let token = match string("token")? {
            Some(token) => check_token(&token)
                .map_err(|e| invalid_in(what, "token", e))?
                .to_string(),
            None if !need_token => String::new(),
            None => {
                return Err(invalid_in(
                    what,
                    "token",
                    "options.token is required (a Sourcegraph Analytics access token)",
                ))
            }
        };
        let base_url = string("baseUrl")?;
        // The instance and the base URL first, each on its own, so the error names its option.
        normalize_instance(&instance).map_err(|e| invalid_in(what, "instanceUrl", e))?;
        if let Some(base) = &base_url {
            check_base_url(base).map_err(|e| invalid_in(what, "baseUrl", e))?;
        }
        let granularity = string("granularity")?;
        if let Some(g) = granularity.as_deref().filter(|g| !g.trim().is_empty()) {
            g.parse::<crate::Granularity>()
                .map_err(|e| invalid_in(what, "granularity", e))?;
        }
        let plan = FetchPlan::new(
            &instance,
            base_url.as_deref(),
            granularity.as_deref(),
            string("startDate")?.as_deref(),
            string("endDate")?.as_deref(),
        )
        .map_err(|e| invalid_in(what, "dates", e))?;
        let signal = match field(options, "signal") {
            None => None,
            Some(v) => Some(v.dyn_into::<AbortSignal>().map_err(|_| {
                invalid_in(what, "signal", "options.signal must be an AbortSignal")
            })?),
        };
        let on_progress = match field(options, "onProgress") {
            None => None,
            Some(v) => Some(v.dyn_into::<Function>().map_err(|_| {
                invalid_in(what, "onProgress", "options.onProgress must be a function")
            })?),
        };
        let month_windows = match field(options, "monthWindows") {
            None => false,
            Some(v) => v.as_bool().ok_or_else(|| {
                invalid_in(
                    what,
                    "monthWindows",
                    "options.monthWindows must be true or false",
                )
            })?,
        };
        let max_retries = match field(options, "maxRetries") {
            None => DEFAULT_MAX_RETRIES,
            Some(v) => {
                let n = v.as_f64().ok_or_else(|| {
                    invalid_in(what, "maxRetries", "options.maxRetries must be a number")
                })?;
                check_max_retries(n).map_err(|e| invalid_in(what, "maxRetries", e))?
            }
        };
        if month_windows {
            // Checked now, so that a missing date is refused before any request.
            plan.month_windows()
                .map_err(|e| invalid_in(what, "monthWindows", e))?;
        }
        let link = AbortLink::new(signal.as_ref())?;
        Ok(Options {
            plan,
            token,
            signal,
            link,
            on_progress,
            month_windows,
            max_retries,
        })
    }

    fn aborted(&self) -> bool {
        self.signal.as_ref().is_some_and(AbortSignal::aborted)
    }

    fn check_abort(&self) -> Result<(), FetchError> {
        if self.aborted() {
            Err(FetchError::aborted())
        } else {
            Ok(())
        }
    }
}

/// Runs one of the fetch functions: options checked first, then `run`; any error becomes a JS
/// `Error` scrubbed of the token (even one from reading the options).
async fn with_options<T, F, Fut>(options: JsValue, what: &str, run: F) -> Result<T, JsValue>
where
    F: FnOnce(Options) -> Fut,
    Fut: std::future::Future<Output = Result<T, FetchError>>,
{
    super::panic_hook();
    let raw_token = field(&options, "token")
        .and_then(|t| t.as_string())
        .unwrap_or_default();
    let options = Options::from_js(&options, what).map_err(|f| into_js(f, &raw_token))?;
    let token = options.token.clone();
    run(options).await.map_err(|f| into_js(f, &token))
}

/// What `fetchReport` would request with these options, checked by the same rules, without
/// sending anything: `{ok: true, instance, baseUrl, url, curl, windows}` (the URL without the
/// token, a `curl` command with `$SG_ANALYTICS_TOKEN` standing for it, the number of requests), or
/// `{ok: false, problem}`. The token is optional here and never part of the answer.
#[wasm_bindgen(js_name = planFetch, unchecked_return_type = "FetchPlan")]
pub fn plan_fetch(
    #[wasm_bindgen(unchecked_param_type = "PlanOptions")] options: JsValue,
) -> Result<JsValue, JsValue> {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Plan {
        ok: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        problem: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        field: Option<&'static str>,
        #[serde(flatten)]
        plan: Option<PlanParts>,
    }
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct PlanParts {
        instance: String,
        base_url: String,
        url: String,
        curl: String,
        windows: usize,
    }
    let raw_token = field(&options, "token")
        .and_then(|t| t.as_string())
        .unwrap_or_default();
    let answer = match Options::read(&options, "planFetch", false) {
        Ok(o) => Plan {
            ok: true,
            problem: None,
            field: None,
            plan: Some(PlanParts {
                windows: if o.month_windows {
                    o.plan.month_windows().map_or(1, |w| w.len())
                } else {
                    1
                },
                instance: o.plan.instance.clone(),
                base_url: o.plan.base_url.clone(),
                url: o.plan.report_url(),
                curl: o.plan.curl_command(),
            }),
        },
        Err(f) => Plan {
            ok: false,
            problem: Some(scrub(&f.message, &raw_token)),
            field: f.field,
            plan: None,
        },
    };
    super::to_js(&answer)
}

/// Fetches the export (`/api/reports/by-user-client-date`) and parses it as it streams in.
/// Rejects with an `Error` whose message says what went wrong and what to do (and whose `code`
/// says it for programs); with an `AbortError` when the signal fires.
#[wasm_bindgen(js_name = fetchReport)]
pub async fn fetch_report(
    #[wasm_bindgen(unchecked_param_type = "FetchOptions")] options: JsValue,
) -> Result<Report, JsValue> {
    with_options(options, "fetchReport", |options| async move {
        run_report(&options).await
    })
    .await
}

/// Fetches the user registry (`/api/reports/user-registry`), to join with
/// `report.joinRegistry(registry)`. Takes the same options as `fetchReport` (the dates,
/// granularity and `monthWindows` are not used).
#[wasm_bindgen(js_name = fetchRegistry)]
pub async fn fetch_registry(
    #[wasm_bindgen(unchecked_param_type = "FetchOptions")] options: JsValue,
) -> Result<UserRegistry, JsValue> {
    with_options(options, "fetchRegistry", |options| async move {
        let mut progress = Progress::new(&options);
        let mut target = Buffer::default();
        let url = options.plan.url(REGISTRY_PATH);
        download(&options, &url, &mut progress, &mut target, true).await?;
        progress.emit(target.bytes.len() as u64, 0);
        let inner = crate::Registry::from_bytes(&target.bytes).map_err(|e| {
            FetchError::new(
                FetchCode::InvalidInput,
                format!("the user registry could not be read: {e}"),
            )
        })?;
        Ok(UserRegistry { inner })
    })
    .await
}

/// Fetches the credit buckets (`/api/credits`, with the dates if given): a JSON answer as plain
/// data, a CSV answer as an array of objects keyed by its header (cells as strings).
#[wasm_bindgen(js_name = fetchCredits, unchecked_return_type = "JsonValue")]
pub async fn fetch_credits(
    #[wasm_bindgen(unchecked_param_type = "FetchOptions")] options: JsValue,
) -> Result<JsValue, JsValue> {
    with_options(options, "fetchCredits", |options| async move {
        let mut progress = Progress::new(&options);
        let mut target = Buffer::default();
        let url = options.plan.credits_url();
        let (_, content_type) = download(&options, &url, &mut progress, &mut target, false).await?;
        progress.emit(target.bytes.len() as u64, 0);
        let bytes = &target.bytes;
        let looks_json = bytes
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|b| matches!(b, b'{' | b'['));
        let content_type = content_type.to_ascii_lowercase();
        let value =
            if content_type.contains("json") || (!content_type.contains("csv") && looks_json) {
                serde_json::from_slice::<serde_json::Value>(bytes).map_err(|e| {
                    FetchError::new(
                        FetchCode::InvalidInput,
                        format!("the credits answer is not valid JSON: {e}"),
                    )
                })?
            } else {
                csv_objects(bytes)?
            };
        to_js(&value).map_err(|_| {
            FetchError::new(
                FetchCode::InvalidInput,
                "the credits answer cannot be turned into JS data",
            )
        })
    })
    .await
}

/// A CSV answer as an array of objects keyed by its header.
fn csv_objects(bytes: &[u8]) -> Result<serde_json::Value, FetchError> {
    let not_csv = |e: csv::Error| {
        FetchError::new(
            FetchCode::InvalidInput,
            format!("the credits answer is neither JSON nor CSV: {e}"),
        )
    };
    let mut reader = csv::Reader::from_reader(bytes);
    let headers = reader.headers().map_err(not_csv)?.clone();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(not_csv)?;
        let object: serde_json::Map<String, serde_json::Value> = headers
            .iter()
            .zip(record.iter())
            .map(|(h, v)| (h.trim().to_string(), serde_json::Value::from(v)))
            .collect();
        rows.push(serde_json::Value::Object(object));
    }
    Ok(serde_json::Value::Array(rows))
}

async fn run_report(options: &Options) -> Result<Report, FetchError> {
    options.check_abort()?;
    let mut progress = Progress::new(options);
    let ingester = if options.month_windows {
        let windows = options.plan.month_windows()?;
        let mut ingester = Ingester::new();
        for (i, window) in windows.iter().enumerate() {
            progress.window = Some((i + 1, windows.len()));
            // A window is buffered until it is complete, so that one cut short can be fetched
            // again without touching the report (the ingester cannot take rows back).
            let mut target = Buffer {
                bytes: Vec::new(),
                rows: ingester.rows(),
                window: Some(window),
            };
            download(
                options,
                &window.report_url(),
                &mut progress,
                &mut target,
                true,
            )
            .await?;
            if i > 0 {
                ingester
                    .start_part()
                    .map_err(|e| FetchError::from_ingest(&options.plan, e))?;
            }
            ingester
                .push(&target.bytes)
                .map_err(|e| FetchError::from_ingest(&options.plan, e))?;
            progress.commit(target.bytes.len() as u64);
            progress.emit(0, ingester.rows());
        }
        ingester
    } else {
        let mut target = IngestTarget(Ingester::new());
        let (bytes, _) = download(
            options,
            &options.plan.report_url(),
            &mut progress,
            &mut target,
            true,
        )
        .await?;
        progress.commit(bytes);
        target.0
    };
    options.check_abort()?;
    let table = ingester
        .finish()
        .map_err(|e| FetchError::from_ingest(&options.plan, e))?;
    progress.emit(0, table.rows());
    Ok(Report::from(table))
}

/// Where a body goes as it streams in.
trait BodyTarget {
    /// Forgets what an attempt cut short left.
    fn reset(&mut self);
    /// Takes the next chunk.
    fn push(&mut self, chunk: &[u8]) -> Result<(), crate::Error>;
    /// Rows known so far, for progress.
    fn rows(&self) -> usize;
    /// The body's announced size, so the target can make room for it once.
    fn expect_bytes(&mut self, _total: u64) {}
    /// Whether the body so far ends inside a CSV record (cut short), as the ingester that read
    /// it says.
    fn ends_inside_record(&self) -> bool;
    /// The body is complete: anything wrong with it as a whole (a month window's rows outside its
    /// dates) fails the attempt.
    fn check(&self) -> Result<(), FetchError> {
        Ok(())
    }
}

/// Straight into the ingester: a retry starts a fresh one.
struct IngestTarget(Ingester);

impl BodyTarget for IngestTarget {
    fn reset(&mut self) {
        self.0 = Ingester::new();
    }
    fn push(&mut self, chunk: &[u8]) -> Result<(), crate::Error> {
        self.0.push(chunk)
    }
    fn rows(&self) -> usize {
        self.0.rows()
    }
    fn ends_inside_record(&self) -> bool {
        self.0.ends_inside_record()
    }
    fn expect_bytes(&mut self, total: u64) {
        self.0.expect_bytes(total);
    }
}

/// Into memory (a month window, the registry, the credits).
#[derive(Default)]
struct Buffer<'a> {
    bytes: Vec<u8>,
    /// Rows already in the report, for progress.
    rows: usize,
    /// The month window this body must keep to.
    window: Option<&'a FetchPlan>,
}

impl BodyTarget for Buffer<'_> {
    fn reset(&mut self) {
        self.bytes.clear();
    }
    fn push(&mut self, chunk: &[u8]) -> Result<(), crate::Error> {
        self.bytes.extend_from_slice(chunk);
        Ok(())
    }
    fn rows(&self) -> usize {
        self.rows
    }
    fn ends_inside_record(&self) -> bool {
        Ingester::body_ends_inside_record(&self.bytes)
    }
    fn check(&self) -> Result<(), FetchError> {
        match self.window {
            Some(window) => check_window(window, &self.bytes),
            None => Ok(()),
        }
    }
}

/// Fetches `url` and streams its body into `target`. 429 and 5xx answers, bodies cut short and
/// month windows that do not keep to their dates are retried after a backoff (honouring
/// `Retry-After`), at most `maxRetries` times in all for this URL ([`Retries`]). Returns the
/// bytes read and the Content-Type of the answer. With `check_tail`, a CSV body that ends inside
/// a record ([`Ingester::ends_inside_record`]) is cut short too.
async fn download(
    options: &Options,
    url: &str,
    progress: &mut Progress,
    target: &mut dyn BodyTarget,
    check_tail: bool,
) -> Result<(u64, String), FetchError> {
    let mut retries = Retries::new(options.max_retries);
    loop {
        let response = send(options, url, &mut retries).await?;
        target.reset();
        let length = content_length(header(&response, "content-length").as_deref());
        if let Some(total) = length {
            target.expect_bytes(total);
        }
        let content_type = header(&response, "content-type").unwrap_or_default();
        let result = {
            let mut sink = |chunk: &[u8], bytes: u64| -> Result<(), FetchError> {
                target
                    .push(chunk)
                    .map_err(|e| FetchError::from_ingest(&options.plan, e))?;
                progress.update(bytes, target.rows());
                Ok(())
            };
            stream_body(options, &response, &mut sink).await
        };
        // A CSV body that ends inside a record was cut short, whatever its length says.
        let result = result
            .and_then(|bytes| {
                check_complete(None, bytes, check_tail && target.ends_inside_record())
                    .map(|()| bytes)
            })
            .and_then(|bytes| target.check().map(|()| bytes));
        match result {
            Ok(bytes) => return Ok((bytes, content_type)),
            Err(e) => match retries.after_failure(&e, js_sys::Math::random()) {
                Some(wait) => sleep(wait, options.signal.as_ref()).await?,
                None => return Err(e),
            },
        }
    }
}

/// A GET with the token in the `Authorization` header only, and no redirects, cookies, referrer
/// or cache.
fn build_request(options: &Options, url: &str) -> Result<Request, FetchError> {
    let broken = || {
        FetchError::new(
            FetchCode::InvalidOptions,
            format!(
                "the request to {} could not be built: check the API base URL",
                options.plan.base_url
            ),
        )
    };
    let headers = Headers::new().map_err(|_| broken())?;
    headers
        .set("Authorization", &format!("Bearer {}", options.token))
        .map_err(|_| {
            FetchError::new(
                FetchCode::InvalidOptions,
                "the token cannot be sent in an HTTP header: paste it again",
            )
        })?;
    RequestBuilder::new(url)
        .method(Method::GET)
        .headers(gloo_net::http::Headers::from_raw(headers))
        .mode(RequestMode::Cors)
        // A redirect could carry the token to another origin: refuse it.
        .redirect(RequestRedirect::Error)
        .credentials(RequestCredentials::Omit)
        .referrer_policy(ReferrerPolicy::NoReferrer)
        // Exports hold personal data: keep them out of the HTTP cache.
        .cache(RequestCache::NoStore)
        .abort_signal(Some(&options.link.signal()))
        .build()
        .map_err(|_| broken())
}

/// Sends a GET, retrying 429 and 5xx answers (honouring `Retry-After`) as `retries` allows.
/// Returns a successful response.
async fn send(options: &Options, url: &str, retries: &mut Retries) -> Result<Response, FetchError> {
    loop {
        options.check_abort()?;
        let request = build_request(options, url)?;
        let response: Response = match request.send().await {
            Ok(r) => r.into(),
            Err(_) if options.aborted() => return Err(FetchError::aborted()),
            // The browser gives no detail on purpose: a CORS refusal, a refused redirect and a
            // network failure all look the same (a TypeError).
            Err(_) => {
                return Err(FetchError::new(
                    FetchCode::Network,
                    network_message(&options.plan),
                ))
            }
        };
        if response.ok() {
            return Ok(response);
        }
        let status = response.status();
        let retry_after = header(&response, "retry-after");
        let wait = retries.after_status(
            status,
            retry_after.as_deref(),
            js_sys::Date::now(),
            js_sys::Math::random(),
        );
        if let Some(wait) = wait {
            discard_body(&response).await;
            sleep(wait, options.signal.as_ref()).await?;
            continue;
        }
        let hint = read_hint(&response).await;
        return Err(FetchError::from_status(
            status,
            &options.plan,
            &hint,
            &options.token,
            retries.made(),
        ));
    }
}

fn header(response: &Response, name: &str) -> Option<String> {
    response.headers().get(name).ok().flatten()
}

/// The buffer a byte stream is read into (see [`BodyReader`]), handed back and forth.
const READ_BUFFER: u32 = 1 << 20;

#[wasm_bindgen]
extern "C" {
    /// What a stream reader's `read()` resolves to.
    type ReadResult;
    #[wasm_bindgen(method, getter)]
    fn done(this: &ReadResult) -> Option<bool>;
    #[wasm_bindgen(method, getter)]
    fn value(this: &ReadResult) -> JsValue;

    /// A `ReadableStreamBYOBReader`.
    #[wasm_bindgen(extends = Object)]
    type ByobReader;
    #[wasm_bindgen(method, js_name = read)]
    fn read_into(this: &ByobReader, view: &Uint8Array) -> Promise;
    #[wasm_bindgen(method)]
    fn cancel(this: &ByobReader) -> Promise;
}

/// Reads a body. A byte stream (a fetch body in current browsers) is read into one buffer of
/// ours that each read hands back (BYOB), so the browser allocates no new buffer per network
/// chunk; any other stream with the default reader.
enum BodyReader {
    Byob {
        reader: ByobReader,
        /// The buffer to read into next (`None` until the first read).
        buffer: Option<js_sys::ArrayBuffer>,
    },
    Default(ReadableStreamDefaultReader),
}

impl BodyReader {
    fn new(body: &ReadableStream) -> Result<BodyReader, JsValue> {
        let options = Object::new();
        Reflect::set(&options, &"mode".into(), &"byob".into())?;
        // `getReader({mode: "byob"})` throws when the body is not a byte stream.
        let get_reader: Function = Reflect::get(body, &"getReader".into())?.dyn_into()?;
        match get_reader.call1(body, &options) {
            Ok(reader) => Ok(BodyReader::Byob {
                reader: reader.unchecked_into(),
                buffer: None,
            }),
            Err(_) => ReadableStreamDefaultReader::new(body).map(BodyReader::Default),
        }
    }

    /// Appends the next chunk to `out` (copied once, from the browser's buffer into the module's
    /// memory): its length, `None` at the body's end, `Err` when the stream failed (the
    /// connection was lost, or the signal aborted it).
    async fn read(&mut self, out: &mut ReadBuffer) -> Result<Option<usize>, JsValue> {
        let result: ReadResult = match self {
            BodyReader::Byob { reader, buffer } => {
                let view = match buffer.take() {
                    Some(buffer) => Uint8Array::new(&buffer),
                    None => Uint8Array::new_with_length(READ_BUFFER),
                };
                JsFuture::from(reader.read_into(&view))
                    .await?
                    .unchecked_into()
            }
            BodyReader::Default(reader) => JsFuture::from(reader.read()).await?.unchecked_into(),
        };
        if result.done().unwrap_or(true) {
            return Ok(None);
        }
        let value: Uint8Array = result.value().dyn_into()?;
        out.append(&value);
        if let BodyReader::Byob { buffer, .. } = self {
            // The read took our buffer and gives it back inside `value`.
            *buffer = Some(value.buffer());
        }
        Ok(Some(value.length() as usize))
    }

    /// Stops a body's download; the stream may already have failed, which is fine.
    async fn cancel(&self) {
        let promise = match self {
            BodyReader::Byob { reader, .. } => reader.cancel(),
            BodyReader::Default(reader) => reader.cancel(),
        };
        let _ = JsFuture::from(promise).await;
    }
}

/// Where what is read is copied: a buffer of the module's memory, filled from the start and
/// reused (cleared after each chunk goes on, or kept growing up to a limit for an error's
/// hint), so the bytes are copied in without zeroing its room first each time.
struct ReadBuffer {
    buffer: Vec<u8>,
    len: usize,
    /// The least room to make when it grows.
    room: usize,
}

impl ReadBuffer {
    /// Grows to `room` bytes at its first chunk (more only for a larger chunk).
    fn new(room: usize) -> ReadBuffer {
        ReadBuffer {
            buffer: Vec::new(),
            len: 0,
            room,
        }
    }

    fn append(&mut self, chunk: &Uint8Array) {
        let end = self.len + chunk.length() as usize;
        if self.buffer.len() < end {
            self.buffer.resize(end.max(self.room), 0);
        }
        chunk.copy_to(&mut self.buffer[self.len..end]);
        self.len = end;
    }

    fn bytes(&self) -> &[u8] {
        &self.buffer[..self.len]
    }

    fn clear(&mut self) {
        self.len = 0;
    }
}

/// Drops the body of an answer that is not used (before a retry), freeing the connection.
async fn discard_body(response: &Response) {
    if let Some(body) = response.body() {
        let _ = JsFuture::from(body.cancel()).await;
    }
}

/// The start of an error answer's body, for the message (the server may say which parameter it
/// refused).
async fn read_hint(response: &Response) -> String {
    const LIMIT: usize = 1024;
    let Some(mut reader) = response.body().and_then(|body| BodyReader::new(&body).ok()) else {
        return String::new();
    };
    let mut text = ReadBuffer::new(LIMIT);
    while text.len < LIMIT {
        match reader.read(&mut text).await {
            Ok(Some(_)) => {}
            _ => break,
        }
    }
    reader.cancel().await;
    let text = &text.bytes()[..text.len.min(LIMIT)];
    String::from_utf8_lossy(text).into_owned()
}

/// Takes each chunk of a body as it is read (up to [`READ_BUFFER`] bytes from a byte stream), with
/// the bytes read so far. Each chunk goes on at once rather than gathered into larger pieces: in
/// back-to-back runs that was as fast or faster, the network filling the browser's pipe while
/// the chunk before is parsed.
type Sink<'a> = dyn FnMut(&[u8], u64) -> Result<(), FetchError> + 'a;

/// Reads a successful answer's body chunk by chunk into `sink`; returns the bytes read. An HTML
/// answer is refused before reading. A body cut short (the stream failed, fewer bytes than
/// `Content-Length` announced) is a `cut_short` failure, never a complete answer; whether a CSV
/// body ended inside a record is the ingester's to say, after it (see `download`).
async fn stream_body(
    options: &Options,
    response: &Response,
    sink: &mut Sink<'_>,
) -> Result<u64, FetchError> {
    let content_type = header(response, "content-type").unwrap_or_default();
    if let Err(e) = check_content_type(&options.plan, &content_type) {
        discard_body(response).await;
        return Err(e);
    }
    let expected = content_length(header(response, "content-length").as_deref());
    let Some(body) = response.body() else {
        return Ok(0);
    };
    let mut reader = BodyReader::new(&body).map_err(|_| FetchError::cut_short(0))?;
    let mut chunk = ReadBuffer::new(READ_BUFFER as usize);
    let mut bytes = 0u64;
    loop {
        match reader.read(&mut chunk).await {
            Ok(Some(n)) => bytes += n as u64,
            Ok(None) => break,
            Err(_) if options.aborted() => return Err(FetchError::aborted()),
            Err(_) => return Err(FetchError::cut_short(bytes)),
        }
        if let Err(e) = sink(chunk.bytes(), bytes) {
            reader.cancel().await;
            return Err(e);
        }
        chunk.clear();
        // Also noticed here when the progress callback itself aborts.
        if options.aborted() {
            reader.cancel().await;
            return Err(FetchError::aborted());
        }
    }
    check_complete(expected, bytes, false)?;
    Ok(bytes)
}

/// Calls `onProgress` with `{bytes, rows}` (and `window`, `windows` for a windowed fetch): on the
/// first chunk, then at most every 100 ms, after each window, and once at the end.
struct Progress {
    callback: Option<Function>,
    /// Bytes of the parts already complete.
    bytes_done: u64,
    /// The window being fetched (1-based) and how many there are.
    window: Option<(usize, usize)>,
    last: f64,
}

impl Progress {
    fn new(options: &Options) -> Progress {
        Progress {
            callback: options.on_progress.clone(),
            bytes_done: 0,
            window: None,
            last: f64::NEG_INFINITY,
        }
    }

    /// Bytes of the current part so far; throttled.
    fn update(&mut self, part_bytes: u64, rows: usize) {
        if self.callback.is_some() && js_sys::Date::now() - self.last >= 100.0 {
            self.emit(part_bytes, rows);
        }
    }

    /// A part is complete.
    fn commit(&mut self, part_bytes: u64) {
        self.bytes_done += part_bytes;
    }

    /// Calls back now.
    fn emit(&mut self, part_bytes: u64, rows: usize) {
        let Some(callback) = &self.callback else {
            return;
        };
        self.last = js_sys::Date::now();
        let p = Object::new();
        let set = |k: &str, v: f64| {
            let _ = Reflect::set(&p, &k.into(), &v.into());
        };
        set("bytes", (self.bytes_done + part_bytes) as f64);
        set("rows", rows as f64);
        if let Some((i, n)) = self.window {
            set("window", i as f64);
            set("windows", n as f64);
        }
        // A throwing progress callback is the page's bug; it must not stop a long download.
        let _ = callback.call1(&JsValue::UNDEFINED, &p);
    }
}

/// Waits `ms`, or less if the signal fires (then fails with `Aborted`). Works on the main
/// thread and in workers: `setTimeout` is looked up on the global object, and the promise's own
/// `resolve` serves as both the timer callback and the abort listener, so no Rust closure
/// outlives the wait.
async fn sleep(ms: f64, signal: Option<&AbortSignal>) -> Result<(), FetchError> {
    if signal.is_some_and(AbortSignal::aborted) {
        return Err(FetchError::aborted());
    }
    let global = js_sys::global();
    let function = |name: &str| {
        Reflect::get(&global, &name.into())
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok())
    };
    let no_timer = || {
        FetchError::new(
            FetchCode::Network,
            "this JavaScript environment has no setTimeout",
        )
    };
    let set_timeout = function("setTimeout").ok_or_else(no_timer)?;
    let mut resolve = None;
    let promise = Promise::new(&mut |res, _reject| resolve = Some(res));
    let resolve = resolve.ok_or_else(no_timer)?;
    let timer = set_timeout
        .call2(&global, &resolve, &ms.into())
        .map_err(|_| no_timer())?;
    if let Some(signal) = signal {
        let _ = signal.add_event_listener_with_callback("abort", &resolve);
    }
    let _ = JsFuture::from(promise).await;
    if let Some(signal) = signal {
        let _ = signal.remove_event_listener_with_callback("abort", &resolve);
    }
    if let Some(clear_timeout) = function("clearTimeout") {
        let _ = clear_timeout.call1(&global, &timer);
    }
    if signal.is_some_and(AbortSignal::aborted) {
        return Err(FetchError::aborted());
    }
    Ok(())
}
