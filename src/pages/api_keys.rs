//! API keys: create (shown once), list, revoke.

use super::widgets::{toast_outcome, ConfirmDialog, CopyButton, ErrorNotice};
use crate::domain::ErrorDetail;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A key as the dashboard lists it (never its secret).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyRow {
    pub id: String,
    pub name: String,
    pub mode: crate::domain::Mode,
    pub prefix: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

#[server]
pub async fn list_api_keys() -> Result<Vec<KeyRow>, ErrorDetail> {
    let (state, tenant) = super::session::server::tenant().await?;
    let keys = crate::service::api_keys::list(&state.ctx, tenant.organization_id).await?;
    Ok(keys
        .into_iter()
        .map(|k| KeyRow {
            id: k.id.to_string(),
            name: k.name,
            mode: k.mode,
            prefix: k.prefix,
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
        })
        .collect())
}

/// Returns the new key's full text: the only time it exists.
#[server]
pub async fn create_api_key(name: String, mode: String) -> Result<String, ErrorDetail> {
    let (state, tenant) = super::session::server::tenant().await?;
    let mode = crate::domain::parse::parse_enum::<crate::domain::Mode>("mode", &mode)?;
    Ok(crate::service::api_keys::create(&state.ctx, tenant.organization_id, mode, &name).await?.key)
}

#[server]
pub async fn revoke_api_key(id: String) -> Result<(), ErrorDetail> {
    let (state, tenant) = super::session::server::tenant().await?;
    crate::service::api_keys::revoke(&state.ctx, &id, Some(tenant.organization_id)).await?;
    Ok(())
}

/// The keys page, an island as a whole: creating and revoking update its list in place.
#[island(lazy)]
pub fn ApiKeysPage() -> impl IntoView {
    let create = ServerAction::<CreateApiKey>::new();
    let revoke = ServerAction::<RevokeApiKey>::new();
    let keys = Resource::new(move || (create.version().get(), revoke.version().get()), |_| list_api_keys());
    // The key a Revoke button picked, awaiting confirmation.
    let to_revoke = RwSignal::new(None::<KeyRow>);
    let confirm_open = RwSignal::new(false);
    let ask_to_revoke = Callback::new(move |key: KeyRow| {
        to_revoke.set(Some(key));
        confirm_open.set(true);
    });
    toast_outcome(revoke, |_| Some("Key revoked".into()));
    // A new key is shown in full on the page rather than in a toast.
    toast_outcome(create, |_| None);

    view! {
        <h1>"API keys"</h1>
        <NewKeyForm create/>
        <Transition fallback=|| view! { <p class="muted">"Loading keys…"</p> }>
            {move || keys.get().map(|result| match result {
                Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                Ok(list) if list.is_empty() => view! { <p class="empty">"No API keys yet."</p> }.into_any(),
                Ok(list) => view! { <KeyTable keys=list ask_to_revoke/> }.into_any(),
            })}
        </Transition>
        <ConfirmDialog open=confirm_open heading_id="revoke-title"
            title=move || to_revoke.get().map(|k| format!("Revoke {}?", k.name)).unwrap_or_default()
            message="Requests with this key will be refused from now on. This cannot be undone."
            confirm_label="Revoke key"
            on_confirm=Callback::new(move |_| {
                if let Some(k) = to_revoke.get_untracked() {
                    revoke.dispatch(RevokeApiKey { id: k.id });
                }
            })/>
    }
}

/// Name and mode of a new key; the key itself is shown once, under the form.
#[component]
fn NewKeyForm(create: ServerAction<CreateApiKey>) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="new-key-title">
            <h2 id="new-key-title">"Create a key"</h2>
            <ActionForm action=create attr:class="inline-form">
                <label>"Name" <input name="name" required=true maxlength="100" placeholder="e.g. Production server"/></label>
                <label>"Mode"
                    <select name="mode">
                        <option value="test">"Test"</option>
                        <option value="live">"Live"</option>
                    </select>
                </label>
                <button type="submit" disabled=move || create.pending().get()>"Create key"</button>
            </ActionForm>
            {move || create.value().get().and_then(|r| r.ok()).map(|key| view! {
                <div class="notice notice-key" role="alert">
                    <p><strong>"Copy this key now: you will not see it again."</strong></p>
                    <p><code data-testid="new-api-key">{key.clone()}</code> " " <CopyButton text=key label="Copy the new API key"/></p>
                </div>
            })}
        </section>
    }
}

#[component]
fn KeyTable(keys: Vec<KeyRow>, ask_to_revoke: Callback<KeyRow>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table>
                <caption class="visually-hidden">"API keys"</caption>
                <thead><tr>
                    <th scope="col">"Name"</th><th scope="col">"Mode"</th><th scope="col">"Key"</th>
                    <th scope="col">"Created"</th><th scope="col">"Last used"</th><th scope="col">"Status"</th>
                </tr></thead>
                <tbody>
                    {keys.into_iter().map(|key| view! { <KeyTableRow key ask_to_revoke/> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn KeyTableRow(key: KeyRow, ask_to_revoke: Callback<KeyRow>) -> impl IntoView {
    let label = format!("Revoke {}", key.name);
    let status = match key.revoked_at {
        Some(_) => view! { <span class="badge badge-muted">"Revoked"</span> }.into_any(),
        None => {
            let row = key.clone();
            view! {
                <button type="button" class="danger outline small" aria-label=label
                    on:click=move |_| ask_to_revoke.run(row.clone())>"Revoke"</button>
            }
            .into_any()
        }
    };
    view! {
        <tr>
            <td>{key.name.clone()}</td>
            <td><span class="badge" class:badge-warn=key.mode == crate::domain::Mode::Test>{key.mode.to_string()}</span></td>
            <td><code>{format!("{}…", key.prefix)}</code></td>
            <td>{short_time(&key.created_at)}</td>
            <td>{key.last_used_at.as_deref().map(short_time).unwrap_or_else(|| "Never".into())}</td>
            <td>{status}</td>
        </tr>
    }
}

/// `2026-11-27T02:38:37.949927Z` -> `2026-11-27 02:38 UTC`
pub fn short_time(t: &str) -> String {
    match (t.get(0..10), t.get(11..16)) {
        (Some(d), Some(h)) => format!("{d} {h} UTC"),
        _ => t.to_string(),
    }
}
