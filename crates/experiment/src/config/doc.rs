//! A parsed TOML document that remembers where every key and value came from.
//!
//! The main type is [`Document`]: the config as a JSON tree plus an [`Origins`] map from key
//! paths to places (file, line, column; a profile; a `--set` argument), so that every error
//! found later — by the schema validator, by deserialization or by semantic checks — names
//! the place the user has to edit.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use toml::de::{DeTable, DeValue};

/// One step of a key path: a table key or a list index.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Seg {
    /// A table key.
    Key(String),
    /// A list index (0-based).
    Index(usize),
}

/// A path to a value in the config (`scaling.group_size`, `models[0].name`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct KeyPath(pub Vec<Seg>);

impl KeyPath {
    /// The empty path (the whole document).
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// This path with a key appended.
    #[must_use]
    pub fn key(&self, k: &str) -> Self {
        let mut v = self.0.clone();
        v.push(Seg::Key(k.to_string()));
        Self(v)
    }

    /// This path with an index appended.
    #[must_use]
    pub fn index(&self, i: usize) -> Self {
        let mut v = self.0.clone();
        v.push(Seg::Index(i));
        Self(v)
    }

    /// The last key of the path, if it ends with a key.
    pub fn last_key(&self) -> Option<&str> {
        match self.0.last() {
            Some(Seg::Key(k)) => Some(k),
            _ => None,
        }
    }

    /// True when `self` starts with `prefix`.
    pub fn starts_with(&self, prefix: &KeyPath) -> bool {
        self.0.starts_with(&prefix.0)
    }

    /// Parse a dotted path as written on the command line or as a `[sweep]` key:
    /// `scaling.group_size`, `models[0].name`, `models.0.name`, `sweep."scaling.n"`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let mut segs = Vec::new();
        let mut chars = s.chars().peekable();
        let mut cur = String::new();
        let mut expect_seg = true;
        let bad = |why: &str| Err(format!("bad key path `{s}`: {why}"));
        while let Some(c) = chars.next() {
            match c {
                '"' => {
                    if !cur.is_empty() {
                        return bad("a quote in the middle of a key");
                    }
                    let mut closed = false;
                    for q in chars.by_ref() {
                        if q == '"' {
                            closed = true;
                            break;
                        }
                        cur.push(q);
                    }
                    if !closed {
                        return bad("unclosed quote");
                    }
                    segs.push(Seg::Key(std::mem::take(&mut cur)));
                    expect_seg = false;
                }
                '.' => {
                    if !cur.is_empty() {
                        segs.push(seg_of(&std::mem::take(&mut cur), !segs.is_empty()));
                    } else if expect_seg {
                        return bad("empty key");
                    }
                    expect_seg = true;
                }
                '[' => {
                    if !cur.is_empty() {
                        segs.push(Seg::Key(std::mem::take(&mut cur)));
                    }
                    let mut num = String::new();
                    let mut closed = false;
                    for q in chars.by_ref() {
                        if q == ']' {
                            closed = true;
                            break;
                        }
                        num.push(q);
                    }
                    let Ok(i) = num.trim().parse::<usize>() else {
                        return bad("an index in [] must be a number");
                    };
                    if !closed {
                        return bad("unclosed [");
                    }
                    segs.push(Seg::Index(i));
                    expect_seg = false;
                }
                c if c.is_whitespace() => return bad("spaces are not allowed (quote the key)"),
                c => {
                    cur.push(c);
                    expect_seg = false;
                }
            }
        }
        if !cur.is_empty() {
            segs.push(seg_of(&cur, !segs.is_empty()));
        } else if expect_seg {
            return bad("empty key");
        }
        Ok(Self(segs))
    }
}

