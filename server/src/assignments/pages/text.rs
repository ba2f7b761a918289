//! The assignment pages' words, Chinese first and English second, under keys shaped like the
//! catalogues' (`assignments.…`), so they can move into `web/i18n/<lang>.toml` key for key.
//! A key the shared catalogue holds is taken from there.

use crate::i18n::Tr;

/// `(key, 中文, English)`.
const TEXT: &[(&str, &str, &str)] = &[
    ("assignments.title", "作业", "Assignment"),
    ("assignments.class", "班级", "Class"),
    ("assignments.due", "截止时间", "Due"),
    ("assignments.scale", "评分方式", "Marked with"),
    (
        "assignments.late_accepted",
        "截止后仍可提交（标记为迟交）",
        "Late work accepted (marked late)",
    ),
    (
        "assignments.late_refused",
        "截止后不接受提交",
        "No late work",
    ),
    ("assignments.set_by", "布置人", "Set by"),
    ("assignments.lesson", "所属课程", "Lesson"),
    ("assignments.past_due", "已截止", "Past due"),
    ("assignments.instructions", "作业要求", "Instructions"),
    (
        "assignments.no_instructions",
        "（没有补充说明）",
        "(no further instructions)",
    ),
    (
        "assignments.scale.points",
        "百分制：满分 {max} 分",
        "Points: out of {max}",
    ),
    (
        "assignments.scale.bands",
        "等级：优 / 良 / 中 / 待提高",
        "Bands: 优 / 良 / 中 / 待提高",
    ),
    (
        "assignments.scale.comments",
        "只写评语，不打分",
        "Comments only, no score",
    ),
    ("assignments.status.not_started", "未提交", "Not started"),
    ("assignments.status.handed_in", "已提交", "Handed in"),
    ("assignments.status.late", "迟交", "Handed in late"),
    ("assignments.status.returned", "已批改", "Returned"),
    ("assignments.overdue", "已逾期", "Overdue"),
    ("assignments.status", "状态", "Status"),
    // A pupil's own part.
    ("assignments.mine", "我的作业", "My work"),
    ("assignments.attempt", "第 {n} 次提交", "Attempt {n}"),
    ("assignments.submitted_at", "提交时间", "Handed in"),
    ("assignments.late_mark", "迟交", "late"),
    ("assignments.files", "附件", "Files"),
    ("assignments.feedback", "老师的反馈", "Feedback"),
    ("assignments.score", "成绩", "Score"),
    ("assignments.comment", "评语", "Comment"),
    ("assignments.hand_in", "提交作业", "Hand in"),
    ("assignments.hand_in_again", "重新提交", "Hand in again"),
    (
        "assignments.hand_in_hint",
        "截止前可以重新提交，以最后一次为准。",
        "You may hand in again until the due time; the last one counts.",
    ),
    (
        "assignments.late_hint",
        "已过截止时间：现在提交会标记为迟交，提交后不能再修改。",
        "The due time has passed: work handed in now is marked late and cannot be changed.",
    ),
    ("assignments.text", "作业内容", "Your work"),
    (
        "assignments.files_hint",
        "可以选择多个文件：图片、PDF、Office 文档、文本、音频或视频，每个不超过 {max_mb} MB。",
        "You may choose several files: pictures, PDF, office documents, text, audio or video, each at most {max_mb} MB.",
    ),
    ("assignments.choose_files", "选择文件", "Choose files"),
    (
        "assignments.done.handed_in",
        "作业已提交。",
        "Your work has been handed in.",
    ),
    (
        "assignments.done.returned",
        "已批改并发回给学生。",
        "Marked and returned to the pupil.",
    ),
    (
        "assignments.done.created",
        "作业已布置。",
        "The assignment has been set.",
    ),
    (
        "assignments.closed",
        "已过截止时间，不能再提交。",
        "The due time has passed: nothing more can be handed in.",
    ),
    ("assignments.view_hand_in", "查看提交", "View the hand-in"),
    // A parent's part.
    ("assignments.children", "孩子的作业", "Your child's work"),
    (
        "assignments.parent_hint",
        "家长只能查看，作业由孩子本人提交。",
        "Parents see the work; the pupil hands it in.",
    ),
    // The staff's part.
    ("assignments.progress", "全班进度", "Class progress"),
    ("assignments.count.total", "全班", "Class"),
    ("assignments.count.not_started", "未提交", "Not started"),
    ("assignments.count.handed_in", "已提交", "Handed in"),
    ("assignments.count.late", "迟交", "Late"),
    ("assignments.count.returned", "已批改", "Returned"),
    ("assignments.count.to_mark", "待批改 {n}", "{n} to mark"),
    ("assignments.student", "学生", "Pupil"),
    ("assignments.mark", "批改", "Mark"),
    ("assignments.view", "查看", "View"),
    (
        "assignments.no_pupils",
        "班级里还没有学生。",
        "The class has no pupils yet.",
    ),
    // A hand-in and marking it.
    ("assignments.submission", "学生作业", "Hand-in"),
    ("assignments.back", "返回作业", "Back to the assignment"),
    (
        "assignments.superseded",
        "这次提交已被更新的提交取代。",
        "A later hand-in replaced this one.",
    ),
    ("assignments.no_text", "（没有文字内容）", "(no text)"),
    ("assignments.marks", "批改记录", "Marking history"),
    ("assignments.marking", "批改并发回", "Mark and return"),
    (
        "assignments.score_points",
        "分数（0–{max}，可保留一位小数）",
        "Score (0–{max}, one decimal allowed)",
    ),
    ("assignments.score_band", "等级", "Band"),
    (
        "assignments.comment_hint",
        "学生和家长会看到评语；同学看不到。",
        "The pupil and their family see this; classmates never do.",
    ),
    ("assignments.return", "发回给学生", "Return to the pupil"),
    (
        "assignments.remark_hint",
        "重新批改会替换之前的成绩和评语。",
        "Marking again replaces the earlier score and comment.",
    ),
    // Setting an assignment.
    ("assignments.new.title", "布置作业", "Set an assignment"),
    ("assignments.new.for", "班级：{class}", "Class: {class}"),
    ("assignments.field.title", "标题", "Title"),
    (
        "assignments.field.instructions",
        "作业要求（支持 Markdown）",
        "Instructions (Markdown)",
    ),
    ("assignments.field.due", "截止时间", "Due"),
    (
        "assignments.field.due_hint",
        "按学校所在时区（{zone}）填写。",
        "In the school's time zone ({zone}).",
    ),
    ("assignments.field.scale", "评分方式", "Marked with"),
    ("assignments.field.points", "分数", "Points"),
    (
        "assignments.field.max_points",
        "满分（1–1000）",
        "Out of (1–1000)",
    ),
    (
        "assignments.field.bands",
        "等级（优/良/中/待提高）",
        "Bands (优/良/中/待提高)",
    ),
    ("assignments.field.comments", "只写评语", "Comments only"),
    (
        "assignments.field.accept_late",
        "截止后仍接受提交（标记为迟交）",
        "Accept late work (marked late)",
    ),
    (
        "assignments.field.lesson",
        "关联课程（可不选）",
        "On a lesson (optional)",
    ),
    ("assignments.field.no_lesson", "不关联课程", "No lesson"),
    ("assignments.new.submit", "布置", "Set it"),
    // A class's list.
    ("assignments.list.title", "班级作业", "Class assignments"),
    (
        "assignments.list.none",
        "还没有作业。",
        "No assignments yet.",
    ),
    ("assignments.list.new", "布置新作业", "Set a new assignment"),
];

