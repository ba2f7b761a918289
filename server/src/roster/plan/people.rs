//! People, their roles and enrollments: resolving sourcedIds to persons, merging guardians who
//! share a phone number, and diffing.

use crate::roster::HashMap;

use sea_orm::ActiveValue::{NotSet, Set};

use super::*;

/// A name as a Chinese reader writes it: family name then given name, no space. A name with a
/// separator dot (阿依古丽·买买提, transliterated names) is already whole in the given name.
pub fn display_name(family: &str, given: &str) -> String {
    if given.contains(['·', '•', '・']) {
        given.to_owned()
    } else {
        format!("{family}{given}")
    }
}

impl<'a> Planner<'a> {
    /// Which bundle users hold a family role (parent, guardian, relative).
    fn family_users(&self) -> HashSet<&'a str> {
        let bundle = self.bundle;
        let mut family: HashSet<&str> = bundle
            .roles
            .iter()
            .filter(|r| r.record.role.is_family())
            .map(|r| r.record.user.as_str())
            .collect();
        family.extend(
            bundle
                .users
                .iter()
                .filter(|u| {
                    u.record
                        .legacy_role
                        .as_ref()
                        .is_some_and(RoleKind::is_family)
                })
                .map(|u| u.record.id.as_str()),
        );
        family
    }

    pub(super) fn plan_people(&mut self) {
        let bundle = self.bundle;
        let family = self.family_users();
        // Family members already known, by phone: a guardian record from another school's
        // roster with the same phone is the same parent.
        let family_people: HashSet<&str> = self
            .snap
            .roles
            .values()
            .filter(|r| r.status == ACTIVE && FAMILY_ROLES.contains(&r.role.as_str()))
            .map(|r| r.person_id.as_str())
            .collect();
        let mut by_phone: HashMap<String, (String, String)> = self
            .snap
            .people
            .values()
            .filter(|p| family_people.contains(p.id.as_str()))
            .filter_map(|p| {
                p.phone
                    .clone()
                    .map(|ph| (ph, (p.id.clone(), p.sourced_id.clone())))
            })
            .collect();
        let demographics: HashMap<&str, &Demographic> = bundle
            .demographics
            .iter()
            .map(|d| (d.record.user.as_str(), &d.record))
            .collect();

        reserve_inserts(
            &mut self.plan.people,
            bundle.users.len(),
            self.snap.people.len(),
        );
        for located in &bundle.users {
            let u = &located.record;
            let phone = u
                .phone
                .as_deref()
                .or(u.sms.as_deref())
                .map(normalise_phone)
                .filter(|p| !p.is_empty());
            let existing = self.snap.people.get(u.id.as_str());
            if existing.is_none()
                && !self.snap.aliases.contains_key(u.id.as_str())
                && family.contains(u.id.as_str())
                && let Some((person_id, into)) = phone.as_ref().and_then(|p| by_phone.get(p))
            {
                // Merge: one person, one space, both children.
                self.plan.aliases.push(person_alias::ActiveModel {
                    sourced_id: Set(u.id.to_string()),
                    person_id: Set(person_id.clone()),
                    created_at: Set(self.now),
                });
                self.plan.merges.push(Merge {
                    sourced_id: u.id.to_string(),
                    into: into.clone(),
                    phone: phone.clone().unwrap_or_default(),
                });
                self.plan.people.counts.unchanged += 1;
                self.person_ids.insert(u.id.as_str(), person_id.clone());
                continue;
            }
            if self.snap.aliases.contains_key(u.id.as_str()) {
                // A merged record: the person it was merged into carries the data.
                if let Some(id) = self.snap.person_id(u.id.as_str()) {
                    self.person_ids.insert(u.id.as_str(), id.to_owned());
                }
                self.plan.people.counts.unchanged += 1;
                continue;
            }
            let demo = demographics.get(u.id.as_str());
            let sex = demo.and_then(|d| d.sex).map(sex_name).map(str::to_owned);
            let birth_date = demo.and_then(|d| d.birth_date);
            let family_name = u
                .preferred_family_name
                .clone()
                .unwrap_or_else(|| u.family_name.clone());
            let given_name = u
                .preferred_given_name
                .clone()
                .unwrap_or_else(|| u.given_name.clone());
            let display_name = display_name(&family_name, &given_name);
            let user_ids = u
                .user_ids
                .iter()
                .map(|(t, v)| format!("{{{t}:{v}}}"))
                .collect::<Vec<_>>()
                .join(",");
            let hash = row_hash(&[
                &family_name,
                &given_name,
                opt(&u.username),
                opt(&u.email),
                opt(&phone),
                if u.enabled { "1" } else { "0" },
                opt(&sex),
                &date(&birth_date),
                &user_ids,
            ]);
            let now = self.now;
            let id = diff_one(
                &mut self.plan.people,
                existing,
                u.status,
                hash,
                |id, new| person::ActiveModel {
                    id: Set(id),
                    sourced_id: Set(u.id.to_string()),
                    family_name: Set(family_name.clone()),
                    given_name: Set(given_name.clone()),
                    display_name: Set(display_name.clone()),
                    username: Set(u.username.clone()),
                    email: Set(u.email.clone()),
                    phone: Set(phone.clone()),
                    enabled: Set(u.enabled),
                    sex: Set(sex.clone()),
                    birth_date: Set(birth_date),
                    user_ids: Set(user_ids.clone()),
                    status: Set(ACTIVE.to_owned()),
                    row_hash: Set(hash),
                    retired_at: Set(None),
                    created_at: if new { Set(now) } else { NotSet },
                    updated_at: Set(now),
                },
            );
            let Some(id) = id else { continue };
            if family.contains(u.id.as_str())
                && u.status == Status::Active
                && let Some(phone) = phone
            {
                by_phone
                    .entry(phone)
                    .or_insert_with(|| (id.clone(), u.id.to_string()));
            }
            self.person_ids.insert(u.id.as_str(), id);
        }
    }

    pub(super) fn plan_roles(&mut self) {
        reserve_inserts(
            &mut self.plan.roles,
            self.bundle.roles.len(),
            self.snap.roles.len(),
        );
        for located in &self.bundle.roles {
            let r = &located.record;
            let (Some(person_id), Some(org_id)) = (self.person_id(&r.user), self.org_id(&r.org))
            else {
                continue;
            };
            let role = role_name(&r.role);
            let role_type = match r.role_type {
                RoleType::Primary => "primary",
                RoleType::Secondary => "secondary",
            };
            let hash = row_hash(&[
                &person_id,
                &org_id,
                &role,
                role_type,
                &date(&r.begin_date),
                &date(&r.end_date),
            ]);
            let existing = self.snap.roles.get(r.id.as_str());
            let now = self.now;
            diff_one(&mut self.plan.roles, existing, r.status, hash, |id, new| {
                role::ActiveModel {
                    id: Set(id),
                    sourced_id: Set(r.id.to_string()),
                    person_id: Set(person_id.clone()),
                    org_id: Set(org_id.clone()),
                    role: Set(role.clone()),
                    role_type: Set(role_type.to_owned()),
                    begin_date: Set(r.begin_date),
                    end_date: Set(r.end_date),
                    status: Set(ACTIVE.to_owned()),
                    row_hash: Set(hash),
                    created_at: if new { Set(now) } else { NotSet },
                    updated_at: Set(now),
                }
            });
        }
    }

    pub(super) fn plan_enrollments(&mut self) {
        let enrollments = std::mem::take(&mut self.enrollments);
        reserve_inserts(
            &mut self.plan.enrollments,
            enrollments.len(),
            self.snap.enrollments.len(),
        );
        for located in enrollments {
            let e = located.record;
            let class_id = self.class_ids.get(e.class.as_str()).cloned().or_else(|| {
                self.snap
                    .classes
                    .get(e.class.as_str())
                    .map(|c| c.id.clone())
            });
            let (Some(class_id), Some(person_id), Some(school_id)) =
                (class_id, self.person_id(&e.user), self.org_id(&e.school))
            else {
                continue;
            };
            let role = enrollment_role_name(&e.role);
            let hash = row_hash(&[
                &class_id,
                &person_id,
                &school_id,
                &role,
                if e.primary { "1" } else { "0" },
                opt(&e.subject),
                &date(&e.begin_date),
                &date(&e.end_date),
            ]);
            let existing = self.snap.enrollments.get(e.id.as_str());
            let now = self.now;
            diff_one(
                &mut self.plan.enrollments,
                existing,
                e.status,
                hash,
                |id, new| enrollment::ActiveModel {
                    id: Set(id),
                    sourced_id: Set(e.id.into_string()),
                    class_id: Set(class_id),
                    person_id: Set(person_id),
                    school_id: Set(school_id),
                    role: Set(role),
                    is_primary: Set(e.primary),
                    subject: Set(e.subject),
                    begin_date: Set(e.begin_date),
                    end_date: Set(e.end_date),
                    status: Set(ACTIVE.to_owned()),
                    row_hash: Set(hash),
                    created_at: if new { Set(now) } else { NotSet },
                    updated_at: Set(now),
                },
            );
        }
    }
}
