//! What to fetch: the user's options checked (pasted instance URLs normalized, the base URL
//! `https://` or local, dates and granularity parsed) before any request, and the URLs, month
//! windows and `curl` command that follow from them.

use crate::date::{format_day, month_end, parse_day};
use crate::error::{Error, ErrorKind};
use crate::schema::Granularity;

use super::error::FetchError;

/// The public Analytics API.
pub const DEFAULT_BASE_URL: &str = "https://analytics.sourcegraph.com";

/// The export's path under the base URL.
const REPORT_PATH: &str = "/api/reports/by-user-client-date";
/// The user registry's path.
const REGISTRY_PATH: &str = "/api/reports/user-registry";
/// The credits path.
const CREDITS_PATH: &str = "/api/credits";

/// The default of `maxRetries`: retries of a 429, a 5xx, a body cut short or stalled, or a
/// window that does not keep to its dates.
pub const DEFAULT_MAX_RETRIES: u32 = 3;

/// The most retries `maxRetries` may ask for.
const MAX_RETRIES_LIMIT: u32 = 10;

/// The default idle time: a body that brings less than [`STALL_BYTES`] in this long is stalled.
pub const DEFAULT_IDLE_TIMEOUT_MS: f64 = 60_000.0;

/// The longest idle time that may be set (an hour).
const MAX_IDLE_TIMEOUT_MS: f64 = 3_600_000.0;

/// The least a body must bring within the idle time not to be stalled: so that a server that
/// trickles a byte every few seconds is stalled too, not only one that sends nothing.
pub const STALL_BYTES: u64 = 16 * 1024;

fn bad(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::Query, message)
}

/// The options of a fetch as the user gives them (the JS options object, the CLI's flags), not
/// yet checked: [`FetchPlan::new`] and [`FetchSession::new`](super::FetchSession::new) check
/// them all before anything is sent.
#[derive(Clone, Debug, Default)]
pub struct FetchOptions {
    /// The instance's address; `https://host/path` is reduced to the host.
    pub instance_url: String,
    /// The access token, sent only in the `Authorization` header (not needed to plan).
    pub token: String,
    /// `by_user`, `by_user_month`, `by_user_day` or `by_user_day_client_language`; `None`: the
    /// API's default (the finest).
    pub granularity: Option<String>,
    /// First day, `YYYY-MM-DD`, inclusive; `None`: from the start.
    pub start_date: Option<String>,
    /// Last day, `YYYY-MM-DD`, inclusive; `None`: up to today.
    pub end_date: Option<String>,
    /// The API; `None`: [`DEFAULT_BASE_URL`].
    pub base_url: Option<String>,
    /// One request per calendar month of the range (needs both dates). Default `false`.
    pub month_windows: bool,
    /// Retries per request, 0 to 10; `None`: [`DEFAULT_MAX_RETRIES`].
    pub max_retries: Option<f64>,
    /// How long a body may bring less than [`STALL_BYTES`] before it is stalled (and retried),
    /// in seconds, more than 0 and at most an hour; `None`: [`DEFAULT_IDLE_TIMEOUT_MS`].
    pub idle_timeout_secs: Option<f64>,
}

impl FetchOptions {
    /// The names of the JS options object's keys (`fetchReport`, `fetchRegistry`,
    /// `fetchCredits`, `fetchDashboard`); each function ignores those it has no use for, so one
    /// options object can serve all.
    pub const NAMES: [&'static str; 13] = [
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
        "idleTimeout",
        "withRegistry",
        "withCredits",
    ];

    /// Refuses an option name the fetch functions do not know, so a misspelled one
    /// (`instanceURL`, `startdate`) is an error that names it rather than silently ignored.
    pub fn check_name(name: &str) -> Result<(), FetchError> {
        if Self::NAMES.contains(&name) {
            return Ok(());
        }
        let squash = |s: &str| s.to_ascii_lowercase().replace(['_', '-', ' '], "");
        let hint = Self::NAMES
            .iter()
            .find(|known| squash(known) == squash(name))
            .map(|known| format!(" (did you mean {known:?}?)"))
            .unwrap_or_default();
        Err(bad(format!(
            "unknown option {name:?}{hint}; the options are {}",
            Self::NAMES.join(", ")
        ))
        .into())
    }
}

/// A checked request: what to fetch, before any request is sent.
#[derive(Clone, Debug, PartialEq)]
pub struct FetchPlan {
    /// The base URL, without a trailing slash.
    base_url: String,
    /// The bare instance host (`example.sourcegraphcloud.com`).
    instance: String,
    /// The granularity asked for (`None`: the API's default, the finest).
    granularity: Option<Granularity>,
    start_date: Option<String>,
    end_date: Option<String>,
    /// Month windows (with `monthWindows`): each window's first and last day.
    windows: Option<Vec<(String, String)>>,
    pub(super) max_retries: u32,
    pub(super) idle_timeout_ms: f64,
}

