//! Auth0's user-search query (version 3 syntax), compiled once and evaluated on values met in a stream.
//!
//! A leaf of the crate (it imports only the crate's error): it knows nothing of records,
//! scanners or output. [`Query::parse`] turns
//! the text into terms, each bound to a path; whoever walks a record reports every value it meets
//! at a query path to [`Query::observe`], which sets one bit per term that holds; after the record,
//! [`Query::eval`] combines the bits with the query's AND / OR / NOT. No tree per user: a
//! record costs the values at the query's paths and one walk of the (small) boolean expression.
//! COMPATIBILITY.md ("User search query") says what Auth0 documents and what we decided.

mod parse;
mod term;

pub use parse::QueryError;

use crate::error::{Error, ErrorCode};

use term::{decode_json_string, fold_into, Term, TermTest};

/// One value met at a query path, as raw JSON text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryValue<'a> {
    /// A string's text between its quotes; `escaped` when it holds a backslash.
    Str {
        /// The bytes between the quotes, escapes undecoded.
        raw: &'a [u8],
        /// Whether `raw` holds a `\` escape.
        escaped: bool,
    },
    /// A number's text, as in the input.
    Num(&'a [u8]),
    /// `true` or `false`.
    Bool(bool),
    /// `null` (never indexed by Auth0: no term matches it, and it does not exist).
    Null,
    /// An object; `empty` when it has no member. Only `_exists_` looks at it.
    Object {
        /// `{}`.
        empty: bool,
    },
}

/// A path the query reads: keys from the record's top level. Arrays met on the way are
/// transparent (Auth0 "ignores the array level"): every element is read at the same path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryPath {
    keys: Vec<String>,
    /// Auth0's normalized fields compare case-insensitively.
    fold: bool,
    /// `email.domain`: the part of `email` after its last `@`.
    domain: bool,
    /// The terms bound to this path.
    terms: Vec<u32>,
}

impl QueryPath {
    /// The keys of the path (`["identities", "connection"]`); `email.domain` reads `["email"]`.
    pub fn keys(&self) -> &[String] {
        &self.keys
    }
}

/// The boolean shape of a query over its terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Expr {
    Term(u32),
    Not(Box<Expr>),
    And(Vec<Expr>),
    Or(Vec<Expr>),
}

/// A compiled query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    text: String,
    paths: Vec<QueryPath>,
    terms: Vec<Term>,
    expr: Expr,
}

/// The term results of one record: one bit per term, set when some value made it hold.
#[derive(Debug, Clone, Default)]
pub struct Hits {
    words: Vec<u64>,
}

impl Hits {
    /// True before it is sized for a query (see [`Query::new_hits`]).
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Forgets the previous record.
    #[inline]
    pub fn clear(&mut self) {
        self.words.iter_mut().for_each(|w| *w = 0);
    }

    #[inline]
    fn get(&self, term: u32) -> bool {
        self.words[(term / 64) as usize] >> (term % 64) & 1 == 1
    }

    #[inline]
    fn set(&mut self, term: u32) {
        self.words[(term / 64) as usize] |= 1 << (term % 64);
    }
}

/// Buffers reused across values, so observing a value allocates nothing once they have grown.
#[derive(Debug, Default)]
pub struct Scratch {
    decoded: Vec<u8>,
    folded: Vec<u8>,
}

impl Query {
    /// Compiles `text`, or says where it breaks and what was expected there.
    pub fn parse(text: &str) -> Result<Query, QueryError> {
        let parsed = parse::parse(text)?;
        Ok(Query { text: text.to_string(), paths: parsed.paths, terms: parsed.terms, expr: parsed.expr })
    }

    /// The query as it was written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The paths whose values the query needs, indexed as [`Query::observe`] takes them.
    pub fn paths(&self) -> &[QueryPath] {
        &self.paths
    }

    /// An all-clear result set sized for this query.
    pub fn new_hits(&self) -> Hits {
        Hits { words: vec![0; self.terms.len().div_ceil(64)] }
    }

