//! Queries over a [`Table`]: filter, group, aggregate with the metric contract of `DESIGN.md`, sort
//! and page.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Number, Value};

use crate::column::{Acc, FxHashMap, TextColumn, NULL_DAY};
use crate::date::{
    civil_from_days, format_day, format_month, month_end, month_start, parse_day, week_start,
};
use crate::error::Error;
use crate::schema::KnownColumn;
use crate::summary::{Group, Input, Summary};
use crate::table::{Data, Measure, Table};

/// Minutes saved per use of a feature, by default: `hoursSaved` = Σ count × minutes / 60.
pub const DEFAULT_MINUTES_SAVED: &[(KnownColumn, f64)] = &[
    (KnownColumn::CompletionAcceptances, 2.0),
    (KnownColumn::AutoEditAccepted, 2.0),
    (KnownColumn::ChatEvents, 5.0),
    (KnownColumn::CommandEvents, 5.0),
    (KnownColumn::Searches, 5.0),
    (KnownColumn::CodeNavigationEvents, 1.0),
];

/// Short names accepted for the features in `minutesSaved`, beside the column names.
const FEATURE_ALIASES: &[(&str, KnownColumn)] = &[
    ("completions", KnownColumn::CompletionAcceptances),
    ("autoedits", KnownColumn::AutoEditAccepted),
    ("auto-edits", KnownColumn::AutoEditAccepted),
    ("chat", KnownColumn::ChatEvents),
    ("commands", KnownColumn::CommandEvents),
    ("searches", KnownColumn::Searches),
    ("search", KnownColumn::Searches),
    ("navigation", KnownColumn::CodeNavigationEvents),
    ("codenavigation", KnownColumn::CodeNavigationEvents),
];

/// What to summarize and how. Every field is optional in JSON (camelCase); unknown fields are an
/// error, so a typo is not silently ignored.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Query {
    /// Group keys, in order: `user`, `day`, `week`, `month`, `client`, `language`. Default: none
    /// (totals only).
    pub group_by: Vec<String>,
    /// Which rows to keep. Default: all.
    pub filter: Filter,
    /// The order of the groups. Default: by the group keys, ascending.
    pub sort: Option<Sort>,
    /// At most this many groups. Default: all.
    pub limit: Option<usize>,
    /// Skip this many groups first. Default: 0.
    pub offset: usize,
    /// Minutes saved per use of a feature, by column name (or `completions`, `autoEdits`, `chat`,
    /// `commands`, `searches`, `navigation`). Default: [`DEFAULT_MINUTES_SAVED`]; entries given
    /// here replace those defaults one by one.
    pub minutes_saved: BTreeMap<String, f64>,
}

/// Which rows to keep. Every field is optional in JSON (camelCase); all given conditions must hold.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct Filter {
    /// First day kept, `YYYY-MM-DD`, inclusive. Month rows are kept when their month overlaps.
    pub from: Option<String>,
    /// Last day kept, `YYYY-MM-DD`, inclusive.
    pub to: Option<String>,
    /// Users to keep, each matched exactly (any case) against user ID, e-mail or username.
    pub users: Vec<String>,
    /// Keep users whose ID, e-mail or username contains this text (any case).
    pub user_search: Option<String>,
    /// Clients to keep (`Client Name`, exact, any case).
    pub clients: Vec<String>,
    /// Languages to keep (`Language`, exact, any case; `""` keeps rows without one).
    pub languages: Vec<String>,
    /// Keep only rows whose `Active Sourcegraph User` is true.
    pub active_only: bool,
    /// Drop service accounts (needs a joined user registry).
    pub exclude_service_accounts: bool,
}

/// The order of the groups.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Sort {
    /// A group key (`month`, `user`, ...) or a metric (`users`, `Chat Events`, ...).
    pub by: String,
    /// Largest first. Default: false. Empty values (`null`) sort last either way.
    #[serde(default)]
    pub desc: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Key {
    User,
    Day,
    Week,
    Month,
    Client,
    Language,
}

