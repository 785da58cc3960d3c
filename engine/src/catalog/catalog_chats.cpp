// Catalog: chats and their messages (with the routed expert and generation timings).
#include <algorithm>

#include "catalog/catalog_impl.h"

namespace meswitch {
namespace {

using catalog::Context;
using catalog::in_quotes;

#define NOW "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
constexpr const char* sql_insert_chat = "INSERT INTO chats (title, system_prompt) VALUES (?1, ?2)";
constexpr const char* sql_rename_chat = "UPDATE chats SET title = ?2 WHERE id = ?1";
constexpr const char* sql_set_system_prompt = "UPDATE chats SET system_prompt = ?2 WHERE id = ?1";
constexpr const char* sql_touch_chat = "UPDATE chats SET updated_at = " NOW " WHERE id = ?1";
constexpr const char* sql_chat_exists = "SELECT 1 FROM chats WHERE id = ?1";
constexpr const char* sql_list_chats =
    "SELECT id, title, system_prompt, created_at, updated_at FROM chats "
    "ORDER BY updated_at DESC, id DESC";
constexpr const char* sql_delete_chat = "DELETE FROM chats WHERE id = ?1";
constexpr const char* sql_insert_message =
    "INSERT INTO messages (chat_id, role, text, expert_id, routing_confidence, token_count, "
    "prompt_ms, generate_ms, tokens_per_second) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";
constexpr const char* sql_model_exists = "SELECT 1 FROM models WHERE id = ?1";
constexpr const char* sql_messages_of =
    "SELECT id, chat_id, role, text, expert_id, routing_confidence, token_count, prompt_ms, "
    "generate_ms, tokens_per_second, created_at, alternative, "
    "(SELECT count(*) FROM message_alternatives a WHERE a.message_id = messages.id) "
    "FROM messages WHERE chat_id = ?1 ORDER BY id";
constexpr const char* sql_truncate_chat = "DELETE FROM messages WHERE chat_id = ?1 AND id >= ?2";
// Alternatives (schema version 5). The message row mirrors its chosen alternative.
constexpr const char* sql_message_of =
    "SELECT id, chat_id, role, text, expert_id, routing_confidence, token_count, prompt_ms, "
    "generate_ms, tokens_per_second, created_at, alternative FROM messages WHERE id = ?1";
constexpr const char* sql_count_alternatives =
    "SELECT count(*) FROM message_alternatives WHERE message_id = ?1";
constexpr const char* sql_insert_alternative =
    "INSERT INTO message_alternatives (message_id, position, text, expert_id, "
    "routing_confidence, token_count, prompt_ms, generate_ms, tokens_per_second, created_at) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, coalesce(?10, " NOW "))";
constexpr const char* sql_choose_alternative =
    "UPDATE messages SET (text, expert_id, routing_confidence, token_count, prompt_ms, "
    "generate_ms, tokens_per_second, created_at, alternative) = (SELECT text, expert_id, "
    "routing_confidence, token_count, prompt_ms, generate_ms, tokens_per_second, created_at, "
    "position FROM message_alternatives WHERE message_id = ?1 AND position = ?2) WHERE id = ?1";
constexpr const char* sql_alternatives_of =
    "SELECT position, text, expert_id, routing_confidence, token_count, prompt_ms, generate_ms, "
    "tokens_per_second, created_at FROM message_alternatives WHERE message_id = ?1 "
    "ORDER BY position";
#undef NOW

// The columns sql_message_of and sql_messages_of start with.
MessageRecord message_row(catalog::Statement& st) {
    MessageRecord m;
    m.id = st.int64(0);
    m.chat_id = st.int64(1);
    m.role = st.text(2);
    m.text = st.text(3);
    m.expert_id = st.optional_int64(4);
    m.routing_confidence = st.optional_real(5);
    m.token_count = st.int64(6);
    m.prompt_ms = st.real(7);
    m.generate_ms = st.real(8);
    m.tokens_per_second = st.real(9);
    m.created_at = st.text(10);
    m.alternative = static_cast<int>(st.int64(11));
    return m;
}

std::optional<MessageRecord> read_message(const Context& d, std::int64_t message_id) {
    auto st = d.prepare(sql_message_of, "reading a message");
    st.bind(1, message_id);
    if (!st.step()) return std::nullopt;
    return message_row(st);
}

int count_alternatives(const Context& d, std::int64_t message_id) {
    auto st = d.prepare(sql_count_alternatives, "counting the alternatives of a message");
    st.bind(1, message_id);
    return st.step() ? static_cast<int>(st.int64(0)) : 0;
}

void insert_alternative(const Context& d, std::int64_t message_id, int position,
                        const MessageRecord& m, bool keep_created_at) {
    auto st = d.prepare(sql_insert_alternative, "adding an alternative answer");
    st.bind(1, message_id).bind(2, std::int64_t(position)).bind(3, m.text).bind(4, m.expert_id);
    st.bind(5, m.routing_confidence).bind(6, m.token_count).bind(7, m.prompt_ms);
    st.bind(8, m.generate_ms).bind(9, m.tokens_per_second);
    if (keep_created_at) st.bind(10, m.created_at);
    st.run();
}

void mirror_alternative(const Context& d, std::int64_t message_id, int position) {
    auto st = d.prepare(sql_choose_alternative, "choosing an alternative answer");
    st.bind(1, message_id).bind(2, std::int64_t(position)).run();
}

bool exists(const Context& d, const char* sql, std::int64_t id) {
    auto st = d.prepare(sql, "looking up a row");
    st.bind(1, id);
    return st.step();
}

void require_chat(const Context& d, std::int64_t chat_id, std::string_view doing) {
    if (!exists(d, sql_chat_exists, chat_id))
        d.fail(std::string("cannot ") + std::string(doing) + " chat id " + std::to_string(chat_id) +
               ": no such chat");
}

// Runs an UPDATE/DELETE on one chat row; a missing chat is an error.
void change_chat(const Context& d, const char* sql, std::int64_t chat_id, std::string_view doing,
                 std::optional<std::string_view> text = {}) {
    auto st = d.prepare(sql, std::string(doing) + " a chat");
    st.bind(1, chat_id);
    if (text) st.bind(2, *text);
    st.run();
    if (st.changes() == 0)
        d.fail(std::string("cannot ") + std::string(doing) + " chat id " + std::to_string(chat_id) +
               ": no such chat");
}

}  // namespace

std::int64_t Catalog::create_chat(std::string_view title, std::string_view system_prompt) {
    auto st = impl_->prepare(sql_insert_chat, "creating a chat");
    st.bind(1, title).bind(2, system_prompt).run();
    return st.last_insert_id();
}

void Catalog::rename_chat(std::int64_t chat_id, std::string_view title) {
    change_chat(*impl_, sql_rename_chat, chat_id, "rename", title);
}

void Catalog::set_chat_system_prompt(std::int64_t chat_id, std::string_view system_prompt) {
    change_chat(*impl_, sql_set_system_prompt, chat_id, "set the system prompt of", system_prompt);
}

std::vector<ChatRecord> Catalog::list_chats() const {
    auto st = impl_->prepare(sql_list_chats, "listing chats");
    std::vector<ChatRecord> out;
    while (st.step()) out.push_back({st.int64(0), st.text(1), st.text(2), st.text(3), st.text(4)});
    return out;
}

void Catalog::remove_chat(std::int64_t chat_id) {
    // One statement: the messages go with the chat through ON DELETE CASCADE.
    change_chat(*impl_, sql_delete_chat, chat_id, "remove");
}

std::int64_t Catalog::add_message(const MessageRecord& m) {
    const Impl& d = *impl_;
    std::int64_t id = 0;
    transaction([&] {
        if (m.role != "system" && m.role != "user" && m.role != "assistant")
            d.fail("message role " + in_quotes(m.role) + " is not one of system, user, assistant");
        require_chat(d, m.chat_id, "add a message to");
        if (m.expert_id && !exists(d, sql_model_exists, *m.expert_id))
            d.fail("a message in chat id " + std::to_string(m.chat_id) + " names expert id " +
                   std::to_string(*m.expert_id) + " which does not exist");
        auto st = d.prepare(sql_insert_message, "adding a message");
        st.bind(1, m.chat_id).bind(2, m.role).bind(3, m.text).bind(4, m.expert_id);
        st.bind(5, m.routing_confidence).bind(6, m.token_count).bind(7, m.prompt_ms);
        st.bind(8, m.generate_ms).bind(9, m.tokens_per_second);
        st.run();
        id = st.last_insert_id();
        change_chat(d, sql_touch_chat, m.chat_id, "update");
    });
    return id;
}

std::vector<MessageRecord> Catalog::messages(std::int64_t chat_id) const {
    auto st = impl_->prepare(sql_messages_of, "reading messages");
    st.bind(1, chat_id);
    std::vector<MessageRecord> out;
    while (st.step()) {
        MessageRecord m = message_row(st);
        m.alternative_count = std::max(1, static_cast<int>(st.int64(12)));
        out.push_back(std::move(m));
    }
    return out;
}

void Catalog::truncate_chat(std::int64_t chat_id, std::int64_t from_message_id) {
    const Impl& d = *impl_;
    transaction([&] {
        require_chat(d, chat_id, "truncate");
        auto st = d.prepare(sql_truncate_chat, "truncating a chat");
        st.bind(1, chat_id).bind(2, from_message_id).run();
        change_chat(d, sql_touch_chat, chat_id, "update");
    });
}

int Catalog::add_alternative(std::int64_t message_id, const MessageRecord& answer) {
    const Impl& d = *impl_;
    int position = 0;
    transaction([&] {
        const auto message = read_message(d, message_id);
        if (!message)
            d.fail("cannot add an alternative answer to message id " + std::to_string(message_id) +
                   ": no such message");
        if (message->role != "assistant")
            d.fail("cannot add an alternative answer to message id " + std::to_string(message_id) +
                   ": it is a " + message->role + " message, not an answer");
        if (answer.expert_id && !exists(d, sql_model_exists, *answer.expert_id))
            d.fail("an alternative answer names expert id " + std::to_string(*answer.expert_id) +
                   " which does not exist");
        position = count_alternatives(d, message_id);
        if (position == 0) {  // the first regeneration: the message itself becomes alternative 0
            insert_alternative(d, message_id, 0, *message, true);
            position = 1;
        }
        insert_alternative(d, message_id, position, answer, false);
        mirror_alternative(d, message_id, position);
        change_chat(d, sql_touch_chat, message->chat_id, "update");
    });
    return position;
}

void Catalog::choose_alternative(std::int64_t message_id, int index) {
    const Impl& d = *impl_;
    transaction([&] {
        if (!read_message(d, message_id))
            d.fail("cannot choose an alternative of message id " + std::to_string(message_id) +
                   ": no such message");
        const int count = std::max(1, count_alternatives(d, message_id));
        if (index < 0 || index >= count)
            d.fail("message id " + std::to_string(message_id) + " has no alternative " +
                   std::to_string(index + 1) + " (it has " + std::to_string(count) + ")");
        if (count > 1) mirror_alternative(d, message_id, index);
    });
}

std::vector<MessageRecord> Catalog::alternatives(std::int64_t message_id) const {
    const Impl& d = *impl_;
    std::vector<MessageRecord> out;
    const auto message = read_message(d, message_id);
    if (!message) return out;
    auto st = d.prepare(sql_alternatives_of, "reading the alternatives of a message");
    st.bind(1, message_id);
    while (st.step()) {
        MessageRecord m;
        m.id = message->id;
        m.chat_id = message->chat_id;
        m.role = message->role;
        m.alternative = static_cast<int>(st.int64(0));
        m.text = st.text(1);
        m.expert_id = st.optional_int64(2);
        m.routing_confidence = st.optional_real(3);
        m.token_count = st.int64(4);
        m.prompt_ms = st.real(5);
        m.generate_ms = st.real(6);
        m.tokens_per_second = st.real(7);
        m.created_at = st.text(8);
        out.push_back(std::move(m));
    }
    if (out.empty()) {
        out.push_back(*message);
        out.back().alternative = 0;
    }
    for (auto& m : out) m.alternative_count = static_cast<int>(out.size());
    return out;
}

}  // namespace meswitch
