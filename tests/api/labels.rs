//! A number's name, tags and deletion lock (issue 14): set by PATCH, shown on the number,
//! filtered on in the list, and the lock refusing release and delete.

use crate::helpers::*;
use kros_numbers::domain::Mode;
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

struct Owned {
    app: TestApp,
    org: Org,
    numbers: Vec<Value>,
    inventory_ids: Vec<Uuid>,
}

/// An app and an org owning `count` numbers (+1415555010N).
async fn owning(count: usize) -> Owned {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let (mut numbers, mut inventory_ids) = (Vec::new(), Vec::new());
    for i in 0..count {
        let inv = app.inventory(Mode::Live, &format!("+1415555010{i}"), "US", "local", 100, 115).await;
        numbers.push(app.buy(&org.live_key, inv).await);
        inventory_ids.push(inv);
    }
    Owned { app, org, numbers, inventory_ids }
}

impl Owned {
    fn path(&self, i: usize) -> String {
        format!("/v1/phone-numbers/{}", self.numbers[i]["id"].as_str().unwrap())
    }

    async fn patch(&self, i: usize, body: Value) -> reqwest::Response {
        self.app.call_json(Method::PATCH, &self.path(i), &self.org.live_key, body).await
    }

    async fn patch_ok(&self, i: usize, body: Value) -> Value {
        let res = self.patch(i, body.clone()).await;
        assert_eq!(res.status(), 200, "PATCH {body}");
        body_json(res).await
    }

    /// The e164s the list answers for `query`, and its total.
    async fn listed(&self, query: &str) -> (Vec<String>, i64) {
        let page = self.app.get_ok(&format!("/v1/phone-numbers?{query}"), &self.org.live_key).await;
        let e164s = page["data"].as_array().unwrap().iter().map(|n| n["e164"].as_str().unwrap().to_string()).collect();
        (e164s, page["total"].as_i64().unwrap())
    }
}

#[tokio::test]
async fn a_new_number_has_no_name_no_tags_and_no_lock() {
    let o = owning(1).await;
    let n = &o.numbers[0];
    assert_eq!((&n["friendly_name"], &n["tags"], &n["deletion_locked"]), (&json!(""), &json!([]), &json!(false)));
    let got = o.app.get_ok(&o.path(0), &o.org.live_key).await;
    assert_eq!((&got["friendly_name"], &got["tags"], &got["deletion_locked"]), (&json!(""), &json!([]), &json!(false)));
}

#[tokio::test]
async fn a_name_and_tags_are_set_kept_and_cleared() {
    let o = owning(1).await;
    let n = o.patch_ok(0, json!({"friendlyName": "  Front desk ", "tags": ["support", "eu-west_1"]})).await;
    assert_eq!((&n["friendly_name"], &n["tags"]), (&json!("Front desk"), &json!(["support", "eu-west_1"])));
    let got = o.app.get_ok(&o.path(0), &o.org.live_key).await;
    assert_eq!((&got["friendly_name"], &got["tags"]), (&json!("Front desk"), &json!(["support", "eu-west_1"])));
    // The other spelling, and a PATCH of another field leaves them alone.
    let n = o.patch_ok(0, json!({"allow_outbound": true})).await;
    assert_eq!(n["tags"], json!(["support", "eu-west_1"]));
    let n = o.patch_ok(0, json!({"friendly_name": "", "tags": []})).await;
    assert_eq!((&n["friendly_name"], &n["tags"]), (&json!(""), &json!([])));
    let n = o.patch_ok(0, json!({"friendlyName": "é".repeat(64), "tags": ["a"]})).await;
    assert_eq!(n["friendly_name"].as_str().unwrap().chars().count(), 64);
}

#[tokio::test]
async fn a_bad_name_or_tag_is_a_400_naming_the_field_and_changes_nothing() {
    let o = owning(1).await;
    o.patch_ok(0, json!({"friendlyName": "Main", "tags": ["keep"]})).await;
    let eleven: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
    for (body, field) in [
        (json!({"friendlyName": "a".repeat(65)}), "friendlyName"),
        (json!({"friendlyName": "bad\u{0007}bell"}), "friendlyName"),
        (json!({"friendlyName": null}), "friendlyName"),
        (json!({"tags": ["Sales"]}), "tags"),
        (json!({"tags": [""]}), "tags"),
        (json!({"tags": ["a b"]}), "tags"),
        (json!({"tags": ["x".repeat(33)]}), "tags"),
        (json!({"tags": ["dup", "dup"]}), "tags"),
        (json!({"tags": eleven}), "tags"),
        (json!({"tags": null}), "tags"),
        (json!({"deletionLocked": null}), "deletionLocked"),
        (json!({"allowInbound": false, "tags": ["OK"]}), "tags"),
    ] {
        let error = assert_error(o.patch(0, body.clone()).await, 400, "validation_error").await;
        assert_eq!(error["error"]["field"], field, "{body}");
    }
    // A tag list that is not a list of strings is refused as a malformed body.
    for body in [json!({"tags": "support"}), json!({"tags": [1]}), json!({"deletionLocked": "yes"})] {
        assert_error(o.patch(0, body).await, 400, "validation_error").await;
    }
    let n = o.app.get_ok(&o.path(0), &o.org.live_key).await;
    assert_eq!(
        (&n["friendly_name"], &n["tags"], &n["allow_inbound"]),
        (&json!("Main"), &json!(["keep"]), &json!(true))
    );
}

