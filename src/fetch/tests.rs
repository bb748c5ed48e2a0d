//! The session against a scripted transport: servers that cut, stall, fail and lie (sizes,
//! statuses, encodings, `Retry-After`, redirects, HTML, windows with rows outside their dates),
//! at every step.

use std::cell::RefCell;
use std::rc::Rc;

use super::plan::tests::options;
use super::*;
use crate::{Query, Table};

const TOKEN: &str = "sgp_test_token_1";

/// One piece of a scripted answer's body.
#[derive(Clone, Debug)]
enum Piece {
    Bytes(Vec<u8>),
    /// Nothing arrives for this long.
    Gap(f64),
    /// The connection is lost.
    Broken,
}

/// A scripted answer: its head (`None`: unreachable) and its body.
#[derive(Clone, Debug)]
struct Reply {
    head: Option<Head>,
    body: Vec<Piece>,
}

fn ok(body: &[u8]) -> Reply {
    Reply {
        head: Some(Head::new(200).content_type("text/csv; charset=utf-8")),
        body: vec![Piece::Bytes(body.to_vec())],
    }
}

fn chunked(body: &[u8], size: usize) -> Reply {
    Reply {
        body: body
            .chunks(size.max(1))
            .map(|c| Piece::Bytes(c.to_vec()))
            .collect(),
        ..ok(b"")
    }
}

fn status(code: u16, body: &str) -> Reply {
    Reply {
        head: Some(Head::new(code).content_type("text/plain")),
        body: vec![Piece::Bytes(body.as_bytes().to_vec())],
    }
}

/// What a scripted run saw.
#[derive(Default)]
struct Trace {
    requests: Vec<Request>,
    waits: Vec<(f64, String)>,
    progress: Vec<Progress>,
    /// Pieces of bodies the session asked for.
    pieces_read: usize,
    /// The clock at the end.
    now: f64,
}

/// Runs a session against `server` (given each request's index and the request).
fn run(
    o: &FetchOptions,
    parts: Parts,
    mut server: impl FnMut(usize, &Request) -> Reply,
) -> (Result<Fetched, FetchError>, Trace) {
    run_with(FetchSession::new(o, parts, 42).unwrap(), &mut server)
}

fn run_with(
    mut session: FetchSession,
    server: &mut dyn FnMut(usize, &Request) -> Reply,
) -> (Result<Fetched, FetchError>, Trace) {
    let mut t = Trace {
        now: 1_000_000.0,
        ..Trace::default()
    };
    let mut body: std::collections::VecDeque<Piece> = Default::default();
    for _ in 0..1_000_000 {
        match session.poll(t.now) {
            Step::Send(request) => {
                let reply = server(t.requests.len(), &request);
                t.requests.push(request);
                body = reply.body.into();
                match reply.head {
                    Some(head) => session.response(head, t.now),
                    None => session.failed(Failure::Unreachable(Some("refused".into())), t.now),
                }
            }
            Step::Read { until_ms } => match body.pop_front() {
                Some(Piece::Bytes(b)) => {
                    t.pieces_read += 1;
                    session.chunk(&b, t.now);
                }
                Some(Piece::Gap(ms)) if t.now + ms > until_ms => {
                    // The transport's timer fires at the deadline; the rest of the gap is left.
                    let left = t.now + ms - until_ms;
                    t.now = until_ms.max(t.now);
                    body.push_front(Piece::Gap(left));
                    session.failed(Failure::TimedOut, t.now);
                }
                Some(Piece::Gap(ms)) => t.now += ms,
                Some(Piece::Broken) => session.failed(Failure::Broken, t.now),
                None => session.end(t.now),
            },
            Step::Wait { ms, note } => {
                assert!(!note.contains(TOKEN));
                t.waits.push((ms, note));
                t.now += ms;
                body.clear();
            }
            Step::Progress(p) => t.progress.push(p),
            Step::Done => return (session.finish(), t),
        }
    }
    panic!("the session never finished");
}

