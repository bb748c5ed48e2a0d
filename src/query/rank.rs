//! Ranking a grouping's groups: the order a query asks (by a key field or a metric, then the
//! group keys; empty values last either way), with every group's metrics computed on the way
//! when the page is a large part of the groups; and the case-insensitive ranks of texts.

use std::cmp::Ordering;
use std::rc::Rc;

use super::fields::{active_spans, KeyField, SortBy};
use super::group::Grouping;
use super::spec::{Key, Sort};
use super::stats::{Needs, Stats};
use crate::column::NULL_DAY;
use crate::date::week_start;
use crate::summary::Cell;
use crate::table::{Table, UNMAPPED};

/// The groups of a grouping in a query's order, with the metrics computed for every group on
/// the way (when they were).
pub(super) struct Ranking {
    pub(super) keys: Vec<Key>,
    pub(super) sort: Option<Sort>,
    pub(super) minutes: Vec<(usize, f64)>,
    /// Every group; the first `sorted` in the order asked (the rest after them, unordered).
    pub(super) order: Vec<u32>,
    pub(super) sorted: usize,
    /// Metrics of every group (by group id), and what they cover.
    pub(super) stats: Option<(Needs, Stats)>,
}

/// What a grouped query asks of its grouping's ranking.
pub(super) struct Asked<'a> {
    pub(super) sort: Option<&'a Sort>,
    pub(super) by: Option<&'a SortBy>,
    pub(super) minutes: &'a [(usize, f64)],
    pub(super) needs: &'a Needs,
    pub(super) limit: usize,
    /// Where the page asked for ends (its offset and limit).
    pub(super) end: usize,
    pub(super) range: Option<(i32, i32)>,
}

impl Asked<'_> {
    /// Whether the page is a large enough part of the groups that computing the metrics of every
    /// group at once (and keeping them for the next page) costs about as much as the page alone.
    pub(super) fn wants_all(&self, grouping: &Grouping) -> bool {
        self.limit.saturating_mul(4) >= grouping.len()
    }
}

/// A ranking sorts at least this many groups (or all of them).
const PAGES_SORTED: usize = 256;

/// Per text column: each dictionary entry's rank in case-insensitive order, found once.
#[derive(Default)]
pub(super) struct TextRanks(Vec<(usize, Rc<Vec<u32>>)>);

impl TextRanks {
    /// The case-insensitive rank of each entry of a text column's dictionary (equal when the
    /// texts differ only in case).
    pub(super) fn get(&mut self, table: &Table, index: usize) -> Rc<Vec<u32>> {
        if let Some((_, ranks)) = self.0.iter().find(|(i, _)| *i == index) {
            return Rc::clone(ranks);
        }
        let values = &table.text(Some(index)).map_or(&[][..], |t| &t.values[..]);
        let ranks = case_insensitive_ranks(values);
        let ranks = Rc::new(ranks);
        self.0.push((index, Rc::clone(&ranks)));
        ranks
    }

    /// Bytes held on the heap.
    pub(super) fn heap_bytes(&self) -> usize {
        self.0.iter().map(|(_, r)| r.capacity() * 4).sum()
    }
}

/// The groups of the grouping in the order asked (by the keys without a sort), with every
/// group's metrics computed on the way when the page asked for is a large part of the groups.
pub(super) fn rank(
    table: &Table,
    grouping: &Grouping,
    asked: &Asked,
    text_ranks: &mut TextRanks,
) -> Ranking {
    let ranks: Vec<Vec<Option<u64>>> = grouping
        .keys
        .iter()
        .map(|&k| key_ranks(table, grouping, KeyField::Key(k), text_ranks))
        .collect();
    let by_keys = |a: u32, b: u32| {
        ranks
            .iter()
            .map(|r| compare(r[a as usize], r[b as usize], false))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    };
    let minutes = asked.minutes;
    let mut needs = if asked.wants_all(grouping) {
        asked.needs.clone()
    } else {
        Needs::default()
    };
    if let Some(SortBy::Metric(metric, _)) = asked.by {
        needs.add(&Needs::of(table, &[*metric], minutes));
    }
    let stats =
        (needs != Needs::default()).then(|| Stats::compute(table, grouping, &needs, asked.range));
    // What orders the groups first, the group keys breaking ties. One `sort_by` for the three
    // cases: each closure would be its own copy of the standard library's sort in the wasm.
    enum First {
        Key(Vec<Option<u64>>, bool),
        Metric(Vec<Option<f64>>, bool),
        Keys,
    }
    let first = match (asked.by, &stats) {
        (Some(SortBy::Key(field, desc)), _) => {
            First::Key(key_ranks(table, grouping, *field, text_ranks), *desc)
        }
        (Some(SortBy::Metric(metric, desc)), Some(stats)) => First::Metric(
            (0..grouping.len())
                .map(|g| stats.value(table, *metric, g, minutes).as_f64())
                .collect(),
            *desc,
        ),
        _ => First::Keys,
    };
    let cmp = |&a: &u32, &b: &u32| {
        let (i, j) = (a as usize, b as usize);
        match &first {
            First::Key(r, desc) => compare(r[i], r[j], *desc),
            First::Metric(v, desc) => compare_f64(v[i], v[j], *desc),
            First::Keys => Ordering::Equal,
        }
        .then_with(|| by_keys(a, b))
        // Keys equal but for case: the group first seen first, as a stable sort leaves them.
        .then(a.cmp(&b))
    };
    let mut order: Vec<u32> = (0..grouping.len() as u32).collect();
    // A page of many groups (the top users of tens of thousands) sorts only the groups up to a
    // few pages past it: selecting them costs one pass. The order is total (the group keys,
    // then the group's id, break every tie), so those groups come as a whole sort gives them.
    let sorted = asked
        .end
        .saturating_mul(4)
        .max(PAGES_SORTED)
        .min(order.len());
    if sorted < order.len() {
        order.select_nth_unstable_by(sorted, cmp);
    }
    order[..sorted].sort_by(cmp);
    Ranking {
        keys: grouping.keys.clone(),
        sort: asked.sort.cloned(),
        minutes: minutes.to_vec(),
        order,
        sorted,
        stats: stats.map(|s| (needs, s)),
    }
}

