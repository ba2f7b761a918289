//! Parsing single values of the Chinese roster: mobile numbers, 性别, dates,
//! GB/T 4761 family relations, 学籍状态, 是/否, and spotting Excel's number damage
//! (年级 and 学年 are in `grades.rs`).
//!
//! Errors are returned as messages; callers attach file, line and field. Messages never echo
//! a 全国学籍号 (it embeds the ID-card number).

use chrono::NaiveDate;

use crate::roster::diagnostics::Message;
use crate::roster::model::{Relation, Sex, Status};

/// Full-width digits and signs (１３８…, ＋８６) as ASCII; Chinese input methods produce them.
pub(super) fn half_width(value: &str) -> String {
    value
        .chars()
        .map(|c| match c {
            '０'..='９' | '＋' | '－' | '．' | '（' | '）' | '／' => {
                char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c)
            }
            c => c,
        })
        .collect()
}

/// `1.38001E+10`, `4.40106E+17`, `1E+11`: what Excel writes for a long number in a column not
/// formatted as text. The digits are lost; the only fix is to re-export.
pub(super) fn is_scientific(value: &str) -> bool {
    let value = half_width(value.trim());
    let Some((mantissa, exponent)) = value.split_once(['e', 'E']) else {
        return false;
    };
    let exponent = exponent.strip_prefix('+').unwrap_or(exponent);
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, "0"));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    digits(whole) && digits(fraction) && digits(exponent)
}

/// The message for [`is_scientific`] values. It does not echo the value (it may be a 学籍号).
pub(super) fn excel_number_message() -> Message {
    Message::new(
        "该值被 Excel 转成了数字（科学计数法），原来的数字已经丢失；请在 Excel 中把这一列设置为\
         “文本”格式，重新填写或从原系统重新导出",
        "Excel converted this column to numbers (scientific notation) and the original digits are \
         lost; format the column as text in Excel and re-enter or re-export the values",
    )
}

/// A mainland mobile number, normalised to 11 digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Phone {
    pub number: String,
    /// The cell held several numbers; the first was taken.
    pub several: bool,
}

/// `+86 138-0013-8000` → `13800138000`. Must match `^1[3-9]\d{9}$` after removing spaces,
/// dashes, brackets and a leading +86/0086/86. With several numbers in one cell, the first.
pub(super) fn phone(raw: &str) -> Result<Phone, Message> {
    if is_scientific(raw) {
        return Err(excel_number_message());
    }
    let value = half_width(raw);
    let mut parts = value
        .split(['/', ';', '；', '、', ',', '，', '|'])
        .filter(|p| !p.trim().is_empty());
    let first = parts.next().unwrap_or("");
    let several = parts.next().is_some();
    let digits: String = first
        .chars()
        .filter(|c| !(c.is_whitespace() || matches!(c, '-' | '—' | '–' | '(' | ')')))
        .collect();
    let number = digits
        .strip_prefix("+86")
        .or_else(|| digits.strip_prefix("0086"))
        .or_else(|| digits.strip_prefix("86").filter(|rest| rest.len() == 11))
        .unwrap_or(&digits);
    let bytes = number.as_bytes();
    let valid = bytes.len() == 11
        && bytes[0] == b'1'
        && (b'3'..=b'9').contains(&bytes[1])
        && bytes.iter().all(u8::is_ascii_digit);
    if valid {
        Ok(Phone {
            number: number.to_owned(),
            several,
        })
    } else {
        Err(Message::new(
            format!("“{raw}”不是有效的手机号：应为 11 位中国大陆手机号，如 13800138000"),
            format!(
                "\"{raw}\" is not a valid mobile number: 11 digits, mainland China, e.g. 13800138000"
            ),
        ))
    }
}

/// 男/女, GB/T 2261.1 codes (1 男, 2 女, 0 未知, 9 未说明), M/F.
pub(super) fn sex(raw: &str) -> Result<Sex, Message> {
    match half_width(raw).to_lowercase().as_str() {
        "男" | "男性" | "1" | "m" | "male" => Ok(Sex::Male),
        "女" | "女性" | "2" | "f" | "female" => Ok(Sex::Female),
        "未知" | "未说明" | "0" | "9" => Ok(Sex::Unspecified),
        _ => Err(Message::new(
            format!("不认识的性别“{raw}”：应为 男、女、1（男）或 2（女）"),
            format!("unknown gender \"{raw}\": use 男, 女, 1 (male) or 2 (female)"),
        )),
    }
}

