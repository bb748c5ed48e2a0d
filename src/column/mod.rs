//! Columnar storage: dictionary-encoded text (`text`), day numbers, tri-state booleans, and
//! numbers stored as scaled integers in the narrowest width that holds them (`num`), read from
//! their cells by `parse`; the aggregation kernels over them (`kernels`); the dictionaries' hasher
//! (`hash`).

pub(crate) mod chunked;
pub(crate) mod days;
pub(crate) mod hash;
pub(crate) mod kernels;
pub(crate) mod num;
pub(crate) mod packed;
mod parse;
pub(crate) mod text;

pub(crate) use chunked::Chunked;
pub(crate) use days::DayColumn;
pub(crate) use hash::{same_bytes, FxHashMap};
pub(crate) use kernels::{weighted_heap_bytes, Acc, Layout, Run, WeightedSums, NO_GROUP};
pub(crate) use num::NumColumn;
pub(crate) use text::{Codes, TextColumn};

/// Day numbers; `NULL_DAY` for an empty or unparseable cell.
pub(crate) const NULL_DAY: i32 = i32::MIN;

/// Tri-state booleans: `0` false, `1` true, `NULL_BOOL` empty.
pub(crate) const NULL_BOOL: u8 = 2;

/// A column's cells in order (`cells`), or, without the column, `fill` for each of the `n` rows:
/// for a pass over every row that reads a column the export may lack.
pub(crate) fn cells_or<T: Copy>(
    cells: Option<impl Iterator<Item = T>>,
    fill: T,
    n: usize,
) -> impl Iterator<Item = T> {
    let missing = cells.is_none();
    cells
        .into_iter()
        .flatten()
        .chain(std::iter::repeat_n(fill, if missing { n } else { 0 }))
}

/// A vector of `n` copies of `x`, or `None` when the memory is not there.
pub(crate) fn try_filled<T: Clone>(n: usize, x: T) -> Option<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).ok()?;
    v.resize(n, x);
    Some(v)
}
