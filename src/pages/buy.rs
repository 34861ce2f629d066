//! Buying a number: search the inventory, see the price, confirm, buy (or pick several and order
//! them together: `order`).

use super::countries::{Country, CountrySelect};
use super::order::{OrderBar, PickBox, Picked};
use super::widgets::{go_to, reload_page, type_label, use_toasts, Dialog, ErrorNotice, TypeSelect};
use crate::domain::{format_money, Endpoint, ErrorDetail, Formatted, InventoryNumber, Page, PhoneNumber};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

/// The first 20 numbers for sale that match the search (a page of the API; each row is hydrated
/// in the browser, and 50 made the page slow to become interactive on a phone).
#[cfg(feature = "ssr")]
async fn search(
    state: &crate::state::AppState,
    tenant: &crate::service::Tenant,
    country: String,
    number_type: Option<String>,
    contains: Option<String>,
) -> Result<Page<Formatted<InventoryNumber>>, ErrorDetail> {
    use crate::domain::parse::PageRequest;
    use crate::service::inventory;
    use crate::service::phone_numbers::AvailableQuery;
    let given = |text: &Option<String>| text.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned);
    let (number_type, contains) = (given(&number_type), given(&contains));
    let page = PageRequest { limit: 20, offset: 0 };
    let query = AvailableQuery::parse(Some(&country), number_type.as_deref(), contains.as_deref(), page)?;
    let found = inventory::search_available(&state.ctx, tenant, &query).await?;
    Ok(found.map(|n| {
        let e164 = n.e164.clone();
        super::numbers::formatted(n, &e164)
    }))
}

/// The buy page's data: the countries with numbers for sale (in the current mode), the search's
/// results once a country is chosen, and the endpoints a bought number can be attached to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BuyView {
    pub countries: Vec<Country>,
    pub results: Option<Page<Formatted<InventoryNumber>>>,
    pub endpoints: Vec<Endpoint>,
}

#[server]
pub async fn load_buy_page(
    country: Option<String>,
    number_type: Option<String>,
    contains: Option<String>,
) -> Result<BuyView, ErrorDetail> {
    let (state, tenant) = super::session::server::tenant().await?;
    let for_sale = crate::service::inventory::countries(&state.ctx, tenant.mode).await?;
    let results = match country {
        Some(country) => Some(search(&state, &tenant, country, number_type, contains).await?),
        None => None,
    };
    Ok(BuyView {
        countries: super::countries::by_name(for_sale.iter().map(String::as_str)),
        results,
        endpoints: super::endpoints::all_endpoints(&state, &tenant).await?,
    })
}

/// The dashboard flow of the contract: e164 + country + type + the costs the buyer saw, under an
/// Idempotency-Key made when the confirmation opened (so a double click buys once).
#[server]
#[allow(clippy::too_many_arguments)]
pub async fn buy_number(
    e164: String,
    country: String,
    number_type: String,
    setup_cost_cents: i64,
    monthly_cost_cents: i64,
    endpoint_id: Option<String>,
    idempotency_key: String,
) -> Result<PhoneNumber, ErrorDetail> {
    use crate::domain::PurchaseBody;
    use crate::service::idempotency::Claim;
    use crate::service::phone_numbers::{purchase_once, Purchase};
    let (state, tenant) = super::session::server::tenant().await?;
    let body = PurchaseBody {
        e164: Some(e164),
        country: Some(country),
        number_type: Some(number_type),
        endpoint_id: endpoint_id.filter(|e| !e.is_empty()),
        setup_cost_cents: Some(setup_cost_cents),
        monthly_cost_cents: Some(monthly_cost_cents),
        total_cost_cents: Some(setup_cost_cents.saturating_add(monthly_cost_cents)),
        ..Default::default()
    };
    let purchase = Purchase::parse(&body)?;
    let claim = Claim::new(&idempotency_key, &body)?;
    Ok(purchase_once(&state.ctx, &tenant, &purchase, Some(&claim)).await?.into_result()?)
}