impl Key {
    fn parse(name: &str) -> Option<Key> {
        Some(match name.trim().to_ascii_lowercase().as_str() {
            "user" => Key::User,
            "day" => Key::Day,
            "week" => Key::Week,
            "month" => Key::Month,
            "client" => Key::Client,
            "language" => Key::Language,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Key::User => "user",
            Key::Day => "day",
            Key::Week => "week",
            Key::Month => "month",
            Key::Client => "client",
            Key::Language => "language",
        }
    }

    fn is_time(self) -> bool {
        matches!(self, Key::Day | Key::Week | Key::Month)
    }
}

fn group_keys(table: &Table, names: &[String]) -> Result<Vec<Key>, Error> {
    let mut keys = Vec::new();
    for name in names {
        let key = Key::parse(name).ok_or_else(|| {
            Error::query(format!(
                "unknown group key {name:?}: expected user, day, week, month, client or language"
            ))
        })?;
        if keys.contains(&key) {
            return Err(Error::query(format!("group key {name:?} is given twice")));
        }
        let g = table.granularity;
        let missing = match key {
            Key::User => table.identity().is_none().then_some("no user column"),
            Key::Day | Key::Week if !g.has_days() => Some("no daily dates"),
            Key::Month if table.date.is_none() => Some("no dates"),
            Key::Client if table.client.is_none() => Some("no Client Name column"),
            Key::Language if table.language.is_none() => Some("no Language column"),
            _ => None,
        };
        if let Some(missing) = missing {
            let finer = match key {
                Key::Client | Key::Language => "by_user_day_client_language",
                Key::Day | Key::Week => "by_user_day or by_user_day_client_language",
                _ => "a finer granularity",
            };
            return Err(Error::query(format!(
                "cannot group by {}: this {g} export has {missing}; fetch the export with \
                 granularity {finer} to group by {}",
                key.name(),
                key.name()
            )));
        }
        keys.push(key);
    }
    Ok(keys)
}

/// A filter resolved against a table: per-dictionary-entry answers, so each row costs lookups.
struct CompiledFilter<'a> {
    from: Option<i32>,
    to: Option<i32>,
    /// With a date filter: the first day of the data and whether each day since is kept.
    days: Option<(i32, Vec<bool>)>,
    dates: Option<&'a [i32]>,
    users: Vec<(&'a TextColumn, Vec<bool>)>,
    clients: Option<(&'a TextColumn, Vec<bool>)>,
    languages: Option<(&'a TextColumn, Vec<bool>)>,
    active: Option<&'a [u8]>,
    service: Option<(&'a TextColumn, &'a [u8])>,
}

fn parse_filter_day(field: &str, value: &Option<String>) -> Result<Option<i32>, Error> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => parse_day(s).map(Some).ok_or_else(|| {
            Error::query(format!(
                "filter.{field}: expected a date as YYYY-MM-DD, found {s:?}"
            ))
        }),
    }
}

fn matches_list(column: &TextColumn, wanted: &[String]) -> Vec<bool> {
    let wanted: Vec<String> = wanted.iter().map(|w| w.trim().to_lowercase()).collect();
    column
        .values
        .iter()
        .map(|v| wanted.contains(&v.to_lowercase()))
        .collect()
}

impl<'a> CompiledFilter<'a> {
    fn new(table: &'a Table, filter: &Filter) -> Result<CompiledFilter<'a>, Error> {
        let from = parse_filter_day("from", &filter.from)?;
        let to = parse_filter_day("to", &filter.to)?;
        if let (Some(f), Some(t)) = (from, to) {
            if f > t {
                return Err(Error::query(format!(
                    "filter.from ({}) is after filter.to ({})",
                    format_day(f),
                    format_day(t)
                )));
            }
        }
        if (from.is_some() || to.is_some()) && table.date.is_none() {
            return Err(Error::query(format!(
                "cannot filter by date: this {} export has no dates",
                table.granularity
            )));
        }
        let month_rows = !table.granularity.has_days();
        let days = match (table.first_date, table.last_date) {
            (Some(first), Some(last)) if from.is_some() || to.is_some() => {
                let kept = (first..=last)
                    .map(|d| {
                        let (lo, hi) = if month_rows {
                            (month_start(d), month_end(d))
                        } else {
                            (d, d)
                        };
                        !(from.is_some_and(|f| hi < f) || to.is_some_and(|t| lo > t))
                    })
                    .collect();
                Some((first, kept))
            }
            _ => None,
        };
        let user_columns: Vec<&TextColumn> = [table.user_id, table.email, table.username]
            .into_iter()
            .filter_map(|i| table.text(i))
            .collect();
        let search = filter
            .user_search
            .as_deref()
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty());
        let mut users = Vec::new();
        if !filter.users.is_empty() || search.is_some() {
            if user_columns.is_empty() {
                return Err(Error::query(
                    "cannot filter by user: the export has no user ID, e-mail or username column",
                ));
            }
            for column in user_columns {
                let mut hits = matches_list(column, &filter.users);
                if let Some(search) = &search {
                    for (hit, value) in hits.iter_mut().zip(&column.values) {
                        *hit |= value.to_lowercase().contains(search.as_str());
                    }
                }
                users.push((column, hits));
            }
        }
        let list = |index: Option<usize>, wanted: &[String], what: &str| {
            if wanted.is_empty() {
                return Ok(None);
            }
            let column = table.text(index).ok_or_else(|| {
                Error::query(format!(
                    "cannot filter by {what}: this {} export has no {what} column",
                    table.granularity
                ))
            })?;
            Ok::<_, Error>(Some((column, matches_list(column, wanted))))
        };
        let clients = list(table.client, &filter.clients, "client")?;
        let languages = list(table.language, &filter.languages, "language")?;
        let active = if filter.active_only {
            match table.active.map(|i| &table.columns[i].data) {
                Some(Data::Bool(b)) => Some(b.as_slice()),
                _ => {
                    return Err(Error::query(
                        "cannot keep active users only: the export has no Active Sourcegraph \
                         User column",
                    ))
                }
            }
        } else {
            None
        };
        let service = if filter.exclude_service_accounts {
            match (&table.user_flags, table.text(table.user_id)) {
                (Some(flags), Some(ids)) => Some((ids, flags.as_slice())),
                _ => {
                    return Err(Error::query(
                        "cannot exclude service accounts: load the user registry first",
                    ))
                }
            }
        } else {
            None
        };
        Ok(CompiledFilter {
            from,
            to,
            days,
            dates: table.dates(),
            users,
            clients,
            languages,
            active,
            service,
        })
    }

