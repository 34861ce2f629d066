//! Kros Numbers: phone-number provisioning with a REST API and a Leptos dashboard, both thin
//! doors onto one service layer.
//!
//! - `domain`: the contract's objects, shared with the browser (parsing is server-only);
//! - `service`: every operation and rule, written once (server-only);
//! - `storage`: one interface, a module per database, each in its own terms (server-only);
//! - `api`: the REST door (`/v1`), `app`: the dashboard (server functions beside their pages);
//! - `state`: what every request of both doors reads (below both), `client`: who a request is from;
//! - `server`, `cli`: wiring, the operator CLI.

pub mod app;
pub mod domain;
pub mod pages;

#[cfg(feature = "ssr")]
pub mod api;
#[cfg(feature = "ssr")]
pub mod cli;
#[cfg(feature = "ssr")]
pub mod client;
#[cfg(feature = "ssr")]
pub mod error;
#[cfg(feature = "ssr")]
pub mod rate_limit;
#[cfg(feature = "ssr")]
pub mod seed;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod service;
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
