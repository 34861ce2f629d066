//! Spawns the real app (the same router `kros-numbers serve` runs) on 127.0.0.1:0 with a fresh
//! database, and offers setup shortcuts through the service layer.
//!
//! The database is a SQLite file in a temporary folder, or, when `KROS_TEST_POSTGRES_URL` names a
//! PostgreSQL server, a fresh database on that server (dropped when the test ends). On
//! PostgreSQL every test runs against TWO instances of the app (each with its own state and
//! connection pool, like two `serve` processes) sharing that database, and the requests alternate
//! between them: the whole contract suite is a scale-out test too. Rate-limited apps stay single,
//! since rate limits are per process by design. The tests themselves are backend-neutral: what
//! they read straight from the database goes through [`RawDb`], whose few statements are the same
//! SQL on both.

use crate::pg;
use kros_numbers::domain::Mode;
use kros_numbers::error::AppError;
use kros_numbers::pages::session::SignIn;
use kros_numbers::server::{self, ServerSettings, ServiceSettings, ThrottleSettings};
use kros_numbers::service::auth::AuthSettings;
use kros_numbers::service::calls::CallSettings;
use kros_numbers::service::inventory::{self, NewInventoryNumber};
use kros_numbers::service::reservations::ReservationSettings;
use kros_numbers::service::webhooks::WebhookSettings;
use kros_numbers::service::{api_keys, organizations, Context};
use kros_numbers::storage::{IfMissing, PoolSettings};
use leptos::server_fn::ServerFn;
use reqwest::header::{LOCATION, SET_COOKIE};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::Value;
use uuid::Uuid;

pub const JWT_SECRET: &str = "test-jwt-secret-of-a-reasonable-length-0123456789";
pub const SIP_DOMAIN: &str = "sip.test.kros";
/// The SIP door's secret in tests (what Kamailio presents, HTTP Basic).
pub const SIP_DOOR_SECRET: &str = "test-sip-door-secret-0123456789";
/// The password of every user `TestApp::user` makes.
pub const USER_PASSWORD: &str = "a-good-password";

pub struct TestApp {
    /// `http://127.0.0.1:PORT` of the first instance.
    #[allow(dead_code)]
    pub address: String,
    /// The first instance's context (setup shortcuts go through it; the database is shared).
    pub ctx: Context,
    /// `http://127.0.0.1:PORT` of the first instance's SIP door (the SIP servers' API).
    pub sip_door: String,
    pub client: reqwest::Client,
    /// The database itself, for checks that look past the API.
    pub raw: RawDb,
    /// Every instance's address and context; requests take turns.
    instances: Vec<(String, Context)>,
    turn: std::sync::atomic::AtomicUsize,
    _dir: tempfile::TempDir,
    /// (server URL, database name) when the test runs on PostgreSQL.
    postgres: Option<(String, String)>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some((server, name)) = self.postgres.take() {
            pg::drop_database_blocking(&server, &name);
        }
    }
}

/// Knobs for [`TestApp::spawn_with`].
pub struct Options {
    pub rate_limit_per_second: u32,
    pub rate_limit_burst: u32,
    /// How session tokens are checked; by default legacy HS256 tokens with [`JWT_SECRET`].
    pub auth: AuthSettings,
    pub public_url: Option<String>,
    /// Failed-authentication throttles: off unless a test turns them on.
    pub throttle: ThrottleSettings,
    /// The secrets kept out of the database; none by default (the database's fallbacks).
    pub secrets: kros_numbers::service::secrets::SecretSettings,
    /// Webhooks: by default private URLs allowed (the receivers are on loopback), short
    /// retries, a quick poll.
    pub webhooks: WebhookSettings,
    /// Reservations: the default 15-minute hold unless a test shortens it.
    pub reservations: ReservationSettings,
    /// Calls: by default targets on loopback allowed (the SIP peers of the tests are there).
    pub calls: CallSettings,
    /// Each instance's pool (PostgreSQL) or read pool (SQLite): 4 on PostgreSQL (the suite shares
    /// one server's connections), SQLite's default, unless a test makes it smaller.
    pub max_connections: Option<u32>,
}

