use crate::helpers::*;
use kros_numbers::domain::Mode;
use reqwest::Method;
use serde_json::{json, Value};

const LIST: &str = "/v1/phone-numbers";

async fn post_raw(app: &TestApp, key: &str, path: &str, body: impl Into<reqwest::Body>) -> reqwest::Response {
    app.request(Method::POST, path, key).header("content-type", "application/json").body(body).send().await.unwrap()
}

#[tokio::test]
async fn bad_json_body_is_400_validation_error() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    for body in ["{not json", "{\"inventory_id\": ", "", "   ", "{} {}", "[1, 2]", "null"] {
        let res = post_raw(&app, &org.live_key, LIST, body).await;
        assert_error(res, 400, "validation_error").await;
        let res = post_raw(&app, &org.live_key, "/v1/endpoints", body).await;
        assert_error(res, 400, "validation_error").await;
    }
}

#[tokio::test]
async fn body_that_is_not_utf8_is_400() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let res = post_raw(&app, &org.live_key, LIST, vec![b'{', 0xff, 0xfe, b'}']).await;
    assert_error(res, 400, "validation_error").await;
}

#[tokio::test]
async fn wrong_method_is_405_method_not_allowed_json() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let res = app.call_json(Method::PUT, LIST, &org.live_key, json!({})).await;
    assert_error(res, 405, "method_not_allowed").await;
    let res = app.call(Method::DELETE, "/v1/endpoints", &org.live_key).await;
    assert_error(res, 405, "method_not_allowed").await;
    let res = app.call(Method::POST, &format!("{LIST}/{}", uuid::Uuid::new_v4()), &org.live_key).await;
    assert_error(res, 405, "method_not_allowed").await;
    // Without credentials too: the method is wrong whoever asks.
    let res = app.client.put(app.url(LIST)).send().await.unwrap();
    assert_error(res, 405, "method_not_allowed").await;
}

#[tokio::test]
async fn unknown_path_under_v1_is_404_not_found_json() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    for path in ["/v1/nope", "/v1/phone-number", "/v1/phone-numbers/a/b", "/v1/endpoints/x/y", "/v1", "/v1/"] {
        let res = app.call(Method::GET, path, &org.live_key).await;
        assert_error(res, 404, "not_found").await;
    }
    let res = app.client.post(app.url("/v1/nope")).send().await.unwrap();
    assert_error(res, 404, "not_found").await;
}

#[tokio::test]
async fn body_over_64_kib_is_413_payload_too_large() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    let big = format!("{{\"inventory_id\": \"{inv}\", \"pad\": \"{}\"}}", "x".repeat(70 * 1024));
    let res = post_raw(&app, &org.live_key, LIST, big.clone()).await;
    assert_error(res, 413, "payload_too_large").await;
    assert!(app.is_available(inv).await);

    let n = app.buy(&org.live_key, inv).await;
    let res = app
        .request(Method::PATCH, &format!("{LIST}/{}", n["id"].as_str().unwrap()), &org.live_key)
        .header("content-type", "application/json")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    assert_error(res, 413, "payload_too_large").await;
    let res = post_raw(&app, &org.live_key, "/v1/endpoints", big).await;
    assert_error(res, 413, "payload_too_large").await;
}

#[tokio::test]
async fn body_just_under_64_kib_is_read() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    let json = format!("{{\"inventory_id\": \"{inv}\"}}");
    let padded = format!("{json}{}", " ".repeat(64 * 1024 - json.len()));
    assert_eq!(padded.len(), 64 * 1024);
    let res = post_raw(&app, &org.live_key, LIST, padded).await;
    assert_eq!(res.status(), 201);
}

#[tokio::test]
async fn x_request_id_is_echoed_when_the_client_sends_one() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let res =
        app.request(Method::GET, LIST, &org.live_key).header("x-request-id", "client-chosen-42").send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-request-id"], "client-chosen-42");

    let res = app
        .request(Method::GET, "/v1/phone-numbers?limit=0", &org.live_key)
        .header("x-request-id", "client-chosen-43")
        .send()
        .await
        .unwrap();
    let body = assert_error(res, 400, "validation_error").await;
    assert_eq!(body["request_id"], "client-chosen-43");
}

