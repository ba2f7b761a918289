//! The resource pages' words, Chinese first and English second, under the keys they have in
//! the catalogues (`web/i18n/<lang>.toml`, section `[resources]`).
//!
//! A key the shared catalogue holds is taken from there; the table below holds the rest, so the
//! strings can move into the TOML files key for key without a change to a page or a template.
//! Templates ask through [`Words::say`]. The vocabulary itself (subjects, types, grades,
//! stages, states) is data in Chinese; [`Words`] names it in the reader's language.

use crate::i18n::{Lang, Tr};

/// `(key, 中文, English)`.
const TEXT: &[(&str, &str, &str)] = &[
    // The pages' own navigation.
    ("resources.nav.label", "教学资源", "Teaching resources"),
    ("resources.nav.search", "资源检索", "Search"),
    ("resources.nav.mine", "我的资源", "My resources"),
    ("resources.nav.following", "我的关注", "Following"),
    ("resources.nav.review", "审核队列", "Review queue"),
    ("resources.nav.new", "上传资源", "Add a resource"),
    ("resources.any", "不限", "Any"),
    ("resources.choose", "请选择", "Choose…"),
    ("resources.filter", "筛选", "Filter"),
    // Search.
    ("resources.search.title", "资源检索", "Search resources"),
    ("resources.search.heading", "资源检索", "Search resources"),
    ("resources.search.label", "检索词", "Search for"),
    (
        "resources.search.placeholder",
        "标题、关键词或正文",
        "Title, keywords or text",
    ),
    ("resources.search.submit", "检索", "Search"),
    ("resources.search.suggestions", "输入建议", "Suggestions"),
    ("resources.search.sort", "排序", "Sort by"),
    ("resources.search.sort_relevance", "相关度", "Relevance"),
    ("resources.search.sort_newest", "最新", "Newest"),
    ("resources.search.sort_used", "最常用", "Most used"),
    ("resources.search.total", "共 {n} 条结果", "{n} results"),
    (
        "resources.search.none",
        "没有找到符合条件的资源。",
        "No resources match.",
    ),
    ("resources.search.more", "更多", "More"),
    (
        "resources.search.first",
        "回到第一页",
        "Back to the first page",
    ),
    ("resources.search.refine", "按条件筛选", "Refine"),
    ("resources.search.selected", "已选条件", "Filters"),
    (
        "resources.search.remove",
        "移除筛选：{what}",
        "Remove filter: {what}",
    ),
    ("resources.search.clear", "清除全部", "Clear all"),
    ("resources.facet.subject", "学科", "Subject"),
    ("resources.facet.grade", "年级", "Grade"),
    ("resources.facet.type", "类型", "Type"),
    ("resources.facet.edition", "教材版本", "Edition"),
    // A resource's fields.
    ("resources.field.title", "标题", "Title"),
    ("resources.field.description", "简介", "Description"),
    ("resources.field.subject", "学科", "Subject"),
    ("resources.field.grade", "年级", "Grade"),
    ("resources.field.type", "资源类型", "Type"),
    ("resources.field.edition", "教材版本", "Edition"),
    ("resources.field.chapter", "章节", "Chapter"),
    ("resources.field.licence", "使用许可", "Licence"),
    ("resources.field.keywords", "关键词", "Keywords"),
    ("resources.field.owner", "作者", "Author"),
    ("resources.field.scope", "共享范围", "Shared with"),
    ("resources.field.state", "状态", "State"),
    ("resources.field.text", "正文", "Text"),
    ("resources.field.updated", "更新时间", "Updated"),
    ("resources.scope.private", "仅自己", "Only me"),
    ("resources.scope.school", "本校", "My school"),
    ("resources.scope.district", "全区", "The whole district"),
    ("resources.scope.class", "班级：{class}", "Class: {class}"),
    ("resources.version", "第 {n} 版", "version {n}"),
    // One resource.
    ("resources.detail.title", "资源", "Resource"),
    (
        "resources.detail.download",
        "下载 {name}",
        "Download {name}",
    ),
    ("resources.detail.open_link", "打开链接", "Open the link"),
    ("resources.detail.usage", "使用情况", "Usage"),
    ("resources.detail.views", "浏览", "Views"),
    ("resources.detail.downloads", "下载", "Downloads"),
    ("resources.detail.lessons", "用于课堂", "Used in lessons"),
    (
        "resources.detail.unpublished",
        "尚未入库：只有作者和审核员能看到。",
        "Not in the library yet: only its author and its reviewers see it.",
    ),
    ("resources.detail.working", "工作版本", "Working version"),
    ("resources.detail.checks", "机审结果", "Machine check"),
    (
        "resources.detail.checks_pending",
        "提交审核时进行机审。",
        "The machine check runs when the resource is submitted.",
    ),
    (
        "resources.detail.checks_clean",
        "未发现负面词，也没有相同内容的资源。",
        "No negative-list words, and no resource with identical content.",
    ),
    (
        "resources.detail.negative",
        "负面词（{n} 处）",
        "Negative-list words ({n})",
    ),
    (
        "resources.detail.duplicates",
        "相同内容的资源（{n} 个）",
        "Resources with identical content ({n})",
    ),
    (
        "resources.detail.text_unchecked",
        "未能从文件中提取文字，只检查了标题、简介和关键词。",
        "No text could be extracted from the file: only the title, description and keywords were checked.",
    ),
    ("resources.detail.reviews", "审核记录", "Reviews"),
    ("resources.detail.events", "流转记录", "History"),
    (
        "resources.detail.no_reviews",
        "还没有审核记录。",
        "No reviews yet.",
    ),
    (
        "resources.detail.follow_author",
        "关注作者",
        "Follow the author",
    ),
    // Lifecycle actions on a resource's page.
    (
        "resources.action.submit_heading",
        "提交审核",
        "Submit for review",
    ),
    (
        "resources.action.pledge",
        "责任承诺：我确认本资源内容符合政治性、科学性、安全性要求，并对其负责（谁接入谁负责）。",
        "Pledge: I confirm that this resource is politically sound, scientifically accurate and safe, and I take responsibility for it.",
    ),
    ("resources.action.submit", "提交审核", "Submit for review"),
    (
        "resources.action.withdraw",
        "撤回审核",
        "Withdraw from review",
    ),
    (
        "resources.action.withdraw_hint",
        "撤回后可以修改，再重新提交。",
        "Withdraw it to change it, then submit it again.",
    ),
    ("resources.action.review_heading", "审核", "Review"),
    (
        "resources.action.political",
        "政治性",
        "Political soundness",
    ),
    (
        "resources.action.scientific",
        "科学性",
        "Scientific accuracy",
    ),
    ("resources.action.safety", "安全性", "Safety"),
    ("resources.action.pass", "通过", "Pass"),
    ("resources.action.fail", "不通过", "Fail"),
    ("resources.action.comment", "审核意见", "Comments"),
    (
        "resources.action.comment_hint",
        "退回时必须填写，作者据此修改。",
        "Required when returning it: the author revises it from your comments.",
    ),
    (
        "resources.action.narrow",
        "共享范围（只能缩小）",
        "Sharing (may only be narrowed)",
    ),
    (
        "resources.action.keep_scope",
        "保持作者选择：{scope}",
        "As the author chose: {scope}",
    ),
    (
        "resources.action.approve",
        "通过并入库",
        "Approve and publish",
    ),
    (
        "resources.action.reject",
        "退回修改",
        "Return to the author",
    ),
    ("resources.action.retire_heading", "出库", "Retire"),
    ("resources.action.retire_reason", "出库原因", "Reason"),
    (
        "resources.action.retire_hint",
        "出库后资源不再出现在检索中；不会删除任何内容，作者仍可提交新版本。",
        "A retired resource leaves search. Nothing is deleted; the author may still submit a new version.",
    ),
    ("resources.action.retire", "出库", "Retire"),
    (
        "resources.done.submitted",
        "已提交审核。",
        "Submitted for review.",
    ),
    (
        "resources.done.withdrawn",
        "已撤回，可以修改后重新提交。",
        "Withdrawn: change it and submit it again.",
    ),
    (
        "resources.done.reviewed",
        "审核结果已保存。",
        "The review is saved.",
    ),
    ("resources.done.retired", "已出库。", "Retired."),
    ("resources.decision.approve", "通过", "Approved"),
    ("resources.decision.reject", "退回", "Returned"),
    ("resources.event.created", "创建", "Created"),
    ("resources.event.edited", "修改", "Edited"),
    ("resources.event.new_version", "新版本", "New version"),
    ("resources.event.submitted", "提交审核", "Submitted"),
    ("resources.event.machine_checked", "机审", "Machine check"),
    (
        "resources.event.approved",
        "审核通过，入库",
        "Approved and published",
    ),
    ("resources.event.rejected", "退回", "Returned"),
    ("resources.event.retired", "出库", "Retired"),
    (
        "resources.event.withdrawn",
        "撤回审核",
        "Withdrawn from review",
    ),
    ("resources.event.superseded", "被新版本取代", "Superseded"),
    // My resources, the review queue, follows.
    ("resources.mine.title", "我的资源", "My resources"),
    ("resources.mine.empty", "还没有资源。", "No resources yet."),
    ("resources.review.title", "审核队列", "Review queue"),
    (
        "resources.review.empty",
        "没有等待审核的资源。",
        "Nothing is waiting for review.",
    ),
    (
        "resources.review.negative",
        "负面词 {n}",
        "{n} negative-list words",
    ),
    (
        "resources.review.duplicates",
        "相同内容 {n}",
        "{n} identical",
    ),
    (
        "resources.review.clean",
        "机审无发现",
        "Machine check: nothing found",
    ),
    ("resources.following.title", "我的关注", "Following"),
    (
        "resources.following.follows",
        "我关注的学科和老师",
        "Subjects and teachers I follow",
    ),
    (
        "resources.following.none",
        "还没有关注任何学科或老师。",
        "You follow no subject or teacher yet.",
    ),
    (
        "resources.following.follow_subject",
        "关注学科",
        "Follow a subject",
    ),
    ("resources.following.follow", "关注", "Follow"),
    ("resources.following.unfollow", "取消关注", "Unfollow"),
    (
        "resources.following.unfollow_label",
        "取消关注：{what}",
        "Unfollow {what}",
    ),
    ("resources.following.subject", "学科", "Subject"),
    ("resources.following.teacher", "老师", "Teacher"),
    (
        "resources.following.new",
        "关注范围内的最新资源",
        "New where I follow",
    ),
    (
        "resources.following.nothing_new",
        "暂时没有新资源。",
        "Nothing new yet.",
    ),
    // Adding a resource.
    ("resources.new.title", "上传资源", "Add a resource"),
    ("resources.new.content", "内容", "Content"),
    ("resources.new.content_file", "上传文件", "Upload a file"),
    ("resources.new.content_text", "填写正文", "Write the text"),
    ("resources.new.content_link", "填写链接", "Give a link"),
    ("resources.new.file", "文件", "File"),
    (
        "resources.new.file_hint",
        "文档、演示文稿、表格、PDF、图片、音频或视频，最大 {max_mb} MB。",
        "Documents, presentations, spreadsheets, PDF, pictures, audio or video, up to {max_mb} MB.",
    ),
    ("resources.new.link", "链接", "Link"),
    (
        "resources.new.keywords_hint",
        "用逗号、顿号或空格分开",
        "Separate them with commas or spaces",
    ),
    (
        "resources.new.licence_hint",
        "留空即为：{default}",
        "Leave it empty for: {default}",
    ),
    (
        "resources.new.kept_file",
        "请重新选择文件。",
        "Choose the file again.",
    ),
    ("resources.new.submit", "保存为草稿", "Save as a draft"),
    (
        "resources.new.after",
        "保存后，在资源页面确认责任承诺并提交审核；审核通过才会入库。",
        "Once saved, submit it for review on its page with your pledge; it joins the library when approved.",
    ),
    // States, stages, grades, subjects and types.
    ("resources.state.draft", "草稿", "Draft"),
    ("resources.state.submitted", "已提交", "Submitted"),
    ("resources.state.in_review", "待审核", "In review"),
    ("resources.state.rejected", "已退回", "Returned"),
    ("resources.state.published", "已入库", "Published"),
    ("resources.state.superseded", "已被新版本取代", "Superseded"),
    ("resources.state.retired", "已出库", "Retired"),
    ("resources.stage.小学", "小学", "primary"),
    ("resources.stage.初中", "初中", "junior secondary"),
    ("resources.stage.高中", "高中", "senior secondary"),
    ("resources.grade.01", "一年级", "Grade 1"),
    ("resources.grade.02", "二年级", "Grade 2"),
    ("resources.grade.03", "三年级", "Grade 3"),
    ("resources.grade.04", "四年级", "Grade 4"),
    ("resources.grade.05", "五年级", "Grade 5"),
    ("resources.grade.06", "六年级", "Grade 6"),
    ("resources.grade.07", "七年级", "Grade 7"),
    ("resources.grade.08", "八年级", "Grade 8"),
    ("resources.grade.09", "九年级", "Grade 9"),
    ("resources.grade.10", "高一", "Grade 10"),
    ("resources.grade.11", "高二", "Grade 11"),
    ("resources.grade.12", "高三", "Grade 12"),
    ("resources.subject.语文", "语文", "Chinese"),
    ("resources.subject.数学", "数学", "Mathematics"),
    ("resources.subject.英语", "英语", "English"),
    ("resources.subject.物理", "物理", "Physics"),
    ("resources.subject.化学", "化学", "Chemistry"),
    ("resources.subject.生物", "生物", "Biology"),
    ("resources.subject.历史", "历史", "History"),
    ("resources.subject.地理", "地理", "Geography"),
    (
        "resources.subject.道德与法治",
        "道德与法治",
        "Morality and Law",
    ),
    (
        "resources.subject.思想政治",
        "思想政治",
        "Ideology and Politics",
    ),
    ("resources.subject.科学", "科学", "Science"),
    (
        "resources.subject.信息技术",
        "信息技术",
        "Information Technology",
    ),
    (
        "resources.subject.通用技术",
        "通用技术",
        "General Technology",
    ),
    ("resources.subject.音乐", "音乐", "Music"),
    ("resources.subject.美术", "美术", "Art"),
    ("resources.subject.体育", "体育", "Physical Education"),
    (
        "resources.subject.体育与健康",
        "体育与健康",
        "PE and Health",
    ),
    ("resources.subject.劳动", "劳动", "Labour"),
    (
        "resources.subject.综合实践活动",
        "综合实践活动",
        "Integrated Practice",
    ),
    ("resources.subject.心理健康", "心理健康", "Mental Health"),
    ("resources.subject.日语", "日语", "Japanese"),
    ("resources.subject.俄语", "俄语", "Russian"),
    ("resources.type.课件", "课件", "Slides"),
    ("resources.type.教案", "教案", "Lesson plan"),
    ("resources.type.学案", "学案", "Study guide"),
    ("resources.type.习题", "习题", "Exercises"),
    ("resources.type.试卷", "试卷", "Test paper"),
    ("resources.type.微课", "微课", "Micro-lesson"),
    ("resources.type.素材", "素材", "Materials"),
    ("resources.type.课例", "课例", "Lesson example"),
    ("resources.type.其他", "其他", "Other"),
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

    /// A vocabulary value (`group` is `subject`, `type`, `state` …) in the reader's language;
    /// a value the table does not know is shown as it is.
    pub fn term(&self, group: &str, value: &str) -> String {
        let key = format!("resources.{group}.{value}");
        self.own(&key).unwrap_or(value).to_owned()
    }

    /// A grade with its stage: "07 七年级（初中）", "07 Grade 7 (junior secondary)".
    pub fn grade(&self, code: &str) -> String {
        if code.is_empty() {
            return String::new();
        }
        let stage = self.term("stage", super::super::stage_of(code));
        let name = self.term("grade", code);
        match self.tr().lang {
            Lang::Zh => format!("{name}（{stage}）"),
            Lang::En => format!("{name} ({stage})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{GRADES, KINDS, SUBJECTS};

    #[test]
    fn every_key_is_there_once_in_both_languages() {
        crate::i18n::check_table(TEXT, &["resources."], "resources");
    }

    #[test]
    fn the_whole_vocabulary_has_words() {
        let has = |key: String| TEXT.iter().any(|(k, _, _)| *k == key);
        for s in SUBJECTS {
            assert!(has(format!("resources.subject.{s}")), "{s}");
        }
        for k in KINDS {
            assert!(has(format!("resources.type.{k}")), "{k}");
        }
        for g in GRADES {
            assert!(has(format!("resources.grade.{g}")), "{g}");
        }
    }
}
