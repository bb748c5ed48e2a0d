//! Building a report from chunks (`ReportBuilder`) and reading the user registry (`Registry`).

use wasm_bindgen::prelude::*;

use super::convert::{core_error, js_error};
use super::{panic_hook, Report};
use crate::Ingester;

/// Builds a report from chunks pushed as they arrive (a file's stream, a fetch body).
#[wasm_bindgen]
pub struct ReportBuilder {
    ingester: Option<Ingester>,
}

#[wasm_bindgen]
impl ReportBuilder {
    /// A builder waiting for the first chunk.
    #[wasm_bindgen(constructor)]
    pub fn new() -> ReportBuilder {
        panic_hook();
        ReportBuilder {
            ingester: Some(Ingester::new()),
        }
    }

    /// Says how many bytes the whole input has (a file's size), so the report reserves its room
    /// once instead of growing by doubling: less copying and a smaller wasm memory. Optional.
    #[wasm_bindgen(js_name = expectBytes)]
    pub fn expect_bytes(&mut self, total: f64) -> Result<(), JsValue> {
        if !(total.is_finite() && total >= 0.0) {
            return Err(js_error("expectBytes takes a size in bytes"));
        }
        let ingester = self.ingester_mut()?;
        ingester.expect_bytes(total as u64);
        // A size that cannot fit is refused now, before anything is read.
        ingester.check_expected_size().map_err(core_error)
    }

    /// The memory the report may take, in bytes (table and room for queries), or `null` for no
    /// limit of its own. Default: 3 GiB of the 4 GiB a WebAssembly module can address. Reading
    /// stops with an error coded `too_large` as soon as the export will not fit (see
    /// `expectBytes`); set it lower to keep a tab's memory smaller.
    #[wasm_bindgen(getter, js_name = memoryBudget)]
    pub fn memory_budget(&self) -> Option<f64> {
        self.ingester
            .as_ref()
            .and_then(Ingester::memory_budget)
            .map(|b| b as f64)
    }

    /// Sets the memory budget (see the getter); before the first `push`.
    #[wasm_bindgen(setter, js_name = memoryBudget)]
    pub fn set_memory_budget(&mut self, bytes: Option<f64>) -> Result<(), JsValue> {
        let budget = match bytes {
            None => None,
            Some(b) if b.is_finite() && b >= 0.0 => Some(b as u64),
            Some(_) => return Err(js_error("memoryBudget takes a size in bytes, or null")),
        };
        self.ingester_mut()?.set_memory_budget(budget);
        Ok(())
    }

    /// Feeds the next chunk (any size; a record may span chunks). Throws when the input cannot
    /// be an Analytics export (its header names none of the export's columns).
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), JsValue> {
        self.ingester_mut()?.push(chunk).map_err(core_error)
    }

    /// Data rows read so far.
    #[wasm_bindgen(getter)]
    pub fn rows(&self) -> usize {
        self.ingester.as_ref().map_or(0, Ingester::rows)
    }

    /// Bytes pushed so far.
    #[wasm_bindgen(getter)]
    pub fn bytes(&self) -> f64 {
        self.ingester.as_ref().map_or(0.0, |i| i.bytes() as f64)
    }

    /// Ends the input and returns the report; the builder cannot be used again.
    pub fn finish(&mut self) -> Result<Report, JsValue> {
        let ingester = self
            .ingester
            .take()
            .ok_or_else(|| js_error("this ReportBuilder is already finished"))?;
        ingester.finish().map(Report::from).map_err(core_error)
    }

    fn ingester_mut(&mut self) -> Result<&mut Ingester, JsValue> {
        self.ingester
            .as_mut()
            .ok_or_else(|| js_error("this ReportBuilder is already finished"))
    }
}

impl Default for ReportBuilder {
    fn default() -> Self {
        ReportBuilder::new()
    }
}

/// The user registry: which users are service accounts or site admins.
#[wasm_bindgen(js_name = Registry)]
pub struct UserRegistry {
    pub(crate) inner: crate::Registry,
}

#[wasm_bindgen(js_class = Registry)]
impl UserRegistry {
    /// Parses the registry CSV (`Instance user ID`, `Service Account`, `Site Admin`).
    #[wasm_bindgen(js_name = fromCsv)]
    pub fn from_csv(
        #[wasm_bindgen(unchecked_param_type = "Uint8Array | string")] data: JsValue,
    ) -> Result<UserRegistry, JsValue> {
        panic_hook();
        let bytes = match data.as_string() {
            Some(text) => text.into_bytes(),
            None if data.is_instance_of::<js_sys::Uint8Array>() => {
                js_sys::Uint8Array::from(data).to_vec()
            }
            None => return Err(js_error("Registry.fromCsv takes a Uint8Array or a string")),
        };
        crate::Registry::from_bytes(&bytes)
            .map(|inner| UserRegistry { inner })
            .map_err(core_error)
    }

    /// Users listed.
    #[wasm_bindgen(getter)]
    pub fn size(&self) -> usize {
        self.inner.len()
    }

    /// Users who are service accounts.
    #[wasm_bindgen(getter, js_name = serviceAccounts)]
    pub fn service_accounts(&self) -> usize {
        self.inner.service_accounts()
    }
}
