//! Distinct counts: users and active users per group, and (day grain) the distinct user-days and
//! active user-days behind `avgDaysActivePerUser` and `avgDau`, in one pass over the kept rows.

use crate::column::FxHashMap;
use crate::table::{Data, Table};

use super::group::{Days, Grouping};
use super::spec::Key;

/// A set of pairs of small integers: a bitmap when the product is small, else a hash set; or,
/// when the pairs arrive ordered, only the last `b` seen for each `a`. Sizes are computed in
/// `u64` and checked, so no input can wrap them on a 32-bit target.
enum PairSet {
    /// Nothing is asked of this set.
    Off,
    Bits {
        bits: Vec<u64>,
        width: u64,
    },
    Hash(FxHashMap<(u64, u64), ()>),
    /// `last[a]` is 1 + the last `b` added with `a`: enough when, for each `a`, equal `b`s
    /// arrive one after another (users whose rows are contiguous, as exports are written).
    Last {
        last: Vec<u32>,
    },
}

impl PairSet {
    const MAX_BITS: u64 = 1 << 27;
    const MAX_LAST: u64 = 1 << 22;

    /// `ordered`: for each `a`, the pairs with equal `b` are inserted one after another.
    fn new(on: bool, height: u64, width: u64, ordered: bool) -> PairSet {
        if !on {
            return PairSet::Off;
        }
        let (h, w) = (height.max(1), width.max(1));
        if ordered && h <= Self::MAX_LAST && w < u64::from(u32::MAX) {
            return PairSet::Last {
                last: vec![0; h as usize],
            };
        }
        match h.checked_mul(w) {
            Some(n) if n <= Self::MAX_BITS => PairSet::Bits {
                bits: vec![0; n.div_ceil(64) as usize],
                width: w,
            },
            _ => PairSet::Hash(FxHashMap::default()),
        }
    }

    /// Adds `(a, b)`; true when it was not there yet (always false when the set is off).
    #[inline(always)]
    fn insert(&mut self, a: u64, b: u64) -> bool {
        match self {
            PairSet::Off => false,
            PairSet::Bits { bits, width } => {
                let i = a * *width + b;
                let (word, bit) = ((i / 64) as usize, 1u64 << (i % 64));
                let new = bits[word] & bit == 0;
                bits[word] |= bit;
                new
            }
            PairSet::Hash(set) => Self::insert_hashed(set, a, b),
            PairSet::Last { last } => {
                let stamp = b as u32 + 1;
                let slot = &mut last[a as usize];
                let new = *slot != stamp;
                *slot = stamp;
                new
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn insert_hashed(set: &mut FxHashMap<(u64, u64), ()>, a: u64, b: u64) -> bool {
        set.insert((a, b), ()).is_none()
    }
}

/// Which distinct counts to compute.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct DistinctNeeds {
    pub users: bool,
    pub active_users: bool,
    pub user_days: bool,
    pub active_user_days: bool,
}

impl DistinctNeeds {
    pub fn any(self) -> bool {
        self.users || self.active_users || self.user_days || self.active_user_days
    }
}

/// Per group: distinct users, active users, user-days and active user-days (those asked for).
#[derive(Debug, Default)]
pub(crate) struct DistinctCounts {
    pub users: Vec<u64>,
    pub active_users: Vec<u64>,
    pub user_days: Vec<u64>,
    pub active_user_days: Vec<u64>,
}

/// Counts what `needs` asks for over the grouping's runs. `daily`: the export has days and a
/// range to average over (the user-day counts stay 0 otherwise).
pub(crate) fn count(
    table: &Table,
    grouping: &Grouping,
    needs: DistinctNeeds,
    daily: bool,
) -> DistinctCounts {
    let n = grouping.len();
    let mut out = DistinctCounts {
        users: vec![0; n],
        active_users: vec![0; n],
        user_days: vec![0; n],
        active_user_days: vec![0; n],
    };
    let Some(identity) = table.identity() else {
        return out;
    };
    let active = match table.active.map(|i| &table.columns[i].data) {
        Some(Data::Bool(b)) => Some(b.as_slice()),
        _ => None,
    };
    let grid = Days::of(table);
    let dates = table.dates().filter(|_| daily);
    let (need_days, need_active_days) = (
        needs.user_days && dates.is_some(),
        needs.active_user_days && dates.is_some(),
    );
    let users = identity.values.len() as u64;
    let days = grid.days as u64;
    let keys = &grouping.keys;
    let user_key = keys.contains(&Key::User);
    let by_days = keys.iter().all(|k| k.is_time());
    let (by_user, by_date) = (table.users_contiguous, table.dates_sorted_within_users);

    let height = n as u64;
    let (mut seen, mut seen_active) = (
        PairSet::new(needs.users && !user_key, height, users, by_user),
        PairSet::new(needs.active_users && !user_key, height, users, by_user),
    );
    // The pairs that make a distinct user-day of a group: (group, day) when the user is in the
    // key; (day, user) when the day decides the group; else (group × days + day, user).
    let (day_height, day_width, ordered) = if user_key {
        (height, days, by_user && by_date)
    } else if by_days {
        (days, users, by_user)
    } else {
        (height.saturating_mul(days), users, by_user)
    };
    let (mut group_days, mut group_active) = (
        PairSet::new(need_days, day_height, day_width, ordered),
        PairSet::new(need_active_days, day_height, day_width, ordered),
    );

    let mut visit = |row: usize, g: usize, u: u64| {
        let act = active.is_none_or(|a| a[row] == 1);
        if user_key {
            out.users[g] = 1;
            out.active_users[g] |= u64::from(act);
        } else {
            out.users[g] += u64::from(seen.insert(g as u64, u));
            out.active_users[g] += u64::from(act && seen_active.insert(g as u64, u));
        }
        let Some(day) = dates.and_then(|d| grid.index(d[row])) else {
            return;
        };
        let day = day as u64;
        let (a, b) = if user_key {
            (g as u64, day)
        } else if by_days {
            (day, u)
        } else {
            (g as u64 * days + day, u)
        };
        out.user_days[g] += u64::from(group_days.insert(a, b));
        out.active_user_days[g] += u64::from(act && group_active.insert(a, b));
    };
    identity.codes.for_each_in_runs(&grouping.runs, &mut visit);
    out
}

#[cfg(test)]
mod tests {
    use super::PairSet;

    /// Run on a 32-bit target too (`cargo xtask test`): sizes there must not wrap in `usize`.
    #[test]
    fn sets_past_32_bits_of_pairs_never_wrap() {
        // 2^20 groups × 2^20 days: 2^40 pairs, past a 32-bit usize.
        let mut set = PairSet::new(true, 1 << 20, 1 << 20, false);
        assert!(matches!(set, PairSet::Hash(_)));
        assert!(set.insert((1 << 20) - 1, (1 << 20) - 1));
        assert!(!set.insert((1 << 20) - 1, (1 << 20) - 1));
        let ordered = PairSet::new(true, 1 << 23, 1 << 20, true);
        assert!(matches!(ordered, PairSet::Hash(_)));
        // Just within the bitmap's limit: its last pair is indexed in range.
        let mut bits = PairSet::new(true, 1 << 13, 1 << 14, false);
        assert!(matches!(bits, PairSet::Bits { .. }));
        assert!(bits.insert((1 << 13) - 1, (1 << 14) - 1));
        assert!(!bits.insert((1 << 13) - 1, (1 << 14) - 1));
    }
}
