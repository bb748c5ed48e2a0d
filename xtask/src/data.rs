//! Deterministic synthetic Analytics exports.
//!
//! Every number comes from a seeded PRNG keyed by (seed, user, date), so a user's activity on a
//! date is the same whatever the dataset size, the date filter or the granularity asked for: a
//! `users=5` dataset is a prefix of the 80-user demo, and the four granularities are exact
//! aggregates of the finest one (`by_user_day_client_language`). Rates are recomputed per emitted
//! row from that row's own parts, as in the real export.
//!
//! Memory is O(one user): rows are generated for one user, aggregated, written, and dropped.

use std::fmt;
use std::str::FromStr;

/// Token the mock accepts (`Authorization: Bearer sgdemo-local-token`). Not a secret.
pub const DEMO_TOKEN: &str = "sgdemo-local-token";
/// Users in the default demo dataset.
pub const DEMO_USERS: u32 = 80;
/// Days in the default demo dataset.
pub const DEMO_DAYS: u32 = 180;
/// First day of the default demo dataset.
pub const DEMO_START: &str = "2025-01-01";
/// PRNG seed of every dataset.
pub const DEMO_SEED: u64 = 0x5347_414e_414c_5954; // "SGANALYT"

/// Target size of the chunks [`Export`] yields.
pub const CHUNK_TARGET: usize = 64 * 1024;

/// The export's granularity (`granularity` query parameter).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Granularity {
    /// One row per user.
    ByUser,
    /// One row per user and month (`Timestamp Month` = `YYYY-MM-01`).
    ByUserMonth,
    /// One row per user and day.
    ByUserDay,
    /// One row per user, client, day and language; the API's default.
    ByUserDayClientLanguage,
}

impl Granularity {
    /// All granularities, coarsest first.
    pub const ALL: [Granularity; 4] = [
        Granularity::ByUser,
        Granularity::ByUserMonth,
        Granularity::ByUserDay,
        Granularity::ByUserDayClientLanguage,
    ];

    /// The API's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Granularity::ByUser => "by_user",
            Granularity::ByUserMonth => "by_user_month",
            Granularity::ByUserDay => "by_user_day",
            Granularity::ByUserDayClientLanguage => "by_user_day_client_language",
        }
    }

    /// The CSV header line (with `\n`) of this granularity, in the documented column order.
    pub fn header(self) -> String {
        let mut cols: Vec<&str> = vec![
            "Instance user ID",
            "User Email",
            "Username",
            "Active Sourcegraph User",
        ];
        match self {
            Granularity::ByUser => {}
            Granularity::ByUserMonth => cols.push("Timestamp Month"),
            Granularity::ByUserDay => cols.push("Timestamp Date"),
            Granularity::ByUserDayClientLanguage => {
                cols.extend(["Client Name", "Timestamp Date", "Language"])
            }
        }
        cols.extend(METRIC_COLUMNS);
        let mut line = cols.join(",");
        line.push('\n');
        line
    }
}

impl FromStr for Granularity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Granularity::ALL
            .into_iter()
            .find(|g| g.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown granularity {s:?}: expected by_user, by_user_month, by_user_day or \
                     by_user_day_client_language"
                )
            })
    }
}

impl fmt::Display for Granularity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The metric columns, in the documented order.
pub const METRIC_COLUMNS: [&str; 18] = [
    "Searches",
    "Code Navigation Events",
    "Code Insight Views",
    "Chat Events",
    "Command Events",
    "Combined Completion Suggestions",
    "Combined Completion Acceptances",
    "Total Accepted Char Count",
    "Combined CAR",
    "Weighted CAR",
    "Total Characters Written by Cody",
    "Total Characters Written",
    "Percentage of Code Written by Cody",
    "Auto-edit suggested events",
    "Auto-edit accepted events",
    "Auto-edit acceptance rate",
    "Lines changed by chats and commands",
    "Lines changed by completions and auto-edits",
];