#[tokio::test]
async fn x_request_id_is_generated_when_the_client_sends_none() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let mut seen = Vec::new();
    for _ in 0..2 {
        let res = app.call(Method::GET, LIST, &org.live_key).await;
        let id = res.headers().get("x-request-id").expect("x-request-id").to_str().unwrap().to_string();
        assert!(!id.is_empty());
        seen.push(id);
    }
    assert_ne!(seen[0], seen[1], "each request has its own id");
    let res = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert!(res.headers().get("x-request-id").is_some());
}

#[tokio::test]
async fn every_error_body_has_the_request_id_of_its_header() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    // assert_error checks `request_id` against `x-request-id` for each of these.
    let body = assert_error(app.client.get(app.url(LIST)).send().await.unwrap(), 401, "unauthorized").await;
    assert!(body["request_id"].as_str().is_some_and(|id| !id.is_empty()), "{body}");
    assert_error(app.call(Method::GET, "/v1/nope", &org.live_key).await, 404, "not_found").await;
    assert_error(app.call(Method::PUT, LIST, &org.live_key).await, 405, "method_not_allowed").await;
    let res = app.call(Method::GET, &format!("{LIST}/{}", uuid::Uuid::new_v4()), &org.live_key).await;
    assert_error(res, 404, "not_found").await;
    assert_error(post_raw(&app, &org.live_key, LIST, "{").await, 400, "validation_error").await;
}

#[tokio::test]
async fn error_body_has_exactly_the_contract_shape() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let body =
        assert_error(app.call(Method::GET, "/v1/phone-numbers?limit=0", &org.live_key).await, 400, "validation_error")
            .await;
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 2, "error and request_id only: {body}");
    assert_eq!(body["error"]["field"], "limit");
    assert_eq!(body["error"]["message"], "limit must be between 1 and 100");
    // `field` is left out when an error is about no field.
    let body = assert_error(app.call(Method::GET, "/v1/nope", &org.live_key).await, 404, "not_found").await;
    assert!(body["error"].get("field").is_none_or(Value::is_null), "{body}");
}

#[tokio::test]
async fn healthz_and_readyz_are_200() {
    let app = TestApp::spawn().await;
    let res = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let res = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

/// The document is reviewed like code: any change to the contract shows in the snapshot's diff
/// (`cargo insta review`, or `INSTA_UPDATE=always`, accepts one). Each documented operation is
/// served, and the router serves none that is not documented (both come from one list).
#[tokio::test]
async fn openapi_document_matches_its_snapshot_and_every_entry_is_served() {
    let app = TestApp::spawn().await;
    let res = app.client.get(app.url("/v1/openapi.json")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let doc = body_json(res).await;
    insta::assert_json_snapshot!("openapi", doc);
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("a path item").keys() {
            let url = app.url(&path.replace("{id}", &uuid::Uuid::new_v4().to_string()));
            let res = app.client.request(method.to_uppercase().parse().unwrap(), url).send().await.unwrap();
            assert_eq!(res.status(), 401, "{method} {path}: served, and only with a credential");
            operations += 1;
        }
    }
    assert_eq!(
        operations, 28,
        "the contract's seven operations, three more of endpoints, the SIP credentials' rotation, three of events, \
         seven of webhook endpoints, four of reservations, three of orders"
    );
}

#[tokio::test]
async fn database_down_is_503_unavailable_never_500() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    app.close_database().await;

    assert_error(app.call(Method::GET, LIST, &org.live_key).await, 503, "unavailable").await;
    let res = app.call_json(Method::POST, "/v1/endpoints", &org.live_key, json!({"name": "x"})).await;
    assert_error(res, 503, "unavailable").await;
    assert_error(app.client.get(app.url("/readyz")).send().await.unwrap(), 503, "unavailable").await;
    // Liveness does not depend on the database.
    assert_eq!(app.client.get(app.url("/healthz")).send().await.unwrap().status(), 200);
}
