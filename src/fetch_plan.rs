//! Everything about fetching an export that needs no browser: the request's URL from the user's
//! options (pasted instance URLs normalized, dates and granularity checked before any request),
//! month windows, retry timing, and the messages for each way a fetch can fail. The wasm adapter
//! only carries these out, so they are tested natively.

use crate::date::{format_day, month_end, parse_day};
use crate::error::{Error, ErrorKind};
use crate::schema::Granularity;

/// The public Analytics API.
pub const DEFAULT_BASE_URL: &str = "https://analytics.sourcegraph.com";

/// The export's path under the base URL.
pub const REPORT_PATH: &str = "/api/reports/by-user-client-date";
/// The user registry's path.
pub const REGISTRY_PATH: &str = "/api/reports/user-registry";
/// The credits path.
pub const CREDITS_PATH: &str = "/api/credits";

/// The longest `Retry-After` honoured, in milliseconds; longer waits are capped.
pub const MAX_RETRY_AFTER_MS: f64 = 60_000.0;

fn bad(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Query, message)
}

/// A validated request: what to fetch, before any request is sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchPlan {
    /// The base URL, without a trailing slash.
    pub base_url: String,
    /// The bare instance host (`example.sourcegraphcloud.com`).
    pub instance: String,
    /// The granularity asked for (`None`: the API's default, the finest).
    pub granularity: Option<Granularity>,
    /// First day, `YYYY-MM-DD`, inclusive.
    pub start_date: Option<String>,
    /// Last day, `YYYY-MM-DD`, inclusive.
    pub end_date: Option<String>,
}

impl FetchPlan {
    /// Checks the user's options. Every problem is found here, before the network is touched.
    pub fn new(
        instance_url: &str,
        base_url: Option<&str>,
        granularity: Option<&str>,
        start_date: Option<&str>,
        end_date: Option<&str>,
    ) -> Result<FetchPlan, Error> {
        let instance = normalize_instance(instance_url)?;
        let base_url = check_base_url(base_url.unwrap_or(DEFAULT_BASE_URL))?;
        let granularity = match granularity.map(str::trim).filter(|g| !g.is_empty()) {
            Some(g) => Some(g.parse::<Granularity>()?),
            None => None,
        };
        let day = |name: &str, value: Option<&str>| -> Result<Option<String>, Error> {
            match value.map(str::trim).filter(|v| !v.is_empty()) {
                None => Ok(None),
                Some(v) => parse_day(v).map(|d| Some(format_day(d))).ok_or_else(|| {
                    bad(format!(
                        "{name} must be a date as YYYY-MM-DD (a real calendar day), found {v:?}"
                    ))
                }),
            }
        };
        let start_date = day("startDate", start_date)?;
        let end_date = day("endDate", end_date)?;
        if let (Some(s), Some(e)) = (&start_date, &end_date) {
            if s > e {
                return Err(bad(format!("startDate ({s}) is after endDate ({e})")));
            }
        }
        Ok(FetchPlan {
            base_url,
            instance,
            granularity,
            start_date,
            end_date,
        })
    }

    /// The export's URL. The token is never part of it: it goes in the `Authorization` header.
    pub fn report_url(&self) -> String {
        let mut url = self.url(REPORT_PATH);
        if let Some(g) = self.granularity {
            url.push_str(&format!("&granularity={}", g.as_str()));
        }
        self.with_dates(url)
    }

    /// The credits' URL: the instance and the dates, if any.
    pub fn credits_url(&self) -> String {
        self.with_dates(self.url(CREDITS_PATH))
    }

    /// `url` with the range's `startDate` and `endDate` parameters, those that are set.
    fn with_dates(&self, mut url: String) -> String {
        for (name, value) in [("startDate", &self.start_date), ("endDate", &self.end_date)] {
            if let Some(v) = value {
                url.push_str(&format!("&{name}={v}"));
            }
        }
        url
    }

    /// The URL of another endpoint for the same instance (registry, credits).
    pub fn url(&self, path: &str) -> String {
        format!(
            "{}{path}?instanceURL={}",
            self.base_url,
            encode_component(&self.instance)
        )
    }

