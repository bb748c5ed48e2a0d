//! The local mock of the Analytics API, with test selectors and fault injection.
//!
//! Every endpoint is served at `/api/...` and at `/_mock/<opts>/api/...`, where `<opts>` is a
//! list of `k=v` pairs separated by `;` or `,` (see [`Opts`]). The client under test only
//! appends `/api/...` to its base URL, so a test picks its dataset and fault by choosing the base
//! URL `http://127.0.0.1:PORT/_mock/<opts>`.

// Handlers answer early with a ready `Response` as the error; boxing it would buy nothing on
// this development-only path.
#![allow(clippy::result_large_err)]

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use futures_util::stream::{self, Stream, StreamExt};

use crate::data::{parse_date, Dataset, DateRange, Granularity, DEMO_TOKEN};

/// An injected fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// An error status: 401, 403, 404, 429 (with `Retry-After`), 500, 502 or 503.
    Status(u16),
    /// Status 200, part of the CSV, then the connection is aborted.
    Cut,
    /// The CSV in small chunks with a delay between them.
    Slow,
    /// Status 200 with an HTML login page, as an SSO gateway answers.
    Html,
    /// Status 200, `text/csv`, and an empty body (after the token check).
    Empty,
    /// The export of the whole dataset whatever `startDate`/`endDate` say, as from a proxy that
    /// drops them.
    NoDates,
    /// 302 to the same URL: a client that follows it sends the token a second time (and, with
    /// `times=1`, gets the export), which the hit counter shows.
    Redirect,
    /// Status 200 announcing `Content-Length: 40000000000` (an export too large for a browser
    /// tab), then part of the CSV and an aborted connection, like `cut`.
    Huge,
}

/// Options parsed from the `/_mock/<opts>` path segment.
#[derive(Clone, Debug, PartialEq)]
pub struct Opts {
    /// The raw segment: requests with the same one share a fault counter.
    pub key: String,
    /// `users=N`, `days=D`, `start=YYYY-MM-DD`: the dataset.
    pub dataset: Dataset,
    /// `fault=429|500|503|cut|slow|html|empty|nodates|redirect|huge|401|403|404|502`.
    pub fault: Option<Fault>,
    /// `times=N`: the fault applies to the first N requests with this opts string (default: all).
    pub times: Option<u32>,
    /// `retryAfter=S`: seconds in `Retry-After` (429 default 1; 503 only when given).
    pub retry_after: Option<u32>,
    /// `delayMs=N`: delay between chunks for `slow` (default 100).
    pub delay_ms: u64,
    /// `chunk=N`: chunk size in bytes for `slow` and `cut` (default 4096).
    pub chunk: usize,
    /// `cutAfter=N`: bytes of body sent before `cut` aborts (default 16384).
    pub cut_after: usize,
    /// `credits=csv|odd|401|403|404|429|500|502|503`: how `/api/credits` alone answers (default:
    /// JSON), so a page can be tested with a credits answer in another format or failing while
    /// the export loads.
    pub credits: Option<CreditsAnswer>,
}

/// How `/api/credits` answers, when a test asks for something else than JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CreditsAnswer {
    /// The same buckets as CSV (`text/csv`).
    Csv,
    /// JSON of a shape no client knows (no list of buckets).
    Odd,
    /// An error status (never retried by the test's clients for 4xx).
    Status(u16),
}

/// The largest mock dataset, in users × days (3 000 users over a year, about 115 MB at the
/// finest granularity, fits).
pub const MAX_USER_DAYS: u64 = 1_500_000;

/// The longest pause between two pieces of a `fault=slow` body.
pub const MAX_DELAY_MS: u64 = 10_000;

/// The longest `<opts>` string (each distinct one has a request counter).
pub const MAX_OPTS_LEN: usize = 512;

/// How many `<opts>` strings keep a request counter; past that the oldest is forgotten.
pub const MAX_COUNTERS: usize = 4096;

