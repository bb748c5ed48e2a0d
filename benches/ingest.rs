//! Criterion benchmarks of the core on a generated export at the finest granularity (25 columns):
//! ingest throughput beside a bare `csv::ByteRecord` read loop over the same bytes (the ratio is
//! the figure that matters on a shared, noisy machine), table memory per row, and a grouped query.
//!
//! `cargo bench --bench ingest`; `SG_BENCH_ROWS` sets the export's size (default 500 000 rows; the
//! query runs over twice that).

// Criterion does not build for wasm32, where `cargo clippy --all-targets` also looks.
#[cfg(not(target_arch = "wasm32"))]
mod native {
    use std::hint::black_box;
    use std::time::Duration;

    use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
    use sg_analytics::{Ingester, Query, QueryCache, Table};

    const CLIENTS: [&str; 5] = [
        "vscode.cody",
        "jetbrains.cody",
        "server.web",
        "cli",
        "visualstudio.cody",
    ];
    const LANGUAGES: [&str; 12] = [
        "",
        "go",
        "typescript",
        "python",
        "java",
        "rust",
        "",
        "javascript",
        "c++",
        "ruby",
        "",
        "kotlin",
    ];

    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            // splitmix64
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    fn rate(num: u64, den: u64, scale: f64) -> String {
        if den == 0 {
            String::new()
        } else {
            format!("{:.4}", scale * num as f64 / den as f64)
        }
    }

    /// A realistic export: users × days, a few client/language rows a day, sorted by user then date,
    /// formatted as the API writes it.
    pub fn generate(rows: usize) -> Vec<u8> {
        let mut rng = Rng(42);
        let mut out = String::with_capacity(rows * 200);
        out.push_str("Instance user ID,User Email,Username,Active Sourcegraph User,Client Name,Timestamp Date,Language,Searches,Code Navigation Events,Code Insight Views,Chat Events,Command Events,Combined Completion Suggestions,Combined Completion Acceptances,Total Accepted Char Count,Combined CAR,Weighted CAR,Total Characters Written by Cody,Total Characters Written,Percentage of Code Written by Cody,Auto-edit suggested events,Auto-edit accepted events,Auto-edit acceptance rate,Lines changed by chats and commands,Lines changed by completions and auto-edits\n");
        let days = 180u64;
        let mut written = 0;
        let mut user = 0u64;
        while written < rows {
            let id = 1000 + user;
            for day in 0..days {
                if rng.below(10) < 4 {
                    continue;
                }
                let date = {
                    // 2025-01-01 plus `day`, without a date library.
                    let mut d = day as u32;
                    let months = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
                    let mut m = 0;
                    while d >= months[m] {
                        d -= months[m];
                        m += 1;
                    }
                    format!("2025-{:02}-{:02}", m + 1, d + 1)
                };
                for _ in 0..1 + rng.below(4) {
                    let sugg = rng.below(200);
                    let acc = sugg * rng.below(40) / 100;
                    let cody = acc * 40 + rng.below(2000);
                    let total = cody + rng.below(60_000);
                    let ae_s = rng.below(30);
                    let ae_a = ae_s * rng.below(50) / 100;
                    out.push_str(&format!(
                        "{id},user{user}@example.com,user{user},true,{},{date},{},{},{},{},{},{},{sugg},{acc},{},{},{},{cody},{total},{},{ae_s},{ae_a},{},{},{}\n",
                        CLIENTS[rng.below(5) as usize],
                        LANGUAGES[rng.below(12) as usize],
                        rng.below(6),
                        rng.below(20),
                        rng.below(2),
                        rng.below(15),
                        rng.below(4),
                        acc * 40,
                        rate(acc, sugg, 1.0),
                        rate(acc * 11, sugg * 10, 1.0),
                        rate(cody, total, 100.0),
                        rate(ae_a, ae_s, 1.0),
                        rng.below(400),
                        rng.below(300),
                    ));
                    written += 1;
                    if written == rows {
                        return out.into_bytes();
                    }
                }
            }
            user += 1;
        }
        out.into_bytes()
    }

    /// The export in `n` parts cut at line ends (the generated rows have no quoted line ends),
    /// each starting with the header.
    fn split_at_lines(bytes: &[u8], n: usize) -> Vec<Vec<u8>> {
        let header_end = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
        let (header, body) = bytes.split_at(header_end);
        let mut parts = Vec::new();
        let mut start = 0;
        for i in 1..=n {
            let mut end = (body.len() * i / n).max(start);
            while end < body.len() && body[end - 1] != b'\n' {
                end += 1;
            }
            let mut part = header.to_vec();
            part.extend_from_slice(&body[start..end]);
            parts.push(part);
            start = end;
        }
        parts
    }

