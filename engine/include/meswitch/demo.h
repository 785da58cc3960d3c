// The demo expert pack: a small base model and three experts trained by
// resources/demo/train_demo.py (arithmetic, Python functions, facts), installed into the
// catalog so that a new user can route and chat without models of their own.
//
//   auto dir = find_demo_pack();                  // $MESWITCH_DEMO_DIR, share/, source tree
//   DemoPack pack = read_demo_pack(*dir);
//   DemoInstallResult r = install_demo_pack(catalog, pack, home, {}, progress, &cancel);
//
// Installing imports the base and the experts (copied into <home>/models), creates their
// domains with the pack's example prompts, compresses every expert with the pack's settings
// (ME-Switch at 4 bits: pack.json's "compression") and trains the feature router on the
// examples, so that the
// first chat is routed at once. Models already in the catalog under the pack's names are
// reused when their content matches, and experts already compressed are not compressed again:
// running it twice changes nothing.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "meswitch/catalog.h"
#include "meswitch/compress.h"
#include "meswitch/progress.h"

namespace meswitch {

struct DemoExpert {
    std::string name;  // catalog name, e.g. "demo-arithmetic"
    std::filesystem::path folder;
    std::string domain;  // e.g. "arithmetic"
    std::string description;
    std::vector<std::string> examples;  // example prompts of the domain (router training)
};

struct DemoPack {
    std::filesystem::path dir;  // the folder holding pack.json
    std::string title;
    std::string license;
    std::string base_name;  // "demo-base"
    std::filesystem::path base_folder;
    std::vector<DemoExpert> experts;
    // How install compresses the experts: pack.json's optional "compression" object
    // ({"bits": 1..4, "salient": "1%"}); absent fields keep CompressOptions' defaults.
    // The demo models are tiny (hidden 96), where 2-bit deltas cost too much accuracy.
    int compression_bits = 0;         // 0: the default
    std::string compression_salient;  // empty: the default
};

// Where the pack is, first match: $MESWITCH_DEMO_DIR (must hold pack.json, else
// Error(not_found) naming it), <executable dir>/../share/meswitch-studio/demo, the source
// tree's resources/demo/pack (compiled in). Empty when none holds a pack.json.
std::optional<std::filesystem::path> find_demo_pack();

// Reads and checks pack.json and the files it names. Errors (Error(format) or
// Error(not_found)) name the file and the problem.
DemoPack read_demo_pack(const std::filesystem::path& dir);

// True when the catalog holds no model.
bool catalog_is_empty(const Catalog& catalog);

struct DemoInstallOptions {
    bool compress = true;  // compress every expert (the pack's compression settings)
    bool copy = true;      // copy the model folders into <home>/models (else referenced in place)
    int threads = 0;       // <= 0: all cores
};

struct DemoInstallResult {
    ModelRecord base;
    std::vector<ModelRecord> experts;        // in pack order
    std::vector<std::string> reused;         // names of models that were already installed
    std::vector<CompressResult> compressed;  // the experts compressed by this call
    std::string router;                      // "feature", ... (Router::open's info)
    std::int64_t router_version = 0;
    double seconds = 0;
};

// Installs the pack (see the top of this file). Progress runs 0..1 over import (10 %),
// compression (80 %) and router training (10 %). Cancelling (Error(cancelled)) removes what
// this call added — catalog rows, copied folders, delta files — and leaves what was there
// before. A model of the pack's name with other content is refused (Error(invalid_argument)).
DemoInstallResult install_demo_pack(Catalog& catalog, const DemoPack& pack,
                                    const std::filesystem::path& data_home,
                                    const DemoInstallOptions& options = {},
                                    const ProgressFn& progress = {},
                                    const CancelToken* cancel = nullptr);

}  // namespace meswitch
