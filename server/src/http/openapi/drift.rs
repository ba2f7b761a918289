//! Does the OpenAPI document still tell the truth? (tests only)
//!
//! [`registered`] reads every `.rs` file under `server/src` and collects the `/api/v1` routes
//! the code registers with `.route(path, handler)`, the path a string literal or a `const` of
//! the same file, the methods read from the handler expression (`get(…)`, `post(…).get(…)`,
//! `axum::routing::patch(…)`, across lines). [`problems`] compares them with a served document:
//! every registered (path, method) documented, every documented one registered, and the
//! document itself sound (OpenAPI 3.1, a response for every operation, unique operation ids,
//! declared tags and path parameters, no dangling `$ref`, no schema name two modules use for
//! different shapes). Each problem is one sentence saying what to change, and where.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::Module;

/// The methods an OpenAPI path item can hold, as the document spells them.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// One `(path, method)` registered in the code.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Registered {
    pub path: String,
    /// Upper case: `GET`, `POST`, …
    pub method: String,
    /// Relative to `server/`, e.g. `src/people/routes.rs`.
    pub file: String,
    pub line: usize,
}

impl Registered {
    /// The feature folder the route lives in: `src/lessons/routes.rs` → `lessons`.
    pub fn module(&self) -> &str {
        self.file
            .strip_prefix("src/")
            .and_then(|rest| rest.split_once('/'))
            .map_or("", |(module, _)| module)
    }
}

/// Every `/api/v1` route registered under `server_dir/src`, or the places the scan could not
/// read (which are problems too: a route the check cannot see is a route it cannot guard).
pub fn registered(server_dir: &Path) -> (Vec<Registered>, Vec<String>) {
    let mut files = Vec::new();
    collect_rs_files(&server_dir.join("src"), &mut files);
    files.sort();
    let mut found = Vec::new();
    let mut unreadable = Vec::new();
    for file in files {
        let shown = file
            .strip_prefix(server_dir)
            .unwrap_or(&file)
            .to_string_lossy()
            .replace('\\', "/");
        match std::fs::read_to_string(&file) {
            Ok(source) => scan_source(&source, &shown, &mut found, &mut unreadable),
            Err(err) => unreadable.push(format!("{shown}: cannot be read ({err})")),
        }
    }
    found.sort();
    found.dedup();
    (found, unreadable)
}

fn collect_rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_rs_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Find the routes of one file's source.
pub fn scan_source(
    source: &str,
    file: &str,
    found: &mut Vec<Registered>,
    unreadable: &mut Vec<String>,
) {
    let code = without_test_modules(&without_comments(source));
    let chars: Vec<char> = code.chars().collect();
    let line_of = |at: usize| chars[..at].iter().filter(|c| **c == '\n').count() + 1;
    for call in [".nest(", ".nest_service(", ".route_service("] {
        for at in find_all(&chars, call) {
            let Some((args, _)) = call_args(&chars, at + call.chars().count()) else {
                continue;
            };
            let first = split_top_level(&args)
                .into_iter()
                .next()
                .unwrap_or_default();
            let path = resolve_path(first.trim(), &code);
            if path.as_deref().is_some_and(|p| p.starts_with("/api")) {
                unreadable.push(format!(
                    "{file}:{}: `{}` under /api cannot be checked against the document: register \
                     each API route with `.route(\"/api/v1/…\", …)` and its full path",
                    line_of(at),
                    call.trim_start_matches('.').trim_end_matches('(')
                ));
            }
        }
    }
    for at in find_all(&chars, ".route(") {
        let line = line_of(at);
        let Some((args, _)) = call_args(&chars, at + ".route(".len()) else {
            unreadable.push(format!(
                "{file}:{line}: `.route(` without its closing parenthesis"
            ));
            continue;
        };
        let parts = split_top_level(&args);
        let [path, handler, ..] = parts.as_slice() else {
            unreadable.push(format!("{file}:{line}: `.route(…)` without two arguments"));
            continue;
        };
        let Some(path) = resolve_path(path.trim(), &code) else {
            unreadable.push(format!(
                "{file}:{line}: the path `{}` is neither a string literal nor a `const` of this \
                 file, so the drift check cannot tell whether it is an API route",
                path.trim()
            ));
            continue;
        };
        if !path.starts_with("/api/v1/") && path != "/api/v1" {
            continue;
        }
        let methods = methods_of(handler);
        if methods.is_empty() {
            unreadable.push(format!(
                "{file}:{line}: cannot tell the methods of `{path}` from `{}`: use `get(…)`, \
                 `post(…)`, `put(…)`, `patch(…)` or `delete(…)` (chained as needed)",
                handler.split_whitespace().collect::<Vec<_>>().join(" ")
            ));
        }
        for method in methods {
            found.push(Registered {
                path: path.clone(),
                method,
                file: file.to_owned(),
                line,
            });
        }
    }
}

