//! Tool arguments: parsed from the call's JSON object, and refused as a JSON-RPC
//! `invalid_params` error (-32602) naming the argument when they do not fit the tool.
//!
//! rmcp's own `Parameters` extractor turns a deserialization failure into a *tool* error
//! (`CallToolResult` with `isError`) whose text often names no argument (`invalid type: integer
//! `5`, expected a string`). Invalid arguments are the client's mistake, not the tool's, so this
//! extractor answers a protocol error instead:
//!
//! ```text
//! -32602 invalid arguments for `send`: missing required argument `text`
//! -32602 invalid arguments for `send`: argument `text`: invalid type: integer `5`, expected a string
//! ```
//!
//! with `data: {"tool": …, "argument": …}` for programs.

use std::fmt;

use rmcp::ErrorData as McpError;
use rmcp::handler::server::common::FromContextPart;
use rmcp::handler::server::tool::ToolCallContext;
use rmcp::model::JsonObject;
use schemars::JsonSchema;
use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, Visitor};
use serde_json::{Value, json};

/// A tool's arguments, parsed into `T`.
///
/// Named like rmcp's `Parameters` on purpose: `#[tool]` derives a tool's input schema from the
/// argument whose type is called `Parameters<T>`, so the schemas the tool list shows still come
/// from `T` alone.
#[derive(Debug)]
pub(crate) struct Parameters<T>(pub(crate) T);

impl<T: JsonSchema> JsonSchema for Parameters<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }
}

impl<S, T: DeserializeOwned> FromContextPart<ToolCallContext<'_, S>> for Parameters<T> {
    fn from_context_part(context: &mut ToolCallContext<'_, S>) -> Result<Self, McpError> {
        let arguments = context.arguments.take().unwrap_or_default();
        parse(&context.name, arguments).map(Parameters)
    }
}

/// Parses `arguments` of tool `tool` into `T`; a misfit is an `invalid_params` error naming the
/// argument.
pub(crate) fn parse<T: DeserializeOwned>(tool: &str, arguments: JsonObject) -> Result<T, McpError> {
    T::deserialize(Arguments(arguments)).map_err(|error| invalid(tool, &error))
}

/// The `invalid_params` error for `error` in the arguments of tool `tool`: the message names
/// the argument, and `data` is `{"tool", "argument"}`.
pub(crate) fn invalid(tool: &str, error: &ArgumentError) -> McpError {
    let mut data = json!({ "tool": tool });
    if let Some(name) = error.argument() {
        data["argument"] = Value::from(name);
    }
    McpError::invalid_params(
        format!("invalid arguments for `{tool}`: {error}"),
        Some(data),
    )
}

/// Why arguments do not fit a tool.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum ArgumentError {
    /// A required argument is missing.
    #[error("missing required argument `{0}`")]
    Missing(&'static str),
    /// An argument the tool does not take (only for parameters that deny unknown fields).
    #[error("unknown argument `{name}` (expected one of: {})", .expected.join(", "))]
    Unknown {
        /// The argument given.
        name: String,
        /// The arguments the tool takes.
        expected: &'static [&'static str],
    },
    /// An argument has the wrong type or value.
    #[error("argument `{name}`: {message}")]
    Invalid {
        /// The argument.
        name: String,
        /// What is wrong with it, as serde says.
        message: String,
    },
    /// Anything else the parameters' type refuses.
    #[error("{0}")]
    Other(String),
}

impl ArgumentError {
    /// The argument at fault, when there is one.
    pub(crate) fn argument(&self) -> Option<&str> {
        match self {
            Self::Missing(name) => Some(name),
            Self::Unknown { name, .. } | Self::Invalid { name, .. } => Some(name),
            Self::Other(_) => None,
        }
    }
}

impl de::Error for ArgumentError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Self::Other(message.to_string())
    }

    fn missing_field(field: &'static str) -> Self {
        Self::Missing(field)
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        Self::Unknown {
            name: field.to_owned(),
            expected,
        }
    }
}