// Indices into the additive counters of a row.
const SEARCHES: usize = 0;
const CODE_NAV: usize = 1;
const INSIGHTS: usize = 2;
const CHAT: usize = 3;
const COMMANDS: usize = 4;
const SUGGESTIONS: usize = 5;
const ACCEPTANCES: usize = 6;
const ACCEPTED_CHARS: usize = 7;
const CODY_CHARS: usize = 8;
const TOTAL_CHARS: usize = 9;
const AE_SUGGESTED: usize = 10;
const AE_ACCEPTED: usize = 11;
const LINES_CHAT: usize = 12;
const LINES_COMPLETION: usize = 13;
const COUNTERS: usize = 14;

const CLIENTS: [&str; 7] = [
    "vscode.cody",
    "jetbrains.cody",
    "visualstudio.cody",
    "eclipse.cody",
    "server.web",
    "server.svelte-web",
    "cli",
];
const IDE_CLIENTS: usize = 4; // CLIENTS[..4] are editors
const WEB: u8 = 4;
const SVELTE_WEB: u8 = 5;
const CLI: u8 = 6;

// Index 0 is the blank language.
const LANGUAGES: [&str; 12] = [
    "",
    "typescript",
    "python",
    "go",
    "java",
    "csharp",
    "rust",
    "ruby",
    "sql",
    "kotlin",
    "cpp",
    "php",
];

const FIRST_NAMES: [&str; 16] = [
    "eva", "alex", "noor", "omar", "maria", "li", "sam", "priya", "jonas", "fatima", "diego",
    "mei", "ivan", "aisha", "tom", "yuki",
];
const LAST_NAMES: [&str; 12] = [
    "chen", "kim", "okafor", "muller", "novak", "smith", "garcia", "tanaka", "singh", "rossi",
    "haddad", "berg",
];

/// A calendar day as days since 1970-01-01.
pub type Day = i64;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> Day {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// The (year, month, day) of a day number (Howard Hinnant's `civil_from_days`).
pub fn civil_from_days(z: Day) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

/// Parses a strict `YYYY-MM-DD` calendar date.
pub fn parse_date(s: &str) -> Result<Day, String> {
    let bad = || format!("invalid date {s:?}: expected YYYY-MM-DD");
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(bad());
    }
    let digits = |r: std::ops::Range<usize>| -> Result<u32, String> {
        let part = &s[r];
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        part.parse().map_err(|_| bad())
    };
    let (y, m, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    if !(1..=12).contains(&m) || d == 0 {
        return Err(bad());
    }
    let day = days_from_civil(y as i64, m, d);
    // Reject 2025-02-30 and the like: the round trip must give the same date back.
    if civil_from_days(day) != (y as i64, m, d) {
        return Err(bad());
    }
    Ok(day)
}

/// Formats a day number as `YYYY-MM-DD`.
pub fn format_date(day: Day) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The first day of the month `day` is in.
pub fn month_start(day: Day) -> Day {
    let (y, m, _) = civil_from_days(day);
    days_from_civil(y, m, 1)
}

/// 0 = Monday … 6 = Sunday.
pub fn weekday(day: Day) -> u32 {
    (day + 3).rem_euclid(7) as u32
}

/// SplitMix64: tiny, fast, and good enough for synthetic data.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator whose stream is a function of the seed only.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// A count with mean about `mean`, spread like real usage (uniform on `[0, 2·mean]`,
    /// rounded stochastically).
    fn count(&mut self, mean: f64) -> u64 {
        if mean <= 0.0 {
            return 0;
        }
        let x = self.unit() * 2.0 * mean;
        let whole = x.floor();
        whole as u64 + u64::from(self.chance(x - whole))
    }

    /// Binomial-ish: about `n · p` successes out of `n`, never more than `n`.
    fn successes(&mut self, n: u64, p: f64) -> u64 {
        if n == 0 {
            return 0;
        }
        let jitter = 0.7 + 0.6 * self.unit();
        let x = n as f64 * p * jitter;
        let k = x.floor() as u64 + u64::from(self.chance(x - x.floor()));
        k.min(n)
    }
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The demo people file's teams: name, department, and weight (so the teams differ in size).
const PEOPLE_TEAMS: [(&str, &str, u64); 5] = [
    ("Search", "Product", 5),
    ("Cloud", "Platform", 4),
    ("Code Intel", "Product", 3),
    ("Security", "Platform", 2),
    ("Sales Engineering", "Field", 1),
];

/// The size and time span of a synthetic dataset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dataset {
    /// Number of users (user `i` is the same in every dataset that has it).
    pub users: u32,
    /// First day.
    pub start: Day,
    /// Number of days.
    pub days: u32,
    /// PRNG seed.
    pub seed: u64,
}

