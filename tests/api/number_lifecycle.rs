use crate::helpers::*;
use kros_numbers::domain::Mode;
use kros_numbers::service::audit;
use reqwest::{Method, Response};
use serde_json::{json, Value};
use std::time::Duration;
use uuid::Uuid;

const LIST: &str = "/v1/phone-numbers";

/// An app, an org and one bought number.
struct Fixture {
    app: TestApp,
    org: Org,
    inv: Uuid,
    number: Value,
}

impl Fixture {
    async fn new() -> Fixture {
        let app = TestApp::spawn().await;
        let org = app.org("Acme").await;
        let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
        let number = app.buy(&org.live_key, inv).await;
        Fixture { app, org, inv, number }
    }

    fn id(&self) -> Uuid {
        self.number["id"].as_str().unwrap().parse().unwrap()
    }

    fn path(&self) -> String {
        format!("/v1/phone-numbers/{}", self.id())
    }

    async fn get(&self) -> Value {
        self.app.get_ok(&self.path(), &self.org.live_key).await
    }

    async fn patch(&self, body: Value) -> Response {
        self.app.call_json(Method::PATCH, &self.path(), &self.org.live_key, body).await
    }

    async fn patch_ok(&self, body: Value) -> Value {
        let res = self.patch(body.clone()).await;
        assert_eq!(res.status(), 200, "PATCH {body}");
        body_json(res).await
    }

    async fn release(&self) -> Response {
        self.app.call(Method::DELETE, &format!("{}?action=release", self.path()), &self.org.live_key).await
    }

    async fn delete(&self) -> Response {
        self.app.call(Method::DELETE, &self.path(), &self.org.live_key).await
    }
}

/// A state recorded in the audit log (JSON).
fn state(recorded: &Option<sqlx::types::Json<Value>>) -> Value {
    recorded.as_ref().expect("a state").0.clone()
}

// ---------------------------------------------------------------------------------------------
// GET

#[tokio::test]
async fn get_includes_sip_credentials() {
    let f = Fixture::new().await;
    let n = f.get().await;
    let creds = &n["sip_credentials"];
    assert!(creds["username"].as_str().is_some_and(|u| !u.is_empty()), "{creds}");
    assert!(creds["password"].as_str().is_some_and(|p| p.len() >= 16), "a real secret: {creds}");
    assert_eq!(creds["domain"], SIP_DOMAIN);
    assert_eq!(n["sip_uri"], format!("sip:+14155550101@{SIP_DOMAIN}"));
    // Everything else is the number object as bought.
    for (k, v) in f.number.as_object().unwrap() {
        assert_eq!(&n[k], v, "{k}");
    }
    // Stable: the same credentials each time.
    assert_eq!(f.get().await["sip_credentials"], *creds);
}

#[tokio::test]
async fn a_released_number_withholds_its_sip_password_and_the_old_one_is_changed() {
    let f = Fixture::new().await;
    let before = f.get().await["sip_credentials"].clone();
    let id = uuid::Uuid::parse_str(f.number["id"].as_str().unwrap()).unwrap();
    let stored = || async { f.app.raw.sip_password_of(id).await };
    let stored_before = stored().await;
    f.release().await;
    let after = f.get().await["sip_credentials"].clone();
    assert!(after["password"].is_null(), "withheld once released: {after}");
    assert_eq!(after["username"], before["username"]);
    assert_ne!(stored().await, stored_before, "the old password is replaced in the database");
}

#[tokio::test]
async fn a_rotation_answers_a_new_password_which_get_shows_from_then_on() {
    let f = Fixture::new().await;
    let before = f.get().await;
    let rotate = format!("/v1/phone-numbers/{}/sip-credentials/rotate", f.number["id"].as_str().unwrap());
    let res = f.app.call(Method::POST, &rotate, &f.org.live_key).await;
    assert_eq!(res.status(), 200);
    let rotated = body_json(res).await;
    let (old, new) = (&before["sip_credentials"], &rotated["sip_credentials"]);
    assert_eq!(new["username"], old["username"], "the user name stays");
    assert!(new["password"].as_str().is_some_and(|p| p.len() >= 16 && Some(p) != old["password"].as_str()));
    assert_eq!(f.get().await["sip_credentials"], *new);
    assert!(rotated["updated_at"].as_str() > before["updated_at"].as_str());
    // Another organization's number, a test key on a live number: not found; released: 409.
    let other = f.app.org("Other").await;
    assert_error(f.app.call(Method::POST, &rotate, &other.live_key).await, 404, "not_found").await;
    assert_error(f.app.call(Method::POST, &rotate, &f.org.test_key).await, 404, "not_found").await;
    f.release().await;
    assert_error(f.app.call(Method::POST, &rotate, &f.org.live_key).await, 409, "conflict").await;
}

