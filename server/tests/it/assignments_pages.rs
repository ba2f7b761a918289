//! The assignment pages, driven like a browser without JavaScript: a teacher sets work through
//! the form, a pupil hands in text and a file through the multipart form, a parent reads their
//! child's status, the teacher marks from the progress table, the feedback reaches the pupil and
//! their family and no one else — on SQLite and PostgreSQL.

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};

use crate::assignments::{PNG, before_due, hand_in, set, work};
use crate::messaging::district;
use crate::on_both_databases;
use crate::pages::{Browser, location};
use crate::support::TestApp;

async fn signed_in<'a>(app: &'a TestApp, who: &str) -> Browser<'a> {
    let browser = Browser::new(app);
    browser.activate(who).await;
    browser
}

/// The `action` of the hand-in form on `html`.
fn hand_in_action(html: &str) -> String {
    html.split("action=\"")
        .map(|rest| rest.split('"').next().unwrap_or(""))
        .find(|action| action.contains("/hand-in?csrf="))
        .unwrap_or_else(|| panic!("no hand-in form in {html}"))
        .replace("&amp;", "&")
}

on_both_databases! {
    async fn a_teacher_sets_work_through_the_form(app) {
        district(&app).await;
        before_due(&app);
        let teacher = signed_in(&app, "t1").await;
        let (status, form) = teacher.get("/classes/k1/assignments/new").await;
        assert_eq!(status, StatusCode::OK);
        assert!(form.contains("name=\"due\"") && form.contains("type=\"datetime-local\"") && form.contains("Asia/Shanghai"), "{form}");
        let fields = |title: &'static str, instructions: &'static str| {
            vec![("title", title), ("instructions", instructions), ("due", "2026-12-10T18:00"),
                ("scale", "points"), ("max_points", "20"), ("accept_late", "on")]
        };
        // Script in the instructions: the form again, saying where, with what was typed kept.
        let refused = teacher.submit("/classes/k1/assignments/new", "/classes/k1/assignments/new",
            &fields("阅读笔记", "第一行\n<script>alert(1)</script>")).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = refused.text().await.unwrap();
        assert!(page.contains("instructions") && page.contains("第 2 行") && page.contains("value=\"阅读笔记\""), "{page}");

        let made = teacher.submit("/classes/k1/assignments/new", "/classes/k1/assignments/new",
            &fields("阅读笔记", "读完第三章，写下**三点**体会。")).await;
        assert_eq!(made.status(), StatusCode::SEE_OTHER);
        let page_path = location(&made).to_owned();
        assert!(page_path.starts_with("/assignments/") && page_path.ends_with("?done=created"), "{page_path}");
        let id = page_path.trim_start_matches("/assignments/").trim_end_matches("?done=created").to_owned();
        let (_, api) = crate::messaging::get(&app, &crate::messaging::token(&app, "t1").await, &format!("/api/v1/assignments/{id}")).await;
        assert_eq!(api["due_at"], "2026-12-10T10:00:00Z", "the form's time is on the school's clock");
        assert_eq!(api["scale"], "points:20");
        assert_eq!(api["accept_late"], true);
        let (_, page) = teacher.get(&page_path).await;
        assert!(page.contains("作业已布置") && page.contains("<strong>三点</strong>") && page.contains("全班进度"), "{page}");

        // Pupils and other teachers do not get the form.
        assert_eq!(signed_in(&app, "st1").await.get("/classes/k1/assignments/new").await.0, StatusCode::FORBIDDEN);
        assert_eq!(signed_in(&app, "t3").await.get("/classes/k1/assignments/new").await.0, StatusCode::FORBIDDEN);
        assert_eq!(signed_in(&app, "t2").await.get("/classes/k1/assignments/new").await.0, StatusCode::NOT_FOUND);
        let (status, list) = signed_in(&app, "st1").await.get("/classes/k1/assignments").await;
        assert_eq!(status, StatusCode::OK);
        assert!(list.contains("阅读笔记") && list.contains("未提交") && !list.contains("布置新作业"), "{list}");
    }
}

