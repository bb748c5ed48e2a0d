//! Columnar storage: dictionary-encoded text, day numbers, tri-state booleans, and numbers stored as
//! scaled integers in the narrowest width that holds them (most cells of an export fit in a byte).

use std::collections::{HashMap, TryReserveError};
use std::hash::{BuildHasherDefault, Hasher};

use crate::number::{parse_num_bytes, pow10, Num, MAX_SCALE};
use crate::verbatim::Verbatim;

/// A small, fast hasher for short strings (the FxHash mixing step); dictionary keys are not
/// attacker-chosen hash-flooding material in a report the user opened themselves.
#[derive(Default)]
pub(crate) struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

pub(crate) type FxBuild = BuildHasherDefault<FxHasher>;
pub(crate) type FxHashMap<K, V> = HashMap<K, V, FxBuild>;

/// A run of consecutive rows that all add into one slot (`group`) of an accumulator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Run {
    pub start: usize,
    pub end: usize,
    pub group: usize,
}

/// The group id of a row that adds into no group.
pub(crate) const NO_GROUP: u32 = u32::MAX;

/// Which rows add into which group (slot) of an accumulator: runs of consecutive rows of one
/// group, best when runs are long (a sorted export grouped by user or date); or a group id per
/// row (`NO_GROUP` for rows that add nowhere), best when the group changes every few rows.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Layout<'a> {
    Runs(&'a [Run]),
    Ids(&'a [u32]),
}

impl Layout<'_> {
    /// Calls `f(row, group)` for every row that adds into a group, in row order.
    #[inline]
    pub(crate) fn for_each_row(self, mut f: impl FnMut(usize, usize)) {
        match self {
            Layout::Runs(runs) => {
                for run in runs {
                    (run.start..run.end).for_each(|row| f(row, run.group));
                }
            }
            Layout::Ids(ids) => {
                for (row, &g) in ids.iter().enumerate() {
                    if g != NO_GROUP {
                        f(row, g as usize);
                    }
                }
            }
        }
    }
}

/// Sums runs of unsigned cells (`null` marks an empty one) into their groups: a branch-free
/// inner loop the compiler vectorizes, adding in lanes of `L` (`u32` for cells of at most 16 bits,
/// over blocks short enough that they cannot overflow; `i64` for wider cells).
fn sum_runs<T, L>(values: &[T], null: T, runs: &[Run], sums: &mut [i64], counts: Option<&mut [u32]>)
where
    T: Copy + PartialEq + Into<L>,
    L: Copy + Default + std::iter::Sum + Into<i64>,
{
    const BLOCK: usize = 1 << 16;
    let cell = |x: T| if x != null { x.into() } else { L::default() };
    for run in runs {
        let sum: i64 = values[run.start..run.end]
            .chunks(BLOCK)
            .map(|b| b.iter().map(|&x| cell(x)).sum::<L>().into())
            .sum();
        sums[run.group] = sums[run.group].saturating_add(sum);
    }
    if let Some(counts) = counts {
        for run in runs {
            let n = values[run.start..run.end]
                .iter()
                .map(|&x| u32::from(x != null))
                .sum::<u32>();
            counts[run.group] += n;
        }
    }
}

/// Sums narrow unsigned cells into the group of each row. Two sets of partial sums (even and odd
/// rows) keep consecutive rows of one group from waiting on each other, and rows without a group
/// add into a spare slot instead of branching.
fn sum_ids<T: Copy + PartialEq + Into<i64>>(
    values: &[T],
    null: T,
    ids: &[u32],
    sums: &mut [i64],
    counts: Option<&mut [u32]>,
) {
    let n = sums.len();
    let slot = |g: u32| (g as usize).min(n);
    let cell = |x: T| if x != null { x.into() } else { 0 };
    let mut even = vec![0i64; n + 1];
    let mut odd = vec![0i64; n + 1];
    let pairs = ids.chunks_exact(2).zip(values.chunks_exact(2));
    let tail = ids.len().min(values.len()) & !1;
    match counts {
        None => {
            for (g, x) in pairs {
                even[slot(g[0])] += cell(x[0]);
                odd[slot(g[1])] += cell(x[1]);
            }
            for (&g, &x) in ids[tail..].iter().zip(&values[tail..]) {
                even[slot(g)] += cell(x);
            }
        }
        Some(counts) => {
            let mut seen = vec![0u32; n + 1];
            for (g, x) in pairs {
                even[slot(g[0])] += cell(x[0]);
                odd[slot(g[1])] += cell(x[1]);
                seen[slot(g[0])] += u32::from(x[0] != null);
                seen[slot(g[1])] += u32::from(x[1] != null);
            }
            for (&g, &x) in ids[tail..].iter().zip(&values[tail..]) {
                even[slot(g)] += cell(x);
                seen[slot(g)] += u32::from(x != null);
            }
            for (c, s) in counts.iter_mut().zip(seen) {
                *c += s;
            }
        }
    }
    for ((s, a), b) in sums.iter_mut().zip(even).zip(odd) {
        *s = s.saturating_add(a.saturating_add(b));
    }
}

