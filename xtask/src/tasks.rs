//! The `cargo xtask` commands: build, dist, serve, test and gen.

use std::fs;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Instant, SystemTime};

use crate::data::{Dataset, DateRange, Granularity, DEMO_TOKEN};
use crate::server::{Api, Background, Config};
use crate::setup::{self, cargo, copy_tree, run, Needs, Result};

const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// wasm-opt settings. The features are those rustc enables by default for wasm32 and that
/// wasm-bindgen's output uses; binaryen refuses a module using a feature it was not told about.
/// -O3 rather than -Oz: the module parses hundred-megabyte exports, and -Oz saves only a few
/// percent of a module that is served compressed anyway.
pub const WASM_OPT_ARGS: [&str; 10] = [
    "-O3",
    "--enable-simd",
    "--enable-bulk-memory",
    "--enable-bulk-memory-opt",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-reference-types",
    "--enable-multivalue",
    "--enable-mutable-globals",
    "--enable-call-indirect-overlong",
];

/// Cargo's target directory (honours `CARGO_TARGET_DIR` and config).
pub fn target_dir(root: &Path) -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return Ok(root.join(dir));
    }
    let meta = setup::output(cargo().current_dir(root).args([
        "metadata",
        "--format-version",
        "1",
        "--no-deps",
    ]))
    .ok_or("`cargo metadata` failed")?;
    let v: serde_json::Value = serde_json::from_str(&meta)?;
    v["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .ok_or_else(|| "`cargo metadata` gave no target_directory".into())
}

/// Builds `pkg/` (release wasm, wasm-bindgen `--target web`, wasm-opt) and vendors Chart.js
/// into `www/vendor/`. Assumes [`setup::ensure`] ran.
pub fn build(root: &Path) -> Result<()> {
    let t = Instant::now();
    run(cargo()
        .current_dir(root)
        .args(["build", "--lib", "--release", "--target", WASM_TARGET]))?;
    let wasm = target_dir(root)?
        .join(WASM_TARGET)
        .join("release/sg_analytics.wasm");
    let pkg = root.join("pkg");
    let out = pkg.join("sg_analytics_bg.wasm");
    // wasm-bindgen + wasm-opt take seconds; skip them when the module has not changed.
    let stamp_path = pkg.join(".xtask-stamp");
    let stamp = file_stamp(&wasm)?;
    if fs::read_to_string(&stamp_path).ok().as_deref() != Some(stamp.as_str()) || !out.is_file() {
        run(Command::new("wasm-bindgen")
            .arg(&wasm)
            .args(["--target", "web", "--out-dir"])
            .arg(&pkg))?;
        let before = fs::metadata(&out)?.len();
        run(Command::new(setup::wasm_opt(root))
            .args(WASM_OPT_ARGS)
            .arg(&out)
            .arg("-o")
            .arg(&out))?;
        let after = fs::metadata(&out)?.len();
        eprintln!(
            "build: wasm-opt {} KiB -> {} KiB",
            before / 1024,
            after / 1024
        );
        fs::write(&stamp_path, stamp)?;
    }
    report_size(&out);
    vendor_chart_js(root)?;
    eprintln!("build: pkg/ ready in {:.1}s", t.elapsed().as_secs_f64());
    Ok(())
}

/// Prints the module's size as the page receives it: raw and `gzip -9` (issue 11's goal is at
/// most 250 000 bytes gzipped). Says nothing more when `gzip` is not installed.
fn report_size(wasm: &Path) {
    let Ok(raw) = fs::metadata(wasm).map(|m| m.len()) else {
        return;
    };
    let gzipped = Command::new("gzip")
        .args(["-9", "-c"])
        .arg(wasm)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| o.stdout.len());
    match gzipped {
        Some(gz) => eprintln!(
            "build: {} is {raw} bytes, {gz} bytes gzip -9 ({:.1} KiB)",
            wasm.display(),
            gz as f64 / 1024.0
        ),
        None => eprintln!("build: {} is {raw} bytes", wasm.display()),
    }
}

fn file_stamp(path: &Path) -> Result<String> {
    let meta = fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mtime = meta
        .modified()?
        .duration_since(SystemTime::UNIX_EPOCH)?
        .as_nanos();
    Ok(format!("{} {} {mtime}\n", path.display(), meta.len()))
}

