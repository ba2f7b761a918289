//! Class and school activities: a permission slip answered per child by each family until the
//! deadline (on a clock the test sets), a sign-up that refuses the place too many (also when
//! families answer at once), who sees what, cancelling, the organisers' answers and their CSV,
//! and school announcements — on SQLite and PostgreSQL.

use std::collections::BTreeSet;

use chrono::{TimeDelta, TimeZone};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

use crate::messaging::{district, get, post, token};
use crate::on_both_databases;
use crate::support::TestApp;
use kongjian::activities::entity::answer;

/// Shanghai wall-clock time on 2026-12-04 (+ `days`).
pub fn shanghai(days: i64, h: u32, m: u32) -> chrono::DateTime<chrono::Utc> {
    chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(2026, 12, 4, h, m, 0)
        .single()
        .unwrap()
        .with_timezone(&chrono::Utc)
        + TimeDelta::days(days)
}

/// The 春游 permission slip of class k1, by t1: Friday 08:30, answers until Wednesday 18:00.
pub fn spring_outing() -> Value {
    json!({
        "class": "k1",
        "title": "春游：西湖",
        "description": "**集合**：学校东门\n\n请带好水和午餐。",
        "place": "西湖",
        "starts_at": "2026-12-11T08:30:00+08:00",
        "ends_at": "2026-12-11T15:00:00+08:00",
        "ask": "permission",
        "question": "是否同意孩子参加春游？",
        "deadline": "2026-12-09 18:00",
    })
}

pub async fn create(app: &TestApp, who: &str, body: Value) -> String {
    let (status, made) = post(app, &token(app, who).await, "/api/v1/activities", body).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    made["id"].as_str().unwrap().to_owned()
}

pub async fn answer(
    app: &TestApp,
    who: &str,
    id: &str,
    student: &str,
    yes: bool,
    note: &str,
) -> (StatusCode, Value) {
    let choice = if yes { "yes" } else { "no" };
    post(
        app,
        &token(app, who).await,
        &format!("/api/v1/activities/{id}/answers"),
        json!({"student": student, "answer": choice, "note": note}),
    )
    .await
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

fn message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap_or("")
}

