//! Arguments read from JSON (the JS API's query, filter and adoption objects): a wrong one is told
//! in plain words, with the field at fault named, never in Rust's (`expected usize`).

use serde::de::DeserializeOwned;

/// A JSON argument that could not be read: the field at fault (`limit`, `filter.from`,
/// `groupBy[0]`; `None` for the argument as a whole) and the problem in plain words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArgumentError {
    /// Where in the argument: a dotted path with `[index]` for list items.
    pub field: Option<String>,
    /// What is wrong, in plain words, naming the field.
    pub message: String,
}

impl std::fmt::Display for ArgumentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ArgumentError {}

/// Reads `json` as a `T`; `what` names the argument in messages (`query`, `filter`).
pub fn from_json<T: DeserializeOwned>(json: &[u8], what: &str) -> Result<T, ArgumentError> {
    serde_json::from_slice(json).map_err(|e| {
        // Where serde_json stopped, as a path: the page never wrote this JSON text, so a line
        // and column in it would mean nothing. (Found from the text rather than by wrapping
        // every deserializer, which would grow the wasm module by a tenth.)
        let field = (e.line() == 1).then(|| path_at(json, e.column())).flatten();
        let text = e.to_string();
        let text = text.rfind(" at line ").map_or(&text[..], |at| &text[..at]);
        if let Some(rest) = text.strip_prefix("unknown field ") {
            let message = unknown_field(what, field.as_deref(), rest);
            return ArgumentError { field, message };
        }
        let problem = plain(text);
        let message = match &field {
            Some(field) => format!("invalid {what}: {field} {problem}"),
            None => format!("invalid {what}: {problem}"),
        };
        ArgumentError { field, message }
    })
}

/// The path (`filter.from`, `groupBy[0]`) of what one-line JSON `json` was reading when it had
/// read its first `end` bytes: the key or index of each object and array still open there.
fn path_at(json: &[u8], end: usize) -> Option<String> {
    enum Frame {
        Object {
            key: Option<String>,
            expect_key: bool,
        },
        Array {
            index: usize,
        },
    }
    let json = json.get(..end.min(json.len()))?;
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    while i < json.len() {
        match json[i] {
            b'{' => stack.push(Frame::Object {
                key: None,
                expect_key: true,
            }),
            b'[' => stack.push(Frame::Array { index: 0 }),
            b'}' | b']' => {
                stack.pop();
            }
            b',' => match stack.last_mut() {
                Some(Frame::Object { key, expect_key }) => {
                    *key = None;
                    *expect_key = true;
                }
                Some(Frame::Array { index }) => *index += 1,
                None => {}
            },
            b':' => {
                if let Some(Frame::Object { expect_key, .. }) = stack.last_mut() {
                    *expect_key = false;
                }
            }
            b'"' => {
                let start = i + 1;
                i = start;
                while i < json.len() && json[i] != b'"' {
                    i += if json[i] == b'\\' { 2 } else { 1 };
                }
                if let Some(Frame::Object {
                    key,
                    expect_key: true,
                }) = stack.last_mut()
                {
                    let end = i.min(json.len());
                    *key = Some(String::from_utf8_lossy(&json[start..end]).into_owned());
                }
            }
            _ => {}
        }
        i += 1;
    }
    let mut path = String::new();
    for frame in &stack {
        match frame {
            Frame::Object { key: Some(key), .. } => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
            }
            Frame::Object { key: None, .. } => break,
            Frame::Array { index } => path.push_str(&format!("[{index}]")),
        }
    }
    (!path.is_empty()).then_some(path)
}

/// `unknown field `x`, expected one of `a`, `b`` (serde's words after its prefix) as: the object
/// has no field "x" (did you mean "X"?): it takes "a", "b".
fn unknown_field(what: &str, path: Option<&str>, rest: &str) -> String {
    let rest = rest.replace('`', "\"");
    let (name, allowed) = rest.split_once(", expected ").unwrap_or((&rest, ""));
    let allowed = allowed.strip_prefix("one of ").unwrap_or(allowed);
    let parent = path
        .and_then(|p| p.rsplit_once('.'))
        .map(|(parent, _)| format!(" in {parent}"))
        .unwrap_or_default();
    let bare = name.trim_matches('"');
    let guess = allowed
        .split([',', ' '])
        .map(|a| a.trim_matches('"'))
        .find(|a| !a.is_empty() && a.eq_ignore_ascii_case(bare))
        .map(|a| format!(" (did you mean \"{a}\"?)"))
        .unwrap_or_default();
    let takes = if allowed.is_empty() {
        String::new()
    } else {
        format!(": it takes {allowed}")
    };
    format!("invalid {what}: unknown field {name}{parent}{guess}{takes}")
}

/// serde's words for what it found and what it wanted, in plain ones.
fn plain(text: &str) -> String {
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = text.strip_prefix(prefix) {
            if let Some((found, expected)) = rest.split_once(", expected ") {
                return format!(
                    "must be {}, not {}",
                    expected_words(expected),
                    found_words(found)
                );
            }
        }
    }
    if let Some(rest) = text.strip_prefix("missing field ") {
        return format!("needs {}", rest.replace('`', "\""));
    }
    if let Some(rest) = text.strip_prefix("unknown variant ") {
        let rest = rest.replace('`', "\"");
        return match rest.split_once(", expected ") {
            Some((value, allowed)) => format!("cannot be {value}: it takes {allowed}"),
            None => format!("cannot be {rest}"),
        };
    }
    text.replace('`', "\"")
}