impl Default for Dataset {
    fn default() -> Dataset {
        Dataset {
            users: DEMO_USERS,
            start: parse_date(DEMO_START).expect("DEMO_START is a valid date"),
            days: DEMO_DAYS,
            seed: DEMO_SEED,
        }
    }
}

/// An inclusive date filter (`startDate`, `endDate`); either bound alone applies alone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DateRange {
    /// First day kept.
    pub from: Option<Day>,
    /// Last day kept.
    pub to: Option<Day>,
}

impl DateRange {
    /// Whether `day` passes the filter.
    pub fn contains(&self, day: Day) -> bool {
        self.from.is_none_or(|f| day >= f) && self.to.is_none_or(|t| day <= t)
    }
}

/// A synthetic user.
#[derive(Clone, Debug)]
pub struct User {
    /// Position in the dataset.
    pub index: u32,
    /// `Instance user ID`.
    pub id: u64,
    /// `User Email` (blank for a few users, as on instances without the metadata addendum).
    pub email: String,
    /// `Username` (blank for a few users).
    pub username: String,
    /// `Active Sourcegraph User`.
    pub active: bool,
    /// Registry: `Service Account`.
    pub service_account: bool,
    /// Registry: `Site Admin`.
    pub site_admin: bool,
    /// Every metric cell of this user's rows is blank (active, but nothing the CSV tracks).
    pub blank_metrics: bool,
    profile: Profile,
}

#[derive(Clone, Debug)]
struct Profile {
    /// Probability of activity on a weekday and on a weekend day.
    p_weekday: f64,
    p_weekend: f64,
    /// Active only from/to these dataset day offsets.
    first_offset: u32,
    last_offset: u32,
    /// Away (no activity) on these dataset day offsets, inclusive: a user who churns and comes
    /// back, so growth accounting has resurrected users and retention curves dip and recover.
    away: Option<(u32, u32)>,
    /// A seat that is never used: in the registry, never in the export.
    unused: bool,
    /// Editor clients (indices into CLIENTS) with the main one first; empty for web-only users.
    ides: Vec<u8>,
    /// Probability of using the web app / the CLI on an active day.
    p_web: f64,
    p_cli: f64,
    /// Languages the user writes (indices into LANGUAGES, never 0).
    languages: Vec<u8>,
    /// Base completion acceptance rate.
    car: f64,
    /// Uses auto-edit at all, and its acceptance rate.
    auto_edit: bool,
    ae_rate: f64,
    /// Scales every count.
    intensity: f64,
}

