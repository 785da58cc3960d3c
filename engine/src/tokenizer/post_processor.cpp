#include "tokenizer/post_processor.h"

#include <map>
#include <sstream>

namespace meswitch::tok {

namespace {

class TemplateProcessor final : public PostProcessor {
public:
    // Each item: a sequence of special-token ids, or std::nullopt for the "$A" sequence.
    explicit TemplateProcessor(std::vector<std::optional<std::vector<std::int32_t>>> items)
        : items_(std::move(items)) {}
    void add_special_tokens(std::vector<std::int32_t>& ids) const override {
        std::vector<std::int32_t> out;
        out.reserve(ids.size() + 4);
        for (const auto& item : items_) {
            if (item)
                out.insert(out.end(), item->begin(), item->end());
            else
                out.insert(out.end(), ids.begin(), ids.end());
        }
        ids = std::move(out);
    }
    bool adds_tokens() const override {
        for (const auto& item : items_)
            if (item && !item->empty()) return true;
        return false;
    }

private:
    std::vector<std::optional<std::vector<std::int32_t>>> items_;
};

class NoOpProcessor final : public PostProcessor {
public:
    void add_special_tokens(std::vector<std::int32_t>&) const override {}
    bool adds_tokens() const override { return false; }
};

class SequenceProcessor final : public PostProcessor {
public:
    explicit SequenceProcessor(std::vector<std::unique_ptr<PostProcessor>> parts)
        : parts_(std::move(parts)) {}
    void add_special_tokens(std::vector<std::int32_t>& ids) const override {
        for (const auto& p : parts_) p->add_special_tokens(ids);
    }
    bool adds_tokens() const override {
        for (const auto& p : parts_)
            if (p->adds_tokens()) return true;
        return false;
    }

private:
    std::vector<std::unique_ptr<PostProcessor>> parts_;
};

std::vector<std::int32_t> special_ids(const Json& special_tokens, const std::string& name,
                                      const std::string& where) {
    const Json* entry = member(special_tokens, name);
    if (!entry)
        fail(ErrorKind::format, where,
             "template uses '" + name + "', which 'special_tokens' does not define");
    const Json* ids = member(*entry, "ids");
    if (!ids || !ids->is_array())
        fail(ErrorKind::format, where, "special_tokens['" + name + "'].ids must be a list");
    std::vector<std::int32_t> out;
    for (const Json& id : *ids) {
        if (!id.is_number_integer() || id.get<std::int64_t>() < 0 ||
            id.get<std::int64_t>() > INT32_MAX)
            fail(ErrorKind::format, where, "special_tokens['" + name + "'].ids holds a bad id");
        out.push_back(static_cast<std::int32_t>(id.get<std::int64_t>()));
    }
    return out;
}

std::unique_ptr<PostProcessor> make_template(const Json& config, const std::string& where) {
    const Json* single = member(config, "single");
    if (!single) fail(ErrorKind::format, where, "'single' is missing");
    const Json empty = Json::object();
    const Json* specials = member(config, "special_tokens");
    if (!specials) specials = &empty;
    std::vector<std::optional<std::vector<std::int32_t>>> items;
    auto add_sequence = [&](const std::string& id) {
        if (id != "A")
            fail(ErrorKind::format, where,
                 "the single template may only use sequence A, not '" + id + "'");
        items.emplace_back(std::nullopt);
    };
    if (single->is_string()) {  // "<s> $A" form
        std::istringstream words(single->get<std::string>());
        for (std::string w; words >> w;) {
            std::string name = w;  // "$A:0" / "<s>:1" carry a type id after the colon
            if (const auto colon = w.rfind(':'); colon != std::string::npos && colon > 0)
                name = w.substr(0, colon);
            if (name.starts_with('$'))
                add_sequence(name.size() == 1 ? "A" : name.substr(1));
            else
                items.emplace_back(special_ids(*specials, name, where));
        }
    } else if (single->is_array()) {
        for (const Json& item : *single) {
            if (const Json* s = member(item, "SpecialToken"))
                items.emplace_back(special_ids(*specials, require_string(*s, "id", where), where));
            else if (const Json* q = member(item, "Sequence"))
                add_sequence(get_string(*q, "id", where, "A"));
            else
                fail(ErrorKind::format, where, "template items must be SpecialToken or Sequence");
        }
    } else {
        fail(ErrorKind::format, where, "'single' must be a list or a string");
    }
    return std::make_unique<TemplateProcessor>(std::move(items));
}

// BertProcessing / RobertaProcessing: {"cls": ["[CLS]", 101], "sep": ["[SEP]", 102]}.
std::unique_ptr<PostProcessor> make_cls_sep(const Json& config, const std::string& where) {
    auto pair_id = [&](std::string_view key) {
        const Json* p = member(config, key);
        if (!p || !p->is_array() || p->size() != 2 || !(*p)[1].is_number_integer() ||
            (*p)[1].get<std::int64_t>() < 0 || (*p)[1].get<std::int64_t>() > INT32_MAX)
            fail(ErrorKind::format, where, "'" + std::string(key) + "' must be [token, id]");
        return static_cast<std::int32_t>((*p)[1].get<std::int64_t>());
    };
    std::vector<std::optional<std::vector<std::int32_t>>> items;
    items.emplace_back(std::vector<std::int32_t>{pair_id("cls")});
    items.emplace_back(std::nullopt);
    items.emplace_back(std::vector<std::int32_t>{pair_id("sep")});
    return std::make_unique<TemplateProcessor>(std::move(items));
}

}  // namespace

std::unique_ptr<PostProcessor> make_post_processor(const Json& config, const std::string& where) {
    if (config.is_null()) return nullptr;
    const std::string type = component_type(config, where);
    const std::string here = where + " (" + type + ")";
    if (type == "TemplateProcessing") return make_template(config, here);
    if (type == "BertProcessing" || type == "RobertaProcessing") return make_cls_sep(config, here);
    if (type == "ByteLevel") return std::make_unique<NoOpProcessor>();
    if (type == "Sequence") {
        const Json* list = member(config, "processors");
        if (!list || !list->is_array())
            fail(ErrorKind::format, here, "'processors' must be a list");
        std::vector<std::unique_ptr<PostProcessor>> parts;
        for (std::size_t i = 0; i < list->size(); ++i) {
            auto p =
                make_post_processor((*list)[i], where + ".processors[" + std::to_string(i) + "]");
            if (p) parts.push_back(std::move(p));
        }
        return std::make_unique<SequenceProcessor>(std::move(parts));
    }
    fail(
        ErrorKind::unsupported, where,
        "post-processor type '" + type +
            "' is not supported (supported: TemplateProcessing, BertProcessing, RobertaProcessing, "
            "ByteLevel, Sequence)");
}

}  // namespace meswitch::tok
