//! Splitting a Chinese 姓名 into family and given name, as OneRoster wants both.
//!
//! Compound surnames (欧阳, 司马 …) are recognised; otherwise the first character is the family
//! name. Names with a separator dot (阿依古丽·买买提: Uyghur, Tibetan, transliterated names) or
//! Latin letters are never split: the whole name goes into the given name and the caller warns.
//! Splitting is by `char`, so characters outside the BMP (𪚥) survive intact.

use crate::roster::diagnostics::Message;

/// 复姓 that schools meet; longest match first is unnecessary as all are two characters.
const COMPOUND_SURNAMES: &[&str] = &[
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文", "司徒",
    "夏侯", "轩辕", "令狐", "钟离", "澹台", "公冶", "申屠", "太史", "端木", "万俟", "闻人", "赫连",
    "独孤", "南宫", "西门", "百里", "呼延", "东郭", "淳于", "单于", "濮阳", "仲孙", "乐正", "公良",
    "拓跋", "夹谷", "宰父", "谷梁", "段干", "漆雕", "梁丘", "左丘", "东门", "第五", "鲜于", "亓官",
    "司寇", "巫马", "公西", "颛孙", "羊舌", "微生", "公羊", "太叔", "司空", "公叔", "子车", "南门",
    "呼衍",
];

/// Separator dots in minority and transliterated names: ·, •, ・, ‧, ．, and the ASCII dot
/// typed in their place.
const NAME_DOTS: &[char] = &['·', '•', '・', '‧', '．', '.', '･'];

/// A name taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SplitName {
    pub family: String,
    pub given: String,
    /// Why the name was kept whole or changed, for a warning.
    pub note: Option<Message>,
}

/// Split `name` (already trimmed, not empty).
pub(super) fn split(name: &str) -> SplitName {
    let whole = |note: Message| SplitName {
        family: String::new(),
        given: name.to_owned(),
        note: Some(note),
    };
    if name.contains(NAME_DOTS) {
        return whole(Message::new(
            "姓名中含有间隔号，未拆分姓和名，整个姓名记为名",
            "the name contains a separator dot; it was not split and is kept whole as the given name",
        ));
    }
    if name.chars().any(|c| c.is_ascii_alphabetic()) {
        return whole(Message::new(
            "姓名中含有拉丁字母，未拆分姓和名，整个姓名记为名",
            "the name contains Latin letters; it was not split and is kept whole as the given name",
        ));
    }
    if name.chars().any(char::is_whitespace) {
        // “张 三”: Excel padding inside a Chinese name.
        let compact: String = name.chars().filter(|c| !c.is_whitespace()).collect();
        let mut split = split(&compact);
        split.note = split.note.or(Some(Message::new(
            "姓名中间有空格，已去掉",
            "the name contained spaces; they were removed",
        )));
        return split;
    }
    let count = name.chars().count();
    if count < 2 {
        return whole(Message::new(
            "姓名只有一个字，未拆分姓和名",
            "the name has a single character; it was not split",
        ));
    }
    let compound = COMPOUND_SURNAMES
        .iter()
        .find(|surname| name.starts_with(*surname) && count > 2);
    let family_chars = if compound.is_some() { 2 } else { 1 };
    let at = name
        .char_indices()
        .nth(family_chars)
        .map_or(name.len(), |(at, _)| at);
    SplitName {
        family: name[..at].to_owned(),
        given: name[at..].to_owned(),
        note: None,
    }
}

/// Family and given name from explicit columns, filling a missing one from `name` when it
/// starts or ends with the given part; otherwise as [`split`].
pub(super) fn from_parts(name: &str, family: Option<&str>, given: Option<&str>) -> SplitName {
    match (family, given) {
        (Some(family), Some(given)) => SplitName {
            family: family.to_owned(),
            given: given.to_owned(),
            note: None,
        },
        (Some(family), None) if name.len() > family.len() && name.starts_with(family) => {
            SplitName {
                family: family.to_owned(),
                given: name[family.len()..].to_owned(),
                note: None,
            }
        }
        (None, Some(given)) if name.len() > given.len() && name.ends_with(given) => SplitName {
            family: name[..name.len() - given.len()].to_owned(),
            given: given.to_owned(),
            note: None,
        },
        _ => split(name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(name: &str) -> (String, String, bool) {
        let split = split(name);
        (split.family, split.given, split.note.is_some())
    }

    #[test]
    fn common_and_compound_surnames() {
        assert_eq!(parts("张三"), ("张".into(), "三".into(), false));
        assert_eq!(parts("欧阳娜娜"), ("欧阳".into(), "娜娜".into(), false));
        assert_eq!(parts("司马光"), ("司马".into(), "光".into(), false));
        assert_eq!(parts("诸葛亮"), ("诸葛".into(), "亮".into(), false));
        // A compound surname alone is two single characters, not an empty given name.
        assert_eq!(parts("欧阳"), ("欧".into(), "阳".into(), false));
    }

    #[test]
    fn minority_and_latin_names_are_kept_whole() {
        assert_eq!(
            parts("阿依古丽·买买提"),
            ("".into(), "阿依古丽·买买提".into(), true)
        );
        assert_eq!(parts("玛丽•居里"), ("".into(), "玛丽•居里".into(), true));
        assert_eq!(parts("John Smith"), ("".into(), "John Smith".into(), true));
        assert_eq!(parts("王"), ("".into(), "王".into(), true));
    }

    #[test]
    fn characters_outside_the_bmp_survive() {
        assert_eq!(parts("𪚥"), ("".into(), "𪚥".into(), true));
        assert_eq!(parts("𪚥明"), ("𪚥".into(), "明".into(), false));
        assert_eq!(parts("张𪚥"), ("张".into(), "𪚥".into(), false));
        assert_eq!(parts("欧阳𪚥𪚥"), ("欧阳".into(), "𪚥𪚥".into(), false));
    }

    #[test]
    fn spaces_inside_a_chinese_name_are_removed() {
        assert_eq!(parts("张 三"), ("张".into(), "三".into(), true));
    }

    #[test]
    fn explicit_parts_win() {
        let split = from_parts("欧阳娜娜", Some("欧"), Some("阳娜娜"));
        assert_eq!(
            (split.family.as_str(), split.given.as_str()),
            ("欧", "阳娜娜")
        );
        let split = from_parts("东方明", Some("东"), None);
        assert_eq!(
            (split.family.as_str(), split.given.as_str()),
            ("东", "方明")
        );
        let split = from_parts("张三", None, Some("三"));
        assert_eq!(split.family, "张");
    }
}
