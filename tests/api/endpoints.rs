use crate::helpers::*;
use kros_numbers::domain::Mode;
use kros_numbers::service::calls::CallSettings;
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

// Call targets (issue 28): an endpoint is where calls go.

fn path(id: impl std::fmt::Display) -> String {
    format!("{ENDPOINTS}/{id}")
}

#[tokio::test]
async fn an_endpoint_holds_its_targets_in_order_and_its_failover_timeout() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let body = json!({
        "name": "PBX",
        "targets": ["SIP:PBX.example.com:5070;transport=TCP", "sips:backup@10.0.0.5", "sip:[2001:db8::1]"],
        "failoverTimeoutSecs": 3,
    });
    let res = app.call_json(Method::POST, ENDPOINTS, &org.live_key, body).await;
    assert_eq!(res.status(), 201);
    let created = body_json(res).await;
    assert_eq!(
        created["targets"],
        json!(["sip:pbx.example.com:5070;transport=tcp", "sips:backup@10.0.0.5", "sip:[2001:db8::1]"])
    );
    assert_eq!(created["failover_timeout_secs"], 3);
    assert_eq!(created["updated_at"], created["created_at"]);
    let id = created["id"].as_str().unwrap();
    assert_eq!(app.get_ok(&path(id), &org.live_key).await, created);
    assert_eq!(app.get_ok(ENDPOINTS, &org.live_key).await["data"][0], created);

    // By default: no targets (calls ring registered devices) and 5 s.
    let res = app.call_json(Method::POST, ENDPOINTS, &org.live_key, json!({"name": "Phones"})).await;
    let plain = body_json(res).await;
    assert_eq!((plain["targets"].clone(), plain["failover_timeout_secs"].clone()), (json!([]), json!(5)));
}

#[tokio::test]
async fn bad_targets_and_timeouts_are_refused_with_the_field_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let six: Vec<String> = (0..6).map(|i| format!("sip:10.0.0.{i}")).collect();
    for (body, field) in [
        (json!({"name": "x", "targets": ["http://pbx.example.com"]}), "targets"),
        (json!({"name": "x", "targets": ["sip:pbx.example.com;transport=sctp"]}), "targets"),
        (json!({"name": "x", "targets": ["sip:user:secret@pbx.example.com"]}), "targets"),
        (json!({"name": "x", "targets": ["sip:pbx.example.com:99999"]}), "targets"),
        (json!({"name": "x", "targets": ["sip:10.0.0.1", "sip:10.0.0.1"]}), "targets"),
        (json!({"name": "x", "targets": six}), "targets"),
        (json!({"name": "x", "targets": "sip:10.0.0.1"}), "targets"),
        (json!({"name": "x", "failover_timeout_secs": 0}), "failover_timeout_secs"),
        (json!({"name": "x", "failover_timeout_secs": 31}), "failover_timeout_secs"),
        (json!({"name": "x", "failover_timeout_secs": 2.5}), "failover_timeout_secs"),
    ] {
        let res = app.call_json(Method::POST, ENDPOINTS, &org.live_key, body.clone()).await;
        let refused = assert_error(res, 400, "validation_error").await;
        assert_eq!(refused["error"]["field"], field, "{body}");
    }
    assert_eq!(app.get_ok(ENDPOINTS, &org.live_key).await["total"], 0);
}

#[tokio::test]
async fn targets_on_private_networks_are_refused_unless_the_operator_allows_them() {
    let options = Options { calls: CallSettings::default(), ..Options::default() };
    let app = TestApp::spawn_with(options).await;
    let org = app.org("Acme").await;
    for target in [
        "sip:127.0.0.1",
        "sip:10.1.2.3:5060",
        "sip:192.168.1.20;transport=tcp",
        "sip:169.254.169.254",
        "sip:[::1]",
        "sip:[fd00::1]",
        "sip:pbx@localhost",
    ] {
        let res =
            app.call_json(Method::POST, ENDPOINTS, &org.live_key, json!({"name": "x", "targets": [target]})).await;
        let refused = assert_error(res, 400, "validation_error").await;
        assert_eq!(refused["error"]["field"], "targets", "{target}");
        assert!(refused["error"]["message"].as_str().unwrap().contains("non-public"), "{target}: {refused}");
    }
    // A public address is fine; a change to a private one is refused too.
    let id = {
        let body = json!({"name": "x", "targets": ["sip:8.8.8.8"]});
        let res = app.call_json(Method::POST, ENDPOINTS, &org.live_key, body).await;
        assert_eq!(res.status(), 201);
        body_json(res).await["id"].as_str().unwrap().to_string()
    };
    let res = app.call_json(Method::PATCH, &path(&id), &org.live_key, json!({"targets": ["sip:10.0.0.1"]})).await;
    assert_error(res, 400, "validation_error").await;
    assert_eq!(app.get_ok(&path(&id), &org.live_key).await["targets"], json!(["sip:8.8.8.8"]));
}

