//! The options of a fetch as the user gives them, their defaults and limits, and the checks of
//! what is pasted into them (instance URLs normalized, the base URL `https://` or local, the
//! token sendable in a header).

use crate::error::{Error, ErrorKind};

use super::error::FetchError;

/// The public Analytics API.
pub const DEFAULT_BASE_URL: &str = "https://analytics.sourcegraph.com";

/// The default of `maxRetries`: retries of a 429, a 5xx, a body cut short or stalled, or a
/// window that does not keep to its dates.
pub const DEFAULT_MAX_RETRIES: u32 = 3;

/// The most retries `maxRetries` may ask for.
pub(super) const MAX_RETRIES_LIMIT: u32 = 10;

/// The default idle time: a body that brings less than [`STALL_BYTES`] in this long is stalled.
pub const DEFAULT_IDLE_TIMEOUT_MS: f64 = 60_000.0;

/// The longest idle time that may be set (an hour).
pub(super) const MAX_IDLE_TIMEOUT_MS: f64 = 3_600_000.0;

/// The least a body must bring within the idle time not to be stalled: so that a server that
/// trickles a byte every few seconds is stalled too, not only one that sends nothing.
pub const STALL_BYTES: u64 = 16 * 1024;

pub(super) fn bad(message: impl Into<String>) -> Error {
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

/// The bare host (and port) of a pasted instance URL: `https://Example.com/search?q=1 ` →
/// `example.com`.
pub(super) fn normalize_instance(pasted: &str) -> Result<String, Error> {
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
pub(super) fn check_base_url(base: &str) -> Result<String, Error> {
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
mod tests {
    use super::*;

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
}
