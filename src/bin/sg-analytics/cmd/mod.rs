//! One file per subcommand: its usage text (also its spec, with what it costs in memory), its
//! options and its run.

pub mod convert;
pub mod fetch;
pub mod filter;
pub mod growth;
pub mod inactive;
pub mod retention;
pub mod summarize;
