//! The numbers page (home) and one number's settings page, with their server functions.

// A server function takes its form's fields as arguments, and the settings form has eight (the
// code `#[server]` generates from them is outside the reach of an attribute on the function).
#![allow(clippy::too_many_arguments)]

use super::countries::{Country, CountrySelect};
use super::flash::{page_flash, typed_or, typed_ticked};
use super::widgets::{type_label, ConfirmThenPost, CopyButton, ErrorNotice, PostAfterConfirm, StatusBadge, TypeSelect};
use crate::domain::{
    CallDecision, Endpoint, ErrorDetail, Formatted, OwnedGroup, Page, PhoneNumber, PhoneNumberDetails, SipCredentials,
};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

/// One row of the numbers table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NumberRow {
    pub number: Formatted<PhoneNumber>,
    pub endpoint_name: Option<String>,
}

/// Everything the settings page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NumberView {
    pub number: Formatted<PhoneNumberDetails>,
    /// What the endpoint picker offers: always the number's own endpoint, and the newest (or
    /// those matching `endpoint_search`).
    pub endpoints: Page<Endpoint>,
    pub endpoint_search: Option<String>,
    /// Where its calls go now, in words.
    pub calls: String,
    /// Its latest routing decisions, newest first.
    pub recent_calls: Vec<CallDecision>,
}

pub const PAGE_SIZE: i64 = 20;

#[cfg(feature = "ssr")]
pub(crate) fn formatted<T>(item: T, e164: &str) -> Formatted<T> {
    let (national, international) = crate::domain::parse::format_for_humans(e164);
    Formatted { item, national, international }
}

/// The filters of the numbers page, as its query string carries them (empty = not given).
pub const FILTERS: [&str; 4] = ["q", "tag", "country", "type"];

/// The numbers page's data: one page of numbers (filtered), and what the organization owns in all.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NumbersOverview {
    pub numbers: Page<NumberRow>,
    pub owned: Vec<OwnedGroup>,
    /// The countries the organization has numbers in, for the country filter.
    pub countries: Vec<Country>,
}

#[server]
pub async fn load_numbers_page(
    q: Option<String>,
    tag: Option<String>,
    country: Option<String>,
    number_type: Option<String>,
    offset: Option<String>,
) -> Result<NumbersOverview, ErrorDetail> {
    use crate::domain::parse::PageRequest;
    use crate::service::phone_numbers::{list_assigned_and_owned, AssignedQuery};
    super::errors::answered(async move {
        let (state, tenant) = super::session::server::tenant().await?;
        let given = |text: &Option<String>| text.as_deref().map(str::trim).filter(|t| !t.is_empty()).map(str::to_owned);
        let page = PageRequest::parse(Some(&PAGE_SIZE.to_string()), offset.as_deref())?;
        let query = AssignedQuery::parse(
            given(&country).as_deref(),
            given(&number_type).as_deref(),
            given(&tag).as_deref(),
            given(&q).as_deref(),
            page,
        )?;
        let (numbers, owned) = list_assigned_and_owned(&state.ctx, &tenant, &query).await?;
        // The names of this page's numbers' endpoints (however many endpoints there are).
        let attached: Vec<uuid::Uuid> = numbers.data.iter().filter_map(|n| n.endpoint_id).collect();
        let names = crate::service::endpoints::names(&state.ctx, &tenant, &attached).await?;
        let countries = super::countries::by_name(owned.iter().map(|g| g.country.as_str()));
        let numbers = numbers.map(|n| {
            let endpoint_name =
                n.endpoint_id.and_then(|id| names.iter().find(|(e, _)| *e == id)).map(|(_, name)| name.clone());
            let e164 = n.e164.clone();
            NumberRow { number: formatted(n, &e164), endpoint_name }
        });
        Ok(NumbersOverview { numbers, owned, countries })
    })
    .await
}