/// A bare number after the first segment is a list index (`models.0.name`).
fn seg_of(s: &str, not_first: bool) -> Seg {
    match s.parse::<usize>() {
        Ok(i) if not_first => Seg::Index(i),
        _ => Seg::Key(s.to_string()),
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(top level)");
        }
        let mut first = true;
        for s in &self.0 {
            match s {
                Seg::Key(k) => {
                    if !first {
                        f.write_str(".")?;
                    }
                    if !k.is_empty()
                        && k.chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                    {
                        f.write_str(k)?;
                    } else {
                        write!(f, "\"{k}\"")?;
                    }
                }
                Seg::Index(i) => write!(f, "[{i}]")?,
            }
            first = false;
        }
        Ok(())
    }
}

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A place in a config file (1-based line and column).
    File {
        /// The file.
        file: PathBuf,
        /// Line, 1-based.
        line: usize,
        /// Column, 1-based.
        column: usize,
    },
    /// A `--set` argument.
    Override {
        /// The argument as given.
        arg: String,
    },
    /// Another command-line flag (`--profile quick`).
    Flag {
        /// The flag as given.
        arg: String,
    },
    /// Nowhere: a default value.
    Default,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::File { file, line, column } => {
                write!(f, "{}:{line}:{column}", file.display())
            }
            Self::Override { arg } => write!(f, "--set {arg}"),
            Self::Flag { arg } => f.write_str(arg),
            Self::Default => f.write_str("(default)"),
        }
    }
}

/// The places of the keys and values of a document.
#[derive(Debug, Clone, Default)]
pub struct Origins {
    keys: BTreeMap<KeyPath, Origin>,
    values: BTreeMap<KeyPath, Origin>,
    /// Used when nothing more precise is known.
    pub fallback: Option<Origin>,
}

impl Origins {
    /// Record the place of a key and of its value.
    pub fn insert(&mut self, path: KeyPath, key: Option<Origin>, value: Origin) {
        if let Some(k) = key {
            self.keys.insert(path.clone(), k);
        }
        self.values.insert(path, value);
    }

    /// Forget everything recorded at or below `path` (the value was replaced).
    pub fn clear_below(&mut self, path: &KeyPath) {
        self.keys.retain(|k, _| !k.starts_with(path));
        self.values.retain(|k, _| !k.starts_with(path));
    }

    /// Copy the places recorded below `from` to the same relative paths below `to`.
    pub fn graft(&mut self, from: &KeyPath, to: &KeyPath) {
        let moved = |m: &BTreeMap<KeyPath, Origin>| -> Vec<(KeyPath, Origin)> {
            m.iter()
                .filter(|(k, _)| k.starts_with(from) && *k != from)
                .map(|(k, o)| {
                    let mut p = to.0.clone();
                    p.extend_from_slice(&k.0[from.0.len()..]);
                    (KeyPath(p), o.clone())
                })
                .collect()
        };
        for (k, o) in moved(&self.keys) {
            self.keys.insert(k, o);
        }
        for (k, o) in moved(&self.values) {
            self.values.insert(k, o);
        }
    }

    /// The place recorded for exactly this value (`None` for a default).
    pub fn exact(&self, path: &KeyPath) -> Option<Origin> {
        self.values.get(path).cloned()
    }

    /// The place of a value: exact, else that of the nearest enclosing table.
    pub fn value(&self, path: &KeyPath) -> Origin {
        self.lookup(&self.values, path)
    }

    /// The place of a key: exact, else that of its value, else the nearest enclosing table.
    pub fn key(&self, path: &KeyPath) -> Origin {
        if let Some(o) = self.keys.get(path) {
            return o.clone();
        }
        self.lookup(&self.values, path)
    }

    fn lookup(&self, m: &BTreeMap<KeyPath, Origin>, path: &KeyPath) -> Origin {
        let mut p = path.0.clone();
        loop {
            if let Some(o) = m.get(&KeyPath(p.clone())) {
                return o.clone();
            }
            if p.pop().is_none() {
                break;
            }
        }
        self.fallback.clone().unwrap_or(Origin::Default)
    }
}

/// A config document: a JSON tree and where its parts came from.
#[derive(Debug, Clone)]
pub struct Document {
    /// The values.
    pub root: Map<String, Value>,
    /// Their places.
    pub origins: Origins,
}

/// A problem found while reading TOML text, with its place.
#[derive(Debug, Clone)]
pub struct SyntaxError {
    /// Where.
    pub origin: Origin,
    /// The key path concerned, when the problem is about one value (a number out of range).
    pub path: Option<KeyPath>,
    /// What.
    pub message: String,
}

/// A document read to its end, and the problems the parser got past: a duplicated key (the
/// first value is kept), a number that does not fit (the value is left out).
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The values and their places.
    pub document: Document,
    /// The recoverable problems, each of which still has to be reported.
    pub problems: Vec<SyntaxError>,
}

