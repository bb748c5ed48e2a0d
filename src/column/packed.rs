//! Unsigned cells packed a chunk at a time: while a column is read its cells go into a plain
//! chunk of [`CHUNK`] cells, and as soon as that chunk is full it is sealed: its cells become
//! offsets from the chunk's smallest value, in the fewest bits that hold the chunk's range (and a
//! code for an empty cell when it has one). Export counters are mostly small and often zero, so a
//! chunk of a byte-wide column often takes 2 or 3 bits a cell, and one of only zeros none. When
//! many cells of a chunk are its smallest value or empty (a counter's zeros, a rate's empty
//! cells), a bit a cell marks the others, and only theirs are packed.
//!
//! Queries read a sealed chunk a block at a time ([`Cells::slice_at`]): the block's cells are
//! unpacked into a small buffer, in a loop compiled for each width, and summed from there; no
//! column is ever unpacked whole.

use std::collections::TryReserveError;

use super::chunked::CHUNK;

/// The cell types a [`Cells`] holds: unsigned integers whose largest value marks an empty cell.
pub(crate) trait Cell:
    Copy + PartialEq + Into<u32> + Into<u64> + Into<i64> + 'static
{
    /// The empty cell.
    const NULL: Self;
    /// `x`, which fits.
    fn from_u32(x: u32) -> Self;
}

impl Cell for u8 {
    const NULL: u8 = u8::MAX;
    #[inline(always)]
    fn from_u32(x: u32) -> u8 {
        x as u8
    }
}

impl Cell for u16 {
    const NULL: u16 = u16::MAX;
    #[inline(always)]
    fn from_u32(x: u32) -> u16 {
        x as u16
    }
}

impl Cell for u32 {
    const NULL: u32 = u32::MAX;
    #[inline(always)]
    fn from_u32(x: u32) -> u32 {
        x
    }
}

/// Cells a query unpacks at a time: [`Cells::slice_at`]'s buffer.
pub(crate) const BLOCK: usize = 1024;

/// Cells unpacked by one call of a width's loop: 64 cells of `w` bits are `w` whole words.
const GROUP: usize = 64;

/// A dense chunk's stretches of at most this many cells are summed code by code ([`Packed::sum`]):
/// a user's few rows of a month, or a few months of the users' months, cost no unpacking.
const SHORT: usize = 64;

/// A sealed chunk of [`CHUNK`] cells: cell `i` is `base + code(i)`, or the largest value of the
/// cell type (an empty cell) when its code is `null`, with `code(i)` the `width` bits from bit
/// `i × width` of `words`.
#[derive(Clone, Debug)]
struct Packed {
    base: u32,
    /// The code of the largest value: one past the largest offset (no cell has it when the chunk
    /// has no such cell).
    null: u32,
    /// What a `null` code reads as, when not the largest value of the cell type: a chunk of a
    /// narrower type, widened (a text code of 255, once codes are 16 bits wide).
    null_value: Option<u32>,
    width: u8,
    /// The codes: of every cell, or with `sparse`, of the cells it marks, in order.
    words: Box<[u64]>,
    sparse: Option<Box<Sparse>>,
}

/// The cells of a chunk that are not its common cell (its smallest value, or an empty cell).
#[derive(Clone, Debug)]
struct Sparse {
    /// The code of every other cell.
    common: u32,
    /// A bit a cell: set for the cells whose code is packed.
    marks: Box<[u64]>,
    /// Per group of 64 cells, the marked cells before it.
    ranks: Box<[u16]>,
}

/// `n` zeros, or the error when the memory for them is not there.
fn zeroed<T: Copy + Default>(n: usize) -> Result<Box<[T]>, TryReserveError> {
    let mut v = Vec::new();
    v.try_reserve_exact(n)?;
    v.resize(n, T::default());
    Ok(v.into_boxed_slice())
}

/// Writes `code` as the `width`-bit code number `i` of `words`.
#[inline]
fn put(words: &mut [u64], i: usize, width: usize, code: u32) {
    let bit = i * width;
    let (k, s) = (bit / 64, bit % 64);
    words[k] |= u64::from(code) << s;
    if s + width > 64 {
        words[k + 1] |= u64::from(code) >> (64 - s);
    }
}

