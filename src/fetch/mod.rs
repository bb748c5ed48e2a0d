//! The fetch session: every rule of fetching from the Analytics API, as a state machine that does
//! no I/O (like csv-core for parsing, or quinn-proto for QUIC).
//!
//! The session plans the requests (the export, or one per month window; then the user registry
//! and the credits), retries 429 and 5xx answers (honouring `Retry-After`) and bodies cut short,
//! stalled or outside their window, refuses redirects and HTML pages, bounds every body it reads,
//! and reports progress. A transport (the browser's `fetch`, the CLI's ureq) only carries bytes:
//! it asks [`FetchSession::poll`] what to do next ([`Step`]) and tells the session what happened
//! ([`FetchSession::response`], [`FetchSession::chunk`], [`FetchSession::end`],
//! [`FetchSession::failed`]), with the time. So every retry, stall and lie is a plain unit test
//! with a scripted transport.
//!
//! ```
//! use sg_analytics::{FetchOptions, FetchSession, Head, Parts, Step};
//! let options = FetchOptions {
//!     instance_url: "example.sourcegraphcloud.com".into(),
//!     token: "sgp_example".into(),
//!     base_url: Some("http://127.0.0.1:8080".into()),
//!     ..FetchOptions::default()
//! };
//! let mut session = FetchSession::new(&options, Parts::REPORT, 7).unwrap();
//! let mut now = 0.0;
//! loop {
//!     match session.poll(now) {
//!         Step::Send(request) => {
//!             assert!(request.url.starts_with("http://127.0.0.1:8080/api/reports/"));
//!             session.response(Head::new(200).content_type("text/csv"), now);
//!         }
//!         Step::Read { .. } => {
//!             session.chunk(b"Instance user ID,Timestamp Date,Searches\n1,2025-01-01,3\n", now);
//!             session.end(now);
//!         }
//!         Step::Wait { ms, .. } => now += ms,
//!         Step::Progress(_) => {}
//!         Step::Done => break,
//!     }
//! }
//! let report = session.finish().unwrap().report.unwrap();
//! assert_eq!(report.rows(), 1);
//! ```

mod body;
mod error;
mod messages;
mod options;
mod plan;
mod retry;
mod sink;
mod transport;
mod window;

use std::collections::VecDeque;

use crate::ingest::Ingester;

pub use error::{FetchCode, FetchError};
pub use options::FetchOptions;
pub use plan::FetchPlan;
pub use transport::{ExportCopy, Failure, Fetched, Head, Parts, Progress, Request, Step};

use options::{check_token, STALL_BYTES};
use retry::Retries;
use sink::Sink;
use window::{Segments, WindowCheck};

/// The largest export body read, counted after decompression, so that a compressed body cannot
/// expand without bound: past the largest exports (an 11 GB year of 300 000 users). In the
/// browser the table's memory budget stops a body far earlier, with its own coded error.
pub const MAX_EXPORT_BYTES: u64 = 64 << 30;
/// The largest month window: it is held until it is complete and checked.
pub const MAX_WINDOW_BYTES: u64 = 512 << 20;
/// The largest user registry body (about 50 bytes a user).
pub const MAX_REGISTRY_BYTES: u64 = 64 << 20;
/// The largest credits body.
pub const MAX_CREDITS_BYTES: u64 = 16 << 20;
/// How much of an error answer's body is read, for its message.
const HINT_BYTES: usize = 1024;
/// The least time between two progress reports while a body streams in.
const PROGRESS_EVERY_MS: f64 = 100.0;

/// One request of the session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Job {
    Report,
    Window(usize),
    Registry,
    Credits,
}

enum State {
    /// About to send the current job's request.
    Ready,
    /// Sent; waiting for the answer's head.
    Sent,
    /// Reading a success body.
    Body {
        sink: Sink,
        content_type: String,
        expected: Option<u64>,
        bytes: u64,
        /// When the body last brought [`STALL_BYTES`], and its bytes then.
        mark: (f64, u64),
    },
    /// Reading the start of an error answer, for its message.
    Hint {
        status: u16,
        text: Vec<u8>,
    },
    /// To wait before trying again.
    Backoff {
        ms: f64,
        note: String,
    },
    Finished,
}

