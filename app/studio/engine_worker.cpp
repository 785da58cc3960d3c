#include "engine_worker.h"

#include <QThread>
#include <QWidget>

#include <spdlog/spdlog.h>

#include <exception>

#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "meswitch/demo.h"
#include "meswitch/error.h"

// ------------------------------------------------------------------------------ JobContext

meswitch::Catalog& JobContext::catalog() {
    if (!m_worker->m_catalog)
        m_worker->m_catalog = std::make_unique<meswitch::Catalog>(m_worker->m_catalogFile);
    return *m_worker->m_catalog;
}

const std::filesystem::path& JobContext::dataHome() const {
    return m_worker->m_dataHome;
}

void JobContext::progress(double fraction, const QString& message) {
    const auto now = std::chrono::steady_clock::now();
    if (message == m_lastMessage && fraction < 1.0 &&
        now - m_lastEmit < std::chrono::milliseconds(50))
        return;
    m_lastMessage = message;
    m_lastEmit = now;
    emit m_worker->progress(m_id, fraction, message);
}

meswitch::ProgressFn JobContext::progressFn() {
    return [this](double fraction, std::string_view message) {
        progress(fraction, QString::fromUtf8(message.data(), static_cast<int>(message.size())));
    };
}

void JobContext::event(const QString& name, const QVariant& payload) {
    emit m_worker->event(m_id, name, payload);
}

// ---------------------------------------------------------------------------- EngineWorker

EngineWorker::EngineWorker(std::filesystem::path catalogFile, std::filesystem::path dataHome)
    : m_catalogFile(std::move(catalogFile)), m_dataHome(std::move(dataHome)) {}

EngineWorker::~EngineWorker() = default;

void EngineWorker::run(quint64 id, const QString& kind, const EngineJob& job,
                       const std::shared_ptr<meswitch::CancelToken>& cancel) {
    if (cancel->cancelled()) {
        emit failed(id, kind, tr("Cancelled before it started."), true);
        return;
    }
    emit started(id, kind);
    JobContext context(this, id, cancel.get());
    try {
        const QVariant result = job(context);
        emit finished(id, kind, result);
    } catch (const meswitch::Error& e) {
        const bool cancelled = e.kind() == meswitch::ErrorKind::cancelled;
        if (cancelled)
            spdlog::info("engine: {} job {} cancelled", kind.toStdString(), id);
        else
            spdlog::error("engine: {} job {} failed: {}", kind.toStdString(), id, e.what());
        emit failed(id, kind, QString::fromUtf8(e.what()), cancelled);
    } catch (const std::exception& e) {
        spdlog::error("engine: {} job {} failed: {}", kind.toStdString(), id, e.what());
        emit failed(id, kind, QString::fromUtf8(e.what()), false);
    }
}

// ------------------------------------------------------------------------------ EngineHost

EngineHost::EngineHost(std::filesystem::path catalogFile, std::filesystem::path dataHome,
                       QObject* parent)
    : QObject(parent), m_dataHome(dataHome) {
    qRegisterMetaType<meswitch::ModelRecord>();
    qRegisterMetaType<meswitch::ModelInspection>();
    qRegisterMetaType<meswitch::CompressResult>();
    qRegisterMetaType<meswitch::LayerInspection>();
    qRegisterMetaType<meswitch::DeviceScan>();
    setObjectName(QStringLiteral("engineHost"));
    m_thread = new QThread(this);
    m_thread->setObjectName(QStringLiteral("engine"));
    m_worker = new EngineWorker(std::move(catalogFile), std::move(dataHome));
    m_worker->moveToThread(m_thread);
    // The engine thread (and the pools it starts, which inherit it) yields to the GUI thread
    // when the cores are busy: nice +5 on Linux, where niceness is per thread.
    connect(m_thread, &QThread::started, m_worker, [] {
#ifdef __linux__
        const auto tid = static_cast<id_t>(::syscall(SYS_gettid));
        if (::setpriority(PRIO_PROCESS, tid, 5) != 0)
            spdlog::debug("engine: could not lower the engine thread's priority");
#endif
    });
    // Emitted on the worker thread, received here: queued.
    connect(m_worker, &EngineWorker::started, this, &EngineHost::started);
    connect(m_worker, &EngineWorker::progress, this,
            [this](quint64 job, double f, const QString& m) {
                if (m_pending.contains(job)) emit progress(job, f, m);
            });
    connect(m_worker, &EngineWorker::event, this, &EngineHost::event);
    connect(m_worker, &EngineWorker::finished, this,
            [this](quint64 job, const QString& kind, const QVariant& result) {
                m_pending.remove(job);
                emit finished(job, kind, result);
                done(job);
            });
    connect(m_worker, &EngineWorker::failed, this,
            [this](quint64 job, const QString& kind, const QString& message, bool cancelled) {
                m_pending.remove(job);
                emit failed(job, kind, message, cancelled);
                done(job);
            });
    m_thread->start();
}

