//! The dashboard's plain forms, posted as a browser posts them (asking for HTML, from a page of
//! the site): each is answered with a redirect and leaves its outcome in a one-time flash cookie
//! for the page it leads to. Other callers of the same server functions get their answer itself.

use crate::helpers::*;
use kros_numbers::domain::Mode;
use kros_numbers::pages::api_keys::CreateApiKey;
use kros_numbers::pages::buy::{BuyNumber, HoldNumber, LetGo};
use kros_numbers::pages::endpoints::{CreateEndpoint, DeleteEndpoint, UpdateEndpoint};
use kros_numbers::pages::numbers::{DeleteNumber, RotateSipCredentials, UpdateNumber};
use leptos::server_fn::ServerFn;
use reqwest::header::{COOKIE, LOCATION, ORIGIN, REFERER};
use reqwest::Method;

/// A form post from `page` (a path of the site), with the session and whatever cookies the
/// browser holds: the answer's status, where it leads, and the flash cookie it set.
async fn post_from(
    app: &TestApp,
    page: &str,
    action: &str,
    cookies: &str,
    form: &[(&str, &str)],
) -> (u16, String, Option<String>) {
    // One server process for the post, its Origin and its Referer (PostgreSQL runs two).
    let base = app.url("");
    let res = browser()
        .post(format!("{base}{action}"))
        .header(COOKIE, cookies)
        .header(ORIGIN, &base)
        .header(REFERER, format!("{base}{page}"))
        .form(form)
        .send()
        .await
        .unwrap();
    let location = res.headers().get(LOCATION).map(|l| l.to_str().unwrap().to_string()).unwrap_or_default();
    (res.status().as_u16(), location, set_cookie(&res, "kros_flash"))
}

/// The page `path` as the browser loads it after the post: the HTML, and whether the flash was
/// cleared for the next page.
async fn load(app: &TestApp, cookies: &str, path: &str) -> (String, bool) {
    let res = browser().get(app.url(path)).header(COOKIE, cookies).send().await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    let cleared = set_cookie(&res, "kros_flash").is_some_and(|v| v.is_empty());
    (res.text().await.unwrap().replace("<!>", ""), cleared)
}

async fn signed_in(app: &TestApp, org: &Org) -> String {
    app.user("ada@example.com", org.id).await;
    format!("kros_session={}", sign_in(app, "ada@example.com").await)
}

#[tokio::test]
async fn a_form_post_leads_back_to_its_page_which_shows_the_outcome_once() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let session = signed_in(&app, &org).await;

    let (status, location, flash) =
        post_from(&app, "/endpoints", CreateEndpoint::PATH, &session, &[("name", "Night shift")]).await;
    assert_eq!((status, location.as_str()), (302, "/endpoints"));
    let flash = flash.expect("the outcome, for the next page");
    let with_flash = format!("{session}; kros_flash={flash}");
    let (html, cleared) = load(&app, &with_flash, "/endpoints").await;
    assert!(html.contains("<div class=\"toast\">Endpoint Night shift created</div>"), "{html}");
    assert!(html.contains("<strong>Night shift</strong>"), "the list has it: {html}");
    assert!(cleared, "shown once");
    let (html, _) = load(&app, &session, "/endpoints").await;
    assert!(!html.contains("created</div>"), "{html}");
}

#[tokio::test]
async fn a_refused_form_comes_back_as_it_was_posted_with_the_reason() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    let number = app.buy(&org.live_key, inv).await;
    let id = number["id"].as_str().unwrap();
    let session = signed_in(&app, &org).await;
    let page = format!("/numbers/{id}");

    let form = [
        ("id", id),
        ("endpoint_id", ""),
        ("allow_outbound", "on"),
        ("status", "inactive"),
        ("friendly_name", "Front desk"),
        ("tags", "support, NOT A TAG!"),
    ];
    let (status, location, flash) = post_from(&app, &page, UpdateNumber::PATH, &session, &form).await;
    assert_eq!((status, location.as_str()), (302, page.as_str()));
    let (html, _) = load(&app, &format!("{session}; kros_flash={}", flash.unwrap()), &page).await;
    assert!(html.contains("toast toast-error"), "the reason is shown: {html}");
    assert!(html.contains("value=\"support, NOT A TAG!\""), "the tags as typed: {html}");
    assert!(html.contains("value=\"Front desk\""), "{html}");
    assert!(html.contains("<option value=\"inactive\" selected"), "{html}");
    assert!(!html.contains("name=\"allow_inbound\" checked"), "unticked as posted: {html}");
    assert!(html.contains("name=\"allow_outbound\" checked"), "ticked as posted: {html}");
    // Nothing was changed.
    let now = app.get_ok(&format!("/v1/phone-numbers/{id}"), &org.live_key).await;
    assert_eq!((now["status"].as_str(), now["friendly_name"].as_str()), (Some("active"), Some("")));

    // Saved, the page shows what was stored (and says so).
    let form = [("id", id), ("status", "inactive"), ("friendly_name", "Front desk"), ("tags", "support")];
    let (_, _, flash) = post_from(&app, &page, UpdateNumber::PATH, &session, &form).await;
    let (html, _) = load(&app, &format!("{session}; kros_flash={}", flash.unwrap()), &page).await;
    assert!(html.contains("<div class=\"toast\">Settings saved</div>"), "{html}");
    assert!(html.contains("value=\"support\""), "{html}");
}

