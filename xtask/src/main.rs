//! Build and test orchestration (`cargo xtask test`); the full pipeline lands next.
use std::process::{exit, Command};

fn main() {
    let task = std::env::args().nth(1).unwrap_or_default();
    let args: &[&str] = match task.as_str() {
        "test" => &["test", "--workspace"],
        _ => {
            eprintln!("usage: cargo xtask test");
            exit(2)
        }
    };
    let status = Command::new(env!("CARGO")).args(args).status();
    exit(status.map_or(1, |s| s.code().unwrap_or(1)));
}
