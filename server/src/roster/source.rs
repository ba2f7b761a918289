//! Reading an import's files from a zip or a directory, decoded to text.
//!
//! OneRoster requires UTF-8 and tolerance of a BOM; Chinese Excel exports are GBK/GB18030, so a
//! file that is not valid UTF-8 is decoded as GB18030 with a warning. Zips are checked for the
//! usual hazards (path traversal, duplicate names, oversized entries) before anything is read.

use std::io::Read;
use std::path::Path;

use super::diagnostics::{Diagnostics, Message};

/// One decoded file of an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// The file name as it appears in the package (no folders), e.g. `users.csv`.
    pub name: String,
    pub text: String,
}

/// All files of one import.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Source {
    pub files: Vec<SourceFile>,
}

/// Largest file accepted inside a package (after decompression).
const MAX_FILE_BYTES: u64 = 1 << 30;
/// Largest package accepted in total (after decompression).
const MAX_TOTAL_BYTES: u64 = 4 << 30;

impl Source {
    /// SHA-256 of the files as read (names and decoded text, in name order) and of what reading
    /// them said (`read`: a GBK file reads to the same text as its UTF-8 twin, with a warning),
    /// hex. The same package zipped again, or exported again with the same content, has the
    /// same digest.
    pub fn digest(&self, read: &Diagnostics) -> String {
        use sha2::{Digest, Sha256};
        let mut files: Vec<&SourceFile> = self.files.iter().collect();
        files.sort_by(|a, b| (&a.name, &a.text).cmp(&(&b.name, &b.text)));
        let mut hasher = Sha256::new();
        // Each part with its length first, so that no two different inputs feed the hasher the
        // same bytes.
        let mut part = |bytes: &[u8]| {
            hasher.update((bytes.len() as u64).to_le_bytes());
            hasher.update(bytes);
        };
        for file in files {
            part(file.name.as_bytes());
            part(file.text.as_bytes());
        }
        for said in read.warnings.iter().chain(&read.errors) {
            part(said.file.as_bytes());
            part(&said.line.unwrap_or(0).to_le_bytes());
            part(said.field.as_deref().unwrap_or("").as_bytes());
            part(said.message.en.as_bytes());
        }
        hex::encode(hasher.finalize())
    }

    /// Read a `.zip` file or a directory of CSV files. Problems go into `diags`; `None` when
    /// nothing usable could be read.
    pub fn read(path: &Path, diags: &mut Diagnostics) -> Option<Source> {
        let shown = path.display().to_string();
        if path.is_dir() {
            return Self::read_dir(path, diags);
        }
        match std::fs::read(path) {
            Ok(bytes) => Self::from_zip(&bytes, &shown, diags),
            Err(err) => {
                diags.error(
                    &shown,
                    None,
                    None,
                    Message::new(
                        format!("无法读取（{err}）"),
                        format!("cannot be read ({err})"),
                    ),
                );
                None
            }
        }
    }