/// A number held for the buyer while the confirmation is open.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hold {
    pub reservation_id: String,
    /// Whole seconds left when the server answered.
    pub seconds_left: u64,
}

/// Holds the number for the organization (a reservation) as its confirmation opens, so that
/// nobody else can buy it while the buyer decides.
#[server]
pub async fn hold_number(inventory_id: String) -> Result<Hold, ErrorDetail> {
    use crate::service::{phone_numbers::parse_uuid, reservations};
    let (state, tenant) = super::session::server::tenant().await?;
    let id = parse_uuid("inventory_id", &inventory_id)?;
    let reservation = reservations::create(&state.ctx, &tenant, &reservations::Selection::Ids(vec![id])).await?;
    let left = reservations::seconds_left(&reservation);
    Ok(Hold { reservation_id: reservation.id.to_string(), seconds_left: left })
}

/// Lets the number go when the confirmation closes without a purchase.
#[server]
pub async fn let_go(reservation_id: String) -> Result<(), ErrorDetail> {
    use crate::service::{phone_numbers::parse_uuid, reservations};
    let (state, tenant) = super::session::server::tenant().await?;
    let id = parse_uuid("reservation_id", &reservation_id)?;
    reservations::release(&state.ctx, &tenant, id).await?;
    Ok(())
}

/// The search form (a plain GET form: the search is the page's address) and its results, whose
/// Buy buttons, pick boxes and confirmations are one island.
#[component]
pub fn BuyPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.with(|q| q.get(name)).filter(|v| !v.is_empty());
    let page = Resource::new(
        move || (param("country"), param("type"), param("contains")),
        |(country, number_type, contains)| load_buy_page(country, number_type, contains),
    );
    view! {
        <h1>"Buy a number"</h1>
        <Suspense fallback=|| view! { <p class="muted">"Searching…"</p> }>
            {move || page.get().map(|result| match result {
                Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                Ok(BuyView { countries, results, endpoints }) => {
                    let selected = param("country").or_else(|| countries.first().map(|c| c.code.clone()));
                    view! {
                        <form method="get" class="filters" aria-label="Search numbers">
                            <label>"Country" <CountrySelect countries selected/></label>
                            <label>"Type" <TypeSelect selected=param("type")/></label>
                            <label>"Contains digits"
                                <input name="contains" inputmode="numeric" pattern="[0-9]*" size="8" value=param("contains").unwrap_or_default()/>
                            </label>
                            <button type="submit">"Search"</button>
                        </form>
                        {match results {
                            None => view! { <p class="muted">"Choose a country and search to see the numbers for sale and their prices."</p> }.into_any(),
                            Some(page) if page.data.is_empty() => view! { <p class="empty">"No numbers for sale match this search."</p> }.into_any(),
                            Some(page) => view! { <BuyResults page endpoints/> }.into_any(),
                        }}
                    }.into_any()
                }
            })}
        </Suspense>
    }
}

/// The results with their Buy buttons and pick boxes, the order bar, and both confirmations.
#[island(lazy)]
fn BuyResults(page: Page<Formatted<InventoryNumber>>, endpoints: Vec<Endpoint>) -> impl IntoView {
    let chosen = RwSignal::new(None::<Formatted<InventoryNumber>>);
    let picked: Picked = RwSignal::new(Vec::new());
    let endpoints = StoredValue::new(endpoints);
    view! {
        <ResultsTable page chosen picked/>
        <OrderBar picked endpoints/>
        <ConfirmPurchase chosen endpoints/>
    }
}

