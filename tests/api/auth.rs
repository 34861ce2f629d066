use crate::helpers::*;
use kros_numbers::domain::Mode;
use reqwest::Method;
use serde_json::{json, Value};
use uuid::Uuid;

const LIST: &str = "/v1/phone-numbers";

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Session claims for `user` with `overrides` merged in (a `null` override removes the claim).
fn claims(user: Uuid, overrides: Value) -> Value {
    let mut c = json!({
        "sub": user.to_string(), "aud": "authenticated", "role": "authenticated", "exp": now() + 3600,
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

/// An org with one live number, and a member user.
async fn org_with_member(app: &TestApp) -> (Org, Uuid) {
    let org = app.org("Acme").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    app.buy(&org.live_key, inv).await;
    let user = app.user("ada@example.com", org.id).await;
    (org, user)
}

async fn assert_sees_org_number(app: &TestApp, token: &str, org: &Org) {
    let page = app.get_ok(LIST, token).await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["data"][0]["organization_id"], org.id.to_string());
}

#[tokio::test]
async fn api_key_works_as_bearer_token() {
    let app = TestApp::spawn().await;
    let (org, _) = org_with_member(&app).await;
    assert_sees_org_number(&app, &org.live_key, &org).await;
}

#[tokio::test]
async fn api_key_works_in_x_api_key_header() {
    let app = TestApp::spawn().await;
    let (org, _) = org_with_member(&app).await;
    let res = app.client.get(app.url(LIST)).header("x-api-key", &org.live_key).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(body_json(res).await["total"], 1);
}

#[tokio::test]
async fn missing_credentials_are_401() {
    let app = TestApp::spawn().await;
    let res = app.client.get(app.url(LIST)).send().await.unwrap();
    assert_error(res, 401, "unauthorized").await;
    // An empty bearer token or an empty x-api-key is no credential either.
    let res = app.client.get(app.url(LIST)).header("authorization", "Bearer ").send().await.unwrap();
    assert_error(res, 401, "unauthorized").await;
    let res = app.client.get(app.url(LIST)).header("x-api-key", "").send().await.unwrap();
    assert_error(res, 401, "unauthorized").await;
}

#[tokio::test]
async fn malformed_api_key_is_401() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let upper_public_id = {
        let mut parts: Vec<String> = org.live_key.split('_').map(str::to_string).collect();
        parts[2] = parts[2].to_uppercase();
        parts.join("_")
    };
    for bad in [
        "kros_live_".to_string(),
        "kros_live_abc".to_string(),
        "kros_test_abcdefghijkl_short".to_string(),
        format!("{}x", org.live_key),
        org.live_key[..org.live_key.len() - 1].to_string(),
        upper_public_id,
        "kros_live_abcdefghijkl_!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!".to_string(),
    ] {
        let res = app.call(Method::GET, LIST, &bad).await;
        assert_error(res, 401, "unauthorized").await;
        let res = app.client.get(app.url(LIST)).header("x-api-key", &bad).send().await.unwrap();
        assert_error(res, 401, "unauthorized").await;
    }
}

#[tokio::test]
async fn unknown_api_key_is_401() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let unknown = format!("kros_live_abcdefghijkl_{}", "A".repeat(32));
    assert_error(app.call(Method::GET, LIST, &unknown).await, 401, "unauthorized").await;
    // A known public id with the wrong secret.
    let (prefix, _secret) = org.live_key.rsplit_once('_').unwrap();
    let wrong_secret = format!("{prefix}_{}", "B".repeat(32));
    assert_error(app.call(Method::GET, LIST, &wrong_secret).await, 401, "unauthorized").await;
    // A live key presented as a test key.
    let other_mode = org.live_key.replacen("kros_live_", "kros_test_", 1);
    assert_error(app.call(Method::GET, LIST, &other_mode).await, 401, "unauthorized").await;
}

#[tokio::test]
async fn revoked_api_key_is_401() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    assert_eq!(app.call(Method::GET, LIST, &org.live_key).await.status(), 200);

    kros_numbers::service::api_keys::revoke(&app.ctx, &org.live_key, None).await.unwrap();

    assert_error(app.call(Method::GET, LIST, &org.live_key).await, 401, "unauthorized").await;
    let res = app.client.get(app.url(LIST)).header("x-api-key", &org.live_key).send().await.unwrap();
    assert_error(res, 401, "unauthorized").await;
    // The organization's other key is unaffected.
    assert_eq!(app.call(Method::GET, LIST, &org.test_key).await.status(), 200);
}

#[tokio::test]
async fn revoked_api_key_by_id_is_401() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let id = app.key_id(&org.test_key).await;
    kros_numbers::service::api_keys::revoke(&app.ctx, &id.to_string(), None).await.unwrap();
    assert_error(app.call(Method::GET, LIST, &org.test_key).await, 401, "unauthorized").await;
}

