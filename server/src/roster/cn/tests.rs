//! Whole-set tests: the shipped example, GBK input, every kind of error, the single-sheet
//! fallback. Value-level tests live next to their parsers (`values.rs`, `names.rs`).

use std::path::Path;

use super::{looks_like, parse};
use crate::roster::diagnostics::{Diagnostic, Diagnostics};
use crate::roster::model::{
    Bundle, ClassType, EnrollmentRole, Entity, Mode, OrgType, Relation, RoleKind, RoleType,
    SessionType, Sex, SourcedId, Status, User,
};
use crate::roster::source::Source;

const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../assets/cn-roster-example");

fn example_files() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(EXAMPLE)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "csv"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .collect();
    files.sort();
    files
}

fn parse_example() -> (Bundle, Diagnostics) {
    let mut diags = Diagnostics::default();
    let source = Source::read(Path::new(EXAMPLE), &mut diags).unwrap();
    let bundle = parse(&source, &mut diags).unwrap();
    (bundle, diags)
}

/// A package from inline CSV texts.
fn source(files: &[(&str, &str)]) -> Source {
    let raw = files
        .iter()
        .map(|(name, text)| ((*name).to_owned(), text.as_bytes().to_vec()))
        .collect();
    Source::from_files(raw, &mut Diagnostics::default())
}

fn run(files: &[(&str, &str)]) -> (Bundle, Diagnostics) {
    let mut diags = Diagnostics::default();
    let bundle = parse(&source(files), &mut diags).unwrap();
    (bundle, diags)
}

fn id(value: &str) -> SourcedId {
    SourcedId::parse(value).unwrap()
}

fn user<'b>(bundle: &'b Bundle, value: &str) -> &'b User {
    &bundle
        .users
        .iter()
        .find(|u| u.record.id.as_str() == value)
        .unwrap()
        .record
}

/// The error at file/line/field, or a failure listing all errors.
fn error_at<'d>(diags: &'d Diagnostics, file: &str, line: u64, field: &str) -> &'d Diagnostic {
    diags
        .errors
        .iter()
        .find(|d| d.file == file && d.line == Some(line) && d.field.as_deref() == Some(field))
        .unwrap_or_else(|| {
            panic!(
                "no error at {file}:{line} [{field}]; errors: {:#?}",
                diags.errors
            )
        })
}

const SCHOOLS: &str = "school_id,school_name\nS1,一小\n";
const CLASSES: &str = "class_id,school_id,school_year,grade,class_name\nC1,S1,2025,一年级,1班\n";
const STUDENTS: &str = "student_id,name,class_id\n001,张三,C1\n";
const TEACHERS: &str = "teacher_id,name,phone,school_id\nT1,李老师,13900000001,S1\n";

#[test]
fn the_example_parses_without_errors_into_the_expected_counts() {
    let (bundle, diags) = parse_example();
    assert!(diags.errors.is_empty(), "{:#?}", diags.errors);
    assert_eq!(bundle.orgs.len(), 3, "one district and two schools");
    assert_eq!(bundle.sessions.len(), 1);
    assert_eq!(bundle.courses.len(), 3);
    assert_eq!(bundle.classes.len(), 3);
    assert_eq!(
        bundle.users.len(),
        12 + 14 + 5,
        "students, guardians, teachers"
    );
    assert_eq!(bundle.roles.len(), 12 + 15 + 5);
    assert_eq!(
        bundle.enrollments.len(),
        12 + 9 + 3,
        "students, teaching rows, head teachers"
    );
    assert_eq!(bundle.demographics.len(), 12 + 5);
    assert_eq!(bundle.guardian_links.len(), 16);
    assert!(
        Entity::ALL.iter().all(|e| bundle.mode(*e) == Mode::Bulk),
        "{:?}",
        bundle.modes
    );
    // Only the expected warnings: three names with a separator dot are kept whole.
    assert_eq!(diags.warnings.len(), 3, "{:#?}", diags.warnings);
    assert!(
        diags
            .warnings
            .iter()
            .all(|w| w.field.as_deref().is_some_and(|f| f.ends_with("name")))
    );
}

