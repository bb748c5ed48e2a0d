//! The export's columns: canonical names, how headers are matched, and what each column means.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, ErrorKind};

macro_rules! known_columns {
    ($($variant:ident => $name:literal, $role:expr;)*) => {
        /// A column of the published column table, reported under its canonical name.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum KnownColumn {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant,
            )*
        }

        impl KnownColumn {
            /// Every known column, in the documented order.
            pub const ALL: &'static [KnownColumn] = &[$(KnownColumn::$variant),*];

            /// The canonical header, as the published column table spells it.
            pub fn name(self) -> &'static str {
                match self { $(KnownColumn::$variant => $name),* }
            }

            pub(crate) fn role(self) -> Role {
                match self { $(KnownColumn::$variant => $role),* }
            }
        }
    };
}

use Role::*;

known_columns! {
    UserId => "Instance user ID", Text;
    UserEmail => "User Email", Text;
    Username => "Username", Text;
    Active => "Active Sourcegraph User", Bool;
    ClientName => "Client Name", Text;
    TimestampDate => "Timestamp Date", Date;
    TimestampMonth => "Timestamp Month", Date;
    Language => "Language", Text;
    Searches => "Searches", Count;
    CodeNavigationEvents => "Code Navigation Events", Count;
    CodeInsightViews => "Code Insight Views", Count;
    ChatEvents => "Chat Events", Count;
    CommandEvents => "Command Events", Count;
    CompletionSuggestions => "Combined Completion Suggestions", Count;
    CompletionAcceptances => "Combined Completion Acceptances", Count;
    AcceptedCharCount => "Total Accepted Char Count", Count;
    CombinedCar => "Combined CAR", Rate;
    WeightedCar => "Weighted CAR", Rate;
    CharsWrittenByCody => "Total Characters Written by Cody", Count;
    CharsWritten => "Total Characters Written", Count;
    PercentWrittenByCody => "Percentage of Code Written by Cody", Rate;
    AutoEditSuggested => "Auto-edit suggested events", Count;
    AutoEditAccepted => "Auto-edit accepted events", Count;
    AutoEditRate => "Auto-edit acceptance rate", Rate;
    LinesChangedByChats => "Lines changed by chats and commands", Count;
    LinesChangedByCompletions => "Lines changed by completions and auto-edits", Count;
}

/// How a column's cells are parsed and aggregated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// Free text, dictionary-encoded (user identity, client, language).
    Text,
    /// `true`/`yes`/`y`/`t`/`1` and their negatives, any case.
    Bool,
    /// A date: `YYYY-MM-DD`, `YYYY-MM`, or a timestamp with a time part.
    Date,
    /// An additive count: summed.
    Count,
    /// A rate: never summed, recomputed from its parts after grouping.
    Rate,
}

impl KnownColumn {
    /// Matches a header as written: case, surrounding or repeated spaces and a BOM don't matter.
    pub fn from_header(header: &str) -> Option<KnownColumn> {
        let wanted = normalize_header(header);
        KnownColumn::ALL
            .iter()
            .copied()
            .find(|c| normalize_header(c.name()) == wanted)
    }

    /// The columns that name a user. A people file is keyed by one of them; an export whose
    /// header names no other known column has no usage to answer.
    pub(crate) fn is_user_key(self) -> bool {
        matches!(
            self,
            KnownColumn::UserId | KnownColumn::UserEmail | KnownColumn::Username
        )
    }
}

