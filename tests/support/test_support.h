// Helpers shared by the test executables: fixture lookup, temporary homes, output folder.
#pragma once

#include <QString>
#include <QTemporaryDir>

#include <filesystem>
#include <optional>

namespace meswitch::test {

// The shared fixtures folder ($MESWITCH_FIXTURES, else ../shared/fixtures from the source
// tree). Returns nullopt when `sub` is absent there.
std::optional<std::filesystem::path> fixture(const char* sub);

// Folder for artefacts a person may look at (screenshots, reports): build/test-output/<sub>.
std::filesystem::path output_dir(const char* sub);

}  // namespace meswitch::test

// Skips the current Qt test when a fixture is absent, naming the path.
#define MESWITCH_REQUIRE_FIXTURE(var, sub)                                                    \
    auto var##_opt = ::meswitch::test::fixture(sub);                                          \
    if (!var##_opt)                                                                           \
        QSKIP(qPrintable(QStringLiteral("fixture shared/fixtures/%1 not found (see "          \
                                        "shared/fixtures/README.md)").arg(QLatin1String(sub)))); \
    const std::filesystem::path var = *var##_opt
