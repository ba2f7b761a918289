//! Home-school messaging: notices with confirmations and reminders, 1:1 conversations over the
//! websocket, catch-up after a disconnect, idempotent sends, quiet hours on a clock the test
//! sets, the pupil-name warning, and who gets nothing — on SQLite and PostgreSQL.

use std::time::Duration;

use chrono::{TimeDelta, TimeZone};
use futures::{SinkExt, StreamExt};
use kongjian::auth::tokens;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::fixtures::Package;
use crate::on_both_databases;
use crate::support::{Backend, Server, TestApp};

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Students 1–3 (parents p1–p3) in class k1 taught by t1; administrators; and a second class
/// k2 (teacher t3) with pupil st9 and parent p9. Parent p8 has two children in k1 (st7, st8).
pub async fn district(app: &TestApp) -> Package {
    let package = Package::new(&[1, 2, 3]).with_admins().with_second_class();
    package.append(
        "users.csv",
        "st7,,,true,st7,,七,刘,,,,,,p8,03,,,,,,s1,\n\
         st8,,,true,st8,,八,刘,,,,,,p8,03,,,,,,s1,\n\
         p8,,,true,,,刘家长,刘,,,,,13800000008,\"st7,st8\",,,,,,,s1,\n",
    );
    package.append(
        "roles.csv",
        "r-st7,,,st7,primary,student,,,s1,\nr-st8,,,st8,primary,student,,,s1,\nr-p8,,,p8,primary,parent,,,s1,\n",
    );
    package.append(
        "enrollments.csv",
        "e-st7,,,k1,s1,st7,student,,,\ne-st8,,,k1,s1,st8,student,,,\n",
    );
    crate::fixtures::import(&app.state.db, &package, false).await;
    package
}

pub async fn token(app: &impl Server, sourced_id: &str) -> String {
    tokens::create(
        &app.state().db,
        sourced_id,
        "test",
        None,
        chrono::Utc::now(),
    )
    .await
    .unwrap()
    .secret
}

pub async fn call(
    app: &impl Server,
    method: reqwest::Method,
    token: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = app
        .client()
        .request(method, app.url(path))
        .bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

pub async fn post(app: &impl Server, token: &str, path: &str, body: Value) -> (StatusCode, Value) {
    call(app, reqwest::Method::POST, token, path, Some(body)).await
}

pub async fn get(app: &impl Server, token: &str, path: &str) -> (StatusCode, Value) {
    call(app, reqwest::Method::GET, token, path, None).await
}

/// A socket for the bearer of `token`, past its `ready` frame (returned).
pub async fn connect(app: &impl Server, token: &str) -> (Socket, Value) {
    let url = app.url("/ws").replacen("http", "ws", 1);
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let ready = expect(&mut socket, "ready").await;
    (socket, ready)
}

/// The next frame of type `kind`, skipping others; panics after five seconds.
pub async fn expect(socket: &mut Socket, kind: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let frame = tokio::time::timeout_at(deadline, socket.next())
            .await
            .unwrap_or_else(|_| panic!("no {kind} frame within 5 s"));
        match frame {
            Some(Ok(Message::Text(text))) => {
                let value: Value = serde_json::from_str(text.as_str()).unwrap();
                if value["type"] == kind {
                    return value;
                }
            }
            Some(Ok(Message::Close(frame))) => panic!("closed while waiting for {kind}: {frame:?}"),
            Some(Ok(_)) => {}
            other => panic!("socket ended while waiting for {kind}: {other:?}"),
        }
    }
}

/// Assert no frame of type `kind` arrives within `ms`.
pub async fn nothing(socket: &mut Socket, kind: &str, ms: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_millis(ms);
    while let Ok(frame) = tokio::time::timeout_at(deadline, socket.next()).await {
        if let Some(Ok(Message::Text(text))) = frame {
            let value: Value = serde_json::from_str(text.as_str()).unwrap();
            assert_ne!(value["type"], kind, "unexpected {value}");
        } else {
            return;
        }
    }
}

pub async fn send(socket: &mut Socket, frame: Value) {
    socket
        .send(Message::Text(frame.to_string().into()))
        .await
        .unwrap();
}

fn notice(title: &str, body: &str, confirm: bool) -> Value {
    json!({"title": title, "body": body, "requires_confirmation": confirm})
}

/// Shanghai wall-clock time on 2026-12-04 (+ `days`).
fn shanghai(days: i64, h: u32, m: u32) -> chrono::DateTime<chrono::Utc> {
    chrono_tz::Asia::Shanghai
        .with_ymd_and_hms(2026, 12, 4, h, m, 0)
        .single()
        .unwrap()
        .with_timezone(&chrono::Utc)
        + TimeDelta::days(days)
}