/// The source with comments blanked (newlines kept, so line numbers stay), strings intact.
fn without_comments(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(if chars[i] == '\n' { '\n' } else { ' ' });
                    i += 1;
                }
            }
        } else if let Some(end) = literal_end(&chars, i) {
            out.extend(&chars[i..end]);
            i = end;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// If a string, raw string or char literal starts at `i`, the index just past it.
fn literal_end(chars: &[char], i: usize) -> Option<usize> {
    let c = chars[i];
    let before_is_ident = i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_');
    // Raw strings: r"…", r#"…"#, br"…" (the `b` is an ordinary character before the `r`).
    if c == 'r' && !before_is_ident_except_b(chars, i) {
        let mut j = i + 1;
        let mut hashes = 0;
        while chars.get(j) == Some(&'#') {
            hashes += 1;
            j += 1;
        }
        if chars.get(j) == Some(&'"') {
            j += 1;
            while j < chars.len() {
                if chars[j] == '"' && (1..=hashes).all(|k| chars.get(j + k) == Some(&'#')) {
                    return Some(j + 1 + hashes);
                }
                j += 1;
            }
            return Some(chars.len());
        }
        return None;
    }
    if c == '"' {
        let mut j = i + 1;
        while j < chars.len() {
            match chars[j] {
                '\\' => j += 2,
                '"' => return Some(j + 1),
                _ => j += 1,
            }
        }
        return Some(chars.len());
    }
    if c == '\'' && !before_is_ident {
        // A char literal ('x', '\n', '\u{..}'), not a lifetime ('a).
        if chars.get(i + 1) == Some(&'\\') {
            let mut j = i + 2;
            while j < chars.len() && chars[j] != '\'' {
                j += 1;
            }
            return Some((j + 1).min(chars.len()));
        }
        if chars.get(i + 2) == Some(&'\'') {
            return Some(i + 3);
        }
    }
    None
}

fn before_is_ident_except_b(chars: &[char], i: usize) -> bool {
    if i == 0 {
        return false;
    }
    let prev = chars[i - 1];
    if prev == 'b' {
        return i >= 2 && (chars[i - 2].is_alphanumeric() || chars[i - 2] == '_');
    }
    prev.is_alphanumeric() || prev == '_'
}

/// The source with `#[cfg(test)] mod … { … }` blocks blanked: test routers are not the app's.
fn without_test_modules(code: &str) -> String {
    let mut chars: Vec<char> = code.chars().collect();
    let marker: Vec<char> = "#[cfg(test)]".chars().collect();
    let mut i = 0;
    while let Some(at) = find_from(&chars, &marker, i) {
        let mut j = at + marker.len();
        while chars.get(j).is_some_and(|c| c.is_whitespace()) {
            j += 1;
        }
        let rest: String = chars[j..chars.len().min(j + 8)].iter().collect();
        if !(rest.starts_with("mod ") || rest.starts_with("pub mod ")) {
            i = j;
            continue;
        }
        let Some(open) = (j..chars.len()).find(|k| chars[*k] == '{' || chars[*k] == ';') else {
            break;
        };
        if chars[open] == ';' {
            i = open;
            continue;
        }
        let end = matching(&chars, open, '{', '}').unwrap_or(chars.len() - 1);
        for c in &mut chars[at..=end] {
            if *c != '\n' {
                *c = ' ';
            }
        }
        i = end;
    }
    chars.into_iter().collect()
}

fn find_from(chars: &[char], needle: &[char], from: usize) -> Option<usize> {
    (from..chars.len().saturating_sub(needle.len() - 1))
        .find(|i| chars[*i..*i + needle.len()] == *needle)
}

fn find_all(chars: &[char], needle: &str) -> Vec<usize> {
    let needle: Vec<char> = needle.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(at) = find_from(chars, &needle, i) {
        // Only code: skip matches inside string literals.
        out.push(at);
        i = at + needle.len();
    }
    out.retain(|at| !inside_literal(chars, *at));
    out
}

/// Whether position `at` lies inside a string or char literal.
fn inside_literal(chars: &[char], at: usize) -> bool {
    let mut i = 0;
    while i < at {
        match literal_end(chars, i) {
            Some(end) if end > at => return true,
            Some(end) => i = end,
            None => i += 1,
        }
    }
    false
}

/// The index of the bracket closing the one at `open`, skipping literals.
fn matching(chars: &[char], open: usize, left: char, right: char) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = open;
    while i < chars.len() {
        if let Some(end) = literal_end(chars, i) {
            i = end;
            continue;
        }
        if chars[i] == left {
            depth += 1;
        } else if chars[i] == right {
            depth -= 1;
            if depth == 0 {
                return Some(i);
            }
        }
        i += 1;
    }
    None
}

