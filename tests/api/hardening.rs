//! What an attacker tried against both doors, and how each attempt is now answered (issue 11).
//! The dashboard's door is driven as a browser would: plain form posts to its server functions.

use crate::helpers::*;
use kros_numbers::domain::Mode;
use kros_numbers::pages::api_keys::{CreateApiKey, ListApiKeys};
use kros_numbers::pages::endpoints::CreateEndpoint;
use kros_numbers::pages::session::SignIn;
use kros_numbers::server::ThrottleSettings;
use leptos::server_fn::ServerFn;
use reqwest::header::{COOKIE, LOCATION, ORIGIN};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const LIST: &str = "/v1/phone-numbers";

/// Signs in as the browser would, with `next`; returns where the browser is sent.
async fn sign_in_to(app: &TestApp, email: &str, next: &str) -> (StatusCode, String) {
    let res = browser()
        .post(app.url(SignIn::PATH))
        .form(&[("email", email), ("password", USER_PASSWORD), ("next", next)])
        .send()
        .await
        .unwrap();
    let location = res.headers().get(LOCATION).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    (res.status(), location)
}

/// A server function posted as a form, with the session cookie and extra headers.
async fn post_form(
    app: &TestApp,
    path: &str,
    token: &str,
    form: &[(&str, &str)],
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = browser().post(app.url(path)).header(COOKIE, format!("kros_session={token}")).form(form);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

/// How many app processes serve a test (two on PostgreSQL); the throttles count per process.
fn processes() -> usize {
    if crate::pg::server_url().is_some() {
        2
    } else {
        1
    }
}

async fn member(app: &TestApp, email: &str) -> Org {
    let org = app.org("Acme").await;
    app.user(email, org.id).await;
    org
}

#[tokio::test]
async fn sign_in_never_redirects_off_site_or_fails_on_a_strange_next() {
    let app = TestApp::spawn().await;
    member(&app, "ada@example.com").await;
    for next in [
        "/\t/127.0.0.1:3999/x",
        "/\n/x",
        "/\r\n/x",
        "//evil.example",
        "/\\evil.example",
        "https://evil.example",
        "/ /x",
        "x",
    ] {
        let (status, location) = sign_in_to(&app, "ada@example.com", next).await;
        assert!(status.is_redirection(), "next={next:?}: {status}");
        assert_eq!(location, "/", "next={next:?} stays on this site");
    }
    let (_, location) = sign_in_to(&app, "ada@example.com", "/buy?country=GB").await;
    assert_eq!(location, "/buy?country=GB", "a same-site path is kept");
    // The sign-in page itself renders whatever `next` is.
    let res = browser().get(app.url("/sign-in?next=/%0A/x")).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn dashboard_forms_from_another_site_are_refused() {
    let app = TestApp::spawn().await;
    let org = member(&app, "ada@example.com").await;
    let token = sign_in(&app, "ada@example.com").await;
    let own_origin = app.address.clone();
    let create = |headers: &'static [(&'static str, &'static str)]| {
        post_form(&app, CreateApiKey::PATH, &token, &[("name", "from a form"), ("mode", "live")], headers)
    };
    let res = create(&[("origin", "https://evil.example")]).await;
    assert_eq!(res.status(), 403, "a foreign Origin");
    assert_eq!(body_json(res).await["error"]["code"], "forbidden");
    assert_eq!(create(&[("origin", "null")]).await.status(), 403, "an opaque origin");
    assert_eq!(create(&[("sec-fetch-site", "cross-site")]).await.status(), 403, "no Origin, but cross-site");
    assert_eq!(create(&[("sec-fetch-site", "same-site")]).await.status(), 403, "a sibling subdomain is another site");

    let res = post_form(&app, CreateApiKey::PATH, &token, &[("name", "mine"), ("mode", "live")], &[]).await;
    assert!(res.status().is_success() || res.status().is_redirection(), "no browser headers: {}", res.status());
    let res = browser()
        .post(app.url(CreateApiKey::PATH))
        .header(COOKIE, format!("kros_session={token}"))
        .header(ORIGIN, &own_origin)
        .form(&[("name", "same origin"), ("mode", "live")])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success() || res.status().is_redirection(), "its own origin: {}", res.status());
    // Nothing from the refused requests was created.
    let keys = app.ctx.store.api_keys_of(org.id).await.unwrap();
    assert!(keys.iter().all(|k| k.name != "from a form"), "no key from a foreign page");

    // Login CSRF: signing a victim in from another site is refused too.
    let res = browser()
        .post(app.url(SignIn::PATH))
        .header(ORIGIN, "https://evil.example")
        .form(&[("email", "ada@example.com"), ("password", USER_PASSWORD), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(set_cookie(&res, "kros_session").is_none());
}

#[tokio::test]
async fn with_a_public_url_only_its_origin_may_post_and_cookies_are_secure() {
    let app =
        TestApp::spawn_with(Options { public_url: Some("https://numbers.example.com".into()), ..Options::default() })
            .await;
    member(&app, "ada@example.com").await;
    let post = |origin: &'static str| {
        browser()
            .post(app.url(SignIn::PATH))
            .header(ORIGIN, origin)
            .form(&[("email", "ada@example.com"), ("password", USER_PASSWORD), ("next", "/")])
            .send()
    };
    assert_eq!(post("http://numbers.example.com").await.unwrap().status(), 403, "another scheme is another origin");
    let res = post("https://numbers.example.com").await.unwrap();
    assert!(res.status().is_redirection());
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("kros_session="));
    assert!(cookie.unwrap().contains("; Secure"), "{cookie:?}");
    assert!(res.headers().get("strict-transport-security").is_some());
}

