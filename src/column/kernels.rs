//! The aggregation kernels: which rows add into which group ([`Layout`]), and the loops that
//! add a numeric column's cells into per-group sums, counts and weighted sums, one per cell width
//! (narrow cells in branch-free loops the compiler vectorizes).

use super::num::{Ints, NumColumn};
use super::packed::{Cell, Cells, BLOCK};
use crate::number::pow10;

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

/// Per group Σ(value × weight) and Σ weight, and what their ratio is to be divided by.
pub(crate) type WeightedSums = (Vec<f64>, Vec<f64>, f64);

/// The heap bytes of per-column weighted sums (`None` where a column has none).
pub(crate) fn weighted_heap_bytes(weighted: &[Option<WeightedSums>]) -> usize {
    weighted
        .iter()
        .flatten()
        .map(|(num, den, _)| (num.capacity() + den.capacity()) * 8)
        .sum()
}

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

/// Sums runs of unsigned cells into their groups: a branch-free inner loop the compiler
/// vectorizes, adding in lanes of `L` (`u32` for cells of at most 16 bits, over slices short
/// enough that they cannot overflow; `i64` for wider cells).
fn sum_runs<T, L>(values: &Cells<T>, runs: &[Run], sums: &mut [i64], counts: Option<&mut [u32]>)
where
    T: Cell + Into<L>,
    L: Copy + Default + std::iter::Sum + Into<i64>,
{
    // A slice is at most a chunk: 2^14 cells of 16 bits cannot overflow a `u32` lane.
    let cell = |x: T| if x != T::NULL { x.into() } else { L::default() };
    let mut counts = counts;
    for run in runs {
        let (mut sum, mut n) = (0i64, 0u32);
        // A sparse chunk (most of a counter's are) is summed from its marked cells alone.
        let (sparse, kept) = values.sum_sparse(run.start, run.end, |b| {
            sum += b.iter().map(|&x| cell(x)).sum::<L>().into();
            if counts.is_some() {
                n += b.iter().map(|&x| u32::from(x != T::NULL)).sum::<u32>();
            }
        });
        sum = sum.saturating_add(i64::try_from(sparse).unwrap_or(i64::MAX));
        n = n.saturating_add(u32::try_from(kept).unwrap_or(u32::MAX));
        sums[run.group] = sums[run.group].saturating_add(sum);
        if let Some(counts) = counts.as_deref_mut() {
            counts[run.group] += n;
        }
    }
}

/// Sums narrow unsigned cells into the group of each row. Two sets of partial sums (even and odd
/// rows) keep consecutive rows of one group from waiting on each other, and rows without a group
/// add into a spare slot instead of branching.
fn sum_ids<T: Cell>(
    values: &Cells<T>,
    ids: &[u32],
    sums: &mut [i64],
    counts: Option<&mut [u32]>,
    scratch: Scratch,
) {
    let n = sums.len();
    let null = T::NULL;
    let slot = |g: u32| (g as usize).min(n);
    let cell = |x: T| if x != null { x.into() } else { 0 };
    let Scratch {
        mut even,
        mut odd,
        mut seen,
    } = scratch;
    let counted = counts.is_some();
    values.for_slices(0, values.len(), |start, values| {
        let ids = ids.get(start..).unwrap_or(&[]);
        let pairs = ids.chunks_exact(2).zip(values.chunks_exact(2));
        let tail = ids.len().min(values.len()) & !1;
        if counted {
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
        } else {
            for (g, x) in pairs {
                even[slot(g[0])] += cell(x[0]);
                odd[slot(g[1])] += cell(x[1]);
            }
            for (&g, &x) in ids[tail..].iter().zip(&values[tail..]) {
                even[slot(g)] += cell(x);
            }
        }
    });
    if let Some(counts) = counts {
        for (c, s) in counts.iter_mut().zip(seen) {
            *c += s;
        }
    }
    for ((s, a), b) in sums.iter_mut().zip(even).zip(odd) {
        *s = s.saturating_add(a.saturating_add(b));
    }
}

