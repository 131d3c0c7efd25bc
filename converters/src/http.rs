//! The readers' HTTP client: `ureq` agents whose every connection goes to the address the
//! URL policy checked, following no redirects, with Basic credentials and statuses turned
//! into [`SourceError`]s.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use base64::Engine;

/// The HTTP client crate itself, so users of [`agent`] share this one client (the server's
/// webhook deliveries use it too).
pub use ureq;

use crate::url_policy::{redact, PinnedAddress, UrlPolicy};
use crate::{Credentials, SourceError};

/// How long connecting, and then each read, may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
const READ_TIMEOUT: Duration = Duration::from_secs(120);

/// Resolves the checked host to the checked address and refuses any other host.
struct Pinned(Option<PinnedAddress>);

impl ureq::Resolver for Pinned {
    fn resolve(&self, netloc: &str) -> io::Result<Vec<SocketAddr>> {
        match &self.0 {
            // A local-policy URL never reaches here; with no pin (an allowed private
            // literal address), resolve normally.
            None => netloc.to_socket_addrs().map(Iterator::collect),
            Some(pin) => {
                let host = netloc.rsplit_once(':').map_or(netloc, |(host, _)| host);
                let host = host.trim_start_matches('[').trim_end_matches(']');
                if host.eq_ignore_ascii_case(&pin.host) {
                    Ok(vec![SocketAddr::new(pin.ip, pin.port)])
                } else {
                    Err(io::Error::other(format!(
                        "{netloc} is not the checked host {}",
                        pin.host
                    )))
                }
            }
        }
    }
}

/// An agent for requests to `url`'s host, after the policy accepted `url`.
pub fn agent(url: &str, policy: &UrlPolicy) -> Result<ureq::Agent, SourceError> {
    builder(url, policy).map(ureq::AgentBuilder::build)
}

/// Like [`agent`], but accepting any TLS certificate: for a webhook whose owner set
/// `insecure_ssl: "1"`, as GitHub allows. The address is still pinned and checked.
pub fn agent_without_certificate_checks(
    url: &str,
    policy: &UrlPolicy,
) -> Result<ureq::Agent, SourceError> {
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| SourceError::Refused {
            url: redact(url),
            reason: format!("TLS setup: {e}"),
        })?
        .dangerous()
        .with_custom_certificate_verifier(std::sync::Arc::new(AnyCertificate(provider)))
        .with_no_client_auth();
    Ok(builder(url, policy)?
        .tls_config(std::sync::Arc::new(config))
        .build())
}

fn builder(url: &str, policy: &UrlPolicy) -> Result<ureq::AgentBuilder, SourceError> {
    let pinned = policy.check(url)?;
    Ok(ureq::AgentBuilder::new()
        .resolver(Pinned(pinned))
        .redirects(0)
        .timeout_connect(CONNECT_TIMEOUT)
        .timeout_read(READ_TIMEOUT)
        .user_agent(concat!("srcimport/", env!("CARGO_PKG_VERSION"))))
}

/// Accepts any server certificate, still checking that the handshake is signed by it.
#[derive(Debug)]
struct AnyCertificate(std::sync::Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        signature: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            signature,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        signature: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            signature,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The `Authorization` header value for Basic credentials (a PAT goes as the password).
pub fn basic_auth(credentials: &Credentials) -> String {
    let pair = format!("{}:{}", credentials.username, credentials.password);
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

/// Sends `request` (with Basic credentials when given) and turns failures into
/// [`SourceError`]s: 401 and 403 into the auth errors, other statuses and transport errors
/// into `NotFound` naming the status, with `url` redacted. Redirects are refused.
pub fn send(
    request: ureq::Request,
    url: &str,
    credentials: Option<&Credentials>,
) -> Result<ureq::Response, SourceError> {
    let request = match credentials {
        Some(credentials) => request.set("Authorization", &basic_auth(credentials)),
        None => request,
    };
    let response = request
        .call()
        .map_err(|error| status_error(error, url, credentials))?;
    if (300..400).contains(&response.status()) {
        // Following it would reach an address the policy never checked.
        let location = response.header("Location").unwrap_or("elsewhere");
        return Err(SourceError::NotFound {
            url: redact(url),
            reason: format!(
                "redirected to {}; redirects are not followed, give that URL instead",
                redact(location)
            ),
        });
    }
    Ok(response)
}

/// What a failed request means for the import.
pub fn status_error(
    error: ureq::Error,
    url: &str,
    credentials: Option<&Credentials>,
) -> SourceError {
    let url = redact(url);
    match error {
        ureq::Error::Status(401 | 403, _) => SourceError::auth(&url, credentials),
        ureq::Error::Status(status, response) => SourceError::NotFound {
            url,
            reason: format!("HTTP {status} {}", response.status_text()),
        },
        ureq::Error::Transport(transport) => SourceError::NotFound {
            url,
            reason: transport.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;

    /// Answers one request on loopback with `reply`; returns the URL to ask.
    fn answer_once(reply: &'static str) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/x.dump", listener.local_addr().expect("addr"));
        std::thread::spawn(move || {
            let (stream, _) = listener.accept().expect("accept");
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut line = String::new();
            while reader.read_line(&mut line).map(|n| n > 2).unwrap_or(false) {
                line.clear();
            }
            let _ = (&stream).write_all(reply.as_bytes());
        });
        url
    }

    fn get(url: &str, credentials: Option<&Credentials>) -> Result<ureq::Response, SourceError> {
        let agent = agent(url, &UrlPolicy::default()).expect("policy allows loopback");
        send(agent.get(url), url, credentials)
    }

    #[test]
    fn redirects_are_refused_not_followed() {
        let url = answer_once(
            "HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/latest\r\nContent-Length: 0\r\n\r\n",
        );
        let error = get(&url, None).expect_err("a redirect is an error");
        assert!(
            error.to_string().contains("redirects are not followed"),
            "{error}"
        );
    }

    #[test]
    fn unauthorised_answers_are_auth_errors() {
        let url = answer_once("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n");
        assert!(matches!(
            get(&url, None),
            Err(SourceError::AuthRequired { .. })
        ));
        let url = answer_once("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n");
        let given = Credentials {
            username: String::new(),
            password: "token".into(),
        };
        assert!(matches!(
            get(&url, Some(&given)),
            Err(SourceError::AuthRejected { .. })
        ));
    }

    #[test]
    fn the_pinned_resolver_refuses_other_hosts() {
        let pinned = Pinned(Some(PinnedAddress {
            host: "example.com".into(),
            port: 443,
            ip: "127.0.0.1".parse().expect("ip"),
        }));
        use ureq::Resolver;
        assert_eq!(
            pinned.resolve("example.com:443").expect("pinned"),
            vec!["127.0.0.1:443".parse().expect("addr")]
        );
        assert!(pinned.resolve("evil.example:443").is_err());
    }
}
