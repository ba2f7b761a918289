//! Growth records: who adds what (selected work copied from a hand-in with its files,
//! comments, awards, activities taken part in), who reads it (parents read only), removing
//! one's own entry, the self-contained export archive, and a pupil retired by the roster whose
//! record is kept and still exported — on SQLite and PostgreSQL.

use std::io::Read;

use object_store::ObjectStoreExt;
use object_store::path::Path as ObjectPath;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::activities::{answer, create, shanghai, spring_outing};
use crate::fixtures::Package;
use crate::messaging::{district, get, post, token};
use crate::on_both_databases;
use crate::support::TestApp;
use kongjian::assignments::entity::{assignment, submission, submission_file};
use kongjian::growth::entity::{entry, file};

/// A JPEG's first bytes, and some more.
const PHOTO: &[u8] = b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01photo of the model volcano";
const ESSAY: &[u8] = b"%PDF-1.4\n% my essay about autumn\n";

/// A hand-in of `student` to an assignment of `class`, stored as the assignments feature
/// stores one (rows and objects); its id.
pub async fn hand_in(
    app: &TestApp,
    student: &str,
    class: &str,
    title: &str,
    text: &str,
    files: &[(&str, &[u8])],
) -> String {
    let db = &app.state.db;
    let now = app.state.clock.now();
    let pupil = kongjian::people::store::find_by_sourced_id(db, student)
        .await
        .unwrap()
        .unwrap();
    let class = kongjian::people::relations::class_by_sourced_id(db, class)
        .await
        .unwrap()
        .unwrap();
    let teacher = kongjian::people::store::find_by_sourced_id(db, "t1")
        .await
        .unwrap()
        .unwrap();
    let a = assignment::Model {
        id: uuid::Uuid::now_v7().to_string(),
        class_id: class.id,
        lesson_id: None,
        owner_id: teacher.id,
        title: title.to_owned(),
        instructions: "写一篇作文".to_owned(),
        instructions_html: "<p>写一篇作文</p>".to_owned(),
        due_at: now,
        accept_late: true,
        scale: "comments".to_owned(),
        max_points: None,
        created_at: now,
        updated_at: now,
        withdrawn_at: None,
    };
    assignment::Entity::insert(assignment::ActiveModel::from(a.clone()))
        .exec_without_returning(db)
        .await
        .unwrap();
    let s = submission::Model {
        id: uuid::Uuid::now_v7().to_string(),
        assignment_id: a.id,
        student_id: pupil.id,
        attempt: 1,
        text: text.to_owned(),
        submitted_at: now,
        late: false,
        superseded_at: None,
        state: "handed_in".to_owned(),
        returned_at: None,
    };
    submission::Entity::insert(submission::ActiveModel::from(s.clone()))
        .exec_without_returning(db)
        .await
        .unwrap();
    for (name, bytes) in files {
        let key = format!("submissions/{}/{}", s.id, uuid::Uuid::now_v7());
        app.state
            .objects
            .put(&ObjectPath::from(key.as_str()), bytes.to_vec().into())
            .await
            .unwrap();
        submission_file::Entity::insert(submission_file::ActiveModel::from(
            submission_file::Model {
                id: uuid::Uuid::now_v7().to_string(),
                submission_id: s.id.clone(),
                object_key: key,
                file_name: (*name).to_owned(),
                content_type: if name.ends_with(".pdf") {
                    "application/pdf"
                } else {
                    "image/jpeg"
                }
                .to_owned(),
                size: bytes.len() as i64,
                created_at: now,
            },
        ))
        .exec_without_returning(db)
        .await
        .unwrap();
    }
    s.id
}

async fn add(app: &TestApp, who: &str, student: &str, body: Value) -> (StatusCode, Value) {
    post(
        app,
        &token(app, who).await,
        &format!("/api/v1/students/{student}/growth"),
        body,
    )
    .await
}

async fn added(app: &TestApp, who: &str, student: &str, body: Value) -> String {
    let (status, made) = add(app, who, student, body).await;
    assert_eq!(status, StatusCode::CREATED, "{who}: {made}");
    made["id"].as_str().unwrap().to_owned()
}

