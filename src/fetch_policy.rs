//! How a fetch behaves, whoever carries it out: the error kinds and their stable codes, what a
//! status means, which answers are retried and after how long (`Retry-After`, backoff), which
//! bodies are refused (HTML, cut short, a redirect) and what a month window must hold. The
//! browser's fetch client (`wasm/fetch.rs`) and the CLI's (`sg-analytics fetch`) are thin loops
//! around these rules, so both behave alike and the rules are tested natively.

use crate::date::{format_day, parse_date, parse_day};
use crate::error::{Error, ErrorKind};
use crate::fetch_plan::{
    backoff_ms, cut_short_message, is_retryable, not_csv_message, retry_after_ms, scrub,
    status_message, FetchPlan, DEFAULT_BASE_URL,
};
use crate::schema::KnownColumn;

/// The stable name of a way a fetch fails, for programs to branch on (the message is for people).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FetchCode {
    /// The options are invalid; nothing was sent.
    InvalidOptions,
    /// The API could not be reached (in a browser: also a CORS refusal or a refused redirect).
    Network,
    /// 400.
    BadRequest,
    /// 401: the token was refused.
    Unauthorized,
    /// 403.
    Forbidden,
    /// 404.
    NotFound,
    /// 429, after the retries.
    RateLimited,
    /// 5xx, after the retries.
    ServerError,
    /// Any other status that is not a success.
    HttpError,
    /// A redirect, refused so that the token never goes elsewhere (native clients; a browser
    /// reports it as `Network`, since it does not say why a request failed).
    Redirected,
    /// The body ended before the whole export arrived.
    CutShort,
    /// The answer is not an export (an HTML page, an empty answer, no export header).
    NotCsv,
    /// A month window's rows fall outside its dates.
    BadWindow,
    /// The answer could not be read (a registry or credits answer that does not parse).
    InvalidInput,
    /// The caller cancelled.
    Aborted,
}

impl FetchCode {
    /// Every code (the TypeScript declarations list them all: a test checks).
    pub const ALL: [FetchCode; 15] = [
        FetchCode::InvalidOptions,
        FetchCode::Network,
        FetchCode::BadRequest,
        FetchCode::Unauthorized,
        FetchCode::Forbidden,
        FetchCode::NotFound,
        FetchCode::RateLimited,
        FetchCode::ServerError,
        FetchCode::HttpError,
        FetchCode::Redirected,
        FetchCode::CutShort,
        FetchCode::NotCsv,
        FetchCode::BadWindow,
        FetchCode::InvalidInput,
        FetchCode::Aborted,
    ];

    /// The code as programs see it (`error.code` in JS).
    pub fn as_str(self) -> &'static str {
        match self {
            FetchCode::InvalidOptions => "invalid_options",
            FetchCode::Network => "network",
            FetchCode::BadRequest => "bad_request",
            FetchCode::Unauthorized => "unauthorized",
            FetchCode::Forbidden => "forbidden",
            FetchCode::NotFound => "not_found",
            FetchCode::RateLimited => "rate_limited",
            FetchCode::ServerError => "server_error",
            FetchCode::HttpError => "http_error",
            FetchCode::Redirected => "redirected",
            FetchCode::CutShort => "cut_short",
            FetchCode::NotCsv => "not_csv",
            FetchCode::BadWindow => "bad_window",
            FetchCode::InvalidInput => "invalid_input",
            FetchCode::Aborted => "aborted",
        }
    }

    /// The code of an HTTP status that is not a success.
    pub fn for_status(status: u16) -> FetchCode {
        match status {
            300..=399 => FetchCode::Redirected,
            400 => FetchCode::BadRequest,
            401 => FetchCode::Unauthorized,
            403 => FetchCode::Forbidden,
            404 => FetchCode::NotFound,
            429 => FetchCode::RateLimited,
            500..=599 => FetchCode::ServerError,
            _ => FetchCode::HttpError,
        }
    }
}

