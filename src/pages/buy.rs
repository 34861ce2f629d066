//! Buying a number: search the inventory, see the price, confirm, buy (or pick several and order
//! them together: `order`).
//!
//! Like every change in the dashboard, buying is plain HTML forms (`flash`): a number's Buy
//! button holds it for the buyer (a reservation) and the page comes back with its confirmation
//! open (`?hold=`: the price, an endpoint to attach, the time left); confirming buys it (the
//! number's page opens), Cancel or Escape lets it go. A refusal (sold meanwhile, price changed)
//! brings the confirmation back with the reason, over the list as it now is. The browser's part
//! is two islands: the confirmation (countdown, focus, Escape) and the order bar.

use super::countries::{Country, CountrySelect};
use super::flash::page_flash;
use super::order::OrderBar;
use super::widgets::{type_label, Dialog, ErrorNotice, TypeSelect};
use crate::domain::{format_money, Endpoint, ErrorDetail, Formatted, InventoryNumber, Page};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsCast;

/// The first 20 numbers for sale that match the search (a page of the API; each row is hydrated
/// in the browser, and 50 made the page slow to become interactive on a phone).
#[cfg(feature = "ssr")]
async fn search(
    state: &crate::state::AppState,
    tenant: &crate::service::Tenant,
    country: String,
    number_type: Option<String>,
    contains: Option<String>,
) -> Result<Page<Formatted<InventoryNumber>>, crate::error::AppError> {
    use crate::domain::parse::PageRequest;
    use crate::service::inventory;
    use crate::service::inventory::AvailableQuery;
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
/// results once a country is chosen, the endpoints a bought number can be attached to, the
/// number held for a confirmation (`?hold=`), and the search's own address (where a form leads
/// back to).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BuyView {
    pub countries: Vec<Country>,
    pub results: Option<Page<Formatted<InventoryNumber>>>,
    /// What the endpoint picker offers (the newest; the total says if there are more).
    pub endpoints: Page<Endpoint>,
    pub held: Option<Held>,
    pub search_path: String,
    /// A fresh Idempotency-Key for what this page buys (a double click buys once; the page after
    /// a refusal has a new one).
    pub attempt_key: String,
}

/// A number held for the buyer while its confirmation is open.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Held {
    pub reservation_id: String,
    pub number: Formatted<InventoryNumber>,
    /// Whole seconds left when the page was rendered.
    pub seconds_left: u64,
}

#[server]
pub async fn load_buy_page(
    country: Option<String>,
    number_type: Option<String>,
    contains: Option<String>,
    hold: Option<String>,
) -> Result<BuyView, ErrorDetail> {
    use crate::domain::parse::parse_uuid;
    use crate::service::reservations;
    super::errors::answered(async move {
        let (state, tenant) = super::session::server::tenant().await?;
        let for_sale = crate::service::inventory::countries(&state.ctx, tenant.mode).await?;
        let search_path = {
            let query = [("country", &country), ("type", &number_type), ("contains", &contains)];
            let given: Vec<(&str, &str)> = query.iter().filter_map(|(k, v)| v.as_deref().map(|v| (*k, v))).collect();
            format!("/buy?{}", serde_urlencoded::to_string(given).unwrap_or_default())
        };
        let results = match country {
            Some(country) => Some(search(&state, &tenant, country, number_type, contains).await?),
            None => None,
        };
        // A hold that has gone (bought, let go) is simply not shown.
        let held = match hold.as_deref().map(|id| parse_uuid("hold", id)).transpose()? {
            Some(id) => reservations::get(&state.ctx, &tenant, id).await.ok().and_then(|r| {
                let seconds_left = reservations::seconds_left(&r);
                let number = r.numbers.into_iter().next()?.number;
                let e164 = number.e164.clone();
                Some(Held {
                    reservation_id: r.id.to_string(),
                    number: super::numbers::formatted(number, &e164),
                    seconds_left,
                })
            }),
            None => None,
        };
        Ok(BuyView {
            countries: super::countries::by_name(for_sale.iter().map(String::as_str)),
            results,
            endpoints: crate::service::endpoints::picker(&state.ctx, &tenant, None, None).await?,
            held,
            search_path,
            attempt_key: uuid::Uuid::new_v4().to_string(),
        })
    })
    .await
}