impl Opts {
    /// Parses `users=5;fault=429,times=2`; `defaults` gives the dataset when not overridden.
    pub fn parse(raw: &str, defaults: &Dataset) -> Result<Opts, String> {
        if raw.len() > MAX_OPTS_LEN {
            return Err(format!("mock options: at most {MAX_OPTS_LEN} characters"));
        }
        let mut o = Opts {
            key: raw.to_string(),
            dataset: defaults.clone(),
            fault: None,
            times: None,
            retry_after: None,
            delay_ms: 100,
            chunk: 4096,
            cut_after: 16 * 1024,
            credits: None,
        };
        for pair in raw.split([';', ',']).filter(|p| !p.is_empty()) {
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| format!("mock option {pair:?} is not k=v"))?;
            fn num<T: std::str::FromStr>(k: &str, v: &str) -> Result<T, String> {
                v.parse()
                    .map_err(|_| format!("mock option {k}: {v:?} is not a number"))
            }
            match k {
                "users" => o.dataset.users = num(k, v)?,
                "days" => o.dataset.days = num(k, v)?,
                "start" => o.dataset.start = parse_date(v)?,
                "seed" => o.dataset.seed = num(k, v)?,
                "fault" => {
                    o.fault = Some(match v {
                        "cut" => Fault::Cut,
                        "slow" => Fault::Slow,
                        "html" => Fault::Html,
                        "empty" => Fault::Empty,
                        "nodates" => Fault::NoDates,
                        "redirect" => Fault::Redirect,
                        "huge" => Fault::Huge,
                        "401" | "403" | "404" | "429" | "500" | "502" | "503" => {
                            Fault::Status(num(k, v)?)
                        }
                        _ => return Err(format!("unknown mock fault {v:?}")),
                    })
                }
                "times" => o.times = Some(num(k, v)?),
                "retryAfter" => o.retry_after = Some(num(k, v)?),
                "delayMs" => o.delay_ms = num(k, v)?,
                "chunk" => o.chunk = num::<usize>(k, v)?.max(1),
                "cutAfter" => o.cut_after = num(k, v)?,
                "credits" => {
                    o.credits = Some(match v {
                        "csv" => CreditsAnswer::Csv,
                        "odd" => CreditsAnswer::Odd,
                        "401" | "403" | "404" | "429" | "500" | "502" | "503" => {
                            CreditsAnswer::Status(num(k, v)?)
                        }
                        _ => return Err(format!("unknown mock credits answer {v:?}")),
                    })
                }
                "id" => {}
                _ => return Err(format!("unknown mock option {k:?}")),
            }
        }
        let user_days = u64::from(o.dataset.users).saturating_mul(u64::from(o.dataset.days));
        if o.dataset.users > 1_000_000 || o.dataset.days > 36_600 || user_days > MAX_USER_DAYS {
            return Err(format!(
                "mock dataset too large: users × days is at most {MAX_USER_DAYS} (one request \
                 must not keep a thread busy for long)"
            ));
        }
        if o.delay_ms > MAX_DELAY_MS {
            return Err(format!("mock option delayMs: at most {MAX_DELAY_MS}"));
        }
        Ok(o)
    }
}

/// The opts segment of a `/_mock/<opts>/...` path, percent-decoded ("" for plain `/api/...`).
pub fn opts_segment(uri: &Uri) -> String {
    uri.path()
        .strip_prefix("/_mock/")
        .and_then(|rest| rest.split('/').next())
        .map(percent_decode)
        .unwrap_or_default()
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn text(status: StatusCode, body: impl Into<String>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body.into(),
    )
        .into_response()
}

