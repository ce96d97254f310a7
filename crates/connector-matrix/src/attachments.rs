//! Files and links sent with a message: read and checked before anything is posted, uploaded to
//! the media repository, and sent as `m.image` / `m.file` events.
//!
//! * A [`Attachment::Path`] is read whole and checked against the homeserver's upload limit
//!   (`m.upload.size`) first, by [`connector_core::attachments::prepare`]: a missing,
//!   unreadable or too large file is an [`Error::InvalidInput`] naming the path, and nothing is
//!   uploaded or posted.
//! * Its MIME type comes from the file name's extension (`application/octet-stream` when
//!   unknown). `image/*` files become `m.image` events (with width and height for PNG and GIF,
//!   read from the header), everything else `m.file`; `body` is the file name, `info` holds
//!   the MIME type and the size.
//! * A [`Attachment::Url`] is a link: Matrix has no link attachments, so links are appended to
//!   the text, one a line, after a blank line ([`LINK_GAP`]).
//! * The download URL of an `mxc://` URI, for inbound attachments, is the authenticated media
//!   endpoint [`download_url`]: it needs the bot's access token as a bearer token.

use std::collections::VecDeque;
use std::path::PathBuf;

#[cfg(doc)]
use connector_core::Error;
use connector_core::attachments::{self, LinkGap, Prepared, UploadLimit};
use connector_core::{Attachment, Result};
use matrix_sdk::ruma::UInt;
use matrix_sdk::ruma::events::room::MediaSource;
use matrix_sdk::ruma::events::room::message::{
    FileInfo, FileMessageEventContent, ImageMessageEventContent, MessageType,
    RoomMessageEventContent,
};
use mime_guess::mime::{self, Mime};

use crate::outbound::{ThreadTarget, in_thread};

/// A local file, read and ready to upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LocalFile {
    /// The path the caller gave (for messages).
    pub(crate) path: PathBuf,
    /// The file name: the event's `body`.
    pub(crate) filename: String,
    /// Guessed from the extension.
    pub(crate) mime: Mime,
    /// The file's bytes.
    pub(crate) data: Vec<u8>,
}

impl From<attachments::LocalFile> for LocalFile {
    fn from(file: attachments::LocalFile) -> Self {
        Self {
            mime: mime_guess::from_path(&file.path).first_or_octet_stream(),
            path: file.path,
            filename: file.filename,
            data: file.data,
        }
    }
}

impl LocalFile {
    /// Whether the file is sent as `m.image`.
    pub(crate) fn is_image(&self) -> bool {
        self.mime.type_() == mime::IMAGE
    }
}

/// How many uploads the connector remembers for retries of the same message.
const REMEMBERED_UPLOADS: usize = 64;

/// The last [`REMEMBERED_UPLOADS`] uploads, by the transaction id of their event, with the
/// file's name and size so a key reused for another file is not mistaken for a retry: a
/// retried send posts the same media instead of uploading the file again.
#[derive(Debug, Default)]
pub(crate) struct Uploads(VecDeque<(String, String, usize, MediaSource)>);

impl Uploads {
    /// The media uploaded for `file` under `txn`, if remembered.
    pub(crate) fn get(&self, txn: &str, file: &LocalFile) -> Option<MediaSource> {
        self.0
            .iter()
            .find(|(t, name, len, _)| t == txn && *name == file.filename && *len == file.data.len())
            .map(|(.., source)| source.clone())
    }

    /// Remembers that `file` was uploaded as `source` for the event with `txn`.
    pub(crate) fn remember(&mut self, txn: &str, file: &LocalFile, source: MediaSource) {
        if self.0.len() >= REMEMBERED_UPLOADS {
            self.0.pop_front();
        }
        self.0.push_back((
            txn.to_owned(),
            file.filename.clone(),
            file.data.len(),
            source,
        ));
    }
}

/// What separates a message's text from its links: a blank line.
pub(crate) const LINK_GAP: LinkGap = LinkGap::BlankLine;