/// Holds the number for the organization (a reservation), so that nobody else can buy it while
/// the buyer decides, and opens its confirmation: `back` (the search) with `hold=`.
#[server]
pub async fn hold_number(inventory_id: String, back: String) -> Result<(), ErrorDetail> {
    use crate::domain::parse::parse_uuid;
    use crate::service::reservations;
    let outcome = async {
        let (state, tenant) = super::session::server::tenant().await?;
        let id = parse_uuid("inventory_id", &inventory_id)?;
        let reservation = reservations::create(&state.ctx, &tenant, &reservations::Selection::Ids(vec![id])).await?;
        let back = super::session::server::safe_next(Some(&back));
        Ok(super::flash::Flash::default().then_open(format!("{back}&hold={}", reservation.id)))
    };
    super::flash::server::answer(outcome.await.map_err(purchase_problem), &[]).await
}

/// Lets the number go when the confirmation closes without a purchase, and goes `back` to the
/// search. A hold already gone (bought, expired) has nothing to let go.
#[server]
pub async fn let_go(reservation_id: String, back: String) -> Result<(), ErrorDetail> {
    use crate::domain::parse::parse_uuid;
    use crate::service::reservations;
    let outcome = async {
        let (state, tenant) = super::session::server::tenant().await?;
        let id = parse_uuid("reservation_id", &reservation_id)?;
        match reservations::release(&state.ctx, &tenant, id).await {
            Ok(()) | Err(crate::error::AppError::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
        Ok(super::flash::Flash::default().then_open(super::session::server::safe_next(Some(&back))))
    };
    super::flash::server::answer(outcome.await, &[]).await
}

/// The dashboard flow of the contract: e164 + country + type + the costs the buyer saw, under
/// the page's Idempotency-Key (so a double click buys once). Bought, the number's page opens.
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
) -> Result<(), ErrorDetail> {
    use crate::domain::PurchaseBody;
    use crate::service::idempotency::Claim;
    use crate::service::phone_numbers::{purchase_once, Purchase};
    let outcome = async {
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
        let number = purchase_once(&state.ctx, &tenant, &purchase, Some(&claim)).await?.into_result()?;
        Ok(super::flash::Flash::success(format!("You bought {}", number.e164))
            .then_open(format!("/numbers/{}", number.id)))
    };
    super::flash::server::answer(outcome.await.map_err(purchase_problem), &[]).await
}

/// What a refused hold or purchase tells the buyer (the list behind is shown afresh anyway).
#[cfg(feature = "ssr")]
fn purchase_problem(e: crate::error::AppError) -> crate::error::AppError {
    use crate::error::AppError;
    match e {
        AppError::NumberUnavailable(_) => AppError::NumberUnavailable(
            "Sorry, this number was just sold to someone else, or someone else is holding it. \
            The list has been refreshed: please pick another."
                .into(),
        ),
        AppError::PriceChanged(why) => {
            AppError::PriceChanged(format!("The price of this number has changed, so nothing was bought. {why}"))
        }
        other => other,
    }
}

/// The search form (a plain GET form: the search is the page's address), its results, and the
/// confirmation of a number held.
#[component]
pub fn BuyPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.with(|q| q.get(name)).filter(|v| !v.is_empty());
    let page = Resource::new(
        move || (param("country"), param("type"), param("contains"), param("hold")),
        |(country, number_type, contains, hold)| load_buy_page(country, number_type, contains, hold),
    );
    view! {
        <h1>"Buy a number"</h1>
        <Suspense fallback=|| view! { <p class="muted">"Searching…"</p> }>
            {move || page.get().map(|result| match result {
                Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                Ok(view) => {
                    let selected = param("country").or_else(|| view.countries.first().map(|c| c.code.clone()));
                    view! { <BuyContent view selected contains=param("contains") number_type=param("type") focus=param("from")/> }.into_any()
                }
            })}
        </Suspense>
    }
}

