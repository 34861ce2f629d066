//! Bulk orders (issue 14): every number in one transaction or none, under an Idempotency-Key,
//! safe against concurrent single purchases of the same numbers.

use crate::helpers::*;
use kros_numbers::domain::Mode;
use kros_numbers::service::inventory;
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

const ORDERS: &str = "/v1/number-orders";

struct Shop {
    app: TestApp,
    a: Org,
    b: Org,
    /// Inventory ids of +1415555030N (setup 100, monthly 115 each).
    inv: Vec<Uuid>,
}

async fn shop(count: usize) -> Shop {
    let app = TestApp::spawn().await;
    let a = app.org("Alpha").await;
    let b = app.org("Beta").await;
    let mut inv = Vec::new();
    for i in 0..count {
        inv.push(app.inventory(Mode::Live, &e164(i), "US", "local", 100, 115).await);
    }
    Shop { app, a, b, inv }
}

fn e164(i: usize) -> String {
    format!("+141555503{i:02}")
}

impl Shop {
    async fn order(&self, key: &str, body: Value) -> reqwest::Response {
        self.app.call_json(Method::POST, ORDERS, key, body).await
    }
}

fn e164s(order: &Value) -> Vec<String> {
    order["numbers"].as_array().unwrap().iter().map(|n| n["e164"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn an_order_buys_every_number_in_one_go_and_can_be_read_back() {
    let s = shop(3).await;
    let endpoint = s.app.endpoint(&s.a.live_key, "Trunk").await;
    let body = json!({"inventory_ids": [s.inv[2], s.inv[0]], "endpointId": endpoint, "totalCostCents": 430});
    let res = s.order(&s.a.live_key, body).await;
    assert_eq!(res.status(), 201);
    let order = body_json(res).await;
    assert_eq!((order["status"].as_str(), order["total_cost_cents"].as_i64()), (Some("completed"), Some(430)));
    assert_eq!((order["currency"].as_str(), order["livemode"].as_bool()), (Some("USD"), Some(true)));
    assert_eq!(e164s(&order), [e164(2), e164(0)], "in the order asked");
    for n in order["numbers"].as_array().unwrap() {
        assert_eq!(n["endpoint_id"], endpoint.to_string());
        let got = s.app.get_ok(&format!("/v1/phone-numbers/{}", n["id"].as_str().unwrap()), &s.a.live_key).await;
        assert_eq!(got["status"], "active");
    }
    assert!(!s.app.is_available(s.inv[0]).await && s.app.is_available(s.inv[1]).await);

    let id = order["id"].as_str().unwrap();
    assert_eq!(s.app.get_ok(&format!("{ORDERS}/{id}"), &s.a.live_key).await, order);
    let listed = s.app.get_ok(ORDERS, &s.a.live_key).await;
    assert_eq!((listed["total"].as_i64(), &listed["data"][0]), (Some(1), &order));
    // Another organization's, or the other mode's: not found.
    for other in [&s.b.live_key, &s.a.test_key] {
        assert_error(s.app.call(Method::GET, &format!("{ORDERS}/{id}"), other).await, 404, "not_found").await;
    }
    assert_eq!(s.app.get_ok(ORDERS, &s.b.live_key).await["total"], 0);
}

#[tokio::test]
async fn an_order_by_country_buys_the_first_numbers_for_sale() {
    let s = shop(4).await;
    s.app.buy(&s.b.live_key, s.inv[0]).await;
    let res = s.order(&s.a.live_key, json!({"country": "US", "type": "local", "quantity": 2})).await;
    assert_eq!(res.status(), 201);
    assert_eq!(e164s(&body_json(res).await), [e164(1), e164(2)]);
    let res = s.order(&s.a.live_key, json!({"country": "US", "quantity": 2})).await;
    let refused = assert_error(res, 409, "number_unavailable").await;
    assert!(refused["error"]["message"].as_str().unwrap().starts_with("only 1 of the 2"), "{refused}");
    assert!(s.app.is_available(s.inv[3]).await, "nothing of a refused order is bought");
}

#[tokio::test]
async fn a_number_sold_meanwhile_fails_the_whole_order_naming_it() {
    let s = shop(3).await;
    s.app.buy(&s.b.live_key, s.inv[1]).await;
    let res = s.order(&s.a.live_key, json!({"inventory_ids": [s.inv[0], s.inv[1], s.inv[2]]})).await;
    let refused = assert_error(res, 409, "number_unavailable").await;
    assert!(refused["error"]["message"].as_str().unwrap().contains(&e164(1)), "{refused}");
    assert!(s.app.is_available(s.inv[0]).await && s.app.is_available(s.inv[2]).await);
    assert_eq!(s.app.rows_for_org(s.a.id).await, 0);
    // Held by someone else: the same.
    let res =
        s.app.call_json(Method::POST, "/v1/number-reservations", &s.b.live_key, json!({"inventory_ids": [s.inv[2]]}));
    assert_eq!(res.await.status(), 201);
    let res = s.order(&s.a.live_key, json!({"inventory_ids": [s.inv[0], s.inv[2]]})).await;
    let refused = assert_error(res, 409, "number_unavailable").await;
    assert!(refused["error"]["message"].as_str().unwrap().contains("reserved"), "{refused}");
    // The holder orders its held numbers: bought under the hold.
    let res = s.order(&s.b.live_key, json!({"inventory_ids": [s.inv[2]]})).await;
    assert_eq!(res.status(), 201);
}

#[tokio::test]
async fn an_order_refuses_a_total_it_did_not_show_and_mixed_currencies() {
    let s = shop(2).await;
    let res = s.order(&s.a.live_key, json!({"inventory_ids": s.inv, "totalCostCents": 429})).await;
    let refused = assert_error(res, 409, "price_changed").await;
    assert!(refused["error"]["message"].as_str().unwrap().contains("430"), "states the total: {refused}");
    assert_eq!(s.app.rows_for_org(s.a.id).await, 0);

    let gb = s.app.inventory_in(Mode::Live, "+447400100123", "GB", "mobile", "GBP").await;
    let res = s.order(&s.a.live_key, json!({"inventory_ids": [s.inv[0], gb]})).await;
    let refused = assert_error(res, 400, "validation_error").await;
    assert_eq!(refused["error"]["field"], "inventory_ids");
    assert!(s.app.is_available(gb).await);
}

#[tokio::test]
async fn a_bad_order_is_a_400_naming_the_field() {
    let s = shop(1).await;
    let many: Vec<String> = (0..101).map(|_| Uuid::new_v4().to_string()).collect();
    for (body, field) in [
        (json!({}), "inventory_ids"),
        (json!({"inventory_ids": many}), "inventory_ids"),
        (json!({"inventory_ids": [s.inv[0], s.inv[0]]}), "inventory_ids"),
        (json!({"country": "US", "quantity": 101}), "quantity"),
        (json!({"inventory_ids": [s.inv[0]], "endpointId": "x"}), "endpointId"),
        (json!({"inventory_ids": [s.inv[0]], "totalCostCents": -1}), "totalCostCents"),
    ] {
        let error = assert_error(s.order(&s.a.live_key, body.clone()).await, 400, "validation_error").await;
        assert_eq!(error["error"]["field"], field, "{body}");
    }
    let res = s.order(&s.a.live_key, json!({"inventory_ids": [s.inv[0]], "endpointId": Uuid::new_v4()})).await;
    assert_eq!(res.status().as_u16(), 400);
    assert_error(s.order(&s.a.live_key, json!({"inventory_ids": [Uuid::new_v4()]})).await, 404, "not_found").await;
    assert!(s.app.is_available(s.inv[0]).await);
}

#[tokio::test]
async fn an_order_under_an_idempotency_key_buys_once_and_replays_its_answer() {
    let s = shop(3).await;
    let body = json!({"inventory_ids": [s.inv[0], s.inv[1]]});
    let send = |body: Value| {
        s.app.request(Method::POST, ORDERS, &s.a.live_key).header("Idempotency-Key", "order-1").json(&body).send()
    };
    let first = send(body.clone()).await.unwrap();
    assert_eq!(first.status(), 201);
    let first = body_json(first).await;
    let again = send(body.clone()).await.unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers().get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));
    assert_eq!(body_json(again).await, first);
    assert_eq!(s.app.rows_for_org(s.a.id).await, 2, "bought once");
    assert_eq!(s.app.get_ok(ORDERS, &s.a.live_key).await["total"], 1);
    // The same key with another order, or on the purchase route, is refused.
    let other = send(json!({"inventory_ids": [s.inv[2]]})).await.unwrap();
    assert_error(other, 422, "idempotency_key_reused").await;
    let purchase = s
        .app
        .request(Method::POST, "/v1/phone-numbers", &s.a.live_key)
        .header("Idempotency-Key", "order-1")
        .json(&json!({"inventory_id": s.inv[2]}))
        .send()
        .await
        .unwrap();
    assert_error(purchase, 422, "idempotency_key_reused").await;
}

#[tokio::test]
async fn an_order_is_an_event_and_so_is_each_number_it_bought() {
    let s = shop(2).await;
    let order = body_json(s.order(&s.a.live_key, json!({"inventory_ids": s.inv})).await).await;
    let events = s.app.get_ok("/v1/events", &s.a.live_key).await;
    let types: Vec<&str> = events["data"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["number_order.completed", "phone_number.purchased", "phone_number.purchased"]);
    assert_eq!(events["data"][0]["data"]["object"], order);
    let only = s.app.get_ok("/v1/events?type=number_order.completed", &s.a.live_key).await;
    assert_eq!(only["total"], 1);
}

#[tokio::test]
async fn a_20_number_order_against_32_single_purchases_of_the_same_numbers_sells_each_once() {
    let s = shop(20).await;
    let order = s.order(&s.a.live_key, json!({"inventory_ids": s.inv}));
    let mut singles = Vec::new();
    for i in 0..32 {
        let id = s.inv[(i * 7) % 20];
        let single = s.app.call_json(Method::POST, "/v1/phone-numbers", &s.b.live_key, json!({"inventory_id": id}));
        singles.push(async move { single.await.status().as_u16() });
    }
    let (order, singles) = tokio::join!(order, futures::future::join_all(singles));
    let order_status = order.status().as_u16();
    assert!(matches!(order_status, 201 | 409), "the order answered {order_status}");
    assert!(singles.iter().all(|s| matches!(s, 201 | 409)), "{singles:?}");
    let bought_singly = singles.iter().filter(|s| **s == 201).count();
    // Each number has a buyer: the order, or the first single purchase of it.
    for id in &s.inv {
        assert_eq!(s.app.rows_for_inventory(*id).await, 1, "{id} sold once");
    }
    if order_status == 201 {
        assert_eq!((s.app.rows_for_org(s.a.id).await, bought_singly), (20, 0), "the order took every number");
    } else {
        assert_eq!(s.app.rows_for_org(s.a.id).await, 0, "a failed order bought nothing");
        assert_eq!(bought_singly, 20, "the order failed only because single purchases won");
    }
}

/// Each order holds one connection for its transaction and needs no other: more concurrent orders
/// than pooled connections all succeed (they used to wait for a second connection, holding the
/// pool, until the acquire timeout answered 503).
#[tokio::test]
async fn concurrent_orders_succeed_with_fewer_pooled_connections_than_orders() {
    let app = TestApp::spawn_with(Options { max_connections: Some(2), ..Options::default() }).await;
    let org = app.org("Alpha").await;
    let numbers: Vec<_> = (0..60)
        .map(|i| {
            let e164 = format!("+1415555{:04}", 4000 + i);
            inventory::NewInventoryNumber::parse(&e164, "US", "local", "100", "115", "USD").unwrap()
        })
        .collect();
    inventory::add(&app.ctx, Mode::Live, &numbers, |_| {}).await.unwrap();
    let body = json!({"country": "US", "quantity": 4});
    let orders = (0..12).map(|_| app.call_json(Method::POST, ORDERS, &org.live_key, body.clone()));
    let answers = futures::future::join_all(orders).await;
    let mut bought = Vec::new();
    for res in answers {
        assert_eq!(res.status(), 201, "every order is served");
        bought.extend(e164s(&body_json(res).await));
    }
    bought.sort();
    bought.dedup();
    assert_eq!(bought.len(), 48, "12 orders of 4 distinct numbers");
    assert_eq!(app.rows_for_org(org.id).await, 48);
}