/// Σ(value × weight) and Σ weight per group for cells of at most 16 bits (`vnull` and `wnull`
/// mark empty ones): exact in `u64` within a run (a product is below 2^32), added as floats per run.
fn weighted_narrow<V: Copy + PartialEq + Into<u64>, W: Copy + PartialEq + Into<u64>>(
    values: &[V],
    vnull: V,
    weights: &[W],
    wnull: W,
    layout: Layout,
    num: &mut [f64],
    den: &mut [f64],
) {
    let pair = |v: V, w: W| {
        let keep = v != vnull && w != wnull;
        let w = if keep { w.into() } else { 0 };
        (v.into() * w, w)
    };
    match layout {
        Layout::Runs(runs) => {
            for run in runs {
                let (mut vw, mut ww) = (0u64, 0u64);
                for (&v, &w) in values[run.start..run.end]
                    .iter()
                    .zip(&weights[run.start..run.end])
                {
                    let (x, y) = pair(v, w);
                    vw += x;
                    ww += y;
                }
                num[run.group] += vw as f64;
                den[run.group] += ww as f64;
            }
        }
        Layout::Ids(ids) => {
            for ((&g, &v), &w) in ids.iter().zip(values).zip(weights) {
                if g != NO_GROUP {
                    let (x, y) = pair(v, w);
                    num[g as usize] += x as f64;
                    den[g as usize] += y as f64;
                }
            }
        }
    }
}

/// Unsigned codes in the narrowest width that holds the largest one.
#[derive(Clone, Debug)]
pub(crate) enum Codes {
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
}

impl Codes {
    fn new() -> Codes {
        Codes::U8(Vec::new())
    }

    fn push(&mut self, code: u32) {
        loop {
            match self {
                Codes::U8(v) if code <= u32::from(u8::MAX) => return v.push(code as u8),
                Codes::U16(v) if code <= u32::from(u16::MAX) => return v.push(code as u16),
                Codes::U32(v) => return v.push(code),
                Codes::U8(v) => *self = Codes::U16(v.iter().map(|&c| u16::from(c)).collect()),
                Codes::U16(v) => *self = Codes::U32(v.iter().map(|&c| u32::from(c)).collect()),
            }
        }
    }

    /// Appends codes, the largest of which is `max`: one decision on the width for them all.
    fn extend(&mut self, codes: &[u32], max: u32) {
        if codes.is_empty() {
            return;
        }
        loop {
            match self {
                Codes::U8(v) if max <= u32::from(u8::MAX) => {
                    return v.extend(codes.iter().map(|&c| c as u8))
                }
                Codes::U16(v) if max <= u32::from(u16::MAX) => {
                    return v.extend(codes.iter().map(|&c| c as u16))
                }
                Codes::U32(v) => return v.extend_from_slice(codes),
                Codes::U8(v) => *self = Codes::U16(v.iter().map(|&c| u16::from(c)).collect()),
                Codes::U16(v) => *self = Codes::U32(v.iter().map(|&c| u32::from(c)).collect()),
            }
        }
    }

    #[inline]
    pub(crate) fn get(&self, row: usize) -> u32 {
        match self {
            Codes::U8(v) => u32::from(v[row]),
            Codes::U16(v) => u32::from(v[row]),
            Codes::U32(v) => v[row],
        }
    }

    /// Calls `f(row, code)` for every row.
    #[inline]
    pub(crate) fn for_each(&self, mut f: impl FnMut(usize, u32)) {
        match self {
            Codes::U8(v) => v.iter().enumerate().for_each(|(i, &c)| f(i, u32::from(c))),
            Codes::U16(v) => v.iter().enumerate().for_each(|(i, &c)| f(i, u32::from(c))),
            Codes::U32(v) => v.iter().enumerate().for_each(|(i, &c)| f(i, c)),
        }
    }

    /// Calls `f(row, group, code)` for every laid-out row; one loop per width, so the code read
    /// is not a match per row.
    #[inline]
    pub(crate) fn for_each_in<F: FnMut(usize, usize, u64)>(&self, layout: Layout, f: &mut F) {
        fn scan<C: Copy + Into<u64>, F: FnMut(usize, usize, u64)>(
            codes: &[C],
            layout: Layout,
            f: &mut F,
        ) {
            match layout {
                Layout::Runs(runs) => {
                    for run in runs {
                        for (row, &code) in codes[run.start..run.end].iter().enumerate() {
                            f(run.start + row, run.group, code.into());
                        }
                    }
                }
                Layout::Ids(ids) => {
                    for (row, (&g, &code)) in ids.iter().zip(codes).enumerate() {
                        if g != NO_GROUP {
                            f(row, g as usize, code.into());
                        }
                    }
                }
            }
        }
        match self {
            Codes::U8(v) => scan(v, layout, f),
            Codes::U16(v) => scan(v, layout, f),
            Codes::U32(v) => scan(v, layout, f),
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Codes::U8(v) => v.capacity(),
            Codes::U16(v) => v.capacity() * 2,
            Codes::U32(v) => v.capacity() * 4,
        }
    }

    /// Makes room for `more` codes after the last, by the vector's usual growth, or fails
    /// without allocating when the memory is not there.
    fn try_grow(&mut self, more: usize) -> Result<(), TryReserveError> {
        match self {
            Codes::U8(v) => v.try_reserve(more),
            Codes::U16(v) => v.try_reserve(more),
            Codes::U32(v) => v.try_reserve(more),
        }
    }

    /// Bytes the codes stored take (not the spare capacity).
    fn used_bytes(&self) -> usize {
        match self {
            Codes::U8(v) => v.len(),
            Codes::U16(v) => v.len() * 2,
            Codes::U32(v) => v.len() * 4,
        }
    }