/// The `width`-bit code number `i` of `words` (`width` at most 32).
#[inline(always)]
fn take(words: &[u64], i: usize, width: usize) -> u32 {
    if width == 0 {
        return 0;
    }
    let bit = i * width;
    let (k, s) = (bit / 64, bit % 64);
    let mut x = words[k] >> s;
    if s + width > 64 {
        x |= words[k + 1] << (64 - s);
    }
    (x & ((1u64 << width) - 1)) as u32
}

impl Packed {
    /// The chunk `cells` (of [`CHUNK`] cells), packed; or the error when the memory for it is
    /// not there.
    fn pack<T: Cell>(cells: &[T]) -> Result<Packed, TryReserveError> {
        debug_assert_eq!(cells.len(), CHUNK);
        let (mut lo, mut hi) = (u32::MAX, 0u32);
        let mut nulls = false;
        for &c in cells {
            let x: u32 = c.into();
            if c == T::NULL {
                nulls = true;
            } else {
                lo = lo.min(x);
                hi = hi.max(x);
            }
        }
        // Codes 0..=hi-lo for values, hi-lo+1 for an empty cell (0 when every cell is empty).
        let (base, null) = if lo > hi { (0, 0) } else { (lo, hi - lo + 1) };
        let largest = if nulls { null } else { null.saturating_sub(1) };
        let width = (32 - largest.leading_zeros()) as u8;
        let w = usize::from(width);
        let code = |c: T| {
            if c == T::NULL {
                null
            } else {
                Into::<u32>::into(c) - base
            }
        };
        // The common cell: the smallest value or the empty cell, whichever is more frequent.
        let (mut lows, mut empties) = (0usize, 0usize);
        for &c in cells {
            lows += usize::from(c != T::NULL && Into::<u32>::into(c) == lo);
            empties += usize::from(c == T::NULL);
        }
        let (common, marked) = if lows >= empties {
            (0, CHUNK - lows)
        } else {
            (null, CHUNK - empties)
        };
        // Marks and ranks take a bit and a quarter a cell, plus a word of slack.
        let dense = CHUNK * w;
        let sparse = CHUNK + CHUNK / 4 + marked * w + 64;
        let mut packed = Packed {
            base,
            null,
            null_value: None,
            width,
            words: Box::new([]),
            sparse: None,
        };
        if w == 0 {
            return Ok(packed);
        }
        if sparse >= dense {
            let mut words = zeroed(CHUNK / 64 * w)?;
            for (i, &c) in cells.iter().enumerate() {
                put(&mut words, i, w, code(c));
            }
            packed.words = words;
            return Ok(packed);
        }
        let mut words = zeroed((marked * w).div_ceil(64) + 1)?;
        let mut marks = zeroed(CHUNK / 64)?;
        let mut ranks = zeroed(CHUNK / 64)?;
        let mut k = 0;
        for (g, group) in cells.chunks_exact(64).enumerate() {
            ranks[g] = k as u16;
            for (i, &c) in group.iter().enumerate() {
                let code = code(c);
                if code != common {
                    marks[g] |= 1 << i;
                    put(&mut words, k, w, code);
                    k += 1;
                }
            }
        }
        packed.words = words;
        packed.sparse = Some(Box::new(Sparse {
            common,
            marks,
            ranks,
        }));
        Ok(packed)
    }

    /// What a `null` code reads as in cells of type `T`.
    #[inline(always)]
    fn null_cell<T: Cell>(&self) -> T {
        self.null_value.map_or(T::NULL, T::from_u32)
    }

    /// The same chunk in cells of type `U`, whose cell `x` is `f(x)` (which keeps every value
    /// but perhaps the largest).
    fn widened<T: Cell, U: Cell>(mut self, f: impl Fn(T) -> U) -> Packed {
        let n: U = f(self.null_cell::<T>());
        self.null_value = (n != U::NULL).then(|| n.into());
        self
    }

