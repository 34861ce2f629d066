//! The sign-in page: a plain HTML form posting to the `sign_in` server function, which answers
//! with a redirect (to the page asked for, or back here with `?failed=1`). It works before the
//! page has hydrated, and keeps form handling out of the page's wasm chunk.

use super::session::SignIn;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;

#[component]
pub fn SignInPage() -> impl IntoView {
    let query = use_query_map();
    let next = query.with_untracked(|q| q.get("next")).unwrap_or_else(|| "/".into());
    let retry = query.with_untracked(|q| q.get("retry")).and_then(|r| r.parse::<u64>().ok()).unwrap_or(60);
    let failure = query.with_untracked(|q| q.get("failed")).map(|why| match why.as_str() {
        "unavailable" => "Signing in is not possible right now. Please try again in a moment.".to_string(),
        "no-access" => {
            "This account has no access to Kros Numbers yet: ask an administrator to add you to an organization."
                .to_string()
        }
        "throttled" => format!("Too many failed sign-ins. Please wait {retry} seconds before trying again."),
        _ => "The email or password is incorrect.".to_string(),
    });
    view! {
        <div class="sign-in card">
            <h1>"Sign in to Kros Numbers"</h1>
            <form method="post" action=SignIn::PATH>
                <input type="hidden" name="next" value=next/>
                <label>"Email" <input type="email" name="email" autocomplete="username" required=true/></label>
                <label>"Password" <input type="password" name="password" autocomplete="current-password" required=true/></label>
                {failure.map(|message| view! {
                    <p class="notice notice-error" role="alert">{message}</p>
                })}
                <button type="submit">"Sign in"</button>
            </form>
        </div>
    }
}
