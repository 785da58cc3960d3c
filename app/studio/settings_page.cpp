#include "settings_page.h"

#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include <spdlog/spdlog.h>

#include <algorithm>

#include "api_server_group.h"
#include "formatting.h"
#include "language_manager.h"
#include "message_boxes.h"
#include "meswitch/log.h"
#include "meswitch/paths.h"
#include "meswitch/pool.h"
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
    // Device and memory.
    m_deviceGroup = new QGroupBox(this);
    m_deviceCaption = new QLabel(m_deviceGroup);
    m_device = new QComboBox(m_deviceGroup);
    m_device->setObjectName(QStringLiteral("deviceCombo"));
    m_deviceCaption->setBuddy(m_device);
    fillDevices();
    connect(m_device, &QComboBox::currentIndexChanged, this, [this](int index) {
        const QString device = m_device->itemData(index).toString();
        if (device.isEmpty()) return;
        StudioSettings::setDevice(device);
        spdlog::info("settings: device set to {}", device.toStdString());
        emit deviceChanged(device);
    });
    m_budgetCaption = new QLabel(m_deviceGroup);
    m_budget = new QSpinBox(m_deviceGroup);
    m_budget->setObjectName(QStringLiteral("memoryBudgetSpin"));
    m_budget->setRange(64, 1 << 20);
    m_budget->setSingleStep(256);
    m_budget->setValue(StudioSettings::expertMemoryBudgetMiB());
    m_budgetCaption->setBuddy(m_budget);
    m_budgetHint = new QLabel(m_deviceGroup);
    m_budgetHint->setObjectName(QStringLiteral("budgetHintLabel"));
    m_budgetHint->setWordWrap(true);
    connect(m_budget, &QSpinBox::valueChanged, this, [this](int mib) {
        StudioSettings::setExpertMemoryBudgetMiB(mib);
        updateBudgetHint();
    });
    m_deviceNote = selectableLabel(m_deviceGroup);
    auto* deviceForm = new QFormLayout(m_deviceGroup);
    deviceForm->addRow(m_deviceCaption, m_device);
    deviceForm->addRow(m_budgetCaption, m_budget);
    deviceForm->addRow(QString(), m_budgetHint);
    deviceForm->addRow(m_deviceNote);

    // Compression defaults (the Compress page starts from these).
    m_compressionGroup = new QGroupBox(this);
    m_methodCaption = new QLabel(m_compressionGroup);
    m_method = new QComboBox(m_compressionGroup);
    m_method->setObjectName(QStringLiteral("compressionMethodCombo"));
    for (const char* method : {"meswitch", "rtn", "bitdelta"})
        m_method->addItem(QString(), QLatin1String(method));
    m_method->setCurrentIndex(std::max(0, m_method->findData(StudioSettings::compressionMethod())));
    m_methodCaption->setBuddy(m_method);
    connect(m_method, &QComboBox::currentIndexChanged, this, [this](int index) {
        StudioSettings::setCompressionMethod(m_method->itemData(index).toString());
    });
    m_bitsCaption = new QLabel(m_compressionGroup);
    m_bits = new QSpinBox(m_compressionGroup);
    m_bits->setObjectName(QStringLiteral("compressionBitsSpin"));
    m_bits->setRange(1, 8);
    m_bits->setValue(StudioSettings::compressionBits());
    m_bitsCaption->setBuddy(m_bits);
    connect(m_bits, &QSpinBox::valueChanged, this,
            [](int bits) { StudioSettings::setCompressionBits(bits); });
    m_salientCaption = new QLabel(m_compressionGroup);
    m_salient = new QDoubleSpinBox(m_compressionGroup);
    m_salient->setObjectName(QStringLiteral("salientSpin"));
    m_salient->setRange(0.0, 100.0);
    m_salient->setDecimals(2);
    m_salient->setSingleStep(0.25);
    m_salient->setSuffix(QStringLiteral(" %"));
    m_salient->setValue(StudioSettings::compressionSalientPercent());
    m_salientCaption->setBuddy(m_salient);
    connect(m_salient, &QDoubleSpinBox::valueChanged, this,
            [](double percent) { StudioSettings::setCompressionSalientPercent(percent); });
    auto* compressionForm = new QFormLayout(m_compressionGroup);
    compressionForm->addRow(m_methodCaption, m_method);
    compressionForm->addRow(m_bitsCaption, m_bits);
    compressionForm->addRow(m_salientCaption, m_salient);

    // Routing.
    m_routingGroup = new QGroupBox(this);
    m_thresholdCaption = new QLabel(m_routingGroup);
    m_threshold = new QDoubleSpinBox(m_routingGroup);
    m_threshold->setObjectName(QStringLiteral("routingThresholdSpin"));
    m_threshold->setRange(0.0, 1.0);
    m_threshold->setDecimals(2);
    m_threshold->setSingleStep(0.05);
    m_threshold->setValue(StudioSettings::routingThreshold());
    m_thresholdCaption->setBuddy(m_threshold);
    connect(m_threshold, &QDoubleSpinBox::valueChanged, this,
            [](double t) { StudioSettings::setRoutingThreshold(t); });
    m_thresholdNote = selectableLabel(m_routingGroup);
    auto* routingForm = new QFormLayout(m_routingGroup);
    routingForm->addRow(m_thresholdCaption, m_threshold);
    routingForm->addRow(m_thresholdNote);

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

    // The Local API server (off until the user turns it on).
    m_apiGroup = new ApiServerGroup(this);

    // Two columns: what the engine does on the left, where and how the Studio works on the right.
    auto* engineColumn = new QVBoxLayout;
    engineColumn->addWidget(m_deviceGroup);
    engineColumn->addWidget(m_compressionGroup);
    engineColumn->addWidget(m_routingGroup);
    engineColumn->addStretch(1);
    auto* studioColumn = new QVBoxLayout;
    studioColumn->addWidget(m_dataGroup);
    studioColumn->addWidget(m_logGroup);
    studioColumn->addWidget(m_languageGroup);
    studioColumn->addWidget(m_apiGroup, 1);  // its log view takes the height left
    auto* layout = new QHBoxLayout(this);
    layout->addLayout(engineColumn, 1);
    layout->addLayout(studioColumn, 1);

    retranslateUi();
}