    #[inline]
    fn get<T: Cell>(&self, i: usize) -> T {
        let w = usize::from(self.width);
        let code = match &self.sparse {
            None => take(&self.words, i, w),
            Some(sp) => {
                let (g, b) = (i / 64, i % 64);
                let m = sp.marks[g];
                if m >> b & 1 == 0 {
                    sp.common
                } else {
                    let before = (m & ((1u64 << b) - 1)).count_ones() as usize;
                    take(&self.words, usize::from(sp.ranks[g]) + before, w)
                }
            }
        };
        self.cell(code)
    }

    /// The sum and the count of the non-empty cells `i..j` of a chunk that is sparse or of one
    /// value (`width` 0), or of a short stretch (at most [`SHORT`] cells) of another: its marked
    /// cells' codes alone are read, the others counted as its common cell; a short stretch's
    /// codes are read one by one. `None` for a longer stretch of a dense chunk, which is faster
    /// unpacked a group at a time.
    #[inline]
    fn sum(&self, i: usize, j: usize) -> Option<(u64, u64)> {
        let Some(sp) = &self.sparse else {
            if self.width == 0 {
                return Some(self.cells(0, (j - i) as u64));
            }
            if j - i > SHORT {
                return None;
            }
            let w = usize::from(self.width);
            let (mut sum, mut n) = (0u64, 0u64);
            for k in i..j {
                if let Some(v) = self.value(take(&self.words, k, w)) {
                    sum += v;
                    n += 1;
                }
            }
            return Some((sum, n));
        };
        let (sum, n, marked) = sum_marked(self, sp, i, j);
        let (common, times) = self.cells(sp.common, (j - i) as u64 - marked);
        Some((sum + common, n + times))
    }

    /// What code `code` reads as, as a number; `None` for an empty cell.
    #[inline(always)]
    fn value(&self, code: u32) -> Option<u64> {
        if code == self.null {
            self.null_value.map(u64::from)
        } else {
            Some(u64::from(self.base) + u64::from(code))
        }
    }

    /// The sum and the count of the non-empty ones of `times` cells of code `code`.
    #[inline(always)]
    fn cells(&self, code: u32, times: u64) -> (u64, u64) {
        self.value(code).map_or((0, 0), |v| (v * times, times))
    }

    #[inline(always)]
    fn cell<T: Cell>(&self, code: u32) -> T {
        if code == self.null {
            self.null_cell()
        } else {
            T::from_u32(self.base + code)
        }
    }

    /// Unpacks the cells of the groups `groups` (of [`GROUP`] cells) into `out`.
    fn unpack<T: Cell>(&self, groups: std::ops::Range<usize>, out: &mut [T]) {
        macro_rules! widths {
            ($($w:literal)*) => {
                match self.width {
                    $($w => unpack_groups::<$w, T>(self, groups, out),)*
                    _ => unreachable!("a code is at most 32 bits"),
                }
            };
        }
        widths!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30
            31 32);
    }

    fn heap_bytes(&self) -> usize {
        self.words.len() * 8
            + self.sparse.as_ref().map_or(0, |sp| {
                std::mem::size_of::<Sparse>() + sp.marks.len() * 8 + sp.ranks.len() * 2
            })
    }
}

/// [`Packed::unpack`] for codes of `W` bits: each group of 64 cells is `W` whole words, unpacked
/// with shifts the compiler knows.
#[inline(never)]
fn unpack_groups<const W: usize, T: Cell>(
    p: &Packed,
    groups: std::ops::Range<usize>,
    out: &mut [T],
) {
    let (base, null, null_cell) = (p.base, p.null, p.null_cell::<T>());
    let cell = |code: u32| {
        if code == null {
            null_cell
        } else {
            T::from_u32(base.wrapping_add(code))
        }
    };
    if let Some(sp) = &p.sparse {
        // The common cell everywhere, then the marked cells' codes in order.
        let common = cell(sp.common);
        for (g, out) in groups.zip(out.chunks_exact_mut(GROUP)) {
            out.fill(common);
            let (mut m, mut k) = (sp.marks[g], usize::from(sp.ranks[g]));
            while m != 0 {
                let i = m.trailing_zeros() as usize;
                out[i] = cell(take(&p.words, k, W));
                k += 1;
                m &= m - 1;
            }
        }
        return;
    }
    for (g, out) in groups.zip(out.chunks_exact_mut(GROUP)) {
        if W == 0 {
            out.fill(cell(0));
            continue;
        }
        let words = &p.words[g * W..(g + 1) * W];
        for (i, o) in out.iter_mut().enumerate() {
            *o = cell(take(words, i, W));
        }
    }
}

