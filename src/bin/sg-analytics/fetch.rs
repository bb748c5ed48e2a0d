//! The CLI's transport: the export (and the user registry, the credits) downloaded natively.
//! Every rule is the core's fetch session (`sg_analytics::FetchSession`), the same as the
//! browser's; this file only carries its bytes with a blocking client (ureq over rustls) and
//! shows its progress on stderr. An API on this machine (localhost, 127.0.0.1) is never reached
//! through a proxy from the environment: the token would travel through it.

use std::fs::File;
use std::io::{self, IsTerminal, Read, Seek, Write};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sg_analytics::{
    ExportCopy, Failure, FetchError, FetchOptions, FetchSession, Fetched, Head, Parts, Progress,
    Step,
};

/// The export's copy, in the file the export is written to.
struct FileCopy(File);

impl ExportCopy for FileCopy {
    fn restart(&mut self) -> Result<(), String> {
        self.0
            .set_len(0)
            .and_then(|()| self.0.rewind())
            .map_err(|e| e.to_string())
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.0.write_all(bytes).map_err(|e| e.to_string())
    }
}

/// Runs a session for `parts`; with `copy`, the export as served goes into that file too.
pub fn run(
    options: &FetchOptions,
    parts: Parts,
    copy: Option<File>,
) -> Result<Fetched, FetchError> {
    let seed = now_ms().to_bits() ^ u64::from(std::process::id()).rotate_left(32);
    let mut session = FetchSession::new(options, parts, seed)?;
    let idle = Duration::from_secs_f64(session.idle_timeout_ms() / 1000.0);
    let mut config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(format!("sg-analytics/{}", env!("CARGO_PKG_VERSION")))
        .timeout_connect(Some(Duration::from_secs(30)))
        .timeout_recv_response(Some(Duration::from_secs(300)))
        // A body that sends nothing for the idle time ends the read; the session also
        // counts a trickle as stalled.
        .timeout_per_read(Some(idle));
    if session.plan().is_loopback() {
        // The token must not travel through a proxy to reach this machine.
        config = config.proxy(None);
    }
    let agent: ureq::Agent = config.build().into();
    if let Some(file) = copy {
        session.copy_export(Box::new(FileCopy(file)));
    }
    let mut line = ProgressLine::new();
    let mut body: Option<ureq::BodyReader<'static>> = None;
    let mut buffer = vec![0u8; 256 * 1024];
    loop {
        match session.poll(now_ms()) {
            Step::Send(request) => {
                body = None;
                let mut call = agent.get(&request.url);
                for (name, value) in &request.headers {
                    call = call.header(*name, value);
                }
                match call.call() {
                    Ok(response) => {
                        let head = Head::with_headers(response.status().as_u16(), |name| {
                            let value = response.headers().get(name)?;
                            value.to_str().ok().map(str::to_string)
                        });
                        session.response(head, now_ms());
                        body = Some(response.into_body().into_reader());
                    }
                    Err(e) => session.failed(Failure::Unreachable(Some(e.to_string())), now_ms()),
                }
            }
            Step::Read { .. } => {
                let Some(reader) = body.as_mut() else {
                    session.failed(Failure::Broken, now_ms());
                    continue;
                };
                match reader.read(&mut buffer) {
                    Ok(0) => session.end(now_ms()),
                    Ok(n) => session.chunk(&buffer[..n], now_ms()),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) if timed_out(&e) => session.failed(Failure::TimedOut, now_ms()),
                    Err(_) => session.failed(Failure::Broken, now_ms()),
                }
            }
            Step::Wait { ms, note } => {
                body = None;
                line.clear();
                eprintln!("sg-analytics: {note}");
                std::thread::sleep(Duration::from_secs_f64(ms.max(0.0) / 1000.0));
            }
            Step::Progress(p) => line.show(p),
            Step::Done => break,
        }
    }
    line.clear();
    session.finish()
}

/// Whether a read failed because nothing arrived for the per-read timeout.
fn timed_out(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    ) || e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<ureq::Error>())
        .is_some_and(|inner| matches!(inner, ureq::Error::Timeout(_)))
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// The session's progress as one line on stderr, only when it is a terminal.
struct ProgressLine {
    terminal: bool,
    shown: bool,
    last: Option<Instant>,
}

impl ProgressLine {
    fn new() -> ProgressLine {
        ProgressLine {
            terminal: io::stderr().is_terminal(),
            shown: false,
            last: None,
        }
    }

    fn show(&mut self, p: Progress) {
        // The session reports every 100 ms; a terminal line is redrawn at most 5 times a second.
        if !self.terminal
            || self
                .last
                .is_some_and(|t| t.elapsed() < Duration::from_millis(200))
        {
            return;
        }
        self.last = Some(Instant::now());
        let rows = if p.rows > 0 {
            format!(", {} rows", p.rows)
        } else {
            String::new()
        };
        let window = p
            .window
            .map_or(String::new(), |(i, n)| format!(", month {i} of {n}"));
        eprint!(
            "\r\x1b[2Ksg-analytics: {:.1} MB{rows}{window}",
            p.bytes as f64 / 1e6
        );
        self.shown = true;
    }

    fn clear(&mut self) {
        if self.shown {
            eprint!("\r\x1b[2K");
            self.shown = false;
        }
    }
}
