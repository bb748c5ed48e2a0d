//! The summary computed chunk by chunk (`SummaryStream`, what the CLI runs in bounded memory)
//! is the summary of the whole table: on every fixture, for every kind of query, chunks of any
//! size; and on random exports and queries.
#![cfg(not(target_arch = "wasm32"))]

mod common;
#[path = "common/row_cells.rs"]
mod row_cells;

use proptest::prelude::*;
use row_cells::{cells, Cells};
use serde_json::{json, Value};
use sg_analytics::{Chunk, ChunkEnd, Chunker, Error, Query, SummaryStream, Table};

/// The whole table's answer (or its error).
fn in_memory(bytes: &[u8], query: &Query) -> Result<Value, String> {
    let table = Table::from_bytes(bytes).map_err(|e| e.to_string())?;
    let summary = table.summarize(query).map_err(|e| e.to_string())?;
    Ok(summary.to_value())
}

/// `bytes` read into chunks of `rows` rows, pushed `piece` bytes at a time, each full chunk
/// handed to `add`: gives the last chunk and how the input ended.
fn chunked(
    bytes: &[u8],
    rows: usize,
    piece: usize,
    mut add: impl FnMut(Chunk) -> Result<(), Error>,
) -> Result<(Chunk, ChunkEnd), String> {
    let mut chunker = Chunker::new(rows);
    for part in bytes.chunks(piece.max(1)) {
        if let Some(chunk) = chunker.push(part).map_err(|e| e.to_string())? {
            add(chunk).map_err(|e| e.to_string())?;
        }
    }
    chunker.finish().map_err(|e| e.to_string())
}

/// The answer read in chunks of `rows` rows, the bytes pushed `piece` at a time.
fn streamed(bytes: &[u8], query: &Query, rows: usize, piece: usize) -> Result<Value, String> {
    let mut summary = SummaryStream::new(query);
    let (last, end) = chunked(bytes, rows, piece, |chunk| summary.add(chunk))?;
    let summary = summary.finish(last, end).map_err(|e| e.to_string())?;
    Ok(summary.to_value())
}

fn query(value: Value) -> Query {
    serde_json::from_value(value).unwrap()
}

/// Queries of every kind the CLI streams: no keys, each key, nested keys, sorts by keys and by
/// metrics, pages, filters, minutes.
fn queries() -> Vec<Query> {
    [
        json!({}),
        json!({"groupBy": ["month"]}),
        json!({"groupBy": ["week"]}),
        json!({"groupBy": ["day"]}),
        json!({"groupBy": ["user"]}),
        json!({"groupBy": ["client"]}),
        json!({"groupBy": ["language"]}),
        json!({"groupBy": ["user", "month"]}),
        json!({"groupBy": ["month", "client", "language"]}),
        json!({"groupBy": ["user"], "sort": {"by": "firstActive", "desc": true}}),
        json!({"groupBy": ["user"], "sort": {"by": "hoursSaved", "desc": true}, "limit": 3, "offset": 1}),
        json!({"groupBy": ["client"], "sort": {"by": "activeUsers"}, "limit": 2}),
        json!({"groupBy": ["month"], "filter": {"from": "2025-01-15", "to": "2025-02-20"}}),
        json!({"groupBy": ["day"], "filter": {"activeOnly": true, "clients": ["VSCODE.cody"]}}),
        json!({"filter": {"users": ["101", "user3"], "userSearch": "user"}}),
        json!({"groupBy": ["week"], "minutesSaved": {"chat": 7, "completions": 0.5}}),
        json!({"metrics": ["users", "avgDau", "Chat Events"], "groupBy": ["language"]}),
        json!({"groupBy": ["nonsense"]}),
        json!({"filter": {"from": "2025-03-01", "to": "2025-01-01"}}),
    ]
    .into_iter()
    .map(query)
    .collect()
}

/// Chunks of so many rows, the bytes pushed so many at a time.
const CUTS: [(usize, usize); 5] = [
    (1, 1 << 16),
    (2, 7),
    (5, 1 << 16),
    (64, 300),
    (1 << 19, 1 << 16),
];

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for dir in ["tests/fixtures", "tests/fixtures/hostile"] {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_file() {
                out.push((path.display().to_string(), std::fs::read(&path).unwrap()));
            }
        }
    }
    out.sort();
    assert!(out.len() >= 10, "the fixtures are there");
    out
}

