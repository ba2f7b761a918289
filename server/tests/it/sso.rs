//! Single sign-on against a real OpenID Connect provider — npm `oidc-provider` started from
//! `tests/oidc/provider.mjs` — walked by a cookie-keeping client that follows redirects by hand
//! through the provider's own login and consent forms, on SQLite and PostgreSQL.

use kongjian::audit::entity::audit_event;
use kongjian::auth::entity::session_row;
use kongjian::config::{OidcConfig, OidcMatch};
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;
use tokio::net::TcpListener;
use url::Url;

use self::provider::{CLIENT_ID, CLIENT_SECRET, Provider, browser, follow, form, walk_to_callback};
use crate::fixtures::Package;
use crate::on_both_databases;
use crate::support::{Backend, TestApp};

mod provider;

const LABEL: &str = "测试平台";

/// Run the body once per backend, as `<name>::sqlite` and `<name>::postgres`, with the backend
/// as `$backend` (these tests start the app themselves, after the provider).
macro_rules! on_both_backends {
    (async fn $name:ident($backend:ident) $body:block) => {
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let $backend = Backend::Sqlite;
                $body
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let $backend = Backend::Postgres;
                $body
            }
        }
    };
}

/// The provider, then the app configured for it; the app's port is chosen first, because the
/// provider must know the redirect URI.
async fn spawn_with_sso(
    backend: Backend,
    claim: &str,
    match_on: OidcMatch,
    id_token_claims: bool,
) -> (TestApp, Provider) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let provider = Provider::start(&format!("{base}/auth/sso/callback"), id_token_claims).await;
    let issuer = Url::parse(&provider.issuer).unwrap();
    let app = TestApp::spawn_on(backend, listener, |config| {
        config.public_url = Some(Url::parse(&base).unwrap());
        config.oidc = Some(OidcConfig {
            issuer,
            client_id: CLIENT_ID.to_owned(),
            client_secret: Some(CLIENT_SECRET.to_owned()),
            claim: claim.to_owned(),
            match_on,
            label: LABEL.to_owned(),
        });
    })
    .await;
    import_district(&app).await;
    (app, provider)
}

/// One OneRoster user row of school s1 (22 columns) and its teacher role.
fn teacher(sourced_id: &str, username: &str, enabled: bool) -> (String, String) {
    let user = format!(
        "{sourced_id},,,{enabled},{username},,老师,王{}s1,\n",
        ",".repeat(13)
    );
    let role = format!("r-{sourced_id},,,{sourced_id},primary,teacher,,,s1,\n");
    (user, role)
}

/// The standard package (teacher t1, student st1, parent p1) plus `u-wang` (username
/// `wang.laoshi`), `uid-zhou` and the disabled `off1`.
async fn import_district(app: &TestApp) {
    let package = Package::new(&[1]);
    for (id, username, enabled) in [
        ("u-wang", "wang.laoshi", true),
        ("uid-zhou", "zhou", true),
        ("off1", "off1", false),
    ] {
        let (user, role) = teacher(id, username, enabled);
        package.append("users.csv", &user);
        package.append("roles.csv", &role);
    }
    crate::fixtures::import(&app.state.db, &package, false).await;
}

/// The whole flow as `login`: the app's answer to the callback.
async fn sign_in_via_sso(
    app: &TestApp,
    browser: &reqwest::Client,
    login: &str,
) -> reqwest::Response {
    let callback = walk_to_callback(app, browser, login).await;
    browser.get(callback).send().await.unwrap()
}