impl Dataset {
    /// The user at `index` (the same in every dataset with at least `index + 1` users).
    pub fn user(&self, index: u32) -> User {
        let mut rng = Rng::new(self.seed ^ mix(u64::from(index).wrapping_add(0xA5A5)));
        let first = FIRST_NAMES[rng.below(FIRST_NAMES.len() as u64) as usize];
        let last = LAST_NAMES[rng.below(LAST_NAMES.len() as u64) as usize];
        let service_account = index % 16 == 9;
        let mut username = if service_account {
            format!("svc-ci-bot{index}")
        } else {
            format!("{first}.{last}{index}")
        };
        let mut email = format!("{username}@example.com");
        if index % 29 == 13 {
            // No metadata addendum: neither e-mail nor username.
            email.clear();
            username.clear();
        } else if index % 31 == 7 {
            email.clear();
        }
        let active = index % 19 != 17;
        let blank_metrics = index % 37 == 20;
        let site_admin = index.is_multiple_of(25);

        let p_weekday = if active {
            0.35 + 0.55 * rng.unit()
        } else {
            0.06
        };
        let p_weekend = if service_account {
            p_weekday
        } else {
            p_weekday * (0.03 + 0.1 * rng.unit())
        };
        let span = self.days.max(1);
        let first_offset = if rng.chance(0.2) {
            rng.below(u64::from(span / 2 + 1)) as u32
        } else {
            0
        };
        let last_offset = if rng.chance(0.1) {
            (span / 2 + rng.below(u64::from(span / 2 + 1)) as u32).min(span - 1)
        } else {
            span - 1
        };
        let web_only = !service_account && rng.chance(0.12);
        let mut ides = Vec::new();
        if !web_only && !service_account {
            // VS Code is the most common editor, then JetBrains.
            let main = match rng.below(20) {
                0..=10 => 0,
                11..=16 => 1,
                17..=18 => 2,
                _ => 3,
            };
            ides.push(main);
            if rng.chance(0.15) {
                ides.push((main + 1) % IDE_CLIENTS as u8);
            }
        }
        let n_langs = rng.range(1, 3) as usize;
        let mut languages = Vec::with_capacity(n_langs);
        while languages.len() < n_langs {
            let l = rng.range(1, LANGUAGES.len() as u64 - 1) as u8;
            if !languages.contains(&l) {
                languages.push(l);
            }
        }
        let mut profile = Profile {
            p_weekday,
            p_weekend,
            first_offset,
            last_offset,
            away: None,
            unused: index % 23 == 22,
            ides,
            p_web: if web_only {
                1.0
            } else if service_account {
                0.0
            } else {
                0.2 + 0.5 * rng.unit()
            },
            p_cli: if service_account {
                1.0
            } else {
                0.04 * rng.unit()
            },
            languages,
            car: 0.12 + 0.3 * rng.unit(),
            auto_edit: rng.chance(0.55),
            ae_rate: 0.15 + 0.25 * rng.unit(),
            intensity: 0.4 + 1.4 * rng.unit(),
        };
        // Drawn after everything else, so every other trait of a user is what it was before
        // breaks existed. A break of 5 to 11 weeks spans whole weeks and often a whole calendar
        // month, so both week and month periods see the user churn and return.
        if rng.chance(0.25) && last_offset > first_offset + 42 {
            let start = first_offset + rng.below(u64::from(last_offset - first_offset - 35)) as u32;
            let len = rng.range(35, 77) as u32;
            profile.away = Some((start, (start + len).min(last_offset)));
        }
        User {
            index,
            id: 1000 + 7 * u64::from(index),
            email,
            username,
            active,
            service_account,
            site_admin,
            blank_metrics,
            profile,
        }
    }

