//! Webhooks: add an endpoint (its secret shown once), enable or disable it, rotate its secret,
//! delete it, see its recent deliveries, and send it the latest event again.

use super::api_keys::short_time;
use super::flash::{page_flash, typed_or, Secret};
#[cfg(feature = "ssr")]
use super::flash::{server::answer, Flash};
use super::widgets::{ConfirmThenPost, CopyButton, ErrorNotice, PostAfterConfirm};
use crate::domain::{DeliveryAttempt, ErrorDetail, WebhookEndpoint};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use serde::{Deserialize, Serialize};

/// An endpoint with its latest attempts, as the page shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EndpointWithAttempts {
    pub endpoint: WebhookEndpoint,
    pub attempts: Vec<DeliveryAttempt>,
}

/// How many attempts each endpoint shows.
const RECENT_ATTEMPTS: i64 = 5;

#[cfg(feature = "ssr")]
fn uuid_of(raw: &str) -> Result<uuid::Uuid, crate::error::AppError> {
    Ok(crate::domain::parse::parse_uuid("id", raw)?)
}

#[server]
pub async fn list_webhooks() -> Result<Vec<EndpointWithAttempts>, ErrorDetail> {
    use crate::domain::parse::PageRequest;
    use crate::service::webhooks;
    super::errors::answered(async move {
        let (state, tenant) = super::session::server::tenant().await?;
        // Every endpoint: an organization has at most MAX_ENDPOINTS (20) in a mode.
        let page = PageRequest { limit: webhooks::MAX_ENDPOINTS, offset: 0 };
        let mut list = Vec::new();
        for endpoint in webhooks::list(&state.ctx, &tenant, page).await?.data {
            let recent = PageRequest { limit: RECENT_ATTEMPTS, offset: 0 };
            let attempts = webhooks::attempts(&state.ctx, &tenant, endpoint.id, recent).await?.data;
            list.push(EndpointWithAttempts { endpoint, attempts });
        }
        Ok(list)
    })
    .await
}

/// The new endpoint's signing secret is shown once, on the page the form leads back to.
#[server]
pub async fn add_webhook(url: String, description: String) -> Result<(), ErrorDetail> {
    let outcome = async {
        let (state, tenant) = super::session::server::tenant().await?;
        let body = crate::domain::CreateWebhookEndpointBody {
            url: url.clone(),
            events: None,
            description: Some(description.clone()),
        };
        let created = crate::service::webhooks::create(&state.ctx, &tenant, &body).await?;
        Ok(Flash::success(format!("{} added", created.endpoint.url)).with_secret("Its signing secret", created.secret))
    };
    answer(outcome.await, &[("url", &url), ("description", &description)]).await
}

#[server]
pub async fn set_webhook_enabled(id: String, enabled: bool) -> Result<(), ErrorDetail> {
    let outcome = async {
        let (state, tenant) = super::session::server::tenant().await?;
        let body = crate::domain::UpdateWebhookEndpointBody { enabled: Some(Some(enabled)), ..Default::default() };
        let endpoint = crate::service::webhooks::update(&state.ctx, &tenant, uuid_of(&id)?, &body).await?;
        Ok(Flash::success(format!("{} {}", endpoint.url, if endpoint.enabled { "enabled" } else { "disabled" })))
    };
    answer(outcome.await, &[]).await
}

/// The new secret (the old one signs beside it for 24 hours) is shown once.
#[server]
pub async fn rotate_webhook_secret(id: String) -> Result<(), ErrorDetail> {
    let outcome = async {
        let (state, tenant) = super::session::server::tenant().await?;
        let rotated = crate::service::webhooks::rotate_secret(&state.ctx, &tenant, uuid_of(&id)?).await?;
        Ok(Flash::default().with_secret("The new signing secret", rotated.secret))
    };
    answer(outcome.await, &[]).await
}

#[server]
pub async fn delete_webhook(id: String) -> Result<(), ErrorDetail> {
    let outcome = async {
        let (state, tenant) = super::session::server::tenant().await?;
        crate::service::webhooks::delete(&state.ctx, &tenant, uuid_of(&id)?).await?;
        Ok(Flash::success("Webhook endpoint deleted"))
    };
    answer(outcome.await, &[]).await
}

/// Sends the organization's latest event (in this mode) to the endpoint again: a test of the
/// receiver with real data.
#[server]
pub async fn send_latest_event(id: String) -> Result<(), ErrorDetail> {
    use crate::domain::parse::PageRequest;
    use crate::service::{events, webhooks};
    let outcome = async {
        let (state, tenant) = super::session::server::tenant().await?;
        let newest = events::EventsRequest { filter: Default::default(), page: PageRequest { limit: 1, offset: 0 } };
        let Some(event) = events::list(&state.ctx, &tenant, newest).await?.data.into_iter().next() else {
            let message = "No event yet: buy a number (in test mode, it costs nothing), then send it.";
            return Err(crate::error::AppError::Conflict(message.into()));
        };
        let body = crate::domain::RedeliverBody { webhook_endpoint_id: Some(id.clone()) };
        webhooks::redeliver(&state.ctx, &tenant, event.id, &body).await?;
        Ok(Flash::success(format!("The latest event ({}) is on its way", event.event_type)))
    };
    answer(outcome.await, &[]).await
}