#[test]
fn the_example_maps_onto_the_model() {
    let (bundle, _) = parse_example();
    let school = &bundle
        .orgs
        .iter()
        .find(|o| o.record.id.as_str() == "S001")
        .unwrap()
        .record;
    assert_eq!(school.org_type, OrgType::School);
    assert_eq!(school.identifier.as_deref(), Some("2142010701"));
    assert_eq!(school.parent, Some(id("D4201")));
    assert_eq!(bundle.orgs[0].record.org_type, OrgType::District);

    let year = &bundle.sessions[0].record;
    assert_eq!(
        (year.id.as_str(), year.title.as_str()),
        ("cn-year:2025", "2025-2026学年")
    );
    assert_eq!(year.session_type, SessionType::SchoolYear);
    assert_eq!(year.start_date.to_string(), "2025-09-01");
    assert_eq!(year.end_date.to_string(), "2026-09-01");
    assert_eq!(year.school_year, 2026);

    let course = &bundle
        .courses
        .iter()
        .find(|c| c.record.id.as_str() == "cn-course:S002:2025:07")
        .unwrap()
        .record;
    assert_eq!(course.title, "2025学年 七年级");
    assert_eq!(course.grades, ["07"]);
    let class = &bundle
        .classes
        .iter()
        .find(|c| c.record.id.as_str() == "C0703")
        .unwrap()
        .record;
    assert_eq!(class.title, "七年级3班", "初一 is written as 七年级");
    assert_eq!(class.grades, ["07"]);
    assert_eq!(class.class_type, ClassType::Homeroom);
    assert_eq!(class.terms, [id("cn-year:2025")]);
    assert_eq!(class.course, id("cn-course:S002:2025:07"));

    // Students: names split, national number only in user_ids, role, enrollment, demographics.
    let ouyang = user(&bundle, "0250002");
    assert_eq!(
        (ouyang.family_name.as_str(), ouyang.given_name.as_str()),
        ("欧阳", "子涵")
    );
    assert!(
        ouyang
            .user_ids
            .contains(&("CN-XJH".to_owned(), "L420107201706220034".to_owned()))
    );
    assert!(
        ouyang
            .user_ids
            .contains(&("CN-SEAT".to_owned(), "02".to_owned()))
    );
    assert_eq!(ouyang.grades, ["03"]);
    let ayi = user(&bundle, "0250003");
    assert_eq!(
        (ayi.family_name.as_str(), ayi.given_name.as_str()),
        ("", "阿依古丽·买买提")
    );
    let role = bundle
        .roles
        .iter()
        .find(|r| r.record.id.as_str() == "cn-role:0250002:S001:student")
        .unwrap();
    assert_eq!(
        (role.record.role.clone(), role.record.role_type),
        (RoleKind::Student, RoleType::Primary)
    );
    let enrollment = bundle
        .enrollments
        .iter()
        .find(|e| e.record.id.as_str() == "cn-enr:C0302:0250002:student");
    assert_eq!(enrollment.unwrap().record.role, EnrollmentRole::Student);
    let demographic = bundle
        .demographics
        .iter()
        .find(|d| d.record.user.as_str() == "0250002")
        .unwrap();
    assert_eq!(demographic.record.sex, Some(Sex::Female));
    assert_eq!(
        demographic
            .record
            .birth_date
            .map(|d| d.to_string())
            .as_deref(),
        Some("2017-06-22")
    );
    let ids = bundle
        .users
        .iter()
        .map(|u| u.record.id.to_string())
        .chain(bundle.roles.iter().map(|r| r.record.id.to_string()))
        .chain(bundle.enrollments.iter().map(|e| e.record.id.to_string()));
    for id in ids {
        assert!(
            !id.contains("L4201"),
            "a national student number leaked into the id {id}"
        );
    }

    // 转出: the student, her role and enrollment retire, and so does her only guardian.
    assert_eq!(user(&bundle, "0250005").status, Status::ToBeDeleted);
    let retired = |id: &str| {
        bundle
            .enrollments
            .iter()
            .any(|e| e.record.id.as_str() == id && e.record.status == Status::ToBeDeleted)
    };
    assert!(retired("cn-enr:C0302:0250005:student"));
    assert_eq!(
        user(&bundle, "cn-guardian:15000150005").status,
        Status::ToBeDeleted
    );

    // Guardians: 外婆 who is legal guardian → guardian role; 祖母 who is not → relative.
    let role_of = |user: &str, school: &str| {
        bundle
            .roles
            .iter()
            .find(|r| r.record.user.as_str() == user && r.record.org.as_str() == school)
            .map(|r| r.record.role.clone())
    };
    assert_eq!(
        role_of("cn-guardian:13500135005", "S001"),
        Some(RoleKind::Guardian)
    );
    assert_eq!(
        role_of("cn-guardian:15200152003", "S001"),
        Some(RoleKind::Relative)
    );
    assert_eq!(role_of("P0210003M", "S002"), Some(RoleKind::Parent));
    let grandma = bundle
        .guardian_links
        .iter()
        .find(|l| l.record.guardian.as_str() == "cn-guardian:15200152003")
        .unwrap();
    assert_eq!(
        (grandma.record.relation, grandma.record.is_legal_guardian),
        (Relation(62), false)
    );
    // A student's agents follow the priority column.
    assert_eq!(
        user(&bundle, "0250004").agents,
        [id("cn-guardian:13500135004"), id("cn-guardian:13500135005")]
    );

    // Teachers: teaching rows and the 班主任.
    let teaching = bundle
        .enrollments
        .iter()
        .find(|e| e.record.id.as_str() == "cn-enr:C0703:T005:teacher:信息科技")
        .unwrap();
    assert_eq!(teaching.record.subject.as_deref(), Some("信息科技"));
    assert!(!teaching.record.primary);
    let head = bundle
        .enrollments
        .iter()
        .find(|e| e.record.id.as_str() == "cn-enr:C0703:T004:head")
        .unwrap();
    assert!(head.record.primary);
    assert_eq!(head.record.school, id("S002"));
    let teacher = user(&bundle, "T005");
    assert_eq!(
        (teacher.family_name.as_str(), teacher.phone.as_deref()),
        ("欧阳", Some("13912340005"))
    );
}

