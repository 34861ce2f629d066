use crate::helpers::*;
use kros_numbers::domain::Mode;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn purchase_by_inventory_id_returns_201_with_an_active_number() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;

    let res = app.call_json(Method::POST, "/v1/phone-numbers", &org.live_key, json!({"inventory_id": inv})).await;

    assert_eq!(res.status(), 201);
    let n = body_json(res).await;
    assert_eq!(n["e164"], "+14155550101");
    assert_eq!(n["country"], "US");
    assert_eq!(n["type"], "local");
    assert_eq!(n["status"], "active");
    assert_eq!(n["allow_inbound"], true);
    assert_eq!(n["allow_outbound"], false);
    assert_eq!(n["endpoint_id"], serde_json::Value::Null);
    assert_eq!(n["sip_uri"], format!("sip:+14155550101@{SIP_DOMAIN}"));
    assert_eq!(n["organization_id"], org.id.to_string());
    assert_eq!(n["livemode"], true);
    assert_eq!(n["setup_cost_cents"], 100);
    assert_eq!(n["monthly_cost_cents"], 115);
    assert_eq!(n["released_at"], serde_json::Value::Null);
    assert!(n.get("sip_credentials").is_none(), "the purchase response never includes the password");
}

const LIST: &str = "/v1/phone-numbers";

async fn post(app: &TestApp, key: &str, body: serde_json::Value) -> reqwest::Response {
    app.call_json(Method::POST, LIST, key, body).await
}

/// Asserts a 400 naming `field`, and that the inventory number was not sold.
async fn assert_refused(app: &TestApp, res: reqwest::Response, field: &str, inv: uuid::Uuid) {
    let body = assert_error(res, 400, "validation_error").await;
    assert_eq!(body["error"]["field"], field, "{body}");
    assert!(app.is_available(inv).await, "nothing was bought");
    assert_eq!(app.rows_for_inventory(inv).await, 0);
}

#[tokio::test]
async fn purchase_response_has_every_contract_field_and_is_persisted() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    let n = app.buy(&org.live_key, inv).await;
    for field in [
        "id",
        "e164",
        "country",
        "type",
        "status",
        "endpoint_id",
        "allow_inbound",
        "allow_outbound",
        "sip_uri",
        "organization_id",
        "livemode",
        "setup_cost_cents",
        "monthly_cost_cents",
        "currency",
        "created_at",
        "updated_at",
        "released_at",
        "friendly_name",
        "tags",
        "deletion_locked",
    ] {
        assert!(n.get(field).is_some(), "{field} in {n}");
    }
    assert_eq!(n["currency"], "USD");
    for field in ["created_at", "updated_at"] {
        let t = chrono::DateTime::parse_from_rfc3339(n[field].as_str().unwrap()).expect("RFC 3339");
        assert_eq!(t.offset().local_minus_utc(), 0, "UTC");
    }
    assert!(!app.is_available(inv).await, "sold");
    assert_eq!(app.rows_for_inventory(inv).await, 1);
    let stored = app.get_ok(&format!("/v1/phone-numbers/{}", n["id"].as_str().unwrap()), &org.live_key).await;
    for (k, v) in n.as_object().unwrap() {
        assert_eq!(&stored[k], v, "{k}");
    }
}

#[tokio::test]
async fn purchase_by_e164_country_and_type_dashboard_flow() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let inv = app.inventory(Mode::Live, "+2348031234567", "NG", "mobile", 500, 250).await;

    let res = post(&app, &org.live_key, json!({"e164": "+2348031234567", "country": "NG", "type": "mobile"})).await;

    assert_eq!(res.status(), 201);
    let n = body_json(res).await;
    assert_eq!(n["e164"], "+2348031234567");
    assert_eq!(n["country"], "NG");
    assert_eq!(n["type"], "mobile");
    assert_eq!(n["status"], "active");
    assert_eq!(n["setup_cost_cents"], 500);
    assert!(!app.is_available(inv).await);
}