#[server]
pub async fn get_number(id: String, endpoint_search: Option<String>) -> Result<NumberView, ErrorDetail> {
    use crate::service::{endpoints, phone_numbers};
    super::errors::answered(async move {
        let (state, tenant) = super::session::server::tenant().await?;
        let id = crate::domain::parse::parse_uuid("id", &id)?;
        let details = phone_numbers::get(&state.ctx, &tenant, id).await?;
        let endpoint_search = endpoint_search.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        let endpoints =
            endpoints::picker(&state.ctx, &tenant, details.number.endpoint_id, endpoint_search.as_deref()).await?;
        // The picker holds the number's own endpoint, whatever else it offers.
        let own_endpoint = endpoints.data.iter().find(|e| Some(e.id) == details.number.endpoint_id);
        let calls = crate::service::calls::where_calls_go(&state.ctx, &details.number, own_endpoint).await;
        let recent_calls = crate::service::calls::latest_decisions(&state.ctx, &tenant, id).await?;
        let e164 = details.number.e164.clone();
        Ok(NumberView { number: formatted(details, &e164), endpoints, endpoint_search, calls, recent_calls })
    })
    .await
}

/// The settings form's fields, as the browser posts them, with the values the page showed
/// (`was[...]`): only a field the user changed is written, so saving a name never undoes a change
/// made meanwhile elsewhere (another tab, the API) to another field. Without `was` (a caller other
/// than the form) every field is written as given.
#[server]
pub async fn update_number(
    id: String,
    endpoint_id: Option<String>,
    // Checkboxes: present ("on") when ticked, absent when not.
    allow_inbound: Option<String>,
    allow_outbound: Option<String>,
    status: String,
    friendly_name: String,
    /// Separated by commas or spaces.
    tags: String,
    deletion_locked: Option<String>,
    was: Option<ShownSettings>,
) -> Result<(), ErrorDetail> {
    use crate::service::phone_numbers::{self, NumberChanges};
    let posted = ShownSettings {
        endpoint_id: endpoint_id.clone().unwrap_or_default(),
        allow_inbound: allow_inbound.is_some(),
        allow_outbound: allow_outbound.is_some(),
        status: status.clone(),
        friendly_name: friendly_name.clone(),
        tags: tags.clone(),
        deletion_locked: deletion_locked.is_some(),
    };
    let outcome = async {
        let (state, tenant) = super::session::server::tenant().await?;
        let id = crate::domain::parse::parse_uuid("id", &id)?;
        let body = posted.changes_since(was.as_ref());
        phone_numbers::update(&state.ctx, &tenant, id, &NumberChanges::parse(&body)?).await?;
        Ok(super::flash::Flash::success("Settings saved"))
    };
    let ticked = |field, value: &Option<String>| value.as_ref().map(|_| (field, "on"));
    let mut typed = vec![
        ("endpoint_id", endpoint_id.as_deref().unwrap_or_default()),
        ("status", status.as_str()),
        ("friendly_name", friendly_name.as_str()),
        ("tags", tags.as_str()),
    ];
    typed.extend(
        [("allow_inbound", &allow_inbound), ("allow_outbound", &allow_outbound), ("deletion_locked", &deletion_locked)]
            .into_iter()
            .filter_map(|(field, value)| ticked(field, value)),
    );
    super::flash::server::answer(outcome.await, &typed).await
}

/// The settings as the form showed them (hidden `was[...]` fields) or as it posts them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ShownSettings {
    #[serde(default)]
    pub endpoint_id: String,
    #[serde(default, with = "ticked")]
    pub allow_inbound: bool,
    #[serde(default, with = "ticked")]
    pub allow_outbound: bool,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub friendly_name: String,
    #[serde(default)]
    pub tags: String,
    #[serde(default, with = "ticked")]
    pub deletion_locked: bool,
}

/// A checkbox's value in a form: "on" when ticked, absent or empty when not.
mod ticked {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn text(ticked: bool) -> &'static str {
        if ticked {
            "on"
        } else {
            ""
        }
    }
    pub fn serialize<S: Serializer>(ticked: &bool, to: S) -> Result<S::Ok, S::Error> {
        to.serialize_str(text(*ticked))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(from: D) -> Result<bool, D::Error> {
        Ok(!String::deserialize(from)?.is_empty())
    }
}

impl ShownSettings {
    fn of(number: &PhoneNumber) -> Self {
        ShownSettings {
            endpoint_id: number.endpoint_id.map(|e| e.to_string()).unwrap_or_default(),
            allow_inbound: number.allow_inbound,
            allow_outbound: number.allow_outbound,
            status: number.status.as_str().to_string(),
            friendly_name: number.friendly_name.clone(),
            tags: number.tags.join(", "),
            deletion_locked: number.deletion_locked,
        }
    }