#[tokio::test]
async fn a_patch_changes_only_the_fields_it_names() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let body = json!({"name": "PBX", "targets": ["sip:10.0.0.1"], "failover_timeout_secs": 4});
    let created = body_json(app.call_json(Method::POST, ENDPOINTS, &org.live_key, body).await).await;
    let id = created["id"].as_str().unwrap();

    let res = app
        .call_json(Method::PATCH, &path(id), &org.live_key, json!({"targets": ["sip:10.0.0.2", "sip:10.0.0.3"]}))
        .await;
    assert_eq!(res.status(), 200);
    let changed = body_json(res).await;
    assert_eq!(changed["targets"], json!(["sip:10.0.0.2", "sip:10.0.0.3"]));
    assert_eq!((changed["name"].as_str(), changed["failover_timeout_secs"].as_i64()), (Some("PBX"), Some(4)));
    assert!(changed["updated_at"].as_str() > created["updated_at"].as_str());

    let res =
        app.call_json(Method::PATCH, &path(id), &org.live_key, json!({"name": "Main", "failoverTimeoutSecs": 9})).await;
    let changed = body_json(res).await;
    assert_eq!((changed["name"].as_str(), changed["failover_timeout_secs"].as_i64()), (Some("Main"), Some(9)));
    assert_eq!(changed["targets"], json!(["sip:10.0.0.2", "sip:10.0.0.3"]));
    let res = app.call_json(Method::PATCH, &path(id), &org.live_key, json!({"targets": []})).await;
    assert_eq!(body_json(res).await["targets"], json!([]));

    for (body, field) in [
        (json!({"name": null}), "name"),
        (json!({"targets": null}), "targets"),
        (json!({"failover_timeout_secs": null}), "failover_timeout_secs"),
        (json!({"name": ""}), "name"),
        (json!({"uri": "sip:x"}), "uri"),
    ] {
        let res = app.call_json(Method::PATCH, &path(id), &org.live_key, body.clone()).await;
        assert_eq!(assert_error(res, 400, "validation_error").await["error"]["field"], field, "{body}");
    }
}

#[tokio::test]
async fn another_organizations_or_modes_endpoint_is_not_found() {
    let app = TestApp::spawn().await;
    let (a, b) = (app.org("A").await, app.org("B").await);
    let id = app.endpoint(&a.live_key, "A's PBX").await;
    for key in [&b.live_key, &a.test_key] {
        assert_error(app.call(Method::GET, &path(id), key).await, 404, "not_found").await;
        let res = app.call_json(Method::PATCH, &path(id), key, json!({"name": "mine"})).await;
        assert_error(res, 404, "not_found").await;
        assert_error(app.call(Method::DELETE, &path(id), key).await, 404, "not_found").await;
    }
    assert_error(app.call(Method::GET, &path(uuid::Uuid::new_v4()), &a.live_key).await, 404, "not_found").await;
    assert_error(app.call(Method::GET, &path("nope"), &a.live_key).await, 400, "validation_error").await;
    assert_eq!(app.get_ok(&path(id), &a.live_key).await["name"], "A's PBX");
}

#[tokio::test]
async fn an_endpoint_that_numbers_route_to_is_not_deleted_until_they_leave_it() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let id = app.endpoint(&org.live_key, "PBX").await;
    let mut numbers = Vec::new();
    for e164 in ["+14155550101", "+14155550102"] {
        let inv = app.inventory(Mode::Live, e164, "US", "local", 100, 115).await;
        let body = json!({"inventory_id": inv, "endpointId": id});
        let res = app.call_json(Method::POST, "/v1/phone-numbers", &org.live_key, body).await;
        numbers.push(body_json(res).await["id"].as_str().unwrap().to_string());
    }
    let refused = assert_error(app.call(Method::DELETE, &path(id), &org.live_key).await, 409, "conflict").await;
    assert!(refused["error"]["message"].as_str().unwrap().starts_with("2 numbers route"), "{refused}");

    // A released number no longer counts; a detached one neither.
    let release = format!("/v1/phone-numbers/{}?action=release", numbers[0]);
    assert_eq!(app.call(Method::DELETE, &release, &org.live_key).await.status(), 200);
    let refused = assert_error(app.call(Method::DELETE, &path(id), &org.live_key).await, 409, "conflict").await;
    assert!(refused["error"]["message"].as_str().unwrap().starts_with("1 number routes"), "{refused}");
    let detach = json!({"endpointId": null});
    let res = app.call_json(Method::PATCH, &format!("/v1/phone-numbers/{}", numbers[1]), &org.live_key, detach).await;
    assert_eq!(res.status(), 200);

    assert_eq!(app.call(Method::DELETE, &path(id), &org.live_key).await.status(), 204);
    assert_error(app.call(Method::GET, &path(id), &org.live_key).await, 404, "not_found").await;
    assert_error(app.call(Method::DELETE, &path(id), &org.live_key).await, 404, "not_found").await;
}
