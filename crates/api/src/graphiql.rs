//! The GraphiQL page and the files it loads, all served by this server: the
//! page must work on an intranet with no internet (issue 17). The files are
//! the unmodified npm builds in `crates/api/assets/graphiql/` (versions,
//! sums and licences in its README), embedded at build time. Neither the page
//! nor the files hold data, so they need no token.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

/// The page (`GET /graphql` without a WebSocket upgrade).
const PAGE: &str = include_str!("graphiql.html");

/// (file name, content type, bytes): what `/graphiql/<name>` serves.
const FILES: [(&str, &str, &[u8]); 4] = [
    (
        "react-18.3.1.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/react-18.3.1.production.min.js"),
    ),
    (
        "react-dom-18.3.1.production.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/react-dom-18.3.1.production.min.js"),
    ),
    (
        "graphiql-3.8.3.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../assets/graphiql/graphiql-3.8.3.min.js"),
    ),
    ("graphiql-3.8.3.min.css", "text/css; charset=utf-8", include_bytes!("../assets/graphiql/graphiql-3.8.3.min.css")),
];

/// The GraphiQL page.
pub(crate) fn page() -> Response {
    Html(PAGE).into_response()
}

/// `GET /graphiql/{file}`: one of the page's files, cached for a year (each
/// name carries its version), or 404.
#[utoipa::path(get, path = "/graphiql/{file}", tag = "graphql",
    params(("file" = String, Path, description = "A file the GraphiQL page loads, e.g. `graphiql-3.8.3.min.js`")),
    responses((status = 200, description = "The file (JavaScript or CSS; no data, no token needed)"),
        (status = 404, description = "No such file")))]
pub(crate) async fn file(Path(name): Path<String>) -> Response {
    match FILES.iter().find(|(n, _, _)| *n == name) {
        Some((_, content_type, bytes)) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
                (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable")),
            ],
            *bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
