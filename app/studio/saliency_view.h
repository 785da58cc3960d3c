// Saliency inspection of one compressed layer: the per-input-channel min and max of the delta
// Δ with the channels the artifact keeps in 16 bits highlighted (the view the ME-Switch paper
// uses to show why input channels matter), and a zoomable heat map of |Δ| and of the
// quantization error |Δ − Δ̂|. The numbers come from meswitch::inspect_layer on the engine
// thread.
#pragma once

#include <QGraphicsView>
#include <QPointer>
#include <QWidget>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "meswitch/inspect.h"

class EngineHost;
class QChart;
class QChartView;
class QComboBox;
class QGraphicsPixmapItem;
class QLabel;
class QLineSeries;
class QToolButton;
class QScatterSeries;
class QTimer;
class QValueAxis;

// A QGraphicsView showing one HeatMap of a whole layer; the mouse wheel and +/- zoom, 0 fits.
// When the map is a shrunk view of the layer and the user zooms in (2× or more), the view asks
// for the visible region in finer detail (detailRequested) and overlays the answer (setDetail),
// down to one cell per weight.
class HeatMapView : public QGraphicsView {
    Q_OBJECT

public:
    explicit HeatMapView(QWidget* parent = nullptr);
    void setMap(const meswitch::HeatMap& map);
    // A finer map of a region of the same layer (from detailRequested), drawn over the map.
    void setDetail(const meswitch::HeatMap& detail);
    void zoomIn();
    void zoomOut();
    void fit();
    double zoom() const { return m_zoom; }
    // The images shown (one pixel per cell), for tests.
    QImage image() const { return m_image; }
    QImage detailImage() const { return m_detailImage; }
    const meswitch::HeatMap& detail() const { return m_detail; }

signals:
    // Layer rows [row0, row1) and input channels [col0, col1) now visible.
    void detailRequested(qint64 row0, qint64 row1, qint64 col0, qint64 col1);

protected:
    void wheelEvent(QWheelEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;

private:
    void applyZoom();
    void clearDetail();
    void requestDetail();
    QGraphicsPixmapItem* m_item = nullptr;
    QGraphicsPixmapItem* m_detailItem = nullptr;
    QTimer* m_detailTimer = nullptr;
    meswitch::HeatMap m_map;     // values dropped; geometry and max kept
    meswitch::HeatMap m_detail;  // likewise
    QImage m_image;
    QImage m_detailImage;
    double m_zoom = 1.0;  // relative to "fit"
};

class SaliencyView : public QWidget {
    Q_OBJECT

public:
    SaliencyView(QWidget* parent = nullptr);

    void setEngine(EngineHost* engine) { m_engine = engine; }
    // The layers of one run and where its models and artifact are; inspects the first layer.
    // Cells per side of the maps of a whole layer (default 256 rows × 512 columns).
    void setMapCells(std::int64_t rows, std::int64_t cols);
    void setSource(const std::filesystem::path& baseFolder,
                   const std::filesystem::path& expertFolder, const std::filesystem::path& msdFile,
                   const std::vector<std::string>& layers);
    void clear();

    QComboBox* layerCombo() const { return m_layerCombo; }
    QComboBox* mapCombo() const { return m_mapCombo; }
    QLineSeries* maxSeries() const { return m_max; }
    QLineSeries* minSeries() const { return m_min; }
    QScatterSeries* salientSeries() const { return m_salient; }
    HeatMapView* heatMap() const { return m_heatMap; }
    QLabel* statusLabel() const { return m_status; }
    const std::optional<meswitch::LayerInspection>& inspection() const { return m_inspection; }
    bool busy() const { return m_job != 0; }
    bool detailBusy() const { return m_detailJob != 0; }

signals:
    void inspected();

protected:
    void changeEvent(QEvent* event) override;

private:
    void retranslateUi();
    void inspectCurrent();
    void showInspection();
    void showMap();
    void requestDetail(qint64 row0, qint64 row1, qint64 col0, qint64 col1);

    QPointer<EngineHost> m_engine;
    std::filesystem::path m_base, m_expert, m_msd;
    quint64 m_job = 0;
    std::optional<meswitch::LayerInspection> m_inspection;
    quint64 m_detailJob = 0;
    std::optional<meswitch::LayerInspection> m_detailInspection;
    std::int64_t m_mapRows = 256, m_mapCols = 512;
    QString m_error;

    QLabel* m_layerCaption = nullptr;
    QComboBox* m_layerCombo = nullptr;
    QLabel* m_mapCaption = nullptr;
    QComboBox* m_mapCombo = nullptr;
    QToolButton* m_zoomIn = nullptr;
    QToolButton* m_zoomOut = nullptr;
    QToolButton* m_fit = nullptr;
    QLabel* m_status = nullptr;
    QChart* m_chart = nullptr;
    QChartView* m_chartView = nullptr;
    QLineSeries* m_max = nullptr;
    QLineSeries* m_min = nullptr;
    QScatterSeries* m_salient = nullptr;
    QValueAxis* m_x = nullptr;
    QValueAxis* m_y = nullptr;
    HeatMapView* m_heatMap = nullptr;
    QLabel* m_mapLegend = nullptr;
};
