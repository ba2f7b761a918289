//! The `kongjian` command: parse the command line, load the configuration, run.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config = match cli.settings.resolve() {
        Ok(config) => config,
        Err(err) => return report(&StartupError::Setting(err)),
    };
    kongjian::telemetry::init(config.log_format, &config.log_filter);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => return report(&StartupError::Other(err.into())),
    };
    let result = runtime.block_on(async {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => serve(config).await,
            Command::Migrate => migrate(config).await,
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
        StartupError::Other(e) => {
            eprintln!("运行失败 / Failed: {e:#}");
            ExitCode::FAILURE
        }
    }
}
