use crate::helpers::*;
use kros_numbers::domain::Mode;
use reqwest::{Method, Response};
use serde_json::{json, Value};
use uuid::Uuid;

const LIST: &str = "/v1/phone-numbers";

fn with_org(
    app: &TestApp,
    method: Method,
    path: &str,
    credential: &str,
    org: impl ToString,
) -> reqwest::RequestBuilder {
    app.request(method, path, credential).header("x-organization-id", org.to_string())
}

async fn send(req: reqwest::RequestBuilder) -> Response {
    req.send().await.expect("request")
}

// ---------------------------------------------------------------------------------------------
// x-organization-id

#[tokio::test]
async fn jwt_user_picks_one_of_their_organizations_with_x_organization_id() {
    let app = TestApp::spawn().await;
    let a = app.org("A").await;
    let b = app.org("B").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    app.buy(&b.live_key, inv).await;
    let user = app.user("ada@example.com", a.id).await;
    app.add_member(user, b.id).await;
    let token = app.jwt(user);

    let res = send(with_org(&app, Method::GET, LIST, &token, b.id)).await;
    assert_eq!(res.status(), 200);
    let page = body_json(res).await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["data"][0]["organization_id"], b.id.to_string());

    let res = send(with_org(&app, Method::GET, LIST, &token, a.id)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(body_json(res).await["total"], 0);

    // A purchase lands in the organization named by the header.
    let inv2 = app.inventory(Mode::Live, "+14155550102", "US", "local", 100, 115).await;
    let res = send(with_org(&app, Method::POST, LIST, &token, a.id).json(&json!({"inventory_id": inv2}))).await;
    assert_eq!(res.status(), 201);
    assert_eq!(body_json(res).await["organization_id"], a.id.to_string());
}

#[tokio::test]
async fn jwt_user_naming_a_non_member_organization_is_403() {
    let app = TestApp::spawn().await;
    let mine = app.org("Mine").await;
    let theirs = app.org("Theirs").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    app.buy(&theirs.live_key, inv).await;
    let token = app.jwt(app.user("ada@example.com", mine.id).await);

    assert_error(send(with_org(&app, Method::GET, LIST, &token, theirs.id)).await, 403, "forbidden").await;
    assert_error(send(with_org(&app, Method::GET, LIST, &token, Uuid::new_v4())).await, 403, "forbidden").await;
    let res = send(with_org(&app, Method::POST, LIST, &token, theirs.id).json(&json!({"inventory_id": inv}))).await;
    assert_error(res, 403, "forbidden").await;
}

#[tokio::test]
async fn jwt_user_without_x_organization_id_uses_oldest_membership() {
    let app = TestApp::spawn().await;
    // Created first, but joined second: the membership order decides, not the organization's age.
    let joined_second = app.org("Joined second").await;
    let joined_first = app.org("Joined first").await;
    let user = app.user("ada@example.com", joined_first.id).await;
    app.add_member(user, joined_second.id).await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    app.buy(&joined_first.live_key, inv).await;
    let token = app.jwt(user);

    let page = app.get_ok(LIST, &token).await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["data"][0]["organization_id"], joined_first.id.to_string());

    let inv2 = app.inventory(Mode::Live, "+14155550102", "US", "local", 100, 115).await;
    let n = body_json(app.call_json(Method::POST, LIST, &token, json!({"inventory_id": inv2})).await).await;
    assert_eq!(n["organization_id"], joined_first.id.to_string());
}

#[tokio::test]
async fn malformed_x_organization_id_is_400() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let token = app.jwt(app.user("ada@example.com", org.id).await);
    for credential in [&token, &org.live_key] {
        let body = assert_error(
            send(with_org(&app, Method::GET, LIST, credential, "not-a-uuid")).await,
            400,
            "validation_error",
        )
        .await;
        assert_eq!(body["error"]["field"], "x-organization-id");
    }
}

#[tokio::test]
async fn api_key_with_its_own_organization_id_works() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    app.buy(&org.live_key, inv).await;
    let res = send(with_org(&app, Method::GET, LIST, &org.live_key, org.id)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(body_json(res).await["total"], 1);
}

