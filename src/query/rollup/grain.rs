//! Distinct counts counted ahead, per time grain (the whole range, days, weeks, months).
//!
//! The user-days answer any filter's distinct counts, but by a pass over every user-day: at
//! 2.3×10^7 rows, 1.1×10^7 of them for each grouping a view asks. A user counts in a period
//! under a filter when one of the slices of their rows in that period is kept: when the *union*
//! of their slices over the period meets the filter. So, per period and set of slices, how many
//! users had exactly that union over the period (and how many user-days had exactly that set)
//! answers the distinct users, active users, user-days and active user-days of every period at
//! once, for any filter on slices, with one step per entry. On the generated one-year export of
//! 80 000 users, a week's entries are 7.8×10^5 against 1.1×10^7 user-days, and the whole range's
//! 5×10^4.
//!
//! A grain answers a grouping without client or language parts and without a condition on users
//! when the filter and the grouping put each of its periods whole in one group or none, and no
//! two periods in one group: a grouping by week under a filter without dates or with whole weeks,
//! the totals of one whole month. Only exports whose rows all have a date have grains (a row
//! without one would need a period of its own), and a grain is kept only when it has at most a
//! quarter as many entries as there are user-days ([`GRAIN_RATIO`]): on a small export a pass
//! over the user-days costs about what the entries would.

use crate::column::{try_filled, FxHashMap};
use crate::date::{month_number, week_start};

use super::{try_collect, try_push, try_shrink, Rollup, NONE};

/// A grain is kept when it has at most this many times fewer entries than there are user-days.
pub(super) const GRAIN_RATIO: usize = 4;

/// A time grain: the periods distinct counts are counted in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Period {
    All,
    Day,
    Week,
    Month,
}

impl Period {
    /// The period of day index `i` of a grid starting on day `base`, counted from the grid's
    /// first (as a grouping's time buckets are).
    pub(super) fn of(self, base: i32, i: u32) -> u32 {
        let d = base + i as i32;
        match self {
            Period::All => 0,
            Period::Day => i,
            Period::Week => ((week_start(d) - week_start(base)) / 7) as u32,
            Period::Month => (month_number(d) - month_number(base)) as u32,
        }
    }
}

/// Entries of (period, set of slices, how many).
#[derive(Debug, Default)]
struct Tally {
    period: Vec<u32>,
    set: Vec<u32>,
    count: Vec<u32>,
}

impl Tally {
    /// The tally of `len` items, item `i` adding `weight(i)` to (`period(i)`, `set(i)`), with
    /// periods below `periods` and sets below `sets`; `None` when the memory is not there. A
    /// counting sort by period, then each period's sets counted in a dense table: no hashing.
    fn of(
        len: usize,
        (periods, sets): (usize, usize),
        period: impl Fn(usize) -> u32,
        set: impl Fn(usize) -> u32,
        weight: impl Fn(usize) -> u32,
    ) -> Option<Tally> {
        let mut starts: Vec<u32> = try_filled(periods + 1, 0)?;
        for i in 0..len {
            starts[period(i) as usize + 1] += 1;
        }
        for p in 0..periods {
            starts[p + 1] += starts[p];
        }
        let mut next = try_collect(starts[..periods].iter().copied())?;
        let mut order: Vec<u32> = try_filled(len, 0)?;
        for i in 0..len {
            let at = &mut next[period(i) as usize];
            order[*at as usize] = i as u32;
            *at += 1;
        }
        drop(next);
        let mut count: Vec<u32> = try_filled(sets, 0)?;
        let mut seen: Vec<u32> = Vec::new();
        // How many entries there are, first, so that the tally takes just their memory.
        let mut entries = 0;
        for p in 0..periods {
            for &i in &order[starts[p] as usize..starts[p + 1] as usize] {
                let s = set(i as usize) as usize;
                if count[s] == 0 {
                    entries += 1;
                    count[s] = 1;
                    try_push(&mut seen, s as u32)?;
                }
            }
            for &s in &seen {
                count[s as usize] = 0;
            }
            seen.clear();
        }
        let mut tally = Tally::default();
        tally.period.try_reserve_exact(entries).ok()?;
        tally.set.try_reserve_exact(entries).ok()?;
        tally.count.try_reserve_exact(entries).ok()?;
        for p in 0..periods {
            for &i in &order[starts[p] as usize..starts[p + 1] as usize] {
                let s = set(i as usize);
                if count[s as usize] == 0 {
                    try_push(&mut seen, s)?;
                }
                count[s as usize] += weight(i as usize);
            }
            for &s in &seen {
                try_push(&mut tally.period, p as u32)?;
                try_push(&mut tally.set, s)?;
                try_push(&mut tally.count, std::mem::take(&mut count[s as usize]))?;
            }
            seen.clear();
        }
        Some(tally)
    }