fn export(rows: usize, start_day: u32) -> String {
    let mut csv = String::from("Instance user ID,Timestamp Date,Client Name,Searches\n");
    for i in 0..rows {
        csv += &format!(
            "{},2025-01-{:02},\"vs,code\",{}\n",
            i % 7,
            start_day + (i as u32 % 3),
            i
        );
    }
    csv
}

fn summary(t: &Table) -> String {
    t.summarize(&Query::default()).unwrap().to_json()
}

fn report(r: Result<Fetched, FetchError>) -> Table {
    r.unwrap().report.unwrap()
}

#[test]
fn an_export_streams_into_the_report_at_any_chunking_with_the_token_only_in_its_header() {
    let csv = export(40, 1);
    let want = summary(&Table::from_bytes(csv.as_bytes()).unwrap());
    for size in [1, 2, 3, 7, 64, 4096] {
        let (r, t) = run(&options(None, None), Parts::REPORT, |_, _| {
            chunked(csv.as_bytes(), size)
        });
        assert_eq!(summary(&report(r)), want, "chunks of {size}");
        assert_eq!(t.requests.len(), 1);
        let request = &t.requests[0];
        assert!(!request.url.contains(TOKEN));
        assert!(request
            .headers
            .contains(&("Authorization", format!("Bearer {TOKEN}"))));
    }
}

#[test]
fn rate_limits_wait_as_retry_after_asks_and_back_off_without_it() {
    let csv = export(5, 1);
    let (r, t) = run(&options(None, None), Parts::REPORT, |i, _| match i {
        0 => Reply {
            head: Some(Head::new(429).retry_after("2")),
            body: vec![],
        },
        1 => status(503, "down"),
        _ => ok(csv.as_bytes()),
    });
    assert_eq!(report(r).rows(), 5);
    assert_eq!(t.requests.len(), 3);
    assert_eq!(t.waits[0].0, 2000.0);
    assert!(
        t.waits[0]
            .1
            .contains("the API answered 429; retrying in 2.0 s (retry 1 of 3)"),
        "{}",
        t.waits[0].1
    );
    // No Retry-After: the second backoff, 1 s plus up to 1 s of jitter.
    assert!((1000.0..=2000.0).contains(&t.waits[1].0), "{:?}", t.waits);
    // An HTTP date: the time until then.
    let (r, t) = run(&options(None, None), Parts::REPORT, |i, _| match i {
        0 => Reply {
            head: Some(Head::new(503).retry_after("Thu, 01 Jan 1970 00:16:45 GMT")),
            body: vec![],
        },
        _ => ok(csv.as_bytes()),
    });
    assert!(r.is_ok());
    // 16:45 is 1 005 000 ms after the epoch; the clock starts at 1 000 000.
    assert_eq!(t.waits[0].0, 5000.0);
}

#[test]
fn failing_statuses_are_retried_as_allowed_then_reported_with_the_servers_words() {
    let o = FetchOptions {
        max_retries: Some(2.0),
        ..options(None, None)
    };
    let (r, t) = run(&o, Parts::REPORT, |_, _| {
        status(500, &format!("internal error for {TOKEN}"))
    });
    let e = r.unwrap_err();
    assert_eq!(t.requests.len(), 3, "one request and two retries");
    assert_eq!((e.code, e.status), (FetchCode::ServerError, Some(500)));
    assert!(
        e.message
            .contains("The server said: internal error for [token]"),
        "{e}"
    );
    for (code, want) in [
        (400, FetchCode::BadRequest),
        (401, FetchCode::Unauthorized),
        (403, FetchCode::Forbidden),
        (404, FetchCode::NotFound),
        (302, FetchCode::Redirected),
        (418, FetchCode::HttpError),
    ] {
        let (r, t) = run(&options(None, None), Parts::REPORT, |_, _| status(code, ""));
        assert_eq!(r.unwrap_err().code, want);
        assert_eq!(t.requests.len(), 1, "{code} is not retried");
    }
}

