//! Call-routing endpoints: list and create, so numbers have something to attach to.

use super::flash::{page_flash, typed_or};
use super::widgets::ErrorNotice;
use crate::domain::{Endpoint, ErrorDetail};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// The organization's endpoints, as many as one page of the API holds: what every dashboard
/// list and endpoint picker shows.
#[cfg(feature = "ssr")]
pub(crate) async fn all_endpoints(
    state: &crate::state::AppState,
    tenant: &crate::service::Tenant,
) -> Result<Vec<Endpoint>, ErrorDetail> {
    let page = crate::domain::parse::PageRequest { limit: crate::domain::parse::PageRequest::MAX_LIMIT, offset: 0 };
    Ok(crate::service::endpoints::list(&state.ctx, tenant, page).await?.data)
}

#[server]
pub async fn list_endpoints() -> Result<Vec<Endpoint>, ErrorDetail> {
    let (state, tenant) = super::session::server::tenant().await?;
    all_endpoints(&state, &tenant).await
}

#[server]
pub async fn create_endpoint(name: String) -> Result<(), ErrorDetail> {
    let outcome = async {
        let (state, tenant) = super::session::server::tenant().await?;
        let parsed = crate::domain::parse::EndpointName::parse(&name)?;
        let endpoint = crate::service::endpoints::create(&state.ctx, &tenant, &parsed).await?;
        Ok(super::flash::Flash::success(format!("Endpoint {} created", endpoint.name)))
    };
    super::flash::server::answer(outcome.await, &[("name", &name)]).await
}

/// The endpoints page: the list, and a plain form that adds to it.
#[component]
pub fn EndpointsPage() -> impl IntoView {
    let endpoints = Resource::new(|| (), |_| list_endpoints());
    let flash = page_flash();
    view! {
        <h1>"Endpoints"</h1>
        <section class="card" aria-labelledby="new-endpoint-title">
            <h2 id="new-endpoint-title">"Create an endpoint"</h2>
            <form method="post" action=CreateEndpoint::PATH class="inline-form">
                <label>"Name" <input name="name" required=true maxlength="100" placeholder="e.g. Main SIP trunk"
                    value=typed_or(&flash, "name", String::new())/></label>
                <button type="submit">"Create endpoint"</button>
            </form>
        </section>
        <Suspense fallback=|| view! { <p class="muted">"Loading endpoints…"</p> }>
            {move || endpoints.get().map(|result| match result {
                Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                Ok(list) if list.is_empty() => view! { <p class="empty">"No endpoints yet: create one to route your numbers' calls."</p> }.into_any(),
                Ok(list) => view! {
                    <ul class="list">
                        {list.into_iter().map(|e| view! {
                            <li><strong>{e.name}</strong> <span class="muted small">{format!("id {} · created {}", e.id, super::api_keys::short_time(&e.created_at))}</span></li>
                        }).collect_view()}
                    </ul>
                }.into_any(),
            })}
        </Suspense>
    }
}