/// Why a fetch stopped: a code, a message that says what to do, and for an HTTP answer its status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchError {
    /// What kind of failure.
    pub code: FetchCode,
    /// For people: what went wrong and what to do. Never holds the token (see [`Self::scrub`]).
    pub message: String,
    /// The HTTP status, for a failure answered by the server.
    pub status: Option<u16>,
    /// For invalid options: the option at fault (`instanceUrl`, `baseUrl`, ...).
    pub field: Option<&'static str>,
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FetchError {}

impl FetchError {
    /// A failure without a status.
    pub fn new(code: FetchCode, message: impl Into<String>) -> FetchError {
        FetchError {
            code,
            message: message.into(),
            status: None,
            field: None,
        }
    }

    /// Invalid options, naming the option at fault.
    pub fn invalid_option(field: &'static str, message: impl Into<String>) -> FetchError {
        FetchError {
            field: Some(field),
            ..FetchError::new(FetchCode::InvalidOptions, message)
        }
    }

    /// A status that is not a success, after `retries` retries of the request; `body_hint` is
    /// the start of the answer's body (the server may name the parameter it refused), scrubbed of
    /// `token` before it is cut short.
    pub fn from_status(
        status: u16,
        plan: &FetchPlan,
        body_hint: &str,
        token: &str,
        retries: u32,
    ) -> FetchError {
        let message = if (300..400).contains(&status) {
            redirect_message(status, plan)
        } else {
            status_message(status, plan, body_hint, token, retries)
        };
        FetchError {
            status: Some(status),
            ..FetchError::new(FetchCode::for_status(status), message)
        }
    }

    /// A body that ended early after `bytes` bytes.
    pub fn cut_short(bytes: u64) -> FetchError {
        FetchError::new(FetchCode::CutShort, cut_short_message(bytes))
    }

    /// The caller cancelled.
    pub fn aborted() -> FetchError {
        FetchError::new(FetchCode::Aborted, "The fetch was aborted.")
    }

    /// An error of the core's ingester on a fetched body, told in terms of the fetch: the body
    /// was not an export, so the base URL is the likely culprit.
    pub fn from_ingest(plan: &FetchPlan, e: Error) -> FetchError {
        match e.kind() {
            ErrorKind::EmptyInput => FetchError::new(
                FetchCode::NotCsv,
                format!(
                    "{} sent an empty answer (no CSV header row) for the instance {}: check the \
                     instance URL and the API base URL.",
                    plan.base_url, plan.instance
                ),
            ),
            ErrorKind::Input => FetchError::new(
                FetchCode::NotCsv,
                format!(
                    "{} did not answer with an Analytics export: {e}. Check the API base URL (it \
                     should be {DEFAULT_BASE_URL} or a proxy to it).",
                    plan.base_url
                ),
            ),
            ErrorKind::Query => e.into(),
        }
    }

    /// Whether another attempt may succeed where this one failed.
    pub fn is_retryable(&self) -> bool {
        matches!(self.code, FetchCode::CutShort | FetchCode::BadWindow)
            || self.status.is_some_and(is_retryable)
    }

    /// The same error with every occurrence of the token taken out of its message.
    pub fn scrub(mut self, token: &str) -> FetchError {
        self.message = scrub(&self.message, token);
        self
    }
}

impl From<Error> for FetchError {
    fn from(e: Error) -> FetchError {
        let code = match e.kind() {
            ErrorKind::Query => FetchCode::InvalidOptions,
            ErrorKind::Input | ErrorKind::EmptyInput => FetchCode::InvalidInput,
        };
        FetchError::new(code, e.to_string())
    }
}

/// The message for a redirect: refused, since following it would send the token elsewhere.
pub fn redirect_message(status: u16, plan: &FetchPlan) -> String {
    format!(
        "{} answered with a redirect ({status}), which is refused so that the token never goes \
         anywhere but the API base URL. If you trust where it points, use that address as the \
         base URL.",
        plan.base_url
    )
}

