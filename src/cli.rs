//! The operator CLI. Every command prints its result as the last line of stdout and exits
//! non-zero with a clear message on bad input.

use crate::domain::parse::parse_enum;
use crate::domain::Mode;
use crate::error::AppError;
use crate::server::connections::ConnectionLimits;
use crate::server::{self, ServerSettings, ServiceSettings, SipDoorSettings, ThrottleSettings};
use crate::service::auth::AuthSettings;
use crate::service::calls::CallSettings;
use crate::service::reservations::ReservationSettings;
use crate::service::secrets::{from_env_or_file, SecretSettings};
use crate::service::webhooks::WebhookSettings;
use crate::service::{api_keys, inventory, organizations, Context};
use crate::storage::{IfMissing, PoolSettings};
use clap::{Args, Parser, Subcommand};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use uuid::Uuid;

#[derive(Parser, Debug)]
#[command(name = "kros-numbers", version, about = "Phone-number provisioning: REST API, dashboard and operator tools")]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Configuration shared by every command: flags, or the environment.
#[derive(Args, Debug, Clone)]
pub struct Config {
    /// `sqlite://path` or `postgres://...`. A missing SQLite file is created by every command but
    /// `serve`, which refuses to start without its database.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://data/kros-numbers.db", global = true)]
    pub database_url: String,
    /// Most connections in the pool (PostgreSQL: 16 by default), or SQLite's read connections
    /// (two per core by default, 2 to 16; SQLite always has one writer).
    #[arg(long, env = "KROS_DB_MAX_CONNECTIONS", global = true)]
    pub db_max_connections: Option<u32>,
    /// How long a request waits for a connection before answering 503.
    #[arg(long, env = "KROS_DB_ACQUIRE_TIMEOUT_MS", default_value_t = 3000, global = true)]
    pub db_acquire_timeout_ms: u64,
    /// The domain of SIP URIs and credentials.
    #[arg(long, env = "KROS_SIP_DOMAIN", default_value = "sip.kros.local", global = true)]
    pub sip_domain: String,
}

impl Config {
    fn pool(&self) -> PoolSettings {
        PoolSettings {
            max_connections: self.db_max_connections.map(|n| n.max(1)),
            acquire_timeout: Duration::from_millis(self.db_acquire_timeout_ms.max(1)),
        }
    }

    /// The operator commands' context: they may create the database (`migrate` is how to).
    async fn context(&self) -> Result<Context, AppError> {
        let service = ServiceSettings {
            sip_domain: self.sip_domain.clone(),
            webhooks: Default::default(),
            reservations: Default::default(),
            calls: Default::default(),
        };
        server::context(&self.database_url, &self.pool(), IfMissing::Create, &secrets()?, &service).await
    }
}

