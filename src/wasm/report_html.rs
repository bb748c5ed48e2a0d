//! `report.reportHtml(options, credits?)`: the report to share, written by the module from the
//! loaded export (the page's "Download report"). Only with the `html-report` feature: the writer
//! adds to the module's size (docs/performance.md has the figure).

use wasm_bindgen::prelude::*;

use super::convert::{core_error, from_js};
use super::Report;

#[wasm_bindgen(typescript_custom_section)]
const TS_REPORT: &'static str = r#"
/** What the report to share states and how it is cut (`report.reportHtml`): the CLI's `report`
 * options. */
export interface ReportOptions {
  /** The instance the export is of, stated in the report's head (none: "an export"). */
  instance?: string;
  filter?: Filter;
  period?: "week" | "month";
  /** The key of the top groups (`user` by default; a people file's column for teams). */
  by?: string;
  /** How many top groups (10 by default). */
  top?: number;
  minutesSaved?: Record<string, number>;
  /** The smallest denominator a rate is shown firmly over (50 by default). */
  minSample?: number;
  /** The day the report was made, `YYYY-MM-DD` in UTC (none: not stated). */
  generated?: string;
}
"#;

#[wasm_bindgen]
extern "C" {
    /// A `ReportOptions` object from JS, read through serde; optional in TypeScript.
    #[wasm_bindgen(typescript_type = "ReportOptions")]
    pub type ReportOptionsArg;

    /// What `fetchCredits` returned; optional in TypeScript.
    #[wasm_bindgen(typescript_type = "JsonValue")]
    pub type CreditsArg;
}

#[wasm_bindgen]
impl Report {
    /// The report to share: one self-contained HTML document (no script, no request), the same
    /// as `sg-analytics report` writes. `credits` (what `fetchCredits` returned) adds the cost.
    #[wasm_bindgen(js_name = reportHtml)]
    pub fn report_html(
        &self,
        options: Option<ReportOptionsArg>,
        credits: Option<CreditsArg>,
    ) -> Result<String, JsValue> {
        let options: crate::ReportOptions = from_js(options, "options")?;
        let credits = match credits.map(JsValue::from) {
            Some(credits) if !credits.is_undefined() && !credits.is_null() => {
                let value: serde_json::Value = from_js(Some(credits), "credits")?;
                Some(crate::Credits::from_value(&value).map_err(core_error)?)
            }
            _ => None,
        };
        self.table
            .report_html(&options, credits.as_ref())
            .map_err(core_error)
    }
}
