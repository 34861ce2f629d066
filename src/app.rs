//! The dashboard (Leptos): the HTML shell, the routes and the signed-in layout. Server-rendered,
//! then hydrated.

use crate::domain::Mode;
use crate::pages::api_keys::ApiKeysPage;
use crate::pages::buy::BuyPage;
use crate::pages::endpoints::EndpointsPage;
use crate::pages::numbers::{NumberPage, NumbersPage};
use crate::pages::session::{get_session, SignOut, SwitchMode, SwitchOrganization};
use crate::pages::sign_in::SignInPage;
use crate::pages::widgets::{provide_toasts, ErrorNotice, ToastRegion};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Outlet, ParentRoute, Route, Router, Routes, A};
use leptos_router::path;

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_toasts();
    view! {
        <Stylesheet id="leptos" href="/pkg/kros-numbers.css"/>
        <Title text="Kros Numbers"/>
        <Router>
            <Routes fallback=|| view! { <main id="main"><h1>"Page not found"</h1><p><a href="/">"Go to your numbers"</a></p></main> }>
                <Route path=path!("/sign-in") view=|| view! { <main id="main"><SignInPage/></main> }/>
                <ParentRoute path=path!("") view=SignedIn>
                    <Route path=path!("") view=NumbersPage/>
                    <Route path=path!("buy") view=BuyPage/>
                    <Route path=path!("numbers/:id") view=NumberPage/>
                    <Route path=path!("api-keys") view=ApiKeysPage/>
                    <Route path=path!("endpoints") view=EndpointsPage/>
                </ParentRoute>
            </Routes>
        </Router>
        <ToastRegion/>
    }
}

/// The layout of every signed-in page: navigation, organization and mode switches, sign out.
#[component]
fn SignedIn() -> impl IntoView {
    let switch_org = ServerAction::<SwitchOrganization>::new();
    let switch_mode = ServerAction::<SwitchMode>::new();
    let sign_out = ServerAction::<SignOut>::new();
    let session = Resource::new(|| (), |_| get_session());
    // A new organization or mode changes every page's data: load the page afresh.
    Effect::new(move |_| {
        let switched = matches!(switch_org.value().get(), Some(Ok(()))) || matches!(switch_mode.value().get(), Some(Ok(())));
        if switched {
            let _ = window().location().reload();
        }
    });
    view! {
        <a class="skip" href="#main">"Skip to content"</a>
        <Transition fallback=|| ()>
            {move || session.get().map(|s| s.ok().filter(|s| s.mode == Mode::Test).map(|_| view! {
                <div class="test-banner" role="note">"Test mode: you are seeing test data. Test numbers are fictional and never cost money."</div>
            }))}
        </Transition>
        <header class="top">
            <a class="brand" href="/">"Kros Numbers"</a>
            <nav aria-label="Main">
                <A href="/">"Numbers"</A>
                <A href="/buy">"Buy a number"</A>
                <A href="/endpoints">"Endpoints"</A>
                <A href="/api-keys">"API keys"</A>
            </nav>
            <Transition fallback=|| view! { <span class="muted">"…"</span> }>
                {move || session.get().map(|s| match s {
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    Ok(s) => {
                        let other_mode = if s.mode == Mode::Live { Mode::Test } else { Mode::Live };
                        let several = s.organizations.len() > 1;
                        let current_name = s.organizations.iter().find(|o| o.id == s.organization_id).map(|o| o.name.clone()).unwrap_or_default();
                        view! {
                            <div class="session">
                                {if several {
                                    view! {
                                        <ActionForm action=switch_org attr:class="org-switch">
                                            <label>"Organization"
                                                <select name="organization_id">
                                                    {s.organizations.iter().map(|o| view! {
                                                        <option value=o.id.to_string() selected=o.id == s.organization_id>{o.name.clone()}</option>
                                                    }).collect_view()}
                                                </select>
                                            </label>
                                            <button type="submit" class="secondary small">"Switch"</button>
                                        </ActionForm>
                                    }.into_any()
                                } else {
                                    view! { <span class="org">{current_name}</span> }.into_any()
                                }}
                                <ActionForm action=switch_mode attr:class="mode-switch">
                                    <input type="hidden" name="mode" value=other_mode.as_str()/>
                                    <span class="badge" class:badge-warn=s.mode == Mode::Test>{if s.mode == Mode::Live { "Live" } else { "Test" }}</span>
                                    <button type="submit" class="secondary small">
                                        {if other_mode == Mode::Test { "Switch to test mode" } else { "Switch to live mode" }}
                                    </button>
                                </ActionForm>
                                <span class="muted small">{s.email}</span>
                                <ActionForm action=sign_out attr:class="sign-out">
                                    <button type="submit" class="secondary small">"Sign out"</button>
                                </ActionForm>
                            </div>
                        }.into_any()
                    }
                })}
            </Transition>
        </header>
        <main id="main">
            <Outlet/>
        </main>
    }
}
