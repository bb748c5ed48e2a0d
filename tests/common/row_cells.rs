//! The cells of a row of the property tests' random exports, but its user and date: a client and
//! a language (indexes into the test's own lists of three), its activity (drawn as the test says),
//! chat events, completion suggestions and the share of them accepted. Each test draws its users
//! and dates beside them, and writes the columns it needs.
//!
//! The cells are drawn in the order the tests drew them before they shared this, so the seeds in
//! their `.proptest-regressions` files still give the same rows.

use proptest::prelude::*;

/// One row's cells, with its activity of type `A`.
#[derive(Clone, Debug)]
pub struct Cells<A> {
    pub client: usize,
    pub language: usize,
    pub active: A,
    pub chats: Option<u8>,
    pub suggestions: u16,
    /// Acceptances per 100 suggestions.
    pub accepted_share: u8,
}

impl<A> Cells<A> {
    /// Completion acceptances: the share of the suggestions, rounded down.
    pub fn accepted(&self) -> u32 {
        u32::from(self.suggestions) * u32::from(self.accepted_share) / 100
    }
}

/// Random cells, the activity drawn by `active`.
pub fn cells<A: Strategy>(active: A) -> impl Strategy<Value = Cells<A::Value>> {
    (
        0usize..3,
        0usize..3,
        active,
        proptest::option::of(0u8..50),
        0u16..400,
        0u8..=100,
    )
        .prop_map(
            |(client, language, active, chats, suggestions, accepted_share)| Cells {
                client,
                language,
                active,
                chats,
                suggestions,
                accepted_share,
            },
        )
}