on_both_databases! {
    async fn a_permission_slip_is_answered_per_child_by_each_family_until_the_deadline(app) {
        district(&app).await;
        app.state.clock.set(shanghai(0, 10, 0));
        let id = create(&app, "t1", spring_outing()).await;
        let answers = format!("/api/v1/activities/{id}/answers");

        // p8 answers for each of their two children; each child has their own answer.
        assert_eq!(answer(&app, "p8", &id, "st7", true, "").await.0, StatusCode::CREATED);
        assert_eq!(answer(&app, "p8", &id, "st8", false, "感冒了").await.0, StatusCode::CREATED);
        let (status, seen) = get(&app, &token(&app, "p8").await, &format!("/api/v1/activities/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{seen}");
        let mine: Vec<(&str, &str)> = seen["my_answers"].as_array().unwrap().iter()
            .map(|a| (a["student"]["sourced_id"].as_str().unwrap(), a["answer"].as_str().unwrap()))
            .collect::<BTreeSet<_>>().into_iter().collect();
        assert_eq!(mine, [("st7", "yes"), ("st8", "no")]);
        assert!(seen.get("counts").is_none(), "families see no counts: {seen}");
        assert_eq!(seen["may"]["answer"], true);
        assert!(seen["description_html"].as_str().unwrap().contains("<strong>集合</strong>"));

        // p1 answers, then changes the answer: still one row for st1.
        assert_eq!(answer(&app, "p1", &id, "st1", true, "").await.0, StatusCode::CREATED);
        let (status, changed) = answer(&app, "p1", &id, "st1", false, "那天要去医院").await;
        assert_eq!(status, StatusCode::OK, "{changed}");
        assert_eq!(changed["answer"], "no");
        let rows = answer::Entity::find().filter(answer::Column::ActivityId.eq(id.as_str())).count(&app.state.db).await.unwrap();
        assert_eq!(rows, 3);
        let (_, own) = get(&app, &token(&app, "p1").await, &format!("/api/v1/activities/{id}")).await;
        assert_eq!(own["my_answers"].as_array().unwrap().len(), 1, "only their own child: {own}");
        assert_eq!(own["my_answers"][0]["note"], "那天要去医院");

        // Another family's child, or a family of another class: not found.
        assert_eq!(answer(&app, "p2", &id, "st1", true, "").await.0, StatusCode::NOT_FOUND);
        assert_eq!(answer(&app, "p1", &id, "st9", true, "").await.0, StatusCode::NOT_FOUND);
        assert_eq!(answer(&app, "p9", &id, "st9", true, "").await.0, StatusCode::NOT_FOUND);
        let (status, body) = answer(&app, "p1", &id, "st1", true, "").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = post(&app, &token(&app, "p1").await, &answers, json!({"student": "st1", "answer": "maybe"})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(message(&body).contains("answer"), "{body}");
        answer(&app, "p1", &id, "st1", false, "那天要去医院").await;

        // The organiser sees every answer, who has not answered, and the counts.
        let t1 = token(&app, "t1").await;
        let (_, detail) = get(&app, &t1, &format!("/api/v1/activities/{id}")).await;
        assert_eq!(detail["counts"], json!({"yes": 1, "no": 2, "unanswered": 3, "pupils": 6}));
        let (status, list) = get(&app, &t1, &answers).await;
        assert_eq!(status, StatusCode::OK, "{list}");
        let st1 = list["answers"].as_array().unwrap().iter().find(|a| a["student"] == "st1").unwrap();
        assert_eq!(st1["answered_by"]["sourced_id"], "p1");
        assert_eq!(st1["phone"], "13800000001");
        assert_eq!(st1["class"], "三年级1班");
        let waiting: BTreeSet<&str> = list["unanswered"].as_array().unwrap().iter().map(|w| w["student"].as_str().unwrap()).collect();
        assert_eq!(waiting, BTreeSet::from(["bmp", "st2", "st3"]));
        for (who, status) in [("p1", StatusCode::FORBIDDEN), ("st1", StatusCode::FORBIDDEN), ("t3", StatusCode::NOT_FOUND),
            ("sa1", StatusCode::OK), ("da", StatusCode::OK), ("sa2", StatusCode::NOT_FOUND)] {
            assert_eq!(get(&app, &token(&app, who).await, &answers).await.0, status, "{who}");
        }

        // The same as CSV: a byte-order mark, a Chinese header, one row per pupil.
        let response = app.client.get(app.url(&format!("{answers}.csv"))).bearer_auth(&t1).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        assert!(response.headers()["content-disposition"].to_str().unwrap().contains("filename*=UTF-8''"));
        let bytes = response.bytes().await.unwrap();
        assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "UTF-8 with BOM");
        let mut reader = csv::Reader::from_reader(&bytes[3..]);
        let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_owned).collect();
        assert_eq!(header, ["学号", "学生", "班级", "回复", "回复人", "联系电话", "回复时间", "备注"]);
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 6);
        let row = |sid: &str| rows.iter().find(|r| r[0].trim() == sid).unwrap_or_else(|| panic!("{sid} in {rows:?}")).clone();
        let st1 = row("st1");
        assert_eq!(&st1[0], "st1", "a sourcedId with letters is plain text");
        assert_eq!(&st1[2], "三年级1班");
        assert_eq!(&st1[3], "不同意");
        assert_eq!(&st1[5], "\t13800000001", "a phone number stays text in Excel");
        assert_eq!(&st1[6], "2026-12-04 10:00");
        assert_eq!(&st1[7], "那天要去医院");
        assert_eq!(&row("st7")[3], "同意");
        let st2 = row("st2");
        assert_eq!((&st2[3], &st2[5]), ("未回复", "\t13800000002"));
        let response = app.client.get(app.url(&format!("{answers}.csv"))).bearer_auth(token(&app, "p1").await).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);

        // After the deadline nothing is answered or changed.
        app.state.clock.set(shanghai(5, 18, 1));
        let (status, late) = answer(&app, "p2", &id, "st2", true, "").await;
        assert_eq!(status, StatusCode::CONFLICT, "{late}");
        assert_eq!(code(&late), "answers_closed");
        assert!(message(&late).contains("2026-12-09 18:00"), "{late}");
        assert_eq!(answer(&app, "p1", &id, "st1", true, "").await.0, StatusCode::CONFLICT);
        let (_, closed) = get(&app, &token(&app, "p1").await, &format!("/api/v1/activities/{id}")).await;
        assert_eq!((closed["open"].clone(), closed["may"]["answer"].clone()), (json!(false), json!(false)));
    }
}

