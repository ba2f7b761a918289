//! students.csv → student users with their role at the class's school, their enrollment in the
//! 行政班 and their demographics; the single-sheet guardian columns are handed on to
//! `guardians.rs`.

use std::collections::HashMap;

use super::columns::{INLINE_FIELDS, INLINE_MAX};
use super::guardians::{Inline, Pending};
use super::names;
use super::orgs::{check_school, duplicate, unknown};
use super::table::{Loaded, RowRef};
use super::values;
use super::{Ctx, Lookup, StudentInfo, lookup, new_user, synthesise};
use crate::roster::diagnostics::Message;
use crate::roster::model::{
    Demographic, Enrollment, EnrollmentRole, Located, RoleKind, SourcedId, Status,
};
use crate::roster::report::Report;

/// The `user_ids` type of the 全国学籍号 (sensitive: it embeds the ID-card number).
pub(super) const NATIONAL_STUDENT_NO: &str = "CN-XJH";
/// The `user_ids` type of the 班内学号 (the model has no per-enrollment field for it).
pub(super) const SEAT_NO: &str = "CN-SEAT";

/// Read students.csv. Returns its single-sheet guardians, for `guardians.rs`.
pub(super) fn students<'t>(ctx: &mut Ctx, loaded: &'t Loaded) -> Inline<'t> {
    let Loaded::Table(table) = loaded else {
        return Inline::default();
    };
    let groups: Vec<u8> = (1..=INLINE_MAX)
        .filter(|n| {
            INLINE_FIELDS
                .iter()
                .any(|f| table.has(&format!("guardian{n}_{f}")))
        })
        .collect();
    if !ctx.classes_file && !table.has("school_id") {
        ctx.report.error(
            &table.file,
            Some(1),
            Some("school_id"),
            Message::new(
                "没有 classes.csv 时，需要 school_id 列来确定学生所属的学校",
                "without classes.csv, the school_id column is needed to know each student's school",
            ),
        );
    }
    let mut known: HashMap<SourcedId, StudentInfo> = HashMap::new();
    let mut lines: HashMap<SourcedId, u64> = HashMap::new();
    let mut national: HashMap<String, u64> = HashMap::new();
    let mut pending = Vec::new();
    for row in table.rows() {
        let report = &mut ctx.report;
        let id = row.id("student_id", report);
        let name = row.required("name", report);
        let class = row.id("class_id", report);
        if let Some(id) = &id
            && let Some(first) = lines.get(id)
        {
            row.error("student_id", report, duplicate(*first));
            continue;
        }
        let explicit = row.opt_id("school_id", report);
        if let Some(school) = &explicit {
            check_school(&row, &ctx.schools, report, school);
        }
        let (school, grade) = match class.as_ref().map(|c| (c, lookup(&ctx.classes, c))) {
            Some((_, Lookup::Found(info))) => {
                if let (Some(explicit), Some(of_class)) = (&explicit, &info.school)
                    && explicit != of_class
                {
                    row.error(
                        "school_id",
                        report,
                        Message::new(
                            format!("与班级所属的学校“{of_class}”不一致"),
                            format!("differs from the class's school \"{of_class}\""),
                        ),
                    );
                }
                (info.school.clone(), info.grade)
            }
            Some((class, Lookup::Missing)) => {
                row.error(
                    "class_id",
                    report,
                    unknown("班级编号", "class id", class, "classes.csv"),
                );
                (explicit, None)
            }
            _ => (explicit, None),
        };
        let sex = row.get("gender").and_then(|raw| {
            values::sex(raw)
                .map_err(|m| row.error("gender", report, m))
                .ok()
        });
        let birth_date = row.get("birth_date").and_then(|raw| {
            values::date(raw)
                .map_err(|m| row.error("birth_date", report, m))
                .ok()
        });
        let mut user_ids = Vec::new();
        if let Some(number) = national_student_no(&row, report, &mut national) {
            user_ids.push((NATIONAL_STUDENT_NO.to_owned(), number));
        }
        if let Some(seat) = row.get("seat_no") {
            if values::is_scientific(seat) {
                row.error("seat_no", report, values::excel_number_message());
            } else {
                user_ids.push((SEAT_NO.to_owned(), seat.to_owned()));
            }
        }
        let status = row
            .get("status")
            .map_or(Ok(Status::Active), values::student_status);
        let status = status.unwrap_or_else(|m| {
            row.error("status", report, m);
            Status::Active
        });
        let Some(id) = id else { continue };
        lines.insert(id.clone(), row.line());
        known.insert(
            id.clone(),
            StudentInfo {
                school: school.clone(),
                status,
                name: name.unwrap_or_default().to_owned(),
            },
        );
        for n in &groups {
            let filled = INLINE_FIELDS
                .iter()
                .any(|f| row.get(&format!("guardian{n}_{f}")).is_some());
            if filled {
                pending.push(Pending {
                    row,
                    student: Some(id.clone()),
                    inline: Some(*n),
                });
            }
        }
        if let Lookup::Found(_) = lookup(&ctx.teachers, &id) {
            row.error(
                "student_id",
                report,
                Message::new(
                    format!("学生编号“{id}”与 teachers.csv 中的教师工号相同；学生和教师不能共用编号"),
                    format!("the student id \"{id}\" is also a teacher id in teachers.csv; they must differ"),
                ),
            );
            continue;
        }
        let Some(name) = name else { continue };
        let split = names::from_parts(name, row.get("family_name"), row.get("given_name"));
        if let Some(note) = &split.note {
            row.warn("name", "name_kept_whole", report, note.clone());
        }
        let mut user = new_user(id.clone(), status, split);
        user.user_ids = user_ids;
        user.grades = grade.map(|g| g.code()).into_iter().collect();
        user.primary_org = school.clone();
        let at = (table.file.as_str(), row.line());
        ctx.add_user(at.0, at.1, user);
        if sex.is_some() || birth_date.is_some() {
            ctx.bundle.demographics.push(Located {
                file: table.file.clone(),
                line: row.line(),
                record: Demographic {
                    user: id.clone(),
                    status,
                    birth_date,
                    sex,
                },
            });
        }
        let Some(school) = school else { continue };
        ctx.add_role(at, &id, &school, RoleKind::Student, status);
        let Some(class) = class else { continue };
        let Some(enrollment) =
            synthesise(&format!("cn-enr:{class}:{id}:student"), &mut ctx.report, at)
        else {
            continue;
        };
        ctx.bundle.enrollments.push(Located {
            file: table.file.clone(),
            line: row.line(),
            record: Enrollment {
                id: enrollment,
                status,
                class,
                school,
                user: id,
                role: EnrollmentRole::Student,
                primary: false,
                begin_date: None,
                end_date: None,
                subject: None,
            },
        });
    }
    ctx.students = Some(known);
    Inline {
        rows: pending,
        file: (!groups.is_empty()).then(|| table.file.clone()),
    }
}

/// The 全国学籍号, upper-cased. Its value is never put into a message.
fn national_student_no(
    row: &RowRef,
    report: &mut Report,
    seen: &mut HashMap<String, u64>,
) -> Option<String> {
    const COLUMN: &str = "national_student_no";
    let raw = row.get(COLUMN)?;
    if values::is_scientific(raw) {
        row.error(COLUMN, report, values::excel_number_message());
        return None;
    }
    let number = raw.to_uppercase();
    if !values::looks_like_national_student_no(&number) {
        row.warn(
            COLUMN,
            "national_student_no_format",
            report,
            Message::new(
                "全国学籍号的格式不像学籍号（应为 G、J 或 L 加 18 位数字，末位可为 X），已按原样保存",
                "the national student number does not have the usual shape (G, J or L and 18 digits, \
                 the last may be X); it was kept as written",
            ),
        );
    }
    if let Some(first) = seen.get(&number) {
        row.error(
            COLUMN,
            report,
            Message::new(
                format!("与第 {first} 行学生的全国学籍号相同"),
                format!("the same national student number as the student on line {first}"),
            ),
        );
        return None;
    }
    seen.insert(number.clone(), row.line());
    Some(number)
}
