//! `sg-analytics fetch` and `--instance` against the xtask mock of the Analytics API, started here
//! on 127.0.0.1 with its faults (429 with Retry-After, 5xx, a cut body, HTML, a redirect, 401).
//! Each run also checks that the token appears in no output, message or argument.
#![cfg(not(target_arch = "wasm32"))]

#[path = "common/mock_api.rs"]
mod mock_api;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use mock_api::{cli, hits, mock, stderr, stdout, INSTANCE};
use xtask::data::DEMO_TOKEN;

/// A base URL selecting the mock's dataset and fault; unique per test.
fn base(opts: &str, id: &str) -> String {
    format!("{}/_mock/users=6;days=20;{opts};id={id}", mock())
}

/// The export as the mock serves it, fetched directly (fault-free base URL).
fn direct(base: &str, query: &str) -> String {
    api(
        base,
        &format!("/api/reports/by-user-client-date?instanceURL={INSTANCE}{query}"),
    )
}

/// Runs the CLI with `args` (and `stdin`), checking that the token is in none of the arguments,
/// nor in what it printed.
fn run_with(mut command: Command, args: &[&str], stdin: &str) -> Output {
    assert!(
        args.iter().all(|a| !a.contains(DEMO_TOKEN)),
        "a test put the token in an argument"
    );
    let mut child = command
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    for (name, stream) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        assert!(
            !String::from_utf8_lossy(stream).contains(DEMO_TOKEN),
            "the token is in {name}"
        );
    }
    out
}

fn run(args: &[&str]) -> Output {
    run_with(cli(), args, "")
}

