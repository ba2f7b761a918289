//! `manifest.csv`: the versions, and which files come in which mode (`bulk`, `delta`,
//! `absent`), checked against the files actually shipped.

use std::collections::BTreeMap;

use crate::roster::HashMap;

use crate::roster::diagnostics::Message;
use crate::roster::model::{Entity, Mode};
use crate::roster::source::Source;

use super::table::{self, FileSpec};
use crate::roster::report::Report;

const MANIFEST: &str = "manifest.csv";

/// Every `file.*` the 1.2 manifest knows (the 1.1 ones are a subset).
pub const FILES: [&str; 21] = [
    "academicSessions",
    "categories",
    "classes",
    "classResources",
    "courses",
    "courseResources",
    "demographics",
    "enrollments",
    "lineItemLearningObjectiveIds",
    "lineItems",
    "lineItemScoreScales",
    "orgs",
    "resources",
    "resultLearningObjectiveIds",
    "results",
    "resultScoreScales",
    "roles",
    "scoreScales",
    "userProfiles",
    "userResources",
    "users",
];

const OTHER_PROPERTIES: [&str; 4] = [
    "manifest.version",
    "oneroster.version",
    "source.systemName",
    "source.systemCode",
];

static SPEC: FileSpec = FileSpec {
    columns: &["propertyName", "value"],
    required: &["propertyName", "value"],
};

/// `oneroster.version` as declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Version {
    /// 1.0 or 1.1: users carry their role and orgs.
    V11,
    V12,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Declared {
    Mode(Mode),
    Blank,
    Invalid,
}

/// What the manifest says.
#[derive(Debug, Default)]
pub(super) struct Manifest {
    pub version: Option<Version>,
    /// `file.*` key (e.g. `users`) → (manifest line, declared mode).
    files: HashMap<&'static str, (u64, Declared)>,
}

pub(super) fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Absent => "absent",
        Mode::Bulk => "bulk",
        Mode::Delta => "delta",
    }
}

/// Read `manifest.csv`. `None` when there is none (with a warning).
pub(super) fn read(report: &mut Report<'_>, source: &Source) -> Option<Manifest> {
    let Some(file) = source.file(MANIFEST, report.diags()) else {
        report.warn(
            "manifest",
            MANIFEST,
            None,
            None,
            Message::new(
                "缺少 manifest.csv：按 OneRoster 1.0/1.1 读取，提供的文件都视为 bulk",
                "manifest.csv is missing: the package is read as OneRoster 1.0/1.1, every file as bulk",
            ),
        );
        return None;
    };
    let mut manifest = Manifest::default();
    let Some(table) = table::read(report, file).and_then(|raw| table::bind(report, raw, &SPEC))
    else {
        return Some(manifest);
    };
    let file = table.file.as_str();
    let (Some(&name_at), Some(&value_at)) =
        (table.cols.get("propertyName"), table.cols.get("value"))
    else {
        return Some(manifest);
    };
    let known: Vec<String> = OTHER_PROPERTIES
        .iter()
        .map(|p| (*p).to_owned())
        .chain(FILES.iter().map(|f| format!("file.{f}")))
        .collect();
    let known: Vec<&str> = known.iter().map(String::as_str).collect();
    let mut seen: HashMap<&str, u64> = HashMap::default();
    let mut versions = [false, false];
    for row in &table.rows {
        let line = Some(row.line);
        let (property, value) = (row.fields[name_at].as_str(), row.fields[value_at].as_str());
        let Some(property) = canonical_property(report, file, row.line, property, &known) else {
            continue;
        };
        if let Some(first) = seen.insert(property, row.line) {
            report.warn(
                "manifest-duplicate",
                file,
                line,
                Some(property),
                Message::new(
                    format!("属性 {property} 重复（第 {first} 行已有），以后出现的为准"),
                    format!("property {property} is repeated (already on line {first}); the later one is used"),
                ),
            );
        }
        match property {
            "manifest.version" => {
                versions[0] = true;
                if value != "1.0" {
                    report.warn(
                        "manifest-version",
                        file,
                        line,
                        Some(property),
                        Message::new(
                            format!("manifest.version 的值“{value}”应为 1.0"),
                            format!("manifest.version \"{value}\" should be 1.0"),
                        ),
                    );
                }
            }
            "oneroster.version" => {
                versions[1] = true;
                manifest.version = oneroster_version(report, file, row.line, value);
            }
            _ => {
                if let Some(key) = property.strip_prefix("file.")
                    && let Some(key) = FILES.iter().find(|f| **f == key)
                {
                    let declared = declared_mode(report, file, row.line, property, value);
                    manifest.files.insert(key, (row.line, declared));
                }
            }
        }
    }
    for (present, property) in versions
        .into_iter()
        .zip(["manifest.version", "oneroster.version"])
    {
        if !present {
            report.warn(
                "manifest-version",
                file,
                None,
                Some(property),
                Message::new(
                    format!("manifest 缺少 {property}"),
                    format!("the manifest has no {property}"),
                ),
            );
        }
    }
    Some(manifest)
}

