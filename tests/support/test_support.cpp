#include "test_support.h"

#include <cstdlib>

namespace meswitch::test {

std::optional<std::filesystem::path> fixture(const char* sub) {
    std::filesystem::path root;
    if (const char* env = std::getenv("MESWITCH_FIXTURES"); env && *env) root = env;
    else root = std::filesystem::path(MESWITCH_SOURCE_DIR) / ".." / "shared" / "fixtures";
    auto p = root / sub;
    if (!std::filesystem::exists(p)) return std::nullopt;
    return p;
}

std::filesystem::path output_dir(const char* sub) {
    std::filesystem::path root;
    if (const char* env = std::getenv("MESWITCH_TEST_OUTPUT"); env && *env) root = env;
    else root = std::filesystem::temp_directory_path() / "meswitch-test-output";
    auto p = root / sub;
    std::filesystem::create_directories(p);
    return p;
}

}  // namespace meswitch::test
