//! `roster-gen --out DIR [--schools 100] [--seed 1]`: write a synthetic school district as a
//! OneRoster 1.2 (1.2.1 users.csv) bulk CSV package, for the roster-import benchmark
//! (`tests/bench/roster-import.sh`).
//!
//! Per school: 1,350 students (six grades × five homerooms × 45), about 2,000 guardians (one or
//! two per family, some families with two children in the school), 9 teachers, 120 classes
//! (30 homerooms and, for each homeroom, a 语文, 数学 and 英语 class) and 5,520 enrollments (every
//! student in their homeroom and its three subject classes, one teacher per class). For 100
//! schools: 135,000 students, ≈200,000 guardians, 900 teachers, 12,000 classes, 552,000
//! enrollments. The output depends only on `--schools` and `--seed`.

use std::error::Error;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

const GRADES: usize = 6;
const HOMEROOMS_PER_GRADE: usize = 5;
const STUDENTS_PER_HOMEROOM: usize = 45;
const HOMEROOMS: usize = GRADES * HOMEROOMS_PER_GRADE;
const STUDENTS: usize = HOMEROOMS * STUDENTS_PER_HOMEROOM;
const TEACHERS: usize = 9;
/// Share of families with two children at the school (siblings sharing their guardians).
const SIBLING_FAMILIES: f64 = 0.10;
/// Share of families with two guardians (≈2,000 guardians per 1,350 students).
const TWO_GUARDIANS: f64 = 0.63;
/// Share of second guardians who are a grandparent or other legal guardian (role `guardian`).
const SECOND_IS_GUARDIAN: f64 = 0.2;

/// (code, 学科, course code)
const SUBJECTS: [(&str, &str, &str); 3] = [
    ("yw", "语文", "YW"),
    ("sx", "数学", "SX"),
    ("yy", "英语", "YY"),
];
const GRADE_NAMES: [&str; GRADES] = ["一年级", "二年级", "三年级", "四年级", "五年级", "六年级"];

const FAMILY_NAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁",
    "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范", "金", "石", "廖", "贾", "夏",
    "欧阳", "司马", "诸葛", "上官",
];
const GIVEN_CHARS: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀", "霞", "平", "刚", "桂", "英", "华", "玉", "兰", "文", "辉", "鹏", "宇", "浩", "然",
    "子", "涵", "欣", "怡", "梓", "轩", "思", "雨", "博", "嘉", "佳", "琪", "俊", "晨", "睿", "泽",
    "一", "诺", "若", "曦", "天", "佑", "可", "馨", "雅", "婷", "航", "瑞", "昊", "彤", "悦", "安",
];

struct Args {
    out: PathBuf,
    schools: usize,
    seed: u64,
}

fn usage() -> String {
    "usage: roster-gen --out DIR [--schools N (default 100)] [--seed S (default 1)]".to_owned()
}

fn parse_args() -> Result<Args> {
    let mut out = None;
    let mut schools = 100;
    let mut seed = 1;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .ok_or_else(|| format!("{name} needs a value\n{}", usage()))
        };
        match arg.as_str() {
            "--out" => out = Some(PathBuf::from(value("--out")?)),
            "--schools" => schools = value("--schools")?.parse()?,
            "--seed" => seed = value("--seed")?.parse()?,
            "-h" | "--help" => {
                println!("{}", usage());
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}\n{}", usage()).into()),
        }
    }
    let out = out.ok_or_else(usage)?;
    if schools == 0 || schools > 999 {
        return Err("--schools must be between 1 and 999".into());
    }
    Ok(Args { out, schools, seed })
}

/// The spec header of a file, as the importer knows it.
fn header(file: &str) -> Result<&'static [&'static str]> {
    kongjian::roster::oneroster::header(file)
        .ok_or_else(|| format!("no OneRoster header for {file}").into())
}

fn writer(dir: &Path, name: &str, header: &[&str]) -> Result<csv::Writer<BufWriter<File>>> {
    let file = File::create(dir.join(name))?;
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(BufWriter::with_capacity(1 << 20, file));
    w.write_record(header)?;
    Ok(w)
}

