//! The lesson pages' words, Chinese first and English second, under the keys they would have
//! in the catalogues (`web/i18n/<lang>.toml`, section `[lessons]`): a key the shared catalogue
//! holds is taken from there, this table holds the rest, so the strings can move into the TOML
//! files key for key without a change to a page or a template. Templates ask through
//! [`Words::say`].

use crate::i18n::Tr;

/// `(key, 中文, English)`.
const TEXT: &[(&str, &str, &str)] = &[
    ("lessons.nav.label", "课程", "Lessons"),
    ("lessons.nav.list", "我的课程", "My lessons"),
    ("lessons.nav.new", "写新课", "Write a lesson"),
    // Lists.
    ("lessons.list.title", "课程", "Lessons"),
    ("lessons.list.mine", "我写的课", "Lessons I wrote"),
    (
        "lessons.list.none_mine",
        "还没有课。写一节课，保存为草稿，再发布到您任教的班级。",
        "No lessons yet. Write one, keep it as a draft, then publish it to the classes you teach.",
    ),
    (
        "lessons.list.shared",
        "同事发布的课",
        "Published by colleagues",
    ),
    (
        "lessons.list.shared_hint",
        "本校老师已发布的课，可以复制一份再修改。",
        "Lessons your school's teachers have published: copy one and make it yours.",
    ),
    (
        "lessons.list.none_shared",
        "本校还没有其他老师发布的课。",
        "No colleague has published a lesson yet.",
    ),
    ("lessons.list.classes", "班级的课", "Lessons in my classes"),
    (
        "lessons.list.none_classes",
        "老师还没有发布课。",
        "No lesson has been published yet.",
    ),
    ("lessons.list.version", "第 {n} 版", "version {n}"),
    ("lessons.list.updated", "更新于 {when}", "updated {when}"),
    ("lessons.list.by", "{name} · {when}", "{name} · {when}"),
    // States.
    ("lessons.state.draft", "草稿", "Draft"),
    ("lessons.state.scheduled", "定时发布", "Scheduled"),
    ("lessons.state.published", "已发布", "Published"),
    ("lessons.state.withdrawn", "已撤回", "Withdrawn"),
    // Writing.
    ("lessons.new.title", "写新课", "Write a lesson"),
    ("lessons.edit.title", "修改课", "Edit the lesson"),
    ("lessons.field.title", "标题", "Title"),
    ("lessons.field.body", "正文（Markdown）", "Text (Markdown)"),
    (
        "lessons.field.body_hint",
        "支持 Markdown：# 标题、- 列表、**粗体**、表格、链接和图片。上传的图片可用 ![说明](图片地址) 插入正文。不能包含脚本。",
        "Markdown: # headings, - lists, **bold**, tables, links and pictures. Put an uploaded picture in the text with ![caption](its address). Script is not allowed.",
    ),
    ("lessons.new.save", "保存为草稿", "Save as a draft"),
    (
        "lessons.new.after",
        "保存后是草稿，只有您能看到；发布到班级后学生和家长才能看到。",
        "Saved as a draft, only you see it; pupils and families see it once you publish it to a class.",
    ),
    ("lessons.edit.save", "保存新版本", "Save a new version"),
    (
        "lessons.edit.after",
        "保存后成为新版本，学生看到的是最新版本；以前的版本保留在修改记录中。",
        "Saving makes a new version, which pupils read; earlier versions stay in the history.",
    ),
    ("lessons.edit.cancel", "返回", "Back"),
    // One lesson.
    ("lessons.detail.title", "课", "Lesson"),
    ("lessons.detail.by", "作者", "By"),
    ("lessons.detail.version", "第 {n} 版", "version {n}"),
    (
        "lessons.detail.copied",
        "复制自另一节课",
        "Copied from another lesson",
    ),
    ("lessons.detail.edit", "修改", "Edit"),
    ("lessons.detail.history", "修改记录", "History"),
    ("lessons.detail.copy", "复制为我的草稿", "Copy as my draft"),
    (
        "lessons.detail.draft_note",
        "草稿：还没有发布到任何班级，只有您能看到。",
        "Draft: published to no class yet, only you see it.",
    ),
    ("lessons.detail.empty", "（正文为空）", "(No text yet)"),
    ("lessons.detail.classes", "发布情况", "Published to"),
    ("lessons.detail.at", "{when} 发布", "published {when}"),
    (
        "lessons.detail.scheduled_at",
        "将于 {when} 发布",
        "to be published {when}",
    ),
    (
        "lessons.detail.withdrawn_at",
        "{when} 撤回",
        "withdrawn {when}",
    ),
    ("lessons.detail.withdraw", "撤回", "Withdraw"),
    // Publishing.
    (
        "lessons.publish.heading",
        "发布到班级",
        "Publish to classes",
    ),
    ("lessons.publish.classes", "班级", "Classes"),
    (
        "lessons.publish.no_classes",
        "您没有任教的班级，不能发布。",
        "You teach no class to publish to.",
    ),
    ("lessons.publish.at", "发布时间（可选）", "When (optional)"),
    (
        "lessons.publish.at_hint",
        "留空即现在发布；选择以后的时间则到时自动对学生和家长显示。已发布的班级再次发布会改为新的时间。",
        "Leave empty to publish now; a later time shows it to pupils and families when it comes. Publishing to a class again moves its time.",
    ),
    ("lessons.publish.submit", "发布", "Publish"),
    // Attachments.
    ("lessons.attachments.heading", "附件", "Attachments"),
    ("lessons.attachments.none", "没有附件。", "No attachments."),
    (
        "lessons.attachments.resource",
        "教学资源",
        "Teaching resource",
    ),
    ("lessons.attachments.remove", "移除", "Remove"),
    (
        "lessons.attachments.snippet",
        "插入正文：",
        "To show it in the text:",
    ),
    (
        "lessons.attachments.upload",
        "上传图片或文档",
        "Upload a picture or a document",
    ),
    (
        "lessons.attachments.upload_hint",
        "图片（JPEG、PNG、GIF、WebP）或文档（PDF、Word、Excel、PowerPoint、纯文本），最大 {max_mb} MB。",
        "Pictures (JPEG, PNG, GIF, WebP) or documents (PDF, Word, Excel, PowerPoint, plain text), at most {max_mb} MB.",
    ),
    ("lessons.attachments.upload_submit", "上传", "Upload"),
    (
        "lessons.attachments.attach",
        "附上教学资源",
        "Attach a teaching resource",
    ),
    (
        "lessons.attachments.attach_hint",
        "填写资源编号或资源页面的地址；只能附上您能查看的已入库资源。",
        "The resource's id or its page address; only published resources you may see.",
    ),
    ("lessons.attachments.attach_submit", "附上", "Attach"),
    // Questions.
    (
        "lessons.questions.heading",
        "提问与回答 · {class}",
        "Questions · {class}",
    ),
    (
        "lessons.questions.none",
        "还没有提问。",
        "No questions yet.",
    ),
    ("lessons.questions.ask", "向老师提问", "Ask the teacher"),
    ("lessons.questions.ask_submit", "提问", "Ask"),
    ("lessons.questions.answer", "回答", "Answer"),
    ("lessons.questions.answer_submit", "回答", "Answer"),
    ("lessons.questions.teacher", "老师", "Teacher"),
    (
        "lessons.questions.read_only",
        "家长可以查看提问与回答，不能发言。",
        "Families read the questions and answers; they do not post.",
    ),
    // History.
    ("lessons.history.title", "修改记录", "History"),
    ("lessons.history.back", "返回课", "Back to the lesson"),
    // Done.
    (
        "lessons.done.created",
        "已保存为草稿。",
        "Saved as a draft.",
    ),
    (
        "lessons.done.saved",
        "已保存新版本。",
        "A new version is saved.",
    ),
    ("lessons.done.published", "已发布。", "Published."),
    ("lessons.done.withdrawn", "已撤回。", "Withdrawn."),
    (
        "lessons.done.copied",
        "已复制为您的草稿。",
        "Copied as your draft.",
    ),
    ("lessons.done.attached", "已添加附件。", "Attachment added."),
    (
        "lessons.done.removed",
        "已移除附件。",
        "Attachment removed.",
    ),
    ("lessons.done.asked", "已提问。", "Your question is posted."),
    (
        "lessons.done.answered",
        "已回答。",
        "Your answer is posted.",
    ),
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

    /// A lesson's or a publication's state in the reader's language.
    pub fn state(&self, state: &str) -> String {
        let key = format!("lessons.state.{state}");
        self.own(&key).unwrap_or(state).to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_there_once_in_both_languages() {
        crate::i18n::check_table(TEXT, &["lessons."], "lessons");
    }
}
