//! The Chinese school roster CSV set ("cn-roster v1"): schools.csv, classes.csv (行政班),
//! students.csv, guardians.csv, teachers.csv and teaching.csv (任课), as documented with an
//! example in `assets/cn-roster-example/README.md`.
//!
//! Every file is optional; a supplied file is the whole truth for what it carries. Rows become
//! the OneRoster-shaped records of [`Bundle`]: schools and districts become orgs, each 学年 a
//! school-year session, each school/year/grade a course, each 行政班 a homeroom class, and
//! students, guardians and teachers users with roles, enrollments, demographics and explicit
//! guardian links (GB/T 4761 relation). Identifiers the format lacks are synthesised from the
//! ones it has (`cn-course:{school}:{year}:{grade}`, `cn-guardian:{phone}` …) so re-imports
//! match. The 全国学籍号 is kept only in `user_ids` and never appears in ids or messages.

mod columns;
mod grades;
mod guardians;
mod names;
mod orgs;
mod students;
mod table;
mod teachers;
mod values;

#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};

use columns::FileSpec;
use table::{Loaded, RowRef};

use super::diagnostics::{Diagnostics, Message};
use super::model::{
    Bundle, Entity, Format, Located, Mode, Role, RoleKind, RoleType, SourcedId, Status, User,
};
use super::report::Report;
use super::source::Source;

/// Parse a Chinese school roster CSV set. None only when it is not such a set at all.
///
/// "Not such a set" means none of schools.csv, students.csv, guardians.csv, teachers.csv or
/// teaching.csv is in the package (classes.csv alone is OneRoster's). Otherwise the bundle is
/// returned with whatever problems were found in `diags`; callers must not apply it when
/// `diags.has_errors()`.
pub fn parse(source: &Source, diags: &mut Diagnostics) -> Option<Bundle> {
    let ours = [
        &columns::SCHOOLS,
        &columns::STUDENTS,
        &columns::GUARDIANS,
        &columns::TEACHERS,
        &columns::TEACHING,
    ];
    if !ours.iter().any(|spec| find(source, spec.name).is_some()) {
        return None;
    }
    let mut ctx = Ctx::new(Report::new(diags));
    let schools = table::load(source, &columns::SCHOOLS, &mut ctx.report);
    orgs::schools(&mut ctx, &schools);
    let teachers = table::load(source, &columns::TEACHERS, &mut ctx.report);
    teachers::teachers(&mut ctx, &teachers);
    let classes = table::load(source, &columns::CLASSES, &mut ctx.report);
    orgs::classes(&mut ctx, &classes);
    let students = table::load(source, &columns::STUDENTS, &mut ctx.report);
    let inline = students::students(&mut ctx, &students);
    let guardians = table::load(source, &columns::GUARDIANS, &mut ctx.report);
    let inline_used = guardians::guardians(&mut ctx, &guardians, inline);
    let teaching = table::load(source, &columns::TEACHING, &mut ctx.report);
    teachers::teaching(&mut ctx, &teaching);

    let supplied = Supplied {
        schools: schools.supplied(),
        classes: classes.supplied(),
        head_teachers: matches!(&classes, Loaded::Table(t) if t.has("head_teacher_id"))
            || matches!(classes, Loaded::Broken),
        students: students.supplied(),
        guardians: guardians.supplied() || inline_used,
        teachers: teachers.supplied(),
        teaching: teaching.supplied(),
    };
    ctx.bundle.modes = supplied.modes();
    ctx.report.finish();
    Some(ctx.bundle)
}

/// Whether the package looks like a Chinese roster (has students.csv or schools.csv with our
/// headers: an id and a name column, in English or Chinese).
pub fn looks_like(source: &Source) -> bool {
    let has_headers = |spec: &FileSpec, needed: [&str; 2]| {
        let Some(file) = find(source, spec.name) else {
            return false;
        };
        let header = file.text.lines().next().unwrap_or("");
        let separator = if header.contains(',') { ',' } else { '\t' };
        let found: HashSet<String> = header
            .split(separator)
            .filter_map(|h| table::canonical(spec, h.trim_matches('"')))
            .collect();
        needed.iter().all(|n| found.contains(*n))
    };
    has_headers(&columns::STUDENTS, ["student_id", "name"])
        || has_headers(&columns::SCHOOLS, ["school_id", "school_name"])
}

