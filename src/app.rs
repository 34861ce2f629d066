//! The dashboard (Leptos): the HTML shell, the routes and the signed-in layout. Server-rendered,
//! then hydrated.

use crate::domain::Mode;
use crate::pages::api_keys::ApiKeysPage;
use crate::pages::buy::BuyPage;
use crate::pages::endpoints::EndpointsPage;
use crate::pages::numbers::{NumberPage, NumbersPage};
use crate::pages::session::{get_session, OrganizationChoice, SessionInfo, SignOut, SwitchMode, SwitchOrganization};
use crate::pages::sign_in::SignInPage;
use crate::pages::webhooks::WebhooksPage;
use crate::pages::widgets::{provide_toasts, ErrorNotice, ToastRegion};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::components::{Outlet, ParentRoute, Route, Router, Routes, A};
use leptos_router::{lazy_route, path, Lazy, LazyRoute};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <title>"Kros Numbers"</title>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <link rel="stylesheet" id="leptos" href="/pkg/kros-numbers.css"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_toasts();
    view! {
        <Router>
            <Routes fallback=|| view! { <main id="main"><h1>"Page not found"</h1><p><a href="/">"Go to your numbers"</a></p></main> }>
                <Route path=path!("/sign-in") view={Lazy::<SignInRoute>::new()}/>
                <ParentRoute path=path!("") view={Lazy::<SignedInRoute>::new()}>
                    <Route path=path!("") view={Lazy::<NumbersRoute>::new()}/>
                    <Route path=path!("buy") view={Lazy::<BuyRoute>::new()}/>
                    <Route path=path!("numbers/:id") view={Lazy::<NumberRoute>::new()}/>
                    <Route path=path!("api-keys") view={Lazy::<ApiKeysRoute>::new()}/>
                    <Route path=path!("endpoints") view={Lazy::<EndpointsRoute>::new()}/>
                    <Route path=path!("webhooks") view={Lazy::<WebhooksRoute>::new()}/>
                </ParentRoute>
            </Routes>
        </Router>
        <ToastRegion/>
    }
}

// Every page, and the signed-in layout, is a lazy route: `cargo leptos build --split` puts each
// one's code in a wasm chunk of its own, fetched when it is first shown. The server names the
// current page's chunks in the HTML it renders, so a first load fetches the shell and that one
// page, in parallel. (Each page loads its own data, so the routes carry none.)

/// Declares a lazy route showing one view.
macro_rules! lazy_route_of {
    ($route:ident, $view:expr) => {
        pub struct $route;
        #[lazy_route]
        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }
            fn view(_this: Self) -> AnyView {
                $view.into_any()
            }
        }
    };
}

lazy_route_of!(SignedInRoute, view! { <SignedIn/> });
lazy_route_of!(SignInRoute, view! { <main id="main"><SignInPage/></main> });
lazy_route_of!(NumbersRoute, view! { <NumbersPage/> });
lazy_route_of!(NumberRoute, view! { <NumberPage/> });
lazy_route_of!(BuyRoute, view! { <BuyPage/> });
lazy_route_of!(ApiKeysRoute, view! { <ApiKeysPage/> });
lazy_route_of!(EndpointsRoute, view! { <EndpointsPage/> });
lazy_route_of!(WebhooksRoute, view! { <WebhooksPage/> });

/// The layout of every signed-in page: navigation, organization and mode switches, sign out.
///
/// The switches and sign-out are plain HTML forms posting to their server functions: each
/// changes every page's data, so the server answers with a redirect back and the page loads
/// afresh. They work before the page has hydrated, and keep form handling out of the shell's
/// wasm.
#[component]
fn SignedIn() -> impl IntoView {
    let session = Resource::new(|| (), |_| get_session());
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
                <A href="/webhooks">"Webhooks"</A>
                <A href="/api-keys">"API keys"</A>
            </nav>
            <Transition fallback=|| view! { <span class="muted">"…"</span> }>
                {move || session.get().map(|s| match s {
                    Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                    Ok(session) => view! { <SessionControls session/> }.into_any(),
                })}
            </Transition>
        </header>
        <main id="main">
            <Outlet/>
        </main>
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
            <form method="post" action=SignOut::PATH class="sign-out">
                <button type="submit" class="secondary small">"Sign out"</button>
            </form>
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
