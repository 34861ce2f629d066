//! Webhooks: add an endpoint (its secret shown once), enable or disable it, rotate its secret,
//! delete it, see its recent deliveries, and send it the latest event again.

use super::api_keys::short_time;
use super::widgets::{toast_outcome, ConfirmDialog, CopyButton, ErrorNotice};
use crate::domain::{DeliveryAttempt, ErrorDetail, WebhookEndpoint};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// An endpoint with its latest attempts, as the page shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EndpointWithAttempts {
    pub endpoint: WebhookEndpoint,
    pub attempts: Vec<DeliveryAttempt>,
}

/// How many attempts each endpoint shows.
#[cfg(feature = "ssr")]
const RECENT_ATTEMPTS: i64 = 5;

#[cfg(feature = "ssr")]
fn uuid_of(raw: &str) -> Result<uuid::Uuid, ErrorDetail> {
    Ok(crate::service::phone_numbers::parse_uuid("id", raw)?)
}

#[server]
pub async fn list_webhooks() -> Result<Vec<EndpointWithAttempts>, ErrorDetail> {
    use crate::domain::parse::PageRequest;
    use crate::service::webhooks;
    let (state, tenant) = super::session::server::tenant().await?;
    let page = PageRequest { limit: PageRequest::MAX_LIMIT, offset: 0 };
    let mut list = Vec::new();
    for endpoint in webhooks::list(&state.ctx, &tenant, page).await?.data {
        let recent = PageRequest { limit: RECENT_ATTEMPTS, offset: 0 };
        let attempts = webhooks::attempts(&state.ctx, &tenant, endpoint.id, recent).await?.data;
        list.push(EndpointWithAttempts { endpoint, attempts });
    }
    Ok(list)
}

/// Returns the new endpoint's signing secret: the only time it is shown.
#[server]
pub async fn add_webhook(url: String, description: String) -> Result<String, ErrorDetail> {
    let (state, tenant) = super::session::server::tenant().await?;
    let body = crate::domain::CreateWebhookEndpointBody { url, events: None, description: Some(description) };
    Ok(crate::service::webhooks::create(&state.ctx, &tenant, &body).await?.secret)
}

#[server]
pub async fn set_webhook_enabled(id: String, enabled: bool) -> Result<WebhookEndpoint, ErrorDetail> {
    let (state, tenant) = super::session::server::tenant().await?;
    let body = crate::domain::UpdateWebhookEndpointBody { enabled: Some(Some(enabled)), ..Default::default() };
    Ok(crate::service::webhooks::update(&state.ctx, &tenant, uuid_of(&id)?, &body).await?)
}

/// Returns the new secret (the old one signs beside it for 24 hours).
#[server]
pub async fn rotate_webhook_secret(id: String) -> Result<String, ErrorDetail> {
    let (state, tenant) = super::session::server::tenant().await?;
    Ok(crate::service::webhooks::rotate_secret(&state.ctx, &tenant, uuid_of(&id)?).await?.secret)
}

#[server]
pub async fn delete_webhook(id: String) -> Result<(), ErrorDetail> {
    let (state, tenant) = super::session::server::tenant().await?;
    Ok(crate::service::webhooks::delete(&state.ctx, &tenant, uuid_of(&id)?).await?)
}

/// Sends the organization's latest event (in this mode) to the endpoint again: a test of the
/// receiver with real data.
#[server]
pub async fn send_latest_event(id: String) -> Result<String, ErrorDetail> {
    use crate::domain::parse::PageRequest;
    use crate::service::{events, webhooks};
    let (state, tenant) = super::session::server::tenant().await?;
    let newest = events::EventsRequest { filter: Default::default(), page: PageRequest { limit: 1, offset: 0 } };
    let Some(event) = events::list(&state.ctx, &tenant, newest).await?.data.into_iter().next() else {
        let message = "No event yet: buy a number (in test mode, it costs nothing), then send it.";
        return Err(crate::error::AppError::Conflict(message.into()).into());
    };
    let body = crate::domain::RedeliverBody { webhook_endpoint_id: Some(id) };
    webhooks::redeliver(&state.ctx, &tenant, event.id, &body).await?;
    Ok(event.event_type.to_string())
}