#[test]
fn an_error_answer_is_read_no_further_than_its_hint() {
    let (r, t) = run(&options(None, None), Parts::REPORT, |_, _| Reply {
        body: vec![Piece::Bytes(vec![b'x'; 600]); 1000],
        ..status(400, "")
    });
    assert_eq!(r.unwrap_err().code, FetchCode::BadRequest);
    assert!(t.pieces_read <= 2, "{} pieces read", t.pieces_read);
}

#[test]
fn html_pages_and_unreachable_apis_are_errors_without_retries() {
    let (r, t) = run(&options(None, None), Parts::REPORT, |_, _| Reply {
        head: Some(Head::new(200).content_type("text/HTML; charset=utf-8")),
        body: vec![Piece::Bytes(b"<html>Sign in</html>".to_vec())],
    });
    let e = r.unwrap_err();
    assert_eq!((e.code, t.requests.len()), (FetchCode::NotCsv, 1));
    assert!(e.message.contains("login"), "{e}");
    // A 200 whose body is a page without saying so: not an export either.
    let (r, _) = run(&options(None, None), Parts::REPORT, |_, _| {
        ok(b"<!doctype html><p>hello</p>\n")
    });
    assert_eq!(r.unwrap_err().code, FetchCode::NotCsv);
    let (r, t) = run(&options(None, None), Parts::REPORT, |_, _| Reply {
        head: None,
        body: vec![],
    });
    let e = r.unwrap_err();
    assert_eq!((e.code, t.requests.len()), (FetchCode::Network, 1));
    assert!(e.message.contains("refused"), "{e}");
    let (r, _) = run(&options(None, None), Parts::REPORT, |_, _| ok(b""));
    assert_eq!(r.unwrap_err().code, FetchCode::NotCsv);
}

#[test]
fn a_body_cut_after_any_byte_is_fetched_again_from_its_start() {
    let csv = export(12, 1);
    let want = summary(&Table::from_bytes(csv.as_bytes()).unwrap());
    for cut in 0..csv.len() {
        let (r, t) = run(&options(None, None), Parts::REPORT, |i, _| match i {
            0 => Reply {
                body: vec![Piece::Bytes(csv.as_bytes()[..cut].to_vec()), Piece::Broken],
                ..ok(b"")
            },
            _ => ok(csv.as_bytes()),
        });
        assert_eq!(summary(&report(r)), want, "cut at {cut}");
        assert_eq!(t.requests.len(), 2);
        assert!(t.waits[0].1.contains("the export was cut short"));
    }
    let (r, t) = run(&options(None, None), Parts::REPORT, |_, _| Reply {
        body: vec![Piece::Bytes(csv.as_bytes()[..100].to_vec()), Piece::Broken],
        ..ok(b"")
    });
    let e = r.unwrap_err();
    assert_eq!((e.code, t.requests.len()), (FetchCode::CutShort, 4));
}

#[test]
fn a_body_that_ends_cleanly_inside_a_record_or_short_of_its_length_is_cut() {
    let csv = export(3, 1);
    // Inside a quoted cell: the clean end is a lie.
    let inside = &csv.as_bytes()[..csv.find("vs,").unwrap() + 2];
    let (r, _) = run(&options(None, None), Parts::REPORT, |_, _| ok(inside));
    assert_eq!(r.unwrap_err().code, FetchCode::CutShort);
    // Fewer bytes than announced.
    let long = (csv.len() + 1).to_string();
    let (r, _) = run(&options(None, None), Parts::REPORT, |_, _| Reply {
        head: Some(
            Head::new(200)
                .content_type("text/csv")
                .content_length(&long),
        ),
        ..ok(csv.as_bytes())
    });
    assert_eq!(r.unwrap_err().code, FetchCode::CutShort);
    // An encoded body's length counts its compressed bytes: no floor for the decoded ones.
    let (r, _) = run(&options(None, None), Parts::REPORT, |_, _| Reply {
        head: Some(
            Head::new(200)
                .content_type("text/csv")
                .content_length("999999")
                .content_encoding("gzip"),
        ),
        ..ok(csv.as_bytes())
    });
    assert_eq!(report(r).rows(), 3);
    // No number at all: no floor.
    for length in ["lots", "-1", ""] {
        let (r, _) = run(&options(None, None), Parts::REPORT, |_, _| Reply {
            head: Some(
                Head::new(200)
                    .content_type("text/csv")
                    .content_length(length),
            ),
            ..ok(csv.as_bytes())
        });
        assert_eq!(report(r).rows(), 3, "{length}");
    }
}

