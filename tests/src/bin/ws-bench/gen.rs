//! `ws-bench gen`: a district sized for the messaging benchmark, as a OneRoster 1.2 bulk CSV
//! package (users.csv in the 1.2.1 shape, the same shape `roster-gen` writes).
//!
//! Classes are homerooms of `class-size / 1.5` students (40 for 60), each student with one or two
//! parents (1.5 on average), so a class notice reaches about `class-size` parents; there are no
//! siblings, so every parent belongs to exactly one class. Every class has a head teacher, and
//! every other class a second (subject) teacher; no teacher teaches two classes. Thirty classes
//! make a school. The output depends only on the arguments.

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;

use anyhow::{Context, Result, bail};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const CLASSES_PER_SCHOOL: usize = 30;
const HOMEROOMS_PER_GRADE: usize = 5;
const GRADE_NAMES: [&str; 6] = ["一年级", "二年级", "三年级", "四年级", "五年级", "六年级"];
const FAMILY_NAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
];
const GIVEN_CHARS: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "子", "涵", "欣", "怡", "梓", "轩", "思", "雨", "博", "嘉", "佳", "琪", "俊", "晨", "睿", "泽",
];

pub struct GenArgs<'a> {
    pub out: &'a Path,
    pub parents: usize,
    pub class_size: usize,
    pub seed: u64,
}

#[derive(Debug, Default)]
pub struct Totals {
    pub schools: usize,
    pub classes: usize,
    pub students: usize,
    pub parents: usize,
    pub teachers: usize,
    pub enrollments: usize,
}

fn header(file: &str) -> Result<&'static [&'static str]> {
    kongjian::roster::oneroster::header(file).with_context(|| format!("no header for {file}"))
}

fn writer(dir: &Path, name: &str, header: &[&str]) -> Result<csv::Writer<BufWriter<File>>> {
    let file = File::create(dir.join(name)).with_context(|| format!("creating {name}"))?;
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(BufWriter::with_capacity(1 << 20, file));
    w.write_record(header)?;
    Ok(w)
}

/// A unique 11-digit mobile number for `index` < 10^9 (as in roster-gen).
fn phone(index: u64, seed: u64) -> String {
    const M: u64 = 1_000_000_000;
    let prefix = ["13", "15", "18"][(index % 3) as usize];
    let body = (index.wrapping_mul(387_420_489) % M + seed.wrapping_mul(104_729) % M) % M;
    format!("{prefix}{body:09}")
}

fn name(rng: &mut StdRng) -> (&'static str, String) {
    let family = FAMILY_NAMES[rng.random_range(0..FAMILY_NAMES.len())];
    let mut given = GIVEN_CHARS[rng.random_range(0..GIVEN_CHARS.len())].to_owned();
    if rng.random_bool(0.7) {
        given.push_str(GIVEN_CHARS[rng.random_range(0..GIVEN_CHARS.len())]);
    }
    (family, given)
}

/// One users.csv row (1.2.1, 22 columns).
#[allow(clippy::too_many_arguments)]
fn user_row(
    w: &mut csv::Writer<BufWriter<File>>,
    id: &str,
    username: &str,
    given: &str,
    family: &str,
    identifier: &str,
    phone: &str,
    agents: &str,
    grades: &str,
    primary_org: &str,
) -> Result<()> {
    w.write_record([
        id,
        "",
        "",
        "true",
        username,
        "",
        given,
        family,
        "",
        identifier,
        "",
        "",
        phone,
        agents,
        grades,
        "",
        "",
        "",
        "",
        "",
        primary_org,
        "",
    ])?;
    Ok(())
}

fn role_row(w: &mut csv::Writer<BufWriter<File>>, user: &str, role: &str, org: &str) -> Result<()> {
    w.write_record([
        format!("role-{user}").as_str(),
        "",
        "",
        user,
        "primary",
        role,
        "",
        "",
        org,
        "",
    ])?;
    Ok(())
}

