//! The columns of each cn-roster v1 file: English names, the Chinese headers accepted for them,
//! and which are required. `assets/cn-roster-example/README.md` documents the same table.
//!
//! Aliases are written normalised (see `table::normalise_header`): ASCII lower case, spaces as
//! `_`. `学籍号` is deliberately only an alias of `national_student_no`, never of an id: the
//! national student number embeds the ID-card number and must not become a sourcedId.

/// One column of a file.
pub(super) struct Column {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub required: bool,
}

/// One file of the set.
pub(super) struct FileSpec {
    pub name: &'static str,
    pub columns: &'static [Column],
    /// Columns recognised by pattern rather than listed (students.csv `guardian1_name` …).
    pub pattern: Option<fn(&str) -> Option<String>>,
}

const fn req(name: &'static str, aliases: &'static [&'static str]) -> Column {
    Column {
        name,
        aliases,
        required: true,
    }
}

const fn opt(name: &'static str, aliases: &'static [&'static str]) -> Column {
    Column {
        name,
        aliases,
        required: false,
    }
}

const SCHOOL_ID: &[&str] = &["学校编号", "学校id", "school_sourcedid"];
const CLASS_ID: &[&str] = &["班级编号", "班级id", "class_sourcedid"];
const STUDENT_ID: &[&str] = &["学生编号", "学生id", "student_sourcedid"];
const TEACHER_ID: &[&str] = &["工号", "教师工号", "教职工号", "教师编号", "教师id"];
const PHONE: &[&str] = &["手机号", "手机号码", "手机", "联系电话", "电话", "mobile"];
const GENDER: &[&str] = &["性别", "sex"];

pub(super) const SCHOOLS: FileSpec = FileSpec {
    name: "schools.csv",
    columns: &[
        req("school_id", SCHOOL_ID),
        req("school_name", &["学校名称", "学校", "校名", "学校全称"]),
        opt("school_code", &["学校标识码", "学校代码", "标识码"]),
        opt(
            "region_code",
            &["行政区划代码", "区划代码", "所在地区划代码"],
        ),
        opt("stage", &["学段", "办学类型"]),
        opt(
            "district_id",
            &["区县编号", "教育局编号", "学区编号", "区县id"],
        ),
        opt(
            "district_name",
            &["区县名称", "教育局名称", "学区名称", "区县"],
        ),
    ],
    pattern: None,
};

pub(super) const CLASSES: FileSpec = FileSpec {
    name: "classes.csv",
    columns: &[
        req("class_id", CLASS_ID),
        req("school_id", SCHOOL_ID),
        req("school_year", &["学年", "学年度"]),
        req("grade", &["年级"]),
        req("class_name", &["班级名称", "班级", "班名", "班号"]),
        opt("head_teacher_id", &["班主任工号", "班主任编号", "班主任id"]),
        opt("school_name", &["学校名称"]),
        opt("head_teacher_name", &["班主任", "班主任姓名"]),
    ],
    pattern: None,
};

pub(super) const STUDENTS: FileSpec = FileSpec {
    name: "students.csv",
    columns: &[
        req("student_id", STUDENT_ID),
        req("name", &["姓名", "学生姓名"]),
        opt("family_name", &["姓"]),
        opt("given_name", &["名"]),
        opt("gender", GENDER),
        opt("birth_date", &["出生日期", "生日"]),
        req("class_id", CLASS_ID),
        opt("school_id", SCHOOL_ID),
        opt("seat_no", &["班内学号", "座号"]),
        opt("national_student_no", &["全国学籍号", "学籍号"]),
        opt("status", &["学籍状态", "在读状态", "状态"]),
        opt("class_name", &["班级名称", "班级"]),
    ],
    pattern: Some(inline_guardian_column),
};

pub(super) const GUARDIANS: FileSpec = FileSpec {
    name: "guardians.csv",
    columns: &[
        req("student_id", STUDENT_ID),
        req("guardian_name", &["家长姓名", "监护人姓名", "姓名"]),
        req("relation", &["关系", "与学生关系", "家庭关系", "亲属关系"]),
        req(
            "phone",
            &[
                "手机号",
                "手机号码",
                "手机",
                "联系电话",
                "电话",
                "家长手机号",
                "家长电话",
                "mobile",
            ],
        ),
        opt("is_legal_guardian", &["是否监护人", "是否法定监护人"]),
        opt("guardian_id", &["家长编号", "监护人编号", "家长id"]),
        opt("priority", &["优先级", "联系顺序", "顺序"]),
        opt("student_name", &["学生姓名"]),
    ],
    pattern: None,
};

pub(super) const TEACHERS: FileSpec = FileSpec {
    name: "teachers.csv",
    columns: &[
        req("teacher_id", TEACHER_ID),
        req("name", &["姓名", "教师姓名"]),
        opt("family_name", &["姓"]),
        opt("given_name", &["名"]),
        opt("gender", GENDER),
        req("phone", PHONE),
        opt("email", &["邮箱", "电子邮箱", "电子邮件", "e-mail"]),
        req("school_id", SCHOOL_ID),
        opt("subjects", &["任教学科", "学科", "科目"]),
        opt("status", &["在职状态", "状态"]),
    ],
    pattern: None,
};

pub(super) const TEACHING: FileSpec = FileSpec {
    name: "teaching.csv",
    columns: &[
        req("teacher_id", TEACHER_ID),
        req("class_id", CLASS_ID),
        req("subject", &["学科", "科目", "任教学科", "课程"]),
        opt("school_id", SCHOOL_ID),
        opt("teacher_name", &["教师姓名", "姓名"]),
        opt("class_name", &["班级名称", "班级"]),
    ],
    pattern: None,
};

/// The inline guardian fields of students.csv (single-sheet fallback), per guardian number.
pub(super) const INLINE_FIELDS: [&str; 5] =
    ["name", "relation", "phone", "is_legal_guardian", "id"];
/// Inline guardians per student at most (`guardian1_…` to `guardian4_…`).
pub(super) const INLINE_MAX: u8 = 4;

/// `guardian1_name`, `家长1姓名`, `监护人2手机号` … → `guardian{n}_{field}`.
fn inline_guardian_column(header: &str) -> Option<String> {
    let rest = ["guardian", "家长", "监护人"]
        .iter()
        .find_map(|prefix| header.strip_prefix(prefix))?;
    let rest = rest.strip_prefix('_').unwrap_or(rest);
    let mut chars = rest.chars();
    let n = match chars.next()? {
        c @ '1'..='9' => u8::try_from(c.to_digit(10)?).ok()?,
        '一' => 1,
        '二' => 2,
        '三' => 3,
        '四' => 4,
        _ => return None,
    };
    if n > INLINE_MAX {
        return None;
    }
    let suffix = chars.as_str();
    let suffix = suffix.strip_prefix('_').unwrap_or(suffix);
    let field = match suffix {
        "name" | "姓名" => "name",
        "relation" | "关系" | "与学生关系" => "relation",
        "phone" | "手机号" | "手机号码" | "手机" | "电话" | "联系电话" => "phone",
        "is_legal_guardian" | "是否监护人" => "is_legal_guardian",
        "id" | "编号" => "id",
        _ => return None,
    };
    Some(format!("guardian{n}_{field}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_guardian_columns_are_recognised_in_both_languages() {
        assert_eq!(
            inline_guardian_column("guardian1_name").as_deref(),
            Some("guardian1_name")
        );
        assert_eq!(
            inline_guardian_column("guardian_2_phone").as_deref(),
            Some("guardian2_phone")
        );
        assert_eq!(
            inline_guardian_column("家长1手机号").as_deref(),
            Some("guardian1_phone")
        );
        assert_eq!(
            inline_guardian_column("监护人二关系").as_deref(),
            Some("guardian2_relation")
        );
        assert_eq!(inline_guardian_column("guardian9_name"), None);
        assert_eq!(inline_guardian_column("guardian1_address"), None);
    }
}
