//! Growth accounting, retention cohorts and inactive users against a reference written from their
//! definitions with sets (docs/numbers.md, "Adoption answers"), on the sample exports and on
//! generated ones.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use std::collections::BTreeSet;

use common::*;
use serde_json::{json, Value};
use sg_analytics::{ErrorKind, InactiveQuery, PeriodQuery, Registry, Table};

fn period_query(v: Value) -> PeriodQuery {
    serde_json::from_value(v).unwrap()
}

fn dated(rows: &[Row]) -> Vec<&Row> {
    rows.iter().filter(|r| r.date.is_some()).collect()
}

#[test]
fn growth_and_retention_match_the_reference_on_the_samples() {
    for (file, weeks) in [
        ("by_user_day.csv", vec![false, true]),
        ("by_user_day_client_language.csv", vec![false, true]),
        ("by_user_month.csv", vec![false]),
    ] {
        let csv = fixture(file);
        let table = Table::from_bytes(&csv).unwrap();
        let (_, rows) = common::rows(&csv);
        let rows = dated(&rows);
        let first = rows.iter().map(|r| r.date.clone().unwrap()).min().unwrap();
        let mut last = rows.iter().map(|r| r.date.clone().unwrap()).max().unwrap();
        if file == "by_user_month.csv" {
            // A month row covers its month: the range ends on the last month's last day.
            last = format!("{}-{:02}", &last[..7], period_days(&last[..7], false));
        }
        for week in weeks {
            let period = if week { "week" } else { "month" };
            let sets = active_sets(&rows, &first, &last, week);
            let growth = table
                .growth(&period_query(json!({"period": period})))
                .unwrap();
            let got = serde_json::to_value(&growth).unwrap();
            assert_eq!(got["period"], period);
            assert_eq!(
                got["periods"],
                reference_growth(&sets),
                "{file} by {period}"
            );
            let retention = table
                .retention(&period_query(json!({"period": period})))
                .unwrap();
            let got = serde_json::to_value(&retention).unwrap();
            assert_eq!(
                got["cohorts"],
                reference_retention(&sets),
                "{file} by {period}"
            );
        }
    }
}

#[test]
fn a_date_filter_sets_the_range_and_empty_periods_are_listed() {
    let csv = fixture("by_user_day.csv");
    let table = Table::from_bytes(&csv).unwrap();
    let (_, rows) = common::rows(&csv);
    let rows = dated(&rows);
    let last = rows.iter().map(|r| r.date.clone().unwrap()).max().unwrap();
    // Two weeks past the data's last day: the range is the filter's, so empty weeks follow.
    let to = days(&last, "2100-01-01")[14].clone();
    let from = rows.iter().map(|r| r.date.clone().unwrap()).min().unwrap();
    let sets = active_sets(&rows, &from, &to, true);
    let q = period_query(json!({"period": "week", "filter": {"from": from, "to": to}}));
    let got = serde_json::to_value(table.growth(&q).unwrap()).unwrap();
    assert_eq!(got["periods"], reference_growth(&sets));
    let periods = got["periods"].as_array().unwrap();
    assert_eq!(periods.last().unwrap()["activeUsers"], 0);
    assert!(periods.last().unwrap()["period"].as_str().unwrap() <= to.as_str());
}

