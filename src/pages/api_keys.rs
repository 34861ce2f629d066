//! API keys: create (shown once), list, revoke.

use super::flash::{page_flash, typed_or};
use super::widgets::{ConfirmThenPost, CopyButton, ErrorNotice, PostAfterConfirm};
use crate::domain::ErrorDetail;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
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
    super::errors::answered(async move {
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
    })
    .await
}

/// The new key's full text is shown once, on the page the form leads back to.
#[server]
pub async fn create_api_key(name: String, mode: String) -> Result<(), ErrorDetail> {
    let outcome = async {
        let (state, tenant) = super::session::server::tenant().await?;
        let mode = crate::domain::parse::parse_enum::<crate::domain::Mode>("mode", &mode)?;
        let created = crate::service::api_keys::create(&state.ctx, tenant.organization_id, mode, &name).await?;
        Ok(super::flash::Flash::default().with_secret("The new API key", created.key))
    };
    super::flash::server::answer(outcome.await, &[("name", &name), ("mode", &mode)]).await
}

#[server]
pub async fn revoke_api_key(id: String) -> Result<(), ErrorDetail> {
    let outcome = async {
        let (state, tenant) = super::session::server::tenant().await?;
        crate::service::api_keys::revoke(&state.ctx, &id, Some(tenant.organization_id)).await?;
        Ok(super::flash::Flash::success("Key revoked"))
    };
    super::flash::server::answer(outcome.await, &[]).await
}

/// The keys page: a plain form creates a key (shown once, when the page comes back), and each
/// key's Revoke button asks first.
#[component]
pub fn ApiKeysPage() -> impl IntoView {
    let keys = Resource::new(|| (), |_| list_api_keys());
    view! {
        <h1>"API keys"</h1>
        <NewKeyForm/>
        <Suspense fallback=|| view! { <p class="muted">"Loading keys…"</p> }>
            {move || keys.get().map(|result| match result {
                Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                Ok(list) if list.is_empty() => view! { <p class="empty">"No API keys yet."</p> }.into_any(),
                Ok(list) => view! { <KeyTable keys=list/> }.into_any(),
            })}
        </Suspense>
    }
}

/// Name and mode of a new key; the key itself is shown once, under the form.
#[component]
fn NewKeyForm() -> impl IntoView {
    let flash = page_flash();
    let mode = typed_or(&flash, "mode", "test".into());
    view! {
        <section class="card" aria-labelledby="new-key-title">
            <h2 id="new-key-title">"Create a key"</h2>
            <form method="post" action=CreateApiKey::PATH class="inline-form">
                <label>"Name" <input name="name" required=true maxlength="100" placeholder="e.g. Production server"
                    value=typed_or(&flash, "name", String::new())/></label>
                <label>"Mode"
                    <select name="mode">
                        <option value="test" selected=mode == "test">"Test"</option>
                        <option value="live" selected=mode == "live">"Live"</option>
                    </select>
                </label>
                <button type="submit">"Create key"</button>
            </form>
            {flash.and_then(|f| f.secret).map(|secret| secret.value).map(|key| view! {
                <div class="notice notice-key" role="alert">
                    <p><strong>"Copy this key now: you will not see it again."</strong></p>
                    <p><code data-testid="new-api-key">{key.clone()}</code> " " <CopyButton text=key label="Copy the new API key"/></p>
                </div>
            })}
        </section>
    }
}

#[component]
fn KeyTable(keys: Vec<KeyRow>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table>
                <caption class="visually-hidden">"API keys"</caption>
                <thead><tr>
                    <th scope="col">"Name"</th><th scope="col">"Mode"</th><th scope="col">"Key"</th>
                    <th scope="col">"Created"</th><th scope="col">"Last used"</th><th scope="col">"Status"</th>
                </tr></thead>
                <tbody>
                    {keys.into_iter().map(|key| view! { <KeyTableRow key/> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn KeyTableRow(key: KeyRow) -> impl IntoView {
    let status = match key.revoked_at {
        Some(_) => view! { <span class="badge badge-muted">"Revoked"</span> }.into_any(),
        None => {
            let post = PostAfterConfirm {
                action: RevokeApiKey::PATH.into(),
                fields: vec![("id".into(), key.id.clone())],
                heading_id: format!("revoke-title-{}", key.id),
                title: format!("Revoke {}?", key.name),
                message: "Requests with this key will be refused from now on. This cannot be undone.".into(),
                confirm_label: "Revoke key".into(),
            };
            view! {
                <ConfirmThenPost label="Revoke" class="danger outline small"
                    aria_label=Some(format!("Revoke {}", key.name)) disabled=false described_by=None post/>
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
