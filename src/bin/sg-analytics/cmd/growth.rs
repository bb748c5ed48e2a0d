//! `sg-analytics growth`: users gained and lost per period.

use lexopt::Parser;

use sg_analytics::{ActivityStream, Growth, PeriodAnswer, Table};

use crate::cmd::{self, Answer};
use crate::render;

const USAGE: &str = concat!(
    "\
sg-analytics growth: active, new, retained, resurrected and churned users per period

USAGE:
    sg-analytics growth [FILE|-] [OPTIONS]
    sg-analytics growth --instance HOST [OPTIONS]

One line per period of the range: active users, new ones (first active then), retained (active
the period before too), resurrected (active before, not the period before), churned (active the
period before, not now) and the quick ratio (new + resurrected) / churned. Memory: from a FILE or
stdin without a people file or registry, the export is read in chunks and dropped, keeping each
user's active periods (periods × distinct users, not rows); else the table (see FILE below) plus
a set of active users per period.

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

/// Parses the options after `growth` and prints the answer.
pub fn run(parser: Parser) -> Result<(), String> {
    let stream: cmd::PeriodStream<Growth> = (PeriodAnswer::Growth, ActivityStream::growth);
    cmd::run_per_period(parser, USAGE, Table::growth, Some(stream))
}

impl Answer for Growth {
    fn csv(&self) -> String {
        self.to_csv()
    }

    fn table(&self) -> String {
        render::table(&self.header(), self.cells())
    }
}
