//! The real `kongjian` binary as an operator runs it: embedded defaults, PostgreSQL, an
//! S3-compatible store, `kongjian migrate`, bad settings, and SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use kongjian_e2e::{Backend, S3Server, ServerProcess, TestDatabase, command, run_to_end};
use serde_json::Value;

async fn get_json(url: &str) -> (u16, Value) {
    let response = reqwest::get(url).await.expect("GET");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON body"))
}

#[tokio::test]
async fn serves_on_the_embedded_defaults_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    // Only the port differs from the defaults, so tests never collide on 8080.
    let mut cmd = command(dir.path());
    cmd.env("KONGJIAN_BIND", "127.0.0.1:0");
    let server = ServerProcess::start(cmd);

    let (status, health) = get_json(&server.url("/healthz")).await;
    assert_eq!(status, 200);
    assert_eq!(health["backend"], "sqlite");

    let zh = reqwest::get(server.url("/"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(zh.contains(r#"<html lang="zh-CN">"#) && zh.contains("一人一空间"));
    let en = reqwest::Client::new()
        .get(server.url("/"))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(en.contains("One person, one space"));

    // The embedded defaults: everything under ./data.
    let data = dir.path().join("data");
    assert!(
        data.join("kongjian.db").is_file(),
        "SQLite file under ./data"
    );
    assert!(
        data.join("objects").is_dir(),
        "object directory under ./data"
    );
    assert!(data.join("index").is_dir(), "index directory under ./data");

    let (status, log) = server.terminate(Duration::from_secs(10));
    assert!(status.success(), "exit status after SIGTERM: {status}");
    assert!(log.iter().any(|l| l.contains("stopped")), "{log:?}");
}

#[tokio::test]
async fn serves_on_postgresql_with_json_logs() {
    let dir = tempfile::tempdir().unwrap();
    let database = TestDatabase::create(Backend::Postgres, dir.path()).await;
    let mut cmd = command(dir.path());
    cmd.env("KONGJIAN_BIND", "127.0.0.1:0")
        .env("KONGJIAN_DATABASE_URL", &database.url)
        .env("KONGJIAN_LOG_FORMAT", "json");
    let server = ServerProcess::start(cmd);

    let (status, health) = get_json(&server.url("/healthz")).await;
    assert_eq!(status, 200);
    assert_eq!(health["backend"], "postgres");

    let (status, log) = server.terminate(Duration::from_secs(10));
    assert!(status.success(), "exit status after SIGTERM: {status}");
    let request_line = log
        .iter()
        .find(|l| l.contains("/healthz"))
        .expect("the request was logged");
    let entry: Value = serde_json::from_str(request_line).expect("log lines are JSON");
    assert_eq!(entry["status"], 200, "{entry}");
    assert!(
        entry["request_id"].is_string() || entry["span"]["request_id"].is_string(),
        "{entry}"
    );
}

#[tokio::test]
async fn migrate_applies_migrations_and_exits() {
    let dir = tempfile::tempdir().unwrap();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let database = TestDatabase::create(backend, dir.path()).await;
        let mut cmd = command(dir.path());
        cmd.arg("migrate")
            .env("KONGJIAN_DATABASE_URL", &database.url);
        let (status, stdout, stderr) = run_to_end(cmd);
        assert!(status.success(), "{backend:?}: {stderr}");
        assert!(
            stdout.contains("Database is up to date"),
            "{backend:?}: {stdout}"
        );
        // A second run finds nothing to do and says the same.
        let mut again = command(dir.path());
        again
            .arg("migrate")
            .env("KONGJIAN_DATABASE_URL", &database.url);
        let (status, second, _) = run_to_end(again);
        assert!(status.success());
        assert_eq!(stdout, second, "{backend:?}: the installation id is stable");
    }
}

#[test]
fn bad_settings_stop_start_up_with_one_sentence_naming_the_setting() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_dir = dir.path().join("a-file");
    std::fs::write(&not_a_dir, b"x").unwrap();
    let cases: [(&str, String, &str); 6] = [
        (
            "KONGJIAN_DATABASE_URL",
            "mysql://localhost/kongjian".into(),
            "KONGJIAN_DATABASE_URL",
        ),
        // Nothing listens on port 1: unreachable.
        (
            "KONGJIAN_DATABASE_URL",
            "postgres://postgres@127.0.0.1:1/kongjian".into(),
            "KONGJIAN_DATABASE_URL",
        ),
        (
            "KONGJIAN_DATA_DIR",
            not_a_dir.join("data").display().to_string(),
            "KONGJIAN_DATA_DIR",
        ),
        ("KONGJIAN_BIND", "localhost-8080".into(), "KONGJIAN_BIND"),
        (
            "KONGJIAN_OBJECT_STORE",
            "ftp://files.example/kongjian".into(),
            "KONGJIAN_OBJECT_STORE",
        ),
        (
            "KONGJIAN_PUBLIC_URL",
            "kongjian.example.edu.cn".into(),
            "KONGJIAN_PUBLIC_URL",
        ),
    ];
    for (name, value, expected) in cases {
        let mut cmd = command(dir.path());
        cmd.env(name, &value).env(
            "KONGJIAN_BIND",
            if name == "KONGJIAN_BIND" {
                value.as_str()
            } else {
                "127.0.0.1:0"
            },
        );
        let (status, _, stderr) = run_to_end(cmd);
        assert!(!status.success(), "{name}={value} must stop start-up");
        let lines: Vec<&str> = stderr.lines().filter(|l| l.contains(expected)).collect();
        assert!(
            lines.iter().any(|l| l.starts_with("启动失败"))
                && lines.iter().any(|l| l.starts_with("Cannot start")),
            "{name}={value}: expected a Chinese and an English sentence naming {expected}, got:\n{stderr}"
        );
    }
}

#[tokio::test]
async fn serves_on_an_s3_compatible_store_and_refuses_a_missing_bucket() {
    let s3 = S3Server::start().await;
    s3.create_bucket("kongjian-test").await;
    let dir = tempfile::tempdir().unwrap();
    let s3_env = |cmd: &mut std::process::Command, store: &str| {
        cmd.env("KONGJIAN_BIND", "127.0.0.1:0")
            .env("KONGJIAN_OBJECT_STORE", store)
            .env("KONGJIAN_S3_ENDPOINT", &s3.endpoint)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1");
    };

    let mut cmd = command(dir.path());
    s3_env(&mut cmd, "s3://kongjian-test/district-a");
    let server = ServerProcess::start(cmd);
    let (status, _) = get_json(&server.url("/healthz")).await;
    assert_eq!(status, 200);
    assert!(
        !dir.path().join("data/objects").exists(),
        "no local objects when S3 is configured"
    );
    assert!(
        s3.keys("kongjian-test").await.is_empty(),
        "the start-up probe cleans up after itself"
    );
    let (status, _) = server.terminate(Duration::from_secs(10));
    assert!(status.success());

    let mut cmd = command(dir.path());
    s3_env(&mut cmd, "s3://no-such-bucket/x");
    let (status, _, stderr) = run_to_end(cmd);
    assert!(!status.success());
    assert!(stderr.contains("KONGJIAN_OBJECT_STORE"), "{stderr}");
}
