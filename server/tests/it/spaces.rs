//! The spaces themselves: what a pupil, a teacher and a parent see on arrival, a class's space
//! with its roster masked for all but its teachers, and a school's space — each filled by the
//! lessons, assignments, feedback, notices and announcements made through the API, on SQLite
//! and PostgreSQL.

use chrono::{TimeDelta, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::fixtures::Package;
use crate::messaging::{get, post, token};
use crate::on_both_databases;
use crate::pages::Browser;
use crate::support::TestApp;

/// s1: k1 (head teacher t1; pupils st1, st2, st5 with parents p1, p2, p5), k2 (t3; st9 with p9);
/// s2 (t2, sa2); sa1 administers s1. st5 has a 全国学籍号 and p5 a phone number.
async fn district(app: &TestApp) {
    let package = Package::new(&[1, 2]).with_admins().with_second_class();
    package.append(
        "users.csv",
        "st5,,,true,st5,{CN-XJH:G44010620150101001X},小5,陈,,,,,,p5,03,,,,,,s1,\n\
         p5,,,true,,,5家长,陈,,,,,13812345678,st5,,,,,,,s1,\n",
    );
    package.append(
        "roles.csv",
        "r-st5,,,st5,primary,student,,,s1,\nr-p5,,,p5,primary,parent,,,s1,\n",
    );
    package.append("enrollments.csv", "e-st5,,,k1,s1,st5,student,,,\n");
    crate::fixtures::import(&app.state.db, &package, false).await;
}

async fn ok(app: &TestApp, who: &str, path: &str, body: Value) -> Value {
    let (status, answer) = post(app, &token(app, who).await, path, body).await;
    assert!(status.is_success(), "{who} POST {path}: {status} {answer}");
    answer
}

/// A lesson by `who`, published to `classes` (none: a draft).
async fn lesson(app: &TestApp, who: &str, title: &str, classes: &[&str]) -> String {
    let made = ok(
        app,
        who,
        "/api/v1/lessons",
        json!({"title": title, "body": "## 目标\n\n读懂图像。"}),
    )
    .await;
    let id = made["id"].as_str().unwrap().to_owned();
    if !classes.is_empty() {
        ok(
            app,
            who,
            &format!("/api/v1/lessons/{id}/publish"),
            json!({"classes": classes}),
        )
        .await;
    }
    id
}

async fn assignment(
    app: &TestApp,
    who: &str,
    class: &str,
    title: &str,
    due_in_hours: i64,
) -> String {
    let due = (Utc::now() + TimeDelta::hours(due_in_hours)).to_rfc3339();
    let made = ok(app, who, "/api/v1/assignments",
        json!({"class": class, "title": title, "instructions": "完成练习。", "due_at": due, "scale": "bands"})).await;
    made["id"].as_str().unwrap().to_owned()
}

async fn hand_in(app: &TestApp, who: &str, assignment: &str) -> String {
    let made = ok(
        app,
        who,
        &format!("/api/v1/assignments/{assignment}/submissions"),
        json!({"text": "我的答案"}),
    )
    .await;
    made["id"].as_str().unwrap().to_owned()
}

async fn space(app: &TestApp, who: &str) -> Value {
    let (status, body) = get(app, &token(app, who).await, "/api/v1/me/space").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn titles(lines: &Value) -> Vec<&str> {
    lines
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["title"].as_str().unwrap())
        .collect()
}

on_both_databases! {
    async fn a_pupil_sees_their_classes_lessons_assignments_and_feedback(app) {
        district(&app).await;
        lesson(&app, "t1", "一次函数", &["k1"]).await;
        lesson(&app, "t1", "草稿：还没写完", &[]).await;
        lesson(&app, "t3", "二班的课", &["k2"]).await;
        let done = assignment(&app, "t1", "k1", "练习一", 24).await;
        let open = assignment(&app, "t1", "k1", "练习二", 48).await;
        assignment(&app, "t3", "k2", "二班的作业", 24).await;
        let handed = hand_in(&app, "st1", &done).await;
        ok(&app, "t1", &format!("/api/v1/submissions/{handed}/feedback"), json!({"comment": "思路清楚", "score": "良"})).await;

        let mine = space(&app, "st1").await;
        let s = &mine["student"];
        assert_eq!(s["classes"][0]["sourced_id"], "k1");
        assert_eq!(s["classes"][0]["teachers"], json!(["王老师"]));
        assert_eq!(titles(&s["lessons"]), ["一次函数"], "drafts and other classes' lessons stay out");
        let by_id = |id: &str| s["assignments"].as_array().unwrap().iter().find(|a| a["id"] == id).cloned().unwrap();
        assert_eq!(s["assignments"].as_array().unwrap().len(), 2);
        assert_eq!(by_id(&done)["status"], "returned");
        assert_eq!(by_id(&done)["feedback"], json!({"comment": "思路清楚", "score": "良"}));
        assert_eq!(by_id(&open)["status"], "not_started");
        assert_eq!(by_id(&open)["feedback"], Value::Null);
        assert!(mine.get("teacher").is_none() && mine.get("children").is_none());

        // A classmate sees the same lessons and nothing of st1's mark.
        let theirs = space(&app, "st2").await;
        let text = theirs.to_string();
        assert!(!text.contains("思路清楚") && !text.contains("良"), "{text}");
        assert_eq!(theirs["student"]["assignments"][0]["status"], "not_started");

        // The page shows the same.
        let browser = Browser::new(&app);
        browser.activate("st1").await;
        let (status, html) = browser.get("/space").await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("一次函数") && html.contains("练习一") && html.contains("思路清楚"), "{html}");
        assert!(!html.contains("二班的课") && !html.contains("草稿：还没写完"));
        assert!(html.contains(r#"data-status="returned""#));
    }
}

on_both_databases! {
    async fn a_parent_has_one_card_per_own_child_and_nothing_of_anyone_else(app) {
        district(&app).await;
        lesson(&app, "t1", "一次函数", &["k1"]).await;
        let a = assignment(&app, "t1", "k1", "练习一", 24).await;
        let s1 = hand_in(&app, "st1", &a).await;
        let s2 = hand_in(&app, "st2", &a).await;
        ok(&app, "t1", &format!("/api/v1/submissions/{s1}/feedback"), json!({"comment": "很好", "score": "优"})).await;
        ok(&app, "t1", &format!("/api/v1/submissions/{s2}/feedback"), json!({"comment": "再细心些", "score": "中"})).await;
        let notice = ok(&app, "t1", "/api/v1/classes/k1/notices",
            json!({"title": "家长会", "body": "周三下午三点。", "requires_confirmation": true})).await;
        let notice = notice["id"].as_str().unwrap().to_owned();

        let p1 = space(&app, "p1").await;
        let children = p1["children"].as_array().unwrap();
        assert_eq!(children.len(), 1);
        let card = &children[0];
        assert_eq!(card["sourced_id"], "st1");
        assert_eq!(titles(&card["lessons"]), ["一次函数"]);
        assert_eq!(card["assignments"][0]["feedback"], json!({"comment": "很好", "score": "优"}));
        assert_eq!(titles(&card["to_confirm"]), ["家长会"]);
        let text = p1.to_string();
        assert!(!text.contains("再细心些") && !text.contains("st2"), "nothing of a classmate: {text}");

        // Confirmed: no longer waiting.
        ok(&app, "p1", &format!("/api/v1/notices/{notice}/confirm"), json!({})).await;
        assert_eq!(space(&app, "p1").await["children"][0]["to_confirm"], json!([]));

        // An activity asking for permission waits on the card until answered for this child.
        let starts = (Utc::now() + TimeDelta::days(6)).to_rfc3339();
        let outing = crate::activities::create(&app, "t1", json!({"class": "k1", "title": "春游：西湖",
            "description": "带好午餐。", "place": "西湖", "starts_at": starts, "ask": "permission",
            "question": "是否同意孩子参加？"})).await;
        assert_eq!(titles(&space(&app, "p1").await["children"][0]["to_answer"]), ["春游：西湖"]);
        assert_eq!(titles(&space(&app, "p2").await["children"][0]["to_answer"]), ["春游：西湖"]);
        let (status, answered) = crate::activities::answer(&app, "p1", &outing, "st1", true, "").await;
        assert!(status.is_success(), "{answered}");
        assert_eq!(space(&app, "p1").await["children"][0]["to_answer"], json!([]));
        assert_eq!(titles(&space(&app, "p2").await["children"][0]["to_answer"]), ["春游：西湖"], "p2's own child is not answered");

        // Another class's parent sees none of it.
        let p9 = space(&app, "p9").await;
        let card = &p9["children"][0];
        assert_eq!(card["sourced_id"], "st9");
        assert_eq!(card["lessons"], json!([]));
        assert_eq!(card["assignments"], json!([]));
        assert_eq!(card["to_confirm"], json!([]));
        assert_eq!(card["to_answer"], json!([]), "another class's outing");

        let browser = Browser::new(&app);
        browser.activate("p2").await;
        let (status, html) = browser.get("/space").await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains(r#"data-child="st2""#) && html.contains("再细心些") && html.contains("家长会"));
        assert!(html.contains(&format!(r#"data-activity="{outing}""#)) && html.contains("待回复的活动"));
        assert!(!html.contains(r#"data-child="st1""#) && !html.contains("很好"));
    }
}

on_both_databases! {
    async fn a_teacher_sees_classes_lessons_and_what_waits_for_marking(app) {
        district(&app).await;
        lesson(&app, "t1", "已发布的课", &["k1"]).await;
        lesson(&app, "t1", "草稿课", &[]).await;
        let later = lesson(&app, "t1", "定时的课", &[]).await;
        let at = (Utc::now() + TimeDelta::days(2)).to_rfc3339();
        ok(&app, "t1", &format!("/api/v1/lessons/{later}/publish"), json!({"classes": ["k1"], "at": at})).await;
        let a = assignment(&app, "t1", "k1", "练习一", 24).await;
        let marked = hand_in(&app, "st1", &a).await;
        hand_in(&app, "st2", &a).await;
        ok(&app, "t1", &format!("/api/v1/submissions/{marked}/feedback"), json!({"comment": "好", "score": "优"})).await;

        let t1 = space(&app, "t1").await;
        let t = &t1["teacher"];
        assert_eq!(t["classes"][0]["sourced_id"], "k1");
        assert_eq!(t["classes"][0]["students"].as_array().unwrap().len(), 4, "st1, st2, st5 and bmp");
        let state_of = |title: &str| t["lessons"].as_array().unwrap().iter().find(|l| l["title"] == title).unwrap()["state"].clone();
        assert_eq!(state_of("已发布的课"), "published");
        assert_eq!(state_of("草稿课"), "draft");
        assert_eq!(state_of("定时的课"), "scheduled");
        let row = &t["to_mark"][0];
        assert_eq!((row["handed_in"].as_u64(), row["waiting"].as_u64(), row["students"].as_u64()), (Some(2), Some(1), Some(4)));

        // The scheduled lesson reaches the pupils when its time comes (the clock, not a job).
        assert!(!titles(&space(&app, "st1").await["student"]["lessons"]).contains(&"定时的课"));
        app.state.clock.set(Utc::now() + TimeDelta::days(3));
        assert!(titles(&space(&app, "st1").await["student"]["lessons"]).contains(&"定时的课"));
    }
}

on_both_databases! {
    async fn a_class_space_masks_numbers_for_everyone_but_its_teachers(app) {
        district(&app).await;
        let pupil = |v: &Value| v["roster"].as_array().unwrap().iter().find(|p| p["sourced_id"] == "st5").cloned().unwrap();
        for who in ["t1", "sa1"] {
            let (status, c) = get(&app, &token(&app, who).await, "/api/v1/classes/k1/space").await;
            assert_eq!(status, StatusCode::OK, "{who}: {c}");
            assert_eq!(pupil(&c)["national_student_no"], "G44010620150101001X", "{who}");
            assert_eq!(pupil(&c)["guardians"][0]["phone"], "13812345678", "{who}");
            assert_eq!(c["full_numbers"], true);
        }
        for who in ["st1", "p1", "p5"] {
            let (status, c) = get(&app, &token(&app, who).await, "/api/v1/classes/k1/space").await;
            assert_eq!(status, StatusCode::OK, "{who}: {c}");
            assert_eq!(pupil(&c)["national_student_no"], "G44************001X", "{who}");
            assert_eq!(pupil(&c)["guardians"][0]["phone"], "138****5678", "{who}");
            assert!(!c.to_string().contains("13812345678") && !c.to_string().contains("G44010620150101001X"));
        }
        // Someone with no tie to the class: the same 404 as a class that does not exist.
        for who in ["t3", "p9", "st9", "sa2", "t2"] {
            let (status, _) = get(&app, &token(&app, who).await, "/api/v1/classes/k1/space").await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
        }
        let (status, _) = get(&app, &token(&app, "t1").await, "/api/v1/classes/nope/space").await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        let browser = Browser::new(&app);
        browser.activate("p1").await;
        let (status, html) = browser.get("/classes/k1").await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("138****5678") && !html.contains("13812345678"), "{html}");
        let (status, _) = browser.get("/classes/k2").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = Browser::new(&app).get("/classes/k1").await;
        assert_eq!(status, StatusCode::SEE_OTHER, "signed out: to the sign-in page");
    }
}

on_both_databases! {
    async fn a_school_space_is_for_its_people(app) {
        district(&app).await;
        ok(&app, "sa1", "/api/v1/schools/s1/announcements",
            json!({"title": "运动会通知", "body": "本周五举行**秋季运动会**。"})).await;
        for who in ["p1", "st9", "t3", "sa1", "da"] {
            let (status, s) = get(&app, &token(&app, who).await, "/api/v1/schools/s1/space").await;
            assert_eq!(status, StatusCode::OK, "{who}: {s}");
            assert_eq!(s["announcements"][0]["title"], "运动会通知");
            assert!(s["announcements"][0]["body_html"].as_str().unwrap().contains("<strong>秋季运动会</strong>"));
        }
        for who in ["t2", "sa2"] {
            let (status, _) = get(&app, &token(&app, who).await, "/api/v1/schools/s1/space").await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{who}");
        }
        let browser = Browser::new(&app);
        browser.activate("p1").await;
        let (status, html) = browser.get("/schools/s1").await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("运动会通知") && html.contains("<strong>秋季运动会</strong>"));
    }
}

// The demo county comes with school life (assets/demo-spaces/): 林晓燕's two children, in two
// schools, each have lessons and assignments on their card, one returned with its feedback; the
// teacher's space counts what waits to be marked; and a second start adds nothing.
on_both_databases! {
    async fn the_demo_county_arrives_with_school_life(app) {
    // The demo is loaded by `prepare` when asked; the test app starts without it.
    let loaded = kongjian::spaces::demo::load_if_empty(&app.state).await.unwrap();
    assert_eq!(loaded.lessons, 0, "no demo people yet: nothing to show it with");
    kongjian::roster::demo::load(&app.state.db, kongjian::roster::service::Origin::Demo)
        .await
        .unwrap();
    let loaded = kongjian::spaces::demo::load_if_empty(&app.state).await.unwrap();
    assert_eq!(
        (loaded.lessons, loaded.assignments, loaded.hand_ins, loaded.activities, loaded.announcements, loaded.growth),
        (6, 5, 3, 2, 2, 3)
    );

    let (status, space) = get(&app, &token(&app, "qh-user-p0014").await, "/api/v1/me/space").await;
    assert_eq!(status, StatusCode::OK, "{space}");
    let children = space["children"].as_array().unwrap();
    assert_eq!(children.len(), 2, "{space}");
    let jiayi = children.iter().find(|c| c["sourced_id"] == "qh-user-s0008").unwrap();
    let titles: Vec<&str> = jiayi["lessons"].as_array().unwrap().iter().map(|l| l["title"].as_str().unwrap()).collect();
    assert!(titles.contains(&"小数乘整数"), "{titles:?}");
    assert!(titles.contains(&"Unit 1 What's he like?"), "{titles:?}");
    let returned = jiayi["assignments"].as_array().unwrap().iter().find(|a| a["status"] == "returned").unwrap();
    assert_eq!(returned["title"], "小练笔：身边的美");
    assert_eq!(returned["feedback"]["score"], "优");
    let jiahao = children.iter().find(|c| c["sourced_id"] == "qh-user-s0023").unwrap();
    let marked = jiahao["assignments"].as_array().unwrap().iter().find(|a| a["status"] == "returned").unwrap();
    assert_eq!(marked["feedback"]["score"], "9", "{marked}");
    let kinds: Vec<&str> = jiayi["growth"].as_array().unwrap().iter().map(|g| g["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.len(), 2, "{jiayi}");
    assert!(kinds.contains(&"work") && kinds.contains(&"award"), "{kinds:?}");

    let (_, teacher) = get(&app, &token(&app, "qh-user-t0002").await, "/api/v1/me/space").await;
    let to_mark = teacher["teacher"]["to_mark"].as_array().unwrap();
    let decimals = to_mark.iter().find(|a| a["title"] == "小数乘整数练习").unwrap();
    assert_eq!((decimals["waiting"].as_u64(), decimals["handed_in"].as_u64()), (Some(1), Some(1)), "{decimals}");

    let again = kongjian::spaces::demo::load_if_empty(&app.state).await.unwrap();
    assert_eq!(again, kongjian::spaces::demo::Loaded::default());
    }
}

// `/space` is made once per version of the space and then served as made: but never to another
// browser (each page carries its own session's CSRF token), never in another language, and
// never after a change.
on_both_databases! {
    async fn the_made_page_is_served_only_to_its_own_browser_and_only_while_true(app) {
        district(&app).await;
        lesson(&app, "t1", "一次函数", &["k1"]).await;
        let first = Browser::new(&app);
        let second = Browser::new(&app);
        first.activate("st1").await;
        second.activate("st1").await;
        let (_, a1) = first.get("/space").await;
        let (_, b1) = second.get("/space").await;
        let (_, a2) = first.get("/space").await;
        let (_, b2) = second.get("/space").await;
        let (ta, tb) = (crate::pages::csrf_of(&a1), crate::pages::csrf_of(&b1));
        assert!(!ta.is_empty() && ta != tb, "two browsers, two tokens");
        assert_eq!((crate::pages::csrf_of(&a2), crate::pages::csrf_of(&b2)), (ta.clone(), tb));
        assert!(a2.contains("一次函数"));

        // Another language is another page.
        first.get("/language/en?next=%2Fspace").await;
        let (_, english) = first.get("/space").await;
        assert!(english.contains(r#"<html lang="en">"#), "{english}");
        first.get("/language/zh?next=%2Fspace").await;
        let (_, chinese) = first.get("/space").await;
        assert!(chinese.contains(r#"<html lang="zh-CN">"#), "{chinese}");

        // A change answered on this node shows at once.
        lesson(&app, "t1", "二次函数", &["k1"]).await;
        let (_, after) = first.get("/space").await;
        assert!(after.contains("二次函数") && after.contains("一次函数"), "{after}");
        assert_eq!(crate::pages::csrf_of(&after), ta);
    }
}