#[tokio::test]
async fn lists_and_other_responses_never_include_the_sip_password() {
    let f = Fixture::new().await;
    let password = f.get().await["sip_credentials"]["password"].as_str().unwrap().to_string();

    let list = f.app.call(Method::GET, LIST, &f.org.live_key).await.text().await.unwrap();
    assert!(!list.contains(&password), "list leaks the password: {list}");
    assert!(!list.contains("sip_credentials"));
    let patched = f.patch(json!({"allowOutbound": true})).await.text().await.unwrap();
    assert!(!patched.contains(&password) && !patched.contains("sip_credentials"), "{patched}");
    let released = f.release().await.text().await.unwrap();
    assert!(!released.contains(&password) && !released.contains("sip_credentials"), "{released}");
}

#[tokio::test]
async fn malformed_number_id_is_400() {
    let f = Fixture::new().await;
    let key = &f.org.live_key;
    for path in ["/v1/phone-numbers/not-a-uuid", "/v1/phone-numbers/123", "/v1/phone-numbers/%20"] {
        let body = assert_error(f.app.call(Method::GET, path, key).await, 400, "validation_error").await;
        assert_eq!(body["error"]["field"], "id");
        let res = f.app.call_json(Method::PATCH, path, key, json!({"allowInbound": false})).await;
        assert_error(res, 400, "validation_error").await;
        assert_error(f.app.call(Method::DELETE, path, key).await, 400, "validation_error").await;
        let res = f.app.call(Method::DELETE, &format!("{path}?action=release"), key).await;
        assert_error(res, 400, "validation_error").await;
    }
}

#[tokio::test]
async fn unknown_number_id_is_404() {
    let f = Fixture::new().await;
    let path = format!("/v1/phone-numbers/{}", Uuid::new_v4());
    let key = &f.org.live_key;
    assert_error(f.app.call(Method::GET, &path, key).await, 404, "not_found").await;
    let res = f.app.call_json(Method::PATCH, &path, key, json!({"allowInbound": false})).await;
    assert_error(res, 404, "not_found").await;
    assert_error(f.app.call(Method::DELETE, &path, key).await, 404, "not_found").await;
    let res = f.app.call(Method::DELETE, &format!("{path}?action=release"), key).await;
    assert_error(res, 404, "not_found").await;
}

// ---------------------------------------------------------------------------------------------
// PATCH

#[tokio::test]
async fn patch_endpoint_id_attaches_and_null_detaches() {
    let f = Fixture::new().await;
    let endpoint = f.app.endpoint(&f.org.live_key, "Main PBX").await;

    let n = f.patch_ok(json!({"endpointId": endpoint})).await;
    assert_eq!(n["endpoint_id"], endpoint.to_string());
    assert_eq!(f.get().await["endpoint_id"], endpoint.to_string());

    // Absent leaves it alone.
    f.patch_ok(json!({"allowOutbound": true})).await;
    assert_eq!(f.get().await["endpoint_id"], endpoint.to_string());

    let n = f.patch_ok(json!({"endpointId": null})).await;
    assert_eq!(n["endpoint_id"], Value::Null);
    assert_eq!(f.get().await["endpoint_id"], Value::Null);
}

#[tokio::test]
async fn patch_unknown_or_malformed_endpoint_is_400() {
    let f = Fixture::new().await;
    let res = f.patch(json!({"endpointId": Uuid::new_v4()})).await;
    assert_eq!(assert_error(res, 400, "validation_error").await["error"]["field"], "endpointId");
    let res = f.patch(json!({"endpointId": "pbx"})).await;
    assert_eq!(assert_error(res, 400, "validation_error").await["error"]["field"], "endpointId");
    assert_eq!(f.get().await["endpoint_id"], Value::Null);
}

