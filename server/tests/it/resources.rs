//! Teaching resources: intake with review, the lifecycle, files through the object store,
//! Chinese search trimmed to what the searcher may see, reindexing and two-node freshness —
//! on SQLite and PostgreSQL.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};

use crate::fixtures::Package;
use crate::messaging::{call, get, post, token};
use crate::on_both_databases;
use crate::support::{Server, TestApp};
use kongjian::resources::entity::{blob, outbox, resource, version};

/// s1 with class k1 (teacher t1, pupils st1–st2) and k2 (teacher t3, pupil st9); s2 with
/// teacher t2 and pupil st20; administrators da (district), sa1 (s1), sa2 (s2).
async fn district(app: &TestApp) {
    let package = Package::new(&[1, 2]).with_admins().with_second_class();
    package.append("users.csv", "st20,,,true,st20,,二十,陈,,,,,,,08,,,,,,s2,\n");
    package.append("roles.csv", "r-st20,,,st20,primary,student,,,s2,\n");
    crate::fixtures::import(&app.state.db, &package, false).await;
}

fn lesson(title: &str, text: &str, scope: &str) -> Value {
    json!({
        "title": title,
        "description": "八年级数学课件",
        "subject": "数学",
        "grade": "08",
        "type": "课件",
        "edition": "人教版",
        "chapter": "第二十二章 二次函数",
        "keywords": ["二次函数", "图像"],
        "scope": scope,
        "text": text,
    })
}

/// Wait until `node`'s index has taken in every change written so far.
pub async fn indexed(node: &impl Server) {
    let top = outbox::Entity::find()
        .all(&node.state().db)
        .await
        .unwrap()
        .iter()
        .map(|r| r.seq)
        .max()
        .unwrap_or(0);
    tokio::time::timeout(Duration::from_secs(5), node.state().search.reached(top))
        .await
        .expect("the index caught up within 5 s");
}