    #[inline]
    fn keeps(&self, row: usize) -> bool {
        if self.from.is_some() || self.to.is_some() {
            let Some(d) = self.dates.map(|d| d[row]) else {
                return false;
            };
            let kept = self.days.as_ref().and_then(|(first, kept)| {
                let i = usize::try_from(i64::from(d) - i64::from(*first)).ok()?;
                kept.get(i).copied()
            });
            if d == NULL_DAY || kept != Some(true) {
                return false;
            }
        }
        if !self.users.is_empty()
            && !self
                .users
                .iter()
                .any(|(c, hits)| hits[c.codes.get(row) as usize])
        {
            return false;
        }
        for (column, hits) in [&self.clients, &self.languages].into_iter().flatten() {
            if !hits[column.codes.get(row) as usize] {
                return false;
            }
        }
        if self.active.is_some_and(|a| a[row] != 1) {
            return false;
        }
        if let Some((ids, flags)) = self.service {
            if flags[ids.codes.get(row) as usize] & 1 != 0 {
                return false;
            }
        }
        true
    }
}

/// A set of pairs of small integers: a bitmap when the product is small, else a hash set; or,
/// when the pairs arrive ordered, only the last `b` seen for each `a`.
enum PairSet {
    Bits {
        bits: Vec<u64>,
        width: u64,
    },
    Hash {
        set: FxHashMap<u64, ()>,
        width: u64,
    },
    /// `last[a]` is 1 + the last `b` added with `a`: enough when, for each `a`, equal `b`s
    /// arrive one after another (users whose rows are contiguous, as exports are written).
    Last {
        last: Vec<u32>,
    },
}

impl PairSet {
    const MAX_BITS: u64 = 1 << 28;
    const MAX_LAST: usize = 1 << 24;

    /// `ordered`: for each `a`, the pairs with equal `b` are inserted one after another.
    fn new(height: usize, width: usize, ordered: bool) -> PairSet {
        let (h, w) = (height.max(1) as u64, width.max(1) as u64);
        if ordered && height <= Self::MAX_LAST && w < u64::from(u32::MAX) {
            return PairSet::Last {
                last: vec![0; height.max(1)],
            };
        }
        match h.checked_mul(w) {
            Some(n) if n <= Self::MAX_BITS => PairSet::Bits {
                bits: vec![0; n.div_ceil(64) as usize],
                width: w,
            },
            _ => PairSet::Hash {
                set: FxHashMap::default(),
                width: w,
            },
        }
    }