/// A file of the package by name, in any case (without `Source::file`'s warning).
fn find<'s>(source: &'s Source, name: &str) -> Option<&'s super::source::SourceFile> {
    source
        .files
        .iter()
        .find(|f| f.name.eq_ignore_ascii_case(name))
}

/// Which files the package supplied, to decide each entity's mode.
struct Supplied {
    schools: bool,
    classes: bool,
    head_teachers: bool,
    students: bool,
    guardians: bool,
    teachers: bool,
    teaching: bool,
}

impl Supplied {
    /// A supplied file is the whole truth for what it carries. Orgs come only from
    /// schools.csv, sessions/courses/classes only from classes.csv: bulk or absent. Users,
    /// roles, enrollments and demographics are shared by several files, and a mode is per
    /// entity, so they are bulk only when every file carrying them was supplied; with some
    /// of them they are delta (upsert what is there, retire only rows marked 转出 …), so that
    /// sending students.csv alone never retires the teachers.
    fn modes(&self) -> std::collections::BTreeMap<Entity, Mode> {
        let only = |supplied: bool| if supplied { Mode::Bulk } else { Mode::Absent };
        let shared = |parts: &[bool]| {
            if parts.iter().all(|p| *p) {
                Mode::Bulk
            } else if parts.iter().any(|p| *p) {
                Mode::Delta
            } else {
                Mode::Absent
            }
        };
        let people = [self.students, self.guardians, self.teachers];
        [
            (Entity::Orgs, only(self.schools)),
            (Entity::Sessions, only(self.classes)),
            (Entity::Courses, only(self.classes)),
            (Entity::Classes, only(self.classes)),
            (Entity::Users, shared(&people)),
            (Entity::Roles, shared(&people)),
            (
                Entity::Enrollments,
                shared(&[self.students, self.teaching, self.head_teachers]),
            ),
            (
                Entity::Demographics,
                shared(&[self.students, self.teachers]),
            ),
        ]
        .into_iter()
        .collect()
    }
}

/// What a teacher row established, for the files that refer to teachers.
struct TeacherInfo {
    /// `None` when the row's school was unusable (reported).
    school: Option<SourcedId>,
    status: Status,
    phone: Option<String>,
}

/// What a class row established.
struct ClassInfo {
    /// `None` when the row's school or grade was unusable (reported).
    school: Option<SourcedId>,
    grade: Option<grades::Grade>,
}

/// What a student row established.
struct StudentInfo {
    /// `None` when the school could not be determined (reported).
    school: Option<SourcedId>,
    status: Status,
    name: String,
}

/// Ids defined by a file, or `None` when the file is absent or broken: references to it are
/// then not checked here (the importer checks them against the database).
type Known<T> = Option<HashMap<SourcedId, T>>;

/// A reference looked up in a [`Known`] set.
enum Lookup<'a, T> {
    Found(&'a T),
    Missing,
    Unchecked,
}

fn lookup<'a, T>(known: &'a Known<T>, id: &SourcedId) -> Lookup<'a, T> {
    match known {
        None => Lookup::Unchecked,
        Some(map) => map.get(id).map_or(Lookup::Missing, Lookup::Found),
    }
}

/// Everything the per-file steps share while building the bundle.
struct Ctx<'d> {
    report: Report<'d>,
    bundle: Bundle,
    schools: Known<()>,
    teachers: Known<TeacherInfo>,
    classes: Known<ClassInfo>,
    students: Known<StudentInfo>,
    /// Whether classes.csv was in the package (even if unusable).
    classes_file: bool,
    users: HashMap<SourcedId, usize>,
    roles: HashMap<SourcedId, usize>,
    /// (user, org) pairs that already have their one primary role.
    primary: HashSet<(SourcedId, SourcedId)>,
}