pub fn generate(args: &GenArgs) -> Result<Totals> {
    if args.parents == 0 || args.class_size < 2 {
        bail!("--parents must be at least 1 and --class-size at least 2");
    }
    std::fs::create_dir_all(args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let dir = args.out;
    let mut rng = StdRng::seed_from_u64(args.seed);

    // 1.5 parents per student: students = 2/3 · parents (rounded), parents − students of them
    // with two.
    let students = (2 * args.parents + 1) / 3;
    let per_class = ((args.class_size as f64 / 1.5).round() as usize).max(1);
    let classes = students.div_ceil(per_class);
    let schools = classes.div_ceil(CLASSES_PER_SCHOOL);
    let mut two_parents = vec![false; students];
    {
        let mut order: Vec<usize> = (0..students).collect();
        for i in (1..order.len()).rev() {
            order.swap(i, rng.random_range(0..=i));
        }
        for &s in order.iter().take(args.parents - students) {
            two_parents[s] = true;
        }
    }

    let mut m = writer(dir, "manifest.csv", &["propertyName", "value"])?;
    m.write_record(["manifest.version", "1.0"])?;
    m.write_record(["oneroster.version", "1.2"])?;
    let shipped = [
        "academicSessions",
        "classes",
        "courses",
        "enrollments",
        "orgs",
        "roles",
        "users",
    ];
    for file in kongjian::roster::oneroster::MANIFEST_FILES {
        let mode = if shipped.contains(&file) {
            "bulk"
        } else {
            "absent"
        };
        m.write_record([format!("file.{file}").as_str(), mode])?;
    }
    m.write_record([
        "source.systemName",
        "ws-bench gen (Kongjian messaging benchmark)",
    ])?;
    m.write_record(["source.systemCode", "ws-bench"])?;
    m.flush()?;

    let year = "sy-2026";
    let mut s = writer(dir, "academicSessions.csv", header("academicSessions.csv")?)?;
    s.write_record([
        year,
        "",
        "",
        "2025-2026学年",
        "schoolYear",
        "2025-09-01",
        "2026-09-01",
        "",
        "2026",
    ])?;
    s.flush()?;

    let mut orgs = writer(dir, "orgs.csv", header("orgs.csv")?)?;
    let district = "dist-msg";
    orgs.write_record([
        district,
        "",
        "",
        "消息测试区教育局",
        "district",
        "3309000001",
        "",
    ])?;
    let mut courses = writer(dir, "courses.csv", header("courses.csv")?)?;
    let mut class_file = writer(dir, "classes.csv", header("classes.csv")?)?;
    let mut users = writer(dir, "users.csv", header("users.csv")?)?;
    let mut roles = writer(dir, "roles.csv", header("roles.csv")?)?;
    let mut enrollments = writer(dir, "enrollments.csv", header("enrollments.csv")?)?;

    let mut totals = Totals {
        schools,
        classes,
        students,
        ..Totals::default()
    };
    let mut phone_no: u64 = 0;
    for k in 1..=schools {
        let school = format!("msch-{k:03}");
        orgs.write_record([
            school.as_str(),
            "",
            "",
            &format!("消息测试第{k}小学"),
            "school",
            &format!("{}", 2_139_000_000u64 + k as u64),
            district,
        ])?;
        for (g, grade_name) in GRADE_NAMES.iter().enumerate() {
            let grade = format!("{:02}", g + 1);
            courses.write_record([
                format!("mcrs-{k:03}-g{grade}").as_str(),
                "",
                "",
                year,
                &format!("{grade_name}行政班"),
                &format!("HR{grade}"),
                &grade,
                &school,
                "",
                "",
            ])?;
        }
        let mut enrollment_no = 0usize;
        let mut enroll = |w: &mut csv::Writer<BufWriter<File>>,
                          class: &str,
                          user: &str,
                          role: &str,
                          primary: &str|
         -> Result<()> {
            enrollment_no += 1;
            w.write_record([
                format!("menr-{k:03}-{enrollment_no:06}").as_str(),
                "",
                "",
                class,
                &school,
                user,
                role,
                primary,
                "",
                "",
            ])?;
            Ok(())
        };
        let mut teacher_no = 0usize;
        let mut parent_no = 0usize;
        let first_class = (k - 1) * CLASSES_PER_SCHOOL;
        for c in first_class..classes.min(first_class + CLASSES_PER_SCHOOL) {
            let h = c - first_class;
            let g = (h / HOMEROOMS_PER_GRADE).min(GRADE_NAMES.len() - 1);
            let grade = format!("{:02}", g + 1);
            let class = format!("mcls-{k:03}-{h:02}");
            class_file.write_record([
                class.as_str(),
                "",
                "",
                &format!("{}{}班", GRADE_NAMES[g], h % HOMEROOMS_PER_GRADE + 1),
                &grade,
                &format!("mcrs-{k:03}-g{grade}"),
                &format!("{grade}{:02}", h % HOMEROOMS_PER_GRADE + 1),
                "homeroom",
                "",
                &school,
                year,
                "",
                "",
                "",
            ])?;
            // Teachers: the head teacher, and a second one for every other class.
            let teachers = if c % 2 == 0 { 2 } else { 1 };
            for t in 0..teachers {
                let id = format!("mtch-{k:03}-{teacher_no:03}");
                let username = format!("mjs{k:03}{teacher_no:03}");
                teacher_no += 1;
                let (family, given) = name(&mut rng);
                user_row(
                    &mut users,
                    &id,
                    &username,
                    &given,
                    family,
                    &format!("T{k:03}{teacher_no:03}"),
                    &phone(900_000_000 + phone_no, args.seed),
                    "",
                    "",
                    &school,
                )?;
                phone_no += 1;
                role_row(&mut roles, &id, "teacher", &school)?;
                enroll(
                    &mut enrollments,
                    &class,
                    &id,
                    "teacher",
                    if t == 0 { "true" } else { "false" },
                )?;
                totals.teachers += 1;
            }
            // Students of this class: an even share of all students.
            let from = c * students / classes;
            let to = (c + 1) * students / classes;
            for (n, s) in (from..to).enumerate() {
                let student = format!("mstu-{k:03}-{s:05}");
                let (family, given) = name(&mut rng);
                let count = if two_parents[s] { 2 } else { 1 };
                let mut agents = Vec::with_capacity(count);
                for p in 0..count {
                    let id = format!("mgdn-{k:03}-{parent_no:05}");
                    parent_no += 1;
                    let (parent_family, parent_given) = name(&mut rng);
                    let number = phone(phone_no, args.seed);
                    phone_no += 1;
                    user_row(
                        &mut users,
                        &id,
                        &number,
                        &parent_given,
                        if p == 0 { family } else { parent_family },
                        "",
                        &number,
                        &student,
                        "",
                        &school,
                    )?;
                    role_row(&mut roles, &id, "parent", &school)?;
                    agents.push(id);
                    totals.parents += 1;
                }
                user_row(
                    &mut users,
                    &student,
                    &format!("mxs{k:03}{s:05}"),
                    &given,
                    family,
                    &format!("{:02}", n + 1),
                    "",
                    &agents.join(","),
                    &grade,
                    &school,
                )?;
                role_row(&mut roles, &student, "student", &school)?;
                enroll(&mut enrollments, &class, &student, "student", "")?;
            }
        }
        totals.enrollments += enrollment_no;
    }
    for w in [
        &mut orgs,
        &mut courses,
        &mut class_file,
        &mut users,
        &mut roles,
        &mut enrollments,
    ] {
        w.flush()?;
    }
    Ok(totals)
}