    /// Adds `(a, b)`; true when it was not there yet.
    #[inline(always)]
    fn insert(&mut self, a: u64, b: u64) -> bool {
        match self {
            PairSet::Bits { bits, width } => {
                let i = a * *width + b;
                let (word, bit) = ((i / 64) as usize, 1u64 << (i % 64));
                let new = bits[word] & bit == 0;
                bits[word] |= bit;
                new
            }
            PairSet::Hash { set, width } => Self::insert_hashed(set, a * *width + b),
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
    fn insert_hashed(set: &mut FxHashMap<u64, ()>, key: u64) -> bool {
        set.insert(key, ()).is_none()
    }
}

/// The day grid: every calendar day of the data, from `base` to `base + days - 1`.
#[derive(Clone, Copy)]
struct Days {
    base: i32,
    days: usize,
}

impl Days {
    /// The index of a day in the grid; `None` for an empty date.
    #[inline]
    fn index(self, d: i32) -> Option<usize> {
        if d == NULL_DAY {
            return None;
        }
        usize::try_from(i64::from(d) - i64::from(self.base))
            .ok()
            .filter(|&i| i < self.days)
    }
}

fn month_number(day: i32) -> i64 {
    let (y, m, _) = civil_from_days(day);
    i64::from(y) * 12 + i64::from(m) - 1
}

/// One component of a group key, mapped to a dense index below its size.
enum Component<'a> {
    /// Dictionary codes (user, client, language), and how many there are.
    Codes(&'a TextColumn, u64),
    /// A time key: the index of each grid day, and the size (the last index is for rows without a
    /// date).
    Days(Vec<u32>, u64),
}

impl Component<'_> {
    fn new<'a>(table: &'a Table, key: Key, grid: Days) -> Component<'a> {
        let codes = match key {
            Key::User => table.identity(),
            Key::Client => table.text(table.client),
            Key::Language => table.text(table.language),
            Key::Day | Key::Week | Key::Month => {
                let first = grid.base;
                let index: Vec<u32> = (0..grid.days)
                    .map(|i| {
                        let d = first + i as i32;
                        (match key {
                            Key::Day => i as i64,
                            Key::Week => i64::from((week_start(d) - week_start(first)) / 7),
                            _ => month_number(d) - month_number(first),
                        }) as u32
                    })
                    .collect();
                let size = index.last().map_or(0, |&x| u64::from(x) + 1) + 1;
                return Component::Days(index, size);
            }
        };
        let size = codes.map_or(1, |c| c.values.len().max(1) as u64);
        match codes {
            Some(c) => Component::Codes(c, size),
            None => Component::Days(Vec::new(), 1),
        }
    }

    fn size(&self) -> u64 {
        match self {
            Component::Codes(_, n) | Component::Days(_, n) => *n,
        }
    }

    #[inline]
    fn index(&self, row: usize, dates: Option<&[i32]>, grid: Days) -> u64 {
        match self {
            Component::Codes(c, _) => u64::from(c.codes.get(row)),
            Component::Days(index, size) => dates
                .and_then(|d| grid.index(d[row]))
                .map_or(size - 1, |i| u64::from(index[i])),
        }
    }
}

/// A run of consecutive rows of one group (exports are sorted by user, then date, so runs are long
/// for most groupings, and each column is summed a slice at a time).
pub(crate) struct Run {
    pub start: usize,
    pub end: usize,
    pub group: usize,
}

fn runs(ids: &[u32]) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    for (row, &g) in ids.iter().enumerate() {
        if g == u32::MAX {
            continue;
        }
        match runs.last_mut() {
            Some(run) if run.end == row && run.group == g as usize => run.end = row + 1,
            _ => runs.push(Run {
                start: row,
                end: row + 1,
                group: g as usize,
            }),
        }
    }
    runs
}

struct Stats {
    rows: Vec<u64>,
    users: Vec<u64>,
    active_users: Vec<u64>,
    /// Σ over days of distinct active users, and of distinct users, per group (day grain only).
    active_user_days: Vec<u64>,
    user_days: Vec<u64>,
    /// Calendar days in each group's part of the range (day grain only).
    days_in_range: Vec<u64>,
    /// Whether daily averages are defined (a day-grain export with a range of days).
    per_day: bool,
    sums: Vec<Option<Acc>>,
    counts: Vec<Option<Vec<u32>>>,
    /// Σ(weight × value) and Σ weight per column with a `WeightedMean` measure.
    weighted: Vec<Option<(Vec<f64>, Vec<f64>)>>,
}

impl Stats {
    fn new(n: usize) -> Stats {
        Stats {
            rows: vec![0; n],
            users: vec![0; n],
            active_users: vec![0; n],
            active_user_days: vec![0; n],
            user_days: vec![0; n],
            days_in_range: vec![0; n],
            per_day: false,
            sums: Vec::new(),
            counts: Vec::new(),
            weighted: Vec::new(),
        }
    }

    /// The totals of every additive part, merged over the groups (distinct counts excepted).
    fn merged(&self) -> Stats {
        let total = |v: &[u64]| vec![v.iter().sum::<u64>()];
        Stats {
            rows: total(&self.rows),
            users: vec![0],
            active_users: vec![0],
            active_user_days: vec![0],
            user_days: vec![0],
            days_in_range: vec![0],
            per_day: self.per_day,
            sums: self
                .sums
                .iter()
                .map(|a| a.as_ref().map(Acc::total))
                .collect(),
            counts: self
                .counts
                .iter()
                .map(|c| c.as_ref().map(|c| vec![c.iter().sum()]))
                .collect(),
            weighted: self
                .weighted
                .iter()
                .map(|w| {
                    w.as_ref()
                        .map(|(n, d)| (vec![n.iter().sum()], vec![d.iter().sum()]))
                })
                .collect(),
        }
    }
}

