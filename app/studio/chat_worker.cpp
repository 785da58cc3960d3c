#include "chat_worker.h"

#include <QMetaObject>

#include <spdlog/spdlog.h>

#include "meswitch/error.h"

ChatWorker::ChatWorker(std::unique_ptr<ChatBackend> backend, QObject* parent)
    : QObject(parent), m_backend(std::move(backend)) {
    qRegisterMetaType<ChatRouting>();
    qRegisterMetaType<ChatAnswer>();
}

ChatWorker::~ChatWorker() = default;

quint64 ChatWorker::submit(const ChatRequest& request) {
    const quint64 id = ++m_nextId;
    QMetaObject::invokeMethod(
        this, [this, id, request] { process(id, request); }, Qt::QueuedConnection);
    return id;
}

void ChatWorker::cancel(quint64 id) {
    // Record first, then raise the flag: process() resets the flag and then reads the record,
    // so a cancel is never lost between the two.
    quint64 seen = m_cancelUpTo.load();
    while (seen < id && !m_cancelUpTo.compare_exchange_weak(seen, id)) {
    }
    m_cancel.cancel();
}

void ChatWorker::process(quint64 id, const ChatRequest& request) {
    m_cancel.reset();
    if (id <= m_cancelUpTo.load()) m_cancel.cancel();
    try {
        ChatAnswer answer = m_backend->answer(
            request, m_cancel, [&](const ChatRouting& routing) { emit routed(id, routing); },
            [&](std::string_view piece) {
                emit text(id,
                          QString::fromUtf8(piece.data(), static_cast<qsizetype>(piece.size())));
            });
        emit finished(id, answer);
    } catch (const meswitch::Error& e) {
        const bool cancelled = e.kind() == meswitch::ErrorKind::cancelled;
        if (!cancelled) spdlog::warn("chat: {}", e.what());
        emit failed(id, QString::fromUtf8(e.what()), cancelled);
    } catch (const std::exception& e) {
        spdlog::error("chat: {}", e.what());
        emit failed(id, QString::fromUtf8(e.what()), false);
    }
}