impl FetchPlan {
    /// Checks the options (all but the token). Every problem is found here, before the network is
    /// touched; an error names the option at fault (`error.field`).
    pub fn new(options: &FetchOptions) -> Result<FetchPlan, FetchError> {
        let field = |name: &'static str| move |e: Error| FetchError::invalid_option(name, e);
        let instance = normalize_instance(&options.instance_url).map_err(field("instanceUrl"))?;
        let base_url = check_base_url(options.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL))
            .map_err(field("baseUrl"))?;
        let granularity = match options.granularity.as_deref().map(str::trim) {
            Some(g) if !g.is_empty() => {
                Some(g.parse::<Granularity>().map_err(field("granularity"))?)
            }
            _ => None,
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
        let start_date = day("startDate", options.start_date.as_deref()).map_err(field("dates"))?;
        let end_date = day("endDate", options.end_date.as_deref()).map_err(field("dates"))?;
        if let (Some(s), Some(e)) = (&start_date, &end_date) {
            if s > e {
                return Err(FetchError::invalid_option(
                    "dates",
                    bad(format!("startDate ({s}) is after endDate ({e})")),
                ));
            }
        }
        let max_retries = match options.max_retries {
            None => DEFAULT_MAX_RETRIES,
            Some(n) if n.fract() == 0.0 && (0.0..=f64::from(MAX_RETRIES_LIMIT)).contains(&n) => {
                n as u32
            }
            Some(n) => {
                return Err(FetchError::invalid_option(
                    "maxRetries",
                    bad(format!(
                        "maxRetries must be a whole number from 0 to {MAX_RETRIES_LIMIT}, found {n}"
                    )),
                ))
            }
        };
        let idle_timeout_ms = match options.idle_timeout_secs {
            None => DEFAULT_IDLE_TIMEOUT_MS,
            Some(s) if s > 0.0 && s * 1000.0 <= MAX_IDLE_TIMEOUT_MS => s * 1000.0,
            Some(s) => {
                return Err(FetchError::invalid_option(
                    "idleTimeout",
                    bad(format!(
                        "the idle timeout must be more than 0 and at most 3600 seconds, found {s}"
                    )),
                ))
            }
        };
        let mut plan = FetchPlan {
            base_url,
            instance,
            granularity,
            start_date,
            end_date,
            windows: None,
            max_retries,
            idle_timeout_ms,
        };
        if options.month_windows {
            plan.windows = Some(plan.month_windows().map_err(field("monthWindows"))?);
        }
        Ok(plan)
    }

    /// The bare instance host the requests name.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// The API's base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// How many requests the export takes: one, or one per month window.
    pub fn windows(&self) -> usize {
        self.windows.as_ref().map_or(1, Vec::len)
    }

    /// Whether the API is on this machine (`localhost`, `127.0.0.1`): then no proxy from the
    /// environment may carry its requests (and the token in them).
    pub fn is_loopback(&self) -> bool {
        let rest = self.base_url.split_once("://").map_or("", |(_, r)| r);
        let authority = rest.split('/').next().unwrap_or("");
        let host = authority.split(':').next().unwrap_or("");
        matches!(
            host.to_ascii_lowercase().as_str(),
            "localhost" | "127.0.0.1"
        )
    }

    /// The export's URL (for the whole range). The token is never part of it: it goes in the
    /// `Authorization` header.
    pub fn report_url(&self) -> String {
        self.report_url_for(self.start_date.as_deref(), self.end_date.as_deref())
    }

    pub(super) fn report_url_for(&self, start: Option<&str>, end: Option<&str>) -> String {
        let mut url = self.url(REPORT_PATH);
        if let Some(g) = self.granularity {
            url.push_str(&format!("&granularity={}", g.as_str()));
        }
        with_dates(url, start, end)
    }

    /// The month windows' first and last days (none without `monthWindows`).
    pub(super) fn window_spans(&self) -> &[(String, String)] {
        self.windows.as_deref().unwrap_or(&[])
    }

    pub(super) fn registry_url(&self) -> String {
        self.url(REGISTRY_PATH)
    }

    /// The credits' URL: the instance and the dates, if any.
    pub(super) fn credits_url(&self) -> String {
        with_dates(
            self.url(CREDITS_PATH),
            self.start_date.as_deref(),
            self.end_date.as_deref(),
        )
    }

    pub(super) fn granularity(&self) -> Option<Granularity> {
        self.granularity
    }

    pub(super) fn dates(&self) -> (Option<&str>, Option<&str>) {
        (self.start_date.as_deref(), self.end_date.as_deref())
    }

    /// The URL of an endpoint for this instance.
    fn url(&self, path: &str) -> String {
        format!(
            "{}{path}?instanceURL={}",
            self.base_url,
            encode_component(&self.instance)
        )
    }

