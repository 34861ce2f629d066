//! Tokens of a Supabase project that signs with asymmetric keys (ES256 by default, RS256 as an
//! option), verified against its JWKS. The project is a loopback stand-in serving the JWKS as
//! Supabase Auth documents it (`tests/support/supabase_jwks.rs`): no Supabase project is
//! reachable from here.

use crate::helpers::*;
use crate::supabase_jwks::{StandInProject, ES256_A, ES256_B, RS256};
use kros_numbers::domain::Mode;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;
use uuid::Uuid;

const LIST: &str = "/v1/phone-numbers";

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A server that knows the project by its URL only: JWKS, no shared secret.
fn options_for(project: &StandInProject) -> Options {
    let mut options = Options::default();
    options.auth.supabase_url = Some(project.url.clone());
    options.auth.jwt_secret = None;
    options
}

/// The claims of a Supabase access token for `user`, with `overrides` merged in (`null` removes).
fn claims(project: &StandInProject, user: Uuid, overrides: Value) -> Value {
    let mut c = json!({
        "sub": user.to_string(), "aud": "authenticated", "role": "authenticated",
        "iss": project.issuer(), "iat": now(), "exp": now() + 3600,
        "session_id": Uuid::new_v4().to_string(), "email": "ada@example.com",
    });
    for (k, v) in overrides.as_object().unwrap() {
        if v.is_null() {
            c.as_object_mut().unwrap().remove(k);
        } else {
            c[k] = v.clone();
        }
    }
    c
}

/// An organization with one live number and a member.
async fn member(app: &TestApp) -> Uuid {
    let org = app.org("Acme").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    app.buy(&org.live_key, inv).await;
    app.user("ada@example.com", org.id).await
}

async fn status_of(app: &TestApp, token: &str) -> u16 {
    app.call(Method::GET, LIST, token).await.status().as_u16()
}

async fn assert_accepted(app: &TestApp, token: &str) {
    let page = app.get_ok(LIST, token).await;
    assert_eq!(page["total"], 1, "the member sees their organization's number");
}

async fn assert_refused(app: &TestApp, token: &str) {
    assert_error(app.call(Method::GET, LIST, token).await, 401, "unauthorized").await;
}

#[tokio::test]
async fn es256_and_rs256_tokens_are_verified_against_the_project_jwks() {
    let project = StandInProject::start(&[ES256_A, RS256]).await;
    let app = TestApp::spawn_with(options_for(&project)).await;
    let user = member(&app).await;
    for key in [ES256_A, RS256] {
        assert_accepted(&app, &key.sign(&claims(&project, user, json!({})))).await;
    }
    // The same claim rules as before: audience, role, expiry (60 s leeway), issuer, subject.
    for bad in [
        json!({"aud": "anon"}),
        json!({"role": "service_role"}),
        json!({"exp": now() - 90}),
        json!({"iss": "https://other.supabase.co/auth/v1"}),
        json!({"iss": null}),
        json!({"sub": "not-a-uuid"}),
    ] {
        assert_refused(&app, &ES256_A.sign(&claims(&project, user, bad))).await;
    }
    assert_accepted(&app, &ES256_A.sign(&claims(&project, user, json!({"exp": now() - 30})))).await;
}

#[tokio::test]
async fn a_token_signed_by_another_key_than_its_kid_names_is_refused() {
    let project = StandInProject::start(&[ES256_A]).await;
    let app = TestApp::spawn_with(options_for(&project)).await;
    let user = member(&app).await;
    let forged = ES256_B.sign_as(&claims(&project, user, json!({})), Some(ES256_A.kid));
    assert_refused(&app, &forged).await;
    let no_kid = ES256_A.sign_as(&claims(&project, user, json!({})), None);
    assert_refused(&app, &no_kid).await;
}

