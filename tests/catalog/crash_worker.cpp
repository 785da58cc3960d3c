// The writer that test_crash_consistency kills with SIGKILL at random points: one import, one
// compression, or chat writes without end, on a catalog in HOME — through the same engine calls
// the Studio and the CLI make.
//
//   crash_worker import HOME FOLDER NAME BASE copy|ref
//   crash_worker compress HOME EXPERT
//   crash_worker chat HOME
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "meswitch/catalog.h"
#include "meswitch/compress.h"
#include "meswitch/import.h"
#include "meswitch/paths.h"

int main(int argc, char** argv) {
    using namespace meswitch;
    if (argc < 3) {
        std::fprintf(stderr, "usage: crash_worker import|compress|chat HOME ...\n");
        return 2;
    }
    const std::string mode = argv[1];
    const std::filesystem::path home = argv[2];
    try {
        Catalog catalog(catalog_path(home));
        if (mode == "import" && argc == 7) {
            ImportOptions o;
            o.name = argv[4];
            o.base = std::string(argv[5]);
            o.domain = "crash-domain";
            o.examples = {"an example prompt for " + o.name};
            o.copy = std::strcmp(argv[6], "copy") == 0;
            o.data_home = home;
            import_model(catalog, argv[3], o);
        } else if (mode == "compress" && argc == 4) {
            CompressOptions o;
            o.bits = 2;
            o.threads = 1;
            compress_catalog_expert(catalog, argv[3], home, o);
        } else if (mode == "chat" && argc == 3) {
            for (int n = 0;; ++n) {
                const auto chat = catalog.create_chat("chat " + std::to_string(n), "be brief");
                std::int64_t first = 0;
                for (int m = 0; m < 4; ++m) {
                    MessageRecord r;
                    r.chat_id = chat;
                    r.role = m % 2 ? "assistant" : "user";
                    r.text = std::string(200, static_cast<char>('a' + m));
                    r.token_count = 50;
                    const auto id = catalog.add_message(r);
                    if (m == 2) first = id;
                }
                catalog.truncate_chat(chat, first);  // as regenerate does
                catalog.rename_chat(chat, "renamed " + std::to_string(n));
                if (n % 3 == 0) catalog.remove_chat(chat);
            }
        } else {
            std::fprintf(stderr, "crash_worker: bad arguments for %s\n", mode.c_str());
            return 2;
        }
    } catch (const std::exception& e) {
        std::fprintf(stderr, "crash_worker %s: %s\n", mode.c_str(), e.what());
        return 1;
    }
    return 0;
}
