//! `hanlin`: one binary for every shape of the platform.

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use kernel::config::Config;
use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;

/// glibc's allocator spent a sixth of a bulk import's time in malloc and free across threads.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Import a roster file (CSV or XLSX) into the whole region, as the import page does.
    /// Exits non-zero, writing nothing, when any row fails (unless --valid-rows-only).
    Import {
        /// schools, classes, teachers, students, parents or headcounts
        kind: String,
        file: PathBuf,
        /// Check every row and show what would change, then roll back.
        #[arg(long)]
        dry_run: bool,
        /// Import the rows without errors and skip the others.
        #[arg(long)]
        valid_rows_only: bool,
        /// Mark people of the file's schools who are not in the file as left.
        #[arg(long)]
        mark_missing_left: bool,
        /// The worksheet to read in an XLSX (default: the first).
        #[arg(long)]
        sheet: Option<String>,
        /// Write the error report (failing rows, offending cells highlighted) here when rows fail.
        #[arg(long)]
        report: Option<PathBuf>,
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Make a synthetic region with fictitious names as import files (and, with --into-db, import it).
    Gen {
        /// "small", "hubei" (16,000 schools, 550,000 teachers, 7,000,000 students), or
        /// "students=1000000,schools=2000,teachers=80000,cities=2,districts=4,parents=1".
        #[arg(long, default_value = "small")]
        size: String,
        #[arg(long, default_value = "./data/gen")]
        out: PathBuf,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Also create the region and import every file into the configured database.
        #[arg(long)]
        into_db: bool,
        /// With --into-db, leave this kind out of the import (repeatable), e.g. to import it later through the server.
        #[arg(long)]
        skip: Vec<String>,
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// The resource library's maintenance.
    Library {
        #[arg(long, global = true)]
        data_dir: Option<PathBuf>,
        #[command(subcommand)]
        command: LibraryCommand,
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
enum LibraryCommand {
    /// Rebuild this node's search index from the database (stop `hanlin serve` on this data directory first).
    Reindex,
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
        Command::Import { kind, file, dry_run, valid_rows_only, mark_missing_left, sheet, report, data_dir } => {
            let config = load_config(cli.config.as_ref(), data_dir.as_ref(), None)?;
            let db = kernel::db::Db::open(&config.database_url()).await?;
            db.migrate().await?;
            let opts = roster::import::Options { sheet, dry_run, valid_rows_only, mark_missing_left };
            let failed = import(&config, &db, &kind, &file, &opts, report.as_deref()).await?;
            db.close().await;
            if failed {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Gen { size, out, seed, into_db, skip, data_dir } => {
            let size = regiongen::Size::parse(&size).map_err(|e| anyhow::anyhow!("--size: {e}"))?;
            let config = load_config(cli.config.as_ref(), data_dir.as_ref(), None)?;
            let today = kernel::today(config.display_utc_offset_minutes);
            if into_db {
                std::fs::create_dir_all(&config.data_dir)?;
                let db = kernel::db::Db::open(&config.database_url()).await?;
                db.migrate().await?;
                let year = directory::calendar::store::school_year(&db, today).await?;
                server::synthetic::run(Some(&db), &out, size, seed, year, &skip).await?;
                db.close().await;
                Ok(())
            } else {
                server::synthetic::run(None, &out, size, seed, directory::codes::school_year_of(today), &[]).await
            }
        }
        Command::Library { data_dir, command: LibraryCommand::Reindex } => {
            let config = load_config(cli.config.as_ref(), data_dir.as_ref(), None)?;
            let db = kernel::db::Db::open(&config.database_url()).await?;
            db.migrate().await?;
            let app = server::app(config, db.clone())?;
            let started = std::time::Instant::now();
            let last = std::sync::Mutex::new(std::time::Instant::now());
            let progress = |read: u64| {
                let mut last = last.lock().expect("lock poisoned");
                if last.elapsed() >= std::time::Duration::from_secs(3) {
                    *last = std::time::Instant::now();
                    eprintln!("read {read} resources …");
                }
            };
            let indexed = library::search::rebuild(&app, &progress).await?;
            println!("indexed {indexed} resources in {:.1} s", started.elapsed().as_secs_f64());
            db.close().await;
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

/// Progress of a command-line import, printed to standard error every few seconds.
struct CliProgress {
    live: kernel::jobs::Live,
    last: std::sync::Mutex<std::time::Instant>,
}

impl roster::import::Progress for CliProgress {
    fn update(&self, phase: roster::import::Phase, done: u64, total: u64) {
        self.live.set(phase as u8, done, total);
        let mut last = self.last.lock().expect("lock poisoned");
        if last.elapsed() >= std::time::Duration::from_secs(3) {
            *last = std::time::Instant::now();
            let s = self.live.snapshot();
            match phase {
                roster::import::Phase::Validating => {
                    eprintln!("checking: {:.0}% of the file", done as f64 * 100.0 / total.max(1) as f64)
                }
                roster::import::Phase::Applying => eprintln!(
                    "writing: {done}/{total} rows, {:.0} rows/s, about {} s left",
                    s.rate,
                    s.eta_seconds.map(|e| e.to_string()).unwrap_or_else(|| "?".into())
                ),
            }
        }
    }

    fn cancelled(&self) -> bool {
        false
    }
}

/// Runs `hanlin import`; returns whether rows failed (nothing written unless --valid-rows-only).
async fn import(
    config: &Config,
    db: &kernel::db::Db,
    kind: &str,
    file: &std::path::Path,
    opts: &roster::import::Options,
    report: Option<&std::path::Path>,
) -> anyhow::Result<bool> {
    use roster::import::{ImportError, source::SourceError};
    let kind = roster::columns::Kind::parse(kind)
        .with_context(|| format!("unknown kind {kind:?}: use schools, classes, teachers, students, parents or headcounts"))?;
    let today = kernel::today(config.display_utc_offset_minutes);
    let school_year = directory::calendar::store::school_year(db, today).await?;
    let who = roster::import::Who { actor_id: None, actor_name: "hanlin import (command line)".into(), ip: "local".into() };
    let req = roster::import::Request { kind, file, scope_path: "/", school_year, today, who: &who, opts };
    let progress = CliProgress { live: kernel::jobs::Live::new(), last: std::sync::Mutex::new(std::time::Instant::now()) };
    let started = std::time::Instant::now();
    let outcome = match roster::import::run(db, &req, &progress).await {
        Ok(o) => o,
        Err(ImportError::Source(SourceError::NoHeader { found })) => {
            bail!("no header row with every required column of {} in the first rows; found: {}", kind.as_str(), found.join(", "))
        }
        Err(e) => return Err(e.into()),
    };
    let i18n = kernel::i18n::I18n::load();
    let locale = kernel::i18n::Locale::parse(&config.default_locale).unwrap_or(kernel::i18n::Locale::ZhCn);
    for n in &outcome.notices {
        let args: Vec<(&str, String)> = n.args.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        eprintln!("{}", i18n.t_args(locale, &n.key, &args));
    }
    for p in outcome.problems.iter().take(50) {
        let args: Vec<(&str, String)> = p.args.iter().map(|(k, v)| (*k, v.clone())).collect();
        eprintln!("row {} · {} · {:?}: {}", p.row, p.column, p.value, i18n.t_args(locale, p.key, &args));
    }
    if outcome.problems.len() > 50 {
        eprintln!("… {} more problems", outcome.problems.len() - 50);
    }
    let c = outcome.counts;
    println!(
        "{} rows in {:.1} s: created {}, updated {}, unchanged {}, moved {}, errors {}, missing from file {}, marked left {}{}",
        outcome.total_rows,
        started.elapsed().as_secs_f64(),
        c.created,
        c.updated,
        c.unchanged,
        c.moved,
        outcome.error_rows,
        c.missing,
        c.marked_left,
        if outcome.applied {
            ""
        } else if opts.dry_run {
            " (dry run: nothing written)"
        } else {
            " (nothing written)"
        }
    );
    if let (Some(path), true) = (report, outcome.error_rows > 0) {
        let stored: Vec<roster::import::job::StoredProblem> =
            outcome.problems.iter().map(roster::import::job::StoredProblem::from).collect();
        let bytes = roster::import::report::error_report(file, kind, opts.sheet.as_deref(), &stored, &i18n, locale)?;
        std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
        println!("error report written to {}", path.display());
    }
    Ok(outcome.rejected)
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
    let app = server::app(config, db.clone())?;
    // A missing bucket or wrong credentials stop the start, rather than the first upload.
    app.storage.check().await.with_context(|| format!("file storage {} is not usable", app.storage.name()))?;
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