#[derive(Subcommand, Debug)]
#[allow(clippy::large_enum_variant, reason = "parsed once, at start")]
pub enum Command {
    /// Serve the REST API and the dashboard (the default). Never seeds data.
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Create the demo organization, user, endpoints and inventory (idempotent).
    SeedDemo {
        /// Keep the demo test-mode API key in this file, and reuse it on later runs.
        #[arg(long)]
        key_file: Option<PathBuf>,
    },
    /// Organizations.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Dashboard users.
    #[command(subcommand)]
    User(UserCommand),
    /// API keys.
    #[command(subcommand)]
    Key(KeyCommand),
    /// The inventory of numbers for sale.
    #[command(subcommand)]
    Inventory(InventoryCommand),
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "LEPTOS_SITE_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,
    /// Where browsers reach the dashboard (`https://numbers.example.com`): its forms must come from
    /// this origin, and with https the session cookies are `Secure`. Unset: the request's Host.
    #[arg(long, env = "KROS_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// The built dashboard (cargo-leptos output).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: String,
    /// The Supabase project URL: its tokens (ES256/RS256, verified against its JWKS) are
    /// accepted, and their `iss` must be `<url>/auth/v1`.
    #[arg(long, env = "SUPABASE_URL")]
    pub supabase_url: Option<String>,
    /// The project's JWKS, if not `<SUPABASE_URL>/auth/v1/.well-known/jwks.json`.
    #[arg(long, env = "SUPABASE_JWKS_URL")]
    pub supabase_jwks_url: Option<String>,
    /// Legacy HS256 secret of Supabase tokens; unset, HS256 Supabase tokens are refused.
    #[arg(long, env = "SUPABASE_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// The project's publishable (anon) key: with SUPABASE_URL, the dashboard signs in through
    /// the project (SUPABASE_ANON_KEY works too).
    #[arg(long, env = "SUPABASE_PUBLISHABLE_KEY", hide_env_values = true)]
    pub supabase_publishable_key: Option<String>,
    #[arg(long, env = "SUPABASE_ANON_KEY", hide_env_values = true, hide = true)]
    pub supabase_anon_key: Option<String>,
    /// Signs the built-in accounts' sessions; unset, one is generated once and kept in the database.
    #[arg(long, env = "KROS_SESSION_SECRET", hide_env_values = true)]
    pub session_secret: Option<String>,
    /// Create users seen for the first time in a valid Supabase token (they have no organization).
    #[arg(long, env = "KROS_JWT_AUTO_CREATE_USERS", default_value_t = false)]
    pub auto_create_users: bool,
    /// The longest a session token may be valid for (`exp - iat`), in seconds.
    #[arg(long, env = "KROS_JWT_MAX_LIFETIME_SECS", default_value_t = 86_400)]
    pub jwt_max_lifetime_secs: u64,
    /// How long fetched JWKS keys are used before they are fetched again, in seconds.
    #[arg(long, env = "KROS_JWKS_CACHE_TTL_SECS", default_value_t = 600)]
    pub jwks_cache_ttl_secs: u64,
    /// The least time between two JWKS fetches (a token with an unknown kid waits for it), in seconds.
    #[arg(long, env = "KROS_JWKS_REFETCH_INTERVAL_SECS", default_value_t = 30)]
    pub jwks_refetch_interval_secs: u64,
    /// Failed sign-ins allowed per account per 15 minutes before it is refused for a while; 0 disables.
    #[arg(long, env = "KROS_SIGN_IN_FAILURES_PER_ACCOUNT", default_value_t = 10)]
    pub sign_in_failures_per_account: u32,
    /// Failed sign-ins allowed per client address per 15 minutes; 0 disables.
    #[arg(long, env = "KROS_SIGN_IN_FAILURES_PER_ADDRESS", default_value_t = 50)]
    pub sign_in_failures_per_address: u32,
    /// Failed API-key or token authentications allowed per client address per minute; 0 disables.
    #[arg(long, env = "KROS_AUTH_FAILURES_PER_ADDRESS", default_value_t = 100)]
    pub auth_failures_per_address: u32,
    /// Behind a proxy: the header it puts the client's address in (`x-forwarded-for`,
    /// `x-real-ip`). Only set it when every request comes through that proxy.
    #[arg(long, env = "KROS_CLIENT_IP_HEADER")]
    pub client_ip_header: Option<String>,
    /// Seconds a client has to send a request's headers; an idle keep-alive connection is closed
    /// after as long.
    #[arg(long, env = "KROS_HEADER_TIMEOUT_SECS", default_value_t = 10)]
    pub header_timeout_secs: u64,
    /// Seconds a client has to send a request's body.
    #[arg(long, env = "KROS_BODY_TIMEOUT_SECS", default_value_t = 10)]
    pub body_timeout_secs: u64,
    /// Connections served at once (more wait until one closes).
    #[arg(long, env = "KROS_MAX_CONNECTIONS", default_value_t = 1024)]
    pub max_connections: usize,
    /// Requests per second per credential (per process); 0 disables.
    #[arg(long, env = "KROS_RATE_LIMIT_PER_SECOND", default_value_t = 50)]
    pub rate_limit_per_second: u32,
    /// Burst allowance per credential.
    #[arg(long, env = "KROS_RATE_LIMIT_BURST", default_value_t = 100)]
    pub rate_limit_burst: u32,
    /// Allow webhook endpoints on http and on loopback, private or link-local addresses
    /// (development and tests only: it lets API users reach this server's network).
    #[arg(long, env = "KROS_WEBHOOK_ALLOW_PRIVATE_URLS", default_value_t = false)]
    pub webhook_allow_private_urls: bool,
    /// Where the SIP door listens (the API only the SIP servers call; README "Calls"): off unless
    /// set. Its secret is KROS_SIP_DOOR_SECRET (or KROS_SIP_DOOR_SECRET_FILE).
    #[arg(long, env = "KROS_SIP_DOOR_ADDR")]
    pub sip_door_addr: Option<SocketAddr>,
    /// Let endpoints send calls to loopback, private and link-local addresses (development and
    /// tests only: a customer could otherwise send calls into this network).
    #[arg(long, env = "KROS_SIP_ALLOW_PRIVATE_TARGETS", default_value_t = false)]
    pub sip_allow_private_targets: bool,
    /// The Kamailio instances' JSON-RPC URLs, comma-separated (http://127.0.0.1:5080/RPC): told
    /// to drop a number's cached credentials when they change.
    #[arg(long, env = "KROS_SIP_KAMAILIO_RPC", default_value = "")]
    pub sip_kamailio_rpc: String,
    /// How long the Kamailio instances cache credentials (their `--cred-ttl`), like `60s`.
    #[arg(long, env = "KROS_SIP_CREDENTIALS_TTL", default_value = "60s")]
    pub sip_credentials_ttl: String,
    /// How long a webhook receiver has to answer, in seconds.
    #[arg(long, env = "KROS_WEBHOOK_TIMEOUT_SECS", default_value_t = 10)]
    pub webhook_timeout_secs: u64,
    /// The waits before each retry of a failed delivery, comma-separated (`5s,5m,30m,2h,5h,10h,10h`).
    #[arg(long, env = "KROS_WEBHOOK_RETRY_SCHEDULE", default_value = "5s,5m,30m,2h,5h,10h,10h")]
    pub webhook_retry_schedule: String,
    /// An endpoint whose every attempt failed for this long is disabled (`5d`, `12h`).
    #[arg(long, env = "KROS_WEBHOOK_DISABLE_AFTER", default_value = "5d")]
    pub webhook_disable_after: String,
    /// How long a reservation holds its numbers, in minutes (1 to 1440).
    #[arg(long, env = "KROS_RESERVATION_MINUTES", default_value_t = 15,
          value_parser = clap::value_parser!(u64).range(1..=1440))]
    pub reservation_minutes: u64,
}

