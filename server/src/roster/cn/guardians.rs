//! guardians.csv (or students.csv's guardian1_… columns) → guardian users, deduplicated by
//! guardian_id or else by mobile number, their role at each child's school, agent links both
//! ways, and an explicit [`GuardianLink`] with the GB/T 4761 relation per student.

use std::collections::HashMap;

use super::names;
use super::table::{Loaded, RowRef};
use super::values;
use super::{Ctx, Lookup, lookup, new_user, phone, synthesise};
use crate::roster::diagnostics::Message;
use crate::roster::model::{GuardianLink, Located, Relation, RoleKind, SourcedId, Status};

/// A guardian row waiting to be read: from guardians.csv, or one guardian group of a
/// students.csv row.
pub(super) struct Pending<'t> {
    pub row: RowRef<'t>,
    /// The student, when its id is usable (guardians.csv's student_id may not be).
    pub student: Option<SourcedId>,
    /// `Some(n)` for students.csv's `guardian{n}_…` columns.
    pub inline: Option<u8>,
}

/// The single-sheet guardians of students.csv.
#[derive(Default)]
pub(super) struct Inline<'t> {
    pub rows: Vec<Pending<'t>>,
    /// students.csv's name, when it has guardian columns at all.
    pub file: Option<String>,
}

impl Pending<'_> {
    /// The canonical column of a guardian field in this row's file.
    fn column(&self, field: &str) -> String {
        match (self.inline, field) {
            (Some(n), field) => format!("guardian{n}_{field}"),
            (None, "name") => "guardian_name".to_owned(),
            (None, "id") => "guardian_id".to_owned(),
            (None, field) => field.to_owned(),
        }
    }
}

/// A guardian row with its values parsed.
struct Parsed<'t> {
    row: RowRef<'t>,
    student: SourcedId,
    name: String,
    relation: Relation,
    phone: String,
    legal: bool,
    explicit: Option<SourcedId>,
    priority: u32,
    name_column: String,
    phone_column: String,
    id_column: String,
}

/// What the links say about a guardian's role at one school.
struct RoleAcc {
    at: (String, u64),
    kind: RoleKind,
    active: bool,
}

/// Read the guardians; returns whether students.csv's inline columns were the source.
pub(super) fn guardians(ctx: &mut Ctx, loaded: &Loaded, inline: Inline) -> bool {
    let (pending, inline_used) = match loaded {
        Loaded::Table(table) => {
            if let Some(file) = &inline.file {
                ctx.report.warn(
                    "inline_guardians_ignored",
                    file,
                    Some(1),
                    None,
                    Message::new(
                        "已提供 guardians.csv，本文件中的家长列（guardian1_… 等）被忽略",
                        "guardians.csv was supplied, so this file's guardian columns (guardian1_… …) were ignored",
                    ),
                );
            }
            let rows = table.rows().map(|row| Pending {
                row,
                student: row.id("student_id", &mut ctx.report),
                inline: None,
            });
            (rows.collect(), false)
        }
        Loaded::Broken => return false,
        Loaded::Absent => {
            let used = inline.file.is_some();
            (inline.rows, used)
        }
    };
    let parsed = parse_rows(ctx, &pending);
    link(ctx, &parsed);
    inline_used
}

fn parse_rows<'t>(ctx: &mut Ctx, pending: &[Pending<'t>]) -> Vec<Parsed<'t>> {
    let mut parsed = Vec::new();
    for p in pending {
        let report = &mut ctx.report;
        let row = p.row;
        let (name_column, phone_column, id_column) =
            (p.column("name"), p.column("phone"), p.column("id"));
        let (relation_column, legal_column) = (p.column("relation"), p.column("is_legal_guardian"));
        let name = row.required(&name_column, report);
        let relation = row.required(&relation_column, report).and_then(|raw| {
            values::relation(raw)
                .map_err(|m| row.error(&relation_column, report, m))
                .ok()
        });
        let mobile = phone(&row, &phone_column, report);
        let legal = row.get(&legal_column).and_then(|raw| {
            values::yes_no(raw)
                .map_err(|m| row.error(&legal_column, report, m))
                .ok()
        });
        let explicit = row.opt_id(&id_column, report);
        let priority = match p.inline {
            Some(n) => u32::from(n),
            None => row.get("priority").map_or(u32::MAX, |raw| {
                raw.parse::<u32>().unwrap_or_else(|_| {
                    row.warn(
                        "priority",
                        "priority_format",
                        report,
                        Message::new(
                            format!("优先级“{raw}”应为正整数（1、2 …），已忽略"),
                            format!("the priority \"{raw}\" should be a whole number (1, 2 …); it was ignored"),
                        ),
                    );
                    u32::MAX
                })
            }),
        };
        if p.inline.is_none()
            && let Some(student) = &p.student
        {
            match lookup(&ctx.students, student) {
                Lookup::Missing => {
                    row.error(
                        "student_id",
                        report,
                        super::orgs::unknown("学生编号", "student id", student, "students.csv"),
                    );
                    continue;
                }
                Lookup::Found(info) => {
                    if let Some(written) = row.get("student_name")
                        && !info.name.is_empty()
                        && written != info.name
                    {
                        row.warn(
                            "student_name",
                            "student_name_mismatch",
                            report,
                            Message::new(
                                format!("学生姓名与 students.csv 中该学生编号的姓名“{}”不一致，请核对学生编号", info.name),
                                format!(
                                    "the student's name differs from \"{}\" given for this student id in \
                                     students.csv; check the student id",
                                    info.name
                                ),
                            ),
                        );
                    }
                }
                Lookup::Unchecked => {}
            }
        }
        let (Some(student), Some(name), Some(relation), Some(mobile)) =
            (p.student.clone(), name, relation, mobile)
        else {
            continue;
        };
        parsed.push(Parsed {
            row,
            student,
            name: name.to_owned(),
            relation,
            phone: mobile,
            legal: legal.unwrap_or_else(|| values::is_parent(relation)),
            explicit,
            priority,
            name_column,
            phone_column,
            id_column,
        });
    }
    parsed
}

