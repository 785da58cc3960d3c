// Compress: choose an expert, the method (ME-Switch, RTN, BitDelta), bits, salient fraction
// and calibration source, and run the compression on the engine thread with a progress bar,
// the current layer, elapsed time, ETA and Cancel. Finished runs are listed from the catalog
// (compression_runs with per-layer statistics) and reopen at once: charts of per-layer output
// error against the RTN baseline, bits per parameter and size before/after, and the saliency
// inspection of any layer.
#pragma once

#include <QElapsedTimer>
#include <QPointer>

#include <cstdint>
#include <functional>
#include <optional>

#include "meswitch/catalog.h"
#include "meswitch/compress.h"
#include "studio_page.h"

class CompressCharts;
class EngineHost;
class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QGroupBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTabWidget;
class QTimer;
class QTreeWidget;
class SaliencyView;

class CompressPage : public StudioPage {
    Q_OBJECT

public:
    CompressPage(meswitch::Catalog& catalog, QWidget* parent = nullptr);
    ~CompressPage() override;

    EngineHost* engine();

    // Chooses the expert (false when it is not an expert in the catalog).
    bool selectExpert(std::int64_t expertId);
    std::optional<std::int64_t> selectedExpert() const;
    // Shows a finished run from the catalog (charts, sizes, saliency layers).
    bool openRun(std::int64_t runId);
    std::optional<std::int64_t> shownRun() const { return m_shownRun; }

    // The options the form describes.
    meswitch::CompressOptions compressOptions() const;
    bool running() const { return m_job != 0; }

    QComboBox* expertCombo() const { return m_expertCombo; }
    QComboBox* methodCombo() const { return m_methodCombo; }
    QSpinBox* bitsSpin() const { return m_bitsSpin; }
    QDoubleSpinBox* salientSpin() const { return m_salientSpin; }
    QComboBox* calibrationCombo() const { return m_calibrationCombo; }
    QLineEdit* calibrationFileEdit() const { return m_calibrationFile; }
    QCheckBox* baselineCheck() const { return m_baselineCheck; }
    QPushButton* compressButton() const { return m_compressButton; }
    QPushButton* cancelButton() const { return m_cancelButton; }
    QProgressBar* progressBar() const { return m_progress; }
    QLabel* stepLabel() const { return m_stepLabel; }
    QLabel* timeLabel() const { return m_timeLabel; }
    QLabel* messageLabel() const { return m_message; }
    // What the salient setting keeps of the selected expert's layers, before the run
    // ("Keeps 1 of 128 input channels …"), and whether it rounds to none for some layer.
    QLabel* salientInfoLabel() const { return m_salientInfo; }
    bool salientWarning() const { return m_salientWarning; }
    QTreeWidget* runsView() const { return m_runs; }
    CompressCharts* charts() const { return m_charts; }
    SaliencyView* saliency() const { return m_saliency; }
    QTabWidget* tabs() const { return m_tabs; }

public slots:
    void refreshExperts();
    void startCompression();
    void cancelCompression();

signals:
    // The run has been recorded in the catalog and shown.
    void compressionFinished(qint64 runId);
    // Failed or cancelled: the message shown.
    void compressionStopped(const QString& message, bool cancelled);

protected:
    void retranslateUi() override;
    void showEvent(QShowEvent* event) override;

private:
    void showNothing();
    void refreshRuns();
    void updateForm();
    void updateTime();
    void updateSalientInfo();
    // The left panel's width for the current language: wide enough for the settings and the
    // runs' columns, the same while idle, running and done.
    void updatePanelWidth();
    void setStepText(const QString& text);
    void showMessage(const QString& text, bool error);
    void onProgress(quint64 job, double fraction, const QString& message);
    void onFinished(quint64 job, const QString& kind, const QVariant& result);
    void onFailed(quint64 job, const QString& kind, const QString& message, bool cancelled);

    meswitch::Catalog& m_catalog;
    QPointer<EngineHost> m_engine;
    quint64 m_job = 0;
    QElapsedTimer m_elapsed;
    // The status line while idle, in the current language (empty: "Ready.").
    std::function<QString()> m_idleStatus;
    std::function<QString()> m_idleTime;  // the finished run's time by stage
    double m_fraction = 0;
    int m_layersDone = 0;
    std::optional<std::int64_t> m_shownRun;
    QTimer* m_clock = nullptr;

    QGroupBox* m_settingsGroup = nullptr;
    QLabel* m_expertCaption = nullptr;
    QComboBox* m_expertCombo = nullptr;
    QLabel* m_methodCaption = nullptr;
    QComboBox* m_methodCombo = nullptr;
    QLabel* m_bitsCaption = nullptr;
    QSpinBox* m_bitsSpin = nullptr;
    QLabel* m_salientCaption = nullptr;
    QDoubleSpinBox* m_salientSpin = nullptr;
    QLabel* m_salientInfo = nullptr;
    bool m_salientWarning = false;
    // The selected expert's input widths (config.json hidden_size, intermediate_size); 0: unknown.
    std::int64_t m_hidden = 0, m_intermediate = 0;
    std::optional<std::int64_t> m_shapeExpert;
    QWidget* m_leftPanel = nullptr;
    QLabel* m_calibrationCaption = nullptr;
    QComboBox* m_calibrationCombo = nullptr;
    QLineEdit* m_calibrationFile = nullptr;
    QPushButton* m_browseCalibration = nullptr;
    QCheckBox* m_baselineCheck = nullptr;
    QPushButton* m_compressButton = nullptr;
    QPushButton* m_cancelButton = nullptr;
    QProgressBar* m_progress = nullptr;
    QLabel* m_stepLabel = nullptr;
    QLabel* m_timeLabel = nullptr;
    QLabel* m_message = nullptr;
    QGroupBox* m_runsGroup = nullptr;
    QTreeWidget* m_runs = nullptr;
    QTabWidget* m_tabs = nullptr;
    CompressCharts* m_charts = nullptr;
    SaliencyView* m_saliency = nullptr;
};
