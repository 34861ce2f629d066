//! An installation made by an earlier version is upgraded in place and keeps its data.
//!
//! Each test builds a database with the migrations of the portable schema only (ids and times as
//! text, flags as 0/1 integers, as every earlier version stored them), writes into it what that
//! version wrote (an organization, a user, a live key and a revoked one, an endpoint, a sold
//! number with its audit entries and the Idempotency-Key record of its purchase, a released one,
//! numbers for sale), then starts the real `kros-numbers serve` on it, which migrates, and checks
//! over REST that every row, key and sale survived and still works. On SQLite always; on
//! PostgreSQL when `KROS_TEST_POSTGRES_URL` is set.

#[path = "support/pg.rs"]
mod pg;
#[path = "support/procs.rs"]
mod procs;

use kros_numbers::domain::PurchaseBody;
use kros_numbers::service::api_keys::hash_secret;
use kros_numbers::service::idempotency::Claim;
use procs::Server;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sqlx::migrate::Migrator;
use std::path::Path;

/// The first migration of the native schemas: everything before it is the portable schema.
const NATIVE_SCHEMA_VERSION: i64 = 20261201000001;

const ORG: &str = "6f1c1a52-5d43-4d0e-9b1a-0d5c6c0b5e01";
const USER: &str = "2d5b1f0e-8c59-4f0b-9a57-6a3f1c2b7d02";
const KEY: &str = "9a1e4b7c-3d2f-4e8a-b6c5-1f0e2d3c4b03";
const REVOKED_KEY: &str = "0b2c3d4e-5f60-4718-8293-a4b5c6d7e804";
const ENDPOINT: &str = "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e05";
const SOLD_INVENTORY: &str = "11111111-2222-4333-8444-555555555506";
const RELEASED_INVENTORY: &str = "11111111-2222-4333-8444-555555555507";
const FOR_SALE_INVENTORY: &str = "11111111-2222-4333-8444-555555555508";
const NUMBER: &str = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeee09";
const RELEASED_NUMBER: &str = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeee10";
const PEPPER: &str = "an-installation-pepper-written-by-an-earlier-version";
const PUBLIC_ID: &str = "abcdefgh1234";
const SECRET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
const REVOKED_PUBLIC_ID: &str = "zyxwvuts9876";
const CREATED: &str = "2026-11-27T10:00:00.123456Z";
const UPDATED: &str = "2026-11-28T11:30:00.654321Z";

fn live_key() -> String {
    format!("kros_live_{PUBLIC_ID}_{SECRET}")
}

fn revoked_key() -> String {
    format!("kros_live_{REVOKED_PUBLIC_ID}_{SECRET}")
}

/// The sold number as the earlier version answered its purchase (and stored for replay).
fn number_json() -> Value {
    json!({
        "id": NUMBER, "e164": "+14155550123", "country": "US", "type": "local", "status": "active",
        "endpoint_id": ENDPOINT, "allow_inbound": true, "allow_outbound": true,
        "sip_uri": "sip:+14155550123@sip.kros.local", "organization_id": ORG, "livemode": true,
        "setup_cost_cents": 100, "monthly_cost_cents": 115, "currency": "USD",
        "created_at": CREATED, "updated_at": UPDATED, "released_at": null
    })
}

/// The number as this version shows it: as it was, with no name, no tags and no deletion lock
/// (fields added since, which the upgrade gives their defaults).
fn upgraded_number_json() -> Value {
    let mut number = number_json();
    let added = json!({"friendly_name": "", "tags": [], "deletion_locked": false});
    number.as_object_mut().unwrap().extend(added.as_object().unwrap().clone());
    number
}

