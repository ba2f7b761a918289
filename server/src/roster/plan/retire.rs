//! What a bulk file implies by omission, guardian links and spaces.
//!
//! A bulk file is the whole truth for the organisations it covers (its scope: the orgs it
//! names and references, and their sub-organisations already known), never for the rest of the
//! installation — one school's roster does not retire another school's people.

use crate::roster::HashMap;

use sea_orm::ActiveValue::{NotSet, Set};

use super::*;
use crate::roster::snapshot::SpaceRow;

/// The share of a school's active people one bulk import may retire without the operator's
/// explicit consent (`--allow-mass-retire`).
const MASS_RETIRE_PERCENT: u64 = 15;

impl<'a> Planner<'a> {
    /// Org row ids the bundle covers: named or referenced, and their known descendants.
    fn scope(&self) -> HashSet<String> {
        let b = self.bundle;
        let mut scope: HashSet<String> = HashSet::default();
        let named = b
            .orgs
            .iter()
            .map(|o| &o.record.id)
            .chain(b.classes.iter().map(|c| &c.record.school))
            .chain(b.courses.iter().map(|c| &c.record.org))
            .chain(b.roles.iter().map(|r| &r.record.org))
            .chain(self.enrollments.iter().map(|e| &e.record.school));
        scope.extend(named.filter_map(|sid| self.org_id(sid)));
        // Descendants: repeat until nothing new (org trees are shallow).
        loop {
            let before = scope.len();
            for org in self.snap.orgs.values() {
                if org.parent_id.as_ref().is_some_and(|p| scope.contains(p)) {
                    scope.insert(org.id.clone());
                }
            }
            if scope.len() == before {
                return scope;
            }
        }
    }

    pub(super) fn plan_bulk_retirements(&mut self) {
        let b = self.bundle;
        let scope = self.scope();
        let in_bundle = |ids: &mut dyn Iterator<Item = &'a SourcedId>| -> HashSet<&'a str> {
            ids.map(SourcedId::as_str).collect()
        };

        if b.mode(Entity::Orgs) == Mode::Bulk {
            let named = in_bundle(&mut b.orgs.iter().map(|o| &o.record.id));
            for org in self.snap.orgs.values() {
                if org.status == ACTIVE
                    && !named.contains(org.sourced_id.as_str())
                    && org.parent_id.as_ref().is_some_and(|p| scope.contains(p))
                {
                    self.plan.orgs.retire.push(org.id.clone());
                    self.plan.orgs.counts.retired += 1;
                    self.plan.orgs.retired_absent += 1;
                }
            }
        }
        if b.mode(Entity::Courses) == Mode::Bulk {
            let named = in_bundle(&mut b.courses.iter().map(|c| &c.record.id));
            for c in self.snap.courses.values() {
                if c.status == ACTIVE
                    && !named.contains(c.sourced_id.as_str())
                    && scope.contains(&c.org_id)
                {
                    self.plan.courses.retire.push(c.id.clone());
                    self.plan.courses.counts.retired += 1;
                    self.plan.courses.retired_absent += 1;
                }
            }
        }
        if b.mode(Entity::Classes) == Mode::Bulk {
            let named = in_bundle(&mut b.classes.iter().map(|c| &c.record.id));
            for c in self.snap.classes.values() {
                if c.status == ACTIVE
                    && !named.contains(c.sourced_id.as_str())
                    && scope.contains(&c.school_id)
                {
                    self.plan.classes.retire.push(c.id.clone());
                    self.plan.classes.counts.retired += 1;
                    self.plan.classes.retired_absent += 1;
                }
            }
        }
        if b.mode(Entity::Roles) == Mode::Bulk {
            let named = in_bundle(&mut b.roles.iter().map(|r| &r.record.id));
            for r in self.snap.roles.values() {
                if r.status == ACTIVE
                    && !named.contains(r.sourced_id.as_str())
                    && scope.contains(&r.org_id)
                {
                    self.plan.roles.retire.push(r.id.clone());
                    self.plan.roles.counts.retired += 1;
                    self.plan.roles.retired_absent += 1;
                }
            }
        }
        if b.mode(Entity::Enrollments) == Mode::Bulk {
            let named: HashSet<&str> = self
                .enrollments
                .iter()
                .map(|e| e.record.id.as_str())
                .collect();
            let absent: Vec<String> = self
                .snap
                .enrollments
                .values()
                .filter(|e| {
                    e.status == ACTIVE
                        && !named.contains(e.sourced_id.as_str())
                        && scope.contains(&e.school_id)
                })
                .map(|e| e.id.clone())
                .collect();
            let changes = &mut self.plan.enrollments;
            changes.counts.retired += absent.len() as u64;
            changes.retired_absent += absent.len() as u64;
            changes.retire.extend(absent);
        }
        if b.mode(Entity::Users) == Mode::Bulk {
            self.retire_missing_people(&scope);
        }
    }

