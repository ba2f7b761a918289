//! `search-corpus --out DIR [--docs 200000] [--queries 1000] [--seed 1] [--force]`: the corpus
//! and the queries of the search benchmark (`tests/bench/search.sh`), made up from word
//! frequencies — nothing is downloaded.
//!
//! Writes, in DIR:
//!
//! * `docs.tsv`: one teaching resource a line,
//!   `id<TAB>subject<TAB>grade<TAB>title<TAB>body` — subjects from 语文 … 体育 (14), grades
//!   `01`–`12` (each subject in the grades it is taught in), a title like
//!   `八年级数学：二次函数与一元二次方程（课件）` and a body of about 2 KB of UTF-8 text.
//! * `queries.tsv`: one query a line,
//!   `kind<TAB>text<TAB>subject filter or empty<TAB>grade filter or empty`, kind being `term` (one
//!   word), `and` (two or three words, all required), `or` (two words, any) or `phrase` (two
//!   words that stand next to each other in some generated body, written together as they
//!   occur, e.g. `二次函数图像`). The text is the word list only: the benchmark turns it into
//!   each engine's query string (`a b`, `a OR b`, `"ab"`).
//! * `meta.json`: the parameters and the generator's version. A second run with the same
//!   parameters finds it and writes nothing (unless `--force`).
//!
//! Text is drawn from a built-in vocabulary of about 400 words: function words, the words of
//! lesson plans, and each subject's own vocabulary, every list with Zipf-like frequencies (the
//! word of rank r drawn with weight 1/r). A body mixes function words (35 %), teaching words
//! (25 %), its subject's words (35 %) and other subjects' words (5 %) in sentences of 6 to 14
//! words. Queries use content words only (no function words) with the same frequencies, so
//! common words are common queries; about a quarter carry a subject filter and one in ten a
//! grade filter. The output depends only on the parameters (a self-contained SplitMix64
//! generator, not a library's, so it stays the same across versions).

use std::error::Error;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// Bumped whenever the output for the same parameters changes.
const VERSION: u32 = 1;

/// Body length in bytes: uniform in this range (≈ 2 KB on average).
const BODY_MIN: usize = 1_600;
const BODY_MAX: usize = 2_500;

