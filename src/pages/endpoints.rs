//! Call-routing endpoints: the list (with where each sends calls) and a form that adds to it;
//! one page per endpoint to change its targets, or delete it.

use super::flash::{page_flash, typed_or};
use super::widgets::{ConfirmThenPost, ErrorNotice, PostAfterConfirm};
use crate::domain::{Endpoint, ErrorDetail, Page};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_params_map;

/// How many endpoints the endpoints page lists at once.
pub const PAGE_SIZE: i64 = 50;

/// Where an endpoint sends calls, in words.
pub fn where_calls_go(endpoint: &Endpoint) -> String {
    if endpoint.targets.is_empty() {
        "Calls ring the devices registered with each number's SIP credentials.".into()
    } else {
        format!("Calls ring {}.", endpoint.targets.join(", then "))
    }
}

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
pub async fn get_endpoint(id: String) -> Result<Endpoint, ErrorDetail> {
    super::errors::answered(async move {
        let (state, tenant) = super::session::server::tenant().await?;
        let id = crate::domain::parse::parse_uuid("id", &id)?;
        crate::service::endpoints::get(&state.ctx, &tenant, id).await
    })
    .await
}

/// The form's targets: one SIP URI per line (blank lines ignored).
#[cfg(feature = "ssr")]
fn target_lines(text: &str) -> Vec<String> {
    text.lines().map(str::trim).filter(|line| !line.is_empty()).map(str::to_string).collect()
}

/// The form's timeout: whole seconds.
#[cfg(feature = "ssr")]
fn timeout_secs(text: &str) -> Result<i64, crate::error::AppError> {
    text.trim().parse().map_err(|_| {
        crate::error::AppError::validation(
            "failover_timeout_secs",
            "failover_timeout_secs must be a whole number of seconds",
        )
    })
}

#[server]
pub async fn create_endpoint(
    name: String,
    targets: Option<String>,
    failover_timeout_secs: Option<String>,
) -> Result<(), ErrorDetail> {
    let (targets, timeout) = (targets.unwrap_or_default(), failover_timeout_secs.unwrap_or_default());
    let outcome = async {
        let (state, tenant) = super::session::server::tenant().await?;
        let body = crate::domain::CreateEndpointBody {
            name: name.clone(),
            targets: Some(target_lines(&targets)),
            failover_timeout_secs: (!timeout.trim().is_empty()).then(|| timeout_secs(&timeout)).transpose()?,
        };
        let endpoint = crate::service::endpoints::create(&state.ctx, &tenant, &body).await?;
        Ok(super::flash::Flash::success(format!("Endpoint {} created", endpoint.name)))
    };
    let typed = [("name", name.as_str()), ("targets", targets.as_str()), ("failover_timeout_secs", timeout.as_str())];
    super::flash::server::answer(outcome.await, &typed).await
}

/// Writes the whole form: the name, the targets (the list as shown, in order) and the timeout.
#[server]
pub async fn update_endpoint(
    id: String,
    name: String,
    targets: String,
    failover_timeout_secs: String,
) -> Result<(), ErrorDetail> {
    let outcome = async {
        let (state, tenant) = super::session::server::tenant().await?;
        let id = crate::domain::parse::parse_uuid("id", &id)?;
        let body = crate::domain::UpdateEndpointBody {
            name: Some(Some(name.clone())),
            targets: Some(Some(target_lines(&targets))),
            failover_timeout_secs: Some(Some(timeout_secs(&failover_timeout_secs)?)),
        };
        let endpoint = crate::service::endpoints::update(&state.ctx, &tenant, id, &body).await?;
        Ok(super::flash::Flash::success(format!("Endpoint {} saved", endpoint.name)))
    };
    let typed = [
        ("name", name.as_str()),
        ("targets", targets.as_str()),
        ("failover_timeout_secs", failover_timeout_secs.as_str()),
    ];
    super::flash::server::answer(outcome.await, &typed).await
}

/// Deleted, the endpoint has no page: the form leads to the list.
#[server]
pub async fn delete_endpoint(id: String) -> Result<(), ErrorDetail> {
    let outcome = async {
        let (state, tenant) = super::session::server::tenant().await?;
        let id = crate::domain::parse::parse_uuid("id", &id)?;
        crate::service::endpoints::delete(&state.ctx, &tenant, id).await?;
        Ok(super::flash::Flash::success("Endpoint deleted").then_open("/endpoints".into()))
    };
    super::flash::server::answer(outcome.await, &[]).await
}