#[test]
fn inactive_users_match_the_reference_with_and_without_a_registry() {
    let csv = fixture("by_user_day.csv");
    let table = Table::from_bytes(&csv).unwrap();
    let (_, rows) = common::rows(&csv);
    let rows = dated(&rows);
    let as_of = rows.iter().map(|r| r.date.clone().unwrap()).max().unwrap();
    for days_back in [1u32, 3, 7, 30, 400] {
        let since = {
            let all = days("2000-01-01", &as_of);
            all[all.len().saturating_sub(days_back as usize)].clone()
        };
        let mut expected: Vec<(Option<String>, String)> = rows
            .iter()
            .map(|r| r.user.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .filter_map(|u| {
                let last = rows
                    .iter()
                    .filter(|r| r.user == u && r.active)
                    .filter_map(|r| r.date.clone())
                    .max();
                (last.as_deref().is_none_or(|d| d < since.as_str())).then_some((last, u))
            })
            .collect();
        expected.sort();
        let q: InactiveQuery = serde_json::from_value(json!({"days": days_back})).unwrap();
        let got = table.inactive_users(&q, None).unwrap();
        assert_eq!(got.as_of.as_deref(), Some(as_of.as_str()));
        let got: Vec<(Option<String>, String)> = got
            .users
            .iter()
            .map(|u| (u.last_active.clone(), u.user.clone()))
            .collect();
        assert_eq!(got, expected, "{days_back} days");
    }
    // A registry adds the users who never appear, first, with their flags.
    let known = rows[0].user.clone();
    let registry = Registry::from_bytes(
        format!(
            "Instance user ID,Service account,Site admin\n{known},false,true\nghost-1,true,false\n"
        )
        .as_bytes(),
    )
    .unwrap();
    let q: InactiveQuery = serde_json::from_value(json!({"days": 1})).unwrap();
    let got = serde_json::to_value(table.inactive_users(&q, Some(&registry)).unwrap()).unwrap();
    let users = got["users"].as_array().unwrap();
    assert_eq!(users[0]["user"], "ghost-1");
    assert_eq!(users[0]["lastActive"], Value::Null);
    assert_eq!(users[0]["serviceAccount"], true);
    for u in users {
        assert!(
            u.get("serviceAccount").is_some() && u.get("siteAdmin").is_some(),
            "{u}"
        );
    }
}

#[test]
fn exports_without_the_needed_dates_say_which_granularity_to_fetch() {
    let table = Table::from_bytes(&fixture("by_user.csv")).unwrap();
    let e = table
        .growth(&period_query(json!({"period": "month"})))
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Query);
    assert!(e.message().contains("by_user_day"), "{e}");
    let e = table.retention(&period_query(json!({}))).unwrap_err();
    assert!(e.message().contains("by_user_day"), "{e}");
    let q: InactiveQuery = serde_json::from_value(json!({"days": 30})).unwrap();
    assert!(table.inactive_users(&q, None).is_err());

    let months = Table::from_bytes(&fixture("by_user_month.csv")).unwrap();
    let e = months
        .growth(&period_query(json!({"period": "week"})))
        .unwrap_err();
    assert!(e.message().contains("week"), "{e}");
    assert!(serde_json::from_value::<PeriodQuery>(json!({"period": "day"})).is_err());
}

/// Groups by user carry each group's first and last active day, and sort by them.
#[test]
fn groups_by_user_carry_first_and_last_active_days() {
    let csv = fixture("by_user_day_client_language.csv");
    let table = Table::from_bytes(&csv).unwrap();
    let (_, rows) = common::rows(&csv);
    let query: sg_analytics::Query =
        serde_json::from_value(json!({"groupBy": ["user", "month"], "sort": {"by": "lastActive"}}))
            .unwrap();
    let summary = table.summarize(&query).unwrap().to_value();
    let groups = summary["groups"].as_array().unwrap();
    assert!(!groups.is_empty());
    let mut last_seen = String::new();
    for g in groups {
        let (user, month) = (
            g["key"]["user"].as_str().unwrap(),
            g["key"]["month"].as_str().unwrap(),
        );
        let days: Vec<String> = rows
            .iter()
            .filter(|r| r.user == user && r.active && r.date.as_deref().unwrap().starts_with(month))
            .map(|r| r.date.clone().unwrap())
            .collect();
        let expect = |d: Option<&String>| d.map_or(Value::Null, |d| json!(d));
        assert_eq!(
            g["key"]["firstActive"],
            expect(days.iter().min()),
            "{user} {month}"
        );
        assert_eq!(
            g["key"]["lastActive"],
            expect(days.iter().max()),
            "{user} {month}"
        );
        // Ascending by lastActive, groups never active last.
        if let Some(last) = g["key"]["lastActive"].as_str() {
            assert!(last >= last_seen.as_str(), "{last} after {last_seen}");
            last_seen = last.to_string();
        }
    }
    // No dates, no such fields.
    let by_user = Table::from_bytes(&fixture("by_user.csv")).unwrap();
    let query: sg_analytics::Query =
        serde_json::from_value(json!({"groupBy": ["user"], "limit": 1})).unwrap();
    let g = &by_user.summarize(&query).unwrap().to_value()["groups"][0];
    assert!(g["key"].get("firstActive").is_none(), "{g}");
}

