//! `sg-analytics fetch` and `--instance` against the xtask mock of the Analytics API, started here
//! on 127.0.0.1 with its faults (429 with Retry-After, 5xx, a cut body, HTML, a redirect, 401).
//! Each run also checks that the token appears in no output, message or argument.
#![cfg(not(target_arch = "wasm32"))]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

use xtask::data::DEMO_TOKEN;
use xtask::server::{Background, Config};

const INSTANCE: &str = "demo.sourcegraph.example";

/// One mock for the whole file (a fault's counter is per `<opts>` string, so tests don't mix).
fn mock() -> &'static str {
    static URL: OnceLock<(String, Background)> = OnceLock::new();
    &URL.get_or_init(|| {
        let site = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-fetch-site");
        std::fs::create_dir_all(&site).unwrap();
        let server = Background::start(([127, 0, 0, 1], 0).into(), &Config::mock(&site)).unwrap();
        (server.url(), server)
    })
    .0
}

/// A base URL selecting the mock's dataset and fault; unique per test.
fn base(opts: &str, id: &str) -> String {
    format!("{}/_mock/users=6;days=20;{opts};id={id}", mock())
}

/// How many API requests the mock saw for a base URL.
fn hits(base: &str) -> u64 {
    let body = ureq::get(&format!("{base}/_hits"))
        .call()
        .unwrap()
        .into_body()
        .read_to_string()
        .unwrap();
    serde_json::from_str::<serde_json::Value>(&body).unwrap()["hits"]
        .as_u64()
        .unwrap()
}

/// The export as the mock serves it, fetched directly (fault-free base URL).
fn direct(base: &str, query: &str) -> String {
    ureq::get(&format!(
        "{base}/api/reports/by-user-client-date?instanceURL={INSTANCE}{query}"
    ))
    .header("Authorization", &format!("Bearer {DEMO_TOKEN}"))
    .call()
    .unwrap()
    .into_body()
    .read_to_string()
    .unwrap()
}

fn cli() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sg-analytics"));
    // Only 127.0.0.1 is ever asked: no proxy from the environment in between.
    for var in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        c.env_remove(var);
    }
    c.env("SG_ANALYTICS_TOKEN", DEMO_TOKEN);
    c
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

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
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
    let path = temp("kept.csv");
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
        .filter(|n| n.ends_with(".part"))
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