/// What an earlier version wrote, in its own format, as one SQL script (it runs as is on both).
fn old_data() -> String {
    let hash = hash_secret(PEPPER, SECRET);
    let body = number_json().to_string().replace('\'', "''");
    let retried: PurchaseBody = serde_json::from_value(json!({"inventory_id": SOLD_INVENTORY})).unwrap();
    let fingerprint = Claim::new("order-42", &retried).unwrap().fingerprint().to_string();
    // An hour ago: a key is kept a day.
    let keyed_at = (chrono::Utc::now() - chrono::Duration::hours(1)).format("%Y-%m-%dT%H:%M:%S%.6fZ");
    format!(
        "INSERT INTO settings (name, value) VALUES ('api_key_pepper', '{PEPPER}');
         INSERT INTO organizations VALUES ('{ORG}', 'Upgraded Org', '{CREATED}');
         INSERT INTO users VALUES ('{USER}', 'ada@example.com', NULL, '{CREATED}');
         INSERT INTO memberships VALUES ('{USER}', '{ORG}', '{CREATED}');
         INSERT INTO api_keys VALUES ('{KEY}', '{ORG}', 1, 'old key', '{PUBLIC_ID}', '{hash}', '{CREATED}', NULL, NULL);
         INSERT INTO api_keys VALUES ('{REVOKED_KEY}', '{ORG}', 1, 'revoked', '{REVOKED_PUBLIC_ID}', '{hash}', '{CREATED}', NULL, '{UPDATED}');
         INSERT INTO endpoints VALUES ('{ENDPOINT}', '{ORG}', 1, 'Main trunk', '{CREATED}');
         INSERT INTO inventory_numbers VALUES
           ('{SOLD_INVENTORY}', 1, '+14155550123', 'US', 'local', 100, 115, 'USD', 0, '{CREATED}'),
           ('{RELEASED_INVENTORY}', 1, '+14155550124', 'US', 'mobile', 200, 215, 'USD', 1, '{CREATED}'),
           ('{FOR_SALE_INVENTORY}', 1, '+14155550125', 'US', 'toll_free', 300, 315, 'USD', 1, '{CREATED}');
         INSERT INTO phone_numbers VALUES
           ('{NUMBER}', '{ORG}', '{SOLD_INVENTORY}', 1, '+14155550123', 'US', 'local', 'active', '{ENDPOINT}',
            1, 1, 'krosolduser0001', 'old-sip-password-000000001', 100, 115, 'USD', '{CREATED}', '{UPDATED}', NULL),
           ('{RELEASED_NUMBER}', '{ORG}', '{RELEASED_INVENTORY}', 1, '+14155550124', 'US', 'mobile', 'inactive', NULL,
            1, 0, 'krosolduser0002', 'old-sip-password-000000002', 200, 215, 'USD', '{CREATED}', '{UPDATED}', '{UPDATED}');
         INSERT INTO idempotency_keys VALUES ('{ORG}', 1, 'order-42', '{fingerprint}', 201, '{body}', '{keyed_at}');
         INSERT INTO audit_log VALUES
           ('a0000000-0000-4000-8000-000000000001', '{ORG}', 1, '{NUMBER}', 'purchase', 'api_key:{KEY}', NULL, '{body}', '{CREATED}'),
           ('a0000000-0000-4000-8000-000000000002', '{ORG}', 1, '{RELEASED_NUMBER}', 'purchase', 'api_key:{KEY}', NULL, '{{}}', '{CREATED}'),
           ('a0000000-0000-4000-8000-000000000003', '{ORG}', 1, '{RELEASED_NUMBER}', 'release', 'api_key:{KEY}', '{{}}', '{{}}', '{UPDATED}');"
    )
}

/// The migrations of the portable schema only, as an earlier version had them.
async fn old_migrator(backend: &str) -> Migrator {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("crates").join(format!("storage-{backend}")).join("migrations");
    let mut migrator = Migrator::new(dir).await.expect("read migrations");
    migrator.migrations = migrator.migrations.iter().filter(|m| m.version < NATIVE_SCHEMA_VERSION).cloned().collect();
    assert_eq!(migrator.migrations.len(), 2, "the portable schema had two migrations");
    migrator
}

const TABLES: [&str; 10] = [
    "settings",
    "organizations",
    "users",
    "memberships",
    "api_keys",
    "endpoints",
    "inventory_numbers",
    "phone_numbers",
    "idempotency_keys",
    "audit_log",
];

