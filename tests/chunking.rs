//! Every fixture gives the same summary whole, in 1-byte chunks, and split at random points.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use sg_analytics::{Ingester, Query, Table};

const FILES: &[&str] = &[
    "by_user.csv",
    "by_user_month.csv",
    "by_user_day.csv",
    "by_user_day_client_language.csv",
    "header_drift.csv",
    "quoted.csv",
    "ragged.csv",
    "bad_cells.csv",
    "header_only.csv",
    "hostile.csv",
    "invalid_utf8.csv",
    "empty.csv",
];

fn summary_of(table: Result<Table, sg_analytics::Error>, query: &Query) -> String {
    match table {
        Ok(t) => t
            .summarize(query)
            .map(|s| s.to_json())
            .unwrap_or_else(|e| e.to_string()),
        Err(e) => format!("error: {e}"),
    }
}

fn ingest_chunks<'a>(chunks: impl Iterator<Item = &'a [u8]>) -> Result<Table, sg_analytics::Error> {
    let mut ingester = Ingester::new();
    for chunk in chunks {
        ingester.push(chunk)?;
    }
    ingester.finish()
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

#[test]
fn chunk_boundaries_never_change_the_answer() {
    let queries: Vec<Query> = [r#"{}"#, r#"{"groupBy": ["user"]}"#]
        .iter()
        .map(|q| serde_json::from_str(q).unwrap())
        .collect();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for file in FILES {
        let bytes = common::fixture(file);
        for query in &queries {
            let whole = summary_of(Table::from_bytes(&bytes), query);
            let ones = summary_of(ingest_chunks(bytes.chunks(1)), query);
            assert_eq!(ones, whole, "{file}: 1-byte chunks");
            for _ in 0..20 {
                let mut cuts: Vec<usize> = (0..rng.below(12))
                    .map(|_| rng.below(bytes.len() + 1))
                    .collect();
                cuts.sort_unstable();
                let mut pieces = Vec::new();
                let mut start = 0;
                for cut in cuts.into_iter().chain([bytes.len()]) {
                    pieces.push(&bytes[start..cut]);
                    start = cut;
                }
                let split = summary_of(ingest_chunks(pieces.iter().copied()), query);
                assert_eq!(split, whole, "{file}: random split");
            }
        }
    }
}