#[tokio::test]
async fn responses_carry_security_headers_and_tenant_data_is_never_cached() {
    let app = TestApp::spawn().await;
    let org = member(&app, "ada@example.com").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    let number = app.buy(&org.live_key, inv).await;
    let detail = app.call(Method::GET, &format!("{LIST}/{}", number["id"].as_str().unwrap()), &org.live_key).await;
    let token = sign_in(&app, "ada@example.com").await;
    let page = browser().get(app.url("/")).header(COOKIE, format!("kros_session={token}")).send().await.unwrap();
    for res in [&detail, &page] {
        let h = res.headers();
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["referrer-policy"], "same-origin");
        assert_eq!(h["cache-control"], "no-store", "{}", res.url());
        assert!(h["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    }
    // The page's policy: scripts only from here or with this response's nonce, which every
    // inline script of the page carries.
    let policy = page.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    let nonce = policy.split("'nonce-").nth(1).and_then(|r| r.split('\'').next()).expect("a nonce").to_string();
    let html = page.text().await.unwrap();
    let scripts: Vec<&str> = html.split("<script").skip(1).map(|s| s.split('>').next().unwrap()).collect();
    assert!(!scripts.is_empty());
    for attributes in scripts {
        assert!(attributes.contains(&format!("nonce=\"{nonce}\"")), "a script without the nonce: <script{attributes}>");
    }
}

#[tokio::test]
async fn server_functions_answer_bad_arguments_with_400_and_huge_bodies_with_413() {
    let app = TestApp::spawn().await;
    member(&app, "ada@example.com").await;
    let token = sign_in(&app, "ada@example.com").await;
    let res = post_form(&app, CreateApiKey::PATH, &token, &[("mode", "live")], &[]).await;
    assert_eq!(res.status(), 400);
    let body: Value = body_json(res).await;
    assert_eq!(body["code"], "validation_error", "{body}");
    assert_eq!(body["field"], "name");

    let huge = "x".repeat(2 * 1024 * 1024);
    let res = post_form(&app, CreateEndpoint::PATH, &token, &[("name", &huge)], &[]).await;
    assert_eq!(res.status(), 413);
    assert_eq!(body_json(res).await["code"], "payload_too_large");
}

#[tokio::test]
async fn dashboard_server_functions_are_rate_limited_like_the_api() {
    let app =
        TestApp::spawn_with(Options { rate_limit_per_second: 1, rate_limit_burst: 2, ..Options::default() }).await;
    member(&app, "ada@example.com").await;
    let token = sign_in(&app, "ada@example.com").await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let res = post_form(&app, ListApiKeys::PATH, &token, &[], &[]).await;
        statuses.push(res.status().as_u16());
        if res.status() == 429 {
            assert!(res.headers().get("retry-after").is_some());
        }
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    // The same session on REST shares the limit.
    assert_eq!(app.call(Method::GET, LIST, &token).await.status(), 429);
}

#[tokio::test]
async fn repeated_failed_sign_ins_are_throttled_per_account_without_ending_sessions() {
    let throttle =
        ThrottleSettings { sign_in_failures_per_account: 3, sign_in_failures_per_address: 100, ..Default::default() };
    let app = TestApp::spawn_with(Options { throttle, ..Options::default() }).await;
    let org = member(&app, "ada@example.com").await;
    app.user("bob@example.com", org.id).await;
    let session = sign_in(&app, "ada@example.com").await;

    let wrong = |email: &'static str| {
        browser().post(app.url(SignIn::PATH)).form(&[("email", email), ("password", "not-it"), ("next", "/")]).send()
    };
    // Three failures allowed, the fourth blocks; counted per process (PostgreSQL runs two).
    for _ in 0..4 * processes() {
        let location = wrong("ada@example.com").await.unwrap().headers()[LOCATION].to_str().unwrap().to_string();
        assert!(location.contains("failed=1"), "{location}");
    }
    // Now even the right password waits, with Retry-After and a message saying how long.
    let res = browser()
        .post(app.url(SignIn::PATH))
        .form(&[("email", "ada@example.com"), ("password", USER_PASSWORD), ("next", "/")])
        .send()
        .await
        .unwrap();
    let location = res.headers()[LOCATION].to_str().unwrap().to_string();
    assert!(location.contains("failed=throttled") && location.contains("retry="), "{location}");
    assert!(res.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    assert!(set_cookie(&res, "kros_session").is_none());

    // The account's existing session goes on working; another account can sign in.
    assert_eq!(app.call(Method::GET, LIST, &session).await.status(), 200);
    sign_in(&app, "bob@example.com").await;
}

#[tokio::test]
async fn repeated_failed_api_authentications_are_throttled_per_client_address() {
    let throttle = ThrottleSettings { auth_failures_per_address: 5, ..Default::default() };
    let app = TestApp::spawn_with(Options { throttle, ..Options::default() }).await;
    let org = app.org("Acme").await;
    let guess = |i: usize| format!("kros_live_abcdefghijkl_{i:0>32}");
    // Five failures allowed, the sixth blocks; counted per process (PostgreSQL runs two).
    for i in 0..6 * processes() {
        assert_eq!(app.call(Method::GET, LIST, &guess(i)).await.status(), 401);
    }
    let res = app.call(Method::GET, LIST, &guess(99)).await;
    assert_error(res, 429, "rate_limited").await;
    // While blocked, the address's guesses are not even checked: a right key waits too.
    let res = app.call(Method::GET, LIST, &org.live_key).await;
    assert_eq!(res.status(), 429);
    assert!(res.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
}

#[tokio::test]
async fn a_user_without_a_password_takes_as_long_to_refuse_as_anyone() {
    let mut options = Options::default();
    options.auth.auto_create_users = true;
    let app = TestApp::spawn_with(options).await;
    let org = member(&app, "ada@example.com").await;
    // A user who signs in through Supabase: no password here.
    kros_numbers::service::organizations::create_supabase_user(
        &app.ctx,
        uuid::Uuid::new_v4(),
        "sam@example.com",
        org.id,
    )
    .await
    .unwrap();
    // The best of five, taken in turns (a busy moment of the machine slows every kind alike).
    let emails = ["nobody@example.com", "sam@example.com", "ada@example.com"];
    let mut best = [Duration::MAX; 3];
    for _ in 0..5 {
        for (i, email) in emails.iter().enumerate() {
            let started = Instant::now();
            let refused = kros_numbers::service::organizations::verify_login(&app.ctx, email, "some-password");
            assert!(refused.await.unwrap().is_none());
            best[i] = best[i].min(started.elapsed());
        }
    }
    let [unknown, passwordless, wrong] = best;
    assert!(passwordless * 3 > unknown && passwordless * 3 > wrong, "{passwordless:?} vs {unknown:?} / {wrong:?}");
}

#[tokio::test]
async fn a_client_request_id_is_echoed_only_when_short_and_printable() {
    let app = TestApp::spawn().await;
    let id_of = |value: String| {
        let request = app.client.get(app.url("/healthz")).header("x-request-id", value);
        async move { request.send().await.unwrap().headers()["x-request-id"].to_str().unwrap().to_string() }
    };
    assert_eq!(id_of("req-123".into()).await, "req-123");
    for bad in ["x".repeat(129), "a b".to_string(), "x".repeat(10 * 1024)] {
        let echoed = id_of(bad.clone()).await;
        assert_ne!(echoed, bad);
        assert!(uuid::Uuid::parse_str(&echoed).is_ok(), "a fresh id instead: {echoed}");
    }
}

#[tokio::test]
async fn names_refuse_control_and_invisible_characters_on_both_doors() {
    let app = TestApp::spawn().await;
    let org = member(&app, "ada@example.com").await;
    let token = sign_in(&app, "ada@example.com").await;
    for bad in ["\u{200b}\u{200b}", "invoice\u{202e}fdp.exe", "a\u{0}b", "line\u{2028}break", "\u{feff}"] {
        let res = app.call_json(Method::POST, "/v1/endpoints", &org.live_key, json!({"name": bad})).await;
        let body = assert_error(res, 400, "validation_error").await;
        assert_eq!(body["error"]["field"], "name", "{bad:?}");
        let res = post_form(&app, CreateApiKey::PATH, &token, &[("name", bad), ("mode", "live")], &[]).await;
        assert_eq!(res.status(), 400, "an API key named {bad:?}");
        let res = post_form(&app, CreateEndpoint::PATH, &token, &[("name", bad)], &[]).await;
        assert_eq!(res.status(), 400, "an endpoint named {bad:?} from the dashboard");
    }
    let res =
        app.call_json(Method::POST, "/v1/endpoints", &org.live_key, json!({"name": "Main trunk ✓ (Zürich)"})).await;
    assert_eq!(res.status(), 201);
    assert!(kros_numbers::service::organizations::create_organization(&app.ctx, "\u{200b}").await.is_err());
}

#[tokio::test]
async fn every_dashboard_page_needs_a_session_unless_declared_public() {
    let app = TestApp::spawn().await;
    // The server's own list (a second one made here would suppress resource loading meanwhile).
    let routes = kros_numbers::server::dashboard_routes();
    let mut checked = 0;
    for route in routes {
        let path = route.path().replace(":id", "00000000-0000-4000-8000-000000000000");
        let res = browser().get(app.url(&path)).send().await.unwrap();
        if path == "/sign-in" {
            assert_eq!(res.status(), 200);
        } else {
            assert_eq!(res.status(), 303, "{path} without a session");
            assert!(res.headers()[LOCATION].to_str().unwrap().starts_with("/sign-in?next="), "{path}");
            checked += 1;
        }
    }
    assert!(checked >= 5, "every signed-in page was checked ({checked})");
    // A path no page has yet is private too.
    assert_eq!(browser().get(app.url("/a-page-added-later")).send().await.unwrap().status(), 303);
}

#[tokio::test]
async fn prices_are_bounded_so_that_totals_never_overflow() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let max = kros_numbers::domain::parse::MAX_PRICE_CENTS;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", max, max).await;
    let buy = |total: i64| {
        app.call_json(
            Method::POST,
            LIST,
            &org.live_key,
            json!({"inventory_id": inv.to_string(), "totalCostCents": total}),
        )
    };
    let body = assert_error(buy(1).await, 409, "price_changed").await;
    assert!(body["error"]["message"].as_str().unwrap().contains(&format!("({} total)", 2 * max)), "{body}");
    let body = assert_error(buy(i64::MAX).await, 400, "validation_error").await;
    assert_eq!(body["error"]["field"], "totalCostCents");
}

#[tokio::test]
async fn sip_passwords_are_encrypted_at_rest_and_old_rows_are_sealed() {
    use kros_numbers::service::phone_numbers;
    use kros_numbers::service::secrets::SecretCipher;
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let inv = app.inventory(Mode::Live, "+14155550101", "US", "local", 100, 115).await;
    let id = app.buy(&org.live_key, inv).await["id"].as_str().unwrap().to_string();
    let id = uuid::Uuid::parse_str(&id).unwrap();
    let path = format!("{LIST}/{id}");
    let password = app.get_ok(&path, &org.live_key).await["sip_credentials"]["password"].as_str().unwrap().to_string();
    let stored = app.raw.sip_password_of(id).await;
    assert!(stored.starts_with("aes256gcm:") && !stored.contains(&password), "sealed: {stored}");

    // A row from before encryption, in clear text, is sealed at start and reads the same.
    app.raw.set_sip_password(id, "clear-text-from-2026-11").await;
    phone_numbers::seal_stored_sip_passwords(&app.ctx).await;
    assert!(app.raw.sip_password_of(id).await.starts_with("aes256gcm:"));
    assert_eq!(app.get_ok(&path, &org.live_key).await["sip_credentials"]["password"], "clear-text-from-2026-11");

    // Rotation: a new key, the old one kept for opening; at start every row moves to the new key.
    let old_key = app.ctx.store.setting_or_insert("sip_encryption_key", "unused").await.unwrap();
    let new_key = SecretCipher::generate_key();
    let rotated = kros_numbers::service::Context {
        secret_cipher: std::sync::Arc::new(SecretCipher::new(&new_key, &[old_key]).unwrap()),
        ..app.ctx.clone()
    };
    phone_numbers::seal_stored_sip_passwords(&rotated).await;
    let tenant = kros_numbers::service::Tenant {
        organization_id: org.id,
        mode: Mode::Live,
        actor: kros_numbers::domain::Actor::Operator,
    };
    let details = phone_numbers::get(&rotated, &tenant, id).await.unwrap();
    assert_eq!(details.sip_credentials.password.as_deref(), Some("clear-text-from-2026-11"));
    let only_new = kros_numbers::service::Context {
        secret_cipher: std::sync::Arc::new(SecretCipher::new(&new_key, &[]).unwrap()),
        ..app.ctx.clone()
    };
    assert!(phone_numbers::get(&only_new, &tenant, id).await.is_ok(), "no row needs the old key any more");
}

#[tokio::test]
async fn keys_made_before_a_pepper_was_configured_keep_working_and_move_to_it() {
    use kros_numbers::service::api_keys;
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await; // hashed with the pepper kept in the database
    let stored_pepper = app.ctx.api_key_pepper.clone();
    let configured = kros_numbers::service::Context {
        api_key_pepper: "a-pepper-from-the-environment-0123456789".into(),
        legacy_api_key_pepper: Some(stored_pepper.clone()),
        ..app.ctx.clone()
    };
    let key_id = app.key_id(&org.live_key).await;
    let hash_before = app.ctx.store.api_key_by_id(key_id).await.unwrap().unwrap().secret_hash;
    api_keys::authenticate(&configured, &org.live_key).await.expect("an older key keeps working");
    let hash_after = app.ctx.store.api_key_by_id(key_id).await.unwrap().unwrap().secret_hash;
    assert_ne!(hash_before, hash_after, "moved to the configured pepper");
    // From now on the configured pepper alone verifies it; the database's no longer does.
    let no_fallback = kros_numbers::service::Context { legacy_api_key_pepper: None, ..configured.clone() };
    api_keys::authenticate(&no_fallback, &org.live_key).await.expect("verified with the configured pepper");
    assert!(api_keys::authenticate(&app.ctx, &org.live_key).await.is_err(), "the stored pepper alone does not");
    let _ = stored_pepper;
}

#[tokio::test]
async fn oversized_urls_and_headers_get_the_json_error_shape() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let long = format!("{LIST}?country={}", "A".repeat(9 * 1024));
    let body = assert_error(app.call(Method::GET, &long, &org.live_key).await, 414, "uri_too_long").await;
    assert!(body["request_id"].as_str().is_some_and(|id| !id.is_empty()), "{body}");

    let mut many = app.request(Method::GET, LIST, &org.live_key);
    for i in 0..150 {
        many = many.header(format!("x-extra-{i}"), "1");
    }
    assert_error(many.send().await.unwrap(), 431, "headers_too_large").await;
    let big = app.request(Method::GET, LIST, &org.live_key).header("x-big", "b".repeat(40 * 1024));
    assert_error(big.send().await.unwrap(), 431, "headers_too_large").await;
    // Within the limits, all is as before.
    assert_eq!(app.call(Method::GET, LIST, &org.live_key).await.status(), 200);
}

/// Sends `request` as raw bytes (no client would send these) and reads the answer until the
/// server closes the connection; the writing side runs apart, since the server may answer and
/// close before reading everything.
async fn raw_exchange(address: &str, request: Vec<u8>) -> (u16, Value) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let stream = tokio::net::TcpStream::connect(address.trim_start_matches("http://")).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let sending = tokio::spawn(async move {
        let _ = writer.write_all(&request).await;
        writer
    });
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), reader.read_to_end(&mut answer)).await;
    drop(sending.await);
    let answer = String::from_utf8_lossy(&answer).to_string();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or_else(|| panic!("no HTTP answer: {answer:?}"));
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("{head}"));
    assert!(head.to_ascii_lowercase().contains("content-type: application/json"), "{head}");
    (status, serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body:?}")))
}

