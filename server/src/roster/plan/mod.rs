//! Turning a checked bundle and the database snapshot into the changes an import makes.
//! Pure: no I/O, so the whole plan (with its counts and the mass-retirement guard) is known
//! before the transaction opens, and a dry run reports exactly what a real run would do.

use std::collections::BTreeMap;

use crate::roster::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::{NotSet, Set};
use serde::Serialize;

use super::entity::{
    class, course, enrollment, guardian_link, org, person, person_alias, role, session, space,
};
use super::model::*;
use super::snapshot::{ACTIVE, EnrollmentRow, PersonRow, RoleRow, Snapshot};

/// Per-entity counts, as the report shows them.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[schema(as = ImportCounts)]
pub struct Counts {
    pub created: u64,
    pub updated: u64,
    pub retired: u64,
    /// Retired rows the input brings back (not counted as updated).
    pub restored: u64,
    pub unchanged: u64,
}

/// The changes to one table.
#[derive(Debug)]
pub struct Changes<A> {
    pub inserts: Vec<A>,
    pub updates: Vec<A>,
    /// Ids of rows to mark retired.
    pub retire: Vec<String>,
    pub counts: Counts,
    /// Of `counts.retired`, the rows retired because a bulk input no longer names them (the
    /// rest the input itself marks `tobedeleted`, or they belong to someone retired).
    pub retired_absent: u64,
}

impl<A> Default for Changes<A> {
    fn default() -> Self {
        Changes {
            inserts: Vec::new(),
            updates: Vec::new(),
            retire: Vec::new(),
            counts: Counts::default(),
            retired_absent: 0,
        }
    }
}

/// One table's counts, whatever its rows.
trait Tally {
    fn counted(&self) -> Counts;
    /// What importing the same input again finds, once this is written: every row the input
    /// names or decides is found as it was left (unchanged); rows retired for being absent
    /// stay retired and are not looked at again.
    fn again(&self) -> Counts;
}

impl<A> Tally for Changes<A> {
    fn counted(&self) -> Counts {
        self.counts
    }

    fn again(&self) -> Counts {
        let c = self.counts;
        Counts {
            unchanged: c.created + c.updated + c.restored + c.unchanged + c.retired
                - self.retired_absent,
            ..Counts::default()
        }
    }
}

/// The entities a report counts, by the names the report gives them.
pub const COUNTED: [&str; 9] = [
    "orgs",
    "sessions",
    "courses",
    "classes",
    "users",
    "roles",
    "enrollments",
    "guardian_links",
    "spaces",
];

/// Two guardian records with one phone number became one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[schema(as = GuardianMerge)]
pub struct Merge {
    pub sourced_id: String,
    pub into: String,
    pub phone: String,
}

/// A school that would lose too many of its people in one bulk import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MassRetirement {
    pub school: String,
    pub name: String,
    pub active: u64,
    pub retiring: u64,
}

#[derive(Debug, Default)]
pub struct Plan {
    pub orgs: Changes<org::ActiveModel>,
    pub sessions: Changes<session::ActiveModel>,
    pub courses: Changes<course::ActiveModel>,
    pub classes: Changes<class::ActiveModel>,
    pub people: Changes<person::ActiveModel>,
    pub aliases: Vec<person_alias::ActiveModel>,
    pub roles: Changes<role::ActiveModel>,
    pub enrollments: Changes<enrollment::ActiveModel>,
    pub links: Changes<guardian_link::ActiveModel>,
    pub spaces: Changes<space::ActiveModel>,
    /// Spaces to reactivate (a restored owner).
    pub spaces_reactivate: Vec<String>,
    pub merges: Vec<Merge>,
    pub mass_retirements: Vec<MassRetirement>,
}