/// The guardian's identity: guardian_id; else the guardian_id another row gave for the same
/// mobile; else `cn-guardian:{phone}`.
fn identities(ctx: &mut Ctx, parsed: &[Parsed]) -> Vec<Option<SourcedId>> {
    let mut by_phone: HashMap<&str, &SourcedId> = HashMap::new();
    for g in parsed {
        let Some(id) = &g.explicit else { continue };
        match by_phone.get(g.phone.as_str()) {
            None => {
                by_phone.insert(&g.phone, id);
            }
            Some(other) if *other != id => g.row.warn(
                &g.phone_column,
                "phone_shared_by_guardians",
                &mut ctx.report,
                Message::new(
                    format!("家长编号“{other}”也使用这个手机号；按不同的两个人处理"),
                    format!("the guardian \"{other}\" has the same mobile number; they are kept as two people"),
                ),
            ),
            Some(_) => {}
        }
    }
    parsed
        .iter()
        .map(
            |g| match (g.explicit.as_ref(), by_phone.get(g.phone.as_str()).copied()) {
                (Some(id), _) | (None, Some(id)) => Some(id.clone()),
                (None, None) => synthesise(
                    &format!("cn-guardian:{}", g.phone),
                    &mut ctx.report,
                    (g.row.file(), g.row.line()),
                ),
            },
        )
        .collect()
}