#[test]
fn a_parent_with_children_in_both_schools_is_one_guardian() {
    let (bundle, _) = parse_example();
    let father = "cn-guardian:13800138000";
    assert_eq!(
        bundle
            .users
            .iter()
            .filter(|u| u.record.id.as_str() == father)
            .count(),
        1
    );
    let dad = user(&bundle, father);
    assert_eq!(
        (dad.family_name.as_str(), dad.given_name.as_str()),
        ("李", "建国")
    );
    assert_eq!(
        dad.phone.as_deref(),
        Some("13800138000"),
        "+86 138-0013-8000 normalised"
    );
    assert_eq!(dad.agents, [id("0250001"), id("0210001")]);
    for child in ["0250001", "0210001"] {
        assert!(user(&bundle, child).agents.contains(&id(father)));
        let link = bundle
            .guardian_links
            .iter()
            .find(|l| l.record.student.as_str() == child && l.record.guardian.as_str() == father);
        let link = link.unwrap();
        assert_eq!(
            link.record.relation,
            Relation::FATHER,
            "父亲 and 51 are the same"
        );
        assert!(
            link.record.is_legal_guardian,
            "parents are legal guardians by default"
        );
    }
    let mut schools: Vec<&str> = bundle
        .roles
        .iter()
        .filter(|r| r.record.user.as_str() == father)
        .map(|r| {
            assert_eq!(
                (r.record.role.clone(), r.record.role_type),
                (RoleKind::Parent, RoleType::Primary)
            );
            r.record.org.as_str()
        })
        .collect();
    schools.sort_unstable();
    assert_eq!(schools, ["S001", "S002"]);
    // Siblings in one school: one guardian, one role there.
    let chen = "cn-guardian:13500135004";
    assert_eq!(user(&bundle, chen).agents, [id("0250004"), id("0230004")]);
    assert_eq!(
        bundle
            .roles
            .iter()
            .filter(|r| r.record.user.as_str() == chen)
            .count(),
        1
    );
}

#[test]
fn gbk_input_gives_the_same_bundle_as_utf8() {
    let (utf8, _) = parse_example();
    let raw = example_files()
        .into_iter()
        .map(|(name, text)| {
            let (bytes, _, unmappable) = encoding_rs::GBK.encode(&text);
            assert!(!unmappable, "{name} has characters GBK cannot hold");
            (name, bytes.into_owned())
        })
        .collect();
    let mut diags = Diagnostics::default();
    let source = Source::from_files(raw, &mut diags);
    let gbk = parse(&source, &mut diags).unwrap();
    assert!(diags.errors.is_empty(), "{:#?}", diags.errors);
    assert!(diags.warnings.iter().any(|w| w.message.en.contains("GBK")));
    assert_eq!(gbk, utf8);
}

#[test]
fn the_example_and_chinese_headers_look_like_a_chinese_roster() {
    let mut diags = Diagnostics::default();
    assert!(looks_like(
        &Source::read(Path::new(EXAMPLE), &mut diags).unwrap()
    ));
    assert!(looks_like(&source(&[(
        "students.csv",
        "学生编号,姓名,班级编号\n"
    )])));
    assert!(looks_like(&source(&[(
        "SCHOOLS.CSV",
        "\"学校编号\",\"学校名称\"\n"
    )])));
    let oneroster = source(&[
        (
            "users.csv",
            "sourcedId,status,dateLastModified,enabledUser\n",
        ),
        ("classes.csv", "sourcedId,status,dateLastModified,title\n"),
    ]);
    assert!(!looks_like(&oneroster));
    assert_eq!(parse(&oneroster, &mut Diagnostics::default()), None);
    assert!(!looks_like(&source(&[("students.csv", "id,first,last\n")])));
}

