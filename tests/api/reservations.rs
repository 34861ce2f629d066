//! Reservations (issue 14): a hold keeps a number from everyone else until it expires; the
//! holder buys it with the normal purchase; all or nothing; safe under concurrency.

use crate::helpers::*;
use kros_numbers::domain::Mode;
use kros_numbers::service::reservations::{self, ReservationSettings};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;
use uuid::Uuid;

const RESERVE: &str = "/v1/number-reservations";

struct Market {
    app: TestApp,
    a: Org,
    b: Org,
    /// Inventory ids of +1415555020N, N = 0..
    inv: Vec<Uuid>,
}

async fn market_with(count: usize, options: Options) -> Market {
    let app = TestApp::spawn_with(options).await;
    let a = app.org("Alpha").await;
    let b = app.org("Beta").await;
    let mut inv = Vec::new();
    for i in 0..count {
        inv.push(app.inventory(Mode::Live, &format!("+141555502{i:02}"), "US", "local", 100, 115).await);
    }
    Market { app, a, b, inv }
}

async fn market(count: usize) -> Market {
    market_with(count, Options::default()).await
}

fn e164(i: usize) -> String {
    format!("+141555502{i:02}")
}

impl Market {
    async fn reserve(&self, key: &str, body: Value) -> reqwest::Response {
        self.app.call_json(Method::POST, RESERVE, key, body).await
    }

    async fn reserve_ok(&self, key: &str, ids: &[Uuid]) -> Value {
        let res = self.reserve(key, json!({"inventory_ids": ids})).await;
        assert_eq!(res.status(), 201, "reserve {ids:?}");
        body_json(res).await
    }

    async fn buy(&self, key: &str, id: Uuid) -> reqwest::Response {
        self.app.call_json(Method::POST, "/v1/phone-numbers", key, json!({"inventory_id": id})).await
    }

    async fn reservation(&self, key: &str, r: &Value) -> Value {
        self.app.get_ok(&format!("{RESERVE}/{}", r["id"].as_str().unwrap()), key).await
    }

    /// The e164s `key` sees for sale in the US.
    async fn for_sale(&self, key: &str) -> Vec<String> {
        let page = self.app.get_ok("/v1/phone-numbers?action=available&country=US&limit=100", key).await;
        page["data"].as_array().unwrap().iter().map(|n| n["e164"].as_str().unwrap().to_string()).collect()
    }
}

