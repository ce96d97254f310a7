//! The orchestrator's Markdown as Telegram's HTML parse mode, safe for any text.
//!
//! **Why HTML.** Telegram offers MarkdownV2, HTML, or raw `entities`. MarkdownV2 fails the
//! whole send (`Bad Request: can't parse entities`) on one unescaped `_*[]()~>#+-=|{}.!` —
//! and user text is full of them. HTML needs only `<`, `>` and `&` escaped, and the renderer
//! below produces nothing but the tags Telegram accepts, properly nested: no text can fail to
//! parse or become markup.
//!
//! - Text is escaped (`&`, `<`, `>`; `"` too inside an attribute). Raw HTML in the Markdown is
//!   shown as text, never passed on.
//! - Bold, italic, strikethrough, inline code, code blocks (with a `language-…` class when the
//!   fence names one, as Telegram documents), block quotes. Headings become bold lines, list
//!   items `•` or numbered lines, images their alt text and link.
//! - Links keep their text and go to `http`, `https` or `tg` URLs only; any other scheme
//!   (`javascript:`, `file:`) is shown as text.
//! - **No mentions.** Telegram turns `@username` in any text into a mention that notifies that
//!   user; a word joiner (U+2060, invisible) after every `@` keeps it text. A bot cannot send
//!   a mention any other way here (no `tg://user` links are produced for names).
//! - **Length.** Telegram limits a message to 4096 characters *after* entities parsing, counted
//!   in UTF-16 code units; [`split`] cuts the Markdown into parts whose rendered text stays
//!   within [`PART_LIMIT`] (rendering adds at most one unit per `@` and none elsewhere, and the
//!   limit leaves room for that).

use connector_core::Result;
use connector_core::chunking::{Chunker, LengthUnit};
use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};

/// Telegram's limit on a message's text after entities parsing, in UTF-16 code units.
pub const TELEGRAM_LIMIT: usize = 4096;

/// The Markdown length [`split`] cuts at, in UTF-16 code units: Telegram's limit less room for
/// the word joiners after `@` and the list bullets rendering may add.
pub const PART_LIMIT: usize = 3800;

/// The invisible character kept after every `@`, so that no `@username` becomes a mention.
const WORD_JOINER: char = '\u{2060}';

/// URL schemes a link may have; any other link is shown as text.
const LINK_SCHEMES: [&str; 3] = ["http://", "https://", "tg://"];

/// `markdown` cut into parts that each render within Telegram's limit, in order: cut at
/// [`PART_LIMIT`], and a part whose rendered text is still too long (dense with `@`, each of
/// which gains a word joiner) cut again, smaller, until every part fits.
///
/// # Errors
///
/// Never for the limits used (the chunker refuses only limits below its minimum).
pub fn split(markdown: &str) -> Result<Vec<String>> {
    let mut parts = Vec::new();
    split_into(markdown, PART_LIMIT, &mut parts)?;
    Ok(parts)
}

fn split_into(markdown: &str, limit: usize, parts: &mut Vec<String>) -> Result<()> {
    for part in Chunker::new(limit, LengthUnit::Utf16)?.split_text(markdown) {
        let rendered = visible_len(&to_html(&part));
        if rendered <= TELEGRAM_LIMIT || limit <= Chunker::MIN_LIMIT {
            parts.push(part);
        } else {
            let smaller = (limit * TELEGRAM_LIMIT / rendered)
                .min(limit - 1)
                .max(Chunker::MIN_LIMIT);
            split_into(&part, smaller, parts)?;
        }
    }
    Ok(())
}

