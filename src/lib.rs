//! sg-analytics: stream Sourcegraph Analytics usage exports into answers.
//!
//! The core is plain Rust with no browser types. Bytes go into an [`Ingester`] in chunks of any
//! size (a fetch body, a file read, one byte at a time); it builds a compact columnar [`Table`].
//! A [`Query`] (filter, group, sort, page) over the table gives a [`Summary`] in the one shape
//! every output speaks (docs/numbers.md): the CLI's JSON, the JS `summarize()` and the page.
//!
//! ```
//! use sg_analytics::{Ingester, Query};
//! let mut ingester = Ingester::new();
//! ingester.push(b"Instance user ID,Active Sourcegraph User,Timestamp Date,Chat Events\n1,true,2025-01-0");
//! ingester.push(b"1,3\n2,false,2025-01-02,4\n");
//! let table = ingester.finish().unwrap();
//! let query: Query = serde_json::from_str(r#"{"groupBy": ["month"]}"#).unwrap();
//! let summary = table.summarize(&query).unwrap();
//! assert_eq!(summary.totals()["Chat Events"], 7);
//! assert_eq!(summary.totals()["activeUsers"], 1);
//! ```
#![deny(missing_docs)]

pub mod argument;
mod attributes;
mod budget;
mod builder;
mod column;
mod cost;
mod date;
mod error;
mod fetch;
mod ingest;
mod number;
mod order;
#[cfg(not(target_arch = "wasm32"))]
mod parquet_out;
mod query;
mod registry;
// Native always (the CLI's `report`); in the wasm module only with the `html-report` feature, so
// the page's module does not carry it until its "Download report" asks for it.
#[cfg(any(not(target_arch = "wasm32"), feature = "html-report"))]
mod report_html;
mod scan;
mod schema;
mod summary;
mod table;
mod verbatim;
mod warning;
mod write;

#[cfg(target_arch = "wasm32")]
mod wasm;
#[cfg(target_arch = "wasm32")]
pub use wasm::{
    allocation_failed, credit_buckets, fetch_credits, fetch_dashboard, fetch_registry,
    fetch_report, plan_fetch, warm_up, Report, ReportBuilder, UserRegistry,
};

pub use attributes::{AttributeChoices, AttributesJoin};
pub use budget::{default_budget, MEMORY_BUDGET_32, MIN_TABLE_PER_CSV_BYTE, QUERY_ROOM};
pub use cost::{Cost, CostLine, CostQuery, Credits};
pub use date::utc_day;
pub use error::{Error, ErrorKind};
pub use fetch::{
    ExportCopy, Failure, FetchCode, FetchError, FetchOptions, FetchPlan, FetchSession, Fetched,
    Head, Parts, Progress, Request, Step,
};
pub use ingest::Ingester;
#[cfg(not(target_arch = "wasm32"))]
pub use parquet_out::{
    append_start, parquet_columns, parquet_granularity, LayoutLearner, ParquetLayout, ParquetSink,
    ParquetType, Partition, Split, GRANULARITY_KEY, NULL_PARTITION, ROW_GROUP_ROWS,
};
pub use query::{
    feature_label, ActivityStream, Card, Choices, Chunk, ChunkEnd, Chunker, Cohort, Compare,
    FeatureCounts, FeaturePeriod, Features, Filter, Growth, GrowthPeriod, Headers, Inactive,
    InactiveQuery, InactiveStream, InactiveUser, Info, MetricInfo, MetricKind, Period,
    PeriodAnswer, PeriodQuery, Query, QueryCache, Retention, Sort, Stickiness, StickinessPeriod,
    Streamed, SummaryStream, CHUNK_ROWS, DEFAULT_MINUTES_SAVED, DEFAULT_MIN_SAMPLE,
};
#[cfg(not(target_arch = "wasm32"))]
pub use query::{read_chunks, read_pieces};
pub use registry::Registry;
#[cfg(any(not(target_arch = "wasm32"), feature = "html-report"))]
pub use report_html::ReportOptions;
pub use schema::{Granularity, KnownColumn};
pub use summary::{Cell, Group, LastPeriods, PeriodTotals, Previous, ServiceAccounts, Summary};
pub use table::{Input, Table};
pub use warning::Warning;
pub use write::guard_formula;