/// The webhooks page: plain forms add an endpoint and act on each (deleting asks first); a
/// secret just made is shown once, when the page comes back.
#[component]
pub fn WebhooksPage() -> impl IntoView {
    let endpoints = Resource::new(|| (), |_| list_webhooks());
    let flash = page_flash();
    view! {
        <h1>"Webhooks"</h1>
        <p class="muted">"Every purchase, change, release and delete of a number is sent to these URLs as it happens, \
            signed as Standard Webhooks, and retried for about a day."</p>
        {flash.as_ref().and_then(|f| f.secret.clone()).map(|secret| view! { <NewSecret secret/> })}
        <NewWebhookForm flash/>
        <Suspense fallback=|| view! { <p class="muted">"Loading webhook endpoints…"</p> }>
            {move || endpoints.get().map(|result| match result {
                Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                Ok(list) if list.is_empty() => view! { <p class="empty">"No webhook endpoints yet."</p> }.into_any(),
                Ok(list) => list.into_iter().map(|item| view! { <EndpointCard item/> }).collect_view().into_any(),
            })}
        </Suspense>
    }
}

#[component]
fn NewWebhookForm(flash: Option<super::flash::Flash>) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="new-webhook-title">
            <h2 id="new-webhook-title">"Add an endpoint"</h2>
            <form method="post" action=AddWebhook::PATH class="inline-form">
                <label>"URL" <input name="url" type="url" required=true maxlength="2048" placeholder="https://example.com/kros/webhooks"
                    value=typed_or(&flash, "url", String::new())/></label>
                <label>"Description" <input name="description" maxlength="200" placeholder="e.g. Call routing"
                    value=typed_or(&flash, "description", String::new())/></label>
                <button type="submit">"Add endpoint"</button>
            </form>
        </section>
    }
}

/// A secret just made, shown once with a copy button.
#[component]
fn NewSecret(secret: Secret) -> impl IntoView {
    let Secret { what, value } = secret;
    view! {
        <div class="notice notice-key" role="alert">
            <p><strong>{format!("{what}: copy it now, you will not see it again.")}</strong></p>
            <p><code data-testid="webhook-secret">{value.clone()}</code> " " <CopyButton text=value label="Copy the signing secret"/></p>
        </div>
    }
}

/// One of an endpoint's buttons: a plain form posting its id to a server function.
#[component]
fn EndpointButton(
    action: &'static str,
    id: String,
    #[prop(optional)] enabled: Option<bool>,
    label: &'static str,
) -> impl IntoView {
    view! {
        <form method="post" action=action>
            <input type="hidden" name="id" value=id/>
            {enabled.map(|on| view! { <input type="hidden" name="enabled" value=on.to_string()/> })}
            <button type="submit" class="secondary small">{label}</button>
        </form>
    }
}

#[component]
fn EndpointCard(item: EndpointWithAttempts) -> impl IntoView {
    let EndpointWithAttempts { endpoint, attempts } = item;
    let id = endpoint.id.to_string();
    let enabled = endpoint.enabled;
    let status = match (&endpoint.disabled_reason, enabled) {
        (_, true) => view! { <span class="badge badge-ok">"Enabled"</span> }.into_any(),
        (Some(reason), false) => {
            view! { <span class="badge badge-warn">"Disabled"</span> " " <span class="small">{reason.clone()}</span> }
                .into_any()
        }
        (None, false) => view! { <span class="badge badge-muted">"Disabled"</span> }.into_any(),
    };
    let delete = PostAfterConfirm {
        action: DeleteWebhook::PATH.into(),
        fields: vec![("id".into(), id.clone())],
        heading_id: format!("delete-webhook-title-{id}"),
        title: format!("Delete {}?", endpoint.url),
        message: "Nothing more will be sent to it, and its pending deliveries are dropped. This cannot be undone."
            .into(),
        confirm_label: "Delete endpoint".into(),
    };
    view! {
        <section class="card webhook" aria-label=format!("Webhook endpoint {}", endpoint.url)>
            <h2 class="small-heading"><code>{endpoint.url.clone()}</code></h2>
            <p>{status} " " <span class="muted small">{format!("{} · events: {} · added {}",
                if endpoint.description.is_empty() { "no description".to_string() } else { endpoint.description.clone() },
                endpoint.events, short_time(&endpoint.created_at))}</span></p>
            <div class="actions">
                <EndpointButton action=SetWebhookEnabled::PATH id=id.clone() enabled=!enabled
                    label=if enabled { "Disable" } else { "Enable" }/>
                <EndpointButton action=SendLatestEvent::PATH id=id.clone() label="Send the latest event"/>
                <EndpointButton action=RotateWebhookSecret::PATH id label="Rotate secret"/>
                <ConfirmThenPost label="Delete" class="danger outline small" aria_label=None disabled=false
                    described_by=None post=delete/>
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
                <caption>{format!("The latest {RECENT_ATTEMPTS} deliveries")}</caption>
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