fn holds(r: &Value) -> Vec<(String, String)> {
    r["numbers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["e164"].as_str().unwrap().to_string(), n["hold"].as_str().unwrap().to_string()))
        .collect()
}

#[tokio::test]
async fn a_held_number_is_for_sale_to_its_holder_only_and_the_purchase_consumes_the_hold() {
    let m = market(3).await;
    let r = m.reserve_ok(&m.a.live_key, &[m.inv[1], m.inv[0]]).await;
    assert_eq!(r["status"], "active");
    assert_eq!(holds(&r), [(e164(1), "held".into()), (e164(0), "held".into())], "in the order asked");
    assert_eq!(
        (r["numbers"][0]["id"].as_str(), r["numbers"][0]["setup_cost_cents"].as_i64()),
        (Some(&*m.inv[1].to_string()), Some(100))
    );
    let expires = chrono::DateTime::parse_from_rfc3339(r["expires_at"].as_str().unwrap()).unwrap();
    let left = expires.signed_duration_since(chrono::Utc::now()).num_seconds();
    assert!((14 * 60..=15 * 60).contains(&left), "the default hold is 15 minutes ({left} s left)");

    // Nobody else sees them, buys them or holds them.
    assert_eq!(m.for_sale(&m.b.live_key).await, [e164(2)]);
    assert_eq!(m.for_sale(&m.a.live_key).await, [e164(0), e164(1), e164(2)]);
    let refused = assert_error(m.buy(&m.b.live_key, m.inv[0]).await, 409, "number_unavailable").await;
    assert!(refused["error"]["message"].as_str().unwrap().contains("reserved"), "{refused}");
    let by_number = json!({"e164": e164(1), "country": "US", "type": "local"});
    let res = m.app.call_json(Method::POST, "/v1/phone-numbers", &m.b.live_key, by_number.clone()).await;
    assert_error(res, 409, "number_unavailable").await;
    assert_error(m.reserve(&m.b.live_key, json!({"inventory_ids": [m.inv[0]]})).await, 409, "number_unavailable").await;
    // Nor does the holder's other mode: a test key sees none of the live inventory at all.
    assert_error(m.buy(&m.a.test_key, m.inv[0]).await, 404, "not_found").await;

    // The holder buys them, by inventory id and by number: each hold is consumed.
    assert_eq!(m.buy(&m.a.live_key, m.inv[0]).await.status(), 201);
    let r = m.reservation(&m.a.live_key, &r).await;
    assert_eq!((r["status"].as_str(), holds(&r)[1].1.as_str()), (Some("active"), "purchased"));
    let res = m.app.call_json(Method::POST, "/v1/phone-numbers", &m.a.live_key, by_number).await;
    assert_eq!(res.status(), 201);
    let r = m.reservation(&m.a.live_key, &r).await;
    assert_eq!(r["status"], "completed");
    assert_eq!(holds(&r), [(e164(1), "purchased".into()), (e164(0), "purchased".into())]);
    assert_eq!(m.app.rows_for_org(m.a.id).await, 2);
}

#[tokio::test]
async fn a_reservation_holds_every_number_or_none() {
    let m = market(3).await;
    m.reserve_ok(&m.a.live_key, &[m.inv[1]]).await;
    let refused = m.reserve(&m.b.live_key, json!({"inventory_ids": [m.inv[0], m.inv[1], m.inv[2]]})).await;
    let body = assert_error(refused, 409, "number_unavailable").await;
    assert!(body["error"]["message"].as_str().unwrap().contains(&e164(1)), "names the number: {body}");
    // Nothing of it stayed: the others are for sale to a third organization.
    let c = m.app.org("Gamma").await;
    assert_eq!(m.for_sale(&c.live_key).await, [e164(0), e164(2)]);
    assert_eq!(m.app.get_ok(RESERVE, &m.b.live_key).await["total"], 0);
    // A sold number is refused the same way.
    assert_eq!(m.buy(&c.live_key, m.inv[2]).await.status(), 201);
    let body =
        assert_error(m.reserve(&m.b.live_key, json!({"inventory_ids": [m.inv[2]]})).await, 409, "number_unavailable")
            .await;
    assert!(body["error"]["message"].as_str().unwrap().contains("sold"), "{body}");
}

#[tokio::test]
async fn a_reservation_by_country_holds_the_first_numbers_nobody_holds() {
    let m = market(5).await;
    m.reserve_ok(&m.a.live_key, &[m.inv[0]]).await;
    let res =
        m.reserve(&m.b.live_key, json!({"country": "us", "type": "local", "contains": "5550", "quantity": 2})).await;
    assert_eq!(res.status(), 201);
    let r = body_json(res).await;
    assert_eq!(holds(&r), [(e164(1), "held".into()), (e164(2), "held".into())]);
    let res = m.reserve(&m.b.live_key, json!({"country": "US", "quantity": 3})).await;
    let body = assert_error(res, 409, "number_unavailable").await;
    assert!(body["error"]["message"].as_str().unwrap().starts_with("only 2 of the 3"), "{body}");
    let res = m.reserve(&m.b.live_key, json!({"country": "US", "type": "mobile", "quantity": 1})).await;
    assert_error(res, 409, "number_unavailable").await;
}

#[tokio::test]
async fn a_bad_reservation_request_is_a_400_naming_the_field_and_an_unknown_number_a_404() {
    let m = market(1).await;
    let many: Vec<String> = (0..21).map(|_| Uuid::new_v4().to_string()).collect();
    for (body, field) in [
        (json!({}), "inventory_ids"),
        (json!({"inventory_ids": []}), "inventory_ids"),
        (json!({"inventory_ids": many}), "inventory_ids"),
        (json!({"inventory_ids": ["nope"]}), "inventory_ids"),
        (json!({"inventory_ids": [m.inv[0], m.inv[0]]}), "inventory_ids"),
        (json!({"inventory_ids": [m.inv[0]], "country": "US"}), "inventory_ids"),
        (json!({"quantity": 1}), "country"),
        (json!({"country": "US"}), "quantity"),
        (json!({"country": "US", "quantity": 0}), "quantity"),
        (json!({"country": "US", "quantity": 21}), "quantity"),
        (json!({"country": "XX", "quantity": 1}), "country"),
        (json!({"country": "US", "type": "landline", "quantity": 1}), "type"),
        (json!({"country": "US", "contains": "12a", "quantity": 1}), "contains"),
    ] {
        let error = assert_error(m.reserve(&m.a.live_key, body.clone()).await, 400, "validation_error").await;
        assert_eq!(error["error"]["field"], field, "{body}");
    }
    assert_error(m.reserve(&m.a.live_key, json!({"inventoryIds": [Uuid::new_v4()]})).await, 404, "not_found").await;
    assert_error(
        m.reserve(&m.a.live_key, json!({"inventory_ids": [m.inv[0]], "extra": 1})).await,
        400,
        "validation_error",
    )
    .await;
    // None of these held anything.
    assert_eq!(m.for_sale(&m.b.live_key).await, [e164(0)]);
}

#[tokio::test]
async fn a_hold_ends_when_it_expires_with_no_job_and_is_cleaned_up_afterwards() {
    let hold = ReservationSettings { hold: Duration::from_millis(1500), keep_ended: Duration::ZERO };
    let m = market_with(2, Options { reservations: hold, ..Options::default() }).await;
    let r = m.reserve_ok(&m.a.live_key, &[m.inv[0], m.inv[1]]).await;
    assert_error(m.buy(&m.b.live_key, m.inv[0]).await, 409, "number_unavailable").await;
    tokio::time::sleep(Duration::from_millis(1700)).await;

    // Expired: for sale to anyone at once, before any housekeeping ran.
    assert_eq!(m.for_sale(&m.b.live_key).await, [e164(0), e164(1)]);
    assert_eq!(m.buy(&m.b.live_key, m.inv[0]).await.status(), 201);
    let r = m.reservation(&m.a.live_key, &r).await;
    assert_eq!(r["status"], "expired");
    assert_eq!(holds(&r), [(e164(0), "lapsed".into()), (e164(1), "lapsed".into())]);
    // The holder cannot buy what someone else bought meanwhile.
    assert_error(m.buy(&m.a.live_key, m.inv[0]).await, 409, "number_unavailable").await;

    let held = "SELECT COUNT(*) FROM inventory_numbers WHERE id = $1 AND held_until IS NOT NULL";
    assert_eq!(m.app.raw.count(held, m.inv[1]).await, 1, "the stale hold is still written down");
    let (cleared, forgotten) = reservations::clean_up(&m.app.ctx).await.unwrap();
    assert_eq!((cleared, forgotten), (1, 1));
    assert_eq!(m.app.raw.count(held, m.inv[1]).await, 0);
    let id = r["id"].as_str().unwrap();
    let gone = m.app.call(Method::GET, &format!("{RESERVE}/{id}"), &m.a.live_key).await;
    assert_error(gone, 404, "not_found").await;
}

#[tokio::test]
async fn a_reservation_released_early_frees_its_numbers_and_only_its_owner_can_release_it() {
    let m = market(2).await;
    let r = m.reserve_ok(&m.a.live_key, &[m.inv[0], m.inv[1]]).await;
    assert_eq!(m.buy(&m.a.live_key, m.inv[1]).await.status(), 201);
    let path = format!("{RESERVE}/{}", r["id"].as_str().unwrap());
    for other in [&m.b.live_key, &m.a.test_key] {
        assert_error(m.app.call(Method::DELETE, &path, other).await, 404, "not_found").await;
    }
    assert_error(m.buy(&m.b.live_key, m.inv[0]).await, 409, "number_unavailable").await;
    let res = m.app.call(Method::DELETE, &path, &m.a.live_key).await;
    assert_eq!(res.status(), 204);
    // Released and removed: the number not bought is for sale again, the bought one stays bought.
    assert_eq!(m.buy(&m.b.live_key, m.inv[0]).await.status(), 201, "for sale again");
    assert_eq!(m.app.rows_for_org(m.a.id).await, 1);
    assert_error(m.app.call(Method::GET, &path, &m.a.live_key).await, 404, "not_found").await;
    assert_error(m.app.call(Method::DELETE, &path, &m.a.live_key).await, 404, "not_found").await;
    assert_eq!(m.app.get_ok(RESERVE, &m.a.live_key).await["total"], 0);
    assert_error(m.app.call(Method::GET, &format!("{RESERVE}/nope"), &m.a.live_key).await, 400, "validation_error")
        .await;
}

#[tokio::test]
async fn reserving_a_number_again_moves_the_hold_to_the_new_reservation() {
    let m = market(1).await;
    let first = m.reserve_ok(&m.a.live_key, &[m.inv[0]]).await;
    let second = m.reserve_ok(&m.a.live_key, &[m.inv[0]]).await;
    let first = m.reservation(&m.a.live_key, &first).await;
    assert_eq!(holds(&first), [(e164(0), "lapsed".into())]);
    assert_eq!(holds(&second), [(e164(0), "held".into())]);
    let listed = m.app.get_ok(RESERVE, &m.a.live_key).await;
    assert_eq!((listed["total"].as_i64(), listed["data"][0]["id"].as_str()), (Some(2), second["id"].as_str()));
    assert_eq!(listed["data"][0]["numbers"][0]["hold"], "held");
    // Releasing the older one does not free the number: the newer one holds it.
    let first_path = format!("{RESERVE}/{}", first["id"].as_str().unwrap());
    assert_eq!(m.app.call(Method::DELETE, &first_path, &m.a.live_key).await.status(), 204);
    assert_error(m.buy(&m.b.live_key, m.inv[0]).await, 409, "number_unavailable").await;
}

#[tokio::test]
async fn two_organizations_racing_for_the_same_numbers_never_share_a_hold_or_a_sale() {
    let m = market(5).await;
    let forward: Vec<Uuid> = m.inv.clone();
    let backward: Vec<Uuid> = m.inv.iter().rev().copied().collect();
    // Sixteen reservations at once, half in each order (the order rows are locked in must not
    // matter), and sixteen single purchases of the same numbers.
    let mut tasks = Vec::new();
    for i in 0..16 {
        let (key, ids) = if i % 2 == 0 { (&m.a.live_key, &forward) } else { (&m.b.live_key, &backward) };
        let res = m.reserve(key, json!({"inventory_ids": ids}));
        tasks.push(async move { ("reserve", i % 2, res.await.status().as_u16()) });
    }
    let mut buys = Vec::new();
    for i in 0..16 {
        let key = if i % 2 == 0 { &m.a.live_key } else { &m.b.live_key };
        let res = m.buy(key, m.inv[i % 5]);
        buys.push(async move { ("buy", i % 2, res.await.status().as_u16()) });
    }
    let (reserved, bought) = tokio::join!(futures::future::join_all(tasks), futures::future::join_all(buys));
    for (what, _, status) in reserved.iter().chain(&bought) {
        assert!(matches!(status, 201 | 409), "{what}: {status}");
    }
    // Whoever bought a number, it was sold once; whoever holds one now, it is one organization.
    for id in &m.inv {
        assert!(m.app.rows_for_inventory(*id).await <= 1);
    }
    let winners: std::collections::HashSet<usize> =
        reserved.iter().filter(|(_, _, s)| *s == 201).map(|(_, org, _)| *org).collect();
    assert!(winners.len() <= 1, "both organizations hold the same numbers: {reserved:?}");
    // A number bought by the organization that does not hold the rest means the reservation
    // lost: no reservation can have succeeded after it while the number was sold.
    let sold_to: Vec<(usize, u16)> = bought.iter().map(|(_, org, s)| (*org, *s)).collect();
    if let Some(holder) = winners.iter().next() {
        assert!(
            sold_to.iter().all(|(org, s)| *s != 201 || org == holder),
            "a number was sold to the other organization while held: {sold_to:?} {reserved:?}"
        );
    }
}

#[tokio::test]
async fn a_hold_and_a_purchase_racing_for_one_number_never_both_win() {
    let m = market(12).await;
    let mut races = Vec::new();
    for id in &m.inv {
        let hold = m.reserve(&m.a.live_key, json!({"inventory_ids": [id]}));
        let buy = m.buy(&m.b.live_key, *id);
        races.push(async move {
            let (hold, buy) = tokio::join!(hold, buy);
            (hold.status().as_u16(), buy.status().as_u16())
        });
    }
    for (id, (held, bought)) in m.inv.iter().zip(futures::future::join_all(races).await) {
        assert!(matches!((held, bought), (201, 409) | (409, 201)), "{id}: hold {held}, purchase {bought}");
        assert_eq!(m.app.rows_for_inventory(*id).await, i64::from(bought == 201));
    }
}
