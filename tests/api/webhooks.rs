//! Events and webhooks: every change is an event, readable over the API and delivered to a real
//! receiver on loopback, signed as Standard Webhooks (verified with the specification's own
//! library), retried, scoped to its organization and mode, and never sent to private addresses
//! unless the operator allows them.

use crate::helpers::*;
use crate::webhook_receiver::{Received, Receiver};
use kros_numbers::domain::Mode;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;
use uuid::Uuid;

const ENDPOINTS: &str = "/v1/webhook-endpoints";
const WAIT: Duration = Duration::from_secs(15);

/// An app, an organization and a receiver subscribed to `events` (all if None).
struct Hooked {
    app: TestApp,
    org: Org,
    receiver: Receiver,
    endpoint: Value,
    secret: String,
}

impl Hooked {
    async fn new(events: Option<Value>) -> Hooked {
        Self::with(TestApp::spawn().await, events).await
    }

    async fn with(app: TestApp, events: Option<Value>) -> Hooked {
        let org = app.org("Acme").await;
        let receiver = Receiver::start().await;
        let mut body = json!({"url": receiver.url, "description": "Routing system"});
        if let Some(events) = events {
            body["events"] = events;
        }
        let res = app.call_json(Method::POST, ENDPOINTS, &org.live_key, body).await;
        assert_eq!(res.status(), 201);
        let endpoint = body_json(res).await;
        let secret = endpoint["secret"].as_str().unwrap().to_string();
        Hooked { app, org, receiver, endpoint, secret }
    }

    fn endpoint_path(&self) -> String {
        format!("{ENDPOINTS}/{}", self.endpoint["id"].as_str().unwrap())
    }

    /// Buys a fresh live number; returns it.
    async fn buy(&self, e164: &str) -> Value {
        let inv = self.app.inventory(Mode::Live, e164, "US", "local", 100, 115).await;
        self.app.buy(&self.org.live_key, inv).await
    }

    async fn attempts(&self) -> Value {
        self.app.get_ok(&format!("{}/deliveries", self.endpoint_path()), &self.org.live_key).await
    }
}

/// An app whose delivery worker disables an endpoint failing for `after`.
async fn disabling_after(after: Duration) -> TestApp {
    let webhooks = kros_numbers::service::webhooks::WebhookSettings { disable_after: after, ..test_webhook_settings() };
    TestApp::spawn_with(Options { webhooks, ..Options::default() }).await
}

/// A URL on a port nobody listens on.
fn unreachable_url() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    format!("http://127.0.0.1:{port}/hooks")
}

fn verified(received: &Received, secret: &str) -> Value {
    received.verify(secret).unwrap_or_else(|e| panic!("signature of {}: {e}", received.webhook_id()));
    received.json()
}

