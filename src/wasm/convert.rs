//! What crosses the boundary: the argument types TypeScript sees, JS objects read through serde,
//! answers written as plain JS objects, and the core's errors as coded JS `Error`s.

use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::ErrorKind;

#[wasm_bindgen]
extern "C" {
    /// A `Query` object from JS; declared as such for TypeScript, read through serde.
    #[wasm_bindgen(typescript_type = "Query")]
    pub type QueryArg;

    /// A `Filter` object from JS; declared as such for TypeScript, read through serde.
    #[wasm_bindgen(typescript_type = "Filter")]
    pub type FilterArg;

    /// A `PeriodQuery` object from JS.
    #[wasm_bindgen(typescript_type = "PeriodQuery")]
    pub type PeriodQueryArg;

    /// An `InactiveQuery` object from JS.
    #[wasm_bindgen(typescript_type = "InactiveQuery")]
    pub type InactiveQueryArg;
}

/// A JS `Error` with the message and a `code` for programs (`invalid_input`, `invalid_query`,
/// `invalid_argument`, `too_large`, `out_of_memory`), so a page never has to match message text.
fn coded_error(code: &str, message: impl std::fmt::Display) -> JsValue {
    let error = js_sys::Error::new(&message.to_string());
    // Setting a property on a fresh Error cannot fail.
    let _ = js_sys::Reflect::set(&error, &"code".into(), &code.into());
    error.into()
}

/// A JS `Error` for a misuse of the API (a wrong argument type, a finished builder).
pub(crate) fn js_error(message: impl std::fmt::Display) -> JsValue {
    coded_error("invalid_argument", message)
}

/// A JS `Error` for an error of the core, coded by its kind.
pub(crate) fn core_error(e: crate::Error) -> JsValue {
    let code = match e.kind() {
        ErrorKind::Query => "invalid_query",
        ErrorKind::Input | ErrorKind::EmptyInput => "invalid_input",
        ErrorKind::TooLarge => "too_large",
        ErrorKind::OutOfMemory => "out_of_memory",
        ErrorKind::PeopleFile => "people_file",
    };
    coded_error(code, e)
}

/// Plain JS objects (not `Map`s) for every serde map, as the summary shape wants.
pub(crate) fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(js_error)
}

/// A query or filter from a JS object. It goes through JSON rather than serde-wasm-bindgen, which
/// reads only the fields it knows: a misspelled option must be an error, not silently ignored.
pub(super) fn from_js<T: serde::de::DeserializeOwned + Default>(
    value: Option<impl Into<JsValue>>,
    what: &str,
) -> Result<T, JsValue> {
    let Some(value) = value
        .map(Into::into)
        .filter(|v: &JsValue| !v.is_null() && !v.is_undefined())
    else {
        return Ok(T::default());
    };
    if !value.is_object() || value.is_function() {
        return Err(js_error(format!("the {what} must be an object")));
    }
    let json: String = js_sys::JSON::stringify(&value)
        .ok()
        .and_then(|json| json.as_string())
        .ok_or_else(|| js_error(format!("the {what} cannot be read as JSON")))?;
    // From the bytes: the module then holds one JSON reader, the one `fetchCredits` uses. A
    // wrong field is named (`field`) and told in plain words.
    crate::argument::from_json(json.as_bytes(), what).map_err(|e| {
        let error = coded_error("invalid_query", &e.message);
        if let Some(field) = &e.field {
            let _ = js_sys::Reflect::set(&error, &"field".into(), &field.into());
        }
        error
    })
}

/// The query `inactiveUsers` and `inactiveUsersCsv` cannot do without (it says how many days).
pub(super) fn inactive_query(query: InactiveQueryArg) -> Result<crate::InactiveQuery, JsValue> {
    let query: JsValue = query.into();
    if query.is_undefined() || query.is_null() {
        return Err(js_error(
            "inactiveUsers takes a query: { days, filter? } (days: a whole number, 1 or more)",
        ));
    }
    from_js(Some(query), "query")
}