#[tokio::test]
async fn patch_allow_inbound_is_persisted() {
    let f = Fixture::new().await;
    assert_eq!(f.patch_ok(json!({"allowInbound": false})).await["allow_inbound"], false);
    assert_eq!(f.get().await["allow_inbound"], false);
    assert_eq!(f.patch_ok(json!({"allowInbound": true})).await["allow_inbound"], true);
    assert_eq!(f.get().await["allow_inbound"], true);
}

#[tokio::test]
async fn patch_allow_outbound_is_persisted() {
    let f = Fixture::new().await;
    assert_eq!(f.patch_ok(json!({"allowOutbound": true})).await["allow_outbound"], true);
    let n = f.get().await;
    assert_eq!(n["allow_outbound"], true);
    assert_eq!(n["allow_inbound"], true, "other fields untouched");
}

#[tokio::test]
async fn patch_status_is_persisted() {
    let f = Fixture::new().await;
    assert_eq!(f.patch_ok(json!({"status": "inactive"})).await["status"], "inactive");
    let n = f.get().await;
    assert_eq!(n["status"], "inactive");
    assert_eq!(n["released_at"], Value::Null, "inactive is not released");
    // Still listed as assigned, and can be reactivated.
    assert_eq!(f.app.get_ok(LIST, &f.org.live_key).await["total"], 1);
    assert_eq!(f.patch_ok(json!({"status": "active"})).await["status"], "active");
    assert_eq!(f.get().await["status"], "active");
}

#[tokio::test]
async fn patch_accepts_snake_case_aliases() {
    let f = Fixture::new().await;
    let endpoint = f.app.endpoint(&f.org.live_key, "Main PBX").await;
    let n = f.patch_ok(json!({"allow_inbound": false, "allow_outbound": true, "endpoint_id": endpoint})).await;
    assert_eq!(n["allow_inbound"], false);
    assert_eq!(n["allow_outbound"], true);
    assert_eq!(n["endpoint_id"], endpoint.to_string());
}

#[tokio::test]
async fn patch_moves_updated_at_and_keeps_created_at() {
    let f = Fixture::new().await;
    let mut previous = f.number["updated_at"].as_str().unwrap().to_string();
    for body in [json!({"allowInbound": false}), json!({"allowOutbound": true}), json!({"status": "inactive"})] {
        tokio::time::sleep(Duration::from_millis(5)).await;
        let n = f.patch_ok(body).await;
        let updated_at = n["updated_at"].as_str().unwrap().to_string();
        let (before, after) = (
            chrono::DateTime::parse_from_rfc3339(&previous).unwrap(),
            chrono::DateTime::parse_from_rfc3339(&updated_at).unwrap(),
        );
        assert!(after > before, "updated_at moved: {previous} -> {updated_at}");
        assert_eq!(n["created_at"], f.number["created_at"]);
        assert_eq!(f.get().await["updated_at"], updated_at, "persisted");
        previous = updated_at;
    }
}

#[tokio::test]
async fn patch_invalid_status_is_400_naming_allowed_values() {
    let f = Fixture::new().await;
    for status in [json!("paused"), json!("Active"), json!(""), json!(null)] {
        let res = f.patch(json!({"status": status})).await;
        let body = assert_error(res, 400, "validation_error").await;
        assert_eq!(body["error"]["field"], "status");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("active") && message.contains("inactive"), "{message}");
    }
    assert_eq!(f.get().await["status"], "active");
}

#[tokio::test]
async fn patch_null_or_mistyped_allow_flags_are_400() {
    let f = Fixture::new().await;
    for (body, field) in [
        (json!({"allowInbound": null}), "allowInbound"),
        (json!({"allowOutbound": null}), "allowOutbound"),
        (json!({"allowInbound": "false"}), "allowInbound"),
        (json!({"allowOutbound": 1}), "allowOutbound"),
    ] {
        let res = f.patch(body).await;
        assert_eq!(assert_error(res, 400, "validation_error").await["error"]["field"], field);
    }
    let n = f.get().await;
    assert_eq!(n["allow_inbound"], true);
    assert_eq!(n["allow_outbound"], false);
}

