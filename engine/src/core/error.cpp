#include "meswitch/error.h"

#include "meswitch/progress.h"

namespace meswitch {

const char* to_string(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::io: return "I/O error";
        case ErrorKind::format: return "format error";
        case ErrorKind::unsupported: return "unsupported";
        case ErrorKind::invalid_argument: return "invalid argument";
        case ErrorKind::not_found: return "not found";
        case ErrorKind::catalog: return "catalog error";
        case ErrorKind::cancelled: return "cancelled";
        case ErrorKind::out_of_memory: return "out of memory";
        case ErrorKind::device: return "device error";
        case ErrorKind::busy: return "busy";
    }
    return "error";
}

void CancelToken::throw_if_cancelled(std::string_view what) const {
    if (cancelled()) throw Error(ErrorKind::cancelled, std::string(what) + ": cancelled");
}

}  // namespace meswitch
