//! A number's history on its settings page: its events, newest first, with who made each change.

use super::api_keys::short_time;
use crate::domain::{ErrorDetail, EventType, Page};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One event as the page shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub event_type: EventType,
    pub created_at: String,
    /// `API key "Production"`, an email, or `the operator`.
    pub who: String,
    /// For a change: the fields that changed.
    pub changed: Vec<String>,
}

/// How many events the history shows at once (older ones a page further).
pub const PAGE_SIZE: i64 = 50;
/// The number page's query parameter that pages through its history.
pub const OFFSET: &str = "history";

#[server]
pub async fn number_history(id: String, offset: Option<String>) -> Result<Page<HistoryEntry>, ErrorDetail> {
    use crate::domain::parse::PageRequest;
    use crate::service::events;
    super::errors::answered(async move {
        let (state, tenant) = super::session::server::tenant().await?;
        let id = crate::domain::parse::parse_uuid("id", &id)?;
        let filter = crate::storage::EventFilter { action: None, phone_number_id: Some(id) };
        let page = PageRequest::parse(Some(&PAGE_SIZE.to_string()), offset.as_deref().filter(|o| !o.is_empty()))?;
        let events = events::list(&state.ctx, &tenant, events::EventsRequest { filter, page }).await?;
        let mut entries = Vec::new();
        for event in events.data {
            let changed = event.data.previous_attributes.iter().flat_map(|p| p.keys()).filter(|k| *k != "updated_at");
            entries.push(HistoryEntry {
                event_type: event.event_type,
                created_at: event.created_at,
                who: who(&state.ctx, &event.actor).await,
                changed: changed.cloned().collect(),
            });
        }
        Ok(Page { data: entries, total: events.total, limit: events.limit, offset: events.offset })
    })
    .await
}

/// The actor as people know it; its written form if it is gone.
#[cfg(feature = "ssr")]
async fn who(ctx: &crate::service::Context, actor: &crate::domain::Actor) -> String {
    use crate::domain::Actor;
    let named = match actor {
        Actor::User(id) => crate::service::organizations::email_of(ctx, *id).await.ok(),
        Actor::ApiKey(id) => {
            ctx.store.api_key_by_id(*id).await.ok().flatten().map(|k| format!("API key \u{201c}{}\u{201d}", k.name))
        }
        Actor::Operator => Some("the operator (CLI)".to_string()),
    };
    named.unwrap_or_else(|| actor.to_string())
}

fn what_happened(entry: &HistoryEntry) -> String {
    match entry.event_type {
        EventType::PhoneNumberPurchased => "Bought".to_string(),
        EventType::PhoneNumberUpdated if entry.changed.is_empty() => "Saved without changes".to_string(),
        EventType::PhoneNumberUpdated => format!("Changed {}", entry.changed.join(", ").replace('_', " ")),
        EventType::PhoneNumberReleased => "Released".to_string(),
        EventType::PhoneNumberDeleted => "Deleted".to_string(),
        // A number's history holds its own entries only; an order's is the order's.
        EventType::NumberOrderCompleted => "Bought in an order".to_string(),
    }
}

/// The history section (the page loads afresh after each change, and with it the history).
#[component]
pub fn NumberHistory(id: String, offset: Option<String>) -> impl IntoView {
    let page_of = {
        let id = id.clone();
        move |offset: i64| format!("/numbers/{id}?{OFFSET}={offset}#history-title")
    };
    let history = Resource::new(move || (id.clone(), offset.clone()), |(id, offset)| number_history(id, offset));
    view! {
        <section class="card" aria-labelledby="history-title">
            <h2 id="history-title">"History"</h2>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || history.get().map(|result| match result {
                    Err(e) => view! { <super::widgets::ErrorNotice error=e/> }.into_any(),
                    Ok(page) => {
                        let (offset, limit, total) = (page.offset, page.limit, page.total);
                        let link = page_of.clone();
                        view! {
                            <ol class="history">
                                {page.data.into_iter().map(|entry| view! {
                                    <li>
                                        <strong>{what_happened(&entry)}</strong>
                                        <span class="muted small">{format!(" · {} · by {}", short_time(&entry.created_at), entry.who)}</span>
                                    </li>
                                }).collect_view()}
                            </ol>
                            {(total > limit).then(|| view! { <super::widgets::Pager offset limit total link label="History pages"/> })}
                        }.into_any()
                    }
                })}
            </Suspense>
        </section>
    }
}
