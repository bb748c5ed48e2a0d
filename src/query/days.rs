//! The day grid of an export: every calendar day from its first date to its last, each at an
//! index, for grouping and counting by day.

use crate::column::NULL_DAY;
use crate::table::Table;

/// The day grid: every calendar day of the data, from `base` to `base + days - 1`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Days {
    pub base: i32,
    pub days: usize,
}

impl Days {
    pub fn of(table: &Table) -> Days {
        match (table.first_date, table.last_date) {
            (Some(lo), Some(hi)) => Days {
                base: lo,
                days: usize::try_from(i64::from(hi) - i64::from(lo) + 1).unwrap_or(0),
            },
            _ => Days { base: 0, days: 0 },
        }
    }

    /// The index of a day in the grid; `None` for an empty date.
    #[inline]
    pub fn index(self, d: i32) -> Option<usize> {
        if d == NULL_DAY {
            return None;
        }
        usize::try_from(i64::from(d) - i64::from(self.base))
            .ok()
            .filter(|&i| i < self.days)
    }
}
