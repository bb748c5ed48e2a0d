//! A [`Filter`] resolved against a table into a [`Selection`]: which rows are kept, computed once
//! per filter and shared by every query that uses it.

use crate::column::{Chunked, TextColumn, NULL_DAY};
use crate::date::{format_day, month_end, month_start, parse_day};
use crate::error::Error;
use crate::summary::ServiceAccounts;
use crate::table::{Data, Table, UNMAPPED};

use super::spec::Filter;

/// The rows a filter keeps.
#[derive(Debug)]
pub(crate) struct Selection {
    /// `keep[row]`; `None` when every row is kept.
    keep: Option<Vec<bool>>,
    /// The filter's first and last day, when given.
    pub from: Option<i32>,
    pub to: Option<i32>,
    /// With a joined registry: whether service accounts were dropped, and how many of them the
    /// filter's other conditions keep.
    pub service_accounts: Option<ServiceAccounts>,
}

impl Selection {
    /// Whether the row is kept.
    #[inline]
    pub fn keeps(&self, row: usize) -> bool {
        self.keep.as_ref().is_none_or(|k| k[row])
    }

    pub fn heap_bytes(&self) -> usize {
        self.keep.as_ref().map_or(0, Vec::capacity)
    }

    /// The mask, or `None` when every row is kept.
    pub fn mask(&self) -> Option<&[bool]> {
        self.keep.as_deref()
    }
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

/// Whether a row dated `d` is kept by a filter from `from` to `to` (either may be open): a day
/// within them, or, for month rows (`month_rows`), a month that overlaps them; never a row
/// without a date.
pub(crate) fn date_kept(month_rows: bool, from: Option<i32>, to: Option<i32>, d: i32) -> bool {
    if d == NULL_DAY {
        return false;
    }
    let (lo, hi) = if month_rows {
        (month_start(d), month_end(d))
    } else {
        (d, d)
    };
    !(from.is_some_and(|f| hi < f) || to.is_some_and(|t| lo > t))
}

/// A filter's conditions, each as a mask over the values it tests, for the roll-ups
/// (`rollup.rs`): what [`Filter::select`] applies row by row.
pub(crate) struct Parts {
    pub from: Option<i32>,
    pub to: Option<i32>,
    /// Per client code / language code: kept; `None` when the filter names none.
    pub clients: Option<Vec<bool>>,
    pub languages: Option<Vec<bool>>,
    pub active_only: bool,
    /// Per user column (its index) the filter matches users against: whether each value
    /// matches; `None` when the filter names no user.
    pub user_hits: Option<Vec<(usize, Vec<bool>)>>,
    /// Per attribute filtered on: whether each user (by identity code) is kept.
    pub attributes: Vec<Vec<bool>>,
    /// With service accounts excluded: per code of the user ID column, whether it is kept.
    pub human: Option<Vec<bool>>,
}

/// For each dictionary entry: whether it is one of `wanted` (exact, any case).
fn matches_list(column: &TextColumn, wanted: &[String]) -> Vec<bool> {
    let wanted: Vec<String> = wanted.iter().map(|w| w.trim().to_lowercase()).collect();
    column
        .values
        .iter()
        .map(|v| wanted.contains(&v.to_lowercase()))
        .collect()
}

/// Clears `keep[row]` where the row's dictionary entry is not wanted.
fn keep_codes(keep: &mut [bool], column: &TextColumn, wanted: &[bool]) {
    column
        .codes
        .for_each(|row, code| keep[row] &= wanted[code as usize]);
}

/// A [`Filter`] checked against a table: each condition as a per-value mask of the column it
/// tests, shared by the rows' selection ([`Filter::select`]) and the users' ([`Filter::select_users`]).
struct Resolved<'t> {
    from: Option<i32>,
    to: Option<i32>,
    /// Per user column (ID, e-mail, username): whether each value matches `users` or the search;
    /// `None` when the filter names no user.
    user_hits: Option<Vec<(&'t TextColumn, Vec<bool>)>>,
    /// The users named (trimmed, lowercased) and the search text (lowercased), if any.
    names: Vec<String>,
    search: Option<String>,
    clients: Option<(&'t TextColumn, Vec<bool>)>,
    languages: Option<(&'t TextColumn, Vec<bool>)>,
    active: Option<&'t Chunked<u8>>,
    /// With service accounts excluded: the user ID column and its values' registry flags.
    service: Option<(&'t TextColumn, &'t [u8])>,
    /// Per attribute filtered on: which users keep (by identity code), and the wanted values
    /// (lowercased; `""` keeps the unmapped).
    by_attribute: Vec<(usize, Vec<bool>, Vec<String>)>,
}

impl Filter {
    /// Whether this filter leaves the service accounts out on `table`: as it says, else (the
    /// default, said once here) whenever a registry that marks them is joined.
    pub fn excludes_service_accounts(&self, table: &Table) -> bool {
        let joined = table.user_flags.is_some() && table.text(table.user_id).is_some();
        self.exclude_service_accounts.unwrap_or(joined)
    }

    /// Checks each of the filter's conditions against the table.
    fn resolve<'t>(&self, table: &'t Table) -> Result<Resolved<'t>, Error> {
        let from = parse_filter_day("from", &self.from)?;
        let to = parse_filter_day("to", &self.to)?;
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
        let user_columns: Vec<&TextColumn> = [table.user_id, table.email, table.username]
            .into_iter()
            .filter_map(|i| table.text(i))
            .collect();
        let search = self
            .user_search
            .as_deref()
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty());
        let by_user = !self.users.is_empty() || search.is_some();
        if by_user && user_columns.is_empty() {
            return Err(Error::query(
                "cannot filter by user: the export has no user ID, e-mail or username column",
            ));
        }
        let user_hits = by_user.then(|| {
            user_columns
                .into_iter()
                .map(|column| {
                    let hits = column
                        .values
                        .iter()
                        .zip(matches_list(column, &self.users))
                        .map(|(value, exact)| {
                            exact
                                || search
                                    .as_deref()
                                    .is_some_and(|s| value.to_lowercase().contains(s))
                        })
                        .collect();
                    (column, hits)
                })
                .collect()
        });
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
        let clients = list(table.client, &self.clients, "client")?;
        let languages = list(table.language, &self.languages, "language")?;
        let active = match (
            self.active_only,
            table.active.map(|i| &table.columns[i].data),
        ) {
            (false, _) => None,
            (true, Some(Data::Bool(b))) => Some(b),
            (true, _) => {
                return Err(Error::query(
                    "cannot keep active users only: the export has no Active Sourcegraph User \
                     column",
                ))
            }
        };
        let registry = table.user_flags.as_deref().zip(table.text(table.user_id));
        let service = match (self.excludes_service_accounts(table), registry) {
            (false, _) => None,
            (true, Some((flags, ids))) => Some((ids, flags)),
            (true, None) => {
                return Err(Error::query(
                    "cannot exclude service accounts: load the user registry first",
                ))
            }
        };
        let mut by_attribute = Vec::new();
        for (name, wanted) in &self.attributes {
            let attributes = table.attributes.as_ref();
            let Some((a, attributes)) = attributes.and_then(|t| Some((t.find(name)?, t))) else {
                return Err(Error::query(format!(
                    "cannot filter by {name:?}: no joined people file has that column"
                )));
            };
            let wanted: Vec<String> = wanted.iter().map(|w| w.trim().to_lowercase()).collect();
            let keep_value: Vec<bool> = attributes.values[a]
                .iter()
                .map(|v| wanted.contains(&v.to_lowercase()))
                .collect();
            let keep_unmapped = wanted.iter().any(String::is_empty);
            let of_user = attributes.of_user[a]
                .iter()
                .map(|&v| {
                    if v == UNMAPPED {
                        keep_unmapped
                    } else {
                        keep_value[v as usize]
                    }
                })
                .collect();
            by_attribute.push((a, of_user, wanted));
        }
        Ok(Resolved {
            from,
            to,
            user_hits,
            names: self.users.iter().map(|u| u.trim().to_lowercase()).collect(),
            search,
            clients,
            languages,
            active,
            service,
            by_attribute,
        })
    }

