//! The memory ceiling: an export that will not fit in the budget stops early with a coded error
//! that says how far reading got, what the whole would need and the ways out; what was read is
//! freed; an export that fits reads exactly as without a budget.

use sg_analytics::{ErrorKind, Ingester, Query, Table};

/// An export at the finest granularity, `rows` rows long (about 100 bytes a row).
fn export(rows: usize) -> Vec<u8> {
    let mut csv = String::from(
        "Instance user ID,User Email,Active Sourcegraph User,Client Name,Timestamp Date,Language,\
         Chat Events,Combined Completion Suggestions,Combined Completion Acceptances,Combined CAR\n",
    );
    for r in 0..rows {
        let user = r / 40;
        let (sugg, acc) = (r % 30, r % 7);
        let car = if sugg == 0 {
            String::new()
        } else {
            format!("{:.4}", acc as f64 / sugg as f64)
        };
        csv.push_str(&format!(
            "{},user{user}@example.com,{},{},2025-{:02}-{:02},{},{},{sugg},{acc},{car}\n",
            1000 + user,
            r % 3 != 0,
            ["vscode.cody", "jetbrains.cody", "server.web"][r % 3],
            1 + r / 28 % 12,
            1 + r % 28,
            ["go", "rust", ""][r % 3],
            r % 9,
        ));
    }
    csv.into_bytes()
}

/// Pushes `data` in 64 KiB chunks (a file's stream) into `ingester`; the first error, and the
/// bytes pushed until then.
fn read(ingester: &mut Ingester, data: &[u8]) -> Result<(), (sg_analytics::Error, usize)> {
    let mut pushed = 0;
    for chunk in data.chunks(64 << 10) {
        ingester.push(chunk).map_err(|e| (e, pushed))?;
        pushed += chunk.len();
    }
    Ok(())
}

/// The rows the message says were read.
fn rows_said(message: &str) -> u64 {
    let start = message.find('(').expect("rows in parentheses") + 1;
    let digits: String = message[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ' ')
        .filter(char::is_ascii_digit)
        .collect();
    digits.parse().expect("a row count")
}

#[test]
fn an_export_that_will_not_fit_stops_after_the_first_megabytes_and_says_why() {
    let data = export(60_000);
    // Measure what it takes, then give it less than that with room for queries (but more than
    // the least its size could take, which would be refused before reading).
    let whole = Table::from_bytes(&data).unwrap();
    let budget = whole.heap_bytes() as u64 * 5 / 4;
    let mut ingester = Ingester::new();
    ingester.set_memory_budget(Some(budget));
    ingester.expect_bytes(data.len() as u64);
    assert!(ingester.check_expected_size().is_ok());
    let (e, pushed) = read(&mut ingester, &data).expect_err("the budget is under the need");
    assert_eq!(e.kind(), ErrorKind::TooLarge);
    // It stopped once the sample had shown the rows' size, long before the end.
    assert!(pushed < data.len() / 2, "{pushed} of {}", data.len());
    // What was read is freed, and every later call fails the same way.
    assert_eq!(ingester.rows(), 0);
    assert_eq!(ingester.table_bytes(), 0);
    assert_eq!(
        ingester.push(b"1,a,true,x,2025-01-01,go,1,1,1,1\n"),
        Err(e.clone())
    );
    let message = e.message();
    // How far it got, what the whole would need, the budget, and the ways out.
    let said = rows_said(message);
    assert!(said > 0 && (said as usize) < 60_000, "{message}");
    for part in [
        "would need about",
        "more than the",
        "coarser granularity",
        "shorter date range",
        "sg-analytics summarize",
        "--month-windows",
        "nothing was kept",
    ] {
        assert!(message.contains(part), "{part:?} missing: {message}");
    }
    assert_eq!(ingester.finish().unwrap_err(), e);
}

#[test]
fn without_a_size_reading_stops_when_what_is_stored_passes_the_budget() {
    let data = export(60_000);
    let mut ingester = Ingester::new();
    ingester.set_memory_budget(Some(200_000));
    let (e, _) = read(&mut ingester, &data).expect_err("200 kB cannot hold 60 000 rows");
    assert_eq!(e.kind(), ErrorKind::TooLarge);
    assert!(e.message().contains("the whole size unknown"), "{e}");
    // It stopped at the first chunk whose rows passed it: at 18 bytes a row with room for
    // queries, 200 kB hold about 7 400 rows, and a 64 KiB chunk about 630.
    let rows = rows_said(e.message());
    assert!((7_000..8_500).contains(&rows), "{e}");
}

#[test]
fn a_size_that_can_never_fit_is_refused_before_reading() {
    let mut ingester = Ingester::new();
    ingester.set_memory_budget(Some(1 << 30));
    ingester.expect_bytes(20_000_000_000);
    let e = ingester.check_expected_size().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::TooLarge);
    assert!(e.message().contains("20 GB"), "{e}");
    assert!(e.message().contains("Nothing was read"), "{e}");
    // The first push fails the same way, having read nothing.
    assert_eq!(ingester.push(&export(10)).unwrap_err(), e);
    assert_eq!(ingester.rows(), 0);
    // A size that may fit is not refused.
    let mut ingester = Ingester::new();
    ingester.set_memory_budget(Some(1 << 30));
    ingester.expect_bytes(2_000_000_000);
    assert!(ingester.check_expected_size().is_ok());
}

#[test]
fn an_export_within_the_budget_reads_exactly_as_without_one() {
    let data = export(20_000);
    let whole = Table::from_bytes(&data).unwrap();
    let mut ingester = Ingester::new();
    // Room for the table and its queries, with a little to spare.
    ingester.set_memory_budget(Some(whole.heap_bytes() as u64 * 2));
    ingester.expect_bytes(data.len() as u64);
    read(&mut ingester, &data).unwrap();
    let table = ingester.finish().unwrap();
    let query: Query = serde_json::from_str(r#"{"groupBy": ["month", "client"]}"#).unwrap();
    assert_eq!(
        table.summarize(&query).unwrap().to_json(),
        whole.summarize(&query).unwrap().to_json()
    );
}

#[test]
fn the_budget_defaults_to_none_on_64_bit_and_to_3_gib_on_32_bit() {
    let expected = if cfg!(target_pointer_width = "32") {
        Some(3u64 << 30)
    } else {
        None
    };
    assert_eq!(Ingester::new().memory_budget(), expected);
    assert_eq!(sg_analytics::default_budget(), expected);
}