/// The fetch rules as a state machine with no I/O. See the [module](self) documentation.
pub struct FetchSession {
    plan: FetchPlan,
    token: String,
    jobs: VecDeque<Job>,
    job: Option<Job>,
    /// The job whose failure fails the session.
    main: Job,
    retries: Retries,
    state: State,
    ingester: Option<Ingester>,
    copy: Option<Box<dyn ExportCopy>>,
    copied_header: bool,
    fetched: Fetched,
    failure: Option<FetchError>,
    rng: u64,
    /// Bytes of the main answer's parts already complete.
    bytes_done: u64,
    last_progress: f64,
    progress: Option<Progress>,
}

impl FetchSession {
    /// A session for `parts`, with every option checked (nothing is sent before [`Self::poll`]).
    /// `seed` varies the retries' jitter from one client to the next.
    pub fn new(
        options: &FetchOptions,
        parts: Parts,
        seed: u64,
    ) -> Result<FetchSession, FetchError> {
        let plan = FetchPlan::new(options)?;
        let token = check_token(&options.token)
            .map_err(FetchError::from)?
            .to_string();
        let mut jobs = VecDeque::new();
        if parts.report {
            match plan.windows() {
                n if plan.window_spans().is_empty() || n == 0 => jobs.push_back(Job::Report),
                n => jobs.extend((0..n).map(Job::Window)),
            }
        }
        if parts.registry {
            jobs.push_back(Job::Registry);
        }
        if parts.credits {
            jobs.push_back(Job::Credits);
        }
        let main = *jobs.front().ok_or_else(|| {
            FetchError::new(FetchCode::InvalidOptions, "nothing to fetch was asked for")
        })?;
        let retries = Retries::new(plan.max_retries);
        Ok(FetchSession {
            plan,
            token,
            jobs,
            job: None,
            main,
            retries,
            state: State::Ready,
            ingester: None,
            copy: None,
            copied_header: false,
            fetched: Fetched::default(),
            failure: None,
            rng: seed | 1,
            bytes_done: 0,
            last_progress: f64::NEG_INFINITY,
            progress: None,
        })
    }

    /// What is requested, as checked.
    pub fn plan(&self) -> &FetchPlan {
        &self.plan
    }

    /// The idle time: how long a body may bring less than 16 KiB before it is stalled.
    pub fn idle_timeout_ms(&self) -> f64 {
        self.plan.idle_timeout_ms
    }

    /// Keeps a copy of the export as served in `copy`.
    pub fn copy_export(&mut self, copy: Box<dyn ExportCopy>) {
        self.copy = Some(copy);
    }

    /// What to do next; `now_ms` is the transport's clock in milliseconds (the epoch's, so that
    /// a `Retry-After` date can be read).
    pub fn poll(&mut self, now_ms: f64) -> Step {
        if let Some(p) = self.progress.take() {
            self.last_progress = now_ms;
            return Step::Progress(p);
        }
        match &mut self.state {
            State::Ready => {
                let job = match self.job {
                    Some(job) => job,
                    None => match self.jobs.pop_front() {
                        Some(job) => {
                            if let Err(e) = self.start_job(job) {
                                self.fail_session(e);
                                return Step::Done;
                            }
                            job
                        }
                        None => {
                            self.state = State::Finished;
                            return Step::Done;
                        }
                    },
                };
                self.state = State::Sent;
                Step::Send(self.request(job))
            }
            State::Sent | State::Hint { .. } => Step::Read {
                until_ms: now_ms + self.plan.idle_timeout_ms,
            },
            State::Body { mark, .. } => Step::Read {
                until_ms: mark.0 + self.plan.idle_timeout_ms,
            },
            State::Backoff { ms, note } => {
                let step = Step::Wait {
                    ms: *ms,
                    note: std::mem::take(note),
                };
                self.state = State::Ready;
                step
            }
            State::Finished => Step::Done,
        }
    }

