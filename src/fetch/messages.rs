//! The messages of a failed request, in terms of what was asked (the plan): what the status
//! means, which parameter a 400 most likely refers to, and the way out.

use crate::error::{Error, ErrorKind};

use super::error::{scrub, FetchCode, FetchError};
use super::options::DEFAULT_BASE_URL;
use super::plan::FetchPlan;

impl FetchError {
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

#[cfg(test)]
mod tests {
    use super::super::plan::tests::plan;
    use super::*;
    use crate::fetch::FetchOptions;

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
