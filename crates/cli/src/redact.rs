//! Log lines without passwords: the log writer scrubs the passwords of the
//! process's store URLs (`govledger_credentials::Secrets`) from each line
//! before it reaches standard error. `tracing-subscriber` writes one event
//! with one `write_all`, so a line is scrubbed whole.

use std::io::Write;

use govledger_credentials::Secrets;

/// Makes the scrubbing writers of the log (`MakeWriter`).
#[derive(Clone)]
pub struct Scrubbed<W> {
    secrets: Secrets,
    make: W,
}

impl Scrubbed<fn() -> std::io::Stderr> {
    /// Standard error, scrubbed of `secrets`.
    pub fn stderr(secrets: Secrets) -> Self {
        Scrubbed { secrets, make: std::io::stderr }
    }
}

/// One writer of [`Scrubbed`].
pub struct ScrubbedWriter<'a, W: Write> {
    secrets: &'a Secrets,
    inner: W,
}

impl<W: Write> Write for ScrubbedWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.secrets.is_empty() {
            return self.inner.write(buf);
        }
        let text = String::from_utf8_lossy(buf);
        self.inner.write_all(self.secrets.scrub(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl<'a, W: Write, F: Fn() -> W + 'static> tracing_subscriber::fmt::MakeWriter<'a> for Scrubbed<F> {
    type Writer = ScrubbedWriter<'a, W>;

    fn make_writer(&'a self) -> Self::Writer {
        ScrubbedWriter { secrets: &self.secrets, inner: (self.make)() }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap_or_else(|e| e.into_inner()).extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_log_line_that_quotes_a_store_url_loses_its_password() {
        let captured = Captured::default();
        let sink = captured.clone();
        let writer = Scrubbed {
            secrets: Secrets::of_urls(["postgres://gl:hunter2-secret@db/city"]),
            make: move || sink.clone(),
        };
        let subscriber = tracing_subscriber::fmt().with_writer(writer).json().finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!(url = "postgres://gl:hunter2-secret@db/city", "cannot connect with hunter2-secret");
        });
        let text = String::from_utf8(captured.0.lock().unwrap_or_else(|e| e.into_inner()).clone()).unwrap_or_default();
        assert!(text.contains("cannot connect with ***") && text.contains("gl:***@db"), "{text}");
        assert!(!text.contains("hunter2-secret"), "{text}");
    }
}