/// The fields of an endpoint's form (creating or changing it), filled with `endpoint`'s values,
/// or with what was typed when the last post was refused.
#[component]
fn EndpointFields(endpoint: Option<Endpoint>) -> impl IntoView {
    let flash = page_flash();
    let name = typed_or(&flash, "name", endpoint.as_ref().map(|e| e.name.clone()).unwrap_or_default());
    let targets = typed_or(&flash, "targets", endpoint.as_ref().map(|e| e.targets.join("\n")).unwrap_or_default());
    let timeout = endpoint.as_ref().map_or(5, |e| e.failover_timeout_secs).to_string();
    let timeout = typed_or(&flash, "failover_timeout_secs", timeout);
    view! {
        <label>"Name" <input name="name" required=true maxlength="100" placeholder="e.g. Main SIP trunk" value=name/></label>
        <label>"SIP targets, tried in order (one per line; none: calls ring the devices registered with each number)"
            <textarea name="targets" rows="4" spellcheck="false"
                placeholder="sip:pbx.example.com\nsip:backup.example.com;transport=tcp">{targets}</textarea>
        </label>
        <label>"Seconds a target has to answer before the next is tried (1 to 30)"
            <input name="failover_timeout_secs" type="number" min="1" max="30" required=true value=timeout/>
        </label>
    }
}

/// The endpoints page: the list, and a plain form that adds to it.
#[component]
pub fn EndpointsPage() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let endpoints = Resource::new(move || query.with(|q| q.get("offset")), list_endpoints);
    view! {
        <h1>"Endpoints"</h1>
        <section class="card" aria-labelledby="new-endpoint-title">
            <h2 id="new-endpoint-title">"Create an endpoint"</h2>
            <form method="post" action=CreateEndpoint::PATH class="stacked-form">
                <EndpointFields endpoint=None/>
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
                            {page.data.into_iter().map(|e| {
                                let calls = where_calls_go(&e);
                                view! {
                                    <li>
                                        <a href=format!("/endpoints/{}", e.id)><strong>{e.name}</strong></a>
                                        " " <span class="muted small">{format!("id {} · created {}", e.id, super::api_keys::short_time(&e.created_at))}</span>
                                        <br/><span class="small">{calls}</span>
                                    </li>
                                }
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

/// One endpoint: where it sends calls, the form that changes it, and its deletion.
#[component]
pub fn EndpointPage() -> impl IntoView {
    let params = use_params_map();
    let endpoint = Resource::new(move || params.with(|p| p.get("id")).unwrap_or_default(), get_endpoint);
    view! {
        <p><a href="/endpoints">"← All endpoints"</a></p>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || endpoint.get().map(|result| match result {
                Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                Ok(endpoint) => view! { <EndpointSettings endpoint/> }.into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn EndpointSettings(endpoint: Endpoint) -> impl IntoView {
    let (id, name, calls) = (endpoint.id.to_string(), endpoint.name.clone(), where_calls_go(&endpoint));
    let delete = PostAfterConfirm {
        action: DeleteEndpoint::PATH.into(),
        fields: vec![("id".into(), id.clone())],
        heading_id: "delete-endpoint-title".into(),
        title: format!("Delete {name}?"),
        message: "An endpoint that numbers route their calls to is not deleted: attach them elsewhere first.".into(),
        confirm_label: "Delete endpoint".into(),
    };
    view! {
        <h1>{name}</h1>
        <p data-testid="endpoint-calls-go">{calls}</p>
        <section class="card" aria-labelledby="endpoint-settings-title">
            <h2 id="endpoint-settings-title">"Settings"</h2>
            <form method="post" action=UpdateEndpoint::PATH class="stacked-form">
                <input type="hidden" name="id" value=id/>
                <EndpointFields endpoint=Some(endpoint)/>
                <button type="submit">"Save endpoint"</button>
            </form>
        </section>
        <section class="card danger" aria-labelledby="endpoint-danger-title">
            <h2 id="endpoint-danger-title">"Delete"</h2>
            <ConfirmThenPost label="Delete endpoint" class="danger" aria_label=None disabled=false described_by=None post=delete/>
        </section>
    }
}