fn vendor_chart_js(root: &Path) -> Result<()> {
    let vendor = root.join("www/vendor");
    fs::create_dir_all(&vendor)?;
    let src = setup::chart_js(root);
    fs::copy(&src, vendor.join("chart.umd.js"))
        .map_err(|e| format!("cannot copy {}: {e}", src.display()))?;
    Ok(())
}

/// `cargo xtask build`: setup, then [`build`].
pub fn cmd_build(root: &Path) -> Result<()> {
    setup::ensure(root, Needs::default())?;
    build(root)
}

/// `cargo xtask dist`: build, then copy the static files (`index.html`, `www/`, `pkg/`) to
/// `dist/`, and make the npm package in `dist-npm/`.
pub fn cmd_dist(root: &Path) -> Result<()> {
    cmd_build(root)?;
    let dist = root.join("dist");
    let files = copy_dist(root, &dist)?;
    eprintln!("dist: {files} files in {}", dist.display());
    let package = root.join("dist-npm");
    let files = crate::npm::make_package(root, &package)?;
    eprintln!(
        "dist: npm package, {files} files in {} (`npm pack dist-npm` makes the tarball)",
        package.display()
    );
    Ok(())
}

/// Replaces `dist` with the static files of a built tree: `index.html`, `www/` and `pkg/`;
/// returns the number of files.
pub fn copy_dist(root: &Path, dist: &Path) -> Result<usize> {
    if dist.exists() {
        fs::remove_dir_all(dist)?;
    }
    fs::create_dir_all(dist)?;
    fs::copy(root.join("index.html"), dist.join("index.html"))
        .map_err(|e| format!("cannot copy index.html: {e}"))?;
    let mut files = 1;
    files += copy_tree(&root.join("www"), &dist.join("www"))?;
    files += copy_tree(&root.join("pkg"), &dist.join("pkg"))?;
    Ok(files)
}

/// Options of `cargo xtask serve`.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Listen address (default 127.0.0.1:8080).
    pub addr: SocketAddr,
    /// Forward `/api/*` to this origin instead of the mock.
    pub proxy: Option<String>,
    /// Serve `dist/` instead of the working tree.
    pub dist: bool,
    /// Skip setup and build (serve what is there).
    pub no_build: bool,
}

/// `cargo xtask serve`: setup, build, then serve the page with the mock API (or the proxy).
pub fn cmd_serve(root: &Path, opts: &ServeOptions) -> Result<()> {
    if !opts.no_build {
        if opts.dist {
            cmd_dist(root)?;
        } else {
            cmd_build(root)?;
        }
    }
    let files = if opts.dist {
        root.join("dist")
    } else {
        root.to_path_buf()
    };
    let config = Config {
        root: files,
        api: match &opts.proxy {
            Some(origin) => Api::Proxy(origin.clone()),
            None => Api::Mock,
        },
        dataset: Dataset::default(),
        log: true,
    };
    let server = Background::start(opts.addr, &config)
        .map_err(|e| format!("cannot listen on {}: {e}", opts.addr))?;
    let url = server.url();
    println!();
    println!("  sg-analytics is at {url}/");
    match &opts.proxy {
        None => {
            println!("  Mock Analytics API: base URL {url} (same origin as the page)");
            println!("  Demo token:         {DEMO_TOKEN}");
            println!("  Instance URL:       any host, e.g. demo.sourcegraph.example");
            println!("  Fault injection:    base URL {url}/_mock/fault=429;times=1 (see docs/local-server.md)");
        }
        Some(origin) => {
            println!("  Proxy: {url}/api/* -> {origin}/api/* (use base URL {url})");
        }
    }
    println!("  Ctrl-C stops it.");
    println!();
    server.wait()?;
    Ok(())
}

/// `cargo xtask gen`: writes a synthetic export to a file (or `-` for stdout).
pub fn cmd_gen(
    dataset: &Dataset,
    granularity: Granularity,
    range: DateRange,
    out: &str,
) -> Result<()> {
    let t = Instant::now();
    let mut bytes = 0u64;
    let mut sink: Box<dyn Write> = if out == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(fs::File::create(out).map_err(|e| format!("{out}: {e}"))?)
    };
    for chunk in dataset.export(granularity, range) {
        sink.write_all(&chunk)?;
        bytes += chunk.len() as u64;
    }
    sink.flush()?;
    let secs = t.elapsed().as_secs_f64();
    eprintln!(
        "gen: {} users x {} days, {granularity}: {:.1} MB in {:.2}s ({:.0} MB/s)",
        dataset.users,
        dataset.days,
        bytes as f64 / 1e6,
        secs,
        bytes as f64 / 1e6 / secs.max(1e-9)
    );
    Ok(())
}

