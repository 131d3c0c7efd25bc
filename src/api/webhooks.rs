//! Webhook deliveries: import endings (recorded by the store with the status change) become
//! one delivery per interested hook, persisted, then sent by a background thread with
//! GitHub's headers and signatures, retried with exponential backoff, surviving restarts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use srcimport_converters::http::{self, ureq};
use srcimport_converters::url_policy::{redact, UrlPolicy};

use super::{wire, AppState};
use crate::clock;
use crate::git::objects::hex;
use crate::store::{
    DeliveryAttempt, DeliveryRecord, DeliveryState, HookEvent, HookRecord, NewDelivery, StoreError,
    SERVER_HOOK_ID,
};

/// The event import endings are delivered as.
pub const EVENT: &str = "repository_import";
/// The event a new hook, or a client's `POST .../pings`, is sent.
pub const PING: &str = "ping";
/// How long one delivery attempt may take (GitHub's limit).
const TIMEOUT: Duration = Duration::from_secs(10);
/// How often the deliverer looks for new events and due retries.
const POLL: Duration = Duration::from_millis(100);

/// A hook configured for the whole server, receiving every repository's events.
#[derive(Clone)]
pub struct ServerHook {
    pub url: String,
    pub secret: Option<String>,
    /// `json` or `form`.
    pub content_type: String,
}

/// How deliveries are made.
#[derive(Clone)]
pub struct Settings {
    pub server_hook: Option<ServerHook>,
    /// The first retry waits this long; each further one twice as long as the last.
    pub backoff: Duration,
    /// Attempts before a delivery is given up as failed.
    pub max_attempts: i64,
}

/// Starts the delivery thread. `base` is the server's public base URL, for payload URLs.
pub fn spawn(state: Arc<AppState>, base: String) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("webhook-deliveries".into())
        .spawn(move || loop {
            if let Err(error) = expand_events(&state, &base) {
                tracing::error!(%error, "cannot prepare webhook deliveries");
            }
            if let Err(error) = deliver_due(&state) {
                tracing::error!(%error, "cannot make webhook deliveries");
            }
            std::thread::sleep(POLL.min(state.webhooks.backoff.max(Duration::from_millis(10))));
        })
        .map(|_| ())
}

/// Turns recorded import endings into deliveries, one per hook that wants them.
fn expand_events(state: &AppState, base: &str) -> Result<(), StoreError> {
    let store = state.store.as_ref();
    for event in store.hook_events(32)? {
        let deliveries = deliveries_for(state, base, &event)?;
        store.expand_hook_event(&event, &deliveries)?;
        if !deliveries.is_empty() {
            tracing::info!(
                repo_id = event.repo_id,
                status = %event.status,
                deliveries = deliveries.len(),
                "repository_import event queued"
            );
        }
    }
    Ok(())
}

fn deliveries_for(
    state: &AppState,
    base: &str,
    event: &HookEvent,
) -> Result<Vec<NewDelivery>, StoreError> {
    let store = state.store.as_ref();
    let Some(repo) = store.find_repo_by_id(event.repo_id)? else {
        return Ok(Vec::new());
    };
    let mut targets: Vec<(i64, String, String)> = store
        .hooks(repo.id)?
        .into_iter()
        .filter(|h| h.wants(EVENT))
        .map(|h| (h.id, h.settings.url, h.settings.content_type))
        .collect();
    if let Some(hook) = &state.webhooks.server_hook {
        targets.push((SERVER_HOOK_ID, hook.url.clone(), hook.content_type.clone()));
    }
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    let owner_is_org = !state.tokens.has_login(&repo.owner);
    let sender = event.sender.as_deref().unwrap_or(&repo.owner);
    let urls = wire::Urls { base, repo: &repo };
    let payload = wire::repository_import_event(&urls, &event.status, sender, owner_is_org);
    let payload = payload.to_string();
    Ok(targets
        .into_iter()
        .map(|(hook_id, url, content_type)| NewDelivery {
            hook_id,
            guid: uuid_v4(),
            event: EVENT.into(),
            action: None,
            payload: payload.clone(),
            url,
            content_type,
            redelivery: false,
        })
        .collect())
}

