//! The GraphiQL page works on an intranet (issue 17): everything it loads
//! comes from the server itself, with no token, and nothing from elsewhere.

use reqwest::StatusCode;

use crate::support::Fixture;

/// The values of every `src="…"` and `href="…"` attribute of `html`.
fn references(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attribute in ["src=\"", "href=\""] {
        for (at, _) in html.match_indices(attribute) {
            let rest = &html[at + attribute.len()..];
            out.push(rest[..rest.find('"').expect("a closed attribute")].to_owned());
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_loads_nothing_from_outside_the_server() {
    let fx = Fixture::new();
    let server = fx.serve(&[]);
    let http = reqwest::Client::new();
    let page = http.get(server.url("/graphql")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("GraphiQL"), "{html}");
    let refs = references(&html);
    assert_eq!(refs.len(), 4, "React, ReactDOM, GraphiQL and its stylesheet: {refs:?}");
    for r in &refs {
        assert!(r.starts_with("/graphiql/"), "{r} is not served by govledger");
        let file = http.get(server.url(r)).send().await.unwrap();
        assert_eq!(file.status(), StatusCode::OK, "{r}");
        let kind = file.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(kind.starts_with(if r.ends_with(".css") { "text/css" } else { "text/javascript" }), "{r}: {kind}");
        assert!(file.headers()["cache-control"].to_str().unwrap().contains("immutable"), "{r}");
        assert!(file.bytes().await.unwrap().len() > 10_000, "{r} is the whole file");
    }
    let missing = http.get(server.url("/graphiql/jquery.js")).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(server.stop().0.success());
}
