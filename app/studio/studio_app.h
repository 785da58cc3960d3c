// Start-up of the meswitch-studio executable: command line, data folder, logging, translations,
// catalog, main window. main() only creates the QApplication and calls runStudio().
#pragma once

#include <QString>
#include <QStringList>

#include <filesystem>
#include <optional>

#include "settings_page.h"

class QApplication;

namespace Studio {

// Registers the embedded icons (the .qrc lives in a static library, so it needs an explicit
// initialisation) and sets the application's names and icon. Call once after QApplication.
void initApplication();

struct Options {
    std::optional<std::filesystem::path> home;  // --home DIR
    std::optional<QString> logLevel;            // --log-level LEVEL
};

// Parses the command line (exits for --help/--version). Returns nullopt, after printing the
// reason on stderr, for invalid values.
std::optional<Options> parseCommandLine(const QStringList& arguments);

// The data folder: --home, then $MESWITCH_HOME, then the folder chosen in Settings, then the
// default ($XDG_DATA_HOME/meswitch-studio).
std::filesystem::path resolveDataHome(const std::optional<std::filesystem::path>& cliHome,
                                      const QString& savedHome);

// Which of those chose the folder (the Settings page says so).
SettingsPage::HomeSource dataHomeSource(const std::optional<std::filesystem::path>& cliHome,
                                        const QString& savedHome);

// Turns SIGTERM/SIGINT/SIGHUP into a normal QApplication::quit() so that settings are saved and
// the process exits cleanly.
void quitOnTerminationSignals();
// True once such a signal arrived (checked between start-up steps that run their own loops).
bool terminationRequested();

// The whole application; returns the process exit code.
int runStudio(QApplication& app);

}  // namespace Studio
