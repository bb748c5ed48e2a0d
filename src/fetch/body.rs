//! What the session makes of whole bodies: the export's copy without a later window's header,
//! and the credits answer as data.

use super::error::{FetchCode, FetchError};

/// Skips a CSV's first record (its header) across the pieces of a body.
pub(super) struct HeaderSkip {
    /// The header is behind (or is kept): every byte from here is passed on.
    pub(super) passed: bool,
    quoted: bool,
}

impl HeaderSkip {
    pub(super) fn new(passed: bool) -> HeaderSkip {
        HeaderSkip {
            passed,
            quoted: false,
        }
    }

    pub(super) fn skip<'a>(&mut self, piece: &'a [u8]) -> &'a [u8] {
        if self.passed {
            return piece;
        }
        for (i, &b) in piece.iter().enumerate() {
            match b {
                b'"' => self.quoted = !self.quoted,
                b'\n' if !self.quoted => {
                    self.passed = true;
                    return &piece[i + 1..];
                }
                _ => {}
            }
        }
        &[]
    }
}

/// The credits answer: JSON as it is (by its `Content-Type`, or by its first character when
/// that names neither), CSV as an array of objects keyed by its header (cells as strings).
pub(super) fn parse_credits(
    bytes: &[u8],
    content_type: &str,
) -> Result<serde_json::Value, FetchError> {
    let content_type = content_type.to_ascii_lowercase();
    let looks_json = bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| matches!(b, b'{' | b'['));
    if content_type.contains("json") || (!content_type.contains("csv") && looks_json) {
        return serde_json::from_slice(bytes).map_err(|e| {
            FetchError::new(
                FetchCode::InvalidInput,
                format!("the credits answer is not valid JSON: {e}"),
            )
        });
    }
    let not_csv = |e: csv::Error| {
        FetchError::new(
            FetchCode::InvalidInput,
            format!("the credits answer is neither JSON nor CSV: {e}"),
        )
    };
    let mut reader = csv::Reader::from_reader(bytes);
    let headers = reader.headers().map_err(not_csv)?.clone();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(not_csv)?;
        let object: serde_json::Map<String, serde_json::Value> = headers
            .iter()
            .zip(record.iter())
            .map(|(h, v)| (h.trim().to_string(), serde_json::Value::from(v)))
            .collect();
        rows.push(serde_json::Value::Object(object));
    }
    Ok(serde_json::Value::Array(rows))
}