impl<'d> Ctx<'d> {
    fn new(report: Report<'d>) -> Ctx<'d> {
        Ctx {
            report,
            bundle: Bundle::new(Format::CnRoster),
            schools: None,
            teachers: None,
            classes: None,
            students: None,
            classes_file: false,
            users: HashMap::new(),
            roles: HashMap::new(),
            primary: HashSet::new(),
        }
    }

    fn add_user(&mut self, file: &str, line: u64, user: User) {
        self.users.insert(user.id.clone(), self.bundle.users.len());
        self.bundle.users.push(Located {
            file: file.to_owned(),
            line,
            record: user,
        });
    }

    fn user_mut(&mut self, id: &SourcedId) -> Option<&mut User> {
        let at = *self.users.get(id)?;
        self.bundle.users.get_mut(at).map(|u| &mut u.record)
    }

    /// Add the role `cn-role:{user}:{org}:{suffix}` once. The first role of a user in an org is
    /// the primary one, later ones secondary. Seen again, an active row re-activates it.
    fn add_role(
        &mut self,
        at: (&str, u64),
        user: &SourcedId,
        org: &SourcedId,
        role: RoleKind,
        status: Status,
    ) {
        let suffix = match &role {
            RoleKind::Student => "student",
            RoleKind::Teacher => "teacher",
            RoleKind::Parent => "parent",
            RoleKind::Guardian => "guardian",
            _ => "relative",
        };
        let Some(id) = synthesise(
            &format!("cn-role:{user}:{org}:{suffix}"),
            &mut self.report,
            at,
        ) else {
            return;
        };
        if let Some(&existing) = self.roles.get(&id) {
            if let Some(existing) = self.bundle.roles.get_mut(existing)
                && status == Status::Active
            {
                existing.record.status = Status::Active;
            }
            return;
        }
        let role_type = if self.primary.insert((user.clone(), org.clone())) {
            RoleType::Primary
        } else {
            RoleType::Secondary
        };
        self.roles.insert(id.clone(), self.bundle.roles.len());
        self.bundle.roles.push(Located {
            file: at.0.to_owned(),
            line: at.1,
            record: Role {
                id,
                status,
                user: user.clone(),
                role_type,
                role,
                org: org.clone(),
                begin_date: None,
                end_date: None,
            },
        });
    }
}

/// A synthesised id. Built from ids that already parsed, it can only fail on length (ids near
/// 255 characters); that is reported rather than truncated, which could collide.
fn synthesise(id: &str, report: &mut Report, at: (&str, u64)) -> Option<SourcedId> {
    match SourcedId::parse(id) {
        Ok(id) => Some(id),
        Err(message) => {
            report.error(
                at.0,
                Some(at.1),
                None,
                Message::new(
                    format!("无法生成内部标识：{}", message.zh),
                    format!("cannot build an internal identifier: {}", message.en),
                ),
            );
            None
        }
    }
}

/// A user with the fields every format fills; the caller adds contact details and links.
fn new_user(id: SourcedId, status: Status, name: names::SplitName) -> User {
    User {
        id,
        status,
        enabled: true,
        username: None,
        user_ids: Vec::new(),
        given_name: name.given,
        family_name: name.family,
        middle_name: None,
        preferred_given_name: None,
        preferred_family_name: None,
        identifier: None,
        email: None,
        sms: None,
        phone: None,
        agents: Vec::new(),
        grades: Vec::new(),
        primary_org: None,
        legacy_role: None,
        legacy_orgs: Vec::new(),
    }
}

/// A required mobile number, normalised; several numbers in one cell give the first, with a
/// warning.
fn phone(row: &RowRef, column: &str, report: &mut Report) -> Option<String> {
    let raw = row.required(column, report)?;
    match values::phone(raw) {
        Ok(phone) => {
            if phone.several {
                row.warn(
                    column,
                    "several_phones",
                    report,
                    Message::new(
                        format!("一格里有多个手机号，使用第一个 {}", phone.number),
                        format!(
                            "the cell holds several mobile numbers; the first, {}, is used",
                            phone.number
                        ),
                    ),
                );
            }
            Some(phone.number)
        }
        Err(message) => {
            row.error(column, report, message);
            None
        }
    }
}