    /// The PATCH body of what differs from `was` (everything, without it), parsed by the REST
    /// API's rules.
    #[cfg(feature = "ssr")]
    fn changes_since(&self, was: Option<&ShownSettings>) -> crate::domain::UpdateBody {
        fn tag_list(text: &str) -> Vec<String> {
            text.split([',', ' ']).filter(|t| !t.is_empty()).map(str::to_owned).collect()
        }
        let changed = |same: fn(&ShownSettings, &ShownSettings) -> bool| was.is_none_or(|was| !same(self, was));
        crate::domain::UpdateBody {
            endpoint_id: changed(|a, b| a.endpoint_id == b.endpoint_id)
                .then(|| Some(self.endpoint_id.clone()).filter(|e| !e.is_empty())),
            allow_inbound: changed(|a, b| a.allow_inbound == b.allow_inbound).then_some(Some(self.allow_inbound)),
            allow_outbound: changed(|a, b| a.allow_outbound == b.allow_outbound).then_some(Some(self.allow_outbound)),
            status: changed(|a, b| a.status == b.status).then(|| Some(self.status.clone())),
            friendly_name: changed(|a, b| a.friendly_name == b.friendly_name).then(|| Some(self.friendly_name.clone())),
            tags: changed(|a, b| tag_list(&a.tags) == tag_list(&b.tags)).then(|| Some(tag_list(&self.tags))),
            deletion_locked: changed(|a, b| a.deletion_locked == b.deletion_locked)
                .then_some(Some(self.deletion_locked)),
        }
    }
}

#[server]
pub async fn release_number(id: String) -> Result<(), ErrorDetail> {
    use crate::service::phone_numbers;
    let outcome = async {
        let (state, tenant) = super::session::server::tenant().await?;
        phone_numbers::release(&state.ctx, &tenant, crate::domain::parse::parse_uuid("id", &id)?).await?;
        Ok(super::flash::Flash::success("Number released"))
    };
    super::flash::server::answer(outcome.await, &[]).await
}

/// A new SIP password; the page shows it (hidden until revealed) once it reloads.
#[server]
pub async fn rotate_sip_credentials(id: String) -> Result<(), ErrorDetail> {
    use crate::service::phone_numbers;
    let outcome = async {
        let (state, tenant) = super::session::server::tenant().await?;
        let id = crate::domain::parse::parse_uuid("id", &id)?;
        phone_numbers::rotate_sip_password(&state.ctx, &tenant, id).await?;
        Ok(super::flash::Flash::success("New SIP password made: devices with the old one must be given it"))
    };
    super::flash::server::answer(outcome.await, &[]).await
}

/// Deleted, the number has no page: the form leads home.
#[server]
pub async fn delete_number(id: String) -> Result<(), ErrorDetail> {
    use crate::service::phone_numbers;
    let outcome = async {
        let (state, tenant) = super::session::server::tenant().await?;
        phone_numbers::delete(&state.ctx, &tenant, crate::domain::parse::parse_uuid("id", &id)?).await?;
        Ok(super::flash::Flash::success("Number deleted").then_open("/".into()))
    };
    super::flash::server::answer(outcome.await, &[]).await
}

/// The organization's numbers: what they come to, then the list, with filters and pages.
#[component]
pub fn NumbersPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.with(|q| q.get(name)).filter(|v| !v.is_empty());
    let overview = Resource::new(
        move || (param("q"), param("tag"), param("country"), param("type"), param("offset")),
        |(q, tag, country, number_type, offset)| load_numbers_page(q, tag, country, number_type, offset),
    );
    let filtered = move || FILTERS.iter().any(|f| param(f).is_some());
    view! {
        <div class="page-head">
            <h1>"Numbers"</h1>
            <a class="button" href="/buy">"Buy a number"</a>
        </div>
        <Suspense fallback=|| view! { <p class="muted">"Loading numbers…"</p> }>
            {move || overview.get().map(|result| match result {
                Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                Ok(overview) if overview.numbers.total == 0 && !filtered() => view! {
                    <div class="empty">
                        <h2>"No numbers yet"</h2>
                        <p>"Buy your first number to start receiving calls."</p>
                        <a class="button" href="/buy">"Buy your first number"</a>
                    </div>
                }.into_any(),
                Ok(NumbersOverview { numbers, owned, countries }) => view! {
                    <super::summary::OwnedSummary owned/>
                    <NumberFilters countries param/>
                    {if numbers.data.is_empty() {
                        view! { <p class="empty">"No numbers match these filters."</p> }.into_any()
                    } else {
                        view! { <NumbersTable page=numbers query=query.get_untracked()/> }.into_any()
                    }}
                }.into_any(),
            })}
        </Suspense>
    }
}

