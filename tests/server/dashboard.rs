//! The live dashboard at `/`: who may open it (every token, an agency
//! token's own agency highlighted; none 401), the token from the header,
//! `?token=` or the cookie it sets, the period picker, the head it polls to
//! refresh, and the page itself in headless Chromium (charts and scorecards
//! render, no console errors).

use serde_json::{Value, json};

use crate::support::{Fixture, envelope};

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(std::time::Duration::from_secs(60)).build().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_dashboard_serves_every_token_and_highlights_an_agencys_own_row() {
    let fx = Fixture::new();
    let coordinator = fx.token("office", "coordinator");
    let evaluator = fx.token("eval-bureau", "evaluator");
    let auditor = fx.token("office", "auditor");
    let agency = fx.token("police", "agency");
    let server = fx.serve(&[]);
    let http = client();

    let none = http.get(server.url("/")).send().await.unwrap();
    assert_eq!(none.status(), 401);
    // An agency token gets the page (assessments only), its own row and scorecard highlighted.
    let own = http.get(server.url("/?from=2024-01-01&to=2024-04-01")).bearer_auth(&agency).send().await.unwrap();
    assert_eq!(own.status(), 200);
    let own = own.text().await.unwrap();
    assert!(own.contains("<tr class=\"own\" aria-current=\"true\">"), "the ranking row is not highlighted");
    let card = own.split("<article").find(|tag| tag.contains("id=\"agency-police\"")).unwrap();
    let card_tag = &card[..card.find('>').unwrap()];
    assert!(card_tag.contains("scorecard own") && card_tag.contains("aria-current=\"true\""), "{card_tag}");
    assert!(own.contains("◀ 本单位") && own.contains("<span class=\"own-marker\">本单位</span>"), "no visible marker");
    assert_eq!(own.matches("aria-current").count(), 2, "only the agency's own row and scorecard");

    let page = http.get(server.url("/")).bearer_auth(&coordinator).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = page.text().await.unwrap();
    assert!(html.contains("实时看板") && html.contains("class=\"chart ranking\""));
    let evaluators = http.get(server.url("/?from=2024-01-01&to=2024-04-01")).bearer_auth(&evaluator).send().await;
    let evaluators = evaluators.unwrap().text().await.unwrap();
    assert!(evaluators.contains("id=\"agency-police\""), "the evaluator's page has the scorecards");
    assert!(!evaluators.contains("aria-current") && !evaluators.contains("class=\"own"), "an evaluator has no own row");

    // A browser link: ?token= is checked, kept in a cookie, and the page
    // redirects to itself without it.
    let no_redirect = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let wrong = no_redirect.get(server.url("/?token=glt_not-a-token")).send().await.unwrap();
    assert_eq!(wrong.status(), 401, "an unknown token in the link is refused");
    let linked =
        no_redirect.get(server.url(&format!("/?token={auditor}&from=2026-01-01&to=2026-04-01"))).send().await.unwrap();
    assert_eq!(linked.status(), 303);
    assert_eq!(linked.headers()["location"], "/?from=2026-01-01&to=2026-04-01");
    let cookie = linked.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let followed =
        http.get(server.url("/?from=2026-01-01&to=2026-04-01")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(followed.status(), 200);
    // The picker's dates are midnight Beijing time (the server's default zone).
    assert!(followed.text().await.unwrap().contains("2026-01-01 00:00:00 +08:00 至 2026-04-01 00:00:00 +08:00"));
    let by_cookie = http.get(server.url("/dashboard/head")).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(by_cookie.status(), 200);
    let head: Value = by_cookie.json().await.unwrap();
    let before = head["head_seq"].as_u64().unwrap();

    // An append moves the head the page polls, so it reloads.
    let event = envelope(
        None,
        "AgencyRegistered",
        "office",
        "2026-01-10T09:00:00+08:00",
        json!({"agency_id": "late-comer", "name": "后来的单位", "kind": "community"}),
    );
    let appended = http.post(server.url("/v1/events")).bearer_auth(&coordinator).json(&event).send().await.unwrap();
    assert!(appended.status().is_success(), "{:?}", appended.text().await);
    let head: Value =
        http.get(server.url("/dashboard/head")).bearer_auth(&evaluator).send().await.unwrap().json().await.unwrap();
    assert_eq!(head["head_seq"].as_u64(), Some(before + 1));
    // The page is drawn at the head it polls from, with the script that polls.
    let page = http.get(server.url("/")).bearer_auth(&evaluator).send().await.unwrap().text().await.unwrap();
    assert!(page.contains(&format!("data-head-seq=\"{}\"", before + 1)), "the page is not at the new head");
    assert!(page.contains("data-head-url=\"/dashboard/head\"") && page.contains("window.location.reload()"));
    let bad = http.get(server.url("/?from=yesterday")).bearer_auth(&evaluator).send().await.unwrap();
    assert_eq!(bad.status(), 400);
}

#[test]
fn the_dashboard_renders_in_headless_chromium() {
    let fx = Fixture::new();
    let auditor = fx.token("office", "auditor");
    let server = fx.serve(&[]);
    let png = fx.root.path().join("dashboard.png");
    let url = server.url(&format!("/?token={auditor}&from=2026-01-01&to=2026-04-01"));
    let (dom, log) = crate::chromium::open_in_chromium(&url, &png);
    let errors = crate::chromium::console_errors(&log);
    assert!(errors.is_empty(), "console errors: {errors:?}");
    assert!(dom.contains("class=\"chart ranking\"") && dom.contains("class=\"chart heatmap\""), "charts missing");
    assert!(dom.contains("class=\"scorecard\""), "scorecards missing");
    assert!(dom.contains("id=\"live\""), "the live bar is missing");
    let png = std::fs::read(&png).unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "screenshot of {} bytes", png.len());
}
