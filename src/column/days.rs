//! Date columns: day numbers in 16 bits, as the distance from a base day set by the column's
//! first date (an export's dates span a few years at most), packed a chunk at a time as the
//! numbers are ([`Cells`]: a chunk of a year's dates takes 9 bits a cell); a column whose dates
//! are further apart than 16 bits reach is widened to whole day numbers.

use std::collections::TryReserveError;

use super::chunked::Chunked;
use super::packed::Cells;
use super::NULL_DAY;

/// The 16-bit cell of an empty date (the packed cells' empty cell).
const EMPTY: u16 = <u16 as super::packed::Cell>::NULL;

/// Days reachable on either side of the first date in 16 bits.
const REACH: i32 = (EMPTY / 2) as i32;

/// A date column: a day number per row (`NULL_DAY` empty).
#[derive(Clone, Debug)]
pub(crate) enum DayColumn {
    /// `base + cell`, for days within [`REACH`] of the first date (`base` is that date minus
    /// [`REACH`]; `None` until a date is seen); [`EMPTY`] for an empty cell.
    Near {
        base: Option<i32>,
        cells: Cells<u16>,
    },
    /// Day numbers.
    Far(Chunked<i32>),
}

/// [`DayColumn::iter`]'s iterator: one per storage, chosen once, not per cell.
enum Days<N, F> {
    Near(N),
    Far(F),
}

impl<N: Iterator<Item = i32>, F: Iterator<Item = i32>> Iterator for Days<N, F> {
    type Item = i32;

    #[inline]
    fn next(&mut self) -> Option<i32> {
        match self {
            Days::Near(n) => n.next(),
            Days::Far(f) => f.next(),
        }
    }
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
            cells: Cells::new(),
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
        match self {
            DayColumn::Near { base, cells } => {
                let base = base.unwrap_or(0);
                Days::Near(cells.iter().map(move |c| match c {
                    EMPTY => NULL_DAY,
                    c => base + i32::from(c),
                }))
            }
            DayColumn::Far(days) => Days::Far(days.iter()),
        }
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
            let mut days = Chunked::new();
            for c in cells.iter() {
                days.push(match c {
                    EMPTY => NULL_DAY,
                    c => base + i32::from(c),
                });
            }
            *self = DayColumn::Far(days);
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
            DayColumn::Near { .. } => "days, u16 from a base day, packed",
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

    #[test]
    fn packed_chunks_of_days_read_back_and_widen_whole() {
        use crate::column::chunked::CHUNK;
        // A year of days per user, some empty, over several sealed chunks and a plain one.
        let days: Vec<i32> = (0..2 * CHUNK + 77)
            .map(|i| match i % 97 {
                0 => NULL_DAY,
                _ => 20_000 + (i % 365) as i32,
            })
            .collect();
        let mut d = DayColumn::new();
        for &x in &days {
            d.push(x);
        }
        assert!(d.iter().eq(days.iter().copied()));
        assert!((0..days.len()).all(|row| d.get(row) == days[row]));
        // Packed: 9 bits a cell and the empty code, not 16.
        assert!(d.used_bytes() < days.len() * 3 / 2, "{}", d.used_bytes());
        d.push(20_000 + 3 * REACH);
        assert!(matches!(d, DayColumn::Far(_)));
        assert!(d
            .iter()
            .eq(days.iter().copied().chain([20_000 + 3 * REACH])));
    }
}