/// (subject, its vocabulary most frequent first, the grades it is taught in)
const SUBJECTS: &[(&str, &[&str], (u8, u8))] = &[
    (
        "语文",
        &[
            "课文",
            "阅读",
            "作文",
            "古诗词",
            "文言文",
            "生字",
            "词语",
            "段落",
            "修辞手法",
            "比喻",
            "拟人",
            "排比",
            "记叙文",
            "说明文",
            "议论文",
            "论点",
            "论据",
            "成语",
            "拼音",
            "识字",
            "诗歌鉴赏",
            "唐诗",
            "宋词",
            "鲁迅",
            "朱自清",
            "背影",
            "岳阳楼记",
            "出师表",
            "中心思想",
            "人物形象",
            "现代文阅读",
            "写作手法",
            "朗读",
            "默写",
            "名著导读",
            "标点符号",
        ],
        (1, 12),
    ),
    (
        "数学",
        &[
            "函数",
            "方程",
            "二次函数",
            "一元二次方程",
            "三角形",
            "一次函数",
            "不等式",
            "勾股定理",
            "全等三角形",
            "相似三角形",
            "平行四边形",
            "概率",
            "统计",
            "分数",
            "小数",
            "乘法口诀",
            "因式分解",
            "方程组",
            "函数图像",
            "坐标系",
            "导数",
            "数列",
            "向量",
            "集合",
            "三角函数",
            "立体几何",
            "对称轴",
            "顶点坐标",
            "圆周角",
            "有理数",
            "整式",
            "应用题",
            "解析式",
            "几何证明",
        ],
        (1, 12),
    ),
    (
        "英语",
        &[
            "单词",
            "语法",
            "时态",
            "阅读理解",
            "完形填空",
            "听力",
            "口语",
            "写作",
            "词汇",
            "句型",
            "一般现在时",
            "现在进行时",
            "过去式",
            "被动语态",
            "定语从句",
            "音标",
            "短语",
            "情态动词",
            "宾语从句",
            "冠词",
            "介词",
            "书面表达",
            "对话",
            "字母",
        ],
        (3, 12),
    ),
    (
        "物理",
        &[
            "力",
            "运动",
            "速度",
            "牛顿第二定律",
            "电流",
            "电压",
            "电阻",
            "欧姆定律",
            "电路",
            "压强",
            "浮力",
            "摩擦力",
            "重力",
            "惯性",
            "牛顿第一定律",
            "杠杆",
            "滑轮",
            "功率",
            "机械能",
            "动能",
            "势能",
            "磁场",
            "电磁感应",
            "光的折射",
            "光的反射",
            "凸透镜",
            "声音",
            "温度",
            "热量",
            "加速度",
            "匀速直线运动",
            "密度",
            "电功率",
        ],
        (8, 12),
    ),
    (
        "化学",
        &[
            "化学反应",
            "化学方程式",
            "元素",
            "原子",
            "分子",
            "离子",
            "氧气",
            "二氧化碳",
            "酸碱盐",
            "中和反应",
            "氧化还原反应",
            "质量守恒定律",
            "溶液",
            "溶解度",
            "金属",
            "有机物",
            "催化剂",
            "元素周期表",
            "化合价",
            "实验室制取",
            "燃烧",
            "水的组成",
            "物质的量",
        ],
        (9, 12),
    ),
    (
        "生物",
        &[
            "细胞",
            "光合作用",
            "呼吸作用",
            "遗传",
            "基因",
            "生态系统",
            "植物",
            "动物",
            "细胞分裂",
            "细胞核",
            "染色体",
            "食物链",
            "进化",
            "微生物",
            "消化系统",
            "血液循环",
            "神经系统",
            "激素",
            "种子",
            "蒸腾作用",
            "生物圈",
            "显微镜",
            "蛋白质",
        ],
        (7, 12),
    ),
    (
        "历史",
        &[
            "朝代",
            "秦始皇",
            "统一六国",
            "汉朝",
            "丝绸之路",
            "唐朝",
            "贞观之治",
            "宋朝",
            "元朝",
            "明朝",
            "郑和下西洋",
            "清朝",
            "鸦片战争",
            "辛亥革命",
            "五四运动",
            "抗日战争",
            "改革开放",
            "工业革命",
            "文艺复兴",
            "世界大战",
            "新中国成立",
            "历史事件",
            "史料",
        ],
        (7, 12),
    ),
    (
        "地理",
        &[
            "地图",
            "气候",
            "地形",
            "河流",
            "人口",
            "地球",
            "经纬网",
            "比例尺",
            "等高线",
            "季风",
            "降水",
            "长江",
            "黄河",
            "高原",
            "平原",
            "城市化",
            "农业",
            "交通",
            "自然资源",
            "板块运动",
            "大气环流",
            "洋流",
            "区域",
        ],
        (7, 12),
    ),
    (
        "道德与法治",
        &[
            "法律",
            "权利",
            "义务",
            "宪法",
            "公民",
            "诚信",
            "责任",
            "友谊",
            "集体",
            "规则",
            "青春期",
            "生命",
            "社会主义核心价值观",
            "法治",
            "民主",
            "国家利益",
            "公平正义",
            "未成年人保护法",
            "家庭",
            "情绪",
        ],
        (1, 9),
    ),
    (
        "科学",
        &[
            "观察",
            "实验",
            "探究",
            "物质",
            "能量",
            "天气",
            "水的三态",
            "空气",
            "岩石",
            "土壤",
            "太阳系",
            "月相",
            "简单机械",
            "磁铁",
            "植物的生长",
            "动物的特征",
            "溶解",
            "电路连接",
        ],
        (1, 6),
    ),
    (
        "信息技术",
        &[
            "计算机",
            "编程",
            "算法",
            "程序",
            "流程图",
            "变量",
            "循环结构",
            "网络",
            "互联网",
            "信息安全",
            "数据",
            "文件",
            "文字处理",
            "电子表格",
            "人工智能",
            "图形化编程",
            "键盘",
            "鼠标",
        ],
        (3, 12),
    ),
    (
        "音乐",
        &[
            "歌曲",
            "节奏",
            "旋律",
            "音符",
            "乐器",
            "合唱",
            "民歌",
            "五线谱",
            "节拍",
            "音阶",
            "演唱",
            "京剧",
            "交响乐",
            "打击乐",
            "欣赏音乐",
        ],
        (1, 9),
    ),
    (
        "美术",
        &[
            "绘画", "色彩", "素描", "线条", "构图", "手工", "剪纸", "水彩", "国画", "书法", "造型",
            "版画", "雕塑", "设计", "写生",
        ],
        (1, 9),
    ),
    (
        "体育",
        &[
            "跑步",
            "跳绳",
            "篮球",
            "足球",
            "排球",
            "乒乓球",
            "广播体操",
            "立定跳远",
            "耐力跑",
            "体能",
            "游泳",
            "武术",
            "运动技能",
            "队列",
            "热身运动",
        ],
        (1, 12),
    ),
];

