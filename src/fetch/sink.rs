//! Where a success body goes: the export into the ingester (and the copy), a month window held
//! until it is complete and checked and then joined to the report, the registry and the credits
//! read whole; and each checked as a whole when it ends.

use crate::ingest::Ingester;
use crate::registry::Registry;

use super::body::{parse_credits, HeaderSkip};
use super::window::{Segments, WindowCheck};
use super::{copy_error, FetchCode, FetchError, FetchSession, Job, Progress, State};

/// Where a success body goes.
pub(super) enum Sink {
    /// Straight into the ingester (a retry starts a fresh one).
    Report,
    /// Held in pieces until complete and checked; `checker` reads its records, without storing
    /// them, to tell whether it ends inside one.
    Window {
        check: Box<WindowCheck>,
        checker: Box<Ingester>,
        body: Segments,
    },
    /// In memory (the registry, the credits), up to their limit.
    Buffer(Vec<u8>),
}

impl FetchSession {
    /// A chunk of a success body, to where it goes.
    pub(super) fn take(&mut self, chunk: &[u8]) -> Result<(), FetchError> {
        let State::Body { sink, .. } = &mut self.state else {
            return Ok(());
        };
        match sink {
            Sink::Report => {
                self.push_report(chunk)?;
                if let Some(copy) = &mut self.copy {
                    copy.write(chunk).map_err(copy_error)?;
                }
            }
            Sink::Window {
                check,
                checker,
                body,
            } => {
                check.push(chunk)?;
                // The checker only reads records: its one error is a record over the limits,
                // which the report's ingester says again, with its line, when the window joins.
                checker
                    .push(chunk)
                    .map_err(|e| FetchError::from_ingest(&self.plan, e))?;
                body.push(chunk);
            }
            Sink::Buffer(buffer) => buffer.extend_from_slice(chunk),
        }
        Ok(())
    }

    /// The one place export bytes go into the ingester.
    fn push_report(&mut self, chunk: &[u8]) -> Result<(), FetchError> {
        let Some(ingester) = &mut self.ingester else {
            return Ok(());
        };
        ingester
            .push(chunk)
            .map_err(|e| FetchError::from_ingest(&self.plan, e))
    }

    /// A body ended: checks it whole and hands it on.
    pub(super) fn complete(
        &mut self,
        sink: Sink,
        content_type: &str,
        expected: Option<u64>,
        bytes: u64,
    ) -> Result<(), FetchError> {
        if expected.is_some_and(|n| bytes < n) {
            return Err(FetchError::cut_short(bytes));
        }
        match (sink, self.job) {
            (Sink::Report, _) => {
                let inside = self
                    .ingester
                    .as_ref()
                    .is_some_and(Ingester::ends_inside_record);
                if inside {
                    return Err(FetchError::cut_short(bytes));
                }
                self.bytes_done += bytes;
                self.finish_report()?;
            }
            (
                Sink::Window {
                    mut check,
                    checker,
                    mut body,
                },
                Some(Job::Window(i)),
            ) => {
                if checker.ends_inside_record() {
                    return Err(FetchError::cut_short(bytes));
                }
                check.finish()?;
                self.commit_window(i, &mut body)?;
                self.bytes_done += bytes;
                if self
                    .jobs
                    .front()
                    .is_some_and(|j| matches!(j, Job::Window(_)))
                {
                    self.note_progress(0);
                } else {
                    self.finish_report()?;
                }
            }
            (Sink::Buffer(body), Some(Job::Registry)) => {
                if Ingester::body_ends_inside_record(&body) {
                    return Err(FetchError::cut_short(bytes));
                }
                let registry = Registry::from_bytes(&body).map_err(|e| {
                    FetchError::new(
                        FetchCode::InvalidInput,
                        format!("the user registry could not be read: {e}"),
                    )
                });
                self.main_progress(bytes, Job::Registry);
                self.end_job(registry.map(|r| (r, body)), |f, r| f.registry = Some(r));
                return Ok(());
            }
            (Sink::Buffer(body), _) => {
                let credits = parse_credits(&body, content_type);
                self.main_progress(bytes, Job::Credits);
                self.end_job(credits.map(|c| (c, body)), |f, r| f.credits = Some(r));
                return Ok(());
            }
            _ => {}
        }
        self.next_job();
        Ok(())
    }

    /// A checked window joins the report (and the copy, without its header after the first).
    fn commit_window(&mut self, i: usize, body: &mut Segments) -> Result<(), FetchError> {
        let Some(ingester) = &mut self.ingester else {
            return Ok(());
        };
        if i > 0 {
            ingester
                .start_part()
                .map_err(|e| FetchError::from_ingest(&self.plan, e))?;
        }
        // The first window's header is copied; the later ones' are skipped.
        let mut header = HeaderSkip::new(!self.copied_header);
        let mut wrote = false;
        let mut last = b'\n';
        for piece in body.take() {
            self.push_report(&piece)?;
            let rest = header.skip(&piece);
            if let (Some(copy), false) = (&mut self.copy, rest.is_empty()) {
                copy.write(rest).map_err(copy_error)?;
                wrote = true;
                last = rest[rest.len() - 1];
            }
        }
        if let (Some(copy), true, false) = (&mut self.copy, wrote, last == b'\n') {
            copy.write(b"\n").map_err(copy_error)?;
        }
        self.copied_header |= wrote;
        Ok(())
    }

    /// The export is complete: its table is made.
    fn finish_report(&mut self) -> Result<(), FetchError> {
        let Some(ingester) = self.ingester.take() else {
            return Ok(());
        };
        let table = ingester
            .finish()
            .map_err(|e| FetchError::from_ingest(&self.plan, e))?;
        let windows = self.plan.window_spans().len();
        self.progress = Some(Progress {
            bytes: self.bytes_done,
            rows: table.rows(),
            window: (windows > 0).then_some((windows, windows)),
        });
        self.fetched.report = Some(table);
        Ok(())
    }
}