#[tokio::test]
async fn purchase_with_inventory_id_and_matching_number_is_201() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let inv = app.inventory(Mode::Live, "+447400900101", "GB", "mobile", 100, 115).await;
    let res = post(
        &app,
        &org.live_key,
        json!({"inventory_id": inv, "e164": "+447400900101", "country": "GB", "type": "mobile"}),
    )
    .await;
    assert_eq!(res.status(), 201);
    assert_eq!(body_json(res).await["e164"], "+447400900101");
}

#[tokio::test]
async fn purchase_with_inventory_id_and_a_different_number_is_400() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    let other = app.inventory(Mode::Live, "+14155550102", "US", "local", 100, 115).await;
    let res = post(
        &app,
        &org.live_key,
        json!({"inventory_id": inv, "e164": "+14155550102", "country": "US", "type": "local"}),
    )
    .await;
    assert_refused(&app, res, "e164", inv).await;
    assert!(app.is_available(other).await);
}

#[tokio::test]
async fn purchase_with_inventory_id_and_a_different_type_or_country_is_400() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    let res = post(
        &app,
        &org.live_key,
        json!({"inventory_id": inv, "e164": "+14155550101", "country": "US", "type": "mobile"}),
    )
    .await;
    assert_refused(&app, res, "type", inv).await;
    // The dashboard flow alone checks the type against the inventory too.
    let res = post(&app, &org.live_key, json!({"e164": "+14155550101", "country": "US", "type": "toll_free"})).await;
    assert_refused(&app, res, "type", inv).await;
}

#[tokio::test]
async fn purchase_without_inventory_id_or_number_is_400() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    let res = post(&app, &org.live_key, json!({})).await;
    assert_refused(&app, res, "inventory_id", inv).await;
    let res = post(&app, &org.live_key, json!({"setupCostCents": 100})).await;
    assert_refused(&app, res, "inventory_id", inv).await;
}

#[tokio::test]
async fn dashboard_flow_with_missing_fields_is_400() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    for (body, field) in [
        (json!({"e164": "+14155550101", "country": "US"}), "type"),
        (json!({"e164": "+14155550101", "type": "local"}), "country"),
        (json!({"country": "US", "type": "local"}), "e164"),
        (json!({"e164": "+14155550101"}), "country"),
    ] {
        let res = post(&app, &org.live_key, body).await;
        assert_refused(&app, res, field, inv).await;
    }
}

#[tokio::test]
async fn e164_that_is_not_a_valid_number_of_the_country_is_400() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    for (e164, country) in [
        ("+14155550101", "GB"), // a US number said to be British
        ("+1415555010", "US"),  // too short
        ("4155550101", "US"),   // not E.164
        ("+1 415 555 0101", "US"),
        ("+999123", "US"),
        ("", "US"),
    ] {
        let res = post(&app, &org.live_key, json!({"e164": e164, "country": country, "type": "local"})).await;
        assert_refused(&app, res, "e164", inv).await;
    }
}

#[tokio::test]
async fn unknown_country_or_type_in_purchase_is_400() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    let res = post(&app, &org.live_key, json!({"e164": "+14155550101", "country": "ZZ", "type": "local"})).await;
    assert_refused(&app, res, "country", inv).await;
    let res = post(&app, &org.live_key, json!({"e164": "+14155550101", "country": "US", "type": "landline"})).await;
    let body = assert_error(res, 400, "validation_error").await;
    assert_eq!(body["error"]["field"], "type");
    assert!(body["error"]["message"].as_str().unwrap().contains("toll_free"), "names the allowed values");
}

#[tokio::test]
async fn valid_number_not_in_inventory_is_404() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let res = post(&app, &org.live_key, json!({"e164": "+14155550101", "country": "US", "type": "local"})).await;
    assert_error(res, 404, "not_found").await;
}

#[tokio::test]
async fn unknown_inventory_id_is_404() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    let res = post(&app, &org.live_key, json!({"inventory_id": uuid::Uuid::new_v4()})).await;
    assert_error(res, 404, "not_found").await;
    assert_eq!(app.rows_for_org(org.id).await, 0);
}

#[tokio::test]
async fn malformed_inventory_id_is_400() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    let res = post(&app, &org.live_key, json!({"inventory_id": "not-a-uuid"})).await;
    assert_refused(&app, res, "inventory_id", inv).await;
    let res = post(&app, &org.live_key, json!({"inventory_id": 42})).await;
    assert_refused(&app, res, "inventory_id", inv).await;
}

