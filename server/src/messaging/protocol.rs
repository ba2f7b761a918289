//! The websocket protocol's frames (documented in `docs/realtime.md`): what a client may send,
//! and what the server sends, as serde-tagged enums on the `type` field.

use std::collections::HashMap;

use axum::extract::ws::Utf8Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A frame from a client.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientFrame {
    Resume {
        #[serde(default)]
        conversations: HashMap<String, i64>,
    },
    Send {
        conversation: String,
        body: String,
        nonce: String,
        #[serde(default)]
        attachments: Vec<String>,
    },
    Delivered {
        conversation: String,
        seq: i64,
    },
    Read {
        conversation: String,
        seq: i64,
    },
    NoticeRead {
        notice: String,
    },
    Ping,
}

/// A person as frames and API answers name them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct PersonRef {
    pub sourced_id: String,
    pub name: String,
}

/// An uploaded file, as messages, notices and the upload's answer show it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct AttachmentView {
    pub id: String,
    pub name: String,
    /// Decided from the file's bytes, not its name.
    pub content_type: String,
    /// In bytes.
    pub size: i64,
}

/// A message as clients see it (frames and the API alike).
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct MessageView {
    pub conversation: String,
    /// `None` while quiet hours hold the message (only its sender sees it then).
    pub seq: Option<i64>,
    pub id: String,
    pub sender: PersonRef,
    pub body: String,
    pub attachments: Vec<AttachmentView>,
    pub sent_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    pub recalled: bool,
    /// Only in what the sender receives: lets their other devices match a pending send.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// When quiet hours hold the message, the time it will be delivered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_until: Option<DateTime<Utc>>,
}

/// What the caller has not read yet.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct Unread {
    /// Unread messages and notices together.
    pub total: i64,
    pub notices: i64,
    /// Unread messages per conversation id.
    pub conversations: HashMap<String, i64>,
}

/// One of a parent's children in a notice's audience, and whether this parent confirmed.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct ChildState {
    pub sourced_id: String,
    pub name: String,
    pub confirmed: bool,
}

/// Whom a notice was sent to.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct AudienceRef {
    /// `class`, `grade` or `school`.
    pub kind: String,
    pub sourced_id: String,
    pub title: String,
}

/// A notice as a recipient sees it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct NoticeView {
    pub id: String,
    pub title: String,
    pub body: String,
    pub sender: PersonRef,
    pub audience: AudienceRef,
    pub requires_confirmation: bool,
    pub urgent: bool,
    pub sent_at: DateTime<Utc>,
    pub attachments: Vec<AttachmentView>,
    /// A parent's children among the audience, with whether this parent confirmed for each.
    pub children: Vec<ChildState>,
    pub read: bool,
}

/// A notice as the daily digest lists it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct DigestNotice {
    pub id: String,
    pub title: String,
    pub requires_confirmation: bool,
}

/// A frame to a client.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame<'a> {
    Ready {
        person: &'a str,
        unread: &'a Unread,
    },
    Message(&'a MessageView),
    MessageUpdated(&'a MessageView),
    Sent {
        nonce: &'a str,
        conversation: &'a str,
        id: &'a str,
        seq: Option<i64>,
        held_until: Option<DateTime<Utc>>,
    },
    Notice(&'a NoticeView),
    NoticeReminder {
        id: &'a str,
        title: &'a str,
    },
    Receipt {
        conversation: &'a str,
        person: &'a str,
        delivered: i64,
        read: i64,
    },
    NoticeReceipt {
        notice: &'a str,
        person: &'a str,
        student: Option<&'a str>,
        read: bool,
        confirmed: bool,
    },
    Unread(&'a Unread),
    /// The daily digest for someone who chose it instead of live delivery.
    Digest {
        unread: &'a Unread,
        notices: &'a [DigestNotice],
    },
    CaughtUp,
    Error {
        code: &'a str,
        message: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        nonce: Option<&'a str>,
    },
    Pong,
}

impl ServerFrame<'_> {
    /// The frame as the text a socket sends; serialized once, shared by every recipient.
    pub fn encode(&self) -> Utf8Bytes {
        // Serializing these plain structs cannot fail; an empty object would be harmless.
        Utf8Bytes::from(serde_json::to_string(self).unwrap_or_else(|_| "{}".to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_frames_parse_by_type() {
        let frame: Result<ClientFrame, _> =
            serde_json::from_str(r#"{"type":"resume","conversations":{"c1":4}}"#);
        assert!(
            matches!(frame, Ok(ClientFrame::Resume { conversations }) if conversations["c1"] == 4)
        );
        let frame: Result<ClientFrame, _> = serde_json::from_str(r#"{"type":"resume"}"#);
        assert!(matches!(frame, Ok(ClientFrame::Resume { .. })));
        let frame: Result<ClientFrame, _> = serde_json::from_str(
            r#"{"type":"send","conversation":"c","body":"你好","nonce":"n1"}"#,
        );
        assert!(matches!(frame, Ok(ClientFrame::Send { ref body, .. }) if body == "你好"));
        assert!(serde_json::from_str::<ClientFrame>(r#"{"type":"shout"}"#).is_err());
    }

    #[test]
    fn server_frames_carry_their_type() {
        assert_eq!(
            ServerFrame::CaughtUp.encode().as_str(),
            r#"{"type":"caught_up"}"#
        );
        let unread = Unread::default();
        let text = ServerFrame::Ready {
            person: "p1",
            unread: &unread,
        }
        .encode();
        assert!(
            text.as_str()
                .starts_with(r#"{"type":"ready","person":"p1""#)
        );
    }
}
