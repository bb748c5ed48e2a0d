//! How a fetch fails: a stable code for programs, a message for people that says what to do, and
//! never the token.

use crate::error::{Error, ErrorKind};

use super::plan::{FetchPlan, DEFAULT_BASE_URL};

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
    /// The body stopped coming (less than 16 KiB within the idle time), after the retries.
    Stalled,
    /// A body larger than its limit (counted after decompression), or an export that will not
    /// fit in the memory a report may take here (the ingester's budget).
    TooLarge,
    /// An allocation failed while reading the export.
    OutOfMemory,
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
    pub const ALL: [FetchCode; 18] = [
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
        FetchCode::Stalled,
        FetchCode::TooLarge,
        FetchCode::OutOfMemory,
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
            FetchCode::Stalled => "stalled",
            FetchCode::TooLarge => "too_large",
            FetchCode::NotCsv => "not_csv",
            FetchCode::BadWindow => "bad_window",
            FetchCode::InvalidInput => "invalid_input",
            FetchCode::Aborted => "aborted",
            FetchCode::OutOfMemory => "out_of_memory",
        }
    }

    /// The code of an HTTP status that is not a success.
    fn for_status(status: u16) -> FetchCode {
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
    /// For people: what went wrong and what to do. Never holds the token.
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
    pub(super) fn invalid_option(field: &'static str, e: impl std::fmt::Display) -> FetchError {
        FetchError {
            field: Some(field),
            ..FetchError::new(FetchCode::InvalidOptions, e.to_string())
        }
    }

    /// The caller cancelled.
    pub fn aborted() -> FetchError {
        FetchError::new(FetchCode::Aborted, "The fetch was aborted.")
    }

    /// A status that is not a success, after `retries` retries of the request; `body_hint` is
    /// the start of the answer's body (the server may name the parameter it refused), scrubbed of
    /// `token` before it is cut short.
    pub(super) fn from_status(
        status: u16,
        plan: &FetchPlan,
        body_hint: &str,
        token: &str,
        retries: u32,
    ) -> FetchError {
        let message = if (300..400).contains(&status) {
            format!(
                "{} answered with a redirect ({status}), which is refused so that the token never \
                 goes anywhere but the API base URL. If you trust where it points, use that \
                 address as the base URL.",
                plan.base_url()
            )
        } else {
            status_message(status, plan, body_hint, token, retries)
        };
        FetchError {
            status: Some(status),
            ..FetchError::new(FetchCode::for_status(status), message)
        }
    }

    /// A body that ended early after `bytes` bytes.
    pub(super) fn cut_short(bytes: u64) -> FetchError {
        FetchError::new(
            FetchCode::CutShort,
            format!(
                "The export was cut short after {:.1} MB: the connection ended before the whole \
                 report arrived, so no partial report is shown. Fetch again; for long ranges, \
                 turn on month-by-month fetching.",
                bytes as f64 / 1e6
            ),
        )
    }

    /// A body that stopped coming after `bytes` bytes.
    pub(super) fn stalled(bytes: u64, idle_ms: f64) -> FetchError {
        FetchError::new(
            FetchCode::Stalled,
            format!(
                "The answer stalled after {:.1} MB: less than 16 KiB arrived in {:.0} s, so the \
                 fetch was given up rather than left waiting for ever. Fetch again later; a slow \
                 link may need a longer idle timeout.",
                bytes as f64 / 1e6,
                idle_ms / 1000.0
            ),
        )
    }

    /// A body past its limit of `limit` bytes (counted after decompression).
    pub(super) fn too_large(what: &str, limit: u64) -> FetchError {
        FetchError::new(
            FetchCode::TooLarge,
            format!(
                "The {what} is larger than {} MiB (counted after decompression): no {what} is \
                 that large, so the answer is refused rather than read into memory. Check the API \
                 base URL; for an export, fetch a shorter range or month by month.",
                limit >> 20
            ),
        )
    }

    /// A success whose `Content-Type` says HTML (a login or error page).
    pub(super) fn html(plan: &FetchPlan, content_type: &str) -> FetchError {
        FetchError::new(
            FetchCode::NotCsv,
            format!(
                "{} answered with a {content_type} page instead of a CSV export: probably a login \
                 or error page. Check the API base URL (it should be {DEFAULT_BASE_URL} or a \
                 proxy to it).",
                plan.base_url()
            ),
        )
    }

    /// The request could not be made. `detail`: what a native client says; a browser says
    /// nothing on purpose (a CORS refusal, a refused redirect and a network failure look alike),
    /// so its message lists the ways out.
    pub(super) fn unreachable(plan: &FetchPlan, detail: Option<&str>) -> FetchError {
        let message = match detail {
            Some(detail) => format!(
                "Could not reach {}: {detail}. Check the network, the API base URL, and any proxy \
                 (HTTPS_PROXY) in the way.",
                plan.base_url()
            ),
            None => format!(
                "The browser could not reach {} (a network error, a redirect, which is refused so \
                 that the token never goes elsewhere, or the API does not allow requests from \
                 this page's origin: CORS). Ways out: set the API base URL to a proxy that allows \
                 this page; or run the bundled local proxy (`cargo xtask serve --proxy`) and use \
                 its address as the base URL; or download the export with `{}` and open the file \
                 here (nothing leaves your browser).",
                plan.base_url(),
                plan.curl_command()
            ),
        };
        FetchError::new(FetchCode::Network, message)
    }

    /// An error of the core's ingester on a fetched body, told in terms of the fetch: the body
    /// was not an export, so the base URL is the likely culprit.
    pub(super) fn from_ingest(plan: &FetchPlan, e: Error) -> FetchError {
        match e.kind() {
            ErrorKind::EmptyInput => FetchError::new(
                FetchCode::NotCsv,
                format!(
                    "{} sent an empty answer (no CSV header row) for the instance {}: check the \
                     instance URL and the API base URL.",
                    plan.base_url(),
                    plan.instance()
                ),
            ),
            ErrorKind::Input => FetchError::new(
                FetchCode::NotCsv,
                format!(
                    "{} did not answer with an Analytics export: {e}. Check the API base URL (it \
                     should be {DEFAULT_BASE_URL} or a proxy to it).",
                    plan.base_url()
                ),
            ),
            ErrorKind::Query
            | ErrorKind::TooLarge
            | ErrorKind::OutOfMemory
            | ErrorKind::PeopleFile => e.into(),
        }
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
            ErrorKind::Input | ErrorKind::EmptyInput | ErrorKind::PeopleFile => {
                FetchCode::InvalidInput
            }
            ErrorKind::TooLarge => FetchCode::TooLarge,
            ErrorKind::OutOfMemory => FetchCode::OutOfMemory,
        };
        FetchError::new(code, e.to_string())
    }
}