/// What every mocked endpoint does first: read the `/_mock/<opts>/` prefix, then [`gate`]. Returns
/// the options and the fault left for the body to carry out.
fn admit(
    state: &MockState,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<(Opts, Option<Fault>), Response> {
    let opts = parse_opts(state, uri)?;
    let fault = gate(state, &opts, headers, uri)?;
    Ok((opts, fault))
}

/// Counts the request and answers it with the fault if one applies (faults come before the
/// token check, as from a gateway in front of the API), else checks the token. `Ok` carries the
/// fault that still applies to the body (`cut`, `slow`), if any.
fn gate(
    state: &MockState,
    opts: &Opts,
    headers: &HeaderMap,
    uri: &Uri,
) -> Result<Option<Fault>, Response> {
    let hits = state.counters.hit(&opts.key);
    let fault = opts.fault.filter(|_| opts.times.is_none_or(|t| hits <= t));
    match fault {
        Some(Fault::Status(code)) => return Err(status_fault(code, opts)),
        Some(Fault::Html) => {
            return Err((
                StatusCode::OK,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                LOGIN_PAGE,
            )
                .into_response())
        }
        Some(Fault::Redirect) => {
            let target = uri.path_and_query().map_or("/", |p| p.as_str()).to_string();
            return Err((StatusCode::FOUND, [(header::LOCATION, target)]).into_response());
        }
        _ => {}
    }
    check_token(headers)?;
    Ok(fault)
}

fn status_fault(code: u16, opts: &Opts) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = match code {
        401 => "invalid or expired token",
        403 => "no access to this instance",
        404 => "instance not found",
        429 => "rate limit exceeded, retry later",
        502 => "bad gateway",
        503 => "service unavailable",
        _ => "internal server error",
    };
    let mut resp = text(status, body);
    let retry_after = match code {
        429 => Some(opts.retry_after.unwrap_or(1)),
        503 => opts.retry_after,
        _ => None,
    };
    if let Some(s) = retry_after {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(s));
    }
    if code == 401 {
        resp.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    resp
}

const LOGIN_PAGE: &str = "<!doctype html>\n<html><head><title>Sign in</title></head>\
<body><h1>Sign in to continue</h1><form method=\"post\" action=\"/login\">\
<input name=\"user\"><input name=\"password\" type=\"password\"><button>Sign in</button>\
</form></body></html>\n";

/// Accepts exactly `Authorization: Bearer sgdemo-local-token` (scheme case-insensitive).
pub fn check_token(headers: &HeaderMap) -> Result<(), Response> {
    let unauthorized = |msg: &str| {
        let mut r = text(StatusCode::UNAUTHORIZED, msg);
        r.headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        r
    };
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(unauthorized("missing Authorization: Bearer token"));
    };
    let value = value.to_str().unwrap_or("");
    let token = value
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim());
    match token {
        Some(DEMO_TOKEN) => Ok(()),
        Some(_) => Err(unauthorized("invalid or expired token")),
        None => Err(unauthorized("expected Authorization: Bearer <token>")),
    }
}

type Params = Query<Vec<(String, String)>>;

fn param<'a>(q: &'a Params, name: &str) -> Option<&'a str> {
    q.0.iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// `instanceURL` is required and must be a bare host (the client strips scheme and path).
fn instance(q: &Params) -> Result<String, Response> {
    match param(q, "instanceURL").map(str::trim) {
        None | Some("") => Err(text(
            StatusCode::BAD_REQUEST,
            "missing required parameter instanceURL",
        )),
        Some(v) if v.contains('/') || v.contains(char::is_whitespace) => Err(text(
            StatusCode::BAD_REQUEST,
            format!("instanceURL must be a bare host, got {v:?}"),
        )),
        Some(v) => Ok(v.to_string()),
    }
}

fn date_range(q: &Params) -> Result<DateRange, Response> {
    let get = |name: &str| -> Result<Option<i64>, Response> {
        param(q, name)
            .map(|v| {
                parse_date(v).map_err(|e| text(StatusCode::BAD_REQUEST, format!("{name}: {e}")))
            })
            .transpose()
    };
    let range = DateRange {
        from: get("startDate")?,
        to: get("endDate")?,
    };
    if let (Some(f), Some(t)) = (range.from, range.to) {
        if f > t {
            return Err(text(StatusCode::BAD_REQUEST, "startDate is after endDate"));
        }
    }
    Ok(range)
}

fn parse_opts(state: &MockState, uri: &Uri) -> Result<Opts, Response> {
    Opts::parse(&opts_segment(uri), &state.dataset).map_err(|e| text(StatusCode::BAD_REQUEST, e))
}