/// The webhooks page, an island as a whole: every action updates its cards in place.
#[island(lazy)]
pub fn WebhooksPage() -> impl IntoView {
    let add = ServerAction::<AddWebhook>::new();
    let toggle = ServerAction::<SetWebhookEnabled>::new();
    let rotate = ServerAction::<RotateWebhookSecret>::new();
    let delete = ServerAction::<DeleteWebhook>::new();
    let send = ServerAction::<SendLatestEvent>::new();
    let versions = move || {
        (
            add.version().get(),
            toggle.version().get(),
            rotate.version().get(),
            delete.version().get(),
            send.version().get(),
        )
    };
    let endpoints = Resource::new(versions, |_| list_webhooks());
    toast_outcome(add, |_| None);
    toast_outcome(rotate, |_| None);
    toast_outcome(toggle, |e| Some(format!("{} {}", e.url, if e.enabled { "enabled" } else { "disabled" })));
    toast_outcome(delete, |_| Some("Webhook endpoint deleted".into()));
    toast_outcome(send, |t| Some(format!("The latest event ({t}) is on its way")));
    let to_delete = RwSignal::new(None::<WebhookEndpoint>);
    let confirm_open = RwSignal::new(false);
    let ask_to_delete = Callback::new(move |e: WebhookEndpoint| {
        to_delete.set(Some(e));
        confirm_open.set(true);
    });
    let actions = EndpointActions { toggle, rotate, send, ask_to_delete };
    view! {
        <h1>"Webhooks"</h1>
        <p class="muted">"Every purchase, change, release and delete of a number is sent to these URLs as it happens, \
            signed as Standard Webhooks, and retried for about a day."</p>
        <NewWebhookForm add/>
        <NewSecret secret=Signal::derive(move || rotate.value().get().and_then(|r| r.ok())) what="The new signing secret"/>
        <Transition fallback=|| view! { <p class="muted">"Loading webhook endpoints…"</p> }>
            {move || endpoints.get().map(|result| match result {
                Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                Ok(list) if list.is_empty() => view! { <p class="empty">"No webhook endpoints yet."</p> }.into_any(),
                Ok(list) => list.into_iter().map(|item| view! { <EndpointCard item actions/> }).collect_view().into_any(),
            })}
        </Transition>
        <ConfirmDialog open=confirm_open heading_id="delete-webhook-title"
            title=move || to_delete.get().map(|e| format!("Delete {}?", e.url)).unwrap_or_default()
            message="Nothing more will be sent to it, and its pending deliveries are dropped. This cannot be undone."
            confirm_label="Delete endpoint"
            on_confirm=Callback::new(move |_| {
                if let Some(e) = to_delete.get_untracked() {
                    delete.dispatch(DeleteWebhook { id: e.id.to_string() });
                }
            })/>
    }
}

/// What each endpoint's buttons do.
#[derive(Clone, Copy)]
struct EndpointActions {
    toggle: ServerAction<SetWebhookEnabled>,
    rotate: ServerAction<RotateWebhookSecret>,
    send: ServerAction<SendLatestEvent>,
    ask_to_delete: Callback<WebhookEndpoint>,
}

#[component]
fn NewWebhookForm(add: ServerAction<AddWebhook>) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="new-webhook-title">
            <h2 id="new-webhook-title">"Add an endpoint"</h2>
            <ActionForm action=add attr:class="inline-form">
                <label>"URL" <input name="url" type="url" required=true maxlength="2048" placeholder="https://example.com/kros/webhooks"/></label>
                <label>"Description" <input name="description" maxlength="200" placeholder="e.g. Call routing"/></label>
                <button type="submit" disabled=move || add.pending().get()>"Add endpoint"</button>
            </ActionForm>
            <NewSecret secret=Signal::derive(move || add.value().get().and_then(|r| r.ok())) what="Its signing secret"/>
        </section>
    }
}

