//! Assignments, hand-ins and feedback through the API: setting work on each scale, hand-ins
//! as JSON and with files (typed by content, limited in size, nothing kept when refused),
//! resubmission and the late rules on a clock the test sets, marking on the scale, and who sees
//! a pupil's work and score — the pupil, their family and the class's staff, nobody else — on
//! SQLite and PostgreSQL.

use chrono::{TimeDelta, TimeZone};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::fixtures::Package;
use crate::messaging::{district, get, post, token};
use crate::on_both_databases;
use crate::support::{Backend, TestApp};
use kongjian::assignments::entity::{assignment, feedback, submission, submission_file};

/// The smallest PNG: its magic bytes are what the upload checks.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, 0, 0, 0,
    1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89,
];

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n";

/// A Windows program.
fn exe() -> Vec<u8> {
    let mut exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00".to_vec();
    exe.extend(std::iter::repeat_n(0u8, 2048));
    exe
}

/// The due time of the assignments here, as set.
pub const DUE: &str = "2026-12-10T18:00:00+08:00";

/// Shanghai wall-clock time on 2026-12-`day`.
pub fn shanghai(day: u32, h: u32, m: u32) -> chrono::DateTime<chrono::Utc> {
    chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(2026, 12, day, h, m, 0)
        .single()
        .unwrap()
        .with_timezone(&chrono::Utc)
}

/// Three days before the due time.
pub fn before_due(app: &TestApp) {
    app.state.clock.set(shanghai(7, 10, 0));
}

pub fn work(title: &str, scale: &str, accept_late: bool) -> Value {
    json!({"class": "k1", "title": title, "instructions": "写一篇**作文**，不少于 400 字。",
        "due_at": DUE, "scale": scale, "accept_late": accept_late})
}

/// t1 sets `body` on k1; its id.
pub async fn set(app: &TestApp, body: Value) -> String {
    let (status, made) = post(app, &token(app, "t1").await, "/api/v1/assignments", body).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    made["id"].as_str().unwrap().to_owned()
}

/// `who` hands in `text` as JSON.
pub async fn hand_in(app: &TestApp, who: &str, id: &str, text: &str) -> (StatusCode, Value) {
    let path = format!("/api/v1/assignments/{id}/submissions");
    post(app, &token(app, who).await, &path, json!({"text": text})).await
}

async fn hand_in_form(app: &TestApp, who: &str, id: &str, form: Form) -> (StatusCode, Value) {
    let response = app
        .client
        .post(app.url(&format!("/api/v1/assignments/{id}/submissions")))
        .bearer_auth(token(app, who).await)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn file(name: &str, bytes: &[u8]) -> Part {
    Part::bytes(bytes.to_vec()).file_name(name.to_owned())
}

/// `who` marks a hand-in.
pub async fn mark(app: &TestApp, who: &str, sid: &str, body: Value) -> (StatusCode, Value) {
    let path = format!("/api/v1/submissions/{sid}/feedback");
    post(app, &token(app, who).await, &path, body).await
}

async fn get_as(app: &TestApp, who: &str, path: &str) -> (StatusCode, Value) {
    get(app, &token(app, who).await, path).await
}

fn message(body: &Value) -> String {
    body["error"]["message"].as_str().unwrap_or("").to_owned()
}

/// Files under the object store's `submissions/` and temporary files left in the data dir.
fn stored(app: &TestApp) -> (usize, usize) {
    fn count(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir).map_or(0, |entries| {
            entries
                .map(|e| e.unwrap().path())
                .map(|p| if p.is_dir() { count(&p) } else { 1 })
                .sum()
        })
    }
    let data = &app.state.config.data_dir;
    (
        count(&data.join("objects").join("submissions")),
        count(&data.join("tmp")),
    )
}

async fn rows<E: EntityTrait>(app: &TestApp, _: E) -> u64
where
    E::Model: Sync,
{
    E::find().count(&app.state.db).await.unwrap()
}

