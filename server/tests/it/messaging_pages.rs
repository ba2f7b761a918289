//! The messaging pages, driven like a browser without JavaScript: the inbox, a notice with its
//! confirm buttons and the sender's lists, a conversation's send form (a double submit stores
//! one message), composing a notice that names a pupil, starting a conversation, the settings,
//! escaping, English, and signed-out visitors — on SQLite and PostgreSQL.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::messaging::{district, get, post, token};
use crate::on_both_databases;
use crate::pages::{Browser, csrf_of, location};

/// The value of the first form field named `name` on a page.
fn field(html: &str, name: &str) -> String {
    html.split(&format!(r#"name="{name}" value=""#))
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no {name} field in {html}"))
        .to_owned()
}

/// A notice from t1 to class k1; its id.
async fn class_notice(app: &crate::support::TestApp, title: &str, body: &str) -> String {
    let teacher = token(app, "t1").await;
    let notice = json!({"title": title, "body": body, "requires_confirmation": true});
    let (status, posted) = post(app, &teacher, "/api/v1/classes/k1/notices", notice).await;
    assert_eq!(status, StatusCode::CREATED, "{posted}");
    posted["id"].as_str().unwrap().to_owned()
}

/// The 1:1 conversation of `a` and `b`, opened by `a` through the API; its id.
async fn conversation(app: &crate::support::TestApp, a: &str, b: &str) -> String {
    let (_, conv) = post(
        app,
        &token(app, a).await,
        "/api/v1/conversations",
        json!({"with": b}),
    )
    .await;
    conv["id"].as_str().unwrap().to_owned()
}

async fn history(app: &crate::support::TestApp, who: &str, conv: &str) -> Vec<Value> {
    let (_, page) = get(
        app,
        &token(app, who).await,
        &format!("/api/v1/conversations/{conv}/messages"),
    )
    .await;
    page["messages"].as_array().unwrap().clone()
}

on_both_databases! {
    async fn the_inbox_lists_a_parents_notice_and_conversation(app) {
        district(&app).await;
        let notice = class_notice(&app, "周五春游", "请带好水和帽子。").await;
        let conv = conversation(&app, "t1", "p1").await;
        let (status, _) = post(&app, &token(&app, "t1").await, &format!("/api/v1/conversations/{conv}/messages"),
            json!({"body": "明天记得带尺子", "nonce": "n1"})).await;
        assert_eq!(status, StatusCode::CREATED);

        let parent = Browser::new(&app);
        parent.activate("p1").await;
        let (status, inbox) = parent.get("/messages").await;
        assert_eq!(status, StatusCode::OK);
        assert!(inbox.contains("周五春游") && inbox.contains(&format!(r#"href="/notices/{notice}""#)), "{inbox}");
        assert!(inbox.contains("待确认"), "the notice asks this parent to confirm");
        assert!(inbox.contains(r#"data-unread-tag>未读"#), "and it is unread");
        assert!(inbox.contains(&format!(r#"href="/messages/{conv}""#)) && inbox.contains("王老师"));
        assert!(inbox.contains(r#"title="1 条未读">1</span>"#), "one unread message");
        assert!(inbox.contains("data-unread-badge") && inbox.contains("/static/live.js?v="), "the header's badge");

        let other = Browser::new(&app);
        other.activate("p9").await;
        let (_, theirs) = other.get("/messages").await;
        assert!(!theirs.contains("周五春游"), "another class's parent does not see it");
    }
}

on_both_databases! {
    async fn a_parent_sees_only_their_child_and_confirms_through_the_form(app) {
        district(&app).await;
        let id = class_notice(&app, "家长会", "周三下午三点家长会。").await;
        let path = format!("/notices/{id}");
        let parent = Browser::new(&app);
        parent.activate("p1").await;
        let (status, page) = parent.get(&path).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("周三下午三点家长会。") && page.contains("李小1"), "{page}");
        assert!(!page.contains("李小2") && !page.contains("李小3"), "only their own child");
        assert!(page.contains(&format!(r#"action="/notices/{id}/confirm""#)));
        assert_eq!(field(&page, "student"), "st1");

        let teacher = token(&app, "t1").await;
        let (_, detail) = get(&app, &teacher, &format!("/api/v1/{}", &path[1..])).await;
        assert_eq!(detail["reads"]["read"], 1, "opening the page read it");

        let confirmed = parent.submit(&path, &format!("{path}/confirm"), &[("student", "st1")]).await;
        assert_eq!(confirmed.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&confirmed), path);
        let (_, after) = parent.get(&path).await;
        assert!(after.contains("已确认") && !after.contains(r#"name="student""#), "{after}");
        let (_, detail) = get(&app, &teacher, &format!("/api/v1/{}", &path[1..])).await;
        assert_eq!(detail["confirmations"]["confirmed"], 1);

        // Another class's parent learns nothing, not even that it exists.
        let stranger = Browser::new(&app);
        stranger.activate("p9").await;
        assert_eq!(stranger.get(&path).await.0, StatusCode::NOT_FOUND);
        let refused = stranger.submit("/messages", &format!("{path}/confirm"), &[("student", "st9")]).await;
        assert_eq!(refused.status(), StatusCode::NOT_FOUND);
    }
}

on_both_databases! {
    async fn the_sender_sees_who_has_not_confirmed_and_reminds_them(app) {
        district(&app).await;
        let id = class_notice(&app, "交表", "请填写回执。").await;
        post(&app, &token(&app, "p1").await, &format!("/api/v1/notices/{id}/confirm"), json!({})).await;
        let teacher = Browser::new(&app);
        teacher.activate("t1").await;
        let path = format!("/notices/{id}");
        let (status, page) = teacher.get(&path).await;
        assert_eq!(status, StatusCode::OK);
        let (pending, confirmed) = page.split_once("data-confirmed-list").unwrap();
        assert!(pending.contains("尚未确认") && pending.contains("李小2") && pending.contains("2家长"), "{page}");
        assert!(pending.contains(r#"data-row="p8:st7""#) && pending.contains(r#"data-row="p8:st8""#));
        assert!(confirmed.contains(r#"data-row="p1:st1""#) && confirmed.contains("1家长"));
        assert!(page.contains(&format!(r#"action="{path}/remind""#)) && !page.contains("disabled"));

        let reminded = teacher.submit(&path, &format!("{path}/remind"), &[]).await;
        assert_eq!(reminded.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&reminded), format!("{path}?reminded=3"), "p2, p3 and p8");
        let (_, after) = teacher.get(location(&reminded)).await;
        assert!(after.contains("已提醒 3 户家庭。"));
        assert!(after.contains("disabled") && after.contains("刚提醒过"), "the button says why not again");
        let again = teacher.submit(&path, &format!("{path}/remind"), &[]).await;
        assert_eq!(again.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(again.text().await.unwrap().contains("已经提醒过了"));
    }
}

on_both_databases! {
    async fn a_message_sent_through_the_form_is_stored_once_however_often_it_is_submitted(app) {
        district(&app).await;
        let parent = Browser::new(&app);
        parent.activate("p1").await;
        let (status, people) = parent.get("/messages/new").await;
        assert_eq!(status, StatusCode::OK);
        assert!(people.contains("李小1 的老师") && people.contains(r#"name="with" value="t1""#), "{people}");
        assert!(!people.contains(r#"value="t3""#), "not another class's teacher");
        let opened = parent.submit("/messages/new", "/messages/new", &[("with", "t1")]).await;
        assert_eq!(opened.status(), StatusCode::SEE_OTHER);
        let conv = location(&opened).trim_start_matches("/messages/").to_owned();
        assert_eq!(conv, conversation(&app, "t1", "p1").await, "the teacher finds the same one");

        let here = format!("/messages/{conv}");
        let (_, page) = parent.get(&here).await;
        let (csrf, nonce) = (csrf_of(&page), field(&page, "nonce"));
        let fields = [("csrf", csrf.as_str()), ("nonce", nonce.as_str()), ("body", "老师好，孩子今天请假。")];
        let first = parent.post(&here, &fields).await;
        assert_eq!(first.status(), StatusCode::SEE_OTHER);
        assert!(location(&first).starts_with(&format!("{here}#m-")));
        let again = parent.post(&here, &fields).await;
        assert_eq!(location(&again), location(&first), "a double submit answers with the first");
        assert_eq!(history(&app, "t1", &conv).await.len(), 1);

        let (_, shown) = parent.get(&here).await;
        assert!(shown.contains("老师好，孩子今天请假。") && shown.contains("未读"), "{shown}");
        assert_ne!(field(&shown, "nonce"), nonce, "each form gets a fresh nonce");
        assert!(shown.contains("/recall\"") && shown.contains("/edit\""), "one's own recent message");

        let empty = parent.post(&here, &[("csrf", csrf.as_str()), ("nonce", "n-2"), ("body", "  ")]).await;
        assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = empty.text().await.unwrap();
        assert!(page.contains("内容不能为空") && field(&page, "nonce") == "n-2");

        let teacher = Browser::new(&app);
        teacher.activate("t1").await;
        let (_, seen) = teacher.get(&here).await;
        assert!(seen.contains("老师好，孩子今天请假。"));
        assert!(crate::support::soon(|| async { parent.get(&here).await.1.contains("已读") }).await,
            "the teacher's view marks it read");
    }
}

on_both_databases! {
    async fn the_compose_form_warns_when_a_notice_names_a_pupil(app) {
        district(&app).await;
        let teacher = Browser::new(&app);
        teacher.activate("t1").await;
        let (status, chooser) = teacher.get("/notices/new").await;
        assert_eq!(status, StatusCode::OK);
        assert!(chooser.contains(r#"href="/notices/new?class=k1""#), "{chooser}");
        let (_, form) = teacher.get("/notices/new?class=k1").await;
        assert_eq!(field(&form, "class"), "k1");
        assert!(!form.contains(r#"name="urgent""#), "only administrators mark notices urgent");
        let (csrf, nonce) = (csrf_of(&form), field(&form, "nonce"));
        let mut fields = vec![("csrf", csrf.as_str()), ("nonce", nonce.as_str()), ("class", "k1"),
            ("title", "作业提醒"), ("body", "李小2 今天的作业还没有交。")];

        let warned = teacher.post("/notices/new", &fields).await;
        assert_eq!(warned.status(), StatusCode::CONFLICT);
        let page = warned.text().await.unwrap();
        assert!(page.contains("李小2") && page.contains(r#"name="acknowledge_named_pupils""#), "{page}");
        assert!(page.contains("仍然发送") && page.contains(r#"href="/messages/new""#));
        assert_eq!(field(&page, "nonce"), nonce, "nothing was sent: the same form again");
        let (_, list) = get(&app, &token(&app, "t1").await, "/api/v1/notices").await;
        assert_eq!(list["notices"], json!([]));

        fields.push(("acknowledge_named_pupils", "on"));
        let sent = teacher.post("/notices/new", &fields).await;
        assert_eq!(sent.status(), StatusCode::SEE_OTHER);
        assert!(location(&sent).starts_with("/notices/"));
        let twice = teacher.post("/notices/new", &fields).await;
        assert_eq!(location(&twice), location(&sent), "the nonce makes a double submit harmless");
        let (_, list) = get(&app, &token(&app, "t1").await, "/api/v1/notices").await;
        assert_eq!(list["notices"].as_array().unwrap().len(), 1);

        let admin = Browser::new(&app);
        admin.activate("sa1").await;
        let (_, form) = admin.get("/notices/new?class=k1").await;
        assert!(form.contains(r#"name="urgent""#));
        let (_, school) = admin.get("/notices/new?school=s1").await;
        assert!(school.contains(r#"name="school" value="s1""#) && school.contains(r#"<option value="03""#));
        let other = Browser::new(&app);
        other.activate("t3").await;
        assert_eq!(other.get("/notices/new?class=k1").await.0, StatusCode::FORBIDDEN);
    }
}

on_both_databases! {
    async fn pages_show_what_people_write_as_text_never_as_markup(app) {
        district(&app).await;
        let conv = conversation(&app, "p1", "t1").await;
        let body = "<script>alert(1)</script> 详见 https://example.cn/x?a=1&b=2。";
        let (status, _) = post(&app, &token(&app, "p1").await, &format!("/api/v1/conversations/{conv}/messages"),
            json!({"body": body, "nonce": "x"})).await;
        assert_eq!(status, StatusCode::CREATED);
        let notice = class_notice(&app, "<b>春游</b>", "<img src=x onerror=alert(2)>").await;

        let teacher = Browser::new(&app);
        teacher.activate("t1").await;
        let (_, page) = teacher.get(&format!("/messages/{conv}")).await;
        assert!(!page.contains("<script>alert(1)"), "{page}");
        assert!(page.contains("&#60;script&#62;alert(1)&#60;/script&#62;"), "{page}");
        assert!(page.contains(r#"<a href="https://example.cn/x?a=1&#38;b=2" rel="noopener noreferrer""#),
            "links are links, without the full stop");
        let (_, inbox) = teacher.get("/messages").await;
        assert!(inbox.contains("&#60;b&#62;春游&#60;/b&#62;") && !inbox.contains("<b>春游"));

        let parent = Browser::new(&app);
        parent.activate("p1").await;
        let (_, page) = parent.get(&format!("/notices/{notice}")).await;
        assert!(page.contains("&#60;img src=x onerror=alert(2)&#62;") && !page.contains("<img src=x"), "{page}");
    }
}

on_both_databases! {
    async fn the_pages_speak_english_when_the_browser_asks(app) {
        district(&app).await;
        let id = class_notice(&app, "运动会", "周五运动会。").await;
        let parent = Browser::new(&app);
        parent.activate("p1").await;
        for (path, words) in [("/messages", ["Notices", "Conversations"]), (&format!("/notices/{id}") as &str, ["Confirm", "All messages"])] {
            let response = parent.client.get(app.url(path)).header("accept-language", "en-US,en;q=0.9").send().await.unwrap();
            assert_eq!(response.headers()["content-language"], "en");
            let page = response.text().await.unwrap();
            assert!(page.contains(r#"<html lang="en">"#));
            for word in words {
                assert!(page.contains(word), "{path} lacks {word}");
            }
        }
        let (_, chinese) = parent.get("/messages").await;
        assert!(chinese.contains("通知") && chinese.contains("会话"), "Chinese otherwise");
    }
}

on_both_databases! {
    async fn signed_out_visitors_are_sent_to_sign_in(app) {
        district(&app).await;
        let id = class_notice(&app, "x", "y").await;
        let visitor = Browser::new(&app);
        for path in ["/messages", "/messages/new", "/messages/settings", "/notices/new?class=k1",
            &format!("/notices/{id}") as &str, "/messages/some-conversation"] {
            let response = visitor.client.get(app.url(path)).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
            assert!(location(&response).starts_with("/login?next=%2F"), "{path}");
        }
        let (_, landing) = visitor.get("/").await;
        assert!(!landing.contains("live.js"), "no socket for visitors");
        let sent = visitor.submit("/login", "/messages/some-conversation", &[("body", "hi"), ("nonce", "n")]).await;
        assert_eq!(sent.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&sent), "/login?next=%2Fmessages%2Fsome-conversation");
    }
}

on_both_databases! {
    async fn a_parent_chooses_a_digest_and_an_administrator_sets_quiet_hours(app) {
        district(&app).await;
        let parent = Browser::new(&app);
        parent.activate("p1").await;
        let (_, page) = parent.get("/messages/settings").await;
        assert!(page.contains(r#"value="digest""#) && !page.contains("quiet-hours"), "{page}");
        let saved = parent.submit("/messages/settings", "/messages/settings", &[("delivery", "digest")]).await;
        assert_eq!(location(&saved), "/messages/settings?saved=1");
        let (_, prefs) = get(&app, &token(&app, "p1").await, "/api/v1/me/messaging").await;
        assert_eq!(prefs["delivery"], "digest");

        let admin = Browser::new(&app);
        admin.activate("sa1").await;
        let (_, page) = admin.get("/messages/settings").await;
        assert!(page.contains(r#"name="school" value="s1""#) && !page.contains(r#"value="s2""#), "{page}");
        let quiet = [("school", "s1"), ("mode", "custom"), ("start", "22:00"), ("end", "06:30")];
        let saved = admin.submit("/messages/settings", "/messages/settings/quiet-hours", &quiet).await;
        assert_eq!(saved.status(), StatusCode::SEE_OTHER);
        let (_, school) = get(&app, &token(&app, "sa1").await, "/api/v1/schools/s1/messaging").await;
        assert_eq!(school["quiet_hours"], "22:00-06:30");
        let bad = admin.submit("/messages/settings", "/messages/settings/quiet-hours",
            &[("school", "s1"), ("mode", "custom"), ("start", ""), ("end", "")]).await;
        assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bad.text().await.unwrap().contains("HH:MM"));
        let refused = admin.submit("/messages/settings", "/messages/settings/quiet-hours",
            &[("school", "s2"), ("mode", "off")]).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN, "another school's administrator decides there");
    }
}
