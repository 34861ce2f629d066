use crate::helpers::*;
use kros_numbers::domain::Mode;
use reqwest::Method;
use serde_json::{json, Value};

const ENDPOINTS: &str = "/v1/endpoints";

fn names(page: &Value) -> Vec<String> {
    page["data"].as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn create_endpoint_is_201_with_id_name_livemode_created_at() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let res = app.call_json(Method::POST, ENDPOINTS, &org.live_key, json!({"name": "Main PBX"})).await;
    assert_eq!(res.status(), 201);
    let e = body_json(res).await;
    assert!(e["id"].as_str().unwrap().parse::<uuid::Uuid>().is_ok());
    assert_eq!(e["name"], "Main PBX");
    assert_eq!(e["livemode"], true);
    chrono::DateTime::parse_from_rfc3339(e["created_at"].as_str().unwrap()).expect("RFC 3339");

    let res = app.call_json(Method::POST, ENDPOINTS, &org.test_key, json!({"name": "Sandbox"})).await;
    assert_eq!(res.status(), 201);
    assert_eq!(body_json(res).await["livemode"], false);
}

#[tokio::test]
async fn endpoint_name_must_be_1_to_100_characters() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    for name in [String::new(), "   ".to_string(), "a".repeat(101), "é".repeat(101)] {
        let res = app.call_json(Method::POST, ENDPOINTS, &org.live_key, json!({"name": name})).await;
        let body = assert_error(res, 400, "validation_error").await;
        assert_eq!(body["error"]["field"], "name");
    }
    for name in ["a".to_string(), "a".repeat(100), "é".repeat(100)] {
        let res = app.call_json(Method::POST, ENDPOINTS, &org.live_key, json!({"name": name})).await;
        assert_eq!(res.status(), 201, "{} characters", name.chars().count());
    }
    assert_eq!(app.get_ok(ENDPOINTS, &org.live_key).await["total"], 3, "refused names were not stored");
}

#[tokio::test]
async fn endpoint_body_must_have_only_a_string_name() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    for body in [json!({}), json!({"name": 5}), json!({"name": null}), json!({"name": "x", "uri": "sip:x@y"})] {
        let res = app.call_json(Method::POST, ENDPOINTS, &org.live_key, body.clone()).await;
        assert_error(res, 400, "validation_error").await;
    }
    let res = app.call_json(Method::POST, ENDPOINTS, &org.live_key, json!({"name": "x", "uri": "sip:x@y"})).await;
    assert_eq!(assert_error(res, 400, "validation_error").await["error"]["field"], "uri");
    let res = app.call_json(Method::POST, ENDPOINTS, &org.live_key, json!({})).await;
    assert_eq!(assert_error(res, 400, "validation_error").await["error"]["field"], "name");
    assert_eq!(app.get_ok(ENDPOINTS, &org.live_key).await["total"], 0);
}

#[tokio::test]
async fn endpoint_list_is_an_envelope_newest_first() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    for name in ["first", "second", "third"] {
        app.endpoint(&org.live_key, name).await;
    }
    let page = app.get_ok(ENDPOINTS, &org.live_key).await;
    assert_eq!(page["total"], 3);
    assert_eq!(page["limit"], 20);
    assert_eq!(page["offset"], 0);
    assert_eq!(names(&page), ["third", "second", "first"]);
    let e = &page["data"][0];
    for field in ["id", "name", "livemode", "created_at"] {
        assert!(e.get(field).is_some(), "{field} in {e}");
    }

    let page = app.get_ok("/v1/endpoints?limit=2&offset=1", &org.live_key).await;
    assert_eq!(page["total"], 3);
    assert_eq!(page["limit"], 2);
    assert_eq!(page["offset"], 1);
    assert_eq!(names(&page), ["second", "first"]);
}

#[tokio::test]
async fn endpoint_list_limit_and_offset_rules() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=abc", "limit"),
        ("offset=-1", "offset"),
        ("country=US", "country"),
    ] {
        let res = app.call(Method::GET, &format!("/v1/endpoints?{query}"), &org.live_key).await;
        let body = assert_error(res, 400, "validation_error").await;
        assert_eq!(body["error"]["field"], field, "{query}");
    }
    assert_eq!(app.get_ok("/v1/endpoints?limit=100", &org.live_key).await["limit"], 100);
}

#[tokio::test]
async fn endpoints_are_per_organization() {
    let app = TestApp::spawn().await;
    let a = app.org("A").await;
    let b = app.org("B").await;
    app.endpoint(&a.live_key, "A's PBX").await;
    let page = app.get_ok(ENDPOINTS, &b.live_key).await;
    assert_eq!(page["total"], 0);
    assert_eq!(page["data"], json!([]));
    assert_eq!(names(&app.get_ok(ENDPOINTS, &a.live_key).await), ["A's PBX"]);
}

#[tokio::test]
async fn endpoints_are_per_mode() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let live_endpoint = app.endpoint(&org.live_key, "Live PBX").await;
    app.endpoint(&org.test_key, "Test PBX").await;
    assert_eq!(names(&app.get_ok(ENDPOINTS, &org.live_key).await), ["Live PBX"]);
    assert_eq!(names(&app.get_ok(ENDPOINTS, &org.test_key).await), ["Test PBX"]);

    // A test number cannot be attached to a live endpoint.
    let inv = app.inventory(Mode::Test, "+14155550101", "US", "local", 0, 0).await;
    let res = app
        .call_json(
            Method::POST,
            "/v1/phone-numbers",
            &org.test_key,
            json!({"inventory_id": inv, "endpointId": live_endpoint}),
        )
        .await;
    assert_eq!(assert_error(res, 400, "validation_error").await["error"]["field"], "endpointId");
    assert!(app.is_available(inv).await);
}

#[tokio::test]
async fn endpoints_require_credentials() {
    let app = TestApp::spawn().await;
    assert_error(app.client.get(app.url(ENDPOINTS)).send().await.unwrap(), 401, "unauthorized").await;
    let res = app.client.post(app.url(ENDPOINTS)).json(&json!({"name": "x"})).send().await.unwrap();
    assert_error(res, 401, "unauthorized").await;
}

#[tokio::test]
async fn session_user_can_create_and_list_endpoints() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let token = app.jwt(app.user("ada@example.com", org.id).await);
    let res = app.call_json(Method::POST, ENDPOINTS, &token, json!({"name": "From the dashboard"})).await;
    assert_eq!(res.status(), 201);
    assert_eq!(names(&app.get_ok(ENDPOINTS, &org.live_key).await), ["From the dashboard"]);
}
