//! The sign-in page.

use super::session::SignIn;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn SignInPage() -> impl IntoView {
    let sign_in = ServerAction::<SignIn>::new();
    let next = use_query_map().with_untracked(|q| q.get("next")).unwrap_or_else(|| "/".into());
    view! {
        <div class="sign-in card">
            <h1>"Sign in to Kros Numbers"</h1>
            <ActionForm action=sign_in>
                <input type="hidden" name="next" value=next/>
                <label>"Email" <input type="email" name="email" autocomplete="username" required=true/></label>
                <label>"Password" <input type="password" name="password" autocomplete="current-password" required=true/></label>
                {move || sign_in.value().get().and_then(|r| r.err()).map(|e| view! {
                    <p class="notice notice-error" role="alert">{e.message}</p>
                })}
                <button type="submit" disabled=move || sign_in.pending().get()>
                    {move || if sign_in.pending().get() { "Signing in…" } else { "Sign in" }}
                </button>
            </ActionForm>
        </div>
    }
}
