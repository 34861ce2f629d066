//! The dashboard (Leptos): the HTML shell and the routes. Server-rendered, then hydrated.

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::StaticSegment;

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
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
    view! {
        <Stylesheet id="leptos" href="/pkg/kros-numbers.css"/>
        <Title text="Kros Numbers"/>
        <Router>
            <main>
                <Routes fallback=|| view! { <h1>"Page not found"</h1> }>
                    <Route path=StaticSegment("") view=HomePage/>
                </Routes>
            </main>
        </Router>
    }
}

/// The landing page until the dashboard pages arrive: what the product is and how to call it.
#[component]
fn HomePage() -> impl IntoView {
    let (show_example, set_show_example) = signal(false);
    view! {
        <section class="home">
            <h1>"Kros Numbers"</h1>
            <p>"Buy phone numbers, route them to your endpoints, release them when you are done."</p>
            <p>
                "The REST API lives under " <code>"/v1"</code> "; its OpenAPI document is at "
                <a href="/v1/openapi.json">"/v1/openapi.json"</a> "."
            </p>
            <button
                type="button"
                aria-expanded=move || show_example.get().to_string()
                aria-controls="api-example"
                on:click=move |_| set_show_example.update(|shown| *shown = !*shown)
            >
                {move || if show_example.get() { "Hide the example" } else { "Show an API example" }}
            </button>
            <Show when=move || show_example.get()>
                <pre id="api-example" class="example">
                    "curl -H 'Authorization: Bearer $KROS_API_KEY' \\\n  'http://127.0.0.1:3000/v1/phone-numbers?action=available&country=US'"
                </pre>
            </Show>
        </section>
    }
}