    /// People absent from a bulk users file whose every active role lies in the scope.
    fn retire_missing_people(&mut self, scope: &HashSet<String>) {
        let present: HashSet<&str> = self.person_ids.values().map(String::as_str).collect();
        let mut roles_by_person: HashMap<&str, Vec<&str>> = HashMap::default();
        for r in self.snap.roles.values().filter(|r| r.status == ACTIVE) {
            roles_by_person
                .entry(r.person_id.as_str())
                .or_default()
                .push(r.org_id.as_str());
        }
        let mut active_per_school: HashMap<&str, u64> = HashMap::default();
        for (_, orgs) in roles_by_person.iter() {
            let unique: HashSet<&&str> = orgs.iter().collect();
            for org in unique {
                *active_per_school.entry(org).or_default() += 1;
            }
        }
        let mut retiring_per_school: HashMap<&str, u64> = HashMap::default();
        for person in self.snap.people.values() {
            if person.status != ACTIVE || present.contains(person.id.as_str()) {
                continue;
            }
            let Some(orgs) = roles_by_person.get(person.id.as_str()) else {
                continue;
            };
            if orgs.iter().all(|o| scope.contains(*o)) {
                self.plan.people.retire.push(person.id.clone());
                self.plan.people.counts.retired += 1;
                self.plan.people.retired_absent += 1;
                let unique: HashSet<&&str> = orgs.iter().collect();
                for org in unique {
                    *retiring_per_school.entry(org).or_default() += 1;
                }
            }
        }
        let org_by_id: HashMap<&str, &org::Model> = self
            .snap
            .orgs
            .values()
            .map(|o| (o.id.as_str(), o))
            .collect();
        for (org_id, retiring) in retiring_per_school {
            let active = active_per_school.get(org_id).copied().unwrap_or(0);
            if active > 0 && retiring * 100 > active * MASS_RETIRE_PERCENT {
                let (school, name) = org_by_id
                    .get(org_id)
                    .map(|o| (o.sourced_id.clone(), o.name.clone()))
                    .unwrap_or_else(|| (org_id.to_owned(), String::new()));
                self.plan.mass_retirements.push(MassRetirement {
                    school,
                    name,
                    active,
                    retiring,
                });
            }
        }
        self.plan
            .mass_retirements
            .sort_by(|a, b| a.school.cmp(&b.school));
    }