#[test]
fn every_fixture_and_query_streams_to_the_whole_tables_answer() {
    for (name, bytes) in fixtures() {
        for q in queries() {
            let whole = in_memory(&bytes, &q);
            for (rows, piece) in CUTS {
                let chunked = streamed(&bytes, &q, rows, piece);
                assert_eq!(
                    chunked, whole,
                    "{name}, {q:?}, chunks of {rows} rows, pushed {piece} bytes at a time"
                );
            }
        }
    }
}

#[test]
fn a_column_typed_by_all_its_chunks_and_scales_that_grow_between_chunks() {
    // `x` is numbers in the first chunks and text in the last: text for the whole input (no
    // metric); `y` has more decimals in a later chunk; `z` is numbers, one negative.
    let csv = b"Instance user ID,Timestamp Date,Chat Events,x,y,z,Weighted CAR,Combined Completion Suggestions\n\
1,2025-01-01,1,5,1,-2,0.5,10\n2,2025-01-02,2,6,2,3,0.25,4\n3,2025-01-03,3,oops,0.125,4,0.125,8\n\
1,2025-01-04,,7,10.5,,1,0\n";
    for q in queries() {
        let whole = in_memory(csv, &q);
        for rows in 1..5 {
            assert_eq!(
                streamed(csv, &q, rows, 1 << 10),
                whole,
                "{q:?}, {rows} rows"
            );
        }
    }
    let whole = in_memory(csv, &Query::default()).unwrap();
    assert!(whole["totals"].get("x").is_none(), "x is text: {whole}");
    assert_eq!(whole["totals"]["y"], json!(13.625));
    assert_eq!(
        whole["warningsTotal"],
        json!(1),
        "the negative count in z: {whole}"
    );
}

// A random export in the shape of the export (users, days across months, clients, languages,
// counts, rates with varying decimals), in any row order.
#[derive(Clone, Debug)]
struct GenRow {
    user: u8,
    day: u8,
    cells: Cells<Option<bool>>,
    decimals: usize,
}

const CLIENTS: [&str; 3] = ["vscode.cody", "jetbrains.cody", "VSCODE.cody"];
const LANGUAGES: [&str; 3] = ["go", "", "Go"];

fn row() -> impl Strategy<Value = GenRow> {
    (
        0u8..12,
        0u8..70,
        cells(proptest::option::of(any::<bool>())),
        0usize..6,
    )
        .prop_map(|(user, day, cells, decimals)| GenRow {
            user,
            day,
            cells,
            decimals,
        })
}

fn to_csv(rows: &[GenRow]) -> Vec<u8> {
    let days = common::days("2025-01-20", "2025-03-30");
    let mut out = String::from("Instance user ID,User Email,Active Sourcegraph User,Client Name,Timestamp Date,Language,Chat Events,Combined Completion Suggestions,Combined Completion Acceptances,Combined CAR,Weighted CAR,Agent rate\n");
    for r in rows {
        let (u, accepted) = (&r.cells, r.cells.accepted());
        let share = f64::from(u.accepted_share) / 100.0;
        out += &format!(
            "{},u{}@example.com,{},{},{},{},{},{},{},{:.*},{:.*},{}\n",
            100 + u32::from(r.user),
            r.user,
            u.active.map_or(String::new(), |a| a.to_string()),
            CLIENTS[u.client],
            days[usize::from(r.day)],
            LANGUAGES[u.language],
            u.chats.map_or(String::new(), |c| c.to_string()),
            u.suggestions,
            accepted,
            r.decimals,
            share,
            r.decimals,
            share,
            u.chats
                .map_or(String::new(), |c| format!("{}.{}", c / 10, c % 10)),
        );
    }
    out.into_bytes()
}

