//! Signing in through the JSON API: activation codes, passwords, throttling, CSRF, session
//! expiry, signing out everywhere and retirement, on SQLite and PostgreSQL.

use std::time::Duration;

use chrono::Utc;
use kongjian::auth::codes;
use kongjian::auth::entity::activation_code;
use reqwest::StatusCode;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::fixtures::Package;
use crate::on_both_databases;
use crate::support::{TestApp, soon};

const PASSWORD: &str = "春眠不觉晓2026";

async fn import(app: &TestApp, package: &Package, allow_mass_retire: bool) {
    crate::fixtures::import(&app.state.db, package, allow_mass_retire).await;
}

async fn district(app: &TestApp) {
    import(app, &Package::new(&[1, 2, 3]).with_admins(), false).await;
}

/// A browser of its own: its own cookies, no redirects followed.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
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

async fn post(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    body: Value,
) -> (StatusCode, Value) {
    let response = client.post(app.url(path)).json(&body).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn activate(app: &TestApp, client: &reqwest::Client, code: &str) -> (StatusCode, Value) {
    post(
        app,
        client,
        "/api/v1/auth/activate",
        json!({"code": code, "password": PASSWORD}),
    )
    .await
}

async fn login(
    app: &TestApp,
    client: &reqwest::Client,
    login: &str,
    password: &str,
) -> reqwest::Response {
    client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"login": login, "password": password}))
        .send()
        .await
        .unwrap()
}