    fn shrink(&mut self) {
        match self {
            Codes::U8(v) => v.shrink_to_fit(),
            Codes::U16(v) => v.shrink_to_fit(),
            Codes::U32(v) => v.shrink_to_fit(),
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

/// Byte equality without a call to `memcmp`, for the short cells of an export: 8 bytes at a time,
/// the last word overlapping the one before it, and a cell under 8 bytes in two overlapping
/// 4-byte words or three bytes (no loop over the bytes).
#[inline(always)]
pub(crate) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let word = |s: &[u8], i: usize| u64::from_le_bytes(s[i..i + 8].try_into().unwrap_or([0; 8]));
    let half = |s: &[u8], i: usize| u32::from_le_bytes(s[i..i + 4].try_into().unwrap_or([0; 4]));
    if n >= 8 {
        let mut i = 0;
        while i + 8 < n {
            if word(a, i) != word(b, i) {
                return false;
            }
            i += 8;
        }
        word(a, n - 8) == word(b, n - 8)
    } else if n >= 4 {
        half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4)
    } else {
        n == 0 || (a[0] == b[0] && a[n / 2] == b[n / 2] && a[n - 1] == b[n - 1])
    }
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

/// Day numbers; `NULL_DAY` for an empty or unparseable cell.
pub(crate) const NULL_DAY: i32 = i32::MIN;

/// Tri-state booleans: `0` false, `1` true, `NULL_BOOL` empty.
pub(crate) const NULL_BOOL: u8 = 2;

/// A number cell written in plain form: its decimal places as written, and whether the last one
/// is a zero (`0.2500` → `(4, true)`).
pub(crate) type PlainShape = (u8, bool);

/// Numbers as integers scaled by `10^scale`, in the narrowest width that holds them; each width's
/// largest value (or `i64::MIN`, or NaN) marks an empty cell.
#[derive(Clone, Debug)]
pub(crate) enum Ints {
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
    I64(Vec<i64>),
    F64(Vec<f64>),
}

/// Per group Σ(value × weight) and Σ weight, and what their ratio is to be divided by.
pub(crate) type WeightedSums = (Vec<f64>, Vec<f64>, f64);

/// Per-group sums of one numeric column.
#[derive(Clone, Debug)]
pub(crate) enum Acc {
    /// Scaled integers.
    Int(Vec<i64>),
    Float(Vec<f64>),
}

impl Acc {
    /// How many groups it sums.
    pub(crate) fn len(&self) -> usize {
        match self {
            Acc::Int(s) => s.len(),
            Acc::Float(s) => s.len(),
        }
    }
}

/// A numeric column.
#[derive(Clone, Debug)]
pub(crate) struct NumColumn {
    pub(crate) scale: u8,
    pub(crate) data: Ints,
}

impl NumColumn {
    pub(crate) fn new() -> NumColumn {
        NumColumn {
            scale: 0,
            data: Ints::U8(Vec::new()),
        }
    }

    pub(crate) fn len(&self) -> usize {
        match &self.data {
            Ints::U8(v) => v.len(),
            Ints::U16(v) => v.len(),
            Ints::U32(v) => v.len(),
            Ints::I64(v) => v.len(),
            Ints::F64(v) => v.len(),
        }
    }

    /// The value of a row as a scaled integer, or `None` when empty. Not for `F64` columns.
    #[inline]
    fn get_scaled(&self, row: usize) -> Option<i64> {
        match &self.data {
            Ints::U8(v) => (v[row] != u8::MAX).then(|| i64::from(v[row])),
            Ints::U16(v) => (v[row] != u16::MAX).then(|| i64::from(v[row])),
            Ints::U32(v) => (v[row] != u32::MAX).then(|| i64::from(v[row])),
            Ints::I64(v) => (v[row] != i64::MIN).then_some(v[row]),
            Ints::F64(v) => (!v[row].is_nan()).then(|| v[row] as i64),
        }
    }

    /// The value of a row of a whole-number column (scale 0, not `F64`), or `None` when empty.
    #[cfg(not(target_arch = "wasm32"))]
    #[inline]
    pub(crate) fn get_whole(&self, row: usize) -> Option<i64> {
        debug_assert!(self.scale == 0 && !self.is_float());
        self.get_scaled(row)
    }

    /// The value of a row, or `None` when empty.
    #[inline]
    pub(crate) fn get(&self, row: usize) -> Option<f64> {
        match &self.data {
            Ints::F64(v) => (!v[row].is_nan()).then_some(v[row]),
            _ => self
                .get_scaled(row)
                .map(|x| x as f64 / pow10(self.scale) as f64),
        }
    }

    /// Parses and appends a cell; false when it is not a number (then it counts as empty). For a
    /// short plain decimal (`12`, `0.2500`, not `012` or `.5`), also its decimal places as written
    /// and whether the last is a zero, from the same scan (see `Verbatim::note_num`).
    #[inline]
    pub(crate) fn push_cell(&mut self, raw: &[u8]) -> (bool, Option<PlainShape>) {
        if let Some((mantissa, scale, plain)) = short_decimal(raw) {
            if scale <= self.scale && !matches!(self.data, Ints::F64(_)) {
                // At most 9 digits and 9 decimal places apart: no overflow.
                let x = mantissa * pow10(self.scale - scale);
                match &mut self.data {
                    Ints::U8(v) if x < i64::from(u8::MAX) => v.push(x as u8),
                    Ints::U16(v) if x < i64::from(u16::MAX) => v.push(x as u16),
                    _ => self.push_scaled(x),
                }
                return (true, plain);
            }
        }
        if raw.is_empty() {
            self.push_null();
            return (true, None);
        }
        let value = parse_num_bytes(raw);
        self.push(value);
        (value.is_some() || raw.trim_ascii().is_empty(), None)
    }

    /// Stores the cells `cell(r)` for `r` in `from..to` while each is empty or a short plain
    /// decimal that fits the column as it is (its width and scale), noting each in `verbatim` as
    /// [`Verbatim::note_num`] does (`row0 + r` is its row); returns where it stopped: the first
    /// cell that needs [`NumColumn::push_cell`] (`to` when none does). The common cells of a
    /// block, with one decision on the column's width for the whole run.
    #[inline]
    pub(crate) fn push_plain_cells<'a>(
        &mut self,
        verbatim: &mut Verbatim,
        row0: usize,
        from: usize,
        to: usize,
        cell: impl Fn(usize) -> &'a [u8],
    ) -> usize {
        let scale = self.scale;
        match &mut self.data {
            Ints::U8(v) => plain_run(v, u8::MAX, scale, verbatim, row0, from..to, cell),
            Ints::U16(v) => plain_run(v, u16::MAX, scale, verbatim, row0, from..to, cell),
            Ints::U32(v) => plain_run(v, u32::MAX, scale, verbatim, row0, from..to, cell),
            Ints::I64(_) | Ints::F64(_) => from,
        }
    }

    pub(crate) fn push(&mut self, value: Option<Num>) {
        // The common case: a small whole number into a column of small whole numbers.
        if let (Some(Num::Dec { mantissa, scale: 0 }), Ints::U8(v), 0) =
            (value, &mut self.data, self.scale)
        {
            if (0..i64::from(u8::MAX)).contains(&mantissa) {
                v.push(mantissa as u8);
                return;
            }
        }
        let Some(value) = value else {
            self.push_null();
            return;
        };
        if let Ints::F64(v) = &mut self.data {
            v.push(value.to_f64());
            return;
        }
        let scaled = match value {
            Num::Dec { mantissa, scale } if scale <= MAX_SCALE => {
                if scale > self.scale && !self.rescale(scale) {
                    return self.push(Some(value));
                }
                mantissa.checked_mul(pow10(self.scale - scale))
            }
            _ => None,
        };
        match scaled {
            Some(x) if x != i64::MIN => self.push_scaled(x),
            _ => {
                self.make_floats();
                self.push(Some(value));
            }
        }
    }

    fn push_null(&mut self) {
        match &mut self.data {
            Ints::U8(v) => v.push(u8::MAX),
            Ints::U16(v) => v.push(u16::MAX),
            Ints::U32(v) => v.push(u32::MAX),
            Ints::I64(v) => v.push(i64::MIN),
            Ints::F64(v) => v.push(f64::NAN),
        }
    }

    fn push_scaled(&mut self, x: i64) {
        loop {
            match &mut self.data {
                Ints::U8(v) if (0..i64::from(u8::MAX)).contains(&x) => return v.push(x as u8),
                Ints::U16(v) if (0..i64::from(u16::MAX)).contains(&x) => return v.push(x as u16),
                Ints::U32(v) if (0..i64::from(u32::MAX)).contains(&x) => return v.push(x as u32),
                Ints::I64(v) => return v.push(x),
                Ints::F64(v) => return v.push(x as f64 / pow10(self.scale) as f64),
                _ => self.widen(),
            }
        }
    }

    /// Moves to the next wider representation, keeping every value and empty cell.
    fn widen(&mut self) {
        let n = self.len();
        self.data = match &self.data {
            Ints::U8(_) => Ints::U16(
                (0..n)
                    .map(|i| self.get_scaled(i).map_or(u16::MAX, |x| x as u16))
                    .collect(),
            ),
            Ints::U16(_) => Ints::U32(
                (0..n)
                    .map(|i| self.get_scaled(i).map_or(u32::MAX, |x| x as u32))
                    .collect(),
            ),
            Ints::U32(_) => Ints::I64(
                (0..n)
                    .map(|i| self.get_scaled(i).unwrap_or(i64::MIN))
                    .collect(),
            ),
            Ints::I64(_) | Ints::F64(_) => {
                self.make_floats();
                return;
            }
        };
    }

    /// Raises the scale (more decimal places), re-encoding every value; false when that overflows,
    /// in which case the column has become floats.
    fn rescale(&mut self, scale: u8) -> bool {
        let factor = pow10(scale - self.scale);
        let values: Option<Vec<Option<i64>>> = (0..self.len())
            .map(|i| match self.get_scaled(i) {
                None => Some(None),
                Some(x) => x.checked_mul(factor).filter(|&x| x != i64::MIN).map(Some),
            })
            .collect();
        match values {
            Some(values) => {
                self.scale = scale;
                self.data = Ints::U8(Vec::with_capacity(values.len()));
                for v in values {
                    match v {
                        Some(x) => self.push_scaled(x),
                        None => self.push_null(),
                    }
                }
                true
            }
            None => {
                self.make_floats();
                false
            }
        }
    }

    fn make_floats(&mut self) {
        if matches!(self.data, Ints::F64(_)) {
            return;
        }
        // Through the decimal text: correctly rounded even past 2^53, where `x as f64 / 10^scale`
        // rounds twice, so each value stays the float nearest its cell (and is written back as
        // the cell when that had at most 15 digits).
        let mut text = String::new();
        let floats = (0..self.len())
            .map(|i| match self.get_scaled(i) {
                Some(x) => {
                    text.clear();
                    format_scaled(x, self.scale, &mut text);
                    text.parse().unwrap_or(f64::NAN)
                }
                None => f64::NAN,
            })
            .collect();
        self.data = Ints::F64(floats);
    }

    /// Adds every non-empty cell of the laid-out rows into its group. Integer columns sum scaled
    /// integers (exact) into `Acc::Int`, float columns into `Acc::Float`; `counts` (when given)
    /// counts the cells added.
    pub(crate) fn accumulate(&self, layout: Layout, acc: &mut Acc, counts: Option<&mut [u32]>) {
        match (&self.data, acc, layout) {
            (Ints::U8(v), Acc::Int(s), Layout::Runs(runs)) => {
                sum_runs::<_, u32>(v, u8::MAX, runs, s, counts)
            }
            (Ints::U16(v), Acc::Int(s), Layout::Runs(runs)) => {
                sum_runs::<_, u32>(v, u16::MAX, runs, s, counts)
            }
            (Ints::U32(v), Acc::Int(s), Layout::Runs(runs)) => {
                sum_runs::<_, i64>(v, u32::MAX, runs, s, counts)
            }
            (Ints::U8(v), Acc::Int(s), Layout::Ids(ids)) => sum_ids(v, u8::MAX, ids, s, counts),
            (Ints::U16(v), Acc::Int(s), Layout::Ids(ids)) => sum_ids(v, u16::MAX, ids, s, counts),
            (Ints::U32(v), Acc::Int(s), Layout::Ids(ids)) => sum_ids(v, u32::MAX, ids, s, counts),
            (_, acc, layout) => self.accumulate_cells(layout, acc, counts),
        }
    }

    /// [`NumColumn::accumulate`] for wide integers (which may overflow when summed) and floats,
    /// cell by cell. A sum past i64 is summed again in floats: the nearest float, never a silent
    /// saturation: no answer fails because a number is large.
    fn accumulate_cells(&self, layout: Layout, acc: &mut Acc, mut counts: Option<&mut [u32]>) {
        let before = counts.as_deref().map(<[u32]>::to_vec);
        if !self.accumulate_wide(layout, acc, counts.as_deref_mut()) {
            *acc = Acc::Float(vec![0.0; acc.len()]);
            if let (Some(c), Some(before)) = (counts.as_deref_mut(), before) {
                c.copy_from_slice(&before);
            }
            self.accumulate_wide(layout, acc, counts);
        }
    }

    /// The cell-by-cell sum of [`NumColumn::accumulate_cells`]; false when an integer sum
    /// overflowed (the sums are then partial).
    fn accumulate_wide(
        &self,
        layout: Layout,
        acc: &mut Acc,
        mut counts: Option<&mut [u32]>,
    ) -> bool {
        let mut ok = true;
        layout.for_each_row(|row, group| {
            if !ok {
                return;
            }
            let (value, scaled) = match &self.data {
                Ints::I64(v) => (None, (v[row] != i64::MIN).then_some(v[row])),
                _ => (self.get(row), None),
            };
            if value.is_none() && scaled.is_none() {
                return;
            }
            match acc {
                Acc::Int(s) => {
                    let x = scaled.unwrap_or_else(|| {
                        (value.unwrap_or(0.0) * pow10(self.scale) as f64) as i64
                    });
                    match s[group].checked_add(x) {
                        Some(sum) => s[group] = sum,
                        None => {
                            ok = false;
                            return;
                        }
                    }
                }
                Acc::Float(s) => {
                    s[group] += value.unwrap_or_else(|| {
                        scaled.map_or(0.0, |x| x as f64 / pow10(self.scale) as f64)
                    })
                }
            }
            if let Some(c) = counts.as_deref_mut() {
                c[group] += 1;
            }
        });
        ok
    }

    /// Σ(value × weight) and Σ weight per group, over rows with a value and a positive weight,
    /// and what their ratio is to be divided by (the values' scale, for scaled integers).
    pub(crate) fn weighted_sums(
        &self,
        weights: &NumColumn,
        layout: Layout,
        n: usize,
    ) -> WeightedSums {
        let mut num = vec![0.0; n];
        let mut den = vec![0.0; n];
        if self.is_float() || weights.is_float() {
            layout.for_each_row(|row, group| {
                if let (Some(v), Some(w)) = (self.get(row), weights.get(row)) {
                    if w > 0.0 {
                        num[group] += v * w;
                        den[group] += w;
                    }
                }
            });
            return (num, den, 1.0);
        }
        // Scaled integers, unscaled once per group at the end.
        macro_rules! narrow {
            ($v:expr, $vn:expr, $w:expr, $wn:expr) => {
                weighted_narrow($v, $vn, $w, $wn, layout, &mut num, &mut den)
            };
        }
        match (&self.data, &weights.data) {
            (Ints::U8(v), Ints::U8(w)) => narrow!(v, u8::MAX, w, u8::MAX),
            (Ints::U8(v), Ints::U16(w)) => narrow!(v, u8::MAX, w, u16::MAX),
            (Ints::U16(v), Ints::U8(w)) => narrow!(v, u16::MAX, w, u8::MAX),
            (Ints::U16(v), Ints::U16(w)) => narrow!(v, u16::MAX, w, u16::MAX),
            _ => layout.for_each_row(|row, group| {
                if let (Some(v), Some(w)) = (self.get_scaled(row), weights.get_scaled(row)) {
                    if w > 0 {
                        num[group] += v as f64 * w as f64;
                        den[group] += w as f64;
                    }
                }
            }),
        }
        // Kept in scaled units, exact integers (below 2^53) however the groups are later added
        // up: Σ(v × w) / Σ w is then to be divided by the values' scale.
        (num, den, pow10(self.scale) as f64)
    }

    /// A zeroed accumulator of the right kind for this column.
    pub(crate) fn accumulator(&self, groups: usize) -> Acc {
        if self.is_float() {
            Acc::Float(vec![0.0; groups])
        } else {
            Acc::Int(vec![0; groups])
        }
    }

    /// The value of an accumulated sum.
    pub(crate) fn sum_value(&self, acc: &Acc, group: usize) -> f64 {
        match acc {
            Acc::Int(s) => s[group] as f64 / pow10(self.scale) as f64,
            Acc::Float(s) => s[group],
        }
    }

    /// Whether values are floats (sums then live in `float_sums`).
    pub(crate) fn is_float(&self) -> bool {
        matches!(self.data, Ints::F64(_))
    }

    /// The cell as the export would write it: the shortest exact decimal, or empty.
    pub(crate) fn format(&self, row: usize, out: &mut String) {
        use std::fmt::Write;
        if let Ints::F64(v) = &self.data {
            if !v[row].is_nan() {
                let _ = write!(out, "{}", v[row]);
            }
            return;
        }
        let Some(x) = self.get_scaled(row) else {
            return;
        };
        format_scaled(x, self.scale, out);
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        match &self.data {
            Ints::U8(v) => v.capacity(),
            Ints::U16(v) => v.capacity() * 2,
            Ints::U32(v) => v.capacity() * 4,
            Ints::I64(v) => v.capacity() * 8,
            Ints::F64(v) => v.capacity() * 8,
        }
    }

    /// Makes room for `more` cells after the last, by the vector's usual growth, or fails
    /// without allocating when the memory is not there.
    pub(crate) fn try_grow(&mut self, more: usize) -> Result<(), TryReserveError> {
        match &mut self.data {
            Ints::U8(v) => v.try_reserve(more),
            Ints::U16(v) => v.try_reserve(more),
            Ints::U32(v) => v.try_reserve(more),
            Ints::I64(v) => v.try_reserve(more),
            Ints::F64(v) => v.try_reserve(more),
        }
    }

    /// Bytes the cells stored take (not the spare capacity).
    pub(crate) fn used_bytes(&self) -> usize {
        let width = match &self.data {
            Ints::U8(_) => 1,
            Ints::U16(_) => 2,
            Ints::U32(_) => 4,
            Ints::I64(_) | Ints::F64(_) => 8,
        };
        self.len() * width
    }

    pub(crate) fn shrink(&mut self) {
        match &mut self.data {
            Ints::U8(v) => v.shrink_to_fit(),
            Ints::U16(v) => v.shrink_to_fit(),
            Ints::U32(v) => v.shrink_to_fit(),
            Ints::I64(v) => v.shrink_to_fit(),
            Ints::F64(v) => v.shrink_to_fit(),
        }
    }
}

/// [`NumColumn::push_plain_cells`] for one width (`null`, its largest value, marks an empty cell).
#[inline(always)]
fn plain_run<'a, T: Copy + Into<u64> + TryFrom<u64>>(
    v: &mut Vec<T>,
    null: T,
    scale: u8,
    verbatim: &mut Verbatim,
    row0: usize,
    rows: std::ops::Range<usize>,
    cell: impl Fn(usize) -> &'a [u8],
) -> usize {
    // Whole numbers in a column of whole numbers written as such (the counts): every plain
    // integer is written back as it is, so `verbatim` has nothing to note.
    let integers = scale == 0 && verbatim.decimals() == Some(0);
    // Stored from a buffer, 64 at a time: no length kept in memory per cell.
    let mut buf = [null; 64];
    let mut r = rows.start;
    while r < rows.end {
        let end = rows.end.min(r + buf.len());
        let mut k = 0;
        let stop = if integers {
            plain_integers(&mut buf, &mut k, null, r..end, &cell)
        } else {
            plain_decimals(&mut buf, &mut k, null, scale, verbatim, row0, r..end, &cell)
        };
        v.extend_from_slice(&buf[..k]);
        if stop < end {
            return stop;
        }
        r = end;
    }
    rows.end
}

