//! The domain: the objects of the contract, shared by the server and the browser.
//!
//! Types here are plain data that serialize exactly as the REST contract says. The parsing of
//! untrusted input into domain values (`E164`, `CountryCode`, paging) is server-only, in
//! [`parse`], so the browser bundle never carries the phone-number metadata.

mod lifecycle;
mod objects;
#[cfg(feature = "ssr")]
pub mod parse;
mod requests;
#[cfg(feature = "ssr")]
pub mod sip;
mod webhooks;

pub use lifecycle::*;
pub use objects::*;
pub use requests::*;
pub use webhooks::*;
