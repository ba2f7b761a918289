//! The roster import admin page in a browser: upload through the multipart form, the report
//! (counts, defects, a refused mass retirement), the past imports, and who may see it — on
//! SQLite and PostgreSQL.

use chrono::Utc;
use kongjian::roster::entity::{person, roster_import};
use kongjian::roster::service::{self, ImportOptions, Origin, Outcome};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::fixtures::Package;
use crate::on_both_databases;
use crate::support::TestApp;

const PASSWORD: &str = "春眠不觉晓2026";

fn options() -> ImportOptions {
    ImportOptions {
        dry_run: false,
        allow_mass_retire: false,
        origin: Origin::Cli,
        actor: None,
        client: Default::default(),
        recheck: false,
    }
}

/// Import `students` (each with a parent), a teacher and the administrators from the command line.
async fn district(app: &TestApp, students: &[u32]) {
    crate::fixtures::import(&app.state.db, &Package::new(students).with_admins(), false).await;
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A browser signed in as `sourced_id` (activation code, then a password), and its CSRF token.
async fn signed_in(app: &TestApp, sourced_id: &str) -> (reqwest::Client, String) {
    let person = kongjian::people::store::find_by_sourced_id(&app.state.db, sourced_id)
        .await
        .unwrap()
        .unwrap();
    let (code, _) = kongjian::auth::codes::issue(&app.state.db, &person, None, 30, Utc::now())
        .await
        .unwrap();
    let client = browser();
    let response = client
        .post(app.url("/api/v1/auth/activate"))
        .json(&json!({"code": code, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    (client, body["csrf_token"].as_str().unwrap().to_owned())
}

async fn page(app: &TestApp, client: &reqwest::Client, path: &str) -> (StatusCode, String) {
    let response = client.get(app.url(path)).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

/// Send the page's form: the zip and the ticked boxes, the token in the query when given.
async fn upload(
    app: &TestApp,
    client: &reqwest::Client,
    csrf: Option<&str>,
    zip: Vec<u8>,
    ticked: &[&'static str],
) -> (StatusCode, String) {
    let mut form = Form::new().part(
        "file",
        Part::bytes(zip)
            .file_name("名单 2026.zip")
            .mime_str("application/zip")
            .unwrap(),
    );
    for name in ticked {
        form = form.text(*name, "on");
    }
    let path = match csrf {
        Some(token) => format!("/roster/imports?csrf={token}"),
        None => "/roster/imports".to_owned(),
    };
    let response = client
        .post(app.url(&path))
        .multipart(form)
        .send()
        .await
        .unwrap();
    (response.status(), response.text().await.unwrap())
}

/// The number in one cell of the report's counts table, e.g. `count(&html, "users", "created")`.
fn count(html: &str, kind: &str, column: &str) -> u64 {
    let row = html
        .split(&format!("data-kind=\"{kind}\""))
        .nth(1)
        .unwrap_or_else(|| panic!("no {kind} row in {html}"));
    let cell = row
        .split(&format!("data-count=\"{column}\">"))
        .nth(1)
        .unwrap();
    cell.split('<').next().unwrap().parse().unwrap()
}

/// Text as askama writes it into HTML.
fn escaped(text: &str) -> String {
    text.replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
}

async fn people(app: &TestApp) -> u64 {
    person::Entity::find().count(&app.state.db).await.unwrap()
}

async fn logged(app: &TestApp) -> u64 {
    roster_import::Entity::find()
        .count(&app.state.db)
        .await
        .unwrap()
}

on_both_databases! {
    async fn an_importer_uploads_a_roster_through_the_form_and_sees_the_counts(app) {
        district(&app, &[1, 2, 3]).await;
        let (da, csrf) = signed_in(&app, "da").await;

        let (status, html) = page(&app, &da, "/roster/imports").await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains(&format!("action=\"/roster/imports?csrf={csrf}\"")), "{html}");
        assert!(html.contains("enctype=\"multipart/form-data\""));
        assert!(html.contains("name=\"dry_run\"") && html.contains("name=\"allow_mass_retire\""));
        assert!(html.contains("允许大批量停用（新学年）"));

        let bigger = Package::new(&[1, 2, 3, 4]).with_admins();
        let (status, html) = upload(&app, &da, Some(&csrf), bigger.zip(), &[]).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(html.contains("data-outcome=\"imported\""), "{html}");
        assert_eq!(count(&html, "users", "created"), 2, "st4 and p4");
        assert_eq!(count(&html, "users", "unchanged"), 12);
        assert!(html.contains("名单 2026.zip"));
        let st4 = person::Entity::find().filter(person::Column::SourcedId.eq("st4")).one(&app.state.db).await.unwrap();
        assert!(st4.is_some());

        let (status, html) = upload(&app, &da, Some(&csrf), bigger.zip(), &[]).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("data-outcome=\"unchanged\""), "{html}");

        let (before, log_before) = (people(&app).await, logged(&app).await);
        let five = Package::new(&[1, 2, 3, 4, 5]).with_admins();
        let (status, html) = upload(&app, &da, Some(&csrf), five.zip(), &["dry_run"]).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("data-outcome=\"dry_run\""), "{html}");
        assert_eq!(count(&html, "users", "created"), 2);
        assert_eq!(people(&app).await, before, "a dry run writes nothing");
        assert_eq!(logged(&app).await, log_before, "a dry run is not logged");
    }
}

on_both_databases! {
    async fn a_defective_package_shows_each_defect_with_file_and_line_and_changes_nothing(app) {
        district(&app, &[1, 2]).await;
        let (da, csrf) = signed_in(&app, "da").await;
        let bad = Package::new(&[1, 2]).with_admins();
        bad.append("users.csv", "st9,,,maybe,st9,,九,李,,,,,,,03,,,,,,s1,\n");
        let bad_line = std::fs::read_to_string(bad.path().join("users.csv")).unwrap().lines().count();
        bad.append("enrollments.csv", "e-x,,,no-such-class,s1,st1,student,,,\n");
        let before = people(&app).await;

        let (status, html) = upload(&app, &da, Some(&csrf), bad.zip(), &[]).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a report, not an error page");
        assert!(html.contains("data-outcome=\"rejected\""), "{html}");
        let defect = html
            .split("<tr class=\"diag-error\">")
            .find(|row| row.contains("<code>users.csv</code>") && row.contains("<code>enabledUser</code>"))
            .unwrap_or_else(|| panic!("no users.csv enabledUser defect in {html}"));
        assert!(defect.contains(&format!("data-label=\"行\">{bad_line}</td>")), "{defect}");
        assert_eq!(people(&app).await, before, "nothing changed");

        // The rejected import is in the log; its page shows the stored defects, in English too.
        let entry = roster_import::Entity::find().filter(roster_import::Column::Outcome.eq("rejected")).one(&app.state.db).await.unwrap().unwrap();
        assert_eq!(entry.origin, "page");
        assert!(html.contains(&format!("href=\"/roster/imports/{}\"", entry.id)));
        let response = da
            .get(app.url(&format!("/roster/imports/{}", entry.id)))
            .header("accept-language", "en")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let html = response.text().await.unwrap();
        assert!(html.contains("Import record") && html.contains("<code>enabledUser</code>"), "{html}");
        let report = &serde_json::from_str::<Value>(&entry.report).unwrap();
        let english = report["errors"][0]["message_en"].as_str().unwrap();
        assert!(html.contains(&escaped(english)), "{english} in {html}");
    }
}

on_both_databases! {
    async fn a_refused_mass_retirement_offers_the_box_and_goes_through_when_it_is_ticked(app) {
        let all: Vec<u32> = (1..=10).collect();
        district(&app, &all).await;
        let (da, csrf) = signed_in(&app, "da").await;
        let half = Package::new(&all[..5]).with_admins();
        let before = people(&app).await;

        let (status, html) = upload(&app, &da, Some(&csrf), half.zip(), &[]).await;
        assert_eq!(status, StatusCode::CONFLICT, "{html}");
        assert!(html.contains("data-outcome=\"refused\""), "{html}");
        let school = html.split("data-school=\"s1\"").nth(1).expect("the school is named");
        let school = school.split("</tr>").next().unwrap();
        assert!(school.contains("第一小学"), "{school}");
        // 10 of s1's 23 active people (a teacher, 10 pupils, 10 parents, its head, 𪚥).
        assert!(school.contains(">23<") && school.contains(">10<") && school.contains("43.5%"), "{school}");
        let confirm = html.split("id=\"confirm\"").nth(1).expect("a form to confirm");
        assert!(confirm.contains("name=\"allow_mass_retire\" type=\"checkbox\" value=\"on\" aria-describedby=\"mass-retire-hint\" required"), "{confirm}");
        assert_eq!(people(&app).await, before);

        let (status, html) = upload(&app, &da, Some(&csrf), half.zip(), &["allow_mass_retire"]).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        assert!(html.contains("data-outcome=\"imported\""), "{html}");
        assert_eq!(count(&html, "users", "retired"), 10);
        let st10 = person::Entity::find().filter(person::Column::SourcedId.eq("st10")).one(&app.state.db).await.unwrap().unwrap();
        assert_eq!(st10.status, "retired");
    }
}

on_both_databases! {
    async fn past_imports_are_listed_newest_first_a_page_at_a_time_each_with_its_report(app) {
        district(&app, &[1, 2]).await;
        let (da, csrf) = signed_in(&app, "da").await;
        let (status, html) = upload(&app, &da, Some(&csrf), Package::new(&[1, 2, 3]).with_admins().zip(), &[]).await;
        assert_eq!(status, StatusCode::OK, "{html}");
        // Twenty rejected pushes after it, more than one page.
        let api = ImportOptions { origin: Origin::Api, ..options() };
        for _ in 0..20 {
            let report = service::import_upload(&app.state.db, b"not a zip", "upload.zip", &api, Utc::now()).await.unwrap();
            assert_eq!(report.outcome, Outcome::Rejected);
        }

        let (status, html) = page(&app, &da, "/roster/imports").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(html.matches("<tr data-outcome=\"rejected\">").count(), 20, "{html}");
        assert!(!html.contains("<tr data-outcome=\"imported\">"), "newest first");
        let older = html.split("href=\"/roster/imports?cursor=").nth(1).expect("an older page");
        let cursor = older.split('#').next().unwrap();

        let (status, html) = page(&app, &da, &format!("/roster/imports?cursor={cursor}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(html.matches("<tr data-outcome=\"imported\">").count(), 2, "the page's and the first: {html}");
        assert!(html.contains("赵主任 · 网页"), "who: {html}");
        assert!(html.contains("<td>命令行</td>"), "{html}");
        assert!(html.contains("名单 2026.zip"));
        assert!(!html.contains("?cursor="), "the last page");

        let imported = roster_import::Entity::find().filter(roster_import::Column::Origin.eq("page")).one(&app.state.db).await.unwrap().unwrap();
        assert_eq!(imported.actor_id.as_deref(), Some(kongjian::people::store::find_by_sourced_id(&app.state.db, "da").await.unwrap().unwrap().id.as_str()));
        let (status, html) = page(&app, &da, &format!("/roster/imports/{}", imported.id)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("data-outcome=\"imported\""), "{html}");
        assert_eq!(count(&html, "users", "created"), 2);

        let rejected = roster_import::Entity::find().filter(roster_import::Column::Outcome.eq("rejected")).one(&app.state.db).await.unwrap().unwrap();
        let (_, html) = page(&app, &da, &format!("/roster/imports/{}", rejected.id)).await;
        assert!(html.contains("<code>upload.zip</code>") && html.contains("zip"), "{html}");

        let (status, _) = page(&app, &da, "/roster/imports/no-such-import").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

on_both_databases! {
    async fn only_district_and_system_administrators_may_use_the_page(app) {
        district(&app, &[1, 2]).await;
        let entry = service::import_upload(&app.state.db, b"not a zip", "upload.zip", &options(), Utc::now()).await.unwrap();
        let detail = format!("/roster/imports/{}", entry.id.unwrap());
        let package = Package::new(&[1, 2, 3]).with_admins();
        for who in ["t1", "p1", "sa1"] {
            let (client, csrf) = signed_in(&app, who).await;
            for path in ["/roster/imports", detail.as_str()] {
                let (status, html) = page(&app, &client, path).await;
                assert_eq!(status, StatusCode::FORBIDDEN, "{who} {path}");
                assert!(html.contains("data-code=\"forbidden\""), "an error page: {html}");
            }
            let (status, _) = upload(&app, &client, Some(&csrf), package.zip(), &[]).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{who} uploads");
        }
        let st3 = person::Entity::find().filter(person::Column::SourcedId.eq("st3")).one(&app.state.db).await.unwrap();
        assert!(st3.is_none(), "nobody imported");
    }
}

on_both_databases! {
    async fn a_stranger_is_sent_to_sign_in_first(app) {
        district(&app, &[1]).await;
        let log_before = logged(&app).await;
        let stranger = browser();
        for (path, next) in [("/roster/imports", "/roster/imports"), ("/roster/imports/abc", "/roster/imports/abc")] {
            let response = stranger.get(app.url(path)).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
            assert_eq!(response.headers()["location"], format!("/login?next={next}").as_str());
        }
        let (status, _) = upload(&app, &browser(), None, Package::new(&[1, 2]).with_admins().zip(), &[]).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert_eq!(logged(&app).await, log_before);
    }
}

on_both_databases! {
    async fn a_form_post_without_the_csrf_token_is_refused(app) {
        district(&app, &[1, 2]).await;
        let (da, csrf) = signed_in(&app, "da").await;
        let package = Package::new(&[1, 2, 3]).with_admins();
        let log_before = logged(&app).await;
        let (status, html) = upload(&app, &da, None, package.zip(), &[]).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert!(html.contains("data-code=\"csrf_failed\""), "{html}");
        let (status, _) = upload(&app, &da, Some("0".repeat(48).as_str()), package.zip(), &[]).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "a wrong token");
        assert_eq!(logged(&app).await, log_before, "nothing imported");
        assert_ne!(csrf, "0".repeat(48));
    }
}
