//! The test harness every feature uses.
//!
//! [`TestApp::spawn`] starts the real app in-process on port 0 against a fresh database — a
//! SQLite file in a temporary directory, or a PostgreSQL database created for this test and
//! dropped afterwards — with a cookie-keeping client. [`on_both_databases!`] runs one test body
//! on each backend. PostgreSQL is found through `KONGJIAN_TEST_POSTGRES`; when it cannot be
//! reached the PostgreSQL variants fail and say how to start one (see `kongjian::testing`).

use std::time::Duration;

use kongjian::config::{LogFormat, ObjectStoreConfig};
pub use kongjian::testing::{Backend, TestDatabase};
use kongjian::{AppState, Config};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Run the test body once on SQLite and once on PostgreSQL, as `<name>::sqlite` and
/// `<name>::postgres`. The body sees the started app as `app`.
#[macro_export]
macro_rules! on_both_databases {
    ($(#[$meta:meta])* async fn $name:ident($app:ident) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $app = $crate::support::TestApp::spawn($crate::support::Backend::Sqlite).await;
                $body
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let $app = $crate::support::TestApp::spawn($crate::support::Backend::Postgres).await;
                $body
            }
        }
    };
}

/// The config a test server runs with: everything under `dir`, bound to port 0.
pub fn test_config(dir: &std::path::Path, database_url: String) -> Config {
    let mut config = kongjian::Settings::default()
        .resolve()
        .expect("default settings resolve");
    config.database_url = database_url;
    config.data_dir = dir.to_path_buf();
    config.index_dir = dir.join("index");
    config.object_store = ObjectStoreConfig::Local(dir.join("objects"));
    config.bind = "127.0.0.1:0".parse().expect("address");
    config.log_format = LogFormat::Text;
    // Tests start from an empty database; the demo is tested on its own.
    config.load_demo = false;
    // Messages must not wait for the morning because the suite runs at night; the quiet-hours
    // tests turn them on with a clock they set.
    config.quiet_hours = kongjian::messaging::QuietHours::Off;
    config
}

pub struct TestApp {
    /// `http://127.0.0.1:PORT`
    pub address: String,
    /// Keeps cookies, never follows redirects (tests look at them).
    pub client: reqwest::Client,
    pub state: AppState,
    shutdown: CancellationToken,
    server: Option<JoinHandle<std::io::Result<()>>>,
    // Dropped last: the database and the directory outlive the server.
    pub database: TestDatabase,
    _dir: tempfile::TempDir,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Start with a config changed by `tweak` (short session expiry, single sign-on…).
    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Config)) -> TestApp {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        Self::spawn_on(backend, listener, tweak).await
    }

    /// Start on a listener the test bound itself, for tests that must know the address before
    /// the config is made (an OpenID provider is told the redirect URI first). `config.bind` is
    /// the listener's address, so `config.base_url()` is the real one.
    pub async fn spawn_on(
        backend: Backend,
        listener: TcpListener,
        tweak: impl FnOnce(&mut Config),
    ) -> TestApp {
        kongjian::telemetry::init(LogFormat::Text, "warn");
        let dir = tempfile::tempdir().expect("temp dir");
        let database = TestDatabase::create(backend, dir.path()).await;
        let mut config = test_config(dir.path(), database.url.clone());
        config.bind = listener.local_addr().expect("address");
        tweak(&mut config);
        let shutdown = CancellationToken::new();
        let state = kongjian::prepare(config, shutdown.clone())
            .await
            .unwrap_or_else(|e| panic!("the app did not start: {e}"));
        let address = format!("http://{}", listener.local_addr().expect("address"));
        let server = tokio::spawn(kongjian::serve(state.clone(), listener));
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        TestApp {
            address,
            client,
            state,
            shutdown,
            server: Some(server),
            database,
            _dir: dir,
        }
    }

    pub fn backend(&self) -> Backend {
        if self.database.url.starts_with("sqlite") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        }
    }

    /// Another node on the same database (a second server behind the load balancer). It
    /// stops when dropped; the database stays `self`'s.
    pub async fn second_node(&self) -> Node {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = test_config(dir.path(), self.database.url.clone());
        config.bind = listener.local_addr().expect("address");
        let shutdown = CancellationToken::new();
        let state = kongjian::prepare(config, shutdown.clone())
            .await
            .unwrap_or_else(|e| panic!("the second node did not start: {e}"));
        let address = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(kongjian::serve(state.clone(), listener));
        Node {
            address,
            client: self.client.clone(),
            state,
            shutdown,
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    /// GET with an `Accept-Language` header, as a browser set to that language sends it.
    pub async fn get_in(&self, path: &str, accept_language: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .header("accept-language", accept_language)
            .send()
            .await
            .expect("GET")
    }

    /// Ask the server to stop and wait until it has.
    pub async fn stop(mut self) -> std::io::Result<()> {
        self.shutdown.cancel();
        match self.server.take() {
            Some(server) => server.await.expect("server task"),
            None => Ok(()),
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A second node of a [`TestApp`] (see [`TestApp::second_node`]).
pub struct Node {
    pub address: String,
    pub client: reqwest::Client,
    pub state: AppState,
    shutdown: CancellationToken,
    _dir: tempfile::TempDir,
}

impl Node {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Changes made beside the server — by the CLI, or another node — reach its caches within
/// about a second (`kongjian::cache::POLL`). Polls `check` for up to three seconds and says
/// whether it came true.
pub async fn soon<F, Fut>(mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    loop {
        if check().await {
            return true;
        }
        if std::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What the messaging helpers need of a node: its address, a client and its state.
pub trait Server {
    fn url(&self, path: &str) -> String;
    fn client(&self) -> &reqwest::Client;
    fn state(&self) -> &AppState;
}

impl Server for TestApp {
    fn url(&self, path: &str) -> String {
        TestApp::url(self, path)
    }
    fn client(&self) -> &reqwest::Client {
        &self.client
    }
    fn state(&self) -> &AppState {
        &self.state
    }
}

impl Server for Node {
    fn url(&self, path: &str) -> String {
        Node::url(self, path)
    }
    fn client(&self) -> &reqwest::Client {
        &self.client
    }
    fn state(&self) -> &AppState {
        &self.state
    }
}
