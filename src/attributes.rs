//! People attributes (teams, departments, managers): a CSV the user provides, keyed by user ID,
//! e-mail or username, joined onto the report's users (docs/numbers.md, "People files"). Each of
//! its other columns becomes a group key and a filter under its header as written; users without a
//! match have no value (`null`, shown as "(unmapped)").

use serde::Serialize;

use crate::column::FxHashMap;
use crate::error::Error;
use crate::schema::{KnownColumn, STRUCTURAL_NAMES};
use crate::table::{Attributes, Table, UNMAPPED};
use crate::warning::Warning;

/// Names a people file's column may not take: the built-in group keys and the fields groups by
/// user carry (any case), besides the structural fields.
const RESERVED: [&str; 12] = [
    "user",
    "day",
    "week",
    "month",
    "client",
    "language",
    "email",
    "username",
    "serviceAccount",
    "siteAdmin",
    "firstActive",
    "lastActive",
];

/// What joining a people file did.
#[derive(Clone, Debug, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AttributesJoin {
    /// The attributes it adds (group keys and filters), in the file's order.
    pub attributes: Vec<String>,
    /// The column the file is keyed by.
    pub key: String,
    /// The report's users it has a line for.
    pub matched: usize,
    /// The report's users it has no line for (their attributes are `null`).
    pub unmatched: usize,
    /// Lines of people in the file.
    pub people: usize,
    /// Lines it ignored (a user listed again: the first line wins): the first
    /// [`Table::MAX_WARNINGS`].
    pub warnings: Vec<Warning>,
    /// How many lines it ignored in all.
    pub warnings_total: u64,
}

/// The values a filter on one people-file column can choose from (`info().choices.attributes`).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct AttributeChoices {
    /// The column, as written in the file (the key of `filter.attributes`).
    pub name: String,
    /// The values the report's users have, most users first (ties in the file's order), then
    /// `""` when some users have no value ("(unmapped)"; `""` in a filter keeps them). Values
    /// only people absent from the export have are left out: choosing them would keep nothing.
    pub values: Vec<String>,
}

impl Table {
    /// Per attribute of the joined people file, the values a filter can choose from.
    pub(crate) fn attribute_choices(&self) -> Vec<AttributeChoices> {
        let (Some(attributes), Some(identity)) = (&self.attributes, self.identity()) else {
            return Vec::new();
        };
        // Only users with rows count (a dictionary may hold codes that no row kept).
        let mut present = vec![false; identity.values.len()];
        identity
            .codes
            .for_each(|_, code| present[code as usize] = true);
        attributes
            .names
            .iter()
            .enumerate()
            .map(|(a, name)| {
                let mut users = vec![0u64; attributes.values[a].len()];
                let mut unmapped = false;
                for (&value, _) in attributes.of_user[a]
                    .iter()
                    .zip(&present)
                    .filter(|(_, &p)| p)
                {
                    if value == UNMAPPED {
                        unmapped = true;
                    } else {
                        users[value as usize] += 1;
                    }
                }
                let mut values: Vec<String> = crate::order::most_first(&users)
                    .into_iter()
                    .map(|v| attributes.values[a][v].clone())
                    .collect();
                if unmapped {
                    values.push(String::new());
                }
                AttributeChoices {
                    name: name.clone(),
                    values,
                }
            })
            .collect()
    }

