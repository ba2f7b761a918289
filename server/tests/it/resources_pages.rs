//! The resource pages, driven like a browser without JavaScript: searching (highlighted
//! snippets, facets, chips, a wrong parameter said on the page), a resource as its readers, its
//! owner and its reviewers see it, adding one through the upload form, submitting it with the
//! pledge, reviewing and retiring it through the forms, the lists, follows, English, phones and
//! signed-out visitors — on SQLite and PostgreSQL.

use std::time::Duration;

use kongjian::resources::entity::outbox;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use sea_orm::{EntityTrait, QueryOrder};
use serde_json::{Value, json};

use crate::messaging::{district, get, post, token};
use crate::on_both_databases;
use crate::pages::{Browser, csrf_of, location};
use crate::support::TestApp;

const LESSON: &str = "二次函数的图像与性质";
const LESSON_TEXT: &str =
    "本节课学习二次函数的图像，理解开口方向、对称轴和顶点。\n<script>alert(1)</script>";

/// A text resource of `who` through the API; its id.
async fn create(app: &TestApp, who: &str, body: Value) -> String {
    let (status, made) = post(app, &token(app, who).await, "/api/v1/resources", body).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    made["id"].as_str().unwrap().to_owned()
}

async fn submit(app: &TestApp, who: &str, id: &str) {
    let path = format!("/api/v1/resources/{id}/submit");
    let (status, body) = post(app, &token(app, who).await, &path, json!({"pledge": true})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn approve(app: &TestApp, reviewer: &str, id: &str) {
    let verdict =
        json!({"decision": "approve", "political": "pass", "scientific": "pass", "safety": "pass"});
    let path = format!("/api/v1/resources/{id}/review");
    let (status, body) = post(app, &token(app, reviewer).await, &path, verdict).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// t1's maths lesson, shared with the school, submitted and approved by sa1; its id.
async fn published_lesson(app: &TestApp) -> String {
    let id = create(
        app,
        "t1",
        json!({"title": LESSON, "subject": "数学", "grade": "09", "type": "教案",
        "edition": "人教版", "keywords": "函数 抛物线", "text": LESSON_TEXT, "scope": "school"}),
    )
    .await;
    submit(app, "t1", &id).await;
    approve(app, "sa1", &id).await;
    id
}

/// Wait until the search index has taken in every change made so far.
async fn indexed(app: &TestApp) {
    let top = outbox::Entity::find()
        .order_by_desc(outbox::Column::Seq)
        .one(&app.state.db)
        .await
        .unwrap()
        .map_or(0, |row| row.seq);
    tokio::time::timeout(Duration::from_secs(5), app.state.search.reached(top))
        .await
        .expect("the index catches up within five seconds");
}

async fn signed_in<'a>(app: &'a TestApp, who: &str) -> Browser<'a> {
    let browser = Browser::new(app);
    browser.activate(who).await;
    browser
}

async fn api_state(app: &TestApp, id: &str) -> Value {
    let (_, detail) = get(
        app,
        &token(app, "t1").await,
        &format!("/api/v1/resources/{id}"),
    )
    .await;
    detail
}

on_both_databases! {
    async fn a_pupil_finds_a_published_lesson_without_javascript(app) {
        district(&app).await;
        let id = published_lesson(&app).await;
        indexed(&app).await;
        let pupil = signed_in(&app, "st1").await;

        let (status, page) = pupil.get("/resources?q=%E5%87%BD%E6%95%B0").await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains(&format!(r#"href="/resources/{id}""#)) && page.contains(LESSON), "{page}");
        assert!(page.contains("<mark>"), "the snippet is highlighted: {page}");
        assert!(!page.contains("<script>alert(1)"), "the rest of the text is escaped");
        assert!(page.contains("共 1 条结果") && page.contains(r#"name="q" type="search" value="函数""#));
        assert!(page.contains(r#"role="combobox""#) && page.contains("/static/search.js?v="), "suggestions as one types");
        let subject = "/resources?q=%E5%87%BD%E6%95%B0&#38;subject=%E6%95%B0%E5%AD%A6";
        assert!(page.contains(&format!(r#"href="{subject}""#)), "the subject facet filters: {page}");
        assert!(page.contains("sort=newest") && page.contains("sort=used"), "three orders");

        let (_, filtered) = pupil.get(&subject.replace("&#38;", "&")).await;
        assert!(filtered.contains(r#"class="chip""#) && filtered.contains("学科：数学"), "{filtered}");
        assert!(filtered.contains(r#"aria-label="移除筛选：学科：数学""#) && filtered.contains(LESSON));
        assert!(filtered.contains(r#"<input type="hidden" name="subject" value="数学">"#), "a new query keeps the filter");
        let (_, other) = pupil.get("/resources?q=%E5%87%BD%E6%95%B0&subject=%E8%AF%AD%E6%96%87").await;
        assert!(other.contains("没有找到符合条件的资源") && !other.contains(LESSON));

        // Paged by the API's cursor: "more", then back to the first page.
        let second = create(&app, "t1", json!({"title": "一次函数复习", "subject": "数学", "grade": "08",
            "type": "学案", "text": "一次函数的图像是一条直线。", "scope": "school"})).await;
        submit(&app, "t1", &second).await;
        approve(&app, "sa1", &second).await;
        indexed(&app).await;
        let (_, first) = pupil.get("/resources?q=%E5%87%BD%E6%95%B0&sort=newest&limit=1").await;
        let more = "/resources?q=%E5%87%BD%E6%95%B0&#38;sort=newest&#38;limit=1&#38;cursor=1";
        assert!(first.contains(&format!(r#"<a class="more" href="{more}" rel="next">更多</a>"#)), "{first}");
        let (_, next) = pupil.get(&more.replace("&#38;", "&")).await;
        assert!(next.contains("回到第一页"), "{next}");
        for title in [LESSON, "一次函数复习"] {
            assert!(first.contains(title) != next.contains(title), "{title} is on exactly one page");
        }
        assert!(!next.contains(r#"class="more""#), "nothing after the last");

        // The suggestions the script asks for, with the page's session cookie.
        let suggested: Value = pupil.client.get(app.url("/api/v1/search/suggest?q=%E4%BA%8C%E6%AC%A1"))
            .send().await.unwrap().json().await.unwrap();
        assert_eq!(suggested["suggestions"][0]["id"], id.as_str(), "{suggested}");

        // Another school's teacher is not shown the school's resource.
        let stranger = signed_in(&app, "t2").await;
        let (_, theirs) = stranger.get("/resources?q=%E5%87%BD%E6%95%B0").await;
        assert!(!theirs.contains(LESSON) && theirs.contains("共 0 条结果"), "{theirs}");
    }
}

on_both_databases! {
    async fn a_wrong_search_parameter_is_said_on_the_page(app) {
        district(&app).await;
        let teacher = signed_in(&app, "t1").await;
        for (path, says) in [
            ("/resources?grade=13", "不是年级代码"),
            ("/resources?sort=best", "relevance"),
            ("/resources?cursor=abc", "翻页游标"),
            ("/resources?limit=many", "limit"),
        ] {
            let (status, page) = teacher.get(path).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
            assert!(page.contains(r#"class="form-error""#) && page.contains(says), "{path}: {page}");
            assert!(page.contains(r#"name="q""#), "{path}: the form is still there");
        }
    }
}

on_both_databases! {
    async fn readers_see_the_content_and_owners_and_reviewers_see_the_history(app) {
        district(&app).await;
        let id = published_lesson(&app).await;
        let path = format!("/resources/{id}");

        let pupil = signed_in(&app, "st1").await;
        let (status, page) = pupil.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains(LESSON) && page.contains("已入库") && page.contains("王老师"), "{page}");
        assert!(page.contains("九年级（初中）") && page.contains("人教版") && page.contains("抛物线"));
        assert!(page.contains(r#"<div class="resource-text">本节课学习二次函数的图像"#), "the text, pre-wrapped");
        assert!(page.contains("&#60;script&#62;alert(1)&#60;/script&#62;") && !page.contains("<script>alert(1)"));
        assert!(!page.contains("data-working-state") && !page.contains(&format!(r#"action="{path}/review""#)),
            "readers see no workings");
        assert_eq!(api_state(&app, &id).await["usage"]["views"], 1, "reading counts as a view");

        let owner = signed_in(&app, "t1").await;
        let (_, mine) = owner.get(&path).await;
        assert!(mine.contains("data-working-state") && mine.contains("机审结果") && mine.contains("data-reviews"), "{mine}");
        assert!(mine.contains("审核通过，入库") && mine.contains("待审核 → 已入库") && mine.contains("钱校长"));
        assert!(mine.contains(&format!(r#"action="/resources/{id}/retire""#)), "the owner may retire it");
        assert!(!mine.contains(&format!(r#"action="/resources/{id}/review""#)));

        // A link and a file, not yet published: the owner sees them, other pupils get a 404.
        let link = create(&app, "t1", json!({"title": "函数图像工具", "subject": "数学", "grade": "09", "type": "素材",
            "url": "https://example.cn/graph?a=1&b=2"})).await;
        let (_, shown) = owner.get(&format!("/resources/{link}")).await;
        assert!(shown.contains(r#"href="https://example.cn/graph?a=1&#38;b=2" rel="noopener noreferrer""#), "{shown}");
        assert!(shown.contains("尚未入库") && shown.contains(&format!(r#"action="/resources/{link}/submit""#)));
        let file = Form::new().text("title", "函数练习").text("subject", "数学").text("grade", "9")
            .text("type", "习题").part("file", Part::bytes(b"1. y = x^2\n".to_vec()).file_name("练习.txt"));
        let made = app.client.post(app.url("/api/v1/resources")).bearer_auth(token(&app, "t1").await)
            .multipart(file).send().await.unwrap();
        assert_eq!(made.status(), StatusCode::CREATED);
        let file_id = made.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
        let (_, shown) = owner.get(&format!("/resources/{file_id}")).await;
        assert!(shown.contains(&format!(r#"href="/api/v1/resources/{file_id}/file?version=1""#)), "{shown}");
        assert!(shown.contains("练习.txt"));
        assert_eq!(pupil.get(&format!("/resources/{link}")).await.0, StatusCode::NOT_FOUND);
        let stranger = signed_in(&app, "t2").await;
        assert_eq!(stranger.get(&path).await.0, StatusCode::NOT_FOUND, "another school's teacher");
        assert_eq!(pupil.get("/resources/no-such-resource").await.0, StatusCode::NOT_FOUND);
    }
}

on_both_databases! {
    async fn the_upload_form_saves_a_text_resource_that_then_is_among_mine(app) {
        district(&app).await;
        let teacher = signed_in(&app, "t1").await;
        let (status, form) = teacher.get("/resources/new").await;
        assert_eq!(status, StatusCode::OK, "{form}");
        assert!(form.contains(r#"enctype="multipart/form-data""#) && form.contains("action=\"/resources/new?csrf="), "{form}");
        assert!(form.contains(r#"<option value="class:k1">班级：三年级1班</option>"#), "the classes t1 teaches");
        assert!(!form.contains("class:k2"), "not another teacher's class");
        assert!(form.contains(r#"<option value="09">09 九年级（初中）</option>"#) && form.contains(r#"value="语文""#));
        let csrf = csrf_of(&form);
        let action = app.url(&format!("/resources/new?csrf={csrf}"));
        let fields = |subject: &str| Form::new().text("title", "圆的面积").text("description", "推导圆的面积公式")
            .text("subject", subject.to_owned()).text("grade", "06").text("type", "教案").text("edition", "")
            .text("chapter", "第五单元").text("licence", "").text("keywords", "圆，面积").text("scope", "class:k1")
            .text("content", "text").part("file", Part::bytes(Vec::new()).file_name(""))
            .text("text", "把圆分成若干等份，拼成近似的长方形。").text("url", "");

        let refused = teacher.client.post(&action).multipart(fields("")).send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let again = refused.text().await.unwrap();
        assert!(again.contains("请选择学科") && again.contains(r#"value="圆的面积""#), "{again}");
        assert!(again.contains("把圆分成若干等份") && again.contains(r#"<option value="class:k1" selected>"#));

        let saved = teacher.client.post(&action).multipart(fields("数学")).send().await.unwrap();
        assert_eq!(saved.status(), StatusCode::SEE_OTHER);
        let path = location(&saved).to_owned();
        let (_, page) = teacher.get(&path).await;
        assert!(page.contains("圆的面积") && page.contains("班级：三年级1班") && page.contains("草稿"), "{page}");
        let (status, mine) = teacher.get("/resources/mine").await;
        assert_eq!(status, StatusCode::OK);
        assert!(mine.contains(&format!(r#"href="{path}""#)) && mine.contains("第 1 版 · 草稿"), "{mine}");
        let (_, drafts) = teacher.get("/resources/mine?state=published").await;
        assert!(!drafts.contains("圆的面积"), "filtered by state");
        let (status, wrong) = teacher.get("/resources/mine?state=lost").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(wrong.contains("不是资源状态"));

        let upload = |name: &'static str, bytes: &'static [u8]| Form::new().text("title", "口算练习")
            .text("subject", "数学").text("grade", "02").text("type", "习题").text("scope", "school")
            .text("content", "file").part("file", Part::bytes(bytes).file_name(name)).text("text", "").text("url", "");
        let odd = teacher.client.post(&action).multipart(upload("练习.bin", b"\x00\x01\x02\xff\xfe")).send().await.unwrap();
        assert_eq!(odd.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let again = odd.text().await.unwrap();
        assert!(again.contains("不接受此文件") && again.contains("请重新选择文件") && again.contains(r#"value="口算练习""#), "{again}");
        let filed = teacher.client.post(&action).multipart(upload("练习.txt", "1 + 1 = ?\n".as_bytes())).send().await.unwrap();
        assert_eq!(filed.status(), StatusCode::SEE_OTHER);
        let file_page = location(&filed).to_owned();
        let (_, page) = teacher.get(&file_page).await;
        assert!(page.contains("/file?version=1\"") && page.contains("下载 练习.txt"), "{page}");

        // Without the token the server refuses before it reads the body, so the client may see
        // the connection close while it still writes; either way nothing is stored.
        let forged = teacher.client.post(app.url("/resources/new")).multipart(fields("数学")).send().await;
        if let Ok(refused) = forged {
            assert_eq!(refused.status(), StatusCode::FORBIDDEN, "no token, no upload");
        }
        let (_, listed) = get(&app, &token(&app, "t1").await, "/api/v1/me/resources").await;
        assert_eq!(listed["resources"].as_array().unwrap().len(), 2, "{listed}");
        let pupil = signed_in(&app, "st1").await;
        assert_eq!(pupil.get("/resources/new").await.0, StatusCode::FORBIDDEN, "pupils do not author");
        let (_, nothing) = pupil.get("/resources/mine").await;
        assert!(nothing.contains("还没有资源") && !nothing.contains("/resources/new\""));
    }
}

on_both_databases! {
    async fn a_reviewer_approves_a_submitted_resource_through_the_review_form(app) {
        district(&app).await;
        let id = create(&app, "t1", json!({"title": "拒绝不良诱惑", "subject": "道德与法治", "grade": "08",
            "type": "课件", "text": "认识网络赌博的危害，学会拒绝。"})).await;
        let path = format!("/resources/{id}");
        let teacher = signed_in(&app, "t1").await;
        let unpledged = teacher.submit(&path, &format!("{path}/submit"), &[]).await;
        assert_eq!(unpledged.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(unpledged.text().await.unwrap().contains("责任承诺"));
        let submitted = teacher.submit(&path, &format!("{path}/submit"), &[("pledge", "on")]).await;
        assert_eq!(location(&submitted), format!("{path}?done=submitted"));
        let (_, page) = teacher.get(location(&submitted)).await;
        assert!(page.contains("已提交审核") && page.contains(&format!(r#"action="{path}/withdraw""#)), "{page}");

        let reviewer = signed_in(&app, "sa1").await;
        let (status, queue) = reviewer.get("/resources/review").await;
        assert_eq!(status, StatusCode::OK);
        assert!(queue.contains("拒绝不良诱惑") && queue.contains("负面词 1") && queue.contains("相同内容 0"), "{queue}");
        let (_, none) = reviewer.get("/resources/review?subject=%E6%95%B0%E5%AD%A6").await;
        assert!(!none.contains("拒绝不良诱惑") && none.contains("没有等待审核的资源"));
        assert_eq!(teacher.get("/resources/review").await.0, StatusCode::FORBIDDEN, "teachers do not review");
        assert_eq!(signed_in(&app, "st1").await.get("/resources/review").await.0, StatusCode::FORBIDDEN);

        let (_, page) = reviewer.get(&path).await;
        assert!(page.contains(&format!(r#"action="{path}/review""#)) && page.contains("政治性"), "{page}");
        assert!(page.contains("网络【赌博】的危害"), "the match in its context");
        let passes = [("political", "pass"), ("scientific", "pass"), ("safety", "pass")];
        let mut reject = passes.to_vec();
        reject.push(("decision", "reject"));
        let refused = reviewer.submit(&path, &format!("{path}/review"), &reject).await;
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.text().await.unwrap().contains("退回时请写明意见"));
        let mut fields = passes.to_vec();
        fields.extend([("decision", "approve"), ("comment", "内容积极健康。")]);
        let approved = reviewer.submit(&path, &format!("{path}/review"), &fields).await;
        assert_eq!(approved.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&approved), format!("{path}?done=reviewed"));
        assert_eq!(api_state(&app, &id).await["state"], "published");
        let (_, after) = reviewer.get(&path).await;
        assert!(after.contains("已入库") && after.contains("内容积极健康。") && !after.contains(&format!(r#"action="{path}/review""#)), "{after}");
    }
}

on_both_databases! {
    async fn the_owner_withdraws_and_a_reviewer_retires_with_a_reason(app) {
        district(&app).await;
        let id = published_lesson(&app).await;
        let path = format!("/resources/{id}");
        let reviewer = signed_in(&app, "sa1").await;
        let bare = reviewer.submit(&path, &format!("{path}/retire"), &[("reason", " ")]).await;
        assert_eq!(bare.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(bare.text().await.unwrap().contains("请写明出库原因"));
        let retired = reviewer.submit(&path, &format!("{path}/retire"), &[("reason", "教材已改版")]).await;
        assert_eq!(location(&retired), format!("{path}?done=retired"));
        let (_, page) = reviewer.get(location(&retired)).await;
        assert!(page.contains("已出库。") && page.contains("教材已改版"), "{page}");
        assert_eq!(signed_in(&app, "st1").await.get(&path).await.0, StatusCode::NOT_FOUND, "out of the library");

        let draft = create(&app, "t1", json!({"title": "草稿", "subject": "数学", "grade": "01", "type": "其他", "text": "x"})).await;
        submit(&app, "t1", &draft).await;
        let owner = signed_in(&app, "t1").await;
        let here = format!("/resources/{draft}");
        let withdrawn = owner.submit(&here, &format!("{here}/withdraw"), &[]).await;
        assert_eq!(location(&withdrawn), format!("{here}?done=withdrawn"));
        let again = owner.submit(&here, &format!("{here}/withdraw"), &[]).await;
        assert_eq!(again.status(), StatusCode::CONFLICT, "only what is in review");
        assert!(again.text().await.unwrap().contains("不能撤回"));
    }
}

on_both_databases! {
    async fn a_teacher_follows_a_subject_and_sees_what_is_new_there(app) {
        district(&app).await;
        published_lesson(&app).await;
        let colleague = signed_in(&app, "t3").await;
        let (status, page) = colleague.get("/resources/following").await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains("还没有关注任何学科或老师") && page.contains(r#"<option value="数学">"#), "{page}");
        let followed = colleague.submit("/resources/following", "/resources/following",
            &[("kind", "subject"), ("target", "数学")]).await;
        assert_eq!(location(&followed), "/resources/following");
        let (_, page) = colleague.get("/resources/following").await;
        assert!(page.contains("data-follows") && page.contains(LESSON), "{page}");
        assert!(!page.contains(r#"<option value="数学">"#), "already followed");
        let wrong = colleague.submit("/resources/following", "/resources/following",
            &[("kind", "subject"), ("target", "炼金术")]).await;
        assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(wrong.text().await.unwrap().contains("不是学科名称"));
        let gone = colleague.submit("/resources/following", "/resources/following/remove",
            &[("kind", "subject"), ("target", "数学")]).await;
        assert_eq!(gone.status(), StatusCode::SEE_OTHER);
        let (_, page) = colleague.get("/resources/following").await;
        assert!(!page.contains(LESSON) && page.contains("还没有关注"));
    }
}

on_both_databases! {
    async fn the_pages_fit_a_phone_and_speak_english_when_asked(app) {
        district(&app).await;
        let id = published_lesson(&app).await;
        indexed(&app).await;
        let teacher = signed_in(&app, "t1").await;
        let detail = format!("/resources/{id}");
        for path in ["/resources", "/resources/mine", "/resources/new", "/resources/following", detail.as_str()] {
            let (status, page) = teacher.get(path).await;
            assert_eq!(status, StatusCode::OK, "{path}");
            assert!(page.contains(r#"name="viewport""#) && page.contains("/static/resources.css?v="), "{path}");
            assert!(!page.contains("style=") && !page.contains("<table"), "{path}: no inline styles, no wide tables");
        }
        let css = app.client.get(app.url("/static/resources.css")).send().await.unwrap().text().await.unwrap();
        let phone_rules = css.split("@media (min-width: 720px)").next().unwrap();
        for rule in phone_rules.split(';') {
            let Some((property, value)) = rule.rsplit_once(':') else { continue };
            let property = property.rsplit(['{', ' ', '\n']).next().unwrap_or("");
            if property == "width" || property == "min-width" {
                let value = value.trim();
                let px = value.strip_suffix("px").and_then(|v| v.parse::<f64>().ok())
                    .or_else(|| value.strip_suffix("rem").and_then(|v| v.parse::<f64>().ok()).map(|r| r * 16.0));
                assert!(px.is_none_or(|px| px <= 360.0), "{property}: {value} is wider than a phone");
            }
        }

        let english = teacher.client.get(app.url("/resources?q=%E5%87%BD%E6%95%B0"))
            .header("accept-language", "en").send().await.unwrap();
        assert_eq!(english.headers()["content-language"], "en");
        let page = english.text().await.unwrap();
        assert!(page.contains("Search resources") && page.contains("Most used") && page.contains("Mathematics"), "{page}");
    }
}

on_both_databases! {
    async fn signed_out_visitors_are_sent_to_sign_in(app) {
        district(&app).await;
        let visitor = Browser::new(&app);
        for path in ["/resources", "/resources/mine", "/resources/review", "/resources/new",
            "/resources/following", "/resources/some-id"] {
            let response = visitor.client.get(app.url(path)).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
            assert!(location(&response).starts_with("/login?next=%2Fresources"), "{path}");
        }
    }
}