    fn ingest(bytes: &[u8]) -> Table {
        let mut ingester = Ingester::new();
        for chunk in bytes.chunks(64 * 1024) {
            ingester.push(chunk).unwrap();
        }
        ingester.finish().unwrap()
    }

    fn rows_from_env() -> usize {
        std::env::var("SG_BENCH_ROWS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(500_000)
    }

    fn bench_ingest(c: &mut Criterion) {
        let rows = rows_from_env();
        let bytes = generate(rows);
        let table = ingest(&bytes);
        assert_eq!(table.rows(), rows);
        eprintln!(
            "export: {rows} rows, {:.1} MB, 25 columns; table: {} bytes ({:.1} bytes/row, {:.2}x the CSV)",
            bytes.len() as f64 / 1e6,
            table.heap_bytes(),
            table.heap_bytes() as f64 / rows as f64,
            table.heap_bytes() as f64 / bytes.len() as f64
        );
        let mut group = c.benchmark_group("ingest");
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.sample_size(10);
        group.measurement_time(Duration::from_secs(20));
        group.bench_function(BenchmarkId::new("csv_byte_record_loop", rows), |b| {
            b.iter(|| {
                let mut reader = csv::ReaderBuilder::new().from_reader(black_box(&bytes[..]));
                let mut record = csv::ByteRecord::new();
                let mut fields = 0usize;
                while reader.read_byte_record(&mut record).unwrap() {
                    fields += record.len();
                }
                fields
            })
        });
        group.bench_function(BenchmarkId::new("sg_analytics_ingester", rows), |b| {
            b.iter(|| ingest(black_box(&bytes)).rows())
        });
        // Reading split across threads: the export cut at line ends into N parts, each with the
        // header, each read by its own ingester on its own thread. An upper bound of what workers
        // could give: the tables are not merged (a merge adds a pass over the columns and the
        // dictionaries' codes).
        for parts in [1usize, 2, 4] {
            let split = split_at_lines(&bytes, parts);
            group.bench_function(
                BenchmarkId::new(format!("ingest_split_{parts}"), rows),
                |b| {
                    b.iter(|| {
                        std::thread::scope(|s| {
                            let handles: Vec<_> = split
                                .iter()
                                .map(|part| s.spawn(move || ingest(black_box(part)).rows()))
                                .collect();
                            handles
                                .into_iter()
                                .map(|h| h.join().unwrap())
                                .sum::<usize>()
                        })
                    })
                },
            );
        }
        group.finish();
    }

    fn bench_query(c: &mut Criterion) {
        let rows = 2 * rows_from_env();
        let table = ingest(&generate(rows));
        let mut group = c.benchmark_group("query");
        group.sample_size(20);
        let queries = [
            (
                "by_month_date_filter",
                r#"{"groupBy": ["month"], "filter": {"from": "2025-02-01", "to": "2025-05-31"}}"#,
            ),
            ("totals", r#"{}"#),
            (
                "top_10_users_by_hours_saved",
                r#"{"groupBy": ["user"], "sort": {"by": "hoursSaved", "desc": true}, "limit": 10}"#,
            ),
            (
                "by_client_language",
                r#"{"groupBy": ["client", "language"]}"#,
            ),
        ];
        for (name, query) in queries {
            let query: Query = serde_json::from_str(query).unwrap();
            group.bench_function(BenchmarkId::new(name, rows), |b| {
                b.iter(|| table.summarize(black_box(&query)).unwrap())
            });
        }
        // Adoption answers (growth accounting, retention cohorts) over the same rows.
        let by_week: sg_analytics::PeriodQuery =
            serde_json::from_str(r#"{"period": "week"}"#).unwrap();
        group.bench_function(BenchmarkId::new("growth_by_week", rows), |b| {
            b.iter(|| table.growth(black_box(&by_week)).unwrap())
        });
        let by_month = sg_analytics::PeriodQuery::default();
        group.bench_function(BenchmarkId::new("retention_by_month", rows), |b| {
            b.iter(|| table.retention(black_box(&by_month)).unwrap())
        });
        // Weekly cohorts: about 26 cohorts × 26 offsets over the generated half year, the largest
        // retention table the page draws.
        group.bench_function(BenchmarkId::new("retention_by_week", rows), |b| {
            b.iter(|| table.retention(black_box(&by_week)).unwrap())
        });
        // The page's queries for one view (www/app.js `queries`): the table's page with the cards'
        // totals, the time chart, and the three bar charts, with a filter the cache has not seen
        // (a view change), through summarize_many.
        let view = |active: bool| -> Vec<Query> {
            let filter = serde_json::json!({"activeOnly": active, "from": "2025-01-06"});
            let chart = |key: &str, metric: &str, limit: Option<usize>| {
                let mut q = serde_json::json!({"groupBy": [key], "filter": filter, "metrics": [metric], "includeWarnings": false});
                if let Some(limit) = limit {
                    q["sort"] = serde_json::json!({"by": metric, "desc": true});
                    q["limit"] = limit.into();
                }
                q
            };
            serde_json::from_value(serde_json::json!([
                {"groupBy": ["user"], "filter": filter, "sort": {"by": "hoursSaved", "desc": true},
                 "limit": 25, "offset": 0, "includeWarnings": false},
                chart("week", "activeUsers", None),
                chart("client", "hoursSaved", Some(12)),
                chart("language", "hoursSaved", Some(12)),
                chart("user", "hoursSaved", Some(10)),
            ]))
            .unwrap()
        };
        let (a, b) = (view(true), view(false));
        let mut cache = QueryCache::new();
        let mut flip = false;
        group.bench_function(
            BenchmarkId::new("page_view_summarize_many", rows),
            |bench| {
                bench.iter(|| {
                    // Alternate the filter, so every iteration is a view change the cache cannot answer.
                    flip = !flip;
                    cache
                        .summarize_many(&table, black_box(if flip { &a } else { &b }))
                        .unwrap()
                })
            },
        );
        // Paging the table: the same filter, grouping and sort as the view before it.
        let mut page: Query = a[0].clone();
        cache.summarize_many(&table, &a).unwrap();
        let csv_bytes = generate(rows).len();
        eprintln!(
            "report after a view: table {} bytes + query cache {} bytes ({:.1} bytes/row) = {:.2}x the CSV",
            table.heap_bytes(),
            cache.heap_bytes(),
            cache.heap_bytes() as f64 / rows as f64,
            (table.heap_bytes() + cache.heap_bytes()) as f64 / csv_bytes as f64
        );
        group.bench_function(BenchmarkId::new("page_next_table_page", rows), |bench| {
            bench.iter(|| {
                page.offset = (page.offset + 25) % 1000;
                cache.summarize(&table, black_box(&page)).unwrap()
            })
        });
        group.finish();
    }

    /// The page's view changes answered from the roll-ups (`QueryCache::with_rollups`) beside the
    /// same changes scanned (`QueryCache::new`), in one run: without a date filter (the page's
    /// default, every grouping from the roll-ups) and with one (groupings by user scanned).
    fn bench_rollup(c: &mut Criterion) {
        let rows = 2 * rows_from_env();
        let table = ingest(&generate(rows));
        let mut group = c.benchmark_group("rollup");
        group.sample_size(10);
        group.bench_function(BenchmarkId::new("build", rows), |b| {
            b.iter(|| QueryCache::with_rollups(black_box(&table)).rollup_bytes())
        });
        let built = QueryCache::with_rollups(&table);
        eprintln!(
            "roll-ups: {} bytes ({:.1} bytes/row)",
            built.rollup_bytes(),
            built.rollup_bytes() as f64 / rows as f64
        );
        let view = |active: bool, dated: bool| -> Vec<Query> {
            let mut filter = serde_json::json!({"activeOnly": active});
            if dated {
                filter["from"] = "2025-01-06".into();
            }
            let chart = |key: &str, metric: &str, limit: Option<usize>| {
                let mut q = serde_json::json!({"groupBy": [key], "filter": filter, "metrics": [metric], "includeWarnings": false});
                if let Some(limit) = limit {
                    q["sort"] = serde_json::json!({"by": metric, "desc": true});
                    q["limit"] = limit.into();
                }
                q
            };
            serde_json::from_value(serde_json::json!([
                {"groupBy": ["user"], "filter": filter, "sort": {"by": "hoursSaved", "desc": true},
                 "limit": 25, "offset": 0, "includeWarnings": false, "compare": "previous"},
                chart("week", "activeUsers", None),
                chart("client", "hoursSaved", Some(12)),
                chart("language", "hoursSaved", Some(12)),
                chart("user", "hoursSaved", Some(10)),
            ]))
            .unwrap()
        };
        for dated in [false, true] {
            let (a, b) = (view(true, dated), view(false, dated));
            for (name, mut cache) in [
                ("scan", QueryCache::new()),
                ("rollups", QueryCache::with_rollups(&table)),
            ] {
                let mut flip = false;
                let id = format!("page_view_{name}{}", if dated { "_dated" } else { "" });
                group.bench_function(BenchmarkId::new(id, rows), |bench| {
                    bench.iter(|| {
                        flip = !flip;
                        cache
                            .summarize_many(&table, black_box(if flip { &a } else { &b }))
                            .unwrap()
                    })
                });
            }
        }
        group.finish();
    }

    criterion_group!(benches, bench_ingest, bench_query, bench_rollup);
}

#[cfg(not(target_arch = "wasm32"))]
criterion::criterion_main!(native::benches);

#[cfg(target_arch = "wasm32")]
fn main() {}