/// `YYYY-MM-DD` or `YYYYMMDD`; also `YYYY/M/D`, `YYYY.M.D`, `YYYY年M月D日` and Excel's
/// `2014/3/5 0:00`.
pub(super) fn date(raw: &str) -> Result<NaiveDate, Message> {
    let value = half_width(raw);
    let value = value.split_whitespace().next().unwrap_or("");
    let groups: Vec<&str> = value
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .collect();
    let separated_only = value
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '-' | '/' | '.' | '年' | '月' | '日'));
    let ymd = match groups.as_slice() {
        [all] if all.len() == 8 => Some((&all[..4], &all[4..6], &all[6..])),
        [y, m, d] if y.len() == 4 && m.len() <= 2 && d.len() <= 2 => Some((*y, *m, *d)),
        _ => None,
    };
    let parsed = ymd.filter(|_| separated_only).and_then(|(y, m, d)| {
        let year: i32 = y.parse().ok().filter(|y| (1900..=2100).contains(y))?;
        NaiveDate::from_ymd_opt(year, m.parse().ok()?, d.parse().ok()?)
    });
    parsed.ok_or_else(|| {
        let serial = value.len() == 5 && value.bytes().all(|b| b.is_ascii_digit());
        let (hint, hint_en) = if serial {
            ("（看起来是 Excel 的日期序号，请把这一列设置为日期或文本格式后重新导出）", " (it looks like an Excel date serial number; format the column as a date or text and re-export)")
        } else {
            ("", "")
        };
        Message::new(
            format!("无法识别的日期“{raw}”，应为 YYYY-MM-DD 或 YYYYMMDD{hint}"),
            format!("unrecognised date \"{raw}\": use YYYY-MM-DD or YYYYMMDD{hint_en}"),
        )
    })
}

/// GB/T 4761-2008 家庭关系代码 and the words schools write for them.
const RELATIONS: &[(u8, &[&str])] = &[
    (51, &["父亲", "父", "爸爸", "爸"]),
    (52, &["母亲", "母", "妈妈", "妈"]),
    (53, &["公公"]),
    (54, &["婆婆"]),
    (55, &["岳父"]),
    (56, &["岳母"]),
    (57, &["继父或养父", "继父", "养父"]),
    (58, &["继母或养母", "继母", "养母"]),
    (59, &["其他父母关系"]),
    (61, &["祖父", "爷爷"]),
    (62, &["祖母", "奶奶"]),
    (63, &["外祖父", "外公", "姥爷"]),
    (64, &["外祖母", "外婆", "姥姥"]),
    (69, &["其他祖父母或外祖父母关系"]),
    (71, &["兄", "哥哥", "哥"]),
    (72, &["嫂", "嫂子"]),
    (73, &["弟", "弟弟"]),
    (74, &["弟媳"]),
    (75, &["姐", "姐姐"]),
    (76, &["姐夫"]),
    (77, &["妹", "妹妹"]),
    (78, &["妹夫"]),
    (79, &["其他兄弟姐妹"]),
    (81, &["伯父", "伯伯"]),
    (82, &["伯母"]),
    (83, &["叔父", "叔叔"]),
    (84, &["婶母", "婶婶"]),
    (85, &["舅父", "舅舅"]),
    (86, &["舅母", "舅妈"]),
    (87, &["姨父"]),
    (88, &["姨母", "姨妈"]),
    (89, &["姑父"]),
    (90, &["姑母", "姑妈", "姑姑"]),
    (91, &["堂兄弟、堂姐妹", "堂兄", "堂姐", "堂弟", "堂妹"]),
    (92, &["表兄弟、表姐妹", "表兄", "表姐", "表弟", "表妹"]),
    (93, &["侄子"]),
    (94, &["侄女"]),
    (95, &["外甥"]),
    (96, &["外甥女"]),
    (97, &["其他亲属", "亲属", "其他"]),
    (99, &["非亲属"]),
];

