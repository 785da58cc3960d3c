#include "compress_charts.h"

#include <QBarCategoryAxis>
#include <QBarSeries>
#include <QBarSet>
#include <QChart>
#include <QChartView>
#include <QEvent>
#include <QLineSeries>
#include <QTabWidget>
#include <QVBoxLayout>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

#include "formatting.h"

using Formatting::qs;

namespace {

QChartView* makeView(QChart* chart, QWidget* parent, const char* name) {
    chart->setAnimationOptions(QChart::NoAnimation);  // live updates must stay cheap
    chart->legend()->setAlignment(Qt::AlignBottom);
    auto* view = new QChartView(chart, parent);
    view->setObjectName(QLatin1String(name));
    view->setRenderHint(QPainter::Antialiasing);
    view->setMinimumHeight(220);
    return view;
}

// The short layer name shown in tooltips: "model.layers.3.mlp.down_proj.weight" → "3 down_proj".
QString shortLayer(const std::string& name) {
    QString s = qs(name);
    s.remove(QStringLiteral("model.layers."));
    s.remove(QStringLiteral(".weight"));
    s.replace(QStringLiteral(".self_attn."), QStringLiteral(" "));
    s.replace(QStringLiteral(".mlp."), QStringLiteral(" "));
    return s;
}

}  // namespace

CompressCharts::CompressCharts(QWidget* parent) : QWidget(parent) {
    m_tabs = new QTabWidget(this);
    m_tabs->setObjectName(QStringLiteral("compressChartTabs"));

    m_errorChart = new QChart;
    m_methodError = new QLineSeries(m_errorChart);
    m_methodError->setObjectName(QStringLiteral("methodErrorSeries"));
    m_methodError->setPointsVisible(true);
    m_baselineError = new QLineSeries(m_errorChart);
    m_baselineError->setObjectName(QStringLiteral("baselineErrorSeries"));
    m_baselineError->setPointsVisible(true);
    m_errorChart->addSeries(m_methodError);
    m_errorChart->addSeries(m_baselineError);
    m_errorX = new QValueAxis(m_errorChart);
    m_errorX->setLabelFormat(QStringLiteral("%d"));
    m_errorY = new QValueAxis(m_errorChart);
    m_errorY->setLabelFormat(QStringLiteral("%.2f"));
    m_errorChart->addAxis(m_errorX, Qt::AlignBottom);
    m_errorChart->addAxis(m_errorY, Qt::AlignLeft);
    for (auto* s : {m_methodError, m_baselineError}) {
        s->attachAxis(m_errorX);
        s->attachAxis(m_errorY);
    }
    m_errorView = makeView(m_errorChart, this, "errorChartView");

    m_bitsChart = new QChart;
    m_bits = new QLineSeries(m_bitsChart);
    m_bits->setObjectName(QStringLiteral("bitsSeries"));
    m_bits->setPointsVisible(true);
    m_bitsChart->addSeries(m_bits);
    m_bitsX = new QValueAxis(m_bitsChart);
    m_bitsX->setLabelFormat(QStringLiteral("%d"));
    m_bitsY = new QValueAxis(m_bitsChart);
    m_bitsY->setLabelFormat(QStringLiteral("%.2f"));
    m_bitsChart->addAxis(m_bitsX, Qt::AlignBottom);
    m_bitsChart->addAxis(m_bitsY, Qt::AlignLeft);
    m_bits->attachAxis(m_bitsX);
    m_bits->attachAxis(m_bitsY);
    m_bitsView = makeView(m_bitsChart, this, "bitsChartView");

    m_sizeChart = new QChart;
    m_sizeSeries = new QBarSeries(m_sizeChart);
    m_sizeSet = new QBarSet(QString(), m_sizeSeries);
    m_sizeSeries->append(m_sizeSet);
    m_sizeSeries->setLabelsVisible(true);
    m_sizeSeries->setLabelsPrecision(4);  // "0.7747", not the raw double
    m_sizeChart->addSeries(m_sizeSeries);
    m_sizeX = new QBarCategoryAxis(m_sizeChart);
    m_sizeY = new QValueAxis(m_sizeChart);
    m_sizeY->setLabelFormat(QStringLiteral("%.1f"));
    m_sizeChart->addAxis(m_sizeX, Qt::AlignBottom);
    m_sizeChart->addAxis(m_sizeY, Qt::AlignLeft);
    m_sizeSeries->attachAxis(m_sizeX);
    m_sizeSeries->attachAxis(m_sizeY);
    m_sizeChart->legend()->setVisible(false);
    m_sizeView = makeView(m_sizeChart, this, "sizeChartView");

    m_tabs->addTab(m_errorView, QString());
    m_tabs->addTab(m_bitsView, QString());
    m_tabs->addTab(m_sizeView, QString());
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_tabs);
    m_methodName = tr("ME-Switch");
    retranslateUi();
    rescale();
}