/// The header as it is matched: BOM dropped, trimmed, runs of white space folded to one space,
/// lower case.
pub(crate) fn normalize_header(header: &str) -> String {
    header
        .trim_start_matches('\u{feff}')
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The fields a summary computes, which share a JSON object with the metrics named after
/// columns (`totals`, each group, the adoption answers): a column of one of these names is renamed
/// so it never overwrites the computed figure.
pub const STRUCTURAL_NAMES: [&str; 17] = [
    "rows",
    "users",
    "activeUsers",
    "avgDau",
    "avgDaysActivePerUser",
    "hoursSaved",
    "key",
    "firstActive",
    "lastActive",
    "period",
    "newUsers",
    "retainedUsers",
    "resurrectedUsers",
    "churnedUsers",
    "quickRatio",
    "cohort",
    "active",
];

/// Whether a column's name is one of [`STRUCTURAL_NAMES`], in any case (`USERS` and `HoursSaved`
/// read as `users` and `hoursSaved` to a person, and to any case-blind consumer).
pub(crate) fn is_structural_name(name: &str) -> bool {
    STRUCTURAL_NAMES
        .iter()
        .any(|s| s.eq_ignore_ascii_case(name))
}

/// The header as reported for an unknown column: BOM dropped, trimmed, a NUL byte (which ends the
/// name for a C string, a terminal or a log) shown as U+FFFD.
pub(crate) fn display_header(header: &str) -> String {
    header
        .trim_start_matches('\u{feff}')
        .trim()
        .replace('\0', "\u{fffd}")
}

/// Whether an unknown column's header says it holds a rate (never summed).
pub(crate) fn header_says_rate(header: &str) -> bool {
    let h = normalize_header(header);
    h.contains('%')
        || h.split(|c: char| !c.is_alphanumeric()).any(|w| {
            matches!(
                w,
                "rate" | "rates" | "car" | "percent" | "percentage" | "pct" | "ratio"
            )
        })
}

/// Whether a rate's header says it is a percentage (0–100) rather than a ratio (0–1).
pub(crate) fn header_says_percent(header: &str) -> bool {
    let h = normalize_header(header);
    h.contains('%')
        || h.split(|c: char| !c.is_alphanumeric())
            .any(|w| matches!(w, "percent" | "percentage" | "pct"))
}

/// How a column is stored while it is read: known columns by their role; unknown ones as text,
/// typed by their content once the input ends (see [`Role::Count`]).
pub(crate) fn role_of(known: Option<KnownColumn>) -> Role {
    known.map_or(Role::Text, KnownColumn::role)
}

/// How a numeric column aggregates (rates are never summed, but recomputed from their summed
/// parts after grouping).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Measure {
    /// Summed.
    Sum,
    /// Recomputed from summed parts: `factor × Σ numerator / Σ denominator` (column indexes).
    Ratio {
        numerator: usize,
        denominator: usize,
        factor: u32,
    },
    /// `Weighted CAR`: the suggestion-weighted mean over rows with both parts (approximate).
    WeightedMean { weight: usize },
    /// A rate whose parts are not in the export: the row-weighted mean (approximate).
    Mean,
}

/// One column as the schema sees it, to decide its measure.
pub(crate) struct ColumnShape<'a> {
    pub known: Option<KnownColumn>,
    /// Whether its cells ended up numbers.
    pub numeric: bool,
    /// The name it is reported under.
    pub name: &'a str,
}

/// How each column aggregates: `None` for text, dates and booleans; rates from their parts where
/// the export has them, else (and for unknown rate columns) the approximate means.
pub(crate) fn measures(columns: &[ColumnShape<'_>]) -> Vec<Option<Measure>> {
    let find = |k: KnownColumn| columns.iter().position(|c| c.known == Some(k));
    let ratio = |numerator: KnownColumn, denominator: KnownColumn, factor: u32| match (
        find(numerator),
        find(denominator),
    ) {
        (Some(numerator), Some(denominator)) => Measure::Ratio {
            numerator,
            denominator,
            factor,
        },
        _ => Measure::Mean,
    };
    columns
        .iter()
        .map(|c| {
            if !c.numeric {
                return None;
            }
            Some(match c.known {
                Some(KnownColumn::CombinedCar) => ratio(
                    KnownColumn::CompletionAcceptances,
                    KnownColumn::CompletionSuggestions,
                    1,
                ),
                Some(KnownColumn::PercentWrittenByCody) => ratio(
                    KnownColumn::CharsWrittenByCody,
                    KnownColumn::CharsWritten,
                    100,
                ),
                Some(KnownColumn::AutoEditRate) => ratio(
                    KnownColumn::AutoEditAccepted,
                    KnownColumn::AutoEditSuggested,
                    1,
                ),
                Some(KnownColumn::WeightedCar) => match find(KnownColumn::CompletionSuggestions) {
                    Some(weight) => Measure::WeightedMean { weight },
                    None => Measure::Mean,
                },
                Some(_) => Measure::Sum,
                None if header_says_rate(c.name) => Measure::Mean,
                None => Measure::Sum,
            })
        })
        .collect()
}

/// The four shapes of the export, from finest to coarsest, named as the API's `granularity`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Granularity {
    /// One row per user over the whole range: no date.
    ByUser,
    /// One row per user and month (`Timestamp Month`).
    ByUserMonth,
    /// One row per user and day (`Timestamp Date`).
    ByUserDay,
    /// One row per user, day, client and language: the API's default.
    ByUserDayClientLanguage,
}

impl Granularity {
    /// Every granularity, as the API names them.
    pub const ALL: [Granularity; 4] = [
        Granularity::ByUser,
        Granularity::ByUserMonth,
        Granularity::ByUserDay,
        Granularity::ByUserDayClientLanguage,
    ];

