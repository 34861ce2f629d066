use crate::helpers::*;
use kros_numbers::domain::Mode;
use reqwest::{Method, Response};
use serde_json::{json, Value};

const LIST: &str = "/v1/phone-numbers";

async fn post_with_key(app: &TestApp, credential: &str, key: &str, body: Value) -> Response {
    app.request(Method::POST, LIST, credential).header("Idempotency-Key", key).json(&body).send().await.unwrap()
}

#[tokio::test]
async fn same_key_and_body_replays_the_first_response_and_buys_nothing() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    let body = json!({"inventory_id": inv});

    let first = post_with_key(&app, &org.live_key, "order-1", body.clone()).await;
    assert_eq!(first.status(), 201);
    let first = body_json(first).await;

    for _ in 0..2 {
        let retry = post_with_key(&app, &org.live_key, "order-1", body.clone()).await;
        assert_eq!(retry.status(), 201);
        assert_eq!(body_json(retry).await, first);
    }
    assert_eq!(app.get_ok(LIST, &org.live_key).await["total"], 1);
    assert_eq!(app.rows_for_org(org.id).await, 1);
}

#[tokio::test]
async fn same_key_replays_even_after_the_number_was_released() {
    // The replay is the stored answer, not a second run of the purchase.
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    let first = body_json(post_with_key(&app, &org.live_key, "k", json!({"inventory_id": inv})).await).await;
    let res = app
        .call(
            Method::DELETE,
            &format!("/v1/phone-numbers/{}?action=release", first["id"].as_str().unwrap()),
            &org.live_key,
        )
        .await;
    assert_eq!(res.status(), 200);

    let retry = post_with_key(&app, &org.live_key, "k", json!({"inventory_id": inv})).await;
    assert_eq!(retry.status(), 201);
    assert_eq!(body_json(retry).await, first);
    assert!(app.is_available(inv).await, "the retry bought nothing");
    assert_eq!(app.rows_for_org(org.id).await, 1);
}

#[tokio::test]
async fn same_key_with_another_body_is_422() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    let inv2 = app.inventory(Mode::Live, "+14155550102", "US", "local", 100, 115).await;
    assert_eq!(post_with_key(&app, &org.live_key, "k", json!({"inventory_id": inv})).await.status(), 201);

    let res = post_with_key(&app, &org.live_key, "k", json!({"inventory_id": inv2})).await;
    assert_error(res, 422, "idempotency_key_reused").await;
    let res = post_with_key(&app, &org.live_key, "k", json!({"inventory_id": inv, "totalCostCents": 215})).await;
    assert_error(res, 422, "idempotency_key_reused").await;
    assert!(app.is_available(inv2).await);
    assert_eq!(app.rows_for_org(org.id).await, 1);
}

#[tokio::test]
async fn same_key_in_another_organization_is_independent() {
    let app = TestApp::spawn().await;
    let a = app.org("A").await;
    let b = app.org("B").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    let inv2 = app.inventory(Mode::Live, "+14155550102", "US", "local", 100, 115).await;

    let res = post_with_key(&app, &a.live_key, "shared-key", json!({"inventory_id": inv})).await;
    assert_eq!(res.status(), 201);
    let res = post_with_key(&app, &b.live_key, "shared-key", json!({"inventory_id": inv2})).await;
    assert_eq!(res.status(), 201);
    let n = body_json(res).await;
    assert_eq!(n["organization_id"], b.id.to_string());
    assert_eq!(n["e164"], "+14155550102");
    // Same key and same body in another organization is that organization's own purchase attempt.
    let res = post_with_key(&app, &b.live_key, "shared-key-2", json!({"inventory_id": inv})).await;
    assert_error(res, 409, "number_unavailable").await;
}

#[tokio::test]
async fn same_key_in_the_other_mode_is_independent() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let live = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    let test = app.inventory(Mode::Test, "+14155550102", "US", "local", 0, 0).await;
    assert_eq!(post_with_key(&app, &org.live_key, "k", json!({"inventory_id": live})).await.status(), 201);
    let res = post_with_key(&app, &org.test_key, "k", json!({"inventory_id": test})).await;
    assert_eq!(res.status(), 201);
    assert_eq!(body_json(res).await["livemode"], false);
}

#[tokio::test]
async fn key_over_255_characters_is_400() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;

    let res = post_with_key(&app, &org.live_key, &"k".repeat(256), json!({"inventory_id": inv})).await;
    let body = assert_error(res, 400, "validation_error").await;
    assert_eq!(body["error"]["field"], "Idempotency-Key");
    assert!(app.is_available(inv).await);

    let res = post_with_key(&app, &org.live_key, &"k".repeat(255), json!({"inventory_id": inv})).await;
    assert_eq!(res.status(), 201, "255 characters is allowed");
}

#[tokio::test]
async fn empty_key_is_400() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    let res = post_with_key(&app, &org.live_key, "", json!({"inventory_id": inv})).await;
    assert_error(res, 400, "validation_error").await;
    assert!(app.is_available(inv).await);
}

