// The Chat page's worker: a QObject that lives on its own QThread and runs one ChatBackend
// request at a time. It talks to the page only through queued signals (routed, text,
// finished, failed) and is cancelled through an atomic flag; it never touches item models.
//
//   auto* worker = new ChatWorker(std::make_unique<EngineChatBackend>(file, threads));
//   worker->moveToThread(thread);
//   quint64 id = worker->submit(request);   // from the GUI thread
//   worker->cancel(id);                     // Esc
#pragma once

#include <QMetaType>
#include <QObject>
#include <QString>

#include <atomic>
#include <memory>

#include "chat_backend.h"
#include "meswitch/progress.h"

Q_DECLARE_METATYPE(ChatRouting)
Q_DECLARE_METATYPE(ChatAnswer)

class ChatWorker : public QObject {
    Q_OBJECT

public:
    explicit ChatWorker(std::unique_ptr<ChatBackend> backend, QObject* parent = nullptr);
    ~ChatWorker() override;

    // Thread-safe. Queues the request on the worker's thread; returns its id.
    quint64 submit(const ChatRequest& request);
    // Thread-safe. Cancels request `id` (and any earlier one), whether queued or running.
    void cancel(quint64 id);

signals:
    void routed(quint64 id, const ChatRouting& routing);
    void text(quint64 id, const QString& piece);
    void finished(quint64 id, const ChatAnswer& answer);  // also after a stop (stop_reason)
    void failed(quint64 id, const QString& message, bool cancelled);

private:
    void process(quint64 id, const ChatRequest& request);

    std::unique_ptr<ChatBackend> m_backend;
    std::atomic<quint64> m_nextId{0};
    std::atomic<quint64> m_cancelUpTo{0};
    meswitch::CancelToken m_cancel;
};
