//! The growth record as a self-contained archive that can follow the pupil to another school:
//! a zip with `index.html` (a complete page, inline styles, readable offline), the files of
//! every entry under `files/<entry>/<name>` with the bytes from the object store, and
//! `record.json` for machines.
//!
//! The archive is written to an unnamed temporary file one object at a time, so a record with
//! large files does not sit in memory, and streamed from there.

use std::collections::HashMap;
use std::io::{Seek, Write};

use askama::Template;
use axum::body::{Body, Bytes};
use chrono::{DateTime, Utc};
use object_store::ObjectStoreExt;
use object_store::path::Path as ObjectPath;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Serialize;
use tokio::io::AsyncReadExt;
use zip::write::SimpleFileOptions;

use super::access;
use super::service::{self, EntryView, Kind};
use crate::error::{AppError, ErrorCode};
use crate::objects::clean_file_name;
use crate::people::store;
use crate::roster::entity::{org, person, role};
use crate::state::AppState;

/// Every entry goes into the archive.
const ALL_ENTRIES: u64 = 100_000;

#[derive(Serialize)]
struct Record<'a> {
    format: &'static str,
    exported_at: DateTime<Utc>,
    student: StudentData<'a>,
    entries: Vec<EntryData<'a>>,
}

#[derive(Serialize)]
struct StudentData<'a> {
    sourced_id: &'a str,
    name: &'a str,
    status: &'a str,
    schools: Vec<SchoolData>,
}

#[derive(Serialize, Clone)]
struct SchoolData {
    sourced_id: String,
    name: String,
}

#[derive(Serialize)]
struct EntryData<'a> {
    id: &'a str,
    kind: &'a str,
    title: &'a str,
    body: &'a str,
    occurred_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    author: &'a crate::activities::service::PersonRef,
    submission: Option<&'a str>,
    activity: Option<&'a str>,
    files: Vec<FileData>,
}

#[derive(Serialize, Clone)]
struct FileData {
    name: String,
    /// Inside the archive.
    path: String,
    content_type: String,
    size: i64,
    /// The object store no longer had it when the archive was made.
    missing: bool,
}

#[derive(Template)]
#[template(path = "growth/export.html")]
struct Page<'a> {
    name: &'a str,
    sourced_id: &'a str,
    schools: String,
    retired: bool,
    exported_at: String,
    entries: Vec<PageEntry>,
}

struct PageEntry {
    kind: &'static str,
    title: String,
    when: String,
    author: String,
    body_html: String,
    files: Vec<FileData>,
}

/// The archive for `caller`: its file name and body. The pupil, their guardians and their
/// school's administrators export; teachers who see the record are refused.
pub async fn export(
    state: &AppState,
    caller: &person::Model,
    student: &str,
) -> Result<(String, u64, Body), AppError> {
    let st = access::visible(state, caller, student).await?;
    if !st.exports() {
        return Err(AppError::new(ErrorCode::Forbidden));
    }
    let s = &st.student;
    let entries = service::timeline(&state.db, &s.id, ALL_ENTRIES).await?;
    let schools = schools_of(state, &s.id).await?;
    let keys = object_keys(state, &entries).await?;
    let now = state.clock.now();
    let local = |at: DateTime<Utc>| crate::activities::service::local(state, at);

    let mut zip = zip::ZipWriter::new(tempfile::tempfile().map_err(AppError::internal)?);
    let mut data = Vec::new();
    for e in &entries {
        let mut files = Vec::new();
        let mut used = Vec::new();
        for f in &e.files {
            let name = unique(&mut used, &f.name);
            let path = format!("files/{}/{name}", e.id);
            let key = keys.get(&f.id).ok_or_else(AppError::not_found)?;
            let stored = state.objects.get(&ObjectPath::from(key.as_str())).await;
            let missing = match stored {
                Ok(got) => {
                    let bytes = got.bytes().await.map_err(AppError::internal)?;
                    zip = put(zip, path.clone(), bytes, false).await?;
                    false
                }
                Err(object_store::Error::NotFound { .. }) => true,
                Err(err) => return Err(AppError::internal(err)),
            };
            files.push(FileData {
                name,
                path,
                content_type: f.content_type.clone(),
                size: f.size,
                missing,
            });
        }
        data.push(files);
    }
    let status = if s.status == "active" {
        "active"
    } else {
        "retired"
    };
    let record = Record {
        format: "kongjian-growth-record/1",
        exported_at: now,
        student: StudentData {
            sourced_id: &s.sourced_id,
            name: &s.display_name,
            status,
            schools: schools.clone(),
        },
        entries: entries
            .iter()
            .zip(&data)
            .map(|(e, files)| entry_data(e, files.clone()))
            .collect(),
    };
    let json = serde_json::to_vec_pretty(&record).map_err(AppError::internal)?;
    let page = Page {
        name: &s.display_name,
        sourced_id: &s.sourced_id,
        schools: schools
            .iter()
            .map(|o| o.name.as_str())
            .collect::<Vec<_>>()
            .join("、"),
        retired: status == "retired",
        exported_at: local(now),
        entries: entries
            .iter()
            .zip(&data)
            .map(|(e, files)| PageEntry {
                kind: Kind::parse(&e.kind).map_or("", Kind::label),
                title: e.title.clone(),
                when: local(e.occurred_at),
                author: e.author.name.clone(),
                body_html: e.body_html.clone(),
                files: files.clone(),
            })
            .collect(),
    };
    let html = page.render().map_err(AppError::internal)?;
    zip = put(zip, "index.html".to_owned(), Bytes::from(html), true).await?;
    zip = put(zip, "record.json".to_owned(), Bytes::from(json), true).await?;
    let (file, len) = tokio::task::spawn_blocking(move || -> Result<_, zip::result::ZipError> {
        let mut file = zip.finish()?;
        let len = file.stream_position()?;
        file.rewind()?;
        Ok((file, len))
    })
    .await
    .map_err(AppError::internal)?
    .map_err(AppError::internal)?;
    let name = format!("成长记录-{}-{}.zip", s.display_name, s.sourced_id);
    Ok((name, len, stream(tokio::fs::File::from_std(file))))
}