/// Function words, most frequent first.
const FUNCTION: &[&str] = &[
    "的",
    "是",
    "在",
    "和",
    "了",
    "我们",
    "学生",
    "这个",
    "一个",
    "可以",
    "通过",
    "进行",
    "与",
    "对",
    "中",
    "为",
    "把",
    "从",
    "以及",
    "如何",
    "什么",
    "因为",
    "所以",
    "但是",
    "如果",
    "已经",
    "能够",
    "需要",
    "这些",
    "其中",
    "之间",
    "时候",
    "同学们",
    "老师",
    "大家",
    "自己",
    "然后",
    "首先",
    "其次",
    "最后",
    "例如",
    "比如",
    "并且",
    "或者",
    "还是",
    "一些",
    "每个",
    "这样",
    "那么",
    "就是",
    "也",
    "都",
    "要",
    "会",
    "还",
    "再",
    "又",
    "很",
    "更",
    "最",
];

/// Words of lesson plans, most frequent first.
const TEACHING: &[&str] = &[
    "教学",
    "知识",
    "问题",
    "方法",
    "课堂",
    "练习",
    "学习",
    "理解",
    "掌握",
    "分析",
    "教学目标",
    "教学重点",
    "教学难点",
    "教学过程",
    "导入",
    "新课讲授",
    "课堂练习",
    "小结",
    "作业",
    "复习",
    "预习",
    "例题",
    "习题",
    "知识点",
    "核心素养",
    "学习任务",
    "小组合作",
    "探究活动",
    "情境",
    "板书设计",
    "教学反思",
    "评价",
    "拓展",
    "巩固",
    "思考",
    "讨论",
    "总结",
    "运用",
    "培养",
    "能力",
    "兴趣",
    "思维",
    "教材",
    "单元",
    "课时",
    "基础",
    "提高",
    "关键",
    "重要",
    "生活",
    "实际",
    "联系",
    "规律",
    "特点",
    "意义",
    "概念",
    "原理",
    "步骤",
    "结论",
    "答案",
    "过程",
    "内容",
    "目标",
    "活动",
    "环节",
    "设计",
    "说课",
    "微课",
    "学案",
    "试题",
    "测验",
    "期中",
    "期末",
    "月考",
    "易错点",
    "重难点",
    "思维导图",
    "表格",
    "图片",
    "视频",
    "资料",
];

const KINDS: &[&str] = &[
    "课件",
    "教学设计",
    "导学案",
    "同步练习",
    "复习课",
    "单元测试",
    "说课稿",
    "微课",
];

const GRADE_NAMES: [&str; 12] = [
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

/// SplitMix64: small, fast, and the same on every platform and forever.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in 0..n.
    fn below(&mut self, n: usize) -> usize {
        (((self.next() >> 32) * n as u64) >> 32) as usize
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
}

/// Words with Zipf-like weights (rank r: 1/r), drawn by binary search on the cumulative sum.
struct Zipf {
    words: Vec<&'static str>,
    cumulative: Vec<f64>,
}

impl Zipf {
    fn new(words: &[&'static str]) -> Zipf {
        let mut total = 0.0;
        let cumulative = (1..=words.len())
            .map(|rank| {
                total += 1.0 / rank as f64;
                total
            })
            .collect();
        Zipf {
            words: words.to_vec(),
            cumulative,
        }
    }

    fn draw(&self, rng: &mut Rng) -> &'static str {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let x = rng.unit() * total;
        let i = self.cumulative.partition_point(|c| *c <= x);
        self.words[i.min(self.words.len() - 1)]
    }
}

struct Vocabulary {
    function: Zipf,
    teaching: Zipf,
    subjects: Vec<Zipf>,
}

/// Where a word of a body comes from.
fn body_word(v: &Vocabulary, subject: usize, rng: &mut Rng) -> &'static str {
    let x = rng.unit();
    if x < 0.35 {
        v.function.draw(rng)
    } else if x < 0.60 {
        v.teaching.draw(rng)
    } else if x < 0.95 {
        v.subjects[subject].draw(rng)
    } else {
        v.subjects[rng.below(v.subjects.len())].draw(rng)
    }
}

/// A content word for a query about `subject`: its own vocabulary or a teaching word.
fn query_word(v: &Vocabulary, subject: usize, rng: &mut Rng) -> &'static str {
    if rng.chance(0.6) {
        v.subjects[subject].draw(rng)
    } else {
        v.teaching.draw(rng)
    }
}