#[tokio::test]
async fn the_list_filters_by_tag_and_by_digits_or_name() {
    let o = owning(4).await;
    o.patch_ok(0, json!({"friendlyName": "Front desk", "tags": ["support", "eu"]})).await;
    o.patch_ok(1, json!({"friendlyName": "Back office 100%", "tags": ["support"]})).await;
    o.patch_ok(2, json!({"friendlyName": "Night_line", "tags": ["eu"]})).await;
    // Another organization's numbers never match, whatever they are called or tagged.
    let other = o.app.org("Other").await;
    let inv = o.app.inventory(Mode::Live, "+14155550199", "US", "local", 100, 115).await;
    let theirs = o.app.buy(&other.live_key, inv).await;
    let path = format!("/v1/phone-numbers/{}", theirs["id"].as_str().unwrap());
    let res =
        o.app.call_json(Method::PATCH, &path, &other.live_key, json!({"friendlyName": "Front", "tags": ["support"]}));
    assert_eq!(res.await.status(), 200);

    let (support, total) = o.listed("tag=support").await;
    assert_eq!((support, total), (vec!["+14155550101".to_string(), "+14155550100".to_string()], 2));
    assert_eq!(o.listed("tag=eu&limit=1").await, (vec!["+14155550102".to_string()], 2));
    assert_eq!(o.listed("tag=none").await.1, 0);
    // `q`: a part of the name in any case, or digits of the number.
    assert_eq!(o.listed("q=FRONT").await, (vec!["+14155550100".to_string()], 1));
    assert_eq!(o.listed("q=office%20100%25").await, (vec!["+14155550101".to_string()], 1));
    // LIKE's wildcards are plain characters: `%` and `_` match only themselves.
    assert_eq!(o.listed("q=%25").await.1, 1);
    assert_eq!(o.listed("q=t_l").await, (vec!["+14155550102".to_string()], 1));
    assert_eq!(o.listed("q=e_l").await.1, 0);
    assert_eq!(o.listed("q=%2B1415555010").await.1, 4);
    assert_eq!(o.listed("q=5550103").await, (vec!["+14155550103".to_string()], 1));
    assert_eq!(o.listed("q=desk&tag=eu&country=US&type=local").await.1, 1);
    assert_eq!(o.listed("q=desk&tag=support&type=mobile").await.1, 0);

    for (query, field) in [
        ("tag=Support", "tag"),
        ("tag=", "tag"),
        ("q=", "q"),
        ("q=%20%20", "q"),
        ("action=available&country=US&tag=eu", "tag"),
        ("action=available&country=US&q=desk", "q"),
    ] {
        let res = o.app.call(Method::GET, &format!("/v1/phone-numbers?{query}"), &o.org.live_key).await;
        let error = assert_error(res, 400, "validation_error").await;
        assert_eq!(error["error"]["field"], field, "{query}");
    }
}

#[tokio::test]
async fn a_deletion_locked_number_is_neither_released_nor_deleted() {
    let o = owning(1).await;
    let key = &o.org.live_key;
    let locked = o.patch_ok(0, json!({"deletionLocked": true})).await;
    assert_eq!(locked["deletion_locked"], true);
    let inventory_id = o.inventory_ids[0];

    let release = o.app.call(Method::DELETE, &format!("{}?action=release", o.path(0)), key).await;
    let error = assert_error(release, 409, "conflict").await;
    assert!(error["error"]["message"].as_str().unwrap().contains("deletion-locked"), "{error}");
    let delete = o.app.call(Method::DELETE, &o.path(0), key).await;
    assert_error(delete, 409, "conflict").await;
    // Nothing happened: still owned, still sold, still locked, and other changes still work.
    let n = o.app.get_ok(&o.path(0), key).await;
    assert_eq!((&n["released_at"], &n["deletion_locked"]), (&Value::Null, &json!(true)));
    assert!(!o.app.is_available(inventory_id).await);
    assert_eq!(o.patch_ok(0, json!({"allowOutbound": true})).await["deletion_locked"], true);

    // Unlocked, it can go.
    o.patch_ok(0, json!({"deletionLocked": false})).await;
    let release = o.app.call(Method::DELETE, &format!("{}?action=release", o.path(0)), key).await;
    assert_eq!(release.status(), 200);
    assert!(o.app.is_available(inventory_id).await);
}

#[tokio::test]
async fn name_tag_and_lock_changes_are_updated_events_and_a_patch_that_changes_nothing_is_none() {
    let o = owning(1).await;
    let key = &o.org.live_key;
    let before = o.numbers[0].clone();
    o.patch_ok(0, json!({"friendlyName": "Front desk", "tags": ["support"], "deletionLocked": true})).await;
    // The same values again: nothing changes, so no event and the same updated_at.
    let again = o.patch_ok(0, json!({"friendlyName": "Front desk", "tags": ["support"], "deletionLocked": true})).await;

    let events = o.app.get_ok("/v1/events?type=phone_number.updated", key).await;
    assert_eq!(events["total"], 1, "{events}");
    let data = &events["data"][0]["data"];
    assert_eq!(
        data["previous_attributes"],
        json!({"friendly_name": "", "tags": [], "deletion_locked": false, "updated_at": before["updated_at"]})
    );
    assert_eq!(
        (&data["object"]["friendly_name"], &data["object"]["tags"], &data["object"]["deletion_locked"]),
        (&json!("Front desk"), &json!(["support"]), &json!(true))
    );
    assert_eq!(data["object"]["updated_at"], again["updated_at"]);
}
