//! Distinct counts: users and active users per group, and (day grain) the distinct user-days and
//! active user-days behind `avgDaysActivePerUser` and `avgDau`, in one pass over the kept rows.

use crate::column::{Chunked, DayColumn, FxHashMap, Layout, TextColumn};
use crate::table::{Data, Table};

use super::days::Days;
use super::group::Grouping;
use super::spec::Key;
use super::stats::{DistinctCounts, DistinctNeeds};

/// A set of pairs of small integers.
trait PairSet {
    /// Adds `(a, b)`; true when it was not there yet.
    fn insert(&mut self, a: u64, b: u64) -> bool;
}

/// A bitmap over `a × width + b`, for small products.
struct Bits {
    bits: Vec<u64>,
    width: u64,
}

impl PairSet for Bits {
    #[inline(always)]
    fn insert(&mut self, a: u64, b: u64) -> bool {
        let i = a * self.width + b;
        let (word, bit) = ((i / 64) as usize, 1u64 << (i % 64));
        let new = self.bits[word] & bit == 0;
        self.bits[word] |= bit;
        new
    }
}

/// Any pairs, hashed.
struct Hashed(FxHashMap<(u64, u64), ()>);

impl PairSet for Hashed {
    #[inline(always)]
    fn insert(&mut self, a: u64, b: u64) -> bool {
        self.0.insert((a, b), ()).is_none()
    }
}

/// Only the last `b` seen for each `a` (as 1 + b): enough when, for each `a`, equal `b`s arrive
/// one after another (users whose rows are contiguous, as exports are written).
struct Last(Vec<u32>);

impl PairSet for Last {
    #[inline(always)]
    fn insert(&mut self, a: u64, b: u64) -> bool {
        let stamp = b as u32 + 1;
        let slot = &mut self.0[a as usize];
        let new = *slot != stamp;
        *slot = stamp;
        new
    }
}

/// How the sets of one pass are kept, chosen from their shape. Sizes are computed in `u64` and
/// checked, so no input can wrap them on a 32-bit target.
#[derive(Clone, Copy)]
enum Shape {
    Last(u64),
    Bits(u64, u64),
    Hashed,
}

impl Shape {
    const MAX_BITS: u64 = 1 << 27;
    const MAX_LAST: u64 = 1 << 22;

    /// `ordered`: for each `a`, the pairs with equal `b` arrive one after another.
    fn of(height: u64, width: u64, ordered: bool) -> Shape {
        let (h, w) = (height.max(1), width.max(1));
        if ordered && h <= Self::MAX_LAST && w < u64::from(u32::MAX) {
            return Shape::Last(h);
        }
        match h.checked_mul(w) {
            Some(n) if n <= Self::MAX_BITS => Shape::Bits(n, w),
            _ => Shape::Hashed,
        }
    }

    /// Runs `pass` with two empty sets of this shape (one loop compiled per kind of set).
    fn with_sets(self, pass: impl SetPass) {
        match self {
            Shape::Last(h) => pass.run(Last(vec![0; h as usize]), Last(vec![0; h as usize])),
            Shape::Bits(n, width) => {
                let bits = || Bits {
                    bits: vec![0; n.div_ceil(64) as usize],
                    width,
                };
                pass.run(bits(), bits())
            }
            Shape::Hashed => pass.run(Hashed(FxHashMap::default()), Hashed(FxHashMap::default())),
        }
    }
}

/// A pass over the rows with two sets (all rows, active rows).
trait SetPass {
    fn run<S: PairSet>(self, all: S, active: S);
}

/// Counts what `needs` asks for over the grouping's rows. `daily`: the export has days and a
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
        Some(Data::Bool(b)) => Some(b),
        _ => None,
    };
    let rows = Rows {
        identity,
        layout: grouping.layout(),
        active,
    };
    let users = identity.values.len() as u64;
    let keys = &grouping.keys;
    let user_key = keys.contains(&Key::User);
    let (by_user, by_date) = (table.users_contiguous, table.dates_sorted_within_users);
    let height = n as u64;

    if user_key {
        // One user per group.
        if needs.users || needs.active_users {
            rows.for_each(|_, g, _, act| {
                out.users[g] = 1;
                out.active_users[g] |= u64::from(act);
            });
        }
    } else if needs.users || needs.active_users {
        Shape::of(height, users, by_user).with_sets(UserPass {
            rows: &rows,
            needs,
            users: &mut out.users,
            active_users: &mut out.active_users,
        });
    }

    let grid = Days::of(table);
    let dates = table.dates().filter(|_| daily);
    if let (Some(dates), true) = (dates, needs.user_days || needs.active_user_days) {
        // The pairs that make a distinct user-day of a group: (group, day) when the user is in
        // the key; (day, user) when the day decides the group; else (group × days + day, user).
        let days = grid.days as u64;
        let by_days = keys.iter().all(|k| k.is_time());
        let (mode, shape) = if user_key {
            (
                DayPairs::GroupDay,
                Shape::of(height, days, by_user && by_date),
            )
        } else if by_days {
            (DayPairs::DayUser, Shape::of(days, users, by_user))
        } else {
            (
                DayPairs::GroupDayUser(days),
                Shape::of(height.saturating_mul(days), users, by_user),
            )
        };
        shape.with_sets(DayPass {
            rows: &rows,
            needs,
            dates,
            grid,
            mode,
            user_days: &mut out.user_days,
            active_user_days: &mut out.active_user_days,
        });
    }
    out
}

