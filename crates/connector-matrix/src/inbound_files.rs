//! Files of encrypted rooms' messages: downloaded, decrypted and written under the state
//! directory, so that the subscriber gets the plaintext as a `file://` URL.
//!
//! In an encrypted room an `m.file` / `m.image` / `m.audio` / `m.video` event carries
//! `content.file` — the `mxc://` URI of the *ciphertext* with its AES-CTR key, IV and SHA-256
//! hash — instead of `content.url`. Passing on the download URL would hand over bytes nobody
//! downstream can read, so before the message is delivered the connector:
//!
//! 1. downloads the ciphertext and decrypts it with matrix-sdk's media API
//!    (`Media::get_media_content` with [`MediaSource::Encrypted`], not cached), which checks
//!    the SHA-256 hash. Failures the connector's [`RetryPolicy`] calls transient (homeserver
//!    unreachable, rate limited, 5xx, an attempt over [`DOWNLOAD_TIMEOUT`]) are retried with
//!    its backoff;
//! 2. writes the plaintext to `<state_dir>/media/<event id>-<file name>` (both
//!    [sanitised](media_file_name) into one harmless path component), an owner-only
//!    `StateFile`: the directory is `0700`, the file `0600`, written to a temporary file first
//!    and renamed, so a reader never sees half a file;
//! 3. attaches it as an [`InboundAttachment`] with `url` = the file's `file://` URL and the
//!    event's file name (unsanitised), MIME type, and the plaintext's size.
//!
//! If that still fails (a hash mismatch, a malformed key, media gone from the homeserver, the
//! homeserver down through every retry, a full disk), the message is **delivered anyway**,
//! without the attachment, and its text ends with a line saying which file is missing and why
//! (see [`problem_note`]): the operator's words are never lost because of their file, and the
//! orchestrator can ask for it again. The failure is logged as a warning with the event id.
//!
//! Files of senders outside `allowed_senders` are not downloaded (the inbox drops their
//! messages anyway), so strangers cannot fill the state directory. Nothing here deletes old
//! files: the orchestrator owns them once delivered.

use std::path::{Path, PathBuf};
use std::time::Duration;

use connector_core::allowlist::SenderVerdict;
use connector_core::retry::RetryPolicy;
use connector_core::state_file::{Durability, StateFile};
use connector_core::{Error, InboundAttachment, InboundMessage, Result, SenderPolicy};
use matrix_sdk::Client;
#[cfg(doc)]
use matrix_sdk::ruma::events::room::MediaSource;

use crate::KIND;
use crate::disk::on_disk;
use crate::inbound::EncryptedAttachment;
use crate::settings::sanitise;

/// The longest one download attempt may take (matrix-sdk sets no bound on downloads).
#[cfg_attr(
    not(feature = "e2e-encryption"),
    allow(dead_code, reason = "only the build that decrypts downloads")
)]
pub(crate) const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(600);

/// The longest sanitised file name part, in bytes (the whole name stays under `NAME_MAX`).
const MAX_NAME_BYTES: usize = 150;

/// The longest extension kept when a long name is shortened.
const MAX_EXTENSION_BYTES: usize = 16;

/// Downloads and decrypts encrypted files into `<state_dir>/media`.
#[derive(Debug, Clone)]
pub(crate) struct InboundFiles {
    client: Client,
    dir: PathBuf,
    policy: SenderPolicy,
    retry: RetryPolicy,
}

impl InboundFiles {
    /// Files go to `<state_dir>/media`; only senders `policy` allows (or our own) are served.
    pub(crate) fn new(client: Client, state_dir: &Path, policy: SenderPolicy) -> Self {
        Self {
            client,
            dir: state_dir.join("media"),
            policy,
            retry: RetryPolicy::default(),
        }
    }