on_both_databases! {
    async fn bad_times_and_fields_are_refused_naming_the_field(app) {
        district(&app).await;
        app.state.clock.set(shanghai(0, 10, 0));
        let t1 = token(&app, "t1").await;
        let cases = [
            (json!({"ends_at": "2026-12-11T08:00:00+08:00"}), "ends_at"),
            (json!({"deadline": "2026-12-11T09:00:00+08:00"}), "deadline"),
            (json!({"deadline": "2026-12-03T09:00:00+08:00"}), "deadline"),
            (json!({"starts_at": "2026-12-01T09:00:00+08:00", "ends_at": null, "deadline": null}), "starts_at"),
            (json!({"starts_at": "下周五"}), "starts_at"),
            (json!({"title": "  "}), "title"),
            (json!({"ask": "vote"}), "ask"),
            (json!({"question": ""}), "question"),
            (json!({"capacity": 30}), "capacity"),
            (json!({"description": "第一行\n<script>alert(1)</script>"}), "description"),
            (json!({"class": "k404"}), "class"),
            (json!({"school": "s1"}), "class / school"),
        ];
        for (change, field) in cases {
            let mut body = spring_outing();
            for (k, v) in change.as_object().unwrap() {
                body[k] = v.clone();
            }
            let (status, refused) = post(&app, &t1, "/api/v1/activities", body).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {refused}");
            assert!(message(&refused).contains(field), "{field}: {refused}");
        }
        let stored = kongjian::activities::entity::activity::Entity::find().count(&app.state.db).await.unwrap();
        assert_eq!(stored, 0, "nothing was stored");

        // Who organises where: a class's teachers and its school's administrators; a school's
        // administrators.
        assert_eq!(post(&app, &token(&app, "t3").await, "/api/v1/activities", spring_outing()).await.0, StatusCode::FORBIDDEN);
        assert_eq!(post(&app, &token(&app, "p1").await, "/api/v1/activities", spring_outing()).await.0, StatusCode::FORBIDDEN);
        assert_eq!(post(&app, &token(&app, "sa2").await, "/api/v1/activities", spring_outing()).await.0, StatusCode::FORBIDDEN);
        create(&app, "sa1", spring_outing()).await;
        let mut school = spring_outing();
        school["class"] = Value::Null;
        school["school"] = json!("s1");
        assert_eq!(post(&app, &t1, "/api/v1/activities", school.clone()).await.0, StatusCode::FORBIDDEN);
        create(&app, "da", school).await;
    }
}

on_both_databases! {
    async fn a_signup_refuses_the_place_too_many_even_when_families_answer_at_once(app) {
        district(&app).await;
        app.state.clock.set(shanghai(0, 10, 0));
        let signup = |capacity: i64| json!({
            "school": "s1", "title": "科技馆参观", "description": "", "place": "科技馆",
            "starts_at": "2026-12-12 09:00", "ask": "signup", "question": "是否报名？",
            "capacity": capacity, "deadline": "2026-12-10 12:00",
        });
        let id = create(&app, "sa1", signup(2)).await;
        assert_eq!(answer(&app, "p1", &id, "st1", true, "").await.0, StatusCode::CREATED);
        assert_eq!(answer(&app, "p9", &id, "st9", true, "").await.0, StatusCode::CREATED, "a school activity reaches every class");
        let (status, full) = answer(&app, "p3", &id, "st3", true, "").await;
        assert_eq!(status, StatusCode::CONFLICT, "{full}");
        assert_eq!(code(&full), "activity_full");
        assert!(message(&full).contains('2'), "{full}");
        assert_eq!(answer(&app, "p3", &id, "st3", false, "").await.0, StatusCode::CREATED, "no is always possible");
        let (_, seen) = get(&app, &token(&app, "p3").await, &format!("/api/v1/activities/{id}")).await;
        assert_eq!(seen["full"], true);
        // A place given back is taken by the next family.
        assert_eq!(answer(&app, "p1", &id, "st1", false, "").await.0, StatusCode::OK);
        assert_eq!(answer(&app, "p3", &id, "st3", true, "").await.0, StatusCode::OK);
        assert_eq!(answer(&app, "p9", &id, "st9", true, "想去").await.0, StatusCode::OK, "a yes kept is no new place");

        // One place, five families at once: exactly one gets it.
        let one = create(&app, "sa1", signup(1)).await;
        let mut tasks = Vec::new();
        for (who, child) in [("p1", "st1"), ("p2", "st2"), ("p3", "st3"), ("p9", "st9"), ("p8", "st7")] {
            let (client, url, secret) = (app.client.clone(), app.url(&format!("/api/v1/activities/{one}/answers")), token(&app, who).await);
            tasks.push(tokio::spawn(async move {
                client.post(url).bearer_auth(secret).json(&json!({"student": child, "answer": "yes"})).send().await.unwrap().status()
            }));
        }
        let mut statuses = Vec::new();
        for t in tasks {
            statuses.push(t.await.unwrap());
        }
        assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CREATED).count(), 1, "{statuses:?}");
        assert_eq!(statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count(), 4, "{statuses:?}");
        let yes = answer::Entity::find().filter(answer::Column::ActivityId.eq(one.as_str())).count(&app.state.db).await.unwrap();
        assert_eq!(yes, 1);
    }
}

