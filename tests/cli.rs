//! The operator CLI, run as the real binary against a fresh SQLite database.

#[path = "support/procs.rs"]
mod procs;

use std::process::{Command, Output};

struct Cli {
    dir: tempfile::TempDir,
}

impl Cli {
    fn new() -> Cli {
        Cli { dir: tempfile::tempdir().unwrap() }
    }

    fn database_url(&self) -> String {
        format!("sqlite://{}/cli.db", self.dir.path().display())
    }

    fn command(&self, args: &[&str]) -> Command {
        procs::command(&self.database_url(), args)
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run kros-numbers")
    }

    /// Runs a command that must succeed; returns the last line of stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        last_line(&out)
    }

    fn file(&self, name: &str, text: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }
}

fn last_line(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or("").to_string()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[test]
fn migrate_applies_migrations_and_says_so() {
    let cli = Cli::new();
    assert_eq!(cli.ok(&["migrate"]), "migrations applied");
}

#[test]
fn org_create_prints_the_new_organization_id() {
    let cli = Cli::new();
    let id = cli.ok(&["org", "create", "Acme Telecom"]);
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id} is not a UUID");
}

#[test]
fn user_create_prints_the_user_id_and_refuses_bad_input() {
    let cli = Cli::new();
    let org = cli.ok(&["org", "create", "Acme"]);
    let user = cli.ok(&["user", "create", "ada@example.com", "--password", "correct horse", "--org", &org]);
    assert!(uuid::Uuid::parse_str(&user).is_ok());

    let dup = cli.run(&["user", "create", "ada@example.com", "--password", "correct horse", "--org", &org]);
    assert!(!dup.status.success());
    assert!(stderr(&dup).contains("already exists"), "{}", stderr(&dup));

    let bad_org = cli.run(&["user", "create", "bob@example.com", "--password", "correct horse", "--org", "nope"]);
    assert!(!bad_org.status.success());
    assert!(stderr(&bad_org).contains("--org must be an organization id"), "{}", stderr(&bad_org));

    let unknown_org = cli.run(&[
        "user",
        "create",
        "bob@example.com",
        "--password",
        "correct horse",
        "--org",
        &uuid::Uuid::new_v4().to_string(),
    ]);
    assert!(!unknown_org.status.success());
    assert!(stderr(&unknown_org).contains("organization not found"));

    let short = cli.run(&["user", "create", "bob@example.com", "--password", "short", "--org", &org]);
    assert!(!short.status.success());
    assert!(stderr(&short).contains("at least 8 characters"));
}

#[test]
fn user_create_with_a_supabase_id_makes_a_user_who_signs_in_through_the_project() {
    let cli = Cli::new();
    let org = cli.ok(&["org", "create", "Acme"]);
    let supabase_id = uuid::Uuid::new_v4().to_string();
    let user = cli.ok(&["user", "create", "sam@example.com", "--supabase-id", &supabase_id, "--org", &org]);
    assert_eq!(user, supabase_id, "the user is known by their Supabase id (their tokens' sub)");

    let bad_id = cli.run(&["user", "create", "bob@example.com", "--supabase-id", "nope", "--org", &org]);
    assert!(!bad_id.status.success());
    assert!(stderr(&bad_id).contains("--supabase-id must be"), "{}", stderr(&bad_id));
    let neither = cli.run(&["user", "create", "bob@example.com", "--org", &org]);
    assert!(!neither.status.success());
    assert!(stderr(&neither).contains("--password"), "{}", stderr(&neither));
    let both = cli.run(&[
        "user",
        "create",
        "bob@example.com",
        "--password",
        "correct horse",
        "--supabase-id",
        &supabase_id,
        "--org",
        &org,
    ]);
    assert!(!both.status.success(), "a user signs in one way");
}

