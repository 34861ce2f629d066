//! Real `kros-numbers` processes for the scale-out and fault tests: the operator CLI, `serve`
//! processes on free loopback ports, and the database invariants every test checks.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use uuid::Uuid;

pub const BIN: &str = env!("CARGO_BIN_EXE_kros-numbers");

/// The `kros-numbers` binary with `DATABASE_URL` set and quiet logs.
pub fn command(database_url: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(args).env("DATABASE_URL", database_url).env("RUST_LOG", "warn").env_remove("KROS_LOG_FORMAT");
    cmd
}

/// Runs a CLI command that must succeed; returns the last line of stdout.
pub fn cli(database_url: &str, args: &[&str]) -> String {
    let out = command(database_url, args).output().expect("run kros-numbers");
    assert!(
        out.status.success(),
        "kros-numbers {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or("").trim().to_string()
}

/// An organization and a test-mode key, made with the CLI.
pub fn org_with_key(database_url: &str, name: &str) -> (String, String) {
    let org = cli(database_url, &["org", "create", name]);
    let key = cli(database_url, &["key", "create", "--org", &org, "--mode", "test", "--name", name]);
    assert!(key.starts_with("kros_test_"), "{key}");
    (org, key)
}

/// `count` valid US numbers `+1415555<first>..`, as an inventory CSV.
pub fn inventory_csv(first: u32, count: u32) -> String {
    let mut csv = String::from("e164,country,type,setup_cost_cents,monthly_cost_cents,currency\n");
    for n in first..first + count {
        csv.push_str(&format!("+1415555{n:04},US,local,100,115,USD\n"));
    }
    csv
}

/// Imports `count` test-mode numbers with the CLI.
pub fn import_inventory(database_url: &str, dir: &Path, first: u32, count: u32) {
    let file = dir.join(format!("inventory-{first}.csv"));
    std::fs::write(&file, inventory_csv(first, count)).unwrap();
    let out = cli(database_url, &["inventory", "import", file.to_str().unwrap(), "--mode", "test"]);
    assert_eq!(out, format!("imported {count}"));
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A `kros-numbers serve` process, killed when dropped. Its log is kept in a file and shown if
/// the test fails.
pub struct Server {
    child: Child,
    pub addr: String,
    pub log: PathBuf,
}

impl Server {
    /// Starts `serve` on a free loopback port (not waiting for it; see [`Server::wait_ready`]).
    pub fn start(database_url: &str, log_dir: &Path, name: &str, env: &[(&str, &str)]) -> Server {
        Self::start_as(None, database_url, log_dir, name, env)
    }

    /// [`Server::start`], as another (unprivileged) user and group id when one is given, so that
    /// file permissions apply to it (root ignores them).
    pub fn start_as(uid: Option<u32>, database_url: &str, log_dir: &Path, name: &str, env: &[(&str, &str)]) -> Server {
        let addr = format!("127.0.0.1:{}", free_port());
        let log = log_dir.join(format!("{name}.log"));
        let log_file = std::fs::File::create(&log).unwrap();
        let mut cmd = match uid {
            Some(uid) => {
                let mut cmd = Command::new("setpriv");
                cmd.args([&format!("--reuid={uid}"), &format!("--regid={uid}"), "--clear-groups", "--", BIN]);
                cmd.args(["serve", "--addr", &addr]).env("DATABASE_URL", database_url).env_remove("KROS_LOG_FORMAT");
                cmd
            }
            None => command(database_url, &["serve", "--addr", &addr]),
        };
        cmd.env("LEPTOS_SITE_ROOT", Path::new(env!("CARGO_MANIFEST_DIR")).join("target/site"))
            .env("KROS_RATE_LIMIT_PER_SECOND", "0")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(log_file);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("spawn kros-numbers serve");
        Server { child, addr, log }
    }

    /// The process id (for its memory, in `/proc/<pid>/status`).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Waits until `/healthz` answers 200 (the process has migrated and is listening).
    pub fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("{} exited with {status} before it was ready:\n{}", self.addr, self.log_text());
            }
            if let Ok(mut stream) = std::net::TcpStream::connect(&self.addr) {
                use std::io::{Read, Write};
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                let _ = stream.write_all(b"GET /healthz HTTP/1.0\r\n\r\n");
                let mut buf = String::new();
                let _ = stream.read_to_string(&mut buf);
                if buf.starts_with("HTTP/1.1 200") || buf.starts_with("HTTP/1.0 200") {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("{} did not become ready:\n{}", self.addr, self.log_text());
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends SIGTERM and waits (at most 10 s) for the process to exit; returns its status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().expect("kill");
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "{} did not stop on SIGTERM:\n{}", self.addr, self.log_text());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Is the process still running?
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = self.log_text();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!("--- last lines of {} ({}):", self.addr, self.log.display());
            for line in tail.into_iter().rev() {
                eprintln!("{line}");
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Checks the database's own consistency, whatever happened before:
/// - at most one live (unreleased) owner per inventory number;
/// - an inventory number is for sale exactly when it has no live owner;
/// - every phone number has its purchase in the audit log, and at most one release entry;
/// - the owners of one inventory number never overlap in time.
///
/// Returns the live owners: inventory id -> phone number id.
pub async fn check_invariants(db: &sqlx::PgPool) -> HashMap<String, String> {
    let inventory: Vec<(Uuid, bool, i64)> = sqlx::query_as(
        "SELECT i.id, i.available, \
         (SELECT COUNT(*) FROM phone_numbers p WHERE p.inventory_id = i.id AND p.released_at IS NULL) \
         FROM inventory_numbers i",
    )
    .fetch_all(db)
    .await
    .unwrap();
    assert!(!inventory.is_empty());
    for (id, available, live) in &inventory {
        assert!(*live <= 1, "inventory {id} has {live} live owners");
        assert_eq!(*available, *live == 0, "inventory {id}: available={available} but {live} live owner(s)");
    }

    let unaudited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM phone_numbers p WHERE NOT EXISTS \
         (SELECT 1 FROM audit_log a WHERE a.phone_number_id = p.id AND a.action = 'purchase')",
    )
    .fetch_one(db)
    .await
    .unwrap();
    assert_eq!(unaudited, 0, "every phone number has its purchase in the audit log");
    let double_releases: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT phone_number_id FROM audit_log WHERE action = 'release' \
         GROUP BY phone_number_id HAVING COUNT(*) > 1) d",
    )
    .fetch_one(db)
    .await
    .unwrap();
    assert_eq!(double_releases, 0, "a number is released (and audited) once");
    let release_mismatch: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM phone_numbers p WHERE (p.released_at IS NOT NULL) <> EXISTS \
         (SELECT 1 FROM audit_log a WHERE a.phone_number_id = p.id AND a.action = 'release')",
    )
    .fetch_one(db)
    .await
    .unwrap();
    assert_eq!(release_mismatch, 0, "released numbers and release audit entries agree");

    // Ownership periods of one inventory number follow each other without overlapping.
    type Time = chrono::DateTime<chrono::Utc>;
    let owners: Vec<(Uuid, Uuid, Time, Option<Time>)> = sqlx::query_as(
        "SELECT inventory_id, id, created_at, released_at FROM phone_numbers ORDER BY inventory_id, created_at, id",
    )
    .fetch_all(db)
    .await
    .unwrap();
    for pair in owners.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        if a.0 == b.0 {
            let released = a.3.unwrap_or_else(|| panic!("{} has a live owner {} and a later one {}", a.0, a.1, b.1));
            assert!(
                released <= b.2,
                "{}: owner {} released at {released} after {} bought it at {}",
                a.0,
                a.1,
                b.1,
                b.2
            );
        }
    }

    let live: Vec<(Uuid, Uuid)> =
        sqlx::query_as("SELECT inventory_id, id FROM phone_numbers WHERE released_at IS NULL")
            .fetch_all(db)
            .await
            .unwrap();
    live.into_iter().map(|(inventory, number)| (inventory.to_string(), number.to_string())).collect()
}

/// Connects to a test database directly (for the invariant checks).
pub async fn pg_pool(database_url: &str) -> sqlx::PgPool {
    sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect(database_url)
        .await
        .expect("connect to the test database")
}
