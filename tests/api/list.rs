use crate::helpers::*;
use kros_numbers::domain::Mode;
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

const LIST: &str = "/v1/phone-numbers";

fn ids(page: &Value) -> Vec<String> {
    page["data"].as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap().to_string()).collect()
}

fn e164s(page: &Value) -> Vec<String> {
    page["data"].as_array().unwrap().iter().map(|n| n["e164"].as_str().unwrap().to_string()).collect()
}

/// Buys `+1415555010<i>` for i in 1..=n, in that order; returns the numbers' ids.
async fn buy_numbers(app: &TestApp, key: &str, n: usize) -> Vec<String> {
    let mut bought = Vec::new();
    for i in 1..=n {
        let inv = app.inventory(Mode::Live, &format!("+141555501{i:02}"), "US", "local", 100, 115).await;
        bought.push(app.buy(key, inv).await["id"].as_str().unwrap().to_string());
    }
    bought
}

async fn assert_validation(app: &TestApp, path: &str, key: &str, field: &str) -> Value {
    let body = assert_error(app.call(Method::GET, path, key).await, 400, "validation_error").await;
    assert_eq!(body["error"]["field"], field, "field for {path}: {body}");
    body
}

#[tokio::test]
async fn default_action_is_assigned_with_list_envelope() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    // Inventory for sale must not show up in the default list.
    app.inventory(Mode::Live, "+14155550150", "US", "local", 100, 115).await;
    let bought = buy_numbers(&app, &org.live_key, 1).await;

    let page = app.get_ok(LIST, &org.live_key).await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["limit"], 20);
    assert_eq!(page["offset"], 0);
    assert_eq!(ids(&page), bought);
    assert_eq!(page.as_object().unwrap().len(), 4, "exactly data, total, limit, offset: {page}");
    assert_eq!(app.get_ok("/v1/phone-numbers?action=assigned", &org.live_key).await, page);
}

#[tokio::test]
async fn empty_list_is_an_empty_envelope() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let page = app.get_ok(LIST, &org.live_key).await;
    assert_eq!(page, json!({"data": [], "total": 0, "limit": 20, "offset": 0}));
}

#[tokio::test]
async fn assigned_numbers_are_newest_first_and_stable_across_pages() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let bought = buy_numbers(&app, &org.live_key, 5).await;
    let newest_first: Vec<String> = bought.iter().rev().cloned().collect();

    let mut seen = Vec::new();
    for offset in [0, 2, 4] {
        let page = app.get_ok(&format!("/v1/phone-numbers?limit=2&offset={offset}"), &org.live_key).await;
        assert_eq!(page["total"], 5);
        assert_eq!(page["limit"], 2);
        assert_eq!(page["offset"], offset);
        seen.extend(ids(&page));
    }
    assert_eq!(seen, newest_first);
    // Past the end: empty data, same total.
    let page = app.get_ok("/v1/phone-numbers?limit=2&offset=10", &org.live_key).await;
    assert_eq!(page["data"], json!([]));
    assert_eq!(page["total"], 5);
    // The same pages again give the same answer.
    let again = app.get_ok("/v1/phone-numbers?limit=2&offset=2", &org.live_key).await;
    assert_eq!(ids(&again), newest_first[2..4]);
}

#[tokio::test]
async fn released_and_deleted_numbers_are_not_listed_as_assigned() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let bought = buy_numbers(&app, &org.live_key, 3).await;
    let res = app.call(Method::DELETE, &format!("/v1/phone-numbers/{}?action=release", bought[0]), &org.live_key).await;
    assert_eq!(res.status(), 200);
    let res = app.call(Method::DELETE, &format!("/v1/phone-numbers/{}", bought[1]), &org.live_key).await;
    assert_eq!(res.status(), 204);

    let page = app.get_ok(LIST, &org.live_key).await;
    assert_eq!(page["total"], 1);
    assert_eq!(ids(&page), vec![bought[2].clone()]);
}

