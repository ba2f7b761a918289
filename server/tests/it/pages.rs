//! The pages, driven like a browser without JavaScript: HTML forms carrying the CSRF token,
//! redirects looked at one by one, on SQLite and PostgreSQL.

use chrono::Utc;
use kongjian::auth::codes;
use reqwest::StatusCode;

use crate::fixtures::Package;
use crate::on_both_databases;
use crate::support::{Backend, TestApp};

const PASSWORD: &str = "月落乌啼霜满天2026";

/// Students 1–3 with parents and `bmp`, head teacher `t1` of class `k1`, administrators `da`,
/// `sa1`, `sa2`, and `t2`, a teacher of the second school.
async fn district(app: &TestApp) {
    crate::fixtures::import(
        &app.state.db,
        &Package::new(&[1, 2, 3]).with_admins(),
        false,
    )
    .await;
}

async fn code_for(app: &TestApp, sourced_id: &str) -> String {
    let person = kongjian::people::store::find_by_sourced_id(&app.state.db, sourced_id)
        .await
        .unwrap()
        .unwrap();
    codes::issue(&app.state.db, &person, None, 30, Utc::now())
        .await
        .unwrap()
        .0
}

/// One browser: its own cookies, redirects not followed.
pub(crate) struct Browser<'a> {
    app: &'a TestApp,
    pub(crate) client: reqwest::Client,
}

impl<'a> Browser<'a> {
    pub(crate) fn new(app: &'a TestApp) -> Self {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        Browser { app, client }
    }

    pub(crate) async fn get(&self, path: &str) -> (StatusCode, String) {
        let response = self.client.get(self.app.url(path)).send().await.unwrap();
        (response.status(), response.text().await.unwrap())
    }

    pub(crate) async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.app.url(path))
            .form(fields)
            .send()
            .await
            .unwrap()
    }

    /// Submit a form found on the page at `from`, with the page's CSRF token.
    pub(crate) async fn submit(
        &self,
        from: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let (_, html) = self.get(from).await;
        let token = csrf_of(&html);
        let mut all = vec![("csrf", token.as_str())];
        all.extend_from_slice(fields);
        self.post(action, &all).await
    }

    /// Sign in with a fresh activation code through `/activate`, as `sourced_id`.
    pub(crate) async fn activate(&self, sourced_id: &str) {
        let code = code_for(self.app, sourced_id).await;
        let done = self
            .submit(
                "/activate",
                "/activate",
                &[
                    ("code", &code),
                    ("password", PASSWORD),
                    ("confirm", PASSWORD),
                ],
            )
            .await;
        assert_eq!(
            done.status(),
            StatusCode::SEE_OTHER,
            "{sourced_id} activates"
        );
    }
}

