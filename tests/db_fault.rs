//! The database goes away under load and comes back (twice: a crash, then a clean shutdown): a `kros-numbers serve` process on a
//! PostgreSQL cluster of its own answers 503 `unavailable` quickly while the database is down
//! (never 500, never a hang), `/readyz` says so while `/healthz` stays 200, and once the database
//! is back the same process serves again, without a restart, with consistent data.
//!
//! Runs when `KROS_TEST_POSTGRES_URL` is set (that is, PostgreSQL is installed; `make test` sets
//! it); the cluster itself is a dedicated one started here with `scripts/pg.sh`, so that stopping
//! it disturbs no other test.

#[path = "support/pg.rs"]
mod pg;
#[path = "support/procs.rs"]
mod procs;

use procs::Server;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PG_SH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/pg.sh");
/// How long a request may wait for a pooled connection before its 503.
const ACQUIRE_TIMEOUT_MS: u64 = 1000;
/// No request may take longer than this, database or not.
const MAX_ANSWER_TIME: Duration = Duration::from_secs(5);

/// A PostgreSQL cluster of this test's own, stopped when dropped.
struct Cluster {
    dir: PathBuf,
    port: u16,
    _tmp: tempfile::TempDir,
}

impl Cluster {
    fn start_new() -> (Cluster, String) {
        let tmp = tempfile::tempdir().unwrap();
        // As root, pg.sh runs the cluster as the `postgres` user: it must reach the folder.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let cluster = Cluster { dir: tmp.path().join("pg"), port: procs::free_port(), _tmp: tmp };
        let url = cluster.start();
        (cluster, url)
    }

