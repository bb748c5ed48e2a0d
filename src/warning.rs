//! What reading an input noticed: a skipped row, a cell that did not parse, a people file's
//! repeated user. The ingest, the joins and every summary carry these.

use serde::Serialize;

/// How many warnings are kept with their details; the rest are only counted.
pub(crate) const MAX_WARNINGS: usize = 1000;

/// Something the ingest noticed: a skipped row, or a cell that did not parse.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// The physical line the record starts on (1 is the header).
    pub line: u64,
    /// The column of a bad cell (`None` for a skipped row).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// What was expected and what was found.
    pub message: String,
}

/// Warnings as they are gathered: the first [`MAX_WARNINGS`] kept, all counted.
#[derive(Default)]
pub(crate) struct Warnings {
    pub list: Vec<Warning>,
    pub total: u64,
}

impl Warnings {
    pub fn add(&mut self, line: u64, column: Option<String>, message: String) {
        self.total += 1;
        if self.list.len() < MAX_WARNINGS {
            self.list.push(Warning {
                line,
                column,
                message,
            });
        }
    }
}
