// Installs the application's translations (embedded .qm files under :/i18n) and, where the system
// has them, Qt's own translations for standard dialogs. Installing a translator makes Qt send
// QEvent::LanguageChange to every widget; pages answer it with retranslateUi().
#pragma once

#include <QString>
#include <QStringList>

namespace LanguageManager {

// The language settings the user can choose: "system", "en", "zh_CN".
QStringList availableSettings();

// The language actually used for a setting: "system" follows the system locale and falls back to
// "en" when there is no translation for it.
QString resolve(const QString& setting);

// Installs the translators for `setting` (replacing earlier ones). Returns the resolved language.
QString apply(const QString& setting);

// The language currently installed ("en" before the first apply()).
QString current();

}  // namespace LanguageManager
