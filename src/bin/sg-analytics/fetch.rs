//! `sg-analytics fetch` and `--instance`: the export downloaded natively, by the same rules as the
//! browser's `fetchReport` (`sg_analytics::fetch_policy`, `fetch_plan`): the instance normalized,
//! `https://` only (plain `http://` for localhost), no redirects, 429/5xx/cut bodies retried
//! honouring `Retry-After`, an HTML or cut body an error, month windows checked. This file only
//! carries the rules out with a blocking client (ureq over rustls).
//!
//! The token comes from `SG_ANALYTICS_TOKEN` or `--token-file`, never from an argument, and goes
//! only into the `Authorization` header; every message is scrubbed of it.

use std::fs::{self, File, OpenOptions};
use std::io::{self, IsTerminal, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sg_analytics::fetch_plan::{check_max_retries, check_token, FetchPlan};
use sg_analytics::fetch_policy::{
    check_complete, check_content_type, check_window, content_length, unreachable_message,
    FetchCode, FetchError, Retries,
};
use sg_analytics::{Ingester, Table};

/// The environment variable that holds the token.
pub const TOKEN_VARIABLE: &str = "SG_ANALYTICS_TOKEN";

/// The options of a fetch, as given on the command line.
#[derive(Default)]
pub struct FetchArgs {
    pub instance: Option<String>,
    pub granularity: Option<String>,
    pub base_url: Option<String>,
    pub month_windows: bool,
    pub max_retries: Option<String>,
    pub token_file: Option<PathBuf>,
}

/// A checked fetch: what to request and with which token.
pub struct Fetch {
    plan: FetchPlan,
    token: String,
    month_windows: bool,
    max_retries: u32,
    progress: Progress,
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
            .as_deref()
            .ok_or("--instance is required: your Sourcegraph instance's address")?;
        let plan = FetchPlan::new(
            instance,
            self.base_url.as_deref(),
            self.granularity.as_deref(),
            from,
            to,
        )
        .map_err(|e| e.to_string())?;
        if self.month_windows {
            plan.month_windows()
                .map_err(|e| format!("--month-windows: {e}"))?;
        }
        let max_retries = match &self.max_retries {
            None => sg_analytics::fetch_plan::DEFAULT_MAX_RETRIES,
            Some(n) => {
                let n: f64 = n
                    .parse()
                    .map_err(|_| format!("--max-retries: {n:?} is not a number"))?;
                check_max_retries(n).map_err(|e| e.to_string())?
            }
        };
        let token = read_token(self.token_file.as_deref())?;
        Ok(Fetch {
            plan,
            token,
            month_windows: self.month_windows,
            max_retries,
            progress: Progress::new(),
        })
    }
}

/// The token from `--token-file` (`-`: stdin) or else `SG_ANALYTICS_TOKEN`, checked; errors never
/// show it.
fn read_token(file: Option<&Path>) -> Result<String, String> {
    let text = match file {
        Some(path) if path.as_os_str() == "-" => {
            let mut s = String::new();
            io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| format!("reading the token from stdin: {e}"))?;
            s
        }
        Some(path) => fs::read_to_string(path)
            .map_err(|e| format!("reading the token file {}: {e}", path.display()))?,
        None => std::env::var(TOKEN_VARIABLE).map_err(|_| {
            format!(
                "no token: set {TOKEN_VARIABLE} or pass --token-file FILE (the token is never \
                 taken as an argument, which every process on the machine can see)"
            )
        })?,
    };
    check_token(&text)
        .map(str::to_string)
        .map_err(|e| e.to_string())
}

/// Where a body goes: the ingester (to check that it is an export, and for the answers), and for
/// `fetch` the raw bytes, into a file.
struct Target {
    ingester: Ingester,
    raw: Option<File>,
    /// The first part's header is written: later windows are written without theirs.
    wrote_header: bool,
}