impl Plan {
    /// Each table's tally, under the names of [`COUNTED`].
    fn per_entity(&self, of: fn(&dyn Tally) -> Counts) -> BTreeMap<&'static str, Counts> {
        let tables: [&dyn Tally; 9] = [
            &self.orgs,
            &self.sessions,
            &self.courses,
            &self.classes,
            &self.people,
            &self.roles,
            &self.enrollments,
            &self.links,
            &self.spaces,
        ];
        COUNTED
            .into_iter()
            .zip(tables)
            .map(|(name, table)| (name, of(table)))
            .collect()
    }

    pub fn counts(&self) -> BTreeMap<&'static str, Counts> {
        self.per_entity(|table| table.counted())
    }

    /// What importing the same files again reports once this plan is written (kept with the
    /// import log, see `roster::service`). The roster tables are written by imports only, so
    /// when the last import that wrote anything was of these very files, a re-import changes
    /// nothing and counts every row it names as unchanged.
    pub fn reimport_counts(&self) -> BTreeMap<&'static str, Counts> {
        self.per_entity(|table| table.again())
    }

    pub fn writes_nothing(&self) -> bool {
        self.counts()
            .values()
            .all(|c| c.created == 0 && c.updated == 0 && c.retired == 0 && c.restored == 0)
            && self.aliases.is_empty()
            && self.spaces_reactivate.is_empty()
    }
}

/// A stable 64-bit hash of a record's imported values.
pub fn row_hash(parts: &[&str]) -> i64 {
    let mut joined = String::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
    for part in parts {
        joined.push_str(part);
        joined.push('\u{1f}');
    }
    i64::from_ne_bytes(xxhash_rust::xxh3::xxh3_64(joined.as_bytes()).to_ne_bytes())
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

fn opt(value: &Option<String>) -> &str {
    value.as_deref().unwrap_or("")
}

fn date(value: &Option<chrono::NaiveDate>) -> String {
    value.map(|d| d.to_string()).unwrap_or_default()
}

pub fn org_type_name(t: &OrgType) -> String {
    match t {
        OrgType::National => "national".into(),
        OrgType::State => "state".into(),
        OrgType::Local => "local".into(),
        OrgType::District => "district".into(),
        OrgType::School => "school".into(),
        OrgType::Department => "department".into(),
        OrgType::Ext(v) => v.clone(),
    }
}

fn session_type_name(t: &SessionType) -> String {
    match t {
        SessionType::GradingPeriod => "gradingPeriod".into(),
        SessionType::Semester => "semester".into(),
        SessionType::SchoolYear => "schoolYear".into(),
        SessionType::Term => "term".into(),
        SessionType::Ext(v) => v.clone(),
    }
}

fn class_type_name(t: &ClassType) -> String {
    match t {
        ClassType::Homeroom => "homeroom".into(),
        ClassType::Scheduled => "scheduled".into(),
        ClassType::Ext(v) => v.clone(),
    }
}

pub fn role_name(r: &RoleKind) -> String {
    match r {
        RoleKind::Student => "student".into(),
        RoleKind::Teacher => "teacher".into(),
        RoleKind::Parent => "parent".into(),
        RoleKind::Guardian => "guardian".into(),
        RoleKind::Relative => "relative".into(),
        RoleKind::Aide => "aide".into(),
        RoleKind::Counselor => "counselor".into(),
        RoleKind::Principal => "principal".into(),
        RoleKind::Proctor => "proctor".into(),
        RoleKind::SiteAdministrator => "siteAdministrator".into(),
        RoleKind::DistrictAdministrator => "districtAdministrator".into(),
        RoleKind::SystemAdministrator => "systemAdministrator".into(),
        RoleKind::Administrator => "administrator".into(),
        RoleKind::Ext(v) => v.clone(),
    }
}

fn enrollment_role_name(r: &EnrollmentRole) -> String {
    match r {
        EnrollmentRole::Student => "student".into(),
        EnrollmentRole::Teacher => "teacher".into(),
        EnrollmentRole::Administrator => "administrator".into(),
        EnrollmentRole::Proctor => "proctor".into(),
        EnrollmentRole::Ext(v) => v.clone(),
    }
}

fn sex_name(s: Sex) -> &'static str {
    match s {
        Sex::Male => "male",
        Sex::Female => "female",
        Sex::Unspecified => "unspecified",
        Sex::Other => "other",
    }
}