    fn read_dir(dir: &Path, diags: &mut Diagnostics) -> Option<Source> {
        let shown = dir.display().to_string();
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(err) => {
                diags.error(
                    &shown,
                    None,
                    None,
                    Message::new(
                        format!("无法读取目录（{err}）"),
                        format!("cannot read the directory ({err})"),
                    ),
                );
                return None;
            }
        };
        let mut raw = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            let is_csv = path
                .extension()
                .is_some_and(|ext| ext.eq_ignore_ascii_case("csv"));
            if !path.is_file() || !is_csv {
                continue;
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            match std::fs::read(&path) {
                Ok(bytes) => raw.push((name, bytes)),
                Err(err) => diags.error(
                    &name,
                    None,
                    None,
                    Message::new(
                        format!("无法读取（{err}）"),
                        format!("cannot be read ({err})"),
                    ),
                ),
            }
        }
        raw.sort_by(|a, b| a.0.cmp(&b.0));
        Some(Self::from_files(raw, diags))
    }

    /// Read a zip held in memory (an upload, or a file). `shown` names it in diagnostics.
    pub fn from_zip(bytes: &[u8], shown: &str, diags: &mut Diagnostics) -> Option<Source> {
        let mut archive = match zip::ZipArchive::new(std::io::Cursor::new(bytes)) {
            Ok(archive) => archive,
            Err(err) => {
                diags.error(
                    shown,
                    None,
                    None,
                    Message::new(
                        format!("不是有效的 zip 文件或目录（{err}）"),
                        format!("is neither a valid zip file nor a directory ({err})"),
                    ),
                );
                return None;
            }
        };
        let mut raw: Vec<(String, Vec<u8>)> = Vec::new();
        let mut total = 0u64;
        let mut folders = std::collections::BTreeSet::new();
        for index in 0..archive.len() {
            let mut entry = match archive.by_index(index) {
                Ok(entry) => entry,
                Err(err) => {
                    diags.error(
                        shown,
                        None,
                        None,
                        Message::new(
                            format!("zip 条目损坏（{err}）"),
                            format!("a zip entry is corrupt ({err})"),
                        ),
                    );
                    return None;
                }
            };
            let full = entry.name().to_owned();
            if entry.is_dir() || full.starts_with("__MACOSX/") || full.ends_with(".DS_Store") {
                continue;
            }
            let Some(safe) = entry.enclosed_name() else {
                diags.error(
                    &full,
                    None,
                    None,
                    Message::new(
                        "zip 条目路径不安全（绝对路径或含 ..），整个文件包被拒绝",
                        "unsafe path in the zip (absolute or with ..); the package is refused",
                    ),
                );
                return None;
            };
            let Some(name) = safe.file_name().map(|n| n.to_string_lossy().into_owned()) else {
                continue;
            };
            if !name.to_ascii_lowercase().ends_with(".csv") {
                continue;
            }
            if let Some(parent) = safe.parent().filter(|p| !p.as_os_str().is_empty()) {
                folders.insert(parent.display().to_string());
            }
            let size = entry.size();
            total += size;
            if size > MAX_FILE_BYTES || total > MAX_TOTAL_BYTES {
                diags.error(
                    &name,
                    None,
                    None,
                    Message::new(
                        "解压后过大（单个文件上限 1 GiB，总计 4 GiB）",
                        "too large when unpacked (1 GiB per file, 4 GiB in total)",
                    ),
                );
                return None;
            }
            let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
            // Read at most the declared size plus one byte: a lying header cannot unpack a bomb.
            if let Err(err) = entry.by_ref().take(size + 1).read_to_end(&mut bytes) {
                diags.error(
                    &name,
                    None,
                    None,
                    Message::new(
                        format!("无法解压（{err}）"),
                        format!("cannot be unpacked ({err})"),
                    ),
                );
                return None;
            }
            if raw.iter().any(|(existing, _)| existing == &name) {
                diags.error(
                    &name,
                    None,
                    None,
                    Message::new(
                        "文件包中出现了两个同名文件",
                        "the package contains two files with this name",
                    ),
                );
                return None;
            }
            raw.push((name, bytes));
        }
        if !folders.is_empty() {
            diags.warn(
                shown,
                None,
                None,
                Message::new(
                    format!(
                        "文件应位于 zip 根目录，已从文件夹 {} 中读取",
                        folders.into_iter().collect::<Vec<_>>().join("、")
                    ),
                    "files should be at the root of the zip; they were read from a folder",
                ),
            );
        }
        Some(Self::from_files(raw, diags))
    }

    /// Decode raw files: strip a UTF-8 BOM, fall back to GB18030 for non-UTF-8 text.
    pub fn from_files(raw: Vec<(String, Vec<u8>)>, diags: &mut Diagnostics) -> Source {
        let files = raw
            .into_iter()
            .filter_map(|(name, bytes)| {
                decode(&name, bytes, diags).map(|text| SourceFile { name, text })
            })
            .collect();
        Source { files }
    }

    /// The file with this exact name; failing that, one whose name differs only in case
    /// (with a warning: OneRoster names are case-sensitive).
    pub fn file(&self, name: &str, diags: &mut Diagnostics) -> Option<&SourceFile> {
        if let Some(file) = self.files.iter().find(|f| f.name == name) {
            return Some(file);
        }
        let file = self
            .files
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))?;
        diags.warn(
            &file.name,
            None,
            None,
            Message::new(
                format!("文件名大小写不规范，应为 {name}"),
                format!("the file name's case is wrong; it should be {name}"),
            ),
        );
        Some(file)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.files.iter().map(|f| f.name.as_str())
    }
}

fn decode(name: &str, bytes: Vec<u8>, diags: &mut Diagnostics) -> Option<String> {
    let (bytes, had_bom) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (rest.to_vec(), true),
        None => (bytes, false),
    };
    if had_bom {
        diags.warn(
            name,
            Some(1),
            None,
            Message::new(
                "文件以 UTF-8 BOM 开头，已忽略",
                "the file starts with a UTF-8 BOM; it was ignored",
            ),
        );
    }
    match String::from_utf8(bytes) {
        Ok(text) => Some(text),
        Err(err) => {
            let bytes = err.into_bytes();
            let (text, _, had_errors) = encoding_rs::GB18030.decode(&bytes);
            if had_errors {
                diags.error(
                    name,
                    None,
                    None,
                    Message::new(
                        "文件既不是 UTF-8 也不是 GBK/GB18030 编码，请另存为 UTF-8",
                        "the file is neither UTF-8 nor GBK/GB18030; save it as UTF-8",
                    ),
                );
                return None;
            }
            diags.warn(
                name,
                None,
                None,
                Message::new(
                    "文件不是 UTF-8 编码，已按 GBK/GB18030 读取",
                    "the file is not UTF-8; it was read as GBK/GB18030",
                ),
            );
            Some(text.into_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gbk_files_are_decoded_with_a_warning() {
        let (gbk, _, _) = encoding_rs::GBK.encode("姓名,学号\n张三,001\n");
        let mut diags = Diagnostics::default();
        let source =
            Source::from_files(vec![("students.csv".into(), gbk.into_owned())], &mut diags);
        assert_eq!(source.files[0].text, "姓名,学号\n张三,001\n");
        assert_eq!(diags.warnings.len(), 1);
        assert!(!diags.has_errors());
    }

    #[test]
    fn a_bom_is_stripped_with_a_warning() {
        let mut diags = Diagnostics::default();
        let source = Source::from_files(
            vec![("users.csv".into(), b"\xEF\xBB\xBFsourcedId\n".to_vec())],
            &mut diags,
        );
        assert_eq!(source.files[0].text, "sourcedId\n");
        assert_eq!(diags.warnings[0].line, Some(1));
    }

    #[test]
    fn a_file_name_in_the_wrong_case_is_found_with_a_warning() {
        let mut diags = Diagnostics::default();
        let source = Source::from_files(
            vec![("userprofiles.csv".into(), b"x\n".to_vec())],
            &mut diags,
        );
        assert!(source.file("userProfiles.csv", &mut diags).is_some());
        assert_eq!(diags.warnings.len(), 1);
    }
}