#[test]
fn a_stalled_or_trickling_body_is_given_up_after_the_idle_time_and_retried() {
    let csv = export(30, 1);
    let o = FetchOptions {
        idle_timeout_secs: Some(10.0),
        max_retries: Some(1.0),
        ..options(None, None)
    };
    let half = csv.len() / 2;
    // Silence past the idle time, then a good answer.
    let (r, t) = run(&o, Parts::REPORT, |i, _| match i {
        0 => Reply {
            body: vec![
                Piece::Bytes(csv.as_bytes()[..half].to_vec()),
                Piece::Gap(3_600_000.0),
            ],
            ..ok(b"")
        },
        _ => ok(csv.as_bytes()),
    });
    assert_eq!(report(r).rows(), 30);
    assert!(t.waits[0].1.contains("the export stalled"), "{:?}", t.waits);
    // A byte every 6 s never leaves a gap of 10 s, but brings far less than 16 KiB in 10 s.
    let trickle: Vec<Piece> = csv
        .bytes()
        .flat_map(|b| [Piece::Gap(6000.0), Piece::Bytes(vec![b])])
        .collect();
    let (r, t) = run(&o, Parts::REPORT, |_, _| Reply {
        body: trickle.clone(),
        ..ok(b"")
    });
    let e = r.unwrap_err();
    assert_eq!((e.code, t.requests.len()), (FetchCode::Stalled, 2));
    assert!(e.message.contains("in 10 s"), "{e}");
    // Bounded: two attempts of at most about the idle time each, and one wait.
    let spent = t.now - 1_000_000.0;
    assert!(spent <= 2.0 * 16_000.0 + t.waits[0].0, "{spent} ms");
    // No answer at all within the idle time.
    let (r, _) = run(&o, Parts::REPORT, |_, _| Reply {
        body: vec![Piece::Gap(1e9)],
        ..ok(b"")
    });
    assert_eq!(r.unwrap_err().code, FetchCode::Stalled);
}

#[test]
fn a_timer_that_fires_while_the_body_moves_is_ignored() {
    let csv = export(5, 1);
    let mut session = FetchSession::new(&options(None, None), Parts::REPORT, 1).unwrap();
    assert!(matches!(session.poll(0.0), Step::Send(_)));
    session.response(Head::new(200).content_type("text/csv"), 0.0);
    session.chunk(&csv.as_bytes()[..10], 0.0);
    session.failed(Failure::TimedOut, 5.0);
    session.chunk(&csv.as_bytes()[10..], 6.0);
    session.end(7.0);
    while !matches!(session.poll(8.0), Step::Done) {}
    assert_eq!(report(session.finish()).rows(), 5);
}

fn windowed(start: &str, end: &str) -> FetchOptions {
    FetchOptions {
        month_windows: true,
        granularity: Some("by_user_day".into()),
        ..options(Some(start), Some(end))
    }
}

/// The rows of `csv` whose date is in the request's `startDate..=endDate`, as a server that
/// keeps to them answers.
fn keep_dates(csv: &str, request: &Request) -> String {
    let param = |name: &str| {
        let at = request.url.find(&format!("{name}="))? + name.len() + 1;
        Some(request.url[at..at + 10].to_string())
    };
    let (start, end) = (param("startDate").unwrap(), param("endDate").unwrap());
    let mut lines = csv.lines();
    let mut out = format!("{}\n", lines.next().unwrap());
    for line in lines {
        let date = line.split(',').nth(1).unwrap();
        if date >= start.as_str() && date <= end.as_str() {
            out += line;
            out += "\n";
        }
    }
    out
}