pub(crate) fn csrf_of(html: &str) -> String {
    html.split(r#"name="csrf" value=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_else(|| panic!("no CSRF field in {html}"))
        .to_owned()
}

pub(crate) fn location(response: &reqwest::Response) -> &str {
    response.headers()["location"].to_str().unwrap()
}

on_both_databases! {
    async fn a_parent_activates_through_the_forms_and_sees_one_session(app) {
        district(&app).await;
        let code = code_for(&app, "p1").await;
        let browser = Browser::new(&app);

        let (status, step_one) = browser.get(&format!("/activate?code={code}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(step_one.contains(&format!(r#"value="{code}""#)), "the QR link fills in the code");

        let checked = browser.post("/activate", &[("csrf", &csrf_of(&step_one)), ("code", &code)]).await;
        assert_eq!(checked.status(), StatusCode::OK);
        let step_two = checked.text().await.unwrap();
        assert!(step_two.contains("李1家长"), "step two greets the code's holder");
        assert!(step_two.contains("138****0001"), "and says how to sign in next time, masked");
        assert!(step_two.contains(r#"type="password""#));

        let token = csrf_of(&step_two);
        let mismatch = browser
            .post("/activate", &[("csrf", &token), ("code", &code), ("password", PASSWORD), ("confirm", "别的密码别的密码")])
            .await;
        assert_eq!(mismatch.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(mismatch.text().await.unwrap().contains("两次输入的密码不一致"));

        let weak = browser
            .post("/activate", &[("csrf", &token), ("code", &code), ("password", "12345678"), ("confirm", "12345678")])
            .await;
        assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY, "nothing was used up so far");

        let done = browser
            .post("/activate", &[("csrf", &token), ("code", &code), ("password", PASSWORD), ("confirm", PASSWORD)])
            .await;
        assert_eq!(done.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&done), "/account?welcome=1");
        let rotated = done.headers().get_all("set-cookie").iter().any(|c| c.to_str().unwrap().starts_with("kj_csrf="));
        assert!(rotated, "the CSRF token changes at sign-in");

        let (status, account) = browser.get("/account?welcome=1").await;
        assert_eq!(status, StatusCode::OK);
        assert!(account.contains("李1家长") && account.contains("李小1"), "name and child");
        assert!(account.contains("家长"), "the role, in Chinese");
        assert_eq!(account.matches(r#"class="session-item"#).count(), 1, "one session");
        assert!(account.contains("当前设备"));
        assert_ne!(csrf_of(&account), token, "pages carry the new token");

        let again = browser.submit("/activate", "/activate", &[("code", &code)]).await;
        assert_eq!(again.status(), StatusCode::UNAUTHORIZED, "a code works once");

        let out = browser.submit("/account", "/logout", &[]).await;
        assert_eq!(out.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&out), "/");
        let gone = browser.client.get(app.url("/account")).send().await.unwrap();
        assert_eq!(gone.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&gone), "/login?next=%2Faccount");
    }
}

on_both_databases! {
    async fn the_login_form_signs_in_and_a_wrong_password_comes_back_with_401(app) {
        district(&app).await;
        Browser::new(&app).activate("p2").await;
        let browser = Browser::new(&app);

        let (status, login) = browser.get("/login?next=/account").await;
        assert_eq!(status, StatusCode::OK);
        assert!(login.contains(r#"action="/activate""#), "first visitors find the code form");
        assert!(!login.contains("/auth/sso"), "no single sign-on button unless it is set up");

        let wrong = browser
            .submit("/login?next=/account", "/login", &[("login", "13800000002"), ("password", "不是这个密码啊"), ("next", "/account")])
            .await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        let page = wrong.text().await.unwrap();
        assert!(page.contains("登录失败"), "the message is on the form");
        assert!(page.contains(r#"value="13800000002""#), "the login is kept");
        assert!(!page.contains("不是这个密码啊"), "the password never is");

        let right = browser
            .submit("/login", "/login", &[("login", "138-0000-0002"), ("password", PASSWORD), ("next", "/account")])
            .await;
        assert_eq!(right.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&right), "/account");

        let (_, home) = browser.get("/").await;
        assert!(home.contains("李2家长") && home.contains(r#"action="/logout""#), "the header shows who is in");
        assert!(home.contains(r#"href="/account""#));

        let outside = browser
            .submit("/", "/login", &[("login", "13800000002"), ("password", PASSWORD), ("next", "https://evil.example/")])
            .await;
        assert_eq!(location(&outside), "/", "never an open redirect");
    }
}

on_both_databases! {
    async fn too_many_wrong_passwords_come_back_as_429_with_the_wait_on_the_form(app) {
        district(&app).await;
        let browser = Browser::new(&app);
        let (_, page) = browser.get("/login").await;
        let token = csrf_of(&page);
        let mut throttled = None;
        for _ in 0..12 {
            let response = browser
                .post("/login", &[("csrf", &token), ("login", "13800000003"), ("password", "猜一猜猜一猜")])
                .await;
            if response.status() == StatusCode::TOO_MANY_REQUESTS {
                throttled = Some(response);
                break;
            }
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        }
        let throttled = throttled.expect("throttled within twelve attempts");
        let wait: u64 = throttled.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        let html = throttled.text().await.unwrap();
        assert!(html.contains(&format!("{wait} 秒后再试")), "the wait is on the form");
        assert!(html.contains(r#"value="13800000003""#));
    }
}

on_both_databases! {
    async fn a_form_post_without_the_csrf_token_is_refused(app) {
        district(&app).await;
        let browser = Browser::new(&app);
        let (_, page) = browser.get("/login").await;
        assert!(page.contains(r#"href="/login""#), "signed out, the header offers sign-in");
        let forged = browser.post("/login", &[("login", "13800000001"), ("password", PASSWORD)]).await;
        assert_eq!(forged.status(), StatusCode::FORBIDDEN);
        let wrong = browser.post("/logout", &[("csrf", "0".repeat(48).as_str())]).await;
        assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    }
}

on_both_databases! {
    async fn a_head_teacher_prints_a_sheet_of_slips_and_another_teacher_may_not(app) {
        district(&app).await;
        let teacher = Browser::new(&app);
        teacher.activate("t1").await;

        let (_, account) = teacher.get("/account").await;
        assert!(account.contains(r#"href="/classes/codes""#), "the account links to the code sheets");
        let (status, classes) = teacher.get("/classes/codes").await;
        assert_eq!(status, StatusCode::OK);
        assert!(classes.contains(r#"href="/classes/k1/codes""#) && classes.contains("三年级1班"));

        let (status, class) = teacher.get("/classes/k1/codes").await;
        assert_eq!(status, StatusCode::OK);
        assert!(class.contains("尚未使用的激活码将全部失效"), "the page warns about earlier codes");

        let sheet = teacher.submit("/classes/k1/codes", "/classes/k1/codes", &[]).await;
        assert_eq!(sheet.status(), StatusCode::OK);
        assert_eq!(sheet.headers()["cache-control"], "no-store");
        let html = sheet.text().await.unwrap();
        // Four pupils (st1–st3, bmp) and three parents.
        assert_eq!(html.matches(r#"<article class="slip">"#).count(), 7);
        assert_eq!(html.matches("<svg").count(), 7, "one QR code per slip");
        assert!(!html.contains("<?xml"));
        assert!(html.contains("李小1 的家长"), "a parent's slip names the child");
        assert!(html.contains("/activate"));
        let first_code = html.split(r#"<p class="slip-code">"#).nth(1).unwrap().split('<').next().unwrap();
        assert_eq!(first_code.len(), 9, "XXXX-XXXX: {first_code}");

        let stranger = Browser::new(&app);
        stranger.activate("t2").await;
        assert_eq!(stranger.get("/classes/k1/codes").await.0, StatusCode::FORBIDDEN);
        let refused = stranger.submit("/account", "/classes/k1/codes", &[]).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        let (_, nothing) = stranger.get("/classes/codes").await;
        assert!(!nothing.contains("/classes/k1/codes"));

        let nobody = Browser::new(&app).get("/classes/k1/codes").await;
        assert_eq!(nobody.0, StatusCode::SEE_OTHER, "signed out: to the sign-in page");
    }
}

on_both_databases! {
    async fn the_audit_log_is_shown_to_a_school_administrator_and_not_to_a_parent(app) {
        district(&app).await;
        let parent = Browser::new(&app);
        parent.activate("p3").await;
        let admin = Browser::new(&app);
        admin.activate("sa1").await;

        let (status, log) = admin.get("/audit").await;
        assert_eq!(status, StatusCode::OK);
        assert!(log.contains("激活账户"), "actions are translated");
        assert!(log.contains("3家长"), "with the people's names");
        assert!(log.contains(r#"class="table-scroll""#), "the table scrolls inside the page on a phone");
        let (_, account) = admin.get("/account").await;
        assert!(account.contains(r#"href="/audit""#));

        assert_eq!(parent.get("/audit").await.0, StatusCode::FORBIDDEN);
        let signed_out = Browser::new(&app).client.get(app.url("/audit")).send().await.unwrap();
        assert_eq!(signed_out.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&signed_out), "/login?next=%2Faudit");
    }
}

on_both_databases! {
    async fn signing_out_everywhere_ends_every_session_and_says_so(app) {
        district(&app).await;
        let phone = Browser::new(&app);
        phone.activate("st1").await;
        let laptop = Browser::new(&app);
        let signed_in = laptop
            .submit("/login", "/login", &[("login", "st1"), ("password", PASSWORD)])
            .await;
        assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
        let (_, account) = laptop.get("/account").await;
        assert_eq!(account.matches(r#"class="session-item"#).count(), 2);

        let out = laptop.submit("/account", "/account/sign-out-everywhere", &[]).await;
        assert_eq!(out.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&out), "/login?signed_out=everywhere");
        let (_, note) = laptop.get("/login?signed_out=everywhere").await;
        assert!(note.contains("所有设备上退出"));
        assert_eq!(phone.get("/account").await.0, StatusCode::SEE_OTHER, "the other device is out too");
        assert_eq!(laptop.get("/account").await.0, StatusCode::SEE_OTHER);
    }
}

on_both_databases! {
    async fn the_landing_page_invites_strangers_to_sign_in_and_members_to_their_account(app) {
        district(&app).await;
        let browser = Browser::new(&app);
        let (_, stranger) = browser.get("/").await;
        assert!(stranger.contains(r#"class="button" href="/login""#));
        browser.activate("st2").await;
        let (_, member) = browser.get("/").await;
        assert!(member.contains(r#"class="button" href="/space""#), "members go to their space");
        assert!(member.contains(r#"href="/account""#));
        let (_, en) = {
            let r = browser.client.get(app.url("/account")).header("accept-language", "en").send().await.unwrap();
            (r.status(), r.text().await.unwrap())
        };
        assert!(en.contains("Where you are signed in") && en.contains("Pupil"));
    }
}

/// Only the configuration matters here, not the database: SQLite alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sign_in_page_offers_single_sign_on_when_it_is_set_up() {
    let oidc = kongjian::Settings {
        oidc_issuer: Some("https://sso.example.edu.cn/realms/qinghe".into()),
        oidc_client_id: Some("kongjian".into()),
        oidc_label: Some("青禾县教育云账号".into()),
        ..Default::default()
    }
    .resolve()
    .unwrap()
    .oidc;
    let app = TestApp::spawn_with(Backend::Sqlite, move |config| config.oidc = oidc).await;
    let (status, page) = Browser::new(&app).get("/login?next=/account").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        page.contains(r#"href="/auth/sso?next=%2Faccount""#),
        "{page}"
    );
    assert!(page.contains("青禾县教育云账号"));
    assert!(
        page.contains(r#"action="/login""#),
        "the password form stays"
    );
}