#[tokio::test]
async fn country_and_type_filter_assigned_numbers() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    for (e164, country, kind) in [
        ("+14155550101", "US", "local"),
        ("+18005550101", "US", "toll_free"),
        ("+447400900101", "GB", "mobile"),
        ("+442079460001", "GB", "local"),
    ] {
        let inv = app.inventory(Mode::Live, e164, country, kind, 100, 115).await;
        app.buy(&org.live_key, inv).await;
    }

    let gb = app.get_ok("/v1/phone-numbers?country=GB", &org.live_key).await;
    assert_eq!(gb["total"], 2);
    assert!(gb["data"].as_array().unwrap().iter().all(|n| n["country"] == "GB"));

    let toll_free = app.get_ok("/v1/phone-numbers?type=toll_free", &org.live_key).await;
    assert_eq!(toll_free["total"], 1);
    assert_eq!(e164s(&toll_free), vec!["+18005550101"]);

    let us_local = app.get_ok("/v1/phone-numbers?action=assigned&country=US&type=local", &org.live_key).await;
    assert_eq!(us_local["total"], 1);
    assert_eq!(e164s(&us_local), vec!["+14155550101"]);

    let none = app.get_ok("/v1/phone-numbers?country=NG", &org.live_key).await;
    assert_eq!(none["total"], 0);
}

#[tokio::test]
async fn available_requires_country() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    assert_validation(&app, "/v1/phone-numbers?action=available", &org.live_key, "country").await;
    assert_validation(&app, "/v1/phone-numbers?action=available&type=local", &org.live_key, "country").await;
}

#[tokio::test]
async fn available_is_sorted_by_e164_with_total_and_excludes_sold_numbers() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    for e164 in ["+14155550105", "+14155550101", "+14155550104", "+14155550102", "+14155550103"] {
        app.inventory(Mode::Live, e164, "US", "local", 100, 115).await;
    }
    app.inventory(Mode::Live, "+447400900101", "GB", "mobile", 100, 115).await;
    let sold = app.inventory(Mode::Live, "+14155550199", "US", "local", 100, 115).await;
    app.buy(&org.live_key, sold).await;

    let page = app.get_ok("/v1/phone-numbers?action=available&country=US", &org.live_key).await;
    assert_eq!(page["total"], 5);
    assert_eq!(page["limit"], 20);
    assert_eq!(page["offset"], 0);
    assert_eq!(e164s(&page), vec!["+14155550101", "+14155550102", "+14155550103", "+14155550104", "+14155550105"]);
    let first = &page["data"][0];
    for field in ["id", "e164", "country", "type", "setup_cost_cents", "monthly_cost_cents", "currency"] {
        assert!(first.get(field).is_some(), "inventory number has {field}: {first}");
    }
    assert_eq!(first["country"], "US");
    assert_eq!(first["type"], "local");
    assert_eq!(first["setup_cost_cents"], 100);
    assert_eq!(first["monthly_cost_cents"], 115);
    assert_eq!(first["currency"], "USD");

    let second_page = app.get_ok("/v1/phone-numbers?action=available&country=US&limit=2&offset=2", &org.live_key).await;
    assert_eq!(second_page["total"], 5);
    assert_eq!(e164s(&second_page), vec!["+14155550103", "+14155550104"]);
}

#[tokio::test]
async fn available_inventory_id_buys_that_number() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    let page = app.get_ok("/v1/phone-numbers?action=available&country=US", &org.live_key).await;
    let inv: Uuid = page["data"][0]["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(app.buy(&org.live_key, inv).await["e164"], "+14155550101");
    let page = app.get_ok("/v1/phone-numbers?action=available&country=US", &org.live_key).await;
    assert_eq!(page["total"], 0);
}

#[tokio::test]
async fn available_contains_filters_by_digits() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    for e164 in ["+14155550101", "+14155550177", "+16465550177", "+16465550102"] {
        app.inventory(Mode::Live, e164, "US", "local", 100, 115).await;
    }
    let page = app.get_ok("/v1/phone-numbers?action=available&country=US&contains=0177", &org.live_key).await;
    assert_eq!(page["total"], 2);
    assert_eq!(e164s(&page), vec!["+14155550177", "+16465550177"]);

    let page = app.get_ok("/v1/phone-numbers?action=available&country=US&contains=646", &org.live_key).await;
    assert_eq!(e164s(&page), vec!["+16465550102", "+16465550177"]);

    let page = app.get_ok("/v1/phone-numbers?action=available&country=US&contains=999999", &org.live_key).await;
    assert_eq!(page["total"], 0);
}