fn dated_export() -> String {
    let mut csv = String::from("Instance user ID,Timestamp Date,Searches\n");
    for (i, day) in [
        "2025-01-20",
        "2025-01-31",
        "2025-02-01",
        "2025-02-14",
        "2025-03-02",
    ]
    .iter()
    .enumerate()
    {
        csv += &format!("{i},{day},{}\n", i + 1);
    }
    csv
}

/// The export's copy, as the CLI keeps it.
#[derive(Clone, Default)]
struct Copy(Rc<RefCell<Vec<u8>>>);

impl ExportCopy for Copy {
    fn restart(&mut self) -> Result<(), String> {
        self.0.borrow_mut().clear();
        Ok(())
    }
    fn write(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.0.borrow_mut().extend_from_slice(bytes);
        Ok(())
    }
}

#[test]
fn month_windows_join_into_one_report_and_a_bad_window_is_fetched_again_alone() {
    let csv = dated_export();
    let o = windowed("2025-01-15", "2025-03-05");
    let mut session = FetchSession::new(&o, Parts::REPORT, 3).unwrap();
    let copy = Copy::default();
    session.copy_export(Box::new(copy.clone()));
    // The second window first comes back with every row, as from a proxy that drops the dates.
    let (r, t) = run_with(session, &mut |i, request| match i {
        1 => ok(csv.as_bytes()),
        _ => chunked(keep_dates(&csv, request).as_bytes(), 5),
    });
    let table = report(r);
    assert_eq!(
        summary(&table),
        summary(&Table::from_bytes(csv.as_bytes()).unwrap())
    );
    assert_eq!(t.requests.len(), 4, "three windows, the second one twice");
    assert!(t.requests[1]
        .url
        .contains("startDate=2025-02-01&endDate=2025-02-28"));
    assert_eq!(t.requests[1].url, t.requests[2].url);
    assert!(t.waits[0].1.contains("outside its dates"), "{:?}", t.waits);
    // The copy: one header, each window's rows once.
    assert_eq!(String::from_utf8(copy.0.take()).unwrap(), csv);
    // Progress names the windows, and its last report has every row.
    assert!(t.progress.iter().any(|p| p.window == Some((3, 3))));
    assert_eq!(t.progress.last().unwrap().rows, 5);
}

#[test]
fn a_window_cut_after_any_byte_is_fetched_again_without_touching_the_report() {
    let csv = dated_export();
    let o = windowed("2025-01-15", "2025-02-28");
    let want = summary(
        &Table::from_bytes(
            keep_dates(
                &csv,
                &Request {
                    url: "startDate=2025-01-15&endDate=2025-02-28".into(),
                    headers: vec![],
                },
            )
            .as_bytes(),
        )
        .unwrap(),
    );
    let second = Request {
        url: "startDate=2025-02-01&endDate=2025-02-28".into(),
        headers: vec![],
    };
    let body = keep_dates(&csv, &second);
    for cut in 0..body.len() {
        let (r, t) = run(&o, Parts::REPORT, |i, request| match i {
            1 => Reply {
                body: vec![Piece::Bytes(body.as_bytes()[..cut].to_vec()), Piece::Broken],
                ..ok(b"")
            },
            _ => ok(keep_dates(&csv, request).as_bytes()),
        });
        assert_eq!(summary(&report(r)), want, "cut at {cut}");
        assert_eq!(t.requests.len(), 3);
    }
}

