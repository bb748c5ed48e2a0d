//! `Report`: a parsed export and its queries, each a method that reads a JS argument, asks the
//! core and answers with a plain JS object or a string.

use wasm_bindgen::prelude::*;

use super::convert::{
    core_error, from_js, inactive_query, js_error, to_js, FilterArg, InactiveQueryArg,
    PeriodQueryArg, QueryArg,
};
use super::{panic_hook, UserRegistry};
use crate::{Filter, Ingester, Query, QueryCache, Table};

/// A parsed export, queried as often as needed. It keeps the work of the last filter (its rows,
/// groups, totals and table order) for the next queries, one filter at a time.
#[wasm_bindgen]
pub struct Report {
    pub(super) table: Table,
    /// Interior mutability keeps the queries `&self` for JS; each call borrows it alone.
    cache: std::cell::RefCell<QueryCache>,
    /// The joined user registry: its users who never appear are inactive too.
    registry: Option<crate::Registry>,
}

impl From<Table> for Report {
    fn from(table: Table) -> Report {
        let cache = QueryCache::with_rollups(&table);
        Report {
            table,
            cache: std::cell::RefCell::new(cache),
            registry: None,
        }
    }
}

impl Report {
    /// The summaries of an array of queries, sharing the work they have in common.
    fn many(&self, queries: JsValue, method: &str) -> Result<Vec<crate::Summary>, JsValue> {
        if !js_sys::Array::is_array(&queries) {
            return Err(js_error(format!("{method} takes an array of queries")));
        }
        let queries: Vec<Query> = from_js(Some(queries), "queries")?;
        self.cache
            .borrow_mut()
            .summarize_many(&self.table, &queries)
            .map_err(core_error)
    }

    fn summary(&self, query: Option<QueryArg>) -> Result<crate::Summary, JsValue> {
        let query: Query = from_js(query, "query")?;
        self.cache
            .borrow_mut()
            .summarize(&self.table, &query)
            .map_err(core_error)
    }
}

#[wasm_bindgen]
impl Report {
    /// Parses a whole export held in memory (bytes or text).
    #[wasm_bindgen(js_name = fromCsv)]
    pub fn from_csv(
        #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] data: JsValue,
    ) -> Result<Report, JsValue> {
        panic_hook();
        let table = if let Some(text) = data.as_string() {
            Table::from_bytes(text.as_bytes())
        } else if data.is_instance_of::<js_sys::Uint8Array>() {
            // A megabyte at a time: the whole input is never copied into wasm memory, which would
            // keep that memory for good (wasm memory does not shrink).
            let array = js_sys::Uint8Array::from(data);
            let mut ingester = Ingester::new();
            ingester.expect_bytes(u64::from(array.length()));
            let mut chunk = vec![0u8; 1 << 20];
            let mut at = 0u32;
            while at < array.length() {
                let end = array.length().min(at + (1 << 20));
                let part = &mut chunk[..(end - at) as usize];
                array.subarray(at, end).copy_to(part);
                ingester.push(part).map_err(core_error)?;
                at = end;
            }
            ingester.finish()
        } else {
            return Err(js_error("Report.fromCsv takes a Uint8Array or a string"));
        };
        table.map(Report::from).map_err(core_error)
    }

    /// What the ingest found: rows, skipped rows, granularity, dates, columns and warnings.
    #[wasm_bindgen(unchecked_return_type = "Info")]
    pub fn info(&self) -> Result<JsValue, JsValue> {
        to_js(&self.table.info())
    }

    /// Totals and, with `groupBy`, one entry per group (the summary shape).
    #[wasm_bindgen(unchecked_return_type = "Summary")]
    pub fn summarize(&self, query: Option<QueryArg>) -> Result<JsValue, JsValue> {
        to_js(&self.summary(query)?)
    }

    /// Several summaries in one call, sharing the filtering, the grouping and the totals between
    /// the queries that have them in common (the table, the charts and the cards of one view).
    #[wasm_bindgen(js_name = summarizeMany, unchecked_return_type = "Summary[]")]
    pub fn summarize_many(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Query[]")] queries: JsValue,
    ) -> Result<JsValue, JsValue> {
        to_js(&self.many(queries, "summarizeMany")?)
    }