/// The message for an API that could not be reached by a native client.
pub fn unreachable_message(plan: &FetchPlan, detail: &str) -> String {
    format!(
        "Could not reach {}: {detail}. Check the network, the API base URL, and any proxy \
         (HTTPS_PROXY) in the way.",
        plan.base_url
    )
}

/// What to do after an attempt failed: wait this many milliseconds and try again, or stop.
/// Counts attempts per request: at most `max_retries` retries in all, whatever failed.
#[derive(Clone, Debug)]
pub struct Retries {
    attempt: u32,
    max_retries: u32,
}

impl Retries {
    /// Up to `max_retries` retries.
    pub fn new(max_retries: u32) -> Retries {
        Retries {
            attempt: 0,
            max_retries,
        }
    }

    /// Retries made so far.
    pub fn made(&self) -> u32 {
        self.attempt
    }

    /// After an answer with `status` (not a success): the wait before the next attempt (the
    /// server's `Retry-After`, else a backoff with `jitter` in 0..1), or `None` when the status is
    /// not worth retrying or the retries are spent. `now_ms`: the time, for an HTTP-date
    /// `Retry-After`.
    pub fn after_status(
        &mut self,
        status: u16,
        retry_after: Option<&str>,
        now_ms: f64,
        jitter: f64,
    ) -> Option<f64> {
        if !is_retryable(status) || self.attempt >= self.max_retries {
            return None;
        }
        let wait = retry_after
            .and_then(|v| retry_after_ms(v, now_ms))
            .unwrap_or_else(|| backoff_ms(self.attempt, jitter));
        self.attempt += 1;
        Some(wait)
    }

    /// After a failure of the body (`error`): the wait before fetching it again from its start,
    /// or `None` when it is not retried (not a cut or a bad window) or the retries are spent.
    pub fn after_failure(&mut self, error: &FetchError, jitter: f64) -> Option<f64> {
        if !matches!(error.code, FetchCode::CutShort | FetchCode::BadWindow)
            || self.attempt >= self.max_retries
        {
            return None;
        }
        let wait = backoff_ms(self.attempt, jitter);
        self.attempt += 1;
        Some(wait)
    }
}

/// Refuses a success whose `Content-Type` says HTML (a login or error page).
pub fn check_content_type(plan: &FetchPlan, content_type: &str) -> Result<(), FetchError> {
    if content_type.to_ascii_lowercase().contains("text/html") {
        return Err(FetchError::new(
            FetchCode::NotCsv,
            not_csv_message(plan, content_type),
        ));
    }
    Ok(())
}

/// A `Content-Length` header's value, as a hint (never trusted for allocation).
pub fn content_length(value: Option<&str>) -> Option<u64> {
    value.and_then(|v| v.trim().parse::<u64>().ok())
}

/// At the end of a body: `bytes` read, `expected` announced (a floor only: with
/// `Content-Encoding` it counts compressed bytes), `inside_record` (when the body is a CSV export)
/// whether it ended inside a record, as the ingester that read it says
/// ([`Ingester::ends_inside_record`](crate::Ingester::ends_inside_record)). A body short of either
/// is cut, never a complete answer.
pub fn check_complete(
    expected: Option<u64>,
    bytes: u64,
    inside_record: bool,
) -> Result<(), FetchError> {
    if expected.is_some_and(|n| bytes < n) || inside_record {
        return Err(FetchError::cut_short(bytes));
    }
    Ok(())
}