    /// Checks the filter against the table (the same checks and errors as [`Filter::select`]) and
    /// gives its conditions as masks over the values they test.
    pub(crate) fn parts(&self, table: &Table) -> Result<Parts, Error> {
        let r = self.resolve(table)?;
        let user_columns = [table.user_id, table.email, table.username]
            .into_iter()
            .flatten()
            .filter(|&i| table.text(Some(i)).is_some());
        Ok(Parts {
            from: r.from,
            to: r.to,
            user_hits: r.user_hits.map(|hits| {
                user_columns
                    .zip(hits)
                    .map(|(i, (_, hits))| (i, hits))
                    .collect()
            }),
            clients: r.clients.map(|(_, wanted)| wanted),
            languages: r.languages.map(|(_, wanted)| wanted),
            active_only: r.active.is_some(),
            attributes: r
                .by_attribute
                .into_iter()
                .map(|(_, keep, _)| keep)
                .collect(),
            human: r
                .service
                .map(|(_, flags)| flags.iter().map(|f| f & 1 == 0).collect()),
        })
    }

    /// Checks the filter against the table and finds the rows it keeps.
    pub(crate) fn select(&self, table: &Table) -> Result<Selection, Error> {
        let r = self.resolve(table)?;
        let (from, to) = (r.from, r.to);
        let dated = from.is_some() || to.is_some();
        let filtered = !r.by_attribute.is_empty()
            || dated
            || r.user_hits.is_some()
            || r.clients.is_some()
            || r.languages.is_some()
            || r.active.is_some();
        let registry = table.user_flags.as_deref().zip(table.text(table.user_id));
        if !filtered && r.service.is_none() {
            return Ok(Selection {
                keep: None,
                from,
                to,
                service_accounts: registry.map(|(flags, ids)| ServiceAccounts {
                    excluded: false,
                    users: service_users(ids, flags, None),
                }),
            });
        }
        let mut keep = vec![true; table.rows];
        if let (true, Some(dates)) = (dated, table.dates()) {
            let month_rows = !table.granularity.has_days();
            let kept = |d: i32| date_kept(month_rows, from, to, d);
            // Exports repeat dates in long runs: decide once per run of equal dates.
            let (mut last, mut last_kept) = (NULL_DAY, false);
            for (k, d) in keep.iter_mut().zip(dates.iter()) {
                if d != last {
                    (last, last_kept) = (d, kept(d));
                }
                *k = last_kept && d != NULL_DAY;
            }
        }
        if let Some(user_hits) = &r.user_hits {
            let mut any = vec![false; table.rows];
            for (column, hits) in user_hits {
                column
                    .codes
                    .for_each(|row, code| any[row] |= hits[code as usize]);
            }
            for (k, a) in keep.iter_mut().zip(any) {
                *k &= a;
            }
        }
        for (column, wanted) in [&r.clients, &r.languages].into_iter().flatten() {
            keep_codes(&mut keep, column, wanted);
        }
        if let Some(active) = r.active {
            for (k, a) in keep.iter_mut().zip(active.iter()) {
                *k &= a == 1;
            }
        }
        if let Some(users) = table.identity() {
            for (_, keep_user, _) in &r.by_attribute {
                keep_codes(&mut keep, users, keep_user);
            }
        }
        // How many service accounts the other conditions keep: what excluding them leaves out,
        // or what including them adds.
        let service_accounts = registry.map(|(flags, ids)| ServiceAccounts {
            excluded: r.service.is_some(),
            users: service_users(ids, flags, filtered.then_some(&keep[..])),
        });
        if let Some((ids, flags)) = r.service {
            let human: Vec<bool> = flags.iter().map(|f| f & 1 == 0).collect();
            keep_codes(&mut keep, ids, &human);
        }
        Ok(Selection {
            keep: Some(keep),
            from,
            to,
            service_accounts,
        })
    }