fn entry_data<'a>(e: &'a EntryView, files: Vec<FileData>) -> EntryData<'a> {
    EntryData {
        id: &e.id,
        kind: &e.kind,
        title: &e.title,
        body: &e.body,
        occurred_at: e.occurred_at,
        created_at: e.created_at,
        author: &e.author,
        submission: e.submission.as_deref(),
        activity: e.activity.as_deref(),
        files,
    }
}

/// The object keys of the entries' files, by file id (the timeline shows files without them).
async fn object_keys(
    state: &AppState,
    entries: &[EntryView],
) -> Result<HashMap<String, String>, AppError> {
    let ids: Vec<String> = entries.iter().map(|e| e.id.clone()).collect();
    let mut keys = HashMap::new();
    for chunk in ids.chunks(400) {
        for f in super::entity::file::Entity::find()
            .filter(super::entity::file::Column::EntryId.is_in(chunk.iter().cloned()))
            .all(&state.db)
            .await?
        {
            keys.insert(f.id, f.object_key);
        }
    }
    Ok(keys)
}

/// The schools the pupil belongs (or, when retired, belonged) to.
async fn schools_of(state: &AppState, person_id: &str) -> Result<Vec<SchoolData>, AppError> {
    let orgs: Vec<String> = role::Entity::find()
        .filter(role::Column::PersonId.eq(person_id))
        .filter(role::Column::Role.eq("student"))
        .all(&state.db)
        .await?
        .into_iter()
        .map(|r| r.org_id)
        .collect();
    let found = store::orgs_by_id(&state.db, orgs).await?;
    let mut schools: Vec<SchoolData> = found
        .into_values()
        .filter(|o: &org::Model| o.org_type == "school")
        .map(|o| SchoolData {
            sourced_id: o.sourced_id,
            name: o.name,
        })
        .collect();
    schools.sort_by(|a, b| a.sourced_id.cmp(&b.sourced_id));
    Ok(schools)
}

/// A file name safe inside the archive and unique within its entry.
fn unique(used: &mut Vec<String>, name: &str) -> String {
    let mut clean = clean_file_name(name, 120, "file");
    if clean.starts_with('.') {
        clean = format!("_{clean}");
    }
    let mut candidate = clean.clone();
    let mut n = 2;
    while used.contains(&candidate) {
        candidate = format!("{n}-{clean}");
        n += 1;
    }
    used.push(candidate.clone());
    candidate
}

/// Add one file to the archive on a blocking thread (the zip writer is synchronous).
async fn put(
    mut zip: zip::ZipWriter<std::fs::File>,
    name: String,
    bytes: Bytes,
    compress: bool,
) -> Result<zip::ZipWriter<std::fs::File>, AppError> {
    tokio::task::spawn_blocking(move || -> Result<_, zip::result::ZipError> {
        // Pictures and documents are compressed already; the page and the JSON are text.
        let method = if compress {
            zip::CompressionMethod::Deflated
        } else {
            zip::CompressionMethod::Stored
        };
        zip.start_file(
            name,
            SimpleFileOptions::default()
                .compression_method(method)
                .large_file(bytes.len() >= u32::MAX as usize),
        )?;
        zip.write_all(&bytes)?;
        Ok(zip)
    })
    .await
    .map_err(AppError::internal)?
    .map_err(AppError::internal)
}

/// A file as a response body, read in 64 KiB pieces.
fn stream(file: tokio::fs::File) -> Body {
    let pieces = futures::stream::unfold(Some(file), |file| async move {
        let mut file = file?;
        let mut buf = vec![0u8; 64 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(Bytes::from(buf)), Some(file)))
            }
            Err(e) => Some((Err(e), None)),
        }
    });
    Body::from_stream(pieces)
}

/// A path segment for a link in `index.html`.
pub(crate) fn href_segment(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl FileData {
    /// The link from `index.html` to this file.
    fn href(&self) -> String {
        self.path
            .split('/')
            .map(href_segment)
            .collect::<Vec<_>>()
            .join("/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_safe_and_unique_within_an_entry() {
        let mut used = Vec::new();
        assert_eq!(unique(&mut used, "作业.png"), "作业.png");
        assert_eq!(unique(&mut used, "a/b/作业.png"), "2-作业.png");
        assert_eq!(unique(&mut used, ".."), "_..");
        assert_eq!(unique(&mut used, ""), "file");
        assert_eq!(href_segment("作业 1.png"), "%E4%BD%9C%E4%B8%9A%201.png");
    }
}