/// The property as the spec spells it; unknown properties are warned about and skipped.
fn canonical_property<'k>(
    report: &mut Report<'_>,
    file: &str,
    line: u64,
    property: &str,
    known: &[&'k str],
) -> Option<&'k str> {
    if let Some(k) = known.iter().find(|k| **k == property) {
        return Some(k);
    }
    if let Some(k) = known.iter().find(|k| k.eq_ignore_ascii_case(property)) {
        report.warn(
            "manifest-case",
            file,
            Some(line),
            Some(property),
            Message::new(
                format!("属性名“{property}”的大小写不对，应为 {k}"),
                format!("property \"{property}\" should be written {k}"),
            ),
        );
        return Some(k);
    }
    let message = match table::suggest(property, known) {
        Some(k) => Message::new(
            format!("未知的属性“{property}”，已忽略；是不是想写 {k}？"),
            format!("unknown property \"{property}\" was ignored; did you mean {k}?"),
        ),
        None => Message::new(
            format!("未知的属性“{property}”，已忽略"),
            format!("unknown property \"{property}\" was ignored"),
        ),
    };
    report.warn(
        "manifest-unknown",
        file,
        Some(line),
        Some(property),
        message,
    );
    None
}

fn oneroster_version(
    report: &mut Report<'_>,
    file: &str,
    line: u64,
    value: &str,
) -> Option<Version> {
    let version = match value {
        "1.0" | "1.1" => return Some(Version::V11),
        "1.2" => return Some(Version::V12),
        v if v.starts_with("1.2.") => Some(Version::V12),
        v if v.starts_with("1.1.") || v.starts_with("1.0.") => Some(Version::V11),
        _ => None,
    };
    let message = match version {
        Some(_) => Message::new(
            format!("oneroster.version 的值“{value}”应只写主次版本（1.0、1.1 或 1.2）"),
            format!("oneroster.version \"{value}\" should be 1.0, 1.1 or 1.2"),
        ),
        None => Message::new(
            format!("无法识别 oneroster.version 的值“{value}”，版本按 users.csv 的表头判断"),
            format!(
                "oneroster.version \"{value}\" is not known; the version is taken from users.csv's header"
            ),
        ),
    };
    report.warn(
        "manifest-version",
        file,
        Some(line),
        Some("oneroster.version"),
        message,
    );
    version
}

fn declared_mode(
    report: &mut Report<'_>,
    file: &str,
    line: u64,
    property: &str,
    value: &str,
) -> Declared {
    let modes = [Mode::Bulk, Mode::Delta, Mode::Absent];
    if value.is_empty() {
        return Declared::Blank;
    }
    if let Some(mode) = modes.iter().find(|m| mode_name(**m) == value) {
        return Declared::Mode(*mode);
    }
    if let Some(mode) = modes
        .iter()
        .find(|m| mode_name(**m).eq_ignore_ascii_case(value))
    {
        let name = mode_name(*mode);
        report.warn(
            "manifest-case",
            file,
            Some(line),
            Some(property),
            Message::new(
                format!("{property} 的值“{value}”大小写不对，应为 {name}"),
                format!("{property} \"{value}\" should be written {name}"),
            ),
        );
        return Declared::Mode(*mode);
    }
    report.error(
        file,
        Some(line),
        Some(property),
        Message::new(
            format!("{property} 的值“{value}”无效，应为 bulk、delta 或 absent"),
            format!("{property} \"{value}\" is not allowed; expected bulk, delta or absent"),
        ),
    );
    Declared::Invalid
}

