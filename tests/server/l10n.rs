//! Localisation and the time zone of the served pages (issue 17): the
//! dashboard is in the browser's language (zh-CN when nothing says otherwise,
//! `?lang=` to switch), with translated codes; its period picker's dates are
//! midnight Beijing time, so a Beijing quarter on the dashboard is the
//! assessment of the `+08:00` instants over the API (and not of the UTC
//! ones); browsers get error pages in their language with the same stable
//! code while JSON clients are answered as before; and the zh-CN page in
//! headless Chromium, with no request leaving 127.0.0.1.

use serde_json::{Value, json};

use crate::support::{Client, Fixture, Server, govledger, issue_token};

fn client() -> reqwest::Client {
    reqwest::Client::builder().timeout(std::time::Duration::from_secs(60)).build().unwrap()
}

const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

#[tokio::test(flavor = "multi_thread")]
async fn the_dashboard_is_in_the_browsers_language_and_zh_cn_by_default() {
    let fx = Fixture::new();
    let auditor = fx.token("office", "auditor");
    let server = fx.serve(&[]);
    let http = client();
    let page = |accept_language: Option<&'static str>, query: &'static str| {
        let mut request =
            http.get(server.url(&format!("/?from=2024-01-01&to=2024-04-01{query}"))).bearer_auth(&auditor);
        if let Some(l) = accept_language {
            request = request.header("accept-language", l);
        }
        async move {
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };

    let (status, zh) = page(None, "").await;
    assert_eq!(status, 200);
    assert!(zh.contains("<html lang=\"zh-CN\">"), "zh-CN when nothing says otherwise");
    for heading in ["<strong>实时看板</strong>", "<h2>概要</h2>", "<h2>排名</h2>", "<h2>记分卡</h2>"] {
        assert!(zh.contains(heading), "missing {heading}");
    }
    assert!(zh.contains("当前身份：office（审计）"), "the reader's role is translated");
    // Kinds are named, their codes only in a title attribute.
    assert!(zh.contains("<td title=\"public_security\">公安机关</td>"), "the kind is translated");
    assert!(!zh.contains(">public_security<") && !zh.contains("Ranking"), "a raw code or English heading is left");
    // The picker's dates are midnight Beijing time: the period is those instants.
    assert!(zh.contains("from=2023-12-31T16:00:00Z to=2024-03-31T16:00:00Z"), "not Beijing midnights");
    assert!(zh.contains("2024年第一季度（北京时间）"));

    let (_, en) = page(Some("en-US,en;q=0.9,zh-CN;q=0.5"), "").await;
    assert!(
        en.contains("<html lang=\"en\">") && en.contains("<h2>Ranking</h2>") && en.contains("2024 Q1 (Beijing time)")
    );
    assert!(en.contains("<td title=\"public_security\">Public security</td>"));
    let (_, chosen) = page(Some("en-US"), "&lang=zh-CN").await;
    assert!(chosen.contains("<html lang=\"zh-CN\">"), "?lang= wins over the browser");
    let (_, other) = page(Some("fr-FR,de;q=0.8"), "").await;
    assert!(other.contains("<html lang=\"zh-CN\">"), "a language without a catalog falls back to zh-CN");
    let (status, bad) = page(None, "&lang=fr").await;
    assert_eq!(status, 400, "{bad}");
    assert!(bad.contains("request.invalid_query") && bad.contains("zh-CN or en"), "{bad}");

    // A link keeps the chosen language through the redirect that hides the token.
    let no_redirect = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let linked = no_redirect.get(server.url(&format!("/?token={auditor}&lang=en"))).send().await.unwrap();
    assert_eq!(linked.headers()["location"], "/?lang=en");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_configured_for_english_and_utc_shows_utc_midnights_in_english() {
    let fx = Fixture::new();
    let auditor = fx.token("office", "auditor");
    let server = fx.serve(&["--lang", "en", "--tz", "UTC"]);
    let html = client()
        .get(server.url("/?from=2024-01-01&to=2024-04-01"))
        .bearer_auth(&auditor)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("<html lang=\"en\">") && html.contains("2024 Q1 (UTC)"));
    assert!(html.contains("from=2024-01-01T00:00:00Z to=2024-04-01T00:00:00Z"));
}

#[tokio::test(flavor = "multi_thread")]
async fn browsers_get_error_pages_in_their_language_with_the_same_code() {
    let fx = Fixture::new();
    let server = fx.serve(&[]);
    let http = client();

    let page = http.get(server.url("/")).header("accept", BROWSER_ACCEPT).send().await.unwrap();
    assert_eq!(page.status(), 401);
    assert_eq!(page.headers()["www-authenticate"], "Bearer");
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = page.text().await.unwrap();
    assert!(html.contains("<html lang=\"zh-CN\">") && html.contains("<title>错误 401 · govledger</title>"), "{html}");
    assert!(html.contains("<code class=\"error-code\">auth.missing_token</code>"), "the stable code: {html}");
    assert!(html.contains("您尚未登录") && html.contains("?token="), "{html}");

    let page = http
        .get(server.url("/no/such/page"))
        .header("accept", BROWSER_ACCEPT)
        .header("accept-language", "en-GB,en;q=0.9")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 404);
    let html = page.text().await.unwrap();
    assert!(html.contains("<html lang=\"en\">") && html.contains("There is nothing here."), "{html}");
    assert!(html.contains("request.not_found") && html.contains("no such route"), "{html}");
    // A name in the message is escaped like every value of a page.
    let page = http.get(server.url("/?token=%3Cscript%3E")).header("accept", BROWSER_ACCEPT).send().await.unwrap();
    assert_eq!(page.status(), 401);
    assert!(!page.text().await.unwrap().contains("<script>"));

    // JSON clients (fetch, curl, API clients) get the JSON error as before.
    for accept in [None, Some("*/*"), Some("application/json"), Some("application/json, text/html;q=0.5")] {
        let mut request = http.get(server.url("/"));
        if let Some(a) = accept {
            request = request.header("accept", a);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"]["code"], "auth.missing_token", "Accept {accept:?}");
    }
}

/// Every agency's `(rank, score)` in an assessment document over GraphQL.
fn ranks(doc: &Value) -> Vec<(String, Value, Value)> {
    doc["agencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["agencyId"].as_str().unwrap().to_owned(), a["rank"].clone(), a["score"].clone()))
        .collect()
}

/// The `(rank, score)` cells of an agency's row in the dashboard's ranking table.
fn dashboard_row(html: &str, agency: &str) -> (String, String) {
    let ranking = &html[html.find("<section class=\"ranking\">").unwrap()..];
    let ranking = &ranking[..ranking.find("</section>").unwrap()];
    let at = ranking.find(&format!("href=\"#agency-{agency}\"")).unwrap_or_else(|| panic!("no row of {agency}"));
    let row_start = ranking[..at].rfind("<tr").unwrap();
    let row = &ranking[row_start..row_start + ranking[row_start..].find("</tr>").unwrap()];
    let numbers: Vec<&str> =
        row.split("<td class=\"num\">").skip(1).map(|cell| &cell[..cell.find("</td>").unwrap()]).collect();
    (numbers[0].to_owned(), numbers[1].to_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_beijing_quarter_on_the_dashboard_is_the_assessment_of_its_plus_0800_instants() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    // The whole demo year (~41,000 events, a few seconds): a small one has no
    // event that counts in the 8 hours between the edges of the two periods.
    let (code, _, stderr) = govledger(&data, &["demo"]);
    assert_eq!(code, Some(0), "demo failed: {stderr}");
    let token = issue_token(&data, "jj-antifraud-office", "auditor");
    let server = Server::start(&data, root.path(), &[]);
    let api = Client::new(&server, Some(&token));
    let query = "query($from: String!, $to: String!) { assessment(from: $from, to: $to) {
        period { from to } agencies { agencyId rank score indicators { id numerator denominator } } } }";
    let assess = |from: &'static str, to: &'static str| {
        let api = &api;
        async move {
            let r = api.graphql(query, json!({"from": from, "to": to})).await;
            assert!(r.body["errors"].is_null(), "{}", r.text);
            r.body["data"]["assessment"].clone()
        }
    };
    let beijing = assess("2026-07-01T00:00:00+08:00", "2026-10-01T00:00:00+08:00").await;
    let utc = assess("2026-07-01T00:00:00Z", "2026-10-01T00:00:00Z").await;
    // Issue 17: +08:00 instead of Z changes some of the 38 scores (5 when it was filed).
    let utc_scores: std::collections::HashMap<String, Value> =
        ranks(&utc).into_iter().map(|(agency, _, score)| (agency, score)).collect();
    let changed = ranks(&beijing).iter().filter(|(agency, _, score)| utc_scores[agency] != *score).count();
    assert!(changed > 0, "the demo's Q3 must tell Beijing time from UTC for this test to mean anything");

    let html = client()
        .get(server.url("/?from=2026-07-01&to=2026-10-01"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("2026年第三季度（北京时间）"), "the quarter is named in Beijing time");
    let period = &beijing["period"];
    assert!(html.contains(&format!("from={} to={}", period["from"].as_str().unwrap(), period["to"].as_str().unwrap())));
    for (agency, rank, score) in ranks(&beijing) {
        let expected_rank = rank.as_u64().map_or("-".to_owned(), |r| r.to_string());
        let expected_score = score.as_f64().map_or("-".to_owned(), |s| format!("{s:.2}"));
        assert_eq!(dashboard_row(&html, &agency), (expected_rank, expected_score), "{agency}");
    }
    assert!(server.stop().0.success());
}

#[test]
fn the_zh_cn_dashboard_in_headless_chromium_is_chinese_and_loads_nothing_from_elsewhere() {
    let fx = Fixture::new();
    let auditor = fx.token("office", "auditor");
    let server = fx.serve(&[]);
    for (lang, accept) in [("zh-CN", "zh-CN,zh"), ("en", "en-US,en")] {
        let png = crate::chromium::screenshot_path(&fx.root, &format!("dashboard-{lang}.png"));
        let url = server.url(&format!("/?token={auditor}&from=2024-01-01&to=2024-04-01"));
        let (dom, log) = crate::chromium::open_offline(&url, &png, accept);
        let errors = crate::chromium::console_errors(&log);
        assert!(errors.is_empty(), "console errors: {errors:?}");
        crate::chromium::assert_only_local_references(&dom);
        assert!(dom.contains(&format!("<html lang=\"{lang}\">")), "{lang}: the lang attribute");
        if lang == "zh-CN" {
            assert!(dom.contains("<h2>排名</h2>") && dom.contains("<h2>记分卡</h2>") && dom.contains("实时看板"));
            assert!(dom.contains("2024年第一季度（北京时间）"), "a Beijing period");
        } else {
            assert!(dom.contains("<h2>Ranking</h2>") && dom.contains("2024 Q1 (Beijing time)"));
        }
        assert!(dom.contains("class=\"chart ranking\"") && dom.contains("class=\"scorecard\""));
        let png = std::fs::read(&png).unwrap();
        assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "screenshot of {} bytes", png.len());
    }
}