#[tokio::test]
async fn a_new_api_key_is_shown_once_on_the_page_the_form_leads_back_to() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let session = signed_in(&app, &org).await;
    let form = [("name", "CI robot"), ("mode", "live")];
    let (status, _, flash) = post_from(&app, "/api-keys", CreateApiKey::PATH, &session, &form).await;
    assert_eq!(status, 302);
    let (html, _) = load(&app, &format!("{session}; kros_flash={}", flash.unwrap()), "/api-keys").await;
    let start = html.find("data-testid=\"new-api-key\">").expect("the key, once") + 26;
    let key = &html[start..start + html[start..].find('<').unwrap()];
    assert!(key.starts_with("kros_live_"), "{key}");
    assert_eq!(app.call(Method::GET, "/v1/phone-numbers", key).await.status(), 200, "a working key");
    let (html, _) = load(&app, &session, "/api-keys").await;
    assert!(!html.contains(key), "never again");
}

#[tokio::test]
async fn deleting_a_number_leads_home_and_a_client_that_is_not_a_form_gets_the_answer_itself() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let number = app.buy(&org.live_key, app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await).await;
    let id = number["id"].as_str().unwrap();
    let session = signed_in(&app, &org).await;
    let (status, location, flash) =
        post_from(&app, &format!("/numbers/{id}"), DeleteNumber::PATH, &session, &[("id", id)]).await;
    assert_eq!((status, location.as_str()), (302, "/"));
    let (html, _) = load(&app, &format!("{session}; kros_flash={}", flash.unwrap()), "/").await;
    assert!(html.contains("<div class=\"toast\">Number deleted</div>"), "{html}");

    // The same server function, called without a page (no Referer): the error and its status.
    let res =
        browser().post(app.url(DeleteNumber::PATH)).header(COOKIE, &session).form(&[("id", id)]).send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert!(set_cookie(&res, "kros_flash").is_none());
}

/// The value of a hidden field of the page (the first of that name after `after`).
fn hidden_after(html: &str, after: &str, name: &str) -> String {
    let html = &html[html.find(after).unwrap_or_else(|| panic!("no {after}: {html}"))..];
    let at = html.find(&format!("name=\"{name}\" value=\"")).unwrap_or_else(|| panic!("no {name}: {html}"));
    let start = at + name.len() + 15;
    html[start..start + html[start..].find('"').unwrap()].to_string()
}