/// [`Packed::sum`]'s marked cells of `i..j`: their sum and count as numbers (empty cells left
/// out), and how many are marked.
#[inline]
fn sum_marked(p: &Packed, sp: &Sparse, i: usize, j: usize) -> (u64, u64, u64) {
    let w = usize::from(p.width);
    let below = |b: usize| if b == 64 { u64::MAX } else { (1u64 << b) - 1 };
    let (mut sum, mut n, mut marked) = (0u64, 0u64, 0u64);
    for g in i / 64..j.div_ceil(64) {
        let (lo, hi) = (i.saturating_sub(g * 64), (j - g * 64).min(64));
        let m = sp.marks[g];
        let mut chosen = m & below(hi) & !below(lo);
        // The marked cells from `lo` on are the next codes in order.
        let mut k = usize::from(sp.ranks[g]) + (m & below(lo)).count_ones() as usize;
        marked += u64::from(chosen.count_ones());
        while chosen != 0 {
            if let Some(v) = p.value(take(&p.words, k, w)) {
                sum += v;
                n += 1;
            }
            k += 1;
            chosen &= chosen - 1;
        }
    }
    (sum, n, marked)
}

/// A column of unsigned cells: sealed chunks of [`CHUNK`] packed cells, then the cells still
/// being written (fewer than [`CHUNK`]), plain.
#[derive(Clone, Debug)]
pub(crate) struct Cells<T> {
    sealed: Vec<Packed>,
    tail: Vec<T>,
}

impl<T: Cell> Default for Cells<T> {
    fn default() -> Cells<T> {
        Cells::new()
    }
}

