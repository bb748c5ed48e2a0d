//! Rows written back are the rows read (docs/numbers.md): `filteredCsv` / `sg-analytics filter`
//! give every kept cell's text as it was in the input, after CSV unquoting; only the formula guard
//! and CSV quoting may differ. Each test reads the input with an independent CSV reader and compares
//! the written rows with it cell by cell.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use proptest::prelude::*;
use sg_analytics::{guard_formula, Filter, Ingester, Table};

/// The records of a CSV as text (lossy UTF-8, BOM dropped), as any CSV reader sees them.
fn records(csv: &[u8]) -> Vec<Vec<String>> {
    let csv = csv.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(csv);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(csv);
    reader
        .byte_records()
        .map(|r| {
            r.unwrap()
                .iter()
                .map(|cell| String::from_utf8_lossy(cell).into_owned())
                .collect()
        })
        .collect()
}

/// What `filtered_csv` must write for `input` when every row is kept: the header, then each
/// record with the header's number of fields (others are skipped rows; a line of only spaces is
/// blank), every cell formula-guarded.
fn expected(input: &[u8]) -> Vec<Vec<String>> {
    let mut all = records(input).into_iter();
    let Some(header) = all.next() else {
        return Vec::new();
    };
    let width = header.len();
    let guard = |r: Vec<String>| r.iter().map(|c| guard_formula(c).into_owned()).collect();
    std::iter::once(guard(header.clone()))
        .chain(all.filter(|r| r.len() == width).map(guard))
        .collect()
}

fn compare(name: &str, written: &str, expected: &[Vec<String>]) {
    let got = records(written.as_bytes());
    assert_eq!(got.len(), expected.len(), "{name}: number of records");
    for (line, (g, e)) in got.iter().zip(expected).enumerate() {
        assert_eq!(g.len(), e.len(), "{name}: record {line}: number of cells");
        for (column, (a, b)) in g.iter().zip(e).enumerate() {
            assert_eq!(a, b, "{name}: record {line}, column {column}");
        }
    }
}

#[test]
fn every_fixture_is_written_back_cell_for_cell() {
    let mut checked = 0;
    let mut dir: Vec<_> = std::fs::read_dir(common::FIXTURES)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .collect();
    dir.sort();
    for path in dir {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let input = std::fs::read(&path).unwrap();
        let Ok(table) = Table::from_bytes(&input) else {
            // Only the empty export is not a report at all.
            assert_eq!(name, "empty.csv");
            continue;
        };
        let written = table.filtered_csv(&Filter::default()).unwrap();
        compare(&name, &written, &expected(&input));
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} fixtures checked");
}

