//! `hanlin`: one binary for every shape of the platform.

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use kernel::config::Config;
use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "hanlin", version, about = "Hanlin (翰林): a regional smart-education public service platform")]
struct Cli {
    /// Configuration file (default: ./hanlin.toml if it exists). HANLIN_* variables override it.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the platform.
    Serve {
        #[arg(long)]
        listen: Option<SocketAddr>,
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Serve a fictitious demo region (seeded on first start), writing DIR/demo-accounts.json.
    Demo {
        #[arg(long, default_value = "./data/demo")]
        data_dir: PathBuf,
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Apply database migrations and exit.
    Migrate {
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Administration from the command line.
    Admin {
        #[arg(long, global = true)]
        data_dir: Option<PathBuf>,
        #[command(subcommand)]
        command: AdminCommand,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a region administrator at the top of the org tree (creating the top unit if the tree is empty).
    CreateSuperuser {
        #[arg(long)]
        login: String,
        #[arg(long)]
        name: String,
        /// Name of the top unit to create when the tree is empty, e.g. 某某市.
        #[arg(long)]
        root_name: Option<String>,
        /// Kind of that unit: province or city.
        #[arg(long, default_value = "city")]
        root_kind: String,
        /// Its 6-digit administrative division code.
        #[arg(long)]
        root_code: Option<String>,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a new password for an account (generated and printed unless --password-stdin).
    ResetPassword {
        #[arg(long)]
        login: String,
        #[arg(long)]
        password_stdin: bool,
    },
}

fn load_config(file: Option<&PathBuf>, data_dir: Option<&PathBuf>, listen: Option<SocketAddr>) -> anyhow::Result<Config> {
    let mut config = Config::load(file.map(|p| p.as_path()))?;
    if let Some(d) = data_dir {
        config.data_dir = d.clone();
    }
    if let Some(l) = listen {
        config.listen = l;
    }
    Ok(config)
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("HANLIN_LOG").unwrap_or_else(|_| "info,sqlx=warn".into());
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

fn read_password(from_stdin: bool) -> anyhow::Result<(String, bool)> {
    if from_stdin {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        let p = s.trim_end_matches(['\n', '\r']).to_string();
        if p.is_empty() {
            bail!("no password on standard input");
        }
        Ok((p, false))
    } else {
        Ok((kernel::secret::random_token(15), true))
    }
}

#[tokio::main]
async fn main() {
    init_tracing();
    if let Err(e) = run(Cli::parse()).await {
        eprintln!("hanlin: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { listen, data_dir } => {
            let config = load_config(cli.config.as_ref(), data_dir.as_ref(), listen)?;
            start(config, None).await
        }
        Command::Demo { data_dir, listen } => {
            let config = load_config(cli.config.as_ref(), Some(&data_dir), listen)?;
            start(config, Some(data_dir)).await
        }
        Command::Migrate { data_dir } => {
            let config = load_config(cli.config.as_ref(), data_dir.as_ref(), None)?;
            let db = kernel::db::Db::open(&config.database_url()).await?;
            db.migrate().await?;
            println!("migrations applied to {}", redact(&config.database_url()));
            Ok(())
        }
        Command::Admin { data_dir, command } => {
            let config = load_config(cli.config.as_ref(), data_dir.as_ref(), None)?;
            let db = kernel::db::Db::open(&config.database_url()).await?;
            db.migrate().await?;
            admin(&config, &db, command).await
        }
    }
}

/// A database URL fit for logs: no password.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://…@{}", &url[..s], &url[at + 1..]),
        _ => url.to_string(),
    }
}

async fn start(config: Config, demo_dir: Option<PathBuf>) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder().ok();
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create data directory {}", config.data_dir.display()))?;
    let (db, ready) = server::open(&config).await?;
    let listener =
        tokio::net::TcpListener::bind(config.listen).await.with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    let app = server::app(config, db.clone());
    if ready {
        app.set_ready(true);
    } else {
        tokio::spawn(server::migrate_with_retry(app.clone()));
    }
    if let Some(dir) = demo_dir {
        if !ready {
            server::migrate_with_retry(app.clone()).await;
        }
        let accounts = server::demo::prepare(&app, &dir).await?;
        println!("\nHanlin demo region is up: http://{addr}/  (ready in {:.1} s)\n", started.elapsed().as_secs_f64());
        println!("{:<14} {:<22} {:<22} scope", "role", "login", "password");
        for a in &accounts {
            println!("{:<14} {:<22} {:<22} {}", a.role, a.login, a.password, a.scope);
        }
        println!("\nAll demo accounts: {}\n", dir.join("demo-accounts.json").display());
    } else {
        tracing::info!(%addr, database = %redact(&app.config.database_url()), "Hanlin listening");
    }
    server::serve(app, listener, metrics).await
}

async fn admin(config: &Config, db: &kernel::db::Db, command: AdminCommand) -> anyhow::Result<()> {
    match command {
        AdminCommand::CreateSuperuser { login, name, root_name, root_kind, root_code, password_stdin } => {
            let (password, generated) = read_password(password_stdin)?;
            let policy = directory::accounts::password::check_policy(&config.password, &password, Some(&login));
            if !generated && !policy.is_empty() {
                bail!(
                    "the password does not meet the password policy (at least {} characters, not containing the login)",
                    config.password.min_length
                );
            }
            let root = directory::accounts::admin::create_superuser(
                db,
                &login,
                &name,
                root_name.as_deref(),
                &root_kind,
                root_code.as_deref(),
                &password,
            )
            .await?;
            println!("created region administrator {login} at {root}");
            if generated {
                println!("password: {password}");
            }
            Ok(())
        }
        AdminCommand::ResetPassword { login, password_stdin } => {
            let (password, generated) = read_password(password_stdin)?;
            let policy = directory::accounts::password::check_policy(&config.password, &password, Some(&login));
            if !generated && !policy.is_empty() {
                bail!("the password does not meet the password policy (at least {} characters)", config.password.min_length);
            }
            directory::accounts::admin::reset_password(db, &login, &password).await?;
            println!("password of {login} reset");
            if generated {
                println!("password: {password}");
            }
            Ok(())
        }
    }
}
