//! Call-routing endpoints: list and create, so numbers have something to attach to.

use super::flash::{page_flash, typed_or};
use super::widgets::ErrorNotice;
use crate::domain::{Endpoint, ErrorDetail, Page};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// How many endpoints the endpoints page lists at once.
pub const PAGE_SIZE: i64 = 50;

/// A page of the organization's endpoints, newest first.
#[server]
pub async fn list_endpoints(offset: Option<String>) -> Result<Page<Endpoint>, ErrorDetail> {
    use crate::domain::parse::PageRequest;
    super::errors::answered(async move {
        let (state, tenant) = super::session::server::tenant().await?;
        let page = PageRequest::parse(Some(&PAGE_SIZE.to_string()), offset.as_deref().filter(|o| !o.is_empty()))?;
        crate::service::endpoints::list(&state.ctx, &tenant, page).await
    })
    .await
}

#[server]
pub async fn create_endpoint(name: String) -> Result<(), ErrorDetail> {
    let outcome = async {
        let (state, tenant) = super::session::server::tenant().await?;
        let body = crate::domain::CreateEndpointBody { name: name.clone(), ..Default::default() };
        let endpoint = crate::service::endpoints::create(&state.ctx, &tenant, &body).await?;
        Ok(super::flash::Flash::success(format!("Endpoint {} created", endpoint.name)))
    };
    super::flash::server::answer(outcome.await, &[("name", &name)]).await
}

/// The endpoints page: the list, and a plain form that adds to it.
#[component]
pub fn EndpointsPage() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let endpoints = Resource::new(move || query.with(|q| q.get("offset")), list_endpoints);
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
                Ok(page) if page.total == 0 => view! { <p class="empty">"No endpoints yet: create one to route your numbers' calls."</p> }.into_any(),
                Ok(page) => {
                    let (offset, limit, total) = (page.offset, page.limit, page.total);
                    view! {
                        <ul class="list">
                            {page.data.into_iter().map(|e| view! {
                                <li><strong>{e.name}</strong> <span class="muted small">{format!("id {} · created {}", e.id, super::api_keys::short_time(&e.created_at))}</span></li>
                            }).collect_view()}
                        </ul>
                        <super::widgets::Pager offset limit total label="Endpoint pages"
                            link=|offset| format!("/endpoints?offset={offset}")/>
                    }.into_any()
                }
            })}
        </Suspense>
    }
}