/// A relation by name (父亲, 外婆 …) or GB/T 4761 code (51, 64 …).
pub(super) fn relation(raw: &str) -> Result<Relation, Message> {
    let value = half_width(raw);
    let code = match value.parse::<u8>() {
        Ok(code) => RELATIONS.iter().find(|(c, _)| *c == code),
        Err(_) => RELATIONS
            .iter()
            .find(|(_, names)| names.contains(&value.as_str())),
    };
    code.map(|(code, _)| Relation(*code)).ok_or_else(|| {
        Message::new(
            format!(
                "不认识的关系“{raw}”：应为 父亲、母亲、继父、继母、祖父、祖母、外祖父、外祖母、兄、姐、其他亲属、\
                 非亲属 等，或 GB/T 4761 家庭关系代码（如 51 父亲、52 母亲）"
            ),
            format!(
                "unknown relation \"{raw}\": use 父亲, 母亲, 继父, 继母, 祖父, 祖母, 外祖父, 外祖母, 兄, 姐, \
                 其他亲属, 非亲属 … or a GB/T 4761 family relation code (51 father, 52 mother …)"
            ),
        )
    })
}

/// 父亲, 母亲, 继父/养父, 继母/养母, 其他父母关系 (51, 52, 57, 58, 59).
pub(super) fn is_parent(relation: Relation) -> bool {
    matches!(relation.0, 51 | 52 | 57 | 58 | 59)
}

/// 是/否 (also Y/N, 1/0, true/false).
pub(super) fn yes_no(raw: &str) -> Result<bool, Message> {
    match half_width(raw).to_lowercase().as_str() {
        "是" | "y" | "yes" | "true" | "1" | "√" => Ok(true),
        "否" | "n" | "no" | "false" | "0" | "×" => Ok(false),
        _ => Err(Message::new(
            format!("无法识别“{raw}”：应为 是 或 否"),
            format!("unrecognised value \"{raw}\": use 是 (yes) or 否 (no)"),
        )),
    }
}

/// 学籍状态: 在读 (default) is active; 转出, 毕业, 休学, 退学 retire the student.
pub(super) fn student_status(raw: &str) -> Result<Status, Message> {
    match raw.to_lowercase().as_str() {
        "在读" | "在校" | "正常" | "active" => Ok(Status::Active),
        "转出" | "已转出" | "毕业" | "已毕业" | "结业" | "休学" | "退学" | "离校"
        | "tobedeleted" | "inactive" => Ok(Status::ToBeDeleted),
        _ => Err(Message::new(
            format!("不认识的学籍状态“{raw}”：应为 在读、转出、毕业、休学 或 退学"),
            format!("unknown student status \"{raw}\": use 在读, 转出, 毕业, 休学 or 退学"),
        )),
    }
}

/// 在职 (default) is active; 离职, 调出, 退休 retire the teacher.
pub(super) fn teacher_status(raw: &str) -> Result<Status, Message> {
    match raw.to_lowercase().as_str() {
        "在职" | "在岗" | "正常" | "active" => Ok(Status::Active),
        "离职" | "调出" | "退休" | "停用" | "tobedeleted" | "inactive" => {
            Ok(Status::ToBeDeleted)
        }
        _ => Err(Message::new(
            format!("不认识的在职状态“{raw}”：应为 在职、离职、调出 或 退休"),
            format!("unknown employment status \"{raw}\": use 在职, 离职, 调出 or 退休"),
        )),
    }
}

/// Whether a 全国学籍号 has the national shape: G, J or L and 18 more characters (17 digits and
/// a digit or X). Temporary and provincial numbers may differ, so a mismatch is only a warning.
pub(super) fn looks_like_national_student_no(value: &str) -> bool {
    let mut chars = value.chars();
    let prefix = chars.next().map(|c| c.to_ascii_uppercase());
    let rest: Vec<char> = chars.collect();
    matches!(prefix, Some('G' | 'J' | 'L'))
        && rest.len() == 18
        && rest[..17].iter().all(char::is_ascii_digit)
        && (rest[17].is_ascii_digit() || rest[17] == 'X' || rest[17] == 'x')
}

/// 学校标识码: 10 digits.
pub(super) fn looks_like_school_code(value: &str) -> bool {
    value.len() == 10 && value.bytes().all(|b| b.is_ascii_digit())
}