    /// `summarizeMany`'s answers as one compact JSON text, the same shape once parsed. The
    /// dashboard's worker sends it to the page: one string crosses the boundary and the thread
    /// where an object graph would be built property by property and copied again.
    #[wasm_bindgen(js_name = summarizeManyJson)]
    pub fn summarize_many_json(
        &self,
        #[wasm_bindgen(unchecked_param_type = "Query[]")] queries: JsValue,
    ) -> Result<String, JsValue> {
        serde_json::to_string(&self.many(queries, "summarizeManyJson")?).map_err(js_error)
    }

    /// The grouped result (or one totals row) as CSV, formula-guarded.
    #[wasm_bindgen(js_name = toCsv)]
    pub fn to_csv(&self, query: Option<QueryArg>) -> Result<String, JsValue> {
        Ok(self.summary(query)?.to_csv())
    }

    /// The summary as pretty-printed JSON.
    #[wasm_bindgen(js_name = toJson)]
    pub fn to_json(&self, query: Option<QueryArg>) -> Result<String, JsValue> {
        Ok(self.summary(query)?.to_json())
    }

    /// The original rows that pass the filter, as CSV in their original columns, every cell as
    /// it was read (formula-guarded, quoted where CSV needs it).
    #[wasm_bindgen(js_name = filteredCsv)]
    pub fn filtered_csv(&self, filter: Option<FilterArg>) -> Result<String, JsValue> {
        let filter: Filter = from_js(filter, "filter")?;
        self.table.filtered_csv(&filter).map_err(core_error)
    }

    /// Joins a user registry (service accounts, site admins); returns how many of the report's
    /// users it knows.
    #[wasm_bindgen(js_name = joinRegistry)]
    pub fn join_registry(&mut self, registry: &UserRegistry) -> usize {
        // The roll-ups are built again with the service accounts as a dimension of their own,
        // so that leaving them out stays a view the roll-ups answer.
        self.cache.borrow_mut().clear();
        self.registry = Some(registry.inner.clone());
        let known = self.table.join_registry(&registry.inner);
        *self.cache.borrow_mut() = QueryCache::with_rollups(&self.table);
        known
    }

    /// Joins a people file (CSV keyed by `Instance user ID`, `User Email` or `Username`): its
    /// other columns become group keys and `filter.attributes`; it never leaves the page. Replaces
    /// an earlier one.
    #[wasm_bindgen(js_name = joinAttributes, unchecked_return_type = "AttributesJoin")]
    pub fn join_attributes(
        &mut self,
        #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] data: JsValue,
    ) -> Result<JsValue, JsValue> {
        let bytes = match data.as_string() {
            Some(text) => text.into_bytes(),
            None if data.is_instance_of::<js_sys::Uint8Array>() => {
                js_sys::Uint8Array::from(data).to_vec()
            }
            None => return Err(js_error("joinAttributes takes a Uint8Array or a string")),
        };
        self.cache.borrow_mut().clear_answers();
        to_js(&self.table.join_attributes(&bytes).map_err(core_error)?)
    }

    /// Growth accounting per week or month: active, new, retained, resurrected and churned users,
    /// and the quick ratio.
    #[wasm_bindgen(unchecked_return_type = "Growth")]
    pub fn growth(&self, query: Option<PeriodQueryArg>) -> Result<JsValue, JsValue> {
        let query: crate::PeriodQuery = from_js(query, "query")?;
        to_js(&self.table.growth(&query).map_err(core_error)?)
    }

    /// Retention cohorts per week or month.
    #[wasm_bindgen(unchecked_return_type = "Retention")]
    pub fn retention(&self, query: Option<PeriodQueryArg>) -> Result<JsValue, JsValue> {
        let query: crate::PeriodQuery = from_js(query, "query")?;
        to_js(&self.table.retention(&query).map_err(core_error)?)
    }

    /// Stickiness per week or month (day-grain exports): the days-active histogram, average DAU
    /// and DAU/MAU.
    #[wasm_bindgen(unchecked_return_type = "Stickiness")]
    pub fn stickiness(&self, query: Option<PeriodQueryArg>) -> Result<JsValue, JsValue> {
        let query: crate::PeriodQuery = from_js(query, "query")?;
        to_js(&self.table.stickiness(&query).map_err(core_error)?)
    }

    /// Feature depth per week or month (day-grain exports): users and first-time users per
    /// feature, and how many features each active user uses.
    #[wasm_bindgen(unchecked_return_type = "Features")]
    pub fn features(&self, query: Option<PeriodQueryArg>) -> Result<JsValue, JsValue> {
        let query: crate::PeriodQuery = from_js(query, "query")?;
        to_js(&self.table.features(&query).map_err(core_error)?)
    }