impl<T: Cell> Cells<T> {
    pub(crate) fn new() -> Cells<T> {
        Cells {
            sealed: Vec::new(),
            tail: Vec::new(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.sealed.len() * CHUNK + self.tail.len()
    }

    #[inline]
    pub(crate) fn get(&self, row: usize) -> T {
        match self.sealed.get(row / CHUNK) {
            Some(p) => p.get(row % CHUNK),
            None => self.tail[row - self.sealed.len() * CHUNK],
        }
    }

    /// Seals the plain chunk when it is full.
    #[inline]
    fn seal_if_full(&mut self) {
        if self.tail.len() == CHUNK {
            self.seal();
        }
    }

    #[cold]
    #[inline(never)]
    fn seal(&mut self) {
        if self.try_seal().is_err() {
            // As any allocation that fails while reading (a few kilobytes).
            std::alloc::handle_alloc_error(std::alloc::Layout::new::<[u64; CHUNK / 64]>());
        }
    }

    /// Seals the full plain chunk, or fails without changing anything when the memory for its
    /// packed cells is not there.
    fn try_seal(&mut self) -> Result<(), TryReserveError> {
        let packed = Packed::pack(&self.tail)?;
        self.sealed.try_reserve(1)?;
        self.sealed.push(packed);
        self.tail.clear();
        Ok(())
    }

    #[inline]
    pub(crate) fn push(&mut self, x: T) {
        if self.tail.len() == self.tail.capacity() {
            self.make_room();
        }
        self.tail.push(x);
        self.seal_if_full();
    }

    /// Room for one more plain cell: the plain chunk doubles up to [`CHUNK`] cells, so that a
    /// small column stays small.
    #[cold]
    #[inline(never)]
    fn make_room(&mut self) {
        let c = self.tail.capacity();
        self.tail.reserve_exact(c.max(64).min(CHUNK - c));
    }

    /// Appends the cells of `xs`.
    pub(crate) fn extend_from_slice(&mut self, mut xs: &[T]) {
        while !xs.is_empty() {
            let n = xs.len().min(CHUNK - self.tail.len());
            if self.tail.capacity() < self.tail.len() + n {
                self.tail
                    .reserve_exact(n.max(self.tail.capacity().min(CHUNK - self.tail.len())));
            }
            self.tail.extend_from_slice(&xs[..n]);
            self.seal_if_full();
            xs = &xs[n..];
        }
    }

    /// The cells in order, unpacked a block at a time.
    pub(crate) fn iter(&self) -> impl Iterator<Item = T> + '_ {
        let mut buf = [T::NULL; BLOCK];
        let (mut row, mut at, mut n) = (0, 0, 0);
        std::iter::from_fn(move || {
            if at == n {
                if row == self.len() {
                    return None;
                }
                let cells = self.load(row, self.len(), &mut buf);
                (at, n) = (cells.start, cells.end);
                row += n - at;
            }
            at += 1;
            Some(buf[at - 1])
        })
    }

    /// The cells from row `start` on, at most to `end` (`start < end`): a slice of the plain
    /// cells, or of sealed cells unpacked into `buf`; never past a sealed chunk's end.
    #[inline]
    pub(crate) fn slice_at<'a>(
        &'a self,
        start: usize,
        end: usize,
        buf: &'a mut [T; BLOCK],
    ) -> &'a [T] {
        let from = self.sealed.len() * CHUNK;
        if start >= from {
            return &self.tail[start - from..end - from];
        }
        let cells = self.load(start, end, buf);
        &buf[cells]
    }

    /// Puts cells from row `start` on, at most to `end` (`start < end`), into `buf`, and says
    /// where they are: sealed ones unpacked a group at a time, plain ones copied.
    #[inline]
    fn load(&self, start: usize, end: usize, buf: &mut [T; BLOCK]) -> std::ops::Range<usize> {
        let k = start / CHUNK;
        let Some(p) = self.sealed.get(k) else {
            let from = start - self.sealed.len() * CHUNK;
            let n = (end - start).min(BLOCK);
            buf[..n].copy_from_slice(&self.tail[from..from + n]);
            return 0..n;
        };
        let (i, j) = (start % CHUNK, (end - k * CHUNK).min(CHUNK));
        let first = i / GROUP;
        let last = (first + BLOCK / GROUP).min(j.div_ceil(GROUP));
        let n = (last - first) * GROUP;
        p.unpack(first..last, &mut buf[..n]);
        let from = i - first * GROUP;
        from..n.min(end - k * CHUNK - first * GROUP)
    }

    /// Calls `f(row, cells)` for the cells of the rows `start..end`, slice by slice.
    #[inline]
    pub(crate) fn for_slices(&self, start: usize, end: usize, mut f: impl FnMut(usize, &[T])) {
        let mut buf = [T::NULL; BLOCK];
        let mut row = start;
        while row < end {
            let s = self.slice_at(row, end, &mut buf);
            f(row, s);
            row += s.len();
        }
    }

    /// The sum and the count of the non-empty cells of the rows `start..end` that are in sparse
    /// chunks or chunks of one value, read from their marked cells alone; every other stretch of
    /// cells goes to `dense`, unpacked, slice by slice (as [`Cells::for_slices`] gives them), for
    /// the caller to add up.
    #[inline]
    pub(crate) fn sum_sparse(
        &self,
        start: usize,
        end: usize,
        mut dense: impl FnMut(&[T]),
    ) -> (u64, u64) {
        // Filled only for a stretch that needs it: a short run does not pay for 1 024 cells.
        let mut buf = None;
        let (mut sum, mut n) = (0u64, 0u64);
        let mut row = start;
        while row < end {
            let k = row / CHUNK;
            let stop = end.min((k + 1) * CHUNK);
            if let Some((s, c)) = self
                .sealed
                .get(k)
                .and_then(|p| p.sum(row - k * CHUNK, stop - k * CHUNK))
            {
                sum += s;
                n += c;
                row = stop;
                continue;
            }
            let s = self.slice_at(row, end, buf.get_or_insert([T::NULL; BLOCK]));
            dense(s);
            row += s.len();
        }
        (sum, n)
    }

    /// The same cells in a wider type, each turned by `f`, which keeps every value but perhaps
    /// the largest (an empty number stays empty; a text code of 255 stays 255). Sealed chunks
    /// hold values, not widths: they stay as they are.
    pub(crate) fn into_map<U: Cell>(self, f: impl Fn(T) -> U) -> Cells<U> {
        Cells {
            sealed: self.sealed.into_iter().map(|p| p.widened(&f)).collect(),
            tail: self.tail.into_iter().map(f).collect(),
        }
    }

    /// Makes room for `more` cells after the last (the list of sealed chunks, and the plain
    /// chunk up to its full size), or fails without allocating when the memory is not there.
    pub(crate) fn try_grow(&mut self, more: usize) -> Result<(), TryReserveError> {
        let target = self.len().saturating_add(more);
        let chunks = target / CHUNK;
        self.sealed
            .try_reserve(chunks.saturating_sub(self.sealed.len()))?;
        let plain = if chunks > self.sealed.len() {
            CHUNK
        } else {
            target - self.sealed.len() * CHUNK
        };
        if self.tail.capacity() < plain {
            self.tail.try_reserve_exact(plain - self.tail.len())?;
        }
        Ok(())
    }

    /// Cells there is room for without growing the list of sealed chunks or the plain chunk.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.sealed.capacity() * CHUNK + self.tail.capacity()
    }

    /// Bytes reserved: the sealed chunks, the plain cells' room and the list of chunks.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.sealed.iter().map(Packed::heap_bytes).sum::<usize>()
            + self.sealed.capacity() * std::mem::size_of::<Packed>()
            + self.tail.capacity() * std::mem::size_of::<T>()
    }

    /// Bytes the cells stored take, the plain ones counted at the sealed ones' rate (they are
    /// packed when their chunk fills): what reading projects the whole column from.
    pub(crate) fn used_bytes(&self) -> usize {
        let sealed = self
            .sealed
            .iter()
            .map(|p| p.heap_bytes() + std::mem::size_of::<Packed>())
            .sum::<usize>();
        let plain = match self.sealed.len() {
            0 => self.tail.len() * std::mem::size_of::<T>(),
            n => (sealed as u64 * self.tail.len() as u64 / (n * CHUNK) as u64) as usize,
        };
        sealed + plain
    }

    /// Gives back the room reserved past the last cell.
    pub(crate) fn shrink_to_fit(&mut self) {
        self.sealed.shrink_to_fit();
        self.tail.shrink_to_fit();
    }

    /// The items of `items`, or the error when the memory for them is not there.
    pub(crate) fn try_from_iter(
        items: impl ExactSizeIterator<Item = T>,
    ) -> Result<Cells<T>, TryReserveError> {
        // The plain chunk is reserved whole, so that only sealing allocates, fallibly.
        let mut c = Cells::new();
        c.try_grow(items.len())?;
        for x in items {
            c.tail.push(x);
            if c.tail.len() == CHUNK {
                c.try_seal()?;
            }
        }
        Ok(c)
    }

    /// The sealed chunks by the bits a cell takes (", chunks by bits: 0×3 2×40"), or nothing.
    pub(crate) fn packing(&self) -> String {
        let by_bits: String = self
            .widths()
            .iter()
            .enumerate()
            .filter(|&(_, &n)| n > 0)
            .map(|(bits, n)| format!(" {bits}×{n}"))
            .collect();
        let sparse = self.sealed.iter().filter(|p| p.sparse.is_some()).count();
        match (by_bits.is_empty(), sparse) {
            (true, _) => by_bits,
            (false, 0) => format!(", chunks by bits:{by_bits}"),
            (false, n) => format!(", chunks by bits:{by_bits} ({n} with the common cell marked)"),
        }
    }

    /// How many sealed chunks have each width (index: bits a cell), for the measurements.
    pub(crate) fn widths(&self) -> [usize; 33] {
        let mut n = [0; 33];
        for p in &self.sealed {
            n[usize::from(p.width)] += 1;
        }
        n
    }
}

