//! `sg-analytics convert`: the Parquet it writes, read back with the `parquet` crate and held to
//! the CSV it came from (parsed apart, by `common::rows`).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::*;
use parquet::basic::{LogicalType, Type as Physical};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sg-analytics"))
        .args(args)
        .current_dir(FIXTURES)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A fresh directory of this test process.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sg-parquet-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn convert(input: &str, to: &Path) {
    let o = run(&["convert", input, "-o", to.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// A written file: its columns (name, physical type, logical type), its key-value metadata,
/// and its rows as maps from column name to value.
struct Read {
    columns: Vec<(String, Physical, Option<LogicalType>)>,
    metadata: BTreeMap<String, String>,
    rows: Vec<BTreeMap<String, Field>>,
}

fn read(path: &Path) -> Read {
    let reader = SerializedFileReader::new(File::open(path).unwrap()).unwrap();
    let meta = reader.metadata().file_metadata();
    let columns = meta
        .schema_descr()
        .columns()
        .iter()
        .map(|c| {
            (
                c.name().to_string(),
                c.physical_type(),
                c.logical_type_ref().cloned(),
            )
        })
        .collect();
    let metadata = meta
        .key_value_metadata()
        .into_iter()
        .flatten()
        .map(|kv| (kv.key.clone(), kv.value.clone().unwrap_or_default()))
        .collect();
    let rows = reader
        .get_row_iter(None)
        .unwrap()
        .map(|row| {
            row.unwrap()
                .get_column_iter()
                .map(|(name, field)| (name.clone(), field.clone()))
                .collect()
        })
        .collect();
    Read {
        columns,
        metadata,
        rows,
    }
}

fn type_of(read: &Read, name: &str) -> (Physical, Option<LogicalType>) {
    let (_, physical, logical) = read
        .columns
        .iter()
        .find(|(n, ..)| n == name)
        .unwrap_or_else(|| panic!("no column {name:?} in {:?}", read.columns));
    (*physical, logical.clone())
}

/// Days since 1970-01-01 of `YYYY-MM-DD` (Parquet's DATE).
fn day_number(date: &str) -> i32 {
    let d = |a: usize, b: usize| date[a..b].parse::<i64>().unwrap();
    let (y, m, day) = (d(0, 4), d(5, 7), d(8, 10));
    let (y, m) = if m <= 2 { (y - 1, m + 12) } else { (y, m) };
    let era_days = 365 * y + y / 4 - y / 100 + y / 400 + (153 * (m - 3) + 2) / 5 + day;
    (era_days - 719_469) as i32
}

#[test]
fn convert_types_every_column_as_the_summaries_read_it() {
    let dir = scratch("types");
    let out = dir.join("usage.parquet");
    convert("by_user_day_client_language.csv", &out);
    let read = read(&out);
    let (headers, _) = rows(&fixture("by_user_day_client_language.csv"));
    let names: Vec<&str> = read.columns.iter().map(|(n, ..)| n.as_str()).collect();
    assert_eq!(names, headers, "the export's own names, in its order");
    assert_eq!(
        type_of(&read, "Timestamp Date"),
        (Physical::INT32, Some(LogicalType::Date))
    );
    assert_eq!(
        type_of(&read, "Active Sourcegraph User"),
        (Physical::BOOLEAN, None)
    );
    for text in ["Instance user ID", "User Email", "Client Name", "Language"] {
        assert_eq!(
            type_of(&read, text),
            (Physical::BYTE_ARRAY, Some(LogicalType::String)),
            "{text}"
        );
    }
    for count in [
        "Searches",
        "Combined Completion Suggestions",
        "Auto-edit accepted events",
    ] {
        assert_eq!(type_of(&read, count), (Physical::INT64, None), "{count}");
    }
    for rate in [
        "Combined CAR",
        "Weighted CAR",
        "Percentage of Code Written by Cody",
        "Auto-edit acceptance rate",
    ] {
        assert_eq!(type_of(&read, rate), (Physical::DOUBLE, None), "{rate}");
    }
    assert_eq!(
        read.metadata
            .get("sg_analytics.granularity")
            .map(String::as_str),
        Some("by_user_day_client_language")
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn convert_keeps_every_value_and_writes_empty_cells_as_null() {
    let dir = scratch("values");
    for (fixture_name, date_column) in [
        ("by_user_day_client_language.csv", "Timestamp Date"),
        ("by_user_month.csv", "Timestamp Month"),
    ] {
        let out = dir.join("usage.parquet");
        convert(fixture_name, &out);
        let read = read(&out);
        let (_, csv_rows) = rows(&fixture(fixture_name));
        assert_eq!(read.rows.len(), csv_rows.len(), "{fixture_name}");
        let (mut null_languages, mut null_rates) = (0, 0);
        for (i, (written, row)) in read.rows.iter().zip(&csv_rows).enumerate() {
            let at = format!("{fixture_name} row {i}");
            assert_eq!(
                written["Instance user ID"],
                Field::Str(row.user.clone()),
                "{at}"
            );
            assert_eq!(
                written["Active Sourcegraph User"],
                Field::Bool(row.active),
                "{at}"
            );
            let date = row.date.as_deref().unwrap();
            assert_eq!(written[date_column], Field::Date(day_number(date)), "{at}");
            if let Some(language) = written.get("Language") {
                if row.language.is_empty() {
                    assert_eq!(*language, Field::Null, "{at}: an empty Language is NULL");
                    null_languages += 1;
                } else {
                    assert_eq!(*language, Field::Str(row.language.clone()), "{at}");
                }
            }
            for (name, value) in &row.metrics {
                let expected = match (value, &written[name.as_str()]) {
                    (None, _) => Field::Null,
                    (Some(v), Field::Long(_)) => Field::Long(*v as i64),
                    (Some(v), _) => Field::Double(*v),
                };
                assert_eq!(written[name.as_str()], expected, "{at}, {name}");
                null_rates += usize::from(name == "Combined CAR" && value.is_none());
            }
        }
        // The fixtures have both kinds of NULL: the checks above ran on them.
        assert!(null_rates > 0, "{fixture_name}");
        if date_column == "Timestamp Date" {
            assert!(null_languages > 0);
        }
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn unknown_columns_keep_their_detected_type() {
    let dir = scratch("unknown");
    let out = dir.join("drift.parquet");
    convert("header_drift.csv", &out);
    let read = read(&out);
    // Known columns under their canonical names, whatever the header's case and spacing.
    assert_eq!(read.columns[0].0, "Instance user ID");
    assert_eq!(type_of(&read, "Chat Events"), (Physical::INT64, None));
    // A column of numbers is a count; a rate by its header; anything else text.
    assert_eq!(type_of(&read, "Agent Runs"), (Physical::INT64, None));
    assert_eq!(
        type_of(&read, "Agent success rate"),
        (Physical::DOUBLE, None)
    );
    assert_eq!(
        type_of(&read, "Team"),
        (Physical::BYTE_ARRAY, Some(LogicalType::String))
    );
    assert_eq!(read.rows[0]["Agent success rate"], Field::Double(0.5));
    assert_eq!(read.rows[0]["Team"], Field::Str("core".into()));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_count_is_int64_in_every_month_and_a_fraction_in_it_is_an_error_that_says_where() {
    let dir = scratch("counts");
    let out = dir.join("usage");
    let header = "Instance user ID,Timestamp Date,Searches,Chat Events,Team Size\n";
    // January's counts are written plainly; February's with a decimal point ("3.0" is 3).
    let january = dir.join("january.csv");
    std::fs::write(&january, format!("{header}1,2025-01-02,4,2,5\n")).unwrap();
    let february = dir.join("february.csv");
    std::fs::write(&february, format!("{header}1,2025-02-03,3.0,,7\n")).unwrap();
    for input in [&january, &february] {
        let o = run(&[
            "convert",
            input.to_str().unwrap(),
            "--out-dir",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    // Each month converted on its own, the two files have one schema: counts are INT64 by the
    // export's layout, whatever the cells of a month look like.
    let [jan, feb] =
        ["2025-01", "2025-02"].map(|m| read(&out.join(format!("month={m}/part-0.parquet"))));
    assert_eq!(jan.columns, feb.columns);
    for count in ["Searches", "Chat Events"] {
        assert_eq!(type_of(&feb, count), (Physical::INT64, None), "{count}");
    }
    assert_eq!(feb.rows[0]["Searches"], Field::Long(3));
    assert_eq!(feb.rows[0]["Chat Events"], Field::Null);
    assert_eq!(jan.rows[0]["Searches"], Field::Long(4));

    // A count with a fraction does not fit: an error naming the file, the row and the column,
    // and nothing is written (the months already there stay as they were).
    let before: Vec<Vec<u8>> = files_under(&out)
        .iter()
        .map(|f| std::fs::read(out.join(f)).unwrap())
        .collect();
    let march = dir.join("march.csv");
    std::fs::write(
        &march,
        format!("{header}1,2025-03-01,1,1,1\n2,2025-03-02,2,1,1\n3,2025-03-03,2,2.5,1\n"),
    )
    .unwrap();
    for target in [
        ["--out-dir", out.to_str().unwrap()],
        ["-o", dir.join("one.parquet").to_str().unwrap()],
    ] {
        let o = run(&["convert", march.to_str().unwrap(), target[0], target[1]]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        let message = stderr(&o);
        for part in [
            march.to_str().unwrap(),
            "row 3",
            "\"Chat Events\"",
            "\"2.5\"",
            "INT64",
        ] {
            assert!(message.contains(part), "{part:?} in {message}");
        }
    }
    let after: Vec<Vec<u8>> = files_under(&out)
        .iter()
        .map(|f| std::fs::read(out.join(f)).unwrap())
        .collect();
    assert_eq!(
        files_under(&out),
        [
            "month=2025-01/part-0.parquet",
            "month=2025-02/part-0.parquet"
        ]
    );
    assert_eq!(after, before);
    assert!(!dir.join("one.parquet").exists());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn unknown_columns_are_typed_by_every_cell_from_a_file_or_from_stdin() {
    let dir = scratch("unknown-late");
    // "Agent Runs" is numbers until its last row, far past the first chunk of rows: text.
    // "Tokens" is whole numbers until a fraction in its last row: DOUBLE.
    let mut csv = String::from("Instance user ID,Timestamp Date,Agent Runs,Tokens\n");
    let rows = 700_000;
    for i in 0..rows - 1 {
        csv.push_str(&format!(
            "u{},2025-01-{:02},{},{}\n",
            i % 50,
            i % 28 + 1,
            i % 7,
            i % 11
        ));
    }
    csv.push_str("u1,2025-01-05,many,0.5\n");
    let input = dir.join("in.csv");
    std::fs::write(&input, &csv).unwrap();
    let from_file = dir.join("file.parquet");
    convert(input.to_str().unwrap(), &from_file);
    let from_stdin = dir.join("stdin.parquet");
    let mut child = Command::new(env!("CARGO_BIN_EXE_sg-analytics"))
        .args(["convert", "-", "-o", from_stdin.to_str().unwrap()])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(csv.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(&from_file).unwrap(),
        std::fs::read(&from_stdin).unwrap()
    );
    let read = read(&from_file);
    assert_eq!(
        type_of(&read, "Agent Runs"),
        (Physical::BYTE_ARRAY, Some(LogicalType::String))
    );
    assert_eq!(type_of(&read, "Tokens"), (Physical::DOUBLE, None));
    assert_eq!(read.rows.len(), rows);
    assert_eq!(read.rows[3]["Agent Runs"], Field::Str("3".into()));
    assert_eq!(read.rows[3]["Tokens"], Field::Double(3.0));
    assert_eq!(read.rows[rows - 1]["Agent Runs"], Field::Str("many".into()));
    // The temporary copy of stdin is gone with the run.
    assert_eq!(
        files_under(&dir),
        ["file.parquet", "in.csv", "stdin.parquet"]
    );
    std::fs::remove_dir_all(dir).unwrap();
}

fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(
                files_under(&path)
                    .into_iter()
                    .map(|f| format!("{}/{f}", path.file_name().unwrap().to_string_lossy())),
            );
        } else {
            out.push(path.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    out.sort();
    out
}

#[test]
fn out_dir_writes_one_hive_partition_per_month_holding_that_months_rows() {
    let dir = scratch("partitions");
    let o = run(&[
        "convert",
        "by_user_day.csv",
        "--out-dir",
        dir.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        files_under(&dir),
        [
            "month=2025-03/part-0.parquet",
            "month=2025-04/part-0.parquet"
        ]
    );
    let (_, csv_rows) = rows(&fixture("by_user_day.csv"));
    for month in ["2025-03", "2025-04"] {
        let read = read(&dir.join(format!("month={month}/part-0.parquet")));
        let expected: Vec<&Row> = csv_rows
            .iter()
            .filter(|r| r.date.as_deref().unwrap().starts_with(month))
            .collect();
        assert_eq!(read.rows.len(), expected.len(), "{month}");
        // The rows in the export's order, each with its own values.
        for (written, row) in read.rows.iter().zip(&expected) {
            let date = row.date.as_deref().unwrap();
            assert_eq!(written["Timestamp Date"], Field::Date(day_number(date)));
            assert_eq!(written["Instance user ID"], Field::Str(row.user.clone()));
            let searches = row.metrics["Searches"].map_or(Field::Null, |v| Field::Long(v as i64));
            assert_eq!(written["Searches"], searches);
        }
        assert_eq!(
            read.metadata["sg_analytics.granularity"], "by_user_day",
            "{month}"
        );
    }
    // Converting again replaces the partitions whole and leaves no temporary file.
    let o = run(&[
        "convert",
        "by_user_day.csv",
        "--out-dir",
        dir.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(files_under(&dir).len(), 2, "{:?}", files_under(&dir));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn rows_without_a_date_go_to_the_null_partition_and_are_said() {
    let dir = scratch("undated");
    let input = dir.join("in.csv");
    std::fs::write(
        &input,
        "Instance user ID,Timestamp Date,Chat Events\n1,2025-01-31,1\n2,,2\n3,2025-02-01,3\n4,not a date,4\n",
    )
    .unwrap();
    let out = dir.join("out");
    let o = run(&[
        "convert",
        input.to_str().unwrap(),
        "--out-dir",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("2 row(s) without a date went to month=__HIVE_DEFAULT_PARTITION__"),
        "{}",
        stderr(&o)
    );
    let users = |month: &str| -> Vec<Field> {
        read(&out.join(format!("month={month}/part-0.parquet")))
            .rows
            .iter()
            .map(|r| r["Instance user ID"].clone())
            .collect()
    };
    assert_eq!(users("2025-01"), [Field::Str("1".into())]);
    assert_eq!(users("2025-02"), [Field::Str("3".into())]);
    assert_eq!(
        users("__HIVE_DEFAULT_PARTITION__"),
        [Field::Str("2".into()), Field::Str("4".into())]
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_failed_convert_leaves_an_existing_output_untouched() {
    let dir = scratch("atomic");
    let out = dir.join("usage.parquet");
    std::fs::write(&out, "what was there before").unwrap();
    let o = run(&["convert", "empty.csv", "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "what was there before"
    );
    assert_eq!(
        files_under(&dir),
        ["usage.parquet"],
        "no temporary file is left"
    );
    convert("by_user.csv", &out);
    assert_eq!(read(&out).rows.len(), 25);
    assert_eq!(files_under(&dir), ["usage.parquet"]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn convert_usage_errors_say_what_to_do() {
    let dir = scratch("usage");
    let out = dir.join("x.parquet");
    let out = out.to_str().unwrap();
    let cases: [(&[&str], &str); 6] = [
        (
            &["convert", "by_user.csv"],
            "-o OUT.parquet or --out-dir DIR",
        ),
        (
            &["convert", "by_user.csv", "--out-dir", out],
            "no dates to partition by month",
        ),
        (
            &[
                "convert",
                "by_user_day.csv",
                "-o",
                out,
                "--from",
                "2025-03-10",
            ],
            "takes no filter",
        ),
        (
            &[
                "convert",
                "by_user_day.csv",
                "-o",
                out,
                "--attributes",
                "by_user.csv",
            ],
            "--attributes is for the answers",
        ),
        (
            &["summarize", "by_user_day.csv", "--format", "parquet"],
            "--format parquet is for the convert and fetch commands",
        ),
        (
            &["filter", "by_user_day.csv", "--out-dir", out],
            "--out-dir is for the convert and fetch commands",
        ),
    ];
    for (args, message) in cases {
        let o = run(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains(message), "{args:?}: {}", stderr(&o));
    }
    assert!(files_under(&dir).is_empty());
    let help = String::from_utf8(run(&["--help"]).stdout).unwrap();
    for option in [
        "convert [FILE|-] -o OUT.parquet",
        "--out-dir DIR",
        "--format parquet",
    ] {
        assert!(help.contains(option), "--help lacks {option}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}
