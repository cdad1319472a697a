//! `leakwatch serve`, `tenant`, `user` and `token` (contract api-v1). Every command takes
//! `--database-url` (or `LEAKWATCH_DATABASE_URL`); without it, the embedded SQLite database
//! in the data directory that `serve` uses too.

use std::net::SocketAddr;
use std::path::PathBuf;

use leakwatch_server::accounts::{self, AccountsError};
use leakwatch_server::auth::oidc::{self, OidcSettings};
use leakwatch_server::auth::{issue_token, AuthUser};
use leakwatch_server::kit::config::{Config, Overrides};
use leakwatch_server::kit::db::Db;
use leakwatch_server::kit::keys::{self, Keys};
use leakwatch_server::kit::outbound::{Outbound, Resolver};
use leakwatch_server::Application;

use crate::error::CliError;

/// Where the data is: shared by every server command.
#[derive(clap::Args, Clone)]
pub struct DatabaseArgs {
    /// `sqlite://PATH` or `postgres://...`; default: SQLite in the data directory.
    #[arg(long, env = "LEAKWATCH_DATABASE_URL")]
    database_url: Option<String>,
    /// Directory of the embedded SQLite database.
    #[arg(long, env = "LEAKWATCH_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Configuration file (TOML); default `leakwatch.toml` when present.
    #[arg(long, env = "LEAKWATCH_CONFIG")]
    config: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct ServeArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    /// Address to listen on (default 127.0.0.1:8080).
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// URL recipients' mail clients reach this server at.
    #[arg(long)]
    public_url: Option<String>,
}