    /// One plan per calendar month of the range (the first and last clipped to it), for fetching a
    /// long day-grain range window by window. Needs both dates.
    pub fn month_windows(&self) -> Result<Vec<FetchPlan>, Error> {
        let (Some(start), Some(end)) = (&self.start_date, &self.end_date) else {
            return Err(bad(
                "month windows need both startDate and endDate: give the range to fetch",
            ));
        };
        let (mut day, last) = match (parse_day(start), parse_day(end)) {
            (Some(s), Some(e)) => (s, e),
            _ => return Err(bad("month windows need valid dates")),
        };
        let mut windows = Vec::new();
        while day <= last {
            let to = month_end(day).min(last);
            windows.push(FetchPlan {
                start_date: Some(format_day(day)),
                end_date: Some(format_day(to)),
                ..self.clone()
            });
            day = to + 1;
        }
        Ok(windows)
    }

    /// A `curl` command that downloads the same export, with `$SG_ANALYTICS_TOKEN` (the variable
    /// the CLI reads too) standing for the token.
    /// The URL is single-quoted, so nothing in it (`$(...)`, a backquote) is run by the shell;
    /// redirects are not followed (`-L` would carry the token to wherever they point).
    pub fn curl_command(&self) -> String {
        format!(
            "curl -fsS -H \"Authorization: Bearer $SG_ANALYTICS_TOKEN\" -o sg-analytics-export.csv {}",
            shell_quote(&self.report_url())
        )
    }
}

/// `text` as one single-quoted shell word.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The options the fetch functions take (`fetchReport`, `fetchRegistry`, `fetchCredits`); each
/// ignores those it has no use for, so one options object can serve all three.
pub const OPTION_NAMES: [&str; 10] = [
    "instanceUrl",
    "token",
    "granularity",
    "startDate",
    "endDate",
    "baseUrl",
    "signal",
    "onProgress",
    "monthWindows",
    "maxRetries",
];

/// The default of `maxRetries`: retries of a 429, a 5xx or a window cut short.
pub const DEFAULT_MAX_RETRIES: u32 = 3;

/// The most retries `maxRetries` may ask for.
pub const MAX_RETRIES_LIMIT: u32 = 10;

/// Refuses an option name the fetch functions do not know, so a misspelled one
/// (`instanceURL`, `startdate`) is an error that names it rather than silently ignored.
pub fn check_option_name(name: &str) -> Result<(), Error> {
    if OPTION_NAMES.contains(&name) {
        return Ok(());
    }
    let squash = |s: &str| s.to_ascii_lowercase().replace(['_', '-', ' '], "");
    let hint = OPTION_NAMES
        .iter()
        .find(|known| squash(known) == squash(name))
        .map(|known| format!(" (did you mean {known:?}?)"))
        .unwrap_or_default();
    Err(bad(format!(
        "unknown option {name:?}{hint}; the options are {}",
        OPTION_NAMES.join(", ")
    )))
}

/// The token as it will be sent: surrounding whitespace (a pasted line break) removed. A token
/// with spaces or characters an HTTP header cannot carry is refused, without echoing it.
pub fn check_token(token: &str) -> Result<&str, Error> {
    let token = token.trim();
    if token.is_empty() {
        return Err(bad(
            "the token is empty: paste a Sourcegraph Analytics access token",
        ));
    }
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad(
            "the token contains spaces or characters that cannot be sent in an HTTP header: \
             paste the token alone, without surrounding text",
        ));
    }
    Ok(token)
}

/// Checks `maxRetries`: a whole number from 0 to [`MAX_RETRIES_LIMIT`].
pub fn check_max_retries(n: f64) -> Result<u32, Error> {
    if n.fract() == 0.0 && (0.0..=f64::from(MAX_RETRIES_LIMIT)).contains(&n) {
        Ok(n as u32)
    } else {
        Err(bad(format!(
            "maxRetries must be a whole number from 0 to {MAX_RETRIES_LIMIT}, found {n}"
        )))
    }
}

/// Percent-encodes a query value (RFC 3986 unreserved characters stay).
fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The bare host (and port) of a pasted instance URL: `https://Example.com/search?q=1 ` →
/// `example.com`.
pub fn normalize_instance(pasted: &str) -> Result<String, Error> {
    let s = pasted.trim();
    let s = s.split_once("://").map_or(s, |(_, rest)| rest);
    let host = s
        .split(['/', '?', '#'])
        .next()
        .unwrap_or("")
        .rsplit('@')
        .next()
        .unwrap_or("")
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let valid = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b':' | b'[' | b']'));
    if !valid {
        // Text before an `@` may be credentials (a token pasted as `user:token@host`): the
        // message does not repeat it.
        let shown = if pasted.contains('@') {
            String::new()
        } else {
            format!(" {pasted:?}")
        };
        return Err(bad(format!(
            "the instance URL{shown} has no host name: give your Sourcegraph instance's \
             address, e.g. example.sourcegraphcloud.com"
        )));
    }
    Ok(host)
}

