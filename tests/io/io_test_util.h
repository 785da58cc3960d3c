// Helpers shared by the io tests: raw file writing and error expectations.
#pragma once

#include <QtTest>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>

#include "meswitch/error.h"

namespace meswitch::test {

inline void write_bytes(const std::filesystem::path& file, std::string_view bytes) {
    // Unlink first: on ext4, truncating and rewriting a file forces a synchronous flush
    // (auto_da_alloc), which makes loops over thousands of rewrites crawl.
    std::error_code ec;
    std::filesystem::remove(file, ec);
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), std::streamsize(bytes.size()));
    QVERIFY2(out.good(), qPrintable(QString::fromStdString("cannot write " + file.string())));
}

inline std::string read_bytes(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline std::string le64(std::uint64_t n) {
    std::string s(8, '\0');
    for (int i = 0; i < 8; ++i) s[std::size_t(i)] = char((n >> (8 * i)) & 0xFF);
    return s;
}

// A safetensors file from a literal header (no padding added) and data area.
inline std::string safetensors_bytes(std::string_view header, std::string_view data = {}) {
    return le64(header.size()) + std::string(header) + std::string(data);
}

// Runs `action`, which must throw meswitch::Error of `kind` whose message contains every
// string in `needles`. Returns the message (empty on failure, after recording it).
inline std::string expect_error(const std::function<void()>& action, ErrorKind kind,
                                std::initializer_list<std::string_view> needles, const char* file,
                                int line) {
    try {
        action();
    } catch (const Error& e) {
        const std::string message = e.what();
        if (e.kind() != kind) {
            QTest::qFail(qPrintable(QString("expected %1 error, got %2: %3")
                                        .arg(to_string(kind), to_string(e.kind()),
                                             QString::fromStdString(message))),
                         file, line);
            return {};
        }
        for (std::string_view needle : needles) {
            if (message.find(needle) == std::string::npos) {
                QTest::qFail(
                    qPrintable(QString("message lacks \"%1\": %2")
                                   .arg(QString::fromUtf8(needle.data(), int(needle.size())),
                                        QString::fromStdString(message))),
                    file, line);
                return {};
            }
        }
        return message;
    } catch (const std::exception& e) {
        QTest::qFail(
            qPrintable(QString("expected meswitch::Error, got std::exception: %1").arg(e.what())),
            file, line);
        return {};
    }
    QTest::qFail(qPrintable(QString("expected %1 error, nothing was thrown").arg(to_string(kind))),
                 file, line);
    return {};
}

}  // namespace meswitch::test

// EXPECT_ERROR(statement, ErrorKind::format, {"model.safetensors", "overlap"});
#define EXPECT_ERROR(statement, kind, ...)                                                  \
    do {                                                                                    \
        if (::meswitch::test::expect_error([&] { statement; }, kind, __VA_ARGS__, __FILE__, \
                                           __LINE__)                                        \
                .empty())                                                                   \
            return;                                                                         \
    } while (0)