    /// All days of the dataset that pass `range`.
    pub fn days_in(&self, range: DateRange) -> impl Iterator<Item = Day> + '_ {
        (self.start..self.start + i64::from(self.days)).filter(move |d| range.contains(*d))
    }

    /// Appends `user`'s finest-grain rows within `range` to `out`, ordered by date.
    pub fn user_rows(&self, user: &User, range: DateRange, out: &mut Vec<Row>) {
        let p = &user.profile;
        if self.days == 0 || p.unused {
            return;
        }
        for offset in p.first_offset..=p.last_offset.min(self.days.saturating_sub(1)) {
            let day = self.start + i64::from(offset);
            if !range.contains(day)
                || p.away
                    .is_some_and(|(from, to)| (from..=to).contains(&offset))
            {
                continue;
            }
            // Keyed by the absolute date, so a day's activity does not depend on the dataset's
            // start, length or filter.
            let mut rng =
                Rng::new(self.seed ^ mix(u64::from(user.index)) ^ mix(day as u64 ^ 0x00D0_0D1E));
            let weekend = weekday(day) >= 5;
            if !rng.chance(if weekend { p.p_weekend } else { p.p_weekday }) {
                continue;
            }
            if user.blank_metrics {
                out.push(Row {
                    day,
                    client: WEB,
                    language: 0,
                    m: [0; COUNTERS],
                    blank: true,
                });
                continue;
            }
            let busy = p.intensity * (0.3 + 1.4 * rng.unit());
            let before = out.len();
            self.editor_rows(p, day, busy, &mut rng, out);
            if rng.chance(p.p_web) {
                let client = if rng.chance(0.12) { SVELTE_WEB } else { WEB };
                let mut m = [0; COUNTERS];
                m[SEARCHES] = rng.count(4.0 * busy);
                m[CODE_NAV] = rng.count(3.0 * busy);
                m[INSIGHTS] = if rng.chance(0.1) { rng.range(1, 3) } else { 0 };
                m[CHAT] = rng.count(2.5 * busy);
                out.push(Row::new(day, client, 0, m));
            }
            if rng.chance(p.p_cli) {
                let mut m = [0; COUNTERS];
                if p.ides.is_empty() && p.p_web == 0.0 {
                    // Service accounts: scripted searches, every day they run.
                    m[SEARCHES] = rng.count(120.0 * p.intensity);
                } else {
                    m[CHAT] = rng.count(2.0 * busy);
                    m[COMMANDS] = rng.count(1.0 * busy);
                    m[LINES_CHAT] = m[COMMANDS] * rng.range(0, 12);
                }
                out.push(Row::new(day, CLI, 0, m));
            }
            if out.len() == before {
                // An active day always leaves a row, even one of zeros (as the real export does).
                out.push(Row::new(day, WEB, 0, [0; COUNTERS]));
            }
        }
    }

    fn editor_rows(&self, p: &Profile, day: Day, busy: f64, rng: &mut Rng, out: &mut Vec<Row>) {
        for (k, &client) in p.ides.iter().enumerate() {
            if k > 0 && !rng.chance(0.3) {
                continue;
            }
            let n_langs = if p.languages.len() > 1 && rng.chance(0.35) {
                2
            } else {
                1
            };
            let pick = rng.below(p.languages.len() as u64) as usize;
            for j in 0..n_langs {
                let lang = p.languages[(pick + j) % p.languages.len()];
                let mut m = [0; COUNTERS];
                m[CODE_NAV] = rng.count(1.5 * busy);
                m[SUGGESTIONS] = rng.count(22.0 * busy);
                m[ACCEPTANCES] = rng.successes(m[SUGGESTIONS], p.car);
                m[ACCEPTED_CHARS] = m[ACCEPTANCES] * rng.range(25, 90);
                if p.auto_edit {
                    m[AE_SUGGESTED] = rng.count(8.0 * busy);
                    m[AE_ACCEPTED] = rng.successes(m[AE_SUGGESTED], p.ae_rate);
                }
                m[CODY_CHARS] = m[ACCEPTED_CHARS] + m[AE_ACCEPTED] * rng.range(10, 60);
                m[TOTAL_CHARS] = m[CODY_CHARS] + rng.count(2500.0 * busy);
                m[LINES_COMPLETION] = (m[ACCEPTED_CHARS] + m[AE_ACCEPTED] * 40) / 45;
                out.push(Row::new(day, client, lang, m));
            }
            // Chat and commands in the editor carry no language.
            if rng.chance(0.55) {
                let mut m = [0; COUNTERS];
                m[CHAT] = rng.count(4.0 * busy);
                m[COMMANDS] = rng.count(0.8 * busy);
                m[LINES_CHAT] = (m[CHAT] + m[COMMANDS]) * rng.range(0, 15);
                out.push(Row::new(day, client, 0, m));
            }
        }
    }

    /// The whole dataset as an export of `granularity` within `range`, in chunks of about
    /// [`CHUNK_TARGET`] bytes (the first chunk starts with the header).
    pub fn export(&self, granularity: Granularity, range: DateRange) -> Export {
        Export {
            dataset: self.clone(),
            granularity,
            range,
            next_user: 0,
            header_done: false,
            rows: Vec::new(),
            chunk_target: CHUNK_TARGET,
        }
    }

    /// The user registry CSV (`Instance user ID,Service Account,Site Admin`).
    pub fn registry_csv(&self) -> String {
        let mut s = String::from("Instance user ID,Service Account,Site Admin\n");
        for i in 0..self.users {
            let u = self.user(i);
            s.push_str(&format!(
                "{},{},{}\n",
                u.id, u.service_account, u.site_admin
            ));
        }
        s
    }

    /// A people file (`Instance user ID,Team,Department`) that maps most users, not all, to a
    /// team of uneven size: one user in nine has no line, so the page and the CLI have
    /// "(unmapped)" users to show. Not an Analytics API answer (it is the user's own file); the
    /// mock offers it for the demo, and `cargo xtask gen --people` writes it.
    pub fn people_csv(&self) -> String {
        let total: u64 = PEOPLE_TEAMS.iter().map(|t| t.2).sum();
        let mut s = String::from("Instance user ID,Team,Department\n");
        for i in (0..self.users).filter(|i| i % 9 != 4) {
            let mut pick =
                Rng::new(self.seed ^ mix(u64::from(i).wrapping_add(0x7EA5))).below(total);
            let &(team, department, _) = PEOPLE_TEAMS
                .iter()
                .find(|t| {
                    let here = pick < t.2;
                    pick = pick.saturating_sub(t.2);
                    here
                })
                .unwrap_or(&PEOPLE_TEAMS[0]);
            s.push_str(&format!("{},{team},{department}\n", self.user(i).id));
        }
        s
    }

    /// Credit buckets per month within `range`, as JSON.
    ///
    /// Credits are derived from the activity (chat 3, command 2, accepted completion and
    /// accepted auto-edit 1 each), so a date filter changes them consistently.
    pub fn credits_json(&self, instance: &str, range: DateRange) -> serde_json::Value {
        use std::collections::BTreeMap;
        // month start -> (chat, completion, auto-edit, first day, last day)
        let mut months: BTreeMap<Day, [u64; 3]> = BTreeMap::new();
        for d in self.days_in(range) {
            months.entry(month_start(d)).or_default();
        }
        let mut rows = Vec::new();
        for i in 0..self.users {
            rows.clear();
            let user = self.user(i);
            self.user_rows(&user, range, &mut rows);
            for r in rows.iter().filter(|r| !r.blank) {
                let b = months.entry(month_start(r.day)).or_default();
                b[0] += 3 * r.m[CHAT] + 2 * r.m[COMMANDS];
                b[1] += r.m[ACCEPTANCES];
                b[2] += r.m[AE_ACCEPTED];
            }
        }
        let first = self.days_in(range).next();
        let last = self.days_in(range).last();
        let buckets: Vec<serde_json::Value> = months
            .iter()
            .map(|(&start, b)| {
                let (y, m, _) = civil_from_days(start);
                let next = if m == 12 {
                    days_from_civil(y + 1, 1, 1)
                } else {
                    days_from_civil(y, m + 1, 1)
                };
                let from = first.map_or(start, |f| f.max(start));
                let to = last.map_or(next - 1, |l| l.min(next - 1));
                serde_json::json!({
                    "month": format!("{y:04}-{m:02}"),
                    "startDate": format_date(from),
                    "endDate": format_date(to),
                    "creditsUsed": b[0] + b[1] + b[2],
                    "chatCredits": b[0],
                    "completionCredits": b[1],
                    "autoEditCredits": b[2],
                    "creditsIncluded": 50_000,
                })
            })
            .collect();
        serde_json::json!({
            "instanceURL": instance,
            "unit": "credits",
            "buckets": buckets,
        })
    }
}

