//! Test support shared by the server's integration tests and the end-to-end tests: a fresh
//! database per test on SQLite or PostgreSQL. Compiled only with the `test-support` feature.
//!
//! PostgreSQL is found through `KONGJIAN_TEST_POSTGRES` (default [`DEFAULT_TEST_POSTGRES`]); when
//! it cannot be reached, creating a test database panics with a message that says how to start
//! one. PostgreSQL tests are never silently skipped.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::Duration;

use sea_orm::{ConnectionTrait, Database};

pub const DEFAULT_TEST_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh database for one test.
pub struct TestDatabase {
    pub url: String,
    /// For PostgreSQL: the admin URL and the database to drop afterwards.
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// A SQLite file in `dir`, or a new PostgreSQL database with a unique name.
    pub async fn create(backend: Backend, dir: &std::path::Path) -> TestDatabase {
        match backend {
            Backend::Sqlite => TestDatabase {
                url: crate::config::sqlite_url(&dir.join("test.db")),
                postgres: None,
            },
            Backend::Postgres => {
                let admin = std::env::var("KONGJIAN_TEST_POSTGRES")
                    .unwrap_or_else(|_| DEFAULT_TEST_POSTGRES.to_owned());
                let name = format!("kongjian_test_{}", uuid::Uuid::new_v4().simple());
                let conn =
                    match tokio::time::timeout(Duration::from_secs(5), Database::connect(&admin))
                        .await
                    {
                        Ok(Ok(conn)) => conn,
                        Ok(Err(err)) => {
                            panic!("{}", postgres_unreachable(&admin, &err.to_string()))
                        }
                        Err(_) => panic!("{}", postgres_unreachable(&admin, "timed out")),
                    };
                conn.execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .unwrap_or_else(|e| panic!("cannot create test database {name}: {e}"));
                let _ = conn.close().await;
                let mut url = url::Url::parse(&admin).expect("KONGJIAN_TEST_POSTGRES is a URL");
                url.set_path(&name);
                TestDatabase {
                    url: url.to_string(),
                    postgres: Some((admin, name)),
                }
            }
        }
    }
}

fn postgres_unreachable(admin: &str, err: &str) -> String {
    format!(
        "PostgreSQL for tests is not reachable at {admin} ({err}).\n\
         Start one (`pg_ctlcluster 15 main start`, or `apt-get install -y postgresql`), or point \
         KONGJIAN_TEST_POSTGRES at a server where this user may CREATE DATABASE. \
         PostgreSQL tests are never skipped."
    )
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((admin, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs outside async context guarantees; use a small runtime on its own thread.
        let handle = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                if let Ok(conn) = Database::connect(&admin).await {
                    let _ = conn
                        .execute_unprepared(&format!(
                            "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                        ))
                        .await;
                    let _ = conn.close().await;
                }
            });
        });
        let _ = handle.join();
    }
}
