#include "saliency_view.h"

#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QEvent>
#include <QGraphicsPixmapItem>
#include <QGraphicsScene>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineSeries>
#include <QPushButton>
#include <QScatterSeries>
#include <QSplitter>
#include <QVBoxLayout>
#include <QValueAxis>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>

#include "engine_worker.h"
#include "formatting.h"

using Formatting::qs;

namespace {

// A dark-to-bright ramp (black → purple → orange → yellow) for values in [0, 1].
QRgb heatColor(float t) {
    static const QColor stops[] = {QColor(0, 0, 4), QColor(87, 16, 110), QColor(188, 55, 84),
                                   QColor(249, 142, 9), QColor(252, 255, 164)};
    constexpr int n = static_cast<int>(std::size(stops)) - 1;
    t = std::clamp(t, 0.0f, 1.0f) * n;
    const int i = std::min(static_cast<int>(t), n - 1);
    const float f = t - static_cast<float>(i);
    const QColor& a = stops[i];
    const QColor& b = stops[i + 1];
    return qRgb(static_cast<int>(a.red() + f * (b.red() - a.red())),
                static_cast<int>(a.green() + f * (b.green() - a.green())),
                static_cast<int>(a.blue() + f * (b.blue() - a.blue())));
}

}  // namespace

// ----------------------------------------------------------------------------- HeatMapView

HeatMapView::HeatMapView(QWidget* parent) : QGraphicsView(parent) {
    setObjectName(QStringLiteral("heatMapView"));
    setScene(new QGraphicsScene(this));
    m_item = scene()->addPixmap(QPixmap());
    m_item->setTransformationMode(Qt::FastTransformation);  // cells stay crisp when zoomed
    setDragMode(QGraphicsView::ScrollHandDrag);
    setTransformationAnchor(QGraphicsView::AnchorUnderMouse);
    setFocusPolicy(Qt::StrongFocus);
    setBackgroundBrush(palette().window());
}

void HeatMapView::setMap(const meswitch::HeatMap& map) {
    if (map.rows <= 0 || map.cols <= 0) {
        m_image = QImage();
        m_item->setPixmap(QPixmap());
        return;
    }
    m_image = QImage(static_cast<int>(map.cols), static_cast<int>(map.rows), QImage::Format_RGB32);
    const float scale = map.max_value > 0 ? 1.0f / map.max_value : 0.0f;
    for (std::int64_t r = 0; r < map.rows; ++r) {
        auto* line = reinterpret_cast<QRgb*>(m_image.scanLine(static_cast<int>(r)));
        for (std::int64_t c = 0; c < map.cols; ++c)
            line[c] = heatColor(map.values[static_cast<std::size_t>(r * map.cols + c)] * scale);
    }
    m_item->setPixmap(QPixmap::fromImage(m_image));
    scene()->setSceneRect(m_item->boundingRect());
    m_zoom = 1.0;
    applyZoom();
}

void HeatMapView::zoomIn() {
    m_zoom = std::min(m_zoom * 1.25, 64.0);
    applyZoom();
}

void HeatMapView::zoomOut() {
    m_zoom = std::max(m_zoom / 1.25, 1.0);
    applyZoom();
}

void HeatMapView::fit() {
    m_zoom = 1.0;
    applyZoom();
}

void HeatMapView::applyZoom() {
    if (m_image.isNull()) return;
    // Zoom 1 stretches the map over the view (cells need not be square: a 4096 × 14336 layer
    // would otherwise be a thin strip).
    const QSizeF view = viewport()->size();
    const qreal sx = view.width() / m_image.width() * m_zoom;
    const qreal sy = view.height() / m_image.height() * m_zoom;
    setTransform(QTransform::fromScale(sx * 0.98, sy * 0.98));
}

void HeatMapView::wheelEvent(QWheelEvent* event) {
    if (event->angleDelta().y() > 0)
        zoomIn();
    else if (event->angleDelta().y() < 0)
        zoomOut();
    event->accept();
}