    /// Tests `value`, met at path number `path`, against that path's terms.
    pub fn observe(&self, path: usize, value: QueryValue<'_>, hits: &mut Hits, scratch: &mut Scratch) {
        self.observe_at(&[path as u32], value, hits, scratch);
    }

    /// Tests `value`, met where the paths `paths` all end (`email` and `email.domain`, say),
    /// against their terms: a string is decoded and case-folded once for all of them.
    pub fn observe_at(&self, paths: &[u32], value: QueryValue<'_>, hits: &mut Hits, scratch: &mut Scratch) {
        let (raw, escaped) = match value {
            QueryValue::Null => return,
            QueryValue::Str { raw, escaped } => (raw, escaped),
            other => {
                let test = match other {
                    QueryValue::Object { empty } => TermTest::Object { empty },
                    QueryValue::Bool(b) => TermTest::Bool(b),
                    QueryValue::Num(raw) => TermTest::Num(raw),
                    _ => unreachable!("null and strings are handled above"),
                };
                for &p in paths {
                    self.test_terms(&self.paths[p as usize], &test, hits);
                }
                return;
            }
        };
        let plain: &[u8] = if escaped {
            scratch.decoded.clear();
            decode_json_string(raw, &mut scratch.decoded);
            &scratch.decoded
        } else {
            raw
        };
        // Folded at most once, when the first path that needs it is reached.
        let mut folded = Folded::NotYet;
        for &p in paths {
            let path = &self.paths[p as usize];
            if path.terms.iter().all(|&t| hits.get(t)) {
                continue;
            }
            if path.fold && folded == Folded::NotYet {
                folded = fold_bytes(plain, &mut scratch.folded);
            }
            let mut bytes = match (path.fold, folded) {
                (false, _) | (true, Folded::Unchanged) => plain,
                (true, Folded::Written) => &scratch.folded[..],
                // The scanner has checked UTF-8; bytes that are not (a caller's test) match nothing.
                (true, _) => return,
            };
            if path.domain {
                // Folding never makes or removes an '@', so cutting after folding is the same.
                match bytes.iter().rposition(|&b| b == b'@') {
                    Some(at) => bytes = &bytes[at + 1..],
                    None => continue,
                }
            }
            self.test_terms(path, &TermTest::Str(bytes), hits);
        }
    }

    fn test_terms(&self, path: &QueryPath, test: &TermTest<'_>, hits: &mut Hits) {
        for &t in &path.terms {
            if !hits.get(t) && self.terms[t as usize].holds(test) {
                hits.set(t);
            }
        }
    }

    /// Whether the record whose values set `hits` matches the query.
    pub fn eval(&self, hits: &Hits) -> bool {
        eval(&self.expr, hits)
    }
}

/// Where the case-folded form of a string is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Folded {
    NotYet,
    /// Folding changes nothing: the string itself.
    Unchanged,
    /// In the scratch buffer.
    Written,
    /// The bytes are not UTF-8.
    Invalid,
}

/// Folds `bytes` into `out` when folding changes them.
fn fold_bytes(bytes: &[u8], out: &mut Vec<u8>) -> Folded {
    if bytes.is_ascii() {
        if !bytes.iter().any(u8::is_ascii_uppercase) {
            return Folded::Unchanged;
        }
        out.clear();
        out.extend_from_slice(bytes);
        out.make_ascii_lowercase();
        return Folded::Written;
    }
    if fold_into(bytes, out) {
        Folded::Written
    } else {
        Folded::Invalid
    }
}

/// A bad query as the crate's error: `invalid_query` (Auth0's 400 `invalid_query_string`).
impl From<QueryError> for Error {
    fn from(e: QueryError) -> Error {
        Error::new(ErrorCode::InvalidQuery, e.to_string())
    }
}

fn eval(expr: &Expr, hits: &Hits) -> bool {
    match expr {
        Expr::Term(t) => hits.get(*t),
        Expr::Not(e) => !eval(e, hits),
        Expr::And(es) => es.iter().all(|e| eval(e, hits)),
        Expr::Or(es) => es.iter().any(|e| eval(e, hits)),
    }
}

#[cfg(test)]
mod tests;