/// The length Telegram counts for `html`: its text after entities parsing (tags left out,
/// `&amp;` and the like one character), in UTF-16 code units.
pub fn visible_len(html: &str) -> usize {
    let mut len = 0;
    let mut rest = html;
    while let Some(c) = rest.chars().next() {
        match c {
            '<' => match rest.find('>') {
                Some(end) => rest = &rest[end + 1..],
                None => {
                    len += 1;
                    rest = &rest[1..];
                }
            },
            '&' => {
                let entity = ["&amp;", "&lt;", "&gt;", "&quot;"]
                    .iter()
                    .find(|e| rest.starts_with(*e));
                len += 1;
                rest = &rest[entity.map_or(1, |e| e.len())..];
            }
            c => {
                len += c.len_utf16();
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    len
}

/// `markdown` rendered for `parse_mode: HTML` (see the module docs).
pub fn to_html(markdown: &str) -> String {
    let options = Options::ENABLE_STRIKETHROUGH;
    let mut out = Renderer::default();
    for event in Parser::new_ext(markdown, options) {
        out.event(event);
    }
    out.html.trim_end().to_owned()
}

/// The state of one rendering.
#[derive(Default)]
struct Renderer {
    html: String,
    /// For each open list: the next item's number (`None`: a bullet list).
    lists: Vec<Option<u64>>,
    /// The open links: whether each became an `<a>` (a refused scheme shows as text).
    links: Vec<bool>,
    /// Inside a code block: text is escaped but nothing else is changed.
    in_code_block: bool,
}

impl Renderer {
    fn event(&mut self, event: Event<'_>) {
        match event {
            Event::Start(tag) => self.start(tag),
            Event::End(tag) => self.end(tag),
            Event::Text(text) => {
                if self.in_code_block {
                    self.html.push_str(&escape(&text));
                } else {
                    self.text(&text);
                }
            }
            Event::Code(code) => {
                self.html.push_str("<code>");
                self.html.push_str(&escape(&code));
                self.html.push_str("</code>");
            }
            // Raw HTML and math are shown as the text they are.
            Event::Html(raw)
            | Event::InlineHtml(raw)
            | Event::InlineMath(raw)
            | Event::DisplayMath(raw) => self.text(&raw),
            Event::SoftBreak | Event::HardBreak => self.html.push('\n'),
            Event::Rule => self.html.push_str("――――――\n\n"),
            Event::TaskListMarker(done) => self.html.push_str(if done { "☑ " } else { "☐ " }),
            Event::FootnoteReference(name) => self.text(&format!("[{name}]")),
        }
    }

    fn start(&mut self, tag: Tag<'_>) {
        match tag {
            Tag::Paragraph
            | Tag::HtmlBlock
            | Tag::Table(_)
            | Tag::TableHead
            | Tag::TableRow
            | Tag::DefinitionList
            | Tag::DefinitionListTitle
            | Tag::DefinitionListDefinition
            | Tag::FootnoteDefinition(_)
            | Tag::MetadataBlock(_) => {}
            Tag::TableCell => self.html.push_str(" | "),
            Tag::Heading { .. } | Tag::Strong => self.html.push_str("<b>"),
            Tag::Emphasis => self.html.push_str("<i>"),
            Tag::Strikethrough => self.html.push_str("<s>"),
            Tag::Superscript | Tag::Subscript => {}
            Tag::BlockQuote(_) => self.html.push_str("<blockquote>"),
            Tag::CodeBlock(kind) => {
                self.in_code_block = true;
                match kind {
                    CodeBlockKind::Fenced(language) if is_language(&language) => {
                        self.html
                            .push_str(&format!("<pre><code class=\"language-{language}\">"));
                    }
                    _ => self.html.push_str("<pre><code>"),
                }
            }
            Tag::List(start) => self.lists.push(start),
            Tag::Item => {
                let marker = match self.lists.last_mut() {
                    Some(Some(number)) => {
                        let marker = format!("{number}. ");
                        *number += 1;
                        marker
                    }
                    _ => "• ".to_owned(),
                };
                let depth = self.lists.len().saturating_sub(1);
                self.html.push_str(&"  ".repeat(depth));
                self.html.push_str(&marker);
            }
            Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. } => {
                let allowed = LINK_SCHEMES
                    .iter()
                    .any(|scheme| dest_url.to_ascii_lowercase().starts_with(scheme));
                if allowed {
                    self.html.push_str("<a href=\"");
                    self.html.push_str(&escape_attribute(&dest_url));
                    self.html.push_str("\">");
                }
                self.links.push(allowed);
            }
        }
    }

    fn end(&mut self, tag: TagEnd) {
        match tag {
            TagEnd::Paragraph | TagEnd::HtmlBlock | TagEnd::FootnoteDefinition => {
                self.html.push_str("\n\n");
            }
            TagEnd::Heading(level) => {
                self.html.push_str("</b>");
                self.html.push_str(if level == HeadingLevel::H1 {
                    "\n\n"
                } else {
                    "\n"
                });
            }
            TagEnd::Strong => self.html.push_str("</b>"),
            TagEnd::Emphasis => self.html.push_str("</i>"),
            TagEnd::Strikethrough => self.html.push_str("</s>"),
            TagEnd::BlockQuote(_) => {
                trim_trailing_newlines(&mut self.html);
                self.html.push_str("</blockquote>\n\n");
            }
            TagEnd::CodeBlock => {
                self.in_code_block = false;
                trim_trailing_newlines(&mut self.html);
                self.html.push_str("</code></pre>\n\n");
            }
            TagEnd::List(_) => {
                self.lists.pop();
                if self.lists.is_empty() {
                    self.html.push('\n');
                }
            }
            TagEnd::Item => {
                trim_trailing_newlines(&mut self.html);
                self.html.push('\n');
            }
            TagEnd::Link | TagEnd::Image => {
                let opened = self.links.pop() == Some(true);
                if opened {
                    self.html.push_str("</a>");
                }
            }
            TagEnd::TableRow | TagEnd::TableHead => self.html.push('\n'),
            _ => {}
        }
    }

    /// Ordinary text: escaped, with a word joiner after every `@`.
    fn text(&mut self, text: &str) {
        for c in text.chars() {
            match c {
                '&' => self.html.push_str("&amp;"),
                '<' => self.html.push_str("&lt;"),
                '>' => self.html.push_str("&gt;"),
                '@' => {
                    self.html.push('@');
                    self.html.push(WORD_JOINER);
                }
                c => self.html.push(c),
            }
        }
    }
}

/// Whether a fence's info string can be a `language-…` class: letters, digits, `+`, `-`, `#`,
/// `_` and `.` (anything else, say a quote, is left out).
fn is_language(language: &str) -> bool {
    !language.is_empty()
        && language.len() <= 32
        && language
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'#' | b'_' | b'.'))
}