#[tokio::test]
async fn every_change_is_an_event_delivered_signed_and_listed_newest_first() {
    let h = Hooked::new(None).await;
    assert!(h.secret.starts_with("whsec_"), "{}", h.secret);
    assert_eq!(h.endpoint["events"], json!(["*"]));
    let number = h.buy("+14155550101").await;
    let path = format!("/v1/phone-numbers/{}", number["id"].as_str().unwrap());
    let outbound = number["allow_outbound"].as_bool().unwrap();
    let res = h.app.call_json(Method::PATCH, &path, &h.org.live_key, json!({"allowOutbound": !outbound})).await;
    assert_eq!(res.status(), 200);
    assert_eq!(h.app.call(Method::DELETE, &format!("{path}?action=release"), &h.org.live_key).await.status(), 200);
    assert_eq!(h.app.call(Method::DELETE, &path, &h.org.live_key).await.status(), 204);

    let received = h.receiver.wait_for(4, WAIT).await;
    let mut types: Vec<String> =
        received.iter().map(|r| verified(r, &h.secret)["type"].as_str().unwrap().to_string()).collect();
    types.sort();
    assert_eq!(
        types,
        ["phone_number.deleted", "phone_number.purchased", "phone_number.released", "phone_number.updated"]
    );
    for r in &received {
        let body = r.json();
        assert_eq!(r.webhook_id(), body["id"].as_str().unwrap(), "webhook-id is the event id");
        assert_eq!(r.header("content-type"), "application/json");
        assert_eq!(body["data"]["object"]["id"], number["id"]);
        assert!(!String::from_utf8_lossy(&r.body).contains("password"), "never the SIP password");
        // The body is the event as the API shows it.
        let event = h.app.get_ok(&format!("/v1/events/{}", body["id"].as_str().unwrap()), &h.org.live_key).await;
        assert_eq!(event, body);
    }

    let listed = h.app.get_ok("/v1/events", &h.org.live_key).await;
    assert_eq!(listed["total"], 4);
    let listed_types: Vec<&str> =
        listed["data"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        listed_types,
        ["phone_number.deleted", "phone_number.released", "phone_number.updated", "phone_number.purchased"]
    );
    let updated = &listed["data"][2];
    let previous = json!({"allow_outbound": outbound, "updated_at": number["updated_at"]});
    assert_eq!(updated["data"]["previous_attributes"], previous);
    assert_eq!(updated["data"]["object"]["allow_outbound"], !outbound);
    assert_eq!(updated["actor"], format!("api_key:{}", h.app.key_id(&h.org.live_key).await));
    assert!(listed["data"][3]["data"].get("previous_attributes").is_none());
    assert_eq!(listed["data"][0]["livemode"], true);

    let only = h.app.get_ok("/v1/events?type=phone_number.released", &h.org.live_key).await;
    assert_eq!((only["total"].as_i64(), only["data"][0]["type"].as_str()), (Some(1), Some("phone_number.released")));
    let of_number =
        h.app.get_ok(&format!("/v1/events?phone_number_id={}", number["id"].as_str().unwrap()), &h.org.live_key).await;
    assert_eq!(of_number["total"], 4);
    let page = h.app.get_ok("/v1/events?limit=1&offset=3", &h.org.live_key).await;
    assert_eq!((page["total"].as_i64(), page["data"][0]["type"].as_str()), (Some(4), Some("phone_number.purchased")));

    // Every attempt is recorded, newest first.
    let attempts = h.attempts().await;
    assert_eq!(attempts["total"], 4);
    let first = &attempts["data"][0];
    assert_eq!((first["succeeded"].as_bool(), first["response_status"].as_i64()), (Some(true), Some(200)));
    assert_eq!(first["response_body"], "thanks");
    assert!(first["latency_ms"].as_i64().unwrap() >= 0);
}