async fn search(node: &impl Server, token: &str, query: &str) -> Value {
    let (status, body) = get(node, token, &format!("/api/v1/search?{query}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn ids(found: &Value) -> Vec<String> {
    found["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn create(app: &impl Server, token: &str, body: Value) -> String {
    let (status, created) = post(app, token, "/api/v1/resources", body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["id"].as_str().unwrap().to_owned()
}

async fn submit(app: &impl Server, token: &str, id: &str) -> Value {
    let (status, body) = post(
        app,
        token,
        &format!("/api/v1/resources/{id}/submit"),
        json!({"pledge": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn approve() -> Value {
    json!({"decision": "approve", "political": "pass", "scientific": "pass", "safety": "pass", "comment": "内容准确"})
}

async fn publish(app: &impl Server, author: &str, reviewer: &str, body: Value) -> String {
    let id = create(app, author, body).await;
    submit(app, author, &id).await;
    let (status, reviewed) = post(
        app,
        reviewer,
        &format!("/api/v1/resources/{id}/review"),
        approve(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reviewed}");
    id
}

on_both_databases! {
    async fn a_resource_is_reviewed_by_its_school_then_found_only_by_its_people(app) {
        district(&app).await;
        let (t1, st1, t2, sa1, sa2) = (token(&app, "t1").await, token(&app, "st1").await,
            token(&app, "t2").await, token(&app, "sa1").await, token(&app, "sa2").await);
        let id = create(&app, &t1, lesson("二次函数的图像与性质", "本节研究二次函数 y=ax² 的图像。", "school")).await;

        // A draft is its author's alone.
        indexed(&app).await;
        assert_eq!(ids(&search(&app, &t1, "q=函数").await), vec![id.clone()]);
        assert_eq!(search(&app, &st1, "q=函数").await["total"], 0);
        let (status, _) = get(&app, &st1, &format!("/api/v1/resources/{id}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // The pledge is required; then the machine check runs and the version waits.
        let (status, body) = post(&app, &t1, &format!("/api/v1/resources/{id}/submit"), json!({})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["error"]["code"], "pledge_required", "{body}");
        let submitted = submit(&app, &t1, &id).await;
        assert_eq!(submitted["state"], "in_review");
        assert_eq!(submitted["checks"]["negative"], json!([]));

        // Another school's administrator cannot review it (nor learn of it); a teacher cannot.
        for other in [&sa2, &t2, &st1] {
            let (status, _) = post(&app, other, &format!("/api/v1/resources/{id}/review"), approve()).await;
            assert_eq!(status, StatusCode::NOT_FOUND);
        }
        let (_, queue) = get(&app, &sa1, "/api/v1/reviews").await;
        assert_eq!(queue["reviews"][0]["id"], id.as_str(), "{queue}");
        let (status, _) = get(&app, &sa2, "/api/v1/reviews").await;
        assert_eq!(status, StatusCode::OK);
        let (_, queue2) = get(&app, &sa2, "/api/v1/reviews").await;
        assert_eq!(queue2["reviews"], json!([]));

        // Approval needs every dimension to pass.
        let (status, body) = post(&app, &sa1, &format!("/api/v1/resources/{id}/review"),
            json!({"decision": "approve", "political": "pass", "scientific": "fail", "safety": "pass"})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let (status, body) = post(&app, &sa1, &format!("/api/v1/resources/{id}/review"), approve()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["state"], "published");

        // Published to the school: its pupils find it (with the compound found by its part),
        // another school's teacher finds nothing — not a hit, a total or a facet count.
        indexed(&app).await;
        let found = search(&app, &st1, "q=函数").await;
        assert_eq!(ids(&found), vec![id.clone()]);
        assert!(found["hits"][0]["snippet"].as_str().unwrap().contains("<mark>"), "{found}");
        assert_eq!(found["hits"][0]["subject"], "数学");
        assert_eq!(found["hits"][0]["grade"], "08");
        assert_eq!(found["hits"][0]["type"], "课件");
        assert_eq!(found["facets"]["subject"]["数学"], 1);
        let st20 = token(&app, "st20").await;
        for stranger in [&t2, &st20] {
            let outside = search(&app, stranger, "q=函数").await;
            assert_eq!(outside["total"], 0);
            assert_eq!(outside["hits"], json!([]));
            assert_eq!(outside["facets"]["subject"], json!({}));
            assert_eq!(outside["facets"]["grade"], json!({}));
            let (_, suggested) = get(&app, stranger, "/api/v1/search/suggest?q=二次").await;
            assert_eq!(suggested["suggestions"], json!([]));
        }
        let everything = search(&app, &t2, "q=").await;
        assert_eq!(everything["total"], 0, "{everything}");
        let (status, _) = get(&app, &t2, &format!("/api/v1/resources/{id}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        // The reader sees the published version, not the review workings.
        let (status, detail) = get(&app, &st1, &format!("/api/v1/resources/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(detail["published"]["title"], "二次函数的图像与性质");
        assert!(detail.get("reviews").is_none() && detail.get("working").is_none());
        let (_, own) = get(&app, &t1, &format!("/api/v1/resources/{id}")).await;
        let actions: Vec<&str> = own["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["created", "submitted", "machine_checked", "approved"]);
        assert_eq!(own["reviews"][0]["political"], "pass");
        assert_eq!(own["usage"]["views"], 1);
    }
}

on_both_databases! {
    async fn a_rejection_returns_with_comments_and_a_new_version_is_reviewed_while_the_old_stays(app) {
        district(&app).await;
        let (t1, st1, sa1) = (token(&app, "t1").await, token(&app, "st1").await, token(&app, "sa1").await);
        let id = create(&app, &t1, lesson("一元二次方程", "配方法解一元二次方程。", "school")).await;
        submit(&app, &t1, &id).await;
        let (status, body) = post(&app, &sa1, &format!("/api/v1/resources/{id}/review"),
            json!({"decision": "reject", "political": "pass", "scientific": "fail", "safety": "pass"})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a rejection needs a comment: {body}");
        let (status, _) = post(&app, &sa1, &format!("/api/v1/resources/{id}/review"),
            json!({"decision": "reject", "political": "pass", "scientific": "fail", "safety": "pass", "comment": "例题第二步有误"})).await;
        assert_eq!(status, StatusCode::OK);
        let (_, mine) = get(&app, &t1, "/api/v1/me/resources").await;
        assert_eq!(mine["resources"][0]["state"], "rejected");
        let (_, detail) = get(&app, &t1, &format!("/api/v1/resources/{id}")).await;
        assert_eq!(detail["reviews"][0]["comment"], "例题第二步有误");

        // Revised in place, resubmitted, approved.
        let (status, _) = call(&app, reqwest::Method::PATCH, &t1, &format!("/api/v1/resources/{id}"),
            Some(json!({"text": "配方法解一元二次方程（已更正）。"}))).await;
        assert_eq!(status, StatusCode::OK);
        submit(&app, &t1, &id).await;
        post(&app, &sa1, &format!("/api/v1/resources/{id}/review"), approve()).await;

        // A new version: the old one stays published and found until the new one is approved.
        let (status, edited) = call(&app, reqwest::Method::PATCH, &t1, &format!("/api/v1/resources/{id}"),
            Some(json!({"title": "一元二次方程的解法"}))).await;
        assert_eq!(status, StatusCode::OK, "{edited}");
        assert_eq!(edited["version"], 2);
        assert_eq!(edited["state"], "published");
        submit(&app, &t1, &id).await;
        indexed(&app).await;
        let (_, detail) = get(&app, &st1, &format!("/api/v1/resources/{id}")).await;
        assert_eq!(detail["published"]["title"], "一元二次方程");
        assert_eq!(search(&app, &st1, "q=解法").await["total"], 0);
        post(&app, &sa1, &format!("/api/v1/resources/{id}/review"), approve()).await;
        indexed(&app).await;
        assert_eq!(ids(&search(&app, &st1, "q=解法").await), vec![id.clone()]);
        let versions = version::Entity::find().all(&app.state.db).await.unwrap();
        let mut states: Vec<(i32, String)> = versions.iter().map(|v| (v.number, v.state.clone())).collect();
        states.sort();
        assert_eq!(states, vec![(1, "superseded".to_owned()), (2, "published".to_owned())]);

        // Retiring takes it out of the library, with the reason; nothing is deleted.
        let (status, _) = post(&app, &st1, &format!("/api/v1/resources/{id}/retire"), json!({"reason": "x"})).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        let (status, body) = post(&app, &t1, &format!("/api/v1/resources/{id}/retire"), json!({"reason": ""})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let (status, _) = post(&app, &t1, &format!("/api/v1/resources/{id}/retire"), json!({"reason": "教材改版"})).await;
        assert_eq!(status, StatusCode::OK);
        indexed(&app).await;
        assert_eq!(search(&app, &st1, "q=解法").await["total"], 0);
        let (status, _) = get(&app, &st1, &format!("/api/v1/resources/{id}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (_, own) = get(&app, &t1, &format!("/api/v1/resources/{id}")).await;
        assert_eq!(own["state"], "retired");
        let retired = own["events"].as_array().unwrap().iter().find(|e| e["action"] == "retired").unwrap();
        assert_eq!(retired["reason"], "教材改版");
        assert_eq!(version::Entity::find().count(&app.state.db).await.unwrap(), 2);
        let (status, body) = post(&app, &t1, &format!("/api/v1/resources/{id}/retire"), json!({"reason": "again"})).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert_eq!(body["error"]["code"], "invalid_state");
    }
}

on_both_databases! {
    async fn the_machine_check_shows_negative_words_in_context_to_the_reviewer(app) {
        district(&app).await;
        let (t1, sa1) = (token(&app, "t1").await, token(&app, "sa1").await);
        let id = create(&app, &t1, lesson("网络安全教育", "提醒学生远离网络赌博和校园贷。", "school")).await;
        let submitted = submit(&app, &t1, &id).await;
        let words: Vec<&str> = submitted["checks"]["negative"].as_array().unwrap().iter()
            .map(|m| m["word"].as_str().unwrap()).collect();
        assert_eq!(words, ["赌博", "校园贷"], "{submitted}");
        assert!(words.contains(&"校园贷"), "{submitted}");
        let context = submitted["checks"]["negative"][0]["context"].as_str().unwrap();
        assert!(context.contains("【") && context.contains("远离"), "{context}");
        let (_, queue) = get(&app, &sa1, "/api/v1/reviews").await;
        assert_eq!(queue["reviews"][0]["negative_matches"], words.len());
        let (_, detail) = get(&app, &sa1, &format!("/api/v1/resources/{id}")).await;
        assert_eq!(detail["working"]["checks"]["negative"].as_array().unwrap().len(), words.len());
    }
}

fn docx(text: &str) -> Vec<u8> {
    use std::io::Write;
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let options = zip::write::SimpleFileOptions::default();
    zip.start_file("[Content_Types].xml", options).unwrap();
    zip.write_all(br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#).unwrap();
    zip.start_file("word/document.xml", options).unwrap();
    write!(zip, r#"<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>"#).unwrap();
    zip.finish().unwrap();
    out.into_inner()
}

fn upload_form(name: &str, bytes: Vec<u8>, title: &str) -> Form {
    Form::new()
        .text("title", title.to_owned())
        .text("subject", "生物")
        .text("grade", "7")
        .text("type", "教案")
        .text("scope", "school")
        .text("keywords", "光合作用，叶绿体")
        .part("file", Part::bytes(bytes).file_name(name.to_owned()))
}

async fn upload(app: &impl Server, token: &str, form: Form) -> (StatusCode, Value) {
    let response = app
        .client()
        .post(app.url("/api/v1/resources"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn leftovers(app: &TestApp) -> usize {
    std::fs::read_dir(app.state.config.data_dir.join("tmp"))
        .map(|d| d.count())
        .unwrap_or(0)
}

on_both_databases! {
    async fn files_are_typed_by_content_stored_once_and_searchable_by_their_text(app) {
        district(&app).await;
        let (t1, t3, st1, sa1) = (token(&app, "t1").await, token(&app, "t3").await,
            token(&app, "st1").await, token(&app, "sa1").await);
        let bytes = docx("叶绿体是植物进行光合作用的场所。");
        let (status, created) = upload(&app, &t1, upload_form("光合作用.docx", bytes.clone(), "光合作用教案")).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let id = created["id"].as_str().unwrap().to_owned();
        let (_, detail) = get(&app, &t1, &format!("/api/v1/resources/{id}")).await;
        let content = &detail["working"]["content"];
        assert_eq!(content["content_type"], "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
        assert_eq!(content["searchable_text"], true);
        assert_eq!(detail["working"]["grade"], "07");
        assert_eq!(detail["working"]["stage"], "初中");

        // The same content again: one stored object, and the check tells the reviewer.
        let (status, second) = upload(&app, &t3, upload_form("copy.docx", bytes.clone(), "光合作用（副本）")).await;
        assert_eq!(status, StatusCode::CREATED, "{second}");
        assert_eq!(blob::Entity::find().count(&app.state.db).await.unwrap(), 1);
        let second = second["id"].as_str().unwrap().to_owned();
        let checked = submit(&app, &t3, &second).await;
        assert_eq!(checked["checks"]["duplicates"][0]["id"], id.as_str(), "{checked}");

        submit(&app, &t1, &id).await;
        post(&app, &sa1, &format!("/api/v1/resources/{id}/review"), approve()).await;
        indexed(&app).await;
        // Found by a word of the file's text, not only its metadata.
        let found = search(&app, &st1, "q=叶绿体 场所").await;
        assert_eq!(ids(&found), vec![id.clone()], "{found}");
        let response = app.client().get(app.url(&format!("/api/v1/resources/{id}/file"))).bearer_auth(&st1).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers()["content-disposition"].to_str().unwrap().contains("filename*=UTF-8''"));
        assert_eq!(response.bytes().await.unwrap().to_vec(), bytes);
        let (_, detail) = get(&app, &t1, &format!("/api/v1/resources/{id}")).await;
        assert_eq!(detail["usage"]["downloads"], 1);

        // A program dressed as a PDF, an empty file: refused, nothing kept anywhere.
        let resources_before = resource::Entity::find().count(&app.state.db).await.unwrap();
        let mut exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00".to_vec();
        exe.extend(std::iter::repeat_n(0u8, 4096));
        let (status, body) = upload(&app, &t1, upload_form("教案.pdf", exe, "伪装文件")).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
        assert_eq!(body["error"]["code"], "file_type_refused");
        assert!(body["error"]["message"].as_str().unwrap().contains("教案.pdf"), "{body}");
        let (status, body) = upload(&app, &t1, upload_form("空.txt", Vec::new(), "空文件")).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        // Bad metadata after a good file: the file is not stored either.
        let form = upload_form("new.txt", "新内容 光合作用".as_bytes().to_vec(), "").text("x", "1");
        let (status, body) = upload(&app, &t1, form).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(resource::Entity::find().count(&app.state.db).await.unwrap(), resources_before);
        assert_eq!(blob::Entity::find().count(&app.state.db).await.unwrap(), 1);
        assert_eq!(leftovers(&app), 0, "temporary files are removed");
    }
}

async fn oversized_upload(backend: crate::support::Backend) {
    let app = TestApp::spawn_with(backend, |config| config.resource_max_size = 64 * 1024).await;
    district(&app).await;
    let t1 = token(&app, "t1").await;
    let big = "光合作用".repeat(10_000).into_bytes();
    let (status, body) = upload(&app, &t1, upload_form("big.txt", big, "大文件")).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["error"]["code"], "file_too_large");
    assert_eq!(
        resource::Entity::find().count(&app.state.db).await.unwrap(),
        0
    );
    assert_eq!(blob::Entity::find().count(&app.state.db).await.unwrap(), 0);
    assert_eq!(leftovers(&app), 0);
}

mod an_oversized_upload_is_refused_with_the_limit {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::oversized_upload(crate::support::Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::oversized_upload(crate::support::Backend::Postgres).await;
    }
}

on_both_databases! {
    async fn bad_input_is_named_and_changes_nothing(app) {
        district(&app).await;
        let (t1, st1) = (token(&app, "t1").await, token(&app, "st1").await);
        let cases = [
            (json!({"title": "", "subject": "数学", "grade": "08", "type": "课件", "text": "x"}), "title"),
            (json!({"title": "t", "subject": "算术", "grade": "08", "type": "课件", "text": "x"}), "subject"),
            (json!({"title": "t", "subject": "数学", "grade": "13", "type": "课件", "text": "x"}), "grade"),
            (json!({"title": "t", "subject": "数学", "grade": "08", "type": "视频", "text": "x"}), "type"),
            (json!({"title": "t", "subject": "数学", "grade": "08", "stage": "小学", "type": "课件", "text": "x"}), "stage"),
            (json!({"title": "t", "subject": "数学", "grade": "08", "type": "课件", "scope": "class:k2", "text": "x"}), "scope"),
            (json!({"title": "t", "subject": "数学", "grade": "08", "type": "课件", "scope": "world", "text": "x"}), "scope"),
            (json!({"title": "t", "subject": "数学", "grade": "08", "type": "课件", "url": "javascript:alert(1)"}), "url"),
            (json!({"title": "t", "subject": "数学", "grade": "08", "type": "课件", "text": "x", "url": "https://a.cn"}), "file / text / url"),
            (json!({"title": "t", "subject": "数学", "grade": "08", "type": "课件"}), "file / text / url"),
        ];
        for (body, field) in cases {
            let (status, answer) = post(&app, &t1, "/api/v1/resources", body.clone()).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body} → {answer}");
            assert_eq!(answer["error"]["code"], "invalid_field", "{answer}");
            assert!(answer["error"]["message"].as_str().unwrap().contains(field), "{field}: {answer}");
        }
        let (status, _) = post(&app, &st1, "/api/v1/resources", lesson("t", "x", "school")).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "pupils do not author library resources");
        assert_eq!(resource::Entity::find().count(&app.state.db).await.unwrap(), 0);

        for long in ["x".repeat(10_000), "函".repeat(3_000)] {
            let (status, answer) = get(&app, &t1, &format!("/api/v1/search?q={long}")).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
            assert!(answer["error"]["message"].as_str().unwrap().contains("q "), "{answer}");
        }
        for garbage in ["((((", "AND OR", "title:", "%22", "*:*", "[1%20TO", "%5E%5E", "NOT", "a~~~", "\\"] {
            let found = search(&app, &t1, &format!("q={garbage}")).await;
            assert!(found["hits"].is_array(), "{garbage}: {found}");
        }
        for (query, field) in [("subject=算术", "subject"), ("grade=99", "grade"), ("sort=best", "sort"), ("cursor=abc", "cursor")] {
            let (status, answer) = get(&app, &t1, &format!("/api/v1/search?q=a&{query}")).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
            assert!(answer["error"]["message"].as_str().unwrap().contains(field), "{answer}");
        }
    }
}

on_both_databases! {
    async fn facets_filters_sorting_paging_and_suggestions(app) {
        district(&app).await;
        let (t1, st1, sa1) = (token(&app, "t1").await, token(&app, "st1").await, token(&app, "sa1").await);
        let mut all = Vec::new();
        for (i, (subject, grade)) in [("数学", "08"), ("数学", "09"), ("物理", "08")].iter().enumerate() {
            let mut body = lesson(&format!("函数专题{i}"), "函数与图像的练习", "school");
            body["subject"] = json!(subject);
            body["grade"] = json!(grade);
            all.push(publish(&app, &t1, &sa1, body).await);
        }
        indexed(&app).await;
        let found = search(&app, &st1, "q=函数").await;
        assert_eq!(found["total"], 3);
        assert_eq!(found["facets"]["subject"], json!({"数学": 2, "物理": 1}));
        assert_eq!(found["facets"]["grade"], json!({"08": 2, "09": 1}));
        assert_eq!(found["facets"]["type"], json!({"课件": 3}));
        assert_eq!(found["facets"]["edition"], json!({"人教版": 3}));
        assert_eq!(search(&app, &st1, "q=函数&subject=数学&grade=08").await["total"], 1);
        assert_eq!(search(&app, &st1, "q=函数&type=课件").await["total"], 3);

        // Used in a lesson twice → first by use.
        for _ in 0..2 {
            let (status, _) = post(&app, &t1, &format!("/api/v1/resources/{}/usage", all[1]), json!({"action": "lesson"})).await;
            assert_eq!(status, StatusCode::NO_CONTENT);
        }
        indexed(&app).await;
        assert_eq!(ids(&search(&app, &st1, "q=函数&sort=used").await)[0], all[1]);
        assert_eq!(ids(&search(&app, &st1, "q=函数&sort=newest").await)[0], all[2]);

        // Cursor paging walks every hit once.
        let first = search(&app, &st1, "q=函数&limit=2").await;
        let cursor = first["next_cursor"].as_str().unwrap().to_owned();
        let second = search(&app, &st1, &format!("q=函数&limit=2&cursor={cursor}")).await;
        assert_eq!(second["next_cursor"], Value::Null);
        let mut seen = ids(&first);
        seen.extend(ids(&second));
        seen.sort();
        let mut expected = all.clone();
        expected.sort();
        assert_eq!(seen, expected);

        let (_, suggestions) = get(&app, &st1, "/api/v1/search/suggest?q=函数专").await;
        let titles: Vec<&str> = suggestions["suggestions"].as_array().unwrap().iter().map(|s| s["title"].as_str().unwrap()).collect();
        assert_eq!(titles.len(), 3, "{suggestions}");
        assert!(titles.iter().all(|t| t.starts_with("函数专题")));
        let t2 = token(&app, "t2").await;
        let (_, none) = get(&app, &t2, "/api/v1/search/suggest?q=函数专").await;
        assert_eq!(none["suggestions"], json!([]));
    }
}

on_both_databases! {
    async fn class_scope_and_follows_are_chosen_not_pushed(app) {
        district(&app).await;
        let (t1, st1, st9, sa1) = (token(&app, "t1").await, token(&app, "st1").await,
            token(&app, "st9").await, token(&app, "sa1").await);
        let id = publish(&app, &t1, &sa1, lesson("三年级1班的练习", "函数练习题", "class:k1")).await;
        indexed(&app).await;
        assert_eq!(ids(&search(&app, &st1, "q=练习").await), vec![id.clone()]);
        assert_eq!(search(&app, &st9, "q=练习").await["total"], 0, "k2's pupil is not in k1");

        let (_, before) = get(&app, &st1, "/api/v1/me/follows").await;
        assert_eq!(before["resources"], json!([]), "nothing arrives unasked");
        let (status, followed) = post(&app, &st1, "/api/v1/me/follows", json!({"kind": "teacher", "target": "t1"})).await;
        assert_eq!(status, StatusCode::CREATED, "{followed}");
        assert_eq!(followed["label"], "王老师");
        let (_, feed) = get(&app, &st1, "/api/v1/me/follows").await;
        assert_eq!(feed["resources"][0]["id"], id.as_str(), "{feed}");
        post(&app, &st9, "/api/v1/me/follows", json!({"kind": "subject", "target": "数学"})).await;
        let (_, feed9) = get(&app, &st9, "/api/v1/me/follows").await;
        assert_eq!(feed9["resources"], json!([]), "following never widens what one may see");
        let (status, _) = post(&app, &st9, "/api/v1/me/follows", json!({"kind": "subject", "target": "算术"})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        let (status, _) = call(&app, reqwest::Method::DELETE, &st1, "/api/v1/me/follows/teacher/t1", None).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        let (_, after) = get(&app, &st1, "/api/v1/me/follows").await;
        assert_eq!(after["follows"], json!([]));
    }
}

on_both_databases! {
    async fn a_rebuilt_index_answers_exactly_as_the_incremental_one(app) {
        district(&app).await;
        let (t1, t2, sa1) = (token(&app, "t1").await, token(&app, "t2").await, token(&app, "sa1").await);
        publish(&app, &t1, &sa1, lesson("函数一", "函数", "school")).await;
        let retired = publish(&app, &t1, &sa1, lesson("函数二", "函数", "school")).await;
        post(&app, &t1, &format!("/api/v1/resources/{retired}/retire"), json!({"reason": "过时"})).await;
        let da = token(&app, "da").await;
        let pending = publish(&app, &t1, &da, lesson("函数三", "函数", "district")).await;
        call(&app, reqwest::Method::PATCH, &t1, &format!("/api/v1/resources/{pending}"), Some(json!({"title": "函数三（修订）"}))).await;
        create(&app, &t1, lesson("函数四草稿", "函数", "private")).await;
        create(&app, &t2, lesson("函数五", "函数", "school")).await;
        indexed(&app).await;
        let everyone = ["t1", "t2", "st1", "st9", "da"];
        let mut before = Vec::new();
        for who in everyone {
            before.push(search(&app, &token(&app, who).await, "q=函数&limit=50").await);
        }
        let rebuilt = app.state.search.rebuild(&app.state.db, |_, _| {}).await.unwrap();
        assert_eq!(rebuilt, 5);
        for (who, earlier) in everyone.iter().zip(before) {
            let now = search(&app, &token(&app, who).await, "q=函数&limit=50").await;
            let mut a = ids(&earlier);
            let mut b = ids(&now);
            a.sort();
            b.sort();
            assert_eq!(a, b, "{who}");
            assert_eq!(earlier["facets"], now["facets"], "{who}");
        }
        assert_eq!(search(&app, &t1, "q=函数").await["total"], 4, "its own four, in any state");
        assert_eq!(search(&app, &t2, "q=函数").await["total"], 2, "its own draft and the district-wide one");
        assert_eq!(search(&app, &token(&app, "da").await, "q=函数").await["total"], 1, "the district resource");
    }
}

on_both_databases! {
    async fn a_resource_published_through_one_node_is_found_through_the_other(app) {
        district(&app).await;
        let node = app.second_node().await;
        let (t1, sa1) = (token(&app, "t1").await, token(&app, "sa1").await);
        let st1 = token(&node, "st1").await;
        let id = publish(&app, &t1, &sa1, lesson("勾股定理的证明", "勾股定理", "school")).await;
        let started = std::time::Instant::now();
        loop {
            if ids(&search(&node, &st1, "q=勾股定理").await) == vec![id.clone()] {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(1), "found through node B within 1 s");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

on_both_databases! {
    async fn a_granted_reviewer_reviews_for_the_school_that_granted_it_and_no_other(app) {
        district(&app).await;
        let (t1, t2, t3, sa1, sa2) = (token(&app, "t1").await, token(&app, "t2").await,
            token(&app, "t3").await, token(&app, "sa1").await, token(&app, "sa2").await);
        let (status, body) = post(&app, &sa1, "/api/v1/people/t3/roles", json!({"role": "reviewer", "org": "s1"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = post(&app, &sa2, "/api/v1/people/t2/roles", json!({"role": "reviewer", "org": "s2"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let id = create(&app, &t1, lesson("圆的面积", "圆的面积公式", "school")).await;
        submit(&app, &t1, &id).await;
        let (_, queue) = get(&app, &t2, "/api/v1/reviews").await;
        assert_eq!(queue["reviews"], json!([]), "s2's reviewer does not see s1's queue");
        let (status, _) = post(&app, &t2, &format!("/api/v1/resources/{id}/review"), approve()).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (_, queue) = get(&app, &t3, "/api/v1/reviews").await;
        assert_eq!(queue["reviews"][0]["id"], id.as_str());
        let (status, body) = post(&app, &t3, &format!("/api/v1/resources/{id}/review"), approve()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (_, detail) = get(&app, &t1, &format!("/api/v1/resources/{id}")).await;
        assert_eq!(detail["reviews"][0]["reviewer"], "吴老师");
    }
}

on_both_databases! {
    async fn a_new_file_version_is_reviewed_while_readers_keep_the_published_file(app) {
        district(&app).await;
        let (t1, st1, sa1) = (token(&app, "t1").await, token(&app, "st1").await, token(&app, "sa1").await);
        let (status, created) = upload(&app, &t1, upload_form("v1.txt", "第一版 光合作用".as_bytes().to_vec(), "光合作用讲义")).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let id = created["id"].as_str().unwrap().to_owned();
        submit(&app, &t1, &id).await;
        post(&app, &sa1, &format!("/api/v1/resources/{id}/review"), approve()).await;

        let form = Form::new().part("file", Part::bytes("第二版 光合作用与呼吸作用".as_bytes().to_vec()).file_name("v2.txt"));
        let response = app.client().post(app.url(&format!("/api/v1/resources/{id}/versions")))
            .bearer_auth(&t1).multipart(form).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["version"], 2);
        assert_eq!(body["version_state"], "draft");

        let file = |token: String, query: &'static str| {
            let request = app.client().get(app.url(&format!("/api/v1/resources/{id}/file{query}"))).bearer_auth(token);
            async move {
                let response = request.send().await.unwrap();
                (response.status(), response.text().await.unwrap())
            }
        };
        assert_eq!(file(st1.clone(), "").await, (StatusCode::OK, "第一版 光合作用".to_owned()));
        assert_eq!(file(st1.clone(), "?version=2").await.0, StatusCode::NOT_FOUND, "readers never see a draft");
        assert_eq!(file(t1.clone(), "?version=2").await, (StatusCode::OK, "第二版 光合作用与呼吸作用".to_owned()));
        assert_eq!(file(sa1.clone(), "?version=1").await, (StatusCode::OK, "第一版 光合作用".to_owned()));

        submit(&app, &t1, &id).await;
        post(&app, &sa1, &format!("/api/v1/resources/{id}/review"), approve()).await;
        assert_eq!(file(st1.clone(), "").await, (StatusCode::OK, "第二版 光合作用与呼吸作用".to_owned()));
        indexed(&app).await;
        assert_eq!(ids(&search(&app, &st1, "q=呼吸作用").await), vec![id.clone()]);
        // Editing while in review is refused, with the state named.
        call(&app, reqwest::Method::PATCH, &t1, &format!("/api/v1/resources/{id}"), Some(json!({"title": "三"}))).await;
        submit(&app, &t1, &id).await;
        let (status, body) = call(&app, reqwest::Method::PATCH, &t1, &format!("/api/v1/resources/{id}"), Some(json!({"title": "四"}))).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert!(body["error"]["message"].as_str().unwrap().contains("待审核"), "{body}");
        let (status, _) = post(&app, &t1, &format!("/api/v1/resources/{id}/withdraw"), json!({})).await;
        assert_eq!(status, StatusCode::OK);
        let (status, _) = call(&app, reqwest::Method::PATCH, &t1, &format!("/api/v1/resources/{id}"), Some(json!({"title": "四"}))).await;
        assert_eq!(status, StatusCode::OK);
    }
}
