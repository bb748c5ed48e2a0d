//! The xtask mock of the Analytics API, for the tests of the CLI's fetches: one server per test
//! binary on 127.0.0.1, its request counter, and the CLI set up to reach it.

#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};
use std::sync::OnceLock;

use xtask::data::DEMO_TOKEN;
use xtask::server::{Background, Config};

/// The instance every fetch names.
pub const INSTANCE: &str = "demo.sourcegraph.example";

/// One mock for the whole test binary (a fault's counter is per `<opts>` string, so tests that
/// give each base URL its own `id` don't mix).
pub fn mock() -> &'static str {
    static URL: OnceLock<(String, Background)> = OnceLock::new();
    &URL.get_or_init(|| {
        let site = Path::new(env!("CARGO_TARGET_TMPDIR")).join("mock-api-site");
        std::fs::create_dir_all(&site).unwrap();
        let server = Background::start(([127, 0, 0, 1], 0).into(), &Config::mock(&site)).unwrap();
        (server.url(), server)
    })
    .0
}

/// How many API requests the mock saw for a base URL.
pub fn hits(base: &str) -> u64 {
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

/// The CLI with the mock's token in `SG_ANALYTICS_TOKEN`.
pub fn cli() -> Command {
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

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
