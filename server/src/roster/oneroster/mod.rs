//! OneRoster 1.0 / 1.1 / 1.2 CSV packages → a typed [`Bundle`].
//!
//! This module owns everything that can be checked within one package without the database:
//! the manifest (versions, per-file bulk/delta/absent modes against the files shipped), the
//! shape of every CSV file, headers (by name, never by position), every value, and the
//! per-file rules (duplicate sourcedIds, status/dateLastModified in delta files, "the data
//! wins" over the manifest's mode). Cross-file references are checked elsewhere.
//!
//! Layout: `table` reads CSV and binds headers, `values` reads typed values out of a row,
//! `records` builds each entity's record and `manifest` reads `manifest.csv`; repeated warnings
//! are capped by the shared `roster::report`. OneRoster 1.1 users carry `role` +
//! `orgSourcedIds`; they are turned into [`Role`] records here so that later stages see one shape.

mod manifest;

/// Every `file.*` property of a OneRoster 1.2 manifest, for writers of packages (tests, the
/// benchmark's generator).
pub use manifest::FILES as MANIFEST_FILES;

/// The OneRoster 1.2.1 header of a rostering file, in spec order, for writers of packages
/// (tests, the benchmark's generator); `None` for files this importer does not read.
pub fn header(file: &str) -> Option<&'static [&'static str]> {
    let spec = match file {
        "orgs.csv" => &records::ORGS,
        "academicSessions.csv" => &records::SESSIONS,
        "courses.csv" => &records::COURSES,
        "classes.csv" => &records::CLASSES,
        "users.csv" => &records::USERS_121,
        "roles.csv" => &records::ROLES,
        "enrollments.csv" => &records::ENROLLMENTS,
        "demographics.csv" => &records::DEMOGRAPHICS,
        _ => return None,
    };
    Some(spec.columns)
}
mod records;
mod table;
mod values;

use crate::roster::HashMap;

use super::diagnostics::{Diagnostics, Message};
use super::model::{Bundle, Entity, Format, Located, Mode, Role, RoleType, SourcedId, User};
use super::report::Report;
use super::source::{Source, SourceFile};

use manifest::Version;
use table::{FileSpec, Table};
use values::Cells;

/// Parse a OneRoster 1.0/1.1/1.2 CSV package. Returns None only when nothing usable was found
/// (e.g. no users.csv and no manifest); defects go into `diags` as errors, tolerated quirks as warnings.
pub fn parse(source: &Source, diags: &mut Diagnostics) -> Option<Bundle> {
    let mut report = Report::new(diags);
    let bundle = read_package(&mut report, source);
    report.finish();
    bundle
}

/// Whether a package looks like OneRoster (has manifest.csv, or orgs.csv/users.csv with a sourcedId header).
pub fn looks_like(source: &Source) -> bool {
    source.files.iter().any(|file| {
        let name = file.name.to_ascii_lowercase();
        name == "manifest.csv"
            || (matches!(name.as_str(), "orgs.csv" | "users.csv")
                && table::header(&file.text).is_some_and(|header| {
                    header.iter().any(|h| h.eq_ignore_ascii_case("sourcedId"))
                }))
    })
}

/// The shape of users.csv, which is where the OneRoster versions differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UsersShape {
    /// 1.0/1.1: `orgSourcedIds` and `role` on the user.
    V11,
    /// 1.2 as published in June 2022: `resourceSourcedIds` between `userMasterIdentifier` and
    /// `preferredGivenName` (accepted and ignored).
    V120,
    /// 1.2.1.
    V121,
}

impl UsersShape {
    fn spec(self) -> &'static FileSpec {
        match self {
            UsersShape::V11 => &records::USERS_11,
            UsersShape::V120 => &records::USERS_120,
            UsersShape::V121 => &records::USERS_121,
        }
    }

    fn name(self) -> &'static str {
        match self {
            UsersShape::V11 => "1.1",
            UsersShape::V120 => "1.2",
            UsersShape::V121 => "1.2.1",
        }
    }
}