fn titles(timeline: &Value) -> Vec<String> {
    timeline["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["title"].as_str().unwrap().to_owned())
        .collect()
}

on_both_databases! {
    async fn entries_are_added_by_those_allowed_and_read_by_the_family(app) {
        district(&app).await;
        app.state.clock.set(shanghai(0, 10, 0));
        added(&app, "t1", "st1", json!({"kind": "comment", "title": "期中评语", "body": "上课**认真**，乐于助人。", "occurred_at": "2026-11-20 16:00"})).await;
        added(&app, "sa1", "st1", json!({"kind": "award", "title": "校级三好学生", "body": ""})).await;
        app.state.clock.advance(chrono::TimeDelta::minutes(5));

        // Parents and the pupil read; they do not write comments. Others do not see it.
        for who in ["p1", "st1"] {
            let (status, refused) = add(&app, who, "st1", json!({"kind": "comment", "title": "自评", "body": "很好"})).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{who}: {refused}");
        }
        for who in ["t3", "p2", "st2", "sa2", "t2"] {
            assert_eq!(add(&app, who, "st1", json!({"kind": "award", "title": "x"})).await.0, StatusCode::NOT_FOUND, "{who}");
            assert_eq!(get(&app, &token(&app, who).await, "/api/v1/students/st1/growth").await.0, StatusCode::NOT_FOUND, "{who}");
        }
        assert_eq!(get(&app, &token(&app, "t1").await, "/api/v1/students/t3/growth").await.0, StatusCode::NOT_FOUND, "a teacher has no growth record");
        let (status, body) = add(&app, "t1", "st1", json!({"kind": "diary", "title": "x"})).await;
        assert!(status == StatusCode::UNPROCESSABLE_ENTITY && body["error"]["message"].as_str().unwrap().contains("kind"), "{body}");
        let (status, body) = add(&app, "t1", "st1", json!({"kind": "comment", "title": "x", "body": "a\n<script>x</script>"})).await;
        assert!(status == StatusCode::UNPROCESSABLE_ENTITY && body["error"]["message"].as_str().unwrap().contains("body"), "{body}");
        let (status, body) = add(&app, "t1", "st1", json!({"kind": "award", "title": ""})).await;
        assert!(status == StatusCode::UNPROCESSABLE_ENTITY && body["error"]["message"].as_str().unwrap().contains("title"), "{body}");

        // Selected work: the pupil picks their own hand-in; text and files are copied.
        let essay = hand_in(&app, "st1", "k1", "秋天的作文", "秋天到了，树叶黄了。", &[("作文.pdf", ESSAY), ("火山.jpg", PHOTO)]).await;
        let work = added(&app, "st1", "st1", json!({"kind": "work", "submission": essay, "body": "我最喜欢的一篇"})).await;
        let (status, again) = add(&app, "t1", "st1", json!({"kind": "work", "submission": essay})).await;
        assert!(status == StatusCode::UNPROCESSABLE_ENTITY && again["error"]["message"].as_str().unwrap().contains("submission"), "{again}");
        let classmates = hand_in(&app, "st2", "k1", "秋天的作文", "别人的作文", &[]).await;
        let (status, _) = add(&app, "st1", "st1", json!({"kind": "work", "submission": classmates})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "another pupil's hand-in");
        assert_eq!(add(&app, "p2", "st2", json!({"kind": "work", "submission": classmates})).await.0, StatusCode::FORBIDDEN);
        added(&app, "t1", "st2", json!({"kind": "work", "submission": classmates, "title": "优秀作文"})).await;
        let other_class = hand_in(&app, "st9", "k2", "画", "", &[]).await;
        assert_eq!(add(&app, "t1", "st9", json!({"kind": "work", "submission": other_class})).await.0, StatusCode::NOT_FOUND);
        added(&app, "t3", "st9", json!({"kind": "work", "submission": other_class})).await;

        // An activity: the pupil whose family said yes; the organiser for a pupil it was for.
        let outing = create(&app, "t1", spring_outing()).await;
        answer(&app, "p1", &outing, "st1", true, "").await;
        added(&app, "st1", "st1", json!({"kind": "activity", "activity": outing})).await;
        let (status, body) = add(&app, "st2", "st2", json!({"kind": "activity", "activity": outing})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "st2's family did not say yes: {body}");
        added(&app, "t1", "st2", json!({"kind": "activity", "activity": outing, "body": "负责拍照"})).await;
        assert_eq!(add(&app, "p1", "st1", json!({"kind": "activity", "activity": outing})).await.0, StatusCode::FORBIDDEN);

        // The family reads the timeline, newest first, with authors and files.
        let (status, timeline) = get(&app, &token(&app, "p1").await, "/api/v1/students/st1/growth").await;
        assert_eq!(status, StatusCode::OK, "{timeline}");
        assert_eq!(titles(&timeline), ["春游：西湖", "秋天的作文", "校级三好学生", "期中评语"]);
        assert_eq!(timeline["may"]["add"], json!([]), "parents read only");
        assert_eq!(timeline["may"]["export"], true);
        let work_entry = timeline["entries"].as_array().unwrap().iter().find(|e| e["id"] == work.as_str()).unwrap();
        assert_eq!(work_entry["kind"], "work");
        assert_eq!(work_entry["author"]["sourced_id"], "st1");
        assert!(work_entry["body"].as_str().unwrap().contains("我最喜欢的一篇") && work_entry["body"].as_str().unwrap().contains("树叶黄了"));
        let names: Vec<&str> = work_entry["files"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["作文.pdf", "火山.jpg"]);
        let url = work_entry["files"][1]["url"].as_str().unwrap();
        let photo = app.client.get(app.url(url)).bearer_auth(token(&app, "p1").await).send().await.unwrap();
        assert_eq!(photo.status(), StatusCode::OK);
        assert_eq!(photo.bytes().await.unwrap().as_ref(), PHOTO);
        assert_eq!(app.client.get(app.url(url)).bearer_auth(token(&app, "p2").await).send().await.unwrap().status(), StatusCode::NOT_FOUND);
        let comment = &timeline["entries"][3];
        assert!(comment["body_html"].as_str().unwrap().contains("<strong>认真</strong>"));
        assert_eq!(comment["author"]["sourced_id"], "t1");
        let (_, as_teacher) = get(&app, &token(&app, "t1").await, "/api/v1/students/st1/growth").await;
        assert_eq!(as_teacher["may"], json!({"add": ["work", "comment", "award", "activity"], "export": false}));

        // Only its author removes an entry: hidden, kept.
        let award = timeline["entries"][2]["id"].as_str().unwrap().to_owned();
        let remove = format!("/api/v1/growth/{award}/remove");
        assert_eq!(post(&app, &token(&app, "t1").await, &remove, json!({})).await.0, StatusCode::FORBIDDEN);
        assert_eq!(post(&app, &token(&app, "t3").await, &remove, json!({})).await.0, StatusCode::NOT_FOUND);
        assert_eq!(post(&app, &token(&app, "sa1").await, &remove, json!({})).await.0, StatusCode::OK);
        assert_eq!(post(&app, &token(&app, "sa1").await, &remove, json!({})).await.0, StatusCode::NOT_FOUND);
        let (_, after) = get(&app, &token(&app, "st1").await, "/api/v1/students/st1/growth").await;
        assert_eq!(titles(&after), ["春游：西湖", "秋天的作文", "期中评语"]);
        let kept = entry::Entity::find_by_id(award).one(&app.state.db).await.unwrap().unwrap();
        assert!(kept.removed_at.is_some());

        // The spaces' read: the same timeline in three queries.
        let st1 = kongjian::people::store::find_by_sourced_id(&app.state.db, "st1").await.unwrap().unwrap();
        let read = kongjian::growth::service::timeline(&app.state.db, &st1.id, 2).await.unwrap();
        assert_eq!(read.iter().map(|e| e.title.as_str()).collect::<Vec<_>>(), ["春游：西湖", "秋天的作文"]);
        assert_eq!(read[1].files.len(), 2);
    }
}

/// The archive's entries by name.
fn unzip(bytes: &[u8]) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut out = std::collections::BTreeMap::new();
    for i in 0..archive.len() {
        let mut f = archive.by_index(i).unwrap();
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap();
        out.insert(f.name().to_owned(), data);
    }
    out
}