/// The list's filters: a plain GET form (the filters are the page's address).
#[component]
fn NumberFilters(countries: Vec<Country>, param: impl Fn(&str) -> Option<String> + Copy + 'static) -> impl IntoView {
    view! {
        <form method="get" class="filters" aria-label="Filter numbers">
            <label>"Search"
                <input name="q" type="search" maxlength="64" placeholder="Digits or name" value=param("q").unwrap_or_default()/>
            </label>
            <label>"Tag"
                <input name="tag" maxlength="32" size="10" placeholder="Any" value=param("tag").unwrap_or_default()/>
            </label>
            <label>"Country"
                <CountrySelect countries selected=param("country") any=true/>
            </label>
            <label>"Type"
                <TypeSelect selected=param("type")/>
            </label>
            <button type="submit" class="secondary">"Filter"</button>
        </form>
    }
}

#[component]
fn NumbersTable(page: Page<NumberRow>, query: leptos_router::params::ParamsMap) -> impl IntoView {
    let link = move |offset: i64| {
        let mut link = leptos_router::params::ParamsMap::new();
        link.insert("offset", offset.to_string());
        for key in FILTERS {
            if let Some(v) = query.get(key).filter(|v| !v.is_empty()) {
                link.insert(key, v);
            }
        }
        link.to_query_string()
    };
    let (offset, total, limit) = (page.offset, page.total, page.limit);
    view! {
        <div class="table-wrap">
            <table>
                <caption class="visually-hidden">"Your phone numbers"</caption>
                <thead><tr>
                    <th scope="col">"Number"</th><th scope="col">"Country"</th><th scope="col">"Type"</th>
                    <th scope="col">"Status"</th><th scope="col">"Endpoint"</th><th scope="col">"Inbound"</th><th scope="col">"Outbound"</th>
                </tr></thead>
                <tbody>
                    {page.data.into_iter().map(|row| {
                        let n = row.number.item;
                        view! {
                            <tr>
                                <td>
                                    <a href=format!("/numbers/{}", n.id)>{row.number.national}</a>
                                    {(!n.friendly_name.is_empty()).then(|| view! { <div class="friendly-name">{n.friendly_name.clone()}</div> })}
                                    <div class="muted small">{n.e164.clone()}{n.deletion_locked.then_some(" · deletion-locked")}</div>
                                    {(!n.tags.is_empty()).then(|| view! {
                                        <ul class="tags" aria-label="Tags">
                                            {n.tags.iter().map(|t| view! { <li><a href=format!("/?tag={t}")>{t.clone()}</a></li> }).collect_view()}
                                        </ul>
                                    })}
                                </td>
                                <td>{n.country.clone()}</td>
                                <td>{type_label(n.number_type)}</td>
                                <td><StatusBadge status=n.status released=n.released_at.is_some()/></td>
                                <td>{row.endpoint_name.unwrap_or_else(|| "—".into())}</td>
                                <td>{if n.allow_inbound { "On" } else { "Off" }}</td>
                                <td>{if n.allow_outbound { "On" } else { "Off" }}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        <super::widgets::Pager offset limit total link label="Pages"/>
    }
}

/// One number: settings, SIP credentials, release and delete, and its history. Rendered on the
/// server; the settings form, the password's reveal, the copy buttons and the release and delete
/// confirmations are islands. A change they make reloads the page, so that every part of it
/// (the heading's status, the history, which buttons are allowed) shows the number as it now is.
#[component]
pub fn NumberPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = params.with_untracked(|p| p.get("id")).unwrap_or_default();
    let number = Resource::new(
        move || (params.with(|p| p.get("id")).unwrap_or_default(), query.with(|q| q.get(ENDPOINT_SEARCH))),
        |(id, search)| get_number(id, search),
    );
    let history_offset = query.with_untracked(|q| q.get(super::history::OFFSET));
    view! {
        <p><a href="/">"← All numbers"</a></p>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || number.get().map(|result| match result {
                Err(e) => view! { <ErrorNotice error=e/> }.into_any(),
                Ok(view) => view! { <NumberSettings view/> }.into_any(),
            })}
        </Suspense>
        <super::history::NumberHistory id offset=history_offset/>
    }
}

#[component]
fn NumberSettings(view: NumberView) -> impl IntoView {
    let NumberView {
        number: Formatted { item: details, national, international },
        endpoints,
        endpoint_search,
        calls,
        recent_calls,
    } = view;
    let number = details.number;
    let released = number.released_at.is_some();
    view! {
        <NumberHeading number=number.clone() national international=international.clone()/>
        <SettingsForm number=number.clone() endpoints endpoint_search/>
        <SipRouting number=number.clone() credentials=details.sip_credentials calls recent_calls/>
        <ReleaseOrDelete id=number.id.to_string() international released locked=number.deletion_locked/>
    }
}

/// The number as people read it, its status, and why a released number cannot be changed.
#[component]
fn NumberHeading(number: PhoneNumber, national: String, international: String) -> impl IntoView {
    let released = number.released_at.clone();
    view! {
        <div class="page-head">
            <div>
                <h1>{national}</h1>
                <p class="muted">{international} " · " {number.e164.clone()} " · " {number.country.clone()} " · " {type_label(number.number_type)}</p>
            </div>
            <StatusBadge status=number.status released=released.is_some()/>
        </div>
        {released.map(|at| view! {
            <div class="notice" role="note">
                {format!("Released on {at}. A released number is kept for your records and can no longer be changed.")}
            </div>
        })}
    }
}

/// The number page's query parameter that searches the endpoint picker.
pub const ENDPOINT_SEARCH: &str = "endpoints";

/// Endpoint, calling directions, status, name, tags and lock, saved together (disabled once
/// released): a plain form. A refusal (a bad tag) shows the form again as it was posted. Beside
/// each field, hidden, the value shown (`was[...]`): only what the user changes is saved.
#[component]
fn SettingsForm(number: PhoneNumber, endpoints: Page<Endpoint>, endpoint_search: Option<String>) -> impl IntoView {
    use crate::domain::NumberStatus;
    let flash = page_flash();
    let text = |field: &str, current: String| typed_or(&flash, field, current);
    let ticked = |field: &str, current: bool| typed_ticked(&flash, field, current);
    let endpoint = text("endpoint_id", number.endpoint_id.map(|e| e.to_string()).unwrap_or_default());
    let status = text("status", number.status.as_str().to_string());
    let shown = ShownSettings::of(&number);
    let was = |field: &str, value: String| view! { <input type="hidden" name=format!("was[{field}]") value=value/> };
    let was_ticked = |value: bool| ticked::text(value).to_string();
    view! {
        <section class="card" aria-labelledby="settings-title">
            <h2 id="settings-title">"Settings"</h2>
            // The endpoint search is a form of its own (a GET of this page), its field placed in the
            // settings form with the `form` attribute (forms do not nest).
            <form method="get" id="endpoint-search"></form>
            <form method="post" action=UpdateNumber::PATH class="settings">
                <input type="hidden" name="id" value=number.id.to_string()/>
                {was("endpoint_id", shown.endpoint_id.clone())}
                {was("allow_inbound", was_ticked(shown.allow_inbound))}
                {was("allow_outbound", was_ticked(shown.allow_outbound))}
                {was("status", shown.status.clone())}
                {was("friendly_name", shown.friendly_name.clone())}
                {was("tags", shown.tags.clone())}
                {was("deletion_locked", was_ticked(shown.deletion_locked))}
                <fieldset disabled=number.released_at.is_some()>
                    <EndpointPicker endpoints selected=endpoint search=endpoint_search/>
                    <label class="check">
                        <input type="checkbox" name="allow_inbound" checked=ticked("allow_inbound", number.allow_inbound)/>
                        "Allow inbound calls"
                    </label>
                    <label class="check">
                        <input type="checkbox" name="allow_outbound" checked=ticked("allow_outbound", number.allow_outbound)/>
                        "Allow outbound calls"
                    </label>
                    <label>"Status"
                        <select name="status">
                            <option value="active" selected=status == NumberStatus::Active.as_str()>"Active"</option>
                            <option value="inactive" selected=status == NumberStatus::Inactive.as_str()>"Inactive"</option>
                        </select>
                    </label>
                    <label>"Name"
                        <input name="friendly_name" maxlength="64" placeholder="Optional, e.g. Front desk"
                            value=text("friendly_name", number.friendly_name.clone())/>
                    </label>
                    <label>"Tags"
                        <input name="tags" aria-describedby="tags-hint" placeholder="e.g. support, eu" value=text("tags", number.tags.join(", "))/>
                    </label>
                    <span id="tags-hint" class="muted small">"Up to 10, separated by commas: lower-case letters, digits, - and _."</span>
                    <label class="check">
                        <input type="checkbox" name="deletion_locked" checked=ticked("deletion_locked", number.deletion_locked) aria-describedby="lock-hint"/>
                        "Deletion lock"
                    </label>
                    <span id="lock-hint" class="muted small">"While on, the number cannot be released or deleted."</span>
                    <button type="submit">"Save settings"</button>
                </fieldset>
            </form>
        </section>
    }
}

/// The endpoint to attach the number to: the number's own and the newest (or those a search
/// found); with more endpoints than it shows, a search box and a word on what is shown.
#[component]
fn EndpointPicker(endpoints: Page<Endpoint>, selected: String, search: Option<String>) -> impl IntoView {
    // Without a search the hint shows only when there are more than the picker holds.
    let searchable = endpoints.total > endpoints.limit || search.is_some();
    let hint = match &search {
        Some(term) => format!("{} endpoints match \u{201c}{term}\u{201d}", endpoints.total),
        None => format!("The {} newest of {} endpoints: search for another.", endpoints.limit, endpoints.total),
    };
    view! {
        <label>"Endpoint"
            <select name="endpoint_id" aria-describedby=searchable.then_some("endpoint-hint")>
                <option value="" selected=selected.is_empty()>"Not attached"</option>
                {endpoints.data.into_iter().map(|e| {
                    let id = e.id.to_string();
                    view! { <option selected=selected == id value=id>{e.name}</option> }
                }).collect_view()}
            </select>
        </label>
        {searchable.then(|| view! {
            <div class="inline-form">
                <label>"Find an endpoint"
                    <input form="endpoint-search" type="search" name=ENDPOINT_SEARCH maxlength="100"
                        value=search.clone().unwrap_or_default() placeholder="Part of its name"/>
                </label>
                <button form="endpoint-search" type="submit" class="secondary">"Search"</button>
            </div>
            <span id="endpoint-hint" class="muted small">{hint}</span>
        })}
    }
}

/// Where the number's calls go, and what a SIP device needs to register as it, each with a copy
/// button; a new password on demand.
#[component]
fn SipRouting(
    number: PhoneNumber,
    credentials: SipCredentials,
    calls: String,
    recent_calls: Vec<CallDecision>,
) -> impl IntoView {
    let released = number.released_at.is_some();
    let rotate = PostAfterConfirm {
        action: RotateSipCredentials::PATH.into(),
        fields: vec![("id".into(), number.id.to_string())],
        heading_id: "rotate-title".into(),
        title: "Make a new SIP password?".into(),
        message:
            "Devices registered with the old password stop working within 2 seconds, until they are given the new one."
                .into(),
        confirm_label: "Make a new password".into(),
    };
    view! {
        <section class="card" aria-labelledby="sip-title">
            <h2 id="sip-title">"Calls"</h2>
            <p data-testid="calls-go">{calls}</p>
            <dl class="sip">
                <dt>"SIP URI"</dt>
                <dd><code>{number.sip_uri.clone()}</code> " " <CopyButton text=number.sip_uri label="Copy SIP URI"/></dd>
                <dt>"Username"</dt>
                <dd><code>{credentials.username.clone()}</code> " " <CopyButton text=credentials.username label="Copy SIP username"/></dd>
                <dt>"Password"</dt>
                {match credentials.password {
                    Some(password) => view! { <dd><SipPassword password/></dd> }.into_any(),
                    None => view! { <dd data-testid="sip-password">"Withheld: a released number has no usable SIP password."</dd> }.into_any(),
                }}
                <dt>"Domain"</dt>
                <dd><code>{credentials.domain}</code></dd>
            </dl>
            <ConfirmThenPost label="New SIP password" class="secondary" aria_label=None disabled=released
                described_by=None post=rotate/>
            {(!recent_calls.is_empty()).then(|| view! { <RecentCalls calls=recent_calls/> })}
        </section>
    }
}

/// The latest calls to the number and what became of them.
#[component]
fn RecentCalls(calls: Vec<CallDecision>) -> impl IntoView {
    view! {
        <h3 id="recent-calls-title">"Latest calls"</h3>
        <div class="table-wrap">
            <table aria-labelledby="recent-calls-title" data-testid="recent-calls">
                <thead><tr><th scope="col">"When"</th><th scope="col">"Caller"</th><th scope="col">"Decision"</th><th scope="col">"Where, or why"</th></tr></thead>
                <tbody>
                    {calls.into_iter().map(|c| view! {
                        <tr>
                            <td>{super::api_keys::short_time(&c.decided_at)}</td>
                            <td><code>{c.caller}</code></td>
                            <td>{match c.decision.as_str() {
                                "route" => "Sent to the endpoint",
                                "registered" => "Rang registered devices",
                                _ => "Refused",
                            }}</td>
                            <td>{c.detail}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// The password, hidden until revealed.
#[island(lazy)]
fn SipPassword(password: String) -> impl IntoView {
    let reveal = RwSignal::new(false);
    let ready = super::widgets::once_hydrated();
    let shown = {
        let password = password.clone();
        move || if reveal.get() { password.clone() } else { "••••••••••••".to_string() }
    };
    view! {
        <code data-testid="sip-password">{shown}</code>
        " "
        <button type="button" class="secondary small" aria-pressed=move || reveal.get().to_string() disabled=move || !ready.get() on:click=move |_| reveal.update(|r| *r = !*r)>
            {move || if reveal.get() { "Hide" } else { "Reveal" }}
        </button>
        " "
        <CopyButton text=password label="Copy SIP password"/>
    }
}

/// Release (the record stays) or delete (it goes), each behind a confirmation.
#[component]
fn ReleaseOrDelete(id: String, international: String, released: bool, locked: bool) -> impl IntoView {
    let why_not = locked.then(|| "locked-why".to_string());
    let post = |action: &str, heading_id: &str, title: String, message: &str, confirm_label: &str| PostAfterConfirm {
        action: action.into(),
        fields: vec![("id".into(), id.clone())],
        heading_id: heading_id.into(),
        title,
        message: message.into(),
        confirm_label: confirm_label.into(),
    };
    let release = post(ReleaseNumber::PATH, "release-title", format!("Release {international}?"),
        "The number stops routing calls and goes back to the inventory, where anyone may buy it. Its record stays in your account, marked released, for your records.",
        "Release number");
    let delete = post(DeleteNumber::PATH, "delete-title", format!("Delete {international}?"),
        "The number's record is removed from your account for good (the audit log keeps its history). If it is still yours, it goes back to the inventory.",
        "Delete number");
    view! {
        <section class="card danger" aria-labelledby="danger-title">
            <h2 id="danger-title">"Release or delete"</h2>
            <p class="muted">"Release keeps the record (inactive, marked released); Delete removes it. Either way the number goes back to the inventory."</p>
            {locked.then(|| view! {
                <p id="locked-why" class="notice" role="note">
                    "This number is deletion-locked: turn off “Deletion lock” in Settings above to release or delete it."
                </p>
            })}
            <ConfirmThenPost label="Release number" class="danger" aria_label=None disabled=released || locked
                described_by=why_not.clone() post=release/>
            " "
            <ConfirmThenPost label="Delete number" class="danger outline" aria_label=None disabled=locked
                described_by=why_not post=delete/>
        </section>
    }
}
