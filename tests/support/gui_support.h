// Helpers shared by the GUI tests (Qt Widgets): isolated settings and screenshots.
#pragma once

#include <QString>

class QWidget;

namespace meswitch::test {

// Puts QStandardPaths in test mode and points QSettings (native and INI formats, user scope)
// at `dir`, so that a GUI test never reads or writes the user's own settings. Call it before
// the application's settings are first used.
void use_temporary_settings(const QString& dir);

// Saves a picture of `widget` as test-output/screenshots/<name> (after pending events, e.g.
// layout requests, are processed), for a person to look at; fails the test when it cannot.
void save_screenshot(QWidget* widget, const char* name);

}  // namespace meswitch::test