on_both_databases! {
    async fn a_teacher_sets_work_on_each_scale_and_bad_input_is_named(app) {
        district(&app).await;
        before_due(&app);
        let t1 = token(&app, "t1").await;
        for scale in ["points:10", "bands", "comments"] {
            let id = set(&app, work(&format!("作文 {scale}"), scale, false)).await;
            let (status, got) = get(&app, &t1, &format!("/api/v1/assignments/{id}")).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(got["scale"], scale);
            assert_eq!(got["class"], "k1");
            assert_eq!(got["due_at"], "2026-12-10T10:00:00Z");
            assert!(got["instructions_html"].as_str().unwrap().contains("<strong>作文</strong>"), "{got}");
        }
        let (_, got) = post(&app, &t1, "/api/v1/assignments", work("满分一百", "points:100", true)).await;
        assert_eq!(got["max_points"], 100);
        assert_eq!(got["accept_late"], true);

        let bad = |field: &str, value: Value| {
            let mut body = work("作文", "points:10", false);
            body[field] = value;
            body
        };
        let cases = [
            (bad("scale", json!("points:0")), "scale"),
            (bad("scale", json!("points:1001")), "scale"),
            (bad("scale", json!("grades")), "scale"),
            (bad("due_at", json!("明天")), "due_at"),
            (bad("due_at", json!("2026-12-01T08:00:00+08:00")), "due_at"),
            (bad("instructions", json!("好好写\n<script>alert(1)</script>")), "instructions"),
            (bad("title", json!("  ")), "title"),
            (bad("lesson", json!("no-such-lesson")), "lesson"),
        ];
        for (body, field) in cases {
            let (status, answer) = post(&app, &t1, "/api/v1/assignments", body.clone()).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body} → {answer}");
            assert_eq!(answer["error"]["code"], "invalid_field");
            assert!(message(&answer).contains(field), "{field}: {answer}");
        }
        let (status, answer) = post(&app, &t1, "/api/v1/assignments", json!({"class": "k1", "title": "x", "scale": "bands"})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(message(&answer).contains("due_at"), "{answer}");
        assert_eq!(rows(&app, assignment::Entity).await, 4, "nothing stored by a refusal");

        // A pupil, and a teacher of the same school who does not teach k1: told why, naming it.
        for who in ["st1", "t3", "p1"] {
            let (status, answer) = post(&app, &token(&app, who).await, "/api/v1/assignments", work("x", "bands", false)).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{who}: {answer}");
            assert_eq!(answer["error"]["code"], "not_class_teacher");
            assert!(message(&answer).contains("k1"), "{answer}");
        }
        // Another school's teacher learns nothing about k1; nor does anyone about k99.
        let (status, answer) = post(&app, &token(&app, "t2").await, "/api/v1/assignments", work("x", "bands", false)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{answer}");
        assert!(message(&answer).contains("k1"), "{answer}");
        let mut elsewhere = work("x", "bands", false);
        elsewhere["class"] = json!("k99");
        let (status, _) = post(&app, &t1, "/api/v1/assignments", elsewhere).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // The school's administrator may set work too.
        let (status, _) = post(&app, &token(&app, "sa1").await, "/api/v1/assignments", work("校级", "bands", false)).await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(rows(&app, assignment::Entity).await, 5);
    }
}

on_both_databases! {
    async fn an_assignment_is_set_on_a_lesson_of_ones_own_or_published_to_the_class(app) {
        use kongjian::lessons::entity::{lesson, publication};
        use sea_orm::{ActiveModelTrait, IntoActiveModel};
        district(&app).await;
        before_due(&app);
        use kongjian::people::store::find_by_sourced_id;
        let t1 = find_by_sourced_id(&app.state.db, "t1").await.unwrap().unwrap();
        let t3 = find_by_sourced_id(&app.state.db, "t3").await.unwrap().unwrap();
        let now = app.state.clock.now();
        let lesson_of = |id: &str, owner: &kongjian::roster::entity::person::Model| lesson::Model {
            id: id.to_owned(), owner_id: owner.id.clone(), org_id: "s1".into(), title: "春天".into(),
            body: "春天来了".into(), body_html: "<p>春天来了</p>".into(), version: 1, copied_from_id: None,
            created_at: now, updated_at: now,
        };
        lesson_of("lesson-own", &t1).into_active_model().insert(&app.state.db).await.unwrap();
        lesson_of("lesson-colleague", &t3).into_active_model().insert(&app.state.db).await.unwrap();
        let mut body = work("读后感", "comments", false);
        body["lesson"] = json!("lesson-own");
        let (status, made) = post(&app, &token(&app, "t1").await, "/api/v1/assignments", body.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        assert_eq!(made["lesson"], "lesson-own");

        // A colleague's lesson only once it is published to the class.
        body["lesson"] = json!("lesson-colleague");
        let (status, answer) = post(&app, &token(&app, "t1").await, "/api/v1/assignments", body.clone()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert!(message(&answer).contains("lesson"), "{answer}");
        let k1 = kongjian::people::relations::class_by_sourced_id(&app.state.db, "k1").await.unwrap().unwrap();
        publication::Model {
            id: "pub-1".into(), lesson_id: "lesson-colleague".into(), class_id: k1.id, publish_at: now,
            published_by: t3.id.clone(), created_at: now, withdrawn_at: None,
        }.into_active_model().insert(&app.state.db).await.unwrap();
        let (status, made) = post(&app, &token(&app, "t1").await, "/api/v1/assignments", body).await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
    }
}

on_both_databases! {
    async fn hand_ins_come_as_json_or_files_and_a_refused_one_leaves_nothing(app) {
        district(&app).await;
        before_due(&app);
        let id = set(&app, work("观察日记", "points:10", false)).await;

        let (status, made) = hand_in(&app, "st1", &id, "今天我观察了蚂蚁。").await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        assert_eq!(made["attempt"], 1);
        assert_eq!(made["late"], false);
        assert_eq!(made["state"], "handed_in");
        assert_eq!(made["text"], "今天我观察了蚂蚁。");

        let form = Form::new().text("text", "见附件").part("file", file("蚂蚁.png", PNG)).part("file", file("记录.pdf", PDF));
        let (status, made) = hand_in_form(&app, "st2", &id, form).await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        let files = made["files"].as_array().unwrap();
        assert_eq!(files.len(), 2, "{made}");
        assert_eq!(files[0]["name"], "蚂蚁.png");
        assert_eq!(files[0]["content_type"], "image/png");
        assert_eq!(files[1]["content_type"], "application/pdf");
        let url = files[0]["url"].as_str().unwrap().to_owned();
        for who in ["st2", "p2", "t1", "sa1"] {
            let response = app.client.get(app.url(&url)).bearer_auth(token(&app, who).await).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "{who}");
            assert_eq!(response.headers()["content-type"], "image/png");
            assert!(response.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
            assert_eq!(response.bytes().await.unwrap().to_vec(), PNG);
        }
        for who in ["st1", "p1", "t3", "t2", "p9"] {
            let (status, _) = get_as(&app, who, &url).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who} may not download a classmate's file");
        }
        assert_eq!(stored(&app), (2, 0));

        // Empty: no text, no files.
        let (status, answer) = hand_in(&app, "st3", &id, "   ").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        let (status, _) = hand_in_form(&app, "st3", &id, Form::new().text("text", "")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

        // A program among good files: refused by name, and nothing of the hand-in is kept.
        let form = Form::new().text("text", "作业").part("file", file("好.png", PNG)).part("file", file("作业.exe", &exe()));
        let (status, answer) = hand_in_form(&app, "st3", &id, form).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{answer}");
        assert_eq!(answer["error"]["code"], "file_type_refused");
        assert!(message(&answer).contains("作业.exe"), "{answer}");
        // A program dressed as a picture is typed by its bytes.
        let form = Form::new().part("file", file("照片.jpg", &exe()));
        let (status, _) = hand_in_form(&app, "st3", &id, form).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(rows(&app, submission::Entity).await, 2);
        assert_eq!(rows(&app, submission_file::Entity).await, 2);
        assert_eq!(stored(&app), (2, 0), "no object and no temporary file left behind");

        // Only the class's pupils hand in.
        for (who, expected) in [("t1", StatusCode::FORBIDDEN), ("p1", StatusCode::FORBIDDEN), ("sa1", StatusCode::FORBIDDEN),
            ("t3", StatusCode::NOT_FOUND), ("st9", StatusCode::NOT_FOUND), ("t2", StatusCode::NOT_FOUND)] {
            let (status, _) = hand_in(&app, who, &id, "代交").await;
            assert_eq!(status, expected, "{who}");
        }
        assert_eq!(rows(&app, submission::Entity).await, 2);
    }
}

async fn oversized(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        config.submission_max_size = 64 * 1024;
        config.submission_total_size = 100 * 1024;
    })
    .await;
    district(&app).await;
    before_due(&app);
    let id = set(&app, work("录音作业", "bands", false)).await;
    let big = "春眠不觉晓，处处闻啼鸟。".repeat(3_000).into_bytes();
    let form = Form::new().part("file", file("朗读.txt", &big));
    let (status, answer) = hand_in_form(&app, "st1", &id, form).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
    assert_eq!(answer["error"]["code"], "submission_file_too_large");
    assert!(message(&answer).contains("朗读.txt"), "{answer}");
    // Each file within the limit, together over the hand-in's.
    let part = "夜来风雨声，花落知多少。".repeat(1_500).into_bytes();
    assert!(part.len() < 64 * 1024 && part.len() * 2 > 100 * 1024);
    let form = Form::new()
        .part("file", file("一.txt", &part))
        .part("file", file("二.txt", &part));
    let (status, answer) = hand_in_form(&app, "st1", &id, form).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
    assert_eq!(answer["error"]["code"], "submission_too_large");
    assert_eq!(rows(&app, submission::Entity).await, 0);
    assert_eq!(stored(&app), (0, 0));
    // Within both limits it goes in.
    let form = Form::new().part("file", file("一.txt", &part));
    let (status, _) = hand_in_form(&app, "st1", &id, form).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(stored(&app), (1, 0));
}

mod an_oversized_hand_in_is_refused_with_413 {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::oversized(crate::support::Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::oversized(crate::support::Backend::Postgres).await;
    }
}

on_both_databases! {
    async fn resubmitting_before_the_due_time_supersedes_the_last(app) {
        district(&app).await;
        before_due(&app);
        let id = set(&app, work("作文", "points:10", false)).await;
        let (_, first) = hand_in(&app, "st1", &id, "初稿").await;
        app.state.clock.advance(TimeDelta::hours(30));
        let (status, second) = hand_in(&app, "st1", &id, "修改稿").await;
        assert_eq!(status, StatusCode::CREATED, "{second}");
        assert_eq!(second["attempt"], 2);
        let first_id = first["id"].as_str().unwrap();
        let (_, old) = get_as(&app, "st1", &format!("/api/v1/submissions/{first_id}")).await;
        assert_eq!(old["superseded_at"], "2026-12-08T08:00:00Z", "{old}");
        let (_, mine) = get_as(&app, "st1", &format!("/api/v1/assignments/{id}")).await;
        assert_eq!(mine["students"][0]["submission"]["id"], second["id"], "{mine}");
        assert_eq!(mine["students"][0]["submission"]["attempt"], 2);
        // The superseded hand-in is not marked; the current one is.
        let (status, answer) = mark(&app, "t1", first_id, json!({"score": 8})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert!(message(&answer).contains("submission"), "{answer}");
        let (status, _) = mark(&app, "t1", second["id"].as_str().unwrap(), json!({"score": 8})).await;
        assert_eq!(status, StatusCode::CREATED);
        // Returned work may still be improved before the due time: a third attempt, waiting again.
        let (status, third) = hand_in(&app, "st1", &id, "再改一稿").await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(third["attempt"], 3);
        let (_, list) = get_as(&app, "st1", "/api/v1/students/st1/assignments").await;
        assert_eq!(list["assignments"][0]["status"], "handed_in", "{list}");
        assert_eq!(list["assignments"][0]["feedback"], Value::Null);
        assert_eq!(rows(&app, submission::Entity).await, 3);
    }
}

on_both_databases! {
    async fn after_the_due_time_late_work_is_marked_or_refused(app) {
        district(&app).await;
        before_due(&app);
        let open = set(&app, work("迟交可以", "bands", true)).await;
        let strict = set(&app, work("不收迟交", "bands", false)).await;
        let (status, _) = hand_in(&app, "st1", &open, "按时交").await;
        assert_eq!(status, StatusCode::CREATED);
        let (status, _) = hand_in(&app, "st1", &strict, "按时交").await;
        assert_eq!(status, StatusCode::CREATED);

        // Exactly at the due time is still on time.
        app.state.clock.set(shanghai(10, 18, 0));
        let (status, on_time) = hand_in(&app, "st3", &open, "踩点").await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(on_time["late"], false);

        app.state.clock.set(shanghai(11, 8, 0));
        let (status, late) = hand_in(&app, "st2", &open, "补交").await;
        assert_eq!(status, StatusCode::CREATED, "{late}");
        assert_eq!(late["late"], true);
        let (_, list) = get_as(&app, "p2", "/api/v1/students/st2/assignments").await;
        let row = list["assignments"].as_array().unwrap().iter().find(|a| a["id"] == open.as_str()).unwrap().clone();
        assert_eq!(row["status"], "late", "{list}");
        let row = list["assignments"].as_array().unwrap().iter().find(|a| a["id"] == strict.as_str()).unwrap().clone();
        assert_eq!(row["status"], "not_started");
        assert_eq!(row["overdue"], true);

        // A late hand-in is final; so is one made on time.
        for (who, which) in [("st2", &open), ("st1", &open), ("st1", &strict)] {
            let (status, answer) = hand_in(&app, who, which, "再交一次").await;
            assert_eq!(status, StatusCode::CONFLICT, "{who}: {answer}");
            assert_eq!(answer["error"]["code"], "resubmit_closed");
            assert!(message(&answer).contains("2026-12-10 18:00"), "{answer}");
        }
        // Late work refused: said with the due time, in the reader's language, nothing kept.
        let (status, answer) = hand_in(&app, "st2", &strict, "补交").await;
        assert_eq!(status, StatusCode::CONFLICT, "{answer}");
        assert_eq!(answer["error"]["code"], "late_refused");
        assert!(message(&answer).contains("2026-12-10 18:00") && message(&answer).contains("不接受迟交"), "{answer}");
        let response = app.client.post(app.url(&format!("/api/v1/assignments/{strict}/submissions")))
            .bearer_auth(token(&app, "st2").await).header("accept-language", "en")
            .json(&json!({"text": "late"})).send().await.unwrap();
        let answer: Value = response.json().await.unwrap();
        assert!(message(&answer).contains("does not accept late work") && message(&answer).contains("2026-12-10 18:00"), "{answer}");
        let form = Form::new().text("text", "补交").part("file", file("图.png", PNG));
        let (status, _) = hand_in_form(&app, "st2", &strict, form).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(rows(&app, submission::Entity).await, 4);
        assert_eq!(stored(&app), (0, 0));

        let (_, progress) = get_as(&app, "t1", &format!("/api/v1/assignments/{open}/progress")).await;
        assert_eq!(progress["counts"], json!({"not_started": 3, "handed_in": 2, "late": 1, "returned": 0, "total": 6}), "{progress}");
    }
}

on_both_databases! {
    async fn a_score_outside_the_scale_is_refused_and_the_latest_mark_stands(app) {
        district(&app).await;
        before_due(&app);
        let points = set(&app, work("计算题", "points:10", false)).await;
        let bands = set(&app, work("朗读", "bands", false)).await;
        let comments = set(&app, work("日记", "comments", false)).await;
        let mut sub = std::collections::HashMap::new();
        for id in [&points, &bands, &comments] {
            let (_, made) = hand_in(&app, "st1", id, "我的作业").await;
            sub.insert(id.clone(), made["id"].as_str().unwrap().to_owned());
        }
        let cases = [
            (&points, json!({"comment": "", "score": 11}), "score", "0 到 10"),
            (&points, json!({"score": 8.55}), "score", "0 到 10"),
            (&points, json!({"score": -1}), "score", "0 到 10"),
            (&points, json!({"comment": "没有分数"}), "score", "0 到 10"),
            (&bands, json!({"score": "甲"}), "score", "优、良、中、待提高"),
            (&bands, json!({"score": 90}), "score", "优、良、中、待提高"),
            (&comments, json!({"comment": "很好", "score": 5}), "score", "只写评语"),
            (&comments, json!({"comment": "  "}), "comment", "评语"),
        ];
        for (id, body, field, range) in cases {
            let (status, answer) = mark(&app, "t1", &sub[id], body.clone()).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body} → {answer}");
            assert!(message(&answer).contains(field) && message(&answer).contains(range), "{body} → {answer}");
        }
        assert_eq!(rows(&app, feedback::Entity).await, 0, "nothing stored by a refused mark");
        let (_, list) = get_as(&app, "st1", "/api/v1/students/st1/assignments").await;
        assert!(list["assignments"].as_array().unwrap().iter().all(|a| a["status"] == "handed_in"), "{list}");

        let (status, done) = mark(&app, "t1", &sub[&points], json!({"comment": "步骤清楚", "score": 8.5})).await;
        assert_eq!(status, StatusCode::CREATED, "{done}");
        assert_eq!(done["state"], "returned");
        assert_eq!(done["score"], 8.5);
        let (status, _) = mark(&app, "t1", &sub[&bands], json!({"comment": "", "score": "优"})).await;
        assert_eq!(status, StatusCode::CREATED);
        let (status, _) = mark(&app, "t1", &sub[&comments], json!({"comment": "观察细致"})).await;
        assert_eq!(status, StatusCode::CREATED);
        // Marking again: a new row, and the latest stands.
        app.state.clock.advance(TimeDelta::minutes(5));
        let (status, _) = mark(&app, "t1", &sub[&points], json!({"comment": "订正后满分", "score": "10"})).await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(rows(&app, feedback::Entity).await, 4);
        let (_, list) = get_as(&app, "st1", "/api/v1/students/st1/assignments").await;
        let feedback_of = |id: &str| list["assignments"].as_array().unwrap().iter().find(|a| a["id"] == id).unwrap()["feedback"].clone();
        assert_eq!(feedback_of(&points)["score"], 10);
        assert_eq!(feedback_of(&points)["comment"], "订正后满分");
        assert_eq!(feedback_of(&bands)["score"], "优");
        assert_eq!(feedback_of(&comments)["score"], Value::Null);
        assert_eq!(feedback_of(&comments)["comment"], "观察细致");
        let (_, teacher_view) = get_as(&app, "t1", &format!("/api/v1/submissions/{}", sub[&points])).await;
        assert_eq!(teacher_view["marks"].as_array().unwrap().len(), 2, "{teacher_view}");
        let (_, pupil_view) = get_as(&app, "st1", &format!("/api/v1/submissions/{}", sub[&points])).await;
        assert_eq!(pupil_view["marks"], json!([]));
        assert_eq!(pupil_view["feedback"]["score"], 10);

        // Only a teacher of the class marks: those who see the hand-in are told so, others nothing.
        for (who, expected) in [("sa1", StatusCode::FORBIDDEN), ("st1", StatusCode::FORBIDDEN), ("p1", StatusCode::FORBIDDEN),
            ("st2", StatusCode::NOT_FOUND), ("p2", StatusCode::NOT_FOUND), ("t3", StatusCode::NOT_FOUND), ("t2", StatusCode::NOT_FOUND)] {
            let (status, _) = mark(&app, who, &sub[&bands], json!({"score": "良"})).await;
            assert_eq!(status, expected, "{who}");
        }
        assert_eq!(rows(&app, feedback::Entity).await, 4);
    }
}

on_both_databases! {
    async fn returned_work_is_seen_by_the_pupil_and_family_only(app) {
        district(&app).await;
        before_due(&app);
        let id = set(&app, work("古诗默写", "points:10", false)).await;
        let (_, made) = hand_in(&app, "st1", &id, "床前明月光").await;
        let sid = made["id"].as_str().unwrap().to_owned();
        hand_in(&app, "st7", &id, "疑是地上霜").await;

        // Before it is returned: handed in, no feedback.
        let (_, list) = get_as(&app, "p1", "/api/v1/students/st1/assignments").await;
        assert_eq!(list["assignments"][0]["status"], "handed_in", "{list}");
        assert_eq!(list["assignments"][0]["feedback"], Value::Null);

        let (status, _) = mark(&app, "t1", &sid, json!({"comment": "字迹工整，全对", "score": 9})).await;
        assert_eq!(status, StatusCode::CREATED);
        for who in ["st1", "p1", "t1", "sa1", "da"] {
            let (status, list) = get_as(&app, who, "/api/v1/students/st1/assignments").await;
            assert_eq!(status, StatusCode::OK, "{who}");
            let row = &list["assignments"][0];
            assert_eq!(row["status"], "returned", "{who}: {list}");
            assert_eq!(row["feedback"]["score"], 9, "{who}");
            assert_eq!(row["feedback"]["comment"], "字迹工整，全对");
            assert_eq!(row["class"], "k1");
            assert_eq!(row["title"], "古诗默写");
            assert_eq!(row["due_at"], "2026-12-10T10:00:00Z");
            assert_eq!(row["overdue"], false);
        }
        for who in ["st1", "p1"] {
            let (_, mine) = get_as(&app, who, &format!("/api/v1/assignments/{id}")).await;
            assert_eq!(mine["students"].as_array().unwrap().len(), 1, "{who}: {mine}");
            assert_eq!(mine["students"][0]["feedback"]["score"], 9);
            let (status, _) = get_as(&app, who, &format!("/api/v1/submissions/{sid}")).await;
            assert_eq!(status, StatusCode::OK);
        }
        // A classmate, a classmate's parent, a teacher of another class, another school: nothing.
        for who in ["st2", "p2", "t3", "t2", "p9", "st9", "sa2"] {
            let (status, _) = get_as(&app, who, "/api/v1/students/st1/assignments").await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
            let (status, _) = get_as(&app, who, &format!("/api/v1/submissions/{sid}")).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
        }
        // The classmate and their parent see the assignment, with their own standing only.
        for who in ["st2", "p2"] {
            let (status, theirs) = get_as(&app, who, &format!("/api/v1/assignments/{id}")).await;
            assert_eq!(status, StatusCode::OK);
            let text = theirs.to_string();
            assert!(!text.contains("字迹工整") && !text.contains("\"score\":9") && !text.contains(&sid), "{who}: {theirs}");
            assert_eq!(theirs["students"][0]["student"], "st2");
            let (_, class) = get_as(&app, who, "/api/v1/classes/k1/assignments").await;
            assert!(!class.to_string().contains("score") && !class.to_string().contains("字迹工整"), "{class}");
            assert_eq!(class["assignments"][0]["counts"], Value::Null, "no class counts for families");
            let (status, _) = get_as(&app, who, &format!("/api/v1/assignments/{id}/progress")).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "progress is the staff's");
        }
        for who in ["t3", "t2", "st9", "p9"] {
            let (status, _) = get_as(&app, who, &format!("/api/v1/assignments/{id}")).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
            let (status, _) = get_as(&app, who, "/api/v1/classes/k1/assignments").await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
        }
        // A parent of two in the class sees both, and nobody else.
        let (_, both) = get_as(&app, "p8", &format!("/api/v1/assignments/{id}")).await;
        let children: Vec<&str> = both["students"].as_array().unwrap().iter().map(|s| s["student"].as_str().unwrap()).collect();
        assert_eq!(children.len(), 2, "{both}");
        assert!(children.contains(&"st7") && children.contains(&"st8"));
        assert_eq!(both["viewer"], "guardian");
        // The class list: counts for the teacher, never a score.
        let (_, class) = get_as(&app, "t1", "/api/v1/classes/k1/assignments").await;
        assert_eq!(class["assignments"][0]["counts"], json!({"not_started": 4, "handed_in": 1, "late": 0, "returned": 1, "total": 6}));
        assert!(!class.to_string().contains("\"score\""), "{class}");
        let (_, own) = get_as(&app, "st1", "/api/v1/classes/k1/assignments").await;
        assert_eq!(own["assignments"][0]["status"], "returned");
    }
}

