//! Dictionary-encoded text: each distinct value stored once, rows hold codes in the narrowest
//! width that holds them; recent cells are matched on their bytes before the dictionary is asked.

use std::collections::TryReserveError;
use std::sync::Arc;

use super::hash::{same_bytes, FxHashMap};
use super::kernels::{Layout, NO_GROUP};
use super::packed::{Cell, Cells};
use crate::verbatim::Verbatim;

/// Unsigned codes in the narrowest width that holds the largest one, packed a chunk at a time
/// as they fill (codes of rows in order of their users, a user ID's or an e-mail's, take a byte
/// or less from a base per chunk, whatever the dictionary's size; a client's a few bits); or,
/// once the input ended, a column's codes shared with the columns that follow it, or a column
/// that holds one value per user, as its code for each user.
#[derive(Clone, Debug)]
pub(crate) enum Codes {
    U8(Cells<u8>),
    U16(Cells<u16>),
    U32(Cells<u32>),
    /// The identity column's codes, which [`Codes::PerUser`] columns read too.
    Shared(Arc<Codes>),
    /// A column with one value per user (an e-mail, a username): the code of each user (by the
    /// identity column's code, `users`), so that the column keeps no code per row.
    PerUser {
        users: Arc<Codes>,
        map: Vec<u32>,
    },
}

impl Codes {
    fn new() -> Codes {
        Codes::U8(Cells::new())
    }

    fn push(&mut self, code: u32) {
        self.own();
        loop {
            match self {
                Codes::U8(v) if code <= u32::from(u8::MAX) => return v.push(code as u8),
                Codes::U16(v) if code <= u32::from(u16::MAX) => return v.push(code as u16),
                Codes::U32(v) => return v.push(code),
                _ => self.widen(),
            }
        }
    }

    /// Appends codes, the largest of which is `max`: one decision on the width for them all.
    fn extend(&mut self, codes: &[u32], max: u32) {
        if codes.is_empty() {
            return;
        }
        self.own();
        loop {
            match self {
                Codes::U8(v) if max <= u32::from(u8::MAX) => {
                    return codes.iter().for_each(|&c| v.push(c as u8))
                }
                Codes::U16(v) if max <= u32::from(u16::MAX) => {
                    return codes.iter().for_each(|&c| v.push(c as u16))
                }
                Codes::U32(v) => return v.extend_from_slice(codes),
                _ => self.widen(),
            }
        }
    }

    /// Moves to the next wider codes, a chunk at a time.
    #[cold]
    fn widen(&mut self) {
        *self = match std::mem::replace(self, Codes::new()) {
            Codes::U8(v) => Codes::U16(v.into_map(u16::from)),
            Codes::U16(v) => Codes::U32(v.into_map(u32::from)),
            other => other,
        };
    }

    /// Codes of its own, to append to (a shared or per-user column written to again).
    fn own(&mut self) {
        if matches!(self, Codes::Shared(_) | Codes::PerUser { .. }) {
            let mut own = Codes::new();
            self.for_each(|_, code| own.push(code));
            *self = own;
        }
    }

    #[inline]
    pub(crate) fn get(&self, row: usize) -> u32 {
        match self {
            Codes::U8(v) => u32::from(v.get(row)),
            Codes::U16(v) => u32::from(v.get(row)),
            Codes::U32(v) => v.get(row),
            Codes::Shared(codes) => codes.get(row),
            Codes::PerUser { users, map } => map[users.get(row) as usize],
        }
    }