    fn start(&self) -> String {
        let out = Command::new(PG_SH).args(["start", path(&self.dir), &self.port.to_string()]).output().unwrap();
        assert!(out.status.success(), "pg.sh start: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Stops the server: `immediate` is like a crash (connections are cut, the next start runs
    /// crash recovery); `fast` ends the sessions with an error and shuts down cleanly.
    fn stop(&self, mode: &str) {
        let out = Command::new(PG_SH).args(["stop", path(&self.dir), mode]).output().unwrap();
        assert!(out.status.success(), "pg.sh stop: {}", String::from_utf8_lossy(&out.stderr));
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(PG_SH).args(["stop", path(&self.dir), "immediate"]).output();
    }
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[derive(Debug, Clone)]
struct Record {
    what: &'static str,
    started: Instant,
    ended: Instant,
    /// 0: no answer (timeout or connection error).
    status: u16,
    code: String,
    body: Value,
}

/// When one outage began and ended, as seen by the test.
struct Outage {
    mode: &'static str,
    down_begin: Instant,
    down_done: Instant,
    up_begin: Instant,
    recovered: Instant,
    /// The end of this outage's observation (the next outage begins after it).
    next: Instant,
}

#[derive(Clone)]
struct Load {
    client: reqwest::Client,
    base: String,
    key: String,
    records: Arc<Mutex<Vec<Record>>>,
    stop: Arc<AtomicBool>,
}

impl Load {
    async fn call(&self, what: &'static str, req: reqwest::RequestBuilder) -> Record {
        let started = Instant::now();
        let (status, body) = match req.send().await {
            Ok(res) => {
                let status = res.status().as_u16();
                let text = res.text().await.unwrap_or_default();
                (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
            }
            Err(e) => (0, Value::String(e.to_string())),
        };
        let code = body["error"]["code"].as_str().unwrap_or("").to_string();
        let record = Record { what, started, ended: Instant::now(), status, code, body };
        self.records.lock().unwrap().push(record.clone());
        record
    }

    fn api(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base)).bearer_auth(&self.key)
    }

    /// One buyer: buy a number, read it, change it, release it; list; again.
    async fn worker(self, inventory: Vec<String>) {
        let mut to_release: Vec<String> = Vec::new();
        let mut i = 0;
        while !self.stop.load(Ordering::Relaxed) {
            // Numbers whose release failed earlier are released first.
            let mut still = Vec::new();
            for id in to_release.drain(..) {
                let r = self
                    .call(
                        "release",
                        self.api(reqwest::Method::DELETE, &format!("/v1/phone-numbers/{id}?action=release")),
                    )
                    .await;
                if r.status != 200 {
                    still.push(id);
                }
            }
            to_release = still;

            let inv = &inventory[i % inventory.len()];
            i += 1;
            let bought = self
                .call(
                    "purchase",
                    self.api(reqwest::Method::POST, "/v1/phone-numbers").json(&json!({"inventory_id": inv})),
                )
                .await;
            if bought.status == 201 {
                let id = bought.body["id"].as_str().unwrap().to_string();
                self.call("get", self.api(reqwest::Method::GET, &format!("/v1/phone-numbers/{id}"))).await;
                self.call(
                    "patch",
                    self.api(reqwest::Method::PATCH, &format!("/v1/phone-numbers/{id}"))
                        .json(&json!({"allowOutbound": true})),
                )
                .await;
                to_release.push(id);
            }
            self.call("list", self.api(reqwest::Method::GET, "/v1/phone-numbers?limit=5")).await;
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
    }

    /// Watches the health checks.
    async fn prober(self) {
        while !self.stop.load(Ordering::Relaxed) {
            self.call("readyz", self.client.get(format!("{}/readyz", self.base))).await;
            self.call("healthz", self.client.get(format!("{}/healthz", self.base))).await;
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL: scripts/test-postgres.sh (make test) runs it"]
async fn database_outages_answer_503_quickly_and_the_app_recovers_without_restart() {
    pg::required_server_url();
    let (cluster, server_url) = Cluster::start_new();
    let (_, database_url) = pg::create_database(&server_url, "kros_f").await;
    let dir = tempfile::tempdir().unwrap();
    let (_, key) = procs::org_with_key(&database_url, "Faulty");
    procs::import_inventory(&database_url, dir.path(), 401, 24);
    let timeout = ACQUIRE_TIMEOUT_MS.to_string();
    let mut server = Server::start(
        &database_url,
        dir.path(),
        "serve",
        &[("KROS_DB_ACQUIRE_TIMEOUT_MS", timeout.as_str()), ("KROS_DB_MAX_CONNECTIONS", "4")],
    );
    server.wait_ready();

    let load = Load {
        client: reqwest::Client::builder().timeout(Duration::from_secs(15)).build().unwrap(),
        base: server.url(""),
        key,
        records: Arc::new(Mutex::new(Vec::new())),
        stop: Arc::new(AtomicBool::new(false)),
    };
    let available: Value = load
        .api(reqwest::Method::GET, "/v1/phone-numbers?action=available&country=US&limit=100")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let inventory: Vec<String> =
        available["data"].as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(inventory.len(), 24);

    let mut tasks = Vec::new();
    for w in 0..3 {
        tasks.push(tokio::spawn(load.clone().worker(inventory[w * 8..(w + 1) * 8].to_vec())));
    }
    tasks.push(tokio::spawn(load.clone().prober()));

    // Two outages under the same load, on the same process: a crash (`-m immediate`: connections
    // are cut mid-flight) and a clean shutdown (`-m fast`: sessions get `57P01 admin_shutdown`).
    let mut outages = Vec::new();
    tokio::time::sleep(Duration::from_secs(2)).await;
    for mode in ["immediate", "fast"] {
        let down_begin = Instant::now();
        tokio::task::block_in_place(|| cluster.stop(mode));
        let down_done = Instant::now();
        tokio::time::sleep(Duration::from_secs(4)).await;

        // Back on the same folder and port; the app is not touched.
        let up_begin = Instant::now();
        tokio::task::block_in_place(|| cluster.start());
        let recovery_deadline = Instant::now() + Duration::from_secs(30);
        let recovered = loop {
            let r = load.call("probe", load.api(reqwest::Method::GET, "/v1/phone-numbers?limit=1")).await;
            if r.status == 200 {
                break Instant::now();
            }
            assert!(Instant::now() < recovery_deadline, "the app did not recover within 30 s of the database: {r:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        tokio::time::sleep(Duration::from_secs(3)).await;
        outages.push(Outage { mode, down_begin, down_done, up_begin, recovered, next: Instant::now() });
    }
    load.stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }
    assert!(server.is_running(), "the app kept running:\n{}", server.log_text());

    let records = load.records.lock().unwrap().clone();
    let slowest = records.iter().map(|r| r.ended - r.started).max().unwrap_or_default();
    let mut by_status = std::collections::BTreeMap::new();
    for r in &records {
        *by_status.entry((r.what, r.status)).or_insert(0) += 1;
    }
    eprintln!("{} requests; slowest answer {slowest:?}; by (request, status): {by_status:?}", records.len());

    // Always: an answer, in time, never a 500 or another 5xx than 503 `unavailable` JSON.
    for r in &records {
        assert_ne!(r.status, 0, "no answer (hang or dropped connection): {r:?}");
        assert!(r.ended - r.started < MAX_ANSWER_TIME, "answered in {:?}: {r:?}", r.ended - r.started);
        if r.status >= 500 {
            assert_eq!((r.status, r.code.as_str()), (503, "unavailable"), "{r:?}");
        }
        if r.what == "healthz" {
            assert_eq!(r.status, 200, "liveness does not depend on the database: {r:?}");
        }
    }

    // Before the first outage: everything worked.
    let first = &outages[0];
    let before: Vec<&Record> = records.iter().filter(|r| r.ended < first.down_begin).collect();
    assert!(
        before.iter().filter(|r| r.what == "purchase" && r.status == 201).count() >= 3,
        "purchases went through before the outage"
    );
    assert!(before.iter().all(|r| r.status < 500), "no 5xx before the outage");

    for o in &outages {
        // While the database was down: 503 `unavailable` for everything that needs it.
        let during: Vec<&Record> =
            records.iter().filter(|r| r.started > o.down_done && r.ended < o.up_begin && r.what != "healthz").collect();
        assert!(
            during.iter().filter(|r| r.what != "readyz").count() >= 5,
            "{}: the load went on during the outage",
            o.mode
        );
        assert!(during.iter().any(|r| r.what == "readyz"), "{}: readiness was probed during the outage", o.mode);
        for r in &during {
            assert_eq!((r.status, r.code.as_str()), (503, "unavailable"), "{}: during the outage: {r:?}", o.mode);
        }
        assert!(records.iter().any(|r| r.what == "healthz" && r.started > o.down_done && r.ended < o.up_begin));

        // Once recovered: no more 5xx, purchases and releases work again, ready again.
        let settle = o.recovered + Duration::from_secs(1);
        let after: Vec<&Record> = records.iter().filter(|r| r.started > settle && r.ended < o.next).collect();
        assert!(
            after.iter().all(|r| r.status < 500),
            "{}: 5xx after recovery: {:?}",
            o.mode,
            after.iter().find(|r| r.status >= 500)
        );
        assert!(after.iter().any(|r| r.what == "purchase" && r.status == 201), "{}: purchases succeed again", o.mode);
        assert!(after.iter().any(|r| r.what == "release" && r.status == 200), "{}: releases succeed again", o.mode);
        assert!(after.iter().any(|r| r.what == "readyz" && r.status == 200), "{}: ready again", o.mode);
        eprintln!(
            "stop -m {}: database down {:.1} s, {} answers meanwhile, all 503 unavailable; serving again {:.2} s after the database started",
            o.mode,
            (o.up_begin - o.down_begin).as_secs_f64(),
            during.len(),
            (o.recovered - o.up_begin).as_secs_f64()
        );
    }

    // The data is consistent: every sale the client was told about exists, every release it was
    // told about happened, and the inventory agrees with the owners.
    let db = procs::pg_pool(&database_url).await;
    procs::check_invariants(&db).await;
    for r in records.iter().filter(|r| r.what == "purchase" && r.status == 201) {
        let id: uuid::Uuid = r.body["id"].as_str().unwrap().parse().unwrap();
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM phone_numbers WHERE id = $1")
            .bind(id)
            .fetch_one(&db)
            .await
            .unwrap();
        assert_eq!(n, 1, "sold number {id} is stored");
    }
    for r in records.iter().filter(|r| r.what == "release" && r.status == 200) {
        let id: uuid::Uuid = r.body["id"].as_str().unwrap().parse().unwrap();
        let released: Option<chrono::DateTime<chrono::Utc>> =
            sqlx::query_scalar("SELECT released_at FROM phone_numbers WHERE id = $1")
                .bind(id)
                .fetch_one(&db)
                .await
                .unwrap();
        assert!(released.is_some(), "released number {id} is released");
    }
    db.close().await;
    drop(server);
    drop(cluster);
}