    /// Downloads, decrypts and stores `file` and attaches it to `message`; when that fails,
    /// states the problem at the end of `message.text` instead (the message is still
    /// delivered).
    pub(crate) async fn attach(&self, message: &mut InboundMessage, file: &EncryptedAttachment) {
        if self.policy.check(&message.sender) == SenderVerdict::NotAllowed {
            tracing::debug!(event = %message.message_id, "encrypted file of a sender not allowed: not downloaded");
            return;
        }
        match self.fetch(message.message_id.as_str(), file).await {
            Ok(attachment) => message.attachments.push(attachment),
            Err(error) => {
                tracing::warn!(
                    event = %message.message_id,
                    file = %file.filename,
                    %error,
                    "an encrypted file could not be downloaded and decrypted; the message is \
                     delivered without it"
                );
                let note = problem_note(&file.filename, &error);
                if message.text.trim().is_empty() {
                    message.text = note;
                } else {
                    message.text = format!("{}\n\n{note}", message.text);
                }
            }
        }
    }

    /// The attachment of `file`, once its plaintext is on disk.
    async fn fetch(&self, event_id: &str, file: &EncryptedAttachment) -> Result<InboundAttachment> {
        let data = self.retry.run(|_| self.download(file)).await?;
        let stored = StateFile::new(self.dir.join(media_file_name(event_id, &file.filename)));
        let size = data.len();
        let path = on_disk(&stored.owner_only(), move |file| store(file, &data)).await?;
        let mut attachment = InboundAttachment::new(file_url(&path));
        attachment.filename = Some(file.filename.clone());
        attachment.content_type = file.content_type.clone();
        attachment.size = u64::try_from(size).ok();
        Ok(attachment)
    }

    /// One attempt: the plaintext of `file`, its hash checked.
    #[cfg(feature = "e2e-encryption")]
    async fn download(&self, file: &EncryptedAttachment) -> Result<Vec<u8>> {
        use matrix_sdk::media::{MediaFormat, MediaRequestParameters};
        use matrix_sdk::ruma::events::room::{EncryptedFile, MediaSource};

        let encrypted: EncryptedFile = serde_json::from_value(file.file.clone()).map_err(|e| {
            Error::backend_message(KIND, format!("the event's file key is malformed: {e}"))
        })?;
        let request = MediaRequestParameters {
            source: MediaSource::Encrypted(Box::new(encrypted)),
            format: MediaFormat::File,
        };
        let media = self.client.media();
        match tokio::time::timeout(DOWNLOAD_TIMEOUT, media.get_media_content(&request, false)).await
        {
            Ok(answer) => {
                answer.map_err(|e| crate::error::from_sdk("download the encrypted file", e))
            }
            Err(_) => Err(Error::Timeout {
                operation: "matrix download of an encrypted file".into(),
                after: DOWNLOAD_TIMEOUT,
            }),
        }
    }

    /// Without `e2e-encryption` there is no decryption: the ciphertext is of no use.
    #[cfg(not(feature = "e2e-encryption"))]
    async fn download(&self, _file: &EncryptedAttachment) -> Result<Vec<u8>> {
        let _ = &self.client;
        Err(Error::Rejected {
            kind: KIND.into(),
            reason: "the file is encrypted and this build lacks the e2e-encryption feature".into(),
        })
    }
}

/// The line added to a message whose file could not be fetched.
pub(crate) fn problem_note(filename: &str, error: &Error) -> String {
    format!("[attachment {filename:?} could not be downloaded and decrypted: {error}]")
}

/// The name a decrypted file is stored under: `<event id>-<file name>`, each sanitised.
///
/// Only ASCII letters, digits, `.`, `-` and `_` survive (anything else, `/`, `\` and NUL
/// included, becomes `_`), `..` becomes `__`, and a long name is shortened (keeping a short
/// extension): the result is one path component that cannot climb out of the media
/// directory. An empty name becomes `file`.
pub(crate) fn media_file_name(event_id: &str, filename: &str) -> String {
    let mut name = sanitise(filename);
    if name.len() > MAX_NAME_BYTES {
        let extension = name
            .rfind('.')
            .map(|dot| name[dot..].to_owned())
            .filter(|ext| ext.len() <= MAX_EXTENSION_BYTES)
            .unwrap_or_default();
        // ASCII only: every byte is a char boundary.
        name.truncate(MAX_NAME_BYTES - extension.len());
        name.push_str(&extension);
    }
    if name.is_empty() {
        name.push_str("file");
    }
    format!("{}-{name}", sanitise(event_id))
}

