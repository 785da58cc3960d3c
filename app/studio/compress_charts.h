// The Compress page's charts (Qt Charts): per-layer relative output error of ME-Switch (or the
// chosen method) against the RTN baseline at the same bits, bits per parameter per layer, and
// the expert's size before and after compression.
#pragma once

#include <QWidget>

#include <cstdint>
#include <vector>

#include "meswitch/catalog.h"

class QBarSet;
class QBarSeries;
class QChart;
class QChartView;
class QLineSeries;
class QScatterSeries;
class QTabWidget;
class QValueAxis;
class QBarCategoryAxis;

class CompressCharts : public QWidget {
    Q_OBJECT

public:
    explicit CompressCharts(QWidget* parent = nullptr);

    // Empties every chart.
    void clear();
    // Adds one layer's statistics (x = its position in the run).
    void addLayer(const meswitch::LayerStat& layer);
    void setLayers(const std::vector<meswitch::LayerStat>& layers);
    // Size before (the expert's weights) and after (the .msd artifact), in bytes.
    void setSizes(std::int64_t beforeBytes, std::int64_t afterBytes);

    QValueAxis* errorAxisX() const { return m_errorX; }
    QValueAxis* sizeAxisY() const { return m_sizeY; }
    QBarSeries* sizeSeries() const { return m_sizeSeries; }
    // Display name of the method in the legend ("ME-Switch", "RTN", …).
    void setMethodName(const QString& name);

    QLineSeries* methodErrorSeries() const { return m_methodError; }
    QLineSeries* baselineErrorSeries() const { return m_baselineError; }
    QLineSeries* bitsSeries() const { return m_bits; }
    QBarSet* sizeSet() const { return m_sizeSet; }
    QChartView* errorView() const { return m_errorView; }
    QChartView* bitsView() const { return m_bitsView; }
    QChartView* sizeView() const { return m_sizeView; }
    int layerCount() const { return static_cast<int>(m_layers.size()); }
    const std::vector<meswitch::LayerStat>& layers() const { return m_layers; }

protected:
    void changeEvent(QEvent* event) override;

private:
    void retranslateUi();
    void rescale();

    std::vector<meswitch::LayerStat> m_layers;
    QString m_methodName;
    std::int64_t m_before = 0, m_after = 0;
    QTabWidget* m_tabs = nullptr;
    QChart* m_errorChart = nullptr;
    QChartView* m_errorView = nullptr;
    QLineSeries* m_methodError = nullptr;
    QLineSeries* m_baselineError = nullptr;
    QValueAxis* m_errorX = nullptr;
    QValueAxis* m_errorY = nullptr;
    QChart* m_bitsChart = nullptr;
    QChartView* m_bitsView = nullptr;
    QLineSeries* m_bits = nullptr;
    QValueAxis* m_bitsX = nullptr;
    QValueAxis* m_bitsY = nullptr;
    QChart* m_sizeChart = nullptr;
    QChartView* m_sizeView = nullptr;
    QBarSeries* m_sizeSeries = nullptr;
    QBarSet* m_sizeSet = nullptr;
    QBarCategoryAxis* m_sizeX = nullptr;
    QValueAxis* m_sizeY = nullptr;
};
