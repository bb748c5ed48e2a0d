//! Build, serve and test orchestration for sg-analytics (`cargo xtask ...`), and the local
//! server: the page's static files plus a deterministic mock of the Sourcegraph Analytics API
//! (or a proxy to the real one).

pub mod data;
pub mod mock;
pub mod npm;
pub mod proxy;
pub mod server;
pub mod setup;
pub mod tasks;
