//! Kros Numbers: phone-number provisioning with a REST API and a Leptos dashboard, both thin
//! doors onto one service layer.
//!
//! - `domain` (crate `kros-domain`): the contract's objects, shared with the browser (parsing is
//!   server-only);
//! - `service` (crate `kros-service`, with `error`): every operation and rule, written once;
//! - `storage`: the interface (crate `kros-storage`) and the backend chosen by the URL (crates
//!   `kros-storage-sqlite`, `kros-storage-postgres`, each in its own terms);
//! - `api`: the REST door (`/v1`), `app`: the dashboard (server functions beside their pages);
//! - `state`: what every request of both doors reads (below both), `client`: who a request is from;
//! - `server`, `cli`: wiring, the operator CLI.

pub mod app;
pub mod pages;
pub use kros_domain as domain;

#[cfg(feature = "ssr")]
pub mod api;
#[cfg(feature = "ssr")]
pub mod cli;
#[cfg(feature = "ssr")]
pub mod client;
#[cfg(feature = "ssr")]
pub use kros_service::error;
#[cfg(feature = "ssr")]
pub mod rate_limit;
#[cfg(feature = "ssr")]
pub mod seed;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod sip_door;
#[cfg(feature = "ssr")]
pub use kros_service as service;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod storage;

/// The browser entry point, run once the wasm has loaded: sets up what the islands share. Leptos's
/// island script then hydrates each island of the page (see `app`).
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
