//! The SIP door: what Kamailio asks before it accepts a device or routes a call, over HTTP with
//! the door's secret, on the door's own listener (README "Calls").

use crate::helpers::*;
use kros_numbers::domain::Mode;
use md5::{Digest, Md5};
use reqwest::Method;
use serde_json::{json, Value};

/// Asks the door, as Kamailio does (HTTP Basic with the secret); the answer's status and body.
async fn ask(app: &TestApp, path_and_query: &str) -> (u16, Value) {
    let res = app
        .client
        .get(format!("{}{path_and_query}", app.sip_door))
        .basic_auth("kamailio", Some(SIP_DOOR_SECRET))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn credentials(app: &TestApp, username: &str) -> Value {
    let (status, answer) = ask(app, &format!("/sip/v1/credentials?username={username}")).await;
    assert_eq!(status, 200, "{answer}");
    answer
}

async fn inbound(app: &TestApp, trunk: &str, to: &str) -> Value {
    let to: String = url_encode(to);
    let (status, answer) =
        ask(app, &format!("/sip/v1/inbound?trunk={trunk}&to={to}&from=sip%3Acaller%40carrier")).await;
    assert_eq!(status, 200, "{answer}");
    answer
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}

fn ha1(username: &str, password: &str) -> String {
    hex(Md5::digest(format!("{username}:{SIP_DOMAIN}:{password}").as_bytes()).as_slice())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn the_door_answers_only_with_its_secret_and_only_its_own_questions() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let question = format!("{}/sip/v1/credentials?username=x", app.sip_door);
    let res = app.client.get(&question).send().await.unwrap();
    assert_eq!(res.status(), 401, "no secret");
    let res = app.client.get(&question).basic_auth("kamailio", Some("not-the-secret-at-all")).send().await.unwrap();
    assert_eq!(res.status(), 401, "a wrong secret");
    let res = app.client.get(&question).bearer_auth(&org.live_key).send().await.unwrap();
    assert_eq!(res.status(), 401, "a customer's key opens nothing here");
    // Neither door serves the other's paths.
    let (status, _) = ask(&app, "/v1/phone-numbers").await;
    assert_eq!(status, 404);
    let res =
        app.client.get(app.url("/sip/v1/credentials?username=x")).bearer_auth(&org.live_key).send().await.unwrap();
    let text = res.text().await.unwrap();
    assert!(!text.contains("\"found\""), "the public port does not answer the door's questions: {text}");
    let (status, _) = ask(&app, "/sip/v1/inbound?trunk=nope&to=%2B14155550100").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn credentials_are_the_numbers_digest_ha1_and_stop_working_when_it_is_inactive_or_released() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let n = app.buy_sip_number(&org.live_key, Mode::Live, "+14155550101", None, json!({})).await;
    let answer = credentials(&app, &n.username).await;
    assert_eq!(
        answer,
        json!({"found": 1, "ha1": ha1(&n.username, &n.password), "number": "+14155550101", "outbound": 0})
    );

    let number = format!("/v1/phone-numbers/{}", n.id);
    let patch = |body: Value| app.call_json(Method::PATCH, &number, &org.live_key, body);
    assert_eq!(patch(json!({"allowOutbound": true})).await.status(), 200);
    assert_eq!(credentials(&app, &n.username).await["outbound"], 1);

    // A rotation changes the HA1.
    let rotate = format!("/v1/phone-numbers/{}/sip-credentials/rotate", n.id);
    let rotated = body_json(app.call(Method::POST, &rotate, &org.live_key).await).await;
    let password = rotated["sip_credentials"]["password"].as_str().unwrap();
    assert_eq!(credentials(&app, &n.username).await["ha1"], ha1(&n.username, password));

    assert_eq!(patch(json!({"status": "inactive"})).await.status(), 200);
    assert_eq!(credentials(&app, &n.username).await, json!({"found": 0}));
    assert_eq!(patch(json!({"status": "active"})).await.status(), 200);
    assert_eq!(credentials(&app, &n.username).await["found"], 1);
    let release = format!("/v1/phone-numbers/{}?action=release", n.id);
    assert_eq!(app.call(Method::DELETE, &release, &org.live_key).await.status(), 200);
    assert_eq!(credentials(&app, &n.username).await, json!({"found": 0}));

    for unknown in ["nobody", "", &"x".repeat(100)] {
        assert_eq!(credentials(&app, unknown).await, json!({"found": 0}), "{unknown:?}");
    }
}

#[tokio::test]
async fn a_test_mode_number_never_calls_out() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let n = app.buy_sip_number(&org.test_key, Mode::Test, "+14155550102", None, json!({"allowOutbound": true})).await;
    let answer = credentials(&app, &n.username).await;
    assert_eq!((answer["found"].clone(), answer["outbound"].clone()), (json!(1), json!(0)));
}