#[tokio::test]
async fn already_sold_number_is_409_number_unavailable() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let other = app.org("Other").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    app.buy(&org.live_key, inv).await;

    let res = post(&app, &org.live_key, json!({"inventory_id": inv})).await;
    assert_error(res, 409, "number_unavailable").await;
    let res = post(&app, &other.live_key, json!({"inventory_id": inv})).await;
    assert_error(res, 409, "number_unavailable").await;
    let res = post(&app, &other.live_key, json!({"e164": "+14155550101", "country": "US", "type": "local"})).await;
    assert_error(res, 409, "number_unavailable").await;
    // Sold is sold, whatever price the buyer thought it had.
    let res = post(&app, &other.live_key, json!({"inventory_id": inv, "totalCostCents": 1})).await;
    assert_error(res, 409, "number_unavailable").await;

    assert_eq!(app.rows_for_inventory(inv).await, 1);
    assert_eq!(app.rows_for_org(other.id).await, 0);
}

async fn assert_price_changed(app: &TestApp, key: &str, body: serde_json::Value, inv: uuid::Uuid) {
    let res = post(app, key, body).await;
    assert_error(res, 409, "price_changed").await;
    assert!(app.is_available(inv).await, "nothing was bought");
    assert_eq!(app.rows_for_inventory(inv).await, 0);
}

#[tokio::test]
async fn wrong_setup_cost_is_409_price_changed_and_buys_nothing() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    assert_price_changed(&app, &org.live_key, json!({"inventory_id": inv, "setupCostCents": 99}), inv).await;
    assert_price_changed(
        &app,
        &org.live_key,
        json!({"inventory_id": inv, "setupCostCents": 0, "monthlyCostCents": 115}),
        inv,
    )
    .await;
    let page = app.get_ok("/v1/phone-numbers?action=available&country=US", &org.live_key).await;
    assert_eq!(page["total"], 1, "still for sale");
}

#[tokio::test]
async fn wrong_monthly_cost_is_409_price_changed_and_buys_nothing() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    assert_price_changed(&app, &org.live_key, json!({"inventory_id": inv, "monthlyCostCents": 100}), inv).await;
    assert_price_changed(
        &app,
        &org.live_key,
        json!({"inventory_id": inv, "setupCostCents": 100, "monthlyCostCents": 116}),
        inv,
    )
    .await;
}

#[tokio::test]
async fn wrong_total_cost_is_409_price_changed_and_buys_nothing() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    assert_price_changed(&app, &org.live_key, json!({"inventory_id": inv, "totalCostCents": 100}), inv).await;
    // Right parts, wrong total.
    assert_price_changed(
        &app,
        &org.live_key,
        json!({"inventory_id": inv, "setupCostCents": 100, "monthlyCostCents": 115, "totalCostCents": 216}),
        inv,
    )
    .await;
    // The dashboard flow is guarded too.
    assert_price_changed(
        &app,
        &org.live_key,
        json!({"e164": "+14155550101", "country": "US", "type": "local", "totalCostCents": 1}),
        inv,
    )
    .await;
}

#[tokio::test]
async fn client_price_is_never_taken_lower_prices_are_409_price_changed() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    assert_price_changed(
        &app,
        &org.live_key,
        json!({"inventory_id": inv, "setupCostCents": 0, "monthlyCostCents": 0, "totalCostCents": 0}),
        inv,
    )
    .await;
}

#[tokio::test]
async fn right_prices_are_201() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    let res = post(
        &app,
        &org.live_key,
        json!({"inventory_id": inv, "setupCostCents": 100, "monthlyCostCents": 115, "totalCostCents": 215}),
    )
    .await;
    assert_eq!(res.status(), 201);
    let n = body_json(res).await;
    assert_eq!(n["setup_cost_cents"], 100);
    assert_eq!(n["monthly_cost_cents"], 115);
    // Each price alone is enough too.
    let inv2 = app.inventory(Mode::Live, "+14155550102", "US", "local", 100, 115).await;
    assert_eq!(post(&app, &org.live_key, json!({"inventory_id": inv2, "totalCostCents": 215})).await.status(), 201);
}

