// Settings: the data folder (takes effect on restart), the log level (applies at once) and the
// interface language (applies at once by reinstalling the translator). Remembered in QSettings.
#pragma once

#include <QString>

#include <filesystem>
#include <functional>

#include "studio_page.h"

class QComboBox;
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

    QComboBox* logLevelCombo() const { return m_logLevel; }
    QComboBox* languageCombo() const { return m_language; }
    QLabel* dataHomeLabel() const { return m_dataHome; }
    QLabel* pendingDataHomeLabel() const { return m_pendingDataHome; }

public slots:
    void chooseDataHome();
    void useDefaultDataHome();

protected:
    void retranslateUi() override;

private:
    void applyLogLevel(int index);
    void applyLanguage(int index);
    void updatePendingDataHome();

    std::filesystem::path m_home;
    QGroupBox* m_dataGroup = nullptr;
    QLabel* m_dataHomeCaption = nullptr;
    QLabel* m_dataHome = nullptr;
    QLabel* m_pendingDataHome = nullptr;
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
    ChooseDirFn m_chooseDir;
};
