use super::*;
use std::collections::{BTreeMap, BTreeSet};

/// A parsed export: header plus rows of cells (the generator never needs quoting for its
/// data, which the first test checks).
struct Csv {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Csv {
    fn parse(bytes: &[u8]) -> Csv {
        let text = std::str::from_utf8(bytes).expect("export is UTF-8");
        assert!(!text.contains('"'), "generated data needs no quoting");
        assert!(text.ends_with('\n'));
        let mut lines = text.lines();
        let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
        let rows: Vec<Vec<String>> = lines
            .map(|l| l.split(',').map(String::from).collect::<Vec<_>>())
            .collect();
        for (i, r) in rows.iter().enumerate() {
            assert_eq!(
                r.len(),
                header.len(),
                "row {i} has the header's field count"
            );
        }
        Csv { header, rows }
    }

    fn col(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    }

    fn num(&self, row: &[String], name: &str) -> u64 {
        let cell = &row[self.col(name)];
        if cell.is_empty() {
            0
        } else {
            cell.parse()
                .unwrap_or_else(|_| panic!("{name}: {cell:?} is a count"))
        }
    }
}

fn small() -> Dataset {
    Dataset {
        users: 40,
        ..Dataset::default()
    }
}

fn export_bytes(ds: &Dataset, g: Granularity, range: DateRange) -> Vec<u8> {
    ds.export(g, range).flatten().collect()
}

const ADDITIVE: [&str; 14] = [
    "Searches",
    "Code Navigation Events",
    "Code Insight Views",
    "Chat Events",
    "Command Events",
    "Combined Completion Suggestions",
    "Combined Completion Acceptances",
    "Total Accepted Char Count",
    "Total Characters Written by Cody",
    "Total Characters Written",
    "Auto-edit suggested events",
    "Auto-edit accepted events",
    "Lines changed by chats and commands",
    "Lines changed by completions and auto-edits",
];

#[test]
fn headers_follow_the_published_layout() {
    // Copied from shared/samples/*.csv.
    let metrics = "Searches,Code Navigation Events,Code Insight Views,Chat Events,Command Events,\
Combined Completion Suggestions,Combined Completion Acceptances,Total Accepted Char Count,\
Combined CAR,Weighted CAR,Total Characters Written by Cody,Total Characters Written,\
Percentage of Code Written by Cody,Auto-edit suggested events,Auto-edit accepted events,\
Auto-edit acceptance rate,Lines changed by chats and commands,\
Lines changed by completions and auto-edits\n";
    let user = "Instance user ID,User Email,Username,Active Sourcegraph User,";
    assert_eq!(Granularity::ByUser.header(), format!("{user}{metrics}"));
    assert_eq!(
        Granularity::ByUserMonth.header(),
        format!("{user}Timestamp Month,{metrics}")
    );
    assert_eq!(
        Granularity::ByUserDay.header(),
        format!("{user}Timestamp Date,{metrics}")
    );
    assert_eq!(
        Granularity::ByUserDayClientLanguage.header(),
        format!("{user}Client Name,Timestamp Date,Language,{metrics}")
    );
    for g in Granularity::ALL {
        assert_eq!(g.as_str().parse::<Granularity>(), Ok(g));
    }
    assert!("by_week".parse::<Granularity>().is_err());
}

#[test]
fn generation_is_deterministic_and_chunking_does_not_change_bytes() {
    let ds = small();
    for g in Granularity::ALL {
        let a = export_bytes(&ds, g, DateRange::default());
        let b = export_bytes(&ds, g, DateRange::default());
        assert_eq!(a, b, "{g}");
        let tiny: Vec<u8> = ds
            .export(g, DateRange::default())
            .chunk_target(1)
            .flatten()
            .collect();
        assert_eq!(a, tiny, "{g} with one user per chunk");
    }
    // A smaller dataset is a prefix of a bigger one: user i does not depend on the user count.
    let five = export_bytes(
        &Dataset {
            users: 5,
            ..small()
        },
        Granularity::ByUserDayClientLanguage,
        DateRange::default(),
    );
    let forty = export_bytes(
        &ds,
        Granularity::ByUserDayClientLanguage,
        DateRange::default(),
    );
    assert!(five.len() > 1000);
    assert!(forty.starts_with(&five));
    // A different seed gives different data.
    let other = export_bytes(
        &Dataset { seed: 1, ..small() },
        Granularity::ByUserDayClientLanguage,
        DateRange::default(),
    );
    assert_ne!(other, forty);
}

#[test]
fn coarser_granularities_are_exact_aggregates_of_the_finest() {
    let ds = small();
    let parse = |g| Csv::parse(&export_bytes(&ds, g, DateRange::default()));
    let finest = parse(Granularity::ByUserDayClientLanguage);
    let by_day = parse(Granularity::ByUserDay);
    let by_month = parse(Granularity::ByUserMonth);
    let by_user = parse(Granularity::ByUser);
    assert!(finest.rows.len() > by_day.rows.len());
    assert!(by_day.rows.len() > by_month.rows.len());
    assert!(by_month.rows.len() > by_user.rows.len());

    // (user, key) -> sums, where key is the date, the month or "".
    type Sums = BTreeMap<(String, String), Vec<u64>>;
    let sums = |csv: &Csv, key: &dyn Fn(&Csv, &[String]) -> String| -> Sums {
        let mut out: Sums = BTreeMap::new();
        for r in &csv.rows {
            let k = (r[0].clone(), key(csv, r));
            let e = out.entry(k).or_insert_with(|| vec![0; ADDITIVE.len()]);
            for (s, name) in e.iter_mut().zip(ADDITIVE) {
                *s += csv.num(r, name);
            }
        }
        out
    };
    let date = |c: &Csv, r: &[String]| r[c.col("Timestamp Date")].clone();
    let month_of_date = |c: &Csv, r: &[String]| format!("{}-01", &r[c.col("Timestamp Date")][..7]);
    let month = |c: &Csv, r: &[String]| r[c.col("Timestamp Month")].clone();
    let none = |_: &Csv, _: &[String]| String::new();

    assert_eq!(sums(&finest, &date), sums(&by_day, &date));
    assert_eq!(sums(&finest, &month_of_date), sums(&by_month, &month));
    assert_eq!(sums(&finest, &none), sums(&by_user, &none));
    // Each coarse row is one group: no duplicate keys.
    assert_eq!(sums(&by_day, &date).len(), by_day.rows.len());
    assert_eq!(sums(&by_month, &month).len(), by_month.rows.len());
    assert_eq!(sums(&by_user, &none).len(), by_user.rows.len());

    let total = |csv: &Csv, name: &str| csv.rows.iter().map(|r| csv.num(r, name)).sum::<u64>();
    for name in ADDITIVE {
        assert_eq!(total(&finest, name), total(&by_user, name), "{name}");
    }
    assert!(total(&finest, "Chat Events") > 1000);
    assert!(total(&finest, "Combined Completion Acceptances") > 1000);
    // Months are written as the first of the month.
    assert!(by_month
        .rows
        .iter()
        .all(|r| r[by_month.col("Timestamp Month")].ends_with("-01")));
}

/// Formats `num/den` to 4 decimals through floating point, independently of `push_ratio`.
fn expected_rate(num: u64, den: u64, factor: f64) -> String {
    if den == 0 {
        String::new()
    } else {
        format!(
            "{:.4}",
            (num as f64 * factor / den as f64 * 1e4).round() / 1e4
        )
    }
}

#[test]
fn rates_are_recomputed_per_row_from_the_rows_parts() {
    let ds = small();
    let mut empty_car = 0;
    let mut rows_checked = 0;
    for g in Granularity::ALL {
        let csv = Csv::parse(&export_bytes(&ds, g, DateRange::default()));
        for r in &csv.rows {
            if r[csv.col("Searches")].is_empty() {
                // A user whose metrics are all blank: every metric cell is blank.
                assert!(METRIC_COLUMNS.iter().all(|c| r[csv.col(c)].is_empty()));
                continue;
            }
            let n = |name| csv.num(r, name);
            let (sugg, acc) = (
                n("Combined Completion Suggestions"),
                n("Combined Completion Acceptances"),
            );
            let (cody, total) = (
                n("Total Characters Written by Cody"),
                n("Total Characters Written"),
            );
            let (ae_s, ae_a) = (
                n("Auto-edit suggested events"),
                n("Auto-edit accepted events"),
            );
            assert!(acc <= sugg && cody <= total && ae_a <= ae_s, "{r:?}");
            assert!(n("Total Accepted Char Count") <= cody);
            assert_eq!(r[csv.col("Combined CAR")], expected_rate(acc, sugg, 1.0));
            assert_eq!(
                r[csv.col("Percentage of Code Written by Cody")],
                expected_rate(cody, total, 100.0)
            );
            assert_eq!(
                r[csv.col("Auto-edit acceptance rate")],
                expected_rate(ae_a, ae_s, 1.0)
            );
            let wcar = &r[csv.col("Weighted CAR")];
            if sugg == 0 {
                assert_eq!(wcar, "");
                empty_car += 1;
            } else {
                let w: f64 = wcar.parse().unwrap();
                let car: f64 = r[csv.col("Combined CAR")].parse().unwrap();
                assert!(w >= car && w <= 1.0, "{wcar} vs {car}");
            }
            rows_checked += 1;
        }
    }
    assert!(rows_checked > 5_000);
    assert!(
        empty_car > 100,
        "rows without suggestions have an empty CAR"
    );
}

#[test]
fn ratio_formatting_rounds_half_up_and_caps() {
    let f = |num, den, scale, cap| {
        let mut v = Vec::new();
        push_ratio(&mut v, num, den, scale, cap);
        String::from_utf8(v).unwrap()
    };
    assert_eq!(f(54, 275, 10_000, None), "0.1964");
    assert_eq!(f(24112, 162994, 1_000_000, None), "14.7932");
    assert_eq!(f(540, 9 * 275, 10_000, Some(10_000)), "0.2182");
    assert_eq!(f(1, 2, 10_000, None), "0.5000");
    assert_eq!(f(1, 20_000, 10_000, None), "0.0001"); // 0.00005 rounds up
    assert_eq!(f(0, 5, 10_000, None), "0.0000");
    assert_eq!(f(5, 5, 1_000_000, None), "100.0000");
    assert_eq!(f(100, 90, 10_000, Some(10_000)), "1.0000");
    assert_eq!(f(3, 0, 10_000, None), "");
}

#[test]
fn date_filter_is_inclusive_and_each_bound_applies_alone() {
    let ds = small();
    let g = Granularity::ByUserDay;
    let dates = |range| -> BTreeSet<String> {
        let csv = Csv::parse(&export_bytes(&ds, g, range));
        csv.rows
            .iter()
            .map(|r| r[csv.col("Timestamp Date")].clone())
            .collect()
    };
    let all = dates(DateRange::default());
    assert_eq!(all.first().unwrap(), "2025-01-01");
    assert_eq!(all.last().unwrap(), "2025-06-29"); // 180 days from 2025-01-01
    let (from, to) = (
        parse_date("2025-02-03").unwrap(),
        parse_date("2025-02-14").unwrap(),
    );
    let both = dates(DateRange {
        from: Some(from),
        to: Some(to),
    });
    assert_eq!(both.first().unwrap(), "2025-02-03", "start is inclusive");
    assert_eq!(both.last().unwrap(), "2025-02-14", "end is inclusive");
    let expected: BTreeSet<String> = all
        .iter()
        .filter(|d| d.as_str() >= "2025-02-03" && d.as_str() <= "2025-02-14")
        .cloned()
        .collect();
    assert_eq!(both, expected);
    let only_from = dates(DateRange {
        from: Some(from),
        to: None,
    });
    assert_eq!(only_from.first().unwrap(), "2025-02-03");
    assert_eq!(only_from.last(), all.last());
    let only_to = dates(DateRange {
        from: None,
        to: Some(to),
    });
    assert_eq!(only_to.first(), all.first());
    assert_eq!(only_to.last().unwrap(), "2025-02-14");

    // Filtering selects rows; it does not change them.
    let finest = |range| {
        String::from_utf8(export_bytes(
            &ds,
            Granularity::ByUserDayClientLanguage,
            range,
        ))
        .unwrap()
    };
    let all_rows: BTreeSet<String> = finest(DateRange::default())
        .lines()
        .map(String::from)
        .collect();
    for line in finest(DateRange {
        from: Some(from),
        to: Some(to),
    })
    .lines()
    {
        assert!(all_rows.contains(line), "{line}");
    }
}

#[test]
fn demo_data_is_varied_like_a_real_instance() {
    let ds = Dataset::default();
    let csv = Csv::parse(&export_bytes(
        &ds,
        Granularity::ByUserDayClientLanguage,
        DateRange::default(),
    ));
    let distinct = |name: &str| -> BTreeSet<String> {
        csv.rows.iter().map(|r| r[csv.col(name)].clone()).collect()
    };
    let clients = distinct("Client Name");
    for c in ["vscode.cody", "jetbrains.cody", "server.web", "cli"] {
        assert!(clients.contains(c), "{c}");
    }
    let languages = distinct("Language");
    assert!(languages.contains("") && languages.len() > 6);
    let blank_language = csv
        .rows
        .iter()
        .filter(|r| r[csv.col("Language")].is_empty())
        .count();
    assert!(
        blank_language * 5 > csv.rows.len(),
        "language is often blank"
    );
    assert!(distinct("Instance user ID").len() >= 75);
    let users: Vec<User> = (0..ds.users).map(|i| ds.user(i)).collect();
    let blank_emails = users.iter().filter(|u| u.email.is_empty()).count();
    let blank_names = users.iter().filter(|u| u.username.is_empty()).count();
    assert!((2..=10).contains(&blank_emails) && (1..blank_emails).contains(&blank_names));
    assert!(distinct("User Email").contains(""));
    assert!(distinct("Active Sourcegraph User").contains("false"));
    assert!(users.iter().any(|u| u.blank_metrics && u.active));
    let ids: BTreeSet<u64> = users.iter().map(|u| u.id).collect();
    assert_eq!(ids.len(), users.len(), "IDs are unique");

    // Weekdays are much busier than weekends.
    let day_col = csv.col("Timestamp Date");
    let (mut weekday_rows, mut weekend_rows) = (0, 0);
    for r in &csv.rows {
        if weekday(parse_date(&r[day_col]).unwrap()) >= 5 {
            weekend_rows += 1;
        } else {
            weekday_rows += 1;
        }
    }
    assert!(weekend_rows > 0 && weekday_rows > 8 * weekend_rows);

    // The registry covers every user, with a few service accounts and admins.
    let registry = ds.registry_csv();
    let mut lines = registry.lines();
    assert_eq!(
        lines.next(),
        Some("Instance user ID,Service Account,Site Admin")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), ds.users as usize);
    let count = |i: usize| rows.iter().filter(|r| r[i] == "true").count();
    assert!((2..=8).contains(&count(1)), "service accounts");
    assert!((2..=8).contains(&count(2)), "site admins");
    assert!(rows
        .iter()
        .all(|r| ["true", "false"].contains(&r[1]) && ["true", "false"].contains(&r[2])));
}

