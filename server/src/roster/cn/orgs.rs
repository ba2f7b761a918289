//! schools.csv → school and district orgs; classes.csv → school-year sessions, one course per
//! school/year/grade, homeroom classes (行政班) and the 班主任's enrollment.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::grades::{self, Grade, GradeNumbers};
use super::table::{Loaded, RowRef};
use super::values;
use super::{ClassInfo, Ctx, Known, Lookup, lookup, synthesise};
use crate::roster::diagnostics::Message;
use crate::roster::model::{
    AcademicSession, Class, ClassType, Course, Enrollment, EnrollmentRole, Located, Org, OrgType,
    RoleKind, SessionType, SourcedId, Status,
};
use crate::roster::report::Report;

/// 学段 values schools write; others are accepted with a warning.
const STAGES: &[&str] = &[
    "小学",
    "初中",
    "高中",
    "九年一贯制",
    "完全中学",
    "十二年一贯制",
    "中等职业学校",
    "特殊教育学校",
];

pub(super) fn schools(ctx: &mut Ctx, loaded: &Loaded) {
    let Loaded::Table(table) = loaded else {
        return;
    };
    let mut seen: HashMap<SourcedId, u64> = HashMap::new();
    let mut districts: Vec<Located<Org>> = Vec::new();
    let mut district_lines: HashMap<SourcedId, (usize, u64)> = HashMap::new();
    let mut schools: Vec<Located<Org>> = Vec::new();
    for row in table.rows() {
        let report = &mut ctx.report;
        let id = row.id("school_id", report);
        let name = row.required("school_name", report);
        if let Some(id) = &id
            && let Some(first) = seen.get(id)
        {
            row.error("school_id", report, duplicate(*first));
            continue;
        }
        let code = code_value(&row, "school_code", report);
        if let Some(code) = &code
            && !values::looks_like_school_code(code)
        {
            row.warn(
                "school_code",
                "school_code_format",
                report,
                Message::new(
                    format!("学校标识码“{code}”应为 10 位数字"),
                    format!("the school code \"{code}\" should be 10 digits"),
                ),
            );
        }
        if let Some(region) = code_value(&row, "region_code", report)
            && !(matches!(region.len(), 6 | 9 | 12) && region.bytes().all(|b| b.is_ascii_digit()))
        {
            row.warn(
                "region_code",
                "region_code_format",
                report,
                Message::new(
                    format!("行政区划代码“{region}”应为 6 位（或 9、12 位）数字"),
                    format!("the region code \"{region}\" should be 6 (or 9 or 12) digits"),
                ),
            );
        }
        if let Some(stage) = row.get("stage")
            && !STAGES.contains(&stage)
        {
            row.warn(
                "stage",
                "stage_unknown",
                report,
                Message::new(
                    format!("不常见的学段“{stage}”（常见的有 小学、初中、高中、九年一贯制、完全中学）"),
                    format!("unusual school stage \"{stage}\" (usual: 小学, 初中, 高中, 九年一贯制, 完全中学)"),
                ),
            );
        }
        let district = district(&row, report, &mut districts, &mut district_lines);
        let Some(id) = id else { continue };
        seen.insert(id.clone(), row.line());
        let Some(name) = name else { continue };
        schools.push(Located {
            file: table.file.clone(),
            line: row.line(),
            record: Org {
                id,
                status: Status::Active,
                name: name.to_owned(),
                org_type: OrgType::School,
                identifier: code,
                parent: district,
            },
        });
    }
    for district in &districts {
        if let Some(line) = seen.get(&district.record.id) {
            ctx.report.error(
                &district.file,
                Some(district.line),
                Some(table.header("district_id")),
                Message::new(
                    format!("区县编号与第 {line} 行的学校编号相同；区县和学校不能共用编号"),
                    format!(
                        "the district id is also the school id on line {line}; they must differ"
                    ),
                ),
            );
        }
    }
    ctx.bundle.orgs.extend(districts);
    ctx.bundle.orgs.extend(schools);
    ctx.schools = Some(seen.into_keys().map(|id| (id, ())).collect());
}

