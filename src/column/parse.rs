//! Reading numeric cells into a [`NumColumn`]: the short plain decimals most cells are, a block at
//! a time with one decision on the column's width, and every other cell through the full number
//! parser.

use super::num::{Ints, NumColumn};
use super::packed::{Cell, Cells};
use crate::number::{parse_num_bytes, pow10};
use crate::verbatim::{PlainShape, Verbatim};

impl NumColumn {
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
}

/// [`NumColumn::push_plain_cells`] for one width (`null`, its largest value, marks an empty cell).
#[inline(always)]
fn plain_run<'a, T: Cell + TryFrom<u64>>(
    v: &mut Cells<T>,
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
