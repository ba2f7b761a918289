//! Kongjian (空间): one learning space per person, provisioned from a school district's roster.
//!
//! [`run`] is the whole server: `main.rs`, the tests, the benchmarks and the two-node test all
//! start it the same way, with a configuration, a bound listener and a shutdown token.

pub mod activities;
pub mod assignments;
pub mod audit;
pub mod auth;
pub mod cache;
pub mod clock;
pub mod config;
pub mod db;
pub mod error;
pub mod growth;
mod home;
pub mod http;
pub mod i18n;
pub mod installation;
pub mod lessons;
pub mod markdown;
pub mod messaging;
pub mod objects;
pub mod people;
pub mod resources;
pub mod roster;
pub mod search;
pub mod spaces;
pub mod state;
pub mod telemetry;
#[cfg(feature = "test-support")]
pub mod testing;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use config::{Config, ConfigError, Settings};
pub use state::AppState;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// A setting is unusable; the error names it.
    #[error(transparent)]
    Setting(#[from] ConfigError),
    /// The command ran and reported why it did nothing (e.g. a rejected import).
    #[error("rejected")]
    Rejected,
    #[error("{0:#}")]
    Other(#[from] anyhow::Error),
}

/// Prepare everything the server needs, checking each setting on the way: the data directory,
/// the database (migrated), the object store (written and read back) and the index directory.
pub async fn prepare(
    config: Config,
    shutdown: CancellationToken,
) -> Result<AppState, StartupError> {
    ensure_writable_dir(&config.data_dir, "KONGJIAN_DATA_DIR")?;
    ensure_writable_dir(&config.index_dir, "KONGJIAN_DATA_DIR")?;
    let db = connect_and_migrate(&config.database_url).await?;
    let installation_id = db.1;
    let db = db.0;
    let objects = objects::build(&config.object_store)?;
    objects::probe(&objects).await?;
    if config.load_demo {
        roster::demo::load_if_empty(&db).await?;
    }
    let i18n = i18n::Catalogues::load()
        .map_err(|e| anyhow::anyhow!("the built-in string catalogues are broken: {e}"))?;
    // Contacts nobody: the provider is discovered on first use, so its outage cannot stop us.
    let sso = auth::oidc::Sso::from_config(&config)?;
    let search = open_search(&config.index_dir)?;
    let state = AppState::new(state::Shared {
        db,
        config: Arc::new(config),
        objects,
        i18n,
        sso,
        caches: cache::Caches::new(),
        installation_id: installation_id.into(),
        shutdown,
        clock: clock::Clock::system(),
        messaging: messaging::Messaging::new(),
        search,
    });
    if state.config.load_demo {
        resources::demo::load_if_empty(&state)
            .await
            .map_err(|e| anyhow::anyhow!("the demo resources did not load: {e:?}"))?;
        spaces::demo::load_if_empty(&state)
            .await
            .map_err(|e| anyhow::anyhow!("the demo lessons and assignments did not load: {e:?}"))?;
    }
    Ok(state)
}

/// Open this node's search index (and take its single writer).
pub fn open_search(dir: &Path) -> Result<search::indexer::Search, ConfigError> {
    open_search_with_heap(dir, search::indexer::WRITER_HEAP)
}

/// [`open_search`] with `heap` bytes of indexing memory (a rebuild).
pub fn open_search_with_heap(
    dir: &Path,
    heap: usize,
) -> Result<search::indexer::Search, ConfigError> {
    search::indexer::Search::open_with_heap(dir, heap).map_err(|e| {
        ConfigError::new(
            "KONGJIAN_DATA_DIR",
            format!(
                "无法打开检索索引 {}（{e}）。若另一个 kongjian 进程正在使用同一数据目录，请先停止它；索引可用 kongjian reindex 重建",
                dir.display()
            ),
            format!(
                "cannot open the search index {} ({e}); if another kongjian process uses the same data directory, stop it first; `kongjian reindex` rebuilds the index",
                dir.display()
            ),
        )
    })
}

/// Connect to the database named by `KONGJIAN_DATABASE_URL` and apply pending migrations.
/// Returns the connection and the installation id.
pub async fn connect_and_migrate(
    url: &str,
) -> Result<(sea_orm::DatabaseConnection, String), ConfigError> {
    const NAME: &str = "KONGJIAN_DATABASE_URL";
    if let Some(parent) = sqlite_file(url).and_then(Path::parent)
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|e| {
            ConfigError::new(
                NAME,
                format!("无法创建数据库目录 {}（{e}）", parent.display()),
                format!(
                    "cannot create the database directory {} ({e})",
                    parent.display()
                ),
            )
        })?;
    }
    let db = db::connect(url).await.map_err(|e| {
        ConfigError::new(
            NAME,
            format!("无法连接数据库（{e}）"),
            format!("cannot connect to the database ({e})"),
        )
    })?;
    let id = db::migrate(&db).await.map_err(|e| {
        ConfigError::new(
            NAME,
            format!("数据库迁移失败（{e}）"),
            format!("the database migration failed ({e})"),
        )
    })?;
    Ok((db, id))
}

