//! The database misbehaves under a running `kros-numbers serve`: the disk fills up, the file is
//! read-only, its folder is removed, a PostgreSQL session turns read-only. Each time writes
//! answer 503 `unavailable` (never 500), `/readyz` tells the truth, nothing acknowledged is lost,
//! and the server recovers by itself once the database can take writes again.
//!
//! The SQLite tests run on a real file system: a small tmpfs for the full disk (mounting needs
//! root; the test says why it skips otherwise) and an unprivileged user for the read-only file
//! (root ignores permissions). The PostgreSQL tests run when `KROS_TEST_POSTGRES_URL` is set; the
//! disk-full one puts the test database's tablespace on a small tmpfs (root, as for SQLite).

#[path = "support/pg.rs"]
mod pg;
#[path = "support/procs.rs"]
mod procs;

use procs::Server;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// `nobody`: an unprivileged user whose file permissions apply.
const NOBODY: u32 = 65534;

/// The tests that need root (to mount a small tmpfs, or to run the server as another user) are
/// `#[ignore]`d in a plain `cargo test` and run by `make test`, where without root they fail.
fn require_root(why: &str) {
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    assert!(root, "this test needs root: {why}");
}

/// A database made by the CLI, with an organization, a key and `count` numbers for sale.
struct Installation {
    url: String,
    key: String,
}

impl Installation {
    fn create(db_path: &Path, count: u32) -> Installation {
        let url = format!("sqlite://{}", db_path.display());
        Self::fill(url, db_path.parent().unwrap(), count)
    }

    fn fill(url: String, dir: &Path, count: u32) -> Installation {
        procs::cli(&url, &["migrate"]);
        let (_, key) = procs::org_with_key(&url, "Faulty Org");
        procs::import_inventory(&url, dir, 1000, count);
        Installation { url, key }
    }
}

/// A client of one server, with the answers the tests look at.
struct Client {
    http: reqwest::Client,
    key: String,
}

impl Client {
    fn new(key: &str) -> Client {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
        Client { http, key: key.to_string() }
    }

    async fn ready(&self, server: &Server) -> StatusCode {
        self.http.get(server.url("/readyz")).send().await.unwrap().status()
    }