/// [`sum_ids`]' partial sums, zeroed, one more than the groups: for the even rows, the odd rows and
/// (when cells are counted) the cells seen.
#[derive(Default)]
struct Scratch {
    even: Vec<i64>,
    odd: Vec<i64>,
    seen: Vec<u32>,
}

impl Scratch {
    /// For `groups` groups, or `None` when the memory is not there.
    fn try_new(groups: usize, counted: bool) -> Option<Scratch> {
        let n = groups.checked_add(1)?;
        Some(Scratch {
            even: super::try_filled(n, 0)?,
            odd: super::try_filled(n, 0)?,
            seen: if counted {
                super::try_filled(n, 0)?
            } else {
                Vec::new()
            },
        })
    }

    /// For `groups` groups; ends the process when the memory is not there, as any allocation.
    fn new(groups: usize, counted: bool) -> Scratch {
        let n = groups + 1;
        Scratch {
            even: vec![0; n],
            odd: vec![0; n],
            seen: if counted { vec![0; n] } else { Vec::new() },
        }
    }
}

/// Σ(value × weight) and Σ weight per group for cells of at most 16 bits (each width's largest
/// value marks an empty one): exact in `u64` within a run (a product is below 2^32), added as
/// floats per run.
fn weighted_narrow<V: Cell, W: Cell>(
    values: &Cells<V>,
    weights: &Cells<W>,
    layout: Layout,
    num: &mut [f64],
    den: &mut [f64],
) {
    let pair = |v: V, w: W| {
        let keep = v != V::NULL && w != W::NULL;
        let w: u64 = if keep { w.into() } else { 0 };
        (Into::<u64>::into(v) * w, w)
    };
    match layout {
        Layout::Runs(runs) => {
            for run in runs {
                let (mut vw, mut ww) = (0u64, 0u64);
                both(values, weights, run.start, run.end, |_, values, weights| {
                    for (&v, &w) in values.iter().zip(weights) {
                        let (x, y) = pair(v, w);
                        vw += x;
                        ww += y;
                    }
                });
                num[run.group] += vw as f64;
                den[run.group] += ww as f64;
            }
        }
        Layout::Ids(ids) => {
            both(
                values,
                weights,
                0,
                values.len(),
                |start, values, weights| {
                    let ids = ids.get(start..).unwrap_or(&[]);
                    for ((&g, &v), &w) in ids.iter().zip(values).zip(weights) {
                        if g != NO_GROUP {
                            let (x, y) = pair(v, w);
                            num[g as usize] += x as f64;
                            den[g as usize] += y as f64;
                        }
                    }
                },
            );
        }
    }
}

/// Calls `f(row, values, weights)` for the cells of the rows `start..end` of two columns, slice
/// by slice (their slices cover the same rows: both are sealed at the same rows).
#[inline]
fn both<V: Cell, W: Cell>(
    values: &Cells<V>,
    weights: &Cells<W>,
    start: usize,
    end: usize,
    mut f: impl FnMut(usize, &[V], &[W]),
) {
    let (mut vbuf, mut wbuf) = ([V::NULL; BLOCK], [W::NULL; BLOCK]);
    let mut row = start;
    while row < end {
        let v = values.slice_at(row, end, &mut vbuf);
        let w = weights.slice_at(row, end, &mut wbuf);
        let n = v.len().min(w.len());
        f(row, &v[..n], &w[..n]);
        row += n;
    }
}

impl NumColumn {
    /// Adds every non-empty cell of the laid-out rows into its group. Integer columns sum scaled
    /// integers (exact) into `Acc::Int`, float columns into `Acc::Float`; `counts` (when given)
    /// counts the cells added.
    pub(crate) fn accumulate(&self, layout: Layout, acc: &mut Acc, counts: Option<&mut [u32]>) {
        let scratch = match (&self.data, layout) {
            (Ints::U8(_) | Ints::U16(_) | Ints::U32(_), Layout::Ids(_)) => {
                Scratch::new(acc.len(), counts.is_some())
            }
            _ => Scratch::default(),
        };
        self.accumulate_in(layout, acc, counts, scratch);
    }