/// Checks a base URL: `https://` anywhere, `http://` only for localhost and 127.0.0.1 (local
/// proxies and tests): exactly the plain-http origins the page's Content-Security-Policy lets it
/// connect to (`connect-src ... http://localhost:* http://127.0.0.1:*`). `http://[::1]` is
/// refused with the way out: browsers do not take an IPv6 literal in a CSP source, so the page
/// could never reach it. Returns it without a trailing slash.
pub fn check_base_url(base: &str) -> Result<String, Error> {
    let base = base.trim().trim_end_matches('/');
    let (scheme, rest) = base.split_once("://").ok_or_else(|| {
        bad(format!(
            "the API base URL {base:?} must start with https:// (e.g. {DEFAULT_BASE_URL})"
        ))
    })?;
    let authority = rest.split('/').next().unwrap_or("");
    let host = if authority.starts_with('[') {
        authority
            .split(']')
            .next()
            .map(|h| format!("{h}]"))
            .unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or("").to_string()
    };
    if host.is_empty() || authority.contains('@') {
        return Err(bad(format!("the API base URL {base:?} has no host")));
    }
    match scheme.to_ascii_lowercase().as_str() {
        "https" => Ok(base.to_string()),
        "http" if matches!(host.as_str(), "localhost" | "127.0.0.1") => Ok(base.to_string()),
        "http" if host == "[::1]" => Err(bad(format!(
            "the API base URL {base:?} names [::1], which the page's Content-Security-Policy \
             cannot allow: use http://127.0.0.1 or http://localhost with the same port"
        ))),
        _ => Err(bad(format!(
            "the API base URL {base:?} must use https:// (plain http:// is only allowed for \
             localhost and 127.0.0.1): the token must not travel unencrypted"
        ))),
    }
}

/// Whether a status is worth retrying: rate limits and server errors.
pub fn is_retryable(status: u16) -> bool {
    status == 429 || (500..600).contains(&status)
}

/// The wait a `Retry-After` header asks for, in milliseconds: seconds, or an HTTP date
/// (`now_ms` is the current time in milliseconds since the epoch); capped at
/// [`MAX_RETRY_AFTER_MS`].
pub fn retry_after_ms(value: &str, now_ms: f64) -> Option<f64> {
    let v = value.trim();
    if let Ok(seconds) = v.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0)
            .then(|| (seconds * 1000.0).min(MAX_RETRY_AFTER_MS));
    }
    http_date_ms(v).map(|at| (at - now_ms).clamp(0.0, MAX_RETRY_AFTER_MS))
}

/// Parses an IMF-fixdate (`Wed, 21 Oct 2015 07:28:00 GMT`).
fn http_date_ms(v: &str) -> Option<f64> {
    let parts: Vec<&str> = v.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| m == month)? as u32 + 1;
    let day = parse_day(&format!(
        "{year}-{month:02}-{:02}",
        day.parse::<u32>().ok()?
    ))?;
    let hms: Vec<f64> = time
        .split(':')
        .map(|x| x.parse::<f64>())
        .collect::<Result<_, _>>()
        .ok()?;
    let [h, m, s] = hms.as_slice() else {
        return None;
    };
    Some(((f64::from(day) * 24.0 + h) * 60.0 + m) * 60_000.0 + s * 1000.0)
}

/// The wait before retry `attempt` (0-based) when the server gave no `Retry-After`: exponential
/// from half a second, plus `jitter` (0..1) of the same again, so clients don't retry in step.
pub fn backoff_ms(attempt: u32, jitter: f64) -> f64 {
    let base = 500.0 * f64::from(2u32.saturating_pow(attempt.min(10)));
    (base + base * jitter.clamp(0.0, 1.0)).min(MAX_RETRY_AFTER_MS)
}