#[tokio::test]
async fn what_hyper_refuses_while_parsing_gets_the_json_error_shape_too() {
    let app = TestApp::spawn().await;
    let org = app.org("Acme").await;
    let auth = format!("Authorization: Bearer {}\r\n", org.live_key);
    let code = |body: &Value| body["error"]["code"].as_str().unwrap_or_default().to_string();

    // A URL past hyper's own 64 KiB limit (ours, 8 KiB, never sees it).
    let long = format!("GET {LIST}?country={} HTTP/1.1\r\nHost: x\r\n{auth}\r\n", "A".repeat(70 * 1024));
    let (status, body) = raw_exchange(&app.address, long.into_bytes()).await;
    assert_eq!((status, code(&body).as_str()), (414, "uri_too_long"), "{body}");
    assert!(body["request_id"].as_str().is_some_and(|id| !id.is_empty()), "{body}");

    // A head past hyper's read buffer (~400 KiB), in headers of 8 KiB each.
    let mut huge = format!("GET {LIST} HTTP/1.1\r\nHost: x\r\n{auth}");
    for i in 0..60 {
        huge.push_str(&format!("x-filler-{i}: {}\r\n", "f".repeat(8 * 1024)));
    }
    huge.push_str("\r\n");
    let (status, body) = raw_exchange(&app.address, huge.into_bytes()).await;
    assert_eq!((status, code(&body).as_str()), (431, "headers_too_large"), "{body}");

    // Two different lengths for one body: which is the body is ambiguous (request smuggling).
    let twice = format!(
        "POST /v1/endpoints HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: 2\r\nContent-Length: 14\r\n\r\n{{\"name\":\"x\"}}"
    );
    let (status, body) = raw_exchange(&app.address, twice.into_bytes()).await;
    assert_eq!((status, code(&body).as_str()), (400, "validation_error"), "{body}");
    // A header line that is not one.
    let broken = format!("GET {LIST} HTTP/1.1\r\nHost: x\r\n{auth}no colon here\r\n\r\n");
    let (status, _) = raw_exchange(&app.address, broken.into_bytes()).await;
    assert_eq!(status, 400);
    // Nothing was created, and the server serves on.
    let endpoints: Value = app.call(Method::GET, "/v1/endpoints", &org.live_key).await.json().await.unwrap();
    assert_eq!(endpoints["total"], 0, "{endpoints}");
}
