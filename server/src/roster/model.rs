//! The typed roster: what every input format (OneRoster 1.1/1.2 CSV, the Chinese school roster
//! CSV) is parsed into before anything touches the database.
//!
//! Records are OneRoster-shaped because OneRoster is the richest of the formats; the Chinese
//! roster maps onto it (see `cn.rs`). Every record remembers the file and line it came from,
//! so the checks that run after parsing (references, duplicates) can still point at the input.

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDate;

use super::diagnostics::Message;

/// An identifier from the source system: opaque, case-sensitive, never parsed as a number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourcedId(String);

impl SourcedId {
    /// Accept what real exports contain (OneRoster's GUID alphabet is stricter): non-empty, at
    /// most 255 characters, no whitespace, commas, quotes or control characters.
    pub fn parse(value: &str) -> Result<SourcedId, Message> {
        let value = value.trim();
        if value.is_empty() {
            return Err(Message::new("标识不能为空", "the identifier is empty"));
        }
        if value.chars().count() > 255 {
            return Err(Message::new(
                "标识超过 255 个字符",
                "the identifier is longer than 255 characters",
            ));
        }
        if let Some(bad) = value
            .chars()
            .find(|c| c.is_whitespace() || c.is_control() || matches!(c, ',' | '"' | '\''))
        {
            return Err(Message::new(
                format!("标识“{value}”含有不允许的字符“{bad}”"),
                format!("the identifier \"{value}\" contains the character {bad:?}"),
            ));
        }
        Ok(SourcedId(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for SourcedId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The kinds of record an import creates, in the order they are applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Entity {
    Orgs,
    Sessions,
    Courses,
    Classes,
    Users,
    Roles,
    Enrollments,
    Demographics,
}

impl Entity {
    pub const ALL: [Entity; 8] = [
        Entity::Orgs,
        Entity::Sessions,
        Entity::Courses,
        Entity::Classes,
        Entity::Users,
        Entity::Roles,
        Entity::Enrollments,
        Entity::Demographics,
    ];

    /// The OneRoster file that carries this entity.
    pub fn oneroster_file(self) -> &'static str {
        match self {
            Entity::Orgs => "orgs.csv",
            Entity::Sessions => "academicSessions.csv",
            Entity::Courses => "courses.csv",
            Entity::Classes => "classes.csv",
            Entity::Users => "users.csv",
            Entity::Roles => "roles.csv",
            Entity::Enrollments => "enrollments.csv",
            Entity::Demographics => "demographics.csv",
        }
    }
}

/// How a file's rows are to be applied (OneRoster manifest `file.*`, data wins on conflict).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Not supplied: that entity is left untouched.
    #[default]
    Absent,
    /// The whole truth: records not in the file are retired.
    Bulk,
    /// Changes only: `active` rows upsert, `tobedeleted` rows retire.
    Delta,
}

/// Row status. In bulk files it is blank (= active).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Status {
    #[default]
    Active,
    ToBeDeleted,
}

/// A record and where it was read.
#[derive(Debug, Clone, PartialEq)]
pub struct Located<T> {
    pub file: String,
    pub line: u64,
    pub record: T,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgType {
    National,
    State,
    Local,
    District,
    School,
    Department,
    /// An `ext:` extension value, kept as written.
    Ext(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Org {
    pub id: SourcedId,
    pub status: Status,
    pub name: String,
    pub org_type: OrgType,
    /// Human-readable id, e.g. 学校标识码.
    pub identifier: Option<String>,
    pub parent: Option<SourcedId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionType {
    GradingPeriod,
    Semester,
    SchoolYear,
    Term,
    Ext(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct AcademicSession {
    pub id: SourcedId,
    pub status: Status,
    pub title: String,
    pub session_type: SessionType,
    pub start_date: NaiveDate,
    /// Exclusive.
    pub end_date: NaiveDate,
    pub parent: Option<SourcedId>,
    /// The year in which the school year ends (2025-26 ⇒ 2026).
    pub school_year: i32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Course {
    pub id: SourcedId,
    pub status: Status,
    pub school_year: Option<SourcedId>,
    pub title: String,
    pub course_code: Option<String>,
    pub grades: Vec<String>,
    pub org: SourcedId,
    pub subjects: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClassType {
    /// 行政班.
    Homeroom,
    Scheduled,
    Ext(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Class {
    pub id: SourcedId,
    pub status: Status,
    pub title: String,
    pub grades: Vec<String>,
    pub course: SourcedId,
    pub class_code: Option<String>,
    pub class_type: ClassType,
    pub school: SourcedId,
    pub terms: Vec<SourcedId>,
    pub subjects: Vec<String>,
}

/// A person's role in an organisation (roles.csv in 1.2; `role` + `orgSourcedIds` in 1.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RoleKind {
    Student,
    Teacher,
    Parent,
    Guardian,
    Relative,
    Aide,
    Counselor,
    Principal,
    Proctor,
    SiteAdministrator,
    DistrictAdministrator,
    SystemAdministrator,
    /// 1.1's generic `administrator`.
    Administrator,
    Ext(String),
}

impl RoleKind {
    /// Parents, guardians and relatives: the people agent links may point to from a student.
    pub fn is_family(&self) -> bool {
        matches!(
            self,
            RoleKind::Parent | RoleKind::Guardian | RoleKind::Relative
        )
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct User {
    pub id: SourcedId,
    pub status: Status,
    /// `false`: the record is active but sign-in is curtailed (not a deletion).
    pub enabled: bool,
    pub username: Option<String>,
    /// `{type:id}` pairs from `userIds`.
    pub user_ids: Vec<(String, String)>,
    pub given_name: String,
    pub family_name: String,
    pub middle_name: Option<String>,
    pub preferred_given_name: Option<String>,
    pub preferred_family_name: Option<String>,
    pub identifier: Option<String>,
    pub email: Option<String>,
    pub sms: Option<String>,
    pub phone: Option<String>,
    /// agentSourcedIds: for a student their parents, for a parent their children.
    pub agents: Vec<SourcedId>,
    pub grades: Vec<String>,
    pub primary_org: Option<SourcedId>,
    /// 1.1 only: the user's role and orgs, turned into roles by the importer.
    pub legacy_role: Option<RoleKind>,
    pub legacy_orgs: Vec<SourcedId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleType {
    Primary,
    Secondary,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Role {
    /// roles.csv sourcedId; synthesised for formats that have none.
    pub id: SourcedId,
    pub status: Status,
    pub user: SourcedId,
    pub role_type: RoleType,
    pub role: RoleKind,
    pub org: SourcedId,
    pub begin_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnrollmentRole {
    Student,
    Teacher,
    Administrator,
    Proctor,
    Ext(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Enrollment {
    pub id: SourcedId,
    pub status: Status,
    pub class: SourcedId,
    pub school: SourcedId,
    pub user: SourcedId,
    pub role: EnrollmentRole,
    /// For teachers: the primary teacher of the class (班主任 in a 行政班).
    pub primary: bool,
    pub begin_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    /// The subject taught, where the format says (Chinese roster teaching.csv).
    pub subject: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sex {
    Male,
    Female,
    Unspecified,
    Other,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Demographic {
    /// The user's sourcedId.
    pub user: SourcedId,
    pub status: Status,
    pub birth_date: Option<NaiveDate>,
    pub sex: Option<Sex>,
}

/// A family relation by GB/T 4761-2008 家庭关系代码 (51 父亲, 52 母亲, 61 祖父 …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Relation(pub u8);

impl Relation {
    pub const FATHER: Relation = Relation(51);
    pub const MOTHER: Relation = Relation(52);
    /// 59 其他父母关系: what a OneRoster `parent` link says without more detail.
    pub const PARENT: Relation = Relation(59);
    pub const OTHER_RELATIVE: Relation = Relation(97);
    pub const NOT_RELATED: Relation = Relation(99);

    /// The GB/T 4761 code as written in exports.
    pub fn code(self) -> String {
        self.0.to_string()
    }
}

/// A student–guardian link with what the format says about it.
#[derive(Debug, Clone, PartialEq)]
pub struct GuardianLink {
    pub student: SourcedId,
    pub guardian: SourcedId,
    pub relation: Relation,
    pub is_legal_guardian: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    OneRoster11,
    OneRoster12,
    /// The Chinese school roster CSV set (cn-roster v1, see README).
    CnRoster,
}

/// Everything one import supplies, parsed and typed.
#[derive(Debug, Clone, PartialEq)]
pub struct Bundle {
    pub format: Format,
    pub modes: BTreeMap<Entity, Mode>,
    pub orgs: Vec<Located<Org>>,
    pub sessions: Vec<Located<AcademicSession>>,
    pub courses: Vec<Located<Course>>,
    pub classes: Vec<Located<Class>>,
    pub users: Vec<Located<User>>,
    pub roles: Vec<Located<Role>>,
    pub enrollments: Vec<Located<Enrollment>>,
    pub demographics: Vec<Located<Demographic>>,
    /// Links the format states explicitly (Chinese roster guardians.csv). OneRoster's
    /// agentSourcedIds stay on the users and are resolved by the importer.
    pub guardian_links: Vec<Located<GuardianLink>>,
}

impl Bundle {
    pub fn new(format: Format) -> Bundle {
        Bundle {
            format,
            modes: BTreeMap::new(),
            orgs: Vec::new(),
            sessions: Vec::new(),
            courses: Vec::new(),
            classes: Vec::new(),
            users: Vec::new(),
            roles: Vec::new(),
            enrollments: Vec::new(),
            demographics: Vec::new(),
            guardian_links: Vec::new(),
        }
    }

    pub fn mode(&self, entity: Entity) -> Mode {
        self.modes.get(&entity).copied().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sourced_ids_are_opaque_strings() {
        assert_eq!(
            SourcedId::parse(" 03100500 ").map(|s| s.0),
            Ok("03100500".to_owned())
        );
        assert!(SourcedId::parse("TCH_001@district/a.b-c").is_ok());
        assert!(SourcedId::parse("").is_err());
        assert!(SourcedId::parse("a b").is_err());
        assert!(SourcedId::parse("a,b").is_err());
        assert!(SourcedId::parse(&"x".repeat(256)).is_err());
    }
}