fn expected_words(expected: &str) -> String {
    match expected {
        "usize" | "u64" | "u32" | "u16" | "u8" => "a whole number, 0 or more".into(),
        "isize" | "i64" | "i32" | "i16" | "i8" => "a whole number".into(),
        "f64" | "f32" => "a number".into(),
        "a sequence" => "a list".into(),
        "a map" => "an object".into(),
        "a boolean" => "true or false".into(),
        "a string" | "a borrowed string" => "a string".into(),
        e if e.starts_with("struct ") => "an object".into(),
        e => e.replace('`', "\""),
    }
}

fn found_words(found: &str) -> String {
    let unquote = |s: &str| s.trim_matches('`').to_string();
    if let Some(s) = found.strip_prefix("string ") {
        return format!("the text {s}");
    }
    for prefix in ["integer ", "floating point ", "boolean "] {
        if let Some(v) = found.strip_prefix(prefix) {
            return unquote(v);
        }
    }
    match found {
        "map" => "an object".into(),
        "sequence" => "a list".into(),
        "unit" | "null" => "null".into(),
        f => f.replace('`', "\""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{InactiveQuery, PeriodQuery, Query};

    fn query_error(json: &str) -> ArgumentError {
        from_json::<Query>(json.as_bytes(), "query").unwrap_err()
    }

    #[test]
    fn a_wrong_type_names_the_field_and_says_what_it_takes_in_plain_words() {
        let e = query_error(r#"{"limit": "x"}"#);
        assert_eq!(e.field.as_deref(), Some("limit"));
        assert_eq!(
            e.message,
            r#"invalid query: limit must be a whole number, 0 or more, not the text "x""#
        );
        let e = query_error(r#"{"limit": -1}"#);
        assert_eq!(
            e.message,
            "invalid query: limit must be a whole number, 0 or more, not -1"
        );
        let e = query_error(r#"{"groupBy": "month"}"#);
        assert_eq!(e.field.as_deref(), Some("groupBy"));
        assert_eq!(
            e.message,
            r#"invalid query: groupBy must be a list, not the text "month""#
        );
        let e = query_error(r#"{"filter": {"activeOnly": "yes"}}"#);
        assert_eq!(e.field.as_deref(), Some("filter.activeOnly"));
        assert!(e.message.contains("must be true or false"), "{}", e.message);
    }

    #[test]
    fn no_message_speaks_rust_or_points_into_json_text() {
        for json in [
            r#"{"limit": "x"}"#,
            r#"{"offset": 1.5}"#,
            r#"{"groupBy": [1]}"#,
            r#"{"filter": 5}"#,
            r#"{"sort": {"by": 3}}"#,
            r#"{"minutesSaved": {"chat": "a"}}"#,
        ] {
            let e = query_error(json);
            for rust in [
                "usize",
                "u32",
                "u64",
                "f64",
                "a sequence",
                "a map",
                "struct ",
                "line 1",
                "column",
            ] {
                assert!(!e.message.contains(rust), "{json}: {}", e.message);
            }
        }
        let e = from_json::<InactiveQuery>(br#"{"days": "x"}"#, "query").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("days"));
        assert!(!e.message.contains("u32"), "{}", e.message);
    }

    #[test]
    fn a_value_outside_a_choice_lists_the_choices() {
        let e = from_json::<PeriodQuery>(br#"{"period": "year"}"#, "query").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("period"));
        assert_eq!(
            e.message,
            r#"invalid query: period cannot be "year": it takes "week" or "month""#
        );
    }

    #[test]
    fn an_unknown_field_is_named_with_where_it_is_and_a_guess() {
        let e = query_error(r#"{"groupby": ["month"]}"#);
        assert_eq!(e.field.as_deref(), Some("groupby"));
        assert!(
            e.message.starts_with(r#"invalid query: unknown field "groupby" (did you mean "groupBy"?): it takes "groupBy", "filter""#),
            "{}",
            e.message
        );
        let e = query_error(r#"{"filter": {"From": "2025-01-01"}}"#);
        assert_eq!(e.field.as_deref(), Some("filter.From"));
        assert!(
            e.message.starts_with(
                r#"invalid query: unknown field "From" in filter (did you mean "from"?)"#
            ),
            "{}",
            e.message
        );
    }

    #[test]
    fn the_path_is_that_of_the_value_being_read() {
        let e = query_error(r#"{"sort":{"by":3}}"#);
        assert_eq!(e.field.as_deref(), Some("sort.by"));
        let e = query_error(r#"{"groupBy":["month",1]}"#);
        assert_eq!(e.field.as_deref(), Some("groupBy[1]"));
        let e = query_error(r#"{"limit":2,"filter":{"users":["a\"b",3]}}"#);
        assert_eq!(e.field.as_deref(), Some("filter.users[1]"));
        let e = query_error(r#"{"minutesSaved":{"chat":"a"}}"#);
        assert_eq!(e.field.as_deref(), Some("minutesSaved.chat"));
        // The argument as a whole: no field.
        let e = from_json::<Query>(br#""month""#, "query").unwrap_err();
        assert_eq!(e.field, None);
    }

    #[test]
    fn a_good_argument_reads() {
        let q: Query = from_json(br#"{"groupBy": ["month"], "limit": 3}"#, "query").unwrap();
        assert_eq!(
            q,
            serde_json::from_str(r#"{"groupBy": ["month"], "limit": 3}"#).unwrap()
        );
    }
}