/// `compare: "previous"` adds the totals over the equally long range before the query's: the
/// same as asking for that range directly (day grain: as many days; month grain: as many months).
#[test]
fn comparing_with_the_previous_range() {
    let day = Table::from_bytes(&fixture("by_user_day.csv")).unwrap();
    let ask = |table: &Table, v: Value| {
        let q: sg_analytics::Query = serde_json::from_value(v).unwrap();
        table.summarize(&q).unwrap().to_value()
    };
    let got = ask(
        &day,
        json!({"groupBy": ["week"], "filter": {"from": "2025-03-20", "to": "2025-03-29", "activeOnly": true}, "compare": "previous"}),
    );
    assert_eq!(
        got["previous"]["range"],
        json!({"from": "2025-03-10", "to": "2025-03-19"})
    );
    let direct = ask(
        &day,
        json!({"filter": {"from": "2025-03-10", "to": "2025-03-19", "activeOnly": true}}),
    );
    assert_eq!(got["previous"]["totals"], direct["totals"]);
    assert_ne!(got["previous"]["totals"], got["totals"]);
    assert!(ask(&day, json!({})).get("previous").is_none());
    // Regression: a filter starting after the data ends failed the whole view ("from is after
    // to" for a range it computed itself); it answers, empty, with nothing to compare.
    let after = ask(
        &day,
        json!({"filter": {"from": "2030-01-01"}, "compare": "previous"}),
    );
    assert_eq!(after["totals"]["rows"], 0);
    assert!(after.get("previous").is_none());

    let month = Table::from_bytes(&fixture("by_user_month.csv")).unwrap();
    let got = ask(
        &month,
        json!({"filter": {"from": "2025-04-01", "to": "2025-04-30"}, "compare": "previous"}),
    );
    assert_eq!(
        got["previous"]["range"],
        json!({"from": "2025-03-01", "to": "2025-03-31"})
    );
    let direct = ask(
        &month,
        json!({"filter": {"from": "2025-03-01", "to": "2025-03-31"}}),
    );
    assert_eq!(got["previous"]["totals"], direct["totals"]);

    let by_user = Table::from_bytes(&fixture("by_user.csv")).unwrap();
    let q: sg_analytics::Query = serde_json::from_value(json!({"compare": "previous"})).unwrap();
    assert!(by_user
        .summarize(&q)
        .unwrap_err()
        .message()
        .contains("needs dates"));
    assert!(
        serde_json::from_value::<sg_analytics::Query>(json!({"compare": "last year"})).is_err()
    );
}

