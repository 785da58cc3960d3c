// Fuzz target: config.json text parsed by parse_model_config_text, then what import does with
// an accepted config: the tensor list it implies, compared against a checkpoint that has none
// of them, and the per-layer sliding windows.
#include <cstdint>
#include <string_view>

#include "fuzz_support.h"
#include "meswitch/error.h"
#include "meswitch/model.h"

using namespace meswitch;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        const ModelConfig c = parse_model_config_text(text, "fuzz/config.json");
        FUZZ_CHECK(c.hidden_size > 0 && c.intermediate_size > 0 && c.num_hidden_layers > 0);
        FUZZ_CHECK(c.num_attention_heads > 0 && c.num_key_value_heads > 0 && c.head_dim > 0);
        FUZZ_CHECK(c.num_attention_heads % c.num_key_value_heads == 0);
        FUZZ_CHECK(c.vocab_size > 0 && c.max_position_embeddings > 0);
        for (std::int32_t id : c.eos_token_ids) FUZZ_CHECK(id >= 0 && id < c.vocab_size);
        if (c.bos_token_id) FUZZ_CHECK(*c.bos_token_id >= 0 && *c.bos_token_id < c.vocab_size);
        if (c.arch == ModelArch::mixtral)
            FUZZ_CHECK(c.num_experts_per_tok > 0 && c.num_experts_per_tok <= c.num_local_experts);
        for (std::int64_t layer = 0; layer < c.num_hidden_layers; ++layer)
            if (auto w = c.window_for_layer(layer)) FUZZ_CHECK(*w > 0);

        // config.cpp allows up to 65,536 layer × expert blocks (~200,000 tensors): lists past
        // 100,000 entries are skipped so that each input stays fast.
        const std::int64_t per_layer = 16 + 3 * c.num_local_experts;
        if (c.num_hidden_layers * per_layer > 100000) return 0;
        const auto expected = expected_tensors(c);
        for (const auto& t : expected)
            for (auto dim : t.shape) FUZZ_CHECK(dim > 0);
        const auto problems = check_tensor_shapes(
            c, [](const std::string&) -> std::optional<std::vector<std::int64_t>> {
                return std::nullopt;
            });
        FUZZ_CHECK(problems.size() == expected.size());
    } catch (const Error&) {
        // Refusing a malformed or unsupported config with a message is the expected outcome.
    }
    return 0;
}
