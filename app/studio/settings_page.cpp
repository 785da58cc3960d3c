#include "settings_page.h"

#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>

#include <spdlog/spdlog.h>

#include "formatting.h"
#include "language_manager.h"
#include "message_boxes.h"
#include "meswitch/log.h"
#include "meswitch/paths.h"
#include "studio_settings.h"

using Formatting::qs;

namespace {
// spdlog level names, in the order the combo shows them.
const char* const kLevels[] = {"trace", "debug", "info", "warn", "error", "critical", "off"};

QLabel* selectableLabel(QWidget* parent) {
    auto* label = new QLabel(parent);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    label->setWordWrap(true);
    return label;
}
}  // namespace

SettingsPage::SettingsPage(const std::filesystem::path& dataHome, QWidget* parent)
    : StudioPage(QStringLiteral("settings"), navigationIcon(QStringLiteral("settings")), parent),
      m_home(dataHome) {
    // Data folder.
    m_dataGroup = new QGroupBox(this);
    m_dataHomeCaption = new QLabel(m_dataGroup);
    m_dataHome = selectableLabel(m_dataGroup);
    m_dataHome->setObjectName(QStringLiteral("dataHomeLabel"));
    m_dataHome->setText(QDir::toNativeSeparators(qs(m_home.string())));
    m_pendingDataHome = selectableLabel(m_dataGroup);
    m_pendingDataHome->setObjectName(QStringLiteral("pendingDataHomeLabel"));
    m_dataNote = selectableLabel(m_dataGroup);
    m_changeDataHome = new QPushButton(m_dataGroup);
    m_defaultDataHome = new QPushButton(m_dataGroup);
    connect(m_changeDataHome, &QPushButton::clicked, this, &SettingsPage::chooseDataHome);
    connect(m_defaultDataHome, &QPushButton::clicked, this, &SettingsPage::useDefaultDataHome);
    auto* dataButtons = new QHBoxLayout;
    dataButtons->addWidget(m_changeDataHome);
    dataButtons->addWidget(m_defaultDataHome);
    dataButtons->addStretch(1);
    auto* dataForm = new QFormLayout;
    dataForm->addRow(m_dataHomeCaption, m_dataHome);
    auto* dataLayout = new QVBoxLayout(m_dataGroup);
    dataLayout->addLayout(dataForm);
    dataLayout->addWidget(m_pendingDataHome);
    dataLayout->addWidget(m_dataNote);
    dataLayout->addLayout(dataButtons);

    // Logging.
    m_logGroup = new QGroupBox(this);
    m_logLevelCaption = new QLabel(m_logGroup);
    m_logLevel = new QComboBox(m_logGroup);
    m_logLevel->setObjectName(QStringLiteral("logLevelCombo"));
    for (const char* level : kLevels) m_logLevel->addItem(QString(), QLatin1String(level));
    const auto current = spdlog::level::to_string_view(spdlog::get_level());
    const int currentIndex =
        m_logLevel->findData(QString::fromUtf8(current.data(), static_cast<int>(current.size())));
    m_logLevel->setCurrentIndex(currentIndex >= 0 ? currentIndex : 2);
    connect(m_logLevel, &QComboBox::currentIndexChanged, this, &SettingsPage::applyLogLevel);
    m_logFileCaption = new QLabel(m_logGroup);
    m_logFile = selectableLabel(m_logGroup);
    m_logFile->setText(
        QDir::toNativeSeparators(qs(meswitch::log_file_path(meswitch::log_dir(m_home)).string())));
    auto* logForm = new QFormLayout(m_logGroup);
    logForm->addRow(m_logLevelCaption, m_logLevel);
    logForm->addRow(m_logFileCaption, m_logFile);

    // Language.
    m_languageGroup = new QGroupBox(this);
    m_languageCaption = new QLabel(m_languageGroup);
    m_language = new QComboBox(m_languageGroup);
    m_language->setObjectName(QStringLiteral("languageCombo"));
    for (const QString& setting : LanguageManager::availableSettings())
        m_language->addItem(QString(), setting);
    const int languageIndex = m_language->findData(StudioSettings::language());
    m_language->setCurrentIndex(languageIndex >= 0 ? languageIndex : 0);
    connect(m_language, &QComboBox::currentIndexChanged, this, &SettingsPage::applyLanguage);
    m_languageNote = selectableLabel(m_languageGroup);
    auto* languageForm = new QFormLayout(m_languageGroup);
    languageForm->addRow(m_languageCaption, m_language);
    languageForm->addRow(m_languageNote);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(m_dataGroup);
    layout->addWidget(m_logGroup);
    layout->addWidget(m_languageGroup);
    layout->addStretch(1);

    retranslateUi();
}