on_both_databases! {
    async fn the_class_progress_counts_every_pupil_for_its_staff(app) {
        district(&app).await;
        before_due(&app);
        let id = set(&app, work("手抄报", "bands", true)).await;
        hand_in(&app, "st1", &id, "完成").await;
        let (_, made) = hand_in(&app, "st2", &id, "完成").await;
        mark(&app, "t1", made["id"].as_str().unwrap(), json!({"score": "良"})).await;
        app.state.clock.set(shanghai(12, 9, 0));
        hand_in(&app, "st3", &id, "补交").await;
        for who in ["t1", "sa1", "da"] {
            let (status, progress) = get_as(&app, who, &format!("/api/v1/assignments/{id}/progress")).await;
            assert_eq!(status, StatusCode::OK, "{who}");
            assert_eq!(progress["counts"], json!({"not_started": 3, "handed_in": 1, "late": 1, "returned": 1, "total": 6}), "{progress}");
            let rows = progress["students"].as_array().unwrap();
            assert_eq!(rows.len(), 6, "st1–3, st7, st8 and bmp");
            let row = |s: &str| rows.iter().find(|r| r["student"] == s).unwrap().clone();
            assert_eq!(row("st2")["score"], "良");
            assert_eq!(row("st2")["status"], "returned");
            assert_eq!(row("st3")["late"], true);
            assert_eq!(row("st3")["status"], "late");
            assert_eq!(row("st1")["score"], Value::Null);
            assert_eq!(row("st7")["status"], "not_started");
            assert_eq!(row("st7")["submitted_at"], Value::Null);
            assert!(row("st1")["name"].as_str().unwrap().contains('1'));
        }
        for who in ["st1", "p1", "t3", "sa2", "t2"] {
            let (status, _) = get_as(&app, who, &format!("/api/v1/assignments/{id}/progress")).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
        }
    }
}

