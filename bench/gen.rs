//! Seeded generator of realistic Auth0 users (about 1.2 KB each, hostile text included) for the benchmark.
//!
//! The same seed always gives the same bytes, so every peer in the benchmark reads the same
//! input and their outputs can be compared by sha256. The user shape follows Auth0's
//! normalized profile: identities, app_metadata, user_metadata, ISO dates, E.164 phone numbers.
//! Strings are written with the crate's own `JSON.stringify` escaping, so the file is what a
//! Node program would have written.

use std::io::Write;

use userexport::write_json_string;

/// splitmix64: tiny, fast, and good enough to vary test data; no dependency needed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const GIVEN: &[&str] = &[
    "Ada",
    "Grace",
    "Linus",
    "Margaret",
    "José",
    "Zoë",
    "Björn",
    "Siobhán",
    "Ngọc",
    "Ólafur",
    "Yūki",
    "Мария",
    "محمد",
    "דוד",
    "李",
    "Priya",
    "O'Brien",
    "Jean-Luc",
    "=Eve",
    "+Mallory",
    "-Trent",
    "@Carol",
];
const FAMILY: &[&str] = &[
    "Lovelace",
    "Hopper",
    "Torvalds",
    "Hamilton",
    "García",
    "Müller",
    "Ødegård",
    "Nguyễn",
    "Kowalski",
    "Иванова",
    "الهاشمي",
    "כהן",
    "王",
    "Sharma",
    "D'Angelo",
    "\"Danger\" Mouse",
    "Smith, Jr.",
    "=1+2",
    "-2+3",
    "@SUM(A1:A9)",
];
const DOMAINS: &[&str] = &["example.com", "example.org", "mail.example.net", "corp.example.io", "例え.jp"];
const CITIES: &[&str] = &[
    "Paris",
    "São Paulo",
    "München",
    "Zürich",
    "東京",
    "القاهرة",
    "תל אביב",
    "Kraków",
    "Reykjavík",
    "New York, NY",
];
const COUNTRIES: &[&str] = &["FR", "BR", "DE", "CH", "JP", "EG", "IL", "PL", "IS", "US"];
const PLANS: &[&str] = &["free", "pro", "team", "enterprise"];
const ROLES: &[&str] = &["admin", "billing", "support", "editor", "viewer", "auditor"];
const LANGS: &[&str] = &["en", "fr", "de", "ja", "ar", "he", "pt-BR"];
const CONNECTIONS: &[&str] = &["Username-Password-Authentication", "google-oauth2", "github", "samlp-corp"];
/// Fragments that break naive CSV and JSON writers: quotes, separators, line breaks, controls,
/// bidi overrides, astral-plane emoji, formula starters.
const HOSTILE: &[&str] = &[
    "prefers \"quoted\" names",
    "a, b, and c",
    "line one\nline two",
    "windows\r\nline end",
    "lone\rcarriage",
    "tab\tseparated\tvalues",
    "bell\u{7}and\u{1}controls\u{1f}",
    "nul\u{0}inside",
    "日本語のメモ",
    "עברית ושלום",
    "مرحبا بالعالم",
    "\u{202e}reversed\u{202c} text",
    "emoji 🎉👩‍💻🇫🇷",
    "=HYPERLINK(\"http://evil.example\",\"click\")",
    "+1-555-0100",
    "-cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "back\\slash and /slash",
    "line\u{2028}separator\u{2029}para",
    "del\u{7f}char",
    "plain note about billing",
    "called support twice; resolved",
];

fn hex(rng: &mut Rng, n: usize, out: &mut String) {
    const H: &[u8; 16] = b"0123456789abcdef";
    for _ in 0..n {
        out.push(H[rng.below(16) as usize] as char);
    }
}

/// An Auth0 date: `YYYY-MM-DDTHH:MM:SS.mmmZ`.
fn date(rng: &mut Rng, from_year: u64) -> String {
    format!(
        "{}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        from_year + rng.below(2026 - from_year),
        1 + rng.below(12),
        1 + rng.below(28),
        rng.below(24),
        rng.below(60),
        rng.below(60),
        rng.below(1000)
    )
}

/// Writes JSON object members into a line with the separators handled.
struct Obj<'a> {
    out: &'a mut Vec<u8>,
    first: bool,
}

impl<'a> Obj<'a> {
    fn open(out: &'a mut Vec<u8>) -> Obj<'a> {
        out.push(b'{');
        Obj { out, first: true }
    }
    fn key(&mut self, k: &str) -> &mut Vec<u8> {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        write_json_string(self.out, k.as_bytes());
        self.out.push(b':');
        self.out
    }
    fn str(&mut self, k: &str, v: &str) {
        let out = self.key(k);
        write_json_string(out, v.as_bytes());
    }
    fn raw(&mut self, k: &str, v: &str) {
        self.key(k).extend_from_slice(v.as_bytes());
    }
    fn close(self) {
        self.out.push(b'}');
    }
}

fn str_array(out: &mut Vec<u8>, items: &[&str]) {
    out.push(b'[');
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_json_string(out, s.as_bytes());
    }
    out.push(b']');
}

