//! Building the roll-ups when the memory runs out: each allocation the build makes is refused in
//! turn (one per run), and every time the table is left without roll-ups (or, for one of the
//! users' months' allocations, without those alone), the module goes on, and every answer is
//! the scan's. An allocation the build did not reserve fallibly would end this test's process
//! instead.
#![cfg(not(target_arch = "wasm32"))]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use serde_json::json;
use sg_analytics::{Query, QueryCache, Table};

/// The system's allocator, but for one allocation (counted while armed) that it refuses.
struct RefusingOne;

static ARMED: AtomicBool = AtomicBool::new(false);
static COUNT: AtomicUsize = AtomicUsize::new(0);
static REFUSE: AtomicUsize = AtomicUsize::new(usize::MAX);

impl RefusingOne {
    fn refuses(&self) -> bool {
        ARMED.load(Ordering::SeqCst)
            && COUNT.fetch_add(1, Ordering::SeqCst) == REFUSE.load(Ordering::SeqCst)
    }
}

unsafe impl GlobalAlloc for RefusingOne {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if self.refuses() {
            return std::ptr::null_mut();
        }
        System.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if self.refuses() {
            return std::ptr::null_mut();
        }
        System.alloc_zeroed(layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if self.refuses() {
            return std::ptr::null_mut();
        }
        System.realloc(ptr, layout, new_size)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static ALLOCATOR: RefusingOne = RefusingOne;

/// Builds the roll-ups with allocation `refuse` (counted from the start of the build) refused,
/// and how many allocations the build made.
fn build(table: &Table, refuse: usize) -> (QueryCache, usize) {
    COUNT.store(0, Ordering::SeqCst);
    REFUSE.store(refuse, Ordering::SeqCst);
    ARMED.store(true, Ordering::SeqCst);
    // Every time grain's counts too, so that their allocations are refused in turn as well.
    let cache = QueryCache::with_every_rollup(table);
    ARMED.store(false, Ordering::SeqCst);
    (cache, COUNT.load(Ordering::SeqCst))
}

#[test]
fn a_refused_allocation_while_building_the_roll_ups_leaves_the_scan_to_answer() {
    let csv = std::fs::read("tests/fixtures/by_user_day_client_language.csv").unwrap();
    let table = Table::from_bytes(&csv).unwrap();
    let queries: Vec<Query> = [
        json!({"groupBy": ["client"]}),
        json!({"groupBy": ["week"], "filter": {"activeOnly": true}}),
        json!({"groupBy": ["user"], "sort": {"by": "Chat Events", "desc": true}, "limit": 3}),
        // A range that holds April whole and cuts March: the users' months answer it.
        json!({"groupBy": ["user"], "filter": {"from": "2025-03-10"}, "compare": "previous",
               "sort": {"by": "hoursSaved", "desc": true}}),
    ]
    .into_iter()
    .map(|q| serde_json::from_value(q).unwrap())
    .collect();
    let scanned: Vec<_> = queries
        .iter()
        .map(|q| table.summarize(q).unwrap().to_value())
        .collect();

    let (whole, allocations) = build(&table, usize::MAX);
    assert!(whole.rollup_bytes() > 0, "the fixture gets roll-ups");
    // The last allocation is the cache's hold on the roll-ups, after they are built.
    assert!(allocations > 20, "{allocations} allocations");
    assert!(whole.rollup_shape().unwrap().contains("months: Some(2)"));
    let mut whole = whole;
    assert_eq!(
        &whole.summarize(&table, &queries[3]).unwrap().to_value(),
        &scanned[3]
    );
    assert!(
        whole.summed_months() > 0,
        "the range is answered from the users' months"
    );
    let mut without_months = 0;
    for refuse in 0..allocations - 1 {
        let (mut cache, _) = build(&table, refuse);
        // The users' months are an extra: refused in their build, the roll-ups go on without
        // them; anywhere else, there are no roll-ups.
        let shape = cache.rollup_shape().unwrap_or_default();
        if cache.rollup_bytes() > 0 {
            assert!(
                shape.contains("months: None"),
                "allocation {refuse} refused: {shape}"
            );
            without_months += 1;
        }
        for (q, expected) in queries.iter().zip(&scanned) {
            assert_eq!(&cache.summarize(&table, q).unwrap().to_value(), expected);
        }
        if cache.rollup_bytes() == 0 {
            assert_eq!(cache.rolled_groupings(), 0);
        }
    }
    assert!(
        without_months > 5,
        "{without_months} of the months' allocations refused"
    );
}
