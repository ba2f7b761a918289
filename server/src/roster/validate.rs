//! Cross-file checks: every reference must name a record that exists, in this import or
//! already in the database, and schools must be schools. Runs after parsing, before writing.

use crate::roster::{HashMap, HashSet};

use super::diagnostics::{Diagnostics, Message};
use super::model::{Bundle, Located, OrgType, SessionType, SourcedId, Status};
use super::snapshot::{ACTIVE, Snapshot};

/// What an org is, as far as references care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OrgKind {
    School,
    Other,
}

struct Known<'a> {
    orgs: HashMap<&'a str, OrgKind>,
    sessions: HashMap<&'a str, bool>,
    courses: HashSet<&'a str>,
    classes: HashSet<&'a str>,
    users: HashSet<&'a str>,
}

fn org_kind(org_type: &str) -> OrgKind {
    if org_type == "school" || org_type.starts_with("ext:") {
        OrgKind::School
    } else {
        OrgKind::Other
    }
}

fn active<T>(
    records: &[Located<T>],
    status: impl Fn(&T) -> Status,
) -> impl Iterator<Item = &Located<T>> {
    records
        .iter()
        .filter(move |r| status(&r.record) == Status::Active)
}

impl<'a> Known<'a> {
    fn new(bundle: &'a Bundle, snap: &'a Snapshot) -> Known<'a> {
        let mut known = Known {
            orgs: HashMap::default(),
            sessions: HashMap::default(),
            courses: HashSet::default(),
            classes: HashSet::default(),
            users: HashSet::default(),
        };
        for (id, org) in &snap.orgs {
            if org.status == ACTIVE {
                known.orgs.insert(id, org_kind(&org.org_type));
            }
        }
        for (id, s) in &snap.sessions {
            if s.status == ACTIVE {
                known.sessions.insert(id, s.session_type == "schoolYear");
            }
        }
        known.courses.extend(
            snap.courses
                .iter()
                .filter(|(_, c)| c.status == ACTIVE)
                .map(|(id, _)| id.as_str()),
        );
        known.classes.extend(
            snap.classes
                .iter()
                .filter(|(_, c)| c.status == ACTIVE)
                .map(|(id, _)| id.as_str()),
        );
        known.users.extend(
            snap.people
                .iter()
                .filter(|(_, p)| p.status == ACTIVE)
                .map(|(id, _)| id.as_str()),
        );
        known.users.extend(snap.aliases.keys().map(String::as_str));

        // Everything the package defines counts, whatever its status: a record being retired is
        // still known (a link to a pupil who transfers out is not a dangling reference).
        for org in &bundle.orgs {
            let kind = match &org.record.org_type {
                OrgType::School | OrgType::Ext(_) => OrgKind::School,
                _ => OrgKind::Other,
            };
            known.orgs.insert(org.record.id.as_str(), kind);
        }
        for s in &bundle.sessions {
            known.sessions.insert(
                s.record.id.as_str(),
                s.record.session_type == SessionType::SchoolYear,
            );
        }
        known
            .courses
            .extend(bundle.courses.iter().map(|r| r.record.id.as_str()));
        known
            .classes
            .extend(bundle.classes.iter().map(|r| r.record.id.as_str()));
        known
            .users
            .extend(bundle.users.iter().map(|r| r.record.id.as_str()));
        known
    }
}

struct Checker<'d> {
    diags: &'d mut Diagnostics,
}

impl Checker<'_> {
    fn missing<T>(
        &mut self,
        at: &Located<T>,
        field: &str,
        what_zh: &str,
        what_en: &str,
        id: &SourcedId,
    ) {
        self.diags.error(
            &at.file,
            Some(at.line),
            Some(field),
            Message::new(
                format!("引用的{what_zh}“{id}”不存在（本次导入和已有数据中都没有）"),
                format!("refers to {what_en} \"{id}\", which exists neither in this import nor in earlier ones"),
            ),
        );
    }

    fn org<T>(
        &mut self,
        known: &Known,
        at: &Located<T>,
        field: &str,
        id: &SourcedId,
        must_be_school: bool,
    ) {
        match known.orgs.get(id.as_str()) {
            None => self.missing(at, field, "组织", "organisation", id),
            Some(OrgKind::Other) if must_be_school => self.diags.error(
                &at.file,
                Some(at.line),
                Some(field),
                Message::new(
                    format!("“{id}”不是学校（type 应为 school）"),
                    format!("\"{id}\" is not a school (its type must be school)"),
                ),
            ),
            Some(_) => {}
        }
    }
}