#[tokio::test]
async fn an_inbound_call_goes_to_the_endpoints_targets_with_the_dialled_number() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let body = json!({"name": "PBX", "targets": ["sip:10.0.0.1:5070;transport=tcp", "sip:support@10.0.0.2"], "failover_timeout_secs": 3});
    let endpoint = body_json(app.call_json(Method::POST, "/v1/endpoints", &org.live_key, body).await).await;
    app.buy_sip_number(&org.live_key, Mode::Live, "+14155550103", endpoint["id"].as_str(), json!({})).await;
    let expected = json!({
        "action": "route",
        "number": "+14155550103",
        "targets": ["sip:+14155550103@10.0.0.1:5070;transport=tcp", "sip:support@10.0.0.2"],
        "timeout_ms": 3000,
    });
    // However the carrier writes the number.
    for to in [
        "sip:+14155550103@sip.test.kros",
        "sip:14155550103@10.9.9.9;user=phone",
        "tel:+1-415-555-0103",
        "+14155550103",
        "14155550103",
    ] {
        assert_eq!(inbound(&app, "live", to).await, expected, "{to}");
    }
}

#[tokio::test]
async fn without_targets_an_inbound_call_rings_the_registered_devices() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    app.buy_sip_number(&org.live_key, Mode::Live, "+14155550104", None, json!({})).await;
    let phones = app.endpoint(&org.live_key, "Phones").await.to_string();
    app.buy_sip_number(&org.live_key, Mode::Live, "+14155550105", Some(&phones), json!({})).await;
    for number in ["+14155550104", "+14155550105"] {
        let expected = json!({"action": "registered", "number": number, "aor": format!("sip:{number}@{SIP_DOMAIN}")});
        assert_eq!(inbound(&app, "live", number).await, expected);
    }
}

#[tokio::test]
async fn inbound_calls_to_numbers_that_take_none_are_refused_with_their_code() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let reject = |code: u16| {
        move |answer: Value| (answer["action"].clone(), answer["code"].clone()) == (json!("reject"), json!(code))
    };
    assert!(reject(404)(inbound(&app, "live", "+14155550199").await), "unknown");
    assert!(reject(404)(inbound(&app, "live", "sip:alice@example.com").await), "not a number");

    let off = app.buy_sip_number(&org.live_key, Mode::Live, "+14155550106", None, json!({"allowInbound": false})).await;
    assert!(reject(403)(inbound(&app, "live", "+14155550106").await), "inbound disabled");
    let inactive = app.buy_sip_number(&org.live_key, Mode::Live, "+14155550107", None, json!({})).await;
    let path = format!("/v1/phone-numbers/{}", inactive.id);
    assert_eq!(app.call_json(Method::PATCH, &path, &org.live_key, json!({"status": "inactive"})).await.status(), 200);
    let answer = inbound(&app, "live", "+14155550107").await;
    assert!(reject(480)(answer.clone()), "inactive: {answer}");
    assert!(answer["reason"].as_str().unwrap().starts_with("Temporarily Unavailable"));
    let released = format!("/v1/phone-numbers/{}?action=release", off.id);
    assert_eq!(app.call(Method::DELETE, &released, &org.live_key).await.status(), 200);
    assert!(reject(404)(inbound(&app, "live", "+14155550106").await), "released");

    // Test-mode numbers answer only the test trunk; live numbers only the live carriers.
    app.buy_sip_number(&org.test_key, Mode::Test, "+14155550108", None, json!({})).await;
    assert!(reject(404)(inbound(&app, "live", "+14155550108").await), "a test number from a live carrier");
    assert_eq!(inbound(&app, "test", "+14155550108").await["action"], "registered");
    assert!(reject(404)(inbound(&app, "test", "+14155550107").await), "a live number from the test trunk");
}

#[tokio::test]
async fn each_decision_about_a_number_is_recorded_for_its_page() {
    use kros_numbers::domain::Actor;
    use kros_numbers::service::{calls, Tenant};
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let n = app.buy_sip_number(&org.live_key, Mode::Live, "+14155550109", None, json!({})).await;
    inbound(&app, "live", "+14155550109").await;
    let number = format!("/v1/phone-numbers/{}", n.id);
    let off = json!({"allowInbound": false});
    assert_eq!(app.call_json(Method::PATCH, &number, &org.live_key, off).await.status(), 200);
    inbound(&app, "live", "+14155550109").await;

    let tenant = Tenant { organization_id: org.id, mode: Mode::Live, actor: Actor::Operator };
    let id = n.id.parse().unwrap();
    let mut decisions = Vec::new();
    // Written in the background, beside the calls: a moment later.
    for _ in 0..50 {
        decisions = calls::latest_decisions(&app.ctx, &tenant, id).await.unwrap();
        if decisions.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let seen: Vec<(&str, &str, &str)> =
        decisions.iter().map(|d| (d.caller.as_str(), d.decision.as_str(), d.detail.as_str())).collect();
    assert_eq!(
        seen,
        [
            ("caller", "reject", "403 Forbidden: this number does not take inbound calls"),
            ("caller", "registered", "the registered devices"),
        ]
    );
    // Another organization sees none of them.
    let other = Tenant { organization_id: app.org("Other").await.id, ..tenant };
    assert!(calls::latest_decisions(&app.ctx, &other, id).await.unwrap().is_empty());
}