/// Queues a `ping` to `hook`, as GitHub sends one when a hook is created and when a client
/// asks (`POST .../hooks/{id}/pings`), whatever events the hook wants.
pub fn ping(
    state: &AppState,
    urls: &wire::Urls<'_>,
    hook: &HookRecord,
    sender: &str,
) -> Result<(), StoreError> {
    let owner_is_org = !state.tokens.has_login(&urls.repo.owner);
    let payload = wire::ping_event(urls, hook, sender, owner_is_org);
    state.store.add_deliveries(
        hook.repo_id,
        &[NewDelivery {
            hook_id: hook.id,
            guid: uuid_v4(),
            event: PING.into(),
            action: None,
            payload: payload.to_string(),
            url: hook.settings.url.clone(),
            content_type: hook.settings.content_type.clone(),
            redelivery: false,
        }],
    )
}

/// Queues a new attempt at an earlier delivery: the same event, payload and GUID, sent to
/// the hook as it is configured now (GitHub's redelivery).
pub fn redeliver(
    state: &AppState,
    hook: &HookRecord,
    earlier: &DeliveryRecord,
) -> Result<(), StoreError> {
    state.store.add_deliveries(
        hook.repo_id,
        &[NewDelivery {
            hook_id: hook.id,
            guid: earlier.guid.clone(),
            event: earlier.event.clone(),
            action: earlier.action.clone(),
            payload: earlier.payload.clone(),
            url: hook.settings.url.clone(),
            content_type: hook.settings.content_type.clone(),
            redelivery: true,
        }],
    )
}

fn deliver_due(state: &AppState) -> Result<(), StoreError> {
    let store = state.store.as_ref();
    for delivery in store.due_deliveries(clock::now_ms(), 16)? {
        let (secret, tls) = if delivery.hook_id == SERVER_HOOK_ID {
            let Some(hook) = &state.webhooks.server_hook else {
                // The server restarted without its server-wide hook: nothing to send to.
                let now = clock::now_ms();
                let dropped = DeliveryAttempt {
                    status_code: None,
                    duration_ms: 0,
                    at_ms: now,
                    error: Some("the server-wide hook is no longer configured".into()),
                    state: DeliveryState::Failed,
                    next_attempt_ms: now,
                };
                store.record_attempt(delivery.id, &dropped)?;
                continue;
            };
            (hook.secret.clone(), Tls::Verified)
        } else {
            match store.hook(delivery.repo_id, delivery.hook_id)? {
                Some(hook) => {
                    let tls = match hook.settings.insecure_ssl.as_str() {
                        "1" => Tls::Unverified,
                        _ => Tls::Verified,
                    };
                    (hook.settings.secret, tls)
                }
                // Deleted meanwhile, deliveries and all.
                None => continue,
            }
        };
        let policy = &state.scheduler.env().url_policy;
        let attempt = attempt(&delivery, secret.as_deref(), tls, policy, &state.webhooks);
        log_attempt(&delivery, &attempt);
        store.record_attempt(delivery.id, &attempt)?;
    }
    Ok(())
}

fn log_attempt(delivery: &DeliveryRecord, attempt: &DeliveryAttempt) {
    let url = redact(&delivery.url);
    match attempt.state {
        DeliveryState::Delivered => tracing::info!(
            delivery_id = delivery.id,
            hook_id = delivery.hook_id,
            %url,
            status_code = attempt.status_code,
            "webhook delivered"
        ),
        state => tracing::warn!(
            delivery_id = delivery.id,
            hook_id = delivery.hook_id,
            %url,
            error = attempt.error.as_deref().unwrap_or_default(),
            state = state.as_str(),
            "webhook delivery failed"
        ),
    }
}

/// Whether a delivery checks the receiver's TLS certificate (a hook's `insecure_ssl`).
#[derive(Clone, Copy)]
enum Tls {
    Verified,
    Unverified,
}

/// Makes one attempt and says what follows it.
fn attempt(
    delivery: &DeliveryRecord,
    secret: Option<&str>,
    tls: Tls,
    policy: &UrlPolicy,
    settings: &Settings,
) -> DeliveryAttempt {
    let started = Instant::now();
    let at_ms = clock::now_ms();
    let result = send(delivery, secret, tls, policy);
    let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    let (status_code, error) = match result {
        Ok(code) if (200..300).contains(&code) => (Some(i64::from(code)), None),
        Ok(code) => (Some(i64::from(code)), Some(format!("HTTP {code}"))),
        Err(error) => (None, Some(error)),
    };
    let attempts = delivery.attempts + 1;
    let (state, next_attempt_ms) = match &error {
        None => (DeliveryState::Delivered, at_ms),
        Some(_) if attempts >= settings.max_attempts => (DeliveryState::Failed, at_ms),
        Some(_) => {
            let factor = 1u32 << u32::try_from(attempts - 1).unwrap_or(0).min(20);
            let wait = settings.backoff.saturating_mul(factor);
            let wait_ms = i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
            (DeliveryState::Pending, at_ms.saturating_add(wait_ms))
        }
    };
    DeliveryAttempt {
        status_code,
        duration_ms,
        at_ms,
        error,
        state,
        next_attempt_ms,
    }
}

