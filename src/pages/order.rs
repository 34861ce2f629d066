//! Buying several numbers at once from the buy page: pick them in the results, see the summed
//! price, confirm, and they are bought in one order (all of them or none).

use super::widgets::{go_to, use_toasts, Dialog};
use crate::domain::{format_money, ErrorDetail, Formatted, InventoryNumber, NumberOrder};
use leptos::prelude::*;

/// The numbers picked on the buy page, in the order they were picked.
pub type Picked = RwSignal<Vec<Formatted<InventoryNumber>>>;

/// The REST API's bulk order, through the same service, with the total the buyer saw and an
/// Idempotency-Key made when the confirmation opened (a double click orders once).
#[server]
pub async fn order_numbers(
    /// Inventory ids, comma-separated.
    inventory_ids: String,
    total_cost_cents: i64,
    endpoint_id: Option<String>,
    idempotency_key: String,
) -> Result<NumberOrder, ErrorDetail> {
    use crate::domain::CreateOrderBody;
    use crate::service::idempotency::Claim;
    use crate::service::orders::{place_once, OrderRequest};
    let (state, tenant) = super::session::server::tenant().await?;
    let body = CreateOrderBody {
        inventory_ids: Some(inventory_ids.split(',').filter(|id| !id.is_empty()).map(str::to_owned).collect()),
        endpoint_id: endpoint_id.filter(|e| !e.is_empty()),
        total_cost_cents: Some(total_cost_cents),
        ..Default::default()
    };
    let request = OrderRequest::parse(&body)?;
    let claim = Claim::new(&idempotency_key, &("number_order", &body))?;
    Ok(place_once(&state.ctx, &tenant, &request, Some(&claim)).await?.into_result()?)
}

/// Setup plus the first month of every picked number, if they share a currency.
fn due_today(picked: &[Formatted<InventoryNumber>]) -> Option<(i64, String)> {
    let currency = picked.first()?.item.currency.clone();
    if picked.iter().any(|p| p.item.currency != currency) {
        return None;
    }
    let total = picked.iter().map(|p| p.item.setup_cost_cents.saturating_add(p.item.monthly_cost_cents)).sum();
    Some((total, currency))
}

/// The checkbox that picks a number of the results for the order.
#[component]
pub fn PickBox(row: Formatted<InventoryNumber>, picked: Picked) -> impl IntoView {
    let id = row.item.id;
    let label = format!("Select {}", row.international);
    let checked = move || picked.with(|p| p.iter().any(|n| n.item.id == id));
    let toggle = move |_| {
        picked.update(|p| {
            if let Some(at) = p.iter().position(|n| n.item.id == id) {
                p.remove(at);
            } else {
                p.push(row.clone());
            }
        })
    };
    view! { <input type="checkbox" aria-label=label prop:checked=checked on:change=toggle/> }
}

/// Under the results while numbers are picked: how many, what they cost, and the order button.
#[component]
pub fn OrderBar(picked: Picked, endpoints: StoredValue<Vec<crate::domain::Endpoint>>) -> impl IntoView {
    let open = RwSignal::new(false);
    view! {
        {move || {
            let count = picked.with(Vec::len);
            (count > 0).then(|| {
                let price = picked.with(|p| due_today(p));
                view! {
                    <div class="order-bar" role="region" aria-label="Selected numbers">
                        <span>{format!("{count} selected")}</span>
                        {match &price {
                            Some((total, currency)) => view! {
                                <span>"Due today: " <strong data-testid="order-total">{format_money(*total, currency)}</strong></span>
                            }.into_any(),
                            None => view! { <span class="muted">"Numbers in different currencies are bought separately."</span> }.into_any(),
                        }}
                        <button type="button" class="secondary" on:click=move |_| picked.set(Vec::new())>"Clear"</button>
                        <button type="button" disabled=price.is_none() on:click=move |_| open.set(true)>
                            {format!("Buy {count} numbers")}
                        </button>
                    </div>
                }
            })
        }}
        <ConfirmOrder picked open endpoints/>
    }
}

/// The confirmation of an order: the numbers, the summed price, an endpoint, and Buy.
#[component]
fn ConfirmOrder(
    picked: Picked,
    open: RwSignal<bool>,
    endpoints: StoredValue<Vec<crate::domain::Endpoint>>,
) -> impl IntoView {
    let toasts = use_toasts();
    let order = ServerAction::<OrderNumbers>::new();
    let attempt_key = RwSignal::new(String::new());
    let endpoint = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if open.get() {
            attempt_key.set(uuid::Uuid::new_v4().to_string());
            problem.set(None);
        }
    });
    Effect::new(move |_| match order.value().get() {
        Some(Ok(done)) => {
            toasts.success_on_next_page(format!("You bought {} numbers", done.numbers.len()));
            go_to("/");
        }
        Some(Err(e)) => problem.set(Some(order_problem(&e))),
        None => {}
    });
    let confirm = move |_| {
        let chosen = picked.get_untracked();
        let Some((total, _)) = due_today(&chosen) else { return };
        let ids: Vec<String> = chosen.iter().map(|n| n.item.id.to_string()).collect();
        order.dispatch(OrderNumbers {
            inventory_ids: ids.join(","),
            total_cost_cents: total,
            endpoint_id: Some(endpoint.get_untracked()),
            idempotency_key: attempt_key.get_untracked(),
        });
    };
    view! {
        <Dialog open labelled_by="order-title">
            <h2 id="order-title">{move || format!("Buy {} numbers?", picked.with(Vec::len))}</h2>
            <ul class="order-lines">
                {move || picked.get().into_iter().map(|n| view! {
                    <li>
                        <span>{n.international.clone()}</span>
                        <span>{format_money(n.item.setup_cost_cents.saturating_add(n.item.monthly_cost_cents), &n.item.currency)}</span>
                    </li>
                }).collect_view()}
            </ul>
            <p class="muted small">"Each: setup plus the first month. All are bought together, or none."</p>
            <super::buy::EndpointChoice endpoint endpoints/>
            {move || problem.get().map(|p| view! { <p class="notice notice-error" role="alert">{p}</p> })}
            <div class="actions">
                <button type="button" class="secondary" on:click=move |_| open.set(false)>"Cancel"</button>
                <button type="button" disabled=move || order.pending().get() || problem.get().is_some() on:click=confirm>
                    {move || match (order.pending().get(), picked.with(|p| due_today(p))) {
                        (true, _) => "Buying…".to_string(),
                        (false, Some((total, currency))) => format!("Buy all for {}", format_money(total, &currency)),
                        (false, None) => "Buy".to_string(),
                    }}
                </button>
            </div>
        </Dialog>
    }
}

/// What a refused order tells the buyer: nothing was bought either way.
fn order_problem(e: &ErrorDetail) -> String {
    match e.code.as_str() {
        "number_unavailable" | "price_changed" => {
            format!("Nothing was bought: {} Search again to pick others.", e.message)
        }
        _ => e.message.clone(),
    }
}