impl Table {
    /// Answers a query: totals over the kept rows and, with `groupBy`, one entry per group.
    pub fn summarize(&self, query: &Query) -> Result<Summary, Error> {
        let keys = group_keys(self, &query.group_by)?;
        let filter = CompiledFilter::new(self, &query.filter)?;
        let minutes = minutes_saved(self, &query.minutes_saved)?;
        let grid = match (self.first_date, self.last_date) {
            (Some(lo), Some(hi)) => Days {
                base: lo,
                days: (hi - lo + 1) as usize,
            },
            _ => Days { base: 0, days: 0 },
        };
        // The range of days that averages are taken over.
        let range = match (
            filter.from.or(self.first_date),
            filter.to.or(self.last_date),
        ) {
            (Some(lo), Some(hi)) if self.granularity.has_days() && lo <= hi => Some((lo, hi)),
            _ => None,
        };

        let (ids, representatives) = self.assign_groups(&keys, &filter, grid)?;
        let n = representatives.len().max(1);
        let (grouped, totals) = self.aggregate(&ids, n, &keys, range, grid);

        let approximate = self
            .columns
            .iter()
            .filter(|c| {
                matches!(
                    c.measure,
                    Some(Measure::WeightedMean { .. } | Measure::Mean)
                )
            })
            .map(|c| c.name.clone())
            .collect();
        let totals_map = self.stats_map(&totals, 0, &minutes);
        let mut groups: Vec<Group> = if keys.is_empty() {
            Vec::new()
        } else {
            representatives
                .iter()
                .enumerate()
                .map(|(g, &row)| Group {
                    key: self.key_map(&keys, row),
                    stats: self.stats_map(&grouped, g, &minutes),
                })
                .collect()
        };
        sort_groups(&mut groups, &keys, query.sort.as_ref())?;
        let groups_total = groups.len();
        let groups: Vec<Group> = groups
            .into_iter()
            .skip(query.offset)
            .take(query.limit.unwrap_or(usize::MAX))
            .collect();
        let info = self.info();
        Ok(Summary {
            input: Input {
                rows: info.rows,
                skipped_rows: info.skipped_rows,
                granularity: info.granularity,
                first_date: info.first_date,
                last_date: info.last_date,
                columns: info.columns,
            },
            warnings: info.warnings,
            warnings_total: info.warnings_total,
            totals: totals_map,
            groups,
            groups_total,
            group_by: keys.iter().map(|k| k.name().to_string()).collect(),
            approximate,
            minutes_saved: minutes
                .iter()
                .map(|&(i, m)| (self.columns[i].name.clone(), json_f64(m)))
                .collect(),
        })
    }

    /// The group of every row (`u32::MAX` for rows the filter drops), and a row of each group.
    /// Without keys every kept row is in group 0.
    fn assign_groups(
        &self,
        keys: &[Key],
        filter: &CompiledFilter,
        grid: Days,
    ) -> Result<(Vec<u32>, Vec<usize>), Error> {
        let dates = self.dates();
        let components: Vec<Component> = keys
            .iter()
            .map(|&key| Component::new(self, key, grid))
            .collect();
        let product = components
            .iter()
            .try_fold(1u64, |p, c| p.checked_mul(c.size()))
            .ok_or_else(|| Error::query("too many group keys for this export"))?;
        let mut dense = (product <= 1 << 22).then(|| vec![u32::MAX; product as usize]);
        let mut sparse: FxHashMap<u64, u32> = FxHashMap::default();
        let mut representatives = Vec::new();
        let mut ids = vec![u32::MAX; self.rows];
        for (row, id) in ids.iter_mut().enumerate() {
            if !filter.keeps(row) {
                continue;
            }
            let combined = components
                .iter()
                .fold(0u64, |acc, c| acc * c.size() + c.index(row, dates, grid));
            let slot = match &mut dense {
                Some(dense) => &mut dense[combined as usize],
                None => sparse.entry(combined).or_insert(u32::MAX),
            };
            if *slot == u32::MAX {
                *slot = representatives.len() as u32;
                representatives.push(row);
            }
            *id = *slot;
        }
        Ok((ids, representatives))
    }