fn random_query() -> impl Strategy<Value = Query> {
    let keys = prop::sample::subsequence(
        vec!["user", "day", "week", "month", "client", "language"],
        0..3,
    );
    let sort = prop::sample::select(vec![
        None,
        Some("users"),
        Some("avgDau"),
        Some("avgDaysActivePerUser"),
        Some("Combined CAR"),
        Some("Weighted CAR"),
        Some("Agent rate"),
        Some("email"),
        Some("lastActive"),
        Some("month"),
    ]);
    (
        keys,
        sort,
        any::<bool>(),
        0u8..70,
        0u8..40,
        any::<bool>(),
        proptest::option::of(0usize..6),
        0usize..3,
    )
        .prop_map(|(keys, sort, desc, from, len, active, limit, offset)| {
            let days = common::days("2025-01-20", "2025-03-30");
            let mut q = json!({"groupBy": keys});
            if let Some(by) = sort {
                q["sort"] = json!({"by": by, "desc": desc});
            }
            if len < 30 {
                let to = (usize::from(from) + usize::from(len)).min(days.len() - 1);
                q["filter"] =
                    json!({"from": days[usize::from(from)], "to": days[to], "activeOnly": active});
            }
            if let Some(limit) = limit {
                q["limit"] = json!(limit);
                q["offset"] = json!(offset);
            }
            query(q)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn random_exports_stream_to_the_whole_tables_answer(
        rows in proptest::collection::vec(row(), 0..150),
        q in random_query(),
        chunk in 1usize..60,
        piece in 1usize..400,
    ) {
        let csv = to_csv(&rows);
        prop_assert_eq!(streamed(&csv, &q, chunk, piece), in_memory(&csv, &q));
    }
}

/// Bytes that make hostile CSV: quotes, separators, numbers past every width, bad dates.
fn hostile_input() -> impl Strategy<Value = Vec<u8>> {
    let header = prop::sample::select(vec![
        "Instance user ID,Active Sourcegraph User,Client Name,Timestamp Date,Language,Chat Events,Combined CAR,Combined Completion Suggestions,Combined Completion Acceptances,Weighted CAR,x\n",
        "User Email,Timestamp Month,Searches,Agent rate\n",
        "Username,Timestamp Date,Searches\r\n",
    ]);
    let piece = prop::sample::select(vec![
        ",",
        "\n",
        "\r\n",
        "\"",
        "1",
        "-7",
        "0.5",
        "2.25",
        "99999999999999999999",
        "2025-01-31",
        "2025-02",
        "2025-02-30",
        "true",
        "no",
        "x",
        " ",
        "4294967295",
        "255",
        "65535",
        "9223372036854775807",
        ".000000001",
        "1",
    ]);
    (header, proptest::collection::vec(piece, 0..300)).prop_map(|(h, pieces)| {
        let mut bytes = h.as_bytes().to_vec();
        for p in pieces {
            bytes.extend_from_slice(p.as_bytes());
        }
        bytes
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn hostile_exports_stream_to_the_whole_tables_answer(
        bytes in hostile_input(),
        q in random_query(),
        chunk in 1usize..8,
    ) {
        prop_assert_eq!(streamed(&bytes, &q, chunk, 13), in_memory(&bytes, &q));
    }
}

/// The CLI's `summarize --format json` of `bytes` (through stdin) with `threads`.
fn cli_summarize(bytes: &[u8], args: &[&str], threads: &str) -> Value {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_sg-analytics"))
        .args(["summarize", "-", "--format", "json", "--threads", threads])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = bytes.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_cli_streams_the_whole_tables_answer_on_one_two_and_three_threads() {
    // Bytes enough for several of the pieces the CLI cuts the input into (16 MiB).
    let rows: Vec<GenRow> = (0..500_000u32)
        .map(|i| GenRow {
            user: (i / 4000 % 12) as u8,
            day: (i / 7 % 70) as u8,
            cells: Cells {
                client: (i % 3) as usize,
                language: (i / 3 % 3) as usize,
                active: (i % 11 != 0).then_some(i % 5 != 0),
                chats: (i % 13 != 0).then_some((i % 50) as u8),
                suggestions: (i % 400) as u16,
                accepted_share: (i % 101) as u8,
            },
            decimals: (i / 40_000 % 6) as usize,
        })
        .collect();
    let csv = to_csv(&rows);
    let q = query(json!({"groupBy": ["month", "client"], "filter": {"activeOnly": true}}));
    // Through the JSON text, as the CLI's answer comes (serde_json's reading of a float may be
    // off by its last bit: both sides are read alike).
    let whole = Table::from_bytes(&csv)
        .unwrap()
        .summarize(&q)
        .unwrap()
        .to_json();
    let whole: Value = serde_json::from_str(&whole).unwrap();
    assert!(csv.len() > 2 * (16 << 20), "{} bytes", csv.len());
    for threads in ["1", "2", "3"] {
        let cli = cli_summarize(&csv, &["--by", "month,client", "--active-only"], threads);
        assert_eq!(cli, whole, "--threads {threads}");
    }
}

/// The answer read on `threads` threads, the input cut into pieces of about `piece` bytes.
fn threaded(bytes: &[u8], query: &Query, threads: usize, piece: usize) -> Result<Value, String> {
    let mut summary = SummaryStream::new(query);
    let (last, end) = sg_analytics::read_pieces(bytes, threads, piece, |chunk| summary.add(chunk))
        .map_err(|e| e.to_string())?;
    let summary = summary.finish(last, end).map_err(|e| e.to_string())?;
    Ok(summary.to_value())
}

#[test]
fn every_fixture_read_on_several_threads_cut_anywhere_gives_the_whole_tables_answer() {
    let queries = queries();
    for (name, bytes) in fixtures() {
        for q in [&queries[0], &queries[8], &queries[10], &queries[13]] {
            let whole = in_memory(&bytes, q);
            for (threads, piece) in [(1, 1), (2, 1), (2, 7), (3, 64), (2, 1000), (4, 1 << 20)] {
                assert_eq!(
                    threaded(&bytes, q, threads, piece),
                    whole,
                    "{name}, {q:?}, {threads} threads, pieces of {piece} bytes"
                );
            }
        }
    }
}

#[test]
fn quoted_line_breaks_across_the_cuts_are_read_in_order() {
    // Quoted fields with line breaks (LF, CRLF, CR), rows skipped, blank lines, a negative count
    // in an unknown column: wherever the cuts fall, one ingester's rows, warnings and lines.
    let mut csv = String::from("Instance user ID,Timestamp Date,Language,Chat Events,x\r\n");
    for i in 0..300 {
        match i % 7 {
            0 => {
                csv += &format!(
                    "{i},2025-01-{:02},\"multi\nline\",{},-1\n",
                    i % 28 + 1,
                    i % 5
                )
            }
            1 => csv += &format!("{i},2025-02-{:02},\"a\r\nb\",{},2\r\n", i % 28 + 1, i % 3),
            2 => csv += "\n\n",
            3 => csv += &format!("{i},2025-03-01,go\n"),
            4 => csv += &format!("{i},bad,go,{},3\r", i % 9),
            _ => csv += &format!("{i},2025-01-{:02},\"q\"\"uote\",{},4\n", i % 28 + 1, i % 4),
        }
    }
    csv += "7,2025-01-02,\"open to the end\n,1,2\n";
    let bytes = csv.as_bytes();
    for q in [
        query(json!({"groupBy": ["language"]})),
        query(json!({"groupBy": ["user", "day"]})),
    ] {
        let whole = in_memory(bytes, &q).unwrap();
        assert!(whole["warningsTotal"].as_u64().unwrap() > 50, "{whole}");
        for piece in (1..200).step_by(3).chain([500, 1000, 5000]) {
            for threads in [1, 2, 3] {
                assert_eq!(
                    threaded(bytes, &q, threads, piece),
                    Ok(whole.clone()),
                    "{threads} threads, pieces of {piece} bytes"
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(150))]

    #[test]
    fn hostile_exports_read_on_several_threads_give_the_whole_tables_answer(
        bytes in hostile_input(),
        q in random_query(),
        threads in 1usize..4,
        piece in 1usize..200,
    ) {
        prop_assert_eq!(threaded(&bytes, &q, threads, piece), in_memory(&bytes, &q));
    }
}

// Growth and retention chunk by chunk (`ActivityStream`, what the CLI's `growth` and `retention`
// run in bounded memory): the whole table's answers, with its warnings, or its error.

use sg_analytics::{ActivityStream, PeriodAnswer, PeriodQuery};

/// The whole table's growth or retention, its warnings and skipped rows (or its error).
fn period_in_memory(bytes: &[u8], q: &PeriodQuery, answer: PeriodAnswer) -> Result<Value, String> {
    let table = Table::from_bytes(bytes).map_err(|e| e.to_string())?;
    let value = match answer {
        PeriodAnswer::Growth => table.growth(q).map(|a| serde_json::to_value(a).unwrap()),
        PeriodAnswer::Retention => table.retention(q).map(|a| serde_json::to_value(a).unwrap()),
    }
    .map_err(|e| e.to_string())?;
    let info = table.info();
    Ok(json!({
        "answer": value,
        "warnings": serde_json::to_value(&info.warnings).unwrap(),
        "warningsTotal": info.warnings_total,
        "skippedRows": info.input.skipped_rows,
    }))
}

/// The same read on `threads` threads in pieces of `piece` bytes, in chunks of `rows` rows.
fn period_streamed(
    bytes: &[u8],
    q: &PeriodQuery,
    answer: PeriodAnswer,
    rows: usize,
    piece: usize,
) -> Result<Value, String> {
    let mut stream = ActivityStream::new(q, answer);
    let (last, end) = chunked(bytes, rows, piece, |chunk| stream.add(chunk))?;
    period_value(stream, answer, last, end)
}

fn period_value(
    stream: ActivityStream,
    answer: PeriodAnswer,
    last: sg_analytics::Chunk,
    end: sg_analytics::ChunkEnd,
) -> Result<Value, String> {
    let (value, warnings, total, skipped) = match answer {
        PeriodAnswer::Growth => stream.growth(last, end).map(|s| {
            let v = serde_json::to_value(&s.answer).unwrap();
            (v, s.warnings, s.warnings_total, s.skipped_rows)
        }),
        PeriodAnswer::Retention => stream.retention(last, end).map(|s| {
            let v = serde_json::to_value(&s.answer).unwrap();
            (v, s.warnings, s.warnings_total, s.skipped_rows)
        }),
    }
    .map_err(|e| e.to_string())?;
    Ok(json!({
        "answer": value,
        "warnings": serde_json::to_value(&warnings).unwrap(),
        "warningsTotal": total,
        "skippedRows": skipped,
    }))
}

fn period_threaded(
    bytes: &[u8],
    q: &PeriodQuery,
    answer: PeriodAnswer,
    threads: usize,
    piece: usize,
) -> Result<Value, String> {
    let mut stream = ActivityStream::new(q, answer);
    let (last, end) = sg_analytics::read_pieces(bytes, threads, piece, |chunk| stream.add(chunk))
        .map_err(|e| e.to_string())?;
    period_value(stream, answer, last, end)
}

fn period_query(value: Value) -> PeriodQuery {
    serde_json::from_value(value).unwrap()
}

/// Period queries of every kind the CLI streams: weeks and months, the filter's dates (one
/// bound, both, inside a month, reversed), activity, clients, users, the sample minimum.
fn period_queries() -> Vec<PeriodQuery> {
    [
        json!({}),
        json!({"period": "week"}),
        json!({"period": "month", "filter": {"from": "2025-01-15", "to": "2025-02-20"}}),
        json!({"period": "week", "filter": {"from": "2025-01-15"}}),
        json!({"period": "month", "filter": {"to": "2025-02-03"}}),
        json!({"period": "week", "filter": {"activeOnly": true, "clients": ["VSCODE.cody"]}}),
        json!({"filter": {"users": ["101", "user3"], "userSearch": "user"}, "minSample": 2}),
        json!({"filter": {"languages": ["go"]}}),
        json!({"filter": {"from": "2025-03-01", "to": "2025-01-01"}}),
        json!({"filter": {"from": "2031-01-01"}}),
        // Inside the month fixture's months: a month row dated before the filter's first day
        // is kept (its month overlaps) but makes no one active.
        json!({"filter": {"from": "2025-03-15", "to": "2025-05-10"}}),
        json!({"filter": {"from": "2025-04-02"}}),
    ]
    .into_iter()
    .map(period_query)
    .collect()
}

#[test]
fn a_month_row_before_the_filters_first_day_makes_no_one_active_in_chunks_either() {
    let csv = b"Instance user ID,Timestamp Month,Searches\n1,2025-01,3\n2,2025-02,4\n1,2025-03,1\n";
    let q = period_query(json!({"filter": {"from": "2025-01-15"}}));
    for answer in ANSWERS {
        let whole = period_in_memory(csv, &q, answer).unwrap();
        for rows in 1..4 {
            assert_eq!(
                period_streamed(csv, &q, answer, rows, 5),
                Ok(whole.clone()),
                "{answer:?}"
            );
        }
    }
    let growth = period_in_memory(csv, &q, PeriodAnswer::Growth).unwrap();
    assert_eq!(growth["answer"]["periods"][0]["activeUsers"], 0, "{growth}");
}

const ANSWERS: [PeriodAnswer; 2] = [PeriodAnswer::Growth, PeriodAnswer::Retention];

#[test]
fn growth_and_retention_stream_to_the_whole_tables_answers_on_every_fixture() {
    let mut answered = 0;
    for (name, bytes) in fixtures() {
        for q in period_queries() {
            for answer in ANSWERS {
                let whole = period_in_memory(&bytes, &q, answer);
                answered += usize::from(whole.is_ok());
                for (rows, piece) in CUTS {
                    assert_eq!(
                        period_streamed(&bytes, &q, answer, rows, piece),
                        whole,
                        "{name}, {answer:?} {q:?}, chunks of {rows} rows, pushed {piece} bytes"
                    );
                }
                for (threads, piece) in [(2, 1), (3, 64), (2, 1000)] {
                    assert_eq!(
                        period_threaded(&bytes, &q, answer, threads, piece),
                        whole,
                        "{name}, {answer:?} {q:?}, {threads} threads, pieces of {piece} bytes"
                    );
                }
            }
        }
    }
    // Most answer: the comparisons are of answers, not only of errors.
    assert!(answered > 100, "{answered}");
}

fn random_period_query() -> impl Strategy<Value = PeriodQuery> {
    (
        any::<bool>(),
        0u8..70,
        0u8..60,
        0usize..3,
        any::<bool>(),
        prop::sample::select(vec![None, Some(0usize), Some(1), Some(2)]),
    )
        .prop_map(|(week, from, len, bounds, active, client)| {
            let days = common::days("2025-01-20", "2025-03-30");
            let mut filter = json!({"activeOnly": active});
            let to = (usize::from(from) + usize::from(len)).min(days.len() - 1);
            match bounds {
                0 => {}
                1 => filter["from"] = json!(days[usize::from(from)]),
                _ => {
                    filter["from"] = json!(days[usize::from(from)]);
                    filter["to"] = json!(days[to]);
                }
            }
            if let Some(c) = client {
                filter["clients"] = json!([CLIENTS[c]]);
            }
            period_query(json!({
                "period": if week { "week" } else { "month" },
                "filter": filter,
                "minSample": 3,
            }))
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn random_exports_stream_to_the_whole_tables_growth_and_retention(
        rows in proptest::collection::vec(row(), 0..150),
        q in random_period_query(),
        retention in any::<bool>(),
        chunk in 1usize..60,
        piece in 1usize..400,
    ) {
        let csv = to_csv(&rows);
        let answer = if retention { PeriodAnswer::Retention } else { PeriodAnswer::Growth };
        prop_assert_eq!(
            period_streamed(&csv, &q, answer, chunk, piece),
            period_in_memory(&csv, &q, answer)
        );
    }

    #[test]
    fn hostile_exports_stream_to_the_whole_tables_growth_and_retention(
        bytes in hostile_input(),
        q in random_period_query(),
        retention in any::<bool>(),
        chunk in 1usize..8,
    ) {
        let answer = if retention { PeriodAnswer::Retention } else { PeriodAnswer::Growth };
        prop_assert_eq!(
            period_streamed(&bytes, &q, answer, chunk, 13),
            period_in_memory(&bytes, &q, answer)
        );
    }
}

#[test]
fn the_cli_answers_growth_and_retention_read_in_chunks_as_the_whole_table() {
    use std::process::Command;
    let path = format!("{}/by_user_day_client_language.csv", common::FIXTURES);
    let table = Table::from_bytes(&std::fs::read(&path).unwrap()).unwrap();
    let q = period_query(json!({"period": "week", "filter": {"from": "2025-01-08"}}));
    let whole = [
        serde_json::to_value(table.growth(&q).unwrap()).unwrap(),
        serde_json::to_value(table.retention(&q).unwrap()).unwrap(),
    ];
    for (command, whole) in ["growth", "retention"].into_iter().zip(whole) {
        assert!(!whole.to_string().contains("\"periods\":[]"), "{whole}");
        for threads in ["1", "2"] {
            let out = Command::new(env!("CARGO_BIN_EXE_sg-analytics"))
                .args([command, &path, "--period", "week", "--from", "2025-01-08"])
                .args(["--format", "json", "--threads", threads])
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let cli: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(cli, whole, "{command} --threads {threads}");
        }
    }
}

// The inactive users list chunk by chunk (`InactiveStream`): the whole table's answer without a
// registry, with its warnings, or its error.

use sg_analytics::{InactiveQuery, InactiveStream};

fn inactive_in_memory(bytes: &[u8], q: &InactiveQuery) -> Result<Value, String> {
    let table = Table::from_bytes(bytes).map_err(|e| e.to_string())?;
    let answer = table.inactive_users(q, None).map_err(|e| e.to_string())?;
    let info = table.info();
    Ok(json!({
        "answer": serde_json::to_value(answer).unwrap(),
        "warnings": serde_json::to_value(&info.warnings).unwrap(),
        "warningsTotal": info.warnings_total,
        "skippedRows": info.input.skipped_rows,
    }))
}

fn inactive_streamed(
    bytes: &[u8],
    q: &InactiveQuery,
    rows: usize,
    piece: usize,
) -> Result<Value, String> {
    let mut stream = InactiveStream::new(q);
    let (last, end) = chunked(bytes, rows, piece, |chunk| stream.add(chunk))?;
    let s = stream.finish(last, end).map_err(|e| e.to_string())?;
    Ok(json!({
        "answer": serde_json::to_value(&s.answer).unwrap(),
        "warnings": serde_json::to_value(&s.warnings).unwrap(),
        "warningsTotal": s.warnings_total,
        "skippedRows": s.skipped_rows,
    }))
}

fn inactive_query(value: Value) -> InactiveQuery {
    serde_json::from_value(value).unwrap()
}

#[test]
fn the_inactive_list_streams_to_the_whole_tables_answer_on_every_fixture() {
    let queries = [
        json!({"days": 7}),
        json!({"days": 1}),
        json!({"days": 0}),
        json!({"days": 30, "filter": {"from": "2025-01-15", "to": "2025-02-20"}}),
        json!({"days": 14, "filter": {"activeOnly": true, "clients": ["VSCODE.cody"]}}),
        json!({"days": 3, "filter": {"users": ["101", "user3"], "userSearch": "user"}}),
        json!({"days": 10, "filter": {"from": "2025-03-15"}}),
        json!({"days": 5, "filter": {"from": "2025-03-01", "to": "2025-01-01"}}),
    ]
    .map(inactive_query);
    let mut listed = 0;
    for (name, bytes) in fixtures() {
        for q in &queries {
            let whole = inactive_in_memory(&bytes, q);
            if let Ok(w) = &whole {
                listed += w["answer"]["users"].as_array().unwrap().len();
            }
            for (rows, piece) in CUTS {
                assert_eq!(
                    inactive_streamed(&bytes, q, rows, piece),
                    whole,
                    "{name}, {q:?}, chunks of {rows} rows, pushed {piece} bytes"
                );
            }
        }
    }
    assert!(listed > 50, "{listed}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn random_exports_stream_to_the_whole_tables_inactive_list(
        rows in proptest::collection::vec(row(), 0..150),
        q in random_period_query(),
        days in 1u32..40,
        chunk in 1usize..60,
        piece in 1usize..400,
    ) {
        let csv = to_csv(&rows);
        let q = InactiveQuery { days, filter: q.filter };
        prop_assert_eq!(inactive_streamed(&csv, &q, chunk, piece), inactive_in_memory(&csv, &q));
    }

    #[test]
    fn hostile_exports_stream_to_the_whole_tables_inactive_list(
        bytes in hostile_input(),
        q in random_period_query(),
        days in 1u32..40,
        chunk in 1usize..8,
    ) {
        let q = InactiveQuery { days, filter: q.filter };
        prop_assert_eq!(inactive_streamed(&bytes, &q, chunk, 13), inactive_in_memory(&bytes, &q));
    }
}

#[test]
fn the_cli_answers_inactive_read_in_chunks_as_the_whole_table() {
    use std::process::Command;
    let path = format!("{}/by_user_day.csv", common::FIXTURES);
    let table = Table::from_bytes(&std::fs::read(&path).unwrap()).unwrap();
    let q = inactive_query(json!({"days": 5}));
    let whole = table.inactive_users(&q, None).unwrap();
    assert!(!whole.users.is_empty());
    let whole = whole.to_csv();
    for threads in ["1", "2"] {
        let out = Command::new(env!("CARGO_BIN_EXE_sg-analytics"))
            .args([
                "inactive",
                &path,
                "--days",
                "5",
                "--format",
                "csv",
                "--threads",
                threads,
            ])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8(out.stdout).unwrap(),
            whole,
            "--threads {threads}"
        );
    }
}