#[test]
fn demo_users_join_late_churn_come_back_and_leave_seats_unused() {
    // Monthly active sets of the demo export (by_user_day: a row is an active day of an active
    // user), then the growth-accounting classes the page's Adoption view shows.
    let ds = Dataset::default();
    let csv = Csv::parse(&export_bytes(
        &ds,
        Granularity::ByUserDay,
        DateRange::default(),
    ));
    let (user, date, active) = (
        csv.col("Instance user ID"),
        csv.col("Timestamp Date"),
        csv.col("Active Sourcegraph User"),
    );
    let mut months: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in csv.rows.iter().filter(|r| r[active] == "true") {
        months
            .entry(r[date][..7].to_string())
            .or_default()
            .insert(r[user].clone());
    }
    let sets: Vec<&BTreeSet<String>> = months.values().collect();
    assert_eq!(sets.len(), 6);
    let (mut late, mut churned, mut resurrected) = (0, 0, 0);
    for p in 1..sets.len() {
        let earlier: BTreeSet<&String> = sets[..p - 1].iter().flat_map(|s| s.iter()).collect();
        for u in sets[p] {
            if !sets[p - 1].contains(u) {
                if earlier.contains(u) {
                    resurrected += 1;
                } else {
                    late += 1;
                }
            }
        }
        churned += sets[p - 1].difference(sets[p]).count();
    }
    assert!(late >= 5, "users who join after the first month: {late}");
    assert!(
        churned >= 5,
        "users who stop for a month or more: {churned}"
    );
    assert!(resurrected >= 3, "users who come back: {resurrected}");
    // Seats in the registry that the export never shows.
    let seen: BTreeSet<&String> = csv.rows.iter().map(|r| &r[user]).collect();
    let unused = (0..ds.users)
        .filter(|&i| !seen.contains(&ds.user(i).id.to_string()))
        .count();
    assert!((2..=6).contains(&unused), "unused seats: {unused}");
}