/// `语文;数学`, `语文、数学`, `语文,数学` → [语文, 数学].
pub(super) fn list(raw: &str) -> Vec<String> {
    raw.split([';', '；', '、', ',', '，', '/'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_normalised_to_eleven_digits() {
        let ok = |raw: &str| phone(raw).map(|p| p.number);
        assert_eq!(ok("+86 138-0013-8000"), Ok("13800138000".to_owned()));
        assert_eq!(ok("0086 13800138000"), Ok("13800138000".to_owned()));
        assert_eq!(ok("8613800138000"), Ok("13800138000".to_owned()));
        assert_eq!(ok("１３８ ００１３ ８０００"), Ok("13800138000".to_owned()));
        assert_eq!(ok("(138)0013-8000"), Ok("13800138000".to_owned()));
        let several = phone("13800138000/13900139000").unwrap();
        assert!(several.several);
        assert_eq!(several.number, "13800138000");
    }

    #[test]
    fn bad_phones_are_rejected() {
        for raw in [
            "12800138000",
            "1380013800",
            "138001380001",
            "010-62345678",
            "abc",
            "1.38001E+10",
        ] {
            assert!(phone(raw).is_err(), "{raw} should be rejected");
        }
        let message = phone("1.38001E+10").unwrap_err();
        assert!(message.zh.contains("Excel"), "{message:?}");
        assert!(phone("12345").unwrap_err().zh.contains("12345"));
    }

    #[test]
    fn excel_scientific_notation_is_spotted() {
        for raw in [
            "1.38001E+10",
            "4.40106E+17",
            "1E+11",
            "4.40106e17",
            " 2.1E+9 ",
        ] {
            assert!(is_scientific(raw), "{raw}");
        }
        for raw in [
            "13800138000",
            "E10",
            "1.5",
            "G440106201501010012",
            "3E班",
            "1.E+10",
        ] {
            assert!(!is_scientific(raw), "{raw}");
        }
        assert!(!excel_number_message().zh.contains("E+"));
    }

    #[test]
    fn genders_dates_and_yes_no() {
        assert_eq!(sex("男"), Ok(Sex::Male));
        assert_eq!(sex("2"), Ok(Sex::Female));
        assert_eq!(sex("F"), Ok(Sex::Female));
        assert!(sex("x").is_err());
        let d = NaiveDate::from_ymd_opt(2014, 3, 5);
        for raw in [
            "2014-03-05",
            "20140305",
            "2014/3/5",
            "2014.03.05",
            "2014年3月5日",
            "2014/3/5 0:00",
        ] {
            assert_eq!(date(raw).ok(), d, "{raw}");
        }
        for raw in ["2014-02-30", "05/03/2014", "2014", "41703", "2014-03-05x"] {
            assert!(date(raw).is_err(), "{raw}");
        }
        assert!(date("41703").unwrap_err().zh.contains("Excel"));
        assert_eq!(yes_no("是"), Ok(true));
        assert_eq!(yes_no("N"), Ok(false));
        assert!(yes_no("也许").is_err());
    }

    #[test]
    fn relations_by_name_and_code() {
        assert_eq!(relation("父亲"), Ok(Relation::FATHER));
        assert_eq!(relation("52"), Ok(Relation::MOTHER));
        assert_eq!(relation("外婆"), Ok(Relation(64)));
        assert_eq!(relation("养母"), Ok(Relation(58)));
        assert_eq!(relation("其他"), Ok(Relation::OTHER_RELATIVE));
        assert!(relation("邻居").is_err());
        assert!(relation("50").is_err());
        assert!(is_parent(Relation(57)) && !is_parent(Relation(61)));
    }

    #[test]
    fn national_student_numbers_and_statuses() {
        assert!(looks_like_national_student_no("G44010620150101001X"));
        assert!(looks_like_national_student_no("L420107201603051234"));
        assert!(!looks_like_national_student_no("440106201501010012"));
        assert!(!looks_like_national_student_no("G4401062015"));
        assert_eq!(student_status("转出"), Ok(Status::ToBeDeleted));
        assert_eq!(student_status("在读"), Ok(Status::Active));
        assert!(student_status("请假").is_err());
        assert_eq!(teacher_status("退休"), Ok(Status::ToBeDeleted));
        assert_eq!(list("语文；数学、 英语"), ["语文", "数学", "英语"]);
    }
}
