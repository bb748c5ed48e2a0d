//! How a fetch fails: a stable code for programs, a message for people that says what to do, and
//! never the token.

use crate::error::{Error, ErrorKind};

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
    pub(super) fn for_status(status: u16) -> FetchCode {
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
            | FetchCode::Stalled
            | FetchCode::TooLarge
            | FetchCode::OutOfMemory
            | FetchCode::NotCsv
            | FetchCode::BadWindow
            | FetchCode::InvalidInput
            | FetchCode::Aborted => FetchCode::ALL.contains(&c),
        };
        let declarations = include_str!("../wasm/types.rs");
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
}