/// Writes `data` to `file`, [owner-only](StateFile::owner_only) (`0600`, its directory created
/// `0700`), replaced atomically; answers the file's absolute path.
fn store(file: &StateFile, data: &[u8]) -> Result<PathBuf> {
    file.write(data, Durability::Synced)?;
    std::fs::canonicalize(file.path()).map_err(|e| Error::StateFile {
        path: file.path().display().to_string(),
        problem: format!("cannot find its absolute path: {e}"),
        source: Some(Box::new(e)),
    })
}

/// The `file://` URL of the absolute `path`, percent-encoded (RFC 8089).
pub(crate) fn file_url(path: &Path) -> String {
    #[cfg(unix)]
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str()).to_vec();
    #[cfg(not(unix))]
    let bytes = path.to_string_lossy().replace('\\', "/").into_bytes();
    let mut url = String::from("file://");
    if bytes.first() != Some(&b'/') {
        url.push('/');
    }
    for byte in bytes {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'/' | b'-' | b'.' | b'_' | b'~') {
            url.push(char::from(byte));
        } else {
            url.push_str(&format!("%{byte:02X}"));
        }
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_file_names_stay_one_harmless_path_component() {
        let event = "$AbC-d_e:example.org";
        for hostile in [
            "../../x",
            "../../../etc/passwd",
            "a/b/c",
            "/absolute/path",
            "..",
            ".",
            "",
            "evil\0name.txt",
            "back\\slash\\..\\..\\x",
            "....//....//x",
            "\u{202e}txt.exe",
            "%2e%2e%2fx",
            &"a".repeat(5000),
        ] {
            let name = media_file_name(event, hostile);
            assert!(name.starts_with("_AbC-d_e_example.org-"), "{name}");
            assert!(!name.contains('/') && !name.contains('\\'), "{name}");
            assert!(!name.contains('\0') && !name.contains(".."), "{name}");
            // Room for the temporary file's `.` and `.<pid>-<n>.tmp`.
            assert!(name.len() + 40 < 255, "{}", name.len());
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_')),
                "{name}"
            );
            // Joined to a directory, the name is one level below it and nothing else.
            let joined = Path::new("/state/media").join(&name);
            assert_eq!(joined.parent(), Some(Path::new("/state/media")), "{name}");
            assert_eq!(joined.file_name().and_then(|n| n.to_str()), Some(&*name));
        }
        insta::assert_snapshot!(media_file_name(event, "../../x"), @"_AbC-d_e_example.org-______x");
        insta::assert_snapshot!(media_file_name(event, ""), @"_AbC-d_e_example.org-file");
        insta::assert_snapshot!(media_file_name(event, "build log (2).txt"), @"_AbC-d_e_example.org-build_log__2_.txt");
        let long = media_file_name(event, &format!("{}.tar.gz", "z".repeat(400)));
        assert!(long.ends_with("zz.gz"), "a short extension is kept: {long}");
    }

    #[test]
    fn files_are_private_and_their_urls_are_encoded() {
        let dir = tempfile::tempdir().unwrap();
        let media = dir.path().join("with space").join("media");
        let report = StateFile::new(media.join("_e-report.pdf")).owner_only();
        let path = store(&report, b"%PDF").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"%PDF");
        assert!(path.is_absolute());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(&media), 0o700);
        }
        let names: Vec<_> = std::fs::read_dir(&media)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["_e-report.pdf"], "no temporary file is left");
        // Written again (a replayed event): replaced, still private.
        store(&report, b"%PDF-2").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"%PDF-2");

        assert_eq!(
            file_url(Path::new("/var/lib/bot state/media/_e-a%b.txt")),
            "file:///var/lib/bot%20state/media/_e-a%25b.txt"
        );
        let url = file_url(&path);
        assert!(
            url.starts_with("file:///") && url.contains("with%20space"),
            "{url}"
        );
    }

    #[test]
    fn the_problem_is_stated_in_the_text() {
        let error =
            Error::backend_message(KIND, "download the encrypted file failed: hash mismatch");
        insta::assert_snapshot!(
            problem_note("chart.png", &error),
            @r#"[attachment "chart.png" could not be downloaded and decrypted: matrix: download the encrypted file failed: hash mismatch]"#
        );
    }
}
