//! `sg-analytics fetch --format parquet --out-dir DIR [--append]` against the xtask mock of the
//! Analytics API: the incremental rule (the newest month present fetched again and replaced,
//! later months added, older ones untouched), run twice = run once, incremental = full, a failed
//! or interrupted run leaves the dataset as it was, and a folder that holds anything else is
//! refused before anything is fetched.
#![cfg(not(target_arch = "wasm32"))]

#[path = "common/mock_api.rs"]
mod mock_api;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use mock_api::{cli, hits, mock, stderr, INSTANCE};

/// A base URL: 8 users over 100 days from 2025-01-01 (to 2025-04-10), with `opts`; `id` keeps
/// each test's request counter apart.
fn base(opts: &str, id: &str) -> String {
    format!(
        "{}/_mock/users=8;days=100;start=2025-01-01;{opts};id={id}",
        mock()
    )
}

/// `fetch --instance ... --base-url BASE --out-dir DIR EXTRA...`.
fn fetch(base: &str, dir: &Path, extra: &[&str]) -> Output {
    cli()
        .args([
            "fetch",
            "--instance",
            INSTANCE,
            "--base-url",
            base,
            "--out-dir",
        ])
        .arg(dir)
        .args(extra)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn ok(o: Output) -> String {
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    assert!(
        o.stdout.is_empty(),
        "a dataset fetch writes nothing to stdout"
    );
    err
}

fn failed(o: Output) -> String {
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    err
}

fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("fetch-dataset-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap()
}

/// Every file under `dir` (paths relative to it, `/`-separated) with its bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// Each file's inode and modification time: a file replaced (renamed over) gets a new inode.
#[cfg(unix)]
fn stamps(dir: &Path) -> BTreeMap<String, (u64, std::time::SystemTime)> {
    use std::os::unix::fs::MetadataExt;
    files(dir)
        .into_keys()
        .map(|rel| {
            let meta = std::fs::metadata(dir.join(&rel)).unwrap();
            (rel, (meta.ino(), meta.modified().unwrap()))
        })
        .collect()
}

fn part(month: &str) -> String {
    format!("month={month}/part-0.parquet")
}

/// The rows of one part file, as the `parquet` crate reads them back.
fn rows_of(path: &Path) -> Vec<String> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let reader = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
    reader
        .get_row_iter(None)
        .unwrap()
        .map(|r| r.unwrap().to_string())
        .collect()
}

#[cfg(unix)]
#[test]
fn fetching_twice_writes_the_same_files_as_once_and_touches_only_the_newest_month() {
    let b = base("", "twice");
    let dir = scratch();
    let args = [
        "--append",
        "--to",
        "2025-03-20",
        "--granularity",
        "by_user_day",
    ];
    let said = ok(fetch(&b, dir.path(), &args));
    assert!(said.contains("3 months, 2025-01 to 2025-03"), "{said}");
    let once = files(dir.path());
    let names: Vec<&str> = once.keys().map(String::as_str).collect();
    assert_eq!(names, [part("2025-01"), part("2025-02"), part("2025-03")]);
    let before = stamps(dir.path());
    std::thread::sleep(std::time::Duration::from_millis(20));

    let said = ok(fetch(&b, dir.path(), &args));
    assert!(said.contains("month 2025-03"), "{said}");
    assert_eq!(
        files(dir.path()),
        once,
        "a second run writes the same bytes"
    );
    let after = stamps(dir.path());
    for old in [part("2025-01"), part("2025-02")] {
        assert_eq!(after[&old], before[&old], "{old} was touched");
    }
    let newest = part("2025-03");
    assert_ne!(
        after[&newest].0, before[&newest].0,
        "the newest month is replaced"
    );
    assert_eq!(hits(&b), 2);
}

