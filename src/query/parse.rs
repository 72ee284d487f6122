//! The query grammar: text to paths, terms and a boolean expression, with errors that say where and what.
//!
//! ```text
//! query   = or
//! or      = and { ["OR"] and }          (two clauses side by side are OR'ed, Lucene's default)
//! and     = unary { "AND" unary }
//! unary   = "NOT" unary | primary
//! primary = "(" or ")" | "_exists_:" path | path ":" value | value
//! value   = word | "phrase" | range | "(" or-of-values ")"
//! range   = ("[" | "{") bound "TO" bound ("]" | "}")
//! ```

use std::fmt;

use super::term::{fold, has_case, is_json_number, parse_date, Bound, BoundValue, Literal, RangeKind, Term};
use super::{Expr, QueryPath};

/// Why a query was refused: the 1-based character position and what was expected there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    /// 1-based position, in characters, of the place the query breaks.
    pub position: usize,
    /// What was expected there, or what is not allowed.
    pub expected: String,
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "query: position {}: {}", self.position, self.expected)
    }
}

impl std::error::Error for QueryError {}

/// Auth0's normalized fields, whose values compare case-insensitively.
const FOLDED: [&str; 5] = ["email", "name", "given_name", "family_name", "nickname"];
/// Top-level fields holding ISO timestamps: terms and ranges on them read dates.
const DATES: [&str; 5] =
    ["created_at", "updated_at", "last_login", "last_password_reset", "multifactor_last_modified"];
/// What a term with no field name is looked for in (never metadata, as Auth0 says).
pub(crate) const DEFAULT_FIELDS: [&str; 8] =
    ["user_id", "email", "username", "phone_number", "name", "given_name", "family_name", "nickname"];
/// Parentheses nested deeper than this are refused (the evaluator recurses over them).
const MAX_NESTING: usize = 32;
/// Fewest characters other than `*` in a pattern that starts with `*` (Auth0's suffix rule).
const MIN_SUFFIX_LITERALS: usize = 3;

pub(crate) struct Parsed {
    pub paths: Vec<QueryPath>,
    pub terms: Vec<Term>,
    pub expr: Expr,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Open,
    Close,
    /// `[` or `{`.
    RangeOpen(bool),
    /// `]` or `}`.
    RangeClose(bool),
    /// A word; `field` when a `:` follows it directly (the colon is consumed).
    Word {
        text: String,
        stars: Vec<usize>,
        question: Option<usize>,
        field: bool,
        plain: bool,
    },
    Phrase(String),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    /// 1-based character position of its first character.
    at: usize,
}

fn err<T>(at: usize, expected: impl Into<String>) -> Result<T, QueryError> {
    Err(QueryError { position: at, expected: expected.into() })
}

fn lex(text: &str) -> Result<(Vec<Token>, usize), QueryError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at = i + 1;
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Token { tok: Tok::Open, at });
                i += 1;
            }
            ')' => {
                out.push(Token { tok: Tok::Close, at });
                i += 1;
            }
            '[' | '{' => {
                out.push(Token { tok: Tok::RangeOpen(c == '['), at });
                i += 1;
            }
            ']' | '}' => {
                out.push(Token { tok: Tok::RangeClose(c == ']'), at });
                i += 1;
            }
            '"' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return err(at, "expected \" to close the phrase that starts here"),
                        Some('"') => {
                            i += 1;
                            break;
                        }
                        Some('\\') if i + 1 < chars.len() => {
                            s.push(chars[i + 1]);
                            i += 2;
                        }
                        Some(&c) => {
                            s.push(c);
                            i += 1;
                        }
                    }
                }
                out.push(Token { tok: Tok::Phrase(s), at });
            }
            ':' => return err(at, "expected a field name before ':'"),
            _ => {
                let mut s = String::new();
                let mut stars = Vec::new();
                let mut question = None;
                let mut plain = true;
                while let Some(&c) = chars.get(i) {
                    if c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']' | '{' | '}' | '"' | ':') {
                        break;
                    }
                    if c == '\\' {
                        match chars.get(i + 1) {
                            Some(&e) => {
                                s.push(e);
                                plain = false;
                                i += 2;
                            }
                            None => return err(i + 1, "expected a character after '\\'"),
                        }
                        continue;
                    }
                    if c == '*' {
                        stars.push(s.len());
                    } else if c == '?' && question.is_none() {
                        question = Some(i + 1);
                    }
                    s.push(c);
                    i += 1;
                }
                if chars.get(i) == Some(&'[') && chars.get(i + 1).is_some_and(char::is_ascii_digit) {
                    return err(
                        i + 1,
                        "expected ':' after the field name: query paths have no [n] (Auth0 skips array levels: write identities.connection)",
                    );
                }
                let field = chars.get(i) == Some(&':');
                if field {
                    i += 1;
                }
                out.push(Token { tok: Tok::Word { text: s, stars, question, field, plain }, at });
            }
        }
    }
    Ok((out, chars.len() + 1))
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
    end_at: usize,
    depth: usize,
    paths: Vec<QueryPath>,
    terms: Vec<Term>,
}

