//! REST API integration tests: each test starts the real server on a free port with a fresh
//! database and talks HTTP to it. One test per contract rule, named after the rule.

mod helpers;
#[path = "../support/pg.rs"]
mod pg;
#[path = "../support/sip.rs"]
mod sip;
#[path = "../support/supabase_jwks.rs"]
mod supabase_jwks;
#[path = "../support/webhook_receiver.rs"]
mod webhook_receiver;

mod auth;
mod dashboard;
mod dashboard_forms;
mod endpoints;
mod errors;
mod hardening;
mod idempotency;
mod labels;
mod list;
mod number_lifecycle;
mod orders;
mod purchase;
mod reservations;
mod sessions;
mod sip_calls;
mod sip_door;
mod supabase_tokens;
mod tenancy;
mod webhooks;
