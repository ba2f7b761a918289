//! The messaging pages (家校互动), server-rendered and live over `/ws`: `/messages` (the inbox),
//! `/messages/{id}` (a conversation), `/messages/new` (start one), `/messages/settings`,
//! `/notices/{id}` (read, confirm, or see who has) and `/notices/new` (compose).
//!
//! Plain HTML forms that work without JavaScript; every POST carries the CSRF token as the
//! `csrf` field, and every send carries a nonce drawn when the form was rendered, so a double
//! submit stores one message. `web/static/live.js` adds what arrives over the websocket. The
//! handlers call the same `conversations`, `notices` and `settings` functions as the JSON API.
//! Message text is only ever escaped by the templates; links in it are found here
//! ([`pieces`]) and written as anchors around escaped text.

mod compose;
mod conversation;
mod inbox;
mod notice;
mod people;
mod settings;

use axum::Router;
use axum::routing::{get, post};
use chrono::{DateTime, Datelike, SecondsFormat, Utc};

use crate::http::page::{Flash, Page, flash, signed_in, with_status};
use crate::roster::entity::org;
use crate::roster::snapshot::ACTIVE;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/messages", get(inbox::page))
        .route("/messages/new", get(people::page).post(people::open))
        .route(
            "/messages/settings",
            get(settings::page).post(settings::save_delivery),
        )
        .route(
            "/messages/settings/quiet-hours",
            post(settings::save_quiet_hours),
        )
        .route(
            "/messages/{id}",
            get(conversation::page).post(conversation::send),
        )
        .route("/messages/{id}/{message}/edit", post(conversation::edit))
        .route(
            "/messages/{id}/{message}/recall",
            post(conversation::recall),
        )
        .route("/notices/new", get(compose::page).post(compose::post))
        .route("/notices/{id}", get(notice::page))
        .route("/notices/{id}/confirm", post(notice::confirm))
        .route("/notices/{id}/remind", post(notice::remind))
}

/// A fresh idempotency key for a form that sends something.
fn nonce() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A form or query field that was filled in (trimmed).
fn given(field: &Option<String>) -> Option<&str> {
    field.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// A checkbox's value as a browser posts it: present when ticked.
fn ticked(field: &Option<String>) -> bool {
    field.as_deref().is_some_and(|v| !v.is_empty())
}

/// The active schools the person administers, directly or through an organisation above them.
async fn administered_schools(
    db: &impl sea_orm::ConnectionTrait,
    me: &crate::roster::entity::person::Model,
) -> Result<Vec<org::Model>, sea_orm::DbErr> {
    use sea_orm::EntityTrait;
    let admin_orgs = crate::people::service::administered_orgs(db, me).await?;
    if admin_orgs.is_empty() {
        return Ok(Vec::new());
    }
    let orgs = org::Entity::find().all(db).await?;
    let under: std::collections::BTreeSet<String> =
        crate::audit::service::descendants(&orgs, &admin_orgs)
            .into_iter()
            .collect();
    let mut schools: Vec<org::Model> = orgs
        .into_iter()
        .filter(|o| o.org_type == "school" && o.status == ACTIVE && under.contains(&o.id))
        .collect();
    schools.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(schools)
}

/// A value for a query string.
fn query_value(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// When something happened, on the school's clock: the time alone today, the day and time
/// this year, the full date before.
fn when(state: &AppState, at: DateTime<Utc>) -> String {
    let zone = state.config.time_zone;
    let local = at.with_timezone(&zone);
    let now = state.clock.now().with_timezone(&zone);
    let format = if local.date_naive() == now.date_naive() {
        "%H:%M"
    } else if local.year() == now.year() {
        "%m-%d %H:%M"
    } else {
        "%Y-%m-%d %H:%M"
    };
    local.format(format).to_string()
}

/// The time of day something held for quiet hours will arrive ("07:00").
fn clock_time(state: &AppState, at: DateTime<Utc>) -> String {
    at.with_timezone(&state.config.time_zone)
        .format("%H:%M")
        .to_string()
}

/// For `<time datetime>` and the client's clock.
fn iso(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A run of message text: plain, or an http(s) address to show as a link. Both are escaped
/// by the template like any other text.
pub struct Piece {
    pub text: String,
    pub link: bool,
}

/// Split text into plain runs and http(s) addresses (ASCII up to the first space, quote or
/// angle bracket, without trailing punctuation). `web/static/live.js` splits the same way.
pub fn pieces(text: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut plain = String::new();
    let mut rest = text;
    while let Some(start) = ["http://", "https://"]
        .iter()
        .filter_map(|scheme| rest.find(scheme))
        .min()
    {
        let (before, tail) = rest.split_at(start);
        plain.push_str(before);
        let end = tail
            .find(|c: char| !c.is_ascii_graphic() || matches!(c, '<' | '>' | '"' | '\'' | '`'))
            .unwrap_or(tail.len());
        let url = trim_url(&tail[..end]);
        let scheme_len = if url.starts_with("https://") { 8 } else { 7 };
        if url.len() <= scheme_len {
            // A scheme with nothing after it is just text.
            plain.push_str(&tail[..scheme_len]);
            rest = &tail[scheme_len..];
            continue;
        }
        if !plain.is_empty() {
            out.push(Piece {
                text: std::mem::take(&mut plain),
                link: false,
            });
        }
        out.push(Piece {
            text: url.to_owned(),
            link: true,
        });
        rest = &tail[url.len()..];
    }
    plain.push_str(rest);
    if !plain.is_empty() {
        out.push(Piece {
            text: plain,
            link: false,
        });
    }
    out
}

/// An address without the punctuation that ends the sentence around it; a closing bracket
/// stays when the address opened one.
fn trim_url(mut url: &str) -> &str {
    loop {
        let Some(last) = url.chars().last() else {
            return url;
        };
        let unbalanced =
            |open: char, close: char| url.matches(close).count() > url.matches(open).count();
        let trim = match last {
            '.' | ',' | ';' | ':' | '!' | '?' => true,
            ')' => unbalanced('(', ')'),
            ']' => unbalanced('[', ']'),
            _ => false,
        };
        if !trim {
            return url;
        }
        url = &url[..url.len() - 1];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(text: &str) -> Vec<(String, bool)> {
        pieces(text).into_iter().map(|p| (p.text, p.link)).collect()
    }

    #[test]
    fn addresses_become_links_and_the_rest_stays_text() {
        assert_eq!(
            shown("请看 https://kj.example.cn/a?b=1。谢谢"),
            [
                ("请看 ".to_owned(), false),
                ("https://kj.example.cn/a?b=1".to_owned(), true),
                ("。谢谢".to_owned(), false),
            ]
        );
        assert_eq!(
            shown("(see http://x.cn/wiki/A_(b)), ok"),
            [
                ("(see ".to_owned(), false),
                ("http://x.cn/wiki/A_(b)".to_owned(), true),
                ("), ok".to_owned(), false),
            ]
        );
        assert_eq!(
            shown("just https://"),
            [("just https://".to_owned(), false)]
        );
        assert_eq!(shown(""), Vec::<(String, bool)>::new());
    }

    #[test]
    fn markup_and_other_schemes_never_become_links() {
        assert_eq!(
            shown(r#"<a href="https://x.cn/">x</a> javascript:alert(1)"#),
            [
                (r#"<a href=""#.to_owned(), false),
                ("https://x.cn/".to_owned(), true),
                (r#"">x</a> javascript:alert(1)"#.to_owned(), false),
            ]
        );
    }
}
