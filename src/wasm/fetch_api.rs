//! The fetch functions of the JS API (`fetchReport`, `fetchRegistry`, `fetchCredits`,
//! `fetchDashboard`, `planFetch`): the options object read into the core's [`FetchOptions`], a
//! session run by the browser's transport (`fetch.rs`), and its outcome in JS shapes. Errors are
//! JS `Error`s with a stable `code`, never holding the token.

use js_sys::{Function, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::AbortSignal;

use super::fetch::{drive, AbortLink};
use super::{to_js, Report, UserRegistry};
use crate::fetch::{FetchCode, FetchError, FetchOptions, FetchPlan, FetchSession, Fetched, Parts};

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

/// The JS options, read: the core's [`FetchOptions`] and what only a browser has.
struct Options {
    fetch: FetchOptions,
    link: AbortLink,
    on_progress: Option<Function>,
    with_registry: bool,
    with_credits: bool,
}

/// An error in the options, prefixed with the function's name.
fn invalid(what: &str, e: FetchError) -> FetchError {
    FetchError {
        message: format!("{what}: {}", e.message),
        ..e
    }
}

impl Options {
    /// Reads the options object; the values are checked by the session (or the plan).
    fn read(options: &JsValue, what: &str) -> Result<Options, FetchError> {
        let fail =
            |message: &str| invalid(what, FetchError::new(FetchCode::InvalidOptions, message));
        // The option at fault, as `error.field` names it (the dates share one name).
        let fail_in = |key: &'static str, message: &str| {
            let field = match key {
                "startDate" | "endDate" => "dates",
                key => key,
            };
            FetchError {
                field: Some(field),
                ..fail(message)
            }
        };
        if !options.is_object() || options.is_function() {
            return Err(fail("takes an options object: { instanceUrl, token, ... }"));
        }
        for key in Object::keys(options.unchecked_ref::<Object>()).iter() {
            FetchOptions::check_name(&key.as_string().unwrap_or_default())
                .map_err(|e| invalid(what, e))?;
        }
        let field = |key: &str| {
            Reflect::get(options, &JsValue::from_str(key))
                .ok()
                .filter(|v| !v.is_undefined() && !v.is_null())
        };
        // A value of the type asked for (`must` says which), or absent.
        let typed = |key: &'static str, must: &str, read: &dyn Fn(&JsValue) -> Option<JsValue>| {
            field(key)
                .map(|v| {
                    read(&v).ok_or_else(|| fail_in(key, &format!("options.{key} must be {must}")))
                })
                .transpose()
        };
        let string = |key: &'static str| {
            typed(key, "a string", &|v| v.is_string().then(|| v.clone()))
                .map(|v| v.and_then(|v| v.as_string()))
        };
        let boolean = |key: &'static str| {
            typed(key, "true or false", &|v| v.as_bool().map(JsValue::from))
                .map(|v| v.and_then(|v| v.as_bool()))
        };
        let number = |key: &'static str| {
            typed(key, "a number", &|v| v.as_f64().map(JsValue::from))
                .map(|v| v.and_then(|v| v.as_f64()))
        };
        let fetch = FetchOptions {
            instance_url: string("instanceUrl")?.ok_or_else(|| {
                fail_in(
                    "instanceUrl",
                    "options.instanceUrl is required (your Sourcegraph instance's address)",
                )
            })?,
            token: string("token")?.unwrap_or_default(),
            granularity: string("granularity")?,
            start_date: string("startDate")?,
            end_date: string("endDate")?,
            base_url: string("baseUrl")?,
            month_windows: boolean("monthWindows")?.unwrap_or(false),
            max_retries: number("maxRetries")?,
            idle_timeout_secs: number("idleTimeout")?,
        };
        let signal = match field("signal") {
            None => None,
            Some(v) => Some(
                v.dyn_into::<AbortSignal>()
                    .map_err(|_| fail_in("signal", "options.signal must be an AbortSignal"))?,
            ),
        };
        let on_progress = match field("onProgress") {
            None => None,
            Some(v) => Some(
                v.dyn_into::<Function>()
                    .map_err(|_| fail_in("onProgress", "options.onProgress must be a function"))?,
            ),
        };
        Ok(Options {
            fetch,
            link: AbortLink::new(signal)?,
            on_progress,
            with_registry: boolean("withRegistry")?.unwrap_or(true),
            with_credits: boolean("withCredits")?.unwrap_or(true),
        })
    }

    /// A session for `parts`, every option checked before anything is sent.
    fn session(&self, parts: Parts, what: &str) -> Result<FetchSession, FetchError> {
        if self.fetch.token.is_empty() {
            return Err(invalid(
                what,
                FetchError {
                    field: Some("token"),
                    ..FetchError::new(
                        FetchCode::InvalidOptions,
                        "options.token is required (a Sourcegraph Analytics access token)",
                    )
                },
            ));
        }
        let seed = (js_sys::Math::random() * 2f64.powi(53)) as u64;
        FetchSession::new(&self.fetch, parts, seed).map_err(|e| match e.code {
            FetchCode::InvalidOptions => invalid(what, e),
            _ => e,
        })
    }
}

