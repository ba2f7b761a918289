//! teachers.csv → teacher users with their role at their school; teaching.csv (任课) → one
//! teacher enrollment per class and subject.

use std::collections::HashMap;

use super::names;
use super::orgs::{check_school, duplicate, unknown};
use super::table::{Loaded, RowRef};
use super::values;
use super::{Ctx, Lookup, TeacherInfo, lookup, new_user, phone, synthesise};
use crate::roster::diagnostics::Message;
use crate::roster::model::{
    Demographic, Enrollment, EnrollmentRole, Located, RoleKind, SourcedId, Status,
};
use crate::roster::report::Report;

pub(super) fn teachers(ctx: &mut Ctx, loaded: &Loaded) {
    let Loaded::Table(table) = loaded else {
        return;
    };
    let mut known: HashMap<SourcedId, TeacherInfo> = HashMap::new();
    let mut lines: HashMap<SourcedId, u64> = HashMap::new();
    let mut phones: HashMap<String, u64> = HashMap::new();
    for row in table.rows() {
        let report = &mut ctx.report;
        let id = row.id("teacher_id", report);
        let name = row.required("name", report);
        let mobile = phone(&row, "phone", report);
        let school = row.id("school_id", report);
        if let Some(school) = &school {
            check_school(&row, &ctx.schools, report, school);
        }
        let sex = row.get("gender").and_then(|raw| {
            values::sex(raw)
                .map_err(|m| row.error("gender", report, m))
                .ok()
        });
        let email = email(&row, report);
        let status = row
            .get("status")
            .map_or(Ok(Status::Active), values::teacher_status);
        let status = status.unwrap_or_else(|m| {
            row.error("status", report, m);
            Status::Active
        });
        let Some(id) = id else { continue };
        if let Some(first) = lines.get(&id) {
            row.error("teacher_id", report, duplicate(*first));
            continue;
        }
        lines.insert(id.clone(), row.line());
        if let Some(mobile) = &mobile
            && let Some(first) = phones.insert(mobile.clone(), row.line())
        {
            row.warn(
                "phone",
                "teacher_phone_shared",
                report,
                Message::new(
                    format!("与第 {first} 行教师的手机号相同"),
                    format!("the same mobile number as the teacher on line {first}"),
                ),
            );
        }
        known.insert(
            id.clone(),
            TeacherInfo {
                school: school.clone(),
                status,
                phone: mobile.clone(),
            },
        );
        let Some(name) = name else { continue };
        let split = names::from_parts(name, row.get("family_name"), row.get("given_name"));
        if let Some(note) = &split.note {
            row.warn("name", "name_kept_whole", report, note.clone());
        }
        let mut user = new_user(id.clone(), status, split);
        user.sms.clone_from(&mobile);
        user.phone = mobile;
        user.email = email;
        user.primary_org = school.clone();
        let at = (table.file.as_str(), row.line());
        ctx.add_user(at.0, at.1, user);
        if sex.is_some() {
            ctx.bundle.demographics.push(Located {
                file: table.file.clone(),
                line: row.line(),
                record: Demographic {
                    user: id.clone(),
                    status,
                    birth_date: None,
                    sex,
                },
            });
        }
        if let Some(school) = school {
            ctx.add_role(at, &id, &school, RoleKind::Teacher, status);
        }
    }
    ctx.teachers = Some(known);
}

/// An e-mail address that at least looks like one; otherwise dropped with a warning.
fn email(row: &RowRef, report: &mut Report) -> Option<String> {
    let value = row.get("email")?;
    let plausible = value.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
    }) && !value.contains(char::is_whitespace);
    if plausible {
        return Some(value.to_owned());
    }
    row.warn(
        "email",
        "email_format",
        report,
        Message::new(
            format!("邮箱“{value}”格式不对，已忽略"),
            format!("the e-mail address \"{value}\" is malformed; it was ignored"),
        ),
    );
    None
}

pub(super) fn teaching(ctx: &mut Ctx, loaded: &Loaded) {
    let Loaded::Table(table) = loaded else {
        return;
    };
    let mut lines: HashMap<(SourcedId, SourcedId, String), u64> = HashMap::new();
    for row in table.rows() {
        let report = &mut ctx.report;
        let teacher = row.id("teacher_id", report);
        let class = row.id("class_id", report);
        let subject = row
            .required("subject", report)
            .and_then(|raw| subject(&row, raw, report));
        let explicit = row.opt_id("school_id", report);
        if let Some(school) = &explicit {
            check_school(&row, &ctx.schools, report, school);
        }
        let (mut school, mut status) = (None, Status::Active);
        if let Some(teacher) = &teacher {
            match lookup(&ctx.teachers, teacher) {
                Lookup::Found(info) => (school, status) = (info.school.clone(), info.status),
                Lookup::Missing => {
                    row.error(
                        "teacher_id",
                        report,
                        unknown("工号", "teacher id", teacher, "teachers.csv"),
                    );
                }
                Lookup::Unchecked => {}
            }
        }
        let teacher_school = school.clone();
        if let Some(class) = &class {
            match lookup(&ctx.classes, class) {
                Lookup::Found(info) => school = info.school.clone(),
                Lookup::Missing => {
                    row.error(
                        "class_id",
                        report,
                        unknown("班级编号", "class id", class, "classes.csv"),
                    );
                }
                Lookup::Unchecked => school = explicit.or(school),
            }
        }
        let (Some(teacher), Some(class), Some(subject)) = (teacher, class, subject) else {
            continue;
        };
        let key = (teacher.clone(), class.clone(), subject.clone());
        if let Some(first) = lines.get(&key) {
            row.error(
                "subject",
                report,
                Message::new(
                    format!("与第 {first} 行重复：同一教师、同一班级、同一学科只能有一行"),
                    format!("duplicates line {first}: one row per teacher, class and subject"),
                ),
            );
            continue;
        }
        lines.insert(key, row.line());
        let Some(school) = school else {
            if !ctx.classes_file {
                row.error(
                    "class_id",
                    report,
                    Message::new(
                        "无法确定班级所属的学校：请一并提供 classes.csv，或在本文件中加 school_id 列",
                        "the class's school is unknown: supply classes.csv too, or add a school_id column",
                    ),
                );
            }
            continue;
        };
        let at = (table.file.as_str(), row.line());
        if teacher_school.is_some_and(|own| own != school) {
            ctx.add_role(at, &teacher, &school, RoleKind::Teacher, status);
        }
        let Some(id) = synthesise(
            &format!("cn-enr:{class}:{teacher}:teacher:{subject}"),
            &mut ctx.report,
            at,
        ) else {
            continue;
        };
        ctx.bundle.enrollments.push(Located {
            file: table.file.clone(),
            line: row.line(),
            record: Enrollment {
                id,
                status,
                class,
                school,
                user: teacher,
                role: EnrollmentRole::Teacher,
                primary: false,
                begin_date: None,
                end_date: None,
                subject: Some(subject),
            },
        });
    }
}

/// One subject per row, without spaces (it becomes part of the enrollment's id).
fn subject(row: &RowRef, raw: &str, report: &mut Report) -> Option<String> {
    if values::list(raw).len() > 1 {
        row.error(
            "subject",
            report,
            Message::new(
                "每行只能有一个学科；教多个学科请分成多行",
                "one subject per row; use a row per subject",
            ),
        );
        return None;
    }
    let subject: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
    if subject.contains(['"', '\'']) {
        row.error(
            "subject",
            report,
            Message::new(
                "学科名称中不能有引号",
                "the subject must not contain quotes",
            ),
        );
        return None;
    }
    Some(subject)
}
