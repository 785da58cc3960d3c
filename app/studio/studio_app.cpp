#include "studio_app.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QIcon>
#include <QSocketNotifier>

#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>

#include <spdlog/spdlog.h>

#include "catalog_opener.h"
#include "language_manager.h"
#include "main_window.h"
#include "message_boxes.h"
#include "meswitch/log.h"
#include "meswitch/paths.h"
#include "meswitch/system.h"
#include "studio_settings.h"

static void initStudioQrc() {
    Q_INIT_RESOURCE(meswitch);
}

namespace Studio {

namespace {

const char* const kLevels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};

bool isLogLevel(const QString& level) {
    for (const char* l : kLevels)
        if (level == QLatin1String(l)) return true;
    return false;
}

int g_signalFds[2] = {-1, -1};
bool g_terminationRequested = false;  // set on the GUI thread, by the notifier

void onSignal(int) {
    const char byte = 1;
    // Async-signal-safe: only write(2). Nothing to do if the pipe is full.
    [[maybe_unused]] const auto written = ::write(g_signalFds[0], &byte, 1);
}

// Tr context for the strings of this file.
struct StudioApp {
    Q_DECLARE_TR_FUNCTIONS(StudioApp)
};

}  // namespace

void initApplication() {
    initStudioQrc();
    QCoreApplication::setOrganizationName(QStringLiteral("ME-Switch"));
    QCoreApplication::setApplicationName(QStringLiteral("ME-Switch Studio"));
    QCoreApplication::setApplicationVersion(QString::fromStdString(meswitch::build_info().version));
    QGuiApplication::setApplicationDisplayName(QStringLiteral("ME-Switch Studio"));
    QGuiApplication::setDesktopFileName(QStringLiteral("meswitch-studio"));
    QIcon icon;
    for (int size : {16, 32, 48, 64, 128, 256})
        icon.addFile(QStringLiteral(":/icons/meswitch-studio-%1.png").arg(size), QSize(size, size));
    QApplication::setWindowIcon(icon);
}

std::optional<Options> parseCommandLine(const QStringList& arguments) {
    QCommandLineParser parser;
    parser.setApplicationDescription(
        StudioApp::tr("ME-Switch Studio: keep one base model and many compressed experts on one "
                      "GPU."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption home(
        QStringLiteral("home"),
        StudioApp::tr("Use DIR as the data folder (catalog, logs, deltas) instead of "
                      "$MESWITCH_HOME or the folder chosen in Settings."),
        StudioApp::tr("DIR"));
    const QCommandLineOption level(
        QStringLiteral("log-level"),
        StudioApp::tr("Log level for this run: trace, debug, info, warn, error, critical or off. "
                      "debug and trace also print to stderr."),
        StudioApp::tr("LEVEL"));
    parser.addOption(home);
    parser.addOption(level);
    parser.process(arguments);  // exits for --help, --version and unknown options

    Options options;
    if (parser.isSet(home)) {
        const QString dir = parser.value(home);
        if (dir.isEmpty()) {
            std::fputs(qPrintable(StudioApp::tr("meswitch-studio: --home needs a folder\n")),
                       stderr);
            return std::nullopt;
        }
        options.home = std::filesystem::path(dir.toStdString());
    }
    if (parser.isSet(level)) {
        const QString value = parser.value(level).toLower();
        if (!isLogLevel(value)) {
            std::fputs(qPrintable(StudioApp::tr("meswitch-studio: unknown log level '%1' (use "
                                                "trace, debug, info, warn, error, critical or "
                                                "off)\n")
                                      .arg(parser.value(level))),
                       stderr);
            return std::nullopt;
        }
        options.logLevel = value;
    }
    return options;
}

std::filesystem::path resolveDataHome(const std::optional<std::filesystem::path>& cliHome,
                                      const QString& savedHome) {
    if (cliHome) return meswitch::data_home(cliHome);
    const char* env = std::getenv("MESWITCH_HOME");
    if ((!env || !*env) && !savedHome.isEmpty())
        return meswitch::data_home(std::filesystem::path(savedHome.toStdString()));
    return meswitch::data_home();
}

SettingsPage::HomeSource dataHomeSource(const std::optional<std::filesystem::path>& cliHome,
                                        const QString& savedHome) {
    using Source = SettingsPage::HomeSource;
    if (cliHome) return Source::commandLine;
    const char* env = std::getenv("MESWITCH_HOME");
    if (env && *env) return Source::environment;
    return savedHome.isEmpty() ? Source::standard : Source::settings;
}

void quitOnTerminationSignals() {
    if (g_signalFds[0] >= 0) return;
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, g_signalFds) != 0) return;
    auto* notifier = new QSocketNotifier(g_signalFds[1], QSocketNotifier::Read, qApp);
    QObject::connect(notifier, &QSocketNotifier::activated, qApp, [] {
        char byte = 0;
        [[maybe_unused]] const auto got = ::read(g_signalFds[1], &byte, 1);
        spdlog::info("termination signal received; closing");
        g_terminationRequested = true;
        QApplication::closeAllWindows();  // saves window geometry
        QApplication::quit();
    });
    struct sigaction action = {};
    action.sa_handler = onSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaction(sig, &action, nullptr);
}

bool terminationRequested() {
    return g_terminationRequested;
}

int runStudio(QApplication& app) {
    initApplication();
    quitOnTerminationSignals();
    LanguageManager::apply(StudioSettings::language());

    const auto options = parseCommandLine(app.arguments());
    if (!options) return 2;

    const std::filesystem::path home = resolveDataHome(options->home, StudioSettings::dataHome());
    QString level = options->logLevel.value_or(StudioSettings::logLevel());
    if (!isLogLevel(level)) level = QStringLiteral("info");  // a hand-edited settings file
    const bool toStderr =
        options->logLevel && (level == QLatin1String("debug") || level == QLatin1String("trace"));
    try {
        meswitch::ensure_dir(home);
        meswitch::init_logging({meswitch::log_dir(home), toStderr, level.toStdString()});
    } catch (const std::exception& e) {
        // Without a usable data folder there is no catalog either: say so and stop.
        meswitch::init_logging({{}, true, "warn"});
        MessageBoxes::error(nullptr, StudioApp::tr("ME-Switch Studio"),
                            StudioApp::tr("The data folder cannot be used:\n\n%1\n\nChoose "
                                          "another one with --home DIR or MESWITCH_HOME.")
                                .arg(QString::fromUtf8(e.what())));
        return 1;
    }
    spdlog::info("ME-Switch Studio {} starting (Qt {}), data folder {}",
                 meswitch::build_info().version, qVersion(), home.string());

    auto opened = CatalogOpener::withMessageBoxes().open(meswitch::catalog_path(home));
    if (!opened.catalog) return 1;
    if (terminationRequested()) return 0;  // a signal arrived while a start-up dialog was open

    MainWindow window(*opened.catalog, home);
    window.settingsPage()->setDataHomeSource(
        dataHomeSource(options->home, StudioSettings::dataHome()));
    window.show();
    const int code = app.exec();
    spdlog::info("ME-Switch Studio exiting with code {}", code);
    return code;
}

}  // namespace Studio