/// The district of a school row, creating its org the first time it is named.
fn district(
    row: &RowRef,
    report: &mut Report,
    districts: &mut Vec<Located<Org>>,
    lines: &mut HashMap<SourcedId, (usize, u64)>,
) -> Option<SourcedId> {
    let name = row.get("district_name");
    let Some(id) = row.opt_id("district_id", report) else {
        if name.is_some() && row.get("district_id").is_none() {
            row.warn(
                "district_name",
                "district_without_id",
                report,
                Message::new(
                    "填写了区县名称但没有区县编号，已忽略",
                    "a district name without a district id was ignored",
                ),
            );
        }
        return None;
    };
    if let Some(&(at, first)) = lines.get(&id) {
        let known = districts.get(at).map(|d| d.record.name.as_str());
        if let (Some(name), Some(known)) = (name, known)
            && name != known
        {
            row.warn(
                "district_name",
                "district_name_mismatch",
                report,
                Message::new(
                    format!("同一区县编号在第 {first} 行的名称是“{known}”，这里是“{name}”，使用前者"),
                    format!("the same district id is named \"{known}\" on line {first} and \"{name}\" here; the first is used"),
                ),
            );
        }
        return Some(id);
    }
    let name = name.map(str::to_owned).unwrap_or_else(|| {
        row.warn(
            "district_name",
            "district_without_name",
            report,
            Message::new(
                "区县名称为空，暂用区县编号作名称",
                "the district name is blank; its id is used as the name",
            ),
        );
        id.to_string()
    });
    lines.insert(id.clone(), (districts.len(), row.line()));
    districts.push(Located {
        file: row.file().to_owned(),
        line: row.line(),
        record: Org {
            id: id.clone(),
            status: Status::Active,
            name,
            org_type: OrgType::District,
            identifier: None,
            parent: None,
        },
    });
    Some(id)
}

/// A code column that must stay text (学校标识码, 行政区划代码): Excel damage is an error.
fn code_value(row: &RowRef, column: &str, report: &mut Report) -> Option<String> {
    let value = row.get(column)?;
    if values::is_scientific(value) {
        row.error(column, report, values::excel_number_message());
        return None;
    }
    Some(value.to_owned())
}

/// "duplicates line N" for a repeated id.
pub(super) fn duplicate(first: u64) -> Message {
    Message::new(
        format!("与第 {first} 行重复，同一编号只能出现一次"),
        format!("duplicates line {first}; each id may appear only once"),
    )
}

/// "X is not in file.csv" for a dangling reference.
pub(super) fn unknown(what_zh: &str, what_en: &str, id: &SourcedId, file: &str) -> Message {
    Message::new(
        format!("{what_zh}“{id}”在 {file} 中不存在"),
        format!("the {what_en} \"{id}\" is not in {file}"),
    )
}

/// Report a `school_id` that schools.csv, when supplied, does not define.
pub(super) fn check_school(
    row: &RowRef,
    schools: &Known<()>,
    report: &mut Report,
    school: &SourcedId,
) {
    if let Lookup::Missing = lookup(schools, school) {
        row.error(
            "school_id",
            report,
            unknown("学校编号", "school id", school, "schools.csv"),
        );
    }
}

pub(super) fn classes(ctx: &mut Ctx, loaded: &Loaded) {
    ctx.classes_file = loaded.supplied();
    let Loaded::Table(table) = loaded else {
        return;
    };
    let numbers = GradeNumbers::detect(table.rows().filter_map(|r| r.get("grade")));
    let mut known: HashMap<SourcedId, ClassInfo> = HashMap::new();
    let mut lines: HashMap<SourcedId, u64> = HashMap::new();
    let mut titles: HashMap<(SourcedId, i32, String), u64> = HashMap::new();
    for row in table.rows() {
        let report = &mut ctx.report;
        let id = row.id("class_id", report);
        let school = row.id("school_id", report);
        if let Some(school) = &school {
            check_school(&row, &ctx.schools, report, school);
        }
        let year = row.required("school_year", report).and_then(|raw| {
            grades::school_year(raw)
                .map_err(|m| row.error("school_year", report, m))
                .ok()
        });
        let grade_raw = row.required("grade", report);
        let grade = grade_raw.and_then(|raw| {
            grades::grade(raw, numbers)
                .map_err(|m| row.error("grade", report, m))
                .ok()
        });
        let class_name = row.required("class_name", report);
        let head = row.opt_id("head_teacher_id", report);
        if let Some(head) = &head
            && let Lookup::Missing = lookup(&ctx.teachers, head)
        {
            row.error(
                "head_teacher_id",
                report,
                unknown("班主任工号", "head teacher id", head, "teachers.csv"),
            );
        }
        let Some(id) = id else { continue };
        if let Some(first) = lines.get(&id) {
            row.error("class_id", report, duplicate(*first));
            continue;
        }
        lines.insert(id.clone(), row.line());
        known.insert(
            id.clone(),
            ClassInfo {
                school: school.clone(),
                grade,
            },
        );
        let (Some(school), Some(year), Some(grade), Some(grade_raw), Some(class_name)) =
            (school, year, grade, grade_raw, class_name)
        else {
            continue;
        };
        let title = class_title(grade, grade_raw, class_name);
        if let Some(first) = titles.insert((school.clone(), year, title.clone()), row.line()) {
            row.warn(
                "class_name",
                "class_title_twice",
                report,
                Message::new(
                    format!("与第 {first} 行的班级同校、同学年、同名（{title}）"),
                    format!("line {first} has a class of the same school, year and name ({title})"),
                ),
            );
        }
        let at = (table.file.as_str(), row.line());
        let Some(session) = session(ctx, at, year) else {
            continue;
        };
        let Some(course) = course(ctx, at, &school, year, grade, &session) else {
            continue;
        };
        ctx.bundle.classes.push(Located {
            file: table.file.clone(),
            line: row.line(),
            record: Class {
                id: id.clone(),
                status: Status::Active,
                title,
                grades: vec![grade.code()],
                course,
                class_code: None,
                class_type: ClassType::Homeroom,
                school: school.clone(),
                terms: vec![session],
                subjects: Vec::new(),
            },
        });
        if let Some(head) = head {
            head_teacher(ctx, at, &id, &school, &head);
        }
    }
    ctx.classes = Some(known);
}