    /// Credits set against the usage: per month and for the range, credits per active user and
    /// per hour saved (and per value of `query.by`, a people file's column, where the credits
    /// are per user). `credits` is what `fetchCredits` returned.
    #[wasm_bindgen(unchecked_return_type = "Cost")]
    pub fn cost(
        &self,
        #[wasm_bindgen(unchecked_param_type = "unknown")] credits: JsValue,
        #[wasm_bindgen(unchecked_param_type = "CostQuery | undefined")] query: JsValue,
    ) -> Result<JsValue, JsValue> {
        let credits: serde_json::Value = from_js(Some(credits), "credits")?;
        let credits = crate::Credits::from_value(&credits).map_err(core_error)?;
        let query: crate::CostQuery = from_js((!query.is_undefined()).then_some(query), "query")?;
        to_js(&self.table.cost(&credits, &query).map_err(core_error)?)
    }

    /// The same periods as `stickiness`, as CSV: the columns of `sg-analytics stickiness
    /// --format csv` (`period,partial,activeUsers,avgDau,dauOverMau,days1,days2,…`).
    #[wasm_bindgen(js_name = stickinessCsv)]
    pub fn stickiness_csv(&self, query: Option<PeriodQueryArg>) -> Result<String, JsValue> {
        let query: crate::PeriodQuery = from_js(query, "query")?;
        Ok(self.table.stickiness(&query).map_err(core_error)?.to_csv())
    }

    /// The same periods as `features`, as CSV: the columns of `sg-analytics features --format
    /// csv` (`period,partial,activeUsers`, `<feature> users`, `<feature> new users`,
    /// `breadth0`, …).
    #[wasm_bindgen(js_name = featuresCsv)]
    pub fn features_csv(&self, query: Option<PeriodQueryArg>) -> Result<String, JsValue> {
        let query: crate::PeriodQuery = from_js(query, "query")?;
        Ok(self.table.features(&query).map_err(core_error)?.to_csv())
    }

    /// The same periods as `growth`, as CSV: the columns of `sg-analytics growth --format csv`
    /// (`period,activeUsers,newUsers,retainedUsers,resurrectedUsers,churnedUsers,quickRatio,
    /// partial`; the quick ratio to two decimals, blank when no one churned), formula-guarded.
    #[wasm_bindgen(js_name = growthCsv)]
    pub fn growth_csv(&self, query: Option<PeriodQueryArg>) -> Result<String, JsValue> {
        let query: crate::PeriodQuery = from_js(query, "query")?;
        Ok(self.table.growth(&query).map_err(core_error)?.to_csv())
    }

    /// The same cohorts as `retention`, as CSV: the columns of `sg-analytics retention --format
    /// csv` (`cohort,users,+0,+1,…`, counts; a younger cohort's row ends in blank cells),
    /// formula-guarded.
    #[wasm_bindgen(js_name = retentionCsv)]
    pub fn retention_csv(&self, query: Option<PeriodQueryArg>) -> Result<String, JsValue> {
        let query: crate::PeriodQuery = from_js(query, "query")?;
        Ok(self.table.retention(&query).map_err(core_error)?.to_csv())
    }

    /// The users with no active day in the last `days` days of the range.
    #[wasm_bindgen(js_name = inactiveUsers, unchecked_return_type = "Inactive")]
    pub fn inactive_users(&self, query: InactiveQueryArg) -> Result<JsValue, JsValue> {
        let query = inactive_query(query)?;
        let inactive = self
            .table
            .inactive_users(&query, self.registry.as_ref())
            .map_err(core_error)?;
        to_js(&inactive)
    }

    /// The same users as `inactiveUsers`, as CSV: the columns of `sg-analytics inactive --format
    /// csv` (`user,email,username,lastActive`, and `serviceAccount,siteAdmin` with a joined
    /// registry; `never` for no active day), formula-guarded.
    #[wasm_bindgen(js_name = inactiveUsersCsv)]
    pub fn inactive_users_csv(&self, query: InactiveQueryArg) -> Result<String, JsValue> {
        let query = inactive_query(query)?;
        let inactive = self
            .table
            .inactive_users(&query, self.registry.as_ref())
            .map_err(core_error)?;
        Ok(inactive.to_csv())
    }

    /// Data rows.
    #[wasm_bindgen(getter)]
    pub fn rows(&self) -> usize {
        self.table.rows()
    }
}