/// One finest-grain row: a user's activity in one client and language on one day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The day.
    pub day: Day,
    client: u8,
    language: u8,
    /// Additive counters (rates are derived when the row is written).
    m: [u64; COUNTERS],
    /// Every metric cell is blank.
    blank: bool,
}

impl Row {
    fn new(day: Day, client: u8, language: u8, m: [u64; COUNTERS]) -> Row {
        Row {
            day,
            client,
            language,
            m,
            blank: false,
        }
    }

    /// `Client Name`.
    pub fn client(&self) -> &'static str {
        CLIENTS[self.client as usize]
    }

    /// `Language` (often blank).
    pub fn language(&self) -> &'static str {
        LANGUAGES[self.language as usize]
    }
}

/// An export being generated: yields the CSV in chunks, one batch of users at a time.
#[derive(Clone, Debug)]
pub struct Export {
    dataset: Dataset,
    granularity: Granularity,
    range: DateRange,
    next_user: u32,
    header_done: bool,
    rows: Vec<Row>,
    chunk_target: usize,
}

impl Export {
    /// Sets the size the chunks aim for (at least one user's rows per chunk).
    pub fn chunk_target(mut self, bytes: usize) -> Export {
        self.chunk_target = bytes.max(1);
        self
    }

    fn write_user(&mut self, user: &User, out: &mut Vec<u8>) {
        self.rows.clear();
        self.dataset.user_rows(user, self.range, &mut self.rows);
        let mut w = RowWriter::new(user);
        match self.granularity {
            Granularity::ByUserDayClientLanguage => {
                for r in &self.rows {
                    w.prefix(out);
                    out.extend_from_slice(r.client().as_bytes());
                    out.push(b',');
                    w.date(out, r.day);
                    out.push(b',');
                    out.extend_from_slice(r.language().as_bytes());
                    w.metrics(out, &r.m, r.blank);
                }
            }
            Granularity::ByUserDay => aggregate(
                &self.rows,
                |r| r.day,
                |key, m, blank| {
                    w.prefix(out);
                    w.date(out, key);
                    w.metrics(out, m, blank);
                },
            ),
            Granularity::ByUserMonth => aggregate(
                &self.rows,
                |r| month_start(r.day),
                |key, m, blank| {
                    w.prefix(out);
                    w.date(out, key);
                    w.metrics(out, m, blank);
                },
            ),
            Granularity::ByUser => aggregate(
                &self.rows,
                |_| 0,
                |_, m, blank| {
                    w.prefix(out);
                    // The prefix ends with a comma meant for the next column; the metrics add
                    // their own leading comma.
                    out.pop();
                    w.metrics(out, m, blank);
                },
            ),
        }
    }
}