/// `cargo xtask gen --people`: the demo people file for `dataset`'s users.
pub fn cmd_gen_people(dataset: &Dataset, out: &str) -> Result<()> {
    let csv = dataset.people_csv();
    if out == "-" {
        std::io::stdout().lock().write_all(csv.as_bytes())?;
    } else {
        fs::write(out, &csv).map_err(|e| format!("{out}: {e}"))?;
    }
    eprintln!(
        "gen: people file for {} users: {} lines",
        dataset.users,
        csv.lines().count() - 1
    );
    Ok(())
}

/// Outcome of one step of `cargo xtask test`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Ok,
    Failed(String),
    Skipped(String),
}

/// `cargo xtask test`: setup (with the browser), native tests, wasm tests in headless
/// Chromium against the mock, then Playwright against the served page (and the npm package built
/// by Vite, webpack and esbuild), then `tsc` on typed code against the package.
pub fn cmd_test(root: &Path) -> Result<()> {
    let t = Instant::now();
    setup::ensure(
        root,
        Needs {
            browser: true,
            target32: true,
        },
    )?;
    let mut steps: Vec<(&str, Outcome)> = Vec::new();

    steps.push(("lint", lint(root)));

    eprintln!("==> native tests");
    let native = run(cargo().current_dir(root).args(["test", "--workspace"]));
    steps.push(("native", outcome(native)));

    steps.push(("32-bit", tests_32bit(root)));

    steps.push(("sql", sql_tests(root)));

    steps.push(("wasm", wasm_tests(root)));
    steps.push(("e2e", e2e_tests(root)));
    steps.push(("types", types_check(root)));

    let summary: Vec<String> = steps
        .iter()
        .map(|(name, o)| match o {
            Outcome::Ok => format!("{name} ok"),
            Outcome::Failed(_) => format!("{name} FAILED"),
            Outcome::Skipped(_) => format!("{name} skipped"),
        })
        .collect();
    for (name, o) in &steps {
        match o {
            Outcome::Failed(why) => eprintln!("xtask test: {name}: {why}"),
            Outcome::Skipped(why) => eprintln!("xtask test: {name} skipped: {why}"),
            Outcome::Ok => {}
        }
    }
    println!(
        "xtask test: {} ({:.0}s)",
        summary.join(", "),
        t.elapsed().as_secs_f64()
    );
    if steps.iter().any(|(_, o)| matches!(o, Outcome::Failed(_))) {
        Err("some tests failed".into())
    } else {
        Ok(())
    }
}