on_both_databases! {
    async fn a_pupil_hands_in_the_teacher_marks_and_the_family_sees_it(app) {
        district(&app).await;
        before_due(&app);
        let id = set(&app, work("春天的作文", "points:10", false)).await;
        let path = format!("/assignments/{id}");

        let pupil = signed_in(&app, "st1").await;
        let (status, page) = pupil.get(&path).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("enctype=\"multipart/form-data\"") && page.contains("未提交"), "{page}");
        assert!(!page.contains("全班进度"), "no class progress for pupils");
        let action = hand_in_action(&page);
        // Nothing to hand in: the page again, saying so.
        let empty = pupil.client.post(app.url(&action)).multipart(Form::new().text("text", " ")).send().await.unwrap();
        assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(empty.text().await.unwrap().contains("提交的内容是空的"));
        let form = Form::new().text("text", "春天来了，柳树发芽了。")
            .part("file", Part::bytes(PNG.to_vec()).file_name("画.png"));
        let done = pupil.client.post(app.url(&action)).multipart(form).send().await.unwrap();
        assert_eq!(done.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&done), format!("{path}?done=handed_in"));
        let (_, page) = pupil.get(&format!("{path}?done=handed_in")).await;
        assert!(page.contains("作业已提交") && page.contains("已提交") && page.contains("第 1 次提交") && page.contains("重新提交"), "{page}");

        // The parent sees the status, read-only.
        let parent = signed_in(&app, "p1").await;
        let (status, page) = parent.get(&path).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("已提交") && page.contains("家长只能查看") && !page.contains("/hand-in?csrf="), "{page}");

        // The teacher: the progress table, a link to mark, the marking form.
        let teacher = signed_in(&app, "t1").await;
        let (_, page) = teacher.get(&path).await;
        assert!(page.contains("全班进度") && page.contains("data-count=\"handed_in\">1<") && page.contains("待批改 1"), "{page}");
        let sid = page.split("href=\"/submissions/").nth(1).and_then(|s| s.split('"').next()).unwrap().to_owned();
        let marking = format!("/submissions/{sid}");
        let (_, page) = teacher.get(&marking).await;
        assert!(page.contains("柳树发芽") && page.contains("画.png") && page.contains("max=\"10\"") && page.contains("发回给学生"), "{page}");
        let (_, file_page) = pupil.get(&marking).await;
        assert!(!file_page.contains("发回给学生"), "pupils do not mark");
        let out_of_range = teacher.submit(&marking, &format!("{marking}/feedback"), &[("score", "11"), ("comment", "很好")]).await;
        assert_eq!(out_of_range.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = out_of_range.text().await.unwrap();
        assert!(page.contains("score") && page.contains("0 到 10") && page.contains(">很好</textarea>"), "{page}");
        let returned = teacher.submit(&marking, &format!("{marking}/feedback"), &[("score", "9.5"), ("comment", "比喻用得好")]).await;
        assert_eq!(returned.status(), StatusCode::SEE_OTHER);
        let (_, page) = teacher.get(location(&returned)).await;
        assert!(page.contains("已批改并发回") && page.contains("批改记录"), "{page}");

        // The pupil and the parent see the feedback; a classmate, their parent, another teacher do not.
        for browser in [&pupil, &parent] {
            let (_, page) = browser.get(&path).await;
            assert!(page.contains("已批改") && page.contains("比喻用得好") && page.contains(">9.5<"), "{page}");
        }
        let classmate = signed_in(&app, "st2").await;
        let (status, page) = classmate.get(&path).await;
        assert_eq!(status, StatusCode::OK);
        assert!(!page.contains("比喻用得好") && !page.contains("9.5") && page.contains("未提交"), "{page}");
        assert_eq!(classmate.get(&marking).await.0, StatusCode::NOT_FOUND);
        assert_eq!(signed_in(&app, "p2").await.get(&marking).await.0, StatusCode::NOT_FOUND);
        assert_eq!(signed_in(&app, "t3").await.get(&path).await.0, StatusCode::NOT_FOUND);
        // Marking through the form is the class's teachers' alone.
        let parent_mark = parent.submit(&marking, &format!("{marking}/feedback"), &[("score", "10")]).await;
        assert_eq!(parent_mark.status(), StatusCode::FORBIDDEN);
    }
}

on_both_databases! {
    async fn past_the_due_time_the_page_says_why_nothing_more_goes_in(app) {
        district(&app).await;
        before_due(&app);
        let strict = set(&app, work("不收迟交", "bands", false)).await;
        let open = set(&app, work("可以迟交", "bands", true)).await;
        let (status, _) = hand_in(&app, "st2", &strict, "按时").await;
        assert_eq!(status, StatusCode::CREATED);
        let pupil = signed_in(&app, "st1").await;
        let (_, before) = pupil.get(&format!("/assignments/{strict}")).await;
        let action = hand_in_action(&before);
        app.state.clock.set(crate::assignments::shanghai(11, 9, 0));
        let (_, page) = pupil.get(&format!("/assignments/{strict}")).await;
        assert!(page.contains("已过截止时间，不能再提交") && !page.contains("/hand-in?csrf=") && page.contains("已逾期"), "{page}");
        // A form left open past the due time is refused with the due time.
        let late = pupil.client.post(app.url(&action)).multipart(Form::new().text("text", "晚了")).send().await.unwrap();
        assert_eq!(late.status(), StatusCode::CONFLICT);
        assert!(late.text().await.unwrap().contains("2026-12-10 18:00"));
        // Where late work is accepted, the form says it will be marked late.
        let (_, page) = pupil.get(&format!("/assignments/{open}")).await;
        assert!(page.contains("现在提交会标记为迟交"), "{page}");
        let action = hand_in_action(&page);
        let done = pupil.client.post(app.url(&action)).multipart(Form::new().text("text", "补交")).send().await.unwrap();
        assert_eq!(done.status(), StatusCode::SEE_OTHER);
        let (_, page) = pupil.get(&format!("/assignments/{open}")).await;
        assert!(page.contains("迟交") && page.contains("已过截止时间，不能再提交"), "{page}");
    }
}