#[test]
fn a_filter_keeps_rows_whole_and_as_written() {
    let input = common::fixture("by_user_day_client_language.csv");
    let table = Table::from_bytes(&input).unwrap();
    let filter: Filter =
        serde_json::from_str(r#"{"from": "2025-04-01", "clients": ["vscode.cody"]}"#).unwrap();
    let written = table.filtered_csv(&filter).unwrap();
    let all = expected(&input);
    let header = &all[0];
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let (date, client) = (col("Timestamp Date"), col("Client Name"));
    let kept: Vec<Vec<String>> = std::iter::once(header.clone())
        .chain(
            all[1..]
                .iter()
                .filter(|r| r[date].as_str() >= "2025-04-01" && r[client] == "vscode.cody")
                .cloned(),
        )
        .collect();
    assert!(kept.len() > 10);
    compare("filtered", &written, &kept);
    // The padded rates are there as written, not in their shortest form.
    assert!(written.contains(",0.0000,"), "{}", &written[..400]);
}

/// The text of a cell the property test writes: every shape that a re-rendering would change.
fn cell() -> impl Strategy<Value = String> {
    prop_oneof![
        // Any text, with quotes, separators, line breaks and surrounding spaces.
        any::<String>(),
        "[ \t]{0,2}[a-zA-Z\",\n=+@-]{0,8}[ \t]{0,2}",
        // Numbers with leading and trailing zeros, signs, exponents, padding.
        "[+-]?0{0,3}[0-9]{1,6}(\\.[0-9]{0,5}0{0,3})?",
        "[0-9]{1,3}[eE][+-]?[0-9]{1,2}",
        // Beyond what a float holds exactly (a column may turn into floats at an exponent).
        "[1-9][0-9]{13,19}(\\.[0-9]{1,4})?",
        "\\.[0-9]{1,3}",
        // Dates, months, timestamps, impossible dates.
        "20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])",
        "20[0-9]{2}-(0[1-9]|1[0-2])",
        "2025-0[1-9]-1[0-9][T ][0-2][0-9]:00:00Z?",
        "2025-(02-30|13-01|00-10)",
        // Booleans in any spelling, and bad ones.
        "(true|false|TRUE|False|yes|no|Y|n|t|F|1|0|maybe)",
        Just(String::new()),
        Just(" ".to_string()),
    ]
}

const HEADER: [&str; 8] = [
    "Instance user ID",
    "Active Sourcegraph User",
    "Timestamp Date",
    "Chat Events",
    "Combined CAR",
    "Team",
    "Zip",
    "Agent runs",
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_cells_are_written_back_as_read(
        rows in proptest::collection::vec(proptest::collection::vec(cell(), HEADER.len()), 0..40),
        numeric in proptest::collection::vec("0[0-9]{4}|[1-9][0-9]{0,3}(\\.[0-9]{1,3})?|", 0..40),
        chunk in 1usize..200,
    ) {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(HEADER).unwrap();
        for (i, row) in rows.iter().enumerate() {
            let mut row = row.clone();
            // An extra column of numbers only (zip codes with leading zeros, counts, decimals):
            // it is typed as numeric once read, and must still be written as it came.
            row[7] = numeric.get(i).cloned().unwrap_or_default();
            w.write_record(&row).unwrap();
        }
        let input = w.into_inner().unwrap();
        let mut ingester = Ingester::new();
        for part in input.chunks(chunk) {
            ingester.push(part).unwrap();
        }
        let table = ingester.finish().unwrap();
        let written = table.filtered_csv(&Filter::default()).unwrap();
        let want = expected(&input);
        let got = records(written.as_bytes());
        prop_assert_eq!(got, want);
    }
}

/// Memory held by a report, with the text it keeps for writing rows back, stays within half the
/// CSV's size. A few thousand users' worth of rows, made from the sample (each copy under other
/// user IDs, so dictionaries grow as in a real export).
#[test]
fn keeping_the_text_fits_the_memory_budget() {
    let sample = String::from_utf8(common::fixture("by_user_day_client_language.csv")).unwrap();
    let (header, body) = sample.split_once('\n').unwrap();
    let mut csv = format!("{header}\n");
    for copy in 0..40 {
        for line in body.lines() {
            let (id, rest) = line.split_once(',').unwrap();
            csv.push_str(&format!("{copy}{id},{copy}.{rest}\n"));
        }
    }
    let table = Table::from_bytes(csv.as_bytes()).unwrap();
    let ratio = table.heap_bytes() as f64 / csv.len() as f64;
    assert!(ratio <= 0.5, "{ratio:.3}× the CSV");
    let written = table.filtered_csv(&Filter::default()).unwrap();
    assert_eq!(written, csv);
    // Dates written as timestamps with one time of day are a format, not a text per cell.
    let stamped: String = csv
        .lines()
        .map(|line| {
            let mut cells: Vec<String> = line.split(',').map(String::from).collect();
            if cells[5].starts_with("2025-") {
                cells[5] += "T00:00:00Z";
            }
            cells.join(",") + "\n"
        })
        .collect();
    let table = Table::from_bytes(stamped.as_bytes()).unwrap();
    assert_eq!(table.filtered_csv(&Filter::default()).unwrap(), stamped);
    assert!(table.heap_bytes() as f64 <= ratio * csv.len() as f64 + 64.0);
}

/// `SG_MEASURE_CSV=export.csv cargo test --release --test verbatim -- --ignored --nocapture`
/// prints the memory a report of that file holds (and how long the ingest took, for comparing
/// builds by eye; nothing is asserted on it).
#[test]
#[ignore]
fn measure_memory() {
    let path = std::env::var("SG_MEASURE_CSV").expect("SG_MEASURE_CSV");
    let bytes = std::fs::read(path).unwrap();
    let started = std::time::Instant::now();
    let table = Table::from_bytes(&bytes).unwrap();
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{} rows, {} bytes of CSV, ingested in {seconds:.3} s; report holds {} bytes \
         ({:.1} bytes/row, {:.3}x the CSV)",
        table.rows(),
        bytes.len(),
        table.heap_bytes(),
        table.heap_bytes() as f64 / table.rows() as f64,
        table.heap_bytes() as f64 / bytes.len() as f64
    );
}