on_both_databases! {
    async fn a_notice_reaches_the_class_parents_live_and_no_one_else(app) {
        district(&app).await;
        let teacher = token(&app, "t1").await;
        let (mut p1, _) = connect(&app, &token(&app, "p1").await).await;
        let (mut p9, _) = connect(&app, &token(&app, "p9").await).await;
        let (status, posted) = post(&app, &teacher, "/api/v1/classes/k1/notices",
            notice("周五春游", "请带好水和帽子。", true)).await;
        assert_eq!(status, StatusCode::CREATED, "{posted}");
        let id = posted["id"].as_str().unwrap().to_owned();

        let frame = expect(&mut p1, "notice").await;
        assert_eq!(frame["id"], id.as_str());
        assert_eq!(frame["title"], "周五春游");
        assert_eq!(frame["sender"]["sourced_id"], "t1");
        assert_eq!(frame["audience"]["sourced_id"], "k1");
        assert_eq!(frame["children"], json!([{"sourced_id": "st1", "name": "李小1", "confirmed": false}]));
        nothing(&mut p9, "notice", 300).await;

        let p9_token = token(&app, "p9").await;
        let (status, _) = get(&app, &p9_token, &format!("/api/v1/notices/{id}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "another class's parent learns nothing");
        let (status, _) = post(&app, &p9_token, &format!("/api/v1/notices/{id}/confirm"), json!({})).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (_, list) = get(&app, &p9_token, "/api/v1/notices").await;
        assert_eq!(list["notices"], json!([]));
        // A teacher of another class may not post to this one.
        let (status, _) = post(&app, &token(&app, "t3").await, "/api/v1/classes/k1/notices",
            notice("x", "y", false)).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
    }
}

on_both_databases! {
    async fn a_notice_retried_with_its_nonce_is_stored_and_delivered_once(app) {
        district(&app).await;
        let teacher = token(&app, "t1").await;
        let (mut p1, _) = connect(&app, &token(&app, "p1").await).await;
        let mut body = notice("运动会", "周四运动会，请穿运动鞋。", false);
        body["nonce"] = json!("sports-day");
        // Retries racing each other (some land in one group commit, some in the next) and
        // notices of their own beside them.
        let posts = (0..8).map(|i| {
            let (app, teacher) = (&app, &teacher);
            let body = if i % 2 == 0 {
                body.clone()
            } else {
                let mut other = notice(&format!("通知{i}"), "内容", false);
                other["nonce"] = json!(format!("other-{i}"));
                other
            };
            async move { post(app, teacher, "/api/v1/classes/k1/notices", body).await }
        });
        let answers = futures::future::join_all(posts).await;
        let mut retried = std::collections::HashSet::new();
        let mut others = std::collections::HashSet::new();
        for (i, (status, posted)) in answers.iter().enumerate() {
            assert_eq!(*status, StatusCode::CREATED, "{posted}");
            let id = posted["id"].as_str().unwrap().to_owned();
            if i % 2 == 0 { retried.insert(id); } else { others.insert(id); }
        }
        assert_eq!(retried.len(), 1, "every retry is answered with the one stored notice");
        assert_eq!(others.len(), 4);
        let (status, again) = post(&app, &teacher, "/api/v1/classes/k1/notices", body).await;
        assert_eq!(status, StatusCode::CREATED);
        assert!(retried.contains(again["id"].as_str().unwrap()), "a later retry too: {again}");

        let mut seen = Vec::new();
        for _ in 0..5 {
            seen.push(expect(&mut p1, "notice").await["id"].as_str().unwrap().to_owned());
        }
        nothing(&mut p1, "notice", 300).await;
        let unique: std::collections::HashSet<_> = seen.iter().cloned().collect();
        assert_eq!(unique.len(), 5, "each notice arrives once: {seen:?}");
        assert!(unique.is_superset(&retried) && unique.is_superset(&others));
        let (_, list) = get(&app, &token(&app, "p1").await, "/api/v1/notices").await;
        assert_eq!(list["notices"].as_array().unwrap().len(), 5, "{list}");
    }
}

on_both_databases! {
    async fn parents_confirm_per_child_and_the_sender_sees_who_has_not(app) {
        district(&app).await;
        let teacher = token(&app, "t1").await;
        let (mut t1, _) = connect(&app, &teacher).await;
        let (_, posted) = post(&app, &teacher, "/api/v1/classes/k1/notices",
            notice("家长会", "周三下午三点家长会。", true)).await;
        let id = posted["id"].as_str().unwrap().to_owned();
        let path = format!("/api/v1/notices/{id}");

        let (status, detail) = get(&app, &teacher, &path).await;
        assert_eq!(status, StatusCode::OK);
        // p1–p3 for st1–st3, p8 for st7 and st8.
        assert_eq!(detail["confirmations"], json!({"confirmed": 0, "pending": 5}));

        let p1 = token(&app, "p1").await;
        let (status, mine) = post(&app, &p1, &format!("{path}/confirm"), json!({})).await;
        assert_eq!(status, StatusCode::OK, "{mine}");
        assert_eq!(mine["children"][0]["confirmed"], true);
        assert!(mine.get("pending").is_none(), "a parent sees only their own state");
        // Confirming reads first: the sender hears both.
        let receipt = expect(&mut t1, "notice_receipt").await;
        assert_eq!((&receipt["person"], &receipt["read"], &receipt["confirmed"]), (&json!("p1"), &json!(true), &json!(false)));
        let receipt = expect(&mut t1, "notice_receipt").await;
        assert_eq!(receipt["person"], "p1");
        assert_eq!(receipt["student"], "st1");
        assert_eq!(receipt["confirmed"], true);

        let p8 = token(&app, "p8").await;
        let (status, err) = post(&app, &p8, &format!("{path}/confirm"), json!({})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(err["error"]["code"], "choose_child");
        let (status, err) = post(&app, &p8, &format!("{path}/confirm"), json!({"student": "st1"})).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
        assert_eq!(err["error"]["code"], "not_your_child");
        let (status, _) = post(&app, &p8, &format!("{path}/confirm"), json!({"student": "st7"})).await;
        assert_eq!(status, StatusCode::OK);
        // Confirming twice changes nothing.
        let (status, _) = post(&app, &p8, &format!("{path}/confirm"), json!({"student": "st7"})).await;
        assert_eq!(status, StatusCode::OK);

        let (_, detail) = get(&app, &teacher, &path).await;
        assert_eq!(detail["confirmations"], json!({"confirmed": 2, "pending": 3}));
        let pending: Vec<&str> = detail["pending"].as_array().unwrap().iter()
            .map(|r| r["student"]["sourced_id"].as_str().unwrap()).collect();
        assert_eq!(pending, ["st2", "st3", "st8"]);
        assert_eq!(detail["confirmed"][0]["guardian"]["sourced_id"], "p1");
        assert_eq!(detail["reads"]["read"], 2);
        // The school's administrator sees the lists too; the parent's own view has no lists.
        let (status, admin) = get(&app, &token(&app, "sa1").await, &path).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(admin["confirmations"]["confirmed"], 2);
    }
}

on_both_databases! {
    async fn a_reminder_goes_to_those_who_have_not_confirmed_at_most_every_few_hours(app) {
        district(&app).await;
        app.state.clock.set(shanghai(0, 10, 0));
        let teacher = token(&app, "t1").await;
        let (_, posted) = post(&app, &teacher, "/api/v1/classes/k1/notices",
            notice("交表", "请填写回执。", true)).await;
        let id = posted["id"].as_str().unwrap().to_owned();
        let p1 = token(&app, "p1").await;
        post(&app, &p1, &format!("/api/v1/notices/{id}/confirm"), json!({})).await;
        let (mut p1_socket, _) = connect(&app, &p1).await;
        let (mut p2_socket, _) = connect(&app, &token(&app, "p2").await).await;

        let remind = format!("/api/v1/notices/{id}/remind");
        let (status, answer) = post(&app, &teacher, &remind, json!({})).await;
        assert_eq!(status, StatusCode::OK, "{answer}");
        assert_eq!(answer["reminded"], 3, "p2, p3 and p8");
        let frame = expect(&mut p2_socket, "notice_reminder").await;
        assert_eq!(frame["id"], id.as_str());
        nothing(&mut p1_socket, "notice_reminder", 300).await;

        let (status, err) = post(&app, &teacher, &remind, json!({})).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(err["error"]["code"], "reminder_too_soon");
        // A parent cannot remind anyone.
        let (status, _) = post(&app, &p1, &remind, json!({})).await;
        assert_eq!(status, StatusCode::NOT_FOUND);

        app.state.clock.advance(TimeDelta::hours(3));
        let (status, _) = post(&app, &teacher, &remind, json!({})).await;
        assert_eq!(status, StatusCode::OK);
    }
}

on_both_databases! {
    async fn quiet_hours_hold_notices_until_morning_unless_an_administrator_marks_them_urgent(app) {
        let app = TestApp::spawn_with(app.backend(), |c| {
            c.quiet_hours = kongjian::messaging::QuietHours::default();
        }).await;
        district(&app).await;
        app.state.clock.set(shanghai(0, 22, 0));
        let teacher = token(&app, "t1").await;
        let p1 = token(&app, "p1").await;
        let (mut p1_socket, _) = connect(&app, &p1).await;

        let (status, posted) = post(&app, &teacher, "/api/v1/classes/k1/notices",
            notice("明日安排", "明早八点到校。", false)).await;
        assert_eq!(status, StatusCode::CREATED);
        let held_until: chrono::DateTime<chrono::Utc> =
            serde_json::from_value(posted["held_until"].clone()).unwrap();
        assert_eq!(held_until, shanghai(1, 7, 0));
        let id = posted["id"].as_str().unwrap().to_owned();
        nothing(&mut p1_socket, "notice", 1500).await;
        let (status, _) = get(&app, &p1, &format!("/api/v1/notices/{id}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "held notices are not there yet");

        // Only an administrator may mark a notice urgent; urgent notices go at once.
        let mut urgent = notice("停课通知", "因暴雪明日停课。", false);
        urgent["urgent"] = json!(true);
        let (status, err) = post(&app, &teacher, "/api/v1/classes/k1/notices", urgent.clone()).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        assert_eq!(err["error"]["code"], "urgent_needs_admin");
        let (status, _) = post(&app, &token(&app, "sa1").await, "/api/v1/classes/k1/notices", urgent).await;
        assert_eq!(status, StatusCode::CREATED);
        let frame = expect(&mut p1_socket, "notice").await;
        assert_eq!(frame["title"], "停课通知");
        assert_eq!(frame["urgent"], true);

        // Morning: the held notice is delivered.
        app.state.clock.set(shanghai(1, 7, 0));
        let frame = expect(&mut p1_socket, "notice").await;
        assert_eq!(frame["id"], id.as_str());
        let (status, _) = get(&app, &p1, &format!("/api/v1/notices/{id}")).await;
        assert_eq!(status, StatusCode::OK);
    }
}

on_both_databases! {
    async fn a_notice_naming_a_pupil_is_flagged_before_it_is_sent(app) {
        district(&app).await;
        let teacher = token(&app, "t1").await;
        let body = notice("作业提醒", "李小2 今天的作业还没有交。", false);
        let (status, err) = post(&app, &teacher, "/api/v1/classes/k1/notices", body.clone()).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(err["error"]["code"], "names_pupil");
        assert!(err["error"]["message"].as_str().unwrap().contains("李小2"), "{err}");
        let (_, list) = get(&app, &teacher, "/api/v1/notices").await;
        assert_eq!(list["notices"], json!([]), "nothing was sent");
        let mut anyway = body;
        anyway["acknowledge_named_pupils"] = json!(true);
        let (status, _) = post(&app, &teacher, "/api/v1/classes/k1/notices", anyway).await;
        assert_eq!(status, StatusCode::CREATED);
    }
}

on_both_databases! {
    async fn a_parent_and_a_teacher_talk_live_with_receipts_and_no_duplicates(app) {
        district(&app).await;
        let parent = token(&app, "p1").await;
        let teacher = token(&app, "t1").await;
        let (status, conv) = post(&app, &parent, "/api/v1/conversations", json!({"with": "t1"})).await;
        assert_eq!(status, StatusCode::CREATED, "{conv}");
        let id = conv["id"].as_str().unwrap().to_owned();
        let (status, again) = post(&app, &teacher, "/api/v1/conversations", json!({"with": "p1"})).await;
        assert_eq!(status, StatusCode::OK, "the teacher finds the same conversation");
        assert_eq!(again["id"], id.as_str());

        let (mut p, _) = connect(&app, &parent).await;
        let (mut t, _) = connect(&app, &teacher).await;
        let send = json!({"type": "send", "conversation": id, "body": "老师好，孩子今天发烧请假。", "nonce": "n-1"});
        self::send(&mut p, send.clone()).await;
        let sent = expect(&mut p, "sent").await;
        assert_eq!(sent["seq"], 1);
        assert_eq!(sent["nonce"], "n-1");
        let received = expect(&mut t, "message").await;
        assert_eq!(received["seq"], 1);
        assert_eq!(received["sender"]["sourced_id"], "p1");
        assert!(received.get("nonce").is_none(), "only the sender sees the nonce");

        // A retried send is answered with the stored message, never a second one.
        self::send(&mut p, send).await;
        let again = expect(&mut p, "sent").await;
        assert_eq!(again["id"], sent["id"]);
        assert_eq!(again["seq"], 1);
        nothing(&mut t, "message", 300).await;

        self::send(&mut t, json!({"type": "read", "conversation": id, "seq": 1})).await;
        // The parent's own receipt (a sender has read what they sent) may come first.
        let mut receipt = expect(&mut p, "receipt").await;
        if receipt["person"] == "p1" {
            receipt = expect(&mut p, "receipt").await;
        }
        assert_eq!(receipt["person"], "t1");
        assert_eq!(receipt["read"], 1);

        let (_, unread) = get(&app, &teacher, "/api/v1/unread").await;
        assert_eq!(unread["total"], 0);
        let (_, history) = get(&app, &teacher, &format!("/api/v1/conversations/{id}/messages")).await;
        assert_eq!(history["messages"].as_array().unwrap().len(), 1);
    }
}

on_both_databases! {
    async fn a_socket_is_not_echoed_its_own_send_or_receipt_but_the_persons_other_sockets_are(app) {
        district(&app).await;
        let parent = token(&app, "p1").await;
        let teacher = token(&app, "t1").await;
        let (_, conv) = post(&app, &parent, "/api/v1/conversations", json!({"with": "t1"})).await;
        let id = conv["id"].as_str().unwrap().to_owned();
        let (mut phone, _) = connect(&app, &parent).await;
        let (mut laptop, _) = connect(&app, &parent).await;
        let (mut desk, _) = connect(&app, &teacher).await;
        let (mut tablet, _) = connect(&app, &teacher).await;

        self::send(&mut phone, json!({"type": "send", "conversation": id, "body": "老师好", "nonce": "echo-1"})).await;
        let sent = expect(&mut phone, "sent").await;
        assert_eq!(sent["seq"], 1);
        let mirrored = expect(&mut laptop, "message").await;
        assert_eq!(mirrored["seq"], 1);
        assert_eq!(mirrored["nonce"], "echo-1", "the sender's other socket matches it to the send");
        assert_eq!(expect(&mut desk, "message").await["seq"], 1);
        assert_eq!(expect(&mut tablet, "message").await["seq"], 1);

        self::send(&mut desk, json!({"type": "read", "conversation": id, "seq": 1})).await;
        let seen = expect(&mut phone, "receipt").await;
        assert_eq!((seen["person"].as_str(), seen["read"].as_i64()), (Some("t1"), Some(1)));
        let elsewhere = expect(&mut tablet, "receipt").await;
        assert_eq!(elsewhere["person"], "t1", "the teacher's other device clears its badge");
        assert_eq!(elsewhere["read"], 1);
        // What each socket sent itself never comes back to it.
        nothing(&mut phone, "message", 300).await;
        nothing(&mut desk, "receipt", 300).await;
    }
}

on_both_databases! {
    async fn a_message_retried_with_its_nonce_is_stored_once_and_leaves_no_gap(app) {
        district(&app).await;
        let parent = token(&app, "p1").await;
        let (_, conv) = post(&app, &parent, "/api/v1/conversations", json!({"with": "t1"})).await;
        let messages = format!("/api/v1/conversations/{}/messages", conv["id"].as_str().unwrap());
        let again = json!({"body": "老师好，孩子今天请假。", "nonce": "again"});
        let (status, first) = post(&app, &parent, &messages, again.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{first}");
        // Retries of a committed send racing new sends: some share a group commit, which then
        // fails on the stored nonce and is written again with its nonces looked up.
        let posts = (0..12).map(|i| {
            let (app, parent, messages) = (&app, &parent, &messages);
            let body = if i % 3 == 0 {
                again.clone()
            } else {
                json!({"body": format!("第{i}条"), "nonce": format!("new-{i}")})
            };
            async move { post(app, parent, messages, body).await }
        });
        let answers = futures::future::join_all(posts).await;
        for (i, (status, sent)) in answers.iter().enumerate() {
            if i % 3 == 0 {
                assert_eq!(*status, StatusCode::OK, "a replay stores nothing new: {sent}");
                assert_eq!(sent["id"], first["id"], "a retry is answered with the stored message");
                assert_eq!(sent["seq"], first["seq"]);
            } else {
                assert_eq!(*status, StatusCode::CREATED, "{sent}");
            }
        }
        let (_, page) = get(&app, &parent, &format!("{messages}?limit=50")).await;
        let mut seqs: Vec<i64> =
            page["messages"].as_array().unwrap().iter().map(|m| m["seq"].as_i64().unwrap()).collect();
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=9).collect::<Vec<i64>>(), "one row per nonce, numbered without a gap: {page}");
    }
}

on_both_databases! {
    async fn a_reconnecting_client_receives_what_it_missed_in_order(app) {
        district(&app).await;
        let parent = token(&app, "p1").await;
        let teacher = token(&app, "t1").await;
        let (_, conv) = post(&app, &teacher, "/api/v1/conversations", json!({"with": "p1"})).await;
        let id = conv["id"].as_str().unwrap().to_owned();
        let messages = format!("/api/v1/conversations/{id}/messages");
        let (status, first) = post(&app, &teacher, &messages, json!({"body": "第一条", "nonce": "a"})).await;
        assert_eq!(status, StatusCode::CREATED, "{first}");

        // Never connected before: the unread message arrives on the first resume.
        let (mut p, ready) = connect(&app, &parent).await;
        assert_eq!(ready["unread"]["total"], 1);
        send(&mut p, json!({"type": "resume"})).await;
        assert_eq!(expect(&mut p, "message").await["seq"], 1);
        expect(&mut p, "caught_up").await;
        drop(p);

        for n in 2..=6 {
            post(&app, &teacher, &messages, json!({"body": format!("第{n}条"), "nonce": format!("m{n}")})).await;
        }
        let (mut p, _) = connect(&app, &parent).await;
        send(&mut p, json!({"type": "resume", "conversations": {id.clone(): 1}})).await;
        for seq in 2..=6 {
            let frame = expect(&mut p, "message").await;
            assert_eq!(frame["seq"], seq);
        }
        expect(&mut p, "caught_up").await;

        // History pages backwards.
        let (_, page) = get(&app, &parent, &format!("{messages}?limit=2")).await;
        let seqs: Vec<i64> = page["messages"].as_array().unwrap().iter().map(|m| m["seq"].as_i64().unwrap()).collect();
        assert_eq!(seqs, [6, 5]);
        let (_, older) = get(&app, &parent, &format!("{messages}?limit=2&before={}", page["next"])).await;
        let seqs: Vec<i64> = older["messages"].as_array().unwrap().iter().map(|m| m["seq"].as_i64().unwrap()).collect();
        assert_eq!(seqs, [4, 3]);
    }
}

on_both_databases! {
    async fn bad_messages_get_clear_errors_and_strangers_cannot_talk(app) {
        district(&app).await;
        let parent = token(&app, "p1").await;
        let (status, err) = post(&app, &parent, "/api/v1/conversations", json!({"with": "t3"})).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "t3 teaches another class");
        assert_eq!(err["error"]["code"], "not_related");
        let (status, _) = post(&app, &parent, "/api/v1/conversations", json!({"with": "p2"})).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "parents do not message each other");
        let (status, err) = post(&app, &parent, "/api/v1/conversations", json!({"with": "nobody"})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(err["error"]["code"], "unknown_person");

        let (_, conv) = post(&app, &parent, "/api/v1/conversations", json!({"with": "t1"})).await;
        let messages = format!("/api/v1/conversations/{}/messages", conv["id"].as_str().unwrap());
        let cases = [
            (json!({"body": "  ", "nonce": "a"}), "empty_body"),
            (json!({"body": "字".repeat(5001), "nonce": "b"}), "body_too_long"),
            (json!({"body": "hi", "nonce": "c", "attachments": (0..10).map(|i| i.to_string()).collect::<Vec<_>>()}), "too_many_attachments"),
            (json!({"body": "hi", "nonce": "d", "attachments": ["not-mine"]}), "invalid_field"),
            (json!({"body": "hi"}), "invalid_field"),
        ];
        for (body, code) in cases {
            let (status, err) = post(&app, &parent, &messages, body).await;
            assert_eq!(err["error"]["code"], code, "{err}");
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        }
        // Someone else's conversation does not exist for them.
        let (status, _) = get(&app, &token(&app, "p2").await, &messages).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = post(&app, &token(&app, "p2").await, &messages, json!({"body": "hi", "nonce": "e"})).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        // Script in a message is text, never markup: the API returns it as written.
        let (status, sent) = post(&app, &parent, &messages, json!({"body": "<script>alert(1)</script>", "nonce": "f"})).await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(sent["body"], "<script>alert(1)</script>");
    }
}

on_both_databases! {
    async fn once_the_child_leaves_the_class_neither_side_can_write_on(app) {
        let package = district(&app).await;
        let parent = token(&app, "p1").await;
        let teacher = token(&app, "t1").await;
        let (status, conv) = post(&app, &parent, "/api/v1/conversations", json!({"with": "t1"})).await;
        assert_eq!(status, StatusCode::CREATED, "{conv}");
        let messages = format!("/api/v1/conversations/{}/messages", conv["id"].as_str().unwrap());
        let (status, _) = post(&app, &parent, &messages, json!({"body": "王老师好", "nonce": "p-1"})).await;
        assert_eq!(status, StatusCode::CREATED);
        let (status, _) = post(&app, &teacher, &messages, json!({"body": "您好", "nonce": "t-1"})).await;
        assert_eq!(status, StatusCode::CREATED);

        // st1 moves to k2, which t1 does not teach.
        let enrollments = package.path().join("enrollments.csv");
        let text = std::fs::read_to_string(&enrollments).unwrap();
        assert!(text.contains("e-st1,,,k1,"));
        std::fs::write(&enrollments, text.replace("e-st1,,,k1,", "e-st1,,,k2,")).unwrap();
        crate::fixtures::import(&app.state.db, &package, false).await;

        // The node hears of the change within a poll of the cache epoch; from then on what it
        // decided when the conversation was opened no longer counts, for either side.
        let mut refused = None;
        for n in 0..40 {
            let (status, err) = post(&app, &parent, &messages, json!({"body": "还在吗", "nonce": format!("p-again-{n}")})).await;
            if status != StatusCode::CREATED {
                refused = Some((status, err));
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let (status, err) = refused.expect("the parent could still write after the child left the class");
        assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
        assert_eq!(err["error"]["code"], "not_related");
        let (status, err) = post(&app, &teacher, &messages, json!({"body": "在的", "nonce": "t-2"})).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{err}");
        assert_eq!(err["error"]["code"], "not_related");
    }
}

on_both_databases! {
    async fn messages_can_be_edited_briefly_and_recalled(app) {
        district(&app).await;
        app.state.clock.set(shanghai(0, 10, 0));
        let teacher = token(&app, "t1").await;
        let (_, conv) = post(&app, &teacher, "/api/v1/conversations", json!({"with": "p1"})).await;
        let id = conv["id"].as_str().unwrap();
        let (mut p, _) = connect(&app, &token(&app, "p1").await).await;
        let (_, sent) = post(&app, &teacher, &format!("/api/v1/conversations/{id}/messages"),
            json!({"body": "明天带尺子", "nonce": "x"})).await;
        let message = format!("/api/v1/messages/{}", sent["id"].as_str().unwrap());
        let (status, edited) = call(&app, reqwest::Method::PATCH, &teacher, &message,
            Some(json!({"body": "明天带直尺和圆规"}))).await;
        assert_eq!(status, StatusCode::OK, "{edited}");
        assert!(edited["edited_at"].is_string());
        let update = expect(&mut p, "message_updated").await;
        assert_eq!(update["body"], "明天带直尺和圆规");
        let (status, _) = call(&app, reqwest::Method::PATCH, &token(&app, "p1").await, &message,
            Some(json!({"body": "改"}))).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "only the sender edits");

        app.state.clock.advance(TimeDelta::minutes(6));
        let (status, err) = call(&app, reqwest::Method::PATCH, &teacher, &message,
            Some(json!({"body": "再改"}))).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(err["error"]["code"], "edit_window_closed");
        let (status, recalled) = post(&app, &teacher, &format!("{message}/recall"), json!({})).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(recalled["recalled"], true);
        assert_eq!(recalled["body"], "");
        let update = expect(&mut p, "message_updated").await;
        assert_eq!(update["recalled"], true);
    }
}

on_both_databases! {
    async fn quiet_hours_hold_a_teachers_message_to_a_family_until_morning(app) {
        let app = TestApp::spawn_with(app.backend(), |c| {
            c.quiet_hours = kongjian::messaging::QuietHours::default();
        }).await;
        district(&app).await;
        app.state.clock.set(shanghai(0, 23, 0));
        let teacher = token(&app, "t1").await;
        let parent = token(&app, "p1").await;
        let (_, conv) = post(&app, &teacher, "/api/v1/conversations", json!({"with": "p1"})).await;
        let id = conv["id"].as_str().unwrap().to_owned();
        let (mut p, _) = connect(&app, &parent).await;
        let (status, sent) = post(&app, &teacher, &format!("/api/v1/conversations/{id}/messages"),
            json!({"body": "明天见", "nonce": "late"})).await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(sent["seq"], Value::Null);
        assert!(sent["held_until"].is_string());
        nothing(&mut p, "message", 1500).await;
        // A parent's message to a teacher is not held.
        let (_, reply) = post(&app, &parent, &format!("/api/v1/conversations/{id}/messages"),
            json!({"body": "好的", "nonce": "r"})).await;
        assert_eq!(reply["seq"], 1);
        assert_eq!(expect(&mut p, "message").await["body"], "好的", "the parent's own message");

        app.state.clock.set(shanghai(1, 7, 1));
        let frame = expect(&mut p, "message").await;
        assert_eq!(frame["body"], "明天见");
        assert_eq!(frame["seq"], 2, "numbered when delivered, after what was delivered before");
    }
}

on_both_databases! {
    async fn a_retired_persons_socket_is_closed(app) {
        district(&app).await;
        let p3_token = token(&app, "p3").await;
        let (mut p3, _) = connect(&app, &p3_token).await;
        // A later bulk roster without pupil 3 and their parent.
        let next = Package::new(&[1, 2]).with_admins();
        crate::fixtures::import(&app.state.db, &next, true).await;
        let closed = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match p3.next().await {
                    Some(Ok(Message::Close(Some(frame)))) => return Some(u16::from(frame.code)),
                    Some(Ok(_)) => continue,
                    _ => return None,
                }
            }
        })
        .await
        .unwrap();
        assert_eq!(closed, Some(4001));
        // And the retired person cannot come back.
        let url = app.url("/ws").replacen("http", "ws", 1);
        let mut request = url.into_client_request().unwrap();
        request.headers_mut().insert("authorization", format!("Bearer {p3_token}").parse().unwrap());
        let refused = tokio_tungstenite::connect_async(request).await;
        assert!(matches!(refused, Err(tungstenite::Error::Http(r)) if r.status() == 401 || r.status() == 403));
    }
}

/// Two nodes on one PostgreSQL behave as one: a notice posted through node A reaches a socket
/// held by node B, and B's read receipt comes back to A.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_deliver_to_each_others_sockets() {
    let a = TestApp::spawn(Backend::Postgres).await;
    district(&a).await;
    let b = a.second_node().await;
    let teacher = token(&a, "t1").await;
    let parent = token(&a, "p1").await;
    let (mut on_b, _) = connect(&b, &parent).await;
    let (mut t_on_a, _) = connect(&a, &teacher).await;
    let (status, posted) = post(
        &a,
        &teacher,
        "/api/v1/classes/k1/notices",
        notice("两个节点", "A 发出，B 收到。", true),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let frame = expect(&mut on_b, "notice").await;
    assert_eq!(frame["id"], posted["id"]);
    send(
        &mut on_b,
        json!({"type": "notice_read", "notice": posted["id"]}),
    )
    .await;
    let receipt = expect(&mut t_on_a, "notice_receipt").await;
    assert_eq!(receipt["person"], "p1");
    assert_eq!(receipt["read"], true);

    // Conversations too: a message through B reaches the teacher on A.
    let (_, conv) = post(&b, &parent, "/api/v1/conversations", json!({"with": "t1"})).await;
    send(
        &mut on_b,
        json!({"type": "send", "conversation": conv["id"], "body": "收到", "nonce": "b1"}),
    )
    .await;
    expect(&mut on_b, "sent").await;
    let message = expect(&mut t_on_a, "message").await;
    assert_eq!(message["body"], "收到");
}

on_both_databases! {
    async fn a_browser_socket_needs_its_session_and_this_sites_origin(app) {
        district(&app).await;
        let person = kongjian::people::store::find_by_sourced_id(&app.state.db, "p1").await.unwrap().unwrap();
        let (code, _) = kongjian::auth::codes::issue(&app.state.db, &person, None, 30, chrono::Utc::now()).await.unwrap();
        let response = reqwest::Client::new()
            .post(app.url("/api/v1/auth/activate"))
            .json(&json!({"code": code, "password": "家校互动-password"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let cookie = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(kongjian::auth::sessions::COOKIE))
            .and_then(|v| v.split(';').next())
            .unwrap()
            .to_owned();
        let url = app.url("/ws").replacen("http", "ws", 1);
        let open = |origin: Option<String>, cookie: Option<String>| {
            let mut request = url.clone().into_client_request().unwrap();
            if let Some(origin) = origin {
                request.headers_mut().insert("origin", origin.parse().unwrap());
            }
            if let Some(cookie) = cookie {
                request.headers_mut().insert("cookie", cookie.parse().unwrap());
            }
            tokio_tungstenite::connect_async(request)
        };
        let status = |result: Result<_, tungstenite::Error>| match result {
            Ok(_) => 101,
            Err(tungstenite::Error::Http(response)) => response.status().as_u16(),
            Err(other) => panic!("{other}"),
        };
        assert_eq!(status(open(None, None).await.map(|_| ())), 401);
        assert_eq!(status(open(Some("https://evil.example".into()), Some(cookie.clone())).await.map(|_| ())), 403);
        assert_eq!(status(open(None, Some(cookie.clone())).await.map(|_| ())), 403, "no Origin, no cookie socket");
        let (mut socket, _) = open(Some(app.url("")), Some(cookie)).await.unwrap();
        let ready = expect(&mut socket, "ready").await;
        assert_eq!(ready["person"], "p1");
    }
}

on_both_databases! {
    async fn a_parent_who_chose_a_digest_gets_one_summary_in_the_evening_instead_of_live_notices(app) {
        district(&app).await;
        app.state.clock.set(shanghai(0, 10, 0));
        let parent = token(&app, "p1").await;
        let (status, prefs) = call(&app, reqwest::Method::PUT, &parent, "/api/v1/me/messaging",
            Some(json!({"delivery": "digest"}))).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(prefs["delivery"], "digest");
        let (status, err) = call(&app, reqwest::Method::PUT, &parent, "/api/v1/me/messaging",
            Some(json!({"delivery": "sometimes"}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(err["error"]["code"], "invalid_field");

        let (mut p1, _) = connect(&app, &parent).await;
        let teacher = token(&app, "t1").await;
        post(&app, &teacher, "/api/v1/classes/k1/notices", notice("读书节", "下周读书节。", true)).await;
        nothing(&mut p1, "notice", 1500).await;
        // Urgent notices still come at once.
        let mut urgent = notice("停水", "今天下午停水。", false);
        urgent["urgent"] = json!(true);
        post(&app, &token(&app, "sa1").await, "/api/v1/classes/k1/notices", urgent).await;
        assert_eq!(expect(&mut p1, "notice").await["title"], "停水");

        app.state.clock.set(shanghai(0, 19, 0));
        let digest = expect(&mut p1, "digest").await;
        assert_eq!(digest["unread"]["notices"], 2);
        let titles: Vec<&str> = digest["notices"].as_array().unwrap().iter().map(|n| n["title"].as_str().unwrap()).collect();
        assert!(titles.contains(&"读书节"), "{digest}");
        // Once a day.
        nothing(&mut p1, "digest", 1500).await;
    }
}

on_both_databases! {
    async fn a_school_administrator_sets_the_schools_quiet_hours(app) {
        district(&app).await;
        let admin = token(&app, "sa1").await;
        let path = "/api/v1/schools/s1/messaging";
        let (status, settings) = get(&app, &admin, path).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(settings["quiet_hours"], "off", "the test server's default");
        assert_eq!(settings["own"], false);
        let (status, settings) = call(&app, reqwest::Method::PUT, &admin, path, Some(json!({"quiet_hours": "20:00-07:30"}))).await;
        assert_eq!(status, StatusCode::OK, "{settings}");
        assert_eq!(settings["quiet_hours"], "20:00-07:30");
        assert_eq!(settings["own"], true);
        let (status, err) = call(&app, reqwest::Method::PUT, &admin, path, Some(json!({"quiet_hours": "late"}))).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(err["error"]["message"].as_str().unwrap().contains("quiet_hours"), "{err}");
        // Now a teacher's evening message to a family waits.
        app.state.clock.set(shanghai(0, 20, 30));
        let teacher = token(&app, "t1").await;
        let (_, conv) = post(&app, &teacher, "/api/v1/conversations", json!({"with": "p1"})).await;
        let (_, sent) = post(&app, &teacher, &format!("/api/v1/conversations/{}/messages", conv["id"].as_str().unwrap()),
            json!({"body": "晚上好", "nonce": "e"})).await;
        let until: chrono::DateTime<chrono::Utc> = serde_json::from_value(sent["held_until"].clone()).unwrap();
        assert_eq!(until, shanghai(1, 7, 30));
        // Changing it is audited.
        let (_, audit) = get(&app, &admin, "/api/v1/audit").await;
        assert!(audit.to_string().contains("setting_changed"), "{audit}");
    }
}

on_both_databases! {
    async fn senders_are_rate_limited(app) {
        let app = TestApp::spawn_with(app.backend(), |c| c.message_rate = 3).await;
        district(&app).await;
        let parent = token(&app, "p1").await;
        let (_, conv) = post(&app, &parent, "/api/v1/conversations", json!({"with": "t1"})).await;
        let messages = format!("/api/v1/conversations/{}/messages", conv["id"].as_str().unwrap());
        for n in 0..3 {
            let (status, _) = post(&app, &parent, &messages, json!({"body": "在吗", "nonce": format!("r{n}")})).await;
            assert_eq!(status, StatusCode::CREATED);
        }
        let response = app.client.post(app.url(&messages)).bearer_auth(&parent)
            .json(&json!({"body": "在吗", "nonce": "r4"})).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(response.headers().contains_key("retry-after"));
    }
}

on_both_databases! {
    async fn attachments_are_typed_by_content_and_readable_only_where_they_were_sent(app) {
        district(&app).await;
        let parent = token(&app, "p1").await;
        let png: &[u8] = &[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4, 0x89];
        let upload = |body: Vec<u8>, name: &str| {
            app.client.post(app.url(&format!("/api/v1/attachments?name={name}"))).bearer_auth(&parent).body(body).send()
        };
        let response = upload(png.to_vec(), "假作业.exe").await.unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let uploaded: Value = response.json().await.unwrap();
        assert_eq!(uploaded["content_type"], "image/png", "the content decides, not the name");
        let response = upload(b"MZ\x90\x00 not really a program".to_vec(), "photo.png").await.unwrap();
        assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let response = upload(vec![0u8; 20 * 1024 * 1024 + 1], "big.png").await.unwrap();
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);

        let id = uploaded["id"].as_str().unwrap();
        let (_, conv) = post(&app, &parent, "/api/v1/conversations", json!({"with": "t1"})).await;
        post(&app, &parent, &format!("/api/v1/conversations/{}/messages", conv["id"].as_str().unwrap()),
            json!({"body": "作业照片", "nonce": "a", "attachments": [id]})).await;
        let fetch = |who: String| {
            app.client.get(app.url(&format!("/api/v1/attachments/{id}"))).bearer_auth(who).send()
        };
        let response = fetch(token(&app, "t1").await).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.bytes().await.unwrap().as_ref(), png);
        assert_eq!(fetch(token(&app, "p2").await).await.unwrap().status(), StatusCode::NOT_FOUND);
    }
}

on_both_databases! {
    async fn signing_out_everywhere_closes_the_persons_sockets(app) {
        district(&app).await;
        let parent = token(&app, "p1").await;
        let (mut socket, _) = connect(&app, &parent).await;
        let (status, _) = post(&app, &parent, "/api/v1/auth/logout-everywhere", json!({})).await;
        assert_eq!(status, StatusCode::OK);
        let closed = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match socket.next().await {
                    Some(Ok(Message::Close(Some(frame)))) => return Some(u16::from(frame.code)),
                    Some(Ok(_)) => continue,
                    _ => return None,
                }
            }
        })
        .await
        .unwrap();
        assert_eq!(closed, Some(4003));
    }
}

on_both_databases! {
    async fn a_silent_peer_is_found_dead_by_the_heartbeat(app) {
        let app = TestApp::spawn_with(app.backend(), |c| c.heartbeat = Duration::from_millis(200)).await;
        district(&app).await;
        let (mut socket, _) = connect(&app, &token(&app, "p1").await).await;
        // A client that reads answers pings (tungstenite does it while reading) and stays:
        // pinged every 200 ms, it outlasts three silent beats and still gets answers.
        let until = tokio::time::Instant::now() + Duration::from_millis(1000);
        let mut pings = 0;
        while let Ok(frame) = tokio::time::timeout_at(until, socket.next()).await {
            match frame {
                Some(Ok(Message::Ping(_))) => pings += 1,
                Some(Ok(Message::Text(_) | Message::Pong(_))) => {}
                other => panic!("a client that reads lost its socket: {other:?}"),
            }
        }
        assert!(pings >= 2, "{pings} pings in a second, with a 200 ms heartbeat");
        send(&mut socket, json!({"type": "ping"})).await;
        expect(&mut socket, "pong").await;
        // One that stops reading answers nothing, and is closed after three silent beats.
        tokio::time::sleep(Duration::from_millis(1200)).await;
        // Reading again, the client finds the server gone: a close frame (1008), or — when
        // tungstenite first tries to answer the old pings — a broken pipe.
        let ended = tokio::time::timeout(Duration::from_secs(3), async {
            loop {
                match socket.next().await {
                    Some(Ok(Message::Close(frame))) => return format!("closed {:?}", frame.map(|f| u16::from(f.code))),
                    Some(Ok(_)) => continue,
                    Some(Err(err)) => return format!("gone: {err}"),
                    None => return "gone".to_owned(),
                }
            }
        })
        .await;
        let ended = ended.expect("the server kept a silent peer's socket open");
        assert!(ended == "closed Some(1008)" || ended.starts_with("gone"), "{ended}");
    }
}

on_both_databases! {
    async fn a_slow_client_is_dropped_without_stalling_others_and_catches_up(app) {
        // The slow socket's last frames get a minute to go out (five seconds by default): a
        // loaded test run must not lose its close frame to the clock.
        let app = TestApp::spawn_with(app.backend(), |c| {
            c.message_rate = 100_000;
            c.close_wait = Duration::from_secs(60);
        })
        .await;
        district(&app).await;
        let parent = token(&app, "p1").await;
        let teacher = token(&app, "t1").await;
        let (_, conv) = post(&app, &teacher, "/api/v1/conversations", json!({"with": "p1"})).await;
        let id = conv["id"].as_str().unwrap().to_owned();
        // The slow client takes little from the network at a time (a small receive buffer),
        // so the server's writes to it block soon and its queue fills.
        let address = app.address.trim_start_matches("http://").to_owned();
        let tcp = tokio::net::TcpSocket::new_v4().unwrap();
        tcp.set_recv_buffer_size(4096).unwrap();
        let stream = tcp.connect(address.parse().unwrap()).await.unwrap();
        let mut request = app.url("/ws").replacen("http", "ws", 1).into_client_request().unwrap();
        request.headers_mut().insert("authorization", format!("Bearer {parent}").parse().unwrap());
        let (mut slow, _) = tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(stream)).await.unwrap();
        expect(&mut slow, "ready").await;
        let (mut fast, _) = connect(&app, &parent).await;
        // Far more than the kernel's buffers (a 4 MB send buffer at most here) and the
        // socket's queue hold: ~10 MB.
        let body = "慢".repeat(5_000);
        let count = 700;
        let messages = format!("/api/v1/conversations/{id}/messages");
        // Messages go out until the server drops the slow socket from its hub as too slow;
        // then the slow socket is read to its close frame, and the remaining messages follow.
        let mut post_nth = async |n: i64| {
            let (status, _) = post(&app, &teacher, &messages, json!({"body": body, "nonce": format!("s{n}")})).await;
            assert_eq!(status, StatusCode::CREATED);
            // The other socket keeps up, and keeps receiving while the slow one is stuck.
            // (Read here rather than by a task of its own: a reader that falls far enough
            // behind is rightly closed as too slow itself.)
            assert_eq!(expect(&mut fast, "message").await["seq"], n);
        };
        let mut sent = 0;
        while app.state.messaging.hub.sockets() == 2 {
            // Within 500 messages (~7.5 MB), far more than the kernel's buffers and the
            // socket's queue hold.
            assert!(sent < 500, "the slow socket was not dropped after {sent} messages");
            sent += 1;
            post_nth(sent).await;
        }
        let mut frames = 0;
        let ended = tokio::time::timeout(Duration::from_secs(30), async {
            loop {
                match slow.next().await {
                    Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                    Some(Ok(_)) => frames += 1,
                    _ => return None,
                }
            }
        })
        .await
        .unwrap_or_else(|_| panic!("the slow socket stayed open ({frames} frames read)"));
        assert_eq!(ended, Some(4008), "after {frames} frames");
        while sent < count {
            sent += 1;
            post_nth(sent).await;
        }
        // Back again, it resumes and receives everything.
        let (mut again, _) = connect(&app, &parent).await;
        send(&mut again, json!({"type": "resume", "conversations": {id.clone(): 0}})).await;
        for seq in 1..=count {
            assert_eq!(expect(&mut again, "message").await["seq"], seq);
        }
        expect(&mut again, "caught_up").await;
    }
}
