// Small modal message boxes whose buttons are translated with the Studio's own translations
// (Qt's standard button texts are only translated where the system ships qtbase translations).
#pragma once

#include <QString>

class QWidget;

namespace MessageBoxes {

// A warning/critical box with one "OK" button.
void error(QWidget* parent, const QString& title, const QString& text);

// A question with an accept button (e.g. "Remove") and "Cancel"; true when accepted.
bool confirm(QWidget* parent, const QString& title, const QString& text, const QString& acceptText);

}  // namespace MessageBoxes