/// The habits CI holds: `cargo fmt --check`, and `cargo clippy --all-targets -D warnings` for the
/// native workspace and for the wasm32 crate (whose browser adapter only compiles there).
fn lint(root: &Path) -> Outcome {
    eprintln!("==> fmt and clippy (native and wasm32)");
    let has = |tool: &str| {
        std::process::Command::new("cargo")
            .args([tool, "--version"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !has("clippy") || !has("fmt") {
        if let Err(e) = run(std::process::Command::new("rustup").args([
            "component",
            "add",
            "clippy",
            "rustfmt",
        ])) {
            return Outcome::Failed(format!("cannot install clippy and rustfmt: {e}"));
        }
    }
    let deny = ["--", "-D", "warnings"];
    let checks: [Vec<&str>; 3] = [
        vec!["fmt", "--all", "--", "--check"],
        [&["clippy", "--workspace", "--all-targets"][..], &deny].concat(),
        [
            &["clippy", "--target", WASM_TARGET, "--all-targets"][..],
            &deny,
        ]
        .concat(),
    ];
    for args in checks {
        if let Err(e) = run(cargo().current_dir(root).args(&args)) {
            return Outcome::Failed(format!("cargo {}: {e}", args.join(" ")));
        }
    }
    Outcome::Ok
}

/// `cargo xtask sql`: only the SQL step of `cargo xtask test`.
pub fn cmd_sql(root: &Path) -> Result<()> {
    match sql_tests(root) {
        Outcome::Ok => Ok(()),
        Outcome::Failed(why) | Outcome::Skipped(why) => Err(why.into()),
    }
}

/// The metrics as SQL (`sql/*.sql`) on DuckDB and on Spark in local mode, held to the CLI's
/// answers (`tests/sql/check.py`) over the Parquet the CLI writes from the test fixtures, the
/// SQL tests' own edge cases and the demo dataset (day and month grain).
fn sql_tests(root: &Path) -> Outcome {
    eprintln!("==> the metrics as SQL on DuckDB and Spark (local mode)");
    let result = (|| -> Result<()> {
        let target = target_dir(root)?;
        let python = setup::ensure_sql_engines(root, &target.join("venv"))?;
        run(cargo()
            .current_dir(root)
            .args(["build", "--quiet", "--bin", "sg-analytics"]))?;
        let work = target.join("sql-check");
        if work.exists() {
            fs::remove_dir_all(&work)?;
        }
        fs::create_dir_all(&work)?;
        let fixture = |f: &str| root.join(f);
        // On both engines: every granularity, the edge cases, six months of the demo data (churn,
        // resurrection, inactive rows). On DuckDB alone (Spark takes seconds a query): the rest.
        let mut both = vec![
            fixture("tests/fixtures/by_user_day_client_language.csv"),
            fixture("tests/fixtures/by_user_month.csv"),
            fixture("tests/fixtures/by_user.csv"),
            fixture("tests/sql/edge.csv"),
        ];
        let mut duckdb_only = vec![fixture("tests/fixtures/by_user_day.csv")];
        for granularity in [
            Granularity::ByUserDayClientLanguage,
            Granularity::ByUserMonth,
        ] {
            let path = work.join(format!("demo_{granularity}.csv"));
            let mut file = std::io::BufWriter::new(fs::File::create(&path)?);
            for chunk in Dataset::default().export(granularity, DateRange::default()) {
                file.write_all(&chunk)?;
            }
            file.flush()?;
            if granularity == Granularity::ByUserMonth {
                duckdb_only.push(path);
            } else {
                both.push(path);
            }
        }
        let mut check = Command::new(python);
        check
            .arg(root.join("tests/sql/check.py"))
            .arg("--cli")
            .arg(target.join("debug/sg-analytics"))
            .arg("--work")
            .arg(work.join("parquet"))
            .args(&both);
        for path in &duckdb_only {
            check.arg("--duckdb-only").arg(path);
        }
        run(&mut check)
    })();
    outcome(result)
}

/// The core's tests (unit, engine, properties, chunking, hostile corpus, CLI) again on a 32-bit
/// target, whose `usize` is wasm32's, with overflow checks on: an index computed from input
/// sizes that wraps on wasm32 fails here, as no 64-bit run can show.
fn tests_32bit(root: &Path) -> Outcome {
    eprintln!(
        "==> native tests on {} (32-bit usize, overflow checks)",
        setup::TARGET32
    );
    outcome(run(cargo()
        .current_dir(root)
        .args(["test", "--target", setup::TARGET32, "--lib", "--tests"])
        .env(
            "CARGO_TARGET_I686_UNKNOWN_LINUX_GNU_RUSTFLAGS",
            "-C overflow-checks=on",
        )))
}

fn outcome(r: Result<()>) -> Outcome {
    match r {
        Ok(()) => Outcome::Ok,
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

/// The browser test files `tests/web*.rs`.
fn web_test_files(root: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(root.join("tests"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("web") && n.ends_with(".rs"))
        })
        .collect();
    files.sort();
    files
}

/// Port the wasm tests' mock prefers: the URL is compiled into the tests, so the same port on
/// every run spares rebuilding them.
const WASM_MOCK_PORT: u16 = 18_765;

/// Local server for tests on `port` if free, else on any free port: demo mock, quiet unless
/// `SG_XTASK_LOG` is set.
fn test_server(root: &Path, port: u16) -> Result<Background> {
    let mut config = Config::mock(root);
    config.log = std::env::var_os("SG_XTASK_LOG").is_some();
    Background::start(([127, 0, 0, 1], port).into(), &config)
        .or_else(|_| Background::start(([127, 0, 0, 1], 0).into(), &config))
        .map_err(Into::into)
}

fn wasm_tests(root: &Path) -> Outcome {
    if web_test_files(root).is_empty() {
        return Outcome::Skipped("no tests/web*.rs yet".into());
    }
    let server = match test_server(root, WASM_MOCK_PORT) {
        Ok(s) => s,
        Err(e) => return Outcome::Failed(format!("cannot start the mock server: {e}")),
    };
    eprintln!(
        "==> wasm tests in headless Chromium (mock API at {})",
        server.url()
    );
    let result = run(cargo()
        .current_dir(root)
        .args(["test", "--target", WASM_TARGET, "--test", "web*"])
        // Read by the tests at compile time with option_env!: a changed port rebuilds only
        // the test crates.
        .env("SG_MOCK_URL", server.url())
        .env("CHROMEDRIVER", setup::CHROMEDRIVER)
        .env("WASM_BINDGEN_TEST_TIMEOUT", "300")
        // Chromium can take a while to start on a busy 2-core machine.
        .env("WASM_BINDGEN_TEST_DRIVER_TIMEOUT", "60"));
    server.stop();
    outcome(result)
}

/// The Playwright specs under `tests/e2e/`.
fn e2e_specs(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![root.join("tests/e2e")];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if p.is_dir() && name != "node_modules" {
                dirs.push(p);
            } else if [".spec.js", ".spec.mjs", ".spec.ts", ".test.js", ".test.mjs"]
                .iter()
                .any(|ext| name.ends_with(ext))
            {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn e2e_tests(root: &Path) -> Outcome {
    if e2e_specs(root).is_empty() {
        return Outcome::Skipped("no Playwright specs in tests/e2e/ yet".into());
    }
    eprintln!("==> end-to-end tests");
    if let Err(e) = build(root) {
        return Outcome::Failed(format!("build for e2e: {e}"));
    }
    // What `cargo xtask dist` ships, for the spec that serves it from a plain static server; in
    // target/ so that a dist/ of the user's is left alone.
    let dist = match target_dir(root) {
        Ok(target) => target.join("xtask-e2e-dist"),
        Err(e) => return Outcome::Failed(format!("dist for e2e: {e}")),
    };
    if let Err(e) = copy_dist(root, &dist) {
        return Outcome::Failed(format!("dist for e2e: {e}"));
    }
    let package = dist.with_file_name("xtask-e2e-npm");
    if let Err(e) = crate::npm::make_package(root, &package) {
        return Outcome::Failed(format!("npm package for e2e: {e}"));
    }
    let server = match test_server(root, 0) {
        Ok(s) => s,
        Err(e) => return Outcome::Failed(format!("cannot start the server: {e}")),
    };
    eprintln!("e2e: page and mock API at {}/", server.url());
    let result = run(Command::new(root.join("node_modules/.bin/playwright"))
        .current_dir(root)
        .arg("test")
        .env("SG_BASE_URL", server.url())
        .env("SG_DIST_DIR", &dist)
        .env("SG_NPM_DIR", &package)
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1"));
    server.stop();
    outcome(result)
}

/// `tsc --noEmit` of `tests/types/usage.ts`, typed code against the npm package the e2e step
/// made, installed beside it as `node_modules/sg-analytics` (so the package.json's `exports` and
/// `types` are what resolves): the declarations must accept what a portal writes and refuse the
/// misuses the file marks with `@ts-expect-error`.
fn types_check(root: &Path) -> Outcome {
    eprintln!("==> TypeScript declarations (tsc --noEmit tests/types/usage.ts)");
    let package = match target_dir(root) {
        Ok(target) => target.join("xtask-e2e-npm"),
        Err(e) => return Outcome::Failed(format!("types: {e}")),
    };
    if !package.join("package.json").is_file() {
        return Outcome::Skipped("no npm package: the e2e step did not make one".into());
    }
    let project = package.with_file_name("xtask-types");
    let made = (|| -> Result<()> {
        if project.exists() {
            fs::remove_dir_all(&project)?;
        }
        fs::create_dir_all(project.join("node_modules"))?;
        #[cfg(unix)]
        std::os::unix::fs::symlink(&package, project.join("node_modules/sg-analytics"))?;
        #[cfg(not(unix))]
        copy_tree(&package, &project.join("node_modules/sg-analytics"))?;
        copy_tree(&root.join("tests/types"), &project)?;
        Ok(())
    })();
    if let Err(e) = made {
        return Outcome::Failed(format!("types: cannot set up {}: {e}", project.display()));
    }
    outcome(run(Command::new(root.join("node_modules/.bin/tsc"))
        .arg("-p")
        .arg(project.join("tsconfig.json"))))
}
