//! Markdown → Slack `mrkdwn`, escaped so that hostile text cannot mention anyone, link
//! anywhere or break the markup.
//!
//! Slack reads three characters as control characters in message text — `&`, `<` and `>` —
//! and asks apps to escape them as `&amp;`, `&lt;` and `&gt;` ("Formatting text for app
//! surfaces", *Escaping text*). Every piece of text from the Markdown is escaped so, so
//! `<!channel>`, `<@U123>` or `<https://evil|click>` in it arrive as plain text; the only
//! `<…>` the output holds are links the Markdown itself made (`[label](https://…)`), whose URL
//! is percent-encoded where it could end the link (`|`, `<`, `>`) and whose scheme must be
//! `http`, `https` or `mailto`. Plain `@channel` is left alone: messages are posted with
//! `parse=none` and `link_names=false`, so Slack does not turn it into a mention.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// Escapes Slack's three control characters.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

/// A URL made safe inside `<…|…>`: only http(s) and mailto, with the characters that would end
/// the link percent-encoded and `&` escaped.
fn link_target(url: &str) -> Option<String> {
    let lower = url.trim().to_ascii_lowercase();
    if !(lower.starts_with("https://")
        || lower.starts_with("http://")
        || lower.starts_with("mailto:"))
    {
        return None;
    }
    let mut out = String::with_capacity(url.len());
    for c in url.trim().chars() {
        match c {
            '|' => out.push_str("%7C"),
            '<' => out.push_str("%3C"),
            '>' => out.push_str("%3E"),
            '&' => out.push_str("&amp;"),
            c if c.is_whitespace() || c.is_control() => out.push_str("%20"),
            c => out.push(c),
        }
    }
    Some(out)
}

/// Converts Markdown to `mrkdwn` (see the module docs).
///
/// `**bold**` → `*bold*`, `*em*` → `_em_`, `~~gone~~` → `~gone~`, code spans and blocks kept,
/// headings bold on a line of their own, list items with `•` or their number, quotes with `>`,
/// `[label](url)` → `<url|label>`.
pub(crate) fn to_mrkdwn(markdown: &str) -> String {
    let mut out = Writer::default();
    let mut links: Vec<Option<String>> = Vec::new();
    let mut lists: Vec<Option<u64>> = Vec::new();
    let mut in_code_block = false;
    let options = Options::ENABLE_STRIKETHROUGH;
    for event in Parser::new_ext(markdown, options) {
        match event {
            Event::Start(tag) => match tag {
                Tag::Paragraph => out.block(),
                Tag::Heading { .. } => {
                    out.block();
                    out.push("*");
                }
                Tag::BlockQuote(_) => {
                    out.block();
                    out.quote += 1;
                    out.prefix_line();
                }
                Tag::CodeBlock(_) => {
                    out.block();
                    in_code_block = true;
                    out.push("```");
                    out.raw_newline();
                }
                Tag::List(start) => {
                    out.block();
                    lists.push(start);
                }
                Tag::Item => {
                    out.line();
                    let indent = "    ".repeat(lists.len().saturating_sub(1));
                    out.push(&indent);
                    match lists.last_mut() {
                        Some(Some(n)) => {
                            let bullet = format!("{n}. ");
                            *n += 1;
                            out.push(&bullet);
                        }
                        _ => out.push("• "),
                    }
                }
                Tag::Emphasis => out.push("_"),
                Tag::Strong => out.push("*"),
                Tag::Strikethrough => out.push("~"),
                Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. } => {
                    let target = link_target(&dest_url);
                    if let Some(target) = &target {
                        out.push("<");
                        out.push(target);
                        out.push("|");
                    }
                    links.push(target.is_none().then(|| escape(&dest_url)));
                }
                _ => {}
            },
            Event::End(tag) => match tag {
                TagEnd::Paragraph => out.end_block(),
                TagEnd::Heading(_) => {
                    out.push("*");
                    out.end_block();
                }
                TagEnd::BlockQuote(_) => {
                    out.quote = out.quote.saturating_sub(1);
                    out.end_block();
                }
                TagEnd::CodeBlock => {
                    in_code_block = false;
                    if !out.text.ends_with('\n') {
                        out.raw_newline();
                    }
                    out.push("```");
                    out.end_block();
                }
                TagEnd::List(_) => {
                    lists.pop();
                    out.end_block();
                }
                TagEnd::Emphasis => out.push("_"),
                TagEnd::Strong => out.push("*"),
                TagEnd::Strikethrough => out.push("~"),
                TagEnd::Link | TagEnd::Image => match links.pop().flatten() {
                    // Not a linkable scheme: the label, then the target as plain text.
                    Some(plain) => {
                        out.push(" (");
                        out.push(&plain);
                        out.push(")");
                    }
                    None => out.push(">"),
                },
                _ => {}
            },
            Event::Text(text) => {
                if in_code_block {
                    // Keep the block's lines, escaped, without quote prefixes mangling them.
                    let escaped = escape(&text);
                    let mut first = true;
                    for line in escaped.split('\n') {
                        if !first {
                            out.line();
                        }
                        first = false;
                        out.push(line);
                    }
                } else {
                    out.push(&escape(&text));
                }
            }
            Event::Code(code) => {
                out.push("`");
                out.push(&escape(&code));
                out.push("`");
            }
            Event::Html(html) | Event::InlineHtml(html) => out.push(&escape(&html)),
            Event::SoftBreak | Event::HardBreak => out.line(),
            Event::Rule => {
                out.block();
                out.push("———");
                out.end_block();
            }
            Event::TaskListMarker(done) => out.push(if done { "☑ " } else { "☐ " }),
            Event::FootnoteReference(name) => out.push(&escape(&format!("[{name}]"))),
            _ => {}
        }
    }
    out.text.trim_end().to_owned()
}