/// `GET /api/reports/by-user-client-date`: the CSV export, generated and streamed on the fly.
pub async fn report(
    State(state): State<Arc<MockState>>,
    uri: Uri,
    headers: HeaderMap,
    q: Params,
) -> Response {
    let (opts, body_fault) = match admit(&state, &uri, &headers) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let result = (|| {
        instance(&q)?;
        let granularity = match param(&q, "granularity") {
            None | Some("") => Granularity::ByUserDayClientLanguage,
            Some(g) => g
                .parse::<Granularity>()
                .map_err(|e| text(StatusCode::BAD_REQUEST, e))?,
        };
        Ok::<_, Response>((granularity, date_range(&q)?))
    })();
    let (granularity, range) = match result {
        Ok(v) => v,
        Err(r) => return r,
    };
    let range = match body_fault {
        Some(Fault::NoDates) => DateRange::default(),
        _ => range,
    };
    let export = opts.dataset.export(granularity, range);
    let body = match body_fault {
        Some(Fault::Empty) => Body::empty(),
        Some(Fault::Slow) => Body::from_stream(slow_stream(
            export,
            opts.chunk,
            Duration::from_millis(opts.delay_ms),
        )),
        Some(Fault::Cut | Fault::Huge) => {
            Body::from_stream(cut_stream(export, opts.chunk, opts.cut_after))
        }
        _ => Body::from_stream(stream::iter(
            export.map(|c| Ok::<_, Infallible>(Bytes::from(c))),
        )),
    };
    let mut response = (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"by-user-client-date.csv\"",
            ),
        ],
        body,
    )
        .into_response();
    if body_fault == Some(Fault::Huge) {
        response.headers_mut().insert(
            header::CONTENT_LENGTH,
            header::HeaderValue::from_static("40000000000"),
        );
    }
    response
}

/// Splits the export into pieces of `chunk` bytes.
fn pieces(export: crate::data::Export, chunk: usize) -> impl Iterator<Item = Bytes> + Send {
    export.flat_map(move |c| {
        let c = Bytes::from(c);
        (0..c.len())
            .step_by(chunk)
            .map(move |i| c.slice(i..(i + chunk).min(c.len())))
            .collect::<Vec<_>>()
    })
}

fn slow_stream(
    export: crate::data::Export,
    chunk: usize,
    delay: Duration,
) -> impl Stream<Item = Result<Bytes, Infallible>> + Send {
    stream::iter(pieces(export, chunk).enumerate()).then(move |(i, piece)| async move {
        if i > 0 {
            tokio::time::sleep(delay).await;
        }
        Ok(piece)
    })
}

/// Sends about `cut_after` bytes, then fails the body so the server aborts the connection and
/// the client sees a network error mid-body (never a clean end, however small the dataset).
fn cut_stream(
    export: crate::data::Export,
    chunk: usize,
    cut_after: usize,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send {
    let mut sent = 0usize;
    let head = pieces(export, chunk).take_while(move |p| {
        let go = sent < cut_after.max(1);
        sent += p.len();
        go
    });
    stream::iter(head.map(Ok)).chain(stream::once(async {
        // Let the bytes before the cut reach the client first.
        tokio::time::sleep(Duration::from_millis(50)).await;
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "mock fault: connection cut",
        ))
    }))
}

/// `GET /api/reports/user-registry`.
pub async fn registry(
    State(state): State<Arc<MockState>>,
    uri: Uri,
    headers: HeaderMap,
    q: Params,
) -> Response {
    let opts = match admit(&state, &uri, &headers) {
        Ok((opts, _)) => opts,
        Err(r) => return r,
    };
    if let Err(r) = instance(&q) {
        return r;
    }
    (
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        opts.dataset.registry_csv(),
    )
        .into_response()
}

/// `GET /demo/people.csv`: the demo people file ([`Dataset::people_csv`]) for the same users as
/// the export, to open in the page's People file picker. No token: it stands for a file of the
/// user's own, and the page never sends it anywhere.
pub async fn people(State(state): State<Arc<MockState>>, uri: Uri) -> Response {
    let opts = match parse_opts(&state, &uri) {
        Ok(opts) => opts,
        Err(r) => return r,
    };
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"people.csv\"",
            ),
        ],
        opts.dataset.people_csv(),
    )
        .into_response()
}