    /// Joins a people file (CSV): replaces any earlier one. Its header names one key column
    /// (`Instance user ID`, `User Email` or `Username`, any case; e-mail and username match
    /// without regard to case) and any other columns, each of which becomes an attribute.
    pub fn join_attributes(&mut self, data: &[u8]) -> Result<AttributesJoin, Error> {
        let input = |message: String| Error::new(crate::ErrorKind::Input, message);
        let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(data);
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| input(format!("people file: {e}")))?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        // The key column names a user as the export's header does (the same matching).
        let keys: Vec<(usize, KnownColumn)> = header
            .iter()
            .enumerate()
            .filter_map(|(i, h)| {
                let known = KnownColumn::from_header(h)?;
                known.is_user_key().then_some((i, known))
            })
            .collect();
        let (key_at, kind) = match keys.as_slice() {
            [one] => *one,
            [] => {
                return Err(input(
                    "people file: its header names no key column; expected one of Instance \
                     user ID, User Email or Username"
                        .into(),
                ))
            }
            _ => {
                return Err(input(format!(
                    "people file: its header names {} key columns ({}); keep one",
                    keys.len(),
                    keys.iter()
                        .map(|&(i, _)| header[i].as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )))
            }
        };
        let columns: Vec<usize> = (0..header.len()).filter(|&i| i != key_at).collect();
        // Names taken, by a hash each: linear however many columns either file has (a people
        // file of 100 000 columns took 18 s compared pairwise).
        let taken: std::collections::HashSet<String> = RESERVED
            .iter()
            .chain(&STRUCTURAL_NAMES)
            .map(|r| r.to_lowercase())
            .chain(self.columns.iter().map(|c| c.name.to_lowercase()))
            .collect();
        let mut seen: std::collections::HashSet<&str> =
            std::collections::HashSet::with_capacity(columns.len());
        for &i in &columns {
            let name = &header[i];
            let clash = taken.contains(&name.to_lowercase());
            if name.is_empty() {
                return Err(input(format!("people file: column {} has no name", i + 1)));
            }
            if clash {
                return Err(input(format!(
                    "people file: the column {name:?} has the name of a built-in key, field or \
                     export column; rename it"
                )));
            }
            if !seen.insert(name.as_str()) {
                return Err(input(format!(
                    "people file: the column {name:?} appears twice"
                )));
            }
        }
        let report_column = self.columns.iter().position(|c| c.known == Some(kind));
        let Some(report_keys) = self.text(report_column) else {
            return Err(input(format!(
                "people file: it is keyed by {}, and this export has no such column",
                header[key_at]
            )));
        };
        let identity = self
            .identity()
            .expect("an export with a user column has an identity");
        let fold = |s: &str| {
            let s = s.trim();
            if kind == KnownColumn::UserId {
                s.to_string()
            } else {
                s.to_lowercase()
            }
        };

        // The file: each person's line (the first one wins), and each attribute's values.
        let mut line_of: FxHashMap<String, usize> = FxHashMap::default();
        let mut cells: Vec<Vec<u32>> = vec![Vec::new(); columns.len()];
        let mut values: Vec<Vec<String>> = vec![Vec::new(); columns.len()];
        let mut index: Vec<FxHashMap<String, u32>> = vec![FxHashMap::default(); columns.len()];
        let mut warnings = Vec::new();
        let mut warnings_total: u64 = 0;
        let mut people = 0;
        for record in reader.records() {
            let record = record.map_err(|e| input(format!("people file: {e}")))?;
            let line = record.position().map_or(0, |p| p.line());
            let key = fold(record.get(key_at).unwrap_or(""));
            if key.is_empty() {
                continue;
            }
            if line_of.contains_key(&key) {
                // The first ones kept, all counted, as the report's own warnings.
                warnings_total += 1;
                if warnings.len() < Table::MAX_WARNINGS {
                    warnings.push(Warning {
                        line,
                        column: Some(header[key_at].clone()),
                        message: format!("{key:?} is listed again; its first line is kept"),
                    });
                }
                continue;
            }
            line_of.insert(key, people);
            people += 1;
            for (a, &i) in columns.iter().enumerate() {
                let cell = record.get(i).unwrap_or("").trim();
                let code = if cell.is_empty() {
                    UNMAPPED
                } else {
                    *index[a].entry(cell.to_string()).or_insert_with(|| {
                        values[a].push(cell.to_string());
                        (values[a].len() - 1) as u32
                    })
                };
                cells[a].push(code);
            }
        }

        // Each report user's line: by the key column's value on the user's first row.
        let person: Vec<Option<usize>> = identity
            .first_rows()
            .iter()
            .map(|&row| {
                (row != u32::MAX)
                    .then(|| line_of.get(&fold(report_keys.value(row as usize))).copied())
                    .flatten()
            })
            .collect();
        let matched = person.iter().filter(|p| p.is_some()).count();
        let of_user = cells
            .iter()
            .map(|cells| {
                person
                    .iter()
                    .map(|p| p.map_or(UNMAPPED, |p| cells[p]))
                    .collect()
            })
            .collect();
        let names: Vec<String> = columns.iter().map(|&i| header[i].clone()).collect();
        let by_id = (kind == KnownColumn::UserId).then(|| {
            line_of
                .into_iter()
                .map(|(id, p)| (id, cells.iter().map(|cells| cells[p]).collect()))
                .collect()
        });
        self.attributes = Some(Attributes {
            names: names.clone(),
            values,
            of_user,
            by_id,
        });
        Ok(AttributesJoin {
            attributes: names,
            key: header[key_at].clone(),
            matched,
            unmatched: person.len() - matched,
            people,
            warnings,
            warnings_total,
        })
    }
}