/// The entity a `file.*` key carries, for the files this parser reads.
fn entity_of(key: &str) -> Option<Entity> {
    Entity::ALL
        .into_iter()
        .find(|e| e.oneroster_file().strip_suffix(".csv") == Some(key))
}

/// Decide each entity's declared mode from the manifest and the files shipped, reporting every
/// mismatch. Without a manifest every shipped file is bulk.
pub(super) fn plan(
    report: &mut Report<'_>,
    source: &Source,
    manifest: Option<&Manifest>,
) -> BTreeMap<Entity, Mode> {
    let mut modes: BTreeMap<Entity, Mode> =
        Entity::ALL.into_iter().map(|e| (e, Mode::Absent)).collect();
    for key in FILES {
        let name = format!("{key}.csv");
        let shipped = source
            .files
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(&name));
        let property = format!("file.{key}");
        let mode = match (manifest, shipped) {
            (None, Some(_)) => Mode::Bulk,
            (None, None) => Mode::Absent,
            (Some(manifest), shipped) => match (manifest.files.get(key).copied(), shipped) {
                (Some((line, Declared::Mode(mode @ (Mode::Bulk | Mode::Delta)))), None) => {
                    let shown = mode_name(mode);
                    report.error(
                        MANIFEST,
                        Some(line),
                        Some(&property),
                        Message::new(
                            format!("manifest 声明 {name} 为 {shown}，但文件包里没有这个文件"),
                            format!("the manifest declares {name} as {shown}, but the package does not contain it"),
                        ),
                    );
                    Mode::Absent
                }
                (Some((_, Declared::Mode(Mode::Absent))), Some(file)) => {
                    report.warn(
                        "manifest-files",
                        &file.name,
                        None,
                        None,
                        Message::new(
                            format!("manifest 声明此文件为 absent（{property}），文件已忽略"),
                            format!("the manifest declares this file absent ({property}); it was ignored"),
                        ),
                    );
                    Mode::Absent
                }
                (Some((_, Declared::Blank)), Some(file)) => {
                    report.warn(
                        "manifest-files",
                        &file.name,
                        None,
                        None,
                        Message::new(
                            format!("manifest 中 {property} 的处理方式为空，文件已忽略"),
                            format!("the manifest gives {property} no mode; the file was ignored"),
                        ),
                    );
                    Mode::Absent
                }
                (Some((line, Declared::Blank)), None) => {
                    report.warn(
                        "manifest-blank",
                        MANIFEST,
                        Some(line),
                        Some(&property),
                        Message::new(
                            format!("{property} 的值为空，应为 absent；按 absent 处理"),
                            format!(
                                "{property} is blank; it should be absent, and is read as such"
                            ),
                        ),
                    );
                    Mode::Absent
                }
                (None, Some(file)) => {
                    let mode = if entity_of(key).is_some() {
                        Mode::Bulk
                    } else {
                        Mode::Absent
                    };
                    report.warn(
                        "manifest-files",
                        &file.name,
                        None,
                        None,
                        Message::new(
                            format!(
                                "manifest 中没有 {property}，此文件按 {} 处理",
                                mode_name(mode)
                            ),
                            format!(
                                "the manifest has no {property}; the file is read as {}",
                                mode_name(mode)
                            ),
                        ),
                    );
                    mode
                }
                (Some((_, Declared::Mode(mode))), Some(_)) => mode,
                (Some((_, Declared::Invalid)), _)
                | (None, None)
                | (Some((_, Declared::Mode(_))), None) => Mode::Absent,
            },
        };
        if let Some(entity) = entity_of(key) {
            modes.insert(entity, mode);
        }
    }
    for file in &source.files {
        let known = file.name.eq_ignore_ascii_case(MANIFEST)
            || FILES
                .iter()
                .any(|key| file.name.eq_ignore_ascii_case(&format!("{key}.csv")));
        if !known {
            report.warn(
                "foreign-file",
                &file.name,
                None,
                None,
                Message::new(
                    "不是 OneRoster 的文件，已忽略",
                    "not a OneRoster file; it was ignored",
                ),
            );
        }
    }
    modes
}
