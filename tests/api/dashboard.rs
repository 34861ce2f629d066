//! The dashboard's server-rendered pages, read as a browser gets them: the numbers page's
//! summary and filters, the buy page's country picker, and which pages load any script.

use crate::helpers::*;
use kros_numbers::domain::Mode;
use reqwest::header::COOKIE;
use reqwest::Method;

/// The page as a signed-in browser gets it (without Leptos's `<!>` placeholders, which only
/// mark where text nodes start).
async fn page(app: &TestApp, token: &str, path: &str) -> String {
    let res = browser().get(app.url(path)).header(COOKIE, format!("kros_session={token}")).send().await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    res.text().await.unwrap().replace("<!>", "")
}

/// A member of the organization, signed in to the dashboard: the session token.
async fn member_session(app: &TestApp, org: &Org) -> String {
    app.user("ada@example.com", org.id).await;
    sign_in(app, "ada@example.com").await
}

/// The texts of a `<select name="...">`'s options, in order.
fn options_of(html: &str, select_name: &str) -> Vec<String> {
    let start = html.find(&format!("<select name=\"{select_name}\"")).expect("the select");
    let select = &html[start..start + html[start..].find("</select>").unwrap()];
    select
        .split("<option")
        .skip(1)
        .map(|o| o.split_once('>').unwrap().1.split('<').next().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn numbers_page_sums_up_the_numbers_owned_by_country_type_and_currency() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    for e164 in ["+14155550101", "+14155550102", "+14155550103"] {
        let inv = app.inventory(Mode::Live, e164, "US", "local", 100, 115).await;
        app.buy(&org.live_key, inv).await;
    }
    let gb = app.inventory_in(Mode::Live, "+447400123456", "GB", "mobile", "GBP").await;
    app.buy(&org.live_key, gb).await;
    // Not counted: a released number, another organization's, and a test-mode one.
    let released =
        app.buy(&org.live_key, app.inventory(Mode::Live, "+14155550104", "US", "mobile", 100, 999).await).await;
    let path = format!("/v1/phone-numbers/{}?action=release", released["id"].as_str().unwrap());
    assert_eq!(app.call(Method::DELETE, &path, &org.live_key).await.status(), 200);
    let other = app.org("Other").await;
    app.buy(&other.live_key, app.inventory(Mode::Live, "+2348031234567", "NG", "mobile", 500, 250).await).await;
    app.buy(&org.test_key, app.inventory(Mode::Test, "+14155550199", "US", "toll_free", 0, 0).await).await;
    let token = member_session(&app, &org).await;

    let html = page(&app, &token, "/").await;
    assert!(html.contains("<dt>Numbers owned</dt><dd>4"), "{html}");
    // 3 x $1.15 and 1 x £3.00 a month, each currency on its own.
    assert!(html.contains("<dt>Monthly cost</dt><dd>£3.00 + $3.45"), "{html}");
    assert!(html.contains("<desc id=\"owned-chart-desc\">US: 3 (3 local); GB: 1 (1 mobile)</desc>"), "{html}");
    assert_eq!(html.matches("class=\"bar bar-").count(), 2, "a bar segment per country and type");
    // The country filter offers the countries the organization has numbers in, by name.
    assert_eq!(
        options_of(&html, "country"),
        ["Any", "🇬🇧 United Kingdom of Great Britain and Northern Ireland (GB)", "🇺🇸 United States of America (US)"]
    );

    // Filtered, the summary still counts everything owned; the list shows the filter's numbers.
    let html = page(&app, &token, "/?country=GB").await;
    assert!(html.contains("<dt>Numbers owned</dt><dd>4"), "{html}");
    assert!(html.contains("+447400123456") && !html.contains("+14155550101"), "{html}");
    assert!(html.contains("<option value=\"GB\" selected"), "the filter shows its choice: {html}");
}

/// The summary as the page shows it: numbers owned and the monthly cost.
fn summary_of(html: &str) -> (String, String) {
    let after = |label: &str| {
        let start = html.find(&format!("<dt>{label}</dt><dd>")).map(|i| i + label.len() + 13);
        start.map(|i| html[i..i + html[i..].find("</dd>").unwrap()].to_string()).unwrap_or_default()
    };
    (after("Numbers owned"), after("Monthly cost"))
}

/// The summary is kept by the database as numbers are bought, ordered, released and deleted
/// (triggers on SQLite, counted on PostgreSQL): after each change it says what REST lists.
#[tokio::test]
async fn numbers_page_summary_follows_every_change_of_what_is_owned() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let token = member_session(&app, &org).await;
    let shown = || async { summary_of(&page(&app, &token, "/").await) };
    let listed = || async { app.get_ok("/v1/phone-numbers", &org.live_key).await["total"].as_i64().unwrap() };
    let number_id = |n: &serde_json::Value| n["id"].as_str().unwrap().to_string();

    let (mut local, mut local_inventory) = (Vec::new(), Vec::new());
    for e164 in ["+14155550101", "+14155550102"] {
        local_inventory.push(app.inventory(Mode::Live, e164, "US", "local", 100, 115).await);
        local.push(number_id(&app.buy(&org.live_key, *local_inventory.last().unwrap()).await));
    }
    assert_eq!(shown().await, ("2".into(), "$2.30".into()));

    let mobile = [
        app.inventory(Mode::Live, "+14155550201", "US", "mobile", 100, 200).await,
        app.inventory(Mode::Live, "+14155550202", "US", "mobile", 100, 200).await,
    ];
    let body = serde_json::json!({"inventory_ids": mobile, "totalCostCents": 600});
    let order = app.call_json(Method::POST, "/v1/number-orders", &org.live_key, body).await;
    assert_eq!(order.status(), 201);
    let ordered: Vec<String> =
        order.json::<serde_json::Value>().await.unwrap()["numbers"].as_array().unwrap().iter().map(number_id).collect();
    assert_eq!((shown().await, listed().await), (("4".into(), "$6.30".into()), 4));

    let release = format!("/v1/phone-numbers/{}?action=release", local[0]);
    assert_eq!(app.call(Method::DELETE, &release, &org.live_key).await.status(), 200);
    assert_eq!((shown().await, listed().await), (("3".into(), "$5.15".into()), 3));

    let delete = |id: &str| format!("/v1/phone-numbers/{id}");
    assert_eq!(app.call(Method::DELETE, &delete(&ordered[0]), &org.live_key).await.status(), 204);
    // A released number no longer counts: deleting its record changes nothing.
    assert_eq!(app.call(Method::DELETE, &delete(&local[0]), &org.live_key).await.status(), 204);
    assert_eq!((shown().await, listed().await), (("2".into(), "$3.15".into()), 2));

    // Another organization buying what this one let go is counted there, not here.
    let other = app.org("Other").await;
    app.buy(&other.live_key, local_inventory[0]).await;
    assert_eq!(shown().await, ("2".into(), "$3.15".into()));

    for id in [&local[1], &ordered[1]] {
        assert_eq!(app.call(Method::DELETE, &delete(id), &org.live_key).await.status(), 204);
    }
    let html = page(&app, &token, "/").await;
    assert!(html.contains("No numbers yet") && !html.contains("Numbers owned"), "{html}");
}