#[tokio::test]
async fn non_bearer_authorization_scheme_is_401() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    for value in [format!("Basic {}", org.live_key), format!("Token {}", org.live_key), org.live_key.clone()] {
        let res = app.client.get(app.url(LIST)).header("authorization", value).send().await.unwrap();
        assert_error(res, 401, "unauthorized").await;
    }
}

#[tokio::test]
async fn bearer_credential_that_is_neither_key_nor_jwt_is_401() {
    let app = TestApp::spawn().await;
    for garbage in ["hello", "a.b.c", "kros_prod_abcdefghijkl_xyz"] {
        assert_error(app.call(Method::GET, LIST, garbage).await, 401, "unauthorized").await;
    }
}

#[tokio::test]
async fn non_ascii_credential_header_is_401_not_500() {
    let app = TestApp::spawn().await;
    let value = reqwest::header::HeaderValue::from_bytes(b"Bearer kros_live_\xe9\xe9").unwrap();
    let res = app.client.get(app.url(LIST)).header("authorization", value).send().await.unwrap();
    assert_error(res, 401, "unauthorized").await;
    let value = reqwest::header::HeaderValue::from_bytes(b"\xe9\xe9").unwrap();
    let res = app.client.get(app.url(LIST)).header("x-api-key", value).send().await.unwrap();
    assert_error(res, 401, "unauthorized").await;
}

// ---------------------------------------------------------------------------------------------
// Session JWTs

#[tokio::test]
async fn valid_session_jwt_of_a_member_works() {
    let app = TestApp::spawn().await;
    let (org, user) = org_with_member(&app).await;
    assert_sees_org_number(&app, &app.jwt(user), &org).await;
    // Also through x-api-key, which takes any credential.
    let res = app.client.get(app.url(LIST)).header("x-api-key", app.jwt(user)).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn jwt_expired_beyond_60_second_leeway_is_401() {
    let app = TestApp::spawn().await;
    let (_, user) = org_with_member(&app).await;
    let token = app.jwt_with(claims(user, json!({"exp": now() - 90})), JWT_SECRET);
    assert_error(app.call(Method::GET, LIST, &token).await, 401, "unauthorized").await;
}

#[tokio::test]
async fn jwt_expired_30_seconds_ago_is_accepted_within_leeway() {
    let app = TestApp::spawn().await;
    let (org, user) = org_with_member(&app).await;
    let token = app.jwt_with(claims(user, json!({"exp": now() - 30})), JWT_SECRET);
    assert_sees_org_number(&app, &token, &org).await;
}

#[tokio::test]
async fn jwt_without_exp_is_401() {
    let app = TestApp::spawn().await;
    let (_, user) = org_with_member(&app).await;
    let token = app.jwt_with(claims(user, json!({"exp": null})), JWT_SECRET);
    assert_error(app.call(Method::GET, LIST, &token).await, 401, "unauthorized").await;
}

#[tokio::test]
async fn jwt_signed_with_wrong_secret_is_401() {
    let app = TestApp::spawn().await;
    let (_, user) = org_with_member(&app).await;
    let token = app.jwt_with(claims(user, json!({})), "another-secret-of-a-reasonable-length-9876543210");
    assert_error(app.call(Method::GET, LIST, &token).await, 401, "unauthorized").await;
}

#[tokio::test]
async fn jwt_with_wrong_audience_is_401() {
    let app = TestApp::spawn().await;
    let (_, user) = org_with_member(&app).await;
    for aud in [json!("anon"), json!("public"), json!(["somebody-else"])] {
        let token = app.jwt_with(claims(user, json!({"aud": aud})), JWT_SECRET);
        assert_error(app.call(Method::GET, LIST, &token).await, 401, "unauthorized").await;
    }
    let token = app.jwt_with(claims(user, json!({"aud": null})), JWT_SECRET);
    assert_error(app.call(Method::GET, LIST, &token).await, 401, "unauthorized").await;
}

#[tokio::test]
async fn jwt_with_anon_or_service_role_is_401() {
    let app = TestApp::spawn().await;
    let (_, user) = org_with_member(&app).await;
    for role in [json!("anon"), json!("service_role"), Value::Null] {
        let token = app.jwt_with(claims(user, json!({"role": role})), JWT_SECRET);
        assert_error(app.call(Method::GET, LIST, &token).await, 401, "unauthorized").await;
    }
}

#[tokio::test]
async fn unsigned_jwt_with_alg_none_is_401() {
    let app = TestApp::spawn().await;
    let (_, user) = org_with_member(&app).await;
    let body = base64url(claims(user, json!({})).to_string().as_bytes());
    for header in [json!({"alg": "none", "typ": "JWT"}), json!({"alg": "HS256", "typ": "JWT"})] {
        let token = format!("{}.{}.", base64url(header.to_string().as_bytes()), body);
        assert_error(app.call(Method::GET, LIST, &token).await, 401, "unauthorized").await;
    }
}

#[tokio::test]
async fn jwt_with_unconfigured_algorithm_is_401() {
    let app = TestApp::spawn().await;
    let (_, user) = org_with_member(&app).await;
    // Signed with the right secret, but HS512 is not the configured algorithm.
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS512),
        &claims(user, json!({})),
        &jsonwebtoken::EncodingKey::from_secret(JWT_SECRET.as_bytes()),
    )
    .unwrap();
    assert_error(app.call(Method::GET, LIST, &token).await, 401, "unauthorized").await;
}