/// The text between the parenthesis just before `start` and its match, and the match's index.
fn call_args(chars: &[char], start: usize) -> Option<(String, usize)> {
    let close = matching(chars, start - 1, '(', ')')?;
    Some((chars[start..close].iter().collect(), close))
}

/// Split an argument list at its top-level commas.
fn split_top_level(args: &str) -> Vec<String> {
    let chars: Vec<char> = args.chars().collect();
    let mut parts = Vec::new();
    let mut depth = 0i32;
    let mut current = String::new();
    let mut i = 0;
    while i < chars.len() {
        if let Some(end) = literal_end(&chars, i) {
            current.extend(&chars[i..end]);
            i = end;
            continue;
        }
        match chars[i] {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(std::mem::take(&mut current));
                i += 1;
                continue;
            }
            _ => {}
        }
        current.push(chars[i]);
        i += 1;
    }
    if !current.trim().is_empty() {
        parts.push(current);
    }
    parts
}

/// A route's path: a string literal, or a `const NAME: &str = "…";` of the same file.
fn resolve_path(expr: &str, code: &str) -> Option<String> {
    if let Some(literal) = expr.strip_prefix('"').and_then(|e| e.strip_suffix('"')) {
        return Some(literal.to_owned());
    }
    let name = expr.rsplit("::").next()?.trim();
    if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return None;
    }
    let declaration = format!("const {name}: &str =");
    let at = code.find(&declaration)? + declaration.len();
    let value = code[at..].trim_start();
    let value = value.strip_prefix('"')?;
    Some(value[..value.find('"')?].to_owned())
}

/// The HTTP methods of a handler expression: the method-router calls at its top level
/// (`get(a).post(b)`, `axum::routing::patch(c)`), upper case; empty when it cannot tell.
fn methods_of(handler: &str) -> Vec<String> {
    let chars: Vec<char> = handler.chars().collect();
    let mut methods = Vec::new();
    let mut depth = 0i32;
    let mut i = 0;
    while i < chars.len() {
        if let Some(end) = literal_end(&chars, i) {
            i = end;
            continue;
        }
        let c = chars[i];
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let mut j = i;
            while chars.get(j).is_some_and(|c| c.is_whitespace()) {
                j += 1;
            }
            if depth == 0 && chars.get(j) == Some(&'(') {
                let name = word.strip_suffix("_service").unwrap_or(&word);
                if METHODS.contains(&name) {
                    methods.push(name.to_ascii_uppercase());
                } else if matches!(name, "any" | "on" | "method_routing") {
                    // Methods these accept cannot be read off the source.
                    return Vec::new();
                }
            }
            continue;
        }
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    methods
}