#[tokio::test]
async fn only_the_algorithm_of_the_named_key_is_accepted() {
    let project = StandInProject::start(&[ES256_A, RS256]).await;
    let mut options = options_for(&project);
    // With a shared secret configured too, HS256 must still not be keyed with a public key.
    options.auth.jwt_secret = Some(JWT_SECRET.to_string());
    let app = TestApp::spawn_with(options).await;
    let user = member(&app).await;
    let body = claims(&project, user, json!({}));

    // HS256 "signed" with the public key's text, naming the ES256 key: the classic confusion.
    let public = ES256_A.jwk.as_bytes();
    let header = jsonwebtoken::Header {
        kid: Some(ES256_A.kid.into()),
        ..jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256)
    };
    let confused = jsonwebtoken::encode(&header, &body, &jsonwebtoken::EncodingKey::from_secret(public)).unwrap();
    assert_refused(&app, &confused).await;

    // RS256 naming the ES256 key (signed with the RSA key): the key's algorithm is ES256.
    assert_refused(&app, &RS256.sign_as(&body, Some(ES256_A.kid))).await;

    // `alg: none`, naming a real key.
    let unsigned = format!(
        "{}.{}.",
        base64url(json!({"alg": "none", "typ": "JWT", "kid": ES256_A.kid}).to_string().as_bytes()),
        base64url(body.to_string().as_bytes())
    );
    assert_refused(&app, &unsigned).await;
}

#[tokio::test]
async fn a_server_with_a_jwks_and_no_shared_secret_refuses_hs256_tokens() {
    let project = StandInProject::start(&[ES256_A]).await;
    let app = TestApp::spawn_with(options_for(&project)).await;
    let user = member(&app).await;
    let hs256 = app.jwt_with(claims(&project, user, json!({})), JWT_SECRET);
    let res = app.call(Method::GET, LIST, &hs256).await;
    let body = assert_error(res, 401, "unauthorized").await;
    assert!(body["error"]["message"].as_str().unwrap().contains("SUPABASE_JWT_SECRET"), "{body}");
    assert_accepted(&app, &ES256_A.sign(&claims(&project, user, json!({})))).await;
}

#[tokio::test]
async fn hs256_with_the_shared_secret_keeps_working_beside_the_jwks() {
    let project = StandInProject::start(&[ES256_A]).await;
    let mut options = options_for(&project);
    options.auth.jwt_secret = Some(JWT_SECRET.to_string());
    let app = TestApp::spawn_with(options).await;
    let user = member(&app).await;
    assert_accepted(&app, &app.jwt_with(claims(&project, user, json!({})), JWT_SECRET)).await;
    assert_accepted(&app, &ES256_A.sign(&claims(&project, user, json!({})))).await;
    assert_refused(&app, &app.jwt_with(claims(&project, user, json!({})), "another-secret-of-a-reasonable-length-0"))
        .await;
}

#[tokio::test]
async fn a_rotated_key_is_found_by_its_kid_without_a_restart() {
    let project = StandInProject::start(&[ES256_A]).await;
    let mut options = options_for(&project);
    // Short enough for a test: keys are trusted for half a second, fetched at most twice a second.
    options.auth.jwks_ttl = Duration::from_millis(500);
    options.auth.jwks_refetch_interval = Duration::from_millis(500);
    let app = TestApp::spawn_with(options).await;
    let user = member(&app).await;
    assert_accepted(&app, &ES256_A.sign(&claims(&project, user, json!({})))).await;

    // The project rotates: B is the signing key now, A is retired (and refused once the keys
    // cached before the rotation are past their TTL).
    project.serve_keys(&[ES256_B]);
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_accepted(&app, &ES256_B.sign(&claims(&project, user, json!({})))).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_refused(&app, &ES256_A.sign(&claims(&project, user, json!({})))).await;
}

#[tokio::test]
async fn unknown_kids_refetch_the_jwks_at_most_once_per_interval() {
    let project = StandInProject::start(&[ES256_A]).await;
    let app = TestApp::spawn_with(options_for(&project)).await; // the default: 30 s
    let user = member(&app).await;
    assert_accepted(&app, &ES256_A.sign(&claims(&project, user, json!({})))).await;
    let after_first = project.fetches();
    assert!(after_first >= 1);

    for i in 0..25 {
        let garbage_kid = format!("made-up-{i}");
        assert_refused(&app, &ES256_A.sign_as(&claims(&project, user, json!({})), Some(&garbage_kid))).await;
    }
    // None more in these 30 s (on PostgreSQL the second instance fetches once, its first time).
    let second_instance = usize::from(crate::pg::server_url().is_some());
    assert!(project.fetches() <= after_first + second_instance, "{} fetches", project.fetches());
    // And the known key is still served from the cache.
    assert_accepted(&app, &ES256_A.sign(&claims(&project, user, json!({})))).await;
}