async fn me(app: &TestApp, client: &reqwest::Client) -> (StatusCode, Value) {
    let response = client.get(app.url("/api/v1/me")).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A signed-in browser for `sourced_id` and its CSRF token.
async fn signed_in(app: &TestApp, sourced_id: &str) -> (reqwest::Client, String) {
    let client = browser();
    let (status, body) = activate(app, &client, &code_for(app, sourced_id).await).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    (client, body["csrf_token"].as_str().unwrap().to_owned())
}

on_both_databases! {
    async fn a_code_signs_in_once_and_afterwards_the_password_does(app) {
        district(&app).await;
        let code = code_for(&app, "p1").await;
        let first = browser();
        let (status, body) = activate(&app, &first, &code.to_lowercase()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["sourced_id"], "p1");
        assert_eq!(me(&app, &first).await.1["sourced_id"], "p1");

        // The same code again, from anywhere: the same 401 as a wrong password.
        let (status, used) = activate(&app, &browser(), &code).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(used["error"]["code"], "sign_in_failed");
        let wrong = login(&app, &browser(), "13800000001", "not the password").await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(wrong.json::<Value>().await.unwrap(), used, "same body either way");
        let nobody = login(&app, &browser(), "nobody-at-all", "whatever1").await;
        assert_eq!(nobody.json::<Value>().await.unwrap(), used, "no such person looks the same");

        // Phone number, however it is written.
        let second = browser();
        let response = login(&app, &second, "+86 138-0000-0001", PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(me(&app, &second).await.1["sourced_id"], "p1");

        // Username.
        signed_in(&app, "st1").await;
        let response = login(&app, &browser(), "st1", PASSWORD).await;
        assert_eq!(response.status(), StatusCode::OK);
    }
}

on_both_databases! {
    async fn codes_expire_and_a_reissued_code_voids_the_old_one(app) {
        district(&app).await;
        let old = code_for(&app, "st1").await;
        let new = code_for(&app, "st1").await;
        assert_ne!(old, new);
        assert_eq!(activate(&app, &browser(), &old).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(activate(&app, &browser(), &new).await.0, StatusCode::OK);

        let expiring = code_for(&app, "st2").await;
        activation_code::Entity::update_many()
            .col_expr(activation_code::Column::ExpiresAt, Expr::value(Utc::now() - chrono::Duration::minutes(1)))
            .filter(activation_code::Column::CodeHash.eq(codes::hash(&expiring)))
            .exec(&app.state.db)
            .await
            .unwrap();
        assert_eq!(activate(&app, &browser(), &expiring).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(activate(&app, &browser(), "ABCD-EFGH").await.0, StatusCode::UNAUTHORIZED);
    }
}

on_both_databases! {
    async fn a_weak_password_is_refused_and_the_code_still_works(app) {
        district(&app).await;
        let code = code_for(&app, "st1").await;
        let (status, body) = post(&app, &browser(), "/api/v1/auth/activate", json!({"code": code, "password": "12345678"})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["error"]["code"], "weak_password");
        assert!(body["error"]["message"].as_str().unwrap().contains('8'));
        assert_eq!(activate(&app, &browser(), &code).await.0, StatusCode::OK);
    }
}

/// A sign-in from the client address `from` (the server believes `X-Forwarded-For` from the
/// loopback proxy), in a fresh browser.
async fn login_from(app: &TestApp, login: &str, password: &str, from: &str) -> reqwest::Response {
    browser()
        .post(app.url("/api/v1/auth/login"))
        .header("x-forwarded-for", from)
        .json(&json!({"login": login, "password": password}))
        .send()
        .await
        .unwrap()
}

/// Wrong passwords for `login` until the server throttles; returns how many it took.
async fn fail_until_throttled(
    app: &TestApp,
    login_name: &str,
    xff: &str,
) -> (usize, reqwest::Response) {
    for attempt in 1..=12 {
        let response = login_from(app, login_name, "wrong-password", xff).await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            return (attempt, response);
        }
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    panic!("never throttled");
}

on_both_databases! {
    async fn failed_sign_ins_slow_down_the_account_from_that_address_only(app) {
        district(&app).await;
        signed_in(&app, "p1").await;
        let (attempts, throttled) = fail_until_throttled(&app, "13800000001", "198.51.100.1").await;
        assert!(attempts > 5, "five failures are free, throttled after {attempts}");
        let wait: u64 = throttled.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        let body: Value = throttled.json().await.unwrap();
        assert_eq!(body["error"]["code"], "too_many_attempts");
        // Even the right password waits, from that address...
        let response = login_from(&app, "13800000001", PASSWORD, "198.51.100.1").await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        // ...but the parent at home is not locked out by a stranger elsewhere.
        let response = login_from(&app, "13800000001", PASSWORD, "203.0.113.50").await;
        assert_eq!(response.status(), StatusCode::OK);
        // The delay ends by itself.
        assert!(wait <= 4, "{wait}");
        tokio::time::sleep(Duration::from_secs(wait + 1)).await;
        let response = login_from(&app, "13800000001", PASSWORD, "198.51.100.1").await;
        assert_eq!(response.status(), StatusCode::OK);
    }
}

on_both_databases! {
    async fn one_address_guessing_many_accounts_is_slowed_down(app) {
        district(&app).await;
        let mut throttled_at = None;
        for n in 1..=40 {
            let response = login_from(&app, &format!("guess{n}"), "wrong-password", "198.51.100.2").await;
            if response.status() == StatusCode::TOO_MANY_REQUESTS {
                throttled_at = Some(n);
                break;
            }
        }
        let n = throttled_at.expect("throttled");
        assert!(n > 30, "thirty failures per address are free, throttled at {n}");
        // Code guessing from one address is throttled too.
        let mut code_throttled = false;
        for _ in 0..10 {
            let response = browser()
                .post(app.url("/api/v1/auth/activate"))
                .header("x-forwarded-for", "198.51.100.3")
                .json(&json!({"code": "ZZZZ-ZZZZ", "password": PASSWORD}))
                .send()
                .await
                .unwrap();
            if response.status() == StatusCode::TOO_MANY_REQUESTS {
                code_throttled = true;
                break;
            }
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        }
        assert!(code_throttled);
    }
}

on_both_databases! {
    async fn cookie_calls_need_the_csrf_token_and_our_origin(app) {
        district(&app).await;
        let (client, token) = signed_in(&app, "p1").await;
        let response = client.post(app.url("/api/v1/auth/logout")).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "csrf_failed");
        let response = client
            .post(app.url("/api/v1/auth/logout"))
            .header("x-csrf-token", "0".repeat(48))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        let response = client
            .post(app.url("/api/v1/auth/logout"))
            .header("x-csrf-token", &token)
            .header("origin", "https://evil.example")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert_eq!(me(&app, &client).await.0, StatusCode::OK, "nothing happened");

        // A form post carries the token as a field.
        let response = client
            .post(app.url("/api/v1/auth/logout"))
            .form(&[("csrf", token.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        assert_eq!(me(&app, &client).await.0, StatusCode::UNAUTHORIZED);
    }
}

on_both_databases! {
    async fn the_session_id_changes_at_every_sign_in(app) {
        district(&app).await;
        let (client, token) = signed_in(&app, "p1").await;
        let session_cookie = |r: &reqwest::Response| {
            r.cookies().find(|c| c.name() == "kj_session").map(|c| c.value().to_owned())
        };
        let again = |token: String| {
            client
                .post(app.url("/api/v1/auth/login"))
                .header("x-csrf-token", token)
                .json(&json!({"login": "13800000001", "password": PASSWORD}))
                .send()
        };
        let first = again(token).await.unwrap();
        assert_eq!(first.status(), StatusCode::OK);
        let a = session_cookie(&first);
        let token: Value = first.json().await.unwrap();
        let second = again(token["csrf_token"].as_str().unwrap().to_owned()).await.unwrap();
        let b = session_cookie(&second);
        assert!(a.is_some() && b.is_some());
        assert_ne!(a, b);
        // The old id no longer works.
        let planted = browser();
        let stale = planted
            .get(app.url("/api/v1/me"))
            .header("cookie", format!("kj_session={}", a.unwrap()))
            .send()
            .await
            .unwrap();
        assert_eq!(stale.status(), StatusCode::UNAUTHORIZED);
    }
}

on_both_databases! {
    async fn the_session_cookie_is_set_on_a_change_only_and_removed_when_the_session_ends(app) {
        district(&app).await;
        let (client, token) = signed_in(&app, "p1").await;
        let set_cookies = |r: &reqwest::Response| -> Vec<String> {
            r.headers()
                .get_all("set-cookie")
                .iter()
                .map(|v| v.to_str().unwrap().to_owned())
                .filter(|c| c.starts_with("kj_session="))
                .collect()
        };
        // A request that changes nothing of its session answers without a session cookie.
        let plain = client.get(app.url("/api/v1/me")).send().await.unwrap();
        assert_eq!(plain.status(), StatusCode::OK);
        assert!(set_cookies(&plain).is_empty(), "{:?}", set_cookies(&plain));

        // Signing out ends the session and tells the browser to forget the cookie.
        let out = client
            .post(app.url("/api/v1/auth/logout"))
            .header("x-csrf-token", &token)
            .send()
            .await
            .unwrap();
        assert!(out.status().is_success(), "{}", out.status());
        let removed = set_cookies(&out);
        assert_eq!(removed.len(), 1, "{removed:?}");
        assert!(
            removed[0].starts_with("kj_session=;") && removed[0].contains("Max-Age=0") && removed[0].contains("Path=/"),
            "{}",
            removed[0]
        );
        assert_eq!(me(&app, &client).await.0, StatusCode::UNAUTHORIZED);

        // A cookie naming no session (forged, or long gone) and a malformed one are a
        // stranger's, and are removed.
        for cookie in ["kj_session=AAAAAAAAAAAAAAAAAAAAAA", "kj_session=not%20an%20id"] {
            let stranger = browser()
                .get(app.url("/api/v1/me"))
                .header("cookie", cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(stranger.status(), StatusCode::UNAUTHORIZED, "{cookie}");
            let set = set_cookies(&stranger);
            assert!(set.iter().any(|c| c.contains("Max-Age=0")), "{cookie}: {set:?}");
        }
    }
}

mod expiry {
    use super::*;

    async fn idle_then_refused(backend: crate::support::Backend) {
        let app = TestApp::spawn_with(backend, |c| c.session_idle = Duration::from_secs(2)).await;
        district(&app).await;
        let (client, _) = signed_in(&app, "st1").await;
        assert_eq!(me(&app, &client).await.0, StatusCode::OK);
        tokio::time::sleep(Duration::from_secs(3)).await;
        assert_eq!(me(&app, &client).await.0, StatusCode::UNAUTHORIZED);
    }

    async fn active_then_refused_at_the_absolute_limit(backend: crate::support::Backend) {
        let app = TestApp::spawn_with(backend, |c| c.session_max = Duration::from_secs(3)).await;
        district(&app).await;
        let (client, _) = signed_in(&app, "st1").await;
        for _ in 0..2 {
            tokio::time::sleep(Duration::from_millis(1000)).await;
            assert_eq!(me(&app, &client).await.0, StatusCode::OK);
        }
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert_eq!(me(&app, &client).await.0, StatusCode::UNAUTHORIZED);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn idle_sessions_end_sqlite() {
        idle_then_refused(crate::support::Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn idle_sessions_end_postgres() {
        idle_then_refused(crate::support::Backend::Postgres).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sessions_end_at_the_absolute_limit_sqlite() {
        active_then_refused_at_the_absolute_limit(crate::support::Backend::Sqlite).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sessions_end_at_the_absolute_limit_postgres() {
        active_then_refused_at_the_absolute_limit(crate::support::Backend::Postgres).await;
    }
}

on_both_databases! {
    async fn signing_out_everywhere_ends_every_session_and_token(app) {
        district(&app).await;
        let (phone, token) = signed_in(&app, "p1").await;
        let laptop = browser();
        assert_eq!(login(&app, &laptop, "13800000001", PASSWORD).await.status(), StatusCode::OK);
        let sessions: Value = phone.get(app.url("/api/v1/auth/sessions")).send().await.unwrap().json().await.unwrap();
        assert_eq!(sessions.as_array().unwrap().len(), 2, "{sessions}");
        assert_eq!(sessions.as_array().unwrap().iter().filter(|s| s["current"] == true).count(), 1);

        let (status, ended) = {
            let r = phone
                .post(app.url("/api/v1/auth/logout-everywhere"))
                .header("x-csrf-token", &token)
                .send()
                .await
                .unwrap();
            (r.status(), r.json::<Value>().await.unwrap())
        };
        assert_eq!(status, StatusCode::OK);
        assert_eq!(ended["sessions_ended"], 2);
        assert_eq!(me(&app, &phone).await.0, StatusCode::UNAUTHORIZED);
        assert_eq!(me(&app, &laptop).await.0, StatusCode::UNAUTHORIZED);
    }
}

on_both_databases! {
    async fn an_administrator_signs_a_person_out_everywhere_within_their_school_only(app) {
        district(&app).await;
        let (parent, _) = signed_in(&app, "p2").await;
        let admin_token = kongjian::auth::tokens::create(&app.state.db, "sa1", "t", None, Utc::now()).await.unwrap().secret;
        let other_admin = kongjian::auth::tokens::create(&app.state.db, "sa2", "t", None, Utc::now()).await.unwrap().secret;
        let response = app.client.post(app.url("/api/v1/people/p2/sign-out-everywhere")).bearer_auth(&other_admin).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert_eq!(me(&app, &parent).await.0, StatusCode::OK);
        let response = app.client.post(app.url("/api/v1/people/p2/sign-out-everywhere")).bearer_auth(&admin_token).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(me(&app, &parent).await.0, StatusCode::UNAUTHORIZED);

        // The audit log shows it, to the school's administrator and not to a parent.
        let log: Value = app.client.get(app.url("/api/v1/audit")).bearer_auth(&admin_token).send().await.unwrap().json().await.unwrap();
        let actions: Vec<&str> = log["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert!(actions.contains(&"sign_out_everywhere"), "{actions:?}");
        assert!(actions.contains(&"activation"), "{actions:?}");
        let event = log["events"].as_array().unwrap().iter().find(|e| e["action"] == "sign_out_everywhere").unwrap();
        assert_eq!(event["actor"], "sa1");
        assert_eq!(event["subject"], "p2");
        assert_eq!(event["ip"], "127.0.0.1");
        let parent_token = kongjian::auth::tokens::create(&app.state.db, "p1", "t", None, Utc::now()).await.unwrap().secret;
        let response = app.client.get(app.url("/api/v1/audit")).bearer_auth(&parent_token).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
}

on_both_databases! {
    async fn a_retired_person_is_signed_out_and_cannot_sign_in(app) {
        district(&app).await;
        let (student, _) = signed_in(&app, "st3").await;
        let leftover_code = code_for(&app, "p3").await;
        // The next bulk roster no longer has st3 and p3.
        // Imported beside the server, as the CLI does: every node notices within a second.
        import(&app, &Package::new(&[1, 2]).with_admins(), true).await;
        assert!(soon(|| async { me(&app, &student).await.0 == StatusCode::UNAUTHORIZED }).await);
        assert_eq!(login(&app, &browser(), "st3", PASSWORD).await.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(activate(&app, &browser(), &leftover_code).await.0, StatusCode::UNAUTHORIZED);
    }
}

on_both_databases! {
    async fn head_teachers_issue_codes_for_their_class_only(app) {
        district(&app).await;
        let teacher = kongjian::auth::tokens::create(&app.state.db, "t1", "t", None, Utc::now()).await.unwrap().secret;
        let response = app.client.post(app.url("/api/v1/classes/k1/codes")).bearer_auth(&teacher).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let issued: Value = response.json().await.unwrap();
        let people: Vec<(&str, &str)> = issued.as_array().unwrap().iter().map(|c| (c["sourced_id"].as_str().unwrap(), c["role"].as_str().unwrap())).collect();
        assert_eq!(people.len(), 7, "{people:?}");
        assert!(people.contains(&("bmp", "student")));
        assert!(people.contains(&("p2", "parent")));
        for c in issued.as_array().unwrap() {
            let code = c["code"].as_str().unwrap();
            assert_eq!(code.len(), 9);
            assert!(!code.contains(['0', 'O', '1', 'I']));
        }
        let other = kongjian::auth::tokens::create(&app.state.db, "t2", "t", None, Utc::now()).await.unwrap().secret;
        let response = app.client.post(app.url("/api/v1/classes/k1/codes")).bearer_auth(&other).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        let response = app.client.post(app.url("/api/v1/classes/nope/codes")).bearer_auth(&other).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "no hint whether the class exists");
    }
}

on_both_databases! {
    async fn administrators_grant_the_reviewer_role_within_their_org(app) {
        district(&app).await;
        let token = |who: &'static str| {
            let db = app.state.db.clone();
            async move { kongjian::auth::tokens::create(&db, who, "t", None, Utc::now()).await.unwrap().secret }
        };
        let (sa1, sa2, t1) = (token("sa1").await, token("sa2").await, token("t1").await);
        let grant = |bearer: String, body: Value| {
            app.client.post(app.url("/api/v1/people/t1/roles")).bearer_auth(bearer).json(&body).send()
        };
        let other = grant(sa2.clone(), json!({"role": "reviewer"})).await.unwrap();
        assert_eq!(other.status(), StatusCode::FORBIDDEN);
        let unknown = grant(sa1.clone(), json!({"role": "superuser"})).await.unwrap();
        assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let wrong_org = grant(sa1.clone(), json!({"role": "reviewer", "org": "s2"})).await.unwrap();
        assert_eq!(wrong_org.status(), StatusCode::FORBIDDEN);
        let granted = grant(sa1.clone(), json!({"role": "reviewer"})).await.unwrap();
        assert_eq!(granted.status(), StatusCode::OK);
        let body: Value = granted.json().await.unwrap();
        assert_eq!(body["org"], "s1");
        let me: Value = app.client.get(app.url("/api/v1/me")).bearer_auth(&t1).send().await.unwrap().json().await.unwrap();
        assert!(me["roles"].as_array().unwrap().contains(&json!("reviewer")), "{me}");

        // A roster re-import keeps the grant.
        district(&app).await;
        let me: Value = app.client.get(app.url("/api/v1/me")).bearer_auth(&t1).send().await.unwrap().json().await.unwrap();
        assert!(me["roles"].as_array().unwrap().contains(&json!("reviewer")));

        let revoked = app.client.delete(app.url("/api/v1/people/t1/roles/reviewer")).bearer_auth(&sa1).send().await.unwrap();
        assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
        let me: Value = app.client.get(app.url("/api/v1/me")).bearer_auth(&t1).send().await.unwrap().json().await.unwrap();
        assert!(!me["roles"].as_array().unwrap().contains(&json!("reviewer")));
        let log: Value = app.client.get(app.url("/api/v1/audit")).bearer_auth(&sa1).send().await.unwrap().json().await.unwrap();
        let actions: Vec<&str> = log["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert!(actions.contains(&"role_granted") && actions.contains(&"role_revoked"), "{actions:?}");
    }
}

on_both_databases! {
    async fn cookies_are_http_only_lax_and_secure_behind_https(app) {
        district(&app).await;
        let client = browser();
        let response = client
            .post(app.url("/api/v1/auth/activate"))
            .json(&json!({"code": code_for(&app, "st1").await, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        let cookies: Vec<String> = response.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
        let session = cookies.iter().find(|c| c.starts_with("kj_session=")).unwrap();
        assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax"), "{session}");
        assert!(!session.contains("Secure"), "plain http here: {session}");
        drop(app);

        let https = TestApp::spawn_with(crate::support::Backend::Sqlite, |c| {
            c.public_url = Some("https://kongjian.example.edu.cn".parse().unwrap());
        })
        .await;
        district(&https).await;
        let response = browser()
            .post(https.url("/api/v1/auth/activate"))
            .json(&json!({"code": code_for(&https, "st1").await, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        let cookies: Vec<String> = response.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
        for name in ["kj_session=", "kj_csrf="] {
            let cookie = cookies.iter().find(|c| c.starts_with(name)).unwrap();
            assert!(cookie.contains("Secure") && cookie.contains("HttpOnly"), "{cookie}");
        }
    }
}
