//! The roll-ups (`src/query/rollup.rs`) held to the plain scan: on random exports in the order
//! exports are written (each user's rows together, by date), any filter the page offers and any
//! grouping, sort and page, a cache with roll-ups answers exactly what a query over the rows
//! answers, to the bit.
#![cfg(not(target_arch = "wasm32"))]

mod common;
#[path = "common/row_cells.rs"]
mod row_cells;

use proptest::prelude::*;
use row_cells::{cells, Cells};
use serde_json::{json, Value};
use sg_analytics::{Query, QueryCache, Table};

const CLIENTS: [&str; 3] = ["vscode.cody", "jetbrains.cody", "server.web"];
const LANGUAGES: [&str; 3] = ["go", "", "rust"];
const ACTIVE: [&str; 3] = ["true", "false", ""];

/// One row of a user: a day (`None`: no date), the cells (activity: an index into `ACTIVE`) and a
/// helpfulness rate.
#[derive(Clone, Debug)]
struct GenRow {
    day: Option<u8>,
    cells: Cells<usize>,
    helpful: Option<u8>,
}

fn row() -> impl Strategy<Value = GenRow> {
    (
        proptest::option::weighted(0.95, 0u8..45),
        cells(prop_oneof![6 => Just(0usize), 3 => Just(1usize), 1 => Just(2usize)]),
        proptest::option::of(0u8..=100),
    )
        .prop_map(|(day, cells, helpful)| GenRow {
            day,
            cells,
            helpful,
        })
}

fn date(day: u8) -> String {
    // 45 days from 2025-01-20 cross a month end and several week starts.
    common::days("2025-01-20", "2025-03-10")[usize::from(day)].clone()
}

/// Each user's rows together and by date, as exports are written (rows without a date where
/// they fall: between days, or last).
fn to_csv(users: &[Vec<GenRow>]) -> Vec<u8> {
    let mut out = String::from(
        "Instance user ID,User Email,Active Sourcegraph User,Client Name,Timestamp Date,Language,\
         Chat Events,Combined Completion Suggestions,Combined Completion Acceptances,Weighted CAR,\
         Helpfulness rate\n",
    );
    for (u, rows) in users.iter().enumerate() {
        let mut rows = rows.clone();
        rows.sort_by_key(|r| r.day.map_or(255, i32::from));
        for r in rows {
            let (usage, accepted) = (&r.cells, r.cells.accepted());
            let car = if usage.suggestions == 0 {
                String::new()
            } else {
                format!("{:.3}", f64::from(accepted) / f64::from(usage.suggestions))
            };
            out += &format!(
                "{},user{}@example.com,{},{},{},{},{},{},{},{},{}\n",
                100 + u,
                u,
                ACTIVE[usage.active],
                CLIENTS[usage.client],
                r.day.map_or(String::new(), date),
                LANGUAGES[usage.language],
                usage.chats.map_or(String::new(), |c| c.to_string()),
                usage.suggestions,
                accepted,
                car,
                r.helpful
                    .map_or(String::new(), |h| format!("{}.{}", h / 10, h % 10)),
            );
        }
    }
    out.into_bytes()
}

const GROUPINGS: [&[&str]; 11] = [
    &[],
    &["user"],
    &["day"],
    &["week"],
    &["month"],
    &["client"],
    &["language"],
    &["client", "language"],
    &["week", "client"],
    &["language", "month"],
    &["user", "month"],
];

const SORTS: [Option<&str>; 7] = [
    None,
    Some("hoursSaved"),
    Some("users"),
    Some("avgDau"),
    Some("Chat Events"),
    Some("Weighted CAR"),
    Some("rows"),
];

/// A filter the page could send.
#[derive(Clone, Debug)]
struct GenFilter {
    from: Option<u8>,
    span: u8,
    clients: Vec<usize>,
    languages: Vec<usize>,
    active_only: bool,
    search: Option<u8>,
    no_service: bool,
}

fn filter() -> impl Strategy<Value = GenFilter> {
    (
        proptest::option::weighted(0.3, 0u8..45),
        0u8..45,
        proptest::collection::vec(0usize..3, 0..3),
        proptest::collection::vec(0usize..3, 0..3),
        any::<bool>(),
        proptest::option::weighted(0.2, 0u8..6),
        any::<bool>(),
    )
        .prop_map(
            |(from, span, clients, languages, active_only, search, no_service)| GenFilter {
                from,
                span,
                clients,
                languages,
                active_only,
                search,
                no_service,
            },
        )
}

