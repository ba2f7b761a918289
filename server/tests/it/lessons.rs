//! Lessons: drafts seen by their author alone, publishing to the classes one teaches (now or
//! at a set time, on a clock the test moves), who then sees them (the class's pupils and their
//! families, not another class's), edits with their history, script refused with its line,
//! copies, attachments typed by their bytes, resources by reference, a class's questions, and
//! the pages — on SQLite and PostgreSQL.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::messaging::{call, district, get, post, token};
use crate::on_both_databases;
use crate::pages::{Browser, csrf_of, location};
use crate::support::{Backend, TestApp};
use kongjian::lessons::entity::{attachment, lesson, publication, version};

/// The smallest PNG: its magic bytes are what the upload checks.
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, 0, 0, 0,
    1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89,
];

/// A lesson of `who`'s; its id.
async fn write(app: &TestApp, who: &str, title: &str, body: &str) -> String {
    let (status, made) = post(
        app,
        &token(app, who).await,
        "/api/v1/lessons",
        json!({"title": title, "body": body}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    made["id"].as_str().unwrap().to_owned()
}

async fn publish(app: &TestApp, who: &str, id: &str, body: Value) -> (StatusCode, Value) {
    let path = format!("/api/v1/lessons/{id}/publish");
    post(app, &token(app, who).await, &path, body).await
}

async fn read(app: &TestApp, who: &str, id: &str) -> (StatusCode, Value) {
    get(
        app,
        &token(app, who).await,
        &format!("/api/v1/lessons/{id}"),
    )
    .await
}

/// The ids of the lessons `who` sees in the class's list.
async fn class_list(app: &TestApp, who: &str, class: &str) -> (StatusCode, Vec<String>, Value) {
    let path = format!("/api/v1/classes/{class}/lessons");
    let (status, body) = get(app, &token(app, who).await, &path).await;
    let ids = body["lessons"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|l| l["id"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default();
    (status, ids, body)
}

fn message(body: &Value) -> String {
    body["error"]["message"].as_str().unwrap_or("").to_owned()
}

async fn upload(
    app: &TestApp,
    who: &str,
    id: &str,
    name: &str,
    bytes: Vec<u8>,
) -> (StatusCode, Value) {
    let form = Form::new().part("file", Part::bytes(bytes).file_name(name.to_owned()));
    let response = app
        .client
        .post(app.url(&format!("/api/v1/lessons/{id}/attachments")))
        .bearer_auth(token(app, who).await)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Files stored for lessons in the object store (a local directory in tests).
fn stored_objects(app: &TestApp) -> usize {
    fn count(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| {
                        let path = e.path();
                        if path.is_dir() { count(&path) } else { 1 }
                    })
                    .sum()
            })
            .unwrap_or(0)
    }
    count(&app.state.config.data_dir.join("objects").join("lessons"))
}

fn leftovers(app: &TestApp) -> usize {
    std::fs::read_dir(app.state.config.data_dir.join("tmp"))
        .map(|d| d.count())
        .unwrap_or(0)
}

fn at(hours: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 0, 0, 0).unwrap() + TimeDelta::hours(hours)
}

on_both_databases! {
    async fn a_draft_is_its_authors_until_published_and_then_its_classs_alone(app) {
        district(&app).await;
        let id = write(&app, "t1", "二次函数的图像", "# 二次函数\n\n图像是**抛物线**。").await;
        let (status, own) = read(&app, "t1", &id).await;
        assert_eq!(status, StatusCode::OK, "{own}");
        assert_eq!(own["state"], "draft");
        assert_eq!(own["version"], 1);
        assert_eq!(own["owner"]["sourced_id"], "t1");
        assert!(own["body_html"].as_str().unwrap().contains("<h1>二次函数</h1>"), "{own}");
        assert_eq!(own["body"], "# 二次函数\n\n图像是**抛物线**。");

        // A draft: nobody else sees it, not even the class or a colleague.
        for who in ["st1", "p1", "t3", "sa1"] {
            assert_eq!(read(&app, who, &id).await.0, StatusCode::NOT_FOUND, "{who}");
        }
        let (_, ids, _) = class_list(&app, "st1", "k1").await;
        assert!(ids.is_empty());

        let (status, done) = publish(&app, "t1", &id, json!({"classes": ["k1"]})).await;
        assert_eq!(status, StatusCode::OK, "{done}");
        assert_eq!(done["state"], "published");
        assert_eq!(done["classes"][0]["sourced_id"], "k1");

        // The class's pupils and their parents (p8 has two children in it) see it.
        for who in ["st1", "st2", "p1", "p8"] {
            let (status, seen) = read(&app, who, &id).await;
            assert_eq!(status, StatusCode::OK, "{who}");
            assert_eq!(seen["title"], "二次函数的图像");
            assert_eq!(seen["may"]["edit"], false);
            let (status, ids, _) = class_list(&app, who, "k1").await;
            assert_eq!((status, ids), (StatusCode::OK, vec![id.clone()]), "{who}");
        }
        // Another class's pupil and parent, another school's administrator: nothing at all.
        for who in ["st9", "p9", "sa2"] {
            assert_eq!(read(&app, who, &id).await.0, StatusCode::NOT_FOUND, "{who}");
            assert_eq!(class_list(&app, who, "k1").await.0, StatusCode::NOT_FOUND, "{who}");
        }
        let (status, ids, _) = class_list(&app, "st9", "k2").await;
        assert_eq!((status, ids.len()), (StatusCode::OK, 0));
        assert_eq!(class_list(&app, "st1", "no-such-class").await.0, StatusCode::NOT_FOUND);

        // The teacher's own list shows the state of each class.
        let (_, mine) = get(&app, &token(&app, "t1").await, "/api/v1/me/lessons").await;
        assert_eq!(mine["lessons"][0]["id"], id.as_str());
        assert_eq!(mine["lessons"][0]["state"], "published");
        assert_eq!(mine["lessons"][0]["classes"][0]["state"], "published");
        let (_, none) = get(&app, &token(&app, "st1").await, "/api/v1/me/lessons").await;
        assert_eq!(none["lessons"], json!([]));

        // The read the spaces use gives the same answer.
        let k1 = kongjian::people::relations::class_by_sourced_id(&app.state.db, "k1").await.unwrap().unwrap();
        let k2 = kongjian::people::relations::class_by_sourced_id(&app.state.db, "k2").await.unwrap().unwrap();
        let seen = kongjian::lessons::service::visible_in_classes(&app.state.db, std::slice::from_ref(&k1.id), app.state.clock.now(), 10).await.unwrap();
        assert_eq!(seen.len(), 1);
        assert_eq!((seen[0].lesson_id.as_str(), seen[0].title.as_str(), seen[0].class_id.as_str()), (id.as_str(), "二次函数的图像", k1.id.as_str()));
        assert!(!seen[0].owner_name.is_empty());
        assert!(kongjian::lessons::service::visible_in_classes(&app.state.db, &[k2.id], app.state.clock.now(), 10).await.unwrap().is_empty());
    }
}

on_both_databases! {
    async fn publishing_to_a_class_one_does_not_teach_names_it_and_publishes_nothing(app) {
        district(&app).await;
        let id = write(&app, "t1", "勾股定理", "直角三角形两直角边的平方和等于斜边的平方。").await;
        let cases = [
            (json!({"classes": ["k1", "k2"]}), "k2"),
            (json!({"classes": ["k1", "nope"]}), "nope"),
            (json!({"classes": []}), "classes"),
            (json!({"classes": ["k1"], "at": "明天早上"}), "at"),
        ];
        for (body, named) in cases {
            let (status, answer) = publish(&app, "t1", &id, body.clone()).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body} → {answer}");
            assert_eq!(answer["error"]["code"], "invalid_field");
            assert!(message(&answer).contains(named), "{named}: {answer}");
        }
        assert_eq!(publication::Entity::find().count(&app.state.db).await.unwrap(), 0);
        assert_eq!(read(&app, "st1", &id).await.0, StatusCode::NOT_FOUND);

        // Only the owner publishes: hidden from those who cannot see it, refused to those who can.
        assert_eq!(publish(&app, "t3", &id, json!({"classes": ["k2"]})).await.0, StatusCode::NOT_FOUND);
        publish(&app, "t1", &id, json!({"classes": ["k1"]})).await;
        assert_eq!(publish(&app, "t3", &id, json!({"classes": ["k2"]})).await.0, StatusCode::FORBIDDEN);
        assert_eq!(publish(&app, "st1", &id, json!({"classes": ["k1"]})).await.0, StatusCode::FORBIDDEN);

        // A school's administrator publishes to the school's classes, not another school's.
        let own = write(&app, "sa1", "升旗仪式", "周一升旗。").await;
        let (status, done) = publish(&app, "sa1", &own, json!({"classes": ["k1", "k2"]})).await;
        assert_eq!(status, StatusCode::OK, "{done}");
        assert_eq!(done["classes"].as_array().unwrap().len(), 2);
        let other = write(&app, "sa2", "第二小学的课", "内容").await;
        let (status, refused) = publish(&app, "sa2", &other, json!({"classes": ["k1"]})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(message(&refused).contains("k1"), "{refused}");

        // Pupils and parents do not write lessons.
        for who in ["st1", "p1"] {
            let (status, _) = post(&app, &token(&app, who).await, "/api/v1/lessons", json!({"title": "x", "body": "y"})).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{who}");
        }
    }
}

on_both_databases! {
    async fn a_scheduled_lesson_appears_when_its_time_comes(app) {
        district(&app).await;
        app.state.clock.set(at(0));
        let id = write(&app, "t1", "分数的意义", "把单位“1”平均分成若干份。").await;
        let (status, done) = publish(&app, "t1", &id, json!({"classes": ["k1"], "at": at(2).to_rfc3339()})).await;
        assert_eq!(status, StatusCode::OK, "{done}");
        assert_eq!(done["state"], "scheduled");
        assert_eq!(done["classes"][0]["scheduled"], true);

        // Before its time: the class's teacher and administrator see it coming; pupils nothing.
        for who in ["st1", "p1"] {
            assert_eq!(read(&app, who, &id).await.0, StatusCode::NOT_FOUND, "{who}");
            assert!(class_list(&app, who, "k1").await.1.is_empty(), "{who}");
        }
        for who in ["t1", "sa1"] {
            let (_, ids, body) = class_list(&app, who, "k1").await;
            assert_eq!(ids, vec![id.clone()], "{who}");
            assert_eq!(body["lessons"][0]["scheduled"], true);
        }
        assert_eq!(read(&app, "sa1", &id).await.0, StatusCode::OK);
        app.state.clock.advance(TimeDelta::minutes(119));
        assert_eq!(read(&app, "st1", &id).await.0, StatusCode::NOT_FOUND);

        // Its time comes: no job runs, the clock is enough.
        app.state.clock.advance(TimeDelta::minutes(1));
        assert_eq!(read(&app, "st1", &id).await.0, StatusCode::OK);
        let (_, ids, body) = class_list(&app, "p1", "k1").await;
        assert_eq!(ids, vec![id.clone()]);
        assert_eq!(body["lessons"][0]["scheduled"], false);

        // Publishing again moves the time (one publication still); a past time means now.
        publish(&app, "t1", &id, json!({"classes": ["k1"], "at": at(10).to_rfc3339()})).await;
        assert_eq!(read(&app, "st1", &id).await.0, StatusCode::NOT_FOUND);
        assert_eq!(publication::Entity::find().count(&app.state.db).await.unwrap(), 1);
        let (_, done) = publish(&app, "t1", &id, json!({"classes": ["k1"], "at": "2020-01-01T08:00:00+08:00"})).await;
        assert_eq!(done["classes"][0]["publish_at"].as_str().unwrap().parse::<DateTime<Utc>>().unwrap(), app.state.clock.now());
        assert_eq!(read(&app, "st1", &id).await.0, StatusCode::OK);

        // Withdrawn: gone for the class, kept as a record; withdrawing twice names the class.
        let path = format!("/api/v1/lessons/{id}/unpublish");
        let (status, done) = post(&app, &token(&app, "t1").await, &path, json!({"classes": ["k1"]})).await;
        assert_eq!(status, StatusCode::OK, "{done}");
        assert_eq!(done["state"], "draft");
        assert_eq!(done["classes"][0]["state"], "withdrawn");
        assert_eq!(read(&app, "st1", &id).await.0, StatusCode::NOT_FOUND);
        assert!(class_list(&app, "t1", "k1").await.1.is_empty());
        let kept = publication::Entity::find().all(&app.state.db).await.unwrap();
        assert_eq!(kept.len(), 1);
        assert!(kept[0].withdrawn_at.is_some());
        let (status, again) = post(&app, &token(&app, "t1").await, &path, json!({"classes": ["k1"]})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(message(&again).contains("k1"), "{again}");
        let (_, mine) = get(&app, &token(&app, "t1").await, "/api/v1/me/lessons").await;
        assert_eq!(mine["lessons"][0]["classes"][0]["state"], "withdrawn");
    }
}

on_both_databases! {
    async fn an_edit_keeps_the_history_and_pupils_read_the_latest(app) {
        district(&app).await;
        let id = write(&app, "t1", "春晓", "春眠不觉晓").await;
        publish(&app, "t1", &id, json!({"classes": ["k1"]})).await;
        let t1 = token(&app, "t1").await;
        let path = format!("/api/v1/lessons/{id}");
        let (status, saved) = call(&app, Method::PATCH, &t1, &path, Some(json!({"title": "春晓（孟浩然）", "body": "春眠不觉晓，**处处闻啼鸟**。"}))).await;
        assert_eq!(status, StatusCode::OK, "{saved}");
        assert_eq!(saved["version"], 2);

        let (_, seen) = read(&app, "st1", &id).await;
        assert_eq!(seen["title"], "春晓（孟浩然）");
        assert_eq!(seen["version"], 2);
        assert!(seen["body_html"].as_str().unwrap().contains("<strong>处处闻啼鸟</strong>"), "{seen}");

        let (status, history) = get(&app, &t1, &format!("{path}/versions")).await;
        assert_eq!(status, StatusCode::OK);
        let numbers: Vec<i64> = history["versions"].as_array().unwrap().iter().map(|v| v["number"].as_i64().unwrap()).collect();
        assert_eq!(numbers, [2, 1]);
        assert_eq!(history["versions"][1]["title"], "春晓");
        assert_eq!(history["versions"][1]["body"], "春眠不觉晓");
        // The history: the owner and the staff of its classes; not pupils, not colleagues.
        assert_eq!(get(&app, &token(&app, "sa1").await, &format!("{path}/versions")).await.0, StatusCode::OK);
        for (who, expected) in [("st1", StatusCode::FORBIDDEN), ("p1", StatusCode::FORBIDDEN), ("t3", StatusCode::FORBIDDEN), ("sa2", StatusCode::NOT_FOUND)] {
            assert_eq!(get(&app, &token(&app, who).await, &format!("{path}/versions")).await.0, expected, "{who}");
        }

        // Only the owner edits.
        for (who, expected) in [("t3", StatusCode::FORBIDDEN), ("st1", StatusCode::FORBIDDEN), ("sa2", StatusCode::NOT_FOUND)] {
            let (status, _) = call(&app, Method::PATCH, &token(&app, who).await, &path, Some(json!({"title": "改"}))).await;
            assert_eq!(status, expected, "{who}");
        }
        let (status, _) = call(&app, Method::PATCH, &t1, &path, Some(json!({}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        // Saving the same text again makes no version.
        let (_, same) = call(&app, Method::PATCH, &t1, &path, Some(json!({"title": "春晓（孟浩然）"}))).await;
        assert_eq!(same["version"], 2);
        assert_eq!(version::Entity::find().count(&app.state.db).await.unwrap(), 2);
    }
}

on_both_databases! {
    async fn script_in_markdown_is_refused_with_its_line_and_nothing_is_stored(app) {
        district(&app).await;
        let t1 = token(&app, "t1").await;
        let cases = [
            (json!({"title": "坏课", "body": "第一行\n\n<script>alert(1)</script>"}), vec!["body", "第 3 行"]),
            (json!({"title": "坏课", "body": "图片\n<img src=x onerror=alert(1)>"}), vec!["body", "第 2 行"]),
            (json!({"title": "", "body": "正文"}), vec!["title"]),
            (json!({"title": "长".repeat(201), "body": "正文"}), vec!["title", "200"]),
            (json!({"body": "没有标题"}), vec!["title"]),
        ];
        for (body, named) in cases {
            let (status, answer) = post(&app, &t1, "/api/v1/lessons", body.clone()).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body} → {answer}");
            for word in named {
                assert!(message(&answer).contains(word), "{word}: {answer}");
            }
        }
        assert_eq!(lesson::Entity::find().count(&app.state.db).await.unwrap(), 0);
        assert_eq!(version::Entity::find().count(&app.state.db).await.unwrap(), 0);

        // An edit with script changes nothing either.
        let id = write(&app, "t1", "好课", "").await;
        let path = format!("/api/v1/lessons/{id}");
        let (status, answer) = call(&app, Method::PATCH, &t1, &path, Some(json!({"body": "好\n[点我](javascript:alert(1))"}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(message(&answer).contains("第 2 行"), "{answer}");
        let (_, unchanged) = read(&app, "t1", &id).await;
        assert_eq!((unchanged["version"].as_i64(), unchanged["body"].as_str()), (Some(1), Some("")));
        assert_eq!(version::Entity::find().count(&app.state.db).await.unwrap(), 1);
    }
}

on_both_databases! {
    async fn a_lesson_is_copied_from_ones_own_or_a_colleagues_published_lessons(app) {
        district(&app).await;
        let id = write(&app, "t1", "光合作用", "植物的光合作用。").await;
        let (status, picture) = upload(&app, "t1", &id, "叶片.png", PNG.to_vec()).await;
        assert_eq!(status, StatusCode::CREATED, "{picture}");
        let url = picture["url"].as_str().unwrap().to_owned();
        let t1 = token(&app, "t1").await;
        call(&app, Method::PATCH, &t1, &format!("/api/v1/lessons/{id}"), Some(json!({"body": format!("![叶片]({url})\n\n植物的光合作用。")}))).await;

        // One's own draft.
        let (status, copy) = post(&app, &t1, &format!("/api/v1/lessons/{id}/copy"), json!({})).await;
        assert_eq!(status, StatusCode::CREATED, "{copy}");
        assert_eq!(copy["copied_from_id"], id.as_str());
        assert_eq!((copy["state"].as_str(), copy["version"].as_i64()), (Some("draft"), Some(1)));
        assert_eq!(copy["attachments"].as_array().unwrap().len(), 1);
        let copied_url = copy["attachments"][0]["url"].as_str().unwrap();
        assert!(copy["body"].as_str().unwrap().contains(copied_url), "the picture follows the copy: {copy}");
        // The picture's address survives the sanitiser, in the source and in the copy.
        let (_, source) = read(&app, "t1", &id).await;
        assert!(source["body_html"].as_str().unwrap().contains(&format!(r#"<img src="{url}" alt="叶片">"#)), "{source}");
        assert!(copy["body_html"].as_str().unwrap().contains(&format!(r#"src="{copied_url}""#)), "{copy}");

        // A colleague's draft is not theirs to copy; once published in their school it is.
        let copy_path = format!("/api/v1/lessons/{id}/copy");
        assert_eq!(post(&app, &token(&app, "t3").await, &copy_path, json!({})).await.0, StatusCode::NOT_FOUND);
        publish(&app, "t1", &id, json!({"classes": ["k1"]})).await;
        let (_, shared) = get(&app, &token(&app, "t3").await, "/api/v1/lessons/shared").await;
        assert_eq!(shared["lessons"][0]["id"], id.as_str(), "{shared}");
        let (status, theirs) = post(&app, &token(&app, "t3").await, &copy_path, json!({})).await;
        assert_eq!(status, StatusCode::CREATED, "{theirs}");
        assert_eq!(theirs["owner"]["sourced_id"], "t3");
        let copy_id = theirs["id"].as_str().unwrap().to_owned();
        // Attachments by reference: the same stored object, no new file.
        let keys: Vec<Option<String>> = attachment::Entity::find().all(&app.state.db).await.unwrap().into_iter().map(|a| a.object_key).collect();
        assert_eq!(keys.len(), 3);
        assert!(keys.iter().all(|k| k == &keys[0]), "{keys:?}");
        assert_eq!(stored_objects(&app), 1);
        let response = app.client.get(app.url(theirs["attachments"][0]["url"].as_str().unwrap())).bearer_auth(token(&app, "t3").await).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.bytes().await.unwrap().to_vec(), PNG);
        // The copy is a draft of t3's: the class does not see it.
        assert_eq!(read(&app, "st1", &copy_id).await.0, StatusCode::NOT_FOUND);

        // The school's administrators may copy; another school's, pupils and parents may not.
        for who in ["sa1", "da"] {
            assert_eq!(post(&app, &token(&app, who).await, &copy_path, json!({})).await.0, StatusCode::CREATED, "{who}");
        }
        for who in ["sa2", "st1", "p1"] {
            assert_eq!(post(&app, &token(&app, who).await, &copy_path, json!({})).await.0, StatusCode::NOT_FOUND, "{who}");
        }
    }
}

on_both_databases! {
    async fn attachments_are_typed_by_their_bytes_and_removed_without_deleting(app) {
        district(&app).await;
        let id = write(&app, "t1", "认识图形", "").await;
        let (status, png) = upload(&app, "t1", &id, "三角形.png", PNG.to_vec()).await;
        assert_eq!(status, StatusCode::CREATED, "{png}");
        assert_eq!((png["kind"].as_str(), png["content_type"].as_str()), (Some("image"), Some("image/png")));

        // A program dressed as a PDF, a web page, an empty file: refused, nothing kept.
        let mut exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00".to_vec();
        exe.extend(std::iter::repeat_n(0u8, 4096));
        let (status, body) = upload(&app, "t1", &id, "教案.pdf", exe).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
        assert_eq!(body["error"]["code"], "file_type_refused");
        assert!(message(&body).contains("教案.pdf"), "{body}");
        let (status, body) = upload(&app, "t1", &id, "page.html", b"<!doctype html><html><body>x</body></html>".to_vec()).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
        assert!(message(&body).contains("page.html"), "{body}");
        let (status, _) = upload(&app, "t1", &id, "空.txt", Vec::new()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let (status, doc) = upload(&app, "t1", &id, "说明.txt", "三角形有三条边。".as_bytes().to_vec()).await;
        assert_eq!(status, StatusCode::CREATED, "{doc}");
        assert_eq!(doc["kind"], "file");
        assert_eq!(attachment::Entity::find().count(&app.state.db).await.unwrap(), 2);
        assert_eq!(stored_objects(&app), 2);
        assert_eq!(leftovers(&app), 0, "temporary files are removed");

        // Only the owner uploads; the class downloads once it sees the lesson.
        assert_eq!(upload(&app, "t3", &id, "x.png", PNG.to_vec()).await.0, StatusCode::NOT_FOUND);
        let file = png["url"].as_str().unwrap().to_owned();
        let st1 = token(&app, "st1").await;
        assert_eq!(app.client.get(app.url(&file)).bearer_auth(&st1).send().await.unwrap().status(), StatusCode::NOT_FOUND);
        publish(&app, "t1", &id, json!({"classes": ["k1"]})).await;
        assert_eq!(upload(&app, "st1", &id, "x.png", PNG.to_vec()).await.0, StatusCode::FORBIDDEN);
        let response = app.client.get(app.url(&file)).bearer_auth(&st1).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "image/png");
        assert!(response.headers()["content-disposition"].to_str().unwrap().starts_with("inline; filename*=UTF-8''"));
        assert_eq!(response.bytes().await.unwrap().to_vec(), PNG);
        let p9 = token(&app, "p9").await;
        assert_eq!(app.client.get(app.url(&file)).bearer_auth(&p9).send().await.unwrap().status(), StatusCode::NOT_FOUND);

        // Removing: the owner only; the row and the object stay, the lesson no longer lists it.
        assert_eq!(call(&app, Method::DELETE, &st1, &file, None).await.0, StatusCode::FORBIDDEN);
        assert_eq!(call(&app, Method::DELETE, &token(&app, "t1").await, &file, None).await.0, StatusCode::NO_CONTENT);
        assert_eq!(app.client.get(app.url(&file)).bearer_auth(&st1).send().await.unwrap().status(), StatusCode::NOT_FOUND);
        let (_, seen) = read(&app, "st1", &id).await;
        assert_eq!(seen["attachments"].as_array().unwrap().len(), 1);
        let removed = attachment::Entity::find().filter(attachment::Column::RemovedAt.is_not_null()).count(&app.state.db).await.unwrap();
        assert_eq!(removed, 1);
        assert_eq!(stored_objects(&app), 2);
    }
}

async fn oversized_attachment(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| config.resource_max_size = 64 * 1024).await;
    district(&app).await;
    let id = write(&app, "t1", "大文件", "").await;
    let big = "勾股定理".repeat(10_000).into_bytes();
    let (status, body) = upload(&app, "t1", &id, "big.txt", big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["error"]["code"], "file_too_large");
    assert!(
        message(&body).contains("0 MB") || message(&body).contains("MB"),
        "{body}"
    );
    assert_eq!(
        attachment::Entity::find()
            .count(&app.state.db)
            .await
            .unwrap(),
        0
    );
    assert_eq!(stored_objects(&app), 0);
    assert_eq!(leftovers(&app), 0);
}

mod an_oversized_attachment_is_refused_and_nothing_is_kept {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::oversized_attachment(crate::support::Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::oversized_attachment(crate::support::Backend::Postgres).await;
    }
}

/// A text resource of `author`, shared with the school and approved by `reviewer`; its id.
async fn resource(app: &TestApp, author: &str, reviewer: Option<&str>) -> String {
    let (status, made) = post(
        app,
        &token(app, author).await,
        "/api/v1/resources",
        json!({
            "title": "勾股定理课件", "subject": "数学", "grade": "08", "type": "课件",
            "scope": "school", "text": "勾股定理的证明。",
        }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let id = made["id"].as_str().unwrap().to_owned();
    if let Some(reviewer) = reviewer {
        let (status, _) = post(
            app,
            &token(app, author).await,
            &format!("/api/v1/resources/{id}/submit"),
            json!({"pledge": true}),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = post(app, &token(app, reviewer).await, &format!("/api/v1/resources/{id}/review"),
            json!({"decision": "approve", "political": "pass", "scientific": "pass", "safety": "pass"})).await;
        assert_eq!(status, StatusCode::OK);
    }
    id
}

on_both_databases! {
    async fn a_resource_the_teacher_may_see_is_attached_by_reference(app) {
        district(&app).await;
        let published = resource(&app, "t3", Some("sa1")).await;
        let draft = resource(&app, "t3", None).await;
        let id = write(&app, "t1", "勾股定理", "").await;
        let t1 = token(&app, "t1").await;
        let path = format!("/api/v1/lessons/{id}/attachments");
        let (status, attached) = post(&app, &t1, &path, json!({"resource": published})).await;
        assert_eq!(status, StatusCode::CREATED, "{attached}");
        assert_eq!(attached["kind"], "resource");
        assert_eq!(attached["resource"]["title"], "勾股定理课件");
        // It counts as a use in a lesson.
        let (_, detail) = get(&app, &t1, &format!("/api/v1/resources/{published}")).await;
        assert_eq!(detail["usage"]["lessons"], 1, "{detail}");

        // Twice, a colleague's draft, or nothing at all: refused with the resource named.
        for rid in [published.as_str(), draft.as_str(), "no-such-resource"] {
            let (status, refused) = post(&app, &t1, &path, json!({"resource": rid})).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
            assert!(message(&refused).contains("resource"), "{refused}");
        }
        assert_eq!(attachment::Entity::find().count(&app.state.db).await.unwrap(), 1);

        // The class follows the reference to the resource, whose own rules apply.
        publish(&app, "t1", &id, json!({"classes": ["k1"]})).await;
        let (_, seen) = read(&app, "st1", &id).await;
        assert_eq!(seen["attachments"][0]["resource"]["id"], published.as_str());
        let url = seen["attachments"][0]["url"].as_str().unwrap();
        let response = app.client.get(app.url(url)).bearer_auth(token(&app, "st1").await).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&response), format!("/api/v1/resources/{published}"));
    }
}

on_both_databases! {
    async fn a_class_asks_its_teacher_answers_and_families_read_along(app) {
        district(&app).await;
        let id = write(&app, "t1", "二次函数", "y = ax²").await;
        let path = format!("/api/v1/lessons/{id}/questions");
        let ask = json!({"class": "k1", "body": "<b>为什么</b>开口向上？"});
        // Not yet shown to the class: no thread.
        assert_eq!(post(&app, &token(&app, "st1").await, &path, ask.clone()).await.0, StatusCode::NOT_FOUND);
        publish(&app, "t1", &id, json!({"classes": ["k1"]})).await;

        let (status, asked) = post(&app, &token(&app, "st1").await, &path, ask.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{asked}");
        let qid = asked["id"].as_str().unwrap().to_owned();
        // Families and teachers do not ask; another class cannot.
        for (who, expected) in [("p1", StatusCode::FORBIDDEN), ("t1", StatusCode::FORBIDDEN), ("st9", StatusCode::NOT_FOUND)] {
            assert_eq!(post(&app, &token(&app, who).await, &path, ask.clone()).await.0, expected, "{who}");
        }
        assert_eq!(post(&app, &token(&app, "st9").await, &path, json!({"class": "k2", "body": "?"})).await.0, StatusCode::NOT_FOUND);
        for (body, named) in [("   ", "body"), (&*"问".repeat(2001), "2000")] {
            let (status, refused) = post(&app, &token(&app, "st2").await, &path, json!({"class": "k1", "body": body})).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(message(&refused).contains(named), "{refused}");
        }

        // The teacher answers; a pupil, a colleague, another school cannot.
        let answers = format!("{path}/{qid}/answers");
        let (status, answered) = post(&app, &token(&app, "t1").await, &answers, json!({"body": "因为 a > 0。"})).await;
        assert_eq!(status, StatusCode::CREATED, "{answered}");
        for (who, expected) in [("st1", StatusCode::FORBIDDEN), ("t3", StatusCode::NOT_FOUND), ("sa2", StatusCode::NOT_FOUND)] {
            assert_eq!(post(&app, &token(&app, who).await, &answers, json!({"body": "x"})).await.0, expected, "{who}");
        }

        // The class's pupils, teachers and families read the thread as it was written.
        for who in ["st1", "st2", "p1", "p2", "t1", "sa1"] {
            let (status, thread) = get(&app, &token(&app, who).await, &format!("{path}?class=k1")).await;
            assert_eq!(status, StatusCode::OK, "{who}");
            assert_eq!(thread["questions"][0]["body"], "<b>为什么</b>开口向上？");
            assert_eq!(thread["questions"][0]["mine"], who == "st1");
            assert_eq!(thread["questions"][0]["answers"][0]["body"], "因为 a > 0。");
            assert_eq!(thread["questions"][0]["answers"][0]["by_teacher"], true);
            assert_eq!(thread["may_ask"], who.starts_with("st"), "{who}");
            assert_eq!(thread["may_answer"], who == "t1", "{who}");
        }
        for who in ["st9", "p9", "t3", "sa2"] {
            assert_eq!(get(&app, &token(&app, who).await, &format!("{path}?class=k1")).await.0, StatusCode::NOT_FOUND, "{who}");
        }
        let (status, refused) = get(&app, &token(&app, "st1").await, &path).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(message(&refused).contains("class"));
    }
}

on_both_databases! {
    async fn the_lesson_pages_serve_their_people_and_refuse_others(app) {
        district(&app).await;
        let teacher = Browser::new(&app);
        teacher.activate("t1").await;

        let (status, page) = teacher.get("/lessons").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("我写的课") && page.contains(r#"href="/lessons/new""#), "{page}");

        // A script is refused on the form, with what was typed kept.
        let refused = teacher.submit("/lessons/new", "/lessons/new", &[("title", "圆的面积"), ("body", "正文\n<script>alert(1)</script>")]).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = refused.text().await.unwrap();
        assert!(html.contains("第 2 行") && html.contains(r#"value="圆的面积""#), "{html}");
        let made = teacher.submit("/lessons/new", "/lessons/new", &[("title", "圆的面积"), ("body", "## 公式\n\nS = πr²")]).await;
        assert_eq!(made.status(), StatusCode::SEE_OTHER);
        let id = location(&made).trim_start_matches("/lessons/").split('?').next().unwrap().to_owned();
        let here = format!("/lessons/{id}");
        let (status, page) = teacher.get(&format!("{here}?done=created")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("<h2>公式</h2>") && page.contains("已保存为草稿"), "{page}");
        assert!(page.contains(r#"name="classes" value="k1""#) && !page.contains(r#"value="k2""#), "only the classes one teaches");

        // A picture through the upload form (its action carries the CSRF token).
        let (_, page) = teacher.get(&here).await;
        let csrf = csrf_of(&page);
        let form = Form::new().part("file", Part::bytes(PNG.to_vec()).file_name("圆.png"));
        let uploaded = teacher.client.post(app.url(&format!("{here}/attachments?csrf={csrf}"))).multipart(form).send().await.unwrap();
        assert_eq!(uploaded.status(), StatusCode::SEE_OTHER);
        let (_, page) = teacher.get(&here).await;
        assert!(page.contains("圆.png") && page.contains("![圆.png](/api/v1/lessons/"), "{page}");

        let published = teacher.submit(&here, &format!("{here}/publish"), &[("classes", "k1")]).await;
        assert_eq!(published.status(), StatusCode::SEE_OTHER);

        // The pupil reads it, asks (escaped on the page), and sees the answer.
        let pupil = Browser::new(&app);
        pupil.activate("st1").await;
        let (_, list) = pupil.get("/lessons").await;
        assert!(list.contains("圆的面积") && list.contains(&here), "{list}");
        let (status, page) = pupil.get(&here).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("<h2>公式</h2>") && page.contains("向老师提问") && !page.contains("/publish"), "{page}");
        let asked = pupil.submit(&here, &format!("{here}/questions"), &[("class", "k1"), ("body", "<script>x</script>r 是什么？")]).await;
        assert_eq!(asked.status(), StatusCode::SEE_OTHER);
        let (_, page) = teacher.get(&here).await;
        assert!(page.contains("&#60;script&#62;x&#60;/script&#62;r 是什么？") || page.contains("&lt;script&gt;x&lt;/script&gt;r 是什么？"), "{page}");
        assert!(!page.contains("<script>x"));
        let qid = page.split(r#"id="q-"#).nth(1).unwrap().split('"').next().unwrap().to_owned();
        let answered = teacher.submit(&here, &format!("{here}/questions/{qid}/answers"), &[("body", "r 是半径。")]).await;
        assert_eq!(answered.status(), StatusCode::SEE_OTHER);
        let (_, page) = pupil.get(&here).await;
        assert!(page.contains("r 是半径。"), "{page}");

        // The pupil does not edit, see the history or write; another class sees nothing.
        for path in [format!("{here}/edit"), format!("{here}/history"), "/lessons/new".to_owned()] {
            assert_eq!(pupil.get(&path).await.0, StatusCode::FORBIDDEN, "{path}");
        }
        let stranger = Browser::new(&app);
        stranger.activate("p9").await;
        assert_eq!(stranger.get(&here).await.0, StatusCode::NOT_FOUND);

        // Editing through the form keeps the history.
        let saved = teacher.submit(&format!("{here}/edit"), &format!("{here}/edit"), &[("title", "圆的面积公式"), ("body", "S = πr²")]).await;
        assert_eq!(saved.status(), StatusCode::SEE_OTHER);
        let (status, history) = teacher.get(&format!("{here}/history")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(history.contains("第 2 版") && history.contains("第 1 版") && history.contains("## 公式"), "{history}");

        // A colleague copies it with the button.
        let colleague = Browser::new(&app);
        colleague.activate("t3").await;
        let (_, page) = colleague.get(&here).await;
        assert!(page.contains(&format!(r#"action="{here}/copy""#)), "{page}");
        let copied = colleague.submit(&here, &format!("{here}/copy"), &[]).await;
        assert_eq!(copied.status(), StatusCode::SEE_OTHER);
        assert!(location(&copied).ends_with("?done=copied") && !location(&copied).starts_with(&here));
        let english = teacher.client.get(app.url("/lessons")).header("accept-language", "en").send().await.unwrap();
        assert!(english.text().await.unwrap().contains("Lessons I wrote"));
        let signed_out = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let response = signed_out.get(app.url(&here)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "signed out: to the sign-in page");
        assert!(location(&response).starts_with("/login?next="));
    }
}