#[component]
fn BuyContent(
    view: BuyView,
    selected: Option<String>,
    contains: Option<String>,
    number_type: Option<String>,
    /// The number whose confirmation was just closed: its Buy button has the focus again.
    focus: Option<String>,
) -> impl IntoView {
    let BuyView { countries, results, endpoints, held, search_path, attempt_key } = view;
    // A refusal of the held number's purchase is said in its confirmation.
    let problem = page_flash().filter(|f| f.error).map(|f| f.message);
    let confirmation = held.map(|held| {
        let back = format!("{search_path}&from={}", held.number.item.id);
        view! { <ConfirmPurchase held endpoints=endpoints.clone() attempt_key=attempt_key.clone() problem back/> }
    });
    view! {
        <form method="get" class="filters" aria-label="Search numbers">
            <label>"Country" <CountrySelect countries selected/></label>
            <label>"Type" <TypeSelect selected=number_type/></label>
            <label>"Contains digits"
                <input name="contains" inputmode="numeric" pattern="[0-9]*" size="8" value=contains.unwrap_or_default()/>
            </label>
            <button type="submit">"Search"</button>
        </form>
        {match results {
            None => view! { <p class="muted">"Choose a country and search to see the numbers for sale and their prices."</p> }.into_any(),
            Some(page) if page.data.is_empty() => view! { <p class="empty">"No numbers for sale match this search."</p> }.into_any(),
            Some(page) => view! {
                <ResultsTable page search_path focus/>
                <OrderBar>
                    <EndpointChoice endpoints=endpoints.clone()/>
                    <input type="hidden" name="idempotency_key" value=attempt_key.clone()/>
                </OrderBar>
            }.into_any(),
        }}
        {confirmation}
    }
}