/// The message for a response that is not a success, with the way out.
///
/// The server's own words (`body_hint`) are scrubbed of the token before they are cut to 200
/// characters: cut first, a token echoed across the cut would leave a piece that no later scrub
/// of the whole token could find.
/// `retries`: how many times the request was retried before this answer (for 429 and 5xx).
pub fn status_message(
    status: u16,
    plan: &FetchPlan,
    body_hint: &str,
    token: &str,
    retries: u32,
) -> String {
    let scrubbed = scrub(body_hint, token);
    let hint = scrubbed.trim();
    let detail = if hint.is_empty() || hint.starts_with('<') {
        String::new()
    } else {
        let short: String = hint.chars().take(200).collect();
        format!(" The server said: {short}")
    };
    let what = match status {
        400 => format!(
            "The Analytics API rejected the request as malformed (400): the parameter most \
             likely wrong is {}.",
            suspect_parameter(plan, hint)
        ),
        401 => "The access token was refused (401): it is invalid or has expired. Create a new \
                token in Sourcegraph Analytics and paste it again."
            .to_string(),
        403 | 404 => format!(
            "This token has no access to the instance {} ({status}): check the instance URL, or \
             use a token of a user who can see that instance's analytics.",
            plan.instance
        ),
        429 => format!(
            "The Analytics API is rate-limiting requests (429){}: wait a few minutes and fetch \
             again.",
            still(retries, "kept doing so")
        ),
        s if s >= 500 => format!(
            "The Analytics API failed ({s}){}: try again later, or fetch a shorter date range.",
            still(retries, "kept failing")
        ),
        s => format!("The Analytics API answered with an unexpected status {s}."),
    };
    what + &detail
}

/// ` and kept failing after 3 retries`, or nothing when the request was not retried.
fn still(retries: u32, doing: &str) -> String {
    match retries {
        0 => String::new(),
        1 => format!(" and {doing} after a retry"),
        n => format!(" and {doing} after {n} retries"),
    }
}

/// The message for a request the browser refused to send or complete (network down, or the API
/// not allowing this page's origin: CORS), with the three ways out.
pub fn network_message(plan: &FetchPlan) -> String {
    format!(
        "The browser could not reach {} (a network error, a redirect, which is refused so that \
         the token never goes elsewhere, or the API does not allow requests from this page's \
         origin: CORS). Ways out: set the API base URL to a proxy that allows \
         this page; or run the bundled local proxy (`cargo xtask serve --proxy`) and use its \
         address as the base URL; or download the export with `{}` and open the file here \
         (nothing leaves your browser).",
        plan.base_url,
        plan.curl_command()
    )
}

/// Which request parameter a 400 most likely refers to: the one the server's message names, else
/// the instance URL (the granularity and the dates were already checked here, the instance
/// cannot be).
fn suspect_parameter(plan: &FetchPlan, hint: &str) -> String {
    let hint = hint.to_ascii_lowercase();
    let granularity = format!(
        "granularity ({})",
        plan.granularity.map_or("the default", |g| g.as_str())
    );
    let start = format!(
        "startDate ({})",
        plan.start_date.as_deref().unwrap_or("not given")
    );
    let end = format!(
        "endDate ({})",
        plan.end_date.as_deref().unwrap_or("not given")
    );
    let instance = format!(
        "instanceURL ({}): it must be your instance's bare host name, as in its address bar",
        plan.instance
    );
    if hint.contains("granularity") {
        granularity
    } else if hint.contains("startdate") || hint.contains("start date") {
        start
    } else if hint.contains("enddate") || hint.contains("end date") {
        end
    } else if hint.contains("date") {
        format!("the date range: {start}, {end}")
    } else {
        instance
    }
}

/// The message for a body that ended before it was complete.
pub fn cut_short_message(bytes: u64) -> String {
    format!(
        "The export was cut short after {:.1} MB: the connection ended before the whole report \
         arrived, so no partial report is shown. Fetch again; for long ranges, turn on \
         month-by-month fetching.",
        bytes as f64 / 1e6
    )
}

/// The message for a success status whose body is an HTML page, not CSV.
pub fn not_csv_message(plan: &FetchPlan, content_type: &str) -> String {
    format!(
        "{} answered with {} instead of a CSV export: probably a login or error page. Check \
         the API base URL (it should be {DEFAULT_BASE_URL} or a proxy to it).",
        plan.base_url,
        if content_type.is_empty() {
            "a page".to_string()
        } else {
            format!("a {content_type} page")
        }
    )
}