on_both_databases! {
    async fn activities_are_seen_by_their_people_and_cancelled_with_a_reason(app) {
        district(&app).await;
        app.state.clock.set(shanghai(0, 10, 0));
        let class_one = create(&app, "t1", spring_outing()).await;
        let mut school = spring_outing();
        school["class"] = Value::Null;
        school["school"] = json!("s1");
        school["title"] = json!("运动会");
        let school_one = create(&app, "sa1", school).await;

        let ids = |list: &Value| -> Vec<String> {
            list["activities"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap().to_owned()).collect()
        };
        for who in ["st1", "st2", "p1", "p8", "t1", "sa1", "da"] {
            let (status, list) = get(&app, &token(&app, who).await, "/api/v1/classes/k1/activities").await;
            assert_eq!(status, StatusCode::OK, "{who}: {list}");
            assert_eq!(ids(&list), std::slice::from_ref(&class_one), "{who}");
            assert_eq!(get(&app, &token(&app, who).await, &format!("/api/v1/activities/{class_one}")).await.0, StatusCode::OK, "{who}");
        }
        for who in ["t3", "st9", "p9", "sa2", "t2"] {
            assert_eq!(get(&app, &token(&app, who).await, "/api/v1/classes/k1/activities").await.0, StatusCode::NOT_FOUND, "{who}");
            assert_eq!(get(&app, &token(&app, who).await, &format!("/api/v1/activities/{class_one}")).await.0, StatusCode::NOT_FOUND, "{who}");
        }
        for who in ["st1", "p1", "p9", "st9", "t3", "sa1", "da"] {
            let (status, list) = get(&app, &token(&app, who).await, "/api/v1/schools/s1/activities").await;
            assert_eq!(status, StatusCode::OK, "{who}: {list}");
            assert_eq!(ids(&list), std::slice::from_ref(&school_one), "{who}");
        }
        for who in ["t2", "sa2"] {
            assert_eq!(get(&app, &token(&app, who).await, "/api/v1/schools/s1/activities").await.0, StatusCode::NOT_FOUND, "{who}");
            assert_eq!(get(&app, &token(&app, who).await, &format!("/api/v1/activities/{school_one}")).await.0, StatusCode::NOT_FOUND, "{who}");
        }
        // A pupil sees the answer their family gave for them, and no counts.
        answer(&app, "p1", &class_one, "st1", true, "").await;
        let (_, pupil) = get(&app, &token(&app, "st1").await, &format!("/api/v1/activities/{class_one}")).await;
        assert_eq!(pupil["my_answers"][0]["answer"], "yes", "{pupil}");
        assert!(pupil.get("counts").is_none());
        let (_, teacher) = get(&app, &token(&app, "t1").await, &format!("/api/v1/activities/{school_one}")).await;
        assert!(teacher.get("counts").is_none(), "a school activity's counts are its organisers': {teacher}");

        // Cancelling: the organiser or the school's administrators, with a reason; kept.
        let cancel = format!("/api/v1/activities/{class_one}/cancel");
        assert_eq!(post(&app, &token(&app, "t3").await, &cancel, json!({"reason": "下雨"})).await.0, StatusCode::NOT_FOUND);
        assert_eq!(post(&app, &token(&app, "p1").await, &cancel, json!({"reason": "下雨"})).await.0, StatusCode::FORBIDDEN);
        let (status, body) = post(&app, &token(&app, "t1").await, &cancel, json!({"reason": " "})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(message(&body).contains("reason"));
        let (status, body) = post(&app, &token(&app, "t1").await, &cancel, json!({"reason": "天气预报有大雨"})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["cancel_reason"], "天气预报有大雨");
        let (status, again) = post(&app, &token(&app, "sa1").await, &cancel, json!({"reason": "再次"})).await;
        assert_eq!((status, again["cancel_reason"].clone()), (StatusCode::OK, body["cancel_reason"].clone()), "the first reason stands");
        assert_eq!(again["cancelled_at"], body["cancelled_at"]);
        let (status, refused) = answer(&app, "p2", &class_one, "st2", true, "").await;
        assert_eq!((status, code(&refused)), (StatusCode::CONFLICT, "activity_cancelled"), "{refused}");
        assert!(message(&refused).contains("天气预报有大雨"));
        let (_, seen) = get(&app, &token(&app, "p1").await, &format!("/api/v1/activities/{class_one}")).await;
        assert_eq!(seen["cancel_reason"], "天气预报有大雨");
        assert_eq!(seen["my_answers"][0]["answer"], "yes", "answers are kept");
        let (status, _) = post(&app, &token(&app, "sa1").await, &format!("/api/v1/activities/{school_one}/cancel"), json!({"reason": "场地维修"})).await;
        assert_eq!(status, StatusCode::OK);

        // The spaces' read: what has not ended, cancelled ones left out.
        let again = create(&app, "t1", spring_outing()).await;
        let db = &app.state.db;
        let classes: BTreeSet<String> = [class_id(&app, "k1").await].into();
        let upcoming = kongjian::activities::service::upcoming_for_classes(db, &classes, &BTreeSet::new(), app.state.clock.now(), 10).await.unwrap();
        assert_eq!(upcoming.iter().map(|a| a.id.clone()).collect::<Vec<_>>(), std::slice::from_ref(&again));
        app.state.clock.set(shanghai(7, 16, 0));
        let later = kongjian::activities::service::upcoming_for_classes(db, &classes, &BTreeSet::new(), app.state.clock.now(), 10).await.unwrap();
        assert!(later.is_empty(), "it ended at 15:00");
    }
}

pub async fn class_id(app: &TestApp, sourced_id: &str) -> String {
    kongjian::people::relations::class_by_sourced_id(&app.state.db, sourced_id)
        .await
        .unwrap()
        .unwrap()
        .id
}

on_both_databases! {
    async fn announcements_reach_the_schools_people_newest_first(app) {
        district(&app).await;
        app.state.clock.set(shanghai(0, 9, 0));
        let path = "/api/v1/schools/s1/announcements";
        let sa1 = token(&app, "sa1").await;
        let (status, first) = post(&app, &sa1, path, json!({"title": "寒假安排", "body": "1 月 20 日起放假。"})).await;
        assert_eq!(status, StatusCode::CREATED, "{first}");
        app.state.clock.advance(TimeDelta::hours(1));
        let (_, second) = post(&app, &sa1, path, json!({"title": "期末考试", "body": "## 时间\n\n1 月 15 日"})).await;
        for (who, status) in [("t1", StatusCode::FORBIDDEN), ("p1", StatusCode::FORBIDDEN), ("st1", StatusCode::FORBIDDEN),
            ("sa2", StatusCode::NOT_FOUND), ("t2", StatusCode::NOT_FOUND)] {
            assert_eq!(post(&app, &token(&app, who).await, path, json!({"title": "x", "body": "y"})).await.0, status, "{who}");
        }
        let (status, refused) = post(&app, &sa1, path, json!({"title": "x", "body": "好\n\n<img src=x onerror=alert(1)>"})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(message(&refused).contains("body") && message(&refused).contains('3'), "{refused}");
        let (status, _) = post(&app, &sa1, path, json!({"title": "", "body": "y"})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

        for who in ["p1", "p9", "st1", "st9", "t1", "t3", "sa1", "da"] {
            let (status, list) = get(&app, &token(&app, who).await, path).await;
            assert_eq!(status, StatusCode::OK, "{who}: {list}");
            let titles: Vec<&str> = list["announcements"].as_array().unwrap().iter().map(|a| a["title"].as_str().unwrap()).collect();
            assert_eq!(titles, ["期末考试", "寒假安排"], "{who}");
        }
        for who in ["t2", "sa2"] {
            assert_eq!(get(&app, &token(&app, who).await, path).await.0, StatusCode::NOT_FOUND, "{who}");
        }
        let (_, page) = get(&app, &token(&app, "p1").await, &format!("{path}?limit=1")).await;
        assert!(page["announcements"][0]["body_html"].as_str().unwrap().contains("<h2>时间</h2>"));
        assert_eq!(page["announcements"][0]["may_withdraw"], false);
        let next = page["next"].as_str().unwrap();
        let (_, rest) = get(&app, &token(&app, "p1").await, &format!("{path}?limit=1&after={next}")).await;
        assert_eq!(rest["announcements"][0]["title"], "寒假安排");
        assert!(rest["next"].is_null());

        // Withdrawn: hidden, kept.
        let withdraw = format!("/api/v1/announcements/{}/withdraw", second["id"].as_str().unwrap());
        assert_eq!(post(&app, &token(&app, "t1").await, &withdraw, json!({})).await.0, StatusCode::FORBIDDEN);
        assert_eq!(post(&app, &token(&app, "sa2").await, &withdraw, json!({})).await.0, StatusCode::NOT_FOUND);
        let (status, withdrawn) = post(&app, &sa1, &withdraw, json!({})).await;
        assert_eq!(status, StatusCode::OK);
        app.state.clock.advance(TimeDelta::minutes(1));
        let (status, again) = post(&app, &sa1, &withdraw, json!({})).await;
        assert_eq!((status, &again["withdrawn_at"]), (StatusCode::OK, &withdrawn["withdrawn_at"]), "withdrawing again changes nothing");
        let (_, list) = get(&app, &token(&app, "p1").await, path).await;
        assert_eq!(list["announcements"].as_array().unwrap().len(), 1);
        let kept = kongjian::activities::entity::announcement::Entity::find().count(&app.state.db).await.unwrap();
        assert_eq!(kept, 2);
        let school = kongjian::activities::access::school_by_sourced_id(&app.state.db, "s1").await.unwrap().unwrap();
        let current = kongjian::activities::announcements::announcements_for_org(&app.state.db, &school.id, 5).await.unwrap();
        assert_eq!(current.iter().map(|a| a.title.as_str()).collect::<Vec<_>>(), ["寒假安排"]);
    }
}

/// A browser signed in as `who`.
pub async fn browser<'a>(app: &'a TestApp, who: &str) -> crate::pages::Browser<'a> {
    let b = crate::pages::Browser::new(app);
    b.activate(who).await;
    b
}

on_both_databases! {
    async fn families_answer_and_organisers_follow_on_the_pages(app) {
        district(&app).await;
        app.state.clock.set(shanghai(0, 10, 0));
        let teacher = browser(&app, "t1").await;
        let (status, form) = teacher.get("/classes/k1/activities/new").await;
        assert_eq!(status, StatusCode::OK, "{form}");
        assert!(form.contains(r#"name="viewport""#) && form.contains("/static/activities.css?v="));
        assert!(form.contains(r#"name="starts_at" type="datetime-local""#) && form.contains("面向：三年级1班"));
        let fields = [("title", "春游"), ("place", "西湖"), ("starts_at", "2026-12-11T08:30"), ("ends_at", "2026-12-11T07:00"),
            ("ask", "permission"), ("question", "是否同意孩子参加春游？"), ("deadline", "2026-12-09T18:00"), ("description", "带午餐")];
        let refused = teacher.submit("/classes/k1/activities/new", "/classes/k1/activities/new", &fields).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = refused.text().await.unwrap();
        assert!(html.contains("ends_at") && html.contains(r#"value="西湖""#), "the problem is said and the form kept: {html}");
        let mut fields = fields.to_vec();
        fields[3].1 = "2026-12-11T15:00";
        let made = teacher.submit("/classes/k1/activities/new", "/classes/k1/activities/new", &fields).await;
        assert_eq!(made.status(), StatusCode::SEE_OTHER);
        let path = crate::pages::location(&made).to_owned();
        assert!(path.starts_with("/activities/"), "{path}");

        // A parent of two answers for each child on the page.
        let parent = browser(&app, "p8").await;
        let (status, page) = parent.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains(r#"data-child="st7""#) && page.contains(r#"data-child="st8""#), "{page}");
        assert!(page.contains("2026-12-11 08:30 – 15:00") && page.contains("2026-12-09 18:00"));
        assert!(!page.contains("data-counts") && !page.contains("13800000001"), "nothing of other families");
        let answered = parent.submit(&path, &format!("{path}/answers"), &[("student", "st7"), ("answer", "yes"), ("note", "")]).await;
        assert_eq!(crate::pages::location(&answered), format!("{path}?done=answered"));
        let (_, page) = parent.get(&format!("{path}?done=answered")).await;
        assert!(page.contains("已保存您的回复") && page.contains(r#"class="answer-yes">同意"#), "{page}");
        let someone_else = parent.submit(&path, &format!("{path}/answers"), &[("student", "st1"), ("answer", "yes")]).await;
        assert_eq!(someone_else.status(), StatusCode::NOT_FOUND);

        // The organiser sees the answers, the counts, the CSV link and the cancel form.
        let (_, page) = teacher.get(&path).await;
        assert!(page.contains("是 1 · 否 0 · 未回复 5（共 6 名学生）"), "{page}");
        assert!(page.contains("13800000008") && page.contains(&format!("{}/answers.csv", path.replace("/activities/", "/api/v1/activities/"))));
        assert!(page.contains(&format!(r#"action="{path}/cancel""#)));
        let csv = teacher.client.get(app.url(&format!("/api/v1{path}/answers.csv"))).send().await.unwrap();
        assert_eq!(csv.status(), StatusCode::OK, "the CSV link works in the browser session");
        let (_, english) = {
            let r = teacher.client.get(app.url(&path)).header("accept-language", "en").send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        };
        assert!(english.contains("Yes 1 · No 0 · Not answered 5 (of 6 pupils)"), "{english}");

        // After the deadline the form is gone; a cancellation is said with its reason.
        app.state.clock.set(shanghai(5, 18, 30));
        let (_, page) = parent.get(&path).await;
        assert!(page.contains("回复已截止") && !page.contains(&format!(r#"action="{path}/answers""#)), "{page}");
        let cancelled = teacher.submit(&path, &format!("{path}/cancel"), &[("reason", "大雨")]).await;
        assert_eq!(crate::pages::location(&cancelled), format!("{path}?done=cancelled"));
        let (_, page) = parent.get(&path).await;
        assert!(page.contains("活动已取消") && page.contains("大雨"), "{page}");
        let (status, _) = browser(&app, "p9").await.get(&path).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

on_both_databases! {
    async fn administrators_post_and_withdraw_announcements_on_the_page(app) {
        district(&app).await;
        let admin = browser(&app, "sa1").await;
        let posted = admin.submit("/schools/s1/announcements", "/schools/s1/announcements", &[("title", "寒假通知"), ("body", "**1 月 20 日**放假")]).await;
        assert_eq!(crate::pages::location(&posted), "/schools/s1/announcements?done=posted");
        let refused = admin.submit("/schools/s1/announcements", "/schools/s1/announcements", &[("title", "x"), ("body", "<script>x</script>")]).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let parent = browser(&app, "p9").await;
        let (status, page) = parent.get("/schools/s1/announcements").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("寒假通知") && page.contains("<strong>1 月 20 日</strong>"), "{page}");
        assert!(!page.contains("/withdraw") && !page.contains(r#"name="body""#), "families only read: {page}");
        let (_, page) = admin.get("/schools/s1/announcements").await;
        let id = page.split(r#"data-announcement=""#).nth(1).unwrap().split('"').next().unwrap().to_owned();
        let withdrawn = admin.submit("/schools/s1/announcements", &format!("/announcements/{id}/withdraw"), &[]).await;
        assert_eq!(crate::pages::location(&withdrawn), "/schools/s1/announcements?done=withdrawn");
        let (_, page) = parent.get("/schools/s1/announcements").await;
        assert!(!page.contains("寒假通知") && page.contains("还没有公告"));
        assert_eq!(browser(&app, "t2").await.get("/schools/s1/announcements").await.0, StatusCode::NOT_FOUND);
    }
}
