//! What reading an input noticed: a skipped row, a cell that did not parse, a people file's
//! repeated user. The ingest, the joins and every summary carry these.

use serde::Serialize;

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