#[test]
fn user_add_makes_an_existing_user_a_member_of_another_organization() {
    let cli = Cli::new();
    let first = cli.ok(&["org", "create", "First"]);
    let second = cli.ok(&["org", "create", "Second"]);
    let user = cli.ok(&["user", "create", "ada@example.com", "--password", "correct horse", "--org", &first]);
    assert_eq!(cli.ok(&["user", "add", "Ada@Example.com", "--org", &second]), user);
    // Twice is harmless.
    assert_eq!(cli.ok(&["user", "add", "ada@example.com", "--org", &second]), user);

    let unknown_user = cli.run(&["user", "add", "bob@example.com", "--org", &second]);
    assert!(!unknown_user.status.success());
    assert!(stderr(&unknown_user).contains("user not found"), "{}", stderr(&unknown_user));
    let unknown_org = cli.run(&["user", "add", "ada@example.com", "--org", &uuid::Uuid::new_v4().to_string()]);
    assert!(!unknown_org.status.success());
    assert!(stderr(&unknown_org).contains("organization not found"), "{}", stderr(&unknown_org));
}

#[test]
fn key_create_prints_a_key_of_the_mode_and_key_revoke_takes_its_prefix() {
    let cli = Cli::new();
    let org = cli.ok(&["org", "create", "Acme"]);
    let live = cli.ok(&["key", "create", "--org", &org, "--mode", "live", "--name", "prod"]);
    assert!(live.starts_with("kros_live_"), "{live}");
    let test = cli.ok(&["key", "create", "--org", &org, "--mode", "test"]);
    assert!(test.starts_with("kros_test_"), "{test}");

    let prefix: String = live.rsplit_once('_').unwrap().0.to_string();
    let revoked = cli.ok(&["key", "revoke", &prefix]);
    assert!(revoked.starts_with("revoked "), "{revoked}");

    let bad_mode = cli.run(&["key", "create", "--org", &org, "--mode", "prod"]);
    assert!(!bad_mode.status.success());
    assert!(stderr(&bad_mode).contains("live or test"), "{}", stderr(&bad_mode));

    let unknown = cli.run(&["key", "revoke", "kros_live_doesnotexist"]);
    assert!(!unknown.status.success());
    assert!(stderr(&unknown).contains("API key not found"));
}

const GOOD_CSV: &str = "e164,country,type,setup_cost_cents,monthly_cost_cents,currency\n\
+14155550101,US,local,100,115,USD\n\
+14155550102,US,local,100,115,USD\n\
+447400900101,GB,mobile,150,300,GBP\n";

#[test]
fn inventory_import_prints_how_many_were_imported_and_is_harmless_to_repeat() {
    let cli = Cli::new();
    let file = cli.file("numbers.csv", GOOD_CSV);
    assert_eq!(cli.ok(&["inventory", "import", &file, "--mode", "live"]), "imported 3");
    assert_eq!(cli.ok(&["inventory", "import", &file, "--mode", "live"]), "imported 0");
    assert_eq!(cli.ok(&["inventory", "import", &file, "--mode", "test"]), "imported 3");
}