    /// Links stated explicitly, and those implied by agentSourcedIds in either direction
    /// between a student and a parent, guardian or relative.
    fn desired_links(&self) -> HashMap<(String, String), (Relation, bool)> {
        let b = self.bundle;
        let mut roles: HashMap<&str, HashSet<String>> = HashMap::default();
        for r in b.roles.iter().filter(|r| r.record.status == Status::Active) {
            roles
                .entry(r.record.user.as_str())
                .or_default()
                .insert(role_name(&r.record.role));
        }
        for u in &b.users {
            if let Some(role) = &u.record.legacy_role {
                roles
                    .entry(u.record.id.as_str())
                    .or_default()
                    .insert(role_name(role));
            }
        }
        let person_roles: HashMap<&str, Vec<&str>> = self
            .snap
            .roles
            .values()
            .filter(|r| r.status == ACTIVE)
            .fold(HashMap::default(), |mut acc, r| {
                acc.entry(r.person_id.as_str())
                    .or_default()
                    .push(r.role.as_str());
                acc
            });
        let has_role = |sid: &SourcedId, wanted: &[&str]| -> Option<String> {
            if let Some(set) = roles.get(sid.as_str()) {
                return wanted
                    .iter()
                    .find(|w| set.contains(**w))
                    .map(|w| (*w).to_owned());
            }
            let pid = self.snap.person_id(sid.as_str())?;
            let known = person_roles.get(pid)?;
            wanted
                .iter()
                .find(|w| known.contains(w))
                .map(|w| (*w).to_owned())
        };
        let mut links = HashMap::default();
        for u in b.users.iter().filter(|u| u.record.status == Status::Active) {
            for agent in &u.record.agents {
                let pair = if has_role(&u.record.id, &["student"]).is_some() {
                    has_role(agent, &FAMILY_ROLES).map(|role| (&u.record.id, agent, role))
                } else if let Some(role) = has_role(&u.record.id, &FAMILY_ROLES) {
                    has_role(agent, &["student"]).map(|_| (agent, &u.record.id, role))
                } else {
                    None
                };
                let Some((student, guardian, role)) = pair else {
                    continue;
                };
                let (Some(s), Some(g)) = (self.person_id(student), self.person_id(guardian)) else {
                    continue;
                };
                let relation = match role.as_str() {
                    "parent" => Relation::PARENT,
                    _ => Relation::OTHER_RELATIVE,
                };
                links
                    .entry((s, g))
                    .or_insert((relation, role != "relative"));
            }
        }
        for l in &b.guardian_links {
            let r = &l.record;
            if let (Some(s), Some(g)) = (self.person_id(&r.student), self.person_id(&r.guardian)) {
                links.insert((s, g), (r.relation, r.is_legal_guardian));
            }
        }
        links
    }

    pub(super) fn plan_links(&mut self) {
        let desired = self.desired_links();
        let retired: HashSet<&str> = self.plan.people.retire.iter().map(String::as_str).collect();
        let students_in_bundle: HashSet<String> = self
            .bundle
            .users
            .iter()
            .filter_map(|u| self.person_id(&u.record.id))
            .collect();
        let bulk_users = self.bundle.mode(Entity::Users) == Mode::Bulk;
        let now = self.now;
        reserve_inserts(&mut self.plan.links, desired.len(), self.snap.links.len());
        for ((student, guardian), (relation, legal)) in &desired {
            let existing = self.snap.links.get(&(student.clone(), guardian.clone()));
            let code = relation.code();
            let model = |id: String, new: bool| guardian_link::ActiveModel {
                id: Set(id),
                student_id: Set(student.clone()),
                guardian_id: Set(guardian.clone()),
                relation: Set(code.clone()),
                is_legal_guardian: Set(*legal),
                status: Set(ACTIVE.to_owned()),
                created_at: if new { Set(now) } else { NotSet },
                updated_at: Set(now),
            };
            match existing {
                None => {
                    self.plan.links.inserts.push(model(new_id(), true));
                    self.plan.links.counts.created += 1;
                }
                Some(l)
                    if l.status == ACTIVE
                        && l.relation == code
                        && l.is_legal_guardian == *legal =>
                {
                    self.plan.links.counts.unchanged += 1;
                }
                Some(l) => {
                    self.plan.links.updates.push(model(l.id.clone(), false));
                    if l.status == ACTIVE {
                        self.plan.links.counts.updated += 1;
                    } else {
                        self.plan.links.counts.restored += 1;
                    }
                }
            }
        }
        for ((student, guardian), link) in &self.snap.links {
            if link.status != ACTIVE || desired.contains_key(&(student.clone(), guardian.clone())) {
                continue;
            }
            let stale = retired.contains(student.as_str())
                || retired.contains(guardian.as_str())
                || (bulk_users && students_in_bundle.contains(student));
            if stale {
                self.plan.links.retire.push(link.id.clone());
                self.plan.links.counts.retired += 1;
                self.plan.links.retired_absent += 1;
            }
        }
    }

