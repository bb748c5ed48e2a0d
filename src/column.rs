//! Columnar storage: dictionary-encoded text, day numbers, tri-state booleans, and numbers stored as
//! scaled integers in the narrowest width that holds them (most cells of an export fit in a byte).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::number::{parse_num_bytes, pow10, Num, MAX_SCALE};

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

    /// Calls `f(row, group, code)` for every row of every run; one loop per width, so the code
    /// read is not a match per row.
    #[inline]
    pub(crate) fn for_each_in_runs<F: FnMut(usize, usize, u64)>(&self, runs: &[Run], f: &mut F) {
        fn scan<C: Copy + Into<u64>, F: FnMut(usize, usize, u64)>(
            codes: &[C],
            runs: &[Run],
            f: &mut F,
        ) {
            for run in runs {
                for (row, &code) in codes[run.start..run.end].iter().enumerate() {
                    f(run.start + row, run.group, code.into());
                }
            }
        }
        match self {
            Codes::U8(v) => scan(v, runs, f),
            Codes::U16(v) => scan(v, runs, f),
            Codes::U32(v) => scan(v, runs, f),
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Codes::U8(v) => v.capacity(),
            Codes::U16(v) => v.capacity() * 2,
            Codes::U32(v) => v.capacity() * 4,
        }
    }

    fn reserve(&mut self, rows: usize) {
        match self {
            Codes::U8(v) => v.reserve(rows.saturating_sub(v.len())),
            Codes::U16(v) => v.reserve(rows.saturating_sub(v.len())),
            Codes::U32(v) => v.reserve(rows.saturating_sub(v.len())),
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
    /// The raw bytes and code of the previous cell: exports are sorted by user, so the same value
    /// often repeats on consecutive rows and needs no hashing.
    last: Option<(Vec<u8>, u32)>,
}

impl TextColumn {
    pub(crate) fn new() -> TextColumn {
        TextColumn {
            values: Vec::new(),
            index: FxHashMap::default(),
            codes: Codes::new(),
            last: None,
        }
    }

    pub(crate) fn push(&mut self, raw: &[u8]) {
        if let Some((bytes, code)) = &self.last {
            if bytes == raw {
                self.codes.push(*code);
                return;
            }
        }
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
                code
            }
        };
        self.codes.push(code);
        match &mut self.last {
            Some((bytes, last)) => {
                bytes.clear();
                bytes.extend_from_slice(raw);
                *last = code;
            }
            None => self.last = Some((raw.to_vec(), code)),
        }
    }

    pub(crate) fn value(&self, row: usize) -> &str {
        &self.values[self.codes.get(row) as usize]
    }

    /// Makes room for `rows` codes in all.
    pub(crate) fn reserve(&mut self, rows: usize) {
        self.codes.reserve(rows);
    }

    /// Ends the input: the codes give back their spare capacity, and the index from value to
    /// code goes (queries read codes and values only).
    pub(crate) fn finish(&mut self) {
        self.codes.shrink();
        self.last = None;
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

/// Per-group sums of one numeric column.
#[derive(Clone, Debug)]
pub(crate) enum Acc {
    /// Scaled integers.
    Int(Vec<i64>),
    Float(Vec<f64>),
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

    /// Like [`NumColumn::accumulate_runs`], a row at a time: for groupings that change on most
    /// rows (client, language), where runs are one row long. `ids[row]` is the row's group, or
    /// `u32::MAX` for a row the filter dropped.
    pub(crate) fn accumulate_rows(
        &self,
        ids: &[u32],
        acc: &mut Acc,
        mut counts: Option<&mut [u32]>,
    ) {
        macro_rules! sum_rows {
            ($v:expr, $sums:expr, $null:expr) => {
                for (&g, &x) in ids.iter().zip($v.iter()) {
                    if g != u32::MAX && x != $null {
                        $sums[g as usize] += x as i64;
                        if let Some(c) = counts.as_deref_mut() {
                            c[g as usize] += 1;
                        }
                    }
                }
            };
        }
        match (&self.data, acc) {
            (Ints::U8(v), Acc::Int(s)) => sum_rows!(v, s, u8::MAX),
            (Ints::U16(v), Acc::Int(s)) => sum_rows!(v, s, u16::MAX),
            (Ints::U32(v), Acc::Int(s)) => sum_rows!(v, s, u32::MAX),
            (_, acc) => {
                let runs: Vec<Run> = ids
                    .iter()
                    .enumerate()
                    .filter(|(_, &g)| g != u32::MAX)
                    .map(|(row, &g)| Run {
                        start: row,
                        end: row + 1,
                        group: g as usize,
                    })
                    .collect();
                self.accumulate_runs(&runs, acc, counts);
            }
        }
    }

    /// Adds every non-empty cell of each run of rows into the run's group. Integer columns sum
    /// scaled integers (exact) into `Acc::Int`, float columns into `Acc::Float`; `counts` (when
    /// given) counts the cells added.
    pub(crate) fn accumulate_runs(
        &self,
        runs: &[Run],
        acc: &mut Acc,
        mut counts: Option<&mut [u32]>,
    ) {
        macro_rules! sum_runs {
            ($v:expr, $sums:expr, $null:expr) => {
                for run in runs {
                    let (mut sum, mut n) = (0i64, 0u32);
                    for &x in &$v[run.start..run.end] {
                        let keep = x != $null;
                        sum += if keep { x as i64 } else { 0 };
                        n += u32::from(keep);
                    }
                    $sums[run.group] = $sums[run.group].saturating_add(sum);
                    if let Some(c) = counts.as_deref_mut() {
                        c[run.group] += n;
                    }
                }
            };
        }
        match (&self.data, acc) {
            (Ints::U8(v), Acc::Int(s)) => sum_runs!(v, s, u8::MAX),
            (Ints::U16(v), Acc::Int(s)) => sum_runs!(v, s, u16::MAX),
            (Ints::U32(v), Acc::Int(s)) => sum_runs!(v, s, u32::MAX),
            (data, acc) => {
                // Wide integers (which may overflow when summed) and floats, cell by cell.
                for run in runs {
                    for row in run.start..run.end {
                        let (value, scaled) = match data {
                            Ints::I64(v) => (None, (v[row] != i64::MIN).then_some(v[row])),
                            _ => (self.get(row), None),
                        };
                        if value.is_none() && scaled.is_none() {
                            continue;
                        }
                        match acc {
                            Acc::Int(s) => {
                                let x = scaled.unwrap_or_else(|| {
                                    (value.unwrap_or(0.0) * pow10(self.scale) as f64) as i64
                                });
                                s[run.group] = s[run.group].saturating_add(x);
                            }
                            Acc::Float(s) => s[run.group] += value.unwrap_or(0.0),
                        }
                        if let Some(c) = counts.as_deref_mut() {
                            c[run.group] += 1;
                        }
                    }
                }
            }
        }
    }

    /// Σ(value × weight) and Σ weight per group, over rows with a value and a positive weight.
    pub(crate) fn weighted_sums(
        &self,
        weights: &NumColumn,
        runs: &[Run],
        n: usize,
    ) -> (Vec<f64>, Vec<f64>) {
        let mut num = vec![0.0; n];
        let mut den = vec![0.0; n];
        if self.is_float() || weights.is_float() {
            for run in runs {
                for row in run.start..run.end {
                    if let (Some(v), Some(w)) = (self.get(row), weights.get(row)) {
                        if w > 0.0 {
                            num[run.group] += v * w;
                            den[run.group] += w;
                        }
                    }
                }
            }
            return (num, den);
        }
        // Scaled integers, unscaled once per group at the end.
        for run in runs {
            let (mut vw, mut ww) = (0.0f64, 0.0f64);
            for row in run.start..run.end {
                if let (Some(v), Some(w)) = (self.get_scaled(row), weights.get_scaled(row)) {
                    if w > 0 {
                        vw += v as f64 * w as f64;
                        ww += w as f64;
                    }
                }
            }
            num[run.group] += vw;
            den[run.group] += ww;
        }
        let (vs, ws) = (pow10(self.scale) as f64, pow10(weights.scale) as f64);
        for (x, y) in num.iter_mut().zip(den.iter_mut()) {
            *x /= vs * ws;
            *y /= ws;
        }
        (num, den)
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

    /// Makes room for `rows` cells in all, so the column does not grow by doubling (which in
    /// wasm leaves the old buffers' memory behind for good).
    pub(crate) fn reserve(&mut self, rows: usize) {
        let more = rows.saturating_sub(self.len());
        match &mut self.data {
            Ints::U8(v) => v.reserve(more),
            Ints::U16(v) => v.reserve(more),
            Ints::U32(v) => v.reserve(more),
            Ints::I64(v) => v.reserve(more),
            Ints::F64(v) => v.reserve(more),
        }
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
        c.accumulate_runs(&runs, &mut acc, Some(&mut counts));
        assert_eq!(c.sum_value(&acc, 0), 1.0);
        assert_eq!(c.sum_value(&acc, 1), 2.0);
        assert_eq!(counts, vec![1, 1]);
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
