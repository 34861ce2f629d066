//! The SIP servers (Kamailio instances), as the service reaches them: through their JSON-RPC
//! ports, to ask how many devices are registered as a number, and to tell them what they must
//! forget: a number's cached credentials when they change
//! (a rotation, a release or delete, outbound or the status switched), and a released number's
//! registrations. Each Kamailio in `KROS_SIP_KAMAILIO_RPC` gets each notice through its
//! JSON-RPC port (`htable.delete`, `ul.rm`), sent right after the change commits and retried
//! while that Kamailio is away, until the cache would have dropped the credentials anyway
//! (`KROS_SIP_CREDENTIALS_TTL`, which must match Kamailio's `--cred-ttl`).

use std::sync::Arc;
use std::time::{Duration, Instant};
use url::Url;

/// How long one JSON-RPC call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(1);
/// The wait between two tries of a notice that did not get through.
const RETRY_EVERY: Duration = Duration::from_millis(250);

/// What a SIP server must forget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The cached credentials of this SIP user name.
    Credentials { username: String },
    /// The devices registered as this number (its E.164).
    Registrations { number: String },
}

impl Notice {
    fn request(&self) -> serde_json::Value {
        let (method, params) = match self {
            Notice::Credentials { username } => ("htable.delete", ["cred", username.as_str()]),
            Notice::Registrations { number } => ("ul.rm", ["location", number.as_str()]),
        };
        serde_json::json!({"jsonrpc": "2.0", "method": method, "params": params, "id": 1})
    }
}

/// The SIP servers: notices go to every one, in the background (a change never waits for them).
#[derive(Clone)]
pub struct SipServers {
    servers: Arc<[Url]>,
    keep_trying: Duration,
    client: reqwest::Client,
}

impl SipServers {
    /// Notices go to `servers` (JSON-RPC URLs), each retried for up to `keep_trying`.
    pub fn new(servers: Vec<Url>, keep_trying: Duration) -> SipServers {
        let client = reqwest::Client::builder().timeout(CALL_TIMEOUT).build().unwrap_or_default();
        SipServers { servers: servers.into(), keep_trying, client }
    }

    /// Sends the notices to each server on their own task. Without a runtime (never in the
    /// server) they are dropped: the cache's expiry still bounds what they would have removed.
    pub fn send(&self, notices: Vec<Notice>) {
        if self.servers.is_empty() || notices.is_empty() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return };
        for server in self.servers.iter() {
            let (server, client, notices, keep_trying) =
                (server.clone(), self.client.clone(), notices.clone(), self.keep_trying);
            runtime.spawn(async move {
                for notice in notices {
                    deliver(&client, &server, &notice, keep_trying).await;
                }
            });
        }
    }
}

impl SipServers {
    /// How many devices are registered as `number` now, by the first server that answers (none
    /// configured, or none answering: unknown).
    pub async fn registered_devices(&self, number: &str) -> Option<usize> {
        let request =
            serde_json::json!({"jsonrpc": "2.0", "method": "ul.lookup", "params": ["location", number], "id": 1});
        for server in self.servers.iter() {
            let Ok(answer) = self.client.post(server.clone()).json(&request).send().await else { continue };
            let Ok(body) = answer.json::<serde_json::Value>().await else { continue };
            // An address of record with no contact is an error (404) rather than an empty list.
            return Some(body["result"]["Contacts"].as_array().map_or(0, Vec::len));
        }
        None
    }
}

/// One notice to one server, retried while the server is away. A JSON-RPC error (the entry was
/// not there) counts as done: there was nothing to forget.
async fn deliver(client: &reqwest::Client, server: &Url, notice: &Notice, keep_trying: Duration) {
    let started = Instant::now();
    loop {
        match client.post(server.clone()).json(&notice.request()).send().await {
            Ok(answer) if answer.status().is_success() => return,
            Ok(answer) => tracing::warn!(%server, status = %answer.status(), ?notice, "a SIP server refused a notice"),
            Err(err) => tracing::debug!(%server, error = %err, ?notice, "a SIP server is away; the notice is retried"),
        }
        if started.elapsed() + RETRY_EVERY > keep_trying {
            tracing::warn!(%server, ?notice, "a SIP server did not take a notice; its cache expiry will");
            return;
        }
        tokio::time::sleep(RETRY_EVERY).await;
    }
}