/// A unique 11-digit mainland mobile number (13x, 15x or 18x) for `index` < 10^9: the last
/// nine digits are an affine bijection of the index modulo 10^9, so distinct indices never
/// collide, whatever the seed.
fn phone(index: u64, seed: u64) -> String {
    const M: u64 = 1_000_000_000;
    let prefix = ["13", "15", "18"][(index % 3) as usize];
    let body = (index.wrapping_mul(387_420_489) % M + seed.wrapping_mul(104_729) % M) % M;
    format!("{prefix}{body:09}")
}

struct Names {
    rng: StdRng,
}

impl Names {
    fn family(&mut self) -> &'static str {
        // The common names far more often than the compound ones at the end of the list.
        let n = if self.rng.random_bool(0.98) {
            FAMILY_NAMES.len() - 4
        } else {
            FAMILY_NAMES.len()
        };
        FAMILY_NAMES[self.rng.random_range(0..n)]
    }

    fn given(&mut self) -> String {
        let first = GIVEN_CHARS[self.rng.random_range(0..GIVEN_CHARS.len())];
        if self.rng.random_bool(0.7) {
            let second = GIVEN_CHARS[self.rng.random_range(0..GIVEN_CHARS.len())];
            format!("{first}{second}")
        } else {
            first.to_owned()
        }
    }
}