void SettingsPage::setApiServer(ApiServerController* controller) {
    m_apiGroup->setController(controller);
}

void SettingsPage::setDeviceScan(const meswitch::DeviceScan& scan) {
    m_scan = scan;
    fillDevices();
}

void SettingsPage::fillDevices() {
    const QSignalBlocker block(m_device);
    const QString saved = StudioSettings::device();
    m_device->clear();
    m_device->addItem(tr("Automatic"), QStringLiteral("auto"));
    m_device->addItem(tr("CPU"), QStringLiteral("cpu"));
    if (m_scan)
        for (const auto& d : m_scan->devices)
            m_device->addItem(tr("GPU %1: %2").arg(d.index).arg(qs(d.name)),
                              QStringLiteral("gpu:") + qs(d.name));
    int index = m_device->findData(saved);
    if (index < 0 && saved.startsWith(QLatin1String("gpu:"))) {
        // Keep a GPU chosen earlier that this scan did not find (unplugged, driver missing).
        m_device->addItem(tr("%1 (not found)").arg(saved.mid(4)), saved);
        index = m_device->count() - 1;
    }
    m_device->setCurrentIndex(std::max(0, index));
}

void SettingsPage::retranslateUi() {
    setWindowTitle(tr("Settings"));
    m_deviceGroup->setTitle(tr("Device"));
    m_deviceCaption->setText(tr("Compute device:"));
    fillDevices();
    m_budgetCaption->setText(tr("Memory for resident experts:"));
    m_budget->setSuffix(tr(" MiB"));
    updateBudgetHint();
    m_deviceNote->setText(
        tr("Automatic uses the first GPU when this build and machine have one, else the CPU. "
           "Compressed experts are kept resident up to the memory budget."));
    m_compressionGroup->setTitle(tr("Compression defaults"));
    m_methodCaption->setText(tr("Method:"));
    m_method->setItemText(0, tr("ME-Switch (salient channels + low-bit)"));
    m_method->setItemText(1, tr("RTN (round to nearest)"));
    m_method->setItemText(2, tr("BitDelta (1-bit sign + scale)"));
    m_bitsCaption->setText(tr("Bits:"));
    m_salientCaption->setText(tr("Salient input channels:"));
    m_routingGroup->setTitle(tr("Routing"));
    m_thresholdCaption->setText(tr("Routing threshold:"));
    m_thresholdNote->setText(
        tr("When the router's confidence is below the threshold, the base model answers and "
           "the chat says so."));
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

void SettingsPage::setDataHomeSource(HomeSource source) {
    m_homeSource = source;
    updatePendingDataHome();
}

void SettingsPage::updatePendingDataHome() {
    const QString saved = StudioSettings::dataHome();
    const QString inUse = qs(m_home.string());
    if (m_homeSource == HomeSource::commandLine || m_homeSource == HomeSource::environment) {
        // The folder in use came from outside the settings: it stays in use while it is given.
        QString text = m_homeSource == HomeSource::commandLine
                           ? tr("Chosen with --home for this run; it takes precedence over this "
                                "setting.")
                           : tr("Chosen with the MESWITCH_HOME environment variable; it takes "
                                "precedence over this setting.");
        if (!saved.isEmpty() && QDir::cleanPath(saved) != QDir::cleanPath(inUse))
            text += QLatin1Char(' ') + tr("Without it: %1").arg(QDir::toNativeSeparators(saved));
        m_pendingDataHome->setText(text);
    } else if (saved.isEmpty()) {
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

void SettingsPage::updateBudgetHint() {
    // The engine's own estimate of a Mistral-7B 2-bit expert (what the pool keeps per expert).
    static const std::uint64_t expertBytes =
        meswitch::compressed_delta_bytes(meswitch::mistral_7b_shape(), 2);
    const std::uint64_t budget = static_cast<std::uint64_t>(m_budget->value()) << 20;
    const auto fit = static_cast<int>(budget / expertBytes);
    m_budgetHint->setText(
        tr("About %n Mistral-7B-sized 2-bit expert(s) (%1 each) fit in this budget.", "", fit)
            .arg(Formatting::byteSize(static_cast<std::int64_t>(expertBytes))));
}