#[test]
fn a_window_that_comes_back_empty_or_keeps_lying_is_an_error_not_a_partial_report() {
    let csv = dated_export();
    let o = FetchOptions {
        max_retries: Some(1.0),
        ..windowed("2025-01-15", "2025-02-28")
    };
    let (r, t) = run(&o, Parts::REPORT, |i, request| match i {
        0 => ok(keep_dates(&csv, request).as_bytes()),
        _ => ok(b"\r\n"),
    });
    let e = r.unwrap_err();
    assert_eq!((e.code, t.requests.len()), (FetchCode::BadWindow, 3));
    assert!(
        e.message
            .contains("2025-02-01 to 2025-02-28 came back empty"),
        "{e}"
    );
    let (r, _) = run(&o, Parts::REPORT, |_, _| ok(csv.as_bytes()));
    let e = r.unwrap_err();
    assert_eq!(e.code, FetchCode::BadWindow);
    assert!(e.message.contains("2025-02-01 (line 4)"), "{e}");
}

fn registry_csv() -> &'static [u8] {
    b"Instance user ID,Service Account,Site Admin\n0,true,false\n1,false,true\n"
}

#[test]
fn the_registry_and_the_credits_follow_the_export_and_their_failure_is_only_reported() {
    let csv = export(5, 1);
    let all = Parts {
        report: true,
        registry: true,
        credits: true,
    };
    let (r, t) = run(&options(Some("2025-01-01"), None), all, |_, request| {
        if request.url.contains("/user-registry") {
            ok(registry_csv())
        } else if request.url.contains("/api/credits") {
            Reply {
                head: Some(Head::new(200).content_type("application/json")),
                body: vec![Piece::Bytes(
                    br#"{"buckets":[{"month":"2025-01"}]}"#.to_vec(),
                )],
            }
        } else {
            ok(csv.as_bytes())
        }
    });
    let fetched = r.unwrap();
    assert_eq!(t.requests.len(), 3);
    assert!(
        t.requests[2].url.contains("/api/credits?")
            && t.requests[2].url.contains("startDate=2025-01-01")
    );
    assert_eq!(fetched.report.unwrap().rows(), 5);
    let (registry, body) = fetched.registry.unwrap().unwrap();
    assert_eq!((registry.len(), body.as_slice()), (2, registry_csv()));
    assert_eq!(
        fetched.credits.unwrap().unwrap().0["buckets"][0]["month"],
        "2025-01"
    );
    // Failing extras: the export still comes; the credits are retried once at most.
    let (r, t) = run(&options(None, None), all, |_, request| {
        if request.url.contains("/user-registry") {
            status(403, "")
        } else if request.url.contains("/api/credits") {
            status(500, "")
        } else {
            ok(csv.as_bytes())
        }
    });
    let fetched = r.unwrap();
    assert_eq!(t.requests.len(), 4, "export, registry, credits twice");
    assert_eq!(fetched.report.unwrap().rows(), 5);
    assert_eq!(
        fetched.registry.unwrap().unwrap_err().code,
        FetchCode::Forbidden
    );
    assert_eq!(
        fetched.credits.unwrap().unwrap_err().code,
        FetchCode::ServerError
    );
    // The export failing fails the session, and nothing after it is asked.
    let (r, t) = run(&options(None, None), all, |_, _| status(401, ""));
    assert_eq!(
        (r.unwrap_err().code, t.requests.len()),
        (FetchCode::Unauthorized, 1)
    );
}

#[test]
fn alone_the_registry_or_the_credits_fail_the_session_and_csv_credits_become_objects() {
    let (r, _) = run(&options(None, None), Parts::REGISTRY, |_, _| {
        ok(b"a,b\n1,2\n")
    });
    assert_eq!(r.unwrap_err().code, FetchCode::InvalidInput);
    let (r, _) = run(&options(None, None), Parts::REGISTRY, |_, _| {
        ok(&registry_csv()[..50])
    });
    assert_eq!(r.unwrap_err().code, FetchCode::CutShort);
    let (r, _) = run(&options(None, None), Parts::CREDITS, |_, _| {
        ok(b"month,creditsUsed\n2025-01,12\n")
    });
    let credits = r.unwrap().credits.unwrap().unwrap().0;
    assert_eq!(credits[0]["creditsUsed"], "12");
    let (r, t) = run(&options(None, None), Parts::CREDITS, |_, _| status(502, ""));
    assert_eq!(r.unwrap_err().code, FetchCode::ServerError);
    assert_eq!(t.requests.len(), 4, "alone, the credits get every retry");
}

