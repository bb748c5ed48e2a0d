//! `sg-analytics fetch` and `--instance`: the export (and the user registry, the credits)
//! downloaded natively. Every rule is the core's fetch session (`sg_analytics::FetchSession`),
//! the same as the browser's; this file only carries its bytes with a blocking client (ureq over
//! rustls) and shows its progress on stderr.
//!
//! The token comes from `SG_ANALYTICS_TOKEN` or `--token-file`, never from an argument, and goes
//! only into the `Authorization` header; every message is scrubbed of it. An API on this machine
//! (localhost, 127.0.0.1) is never reached through a proxy from the environment.

use std::fs::{self, File, OpenOptions};
use std::io::{self, IsTerminal, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sg_analytics::{
    ExportCopy, Failure, FetchError, FetchOptions, FetchSession, Fetched, Head, Parts, Progress,
    Step,
};

/// The environment variable that holds the token.
pub const TOKEN_VARIABLE: &str = "SG_ANALYTICS_TOKEN";

/// The largest token file read: a token is under a hundred bytes.
const MAX_TOKEN_FILE: u64 = 64 * 1024;

/// The options of a fetch, as given on the command line.
#[derive(Default)]
pub struct FetchArgs {
    pub instance: Option<String>,
    pub granularity: Option<String>,
    pub base_url: Option<String>,
    pub month_windows: bool,
    pub max_retries: Option<String>,
    pub idle_timeout: Option<String>,
    pub token_file: Option<PathBuf>,
}

/// A checked fetch: what to request and with which token.
pub struct Fetch {
    options: FetchOptions,
}

impl FetchArgs {
    /// Whether any fetch option was given (then the input is the API, not a file).
    pub fn given(&self) -> bool {
        self.instance.is_some()
    }

    /// Checks the options (dates from the filter's `--from`/`--to`) and reads the token; nothing
    /// is sent yet.
    pub fn check(&self, from: Option<&str>, to: Option<&str>) -> Result<Fetch, String> {
        let instance = self
            .instance
            .clone()
            .ok_or("--instance is required: your Sourcegraph instance's address")?;
        let number = |flag: &str, v: &Option<String>| -> Result<Option<f64>, String> {
            v.as_deref()
                .map(|n| {
                    n.parse()
                        .map_err(|_| format!("{flag}: {n:?} is not a number"))
                })
                .transpose()
        };
        let mut options = FetchOptions {
            instance_url: instance,
            granularity: self.granularity.clone(),
            start_date: from.map(str::to_string),
            end_date: to.map(str::to_string),
            base_url: self.base_url.clone(),
            month_windows: self.month_windows,
            max_retries: number("--max-retries", &self.max_retries)?,
            idle_timeout_secs: number("--idle-timeout", &self.idle_timeout)?,
            ..FetchOptions::default()
        };
        sg_analytics::FetchPlan::new(&options).map_err(|e| match e.field {
            Some("monthWindows") => format!("--month-windows: {e}"),
            _ => e.message,
        })?;
        options.token = read_token(self.token_file.as_deref())?;
        Ok(Fetch { options })
    }
}

/// The token from `--token-file` (`-`: stdin) or else `SG_ANALYTICS_TOKEN`; errors never show it.
fn read_token(file: Option<&Path>) -> Result<String, String> {
    let mut text = String::new();
    let read = |source: &mut dyn Read, text: &mut String| {
        source.take(MAX_TOKEN_FILE + 1).read_to_string(text)?;
        if text.len() as u64 > MAX_TOKEN_FILE {
            return Err(io::Error::other(
                "it is larger than 64 KiB, which no token is",
            ));
        }
        Ok(())
    };
    match file {
        Some(path) if path.as_os_str() == "-" => read(&mut io::stdin(), &mut text)
            .map_err(|e| format!("reading the token from stdin: {e}"))?,
        Some(path) => File::open(path)
            .and_then(|mut f| read(&mut f, &mut text))
            .map_err(|e| format!("reading the token file {}: {e}", path.display()))?,
        None => {
            text = std::env::var(TOKEN_VARIABLE).map_err(|_| {
                format!(
                    "no token: set {TOKEN_VARIABLE} or pass --token-file FILE (the token is never \
                     taken as an argument, which every process on the machine can see)"
                )
            })?
        }
    }
    Ok(text)
}

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

impl Fetch {
    /// Runs the session for `parts`; with `copy`, the export as served goes into that file too.
    pub fn run(self, parts: Parts, copy: Option<File>) -> Result<Fetched, FetchError> {
        let seed = now_ms().to_bits() ^ u64::from(std::process::id()).rotate_left(32);
        let mut session = FetchSession::new(&self.options, parts, seed)?;
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
                        Err(e) => {
                            session.failed(Failure::Unreachable(Some(e.to_string())), now_ms())
                        }
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

/// Writes `path` only once the whole answer is ready: into a temporary file beside it, renamed
/// over it at the end, so that a failed fetch leaves an existing file as it was.
pub fn with_output<T>(
    path: Option<&Path>,
    make: impl FnOnce(Option<File>) -> Result<T, String>,
) -> Result<T, String> {
    let (temp, target) = match path {
        Some(path) => {
            let dir = path
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let name = path
                .file_name()
                .ok_or_else(|| format!("-o {}: not a file name", path.display()))?;
            let temp = dir.join(format!(
                ".{}.{}.part",
                name.to_string_lossy(),
                std::process::id()
            ));
            (temp, Some(path))
        }
        None => (
            std::env::temp_dir().join(format!("sg-analytics-fetch-{}.csv", std::process::id())),
            None,
        ),
    };
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&temp)
        .map_err(|e| format!("cannot create {}: {e}", temp.display()))?;
    let result = make(Some(file.try_clone().map_err(|e| e.to_string())?)).and_then(|value| {
        match target {
            Some(target) => {
                file.sync_all()
                    .and_then(|()| fs::rename(&temp, target))
                    .map_err(|e| format!("cannot write {}: {e}", target.display()))?;
            }
            None => {
                let mut file = file;
                file.rewind().map_err(|e| e.to_string())?;
                let stdout = io::stdout();
                let mut out = stdout.lock();
                match io::copy(&mut file, &mut out).and_then(|_| out.flush()) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
                    Err(e) => return Err(format!("writing the output: {e}")),
                }
            }
        }
        Ok(value)
    });
    let _ = fs::remove_file(&temp);
    result
}