/// Reads the files of `attachments` and collects its links, refusing a missing, unreadable or
/// empty-named file, and one over `max_upload` bytes, before anything is sent.
pub(crate) async fn prepare(
    attachments: &[Attachment],
    max_upload: u64,
) -> Result<Prepared<LocalFile>> {
    let limit = UploadLimit::each_file(
        max_upload,
        format!("the homeserver takes uploads of at most {max_upload} bytes"),
    );
    Ok(attachments::prepare(attachments, Some(&limit))
        .await?
        .map_files(LocalFile::from))
}

/// The `m.image` or `m.file` event of `file`, uploaded as `source`, in `thread` if given.
pub(crate) fn content(
    file: &LocalFile,
    source: MediaSource,
    thread: Option<&ThreadTarget>,
) -> RoomMessageEventContent {
    let size = UInt::try_from(file.data.len()).ok();
    let mimetype = Some(file.mime.essence_str().to_owned());
    let message = if file.is_image() {
        let mut info = matrix_sdk::ruma::events::room::ImageInfo::new();
        info.mimetype = mimetype;
        info.size = size;
        if let Some((width, height)) = image_size(&file.data) {
            info.width = Some(UInt::from(width));
            info.height = Some(UInt::from(height));
        }
        MessageType::Image(
            ImageMessageEventContent::new(file.filename.clone(), source).info(Some(Box::new(info))),
        )
    } else {
        let mut info = FileInfo::new();
        info.mimetype = mimetype;
        info.size = size;
        MessageType::File(
            FileMessageEventContent::new(file.filename.clone(), source).info(Some(Box::new(info))),
        )
    };
    in_thread(RoomMessageEventContent::new(message), thread)
}

/// Width and height of a PNG or GIF, read from its header; `None` for other formats.
fn image_size(data: &[u8]) -> Option<(u32, u32)> {
    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";
    if data.starts_with(PNG) && data.get(12..16) == Some(b"IHDR") {
        let width = u32::from_be_bytes(data.get(16..20)?.try_into().ok()?);
        let height = u32::from_be_bytes(data.get(20..24)?.try_into().ok()?);
        return Some((width, height));
    }
    if data.starts_with(b"GIF87a") || data.starts_with(b"GIF89a") {
        let width = u16::from_le_bytes(data.get(6..8)?.try_into().ok()?);
        let height = u16::from_le_bytes(data.get(8..10)?.try_into().ok()?);
        return Some((width.into(), height.into()));
    }
    None
}

/// The URL the media behind `mxc` (`mxc://server/id`) downloads from on `homeserver`: the
/// authenticated media endpoint `/_matrix/client/v1/media/download/{server}/{id}`, which needs
/// `Authorization: Bearer <MATRIX_ACCESS_TOKEN>`. Anything that is not an `mxc://` URI is
/// answered unchanged.
pub(crate) fn download_url(homeserver: &str, mxc: &str) -> String {
    let Some((server, id)) = mxc
        .strip_prefix("mxc://")
        .and_then(|rest| rest.split_once('/'))
    else {
        return mxc.to_owned();
    };
    format!(
        "{}/_matrix/client/v1/media/download/{server}/{id}",
        homeserver.trim_end_matches('/')
    )
}

#[cfg(test)]
mod tests {
    use matrix_sdk::ruma::serde::Raw;

    use super::*;

    fn file(name: &str, data: &[u8]) -> LocalFile {
        LocalFile {
            path: PathBuf::from(name),
            filename: name.to_owned(),
            mime: mime_guess::from_path(name).first_or_octet_stream(),
            data: data.to_vec(),
        }
    }

    fn json(content: &RoomMessageEventContent) -> serde_json::Value {
        serde_json::from_str(Raw::new(content).unwrap().json().get()).unwrap()
    }

