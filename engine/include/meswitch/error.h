// Errors the engine reports. Every message names the thing it concerns (a file, a
// tensor, a table) and the problem, so that a user can act on it.
#pragma once

#include <stdexcept>
#include <string>

namespace meswitch {

enum class ErrorKind {
    io,              // a file could not be read or written
    format,          // a file is malformed (truncated, hostile, wrong JSON, wrong shape)
    unsupported,     // valid input that this version cannot handle
    invalid_argument,
    not_found,
    catalog,         // the SQLite catalog failed or refused a change
    cancelled,       // the user cancelled the operation
    out_of_memory,
    device,          // CUDA / device errors
    busy,            // refused for now (a full queue): try again later
};

const char* to_string(ErrorKind kind);

class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, const std::string& message)
        : std::runtime_error(message), kind_(kind) {}
    ErrorKind kind() const noexcept { return kind_; }

private:
    ErrorKind kind_;
};

}  // namespace meswitch
