//! Outbound attachments made ready before anything is sent: every local file read whole and
//! checked, every link collected, so a bad attachment fails the send before a byte is posted.
//!
//! What a platform does with them (MIME types, upload endpoints, events) stays in its backend:
//! [`prepare`] only reads, checks and sorts. Links go into the text ([`Prepared::text_with_links`])
//! on platforms without link attachments.
//!
//! ```
//! # async fn demo() -> connector_core::Result<()> {
//! use connector_core::Attachment;
//! use connector_core::attachments::{LinkGap, UploadLimit, prepare};
//!
//! let limit = UploadLimit::each_file(1024, "the server takes at most 1024 bytes".into());
//! let prepared = prepare(&[Attachment::Url("https://ci.example/1".into())], Some(&limit)).await?;
//! assert!(prepared.files.is_empty());
//! assert_eq!(
//!     prepared.text_with_links("Build log:", LinkGap::Line),
//!     "Build log:\nhttps://ci.example/1"
//! );
//! # Ok(()) }
//! ```

use std::path::{Path, PathBuf};

use crate::{Attachment, Error, Result};

/// A local file, read whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalFile {
    /// The path the caller gave (for messages).
    pub path: PathBuf,
    /// The file name, never empty.
    pub filename: String,
    /// The file's bytes.
    pub data: Vec<u8>,
}

/// A message's attachments, ready to send: the files (`F`: [`LocalFile`], or what a backend
/// made of it with [`Prepared::map_files`]) and the links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared<F = LocalFile> {
    /// The local files, read, in the message's order.
    pub files: Vec<F>,
    /// The links, trimmed, in the message's order.
    pub links: Vec<String>,
}

impl<F> Default for Prepared<F> {
    fn default() -> Self {
        Self {
            files: Vec::new(),
            links: Vec::new(),
        }
    }
}

/// What separates the text from the links [`Prepared::text_with_links`] appends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkGap {
    /// A line break: the links start on the line after the text.
    Line,
    /// A blank line: the links are a paragraph of their own.
    BlankLine,
}

impl<F> Prepared<F> {
    /// The same links with each file turned into `G` (a backend's upload type).
    pub fn map_files<G>(self, f: impl FnMut(F) -> G) -> Prepared<G> {
        Prepared {
            files: self.files.into_iter().map(f).collect(),
            links: self.links,
        }
    }

    /// `text` with the links appended, one a line, after `gap` (`text`'s trailing white space
    /// dropped); only the links when `text` is blank; `text` as it is when there are none.
    pub fn text_with_links(&self, text: &str, gap: LinkGap) -> String {
        if self.links.is_empty() {
            return text.to_owned();
        }
        let links = self.links.join("\n");
        if text.trim().is_empty() {
            return links;
        }
        let gap = match gap {
            LinkGap::Line => "\n",
            LinkGap::BlankLine => "\n\n",
        };
        format!("{}{gap}{links}", text.trim_end())
    }
}

/// Which files an [`UploadLimit`] counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitScope {
    /// Each file on its own may weigh up to the limit.
    EachFile,
    /// A message's files together may weigh up to the limit.
    AllFiles,
}

/// The most a platform takes, checked before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadLimit {
    /// The most bytes allowed.
    pub max_bytes: u64,
    /// Which files count towards it.
    pub scope: LimitScope,
    /// The rule as the error states it, after `<path> is <size> bytes: `.
    pub rule: String,
}

impl UploadLimit {
    /// At most `max_bytes` a file; `rule` says so in the error.
    pub fn each_file(max_bytes: u64, rule: String) -> Self {
        Self {
            max_bytes,
            scope: LimitScope::EachFile,
            rule,
        }
    }

    /// At most `max_bytes` for all of a message's files together; `rule` says so in the error.
    pub fn all_files(max_bytes: u64, rule: String) -> Self {
        Self {
            max_bytes,
            scope: LimitScope::AllFiles,
            rule,
        }
    }
}

/// The error for an attachment that cannot be sent: [`Error::InvalidInput`] on `attachments`.
pub fn invalid_attachment(message: String) -> Error {
    Error::InvalidInput {
        field: "attachments",
        message,
    }
}

/// Reads the files of `attachments` and collects its links, refusing an empty link and a
/// missing, unreadable, empty-named or too large file (over `limit`, when given) with an
/// [`invalid_attachment`] error naming it, before anything is sent.
pub async fn prepare(attachments: &[Attachment], limit: Option<&UploadLimit>) -> Result<Prepared> {
    let mut prepared = Prepared::default();
    let mut total: u64 = 0;
    for attachment in attachments {
        match attachment {
            Attachment::Path(path) => prepared
                .files
                .push(read_file(path, limit, &mut total).await?),
            Attachment::Url(url) => {
                let url = url.trim();
                if url.is_empty() {
                    return Err(invalid_attachment("an attachment link is empty".into()));
                }
                prepared.links.push(url.to_owned());
            }
        }
    }
    Ok(prepared)
}

