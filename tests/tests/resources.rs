//! Resources through the built binary: files in a real S3-compatible store (moto), on SQLite
//! and PostgreSQL, found by search after review; and `kongjian reindex`, which refuses while the
//! server holds the index and rebuilds it after.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;
use std::time::{Duration, Instant};

use kongjian_e2e::{Backend, S3Server, ServerProcess, TestDatabase, command, run_to_end};
use serde_json::{Value, json};

/// The demo county: a teacher of 青禾县实验小学 and its principal.
const TEACHER: &str = "qh-user-t0001";
const PRINCIPAL: &str = "qh-user-a0001";

fn token(configure: &dyn Fn(&mut Command), dir: &std::path::Path, user: &str) -> String {
    let mut cmd = command(dir);
    configure(&mut cmd);
    cmd.args(["token", "create", "--user", user]);
    let (status, stdout, stderr) = run_to_end(cmd);
    assert!(status.success(), "token create: {stderr}");
    stdout.trim().to_owned()
}

async fn send(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn wait_for_hit(client: &reqwest::Client, url: &str, token: &str, id: &str) {
    let started = Instant::now();
    loop {
        let (status, found) = send(client.get(url).bearer_auth(token)).await;
        assert_eq!(status, 200, "{found}");
        if found["hits"]
            .as_array()
            .is_some_and(|h| h.iter().any(|h| h["id"] == id))
        {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "not found within 5 s: {found}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn a_file_goes_to_s3_and_comes_back(backend: Backend) {
    let s3 = S3Server::start().await;
    s3.create_bucket("kongjian-res").await;
    let dir = tempfile::tempdir().unwrap();
    let database = TestDatabase::create(backend, dir.path()).await;
    let endpoint = s3.endpoint.clone();
    let url = database.url.clone();
    let configure = move |cmd: &mut Command| {
        cmd.env("KONGJIAN_DATABASE_URL", &url)
            .env("KONGJIAN_OBJECT_STORE", "s3://kongjian-res/county")
            .env("KONGJIAN_S3_ENDPOINT", &endpoint)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1");
    };
    let mut cmd = command(dir.path());
    configure(&mut cmd);
    cmd.env("KONGJIAN_BIND", "127.0.0.1:0");
    let server = ServerProcess::start(cmd);
    let teacher = token(&configure, dir.path(), TEACHER);
    let principal = token(&configure, dir.path(), PRINCIPAL);
    let client = reqwest::Client::new();

    // The demo county comes with reviewed resources; the district-wide ones reach every school.
    // (The first start indexes them in the background: wait for it.)
    let started = Instant::now();
    loop {
        let (status, demo) = send(
            client
                .get(server.url("/api/v1/search?q=勾股定理"))
                .bearer_auth(&principal),
        )
        .await;
        assert_eq!(status, 200);
        if demo["hits"][0]["title"] == "勾股定理的证明与应用" {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "{demo}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let text = "二次函数的图像是一条抛物线。".repeat(50);
    let form = reqwest::multipart::Form::new()
        .text("title", "抛物线讲义")
        .text("subject", "数学")
        .text("grade", "09")
        .text("type", "学案")
        .text("scope", "school")
        .part(
            "file",
            reqwest::multipart::Part::bytes(text.clone().into_bytes()).file_name("讲义.txt"),
        );
    let (status, created) = send(
        client
            .post(server.url("/api/v1/resources"))
            .bearer_auth(&teacher)
            .multipart(form),
    )
    .await;
    assert_eq!(status, 201, "{backend:?}: {created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let keys = s3.keys("kongjian-res").await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(keys[0].starts_with("county/resources/"), "{keys:?}");
    assert!(!dir.path().join("data/objects").exists());

    let (status, _) = send(
        client
            .post(server.url(&format!("/api/v1/resources/{id}/submit")))
            .bearer_auth(&teacher)
            .json(&json!({"pledge": true})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, reviewed) = send(
        client
            .post(server.url(&format!("/api/v1/resources/{id}/review")))
            .bearer_auth(&principal)
            .json(&json!({"decision": "approve", "political": "pass", "scientific": "pass", "safety": "pass"})),
    )
    .await;
    assert_eq!(status, 200, "{reviewed}");
    wait_for_hit(
        &client,
        &server.url("/api/v1/search?q=抛物线"),
        &principal,
        &id,
    )
    .await;

    let response = client
        .get(server.url(&format!("/api/v1/resources/{id}/file")))
        .bearer_auth(&principal)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "text/plain");
    assert_eq!(response.bytes().await.unwrap().to_vec(), text.into_bytes());

    // One writer per index: reindexing while the server holds it is refused, clearly.
    let mut busy = command(dir.path());
    configure(&mut busy);
    busy.arg("reindex");
    let (status, _, stderr) = run_to_end(busy);
    assert!(!status.success());
    assert!(
        stderr.contains("kongjian reindex") && stderr.contains("KONGJIAN_DATA_DIR"),
        "{stderr}"
    );

    let (status, _) = server.terminate(Duration::from_secs(10));
    assert!(status.success());
    let mut reindex = command(dir.path());
    configure(&mut reindex);
    reindex.arg("reindex");
    let (status, stdout, stderr) = run_to_end(reindex);
    assert!(status.success(), "{stderr}");
    // The demo county's twelve resources and the one uploaded here.
    assert!(stdout.contains("Index rebuilt: 13 resources"), "{stdout}");

    // The rebuilt index serves the next start.
    let mut cmd = command(dir.path());
    configure(&mut cmd);
    cmd.env("KONGJIAN_BIND", "127.0.0.1:0");
    let server = ServerProcess::start(cmd);
    wait_for_hit(
        &client,
        &server.url("/api/v1/search?q=函数"),
        &principal,
        &id,
    )
    .await;
    let (status, _) = server.terminate(Duration::from_secs(10));
    assert!(status.success());
}

#[tokio::test]
async fn a_resource_file_goes_to_s3_and_is_found_after_review_on_sqlite() {
    a_file_goes_to_s3_and_comes_back(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_resource_file_goes_to_s3_and_is_found_after_review_on_postgres() {
    a_file_goes_to_s3_and_comes_back(Backend::Postgres).await;
}