/// The output being built: blocks separated by blank lines, quote prefixes on every line.
#[derive(Default)]
struct Writer {
    text: String,
    quote: usize,
    /// A block ended: the next block starts after a blank line.
    pending_break: bool,
}

impl Writer {
    fn push(&mut self, s: &str) {
        self.flush_break();
        self.text.push_str(s);
    }

    fn flush_break(&mut self) {
        if self.pending_break {
            self.pending_break = false;
            if !self.text.is_empty() {
                self.text.push('\n');
                self.prefix_only();
                self.text.push('\n');
                self.prefix_only();
            }
        }
    }

    fn prefix_only(&mut self) {
        for _ in 0..self.quote {
            self.text.push_str("> ");
        }
    }

    fn prefix_line(&mut self) {
        self.flush_break();
        if self.text.is_empty() || self.text.ends_with('\n') {
            self.prefix_only();
        }
    }

    /// A new line inside the current block.
    fn line(&mut self) {
        self.flush_break();
        if !self.text.is_empty() && !self.text.ends_with('\n') {
            self.text.push('\n');
            self.prefix_only();
        }
    }

    fn raw_newline(&mut self) {
        self.text.push('\n');
        self.prefix_only();
    }

    fn block(&mut self) {
        self.flush_break();
    }

    fn end_block(&mut self) {
        self.pending_break = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_converts() {
        assert_eq!(
            to_mrkdwn("**bold** and *it* and ~~gone~~"),
            "*bold* and _it_ and ~gone~"
        );
        assert_eq!(to_mrkdwn("# Title\n\nbody"), "*Title*\n\nbody");
        assert_eq!(to_mrkdwn("- a\n- b"), "• a\n• b");
        assert_eq!(to_mrkdwn("1. a\n2. b"), "1. a\n2. b");
        assert_eq!(to_mrkdwn("`x < y`"), "`x &lt; y`");
        assert_eq!(
            to_mrkdwn("```\nif a && b {}\n```"),
            "```\nif a &amp;&amp; b {}\n```"
        );
        assert_eq!(to_mrkdwn("> quoted\n> more"), "> quoted\n> more");
        assert_eq!(
            to_mrkdwn("[docs](https://example.com/a?b=1&c=2)"),
            "<https://example.com/a?b=1&amp;c=2|docs>"
        );
        assert_eq!(to_mrkdwn("line one\nline two"), "line one\nline two");
    }

    #[test]
    fn hostile_text_cannot_mention_link_or_break_markup() {
        let hostile = "<!channel> <!here> <@U0123ABCD> <#C0123> <!subteam^S1> \
                       <https://evil.example|click me> & &amp; <script>";
        let out = to_mrkdwn(hostile);
        assert!(!out.contains('<'), "{out}");
        assert!(!out.contains('>'), "{out}");
        assert_eq!(
            out,
            "&lt;!channel&gt; &lt;!here&gt; &lt;@U0123ABCD&gt; &lt;#C0123&gt; \
             &lt;!subteam^S1&gt; &lt;https://evil.example|click me&gt; &amp; &amp;amp; \
             &lt;script&gt;"
        );
        // A link whose target tries to close the link early or to smuggle a mention.
        let out = to_mrkdwn("[x](https://a.example/|<!channel>)");
        assert_eq!(out.matches('<').count(), 1, "{out}");
        assert_eq!(out.matches('>').count(), 1, "{out}");
        assert!(
            out.starts_with("<https://a.example/%7C%3C!channel%3E|x>"),
            "{out}"
        );
        // Schemes other than http(s)/mailto are not links.
        let out = to_mrkdwn("[x](javascript:alert(1))");
        assert!(!out.contains('<'), "{out}");
        // A label holding markup stays inside the link, escaped.
        let out = to_mrkdwn("[<!everyone>](https://a.example)");
        assert_eq!(out, "<https://a.example|&lt;!everyone&gt;>");
    }
}
