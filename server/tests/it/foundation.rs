//! The foundation: health, errors in both languages, pages, static files, layers, migrations.

use kongjian::db;
use kongjian_migrations::{Migrator, MigratorTrait};
use reqwest::StatusCode;
use serde_json::Value;

use crate::on_both_databases;
use crate::support::Backend;

on_both_databases! {
    async fn healthz_answers_ok_once_the_database_answers(app) {
        let response = app.get("/healthz").await;
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], "ok");
        assert_eq!(body["database"], "ok");
        let expected = if app.database.url.starts_with("sqlite") { "sqlite" } else { "postgres" };
        assert_eq!(body["backend"], expected);
        assert_eq!(body["installation"], &*app.state.installation_id);
    }
}

on_both_databases! {
    async fn healthz_answers_503_when_the_database_is_gone(app) {
        app.state.db.close_by_ref().await.unwrap();
        let response = app.get("/healthz").await;
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], "unavailable");
        assert_ne!(body["database"], "ok");
    }
}

on_both_databases! {
    async fn migrations_run_once_and_the_installation_id_is_stable(app) {
        let again = db::migrate(&app.state.db).await.unwrap();
        assert_eq!(again, &*app.state.installation_id);
        let applied = db::applied_migrations(&app.state.db).await.unwrap();
        assert_eq!(applied, Migrator::migrations().len());
        assert!(Migrator::get_pending_migrations(&app.state.db).await.unwrap().is_empty());
    }
}

