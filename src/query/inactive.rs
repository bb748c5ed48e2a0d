//! The inactive users: the users with no active day in the last days of the range (docs/numbers.md,
//! "Adoption answers"), from the same active days as growth and retention ([`Activity`]).

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::date::format_day;
use crate::error::Error;
use crate::registry::Registry;
use crate::table::Table;

use super::adoption::Activity;
use super::spec::Filter;

/// What the inactive-users answer asks: how many days without activity, and a filter.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InactiveQuery {
    /// A user is inactive with no active day in the `days` days ending at the range's last day.
    pub days: u32,
    /// The rows to consider.
    #[serde(default)]
    pub filter: Filter,
}

/// The users with no active day in the last `days` days of the range.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Inactive {
    /// The days without activity asked for.
    pub days: u32,
    /// The range's last day (`None` when no row is kept and no date is given).
    pub as_of: Option<String>,
    /// The inactive users: never active first, then the longest inactive, then by user ID.
    pub users: Vec<InactiveUser>,
    /// Whether a user registry was joined: every user then carries its flags, and the CSV
    /// ([`Inactive::to_csv`]) has their columns. Not part of the JSON (the flags say it).
    #[serde(skip)]
    pub registry: bool,
}

/// One user of [`Inactive`].
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct InactiveUser {
    /// The user's key (the instance user ID, else the e-mail or username the export has).
    pub user: String,
    /// The user's e-mail, when the export has the column and the user is in it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The user's username, likewise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// The user's last active day in the range (`None`: never active in it).
    pub last_active: Option<String>,
    /// With a registry: whether the registry marks the user a service account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service_account: Option<bool>,
    /// With a registry: whether the registry marks the user a site admin.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site_admin: Option<bool>,
}

impl Table {
    /// The users with no active day in the last `query.days` days of the range: the users of the
    /// kept rows and, with a registry, every user it lists that the filter is about (its user
    /// names or search, people-file attributes, service accounts and, for clients or languages,
    /// a row of them in the export). Dates and "active only" decide which days count, not whose
    /// seat it is.
    pub fn inactive_users(
        &self,
        query: &InactiveQuery,
        registry: Option<&Registry>,
    ) -> Result<Inactive, Error> {
        check_inactive(query)?;
        if registry.is_some() && self.user_id.is_none() {
            return Err(Error::query(
                "a user registry matches users by Instance user ID, and this export has no such \
                 column",
            ));
        }
        let activity = Activity::of(self, &query.filter, INACTIVE)?;
        // Whose seats the filter is about: a registry adds only the users that pass it too.
        let candidates = query.filter.select_users(self)?;
        let as_of = activity.range.map(|(_, hi)| hi);
        let since = inactive_since(query, as_of);
        let users = self.identity().expect("Activity::of checks the users");
        // The e-mail and username beside a user ID, read from the user's first kept row, or, for
        // a registry's user with no kept row, from their first row in the export.
        let first_rows = registry.is_some().then(|| users.first_rows());
        let text = |column: Option<usize>, code: usize| -> Option<String> {
            let t = self.text(column).filter(|_| self.user_id.is_some())?;
            let row = match &activity.days[code] {
                Some(_) => activity.first_rows[code],
                None => first_rows.as_ref()?[code],
            };
            Some(t.value(row as usize).to_string())
        };
        let flags = |id: &str| registry.map(|r| r.flags(id).unwrap_or(0));
        let mut out: Vec<(Option<i32>, InactiveUser)> = Vec::new();
        for (code, days) in activity.days.iter().enumerate() {
            // Users with a kept row, and a registry's users whose rows the filter's dates,
            // clients or activity left out (their seats are still the filter's).
            if days.is_none() && !(registry.is_some() && candidates.keeps(code)) {
                continue;
            }
            let user = users.values[code].clone();
            if days.is_none() && registry.is_some_and(|r| r.flags(&user).is_none()) {
                continue;
            }
            let last = days.as_ref().and_then(|d| d.last().copied());
            if !inactive(last, since) {
                continue;
            }
            let f = flags(&user);
            out.push((
                last,
                InactiveUser {
                    email: text(self.email, code),
                    username: text(self.username, code),
                    user,
                    last_active: last.map(format_day),
                    service_account: f.map(|f| f & 1 != 0),
                    site_admin: f.map(|f| f & 2 != 0),
                },
            ));
        }
        if let Some(registry) = registry {
            let in_export: HashSet<&str> = users.values.iter().map(String::as_str).collect();
            for (id, f) in registry.users() {
                if in_export.contains(id) || !candidates.keeps_absent(id, f) {
                    continue;
                }
                out.push((
                    None,
                    InactiveUser {
                        user: id.to_string(),
                        email: None,
                        username: None,
                        last_active: None,
                        service_account: Some(f & 1 != 0),
                        site_admin: Some(f & 2 != 0),
                    },
                ));
            }
        }
        Ok(inactive_answer(query, as_of, out, registry.is_some()))
    }
}

/// How the inactive users list names itself in errors.
pub(super) const INACTIVE: &str = "the inactive users list";

/// Checks the inactive users query.
pub(super) fn check_inactive(query: &InactiveQuery) -> Result<(), Error> {
    if query.days == 0 {
        return Err(Error::query("days: expected at least 1"));
    }
    Ok(())
}

/// The first day of the last `query.days` days of the range (which ends `as_of`).
pub(super) fn inactive_since(query: &InactiveQuery, as_of: Option<i32>) -> Option<i64> {
    as_of.map(|d| i64::from(d) - i64::from(query.days) + 1)
}

/// Whether a user last active on `last` (`None`: never) has no active day since `since`.
pub(super) fn inactive(last: Option<i32>, since: Option<i64>) -> bool {
    last.is_none_or(|d| since.is_none_or(|s| i64::from(d) < s))
}

/// The answer from its inactive users and their last active days: never active first, then the
/// longest inactive, then by user.
pub(super) fn inactive_answer(
    query: &InactiveQuery,
    as_of: Option<i32>,
    out: Vec<(Option<i32>, InactiveUser)>,
    registry: bool,
) -> Inactive {
    let mut order: Vec<u32> = (0..out.len() as u32).collect();
    crate::order::sort_indices(&mut order, &|a, b| {
        let ((a, ua), (b, ub)) = (&out[a as usize], &out[b as usize]);
        a.cmp(b).then_with(|| ua.user.cmp(&ub.user))
    });
    let mut out: Vec<Option<InactiveUser>> = out.into_iter().map(|(_, u)| Some(u)).collect();
    Inactive {
        days: query.days,
        as_of: as_of.map(format_day),
        users: order
            .into_iter()
            .filter_map(|i| out[i as usize].take())
            .collect(),
        registry,
    }
}