#[test]
fn credits_follow_the_activity_and_the_date_filter() {
    let ds = small();
    let all = ds.credits_json("example.com", DateRange::default());
    let buckets = all["buckets"].as_array().unwrap();
    assert_eq!(buckets.len(), 6); // January to June
    assert_eq!(buckets[0]["month"], "2025-01");
    assert_eq!(buckets[0]["startDate"], "2025-01-01");
    assert_eq!(buckets[5]["endDate"], "2025-06-29");
    for b in buckets {
        let parts = ["chatCredits", "completionCredits", "autoEditCredits"]
            .iter()
            .map(|k| b[*k].as_u64().unwrap())
            .sum::<u64>();
        assert_eq!(b["creditsUsed"].as_u64().unwrap(), parts);
        assert!(parts > 0);
    }
    let feb = ds.credits_json(
        "example.com",
        DateRange {
            from: Some(parse_date("2025-02-01").unwrap()),
            to: Some(parse_date("2025-02-28").unwrap()),
        },
    );
    assert_eq!(feb["buckets"].as_array().unwrap().len(), 1);
    assert_eq!(feb["buckets"][0], buckets[1]);
}

#[test]
fn dates_parse_strictly_and_round_trip() {
    for s in ["2025-01-01", "2024-02-29", "1999-12-31", "2025-06-29"] {
        assert_eq!(format_date(parse_date(s).unwrap()), s);
    }
    for s in [
        "2025-02-29",
        "2025-13-01",
        "2025-00-10",
        "2025-1-01",
        "25-01-01",
        "2025/01/01",
        "",
        "2025-01-01x",
        "+025-01-01",
    ] {
        assert!(parse_date(s).is_err(), "{s}");
    }
    assert_eq!(parse_date("1970-01-01"), Ok(0));
    assert_eq!(weekday(parse_date("2025-01-06").unwrap()), 0, "a Monday");
    assert_eq!(
        month_start(parse_date("2025-03-17").unwrap()),
        parse_date("2025-03-01").unwrap()
    );
}