/// [`plain_run`] for a column of whole numbers: takes plain integers into `buf[*k..]` (`null`
/// for an empty cell, and the bound of the values that fit); returns where it stopped.
#[inline(always)]
fn plain_integers<'a, T: Copy + Into<u64> + TryFrom<u64>>(
    buf: &mut [T],
    k: &mut usize,
    null: T,
    rows: std::ops::Range<usize>,
    cell: &impl Fn(usize) -> &'a [u8],
) -> usize {
    let limit: u64 = null.into();
    for r in rows.clone() {
        let raw = cell(r);
        let n = raw.len();
        if n == 0 {
            buf[*k] = null;
            *k += 1;
            continue;
        }
        if n > 9 || (raw[0] == b'0' && n > 1) {
            return r;
        }
        let mut x = 0u64;
        for &b in raw {
            let d = b.wrapping_sub(b'0');
            if d >= 10 {
                return r;
            }
            x = x * 10 + u64::from(d);
        }
        let Some(x) = T::try_from(x).ok().filter(|_| x < limit) else {
            return r;
        };
        buf[*k] = x;
        *k += 1;
    }
    rows.end
}

/// [`plain_run`] for any other column: takes short plain decimals into `buf[*k..]`, noting each
/// in `verbatim`; returns where it stopped.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn plain_decimals<'a, T: Copy + Into<u64> + TryFrom<u64>>(
    buf: &mut [T],
    k: &mut usize,
    null: T,
    scale: u8,
    verbatim: &mut Verbatim,
    row0: usize,
    rows: std::ops::Range<usize>,
    cell: &impl Fn(usize) -> &'a [u8],
) -> usize {
    let limit: u64 = null.into();
    for r in rows.clone() {
        let raw = cell(r);
        if raw.is_empty() {
            buf[*k] = null;
            *k += 1;
            continue;
        }
        let Some((digits, places, last_zero)) = plain_short(raw) else {
            return r;
        };
        if places > scale {
            return r;
        }
        // At most 9 digits, scaled by at most 10^9: no overflow.
        let x = digits * pow10(scale - places) as u64;
        let Some(x) = T::try_from(x).ok().filter(|_| x < limit) else {
            return r;
        };
        verbatim.note_plain(row0 + r, raw, places, last_zero);
        buf[*k] = x;
        *k += 1;
    }
    rows.end
}