/// Removes every occurrence of the token from a message: defence in depth, so that no error can
/// carry the secret whatever produced it.
pub fn scrub(message: &str, token: &str) -> String {
    let token = token.trim();
    if token.len() < 4 {
        return message.to_string();
    }
    message.replace(token, "[token]")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(start: Option<&str>, end: Option<&str>) -> FetchPlan {
        FetchPlan::new("x.example.com", None, None, start, end).unwrap()
    }

    #[test]
    fn pasted_instance_urls_are_normalized() {
        for pasted in [
            "example.sourcegraphcloud.com",
            " https://Example.SourcegraphCloud.com/search?q=1 ",
            "http://example.sourcegraphcloud.com/",
            "example.sourcegraphcloud.com.",
        ] {
            assert_eq!(
                normalize_instance(pasted).unwrap(),
                "example.sourcegraphcloud.com"
            );
        }
        assert_eq!(
            normalize_instance("https://sg.local:3443/x").unwrap(),
            "sg.local:3443"
        );
        assert!(normalize_instance("  ").is_err());
        assert!(normalize_instance("https:///path").is_err());
        assert!(normalize_instance("exa mple.com").is_err());
    }

    #[test]
    fn base_urls_must_be_https_except_locally() {
        assert_eq!(
            check_base_url("https://proxy.corp.example/analytics/").unwrap(),
            "https://proxy.corp.example/analytics"
        );
        for local in ["http://localhost:8080", "http://127.0.0.1:9/x"] {
            assert!(check_base_url(local).is_ok(), "{local}");
        }
        // The page's CSP cannot name [::1] (Chromium refuses an IPv6 literal as a source), so
        // the check refuses it too, with the way out.
        let e = check_base_url("http://[::1]:8080").unwrap_err();
        assert!(e.message().contains("use http://127.0.0.1"), "{e}");
        for bad in [
            "http://analytics.sourcegraph.com",
            "http://127.0.0.1.evil.example",
            "ftp://x",
            "analytics.sourcegraph.com",
            "https://user@evil.example",
        ] {
            assert!(check_base_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn options_are_checked_before_any_request() {
        let e = FetchPlan::new("x.com", None, Some("by_week"), None, None).unwrap_err();
        assert!(e.message().contains("by_week"));
        let e = FetchPlan::new("x.com", None, None, Some("2025-02-30"), None).unwrap_err();
        assert!(e.message().contains("startDate"));
        let e = FetchPlan::new("x.com", None, None, Some("2025-03-02"), Some("2025-03-01"))
            .unwrap_err();
        assert!(e.message().contains("after"));
        let p = FetchPlan::new(
            "https://a.example.com/",
            Some("http://127.0.0.1:8080/"),
            Some("by_user_day"),
            Some("2025-01-01"),
            None,
        )
        .unwrap();
        assert_eq!(
            p.report_url(),
            "http://127.0.0.1:8080/api/reports/by-user-client-date?instanceURL=a.example.com\
             &granularity=by_user_day&startDate=2025-01-01"
        );
    }

    #[test]
    fn month_windows_cover_the_range_exactly() {
        let windows = plan(Some("2024-01-15"), Some("2024-03-03"))
            .month_windows()
            .unwrap();
        let spans: Vec<(String, String)> = windows
            .iter()
            .map(|w| (w.start_date.clone().unwrap(), w.end_date.clone().unwrap()))
            .collect();
        assert_eq!(
            spans,
            [
                ("2024-01-15".into(), "2024-01-31".into()),
                ("2024-02-01".into(), "2024-02-29".into()),
                ("2024-03-01".into(), "2024-03-03".into())
            ]
        );
        assert!(plan(Some("2024-01-15"), None).month_windows().is_err());
    }

    #[test]
    fn retry_after_takes_seconds_or_a_date_and_is_capped() {
        assert_eq!(retry_after_ms("2", 0.0), Some(2000.0));
        assert_eq!(retry_after_ms("86400", 0.0), Some(MAX_RETRY_AFTER_MS));
        assert_eq!(retry_after_ms("-1", 0.0), None);
        let now = http_date_ms("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        assert_eq!(
            retry_after_ms("Wed, 21 Oct 2015 07:28:05 GMT", now),
            Some(5000.0)
        );
        assert_eq!(retry_after_ms("soon", now), None);
        assert!(backoff_ms(0, 0.0) < backoff_ms(1, 0.0));
        assert!(backoff_ms(3, 1.0) <= MAX_RETRY_AFTER_MS);
        assert!(is_retryable(429) && is_retryable(503) && !is_retryable(401));
    }

    #[test]
    fn a_failure_not_retried_does_not_claim_retries() {
        let p = plan(None, None);
        for status in [429, 500, 503] {
            let m = status_message(status, &p, "", "", 0);
            assert!(!m.contains("retr"), "{m}");
            assert!(status_message(status, &p, "", "", 1).contains("after a retry"));
            assert!(status_message(status, &p, "", "", 3).contains("after 3 retries"));
        }
    }

    #[test]
    fn messages_say_what_to_do_and_never_carry_the_token() {
        let p = plan(None, None);
        assert!(status_message(401, &p, "", "", 3).contains("new token"));
        assert!(status_message(403, &p, "", "", 3).contains("x.example.com"));
        assert!(status_message(400, &p, "bad granularity", "", 0).contains("bad granularity"));
        let dated = FetchPlan::new(
            "x.example.com",
            None,
            Some("by_user"),
            Some("2025-01-01"),
            None,
        )
        .unwrap();
        let m = status_message(400, &dated, "invalid granularity", "", 0);
        assert!(
            m.contains("most likely wrong is granularity (by_user)"),
            "{m}"
        );
        let m = status_message(400, &dated, "startDate is before the data", "", 0);
        assert!(m.contains("startDate (2025-01-01)"), "{m}");
        let m = status_message(400, &dated, "", "", 0);
        assert!(m.contains("instanceURL (x.example.com)"), "{m}");
        let network = network_message(&p);
        assert!(network.contains("--proxy") && network.contains("$SG_ANALYTICS_TOKEN"));
        assert_eq!(
            scrub("token sekret-123 leaked", "sekret-123"),
            "token [token] leaked"
        );
        assert!(cut_short_message(2_500_000).contains("2.5 MB"));
    }

    #[test]
    fn credentials_pasted_into_the_instance_url_are_dropped() {
        for pasted in [
            "https://me:sgp_s3cret@Example.com/search",
            "me:sgp_s3cret@example.com",
            "https://sgp_s3cret@example.com:443/",
        ] {
            let host = normalize_instance(pasted).unwrap();
            assert!(!host.contains("s3cret"), "{pasted} -> {host}");
            assert!(host.starts_with("example.com"), "{pasted} -> {host}");
        }
        let e = normalize_instance("https://me:sgp_s3cret@/x").unwrap_err();
        assert!(!e.message().contains("s3cret"), "{e}");
    }

    #[test]
    fn the_curl_hint_is_one_shell_word_whatever_the_base_url_holds() {
        let base = "https://proxy.example/a'b$(touch /tmp/pwned)`id`\"$HOME";
        let p = FetchPlan::new("x.example.com", Some(base), None, None, None).unwrap();
        let curl = p.curl_command();
        let quoted = curl.rsplit_once(" -o sg-analytics-export.csv ").unwrap().1;
        // The shell gives back the URL exactly, running nothing.
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("printf %s {quoted}"))
            .output()
            .unwrap();
        assert_eq!(String::from_utf8(out.stdout).unwrap(), p.report_url());
        assert!(curl.contains("\"Authorization: Bearer $SG_ANALYTICS_TOKEN\""));
    }

    #[test]
    fn a_token_echoed_across_the_200_character_cut_leaves_no_piece() {
        let token = "sgp_0123456789abcdef0123456789abcdef01234567";
        let p = plan(None, None);
        // The token starts at character 180: a cut at 200 would keep its first 20 characters.
        let hint = format!("{}{token} is not valid for this instance", "x".repeat(180));
        let m = status_message(401, &p, &hint, token, 0);
        assert!(!m.contains(&token[..8]), "{m}");
        assert!(m.contains("[token]"), "{m}");
    }

    #[test]
    fn option_names_tokens_and_retries_are_checked() {
        assert!(check_option_name("monthWindows").is_ok());
        let e = check_option_name("instanceURL").unwrap_err();
        assert!(e.message().contains("did you mean \"instanceUrl\""), "{e}");
        let e = check_option_name("colour").unwrap_err();
        assert!(e.message().contains("\"colour\"") && !e.message().contains("did you mean"));
        assert_eq!(check_token(" sgp_abc123\n").unwrap(), "sgp_abc123");
        let e = check_token("Bearer sgp_abc123").unwrap_err();
        assert!(!e.message().contains("sgp_abc123"), "{e}");
        assert!(check_token(" ").is_err());
        assert!(check_token("sgp_é").is_err());
        assert_eq!(check_max_retries(0.0).unwrap(), 0);
        assert_eq!(check_max_retries(10.0).unwrap(), 10);
        for bad in [-1.0, 1.5, 11.0, f64::NAN] {
            assert!(check_max_retries(bad).is_err(), "{bad}");
        }
    }
}