/// The words of one request's language (the shared catalogue, then [`TEXT`]).
#[derive(Clone, Copy)]
pub struct Words<'a>(crate::i18n::Words<'a>);

impl<'a> std::ops::Deref for Words<'a> {
    type Target = crate::i18n::Words<'a>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<'a> Words<'a> {
    pub fn new(tr: Tr<'a>) -> Self {
        Words(crate::i18n::Words::new(tr, TEXT))
    }

    /// A status as people read it.
    pub fn status(&self, status: super::super::Status) -> &'a str {
        match status {
            super::super::Status::NotStarted => self.say("assignments.status.not_started"),
            super::super::Status::HandedIn => self.say("assignments.status.handed_in"),
            super::super::Status::Late => self.say("assignments.status.late"),
            super::super::Status::Returned => self.say("assignments.status.returned"),
        }
    }

    /// A scale (`points:10`, `bands`, `comments`) as people read it.
    pub fn scale(&self, spelled: &str) -> String {
        match spelled.strip_prefix("points:") {
            Some(max) => self.format("assignments.scale.points", &[("max", max.to_owned())]),
            None if spelled == "bands" => self.say("assignments.scale.bands").to_owned(),
            None => self.say("assignments.scale.comments").to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_there_once_in_both_languages() {
        crate::i18n::check_table(TEXT, &["assignments."], "assignments");
    }
}