#[test]
fn chinese_headers_are_accepted() {
    let (bundle, diags) = run(&[
        (
            "schools.csv",
            "学校编号,学校名称,学校标识码\nS1,一小,3142010701\n",
        ),
        (
            "classes.csv",
            "班级编号,学校编号,学年,年级,班级名称,班主任工号\nC1,S1,2025-2026学年,一年级,1班,T1\n",
        ),
        (
            "teachers.csv",
            "工号,姓名,性别,手机号,学校编号,任教学科\nT1,李老师,女,13900000001,S1,语文、数学\n",
        ),
        (
            "students.csv",
            "学生编号,姓名,性别,出生日期,班级编号,班内学号,学籍号,学籍状态\n\
             001,张三,男,20190101,C1,1,L420107201901010011,在读\n",
        ),
        (
            "guardians.csv",
            "学生编号,家长姓名,关系,联系电话,是否监护人\n001,张大山,爸爸,13800000001,是\n",
        ),
        ("teaching.csv", "工号,班级编号,学科\nT1,C1,语文\n"),
    ]);
    assert!(diags.errors.is_empty(), "{:#?}", diags.errors);
    assert!(diags.warnings.is_empty(), "{:#?}", diags.warnings);
    assert_eq!(
        user(&bundle, "001").user_ids[0],
        ("CN-XJH".to_owned(), "L420107201901010011".to_owned())
    );
    assert_eq!(user(&bundle, "001").grades, ["01"]);
    assert_eq!(bundle.guardian_links.len(), 1);
    assert_eq!(bundle.enrollments.len(), 3);
    assert_eq!(bundle.classes[0].record.title, "一年级1班");
}

#[test]
fn the_single_sheet_fallback_links_guardians_from_students_csv() {
    let students = "student_id,name,class_id,guardian1_name,guardian1_relation,guardian1_phone,\
                    guardian2_name,guardian2_relation,guardian2_phone\n\
                    001,张三,C1,张大山,父亲,13800000001,李小花,母亲,13800000002\n\
                    002,张四,C1,张大山,父亲,13800000001,,,\n\
                    003,王五,C1,王奶奶,祖母,13800000003,,,\n";
    let (bundle, diags) = run(&[
        ("schools.csv", SCHOOLS),
        ("classes.csv", CLASSES),
        ("students.csv", students),
    ]);
    assert!(diags.errors.is_empty(), "{:#?}", diags.errors);
    assert_eq!(bundle.guardian_links.len(), 4);
    assert_eq!(bundle.users.len(), 3 + 3);
    assert_eq!(
        user(&bundle, "cn-guardian:13800000001").agents,
        [id("001"), id("002")]
    );
    assert_eq!(
        user(&bundle, "001").agents,
        [id("cn-guardian:13800000001"), id("cn-guardian:13800000002")]
    );
    let grandma = bundle
        .roles
        .iter()
        .find(|r| r.record.user.as_str() == "cn-guardian:13800000003")
        .unwrap();
    assert_eq!(grandma.record.role, RoleKind::Relative);
    assert_eq!(
        bundle.mode(Entity::Users),
        Mode::Delta,
        "teachers.csv was not supplied"
    );

    // A partly filled guardian group is an error naming the missing field.
    let students =
        "student_id,name,class_id,家长1姓名,家长1关系,家长1手机号\n001,张三,C1,张大山,父亲,\n";
    let (_, diags) = run(&[
        ("schools.csv", SCHOOLS),
        ("classes.csv", CLASSES),
        ("students.csv", students),
    ]);
    error_at(&diags, "students.csv", 2, "家长1手机号");

    // With guardians.csv present, the inline columns are ignored with a warning.
    let students = "student_id,name,class_id,guardian1_name,guardian1_relation,guardian1_phone\n001,张三,C1,甲,父亲,13800000001\n";
    let guardians = "student_id,guardian_name,relation,phone\n001,张大山,父亲,13800000009\n";
    let (bundle, diags) = run(&[
        ("classes.csv", CLASSES),
        ("students.csv", students),
        ("guardians.csv", guardians),
    ]);
    assert_eq!(bundle.guardian_links.len(), 1);
    assert_eq!(
        bundle.guardian_links[0].record.guardian,
        id("cn-guardian:13800000009")
    );
    assert!(
        diags
            .warnings
            .iter()
            .any(|w| w.file == "students.csv" && w.message.en.contains("ignored"))
    );
}