#[tokio::test]
async fn patch_unknown_field_is_400() {
    let f = Fixture::new().await;
    let res = f.patch(json!({"allowInbond": false})).await;
    assert_eq!(assert_error(res, 400, "validation_error").await["error"]["field"], "allowInbond");
    let res = f.patch(json!({"allowInbound": false, "e164": "+14155550102"})).await;
    assert_eq!(assert_error(res, 400, "validation_error").await["error"]["field"], "e164");
    assert_eq!(f.get().await["allow_inbound"], true, "nothing changed");
}

#[tokio::test]
async fn patch_with_empty_object_changes_nothing() {
    let f = Fixture::new().await;
    let n = f.patch_ok(json!({})).await;
    assert_eq!(n, f.number);
}

#[tokio::test]
async fn patch_with_a_body_that_is_not_an_object_is_400() {
    let f = Fixture::new().await;
    for body in [json!([]), json!("allowInbound"), json!(null)] {
        assert_error(f.patch(body).await, 400, "validation_error").await;
    }
}

#[tokio::test]
async fn patch_on_a_released_number_is_409_conflict() {
    let f = Fixture::new().await;
    assert_eq!(f.release().await.status(), 200);
    let released = f.get().await;
    for body in [json!({"allowInbound": false}), json!({"status": "active"}), json!({})] {
        assert_error(f.patch(body).await, 409, "conflict").await;
    }
    assert_eq!(f.get().await, released, "nothing changed");
}

// ---------------------------------------------------------------------------------------------
// Release and delete

#[tokio::test]
async fn release_keeps_the_record_inactive_with_released_at() {
    let f = Fixture::new().await;
    let res = f.release().await;
    assert_eq!(res.status(), 200);
    let n = body_json(res).await;
    assert_eq!(n["id"], f.number["id"]);
    assert_eq!(n["status"], "inactive");
    let released_at = n["released_at"].as_str().expect("released_at set");
    chrono::DateTime::parse_from_rfc3339(released_at).expect("RFC 3339");
    // The record stays.
    let stored = f.get().await;
    assert_eq!(stored["status"], "inactive");
    assert_eq!(stored["released_at"], released_at);
    assert_eq!(f.app.rows_for_org(f.org.id).await, 1);
}

#[tokio::test]
async fn release_makes_the_inventory_number_available_again() {
    let f = Fixture::new().await;
    assert_eq!(f.release().await.status(), 200);
    assert!(f.app.is_available(f.inv).await);
    let page = f.app.get_ok("/v1/phone-numbers?action=available&country=US", &f.org.live_key).await;
    assert_eq!(page["total"], 1);

    let other = f.app.org("Other").await;
    let n = f.app.buy(&other.live_key, f.inv).await;
    assert_eq!(n["organization_id"], other.id.to_string());
    assert_ne!(n["id"], f.number["id"], "a new record for the new owner");
    // The first owner's released record is untouched.
    assert_eq!(f.get().await["status"], "inactive");
}

#[tokio::test]
async fn releasing_again_returns_the_same_object() {
    let f = Fixture::new().await;
    let first = body_json(f.release().await).await;
    tokio::time::sleep(Duration::from_millis(5)).await;
    let res = f.release().await;
    assert_eq!(res.status(), 200);
    assert_eq!(body_json(res).await, first);
    assert_eq!(audit::history(&f.app.ctx, f.id()).await.unwrap().len(), 2, "purchase and one release");
}

#[tokio::test]
async fn delete_is_204_and_the_record_is_gone() {
    let f = Fixture::new().await;
    let res = f.delete().await;
    assert_eq!(res.status(), 204);
    assert!(res.text().await.unwrap().is_empty(), "204 has no body");
    assert_error(f.app.call(Method::GET, &f.path(), &f.org.live_key).await, 404, "not_found").await;
    assert_eq!(f.app.rows_for_org(f.org.id).await, 0);
    assert_error(f.delete().await, 404, "not_found").await;
}

#[tokio::test]
async fn delete_makes_the_inventory_number_available_again() {
    let f = Fixture::new().await;
    assert_eq!(f.delete().await.status(), 204);
    assert!(f.app.is_available(f.inv).await);
    let other = f.app.org("Other").await;
    assert_eq!(f.app.buy(&other.live_key, f.inv).await["e164"], "+14155550101");
}

