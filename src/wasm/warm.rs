//! `warmUp`: the module's compiled code made hot before the real export arrives.

use wasm_bindgen::prelude::*;

use super::{panic_hook, ReportBuilder};

/// Runs the ingest and the dashboard's first queries once on a small made-up export (about 1 MB)
/// and throws the result away. The browser first runs WebAssembly with its baseline compiler and
/// moves a function to optimized code only once it has run for a while; called while the page
/// waits for the user, this makes that happen before the real export arrives, so its ingest and
/// its first view do not run on baseline code. Optional; it changes nothing else.
#[wasm_bindgen(js_name = warmUp)]
pub fn warm_up() -> Result<(), JsValue> {
    use std::fmt::Write;
    panic_hook();
    const HEADER: &str = "Instance user ID,User Email,Username,Active Sourcegraph User,\
        Client Name,Timestamp Date,Language,Searches,Code Navigation Events,Code Insight Views,\
        Chat Events,Command Events,Combined Completion Suggestions,\
        Combined Completion Acceptances,Total Accepted Char Count,Combined CAR,Weighted CAR,\
        Total Characters Written by Cody,Total Characters Written,\
        Percentage of Code Written by Cody,Auto-edit suggested events,Auto-edit accepted events,\
        Auto-edit acceptance rate,Lines changed by chats and commands,\
        Lines changed by completions and auto-edits\n";
    const CLIENTS: [&str; 3] = ["vscode.cody", "jetbrains.cody", "server.web"];
    const LANGUAGES: [&str; 3] = ["go", "rust", ""];
    let mut csv = String::with_capacity(1 << 20);
    csv.push_str(HEADER);
    for day in 0..84u32 {
        let date = format!("2025-{:02}-{:02}", 1 + day / 28, 1 + day % 28);
        for user in 0..48u32 {
            for row in 0..2 {
                let n = day * 31 + user * 7 + row;
                let (sugg, acc) = (n % 40, n % 13);
                let _ = writeln!(
                    csv,
                    "{id},u{user}@example.com,u{user},{active},{client},{date},{language},{},{},0,\
                     {},{},{sugg},{acc},{},{car},{car},{},{},{:.4},{},{},,{},{}",
                    n % 5,
                    n % 9,
                    n % 7,
                    n % 3,
                    acc * 40,
                    acc * 40,
                    1000 + n % 4000,
                    f64::from(acc * 40) / f64::from(1000 + n % 4000) * 100.0,
                    n % 6,
                    n % 2,
                    n % 50,
                    n % 17,
                    id = 1000 + user,
                    active = (n % 4 != 0),
                    client = CLIENTS[(n % 3) as usize],
                    language = LANGUAGES[(n % 3) as usize],
                    car = if sugg == 0 {
                        String::new()
                    } else {
                        format!("{:.4}", f64::from(acc) / f64::from(sugg))
                    },
                );
            }
        }
    }
    let mut builder = ReportBuilder::new();
    builder.expect_bytes(csv.len() as f64)?;
    // Pieces of uneven sizes, as a file's stream or a fetch body gives them.
    for piece in csv.as_bytes().chunks(300_007) {
        builder.push(piece)?;
    }
    let report = builder.finish()?;
    report.info()?;
    // The page's first view (its table with the cards' previous range, the time chart, the bar
    // charts), then the same with a filter.
    for filter in [r#"{}"#, r#"{"activeOnly": true, "from": "2025-02-01"}"#] {
        let chart = |key: &str, metric: &str, limit: u32| {
            format!(
                r#"{{"groupBy": ["{key}"], "filter": {filter}, "minutesSaved": {{}},
                    "metrics": ["{metric}"], "includeWarnings": false,
                    "sort": {{"by": "{metric}", "desc": true}}, "limit": {limit}}}"#
            )
        };
        let queries = format!(
            r#"[{{"groupBy": ["user"], "filter": {filter}, "minutesSaved": {{}},
                 "sort": {{"by": "hoursSaved", "desc": true}}, "limit": 25, "offset": 0,
                 "includeWarnings": false, "compare": "previous"}},
                {{"groupBy": ["week"], "filter": {filter}, "minutesSaved": {{}},
                  "metrics": ["activeUsers"], "includeWarnings": false}},
                {}, {}, {}]"#,
            chart("client", "hoursSaved", 12),
            chart("language", "hoursSaved", 12),
            chart("user", "hoursSaved", 10),
        );
        let queries = js_sys::JSON::parse(&queries)?;
        report.summarize_many(queries)?;
    }
    Ok(())
}