#[test]
fn every_kind_of_error_names_file_line_and_field() {
    // Missing required column: line 1, the column's name.
    let (_, diags) = run(&[("students.csv", "student_id,class_id\n001,C1\n")]);
    error_at(&diags, "students.csv", 1, "name");

    let (_, diags) = run(&[
        ("schools.csv", "school_id,school_name\nS1,一小\nS1,二小\n"),
        (
            "classes.csv",
            "class_id,school_id,school_year,grade,class_name,head_teacher_id\n\
             C1,S1,2025,一年级,1班,T1\n\
             C2,S9,2025,初四,2班,T9\n\
             C3,S1,二〇二五,一年级,,\n",
        ),
        (
            "teachers.csv",
            "teacher_id,name,phone,school_id\nT1,李老师,13900000001,S1\nT1,王老师,13900000002,S1\n",
        ),
        (
            "students.csv",
            "student_id,name,gender,birth_date,class_id\n\
             001,张三,男,2019-02-30,C1\n\
             002,,X,20190101,C404\n\
             001,张三,男,20190101,C1\n\
             003,李四,女\n\
             004,王五,女,20190101,C1,多余\n",
        ),
        (
            "guardians.csv",
            "student_id,guardian_name,relation,phone\n\
             001,张大山,邻居,13800000001\n\
             999,李小花,母亲,13800000002\n\
             001,王强,父亲,12345\n",
        ),
        (
            "teaching.csv",
            "teacher_id,class_id,subject\nT9,C1,语文\nT1,C9,数学\nT1,C1,语文\nT1,C1,语文\n",
        ),
    ]);
    error_at(&diags, "schools.csv", 3, "school_id"); // duplicate id
    assert!(
        error_at(&diags, "schools.csv", 3, "school_id")
            .message
            .zh
            .contains("第 2 行")
    );
    error_at(&diags, "classes.csv", 3, "school_id"); // unknown school
    error_at(&diags, "classes.csv", 3, "grade"); // unknown grade
    error_at(&diags, "classes.csv", 3, "head_teacher_id"); // unknown head teacher
    error_at(&diags, "classes.csv", 4, "school_year"); // bad school year
    error_at(&diags, "classes.csv", 4, "class_name"); // blank required value
    error_at(&diags, "teachers.csv", 3, "teacher_id"); // duplicate id
    error_at(&diags, "students.csv", 2, "birth_date"); // bad date
    error_at(&diags, "students.csv", 3, "name"); // blank required value
    error_at(&diags, "students.csv", 3, "gender"); // unknown gender
    error_at(&diags, "students.csv", 3, "class_id"); // unknown class
    assert!(
        error_at(&diags, "students.csv", 4, "student_id")
            .message
            .en
            .contains("line 2")
    );
    error_at(&diags, "students.csv", 5, "birth_date"); // ragged: the first missing column
    let long = diags
        .errors
        .iter()
        .find(|d| d.file == "students.csv" && d.line == Some(6))
        .unwrap();
    assert!(long.message.en.contains("more than the header"), "{long:?}");
    error_at(&diags, "guardians.csv", 2, "relation"); // unknown relation
    error_at(&diags, "guardians.csv", 3, "student_id"); // unknown student
    error_at(&diags, "guardians.csv", 4, "phone"); // bad phone
    error_at(&diags, "teaching.csv", 2, "teacher_id"); // unknown teacher
    error_at(&diags, "teaching.csv", 3, "class_id"); // unknown class
    assert!(
        error_at(&diags, "teaching.csv", 5, "subject")
            .message
            .zh
            .contains("第 4 行")
    ); // duplicate row
    for error in &diags.errors {
        assert!(error.line.is_some(), "{error:?}");
        assert!(!error.message.zh.is_empty() && !error.message.en.is_empty());
    }
}

#[test]
fn errors_name_the_header_as_written() {
    let (_, diags) = run(&[
        ("classes.csv", CLASSES),
        (
            "students.csv",
            "学生编号,姓名,班级编号,性别\n001,张三,C1,未知数\n",
        ),
    ]);
    error_at(&diags, "students.csv", 2, "性别");
}