impl Fetch {
    /// Downloads the export into a report; with `raw`, also writes the CSV as received (one
    /// header, the windows one after another) into that file.
    pub fn run(mut self, raw: Option<File>) -> Result<Table, FetchError> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(format!("sg-analytics/{}", env!("CARGO_PKG_VERSION")))
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_recv_response(Some(Duration::from_secs(300)))
            .build()
            .into();
        let mut target = Target {
            ingester: Ingester::new(),
            raw,
            wrote_header: false,
        };
        let token = self.token.clone();
        let result = self.fetch_into(&agent, &mut target);
        self.progress.done();
        let table = result.and_then(|()| {
            target
                .ingester
                .finish()
                .map_err(|e| FetchError::from_ingest(&self.plan, e))
        });
        table.map_err(|e| e.scrub(&token))
    }

    fn fetch_into(&mut self, agent: &ureq::Agent, target: &mut Target) -> Result<(), FetchError> {
        if !self.month_windows {
            let url = self.plan.report_url();
            let mut body = Body::Stream(target);
            self.download(agent, &url, None, &mut body)?;
            return Ok(());
        }
        let windows = self.plan.month_windows()?;
        for (i, window) in windows.iter().enumerate() {
            self.progress.window = Some((i + 1, windows.len()));
            let mut buffer = Vec::new();
            let mut body = Body::Buffer(&mut buffer);
            self.download(agent, &window.report_url(), Some(window), &mut body)?;
            if i > 0 {
                target
                    .ingester
                    .start_part()
                    .map_err(|e| FetchError::from_ingest(&self.plan, e))?;
            }
            target
                .ingester
                .push(&buffer)
                .map_err(|e| FetchError::from_ingest(&self.plan, e))?;
            if let Some(file) = &mut target.raw {
                let part = if target.wrote_header {
                    after_header(&buffer)
                } else {
                    &buffer[..]
                };
                file.write_all(part).map_err(write_error)?;
                if !part.is_empty() && !part.ends_with(b"\n") {
                    file.write_all(b"\n").map_err(write_error)?;
                }
                target.wrote_header |= !buffer.is_empty();
            }
            self.progress.commit();
        }
        Ok(())
    }

    /// One URL, with the retries the policy allows.
    fn download(
        &mut self,
        agent: &ureq::Agent,
        url: &str,
        window: Option<&FetchPlan>,
        body: &mut Body<'_>,
    ) -> Result<(), FetchError> {
        let mut retries = Retries::new(self.max_retries);
        loop {
            let response = self.send(agent, url, &mut retries)?;
            let result = self
                .read_body(response, body)
                .and_then(|()| match (window, &*body) {
                    (Some(w), Body::Buffer(bytes)) => check_window(w, bytes),
                    _ => Ok(()),
                });
            match result {
                Ok(()) => return Ok(()),
                Err(e) => match retries.after_failure(&e, jitter()) {
                    Some(wait) => {
                        let why = match e.code {
                            FetchCode::BadWindow => "a month window held rows outside its dates",
                            _ => "the export was cut short",
                        };
                        self.wait(why, wait, &retries)
                    }
                    None => return Err(e),
                },
            }
        }
    }

    /// A GET with the token in the `Authorization` header; 429 and 5xx are retried here.
    fn send(
        &mut self,
        agent: &ureq::Agent,
        url: &str,
        retries: &mut Retries,
    ) -> Result<ureq::http::Response<ureq::Body>, FetchError> {
        loop {
            let response = agent
                .get(url)
                .header("Authorization", &format!("Bearer {}", self.token))
                .header("Accept", "text/csv, */*;q=0.5")
                .call()
                .map_err(|e| {
                    FetchError::new(
                        FetchCode::Network,
                        unreachable_message(&self.plan, &e.to_string()),
                    )
                })?;
            let status = response.status().as_u16();
            if (200..300).contains(&status) {
                return Ok(response);
            }
            let retry_after = header(&response, "retry-after");
            if let Some(wait) =
                retries.after_status(status, retry_after.as_deref(), now_ms(), jitter())
            {
                let why = format!("the API answered {status}");
                self.wait(&why, wait, retries);
                continue;
            }
            let hint = if (300..400).contains(&status) {
                String::new()
            } else {
                read_hint(response)
            };
            return Err(FetchError::from_status(
                status,
                &self.plan,
                &hint,
                &self.token,
                retries.made(),
            ));
        }
    }

    /// Streams a successful answer's body into `body`; an HTML page or a body cut short fails.
    fn read_body(
        &mut self,
        response: ureq::http::Response<ureq::Body>,
        body: &mut Body<'_>,
    ) -> Result<(), FetchError> {
        let content_type = header(&response, "content-type").unwrap_or_default();
        check_content_type(&self.plan, &content_type)?;
        let expected = content_length(header(&response, "content-length").as_deref());
        body.reset(expected).map_err(write_error)?;
        let mut reader = response.into_body().into_reader();
        let mut chunk = vec![0u8; 256 * 1024];
        let mut bytes = 0u64;
        loop {
            let n = match reader.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return Err(FetchError::cut_short(bytes)),
            };
            bytes += n as u64;
            let rows = body.push(&chunk[..n], &self.plan)?;
            self.progress.update(bytes, rows);
        }
        // A body that ends inside a record was cut short, as the ingester that read it says.
        check_complete(expected, bytes, body.ends_inside_record())?;
        self.progress.part_bytes(bytes);
        Ok(())
    }

    /// Waits before a retry, saying why on stderr (the message never holds the token).
    fn wait(&mut self, why: &str, ms: f64, retries: &Retries) {
        self.progress.clear();
        eprintln!(
            "sg-analytics: {why}; retrying in {:.1} s (retry {} of {})",
            ms / 1000.0,
            retries.made(),
            self.max_retries
        );
        std::thread::sleep(Duration::from_millis(ms as u64));
    }
}