on_both_databases! {
    async fn the_landing_page_speaks_chinese_first_and_english_on_request(app) {
        let zh = app.get("/").await;
        assert_eq!(zh.status(), StatusCode::OK);
        assert_eq!(zh.headers()["content-language"], "zh-CN");
        let html = zh.text().await.unwrap();
        assert!(html.contains(r#"<html lang="zh-CN">"#));
        assert!(html.contains("一人一空间"));
        assert!(html.contains(r#"name="viewport""#), "the layout must work on a phone");

        let en = app.get_in("/", "en-GB,en;q=0.9").await;
        assert_eq!(en.headers()["content-language"], "en");
        let html = en.text().await.unwrap();
        assert!(html.contains(r#"<html lang="en">"#));
        assert!(html.contains("One person, one space"));
    }
}

on_both_databases! {
    async fn a_chosen_language_is_remembered_and_beats_the_browser(app) {
        let switch = app.get("/language/en?next=%2F%3Fa%3D1").await;
        assert_eq!(switch.status(), StatusCode::SEE_OTHER);
        assert_eq!(switch.headers()["location"], "/?a=1");
        let cookie = switch.headers()["set-cookie"].to_str().unwrap();
        assert!(cookie.starts_with("kj_lang=en;") && cookie.contains("SameSite=Lax"));

        let page = app.get_in("/", "zh-CN").await.text().await.unwrap();
        assert!(page.contains(r#"<html lang="en">"#), "the cookie wins over Accept-Language");

        let away = app.get("/language/zh?next=https%3A%2F%2Fevil.example").await;
        assert_eq!(away.headers()["location"], "/", "never an open redirect");
    }
}

on_both_databases! {
    async fn unknown_api_routes_answer_json_not_found_in_the_readers_language(app) {
        let zh = app.get("/api/v1/no-such-thing").await;
        assert_eq!(zh.status(), StatusCode::NOT_FOUND);
        assert!(zh.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
        let body: Value = zh.json().await.unwrap();
        assert_eq!(body["error"]["code"], "not_found");
        assert_eq!(body["error"]["message"], "找不到您要访问的内容。");

        let en: Value = app.get_in("/api/v1/no-such-thing", "en").await.json().await.unwrap();
        assert_eq!(en["error"]["code"], "not_found");
        assert_eq!(en["error"]["message"], "The page or item you asked for does not exist.");
    }
}

on_both_databases! {
    async fn unknown_pages_answer_an_html_error_page(app) {
        let response = app.get("/no/such/page").await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let html = response.text().await.unwrap();
        assert!(html.contains(r#"data-code="not_found""#));
        assert!(html.contains("找不到您要访问的内容"));
        assert!(html.contains("返回首页"));
    }
}

on_both_databases! {
    async fn a_wrong_method_keeps_its_allow_header_and_gets_a_readable_error(app) {
        let response = app.client.delete(app.url("/healthz")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert!(response.headers()["allow"].to_str().unwrap().contains("GET"));
        let html = response.text().await.unwrap();
        assert!(html.contains(r#"data-code="method_not_allowed""#));
    }
}

on_both_databases! {
    async fn an_oversized_body_is_refused_with_413_before_it_is_read(app) {
        let body = vec![b'x'; app.state.config.body_limit + 1];
        let response = app
            .client
            .post(app.url("/api/v1/anything"))
            .header("accept-language", "en")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "payload_too_large");
        assert_eq!(body["error"]["message"], "What you sent is too large.");
    }
}

on_both_databases! {
    async fn every_response_carries_security_headers_and_a_request_id(app) {
        for path in ["/", "/healthz", "/api/v1/missing", "/missing"] {
            let response = app.get(path).await;
            let headers = response.headers();
            let csp = headers["content-security-policy"].to_str().unwrap();
            assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
            assert!(csp.contains("script-src 'self'"), "{path}");
            assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
            assert_eq!(headers["referrer-policy"], "same-origin", "{path}");
            let id = headers["x-request-id"].to_str().unwrap();
            let (prefix, counter) = id.split_once('-').unwrap();
            assert_eq!(prefix.len(), 12, "{path}: {id}");
            assert!(u64::from_str_radix(counter, 16).is_ok(), "{path}: {id}");
        }
        let echoed = app
            .client
            .get(app.url("/healthz"))
            .header("x-request-id", "from-the-load-balancer")
            .send()
            .await
            .unwrap();
        assert_eq!(echoed.headers()["x-request-id"], "from-the-load-balancer");
    }
}

on_both_databases! {
    async fn static_files_are_cached_for_a_year_and_revalidate_with_etags(app) {
        let html = app.get("/").await.text().await.unwrap();
        let href = html
            .split(r#"rel="stylesheet" href=""#)
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the layout links a stylesheet")
            .to_owned();
        assert!(href.starts_with("/static/app.css?v="), "{href}");

        let css = app.get(&href).await;
        assert_eq!(css.status(), StatusCode::OK);
        assert!(css.headers()["content-type"].to_str().unwrap().starts_with("text/css"));
        assert_eq!(css.headers()["cache-control"], "public, max-age=31536000, immutable");
        let etag = css.headers()["etag"].to_str().unwrap().to_owned();

        let unversioned = app.get("/static/app.css").await;
        assert_eq!(unversioned.headers()["cache-control"], "public, max-age=300");

        let revalidated = app
            .client
            .get(app.url("/static/app.css"))
            .header("if-none-match", &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(revalidated.status(), StatusCode::NOT_MODIFIED);

        assert_eq!(app.get("/static/nope.css").await.status(), StatusCode::NOT_FOUND);
        assert_eq!(app.get("/static/../Cargo.toml").await.status(), StatusCode::NOT_FOUND);
    }
}

on_both_databases! {
    async fn responses_are_compressed_when_the_client_accepts_it(app) {
        let response = app
            .client
            .get(app.url("/static/app.css"))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["content-encoding"], "gzip");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_stops_accepting_and_returns_cleanly() {
    let app = crate::support::TestApp::spawn(Backend::Sqlite).await;
    let address = app.address.clone();
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
    tokio::time::timeout(std::time::Duration::from_secs(10), app.stop())
        .await
        .expect("the server stops within the grace period")
        .expect("the server stops without error");
    let after = reqwest::Client::new()
        .get(format!("{address}/healthz"))
        .send()
        .await;
    assert!(after.is_err(), "no connections are accepted after shutdown");
}
