//! The dashboard's pages. Each page file holds its server functions (which call the service
//! layer, exactly like the REST handlers) beside its components.

pub mod api_keys;
pub mod buy;
pub mod countries;
pub mod endpoints;
pub mod errors;
pub mod flash;
pub mod history;
pub mod numbers;
pub mod order;
pub mod session;
pub mod sign_in;
pub mod summary;
pub mod webhooks;
pub mod widgets;
