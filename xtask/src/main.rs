//! `cargo xtask <command>`: see `USAGE`.

use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;

use xtask::data::{parse_date, Dataset, DateRange, Granularity};
use xtask::server::UPSTREAM;
use xtask::setup::{self, repo_root, Needs, Result};
use xtask::tasks::{self, ServeOptions};

const USAGE: &str = "\
Usage: cargo xtask <command> [options]

Commands:
  serve    Install what is missing, build the module (release), and serve the page on
           http://127.0.0.1:8080 with a mock of the Analytics API (demo token:
           sgdemo-local-token).
             --port N         listen on port N (default 8080; 0 picks a free one)
             --host ADDR      listen address (default 127.0.0.1)
             --proxy[=ORIGIN] forward /api/* to ORIGIN (default https://analytics.sourcegraph.com)
                              instead of the mock
             --dist           build and serve dist/ (what a static host gets)
             --no-build       serve what is already built
  test     Install what is missing (Chromium, the i686 target, DuckDB and pyspark in a virtual
           environment at target/venv), then run the native tests
           (also on i686: a 32-bit usize, as wasm32 has), the metrics' SQL (sql/) on DuckDB
           and Spark against the CLI's answers, the
           wasm-bindgen tests in headless Chromium against the mock, the Playwright tests
           against the served page and the npm package (also built by Vite, webpack and
           esbuild), and tsc on typed code against the package (tests/types/). Ends with one
           summary line; exits non-zero on any failure.
  sql      Only test's SQL step: the metrics' SQL (sql/) on DuckDB and Spark, over the Parquet
           the CLI writes from the fixtures, held to the CLI's answers.
  build    Build pkg/ (release wasm, wasm-bindgen --target web, wasm-opt) and www/vendor/.
  dist     build, then copy index.html, www/ and pkg/ to dist/ for any static host, and make
           the npm package in dist-npm/ (package.json, pkg/, www/, types/).
  setup    Only install what is missing (--browser: Chromium and chromedriver too;
           --target32: the i686 target and gcc-multilib, for the 32-bit test run).
  gen      Write a synthetic export (the mock's data):
             --users N (80)  --days D (180)  --start YYYY-MM-DD (2025-01-01)
             --granularity G (by_user_day_client_language)
             --from YYYY-MM-DD --to YYYY-MM-DD (inclusive filter)
             --out FILE (- for stdout; required)
             --people: write the demo people file instead (Instance user ID,Team,
             Department; most users, not all, on a team), for --attributes / the page
";

fn main() -> ExitCode {
    match real_main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn real_main() -> Result<()> {
    use lexopt::prelude::*;
    let mut parser = lexopt::Parser::from_env();
    let command = match parser.next()? {
        Some(Value(v)) => v.string()?,
        Some(Long("help") | Short('h')) | None => {
            print!("{USAGE}");
            return Ok(());
        }
        Some(arg) => return Err(arg.unexpected().into()),
    };
    let root = repo_root();
    match command.as_str() {
        "serve" => {
            let mut opts = ServeOptions {
                addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
                proxy: None,
                dist: false,
                no_build: false,
            };
            while let Some(arg) = parser.next()? {
                match arg {
                    Long("port") => opts.addr.set_port(parser.value()?.parse()?),
                    Long("host") => opts.addr.set_ip(parser.value()?.parse::<IpAddr>()?),
                    Long("proxy") => {
                        let origin = match parser.optional_value() {
                            Some(v) => v.string()?,
                            None => UPSTREAM.to_string(),
                        };
                        opts.proxy = Some(xtask::proxy::check_upstream(&origin)?);
                    }
                    Long("dist") => opts.dist = true,
                    Long("no-build") => opts.no_build = true,
                    _ => return Err(arg.unexpected().into()),
                }
            }
            tasks::cmd_serve(&root, &opts)
        }
        "test" => {
            no_more(&mut parser)?;
            tasks::cmd_test(&root)
        }
        "sql" => {
            no_more(&mut parser)?;
            tasks::cmd_sql(&root)
        }
        "build" => {
            no_more(&mut parser)?;
            tasks::cmd_build(&root)
        }
        "dist" => {
            no_more(&mut parser)?;
            tasks::cmd_dist(&root)
        }
        "setup" => {
            let mut needs = Needs::default();
            while let Some(arg) = parser.next()? {
                match arg {
                    Long("browser") => needs.browser = true,
                    Long("target32") => needs.target32 = true,
                    _ => return Err(arg.unexpected().into()),
                }
            }
            setup::ensure(&root, needs)
        }
        "gen" => {
            let mut dataset = Dataset::default();
            let mut granularity = Granularity::ByUserDayClientLanguage;
            let mut range = DateRange::default();
            let mut out = None;
            let mut people = false;
            while let Some(arg) = parser.next()? {
                match arg {
                    Long("people") => people = true,
                    Long("users") => dataset.users = parser.value()?.parse()?,
                    Long("days") => dataset.days = parser.value()?.parse()?,
                    Long("start") => dataset.start = parse_date(&parser.value()?.string()?)?,
                    Long("seed") => dataset.seed = parser.value()?.parse()?,
                    Long("granularity") => granularity = parser.value()?.string()?.parse()?,
                    Long("from") => range.from = Some(parse_date(&parser.value()?.string()?)?),
                    Long("to") => range.to = Some(parse_date(&parser.value()?.string()?)?),
                    Long("out") => out = Some(parser.value()?.string()?),
                    _ => return Err(arg.unexpected().into()),
                }
            }
            let out = out.ok_or("gen: --out FILE is required (- for stdout)")?;
            if people {
                return tasks::cmd_gen_people(&dataset, &out);
            }
            tasks::cmd_gen(&dataset, granularity, range, &out)
        }
        other => Err(format!("unknown command {other:?}\n\n{USAGE}").into()),
    }
}

fn no_more(parser: &mut lexopt::Parser) -> Result<()> {
    match parser.next()? {
        None => Ok(()),
        Some(arg) => Err(arg.unexpected().into()),
    }
}