/// Plain text (no Markdown) for HTML parse mode: escaped, with a word joiner after every `@`
/// so that no `@username` becomes a mention.
///
/// ```
/// assert_eq!(connector_telegram::markup::plain("<b> @x"), "&lt;b&gt; @\u{2060}x");
/// ```
pub fn plain(text: &str) -> String {
    escape(text).replace('@', "@\u{2060}")
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn escape_attribute(text: &str) -> String {
    escape(text).replace('"', "&quot;")
}

fn trim_trailing_newlines(html: &mut String) {
    while html.ends_with('\n') {
        html.pop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_becomes_the_tags_telegram_accepts() {
        let html = to_html(
            "# Build\n\n**green** and *fast*, ~~red~~ `cargo test`\n\n- one\n- two\n\n\
             1. first\n2. second\n\n> quoted\n\n```rust\nfn main() { 1 < 2 }\n```\n\n\
             [docs](https://example.org/a?b=1&c=\"2\")",
        );
        insta::assert_snapshot!(html, @r#"
        <b>Build</b>

        <b>green</b> and <i>fast</i>, <s>red</s> <code>cargo test</code>

        • one
        • two

        1. first
        2. second

        <blockquote>quoted</blockquote>

        <pre><code class="language-rust">fn main() { 1 &lt; 2 }</code></pre>

        <a href="https://example.org/a?b=1&amp;c=&quot;2&quot;">docs</a>
        "#);
    }

    #[test]
    fn hostile_text_stays_text() {
        let html = to_html(
            "<b>not bold</b> </i> &amp; <script>x</script> [click](javascript:alert(1)) \
             [file](file:///etc/passwd) @channel_admin ![img](https://e.org/i.png) \
             ```\"><b>``` <a href=\"https://evil\">x</a>",
        );
        assert!(!html.contains("<b>not"), "{html}");
        assert!(!html.contains("<script"), "{html}");
        assert!(
            !html.contains("javascript"),
            "the refused link shows only its text: {html}"
        );
        assert!(!html.contains("<a href=\"https://evil"), "{html}");
        assert!(html.contains("@\u{2060}channel_admin"), "{html}");
        insta::assert_snapshot!(html.replace(WORD_JOINER, "[WJ]"), @r#"&lt;b&gt;not bold&lt;/b&gt; &lt;/i&gt; &amp; &lt;script&gt;x&lt;/script&gt; click file @[WJ]channel_admin <a href="https://e.org/i.png">img</a> <code>"&gt;&lt;b&gt;</code> &lt;a href="https://evil"&gt;x&lt;/a&gt;"#);
        // Every tag the renderer wrote is one Telegram accepts, and they balance.
        assert_balanced(&html);
    }

    #[test]
    fn unbalanced_markdown_renders_balanced_html() {
        for markdown in [
            "**open",
            "*a **b* c**",
            "~~x",
            "> q\n\n```\nunclosed",
            "[a](https://x",
            "- [ ] t\n- [x] u",
        ] {
            assert_balanced(&to_html(markdown));
        }
    }

    #[test]
    fn parts_stay_within_telegrams_limit_counted_in_utf16() {
        let text = "😀 @someone ".repeat(2000);
        let parts = split(&text).unwrap();
        assert!(parts.len() > 1);
        for part in &parts {
            let visible = visible_len(&to_html(part));
            assert!(visible <= TELEGRAM_LIMIT, "{visible} units");
        }
        assert_eq!(
            visible_len("<b>a&amp;b</b> 😀"),
            6,
            "tags are not counted, an emoji is 2"
        );
        assert_eq!(
            parts.concat().replace(char::is_whitespace, ""),
            text.replace(char::is_whitespace, "")
        );
    }

    /// The tags in `html` are Telegram's and properly nested.
    fn assert_balanced(html: &str) {
        let mut open: Vec<String> = Vec::new();
        let mut rest = html;
        while let Some(at) = rest.find('<') {
            let after = &rest[at + 1..];
            let end = after.find('>').expect("a tag closes");
            let tag = &after[..end];
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(open.pop().as_deref(), Some(name), "{html}");
            } else {
                let name = tag.split(' ').next().unwrap().to_owned();
                assert!(
                    ["b", "i", "s", "code", "pre", "a", "blockquote"].contains(&name.as_str()),
                    "tag {name} in {html}"
                );
                open.push(name);
            }
            rest = &after[end + 1..];
        }
        assert!(open.is_empty(), "unclosed {open:?} in {html}");
    }
}