    /// The answer's head arrived.
    pub fn response(&mut self, head: Head, now_ms: f64) {
        if !matches!(self.state, State::Sent) {
            return;
        }
        let status = head.status;
        if (200..300).contains(&status) {
            let content_type = head.content_type.clone().unwrap_or_default();
            if content_type.to_ascii_lowercase().contains("text/html") {
                let e = FetchError::html(&self.plan, &content_type);
                return self.fail_job(e);
            }
            let expected = head.expected();
            let sink = match self.job {
                Some(Job::Report) => {
                    if let Err(e) = self.restart_report(expected) {
                        return self.fail_job(e);
                    }
                    Sink::Report
                }
                Some(Job::Window(i)) => {
                    let (start, end) = &self.plan.window_spans()[i];
                    Sink::Window {
                        check: Box::new(WindowCheck::new(start, end)),
                        checker: Box::new(Ingester::checker()),
                        body: Segments::default(),
                    }
                }
                // The announced size is believed only up to a small room: a lie costs nothing.
                _ => Sink::Buffer(Vec::with_capacity(
                    expected.unwrap_or(0).min(64 * 1024) as usize
                )),
            };
            self.state = State::Body {
                sink,
                content_type,
                expected,
                bytes: 0,
                mark: (now_ms, 0),
            };
            return;
        }
        let jitter = self.jitter();
        let most = self.retries.most();
        if let Some(wait) =
            self.retries
                .after_status(status, head.retry_after.as_deref(), now_ms, jitter)
        {
            let note = format!(
                "the API answered {status}; retrying in {:.1} s (retry {} of {most})",
                wait / 1000.0,
                self.retries.made()
            );
            self.state = State::Backoff { ms: wait, note };
        } else if (300..400).contains(&status) {
            let e =
                FetchError::from_status(status, &self.plan, "", &self.token, self.retries.made());
            self.fail_job(e);
        } else {
            self.state = State::Hint {
                status,
                text: Vec::new(),
            };
        }
    }

    /// The next piece of the body (decoded).
    pub fn chunk(&mut self, chunk: &[u8], now_ms: f64) {
        let result = match &mut self.state {
            State::Hint { text, .. } => {
                let room = HINT_BYTES.saturating_sub(text.len());
                text.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if text.len() >= HINT_BYTES {
                    self.end_hint();
                }
                return;
            }
            State::Body {
                sink, bytes, mark, ..
            } => {
                *bytes += chunk.len() as u64;
                let (limit, what) = match sink {
                    Sink::Report => (MAX_EXPORT_BYTES, "export"),
                    Sink::Window { .. } => (MAX_WINDOW_BYTES, "month window"),
                    Sink::Buffer(_) if self.job == Some(Job::Registry) => {
                        (MAX_REGISTRY_BYTES, "user registry")
                    }
                    Sink::Buffer(_) => (MAX_CREDITS_BYTES, "credits answer"),
                };
                if *bytes > limit {
                    Err(FetchError::too_large(what, limit))
                } else if *bytes - mark.1 >= STALL_BYTES {
                    *mark = (now_ms, *bytes);
                    Ok(*bytes)
                } else if now_ms - mark.0 > self.plan.idle_timeout_ms {
                    Err(FetchError::stalled(*bytes, self.plan.idle_timeout_ms))
                } else {
                    Ok(*bytes)
                }
            }
            _ => return,
        };
        let result = result.and_then(|bytes| self.take(chunk).map(|()| bytes));
        match result {
            Ok(bytes) => {
                let first = bytes == chunk.len() as u64;
                if first || now_ms - self.last_progress >= PROGRESS_EVERY_MS {
                    self.note_progress(bytes);
                }
            }
            Err(e) => self.fail_attempt(e),
        }
    }

