//! The built-in accounts' dashboard sessions, through the dashboard's own sign-in and sign-out
//! (the server functions the sign-in form and the Sign out button post to): a session token
//! works on both doors (dashboard pages and REST Bearer) until its user signs out, and not after.

use crate::helpers::*;
use kros_numbers::domain::Mode;
use kros_numbers::pages::session::SignOut;
use leptos::server_fn::ServerFn;
use reqwest::header::{COOKIE, LOCATION};
use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

const LIST: &str = "/v1/phone-numbers";

async fn sign_out(app: &TestApp, token: &str) {
    let res =
        browser().post(app.url(SignOut::PATH)).header(COOKIE, format!("kros_session={token}")).send().await.unwrap();
    assert!(res.status().is_redirection(), "sign-out answers a redirect: {}", res.status());
    assert_eq!(set_cookie(&res, "kros_session").as_deref(), Some(""), "the cookie is cleared");
}

/// The dashboard's first page with this session cookie: 200, or a redirect to sign-in.
async fn page_status(app: &TestApp, token: &str) -> (u16, Option<String>) {
    let res = browser().get(app.url("/")).header(COOKIE, format!("kros_session={token}")).send().await.unwrap();
    let location = res.headers().get(LOCATION).map(|v| v.to_str().unwrap().to_string());
    (res.status().as_u16(), location)
}

/// An organization with one live number, and a member; returns the member's id.
async fn org_with_member(app: &TestApp, email: &str) -> Uuid {
    let org = app.org("Acme").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    app.buy(&org.live_key, inv).await;
    app.user(email, org.id).await
}

#[tokio::test]
async fn signing_out_ends_a_built_in_session_on_both_doors() {
    let app = TestApp::spawn().await;
    org_with_member(&app, "ada@example.com").await;
    let token = sign_in(&app, "ada@example.com").await;

    assert_eq!(app.get_ok(LIST, &token).await["total"], 1, "the session works as a REST Bearer token");
    assert_eq!(page_status(&app, &token).await.0, 200, "and on the dashboard");

    sign_out(&app, &token).await;

    let body = assert_error(app.call(Method::GET, LIST, &token).await, 401, "unauthorized").await;
    assert!(body["error"]["message"].as_str().unwrap().contains("session has ended"), "{body}");
    let (status, location) = page_status(&app, &token).await;
    assert_eq!(status, 303, "the page sends the signed-out browser to sign in");
    assert!(location.unwrap().starts_with("/sign-in"));
}

#[tokio::test]
async fn signing_out_ends_only_that_session() {
    let app = TestApp::spawn().await;
    org_with_member(&app, "ada@example.com").await;
    let laptop = sign_in(&app, "ada@example.com").await;
    let phone = sign_in(&app, "ada@example.com").await;
    sign_out(&app, &laptop).await;
    assert_error(app.call(Method::GET, LIST, &laptop).await, 401, "unauthorized").await;
    assert_eq!(app.get_ok(LIST, &phone).await["total"], 1);
}

#[tokio::test]
async fn a_session_token_needs_its_live_session_row_and_the_installation_secret() {
    let app = TestApp::spawn().await;
    let user = org_with_member(&app, "ada@example.com").await;
    let token = sign_in(&app, "ada@example.com").await;
    let header = jsonwebtoken::decode_header(&token).unwrap();
    assert_eq!(header.kid.as_deref(), Some("kros-session"));

    // The installation's own secret, generated once and kept in the database (this reads it).
    let secret = kros_numbers::service::settings::secret(app.ctx.store.as_ref(), "session_secret").await.unwrap();
    assert!(secret.len() >= 32);
    let sign = |key: &str, session_id: Uuid| {
        let claims = json!({
            "sub": user.to_string(), "aud": "authenticated", "role": "authenticated", "iss": "kros-numbers",
            "iat": chrono::Utc::now().timestamp(), "exp": chrono::Utc::now().timestamp() + 600,
            "session_id": session_id.to_string(),
        });
        let header = jsonwebtoken::Header { kid: Some("kros-session".into()), ..Default::default() };
        jsonwebtoken::encode(&header, &claims, &jsonwebtoken::EncodingKey::from_secret(key.as_bytes())).unwrap()
    };
    // Right secret, but no such session: refused (a session exists only by signing in).
    assert_error(app.call(Method::GET, LIST, &sign(&secret, Uuid::new_v4())).await, 401, "unauthorized").await;
    // The Supabase shared secret does not sign built-in sessions.
    assert_error(app.call(Method::GET, LIST, &sign(JWT_SECRET, Uuid::new_v4())).await, 401, "unauthorized").await;
}