#[tokio::test]
async fn a_failed_delivery_is_retried_with_the_same_webhook_id_until_it_succeeds() {
    let h = Hooked::new(None).await;
    h.receiver.answer(&[500, 503]);
    h.buy("+14155550102").await;
    let received = h.receiver.wait_for(3, WAIT).await;
    assert_eq!(received.len(), 3);
    let id = received[0].webhook_id();
    assert!(received.iter().all(|r| r.webhook_id() == id), "one webhook-id across retries");
    for r in &received {
        verified(r, &h.secret);
    }
    // Each retry is signed anew: the timestamps are not older than the first.
    let stamps: Vec<i64> = received.iter().map(|r| r.header("webhook-timestamp").parse().unwrap()).collect();
    assert!(stamps.windows(2).all(|w| w[0] <= w[1]), "{stamps:?}");
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(h.receiver.received().len(), 3, "nothing more once delivered");
    let attempts = h.attempts().await;
    let statuses: Vec<(bool, i64)> = attempts["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["succeeded"].as_bool().unwrap(), a["response_status"].as_i64().unwrap()))
        .collect();
    assert_eq!(statuses, [(true, 200), (false, 503), (false, 500)]);
    assert_eq!(attempts["data"][2]["response_body"], "try again later");
}

#[tokio::test]
async fn an_endpoint_that_never_answers_is_given_up_then_disabled_with_the_reason() {
    let app = disabling_after(Duration::from_millis(500)).await;
    let dead = unreachable_url();
    let org = app.org("Acme").await;
    let res = app.call_json(Method::POST, ENDPOINTS, &org.live_key, json!({"url": dead})).await;
    let endpoint = body_json(res).await;
    let path = format!("{ENDPOINTS}/{}", endpoint["id"].as_str().unwrap());
    let inv = app.inventory(Mode::Live, "+14155550103", "US", "local", 100, 115).await;
    app.buy(&org.live_key, inv).await;

    // Three attempts (the first and two retries), then the endpoint is disabled.
    let deadline = std::time::Instant::now() + WAIT;
    let disabled = loop {
        let now = app.get_ok(&path, &org.live_key).await;
        if now["enabled"] == false {
            break now;
        }
        assert!(std::time::Instant::now() < deadline, "never disabled: {now}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(disabled["disabled_reason"].as_str().unwrap().contains("failed"), "{disabled}");
    let attempts = app.get_ok(&format!("{path}/deliveries"), &org.live_key).await;
    let first = &attempts["data"][0];
    assert_eq!(first["succeeded"], false);
    assert!(first["response_status"].is_null());
    assert!(first["error"].as_str().unwrap().contains("connect"), "{first}");
    tokio::time::sleep(Duration::from_millis(800)).await;
    let total = app.get_ok(&format!("{path}/deliveries"), &org.live_key).await["total"].as_i64().unwrap();
    assert!(total <= 3, "at most the schedule's attempts: {total}");

    // Enabling it again clears the reason.
    let res = app.call_json(Method::PATCH, &path, &org.live_key, json!({"enabled": true})).await;
    let enabled = body_json(res).await;
    assert_eq!((enabled["enabled"].as_bool(), enabled["disabled_reason"].is_null()), (Some(true), true));
}

#[tokio::test]
async fn an_endpoint_gets_only_the_types_it_asked_for_and_its_own_mode() {
    let h = Hooked::new(Some(json!(["phone_number.released", "phone_number.released"]))).await;
    assert_eq!(h.endpoint["events"], json!(["phone_number.released"]));
    // A test-mode endpoint of the same organization, for every type.
    let test_receiver = Receiver::start().await;
    let res = h.app.call_json(Method::POST, ENDPOINTS, &h.org.test_key, json!({"url": test_receiver.url})).await;
    assert_eq!(res.status(), 201);
    let test_endpoint = body_json(res).await;
    assert_eq!(test_endpoint["livemode"], false);

    let number = h.buy("+14155550104").await;
    let path = format!("/v1/phone-numbers/{}?action=release", number["id"].as_str().unwrap());
    assert_eq!(h.app.call(Method::DELETE, &path, &h.org.live_key).await.status(), 200);
    let received = h.receiver.wait_for(1, WAIT).await;
    assert_eq!(verified(&received[0], &h.secret)["type"], "phone_number.released");
    // A test-mode purchase reaches only the test endpoint.
    let test_inv = h.app.inventory(Mode::Test, "+14155550105", "US", "local", 100, 115).await;
    h.app.buy(&h.org.test_key, test_inv).await;
    let test_received = test_receiver.wait_for(1, WAIT).await;
    let secret = test_endpoint["secret"].as_str().unwrap();
    let event = verified(&test_received[0], secret);
    assert_eq!((event["type"].as_str(), event["livemode"].as_bool()), (Some("phone_number.purchased"), Some(false)));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(h.receiver.received().len(), 1, "live endpoint: only the release");
    assert_eq!(test_receiver.received().len(), 1, "test endpoint: no live events");
    // Each mode lists its own events.
    assert_eq!(h.app.get_ok("/v1/events", &h.org.test_key).await["total"], 1);
    assert_eq!(h.app.get_ok("/v1/events", &h.org.live_key).await["total"], 2);
}

#[tokio::test]
async fn another_organizations_events_and_endpoints_are_not_found() {
    let h = Hooked::new(None).await;
    h.buy("+14155550106").await;
    let event_id = h.app.get_ok("/v1/events", &h.org.live_key).await["data"][0]["id"].as_str().unwrap().to_string();
    let other = h.app.org("Other").await;
    assert_eq!(h.app.get_ok("/v1/events", &other.live_key).await["total"], 0);
    for (method, path) in [
        (Method::GET, format!("/v1/events/{event_id}")),
        (Method::POST, format!("/v1/events/{event_id}/redeliver")),
        (Method::GET, h.endpoint_path()),
        (Method::PATCH, h.endpoint_path()),
        (Method::DELETE, h.endpoint_path()),
        (Method::POST, format!("{}/rotate-secret", h.endpoint_path())),
        (Method::GET, format!("{}/deliveries", h.endpoint_path())),
    ] {
        let res = h.app.request(method.clone(), &path, &other.live_key).json(&json!({})).send().await.unwrap();
        assert_error(res, 404, "not_found").await;
    }
    // The same organization's other mode does not see them either.
    let res = h.app.call(Method::GET, &format!("/v1/events/{event_id}"), &h.org.test_key).await;
    assert_error(res, 404, "not_found").await;
    assert_eq!(h.app.get_ok(ENDPOINTS, &other.live_key).await["total"], 0);
    assert_eq!(h.app.get_ok(ENDPOINTS, &h.org.live_key).await["total"], 1);
    let listed = h.app.get_ok(ENDPOINTS, &h.org.live_key).await;
    assert!(listed["data"][0].get("secret").is_none(), "the secret is shown once");
}

#[tokio::test]
async fn a_rotated_secret_signs_beside_the_old_one_and_redelivery_sends_the_same_id() {
    let h = Hooked::new(None).await;
    h.buy("+14155550107").await;
    let first = h.receiver.wait_for(1, WAIT).await.remove(0);
    verified(&first, &h.secret);

    let res = h.app.call(Method::POST, &format!("{}/rotate-secret", h.endpoint_path()), &h.org.live_key).await;
    assert_eq!(res.status(), 200);
    let new_secret = body_json(res).await["secret"].as_str().unwrap().to_string();
    assert_ne!(new_secret, h.secret);

    let res = h.app.call(Method::POST, &format!("/v1/events/{}/redeliver", first.webhook_id()), &h.org.live_key).await;
    assert_eq!(res.status(), 202);
    let redelivery = body_json(res).await;
    assert_eq!(redelivery["endpoint_ids"], json!([h.endpoint["id"]]));
    let again = h.receiver.wait_for(2, WAIT).await.remove(1);
    assert_eq!(again.webhook_id(), first.webhook_id());
    assert_eq!(again.header("webhook-signature").split(' ').count(), 2, "both signatures while both are valid");
    verified(&again, &new_secret);
    verified(&again, &h.secret);
    assert!(again.verify("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_err(), "an unrelated secret does not verify");

    // Redelivery to one named endpoint; an unknown one is not found, a malformed one a 400.
    let path = format!("/v1/events/{}/redeliver", first.webhook_id());
    let res =
        h.app.call_json(Method::POST, &path, &h.org.live_key, json!({"webhookEndpointId": h.endpoint["id"]})).await;
    assert_eq!(res.status(), 202);
    h.receiver.wait_for(3, WAIT).await;
    let res =
        h.app.call_json(Method::POST, &path, &h.org.live_key, json!({"webhook_endpoint_id": Uuid::new_v4()})).await;
    let err = assert_error(res, 404, "not_found").await;
    assert!(err["error"]["message"].as_str().unwrap().contains("webhookEndpointId"), "{err}");
    let res = h.app.call_json(Method::POST, &path, &h.org.live_key, json!({"webhookEndpointId": "x"})).await;
    assert_eq!(assert_error(res, 400, "validation_error").await["error"]["field"], "webhookEndpointId");
}

#[tokio::test]
async fn endpoints_are_created_changed_and_deleted_with_clear_errors_for_bad_input() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    for (body, field) in [
        (json!({}), "url"),
        (json!({"url": "not a url"}), "url"),
        (json!({"url": "ftp://example.com/x"}), "url"),
        (json!({"url": "https://user:pw@example.com/x"}), "url"),
        (json!({"url": "https://example.com/x", "events": []}), "events"),
        (json!({"url": "https://example.com/x", "events": ["phone_number.bought"]}), "events"),
        (json!({"url": "https://example.com/x", "description": "a\u{0}b"}), "description"),
        (json!({"url": "https://example.com/x", "secret": "mine"}), "secret"),
    ] {
        let res = app.call_json(Method::POST, ENDPOINTS, &org.live_key, body.clone()).await;
        let err = assert_error(res, 400, "validation_error").await;
        assert_eq!(err["error"]["field"], field, "{body}");
    }
    let res = app.call_json(Method::POST, ENDPOINTS, &org.live_key, json!({"url": "https://example.com/x"})).await;
    assert_eq!(res.status(), 201);
    let endpoint = body_json(res).await;
    assert_eq!((endpoint["description"].as_str(), endpoint["enabled"].as_bool()), (Some(""), Some(true)));
    let path = format!("{ENDPOINTS}/{}", endpoint["id"].as_str().unwrap());

    let changes = json!({"url": "https://example.org/y", "events": ["phone_number.deleted"], "description": "Ops", "enabled": false});
    let changed = body_json(app.call_json(Method::PATCH, &path, &org.live_key, changes).await).await;
    assert_eq!(changed["url"], "https://example.org/y");
    assert_eq!(changed["events"], json!(["phone_number.deleted"]));
    assert_eq!((changed["description"].as_str(), changed["enabled"].as_bool()), (Some("Ops"), Some(false)));
    assert_eq!(app.get_ok(&path, &org.live_key).await, changed);
    for body in [json!({"url": null}), json!({"enabled": "yes"}), json!({"events": null})] {
        let res = app.call_json(Method::PATCH, &path, &org.live_key, body.clone()).await;
        assert_error(res, 400, "validation_error").await;
    }
    let res = app.call(Method::GET, &format!("{ENDPOINTS}/not-a-uuid"), &org.live_key).await;
    assert_error(res, 400, "validation_error").await;

    assert_eq!(app.call(Method::DELETE, &path, &org.live_key).await.status(), 204);
    assert_error(app.call(Method::GET, &path, &org.live_key).await, 404, "not_found").await;
    assert_error(app.call(Method::DELETE, &path, &org.live_key).await, 404, "not_found").await;

    // A bounded number per organization and mode.
    for i in 0..20 {
        let res = app
            .call_json(Method::POST, ENDPOINTS, &org.live_key, json!({"url": format!("https://example.com/{i}")}))
            .await;
        assert_eq!(res.status(), 201);
    }
    let res = app.call_json(Method::POST, ENDPOINTS, &org.live_key, json!({"url": "https://example.com/21"})).await;
    assert_error(res, 409, "conflict").await;
    let res = app.call_json(Method::POST, ENDPOINTS, &org.test_key, json!({"url": "https://example.com/21"})).await;
    assert_eq!(res.status(), 201, "the other mode has its own");

    let res = app.call(Method::GET, "/v1/events?type=purchased", &org.live_key).await;
    assert_eq!(assert_error(res, 400, "validation_error").await["error"]["field"], "type");
    let res = app.call(Method::GET, "/v1/events?phone_number_id=42", &org.live_key).await;
    assert_eq!(assert_error(res, 400, "validation_error").await["error"]["field"], "phone_number_id");
}

#[tokio::test]
async fn private_addresses_are_refused_without_the_operators_flag() {
    let webhooks =
        kros_numbers::service::webhooks::WebhookSettings { allow_private_urls: false, ..test_webhook_settings() };
    let app = TestApp::spawn_with(Options { webhooks, ..Options::default() }).await;
    let org = app.org("Acme").await;
    for url in [
        "https://127.0.0.1/hooks",
        "https://localhost:8443/hooks",
        "https://[::1]/hooks",
        "https://10.0.0.7/hooks",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::ffff:192.168.0.1]/hooks",
        "http://93.184.216.34/hooks",
    ] {
        let res = app.call_json(Method::POST, ENDPOINTS, &org.live_key, json!({"url": url})).await;
        let err = assert_error(res, 400, "validation_error").await;
        assert_eq!(err["error"]["field"], "url", "{url}");
    }
    // A public address is accepted (it is not reached here).
    let res =
        app.call_json(Method::POST, ENDPOINTS, &org.live_key, json!({"url": "https://93.184.216.34/hooks"})).await;
    assert_eq!(res.status(), 201);
    let endpoint = body_json(res).await;
    // And changing it to a private one is refused too.
    let path = format!("{ENDPOINTS}/{}", endpoint["id"].as_str().unwrap());
    let res = app.call_json(Method::PATCH, &path, &org.live_key, json!({"url": "https://127.0.0.1/x"})).await;
    assert_error(res, 400, "validation_error").await;
}

#[tokio::test]
async fn signing_secrets_move_to_a_new_encryption_key_like_sip_passwords() {
    use kros_numbers::service::secrets::SecretCipher;
    use kros_numbers::service::{webhooks, Context};
    let h = Hooked::new(None).await;
    let res = h.app.call(Method::POST, &format!("{}/rotate-secret", h.endpoint_path()), &h.org.live_key).await;
    let rotated_secret = body_json(res).await["secret"].as_str().unwrap().to_string();
    // A new installation key, the old one listed for opening: at start every secret moves to it.
    let old_key = h.app.ctx.store.setting_or_insert("sip_encryption_key", "unused").await.unwrap();
    let new_key = SecretCipher::generate_key();
    let with_both = Context {
        secret_cipher: std::sync::Arc::new(SecretCipher::new(&new_key, &[old_key]).unwrap()),
        ..h.app.ctx.clone()
    };
    webhooks::seal_stored_secrets(&with_both).await;
    let only_new = SecretCipher::new(&new_key, &[]).unwrap();
    let id: Uuid = h.endpoint["id"].as_str().unwrap().parse().unwrap();
    let scope = kros_numbers::storage::Scope { organization_id: h.org.id, livemode: true };
    let row = h.app.ctx.store.webhook_endpoint(scope, id).await.unwrap().unwrap();
    assert_eq!(only_new.open(&row.secret).unwrap(), rotated_secret);
    assert_eq!(only_new.open(row.previous_secret.as_deref().unwrap()).unwrap(), h.secret);
}

// ---------------------------------------------------------------------------------------------
// Changes racing each other: each writes only what it changes, in one statement

/// The endpoint's stored secrets, opened: (current, previous).
async fn stored_secrets(h: &Hooked) -> (String, Option<String>) {
    let id: Uuid = h.endpoint["id"].as_str().unwrap().parse().unwrap();
    let scope = kros_numbers::storage::Scope { organization_id: h.org.id, livemode: true };
    let row = h.app.ctx.store.webhook_endpoint(scope, id).await.unwrap().unwrap();
    let cipher = &h.app.ctx.secret_cipher;
    (cipher.open(&row.secret).unwrap(), row.previous_secret.map(|p| cipher.open(&p).unwrap()))
}

#[tokio::test]
async fn changes_to_different_fields_at_once_are_all_kept() {
    let h = Hooked::new(None).await;
    let path = h.endpoint_path();
    let types = ["phone_number.purchased", "phone_number.updated", "phone_number.released"];
    for round in 0..30 {
        let description = format!("round {round}");
        let events = json!([types[round % 3]]);
        let (a, b, c) = tokio::join!(
            h.app.call_json(Method::PATCH, &path, &h.org.live_key, json!({"description": description})),
            h.app.call_json(Method::PATCH, &path, &h.org.live_key, json!({"events": events})),
            h.app.call_json(Method::PATCH, &path, &h.org.live_key, json!({"enabled": round % 2 == 0})),
        );
        assert_eq!([a.status(), b.status(), c.status()].map(|s| s.as_u16()), [200; 3]);
        let now = h.app.get_ok(&path, &h.org.live_key).await;
        assert_eq!((&now["description"], &now["events"]), (&json!(description), &events), "round {round}: {now}");
        assert_eq!(now["enabled"], round % 2 == 0, "round {round}: {now}");
    }
}

#[tokio::test]
async fn a_change_racing_the_worker_does_not_enable_an_endpoint_it_disabled() {
    let app = disabling_after(Duration::from_millis(200)).await;
    let dead = unreachable_url();
    let org = app.org("Acme").await;
    let endpoint = body_json(app.call_json(Method::POST, ENDPOINTS, &org.live_key, json!({"url": dead})).await).await;
    let path = format!("{ENDPOINTS}/{}", endpoint["id"].as_str().unwrap());
    let inv = app.inventory(Mode::Live, "+14155550109", "US", "local", 100, 115).await;
    app.buy(&org.live_key, inv).await;
    // Descriptions change all the while the worker fails its attempts and disables the endpoint.
    let deadline = std::time::Instant::now() + WAIT;
    let mut disabled_seen_at = None;
    for round in 0.. {
        let changed = app.call_json(Method::PATCH, &path, &org.live_key, json!({"description": format!("r{round}")}));
        let now = body_json(changed.await).await;
        if now["enabled"] == false && disabled_seen_at.is_none() {
            disabled_seen_at = Some(round);
        }
        if let Some(at) = disabled_seen_at {
            assert_eq!(now["enabled"], false, "a description change enabled it again: {now}");
            assert!(now["disabled_reason"].is_string(), "{now}");
            if round > at + 20 {
                break;
            }
        }
        assert!(std::time::Instant::now() < deadline, "never disabled: {now}");
    }
}

#[tokio::test]
async fn two_rotations_at_once_each_show_a_secret_that_is_stored() {
    let h = Hooked::new(None).await;
    let rotate = format!("{}/rotate-secret", h.endpoint_path());
    for round in 0..15 {
        let (a, b) = tokio::join!(
            h.app.call(Method::POST, &rotate, &h.org.live_key),
            h.app.call(Method::POST, &rotate, &h.org.live_key)
        );
        let (a, b) = (body_json(a).await, body_json(b).await);
        let shown = [a["secret"].as_str().unwrap().to_string(), b["secret"].as_str().unwrap().to_string()];
        let (current, previous) = stored_secrets(&h).await;
        let stored = [Some(current), previous];
        for secret in &shown {
            assert!(stored.contains(&Some(secret.clone())), "round {round}: a secret shown was never stored");
        }
    }
}

#[tokio::test]
async fn the_endpoint_limit_holds_against_creations_at_once() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let body = json!({"url": "http://127.0.0.1:9/hooks"});
    let creations = (0..26).map(|_| app.call_json(Method::POST, ENDPOINTS, &org.live_key, body.clone()));
    let statuses: Vec<u16> = futures::future::join_all(creations).await.iter().map(|r| r.status().as_u16()).collect();
    let created = statuses.iter().filter(|s| **s == 201).count();
    let refused = statuses.iter().filter(|s| **s == 409).count();
    assert_eq!((created, refused), (20, 6), "{statuses:?}");
    let listed = app.get_ok(&format!("{ENDPOINTS}?limit=100"), &org.live_key).await;
    assert_eq!(listed["total"], 20);
}

/// Every list read past its end answers no rows and the same total as its first page (past the
/// end no row carries the total, so each list reads it again: this checks that second read).
#[tokio::test]
async fn every_list_read_past_its_end_keeps_its_total() {
    let h = Hooked::new(None).await;
    let number = h.buy("+14155550191").await;
    h.buy("+14155550192").await;
    h.app.endpoint(&h.org.live_key, "PBX").await;
    for i in 3..6 {
        h.app.inventory(Mode::Live, &format!("+141555501{i:02}"), "US", "local", 100, 115).await;
    }
    let reserve =
        json!({"inventory_ids": [h.app.inventory(Mode::Live, "+14155550199", "US", "local", 100, 115).await]});
    assert_eq!(h.app.call_json(Method::POST, "/v1/number-reservations", &h.org.live_key, reserve).await.status(), 201);
    let order = json!({"country": "US", "type": "local", "quantity": 1});
    assert_eq!(h.app.call_json(Method::POST, "/v1/number-orders", &h.org.live_key, order).await.status(), 201);
    h.receiver.wait_for(3, WAIT).await;

    let number_id = number["id"].as_str().unwrap();
    let deliveries = format!("{}/deliveries", h.endpoint_path());
    for list in [
        "/v1/phone-numbers?".to_string(),
        "/v1/phone-numbers?action=available&country=US&".to_string(),
        "/v1/endpoints?".to_string(),
        "/v1/events?".to_string(),
        format!("/v1/events?phone_number_id={number_id}&"),
        format!("{ENDPOINTS}?"),
        format!("{deliveries}?"),
        "/v1/number-reservations?".to_string(),
        "/v1/number-orders?".to_string(),
    ] {
        let first = h.app.get_ok(&format!("{list}limit=1"), &h.org.live_key).await;
        let total = first["total"].as_i64().unwrap();
        assert!(total >= 1, "{list}: {first}");
        let past = h.app.get_ok(&format!("{list}limit=10&offset=500"), &h.org.live_key).await;
        assert_eq!((past["data"].clone(), past["total"].as_i64()), (json!([]), Some(total)), "{list}");
    }
}
