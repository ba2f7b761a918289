//! The authorization table: every API route and page, for every role and relationship, allowed
//! or denied. Later features add rows here.
//!
//! The district: school s1 with class k1 (head teacher t1; pupils st1, st2, st3, bmp, each with a
//! parent p1, p2, p3) and class k2 (head teacher t3, pupil st9 with parent p9); school s2 with
//! teacher t2; administrators sa1 (s1), sa2 (s2) and da (the district). The subject of most rows
//! is the pupil st1. Every actor uses a real browser session (activation code, password, CSRF
//! token); "nobody" has no session.

use chrono::Utc;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::fixtures::Package;
use crate::support::{Backend, TestApp};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Actor {
    /// Signed out.
    Nobody,
    /// p1: parent of st1.
    ParentOfChild,
    /// p2: parent of st2, a classmate of st1.
    ParentOfClassmate,
    /// t1: head teacher of k1, st1's class.
    TeacherOfClass,
    /// t3: head teacher of k2, another class of the same school.
    TeacherOfOtherClass,
    /// st1.
    StudentSelf,
    /// st2, in st1's class.
    Classmate,
    /// sa1: administrator of s1.
    AdminOfSchool,
    /// sa2: administrator of s2.
    AdminOfOtherSchool,
    /// da: administrator of the district.
    DistrictAdmin,
}

use Actor::*;

const ACTORS: [Actor; 10] = [
    Nobody,
    ParentOfChild,
    ParentOfClassmate,
    TeacherOfClass,
    TeacherOfOtherClass,
    StudentSelf,
    Classmate,
    AdminOfSchool,
    AdminOfOtherSchool,
    DistrictAdmin,
];

const SIGNED_IN: &[Actor] = &[
    ParentOfChild,
    ParentOfClassmate,
    TeacherOfClass,
    TeacherOfOtherClass,
    StudentSelf,
    Classmate,
    AdminOfSchool,
    AdminOfOtherSchool,
    DistrictAdmin,
];

const EVERYONE: &[Actor] = &ACTORS;

/// The people of school s1 (its families, pupils, teachers and administrator).
const SCHOOL_S1: &[Actor] = &[
    ParentOfChild,
    ParentOfClassmate,
    TeacherOfClass,
    TeacherOfOtherClass,
    StudentSelf,
    Classmate,
    AdminOfSchool,
];

/// Teachers and administrators.
const STAFF: &[Actor] = &[
    TeacherOfClass,
    TeacherOfOtherClass,
    AdminOfSchool,
    AdminOfOtherSchool,
    DistrictAdmin,
];

impl Actor {
    fn sourced_id(self) -> Option<&'static str> {
        Some(match self {
            Nobody => return None,
            ParentOfChild => "p1",
            ParentOfClassmate => "p2",
            TeacherOfClass => "t1",
            TeacherOfOtherClass => "t3",
            StudentSelf => "st1",
            Classmate => "st2",
            AdminOfSchool => "sa1",
            AdminOfOtherSchool => "sa2",
            DistrictAdmin => "da",
        })
    }
}

/// A page answers signed-out visitors with a redirect to the sign-in page; the API with 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Api,
    Page,
}

/// What a row sends.
#[derive(Clone)]
enum Body {
    Empty,
    Json(Value),
    Form(Vec<(&'static str, &'static str)>),
    /// The roster zip, as the page's multipart form sends it (dry run).
    RosterForm,
    /// The roster zip as the API's raw body.
    RosterZip,
    /// A small picture, as an attachment upload.
    Png,
}

/// What a row expects.
#[derive(Clone, Copy)]
enum Expect {
    /// These actors are let through; the rest are denied, and nobody is asked to sign in.
    Allowed(&'static [Actor]),
    /// A public route: every actor gets this status (sign-in forms with wrong credentials).
    Same(StatusCode),
}

struct Row {
    method: Method,
    path: String,
    kind: Kind,
    body: Body,
    expect: Expect,
    /// The row ends sessions: everyone signs in again afterwards.
    ends_sessions: bool,
    /// Those denied are told "not found": the thing is hidden from them, not only refused.
    hidden: bool,
}

fn row(method: Method, path: &str, kind: Kind, allowed: &'static [Actor]) -> Row {
    Row {
        method,
        path: path.to_owned(),
        kind,
        body: Body::Empty,
        expect: Expect::Allowed(allowed),
        ends_sessions: false,
        hidden: false,
    }
}

fn public(method: Method, path: &str, kind: Kind, status: StatusCode) -> Row {
    Row {
        expect: Expect::Same(status),
        ..row(method, path, kind, &[])
    }
}

impl Row {
    fn body(mut self, body: Body) -> Row {
        self.body = body;
        self
    }

    fn hidden(mut self) -> Row {
        self.hidden = true;
        self
    }