    /// The codes in order, the packed ones unpacked a block at a time (for a pass over every
    /// row that reads other columns too; [`Codes::for_each`] when this column is the only one).
    pub(crate) fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        // The codes stored per row: this column's own, or the identity column's (shared, or
        // looked up per user).
        let (rows, map) = match self {
            Codes::Shared(codes) => (&**codes, None),
            Codes::PerUser { users, map } => (&**users, Some(map)),
            own => (own, None),
        };
        let each = match rows {
            Codes::U8(v) => Each::U8(v.iter()),
            Codes::U16(v) => Each::U16(v.iter()),
            Codes::U32(v) => Each::U32(v.iter()),
            codes => Each::Other((0..codes.len()).map(|row| codes.get(row))),
        };
        each.map(move |code| map.map_or(code, |map| map[code as usize]))
    }

    /// Rows.
    fn len(&self) -> usize {
        match self {
            Codes::U8(v) => v.len(),
            Codes::U16(v) => v.len(),
            Codes::U32(v) => v.len(),
            Codes::Shared(codes) => codes.len(),
            Codes::PerUser { users, .. } => users.len(),
        }
    }

    /// Calls `f(row, code)` for every row.
    #[inline]
    pub(crate) fn for_each(&self, mut f: impl FnMut(usize, u32)) {
        match self {
            Codes::Shared(codes) => codes.each(|c| c, &mut f),
            Codes::PerUser { users, map } => users.each(|u| map[u as usize], &mut f),
            codes => codes.each(|c| c, &mut f),
        }
    }

    /// Calls `f(row, look(code))` for every row, one loop per width.
    #[inline]
    fn each(&self, look: impl Fn(u32) -> u32 + Copy, f: &mut impl FnMut(usize, u32)) {
        fn each<C: Cell>(
            codes: &Cells<C>,
            look: impl Fn(u32) -> u32,
            f: &mut impl FnMut(usize, u32),
        ) {
            codes.for_slices(0, codes.len(), |start, piece| {
                for (i, &c) in piece.iter().enumerate() {
                    f(start + i, look(c.into()));
                }
            });
        }
        match self {
            Codes::U8(v) => each(v, look, f),
            Codes::U16(v) => each(v, look, f),
            Codes::U32(v) => each(v, look, f),
            // (Shared codes are plain ones.)
            codes => (0..codes.len()).for_each(|row| f(row, look(codes.get(row)))),
        }
    }

    /// Calls `f(row, group, code)` for every laid-out row; one loop per width, so the code read
    /// is not a match per row.
    #[inline]
    pub(crate) fn for_each_in<F: FnMut(usize, usize, u64)>(&self, layout: Layout, f: &mut F) {
        match self {
            Codes::Shared(codes) => codes.each_in(layout, |c| c, f),
            Codes::PerUser { users, map } => users.each_in(layout, |u| map[u as usize], f),
            codes => codes.each_in(layout, |c| c, f),
        }
    }

    /// [`Codes::for_each_in`] with `look(code)` for each code.
    #[inline]
    fn each_in<F: FnMut(usize, usize, u64)>(
        &self,
        layout: Layout,
        look: impl Fn(u32) -> u32 + Copy,
        f: &mut F,
    ) {
        fn scan<C: Cell, F: FnMut(usize, usize, u64)>(
            codes: &Cells<C>,
            layout: Layout,
            look: impl Fn(u32) -> u32,
            f: &mut F,
        ) {
            let code = |c: C| u64::from(look(c.into()));
            match layout {
                Layout::Runs(runs) => {
                    for run in runs {
                        codes.for_slices(run.start, run.end, |start, piece| {
                            for (row, &c) in piece.iter().enumerate() {
                                f(start + row, run.group, code(c));
                            }
                        });
                    }
                }
                Layout::Ids(ids) => {
                    codes.for_slices(0, codes.len(), |start, piece| {
                        let ids = ids.get(start..).unwrap_or(&[]);
                        for (row, (&g, &c)) in ids.iter().zip(piece).enumerate() {
                            if g != NO_GROUP {
                                f(start + row, g as usize, code(c));
                            }
                        }
                    });
                }
            }
        }
        match self {
            Codes::U8(v) => scan(v, layout, look, f),
            Codes::U16(v) => scan(v, layout, look, f),
            Codes::U32(v) => scan(v, layout, look, f),
            // (Shared codes are plain ones.)
            codes => layout.for_each_row(|row, g| f(row, g, u64::from(look(codes.get(row))))),
        }
    }

    /// The width the codes are stored in, and their chunks' packing.
    pub(crate) fn storage(&self) -> String {
        match self {
            Codes::U8(v) => format!("u8{}", v.packing()),
            Codes::U16(v) => format!("u16{}", v.packing()),
            Codes::U32(v) => format!("u32{}", v.packing()),
            Codes::Shared(codes) => codes.storage(),
            Codes::PerUser { .. } => "one per user".into(),
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Codes::U8(v) => v.heap_bytes(),
            Codes::U16(v) => v.heap_bytes(),
            Codes::U32(v) => v.heap_bytes(),
            // Counted once, by the column that shares them.
            Codes::Shared(codes) => codes.heap_bytes(),
            Codes::PerUser { map, .. } => map.capacity() * 4,
        }
    }

    /// Makes room for `more` codes after the last, by the vector's usual growth, or fails
    /// without allocating when the memory is not there.
    fn try_grow(&mut self, more: usize) -> Result<(), TryReserveError> {
        match self {
            Codes::U8(v) => v.try_grow(more),
            Codes::U16(v) => v.try_grow(more),
            Codes::U32(v) => v.try_grow(more),
            Codes::Shared(_) | Codes::PerUser { .. } => Ok(()),
        }
    }

    /// Bytes the codes stored take (not the spare capacity).
    fn used_bytes(&self) -> usize {
        match self {
            Codes::U8(v) => v.used_bytes(),
            Codes::U16(v) => v.used_bytes(),
            Codes::U32(v) => v.used_bytes(),
            Codes::Shared(codes) => codes.used_bytes(),
            Codes::PerUser { map, .. } => map.len() * 4,
        }
    }

    fn shrink(&mut self) {
        match self {
            Codes::U8(v) => v.shrink_to_fit(),
            Codes::U16(v) => v.shrink_to_fit(),
            Codes::U32(v) => v.shrink_to_fit(),
            Codes::Shared(_) | Codes::PerUser { .. } => {}
        }
    }
}

