//! `kongjian roster import`, `kongjian token`, and the demo district, as an operator runs them,
//! on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use kongjian_e2e::{Backend, ServerProcess, TestDatabase, command, run_to_end};
use serde_json::Value;

fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

fn import(dir: &Path, url: &str, args: &[&str]) -> (bool, String, String) {
    let mut cmd = command(dir);
    cmd.env("KONGJIAN_DATABASE_URL", url)
        .args(["roster", "import"])
        .args(args);
    let (status, stdout, stderr) = run_to_end(cmd);
    (status.success(), stdout, stderr)
}

const ENTITIES: [&str; 8] = [
    "orgs",
    "sessions",
    "courses",
    "classes",
    "users",
    "enrollments",
    "guardian_links",
    "spaces",
];

#[tokio::test]
async fn roster_import_prints_one_json_report_and_a_reimport_changes_nothing() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let dir = tempfile::tempdir().unwrap();
        let db = TestDatabase::create(backend, dir.path()).await;
        let example = repo("assets/cn-roster-example");
        let example = example.to_str().unwrap();

        let (ok, stdout, stderr) = import(dir.path(), &db.url, &[example, "--dry-run", "--json"]);
        assert!(ok, "{backend:?}: {stderr}");
        let dry: Value = serde_json::from_str(&stdout).expect("stdout is exactly one JSON object");
        assert_eq!(dry["outcome"], "dry_run");

        let (ok, stdout, stderr) = import(dir.path(), &db.url, &[example, "--json"]);
        assert!(ok, "{backend:?}: {stderr}");
        let report: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(report["outcome"], "imported");
        assert_eq!(
            report["counts"]["users"]["created"], dry["counts"]["users"]["created"],
            "the dry run wrote nothing"
        );
        for entity in ENTITIES {
            for key in ["created", "updated", "retired", "unchanged"] {
                assert!(
                    report["counts"][entity][key].is_u64(),
                    "{entity}.{key} in {report}"
                );
            }
        }
        let warning = &report["warnings"][0];
        for key in ["file", "line", "field", "message"] {
            assert!(warning.get(key).is_some(), "{key} in {warning}");
        }

        let (ok, stdout, _) = import(dir.path(), &db.url, &[example, "--json"]);
        assert!(ok);
        let again: Value = serde_json::from_str(&stdout).unwrap();
        for entity in ENTITIES {
            let c = &again["counts"][entity];
            assert_eq!(
                (
                    c["created"].as_u64(),
                    c["updated"].as_u64(),
                    c["retired"].as_u64()
                ),
                (Some(0), Some(0), Some(0)),
                "{backend:?} {entity}"
            );
        }

        let (ok, stdout, _) = import(dir.path(), &db.url, &[example]);
        assert!(ok);
        assert!(
            stdout.contains("结果 / outcome") && stdout.contains("users"),
            "a summary table: {stdout}"
        );
    }
}

#[tokio::test]
async fn a_defective_roster_exits_non_zero_with_every_defect_located() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let dir = tempfile::tempdir().unwrap();
        let db = TestDatabase::create(backend, dir.path()).await;
        let broken = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/roster-samples/moodle-enrol_oneroster/v1p2_full_dataset");
        let (ok, stdout, _) = import(dir.path(), &db.url, &[broken.to_str().unwrap(), "--json"]);
        assert!(!ok, "{backend:?}: a rejected import exits non-zero");
        let report: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(report["outcome"], "rejected");
        let errors = report["errors"].as_array().unwrap();
        assert!(
            errors
                .iter()
                .any(|e| e["file"] == "roles.csv" && e["line"].is_u64()),
            "{errors:?}"
        );

        let (ok, _, _) = import(dir.path(), &db.url, &["/no/such/roster.zip"]);
        assert!(!ok);
    }
}