#[tokio::test]
async fn available_contains_must_be_digits() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    for bad in ["55a", "%25", "_", "1234567890123456"] {
        assert_validation(
            &app,
            &format!("/v1/phone-numbers?action=available&country=US&contains={bad}"),
            &org.live_key,
            "contains",
        )
        .await;
    }
}

#[tokio::test]
async fn contains_is_refused_for_assigned() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    assert_validation(&app, "/v1/phone-numbers?contains=555", &org.live_key, "contains").await;
}

#[tokio::test]
async fn available_type_filter() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    app.inventory(Mode::Live, "+18005550101", "US", "toll_free", 200, 300).await;
    app.inventory(Mode::Live, "+18005550102", "US", "toll_free", 200, 300).await;

    let page = app.get_ok("/v1/phone-numbers?action=available&country=US&type=toll_free", &org.live_key).await;
    assert_eq!(page["total"], 2);
    assert_eq!(e164s(&page), vec!["+18005550101", "+18005550102"]);
    assert!(page["data"].as_array().unwrap().iter().all(|n| n["type"] == "toll_free"));

    let page = app.get_ok("/v1/phone-numbers?action=available&country=US&type=mobile", &org.live_key).await;
    assert_eq!(page["total"], 0);
}

#[tokio::test]
async fn out_of_range_limit_and_offset_are_400_never_clamped() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=abc", "limit"),
        ("limit=", "limit"),
        ("limit=-5", "limit"),
        ("limit=2.5", "limit"),
        ("offset=-1", "offset"),
        ("offset=abc", "offset"),
        ("action=available&country=US&limit=0", "limit"),
        ("action=available&country=US&offset=-1", "offset"),
    ] {
        assert_validation(&app, &format!("/v1/phone-numbers?{query}"), &org.live_key, field).await;
    }
    // The bounds themselves are fine.
    assert_eq!(app.get_ok("/v1/phone-numbers?limit=1", &org.live_key).await["limit"], 1);
    assert_eq!(app.get_ok("/v1/phone-numbers?limit=100&offset=0", &org.live_key).await["limit"], 100);
}

#[tokio::test]
async fn unknown_action_is_400_naming_allowed_values() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let body = assert_validation(&app, "/v1/phone-numbers?action=sold", &org.live_key, "action").await;
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("assigned") && message.contains("available"), "{message}");
}

#[tokio::test]
async fn unknown_type_is_400_naming_allowed_values() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    for query in ["type=landline", "action=available&country=US&type=Local"] {
        let body = assert_validation(&app, &format!("/v1/phone-numbers?{query}"), &org.live_key, "type").await;
        let message = body["error"]["message"].as_str().unwrap();
        for allowed in ["local", "mobile", "toll_free", "national"] {
            assert!(message.contains(allowed), "{message} names {allowed}");
        }
    }
}

#[tokio::test]
async fn unknown_country_is_400() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    for query in ["country=ZZ", "country=USA", "action=available&country=1"] {
        assert_validation(&app, &format!("/v1/phone-numbers?{query}"), &org.live_key, "country").await;
    }
}

#[tokio::test]
async fn unknown_query_parameter_is_400() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let body = assert_validation(&app, "/v1/phone-numbers?page=2", &org.live_key, "page").await;
    assert!(body["error"]["message"].as_str().unwrap().contains("page"));
    assert_validation(&app, "/v1/phone-numbers?action=available&country=US&Limit=5", &org.live_key, "Limit").await;
}

#[tokio::test]
async fn repeated_query_parameter_is_400() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let res = app.call(Method::GET, "/v1/phone-numbers?limit=5&limit=6", &org.live_key).await;
    assert_error(res, 400, "validation_error").await;
}
