//! Cells in chunks of a fixed size: a column grows a chunk at a time, so growing never copies
//! the cells already stored, and memory never holds a column twice over (as one vector that
//! doubles does, for a moment, at every growth).

use std::collections::TryReserveError;

/// Cells per chunk.
pub(crate) const CHUNK: usize = 1 << 14;

/// A column's cells, in chunks of [`CHUNK`] cells (the last one partly filled; chunks reserved
/// ahead are empty).
#[derive(Clone, Debug, Default)]
pub(crate) struct Chunked<T> {
    chunks: Vec<Vec<T>>,
    len: usize,
}

impl<T: Copy> Chunked<T> {
    pub(crate) fn new() -> Chunked<T> {
        Chunked {
            chunks: Vec::new(),
            len: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub(crate) fn get(&self, row: usize) -> T {
        self.chunks[row / CHUNK][row % CHUNK]
    }

    /// The chunk the next cell goes into, with room for it.
    #[inline]
    fn last_with_room(&mut self) -> &mut Vec<T> {
        let k = self.len / CHUNK;
        if k == self.chunks.len() || self.chunks[k].len() == self.chunks[k].capacity() {
            self.make_room(k);
        }
        &mut self.chunks[k]
    }

    /// Makes room for a cell in chunk `k`: a new chunk, or more room in a first chunk that is
    /// still small (it doubles up to [`CHUNK`], so that a small table stays small).
    #[cold]
    #[inline(never)]
    fn make_room(&mut self, k: usize) {
        if k == self.chunks.len() {
            let first = if k == 0 { 64 } else { CHUNK };
            self.chunks.push(Vec::with_capacity(first));
        } else {
            let c = &mut self.chunks[k];
            c.reserve_exact(c.capacity().max(64).min(CHUNK - c.len()));
        }
    }

    #[inline]
    pub(crate) fn push(&mut self, x: T) {
        self.last_with_room().push(x);
        self.len += 1;
    }

    /// The cells in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = T> + '_ {
        self.chunks.iter().flat_map(|c| c.iter().copied())
    }

    /// Makes room for `more` cells after the last (whole chunks, or the first one's exact
    /// need), or fails without allocating when the memory is not there.
    pub(crate) fn try_grow(&mut self, more: usize) -> Result<(), TryReserveError> {
        let target = self.len.saturating_add(more);
        let mut k = self.len / CHUNK;
        while k * CHUNK < target {
            let need = (target - k * CHUNK).min(CHUNK);
            if k == self.chunks.len() {
                self.chunks.try_reserve(1)?;
                self.chunks.push(Vec::new());
            }
            let c = &mut self.chunks[k];
            if c.capacity() < need {
                c.try_reserve_exact(need - c.len())?;
            }
            k += 1;
        }
        Ok(())
    }

    /// Cells the chunks have room for.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.chunks.iter().map(Vec::capacity).sum()
    }

    /// Bytes reserved: the chunks' capacity and the list of chunks.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.chunks.iter().map(Vec::capacity).sum::<usize>() * std::mem::size_of::<T>()
            + self.chunks.capacity() * std::mem::size_of::<Vec<T>>()
    }

    /// Bytes the cells stored take.
    pub(crate) fn used_bytes(&self) -> usize {
        self.len * std::mem::size_of::<T>()
    }

    /// Gives back the room reserved past the last cell.
    pub(crate) fn shrink_to_fit(&mut self) {
        let used = self.len.div_ceil(CHUNK);
        self.chunks.truncate(used);
        if let Some(last) = self.chunks.last_mut() {
            last.shrink_to_fit();
        }
        self.chunks.shrink_to_fit();
    }
}

impl<T: Copy> Chunked<T> {
    /// The items of `items`, or the error when the memory for them is not there.
    pub(crate) fn try_from_iter(
        items: impl ExactSizeIterator<Item = T>,
    ) -> Result<Chunked<T>, TryReserveError> {
        let mut c = Chunked::new();
        c.try_grow(items.len())?;
        c.extend(items);
        Ok(c)
    }
}

impl<T: Copy> Extend<T> for Chunked<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        for x in iter {
            self.push(x);
        }
    }
}

impl<T: Copy> FromIterator<T> for Chunked<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Chunked<T> {
        let mut c = Chunked::new();
        for x in iter {
            c.push(x);
        }
        c
    }
}

impl<T: Copy> std::ops::Index<usize> for Chunked<T> {
    type Output = T;

    #[inline]
    fn index(&self, row: usize) -> &T {
        &self.chunks[row / CHUNK][row % CHUNK]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cross_chunks_in_order() {
        let mut c = Chunked::new();
        let n = 3 * CHUNK + 5;
        c.extend(0..CHUNK as u32 - 3);
        for x in CHUNK as u32 - 3..n as u32 {
            c.push(x);
        }
        assert_eq!(c.len(), n);
        assert!(c.iter().eq(0..n as u32));
        assert_eq!(c.get(CHUNK), CHUNK as u32);
        assert_eq!(c[n - 1], n as u32 - 1);
    }

    #[test]
    fn growing_reserves_at_most_one_chunk_past_the_cells() {
        const LIST: usize = std::mem::size_of::<Vec<u8>>();
        let mut c = Chunked::new();
        for x in 0..10 * CHUNK + 1 {
            c.push(x as u8);
            // The reserved bytes: the cells, one chunk's room, and the list of chunks (which
            // doubles, as a vector does: 2 pointers and 2 lengths a chunk at most).
            let list = c.chunks.capacity() * LIST;
            assert!(list <= (2 * (c.len() / CHUNK + 1)).max(4) * LIST);
            assert!(c.heap_bytes() - list <= c.len() + CHUNK, "{}", c.len());
        }
        c.try_grow(2 * CHUNK).unwrap();
        assert!(c.heap_bytes() >= 12 * CHUNK);
        c.shrink_to_fit();
        assert_eq!(c.heap_bytes() - c.chunks.capacity() * LIST, 10 * CHUNK + 1);
    }
}