/// One users.csv row (1.2.1, 22 columns; status and dateLastModified blank for bulk).
#[allow(clippy::too_many_arguments)]
fn user_row(
    w: &mut csv::Writer<BufWriter<File>>,
    id: &str,
    username: &str,
    given: &str,
    family: &str,
    identifier: &str,
    email: &str,
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
        email,
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

#[derive(Default)]
struct Totals {
    orgs: usize,
    sessions: usize,
    courses: usize,
    classes: usize,
    students: usize,
    guardians: usize,
    teachers: usize,
    roles: usize,
    enrollments: usize,
}

fn generate(args: &Args) -> Result<Totals> {
    std::fs::create_dir_all(&args.out)?;
    let dir = args.out.as_path();
    let mut totals = Totals::default();
    let mut names = Names {
        rng: StdRng::seed_from_u64(args.seed),
    };
    let mut rng = StdRng::seed_from_u64(args.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 0x5eed);

    // manifest.csv: all 21 file.* rows; what is shipped is bulk, the rest absent.
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
    m.write_record(["source.systemName", "roster-gen (Kongjian benchmark)"])?;
    m.write_record(["source.systemCode", "roster-gen"])?;
    m.flush()?;

    // academicSessions.csv: the 2025-2026 school year and its two semesters (end exclusive).
    let mut s = writer(dir, "academicSessions.csv", header("academicSessions.csv")?)?;
    let year = "sy-2026";
    let terms = "sem-2026-1,sem-2026-2";
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
    s.write_record([
        "sem-2026-1",
        "",
        "",
        "2025-2026学年第一学期",
        "semester",
        "2025-09-01",
        "2026-02-16",
        year,
        "2026",
    ])?;
    s.write_record([
        "sem-2026-2",
        "",
        "",
        "2025-2026学年第二学期",
        "semester",
        "2026-02-16",
        "2026-09-01",
        year,
        "2026",
    ])?;
    s.flush()?;
    totals.sessions = 3;

    let mut orgs = writer(dir, "orgs.csv", header("orgs.csv")?)?;
    let district = "dist-1";
    orgs.write_record([
        district,
        "",
        "",
        "示范区教育局",
        "district",
        "3301000001",
        "",
    ])?;
    totals.orgs = 1;

    let mut courses = writer(dir, "courses.csv", header("courses.csv")?)?;
    let mut classes = writer(dir, "classes.csv", header("classes.csv")?)?;
    let mut users = writer(dir, "users.csv", header("users.csv")?)?;
    let mut roles = writer(dir, "roles.csv", header("roles.csv")?)?;
    let mut enrollments = writer(dir, "enrollments.csv", header("enrollments.csv")?)?;

    let mut guardian_index: u64 = 0;
    for k in 1..=args.schools {
        let school = format!("sch-{k:03}");
        orgs.write_record([
            school.as_str(),
            "",
            "",
            &format!("示范区第{k}小学"),
            "school",
            &format!("{}", 2_133_000_000u64 + k as u64),
            district,
        ])?;
        totals.orgs += 1;

        // Courses: per grade, a homeroom course and one per subject.
        for (g, grade_name) in GRADE_NAMES.iter().enumerate() {
            let grade = format!("{:02}", g + 1);
            courses.write_record([
                format!("crs-{k:03}-g{grade}-hr").as_str(),
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
            for (code, subject, course_code) in SUBJECTS {
                courses.write_record([
                    format!("crs-{k:03}-g{grade}-{code}").as_str(),
                    "",
                    "",
                    year,
                    &format!("{grade_name}{subject}"),
                    &format!("{course_code}{grade}"),
                    &grade,
                    &school,
                    subject,
                    "",
                ])?;
            }
            totals.courses += 1 + SUBJECTS.len();
        }

        // Teachers: three per subject; homerooms' head teachers round-robin.
        let teacher_ids: Vec<String> = (0..TEACHERS)
            .map(|t| format!("tch-{k:03}-{t:02}"))
            .collect();
        for (t, id) in teacher_ids.iter().enumerate() {
            let family = names.family();
            let given = names.given();
            let username = format!("js{k:03}{t:02}");
            user_row(
                &mut users,
                id,
                &username,
                &given,
                family,
                &format!("T{k:03}{t:03}"),
                &format!("{username}@school{k:03}.edu.cn"),
                &phone(900_000_000 + (k * 100 + t) as u64, args.seed),
                "",
                "",
                &school,
            )?;
            roles.write_record([
                format!("role-{id}").as_str(),
                "",
                "",
                id,
                "primary",
                "teacher",
                "",
                "",
                &school,
                "",
            ])?;
        }
        totals.teachers += TEACHERS;
        totals.roles += TEACHERS;

        // Classes and teacher enrollments.
        let mut enrollment_no = 0u32;
        let mut enroll = |w: &mut csv::Writer<BufWriter<File>>,
                          class: &str,
                          user: &str,
                          role: &str,
                          primary: &str|
         -> Result<()> {
            enrollment_no += 1;
            w.write_record([
                format!("enr-{k:03}-{enrollment_no:06}").as_str(),
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
        for h in 0..HOMEROOMS {
            let g = h / HOMEROOMS_PER_GRADE;
            let grade = format!("{:02}", g + 1);
            let title = format!("{}{}班", GRADE_NAMES[g], h % HOMEROOMS_PER_GRADE + 1);
            let homeroom = format!("cls-{k:03}-{h:02}");
            classes.write_record([
                homeroom.as_str(),
                "",
                "",
                &title,
                &grade,
                &format!("crs-{k:03}-g{grade}-hr"),
                &format!("{grade}{:02}", h % HOMEROOMS_PER_GRADE + 1),
                "homeroom",
                &format!("{}号楼{}室", g + 1, 101 + h % HOMEROOMS_PER_GRADE),
                &school,
                year,
                "",
                "",
                "",
            ])?;
            enroll(
                &mut enrollments,
                &homeroom,
                &teacher_ids[h % TEACHERS],
                "teacher",
                "true",
            )?;
            for (si, (code, subject, _)) in SUBJECTS.iter().enumerate() {
                let class = format!("{homeroom}-{code}");
                classes.write_record([
                    class.as_str(),
                    "",
                    "",
                    &format!("{title}{subject}"),
                    &grade,
                    &format!("crs-{k:03}-g{grade}-{code}"),
                    &format!(
                        "{grade}{:02}{}",
                        h % HOMEROOMS_PER_GRADE + 1,
                        code.to_uppercase()
                    ),
                    "scheduled",
                    "",
                    &school,
                    terms,
                    subject,
                    "",
                    &format!("{}", 1 + (h + si) % 8),
                ])?;
                // Three teachers per subject, each with ten of the thirty homerooms.
                let teacher = &teacher_ids[si * 3 + h % 3];
                enroll(&mut enrollments, &class, teacher, "teacher", "true")?;
            }
        }
        totals.classes += HOMEROOMS * (1 + SUBJECTS.len());

        // Families: students are dealt out in a random order, so siblings sit in different classes.
        let mut order: Vec<usize> = (0..STUDENTS).collect();
        for i in (1..order.len()).rev() {
            let j = rng.random_range(0..=i);
            order.swap(i, j);
        }
        let student_id = |i: usize| format!("stu-{k:03}-{i:04}");
        // student slot → (family name, guardians); guardian → (children)
        let mut student_family: Vec<(&'static str, Vec<String>)> = vec![("", Vec::new()); STUDENTS];
        struct Guardian {
            id: String,
            given: String,
            family: &'static str,
            role: &'static str,
            phone: String,
            children: Vec<usize>,
        }
        let mut guardians: Vec<Guardian> = Vec::new();
        let mut next = 0;
        let mut g_no = 0usize;
        while next < STUDENTS {
            let children = if STUDENTS - next >= 2 && rng.random_bool(SIBLING_FAMILIES) {
                2
            } else {
                1
            };
            let kids: Vec<usize> = order[next..next + children].to_vec();
            next += children;
            let surname = names.family();
            let count = if rng.random_bool(TWO_GUARDIANS) { 2 } else { 1 };
            let mut ids = Vec::with_capacity(count);
            for n in 0..count {
                // The first guardian is the father (the children's surname) or the mother; a
                // second one is the other parent or, sometimes, a grandparent (role guardian).
                let father_first = rng.random_bool(0.5);
                let (family, role) = match n {
                    0 if father_first => (surname, "parent"),
                    0 => (names.family(), "parent"),
                    _ if rng.random_bool(SECOND_IS_GUARDIAN) => (names.family(), "guardian"),
                    _ => (
                        if father_first {
                            names.family()
                        } else {
                            surname
                        },
                        "parent",
                    ),
                };
                let id = format!("gdn-{k:03}-{g_no:04}");
                g_no += 1;
                guardians.push(Guardian {
                    id: id.clone(),
                    given: names.given(),
                    family,
                    role,
                    phone: phone(guardian_index, args.seed),
                    children: kids.clone(),
                });
                guardian_index += 1;
                ids.push(id);
            }
            for &kid in &kids {
                student_family[kid] = (surname, ids.clone());
            }
        }

        // Students, in class order.
        for (i, (surname, agents)) in student_family.iter().enumerate() {
            let id = student_id(i);
            let h = i / STUDENTS_PER_HOMEROOM;
            let grade = format!("{:02}", h / HOMEROOMS_PER_GRADE + 1);
            user_row(
                &mut users,
                &id,
                &format!("xs{k:03}{i:04}"),
                &names.given(),
                surname,
                &format!("{:02}", i % STUDENTS_PER_HOMEROOM + 1),
                "",
                "",
                &agents.join(","),
                &grade,
                &school,
            )?;
            roles.write_record([
                format!("role-{id}").as_str(),
                "",
                "",
                &id,
                "primary",
                "student",
                "",
                "",
                &school,
                "",
            ])?;
            let homeroom = format!("cls-{k:03}-{h:02}");
            enroll(&mut enrollments, &homeroom, &id, "student", "")?;
            for (code, ..) in SUBJECTS {
                enroll(
                    &mut enrollments,
                    &format!("{homeroom}-{code}"),
                    &id,
                    "student",
                    "",
                )?;
            }
        }
        totals.students += STUDENTS;
        totals.roles += STUDENTS;

        for g in &guardians {
            let children: Vec<String> = g.children.iter().map(|&c| student_id(c)).collect();
            user_row(
                &mut users,
                &g.id,
                &g.phone,
                &g.given,
                g.family,
                "",
                "",
                &g.phone,
                &children.join(","),
                "",
                &school,
            )?;
            roles.write_record([
                format!("role-{}", g.id).as_str(),
                "",
                "",
                &g.id,
                "primary",
                g.role,
                "",
                "",
                &school,
                "",
            ])?;
        }
        totals.guardians += guardians.len();
        totals.roles += guardians.len();
        totals.enrollments += enrollment_no as usize;
    }
    for w in [
        &mut orgs,
        &mut courses,
        &mut classes,
        &mut users,
        &mut roles,
        &mut enrollments,
    ] {
        w.flush()?;
    }
    Ok(totals)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(err) => {
            eprintln!("roster-gen: {err}");
            return ExitCode::from(2);
        }
    };
    let started = std::time::Instant::now();
    match generate(&args) {
        Ok(t) => {
            eprintln!(
                "roster-gen: {} schools → {}: orgs {}, academicSessions {}, courses {}, classes {}, users {} (students {}, guardians {}, teachers {}), roles {}, enrollments {} in {:.2} s",
                args.schools,
                args.out.display(),
                t.orgs,
                t.sessions,
                t.courses,
                t.classes,
                t.students + t.guardians + t.teachers,
                t.students,
                t.guardians,
                t.teachers,
                t.roles,
                t.enrollments,
                started.elapsed().as_secs_f64()
            );
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("roster-gen: {err}");
            ExitCode::FAILURE
        }
    }
}