/// Where a value is looked for: a path (index into `paths`) and how the path reads values.
#[derive(Clone)]
struct Field {
    path: u32,
    name: String,
    fold: bool,
    date: bool,
    user_metadata: bool,
}

pub(crate) fn parse(text: &str) -> Result<Parsed, QueryError> {
    let (toks, end_at) = lex(text)?;
    let mut p = Parser { toks, pos: 0, end_at, depth: 0, paths: Vec::new(), terms: Vec::new() };
    if p.toks.is_empty() {
        return err(1, "expected a query, such as email:\"jane@example.com\"");
    }
    let expr = p.or(None)?;
    if let Some(t) = p.toks.get(p.pos) {
        return match t.tok {
            Tok::Close => err(t.at, "expected a clause or the end of the query, not ')' (no '(' opens it)"),
            _ => err(t.at, "expected AND, OR or the end of the query"),
        };
    }
    // Folding a value can only matter to a term with a cased letter, or to a range (whose
    // order it changes): a path whose terms have neither reads its values as they are.
    for path in &mut p.paths {
        path.fold = path.fold
            && path.terms.iter().any(|&t| match &p.terms[t as usize] {
                Term::Exists => false,
                Term::Equals(lit) => has_case(&lit.text),
                Term::Pattern { parts, .. } => parts.iter().any(|part| has_case(part)),
                Term::Range { .. } => true,
            });
    }
    Ok(Parsed { paths: p.paths, terms: p.terms, expr })
}