/// Dictionary-encoded text: each distinct value stored once, rows hold codes.
#[derive(Clone, Debug)]
pub(crate) struct TextColumn {
    pub(crate) values: Vec<String>,
    index: FxHashMap<String, u32>,
    pub(crate) codes: Codes,
    /// Recent cells' raw bytes and codes, direct-mapped by a hash of their first and last bytes
    /// (a code of `u32::MAX`: empty), and the slot of the previous cell. Exports are sorted by
    /// user, so the same value often repeats on consecutive rows; and the columns whose value
    /// changes on most rows (client, language) have few values, which stay here: either way the
    /// cell is matched on its bytes, with no UTF-8 check, trimming or dictionary lookup, which
    /// only a value not seen recently pays.
    recent: Vec<(Vec<u8>, u32)>,
    last: usize,
    /// [`TextColumn::push_cells`]'s codes, before they are appended (reused).
    block_codes: Vec<u32>,
    /// Bytes the dictionary takes (its values and their index entries), kept as it grows.
    dictionary_bytes: usize,
}

/// Bytes a dictionary entry takes besides its text (kept twice: the value and its index key):
/// two `String`s and a hash slot with its code.
const DICTIONARY_ENTRY: usize = 64;

/// Slots of [`TextColumn`]'s recent cells.
const RECENT: usize = 64;

/// The slot of a cell among the recent ones.
#[inline(always)]
fn recent_slot(raw: &[u8]) -> usize {
    let word = |b: &[u8]| {
        let mut w = [0u8; 8];
        w[..b.len()].copy_from_slice(b);
        u64::from_le_bytes(w)
    };
    let n = raw.len();
    let key = if n >= 8 {
        word(&raw[..8]) ^ word(&raw[n - 8..]).rotate_left(29)
    } else {
        word(raw)
    } ^ n as u64;
    (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58) as usize % RECENT
}

impl TextColumn {
    pub(crate) fn new() -> TextColumn {
        TextColumn {
            values: Vec::new(),
            index: FxHashMap::default(),
            codes: Codes::new(),
            recent: vec![(Vec::new(), u32::MAX); RECENT],
            last: 0,
            block_codes: Vec::new(),
            dictionary_bytes: 0,
        }
    }

