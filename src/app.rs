//! The dashboard (Leptos): the HTML shell, the routes and the signed-in layout. Rendered on the
//! server as plain HTML; only its islands hydrate in the browser.

use crate::domain::Mode;
use crate::pages::api_keys::ApiKeysPage;
use crate::pages::buy::BuyPage;
use crate::pages::endpoints::{EndpointPage, EndpointsPage};
use crate::pages::numbers::{NumberPage, NumbersPage};
use crate::pages::session::{get_session, OrganizationChoice, SessionInfo, SignOut, SwitchMode, SwitchOrganization};
use crate::pages::sign_in::SignInPage;
use crate::pages::webhooks::WebhooksPage;
use crate::pages::widgets::{ErrorNotice, PageReady, Toast, ToastRegion};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::components::{Outlet, ParentRoute, Route, Router, Routes, A};
use leptos_router::{path, SsrMode};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    // Islands mode: nothing outside an island is hydrated, so nothing else is serialized for it.
    if let Some(context) = Owner::current_shared_context() {
        context.set_is_hydrating(false);
    }
    let has_islands = !page_without_islands();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="description" content="Kros Numbers: buy phone numbers, route their calls, manage API keys."/>
                <title>"Kros Numbers"</title>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <link rel="stylesheet" id="leptos" href="/pkg/kros-numbers.css"/>
                <AutoReload options=options.clone()/>
                {has_islands.then(|| view! { <HydrationScripts options islands=true/> })}
            </head>
            // `data-hydrated` tells browser tests (and curious people) that the page is
            // interactive: set by the wasm once its islands have hydrated, or here when the page
            // has none to wait for.
            <body data-hydrated=(!has_islands).then_some("true")>
                <App/>
            </body>
        </html>
    }
}

/// The pages that have no island: they load no wasm and no script at all.
fn page_without_islands() -> bool {
    #[cfg(feature = "ssr")]
    {
        use_context::<axum::http::request::Parts>().is_some_and(|request| request.uri.path() == "/sign-in")
    }
    #[cfg(not(feature = "ssr"))]
    false
}

/// Every page is rendered whole on the server before it is sent (`SsrMode::Async`): its data is
/// in the first and only response, which reads complete without any script, and links are plain
/// page loads. The parts that need the browser are islands (`#[island]`), hydrated on their own.
#[component]
pub fn App() -> impl IntoView {
    let whole = SsrMode::Async;
    view! {
        <Router>
            <Routes fallback=|| view! { <main id="main"><h1>"Page not found"</h1><p><a href="/">"Go to your numbers"</a></p></main> }>
                <Route path=path!("/sign-in") view=|| view! { <main id="main"><SignInPage/></main> } ssr=whole.clone()/>
                <ParentRoute path=path!("") view=SignedIn ssr=whole.clone()>
                    <Route path=path!("") view=NumbersPage ssr=whole.clone()/>
                    <Route path=path!("buy") view=BuyPage ssr=whole.clone()/>
                    <Route path=path!("numbers/:id") view=NumberPage ssr=whole.clone()/>
                    <Route path=path!("api-keys") view=ApiKeysPage ssr=whole.clone()/>
                    <Route path=path!("endpoints") view=EndpointsPage ssr=whole.clone()/>
                    <Route path=path!("endpoints/:id") view=EndpointPage ssr=whole.clone()/>
                    <Route path=path!("webhooks") view=WebhooksPage ssr=whole/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// The layout of every signed-in page: navigation, organization and mode switches, sign out.
///
/// On a phone the navigation and the switches fold into a menu (a `<details>`: a button
/// keyboards and screen readers know, working without any script); sign-out stays in view.
/// The switches and sign-out are plain HTML forms posting to their server functions: each
/// changes every page's data, so the server answers with a redirect back and the page loads
/// afresh.
#[component]
fn SignedIn() -> impl IntoView {
    let session = Resource::new(|| (), |_| get_session());
    let first_toast = crate::pages::flash::take_for_page().as_ref().and_then(Toast::of_flash);
    view! {
        <a class="skip" href="#main">"Skip to content"</a>
        // One boundary for everything the session decides (rendered whole on the server anyway).
        <Suspense fallback=|| ()>
            {move || session.get().map(|session| view! { <TopOfPage session/> })}
        </Suspense>
        <main id="main">
            <Outlet/>
        </main>
        <ToastRegion first=first_toast/>
        <PageReady/>
    }
}

/// The test-mode banner and the header: navigation, the session's controls and sign-out (or why
/// the session could not be read).
#[component]
fn TopOfPage(session: Result<SessionInfo, crate::domain::ErrorDetail>) -> impl IntoView {
    let test_mode = session.as_ref().is_ok_and(|s| s.mode == Mode::Test);
    let (controls, sign_out) = match session {
        Ok(session) => (
            Some(view! { <SessionControls session/> }),
            view! {
                <form method="post" action=SignOut::PATH class="sign-out">
                    <button type="submit" class="secondary small">"Sign out"</button>
                </form>
            }
            .into_any(),
        ),
        Err(e) => (None, view! { <ErrorNotice error=e/> }.into_any()),
    };
    view! {
        {test_mode.then(|| view! {
            <div class="test-banner" role="note">"Test mode: you are seeing test data. Test numbers are fictional and never cost money."</div>
        })}
        <header class="top">
            <a class="brand" href="/">"Kros Numbers"</a>
            <details class="menu">
                <summary>"Menu"</summary>
                <div class="menu-panel">
                    <nav aria-label="Main">
                        <A href="/" exact=true>"Numbers"</A>
                        <A href="/buy">"Buy a number"</A>
                        <A href="/endpoints">"Endpoints"</A>
                        <A href="/webhooks">"Webhooks"</A>
                        <A href="/api-keys">"API keys"</A>
                    </nav>
                    {controls}
                </div>
            </details>
            {sign_out}
        </header>
    }
}

/// The organization (a switch when there are several), the mode switch, who is signed in, and
/// sign-out.
#[component]
fn SessionControls(session: SessionInfo) -> impl IntoView {
    let SessionInfo { email, organizations, organization_id, mode } = session;
    let organization = if organizations.len() > 1 {
        view! { <OrganizationSwitch organizations current=organization_id/> }.into_any()
    } else {
        let name = organizations.into_iter().find(|o| o.id == organization_id).map(|o| o.name).unwrap_or_default();
        view! { <span class="org">{name}</span> }.into_any()
    };
    let other_mode = if mode == Mode::Live { Mode::Test } else { Mode::Live };
    view! {
        <div class="session">
            {organization}
            <form method="post" action=SwitchMode::PATH class="mode-switch">
                <input type="hidden" name="mode" value=other_mode.as_str()/>
                <span class="badge" class:badge-warn=mode == Mode::Test>{if mode == Mode::Live { "Live" } else { "Test" }}</span>
                <button type="submit" class="secondary small">
                    {if other_mode == Mode::Test { "Switch to test mode" } else { "Switch to live mode" }}
                </button>
            </form>
            <span class="muted small">{email}</span>
        </div>
    }
}

#[component]
fn OrganizationSwitch(organizations: Vec<OrganizationChoice>, current: uuid::Uuid) -> impl IntoView {
    view! {
        <form method="post" action=SwitchOrganization::PATH class="org-switch">
            <label>"Organization"
                <select name="organization_id">
                    {organizations.into_iter().map(|o| view! {
                        <option value=o.id.to_string() selected=o.id == current>{o.name}</option>
                    }).collect_view()}
                </select>
            </label>
            <button type="submit" class="secondary small">"Switch"</button>
        </form>
    }
}
