//! The length of the periods that growth, retention, stickiness and feature depth count in, and
//! the days and key of each.

use serde::{Deserialize, Serialize};

use crate::date::{format_day, format_month, month_end, month_first_day, month_number, week_start};
use crate::error::Error;

/// The length of a period: a week (starting on Monday) or a calendar month.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    /// Monday to Sunday; keyed by the Monday, `YYYY-MM-DD`.
    Week,
    /// A calendar month; keyed `YYYY-MM`.
    #[default]
    Month,
}

impl Period {
    /// Parses `week` or `month`.
    pub fn parse(s: &str) -> Result<Period, Error> {
        match s.trim() {
            "week" => Ok(Period::Week),
            "month" => Ok(Period::Month),
            other => Err(Error::query(format!(
                "period: expected \"week\" or \"month\", found {other:?}"
            ))),
        }
    }

    /// The period's number, counted from an arbitrary origin (consecutive periods differ by 1).
    pub(super) fn number(self, day: i32) -> i64 {
        match self {
            // Day 4 (1970-01-05) is a Monday: every Monday is 4 more than a multiple of 7.
            Period::Week => (i64::from(week_start(day)) - 4).div_euclid(7),
            Period::Month => month_number(day),
        }
    }

    /// The first and last day of the period with this number.
    pub(super) fn days(self, number: i64) -> (i32, i32) {
        match self {
            Period::Week => {
                let monday = (number * 7 + 4) as i32;
                (monday, monday + 6)
            }
            Period::Month => {
                let first = month_first_day(number).unwrap_or(i32::MAX);
                (first, month_end(first))
            }
        }
    }

    /// The key of the period with this number.
    pub(super) fn key(self, number: i64) -> String {
        match self {
            Period::Week => format_day((number * 7 + 4) as i32),
            Period::Month => month_first_day(number).map_or_else(String::new, format_month),
        }
    }
}