const FAMILY_ROLES: [&str; 3] = ["parent", "guardian", "relative"];

/// Mainland mobile numbers normalised to 11 digits; anything else kept as written.
pub fn normalise_phone(raw: &str) -> String {
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    let national = digits
        .strip_prefix("0086")
        .or_else(|| digits.strip_prefix("86").filter(|d| d.len() == 11))
        .unwrap_or(&digits);
    let is_mobile = national.len() == 11
        && national.starts_with('1')
        && national
            .as_bytes()
            .get(1)
            .is_some_and(|b| (b'3'..=b'9').contains(b));
    if is_mobile {
        national.to_owned()
    } else {
        raw.trim().to_owned()
    }
}

/// What decides a diff: an existing row's id, hash and status.
trait Row {
    fn id(&self) -> &str;
    fn hash(&self) -> i64;
    fn active(&self) -> bool;
}

macro_rules! impl_row {
    ($($m:path),*) => {$(
        impl Row for $m {
            fn id(&self) -> &str { &self.id }
            fn hash(&self) -> i64 { self.row_hash }
            fn active(&self) -> bool { self.status == ACTIVE }
        }
    )*};
}
impl_row!(
    org::Model,
    session::Model,
    course::Model,
    class::Model,
    PersonRow,
    RoleRow,
    EnrollmentRow
);

/// Make room for the rows `incoming` records may add to `changes` when `known` rows exist
/// already (at most the difference are new).
fn reserve_inserts<A>(changes: &mut Changes<A>, incoming: usize, known: usize) {
    changes.inserts.reserve(incoming.saturating_sub(known));
}

/// Decide insert / update / unchanged / retire for one record. Returns the row's id, or
/// `None` for a record that is to be deleted and never existed (nothing may refer to it).
fn diff_one<A>(
    changes: &mut Changes<A>,
    existing: Option<&impl Row>,
    status: Status,
    hash: i64,
    build: impl FnOnce(String, bool) -> A,
) -> Option<String> {
    Some(match (existing, status) {
        (None, Status::Active) => {
            let id = new_id();
            changes.inserts.push(build(id.clone(), true));
            changes.counts.created += 1;
            id
        }
        (None, Status::ToBeDeleted) => return None,
        (Some(row), Status::Active) => {
            if row.hash() == hash && row.active() {
                changes.counts.unchanged += 1;
            } else {
                changes.updates.push(build(row.id().to_owned(), false));
                if row.active() {
                    changes.counts.updated += 1;
                } else {
                    changes.counts.restored += 1;
                }
            }
            row.id().to_owned()
        }
        (Some(row), Status::ToBeDeleted) => {
            if row.active() {
                changes.retire.push(row.id().to_owned());
                changes.counts.retired += 1;
            } else {
                changes.counts.unchanged += 1;
            }
            row.id().to_owned()
        }
    })
}

/// Builds the plan; holds the sourcedId → row id maps as records are placed.
pub struct Planner<'a> {
    bundle: &'a Bundle,
    /// The bundle's enrollments, taken out of it: planned last, and consumed as they are.
    enrollments: Vec<Located<Enrollment>>,
    snap: &'a Snapshot,
    now: DateTime<Utc>,
    org_ids: HashMap<&'a str, String>,
    session_ids: HashMap<&'a str, String>,
    course_ids: HashMap<&'a str, String>,
    class_ids: HashMap<&'a str, String>,
    person_ids: HashMap<&'a str, String>,
    plan: Plan,
}