/// Converts byte offsets to 1-based lines and columns.
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self { starts }
    }

    fn origin(&self, file: &Path, text: &str, offset: usize) -> Origin {
        let line = self.starts.partition_point(|&s| s <= offset).max(1);
        let start = self.starts.get(line - 1).copied().unwrap_or(0);
        let column = text
            .get(start..offset.min(text.len()))
            .map_or(1, |s| s.chars().count() + 1);
        Origin::File {
            file: file.to_path_buf(),
            line,
            column,
        }
    }
}

/// The message toml gives a key set twice (or a table defined twice). The parser recovers
/// from it — keeping the first value, merging a table's later keys — so it is one problem
/// among the others rather than the end of the pass.
const DUPLICATE_KEY: &str = "duplicate key";

/// Parse TOML text into a [`Document`].
///
/// `Ok` when the parser read the whole file: the document plus the problems it got past
/// (duplicated keys, numbers that do not fit), to be reported with the rest. `Err` with every
/// error found when the text has a syntax error the parser cannot get past; the document is
/// then unusable and further problems may be hidden behind it.
pub fn parse_toml(file: &Path, text: &str) -> Result<Parsed, Vec<SyntaxError>> {
    let index = LineIndex::new(text);
    let (table, errors) = DeTable::parse_recoverable(text);
    let at = |offset: Option<usize>| {
        offset.map_or_else(
            || Origin::File {
                file: file.to_path_buf(),
                line: 1,
                column: 1,
            },
            |o| index.origin(file, text, o),
        )
    };
    let mut problems = Vec::new();
    let mut fatal = false;
    for e in &errors {
        let message = e.message().trim();
        let span = e.span();
        if message == DUPLICATE_KEY {
            let key = span
                .clone()
                .and_then(|s| text.get(s))
                .map(str::trim)
                .filter(|k| !k.is_empty());
            problems.push(SyntaxError {
                origin: at(span.map(|s| s.start)),
                path: None,
                message: match key {
                    Some(k) => format!(
                        "duplicate key `{k}`: it is already set above in the same table; a key \
                         may be set once (the first value is used for the other checks)"
                    ),
                    None => "duplicate key: it is already set above in the same table".into(),
                },
            });
        } else {
            fatal = true;
            problems.push(SyntaxError {
                origin: at(span.map(|s| s.start)),
                path: None,
                message: message.to_string(),
            });
        }
    }
    if fatal {
        return Err(problems);
    }
    let mut origins = Origins {
        fallback: Some(at(None)),
        ..Origins::default()
    };
    let ctx = Ctx {
        file,
        text,
        index: &index,
    };
    let root = ctx.table(
        table.get_ref(),
        &KeyPath::root(),
        &mut origins,
        &mut problems,
    );
    Ok(Parsed {
        document: Document { root, origins },
        problems,
    })
}

struct Ctx<'a> {
    file: &'a Path,
    text: &'a str,
    index: &'a LineIndex,
}

impl Ctx<'_> {
    fn origin(&self, offset: usize) -> Origin {
        self.index.origin(self.file, self.text, offset)
    }

    fn table(
        &self,
        t: &DeTable<'_>,
        path: &KeyPath,
        origins: &mut Origins,
        problems: &mut Vec<SyntaxError>,
    ) -> Map<String, Value> {
        let mut out = Map::new();
        for (k, v) in t {
            let key: &str = k.get_ref();
            let p = path.key(key);
            let key_origin = self.origin(k.span().start);
            origins.insert(p.clone(), Some(key_origin), self.origin(v.span().start));
            let value = self.value(v.get_ref(), &p, v.span().start, origins, problems);
            out.insert(key.to_string(), value);
        }
        out
    }

    fn value(
        &self,
        v: &DeValue<'_>,
        path: &KeyPath,
        offset: usize,
        origins: &mut Origins,
        problems: &mut Vec<SyntaxError>,
    ) -> Value {
        match v {
            DeValue::String(s) => Value::String(s.to_string()),
            DeValue::Integer(i) => {
                let digits = i.as_str().replace('_', "");
                if let Ok(n) = i64::from_str_radix(&digits, i.radix()) {
                    Value::from(n)
                } else if let Ok(n) = u64::from_str_radix(&digits, i.radix()) {
                    Value::from(n)
                } else {
                    problems.push(SyntaxError {
                        origin: self.origin(offset),
                        path: Some(path.clone()),
                        message: format!("{path}: the integer {i} does not fit in 64 bits"),
                    });
                    Value::Null
                }
            }
            DeValue::Float(f) => {
                if let Some(n) = f
                    .as_str()
                    .replace('_', "")
                    .parse::<f64>()
                    .ok()
                    .and_then(serde_json::Number::from_f64)
                {
                    Value::Number(n)
                } else {
                    problems.push(SyntaxError {
                        origin: self.origin(offset),
                        path: Some(path.clone()),
                        message: format!(
                            "{path}: {f} is not a finite number (nan and inf are not allowed)"
                        ),
                    });
                    Value::Null
                }
            }
            DeValue::Boolean(b) => Value::Bool(*b),
            DeValue::Datetime(d) => Value::String(d.to_string()),
            DeValue::Array(a) => Value::Array(
                a.iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let p = path.index(i);
                        origins.insert(p.clone(), None, self.origin(item.span().start));
                        self.value(item.get_ref(), &p, item.span().start, origins, problems)
                    })
                    .collect(),
            ),
            DeValue::Table(t) => Value::Object(self.table(t, path, origins, problems)),
        }
    }
}