/// The rows of a grouping with what the passes read of them.
struct Rows<'a> {
    identity: &'a TextColumn,
    layout: Layout<'a>,
    active: Option<&'a Chunked<u8>>,
}

impl Rows<'_> {
    /// Calls `f(row, group, user, active)` for every row of the grouping.
    #[inline(always)]
    fn for_each(&self, mut f: impl FnMut(usize, usize, u64, bool)) {
        match self.active {
            Some(active) => self
                .identity
                .codes
                .for_each_in(self.layout, &mut |row, g, u| f(row, g, u, active[row] == 1)),
            None => self
                .identity
                .codes
                .for_each_in(self.layout, &mut |row, g, u| f(row, g, u, true)),
        }
    }
}

/// Distinct users and active users per group (the user not in the key).
struct UserPass<'a> {
    rows: &'a Rows<'a>,
    needs: DistinctNeeds,
    users: &'a mut [u64],
    active_users: &'a mut [u64],
}

impl SetPass for UserPass<'_> {
    fn run<S: PairSet>(self, mut all: S, mut active: S) {
        let (users, active_users) = (self.users, self.active_users);
        match (self.needs.users, self.needs.active_users) {
            (true, true) => self.rows.for_each(|_, g, u, act| {
                users[g] += u64::from(all.insert(g as u64, u));
                active_users[g] += u64::from(act && active.insert(g as u64, u));
            }),
            (true, false) => self.rows.for_each(|_, g, u, _| {
                users[g] += u64::from(all.insert(g as u64, u));
            }),
            _ => self.rows.for_each(|_, g, u, act| {
                active_users[g] += u64::from(act && active.insert(g as u64, u));
            }),
        }
    }
}

/// Which pair of numbers stands for a user-day of a group.
#[derive(Clone, Copy)]
enum DayPairs {
    /// (group, day): the user is in the key.
    GroupDay,
    /// (day, user): the day decides the group.
    DayUser,
    /// (group × days + day, user).
    GroupDayUser(u64),
}

/// Distinct user-days and active user-days per group.
struct DayPass<'a> {
    rows: &'a Rows<'a>,
    needs: DistinctNeeds,
    dates: &'a DayColumn,
    grid: Days,
    mode: DayPairs,
    user_days: &'a mut [u64],
    active_user_days: &'a mut [u64],
}

impl SetPass for DayPass<'_> {
    fn run<S: PairSet>(self, mut all: S, mut active: S) {
        let (user_days, active_user_days) = (self.user_days, self.active_user_days);
        let (dates, grid, mode) = (self.dates, self.grid, self.mode);
        let (need_all, need_active) = (self.needs.user_days, self.needs.active_user_days);
        self.rows.for_each(|row, g, u, act| {
            let Some(day) = grid.index(dates.get(row)) else {
                return;
            };
            let day = day as u64;
            let (a, b) = match mode {
                DayPairs::GroupDay => (g as u64, day),
                DayPairs::DayUser => (day, u),
                DayPairs::GroupDayUser(days) => (g as u64 * days + day, u),
            };
            if need_all {
                user_days[g] += u64::from(all.insert(a, b));
            }
            if need_active {
                active_user_days[g] += u64::from(act && active.insert(a, b));
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::{PairSet, Shape};

    /// Run on a 32-bit target too (`cargo xtask test`): sizes there must not wrap in `usize`.
    #[test]
    fn sets_past_32_bits_of_pairs_never_wrap() {
        // 2^20 groups × 2^20 days: 2^40 pairs, past a 32-bit usize.
        assert!(matches!(Shape::of(1 << 20, 1 << 20, false), Shape::Hashed));
        assert!(matches!(Shape::of(1 << 23, 1 << 20, true), Shape::Hashed));
        // Just within the bitmap's limit: its last pair is indexed in range.
        let Shape::Bits(n, width) = Shape::of(1 << 13, 1 << 14, false) else {
            panic!("expected a bitmap");
        };
        let mut bits = super::Bits {
            bits: vec![0; n.div_ceil(64) as usize],
            width,
        };
        assert!(bits.insert((1 << 13) - 1, (1 << 14) - 1));
        assert!(!bits.insert((1 << 13) - 1, (1 << 14) - 1));
        let mut hashed = super::Hashed(Default::default());
        assert!(hashed.insert((1 << 20) - 1, (1 << 20) - 1));
        assert!(!hashed.insert((1 << 20) - 1, (1 << 20) - 1));
    }
}