void SettingsPage::retranslateUi() {
    setWindowTitle(tr("Settings"));
    m_dataGroup->setTitle(tr("Data folder"));
    m_dataHomeCaption->setText(tr("In use:"));
    m_dataNote->setText(
        tr("The data folder holds the catalog, the logs and the compressed deltas. A change takes "
           "effect when ME-Switch Studio is restarted; the --home option and the MESWITCH_HOME "
           "environment variable take precedence over this setting."));
    m_changeDataHome->setText(tr("Change…"));
    m_defaultDataHome->setText(tr("Use default"));
    updatePendingDataHome();

    m_logGroup->setTitle(tr("Logging"));
    m_logLevelCaption->setText(tr("Log level:"));
    const QString levelNames[] = {
        tr("Trace (everything)"), tr("Debug"), tr("Info"), tr("Warnings"), tr("Errors"),
        tr("Critical only"),      tr("Off")};
    for (int i = 0; i < m_logLevel->count(); ++i) m_logLevel->setItemText(i, levelNames[i]);
    m_logFileCaption->setText(tr("Log file:"));

    m_languageGroup->setTitle(tr("Language"));
    m_languageCaption->setText(tr("Interface language:"));
    // Language names are shown in their own language so that everyone can find theirs.
    m_language->setItemText(0, tr("System"));
    m_language->setItemText(1, QStringLiteral("English"));
    m_language->setItemText(2, QStringLiteral("简体中文"));
    m_languageNote->setText(tr("Applies immediately."));
}

void SettingsPage::updatePendingDataHome() {
    const QString saved = StudioSettings::dataHome();
    const QString inUse = qs(m_home.string());
    if (saved.isEmpty()) {
        const QString fallback = qs(meswitch::data_home().string());
        m_pendingDataHome->setText(fallback == inUse
                                       ? QString()
                                       : tr("After a restart: the default folder (%1)")
                                             .arg(QDir::toNativeSeparators(fallback)));
    } else if (QDir::cleanPath(saved) != QDir::cleanPath(inUse)) {
        m_pendingDataHome->setText(tr("After a restart: %1").arg(QDir::toNativeSeparators(saved)));
    } else {
        m_pendingDataHome->clear();
    }
    m_pendingDataHome->setVisible(!m_pendingDataHome->text().isEmpty());
}

void SettingsPage::chooseDataHome() {
    const QString start = qs(m_home.string());
    const QString dir =
        m_chooseDir ? m_chooseDir(start)
                    : QFileDialog::getExistingDirectory(this, tr("Choose the data folder"), start);
    if (dir.isEmpty()) return;
    try {
        meswitch::ensure_dir(dir.toStdString());
    } catch (const std::exception& e) {
        MessageBoxes::error(
            this, tr("Data folder"),
            tr("This folder cannot be used:\n\n%1").arg(QString::fromUtf8(e.what())));
        return;
    }
    StudioSettings::setDataHome(QDir::cleanPath(dir));
    spdlog::info("settings: data folder set to {} (takes effect on restart)", dir.toStdString());
    updatePendingDataHome();
}

void SettingsPage::useDefaultDataHome() {
    StudioSettings::setDataHome(QString());
    spdlog::info("settings: data folder reset to the default (takes effect on restart)");
    updatePendingDataHome();
}

void SettingsPage::applyLogLevel(int index) {
    const QString level = m_logLevel->itemData(index).toString();
    if (level.isEmpty()) return;
    meswitch::set_log_level(level.toStdString());  // one of kLevels: never throws
    StudioSettings::setLogLevel(level);
    spdlog::log(spdlog::level::info, "settings: log level set to {}", level.toStdString());
}

void SettingsPage::applyLanguage(int index) {
    const QString setting = m_language->itemData(index).toString();
    if (setting.isEmpty()) return;
    StudioSettings::setLanguage(setting);
    const QString used = LanguageManager::apply(setting);
    spdlog::info("settings: language set to {} (using {})", setting.toStdString(),
                 used.toStdString());
}