    /// Waits until `/readyz` answers `status`; panics after `within`.
    async fn wait_ready(&self, server: &Server, status: StatusCode, within: Duration) {
        let deadline = Instant::now() + within;
        while self.ready(server).await != status {
            assert!(Instant::now() < deadline, "/readyz did not answer {status} within {within:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// A GET with the client's key; the body as JSON.
    async fn get_json(&self, server: &Server, path: &str) -> Value {
        self.http.get(server.url(path)).bearer_auth(&self.key).send().await.unwrap().json().await.unwrap()
    }

    /// The first number for sale.
    async fn first_for_sale(&self, server: &Server) -> String {
        let list = self.get_json(server, "/v1/phone-numbers?action=available&country=US&limit=1").await;
        list["data"][0]["id"].as_str().unwrap_or_else(|| panic!("a number for sale: {list}")).to_string()
    }

    /// Buys an inventory number; returns the status and body.
    async fn buy(&self, server: &Server, inventory_id: &str) -> (StatusCode, Value) {
        let res = self
            .http
            .post(server.url("/v1/phone-numbers"))
            .bearer_auth(&self.key)
            .json(&json!({"inventory_id": inventory_id}))
            .send()
            .await
            .unwrap();
        let status = res.status();
        (status, res.json().await.unwrap())
    }

    /// Buys the next number for sale; returns the status and body.
    async fn buy_one(&self, server: &Server) -> (StatusCode, Value) {
        let inventory_id = self.first_for_sale(server).await;
        self.buy(server, &inventory_id).await
    }

    async fn owned(&self, server: &Server) -> i64 {
        let page = self.get_json(server, "/v1/phone-numbers").await;
        page["total"].as_i64().unwrap_or_else(|| panic!("a list: {page}"))
    }

    /// `n` purchases that must all be refused with 503 `unavailable` while writes fail.
    async fn purchases_are_unavailable(&self, server: &Server, n: usize) {
        for _ in 0..n {
            let (status, body) = self.buy_one(server).await;
            assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "a write that cannot be done is a 503: {body}");
            assert_eq!(body["error"]["code"], "unavailable");
        }
    }

    /// `n` purchases that must all succeed.
    async fn purchases_succeed(&self, server: &Server, n: usize) {
        for i in 0..n {
            let (status, body) = self.buy_one(server).await;
            assert_eq!(status, StatusCode::CREATED, "purchase {i} after recovery: {body}\n{}", server.log_text());
        }
    }
}

/// A tmpfs of `size` mounted on `dir`, unmounted when dropped.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Tmpfs {
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs", dir.to_str().unwrap()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "mounting a tmpfs on {} failed (this test needs a machine that allows it)", dir.display());
        Tmpfs(dir.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fills the file system holding `dir` until a write fails with "no space left".
fn fill_disk(dir: &Path) -> PathBuf {
    let filler = dir.join("filler");
    let _ = Command::new("dd")
        .args(["if=/dev/zero", &format!("of={}", filler.display()), "bs=64k"])
        .stderr(std::process::Stdio::null())
        .status();
    filler
}

#[tokio::test]
#[ignore = "needs root: make test runs it"]
async fn sqlite_disk_full_answers_503_and_recovers_when_space_is_freed() {
    let dir = tempfile::tempdir().unwrap();
    require_root("it fills a small tmpfs of its own");
    let _tmpfs = Tmpfs::mount(dir.path(), "4m");
    let db = Installation::create(&dir.path().join("kros.db"), 60);
    let logs = tempfile::tempdir().unwrap();
    let mut server = Server::start(&db.url, logs.path(), "disk-full", &[]);
    server.wait_ready();
    let client = Client::new(&db.key);
    client.purchases_succeed(&server, 2).await;

    let filler = fill_disk(dir.path());
    client.purchases_are_unavailable(&server, 10).await;
    assert_eq!(client.ready(&server).await, StatusCode::SERVICE_UNAVAILABLE, "not ready while writes fail");
    assert_eq!(client.owned(&server).await, 2, "reads go on; nothing half-written");

    std::fs::remove_file(filler).unwrap();
    client.wait_ready(&server, StatusCode::OK, Duration::from_secs(10)).await;
    client.purchases_succeed(&server, 20).await;
    assert_eq!(client.owned(&server).await, 22, "every acknowledged sale is there");
}

#[tokio::test]
#[ignore = "needs root: make test runs it"]
async fn sqlite_read_only_file_answers_503_and_recovers_when_writable() {
    require_root("it runs the server as another user");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kros.db");
    let db = Installation::create(&path, 30);
    // The server's user owns the folder (it makes the -wal and -shm files); the file is read-only.
    Command::new("chown").args(["-R", &format!("{NOBODY}:{NOBODY}"), dir.path().to_str().unwrap()]).status().unwrap();
    // The database's files: SQLite makes its -wal and -shm with the main file's permissions.
    let set_mode = |mode: u32| {
        use std::os::unix::fs::PermissionsExt;
        for suffix in ["", "-wal", "-shm"] {
            let file = PathBuf::from(format!("{}{suffix}", path.display()));
            if file.exists() {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
            }
        }
    };
    set_mode(0o444);

    let logs = tempfile::tempdir().unwrap();
    let mut server = Server::start_as(Some(NOBODY), &db.url, logs.path(), "read-only", &[]);
    server.wait_ready();
    let client = Client::new(&db.key);
    assert_eq!(client.ready(&server).await, StatusCode::SERVICE_UNAVAILABLE, "a read-only database is not ready");
    assert_eq!(client.owned(&server).await, 0, "reads are served");
    client.purchases_are_unavailable(&server, 10).await;

    set_mode(0o644); // as an operator would: `chmod u+w kros.db*`
    client.wait_ready(&server, StatusCode::OK, Duration::from_secs(10)).await;
    client.purchases_succeed(&server, 10).await;
    assert_eq!(client.owned(&server).await, 10);
}

#[tokio::test]
async fn sqlite_removed_database_is_detected_and_serve_will_not_recreate_it() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let db = Installation::create(&data.join("kros.db"), 10);
    let logs = tempfile::tempdir().unwrap();
    let mut server = Server::start(&db.url, logs.path(), "removed", &[]);
    server.wait_ready();
    let client = Client::new(&db.key);
    client.purchases_succeed(&server, 1).await;
    let for_sale = client.first_for_sale(&server).await;

    // The data folder goes away under the server (the file stays open in the process).
    std::fs::remove_dir_all(&data).unwrap();
    assert_eq!(client.ready(&server).await, StatusCode::SERVICE_UNAVAILABLE, "a removed database is not ready");
    for _ in 0..3 {
        let (status, body) = client.buy(&server, &for_sale).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "no write into a removed file: {body}");
    }
    drop(server);

    // Restarted, `serve` refuses to start on a database that is not there, rather than serve an
    // empty one.
    let out = procs::command(&db.url, &["serve", "--addr", "127.0.0.1:0"]).output().unwrap();
    assert!(!out.status.success(), "serve must not start without its database");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("does not exist") && stderr.contains("kros-numbers migrate"), "a clear message: {stderr}");
    assert!(!data.join("kros.db").exists(), "no empty database was created");
}

