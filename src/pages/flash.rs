//! What a form post tells the page it leads to.
//!
//! The dashboard's changes are plain HTML forms posting to server functions: they work before
//! any wasm has arrived, and keep form handling out of the wasm the pages load. A browser's form
//! post is answered with a redirect (back to the form's page, or on to the next one) and leaves
//! its outcome in a short-lived cookie, the flash, which the next page render takes: a message
//! (shown as a toast), a secret shown once (a new API key, a webhook signing secret), and, after
//! a refusal, what the form held, so that nothing typed is lost. A caller that is not a
//! browser's form gets the server function's own answer instead: success, or the error with its status.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Flash {
    pub message: String,
    pub error: bool,
    /// Shown once on the page, with a copy button.
    pub secret: Option<Secret>,
    /// After a refusal: the form's fields as they were posted.
    pub typed: Vec<(String, String)>,
    /// After a success, the page to open instead of the form's own (not part of the cookie).
    #[serde(skip)]
    pub next: Option<String>,
}

impl Flash {
    pub fn success(message: impl Into<String>) -> Self {
        Self { message: message.into(), ..Self::default() }
    }

    /// Opens `path` once the change is made (the bought number, the confirmation of a hold).
    pub fn then_open(self, path: String) -> Self {
        Self { next: Some(path), ..self }
    }

    pub fn with_secret(self, what: &str, value: String) -> Self {
        Self { secret: Some(Secret { what: what.into(), value }), ..self }
    }

    /// What a refused form held in `field` (a ticked checkbox holds "on"; an unticked one is
    /// absent, so `Some("")` is never said of it).
    pub fn typed(&self, field: &str) -> Option<&str> {
        self.typed.iter().find(|(name, _)| name == field).map(|(_, value)| value.as_str())
    }
}

/// The flash of the page being rendered, for its parts (the layout takes it: [`take_for_page`]).
pub fn page_flash() -> Option<Flash> {
    use_context::<PageFlash>().and_then(|PageFlash(flash)| flash)
}

/// What a refused form posted, or `current` (the value the page shows otherwise), for a field.
pub fn typed_or(flash: &Option<Flash>, field: &str, current: String) -> String {
    match flash {
        Some(f) if f.error && !f.typed.is_empty() => f.typed(field).unwrap_or_default().to_string(),
        _ => current,
    }
}

/// Whether a checkbox is ticked: as a refused form posted it, or as `current` has it.
pub fn typed_ticked(flash: &Option<Flash>, field: &str, current: bool) -> bool {
    match flash {
        Some(f) if f.error && !f.typed.is_empty() => f.typed(field).is_some(),
        _ => current,
    }
}

/// A secret just made, and what it is ("The new signing secret").
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Secret {
    pub what: String,
    pub value: String,
}

#[derive(Clone)]
struct PageFlash(Option<Flash>);

/// Takes the flash this page request brought (once, in the layout), and offers it to the page.
pub fn take_for_page() -> Option<Flash> {
    #[cfg(feature = "ssr")]
    let flash = server::take();
    #[cfg(not(feature = "ssr"))]
    let flash = None;
    provide_context(PageFlash(flash.clone()));
    flash
}

#[cfg(feature = "ssr")]
pub mod server {
    use super::Flash;
    use crate::domain::ErrorDetail;
    use crate::error::AppError;
    use crate::pages::session::server::{cookie, redirect_back, set_cookie};
    use axum::http::{header, request::Parts, HeaderMap};
    use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
    use leptos::prelude::*;

    const COOKIE: &str = "kros_flash";
    /// Long enough for the redirect to be followed, short enough not to linger.
    const COOKIE_SECS: i64 = 60;
    /// Browsers keep cookies of up to 4 KiB: beyond this, what was typed is left out.
    const MAX_COOKIE_CHARS: usize = 3000;

    /// The flash of this request, cleared for the next one.
    pub(super) fn take() -> Option<Flash> {
        let parts = use_context::<Parts>()?;
        let raw = cookie(&parts.headers, COOKIE)?;
        set_cookie(COOKIE, "", 0);
        let json = URL_SAFE_NO_PAD.decode(raw).ok()?;
        serde_json::from_slice(&json).ok()
    }

    fn keep(mut flash: Flash) {
        if flash == Flash::default() {
            return;
        }
        let encode = |f: &Flash| URL_SAFE_NO_PAD.encode(serde_json::to_vec(f).unwrap_or_default());
        let mut value = encode(&flash);
        if value.len() > MAX_COOKIE_CHARS {
            flash.typed.clear();
            flash.message = flash.message.chars().take(500).collect();
            value = encode(&flash);
        }
        set_cookie(COOKIE, &value, COOKIE_SECS);
    }

    /// A browser's form post asks for HTML and says which page it came from (the referrer
    /// policy is `same-origin`); `fetch` and other clients do not (the rule Leptos's own
    /// integration uses to redirect a form post back).
    async fn from_a_browser_form() -> bool {
        let headers: HeaderMap = leptos_axum::extract().await.unwrap_or_default();
        let accepts_html =
            headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"));
        accepts_html && headers.contains_key(header::REFERER)
    }

    /// Answers a form's server function. A browser's form post: a redirect, after a success to
    /// the page the flash opens ([`Flash::then_open`]) or else back to the form's page, with the
    /// outcome in the flash (a refusal keeps `typed`, the form's fields). Any other caller: the
    /// outcome itself.
    pub async fn answer(outcome: Result<Flash, AppError>, typed: &[(&str, &str)]) -> Result<(), ErrorDetail> {
        if !from_a_browser_form().await {
            return outcome.map(|_| ()).map_err(crate::pages::errors::refused);
        }
        match outcome {
            Ok(mut flash) => {
                let next = flash.next.take();
                keep(flash);
                match next.as_deref() {
                    Some(next) => leptos_axum::redirect(next),
                    None => redirect_back().await,
                }
            }
            Err(e) => {
                let refused = crate::pages::errors::refused(e);
                let typed = typed.iter().map(|(name, value)| (name.to_string(), value.to_string())).collect();
                keep(Flash { message: refused.message, error: true, typed, ..Flash::default() });
                redirect_back().await;
            }
        }
        Ok(())
    }
}