/// Reads `path`, checking it against `limit` before and after reading (the file may grow);
/// `total` is what the files before it weighed, and grows by this one.
async fn read_file(path: &Path, limit: Option<&UploadLimit>, total: &mut u64) -> Result<LocalFile> {
    let shown = path.display();
    let filename = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .filter(|name| !name.is_empty())
        .ok_or_else(|| invalid_attachment(format!("{shown} names no file")))?;
    let metadata = tokio::fs::metadata(path)
        .await
        .map_err(|e| invalid_attachment(format!("cannot read {shown}: {e}")))?;
    if !metadata.is_file() {
        return Err(invalid_attachment(format!("{shown} is not a file")));
    }
    // What the limit counts besides this file.
    let before = match limit.map(|limit| limit.scope) {
        Some(LimitScope::AllFiles) => *total,
        Some(LimitScope::EachFile) | None => 0,
    };
    let check = |size: u64| match limit {
        Some(limit) if before.saturating_add(size) > limit.max_bytes => Err(invalid_attachment(
            format!("{shown} is {size} bytes: {}", limit.rule),
        )),
        _ => Ok(()),
    };
    check(metadata.len())?;
    let data = tokio::fs::read(path)
        .await
        .map_err(|e| invalid_attachment(format!("cannot read {shown}: {e}")))?;
    // Measured again: the file may have grown since.
    let size = u64::try_from(data.len()).unwrap_or(u64::MAX);
    check(size)?;
    *total = total.saturating_add(size);
    Ok(LocalFile {
        path: path.to_owned(),
        filename,
        data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder of its own under the system's temporary one, removed on drop.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Self {
            let dir = std::env::temp_dir().join(format!(
                "connector-core-attachments-{name}-{}",
                std::process::id()
            ));
            std::fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }

        fn file(&self, name: &str, size: usize) -> PathBuf {
            let path = self.0.join(name);
            std::fs::write(&path, vec![b'x'; size]).unwrap();
            path
        }

        fn hide(&self, error: &Error) -> String {
            error
                .to_string()
                .replace(&self.0.display().to_string(), "[DIR]")
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn with_links(links: &[&str]) -> Prepared {
        Prepared {
            files: Vec::new(),
            links: links.iter().map(|&l| l.to_owned()).collect(),
        }
    }

    #[test]
    fn links_follow_the_text_after_the_gap() {
        let prepared = with_links(&["https://a.example/1", "https://b.example/2"]);
        assert_eq!(
            prepared.text_with_links("see:\n", LinkGap::Line),
            "see:\nhttps://a.example/1\nhttps://b.example/2"
        );
        assert_eq!(
            prepared.text_with_links("Build log:\n", LinkGap::BlankLine),
            "Build log:\n\nhttps://a.example/1\nhttps://b.example/2"
        );
        assert_eq!(
            prepared.text_with_links(" \n", LinkGap::BlankLine),
            "https://a.example/1\nhttps://b.example/2"
        );
        assert_eq!(
            with_links(&[]).text_with_links("as is ", LinkGap::Line),
            "as is "
        );
    }

    #[tokio::test]
    async fn files_are_read_and_links_collected_in_order() {
        let scratch = Scratch::new("order");
        let a = scratch.file("a.log", 3);
        let b = scratch.file("b.png", 5);
        let prepared = prepare(
            &[
                Attachment::Path(a.clone()),
                Attachment::Url("  https://ci.example/1 ".into()),
                Attachment::Path(b),
            ],
            None,
        )
        .await
        .unwrap();
        assert_eq!(prepared.links, ["https://ci.example/1"]);
        let names: Vec<_> = prepared.files.iter().map(|f| f.filename.as_str()).collect();
        assert_eq!(names, ["a.log", "b.png"]);
        assert_eq!(prepared.files[0].path, a);
        assert_eq!(prepared.files[0].data, b"xxx");
        let sizes: Prepared<usize> = prepared.map_files(|f| f.data.len());
        assert_eq!(sizes.files, [3, 5]);
        assert_eq!(sizes.links, ["https://ci.example/1"]);
    }

    #[tokio::test]
    async fn bad_attachments_are_refused_naming_them() {
        let scratch = Scratch::new("refused");
        let refuse =
            |attachment: Attachment| async move { prepare(&[attachment], None).await.unwrap_err() };
        let missing = refuse(Attachment::Path("/nonexistent/report.pdf".into())).await;
        assert_eq!(
            missing.to_string(),
            "invalid attachments: cannot read /nonexistent/report.pdf: No such file or directory \
             (os error 2)"
        );
        assert!(matches!(
            missing,
            Error::InvalidInput {
                field: "attachments",
                ..
            }
        ));
        let folder = refuse(Attachment::Path(scratch.0.clone())).await;
        assert_eq!(
            scratch.hide(&folder),
            "invalid attachments: [DIR] is not a file"
        );
        let root = refuse(Attachment::Path("/".into())).await;
        assert_eq!(root.to_string(), "invalid attachments: / names no file");
        let empty = refuse(Attachment::Url(" ".into())).await;
        assert_eq!(
            empty.to_string(),
            "invalid attachments: an attachment link is empty"
        );
    }

    #[tokio::test]
    async fn limits_count_each_file_or_all_together() {
        let scratch = Scratch::new("limits");
        let six = Attachment::Path(scratch.file("six.bin", 6));
        let five = Attachment::Path(scratch.file("five.bin", 5));
        let each = UploadLimit::each_file(6, "at most 6 bytes a file".into());
        let all = UploadLimit::all_files(10, "at most 10 bytes together".into());

        let both = [six, five.clone()];
        assert_eq!(prepare(&both, Some(&each)).await.unwrap().files.len(), 2);
        let error = prepare(&both, Some(&all)).await.unwrap_err();
        assert_eq!(
            scratch.hide(&error),
            "invalid attachments: [DIR]/five.bin is 5 bytes: at most 10 bytes together"
        );
        let seven = Attachment::Path(scratch.file("seven.bin", 7));
        let error = prepare(std::slice::from_ref(&seven), Some(&each))
            .await
            .unwrap_err();
        assert_eq!(
            scratch.hide(&error),
            "invalid attachments: [DIR]/seven.bin is 7 bytes: at most 6 bytes a file"
        );
        assert_eq!(
            prepare(&[seven], None).await.unwrap().files[0].data.len(),
            7
        );
        assert_eq!(prepare(&[five], Some(&all)).await.unwrap().files.len(), 1);
    }
}