impl Iterator for Export {
    type Item = Vec<u8>;

    fn next(&mut self) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(self.chunk_target + 4096);
        if !self.header_done {
            self.header_done = true;
            out.extend_from_slice(self.granularity.header().as_bytes());
        }
        while self.next_user < self.dataset.users && out.len() < self.chunk_target {
            let user = self.dataset.user(self.next_user);
            self.next_user += 1;
            self.write_user(&user, &mut out);
        }
        if out.is_empty() {
            None
        } else {
            Some(out)
        }
    }
}

/// Sums consecutive rows with equal keys (rows come ordered by date, so every key of the
/// coarser grains is contiguous) and hands each group to `emit`.
fn aggregate(
    rows: &[Row],
    key: impl Fn(&Row) -> Day,
    mut emit: impl FnMut(Day, &[u64; COUNTERS], bool),
) {
    let mut iter = rows.iter();
    let Some(first) = iter.next() else { return };
    let (mut k, mut sum, mut blank) = (key(first), first.m, first.blank);
    for r in iter {
        let rk = key(r);
        if rk != k {
            emit(k, &sum, blank);
            (k, sum, blank) = (rk, [0; COUNTERS], true);
        }
        for (s, v) in sum.iter_mut().zip(r.m) {
            *s += v;
        }
        blank &= r.blank;
    }
    emit(k, &sum, blank);
}