#[test]
fn csv_fields_are_quoted_when_needed() {
    let mut v = Vec::new();
    push_field(&mut v, "plain");
    v.push(b'|');
    push_field(&mut v, "a,b \"c\"");
    assert_eq!(String::from_utf8(v).unwrap(), "plain|\"a,b \"\"c\"\"\"");
}

#[test]
fn empty_datasets_have_only_the_header() {
    for ds in [
        Dataset {
            users: 0,
            ..small()
        },
        Dataset { days: 0, ..small() },
    ] {
        for g in Granularity::ALL {
            assert_eq!(
                export_bytes(&ds, g, DateRange::default()),
                g.header().into_bytes()
            );
        }
    }
    // A range outside the dataset keeps no row either.
    let before = parse_date("2024-01-01").unwrap();
    let range = DateRange {
        from: None,
        to: Some(before),
    };
    assert_eq!(
        export_bytes(&small(), Granularity::ByUser, range),
        Granularity::ByUser.header().into_bytes()
    );
}

#[test]
fn the_people_file_maps_most_users_to_teams_of_different_sizes() {
    let ds = Dataset::default();
    let people = ds.people_csv();
    assert_eq!(people, ds.people_csv(), "deterministic");
    let mut lines = people.lines();
    assert_eq!(lines.next(), Some("Instance user ID,Team,Department"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert!(rows.iter().all(|r| r.len() == 3));
    // Keyed by the registry's IDs, each user at most once; most users have a line, not all.
    let registry: BTreeSet<String> = (0..ds.users).map(|i| ds.user(i).id.to_string()).collect();
    let ids: BTreeSet<&str> = rows.iter().map(|r| r[0]).collect();
    assert_eq!(ids.len(), rows.len());
    assert!(ids.iter().all(|id| registry.contains(*id)));
    assert!(
        rows.len() * 10 >= registry.len() * 8,
        "most: {} of {}",
        rows.len(),
        registry.len()
    );
    assert!(rows.len() < registry.len(), "not all");
    // Some unmapped users are in the export, so the page's "(unmapped)" is not empty.
    let export = Csv::parse(&export_bytes(
        &ds,
        Granularity::ByUserDay,
        DateRange::default(),
    ));
    let user_col = export
        .header
        .iter()
        .position(|h| h == "Instance user ID")
        .unwrap();
    assert!(export
        .rows
        .iter()
        .any(|r| !ids.contains(r[user_col].as_str())));
    // Several teams, of different sizes; each team in one department.
    let mut teams: BTreeMap<&str, (usize, BTreeSet<&str>)> = BTreeMap::new();
    for r in &rows {
        let t = teams.entry(r[1]).or_default();
        t.0 += 1;
        t.1.insert(r[2]);
    }
    assert!(teams.len() >= 4, "{teams:?}");
    assert!(teams
        .values()
        .all(|(_, departments)| departments.len() == 1));
    let sizes: BTreeSet<usize> = teams.values().map(|(n, _)| *n).collect();
    assert!(sizes.len() >= 3, "{teams:?}");
}