async fn export(app: &TestApp, who: &str, student: &str) -> reqwest::Response {
    app.client
        .get(app.url(&format!("/api/v1/students/{student}/growth/export")))
        .bearer_auth(token(app, who).await)
        .send()
        .await
        .unwrap()
}

/// Check an export of st1's record holding `work` (with its two files) and the comment.
async fn check_archive(app: &TestApp, who: &str, work: &str) -> Value {
    let response = export(app, who, "st1").await;
    assert_eq!(response.status(), StatusCode::OK, "{who}");
    assert_eq!(response.headers()["content-type"], "application/zip");
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("filename*=UTF-8''")
    );
    let files = unzip(&response.bytes().await.unwrap());
    let html = String::from_utf8(files["index.html"].clone()).unwrap();
    assert!(
        html.starts_with("<!doctype html>") && html.contains("<style>"),
        "a complete page"
    );
    assert!(
        html.contains("成长记录") && html.contains("李小1") && html.contains("第一小学"),
        "{html}"
    );
    assert!(
        html.contains("秋天的作文")
            && html.contains("树叶黄了")
            && html.contains("上课<strong>认真</strong>"),
        "{html}"
    );
    let pdf = format!("files/{work}/作文.pdf");
    assert!(
        html.contains(&format!(r#"href="files/{work}/%E4%BD%9C%E6%96%87.pdf""#)),
        "{html}"
    );
    assert_eq!(files[&pdf], ESSAY);
    assert_eq!(files[&format!("files/{work}/火山.jpg")], PHOTO);
    let record: Value = serde_json::from_slice(&files["record.json"]).unwrap();
    assert_eq!(record["student"]["sourced_id"], "st1");
    assert_eq!(record["student"]["schools"][0]["name"], "第一小学");
    assert_eq!(record["entries"].as_array().unwrap().len(), 2);
    let work_data = record["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == work)
        .unwrap();
    assert_eq!(work_data["files"][0]["path"], pdf.as_str());
    assert_eq!(work_data["files"][0]["size"], ESSAY.len());
    record
}

/// st1's record: a comment by t1 and selected work with two files; the work entry's id.
async fn st1_record(app: &TestApp) -> String {
    app.state.clock.set(shanghai(0, 10, 0));
    added(
        app,
        "t1",
        "st1",
        json!({"kind": "comment", "title": "期中评语", "body": "上课**认真**。"}),
    )
    .await;
    let essay = hand_in(
        app,
        "st1",
        "k1",
        "秋天的作文",
        "秋天到了，树叶黄了。",
        &[("作文.pdf", ESSAY), ("火山.jpg", PHOTO)],
    )
    .await;
    added(
        app,
        "st1",
        "st1",
        json!({"kind": "work", "submission": essay}),
    )
    .await
}

on_both_databases! {
    async fn the_export_is_a_self_contained_archive_for_the_pupil_their_family_and_school(app) {
        district(&app).await;
        let work = st1_record(&app).await;
        for who in ["st1", "p1", "sa1", "da"] {
            let record = check_archive(&app, who, &work).await;
            assert_eq!(record["student"]["status"], "active");
        }
        assert_eq!(export(&app, "t1", "st1").await.status(), StatusCode::FORBIDDEN, "teachers read, do not export");
        for who in ["p2", "st2", "t3", "sa2"] {
            assert_eq!(export(&app, who, "st1").await.status(), StatusCode::NOT_FOUND, "{who}");
        }
    }
}

on_both_databases! {
    async fn a_pupil_retired_by_the_roster_keeps_the_record_and_it_still_exports(app) {
        let package = district(&app).await;
        let work = st1_record(&app).await;
        let before = entry::Entity::find().count(&app.state.db).await.unwrap();

        // The next bulk roster has no st1 (they moved school); p1 stays for another reason.
        let next = Package::new(&[2, 3]).with_admins().with_second_class();
        for name in ["users.csv", "roles.csv", "enrollments.csv"] {
            let rows: String = std::fs::read_to_string(package.path().join(name)).unwrap().lines()
                .filter(|l| l.starts_with("st7") || l.starts_with("st8") || l.starts_with("p8") || l.starts_with("r-st7")
                    || l.starts_with("r-st8") || l.starts_with("r-p8") || l.starts_with("e-st7") || l.starts_with("e-st8"))
                .map(|l| format!("{l}\n")).collect();
            next.append(name, &rows);
        }
        next.append("users.csv", "p1,,,true,,,1家长,李,,,,,13800000001,,,,,,,,s1,\n");
        next.append("roles.csv", "r-p1,,,p1,primary,parent,,,s1,\n");
        crate::fixtures::import(&app.state.db, &next, true).await;
        let st1 = kongjian::people::store::find_by_sourced_id(&app.state.db, "st1").await.unwrap().unwrap();
        assert_eq!(st1.status, "retired");

        // Nothing of the record went.
        assert_eq!(entry::Entity::find().count(&app.state.db).await.unwrap(), before);
        assert_eq!(file::Entity::find().filter(file::Column::EntryId.eq(work.as_str())).count(&app.state.db).await.unwrap(), 2);

        // The school's administrators and the family the pupil left with read and export it.
        let (status, timeline) = get(&app, &token(&app, "sa1").await, "/api/v1/students/st1/growth").await;
        assert_eq!(status, StatusCode::OK, "{timeline}");
        assert_eq!(timeline["student"]["status"], "retired");
        assert_eq!(titles(&timeline), ["秋天的作文", "期中评语"]);
        for who in ["sa1", "p1"] {
            let record = check_archive(&app, who, &work).await;
            assert_eq!(record["student"]["status"], "retired");
        }
        // Their former teacher no longer sees it; other schools never did.
        assert_eq!(get(&app, &token(&app, "t1").await, "/api/v1/students/st1/growth").await.0, StatusCode::NOT_FOUND);
        assert_eq!(export(&app, "sa2", "st1").await.status(), StatusCode::NOT_FOUND);
        assert_eq!(export(&app, "p2", "st1").await.status(), StatusCode::NOT_FOUND);
    }
}

on_both_databases! {
    async fn the_growth_page_offers_each_person_what_they_may_add(app) {
        district(&app).await;
        app.state.clock.set(shanghai(0, 10, 0));
        let essay = hand_in(&app, "st1", "k1", "秋天的作文", "秋天到了。", &[("火山.jpg", PHOTO)]).await;

        // The pupil picks their own work on the page; no comment form for them.
        let pupil = crate::activities::browser(&app, "st1").await;
        let (status, page) = pupil.get("/students/st1/growth").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains(&format!(r#"<option value="{essay}""#)) && page.contains(r#"value="work""#), "{page}");
        assert!(!page.contains(r#"value="comment""#));
        let added = pupil.submit("/students/st1/growth", "/students/st1/growth", &[("kind", "work"), ("submission", &essay)]).await;
        assert_eq!(crate::pages::location(&added), "/students/st1/growth?done=added");
        let (_, page) = pupil.get("/students/st1/growth?done=added").await;
        assert!(page.contains("已添加到成长记录") && page.contains("秋天的作文") && page.contains("火山.jpg"), "{page}");
        assert!(!page.contains(&format!(r#"<option value="{essay}""#)), "not offered twice");

        // The family reads and exports; no add form.
        let parent = crate::activities::browser(&app, "p1").await;
        let (_, page) = parent.get("/students/st1/growth").await;
        assert!(page.contains("/api/v1/students/st1/growth/export") && !page.contains(r#"name="kind""#), "{page}");
        let file = page.split(r#"href="/api/v1/growth/"#).nth(1).unwrap().split('"').next().unwrap();
        let bytes = parent.client.get(app.url(&format!("/api/v1/growth/{file}"))).send().await.unwrap().bytes().await.unwrap();
        assert_eq!(bytes.as_ref(), PHOTO);

        // The teacher comments (script refused on the page), may not export, removes their own.
        let teacher = crate::activities::browser(&app, "t1").await;
        let (_, page) = teacher.get("/students/st1/growth").await;
        assert!(page.contains(r#"value="comment""#) && !page.contains("/growth/export"), "{page}");
        let refused = teacher.submit("/students/st1/growth", "/students/st1/growth", &[("kind", "comment"), ("title", "评语"), ("body", "<script>x</script>")]).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.text().await.unwrap().contains("body"));
        let ok = teacher.submit("/students/st1/growth", "/students/st1/growth", &[("kind", "comment"), ("title", "期末评语"), ("body", "进步很大")]).await;
        assert_eq!(ok.status(), StatusCode::SEE_OTHER);
        let (_, page) = teacher.get("/students/st1/growth").await;
        let entry = page.split(r#"action="/growth/"#).nth(1).unwrap().split('/').next().unwrap().to_owned();
        assert_eq!(page.matches(r#"action="/growth/"#).count(), 1, "only their own entry has a remove button");
        let removed = teacher.submit("/students/st1/growth", &format!("/growth/{entry}/remove"), &[]).await;
        assert_eq!(crate::pages::location(&removed), "/students/st1/growth?done=removed");
        let (_, page) = parent.get("/students/st1/growth").await;
        assert!(!page.contains("期末评语") && page.contains("秋天的作文"));
    }
}