/// `七年级` + `3班` → `七年级3班`; `3` → `七年级3班`; a name that already has the grade is kept.
fn class_title(grade: Grade, grade_raw: &str, class_name: &str) -> String {
    let name = if class_name.bytes().all(|b| b.is_ascii_digit()) {
        format!("{class_name}班")
    } else {
        class_name.to_owned()
    };
    let has_grade =
        name.contains("年级") || name.starts_with(grade_raw) || name.starts_with(['初', '高']);
    if has_grade {
        name
    } else {
        format!("{}{name}", grade.label())
    }
}

/// The school-year session `cn-year:{Y}` (2025 = 2025-09-01 to 2026-09-01, exclusive).
fn session(ctx: &mut Ctx, at: (&str, u64), year: i32) -> Option<SourcedId> {
    let id = synthesise(&format!("cn-year:{year}"), &mut ctx.report, at)?;
    if ctx.bundle.sessions.iter().any(|s| s.record.id == id) {
        return Some(id);
    }
    let start = NaiveDate::from_ymd_opt(year, 9, 1)?;
    let end = NaiveDate::from_ymd_opt(year + 1, 9, 1)?;
    ctx.bundle.sessions.push(Located {
        file: at.0.to_owned(),
        line: at.1,
        record: AcademicSession {
            id: id.clone(),
            status: Status::Active,
            title: format!("{year}-{}学年", year + 1),
            session_type: SessionType::SchoolYear,
            start_date: start,
            end_date: end,
            parent: None,
            school_year: year + 1,
        },
    });
    Some(id)
}

/// The grade-level course `cn-course:{school}:{Y}:{grade}` its classes belong to.
fn course(
    ctx: &mut Ctx,
    at: (&str, u64),
    school: &SourcedId,
    year: i32,
    grade: Grade,
    session: &SourcedId,
) -> Option<SourcedId> {
    let id = synthesise(
        &format!("cn-course:{school}:{year}:{}", grade.code()),
        &mut ctx.report,
        at,
    )?;
    if ctx.bundle.courses.iter().any(|c| c.record.id == id) {
        return Some(id);
    }
    ctx.bundle.courses.push(Located {
        file: at.0.to_owned(),
        line: at.1,
        record: Course {
            id: id.clone(),
            status: Status::Active,
            school_year: Some(session.clone()),
            title: format!("{year}学年 {}", grade.label()),
            course_code: None,
            grades: vec![grade.code()],
            org: school.clone(),
            subjects: Vec::new(),
        },
    });
    Some(id)
}

/// The 班主任 as the class's primary teacher, `cn-enr:{class}:{teacher}:head`.
fn head_teacher(
    ctx: &mut Ctx,
    at: (&str, u64),
    class: &SourcedId,
    school: &SourcedId,
    teacher: &SourcedId,
) {
    let status = match lookup(&ctx.teachers, teacher) {
        Lookup::Found(info) => {
            let status = info.status;
            ctx.add_role(at, teacher, school, RoleKind::Teacher, status);
            status
        }
        _ => Status::Active,
    };
    let Some(id) = synthesise(
        &format!("cn-enr:{class}:{teacher}:head"),
        &mut ctx.report,
        at,
    ) else {
        return;
    };
    ctx.bundle.enrollments.push(Located {
        file: at.0.to_owned(),
        line: at.1,
        record: Enrollment {
            id,
            status,
            class: class.clone(),
            school: school.clone(),
            user: teacher.clone(),
            role: EnrollmentRole::Teacher,
            primary: true,
            begin_date: None,
            end_date: None,
            subject: None,
        },
    });
}