    #[inline]
    pub(crate) fn push(&mut self, raw: &[u8]) {
        let code = self.code(raw);
        self.codes.push(code);
    }

    /// Appends the cells `cell(r)` for `r` in `0..n`, noting each in `verbatim` (`row0 + r` is its
    /// row); the codes are appended together.
    #[inline]
    pub(crate) fn push_cells<'a>(
        &mut self,
        verbatim: &mut Verbatim,
        row0: usize,
        n: usize,
        cell: impl Fn(usize) -> &'a [u8],
    ) {
        let mut codes = std::mem::take(&mut self.block_codes);
        codes.clear();
        let mut max = 0;
        for r in 0..n {
            let raw = cell(r);
            let code = self.code(raw);
            max = max.max(code);
            codes.push(code);
            verbatim.note_text(row0 + r, raw);
        }
        self.codes.extend(&codes, max);
        self.block_codes = codes;
    }

    /// The code of a cell: from the recent cells when it is among them.
    #[inline(always)]
    fn code(&mut self, raw: &[u8]) -> u32 {
        let (bytes, code) = &self.recent[self.last];
        if *code != u32::MAX && same_bytes(bytes, raw) {
            return *code;
        }
        let slot = recent_slot(raw);
        let (bytes, code) = &self.recent[slot];
        if *code != u32::MAX && same_bytes(bytes, raw) {
            self.last = slot;
            return *code;
        }
        self.code_new(raw, slot)
    }

    /// A cell not among the recent ones: looked up in (or added to) the dictionary by its text.
    #[inline(never)]
    fn code_new(&mut self, raw: &[u8], slot: usize) -> u32 {
        // `from_utf8` is the fast check; only invalid input pays for the lossy decoding.
        let text = match std::str::from_utf8(raw) {
            Ok(s) => std::borrow::Cow::Borrowed(s),
            Err(_) => String::from_utf8_lossy(raw),
        };
        let text = text.trim();
        let code = match self.index.get(text) {
            Some(&code) => code,
            None => {
                let code = self.values.len() as u32;
                self.values.push(text.to_string());
                self.index.insert(text.to_string(), code);
                self.dictionary_bytes += DICTIONARY_ENTRY + 2 * text.len();
                code
            }
        };
        let (bytes, last) = &mut self.recent[slot];
        bytes.clear();
        bytes.extend_from_slice(raw);
        *last = code;
        self.last = slot;
        code
    }

    pub(crate) fn value(&self, row: usize) -> &str {
        &self.values[self.codes.get(row) as usize]
    }

    /// Per value (by code): the first row that holds it (`u32::MAX` for none).
    pub(crate) fn first_rows(&self) -> Vec<u32> {
        let mut first = vec![u32::MAX; self.values.len()];
        self.codes.for_each(|row, code| {
            let slot = &mut first[code as usize];
            if *slot == u32::MAX {
                *slot = row as u32;
            }
        });
        first
    }

    /// Makes room for `more` rows after the last, or fails without allocating.
    pub(crate) fn try_grow(&mut self, more: usize) -> Result<(), TryReserveError> {
        self.codes.try_grow(more)
    }

    /// Bytes the codes stored and the dictionary take (not the spare capacity).
    pub(crate) fn used_bytes(&self) -> usize {
        self.codes.used_bytes() + self.dictionary_bytes
    }

    /// Ends the input: the codes give back their spare capacity, and the index from value to
    /// code goes (queries read codes and values only).
    pub(crate) fn finish(&mut self) {
        self.codes.shrink();
        // The recent cells' bytes go; the empty slots stay, so that the column stays usable.
        self.recent.fill((Vec::new(), u32::MAX));
        self.last = 0;
        self.block_codes = Vec::new();
        self.index = FxHashMap::default();
        self.values.shrink_to_fit();
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.codes.heap_bytes()
            + self
                .values
                .iter()
                .map(|v| 2 * v.capacity() + 40)
                .sum::<usize>()
    }
}

/// [`Codes::iter`]'s iterator: one per storage, chosen once, not per row.
enum Each<A, B, C, D> {
    U8(A),
    U16(B),
    U32(C),
    Other(D),
}