/// Checks a month window's body before it joins the report: it must not be empty, and every
/// row's date must fall inside the window (for month rows: the window's month), so that a
/// server that ignored the dates can neither multiply nor drop rows silently.
pub fn check_window(window: &FetchPlan, body: &[u8]) -> Result<(), FetchError> {
    let (Some(start), Some(end)) = (
        window.start_date.as_deref().and_then(parse_day),
        window.end_date.as_deref().and_then(parse_day),
    ) else {
        return Ok(());
    };
    let span = format!("{} to {}", format_day(start), format_day(end));
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(FetchError::new(
            FetchCode::BadWindow,
            format!(
                "The window {span} came back empty (not even a header row): the report would \
                 silently lack that month. Fetch again."
            ),
        ));
    }
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(body);
    let mut records = reader.byte_records();
    let Some(Ok(header)) = records.next() else {
        return Ok(());
    };
    let date_column = header.iter().position(|h| {
        matches!(
            KnownColumn::from_header(&String::from_utf8_lossy(h)),
            Some(KnownColumn::TimestampDate | KnownColumn::TimestampMonth)
        )
    });
    let Some(column) = date_column else {
        return Ok(());
    };
    for record in records.flatten() {
        let Some(cell) = record.get(column) else {
            continue;
        };
        let Some(date) = parse_date(&String::from_utf8_lossy(cell)) else {
            continue;
        };
        // A month row stands for its whole month: it belongs when that month overlaps.
        let outside = if date.month_only {
            date.day > end || crate::date::month_end(date.day) < start
        } else {
            date.day < start || date.day > end
        };
        if outside {
            return Err(FetchError::new(
                FetchCode::BadWindow,
                format!(
                    "The window {span} holds a row dated {} (line {}), outside the dates asked \
                     for: the server, or a proxy on the way, ignored startDate and endDate, so \
                     joining the windows would count rows twice or in the wrong month. No report \
                     is shown. Check the proxy, or fetch without month windows.",
                    String::from_utf8_lossy(cell).trim(),
                    record.position().map_or(0, |p| p.line())
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_typescript_union_lists_every_code_the_runtime_gives() {
        // A new variant fails to compile here until it is in ALL (and so checked below).
        let listed = |c: FetchCode| match c {
            FetchCode::InvalidOptions
            | FetchCode::Network
            | FetchCode::BadRequest
            | FetchCode::Unauthorized
            | FetchCode::Forbidden
            | FetchCode::NotFound
            | FetchCode::RateLimited
            | FetchCode::ServerError
            | FetchCode::HttpError
            | FetchCode::Redirected
            | FetchCode::CutShort
            | FetchCode::NotCsv
            | FetchCode::BadWindow
            | FetchCode::InvalidInput
            | FetchCode::Aborted => FetchCode::ALL.contains(&c),
        };
        let declarations = include_str!("wasm/mod.rs");
        let union = declarations
            .split("export type FetchErrorCode =")
            .nth(1)
            .and_then(|rest| rest.split(';').next())
            .expect("FetchErrorCode in the TypeScript declarations");
        for code in FetchCode::ALL {
            assert!(listed(code));
            assert!(
                union.contains(&format!("\"{}\"", code.as_str())),
                "{}",
                code.as_str()
            );
        }
    }

    fn plan() -> FetchPlan {
        FetchPlan::new("x.example.com", None, None, None, None).unwrap()
    }

    #[test]
    fn statuses_have_codes_and_messages() {
        let p = plan();
        for (status, code) in [
            (302, "redirected"),
            (400, "bad_request"),
            (401, "unauthorized"),
            (403, "forbidden"),
            (404, "not_found"),
            (429, "rate_limited"),
            (503, "server_error"),
            (418, "http_error"),
        ] {
            let e = FetchError::from_status(status, &p, "", "", 3);
            assert_eq!(e.code.as_str(), code);
            assert_eq!(e.status, Some(status));
        }
        let e = FetchError::from_status(301, &p, "", "", 3);
        assert!(e.message.contains("redirect (301)") && e.message.contains("refused"));
        assert!(!e.is_retryable());
        assert!(FetchError::from_status(502, &p, "", "", 3).is_retryable());
        assert!(!FetchError::from_status(401, &p, "", "", 3).is_retryable());
        let e =
            FetchError::new(FetchCode::Network, "token sgp_secret_1 in here").scrub("sgp_secret_1");
        assert_eq!(e.message, "token [token] in here");
    }

    #[test]
    fn retries_honour_retry_after_and_stop_when_spent() {
        let mut r = Retries::new(2);
        assert_eq!(r.after_status(429, Some("3"), 0.0, 0.5), Some(3000.0));
        // No Retry-After: the backoff of the second attempt, 1 s plus jitter.
        assert_eq!(r.after_status(503, None, 0.0, 0.0), Some(1000.0));
        assert_eq!(r.after_status(503, None, 0.0, 0.0), None);
        let mut r = Retries::new(3);
        assert_eq!(r.after_status(401, None, 0.0, 0.0), None);
        assert_eq!(r.after_status(404, Some("1"), 0.0, 0.0), None);
        // Cuts and bad windows share the same budget; other failures are not retried.
        assert_eq!(
            r.after_failure(&FetchError::cut_short(10), 0.0),
            Some(500.0)
        );
        assert_eq!(r.after_status(500, Some("86400"), 0.0, 0.0), Some(60_000.0));
        let not_csv = FetchError::new(FetchCode::NotCsv, "html");
        assert_eq!(r.after_failure(&not_csv, 0.0), None);
        assert!(r.after_failure(&FetchError::cut_short(10), 0.0).is_some());
        assert_eq!(r.after_failure(&FetchError::cut_short(10), 0.0), None);
        assert_eq!(r.made(), 3);
    }

    #[test]
    fn html_and_short_bodies_are_refused() {
        let p = plan();
        assert_eq!(
            check_content_type(&p, "text/HTML; charset=utf-8")
                .unwrap_err()
                .code,
            FetchCode::NotCsv
        );
        assert!(check_content_type(&p, "text/csv").is_ok());
        assert_eq!(content_length(Some(" 42 ")), Some(42));
        assert_eq!(content_length(Some("lots")), None);
        assert_eq!(
            check_complete(Some(100), 99, false).unwrap_err().code,
            FetchCode::CutShort
        );
        assert!(check_complete(Some(100), 100, false).is_ok());
        let mut ingester = crate::Ingester::new();
        ingester.push(b"Instance user ID,Searches\n1").unwrap();
        assert!(check_complete(None, 27, ingester.ends_inside_record()).is_err());
    }

    #[test]
    fn month_windows_must_hold_their_own_rows() {
        let all = FetchPlan::new(
            "x.example.com",
            None,
            None,
            Some("2025-01-15"),
            Some("2025-02-10"),
        )
        .unwrap();
        let windows = all.month_windows().unwrap();
        let header = "Instance user ID,Timestamp Date,Searches\n";
        let inside = format!("{header}1,2025-01-15,1\n1,2025-01-31,2\n");
        assert!(check_window(&windows[0], inside.as_bytes()).is_ok());
        assert!(check_window(&windows[0], header.as_bytes()).is_ok());
        let e = check_window(&windows[0], b"").unwrap_err();
        assert_eq!(e.code, FetchCode::BadWindow);
        let e = check_window(&windows[1], inside.as_bytes()).unwrap_err();
        assert_eq!(e.code, FetchCode::BadWindow);
        assert!(
            e.message.contains("2025-01-15") && e.message.contains("line 2"),
            "{e}"
        );
        // Month rows belong to a window their month overlaps.
        let months = "Instance user ID,Timestamp Month,Searches\n1,2025-02-01,3\n";
        assert!(check_window(&windows[1], months.as_bytes()).is_ok());
        assert!(check_window(&windows[0], months.as_bytes()).is_err());
        assert!(FetchError::new(FetchCode::BadWindow, "x").is_retryable());
    }
}