/// Appends user number `n` as one NDJSON line.
pub fn user(rng: &mut Rng, n: u64, out: &mut Vec<u8>) {
    let connection = if rng.chance(70) { CONNECTIONS[0] } else { rng.pick(&CONNECTIONS[1..]) };
    let social = connection == "google-oauth2" || connection == "github";
    let provider = match connection {
        "Username-Password-Authentication" => "auth0",
        "samlp-corp" => "samlp",
        other => other,
    };
    let mut id = String::new();
    if social {
        id.push_str(&format!("{}", 100_000_000_000_000_000_000u128 + (rng.next() as u128) * 7 + n as u128));
    } else {
        hex(rng, 24, &mut id);
    }
    let given = rng.pick(GIVEN);
    let family = rng.pick(FAMILY);
    let email = format!(
        "{}.{}{}@{}",
        given.to_lowercase().replace(['"', ' ', ','], ""),
        family.to_lowercase().replace(['"', ' ', ','], ""),
        n,
        rng.pick(DOMAINS)
    );
    let created = date(rng, 2015);

    let mut o = Obj::open(out);
    o.str("user_id", &format!("{provider}|{id}"));
    o.str("email", &email);
    o.raw("email_verified", if social || rng.chance(80) { "true" } else { "false" });
    if !social && rng.chance(30) {
        o.str("username", &format!("{}_{n}", given.to_lowercase()));
    }
    if rng.chance(75) {
        o.str("phone_number", &format!("+{}{:010}", 1 + rng.below(98), rng.below(10_000_000_000)));
        o.raw("phone_verified", if rng.chance(50) { "true" } else { "false" });
    }
    o.str("name", &format!("{given} {family}"));
    o.str("given_name", given);
    o.str("family_name", family);
    o.str("nickname", &given.to_lowercase());
    let mut hash = String::new();
    hex(rng, 32, &mut hash);
    o.str(
        "picture",
        &format!(
            "https://s.gravatar.com/avatar/{hash}?s=480&r=pg&d=https%3A%2F%2Fcdn.auth0.com%2Favatars%2F{}.png",
            given.chars().next().unwrap_or('x').to_lowercase()
        ),
    );
    o.str("created_at", &created);
    o.str("updated_at", &date(rng, 2020));
    if rng.chance(90) {
        o.str("last_login", &date(rng, 2022));
    }
    o.raw("logins_count", &rng.below(5000).to_string());
    o.str("last_ip", &format!("203.0.{}.{}", rng.below(256), rng.below(256)));
    o.raw("blocked", if rng.chance(3) { "true" } else { "false" });
    o.str("locale", rng.pick(LANGS));
    if rng.chance(20) {
        str_array(o.key("multifactor"), &["guardian"]);
        o.str("multifactor_last_modified", &date(rng, 2021));
    }

    let ids = o.key("identities");
    ids.push(b'[');
    let mut ident = Obj::open(ids);
    ident.str("connection", connection);
    ident.str("provider", provider);
    ident.str("user_id", &id);
    ident.raw("isSocial", if social { "true" } else { "false" });
    ident.close();
    ids.push(b']');

    let app = o.key("app_metadata");
    let mut a = Obj::open(app);
    a.str("plan", rng.pick(PLANS));
    let roles: Vec<&str> = (0..rng.below(4)).map(|_| rng.pick(ROLES)).collect();
    str_array(a.key("roles"), &roles);
    if rng.chance(70) {
        let mut cus = String::from("cus_");
        hex(rng, 14, &mut cus);
        let stripe = a.key("stripe");
        stripe.push(b'[');
        let mut s = Obj::open(stripe);
        s.str("customer_id", &cus);
        s.raw("delinquent", if rng.chance(5) { "true" } else { "false" });
        s.close();
        stripe.push(b']');
    }
    a.close();

    let meta = o.key("user_metadata");
    let mut m = Obj::open(meta);
    let addr = m.key("address");
    let mut ad = Obj::open(addr);
    ad.str(
        "street",
        &format!("{} {} Street, Apt \"{}\"", 1 + rng.below(999), rng.pick(FAMILY), rng.below(50)),
    );
    ad.str("city", rng.pick(CITIES));
    ad.str("postal_code", &format!("{:05}", rng.below(100_000)));
    ad.str("country", rng.pick(COUNTRIES));
    ad.close();
    let prefs = m.key("preferences");
    let mut p = Obj::open(prefs);
    p.str("language", rng.pick(LANGS));
    p.raw("newsletter", if rng.chance(40) { "true" } else { "false" });
    p.str("theme", if rng.chance(50) { "dark" } else { "light" });
    p.close();
    // An ISO date inside user_metadata is user data: CSV must escape it, unlike top-level dates.
    m.str("signup_date", &created);
    let marketing = m.key("marketing");
    let mut mk = Obj::open(marketing);
    mk.str("utm_source", rng.pick(&["newsletter", "google", "partner", "twitter"]));
    mk.str("utm_campaign", &format!("spring-{}-{}", 2019 + rng.below(7), rng.pick(PLANS)));
    mk.close();
    if rng.chance(5) {
        m.raw("notes", "null");
    } else {
        let mut notes = String::new();
        for i in 0..1 + rng.below(4) {
            if i > 0 {
                notes.push_str(" | ");
            }
            notes.push_str(rng.pick(HOSTILE));
        }
        m.str("notes", &notes);
    }
    m.close();
    o.close();
    out.push(b'\n');
}

/// `count` users for `seed`, as NDJSON bytes.
pub fn ndjson(seed: u64, count: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(count as usize * 1300);
    for n in 0..count {
        user(&mut rng, n, &mut out);
    }
    out
}

/// Writes `count` users for `seed` to `path` (via a temporary file, so a half-written file is never mistaken for data).
pub fn write_file(path: &std::path::Path, seed: u64, count: u64) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut file = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp)?);
    let mut rng = Rng::new(seed);
    let mut line = Vec::with_capacity(4096);
    for n in 0..count {
        line.clear();
        user(&mut rng, n, &mut line);
        file.write_all(&line)?;
    }
    file.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    std::fs::rename(tmp, path)
}