#[tokio::test]
#[ignore = "needs PostgreSQL: scripts/test-postgres.sh (make test) runs it"]
async fn postgres_read_only_session_answers_503_and_recovers_when_writable() {
    let pg_server = pg::required_server_url();
    let (name, url) = pg::create_database(&pg_server, "kros_ro").await;
    let dir = tempfile::tempdir().unwrap();
    let db = Installation::fill(url.clone(), dir.path(), 30);
    let mut server = Server::start(&db.url, dir.path(), "pg-read-only", &[]);
    server.wait_ready();
    let client = Client::new(&db.key);
    client.purchases_succeed(&server, 2).await;

    // The database turns read-only (as after a failover to a standby): every session from now on.
    let admin = sqlx::PgPool::connect(&pg::database_url(&pg_server, "postgres")).await.unwrap();
    sqlx::raw_sql(&format!("ALTER DATABASE {name} SET default_transaction_read_only = on"))
        .execute(&admin)
        .await
        .unwrap();
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
        .bind(&name)
        .execute(&admin)
        .await
        .unwrap();
    client.wait_ready(&server, StatusCode::SERVICE_UNAVAILABLE, Duration::from_secs(10)).await;
    client.purchases_are_unavailable(&server, 10).await;
    assert_eq!(client.owned(&server).await, 2, "reads go on");

    // Writable again: the read-only sessions are not kept, so the server recovers by itself.
    sqlx::raw_sql(&format!("ALTER DATABASE {name} RESET default_transaction_read_only")).execute(&admin).await.unwrap();
    client.wait_ready(&server, StatusCode::OK, Duration::from_secs(10)).await;
    client.purchases_succeed(&server, 10).await;
    assert_eq!(client.owned(&server).await, 12);
    admin.close().await;
    drop(server);
    pg::drop_database_blocking(&pg_server, &name);
}

#[tokio::test]
#[ignore = "needs PostgreSQL and root: scripts/test-postgres.sh (make test) runs it"]
async fn postgres_disk_full_answers_503_and_recovers_when_space_is_freed() {
    let pg_server = pg::required_server_url();
    require_root("it puts the database on a small tmpfs of its own");
    // The database's own tablespace on a small tmpfs (the write-ahead log stays on the cluster's
    // disk): tables that need a new page then fail with 53100 disk_full.
    let base = tempfile::tempdir().unwrap();
    let disk = base.path().join("disk");
    std::fs::create_dir(&disk).unwrap();
    Command::new("chmod").args(["755", base.path().to_str().unwrap()]).status().unwrap();
    let _tmpfs = Tmpfs::mount(&disk, "48m");
    Command::new("chown").args(["postgres:postgres", disk.to_str().unwrap()]).status().unwrap();
    let admin = sqlx::PgPool::connect(&pg::database_url(&pg_server, "postgres")).await.unwrap();
    let tablespace = format!("kros_small_{}", uuid::Uuid::new_v4().simple());
    sqlx::raw_sql(&format!("CREATE TABLESPACE {tablespace} LOCATION '{}'", disk.display()))
        .execute(&admin)
        .await
        .unwrap();
    let name = format!("kros_full_{}", uuid::Uuid::new_v4().simple());
    sqlx::raw_sql(&format!("CREATE DATABASE {name} TABLESPACE {tablespace}")).execute(&admin).await.unwrap();
    let url = pg::database_url(&pg_server, &name);

    let dir = tempfile::tempdir().unwrap();
    let db = Installation::fill(url, dir.path(), 400);
    let mut server = Server::start(&db.url, dir.path(), "pg-disk-full", &[]);
    server.wait_ready();
    let client = Client::new(&db.key);
    client.purchases_succeed(&server, 2).await;

    let filler = fill_disk(&disk);
    // Purchases go on while their rows fit in pages that still have room; then every one is a 503.
    let mut sold = 2;
    let mut refused = false;
    for _ in 0..300 {
        let (status, body) = client.buy_one(&server).await;
        match status {
            StatusCode::CREATED => sold += 1,
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(body["error"]["code"], "unavailable");
                refused = true;
                break;
            }
            other => panic!("a full disk is a 503, never {other}: {body}\n{}", server.log_text()),
        }
    }
    assert!(refused, "the tablespace filled up");
    assert_eq!(client.ready(&server).await, StatusCode::SERVICE_UNAVAILABLE, "not ready while writes fail");
    client.purchases_are_unavailable(&server, 5).await;
    assert_eq!(client.owned(&server).await, sold, "reads go on; nothing half-written");

    std::fs::remove_file(filler).unwrap();
    client.wait_ready(&server, StatusCode::OK, Duration::from_secs(15)).await;
    client.purchases_succeed(&server, 10).await;
    assert_eq!(client.owned(&server).await, sold + 10, "every acknowledged sale is there");

    drop(server);
    pg::drop_database_blocking(&pg_server, &name);
    let _ = sqlx::raw_sql(&format!("DROP TABLESPACE IF EXISTS {tablespace}")).execute(&admin).await;
    admin.close().await;
}
