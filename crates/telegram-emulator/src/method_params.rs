//! The parameters of every emulated method as api.json (Bot API 10.1) lists them: name, types,
//! required. `tests/spec_conformance.rs` fails when this table and the spec part ways.

/// One parameter of a method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param {
    /// Its name, e.g. `chat_id`.
    pub name: &'static str,
    /// The types it accepts, as the spec spells them (`Integer`, `Array of MessageEntity`, …).
    pub types: &'static [&'static str],
    /// Whether the call fails without it.
    pub required: bool,
}

/// One emulated method and its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Method {
    /// Its name as the spec spells it (calls match it case-insensitively).
    pub name: &'static str,
    /// Its parameters, in the spec's order.
    pub params: &'static [Param],
}

const fn p(name: &'static str, types: &'static [&'static str], required: bool) -> Param {
    Param {
        name,
        types,
        required,
    }
}

/// Every method the emulator serves, in alphabetical order.
pub const METHODS: &[Method] = &[
    Method {
        name: "answerCallbackQuery",
        params: &[
            p("callback_query_id", &["String"], true),
            p("text", &["String"], false),
            p("show_alert", &["Boolean"], false),
            p("url", &["String"], false),
            p("cache_time", &["Integer"], false),
        ],
    },
    Method {
        name: "createForumTopic",
        params: &[
            p("chat_id", &["Integer", "String"], true),
            p("name", &["String"], true),
            p("icon_color", &["Integer"], false),
            p("icon_custom_emoji_id", &["String"], false),
        ],
    },
    Method {
        name: "deleteMessage",
        params: &[
            p("chat_id", &["Integer", "String"], true),
            p("message_id", &["Integer"], true),
        ],
    },
    Method {
        name: "deleteWebhook",
        params: &[p("drop_pending_updates", &["Boolean"], false)],
    },
    Method {
        name: "editMessageReplyMarkup",
        params: &[
            p("business_connection_id", &["String"], false),
            p("chat_id", &["Integer", "String"], false),
            p("message_id", &["Integer"], false),
            p("inline_message_id", &["String"], false),
            p("reply_markup", &["InlineKeyboardMarkup"], false),
        ],
    },
    Method {
        name: "editMessageText",
        params: &[
            p("business_connection_id", &["String"], false),
            p("chat_id", &["Integer", "String"], false),
            p("message_id", &["Integer"], false),
            p("inline_message_id", &["String"], false),
            p("text", &["String"], false),
            p("parse_mode", &["String"], false),
            p("entities", &["Array of MessageEntity"], false),
            p("link_preview_options", &["LinkPreviewOptions"], false),
            p("rich_message", &["InputRichMessage"], false),
            p("reply_markup", &["InlineKeyboardMarkup"], false),
        ],
    },
    Method {
        name: "getChat",
        params: &[p("chat_id", &["Integer", "String"], true)],
    },
    Method {
        name: "getChatMember",
        params: &[
            p("chat_id", &["Integer", "String"], true),
            p("user_id", &["Integer"], true),
        ],
    },
    Method {
        name: "getFile",
        params: &[p("file_id", &["String"], true)],
    },
    Method {
        name: "getMe",
        params: &[],
    },
    Method {
        name: "getUpdates",
        params: &[
            p("offset", &["Integer"], false),
            p("limit", &["Integer"], false),
            p("timeout", &["Integer"], false),
            p("allowed_updates", &["Array of String"], false),
        ],
    },
    Method {
        name: "getWebhookInfo",
        params: &[],
    },
    Method {
        name: "sendChatAction",
        params: &[
            p("business_connection_id", &["String"], false),
            p("chat_id", &["Integer", "String"], true),
            p("message_thread_id", &["Integer"], false),
            p("action", &["String"], true),
        ],
    },
    Method {
        name: "sendDocument",
        params: &[
            p("business_connection_id", &["String"], false),
            p("chat_id", &["Integer", "String"], true),
            p("message_thread_id", &["Integer"], false),
            p("direct_messages_topic_id", &["Integer"], false),
            p("document", &["InputFile", "String"], true),
            p("thumbnail", &["InputFile", "String"], false),
            p("caption", &["String"], false),
            p("parse_mode", &["String"], false),
            p("caption_entities", &["Array of MessageEntity"], false),
            p("disable_content_type_detection", &["Boolean"], false),
            p("disable_notification", &["Boolean"], false),
            p("protect_content", &["Boolean"], false),
            p("allow_paid_broadcast", &["Boolean"], false),
            p("message_effect_id", &["String"], false),
            p(
                "suggested_post_parameters",
                &["SuggestedPostParameters"],
                false,
            ),
            p("reply_parameters", &["ReplyParameters"], false),
            p(
                "reply_markup",
                &[
                    "InlineKeyboardMarkup",
                    "ReplyKeyboardMarkup",
                    "ReplyKeyboardRemove",
                    "ForceReply",
                ],
                false,
            ),
        ],
    },
    Method {
        name: "sendMessage",
        params: &[
            p("business_connection_id", &["String"], false),
            p("chat_id", &["Integer", "String"], true),
            p("message_thread_id", &["Integer"], false),
            p("direct_messages_topic_id", &["Integer"], false),
            p("text", &["String"], true),
            p("parse_mode", &["String"], false),
            p("entities", &["Array of MessageEntity"], false),
            p("link_preview_options", &["LinkPreviewOptions"], false),
            p("disable_notification", &["Boolean"], false),
            p("protect_content", &["Boolean"], false),
            p("allow_paid_broadcast", &["Boolean"], false),
            p("message_effect_id", &["String"], false),
            p(
                "suggested_post_parameters",
                &["SuggestedPostParameters"],
                false,
            ),
            p("reply_parameters", &["ReplyParameters"], false),
            p(
                "reply_markup",
                &[
                    "InlineKeyboardMarkup",
                    "ReplyKeyboardMarkup",
                    "ReplyKeyboardRemove",
                    "ForceReply",
                ],
                false,
            ),
        ],
    },
    Method {
        name: "sendPhoto",
        params: &[
            p("business_connection_id", &["String"], false),
            p("chat_id", &["Integer", "String"], true),
            p("message_thread_id", &["Integer"], false),
            p("direct_messages_topic_id", &["Integer"], false),
            p("photo", &["InputFile", "String"], true),
            p("caption", &["String"], false),
            p("parse_mode", &["String"], false),
            p("caption_entities", &["Array of MessageEntity"], false),
            p("show_caption_above_media", &["Boolean"], false),
            p("has_spoiler", &["Boolean"], false),
            p("disable_notification", &["Boolean"], false),
            p("protect_content", &["Boolean"], false),
            p("allow_paid_broadcast", &["Boolean"], false),
            p("message_effect_id", &["String"], false),
            p(
                "suggested_post_parameters",
                &["SuggestedPostParameters"],
                false,
            ),
            p("reply_parameters", &["ReplyParameters"], false),
            p(
                "reply_markup",
                &[
                    "InlineKeyboardMarkup",
                    "ReplyKeyboardMarkup",
                    "ReplyKeyboardRemove",
                    "ForceReply",
                ],
                false,
            ),
        ],
    },
    Method {
        name: "setMessageReaction",
        params: &[
            p("chat_id", &["Integer", "String"], true),
            p("message_id", &["Integer"], true),
            p("reaction", &["Array of ReactionType"], false),
            p("is_big", &["Boolean"], false),
        ],
    },
    Method {
        name: "setWebhook",
        params: &[
            p("url", &["String"], true),
            p("certificate", &["InputFile"], false),
            p("ip_address", &["String"], false),
            p("max_connections", &["Integer"], false),
            p("allowed_updates", &["Array of String"], false),
            p("drop_pending_updates", &["Boolean"], false),
            p("secret_token", &["String"], false),
        ],
    },
];