/// Webhook settings for tests: receivers on loopback, retries a fraction of a second apart.
pub fn test_webhook_settings() -> WebhookSettings {
    WebhookSettings {
        allow_private_urls: true,
        timeout: std::time::Duration::from_secs(3),
        retry_schedule: vec![std::time::Duration::from_millis(300); 2],
        poll_interval: std::time::Duration::from_millis(100),
        ..WebhookSettings::default()
    }
}

impl Default for Options {
    fn default() -> Self {
        let auth = AuthSettings { jwt_secret: Some(JWT_SECRET.to_string()), ..AuthSettings::default() };
        Options {
            rate_limit_per_second: 0,
            rate_limit_burst: 0,
            auth,
            public_url: None,
            throttle: ThrottleSettings::default(),
            secrets: Default::default(),
            webhooks: test_webhook_settings(),
            reservations: ReservationSettings::default(),
            calls: CallSettings { allow_private_targets: true, ..CallSettings::default() },
            max_connections: None,
        }
    }
}

/// A number bought for the SIP tests, with its credentials.
pub struct SipNumber {
    pub id: String,
    pub username: String,
    pub password: String,
}

/// An organization with one live and one test API key.
pub struct Org {
    pub id: Uuid,
    pub live_key: String,
    pub test_key: String,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(Options::default()).await
    }

    pub async fn spawn_with(options: Options) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let (database_url, pool, postgres) = match pg::server_url() {
            Some(server) => {
                let (name, url) = pg::create_database(&server, "kros_t").await;
                // Small pools: the whole suite shares one server's connection limit.
                let pool =
                    PoolSettings { max_connections: options.max_connections.or(Some(4)), ..PoolSettings::default() };
                (url, pool, Some((server, name)))
            }
            None => {
                let pool = PoolSettings { max_connections: options.max_connections, ..PoolSettings::default() };
                (format!("sqlite://{}/kros.db", dir.path().display()), pool, None)
            }
        };
        let count = if postgres.is_some() && options.rate_limit_per_second == 0 { 2 } else { 1 };
        let settings = ServerSettings {
            database_url: database_url.clone(),
            pool,
            service: ServiceSettings {
                sip_domain: SIP_DOMAIN.to_string(),
                webhooks: options.webhooks.clone(),
                reservations: options.reservations,
                calls: options.calls.clone(),
            },
            auth: options.auth.clone(),
            rate_limit_per_second: options.rate_limit_per_second,
            rate_limit_burst: options.rate_limit_burst,
            site_root: "target/site".to_string(),
            site_addr: "127.0.0.1:0".parse().unwrap(),
            if_missing: IfMissing::Create,
            public_url: options.public_url.clone(),
            sip_door: None,
            throttle: options.throttle.clone(),
            connections: Default::default(),
            secrets: options.secrets.clone(),
        };
        let mut instances = Vec::new();
        for _ in 0..count {
            let state = server::state(&settings).await.expect("app state");
            let ctx = state.ctx.clone();
            // Each instance delivers webhooks, as each `serve` process does.
            kros_numbers::service::webhooks::delivery::spawn(ctx.clone()).expect("webhook worker");
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let address = format!("http://{}", listener.local_addr().unwrap());
            // The accept loop `serve` runs (timeouts, limits, the client's address).
            // The SIP door, on a listener of its own (as `serve` runs it with KROS_SIP_DOOR_ADDR).
            let door_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
            let door = format!("http://{}", door_listener.local_addr().unwrap());
            let door_app = kros_numbers::sip_door::router(state.ctx.clone(), SIP_DOOR_SECRET.into());
            tokio::spawn(server::connections::serve(
                door_listener,
                door_app,
                Default::default(),
                std::future::pending(),
            ));
            let app = server::router(state);
            tokio::spawn(server::connections::serve(listener, app, Default::default(), std::future::pending()));
            instances.push((address, ctx, door));
        }
        let (address, ctx, sip_door) = instances[0].clone();
        let instances = instances.into_iter().map(|(address, ctx, _)| (address, ctx)).collect();
        TestApp {
            address,
            ctx,
            sip_door,
            client: reqwest::Client::new(),
            raw: RawDb::connect(&database_url).await,
            instances,
            turn: Default::default(),
            _dir: dir,
            postgres,
        }
    }

    /// Takes the database away from every instance (their pools are closed).
    pub async fn close_database(&self) {
        for (_, ctx) in &self.instances {
            ctx.store.close().await;
        }
    }

    /// A new organization with a live and a test key.
    pub async fn org(&self, name: &str) -> Org {
        let id = organizations::create_organization(&self.ctx, name).await.unwrap();
        let live_key = api_keys::create(&self.ctx, id, Mode::Live, "live").await.unwrap().key;
        let test_key = api_keys::create(&self.ctx, id, Mode::Test, "test").await.unwrap().key;
        Org { id, live_key, test_key }
    }

    /// A user who is a member of `org`; returns the user id.
    pub async fn user(&self, email: &str, org: Uuid) -> Uuid {
        organizations::create_user(&self.ctx, email, USER_PASSWORD, org).await.unwrap()
    }

    /// Makes `user` a member of `org` too (a newer membership than the ones they have).
    pub async fn add_member(&self, user: Uuid, org: Uuid) {
        self.ctx.store.insert_membership(user, org).await.unwrap();
    }

    /// The id of an API key (as the audit log names it), from its full text.
    pub async fn key_id(&self, key: &str) -> Uuid {
        let public_id = key.split('_').nth(2).expect("kros_<mode>_<public id>_<secret>");
        self.ctx.store.api_key_by_public_id(public_id).await.unwrap().expect("a stored key").id
    }

    /// Is this inventory number for sale (straight from the database)?
    pub async fn is_available(&self, inventory_id: Uuid) -> bool {
        self.raw.count("SELECT COUNT(*) FROM inventory_numbers WHERE id = $1 AND available", inventory_id).await == 1
    }

    /// How many `phone_numbers` rows (released or not) exist for an inventory number.
    pub async fn rows_for_inventory(&self, inventory_id: Uuid) -> i64 {
        self.raw.count("SELECT COUNT(*) FROM phone_numbers WHERE inventory_id = $1", inventory_id).await
    }

    /// How many `phone_numbers` rows (released or not) an organization has.
    pub async fn rows_for_org(&self, org: Uuid) -> i64 {
        self.raw.count("SELECT COUNT(*) FROM phone_numbers WHERE organization_id = $1", org).await
    }

    /// GET that must answer 200; returns the JSON body.
    pub async fn get_ok(&self, path: &str, credential: &str) -> Value {
        let res = self.call(Method::GET, path, credential).await;
        assert_eq!(res.status(), 200, "GET {path}");
        body_json(res).await
    }

    /// Creates an endpoint through the API; returns its id.
    pub async fn endpoint(&self, credential: &str, name: &str) -> Uuid {
        let res = self.call_json(Method::POST, "/v1/endpoints", credential, serde_json::json!({"name": name})).await;
        assert_eq!(res.status(), 201, "endpoint creation failed");
        body_json(res).await["id"].as_str().unwrap().parse().unwrap()
    }

    /// Adds one number priced 150 + 300 in `currency` to the inventory; returns its inventory id.
    pub async fn inventory_in(&self, mode: Mode, e164: &str, country: &str, number_type: &str, currency: &str) -> Uuid {
        self.add_inventory(mode, NewInventoryNumber::parse(e164, country, number_type, "150", "300", currency)).await
    }

    /// Adds one number to the inventory; returns its inventory id.
    pub async fn inventory(
        &self,
        mode: Mode,
        e164: &str,
        country: &str,
        number_type: &str,
        setup: i64,
        monthly: i64,
    ) -> Uuid {
        let (setup, monthly) = (setup.to_string(), monthly.to_string());
        self.add_inventory(mode, NewInventoryNumber::parse(e164, country, number_type, &setup, &monthly, "USD")).await
    }

    async fn add_inventory(&self, mode: Mode, parsed: Result<NewInventoryNumber, AppError>) -> Uuid {
        let n = parsed.unwrap_or_else(|e| panic!("bad test inventory: {e}"));
        let e164 = n.e164.as_str().to_string();
        inventory::add(&self.ctx, mode, &[n], |_| {}).await.unwrap();
        self.ctx.store.inventory_by_e164(mode.is_live(), &e164).await.unwrap().expect("just added").id
    }

    pub fn url(&self, path: &str) -> String {
        let turn = self.turn.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("{}{}", self.instances[turn % self.instances.len()].0, path)
    }

    /// A request with `Authorization: Bearer <credential>`.
    pub fn request(&self, method: Method, path: &str, credential: &str) -> RequestBuilder {
        self.client.request(method, self.url(path)).bearer_auth(credential)
    }

    pub async fn call(&self, method: Method, path: &str, credential: &str) -> Response {
        self.request(method, path, credential).send().await.expect("request")
    }

    pub async fn call_json(&self, method: Method, path: &str, credential: &str, body: Value) -> Response {
        self.request(method, path, credential).json(&body).send().await.expect("request")
    }

    /// Buys an inventory number with the API flow; panics unless 201. Returns the number object.
    pub async fn buy(&self, key: &str, inventory_id: Uuid) -> Value {
        let res = self
            .call_json(Method::POST, "/v1/phone-numbers", key, serde_json::json!({"inventory_id": inventory_id}))
            .await;
        assert_eq!(res.status(), 201, "purchase failed");
        body_json(res).await
    }

    /// Buys `e164` in `mode` through the API (attached to `endpoint`, if given), applies
    /// `settings` (a PATCH body; `{}` for none), and reads its SIP credentials.
    pub async fn buy_sip_number(
        &self,
        key: &str,
        mode: Mode,
        e164: &str,
        endpoint: Option<&str>,
        settings: Value,
    ) -> SipNumber {
        let inventory_id = self.inventory(mode, e164, "US", "local", 100, 115).await;
        let body = serde_json::json!({"inventory_id": inventory_id, "endpointId": endpoint});
        let res = self.call_json(Method::POST, "/v1/phone-numbers", key, body).await;
        assert_eq!(res.status(), 201, "purchase failed");
        let id = body_json(res).await["id"].as_str().unwrap().to_string();
        let path = format!("/v1/phone-numbers/{id}");
        if settings != serde_json::json!({}) {
            assert_eq!(self.call_json(Method::PATCH, &path, key, settings).await.status(), 200);
        }
        let credentials = self.get_ok(&path, key).await["sip_credentials"].clone();
        let text = |field: &str| credentials[field].as_str().unwrap().to_string();
        SipNumber { id, username: text("username"), password: text("password") }
    }

    /// A session JWT in the Supabase format for `user_id`, signed with the server's secret.
    pub fn jwt(&self, user_id: Uuid) -> String {
        self.jwt_with(
            serde_json::json!({
                "sub": user_id.to_string(), "aud": "authenticated", "role": "authenticated",
                "exp": chrono::Utc::now().timestamp() + 3600,
            }),
            JWT_SECRET,
        )
    }

    pub fn jwt_with(&self, claims: Value, secret: &str) -> String {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }
}