/// A people file adds group keys and filters: every team's sums are its users' rows' sums, users
/// without a line are `null` ("(unmapped)"), and what the join did is reported.
#[test]
fn a_people_file_groups_and_filters_by_its_columns() {
    let csv = fixture("by_user_day.csv");
    let mut table = Table::from_bytes(&csv).unwrap();
    let (_, rows) = common::rows(&csv);
    let users: Vec<String> = rows
        .iter()
        .map(|r| r.user.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // Keyed by user ID; the last user has no line, the first is listed twice (the first wins).
    let team = |i: usize| ["Search", "Code Intel", "search"][i % 3];
    let mut people = String::from("Instance user ID,Team,Site\n");
    for (i, u) in users.iter().enumerate().take(users.len() - 1) {
        people += &format!("{u},{},{}\n", team(i), if i % 2 == 0 { "EU" } else { "US" });
    }
    people += &format!("{},Other,EU\n", users[0]);
    let join = table.join_attributes(people.as_bytes()).unwrap();
    assert_eq!(join.attributes, ["Team", "Site"]);
    assert_eq!((join.matched, join.unmatched), (users.len() - 1, 1));
    assert_eq!(join.warnings.len(), 1);
    assert_eq!(join.warnings[0].line, users.len() as u64 + 1);
    assert!(table.info().group_keys.contains(&"Team".to_string()));

    let team_of = |u: &str| {
        users
            .iter()
            .position(|x| x == u)
            .filter(|&i| i < users.len() - 1)
            .map(team)
    };
    let ask = |table: &Table, v: Value| {
        let q: sg_analytics::Query = serde_json::from_value(v).unwrap();
        table.summarize(&q).unwrap().to_value()
    };
    let got = ask(
        &table,
        json!({"groupBy": ["Team"], "metrics": ["rows", "users", "Chat Events"]}),
    );
    let groups = got["groups"].as_array().unwrap();
    // Teams differing only in case are distinct values; the unmapped user is the null group.
    assert_eq!(groups.len(), 4);
    for g in groups {
        let key = g["key"]["Team"].as_str();
        let mine: Vec<&Row> = rows.iter().filter(|r| team_of(&r.user) == key).collect();
        assert_eq!(g["rows"], mine.len(), "{key:?}");
        assert_eq!(g["users"], common::users(&mine), "{key:?}");
        assert_eq!(
            g["Chat Events"].as_f64().unwrap(),
            sum(&mine, "Chat Events"),
            "{key:?}"
        );
    }
    // Filters match any case; "" keeps the users without a value.
    let got = ask(
        &table,
        json!({"filter": {"attributes": {"Team": ["SEARCH", ""]}}, "metrics": ["rows"]}),
    );
    let kept = rows
        .iter()
        .filter(|r| matches!(team_of(&r.user), None | Some("Search") | Some("search")))
        .count();
    assert_eq!(got["totals"]["rows"], kept);
    let got = ask(
        &table,
        json!({"groupBy": ["Site", "Team"], "filter": {"attributes": {"Site": ["EU"]}}, "metrics": ["users"], "sort": {"by": "Team", "desc": true}}),
    );
    assert!(got["groups"]
        .as_array()
        .unwrap()
        .iter()
        .all(|g| g["key"]["Site"] == "EU"));

    // The filter's choices: per column, the values the export's users have, most users first,
    // then "" for the unmapped; each choice keeps exactly its users.
    let choices = table.info().choices.attributes;
    assert_eq!(
        choices.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["Team", "Site"]
    );
    let site_of = |u: &str| {
        users
            .iter()
            .position(|x| x == u)
            .filter(|&i| i < users.len() - 1)
            .map(|i| if i % 2 == 0 { "EU" } else { "US" })
    };
    for (choice, of) in choices
        .iter()
        .zip([&team_of as &dyn Fn(&str) -> Option<&'static str>, &site_of])
    {
        let users_with = |value: &str| {
            users
                .iter()
                .filter(|u| of(u).unwrap_or("") == value)
                .count()
        };
        let mut expected: Vec<&str> = users
            .iter()
            .filter_map(|u| of(u))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        expected.sort_by_key(|v| std::cmp::Reverse(users_with(v)));
        let got: Vec<&str> = choice.values.iter().map(String::as_str).collect();
        assert_eq!(got.last(), Some(&""), "{}: the unmapped user", choice.name);
        let mut named = got[..got.len() - 1].to_vec();
        assert!(
            named
                .windows(2)
                .all(|w| users_with(w[0]) >= users_with(w[1])),
            "{}: most users first: {got:?}",
            choice.name
        );
        named.sort();
        expected.sort();
        assert_eq!(named, expected, "{}", choice.name);
        for value in &choice.values {
            let filtered = ask(
                &table,
                json!({"filter": {"attributes": {&choice.name: [value]}}, "metrics": ["users"]}),
            );
            // Filters match any case, so "Search" also keeps "search": count case-blind.
            let kept = users
                .iter()
                .filter(|u| of(u).unwrap_or("").eq_ignore_ascii_case(value))
                .count();
            assert_eq!(
                filtered["totals"]["users"], kept,
                "{}={value:?}",
                choice.name
            );
        }
    }
    assert!(Table::from_bytes(&csv)
        .unwrap()
        .info()
        .choices
        .attributes
        .is_empty());

    // Mistakes say what and where.
    let mut t = Table::from_bytes(&csv).unwrap();
    for (file, says) in [
        ("Team,Site\nx,y\n", "no key column"),
        ("Instance user ID,Username,Team\n1,a,x\n", "2 key columns"),
        ("Instance user ID,user\n1,x\n", "\"user\""),
        ("Instance user ID,Users\n1,x\n", "\"Users\""),
        ("Instance user ID,Chat Events\n1,x\n", "\"Chat Events\""),
        ("Instance user ID,Team,Team\n1,x,y\n", "appears twice"),
    ] {
        let e = t.join_attributes(file.as_bytes()).unwrap_err();
        assert!(e.message().contains(says), "{file:?}: {e}");
    }
    let q: sg_analytics::Query =
        serde_json::from_value(json!({"filter": {"attributes": {"Team": ["x"]}}})).unwrap();
    assert!(Table::from_bytes(&csv)
        .unwrap()
        .summarize(&q)
        .unwrap_err()
        .message()
        .contains("people file"));
}

/// Regression: a people file opened where an export is expected gave a dashboard of zeros with a
/// small warning. It is refused, with a kind of its own (the page offers to join it), its line and
/// the way to join it; and a people file's key column is matched as an export's header is (any
/// case, spacing, a BOM).
#[test]
fn a_people_file_opened_as_an_export_is_refused_with_the_way_to_join_it() {
    for (people, key) in [
        ("User Email,Team\na@example.com,Search\n", "User Email"),
        (
            "\u{feff}  instance   USER id ,Team,Site\n1,Search,EU\n",
            "Instance user ID",
        ),
    ] {
        let e = Table::from_bytes(people.as_bytes()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::PeopleFile, "{people:?}: {e}");
        let message = e.message();
        assert!(message.contains("people file, not an export"), "{message}");
        assert!(message.contains("line 1"), "{message}");
        assert!(message.contains(key), "{message}");
        assert!(message.contains("--attributes FILE"), "{message}");
    }
    // An export that lacks only its usage columns' values is not a people file.
    let csv = fixture("by_user.csv");
    let s = Table::from_bytes(&csv)
        .unwrap()
        .summarize(&Default::default())
        .unwrap()
        .to_value();
    assert!(!s["warnings"].to_string().contains("people file"));

    let mut table = Table::from_bytes(&fixture("by_user_day.csv")).unwrap();
    let (_, rows) = common::rows(&fixture("by_user_day.csv"));
    let people = format!(
        "\u{feff} instance  User ID ,Team\n{},Search\n",
        rows[0].user
    );
    let join = table.join_attributes(people.as_bytes()).unwrap();
    assert_eq!(
        (join.attributes, join.matched),
        (vec!["Team".to_string()], 1)
    );
}

/// The inactive users' CSV (the CLI's `inactive --format csv` and the page's download): the
/// list's users in its order, `never` for no active day, the registry's flags only with a
/// registry, and every text cell that a spreadsheet would run formula-guarded.
#[test]
fn the_inactive_users_csv_is_the_list_formula_guarded() {
    let csv =
        "Instance user ID,User Email,Username,Active Sourcegraph User,Timestamp Date,Chat Events\n\
               1,\"=HYPERLINK(\"\"http://x\"\")\",@evil,true,2025-01-01,1\n\
               2,b@x.io,bob,true,2025-02-20,1\n\
               -3,c@x.io,+carol,true,2025-01-02,1\n\
               4,\"d, \"\"q\"\"@x.io\",-5,false,2025-01-03,1\n";
    let table = Table::from_bytes(csv.as_bytes()).unwrap();
    let query = InactiveQuery {
        days: 7,
        filter: Default::default(),
    };
    let parse = |text: &str| -> Vec<Vec<String>> {
        csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes())
            .records()
            .map(|r| r.unwrap().iter().map(String::from).collect())
            .collect()
    };
    let inactive = table.inactive_users(&query, None).unwrap();
    let got = parse(&inactive.to_csv());
    assert_eq!(got[0], ["user", "email", "username", "lastActive"]);
    // One row per listed user, in the list's order; guarded text, numbers left alone.
    assert_eq!(got.len() - 1, inactive.users.len());
    for (row, user) in got[1..].iter().zip(&inactive.users) {
        assert_eq!(row[0], user.user);
        assert_eq!(
            row[3],
            user.last_active.clone().unwrap_or_else(|| "never".into())
        );
    }
    let by_user = |id: &str| got.iter().find(|r| r[0] == id).cloned().unwrap();
    assert_eq!(by_user("1")[1], "'=HYPERLINK(\"http://x\")");
    assert_eq!(by_user("1")[2], "'@evil");
    assert_eq!(by_user("-3")[2], "'+carol");
    assert_eq!(by_user("4")[1], "d, \"q\"@x.io");
    assert_eq!(by_user("4")[2], "-5", "a number is not a formula");
    assert_eq!(by_user("4")[3], "never");
    assert!(
        got.iter().all(|r| r[0] != "2"),
        "2 was active in the last 7 days"
    );

    // With a registry: its flags, and its users who never appear.
    let registry = Registry::from_bytes(
        b"Instance user ID,Service Account,Site Admin\n9,true,false\n1,false,true\n",
    )
    .unwrap();
    let inactive = table.inactive_users(&query, Some(&registry)).unwrap();
    let got = parse(&inactive.to_csv());
    assert_eq!(
        got[0],
        [
            "user",
            "email",
            "username",
            "lastActive",
            "serviceAccount",
            "siteAdmin"
        ]
    );
    let nine = got.iter().find(|r| r[0] == "9").unwrap();
    assert_eq!(nine[1..], ["", "", "never", "true", "false"]);
    let one = got.iter().find(|r| r[0] == "1").unwrap();
    assert_eq!(one[4..], ["false", "true"]);
    // An empty list still names its columns.
    let none = InactiveQuery {
        days: 1000,
        filter: serde_json::from_value(json!({"users": ["nobody"]})).unwrap(),
    };
    assert_eq!(
        table.inactive_users(&none, None).unwrap().to_csv(),
        "user,email,username,lastActive\n"
    );
}

/// Regression: with a registry joined, the inactive list under a filter on who a user is (a
/// people-file team, a user search, service accounts excluded) listed every registry user outside
/// the filter as never active: a manager filtering to their team got other teams' people as idle
/// seats. Candidates, from the export or the registry, are only the users the filter is about.
#[test]
fn inactive_users_under_a_filter_list_only_the_filtered_users_seats() {
    let (export, people, registry) = (SEATS_EXPORT, SEATS_PEOPLE, SEATS_REGISTRY);
    let registry = Registry::from_bytes(registry.as_bytes()).unwrap();
    let mut table = Table::from_bytes(export.as_bytes()).unwrap();
    table.join_attributes(people.as_bytes()).unwrap();
    table.join_registry(&registry);
    // The range ends on the 31st whatever the filter keeps (else it ends on the kept rows' last day).
    let idle = |mut filter: Value| -> Vec<(String, Option<String>)> {
        filter["to"] = json!("2025-03-31");
        let q: InactiveQuery =
            serde_json::from_value(json!({"days": 7, "filter": filter})).unwrap();
        let got = table.inactive_users(&q, Some(&registry)).unwrap();
        assert_eq!(got.as_of.as_deref(), Some("2025-03-31"));
        got.users
            .into_iter()
            .map(|u| (u.user, u.last_active))
            .collect()
    };
    let never = |u: &str| (u.to_string(), None);
    let since = |u: &str, d: &str| (u.to_string(), Some(d.to_string()));

    // Service accounts counted: every registry seat is a candidate (never active first, then
    // oldest first).
    let all = json!({"excludeServiceAccounts": false});
    assert_eq!(
        idle(all.clone()),
        [
            never("10"),
            never("11"),
            never("12"),
            never("13"),
            since("2", "2025-03-01"),
            since("3", "2025-03-02"),
            since("4", "2025-03-03"),
            since("5", "2025-03-04"),
        ]
    );
    // The team's seats only: not Cloud's 3 and 11, not the unmapped 4 and 12.
    assert_eq!(
        idle(json!({"attributes": {"Team": ["Search"]}, "excludeServiceAccounts": false})),
        [
            never("10"),
            never("13"),
            since("2", "2025-03-01"),
            since("5", "2025-03-04")
        ]
    );
    // "(unmapped)" chosen: the users the people file has no line for, in the export or not.
    assert_eq!(
        idle(json!({"attributes": {"Team": [""]}})),
        [never("12"), since("4", "2025-03-03")]
    );
    // Without service accounts, asked for or by default: not the bots 5 and 13.
    assert_eq!(
        idle(json!({"attributes": {"Team": ["Search"]}, "excludeServiceAccounts": true})),
        [never("10"), since("2", "2025-03-01")]
    );
    assert_eq!(
        idle(json!({"attributes": {"Team": ["Search"]}})),
        [never("10"), since("2", "2025-03-01")]
    );
    // A user search matches the registry's IDs too: "1" is in 1, 10, 11 and 13; 1 is active.
    assert_eq!(
        idle(
            json!({"userSearch": "1", "attributes": {"Team": ["Search"]}, "excludeServiceAccounts": false})
        ),
        [never("10"), never("13")]
    );
    // A search on an e-mail matches the export's users by their e-mail.
    assert_eq!(
        idle(json!({"userSearch": "B@X"})),
        [since("2", "2025-03-01")]
    );
    // A client filter: the seats of the users with a row of that client; a seat with no row
    // has used no client.
    assert_eq!(
        idle(json!({"clients": ["JetBrains"], "excludeServiceAccounts": false})),
        [
            since("3", "2025-03-02"),
            since("4", "2025-03-03"),
            since("5", "2025-03-04")
        ]
    );
    // Dates decide which days count, not whose seat it is: bob's rows all fall before the
    // range, and he is listed as never active in it, with his e-mail from the export.
    let q: InactiveQuery = serde_json::from_value(json!({
        "days": 7,
        "filter": {"from": "2025-03-20", "to": "2025-03-31", "attributes": {"Team": ["Search"]},
                   "excludeServiceAccounts": false}
    }))
    .unwrap();
    let got = table.inactive_users(&q, Some(&registry)).unwrap();
    let bob = got.users.iter().find(|u| u.user == "2").unwrap();
    assert_eq!(bob.last_active, None);
    assert_eq!(bob.email.as_deref(), Some("b@x.io"));
    let listed: Vec<&str> = got.users.iter().map(|u| u.user.as_str()).collect();
    assert_eq!(listed, ["10", "13", "2", "5"]);
}

/// Service accounts make most of a headline when counted (CI bots): with a registry joined, every
/// answer leaves them out unless the filter says `excludeServiceAccounts: false`, and the summary
/// says which it did and how many service accounts that concerned.
#[test]
fn service_accounts_are_left_out_by_default_once_a_registry_is_joined() {
    let registry = Registry::from_bytes(SEATS_REGISTRY.as_bytes()).unwrap();
    let mut table = Table::from_bytes(SEATS_EXPORT.as_bytes()).unwrap();
    let summarize = |table: &Table, filter: Value| {
        let q: sg_analytics::Query = serde_json::from_value(json!({"filter": filter})).unwrap();
        table.summarize(&q).unwrap().to_value()
    };
    // No registry: nothing is known of service accounts, and nothing said.
    let before = summarize(&table, json!({}));
    assert_eq!(before["totals"]["users"], 5);
    assert!(before.get("serviceAccounts").is_none());
    let err = table
        .summarize(
            &serde_json::from_value(json!({"filter": {"excludeServiceAccounts": true}})).unwrap(),
        )
        .unwrap_err();
    assert!(err.to_string().contains("user registry"), "{err}");

    table.join_registry(&registry);
    // The default: the bot 5 (the registry's 13 has no row) is left out of every figure.
    let default = summarize(&table, json!({}));
    assert_eq!(default["totals"]["users"], 4);
    assert_eq!(default["totals"]["Searches"], 4);
    assert_eq!(
        default["serviceAccounts"],
        json!({"excluded": true, "users": 1})
    );
    // Counted on request, and said so.
    let counted = summarize(&table, json!({"excludeServiceAccounts": false}));
    assert_eq!(counted["totals"]["users"], 5);
    assert_eq!(counted["totals"]["Searches"], 5);
    assert_eq!(
        counted["serviceAccounts"],
        json!({"excluded": false, "users": 1})
    );
    // The count follows the filter's other conditions: VS Code rows have no bot.
    let vscode = summarize(&table, json!({"clients": ["VS Code"]}));
    assert_eq!(
        vscode["serviceAccounts"],
        json!({"excluded": true, "users": 0})
    );
    let filter: sg_analytics::Filter =
        serde_json::from_value(json!({"clients": ["JetBrains"]})).unwrap();
    assert_eq!(
        table.service_accounts(&filter).unwrap(),
        Some(sg_analytics::ServiceAccounts {
            excluded: true,
            users: 1
        })
    );
    // Growth counts the same users as the summary.
    let growth = table
        .growth(&period_query(json!({"period": "month"})))
        .unwrap();
    assert_eq!(growth.periods[0].active_users, 4);
    let growth = table
        .growth(&period_query(
            json!({"period": "month", "filter": {"excludeServiceAccounts": false}}),
        ))
        .unwrap();
    assert_eq!(growth.periods[0].active_users, 5);
}
