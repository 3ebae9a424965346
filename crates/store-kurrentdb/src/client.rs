//! The one module that knows the official KurrentDB gRPC client (crate
//! `kurrentdb`): a [`Stream`] over one KurrentDB stream.
//!
//! The client is async (tokio); the storage contract is blocking, because
//! the ledger's writer is a plain thread. Each `KurrentStream` owns a small
//! tokio runtime that runs the client and a catch-up subscription; blocking
//! calls hand a future to it and wait for the answer on a channel, so they
//! work from any thread. Every call has a deadline, so a partitioned
//! cluster makes calls fail (and be retried) instead of hang.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use govledger_ledger::StoreError;
use kurrentdb::{
    AppendToStreamOptions, Client, ClientSettings, CurrentRevision, EventData, ReadStreamOptions, RecordedEvent,
    StreamPosition, StreamState, SubscribeToStreamOptions,
};
use serde_json::value::RawValue;
use tokio::runtime::Runtime;
use tokio::sync::watch;
use tonic::Code;

use crate::KurrentConfig;
use crate::stream::{OutgoingEvent, RecordedRow, Stream, StreamError};

/// Longest wait for one call before it counts as unavailable.
const DEADLINE: Duration = Duration::from_secs(10);
/// Pause before the subscription is opened again after it failed.
const RESUBSCRIBE_PAUSE: Duration = Duration::from_secs(1);

/// One KurrentDB stream through the official client.
pub struct KurrentStream {
    client: Client,
    stream: String,
    length: Arc<watch::Sender<u64>>,
    /// `Option` only so that `Drop` can shut it down without blocking.
    runtime: Option<Runtime>,
}

impl KurrentStream {
    /// Builds a client for `config` and starts following the stream. Does
    /// not wait for the cluster: the first call that needs it connects.
    pub fn connect(config: &KurrentConfig) -> Result<Self, StoreError> {
        let settings: ClientSettings = config.connection.parse().map_err(|e| {
            // The client's message may quote the string: it is scrubbed of the password.
            let secrets = govledger_credentials::Secrets::of_urls([config.connection.as_str()]);
            StoreError::Io(secrets.scrub(&format!(
                "invalid KurrentDB connection string {:?}: {e}",
                govledger_credentials::redact_url(&config.connection)
            )))
        })?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("govledger-kurrentdb")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Io(format!("cannot start the KurrentDB client's runtime: {e}")))?;
        let client = Client::with_runtime_handle(runtime.handle().clone(), settings)
            .map_err(|e| StoreError::Io(format!("cannot create the KurrentDB client: {e}")))?;
        let length = Arc::new(watch::channel(0).0);
        runtime.spawn(follow(client.clone(), config.stream.clone(), length.clone()));
        Ok(KurrentStream { client, stream: config.stream.clone(), length, runtime: Some(runtime) })
    }

    /// Runs `future` on the client's runtime and waits for its output.
    fn block<T: Send + 'static>(&self, future: impl Future<Output = T> + Send + 'static) -> Result<T, StreamError> {
        let Some(runtime) = &self.runtime else {
            return Err(StreamError::Failed("the KurrentDB client is shut down".into()));
        };
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        runtime.spawn(async move {
            let _ = tx.send(future.await);
        });
        rx.recv().map_err(|_| StreamError::Unavailable("the KurrentDB client stopped".into()))
    }
}