impl GenFilter {
    fn json(&self, registry: bool) -> Value {
        let mut f = json!({});
        if let Some(from) = self.from {
            f["from"] = json!(date(from));
            f["to"] = json!(date(from.saturating_add(self.span).min(44)));
        }
        if !self.clients.is_empty() {
            f["clients"] = json!(self.clients.iter().map(|&c| CLIENTS[c]).collect::<Vec<_>>());
        }
        if !self.languages.is_empty() {
            f["languages"] = json!(self
                .languages
                .iter()
                .map(|&l| LANGUAGES[l])
                .collect::<Vec<_>>());
        }
        if self.active_only {
            f["activeOnly"] = json!(true);
        }
        if registry {
            // Left out by default with a registry; counted when asked.
            f["excludeServiceAccounts"] = json!(self.no_service);
        }
        if let Some(s) = self.search {
            f["userSearch"] = json!(format!("user{s}@"));
        }
        f
    }
}

fn query(
    keys: &[&str],
    filter: &GenFilter,
    registry: bool,
    sort: Option<&str>,
    desc: bool,
    page: (usize, usize),
    compare: bool,
) -> Query {
    let mut q = json!({"groupBy": keys, "filter": filter.json(registry), "includeWarnings": false});
    if let Some(by) = sort {
        q["sort"] = json!({"by": by, "desc": desc});
    }
    if page.1 > 0 {
        q["offset"] = json!(page.0);
        q["limit"] = json!(page.1);
    }
    if compare {
        q["compare"] = json!("previous");
    }
    serde_json::from_value(q).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Any sequence of the page's queries, through one cache with roll-ups, answers what each
    /// query answers alone over the rows.
    #[test]
    fn rollups_answer_what_the_scan_answers(
        users in proptest::collection::vec(proptest::collection::vec(row(), 0..30), 1..8),
        asks in proptest::collection::vec(
            (filter(), 0usize..11, 0usize..7, any::<bool>(), (0usize..4, 0usize..6), any::<bool>()),
            1..8,
        ),
        service in proptest::option::of(proptest::collection::vec(any::<bool>(), 8)),
        (dated, every) in (any::<bool>(), any::<bool>()),
    ) {
        // Exports whose rows all have a date get the distinct counts counted ahead per time
        // grain (every grain with `every`, as a large export would).
        let users: Vec<Vec<GenRow>> = users
            .into_iter()
            .map(|rows| rows.into_iter().filter(|r| !dated || r.day.is_some()).collect())
            .collect();
        let mut table = Table::from_bytes(&to_csv(&users)).unwrap();
        prop_assume!(table.rows() > 0);
        // A registry marking some users as service accounts, joined before the roll-ups.
        let registry = service.is_some();
        if let Some(service) = &service {
            let mut csv = String::from("Instance user ID,Service Account,Site Admin\n");
            for (u, s) in service.iter().enumerate() {
                csv += &format!("{},{s},false\n", 100 + u);
            }
            table.join_registry(&sg_analytics::Registry::from_bytes(csv.as_bytes()).unwrap());
        }
        let mut cache = if every {
            QueryCache::with_every_rollup(&table)
        } else {
            QueryCache::with_rollups(&table)
        };
        prop_assert!(cache.rollup_bytes() > 0, "the roll-ups are built for an export in order");
        for (filter, keys, sort, desc, page, compare) in &asks {
            let keys = GROUPINGS[*keys];
            // A key can only sort its own grouping; others sort by a metric.
            let q = query(keys, filter, registry, SORTS[*sort], *desc, *page, *compare);
            let rolled = cache.summarize(&table, &q).map(|s| s.to_value()).map_err(|e| e.to_string());
            let scanned = table.summarize(&q).map(|s| s.to_value()).map_err(|e| e.to_string());
            prop_assert_eq!(rolled, scanned, "{:?}", q);
        }
    }
}

