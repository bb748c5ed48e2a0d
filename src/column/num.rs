//! Numeric columns: numbers stored as integers scaled by `10^scale`, in the narrowest width that
//! holds them (most cells of an export fit in a byte), widened, rescaled or turned into floats as
//! cells need; and written back as the shortest exact decimal.

use std::collections::TryReserveError;

use super::chunked::Chunked;
use super::packed::Cells;
use crate::number::{pow10, Num, MAX_SCALE};

/// Numbers as integers scaled by `10^scale`, in the narrowest width that holds them; each width's
/// largest value (or `i64::MIN`, or NaN) marks an empty cell. The unsigned widths are packed a
/// chunk at a time as they fill (see [`Cells`]).
#[derive(Clone, Debug)]
pub(crate) enum Ints {
    U8(Cells<u8>),
    U16(Cells<u16>),
    U32(Cells<u32>),
    I64(Chunked<i64>),
    F64(Chunked<f64>),
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
            data: Ints::U8(Cells::new()),
        }
    }

    /// An empty column of the same scale, of floats if this one is: the same column, going on
    /// after its cells were taken away.
    pub(crate) fn emptied(&self) -> NumColumn {
        NumColumn::of_scale(self.scale, self.is_float())
    }

    /// An empty column of numbers scaled by `10^scale`, or of floats.
    pub(crate) fn of_scale(scale: u8, float: bool) -> NumColumn {
        NumColumn {
            scale,
            data: if float {
                Ints::F64(Chunked::new())
            } else {
                Ints::U8(Cells::new())
            },
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
    pub(super) fn get_scaled(&self, row: usize) -> Option<i64> {
        match &self.data {
            Ints::U8(v) => Some(v.get(row)).filter(|&x| x != u8::MAX).map(i64::from),
            Ints::U16(v) => Some(v.get(row)).filter(|&x| x != u16::MAX).map(i64::from),
            Ints::U32(v) => Some(v.get(row)).filter(|&x| x != u32::MAX).map(i64::from),
            Ints::I64(v) => Some(v.get(row)).filter(|&x| x != i64::MIN),
            Ints::F64(v) => Some(v.get(row)).filter(|x| !x.is_nan()).map(|x| x as i64),
        }
    }

    /// The value of a row as a whole number: `None` when empty, `Some(Err(()))` when it has a
    /// fraction (or is past the range of `i64`).
    #[cfg(not(target_arch = "wasm32"))]
    #[inline]
    pub(crate) fn get_whole(&self, row: usize) -> Option<Result<i64, ()>> {
        if let Ints::F64(v) = &self.data {
            let x = v.get(row);
            // 2^63 is exact as a float; every whole float below it in size fits.
            let fits = x.fract() == 0.0 && x.abs() < 9_223_372_036_854_775_808.0;
            return (!x.is_nan()).then_some(if fits { Ok(x as i64) } else { Err(()) });
        }
        let unit = pow10(self.scale);
        self.get_scaled(row)
            .map(|x| if x % unit == 0 { Ok(x / unit) } else { Err(()) })
    }

    /// The value of a row, or `None` when empty.
    #[inline]
    pub(crate) fn get(&self, row: usize) -> Option<f64> {
        match &self.data {
            Ints::F64(v) => Some(v.get(row)).filter(|x| !x.is_nan()),
            _ => self
                .get_scaled(row)
                .map(|x| x as f64 / pow10(self.scale) as f64),
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

    pub(super) fn push_null(&mut self) {
        match &mut self.data {
            Ints::U8(v) => v.push(u8::MAX),
            Ints::U16(v) => v.push(u16::MAX),
            Ints::U32(v) => v.push(u32::MAX),
            Ints::I64(v) => v.push(i64::MIN),
            Ints::F64(v) => v.push(f64::NAN),
        }
    }

    pub(super) fn push_scaled(&mut self, x: i64) {
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
        if matches!(self.data, Ints::I64(_) | Ints::F64(_)) {
            self.make_floats();
            return;
        }
        // Sealed chunks stay as they are (they hold values, not widths); the plain cells are
        // widened.
        self.data = match std::mem::replace(&mut self.data, Ints::U8(Cells::new())) {
            Ints::U8(v) => Ints::U16(v.into_map(|x| match x {
                u8::MAX => u16::MAX,
                x => u16::from(x),
            })),
            Ints::U16(v) => Ints::U32(v.into_map(|x| match x {
                u16::MAX => u32::MAX,
                x => u32::from(x),
            })),
            // Packed chunks are read a cell at a time into the wider ones.
            Ints::U32(v) => Ints::I64(
                v.iter()
                    .map(|x| match x {
                        u32::MAX => i64::MIN,
                        x => i64::from(x),
                    })
                    .collect(),
            ),
            wide => wide,
        };
    }

    /// Raises the scale (more decimal places), re-encoding every value; false when that overflows,
    /// in which case the column has become floats.
    fn rescale(&mut self, scale: u8) -> bool {
        let factor = pow10(scale - self.scale);
        let scaled = |x: i64| x.checked_mul(factor).filter(|&x| x != i64::MIN);
        let fits = (0..self.len()).all(|i| self.get_scaled(i).is_none_or(|x| scaled(x).is_some()));
        if !fits {
            self.make_floats();
            return false;
        }
        // The column again at the new scale: memory holds this column twice, not the table.
        let mut out = NumColumn::of_scale(scale, false);
        for i in 0..self.len() {
            match self.get_scaled(i).and_then(scaled) {
                Some(x) => out.push_scaled(x),
                None => out.push_null(),
            }
        }
        *self = out;
        true
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

    /// Whether values are floats (sums then live in `float_sums`).
    pub(crate) fn is_float(&self) -> bool {
        matches!(self.data, Ints::F64(_))
    }

    /// The cell as the export would write it: the shortest exact decimal, or empty.
    pub(crate) fn format(&self, row: usize, out: &mut String) {
        use std::fmt::Write;
        if let Ints::F64(v) = &self.data {
            if !v.get(row).is_nan() {
                let _ = write!(out, "{}", v.get(row));
            }
            return;
        }
        let Some(x) = self.get_scaled(row) else {
            return;
        };
        format_scaled(x, self.scale, out);
    }

    /// The width the cells are stored in, and their scale.
    pub(crate) fn storage(&self) -> String {
        let (width, packed) = match &self.data {
            Ints::U8(v) => ("u8", v.packing()),
            Ints::U16(v) => ("u16", v.packing()),
            Ints::U32(v) => ("u32", v.packing()),
            Ints::I64(_) => ("i64", String::new()),
            Ints::F64(_) => ("f64", String::new()),
        };
        format!("{width}, scale {}{packed}", self.scale)
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        match &self.data {
            Ints::U8(v) => v.heap_bytes(),
            Ints::U16(v) => v.heap_bytes(),
            Ints::U32(v) => v.heap_bytes(),
            Ints::I64(v) => v.heap_bytes(),
            Ints::F64(v) => v.heap_bytes(),
        }
    }

    /// Makes room for `more` cells after the last, by the vector's usual growth, or fails
    /// without allocating when the memory is not there.
    pub(crate) fn try_grow(&mut self, more: usize) -> Result<(), TryReserveError> {
        match &mut self.data {
            Ints::U8(v) => v.try_grow(more),
            Ints::U16(v) => v.try_grow(more),
            Ints::U32(v) => v.try_grow(more),
            Ints::I64(v) => v.try_grow(more),
            Ints::F64(v) => v.try_grow(more),
        }
    }

    /// Bytes the cells stored take (not the spare capacity).
    pub(crate) fn used_bytes(&self) -> usize {
        match &self.data {
            Ints::U8(v) => v.used_bytes(),
            Ints::U16(v) => v.used_bytes(),
            Ints::U32(v) => v.used_bytes(),
            Ints::I64(v) => v.used_bytes(),
            Ints::F64(v) => v.used_bytes(),
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

// proptest does not build for wasm32, where `cargo clippy --all-targets` also looks.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::column::chunked::CHUNK;
    use crate::number::parse_num;
    use proptest::prelude::*;

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

    /// A run of `n` cells of one kind, written as an export writes them (no trailing zeros).
    fn run(kind: u8, n: usize, seed: u64) -> Vec<String> {
        let mut x = seed | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let y = x >> 11;
                match kind {
                    0 => "0".to_string(),
                    1 => (y % 4).to_string(),
                    2 => (y % 300).to_string(),
                    3 => (y % 70_000).to_string(),
                    4 => (y % 5_000_000_000).to_string(),
                    5 => String::new(),
                    6 => format!("{}.{}5", y % 50, y % 10),
                    7 => format!("-{}", y % 1000 + 1),
                    _ => ["3", "", "254"][(y % 3) as usize].to_string(),
                }
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        /// Columns of runs of every kind of cell (zeros, small and wide counts, decimals,
        /// negatives, empty cells), each run long enough to fill chunks, so that chunks are
        /// sealed in one width and the column then widens, rescales or turns signed mid-way:
        /// every cell reads and writes back as written, and every cell is summed once.
        #[test]
        fn packed_columns_keep_every_cell_through_width_changes(
            runs in prop::collection::vec((0u8..9, 1usize..CHUNK + 2000, any::<u64>()), 1..4),
        ) {
            let cells: Vec<String> = runs.iter().flat_map(|&(k, n, seed)| run(k, n, seed)).collect();
            let c = column(&cells.iter().map(String::as_str).collect::<Vec<_>>());
            prop_assert_eq!(c.len(), cells.len());
            let back = formatted(&c);
            for (row, (cell, back)) in cells.iter().zip(&back).enumerate() {
                prop_assert_eq!(cell, back, "row {}", row);
                prop_assert_eq!(c.get(row), parse_num(cell).map(Num::to_f64), "row {}", row);
            }
            // One group of every row, as one run and as ids: the sum of the cells.
            let rows = c.len();
            let expected: i128 = cells
                .iter()
                .filter_map(|cell| parse_num(cell))
                .map(|n| match n {
                    Num::Dec { mantissa, scale } => i128::from(mantissa) * i128::from(pow10(c.scale - scale)),
                    Num::Float(_) => unreachable!(),
                })
                .sum();
            let count = cells.iter().filter(|cell| !cell.is_empty()).count() as u32;
            let ids = vec![0u32; rows];
            let whole = [crate::column::Run { start: 0, end: rows, group: 0 }];
            for layout in [crate::column::Layout::Runs(&whole), crate::column::Layout::Ids(&ids)] {
                let mut acc = c.accumulator(1);
                let mut counts = vec![0u32; 1];
                c.accumulate(layout, &mut acc, Some(&mut counts));
                prop_assert_eq!(counts[0], count);
                match acc {
                    crate::column::Acc::Int(s) => prop_assert_eq!(i128::from(s[0]), expected),
                    crate::column::Acc::Float(_) => prop_assert!(false, "integers summed as floats"),
                }
            }
        }
    }
}