async fn me(app: &TestApp, browser: &reqwest::Client) -> (StatusCode, Value) {
    let response = browser.get(app.url("/api/v1/me")).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn audit_events(app: &TestApp, action: &str) -> Vec<audit_event::Model> {
    audit_event::Entity::find()
        .filter(audit_event::Column::Action.eq(action))
        .all(&app.state.db)
        .await
        .unwrap()
}

fn assert_set_cookie(response: &reqwest::Response, name: &str) {
    assert!(
        response
            .headers()
            .get_all("set-cookie")
            .iter()
            .any(|v| v.to_str().unwrap().starts_with(&format!("{name}="))),
        "no {name} cookie set"
    );
}

on_both_backends! {
    async fn sub_is_matched_against_the_sourced_id(backend) {
        let (app, _provider) = spawn_with_sso(backend, "sub", OidcMatch::SourcedId, false).await;
        assert_eq!(kongjian::auth::oidc::sso_label(&app.state), Some(LABEL));
        let browser = browser();

        let back = sign_in_via_sso(&app, &browser, "t1").await;

        assert_eq!(back.status(), StatusCode::SEE_OTHER);
        assert_eq!(back.headers()["location"], "/spaces?x=1");
        assert_set_cookie(&back, "kj_session");
        assert_set_cookie(&back, "kj_csrf");
        let (status, me) = me(&app, &browser).await;
        assert_eq!(status, StatusCode::OK, "{me}");
        assert_eq!(me["sourced_id"], "t1");
        let signed_in = audit_events(&app, "sign_in").await;
        assert_eq!(signed_in.len(), 1);
        assert_eq!(signed_in[0].login_key.as_deref(), Some("t1"));
        assert_eq!(serde_json::from_str::<Value>(&signed_in[0].detail).unwrap()["method"], "sso");
        // The signed-in session lives as long as sessions do, not as long as the pre-login one.
        let sessions = session_row::Entity::find().all(&app.state.db).await.unwrap();
        assert_eq!(sessions.len(), 1, "the pre-login session is gone");
        assert!(sessions[0].expires_at > chrono::Utc::now() + chrono::Duration::hours(1));
        // Signed in already: straight on.
        let again = browser.get(app.url("/auth/sso?next=/x")).send().await.unwrap();
        assert_eq!(again.status(), StatusCode::SEE_OTHER);
        assert_eq!(again.headers()["location"], "/x");
    }
}

on_both_backends! {
    async fn preferred_username_from_userinfo_is_matched_against_the_username(backend) {
        let (app, _provider) =
            spawn_with_sso(backend, "preferred_username", OidcMatch::Username, false).await;
        let browser = browser();

        let back = sign_in_via_sso(&app, &browser, "wang.laoshi").await;

        assert_eq!(back.status(), StatusCode::SEE_OTHER);
        let (status, me) = me(&app, &browser).await;
        assert_eq!(status, StatusCode::OK, "{me}");
        assert_eq!(me["sourced_id"], "u-wang");
    }
}

on_both_backends! {
    async fn a_custom_claim_in_the_id_token_names_the_person(backend) {
        let (app, _provider) =
            spawn_with_sso(backend, "school_uid", OidcMatch::SourcedId, true).await;
        let browser = browser();

        let back = sign_in_via_sso(&app, &browser, "zhou").await;

        assert_eq!(back.status(), StatusCode::SEE_OTHER);
        let (status, me) = me(&app, &browser).await;
        assert_eq!(status, StatusCode::OK, "{me}");
        assert_eq!(me["sourced_id"], "uid-zhou");
    }
}

on_both_backends! {
    async fn people_the_roster_does_not_know_or_has_disabled_are_refused(backend) {
        let (app, _provider) = spawn_with_sso(backend, "sub", OidcMatch::SourcedId, false).await;
        for (login, reason) in [("stranger", "unknown"), ("off1", "inactive")] {
            let browser = browser();

            let back = sign_in_via_sso(&app, &browser, login).await;

            assert_eq!(back.status(), StatusCode::FORBIDDEN, "{login}");
            assert!(back.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
            let page = back.text().await.unwrap();
            assert!(page.contains("data-code=\"not_in_roster\""), "{page}");
            assert!(page.contains("名册中没有找到您的信息"), "{page}");
            let (status, _) = me(&app, &browser).await;
            assert_eq!(status, StatusCode::UNAUTHORIZED, "{login} has no session");
            let refused = audit_events(&app, "sso_unknown_person").await;
            let event = refused.iter().find(|e| e.login_key.as_deref() == Some(login)).expect("audited");
            assert_eq!(serde_json::from_str::<Value>(&event.detail).unwrap()["reason"], reason);
        }
        assert!(audit_events(&app, "sign_in").await.is_empty());
        let sessions = session_row::Entity::find().all(&app.state.db).await.unwrap();
        assert!(sessions.is_empty(), "no pre-login session is left behind");
    }
}

/// `url` with its `state` parameter replaced (`Some`) or removed (`None`).
fn with_state(url: &Url, state: Option<&str>) -> Url {
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != "state")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut changed = url.clone();
    {
        let mut query = changed.query_pairs_mut();
        query.clear().extend_pairs(pairs);
        if let Some(state) = state {
            query.append_pair("state", state);
        }
    }
    changed
}

on_both_backends! {
    async fn a_tampered_or_missing_state_is_refused(backend) {
        let (app, _provider) = spawn_with_sso(backend, "sub", OidcMatch::SourcedId, false).await;
        for tamper in [Some("forged-state"), None] {
            let browser = browser();
            let callback = walk_to_callback(&app, &browser, "t1").await;

            let back = browser.get(with_state(&callback, tamper)).send().await.unwrap();

            assert_eq!(back.status(), StatusCode::FORBIDDEN);
            assert!(back.text().await.unwrap().contains("data-code=\"csrf_failed\""));
            assert_eq!(me(&app, &browser).await.0, StatusCode::UNAUTHORIZED);
            // The flow was used up: the genuine callback no longer works either.
            let genuine = browser.get(callback).send().await.unwrap();
            assert_eq!(genuine.status(), StatusCode::FORBIDDEN);
            assert_eq!(me(&app, &browser).await.0, StatusCode::UNAUTHORIZED);
        }
        // Another browser's callback is no good in this one.
        let (victim, attacker) = (browser(), browser());
        let callback = walk_to_callback(&app, &attacker, "t1").await;
        let planted = victim.get(callback).send().await.unwrap();
        assert_eq!(planted.status(), StatusCode::FORBIDDEN);
        assert_eq!(me(&app, &victim).await.0, StatusCode::UNAUTHORIZED);
    }
}

on_both_backends! {
    async fn declining_at_the_provider_shows_sign_in_failed(backend) {
        let (app, _provider) = spawn_with_sso(backend, "sub", OidcMatch::SourcedId, false).await;
        let browser = browser();
        let start = browser.get(app.url("/auth/sso")).send().await.unwrap();
        let login_page = follow(&app, &browser, start).await.expect_err("the login page");
        let page_url = login_page.url().clone();
        let (action, _) = form(&login_page.text().await.unwrap());
        let abort = page_url.join(&format!("{action}/abort")).unwrap();

        let aborted = browser.get(abort).send().await.unwrap();
        let callback = follow(&app, &browser, aborted).await.expect("back to the app");
        assert!(callback.query_pairs().any(|(k, v)| k == "error" && v == "access_denied"));
        let back = browser.get(callback).send().await.unwrap();

        assert_eq!(back.status(), StatusCode::UNAUTHORIZED);
        assert!(back.text().await.unwrap().contains("data-code=\"sign_in_failed\""));
        assert_eq!(me(&app, &browser).await.0, StatusCode::UNAUTHORIZED);
    }
}

on_both_backends! {
    async fn a_provider_that_is_down_neither_stops_the_server_nor_lets_anyone_in(backend) {
        // Nothing listens on this port once the listener is dropped.
        let closed = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
        let app = TestApp::spawn_with(backend, |config| {
            config.oidc = Some(OidcConfig {
                issuer: Url::parse(&format!("http://{closed}")).unwrap(),
                client_id: CLIENT_ID.to_owned(),
                client_secret: Some(CLIENT_SECRET.to_owned()),
                claim: "sub".to_owned(),
                match_on: OidcMatch::SourcedId,
                label: LABEL.to_owned(),
            });
        })
        .await;

        let response = app.get("/auth/sso").await;

        assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
        assert!(response.text().await.unwrap().contains("data-code=\"sso_unavailable\""));
        assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
    }
}

on_both_databases! {
    async fn without_settings_there_is_no_single_sign_on(app) {
        assert_eq!(kongjian::auth::oidc::sso_label(&app.state), None);
        assert_eq!(app.get("/auth/sso").await.status(), StatusCode::NOT_FOUND);
        assert_eq!(app.get("/auth/sso/callback?code=x&state=y").await.status(), StatusCode::NOT_FOUND);
    }
}