    /// The statistics of each group and of all kept rows.
    fn aggregate(
        &self,
        ids: &[u32],
        n: usize,
        keys: &[Key],
        range: Option<(i32, i32)>,
        grid: Days,
    ) -> (Stats, Stats) {
        let runs = runs(ids);
        let mut stats = Stats::new(n);
        for run in &runs {
            stats.rows[run.group] += (run.end - run.start) as u64;
        }
        // Runs pay off when they are long (groups of users or dates in a sorted export); when the
        // group changes on most rows (client, language), summing a row at a time is cheaper.
        let kept: u64 = stats.rows.iter().sum();
        let short_runs = (runs.len() as u64) * 4 > kept;
        for column in &self.columns {
            let (Data::Num(values), Some(measure)) = (&column.data, column.measure) else {
                stats.sums.push(None);
                stats.counts.push(None);
                stats.weighted.push(None);
                continue;
            };
            let mut acc = values.accumulator(n);
            let mut counts = (measure == Measure::Mean).then(|| vec![0u32; n]);
            if short_runs {
                values.accumulate_rows(ids, &mut acc, counts.as_deref_mut());
            } else {
                values.accumulate_runs(&runs, &mut acc, counts.as_deref_mut());
            }
            stats.sums.push(Some(acc));
            stats.counts.push(counts);
            let weights = match measure {
                Measure::WeightedMean { weight } => match &self.columns[weight].data {
                    Data::Num(w) => Some(w),
                    _ => None,
                },
                _ => None,
            };
            stats
                .weighted
                .push(weights.map(|w| values.weighted_sums(w, &runs, n)));
        }
        let mut totals = stats.merged();
        let Some(identity) = self.identity() else {
            return (stats, totals);
        };
        let active = match self.active.map(|i| &self.columns[i].data) {
            Some(Data::Bool(b)) => Some(b.as_slice()),
            _ => None,
        };
        let users = identity.values.len();
        let user_key = keys.contains(&Key::User);
        // Distinct (day, user) pairs give the totals' daily figures, and the groups' too when
        // the groups are made of days; otherwise distinct (group, day, user), which with the user
        // in the key is (group, day).
        let daily = range.zip(self.dates());
        let days = if daily.is_some() { grid.days } else { 0 };
        let by_days = keys.iter().all(|k| k.is_time());
        let (height, width) = if user_key {
            (n, days)
        } else {
            (n * days, users)
        };
        let group_sets = if by_days { 0 } else { height };

        // Exports list each user's rows together (and by date): then a distinct pair is one whose
        // `b` differs from the last seen with its `a`, with no bitmap or hash set.
        let (by_user, by_date) = (self.users_contiguous, self.dates_sorted_within_users);
        let (mut all, mut all_active) = (
            PairSet::new(1, users, by_user),
            PairSet::new(1, users, by_user),
        );
        let seen_height = if keys.is_empty() || user_key { 0 } else { n };
        let (mut seen, mut seen_active) = (
            PairSet::new(seen_height, users, by_user),
            PairSet::new(seen_height, users, by_user),
        );
        let (mut day_users, mut day_active) = (
            PairSet::new(days, users, by_user),
            PairSet::new(days, users, by_user),
        );
        let (mut user_days, mut active_days) = (vec![0u64; days], vec![0u64; days]);
        let mut day_group = vec![u32::MAX; days];
        let ordered = if user_key {
            by_user && by_date
        } else {
            by_user
        };
        let (mut group_days, mut group_active) = (
            PairSet::new(group_sets, width, ordered),
            PairSet::new(group_sets, width, ordered),
        );

        // One pass over the kept rows for every distinct count.
        let mut visit = |row: usize, g: usize, u: u64| {
            let act = active.is_none_or(|a| a[row] == 1);
            totals.users[0] += u64::from(all.insert(0, u));
            totals.active_users[0] += u64::from(act && all_active.insert(0, u));
            if user_key {
                stats.users[g] = 1;
                stats.active_users[g] |= u64::from(act);
            } else if !keys.is_empty() {
                stats.users[g] += u64::from(seen.insert(g as u64, u));
                stats.active_users[g] += u64::from(act && seen_active.insert(g as u64, u));
            }
            let Some((_, dates)) = daily else {
                return;
            };
            let Some(day) = grid.index(dates[row]) else {
                return;
            };
            user_days[day] += u64::from(day_users.insert(day as u64, u));
            active_days[day] += u64::from(act && day_active.insert(day as u64, u));
            if by_days {
                day_group[day] = g as u32;
                return;
            }
            let (a, b) = if user_key {
                (g as u64, day as u64)
            } else {
                ((g * days + day) as u64, u)
            };
            stats.user_days[g] += u64::from(group_days.insert(a, b));
            stats.active_user_days[g] += u64::from(act && group_active.insert(a, b));
        };
        identity.codes.for_each_in_runs(&runs, &mut visit);
        if keys.is_empty() {
            stats.users[0] = totals.users[0];
            stats.active_users[0] = totals.active_users[0];
        }
        let Some(((lo, hi), dates)) = daily else {
            return (stats, totals);
        };
        stats.per_day = true;
        totals.per_day = true;
        totals.days_in_range[0] = (hi - lo + 1) as u64;
        totals.user_days[0] = user_days.iter().sum();
        totals.active_user_days[0] = active_days.iter().sum();
        if by_days {
            for (day, &g) in day_group.iter().enumerate() {
                if g != u32::MAX {
                    stats.user_days[g as usize] += user_days[day];
                    stats.active_user_days[g as usize] += active_days[day];
                }
            }
        }
        // Each group's share of the calendar days in the range.
        let mut done = vec![false; n];
        for run in &runs {
            let g = run.group;
            if done[g] || dates[run.start] == NULL_DAY {
                continue;
            }
            done[g] = true;
            let d = dates[run.start];
            let mut span = (lo, hi);
            for key in keys {
                let (a, b) = match key {
                    Key::Day => (d, d),
                    Key::Week => (week_start(d), week_start(d) + 6),
                    Key::Month => (month_start(d), month_end(d)),
                    _ => continue,
                };
                span = (span.0.max(a), span.1.min(b));
            }
            stats.days_in_range[g] = (span.1 - span.0 + 1).max(0) as u64;
        }
        if keys.is_empty() {
            stats.days_in_range[0] = totals.days_in_range[0];
        }
        (stats, totals)
    }