fn read_package(report: &mut Report<'_>, source: &Source) -> Option<Bundle> {
    let manifest = manifest::read(report, source);
    let declared = manifest::plan(report, source, manifest.as_ref());
    let mut shipped: Vec<(Entity, Mode, &SourceFile)> = Vec::new();
    for (&entity, &mode) in &declared {
        if mode != Mode::Absent
            && let Some(file) = source.file(entity.oneroster_file(), report.diags())
        {
            shipped.push((entity, mode, file));
        }
    }
    if manifest.is_none() && shipped.is_empty() {
        report.error(
            "manifest.csv",
            None,
            None,
            Message::new(
                "既没有 manifest.csv，也没有 users.csv 等 OneRoster 数据文件，无法按 OneRoster 读取",
                "there is neither a manifest.csv nor any OneRoster data file such as users.csv; this is not a OneRoster package",
            ),
        );
        return None;
    }
    let version = manifest.as_ref().and_then(|m| m.version);
    let users_file = shipped
        .iter()
        .find(|(e, ..)| *e == Entity::Users)
        .map(|(.., f)| *f);
    let shape = users_file.map(|file| users_shape_of(report, file, version));
    let format = match (shape, version) {
        (Some(UsersShape::V11), _) => Format::OneRoster11,
        (Some(_), _) | (None, Some(Version::V12)) => Format::OneRoster12,
        (None, _) => Format::OneRoster11,
    };
    let mut bundle = Bundle::new(format);
    bundle.modes = Entity::ALL.into_iter().map(|e| (e, Mode::Absent)).collect();
    for (entity, declared, file) in shipped {
        let mode = match entity {
            Entity::Orgs => read_into(
                report,
                file,
                &records::ORGS,
                declared,
                records::org,
                &mut bundle.orgs,
            ),
            Entity::Sessions => read_into(
                report,
                file,
                &records::SESSIONS,
                declared,
                records::session,
                &mut bundle.sessions,
            ),
            Entity::Courses => read_into(
                report,
                file,
                &records::COURSES,
                declared,
                records::course,
                &mut bundle.courses,
            ),
            Entity::Classes => read_into(
                report,
                file,
                &records::CLASSES,
                declared,
                records::class,
                &mut bundle.classes,
            ),
            Entity::Users => read_users(
                report,
                file,
                shape.unwrap_or(UsersShape::V121),
                declared,
                &mut bundle.users,
            ),
            Entity::Roles => read_into(
                report,
                file,
                &records::ROLES,
                declared,
                records::role,
                &mut bundle.roles,
            ),
            Entity::Enrollments => read_into(
                report,
                file,
                &records::ENROLLMENTS,
                declared,
                records::enrollment,
                &mut bundle.enrollments,
            ),
            Entity::Demographics => read_into(
                report,
                file,
                &records::DEMOGRAPHICS,
                declared,
                records::demographic,
                &mut bundle.demographics,
            ),
        };
        bundle.modes.insert(entity, mode);
    }
    if shape == Some(UsersShape::V11) {
        let legacy = legacy_roles(report, &bundle.users);
        bundle.roles.extend(legacy);
        if bundle.mode(Entity::Roles) == Mode::Absent {
            // The synthesised roles are as complete as the users file they come from.
            bundle
                .modes
                .insert(Entity::Roles, bundle.mode(Entity::Users));
        }
    }
    Some(bundle)
}

/// Decide users.csv's shape from its header and the manifest's version (the header wins).
fn users_shape_of(
    report: &mut Report<'_>,
    file: &SourceFile,
    declared: Option<Version>,
) -> UsersShape {
    let header = table::header(&file.text).unwrap_or_default();
    let has = |name: &str| header.iter().any(|h| h.eq_ignore_ascii_case(name));
    let only_12 = [
        "userMasterIdentifier",
        "resourceSourcedIds",
        "preferredGivenName",
        "preferredMiddleName",
        "preferredFamilyName",
        "primaryOrgSourcedId",
        "pronouns",
    ];
    let shape = if has("role") && has("orgSourcedIds") {
        UsersShape::V11
    } else if only_12.iter().any(|c| has(c)) || declared == Some(Version::V12) {
        if has("resourceSourcedIds") {
            UsersShape::V120
        } else {
            UsersShape::V121
        }
    } else {
        UsersShape::V11
    };
    let manifest_says = match declared {
        Some(Version::V11) if shape != UsersShape::V11 => Some("1.0/1.1"),
        Some(Version::V12) if shape == UsersShape::V11 => Some("1.2"),
        _ => None,
    };
    if let Some(said) = manifest_says {
        let read_as = shape.name();
        report.warn(
            "version-mismatch",
            &file.name,
            Some(1),
            None,
            Message::new(
                format!("manifest 的 oneroster.version 是 {said}，但表头是 OneRoster {read_as} 的形式；按 {read_as} 读取"),
                format!("the manifest says oneroster.version {said}, but the header has the OneRoster {read_as} shape; read as {read_as}"),
            ),
        );
    }
    shape
}

/// Read one file's records into `into`; returns the file's effective mode.
fn read_into<T>(
    report: &mut Report<'_>,
    file: &SourceFile,
    spec: &FileSpec,
    declared: Mode,
    build: impl FnMut(&mut Cells<'_, '_>) -> Option<T>,
    into: &mut Vec<Located<T>>,
) -> Mode {
    let (mode, records) = read_file(report, file, spec, declared, build);
    *into = records;
    mode
}

fn read_users(
    report: &mut Report<'_>,
    file: &SourceFile,
    shape: UsersShape,
    declared: Mode,
    into: &mut Vec<Located<User>>,
) -> Mode {
    let legacy = shape == UsersShape::V11;
    let mut blank_usernames = Vec::new();
    let (mode, users) = read_file(report, file, shape.spec(), declared, |cells| {
        records::user(cells, legacy, &mut blank_usernames)
    });
    if let Some(&first) = blank_usernames.first() {
        let n = blank_usernames.len();
        report.warn(
            "blank-username",
            &file.name,
            Some(first),
            Some("username"),
            Message::new(
                format!("有 {n} 个用户的 username 为空（家长常见），这些用户没有登录名"),
                format!(
                    "{n} users have a blank username (common for parents); they get no username"
                ),
            ),
        );
    }
    *into = users;
    mode
}

