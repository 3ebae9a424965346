//! Headless Chromium for the report and dashboard tests: the DOM after
//! scripts ran, the browser's log (console messages) and a screenshot. Fails
//! loudly, saying how to install it, when Chromium is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Headless Chromium, or a loud failure saying how to install it.
pub fn chromium() -> PathBuf {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if let Ok(out) = Command::new("which").arg(name).output()
            && out.status.success()
        {
            return PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        }
    }
    panic!(
        "this test needs headless Chromium and it is not installed: run \
         `apt-get update && apt-get install -y --no-install-recommends chromium` (.ci/run does)"
    );
}

/// Opens `url` in headless Chromium: (DOM after scripts, browser log), with
/// a screenshot into `screenshot`.
pub fn open_in_chromium(url: &str, screenshot: &Path) -> (String, String) {
    open_with(url, screenshot, &[])
}

/// Like [`open_in_chromium`], for a browser asking for `accept_language`
/// that can reach nothing but 127.0.0.1: every other host name fails to
/// resolve, so a request elsewhere would be a console error.
#[allow(dead_code, reason = "the CLI tests include this module but open no server page")]
pub fn open_offline(url: &str, screenshot: &Path, accept_language: &str) -> (String, String) {
    let lang = format!("--accept-lang={accept_language}");
    open_with(url, screenshot, &[&lang, "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"])
}

/// Every `src`, `href` and `action` of the page points to the page's own server.
#[allow(dead_code, reason = "the CLI tests include this module but open no server page")]
pub fn assert_only_local_references(dom: &str) {
    for attribute in [" src=\"", " href=\"", " action=\""] {
        for (at, _) in dom.match_indices(attribute) {
            let rest = &dom[at + attribute.len()..];
            let value = &rest[..rest.find('"').unwrap_or(rest.len())];
            let local = value.starts_with(['/', '#', '?']) || value.starts_with("http://127.0.0.1");
            assert!(local && !value.starts_with("//"), "the page refers to {value:?}, outside the server");
        }
    }
}

/// Where a test's screenshot goes: `GOVLEDGER_SCREENSHOTS_DIR` when set (to
/// refresh those of `docs/`), else the test's own directory.
#[allow(dead_code, reason = "not every test binary takes screenshots for docs/")]
pub fn screenshot_path(scratch: &tempfile::TempDir, name: &str) -> PathBuf {
    match std::env::var_os("GOVLEDGER_SCREENSHOTS_DIR") {
        Some(dir) => PathBuf::from(dir).join(name),
        None => scratch.path().join(name),
    }
}

fn open_with(url: &str, screenshot: &Path, extra: &[&str]) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let base = |c: &mut Command| {
        c.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=7000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra);
    };
    let mut dump = Command::new(chromium());
    base(&mut dump);
    let dom = dump.arg("--dump-dom").arg(url).output().expect("cannot run chromium");
    assert!(dom.status.success(), "chromium failed: {}", String::from_utf8_lossy(&dom.stderr));
    let mut shot = Command::new(chromium());
    base(&mut shot);
    let png = shot
        .arg(format!("--screenshot={}", screenshot.display()))
        .arg("--window-size=1280,2000")
        .arg(url)
        .output()
        .expect("cannot run chromium");
    assert!(png.status.success(), "chromium screenshot failed: {}", String::from_utf8_lossy(&png.stderr));
    let log = format!("{}{}", String::from_utf8_lossy(&dom.stderr), String::from_utf8_lossy(&png.stderr));
    (String::from_utf8_lossy(&dom.stdout).into_owned(), log)
}

/// Console messages and script errors in Chromium's log.
pub fn console_errors(log: &str) -> Vec<&str> {
    log.lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught") || l.contains("ERR_FILE_NOT_FOUND"))
        .collect()
}

/// Prints `url` to PDF with headless Chromium (the page's own `@page` size
/// and margins apply); returns the PDF's bytes.
#[allow(dead_code, reason = "the server tests include this module but print no PDF")]
pub fn print_to_pdf(url: &str, pdf: &Path) -> Vec<u8> {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(chromium())
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-pdf-header-footer"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(url)
        .output()
        .expect("cannot run chromium");
    assert!(out.status.success(), "chromium print failed: {}", String::from_utf8_lossy(&out.stderr));
    std::fs::read(pdf).unwrap()
}
