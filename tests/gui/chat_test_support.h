// Helpers of the Chat page's GUI tests: chat backends that pace, hold or watch the serving
// engine's answers, and the watchdog that measures the GUI thread's longest event-loop gap.
#pragma once

#include <QElapsedTimer>
#include <QTimer>

#include <atomic>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <thread>

#include "chat_backend.h"
#include "chat_engine_backend.h"
#include "chat_message_widget.h"
#include "chat_page.h"

namespace chat_test {

// Real generation by the serving engine (EngineChatBackend) whose tokens come a little slower
// than the tiny model makes them (as a large model's would), so that streaming and stopping are
// observable. The pause is taken on the engine thread, in the text callback.
class PacedBackend : public ChatBackend {
public:
    explicit PacedBackend(const std::filesystem::path& catalog) : m_inner(catalog, 1) {}
    ChatRequestId submit(const ChatRequest& request, ChatCallbacks callbacks) override {
        auto onText = std::move(callbacks.onText);
        callbacks.onText = [onText](std::string_view piece) {
            std::this_thread::sleep_for(std::chrono::milliseconds(15));
            if (onText) onText(piece);
        };
        return m_inner.submit(request, std::move(callbacks));
    }
    void cancel(ChatRequestId id) override { m_inner.cancel(id); }

private:
    EngineChatBackend m_inner;
};

// The real engine, watched: how long each call from the page took, whether the engine produced
// text while a call was still running (the call waited for the answer), and whether a callback
// ever ran on the page's thread. The first piece of text is held back on the engine thread for
// `firstTokenDelay` (as a large model's prefill would take), so that a call that waited for the
// answer could not go unnoticed; the others by `pieceDelay` (a large model's decoding).
// Holds the first request it gets (never answering it) until it is cancelled, which then fails
// it as "cancelled" — as the engine does for a request stopped before its first token; later
// requests go to the engine.
class HoldFirstBackend : public ChatBackend {
public:
    explicit HoldFirstBackend(const std::filesystem::path& catalog) : m_inner(catalog, 1) {}
    ChatRequestId submit(const ChatRequest& request, ChatCallbacks callbacks) override {
        if (!m_held) {
            m_held = std::move(callbacks);
            m_heldId = 1u << 30;
            return m_heldId;
        }
        return m_inner.submit(request, std::move(callbacks));
    }
    void cancel(ChatRequestId id) override {
        if (id == m_heldId && m_held && m_held->onFailed) {
            auto failed = std::move(m_held->onFailed);
            m_held->onFailed = nullptr;
            failed(meswitch::ErrorKind::cancelled, "stopped before the first token");
            return;
        }
        m_inner.cancel(id);
    }

private:
    EngineChatBackend m_inner;
    std::optional<ChatCallbacks> m_held;
    ChatRequestId m_heldId = 0;
};

class WatchedBackend : public ChatBackend {
public:
    struct Record {
        std::atomic<int> submits{0}, cancels{0}, pieces{0};
        std::atomic<qint64> longestCallNs{0};
        std::atomic<bool> inCall{false};
        std::atomic<bool> textDuringCall{false};
        std::atomic<bool> callbackOnCallingThread{false};
        std::atomic<Qt::HANDLE> callingThread{nullptr};
    };

    WatchedBackend(const std::filesystem::path& catalog, std::shared_ptr<Record> record,
                   std::chrono::milliseconds firstTokenDelay, std::chrono::milliseconds pieceDelay)
        : m_inner(catalog, 1),
          m_record(std::move(record)),
          m_delay(firstTokenDelay),
          m_pieceDelay(pieceDelay) {}

    // Runs a call from the page, timed.
    template <typename F>
    auto timed(F&& f) {
        m_record->callingThread = QThread::currentThreadId();
        QElapsedTimer clock;
        clock.start();
        m_record->inCall = true;
        auto result = f();
        m_record->inCall = false;
        const qint64 ns = clock.nsecsElapsed();
        if (ns > m_record->longestCallNs) m_record->longestCallNs = ns;
        return result;
    }