/// Read a file: shape, header, mode, then every row through `build`.
fn read_file<T>(
    report: &mut Report<'_>,
    file: &SourceFile,
    spec: &FileSpec,
    declared: Mode,
    mut build: impl FnMut(&mut Cells<'_, '_>) -> Option<T>,
) -> (Mode, Vec<Located<T>>) {
    let Some(table) = table::read(report, file).and_then(|raw| table::bind(report, raw, spec))
    else {
        return (declared, Vec::new());
    };
    if table.data_rows == 0 {
        report.warn(
            "no-rows",
            &table.file,
            Some(table.header_line),
            None,
            Message::new(
                "文件只有表头，没有数据行；没有数据的文件应在 manifest 中声明为 absent",
                "the file has a header but no data rows; a file without data should be declared absent in the manifest",
            ),
        );
    }
    let mode = effective_mode(report, &table, declared);
    if mode == Mode::Delta {
        for column in ["status", "dateLastModified"] {
            if !table.cols.contains_key(column) {
                report.error(
                    &table.file,
                    Some(table.header_line),
                    Some(column),
                    Message::new(
                        format!("delta 文件缺少 {column} 列"),
                        format!("the delta file has no {column} column"),
                    ),
                );
            }
        }
    }
    let mut seen: HashMap<&str, u64> = HashMap::default();
    let mut records = Vec::new();
    let id_at = table.cols.get("sourcedId").copied();
    for row in &table.rows {
        let id = id_at
            .and_then(|i| row.fields.get(i))
            .filter(|id| !id.is_empty());
        let mut cells = Cells {
            report: &mut *report,
            table: &table,
            line: row.line,
            fields: &row.fields,
            mode,
            failed: false,
        };
        if let Some(id) = id {
            if let Some(first) = seen.get(id.as_str()) {
                cells.error(
                    "sourcedId",
                    Message::new(
                        format!("sourcedId“{id}”与第 {first} 行重复，本行未读取"),
                        format!("sourcedId \"{id}\" duplicates line {first}; this row was skipped"),
                    ),
                );
                continue;
            }
            seen.insert(id, row.line);
        }
        if let Some(record) = build(&mut cells) {
            records.push(Located {
                file: table.file.clone(),
                line: row.line,
                record,
            });
        }
    }
    (mode, records)
}

/// The data wins over the manifest: a file declared bulk whose rows all carry a status is a
/// delta file; if only some rows do, it stays bulk and those rows' statuses still count.
fn effective_mode(report: &mut Report<'_>, table: &Table, declared: Mode) -> Mode {
    let Some(&index) = table.cols.get("status") else {
        return declared;
    };
    if declared != Mode::Bulk || table.rows.is_empty() {
        return declared;
    }
    let total = table.rows.len();
    let filled = table
        .rows
        .iter()
        .filter(|row| !row.fields[index].is_empty())
        .count();
    if filled == 0 {
        return Mode::Bulk;
    }
    let (mode, message) = if filled == total {
        (
            Mode::Delta,
            Message::new(
                "manifest 声明为 bulk，但每一行都填了 status（bulk 文件应留空）：按 delta 处理",
                "declared bulk, but every row has a status (bulk files leave it blank): read as delta",
            ),
        )
    } else {
        (
            Mode::Bulk,
            Message::new(
                format!(
                    "manifest 声明为 bulk，但 {total} 行中有 {filled} 行填了 status（bulk 文件应留空）：仍按 bulk 处理，标为 tobedeleted 的行将被停用"
                ),
                format!(
                    "declared bulk, but {filled} of {total} rows have a status (bulk files leave it blank): read as bulk, and rows marked tobedeleted are retired"
                ),
            ),
        )
    };
    report.warn("bulk-status", &table.file, None, Some("status"), message);
    mode
}