fn grade_of(subject: usize, rng: &mut Rng) -> u8 {
    let (lo, hi) = SUBJECTS[subject].2;
    lo + rng.below(usize::from(hi - lo + 1)) as u8
}

/// One document: (title, body), and an adjacent pair of words of its body (for phrases).
fn document(
    v: &Vocabulary,
    subject: usize,
    grade: u8,
    rng: &mut Rng,
    words: &mut Vec<&'static str>,
) -> (String, String, Option<String>) {
    let name = SUBJECTS[subject].0;
    let topic = &v.subjects[subject];
    let mut title = format!("{}{}：", GRADE_NAMES[usize::from(grade - 1)], name);
    let first = topic.draw(rng);
    title.push_str(first);
    if rng.chance(0.7) {
        let mut second = topic.draw(rng);
        if second == first {
            second = v.teaching.draw(rng);
        }
        title.push_str(if rng.chance(0.5) { "与" } else { "的" });
        title.push_str(second);
    }
    if rng.chance(0.3) {
        title.push_str(v.teaching.draw(rng));
    }
    title.push('（');
    title.push_str(KINDS[rng.below(KINDS.len())]);
    title.push('）');

    let target = BODY_MIN + rng.below(BODY_MAX - BODY_MIN + 1);
    let mut body = String::with_capacity(target + 64);
    words.clear();
    while body.len() < target {
        let n = 6 + rng.below(9);
        for _ in 0..n {
            let w = body_word(v, subject, rng);
            body.push_str(w);
            words.push(w);
        }
        body.push(if rng.chance(0.6) { '，' } else { '。' });
        words.push("");
    }
    if !body.ends_with('。') {
        body.pop();
        body.push('。');
    }
    // A phrase: two adjacent words of two characters or more, no punctuation between them.
    let mut phrase = None;
    for _ in 0..20 {
        let i = rng.below(words.len().saturating_sub(1).max(1));
        let (a, b) = (words[i], words.get(i + 1).copied().unwrap_or(""));
        if a.chars().count() >= 2 && b.chars().count() >= 2 && a != b {
            phrase = Some(format!("{a}{b}"));
            break;
        }
    }
    (title, body, phrase)
}

struct Args {
    out: PathBuf,
    docs: usize,
    queries: usize,
    seed: u64,
    force: bool,
}

fn usage() -> &'static str {
    "usage: search-corpus --out DIR [--docs 200000] [--queries 1000] [--seed 1] [--force]"
}

fn parse_args() -> Result<Args> {
    let mut args = std::env::args().skip(1);
    let (mut out, mut docs, mut queries, mut seed, mut force) = (None, 200_000, 1_000, 1, false);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .ok_or_else(|| format!("{name} needs a value\n{}", usage()))
        };
        match arg.as_str() {
            "--out" => out = Some(PathBuf::from(value("--out")?)),
            "--docs" => docs = value("--docs")?.parse()?,
            "--queries" => queries = value("--queries")?.parse()?,
            "--seed" => seed = value("--seed")?.parse()?,
            "--force" => force = true,
            "-h" | "--help" => {
                println!("{}", usage());
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}\n{}", usage()).into()),
        }
    }
    if docs == 0 || queries == 0 {
        return Err("--docs and --queries must be positive".into());
    }
    Ok(Args {
        out: out.ok_or("--out is required")?,
        docs,
        queries,
        seed,
        force,
    })
}