#[tokio::test]
async fn jwt_of_unknown_user_is_401() {
    let app = TestApp::spawn().await;
    org_with_member(&app).await;
    let token = app.jwt(Uuid::new_v4());
    assert_error(app.call(Method::GET, LIST, &token).await, 401, "unauthorized").await;
    let token = app.jwt_with(
        json!({"sub": "not-a-uuid", "aud": "authenticated", "role": "authenticated", "exp": now() + 60}),
        JWT_SECRET,
    );
    assert_error(app.call(Method::GET, LIST, &token).await, 401, "unauthorized").await;
}

#[tokio::test]
async fn jwt_of_unknown_user_with_auto_create_is_403_and_creates_the_user() {
    let mut options = Options::default();
    options.auth.auto_create_users = true;
    let app = TestApp::spawn_with(options).await;
    let stranger = Uuid::new_v4();
    let token = app.jwt(stranger);
    assert_error(app.call(Method::GET, LIST, &token).await, 403, "forbidden").await;
    let users = app.raw.count("SELECT COUNT(*) FROM users WHERE id = $1", stranger).await;
    assert_eq!(users, 1, "the user was created on first sight");
    // Seen again: still a user without an organization.
    assert_error(app.call(Method::GET, LIST, &token).await, 403, "forbidden").await;
}

#[tokio::test]
async fn with_supabase_url_jwt_issuer_must_match() {
    let mut options = Options::default();
    options.auth.supabase_url = Some("https://proj.supabase.co".into());
    let app = TestApp::spawn_with(options).await;
    let (org, user) = org_with_member(&app).await;

    let right = app.jwt_with(claims(user, json!({"iss": "https://proj.supabase.co/auth/v1"})), JWT_SECRET);
    assert_sees_org_number(&app, &right, &org).await;

    for iss in ["https://other.supabase.co/auth/v1", "https://proj.supabase.co", "supabase"] {
        let wrong = app.jwt_with(claims(user, json!({"iss": iss})), JWT_SECRET);
        assert_error(app.call(Method::GET, LIST, &wrong).await, 401, "unauthorized").await;
    }
    let missing = app.jwt(user);
    assert_error(app.call(Method::GET, LIST, &missing).await, 401, "unauthorized").await;
}

#[tokio::test]
async fn without_supabase_url_jwt_issuer_is_not_checked() {
    let app = TestApp::spawn().await;
    let (org, user) = org_with_member(&app).await;
    let token = app.jwt_with(claims(user, json!({"iss": "https://anything.supabase.co/auth/v1"})), JWT_SECRET);
    assert_sees_org_number(&app, &token, &org).await;
}

// ---------------------------------------------------------------------------------------------
// Rate limiting

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after_per_credential() {
    let app =
        TestApp::spawn_with(Options { rate_limit_per_second: 1, rate_limit_burst: 2, ..Options::default() }).await;
    let org = app.org("Acme").await;

    assert_eq!(app.call(Method::GET, LIST, &org.live_key).await.status(), 200);
    assert_eq!(app.call(Method::GET, LIST, &org.live_key).await.status(), 200);
    let res = app.call(Method::GET, LIST, &org.live_key).await;
    let retry_after: u64 = res
        .headers()
        .get("retry-after")
        .expect("Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in whole seconds");
    assert!(retry_after >= 1, "Retry-After {retry_after}");
    assert_error(res, 429, "rate_limited").await;

    // Another credential, even of the same organization, has its own allowance.
    assert_eq!(app.call(Method::GET, LIST, &org.test_key).await.status(), 200);

    // After Retry-After the first credential is served again.
    tokio::time::sleep(std::time::Duration::from_secs(retry_after)).await;
    assert_eq!(app.call(Method::GET, LIST, &org.live_key).await.status(), 200);
}

#[tokio::test]
async fn api_key_secret_is_stored_only_as_a_hash() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let (_, secret) = org.live_key.rsplit_once('_').unwrap();
    let rows = app.raw.texts("SELECT public_id, secret_hash, name FROM api_keys").await;
    assert_eq!(rows.len(), 2);
    for (public_id, secret_hash, name) in rows {
        for stored in [&public_id, &secret_hash, &name] {
            assert!(!stored.contains(secret), "the secret is not stored in clear");
        }
    }
}