#[tokio::test]
async fn buying_holds_the_number_opens_its_confirmation_and_a_refusal_comes_back_to_it() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    let session = signed_in(&app, &org).await;
    let search = "/buy?country=US&type=local";
    let (html, _) = load(&app, &session, search).await;
    assert_eq!(hidden_after(&html, "<tbody>", "back"), "/buy?country=US&amp;type=local", "{html}");

    // Buy holds it and opens its confirmation.
    let form = [("inventory_id", inv.to_string()), ("back", "/buy?country=US&type=local".to_string())];
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, confirmation, _) = post_from(&app, search, HoldNumber::PATH, &session, &form).await;
    assert_eq!(status, 302);
    assert!(confirmation.starts_with("/buy?country=US&type=local&hold="), "{confirmation}");
    let (html, _) = load(&app, &session, &confirmation).await;
    assert!(
        html.contains("role=\"dialog\" aria-modal=\"true\" aria-labelledby=\"confirm-title\" class"),
        "open: {html}"
    );
    assert!(
        html.contains("Held for you for <strong>15:00</strong>") || html.contains("<strong>14:59</strong>"),
        "{html}"
    );
    assert!(html.contains("Buy for $2.15"), "setup plus the first month: {html}");
    let other = app.org("Other").await;
    let res = app
        .call_json(Method::POST, "/v1/phone-numbers", &other.live_key, serde_json::json!({"inventory_id": inv}))
        .await;
    assert_eq!(res.status(), 409, "held for Acme");

    // A price other than the one shown is refused, and the confirmation says so.
    let key = hidden_after(&html, "id=\"purchase\"", "idempotency_key");
    let mut purchase = vec![
        ("e164", "+14155550101"),
        ("country", "US"),
        ("number_type", "local"),
        ("setup_cost_cents", "1"),
        ("monthly_cost_cents", "115"),
        ("endpoint_id", ""),
        ("idempotency_key", key.as_str()),
    ];
    let (status, location, flash) = post_from(&app, &confirmation, BuyNumber::PATH, &session, &purchase).await;
    assert_eq!((status, location.as_str()), (302, confirmation.as_str()));
    let (html, _) = load(&app, &format!("{session}; kros_flash={}", flash.unwrap()), &confirmation).await;
    assert!(
        html.contains("role=\"alert\" class=\"notice notice-error\">The price of this number has changed"),
        "{html}"
    );
    assert_eq!(app.rows_for_inventory(inv).await, 0, "nothing bought");

    // At the price shown (the page's new key), it is bought and its page opens.
    let key = hidden_after(&html, "id=\"purchase\"", "idempotency_key");
    purchase[3] = ("setup_cost_cents", "100");
    purchase[6] = ("idempotency_key", key.as_str());
    let (status, location, flash) = post_from(&app, &confirmation, BuyNumber::PATH, &session, &purchase).await;
    assert_eq!(status, 302);
    assert!(location.starts_with("/numbers/"), "{location}");
    let (html, _) = load(&app, &format!("{session}; kros_flash={}", flash.unwrap()), &location).await;
    assert!(html.contains("<div class=\"toast\">You bought +14155550101</div>"), "{html}");
}

#[tokio::test]
async fn cancelling_a_confirmation_lets_the_number_go_and_its_buy_button_has_the_focus_again() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    let session = signed_in(&app, &org).await;
    let search = "/buy?country=US";
    let back = search.to_string();
    let (_, confirmation, _) =
        post_from(&app, search, HoldNumber::PATH, &session, &[("inventory_id", &inv.to_string()), ("back", &back)])
            .await;
    let (html, _) = load(&app, &session, &confirmation).await;
    let reservation = hidden_after(&html, "id=\"let-go\"", "reservation_id");
    let back = hidden_after(&html, "id=\"let-go\"", "back").replace("&amp;", "&");
    assert_eq!(back, format!("/buy?country=US&from={inv}"));
    let other = app.org("Other").await;
    let (status, location, _) =
        post_from(&app, &confirmation, LetGo::PATH, &session, &[("reservation_id", &reservation), ("back", &back)])
            .await;
    assert_eq!((status, location.as_str()), (302, back.as_str()));
    let (html, _) = load(&app, &session, &back).await;
    assert!(!html.contains("aria-labelledby=\"confirm-title\""), "no confirmation: {html}");
    assert!(html.contains("aria-label=\"Buy +1 415-555-0101\" autofocus"), "{html}");
    let res = app
        .call_json(Method::POST, "/v1/phone-numbers", &other.live_key, serde_json::json!({"inventory_id": inv}))
        .await;
    assert_eq!(res.status(), 201, "for sale to everyone again");
    // Letting go of a hold that is gone (bought since) still leads back to the search.
    let (status, location, _) =
        post_from(&app, &confirmation, LetGo::PATH, &session, &[("reservation_id", &reservation), ("back", &back)])
            .await;
    assert_eq!((status, location.as_str()), (302, back.as_str()));
}

/// The settings form as the number's page renders it, posted with one field changed.
async fn save_settings_as_the_page_shows_them(app: &TestApp, session: &str, id: &str, field: &str, value: &str) {
    let page = format!("/numbers/{id}");
    let (html, _) = load(app, session, &page).await;
    let form = with_field(form_fields(&html, UpdateNumber::PATH), field, value);
    let form: Vec<(&str, &str)> = form.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let (status, location, _) = post_from(app, &page, UpdateNumber::PATH, session, &form).await;
    assert_eq!((status, location.as_str()), (302, page.as_str()));
}

