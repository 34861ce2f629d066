use crate::helpers::*;
use kros_numbers::domain::Mode;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn purchase_by_inventory_id_returns_201_with_an_active_number() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;

    let res = app.call_json(Method::POST, "/v1/phone-numbers", &org.live_key, json!({"inventory_id": inv})).await;

    assert_eq!(res.status(), 201);
    let n = body_json(res).await;
    assert_eq!(n["e164"], "+14155550101");
    assert_eq!(n["country"], "US");
    assert_eq!(n["type"], "local");
    assert_eq!(n["status"], "active");
    assert_eq!(n["allow_inbound"], true);
    assert_eq!(n["allow_outbound"], false);
    assert_eq!(n["endpoint_id"], serde_json::Value::Null);
    assert_eq!(n["sip_uri"], format!("sip:+14155550101@{SIP_DOMAIN}"));
    assert_eq!(n["organization_id"], org.id.to_string());
    assert_eq!(n["livemode"], true);
    assert_eq!(n["setup_cost_cents"], 100);
    assert_eq!(n["monthly_cost_cents"], 115);
    assert_eq!(n["released_at"], serde_json::Value::Null);
    assert!(n.get("sip_credentials").is_none(), "the purchase response never includes the password");
}
