#include "tokenizer/tokenizer_files.h"

#include <fstream>
#include <sstream>

#include "io/strict_json.h"

namespace meswitch::tok {

namespace {

// bos_token etc. are a string, or an AddedToken object {"content": ..., ...}, or null.
std::string token_text(const Json& config, std::string_view key, const std::string& where) {
    const Json* v = member(config, key);
    if (!v) return "";
    if (v->is_string()) return v->get<std::string>();
    if (v->is_object()) return get_string(*v, "content", where + ": " + std::string(key), "");
    fail(ErrorKind::format, where,
         "'" + std::string(key) + "' must be a string or an object with 'content'");
}

std::string chat_template_of(const Json& config, const std::string& where) {
    const Json* t = member(config, "chat_template");
    if (!t) return "";
    if (t->is_string()) return t->get<std::string>();
    if (t->is_array()) {
        std::string first;
        for (const Json& entry : *t) {
            const std::string name = get_string(entry, "name", where + ": chat_template", "");
            const std::string text = get_string(entry, "template", where + ": chat_template", "");
            if (name == "default") return text;
            if (first.empty()) first = text;
        }
        return first;  // no template named "default": the first one
    }
    fail(ErrorKind::format, where,
         "'chat_template' must be a string or a list of {name, template}");
}

}  // namespace

std::string read_text_file(const std::filesystem::path& file) {
    std::error_code ec;
    if (std::filesystem::is_directory(file, ec))
        throw Error(ErrorKind::io, file.string() + ": is a folder, not a file");
    std::ifstream in(file, std::ios::binary);
    if (!in) throw Error(ErrorKind::io, file.string() + ": cannot open (missing or unreadable)");
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) throw Error(ErrorKind::io, file.string() + ": read failed");
    return std::move(ss).str();
}

Json parse_json_file(const std::filesystem::path& file) {
    // tokenizer.json nests 4-6 levels (a Sequence of normalizers of Replace patterns).
    return io::read_strict_json_file(file, /*max_depth=*/64);
}

TokenizerConfig load_tokenizer_config(const std::filesystem::path& file) {
    const Json config = parse_json_file(file);
    const std::string where = file.string();
    require_object(config, where);
    try {
        TokenizerConfig c;
        c.bos_token = token_text(config, "bos_token", where);
        c.eos_token = token_text(config, "eos_token", where);
        c.unk_token = token_text(config, "unk_token", where);
        c.add_bos_token = get_bool(config, "add_bos_token", where, false);
        c.add_eos_token = get_bool(config, "add_eos_token", where, false);
        c.chat_template = chat_template_of(config, where);
        return c;
    } catch (const Json::exception& e) {
        throw Error(ErrorKind::format,
                    where + ": unexpected JSON value: " + io::plain_json_error(e));
    }
}

std::string load_chat_template_file(const std::filesystem::path& folder,
                                    std::filesystem::path* origin) {
    std::error_code ec;
    if (const auto jinja = folder / "chat_template.jinja"; std::filesystem::exists(jinja, ec)) {
        if (origin) *origin = jinja;
        return read_text_file(jinja);
    }
    if (const auto json = folder / "chat_template.json"; std::filesystem::exists(json, ec)) {
        if (origin) *origin = json;
        const Json j = parse_json_file(json);
        return chat_template_of(j, json.string());
    }
    return "";
}

}  // namespace meswitch::tok