/// Unpadded base64url, for hand-built JWTs.
pub fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

pub async fn body_json(res: Response) -> Value {
    let text = res.text().await.expect("body");
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
}

/// Asserts the contract's error shape, status and code; returns the body.
pub async fn assert_error(res: Response, status: u16, code: &str) -> Value {
    assert_eq!(res.status().as_u16(), status, "status");
    assert!(
        res.headers().get("content-type").is_some_and(|v| v.to_str().unwrap().starts_with("application/json")),
        "error responses are JSON"
    );
    let header_id = res.headers().get("x-request-id").map(|v| v.to_str().unwrap().to_string());
    let body = body_json(res).await;
    assert_eq!(body["error"]["code"], code, "error code in {body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "a message in {body}");
    assert_eq!(body["request_id"].as_str(), header_id.as_deref(), "request_id matches x-request-id");
    body
}

/// The test's own connection to its database, for what the API does not show. Each statement
/// here is the same SQL on both databases (`$1` is also SQLite's placeholder; a `Uuid` binds as
/// each one stores it).
pub enum RawDb {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl RawDb {
    pub async fn connect(database_url: &str) -> RawDb {
        if database_url.starts_with("sqlite:") {
            RawDb::Sqlite(
                sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect(database_url).await.unwrap(),
            )
        } else {
            RawDb::Postgres(
                sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(database_url).await.unwrap(),
            )
        }
    }

    /// `SELECT COUNT(*) ... WHERE ... = $1` for one id.
    pub async fn count(&self, sql: &str, id: Uuid) -> i64 {
        match self {
            RawDb::Sqlite(db) => sqlx::query_scalar(sql).bind(id).fetch_one(db).await.unwrap(),
            RawDb::Postgres(db) => sqlx::query_scalar(sql).bind(id).fetch_one(db).await.unwrap(),
        }
    }

    /// The text columns of every row of a query (`SELECT a, b, c FROM ...`).
    pub async fn texts(&self, sql: &str) -> Vec<(String, String, String)> {
        match self {
            RawDb::Sqlite(db) => sqlx::query_as(sql).fetch_all(db).await.unwrap(),
            RawDb::Postgres(db) => sqlx::query_as(sql).fetch_all(db).await.unwrap(),
        }
    }

    /// The SIP password stored for a phone number.
    pub async fn sip_password_of(&self, id: Uuid) -> String {
        let sql = "SELECT sip_password FROM phone_numbers WHERE id = $1";
        match self {
            RawDb::Sqlite(db) => sqlx::query_scalar(sql).bind(id).fetch_one(db).await.unwrap(),
            RawDb::Postgres(db) => sqlx::query_scalar(sql).bind(id).fetch_one(db).await.unwrap(),
        }
    }

    pub async fn set_sip_password(&self, id: Uuid, stored: &str) {
        let sql = "UPDATE phone_numbers SET sip_password = $1 WHERE id = $2";
        match self {
            RawDb::Sqlite(db) => sqlx::query(sql).bind(stored).bind(id).execute(db).await.map(|_| ()),
            RawDb::Postgres(db) => sqlx::query(sql).bind(stored).bind(id).execute(db).await.map(|_| ()),
        }
        .unwrap();
    }

    /// The organization that owns an inventory number's live phone number.
    pub async fn owner_of(&self, inventory_id: Uuid) -> Uuid {
        let sql = "SELECT organization_id FROM phone_numbers WHERE inventory_id = $1 AND released_at IS NULL";
        match self {
            RawDb::Sqlite(db) => sqlx::query_scalar(sql).bind(inventory_id).fetch_one(db).await.unwrap(),
            RawDb::Postgres(db) => sqlx::query_scalar(sql).bind(inventory_id).fetch_one(db).await.unwrap(),
        }
    }

    /// An Idempotency-Key record of the organization's live mode, claimed now, with no answer.
    pub async fn claim_idempotency_key(&self, org: Uuid, key: &str, fingerprint: &str) {
        let sql =
            "INSERT INTO idempotency_keys (organization_id, livemode, idempotency_key, request_hash, created_at) \
                   VALUES ($1, true, $2, $3, $4)";
        let now = chrono::Utc::now();
        match self {
            RawDb::Sqlite(db) => {
                sqlx::query(sql).bind(org).bind(key).bind(fingerprint).bind(now).execute(db).await.map(|_| ())
            }
            RawDb::Postgres(db) => {
                sqlx::query(sql).bind(org).bind(key).bind(fingerprint).bind(now).execute(db).await.map(|_| ())
            }
        }
        .unwrap();
    }

    /// Moves an Idempotency-Key record of the organization's live mode `by` into the past.
    pub async fn age_idempotency_key(&self, org: Uuid, key: &str, by: chrono::Duration) {
        let sql = "UPDATE idempotency_keys SET created_at = $1 WHERE organization_id = $2 AND idempotency_key = $3";
        let then = chrono::Utc::now() - by;
        let updated = match self {
            RawDb::Sqlite(db) => {
                sqlx::query(sql).bind(then).bind(org).bind(key).execute(db).await.unwrap().rows_affected()
            }
            RawDb::Postgres(db) => {
                sqlx::query(sql).bind(then).bind(org).bind(key).execute(db).await.unwrap().rows_affected()
            }
        };
        assert_eq!(updated, 1, "the key's record exists");
    }
}

// ---------------------------------------------------------------------------------------------
// The dashboard door, as a browser uses it: plain form posts to server functions

/// A browser posting plain forms (it accepts HTML), that does not follow redirects, so the tests
/// see them.
pub fn browser() -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::ACCEPT, "text/html".parse().unwrap());
    // A page that never finishes fails its test instead of hanging the suite.
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(headers)
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .unwrap()
}

