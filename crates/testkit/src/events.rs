//! A server-sent-events client for the alert stream (`eventsource-stream` parses the
//! stream), and a webhook receiver on loopback.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use serde_json::Value;
use tokio::sync::mpsc;

/// One SSE event.
#[derive(Debug, Clone)]
pub struct SseEvent {
    pub event: String,
    pub id: String,
    pub data: Value,
}

/// Connected to a stream; events arrive on `next`.
pub struct SseClient {
    rx: mpsc::UnboundedReceiver<SseEvent>,
    task: tokio::task::JoinHandle<()>,
}

impl SseClient {
    /// Connects and waits for the response headers (so the stream is subscribed).
    pub async fn connect(
        url: &str,
        token: Option<&str>,
        last_event_id: Option<&str>,
    ) -> Result<SseClient, u16> {
        let mut request = reqwest::Client::new()
            .get(url)
            .header("Accept", "text/event-stream");
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id);
        }
        Self::start(request).await
    }

    /// Connects as a browser's `EventSource` does: with its cookies, no Authorization.
    pub async fn connect_with_cookie(url: &str, cookie: &str) -> Result<SseClient, u16> {
        let request = reqwest::Client::new()
            .get(url)
            .header("Accept", "text/event-stream")
            .header("Cookie", cookie);
        Self::start(request).await
    }

    async fn start(request: reqwest::RequestBuilder) -> Result<SseClient, u16> {
        let response = request.send().await.unwrap();
        if !response.status().is_success() {
            return Err(response.status().as_u16());
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            let mut events = response.bytes_stream().eventsource();
            while let Some(Ok(received)) = events.next().await {
                let data =
                    serde_json::from_str(&received.data).unwrap_or(Value::String(received.data));
                let event = SseEvent {
                    event: received.event,
                    id: received.id,
                    data,
                };
                if tx.send(event).is_err() {
                    return;
                }
            }
        });
        Ok(SseClient { rx, task })
    }

    pub async fn next(&mut self, timeout: Duration) -> Option<SseEvent> {
        tokio::time::timeout(timeout, self.rx.recv())
            .await
            .ok()
            .flatten()
    }

    /// Nothing arrives within `within`.
    pub async fn assert_quiet(&mut self, within: Duration) {
        if let Some(e) = self.next(within).await {
            panic!("unexpected event: {e:?}");
        }
    }
}

impl Drop for SseClient {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One request a webhook receiver got.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The status the receiver answered.
    pub answered: u16,
}

/// A webhook receiver on 127.0.0.1 that answers 500 to the first `fail_first` requests.
pub struct WebhookReceiver {
    pub url: String,
    pub deliveries: Arc<Mutex<Vec<Delivery>>>,
    task: tokio::task::JoinHandle<()>,
}

impl WebhookReceiver {
    pub async fn start(fail_first: usize) -> WebhookReceiver {
        let deliveries: Arc<Mutex<Vec<Delivery>>> = Arc::default();
        let seen = deliveries.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let seen = seen.clone();
                async move {
                    let mut all = seen.lock().unwrap();
                    let status = if all.len() < fail_first {
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        StatusCode::NO_CONTENT
                    };
                    all.push(Delivery {
                        headers,
                        body,
                        answered: status.as_u16(),
                    });
                    status
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        WebhookReceiver {
            url,
            deliveries,
            task,
        }
    }

    pub fn got(&self) -> Vec<Delivery> {
        self.deliveries.lock().unwrap().clone()
    }

    /// Waits until `n` requests were answered with success.
    pub async fn wait_for_success(&self, n: usize, timeout: Duration) -> Vec<Delivery> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let got = self.got();
            if got.iter().filter(|d| d.answered < 300).count() >= n
                || std::time::Instant::now() > deadline
            {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}
