//! Buying several numbers at once from the buy page: pick them in the results, see the summed
//! price, confirm, and they are bought in one order (all of them or none).

use super::widgets::Dialog;
use crate::domain::{format_money, ErrorDetail};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use wasm_bindgen::JsCast;

/// The REST API's bulk order, through the same service, with the total the buyer saw and the
/// page's Idempotency-Key (a double click orders once). Bought, the numbers page opens.
#[server]
pub async fn order_numbers(
    /// Inventory ids, comma-separated.
    inventory_ids: String,
    total_cost_cents: i64,
    endpoint_id: Option<String>,
    idempotency_key: String,
) -> Result<(), ErrorDetail> {
    use crate::domain::CreateOrderBody;
    use crate::service::idempotency::Claim;
    use crate::service::orders::{place_once, OrderRequest};
    let outcome = async {
        let (state, tenant) = super::session::server::tenant().await?;
        let body = CreateOrderBody {
            inventory_ids: Some(inventory_ids.split(',').filter(|id| !id.is_empty()).map(str::to_owned).collect()),
            endpoint_id: endpoint_id.filter(|e| !e.is_empty()),
            total_cost_cents: Some(total_cost_cents),
            ..Default::default()
        };
        let request = OrderRequest::parse(&body)?;
        let claim = Claim::new(&idempotency_key, &("number_order", &body))?;
        let order = place_once(&state.ctx, &tenant, &request, Some(&claim)).await?.into_result()?;
        Ok(super::flash::Flash::success(format!("You bought {} numbers", order.numbers.len())).then_open("/".into()))
    };
    super::flash::server::answer(outcome.await.map_err(order_problem), &[]).await
}

/// What a refused order tells the buyer: nothing was bought either way.
#[cfg(feature = "ssr")]
fn order_problem(e: crate::error::AppError) -> crate::error::AppError {
    use crate::error::AppError;
    match e {
        AppError::NumberUnavailable(why) => {
            AppError::NumberUnavailable(format!("Nothing was bought: {why} Please pick others."))
        }
        AppError::PriceChanged(why) => AppError::PriceChanged(format!("Nothing was bought: {why} Please pick others.")),
        other => other,
    }
}

/// A number picked in the results: what its pick box's data attributes say.
#[derive(Clone, Debug, PartialEq)]
struct Pick {
    id: String,
    label: String,
    /// Setup plus the first month, in cents.
    due_today: i64,
    currency: String,
}

impl Pick {
    fn of(input: &web_sys::Element) -> Option<Self> {
        let data = |name: &str| input.get_attribute(&format!("data-{name}"));
        Some(Self {
            id: data("id")?,
            label: data("label")?,
            due_today: data("due")?.parse().ok()?,
            currency: data("currency")?,
        })
    }
}

/// Setup plus the first month of every picked number, if they share a currency.
fn due_today(picked: &[Pick]) -> Option<(i64, String)> {
    let currency = picked.first()?.currency.clone();
    if picked.iter().any(|p| p.currency != currency) {
        return None;
    }
    Some((picked.iter().map(|p| p.due_today).sum(), currency))
}

/// The page's ticked pick boxes (`input.pick`, in the server-rendered results).
fn pick_boxes(only_ticked: bool) -> Vec<web_sys::HtmlInputElement> {
    let selector = if only_ticked { "input.pick:checked" } else { "input.pick" };
    let Ok(list) = document().query_selector_all(selector) else { return Vec::new() };
    (0..list.length()).filter_map(|i| list.item(i)).filter_map(|n| n.dyn_into().ok()).collect()
}

/// Under the results while numbers are picked: how many, what they cost, and the order button,
/// with its confirmation. An island: it follows the results' pick boxes (in the order they were
/// ticked), which the server rendered outside it.
#[island(lazy)]
pub fn OrderBar(
    /// The order form's own fields (the endpoint to attach, the page's Idempotency-Key), rendered
    /// by the server.
    children: Children,
) -> impl IntoView {
    let picked = RwSignal::new(Vec::<Pick>::new());
    let open = RwSignal::new(false);
    // Boxes the browser kept ticked (back to the page), then every change of one.
    Effect::new(move |_| {
        picked.set(pick_boxes(true).iter().filter_map(|b| Pick::of(b)).collect());
    });
    let on_change = window_event_listener(leptos::ev::change, move |ev| {
        let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else { return };
        let Some(pick) = input.class_list().contains("pick").then(|| Pick::of(&input)).flatten() else { return };
        picked.update(|p| {
            p.retain(|q| q.id != pick.id);
            if input.checked() {
                p.push(pick);
            }
        });
    });
    on_cleanup(move || on_change.remove());
    let clear = move |_| {
        for input in pick_boxes(false) {
            input.set_checked(false);
        }
        picked.set(Vec::new());
    };
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
                        <button type="button" class="secondary" on:click=clear>"Clear"</button>
                        <button type="button" disabled=price.is_none() on:click=move |_| open.set(true)>
                            {format!("Buy {count} numbers")}
                        </button>
                    </div>
                }
            })
        }}
        <ConfirmOrder picked open fields=children/>
    }
}

/// The confirmation of an order: the numbers, the summed price, an endpoint, and Buy (a plain
/// form: the numbers page opens once they are bought; a refusal comes back here with the reason).
#[component]
fn ConfirmOrder(
    picked: RwSignal<Vec<Pick>>,
    open: RwSignal<bool>,
    /// The form's fields the server rendered.
    fields: Children,
) -> impl IntoView {
    let ids = move || picked.with(|p| p.iter().map(|n| n.id.clone()).collect::<Vec<_>>().join(","));
    let total = move || picked.with(|p| due_today(p));
    view! {
        <Dialog open labelled_by="order-title">
            <h2 id="order-title">{move || format!("Buy {} numbers?", picked.with(Vec::len))}</h2>
            <ul class="order-lines">
                {move || picked.get().into_iter().map(|n| view! {
                    <li><span>{n.label}</span><span>{format_money(n.due_today, &n.currency)}</span></li>
                }).collect_view()}
            </ul>
            <p class="muted small">"Each: setup plus the first month. All are bought together, or none."</p>
            <form method="post" action=OrderNumbers::PATH>
                <input type="hidden" name="inventory_ids" prop:value=ids/>
                <input type="hidden" name="total_cost_cents" prop:value=move || total().map(|(t, _)| t.to_string()).unwrap_or_default()/>
                {fields()}
                <div class="actions">
                    <button type="button" class="secondary" on:click=move |_| open.set(false)>"Cancel"</button>
                    <button type="submit" disabled=move || total().is_none()>
                        {move || match total() {
                            Some((total, currency)) => format!("Buy all for {}", format_money(total, &currency)),
                            None => "Buy".to_string(),
                        }}
                    </button>
                </div>
            </form>
        </Dialog>
    }
}