    ChatRequestId submit(const ChatRequest& request, ChatCallbacks callbacks) override {
        const auto record = m_record;
        const auto seen = [record] {
            if (QThread::currentThreadId() == record->callingThread.load())
                record->callbackOnCallingThread = true;
        };
        auto first = std::make_shared<bool>(true);  // engine thread only
        callbacks.onText = [seen, record, onText = std::move(callbacks.onText), first,
                            delay = m_delay, pieceDelay = m_pieceDelay](std::string_view piece) {
            seen();
            std::this_thread::sleep_for(*first ? delay : pieceDelay);
            *first = false;
            if (record->inCall) record->textDuringCall = true;
            ++record->pieces;
            if (onText) onText(piece);
        };
        callbacks.onRouted = [seen,
                              onRouted = std::move(callbacks.onRouted)](const ChatRouting& r) {
            seen();
            if (onRouted) onRouted(r);
        };
        callbacks.onFinished = [seen,
                                onFinished = std::move(callbacks.onFinished)](const ChatAnswer& a) {
            seen();
            if (onFinished) onFinished(a);
        };
        callbacks.onFailed = [seen, onFailed = std::move(callbacks.onFailed)](
                                 meswitch::ErrorKind kind, const std::string& m) {
            seen();
            if (onFailed) onFailed(kind, m);
        };
        ++record->submits;
        return timed([&] { return m_inner.submit(request, std::move(callbacks)); });
    }
    void cancel(ChatRequestId id) override {
        ++m_record->cancels;
        timed([&] {
            m_inner.cancel(id);
            return 0;
        });
    }

private:
    EngineChatBackend m_inner;
    std::shared_ptr<Record> m_record;
    std::chrono::milliseconds m_delay, m_pieceDelay;
};

// Nanoseconds this thread has spent runnable but waiting for a CPU (Linux schedstat); -1 where
// the kernel does not say.
inline qint64 runQueueWaitNs() {
    std::ifstream in("/proc/thread-self/schedstat");
    long long onCpu = 0, waiting = -1;
    if (!(in >> onCpu >> waiting)) return -1;
    return waiting;
}

// CPU time this thread has used.
inline qint64 threadCpuNs() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return qint64(t.tv_sec) * 1000000000 + t.tv_nsec;
}

// Longest gap between ticks of a 10 ms timer on the GUI thread: the time the thread was running
// or blocked between two ticks. Time it spent ready but waiting for a CPU (other processes on a
// loaded machine) is not the GUI thread stalling and is left out where the kernel reports it;
// blocking on a lock, a file or engine work on the GUI thread all still count.
class Watchdog {
public:
    Watchdog() {
        QObject::connect(&m_timer, &QTimer::timeout, [this] { tick(); });
        m_timer.setInterval(10);
    }
    void start() {
        m_ticks = 0;
        m_max = 0;
        m_maxWall = 0;
        m_clock.start();
        m_wait = runQueueWaitNs();
        m_timer.start();
    }
    // The longest gap in ms, without the waiting for a CPU.
    qint64 stop() {
        tick();
        m_timer.stop();
        return m_max;
    }
    qint64 longestWallGap() const { return m_maxWall; }
    int ticks() const { return m_ticks; }

private:
    void tick() {
        ++m_ticks;
        const qint64 wall = m_clock.nsecsElapsed();
        m_clock.restart();
        const qint64 wait = runQueueWaitNs();
        const qint64 starved =
            (wait >= 0 && m_wait >= 0) ? std::clamp(wait - m_wait, qint64(0), wall) : 0;
        m_wait = wait;
        m_max = std::max(m_max, (wall - starved) / 1000000);
        m_maxWall = std::max(m_maxWall, wall / 1000000);
    }

    QTimer m_timer;
    QElapsedTimer m_clock;
    qint64 m_wait = -1;
    qint64 m_max = 0, m_maxWall = 0;
    int m_ticks = 0;
};

inline ChatMessageWidget* lastMessage(ChatPage* page) {
    const auto views = page->messageWidgets();
    return views.empty() ? nullptr : views.back();
}

}  // namespace chat_test