#[tokio::test]
async fn when_the_jwks_is_down_cached_keys_work_and_unknown_keys_are_503() {
    let project = StandInProject::start(&[ES256_A]).await;
    let mut options = options_for(&project);
    // Keys always stale, fetches never throttled: every request asks the project.
    options.auth.jwks_ttl = Duration::ZERO;
    options.auth.jwks_refetch_interval = Duration::ZERO;
    let app = TestApp::spawn_with(options).await;
    let user = member(&app).await;
    assert_accepted(&app, &ES256_A.sign(&claims(&project, user, json!({})))).await;
    assert_accepted(&app, &ES256_A.sign(&claims(&project, user, json!({})))).await;

    project.set_down(true);
    let fetches = project.fetches();
    assert_accepted(&app, &ES256_A.sign(&claims(&project, user, json!({})))).await;
    assert!(project.fetches() > fetches, "the server did try the project");
    let res = app.call(Method::GET, LIST, &ES256_B.sign(&claims(&project, user, json!({})))).await;
    let body = assert_error(res, 503, "unavailable").await;
    assert!(body["error"]["message"].as_str().unwrap().contains("signing keys"), "{body}");

    project.serve_keys(&[ES256_A, ES256_B]);
    project.set_down(false);
    assert_accepted(&app, &ES256_B.sign(&claims(&project, user, json!({})))).await;
}

#[tokio::test]
async fn nbf_in_the_future_is_refused_and_in_the_past_accepted() {
    let project = StandInProject::start(&[ES256_A]).await;
    let app = TestApp::spawn_with(options_for(&project)).await;
    let user = member(&app).await;
    assert_refused(&app, &ES256_A.sign(&claims(&project, user, json!({"nbf": now() + 600})))).await;
    assert_accepted(&app, &ES256_A.sign(&claims(&project, user, json!({"nbf": now() - 10})))).await;
    // Within the 60 s leeway, as for exp.
    assert_accepted(&app, &ES256_A.sign(&claims(&project, user, json!({"nbf": now() + 20})))).await;
    assert_refused(&app, &ES256_A.sign(&claims(&project, user, json!({"iat": now() + 600})))).await;
}

#[tokio::test]
async fn a_token_valid_for_longer_than_the_maximum_lifetime_is_refused() {
    let project = StandInProject::start(&[ES256_A]).await;
    let app = TestApp::spawn_with(options_for(&project)).await; // the default: 24 h
    let user = member(&app).await;
    let centuries = now() + 300 * 365 * 86_400;
    assert_refused(&app, &ES256_A.sign(&claims(&project, user, json!({"exp": centuries})))).await;
    // Without iat the lifetime counts from now.
    assert_refused(&app, &ES256_A.sign(&claims(&project, user, json!({"exp": centuries, "iat": null})))).await;
    assert_refused(&app, &ES256_A.sign(&claims(&project, user, json!({"exp": now() + 25 * 3600})))).await;
    assert_accepted(&app, &ES256_A.sign(&claims(&project, user, json!({"exp": now() + 23 * 3600})))).await;

    let mut options = options_for(&project);
    options.auth.max_token_lifetime = Duration::from_secs(3 * 86_400);
    let longer = TestApp::spawn_with(options).await;
    let user = member(&longer).await;
    assert_accepted(&longer, &ES256_A.sign(&claims(&project, user, json!({"exp": now() + 2 * 86_400})))).await;
    assert_eq!(
        status_of(&longer, &ES256_A.sign(&claims(&project, user, json!({"exp": now() + 4 * 86_400})))).await,
        401
    );
}

#[tokio::test]
async fn without_a_project_es256_tokens_are_refused() {
    let project = StandInProject::start(&[ES256_A]).await;
    let app = TestApp::spawn().await; // HS256 shared secret only
    let user = member(&app).await;
    let res = app.call(Method::GET, LIST, &ES256_A.sign(&claims(&project, user, json!({"iss": null})))).await;
    let body = assert_error(res, 401, "unauthorized").await;
    assert!(body["error"]["message"].as_str().unwrap().contains("SUPABASE_URL"), "{body}");
    assert_eq!(project.fetches(), 0);
}