#[tokio::test]
async fn saving_settings_keeps_an_endpoint_older_than_the_newest_hundred() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let oldest = app.endpoint(&org.live_key, "The oldest trunk").await;
    for i in 0..100 {
        app.endpoint(&org.live_key, &format!("Trunk {i}")).await;
    }
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    let number = app.buy(&org.live_key, inv).await;
    let id = number["id"].as_str().unwrap();
    let path = format!("/v1/phone-numbers/{id}");
    app.call_json(Method::PATCH, &path, &org.live_key, serde_json::json!({"endpointId": oldest})).await;
    let session = signed_in(&app, &org).await;

    let (html, _) = load(&app, &session, &format!("/numbers/{id}")).await;
    assert!(html.contains(&format!("selected value=\"{oldest}\"")), "the number's endpoint is offered, chosen: {html}");
    assert!(html.contains("The 50 newest of 101 endpoints"), "the picker says what it shows: {html}");
    save_settings_as_the_page_shows_them(&app, &session, id, "friendly_name", "Front desk").await;
    let now = app.get_ok(&path, &org.live_key).await;
    assert_eq!(
        (now["friendly_name"].as_str(), now["endpoint_id"].as_str()),
        (Some("Front desk"), Some(&*oldest.to_string()))
    );

    // The numbers page names it too, and a search of the picker finds it.
    let (html, _) = load(&app, &session, "/").await;
    assert!(html.contains("The oldest trunk"), "{html}");
    let (html, _) = load(&app, &session, &format!("/numbers/{id}?endpoints=OLDEST")).await;
    assert!(html.contains("1 endpoints match"), "{html}");
}

#[tokio::test]
async fn saving_settings_writes_only_the_fields_the_user_changed() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let trunk = app.endpoint(&org.live_key, "Trunk").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    let number = app.buy(&org.live_key, inv).await;
    let id = number["id"].as_str().unwrap();
    let path = format!("/v1/phone-numbers/{id}");
    let session = signed_in(&app, &org).await;
    let page = format!("/numbers/{id}");
    let (html, _) = load(&app, &session, &page).await;
    let shown = form_fields(&html, UpdateNumber::PATH);

    // Meanwhile, elsewhere (another tab, the API): attached, outbound on, tagged.
    let elsewhere = serde_json::json!({"endpointId": trunk, "allowOutbound": true, "tags": ["night"]});
    assert_eq!(app.call_json(Method::PATCH, &path, &org.live_key, elsewhere).await.status(), 200);

    // The page loaded before that saves a new name: only the name is written.
    let form = with_field(shown, "friendly_name", "Front desk");
    let form: Vec<(&str, &str)> = form.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    post_from(&app, &page, UpdateNumber::PATH, &session, &form).await;
    let now = app.get_ok(&path, &org.live_key).await;
    assert_eq!(now["friendly_name"], "Front desk");
    assert_eq!(now["endpoint_id"], trunk.to_string(), "{now}");
    assert_eq!((now["allow_outbound"].as_bool(), now["tags"].clone()), (Some(true), serde_json::json!(["night"])));
    let events = app.get_ok(&format!("/v1/events?phone_number_id={id}&type=phone_number.updated"), &org.live_key).await;
    let changed =
        events["data"][0]["data"]["previous_attributes"].as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(changed, ["friendly_name", "updated_at"], "the event names only the name");
}

#[tokio::test]
async fn a_numbers_history_pages_through_every_event() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    let number = app.buy(&org.live_key, inv).await;
    let id = number["id"].as_str().unwrap();
    let path = format!("/v1/phone-numbers/{id}");
    for i in 0..120 {
        let res =
            app.call_json(Method::PATCH, &path, &org.live_key, serde_json::json!({"friendlyName": format!("n{i}")}));
        assert_eq!(res.await.status(), 200);
    }
    let session = signed_in(&app, &org).await;
    let (html, _) = load(&app, &session, &format!("/numbers/{id}")).await;
    assert!(html.contains("1–50 of 121"), "{html}");
    let (html, _) = load(&app, &session, &format!("/numbers/{id}?history=100")).await;
    assert!(html.contains("101–121 of 121"), "{html}");
    assert!(html.contains("<strong>Bought</strong>"), "the first event, on the last page: {html}");
}