#[test]
fn excel_number_damage_is_an_error_that_never_echoes_the_national_number() {
    let (bundle, diags) = run(&[
        ("classes.csv", CLASSES),
        (
            "students.csv",
            "student_id,name,class_id,national_student_no\n\
             1.23457E+11,张三,C1,\n\
             002,李四,C1,4.40106E+17\n\
             003,王五,C1,L420107201901010011\n\
             004,赵六,C1,L420107201901010011\n\
             005,钱七,C1,X1234\n",
        ),
        (
            "guardians.csv",
            "student_id,guardian_name,relation,phone\n002,李大,父亲,1.38001E+10\n",
        ),
    ]);
    for (file, line, field) in [
        ("students.csv", 2, "student_id"),
        ("students.csv", 3, "national_student_no"),
        ("guardians.csv", 2, "phone"),
    ] {
        let error = error_at(&diags, file, line, field);
        assert!(
            error.message.zh.contains("Excel") && error.message.en.contains("text"),
            "{error:?}"
        );
    }
    assert!(
        error_at(&diags, "students.csv", 5, "national_student_no")
            .message
            .zh
            .contains("第 4 行")
    );
    assert!(
        diags
            .warnings
            .iter()
            .any(|w| w.line == Some(6) && w.field.as_deref() == Some("national_student_no"))
    );
    for d in diags.errors.iter().chain(&diags.warnings) {
        for secret in ["L420107201901010011", "4.40106E+17", "X1234"] {
            assert!(
                !d.message.zh.contains(secret) && !d.message.en.contains(secret),
                "{d:?}"
            );
        }
    }
    assert!(
        user(&bundle, "003")
            .user_ids
            .iter()
            .any(|(kind, _)| kind == "CN-XJH")
    );
    assert!(
        user(&bundle, "004").user_ids.is_empty(),
        "a duplicate number is not kept"
    );
}

#[test]
fn ids_keep_their_leading_zeros() {
    let (bundle, diags) = run(&[
        ("schools.csv", SCHOOLS),
        ("classes.csv", CLASSES),
        ("students.csv", STUDENTS),
    ]);
    assert!(diags.errors.is_empty(), "{:#?}", diags.errors);
    assert_eq!(bundle.users[0].record.id.as_str(), "001");
    assert_eq!(
        bundle.enrollments[0].record.id.as_str(),
        "cn-enr:C1:001:student"
    );
}

#[test]
fn references_to_an_absent_file_are_not_checked() {
    let (bundle, diags) = run(&[(
        "students.csv",
        "student_id,name,class_id,school_id\n001,张三,C404,S404\n",
    )]);
    assert!(diags.errors.is_empty(), "{:#?}", diags.errors);
    assert_eq!(bundle.enrollments[0].record.school, id("S404"));
    assert_eq!(bundle.mode(Entity::Users), Mode::Delta);
    assert_eq!(bundle.mode(Entity::Orgs), Mode::Absent);
    assert_eq!(bundle.mode(Entity::Classes), Mode::Absent);

    // Without classes.csv the school must come from somewhere.
    let (_, diags) = run(&[("students.csv", STUDENTS)]);
    error_at(&diags, "students.csv", 1, "school_id");
    let (_, diags) = run(&[("teaching.csv", "teacher_id,class_id,subject\nT1,C1,语文\n")]);
    error_at(&diags, "teaching.csv", 2, "class_id");
}

#[test]
fn names_are_split_and_kept_whole_where_they_must_be() {
    let students = "student_id,name,class_id,family_name,given_name\n\
                    001,欧阳娜娜,C1,,\n\
                    002,张三,C1,,\n\
                    003,阿依古丽·买买提,C1,,\n\
                    004,𪚥,C1,,\n\
                    005,王𪚥𪚥,C1,,\n\
                    006,司马迁,C1,司,马迁\n";
    let (bundle, diags) = run(&[("classes.csv", CLASSES), ("students.csv", students)]);
    assert!(diags.errors.is_empty(), "{:#?}", diags.errors);
    let names = |id: &str| {
        let u = user(&bundle, id);
        (u.family_name.clone(), u.given_name.clone())
    };
    assert_eq!(names("001"), ("欧阳".into(), "娜娜".into()));
    assert_eq!(names("002"), ("张".into(), "三".into()));
    assert_eq!(names("003"), ("".into(), "阿依古丽·买买提".into()));
    assert_eq!(names("004"), ("".into(), "𪚥".into()));
    assert_eq!(names("005"), ("王".into(), "𪚥𪚥".into()));
    assert_eq!(
        names("006"),
        ("司".into(), "马迁".into()),
        "explicit columns win"
    );
    let warned: Vec<u64> = diags.warnings.iter().filter_map(|w| w.line).collect();
    assert_eq!(warned, [4, 5]);
}