#[tokio::test]
async fn deleting_a_released_number_leaves_its_new_owner_alone() {
    let f = Fixture::new().await;
    assert_eq!(f.release().await.status(), 200);
    let other = f.app.org("Other").await;
    let theirs = f.app.buy(&other.live_key, f.inv).await;

    assert_eq!(f.delete().await.status(), 204);

    assert!(!f.app.is_available(f.inv).await, "still sold to the new owner");
    let path = format!("/v1/phone-numbers/{}", theirs["id"].as_str().unwrap());
    assert_eq!(f.app.get_ok(&path, &other.live_key).await["status"], "active");
    let res = f.app.call_json(Method::POST, LIST, &f.org.live_key, json!({"inventory_id": f.inv})).await;
    assert_error(res, 409, "number_unavailable").await;
}

#[tokio::test]
async fn delete_with_another_action_is_400() {
    let f = Fixture::new().await;
    for query in ["?action=bogus", "?action=", "?action=RELEASE", "?force=true"] {
        let res = f.app.call(Method::DELETE, &format!("{}{query}", f.path()), &f.org.live_key).await;
        assert_error(res, 400, "validation_error").await;
    }
    let n = f.get().await;
    assert_eq!(n["status"], "active", "nothing happened");
    assert!(!f.app.is_available(f.inv).await);
}

// ---------------------------------------------------------------------------------------------
// Audit log

#[tokio::test]
async fn audit_log_records_purchase_update_and_release() {
    let f = Fixture::new().await;
    let actor = format!("api_key:{}", f.app.key_id(&f.org.live_key).await);
    f.patch_ok(json!({"allowInbound": false})).await;
    assert_eq!(f.release().await.status(), 200);
    // Refused changes are not changes.
    assert_error(f.patch(json!({"allowInbound": true})).await, 409, "conflict").await;

    let history = audit::history(&f.app.ctx, f.id()).await.unwrap();
    let actions: Vec<&str> = history.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["purchase", "update", "release"]);
    for entry in &history {
        assert_eq!(entry.actor.to_string(), actor);
        assert_eq!(entry.organization_id, f.org.id);
        assert_eq!(entry.phone_number_id, Some(f.id()));
        assert!(entry.livemode);
    }

    let purchase = &history[0];
    assert!(purchase.before_state.is_none());
    assert_eq!(state(&purchase.after_state)["id"], f.number["id"]);
    assert_eq!(state(&purchase.after_state)["status"], "active");

    let update = &history[1];
    assert_eq!(state(&update.before_state)["allow_inbound"], true);
    assert_eq!(state(&update.after_state)["allow_inbound"], false);

    let release = &history[2];
    assert_eq!(state(&release.before_state)["status"], "active");
    assert_eq!(state(&release.after_state)["status"], "inactive");
    assert!(state(&release.after_state)["released_at"].is_string());
    for entry in &history {
        for s in [&entry.before_state, &entry.after_state].into_iter().flatten() {
            assert!(!s.0.to_string().contains("sip_credentials"), "the audit log keeps no SIP password");
        }
    }
}

#[tokio::test]
async fn audit_log_records_delete_and_outlives_the_record() {
    let f = Fixture::new().await;
    let actor = format!("api_key:{}", f.app.key_id(&f.org.live_key).await);
    assert_eq!(f.delete().await.status(), 204);

    let history = audit::history(&f.app.ctx, f.id()).await.unwrap();
    let actions: Vec<&str> = history.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["purchase", "delete"]);
    let delete = &history[1];
    assert_eq!(delete.actor.to_string(), actor);
    assert_eq!(state(&delete.before_state)["id"], f.number["id"]);
    assert_eq!(state(&delete.before_state)["e164"], "+14155550101");
    assert!(delete.after_state.is_none());
}

#[tokio::test]
async fn audit_log_names_a_session_user_as_actor() {
    let f = Fixture::new().await;
    let user = f.app.user("ada@example.com", f.org.id).await;
    let token = f.app.jwt(user);
    let res = f.app.call_json(Method::PATCH, &f.path(), &token, json!({"allowOutbound": true})).await;
    assert_eq!(res.status(), 200);
    let history = audit::history(&f.app.ctx, f.id()).await.unwrap();
    assert_eq!(history.last().unwrap().action.as_str(), "update");
    assert_eq!(history.last().unwrap().actor.to_string(), format!("user:{user}"));
}