    /// The body ended (cleanly, as far as the transport knows).
    pub fn end(&mut self, _now_ms: f64) {
        match std::mem::replace(&mut self.state, State::Finished) {
            State::Hint { status, text } => {
                self.state = State::Hint { status, text };
                self.end_hint();
            }
            State::Body {
                sink,
                content_type,
                expected,
                bytes,
                ..
            } => {
                if let Err(e) = self.complete(sink, &content_type, expected, bytes) {
                    self.fail_attempt(e);
                }
            }
            other => self.state = other,
        }
    }

    /// The request or its body failed.
    pub fn failed(&mut self, failure: Failure, now_ms: f64) {
        match (&self.state, failure) {
            (State::Hint { .. }, _) => self.end_hint(),
            (State::Sent, Failure::Unreachable(detail)) => {
                let e = FetchError::unreachable(&self.plan, detail.as_deref());
                self.fail_job(e);
            }
            (State::Sent, Failure::Broken) => {
                let e = FetchError::unreachable(&self.plan, Some("the connection failed"));
                self.fail_job(e);
            }
            (State::Sent, Failure::TimedOut) => {
                let e = FetchError::stalled(0, self.plan.idle_timeout_ms);
                self.fail_attempt(e);
            }
            (State::Body { bytes, mark, .. }, Failure::TimedOut)
                if now_ms - mark.0 >= self.plan.idle_timeout_ms =>
            {
                let e = FetchError::stalled(*bytes, self.plan.idle_timeout_ms);
                self.fail_attempt(e);
            }
            // A timer that fires early (the body moved since it was set) is ignored.
            (State::Body { .. }, Failure::TimedOut) => {}
            (State::Body { bytes, .. }, _) => {
                let e = FetchError::cut_short(*bytes);
                self.fail_attempt(e);
            }
            _ => {}
        }
    }

    /// What the session fetched, or why it failed (the message never holds the token).
    pub fn finish(mut self) -> Result<Fetched, FetchError> {
        if let Some(e) = self.failure.take() {
            return Err(e.scrub(&self.token));
        }
        if !matches!(self.state, State::Finished) || self.job.is_some() {
            return Err(FetchError::new(
                FetchCode::Network,
                "the fetch was stopped before it was complete",
            ));
        }
        Ok(self.fetched)
    }

    fn request(&self, job: Job) -> Request {
        let (url, accept) = match job {
            Job::Report => (self.plan.report_url(), "text/csv, */*;q=0.5"),
            Job::Window(i) => {
                let (start, end) = &self.plan.window_spans()[i];
                (
                    self.plan.report_url_for(Some(start), Some(end)),
                    "text/csv, */*;q=0.5",
                )
            }
            Job::Registry => (self.plan.registry_url(), "text/csv, */*;q=0.5"),
            Job::Credits => (
                self.plan.credits_url(),
                "application/json, text/csv;q=0.9, */*;q=0.5",
            ),
        };
        Request {
            url,
            headers: vec![
                ("Authorization", format!("Bearer {}", self.token)),
                ("Accept", accept.to_string()),
            ],
        }
    }

    fn start_job(&mut self, job: Job) -> Result<(), FetchError> {
        self.job = Some(job);
        // Extras after the export: the credits are retried once at most.
        let most = match job {
            Job::Credits if self.main != Job::Credits => self.plan.max_retries.min(1),
            _ => self.plan.max_retries,
        };
        self.retries = Retries::new(most);
        if let (Job::Window(0), None) = (job, &self.ingester) {
            self.ingester = Some(Ingester::new());
            if let Some(copy) = &mut self.copy {
                copy.restart().map_err(copy_error)?;
            }
        }
        Ok(())
    }