#[test]
fn phones_are_normalised_and_rejected_with_the_field() {
    let guardians = "student_id,guardian_name,relation,phone\n\
                     001,张大山,父亲,+86 138-0013-8000\n\
                     001,李小花,母亲,0086-139 0013 9000\n\
                     001,王强,舅舅,010-62345678\n";
    let (bundle, diags) = run(&[
        ("classes.csv", CLASSES),
        ("students.csv", STUDENTS),
        ("guardians.csv", guardians),
    ]);
    assert_eq!(
        user(&bundle, "cn-guardian:13800138000").phone.as_deref(),
        Some("13800138000")
    );
    assert_eq!(
        user(&bundle, "cn-guardian:13900139000").sms.as_deref(),
        Some("13900139000")
    );
    let error = error_at(&diags, "guardians.csv", 4, "phone");
    assert!(error.message.zh.contains("010-62345678"));
    assert_eq!(diags.errors.len(), 1);
}

#[test]
fn one_phone_with_two_names_is_one_guardian_with_a_warning() {
    let students = "student_id,name,class_id\n001,张三,C1\n002,张四,C1\n";
    let guardians = "student_id,guardian_name,relation,phone\n001,张大山,父亲,13800000001\n002,张山,父亲,13800000001\n";
    let (bundle, diags) = run(&[
        ("classes.csv", CLASSES),
        ("students.csv", students),
        ("guardians.csv", guardians),
    ]);
    assert_eq!(bundle.users.len(), 3);
    assert_eq!(user(&bundle, "cn-guardian:13800000001").given_name, "大山");
    let warning = diags
        .warnings
        .iter()
        .find(|w| w.file == "guardians.csv" && w.line == Some(3))
        .unwrap();
    assert_eq!(warning.field.as_deref(), Some("guardian_name"));
}

#[test]
fn a_guardian_id_wins_over_the_phone_and_may_name_a_teacher() {
    let students = "student_id,name,class_id\n001,张三,C1\n002,张四,C1\n";
    let guardians = "student_id,guardian_name,relation,phone,guardian_id\n\
                     001,李老师,母亲,13900000001,T1\n\
                     002,李老师,母亲,13900000001,\n";
    let (bundle, diags) = run(&[
        ("schools.csv", SCHOOLS),
        ("classes.csv", CLASSES),
        ("teachers.csv", TEACHERS),
        ("students.csv", students),
        ("guardians.csv", guardians),
    ]);
    assert!(diags.errors.is_empty(), "{:#?}", diags.errors);
    assert_eq!(
        bundle.users.len(),
        3,
        "the teacher is also the parent: one user"
    );
    assert_eq!(user(&bundle, "T1").agents, [id("001"), id("002")]);
    let roles: Vec<(RoleKind, RoleType)> = bundle
        .roles
        .iter()
        .filter(|r| r.record.user.as_str() == "T1")
        .map(|r| (r.record.role.clone(), r.record.role_type))
        .collect();
    assert_eq!(
        roles,
        [
            (RoleKind::Teacher, RoleType::Primary),
            (RoleKind::Parent, RoleType::Secondary)
        ]
    );

    // Without guardian_id, a teacher's phone gets a hint.
    let guardians = "student_id,guardian_name,relation,phone\n001,李老师,母亲,13900000001\n";
    let (_, diags) = run(&[
        ("schools.csv", SCHOOLS),
        ("classes.csv", CLASSES),
        ("teachers.csv", TEACHERS),
        ("students.csv", STUDENTS),
        ("guardians.csv", guardians),
    ]);
    assert!(
        diags
            .warnings
            .iter()
            .any(|w| w.field.as_deref() == Some("phone") && w.message.zh.contains("T1"))
    );

    // A student cannot be a guardian, nor share an id with a teacher.
    let guardians =
        "student_id,guardian_name,relation,phone,guardian_id\n001,张三,兄,13900000009,001\n";
    let students = "student_id,name,class_id\n001,张三,C1\nT1,李四,C1\n";
    let (_, diags) = run(&[
        ("schools.csv", SCHOOLS),
        ("classes.csv", CLASSES),
        ("teachers.csv", TEACHERS),
        ("students.csv", students),
        ("guardians.csv", guardians),
    ]);
    error_at(&diags, "guardians.csv", 2, "guardian_id");
    error_at(&diags, "students.csv", 3, "student_id");
}