#[tokio::test]
async fn sqlite_installation_is_upgraded_in_place_and_keeps_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/kros.db?mode=rwc", dir.path().display());
    let db = sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect(&url).await.unwrap();
    old_migrator("sqlite").await.run(&db).await.unwrap();
    sqlx::raw_sql(&old_data()).execute(&db).await.unwrap();
    let before = sqlite_counts(&db).await;
    db.close().await;

    let url = format!("sqlite://{}/kros.db", dir.path().display());
    check_over_rest(&url, dir.path()).await;

    let db = sqlx::SqlitePool::connect(&url).await.unwrap();
    let after = sqlite_counts(&db).await;
    // Over REST: one number bought, one released (the for-sale number's purchase adds its rows).
    assert_eq!(after["organizations"], before["organizations"]);
    assert_eq!(after["api_keys"], before["api_keys"]);
    assert_eq!(after["phone_numbers"], before["phone_numbers"] + 1, "the old numbers plus the one bought");
    assert_eq!(after["idempotency_keys"], before["idempotency_keys"]);
    assert_eq!(after["audit_log"], before["audit_log"] + 2, "the old entries plus a purchase and a release");
    // In SQLite's own terms now: STRICT tables, ids as 16-byte BLOBs.
    for table in TABLES {
        let strict: i64 = sqlx::query_scalar("SELECT strict FROM pragma_table_list WHERE name = $1")
            .bind(table)
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(strict, 1, "{table} is STRICT");
    }
    let id_type: String =
        sqlx::query_scalar("SELECT DISTINCT typeof(id) FROM phone_numbers").fetch_one(&db).await.unwrap();
    assert_eq!(id_type, "blob");
    let broken: Vec<(String,)> =
        sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check").fetch_all(&db).await.unwrap();
    assert!(broken.is_empty(), "every foreign key still names its row: {broken:?}");
    // The dashboard's summary: filled in from the old numbers, then kept by the triggers through
    // the purchase and the release over REST.
    type Group = (Vec<u8>, i64, String, String, String, i64, i64);
    let kept: Vec<Group> = sqlx::query_as(
        "SELECT organization_id, livemode, country, number_type, currency, count, monthly_cost_cents \
         FROM owned_number_groups WHERE count > 0 ORDER BY 1, 2, 3, 4, 5",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    let counted: Vec<Group> = sqlx::query_as(
        "SELECT organization_id, livemode, country, number_type, currency, COUNT(*), SUM(monthly_cost_cents) \
         FROM phone_numbers WHERE released_at IS NULL GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    assert!(!kept.is_empty());
    assert_eq!(kept, counted, "the summary says what is owned");
}

async fn sqlite_counts(db: &sqlx::SqlitePool) -> std::collections::HashMap<&'static str, i64> {
    let mut counts = std::collections::HashMap::new();
    for table in TABLES {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(db).await.unwrap();
        counts.insert(table, n);
    }
    counts
}

#[tokio::test]
#[ignore = "needs PostgreSQL: scripts/test-postgres.sh (make test) runs it"]
async fn postgres_installation_is_upgraded_in_place_and_keeps_its_data() {
    let server = pg::required_server_url();
    let (name, url) = pg::create_database(&server, "kros_upgrade").await;
    let dir = tempfile::tempdir().unwrap();
    let db = sqlx::postgres::PgPoolOptions::new().max_connections(1).connect(&url).await.unwrap();
    old_migrator("postgres").await.run(&db).await.unwrap();
    sqlx::raw_sql(&old_data()).execute(&db).await.unwrap();

    check_over_rest(&url, dir.path()).await;

    // In PostgreSQL's own terms now.
    let types: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, udt_name::text FROM information_schema.columns \
         WHERE table_schema = 'public' AND table_name = 'phone_numbers' ORDER BY column_name",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    let type_of = |column: &str| types.iter().find(|t| t.1 == column).map(|t| t.2.clone()).unwrap();
    assert_eq!(type_of("id"), "uuid");
    assert_eq!(type_of("created_at"), "timestamptz");
    assert_eq!(type_of("allow_inbound"), "bool");
    assert_eq!(type_of("number_type"), "number_type");
    assert_eq!(type_of("status"), "number_status");
    let audit: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE jsonb_typeof(after_state) = 'object'")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(audit, 5, "the old entries, and a purchase and a release, as jsonb");
    db.close().await;
    pg::drop_database_blocking(&server, &name);
}