/// The `/api/v1` (path, METHOD) pairs a document lists.
pub fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    if let Some(paths) = doc["paths"].as_object() {
        for (path, item) in paths {
            if !path.starts_with("/api/v1") {
                continue;
            }
            for method in METHODS {
                if item.get(method).is_some() {
                    out.insert((path.clone(), method.to_ascii_uppercase()));
                }
            }
        }
    }
    out
}

/// `{name}` segments as `{}`: two paths that differ only in parameter names.
fn shape(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            _ if in_param => {}
            _ => out.push(c),
        }
    }
    out
}

/// Everything wrong with `doc` (the served document) against the routes registered under
/// `server_dir` and the [`Module`]s that make it up. Empty when the document tells the truth.
pub fn problems(doc: &Value, server_dir: &Path, modules: &[Module]) -> Vec<String> {
    let (routes, mut problems) = registered(server_dir);
    if routes.is_empty() {
        problems.push(format!(
            "no `.route(\"/api/v1/…\", …)` found under {}: the scan is broken",
            server_dir.join("src").display()
        ));
    }
    let documented = documented(doc);
    let module_docs: Vec<(&Module, Value)> = modules
        .iter()
        .map(|m| (m, serde_json::to_value(&m.doc).unwrap_or(Value::Null)))
        .collect();
    let registered_pairs: BTreeSet<(String, String)> = routes
        .iter()
        .map(|r| (r.path.clone(), r.method.clone()))
        .collect();

    for route in &routes {
        if documented.contains(&(route.path.clone(), route.method.clone())) {
            continue;
        }
        let module = route.module();
        let owner = modules.iter().find(|m| m.name == module);
        let similar = documented
            .iter()
            .find(|(p, m)| *m == route.method && shape(p) == shape(&route.path));
        let mut sentence = format!(
            "{} {} (registered at {}:{}) is not in the document: ",
            route.method, route.path, route.file, route.line
        );
        match owner {
            Some(owner) => sentence.push_str(&format!(
                "`{}` lacks it: add its handler, annotated with #[utoipa::path({}, path = \"{}\", …)], \
                 to that Api's `paths(…)`",
                owner.api,
                route.method.to_ascii_lowercase(),
                route.path
            )),
            None => sentence.push_str(&format!(
                "the module `{module}` has no Api in the document: declare \
                 `#[derive(utoipa::OpenApi)] #[openapi(paths(…))] pub struct Api;` in \
                 crate::{module}::routes, list its handlers, and add \
                 `module!(\"{module}\" => crate::{module}::routes::Api),` to http::openapi::modules()"
            )),
        }
        if let Some((path, _)) = similar {
            sentence.push_str(&format!(
                " (the document has `{path}`: the path parameter names must be the router's)"
            ));
        }
        problems.push(sentence);
    }

    for (path, method) in &documented {
        if registered_pairs.contains(&(path.clone(), method.clone())) {
            continue;
        }
        let owners: Vec<&str> = module_docs
            .iter()
            .filter(|(_, d)| {
                d["paths"][path.as_str()]
                    .get(method.to_ascii_lowercase())
                    .is_some()
            })
            .map(|(m, _)| m.api)
            .collect();
        problems.push(format!(
            "{method} {path} is documented{} but no `.route(…)` registers it: remove it from \
             that Api's `paths(…)`, or correct the path or method in its #[utoipa::path]",
            if owners.is_empty() {
                String::new()
            } else {
                format!(" by `{}`", owners.join("`, `"))
            }
        ));
    }

    problems.extend(soundness(doc));
    problems.extend(schema_collisions(&module_docs));
    problems
}