#[tokio::test]
async fn replayed_409_stays_409() {
    let app = TestApp::spawn().await;
    let buyer = app.org("Buyer").await;
    let rival = app.org("Rival").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    let rivals = app.buy(&rival.live_key, inv).await;

    let first = post_with_key(&app, &buyer.live_key, "k", json!({"inventory_id": inv})).await;
    let first = assert_error(first, 409, "number_unavailable").await;

    // The number comes back on sale, but the key's answer is already given.
    let res = app
        .call(Method::DELETE, &format!("/v1/phone-numbers/{}", rivals["id"].as_str().unwrap()), &rival.live_key)
        .await;
    assert_eq!(res.status(), 204);
    assert!(app.is_available(inv).await);

    let retry = post_with_key(&app, &buyer.live_key, "k", json!({"inventory_id": inv})).await;
    let retry = assert_error(retry, 409, "number_unavailable").await;
    assert_eq!(retry["error"], first["error"]);
    assert!(app.is_available(inv).await, "the retry bought nothing");
    assert_eq!(app.rows_for_org(buyer.id).await, 0);
}

#[tokio::test]
async fn replayed_error_carries_the_request_id_of_the_retry() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let body = json!({"inventory_id": uuid::Uuid::new_v4()});
    let attempt = |request_id: &'static str| {
        app.request(Method::POST, LIST, &org.live_key)
            .header("Idempotency-Key", "k")
            .header("x-request-id", request_id)
            .json(&body)
            .send()
    };
    let first = assert_error(attempt("first-attempt").await.unwrap(), 404, "not_found").await;
    assert_eq!(first["request_id"], "first-attempt");
    // The replay is the first answer, but the request id is the retry's own (as its header says).
    let retry = assert_error(attempt("second-attempt").await.unwrap(), 404, "not_found").await;
    assert_eq!(retry["request_id"], "second-attempt");
    assert_eq!(retry["error"], first["error"]);
}

#[tokio::test]
async fn validation_errors_do_not_use_up_the_key() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    let res = post_with_key(&app, &org.live_key, "k", json!({"inventory_id": "oops"})).await;
    assert_error(res, 400, "validation_error").await;
    let res = post_with_key(&app, &org.live_key, "k", json!({"inventory_id": inv})).await;
    assert_eq!(res.status(), 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_with_the_same_key_buy_once() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    let body = json!({"inventory_id": inv});

    let responses =
        futures::future::join_all((0..10).map(|_| post_with_key(&app, &org.live_key, "same-key", body.clone()))).await;

    let mut created = Vec::new();
    for res in responses {
        if res.status() == 201 {
            created.push(body_json(res).await);
        } else {
            assert_error(res, 409, "conflict").await;
        }
    }
    assert!(!created.is_empty(), "the first request bought the number");
    assert!(created.iter().all(|n| n == &created[0]), "replays answer the first response");
    assert_eq!(app.rows_for_inventory(inv).await, 1, "never a second purchase");
    assert_eq!(app.rows_for_org(org.id).await, 1);

    // Once it finished, a retry is a replay.
    let res = post_with_key(&app, &org.live_key, "same-key", body).await;
    assert_eq!(res.status(), 201);
    assert_eq!(body_json(res).await, created[0]);
}

// Ages are judged by the database's clock: these tests move a record's `created_at` back.

#[tokio::test]
async fn a_key_is_forgotten_after_a_day() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    let inv2 = app.inventory(Mode::Live, "+14155550102", "US", "local", 100, 115).await;
    assert_eq!(post_with_key(&app, &org.live_key, "k", json!({"inventory_id": inv})).await.status(), 201);
    app.raw.age_idempotency_key(org.id, "k", chrono::Duration::hours(24) + chrono::Duration::seconds(5)).await;

    // A day later the key is free: another body is a new purchase, not a reuse.
    let res = post_with_key(&app, &org.live_key, "k", json!({"inventory_id": inv2})).await;
    assert_eq!(res.status(), 201);
    assert!(res.headers().get("idempotent-replayed").is_none());
    assert_eq!(app.rows_for_org(org.id).await, 2);
}

#[tokio::test]
async fn a_key_whose_first_request_is_still_running_is_409_and_taken_over_after_a_minute() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    // A first request with this body claimed the key and has not answered (yet, or ever).
    let body: kros_numbers::domain::PurchaseBody = serde_json::from_value(json!({"inventory_id": inv})).unwrap();
    let claim = kros_numbers::service::idempotency::Claim::new("k", &body).unwrap();
    app.raw.claim_idempotency_key(org.id, "k", claim.fingerprint()).await;

    let res = post_with_key(&app, &org.live_key, "k", json!({"inventory_id": inv})).await;
    assert_error(res, 409, "conflict").await;
    assert!(app.is_available(inv).await, "nothing bought while the first request may still run");

    // After a minute without an answer, the first request died (its purchase rolled back).
    app.raw.age_idempotency_key(org.id, "k", chrono::Duration::seconds(61)).await;
    let res = post_with_key(&app, &org.live_key, "k", json!({"inventory_id": inv})).await;
    assert_eq!(res.status(), 201, "the key is taken over");
    assert!(!app.is_available(inv).await);
}