/// The value a response sets for a cookie.
pub fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next()?.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// Signs in through the sign-in form's server function; returns the session token.
pub async fn sign_in(app: &TestApp, email: &str) -> String {
    let res = browser()
        .post(app.url(SignIn::PATH))
        .form(&[("email", email), ("password", USER_PASSWORD), ("next", "/")])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection(), "sign-in answers a redirect: {}", res.status());
    assert_eq!(res.headers()[LOCATION], "/");
    set_cookie(&res, "kros_session").filter(|t| !t.is_empty()).expect("a session cookie")
}

/// The fields a browser posts for the form of `html` whose action is `action`, as the page
/// renders them: every named input (a checkbox only when ticked, none that belongs to another
/// form through `form=`), each textarea's text, and each select's selected option (its first
/// without one).
pub fn form_fields(html: &str, action: &str) -> Vec<(String, String)> {
    let start = html.find(&format!("action=\"{action}\"")).unwrap_or_else(|| panic!("no form for {action}"));
    let form = &html[start..start + html[start..].find("</form>").expect("the form's end")];
    let unescape = |text: &str| {
        text.replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&#x27;", "'")
            .replace("&amp;", "&")
    };
    let attr = |tag: &str, name: &str| {
        let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        Some(unescape(&tag[at..at + tag[at..].find('"')?]))
    };
    let flag = |tag: &str, name: &str| tag.split([' ', '>', '/']).any(|word| word == name);
    let mut fields = Vec::new();
    let mut select: Option<(String, Option<String>)> = None;
    for piece in form.split('<').skip(1) {
        let tag = &piece[..piece.find('>').unwrap_or(piece.len())];
        if tag.starts_with("input ") {
            let (Some(name), kind) = (attr(tag, "name"), attr(tag, "type").unwrap_or_default()) else { continue };
            if attr(tag, "form").is_some() || kind == "submit" {
                continue;
            }
            if kind == "checkbox" {
                if flag(tag, "checked") {
                    fields.push((name, attr(tag, "value").unwrap_or_else(|| "on".into())));
                }
            } else {
                fields.push((name, attr(tag, "value").unwrap_or_default()));
            }
        } else if tag.starts_with("textarea ") {
            if let Some(name) = attr(tag, "name") {
                fields.push((name, unescape(piece.get(tag.len() + 1..).unwrap_or_default())));
            }
        } else if tag.starts_with("select ") {
            select = attr(tag, "name").map(|name| (name, None));
        } else if tag.starts_with("option") {
            if let Some((_, chosen)) = select.as_mut() {
                let value = attr(tag, "value").unwrap_or_default();
                if flag(tag, "selected") || chosen.is_none() {
                    *chosen = Some(value);
                }
            }
        } else if tag.starts_with("/select") {
            if let Some((name, Some(value))) = select.take() {
                fields.push((name, value));
            }
        }
    }
    fields
}

/// Sets (or adds) a field of a form's fields.
pub fn with_field(mut fields: Vec<(String, String)>, name: &str, value: &str) -> Vec<(String, String)> {
    match fields.iter_mut().find(|(n, _)| n == name) {
        Some(field) => field.1 = value.to_string(),
        None => fields.push((name.to_string(), value.to_string())),
    }
    fields
}