/// Runs one of the fetch functions: the options read, the session run, any error a JS `Error`
/// scrubbed of the token (even one about the options).
async fn run(options: JsValue, what: &str, parts: Parts) -> Result<(Fetched, Options), JsValue> {
    super::panic_hook();
    let raw_token = Reflect::get(&options, &"token".into())
        .ok()
        .and_then(|t| t.as_string())
        .unwrap_or_default();
    let options = Options::read(&options, what).map_err(|e| into_js(e, &raw_token))?;
    let parts = Parts {
        registry: parts.registry && options.with_registry,
        credits: parts.credits && options.with_credits,
        ..parts
    };
    let token = options.fetch.token.clone();
    let result = match options.session(parts, what) {
        Ok(session) => drive(session, &options.link, options.on_progress.as_ref()).await,
        Err(e) => Err(e),
    };
    result
        .map(|fetched| (fetched, options))
        .map_err(|e| into_js(e, &token))
}

/// The granularities the API offers, finest first (the first is the API's default, what a fetch
/// without `granularity` gets): `[{name, label}]`, `name` as the API and `granularity` take it,
/// `label` as a reader says it (`per user and day`).
#[wasm_bindgen(unchecked_return_type = "{ name: string; label: string }[]")]
pub fn granularities() -> Result<JsValue, JsValue> {
    #[derive(serde::Serialize)]
    struct Offered {
        name: &'static str,
        label: &'static str,
    }
    let offered: Vec<Offered> = crate::Granularity::ALL
        .iter()
        .rev()
        .map(|g| Offered {
            name: g.as_str(),
            label: g.label(),
        })
        .collect();
    to_js(&offered)
}

/// What `fetchReport` would request with these options, checked by the same rules, without
/// sending anything: `{ok: true, instance, baseUrl, url, curl, windows}` (the URL without the
/// token, a `curl` command with `$SG_ANALYTICS_TOKEN` standing for it, the number of requests), or
/// `{ok: false, problem, field}`. The token is optional here and never part of the answer.
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
        #[serde(skip_serializing_if = "Option::is_none")]
        instance: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        base_url: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        url: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        curl: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        windows: Option<usize>,
    }
    let raw_token = Reflect::get(&options, &"token".into())
        .ok()
        .and_then(|t| t.as_string())
        .unwrap_or_default();
    let checked = Options::read(&options, "planFetch").and_then(|o| {
        let plan = FetchPlan::new(&o.fetch).map_err(|e| invalid("planFetch", e))?;
        if !o.fetch.token.is_empty() {
            o.session(Parts::REPORT, "planFetch")?;
        }
        Ok(plan)
    });
    let answer = match checked {
        Ok(plan) => Plan {
            ok: true,
            problem: None,
            field: None,
            instance: Some(plan.instance().to_string()),
            base_url: Some(plan.base_url().to_string()),
            url: Some(plan.report_url()),
            curl: Some(plan.curl_command()),
            windows: Some(plan.windows()),
        },
        Err(e) => Plan {
            ok: false,
            field: e.field,
            problem: Some(e.scrub(&raw_token).message),
            instance: None,
            base_url: None,
            url: None,
            curl: None,
            windows: None,
        },
    };
    to_js(&answer)
}

/// Fetches the export (`/api/reports/by-user-client-date`) and parses it as it streams in.
/// Rejects with an `Error` whose message says what went wrong and what to do (and whose `code`
/// says it for programs); with an `AbortError` when the signal fires.
#[wasm_bindgen(js_name = fetchReport)]
pub async fn fetch_report(
    #[wasm_bindgen(unchecked_param_type = "FetchOptions")] options: JsValue,
) -> Result<Report, JsValue> {
    let (fetched, _) = run(options, "fetchReport", Parts::REPORT).await?;
    report_of(fetched)
}

fn report_of(fetched: Fetched) -> Result<Report, JsValue> {
    fetched
        .report
        .map(Report::from)
        .ok_or_else(|| super::js_error("the fetch gave no export"))
}

