//! Call-routing endpoints: list and create, so numbers have something to attach to.

use super::widgets::{toast_outcome, ErrorNotice};
use crate::domain::{Endpoint, ErrorDetail};
use leptos::prelude::*;

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
pub async fn create_endpoint(name: String) -> Result<Endpoint, ErrorDetail> {
    let (state, tenant) = super::session::server::tenant().await?;
    let name = crate::domain::parse::EndpointName::parse(&name)?;
    Ok(crate::service::endpoints::create(&state.ctx, &tenant, &name).await?)
}

/// The endpoints page, an island as a whole: a new endpoint joins the list in place.
#[island(lazy)]
pub fn EndpointsPage() -> impl IntoView {
    let create = ServerAction::<CreateEndpoint>::new();
    let endpoints = Resource::new(move || create.version().get(), |_| list_endpoints());
    toast_outcome(create, |e| Some(format!("Endpoint {} created", e.name)));
    view! {
        <h1>"Endpoints"</h1>
        <section class="card" aria-labelledby="new-endpoint-title">
            <h2 id="new-endpoint-title">"Create an endpoint"</h2>
            <ActionForm action=create attr:class="inline-form">
                <label>"Name" <input name="name" required=true maxlength="100" placeholder="e.g. Main SIP trunk"/></label>
                <button type="submit" disabled=move || create.pending().get()>"Create endpoint"</button>
            </ActionForm>
        </section>
        <Transition fallback=|| view! { <p class="muted">"Loading endpoints…"</p> }>
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
        </Transition>
    }
}