/// The file of a SQLite URL, when it names one (not `:memory:`).
fn sqlite_file(url: &str) -> Option<&Path> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    (!path.is_empty() && !path.starts_with(":memory:")).then(|| Path::new(path))
}

fn ensure_writable_dir(dir: &Path, setting: &'static str) -> Result<(), ConfigError> {
    let fail = |e: std::io::Error| {
        ConfigError::new(
            setting,
            format!("目录 {} 不可写（{e}）", dir.display()),
            format!("directory {} is not writable ({e})", dir.display()),
        )
    };
    std::fs::create_dir_all(dir).map_err(fail)?;
    let probe = dir.join(format!(".kongjian-write-test-{}", std::process::id()));
    std::fs::write(&probe, b"ok").map_err(fail)?;
    std::fs::remove_file(&probe).map_err(fail)
}

/// Serve until `state.shutdown` is cancelled, then let in-flight requests finish for at most
/// the configured grace period.
pub async fn serve(state: AppState, listener: TcpListener) -> std::io::Result<()> {
    let shutdown = state.shutdown.clone();
    tokio::spawn(sweep_expired_sessions(state.db.clone(), shutdown.clone()));
    tokio::spawn(db::checkpoint_wal(state.db.clone(), shutdown.clone()));
    tokio::spawn(
        state
            .caches
            .clone()
            .watch(state.db.clone(), shutdown.clone()),
    );
    messaging::start(&state);
    tokio::spawn(search::indexer::follow(
        state.search.clone(),
        state.db.clone(),
        shutdown.clone(),
    ));
    let grace = state.config.shutdown_grace;
    serve_router(http::app::router(state), listener, shutdown, grace).await
}

/// Delete expired sessions every hour until shutdown (expired ones are already refused; this
/// only keeps the table small).
async fn sweep_expired_sessions(db: sea_orm::DatabaseConnection, shutdown: CancellationToken) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        tokio::select! {
            _ = every.tick() => {}
            () = shutdown.cancelled() => return,
        }
        match auth::session_store::delete_expired(&db).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(sessions = n, "expired sessions removed"),
            Err(err) => tracing::warn!(error = %err, "removing expired sessions failed"),
        }
    }
}

/// Serve `app` until `shutdown` is cancelled: stop accepting, let requests in flight finish,
/// and cut off whatever is still running after `grace`.
pub async fn serve_router(
    app: impl http::app::AppService,
    listener: TcpListener,
    shutdown: CancellationToken,
    grace: std::time::Duration,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    // Small frames and replies must not wait for the peer's delayed ACK (Nagle): a catch-up of
    // a thousand messages stalled ~40 ms mid-stream without this.
    let listener = listener.tap_io(|stream| {
        if let Err(err) = stream.set_nodelay(true) {
            tracing::debug!(error = %err, "TCP_NODELAY could not be set");
        }
    });
    let server =
        axum::serve(
            listener,
            axum::ServiceExt::<axum::extract::Request>::into_make_service_with_connect_info::<
                SocketAddr,
            >(app),
        )
        .with_graceful_shutdown(shutdown.clone().cancelled_owned())
        .into_future();
    tokio::pin!(server);
    tokio::select! {
        result = &mut server => return result,
        () = shutdown.cancelled() => {}
    }
    tracing::info!("shutting down: no new connections; waiting for requests in flight");
    match tokio::time::timeout(grace, server).await {
        Ok(result) => result,
        Err(_) => {
            tracing::warn!(
                grace_secs = grace.as_secs(),
                "requests still in flight after the grace period were cut off"
            );
            Ok(())
        }
    }
}

/// Prepare and serve: the whole server.
pub async fn run(
    config: Config,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> Result<(), StartupError> {
    let state = prepare(config, shutdown).await?;
    let db = state.db.clone();
    tracing::info!(
        backend = db::backend_name(&db),
        installation = &*state.installation_id,
        "listening on http://{}",
        listener.local_addr().map_err(anyhow::Error::from)?
    );
    serve(state, listener).await.map_err(anyhow::Error::from)?;
    if let Err(err) = db.close().await {
        tracing::warn!(error = %err, "closing the database pool failed");
    }
    tracing::info!("stopped");
    Ok(())
}