#[cfg(unix)]
#[test]
fn an_incremental_fetch_after_a_later_date_equals_a_full_fetch_byte_for_byte() {
    let b = base("", "incremental");
    let grain = ["--granularity", "by_user_day_client_language"];
    let dir = scratch();
    ok(fetch(
        &b,
        dir.path(),
        &[&["--append", "--to", "2025-02-10"][..], &grain].concat(),
    ));
    let early = files(dir.path());
    let partial_february = early[&part("2025-02")].clone();
    let before = stamps(dir.path());

    // Later: the dataset is brought up to 2025-04-05 without --granularity (the dataset's own).
    let said = ok(fetch(&b, dir.path(), &["--append", "--to", "2025-04-05"]));
    assert!(said.contains("3 months, 2025-02 to 2025-04"), "{said}");
    assert!(said.contains("(by_user_day_client_language)"), "{said}");
    assert!(
        said.contains("1 other month(s) left as they were"),
        "{said}"
    );
    assert_eq!(
        stamps(dir.path())[&part("2025-01")],
        before[&part("2025-01")]
    );

    let full = scratch();
    ok(fetch(
        &b,
        full.path(),
        &[&["--to", "2025-04-05"][..], &grain].concat(),
    ));
    let whole = files(full.path());
    assert_eq!(whole.len(), 4);
    assert_eq!(files(dir.path()), whole, "incremental and full differ");
    // Not so by accident: the first run's February was partial, and was replaced.
    assert_ne!(whole[&part("2025-02")], partial_february);
    assert!(
        rows_of(&full.path().join(part("2025-02"))).len()
            > rows_of(&dir.path().join(part("2025-02"))).len() / 2
    );

    // One request per month writes the same files too (a month's rows in the same order).
    let windows = scratch();
    let range = [
        "--from",
        "2025-01-01",
        "--to",
        "2025-04-05",
        "--month-windows",
    ];
    ok(fetch(&b, windows.path(), &[&range[..], &grain].concat()));
    assert_eq!(files(windows.path()), whole);
}

