// Importing Hugging Face model folders into the catalog: validation, content hash, the
// record. A folder is referenced in place unless `copy` asks for a copy in the data folder.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "meswitch/catalog.h"
#include "meswitch/generation_defaults.h"
#include "meswitch/progress.h"

namespace meswitch {

// What a folder holds, for the import wizard's validation report. Fatal problems are in
// `problems`; import_model refuses a folder that has any.
struct ModelInspection {
    std::filesystem::path folder;
    std::string architecture;  // "LlamaForCausalLM"
    std::string dtype;         // the tensors' dtype ("BF16"), or "mixed"
    std::int64_t parameter_count = 0;
    std::uint64_t bytes = 0;  // tensor data on disk
    std::size_t tensor_count = 0;
    std::vector<std::filesystem::path> weight_files;
    std::string tokenizer;  // "BPE, 32000 tokens" when it loads
    bool has_chat_template = false;
    GenerationDefaults generation;            // generation_config.json's sampling defaults (if any)
    std::vector<std::string> matching_bases;  // imported bases with this architecture and shapes
    std::vector<std::string> problems;        // each names the file and the problem
};

// Never throws for problems with the folder itself: they are listed in `problems`.
ModelInspection inspect_model(const std::filesystem::path& folder,
                              const Catalog* catalog = nullptr);

struct ImportOptions {
    std::string name;                   // default: the folder's name
    std::optional<std::string> base;    // catalog name of the base: imports an expert
    std::optional<std::string> domain;  // experts: link to this domain (created if new)
    std::string domain_description;     // for a new domain
    std::vector<std::string> examples;  // example prompts added to the domain
    bool copy = false;                  // copy the folder into <data folder>/models/<name>
    std::filesystem::path data_home;    // needed when copy is set
};

// Validates (inspect_model; an expert must match its base's architecture and every tensor
// shape, else Error(format) listing the first mismatches), hashes the tensor data, and adds
// the model, its domain and examples in one catalog transaction. Cancelling leaves nothing
// behind (no row, no copied folder).
ModelRecord import_model(Catalog& catalog, const std::filesystem::path& folder,
                         const ImportOptions& options, const ProgressFn& progress = {},
                         const CancelToken* cancel = nullptr);

// One prompt per non-empty line (trailing whitespace trimmed). Errors name the file.
std::vector<std::string> read_examples_file(const std::filesystem::path& file);

}  // namespace meswitch