/// Starts `serve` on the old database (it migrates) and uses what the earlier version stored.
async fn check_over_rest(database_url: &str, dir: &Path) {
    let mut server = Server::start(database_url, dir, "upgraded", &[]);
    server.wait_ready();
    let http = reqwest::Client::new();
    let get = |path: &str, key: String| http.get(server.url(path)).bearer_auth(key).send();

    // The old key still opens the organization; the revoked one stays revoked.
    let res = get("/v1/phone-numbers", live_key()).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let page: Value = res.json().await.unwrap();
    assert_eq!(page["total"], 1, "the released number is not listed: {page}");
    assert_eq!(page["data"][0], upgraded_number_json(), "the number reads back exactly as it was");
    assert_eq!(get("/v1/phone-numbers", revoked_key()).await.unwrap().status(), StatusCode::UNAUTHORIZED);

    // Its SIP credentials survived.
    let details: Value = get(&format!("/v1/phone-numbers/{NUMBER}"), live_key()).await.unwrap().json().await.unwrap();
    assert_eq!(details["sip_credentials"]["username"], "krosolduser0001");
    assert_eq!(details["sip_credentials"]["password"], "old-sip-password-000000001");
    let released: Value =
        get(&format!("/v1/phone-numbers/{RELEASED_NUMBER}"), live_key()).await.unwrap().json().await.unwrap();
    assert_eq!(released["released_at"], UPDATED);
    assert_eq!(released["status"], "inactive");

    // The sale holds: the sold number cannot be bought again.
    let buy = |inventory_id: &str| {
        http.post(server.url("/v1/phone-numbers"))
            .bearer_auth(live_key())
            .json(&json!({"inventory_id": inventory_id}))
            .send()
    };
    let res = buy(SOLD_INVENTORY).await.unwrap();
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(res.json::<Value>().await.unwrap()["error"]["code"], "number_unavailable");

    // The endpoint, the inventory and the released number's return to sale work as before.
    let res = http
        .post(server.url("/v1/phone-numbers"))
        .bearer_auth(live_key())
        .json(&json!({"inventory_id": RELEASED_INVENTORY, "endpointId": ENDPOINT, "totalCostCents": 415}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED, "the released number is for sale again");
    let bought: Value = res.json().await.unwrap();
    assert_eq!(bought["endpoint_id"], ENDPOINT);
    let res =
        http.delete(server.url(&format!("/v1/phone-numbers/{NUMBER}?action=release"))).bearer_auth(live_key()).send();
    assert_eq!(res.await.unwrap().status(), StatusCode::OK);
    let for_sale: Value =
        get("/v1/phone-numbers?action=available&country=US", live_key()).await.unwrap().json().await.unwrap();
    let e164s: Vec<&str> = for_sale["data"].as_array().unwrap().iter().map(|n| n["e164"].as_str().unwrap()).collect();
    assert_eq!(e164s, ["+14155550123", "+14155550125"], "the released number and the untouched one are for sale");

    // The Idempotency-Key record of the old purchase still answers a retry.
    let res = http
        .post(server.url("/v1/phone-numbers"))
        .bearer_auth(live_key())
        .header("Idempotency-Key", "order-42")
        .json(&json!({"inventory_id": SOLD_INVENTORY}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED, "the stored answer is replayed");
    assert_eq!(res.headers()["idempotent-replayed"], "true");
    assert_eq!(res.json::<Value>().await.unwrap(), upgraded_number_json());
    drop(server);
}
