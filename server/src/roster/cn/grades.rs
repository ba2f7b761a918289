//! 年级 and 学年: grade names and codes to the levels 1–12 (`01`…`12` in OneRoster `grades`),
//! and a school year to the year it starts.

use super::values::half_width;
use crate::roster::diagnostics::Message;

/// `2025`, `2025-2026`, `2025学年`, `2025-2026学年` → 2025 (the year the school year starts).
pub(super) fn school_year(raw: &str) -> Result<i32, Message> {
    let value = half_width(raw);
    let value = ["学年度", "学年", "年度", "年"]
        .iter()
        .find_map(|suffix| value.strip_suffix(suffix))
        .unwrap_or(&value)
        .trim();
    let (start, end) = match value.split_once(['-', '—', '–', '~', '～', '/', '至']) {
        Some((start, end)) => (start.trim(), Some(end.trim())),
        None => (value, None),
    };
    let year = (start.len() == 4)
        .then(|| start.parse::<i32>().ok())
        .flatten()
        .filter(|y| (2000..=2099).contains(y));
    let consistent = |year: i32| match end {
        None => true,
        Some(end) => {
            end.parse::<i32>().ok() == Some(year + 1)
                || end.parse::<i32>().ok() == Some((year + 1) % 100)
        }
    };
    match year {
        Some(year) if consistent(year) => Ok(year),
        _ => Err(Message::new(
            format!("无法识别的学年“{raw}”：应为学年开始的年份，如 2025（即 2025-2026学年）"),
            format!(
                "unrecognised school year \"{raw}\": use the year it starts, e.g. 2025 (= 2025-2026)"
            ),
        )),
    }
}

/// A grade as a level 1–12 (小学一年级 = 1, 初一 = 7, 高一 = 10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(super) struct Grade(u8);

impl Grade {
    /// The two-digit CEDS-style code used in OneRoster `grades`: `01` … `12`.
    pub(super) fn code(self) -> String {
        format!("{:02}", self.0)
    }

    /// The usual Chinese name: 一年级 … 九年级, 高一 … 高三.
    pub(super) fn label(self) -> &'static str {
        const LABELS: [&str; 12] = [
            "一年级",
            "二年级",
            "三年级",
            "四年级",
            "五年级",
            "六年级",
            "七年级",
            "八年级",
            "九年级",
            "高一",
            "高二",
            "高三",
        ];
        LABELS
            .get(usize::from(self.0).wrapping_sub(1))
            .copied()
            .unwrap_or("")
    }
}

/// How a file writes its numeric grades: 学籍 codes (11–16 小学, 21–23 初中, 31–33 高中) or
/// grade numbers (01–12). `11` and `12` are both; the rest of the file decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum GradeNumbers {
    Xueji,
    Plain,
    Unknown,
}

impl GradeNumbers {
    /// Decide from all grade values of a file.
    pub(super) fn detect<'a>(values: impl Iterator<Item = &'a str>) -> GradeNumbers {
        let (mut xueji, mut plain) = (false, false);
        for value in values {
            let value = half_width(value.trim());
            if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            match value.parse::<u8>() {
                Ok(13..=16 | 21..=23 | 31..=33) => xueji = true,
                Ok(1..=10) => plain = true,
                _ => {}
            }
        }
        match (xueji, plain) {
            (true, false) => GradeNumbers::Xueji,
            (false, true) => GradeNumbers::Plain,
            _ => GradeNumbers::Unknown,
        }
    }
}

/// Chinese numerals and digits 1–12 as used in grade names.
fn grade_number(value: &str) -> Option<u8> {
    const NUMERALS: [&str; 12] = [
        "一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二",
    ];
    let at = NUMERALS.iter().position(|n| *n == value);
    at.and_then(|at| u8::try_from(at + 1).ok())
        .or_else(|| value.parse::<u8>().ok().filter(|n| (1..=12).contains(n)))
}