    /// The users whose seats the filter is about (the inactive list's candidates): the filter's
    /// conditions on who a user is (user names and search, people-file attributes, service
    /// accounts) hold for them, and, when it names clients or languages, they have a row of those
    /// in the export, at any date. Dates and "active only" decide which days count as activity,
    /// not whose seat it is.
    pub(crate) fn select_users<'t>(&self, table: &'t Table) -> Result<Users<'t>, Error> {
        let r = self.resolve(table)?;
        let Some(identity) = table.identity() else {
            return Err(Error::query(
                "this export has no user ID, e-mail or username column",
            ));
        };
        let mut keep = vec![true; identity.values.len()];
        // A per-row condition holds for a user when it holds on one of the user's rows.
        let mut any_row = |pass: &dyn Fn(usize) -> bool| {
            let mut hit = vec![false; keep.len()];
            identity
                .codes
                .for_each(|row, code| hit[code as usize] |= pass(row));
            for (k, h) in keep.iter_mut().zip(hit) {
                *k &= h;
            }
        };
        if let Some(user_hits) = &r.user_hits {
            any_row(&|row| {
                user_hits
                    .iter()
                    .any(|(column, hits)| hits[column.codes.get(row) as usize])
            });
        }
        if r.clients.is_some() || r.languages.is_some() {
            any_row(&|row| {
                [&r.clients, &r.languages]
                    .into_iter()
                    .flatten()
                    .all(|(column, wanted)| wanted[column.codes.get(row) as usize])
            });
        }
        for (_, keep_user, _) in &r.by_attribute {
            for (k, &u) in keep.iter_mut().zip(keep_user) {
                *k &= u;
            }
        }
        if let Some((ids, flags)) = r.service {
            // The registry is matched by user ID, which is then the identity column.
            debug_assert!(std::ptr::eq(ids, identity));
            for (k, f) in keep.iter_mut().zip(flags) {
                *k &= f & 1 == 0;
            }
        }
        Ok(Users {
            keep,
            resolved: r,
            table,
        })
    }
}