/// The message for a response that is not a success, with the way out.
///
/// The server's own words (`body_hint`) are scrubbed of the token before they are cut to 200
/// characters: cut first, a token echoed across the cut would leave a piece that no later scrub
/// of the whole token could find.
fn status_message(
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
            plan.instance()
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

/// Which request parameter a 400 most likely refers to: the one the server's message names, else
/// the instance URL (the granularity and the dates were already checked here, the instance
/// cannot be).
fn suspect_parameter(plan: &FetchPlan, hint: &str) -> String {
    let hint = hint.to_ascii_lowercase();
    let (start, end) = plan.dates();
    let granularity = format!(
        "granularity ({})",
        plan.granularity().map_or("the default", |g| g.as_str())
    );
    let start = format!("startDate ({})", start.unwrap_or("not given"));
    let end = format!("endDate ({})", end.unwrap_or("not given"));
    if hint.contains("granularity") {
        granularity
    } else if hint.contains("startdate") || hint.contains("start date") {
        start
    } else if hint.contains("enddate") || hint.contains("end date") {
        end
    } else if hint.contains("date") {
        format!("the date range: {start}, {end}")
    } else {
        format!(
            "instanceURL ({}): it must be your instance's bare host name, as in its address bar",
            plan.instance()
        )
    }
}

/// Removes every occurrence of the token from a message: defence in depth, so that no error can
/// carry the secret whatever produced it.
pub(super) fn scrub(message: &str, token: &str) -> String {
    let token = token.trim();
    if token.len() < 4 {
        return message.to_string();
    }
    message.replace(token, "[token]")
}

#[cfg(test)]
mod tests {
    use super::super::plan::tests::plan;
    use super::*;
    use crate::fetch::FetchOptions;

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
            | FetchCode::Stalled
            | FetchCode::TooLarge
            | FetchCode::OutOfMemory
            | FetchCode::NotCsv
            | FetchCode::BadWindow
            | FetchCode::InvalidInput
            | FetchCode::Aborted => FetchCode::ALL.contains(&c),
        };
        let declarations = include_str!("../wasm/mod.rs");
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
    fn statuses_have_codes_and_messages() {
        let p = plan(None, None);
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
            let e = FetchError::from_status(status, &p, "", "", 0);
            assert_eq!(e.code.as_str(), code);
            assert_eq!(e.status, Some(status));
        }
        let e = FetchError::from_status(301, &p, "", "", 0);
        assert!(e.message.contains("redirect (301)") && e.message.contains("refused"));
        let e =
            FetchError::new(FetchCode::Network, "token sgp_secret_1 in here").scrub("sgp_secret_1");
        assert_eq!(e.message, "token [token] in here");
    }

    #[test]
    fn messages_say_what_to_do_and_never_carry_the_token() {
        let p = plan(None, None);
        let message = |status, hint| FetchError::from_status(status, &p, hint, "", 0).message;
        assert!(message(401, "").contains("new token"));
        assert!(message(403, "").contains("x.example.com"));
        assert!(message(400, "bad granularity").contains("bad granularity"));
        let dated = FetchPlan::new(&FetchOptions {
            granularity: Some("by_user".into()),
            ..super::super::plan::tests::options(Some("2025-01-01"), None)
        })
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
        let network = FetchError::unreachable(&p, None).message;
        assert!(network.contains("--proxy") && network.contains("$SG_ANALYTICS_TOKEN"));
        assert_eq!(
            scrub("token sekret-123 leaked", "sekret-123"),
            "token [token] leaked"
        );
        assert!(FetchError::cut_short(2_500_000).message.contains("2.5 MB"));
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
}
