//! Aggregation: a [`Stats`] filled over a grouping: over its runs or ids by the column kernels, or
//! from the roll-ups when they answer the grouping.

use crate::table::{Data, Measure, Table};

use super::distinct;
use super::group::Grouping;
use super::stats::{Needs, Stats};

impl Stats {
    /// Fills what `needs` asks for over the grouping.
    pub fn compute(
        table: &Table,
        grouping: &Grouping,
        needs: &Needs,
        range: Option<(i32, i32)>,
    ) -> Stats {
        let mut stats = match &grouping.rolled {
            Some(rolled) => rolled.stats(table, &grouping.sizes, needs, range),
            None => over_rows(table, grouping, needs, range),
        };
        if let (Some(range), Some(_)) = (range, table.dates()) {
            stats.days_in_range = Some(grouping.days_in_range(table, range));
        }
        stats
    }
}

/// What `needs` asks (but the days in range) over the grouping's runs or ids.
fn over_rows(
    table: &Table,
    grouping: &Grouping,
    needs: &Needs,
    range: Option<(i32, i32)>,
) -> Stats {
    let n = grouping.len();
    let mut stats = Stats::empty(grouping.sizes.clone(), table.columns.len());
    let layout = grouping.layout();
    let num = |i: usize| match &table.columns[i].data {
        Data::Num(values) => Some(values),
        _ => None,
    };
    for &i in &needs.sums {
        let Some(values) = num(i) else { continue };
        // By user under a range: from the users' months, unless a column's cells are counted.
        let months = grouping
            .months
            .as_ref()
            .filter(|_| !needs.counts.contains(&i));
        if let Some(acc) = months.and_then(|m| m.sums(table, i, n)) {
            stats.sums[i] = Some(acc);
            continue;
        }
        let mut acc = values.accumulator(n);
        let mut counts = needs.counts.contains(&i).then(|| vec![0u32; n]);
        values.accumulate(layout, &mut acc, counts.as_deref_mut());
        stats.sums[i] = Some(acc);
        stats.counts[i] = counts;
    }
    for &i in &needs.weighted {
        let (Some(values), Some(Measure::WeightedMean { weight })) =
            (num(i), table.columns[i].measure)
        else {
            continue;
        };
        if let Some(weights) = num(weight) {
            stats.weighted[i] = Some(values.weighted_sums(weights, layout, n));
        }
    }
    if needs.distinct.any() {
        stats.distinct = distinct::count(table, grouping, needs.distinct, range.is_some());
    }
    stats
}
