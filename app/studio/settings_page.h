// Settings: the compute device and the memory budget for resident experts, the default
// compression settings, the routing threshold, the data folder (takes effect on restart), the
// log level (applies at once), the interface language (applies at once by reinstalling the
// translator) and the Local API server (ApiServerGroup, driving the window's
// ApiServerController). Remembered in QSettings (StudioSettings).
#pragma once

#include <QString>

#include <filesystem>
#include <functional>
#include <optional>

#include "meswitch/system.h"
#include "studio_page.h"

class ApiServerController;
class ApiServerGroup;
class QComboBox;
class QDoubleSpinBox;
class QSpinBox;
class QGroupBox;
class QLabel;
class QPushButton;

class SettingsPage : public StudioPage {
    Q_OBJECT

public:
    // Asks for a folder, starting at `start`; empty when cancelled.
    using ChooseDirFn = std::function<QString(const QString& start)>;

    SettingsPage(const std::filesystem::path& dataHome, QWidget* parent = nullptr);

    void setChooseDirHandler(ChooseDirFn fn) { m_chooseDir = std::move(fn); }

    // The Local API server that the group's switch drives (the main window's; without one the
    // switch is disabled). Starts it when the remembered switch is on.
    void setApiServer(ApiServerController* controller);
    ApiServerGroup* apiServerGroup() const { return m_apiGroup; }

    // Fills the device list with the GPUs found (called by the main window after its scan).
    void setDeviceScan(const meswitch::DeviceScan& scan);

    // How the data folder in use was chosen (Studio::dataHomeSource); the page says so instead
    // of promising another folder "after a restart" when --home or MESWITCH_HOME chose it.
    enum class HomeSource { commandLine, environment, settings, standard };
    void setDataHomeSource(HomeSource source);
    HomeSource dataHomeSource() const { return m_homeSource; }

    QComboBox* deviceCombo() const { return m_device; }
    QSpinBox* memoryBudgetSpin() const { return m_budget; }
    // "About N Mistral-7B-sized 2-bit experts (1.81 GiB each) fit in this budget."
    QLabel* budgetHintLabel() const { return m_budgetHint; }
    QComboBox* compressionMethodCombo() const { return m_method; }
    QSpinBox* compressionBitsSpin() const { return m_bits; }
    QDoubleSpinBox* salientSpin() const { return m_salient; }
    QDoubleSpinBox* routingThresholdSpin() const { return m_threshold; }
    QComboBox* logLevelCombo() const { return m_logLevel; }
    QComboBox* languageCombo() const { return m_language; }
    QLabel* dataHomeLabel() const { return m_dataHome; }
    QLabel* pendingDataHomeLabel() const { return m_pendingDataHome; }

signals:
    void deviceChanged(const QString& device);

public slots:
    void chooseDataHome();
    void useDefaultDataHome();

protected:
    void retranslateUi() override;

private:
    void applyLogLevel(int index);
    void applyLanguage(int index);
    void updatePendingDataHome();
    void updateBudgetHint();

    void fillDevices();

    std::filesystem::path m_home;
    std::optional<meswitch::DeviceScan> m_scan;
    QGroupBox* m_deviceGroup = nullptr;
    QLabel* m_deviceCaption = nullptr;
    QComboBox* m_device = nullptr;
    QLabel* m_budgetCaption = nullptr;
    QSpinBox* m_budget = nullptr;
    QLabel* m_budgetHint = nullptr;
    QLabel* m_deviceNote = nullptr;
    QGroupBox* m_compressionGroup = nullptr;
    QLabel* m_methodCaption = nullptr;
    QComboBox* m_method = nullptr;
    QLabel* m_bitsCaption = nullptr;
    QSpinBox* m_bits = nullptr;
    QLabel* m_salientCaption = nullptr;
    QDoubleSpinBox* m_salient = nullptr;
    QGroupBox* m_routingGroup = nullptr;
    QLabel* m_thresholdCaption = nullptr;
    QDoubleSpinBox* m_threshold = nullptr;
    QLabel* m_thresholdNote = nullptr;
    QGroupBox* m_dataGroup = nullptr;
    QLabel* m_dataHomeCaption = nullptr;
    QLabel* m_dataHome = nullptr;
    QLabel* m_pendingDataHome = nullptr;
    HomeSource m_homeSource = HomeSource::settings;
    QLabel* m_dataNote = nullptr;
    QPushButton* m_changeDataHome = nullptr;
    QPushButton* m_defaultDataHome = nullptr;
    QGroupBox* m_logGroup = nullptr;
    QLabel* m_logLevelCaption = nullptr;
    QComboBox* m_logLevel = nullptr;
    QLabel* m_logFileCaption = nullptr;
    QLabel* m_logFile = nullptr;
    QGroupBox* m_languageGroup = nullptr;
    QLabel* m_languageCaption = nullptr;
    QComboBox* m_language = nullptr;
    QLabel* m_languageNote = nullptr;
    ApiServerGroup* m_apiGroup = nullptr;
    ChooseDirFn m_chooseDir;
};