fn temp(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-fetch");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn fetch(base: &str, extra: &[&str]) -> Output {
    let mut args = vec!["fetch", "--instance", INSTANCE, "--base-url", base];
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn fetch_writes_the_export_as_served() {
    let b = base("", "plain");
    let o = fetch(&b, &["--granularity", "by_user_day"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), direct(&b, "&granularity=by_user_day"));
    assert_eq!(hits(&b), 2, "one request by the CLI, one by the test");
    let rows = stdout(&o).lines().count() - 1;
    assert!(stderr(&o).contains(&format!("fetched {rows} rows (by_user_day)")));
}

#[test]
fn pasted_instance_urls_and_dates_reach_the_request() {
    let b = base("", "dates");
    let o = run(&[
        "fetch",
        "--instance",
        " https://Demo.Sourcegraph.example/search?q=1 ",
        "--base-url",
        &b,
        "--from",
        "2025-01-05",
        "--to",
        "2025-01-09",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        direct(&b, "&startDate=2025-01-05&endDate=2025-01-09")
    );
}

#[test]
fn rate_limits_are_waited_out_as_retry_after_asks() {
    let b = base("fault=429;times=2;retryAfter=1", "429");
    let o = fetch(&b, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(hits(&b), 3);
    let err = stderr(&o);
    assert_eq!(
        err.matches("the API answered 429; retrying in 1.0 s")
            .count(),
        2,
        "{err}"
    );
    assert_eq!(stdout(&o), direct(&base("", "429-direct"), ""));
}

#[test]
fn server_errors_are_retried_then_reported() {
    let b = base("fault=503;times=1", "503");
    let o = fetch(&b, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(hits(&b), 2);

    let b = base("fault=500", "500");
    let o = fetch(&b, &["--max-retries", "1"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(hits(&b), 2, "one request and one retry");
    assert!(
        stderr(&o).contains("failed (500) and kept failing after a retry"),
        "{}",
        stderr(&o)
    );
    assert!(stdout(&o).is_empty());
}

#[test]
fn a_server_error_with_max_retries_0_claims_no_retries() {
    let b = base("fault=500", "500-no-retries");
    let o = fetch(&b, &["--max-retries", "0"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(hits(&b), 1);
    assert!(
        stderr(&o).contains("failed (500): try again later"),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("retries"), "{}", stderr(&o));
}

#[test]
fn a_cut_body_is_fetched_again_from_the_start_or_never_written() {
    let b = base("fault=cut;times=1;cutAfter=1500", "cut-once");
    let o = fetch(&b, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(hits(&b), 2);
    assert!(stderr(&o).contains("the export was cut short; retrying"));
    assert_eq!(stdout(&o), direct(&base("", "cut-direct"), ""));

    // Cut every time: an error, and the file given with -o is left as it was.
    // A folder of its own: other tests write their outputs through temporary files too.
    let path = temp("cut-always").join("kept.csv");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, "the previous export\n").unwrap();
    let b = base("fault=cut;cutAfter=1500", "cut-always");
    let o = fetch(&b, &["--max-retries", "1", "-o", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cut short"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "the previous export\n"
    );
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".part") || n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn html_redirects_and_refused_tokens_are_errors_without_retries() {
    let b = base("fault=html", "html");
    let o = fetch(&b, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("instead of a CSV export"),
        "{}",
        stderr(&o)
    );
    assert_eq!(hits(&b), 1);

    // With times=1 a client that followed the redirect would get the export on its second try.
    let b = base("fault=redirect;times=1", "redirect");
    let o = fetch(&b, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("redirect (302)"), "{}", stderr(&o));
    assert_eq!(hits(&b), 1, "the redirect was followed");
    assert!(stdout(&o).is_empty());

    let b = base("fault=401", "401");
    let o = fetch(&b, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("token was refused (401)"),
        "{}",
        stderr(&o)
    );
    assert_eq!(hits(&b), 1);

    // A wrong token, from the mock itself (not an injected fault).
    let b = base("", "bad-token");
    let mut c = cli();
    c.env("SG_ANALYTICS_TOKEN", "sgp_not_the_right_token_4242");
    let o = run_with(c, &["fetch", "--instance", INSTANCE, "--base-url", &b], "");
    assert_eq!(o.status.code(), Some(2));
    assert!(!stderr(&o).contains("sgp_not_the_right_token_4242"));
}

#[test]
fn the_token_is_never_an_argument_and_comes_from_the_environment_or_a_file() {
    // --token is refused without echoing its value.
    let o = run(&[
        "fetch",
        "--instance",
        INSTANCE,
        "--token",
        "sgp_secret_given_as_arg",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("SG_ANALYTICS_TOKEN"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("sgp_secret_given_as_arg"));

    // No token at all: said, and nothing sent.
    let b = base("", "no-token");
    let mut c = cli();
    c.env_remove("SG_ANALYTICS_TOKEN");
    let o = run_with(c, &["fetch", "--instance", INSTANCE, "--base-url", &b], "");
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no token"), "{}", stderr(&o));
    assert_eq!(hits(&b), 0);

    // From a file, and from stdin.
    let file = temp("token.txt");
    std::fs::write(&file, format!("{DEMO_TOKEN}\n")).unwrap();
    for (source, input) in [(file.to_str().unwrap(), ""), ("-", DEMO_TOKEN)] {
        let b = base("", &format!("token-file-{}", source.len()));
        let mut c = cli();
        c.env_remove("SG_ANALYTICS_TOKEN");
        let args = [
            "fetch",
            "--instance",
            INSTANCE,
            "--base-url",
            &b,
            "--token-file",
            source,
        ];
        let o = run_with(c, &args, input);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(hits(&b), 1);
    }
}

#[test]
fn plain_http_is_refused_except_for_localhost() {
    let o = fetch("http://analytics.example.com", &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("must use https://"), "{}", stderr(&o));
}

#[test]
fn month_windows_join_into_one_export_with_one_header() {
    let b = base("", "windows");
    let range = ["--from", "2025-01-10", "--to", "2025-02-05"];
    let mut args = vec!["--granularity", "by_user_day", "--month-windows"];
    args.extend_from_slice(&range);
    let o = fetch(&b, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(hits(&b), 2, "one request per month");
    let whole = direct(
        &base("", "windows-direct"),
        "&granularity=by_user_day&startDate=2025-01-10&endDate=2025-02-05",
    );
    let text = stdout(&o);
    let (mut got, mut want): (Vec<&str>, Vec<&str>) =
        (text.lines().collect(), whole.lines().collect());
    assert_eq!(got[0], want[0]);
    got.sort_unstable();
    want.sort_unstable();
    assert_eq!(got, want);
}

#[test]
fn summarize_fetches_and_answers_in_one_step() {
    let b = base("", "summarize");
    let path = temp("summarize.csv");
    let o = fetch(&b, &["-o", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let from_file = run(&[
        "summarize",
        path.to_str().unwrap(),
        "--by",
        "week",
        "--format",
        "json",
    ]);
    let fetched = run(&[
        "summarize",
        "--instance",
        INSTANCE,
        "--base-url",
        &b,
        "--by",
        "week",
        "--format",
        "json",
    ]);
    assert!(fetched.status.success(), "{}", stderr(&fetched));
    let json = |o: &Output| serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap();
    assert_eq!(json(&fetched)["totals"], json(&from_file)["totals"]);
    assert_eq!(json(&fetched)["groups"], json(&from_file)["groups"]);
    assert!(json(&fetched)["input"]["rows"].as_u64().unwrap() > 0);
    // A FILE and --instance together are refused.
    let o = run(&["summarize", path.to_str().unwrap(), "--instance", INSTANCE]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn filter_fetches_and_writes_the_rows_as_served() {
    let b = base("", "filter");
    let o = run(&[
        "filter",
        "--instance",
        INSTANCE,
        "--base-url",
        &b,
        "--granularity",
        "by_user_day",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Every row kept, every cell as the API wrote it (padded rates included).
    assert_eq!(stdout(&o), direct(&b, "&granularity=by_user_day"));
    assert!(stdout(&o).contains(".0000,"));
}

/// `fetch -o` over an existing 0600 file left it 0644 (the umask's mode of its `.part` file).
#[cfg(unix)]
#[test]
fn fetch_output_keeps_an_existing_files_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.csv");
    std::fs::write(&path, "old\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let b = base("", "mode");
    let o = fetch(&b, &["-o", path.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), direct(&b, ""));
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

/// An interrupted fetch (SIGINT, SIGTERM) left its `.part` file (0644) beside the target. Now the
/// temporary file is 0600 while it exists, removed on the signal, and the target is as it was;
/// the process still ends by the signal.
#[cfg(unix)]
#[test]
fn an_interrupted_fetch_leaves_no_temporary_file() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::ExitStatusExt;
    for (signal, number) in [("INT", 2), ("TERM", 15)] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("export.csv");
        std::fs::write(&path, "the previous export\n").unwrap();
        let b = base(
            "fault=slow;delayMs=500;chunk=64",
            &format!("interrupted-{signal}"),
        );
        let mut child = cli()
            .args(["fetch", "--instance", INSTANCE, "--base-url", &b, "-o"])
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let start = std::time::Instant::now();
        let temp = loop {
            let others: Vec<PathBuf> = std::fs::read_dir(dir.path())
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| *p != path)
                .collect();
            if let Some(temp) = others.first() {
                break temp.clone();
            }
            assert!(
                start.elapsed() < std::time::Duration::from_secs(30),
                "no temporary file appeared"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let mode = std::fs::metadata(&temp).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", temp.display());
        // Wait for the body to start arriving, so the signal comes mid-transfer.
        while hits(&b) == 0 {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let killed = Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(number), "{status:?}");
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["export.csv"], "SIG{signal}");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "the previous export\n"
        );
    }
}

/// `--token-file` read the whole file, whatever it was; a file larger than any token is refused
/// (and nothing of it is shown).
#[test]
fn a_token_file_is_read_with_a_size_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("token");
    std::fs::write(&path, "sgp_".repeat(20_000)).unwrap();
    let b = base("", "token-size");
    let o = fetch(&b, &["--token-file", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("is larger than 65536 bytes"),
        "{}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("sgp_sgp_"));
    assert_eq!(hits(&b), 0, "nothing was sent");
    let mut child = cli()
        .args([
            "fetch",
            "--instance",
            INSTANCE,
            "--base-url",
            &b,
            "--token-file",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The CLI stops reading past the limit: the rest may find the pipe closed.
    let _ = child
        .stdin
        .take()
        .unwrap()
        .write_all("x".repeat(70_000).as_bytes());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("is larger than 65536 bytes"),
        "{}",
        stderr(&o)
    );
}

/// An API answer from the mock, fetched directly (`path` with its query).
fn api(base: &str, path: &str) -> String {
    ureq::get(&format!("{base}{path}"))
        .header("Authorization", &format!("Bearer {DEMO_TOKEN}"))
        .call()
        .unwrap()
        .into_body()
        .read_to_string()
        .unwrap()
}

#[test]
fn fetch_writes_the_registry_and_the_credits_beside_the_export() {
    let b = base("", "extras");
    let (export, registry, credits) = (
        temp("extras.csv"),
        temp("extras-registry.csv"),
        temp("extras-credits.json"),
    );
    let range = ["--from", "2025-01-05", "--to", "2025-01-09"];
    let mut args = vec![
        "-o",
        export.to_str().unwrap(),
        "--registry",
        registry.to_str().unwrap(),
        "--credits",
        credits.to_str().unwrap(),
    ];
    args.extend_from_slice(&range);
    let o = fetch(&b, &args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(hits(&b), 3, "the export, the registry, the credits");
    let d = base("", "extras-direct");
    let dates = "&startDate=2025-01-05&endDate=2025-01-09";
    let read = |p: &Path| std::fs::read_to_string(p).unwrap();
    assert_eq!(read(&export), direct(&d, dates));
    let query = format!("?instanceURL={INSTANCE}");
    assert_eq!(
        read(&registry),
        api(&d, &format!("/api/reports/user-registry{query}"))
    );
    assert_eq!(
        read(&credits),
        api(&d, &format!("/api/credits{query}{dates}"))
    );

    // The credits failing: nothing is written, the files given keep what they held.
    for path in [&export, &registry, &credits] {
        std::fs::write(path, "before\n").unwrap();
    }
    let b = base("credits=500", "extras-failing");
    let o = fetch(&b, &args);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--credits: The Analytics API failed (500)"),
        "{}",
        stderr(&o)
    );
    for path in [&export, &registry, &credits] {
        assert_eq!(read(path), "before\n");
    }
}

#[test]
fn inactive_fetches_the_user_registry_and_joins_it() {
    let b = base("", "inactive");
    let args = ["--days", "5", "--format", "json"];
    let mut fetching = vec!["inactive", "--instance", INSTANCE, "--base-url", &b];
    fetching.extend_from_slice(&args);
    let o = run(&fetching);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(hits(&b), 2, "the export and the registry");
    // The same answer as from the two files.
    let d = base("", "inactive-direct");
    let (export, registry) = (temp("inactive.csv"), temp("inactive-registry.csv"));
    std::fs::write(&export, direct(&d, "")).unwrap();
    let query = format!("?instanceURL={INSTANCE}");
    std::fs::write(
        &registry,
        api(&d, &format!("/api/reports/user-registry{query}")),
    )
    .unwrap();
    let mut from_files = vec![
        "inactive",
        export.to_str().unwrap(),
        "--registry",
        registry.to_str().unwrap(),
    ];
    from_files.extend_from_slice(&args);
    let f = run(&from_files);
    assert!(f.status.success(), "{}", stderr(&f));
    assert_eq!(stdout(&o), stdout(&f));
    assert!(stdout(&o).contains("\"serviceAccount\""), "{}", stdout(&o));
}

#[test]
fn loopback_requests_never_go_through_a_proxy_from_the_environment() {
    // A proxy that counts who comes and what they say.
    let proxy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = proxy.local_addr().unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in proxy.incoming().flatten() {
            let mut stream = stream;
            let mut buffer = [0u8; 4096];
            let n = std::io::Read::read(&mut stream, &mut buffer).unwrap_or(0);
            log.lock()
                .unwrap()
                .push(String::from_utf8_lossy(&buffer[..n]).into_owned());
        }
    });
    let b = base("", "proxy");
    let mut c = cli();
    for var in [
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        c.env(var, format!("http://{address}"));
    }
    c.env_remove("NO_PROXY").env_remove("no_proxy");
    let o = run_with(c, &["fetch", "--instance", INSTANCE, "--base-url", &b], "");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(hits(&b), 1);
    let seen = seen.lock().unwrap();
    assert!(seen.is_empty(), "the proxy saw: {seen:?}");
}

/// Runs the CLI, failing the test if it is still running after `limit` (it hung).
fn run_bounded(args: &[&str], limit: std::time::Duration) -> Output {
    let mut child = cli()
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("sg-analytics {args:?} still ran after {limit:?}: it hangs");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn a_body_that_trickles_or_stops_is_given_up_after_the_idle_timeout_and_retried() {
    let limit = std::time::Duration::from_secs(60);
    // A byte every 400 ms: never silent for the idle time (2 s), but far from 16 KiB in it.
    let b = base("users=2;days=3;fault=slow;delayMs=400;chunk=1", "trickle");
    let mut args = vec!["fetch", "--instance", INSTANCE, "--base-url", &b];
    args.extend(["--idle-timeout", "2", "--max-retries", "1"]);
    let o = run_bounded(&args, limit);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(hits(&b), 2, "one request and one retry");
    let err = stderr(&o);
    assert_eq!(
        err.matches("the export stalled; retrying").count(),
        1,
        "{err}"
    );
    assert!(err.contains("less than 16 KiB arrived in 2 s"), "{err}");
    assert!(stdout(&o).is_empty());
    // Headers, then silence longer than the idle time.
    let b = base("users=2;days=3;fault=slow;delayMs=5000;chunk=256", "silent");
    let mut args = vec!["fetch", "--instance", INSTANCE, "--base-url", &b];
    args.extend(["--idle-timeout", "1", "--max-retries", "0"]);
    let o = run_bounded(&args, limit);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("stalled"), "{}", stderr(&o));
    // The idle time is checked like every option.
    let o = fetch(&base("", "idle-bad"), &["--idle-timeout", "0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("idle timeout"), "{}", stderr(&o));
}

/// An HTTP server on 127.0.0.1 for answers the mock does not make: `answer` gives the raw head
/// and body for a request's first line. Returns its base URL.
fn raw_server(answer: impl Fn(&str) -> (String, Vec<u8>) + Send + 'static) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut request = Vec::new();
            let mut buffer = [0u8; 4096];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match std::io::Read::read(&mut stream, &mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buffer[..n]),
                }
            }
            let text = String::from_utf8_lossy(&request);
            let (head, body) = answer(text.lines().next().unwrap_or(""));
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    url
}

#[test]
fn a_compressed_registry_is_counted_decompressed_against_its_limit() {
    // 66 MiB of registry lines, a few hundred kilobytes on the wire.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(b"Instance user ID,Service Account,Site Admin\n")
        .unwrap();
    let line = b"1234567,false,false\n";
    for _ in 0..(66 << 20) / line.len() {
        gz.write_all(line).unwrap();
    }
    let bomb = gz.finish().unwrap();
    assert!(bomb.len() < 1 << 20);
    let export = direct(&base("", "bomb-export"), "").into_bytes();
    let url = raw_server(move |request| {
        let (body, encoding) = if request.contains("/user-registry") {
            (bomb.clone(), "Content-Encoding: gzip\r\n")
        } else {
            (export.clone(), "")
        };
        let head = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\n{encoding}Content-Length: {}\r\n\
             Connection: close\r\n\r\n",
            body.len()
        );
        (head, body)
    });
    let (export_file, registry_file) = (temp("bomb.csv"), temp("bomb-registry.csv"));
    let o = run(&[
        "fetch",
        "--instance",
        INSTANCE,
        "--base-url",
        &url,
        "-o",
        export_file.to_str().unwrap(),
        "--registry",
        registry_file.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains(
            "--registry: The user registry is larger than 64 MiB (counted after decompression)"
        ),
        "{err}"
    );
    assert!(!registry_file.exists() && !export_file.exists());
    // The export alone, from the same server, is read whole.
    let o = run(&["fetch", "--instance", INSTANCE, "--base-url", &url]);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// `cost --instance` and `report --instance` fetch the credits in the same session: the same
/// answer as from the credits saved by hand. Credits that cannot be had fail `cost` (it has no
/// other answer) and leave the report without its cost section, said on stderr.
#[test]
fn cost_and_report_fetch_the_credits_themselves() {
    let range = ["--from", "2025-01-05", "--to", "2025-01-18"];
    let b = base("", "cost-fetch");
    let mut args = vec![
        "cost",
        "--instance",
        INSTANCE,
        "--base-url",
        &b,
        "--format",
        "json",
    ];
    args.extend_from_slice(&range);
    let o = run(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(hits(&b), 3, "the export, the user registry and the credits");
    // The same answer from the two files the API serves.
    let d = base("", "cost-fetch-direct");
    let dates = "&startDate=2025-01-05&endDate=2025-01-18";
    let (export, credits) = (temp("cost-fetch.csv"), temp("cost-fetch-credits.json"));
    let registry = temp("cost-fetch-registry.csv");
    std::fs::write(&export, direct(&d, dates)).unwrap();
    let query = format!("?instanceURL={INSTANCE}{dates}");
    std::fs::write(&credits, api(&d, &format!("/api/credits{query}"))).unwrap();
    let registry_query = format!("?instanceURL={INSTANCE}");
    let listed = api(&d, &format!("/api/reports/user-registry{registry_query}"));
    std::fs::write(&registry, listed).unwrap();
    let mut from_files = vec![
        "cost",
        export.to_str().unwrap(),
        "--registry",
        registry.to_str().unwrap(),
        "--credits",
        credits.to_str().unwrap(),
        "--format",
        "json",
    ];
    from_files.extend_from_slice(&range);
    let f = run(&from_files);
    assert!(f.status.success(), "{}", stderr(&f));
    assert_eq!(stdout(&o), stdout(&f));
    let cost: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert!(
        cost["range"]["creditsUsed"].as_f64().unwrap() > 0.0,
        "{cost}"
    );

    // A credits file given with --instance is used instead (no credits request); the report
    // fetches the credits for its cost section; credits that fail fail `cost` (it writes
    // nothing) and leave the report without its cost section.
    struct Case<'a> {
        /// The mock's options, and the base URL's id.
        opts: &'a str,
        id: &'a str,
        /// The subcommand, then what follows `--instance ... --base-url ...`.
        command: &'a [&'a str],
        succeeds: bool,
        /// The API requests made (the export, the user registry, the credits), where the case
        /// counts them.
        requests: Option<u64>,
        /// What stderr says, and what stdout holds and lacks.
        says: &'a str,
        holds: &'a str,
        lacks: Option<&'a str>,
    }
    let credits = credits.to_str().unwrap();
    let cases = [
        Case {
            opts: "",
            id: "cost-fetch-file",
            command: &["cost", "--credits", credits],
            succeeds: true,
            requests: Some(2),
            says: "",
            holds: "",
            lacks: None,
        },
        Case {
            opts: "",
            id: "report-fetch",
            command: &["report", "-o", "-"],
            succeeds: true,
            requests: Some(3),
            says: "",
            holds: "<h2>Cost (",
            lacks: None,
        },
        Case {
            opts: "credits=500",
            id: "cost-fetch-failing",
            command: &["cost"],
            succeeds: false,
            requests: None,
            says: "the credits could not be fetched: The Analytics API failed (500)",
            holds: "",
            lacks: None,
        },
        Case {
            opts: "credits=500",
            id: "report-fetch-failing",
            command: &["report", "-o", "-"],
            succeeds: true,
            requests: None,
            says: "the report has no cost section: the credits could not be fetched",
            holds: "<h2>Stickiness",
            lacks: Some("<h2>Cost ("),
        },
    ];
    for case in cases {
        let (id, b) = (case.id, base(case.opts, case.id));
        let mut args = vec![case.command[0], "--instance", INSTANCE, "--base-url", &b];
        args.extend_from_slice(&case.command[1..]);
        let o = run(&args);
        let (out, err) = (stdout(&o), stderr(&o));
        if case.succeeds {
            assert!(o.status.success(), "{id}: {err}");
        } else {
            assert_eq!(o.status.code(), Some(2), "{id}: {err}");
            assert!(out.is_empty(), "{id}: a failed command wrote {out}");
        }
        if let Some(n) = case.requests {
            assert_eq!(hits(&b), n, "{id}: API requests");
        }
        assert!(err.contains(case.says), "{id}: {err}");
        assert!(
            out.contains(case.holds),
            "{id}: stdout lacks {:?}",
            case.holds
        );
        if let Some(lacks) = case.lacks {
            assert!(!out.contains(lacks), "{id}: stdout has {lacks:?}");
        }
    }
}

/// Every answer about users from `--instance` joins the user registry fetched in the same
/// session: its service accounts are left out by default, as with `--registry FILE`, and the
/// answer says so (after a table, on stderr for CSV, JSON and the report).
#[test]
fn every_answer_fetched_joins_the_registry_and_says_what_it_did_with_service_accounts() {
    // Twelve users: the demo's tenth is a CI bot the registry marks.
    let d = base("users=12", "registry-direct");
    let (export, registry) = (temp("everywhere.csv"), temp("everywhere-registry.csv"));
    std::fs::write(&export, direct(&d, "")).unwrap();
    let listed = api(
        &d,
        &format!("/api/reports/user-registry?instanceURL={INSTANCE}"),
    );
    std::fs::write(&registry, &listed).unwrap();
    let bots: Vec<&str> = listed
        .lines()
        .skip(1)
        .filter(|l| l.split(',').nth(1) == Some("true"))
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert!(!bots.is_empty());
    let excludes = format!(
        "Excludes {} service account{}",
        bots.len(),
        if bots.len() == 1 { "" } else { "s" }
    );
    let (export, registry) = (export.to_str().unwrap(), registry.to_str().unwrap());

    let json = |o: &Output| serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap();
    for (command, extra) in [
        ("summarize", &["--by", "user"][..]),
        ("growth", &[][..]),
        ("retention", &[][..]),
        ("stickiness", &[][..]),
        ("features", &[][..]),
        ("inactive", &["--days", "5"][..]),
    ] {
        let b = base("users=12", &format!("registry-{command}"));
        let mut args = vec![command, "--instance", INSTANCE, "--base-url", &b];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--format", "json"]);
        let fetched = run(&args);
        assert!(fetched.status.success(), "{command}: {}", stderr(&fetched));
        assert_eq!(hits(&b), 2, "{command}: the export and the registry");
        assert!(
            stderr(&fetched).contains(&excludes),
            "{command}: {}",
            stderr(&fetched)
        );
        // The same answer as from the two files.
        let mut args = vec![command, export, "--registry", registry];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--format", "json"]);
        let from_files = run(&args);
        assert!(from_files.status.success(), "{}", stderr(&from_files));
        assert_eq!(json(&fetched), json(&from_files), "{command}");
    }

    // The bots are out of the figures; --include-service-accounts counts them, and says so.
    let users = |args: &[&str]| {
        let o = run(args);
        assert!(o.status.success(), "{}", stderr(&o));
        (json(&o)["totals"]["users"].as_u64().unwrap(), stderr(&o))
    };
    let b = base("users=12", "registry-summarize-counts");
    let fetched = ["summarize", "--instance", INSTANCE, "--base-url", &b];
    let (without, _) = users(&[&fetched[..], &["--format", "json"]].concat());
    let (all, _) = users(&["summarize", export, "--format", "json"]);
    assert_eq!(all - without, bots.len() as u64);
    let (with, said) = users(
        &[
            &fetched[..],
            &["--include-service-accounts", "--format", "json"],
        ]
        .concat(),
    );
    assert_eq!(with, all);
    assert!(said.contains("Includes"), "{said}");
    // The table says it under itself.
    let o = run(&fetched);
    assert!(stdout(&o).trim_end().ends_with(&format!(
        "{excludes} (marked in the registry); --include-service-accounts counts them."
    )));

    // The rows written leave the bots out too.
    let b = base("users=12", "registry-filter");
    let o = run(&["filter", "--instance", INSTANCE, "--base-url", &b]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains(&excludes), "{}", stderr(&o));
    let written = stdout(&o);
    let ids: Vec<&str> = written
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert!(!ids.is_empty() && ids.iter().all(|id| !bots.contains(id)));

    // The report and the cost: the registry beside the credits; the note never in the file.
    for command in ["report", "cost"] {
        let b = base("users=12", &format!("registry-{command}"));
        let o = run(&[command, "--instance", INSTANCE, "--base-url", &b, "-o", "-"]);
        assert!(o.status.success(), "{command}: {}", stderr(&o));
        assert_eq!(
            hits(&b),
            3,
            "{command}: the export, the registry and the credits"
        );
        let said = format!("{}{}", stdout(&o), stderr(&o));
        assert!(said.contains(&excludes), "{command}: {said}");
        if command == "report" {
            assert!(stdout(&o).trim_end().ends_with("</html>"));
            assert!(stderr(&o).contains(&excludes));
        }
    }
}