fn is_keyword(tok: &Tok, word: &str) -> bool {
    matches!(tok, Tok::Word { text, field: false, plain: true, .. } if text == word)
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.pos)
    }

    fn here(&self) -> usize {
        self.peek().map_or(self.end_at, |t| t.at)
    }

    fn peek_keyword(&self, word: &str) -> bool {
        self.peek().is_some_and(|t| is_keyword(&t.tok, word))
    }

    /// Can a clause start at the current token?
    fn at_clause(&self) -> bool {
        match self.peek() {
            None => false,
            Some(t) => match &t.tok {
                Tok::Close | Tok::RangeClose(_) => false,
                _ => !(self.peek_keyword("AND") || self.peek_keyword("OR") || self.peek_keyword("TO")),
            },
        }
    }

    fn or(&mut self, field: Option<&Field>) -> Result<Expr, QueryError> {
        let mut items = vec![self.and(field)?];
        loop {
            if self.peek_keyword("OR") {
                self.pos += 1;
                if !self.at_clause() {
                    return err(self.here(), "expected a clause after OR");
                }
                items.push(self.and(field)?);
            } else if self.at_clause() {
                items.push(self.and(field)?);
            } else {
                break;
            }
        }
        Ok(if items.len() == 1 { items.pop().expect("one") } else { Expr::Or(items) })
    }

    fn and(&mut self, field: Option<&Field>) -> Result<Expr, QueryError> {
        let mut items = vec![self.unary(field)?];
        while self.peek_keyword("AND") {
            self.pos += 1;
            if !self.at_clause() {
                return err(self.here(), "expected a clause after AND");
            }
            items.push(self.unary(field)?);
        }
        Ok(if items.len() == 1 { items.pop().expect("one") } else { Expr::And(items) })
    }

    fn unary(&mut self, field: Option<&Field>) -> Result<Expr, QueryError> {
        if self.peek_keyword("NOT") {
            self.pos += 1;
            if !self.at_clause() {
                return err(self.here(), "expected a clause after NOT");
            }
            return Ok(Expr::Not(Box::new(self.unary(field)?)));
        }
        self.primary(field)
    }

    fn primary(&mut self, field: Option<&Field>) -> Result<Expr, QueryError> {
        let Some(t) = self.peek().cloned() else {
            return err(self.end_at, "expected a clause");
        };
        match t.tok {
            Tok::Open => {
                self.pos += 1;
                self.group(t.at, field)
            }
            Tok::Word { ref text, field: true, plain, .. } => {
                if field.is_some() {
                    return err(t.at, "expected a value: a field name cannot appear inside field:( … )");
                }
                self.pos += 1;
                if text == "_exists_" && plain {
                    return self.exists(t.at);
                }
                let f = self.field(text, t.at)?;
                match self.peek().cloned() {
                    None => err(self.end_at, format!("expected a value after '{text}:'")),
                    Some(Token { tok: Tok::Open, at }) => {
                        self.pos += 1;
                        self.group(at, Some(&f))
                    }
                    Some(v) if ["AND", "OR", "NOT", "TO"].iter().any(|k| is_keyword(&v.tok, k)) => err(
                        v.at,
                        format!("expected a value after '{text}:' (quote it if it is the word itself)"),
                    ),
                    Some(_) => self.value(&f),
                }
            }
            Tok::Word { .. } | Tok::Phrase(_) | Tok::RangeOpen(_) => match field {
                Some(f) => self.value(f),
                None => {
                    if matches!(t.tok, Tok::RangeOpen(_)) {
                        return err(
                            t.at,
                            "expected a field name before a range, as in logins_count:[1 TO 5]",
                        );
                    }
                    // A term with no field: any of the default fields (never metadata).
                    let mut items = Vec::new();
                    let start = self.pos;
                    for name in DEFAULT_FIELDS {
                        self.pos = start;
                        let f = self.field(name, t.at)?;
                        items.push(self.value(&f)?);
                    }
                    Ok(Expr::Or(items))
                }
            },
            Tok::Close => err(t.at, "expected a clause before ')'"),
            Tok::RangeClose(_) => err(t.at, "expected a clause, not a range's closing bracket"),
        }
    }

    fn group(&mut self, open_at: usize, field: Option<&Field>) -> Result<Expr, QueryError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return err(open_at, format!("expected at most {MAX_NESTING} nested parentheses"));
        }
        if matches!(self.peek(), Some(Token { tok: Tok::Close, .. })) {
            return err(self.here(), "expected a clause inside the parentheses");
        }
        let e = self.or(field)?;
        match self.peek() {
            Some(Token { tok: Tok::Close, .. }) => {
                self.pos += 1;
                self.depth -= 1;
                Ok(e)
            }
            Some(t) => err(t.at, "expected ')' or AND / OR"),
            None => err(self.end_at, format!("expected ')' to close the '(' at position {open_at}")),
        }
    }

    fn exists(&mut self, at: usize) -> Result<Expr, QueryError> {
        match self.peek().cloned() {
            Some(Token { tok: Tok::Word { text, field: false, stars, question, .. }, at: name_at }) => {
                if !stars.is_empty() || question.is_some() {
                    return err(name_at, "expected a field name after _exists_: (no wildcards)");
                }
                self.pos += 1;
                let f = self.field(&text, name_at)?;
                Ok(Expr::Term(self.term(f.path, Term::Exists)))
            }
            Some(t) => err(t.at, "expected a field name after _exists_:"),
            None => err(self.end_at.max(at), "expected a field name after _exists_:"),
        }
    }

    /// Resolves a field name to its path (shared by every term on it).
    fn field(&mut self, name: &str, at: usize) -> Result<Field, QueryError> {
        let (keys, domain): (Vec<&str>, bool) =
            if name == "email.domain" { (vec!["email"], true) } else { (name.split('.').collect(), false) };
        if keys.iter().any(|k| k.is_empty()) {
            return err(at, format!("expected a field name with no empty key, not '{name}'"));
        }
        let top = keys.len() == 1;
        let fold = domain || (top && FOLDED.contains(&keys[0]));
        let date = top && DATES.contains(&keys[0]);
        let keys: Vec<String> = keys.into_iter().map(String::from).collect();
        let path = match self.paths.iter().position(|p| p.keys == keys && p.domain == domain) {
            Some(i) => i,
            None => {
                self.paths.push(QueryPath { keys: keys.clone(), fold, domain, terms: Vec::new() });
                self.paths.len() - 1
            }
        } as u32;
        Ok(Field { path, name: name.to_string(), fold, date, user_metadata: keys[0] == "user_metadata" })
    }

    fn term(&mut self, path: u32, term: Term) -> u32 {
        let id = self.terms.len() as u32;
        self.terms.push(term);
        self.paths[path as usize].terms.push(id);
        id
    }

    fn literal(&self, f: &Field, text: &str) -> Literal {
        let text = if f.fold { fold(text) } else { text.to_string() };
        Literal {
            number: is_json_number(&text),
            boolean: match text.as_str() {
                "true" => Some(true),
                "false" => Some(false),
                _ => None,
            },
            date: if f.date { parse_date(text.as_bytes()) } else { None },
            text,
        }
    }

    /// A word, phrase or range for field `f`.
    fn value(&mut self, f: &Field) -> Result<Expr, QueryError> {
        let t = self.peek().cloned().expect("the caller saw a token");
        self.pos += 1;
        let term = match t.tok {
            Tok::Phrase(text) => Term::Equals(self.literal(f, &text)),
            Tok::Word { text, stars, question, field: false, .. } => {
                if let Some(q) = question {
                    return err(
                        q,
                        "expected * as the wildcard: Auth0 does not support ? (write \\? for a literal ?)",
                    );
                }
                if stars.is_empty() {
                    Term::Equals(self.literal(f, &text))
                } else if text == "*" {
                    return err(t.at, format!("expected a value; for any value write _exists_:{}", f.name));
                } else {
                    self.pattern(f, &text, &stars, t.at)?
                }
            }
            Tok::RangeOpen(inclusive) => return self.range(f, inclusive, t.at),
            Tok::Word { field: true, .. } => {
                return err(
                    t.at,
                    "expected a value, not another field name (put the value in quotes if it holds ':')",
                )
            }
            Tok::Open | Tok::Close | Tok::RangeClose(_) => {
                return err(t.at, format!("expected a value for {}", f.name))
            }
        };
        Ok(Expr::Term(self.term(f.path, term)))
    }

    fn pattern(&mut self, f: &Field, text: &str, stars: &[usize], at: usize) -> Result<Term, QueryError> {
        if f.user_metadata {
            return err(at, "expected an exact value: Auth0 has no wildcards on user_metadata fields");
        }
        let mut parts = Vec::new();
        let mut last = 0;
        for &s in stars {
            if s > last {
                parts.push(&text[last..s]);
            }
            last = s + 1;
        }
        if last < text.len() {
            parts.push(&text[last..]);
        }
        let literals: usize = parts.iter().map(|p| p.chars().count()).sum();
        let anchored_start = stars[0] != 0;
        if !anchored_start && literals < MIN_SUFFIX_LITERALS {
            return err(
                at,
                format!("expected at least {MIN_SUFFIX_LITERALS} characters besides * in a pattern that starts with * (Auth0's rule)"),
            );
        }
        let parts = parts.into_iter().map(|p| if f.fold { fold(p) } else { p.to_string() }).collect();
        Ok(Term::Pattern {
            parts,
            anchored_start,
            anchored_end: *stars.last().expect("a star") != text.len() - 1,
        })
    }

    fn range(&mut self, f: &Field, low_inclusive: bool, at: usize) -> Result<Expr, QueryError> {
        if f.user_metadata {
            return err(at, "expected an exact value: Auth0 has no ranges on user_metadata fields");
        }
        let low = self.bound()?;
        if !self.peek_keyword("TO") {
            return err(self.here(), "expected TO in a range");
        }
        self.pos += 1;
        let high = self.bound()?;
        let high_inclusive = match self.peek() {
            Some(Token { tok: Tok::RangeClose(inclusive), .. }) => *inclusive,
            Some(t) => return err(t.at, "expected ] or } to close the range"),
            None => return err(self.end_at, "expected ] or } to close the range"),
        };
        self.pos += 1;
        if low.is_none() && high.is_none() {
            // `[* TO *]` is any value at all, as in Lucene.
            return Ok(Expr::Term(self.term(f.path, Term::Exists)));
        }
        let given: Vec<&(String, usize)> = [&low, &high].into_iter().flatten().collect();
        let kind = if f.date && given.iter().all(|(t, _)| parse_date(t.as_bytes()).is_some()) {
            RangeKind::Date
        } else if f.date {
            let (t, a) = given
                .iter()
                .find(|(t, _)| parse_date(t.as_bytes()).is_none())
                .expect("a bound is not a date");
            return err(*a, format!("expected a date (2017, 2017-12, 2017-12-31 or an ISO timestamp) in a range on {}, not '{t}'", f.name));
        } else if given.iter().all(|(t, _)| is_json_number(t)) {
            RangeKind::Number
        } else if given.iter().any(|(t, _)| is_json_number(t)) {
            let (t, a) = given.iter().find(|(t, _)| !is_json_number(t)).expect("a bound is not a number");
            return err(*a, format!("expected both bounds to be numbers, or neither; '{t}' is not a number"));
        } else {
            RangeKind::Text
        };
        let to_bound = |b: Option<(String, usize)>, inclusive: bool| match b {
            None => Bound::Open,
            Some((t, _)) => {
                let v = match kind {
                    RangeKind::Date => BoundValue::Date(parse_date(t.as_bytes()).expect("checked above")),
                    RangeKind::Number => BoundValue::Number(t),
                    RangeKind::Text => BoundValue::Text(if f.fold { fold(&t) } else { t }),
                };
                if inclusive {
                    Bound::Inclusive(v)
                } else {
                    Bound::Exclusive(v)
                }
            }
        };
        let term =
            Term::Range { kind, low: to_bound(low, low_inclusive), high: to_bound(high, high_inclusive) };
        Ok(Expr::Term(self.term(f.path, term)))
    }

    /// One end of a range: `*` (open), a word or a phrase; with its position.
    fn bound(&mut self) -> Result<Option<(String, usize)>, QueryError> {
        let Some(t) = self.peek().cloned() else {
            return err(self.end_at, "expected a range bound (a value or *)");
        };
        self.pos += 1;
        match t.tok {
            Tok::Word { text, stars, field: false, .. } if text == "*" && stars.len() == 1 => Ok(None),
            Tok::Word { stars, .. } if !stars.is_empty() => {
                err(t.at, "expected a value or * alone as a range bound, not a pattern")
            }
            Tok::Word { text, field: false, .. } if text == "TO" => {
                err(t.at, "expected a range bound before TO")
            }
            Tok::Word { text, field: false, .. } | Tok::Phrase(text) => Ok(Some((text, t.at))),
            _ => err(t.at, "expected a range bound (a value or *)"),
        }
    }
}
