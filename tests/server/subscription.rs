//! The `events` subscription over WebSocket (graphql-transport-ws): a
//! subscriber receives, filtered by type and agency and in seq order, the
//! events another client appends; a socket without a token is refused; a
//! graceful stop ends subscriptions instead of waiting for them, with a
//! close frame.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::support::*;

/// Bound on every wait for a message; a failure, never a synchronisation.
const WAIT: Duration = Duration::from_secs(30);

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(server: &Server) -> Socket {
    let mut request = server.url("/graphql").replace("http://", "ws://").into_client_request().unwrap();
    request.headers_mut().insert("Sec-WebSocket-Protocol", HeaderValue::from_static("graphql-transport-ws"));
    let (socket, response) = tokio_tungstenite::connect_async(request).await.expect("WebSocket handshake failed");
    assert_eq!(response.headers()["sec-websocket-protocol"], "graphql-transport-ws");
    socket
}

async fn send(socket: &mut Socket, message: Value) {
    socket.send(Message::Text(message.to_string().into())).await.unwrap();
}

/// The next JSON text message, or None when the socket closes.
async fn next(socket: &mut Socket) -> Option<Value> {
    loop {
        let message = tokio::time::timeout(WAIT, socket.next()).await.expect("no message within the bound");
        match message {
            Some(Ok(Message::Text(text))) => return Some(serde_json::from_str(&text).unwrap()),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return None,
            Some(Ok(other)) => panic!("unexpected message {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_subscriber_receives_what_another_client_appends() {
    let fx = Fixture::new();
    let auditor = fx.token("regulator", "auditor");
    let police = fx.token("police", "agency");
    let bank1 = fx.token("bank-1", "agency");
    let bank2 = fx.token("bank-2", "agency");
    let server = fx.serve(&[]);

    let mut socket = connect(&server).await;
    send(&mut socket, json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {auditor}")}}))
        .await;
    assert_eq!(next(&mut socket).await, Some(json!({"type": "connection_ack"})));
    // `after` pins where the stream starts, so appends made right after
    // subscribing cannot be missed, however the subscribe message races them.
    let head = Client::new(&server, Some(&auditor)).head_seq().await;
    let query = format!(
        "subscription {{ events(types: [\"FreezeExecuted\", \"FreezeRejected\"], agency: \"bank-1\", after: {head}) \
         {{ seq id type actor hash }} }}"
    );
    send(&mut socket, json!({"id": "s1", "type": "subscribe", "payload": {"query": query}})).await;

    let police = Client::new(&server, Some(&police));
    let bank1 = Client::new(&server, Some(&bank1));
    let bank2 = Client::new(&server, Some(&bank2));
    let r = police
        .append_batch(&[
            freeze_request("F-S1", "bank-1", None),
            freeze_request("F-S2", "bank-1", None),
            freeze_request("F-S3", "bank-2", None),
        ])
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.text);
    // Not matching: another type by bank-1, an answer by bank-2.
    assert_eq!(bank1.append(&publicity("bank-1", "PUB-S", None)).await.status.as_u16(), 201);
    assert_eq!(bank2.append(&freeze_answer("F-S3", "bank-2", true, None)).await.status.as_u16(), 201);
    // Matching, one through HTTP and one through GraphQL.
    let executed = bank1.append(&freeze_answer("F-S1", "bank-1", true, None)).await;
    assert_eq!(executed.status.as_u16(), 201, "{}", executed.text);
    let rejected = bank1.append_gql(&freeze_answer("F-S2", "bank-1", false, None)).await;
    let rejected = rejected.body["data"]["event"].clone();
    assert!(rejected["seq"].is_u64(), "{rejected}");

    for expected in [&executed.body, &rejected] {
        let message = next(&mut socket).await.expect("the subscription ended early");
        assert_eq!(message["type"], "next", "{message}");
        assert_eq!(message["id"], "s1");
        let got = &message["payload"]["data"]["events"];
        for field in ["seq", "id", "type", "actor", "hash"] {
            assert_eq!(got[field], expected[field], "{field} of {message}");
        }
    }

    // A graceful stop ends the subscription and closes the socket rather than
    // waiting for it, with a close frame "going away" (RFC 6455 1001), so the
    // client knows to reconnect elsewhere rather than suspect the network.
    let (status, stdout) = server.stop();
    assert!(status.success(), "exit {status:?}");
    assert!(stdout.contains("stopped; head seq"), "{stdout}");
    let close = loop {
        let message = tokio::time::timeout(WAIT, socket.next()).await.expect("no message within the bound");
        match message {
            Some(Ok(Message::Text(text))) => {
                let m: Value = serde_json::from_str(&text).unwrap();
                assert_eq!(m["type"], "complete", "after shutdown only `complete` may come: {m}");
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(Message::Close(frame))) => break frame,
            other => panic!("the socket ended without a close frame: {other:?}"),
        }
    };
    let close = close.expect("the close frame carries a code");
    assert_eq!(u16::from(close.code), 1001, "{close:?}");
    assert!(close.reason.contains("shutting down"), "{close:?}");
}

#[tokio::test]
async fn a_socket_without_a_valid_token_is_refused() {
    let fx = Fixture::new();
    let server = fx.serve(&[]);
    for payload in [json!({}), json!({"Authorization": "Bearer glt_forged"})] {
        let mut socket = connect(&server).await;
        send(&mut socket, json!({"type": "connection_init", "payload": payload})).await;
        // graphql-transport-ws answers a refused init by closing (4403), never with an ack.
        let reply = next(&mut socket).await;
        assert_eq!(reply, None, "expected the socket to close, got {reply:?}");
    }
}

#[tokio::test]
async fn revoking_the_token_ends_its_subscription() {
    let fx = Fixture::new();
    let auditor = fx.token("regulator", "auditor");
    let bank1 = fx.token("bank-1", "agency");
    let server = fx.serve(&[]);
    let (code, list, _) = govledger(&fx.data(), &["token", "list", "--json"]);
    assert_eq!(code, Some(0));
    let auditor_id =
        list.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()).find(|e| e["role"] == "auditor").unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();

    let mut socket = connect(&server).await;
    send(&mut socket, json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {auditor}")}}))
        .await;
    assert_eq!(next(&mut socket).await, Some(json!({"type": "connection_ack"})));
    let head = Client::new(&server, Some(&auditor)).head_seq().await;
    let query = format!("subscription {{ events(agency: \"bank-1\", after: {head}) {{ seq type }} }}");
    send(&mut socket, json!({"id": "s1", "type": "subscribe", "payload": {"query": query}})).await;

    // Delivered while the token is live.
    let bank1 = Client::new(&server, Some(&bank1));
    let first = bank1.append(&publicity("bank-1", "PUB-R1", None)).await;
    assert_eq!(first.status.as_u16(), 201, "{}", first.text);
    let message = next(&mut socket).await.expect("the subscription ended early");
    assert_eq!((&message["type"], &message["payload"]["data"]["events"]["seq"]), (&json!("next"), &first.body["seq"]));

    // Revoked through the CLI while the server runs: the next event ends the stream instead of reaching it.
    let (code, _, err) = govledger(&fx.data(), &["token", "revoke", &auditor_id]);
    assert_eq!(code, Some(0), "{err}");
    let second = bank1.append(&publicity("bank-1", "PUB-R2", None)).await;
    assert_eq!(second.status.as_u16(), 201, "{}", second.text);
    let message = next(&mut socket).await;
    if let Some(m) = message {
        assert_eq!(m, json!({"id": "s1", "type": "complete"}), "after revocation only `complete` may come");
    }
    let (status, _) = server.stop();
    assert!(status.success(), "exit {status:?}");
}