#[tokio::test]
async fn an_endpoints_targets_are_set_changed_and_its_deletion_refused_while_numbers_use_it() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let session = signed_in(&app, &org).await;
    let created = [
        ("name", "PBX"),
        ("targets", "sip:10.0.0.1\r\n\r\n  sip:10.0.0.2;transport=tcp  "),
        ("failover_timeout_secs", "3"),
    ];
    let (status, _, _) = post_from(&app, "/endpoints", CreateEndpoint::PATH, &session, &created).await;
    assert_eq!(status, 302);
    let endpoint = &app.get_ok("/v1/endpoints", &org.live_key).await["data"][0];
    assert_eq!(endpoint["targets"], serde_json::json!(["sip:10.0.0.1", "sip:10.0.0.2;transport=tcp"]));
    assert_eq!(endpoint["failover_timeout_secs"], 3);
    let id = endpoint["id"].as_str().unwrap().to_string();
    let page = format!("/endpoints/{id}");
    let (html, _) = load(&app, &session, &page).await;
    assert!(html.contains("Calls ring sip:10.0.0.1, then sip:10.0.0.2;transport=tcp."), "{html}");

    // The edit form, posted as the page renders it with one line changed.
    let fields = with_field(form_fields(&html, UpdateEndpoint::PATH), "targets", "sip:10.0.0.9");
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (status, location, _) = post_from(&app, &page, UpdateEndpoint::PATH, &session, &fields).await;
    assert_eq!((status, location.as_str()), (302, page.as_str()));
    let saved = app.get_ok(&format!("/v1{page}"), &org.live_key).await;
    assert_eq!((saved["name"].as_str(), saved["targets"].clone()), (Some("PBX"), serde_json::json!(["sip:10.0.0.9"])));
    // A bad target is refused, with the reason, and changes nothing.
    let bad = [("id", id.as_str()), ("name", "PBX"), ("targets", "http://nope"), ("failover_timeout_secs", "3")];
    let (_, _, flash) = post_from(&app, &page, UpdateEndpoint::PATH, &session, &bad).await;
    let (html, _) = load(&app, &format!("{session}; kros_flash={}", flash.unwrap()), &page).await;
    assert!(html.contains("is not a sip: or sips: URI"), "{html}");
    assert_eq!(app.get_ok(&format!("/v1{page}"), &org.live_key).await["targets"], serde_json::json!(["sip:10.0.0.9"]));

    // A number routes to it: the deletion is refused; detached, it goes.
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    let body = serde_json::json!({"inventory_id": inv, "endpointId": id});
    let number = body_json(app.call_json(Method::POST, "/v1/phone-numbers", &org.live_key, body).await).await;
    let (_, _, flash) = post_from(&app, &page, DeleteEndpoint::PATH, &session, &[("id", &id)]).await;
    let (html, _) = load(&app, &format!("{session}; kros_flash={}", flash.unwrap()), &page).await;
    assert!(html.contains("1 number routes its calls to this endpoint"), "{html}");
    let detach = serde_json::json!({"endpointId": null});
    let path = format!("/v1/phone-numbers/{}", number["id"].as_str().unwrap());
    assert_eq!(app.call_json(Method::PATCH, &path, &org.live_key, detach).await.status(), 200);
    let (status, location, _) = post_from(&app, &page, DeleteEndpoint::PATH, &session, &[("id", &id)]).await;
    assert_eq!((status, location.as_str()), (302, "/endpoints"));
    assert_eq!(app.get_ok("/v1/endpoints", &org.live_key).await["total"], 0);
}

#[tokio::test]
async fn a_numbers_page_says_where_its_calls_go_and_makes_a_new_sip_password() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let session = signed_in(&app, &org).await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    let number = app.buy(&org.live_key, inv).await;
    let id = number["id"].as_str().unwrap();
    let (page, api) = (format!("/numbers/{id}"), format!("/v1/phone-numbers/{id}"));
    let (html, _) = load(&app, &session, &page).await;
    assert!(html.contains("Calls ring the devices registered with these credentials."), "{html}");

    let body =
        serde_json::json!({"name": "PBX", "targets": ["sip:10.0.0.1", "sip:10.0.0.2"], "failover_timeout_secs": 4});
    let endpoint = body_json(app.call_json(Method::POST, "/v1/endpoints", &org.live_key, body).await).await;
    let attach = serde_json::json!({"endpointId": endpoint["id"]});
    assert_eq!(app.call_json(Method::PATCH, &api, &org.live_key, attach).await.status(), 200);
    let (html, _) = load(&app, &session, &page).await;
    assert!(html.contains("Calls ring sip:10.0.0.1, then sip:10.0.0.2 (each has 4 s to answer"), "{html}");
    let off = serde_json::json!({"allowInbound": false});
    assert_eq!(app.call_json(Method::PATCH, &api, &org.live_key, off).await.status(), 200);
    let (html, _) = load(&app, &session, &page).await;
    assert!(html.contains("Inbound calls are off: callers hear 403 Forbidden."), "{html}");

    let before = app.get_ok(&api, &org.live_key).await["sip_credentials"]["password"].clone();
    let (status, location, _) = post_from(&app, &page, RotateSipCredentials::PATH, &session, &[("id", id)]).await;
    assert_eq!((status, location.as_str()), (302, page.as_str()));
    let after = app.get_ok(&api, &org.live_key).await["sip_credentials"]["password"].clone();
    assert_ne!(before, after, "a new password");
}