#[tokio::test]
async fn api_key_with_another_organization_id_is_403() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let other = app.org("Other").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    app.buy(&other.live_key, inv).await;
    assert_error(send(with_org(&app, Method::GET, LIST, &org.live_key, other.id)).await, 403, "forbidden").await;
    assert_error(send(with_org(&app, Method::GET, LIST, &org.live_key, Uuid::new_v4())).await, 403, "forbidden").await;
}

// ---------------------------------------------------------------------------------------------
// Modes

#[tokio::test]
async fn jwt_is_live_by_default_and_x_kros_mode_test_shows_test_data() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let live_inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    let test_inv = app.inventory(Mode::Test, "+14155550102", "US", "local", 0, 0).await;
    app.buy(&org.live_key, live_inv).await;
    app.buy(&org.test_key, test_inv).await;
    let token = app.jwt(app.user("ada@example.com", org.id).await);

    let live = app.get_ok(LIST, &token).await;
    assert_eq!(live["total"], 1);
    assert_eq!(live["data"][0]["e164"], "+14155550101");
    assert_eq!(live["data"][0]["livemode"], true);

    let res = send(app.request(Method::GET, LIST, &token).header("x-kros-mode", "test")).await;
    assert_eq!(res.status(), 200);
    let test = body_json(res).await;
    assert_eq!(test["total"], 1);
    assert_eq!(test["data"][0]["e164"], "+14155550102");
    assert_eq!(test["data"][0]["livemode"], false);

    // And a dashboard purchase in test mode buys test inventory.
    let test_inv2 = app.inventory(Mode::Test, "+14155550103", "US", "local", 0, 0).await;
    let res = send(
        app.request(Method::POST, LIST, &token).header("x-kros-mode", "test").json(&json!({"inventory_id": test_inv2})),
    )
    .await;
    assert_eq!(res.status(), 201);
    assert_eq!(body_json(res).await["livemode"], false);
}

#[tokio::test]
async fn unknown_x_kros_mode_is_400() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let token = app.jwt(app.user("ada@example.com", org.id).await);
    let res = send(app.request(Method::GET, LIST, &token).header("x-kros-mode", "sandbox")).await;
    let body = assert_error(res, 400, "validation_error").await;
    assert_eq!(body["error"]["field"], "x-kros-mode");
}

#[tokio::test]
async fn api_key_cannot_switch_mode_with_x_kros_mode() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let res = send(app.request(Method::GET, LIST, &org.test_key).header("x-kros-mode", "live")).await;
    assert_error(res, 403, "forbidden").await;
    let res = send(app.request(Method::GET, LIST, &org.test_key).header("x-kros-mode", "test")).await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn test_key_cannot_buy_live_inventory() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let live_inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;

    let res = app.call_json(Method::POST, LIST, &org.test_key, json!({"inventory_id": live_inv})).await;
    assert_error(res, 404, "not_found").await;
    let res = app
        .call_json(Method::POST, LIST, &org.test_key, json!({"e164": "+14155550101", "country": "US", "type": "local"}))
        .await;
    assert_error(res, 404, "not_found").await;
    assert!(app.is_available(live_inv).await);
    assert_eq!(app.rows_for_org(org.id).await, 0);

    // The reverse: a live key cannot buy test inventory.
    let test_inv = app.inventory(Mode::Test, "+14155550102", "US", "local", 0, 0).await;
    let res = app.call_json(Method::POST, LIST, &org.live_key, json!({"inventory_id": test_inv})).await;
    assert_error(res, 404, "not_found").await;
    assert!(app.is_available(test_inv).await);
}

#[tokio::test]
async fn available_inventory_is_separated_by_mode() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    app.inventory(Mode::Test, "+14155550102", "US", "local", 0, 0).await;

    let live = app.get_ok("/v1/phone-numbers?action=available&country=US", &org.live_key).await;
    assert_eq!(live["total"], 1);
    assert_eq!(live["data"][0]["e164"], "+14155550101");
    let test = app.get_ok("/v1/phone-numbers?action=available&country=US", &org.test_key).await;
    assert_eq!(test["total"], 1);
    assert_eq!(test["data"][0]["e164"], "+14155550102");
}

