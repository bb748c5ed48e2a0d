//! What a transport and the session say to each other: the parts to fetch, the requests to
//! send, the answers' heads and failures, the next step, progress, and what was fetched.

use crate::registry::Registry;
use crate::table::Table;

use super::error::FetchError;

/// Which answers a session fetches, in this order: the export, the user registry, the credits.
/// The first one asked for is the main one: its failure fails the session. The registry and the
/// credits after an export are extras: their failure is reported beside the export
/// ([`Fetched`]), and the credits are retried once at most, so that a failing endpoint does not
/// hold the export up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parts {
    /// The export (`/api/reports/by-user-client-date`).
    pub report: bool,
    /// The user registry (`/api/reports/user-registry`).
    pub registry: bool,
    /// The credits (`/api/credits`).
    pub credits: bool,
}

impl Parts {
    /// The export alone.
    pub const REPORT: Parts = Parts {
        report: true,
        registry: false,
        credits: false,
    };
    /// The registry alone.
    pub const REGISTRY: Parts = Parts {
        report: false,
        registry: true,
        credits: false,
    };
    /// The credits alone.
    pub const CREDITS: Parts = Parts {
        report: false,
        registry: false,
        credits: true,
    };
}

/// A GET to send: the token is in the `Authorization` header, never in the URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The URL.
    pub url: String,
    /// The headers, name and value.
    pub headers: Vec<(&'static str, String)>,
}

/// What the transport saw of an answer before its body: the status and the headers the session
/// reads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Head {
    pub(super) status: u16,
    pub(super) content_type: Option<String>,
    content_length: Option<String>,
    content_encoding: Option<String>,
    pub(super) retry_after: Option<String>,
}

impl Head {
    /// An answer with this status and no headers yet.
    pub fn new(status: u16) -> Head {
        Head {
            status,
            ..Head::default()
        }
    }

    /// The answer's headers, read by name (`content-type`, `content-length`,
    /// `content-encoding`, `retry-after`) through `get`.
    pub fn with_headers(status: u16, get: impl Fn(&str) -> Option<String>) -> Head {
        Head {
            status,
            content_type: get("content-type"),
            content_length: get("content-length"),
            content_encoding: get("content-encoding"),
            retry_after: get("retry-after"),
        }
    }

    /// With a `Content-Type`.
    pub fn content_type(mut self, value: &str) -> Head {
        self.content_type = Some(value.into());
        self
    }

    /// With a `Content-Length` (a hint, never trusted).
    pub fn content_length(mut self, value: &str) -> Head {
        self.content_length = Some(value.into());
        self
    }

    /// With a `Content-Encoding` (the body the transport feeds is decoded; the length is then
    /// the encoded one's).
    pub fn content_encoding(mut self, value: &str) -> Head {
        self.content_encoding = Some(value.into());
        self
    }

    /// With a `Retry-After`.
    pub fn retry_after(mut self, value: &str) -> Head {
        self.retry_after = Some(value.into());
        self
    }

    /// The announced length, as a floor of what must arrive: only when the body is not encoded
    /// (the transport feeds decoded bytes, and a small body may grow when compressed).
    pub(super) fn expected(&self) -> Option<u64> {
        let encoded = self
            .content_encoding
            .as_deref()
            .is_some_and(|e| !e.trim().eq_ignore_ascii_case("identity") && !e.trim().is_empty());
        if encoded {
            return None;
        }
        self.content_length
            .as_deref()
            .and_then(|v| v.trim().parse::<u64>().ok())
    }
}

/// How a request failed in the transport.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// No answer: the request could not be sent or the connection failed before the status.
    /// `Some(detail)`: the native client's words; `None`: a browser, which says nothing on
    /// purpose (a CORS refusal, a refused redirect and a network failure look alike).
    Unreachable(Option<String>),
    /// The body's stream failed (the connection was lost).
    Broken,
    /// Nothing arrived by the deadline [`Step::Read`] gave.
    TimedOut,
}

/// What the transport does next.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// Send this GET (redirects refused, no cookies, no referrer, no cache), then tell the
    /// session its [`Head`] or its [`Failure`]. Any answer in flight is dropped first.
    Send(Request),
    /// Read the answer: tell the session the next chunk, the end, or a failure. When nothing has
    /// arrived at `until_ms` (the session's clock), tell it [`Failure::TimedOut`].
    Read {
        /// The deadline, in the session's milliseconds.
        until_ms: f64,
    },
    /// Drop any answer in flight, wait `ms` milliseconds, then poll again. `note` says why, for a
    /// log line (it never holds the token).
    Wait {
        /// How long.
        ms: f64,
        /// Why, and which retry it is.
        note: String,
    },
    /// Tell the user how far the fetch is, then poll again.
    Progress(Progress),
    /// The session is over: [`FetchSession::finish`] gives what it fetched, or why it failed.
    Done,
}

/// How far a fetch is: bytes of the main answer so far (they may go down when a body cut short
/// is fetched again) and the export's rows; with month windows, which window of how many.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Bytes read (decoded).
    pub bytes: u64,
    /// Export rows read so far.
    pub rows: usize,
    /// The month window being fetched (from 1) and how many there are.
    pub window: Option<(usize, usize)>,
}

/// Where the transport keeps a copy of the export as it was served (the CLI's `fetch -o`): the
/// windows joined under one header. `restart` forgets what an attempt cut short wrote.
pub trait ExportCopy {
    /// Forgets everything written so far.
    fn restart(&mut self) -> Result<(), String>;
    /// Appends bytes.
    fn write(&mut self, bytes: &[u8]) -> Result<(), String>;
}

/// What a session fetched.
#[derive(Debug, Default)]
pub struct Fetched {
    /// The export, when asked for.
    pub report: Option<Table>,
    /// The user registry and its body as served, when asked for.
    pub registry: Option<Result<(Registry, Vec<u8>), FetchError>>,
    /// The credits (a JSON answer as it is; a CSV one as an array of objects keyed by its
    /// header), and the body as served, when asked for.
    pub credits: Option<Result<(serde_json::Value, Vec<u8>), FetchError>>,
}