void HeatMapView::keyPressEvent(QKeyEvent* event) {
    switch (event->key()) {
        case Qt::Key_Plus:
        case Qt::Key_Equal:
            zoomIn();
            return;
        case Qt::Key_Minus:
            zoomOut();
            return;
        case Qt::Key_0:
            fit();
            return;
        default:
            QGraphicsView::keyPressEvent(event);
    }
}

void HeatMapView::resizeEvent(QResizeEvent* event) {
    QGraphicsView::resizeEvent(event);
    applyZoom();
}

// ---------------------------------------------------------------------------- SaliencyView

SaliencyView::SaliencyView(QWidget* parent) : QWidget(parent) {
    setObjectName(QStringLiteral("saliencyView"));
    m_layerCaption = new QLabel(this);
    m_layerCombo = new QComboBox(this);
    m_layerCombo->setObjectName(QStringLiteral("saliencyLayerCombo"));
    m_layerCombo->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_layerCaption->setBuddy(m_layerCombo);
    m_mapCaption = new QLabel(this);
    m_mapCombo = new QComboBox(this);
    m_mapCombo->setObjectName(QStringLiteral("saliencyMapCombo"));
    m_mapCombo->addItems({QString(), QString()});
    m_mapCaption->setBuddy(m_mapCombo);
    m_zoomIn = new QPushButton(this);
    m_zoomOut = new QPushButton(this);
    m_fit = new QPushButton(this);
    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("saliencyStatus"));
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);

    m_chart = new QChart;
    m_chart->setAnimationOptions(QChart::NoAnimation);
    m_max = new QLineSeries(m_chart);
    m_min = new QLineSeries(m_chart);
    m_salient = new QScatterSeries(m_chart);
    m_salient->setMarkerSize(9);
    m_salient->setColor(QColor(220, 30, 30));
    m_chart->addSeries(m_max);
    m_chart->addSeries(m_min);
    m_chart->addSeries(m_salient);
    m_x = new QValueAxis(m_chart);
    m_x->setLabelFormat(QStringLiteral("%d"));
    m_y = new QValueAxis(m_chart);
    m_y->setLabelFormat(QStringLiteral("%.3g"));
    m_chart->addAxis(m_x, Qt::AlignBottom);
    m_chart->addAxis(m_y, Qt::AlignLeft);
    for (auto* s : std::initializer_list<QXYSeries*>{m_max, m_min, m_salient}) {
        s->attachAxis(m_x);
        s->attachAxis(m_y);
    }
    m_chart->legend()->setAlignment(Qt::AlignBottom);
    m_chartView = new QChartView(m_chart, this);
    m_chartView->setObjectName(QStringLiteral("saliencyChartView"));
    m_chartView->setRenderHint(QPainter::Antialiasing);
    m_chartView->setRubberBand(QChartView::HorizontalRubberBand);  // drag to zoom channels
    m_chartView->setMinimumHeight(200);

    m_heatMap = new HeatMapView(this);
    m_heatMap->setMinimumHeight(200);
    m_mapLegend = new QLabel(this);
    m_mapLegend->setWordWrap(true);

    auto* top = new QHBoxLayout;
    top->addWidget(m_layerCaption);
    top->addWidget(m_layerCombo, 1);
    top->addSpacing(12);
    top->addWidget(m_mapCaption);
    top->addWidget(m_mapCombo);
    top->addWidget(m_zoomIn);
    top->addWidget(m_zoomOut);
    top->addWidget(m_fit);
    auto* mapBox = new QWidget(this);
    auto* mapLayout = new QVBoxLayout(mapBox);
    mapLayout->setContentsMargins(0, 0, 0, 0);
    mapLayout->addWidget(m_heatMap, 1);
    mapLayout->addWidget(m_mapLegend);
    auto* split = new QSplitter(Qt::Horizontal, this);
    split->addWidget(m_chartView);
    split->addWidget(mapBox);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(top);
    layout->addWidget(m_status);
    layout->addWidget(split, 1);

    setTabOrder(m_layerCombo, m_mapCombo);
    setTabOrder(m_mapCombo, m_zoomIn);
    setTabOrder(m_zoomIn, m_zoomOut);
    setTabOrder(m_zoomOut, m_fit);
    setTabOrder(m_fit, m_chartView);
    setTabOrder(m_chartView, m_heatMap);

    connect(m_layerCombo, &QComboBox::currentIndexChanged, this, &SaliencyView::inspectCurrent);
    connect(m_mapCombo, &QComboBox::currentIndexChanged, this, &SaliencyView::showMap);
    connect(m_zoomIn, &QPushButton::clicked, m_heatMap, &HeatMapView::zoomIn);
    connect(m_zoomOut, &QPushButton::clicked, m_heatMap, &HeatMapView::zoomOut);
    connect(m_fit, &QPushButton::clicked, this, [this] {
        m_heatMap->fit();
        m_chart->zoomReset();
    });
    retranslateUi();
}