/// The list's total comes from the owned groups when nothing is filtered (no count of its own),
/// and from the filter's count otherwise; endpoint names are read only when a row has one.
#[tokio::test]
async fn numbers_page_totals_and_endpoint_names_match_what_is_owned() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let mut ids = Vec::new();
    for i in 0..23 {
        let (country, e164) =
            if i < 20 { ("US", format!("+141555502{i:02}")) } else { ("GB", format!("+4474001234{i:02}")) };
        let inv = app.inventory(Mode::Live, &e164, country, "local", 100, 115).await;
        ids.push(app.buy(&org.live_key, inv).await["id"].as_str().unwrap().to_string());
    }
    let token = member_session(&app, &org).await;
    let html = page(&app, &token, "/").await;
    assert!(html.contains("1–20 of 23"), "the unfiltered total: {html}");
    assert!(!html.contains("<td>Front desk</td>"), "no endpoint yet");
    assert!(page(&app, &token, "/?offset=20").await.contains("21–23 of 23"));
    assert!(page(&app, &token, "/?country=GB").await.contains("1–3 of 3"), "a filter counts its own");
    assert!(page(&app, &token, "/?country=US&offset=40").await.contains("No numbers match these filters."));

    // The newest number (first row) routed to an endpoint: its name is in the table.
    let endpoint = app.endpoint(&org.live_key, "Front desk").await;
    let path = format!("/v1/phone-numbers/{}", ids[22]);
    let res = app.call_json(Method::PATCH, &path, &org.live_key, serde_json::json!({"endpointId": endpoint})).await;
    assert_eq!(res.status(), 200);
    assert!(page(&app, &token, "/").await.contains("<td>Front desk</td>"), "the endpoint's name");
}

#[tokio::test]
async fn a_new_organization_sees_no_summary_but_an_invitation_to_buy() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let token = member_session(&app, &org).await;
    let html = page(&app, &token, "/").await;
    assert!(html.contains("No numbers yet") && !html.contains("Numbers owned"), "{html}");
}

#[tokio::test]
async fn buy_page_names_the_countries_for_sale_sorted_by_name() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    app.inventory(Mode::Live, "+2348031234567", "NG", "mobile", 500, 250).await;
    app.inventory_in(Mode::Live, "+447400123456", "GB", "mobile", "GBP").await;
    let token = member_session(&app, &org).await;

    let html = page(&app, &token, "/buy?country=GB").await;
    assert_eq!(
        options_of(&html, "country"),
        [
            "🇳🇬 Nigeria (NG)",
            "🇬🇧 United Kingdom of Great Britain and Northern Ireland (GB)",
            "🇺🇸 United States of America (US)"
        ]
    );
    assert!(html.contains("<option value=\"GB\" selected"), "{html}");
    assert!(html.contains("+447400123456"), "the search's results are in the page: {html}");
}

#[tokio::test]
async fn only_pages_with_islands_load_the_wasm() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;

    let res = browser().get(app.url("/sign-in")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let sign_in_page = res.text().await.unwrap();
    assert!(!sign_in_page.contains(".wasm") && !sign_in_page.contains("<script type=\"module\""), "{sign_in_page}");
    assert!(sign_in_page.contains("<body data-hydrated=\"true\""), "nothing to wait for: {sign_in_page}");

    let token = member_session(&app, &org).await;
    let home = page(&app, &token, "/").await;
    assert!(home.contains("/pkg/kros-numbers.wasm") && home.contains("<leptos-island"), "{home}");
    assert!(!home.contains("<body data-hydrated"), "set by the wasm once its islands have hydrated: {home}");
}