    /// [`NumColumn::accumulate`] into an integer accumulator, failing instead of ending the
    /// process when the memory is not there, and when a sum passes i64 (the sums are then
    /// partial).
    pub(crate) fn try_accumulate(
        &self,
        layout: Layout,
        acc: &mut Acc,
        counts: Option<&mut [u32]>,
    ) -> Option<()> {
        match (&self.data, layout) {
            (Ints::U8(_) | Ints::U16(_) | Ints::U32(_), _) if matches!(acc, Acc::Int(_)) => {
                let scratch = match layout {
                    Layout::Ids(_) => Scratch::try_new(acc.len(), counts.is_some())?,
                    Layout::Runs(_) => Scratch::default(),
                };
                self.accumulate_in(layout, acc, counts, scratch);
                Some(())
            }
            // Wide cells, summed cell by cell, allocate nothing.
            (Ints::I64(_), _) if matches!(acc, Acc::Int(_)) => {
                self.accumulate_wide(layout, acc, counts).then_some(())
            }
            _ => None,
        }
    }

    /// [`NumColumn::accumulate`], with [`sum_ids`]' partial sums.
    fn accumulate_in(
        &self,
        layout: Layout,
        acc: &mut Acc,
        counts: Option<&mut [u32]>,
        scratch: Scratch,
    ) {
        match (&self.data, acc, layout) {
            (Ints::U8(v), Acc::Int(s), Layout::Runs(runs)) => {
                sum_runs::<_, u32>(v, runs, s, counts)
            }
            (Ints::U16(v), Acc::Int(s), Layout::Runs(runs)) => {
                sum_runs::<_, u32>(v, runs, s, counts)
            }
            (Ints::U32(v), Acc::Int(s), Layout::Runs(runs)) => {
                sum_runs::<_, i64>(v, runs, s, counts)
            }
            (Ints::U8(v), Acc::Int(s), Layout::Ids(ids)) => sum_ids(v, ids, s, counts, scratch),
            (Ints::U16(v), Acc::Int(s), Layout::Ids(ids)) => sum_ids(v, ids, s, counts, scratch),
            (Ints::U32(v), Acc::Int(s), Layout::Ids(ids)) => sum_ids(v, ids, s, counts, scratch),
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
                Ints::I64(v) => (None, Some(v.get(row)).filter(|&x| x != i64::MIN)),
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
        self.weighted_sums_into(weights, layout, vec![0.0; n], vec![0.0; n])
    }

    /// [`NumColumn::weighted_sums`] into zeroed sums of the groups' size, allocated by the caller.
    pub(crate) fn weighted_sums_into(
        &self,
        weights: &NumColumn,
        layout: Layout,
        mut num: Vec<f64>,
        mut den: Vec<f64>,
    ) -> WeightedSums {
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
        let (n, d) = (&mut num, &mut den);
        match (&self.data, &weights.data) {
            (Ints::U8(v), Ints::U8(w)) => weighted_narrow(v, w, layout, n, d),
            (Ints::U8(v), Ints::U16(w)) => weighted_narrow(v, w, layout, n, d),
            (Ints::U16(v), Ints::U8(w)) => weighted_narrow(v, w, layout, n, d),
            (Ints::U16(v), Ints::U16(w)) => weighted_narrow(v, w, layout, n, d),
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
        // Row `r` is in group `r / 3 % 4`, except every seventh row, which no group keeps; over
        // two chunks, so that sealed (packed) chunks and the plain cells after them are read.
        let rows = 2 * super::super::chunked::CHUNK + 200;
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
}