/// Check every reference of `bundle` against itself and the database snapshot.
pub fn check_references(bundle: &Bundle, snap: &Snapshot, diags: &mut Diagnostics) {
    let known = Known::new(bundle, snap);
    let mut c = Checker { diags };

    for org in active(&bundle.orgs, |o| o.status) {
        if let Some(parent) = &org.record.parent {
            c.org(&known, org, "parentSourcedId", parent, false);
        }
    }
    check_org_cycles(bundle, c.diags);
    for s in active(&bundle.sessions, |s| s.status) {
        if let Some(parent) = &s.record.parent
            && !known.sessions.contains_key(parent.as_str())
        {
            c.missing(s, "parentSourcedId", "学期", "academic session", parent);
        }
    }
    for course in active(&bundle.courses, |c| c.status) {
        c.org(&known, course, "orgSourcedId", &course.record.org, false);
        if let Some(year) = &course.record.school_year {
            match known.sessions.get(year.as_str()) {
                None => c.missing(course, "schoolYearSourcedId", "学年", "school year", year),
                Some(false) => c.diags.warn(
                    &course.file,
                    Some(course.line),
                    Some("schoolYearSourcedId"),
                    Message::new(
                        format!("“{year}”不是学年（type 应为 schoolYear）"),
                        format!("\"{year}\" is not a schoolYear session"),
                    ),
                ),
                Some(true) => {}
            }
        }
    }
    for class in active(&bundle.classes, |c| c.status) {
        if !known.courses.contains(class.record.course.as_str()) {
            c.missing(
                class,
                "courseSourcedId",
                "课程",
                "course",
                &class.record.course,
            );
        }
        c.org(&known, class, "schoolSourcedId", &class.record.school, true);
        for term in &class.record.terms {
            if !known.sessions.contains_key(term.as_str()) {
                c.missing(class, "termSourcedIds", "学期", "academic session", term);
            }
        }
    }
    for user in active(&bundle.users, |u| u.status) {
        for agent in &user.record.agents {
            if !known.users.contains(agent.as_str()) {
                c.missing(user, "agentSourcedIds", "用户", "user", agent);
            }
        }
        if let Some(org) = &user.record.primary_org {
            c.org(&known, user, "primaryOrgSourcedId", org, false);
        }
        for org in &user.record.legacy_orgs {
            c.org(&known, user, "orgSourcedIds", org, false);
        }
    }
    for role in active(&bundle.roles, |r| r.status) {
        if !known.users.contains(role.record.user.as_str()) {
            c.missing(role, "userSourcedId", "用户", "user", &role.record.user);
        }
        c.org(&known, role, "orgSourcedId", &role.record.org, false);
    }
    for e in active(&bundle.enrollments, |e| e.status) {
        if !known.classes.contains(e.record.class.as_str()) {
            c.missing(e, "classSourcedId", "班级", "class", &e.record.class);
        }
        if !known.users.contains(e.record.user.as_str()) {
            c.missing(e, "userSourcedId", "用户", "user", &e.record.user);
        }
        c.org(&known, e, "schoolSourcedId", &e.record.school, true);
    }
    for d in active(&bundle.demographics, |d| d.status) {
        if !known.users.contains(d.record.user.as_str()) {
            c.missing(d, "sourcedId", "用户", "user", &d.record.user);
        }
    }
    for link in &bundle.guardian_links {
        for (field, id) in [
            ("student_id", &link.record.student),
            ("guardian", &link.record.guardian),
        ] {
            if !known.users.contains(id.as_str()) {
                c.missing(link, field, "用户", "user", id);
            }
        }
    }
}

/// An org that is its own ancestor would make "administrators act on their subtree" loop.
fn check_org_cycles(bundle: &Bundle, diags: &mut Diagnostics) {
    let parents: HashMap<&str, &str> = bundle
        .orgs
        .iter()
        .filter_map(|o| {
            o.record
                .parent
                .as_ref()
                .map(|p| (o.record.id.as_str(), p.as_str()))
        })
        .collect();
    for org in &bundle.orgs {
        let mut seen = HashSet::default();
        let mut current = org.record.id.as_str();
        while let Some(parent) = parents.get(current) {
            if !seen.insert(current) || *parent == org.record.id.as_str() {
                diags.error(
                    &org.file,
                    Some(org.line),
                    Some("parentSourcedId"),
                    Message::new(
                        format!("组织“{}”的上级关系形成了循环", org.record.id),
                        format!(
                            "the parents of organisation \"{}\" form a cycle",
                            org.record.id
                        ),
                    ),
                );
                break;
            }
            current = parent;
        }
    }
}