    /// One span per calendar month of the range (the first and last clipped to it). Needs both
    /// dates.
    fn month_windows(&self) -> Result<Vec<(String, String)>, Error> {
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
            windows.push((format_day(day), format_day(to)));
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

/// `url` with the `startDate` and `endDate` parameters that are set.
fn with_dates(mut url: String, start: Option<&str>, end: Option<&str>) -> String {
    for (name, value) in [("startDate", start), ("endDate", end)] {
        if let Some(v) = value {
            url.push_str(&format!("&{name}={v}"));
        }
    }
    url
}

/// `text` as one single-quoted shell word.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The token as it will be sent: surrounding whitespace (a pasted line break) removed. A token
/// with spaces or characters an HTTP header cannot carry is refused, without echoing it.
pub(super) fn check_token(token: &str) -> Result<&str, Error> {
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
fn normalize_instance(pasted: &str) -> Result<String, Error> {
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
fn check_base_url(base: &str) -> Result<String, Error> {
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

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(in crate::fetch) fn options(start: Option<&str>, end: Option<&str>) -> FetchOptions {
        FetchOptions {
            instance_url: "x.example.com".into(),
            token: "sgp_test_token_1".into(),
            start_date: start.map(str::to_string),
            end_date: end.map(str::to_string),
            ..FetchOptions::default()
        }
    }

    pub(in crate::fetch) fn plan(start: Option<&str>, end: Option<&str>) -> FetchPlan {
        FetchPlan::new(&options(start, end)).unwrap()
    }

    #[test]
    fn options_are_checked_before_any_request_and_name_their_field() {
        let with = |f: &dyn Fn(&mut FetchOptions)| {
            let mut o = options(None, None);
            f(&mut o);
            FetchPlan::new(&o)
        };
        let e = with(&|o| o.granularity = Some("by_week".into())).unwrap_err();
        assert!(e.message.contains("by_week"));
        assert_eq!(e.field, Some("granularity"));
        let e = with(&|o| o.start_date = Some("2025-02-30".into())).unwrap_err();
        assert!(e.message.contains("startDate"));
        assert_eq!(e.field, Some("dates"));
        let e = with(&|o| {
            o.start_date = Some("2025-03-02".into());
            o.end_date = Some("2025-03-01".into());
        })
        .unwrap_err();
        assert!(e.message.contains("after"));
        let e = with(&|o| o.instance_url = " ".into()).unwrap_err();
        assert_eq!(e.field, Some("instanceUrl"));
        let e = with(&|o| o.base_url = Some("http://example.com".into())).unwrap_err();
        assert_eq!(e.field, Some("baseUrl"));
        let e = with(&|o| o.month_windows = true).unwrap_err();
        assert_eq!(e.field, Some("monthWindows"));
        for bad in [-1.0, 1.5, 11.0, f64::NAN] {
            let e = with(&|o| o.max_retries = Some(bad)).unwrap_err();
            assert_eq!(e.field, Some("maxRetries"), "{bad}");
        }
        assert_eq!(
            with(&|o| o.max_retries = Some(10.0)).unwrap().max_retries,
            10
        );
        for bad in [0.0, -1.0, 3601.0, f64::NAN] {
            let e = with(&|o| o.idle_timeout_secs = Some(bad)).unwrap_err();
            assert_eq!(e.field, Some("idleTimeout"), "{bad}");
        }
        assert_eq!(
            with(&|o| o.idle_timeout_secs = Some(2.5))
                .unwrap()
                .idle_timeout_ms,
            2500.0
        );
        let p = FetchPlan::new(&FetchOptions {
            instance_url: "https://a.example.com/".into(),
            base_url: Some("http://127.0.0.1:8080/".into()),
            granularity: Some("by_user_day".into()),
            start_date: Some("2025-01-01".into()),
            ..FetchOptions::default()
        })
        .unwrap();
        assert_eq!(
            p.report_url(),
            "http://127.0.0.1:8080/api/reports/by-user-client-date?instanceURL=a.example.com\
             &granularity=by_user_day&startDate=2025-01-01"
        );
        assert!(p.is_loopback());
        assert!(!plan(None, None).is_loopback());
    }

    #[test]
    fn month_windows_cover_the_range_exactly() {
        let p = FetchPlan::new(&FetchOptions {
            month_windows: true,
            ..options(Some("2024-01-15"), Some("2024-03-03"))
        })
        .unwrap();
        assert_eq!(
            p.window_spans(),
            [
                ("2024-01-15".into(), "2024-01-31".into()),
                ("2024-02-01".into(), "2024-02-29".into()),
                ("2024-03-01".into(), "2024-03-03".into())
            ]
        );
        assert_eq!(p.windows(), 3);
        assert_eq!(plan(None, None).windows(), 1);
    }

    #[test]
    fn option_names_and_tokens_are_checked() {
        assert!(FetchOptions::check_name("monthWindows").is_ok());
        let e = FetchOptions::check_name("instanceURL").unwrap_err();
        assert!(e.message.contains("did you mean \"instanceUrl\""), "{e}");
        let e = FetchOptions::check_name("colour").unwrap_err();
        assert!(e.message.contains("\"colour\"") && !e.message.contains("did you mean"));
        assert_eq!(check_token(" sgp_abc123\n").unwrap(), "sgp_abc123");
        let e = check_token("Bearer sgp_abc123").unwrap_err();
        assert!(!e.message().contains("sgp_abc123"), "{e}");
        assert!(check_token(" ").is_err());
        assert!(check_token("sgp_é").is_err());
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
        let p = FetchPlan::new(&FetchOptions {
            base_url: Some(base.into()),
            ..options(None, None)
        })
        .unwrap();
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
}
