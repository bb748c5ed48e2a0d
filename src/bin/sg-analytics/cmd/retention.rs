//! `sg-analytics retention`: how each first-active cohort stays.

use lexopt::Parser;

use sg_analytics::{ActivityStream, PeriodAnswer, Retention, Table};

use crate::cmd::{self, Answer};
use crate::render;

const USAGE: &str = concat!(
    "\
sg-analytics retention: how many of each first-active cohort are active k periods later

USAGE:
    sg-analytics retention [FILE|-] [OPTIONS]
    sg-analytics retention --instance HOST [OPTIONS]

One line per cohort (the users first active in a period): its size, then how many of them are
active 0, 1, 2, ... periods later (and the share of the cohort in the table format). Memory: from
a FILE or stdin without a people file or registry, the export is read in chunks and dropped,
keeping each user's active periods (periods × distinct users, not rows); else the table (see FILE
below) plus each user's active periods.

",
    input_help!(),
    "
OPTIONS:
",
    period_help!(),
    "    --threads N           threads that parse the export (default: one per core; 1: all on one
                          thread); the answer is the same whatever N
",
    answer_help!(),
);

/// Parses the options after `retention` and prints the answer.
pub fn run(parser: Parser) -> Result<(), String> {
    let stream: cmd::PeriodStream<Retention> = (PeriodAnswer::Retention, ActivityStream::retention);
    cmd::run_per_period(parser, USAGE, Table::retention, Some(stream))
}

impl Answer for Retention {
    fn csv(&self) -> String {
        self.to_csv()
    }

    /// The counts, and each one's share of the cohort.
    fn table(&self) -> String {
        let width = self.header().len();
        let rows = self
            .cohorts
            .iter()
            .map(|c| {
                let share = |n: u64| format!("{n} ({:.0}%)", 100.0 * n as f64 / c.users as f64);
                let mut row: Vec<String> = [c.cohort.clone(), c.users.to_string()]
                    .into_iter()
                    .chain(c.active.iter().map(|&n| share(n)))
                    .collect();
                row.resize(width - 1, String::new());
                row.push(c.small_sample.to_string());
                row
            })
            .collect();
        render::table(&self.header(), rows)
    }
}