#[test]
fn inventory_import_reports_the_bad_line_and_imports_nothing() {
    let cli = Cli::new();
    let bad = cli.file(
        "bad.csv",
        "e164,country,type,setup_cost_cents,monthly_cost_cents,currency\n\
         +14155550101,US,local,100,115,USD\n\
         +14155550102,US,landline,100,115,USD\n",
    );
    let out = cli.run(&["inventory", "import", &bad, "--mode", "live"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("line 3") && err.contains("type must be one of"), "{err}");
    assert!(err.contains("nothing was imported"), "{err}");

    // The good first row was not imported either.
    let good = cli.file("good.csv", GOOD_CSV);
    assert_eq!(cli.ok(&["inventory", "import", &good, "--mode", "live"]), "imported 3");
}

#[test]
fn inventory_import_refuses_prices_past_the_maximum() {
    let cli = Cli::new();
    for (setup, monthly) in [(i64::MAX.to_string(), "1".to_string()), ("1".into(), "1000000001".into())] {
        let csv = format!("e164,country,type,setup_cost_cents,monthly_cost_cents,currency\n+14155550101,US,local,{setup},{monthly},USD\n");
        let file = cli.file("pricey.csv", &csv);
        let out = cli.run(&["inventory", "import", &file, "--mode", "live"]);
        assert!(!out.status.success());
        assert!(stderr(&out).contains("must be at most 1000000000 cents"), "{}", stderr(&out));
    }
    let out = cli.run(&["org", "create", "\u{200b}\u{200b}"]);
    assert!(!out.status.success(), "an invisible organization name");
    assert!(stderr(&out).contains("invisible"), "{}", stderr(&out));
}

#[test]
fn inventory_import_refuses_invalid_numbers_and_a_wrong_header() {
    let cli = Cli::new();
    let invalid = cli.file(
        "invalid.csv",
        "e164,country,type,setup_cost_cents,monthly_cost_cents,currency\n+14155550101,GB,local,1,1,USD\n",
    );
    let out = cli.run(&["inventory", "import", &invalid, "--mode", "live"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("line 2") && stderr(&out).contains("not a valid phone number of GB"),
        "{}",
        stderr(&out)
    );

    let header = cli.file("header.csv", "number,country\n+14155550101,US\n");
    let out = cli.run(&["inventory", "import", &header, "--mode", "live"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("line 1"), "{}", stderr(&out));

    let missing = cli.run(&["inventory", "import", "/nonexistent.csv", "--mode", "live"]);
    assert!(!missing.status.success());
    assert!(stderr(&missing).contains("cannot open"));
}

#[test]
fn seed_demo_is_idempotent_and_keeps_its_key() {
    let cli = Cli::new();
    let key_file = cli.dir.path().join("demo-key");
    let key_file = key_file.to_str().unwrap();
    let first = cli.run(&["seed-demo", "--key-file", key_file]);
    assert!(first.status.success(), "{}", stderr(&first));
    let first = String::from_utf8_lossy(&first.stdout).to_string();
    assert!(first.contains("demo login: demo@kros.local"));
    let added: u32 = first.lines().find_map(|l| l.strip_prefix("inventory numbers added: ")).unwrap().parse().unwrap();
    assert!(added >= 100, "a realistic demo inventory, got {added}");

    let second = String::from_utf8_lossy(&cli.run(&["seed-demo", "--key-file", key_file]).stdout).to_string();
    assert!(second.contains("inventory numbers added: 0"), "{second}");
    let org = |out: &str| out.lines().find(|l| l.starts_with("demo organization:")).unwrap().to_string();
    assert_eq!(org(&first), org(&second));
    let key = |out: &str| out.lines().last().unwrap().to_string();
    assert_eq!(key(&first), key(&second), "the demo key is reused");
    assert_eq!(
        std::fs::read_to_string(key_file).unwrap().trim(),
        key(&first).trim_start_matches("demo test-mode API key: ")
    );
}

#[test]
fn serve_answers_with_a_cli_created_key_and_stops_gracefully_on_sigterm() {
    let cli = Cli::new();
    let org = cli.ok(&["org", "create", "Acme"]);
    let key = cli.ok(&["key", "create", "--org", &org, "--mode", "test"]);
    let file = cli.file("numbers.csv", GOOD_CSV);
    cli.ok(&["inventory", "import", &file, "--mode", "test"]);

    let mut server = procs::Server::start(&cli.database_url(), cli.dir.path(), "serve", &[]);
    server.wait_ready();

    let rt = tokio::runtime::Runtime::new().unwrap();
    let body: serde_json::Value = rt.block_on(async {
        reqwest::Client::new()
            .get(server.url("/v1/phone-numbers?action=available&country=US"))
            .header("x-api-key", &key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert_eq!(body["total"], 2, "{body}");

    // SIGTERM: the server finishes and exits successfully.
    let status = server.terminate();
    assert!(status.success(), "exit status {status}");
}