    /// A fresh ingester for an export fetched again from its start (and its copy forgotten).
    fn restart_report(&mut self, expected: Option<u64>) -> Result<(), FetchError> {
        let mut ingester = Ingester::new();
        if let Some(n) = expected {
            ingester.expect_bytes(n);
        }
        self.ingester = Some(ingester);
        self.copy
            .as_mut()
            .map_or(Ok(()), |c| c.restart())
            .map_err(copy_error)
    }

    fn main_progress(&mut self, bytes: u64, job: Job) {
        if self.main == job {
            self.progress = Some(Progress {
                bytes,
                rows: 0,
                window: None,
            });
        }
    }

    /// Records an extra's answer (or the main one's failure), then goes on.
    fn end_job<T>(
        &mut self,
        result: Result<T, FetchError>,
        store: impl FnOnce(&mut Fetched, Result<T, FetchError>),
    ) {
        match result {
            Err(e) if self.job == Some(self.main) => self.fail_session(e),
            result => {
                store(&mut self.fetched, result.map_err(|e| e.scrub(&self.token)));
                self.next_job();
            }
        }
    }

    fn next_job(&mut self) {
        self.job = None;
        if self.failure.is_none() {
            self.state = State::Ready;
        }
    }

    fn note_progress(&mut self, part_bytes: u64) {
        if !matches!(self.job, Some(Job::Report | Job::Window(_))) {
            return;
        }
        let window = match self.job {
            Some(Job::Window(i)) => Some((i + 1, self.plan.windows())),
            _ => None,
        };
        self.progress = Some(Progress {
            bytes: self.bytes_done + part_bytes,
            rows: self.ingester.as_ref().map_or(0, Ingester::rows),
            window,
        });
    }

    fn end_hint(&mut self) {
        if let State::Hint { status, text } = std::mem::replace(&mut self.state, State::Finished) {
            let hint = String::from_utf8_lossy(&text);
            let e = FetchError::from_status(
                status,
                &self.plan,
                &hint,
                &self.token,
                self.retries.made(),
            );
            self.fail_job(e);
        }
    }

    /// An attempt failed: it is tried again after a wait if the failure and the retries left
    /// allow, else the request fails.
    fn fail_attempt(&mut self, e: FetchError) {
        let jitter = self.jitter();
        let most = self.retries.most();
        match self.retries.after_failure(&e, jitter) {
            Some(wait) => {
                let what = match self.job {
                    Some(Job::Registry) => "the user registry",
                    Some(Job::Credits) => "the credits answer",
                    _ => "the export",
                };
                let why = match e.code {
                    FetchCode::BadWindow => "a month window held rows outside its dates".into(),
                    FetchCode::Stalled => format!("{what} stalled"),
                    _ => format!("{what} was cut short"),
                };
                let note = format!(
                    "{why}; retrying in {:.1} s (retry {} of {most})",
                    wait / 1000.0,
                    self.retries.made()
                );
                self.state = State::Backoff { ms: wait, note };
            }
            None => self.fail_job(e),
        }
    }

    /// A request failed for good: the session fails if it was the main one; an extra's failure
    /// is recorded and the session goes on.
    fn fail_job(&mut self, e: FetchError) {
        let e = e.scrub(&self.token);
        match self.job {
            Some(Job::Registry) if self.main != Job::Registry => {
                self.fetched.registry = Some(Err(e));
                self.next_job();
            }
            Some(Job::Credits) if self.main != Job::Credits => {
                self.fetched.credits = Some(Err(e));
                self.next_job();
            }
            _ => self.fail_session(e),
        }
    }

    fn fail_session(&mut self, e: FetchError) {
        self.failure = Some(e.scrub(&self.token));
        self.jobs.clear();
        self.job = None;
        self.ingester = None;
        self.state = State::Finished;
    }

    /// 0..1 (xorshift: no cryptographic quality needed, only clients out of step).
    fn jitter(&mut self) -> f64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        (self.rng >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn copy_error(e: String) -> FetchError {
    FetchError::new(FetchCode::InvalidInput, format!("writing the export: {e}"))
}

#[cfg(test)]
mod tests;