    fn ends_sessions(mut self) -> Row {
        self.ends_sessions = true;
        self
    }
}

/// What the messaging rows act on, made before the walk.
struct Made {
    /// A notice to k1's families (asking for confirmation), from t1.
    notice: String,
    /// The conversation between p1 and t1.
    conversation: String,
    /// t1's message in it.
    message: String,
    /// p1's picture, attached to p1's message in it.
    attachment: String,
    /// t1's picture published to school s1 (reviewed by sa1).
    resource: String,
    /// Two of t1's resources waiting for review, and a draft.
    in_review: String,
    in_review_2: String,
    draft: String,
    // ── assignments (issue 7) ──
    /// t1's assignment on k1 (points, due in a week), and st1's hand-in of it with a picture,
    /// marked and returned by t1.
    assignment: String,
    submission: String,
    submission_file: String,
    /// A second assignment of t1's on k1, which the table's rows hand in to.
    open_assignment: String,
    // ── lessons (issue 7) ──
    lessons: LessonsMade,
    // ── activities, announcements and growth records (issue 7) ──
    spaces: SpacesMade,
}

/// What the activities and growth rows act on (issue 7).
struct SpacesMade {
    /// t1's permission slip for k1, and another of t1's to cancel.
    class_activity: String,
    cancel_me: String,
    /// sa1's sign-up for the whole of s1.
    school_activity: String,
    /// Two of sa1's announcements to s1 (one withdrawn through the API, one through the page).
    announcement: String,
    announcement_page: String,
    /// t1's comments in st1's record: one to remove through the API, one through the page,
    /// and one with a file.
    entry: String,
    entry_page: String,
    entry_with_file: String,
    file: String,
}

/// An activity for the table, far in the future so the real clock never closes it.
fn table_activity(target: (&str, &str), ask: &str) -> Value {
    serde_json::json!({
        target.0: target.1, "title": "表格活动", "place": "操场",
        "starts_at": "2099-06-01T08:30:00+08:00", "ask": ask, "question": "是否参加？",
        "deadline": "2099-05-30T18:00:00+08:00",
    })
}

async fn make_spaces(app: &TestApp) -> SpacesMade {
    use crate::messaging::{post, token};
    let (t1, sa1) = (token(app, "t1").await, token(app, "sa1").await);
    let id = |v: &Value| v["id"].as_str().unwrap().to_owned();
    let (_, class_activity) = post(
        app,
        &t1,
        "/api/v1/activities",
        table_activity(("class", "k1"), "permission"),
    )
    .await;
    let (_, cancel_me) = post(
        app,
        &t1,
        "/api/v1/activities",
        table_activity(("class", "k1"), "permission"),
    )
    .await;
    let (_, school_activity) = post(
        app,
        &sa1,
        "/api/v1/activities",
        table_activity(("school", "s1"), "signup"),
    )
    .await;
    let mut announcements = Vec::new();
    for title in ["表格公告一", "表格公告二"] {
        let (status, made) = post(
            app,
            &sa1,
            "/api/v1/schools/s1/announcements",
            serde_json::json!({"title": title, "body": "正文"}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        announcements.push(id(&made));
    }
    let mut entries = Vec::new();
    for title in ["表格评语一", "表格评语二", "表格评语三"] {
        let (status, made) = post(
            app,
            &t1,
            "/api/v1/students/st1/growth",
            serde_json::json!({"kind": "comment", "title": title, "body": "认真"}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        entries.push(id(&made));
    }
    // A file in the third entry, as selected work copies one from a hand-in.
    use object_store::ObjectStoreExt;
    let key = "submissions/table/photo.png";
    app.state
        .objects
        .put(&object_store::path::Path::from(key), PNG.to_vec().into())
        .await
        .unwrap();
    let file = kongjian::growth::entity::file::Model {
        id: uuid::Uuid::now_v7().to_string(),
        entry_id: entries[2].clone(),
        object_key: key.to_owned(),
        file_name: "photo.png".to_owned(),
        content_type: "image/png".to_owned(),
        size: PNG.len() as i64,
        created_at: Utc::now(),
    };
    use sea_orm::EntityTrait;
    kongjian::growth::entity::file::Entity::insert(
        kongjian::growth::entity::file::ActiveModel::from(file.clone()),
    )
    .exec_without_returning(&app.state.db)
    .await
    .unwrap();
    SpacesMade {
        class_activity: id(&class_activity),
        cancel_me: id(&cancel_me),
        school_activity: id(&school_activity),
        announcement_page: announcements.pop().unwrap(),
        announcement: announcements.pop().unwrap(),
        entry_with_file: entries.pop().unwrap(),
        entry_page: entries.pop().unwrap(),
        entry: entries.pop().unwrap(),
        file: file.id,
    }
}

/// The activities, announcements and growth rows (issue 7).
fn spaces_rows(m: &SpacesMade) -> Vec<Row> {
    use Kind::*;
    let (get, post) = (Method::GET, Method::POST);
    // The people of class k1 (its pupils, their families, its teacher, the administrators).
    const CLASS_K1: &[Actor] = &[
        ParentOfChild,
        ParentOfClassmate,
        TeacherOfClass,
        StudentSelf,
        Classmate,
        AdminOfSchool,
        DistrictAdmin,
    ];
    // The people of school s1, and the district's administrator.
    const S1_AND_DISTRICT: &[Actor] = &[
        ParentOfChild,
        ParentOfClassmate,
        TeacherOfClass,
        TeacherOfOtherClass,
        StudentSelf,
        Classmate,
        AdminOfSchool,
        DistrictAdmin,
    ];
    const ORGANISERS: &[Actor] = &[TeacherOfClass, AdminOfSchool, DistrictAdmin];
    const ADMINS: &[Actor] = &[AdminOfSchool, DistrictAdmin];
    // Those who read st1's record, and those who export it.
    const READERS: &[Actor] = &[
        ParentOfChild,
        TeacherOfClass,
        StudentSelf,
        AdminOfSchool,
        DistrictAdmin,
    ];
    const EXPORTERS: &[Actor] = &[ParentOfChild, StudentSelf, AdminOfSchool, DistrictAdmin];
    let class_activity = format!("/api/v1/activities/{}", m.class_activity);
    let school_activity = format!("/api/v1/activities/{}", m.school_activity);
    let page = format!("/activities/{}", m.class_activity);
    let new_class = table_activity(("class", "k1"), "none");
    let new_school = table_activity(("school", "s1"), "none");
    let form = vec![
        ("title", "表格页面活动"),
        ("place", "礼堂"),
        ("starts_at", "2099-06-01T08:30"),
        ("ask", "none"),
    ];
    vec![
        row(post.clone(), "/api/v1/activities", Api, ORGANISERS).body(Body::Json(new_class)),
        row(post.clone(), "/api/v1/activities", Api, ADMINS).body(Body::Json(new_school)),
        row(get.clone(), &class_activity, Api, CLASS_K1).hidden(),
        row(get.clone(), &school_activity, Api, S1_AND_DISTRICT).hidden(),
        // Answering: only a guardian, for their own child.
        row(
            post.clone(),
            &format!("{class_activity}/answers"),
            Api,
            &[ParentOfChild],
        )
        .body(Body::Json(
            serde_json::json!({"student": "st1", "answer": "yes"}),
        ))
        .hidden(),
        // Every answer, and the CSV: the organiser, the class's teachers, the administrators.
        row(
            get.clone(),
            &format!("{class_activity}/answers"),
            Api,
            ORGANISERS,
        )
        .hidden(),
        row(
            get.clone(),
            &format!("{class_activity}/answers.csv"),
            Api,
            ORGANISERS,
        )
        .hidden(),
        // Cancelling (an empty reason is refused after the check): the organiser and admins.
        row(
            post.clone(),
            &format!("/api/v1/activities/{}/cancel", m.cancel_me),
            Api,
            ORGANISERS,
        )
        .body(Body::Json(serde_json::json!({"reason": ""})))
        .hidden(),
        row(get.clone(), "/api/v1/classes/k1/activities", Api, CLASS_K1).hidden(),
        row(
            get.clone(),
            "/api/v1/schools/s1/activities",
            Api,
            S1_AND_DISTRICT,
        )
        .hidden(),
        // Announcements: the school's administrators post and withdraw; its people read.
        row(
            post.clone(),
            "/api/v1/schools/s1/announcements",
            Api,
            ADMINS,
        )
        .body(Body::Json(
            serde_json::json!({"title": "表格公告", "body": "正文"}),
        ))
        .hidden(),
        row(
            get.clone(),
            "/api/v1/schools/s1/announcements",
            Api,
            S1_AND_DISTRICT,
        )
        .hidden(),
        row(
            post.clone(),
            &format!("/api/v1/announcements/{}/withdraw", m.announcement),
            Api,
            ADMINS,
        )
        .hidden(),
        // st1's growth record: read by the pupil, their family, teacher and administrators;
        // comments by teachers and administrators; exported by all but the teacher.
        row(get.clone(), "/api/v1/students/st1/growth", Api, READERS).hidden(),
        row(post.clone(), "/api/v1/students/st1/growth", Api, ORGANISERS)
            .body(Body::Json(
                serde_json::json!({"kind": "award", "title": "表格奖项"}),
            ))
            .hidden(),
        row(
            get.clone(),
            "/api/v1/students/st1/growth/export",
            Api,
            EXPORTERS,
        )
        .hidden(),
        row(
            get.clone(),
            &format!("/api/v1/growth/{}/files/{}", m.entry_with_file, m.file),
            Api,
            READERS,
        )
        .hidden(),
        // Removing an entry: its author (after which it is gone for everyone).
        row(
            post.clone(),
            &format!("/api/v1/growth/{}/remove", m.entry),
            Api,
            &[TeacherOfClass],
        )
        .hidden(),
        // The pages: the same rules.
        row(get.clone(), &page, Page, CLASS_K1).hidden(),
        row(
            post.clone(),
            &format!("{page}/answers"),
            Page,
            &[ParentOfChild],
        )
        .body(Body::Form(vec![("student", "st1"), ("answer", "no")]))
        .hidden(),
        row(
            post.clone(),
            &format!("/activities/{}/cancel", m.cancel_me),
            Page,
            ORGANISERS,
        )
        .body(Body::Form(vec![("reason", "表格取消")]))
        .hidden(),
        row(get.clone(), "/classes/k1/activities/new", Page, ORGANISERS).hidden(),
        row(post.clone(), "/classes/k1/activities/new", Page, ORGANISERS)
            .body(Body::Form(form.clone()))
            .hidden(),
        row(get.clone(), "/schools/s1/activities/new", Page, ADMINS).hidden(),
        row(post.clone(), "/schools/s1/activities/new", Page, ADMINS)
            .body(Body::Form(form))
            .hidden(),
        row(
            get.clone(),
            "/schools/s1/announcements",
            Page,
            S1_AND_DISTRICT,
        )
        .hidden(),
        row(post.clone(), "/schools/s1/announcements", Page, ADMINS)
            .body(Body::Form(vec![
                ("title", "表格页面公告"),
                ("body", "正文"),
            ]))
            .hidden(),
        row(
            post.clone(),
            &format!("/announcements/{}/withdraw", m.announcement_page),
            Page,
            ADMINS,
        )
        .body(Body::Form(vec![]))
        .hidden(),
        row(get.clone(), "/students/st1/growth", Page, READERS).hidden(),
        row(post.clone(), "/students/st1/growth", Page, ORGANISERS)
            .body(Body::Form(vec![
                ("kind", "award"),
                ("title", "表格页面奖项"),
            ]))
            .hidden(),
        row(
            post.clone(),
            &format!("/growth/{}/remove", m.entry_page),
            Page,
            &[TeacherOfClass],
        )
        .body(Body::Form(vec![]))
        .hidden(),
    ]
}

/// The smallest PNG: its magic bytes are what the upload checks.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, 0, 0, 0,
    1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89,
];

async fn make(app: &TestApp) -> Made {
    use crate::messaging::{post, token};
    let teacher = token(app, "t1").await;
    let parent = token(app, "p1").await;
    let (_, notice) = post(
        app,
        &teacher,
        "/api/v1/classes/k1/notices",
        serde_json::json!({"title": "春游", "body": "周五春游", "requires_confirmation": true}),
    )
    .await;
    let (_, conversation) = post(
        app,
        &parent,
        "/api/v1/conversations",
        serde_json::json!({"with": "t1"}),
    )
    .await;
    let conversation = conversation["id"].as_str().unwrap().to_owned();
    let messages = format!("/api/v1/conversations/{conversation}/messages");
    let (_, message) = post(
        app,
        &teacher,
        &messages,
        serde_json::json!({"body": "您好", "nonce": "setup-1"}),
    )
    .await;
    let uploaded: Value = app
        .client
        .post(app.url("/api/v1/attachments?name=photo.png"))
        .bearer_auth(&parent)
        .body(PNG.to_vec())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let attachment = uploaded["id"].as_str().unwrap().to_owned();
    let (status, _) = post(
        app,
        &parent,
        &messages,
        serde_json::json!({"body": "照片", "nonce": "setup-2", "attachments": [attachment]}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let admin = token(app, "sa1").await;
    let form = reqwest::multipart::Form::new()
        .text("title", "光合作用示意图")
        .text("subject", "生物")
        .text("grade", "07")
        .text("type", "素材")
        .text("scope", "school")
        .part(
            "file",
            reqwest::multipart::Part::bytes(PNG.to_vec()).file_name("图.png"),
        );
    let created: Value = app
        .client
        .post(app.url("/api/v1/resources"))
        .bearer_auth(&teacher)
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let resource = created["id"].as_str().unwrap().to_owned();
    let mut in_review = Vec::new();
    for title in ["待审一", "待审二", "草稿"] {
        let (status, made) = post(
            app,
            &teacher,
            "/api/v1/resources",
            serde_json::json!({"title": title, "subject": "数学", "grade": "03", "type": "习题", "scope": "school", "text": "练习"}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        in_review.push(made["id"].as_str().unwrap().to_owned());
    }
    for id in [&resource, &in_review[0], &in_review[1]] {
        let (status, _) = post(
            app,
            &teacher,
            &format!("/api/v1/resources/{id}/submit"),
            serde_json::json!({"pledge": true}),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    let (status, _) = post(
        app,
        &admin,
        &format!("/api/v1/resources/{resource}/review"),
        serde_json::json!({"decision": "approve", "political": "pass", "scientific": "pass", "safety": "pass"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // ── assignments (issue 7) ──
    let due = (Utc::now() + chrono::TimeDelta::days(7)).to_rfc3339();
    let mut set = Vec::new();
    for title in ["表格作业", "表格作业二"] {
        let (status, made) = post(
            app,
            &teacher,
            "/api/v1/assignments",
            serde_json::json!({"class": "k1", "title": title, "due_at": due, "scale": "points:10"}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        set.push(made["id"].as_str().unwrap().to_owned());
    }
    let form = reqwest::multipart::Form::new()
        .text("text", "我的作业")
        .part(
            "file",
            reqwest::multipart::Part::bytes(PNG.to_vec()).file_name("作业.png"),
        );
    let handed: Value = app
        .client
        .post(app.url(&format!("/api/v1/assignments/{}/submissions", set[0])))
        .bearer_auth(token(app, "st1").await)
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let submission = handed["id"].as_str().unwrap().to_owned();
    let (status, _) = post(
        app,
        &teacher,
        &format!("/api/v1/submissions/{submission}/feedback"),
        serde_json::json!({"comment": "很好", "score": 9}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    // ── activities, announcements and growth records (issue 7) ──
    let spaces = make_spaces(app).await;
    Made {
        spaces,
        open_assignment: set[1].clone(),
        assignment: set[0].clone(),
        submission_file: handed["files"][0]["id"].as_str().unwrap().to_owned(),
        submission,
        notice: notice["id"].as_str().unwrap().to_owned(),
        conversation,
        message: message["id"].as_str().unwrap().to_owned(),
        attachment,
        resource,
        draft: in_review.pop().unwrap(),
        in_review_2: in_review.pop().unwrap(),
        in_review: in_review.pop().unwrap(),
        // ── lessons (issue 7) ──
        lessons: lessons_made(app).await,
    }
}

// ── lessons (issue 7) ──
/// What the lesson rows act on: t1's lesson published to k1 (with three pictures and st1's
/// question), a draft, one scheduled for tomorrow, and one the page withdraws.
struct LessonsMade {
    lesson: String,
    draft: String,
    scheduled: String,
    withdraw: String,
    attachment: String,
    attachment_api: String,
    attachment_page: String,
    question: String,
}

impl LessonsMade {
    fn api(&self, suffix: &str) -> String {
        format!("/api/v1/lessons/{}{suffix}", self.lesson)
    }

    fn page(&self, suffix: &str) -> String {
        format!("/lessons/{}{suffix}", self.lesson)
    }
}

/// Those who see a lesson published to k1: the school's people (pupils and families of k1,
/// its teacher, colleagues, the administrator) and the district's administrator.
const LESSON_READERS: &[Actor] = &[
    ParentOfChild,
    ParentOfClassmate,
    TeacherOfClass,
    TeacherOfOtherClass,
    StudentSelf,
    Classmate,
    AdminOfSchool,
    DistrictAdmin,
];

/// s1's people and the district's administrator.
const SCHOOL_S1_AND_DISTRICT: &[Actor] = &[
    ParentOfChild,
    ParentOfClassmate,
    TeacherOfClass,
    TeacherOfOtherClass,
    StudentSelf,
    Classmate,
    AdminOfSchool,
    DistrictAdmin,
];

/// k1's people: its pupils and their families, its teacher, and the administrators above it.
const CLASS_K1: &[Actor] = &[
    ParentOfChild,
    ParentOfClassmate,
    TeacherOfClass,
    StudentSelf,
    Classmate,
    AdminOfSchool,
    DistrictAdmin,
];

async fn lessons_made(app: &TestApp) -> LessonsMade {
    use crate::messaging::{post, token};
    let teacher = token(app, "t1").await;
    let mut ids = Vec::new();
    for title in ["勾股定理", "草稿课", "明天的课", "要撤回的课"] {
        let (status, made) = post(
            app,
            &teacher,
            "/api/v1/lessons",
            serde_json::json!({"title": title, "body": "## 正文"}),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        ids.push(made["id"].as_str().unwrap().to_owned());
    }
    let tomorrow = (Utc::now() + chrono::TimeDelta::days(1)).to_rfc3339();
    for (id, at) in [(&ids[0], None), (&ids[2], Some(tomorrow)), (&ids[3], None)] {
        let (status, body) = post(
            app,
            &teacher,
            &format!("/api/v1/lessons/{id}/publish"),
            serde_json::json!({"classes": ["k1"], "at": at}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let mut pictures = Vec::new();
    for _ in 0..3 {
        let form = reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(PNG.to_vec()).file_name("图.png"),
        );
        let made: Value = app
            .client
            .post(app.url(&format!("/api/v1/lessons/{}/attachments", ids[0])))
            .bearer_auth(&teacher)
            .multipart(form)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        pictures.push(made["id"].as_str().unwrap().to_owned());
    }
    let (status, asked) = post(
        app,
        &token(app, "st1").await,
        &format!("/api/v1/lessons/{}/questions", ids[0]),
        serde_json::json!({"class": "k1", "body": "为什么？"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{asked}");
    LessonsMade {
        lesson: ids[0].clone(),
        draft: ids[1].clone(),
        scheduled: ids[2].clone(),
        withdraw: ids[3].clone(),
        attachment: pictures[0].clone(),
        attachment_api: pictures[1].clone(),
        attachment_page: pictures[2].clone(),
        question: asked["id"].as_str().unwrap().to_owned(),
    }
}

/// The table. `import` is the id of a logged roster import.
fn table(import: &str, made: &Made) -> Vec<Row> {
    use Kind::*;
    let get = Method::GET;
    let post = Method::POST;
    let detail = format!("/roster/imports/{import}");
    let notice = format!("/api/v1/notices/{}", made.notice);
    let conversation = format!("/api/v1/conversations/{}", made.conversation);
    let messages = format!("{conversation}/messages");
    let message = format!("/api/v1/messages/{}", made.message);
    let attachment = format!("/api/v1/attachments/{}", made.attachment);
    let conversation_page = format!("/messages/{}", made.conversation);
    let notice_page = format!("/notices/{}", made.notice);
    let resource = format!("/api/v1/resources/{}", made.resource);
    let in_review = format!("/api/v1/resources/{}", made.in_review);
    let in_review_2 = format!("/api/v1/resources/{}", made.in_review_2);
    let draft = format!("/api/v1/resources/{}", made.draft);
    let resource_page = format!("/resources/{}", made.resource);
    // (The first one is approved by the review row above; the second stays unpublished.)
    let in_review_page = format!("/resources/{}", made.in_review_2);
    // ── assignments (issue 7) ──
    // st1's own work: st1, their parent, their teacher, and the administrators above.
    const OWN_WORK: &[Actor] = &[
        ParentOfChild,
        TeacherOfClass,
        StudentSelf,
        AdminOfSchool,
        DistrictAdmin,
    ];
    const SETS_WORK: &[Actor] = &[TeacherOfClass, AdminOfSchool, DistrictAdmin];
    let assignment = format!("/api/v1/assignments/{}", made.assignment);
    let open_assignment = format!("/api/v1/assignments/{}", made.open_assignment);
    let submission = format!("/api/v1/submissions/{}", made.submission);
    let submission_file = format!("{submission}/files/{}", made.submission_file);
    let assignment_page = format!("/assignments/{}", made.assignment);
    let hand_in_page = format!("/assignments/{}/hand-in", made.open_assignment);
    let submission_page = format!("/submissions/{}", made.submission);
    vec![
        // Public pages and the way in.
        row(get.clone(), "/", Page, EVERYONE),
        row(get.clone(), "/healthz", Api, EVERYONE),
        // ── the API document (issue 7) ──
        public(
            get.clone(),
            "/api/v1/openapi.json",
            Api,
            StatusCode::OK,
        ),
        row(get.clone(), "/static/app.css", Page, EVERYONE),
        public(
            get.clone(),
            "/language/en?next=/",
            Page,
            StatusCode::SEE_OTHER,
        ),
        row(get.clone(), "/login", Page, EVERYONE),
        row(get.clone(), "/activate", Page, EVERYONE),
        row(get.clone(), "/activate?code=ABCD-EFGH", Page, EVERYONE),
        public(
            post.clone(),
            "/api/v1/auth/login",
            Api,
            StatusCode::UNAUTHORIZED,
        )
        .body(Body::Json(
            serde_json::json!({"login": "st1", "password": "wrong-password"}),
        )),
        public(
            post.clone(),
            "/api/v1/auth/activate",
            Api,
            StatusCode::UNAUTHORIZED,
        )
        .body(Body::Json(
            serde_json::json!({"code": "ZZZZ-ZZZZ", "password": "表格测试-password"}),
        )),
        public(post.clone(), "/login", Page, StatusCode::UNAUTHORIZED).body(Body::Form(vec![
            ("login", "st1"),
            ("password", "wrong-password"),
        ])),
        public(post.clone(), "/activate", Page, StatusCode::UNAUTHORIZED)
            .body(Body::Form(vec![("code", "ZZZZ-ZZZZ")])),
        // Single sign-on is not configured here: its routes do not exist (see sso.rs).
        public(get.clone(), "/auth/sso", Page, StatusCode::NOT_FOUND),
        public(
            get.clone(),
            "/auth/sso/callback?code=x&state=y",
            Page,
            StatusCode::NOT_FOUND,
        ),
        // Oneself.
        row(get.clone(), "/api/v1/me", Api, SIGNED_IN),
        row(get.clone(), "/api/v1/auth/session", Api, SIGNED_IN),
        row(get.clone(), "/api/v1/auth/sessions", Api, SIGNED_IN),
        row(get.clone(), "/account", Page, SIGNED_IN),
        // The classes one may issue codes for: everyone signed in sees their own (maybe empty) list.
        row(get.clone(), "/classes/codes", Page, SIGNED_IN),
        // ── spaces (issue 7) ──
        // One's own space; a class's space for its people; a school's space for its people.
        row(get.clone(), "/space", Page, SIGNED_IN),
        row(get.clone(), "/api/v1/me/space", Api, SIGNED_IN),
        row(get.clone(), "/classes/k1", Page, CLASS_K1).hidden(),
        row(get.clone(), "/api/v1/classes/k1/space", Api, CLASS_K1).hidden(),
        row(get.clone(), "/schools/s1", Page, SCHOOL_S1_AND_DISTRICT).hidden(),
        row(get.clone(), "/api/v1/schools/s1/space", Api, SCHOOL_S1_AND_DISTRICT).hidden(),
        // A pupil: themselves, their parent, their teacher, their school's and district's admins.
        row(
            get.clone(),
            "/api/v1/people/st1",
            Api,
            &[
                ParentOfChild,
                TeacherOfClass,
                StudentSelf,
                AdminOfSchool,
                DistrictAdmin,
            ],
        ),
        // A parent: themselves, their child's teacher, the admins. Not the child, not strangers.
        row(
            get.clone(),
            "/api/v1/people/p1",
            Api,
            &[ParentOfChild, TeacherOfClass, AdminOfSchool, DistrictAdmin],
        ),
        // The audit log: administrators, each of their own scope.
        row(
            get.clone(),
            "/api/v1/audit",
            Api,
            &[AdminOfSchool, AdminOfOtherSchool, DistrictAdmin],
        ),
        row(
            get.clone(),
            "/audit",
            Page,
            &[AdminOfSchool, AdminOfOtherSchool, DistrictAdmin],
        ),
        // Roster imports: the district.
        row(get.clone(), "/api/v1/roster/imports", Api, &[DistrictAdmin]),
        row(get.clone(), "/roster/imports", Page, &[DistrictAdmin]),
        row(get.clone(), &detail, Page, &[DistrictAdmin]),
        row(
            post.clone(),
            "/api/v1/roster/imports?dry_run=true",
            Api,
            &[DistrictAdmin],
        )
        .body(Body::RosterZip),
        row(post.clone(), "/roster/imports", Page, &[DistrictAdmin]).body(Body::RosterForm),
        // The class's code sheet: its head teacher and the admins above it.
        row(
            get.clone(),
            "/classes/k1/codes",
            Page,
            &[TeacherOfClass, AdminOfSchool, DistrictAdmin],
        ),
        row(
            post.clone(),
            "/api/v1/classes/k1/codes",
            Api,
            &[TeacherOfClass, AdminOfSchool, DistrictAdmin],
        ),
        row(
            post.clone(),
            "/classes/k1/codes",
            Page,
            &[TeacherOfClass, AdminOfSchool, DistrictAdmin],
        ),
        // A new code for one pupil: their head teacher and the admins; never themselves.
        row(
            post.clone(),
            "/api/v1/people/st1/code",
            Api,
            &[TeacherOfClass, AdminOfSchool, DistrictAdmin],
        ),
        row(
            post.clone(),
            "/api/v1/people/p1/code",
            Api,
            &[TeacherOfClass, AdminOfSchool, DistrictAdmin],
        ),
        // Granting the reviewer role to a teacher: the administrators of their school.
        row(
            post.clone(),
            "/api/v1/people/t1/roles",
            Api,
            &[AdminOfSchool, DistrictAdmin],
        )
        .body(Body::Json(serde_json::json!({"role": "reviewer"}))),
        row(
            Method::DELETE,
            "/api/v1/people/t1/roles/reviewer",
            Api,
            &[AdminOfSchool, DistrictAdmin],
        ),
        // Messaging: one's own counts, lists and settings.
        row(get.clone(), "/api/v1/unread", Api, SIGNED_IN),
        row(get.clone(), "/api/v1/conversations", Api, SIGNED_IN),
        row(get.clone(), "/api/v1/notices", Api, SIGNED_IN),
        row(get.clone(), "/api/v1/me/messaging", Api, SIGNED_IN),
        row(Method::PUT, "/api/v1/me/messaging", Api, SIGNED_IN)
            .body(Body::Json(serde_json::json!({"delivery": "live"}))),
        // A 1:1 with the teacher t1: the families of t1's class and fellow staff; not pupils,
        // not t1 themselves.
        row(
            post.clone(),
            "/api/v1/conversations",
            Api,
            &[
                ParentOfChild,
                ParentOfClassmate,
                TeacherOfOtherClass,
                AdminOfSchool,
                AdminOfOtherSchool,
                DistrictAdmin,
            ],
        )
        .body(Body::Json(serde_json::json!({"with": "t1"}))),
        // The p1–t1 conversation: its two members; hidden from everyone else.
        row(
            get.clone(),
            &conversation,
            Api,
            &[ParentOfChild, TeacherOfClass],
        )
        .hidden(),
        row(
            get.clone(),
            &messages,
            Api,
            &[ParentOfChild, TeacherOfClass],
        )
        .hidden(),
        row(
            post.clone(),
            &messages,
            Api,
            &[ParentOfChild, TeacherOfClass],
        )
        .body(Body::Json(
            serde_json::json!({"body": "表格", "nonce": "table"}),
        ))
        .hidden(),
        row(
            post.clone(),
            &format!("{conversation}/read"),
            Api,
            &[ParentOfChild, TeacherOfClass],
        )
        .body(Body::Json(serde_json::json!({"seq": 1})))
        .hidden(),
        row(
            get.clone(),
            &attachment,
            Api,
            &[ParentOfChild, TeacherOfClass],
        )
        .hidden(),
        // t1's message: only t1 edits or recalls it (p1 sees it but may not change it).
        row(Method::PATCH, &message, Api, &[TeacherOfClass])
            .body(Body::Json(serde_json::json!({"body": "改过"})))
            .hidden(),
        row(
            post.clone(),
            &format!("{message}/recall"),
            Api,
            &[TeacherOfClass],
        )
        .hidden(),
        row(
            post.clone(),
            "/api/v1/attachments?name=a.png",
            Api,
            SIGNED_IN,
        )
        .body(Body::Png),
        // Notices to k1: its teacher and the administrators above it post them; the school's
        // (and a grade's) only the administrators.
        row(
            post.clone(),
            "/api/v1/classes/k1/notices",
            Api,
            &[TeacherOfClass, AdminOfSchool, DistrictAdmin],
        )
        .body(Body::Json(
            serde_json::json!({"title": "表格", "body": "通知"}),
        )),
        row(
            post.clone(),
            "/api/v1/schools/s1/notices",
            Api,
            &[AdminOfSchool, DistrictAdmin],
        )
        .body(Body::Json(
            serde_json::json!({"title": "表格", "body": "全校通知", "grade": "03"}),
        )),
        // The k1 notice: its families, its teacher and the administrators; hidden from others
        // (pupils too: it was not sent to students).
        row(
            get.clone(),
            &notice,
            Api,
            &[
                ParentOfChild,
                ParentOfClassmate,
                TeacherOfClass,
                AdminOfSchool,
                DistrictAdmin,
            ],
        )
        .hidden(),
        row(
            post.clone(),
            &format!("{notice}/read"),
            Api,
            &[
                ParentOfChild,
                ParentOfClassmate,
                TeacherOfClass,
                AdminOfSchool,
                DistrictAdmin,
            ],
        )
        .hidden(),
        // Confirming: only the families it was sent to.
        row(
            post.clone(),
            &format!("{notice}/confirm"),
            Api,
            &[ParentOfChild, ParentOfClassmate],
        )
        .body(Body::Json(serde_json::json!({})))
        .hidden(),
        // Reminding: the sender and the administrators (after the first, "too soon" — which is
        // past the authorization check).
        row(
            post.clone(),
            &format!("{notice}/remind"),
            Api,
            &[TeacherOfClass, AdminOfSchool, DistrictAdmin],
        )
        .hidden(),
        // The messaging pages: the same rules as the API.
        row(get.clone(), "/messages", Page, SIGNED_IN),
        row(get.clone(), "/messages/new", Page, SIGNED_IN),
        row(get.clone(), "/messages/settings", Page, SIGNED_IN),
        row(
            get.clone(),
            &conversation_page,
            Page,
            &[ParentOfChild, TeacherOfClass],
        )
        .hidden(),
        row(
            post.clone(),
            &conversation_page,
            Page,
            &[ParentOfChild, TeacherOfClass],
        )
        .body(Body::Form(vec![
            ("body", "表格页面"),
            ("nonce", "table-page"),
        ]))
        .hidden(),
        row(
            get.clone(),
            &notice_page,
            Page,
            &[
                ParentOfChild,
                ParentOfClassmate,
                TeacherOfClass,
                AdminOfSchool,
                DistrictAdmin,
            ],
        )
        .hidden(),
        row(
            post.clone(),
            &format!("{notice_page}/confirm"),
            Page,
            &[ParentOfChild, ParentOfClassmate],
        )
        .body(Body::Form(vec![]))
        .hidden(),
        row(
            get.clone(),
            "/notices/new?class=k1",
            Page,
            &[TeacherOfClass, AdminOfSchool, DistrictAdmin],
        ),
        row(
            post.clone(),
            "/notices/new",
            Page,
            &[TeacherOfClass, AdminOfSchool, DistrictAdmin],
        )
        .body(Body::Form(vec![
            ("class", "k1"),
            ("title", "表格页面"),
            ("body", "通知"),
            ("nonce", "table-notice"),
        ])),
        row(
            post.clone(),
            "/messages/settings/quiet-hours",
            Page,
            &[AdminOfSchool, DistrictAdmin],
        )
        .body(Body::Form(vec![("school", "s1"), ("mode", "default")])),
        // A school's quiet hours: its administrators.
        row(
            get.clone(),
            "/api/v1/schools/s1/messaging",
            Api,
            &[AdminOfSchool, DistrictAdmin],
        ),
        row(
            Method::PUT,
            "/api/v1/schools/s1/messaging",
            Api,
            &[AdminOfSchool, DistrictAdmin],
        )
        .body(Body::Json(
            serde_json::json!({"quiet_hours": "21:30-07:00"}),
        )),
        // Resources: the school's people read what is published to the school.
        row(get.clone(), "/api/v1/resources/vocabulary", Api, SIGNED_IN),
        row(get.clone(), &resource, Api, SCHOOL_S1).hidden(),
        row(get.clone(), &format!("{resource}/file"), Api, SCHOOL_S1).hidden(),
        row(post.clone(), &format!("{resource}/usage"), Api, SCHOOL_S1)
            .hidden()
            .body(Body::Json(serde_json::json!({"action": "lesson"}))),
        // A resource under review: its author and the reviewers of the school that ingests it.
        row(get.clone(), &in_review, Api, &[TeacherOfClass, AdminOfSchool]).hidden(),
        row(post.clone(), &format!("{in_review}/review"), Api, &[AdminOfSchool])
            .hidden()
            .body(Body::Json(serde_json::json!({"decision": "approve", "political": "pass", "scientific": "pass", "safety": "pass"}))),
        // Its author alone submits, withdraws and edits.
        row(post.clone(), &format!("{draft}/submit"), Api, &[TeacherOfClass])
            .hidden()
            .body(Body::Json(serde_json::json!({"pledge": true}))),
        row(post.clone(), &format!("{in_review_2}/withdraw"), Api, &[TeacherOfClass]).hidden(),
        row(Method::PATCH, &in_review_2, Api, &[TeacherOfClass])
            .hidden()
            .body(Body::Json(serde_json::json!({"title": "改过的标题"}))),
        row(post.clone(), &format!("{in_review_2}/versions"), Api, &[TeacherOfClass])
            .hidden()
            .body(Body::Json(serde_json::json!({"text": "改过的正文"}))),
        // Retiring (an empty reason is refused after the check): the author and the reviewers.
        row(post.clone(), &format!("{resource}/retire"), Api, &[TeacherOfClass, AdminOfSchool])
            .hidden()
            .body(Body::Json(serde_json::json!({"reason": ""}))),
        // Staff author resources; pupils and parents do not.
        row(post.clone(), "/api/v1/resources", Api, STAFF).body(Body::Json(
            serde_json::json!({"title": "表格资源", "subject": "语文", "grade": "03", "type": "教案", "scope": "private", "text": "正文"}),
        )),
        row(get.clone(), "/api/v1/me/resources", Api, SIGNED_IN),
        row(
            get.clone(),
            "/api/v1/reviews",
            Api,
            &[AdminOfSchool, AdminOfOtherSchool, DistrictAdmin],
        ),
        row(get.clone(), "/api/v1/me/follows", Api, SIGNED_IN),
        row(post.clone(), "/api/v1/me/follows", Api, SIGNED_IN)
            .body(Body::Json(serde_json::json!({"kind": "subject", "target": "数学"}))),
        row(
            Method::DELETE,
            "/api/v1/me/follows/subject/%E6%95%B0%E5%AD%A6",
            Api,
            SIGNED_IN,
        ),
        row(get.clone(), "/api/v1/search?q=光合作用", Api, SIGNED_IN),
        row(get.clone(), "/api/v1/search/suggest?q=光合", Api, SIGNED_IN),
        // The resource pages: the same rules as the API.
        row(get.clone(), "/resources?q=光合作用", Page, SIGNED_IN),
        row(get.clone(), "/resources/mine", Page, SIGNED_IN),
        row(get.clone(), "/resources/following", Page, SIGNED_IN),
        row(post.clone(), "/resources/following", Page, SIGNED_IN)
            .body(Body::Form(vec![("kind", "subject"), ("target", "生物")])),
        row(post.clone(), "/resources/following/remove", Page, SIGNED_IN)
            .body(Body::Form(vec![("kind", "subject"), ("target", "生物")])),
        row(
            get.clone(),
            "/resources/review",
            Page,
            &[AdminOfSchool, AdminOfOtherSchool, DistrictAdmin],
        ),
        row(get.clone(), "/resources/new", Page, STAFF),
        row(get.clone(), &resource_page, Page, SCHOOL_S1).hidden(),
        row(get.clone(), &in_review_page, Page, &[TeacherOfClass, AdminOfSchool]).hidden(),
        // ── assignments (issue 7) ──
        // Setting work: the class's teacher and the administrators above it; the school's
        // other people are refused, anyone else is told there is no such class.
        row(post.clone(), "/api/v1/assignments", Api, SETS_WORK)
            .body(Body::Json(serde_json::json!({"class": "k1", "title": "表格布置", "due_at": "2099-01-01T08:00:00+08:00", "scale": "bands"})))
            .hidden(),
        row(get.clone(), &assignment, Api, CLASS_K1).hidden(),
        row(get.clone(), "/api/v1/classes/k1/assignments", Api, CLASS_K1).hidden(),
        // The class's progress: its staff only, never pupils or families.
        row(get.clone(), &format!("{assignment}/progress"), Api, SETS_WORK).hidden(),
        row(get.clone(), "/api/v1/students/st1/assignments", Api, OWN_WORK).hidden(),
        row(get.clone(), &submission, Api, OWN_WORK).hidden(),
        row(get.clone(), &submission_file, Api, OWN_WORK).hidden(),
        // Marking: the class's teacher alone.
        row(post.clone(), &format!("{submission}/feedback"), Api, &[TeacherOfClass])
            .body(Body::Json(serde_json::json!({"comment": "表格批改", "score": 8})))
            .hidden(),
        // Handing in: the class's pupils alone.
        row(post.clone(), &format!("{open_assignment}/submissions"), Api, &[StudentSelf, Classmate])
            .body(Body::Json(serde_json::json!({"text": "表格提交"})))
            .hidden(),
        // The assignment pages: the same rules as the API.
        row(get.clone(), &assignment_page, Page, CLASS_K1).hidden(),
        row(get.clone(), "/classes/k1/assignments", Page, CLASS_K1).hidden(),
        row(get.clone(), "/classes/k1/assignments/new", Page, SETS_WORK).hidden(),
        row(post.clone(), "/classes/k1/assignments/new", Page, SETS_WORK)
            .body(Body::Form(vec![
                ("title", "表格页面作业"),
                ("due", "2099-01-01T08:00"),
                ("scale", "bands"),
            ]))
            .hidden(),
        row(get.clone(), &submission_page, Page, OWN_WORK).hidden(),
        row(post.clone(), &format!("{submission_page}/feedback"), Page, &[TeacherOfClass])
            .body(Body::Form(vec![("score", "7"), ("comment", "表格页面批改")]))
            .hidden(),
        row(post.clone(), &hand_in_page, Page, &[StudentSelf, Classmate])
            .body(Body::Form(vec![("text", "表格页面提交")]))
            .hidden(),
        // ── lessons (issue 7) ──
        // A lesson published to k1: the school's people; its history, the staff of k1.
        row(get.clone(), &made.lessons.api(""), Api, LESSON_READERS).hidden(),
        row(
            get.clone(),
            &made.lessons.api("/versions"),
            Api,
            &[TeacherOfClass, AdminOfSchool, DistrictAdmin],
        )
        .hidden(),
        // Scheduled for tomorrow: its owner and k1's administrators; a draft: its owner.
        row(
            get.clone(),
            &format!("/api/v1/lessons/{}", made.lessons.scheduled),
            Api,
            &[TeacherOfClass, AdminOfSchool, DistrictAdmin],
        )
        .hidden(),
        row(
            get.clone(),
            &format!("/api/v1/lessons/{}", made.lessons.draft),
            Api,
            &[TeacherOfClass],
        )
        .hidden(),
        row(get.clone(), "/api/v1/classes/k1/lessons", Api, CLASS_K1).hidden(),
        row(get.clone(), "/api/v1/me/lessons", Api, SIGNED_IN),
        row(get.clone(), "/api/v1/lessons/shared", Api, SIGNED_IN),
        // Teachers of a class and administrators write lessons.
        row(post.clone(), "/api/v1/lessons", Api, STAFF).body(Body::Json(
            serde_json::json!({"title": "表格课", "body": "正文"}),
        )),
        // Its owner edits, publishes and withdraws (k2: refused as not published, past the check).
        row(Method::PATCH, &made.lessons.api(""), Api, &[TeacherOfClass])
            .hidden()
            .body(Body::Json(serde_json::json!({"title": "勾股定理（修订）"}))),
        row(post.clone(), &made.lessons.api("/publish"), Api, &[TeacherOfClass])
            .hidden()
            .body(Body::Json(serde_json::json!({"classes": ["k1"]}))),
        row(post.clone(), &made.lessons.api("/unpublish"), Api, &[TeacherOfClass])
            .hidden()
            .body(Body::Json(serde_json::json!({"classes": ["k2"]}))),
        // Copies: one's own, or a colleague's published lesson (the school's staff).
        row(
            post.clone(),
            &made.lessons.api("/copy"),
            Api,
            &[TeacherOfClass, TeacherOfOtherClass, AdminOfSchool, DistrictAdmin],
        )
        .hidden(),
        row(
            post.clone(),
            &format!("/api/v1/lessons/{}/copy", made.lessons.draft),
            Api,
            &[TeacherOfClass],
        )
        .hidden(),
        // Attachments: read as the lesson; removed by its owner.
        row(
            get.clone(),
            &made.lessons.api(&format!("/attachments/{}", made.lessons.attachment)),
            Api,
            LESSON_READERS,
        )
        .hidden(),
        row(
            Method::DELETE,
            &made.lessons.api(&format!("/attachments/{}", made.lessons.attachment_api)),
            Api,
            &[TeacherOfClass],
        )
        .hidden(),
        // Questions: k1's pupils ask, its teacher answers, k1's people read.
        row(post.clone(), &made.lessons.api("/questions"), Api, &[StudentSelf, Classmate])
            .hidden()
            .body(Body::Json(serde_json::json!({"class": "k1", "body": "表格提问"}))),
        row(
            post.clone(),
            &made.lessons.api(&format!("/questions/{}/answers", made.lessons.question)),
            Api,
            &[TeacherOfClass],
        )
        .hidden()
        .body(Body::Json(serde_json::json!({"body": "表格回答"}))),
        row(get.clone(), &made.lessons.api("/questions?class=k1"), Api, CLASS_K1).hidden(),
        // The lesson pages: the same rules as the API.
        row(get.clone(), "/lessons", Page, SIGNED_IN),
        row(get.clone(), "/lessons/new", Page, STAFF),
        row(post.clone(), "/lessons/new", Page, STAFF)
            .body(Body::Form(vec![("title", "表格页面课"), ("body", "正文")])),
        row(get.clone(), &made.lessons.page(""), Page, LESSON_READERS).hidden(),
        row(get.clone(), &made.lessons.page("/edit"), Page, &[TeacherOfClass]).hidden(),
        row(post.clone(), &made.lessons.page("/edit"), Page, &[TeacherOfClass])
            .hidden()
            .body(Body::Form(vec![("title", "勾股定理"), ("body", "## 正文")])),
        row(
            get.clone(),
            &made.lessons.page("/history"),
            Page,
            &[TeacherOfClass, AdminOfSchool, DistrictAdmin],
        )
        .hidden(),
        row(post.clone(), &made.lessons.page("/publish"), Page, &[TeacherOfClass])
            .hidden()
            .body(Body::Form(vec![("classes", "k1")])),
        row(
            post.clone(),
            &format!("/lessons/{}/unpublish", made.lessons.withdraw),
            Page,
            &[TeacherOfClass],
        )
        .hidden()
        .body(Body::Form(vec![("class", "k1")])),
        row(
            post.clone(),
            &made.lessons.page("/copy"),
            Page,
            &[TeacherOfClass, TeacherOfOtherClass, AdminOfSchool, DistrictAdmin],
        )
        .hidden(),
        row(post.clone(), &made.lessons.page("/questions"), Page, &[StudentSelf, Classmate])
            .hidden()
            .body(Body::Form(vec![("class", "k1"), ("body", "表格页面提问")])),
        row(
            post.clone(),
            &made.lessons.page(&format!("/questions/{}/answers", made.lessons.question)),
            Page,
            &[TeacherOfClass],
        )
        .hidden()
        .body(Body::Form(vec![("body", "表格页面回答")])),
        row(
            post.clone(),
            &made.lessons.page(&format!("/attachments/{}/remove", made.lessons.attachment_page)),
            Page,
            &[TeacherOfClass],
        )
        .hidden(),
        // Attaching the published resource: by the page's form, then again through the API
        // (refused as already attached: past the check).
        row(post.clone(), &made.lessons.page("/attachments"), Page, &[TeacherOfClass])
            .hidden()
            // (A form's values are static here: the id is leaked once, for this one row.)
            .body(Body::Form(vec![(
                "resource",
                Box::leak(made.resource.clone().into_boxed_str()),
            )])),
        row(post.clone(), &made.lessons.api("/attachments"), Api, &[TeacherOfClass])
            .hidden()
            .body(Body::Json(serde_json::json!({"resource": made.resource}))),
        // ── activities, announcements and growth records (issue 7) ──
    ]
    .into_iter()
    .chain(spaces_rows(&made.spaces))
    .chain(vec![
        // Ending someone's sessions: themselves and the admins.
        row(
            post.clone(),
            "/api/v1/people/st1/sign-out-everywhere",
            Api,
            &[StudentSelf, AdminOfSchool, DistrictAdmin],
        )
        .ends_sessions(),
        // Ending one's own.
        row(post.clone(), "/api/v1/auth/logout", Api, EVERYONE).ends_sessions(),
        row(post.clone(), "/logout", Page, EVERYONE).ends_sessions(),
        row(
            post.clone(),
            "/api/v1/auth/logout-everywhere",
            Api,
            SIGNED_IN,
        )
        .ends_sessions(),
        row(
            post.clone(),
            "/account/sign-out-everywhere",
            Page,
            SIGNED_IN,
        )
        .ends_sessions(),
    ])
    .collect()
}

/// The district of the table.
fn package() -> Package {
    Package::new(&[1, 2, 3]).with_admins().with_second_class()
}

struct Browser {
    client: reqwest::Client,
    csrf: Option<String>,
    /// Each actor comes from an address of their own (through the trusted loopback proxy), so
    /// the sign-in throttle counts each separately, as it would real families.
    address: String,
}

async fn browser_for(app: &TestApp, actor: Actor) -> Browser {
    // Nobody keeps no cookies: a stranger's script, which no CSRF check stands in front of.
    let client = reqwest::Client::builder()
        .cookie_store(actor != Nobody)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let index = ACTORS.iter().position(|a| *a == actor).unwrap_or(0);
    let address = format!("198.51.100.{}", index + 1);
    let Some(sourced_id) = actor.sourced_id() else {
        return Browser {
            client,
            csrf: None,
            address,
        };
    };
    let person = kongjian::people::store::find_by_sourced_id(&app.state.db, sourced_id)
        .await
        .unwrap()
        .unwrap();
    let (code, _) = kongjian::auth::codes::issue(&app.state.db, &person, None, 30, Utc::now())
        .await
        .unwrap();
    let response = client
        .post(app.url("/api/v1/auth/activate"))
        .json(&serde_json::json!({"code": code, "password": "表格测试-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "{actor:?} cannot sign in"
    );
    let body: Value = response.json().await.unwrap();
    Browser {
        client,
        csrf: body["csrf_token"].as_str().map(str::to_owned),
        address,
    }
}

/// Allowed, denied, or asked to sign in: what one response means.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    Allowed,
    Denied,
    SignIn,
}

fn verdict(kind: Kind, status: StatusCode, location: Option<&str>, hidden: bool) -> Verdict {
    match (kind, status) {
        (_, StatusCode::NOT_FOUND) if hidden => Verdict::Denied,
        // Throttled ("reminded too recently") is past the authorization check; so is a
        // refused value (rows may send one on purpose, to act without changing anything).
        (Kind::Api, StatusCode::TOO_MANY_REQUESTS | StatusCode::UNPROCESSABLE_ENTITY) => {
            Verdict::Allowed
        }
        (_, s) if s.is_success() => Verdict::Allowed,
        (Kind::Page, StatusCode::SEE_OTHER | StatusCode::FOUND)
            if location.is_some_and(|l| l.starts_with("/login?next=")) =>
        {
            Verdict::SignIn
        }
        // A page form that succeeds may answer with a redirect elsewhere.
        (Kind::Page, s) if s.is_redirection() => Verdict::Allowed,
        (Kind::Api, StatusCode::UNAUTHORIZED) => Verdict::SignIn,
        (_, StatusCode::FORBIDDEN) => Verdict::Denied,
        (kind, s) => panic!("{kind:?} answered {s}: neither allowed nor denied"),
    }
}

async fn sign_everyone_in(app: &TestApp) -> Vec<(Actor, Browser)> {
    let mut browsers = Vec::new();
    for actor in ACTORS {
        browsers.push((actor, browser_for(app, actor).await));
    }
    browsers
}

async fn walk(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let package = package();
    let report = crate::fixtures::import(&app.state.db, &package, false).await;
    let import = report.id.clone().unwrap();
    let zip = package.zip();
    let made = make(&app).await;
    let mut browsers = sign_everyone_in(&app).await;
    let mut wrong = Vec::new();
    for row in table(&import, &made) {
        for (actor, browser) in &browsers {
            let mut request = browser
                .client
                .request(row.method.clone(), app.url(&row.path))
                .header("x-forwarded-for", &browser.address);
            if row.method != Method::GET
                && let Some(token) = &browser.csrf
            {
                request = request.header("x-csrf-token", token);
            }
            request = match &row.body {
                Body::Empty => request,
                Body::Json(json) => request.json(json),
                Body::Form(fields) => request.form(fields),
                Body::RosterZip => request
                    .header("content-type", "application/zip")
                    .body(zip.clone()),
                Body::Png => request.body(PNG.to_vec()),
                Body::RosterForm => request.multipart(
                    reqwest::multipart::Form::new()
                        .part(
                            "file",
                            reqwest::multipart::Part::bytes(zip.clone()).file_name("roster.zip"),
                        )
                        .text("dry_run", "on"),
                ),
            };
            let response = request.send().await.unwrap();
            let status = response.status();
            let location = response
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let problem = match row.expect {
                Expect::Same(expected) => {
                    (status != expected).then(|| format!("expected {expected}"))
                }
                Expect::Allowed(allowed) => {
                    let got = verdict(row.kind, status, location.as_deref(), row.hidden);
                    let expected = if allowed.contains(actor) {
                        Verdict::Allowed
                    } else if *actor == Nobody {
                        Verdict::SignIn
                    } else {
                        Verdict::Denied
                    };
                    (got != expected).then(|| format!("expected {expected:?}, got {got:?}"))
                }
            };
            if let Some(problem) = problem {
                wrong.push(format!(
                    "{} {} as {actor:?}: {problem} ({status})",
                    row.method, row.path
                ));
            }
        }
        if row.ends_sessions {
            browsers = sign_everyone_in(&app).await;
        }
    }
    assert!(
        wrong.is_empty(),
        "authorization table:\n{}",
        wrong.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_for_every_relationship_sqlite() {
    walk(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_for_every_relationship_postgres() {
    walk(Backend::Postgres).await;
}