    fn key_map(&self, keys: &[Key], row: usize) -> Map<String, Value> {
        let mut map = Map::new();
        let text = |i: Option<usize>| self.text(i).map(|t| Value::from(t.value(row)));
        let date = self.dates().map_or(NULL_DAY, |d| d[row]);
        let day_value = |f: fn(i32) -> String| {
            if date == NULL_DAY {
                Value::Null
            } else {
                Value::from(f(date))
            }
        };
        for key in keys {
            let value = match key {
                Key::User => self
                    .identity()
                    .map_or(Value::Null, |t| Value::from(t.value(row))),
                Key::Day => day_value(format_day),
                Key::Week => day_value(|d| format_day(week_start(d))),
                Key::Month => day_value(format_month),
                Key::Client => text(self.client).unwrap_or(Value::Null),
                Key::Language => text(self.language).unwrap_or(Value::Null),
            };
            map.insert(key.name().to_string(), value);
            if *key == Key::User && self.user_id.is_some() {
                for (name, index) in [("email", self.email), ("username", self.username)] {
                    if let Some(v) = text(index) {
                        map.insert(name.to_string(), v);
                    }
                }
                if let (Some(flags), Some(ids)) = (&self.user_flags, self.text(self.user_id)) {
                    let f = flags[ids.codes.get(row) as usize];
                    map.insert("serviceAccount".into(), Value::Bool(f & 1 != 0));
                    map.insert("siteAdmin".into(), Value::Bool(f & 2 != 0));
                }
            }
        }
        map
    }

    fn stats_map(&self, stats: &Stats, g: usize, minutes: &[(usize, f64)]) -> Map<String, Value> {
        let mut map = Map::new();
        let has_users = self.identity().is_some();
        let ratio = |num: f64, den: f64| {
            if den == 0.0 {
                Value::Null
            } else {
                json_f64(num / den)
            }
        };
        map.insert("rows".into(), stats.rows[g].into());
        let count = |v: u64| {
            if has_users {
                Value::from(v)
            } else {
                Value::Null
            }
        };
        map.insert("users".into(), count(stats.users[g]));
        map.insert("activeUsers".into(), count(stats.active_users[g]));
        let (avg_dau, avg_days) = if stats.per_day && has_users {
            (
                ratio(
                    stats.active_user_days[g] as f64,
                    stats.days_in_range[g] as f64,
                ),
                ratio(stats.user_days[g] as f64, stats.users[g] as f64),
            )
        } else {
            (Value::Null, Value::Null)
        };
        map.insert("avgDau".into(), avg_dau);
        map.insert("avgDaysActivePerUser".into(), avg_days);
        let sum = |i: usize| -> f64 {
            match (&self.columns[i].data, &stats.sums[i]) {
                (Data::Num(n), Some(acc)) => n.sum_value(acc, g),
                _ => 0.0,
            }
        };
        let hours: f64 = minutes.iter().map(|&(i, m)| sum(i) * m / 60.0).sum();
        map.insert("hoursSaved".into(), json_f64(hours));
        for (i, column) in self.columns.iter().enumerate() {
            let (Data::Num(values), Some(measure)) = (&column.data, column.measure) else {
                continue;
            };
            let value = match measure {
                Measure::Sum => match &stats.sums[i] {
                    Some(Acc::Int(s)) if values.scale == 0 => Value::from(s[g]),
                    _ => json_f64(sum(i)),
                },
                Measure::Ratio {
                    numerator,
                    denominator,
                    factor,
                } => ratio(f64::from(factor) * sum(numerator), sum(denominator)),
                Measure::WeightedMean { .. } => match &stats.weighted[i] {
                    Some((num, den)) => ratio(num[g], den[g]),
                    None => Value::Null,
                },
                Measure::Mean => match &stats.counts[i] {
                    Some(c) => ratio(sum(i), f64::from(c[g])),
                    None => Value::Null,
                },
            };
            map.insert(column.name.clone(), value);
        }
        map
    }
}