    #[test]
    fn images_and_files_carry_their_metadata() {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend_from_slice(&[0, 0, 0, 3, 0, 0, 0, 2]);
        let mxc = MediaSource::Plain("mxc://localhost/abc".into());
        let image = json(&content(&file("chart.png", &png), mxc.clone(), None));
        assert_eq!(image["msgtype"], "m.image");
        assert_eq!(image["body"], "chart.png");
        assert_eq!(image["url"], "mxc://localhost/abc");
        assert_eq!(image["info"]["mimetype"], "image/png");
        assert_eq!(image["info"]["size"], png.len());
        assert_eq!(
            (&image["info"]["w"], &image["info"]["h"]),
            (&3.into(), &2.into())
        );

        let target = ThreadTarget {
            root: "$root".try_into().unwrap(),
            latest: "$last".try_into().unwrap(),
        };
        let log = json(&content(&file("build.log", b"ok\n"), mxc, Some(&target)));
        assert_eq!(log["msgtype"], "m.file");
        assert_eq!(log["body"], "build.log");
        assert_eq!(log["info"]["mimetype"], "text/plain");
        assert_eq!(log["info"]["size"], 3);
        assert_eq!(log["m.relates_to"]["rel_type"], "m.thread");
        assert_eq!(log["m.relates_to"]["event_id"], "$root");
    }

    #[test]
    fn links_are_appended_and_mxc_uris_become_download_urls() {
        let prepared = Prepared::<LocalFile> {
            files: Vec::new(),
            links: vec!["https://ci.example/1".into(), "https://ci.example/2".into()],
        };
        assert_eq!(
            prepared.text_with_links("Build log:\n", LINK_GAP),
            "Build log:\n\nhttps://ci.example/1\nhttps://ci.example/2"
        );
        assert_eq!(
            prepared.text_with_links(" ", LINK_GAP),
            "https://ci.example/1\nhttps://ci.example/2"
        );
        assert_eq!(
            download_url("http://127.0.0.1:8008/", "mxc://localhost/AbC"),
            "http://127.0.0.1:8008/_matrix/client/v1/media/download/localhost/AbC"
        );
        assert_eq!(download_url("http://hs", "https://x/y"), "https://x/y");
    }

    #[test]
    fn uploads_are_remembered_per_transaction_and_file() {
        let mut uploads = Uploads::default();
        let log = file("build.log", b"ok\n");
        let source = MediaSource::Plain("mxc://localhost/log".into());
        uploads.remember("key1", &log, source.clone());
        assert_eq!(
            uploads.get("key1", &log).map(|s| format!("{s:?}")),
            Some(format!("{source:?}"))
        );
        assert!(uploads.get("key2", &log).is_none(), "another message");
        assert!(
            uploads
                .get("key1", &file("build.log", b"changed\n"))
                .is_none(),
            "another file under a reused key"
        );
        for n in 0..REMEMBERED_UPLOADS {
            uploads.remember(&format!("other{n}"), &log, source.clone());
        }
        assert!(
            uploads.get("key1", &log).is_none(),
            "the oldest is forgotten"
        );
    }

    #[tokio::test]
    async fn missing_and_oversized_files_are_refused_by_path() {
        let missing = prepare(&[Attachment::Path("/nonexistent/report.pdf".into())], 100)
            .await
            .unwrap_err();
        insta::assert_snapshot!(missing, @"invalid attachments: cannot read /nonexistent/report.pdf: No such file or directory (os error 2)");
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.bin");
        std::fs::write(&big, [0u8; 11]).unwrap();
        let error = prepare(&[Attachment::Path(big.clone())], 10)
            .await
            .unwrap_err();
        let shown = error
            .to_string()
            .replace(&dir.path().display().to_string(), "[DIR]");
        insta::assert_snapshot!(shown, @"invalid attachments: [DIR]/big.bin is 11 bytes: the homeserver takes uploads of at most 10 bytes");
        let ok = prepare(&[Attachment::Path(big)], 11).await.unwrap();
        assert_eq!(ok.files[0].data.len(), 11);
        assert_eq!(ok.files[0].mime, mime::APPLICATION_OCTET_STREAM);
    }
}
