//! The numbers page's summary: how many numbers the organization owns, what they cost each
//! month in each currency, and a bar chart of them by country and type, drawn on the server as
//! SVG (no chart code in the browser bundle).

use super::widgets::type_label;
use crate::domain::{format_money, NumberType, OwnedGroup};
use leptos::prelude::*;
use std::collections::BTreeMap;

/// Nothing when the organization owns no number.
#[component]
pub fn OwnedSummary(owned: Vec<OwnedGroup>) -> impl IntoView {
    if owned.is_empty() {
        return ().into_any();
    }
    let count: i64 = owned.iter().map(|g| g.count).sum();
    view! {
        <section class="card summary" aria-labelledby="summary-title">
            <h2 id="summary-title" class="small-heading">"Summary"</h2>
            <div class="summary-grid">
                <dl class="stats">
                    <div><dt>"Numbers owned"</dt><dd>{count}</dd></div>
                    <div><dt>"Monthly cost"</dt><dd>{monthly_totals(&owned).join(" + ")}</dd></div>
                </dl>
                <CountryChart owned/>
            </div>
        </section>
    }
    .into_any()
}

/// `["$18.00", "£6.00"]`: one total per currency, in currency order.
fn monthly_totals(owned: &[OwnedGroup]) -> Vec<String> {
    let mut totals = BTreeMap::<&str, i64>::new();
    for group in owned {
        *totals.entry(group.currency.as_str()).or_default() += group.monthly_cost_cents;
    }
    totals.into_iter().map(|(currency, cents)| format_money(cents, currency)).collect()
}

/// One country's numbers by type, in the order of `NumberType::ALL`.
struct CountryBar {
    country: String,
    by_type: Vec<(NumberType, i64)>,
    total: i64,
}

/// The countries, most numbers first (then by code).
fn country_bars(owned: &[OwnedGroup]) -> Vec<CountryBar> {
    let mut counts = BTreeMap::<&str, BTreeMap<usize, i64>>::new();
    for group in owned {
        let type_index = NumberType::ALL.iter().position(|t| *t == group.number_type).unwrap_or(0);
        *counts.entry(group.country.as_str()).or_default().entry(type_index).or_default() += group.count;
    }
    let mut bars: Vec<CountryBar> = counts
        .into_iter()
        .map(|(country, by_index)| {
            let by_type: Vec<(NumberType, i64)> = by_index.into_iter().map(|(i, n)| (NumberType::ALL[i], n)).collect();
            CountryBar { country: country.to_string(), total: by_type.iter().map(|(_, n)| n).sum(), by_type }
        })
        .collect();
    bars.sort_by(|a, b| b.total.cmp(&a.total).then_with(|| a.country.cmp(&b.country)));
    bars
}

/// `US: 8 (6 local, 2 mobile)`
fn describe(bar: &CountryBar) -> String {
    let parts: Vec<String> =
        bar.by_type.iter().map(|(t, n)| format!("{n} {}", type_label(*t).to_lowercase())).collect();
    format!("{}: {} ({})", bar.country, bar.total, parts.join(", "))
}

const ROW_HEIGHT: i64 = 26;
const LABEL_WIDTH: i64 = 44;
const CHART_WIDTH: i64 = 360;
/// Room right of the longest bar for its count.
const COUNT_WIDTH: i64 = 48;

/// A bar per country, its segments by type; its text alternative lists the same figures.
#[component]
fn CountryChart(owned: Vec<OwnedGroup>) -> impl IntoView {
    let bars = country_bars(&owned);
    let longest = bars.first().map_or(1, |b| b.total.max(1));
    let bar_room = CHART_WIDTH - LABEL_WIDTH - COUNT_WIDTH;
    let height = ROW_HEIGHT * bars.len() as i64;
    let description = bars.iter().map(describe).collect::<Vec<_>>().join("; ");
    let types_shown: Vec<NumberType> =
        NumberType::ALL.iter().copied().filter(|t| owned.iter().any(|g| g.number_type == *t)).collect();
    let rows = bars
        .into_iter()
        .enumerate()
        .map(|(row, bar)| {
            let y = row as i64 * ROW_HEIGHT;
            let mut x = LABEL_WIDTH;
            let segments = bar
                .by_type
                .iter()
                .map(|(number_type, n)| {
                    let width = (n * bar_room / longest).max(2);
                    let segment = view! {
                        <rect x=x y=y + 5 width=width height=16 class=format!("bar bar-{}", number_type.as_str())/>
                    };
                    x += width;
                    segment
                })
                .collect_view();
            view! {
                <text x=0 y=y + 18 class="chart-label">{bar.country.clone()}</text>
                {segments}
                <text x=x + 6 y=y + 18 class="chart-count">{bar.total}</text>
            }
        })
        .collect_view();
    view! {
        <figure class="chart">
            <svg viewBox=format!("0 0 {CHART_WIDTH} {height}") role="img" aria-labelledby="owned-chart-title owned-chart-desc">
                <title id="owned-chart-title">"Numbers by country and type"</title>
                <desc id="owned-chart-desc">{description}</desc>
                {rows}
            </svg>
            <figcaption>
                "Numbers by country and type: "
                <ul class="legend">
                    {types_shown.into_iter().map(|t| view! {
                        <li><span class=format!("swatch bar-{}", t.as_str()) aria-hidden="true"></span>{type_label(t)}</li>
                    }).collect_view()}
                </ul>
            </figcaption>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(country: &str, number_type: NumberType, currency: &str, count: i64, monthly: i64) -> OwnedGroup {
        OwnedGroup {
            country: country.into(),
            number_type,
            currency: currency.into(),
            count,
            monthly_cost_cents: monthly,
        }
    }

    #[test]
    fn totals_are_per_currency_and_bars_per_country_most_first() {
        let owned = vec![
            group("GB", NumberType::Mobile, "GBP", 4, 1200),
            group("US", NumberType::Local, "USD", 6, 690),
            group("US", NumberType::Mobile, "USD", 2, 300),
        ];
        assert_eq!(monthly_totals(&owned), ["£12.00", "$9.90"]);
        let bars = country_bars(&owned);
        assert_eq!(bars.iter().map(describe).collect::<Vec<_>>(), ["US: 8 (6 local, 2 mobile)", "GB: 4 (4 mobile)"]);
    }
}