#[test]
fn warnings_are_capped_per_file_and_kind() {
    let mut students = String::from("student_id,name,class_id\n");
    for n in 0..25 {
        students.push_str(&format!("{n:03},买买提·{n},C1\n"));
    }
    let (_, diags) = run(&[("classes.csv", CLASSES), ("students.csv", &students)]);
    assert_eq!(diags.warnings.len(), 21);
    let summary = diags.warnings.last().unwrap();
    assert_eq!(summary.file, "students.csv");
    assert!(
        summary.message.zh.contains("还有 5 条同类警告"),
        "{summary:?}"
    );
    assert!(summary.message.en.contains("and 5 more warnings like this"));
}

#[test]
fn empty_files_unknown_columns_and_other_tolerated_quirks() {
    let (bundle, diags) = run(&[
        ("schools.csv", "school_id,school_name\n"),
        ("classes.csv", CLASSES),
        (
            "students.csv",
            "student_id,name,class_id,备注,学号\r\n=\"001\",张三,C1,,1\r\n,,,,\r\n002,李四,C1,,2,\r\n",
        ),
    ]);
    assert!(diags.errors.is_empty(), "{:#?}", diags.errors);
    assert_eq!(
        bundle.mode(Entity::Orgs),
        Mode::Absent,
        "an empty file never retires all schools"
    );
    assert_eq!(user(&bundle, "001").given_name, "三");
    assert_eq!(bundle.users.len(), 2);
    let fields: Vec<Option<&str>> = diags.warnings.iter().map(|w| w.field.as_deref()).collect();
    assert!(
        fields.contains(&Some("备注")) && fields.contains(&Some("学号")),
        "{fields:?}"
    );
    assert!(
        diags
            .warnings
            .iter()
            .any(|w| w.message.en.contains("班内学号") || w.message.en.contains("seat_no"))
    );
}

#[test]
fn xueji_grade_codes_and_other_school_years() {
    let classes = "class_id,school_id,school_year,grade,class_name\n\
                   C1,S1,2024-2025学年,11,1班\n\
                   C2,S1,2024,21,2\n\
                   C3,S1,2024,33,高三(1)班\n";
    let (bundle, diags) = run(&[("schools.csv", SCHOOLS), ("classes.csv", classes)]);
    assert!(diags.errors.is_empty(), "{:#?}", diags.errors);
    let titles: Vec<(&str, &[String])> = bundle
        .classes
        .iter()
        .map(|c| (c.record.title.as_str(), c.record.grades.as_slice()))
        .collect();
    assert_eq!(titles[0], ("一年级1班", &["01".to_owned()][..]));
    assert_eq!(titles[1], ("七年级2班", &["07".to_owned()][..]));
    assert_eq!(titles[2], ("高三(1)班", &["12".to_owned()][..]));
    assert_eq!(bundle.sessions[0].record.id.as_str(), "cn-year:2024");
    assert_eq!(bundle.courses.len(), 3);
}

#[test]
fn guardians_without_students_are_linked_but_get_no_role() {
    let guardians = "student_id,guardian_name,relation,phone\n001,张大山,父亲,13800000001\n002,张大山,父亲,13800000001\n";
    let (bundle, diags) = run(&[("guardians.csv", guardians)]);
    assert!(diags.errors.is_empty(), "{:#?}", diags.errors);
    assert_eq!(bundle.guardian_links.len(), 2);
    assert!(bundle.roles.is_empty());
    assert_eq!(
        user(&bundle, "cn-guardian:13800000001").agents,
        [id("001"), id("002")]
    );
    assert_eq!(
        diags.warnings.len(),
        1,
        "one warning, not one per row: {:#?}",
        diags.warnings
    );
    assert_eq!(bundle.mode(Entity::Users), Mode::Delta);
    assert_eq!(bundle.mode(Entity::Enrollments), Mode::Absent);
}

#[test]
fn a_teacher_teaching_in_another_school_gets_a_role_there() {
    let schools = "school_id,school_name\nS1,一小\nS2,二小\n";
    let classes = "class_id,school_id,school_year,grade,class_name\nC1,S1,2025,一年级,1班\nC2,S2,2025,一年级,1班\n";
    let teaching = "teacher_id,class_id,subject\nT1,C1,语文\nT1,C2,语文\n";
    let (bundle, diags) = run(&[
        ("schools.csv", schools),
        ("classes.csv", classes),
        ("teachers.csv", TEACHERS),
        ("teaching.csv", teaching),
    ]);
    assert!(diags.errors.is_empty(), "{:#?}", diags.errors);
    let orgs: Vec<&str> = bundle.roles.iter().map(|r| r.record.org.as_str()).collect();
    assert_eq!(orgs, ["S1", "S2"]);
    assert_eq!(bundle.enrollments[1].record.school, id("S2"));
}