impl<T: Cell> FromIterator<T> for Cells<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Cells<T> {
        let mut c = Cells::new();
        for x in iter {
            c.push(x);
        }
        c
    }
}

// proptest does not build for wasm32, where `cargo clippy --all-targets` also looks.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Every cell read back, one at a time and a slice at a time from `start` to `end`.
    fn reads_back<T: Cell + std::fmt::Debug>(c: &Cells<T>, cells: &[T], start: usize, end: usize) {
        assert_eq!(c.len(), cells.len());
        for (row, &x) in cells.iter().enumerate() {
            assert_eq!(c.get(row), x, "row {row}");
        }
        let mut got = Vec::new();
        c.for_slices(start, end, |row, s| {
            assert_eq!(row, start + got.len());
            assert!(!s.is_empty() && s.len() <= CHUNK);
            got.extend_from_slice(s);
        });
        assert_eq!(got, &cells[start..end], "rows {start}..{end}");
        // Summed: the sparse chunks from their marked cells, the rest from the slices given.
        reads_back_sums(c, cells, start, end);
        // Short stretches too (a dense chunk's are summed code by code), across group ends.
        for at in [start, start + 61, (start + end) / 2, end.saturating_sub(70)] {
            for len in [1, 3, SHORT, SHORT + 1] {
                let (i, j) = (at.min(end), (at + len).min(end));
                if i < j {
                    reads_back_sums(c, cells, i, j);
                }
            }
        }
    }

    /// The sums of `start..end`, as [`Cells::sum_sparse`] gives them, are those of the cells.
    fn reads_back_sums<T: Cell + std::fmt::Debug>(
        c: &Cells<T>,
        cells: &[T],
        start: usize,
        end: usize,
    ) {
        let (mut dense_sum, mut dense_n) = (0u64, 0u64);
        let (sum, n) = c.sum_sparse(start, end, |s| {
            for &x in s.iter().filter(|&&x| x != T::NULL) {
                dense_sum += Into::<u64>::into(x);
                dense_n += 1;
            }
        });
        let kept = cells[start..end].iter().filter(|&&x| x != T::NULL);
        let expected = (
            kept.clone().map(|&x| Into::<u64>::into(x)).sum(),
            kept.count() as u64,
        );
        assert_eq!(
            (sum + dense_sum, n + dense_n),
            expected,
            "sums of rows {start}..{end}"
        );
    }

    /// A chunk whose cells are `base` and `base + span` and values between, with an empty cell
    /// every ninth row when `nulls`.
    fn chunk(base: u32, span: u32, nulls: bool) -> Vec<u32> {
        (0..CHUNK as u64)
            .map(|i| match i {
                _ if nulls && i % 9 == 4 => u32::MAX,
                5 => base,
                6 => base + span,
                _ => base + (i * 2_654_435_761 % (u64::from(span) + 1)) as u32,
            })
            .collect()
    }

    #[test]
    fn a_chunk_takes_the_bits_of_its_range_and_of_its_empty_cells() {
        for w in 0..=32u32 {
            // Offsets 0..2^w - 1 need `w` bits; an empty cell's code, one more, needs w + 1
            // (at most 32: values stop below `u32::MAX`).
            let span = if w == 0 {
                0
            } else {
                ((1u64 << w) - 1).min(u64::from(u32::MAX) - 1) as u32
            };
            let base = 7u32.min(u32::MAX - 1 - span);
            for nulls in [false, true] {
                let cells = chunk(base, span, nulls);
                let c: Cells<u32> = cells.iter().copied().collect();
                let bits = (w + u32::from(nulls)).min(32) as usize;
                assert_eq!(
                    c.widths()[bits],
                    1,
                    "w {w}, nulls {nulls}: {:?}",
                    c.widths()
                );
                assert!(c.used_bytes() <= CHUNK * bits / 8 + 64);
                reads_back(&c, &cells, 0, CHUNK);
                reads_back(&c, &cells, 63, CHUNK - 1);
            }
        }
        // Only empty cells: no bits at all.
        let c: Cells<u8> = std::iter::repeat_n(u8::MAX, CHUNK + 3).collect();
        assert_eq!(c.widths()[0], 1);
        assert!(c.iter().all(|x| x == u8::MAX));
    }

    #[test]
    fn a_chunk_of_mostly_one_cell_packs_only_the_others() {
        // Zeros but every 20th cell (a count up to 199), then empty but every 20th cell.
        let mostly = |common: u16| -> Vec<u16> {
            (0..CHUNK)
                .map(|i| match i % 20 {
                    3 => (i % 199) as u16 + 1,
                    _ => common,
                })
                .collect()
        };
        for common in [0, u16::MAX] {
            let cells = mostly(common);
            let c: Cells<u16> = cells.iter().copied().collect();
            // 8 bits a cell densely; a bit and a quarter, and 8 bits for 1 cell in 20, marked.
            assert!(
                c.packing().contains("1 with the common cell marked"),
                "{}",
                c.packing()
            );
            assert!(c.used_bytes() < CHUNK * 17 / 80 + 200, "{}", c.used_bytes());
            reads_back(&c, &cells, 0, CHUNK);
            reads_back(&c, &cells, 70, 200);
        }
    }

    #[test]
    fn widening_keeps_the_sealed_chunks_and_their_empty_cells() {
        let mut cells: Vec<u8> = (0..CHUNK + 10).map(|i| [0, 3, u8::MAX][i % 3]).collect();
        let c: Cells<u8> = cells.iter().copied().collect();
        let wide = c.into_map(|x| if x == u8::MAX { u16::MAX } else { u16::from(x) });
        let expected: Vec<u16> = cells
            .drain(..)
            .map(|x| if x == u8::MAX { u16::MAX } else { u16::from(x) })
            .collect();
        reads_back(&wide, &expected, 1, expected.len());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Random columns of random ranges (a chunk's range from 0 to 32 bits, often a single
        /// value, with empty cells or without), pushed one by one or in slices, read back whole
        /// and from any row to any row.
        #[test]
        fn packed_cells_read_back(
            parts in prop::collection::vec(
                (0u32..=32, any::<u32>(), 0u32..8, 0u32..8, 1usize..2 * CHUNK),
                1..4,
            ),
            pieces in prop::collection::vec(1usize..5000, 1..8),
            cut in (0.0f64..1.0, 0.0f64..1.0),
        ) {
            let mut cells: Vec<u32> = Vec::new();
            for (bits, seed, nulls, lows, n) in parts {
                let span = if bits == 0 { 0 } else { (u64::MAX >> (64 - bits)).min(u64::from(u32::MAX - 1)) };
                let base = u64::from(seed) % (u64::from(u32::MAX) - span);
                let mut x = u64::from(seed) | 1;
                cells.extend((0..n).map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    // Out of 8 cells, `nulls` empty, then `lows` at the base.
                    if x % 8 < u64::from(nulls) {
                        u32::MAX
                    } else if x % 8 < u64::from(nulls + lows) {
                        base as u32
                    } else {
                        (base + (x >> 8) % (span + 1)) as u32
                    }
                }));
            }
            let mut c = Cells::new();
            let mut rest = cells.as_slice();
            for &p in pieces.iter().cycle() {
                if rest.is_empty() {
                    break;
                }
                let (a, b) = rest.split_at(p.min(rest.len()));
                if p % 2 == 0 {
                    c.extend_from_slice(a);
                } else {
                    a.iter().for_each(|&x| c.push(x));
                }
                rest = b;
            }
            let n = cells.len();
            let (mut start, mut end) = ((cut.0 * n as f64) as usize, (cut.1 * n as f64) as usize);
            if start > end {
                std::mem::swap(&mut start, &mut end);
            }
            reads_back(&c, &cells, start, end.max(start + 1).min(n));
            prop_assert!(c.iter().eq(cells.iter().copied()));
        }
    }
}