EngineHost::~EngineHost() {
    cancelAll();
    m_thread->quit();
    m_thread->wait();
    delete m_worker;  // its thread has stopped: no event can reach it any more
}

EngineHost* EngineHost::forWindow(QWidget* widget, const std::filesystem::path& catalogFile,
                                  const std::filesystem::path& dataHome) {
    QWidget* window = widget->window();
    if (auto* host = window->findChild<EngineHost*>(QStringLiteral("engineHost"),
                                                    Qt::FindDirectChildrenOnly))
        return host;
    return new EngineHost(catalogFile, dataHome, window);
}

void EngineHost::done(quint64) {
    if (m_pending.isEmpty()) emit idle();
}

quint64 EngineHost::post(const QString& kind, EngineJob job) {
    const quint64 id = m_nextId++;
    auto cancel = std::make_shared<meswitch::CancelToken>();
    m_pending.insert(id, cancel);
    EngineWorker* worker = m_worker;
    QMetaObject::invokeMethod(
        m_worker,
        [worker, id, kind, job = std::move(job), cancel] { worker->run(id, kind, job, cancel); },
        Qt::QueuedConnection);
    return id;
}

void EngineHost::cancel(quint64 job) {
    if (auto it = m_pending.find(job); it != m_pending.end()) it.value()->cancel();
}

void EngineHost::cancelAll() {
    for (const auto& token : std::as_const(m_pending)) token->cancel();
}

quint64 EngineHost::postInspectModel(const std::filesystem::path& folder) {
    return post(QStringLiteral("inspect-model"), [folder](JobContext& ctx) {
        return QVariant::fromValue(meswitch::inspect_model(folder, &ctx.catalog()));
    });
}

quint64 EngineHost::postImport(const std::filesystem::path& folder,
                               const meswitch::ImportOptions& options) {
    return post(QStringLiteral("import"), [folder, options](JobContext& ctx) {
        meswitch::ImportOptions o = options;
        if (o.data_home.empty()) o.data_home = ctx.dataHome();
        return QVariant::fromValue(
            meswitch::import_model(ctx.catalog(), folder, o, ctx.progressFn(), &ctx.cancelToken()));
    });
}

quint64 EngineHost::postCompress(const std::string& expertName,
                                 const meswitch::CompressOptions& options) {
    return post(QStringLiteral("compress"), [expertName, options](JobContext& ctx) {
        meswitch::CompressOptions o = options;
        // Each finished layer goes to the GUI as a "layer" event (a LayerStat) for live charts.
        o.on_layer = [&ctx](const meswitch::CompressLayerReport& l) {
            ctx.event(QStringLiteral("layer"), QVariant::fromValue(meswitch::to_layer_stat(l)));
        };
        return QVariant::fromValue(meswitch::compress_catalog_expert(
            ctx.catalog(), expertName, ctx.dataHome(), o, ctx.progressFn(), &ctx.cancelToken()));
    });
}

quint64 EngineHost::postInspectLayer(const std::filesystem::path& baseFolder,
                                     const std::filesystem::path& expertFolder,
                                     const std::filesystem::path& msdFile, const std::string& layer,
                                     const meswitch::LayerInspectOptions& options) {
    return post(QStringLiteral("inspect-layer"),
                [baseFolder, expertFolder, msdFile, layer, options](JobContext& ctx) {
                    return QVariant::fromValue(meswitch::inspect_layer(
                        baseFolder, expertFolder, msdFile, layer, options, &ctx.cancelToken()));
                });
}

quint64 EngineHost::postDeviceScan() {
    return post(QStringLiteral("device-scan"), [](JobContext& ctx) {
        ctx.progress(0.0, tr("Looking for compute devices…"));
        meswitch::DeviceScan scan = meswitch::scan_devices();  // not cancellable; never long
        ctx.progress(1.0, tr("%n GPU(s) found.", "", static_cast<int>(scan.devices.size())));
        return QVariant::fromValue(std::move(scan));
    });
}

quint64 EngineHost::postInstallDemoPack(const std::filesystem::path& packDir,
                                        const std::filesystem::path& home) {
    return post(QStringLiteral("install"), [packDir, home](JobContext& ctx) {
        if (packDir.empty())
            throw meswitch::Error(meswitch::ErrorKind::not_found,
                                  "no demo pack found (set MESWITCH_DEMO_DIR to the folder "
                                  "holding pack.json)");
        const meswitch::DemoPack pack = meswitch::read_demo_pack(packDir);
        meswitch::install_demo_pack(ctx.catalog(), pack, home, {}, ctx.progressFn(),
                                    &ctx.cancelToken());
        return QVariant();
    });
}