#[component]
fn ResultsTable(
    page: Page<Formatted<InventoryNumber>>,
    chosen: RwSignal<Option<Formatted<InventoryNumber>>>,
    picked: Picked,
) -> impl IntoView {
    view! {
        <p class="muted">{format!("{} numbers for sale", page.total)}</p>
        <div class="table-wrap">
            <table>
                <caption class="visually-hidden">"Numbers for sale"</caption>
                <thead><tr>
                    <th scope="col">"Number"</th><th scope="col">"Type"</th>
                    <th scope="col">"Setup"</th><th scope="col">"Monthly"</th><th scope="col"><span class="visually-hidden">"Action"</span></th>
                    <th scope="col">"Select"</th>
                </tr></thead>
                <tbody>
                    {page.data.into_iter().map(|row| {
                        let n = row.item.clone();
                        let label = format!("Buy {}", row.international);
                        view! {
                            <tr>
                                <td>{row.national.clone()}<div class="muted small">{n.e164.clone()}</div></td>
                                <td>{type_label(n.number_type)}</td>
                                <td>{format_money(n.setup_cost_cents, &n.currency)}</td>
                                <td>{format_money(n.monthly_cost_cents, &n.currency)} <span class="muted small">"/ month"</span></td>
                                <td><button type="button" aria-label=label on:click={
                                    let row = row.clone();
                                    move |_| chosen.set(Some(row.clone()))
                                }>"Buy"</button></td>
                                <td><PickBox row=row.clone() picked/></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// The confirmation dialog of a chosen number: its price, an endpoint to attach, and Buy.
#[component]
fn ConfirmPurchase(
    chosen: RwSignal<Option<Formatted<InventoryNumber>>>,
    endpoints: StoredValue<Vec<Endpoint>>,
) -> impl IntoView {
    let toasts = use_toasts();
    let buy = ServerAction::<BuyNumber>::new();
    let open = RwSignal::new(false);
    let problem = RwSignal::new(None::<String>);
    // One key per attempt: a double click or a retry of the same attempt buys once.
    let attempt_key = RwSignal::new(String::new());
    let hold = ServerAction::<HoldNumber>::new();

    Effect::new(move |_| {
        if let Some(row) = chosen.get() {
            attempt_key.set(uuid::Uuid::new_v4().to_string());
            problem.set(None);
            hold.dispatch(HoldNumber { inventory_id: row.item.id.to_string() });
            open.set(true);
        }
    });
    Effect::new(move |_| {
        if !open.get() {
            chosen.set(None);
            let held = hold.value().get_untracked().and_then(Result::ok);
            hold.value().set(None);
            let outcome = buy.value().get_untracked();
            if matches!(outcome, Some(Ok(_))) || (held.is_none() && outcome.is_none()) {
                return;
            }
            // Closed without buying: the held number goes back on sale for everyone; after a
            // refusal, the list behind is out of date, so the page loads it afresh.
            let refused = outcome.is_some();
            leptos::task::spawn_local(async move {
                if let Some(held) = held {
                    let _ = let_go(held.reservation_id).await;
                }
                if refused {
                    reload_page();
                }
            });
        }
    });
    Effect::new(move |_| {
        if let Some(Err(e)) = hold.value().get() {
            problem.set(Some(purchase_problem(&e)));
        }
    });
    Effect::new(move |_| match buy.value().get() {
        Some(Ok(number)) => {
            toasts.success_on_next_page(format!("You bought {}", number.e164));
            go_to(&format!("/numbers/{}", number.id));
        }
        Some(Err(e)) => {
            let text = purchase_problem(&e);
            toasts.error(text.clone());
            problem.set(Some(text));
        }
        None => {}
    });

    view! {
        <Dialog open labelled_by="confirm-title">
            {move || chosen.get().map(|row| view! { <PurchaseForm row buy hold attempt_key problem open endpoints/> })}
        </Dialog>
    }
}

/// What a refused purchase tells the buyer (the list behind the dialog is refreshed anyway).
fn purchase_problem(e: &ErrorDetail) -> String {
    match e.code.as_str() {
        "number_unavailable" => "Sorry, this number was just sold to someone else, or someone else is holding it. \
            The list has been refreshed: please pick another."
            .into(),
        "price_changed" => format!("The price of this number has changed, so nothing was bought. {}", e.message),
        _ => e.message.clone(),
    }
}

#[component]
fn PurchaseForm(
    row: Formatted<InventoryNumber>,
    buy: ServerAction<BuyNumber>,
    hold: ServerAction<HoldNumber>,
    attempt_key: RwSignal<String>,
    problem: RwSignal<Option<String>>,
    open: RwSignal<bool>,
    endpoints: StoredValue<Vec<Endpoint>>,
) -> impl IntoView {
    let endpoint = RwSignal::new(String::new());
    let n = row.item;
    let total = n.setup_cost_cents.saturating_add(n.monthly_cost_cents);
    let due_today = format_money(total, &n.currency);
    let confirm = {
        let n = n.clone();
        // The price the buyer sees is the price sent: the server refuses it if it has moved.
        move |_| {
            buy.dispatch(BuyNumber {
                e164: n.e164.clone(),
                country: n.country.clone(),
                number_type: n.number_type.as_str().to_string(),
                setup_cost_cents: n.setup_cost_cents,
                monthly_cost_cents: n.monthly_cost_cents,
                endpoint_id: Some(endpoint.get_untracked()),
                idempotency_key: attempt_key.get_untracked(),
            });
        }
    };
    view! {
        <h2 id="confirm-title">{format!("Buy {}?", row.international)}</h2>
        <dl class="price">
            <dt>"Setup (once)"</dt><dd>{format_money(n.setup_cost_cents, &n.currency)}</dd>
            <dt>"Monthly"</dt><dd>{format_money(n.monthly_cost_cents, &n.currency)}</dd>
            <dt>"Due today"</dt><dd><strong>{due_today.clone()}</strong></dd>
        </dl>
        <EndpointChoice endpoint endpoints/>
        <HoldCountdown hold/>
        {move || problem.get().map(|p| view! { <p class="notice notice-error" role="alert">{p}</p> })}
        <div class="actions">
            <button type="button" class="secondary" on:click=move |_| open.set(false)>"Cancel"</button>
            <button type="button" disabled=move || buy.pending().get() || problem.get().is_some() on:click=confirm>
                {move || if buy.pending().get() { "Buying…".to_string() } else { format!("Buy for {due_today}") }}
            </button>
        </div>
    }
}

/// How long the number stays held for the buyer, counted down every second.
#[component]
fn HoldCountdown(hold: ServerAction<HoldNumber>) -> impl IntoView {
    let left = RwSignal::new(None::<u64>);
    Effect::new(move |_| {
        if let Some(Ok(held)) = hold.value().get() {
            left.set(Some(held.seconds_left));
        }
    });
    // Effects and intervals run in the browser only; the server renders "Holding…".
    Effect::new(move |_| {
        if let Ok(tick) = set_interval_with_handle(
            move || left.update(|l| *l = l.map(|s| s.saturating_sub(1))),
            std::time::Duration::from_secs(1),
        ) {
            on_cleanup(move || tick.clear());
        }
    });
    move || match (hold.pending().get(), left.get()) {
        (true, _) => view! { <p class="hold muted" role="status">"Holding this number for you…"</p> }.into_any(),
        (false, Some(0)) => view! {
            <p class="hold notice" role="status">"Your hold has ended: someone else may buy this number now."</p>
        }
        .into_any(),
        (false, Some(s)) => view! {
            // No live region: a screen reader would read out every second.
            <p class="hold" data-testid="hold-countdown">
                "Held for you for " <strong>{format!("{}:{:02}", s / 60, s % 60)}</strong>
                <span class="muted">" (nobody else can buy it meanwhile)"</span>
            </p>
        }
        .into_any(),
        (false, None) => ().into_any(),
    }
}

/// The endpoint to attach the number to, or none for now.
#[component]
pub(super) fn EndpointChoice(endpoint: RwSignal<String>, endpoints: StoredValue<Vec<Endpoint>>) -> impl IntoView {
    view! {
        <label>"Attach to endpoint"
            <select on:change=move |ev| endpoint.set(event_target_value(&ev))>
                <option value="">"None for now"</option>
                {endpoints.get_value().into_iter().map(|e| view! { <option value=e.id.to_string()>{e.name}</option> }).collect_view()}
            </select>
        </label>
    }
}