    /// Every person, class and school has a space; a retired owner's space is frozen, never
    /// deleted, and thaws when the owner is restored.
    pub(super) fn plan_spaces(&mut self) {
        let mut by_owner: HashMap<(&str, &str), &SpaceRow> = HashMap::default();
        for s in &self.snap.spaces {
            let owner = s
                .person_id
                .as_deref()
                .or(s.class_id.as_deref())
                .or(s.org_id.as_deref())
                .unwrap_or("");
            by_owner.insert((s.kind.as_str(), owner), s);
        }
        let mut owners: Vec<(&'static str, String, bool)> = Vec::new();
        let retired_people: HashSet<&str> =
            self.plan.people.retire.iter().map(String::as_str).collect();
        for p in self.snap.people.values() {
            owners.push((
                "person",
                p.id.clone(),
                p.status == ACTIVE && !retired_people.contains(p.id.as_str()),
            ));
        }
        for p in &self.plan.people.inserts {
            if let Set(id) = &p.id {
                owners.push(("person", id.clone(), true));
            }
        }
        for p in &self.plan.people.updates {
            if let Set(id) = &p.id {
                owners.push(("person", id.clone(), true));
            }
        }
        let retired_classes: HashSet<&str> = self
            .plan
            .classes
            .retire
            .iter()
            .map(String::as_str)
            .collect();
        for c in self.snap.classes.values() {
            owners.push((
                "class",
                c.id.clone(),
                c.status == ACTIVE && !retired_classes.contains(c.id.as_str()),
            ));
        }
        for c in self
            .plan
            .classes
            .inserts
            .iter()
            .chain(&self.plan.classes.updates)
        {
            if let Set(id) = &c.id {
                owners.push(("class", id.clone(), true));
            }
        }
        let retired_orgs: HashSet<&str> =
            self.plan.orgs.retire.iter().map(String::as_str).collect();
        for o in self.snap.orgs.values().filter(|o| o.org_type == "school") {
            owners.push((
                "school",
                o.id.clone(),
                o.status == ACTIVE && !retired_orgs.contains(o.id.as_str()),
            ));
        }
        for o in self.plan.orgs.inserts.iter().chain(&self.plan.orgs.updates) {
            if let (Set(id), Set(t)) = (&o.id, &o.org_type)
                && t == "school"
            {
                owners.push(("school", id.clone(), true));
            }
        }
        // The last word for an owner wins (an update after the snapshot's state).
        let mut decided: HashMap<(&'static str, String), bool> = HashMap::default();
        for (kind, id, active) in owners {
            decided.insert((kind, id), active);
        }
        let now = self.now;
        // Room for every new row at once: a growing Vec of a district's rows copies itself
        // into one twice its size, both resident at the moment of the copy.
        reserve_inserts(&mut self.plan.spaces, decided.len(), by_owner.len());
        for ((kind, owner), active) in decided {
            match by_owner.get(&(kind, owner.as_str())) {
                None if active => {
                    self.plan.spaces.inserts.push(space::ActiveModel {
                        id: Set(new_id()),
                        kind: Set(kind.to_owned()),
                        person_id: Set((kind == "person").then(|| owner.clone())),
                        class_id: Set((kind == "class").then(|| owner.clone())),
                        org_id: Set((kind == "school").then(|| owner.clone())),
                        status: Set(ACTIVE.to_owned()),
                        created_at: Set(now),
                        updated_at: Set(now),
                    });
                    self.plan.spaces.counts.created += 1;
                }
                None => {}
                Some(s) if (s.status == ACTIVE) == active => self.plan.spaces.counts.unchanged += 1,
                Some(s) if active => {
                    self.plan.spaces_reactivate.push(s.id.clone());
                    self.plan.spaces.counts.restored += 1;
                }
                Some(s) => {
                    self.plan.spaces.retire.push(s.id.clone());
                    self.plan.spaces.counts.retired += 1;
                }
            }
        }
    }
}