/// A body's destination for one attempt.
enum Body<'a> {
    /// Straight into the report (and the raw file): a retry starts both again.
    Stream(&'a mut Target),
    /// Into memory, until the month window is complete and checked.
    Buffer(&'a mut Vec<u8>),
}

impl Body<'_> {
    fn reset(&mut self, expected: Option<u64>) -> io::Result<()> {
        match self {
            Body::Stream(t) => {
                t.ingester = Ingester::new();
                if let Some(n) = expected {
                    t.ingester.expect_bytes(n);
                }
                if let Some(file) = &mut t.raw {
                    file.set_len(0)?;
                    file.rewind()?;
                }
                Ok(())
            }
            Body::Buffer(b) => {
                b.clear();
                Ok(())
            }
        }
    }

    /// Whether the body so far ends inside a CSV record.
    fn ends_inside_record(&self) -> bool {
        match self {
            Body::Stream(t) => t.ingester.ends_inside_record(),
            Body::Buffer(b) => Ingester::body_ends_inside_record(b),
        }
    }

    /// Takes a chunk; returns the rows known so far.
    fn push(&mut self, chunk: &[u8], plan: &FetchPlan) -> Result<usize, FetchError> {
        match self {
            Body::Stream(t) => {
                t.ingester
                    .push(chunk)
                    .map_err(|e| FetchError::from_ingest(plan, e))?;
                if let Some(file) = &mut t.raw {
                    file.write_all(chunk).map_err(write_error)?;
                }
                Ok(t.ingester.rows())
            }
            Body::Buffer(b) => {
                b.extend_from_slice(chunk);
                Ok(0)
            }
        }
    }
}

/// The bytes after a CSV's first record (its header).
fn after_header(bytes: &[u8]) -> &[u8] {
    let mut quoted = false;
    for (i, &b) in bytes.iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => return &bytes[i + 1..],
            _ => {}
        }
    }
    &[]
}

fn write_error(e: io::Error) -> FetchError {
    FetchError::new(FetchCode::InvalidInput, format!("writing the export: {e}"))
}

fn header(response: &ureq::http::Response<ureq::Body>, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// The start of an error answer's body (the server may name the parameter it refused).
fn read_hint(response: ureq::http::Response<ureq::Body>) -> String {
    let mut text = Vec::new();
    let _ = response
        .into_body()
        .into_reader()
        .take(1024)
        .read_to_end(&mut text);
    String::from_utf8_lossy(&text).into_owned()
}

fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// 0..1, different from one call and one process to the next, so that clients do not retry in
/// step (no cryptographic quality needed).
fn jitter() -> f64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mixed =
        (u64::from(nanos) ^ u64::from(std::process::id())).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (mixed >> 11) as f64 / (1u64 << 53) as f64
}

/// A progress line on stderr, only when it is a terminal: megabytes and rows, at most 5 a second.
struct Progress {
    terminal: bool,
    last: Option<Instant>,
    shown: bool,
    bytes_done: u64,
    /// Bytes of the month window being fetched, counted once it joins the report.
    pending: u64,
    window: Option<(usize, usize)>,
}

impl Progress {
    fn new() -> Progress {
        Progress {
            terminal: io::stderr().is_terminal(),
            last: None,
            shown: false,
            bytes_done: 0,
            pending: 0,
            window: None,
        }
    }

    fn update(&mut self, part_bytes: u64, rows: usize) {
        if !self.terminal
            || self
                .last
                .is_some_and(|t| t.elapsed() < Duration::from_millis(200))
        {
            return;
        }
        self.last = Some(Instant::now());
        let window = self
            .window
            .map_or(String::new(), |(i, n)| format!(", month {i} of {n}"));
        let rows = if rows > 0 {
            format!(", {rows} rows")
        } else {
            String::new()
        };
        eprint!(
            "\r\x1b[2Ksg-analytics: {:.1} MB{rows}{window}",
            (self.bytes_done + part_bytes) as f64 / 1e6
        );
        self.shown = true;
    }

    fn part_bytes(&mut self, bytes: u64) {
        if self.window.is_none() {
            self.bytes_done += bytes;
        } else {
            self.pending = bytes;
        }
    }

    fn commit(&mut self) {
        self.bytes_done += std::mem::take(&mut self.pending);
    }

    fn clear(&mut self) {
        if self.shown {
            eprint!("\r\x1b[2K");
            self.shown = false;
        }
    }

    fn done(&mut self) {
        self.clear();
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
