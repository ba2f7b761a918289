//! The object store for uploaded files: a local directory by default, S3-compatible for scale-out.

use std::sync::Arc;

use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

use crate::config::{ConfigError, ObjectStoreConfig};

pub type Objects = Arc<dyn ObjectStore>;

const SETTING: &str = "KONGJIAN_OBJECT_STORE";
/// The type of an Office Open XML file (a zip by its bytes), told by its name's extension;
/// `lower_name` is the file name in lower case.
pub fn office_type(lower_name: &str) -> Option<&'static str> {
    [
        (
            ".docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (
            ".pptx",
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        ),
        (
            ".xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    ]
    .into_iter()
    .find(|(ext, _)| lower_name.ends_with(ext))
    .map(|(_, mime)| mime)
}

/// An uploaded file's name made safe to keep and show: the last path component, without
/// control characters, at most `max` characters; `fallback` when nothing is left.
pub fn clean_file_name(name: &str, max: usize, fallback: &str) -> String {
    let name: String = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_control())
        .take(max)
        .collect();
    if name.trim().is_empty() {
        fallback.to_owned()
    } else {
        name
    }
}

/// Build the store the configuration names. Local directories are created when missing.
pub fn build(config: &ObjectStoreConfig) -> Result<Objects, ConfigError> {
    match config {
        ObjectStoreConfig::Local(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| {
                ConfigError::new(
                    SETTING,
                    format!("无法创建目录 {}（{e}）", dir.display()),
                    format!("cannot create directory {} ({e})", dir.display()),
                )
            })?;
            let store = LocalFileSystem::new_with_prefix(dir).map_err(|e| {
                ConfigError::new(
                    SETTING,
                    format!("无法使用目录 {}（{e}）", dir.display()),
                    format!("cannot use directory {} ({e})", dir.display()),
                )
            })?;
            Ok(Arc::new(store))
        }
        ObjectStoreConfig::S3 {
            bucket,
            prefix,
            endpoint,
        } => {
            let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
            if let Some(endpoint) = endpoint {
                // S3-compatible servers (MinIO, moto, s3s) want path-style requests.
                builder = builder
                    .with_endpoint(endpoint.as_str().trim_end_matches('/'))
                    .with_virtual_hosted_style_request(false)
                    .with_allow_http(endpoint.scheme() == "http");
            }
            let store = builder.build().map_err(|e| {
                ConfigError::new(
                    SETTING,
                    format!("S3 设置不完整（{e}）"),
                    format!("the S3 settings are incomplete ({e})"),
                )
            })?;
            if prefix.is_empty() {
                Ok(Arc::new(store))
            } else {
                Ok(Arc::new(PrefixStore::new(store, prefix.as_str())))
            }
        }
    }
}

/// Write, read back and delete a small object, so a misconfigured store stops start-up
/// instead of failing the first upload.
pub async fn probe(store: &Objects) -> Result<(), ConfigError> {
    let path = ObjectPath::from(format!(".kongjian-probe/{}", uuid::Uuid::new_v4()));
    let fail = |what_zh: &str, what_en: &str, e: object_store::Error| {
        ConfigError::new(
            SETTING,
            format!("对象存储无法{what_zh}（{e}）"),
            format!("the object store cannot {what_en} ({e})"),
        )
    };
    store
        .put(&path, PutPayload::from_static(b"ok"))
        .await
        .map_err(|e| fail("写入", "be written", e))?;
    store
        .get(&path)
        .await
        .map_err(|e| fail("读取", "be read", e))?;
    store
        .delete(&path)
        .await
        .map_err(|e| fail("删除", "delete", e))?;
    Ok(())
}
