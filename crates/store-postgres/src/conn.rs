//! The one module that knows how tokio-postgres connections are made and
//! run: the store's own tokio runtime, connecting (with the server's notices
//! kept for the writer), and what a failure means for an operator.
//!
//! The client is async; the storage contract is blocking, because the
//! ledger's writer is a plain thread. Like the KurrentDB store, each store
//! owns a small runtime; blocking calls hand a `'static` future to it and
//! wait for the answer on a channel, so they work from any thread, a
//! server's async tasks included.

use std::future::Future;
use std::sync::{Arc, Mutex};

use futures_util::StreamExt;
use govledger_ledger::StoreError;
use tokio::runtime::Runtime;
use tokio_postgres::error::SqlState;
use tokio_postgres::{AsyncMessage, Client, NoTls, Notification};

use crate::PgConfig;

/// The store's runtime. Dropping it does not wait for its tasks, so a store
/// may be dropped inside a server's runtime.
pub(crate) struct Rt(Option<Runtime>);

impl Rt {
    pub(crate) fn new() -> Result<Self, StoreError> {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("govledger-postgres")
            .enable_all()
            .build()
            .map(|rt| Rt(Some(rt)))
            .map_err(|e| StoreError::Io(format!("cannot start the PostgreSQL client's runtime: {e}")))
    }

    pub(crate) fn handle(&self) -> Option<&tokio::runtime::Handle> {
        self.0.as_ref().map(Runtime::handle)
    }

    /// Runs `future` on the runtime and waits for its output.
    pub(crate) fn block<T: Send + 'static>(
        &self,
        future: impl Future<Output = Result<T, StoreError>> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.submit(future).wait()
    }

    /// Starts `future` on the runtime; its output is waited for later.
    pub(crate) fn submit<T: Send + 'static>(
        &self,
        future: impl Future<Output = Result<T, StoreError>> + Send + 'static,
    ) -> Pending<T> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        match &self.0 {
            Some(runtime) => {
                runtime.spawn(async move {
                    let _ = tx.send(future.await);
                });
            }
            None => {
                let _ = tx.send(Err(StoreError::Io("the PostgreSQL client is shut down".into())));
            }
        }
        Pending(rx)
    }
}

/// The output of a future started with [`Rt::submit`].
pub(crate) struct Pending<T>(std::sync::mpsc::Receiver<Result<T, StoreError>>);

impl<T> Pending<T> {
    pub(crate) fn wait(self) -> Result<T, StoreError> {
        self.0.recv().map_err(|_| StoreError::Io("the PostgreSQL client stopped".into()))?
    }
}

impl Drop for Rt {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// Notices (warnings) the server sent on one connection, oldest first.
pub(crate) type Notices = Arc<Mutex<Vec<String>>>;

/// One connection whose messages are driven by a task on the current
/// runtime: notices are kept in `notices`, notifications sent to `notify`.
pub(crate) async fn connect(
    config: &PgConfig,
    notices: Notices,
    notify: Option<tokio::sync::mpsc::UnboundedSender<Notification>>,
) -> Result<Client, StoreError> {
    let (client, mut connection) = config.pg.connect(NoTls).await.map_err(|e| describe(&e, config))?;
    tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notice(notice)) => {
                    tracing::warn!(severity = notice.severity(), "PostgreSQL: {}", notice.message());
                    notices.lock().unwrap_or_else(|e| e.into_inner()).push(notice.message().to_owned());
                }
                Ok(AsyncMessage::Notification(n)) => {
                    if let Some(notify) = &notify {
                        let _ = notify.send(n);
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::debug!(error = %e, "PostgreSQL connection ended");
                    break;
                }
            }
        }
    });
    Ok(client)
}

/// The store's reading connections: a deadpool of tokio-postgres clients.
pub(crate) fn pool(config: &PgConfig) -> Result<deadpool_postgres::Pool, StoreError> {
    let manager = deadpool_postgres::Manager::from_config(
        config.pg.clone(),
        NoTls,
        deadpool_postgres::ManagerConfig { recycling_method: deadpool_postgres::RecyclingMethod::Fast },
    );
    deadpool_postgres::Pool::builder(manager)
        .max_size(16)
        .build()
        .map_err(|e| StoreError::Io(format!("cannot build the PostgreSQL connection pool: {e}")))
}

/// A pooled connection, or what an operator should do about not getting one.
pub(crate) async fn pooled(
    pool: &deadpool_postgres::Pool,
    config: &PgConfig,
) -> Result<deadpool_postgres::Object, StoreError> {
    pool.get().await.map_err(|e| match e {
        deadpool_postgres::PoolError::Backend(e) => describe(&e, config),
        other => StoreError::Io(format!("cannot get a PostgreSQL connection to {}: {other}", config.target())),
    })
}

/// A failure of the client, as a sentence that says what to do. Every
/// PostgreSQL error of the store goes through here.
pub(crate) fn describe(e: &tokio_postgres::Error, config: &PgConfig) -> StoreError {
    let target = config.target();
    let io_kind =
        std::error::Error::source(e).and_then(|s| s.downcast_ref::<std::io::Error>()).map(std::io::Error::kind);
    if io_kind == Some(std::io::ErrorKind::ConnectionRefused) {
        return StoreError::Io(format!(
            "cannot connect to PostgreSQL at {target}: connection refused; is the server running and listening \
             there (listen_addresses, port)?"
        ));
    }
    if e.to_string().contains("timeout") && e.as_db_error().is_none() {
        return StoreError::Io(format!(
            "cannot connect to PostgreSQL at {target}: no answer within the connect timeout; check the host, the \
             port and the firewall"
        ));
    }
    let Some(db) = e.as_db_error() else {
        if e.is_closed() {
            return StoreError::Io(format!("the connection to PostgreSQL at {target} was lost ({e}); retry"));
        }
        return StoreError::Io(format!("PostgreSQL at {target}: {e}"));
    };
    let code = db.code();
    if *code == SqlState::INVALID_PASSWORD || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION {
        StoreError::Io(format!(
            "PostgreSQL at {target} refused the credentials of user {:?} ({}): check the user and password in the \
             --store URL and the server's pg_hba.conf",
            config.pg.get_user().unwrap_or(""),
            db.message()
        ))
    } else if *code == SqlState::INVALID_CATALOG_NAME {
        StoreError::Io(format!("PostgreSQL at {target}: {}; create the database first (createdb)", db.message()))
    } else if *code == SqlState::READ_ONLY_SQL_TRANSACTION {
        StoreError::Io(format!(
            "PostgreSQL at {target} is a read-only standby; point --store at the primary (or promote this server)"
        ))
    } else if *code == SqlState::LOCK_NOT_AVAILABLE {
        StoreError::Io(format!(
            "another writer held the ledger in {target} for longer than the lock timeout (a long import, or a commit \
             waiting for a synchronous standby that is down: see pg_stat_replication); retry"
        ))
    } else if *code == SqlState::INSUFFICIENT_PRIVILEGE {
        StoreError::Io(format!(
            "PostgreSQL at {target}: {}; grant the store's user the rights on its schema (ops/RUNBOOK.md)",
            db.message()
        ))
    } else if matches!(code.code().get(..2), Some("08") | Some("57")) {
        StoreError::Io(format!("PostgreSQL at {target} is unavailable ({}); retry", db.message()))
    } else {
        StoreError::Io(format!("PostgreSQL at {target}: {}", db.message()))
    }
}

/// Whether the error says a unique key (the event's seq or id) was taken.
pub(crate) fn is_unique_violation(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&SqlState::UNIQUE_VIOLATION)
}