#[tokio::test]
async fn the_same_number_can_exist_in_both_modes_independently() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let live_inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    let test_inv = app.inventory(Mode::Test, "+14155550101", "US", "local", 0, 0).await;
    let test_number = app.buy(&org.test_key, test_inv).await;
    assert_eq!(test_number["livemode"], false);
    assert!(app.is_available(live_inv).await, "buying in test mode leaves live inventory alone");
    let live_number = app.buy(&org.live_key, live_inv).await;
    assert_eq!(live_number["livemode"], true);
}

#[tokio::test]
async fn assigned_lists_are_separated_by_mode() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let live_inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    let test_inv = app.inventory(Mode::Test, "+14155550102", "US", "local", 0, 0).await;
    let live = app.buy(&org.live_key, live_inv).await;
    let test = app.buy(&org.test_key, test_inv).await;

    let page = app.get_ok(LIST, &org.live_key).await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["data"][0]["id"], live["id"]);
    let page = app.get_ok(LIST, &org.test_key).await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["data"][0]["id"], test["id"]);
}

#[tokio::test]
async fn live_number_id_is_404_for_the_test_key_of_the_same_organization() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    let id = app.buy(&org.live_key, inv).await["id"].as_str().unwrap().to_string();
    let path = format!("/v1/phone-numbers/{id}");

    assert_error(app.call(Method::GET, &path, &org.test_key).await, 404, "not_found").await;
    let res = app.call_json(Method::PATCH, &path, &org.test_key, json!({"allowInbound": false})).await;
    assert_error(res, 404, "not_found").await;
    let res = app.call(Method::DELETE, &format!("{path}?action=release"), &org.test_key).await;
    assert_error(res, 404, "not_found").await;
    assert_error(app.call(Method::DELETE, &path, &org.test_key).await, 404, "not_found").await;

    let n = app.get_ok(&path, &org.live_key).await;
    assert_eq!(n["status"], "active");
    assert_eq!(n["allow_inbound"], true);
}

#[tokio::test]
async fn every_number_object_carries_livemode() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    for (mode, key, e164, expected) in
        [(Mode::Live, &org.live_key, "+14155550101", true), (Mode::Test, &org.test_key, "+14155550102", false)]
    {
        let inv = app.inventory(mode, e164, "US", "local", 100, 115).await;
        let bought = app.buy(key, inv).await;
        assert_eq!(bought["livemode"], expected);
        let path = format!("/v1/phone-numbers/{}", bought["id"].as_str().unwrap());
        assert_eq!(app.get_ok(&path, key).await["livemode"], expected);
        assert_eq!(app.get_ok(LIST, key).await["data"][0]["livemode"], expected);
        let patched = body_json(app.call_json(Method::PATCH, &path, key, json!({"allowOutbound": true})).await).await;
        assert_eq!(patched["livemode"], expected);
        let released = body_json(app.call(Method::DELETE, &format!("{path}?action=release"), key).await).await;
        assert_eq!(released["livemode"], expected);
    }
}

// ---------------------------------------------------------------------------------------------
// Another organization's numbers and endpoints

struct CrossOrg {
    app: TestApp,
    owner: Org,
    intruder: Org,
    inventory_id: Uuid,
    number: Value,
}

impl CrossOrg {
    async fn new() -> CrossOrg {
        let app = TestApp::spawn().await;
        let owner = app.org("Owner").await;
        let intruder = app.org("Intruder").await;
        let inventory_id = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
        let number = app.buy(&owner.live_key, inventory_id).await;
        CrossOrg { app, owner, intruder, inventory_id, number }
    }

    fn path(&self) -> String {
        format!("/v1/phone-numbers/{}", self.number["id"].as_str().unwrap())
    }