void SaliencyView::retranslateUi() {
    m_layerCaption->setText(tr("&Layer:"));
    m_mapCaption->setText(tr("&Map:"));
    m_mapCombo->setItemText(0, tr("|Δ| (delta magnitude)"));
    m_mapCombo->setItemText(1, tr("Quantization error |Δ − Δ̂|"));
    m_zoomIn->setText(tr("Zoom &in"));
    m_zoomIn->setToolTip(tr("Zoom into the heat map (mouse wheel or +)"));
    m_zoomOut->setText(tr("Zoom &out"));
    m_zoomOut->setToolTip(tr("Zoom out of the heat map (mouse wheel or −)"));
    m_fit->setText(tr("&Fit"));
    m_fit->setToolTip(tr("Show the whole layer again (0)"));
    m_chart->setTitle(tr("Δ per input channel: min and max over output rows"));
    m_max->setName(tr("max Δ"));
    m_min->setName(tr("min Δ"));
    m_salient->setName(tr("salient (kept in 16 bits)"));
    m_x->setTitleText(tr("Input channel"));
    m_y->setTitleText(tr("Δ"));
    m_chartView->setToolTip(tr("Drag horizontally to zoom into channels; Fit resets"));
    if (m_inspection || !m_error.isEmpty() || m_job) showInspection();
    showMap();
}

void SaliencyView::changeEvent(QEvent* event) {
    if (event->type() == QEvent::LanguageChange) retranslateUi();
    QWidget::changeEvent(event);
}

void SaliencyView::clear() {
    if (m_job && m_engine) m_engine->cancel(m_job);
    m_job = 0;
    m_inspection.reset();
    m_error.clear();
    {
        const QSignalBlocker block(m_layerCombo);
        m_layerCombo->clear();
    }
    m_max->clear();
    m_min->clear();
    m_salient->clear();
    m_heatMap->setMap({});
    m_status->clear();
    m_mapLegend->clear();
}

void SaliencyView::setSource(const std::filesystem::path& baseFolder,
                             const std::filesystem::path& expertFolder,
                             const std::filesystem::path& msdFile,
                             const std::vector<std::string>& layers) {
    clear();
    m_base = baseFolder;
    m_expert = expertFolder;
    m_msd = msdFile;
    {
        const QSignalBlocker block(m_layerCombo);
        for (const auto& l : layers) m_layerCombo->addItem(qs(l));
    }
    if (!layers.empty()) inspectCurrent();
}