void CompressCharts::retranslateUi() {
    m_tabs->setTabText(0, tr("Output error per layer"));
    m_tabs->setTabText(1, tr("Bits per parameter"));
    m_tabs->setTabText(2, tr("Size"));
    m_errorChart->setTitle(tr("Relative output error ‖X(Δ−Δ̂)ᵀ‖ / ‖XΔᵀ‖ per layer"));
    m_methodError->setName(m_methodName);
    m_baselineError->setName(tr("RTN baseline (same bits)"));
    m_errorX->setTitleText(tr("Layer"));
    m_errorY->setTitleText(tr("Relative error"));
    m_bitsChart->setTitle(tr("Stored bits per parameter per layer"));
    m_bits->setName(tr("bits / parameter"));
    m_bitsX->setTitleText(tr("Layer"));
    m_bitsY->setTitleText(tr("Bits"));
    m_sizeChart->setTitle(tr("Expert size before and after compression"));
    m_sizeX->clear();
    m_sizeX->append({tr("Expert weights"), tr("Compressed delta")});
    m_sizeY->setTitleText(tr("MiB"));
}

void CompressCharts::changeEvent(QEvent* event) {
    if (event->type() == QEvent::LanguageChange) retranslateUi();
    QWidget::changeEvent(event);
}

void CompressCharts::setMethodName(const QString& name) {
    m_methodName = name;
    m_methodError->setName(name);
}

void CompressCharts::clear() {
    m_layers.clear();
    m_methodError->clear();
    m_baselineError->clear();
    m_bits->clear();
    setSizes(0, 0);
    rescale();
}

void CompressCharts::addLayer(const meswitch::LayerStat& layer) {
    const qreal x = static_cast<qreal>(m_layers.size());
    m_layers.push_back(layer);
    m_methodError->append(x, layer.rel_output_error);
    if (layer.baseline_rel_output_error >= 0)
        m_baselineError->append(x, layer.baseline_rel_output_error);
    m_bits->append(x, layer.bits_per_param);
    rescale();
}

void CompressCharts::setLayers(const std::vector<meswitch::LayerStat>& layers) {
    m_layers = layers;
    QList<QPointF> method, baseline, bits;
    for (std::size_t i = 0; i < layers.size(); ++i) {
        const qreal x = static_cast<qreal>(i);
        method.append({x, layers[i].rel_output_error});
        if (layers[i].baseline_rel_output_error >= 0)
            baseline.append({x, layers[i].baseline_rel_output_error});
        bits.append({x, layers[i].bits_per_param});
    }
    m_methodError->replace(method);
    m_baselineError->replace(baseline);
    m_bits->replace(bits);
    QStringList names;
    for (const auto& l : layers) names << shortLayer(l.layer);
    m_errorView->setToolTip(
        names.isEmpty() ? QString() : tr("Layers: %1").arg(names.join(QStringLiteral(", "))));
    rescale();
}

void CompressCharts::setSizes(std::int64_t beforeBytes, std::int64_t afterBytes) {
    m_before = beforeBytes;
    m_after = afterBytes;
    m_sizeSet->remove(0, m_sizeSet->count());
    if (beforeBytes > 0 || afterBytes > 0)
        m_sizeSet->append({beforeBytes / 1048576.0, afterBytes / 1048576.0});
    // An empty chart gets a plain 0..1 axis, not five ticks that all read "0.0".
    const double maxMiB = std::max(beforeBytes, afterBytes) / 1048576.0;
    m_sizeY->setRange(0, maxMiB > 0 ? maxMiB * 1.15 : 1.0);
    m_sizeView->setToolTip(
        beforeBytes > 0 && afterBytes > 0
            ? tr("%1 → %2 (%3× smaller)")
                  .arg(Formatting::byteSize(beforeBytes), Formatting::byteSize(afterBytes))
                  .arg(static_cast<double>(beforeBytes) / static_cast<double>(afterBytes), 0, 'f',
                       2)
            : QString());
}

void CompressCharts::rescale() {
    const qreal n = std::max<qreal>(1, static_cast<qreal>(m_layers.size()) - 1);
    double maxErr = 0, maxBits = 0;
    for (const auto& l : m_layers) {
        maxErr = std::max({maxErr, l.rel_output_error, l.baseline_rel_output_error});
        maxBits = std::max(maxBits, l.bits_per_param);
    }
    // Whole layer numbers only: ticks every step layers from 0 (an empty chart reads "0 1",
    // not "0 0 0 0 1").
    const qreal step = std::max<qreal>(1, std::ceil(n / 5));
    for (auto* axis : {m_errorX, m_bitsX}) {
        axis->setTickType(QValueAxis::TicksDynamic);
        axis->setTickAnchor(0);
        axis->setTickInterval(step);
    }
    m_errorX->setRange(0, n);
    m_errorY->setRange(0, maxErr > 0 ? maxErr * 1.1 : 1.0);
    m_bitsX->setRange(0, n);
    m_bitsY->setRange(0, maxBits > 0 ? maxBits * 1.15 : 4.0);
}
