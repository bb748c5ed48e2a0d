//! Black-box tests: the real `sg-analytics` binary on fixture files.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::*;
use serde_json::{json, Value};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sg-analytics"))
        .args(args)
        .current_dir(FIXTURES)
        .output()
        .unwrap()
}

fn run_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sg-analytics"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

fn json(args: &[&str]) -> Value {
    let o = run(args);
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn summarize_by_month_prints_an_aligned_table() {
    let o = run(&["summarize", "by_user_day.csv", "--by", "month"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("by_user_day export: 434 rows (0 skipped), 2025-03-01 to 2025-04-14"));
    let lines: Vec<&str> = out.lines().collect();
    let header = lines.iter().position(|l| l.starts_with("month ")).unwrap();
    let march = lines[header + 1];
    assert!(march.starts_with("2025-03 "));
    // Columns line up: each value ends where its header ends.
    let end_of = |line: &str, word: &str| line.find(word).unwrap() + word.len();
    let users_end = end_of(lines[header], "users");
    assert_eq!(&march[users_end - 2..users_end], "25");
}

#[test]
fn every_format_and_granularity_gives_the_same_totals() {
    let finest = json(&[
        "summarize",
        "by_user_day_client_language.csv",
        "--format",
        "json",
    ]);
    for file in ["by_user.csv", "by_user_month.csv", "by_user_day.csv"] {
        let s = json(&["summarize", file, "--format", "json"]);
        assert_eq!(
            s["totals"]["Chat Events"], finest["totals"]["Chat Events"],
            "{file}"
        );
        assert_eq!(s["totals"]["users"], finest["totals"]["users"], "{file}");
    }
    let o = run(&[
        "summarize",
        "by_user_day.csv",
        "--by",
        "month",
        "--format",
        "csv",
    ]);
    let mut r = csv::Reader::from_reader(&o.stdout[..]);
    let h = r.headers().unwrap().clone();
    assert_eq!(&h[0], "month");
    let col = h.iter().position(|c| c == "Chat Events").unwrap();
    let total: f64 = r
        .records()
        .map(|rec| rec.unwrap()[col].parse::<f64>().unwrap())
        .sum();
    assert_eq!(Value::from(total as u64), finest["totals"]["Chat Events"]);
}

#[test]
fn filters_and_minutes_reach_the_engine() {
    let s = json(&[
        "summarize",
        "by_user_day_client_language.csv",
        "--from",
        "2025-03-10",
        "--to",
        "2025-03-16",
        "--client",
        "vscode.cody",
        "--language",
        "go",
        "--active-only",
        "--by",
        "week",
        "--minutes",
        "chat=10,completions=0",
        "--format",
        "json",
    ]);
    let (_, all) = rows(&common::fixture("by_user_day_client_language.csv"));
    let kept: Vec<&Row> = all
        .iter()
        .filter(|r| {
            (r.date.as_deref().unwrap() >= "2025-03-10")
                && r.date.as_deref().unwrap() <= "2025-03-16"
        })
        .filter(|r| r.client == "vscode.cody" && r.language == "go" && r.active)
        .collect();
    assert_eq!(s["totals"]["rows"], kept.len());
    assert_eq!(s["groups"][0]["key"]["week"], "2025-03-10");
    let hours = (2.0 * sum(&kept, "Auto-edit accepted events")
        + 10.0 * sum(&kept, "Chat Events")
        + 5.0 * (sum(&kept, "Command Events") + sum(&kept, "Searches"))
        + sum(&kept, "Code Navigation Events"))
        / 60.0;
    assert!(approx(s["totals"]["hoursSaved"].as_f64().unwrap(), hours));
    let s = json(&[
        "summarize",
        "by_user.csv",
        "--user",
        "alex.kim1",
        "--format",
        "json",
    ]);
    assert_eq!(s["totals"]["users"], 1);
}

#[test]
fn reads_stdin_with_a_bom_and_crlf() {
    let mut input = b"\xEF\xBB\xBF".to_vec();
    input.extend(
        String::from_utf8(common::fixture("by_user.csv"))
            .unwrap()
            .replace('\n', "\r\n")
            .bytes(),
    );
    let o = run_stdin(&["summarize", "-", "--format", "json"], &input);
    assert!(o.status.success(), "{}", stderr(&o));
    let s: Value = serde_json::from_slice(&o.stdout).unwrap();
    let direct = json(&["summarize", "by_user.csv", "--format", "json"]);
    assert_eq!(s["totals"], direct["totals"]);
    assert_eq!(s["warningsTotal"], 0);
}

#[test]
fn filter_writes_the_kept_rows_in_their_original_columns() {
    let o = run(&["filter", "by_user_day.csv", "--from", "2025-04-01"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let original = String::from_utf8(common::fixture("by_user_day.csv")).unwrap();
    let out = stdout(&o);
    assert_eq!(out.lines().next(), original.lines().next());
    let expected: Vec<&str> = original
        .lines()
        .skip(1)
        .filter(|l| l.contains(",2025-04-"))
        .collect();
    assert_eq!(out.lines().count() - 1, expected.len());
    assert!(stderr(&o).contains(&format!("{} of 434 rows written", expected.len())));
    // Rows are written back as they were read: this export needs no quoting, so line for line.
    let written: Vec<&str> = out.lines().skip(1).collect();
    assert_eq!(written, expected);

    let dir = std::env::temp_dir().join(format!("sg-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("hostile-out.csv");
    let o = run(&["filter", "hostile.csv", "-o", path.to_str().unwrap()]);
    assert!(o.status.success());
    let written = std::fs::read_to_string(&path).unwrap();
    assert!(written.contains("\"'=HYPERLINK("), "{written}");
    assert!(written.contains("<img src=x onerror=window.__pwned=1>"));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn problems_in_the_input_are_reported() {
    let o = run(&["summarize", "ragged.csv"]);
    assert!(o.status.success());
    let out = stdout(&o);
    assert!(out.contains("2 rows (2 skipped)"));
    assert!(out.contains("warning: line 3: found a row with 3 fields, but the header has 4"));
    let o = run(&["summarize", "bad_cells.csv", "--format", "csv"]);
    assert!(o.status.success());
    assert!(stderr(&o).contains("3 warning(s)"));
}

#[test]
fn usage_and_input_errors_exit_2_with_a_message() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["summarize", "empty.csv"],
            "empty.csv: the export is empty",
        ),
        (&["summarize", "missing.csv"], "cannot open missing.csv"),
        (
            &["summarize", "by_user_day.csv", "--by", "client"],
            "cannot group by client",
        ),
        (
            &["summarize", "by_user_day.csv", "--from", "2025-13-01"],
            "filter.from: expected a date",
        ),
        (
            &["summarize", "by_user_day.csv", "--format", "xml"],
            "expected table, csv or json",
        ),
        (&["summarize", "by_user_day.csv", "--bogus"], "--bogus"),
        (&["frobnicate"], "unknown command"),
        (&[], "expected a command"),
        (
            &["summarize", "by_user_day.csv", "--minutes", "chat"],
            "expected FEATURE=MINUTES",
        ),
    ];
    for (args, message) in cases {
        let o = run(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(stderr(&o).contains(message), "{args:?}: {}", stderr(&o));
        assert!(o.stdout.is_empty(), "{args:?}");
    }
    let o = run_stdin(
        &["summarize"],
        b"<html><body>Please sign in</body></html>\n",
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not a Sourcegraph Analytics export"));
}

#[test]
fn header_only_input_summarizes_to_zero() {
    let s = json(&["summarize", "header_only.csv", "--format", "json"]);
    assert_eq!(s["input"]["rows"], 0);
    assert_eq!(s["totals"]["Chat Events"], 0);
}

#[test]
fn help_documents_every_option() {
    let o = run(&["--help"]);
    assert!(o.status.success());
    let help = stdout(&o);
    for option in [
        "--by",
        "--from",
        "--to",
        "--client",
        "--language",
        "--user",
        "--active-only",
        "--minutes",
        "--format",
        "--output",
    ] {
        assert!(help.contains(option), "{option}");
    }
}

/// A fresh directory of this test process, removed by the caller.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("sg-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_failed_filter_leaves_an_existing_output_file_untouched() {
    let dir = scratch("atomic");
    let out = dir.join("out.csv");
    std::fs::write(&out, "what was there before\n").unwrap();
    let o = run(&[
        "filter",
        "by_user_day.csv",
        "--from",
        "2025-02-30",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("filter.from"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "what was there before\n"
    );
    assert_eq!(files_in(&dir), ["out.csv"], "no temporary file is left");
    // A good filter replaces the file whole.
    let o = run(&[
        "filter",
        "by_user_day.csv",
        "--from",
        "2025-03-02",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let written = std::fs::read_to_string(&out).unwrap();
    assert!(written.starts_with("Instance user ID,"), "{written}");
    assert!(!written.contains("what was there before"));
    assert_eq!(files_in(&dir), ["out.csv"]);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn output_naming_the_input_is_refused_however_it_is_spelled() {
    let dir = scratch("same");
    let input = dir.join("export.csv");
    let original = fixture("by_user_day.csv");
    std::fs::write(&input, &original).unwrap();
    std::os::unix::fs::symlink(&input, dir.join("link.csv")).unwrap();
    std::fs::create_dir(dir.join("sub")).unwrap();
    let input_str = input.to_str().unwrap().to_string();
    let spellings = [
        input_str.clone(),
        dir.join("sub/../export.csv").to_str().unwrap().to_string(),
        dir.join("link.csv").to_str().unwrap().to_string(),
    ];
    for output in &spellings {
        let o = run(&["filter", &input_str, "-o", output]);
        assert_eq!(o.status.code(), Some(2), "-o {output}");
        assert!(
            stderr(&o).contains("names the input file"),
            "{}",
            stderr(&o)
        );
        assert_eq!(std::fs::read(&input).unwrap(), original, "-o {output}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_table_shows_terminal_control_characters_as_escapes() {
    let csv = "Instance user ID,Client Name,Timestamp Date,Language,Chat Events\n\
               \u{1b}]0;owned\u{7}\u{1b}[2J,\u{1b}[31mred,2025-01-01,\u{9b}1m,3\n";
    let o = run_stdin(
        &["summarize", "-", "--by", "user,client,language"],
        csv.as_bytes(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(!out.chars().any(|c| c.is_control() && c != '\n'), "{out:?}");
    assert!(out.contains("\\u{1b}[31mred"), "{out}");
    assert!(out.contains("\\u{1b}]0;owned\\u{7}\\u{1b}[2J"), "{out}");
    assert!(out.contains("\\u{9b}1m"), "{out}");
}

/// growth, retention and inactive answer in the documented JSON shape, from the same rows as the
/// reference (growth by week with a date filter), and name the granularity a by_user export lacks.
#[test]
fn growth_retention_and_inactive_commands() {
    let csv = fixture("by_user_day.csv");
    let (_, rows) = common::rows(&csv);
    let rows: Vec<&Row> = rows.iter().collect();
    let (from, to) = ("2025-03-05", "2025-04-02");
    let growth = json(&[
        "growth",
        "by_user_day.csv",
        "--period",
        "week",
        "--from",
        from,
        "--to",
        to,
        "--format",
        "json",
    ]);
    assert_eq!(growth["period"], "week");
    assert_eq!(
        growth["periods"],
        reference_growth(&active_sets(&rows, from, to, true))
    );

    let retention = json(&["retention", "by_user_day.csv", "--format", "json"]);
    assert_eq!(retention["period"], "month");
    let cohorts = retention["cohorts"].as_array().unwrap();
    let first_cohort: u64 = cohorts.iter().map(|c| c["users"].as_u64().unwrap()).sum();
    assert_eq!(
        first_cohort as usize,
        active_users(&rows),
        "every active user is in one cohort"
    );

    // A registry: its users who never appear come first, with their flags.
    let dir = tempfile::tempdir().unwrap();
    let registry = dir.path().join("registry.csv");
    std::fs::write(
        &registry,
        "Instance user ID,Service account,Site admin\nnobody-7,false,true\n",
    )
    .unwrap();
    let inactive = json(&[
        "inactive",
        "by_user_day.csv",
        "--days",
        "3",
        "--registry",
        registry.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(inactive["days"], 3);
    assert_eq!(inactive["users"][0]["user"], "nobody-7");
    assert_eq!(inactive["users"][0]["lastActive"], Value::Null);
    assert_eq!(inactive["users"][0]["serviceAccount"], false);
    assert_eq!(inactive["users"][0]["siteAdmin"], true);
    let csv_out = stdout(&run(&[
        "inactive",
        "by_user_day.csv",
        "--days",
        "3",
        "--format",
        "csv",
    ]));
    assert!(
        csv_out.starts_with("user,email,username,lastActive\n"),
        "{csv_out}"
    );
    assert_eq!(
        csv_out.lines().count() - 1,
        inactive["users"].as_array().unwrap().len() - 1
    );
    // The CLI's CSV is the core's writer's (the page downloads the same file), with a registry too.
    let table = sg_analytics::Table::from_bytes(&csv).unwrap();
    let query = sg_analytics::InactiveQuery {
        days: 3,
        filter: Default::default(),
    };
    assert_eq!(
        csv_out,
        table.inactive_users(&query, None).unwrap().to_csv()
    );
    let with_registry = stdout(&run(&[
        "inactive",
        "by_user_day.csv",
        "--days",
        "3",
        "--registry",
        registry.to_str().unwrap(),
        "--format",
        "csv",
    ]));
    let registry = sg_analytics::Registry::from_bytes(&std::fs::read(&registry).unwrap()).unwrap();
    let mut table = table;
    table.join_registry(&registry);
    assert_eq!(
        with_registry,
        table
            .inactive_users(&query, Some(&registry))
            .unwrap()
            .to_csv()
    );

    let o = run(&["growth", "by_user.csv"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("by_user_day"), "{}", stderr(&o));
    let o = run(&["inactive", "by_user_day.csv"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--days"), "{}", stderr(&o));
    let o = run(&["growth", "by_user_day.csv", "--period", "day"]);
    assert_eq!(o.status.code(), Some(2));
}

/// `growth` and `retention --format csv` are the core's writers' (the page downloads the same
/// files), and hold what the JSON answers hold, checked against the reference: one row per period
/// or cohort in order, every column named; a younger cohort's row ends in blank cells.
#[test]
fn growth_and_retention_csv_are_the_core_writers_and_hold_the_answers() {
    let csv = fixture("by_user_day.csv");
    let table = sg_analytics::Table::from_bytes(&csv).unwrap();
    let (_, rows) = common::rows(&csv);
    let rows: Vec<&Row> = rows.iter().filter(|r| r.date.is_some()).collect();
    let parse = |text: &str| -> Vec<Vec<String>> {
        csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes())
            .records()
            .map(|r| r.unwrap().iter().map(String::from).collect())
            .collect()
    };
    let first = rows.iter().map(|r| r.date.clone().unwrap()).min().unwrap();
    let last = rows.iter().map(|r| r.date.clone().unwrap()).max().unwrap();
    for (period, from, to) in [
        ("month", first.as_str(), last.as_str()),
        ("week", first.as_str(), last.as_str()),
        ("week", "2025-03-05", "2025-04-02"),
    ] {
        let args = [
            "by_user_day.csv",
            "--period",
            period,
            "--from",
            from,
            "--to",
            to,
            "--format",
            "csv",
        ];
        let query: sg_analytics::PeriodQuery = serde_json::from_value(serde_json::json!({
            "period": period,
            "filter": {"from": from, "to": to},
        }))
        .unwrap();
        let sets = active_sets(&rows, from, to, period == "week");

        let o = run(&[&["growth"][..], &args].concat());
        assert!(o.status.success(), "{}", stderr(&o));
        let growth_csv = stdout(&o);
        assert_eq!(growth_csv, table.growth(&query).unwrap().to_csv());
        let got = parse(&growth_csv);
        assert_eq!(
            got[0],
            [
                "period",
                "activeUsers",
                "newUsers",
                "retainedUsers",
                "resurrectedUsers",
                "churnedUsers",
                "quickRatio",
                "partial",
                "smallSample"
            ]
        );
        let reference = reference_growth(&sets);
        let reference = reference.as_array().unwrap();
        assert_eq!(got.len() - 1, reference.len(), "{period} {from}..{to}");
        for (row, want) in got[1..].iter().zip(reference) {
            assert_eq!(row[0], want["period"].as_str().unwrap());
            for (cell, key) in row[1..6].iter().zip(&got[0][1..6]) {
                assert_eq!(
                    cell.parse::<u64>().unwrap(),
                    want[key].as_u64().unwrap(),
                    "{key}"
                );
            }
            let ratio = want["quickRatio"].as_f64().map(|q| format!("{q:.2}"));
            assert_eq!(row[6], ratio.unwrap_or_default());
            assert_eq!(row[7], want["partial"].to_string());
            assert_eq!(row[8], want["smallSample"].to_string());
        }

        let o = run(&[&["retention"][..], &args].concat());
        assert!(o.status.success(), "{}", stderr(&o));
        let retention_csv = stdout(&o);
        assert_eq!(retention_csv, table.retention(&query).unwrap().to_csv());
        let got = parse(&retention_csv);
        let reference = reference_retention(&sets);
        let reference = reference.as_array().unwrap();
        let width = reference
            .iter()
            .map(|c| c["active"].as_array().unwrap().len())
            .max()
            .unwrap();
        let mut header = vec!["cohort".to_string(), "users".to_string()];
        header.extend((0..width).map(|k| format!("+{k}")));
        header.push("smallSample".to_string());
        assert_eq!(got[0], header);
        assert_eq!(got.len() - 1, reference.len());
        if period == "week" {
            assert!(reference.len() > 1, "several cohorts, of different widths");
        }
        for (row, want) in got[1..].iter().zip(reference) {
            let active: Vec<String> = want["active"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n.to_string())
                .collect();
            let mut expected = vec![
                want["cohort"].as_str().unwrap().to_string(),
                want["users"].to_string(),
            ];
            expected.extend(active);
            expected.resize(2 + width, String::new());
            expected.push(want["smallSample"].to_string());
            assert_eq!(row, &expected, "{period} {from}..{to}");
        }
    }
}

/// `--compare previous` adds the previous range's totals: the JSON's equal a direct summary of
/// that range, and the table shows both columns and the change.
#[test]
fn compare_previous_shows_the_range_before() {
    let got = json(&[
        "summarize",
        "by_user_day.csv",
        "--from",
        "2025-03-20",
        "--to",
        "2025-03-29",
        "--compare",
        "previous",
        "--format",
        "json",
    ]);
    assert_eq!(got["previous"]["range"]["from"], "2025-03-10");
    let direct = json(&[
        "summarize",
        "by_user_day.csv",
        "--from",
        "2025-03-10",
        "--to",
        "2025-03-19",
        "--format",
        "json",
    ]);
    assert_eq!(got["previous"]["totals"], direct["totals"]);
    let table = stdout(&run(&[
        "summarize",
        "by_user_day.csv",
        "--from",
        "2025-03-20",
        "--to",
        "2025-03-29",
        "--compare",
        "previous",
    ]));
    assert!(
        table.contains("previous 2025-03-10 to 2025-03-19"),
        "{table}"
    );
    assert_eq!(
        run(&["summarize", "by_user_day.csv", "--compare", "last"])
            .status
            .code(),
        Some(2)
    );
}

/// `--attributes` joins a people file: `--by` its column and `--where` it, with the unmapped users
/// shown as such; a bad people file is exit 2 naming the problem.
#[test]
fn a_people_file_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let people = dir.path().join("people.csv");
    std::fs::write(&people, "username,Team\nEVA.CHEN0,Search\n").unwrap();
    let people = people.to_str().unwrap();
    let got = json(&[
        "summarize",
        "by_user_day.csv",
        "--attributes",
        people,
        "--by",
        "Team",
        "--format",
        "json",
    ]);
    let csv = fixture("by_user_day.csv");
    let (_, rows) = common::rows(&csv);
    let eva = rows.iter().filter(|r| r.user == "1000").count();
    assert_eq!(got["groups"][0]["key"]["Team"], "Search");
    assert_eq!(got["groups"][0]["rows"], eva);
    assert_eq!(got["groups"][1]["key"]["Team"], Value::Null);
    let filtered = json(&[
        "summarize",
        "by_user_day.csv",
        "--attributes",
        people,
        "--where",
        "Team=search",
        "--format",
        "json",
    ]);
    assert_eq!(filtered["totals"]["rows"], eva);
    let table = stdout(&run(&[
        "summarize",
        "by_user_day.csv",
        "--attributes",
        people,
        "--by",
        "Team",
    ]));
    assert!(table.contains("(unmapped)"), "{table}");
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "Team\nx\n").unwrap();
    let o = run(&[
        "summarize",
        "by_user_day.csv",
        "--attributes",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no key column"), "{}", stderr(&o));
}

/// Regression: `inactive --registry R --attributes P --where Team=Search` listed every registry
/// user outside the team (other teams, no team) as a never-active seat of it.
#[test]
fn inactive_under_a_team_filter_lists_only_the_teams_seats() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    };
    let export = write("export.csv", SEATS_EXPORT);
    let people = write("people.csv", SEATS_PEOPLE);
    let registry = write("registry.csv", SEATS_REGISTRY);
    let users = |extra: &[&str]| -> Vec<String> {
        let mut args = vec![
            "inactive",
            &export,
            "--days",
            "7",
            "--to",
            "2025-03-31",
            "--registry",
            &registry,
            "--attributes",
            &people,
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        json(&args)["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["user"].as_str().unwrap().to_string())
            .collect()
    };
    // The registry's service accounts 5 and 13 are left out by default.
    assert_eq!(users(&["--where", "Team=Search"]), ["10", "2"]);
    assert_eq!(
        users(&["--where", "Team=Search", "--include-service-accounts"]),
        ["10", "13", "2", "5"]
    );
    assert_eq!(users(&["--where", "Team=Cloud"]), ["11", "3"]);
    assert_eq!(
        users(&["--include-service-accounts"]),
        ["10", "11", "12", "13", "2", "3", "4", "5"]
    );
}

/// Service accounts (CI bots) made most of a headline: with `--registry`, every command leaves
/// them out unless `--include-service-accounts`, and says which it did and how many: in the
/// table's text, in the JSON summary, on stderr for CSV.
#[test]
fn service_accounts_are_left_out_with_a_registry_and_the_output_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    };
    let export = write("export.csv", SEATS_EXPORT);
    let registry = write("registry.csv", SEATS_REGISTRY);
    let summary = |extra: &[&str]| {
        let mut args = vec![
            "summarize",
            &export,
            "--registry",
            &registry,
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        json(&args)
    };
    let left_out = summary(&[]);
    assert_eq!(left_out["totals"]["users"], 4);
    assert_eq!(
        left_out["serviceAccounts"],
        json!({"excluded": true, "users": 1})
    );
    let counted = summary(&["--include-service-accounts"]);
    assert_eq!(counted["totals"]["users"], 5);
    assert_eq!(
        counted["serviceAccounts"],
        json!({"excluded": false, "users": 1})
    );

    let o = run(&["summarize", &export, "--registry", &registry]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("Excludes 1 service account (marked in the registry); --include-service-accounts counts them."),
        "{}",
        stdout(&o)
    );
    let o = run(&[
        "growth",
        &export,
        "--registry",
        &registry,
        "--include-service-accounts",
    ]);
    assert!(
        stdout(&o).contains("Includes 1 service account (marked in the registry)."),
        "{}",
        stdout(&o)
    );
    // CSV stays the core's file; the note goes to stderr.
    let o = run(&[
        "summarize",
        &export,
        "--registry",
        &registry,
        "--format",
        "csv",
    ]);
    assert!(!stdout(&o).contains("service account"), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("Excludes 1 service account"),
        "{}",
        stderr(&o)
    );
    // The rows written leave the bot out too.
    let o = run(&["filter", &export, "--registry", &registry]);
    assert!(!stdout(&o).contains("ci-bot"), "{}", stdout(&o));
    assert!(
        stderr(&o).contains("Excludes 1 service account"),
        "{}",
        stderr(&o)
    );
    // Without a registry nothing is said, and asking to include them says what is missing.
    assert!(!stdout(&run(&["summarize", &export])).contains("service account"));
    let o = run(&["summarize", &export, "--include-service-accounts"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--registry FILE"), "{}", stderr(&o));
}

/// Runs the CLI in `dir`, killing it and failing if it has not ended within 30 s (a hang).
fn run_in_bounded(dir: &std::path::Path, args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sg-analytics"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > std::time::Duration::from_secs(30) {
            child.kill().unwrap();
            panic!("sg-analytics {args:?} hung");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn mkfifo(path: &std::path::Path) {
    let status = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(status.success());
}

/// `-o` onto a FIFO, or a symbolic link to a FIFO or to a character device, was replaced by a
/// regular world-readable file (as root, a system node clobbered), and `filter FILE -o FIFO` hung
/// in the same-file check, which opened the FIFO. Now: refused at once, the node left as it was.
#[cfg(unix)]
#[test]
fn output_onto_a_fifo_or_a_device_is_refused_without_hanging() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    let export = std::path::Path::new(FIXTURES).join("by_user_day.csv");
    let export = export.to_str().unwrap();
    let fifo = dir.path().join("fifo");
    mkfifo(&fifo);
    std::os::unix::fs::symlink(&fifo, dir.path().join("to-fifo")).unwrap();
    std::os::unix::fs::symlink("/dev/null", dir.path().join("to-null")).unwrap();
    for (target, kind) in [
        ("fifo", "is a FIFO"),
        ("to-fifo", "is a symbolic link to a FIFO"),
        ("to-null", "is a symbolic link to a character device"),
    ] {
        for command in ["filter", "summarize", "growth"] {
            let o = run_in_bounded(dir.path(), &[command, export, "-o", target]);
            assert_eq!(o.status.code(), Some(2), "{command} -o {target}");
            assert!(stderr(&o).contains(kind), "{}", stderr(&o));
        }
    }
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    for link in ["to-fifo", "to-null"] {
        let meta = std::fs::symlink_metadata(dir.path().join(link)).unwrap();
        assert!(meta.file_type().is_symlink(), "{link} was replaced");
    }
    assert!(std::fs::metadata("/dev/null")
        .unwrap()
        .file_type()
        .is_char_device());
    assert_eq!(
        files_in(dir.path()),
        ["fifo", "to-fifo", "to-null"],
        "no temporary file is left"
    );
}

/// `-o -` and `-o /dev/stdout` are the user's plain wish for stdout: written through, not
/// refused and not replaced.
#[test]
fn output_to_stdout_by_name_writes_through() {
    let plain = run(&["filter", "by_user_day.csv", "--from", "2025-03-20"]);
    assert!(plain.status.success(), "{}", stderr(&plain));
    assert!(!plain.stdout.is_empty());
    for name in ["-", "/dev/stdout"] {
        let o = run(&[
            "filter",
            "by_user_day.csv",
            "--from",
            "2025-03-20",
            "-o",
            name,
        ]);
        assert!(o.status.success(), "-o {name}: {}", stderr(&o));
        assert_eq!(o.stdout, plain.stdout, "-o {name}");
    }
}

/// `-o` replaced an existing 0600 file by one with the temporary file's or the umask's mode; a
/// new file is created readable by its owner only.
#[cfg(unix)]
#[test]
fn output_keeps_an_existing_files_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    for (name, before) in [("private.csv", 0o600), ("shared.csv", 0o640)] {
        let out = dir.path().join(name);
        std::fs::write(&out, "old\n").unwrap();
        std::fs::set_permissions(&out, std::fs::Permissions::from_mode(before)).unwrap();
        let o = run(&["filter", "by_user_day.csv", "-o", out.to_str().unwrap()]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(std::fs::read_to_string(&out)
            .unwrap()
            .starts_with("Instance user ID"));
        assert_eq!(mode(&out), before, "{name}");
    }
    let new = dir.path().join("new.csv");
    let o = run(&["growth", "by_user_day.csv", "-o", new.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(mode(&new), 0o600);
}

/// `-o` through a symbolic link to a regular file replaces that file and keeps the link.
#[cfg(unix)]
#[test]
fn output_through_a_symlink_replaces_the_file_it_names() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.csv");
    std::fs::write(&real, "old\n").unwrap();
    let link = dir.path().join("link.csv");
    std::os::unix::fs::symlink("real.csv", &link).unwrap();
    let o = run(&["filter", "by_user_day.csv", "-o", link.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(std::fs::read_to_string(&real)
        .unwrap()
        .starts_with("Instance user ID"));
    assert_eq!(files_in(dir.path()), ["link.csv", "real.csv"]);
}

/// growth, retention and inactive took `-o` and ignored it (the answer went to stdout); every
/// answering command now writes its answer to FILE, the same bytes as to stdout.
#[test]
fn every_command_honours_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("answer");
    let out = out.to_str().unwrap();
    let cases: &[&[&str]] = &[
        &["growth", "by_user_day.csv"],
        &["retention", "by_user_day.csv", "--format", "csv"],
        &[
            "inactive",
            "by_user_day.csv",
            "--days",
            "7",
            "--format",
            "json",
        ],
        &["summarize", "by_user_day.csv", "--by", "month"],
    ];
    for args in cases {
        let plain = run(args);
        assert!(plain.status.success(), "{args:?}: {}", stderr(&plain));
        let mut with_output = args.to_vec();
        with_output.extend(["-o", out]);
        let o = run(&with_output);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        assert!(o.stdout.is_empty(), "{args:?} wrote to stdout");
        assert_eq!(std::fs::read(out).unwrap(), plain.stdout, "{args:?}");
    }
}

/// `--attributes` and `--registry` were read whole whatever their size; a file larger than any
/// people file or registry is refused before a byte is read (a sparse file: no disk used).
#[test]
fn side_files_are_read_with_a_size_limit() {
    let dir = tempfile::tempdir().unwrap();
    let huge = dir.path().join("huge.csv");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(300 << 20)
        .unwrap();
    let huge = huge.to_str().unwrap();
    for args in [
        &["summarize", "by_user_day.csv", "--attributes", huge][..],
        &[
            "inactive",
            "by_user_day.csv",
            "--days",
            "7",
            "--registry",
            huge,
        ][..],
    ] {
        let o = run(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&o).contains("is larger than 268435456 bytes"),
            "{}",
            stderr(&o)
        );
    }
}

/// A people file listing its users again and again printed one line per repeat on stderr; now
/// the first ten and a count of the rest.
#[test]
fn a_people_files_warnings_are_capped_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let people = dir.path().join("people.csv");
    let mut text = String::from("Instance user ID,Team\n1000,A\n");
    for _ in 0..500 {
        text.push_str("1000,B\n");
    }
    std::fs::write(&people, text).unwrap();
    let o = run(&[
        "summarize",
        "by_user_day.csv",
        "--attributes",
        people.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert_eq!(err.matches("is listed again").count(), 10, "{err}");
    assert!(err.contains("... and 490 more warning(s)"), "{err}");
}

/// Runs the CLI with a terminal (a pseudo-terminal by `script`) as its stdout; what the terminal
/// was sent, and stderr.
fn run_on_a_terminal(dir: &std::path::Path, args: &[&str]) -> (String, String) {
    let command = std::iter::once(env!("CARGO_BIN_EXE_sg-analytics"))
        .chain(args.iter().copied())
        .map(|a| format!("'{a}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let o = Command::new("script")
        .args(["-qec", &format!("{command} 2>stderr.txt"), "/dev/null"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let err = std::fs::read_to_string(dir.join("stderr.txt")).unwrap();
    (String::from_utf8_lossy(&o.stdout).into_owned(), err)
}

/// CSV and `filter` sent an export's raw control characters (an escape sequence that retitles or
/// recolours) to a terminal; there they are written as escapes and stderr says so, while into a
/// pipe the bytes stay exact.
#[cfg(unix)]
#[test]
fn control_characters_reach_no_terminal() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("no `script` to make a terminal: skipped");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let csv = "Instance user ID,Client Name,Timestamp Date,Chat Events\n\
               \u{1b}]0;owned\u{7},\u{1b}[31mred,2025-01-01,3\n\"\u{9b}1m\r\",x,2025-01-02,4\n";
    std::fs::write(dir.path().join("export.csv"), csv).unwrap();
    for args in [
        &["filter", "export.csv"][..],
        &["summarize", "export.csv", "--by", "user", "--format", "csv"][..],
        &[
            "summarize",
            "export.csv",
            "--by",
            "user",
            "--format",
            "json",
        ][..],
    ] {
        let (out, err) = run_on_a_terminal(dir.path(), args);
        let raw: Vec<char> = out
            .chars()
            .filter(|&c| c.is_control() && c != '\n' && c != '\r')
            .collect();
        assert!(raw.is_empty(), "{args:?}: {raw:?} in {out:?}");
        assert!(out.contains("owned"), "{args:?}: {out}");
        assert!(err.contains("shown as \\u{..} escapes"), "{args:?}: {err}");
    }
    let (out, _) = run_on_a_terminal(dir.path(), &["filter", "export.csv"]);
    assert!(out.contains("\\u{1b}[31mred"), "{out}");
    assert!(out.contains("\\u{9b}1m\\u{d}"), "{out}");
    // Into a pipe: the exact bytes.
    let o = run_in_bounded(dir.path(), &["filter", "export.csv"]);
    assert!(String::from_utf8(o.stdout)
        .unwrap()
        .contains("\u{1b}[31mred"));
}

/// The run failed with exit 2, saying `what` on stderr.
fn refused(o: &Output, what: &str) {
    assert_eq!(o.status.code(), Some(2), "{}", stderr(o));
    assert!(stderr(o).contains(what), "{}", stderr(o));
}

/// `tests/fixtures/engagement.csv` runs from Wednesday 2025-01-01 to Tuesday 2025-01-14: its first
/// and last weeks are partial. Worked by hand (see tests/engagement.rs for the rows): A is active
/// on Jan 1, 2, 6, 7, 8, 13; B on Jan 3, 10, 14 (its Jan 9 row is not active); C never.
#[test]
fn stickiness_by_week_with_partial_weeks_at_both_ends() {
    let o = run(&[
        "stickiness",
        "engagement.csv",
        "--period",
        "week",
        "--format",
        "csv",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let expected = "\
period,partial,activeUsers,avgDau,dauOverMau,smallSample,days1,days2,days3,days4,days5,days6,days7
2024-12-30,true,2,0.6,0.3,true,1,1,0,0,0,,
2025-01-06,false,2,0.5714285714285714,0.2857142857142857,true,1,0,1,0,0,0,0
2025-01-13,true,2,1.0,0.5,true,2,0,,,,,
";
    assert_eq!(stdout(&o), expected);
    // The JSON holds the same numbers, the histogram as long as the period's days in the range.
    let s = json(&[
        "stickiness",
        "engagement.csv",
        "--period",
        "week",
        "--format",
        "json",
    ]);
    assert_eq!(s["period"], "week");
    let partial: Vec<&Value> = s["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["partial"])
        .collect();
    assert_eq!(partial, [true, false, true]);
    assert_eq!(
        s["periods"][0]["daysActive"],
        serde_json::json!([1, 1, 0, 0, 0])
    );
    assert_eq!(s["periods"][2]["daysActive"], serde_json::json!([2, 0]));
    // The latest week the range covers whole with someone active: the middle one.
    assert_eq!(s["latestComplete"], "2025-01-06");
    // The table rounds for reading and marks the partial weeks.
    let table = stdout(&run(&["stickiness", "engagement.csv", "--period", "week"]));
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("period "), "{table}");
    let cells = |l: &str| l.split_whitespace().map(String::from).collect::<Vec<_>>();
    assert_eq!(
        cells(lines[1])[..5],
        ["2024-12-30", "true", "2", "0.6000", "0.3000"]
    );
    assert!(
        lines[2].contains(" 0.5714 ") && lines[2].contains(" 0.2857 "),
        "{table}"
    );
}

#[test]
fn features_by_week_count_users_first_users_and_breadth() {
    let o = run(&[
        "features",
        "engagement.csv",
        "--period",
        "week",
        "--format",
        "csv",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Week 1: A searches (Jan 1) and accepts completions (Jan 2), B uses nothing (Jan 3).
    // Week 2: A chats (Jan 6, a command Jan 7) and searches again (not new); B's searches on Jan 9
    // are on a row that is not active. Week 3: A accepts an auto-edit, B a completion (new to B).
    let expected = "\
period,partial,activeUsers,smallSample,search users,completions users,chat users,autoEdit users,search new users,completions new users,chat new users,autoEdit new users,breadth0,breadth1,breadth2,breadth3,breadth4
2024-12-30,true,2,true,1,1,0,0,1,1,0,0,1,0,1,0,0
2025-01-06,false,2,true,1,0,1,0,0,0,1,0,1,0,1,0,0
2025-01-13,true,2,true,0,1,0,1,0,1,0,1,0,2,0,0,0
";
    assert_eq!(stdout(&o), expected);
    let f = json(&["features", "engagement.csv", "--format", "json"]);
    assert_eq!(
        f["features"],
        serde_json::json!(["search", "completions", "chat", "autoEdit"])
    );
    // One month, partial (Jan 1-14 of 31 days): A uses all four features, B completions only.
    let january = &f["periods"][0];
    assert_eq!(january["partial"], true);
    assert_eq!(january["users"]["completions"], 2);
    assert_eq!(january["breadth"], serde_json::json!([0, 1, 0, 0, 1]));
    assert_eq!(f["labels"]["autoEdit"], "Auto-edit");
    // The table heads each feature by its heading; the CSV keeps the keys.
    let table = stdout(&run(&["features", "engagement.csv", "--period", "week"]));
    let head = table.lines().next().unwrap();
    assert!(
        head.contains("Auto-edit users") && head.contains("Auto-edit new users"),
        "{table}"
    );
    assert!(!head.contains("autoEdit"), "{table}");
}

/// An export without the auto-edit columns has three features, and breadth runs 0..=3.
#[test]
fn features_of_an_export_without_auto_edit_columns() {
    let export = String::from_utf8(fixture("engagement.csv")).unwrap();
    let without: String = export
        .lines()
        .map(|l| l.rsplit_once(',').unwrap().0.to_string() + "\n")
        .collect();
    assert!(!without.contains("Auto-edit"));
    let o = run_stdin(
        &["features", "-", "--period", "week", "--format", "json"],
        without.as_bytes(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let f: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        f["features"],
        serde_json::json!(["search", "completions", "chat"])
    );
    // Week 3: A's only use was the auto-edit, so A now uses none of the three.
    let week3 = &f["periods"][2];
    assert_eq!(
        week3["users"],
        serde_json::json!({"search": 0, "completions": 1, "chat": 0})
    );
    assert_eq!(week3["breadth"], serde_json::json!([1, 1, 0, 0]));
    let csv = run_stdin(&["features", "--format", "csv"], without.as_bytes());
    let header = stdout(&csv).lines().next().unwrap().to_string();
    assert!(
        !header.contains("autoEdit") && header.ends_with("breadth2,breadth3"),
        "{header}"
    );
}

/// `--compare lastPeriods`: the last two weeks the range covers whole (no whole month in it),
/// Jan 6-12 and Jan 13-19, beside the range's totals, in the JSON and the table.
#[test]
fn summarize_compares_the_last_two_whole_periods() {
    let args = [
        "summarize",
        "engagement.csv",
        "--from",
        "2024-12-30",
        "--to",
        "2025-01-19",
        "--compare",
        "lastPeriods",
    ];
    let s = json(&[&args[..], &["--format", "json"]].concat());
    let last = &s["lastPeriods"];
    assert_eq!(last["period"], "week");
    assert_eq!(last["before"]["period"], "2025-01-06");
    assert_eq!(last["latest"]["period"], "2025-01-13");
    // Jan 6-12: A's 1 search and B's 5 (a kept row, though not active); Jan 13-19: none.
    assert_eq!(last["before"]["totals"]["Searches"], 6.0);
    assert_eq!(last["latest"]["totals"]["Searches"], 0.0);
    let table = stdout(&run(&args));
    assert!(table.contains("change 2025-01-13 vs 2025-01-06"), "{table}");
    let searches: Vec<&str> = table
        .lines()
        .find(|l| l.trim_start().starts_with("Searches "))
        .unwrap()
        .split_whitespace()
        .collect();
    // The range's 13 searches (3 + 1 + 5 + 4), then the two weeks'.
    assert_eq!(searches[..4], ["Searches", "13", "6", "0"], "{table}");
    let o = run(&["summarize", "engagement.csv", "--compare", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("\"lastPeriods\""), "{}", stderr(&o));
}

#[test]
fn engagement_answers_refuse_a_month_export_naming_the_granularity_to_fetch() {
    for command in ["stickiness", "features"] {
        for format in ["table", "csv", "json"] {
            let o = run(&[command, "by_user_month.csv", "--format", format]);
            assert_eq!(o.status.code(), Some(2), "{command}");
            assert!(o.stdout.is_empty(), "{command}");
            let err = stderr(&o);
            assert!(
                err.contains("by_user_month export") && err.contains("fetch it at the by_user_day"),
                "{command}: {err}"
            );
        }
    }
    let o = run(&["stickiness", "by_user.csv"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("by_user_day"), "{}", stderr(&o));
}

/// The new commands share the answering commands' prologue: the filters, -o, the refusal of -o
/// naming the input, --help.
#[test]
fn engagement_commands_take_the_filters_and_output() {
    // From Jan 6 the range starts on a Monday: the first week is whole, and A's Jan 1-2 use is
    // outside it, so A's search on Jan 8 is A's first in the range.
    let f = json(&[
        "features",
        "engagement.csv",
        "--period",
        "week",
        "--from",
        "2025-01-06",
        "--format",
        "json",
    ]);
    assert_eq!(f["periods"][0]["partial"], false);
    assert_eq!(f["periods"][0]["newUsers"]["search"], 1);
    let s = json(&[
        "stickiness",
        "engagement.csv",
        "--user",
        "B",
        "--period",
        "week",
        "--format",
        "json",
    ]);
    let active: Vec<&Value> = s["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["activeUsers"])
        .collect();
    assert_eq!(active, [1, 1, 1]);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("s.csv");
    let o = run(&[
        "stickiness",
        "engagement.csv",
        "--format",
        "csv",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success() && o.stdout.is_empty(), "{}", stderr(&o));
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .starts_with("period,partial,"));
    let input = dir.path().join("e.csv");
    std::fs::write(&input, fixture("engagement.csv")).unwrap();
    let o = run(&[
        "features",
        input.to_str().unwrap(),
        "-o",
        input.to_str().unwrap(),
    ]);
    refused(&o, "names the input file");
    for command in ["stickiness", "features"] {
        let help = stdout(&run(&[command, "--help"]));
        for option in [
            "--period",
            "--format",
            "--output",
            "--from",
            "--attributes",
            "--instance",
        ] {
            assert!(help.contains(option), "{command} {option}");
        }
    }
    let o = run(&["features", "engagement.csv", "--period", "day"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--period"), "{}", stderr(&o));
}

/// Each rate says what it stands on: the summary names every rate's denominator, lists the rates
/// whose denominator is under the minimum (`smallSample`, in the JSON, the CSV's last column and
/// the table's `*`), and the minimum is settable.
#[test]
fn small_samples_are_flagged_under_a_settable_minimum() {
    let csv = fixture("by_user_day.csv");
    let (_, rows) = common::rows(&csv);
    let month = |m: &str| -> Vec<&Row> {
        rows.iter()
            .filter(|r| r.date.as_deref().is_some_and(|d| d.starts_with(m)))
            .collect()
    };
    let (march, april) = (
        sum(&month("2025-03"), "Combined Completion Suggestions"),
        sum(&month("2025-04"), "Combined Completion Suggestions"),
    );
    assert!(april < march);
    // A minimum between the two months' suggestions: April's CAR is a small sample, March's not.
    let minimum = ((march + april) / 2.0).round() as u64;
    let m = minimum.to_string();
    let s = json(&[
        "summarize",
        "by_user_day.csv",
        "--by",
        "month",
        "--min-sample",
        &m,
        "--format",
        "json",
    ]);
    assert_eq!(s["minSample"], minimum);
    assert_eq!(
        s["denominators"]["Combined CAR"],
        "Combined Completion Suggestions"
    );
    assert_eq!(s["denominators"]["avgDaysActivePerUser"], "users");
    let groups = s["groups"].as_array().unwrap();
    assert_eq!(groups[0]["Combined Completion Suggestions"], march);
    let small = |g: &Value| -> Vec<String> {
        g["smallSample"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    assert!(!small(&groups[0]).contains(&"Combined CAR".to_string()));
    assert!(small(&groups[1]).contains(&"Combined CAR".to_string()));
    // The totals: 25 users is under the default 50, not under 25.
    let totals = json(&["summarize", "by_user_day.csv", "--format", "json"]);
    assert_eq!(totals["minSample"], 50);
    assert_eq!(
        totals["smallSample"],
        serde_json::json!(["avgDaysActivePerUser"])
    );
    let totals = json(&[
        "summarize",
        "by_user_day.csv",
        "--min-sample",
        "25",
        "--format",
        "json",
    ]);
    assert_eq!(totals["smallSample"], serde_json::json!([]));
    // The CSV ends in the flags; the table marks the value and says what * means.
    let o = run(&[
        "summarize",
        "by_user_day.csv",
        "--by",
        "month",
        "--min-sample",
        &m,
        "--format",
        "csv",
    ]);
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].ends_with(",smallSample"), "{}", lines[0]);
    assert!(
        !lines[1].ends_with("Combined CAR") && lines[2].contains("Combined CAR"),
        "{text}"
    );
    let table = stdout(&run(&[
        "summarize",
        "by_user_day.csv",
        "--by",
        "month",
        "--min-sample",
        &m,
    ]));
    let april_line = table.lines().find(|l| l.starts_with("2025-04")).unwrap();
    let march_line = table.lines().find(|l| l.starts_with("2025-03")).unwrap();
    assert!(
        april_line.contains("0.2714*") && !march_line.contains('*'),
        "{table}"
    );
    assert!(
        table.contains(&format!(
            "* small sample: the rate's denominator is under {minimum}"
        )),
        "{table}"
    );
}

/// The answers per period flag each period or cohort whose rate stands on fewer than the minimum:
/// DAU/MAU and feature shares on the period's active users, a cohort's shares on its users, the
/// quick ratio on the churned users.
#[test]
fn period_answers_flag_small_samples() {
    let flags = |answer: &Value, list: &str| -> Vec<bool> {
        answer[list]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["smallSample"].as_bool().unwrap())
            .collect()
    };
    // Every week of engagement.csv has 2 active users: small under 3, not under 2.
    for (minimum, small) in [("3", true), ("2", false)] {
        for command in ["stickiness", "features"] {
            let a = json(&[
                command,
                "engagement.csv",
                "--period",
                "week",
                "--min-sample",
                minimum,
                "--format",
                "json",
            ]);
            assert_eq!(a["minSample"], minimum.parse::<u64>().unwrap());
            assert_eq!(flags(&a, "periods"), [small; 3], "{command} {minimum}");
        }
    }
    // Retention by week: A and B both start in the first week (a cohort of 2); growth: no one
    // churns, so no quick ratio and nothing to flag.
    let r = json(&[
        "retention",
        "engagement.csv",
        "--period",
        "week",
        "--min-sample",
        "3",
        "--format",
        "json",
    ]);
    assert_eq!(r["cohorts"][0]["users"], 2);
    assert_eq!(flags(&r, "cohorts"), [true]);
    let g = json(&[
        "growth",
        "engagement.csv",
        "--period",
        "week",
        "--format",
        "json",
    ]);
    assert_eq!(flags(&g, "periods"), [false; 3]);
    // by_user_day.csv: one user of 25 churns in April; its quick ratio stands on 1.
    let g = json(&["growth", "by_user_day.csv", "--format", "json"]);
    assert_eq!(g["periods"][1]["churnedUsers"], 1);
    assert_eq!(flags(&g, "periods"), [false, true]);
    let g = json(&[
        "growth",
        "by_user_day.csv",
        "--min-sample",
        "1",
        "--format",
        "json",
    ]);
    assert_eq!(flags(&g, "periods"), [false, false]);
}

/// The credits beside the usage: per month, credits ÷ the month's active users and ÷ its hours
/// saved (the usage from summarize's own answer by month); the range divides all the credits by
/// the range's distinct active users and hours.
#[test]
fn cost_sets_the_credits_against_each_months_usage_and_the_ranges() {
    let dir = tempfile::tempdir().unwrap();
    let credits = dir.path().join("credits.json");
    std::fs::write(
        &credits,
        r#"{"instanceURL": "x", "unit": "credits", "buckets": [
            {"month": "2025-03", "creditsUsed": 1000, "chatCredits": 600, "creditsIncluded": 50000},
            {"month": "2025-04", "creditsUsed": 480}]}"#,
    )
    .unwrap();
    let credits = credits.to_str().unwrap();
    let cost = json(&[
        "cost",
        "by_user_day.csv",
        "--credits",
        credits,
        "--format",
        "json",
    ]);
    let usage = json(&[
        "summarize",
        "by_user_day.csv",
        "--by",
        "month",
        "--format",
        "json",
    ]);
    let totals = json(&["summarize", "by_user_day.csv", "--format", "json"]);
    assert_eq!(cost["unit"], "credits");
    let months = cost["months"].as_array().unwrap();
    assert_eq!(months.len(), 2);
    for ((line, group), used) in months
        .iter()
        .zip(usage["groups"].as_array().unwrap())
        .zip([1000.0, 480.0])
    {
        assert_eq!(line["key"], group["key"]["month"]);
        assert_eq!(line["creditsUsed"], used);
        assert_eq!(line["activeUsers"], group["activeUsers"]);
        let (active, hours) = (
            group["activeUsers"].as_f64().unwrap(),
            group["hoursSaved"].as_f64().unwrap(),
        );
        assert!(approx(
            line["creditsPerActiveUser"].as_f64().unwrap(),
            used / active
        ));
        assert!(approx(
            line["creditsPerHourSaved"].as_f64().unwrap(),
            used / hours
        ));
    }
    // March: 25 active users, 1000 credits: 40 a user.
    assert_eq!(months[0]["activeUsers"], 25);
    assert!(approx(
        months[0]["creditsPerActiveUser"].as_f64().unwrap(),
        40.0
    ));
    let range = &cost["range"];
    assert_eq!(range["creditsUsed"], 1480.0);
    assert_eq!(range["activeUsers"], totals["totals"]["activeUsers"]);
    let hours = totals["totals"]["hoursSaved"].as_f64().unwrap();
    assert!(approx(
        range["creditsPerHourSaved"].as_f64().unwrap(),
        1480.0 / hours
    ));
    assert_eq!(cost["groups"], Value::Null);
    assert_eq!(cost["notes"], serde_json::json!([]));
    // The CSV: the months, then the range.
    let csv = stdout(&run(&[
        "cost",
        "by_user_day.csv",
        "--credits",
        credits,
        "--format",
        "csv",
    ]));
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "key,creditsUsed,activeUsers,hoursSaved,creditsPerActiveUser,creditsPerHourSaved"
    );
    assert!(
        lines[1].starts_with("2025-03,1000.0,25,") && lines[1].contains(",40.0,"),
        "{csv}"
    );
    assert!(lines[3].starts_with("range,1480.0,25,"), "{csv}");
    let table = stdout(&run(&["cost", "by_user_day.csv", "--credits", credits]));
    assert!(table.lines().any(|l| l.starts_with("range")), "{table}");
}

/// A credits answer in CSV, with dates for months and a month missing: the month says so and
/// the range has no figure; a filter of users says the credits are the instance's; a people
/// file's teams get no cost when the credits are not per user, and say why.
#[test]
fn cost_says_what_the_credits_cannot_answer() {
    let dir = tempfile::tempdir().unwrap();
    let credits = dir.path().join("credits.csv");
    std::fs::write(
        &credits,
        "startDate,endDate,used\n2025-03-01,2025-03-31,900\n",
    )
    .unwrap();
    let credits = credits.to_str().unwrap();
    let people = dir.path().join("people.csv");
    std::fs::write(
        &people,
        "Instance user ID,Team\n1000,Search\n1007,Search\n1014,Code Intel\n",
    )
    .unwrap();
    let people = people.to_str().unwrap();
    let cost = json(&[
        "cost",
        "by_user_day.csv",
        "--credits",
        credits,
        "--attributes",
        people,
        "--by",
        "Team",
        "--user",
        "1000",
        "--format",
        "json",
    ]);
    assert_eq!(cost["months"][0]["creditsUsed"], 900.0);
    // One user kept: 900 credits over 1 active user (the instance's credits, as the note says).
    assert_eq!(cost["months"][0]["creditsPerActiveUser"], 900.0);
    assert_eq!(cost["months"][1]["creditsUsed"], Value::Null);
    assert_eq!(cost["months"][1]["creditsPerActiveUser"], Value::Null);
    assert_eq!(cost["range"]["creditsUsed"], Value::Null);
    assert_eq!(cost["groups"], Value::Null);
    let notes: Vec<&str> = cost["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert!(notes.iter().any(|n| n.contains("startDate")), "{notes:?}");
    assert!(
        notes.iter().any(|n| n.contains("no credits for 2025-04")),
        "{notes:?}"
    );
    assert!(
        notes.iter().any(|n| n.contains("whole instance's")),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.contains("no cost per Team") && n.contains("not per user")),
        "{notes:?}"
    );
    // An answer with no buckets, or buckets with no credits used, is an error naming its fields.
    let odd = dir.path().join("odd.json");
    std::fs::write(
        &odd,
        r#"{"status":"ok","total":12.5,"detail":"see the portal"}"#,
    )
    .unwrap();
    let o = run(&[
        "cost",
        "by_user_day.csv",
        "--credits",
        odd.to_str().unwrap(),
    ]);
    refused(&o, "no list of buckets");
    refused(&o, "status, total, detail");
    std::fs::write(&odd, r#"[{"month":"2025-03","seats":4}]"#).unwrap();
    let o = run(&[
        "cost",
        "by_user_day.csv",
        "--credits",
        odd.to_str().unwrap(),
    ]);
    refused(&o, "no credits used");
    refused(&o, "month, seats");
    let o = run(&["cost", "by_user_day.csv"]);
    refused(
        &o,
        "--credits FILE is required, or --instance HOST to fetch them",
    );
}

/// Credits per user split by a people file's team: each team's credits are its users'.
#[test]
fn cost_per_team_where_the_credits_are_per_user() {
    let dir = tempfile::tempdir().unwrap();
    let credits = dir.path().join("credits.json");
    std::fs::write(
        &credits,
        r#"{"data": [
            {"month": "2025-03", "userId": "1000", "creditsUsed": 10},
            {"month": "2025-03", "userId": "1007", "creditsUsed": 20},
            {"month": "2025-04", "userId": "1007", "creditsUsed": 5},
            {"month": "2025-04", "userId": "1014", "creditsUsed": 7},
            {"month": "2025-04", "userId": "1021", "creditsUsed": 1}]}"#,
    )
    .unwrap();
    let people = dir.path().join("people.csv");
    std::fs::write(
        &people,
        "Instance user ID,Team\n1000,Search\n1007,Search\n1014,Code Intel\n",
    )
    .unwrap();
    let cost = json(&[
        "cost",
        "by_user_day.csv",
        "--credits",
        credits.to_str().unwrap(),
        "--attributes",
        people.to_str().unwrap(),
        "--by",
        "Team",
        "--format",
        "json",
    ]);
    let teams = json(&[
        "summarize",
        "by_user_day.csv",
        "--attributes",
        people.to_str().unwrap(),
        "--by",
        "Team",
        "--format",
        "json",
    ]);
    let groups = cost["groups"].as_array().unwrap();
    let used = |team: &str| -> f64 {
        groups.iter().find(|g| g["key"] == team).unwrap()["creditsUsed"]
            .as_f64()
            .unwrap()
    };
    // Search: 1000 and 1007 (10 + 20 + 5); Code Intel: 1014 (7); the unmapped: 1021 (1).
    assert_eq!(used("Search"), 35.0);
    assert_eq!(used("Code Intel"), 7.0);
    assert_eq!(used(""), 1.0);
    let search = groups.iter().find(|g| g["key"] == "Search").unwrap();
    let summary = teams["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"]["Team"] == "Search")
        .unwrap();
    assert_eq!(search["activeUsers"], summary["activeUsers"]);
    assert!(approx(
        search["creditsPerActiveUser"].as_f64().unwrap(),
        35.0 / 2.0
    ));
    assert_eq!(cost["range"]["creditsUsed"], 43.0);
}

/// `report` writes one self-contained HTML file: no script, nothing fetched, a print stylesheet
/// for A4, the input stated, and the core's numbers (the e2e spec checks them in Chromium).
#[test]
fn report_is_one_self_contained_html_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report.html");
    let out_str = out.to_str().unwrap();
    let o = run(&[
        "report",
        "by_user_day.csv",
        "-o",
        out_str,
        "--instance-name",
        "demo.example",
        "--period",
        "week",
        "--active-only",
        "--from",
        "2025-03-05",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(&out).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    for absent in [
        "<script", "src=", "href=", "http://", "https://", "@import", "url(http",
    ] {
        assert!(!html.contains(absent), "{absent}");
    }
    for present in [
        "@page{size:A4",
        "@media print",
        "<svg",
        "default-src 'none'",
    ] {
        assert!(html.contains(present), "{present}");
    }
    assert!(html.contains(r#"data-field="instance">demo.example<"#));
    assert!(html.contains(r#"data-field="range">2025-03-05 to 2025-04-14<"#));
    assert!(html.contains(r#"data-field="granularity">by_user_day<"#));
    assert!(html.contains(r#"data-field="filters">active rows only<"#));
    for section in [
        "Headlines",
        "Usage trend by week",
        "Growth",
        "Retention",
        "Stickiness",
        "Feature depth",
        "Top user",
        "Definitions",
    ] {
        assert!(html.contains(&format!("<h2>{section}")), "{section}");
    }
    // The cards' values are summarize's.
    let totals = json(&[
        "summarize",
        "by_user_day.csv",
        "--active-only",
        "--from",
        "2025-03-05",
        "--format",
        "json",
    ]);
    let card = |name: &str| -> f64 {
        let at = html.find(&format!(r#"data-metric="{name}""#)).unwrap();
        let rest = &html[at..];
        let v = &rest[rest.find("data-value=\"").unwrap() + 12..];
        v[..v.find('"').unwrap()].parse().unwrap()
    };
    for name in ["activeUsers", "avgDau", "hoursSaved", "Combined CAR"] {
        assert!(
            approx(card(name), totals["totals"][name].as_f64().unwrap()),
            "{name}"
        );
    }
}

/// Text from the export (here a people file's team) is text in the report, never markup; an
/// answer the export cannot give is a sentence naming the granularity to fetch.
#[test]
fn report_escapes_the_data_and_says_what_it_cannot_answer() {
    let dir = tempfile::tempdir().unwrap();
    let people = dir.path().join("people.csv");
    std::fs::write(
        &people,
        "Instance user ID,Team\n1000,<img src=x onerror=alert(1)>\n1007,\"A&B \"\"q\"\"\"\n",
    )
    .unwrap();
    let o = run(&[
        "report",
        "by_user_day.csv",
        "-o",
        "-",
        "--attributes",
        people.to_str().unwrap(),
        "--by",
        "Team",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let html = stdout(&o);
    assert!(!html.contains("<img"), "markup from the data");
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(html.contains("A&amp;B &quot;q&quot;"));
    assert!(html.contains("(unmapped)"));
    let o = run(&["report", "by_user_month.csv", "-o", "-"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let html = stdout(&o);
    assert!(html.contains("<h2>Growth"), "month exports have growth");
    assert!(html.contains("Not in this report: stickiness counts active days, and this by_user_month export has none: fetch it at the by_user_day"));
    let o = run(&["report", "by_user.csv", "-o", "-"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("Not in this report: growth needs dates"),
        "{}",
        stdout(&o)
    );
}

/// The report states the day it was made: SOURCE_DATE_EPOCH's (UTC) when set, so that two runs
/// make the same file; today's otherwise. A SOURCE_DATE_EPOCH that is not seconds is refused.
/// The report's cards compare the last complete period with the one before, by the core's rule
/// (the same as `summarize --compare lastPeriods`): Dec 30 to Jan 19 by week holds three whole
/// weeks, so Jan 13-19 against Jan 6-12; Jan 1-14 alone holds one, so nothing is compared.
#[test]
fn report_cards_compare_the_last_two_complete_periods() {
    let report = |extra: &[&str]| {
        let args = [
            &["report", "engagement.csv", "-o", "-", "--period", "week"],
            extra,
        ]
        .concat();
        let o = run(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        stdout(&o)
    };
    let html = report(&["--from", "2024-12-30", "--to", "2025-01-19"]);
    // Searches: 6 in Jan 6-12 (A's 1, B's 5), none in Jan 13-19; chat events: A's 1, then none;
    // active users: A and B in both.
    for (metric, delta) in [
        ("Searches", "-100% (2025-01-13 vs 2025-01-06)"),
        ("Chat Events", "-100% (2025-01-13 vs 2025-01-06)"),
        ("activeUsers", "+0% (2025-01-13 vs 2025-01-06)"),
    ] {
        let card = html
            .split(&format!(r#"data-metric="{metric}""#))
            .nth(1)
            .and_then(|rest| rest.split("</div>").next())
            .unwrap_or_default();
        assert!(
            card.contains(&format!(r#"<span class="delta">{delta}</span>"#)),
            "{metric}: {card}"
        );
    }
    assert!(html.contains(
        "Changes compare the last complete week (2025-01-13) with the one before (2025-01-06)"
    ));
    let alone = report(&[]);
    assert!(alone.contains("No changes shown: the range holds fewer than two complete weeks"));
    assert!(!alone.contains(r#"class="delta""#));
}

#[test]
fn report_states_the_day_it_was_made_reproducibly() {
    let report = |epoch: Option<&str>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sg-analytics"));
        command
            .args(["report", "by_user_day.csv", "-o", "-"])
            .current_dir(FIXTURES);
        match epoch {
            Some(epoch) => command.env("SOURCE_DATE_EPOCH", epoch),
            None => command.env_remove("SOURCE_DATE_EPOCH"),
        };
        command.output().unwrap()
    };
    // 1735689600 is 2025-01-01T00:00:00Z; a second less is still Dec 31 in UTC.
    let first = report(Some("1735689600"));
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(stdout(&first).contains(r#"Made on <b data-field="generated">2025-01-01</b> (UTC)"#));
    assert_eq!(first.stdout, report(Some("1735689600")).stdout);
    assert!(stdout(&report(Some("1735689599"))).contains(r#"data-field="generated">2024-12-31<"#));
    // Without it, today (UTC): the day before the run or after it, should midnight pass between.
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    };
    let before = sg_analytics::utc_day(now()).unwrap();
    let today = report(None);
    let after = sg_analytics::utc_day(now()).unwrap();
    let html = stdout(&today);
    assert!(
        [before, after]
            .iter()
            .any(|day| html.contains(&format!(r#"data-field="generated">{day}<"#))),
        "{}",
        &html[..html.find("</header>").unwrap()]
    );
    for bad in ["yesterday", "1.5e9"] {
        let o = report(Some(bad));
        refused(&o, "SOURCE_DATE_EPOCH");
        assert!(o.stdout.is_empty());
    }
}
