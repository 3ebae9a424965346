//! The GraphiQL page works on an intranet (issue 17): everything it loads
//! comes from the server itself, with no token, and nothing from elsewhere;
//! opened after the dashboard, it uses the dashboard's session cookie.

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

/// The session cookie the dashboard sets for `/?token=TOKEN`, as `name=value`.
async fn session_cookie(server: &crate::support::Server, token: &str) -> String {
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let r = http.get(server.url(&format!("/?token={token}"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let cookie = r.headers()["set-cookie"].to_str().unwrap();
    cookie.split(';').next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_queries_and_subscribes_with_the_dashboards_cookie() {
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::http::HeaderValue;

    let fx = Fixture::new();
    let token = fx.token("police", "agency");
    let server = fx.serve(&[]);
    let http = reqwest::Client::new();
    // The page sends no placeholder header, which would be refused instead of the cookie.
    let page = http.get(server.url("/graphql")).send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("Bearer glt_"), "{page}");

    let cookie = session_cookie(&server, &token).await;
    let query = serde_json::json!({"query": "{ head { seq } }"}).to_string();
    let post = |origin: Option<&str>, cookie: Option<String>| {
        let mut req = http.post(server.url("/graphql")).header("content-type", "application/json").body(query.clone());
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        req.send()
    };
    // As GraphiQL's fetch sends it: the cookie, and this server as Origin.
    let origin = server.base.as_str();
    let r = post(Some(origin), Some(cookie.clone())).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["data"]["head"]["seq"].as_u64(), Some(crate::support::CITY_EVENTS), "{body}");
    // Without the cookie, or from a page of another origin with it: no token.
    for (origin, cookie) in [(Some(origin), None), (Some("http://127.0.0.1:1"), Some(cookie.clone()))] {
        let r = post(origin, cookie).await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["errors"][0]["extensions"]["code"], "auth.missing_token", "{body}");
    }

    // A subscription's WebSocket carries the cookie too: acknowledged with an empty init payload.
    let mut request = server.url("/graphql").replace("http://", "ws://").into_client_request().unwrap();
    let headers = request.headers_mut();
    headers.insert("Sec-WebSocket-Protocol", HeaderValue::from_static("graphql-transport-ws"));
    headers.insert("Cookie", HeaderValue::from_str(&cookie).unwrap());
    headers.insert("Origin", HeaderValue::from_str(origin).unwrap());
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let init = serde_json::json!({"type": "connection_init", "payload": {}}).to_string();
    socket.send(Message::Text(init.into())).await.unwrap();
    let reply = tokio::time::timeout(std::time::Duration::from_secs(30), socket.next()).await.unwrap();
    let Some(Ok(Message::Text(text))) = reply else { panic!("no acknowledgement: {reply:?}") };
    assert!(text.contains("connection_ack"), "{text}");
    drop(socket);
    assert!(server.stop().0.success());
}