impl<'a> Planner<'a> {
    pub fn new(
        bundle: &'a Bundle,
        enrollments: Vec<Located<Enrollment>>,
        snap: &'a Snapshot,
        now: DateTime<Utc>,
    ) -> Planner<'a> {
        Planner {
            bundle,
            enrollments,
            snap,
            now,
            org_ids: HashMap::default(),
            session_ids: HashMap::default(),
            course_ids: HashMap::default(),
            class_ids: HashMap::default(),
            person_ids: HashMap::default(),
            plan: Plan::default(),
        }
    }

    fn org_id(&self, sid: &SourcedId) -> Option<String> {
        self.org_ids
            .get(sid.as_str())
            .cloned()
            .or_else(|| self.snap.orgs.get(sid.as_str()).map(|o| o.id.clone()))
    }

    fn session_id(&self, sid: &SourcedId) -> Option<String> {
        self.session_ids
            .get(sid.as_str())
            .cloned()
            .or_else(|| self.snap.sessions.get(sid.as_str()).map(|o| o.id.clone()))
    }

    fn person_id(&self, sid: &SourcedId) -> Option<String> {
        self.person_ids
            .get(sid.as_str())
            .cloned()
            .or_else(|| self.snap.person_id(sid.as_str()).map(str::to_owned))
    }

    pub fn plan(mut self) -> Plan {
        self.plan_orgs();
        self.plan_sessions();
        self.plan_courses();
        self.plan_classes();
        self.plan_people();
        self.plan_roles();
        self.plan_bulk_retirements();
        self.plan_links();
        self.plan_spaces();
        // Last: the largest part of the plan is made while the records it comes from are
        // freed, so the peak holds one copy of them, not two.
        self.plan_enrollments();
        self.plan
    }

    fn plan_orgs(&mut self) {
        let bundle = self.bundle;
        // Parents before children, so each insert's parent row already exists.
        let mut order: Vec<&Located<Org>> = bundle.orgs.iter().collect();
        let by_id: HashMap<&str, &Org> = bundle
            .orgs
            .iter()
            .map(|o| (o.record.id.as_str(), &o.record))
            .collect();
        let depth = |org: &Org| {
            let mut d = 0;
            let mut cur = org;
            while let Some(parent) = cur.parent.as_ref().and_then(|p| by_id.get(p.as_str())) {
                d += 1;
                if d > bundle.orgs.len() {
                    break;
                }
                cur = parent;
            }
            d
        };
        order.sort_by_cached_key(|o| depth(&o.record));
        for located in order {
            let o = &located.record;
            let org_type = org_type_name(&o.org_type);
            let parent_id = o.parent.as_ref().and_then(|p| self.org_id(p));
            let hash = row_hash(&[&o.name, &org_type, opt(&o.identifier), opt(&parent_id)]);
            let existing = self.snap.orgs.get(o.id.as_str());
            let now = self.now;
            let id = diff_one(&mut self.plan.orgs, existing, o.status, hash, |id, new| {
                org::ActiveModel {
                    id: Set(id),
                    sourced_id: Set(o.id.to_string()),
                    name: Set(o.name.clone()),
                    org_type: Set(org_type.clone()),
                    identifier: Set(o.identifier.clone()),
                    parent_id: Set(parent_id.clone()),
                    status: Set(ACTIVE.to_owned()),
                    row_hash: Set(hash),
                    created_at: if new { Set(now) } else { NotSet },
                    updated_at: Set(now),
                }
            });
            if let Some(id) = id {
                self.org_ids.insert(o.id.as_str(), id);
            }
        }
    }

    fn plan_sessions(&mut self) {
        let mut order: Vec<&Located<AcademicSession>> = self.bundle.sessions.iter().collect();
        order.sort_by_key(|s| s.record.parent.is_some());
        for located in order {
            let s = &located.record;
            let session_type = session_type_name(&s.session_type);
            let parent_id = s.parent.as_ref().and_then(|p| self.session_id(p));
            let hash = row_hash(&[
                &s.title,
                &session_type,
                &s.start_date.to_string(),
                &s.end_date.to_string(),
                opt(&parent_id),
                &s.school_year.to_string(),
            ]);
            let existing = self.snap.sessions.get(s.id.as_str());
            let now = self.now;
            let id = diff_one(
                &mut self.plan.sessions,
                existing,
                s.status,
                hash,
                |id, new| session::ActiveModel {
                    id: Set(id),
                    sourced_id: Set(s.id.to_string()),
                    title: Set(s.title.clone()),
                    session_type: Set(session_type.clone()),
                    start_date: Set(s.start_date),
                    end_date: Set(s.end_date),
                    parent_id: Set(parent_id.clone()),
                    school_year: Set(s.school_year),
                    status: Set(ACTIVE.to_owned()),
                    row_hash: Set(hash),
                    created_at: if new { Set(now) } else { NotSet },
                    updated_at: Set(now),
                },
            );
            if let Some(id) = id {
                self.session_ids.insert(s.id.as_str(), id);
            }
        }
    }

    fn plan_courses(&mut self) {
        for located in &self.bundle.courses {
            let c = &located.record;
            let (Some(org_id), school_year_id) = (
                self.org_id(&c.org),
                c.school_year.as_ref().and_then(|y| self.session_id(y)),
            ) else {
                continue;
            };
            let grades = c.grades.join(",");
            let subjects = c.subjects.join(",");
            let hash = row_hash(&[
                &c.title,
                opt(&c.course_code),
                &grades,
                &subjects,
                &org_id,
                opt(&school_year_id),
            ]);
            let existing = self.snap.courses.get(c.id.as_str());
            let now = self.now;
            let id = diff_one(
                &mut self.plan.courses,
                existing,
                c.status,
                hash,
                |id, new| course::ActiveModel {
                    id: Set(id),
                    sourced_id: Set(c.id.to_string()),
                    title: Set(c.title.clone()),
                    course_code: Set(c.course_code.clone()),
                    grades: Set(grades.clone()),
                    subjects: Set(subjects.clone()),
                    org_id: Set(org_id.clone()),
                    school_year_id: Set(school_year_id.clone()),
                    status: Set(ACTIVE.to_owned()),
                    row_hash: Set(hash),
                    created_at: if new { Set(now) } else { NotSet },
                    updated_at: Set(now),
                },
            );
            if let Some(id) = id {
                self.course_ids.insert(c.id.as_str(), id);
            }
        }
    }

    fn plan_classes(&mut self) {
        for located in &self.bundle.classes {
            let c = &located.record;
            let course_id = self.course_ids.get(c.course.as_str()).cloned().or_else(|| {
                self.snap
                    .courses
                    .get(c.course.as_str())
                    .map(|m| m.id.clone())
            });
            let (Some(course_id), Some(school_id)) = (course_id, self.org_id(&c.school)) else {
                continue;
            };
            let class_type = class_type_name(&c.class_type);
            let grades = c.grades.join(",");
            let subjects = c.subjects.join(",");
            let terms = c
                .terms
                .iter()
                .map(SourcedId::as_str)
                .collect::<Vec<_>>()
                .join(",");
            let hash = row_hash(&[
                &c.title,
                opt(&c.class_code),
                &class_type,
                &grades,
                &subjects,
                &terms,
                &course_id,
                &school_id,
            ]);
            let existing = self.snap.classes.get(c.id.as_str());
            let now = self.now;
            let id = diff_one(
                &mut self.plan.classes,
                existing,
                c.status,
                hash,
                |id, new| class::ActiveModel {
                    id: Set(id),
                    sourced_id: Set(c.id.to_string()),
                    title: Set(c.title.clone()),
                    class_code: Set(c.class_code.clone()),
                    class_type: Set(class_type.clone()),
                    grades: Set(grades.clone()),
                    subjects: Set(subjects.clone()),
                    term_ids: Set(terms.clone()),
                    course_id: Set(course_id.clone()),
                    school_id: Set(school_id.clone()),
                    status: Set(ACTIVE.to_owned()),
                    row_hash: Set(hash),
                    created_at: if new { Set(now) } else { NotSet },
                    updated_at: Set(now),
                },
            );
            if let Some(id) = id {
                self.class_ids.insert(c.id.as_str(), id);
            }
        }
    }
}

mod people;
mod retire;