/// Sends the delivery once; the HTTP status, or why there was none.
fn send(
    delivery: &DeliveryRecord,
    secret: Option<&str>,
    tls: Tls,
    policy: &UrlPolicy,
) -> Result<u16, String> {
    let body = if delivery.content_type == "form" {
        format!("payload={}", form_encode(&delivery.payload))
    } else {
        delivery.payload.clone()
    };
    let agent = match tls {
        Tls::Verified => http::agent(&delivery.url, policy),
        Tls::Unverified => http::agent_without_certificate_checks(&delivery.url, policy),
    }
    .map_err(|e| e.to_string())?;
    let mut request = agent.post(&delivery.url).timeout(TIMEOUT);
    for (name, value) in request_headers(delivery) {
        request = request.set(name, &value);
    }
    if let Some(secret) = secret {
        let sha256 = hex(&sign::<Hmac<sha2::Sha256>>(
            secret.as_bytes(),
            body.as_bytes(),
        ));
        let sha1 = hex(&sign::<Hmac<sha1::Sha1>>(
            secret.as_bytes(),
            body.as_bytes(),
        ));
        request = request
            .set("X-Hub-Signature-256", &format!("sha256={sha256}"))
            .set("X-Hub-Signature", &format!("sha1={sha1}"));
    }
    match request.send_string(&body) {
        Ok(response) => Ok(response.status()),
        Err(ureq::Error::Status(code, _)) => Ok(code),
        Err(ureq::Error::Transport(transport)) => Err(transport.to_string()),
    }
}

/// The headers a delivery is sent with, signatures aside (they need the secret).
pub fn request_headers(delivery: &DeliveryRecord) -> Vec<(&'static str, String)> {
    let content_type = if delivery.content_type == "form" {
        "application/x-www-form-urlencoded"
    } else {
        "application/json"
    };
    vec![
        ("User-Agent", "GitHub-Hookshot/srcimport".into()),
        ("Content-Type", content_type.into()),
        ("X-GitHub-Event", delivery.event.clone()),
        ("X-GitHub-Delivery", delivery.guid.clone()),
        ("X-GitHub-Hook-ID", delivery.hook_id.to_string()),
        (
            "X-GitHub-Hook-Installation-Target-Type",
            "repository".into(),
        ),
        (
            "X-GitHub-Hook-Installation-Target-ID",
            delivery.repo_id.to_string(),
        ),
    ]
}

/// The HMAC of `message` under `key` with the MAC type `M` (`Hmac<Sha256>`, `Hmac<Sha1>`).
fn sign<M: Mac + KeyInit>(key: &[u8], message: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = <M as KeyInit>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(message);
    mac.finalize().into_bytes().to_vec()
}

/// A random (version 4) UUID, as GitHub's delivery GUIDs are.
pub fn uuid_v4() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::getrandom(&mut bytes).is_err() {
        // No entropy source: fall back to the clock, still unique per delivery.
        let now = clock::now_ms().to_be_bytes();
        bytes[..8].copy_from_slice(&now);
        bytes[8..].copy_from_slice(&std::process::id().to_be_bytes().repeat(2));
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let h = hex(&bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// `application/x-www-form-urlencoded` encoding of one value.
fn form_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => {
                out.push(char::from(byte));
            }
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

/// Whether `events` names only plausible event names (`*` or lower-case words).
pub fn valid_event(event: &str) -> bool {
    event == "*"
        || (!event.is_empty() && event.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_the_rfc_vectors() {
        // RFC 4231 test case 2 and RFC 2202 test case 2.
        let key = b"Jefe";
        let data = b"what do ya want for nothing?";
        assert_eq!(
            hex(&sign::<Hmac<sha2::Sha256>>(key, data)),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex(&sign::<Hmac<sha1::Sha1>>(key, data)),
            "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
        // RFC 4231 test case 6: a key longer than the block is hashed first.
        assert_eq!(
            hex(&sign::<Hmac<sha2::Sha256>>(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn uuids_are_version_4() {
        let id = uuid_v4();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"), "{id}");
        assert_ne!(id, uuid_v4());
    }

    #[test]
    fn form_encoding_escapes_json() {
        assert_eq!(
            form_encode(r#"{"a": "b&c"}"#),
            "%7B%22a%22%3A+%22b%26c%22%7D"
        );
    }
}