/// The numbers for sale, each with its prices, a Buy button (a form that holds it) and a pick
/// box for the order bar (its data attributes say what the bar needs of it).
#[component]
fn ResultsTable(page: Page<Formatted<InventoryNumber>>, search_path: String, focus: Option<String>) -> impl IntoView {
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
                        let n = row.item;
                        let id = n.id.to_string();
                        let due_today = n.setup_cost_cents.saturating_add(n.monthly_cost_cents);
                        view! {
                            <tr>
                                <td>{row.national}<div class="muted small">{n.e164.clone()}</div></td>
                                <td>{type_label(n.number_type)}</td>
                                <td>{format_money(n.setup_cost_cents, &n.currency)}</td>
                                <td>{format_money(n.monthly_cost_cents, &n.currency)} <span class="muted small">"/ month"</span></td>
                                <td>
                                    <form method="post" action=HoldNumber::PATH>
                                        <input type="hidden" name="inventory_id" value=id.clone()/>
                                        <input type="hidden" name="back" value=search_path.clone()/>
                                        <button type="submit" aria-label=format!("Buy {}", row.international)
                                            autofocus=focus.as_deref() == Some(id.as_str())>"Buy"</button>
                                    </form>
                                </td>
                                <td>
                                    <input type="checkbox" class="pick" aria-label=format!("Select {}", row.international)
                                        data-id=id data-label=row.international data-due=due_today.to_string() data-currency=n.currency/>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// The confirmation of a held number: its price, an endpoint to attach, the time left, and Buy.
/// Cancel, Escape or a click beside it lets the number go (a plain form, outside the dialog).
#[component]
fn ConfirmPurchase(
    held: Held,
    endpoints: Page<Endpoint>,
    attempt_key: String,
    problem: Option<String>,
    back: String,
) -> impl IntoView {
    let Held { reservation_id, number: row, seconds_left } = held;
    let n = row.item;
    let due_today = format_money(n.setup_cost_cents.saturating_add(n.monthly_cost_cents), &n.currency);
    let refused = problem.is_some();
    view! {
        <form id="let-go" method="post" action=LetGo::PATH>
            <input type="hidden" name="reservation_id" value=reservation_id/>
            <input type="hidden" name="back" value=back/>
        </form>
        <HeldDialog>
            <h2 id="confirm-title">{format!("Buy {}?", row.international)}</h2>
            <dl class="price">
                <dt>"Setup (once)"</dt><dd>{format_money(n.setup_cost_cents, &n.currency)}</dd>
                <dt>"Monthly"</dt><dd>{format_money(n.monthly_cost_cents, &n.currency)}</dd>
                <dt>"Due today"</dt><dd><strong>{due_today.clone()}</strong></dd>
            </dl>
            // The price the buyer sees is the price sent: the server refuses it if it has moved.
            <form id="purchase" method="post" action=BuyNumber::PATH>
                <input type="hidden" name="e164" value=n.e164.clone()/>
                <input type="hidden" name="country" value=n.country.clone()/>
                <input type="hidden" name="number_type" value=n.number_type.as_str()/>
                <input type="hidden" name="setup_cost_cents" value=n.setup_cost_cents.to_string()/>
                <input type="hidden" name="monthly_cost_cents" value=n.monthly_cost_cents.to_string()/>
                <input type="hidden" name="idempotency_key" value=attempt_key/>
                <EndpointChoice endpoints/>
            </form>
            <HoldCountdown seconds_left/>
            {problem.map(|p| view! { <p class="notice notice-error" role="alert">{p}</p> })}
            <div class="actions">
                <button type="submit" form="let-go" class="secondary">"Cancel"</button>
                <button type="submit" form="purchase" disabled=refused>{format!("Buy for {due_today}")}</button>
            </div>
        </HeldDialog>
    }
}

/// The confirmation's dialog, open from the start (its content is the server's): closed by
/// Escape or a click beside it, it lets the number go.
#[island(lazy)]
fn HeldDialog(children: Children) -> impl IntoView {
    let open = RwSignal::new(true);
    Effect::new(move |_| {
        if !open.get() {
            let form =
                document().get_element_by_id("let-go").and_then(|f| f.dyn_into::<web_sys::HtmlFormElement>().ok());
            if let Some(form) = form {
                form.submit().ok();
            }
        }
    });
    view! { <Dialog open labelled_by="confirm-title">{children()}</Dialog> }
}

/// How long the number stays held for the buyer, counted down every second.
#[island(lazy)]
fn HoldCountdown(seconds_left: u64) -> impl IntoView {
    let left = RwSignal::new(seconds_left);
    // Effects and intervals run in the browser only.
    Effect::new(move |_| {
        if let Ok(tick) = set_interval_with_handle(
            move || left.update(|s| *s = s.saturating_sub(1)),
            std::time::Duration::from_secs(1),
        ) {
            on_cleanup(move || tick.clear());
        }
    });
    move || match left.get() {
        0 => view! {
            <p class="hold notice" role="status">"Your hold has ended: someone else may buy this number now."</p>
        }
        .into_any(),
        s => view! {
            // No live region: a screen reader would read out every second.
            <p class="hold" data-testid="hold-countdown">
                "Held for you for " <strong>{format!("{}:{:02}", s / 60, s % 60)}</strong>
                <span class="muted">" (nobody else can buy it meanwhile)"</span>
            </p>
        }
        .into_any(),
    }
}

/// The endpoint to attach the number to, or none for now (a field of the form it is in).
#[component]
pub(super) fn EndpointChoice(endpoints: Page<Endpoint>) -> impl IntoView {
    // Not silent about the rest: the number's own page searches them all.
    let more = (endpoints.total > endpoints.limit).then(|| {
        format!(
            "The {} newest of your {} endpoints; attach another on the number's page once it is yours.",
            endpoints.limit, endpoints.total
        )
    });
    view! {
        <label>"Attach to endpoint"
            <select name="endpoint_id">
                <option value="">"None for now"</option>
                {endpoints.data.into_iter().map(|e| view! { <option value=e.id.to_string()>{e.name}</option> }).collect_view()}
            </select>
        </label>
        {more.map(|text| view! { <span class="muted small">{text}</span> })}
    }
}