/// A non-empty cell in plain form (digits without a needless leading zero, then optionally a dot
/// and at least one digit) of at most 9 characters: its digits as an integer (the dot ignored),
/// its decimal places, and whether the last is a zero. (Reading cells of up to 8 bytes as one
/// 64-bit word, simdjson's way, was slower on an export's cells, most of them 1 to 3 bytes.)
#[inline(always)]
fn plain_short(raw: &[u8]) -> Option<(u64, u8, bool)> {
    let n = raw.len();
    if n > 9 || n == 0 {
        return None;
    }
    let (mut digits, mut dot) = (0u64, n);
    for (i, &b) in raw.iter().enumerate() {
        let d = b.wrapping_sub(b'0');
        if d < 10 {
            digits = digits * 10 + u64::from(d);
        } else if b == b'.' && dot == n {
            dot = i;
        } else {
            return None;
        }
    }
    if dot == 0 || dot + 1 == n || (raw[0] == b'0' && n > 1 && dot != 1) {
        return None;
    }
    let places = if dot == n { 0 } else { n - dot - 1 };
    Some((digits, places as u8, dot != n && raw[n - 1] == b'0'))
}

/// The most common cells: an unsigned decimal of at most 9 characters ("3", "0.1964"), as a
/// mantissa and a scale without trailing zeros; and when the cell is in plain form (no needless
/// leading zero, digits on both sides of a dot), its decimal places as written and whether the
/// last is a zero.
#[inline(always)]
fn short_decimal(raw: &[u8]) -> Option<(i64, u8, Option<PlainShape>)> {
    if raw.is_empty() || raw.len() > 9 {
        return None;
    }
    let (mut mantissa, mut scale, mut dot) = (0i64, 0u8, false);
    for &c in raw {
        if c.is_ascii_digit() {
            mantissa = mantissa * 10 + i64::from(c - b'0');
            scale += u8::from(dot);
        } else if c == b'.' && !dot {
            dot = true;
        } else {
            return None;
        }
    }
    if raw.len() == usize::from(dot) {
        return None;
    }
    let plain = !(raw[0] == b'.'
        || (raw[0] == b'0' && raw.len() > 1 && raw[1] != b'.')
        || (dot && scale == 0));
    let shape = plain.then(|| (scale, dot && raw[raw.len() - 1] == b'0'));
    while scale > 0 && mantissa % 10 == 0 {
        mantissa /= 10;
        scale -= 1;
    }
    Some((mantissa, scale, shape))
}