/// How many distinct users with a kept row (`keep`: `None` keeps every row) the registry marks as
/// service accounts.
fn service_users(ids: &TextColumn, flags: &[u8], keep: Option<&[bool]>) -> usize {
    let mut seen = vec![false; ids.values.len()];
    ids.codes.for_each(|row, code| {
        if flags[code as usize] & 1 != 0 && keep.is_none_or(|k| k[row]) {
            seen[code as usize] = true;
        }
    });
    seen.into_iter().filter(|&s| s).count()
}

/// The users a filter is about (see [`Filter::select_users`]).
pub(crate) struct Users<'t> {
    /// Per code of the identity column.
    keep: Vec<bool>,
    resolved: Resolved<'t>,
    table: &'t Table,
}

impl Users<'_> {
    /// Whether the export's user with this identity code is one the filter is about.
    pub fn keeps(&self, code: usize) -> bool {
        self.keep[code]
    }

    /// Whether a user known only by ID, from a registry, with no row in the export, is one the
    /// filter is about: the ID matches the user names or search, its people-file line (when the
    /// file is keyed by user ID; else the user is unmapped) has the wanted values, and it is not
    /// an excluded service account. A filter on clients or languages keeps no such user: a seat
    /// with no row has used none of them.
    pub fn keeps_absent(&self, id: &str, flags: u8) -> bool {
        let r = &self.resolved;
        if r.clients.is_some() || r.languages.is_some() {
            return false;
        }
        if r.user_hits.is_some() {
            let lower = id.to_lowercase();
            let named = r.names.contains(&lower);
            let found = r.search.as_deref().is_some_and(|s| lower.contains(s));
            if !(named || found) {
                return false;
            }
        }
        if r.service.is_some() && flags & 1 != 0 {
            return false;
        }
        r.by_attribute.iter().all(|(a, _, wanted)| {
            let value = self
                .table
                .attributes
                .as_ref()
                .and_then(|t| t.value_by_id(*a, id));
            match value {
                Some(v) => wanted.contains(&v.to_lowercase()),
                None => wanted.iter().any(String::is_empty),
            }
        })
    }
}