/// Each group's rank by one key field (`None` for an empty value, which sorts last).
fn key_ranks(
    table: &Table,
    grouping: &Grouping,
    field: KeyField,
    text_ranks: &mut TextRanks,
) -> Vec<Option<u64>> {
    let dates = table.dates();
    let day = |row: u32| dates.map_or(NULL_DAY, |d| d.get(row as usize));
    let text = |i: Option<usize>, cache: &mut TextRanks| {
        let column = table.text(i)?;
        let ranks = cache.get(table, i?);
        Some((column, ranks))
    };
    match field {
        KeyField::Key(k) if k.is_time() => grouping
            .reps
            .iter()
            .map(|&row| {
                let d = day(row);
                (d != NULL_DAY).then(|| {
                    let start = match k {
                        Key::Week => week_start(d),
                        Key::Month => crate::date::month_start(d),
                        _ => d,
                    };
                    (i64::from(start) - i64::from(i32::MIN)) as u64
                })
            })
            .collect(),
        KeyField::FirstActive | KeyField::LastActive => active_spans(table, grouping)
            .into_iter()
            .map(|span| {
                let day = span.map(|(first, last)| {
                    if field == KeyField::FirstActive {
                        first
                    } else {
                        last
                    }
                })?;
                Some((i64::from(day) - i64::from(i32::MIN)) as u64)
            })
            .collect(),
        KeyField::Key(Key::Attribute(a)) => {
            let (Some(users), Some(attributes)) = (table.identity(), &table.attributes) else {
                return vec![None; grouping.len()];
            };
            let a = usize::from(a);
            let ranks = case_insensitive_ranks(&attributes.values[a]);
            grouping
                .reps
                .iter()
                .map(|&row| {
                    let v = attributes.of_user[a][users.codes.get(row as usize) as usize];
                    (v != UNMAPPED).then(|| u64::from(ranks[v as usize]))
                })
                .collect()
        }
        KeyField::ServiceAccount | KeyField::SiteAdmin => grouping
            .reps
            .iter()
            .map(|&row| match field.cell(table, row as usize) {
                Cell::Bool(b) => Some(u64::from(b)),
                _ => None,
            })
            .collect(),
        _ => match text(field.text_column(table), text_ranks) {
            Some((column, ranks)) => grouping
                .reps
                .iter()
                .map(|&row| Some(u64::from(ranks[column.codes.get(row as usize) as usize])))
                .collect(),
            None => vec![None; grouping.len()],
        },
    }
}

/// The rank of each text in case-insensitive order (equal when the texts differ only in case).
pub(super) fn case_insensitive_ranks(values: &[String]) -> Vec<u32> {
    let folded: Vec<String> = values.iter().map(|v| v.to_lowercase()).collect();
    let mut sorted: Vec<u32> = (0..values.len() as u32).collect();
    crate::order::sort_indices(&mut sorted, &|a, b| {
        folded[a as usize].cmp(&folded[b as usize])
    });
    let mut ranks = vec![0u32; values.len()];
    let mut rank = 0u32;
    for (i, &code) in sorted.iter().enumerate() {
        if i > 0 && folded[code as usize] != folded[sorted[i - 1] as usize] {
            rank = i as u32;
        }
        ranks[code as usize] = rank;
    }
    ranks
}

/// Orders two optional sort values: empty values last, either way.
pub(super) fn compare<T: PartialOrd + Copy>(a: Option<T>, b: Option<T>, desc: bool) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => {
            let o = x.partial_cmp(&y).unwrap_or(Ordering::Equal);
            if desc {
                o.reverse()
            } else {
                o
            }
        }
    }
}

/// Orders two optional numbers: empty values last, either way; NaN ordered, not equal.
pub(super) fn compare_f64(a: Option<f64>, b: Option<f64>, desc: bool) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) => {
            let o = x.total_cmp(&y);
            if desc {
                o.reverse()
            } else {
                o
            }
        }
        _ => compare(a, b, desc),
    }
}
