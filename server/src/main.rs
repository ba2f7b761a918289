//! The `kongjian` command: parse the command line, load the configuration, run.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc: roster imports and the realtime hub allocate and free millions of small strings;
/// glibc's allocator spent about a third of a county import's time in malloc/free.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use kongjian::{ConfigError, Settings, StartupError};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// 空间 Kongjian — one learning space per person, provisioned from the school district's roster.
#[derive(Parser)]
#[command(name = "kongjian", version, about)]
struct Cli {
    #[command(flatten)]
    settings: Settings,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web pages, the API and the websocket (the default).
    Serve,
    /// Apply pending database migrations and exit (for multi-node deployments).
    Migrate,
    /// API tokens for platforms and scripts.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Activation codes (激活码) for families and pupils without single sign-on.
    Codes {
        #[command(subcommand)]
        command: CodesCommand,
    },
    /// Rebuild this node's search index from the database (the server must be stopped: the
    /// index has one writer). Prints progress; the index is replaced in one commit.
    Reindex,
    /// The roster from the education-management platform.
    Roster {
        #[command(subcommand)]
        command: RosterCommand,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token for a person; prints the token alone on standard output, once.
    Create {
        /// The person's roster sourcedId.
        #[arg(long)]
        user: String,
        /// What the token is for, e.g. the platform's name.
        #[arg(long, default_value = "api")]
        name: String,
        /// Days until the token expires (default: never).
        #[arg(long)]
        expires_days: Option<u32>,
    },
    /// Revoke a token, named by its id or by the token itself.
    Revoke {
        /// The token's id (printed when it was created) or the token.
        token: String,
    },
}

#[derive(Subcommand)]
enum CodesCommand {
    /// Issue a code for every pupil of a class and every parent of those pupils (`--class`),
    /// or for one person such as a teacher or an administrator (`--user`); earlier unused
    /// codes of those people stop working.
    #[command(group(clap::ArgGroup::new("who").required(true).args(["class", "user"])))]
    Issue {
        /// The class's roster sourcedId.
        #[arg(long)]
        class: Option<String>,
        /// One person's roster sourcedId.
        #[arg(long)]
        user: Option<String>,
        /// Print `[{"sourced_id", "name", "role", "code"}]` instead of a table.
        #[arg(long)]
        json: bool,
        /// Days until the codes expire (default: KONGJIAN_CODE_DAYS, 30).
        #[arg(long)]
        expires_days: Option<u32>,
    },
}

#[derive(Subcommand)]
enum RosterCommand {
    /// Import a OneRoster CSV package or a Chinese school roster (a .zip or a directory).
    Import {
        /// The .zip file or directory to import.
        path: PathBuf,
        /// Check and count everything, write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Allow a bulk import to retire more than 15 % of a school's people (new school year).
        #[arg(long)]
        allow_mass_retire: bool,
        /// Compare every row even when the files are those of the last import that wrote
        /// anything (which is otherwise answered at once: nothing can have changed).
        #[arg(long)]
        recheck: bool,
        /// Print one JSON object on standard output instead of the summary table.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match cli.settings.resolve() {
        Ok(config) => config,
        Err(err) => return report(&StartupError::Setting(err)),
    };
    // Held to the end of main: dropping it writes out the last lines ("stopped").
    let _logs = kongjian::telemetry::init_background(config.log_format, &config.log_filter);
    // An import is one sequence of steps: on one thread, the memory the parsed records free is
    // reused by the plan made from them (a multi-threaded runtime could move the import to
    // another worker between the two, whose allocations cannot reuse the first one's pages,
    // and the peak held both).
    let mut builder = if matches!(cli.command, Some(Command::Roster { .. })) {
        tokio::runtime::Builder::new_current_thread()
    } else {
        tokio::runtime::Builder::new_multi_thread()
    };
    let runtime = match builder.enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => return report(&StartupError::Other(err.into())),
    };
    let result = runtime.block_on(async {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => serve(config).await,
            Command::Migrate => migrate(config).await,
            Command::Reindex => reindex(config).await,
            Command::Roster {
                command:
                    RosterCommand::Import {
                        path,
                        dry_run,
                        allow_mass_retire,
                        recheck,
                        json,
                    },
            } => {
                let args = kongjian::roster::cli::ImportArgs {
                    path: &path,
                    dry_run,
                    allow_mass_retire,
                    recheck,
                    json,
                };
                roster_import(config, args).await
            }
            Command::Token { command } => token(config, command).await,
            Command::Codes {
                command:
                    CodesCommand::Issue {
                        class,
                        user,
                        json,
                        expires_days,
                    },
            } => codes_issue(config, class, user, json, expires_days).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => report(&err),
    }
}

async fn serve(config: kongjian::Config) -> Result<(), StartupError> {
    let listener = TcpListener::bind(config.bind).await.map_err(|e| {
        ConfigError::new(
            "KONGJIAN_BIND",
            format!("无法监听 {}（{e}）", config.bind),
            format!("cannot listen on {} ({e})", config.bind),
        )
    })?;
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    kongjian::run(config, listener, shutdown).await
}

async fn migrate(config: kongjian::Config) -> Result<(), StartupError> {
    let (db, installation) = kongjian::connect_and_migrate(&config.database_url).await?;
    let applied = kongjian::db::applied_migrations(&db)
        .await
        .map_err(anyhow::Error::from)?;
    db.close().await.map_err(anyhow::Error::from)?;
    println!(
        "数据库已是最新：共 {applied} 个迁移（安装编号 {installation}） / Database is up to date: {applied} migrations applied (installation {installation})"
    );
    Ok(())
}

/// Indexing memory of `kongjian reindex`: more than a serving node's, for fewer segments.
const REINDEX_HEAP: usize = 256 * 1024 * 1024;

async fn reindex(config: kongjian::Config) -> Result<(), StartupError> {
    let (db, _) = kongjian::connect_and_migrate(&config.database_url).await?;
    let search = kongjian::open_search_with_heap(&config.index_dir, REINDEX_HEAP)?;
    let started = std::time::Instant::now();
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({per_sec}, {eta})")
            .map_err(anyhow::Error::from)?,
    );
    bar.set_message("重建索引 / reindexing");
    let done = search
        .rebuild(&db, |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })
        .await
        .map_err(anyhow::Error::from)?;
    bar.finish_and_clear();
    eprintln!("合并索引段… / merging the index's segments…");
    search.close().await;
    let position = *search.position.borrow();
    drop(search);
    db.close().await.map_err(anyhow::Error::from)?;
    println!(
        "索引已重建：{done} 个资源，用时 {:.1} 秒，变更位置 {position} / Index rebuilt: {done} resources in {:.1} s, outbox position {position}",
        started.elapsed().as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

async fn roster_import(
    config: kongjian::Config,
    args: kongjian::roster::cli::ImportArgs<'_>,
) -> Result<(), StartupError> {
    let (db, _) = kongjian::connect_and_migrate(&config.database_url).await?;
    let imported = kongjian::roster::cli::import(&db, args)
        .await
        .map_err(anyhow::Error::from)?;
    db.close().await.map_err(anyhow::Error::from)?;
    if imported {
        Ok(())
    } else {
        Err(StartupError::Rejected)
    }
}

async fn token(config: kongjian::Config, command: TokenCommand) -> Result<(), StartupError> {
    use kongjian::auth::tokens;
    let (db, _) = kongjian::connect_and_migrate(&config.database_url).await?;
    let now = chrono::Utc::now();
    let result = match command {
        TokenCommand::Create {
            user,
            name,
            expires_days,
        } => {
            let created = tokens::create(&db, &user, &name, expires_days, now).await;
            if let Ok(token) = &created
                && let Ok(Some(person)) =
                    kongjian::people::store::find_by_sourced_id(&db, &user).await
            {
                kongjian::auth::service::audit_token_created(&db, &person.id, &token.id)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
            }
            created.map(|token| {
                // The token alone on stdout, so scripts can capture it; the rest on stderr.
                println!("{}", token.secret);
                let expiry = token
                    .expires_at
                    .map(|at| at.to_rfc3339())
                    .unwrap_or_else(|| "永不过期 / never".to_owned());
                eprintln!("已为 {user} 创建令牌 {}（有效期至 {expiry}）。令牌只显示这一次。 / Created token {} for {user} (expires: {expiry}). It is shown only once.", token.id, token.id);
            })
        }
        TokenCommand::Revoke { token } => tokens::revoke(&db, &token, now).await.map(|()| {
            eprintln!("令牌已吊销 / token revoked");
        }),
    };
    db.close().await.map_err(anyhow::Error::from)?;
    result.map_err(|e| StartupError::Other(anyhow::anyhow!("{e}")))
}

async fn codes_issue(
    config: kongjian::Config,
    class: Option<String>,
    user: Option<String>,
    json: bool,
    expires_days: Option<u32>,
) -> Result<(), StartupError> {
    use kongjian::auth::cli::{Who, issue};
    let (db, _) = kongjian::connect_and_migrate(&config.database_url).await?;
    let days = expires_days.filter(|d| *d > 0).unwrap_or(config.code_days);
    let who = match (class, user) {
        (Some(class), _) => Who::Class(class),
        (None, Some(user)) => Who::Person(user),
        (None, None) => Who::Class(String::new()),
    };
    let result = issue(&db, &who, days, json, &config.base_url()).await;
    db.close().await.map_err(anyhow::Error::from)?;
    result.map_err(|e| StartupError::Other(anyhow::anyhow!("{e}")))
}

/// Cancel the token on SIGTERM or Ctrl-C.
async fn cancel_on_signal(token: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
    token.cancel();
}

/// Print why the command failed, Chinese first, and choose the exit code.
fn report(err: &StartupError) -> ExitCode {
    match err {
        StartupError::Setting(e) => {
            eprintln!("启动失败：设置 {} {}", e.setting, e.zh);
            eprintln!("Cannot start: setting {} {}", e.setting, e.en);
            ExitCode::from(2)
        }
        StartupError::Rejected => ExitCode::FAILURE,
        StartupError::Other(e) => {
            eprintln!("运行失败 / Failed: {e:#}");
            ExitCode::FAILURE
        }
    }
}