fn run(args: &Args) -> Result<()> {
    let meta = serde_json::json!({
        "generator": "search-corpus",
        "version": VERSION,
        "docs": args.docs,
        "queries": args.queries,
        "seed": args.seed,
    });
    let meta_path = args.out.join("meta.json");
    if !args.force
        && args.out.join("docs.tsv").is_file()
        && args.out.join("queries.tsv").is_file()
        && let Ok(text) = std::fs::read_to_string(&meta_path)
        && let Ok(found) = serde_json::from_str::<serde_json::Value>(&text)
        && found.get("done") == Some(&serde_json::Value::Bool(true))
        && ["version", "docs", "queries", "seed"]
            .iter()
            .all(|k| found.get(k) == meta.get(k))
    {
        eprintln!("search-corpus: {} is up to date", args.out.display());
        return Ok(());
    }
    std::fs::create_dir_all(&args.out)?;
    let _ = std::fs::remove_file(&meta_path);

    let v = Vocabulary {
        function: Zipf::new(FUNCTION),
        teaching: Zipf::new(TEACHING),
        subjects: SUBJECTS.iter().map(|s| Zipf::new(s.1)).collect(),
    };
    let mut rng = Rng(args.seed.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ 0x6b6f_6e67_6a69_616e);
    // Subjects are not equally common either: 语文, 数学 and 英语 lead.
    let subject_names: Vec<&'static str> = SUBJECTS.iter().map(|s| s.0).collect();
    let subject_pick = Zipf::new(&subject_names);
    let index_of = |name: &str| SUBJECTS.iter().position(|s| s.0 == name).unwrap_or(0);

    let mut docs = BufWriter::with_capacity(1 << 20, File::create(args.out.join("docs.tsv"))?);
    // Phrases that occur, with their document's subject and grade: a reservoir of them.
    let keep = (args.queries * 4).max(64);
    let mut phrases: Vec<(String, usize, u8)> = Vec::with_capacity(keep);
    let mut seen = 0usize;
    let mut words = Vec::new();
    let mut bytes = 0u64;
    for i in 0..args.docs {
        let subject = index_of(subject_pick.draw(&mut rng));
        let grade = grade_of(subject, &mut rng);
        let (title, body, phrase) = document(&v, subject, grade, &mut rng, &mut words);
        bytes += (title.len() + body.len()) as u64;
        writeln!(
            docs,
            "d{:07}\t{}\t{:02}\t{}\t{}",
            i + 1,
            SUBJECTS[subject].0,
            grade,
            title,
            body
        )?;
        if let Some(p) = phrase {
            seen += 1;
            if phrases.len() < keep {
                phrases.push((p, subject, grade));
            } else {
                let j = rng.below(seen);
                if j < keep {
                    phrases[j] = (p, subject, grade);
                }
            }
        }
        if (i + 1) % 50_000 == 0 {
            eprintln!("search-corpus: {} documents", i + 1);
        }
    }
    docs.flush()?;

    let mut queries = BufWriter::new(File::create(args.out.join("queries.tsv"))?);
    let mut kinds = [0usize; 4];
    for _ in 0..args.queries {
        let subject = index_of(subject_pick.draw(&mut rng));
        let x = rng.unit();
        let (kind, text, subject, grade) = if x < 0.40 {
            let w = query_word(&v, subject, &mut rng);
            kinds[0] += 1;
            ("term", w.to_owned(), subject, grade_of(subject, &mut rng))
        } else if x < 0.65 {
            let n = if rng.chance(0.7) { 2 } else { 3 };
            let mut ws: Vec<&str> = vec![v.subjects[subject].draw(&mut rng)];
            while ws.len() < n {
                let w = query_word(&v, subject, &mut rng);
                if !ws.contains(&w) {
                    ws.push(w);
                }
            }
            kinds[1] += 1;
            ("and", ws.join(" "), subject, grade_of(subject, &mut rng))
        } else if x < 0.85 {
            let a = v.subjects[subject].draw(&mut rng);
            let mut b = query_word(&v, subject, &mut rng);
            while b == a {
                b = query_word(&v, subject, &mut rng);
            }
            kinds[2] += 1;
            (
                "or",
                format!("{a} {b}"),
                subject,
                grade_of(subject, &mut rng),
            )
        } else {
            let (p, s, g) = phrases[rng.below(phrases.len())].clone();
            kinds[3] += 1;
            ("phrase", p, s, g)
        };
        let filter = rng.unit();
        let (subject_filter, grade_filter) = if filter < 0.25 {
            (SUBJECTS[subject].0, String::new())
        } else if filter < 0.35 {
            ("", format!("{grade:02}"))
        } else {
            ("", String::new())
        };
        writeln!(queries, "{kind}\t{text}\t{subject_filter}\t{grade_filter}")?;
    }
    queries.flush()?;

    let mut meta = meta;
    meta["done"] = serde_json::Value::Bool(true);
    meta["text_bytes"] = bytes.into();
    meta["query_kinds"] =
        serde_json::json!({"term": kinds[0], "and": kinds[1], "or": kinds[2], "phrase": kinds[3]});
    meta["vocabulary"] =
        (FUNCTION.len() + TEACHING.len() + SUBJECTS.iter().map(|s| s.1.len()).sum::<usize>())
            .into();
    std::fs::write(&meta_path, serde_json::to_string_pretty(&meta)?)?;
    eprintln!(
        "search-corpus: {} documents ({:.0} MB of text), {} queries in {}",
        args.docs,
        bytes as f64 / 1e6,
        args.queries,
        args.out.display()
    );
    Ok(())
}

fn main() -> ExitCode {
    let result = parse_args().and_then(|args| run(&args));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("search-corpus: {err}");
            ExitCode::FAILURE
        }
    }
}