/// The roll-ups answer the page's own queries (a filter on clients and activity, groupings by
/// user, week, client and language, the totals), rather than leaving them to the scan: the fast
/// path is taken, not only correct.
#[test]
fn the_pages_view_is_answered_by_the_rollups() {
    let users: Vec<Vec<GenRow>> = (0..5)
        .map(|u| {
            (0..20u8)
                .map(|i| GenRow {
                    day: Some(i * 2),
                    cells: Cells {
                        client: (u + usize::from(i)) % 3,
                        language: usize::from(i) % 3,
                        active: usize::from(i % 4 == 3),
                        chats: Some(i),
                        suggestions: u16::from(i) * 3,
                        accepted_share: 40,
                    },
                    helpful: None,
                })
                .collect()
        })
        .collect();
    let table = Table::from_bytes(&to_csv(&users)).unwrap();
    let mut cache = QueryCache::with_rollups(&table);
    let filter = json!({"clients": ["vscode.cody", "server.web"], "activeOnly": true});
    let queries: Vec<Query> = [
        json!({"groupBy": ["user"], "filter": filter, "sort": {"by": "hoursSaved", "desc": true}, "limit": 2, "compare": "previous"}),
        json!({"groupBy": ["week"], "filter": filter, "metrics": ["activeUsers"]}),
        json!({"groupBy": ["client"], "filter": filter, "metrics": ["hoursSaved"], "sort": {"by": "hoursSaved", "desc": true}, "limit": 12}),
        json!({"groupBy": ["language"], "filter": filter, "metrics": ["hoursSaved"], "sort": {"by": "hoursSaved", "desc": true}, "limit": 12}),
    ]
    .into_iter()
    .map(|q| serde_json::from_value(q).unwrap())
    .collect();
    let rolled = cache.summarize_many(&table, &queries).unwrap();
    assert_eq!(
        cache.rolled_groupings(),
        4,
        "every grouping of the view from the roll-ups"
    );
    for (q, s) in queries.iter().zip(rolled) {
        assert_eq!(s.to_value(), table.summarize(q).unwrap().to_value());
    }
    // The totals' and the week chart's distinct counts were counted ahead, not passed over
    // every user-day.
    assert_eq!(cache.counted_ahead(), 2);
    // A range that ends mid-week leaves the week chart to the user-days.
    let q: Query = serde_json::from_value(
        json!({"groupBy": ["week"], "filter": {"to": "2025-02-05"}, "metrics": ["activeUsers"]}),
    )
    .unwrap();
    let s = cache.summarize(&table, &q).unwrap();
    assert_eq!(s.to_value(), table.summarize(&q).unwrap().to_value());
    assert_eq!(cache.counted_ahead(), 2);
    // Whole months, counted ahead (kept whatever their size: this export is too small to): the
    // grouping by month, and its totals (one whole month: the month's counts).
    let mut every = QueryCache::with_every_rollup(&table);
    let q: Query = serde_json::from_value(json!({"groupBy": ["month"], "filter": {"from": "2025-02-01"}, "metrics": ["users", "avgDaysActivePerUser"]})).unwrap();
    let s = every.summarize(&table, &q).unwrap();
    assert_eq!(s.to_value(), table.summarize(&q).unwrap().to_value());
    assert_eq!(every.counted_ahead(), 2);
    // With every cube added up per week, month and the whole range kept: the week chart's, the
    // clients' and the languages' sums add a coarser cube's cells, not the days'.
    let before = every.summed_coarse();
    for (q, s) in queries
        .iter()
        .zip(every.summarize_many(&table, &queries).unwrap())
    {
        assert_eq!(s.to_value(), table.summarize(q).unwrap().to_value());
    }
    assert!(every.summed_coarse() >= before + 3);
    // A range that ends mid-week and mid-month leaves the sums to the days' cells; whole weeks
    // (from a Monday to a Sunday) add the weeks' cube, the totals of a whole month the months'.
    for (filter, keys, coarse) in [
        (json!({"to": "2025-02-05"}), json!(["week"]), false),
        (
            json!({"from": "2025-01-27", "to": "2025-02-09"}),
            json!(["week"]),
            true,
        ),
        (
            json!({"from": "2025-02-01", "to": "2025-02-28"}),
            json!([]),
            true,
        ),
    ] {
        let before = every.summed_coarse();
        let q: Query = serde_json::from_value(json!({"groupBy": keys, "filter": filter})).unwrap();
        let s = every.summarize(&table, &q).unwrap();
        assert_eq!(s.to_value(), table.summarize(&q).unwrap().to_value());
        assert_eq!(every.summed_coarse() > before, coarse, "{q:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// By user under a range of dates alone (and a search on users), each user's kept rows are
    /// one run found by bisection: the answers, sorted, paged and compared with the previous
    /// range, are the scan's; rows without a date are never in a range.
    #[test]
    fn a_range_of_dates_by_user_answers_what_the_scan_answers(
        users in proptest::collection::vec(proptest::collection::vec(row(), 0..30), 1..8),
        ranges in proptest::collection::vec((0u8..45, 0u8..45, proptest::option::weighted(0.2, 0u8..6)), 1..6),
        (sort, desc, page) in (0usize..7, any::<bool>(), (0usize..3, 0usize..4)),
        every in any::<bool>(),
    ) {
        let table = Table::from_bytes(&to_csv(&users)).unwrap();
        prop_assume!(table.rows() > 0);
        // With `every`, the users' months too (each user's sums per calendar month), which a
        // small export does not keep: the months a range holds whole come from them.
        let mut cache = if every {
            QueryCache::with_every_rollup(&table)
        } else {
            QueryCache::with_rollups(&table)
        };
        for (from, span, search) in ranges {
            let filter = GenFilter {
                from: Some(from),
                span,
                clients: Vec::new(),
                languages: Vec::new(),
                active_only: false,
                search,
                no_service: false,
            };
            for compare in [false, true] {
                let q = query(&["user"], &filter, false, SORTS[sort], desc, page, compare);
                let rolled = cache.summarize(&table, &q).map(|s| s.to_value()).map_err(|e| e.to_string());
                let scanned = table.summarize(&q).map(|s| s.to_value()).map_err(|e| e.to_string());
                prop_assert_eq!(rolled, scanned, "{:?}", q);
            }
        }
    }
}

/// Under a range, the months it holds whole come from the users' months, and a month it cuts
/// from the rows it keeps, or from the month's sum less the rows it leaves out (whichever are
/// fewer): the sums by user, and the distinct users, active users and (active) user-days of the
/// totals. Each answer is the scan's, and the users' months are used.
#[test]
fn a_range_adds_the_months_it_holds_whole() {
    let mut csv = String::from(
        "Instance user ID,User Email,Active Sourcegraph User,Client Name,Timestamp Date,\
         Chat Events,Searches\n",
    );
    for user in 0..3 {
        for (d, day) in common::days("2025-01-20", "2025-03-07").iter().enumerate() {
            for (c, client) in ["vscode", "jetbrains"].iter().enumerate() {
                if (d + c + user) % 3 != 0 {
                    let active = (d + c * 2 + user) % 5 != 0;
                    let (chats, searches) = (d * 7 % 11 + user, (d + c) % 4);
                    csv += &format!(
                        "{user},u{user}@example.com,{active},{client},{day},{chats},{searches}\n"
                    );
                }
            }
        }
    }
    let table = Table::from_bytes(csv.as_bytes()).unwrap();
    let mut every = QueryCache::with_every_rollup(&table);
    // The grid runs 2025-01-20 to 03-07: January's 12 days, February whole, March's 7.
    let ranges = [
        ("2025-01-25", "2025-03-02"), // January less 5 days, February, March's rows (2 of 7)
        ("2025-01-29", "2025-03-06"), // January's rows (3 of 12), February, March less a day
        ("2025-01-20", "2025-02-28"), // January and February whole
        ("2025-02-27", "2025-03-01"), // February's rows (2 of 28) and March's (1 of 7)
        ("2025-02-03", "2025-02-20"), // within February: its rows alone
    ];
    for (from, to) in ranges {
        let within_a_month = from.starts_with("2025-02-0");
        let by_user = json!({
            "groupBy": ["user"], "filter": {"from": from, "to": to},
            "metrics": ["hoursSaved", "Chat Events", "Searches", "users"],
            "sort": {"by": "hoursSaved", "desc": true}
        });
        let totals = json!({
            "groupBy": [], "filter": {"from": from, "to": to},
            "metrics": ["users", "activeUsers", "avgDau", "avgDaysActivePerUser", "Chat Events"]
        });
        for q in [by_user, totals] {
            let q: Query = serde_json::from_value(q).unwrap();
            let scanned = table.summarize(&q).unwrap().to_value();
            let before = every.summed_months();
            assert_eq!(
                every.summarize(&table, &q).unwrap().to_value(),
                scanned,
                "{q:?}"
            );
            assert_eq!(every.summed_months() > before, !within_a_month, "{q:?}");
        }
    }
}

/// An export whose users' rows are not together gets no roll-ups, and its answers are the scan's.
#[test]
fn an_export_out_of_order_is_answered_by_the_scan() {
    let csv = b"Instance user ID,Active Sourcegraph User,Timestamp Date,Chat Events\n\
                1,true,2025-01-01,3\n2,true,2025-01-01,4\n1,false,2025-01-02,5\n";
    let table = Table::from_bytes(csv).unwrap();
    let mut cache = QueryCache::with_rollups(&table);
    assert_eq!(cache.rollup_bytes(), 0);
    let q: Query =
        serde_json::from_value(json!({"groupBy": ["user"], "filter": {"activeOnly": true}}))
            .unwrap();
    assert_eq!(
        cache.summarize(&table, &q).unwrap().to_value(),
        table.summarize(&q).unwrap().to_value()
    );
    assert_eq!(cache.rolled_groupings(), 0);
}

/// A user whose e-mail changes between rows (the roll-ups keep one row per user to match a
/// search against): a search for one of the e-mails answers that e-mail's rows only, as the
/// scan does, and a search for another user's e-mail that user's rows. The roll-ups' users are
/// what answers a grouping by user under a range: there, were the search matched against each
/// user's one row, "old@" would keep both of user 1's rows (8 chats, not 3).
#[test]
fn a_user_with_two_emails_is_searched_by_the_scan() {
    let csv = b"Instance user ID,User Email,Active Sourcegraph User,Timestamp Date,Chat Events\n\
                1,old@example.com,true,2025-01-01,3\n1,new@example.com,true,2025-01-02,5\n\
                2,two@example.com,true,2025-01-01,4\n";
    let table = Table::from_bytes(csv).unwrap();
    let mut cache = QueryCache::with_rollups(&table);
    assert!(cache.rollup_bytes() > 0);
    for (search, chats) in [("old@", 3), ("new@", 5)] {
        let q: Query = serde_json::from_value(json!({"filter": {"userSearch": search}})).unwrap();
        let answer = cache.summarize(&table, &q).unwrap().to_value();
        assert_eq!(answer, table.summarize(&q).unwrap().to_value());
        assert_eq!(answer["totals"]["Chat Events"], json!(chats), "{search}");
        let filter = json!({"userSearch": search});
        let ranged = json!({"userSearch": search, "from": "2025-01-01"});
        for extra in [
            json!({"groupBy": ["user"], "filter": ranged}),
            json!({"groupBy": ["user"], "filter": filter}),
            json!({"groupBy": ["week"], "metrics": ["activeUsers", "Chat Events"], "filter": filter}),
        ] {
            let q: Query = serde_json::from_value(extra.clone()).unwrap();
            let answer = cache.summarize(&table, &q).unwrap().to_value();
            assert_eq!(answer, table.summarize(&q).unwrap().to_value(), "{extra}");
        }
    }
    let q: Query = serde_json::from_value(json!({"filter": {"userSearch": "two@"}})).unwrap();
    assert_eq!(
        cache.summarize(&table, &q).unwrap().to_value(),
        table.summarize(&q).unwrap().to_value()
    );
}

/// Times the page's queries on an export, from the roll-ups and scanned, each query of a view
/// change alone (`SG_MEASURE_CSV=FILE cargo test --release --test rollup -- --ignored measure`).
#[test]
#[ignore]
fn measure() {
    let Ok(path) = std::env::var("SG_MEASURE_CSV") else {
        return;
    };
    let bytes = std::fs::read(path).unwrap();
    let t = std::time::Instant::now();
    // Read as a file is (64 KiB at a time), noting the bytes a row the ceiling's projection
    // counts when the last piece is in, against the table's once reading has ended.
    let mut ingester = sg_analytics::Ingester::new();
    for piece in bytes.chunks(64 << 10) {
        ingester.push(piece).unwrap();
    }
    let projected = ingester.table_bytes() as f64 / ingester.rows() as f64;
    let table = ingester.finish().unwrap();
    eprintln!(
        "{} rows, read in {:.2?}; bytes a row as reading counts them: {projected:.1}",
        table.rows(),
        t.elapsed()
    );
    let t = std::time::Instant::now();
    let rolled = QueryCache::with_rollups(&table);
    eprintln!(
        "roll-ups built in {:.2?}: {:.1} bytes/row (table {:.1})",
        t.elapsed(),
        rolled.rollup_bytes() as f64 / table.rows() as f64,
        table.heap_bytes() as f64 / table.rows() as f64
    );
    for (name, storage, bytes) in table.heap_bytes_by_column() {
        eprintln!(
            "  {name}: {storage}: {:.2} bytes/row",
            bytes as f64 / table.rows() as f64
        );
    }
    eprintln!("{}", rolled.rollup_shape().unwrap_or_default());
    let view = |filter: Value| -> Vec<(&str, Query)> {
        let chart = |key: &str, metric: &str, limit: Option<usize>| {
            let mut q = json!({"groupBy": [key], "filter": filter, "metrics": [metric], "includeWarnings": false});
            if let Some(limit) = limit {
                q["sort"] = json!({"by": metric, "desc": true});
                q["limit"] = limit.into();
            }
            serde_json::from_value(q).unwrap()
        };
        vec![
            ("table", serde_json::from_value(json!({"groupBy": ["user"], "columns": ["users", "activeUsers", "avgDau", "avgDaysActivePerUser", "hoursSaved", "Searches", "Chat Events", "Combined Completion Acceptances", "Combined CAR", "Percentage of Code Written by Cody", "Auto-edit acceptance rate"], "filter": filter, "sort": {"by": "hoursSaved", "desc": true}, "limit": 25, "includeWarnings": false, "compare": "previous"})).unwrap()),
            ("totals", serde_json::from_value(json!({"filter": filter, "includeWarnings": false, "compare": "lastPeriods"})).unwrap()),
            ("week", chart("week", "hoursSaved", None)),
            ("client", chart("client", "hoursSaved", Some(12))),
            ("language", chart("language", "hoursSaved", Some(12))),
            ("users", chart("user", "hoursSaved", Some(10))),
        ]
    };
    let filters = [
        json!({}),
        json!({"activeOnly": true}),
        json!({"clients": ["vscode.cody"], "activeOnly": true}),
        json!({"from": "2025-03-01"}),
    ];
    for (name, mut cache) in [("scan", QueryCache::new()), ("rollups", rolled)] {
        for filter in &filters {
            // The fastest of 5 views, each after another filter, so every view is a change the
            // cache has not seen.
            let mut best = [f64::MAX; 6];
            for _ in 0..5 {
                cache
                    .summarize(
                        &table,
                        &serde_json::from_value(json!({"filter": {"to": "2025-01-02"}})).unwrap(),
                    )
                    .unwrap();
                for (i, (_, q)) in view(filter.clone()).into_iter().enumerate() {
                    let t = std::time::Instant::now();
                    cache.summarize(&table, &q).unwrap();
                    best[i] = best[i].min(t.elapsed().as_secs_f64() * 1e3);
                }
            }
            let mut line = format!("{name} {filter}:");
            for ((what, _), ms) in view(filter.clone()).iter().zip(best) {
                line += &format!(" {what} {ms:.1}");
            }
            let total: f64 = best.iter().sum();
            eprintln!(
                "{line} = {total:.1} ms (rolled groupings {})",
                cache.rolled_groupings()
            );
        }
    }
}

/// With a registry joined before the roll-ups are built, leaving service accounts out is a
/// filter the roll-ups answer for every grouping, not only by user.
#[test]
fn leaving_service_accounts_out_is_answered_by_the_rollups() {
    let csv = b"Instance user ID,Active Sourcegraph User,Client Name,Timestamp Date,Language,Chat Events\n\
                1,true,vscode.cody,2025-01-01,go,3\n1,true,vscode.cody,2025-01-08,go,1\n\
                2,true,server.web,2025-01-01,,4\n2,false,cli,2025-01-02,,5\n3,true,cli,2025-01-03,,7\n";
    let mut table = Table::from_bytes(csv).unwrap();
    let registry = sg_analytics::Registry::from_bytes(
        b"Instance user ID,Service Account,Site Admin\n2,true,false\n3,false,true\n",
    )
    .unwrap();
    table.join_registry(&registry);
    for key in ["week", "client", "language", "user"] {
        let mut cache = QueryCache::with_rollups(&table);
        let q: Query = serde_json::from_value(
            json!({"groupBy": [key], "filter": {"excludeServiceAccounts": true}}),
        )
        .unwrap();
        let rolled = cache.summarize(&table, &q).unwrap().to_value();
        assert_eq!(rolled, table.summarize(&q).unwrap().to_value(), "by {key}");
        // The grouping and the totals' grouping.
        assert_eq!(cache.rolled_groupings(), 2, "by {key} from the roll-ups");
    }
}