/// Fetches the user registry (`/api/reports/user-registry`), to join with
/// `report.joinRegistry(registry)`. Takes the same options as `fetchReport` (the dates,
/// granularity and `monthWindows` are not used).
#[wasm_bindgen(js_name = fetchRegistry)]
pub async fn fetch_registry(
    #[wasm_bindgen(unchecked_param_type = "FetchOptions")] options: JsValue,
) -> Result<UserRegistry, JsValue> {
    let (fetched, options) = run(options, "fetchRegistry", Parts::REGISTRY).await?;
    match fetched.registry {
        Some(Ok((inner, _))) => Ok(UserRegistry { inner }),
        Some(Err(e)) => Err(into_js(e, &options.fetch.token)),
        None => Err(super::js_error("the fetch gave no registry")),
    }
}

/// Fetches the credit buckets (`/api/credits`, with the dates if given): a JSON answer as plain
/// data, a CSV answer as an array of objects keyed by its header (cells as strings).
#[wasm_bindgen(js_name = fetchCredits, unchecked_return_type = "JsonValue")]
pub async fn fetch_credits(
    #[wasm_bindgen(unchecked_param_type = "FetchOptions")] options: JsValue,
) -> Result<JsValue, JsValue> {
    let (fetched, options) = run(options, "fetchCredits", Parts::CREDITS).await?;
    match fetched.credits {
        Some(Ok((data, _))) => to_js(&data),
        Some(Err(e)) => Err(into_js(e, &options.fetch.token)),
        None => Err(super::js_error("the fetch gave no credits")),
    }
}

/// The credits answer's list of buckets (what `fetchCredits` returned), found by the rule
/// `report.cost` reads it with: the answer itself when it is a list of objects, else the first of
/// its fields `buckets`, `credits`, `months`, `data`, `items`, `rows`, `results`, then any other
/// non-empty list, that holds objects only. `null` when there is none; never throws.
#[wasm_bindgen(js_name = creditBuckets, unchecked_return_type = "Record<string, JsonValue>[] | null")]
pub fn credit_buckets(
    #[wasm_bindgen(unchecked_param_type = "unknown")] data: JsValue,
) -> Result<JsValue, JsValue> {
    let value: serde_json::Value = js_sys::JSON::stringify(&data)
        .ok()
        .and_then(|json| json.as_string())
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default();
    to_js(&crate::cost::buckets(&value))
}

/// The dashboard's fetch: the export, then the user registry (joined to the report) and the
/// credits, unless `withRegistry`/`withCredits` is false. The export failing rejects; the
/// registry or the credits failing is said in the answer, beside the report:
/// `{report, registry: {loaded, error?}, credits: {loaded, data?, buckets?, error?, code?,
/// status?}}` (`buckets`: as `creditBuckets` finds them in `data`).
#[wasm_bindgen(js_name = fetchDashboard, unchecked_return_type = "Dashboard")]
pub async fn fetch_dashboard(
    #[wasm_bindgen(unchecked_param_type = "DashboardOptions")] options: JsValue,
) -> Result<JsValue, JsValue> {
    let parts = Parts {
        report: true,
        registry: true,
        credits: true,
    };
    let (mut fetched, options) = run(options, "fetchDashboard", parts).await?;
    let token = &options.fetch.token;
    let answer = Object::new();
    let set = |o: &Object, k: &str, v: &JsValue| {
        let _ = Reflect::set(o, &k.into(), v);
    };
    let failed = |o: &Object, e: FetchError| {
        let e = e.scrub(token);
        set(o, "loaded", &false.into());
        set(o, "error", &e.message.as_str().into());
        set(o, "code", &e.code.as_str().into());
        if let Some(status) = e.status {
            set(o, "status", &status.into());
        }
    };
    let registry = Object::new();
    let fetched_registry = fetched.registry.take();
    let credits = Object::new();
    match fetched.credits.take() {
        Some(Ok((data, _))) => {
            set(&credits, "loaded", &true.into());
            set(&credits, "buckets", &to_js(&crate::cost::buckets(&data))?);
            set(&credits, "data", &to_js(&data)?);
        }
        Some(Err(e)) => failed(&credits, e),
        None => set(&credits, "loaded", &false.into()),
    }
    let mut report = report_of(fetched)?;
    match fetched_registry {
        Some(Ok((inner, _))) => {
            report.join_registry(&UserRegistry { inner });
            set(&registry, "loaded", &true.into());
        }
        Some(Err(e)) => failed(&registry, e),
        None => set(&registry, "loaded", &false.into()),
    }
    set(&answer, "report", &report.into());
    set(&answer, "registry", &registry.into());
    set(&answer, "credits", &credits.into());
    Ok(answer.into())
}