impl Drop for KurrentStream {
    fn drop(&mut self) {
        // Dropping a runtime waits for its tasks, which is not allowed
        // inside another runtime (a server); this does not wait.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// What a failure of the client means for the store.
pub fn classify(e: &kurrentdb::Error) -> StreamError {
    use kurrentdb::Error as E;
    match e {
        E::WrongExpectedVersion { current, .. } => StreamError::WrongExpectedRevision {
            current: match current {
                CurrentRevision::Current(r) => Some(*r),
                CurrentRevision::NoStream => None,
            },
        },
        E::ServerError(_)
        | E::NotLeaderException(_)
        | E::ConnectionClosed
        | E::GrpcConnectionError(_)
        | E::DeadlineExceeded => StreamError::Unavailable(e.to_string()),
        E::Grpc {
            code: Code::Unavailable | Code::DeadlineExceeded | Code::Aborted | Code::ResourceExhausted, ..
        } => StreamError::Unavailable(e.to_string()),
        _ => StreamError::Failed(e.to_string()),
    }
}

/// The client's form of an event: the canonical body as the JSON payload,
/// exactly (a `RawValue` serializes as its own text).
pub fn event_data(e: &OutgoingEvent) -> Result<EventData, StreamError> {
    let raw = |bytes: &[u8], what: &str| {
        String::from_utf8(bytes.to_vec())
            .map_err(|_| StreamError::Failed(format!("the event's {what} is not UTF-8")))
            .and_then(|text| RawValue::from_string(text).map_err(|err| StreamError::Failed(format!("{what}: {err}"))))
    };
    let data = raw(&e.data, "payload")?;
    let metadata = raw(&e.metadata, "metadata")?;
    EventData::json(&e.event_type, &data)
        .and_then(|d| d.id(e.id).metadata_as_json(&metadata))
        .map_err(|err| StreamError::Failed(err.to_string()))
}

fn row(e: &RecordedEvent) -> RecordedRow {
    RecordedRow {
        revision: e.revision,
        id: e.id,
        event_type: e.event_type.clone(),
        data: e.data.to_vec(),
        metadata: e.custom_metadata.to_vec(),
    }
}

async fn read_rows(
    client: Client,
    stream: String,
    options: ReadStreamOptions,
) -> Result<Vec<RecordedRow>, kurrentdb::Error> {
    let mut reader = match client.read_stream(stream, &options).await {
        Ok(r) => r,
        Err(kurrentdb::Error::ResourceNotFound) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut rows = Vec::new();
    loop {
        match reader.next().await {
            Ok(Some(event)) => rows.push(row(event.get_original_event())),
            Ok(None) | Err(kurrentdb::Error::ResourceNotFound) => return Ok(rows),
            Err(e) => return Err(e),
        }
    }
}

impl Stream for KurrentStream {
    fn append(&self, expected: Option<u64>, events: &[OutgoingEvent]) -> Result<u64, StreamError> {
        let data = events.iter().map(event_data).collect::<Result<Vec<_>, _>>()?;
        let state = match expected {
            None => StreamState::NoStream,
            Some(r) => StreamState::StreamRevision(r),
        };
        let options = AppendToStreamOptions::default().stream_state(state).deadline(DEADLINE);
        let (client, stream) = (self.client.clone(), self.stream.clone());
        let written = self.block(async move { client.append_to_stream(stream, &options, data).await })?;
        match written {
            Ok(result) => {
                self.length.send_if_modified(|n| {
                    let known = result.next_expected_version + 1;
                    (known > *n).then(|| *n = known).is_some()
                });
                Ok(result.next_expected_version)
            }
            Err(e) => Err(classify(&e)),
        }
    }

    fn read(&self, from: u64, max: usize) -> Result<Vec<RecordedRow>, StreamError> {
        let options = ReadStreamOptions::default()
            .forwards()
            .position(StreamPosition::Position(from))
            .max_count(max)
            .deadline(DEADLINE);
        let (client, stream) = (self.client.clone(), self.stream.clone());
        self.block(read_rows(client, stream, options))?.map_err(|e| classify(&e))
    }

    fn last(&self) -> Result<Option<RecordedRow>, StreamError> {
        let options =
            ReadStreamOptions::default().backwards().position(StreamPosition::End).max_count(1).deadline(DEADLINE);
        let (client, stream) = (self.client.clone(), self.stream.clone());
        Ok(self.block(read_rows(client, stream, options))?.map_err(|e| classify(&e))?.pop())
    }

    fn watch(&self) -> watch::Receiver<u64> {
        self.length.subscribe()
    }
}

/// Keeps `length` at the number of events the stream holds: reads the last
/// revision, then follows a catch-up subscription from there; opens it again
/// after a failure. Runs until the runtime shuts down.
async fn follow(client: Client, stream: String, length: Arc<watch::Sender<u64>>) {
    let raise = |known: u64| {
        length.send_if_modified(|n| (known > *n).then(|| *n = known).is_some());
    };
    loop {
        let options = ReadStreamOptions::default().backwards().position(StreamPosition::End).max_count(1);
        if let Ok(mut last) = read_rows(client.clone(), stream.clone(), options).await
            && let Some(row) = last.pop()
        {
            raise(row.revision + 1);
        }
        let known = *length.borrow();
        // A subscription from revision r delivers the events after r.
        let start = if known == 0 { StreamPosition::Start } else { StreamPosition::Position(known - 1) };
        let mut subscription =
            client.subscribe_to_stream(stream.clone(), &SubscribeToStreamOptions::default().start_from(start)).await;
        loop {
            match subscription.next().await {
                Ok(event) => raise(event.get_original_event().revision + 1),
                Err(e) => {
                    tracing::debug!(error = %e, "the KurrentDB subscription ended; opening it again");
                    break;
                }
            }
        }
        tokio::time::sleep(RESUBSCRIBE_PAUSE).await;
    }
}

#[cfg(test)]
mod tests {
    use kurrentdb::{CurrentRevision, Endpoint, Error as E, StreamState};

    use super::*;

    #[test]
    fn client_errors_map_to_conflict_retry_or_failure() {
        let wrong =
            E::WrongExpectedVersion { expected: StreamState::StreamRevision(4), current: CurrentRevision::Current(9) };
        assert_eq!(classify(&wrong), StreamError::WrongExpectedRevision { current: Some(9) });
        let none =
            E::WrongExpectedVersion { expected: StreamState::StreamRevision(4), current: CurrentRevision::NoStream };
        assert_eq!(classify(&none), StreamError::WrongExpectedRevision { current: None });
        for transient in [
            E::ServerError("node shutting down".into()),
            E::NotLeaderException(Endpoint { host: "node2".into(), port: 2113 }),
            E::ConnectionClosed,
            E::DeadlineExceeded,
            E::Grpc { code: tonic::Code::Unavailable, message: "connection refused".into() },
        ] {
            assert!(matches!(classify(&transient), StreamError::Unavailable(_)), "{transient}");
        }
        for fatal in
            [E::AccessDenied, E::ResourceDeleted, E::Grpc { code: tonic::Code::InvalidArgument, message: "x".into() }]
        {
            assert!(matches!(classify(&fatal), StreamError::Failed(_)), "{fatal}");
        }
    }

    #[test]
    fn a_raw_json_payload_serializes_to_its_exact_bytes() {
        // What `EventData::json` does with the payload: `serde_json::to_vec`.
        let body = r#"{"actor":"psb","data":{"summary":"\u0000 é \"q\" 😀"},"seq":1}"#;
        let raw = RawValue::from_string(body.to_owned()).unwrap();
        assert_eq!(serde_json::to_vec(&raw).unwrap(), body.as_bytes());
        let event = OutgoingEvent {
            id: uuid::Uuid::now_v7(),
            event_type: "PublicityDelivered".into(),
            data: body.as_bytes().to_vec(),
            metadata: b"{\"hash\":\"00\"}".to_vec(),
        };
        assert!(event_data(&event).is_ok());
        let not_json = OutgoingEvent { data: b"{not json".to_vec(), ..event };
        assert!(matches!(event_data(&not_json), Err(StreamError::Failed(_))));
    }

    #[test]
    fn a_bad_connection_string_is_refused_at_connect() {
        let config = KurrentConfig { connection: "kurrentdb://".into(), stream: "s".into(), max_append_bytes: 1 << 20 };
        match KurrentStream::connect(&config) {
            Err(StoreError::Io(m)) => assert!(m.contains("invalid KurrentDB connection string"), "{m}"),
            Err(other) => panic!("expected Io, got {other}"),
            Ok(_) => panic!("connected with an empty connection string"),
        }
    }
}