/// The credit buckets of [`Dataset::credits_json`] as CSV: one line per bucket, its fields as
/// the header.
fn credits_csv(json: &serde_json::Value) -> String {
    let buckets = json["buckets"].as_array().cloned().unwrap_or_default();
    let Some(serde_json::Value::Object(first)) = buckets.first() else {
        return "month,creditsUsed\n".into();
    };
    let header: Vec<&String> = first.keys().collect();
    let mut out = header
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(",")
        + "\n";
    for bucket in &buckets {
        let cells: Vec<String> = header
            .iter()
            .map(|k| match &bucket[k.as_str()] {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        out += &(cells.join(",") + "\n");
    }
    out
}

/// `GET /api/credits`: monthly credit buckets as JSON (or, as a test asks, CSV, an unknown shape
/// or an error).
pub async fn credits(
    State(state): State<Arc<MockState>>,
    uri: Uri,
    headers: HeaderMap,
    q: Params,
) -> Response {
    let opts = match admit(&state, &uri, &headers) {
        Ok((opts, _)) => opts,
        Err(r) => return r,
    };
    let (host, range) = match instance(&q).and_then(|h| Ok((h, date_range(&q)?))) {
        Ok(v) => v,
        Err(r) => return r,
    };
    match opts.credits {
        Some(CreditsAnswer::Status(code)) => return status_fault(code, &opts),
        Some(CreditsAnswer::Odd) => {
            return (
                [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
                r#"{"status":"ok","total":12.5,"detail":"see the portal"}"#,
            )
                .into_response()
        }
        _ => {}
    }
    // Generating the credits walks the whole dataset: keep it off the async workers.
    let dataset = opts.dataset.clone();
    let json = tokio::task::spawn_blocking(move || dataset.credits_json(&host, range))
        .await
        .unwrap_or_else(|_| serde_json::json!({}));
    if opts.credits == Some(CreditsAnswer::Csv) {
        return (
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            credits_csv(&json),
        )
            .into_response();
    }
    (
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        json.to_string(),
    )
        .into_response()
}

/// `GET /_mock/<opts>/_hits`: how many API requests this opts string has seen, as
/// `{"hits": N}` (lets a test assert how often its client retried).
pub async fn hits(State(state): State<Arc<MockState>>, uri: Uri) -> Response {
    let key = opts_segment(&uri);
    let n = state.counters.get(&key);
    (
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::json!({ "hits": n }).to_string(),
    )
        .into_response()
}

/// What the mocked endpoints share.
#[derive(Debug)]
pub struct MockState {
    /// Default mock dataset.
    pub dataset: Dataset,
    /// Fault counters per `/_mock/<opts>` string.
    pub counters: Counters,
}

/// Per-opts-string request counters, at most [`MAX_COUNTERS`] of them: a new string past that
/// forgets the oldest, so requests with ever new option strings cannot grow the map.
#[derive(Debug, Default)]
pub struct Counters(std::sync::Mutex<CounterMap>);

/// The counters and the order their strings were first seen.
#[derive(Debug, Default)]
pub struct CounterMap {
    counts: HashMap<String, u32>,
    order: std::collections::VecDeque<String>,
}

impl Counters {
    /// Counts one request and returns the new count.
    pub fn hit(&self, key: &str) -> u32 {
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if !m.counts.contains_key(key) {
            if m.order.len() >= MAX_COUNTERS {
                if let Some(oldest) = m.order.pop_front() {
                    m.counts.remove(&oldest);
                }
            }
            m.order.push_back(key.to_string());
        }
        let n = m.counts.entry(key.to_string()).or_insert(0);
        *n = n.saturating_add(1);
        *n
    }

    /// The current count.
    pub fn get(&self, key: &str) -> u32 {
        let m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        m.counts.get(key).copied().unwrap_or(0)
    }

    /// How many option strings have a counter.
    pub fn len(&self) -> usize {
        let m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        m.counts.len()
    }

    /// Whether no request was counted yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datasets_and_pauses_are_bounded() {
        let d = Dataset::default();
        assert!(Opts::parse("users=1500;days=1000", &d).is_ok());
        let e = Opts::parse("users=1501;days=1000", &d).unwrap_err();
        assert!(e.contains("users × days"), "{e}");
        assert!(Opts::parse("users=1000000;days=36600", &d).is_err());
        assert!(Opts::parse("fault=slow;delayMs=10001", &d).is_err());
        assert!(Opts::parse(&format!("id={}", "x".repeat(600)), &d).is_err());
    }

    #[test]
    fn request_counters_are_bounded_and_forget_the_oldest() {
        let c = Counters::default();
        c.hit("first");
        c.hit("first");
        for i in 0..MAX_COUNTERS + 100 {
            c.hit(&format!("id={i}"));
        }
        assert_eq!(c.len(), MAX_COUNTERS);
        assert_eq!(c.get("first"), 0, "the oldest was forgotten");
        let last = format!("id={}", MAX_COUNTERS + 99);
        assert_eq!(c.get(&last), 1);
        assert_eq!(c.hit(&last), 2);
    }

    #[test]
    fn credits_answers_are_chosen_apart_from_faults() {
        let d = Dataset::default();
        let o = |raw: &str| Opts::parse(raw, &d);
        assert_eq!(o("credits=csv").unwrap().credits, Some(CreditsAnswer::Csv));
        assert_eq!(o("credits=odd").unwrap().credits, Some(CreditsAnswer::Odd));
        let failing = o("credits=403").unwrap();
        assert_eq!(failing.credits, Some(CreditsAnswer::Status(403)));
        assert_eq!(
            failing.fault, None,
            "the export and the registry answer as usual"
        );
        assert!(o("credits=418").is_err());
        assert_eq!(o("").unwrap().credits, None);
        // The CSV form holds the JSON's buckets, one line each, under their field names.
        let json = d.credits_json("example.com", DateRange::default());
        let csv = credits_csv(&json);
        let lines: Vec<&str> = csv.lines().collect();
        assert!(
            lines[0].starts_with("month,startDate,endDate,creditsUsed,"),
            "{csv}"
        );
        assert_eq!(lines.len() - 1, json["buckets"].as_array().unwrap().len());
        let first = &json["buckets"][0];
        assert!(lines[1].starts_with(&format!(
            "{},{},{},{},",
            first["month"].as_str().unwrap(),
            first["startDate"].as_str().unwrap(),
            first["endDate"].as_str().unwrap(),
            first["creditsUsed"]
        )));
    }

    #[test]
    fn opts_parse_with_both_separators() {
        let d = Dataset::default();
        let o = Opts::parse(
            "users=5;days=10,start=2025-03-01;fault=429;times=2;retryAfter=3;id=t1",
            &d,
        )
        .unwrap();
        assert_eq!(o.dataset.users, 5);
        assert_eq!(o.dataset.days, 10);
        assert_eq!(o.dataset.start, parse_date("2025-03-01").unwrap());
        assert_eq!(o.fault, Some(Fault::Status(429)));
        assert_eq!(o.times, Some(2));
        assert_eq!(o.retry_after, Some(3));
        assert_eq!(Opts::parse("", &d).unwrap().dataset, d);
        assert_eq!(
            Opts::parse("fault=cut", &d).unwrap().fault,
            Some(Fault::Cut)
        );
        assert_eq!(
            Opts::parse("fault=redirect", &d).unwrap().fault,
            Some(Fault::Redirect)
        );
        for bad in [
            "users",
            "users=x",
            "fault=418",
            "colour=red",
            "start=2025-02-30",
        ] {
            assert!(Opts::parse(bad, &d).is_err(), "{bad}");
        }
    }

    #[test]
    fn opts_segment_is_taken_from_the_path_and_decoded() {
        let uri: Uri = "/_mock/users=5%3Bfault=429/api/credits?x=1"
            .parse()
            .unwrap();
        assert_eq!(opts_segment(&uri), "users=5;fault=429");
        let uri: Uri = "/api/credits".parse().unwrap();
        assert_eq!(opts_segment(&uri), "");
        assert_eq!(percent_decode("a%2"), "a%2");
        assert_eq!(percent_decode("%zz%41"), "%zzA");
    }

    #[test]
    fn token_check_needs_the_exact_bearer_token() {
        let mut h = HeaderMap::new();
        assert!(check_token(&h).is_err());
        h.insert(header::AUTHORIZATION, "Bearer wrong".parse().unwrap());
        assert!(check_token(&h).is_err());
        h.insert(header::AUTHORIZATION, DEMO_TOKEN.parse().unwrap());
        assert!(check_token(&h).is_err());
        h.insert(
            header::AUTHORIZATION,
            format!("bearer {DEMO_TOKEN}").parse().unwrap(),
        );
        assert!(check_token(&h).is_ok());
    }
}