#[test]
fn the_registry_and_the_credits_are_refused_past_their_limits_counted_decoded() {
    let mega = vec![b'1'; 1 << 20];
    let mut big = b"Instance user ID,Service Account\n".to_vec();
    big.extend_from_slice(&mega);
    let pieces = |n: u64| -> Vec<Piece> { (0..n).map(|_| Piece::Bytes(mega.clone())).collect() };
    // 65 MiB of registry, announced as 100 compressed bytes.
    let (r, t) = run(&options(None, None), Parts::REGISTRY, |_, _| Reply {
        head: Some(
            Head::new(200)
                .content_type("text/csv")
                .content_encoding("gzip")
                .content_length("100"),
        ),
        body: pieces(65),
    });
    let e = r.unwrap_err();
    assert_eq!((e.code, t.requests.len()), (FetchCode::TooLarge, 1));
    assert!(e.message.contains("64 MiB"), "{e}");
    assert_eq!(t.pieces_read, 65, "read up to the limit, no further");
    let (r, _) = run(&options(None, None), Parts::CREDITS, |_, _| Reply {
        body: pieces(17),
        ..ok(b"")
    });
    assert_eq!(r.unwrap_err().code, FetchCode::TooLarge);
}

#[test]
fn progress_comes_on_the_first_chunk_then_at_most_every_100_ms_and_at_the_end() {
    let csv = export(50, 1);
    let pieces: Vec<Piece> = csv
        .as_bytes()
        .chunks(10)
        .flat_map(|c| [Piece::Bytes(c.to_vec()), Piece::Gap(30.0)])
        .collect();
    let (r, t) = run(&options(None, None), Parts::REPORT, |_, _| Reply {
        body: pieces.clone(),
        ..ok(b"")
    });
    assert!(r.is_ok());
    let p = &t.progress;
    assert_eq!(p[0].bytes, 10, "the first chunk");
    // Chunks every 30 ms: one report in four at most.
    let chunks = csv.len().div_ceil(10);
    assert!(
        p.len() <= chunks / 3 + 2,
        "{} reports for {chunks} chunks",
        p.len()
    );
    assert!(p.windows(2).all(|w| w[0].bytes <= w[1].bytes));
    let last = p.last().unwrap();
    assert_eq!((last.bytes, last.rows), (csv.len() as u64, 50));
}

#[test]
fn a_copy_of_the_export_restarts_with_each_attempt() {
    let csv = export(8, 1);
    let mut session = FetchSession::new(&options(None, None), Parts::REPORT, 5).unwrap();
    let copy = Copy::default();
    session.copy_export(Box::new(copy.clone()));
    let (r, _) = run_with(session, &mut |i, _| match i {
        0 => Reply {
            body: vec![Piece::Bytes(csv.as_bytes()[..70].to_vec()), Piece::Broken],
            ..ok(b"")
        },
        _ => chunked(csv.as_bytes(), 9),
    });
    assert!(r.is_ok());
    assert_eq!(copy.0.take(), csv.as_bytes());
}

#[test]
fn options_and_tokens_are_checked_before_anything_is_sent() {
    let no_token = FetchOptions {
        token: " \n".into(),
        ..options(None, None)
    };
    assert!(FetchSession::new(&no_token, Parts::REPORT, 1).is_err());
    let nothing = Parts {
        report: false,
        registry: false,
        credits: false,
    };
    assert!(FetchSession::new(&options(None, None), nothing, 1).is_err());
    let e = FetchSession::new(
        &FetchOptions {
            token: format!("Bearer {TOKEN}"),
            ..options(None, None)
        },
        Parts::REPORT,
        1,
    )
    .err()
    .unwrap();
    assert!(!e.message.contains(TOKEN), "{e}");
}