#[tokio::test]
async fn a_token_is_printed_alone_works_on_the_api_and_can_be_revoked() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let dir = tempfile::tempdir().unwrap();
        let db = TestDatabase::create(backend, dir.path()).await;
        let (ok, _, stderr) = import(
            dir.path(),
            &db.url,
            &[repo("assets/cn-roster-example").to_str().unwrap()],
        );
        assert!(ok, "{stderr}");

        let mut create = command(dir.path());
        create.env("KONGJIAN_DATABASE_URL", &db.url).args([
            "token",
            "create",
            "--user",
            "T001",
            "--name",
            "platform",
            "--expires-days",
            "30",
        ]);
        let (status, stdout, stderr) = run_to_end(create);
        assert!(status.success(), "{stderr}");
        let token = stdout.trim_end();
        assert!(
            token.starts_with("kj_") && token.len() == 67 && !token.contains('\n'),
            "only the token on stdout: {stdout:?}"
        );
        assert!(stderr.contains("only once"), "{stderr}");

        let mut serve = command(dir.path());
        serve
            .env("KONGJIAN_DATABASE_URL", &db.url)
            .env("KONGJIAN_BIND", "127.0.0.1:0");
        let server = ServerProcess::start(serve);
        let me = reqwest::Client::new()
            .get(server.url("/api/v1/me"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(me.status(), 200);
        let me: Value = me.json().await.unwrap();
        assert_eq!(me["sourced_id"], "T001");
        assert_eq!(me["name"], "王晓红");

        let mut revoke = command(dir.path());
        revoke
            .env("KONGJIAN_DATABASE_URL", &db.url)
            .args(["token", "revoke", token]);
        assert!(run_to_end(revoke).0.success());
        // The running server notices within about a second (it polls the cache epoch).
        let mut refused = false;
        for _ in 0..30 {
            let after = reqwest::Client::new()
                .get(server.url("/api/v1/me"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            if after.status() == 401 {
                refused = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(refused, "the revoked token still works after 3 s");
        server.terminate(Duration::from_secs(10));

        let mut unknown = command(dir.path());
        unknown
            .env("KONGJIAN_DATABASE_URL", &db.url)
            .args(["token", "create", "--user", "nobody"]);
        let (status, stdout, stderr) = run_to_end(unknown);
        assert!(
            !status.success() && stdout.is_empty() && stderr.contains("nobody"),
            "{stderr}"
        );
    }
}

#[tokio::test]
async fn an_empty_database_gets_the_demo_district_unless_turned_off() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let dir = tempfile::tempdir().unwrap();
        let db = TestDatabase::create(backend, dir.path()).await;
        let mut serve = command(dir.path());
        serve
            .env("KONGJIAN_DATABASE_URL", &db.url)
            .env("KONGJIAN_BIND", "127.0.0.1:0");
        let server = ServerProcess::start(serve);
        server.terminate(Duration::from_secs(10));

        let mut create = command(dir.path());
        create.env("KONGJIAN_DATABASE_URL", &db.url).args([
            "token",
            "create",
            "--user",
            "qh-user-a0004",
        ]);
        let (status, stdout, stderr) = run_to_end(create);
        assert!(
            status.success(),
            "{backend:?}: the demo's district administrator exists: {stderr}"
        );
        let token = stdout.trim().to_owned();

        let mut serve = command(dir.path());
        serve
            .env("KONGJIAN_DATABASE_URL", &db.url)
            .env("KONGJIAN_BIND", "127.0.0.1:0");
        let server = ServerProcess::start(serve);
        let parent = reqwest::Client::new()
            .get(server.url("/api/v1/people/qh-user-p0014"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(parent.status(), 200);
        let parent: Value = parent.json().await.unwrap();
        assert_eq!(
            parent["children"].as_array().unwrap().len(),
            2,
            "one parent, children in two schools: {parent}"
        );
        server.terminate(Duration::from_secs(10));

        let off = tempfile::tempdir().unwrap();
        let off_db = TestDatabase::create(backend, off.path()).await;
        let mut serve = command(off.path());
        serve
            .env("KONGJIAN_DATABASE_URL", &off_db.url)
            .env("KONGJIAN_BIND", "127.0.0.1:0")
            .env("KONGJIAN_DEMO", "off");
        ServerProcess::start(serve).terminate(Duration::from_secs(10));
        let mut create = command(off.path());
        create.env("KONGJIAN_DATABASE_URL", &off_db.url).args([
            "token",
            "create",
            "--user",
            "qh-user-a0004",
        ]);
        assert!(
            !run_to_end(create).0.success(),
            "{backend:?}: KONGJIAN_DEMO=off starts empty"
        );
    }
}

#[tokio::test]
async fn codes_are_issued_for_a_class_or_one_person_as_json() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let dir = tempfile::tempdir().unwrap();
        let db = TestDatabase::create(backend, dir.path()).await;
        let (ok, _, stderr) = import(
            dir.path(),
            &db.url,
            &[repo("assets/cn-roster-example").to_str().unwrap()],
        );
        assert!(ok, "{stderr}");
        let codes = |args: &[&str]| {
            let mut cmd = command(dir.path());
            cmd.env("KONGJIAN_DATABASE_URL", &db.url)
                .args(["codes", "issue"])
                .args(args);
            run_to_end(cmd)
        };

        let (status, stdout, stderr) = codes(&["--class", "C0302", "--json"]);
        assert!(status.success(), "{stderr}");
        let issued: Vec<Value> = serde_json::from_str(&stdout).expect("a JSON array alone");
        assert!(!issued.is_empty());
        for slip in &issued {
            let keys: Vec<&str> = slip
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(keys, ["code", "name", "role", "sourced_id"], "{slip}");
            let code = slip["code"].as_str().unwrap();
            assert!(
                code.len() == 9 && !code.contains(['0', 'O', '1', 'I']),
                "{code}"
            );
        }
        let roles: Vec<&str> = issued.iter().map(|s| s["role"].as_str().unwrap()).collect();
        assert!(
            roles.contains(&"student") && roles.iter().any(|r| *r != "student"),
            "{roles:?}"
        );

        let (status, stdout, stderr) = codes(&["--user", "T001", "--json"]);
        assert!(status.success(), "{stderr}");
        let teacher: Vec<Value> = serde_json::from_str(&stdout).unwrap();
        assert_eq!(teacher.len(), 1);
        assert_eq!(teacher[0]["sourced_id"], "T001");
        assert_eq!(teacher[0]["role"], "teacher");

        let (status, _, stderr) = codes(&["--class", "NOPE", "--json"]);
        assert!(!status.success());
        assert!(
            stderr.contains("NOPE") && stderr.contains("班级"),
            "{stderr}"
        );
        let (status, _, stderr) = codes(&["--json"]);
        assert!(!status.success(), "--class or --user is required: {stderr}");
    }
}