    fn len(&self) -> usize {
        self.count.len()
    }

    fn shrink(&mut self) -> Option<()> {
        try_shrink(&mut self.period)?;
        try_shrink(&mut self.set)?;
        try_shrink(&mut self.count)
    }

    fn heap_bytes(&self) -> usize {
        (self.period.capacity() + self.set.capacity() + self.count.capacity()) * 4
    }

    /// Per group, the counts of the entries whose set the filter keeps (`bits & 1`) and keeps
    /// active (`bits & 2`): `group` gives each period's group.
    fn count_into(&self, group: &[u32], set_bits: &[u8], kept: &mut [u64], active: &mut [u64]) {
        for i in 0..self.len() {
            let g = group[self.period[i] as usize];
            if g == NONE {
                continue;
            }
            let bits = set_bits[self.set[i] as usize];
            let c = u64::from(self.count[i]);
            kept[g as usize] += c * u64::from(bits & 1);
            active[g as usize] += c * u64::from(bits >> 1 & 1);
        }
    }
}

/// One grain's counts (see the module's description).
#[derive(Debug)]
pub(super) struct Grain {
    pub(super) period: Period,
    /// Per day index of the grid: its period (found once, when the grain is counted).
    of: Vec<u32>,
    /// Users per period and the union of their slices in it.
    users: Tally,
    /// User-days per period and their set of slices (`None` for days: the users' entries).
    days: Option<Tally>,
}

impl Grain {
    /// Its entries, of users and of user-days.
    pub(super) fn entries(&self) -> usize {
        self.users.len() + self.days.as_ref().map_or(0, Tally::len)
    }

    /// Gives back the room its vectors grew into; `None` when the memory is not there.
    pub(super) fn shrink(&mut self) -> Option<()> {
        try_shrink(&mut self.of)?;
        self.users.shrink()?;
        match &mut self.days {
            Some(days) => days.shrink(),
            None => Some(()),
        }
    }

    pub(super) fn heap_bytes(&self) -> usize {
        self.of.capacity() * 4
            + self.users.heap_bytes()
            + self.days.as_ref().map_or(0, Tally::heap_bytes)
    }

    /// Distinct users, active users, user-days (with `daily`) and active user-days per group,
    /// when `day_group` (per day index of the grid: its group, `NONE` for none) puts each period's
    /// days in one group or none, and no two periods in one group (a user active in both would
    /// count twice); else `None`, and `out` is left alone. So a grouping by week is answered by
    /// the weeks' counts, and the totals of one whole month by the months'.
    pub(super) fn counts(
        &self,
        day_group: &[u32],
        set_bits: &[u8],
        daily: bool,
        out: &mut super::DistinctCounts,
    ) -> Option<()> {
        // Per period: its group (`None` until a day of it is seen); per group, its period.
        let periods = self.of.last().map_or(0, |&p| p as usize + 1);
        let mut group: Vec<Option<u32>> = vec![None; periods];
        let mut group_period = vec![NONE; out.users.len()];
        for (&p, &g) in self.of.iter().zip(day_group) {
            match group[p as usize] {
                None => group[p as usize] = Some(g),
                Some(was) if was != g => return None,
                Some(_) => {}
            }
            if g != NONE {
                match group_period[g as usize] {
                    NONE => group_period[g as usize] = p,
                    q if q != p => return None,
                    _ => {}
                }
            }
        }
        let group: Vec<u32> = group.into_iter().map(|g| g.unwrap_or(NONE)).collect();
        self.users
            .count_into(&group, set_bits, &mut out.users, &mut out.active_users);
        if daily {
            self.days.as_ref().unwrap_or(&self.users).count_into(
                &group,
                set_bits,
                &mut out.user_days,
                &mut out.active_user_days,
            );
        }
        Some(())
    }
}

/// With at most 128 slices, each set of slices as a bit mask, and each mask's set: a union of
/// sets is an OR of masks and one lookup, where a list of slices would be sorted and hashed.
struct Masks {
    of_set: Vec<u128>,
    set_of: FxHashMap<u128, u32>,
}

impl Masks {
    /// `None` inside when the slices are too many for a mask; `None` when memory is short.
    fn of(r: &Rollup) -> Option<Option<Masks>> {
        if r.slice_client.len() > 128 {
            return Some(None);
        }
        let sets = r.set_start.len() - 1;
        let mut masks = Masks {
            of_set: Vec::new(),
            set_of: FxHashMap::default(),
        };
        masks.of_set.try_reserve_exact(sets).ok()?;
        masks.set_of.try_reserve(sets).ok()?;
        for k in 0..sets {
            let mask = r.set_members(k).iter().fold(0u128, |m, &s| m | 1 << s);
            masks.of_set.push(mask);
            masks.set_of.insert(mask, k as u32);
        }
        Some(Some(masks))
    }
}