#[derive(clap::Subcommand)]
pub enum TenantCommand {
    /// Create a tenant (idempotent on the name).
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        domain: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Let the tenant's users sign in with Microsoft Entra ID (the Outlook add-in), or with
    /// `--clear` stop that. See docs/authentication.md.
    Oidc {
        #[arg(long)]
        name: String,
        /// The tokens' `iss`, exactly, e.g. https://login.microsoftonline.com/TID/v2.0
        #[arg(long, required_unless_present = "clear")]
        issuer: Option<String>,
        /// The tokens' `aud`, exactly: the add-in's application id URI or client id.
        #[arg(long, required_unless_present = "clear")]
        audience: Option<String>,
        /// The signing keys, e.g. https://login.microsoftonline.com/TID/discovery/v2.0/keys
        #[arg(long, required_unless_present = "clear")]
        jwks_uri: Option<String>,
        /// The Entra directory (tenant) id.
        #[arg(long, required_unless_present = "clear")]
        tid: Option<String>,
        /// Remove the settings: Entra tokens are refused for this tenant from then on.
        #[arg(long, conflicts_with_all = ["issuer", "audience", "jwks_uri", "tid"])]
        clear: bool,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(clap::Subcommand)]
pub enum UserCommand {
    /// Add a user to a tenant.
    Add {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        email: String,
        /// Give the user the admin role (the same as `--role admin`).
        #[arg(long, conflicts_with = "role")]
        admin: bool,
        /// The user's role: sender (for a new user, the default), privacy-officer (keeps the
        /// breach register, decides incidents) or admin. Given for an existing user, it
        /// changes her role.
        #[arg(long, value_enum)]
        role: Option<RoleArg>,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Set a user's password for login (dashboard, Thunderbird), read as the first line of
    /// standard input; at least 10 characters. `--clear` removes it instead.
    Password {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        email: String,
        /// Remove the password: only tokens let the user in from then on.
        #[arg(long)]
        clear: bool,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(clap::Subcommand)]
pub enum TokenCommand {
    /// Print a bearer token (JWT) for a user on standard output, nothing else.
    Issue {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        email: String,
        /// How long the token is valid, e.g. `1h`, `30d` (default 30d).
        #[arg(long, default_value = "30d", value_parser = parse_ttl)]
        ttl: std::time::Duration,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Start signing with a new key; tokens of older keys stay valid.
    Rotate {
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

fn parse_ttl(text: &str) -> Result<std::time::Duration, String> {
    let ttl = humantime::parse_duration(text).map_err(|e| format!("'{text}': {e}"))?;
    if ttl.as_secs() == 0 {
        return Err("the ttl must be at least one second".into());
    }
    Ok(ttl)
}

fn config(
    database: &DatabaseArgs,
    listen: Option<SocketAddr>,
    public_url: Option<String>,
) -> Result<Config, CliError> {
    let overrides = Overrides {
        listen,
        database_url: database.database_url.clone(),
        data_dir: database.data_dir.clone(),
        public_url,
    };
    Config::load(database.config.clone(), &overrides)
        .map_err(|e| CliError::invalid_input(format!("configuration: {e}")))
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::failure(format!("cannot start the runtime: {e}")))
}

async fn connect(config: &Config) -> Result<Db, CliError> {
    Db::connect(&config.effective_database_url())
        .await
        .map_err(|e| CliError::failure(e.to_string()))
}

fn admin_error(err: AccountsError) -> CliError {
    match err {
        AccountsError::Db(e) => CliError::failure(format!("database: {e}")),
        AccountsError::Internal(e) => CliError::failure(format!("{e:#}")),
        other => CliError::invalid_input(other.to_string()),
    }
}

pub fn serve(args: ServeArgs) -> Result<(), CliError> {
    let config = config(&args.database, args.listen, args.public_url)?;
    init_logging(config.log_json);
    runtime()?.block_on(async {
        let app = Application::build(config.clone()).await.map_err(|e| CliError::failure(format!("{e:#}")))?;
        let address = app.local_addr();
        let public = app.state().public_url().to_string();
        tracing::info!(%address, database = %redact(&config.effective_database_url()), "leakwatch is serving");
        eprintln!("leakwatch: serving on http://{address} (public URL {public}); API docs at {public}/docs");
        match leakwatch_server::addin::status(&public) {
            Ok(manifest) => eprintln!("leakwatch: Outlook add-in manifest at {manifest} (and manifest.json, leakwatch-outlook.zip; ?tenant=NAME for its policy)"),
            Err(why) => eprintln!("leakwatch: Outlook add-in not served: {why}"),
        }
        app.run_until(shutdown_signal()).await.map_err(|e| CliError::failure(format!("{e:#}")))
    })
}

/// A database URL without its password, for logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://…@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_string(),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
    tracing::info!("shutting down: committing in-flight pixel hits");
}

fn init_logging(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("LEAKWATCH_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}

pub fn tenant(command: TenantCommand) -> Result<(), CliError> {
    let (name, domain, database) = match command {
        TenantCommand::Create {
            name,
            domain,
            database,
        } => (name, domain, database),
        TenantCommand::Oidc {
            name,
            issuer,
            audience,
            jwks_uri,
            tid,
            clear,
            database,
        } => {
            let settings = match (clear, issuer, audience, jwks_uri, tid) {
                (false, Some(issuer), Some(audience), Some(jwks_uri), Some(tenant_id)) => {
                    Some(OidcSettings {
                        issuer,
                        audience,
                        jwks_uri,
                        tenant_id,
                    })
                }
                (true, ..) => None,
                _ => {
                    return Err(CliError::invalid_input(
                        "give --issuer, --audience, --jwks-uri and --tid, or --clear",
                    ))
                }
            };
            return tenant_oidc(&name, settings, &database);
        }
    };
    let config = config(&database, None, None)?;
    runtime()?.block_on(async {
        let db = connect(&config).await?;
        let (tenant, created) = accounts::create_tenant(&db, &name, &domain)
            .await
            .map_err(admin_error)?;
        let verb = if created { "created" } else { "exists" };
        println!(
            "tenant {} {verb} (id {}, domain {})",
            tenant.name, tenant.id, tenant.domain
        );
        Ok(())
    })
}

fn tenant_oidc(
    name: &str,
    settings: Option<OidcSettings>,
    database: &DatabaseArgs,
) -> Result<(), CliError> {
    let config = config(database, None, None)?;
    runtime()?.block_on(async {
        let db = connect(&config).await?;
        let tenant = accounts::tenant_by_name(&db, name)
            .await
            .map_err(admin_error)?
            .ok_or_else(|| CliError::invalid_input(format!("no tenant named '{name}'")))?;
        let outbound = Outbound::new(&config.outbound, Resolver::system());
        match oidc::set_tenant_oidc(&db, &tenant.id, settings, &outbound)
            .await
            .map_err(admin_error)?
        {
            Some(saved) => println!(
                "tenant {name} accepts Entra ID tokens of directory {} (issuer {}, audience {}, keys {}); running servers apply it within 30 s",
                saved.tenant_id, saved.issuer, saved.audience, saved.jwks_uri
            ),
            None => println!("tenant {name} no longer accepts identity-provider tokens"),
        }
        Ok(())
    })
}

/// The first line of standard input, without its line ending.
fn read_password_line() -> Result<String, CliError> {
    use std::io::{BufRead, IsTerminal, Write};
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        // No echo suppression without a terminal library: say so rather than pretend.
        eprint!("new password (shown as typed; or pipe it in), then Enter: ");
        let _ = std::io::stderr().flush();
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line).map_err(|e| {
        CliError::invalid_input(format!("cannot read the password from standard input: {e}"))
    })?;
    let line = line.strip_suffix('\n').unwrap_or(&line);
    let line = line.strip_suffix('\r').unwrap_or(line);
    if line.is_empty() {
        return Err(CliError::invalid_input(
            "no password on standard input (give it as the first line)",
        ));
    }
    Ok(line.to_string())
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum RoleArg {
    Sender,
    PrivacyOfficer,
    Admin,
}

impl From<RoleArg> for leakwatch_server::accounts::Role {
    fn from(role: RoleArg) -> Self {
        use leakwatch_server::accounts::Role;
        match role {
            RoleArg::Sender => Role::Sender,
            RoleArg::PrivacyOfficer => Role::PrivacyOfficer,
            RoleArg::Admin => Role::Admin,
        }
    }
}

pub fn user(command: UserCommand) -> Result<(), CliError> {
    let (tenant, email, role, database) = match command {
        UserCommand::Add {
            tenant,
            email,
            admin,
            role,
            database,
        } => (
            tenant,
            email,
            role.map(Into::into)
                .or(admin.then_some(leakwatch_server::accounts::Role::Admin)),
            database,
        ),
        UserCommand::Password {
            tenant,
            email,
            clear,
            database,
        } => {
            let password = if clear {
                None
            } else {
                let password = read_password_line()?;
                leakwatch_server::kit::password::check_rules(&password)
                    .map_err(|e| CliError::invalid_input(e.to_string()))?;
                Some(password)
            };
            let config = config(&database, None, None)?;
            return runtime()?.block_on(async {
                let db = connect(&config).await?;
                let user = match &password {
                    Some(password) => accounts::set_password(&db, &tenant, &email, password).await,
                    None => accounts::clear_password(&db, &tenant, &email).await,
                }
                .map_err(admin_error)?;
                let verb = if password.is_some() { "set" } else { "removed" };
                println!("password {verb} for {} in tenant {tenant}", user.email);
                Ok(())
            });
        }
    };
    let config = config(&database, None, None)?;
    runtime()?.block_on(async {
        let db = connect(&config).await?;
        let (user, created) = accounts::add_user_as(
            &db,
            &tenant,
            &email,
            role,
            &leakwatch_server::kit::audit::Actor::system("cli"),
        )
        .await
        .map_err(admin_error)?;
        let verb = if created { "added" } else { "exists" };
        println!(
            "user {} {verb} in tenant {tenant} (id {}, role {})",
            user.email,
            user.id,
            user.role.as_str()
        );
        Ok(())
    })
}

pub fn token(command: TokenCommand) -> Result<(), CliError> {
    match command {
        TokenCommand::Issue {
            tenant,
            email,
            ttl,
            database,
        } => {
            let config = config(&database, None, None)?;
            runtime()?.block_on(async {
                let db = connect(&config).await?;
                let user = accounts::find_user(&db, &tenant, &email)
                    .await
                    .map_err(admin_error)?;
                let keys = Keys::load_or_create(&db)
                    .await
                    .map_err(|e| CliError::failure(format!("database: {e}")))?;
                let auth = AuthUser {
                    user_id: user.id,
                    tenant_id: user.tenant_id,
                    email: user.email,
                    role: user.role,
                };
                let ttl = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX / 2);
                let token =
                    issue_token(&keys, &auth, ttl).map_err(|e| CliError::failure(e.to_string()))?;
                println!("{token}");
                Ok(())
            })
        }
        TokenCommand::Rotate { database } => {
            let config = config(&database, None, None)?;
            runtime()?.block_on(async {
                let db = connect(&config).await?;
                Keys::load_or_create(&db)
                    .await
                    .map_err(|e| CliError::failure(format!("database: {e}")))?;
                let kid = keys::rotate_jwt(&db)
                    .await
                    .map_err(|e| CliError::failure(format!("database: {e}")))?;
                println!("new signing key {kid}; every server signs with it within a minute (auth.signing_keys_reload_seconds), no restart needed");
                Ok(())
            })
        }
    }
}