on_both_databases! {
    async fn a_pupils_assignments_are_listed_to_them_their_family_and_their_teachers(app) {
        // st1 is in k1 (t1) and k2 (t3); st2 in k1 only.
        let package = Package::new(&[1, 2]).with_admins().with_second_class();
        package.append("enrollments.csv", "e-st1-k2,,,k2,s1,st1,student,,,\n");
        crate::fixtures::import(&app.state.db, &package, false).await;
        before_due(&app);
        let in_k1 = set(&app, work("语文作业", "bands", false)).await;
        let mut body = work("数学作业", "points:100", false);
        body["class"] = json!("k2");
        let (status, made) = post(&app, &token(&app, "t3").await, "/api/v1/assignments", body).await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        let in_k2 = made["id"].as_str().unwrap().to_owned();
        let listed = |list: &Value| -> Vec<String> {
            let mut ids: Vec<String> = list["assignments"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap().to_owned()).collect();
            ids.sort();
            ids
        };
        let mut both = vec![in_k1.clone(), in_k2.clone()];
        both.sort();
        for who in ["st1", "p1", "sa1", "da"] {
            let (status, list) = get_as(&app, who, "/api/v1/students/st1/assignments").await;
            assert_eq!(status, StatusCode::OK, "{who}");
            assert_eq!(listed(&list), both, "{who}");
            assert_eq!(list["student"], "st1");
        }
        // A teacher sees the work of the classes they teach the pupil in, only.
        let (_, list) = get_as(&app, "t1", "/api/v1/students/st1/assignments").await;
        assert_eq!(listed(&list), vec![in_k1.clone()]);
        let (_, list) = get_as(&app, "t3", "/api/v1/students/st1/assignments").await;
        assert_eq!(listed(&list), vec![in_k2.clone()]);
        for who in ["st2", "p2", "t2", "sa2", "st9", "p9"] {
            let (status, _) = get_as(&app, who, "/api/v1/students/st1/assignments").await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
        }
        let (status, _) = get_as(&app, "t3", "/api/v1/students/st2/assignments").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "t3 does not teach st2");
        let (status, _) = get_as(&app, "st1", "/api/v1/students/nobody/assignments").await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // The spaces pages read the same list in a few queries.
        let st1 = kongjian::people::store::find_by_sourced_id(&app.state.db, "st1").await.unwrap().unwrap();
        let rows = kongjian::assignments::for_student(&app.state.db, &st1.id, app.state.clock.now()).await.unwrap();
        assert_eq!(rows.len(), 2);
        assert!(rows.iter().all(|r| r.status == kongjian::assignments::Status::NotStarted && !r.overdue));
        // And a teacher's space counts the hand-ins of their classes (k2: st9 and st1).
        hand_in(&app, "st1", &in_k2, "答案").await;
        let t3 = kongjian::people::store::find_by_sourced_id(&app.state.db, "t3").await.unwrap().unwrap();
        let mine = kongjian::assignments::for_teacher(&app.state.db, &t3).await.unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].id, in_k2);
        assert_eq!((mine[0].counts.total, mine[0].counts.handed_in, mine[0].counts.to_mark()), (2, 1, 1));
    }
}
