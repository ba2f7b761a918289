//! The tokens file written by `ws-bench tokens`: one line per person and class,
//! `role,sourced_id,class_sourced_id,token` (role `parent` or `teacher`), after a header line.
//! The peers use it only for the classes (their rooms); Kongjian for the tokens too.

use std::collections::{BTreeMap, HashSet};

use anyhow::{Context, Result, bail};

#[derive(Clone, Debug)]
pub struct Person {
    pub sourced_id: String,
    pub token: String,
    /// The class this person is listed under first (a parent: their child's class).
    pub class: String,
}

pub struct Members {
    /// Every parent once, in file order, with the first class they are listed under.
    pub parents: Vec<Person>,
    /// Teachers of each class, in file order.
    pub teachers: BTreeMap<String, Vec<Person>>,
}

impl Members {
    pub fn read(path: &str) -> Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
        let mut parents = Vec::new();
        let mut seen = HashSet::new();
        let mut teachers: BTreeMap<String, Vec<Person>> = BTreeMap::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.is_empty() || (n == 0 && line.starts_with("role,")) {
                continue;
            }
            let fields: Vec<&str> = line.splitn(4, ',').collect();
            let [role, sourced_id, class, token] = fields[..] else {
                bail!(
                    "{path}:{}: expected role,sourced_id,class_sourced_id,token",
                    n + 1
                );
            };
            let person = Person {
                sourced_id: sourced_id.to_owned(),
                token: token.to_owned(),
                class: class.to_owned(),
            };
            match role {
                "parent" => {
                    if seen.insert(sourced_id.to_owned()) {
                        parents.push(person);
                    }
                }
                "teacher" => teachers.entry(class.to_owned()).or_default().push(person),
                other => bail!("{path}:{}: unknown role {other}", n + 1),
            }
        }
        if parents.is_empty() {
            bail!("{path}: no parent");
        }
        Ok(Self { parents, teachers })
    }

    /// The parents dealt round-robin over their classes (the first parent of every class, then
    /// the second …), so that any prefix spreads over all classes and teachers.
    pub fn parents_interleaved(&self) -> Vec<&Person> {
        let mut by_class: BTreeMap<&str, Vec<&Person>> = BTreeMap::new();
        for p in &self.parents {
            by_class.entry(p.class.as_str()).or_default().push(p);
        }
        let rounds = by_class.values().map(Vec::len).max().unwrap_or(0);
        let mut out = Vec::with_capacity(self.parents.len());
        for i in 0..rounds {
            for members in by_class.values() {
                if let Some(p) = members.get(i) {
                    out.push(*p);
                }
            }
        }
        out
    }

    /// A teacher of `class` (the `n`-th, modulo their number).
    pub fn teacher_of(&self, class: &str, n: usize) -> Result<&Person> {
        let teachers = self
            .teachers
            .get(class)
            .filter(|t| !t.is_empty())
            .with_context(|| format!("no teacher of class {class} in the tokens file"))?;
        Ok(&teachers[n % teachers.len()])
    }
}