/// The document on its own: version, responses, operation ids, tags, path parameters, refs.
pub fn soundness(doc: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let version = doc["openapi"].as_str().unwrap_or("");
    if !version.starts_with("3.1.") {
        problems.push(format!("`openapi` is `{version}`, not a 3.1.x version"));
    }
    let declared_tags: BTreeSet<&str> = doc["tags"]
        .as_array()
        .map(|tags| tags.iter().filter_map(|t| t["name"].as_str()).collect())
        .unwrap_or_default();
    let mut operation_ids: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let Some(paths) = doc["paths"].as_object() else {
        problems.push("the document has no `paths`".to_owned());
        return problems;
    };
    for (path, item) in paths {
        let template: BTreeSet<String> = path
            .split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_owned()))
            .collect();
        for method in METHODS {
            let Some(op) = item.get(method) else {
                continue;
            };
            let name = format!("{} {path}", method.to_ascii_uppercase());
            if op["responses"].as_object().is_none_or(|r| r.is_empty()) {
                problems.push(format!("{name} documents no response"));
            }
            match op["operationId"].as_str() {
                Some(id) => operation_ids
                    .entry(id.to_owned())
                    .or_default()
                    .push(name.clone()),
                None => problems.push(format!("{name} has no operationId")),
            }
            let tags: Vec<&str> = op["tags"]
                .as_array()
                .map(|t| t.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if tags.is_empty() {
                problems.push(format!(
                    "{name} has no tag: give its #[utoipa::path] `tag = \"<module>\"`"
                ));
            }
            for tag in tags {
                if !declared_tags.contains(tag) {
                    problems.push(format!(
                        "{name} is tagged `{tag}`, which the document does not declare: add \
                         it, described in Chinese and English, to http::openapi::tags()"
                    ));
                }
            }
            let params: Vec<(&str, &str)> = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .map(|p| {
                            (
                                p["name"].as_str().unwrap_or(""),
                                p["in"].as_str().unwrap_or(""),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            let in_path: BTreeSet<String> = params
                .iter()
                .filter(|(_, at)| *at == "path")
                .map(|(n, _)| (*n).to_owned())
                .collect();
            if in_path != template {
                problems.push(format!(
                    "{name} declares the path parameters {in_path:?}, but its path has {template:?}"
                ));
            }
            let unique: BTreeSet<&(&str, &str)> = params.iter().collect();
            if unique.len() != params.len() {
                problems.push(format!("{name} declares a parameter twice: {params:?}"));
            }
        }
    }
    for (id, ops) in operation_ids {
        if ops.len() > 1 {
            problems.push(format!(
                "the operationId `{id}` is used by {}: give them distinct `operation_id`s",
                ops.join(" and ")
            ));
        }
    }
    let mut refs = BTreeSet::new();
    collect_refs(doc, &mut refs);
    for reference in refs {
        let target = reference
            .strip_prefix("#/")
            .map(|p| p.split('/').fold(doc, |v, key| &v[key]));
        if target.is_none_or(Value::is_null) {
            problems.push(format!(
                "`$ref: {reference}` points at nothing: list the type in its module's \
                 `components(schemas(…))` or derive utoipa::ToSchema on it"
            ));
        }
    }
    problems
}

fn collect_refs(value: &Value, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                if key == "$ref"
                    && let Some(r) = v.as_str()
                {
                    out.insert(r.to_owned());
                } else {
                    collect_refs(v, out);
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// Two modules' schemas with one name but different shapes: merging keeps only the first, so
/// the other module's routes would be documented with the wrong shape.
fn schema_collisions(module_docs: &[(&Module, Value)]) -> Vec<String> {
    let mut seen: BTreeMap<&str, (&str, &Value)> = BTreeMap::new();
    let mut problems = Vec::new();
    for (module, doc) in module_docs {
        let Some(schemas) = doc["components"]["schemas"].as_object() else {
            continue;
        };
        for (name, schema) in schemas {
            match seen.get(name.as_str()) {
                Some((first, earlier)) if *earlier != schema => problems.push(format!(
                    "the schema `{name}` of `{}` differs from the one of `{first}` with the same \
                     name, and only the first is kept: rename one with #[schema(as = …)]",
                    module.api
                )),
                Some(_) => {}
                None => {
                    seen.insert(name, (module.api, schema));
                }
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(source: &str) -> (Vec<(String, String)>, Vec<String>) {
        let mut found = Vec::new();
        let mut unreadable = Vec::new();
        scan_source(source, "src/lessons/routes.rs", &mut found, &mut unreadable);
        (
            found.into_iter().map(|r| (r.path, r.method)).collect(),
            unreadable,
        )
    }

    fn pair(path: &str, method: &str) -> (String, String) {
        (path.to_owned(), method.to_owned())
    }

    #[test]
    fn routes_are_read_with_their_methods_across_lines() {
        let (found, unreadable) = scan(
            r#"
            const PATH: &str = "/api/v1/lessons/{id}/copy";
            pub fn router() -> Router<AppState> {
                Router::new()
                    .route("/api/v1/lessons", post(create).get(list))
                    .route(
                        "/api/v1/lessons/{id}",
                        get(detail)
                            .patch(edit),
                    )
                    .route("/api/v1/lessons/{id}/x", axum::routing::delete(remove))
                    .route(PATH, post(copy))
                    // .route("/api/v1/commented", get(gone))
                    .route("/lessons", get(page))
                    .route("/api/v1/wrapped", get(move || answer(body.clone())))
            }
            #[cfg(test)]
            mod tests {
                fn r() { Router::new().route("/api/v1/test-only", get(t)); }
            }
            "#,
        );
        assert!(unreadable.is_empty(), "{unreadable:?}");
        assert_eq!(
            found,
            vec![
                pair("/api/v1/lessons", "POST"),
                pair("/api/v1/lessons", "GET"),
                pair("/api/v1/lessons/{id}", "GET"),
                pair("/api/v1/lessons/{id}", "PATCH"),
                pair("/api/v1/lessons/{id}/x", "DELETE"),
                pair("/api/v1/lessons/{id}/copy", "POST"),
                pair("/api/v1/wrapped", "GET"),
            ]
        );
    }

    #[test]
    fn what_the_scan_cannot_read_is_a_problem() {
        let (found, unreadable) = scan(
            r#"
            Router::new()
                .route("/api/v1/any", any(handler))
                .route(somewhere(), get(x))
                .nest("/api/v1/lessons", lessons())
            "#,
        );
        assert!(found.is_empty());
        assert_eq!(unreadable.len(), 3, "{unreadable:?}");
        assert!(unreadable[0].contains("/api/v1/lessons") || unreadable[0].contains("nest"));
    }

    #[test]
    fn strings_and_chars_do_not_confuse_the_scan() {
        let (found, unreadable) = scan(
            r#"
            let s = "not a .route(\"/api/v1/fake\", get(x)) call";
            let c = '(';
            fn f<'a>(x: &'a str) {}
            Router::new().route("/api/v1/real", get(real))
            "#,
        );
        assert!(unreadable.is_empty(), "{unreadable:?}");
        assert_eq!(found, vec![pair("/api/v1/real", "GET")]);
    }

    #[test]
    fn missing_and_stale_routes_name_the_module_and_what_to_do() {
        let server = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut doc = serde_json::to_value(super::super::document()).unwrap();
        // Forget one registered route and document one that is registered nowhere.
        let mut paths = doc["paths"]
            .as_object_mut()
            .map(std::mem::take)
            .unwrap_or_default();
        paths.remove("/api/v1/me");
        paths.insert(
            "/api/v1/nowhere".to_owned(),
            serde_json::json!({"get": {"operationId": "x_nowhere", "tags": ["system"], "responses": {"200": {"description": "ok"}}}}),
        );
        doc["paths"] = Value::Object(paths);
        let found = problems(&doc, server, &super::super::modules());
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(
            found[0].starts_with("GET /api/v1/me (registered at src/people/routes.rs:")
                && found[0].contains("`crate::people::routes::Api` lacks it"),
            "{}",
            found[0]
        );
        assert!(
            found[1]
                .starts_with("GET /api/v1/nowhere is documented but no `.route(…)` registers it"),
            "{}",
            found[1]
        );
    }

    #[test]
    fn a_module_without_an_api_is_named() {
        let server = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let doc = serde_json::to_value(super::super::document()).unwrap();
        let modules: Vec<Module> = super::super::modules()
            .into_iter()
            .filter(|m| m.name != "audit")
            .collect();
        let mut without_audit = doc.clone();
        if let Some(paths) = without_audit["paths"].as_object_mut() {
            paths.remove("/api/v1/audit");
        }
        let found = problems(&without_audit, server, &modules);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(
            found[0].contains("the module `audit` has no Api in the document")
                && found[0].contains("module!(\"audit\" => crate::audit::routes::Api)"),
            "{}",
            found[0]
        );
    }
}