    /// The API's name: `by_user`, `by_user_month`, `by_user_day`, `by_user_day_client_language`.
    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::ByUser => "by_user",
            Granularity::ByUserMonth => "by_user_month",
            Granularity::ByUserDay => "by_user_day",
            Granularity::ByUserDayClientLanguage => "by_user_day_client_language",
        }
    }

    /// The granularity as a reader says it: `per user and day`.
    pub fn label(self) -> &'static str {
        match self {
            Granularity::ByUser => "per user",
            Granularity::ByUserMonth => "per user and month",
            Granularity::ByUserDay => "per user and day",
            Granularity::ByUserDayClientLanguage => "per user, day, client and language",
        }
    }

    /// Whether rows carry a calendar day (so day, week, DAU and days-active are defined).
    pub fn has_days(self) -> bool {
        matches!(
            self,
            Granularity::ByUserDay | Granularity::ByUserDayClientLanguage
        )
    }

    /// Whether rows carry a date at all (a day or a month).
    pub fn has_dates(self) -> bool {
        self != Granularity::ByUser
    }
}

impl Granularity {
    /// The granularity a header's known columns imply: a day date with a client or language
    /// column is the finest; a day date alone by day; a month date by month; no date by user.
    pub(crate) fn of_columns(known: &[Option<KnownColumn>]) -> Granularity {
        let has = |k: KnownColumn| known.contains(&Some(k));
        if has(KnownColumn::TimestampDate) {
            if has(KnownColumn::ClientName) || has(KnownColumn::Language) {
                Granularity::ByUserDayClientLanguage
            } else {
                Granularity::ByUserDay
            }
        } else if has(KnownColumn::TimestampMonth) {
            Granularity::ByUserMonth
        } else {
            Granularity::ByUser
        }
    }
}

impl fmt::Display for Granularity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Granularity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl FromStr for Granularity {
    type Err = Error;

    fn from_str(s: &str) -> Result<Granularity, Error> {
        Granularity::ALL
            .into_iter()
            .find(|g| g.as_str() == s.trim())
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::Query,
                    format!(
                        "unknown granularity {s:?}: expected one of by_user, by_user_month, \
                         by_user_day, by_user_day_client_language"
                    ),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_match_regardless_of_case_space_and_bom() {
        assert_eq!(
            KnownColumn::from_header("\u{feff}instance USER id"),
            Some(KnownColumn::UserId)
        );
        assert_eq!(
            KnownColumn::from_header("  Combined   completion suggestions "),
            Some(KnownColumn::CompletionSuggestions)
        );
        assert_eq!(KnownColumn::from_header("Chat Events 2"), None);
    }

    #[test]
    fn canonical_names_are_distinct_after_normalization() {
        let mut names: Vec<_> = KnownColumn::ALL
            .iter()
            .map(|c| normalize_header(c.name()))
            .collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), KnownColumn::ALL.len());
    }

    #[test]
    fn rate_headers_are_recognized() {
        assert!(header_says_rate("Agent success rate"));
        assert!(header_says_rate("Percentage of lines"));
        assert!(header_says_rate("Completion %"));
        assert!(header_says_rate("Chat CAR"));
        assert!(!header_says_rate("Cards played"));
        assert!(!header_says_rate("Agent runs"));
        assert!(!header_says_rate("Lines generated"));
    }

    #[test]
    fn measures_recompute_rates_from_their_parts_when_the_export_has_them() {
        let shape = |known: Option<KnownColumn>, name: &'static str| ColumnShape {
            known,
            numeric: true,
            name,
        };
        let text = ColumnShape {
            known: Some(KnownColumn::UserId),
            numeric: false,
            name: "Instance user ID",
        };
        let columns = [
            text,
            shape(Some(KnownColumn::CompletionSuggestions), "s"),
            shape(Some(KnownColumn::CompletionAcceptances), "a"),
            shape(Some(KnownColumn::CombinedCar), "car"),
            shape(Some(KnownColumn::WeightedCar), "w"),
            shape(Some(KnownColumn::AutoEditRate), "ae"),
            shape(None, "Agent success rate"),
            shape(None, "Agent runs"),
        ];
        assert_eq!(
            measures(&columns),
            vec![
                None,
                Some(Measure::Sum),
                Some(Measure::Sum),
                Some(Measure::Ratio {
                    numerator: 2,
                    denominator: 1,
                    factor: 1
                }),
                Some(Measure::WeightedMean { weight: 1 }),
                // Its parts are not in this export.
                Some(Measure::Mean),
                Some(Measure::Mean),
                Some(Measure::Sum),
            ]
        );
        let month = [Some(KnownColumn::UserId), Some(KnownColumn::TimestampMonth)];
        assert_eq!(Granularity::of_columns(&month), Granularity::ByUserMonth);
        let both = [
            Some(KnownColumn::TimestampMonth),
            Some(KnownColumn::TimestampDate),
        ];
        assert_eq!(Granularity::of_columns(&both), Granularity::ByUserDay);
        assert_eq!(Granularity::of_columns(&[None]), Granularity::ByUser);
    }

    #[test]
    fn granularity_round_trips_through_its_name() {
        for g in Granularity::ALL {
            assert_eq!(g.as_str().parse::<Granularity>().unwrap(), g);
        }
        let err = "by_week".parse::<Granularity>().unwrap_err();
        assert!(err.message().contains("by_week"));
    }
}