fn link(ctx: &mut Ctx, parsed: &[Parsed]) {
    let ids = identities(ctx, parsed);
    let teacher_phones: HashMap<String, SourcedId> = ctx
        .teachers
        .iter()
        .flatten()
        .filter_map(|(id, info)| Some((info.phone.clone()?, id.clone())))
        .collect();
    let mut first_seen: HashMap<SourcedId, (String, String, u64)> = HashMap::new();
    let mut links: HashMap<(SourcedId, SourcedId), u64> = HashMap::new();
    let mut roles: Vec<((SourcedId, SourcedId), RoleAcc)> = Vec::new();
    let mut role_at: HashMap<(SourcedId, SourcedId), usize> = HashMap::new();
    let mut children: HashMap<SourcedId, (bool, bool)> = HashMap::new();
    let mut agents: Vec<(u32, usize, SourcedId, SourcedId)> = Vec::new();
    let mut warned_no_school = false;
    for (seq, (g, id)) in parsed.iter().zip(ids).enumerate() {
        let Some(id) = id else { continue };
        let (row, report) = (&g.row, &mut ctx.report);
        let at = (row.file(), row.line());
        let id_column = if g.explicit.is_some() {
            &g.id_column
        } else {
            &g.phone_column
        };
        if id == g.student || matches!(lookup(&ctx.students, &id), Lookup::Found(_)) {
            row.error(
                id_column,
                report,
                Message::new(
                    format!("家长编号“{id}”与学生编号相同；家长和学生不能共用编号"),
                    format!("the guardian id \"{id}\" is also a student id; they must differ"),
                ),
            );
            continue;
        }
        let teacher = matches!(lookup(&ctx.teachers, &id), Lookup::Found(_));
        if let Some(first) = links.insert((g.student.clone(), id.clone()), row.line()) {
            row.error(
                id_column,
                report,
                Message::new(
                    format!("与第 {first} 行重复：同一学生和同一家长只能有一行"),
                    format!("duplicates line {first}: one row per student and guardian"),
                ),
            );
            continue;
        }
        if g.explicit.is_none()
            && let Some(colleague) = teacher_phones.get(&g.phone)
        {
            row.warn(
                &g.phone_column,
                "guardian_phone_is_teacher",
                report,
                Message::new(
                    format!(
                        "家长手机号与教师（工号 {colleague}）相同；如果是同一人，请在 guardian_id 填写该工号，\
                         否则会有两个账号"
                    ),
                    format!(
                        "the guardian's mobile number is the teacher {colleague}'s; if they are the same \
                         person put that id in guardian_id, otherwise they get two accounts"
                    ),
                ),
            );
        }
        let info = match lookup(&ctx.students, &g.student) {
            Lookup::Found(info) => Some((info.school.clone(), info.status)),
            _ => None,
        };
        match first_seen.get(&id) {
            Some((name, phone, first)) => {
                if *name != g.name {
                    row.warn(
                        &g.name_column,
                        "guardian_name_mismatch",
                        report,
                        Message::new(
                            format!("同一家长（手机号 {}）在第 {first} 行的姓名是“{name}”，这里是“{}”；按同一人处理，使用“{name}”", g.phone, g.name),
                            format!(
                                "the same guardian (mobile {}) is named \"{name}\" on line {first} and \"{}\" here; \
                                 treated as one person named \"{name}\"",
                                g.phone, g.name
                            ),
                        ),
                    );
                }
                if *phone != g.phone {
                    row.warn(
                        &g.phone_column,
                        "guardian_phone_mismatch",
                        report,
                        Message::new(
                            format!("同一家长编号在第 {first} 行的手机号是 {phone}，这里是 {}；使用前者", g.phone),
                            format!("the same guardian id has the mobile {phone} on line {first} and {} here; the first is used", g.phone),
                        ),
                    );
                }
            }
            None => {
                first_seen.insert(id.clone(), (g.name.clone(), g.phone.clone(), row.line()));
                if !teacher {
                    let split = names::split(&g.name);
                    if let Some(note) = &split.note {
                        row.warn(&g.name_column, "name_kept_whole", report, note.clone());
                    }
                    let mut user = new_user(id.clone(), Status::Active, split);
                    user.phone = Some(g.phone.clone());
                    user.sms = Some(g.phone.clone());
                    user.primary_org = info.as_ref().and_then(|(school, _)| school.clone());
                    ctx.add_user(at.0, at.1, user);
                }
            }
        }
        if let Some(user) = ctx.user_mut(&id)
            && !user.agents.contains(&g.student)
        {
            user.agents.push(g.student.clone());
        }
        agents.push((g.priority, seq, g.student.clone(), id.clone()));
        ctx.bundle.guardian_links.push(Located {
            file: at.0.to_owned(),
            line: at.1,
            record: GuardianLink {
                student: g.student.clone(),
                guardian: id.clone(),
                relation: g.relation,
                is_legal_guardian: g.legal,
            },
        });
        let kind = if values::is_parent(g.relation) {
            RoleKind::Parent
        } else if g.legal {
            RoleKind::Guardian
        } else {
            RoleKind::Relative
        };
        let child = children.entry(id.clone()).or_insert((false, false));
        match info {
            Some((school, status)) => {
                *child = (true, child.1 || status == Status::Active);
                let Some(school) = school else { continue };
                let active = status == Status::Active;
                let key = (id.clone(), school);
                match role_at.get(&key).and_then(|&at| roles.get_mut(at)) {
                    Some((_, acc)) => {
                        acc.active |= active;
                        if rank(&kind) > rank(&acc.kind) {
                            acc.kind = kind;
                        }
                    }
                    None => {
                        role_at.insert(key.clone(), roles.len());
                        roles.push((
                            key,
                            RoleAcc {
                                at: (at.0.to_owned(), at.1),
                                kind,
                                active,
                            },
                        ));
                    }
                }
            }
            None if !warned_no_school => {
                warned_no_school = true;
                ctx.report.warn(
                    "guardian_without_school",
                    at.0,
                    None,
                    None,
                    Message::new(
                        "没有 students.csv，无法确定家长所属的学校，未生成家长角色；导入时将按已有的学生确定",
                        "without students.csv the guardians' schools are unknown, so no guardian roles were \
                         made; the import resolves them from the students already known",
                    ),
                );
            }
            None => {}
        }
    }
    for ((guardian, school), acc) in roles {
        let status = if acc.active {
            Status::Active
        } else {
            Status::ToBeDeleted
        };
        ctx.add_role((&acc.at.0, acc.at.1), &guardian, &school, acc.kind, status);
    }
    for (guardian, (known, active)) in children {
        if known
            && !active
            && !matches!(lookup(&ctx.teachers, &guardian), Lookup::Found(_))
            && let Some(user) = ctx.user_mut(&guardian)
        {
            user.status = Status::ToBeDeleted;
        }
    }
    agents.sort_by_key(|(priority, seq, _, _)| (*priority, *seq));
    for (_, _, student, guardian) in agents {
        if let Some(user) = ctx.user_mut(&student)
            && !user.agents.contains(&guardian)
        {
            user.agents.push(guardian);
        }
    }
}

/// Parent before legal guardian before other relative, when one person is several.
fn rank(kind: &RoleKind) -> u8 {
    match kind {
        RoleKind::Parent => 3,
        RoleKind::Guardian => 2,
        _ => 1,
    }
}
