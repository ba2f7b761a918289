//! The real OpenID provider for the SSO tests (`tests/oidc/provider.mjs`, npm `oidc-provider`),
//! and a browser that walks its pages: its own cookie jar, redirects followed by hand, the
//! provider's development login and consent forms filled in.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use reqwest::StatusCode;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};
use url::Url;

use crate::support::TestApp;

/// The provider's client registration (tests/oidc/provider.mjs).
pub const CLIENT_ID: &str = "kongjian";
pub const CLIENT_SECRET: &str = "kongjian-test-secret";

fn provider_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the repository root")
        .join("tests/oidc")
}

/// `npm ci` once per test run when a fresh clone has no `node_modules` yet.
fn ensure_npm_packages() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let dir = provider_dir();
        if dir.join("node_modules/oidc-provider").is_dir() {
            return;
        }
        let status = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--silent"])
            .current_dir(&dir)
            .status()
            .expect("npm runs (Node 20 and npm are needed for the SSO tests)");
        assert!(status.success(), "npm ci in {} failed", dir.display());
    });
}

/// A running `oidc-provider`, stopped when dropped.
pub struct Provider {
    pub issuer: String,
    _child: Child,
}

impl Provider {
    /// Start the provider on a free port with our client's `redirect_uri`. With
    /// `id_token_claims`, profile claims are in the ID token too, not only in userinfo.
    pub async fn start(redirect_uri: &str, id_token_claims: bool) -> Provider {
        tokio::task::spawn_blocking(ensure_npm_packages)
            .await
            .unwrap();
        let mut command = Command::new("node");
        command
            .args(["provider.mjs", "0", redirect_uri])
            .current_dir(provider_dir())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if id_token_claims {
            command.arg("--id-token-claims");
        }
        let mut child = command.spawn().expect("node starts");
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut stderr = child.stderr.take().unwrap();
        let ready = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = stdout.next_line().await.unwrap() {
                if let Some(issuer) = line.strip_prefix("listening ") {
                    return Some(issuer.to_owned());
                }
            }
            None
        })
        .await;
        let Ok(Some(issuer)) = ready else {
            let mut errors = String::new();
            let _ =
                tokio::time::timeout(Duration::from_secs(2), stderr.read_to_string(&mut errors))
                    .await;
            panic!("the OpenID provider did not start: {errors}");
        };
        // Keep the pipes drained so the provider never blocks on a full one.
        tokio::spawn(async move { while let Ok(Some(_)) = stdout.next_line().await {} });
        tokio::spawn(async move {
            let _ = tokio::io::copy(&mut stderr, &mut tokio::io::sink()).await;
        });
        Provider {
            issuer,
            _child: child,
        }
    }
}

/// A browser of its own: its own cookies, no redirects followed.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

fn location(response: &reqwest::Response) -> Url {
    let location = response
        .headers()
        .get("location")
        .unwrap_or_else(|| panic!("{} without Location", response.status()))
        .to_str()
        .unwrap();
    response.url().join(location).unwrap()
}

/// The value of `attr="…"` in the first tag after `marker`.
fn attribute(html: &str, marker: &str, attr: &str) -> Option<String> {
    let rest = &html[html.find(marker)?..];
    let start = rest.find(&format!("{attr}=\""))? + attr.len() + 2;
    let end = rest[start..].find('"')? + start;
    Some(rest[start..end].replace("&amp;", "&"))
}

/// The provider's form on this page: its action and the prompt it answers.
pub fn form(html: &str) -> (String, String) {
    let action = attribute(html, "<form", "action").expect("a form");
    let prompt = attribute(html, "name=\"prompt\"", "value").expect("a prompt field");
    (action, prompt)
}

/// Follow redirects until one leads back to the app's callback (returned, not requested), or
/// until a page (returned as the error).
pub async fn follow(
    app: &TestApp,
    browser: &reqwest::Client,
    mut response: reqwest::Response,
) -> Result<Url, reqwest::Response> {
    let callback = app.url("/auth/sso/callback");
    for _ in 0..12 {
        if !response.status().is_redirection() {
            return Err(response);
        }
        let next = location(&response);
        if next.as_str().starts_with(&callback) {
            return Ok(next);
        }
        response = browser.get(next).send().await.unwrap();
    }
    panic!("redirected in circles");
}

/// Press Sign-in on the app and walk the provider's pages as `login` (any password), up to
/// the redirect back to the app's callback, which is returned without being requested.
pub async fn walk_to_callback(app: &TestApp, browser: &reqwest::Client, login: &str) -> Url {
    let mut response = browser
        .get(app.url("/auth/sso?next=/spaces%3Fx%3D1"))
        .send()
        .await
        .unwrap();
    for _ in 0..4 {
        let page = match follow(app, browser, response).await {
            Ok(callback) => return callback,
            Err(page) => page,
        };
        let status = page.status();
        let page_url = page.url().clone();
        let html = page.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{page_url}: {html}");
        let (action, prompt) = form(&html);
        let mut body = url::form_urlencoded::Serializer::new(String::new());
        body.append_pair("prompt", &prompt);
        if prompt == "login" {
            body.append_pair("login", login);
            body.append_pair("password", "anything");
        }
        response = browser
            .post(page_url.join(&action).unwrap())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body.finish())
            .send()
            .await
            .unwrap();
    }
    panic!("the provider never sent the browser back");
}