impl Rollup {
    /// The set of the union of the slices of user-days `days`, interned (a new set when none has
    /// them yet); `None` when memory is short.
    fn union(
        &mut self,
        days: std::ops::Range<usize>,
        sets: &mut FxHashMap<Vec<u32>, u32>,
        masks: &mut Option<Masks>,
        union: &mut Vec<u32>,
    ) -> Option<u32> {
        union.clear();
        let Some(masks) = masks else {
            for s in self.set_of.range(days) {
                let members = self.set_members(s as usize);
                union.try_reserve(members.len()).ok()?;
                union.extend_from_slice(members);
            }
            return self.intern(sets, union);
        };
        let mask = self
            .set_of
            .range(days)
            .fold(0u128, |m, s| m | masks.of_set[s as usize]);
        if let Some(&set) = masks.set_of.get(&mask) {
            return Some(set);
        }
        // A new set: its slices in order are the mask's bits.
        union.try_reserve(mask.count_ones() as usize).ok()?;
        union.extend((0..128u32).filter(|&s| mask >> s & 1 != 0));
        let set = self.intern(sets, union)?;
        // Every set has its mask, so this one is new: the next id.
        debug_assert_eq!(set as usize, masks.of_set.len());
        try_push(&mut masks.of_set, mask)?;
        masks.set_of.try_reserve(1).ok()?;
        masks.set_of.insert(mask, set);
        Some(set)
    }

    /// Counts the grains worth keeping (every grain with `every`), interning the unions of
    /// slices among the sets; `None` when the memory is not there. Only for exports whose
    /// user-days all have a date.
    pub(super) fn count_grains(
        &mut self,
        sets: &mut FxHashMap<Vec<u32>, u32>,
        every: bool,
    ) -> Option<Vec<Grain>> {
        let user_days = self.day_of.len();
        let worth = |entries: usize| every || entries.saturating_mul(GRAIN_RATIO) <= user_days;
        let (base, grid) = (self.grid.base, self.grid.days as u32);
        let set_count = |r: &Rollup| r.set_start.len() - 1;
        // User-days per day and set: the days' grain, and what the others' user-days add up.
        let by_day = Tally::of(
            user_days,
            (grid as usize, set_count(self)),
            |k| u32::from(self.day_of[k]),
            |k| self.set_of.get(k),
            |_| 1,
        )?;
        let mut grains = Vec::new();
        let mut union = Vec::new();
        let mut masks = Masks::of(self)?;
        for period in [Period::Week, Period::Month, Period::All] {
            let of: Vec<u32> = try_collect((0..grid).map(|i| period.of(base, i)))?;
            let periods = of.last().map_or(0, |&p| p as usize + 1);
            let days = Tally::of(
                by_day.len(),
                (periods, set_count(self)),
                |i| of[by_day.period[i] as usize],
                |i| by_day.set[i],
                |i| by_day.count[i],
            )?;
            if !worth(days.len()) {
                continue;
            }
            // Per user and period: the period, and the union of the user's slices over it.
            let (mut user_period, mut user_set) = (Vec::new(), Vec::new());
            for u in 0..self.user_rep.len() {
                let end = self.user_days[u + 1] as usize;
                let mut k = self.user_days[u] as usize;
                while k < end {
                    let p = of[usize::from(self.day_of[k])];
                    let mut next = k + 1;
                    while next < end && of[usize::from(self.day_of[next])] == p {
                        next += 1;
                    }
                    let first = self.set_of.get(k);
                    let set = if self.set_of.range(k..next).all(|s| s == first) {
                        first
                    } else {
                        self.union(k..next, sets, &mut masks, &mut union)?
                    };
                    try_push(&mut user_period, p)?;
                    try_push(&mut user_set, set)?;
                    k = next;
                }
            }
            let users = Tally::of(
                user_period.len(),
                (periods, set_count(self)),
                |i| user_period[i],
                |i| user_set[i],
                |_| 1,
            )?;
            if worth(users.len() + days.len()) {
                try_push(
                    &mut grains,
                    Grain {
                        period,
                        of,
                        users,
                        days: Some(days),
                    },
                )?;
            }
        }
        if worth(by_day.len()) {
            try_push(
                &mut grains,
                Grain {
                    period: Period::Day,
                    of: try_collect(0..grid)?,
                    users: by_day,
                    days: None,
                },
            )?;
        }
        Some(grains)
    }
}