    /// The intruder's answer about the owner's number must be exactly the answer about an id
    /// that never existed.
    async fn assert_like_unknown(&self, method: Method, query: &str, body: Option<Value>) {
        let mut answers = Vec::new();
        for path in [self.path(), format!("/v1/phone-numbers/{}", Uuid::new_v4())] {
            let mut req = self.app.request(method.clone(), &format!("{path}{query}"), &self.intruder.live_key);
            if let Some(body) = &body {
                req = req.json(body);
            }
            let error = assert_error(req.send().await.unwrap(), 404, "not_found").await;
            answers.push(error["error"].clone());
        }
        assert_eq!(answers[0], answers[1], "another organization's number looks exactly like an unknown id");
    }

    /// The owner still sees the number exactly as it was bought.
    async fn assert_owner_sees_it_unchanged(&self) {
        let now = self.app.get_ok(&self.path(), &self.owner.live_key).await;
        for field in ["id", "status", "allow_inbound", "allow_outbound", "endpoint_id", "released_at", "updated_at"] {
            assert_eq!(now[field], self.number[field], "{field}");
        }
        assert_eq!(self.app.get_ok(LIST, &self.owner.live_key).await["total"], 1);
        assert!(!self.app.is_available(self.inventory_id).await, "still sold");
    }
}

#[tokio::test]
async fn another_organizations_number_is_404_on_get() {
    let t = CrossOrg::new().await;
    t.assert_like_unknown(Method::GET, "", None).await;
    t.assert_owner_sees_it_unchanged().await;
}

#[tokio::test]
async fn another_organizations_number_is_404_on_patch() {
    let t = CrossOrg::new().await;
    let changes = json!({"allowInbound": false, "allowOutbound": true, "status": "inactive", "endpointId": null});
    t.assert_like_unknown(Method::PATCH, "", Some(changes)).await;
    t.assert_owner_sees_it_unchanged().await;
}

#[tokio::test]
async fn another_organizations_number_is_404_on_delete() {
    let t = CrossOrg::new().await;
    t.assert_like_unknown(Method::DELETE, "", None).await;
    t.assert_owner_sees_it_unchanged().await;
}

#[tokio::test]
async fn another_organizations_number_is_404_on_release() {
    let t = CrossOrg::new().await;
    t.assert_like_unknown(Method::DELETE, "?action=release", None).await;
    t.assert_owner_sees_it_unchanged().await;
}

#[tokio::test]
async fn another_organizations_number_is_not_listed() {
    let t = CrossOrg::new().await;
    let page = t.app.get_ok(LIST, &t.intruder.live_key).await;
    assert_eq!(page["total"], 0);
    assert_eq!(page["data"], json!([]));
}

#[tokio::test]
async fn another_organizations_endpoint_in_purchase_is_400() {
    let app = TestApp::spawn().await;
    let buyer = app.org("Buyer").await;
    let other = app.org("Other").await;
    let theirs = app.endpoint(&other.live_key, "Their PBX").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;

    let res =
        app.call_json(Method::POST, LIST, &buyer.live_key, json!({"inventory_id": inv, "endpointId": theirs})).await;
    let body = assert_error(res, 400, "validation_error").await;
    assert_eq!(body["error"]["field"], "endpointId");
    assert!(app.is_available(inv).await, "nothing was bought");
    assert_eq!(app.rows_for_inventory(inv).await, 0);
}

#[tokio::test]
async fn another_organizations_endpoint_in_patch_is_400() {
    let app = TestApp::spawn().await;
    let buyer = app.org("Buyer").await;
    let other = app.org("Other").await;
    let theirs = app.endpoint(&other.live_key, "Their PBX").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    let n = app.buy(&buyer.live_key, inv).await;
    let path = format!("/v1/phone-numbers/{}", n["id"].as_str().unwrap());

    let res = app.call_json(Method::PATCH, &path, &buyer.live_key, json!({"endpointId": theirs})).await;
    let body = assert_error(res, 400, "validation_error").await;
    assert_eq!(body["error"]["field"], "endpointId");
    assert_eq!(app.get_ok(&path, &buyer.live_key).await["endpoint_id"], Value::Null);
}