void SaliencyView::inspectCurrent() {
    if (!m_engine || m_layerCombo->currentIndex() < 0) return;
    if (m_job) m_engine->cancel(m_job);
    m_inspection.reset();
    m_error.clear();
    meswitch::LayerInspectOptions options;
    options.max_map_rows = 256;
    options.max_map_cols = 512;
    m_job = m_engine->postInspectLayer(m_base, m_expert, m_msd,
                                       m_layerCombo->currentText().toStdString(), options);
    const quint64 job = m_job;
    // One-shot connections for this job's answer.
    auto* context = new QObject(this);
    connect(m_engine, &EngineHost::finished, context,
            [this, job, context](quint64 id, const QString&, const QVariant& result) {
                if (id != job) return;
                context->deleteLater();
                if (m_job != job) return;
                m_job = 0;
                m_inspection = result.value<meswitch::LayerInspection>();
                showInspection();
                showMap();
                emit inspected();
            });
    connect(
        m_engine, &EngineHost::failed, context,
        [this, job, context](quint64 id, const QString&, const QString& message, bool cancelled) {
            if (id != job) return;
            context->deleteLater();
            if (m_job != job) return;
            m_job = 0;
            m_error = cancelled ? QString() : message;
            showInspection();
            emit inspected();
        });
    showInspection();
}

void SaliencyView::showInspection() {
    if (m_job) {
        m_status->setText(
            tr("Reading %1 from the models and the artifact…").arg(m_layerCombo->currentText()));
        return;
    }
    if (!m_error.isEmpty()) {
        m_status->setText(tr("This layer could not be inspected:\n%1").arg(m_error));
        return;
    }
    if (!m_inspection) return;
    const auto& li = *m_inspection;
    QList<QPointF> maxPts, minPts, salientPts;
    maxPts.reserve(static_cast<int>(li.cols));
    minPts.reserve(static_cast<int>(li.cols));
    float lo = 0, hi = 0;
    for (std::int64_t i = 0; i < li.cols; ++i) {
        maxPts.append({static_cast<qreal>(i), li.channel_max[i]});
        minPts.append({static_cast<qreal>(i), li.channel_min[i]});
        lo = std::min(lo, li.channel_min[i]);
        hi = std::max(hi, li.channel_max[i]);
    }
    for (std::int64_t c : li.salient) {
        const float top = std::fabs(li.channel_max[c]) >= std::fabs(li.channel_min[c])
                              ? li.channel_max[c]
                              : li.channel_min[c];
        salientPts.append({static_cast<qreal>(c), top});
    }
    m_max->replace(maxPts);
    m_min->replace(minPts);
    m_salient->replace(salientPts);
    m_x->setRange(0, std::max<qreal>(1, static_cast<qreal>(li.cols - 1)));
    const float pad = std::max(1e-6f, (hi - lo) * 0.05f);
    m_y->setRange(lo - pad, hi + pad);
    QString text =
        tr("%1: %2 × %3 (outputs × input channels)").arg(qs(li.layer)).arg(li.rows).arg(li.cols);
    if (li.has_artifact)
        text += QStringLiteral("\n") +
                tr("%1 salient input channels kept in 16 bits (%2 %3-bit); relative weight error "
                   "‖Δ − Δ̂‖/‖Δ‖ = %4")
                    .arg(li.salient.size())
                    .arg(Formatting::methodName(li.method))
                    .arg(li.bits)
                    .arg(li.rel_weight_error, 0, 'f', 4);
    else
        text += QStringLiteral("\n") + tr("The artifact does not store this layer.");
    m_status->setText(text);
}

void SaliencyView::showMap() {
    if (!m_inspection) {
        m_heatMap->setMap({});
        return;
    }
    const bool error = m_mapCombo->currentIndex() == 1;
    const auto& map = error ? m_inspection->error_abs : m_inspection->delta_abs;
    m_heatMap->setMap(map);
    if (map.rows == 0) {
        m_mapLegend->setText(
            tr("No quantization error to show: the artifact does not store "
               "this layer."));
        return;
    }
    m_mapLegend->setText(tr("Rows: output channels %1–%2; columns: input channels %3–%4; each "
                            "cell shows the largest value of its block. Black 0 → yellow %5.")
                             .arg(map.row0)
                             .arg(map.row1 - 1)
                             .arg(map.col0)
                             .arg(map.col1 - 1)
                             .arg(static_cast<double>(map.max_value), 0, 'g', 3));
}
