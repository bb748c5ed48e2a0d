//! Any bytes, pushed in chunks the input itself chooses, then every kind of query: the core must
//! answer or return an error, never panic, and chunking must not change the answer.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sg_analytics::{Ingester, Query, Table};

const QUERIES: &[&str] = &[
    r#"{}"#,
    r#"{"groupBy": ["user", "day"], "sort": {"by": "users", "desc": true}, "limit": 3}"#,
    r#"{"groupBy": ["week", "client", "language"], "filter": {"activeOnly": true}}"#,
    r#"{"groupBy": ["month"], "filter": {"from": "2025-01-01", "to": "2025-03-31", "userSearch": "a"}}"#,
];

fuzz_target!(|data: &[u8]| {
    // The first byte picks the chunk size, so the fuzzer explores split points too.
    let (size, body) = match data.split_first() {
        Some((&s, rest)) => (usize::from(s).max(1), rest),
        None => (1, data),
    };
    let mut ingester = Ingester::new();
    let mut chunked = Ok(());
    for chunk in body.chunks(size) {
        chunked = ingester.push(chunk);
        if chunked.is_err() {
            break;
        }
    }
    let table = chunked.and_then(|()| ingester.finish());
    let whole = Table::from_bytes(body);
    assert_eq!(table.is_ok(), whole.is_ok());
    let (Ok(table), Ok(whole)) = (table, whole) else { return };
    for q in QUERIES {
        let query: Query = serde_json::from_str(q).unwrap();
        let a = table.summarize(&query).map(|s| s.to_json());
        let b = whole.summarize(&query).map(|s| s.to_json());
        assert_eq!(a, b);
        if let Ok(s) = table.summarize(&query) {
            let _ = s.to_csv();
        }
        let _ = table.filtered_csv(&query.filter);
    }
});
