//! What to fetch: the user's options checked (by `options`; dates and granularity parsed) before
//! any request, and the URLs, month windows and `curl` command that follow from them.

use crate::date::{format_day, month_end, parse_day};
use crate::error::Error;
use crate::schema::Granularity;

use super::error::FetchError;
use super::options::{
    bad, check_base_url, normalize_instance, FetchOptions, DEFAULT_BASE_URL,
    DEFAULT_IDLE_TIMEOUT_MS, DEFAULT_MAX_RETRIES, MAX_IDLE_TIMEOUT_MS, MAX_RETRIES_LIMIT,
};

/// The export's path under the base URL.
const REPORT_PATH: &str = "/api/reports/by-user-client-date";
/// The user registry's path.
const REGISTRY_PATH: &str = "/api/reports/user-registry";
/// The credits path.
const CREDITS_PATH: &str = "/api/credits";

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