#[cfg(unix)]
#[test]
fn a_failed_or_interrupted_run_leaves_the_dataset_as_it_was() {
    use std::os::unix::process::ExitStatusExt;
    let dir = scratch();
    let grain = ["--granularity", "by_user_day"];
    ok(fetch(
        &base("", "failed-first"),
        dir.path(),
        &[&["--append", "--to", "2025-02-10"][..], &grain].concat(),
    ));
    let held = files(dir.path());
    let before = stamps(dir.path());
    let later = ["--append", "--to", "2025-04-05", "--max-retries", "0"];

    let err = failed(fetch(&base("fault=cut", "failed-cut"), dir.path(), &later));
    assert!(err.contains("error"), "{err}");
    let err = failed(fetch(&base("fault=500", "failed-500"), dir.path(), &later));
    assert!(err.contains("500"), "{err}");
    // An API that ignores the dates answers January again: refused, January not replaced.
    let err = failed(fetch(
        &base("fault=nodates", "failed-nodates"),
        dir.path(),
        &later,
    ));
    assert!(
        err.contains("2025-01, before the first day asked (2025-02-01)"),
        "{err}"
    );
    assert_eq!(files(dir.path()), held);
    assert_eq!(stamps(dir.path()), before);

    // Interrupted mid-body: nothing written, no temporary file, no new month folder.
    let b = base("fault=slow;delayMs=400;chunk=256", "interrupted");
    let mut child = cli()
        .args([
            "fetch",
            "--instance",
            INSTANCE,
            "--base-url",
            &b,
            "--out-dir",
        ])
        .arg(dir.path())
        .args(["--append", "--to", "2025-04-05"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    while hits(&b) == 0 {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(30),
            "no request came"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    assert_eq!(child.wait().unwrap().signal(), Some(15));
    assert_eq!(stamps(dir.path()), before);
    let folders: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(folders.len(), 2, "{folders:?}");
}

#[test]
fn a_folder_holding_anything_else_is_refused_before_anything_is_fetched() {
    let b = base("", "foreign");
    let grain = ["--granularity", "by_user_day"];
    let good = scratch();
    ok(fetch(
        &base("", "foreign-good"),
        good.path(),
        &[&["--to", "2025-01-20"][..], &grain].concat(),
    ));
    let part_file = std::fs::read(good.path().join(part("2025-01"))).unwrap();

    type Setup = fn(&Path, &[u8]);
    let cases: [(&str, Setup, &str); 6] = [
        (
            "a file of the user's",
            |d, _| std::fs::write(d.join("notes.txt"), "mine").unwrap(),
            "notes.txt is not part of a dataset sg-analytics writes",
        ),
        (
            "a folder that is not a month",
            |d, _| std::fs::create_dir_all(d.join("month=2025-13")).unwrap(),
            "month=2025-13 is not part of a dataset",
        ),
        (
            "another file beside a part file",
            |d, p| {
                std::fs::create_dir_all(d.join("month=2025-01")).unwrap();
                std::fs::write(d.join(part("2025-01")), p).unwrap();
                std::fs::write(d.join("month=2025-01/_SUCCESS"), "").unwrap();
            },
            "_SUCCESS is not part of a dataset",
        ),
        (
            "a part file that is not Parquet",
            |d, _| {
                std::fs::create_dir_all(d.join("month=2025-01")).unwrap();
                std::fs::write(d.join(part("2025-01")), "Instance user ID\n1\n").unwrap();
            },
            "not a Parquet file",
        ),
        (
            "a Parquet file without our metadata",
            |d, p| {
                std::fs::create_dir_all(d.join("month=2025-01")).unwrap();
                std::fs::write(d.join(part("2025-01")), strip_granularity(p)).unwrap();
            },
            "is Parquet that sg-analytics did not write",
        ),
        (
            "the path is a file",
            |d, _| {
                std::fs::remove_dir(d).unwrap();
                std::fs::write(d, "").unwrap();
            },
            "is not a folder",
        ),
    ];
    for (what, setup, message) in cases {
        let parent = scratch();
        let dir = parent.path().join("dataset");
        std::fs::create_dir(&dir).unwrap();
        setup(&dir, &part_file);
        let held = if dir.is_dir() {
            files(&dir)
        } else {
            BTreeMap::new()
        };
        let err = failed(fetch(&b, &dir, &["--append", "--to", "2025-02-10"]));
        assert!(err.contains(message), "{what}: {err}");
        if dir.is_dir() {
            assert_eq!(files(&dir), held, "{what}");
        }
    }
    assert_eq!(
        hits(&b),
        0,
        "nothing is fetched for a folder that is refused"
    );

    // A dataset of another granularity: refused, and said which.
    let err = failed(fetch(
        &b,
        good.path(),
        &["--append", "--granularity", "by_user_month"],
    ));
    assert!(err.contains("holds by_user_day rows"), "{err}");
    // Dates that would replace the newest month with part of it, or fetch nothing.
    let err = failed(fetch(
        &b,
        good.path(),
        &["--append", "--from", "2025-01-15"],
    ));
    assert!(
        err.contains("--from 2025-01-15 is after the first day"),
        "{err}"
    );
    let err = failed(fetch(&b, good.path(), &["--append", "--to", "2024-12-31"]));
    assert!(
        err.contains("--to 2024-12-31 is before the newest month"),
        "{err}"
    );
    let err = failed(fetch(&b, good.path(), &["--append", "-o", "x.parquet"]));
    assert!(err.contains("-o and --out-dir"), "{err}");
    assert_eq!(hits(&b), 0);
}

/// A copy of a part file whose key-value metadata key is renamed (same length, so the footer's
/// framing holds): Parquet that states no granularity.
fn strip_granularity(part: &[u8]) -> Vec<u8> {
    let key = sg_analytics::GRANULARITY_KEY.as_bytes();
    let mut out = part.to_vec();
    let at = out
        .windows(key.len())
        .rposition(|w| w == key)
        .expect("the part file states its granularity");
    out[at..at + key.len()].copy_from_slice(&b"x".repeat(key.len()));
    out
}

#[test]
fn fetch_as_one_parquet_file_writes_what_convert_writes_from_the_csv() {
    let b = base("", "one-file");
    let dir = scratch();
    let (csv, converted, fetched) = (
        dir.path().join("export.csv"),
        dir.path().join("converted.parquet"),
        dir.path().join("fetched.parquet"),
    );
    let common = [
        "fetch",
        "--instance",
        INSTANCE,
        "--base-url",
        &b,
        "--to",
        "2025-02-10",
    ];
    let o = cli().args(common).arg("-o").arg(&csv).output().unwrap();
    ok(o);
    let o = cli()
        .args(common)
        .args(["--format", "parquet", "-o"])
        .arg(&fetched)
        .output()
        .unwrap();
    ok(o);
    let o = cli()
        .arg("convert")
        .arg(&csv)
        .arg("-o")
        .arg(&converted)
        .output()
        .unwrap();
    ok(o);
    let fetched = std::fs::read(&fetched).unwrap();
    assert!(fetched.starts_with(b"PAR1"));
    assert_eq!(fetched, std::fs::read(&converted).unwrap());
    // Not to stdout, and not as a format it does not write.
    let o = cli()
        .args(common)
        .args(["--format", "parquet"])
        .output()
        .unwrap();
    assert!(failed(o).contains("give -o OUT.parquet or --out-dir DIR"));
    let o = cli()
        .args(common)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(failed(o).contains("csv (as served) or parquet"));
    assert_eq!(hits(&b), 2);
}