/// Writes rows of one user without going through `fmt` (generation feeds 100 MB benchmarks).
struct RowWriter {
    /// `id,email,username,active,` already CSV-escaped.
    prefix: Vec<u8>,
    last_day: Day,
    last_date: [u8; 10],
}

impl RowWriter {
    fn new(user: &User) -> RowWriter {
        let mut prefix = Vec::with_capacity(96);
        push_u64(&mut prefix, user.id);
        prefix.push(b',');
        push_field(&mut prefix, &user.email);
        prefix.push(b',');
        push_field(&mut prefix, &user.username);
        prefix.push(b',');
        prefix.extend_from_slice(if user.active { b"true," } else { b"false," });
        RowWriter {
            prefix,
            last_day: Day::MIN,
            last_date: [0; 10],
        }
    }

    fn prefix(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.prefix);
    }

    fn date(&mut self, out: &mut Vec<u8>, day: Day) {
        if day != self.last_day {
            self.last_day = day;
            self.last_date.copy_from_slice(format_date(day).as_bytes());
        }
        out.extend_from_slice(&self.last_date);
    }

    /// Writes `,` and the 18 metric cells in documented order, then `\n`.
    fn metrics(&self, out: &mut Vec<u8>, m: &[u64; COUNTERS], blank: bool) {
        if blank {
            out.extend_from_slice(&[b','; METRIC_COLUMNS.len()]);
            out.push(b'\n');
            return;
        }
        let count = |out: &mut Vec<u8>, i: usize| {
            out.push(b',');
            push_u64(out, m[i]);
        };
        for i in [
            SEARCHES,
            CODE_NAV,
            INSIGHTS,
            CHAT,
            COMMANDS,
            SUGGESTIONS,
            ACCEPTANCES,
        ] {
            count(out, i);
        }
        count(out, ACCEPTED_CHARS);
        out.push(b',');
        push_ratio(out, m[ACCEPTANCES], m[SUGGESTIONS], 10_000, None);
        out.push(b',');
        // Weighted CAR: acceptances weighted by how long suggestions stayed, approximated here
        // as CAR / 0.9, capped at 1.
        push_ratio(
            out,
            10 * m[ACCEPTANCES],
            9 * m[SUGGESTIONS],
            10_000,
            Some(10_000),
        );
        count(out, CODY_CHARS);
        count(out, TOTAL_CHARS);
        out.push(b',');
        push_ratio(out, m[CODY_CHARS], m[TOTAL_CHARS], 1_000_000, None);
        count(out, AE_SUGGESTED);
        count(out, AE_ACCEPTED);
        out.push(b',');
        push_ratio(out, m[AE_ACCEPTED], m[AE_SUGGESTED], 10_000, None);
        count(out, LINES_CHAT);
        count(out, LINES_COMPLETION);
        out.push(b'\n');
    }
}

/// Writes `num / den` with 4 decimals, scaled so that `scale` = 1.0000 (use 1_000_000 for a
/// percentage), rounded half up; nothing when `den` is 0.
fn push_ratio(out: &mut Vec<u8>, num: u64, den: u64, scale: u64, cap: Option<u64>) {
    if den == 0 {
        return;
    }
    let scaled =
        (2 * u128::from(num) * u128::from(scale) + u128::from(den)) / (2 * u128::from(den));
    let mut v = scaled as u64;
    if let Some(c) = cap {
        v = v.min(c);
    }
    push_u64(out, v / 10_000);
    out.push(b'.');
    let frac = v % 10_000;
    out.extend_from_slice(&[
        b'0' + (frac / 1000) as u8,
        b'0' + (frac / 100 % 10) as u8,
        b'0' + (frac / 10 % 10) as u8,
        b'0' + (frac % 10) as u8,
    ]);
}

fn push_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Writes a CSV field, quoted when it holds a comma, quote or line break.
fn push_field(out: &mut Vec<u8>, s: &str) {
    if s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        out.push(b'"');
        for b in s.bytes() {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(s.as_bytes());
    }
}

#[cfg(test)]
mod tests;
