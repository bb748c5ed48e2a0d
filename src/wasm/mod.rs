//! The browser adapter: `#[wasm_bindgen]` exports over the core, and the streaming fetch client.
//!
//! One stateful handle, [`Report`], built once (from bytes, a [`ReportBuilder`] or a fetch) and
//! queried many times. Options and answers cross the boundary as plain JS objects through serde;
//! every export returns `Result<_, JsValue>` whose error is a real JS `Error` carrying the core's
//! message.

mod convert;
mod fetch;
mod fetch_api;
mod load;
mod report;
#[cfg(feature = "html-report")]
mod report_html;
mod types;
mod warm;

use convert::{js_error, to_js};
pub use fetch_api::{fetch_credits, fetch_dashboard, fetch_registry, fetch_report, plan_fetch};
pub use load::{ReportBuilder, UserRegistry};
pub use report::Report;
pub use warm::warm_up;
use wasm_bindgen::prelude::*;

/// The module's allocator: the default one, noting when an allocation fails. A failed
/// allocation that is not handled ends the module with a bare trap; after it, the page asks
/// [`allocation_failed`] to tell running out of memory from a bug.
struct NotingAllocator;

static ALLOCATION_FAILED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn noted(p: *mut u8) -> *mut u8 {
    if p.is_null() {
        ALLOCATION_FAILED.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    p
}

// SAFETY: every call is passed on unchanged to the system allocator, which upholds the contract.
unsafe impl std::alloc::GlobalAlloc for NotingAllocator {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        noted(std::alloc::System.alloc(layout))
    }
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        noted(std::alloc::System.alloc_zeroed(layout))
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        std::alloc::System.dealloc(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, size: usize) -> *mut u8 {
        noted(std::alloc::System.realloc(ptr, layout, size))
    }
}

#[global_allocator]
static ALLOCATOR: NotingAllocator = NotingAllocator;

/// Whether an allocation has failed in this instance of the module since it started. After a
/// call ends in a `WebAssembly.RuntimeError` (the module is then unusable), it tells running out
/// of memory (`true`) from a bug; a failure the module handled (an error coded `out_of_memory`)
/// sets it too. The page's worker asks it to choose its message; then it starts a fresh module.
#[wasm_bindgen(js_name = allocationFailed)]
pub fn allocation_failed() -> bool {
    ALLOCATION_FAILED.load(std::sync::atomic::Ordering::Relaxed)
}

/// Routes a panic (a bug) to the console with its message instead of a bare `unreachable` trap.
/// Called by every entry point that makes a handle (not a `start` function, which wasm-bindgen
/// would export as one more name in the API).
pub(crate) fn panic_hook() {
    #[cfg(feature = "console_error_panic_hook")]
    console_error_panic_hook::set_once();
}