/// A secret just made, shown once with a copy button.
#[component]
fn NewSecret(secret: Signal<Option<String>>, what: &'static str) -> impl IntoView {
    move || {
        secret.get().map(|secret| {
            view! {
                <div class="notice notice-key" role="alert">
                    <p><strong>{format!("{what}: copy it now, you will not see it again.")}</strong></p>
                    <p><code data-testid="webhook-secret">{secret.clone()}</code> " " <CopyButton text=secret label="Copy the signing secret"/></p>
                </div>
            }
        })
    }
}

#[component]
fn EndpointCard(item: EndpointWithAttempts, actions: EndpointActions) -> impl IntoView {
    let EndpointWithAttempts { endpoint, attempts } = item;
    let id = endpoint.id.to_string();
    let (toggle_id, rotate_id, send_id) = (id.clone(), id.clone(), id);
    let enabled = endpoint.enabled;
    let for_delete = endpoint.clone();
    let status = match (&endpoint.disabled_reason, enabled) {
        (_, true) => view! { <span class="badge badge-ok">"Enabled"</span> }.into_any(),
        (Some(reason), false) => {
            view! { <span class="badge badge-warn">"Disabled"</span> " " <span class="small">{reason.clone()}</span> }
                .into_any()
        }
        (None, false) => view! { <span class="badge badge-muted">"Disabled"</span> }.into_any(),
    };
    view! {
        <section class="card webhook" aria-label=format!("Webhook endpoint {}", endpoint.url)>
            <h2 class="small-heading"><code>{endpoint.url.clone()}</code></h2>
            <p>{status} " " <span class="muted small">{format!("{} · events: {} · added {}",
                if endpoint.description.is_empty() { "no description".to_string() } else { endpoint.description.clone() },
                endpoint.events.join(", "), short_time(&endpoint.created_at))}</span></p>
            <div class="actions">
                <button type="button" class="secondary small" on:click=move |_| {
                    actions.toggle.dispatch(SetWebhookEnabled { id: toggle_id.clone(), enabled: !enabled });
                }>{if enabled { "Disable" } else { "Enable" }}</button>
                <button type="button" class="secondary small" on:click=move |_| {
                    actions.send.dispatch(SendLatestEvent { id: send_id.clone() });
                }>"Send the latest event"</button>
                <button type="button" class="secondary small" on:click=move |_| {
                    actions.rotate.dispatch(RotateWebhookSecret { id: rotate_id.clone() });
                }>"Rotate secret"</button>
                <button type="button" class="danger outline small" on:click=move |_| actions.ask_to_delete.run(for_delete.clone())>"Delete"</button>
            </div>
            <AttemptTable attempts/>
        </section>
    }
}

#[component]
fn AttemptTable(attempts: Vec<DeliveryAttempt>) -> impl IntoView {
    if attempts.is_empty() {
        return view! { <p class="muted small">"Nothing sent yet."</p> }.into_any();
    }
    view! {
        <div class="table-wrap">
            <table>
                <caption>"Recent deliveries"</caption>
                <thead><tr>
                    <th scope="col">"When"</th><th scope="col">"Event"</th><th scope="col">"Result"</th><th scope="col">"Time taken"</th>
                </tr></thead>
                <tbody>
                    {attempts.into_iter().map(|a| {
                        let result = match (a.succeeded, a.response_status, &a.error) {
                            (true, Some(status), _) => format!("Delivered ({status})"),
                            (false, Some(status), _) => format!("Failed: HTTP {status}"),
                            (_, None, Some(error)) => format!("Failed: {error}"),
                            _ => "Failed".to_string(),
                        };
                        view! {
                            <tr>
                                <td>{short_time(&a.attempted_at)}</td>
                                <td><code>{a.event_type.to_string()}</code></td>
                                <td class:ok=a.succeeded class:failed=!a.succeeded>{result}</td>
                                <td>{format!("{} ms", a.latency_ms)}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}