/// 一年级…六年级 (小学 prefix allowed), 七/八/九年级, 初一…初三, 高一…高三 (初中/高中 … 年级
/// too), `N年级`, and numbers: 01–12, or 学籍 codes 11–16, 21–23, 31–33.
pub(super) fn grade(raw: &str, numbers: GradeNumbers) -> Result<Grade, Message> {
    let value: String = half_width(raw)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let value = value.as_str();
    let level = if value.bytes().all(|b| b.is_ascii_digit()) && !value.is_empty() {
        match (value.parse::<u8>().unwrap_or(0), numbers) {
            (11 | 12, GradeNumbers::Unknown) => {
                return Err(Message::new(
                    format!(
                        "年级代码“{raw}”有歧义：可能是学籍年级代码（小学{}年级），也可能是{}；\
                         请改用中文年级名称，如“一年级”或“高二”",
                        if value == "11" { "一" } else { "二" },
                        if value == "11" {
                            "高二（11 年级）"
                        } else {
                            "高三（12 年级）"
                        },
                    ),
                    format!(
                        "the grade code \"{raw}\" is ambiguous: a 学籍 grade code (primary {}) or \
                         grade {value}; write the grade in Chinese, e.g. 一年级 or 高二",
                        if value == "11" { "year 1" } else { "year 2" },
                    ),
                ));
            }
            (n @ 11..=16, GradeNumbers::Xueji) => Some(n - 10),
            (n @ 1..=12, _) => Some(n),
            (n @ 13..=16, _) => Some(n - 10),
            (n @ 21..=23, _) => Some(n - 21 + 7),
            (n @ 31..=33, _) => Some(n - 31 + 10),
            _ => None,
        }
    } else if let Some(rest) = value
        .strip_prefix("初中")
        .or_else(|| value.strip_prefix('初'))
    {
        grade_number(rest.strip_suffix("年级").unwrap_or(rest))
            .filter(|n| *n <= 3)
            .map(|n| n + 6)
    } else if let Some(rest) = value
        .strip_prefix("高中")
        .or_else(|| value.strip_prefix('高'))
    {
        grade_number(rest.strip_suffix("年级").unwrap_or(rest))
            .filter(|n| *n <= 3)
            .map(|n| n + 9)
    } else if let Some(rest) = value.strip_prefix("小学") {
        rest.strip_suffix("年级")
            .and_then(grade_number)
            .filter(|n| *n <= 6)
    } else {
        value.strip_suffix("年级").and_then(grade_number)
    };
    level.map(Grade).ok_or_else(|| {
        Message::new(
            format!("不认识的年级“{raw}”：应为 一年级…九年级、初一…初三、高一…高三，或代码 01–12"),
            format!(
                "unknown grade \"{raw}\": use 一年级…九年级, 初一…初三, 高一…高三 or a code 01–12"
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grades_in_every_spelling() {
        let g = |raw: &str| grade(raw, GradeNumbers::Unknown).map(Grade::code);
        for (raw, code) in [
            ("一年级", "01"),
            ("小学六年级", "06"),
            ("七年级", "07"),
            ("初一", "07"),
            ("初中三年级", "09"),
            ("九年级", "09"),
            ("高一", "10"),
            ("高中三年级", "12"),
            ("3年级", "03"),
            ("07", "07"),
            ("10", "10"),
            ("13", "03"),
            ("21", "07"),
            ("33", "12"),
        ] {
            assert_eq!(g(raw).as_deref(), Ok(code), "{raw}");
        }
        for raw in ["初四", "幼儿园", "十三年级", "0", "40", ""] {
            assert!(g(raw).is_err(), "{raw}");
        }
        assert!(g("11").unwrap_err().zh.contains("歧义"));
        assert_eq!(
            grade("11", GradeNumbers::Xueji).map(Grade::code).as_deref(),
            Ok("01")
        );
        assert_eq!(
            grade("12", GradeNumbers::Plain).map(Grade::code).as_deref(),
            Ok("12")
        );
        assert_eq!(
            GradeNumbers::detect(["11", "14", "21"].into_iter()),
            GradeNumbers::Xueji
        );
        assert_eq!(
            GradeNumbers::detect(["07", "12"].into_iter()),
            GradeNumbers::Plain
        );
        assert_eq!(
            GradeNumbers::detect(["11", "一年级"].into_iter()),
            GradeNumbers::Unknown
        );
        assert_eq!(
            grade("初二", GradeNumbers::Unknown).map(Grade::label),
            Ok("八年级")
        );
        assert_eq!(
            grade("33", GradeNumbers::Unknown).map(Grade::label),
            Ok("高三")
        );
    }

    #[test]
    fn school_years() {
        for raw in [
            "2025",
            "2025-2026",
            "2025-2026学年",
            "2025学年",
            "2025—26",
            "２０２５",
        ] {
            assert_eq!(school_year(raw), Ok(2025), "{raw}");
        }
        for raw in ["2025-2027", "25", "1999", "二〇二五"] {
            assert!(school_year(raw).is_err(), "{raw}");
        }
    }
}
