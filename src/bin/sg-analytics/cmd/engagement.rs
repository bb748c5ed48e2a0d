//! `sg-analytics stickiness` and `sg-analytics features`: how habitual the use is, and how deep.

use lexopt::Parser;

use sg_analytics::{Features, Stickiness, Table};

use crate::cmd::{self, Answer};
use crate::render;

const STICKINESS_USAGE: &str = concat!(
    "\
sg-analytics stickiness: days active per week or month, average DAU and DAU/MAU

USAGE:
    sg-analytics stickiness [FILE|-] [OPTIONS]
    sg-analytics stickiness --instance HOST [OPTIONS]

One line per period of the range: whether the range covers it only in part (partial), its active
users, the average DAU over its days inside the range, DAU/MAU (average DAU over active users),
then days1, days2, ...: how many users were active on exactly that many days of the period.
Day-grain exports only (by_user_day or by_user_day_client_language). Memory: the table (see FILE
below) plus each user's active days.

",
    input_help!(),
    "
OPTIONS:
",
    period_help!(),
    answer_help!(),
);

const FEATURES_USAGE: &str = concat!(
    "\
sg-analytics features: who uses search, completions, chat and auto-edit, per week or month

USAGE:
    sg-analytics features [FILE|-] [OPTIONS]
    sg-analytics features --instance HOST [OPTIONS]

One line per period of the range: whether the range covers it only in part (partial), its active
users, then per feature the users who used it (search: Searches; completions: Combined Completion
Acceptances; chat: Chat Events + Command Events; autoEdit: Auto-edit accepted events, each summed
over the rows that make the user active, > 0), the users who used it for the first time in the
range, and breadth0, breadth1, ...: the active users who used exactly that many of the features.
A feature whose columns the export lacks is left out. Day-grain exports only. Memory: the table
(see FILE below) plus a few sums per user and period.

",
    input_help!(),
    "
OPTIONS:
",
    period_help!(),
    answer_help!(),
);

/// Parses the options after `stickiness` and prints the answer.
pub fn stickiness(parser: Parser) -> Result<(), String> {
    cmd::run_per_period(parser, STICKINESS_USAGE, Table::stickiness, None)
}

/// Parses the options after `features` and prints the answer.
pub fn features(parser: Parser) -> Result<(), String> {
    cmd::run_per_period(parser, FEATURES_USAGE, Table::features, None)
}

impl Answer for Stickiness {
    fn csv(&self) -> String {
        self.to_csv()
    }

    /// The core's cells, the average DAU and DAU/MAU rounded for reading.
    fn table(&self) -> String {
        let rows = self
            .cells()
            .into_iter()
            .zip(&self.periods)
            .map(|(mut row, p)| {
                row[3] = render::float(Some(p.avg_dau));
                row[4] = render::float(p.dau_over_mau);
                row
            })
            .collect();
        render::table(&self.header(), rows)
    }
}

impl Answer for Features {
    fn csv(&self) -> String {
        self.to_csv()
    }

    /// The core's cells, each feature under its heading.
    fn table(&self) -> String {
        render::table(&self.labelled_header(), self.cells())
    }
}