#[tokio::test]
async fn negative_price_is_400() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    let res = post(&app, &org.live_key, json!({"inventory_id": inv, "setupCostCents": -100})).await;
    assert_refused(&app, res, "setupCostCents", inv).await;
}

#[tokio::test]
async fn endpoint_of_own_organization_is_attached() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let endpoint = app.endpoint(&org.live_key, "Main PBX").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;

    let res = post(&app, &org.live_key, json!({"inventory_id": inv, "endpointId": endpoint})).await;

    assert_eq!(res.status(), 201);
    let n = body_json(res).await;
    assert_eq!(n["endpoint_id"], endpoint.to_string());
    let stored = app.get_ok(&format!("/v1/phone-numbers/{}", n["id"].as_str().unwrap()), &org.live_key).await;
    assert_eq!(stored["endpoint_id"], endpoint.to_string());
}

#[tokio::test]
async fn unknown_or_malformed_endpoint_is_400_and_buys_nothing() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    let res = post(&app, &org.live_key, json!({"inventory_id": inv, "endpointId": uuid::Uuid::new_v4()})).await;
    assert_refused(&app, res, "endpointId", inv).await;
    let res = post(&app, &org.live_key, json!({"inventory_id": inv, "endpointId": "pbx-1"})).await;
    assert_refused(&app, res, "endpointId", inv).await;
}

#[tokio::test]
async fn snake_case_aliases_are_accepted() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let endpoint = app.endpoint(&org.live_key, "Main PBX").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    let res = post(
        &app,
        &org.live_key,
        json!({
            "inventory_id": inv, "endpoint_id": endpoint,
            "setup_cost_cents": 100, "monthly_cost_cents": 115, "total_cost_cents": 215,
        }),
    )
    .await;
    assert_eq!(res.status(), 201);
    assert_eq!(body_json(res).await["endpoint_id"], endpoint.to_string());

    // The aliases are read, not ignored: a wrong price under the snake_case name is refused.
    let inv2 = app.inventory(Mode::Live, "+14155550102", "US", "local", 100, 115).await;
    assert_price_changed(&app, &org.live_key, json!({"inventory_id": inv2, "setup_cost_cents": 1}), inv2).await;
    // And the camelCase spelling of inventory_id works too.
    assert_eq!(post(&app, &org.live_key, json!({"inventoryId": inv2})).await.status(), 201);
}

#[tokio::test]
async fn unknown_body_field_is_400() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    let res = post(&app, &org.live_key, json!({"inventory_id": inv, "endpointID": uuid::Uuid::new_v4()})).await;
    assert_refused(&app, res, "endpointID", inv).await;
    let res = post(&app, &org.live_key, json!({"inventory_id": inv, "price": 0})).await;
    assert_refused(&app, res, "price", inv).await;
}

#[tokio::test]
async fn wrongly_typed_body_field_is_400_naming_the_field() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    let res = post(&app, &org.live_key, json!({"inventory_id": inv, "setupCostCents": "100"})).await;
    assert_refused(&app, res, "setupCostCents", inv).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_buyers_of_one_number_exactly_one_wins() {
    let app = TestApp::spawn().await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    let mut orgs = Vec::new();
    for i in 0..32 {
        orgs.push(app.org(&format!("Buyer {i}")).await);
    }

    let responses =
        futures::future::join_all(orgs.iter().map(|org| post(&app, &org.live_key, json!({"inventory_id": inv})))).await;

    let mut created = 0;
    let mut winner = None;
    for res in responses {
        match res.status().as_u16() {
            201 => {
                created += 1;
                winner = Some(body_json(res).await);
            }
            _ => {
                assert_error(res, 409, "number_unavailable").await;
            }
        }
    }
    assert_eq!(created, 1, "exactly one purchase succeeded");
    assert_eq!(app.rows_for_inventory(inv).await, 1, "one phone_numbers row for the inventory number");
    let winner = winner.unwrap();
    let owner = app.raw.owner_of(inv).await;
    assert_eq!(winner["organization_id"], owner.to_string());
    assert!(!app.is_available(inv).await);
}