impl<A, B, C, D> Iterator for Each<A, B, C, D>
where
    A: Iterator<Item = u8>,
    B: Iterator<Item = u16>,
    C: Iterator<Item = u32>,
    D: Iterator<Item = u32>,
{
    type Item = u32;

    #[inline]
    fn next(&mut self) -> Option<u32> {
        match self {
            Each::U8(a) => a.next().map(u32::from),
            Each::U16(b) => b.next().map(u32::from),
            Each::U32(c) => c.next(),
            Each::Other(d) => d.next(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_of_rows_in_order_take_a_byte_from_a_base_per_chunk() {
        use crate::column::chunked::CHUNK;
        use crate::column::Run;
        let rows = 3 * CHUNK + 100;
        let value = |row: usize| format!("user{}", row / 100);
        let mut t = TextColumn::new();
        for row in 0..rows {
            t.push(value(row).as_bytes());
        }
        t.finish();
        // 492 values: 16-bit codes, but each sealed chunk's span 164 codes, in 8 bits.
        assert!(matches!(t.codes, Codes::U16(_)), "{}", t.codes.storage());
        assert!(t.codes.used_bytes() < rows + 1000, "{}", t.codes.storage());
        assert!((0..rows).all(|row| t.value(row) == value(row)));
        let mut each = Vec::new();
        t.codes.for_each(|row, code| each.push((row, code)));
        let got: Vec<(usize, u32)> = (0..rows).map(|r| (r, t.codes.get(r))).collect();
        assert_eq!(each, got);
        assert!(t.codes.iter().eq(got.iter().map(|&(_, code)| code)));
        // Read through the identity column's codes: shared, and looked up per user.
        let users = Arc::new(t.codes.clone());
        let n = t.values.len() as u32;
        let map: Vec<u32> = (0..n).map(|u| (u * 7) % n).collect();
        for codes in [
            Codes::Shared(users.clone()),
            Codes::PerUser {
                users: users.clone(),
                map: map.clone(),
            },
        ] {
            let each: Vec<u32> = (0..rows).map(|r| codes.get(r)).collect();
            assert!(codes.iter().eq(each.iter().copied()));
            assert_eq!(codes.iter().count(), rows);
        }
        // Laid out by runs across chunk ends, and by group ids.
        let runs = [
            Run {
                start: 5,
                end: CHUNK + 7,
                group: 1,
            },
            Run {
                start: 2 * CHUNK - 3,
                end: rows,
                group: 0,
            },
        ];
        let ids: Vec<u32> = (0..rows as u32)
            .map(|r| if r % 3 == 0 { NO_GROUP } else { r % 2 })
            .collect();
        for layout in [Layout::Runs(&runs), Layout::Ids(&ids)] {
            let mut seen = Vec::new();
            t.codes
                .for_each_in(layout, &mut |row, g, code| seen.push((row, g, code)));
            let mut expected = Vec::new();
            layout.for_each_row(|row, g| expected.push((row, g, u64::from(t.codes.get(row)))));
            assert_eq!(seen, expected);
            assert!(!seen.is_empty());
        }
        // Codes spanning more than a byte within a chunk take the bits they need.
        let mut wide = TextColumn::new();
        for row in 0..CHUNK + 1 {
            wide.push(format!("v{}", row % 300).as_bytes());
        }
        wide.finish();
        assert!(matches!(wide.codes, Codes::U16(_)));
        assert_eq!(wide.codes.storage(), "u16, chunks by bits: 9×1");
        assert!((0..CHUNK + 1).all(|row| wide.value(row) == format!("v{}", row % 300)));
    }

    #[test]
    fn text_is_interned_and_trimmed() {
        let mut t = TextColumn::new();
        for v in [&b"a"[..], b"a", b" b ", b"a", b"\xffz"] {
            t.push(v);
        }
        assert_eq!(t.values, vec!["a", "b", "\u{fffd}z"]);
        assert_eq!(t.value(2), "b");
        assert_eq!(t.value(3), "a");
    }
}
