//! The words of the activity and announcement pages, Chinese first and English second, under
//! keys (`activities.…`, `announcements.…`) so they can move into the catalogues key for key.
//! [`Words`] also serves the growth pages with their own table.

/// `(key, 中文, English)`.
pub(crate) use crate::i18n::Table;

pub(crate) const TEXT: Table = &[
    ("activities.detail.title", "班级活动", "Activity"),
    ("activities.when", "时间", "When"),
    ("activities.place", "地点", "Place"),
    ("activities.class", "班级", "Class"),
    ("activities.school", "学校", "School"),
    ("activities.whole_school", "全校活动", "Whole school"),
    ("activities.organiser", "组织者", "Organiser"),
    ("activities.deadline", "回复截止", "Answer by"),
    ("activities.capacity", "名额", "Places"),
    ("activities.full", "名额已满", "All places are taken"),
    ("activities.closed", "回复已截止", "Answers are closed"),
    (
        "activities.cancelled",
        "活动已取消（{at}）：{reason}",
        "Cancelled ({at}): {reason}",
    ),
    ("activities.ask.signup", "报名", "Sign-up"),
    ("activities.ask.permission", "家长同意书", "Permission slip"),
    (
        "activities.answer.yes.permission",
        "同意",
        "Yes, they may go",
    ),
    ("activities.answer.no.permission", "不同意", "No"),
    ("activities.answer.yes.signup", "参加", "Taking part"),
    ("activities.answer.no.signup", "不参加", "Not taking part"),
    ("activities.answer.none", "未回复", "Not answered"),
    (
        "activities.answer.heading",
        "为孩子回复",
        "Answer for your child",
    ),
    ("activities.answer.note", "备注（可选）", "Note (optional)"),
    ("activities.answer.submit", "提交回复", "Send answer"),
    (
        "activities.answer.by",
        "{name} 于 {at} 回复",
        "Answered by {name} at {at}",
    ),
    ("activities.manage.heading", "回复情况", "Answers"),
    (
        "activities.manage.counts",
        "是 {yes} · 否 {no} · 未回复 {unanswered}（共 {pupils} 名学生）",
        "Yes {yes} · No {no} · Not answered {unanswered} (of {pupils} pupils)",
    ),
    (
        "activities.manage.csv",
        "导出 CSV（可用 Excel 打开）",
        "Export CSV (opens in Excel)",
    ),
    ("activities.manage.student", "学生", "Pupil"),
    ("activities.manage.answer", "回复", "Answer"),
    ("activities.manage.by", "回复人", "Answered by"),
    ("activities.manage.phone", "联系电话", "Phone"),
    ("activities.manage.time", "时间", "Time"),
    ("activities.manage.note", "备注", "Note"),
    ("activities.manage.waiting", "尚未回复", "Not answered yet"),
    (
        "activities.manage.all_answered",
        "全部已回复。",
        "Everyone has answered.",
    ),
    (
        "activities.cancel.heading",
        "取消活动",
        "Cancel the activity",
    ),
    (
        "activities.cancel.reason",
        "取消原因（家长会看到）",
        "Reason (families see it)",
    ),
    (
        "activities.cancel.submit",
        "取消活动",
        "Cancel the activity",
    ),
    (
        "activities.done.answered",
        "已保存您的回复。",
        "Your answer is saved.",
    ),
    (
        "activities.done.cancelled",
        "活动已取消。",
        "The activity is cancelled.",
    ),
    ("activities.new.title", "发布活动", "New activity"),
    ("activities.new.for", "面向：{name}", "For: {name}"),
    ("activities.field.title", "活动名称", "Title"),
    (
        "activities.field.description",
        "活动说明（支持 Markdown）",
        "Description (Markdown)",
    ),
    ("activities.field.place", "地点", "Place"),
    ("activities.field.starts_at", "开始时间", "Starts"),
    (
        "activities.field.ends_at",
        "结束时间（可选）",
        "Ends (optional)",
    ),
    (
        "activities.field.ask",
        "需要家长回复吗？",
        "Ask the families?",
    ),
    ("activities.field.ask_none", "不需要", "No"),
    (
        "activities.field.ask_signup",
        "报名（可限名额）",
        "Sign-up (places may be limited)",
    ),
    (
        "activities.field.ask_permission",
        "家长同意书",
        "Permission slip",
    ),
    ("activities.field.question", "问题", "Question"),
    (
        "activities.field.question_hint",
        "例如：是否同意孩子参加春游？",
        "For example: may your child join the spring outing?",
    ),
    (
        "activities.field.capacity",
        "名额（仅报名，可选）",
        "Places (sign-up only, optional)",
    ),
    (
        "activities.field.deadline",
        "回复截止时间（可选，默认为开始时间）",
        "Answer by (optional; the start by default)",
    ),
    (
        "activities.field.times_hint",
        "时间按学校所在时区填写。",
        "Times are in the school's time zone.",
    ),
    ("activities.new.submit", "发布活动", "Publish"),
    ("announcements.title", "学校公告", "School announcements"),
    (
        "announcements.none",
        "还没有公告。",
        "No announcements yet.",
    ),
    ("announcements.new", "发布公告", "Post an announcement"),
    ("announcements.field.title", "标题", "Title"),
    (
        "announcements.field.body",
        "正文（支持 Markdown）",
        "Text (Markdown)",
    ),
    ("announcements.submit", "发布", "Post"),
    ("announcements.withdraw", "撤回", "Withdraw"),
    ("announcements.by", "{name} · {at}", "{name} · {at}"),
    ("announcements.more", "更早的公告", "Older announcements"),
    (
        "announcements.done.posted",
        "公告已发布。",
        "The announcement is posted.",
    ),
    (
        "announcements.done.withdrawn",
        "公告已撤回。",
        "The announcement is withdrawn.",
    ),
];

pub(crate) use crate::i18n::Words;

/// Checks every table keeps its promises: each key once, both languages, the same
/// placeholders, and every key a template asks for.
#[cfg(test)]
mod tests {
    #[test]
    fn every_key_is_there_once_in_both_languages() {
        crate::i18n::check_table(
            super::TEXT,
            &["activities.", "announcements."],
            "activities",
        );
    }
}