#[derive(Subcommand, Debug)]
pub enum OrgCommand {
    /// Create an organization; prints its id.
    Create { name: String },
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a user in an organization; prints the user id. With --password the user signs in
    /// here; with --supabase-id, through the Supabase project (the id is their Supabase user id).
    Create {
        email: String,
        #[arg(long, required_unless_present = "supabase_id", conflicts_with = "supabase_id")]
        password: Option<String>,
        #[arg(long)]
        supabase_id: Option<String>,
        #[arg(long = "org")]
        org: String,
    },
    /// Add an existing user to another organization; prints the user id.
    Add {
        email: String,
        #[arg(long = "org")]
        org: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum KeyCommand {
    /// Create an API key; prints the key, once.
    Create {
        #[arg(long = "org")]
        org: String,
        #[arg(long, value_parser = parse_mode)]
        mode: Mode,
        #[arg(long, default_value = "API key")]
        name: String,
    },
    /// Revoke an API key by id or prefix.
    Revoke { key_id_or_prefix: String },
}

#[derive(Subcommand, Debug)]
pub enum InventoryCommand {
    /// Import numbers from a CSV file (header: e164,country,type,setup_cost_cents,monthly_cost_cents,currency).
    /// All or nothing: a bad row is reported with its line number and nothing is imported.
    Import {
        file: PathBuf,
        #[arg(long, value_parser = parse_mode)]
        mode: Mode,
    },
}

/// The secrets kept out of the database, from the environment or files (see `service::secrets`).
fn secrets() -> Result<SecretSettings, AppError> {
    let old_keys = from_env_or_file("KROS_SIP_ENCRYPTION_OLD_KEYS")?.unwrap_or_default();
    Ok(SecretSettings {
        api_key_pepper: from_env_or_file("KROS_API_KEY_PEPPER")?,
        sip_encryption_key: from_env_or_file("KROS_SIP_ENCRYPTION_KEY")?,
        sip_old_keys: old_keys.split(',').map(str::trim).filter(|k| !k.is_empty()).map(str::to_string).collect(),
    })
}

fn parse_mode(raw: &str) -> Result<Mode, String> {
    parse_enum::<Mode>("mode", raw).map_err(|e| e.message)
}

fn parse_org(raw: &str) -> Result<Uuid, AppError> {
    Uuid::parse_str(raw.trim())
        .map_err(|_| AppError::validation("org", format!("--org must be an organization id (a UUID), got {raw:?}")))
}

pub fn init_tracing() {
    use tracing_subscriber::{fmt, EnvFilter};
    let filter = EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    // Logs go to stderr, so stdout carries only command results.
    if std::env::var("KROS_LOG_FORMAT").is_ok_and(|f| f == "json") {
        let _ = fmt().json().with_env_filter(filter).with_writer(std::io::stderr).try_init();
    } else {
        let _ = fmt().with_env_filter(filter).with_writer(std::io::stderr).try_init();
    }
}

pub async fn run(cli: Cli) -> Result<(), AppError> {
    let config = cli.config;
    match cli.command.unwrap_or(Command::Serve(ServeArgs::parse_from_env())) {
        Command::Serve(args) => server::serve(args.server_settings(&config)?).await,
        Command::Migrate => {
            config.context().await?;
            println!("migrations applied");
            Ok(())
        }
        Command::SeedDemo { key_file } => seed_demo(&config, key_file.as_deref()).await,
        Command::Org(OrgCommand::Create { name }) => {
            let ctx = config.context().await?;
            println!("{}", organizations::create_organization(&ctx, &name).await?);
            Ok(())
        }
        Command::User(command) => user(&config, command).await,
        Command::Key(command) => key(&config, command).await,
        Command::Inventory(InventoryCommand::Import { file, mode }) => import_inventory(&config, &file, mode).await,
    }
}

async fn seed_demo(config: &Config, key_file: Option<&std::path::Path>) -> Result<(), AppError> {
    let ctx = config.context().await?;
    let summary = crate::seed::seed_demo(&ctx, key_file).await?;
    println!("demo organization: {}", summary.organization_id);
    println!("demo login: {} / {}", summary.user_email, summary.user_password);
    println!("inventory numbers added: {}", summary.inventory_added);
    if let Some(key) = summary.test_api_key {
        println!("demo test-mode API key: {key}");
    }
    Ok(())
}

async fn user(config: &Config, command: UserCommand) -> Result<(), AppError> {
    let id = match command {
        UserCommand::Create { email, password, supabase_id, org } => {
            let org = parse_org(&org)?;
            let ctx = config.context().await?;
            match (password, supabase_id) {
                (Some(password), _) => organizations::create_user(&ctx, &email, &password, org).await?,
                (None, Some(id)) => {
                    let id = Uuid::parse_str(id.trim()).map_err(|_| {
                        AppError::validation("supabase-id", "--supabase-id must be a Supabase user id (a UUID)")
                    })?;
                    organizations::create_supabase_user(&ctx, id, &email, org).await?
                }
                (None, None) => return Err(AppError::validation("password", "give --password or --supabase-id")),
            }
        }
        UserCommand::Add { email, org } => {
            let org = parse_org(&org)?;
            let ctx = config.context().await?;
            organizations::add_user_to_organization(&ctx, &email, org).await?
        }
    };
    println!("{id}");
    Ok(())
}

async fn key(config: &Config, command: KeyCommand) -> Result<(), AppError> {
    match command {
        KeyCommand::Create { org, mode, name } => {
            let org = parse_org(&org)?;
            let ctx = config.context().await?;
            let key = api_keys::create(&ctx, org, mode, &name).await?;
            eprintln!("Store this key now: it is shown only once. Its id is {}.", key.id);
            println!("{}", key.key);
        }
        KeyCommand::Revoke { key_id_or_prefix } => {
            let ctx = config.context().await?;
            let id = api_keys::revoke(&ctx, &key_id_or_prefix, None).await?;
            println!("revoked {id}");
        }
    }
    Ok(())
}

/// All or nothing: the file is read and checked whole before anything is written.
async fn import_inventory(config: &Config, file: &std::path::Path, mode: Mode) -> Result<(), AppError> {
    let reader = std::fs::File::open(file)
        .map_err(|e| AppError::validation("file", format!("cannot open {}: {e}", file.display())))?;
    let numbers = inventory::parse_csv(reader)
        .map_err(|e| AppError::validation("file", format!("{}: {e}; nothing was imported", file.display())))?;
    let ctx = config.context().await?;
    let progress =
        indicatif::ProgressBar::with_draw_target(Some(numbers.len() as u64), indicatif::ProgressDrawTarget::stderr());
    let added = inventory::add(&ctx, mode, &numbers, |done| {
        if done % 500 == 0 || done == numbers.len() {
            progress.set_position(done as u64);
        }
    })
    .await?;
    progress.finish_and_clear();
    println!("imported {added}");
    Ok(())
}

impl ServeArgs {
    fn server_settings(self, config: &Config) -> Result<ServerSettings, AppError> {
        let (webhooks, calls, sip_door) = (self.webhook_settings()?, self.call_settings()?, self.sip_door_settings()?);
        Ok(ServerSettings {
            database_url: config.database_url.clone(),
            pool: config.pool(),
            service: ServiceSettings {
                sip_domain: config.sip_domain.clone(),
                webhooks,
                reservations: ReservationSettings {
                    hold: Duration::from_secs(self.reservation_minutes * 60),
                    ..ReservationSettings::default()
                },
                calls,
            },
            auth: self.auth_settings(),
            rate_limit_per_second: self.rate_limit_per_second,
            rate_limit_burst: self.rate_limit_burst,
            site_root: self.site_root,
            site_addr: self.addr,
            sip_door,
            if_missing: IfMissing::Refuse,
            public_url: self.public_url,
            secrets: secrets()?,
            connections: ConnectionLimits {
                header_timeout: Duration::from_secs(self.header_timeout_secs.max(1)),
                body_timeout: Duration::from_secs(self.body_timeout_secs.max(1)),
                max_connections: self.max_connections.max(1),
            },
            throttle: ThrottleSettings {
                sign_in_failures_per_account: self.sign_in_failures_per_account,
                sign_in_failures_per_address: self.sign_in_failures_per_address,
                auth_failures_per_address: self.auth_failures_per_address,
                client_ip_header: self.client_ip_header,
            },
        })
    }

    fn call_settings(&self) -> Result<CallSettings, AppError> {
        let sip_servers =
            self.sip_kamailio_rpc
                .split(',')
                .map(str::trim)
                .filter(|url| !url.is_empty())
                .map(|url| {
                    url::Url::parse(url).ok().filter(|u| matches!(u.scheme(), "http" | "https")).ok_or_else(|| {
                        AppError::config(format!("KROS_SIP_KAMAILIO_RPC: {url:?} is not an http:// URL"))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
        let ttl = self.sip_credentials_ttl.trim();
        let credentials_ttl = humantime::parse_duration(ttl).map_err(|e| {
            AppError::config(format!("KROS_SIP_CREDENTIALS_TTL: {ttl:?} is not a duration like 60s ({e})"))
        })?;
        Ok(CallSettings { allow_private_targets: self.sip_allow_private_targets, sip_servers, credentials_ttl })
    }

    fn sip_door_settings(&self) -> Result<Option<SipDoorSettings>, AppError> {
        let Some(addr) = self.sip_door_addr else { return Ok(None) };
        let secret = from_env_or_file("KROS_SIP_DOOR_SECRET")?.unwrap_or_default();
        if secret.len() < 16 || !secret.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(AppError::config(
                "KROS_SIP_DOOR_SECRET must be set with KROS_SIP_DOOR_ADDR: 16 or more letters, digits, - or _",
            ));
        }
        Ok(Some(SipDoorSettings { addr, secret: secret.into() }))
    }

    fn webhook_settings(&self) -> Result<WebhookSettings, AppError> {
        let duration = |var: &str, raw: &str| {
            humantime::parse_duration(raw.trim())
                .map_err(|e| AppError::config(format!("{var}: {raw:?} is not a duration like 30s, 5m or 2h ({e})")))
        };
        let retry_schedule = self
            .webhook_retry_schedule
            .split(',')
            .filter(|part| !part.trim().is_empty())
            .map(|part| duration("KROS_WEBHOOK_RETRY_SCHEDULE", part))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(WebhookSettings {
            allow_private_urls: self.webhook_allow_private_urls,
            timeout: Duration::from_secs(self.webhook_timeout_secs.max(1)),
            retry_schedule,
            disable_after: duration("KROS_WEBHOOK_DISABLE_AFTER", &self.webhook_disable_after)?,
            ..WebhookSettings::default()
        })
    }

    fn auth_settings(&self) -> AuthSettings {
        AuthSettings {
            supabase_url: self.supabase_url.clone(),
            jwks_url: self.supabase_jwks_url.clone(),
            jwt_secret: self.jwt_secret.clone(),
            publishable_key: self.supabase_publishable_key.clone().or_else(|| self.supabase_anon_key.clone()),
            session_secret: self.session_secret.clone(),
            auto_create_users: self.auto_create_users,
            max_token_lifetime: Duration::from_secs(self.jwt_max_lifetime_secs),
            jwks_ttl: Duration::from_secs(self.jwks_cache_ttl_secs),
            jwks_refetch_interval: Duration::from_secs(self.jwks_refetch_interval_secs),
        }
    }

    /// `serve`'s settings when no subcommand is given.
    fn parse_from_env() -> Self {
        #[derive(Parser)]
        struct Only {
            #[command(flatten)]
            args: ServeArgs,
        }
        Only::parse_from(["kros-numbers"]).args
    }
}