/// Writes `x / 10^scale` as the shortest exact decimal ("0.25", "3", "-1.5").
pub(crate) fn format_scaled(x: i64, scale: u8, out: &mut String) {
    use std::fmt::Write;
    if scale == 0 {
        let _ = write!(out, "{x}");
        return;
    }
    let p = pow10(scale).unsigned_abs();
    let abs = x.unsigned_abs();
    let (int, mut frac, mut digits) = (abs / p, abs % p, usize::from(scale));
    if x < 0 {
        out.push('-');
    }
    let _ = write!(out, "{int}");
    if frac != 0 {
        while frac % 10 == 0 {
            frac /= 10;
            digits -= 1;
        }
        let _ = write!(out, ".{frac:0digits$}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::number::parse_num;

    fn column(cells: &[&str]) -> NumColumn {
        let mut c = NumColumn::new();
        for cell in cells {
            c.push(parse_num(cell));
        }
        c
    }

    fn formatted(c: &NumColumn) -> Vec<String> {
        (0..c.len())
            .map(|i| {
                let mut s = String::new();
                c.format(i, &mut s);
                s
            })
            .collect()
    }

    #[test]
    fn numbers_widen_and_rescale_without_losing_values_or_blanks() {
        let cells = [
            "3",
            "",
            "254",
            "255",
            "70000",
            "0.25",
            "",
            "5000000000",
            "-2",
            "1.125",
        ];
        let c = column(&cells);
        assert!(matches!(c.data, Ints::I64(_)));
        assert_eq!(c.scale, 3);
        let expected: Vec<String> = cells
            .iter()
            .map(|s| s.trim_start_matches('+').to_string())
            .collect();
        assert_eq!(formatted(&c), expected);
        assert_eq!(c.get(5), Some(0.25));
        assert_eq!(c.get(1), None);
    }

    #[test]
    fn small_counts_stay_one_byte_wide() {
        let c = column(&["0", "1", "", "254"]);
        assert!(matches!(c.data, Ints::U8(_)));
        assert_eq!(c.get(2), None);
        assert_eq!(c.get(3), Some(254.0));
    }

    #[test]
    fn exponents_turn_the_column_into_floats() {
        let c = column(&["1", "2.5", "1e3", ""]);
        assert!(c.is_float());
        assert_eq!(formatted(&c), vec!["1", "2.5", "1000", ""]);
    }

    #[test]
    fn accumulate_skips_dropped_rows_and_blanks() {
        let c = column(&["1", "2", "", "4"]);
        let mut acc = c.accumulator(2);
        let mut counts = vec![0u32; 2];
        let runs = [
            Run {
                start: 0,
                end: 1,
                group: 0,
            },
            Run {
                start: 1,
                end: 2,
                group: 1,
            },
            Run {
                start: 2,
                end: 3,
                group: 0,
            },
        ];
        c.accumulate(Layout::Runs(&runs), &mut acc, Some(&mut counts));
        assert_eq!(c.sum_value(&acc, 0), 1.0);
        assert_eq!(c.sum_value(&acc, 1), 2.0);
        assert_eq!(counts, vec![1, 1]);
    }

    /// The same rows laid out as runs and as ids give the same sums, counts and weighted sums,
    /// whatever the cells' width (the narrow vectorized loops, the 32-bit and float ones).
    #[test]
    fn runs_and_ids_layouts_agree_for_every_width() {
        // Row `r` is in group `r / 3 % 4`, except every seventh row, which no group keeps.
        let rows = 200;
        let group = |r: usize| (r % 7 != 3).then_some(r / 3 % 4);
        let ids: Vec<u32> = (0..rows)
            .map(|r| group(r).map_or(NO_GROUP, |g| g as u32))
            .collect();
        let mut runs: Vec<Run> = Vec::new();
        for r in 0..rows {
            let Some(g) = group(r) else { continue };
            match runs.last_mut() {
                Some(run) if run.end == r && run.group == g => run.end = r + 1,
                _ => runs.push(Run {
                    start: r,
                    end: r + 1,
                    group: g,
                }),
            }
        }
        let widths: [fn(usize) -> String; 6] = [
            |r| (r % 50).to_string(),
            |r| (r * 311 % 60_000).to_string(),
            |r| (r as u64 * 40_000_000 % 4_000_000_000).to_string(),
            |r| format!("{}", r as i64 * 1_000_000_007 - 90_000_000_000),
            |r| format!("{}.{:04}", r % 3, r % 10_000),
            |r| format!("{}e-3", r),
        ];
        for (w, make) in widths.iter().enumerate() {
            let cells: Vec<String> = (0..rows)
                .map(|r| if r % 5 == 1 { String::new() } else { make(r) })
                .collect();
            let cells: Vec<&str> = cells.iter().map(String::as_str).collect();
            let c = column(&cells);
            let weights = column(&cells.iter().rev().copied().collect::<Vec<_>>());
            let layouts = [Layout::Runs(&runs), Layout::Ids(&ids)];
            let answers: Vec<_> = layouts
                .iter()
                .map(|&layout| {
                    let mut acc = c.accumulator(4);
                    let mut counts = vec![0u32; 4];
                    c.accumulate(layout, &mut acc, Some(&mut counts));
                    let sums: Vec<f64> = (0..4).map(|g| c.sum_value(&acc, g)).collect();
                    (sums, counts, c.weighted_sums(&weights, layout, 4))
                })
                .collect();
            assert_eq!(answers[0], answers[1], "width {w}");
            // And both agree with the cells themselves.
            for g in 0..4 {
                let mine = (0..rows).filter(|&r| group(r) == Some(g));
                let expected: f64 = mine.clone().filter_map(|r| c.get(r)).sum();
                let n = mine.filter(|&r| c.get(r).is_some()).count() as u32;
                let close = (answers[0].0[g] - expected).abs() <= 1e-9 * expected.abs().max(1.0);
                assert!(
                    close,
                    "width {w}, group {g}: {} vs {expected}",
                    answers[0].0[g]
                );
                assert_eq!(answers[0].1[g], n, "width {w}, group {g}");
            }
        }
    }

    #[test]
    fn same_bytes_is_byte_equality_at_every_length() {
        for n in 0..40 {
            let a: Vec<u8> = (0..n as u8).map(|i| i.wrapping_mul(37)).collect();
            assert!(same_bytes(&a, &a.clone()), "{n}");
            for i in 0..n {
                let mut b = a.clone();
                b[i] ^= 1;
                assert!(!same_bytes(&a, &b), "{n} {i}");
            }
            assert!(!same_bytes(&a, &a[..n.saturating_sub(1)]) || n == 0);
        }
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