/// A finite float as JSON (non-finite values cannot occur: every ratio checks its denominator).
fn json_f64(x: f64) -> Value {
    Number::from_f64(x).map_or(Value::Null, Value::Number)
}

/// The features counted in `hoursSaved`, as (column index, minutes), after the query's overrides.
fn minutes_saved(table: &Table, given: &BTreeMap<String, f64>) -> Result<Vec<(usize, f64)>, Error> {
    let mut minutes: Vec<(KnownColumn, f64)> = DEFAULT_MINUTES_SAVED.to_vec();
    for (name, &value) in given {
        let folded = name.trim().to_lowercase().replace([' ', '_'], "");
        let feature = FEATURE_ALIASES
            .iter()
            .find(|(alias, _)| *alias == folded)
            .map(|&(_, k)| k)
            .or_else(|| KnownColumn::from_header(name))
            .filter(|k| DEFAULT_MINUTES_SAVED.iter().any(|(d, _)| d == k))
            .ok_or_else(|| {
                let names: Vec<&str> = DEFAULT_MINUTES_SAVED
                    .iter()
                    .map(|(k, _)| k.name())
                    .collect();
                Error::query(format!(
                    "minutesSaved: unknown feature {name:?}; expected one of {}",
                    names.join(", ")
                ))
            })?;
        if !value.is_finite() || value < 0.0 {
            return Err(Error::query(format!(
                "minutesSaved: {name:?} must be a number of minutes ≥ 0, found {value}"
            )));
        }
        if let Some(entry) = minutes.iter_mut().find(|(k, _)| *k == feature) {
            entry.1 = value;
        }
    }
    Ok(minutes
        .into_iter()
        .filter_map(|(k, m)| table.column(k).map(|i| (i, m)))
        .filter(|&(i, _)| matches!(table.columns[i].data, Data::Num(_)))
        .collect())
}

fn compare_values(a: Option<&Value>, b: Option<&Value>, desc: bool) -> Ordering {
    fn rank(v: Option<&Value>) -> Option<&Value> {
        v.filter(|v| !v.is_null())
    }
    match (rank(a), rank(b)) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => {
            let o = match (x.as_f64(), y.as_f64()) {
                (Some(x), Some(y)) => x.total_cmp(&y),
                _ => value_text(x).cmp(&value_text(y)),
            };
            if desc {
                o.reverse()
            } else {
                o
            }
        }
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_lowercase(),
        other => other.to_string(),
    }
}

fn sort_groups(groups: &mut [Group], keys: &[Key], sort: Option<&Sort>) -> Result<(), Error> {
    let by_keys = |a: &Group, b: &Group| {
        keys.iter()
            .map(|k| compare_values(a.key.get(k.name()), b.key.get(k.name()), false))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    };
    let Some(sort) = sort else {
        groups.sort_by(by_keys);
        return Ok(());
    };
    let name = sort.by.trim();
    let in_key = groups.first().is_some_and(|g| g.key.contains_key(name));
    let in_stats = groups.first().is_some_and(|g| g.stats.contains_key(name));
    if !groups.is_empty() && !in_key && !in_stats {
        let mut known: Vec<&str> = groups[0].key.keys().map(String::as_str).collect();
        known.extend(groups[0].stats.keys().map(String::as_str));
        return Err(Error::query(format!(
            "cannot sort by {name:?}: expected a group key or a metric ({})",
            known.join(", ")
        )));
    }
    groups.sort_by(|a, b| {
        let (x, y) = if in_key {
            (a.key.get(name), b.key.get(name))
        } else {
            (a.stats.get(name), b.stats.get(name))
        };
        compare_values(x, y, sort.desc).then_with(|| by_keys(a, b))
    });
    Ok(())
}

impl Filter {
    pub(crate) fn compile<'a>(
        &self,
        table: &'a Table,
    ) -> Result<impl Fn(usize) -> bool + 'a, Error> {
        let compiled = CompiledFilter::new(table, self)?;
        Ok(move |row| compiled.keeps(row))
    }
}