/// OneRoster 1.1 users' `role` + `orgSourcedIds` as roles: primary in the first org,
/// secondary in the others, with stable synthesised ids.
fn legacy_roles(report: &mut Report<'_>, users: &[Located<User>]) -> Vec<Located<Role>> {
    let mut roles = Vec::new();
    for located in users {
        let user = &located.record;
        let Some(kind) = &user.legacy_role else {
            continue;
        };
        let mut orgs: Vec<&SourcedId> = Vec::new();
        for org in &user.legacy_orgs {
            if !orgs.contains(&org) {
                orgs.push(org);
            }
        }
        for (index, org) in orgs.into_iter().enumerate() {
            let id = match SourcedId::parse(&format!("legacy-role:{}:{org}", user.id)) {
                Ok(id) => id,
                Err(message) => {
                    report.error(
                        &located.file,
                        Some(located.line),
                        Some("orgSourcedIds"),
                        message,
                    );
                    continue;
                }
            };
            roles.push(Located {
                file: located.file.clone(),
                line: located.line,
                record: Role {
                    id,
                    status: user.status,
                    user: user.id.clone(),
                    role_type: if index == 0 {
                        RoleType::Primary
                    } else {
                        RoleType::Secondary
                    },
                    role: kind.clone(),
                    org: org.clone(),
                    begin_date: None,
                    end_date: None,
                },
            });
        }
    }
    roles
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::roster::diagnostics::Diagnostic;
    use crate::roster::model::{ClassType, EnrollmentRole, OrgType, RoleKind, Status};

    const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/roster-samples/");

    fn sample(dir: &str) -> (Option<Bundle>, Diagnostics) {
        let mut diags = Diagnostics::default();
        let path = Path::new(SAMPLES).join(dir);
        let source = Source::read(&path, &mut diags).expect("the sample folder is readable");
        let bundle = parse(&source, &mut diags);
        (bundle, diags)
    }

    fn package(files: &[(&str, &str)]) -> (Option<Bundle>, Diagnostics) {
        let mut diags = Diagnostics::default();
        let raw = files
            .iter()
            .map(|(name, text)| ((*name).to_owned(), text.as_bytes().to_vec()))
            .collect();
        let source = Source::from_files(raw, &mut diags);
        let bundle = parse(&source, &mut diags);
        (bundle, diags)
    }

    fn find<'a>(list: &'a [Diagnostic], file: &str, text: &str) -> Vec<&'a Diagnostic> {
        list.iter()
            .filter(|d| {
                d.file == file && (d.message.en.contains(text) || d.message.zh.contains(text))
            })
            .collect()
    }

    fn all_text(diags: &Diagnostics) -> String {
        diags
            .warnings
            .iter()
            .chain(&diags.errors)
            .map(|d| format!("{} {}\n", d.message.zh, d.message.en))
            .collect()
    }

    const MANIFEST_USERS_BULK: &str =
        "propertyName,value\nmanifest.version,1.0\noneroster.version,1.2\nfile.users,bulk\n";
    const MANIFEST_USERS_DELTA: &str =
        "propertyName,value\nmanifest.version,1.0\noneroster.version,1.2\nfile.users,delta\n";
    const USERS_121: &str = "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,userMasterIdentifier,preferredGivenName,preferredMiddleName,preferredFamilyName,primaryOrgSourcedId,pronouns\n";

    /// A 1.2.1 users.csv row: the first eight columns, then 14 blank ones.
    fn user_row(id: &str, status: &str, modified: &str, enabled: &str, username: &str) -> String {
        format!(
            "{id},{status},{modified},{enabled},{username},,Given,Family{},\n",
            ",".repeat(13)
        )
    }

    #[test]
    fn moodle_delta_package_parses_cleanly() {
        let (bundle, diags) = sample("moodle-enrol_oneroster/oneroster_test_data");
        assert!(diags.errors.is_empty(), "{:#?}", diags.errors);
        let bundle = bundle.expect("a bundle");
        assert_eq!(bundle.format, Format::OneRoster12);
        assert_eq!(
            (
                bundle.users.len(),
                bundle.classes.len(),
                bundle.courses.len(),
                bundle.orgs.len()
            ),
            (1, 1, 1, 1)
        );
        assert_eq!(
            (
                bundle.roles.len(),
                bundle.enrollments.len(),
                bundle.sessions.len()
            ),
            (1, 1, 1)
        );
        assert_eq!(bundle.demographics.len(), 1);
        for entity in Entity::ALL {
            assert_eq!(bundle.mode(entity), Mode::Delta, "{entity:?}");
        }
        let user = &bundle.users[0];
        assert_eq!((user.file.as_str(), user.line), ("users.csv", 2));
        assert!(user.record.enabled);
        assert_eq!(user.record.username.as_deref(), Some("brucewayne"));
        let enabled = find(&diags.warnings, "users.csv", "TRUE");
        assert_eq!(enabled.len(), 1);
        assert_eq!(enabled[0].field.as_deref(), Some("enabledUser"));
        assert_eq!(enabled[0].line, Some(2));
        assert_eq!(bundle.roles[0].record.role, RoleKind::Student);
        assert!(
            !all_text(&diags).contains("Batman.Ru1ez"),
            "the password leaked"
        );
    }

    #[test]
    fn moodle_full_dataset_reports_its_defects() {
        let (bundle, diags) = sample("moodle-enrol_oneroster/v1p2_full_dataset");
        let bundle = bundle.expect("a bundle");
        assert_eq!(bundle.format, Format::OneRoster12);
        // d/MM/yyyy timestamps in users.csv, named by field and value.
        let bad_dates = find(&diags.errors, "users.csv", "15/06/2023");
        assert_eq!(bad_dates.len(), 1);
        assert_eq!(bad_dates[0].field.as_deref(), Some("dateLastModified"));
        assert_eq!(bad_dates[0].line, Some(7));
        assert_eq!(find(&diags.errors, "users.csv", "1/05/2023").len(), 4);
        // Only the row without a status or timestamp survives.
        assert_eq!(bundle.users.len(), 1);
        assert_eq!(bundle.users[0].record.id.as_str(), "usr-222-66778899");
        assert_eq!(bundle.mode(Entity::Users), Mode::Bulk);
        assert_eq!(
            find(&diags.warnings, "users.csv", "1 of 6 rows have a status").len(),
            0
        );
        assert_eq!(
            find(&diags.warnings, "users.csv", "5 of 6 rows have a status").len(),
            1
        );
        // roles.csv: ragged rows, a misspelt header and empty header names.
        let ragged = find(
            &diags.errors,
            "roles.csv",
            "row has 9 fields, header has 11",
        );
        assert_eq!(ragged.len(), 7);
        assert_eq!(ragged[0].line, Some(2));
        assert!(bundle.roles.is_empty());
        let typo = find(
            &diags.warnings,
            "roles.csv",
            "did you mean dateLastModified",
        );
        assert_eq!(typo.len(), 1);
        assert_eq!(typo[0].field.as_deref(), Some("dataLastModified"));
        assert_eq!(typo[0].line, Some(1));
        assert_eq!(find(&diags.warnings, "roles.csv", "has no name").len(), 2);
        let preferred = find(
            &diags.warnings,
            "users.csv",
            "did you mean preferredGivenName",
        );
        assert_eq!(preferred.len(), 1);
        assert_eq!(preferred[0].field.as_deref(), Some("prefferedGivenName"));
        assert!(
            preferred[0]
                .message
                .zh
                .contains("是不是想写 preferredGivenName")
        );
        // userprofiles.csv has a blank mode in the manifest: ignored with a warning.
        assert_eq!(
            find(&diags.warnings, "userprofiles.csv", "ignored").len(),
            1
        );
        // academicSessions.csv: every row has a status, so it is delta; `inactive` is tobedeleted.
        assert_eq!(bundle.mode(Entity::Sessions), Mode::Delta);
        assert_eq!(
            find(
                &diags.warnings,
                "academicSessions.csv",
                "every row has a status"
            )
            .len(),
            1
        );
        let inactive = bundle
            .sessions
            .iter()
            .find(|s| s.record.id.as_str() == "as-grp-222-2345")
            .expect("the inactive session");
        assert_eq!(inactive.record.status, Status::ToBeDeleted);
        assert_eq!(
            find(&diags.warnings, "academicSessions.csv", "\"inactive\"").len(),
            1
        );
        assert_eq!(
            find(&diags.warnings, "academicSessions.csv", "has a date only").len(),
            2
        );
        // classes.csv: `Scheduled`, subjects vs subjectCodes, list items with spaces.
        assert_eq!(bundle.classes.len(), 2);
        assert_eq!(bundle.classes[0].record.class_type, ClassType::Scheduled);
        assert_eq!(
            bundle.classes[0].record.subjects,
            ["Science", "Physics", "Biology"]
        );
        assert_eq!(bundle.classes[0].record.grades, ["09", "10", "11"]);
        assert_eq!(
            find(
                &diags.warnings,
                "classes.csv",
                "should be written scheduled"
            )
            .len(),
            1
        );
        assert_eq!(
            find(
                &diags.warnings,
                "classes.csv",
                "subjects has 3 items but subjectCodes has 2"
            )
            .len(),
            1
        );
        assert_eq!(bundle.orgs[0].record.org_type, OrgType::Department);
        assert_eq!(bundle.enrollments.len(), 6);
        assert!(
            !all_text(&diags).contains("Password1-"),
            "the password leaked"
        );
    }

    #[test]
    fn lms_toolkit_one_one_package_parses_cleanly() {
        let (bundle, diags) = sample("LMS-Toolkit");
        assert!(diags.errors.is_empty(), "{:#?}", diags.errors);
        let bundle = bundle.expect("a bundle");
        assert_eq!(bundle.format, Format::OneRoster11);
        assert_eq!(
            find(&diags.warnings, "manifest.csv", "manifest.version \"1\"").len(),
            1
        );
        let trailing = find(&diags.warnings, "users.csv", "trailing comma");
        assert_eq!(
            trailing.iter().map(|d| d.line).collect::<Vec<_>>(),
            [Some(10), Some(11)]
        );
        assert!(
            find(&diags.warnings, "orgs.csv", "").is_empty(),
            "metadata.* columns are fine"
        );
        // Leading zeros stay.
        assert!(
            bundle
                .courses
                .iter()
                .any(|c| c.record.id.as_str() == "03100500")
        );
        assert!(
            bundle
                .classes
                .iter()
                .any(|c| c.record.course.as_str() == "03100500")
        );
        assert_eq!(bundle.courses[0].record.grades, ["09"]);
        assert_eq!(bundle.users.len(), 10);
        assert_eq!(bundle.enrollments.len(), 24);
        assert_eq!(bundle.demographics.len(), 8);
        assert_eq!(
            (
                bundle.orgs.len(),
                bundle.sessions.len(),
                bundle.classes.len()
            ),
            (2, 3, 2)
        );
        let teacher = bundle
            .users
            .iter()
            .find(|u| u.record.id.as_str() == "207270")
            .expect("the teacher");
        assert_eq!(teacher.record.legacy_role, Some(RoleKind::Teacher));
        assert_eq!(
            teacher.record.username.as_deref(),
            Some("Kelley Heidi Christian")
        );
        assert_eq!(
            bundle.users[0].record.user_ids,
            [("Local".to_owned(), "863".to_owned())]
        );
        // Roles come from the users' role + orgSourcedIds.
        assert_eq!(bundle.roles.len(), 10);
        let role = &bundle.roles[0];
        assert_eq!(role.record.id.as_str(), "legacy-role:604863:255901001");
        assert_eq!(
            (role.record.role_type, role.record.role.clone()),
            (RoleType::Primary, RoleKind::Student)
        );
        assert_eq!((role.file.as_str(), role.line), ("users.csv", 2));
        assert_eq!(bundle.mode(Entity::Roles), Mode::Bulk);
        assert_eq!(bundle.mode(Entity::Users), Mode::Bulk);
        assert!(
            bundle
                .enrollments
                .iter()
                .any(|e| e.record.role == EnrollmentRole::Teacher && e.record.primary)
        );
    }

    #[test]
    fn a_bom_is_tolerated() {
        let users = format!(
            "\u{feff}{USERS_121}{}",
            user_row("u1", "", "", "true", "u.one")
        );
        let (bundle, diags) =
            package(&[("manifest.csv", MANIFEST_USERS_BULK), ("users.csv", &users)]);
        assert!(diags.errors.is_empty(), "{:#?}", diags.errors);
        assert_eq!(bundle.expect("a bundle").users[0].record.id.as_str(), "u1");
        assert_eq!(find(&diags.warnings, "users.csv", "BOM").len(), 1);
    }

    #[test]
    fn inactive_is_read_as_tobedeleted() {
        let users = format!(
            "{USERS_121}{}{}",
            user_row("u1", "inactive", "2024-01-01T00:00:00.000Z", "true", "a"),
            user_row("u2", "active", "2024-01-01T00:00:00Z", "false", "b"),
        );
        let (bundle, diags) = package(&[
            ("manifest.csv", MANIFEST_USERS_DELTA),
            ("users.csv", &users),
        ]);
        assert!(diags.errors.is_empty(), "{:#?}", diags.errors);
        let bundle = bundle.expect("a bundle");
        assert_eq!(bundle.users[0].record.status, Status::ToBeDeleted);
        assert_eq!(bundle.users[1].record.status, Status::Active);
        assert!(!bundle.users[1].record.enabled);
        let warning = find(&diags.warnings, "users.csv", "tobedeleted");
        assert_eq!((warning.len(), warning[0].line), (1, Some(2)));
    }

    #[test]
    fn literal_null_is_blank() {
        let users = format!("{USERS_121}u1,,,true,a,,Given,Family,,,NULL,,,,,NULL,,,,,,\n");
        let (bundle, diags) =
            package(&[("manifest.csv", MANIFEST_USERS_BULK), ("users.csv", &users)]);
        assert!(diags.errors.is_empty(), "{:#?}", diags.errors);
        assert_eq!(bundle.expect("a bundle").users[0].record.email, None);
        let null = find(&diags.warnings, "users.csv", "NULL");
        // The password column is dropped unread: only email is reported.
        assert_eq!(null.len(), 1);
        assert_eq!(
            (null[0].field.as_deref(), null[0].line),
            (Some("email"), Some(2))
        );
    }

    #[test]
    fn a_line_break_inside_a_field_is_an_error() {
        let users = format!(
            "{USERS_121}u1,,,true,a,,\"Line\nbreak\",Family{}\n{}",
            ",".repeat(14),
            user_row("u2", "", "", "true", "b")
        );
        let (bundle, diags) =
            package(&[("manifest.csv", MANIFEST_USERS_BULK), ("users.csv", &users)]);
        let errors = find(&diags.errors, "users.csv", "line break");
        assert_eq!(errors.len(), 1);
        assert_eq!(
            (errors[0].line, errors[0].field.as_deref()),
            (Some(2), Some("givenName"))
        );
        let users = bundle.expect("a bundle").users;
        assert_eq!(users.len(), 1);
        assert_eq!((users[0].record.id.as_str(), users[0].line), ("u2", 4));
    }

    #[test]
    fn a_duplicate_sourced_id_names_both_lines() {
        let users = format!(
            "{USERS_121}{}{}{}",
            user_row("u1", "", "", "true", "a"),
            user_row("u2", "", "", "true", "b"),
            user_row("u1", "", "", "true", "c"),
        );
        let (bundle, diags) =
            package(&[("manifest.csv", MANIFEST_USERS_BULK), ("users.csv", &users)]);
        assert_eq!(diags.errors.len(), 1, "{:#?}", diags.errors);
        let error = &diags.errors[0];
        assert_eq!(
            (error.file.as_str(), error.line, error.field.as_deref()),
            ("users.csv", Some(4), Some("sourcedId"))
        );
        assert!(
            error.message.en.contains("duplicates line 2"),
            "{}",
            error.message.en
        );
        assert!(error.message.zh.contains("第 2 行"));
        assert_eq!(bundle.expect("a bundle").users.len(), 2);
    }

    #[test]
    fn a_missing_required_column_is_an_error_at_the_header() {
        let users =
            "sourcedId,status,dateLastModified,enabledUser,username,familyName\nu1,,,true,a,F\n";
        let (bundle, diags) =
            package(&[("manifest.csv", MANIFEST_USERS_BULK), ("users.csv", users)]);
        assert_eq!(diags.errors.len(), 1, "{:#?}", diags.errors);
        let error = &diags.errors[0];
        assert_eq!(
            (error.file.as_str(), error.line, error.field.as_deref()),
            ("users.csv", Some(1), Some("givenName"))
        );
        assert!(error.message.en.contains("givenName"));
        assert!(bundle.expect("a bundle").users.is_empty());
    }

    #[test]
    fn a_delta_row_needs_a_status_and_a_timestamp() {
        let users = format!(
            "{USERS_121}{}{}",
            user_row("u1", "", "2024-01-01T00:00:00.000Z", "true", "a"),
            user_row("u2", "active", "", "true", "b"),
        );
        let (_, diags) = package(&[
            ("manifest.csv", MANIFEST_USERS_DELTA),
            ("users.csv", &users),
        ]);
        let fields: Vec<_> = diags
            .errors
            .iter()
            .map(|e| (e.line, e.field.as_deref()))
            .collect();
        assert_eq!(
            fields,
            [
                (Some(2), Some("status")),
                (Some(3), Some("dateLastModified"))
            ]
        );
    }

    #[test]
    fn an_unknown_enum_value_names_the_allowed_ones() {
        let manifest =
            "propertyName,value\nmanifest.version,1.0\noneroster.version,1.2\nfile.roles,bulk\n";
        let roles = "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,orgSourcedId,userProfileSourcedId\n\
                     r1,,,u1,primary,headmaster,,,o1,\n\
                     r2,,,u2,Primary,ext:headmaster,2024-09-01,2025-07-01,o1,\n";
        let (bundle, diags) = package(&[("manifest.csv", manifest), ("roles.csv", roles)]);
        assert_eq!(diags.errors.len(), 1, "{:#?}", diags.errors);
        let error = &diags.errors[0];
        assert_eq!(
            (error.line, error.field.as_deref()),
            (Some(2), Some("role"))
        );
        assert!(error.message.en.contains("\"headmaster\""));
        assert!(error.message.en.contains("teacher") && error.message.en.contains("ext:"));
        assert!(error.message.zh.contains("headmaster") && error.message.zh.contains("guardian"));
        let roles = bundle.expect("a bundle").roles;
        assert_eq!(roles.len(), 1);
        assert_eq!(roles[0].record.role, RoleKind::Ext("ext:headmaster".into()));
        assert_eq!(roles[0].record.role_type, RoleType::Primary);
        assert_eq!(
            find(&diags.warnings, "roles.csv", "should be written primary").len(),
            1
        );
    }

    #[test]
    fn a_one_two_zero_users_file_is_accepted() {
        let users = "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,userMasterIdentifier,resourceSourcedIds,preferredGivenName,preferredMiddleName,preferredFamilyName,primaryOrgSourcedId,pronouns\n\
                     s1,,,true,s.one,\"{LDAP:1}, {SIS:2}\",Xiao,Wang,,,,,,\"p1, p2\",\"01, 02\",,,\"res1,res2\",小,,,o1,\n";
        let (bundle, diags) =
            package(&[("manifest.csv", MANIFEST_USERS_BULK), ("users.csv", users)]);
        assert!(diags.errors.is_empty(), "{:#?}", diags.errors);
        assert!(diags.warnings.is_empty(), "{:#?}", diags.warnings);
        let bundle = bundle.expect("a bundle");
        assert_eq!(bundle.format, Format::OneRoster12);
        let user = &bundle.users[0].record;
        assert_eq!(user.preferred_given_name.as_deref(), Some("小"));
        assert_eq!(
            user.agents
                .iter()
                .map(SourcedId::as_str)
                .collect::<Vec<_>>(),
            ["p1", "p2"]
        );
        assert_eq!(user.grades, ["01", "02"]);
        assert_eq!(user.user_ids.len(), 2);
        assert_eq!(user.primary_org.as_ref().map(SourcedId::as_str), Some("o1"));
    }

    #[test]
    fn identical_warnings_are_capped_at_twenty_plus_a_summary() {
        let rows: String = (0..25)
            .map(|i| user_row(&format!("u{i}"), "", "", "TRUE", "x"))
            .collect();
        let users = format!("{USERS_121}{rows}");
        let (bundle, diags) =
            package(&[("manifest.csv", MANIFEST_USERS_BULK), ("users.csv", &users)]);
        assert!(diags.errors.is_empty(), "{:#?}", diags.errors);
        assert_eq!(bundle.expect("a bundle").users.len(), 25);
        assert_eq!(find(&diags.warnings, "users.csv", "\"TRUE\"").len(), 20);
        let summary = find(
            &diags.warnings,
            "users.csv",
            "and 5 more warnings like this",
        );
        assert_eq!(summary.len(), 1);
        assert!(summary[0].message.zh.contains("还有 5 条同类警告"));
        assert_eq!(diags.warnings.len(), 21);
    }

    #[test]
    fn values_are_checked() {
        let manifest = "propertyName,value\nmanifest.version,1.0\noneroster.version,1.2\nfile.academicSessions,bulk\nfile.demographics,bulk\nfile.enrollments,bulk\n";
        let sessions = "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear\n\
                        y1,,,2025-2026学年,schoolYear,2025-09-01,2026-09-01,,2026\n\
                        y2,,,Bad,schoolYear,15/06/2023,2026-09-01,,26\n";
        let demographics = "sourcedId,status,dateLastModified,birthDate,sex\n\
                            u1,,,2012-03-04,female\n\
                            u2,,,,Male\n\
                            u3,,,,x\n";
        let enrollments = "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate\n\
                           e1,,,c1,o1,u1,teacher,1,,\n\
                           e2,,,c1,o1,u2,student,maybe,,\n\
                           e3,,,c1,o1,u3,parent,,,\n\
                           e4,,,c1,o1,u 4,student,,,\n";
        let (bundle, diags) = package(&[
            ("manifest.csv", manifest),
            ("academicSessions.csv", sessions),
            ("demographics.csv", demographics),
            ("enrollments.csv", enrollments),
        ]);
        let bundle = bundle.expect("a bundle");
        let errors: Vec<_> = diags
            .errors
            .iter()
            .map(|e| (e.file.as_str(), e.line, e.field.as_deref()))
            .collect();
        assert_eq!(
            errors,
            [
                ("academicSessions.csv", Some(3), Some("startDate")),
                ("academicSessions.csv", Some(3), Some("schoolYear")),
                ("enrollments.csv", Some(3), Some("primary")),
                ("enrollments.csv", Some(4), Some("role")),
                ("enrollments.csv", Some(5), Some("userSourcedId")),
                ("demographics.csv", Some(4), Some("sex")),
            ]
        );
        assert!(
            diags.errors[0].message.en.contains("15/06/2023")
                && diags.errors[0].message.en.contains("YYYY-MM-DD")
        );
        assert_eq!(bundle.sessions.len(), 1);
        assert_eq!(bundle.sessions[0].record.school_year, 2026);
        assert_eq!(bundle.demographics.len(), 2);
        assert_eq!(bundle.enrollments.len(), 1);
        assert!(bundle.enrollments[0].record.primary);
        assert_eq!(
            find(&diags.warnings, "enrollments.csv", "read as true").len(),
            1
        );
    }

    #[test]
    fn the_manifest_is_checked_against_the_files() {
        let manifest = "propertyName,value\nmanifest.version,1.0\noneroster.version,1.2\n\
                        file.users,bulk\nfile.orgs,absent\nfile.classes,bulk\nfile.roles,sometimes\n";
        let users = format!("{USERS_121}{}", user_row("u1", "", "", "true", "a"));
        let orgs = "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\no1,,,School,school,,\n";
        let (bundle, diags) = package(&[
            ("manifest.csv", manifest),
            ("users.csv", &users),
            ("orgs.csv", orgs),
        ]);
        let bundle = bundle.expect("a bundle");
        let missing = find(&diags.errors, "manifest.csv", "classes.csv");
        assert_eq!((missing.len(), missing[0].line), (1, Some(6)));
        let mode = find(&diags.errors, "manifest.csv", "sometimes");
        assert_eq!(mode[0].field.as_deref(), Some("file.roles"));
        assert_eq!(find(&diags.warnings, "orgs.csv", "absent").len(), 1);
        assert!(bundle.orgs.is_empty());
        assert_eq!(bundle.mode(Entity::Orgs), Mode::Absent);
        assert_eq!(bundle.users.len(), 1);
    }

    #[test]
    fn without_a_manifest_files_are_bulk_one_one() {
        let users = "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\n\
                     a1,,,true,\"o1, o2,o1\",administrator,,,Li,Ming,,,,,,,,secret\n";
        let (bundle, diags) = package(&[("users.csv", users)]);
        assert!(diags.errors.is_empty(), "{:#?}", diags.errors);
        assert_eq!(find(&diags.warnings, "manifest.csv", "missing").len(), 1);
        assert_eq!(
            find(&diags.warnings, "users.csv", "blank username").len(),
            1
        );
        let bundle = bundle.expect("a bundle");
        assert_eq!(bundle.format, Format::OneRoster11);
        assert_eq!(bundle.mode(Entity::Users), Mode::Bulk);
        let user = &bundle.users[0].record;
        assert_eq!(user.username, None);
        assert_eq!(user.legacy_role, Some(RoleKind::Administrator));
        let roles: Vec<_> = bundle
            .roles
            .iter()
            .map(|r| {
                (
                    r.record.id.as_str(),
                    r.record.role_type,
                    r.record.org.as_str(),
                )
            })
            .collect();
        assert_eq!(
            roles,
            [
                ("legacy-role:a1:o1", RoleType::Primary, "o1"),
                ("legacy-role:a1:o2", RoleType::Secondary, "o2"),
            ]
        );
        assert!(!all_text(&diags).contains("secret"));
    }

    #[test]
    fn nothing_usable_is_none() {
        let (bundle, diags) = package(&[("students.csv", "姓名,学号\n张三,001\n")]);
        assert!(bundle.is_none());
        assert!(diags.has_errors());
    }

    #[test]
    fn headers_are_matched_by_name() {
        let users = "SourcedId,enabledUser,givenName,familyName,username,status,agentSourceIds,metadata.cn.class\n\
                     u1,true,G,F,a,,p1,3班\n";
        let (bundle, diags) =
            package(&[("manifest.csv", MANIFEST_USERS_BULK), ("users.csv", users)]);
        assert!(diags.errors.is_empty(), "{:#?}", diags.errors);
        assert_eq!(
            bundle.expect("a bundle").users[0]
                .record
                .username
                .as_deref(),
            Some("a")
        );
        assert_eq!(
            find(&diags.warnings, "users.csv", "should be written sourcedId").len(),
            1
        );
        assert_eq!(
            find(&diags.warnings, "users.csv", "did you mean agentSourcedIds").len(),
            1
        );
        assert_eq!(find(&diags.warnings, "users.csv", "spec's order").len(), 1);
        assert!(find(&diags.warnings, "users.csv", "metadata.cn").is_empty());
    }

    #[test]
    fn a_file_without_rows_is_a_warning() {
        let (bundle, diags) = package(&[
            ("manifest.csv", MANIFEST_USERS_BULK),
            ("users.csv", USERS_121),
        ]);
        assert!(diags.errors.is_empty(), "{:#?}", diags.errors);
        assert!(bundle.expect("a bundle").users.is_empty());
        assert_eq!(find(&diags.warnings, "users.csv", "no data rows").len(), 1);
    }

    #[test]
    fn packages_are_recognised() {
        let mut diags = Diagnostics::default();
        let one = |name: &str, text: &str, diags: &mut Diagnostics| {
            Source::from_files(vec![(name.to_owned(), text.as_bytes().to_vec())], diags)
        };
        assert!(looks_like(&one(
            "manifest.csv",
            "propertyName,value\n",
            &mut diags
        )));
        assert!(looks_like(&one("users.csv", USERS_121, &mut diags)));
        assert!(!looks_like(&one("users.csv", "姓名,学号\n", &mut diags)));
        assert!(!looks_like(&one("students.csv", "sourcedId\n", &mut diags)));
    }
}
