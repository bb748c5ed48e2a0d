//! Date columns: day numbers in 16 bits, as the distance from a base day set by the column's
//! first date (an export's dates span a few years at most); a column whose dates are further
//! apart than 16 bits reach is widened to whole day numbers.

use std::collections::TryReserveError;

use super::chunked::Chunked;
use super::NULL_DAY;

/// The 16-bit cell of an empty date.
const EMPTY: u16 = u16::MAX;

/// Days reachable on either side of the first date in 16 bits.
const REACH: i32 = (EMPTY / 2) as i32;

/// A date column: a day number per row (`NULL_DAY` empty).
#[derive(Clone, Debug)]
pub(crate) enum DayColumn {
    /// `base + cell`, for days within [`REACH`] of the first date (`base` is that date minus
    /// [`REACH`]; `None` until a date is seen); [`EMPTY`] for an empty cell.
    Near {
        base: Option<i32>,
        cells: Chunked<u16>,
    },
    /// Day numbers.
    Far(Chunked<i32>),
}

impl Default for DayColumn {
    fn default() -> DayColumn {
        DayColumn::new()
    }
}

impl DayColumn {
    pub(crate) fn new() -> DayColumn {
        DayColumn::Near {
            base: None,
            cells: Chunked::new(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        match self {
            DayColumn::Near { cells, .. } => cells.len(),
            DayColumn::Far(days) => days.len(),
        }
    }

    /// The day of a row, `NULL_DAY` when empty.
    #[inline]
    pub(crate) fn get(&self, row: usize) -> i32 {
        match self {
            DayColumn::Near { base, cells } => match cells.get(row) {
                EMPTY => NULL_DAY,
                // A cell other than EMPTY was stored with the base set.
                c => base.unwrap_or(0) + i32::from(c),
            },
            DayColumn::Far(days) => days.get(row),
        }
    }

    /// The days in order (`NULL_DAY` for an empty cell).
    pub(crate) fn iter(&self) -> impl Iterator<Item = i32> + '_ {
        (0..self.len()).map(|row| self.get(row))
    }

    #[inline]
    pub(crate) fn push(&mut self, day: i32) {
        if let DayColumn::Near { base, cells } = self {
            if day == NULL_DAY {
                return cells.push(EMPTY);
            }
            let b = *base.get_or_insert(day.saturating_sub(REACH));
            match day.checked_sub(b) {
                Some(offset @ 0..=0xfffe) => return cells.push(offset as u16),
                _ => self.widen(),
            }
        }
        if let DayColumn::Far(days) = self {
            days.push(day);
        }
    }

    /// Moves to whole day numbers, a chunk at a time.
    #[cold]
    #[inline(never)]
    fn widen(&mut self) {
        if let DayColumn::Near { base, cells } = std::mem::take(self) {
            let base = base.unwrap_or(0);
            *self = DayColumn::Far(cells.into_map(|c| match c {
                EMPTY => NULL_DAY,
                c => base + i32::from(c),
            }));
        }
    }

    /// Makes room for `more` rows after the last, or fails without allocating.
    pub(crate) fn try_grow(&mut self, more: usize) -> Result<(), TryReserveError> {
        match self {
            DayColumn::Near { cells, .. } => cells.try_grow(more),
            DayColumn::Far(days) => days.try_grow(more),
        }
    }

    /// Rows the cells have room for.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        match self {
            DayColumn::Near { cells, .. } => cells.capacity(),
            DayColumn::Far(days) => days.capacity(),
        }
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        match self {
            DayColumn::Near { cells, .. } => cells.heap_bytes(),
            DayColumn::Far(days) => days.heap_bytes(),
        }
    }

    /// Bytes the cells stored take (not the spare capacity).
    pub(crate) fn used_bytes(&self) -> usize {
        match self {
            DayColumn::Near { cells, .. } => cells.used_bytes(),
            DayColumn::Far(days) => days.used_bytes(),
        }
    }

    pub(crate) fn shrink_to_fit(&mut self) {
        match self {
            DayColumn::Near { cells, .. } => cells.shrink_to_fit(),
            DayColumn::Far(days) => days.shrink_to_fit(),
        }
    }

    /// How the cells are stored, in a few words (for memory measurements).
    pub(crate) fn storage(&self) -> &'static str {
        match self {
            DayColumn::Near { .. } => "days, u16 from a base day",
            DayColumn::Far(_) => "days, i32",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_stay_16_bits_near_the_first_date_and_widen_past_it() {
        let mut d = DayColumn::new();
        let days = [
            NULL_DAY,
            20_000,
            20_000 - REACH,
            NULL_DAY,
            20_000 + REACH,
            19_999,
        ];
        for &x in &days {
            d.push(x);
        }
        assert!(matches!(d, DayColumn::Near { .. }));
        assert!(d.iter().eq(days));
        d.push(20_000 + REACH + 1);
        d.push(-800_000);
        assert!(matches!(d, DayColumn::Far(_)));
        let all: Vec<i32> = d.iter().collect();
        assert_eq!(&all[..days.len()], &days);
        assert_eq!(&all[days.len()..], &[20_000 + REACH + 1, -800_000]);
    }
}