/// Get the value at `path`.
pub fn get<'a>(root: &'a Map<String, Value>, path: &KeyPath) -> Option<&'a Value> {
    let mut segs = path.0.iter();
    let Some(Seg::Key(first)) = segs.next() else {
        return None;
    };
    let mut cur = root.get(first)?;
    for s in segs {
        cur = match (s, cur) {
            (Seg::Key(k), Value::Object(m)) => m.get(k)?,
            (Seg::Index(i), Value::Array(a)) => a.get(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Set the value at `path`, creating missing tables. Fails (with a reason) when the path
/// crosses a value that is not a table, or indexes past the end of a list.
pub fn set(root: &mut Map<String, Value>, path: &KeyPath, value: Value) -> Result<(), String> {
    if path.0.is_empty() {
        return Err("an empty path".into());
    }
    let mut holder = Value::Object(std::mem::take(root));
    let result = set_in(&mut holder, &path.0, &KeyPath::root(), value);
    if let Value::Object(m) = holder {
        *root = m;
    }
    result
}

fn set_in(node: &mut Value, segs: &[Seg], here: &KeyPath, value: Value) -> Result<(), String> {
    let Some((s, rest)) = segs.split_first() else {
        *node = value;
        return Ok(());
    };
    match (s, node) {
        (Seg::Key(k), Value::Object(m)) => {
            let child = m.entry(k.clone()).or_insert_with(|| {
                if rest.is_empty() {
                    Value::Null
                } else {
                    Value::Object(Map::new())
                }
            });
            set_in(child, rest, &here.key(k), value)
        }
        (Seg::Index(i), Value::Array(a)) => {
            let len = a.len();
            let child = a
                .get_mut(*i)
                .ok_or_else(|| format!("{here} has {len} entries; index {i} is out of range"))?;
            set_in(child, rest, &here.index(*i), value)
        }
        (Seg::Key(_), _) => Err(format!("{here} is not a table")),
        (Seg::Index(_), _) => Err(format!("{here} is not a list")),
    }
}

/// Remove the value at `path` so that defaults apply in its place. A path into a list
/// removes the whole list (removing one entry would shift the others' indices, and with them
/// the places later messages name). Nothing happens when there is no such value.
pub fn remove(root: &mut Map<String, Value>, path: &KeyPath) {
    let Some(last_key) = path.0.iter().rposition(|s| matches!(s, Seg::Key(_))) else {
        return;
    };
    let (parent, last) = path.0[..=last_key].split_at(last_key);
    let Some(Seg::Key(k)) = last.first() else {
        return;
    };
    if parent.is_empty() {
        root.remove(k);
    } else if let Some(Value::Object(m)) = get_mut(root, parent) {
        m.remove(k);
    }
}

fn get_mut<'a>(root: &'a mut Map<String, Value>, segs: &[Seg]) -> Option<&'a mut Value> {
    let (Seg::Key(first), rest) = segs.split_first()? else {
        return None;
    };
    let mut cur = root.get_mut(first)?;
    for s in rest {
        cur = match (s, cur) {
            (Seg::Key(k), Value::Object(m)) => m.get_mut(k)?,
            (Seg::Index(i), Value::Array(a)) => a.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Merge `over` into `base`: tables merge key by key, everything else (lists included) is
/// replaced. Returns the paths whose values were replaced or added (for origin bookkeeping).
pub fn merge(
    base: &mut Map<String, Value>,
    over: &Map<String, Value>,
    path: &KeyPath,
) -> Vec<KeyPath> {
    let mut touched = Vec::new();
    for (k, v) in over {
        let p = path.key(k);
        if let (Some(Value::Object(b)), Value::Object(o)) = (base.get_mut(k), v) {
            touched.extend(merge(b, o, &p));
        } else {
            base.insert(k.clone(), v.clone());
            touched.push(p);
        }
    }
    touched
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_parse_and_print() {
        for (s, printed) in [
            ("scaling.group_size", "scaling.group_size"),
            ("models[0].name", "models[0].name"),
            ("models.1.name", "models[1].name"),
            ("sweep.\"scaling.n\"", "sweep.\"scaling.n\""),
        ] {
            assert_eq!(KeyPath::parse(s).unwrap().to_string(), printed, "{s}");
        }
        for bad in ["", "a..b", "a.", "a[x]", "a b", "a.\"b"] {
            assert!(KeyPath::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn origins_have_lines() {
        let text = "[experiment]\nname = \"x\"\n\n[scaling]\nn = 4\n";
        let d = parse_toml(Path::new("c.toml"), text).unwrap().document;
        let o = d.origins.value(&KeyPath::parse("scaling.n").unwrap());
        assert_eq!(o.to_string(), "c.toml:5:5");
        let k = d.origins.key(&KeyPath::parse("scaling.n").unwrap());
        assert_eq!(k.to_string(), "c.toml:5:1");
        // a missing key falls back to its table
        let m = d.origins.value(&KeyPath::parse("scaling.k").unwrap());
        assert!(m.to_string().starts_with("c.toml:4:"), "{m}");
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let e = parse_toml(Path::new("c.toml"), "[a]\nx = \n").unwrap_err();
        assert!(e[0].origin.to_string().starts_with("c.toml:2:"), "{e:?}");
    }

    #[test]
    fn set_creates_tables_and_checks_bounds() {
        let mut m = Map::new();
        set(&mut m, &KeyPath::parse("a.b.c").unwrap(), Value::from(1)).unwrap();
        assert_eq!(
            get(&m, &KeyPath::parse("a.b.c").unwrap()),
            Some(&Value::from(1))
        );
        m.insert("l".into(), serde_json::json!([{"x": 1}]));
        set(&mut m, &KeyPath::parse("l[0].x").unwrap(), Value::from(2)).unwrap();
        assert_eq!(m["l"][0]["x"], 2);
        let e = set(&mut m, &KeyPath::parse("l[3].x").unwrap(), Value::from(2)).unwrap_err();
        assert!(e.contains("out of range"), "{e}");
        let e = set(&mut m, &KeyPath::parse("a.b.c.d").unwrap(), Value::from(2)).unwrap_err();
        assert!(e.contains("not a table"), "{e}");
    }

    #[test]
    fn merge_replaces_lists_and_merges_tables() {
        let mut base = serde_json::json!({"a": {"x": 1, "y": 2}, "l": [1, 2]});
        let over = serde_json::json!({"a": {"y": 3}, "l": [9]});
        let touched = merge(
            base.as_object_mut().unwrap(),
            over.as_object().unwrap(),
            &KeyPath::root(),
        );
        assert_eq!(base, serde_json::json!({"a": {"x": 1, "y": 3}, "l": [9]}));
        assert_eq!(touched.len(), 2);
    }
}

#[cfg(test)]
mod props {
    use proptest::prelude::*;

    use super::*;

    fn seg() -> impl Strategy<Value = Seg> {
        prop_oneof![
            "[a-z_][a-z0-9_-]{0,8}".prop_map(Seg::Key),
            "[a-z.]{1,6}".prop_map(Seg::Key),
            (0usize..20).prop_map(Seg::Index),
        ]
    }

    proptest! {
        /// Printing a key path and parsing it back gives the same path.
        #[test]
        fn key_paths_round_trip(first in "[a-z_][a-z0-9_]{0,8}", rest in proptest::collection::vec(seg(), 0..5)) {
            let mut segs = vec![Seg::Key(first)];
            segs.extend(rest);
            let p = KeyPath(segs);
            prop_assert_eq!(KeyPath::parse(&p.to_string()).unwrap(), p);
        }
    }
}
