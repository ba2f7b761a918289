//! API tokens, `GET /api/v1/me`, `GET /api/v1/people/{sourcedId}` and the roster upload API:
//! who may see whom, on SQLite and PostgreSQL.

use kongjian::auth::tokens;
use kongjian::roster::service::{ImportOptions, Origin, Quiet, import_path};
use reqwest::StatusCode;
use serde_json::Value;

use crate::fixtures::Package;
use crate::on_both_databases;
use crate::support::{TestApp, soon};

/// Import the standard package (students 1–3 with parents, a teacher, admins, a second school).
async fn district(app: &TestApp) -> Package {
    let package = Package::new(&[1, 2, 3]).with_admins();
    crate::fixtures::import(&app.state.db, &package, false).await;
    package
}

async fn token(app: &TestApp, sourced_id: &str) -> String {
    tokens::create(&app.state.db, sourced_id, "test", None, chrono::Utc::now())
        .await
        .unwrap()
        .secret
}

async fn get_as(app: &TestApp, token: &str, path: &str) -> (StatusCode, Value) {
    let response = app
        .client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

on_both_databases! {
    async fn me_answers_a_student_with_their_classes_guardians_and_space(app) {
        district(&app).await;
        let (status, me) = get_as(&app, &token(&app, "st1").await, "/api/v1/me").await;
        assert_eq!(status, StatusCode::OK, "{me}");
        assert_eq!(me["sourced_id"], "st1");
        assert_eq!(me["name"], "李小1", "family name first, no space");
        assert_eq!(me["roles"], serde_json::json!(["student"]));
        assert_eq!(me["status"], "active");
        assert!(me["space_id"].is_string());
        assert_eq!(me["orgs"][0]["sourced_id"], "s1");
        assert_eq!(me["classes"][0]["sourced_id"], "k1");
        assert_eq!(me["classes"][0]["role"], "student");
        assert_eq!(me["guardians"][0]["sourced_id"], "p1");
        assert!(me.get("children").is_none());
    }
}

on_both_databases! {
    async fn me_answers_a_parent_with_their_children_only(app) {
        district(&app).await;
        let (_, me) = get_as(&app, &token(&app, "p2").await, "/api/v1/me").await;
        let children: Vec<&str> = me["children"].as_array().unwrap().iter().map(|c| c["sourced_id"].as_str().unwrap()).collect();
        assert_eq!(children, vec!["st2"]);
    }
}

on_both_databases! {
    async fn people_are_shown_to_themselves_their_families_teachers_and_administrators_only(app) {
        district(&app).await;
        let cases = [
            ("da", "st1", StatusCode::OK),
            ("sa1", "st1", StatusCode::OK),
            ("sa1", "p1", StatusCode::OK),
            ("sa2", "st1", StatusCode::FORBIDDEN),
            ("sa2", "t2", StatusCode::OK),
            ("t1", "st1", StatusCode::OK),
            ("t1", "p1", StatusCode::OK),
            ("t2", "st1", StatusCode::FORBIDDEN),
            ("p1", "st1", StatusCode::OK),
            ("p1", "st2", StatusCode::FORBIDDEN),
            ("p1", "p2", StatusCode::FORBIDDEN),
            ("st1", "st2", StatusCode::FORBIDDEN),
            ("st1", "st1", StatusCode::OK),
            ("da", "nobody", StatusCode::NOT_FOUND),
            ("t1", "nobody", StatusCode::FORBIDDEN),
        ];
        for (viewer, target, expected) in cases {
            let (status, body) = get_as(&app, &token(&app, viewer).await, &format!("/api/v1/people/{target}")).await;
            assert_eq!(status, expected, "{viewer} → {target}: {body}");
            if status == StatusCode::FORBIDDEN {
                assert_eq!(body["error"]["code"], "forbidden");
            }
        }
    }
}

on_both_databases! {
    async fn names_outside_the_basic_multilingual_plane_survive(app) {
        district(&app).await;
        let (_, person) = get_as(&app, &token(&app, "da").await, "/api/v1/people/bmp").await;
        assert_eq!(person["name"], "龙𪚥");
    }
}

on_both_databases! {
    async fn missing_bad_revoked_and_expired_tokens_answer_401(app) {
        district(&app).await;
        let none = app.client.get(app.url("/api/v1/me")).send().await.unwrap();
        assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
        let body: Value = none.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthorized");

        assert_eq!(get_as(&app, "kj_0000", "/api/v1/me").await.0, StatusCode::UNAUTHORIZED);

        let created = tokens::create(&app.state.db, "t1", "test", None, chrono::Utc::now()).await.unwrap();
        assert_eq!(get_as(&app, &created.secret, "/api/v1/me").await.0, StatusCode::OK);
        // Revoked by the CLI, beside the server: refused within a second or so.
        tokens::revoke(&app.state.db, &created.id, chrono::Utc::now()).await.unwrap();
        assert!(soon(|| async { get_as(&app, &created.secret, "/api/v1/me").await.0 == StatusCode::UNAUTHORIZED }).await);

        let expired = tokens::create(&app.state.db, "t1", "test", Some(1), chrono::Utc::now() - chrono::Duration::days(2)).await.unwrap();
        assert_eq!(get_as(&app, &expired.secret, "/api/v1/me").await.0, StatusCode::UNAUTHORIZED);

        assert!(tokens::create(&app.state.db, "nobody", "test", None, chrono::Utc::now()).await.is_err());
    }
}

on_both_databases! {
    async fn a_retired_persons_token_stops_working(app) {
        let package = district(&app).await;
        let secret = token(&app, "st3").await;
        assert_eq!(get_as(&app, &secret, "/api/v1/me").await.0, StatusCode::OK);
        // st3 and p3 leave the school.
        let smaller = Package::new(&[1, 2]).with_admins();
        let options = ImportOptions { dry_run: false, allow_mass_retire: true, origin: Origin::Cli, actor: None, client: Default::default(), recheck: false };
        import_path(&app.state.db, smaller.path(), &options, &Quiet).await.unwrap();
        assert!(soon(|| async { get_as(&app, &secret, "/api/v1/me").await.0 == StatusCode::UNAUTHORIZED }).await);
        drop(package);
    }
}

on_both_databases! {
    async fn a_district_administrator_pushes_a_roster_zip_and_reads_the_log(app) {
        district(&app).await;
        let da = token(&app, "da").await;
        let bigger = Package::new(&[1, 2, 3, 4]).with_admins();
        let response = app
            .client
            .post(app.url("/api/v1/roster/imports"))
            .bearer_auth(&da)
            .header("content-type", "application/zip")
            .body(bigger.zip())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let report: Value = response.json().await.unwrap();
        assert_eq!(report["outcome"], "imported");
        assert_eq!(report["counts"]["users"]["created"], 2);

        let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(bigger.zip()).file_name("roster.zip"));
        let again = app.client.post(app.url("/api/v1/roster/imports?dry_run=true")).bearer_auth(&da).multipart(form).send().await.unwrap();
        assert_eq!(again.status(), StatusCode::OK);
        let report: Value = again.json().await.unwrap();
        assert_eq!(report["outcome"], "dry_run");
        assert_eq!(report["counts"]["users"]["unchanged"], 14);

        let bad = app.client.post(app.url("/api/v1/roster/imports")).bearer_auth(&da).body("not a zip").send().await.unwrap();
        assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let report: Value = bad.json().await.unwrap();
        assert_eq!(report["outcome"], "rejected");
        assert!(report["errors"][0]["message"].as_str().unwrap().contains("zip"));

        let teacher = app.client.post(app.url("/api/v1/roster/imports")).bearer_auth(token(&app, "t1").await).body(bigger.zip()).send().await.unwrap();
        assert_eq!(teacher.status(), StatusCode::FORBIDDEN);

        let (status, log) = get_as(&app, &da, "/api/v1/roster/imports?limit=1").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(log["imports"].as_array().unwrap().len(), 1);
        assert_eq!(log["imports"][0]["outcome"], "rejected", "newest first");
        let cursor = log["next_cursor"].as_str().unwrap();
        let (_, next) = get_as(&app, &da, &format!("/api/v1/roster/imports?limit=5&cursor={cursor}")).await;
        assert_eq!(next["imports"][0]["outcome"], "imported");
    }
}
