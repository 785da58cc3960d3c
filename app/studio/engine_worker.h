// Engine work off the GUI thread. EngineWorker lives on its own QThread and runs one job at a
// time, in the order posted; EngineHost (GUI thread) owns that thread, posts jobs and relays
// the worker's queued signals. A job is any function of a JobContext: import, compress,
// inspection, the demo pack's installation and the device scan have ready-made posters, other
// pages post their own. Besides this thread the Studio runs only the serving engine's own
// (meswitch::Engine, behind the Chat page); chat answers are not jobs here.
//
//   EngineHost* engine = EngineHost::forWindow(this, catalogFile, dataHome);
//   const quint64 id = engine->postCompress("math", options);
//   connect(engine, &EngineHost::progress, this, [](quint64 job, double f, const QString& m) {…});
//   engine->cancel(id);  // through the engine's CancelToken; the job fails with cancelled=true
//
// Jobs use their own catalog connection (opened on the worker thread on first use), never
// the GUI's. Only the GUI thread touches item models: results travel as QVariant payloads.
#pragma once

#include <QHash>
#include <QObject>
#include <QString>
#include <QVariant>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>

#include "meswitch/catalog.h"
#include "meswitch/compress.h"
#include "meswitch/import.h"
#include "meswitch/inspect.h"
#include "meswitch/progress.h"
#include "meswitch/system.h"

class QThread;
class QWidget;

Q_DECLARE_METATYPE(meswitch::ModelRecord)
Q_DECLARE_METATYPE(meswitch::ModelInspection)
Q_DECLARE_METATYPE(meswitch::CompressResult)
Q_DECLARE_METATYPE(meswitch::LayerInspection)
Q_DECLARE_METATYPE(meswitch::LayerStat)
Q_DECLARE_METATYPE(meswitch::DeviceScan)

class EngineWorker;

// What a job's body sees, on the worker thread.
class JobContext {
public:
    quint64 id() const { return m_id; }
    // The worker's own catalog connection (opened on first use); throws like Catalog().
    meswitch::Catalog& catalog();
    const std::filesystem::path& dataHome() const;
    const meswitch::CancelToken& cancelToken() const { return *m_cancel; }
    // Reports progress (fraction in [0, 1]); repeated messages are throttled to one per 50 ms.
    void progress(double fraction, const QString& message);
    // The same as an engine ProgressFn.
    meswitch::ProgressFn progressFn();
    // An intermediate result, delivered to the GUI as EngineHost::event.
    void event(const QString& name, const QVariant& payload);

private:
    friend class EngineWorker;
    JobContext(EngineWorker* worker, quint64 id, const meswitch::CancelToken* cancel)
        : m_worker(worker), m_id(id), m_cancel(cancel) {}

    EngineWorker* m_worker;
    quint64 m_id;
    const meswitch::CancelToken* m_cancel;
    QString m_lastMessage;
    std::chrono::steady_clock::time_point m_lastEmit{};
};

using EngineJob = std::function<QVariant(JobContext&)>;

class EngineWorker : public QObject {
    Q_OBJECT

public:
    EngineWorker(std::filesystem::path catalogFile, std::filesystem::path dataHome);
    ~EngineWorker() override;

    // Runs on the worker thread (EngineHost invokes it queued).
    void run(quint64 id, const QString& kind, const EngineJob& job,
             const std::shared_ptr<meswitch::CancelToken>& cancel);

signals:
    void started(quint64 job, const QString& kind);
    void progress(quint64 job, double fraction, const QString& message);
    void event(quint64 job, const QString& name, const QVariant& payload);
    void finished(quint64 job, const QString& kind, const QVariant& result);
    // The engine's message in full (it names the file or tensor); cancelled: the user asked.
    void failed(quint64 job, const QString& kind, const QString& message, bool cancelled);

private:
    friend class JobContext;
    std::filesystem::path m_catalogFile;
    std::filesystem::path m_dataHome;
    std::unique_ptr<meswitch::Catalog> m_catalog;
};

class EngineHost : public QObject {
    Q_OBJECT

public:
    EngineHost(std::filesystem::path catalogFile, std::filesystem::path dataHome,
               QObject* parent = nullptr);
    // Cancels every job, then waits for the running one to stop (cancel → clear → wait).
    ~EngineHost() override;

    // The host shared by every page of `widget`'s window (created as a child of it on first
    // use with these paths; later calls return it).
    static EngineHost* forWindow(QWidget* widget, const std::filesystem::path& catalogFile,
                                 const std::filesystem::path& dataHome);

    const std::filesystem::path& dataHome() const { return m_dataHome; }
    QThread* workerThread() const { return m_thread; }

    // Queues a job; returns its id (> 0). `kind` names it in signals ("import", "compress", …).
    quint64 post(const QString& kind, EngineJob job);
    // inspect_model(folder, catalog) → ModelInspection.
    quint64 postInspectModel(const std::filesystem::path& folder);
    // import_model → ModelRecord.
    quint64 postImport(const std::filesystem::path& folder, const meswitch::ImportOptions& options);
    // compress_catalog_expert → CompressResult (run_id and artifact_id set); every finished
    // layer is also sent as event("layer", LayerStat) while the run goes on.
    quint64 postCompress(const std::string& expertName, const meswitch::CompressOptions& options);
    // inspect_layer → LayerInspection.
    quint64 postInspectLayer(const std::filesystem::path& baseFolder,
                             const std::filesystem::path& expertFolder,
                             const std::filesystem::path& msdFile, const std::string& layer,
                             const meswitch::LayerInspectOptions& options = {});

    // scan_devices() → DeviceScan (the first CUDA driver call can take a while).
    quint64 postDeviceScan();
    // read_demo_pack(packDir) + install_demo_pack into the worker's catalog, under `home` →
    // nothing; a cancelled installation rolls back what it added.
    quint64 postInstallDemoPack(const std::filesystem::path& packDir,
                                const std::filesystem::path& home);

    // Cancels a queued or running job (a queued one fails with cancelled=true without running).
    void cancel(quint64 job);
    void cancelAll();
    bool isPending(quint64 job) const { return m_pending.contains(job); }
    bool busy() const { return !m_pending.isEmpty(); }

signals:
    void started(quint64 job, const QString& kind);
    void progress(quint64 job, double fraction, const QString& message);
    void event(quint64 job, const QString& name, const QVariant& payload);
    void finished(quint64 job, const QString& kind, const QVariant& result);
    void failed(quint64 job, const QString& kind, const QString& message, bool cancelled);
    // Emitted after finished/failed once no job is pending any more.
    void idle();

private:
    void done(quint64 job);

    std::filesystem::path m_dataHome;
    QThread* m_thread = nullptr;
    EngineWorker* m_worker = nullptr;
    quint64 m_nextId = 1;
    QHash<quint64, std::shared_ptr<meswitch::CancelToken>> m_pending;
};