/// The arguments object as a serde deserializer that remembers which argument a value error
/// belongs to.
struct Arguments(JsonObject);

impl<'de> de::Deserializer<'de> for Arguments {
    type Error = ArgumentError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ArgumentError> {
        visitor.visit_map(Entries {
            entries: self.0.into_iter(),
            current: None,
        })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier
        ignored_any
    }
}

/// The arguments one by one, each value's errors tagged with its name.
struct Entries {
    entries: serde_json::map::IntoIter,
    current: Option<(String, Value)>,
}

impl<'de> MapAccess<'de> for Entries {
    type Error = ArgumentError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, ArgumentError> {
        let Some((name, value)) = self.entries.next() else {
            return Ok(None);
        };
        let key = seed.deserialize(name.as_str().into_deserializer())?;
        self.current = Some((name, value));
        Ok(Some(key))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, ArgumentError> {
        let (name, value) = self
            .current
            .take()
            .ok_or_else(|| ArgumentError::Other("an argument value without its name".into()))?;
        seed.deserialize(value)
            .map_err(|error| ArgumentError::Invalid {
                name,
                message: error.to_string(),
            })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    struct Open {
        text: String,
        #[serde(default)]
        thread_id: Option<String>,
        #[serde(default)]
        attachments: Vec<String>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Closed {
        #[serde(default)]
        limit: Option<u32>,
    }

    fn refusal<T: DeserializeOwned + fmt::Debug>(arguments: Value) -> (String, Value) {
        let Value::Object(arguments) = arguments else {
            panic!("an object")
        };
        let error = parse::<T>("tool", arguments).expect_err("refused");
        assert_eq!(error.code, rmcp::model::ErrorCode::INVALID_PARAMS);
        (error.message.into_owned(), error.data.unwrap_or_default())
    }

    #[test]
    fn valid_arguments_parse_and_unknown_ones_are_ignored_unless_denied() {
        let Value::Object(arguments) =
            json!({ "text": "hi", "attachments": ["a"], "extra": 1, "thread_id": null })
        else {
            unreachable!()
        };
        let open: Open = parse("tool", arguments).unwrap();
        assert_eq!(open.text, "hi");
        assert_eq!(open.thread_id, None);
        assert_eq!(open.attachments, ["a"]);
        let Value::Object(arguments) = json!({ "limit": 3 }) else {
            unreachable!()
        };
        let closed: Closed = parse("tool", arguments).unwrap();
        assert_eq!(closed.limit, Some(3));

        let (message, data) = refusal::<Closed>(json!({ "limit": 3, "lmit": 4 }));
        assert_eq!(
            message,
            "invalid arguments for `tool`: unknown argument `lmit` (expected one of: limit)"
        );
        assert_eq!(data, json!({ "tool": "tool", "argument": "lmit" }));
    }

    #[test]
    fn every_refusal_names_the_argument() {
        let cases = [
            (json!({}), "missing required argument `text`", Some("text")),
            (
                json!({ "text": 5 }),
                "argument `text`: invalid type: integer `5`, expected a string",
                Some("text"),
            ),
            (
                json!({ "text": "x", "thread_id": true }),
                "argument `thread_id`: invalid type: boolean `true`, expected a string",
                Some("thread_id"),
            ),
            (
                json!({ "text": "x", "attachments": ["a", 3] }),
                "argument `attachments`: invalid type: integer `3`, expected a string",
                Some("attachments"),
            ),
        ];
        for (arguments, expected, argument) in cases {
            let (message, data) = refusal::<Open>(arguments);
            assert_eq!(message, format!("invalid arguments for `tool`: {expected}"));
            assert_eq!(data["argument"].as_str(), argument);
        }
        let (message, _) = refusal::<Closed>(json!({ "limit": -1 }));
        assert_eq!(
            message,
            "invalid arguments for `tool`: argument `limit`: invalid value: integer `-1`, expected u32"
        );
    }
}
