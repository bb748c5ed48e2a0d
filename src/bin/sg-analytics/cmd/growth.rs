//! `sg-analytics growth`: users gained and lost per period.

use lexopt::Parser;

use sg_analytics::{Growth, Table};

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
period before, not now) and the quick ratio (new + resurrected) / churned. Memory: the table (see
FILE below) plus a set of active users per period.

",
    input_help!(),
    "
OPTIONS:
",
    period_help!(),
    answer_help!(),
);

/// Parses the options after `growth` and prints the answer.
pub fn run(parser: Parser) -> Result<(), String> {
    cmd::run_per_period(parser, USAGE, Table::growth)
}

impl Answer for Growth {
    fn csv(&self) -> String {
        self.to_csv()
    }

    fn table(&self) -> String {
        render::table(&self.header(), self.cells())
    }
}
