#include "saliency_view.h"

#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QEvent>
#include <QGraphicsLayout>
#include <QGraphicsPixmapItem>
#include <QGraphicsScene>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QLineSeries>
#include <QScatterSeries>
#include <QScrollBar>
#include <QSplitter>
#include <QTimer>
#include <QToolButton>
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

QImage toImage(const meswitch::HeatMap& map, float maxValue) {
    QImage image(static_cast<int>(map.cols), static_cast<int>(map.rows), QImage::Format_RGB32);
    const float scale = maxValue > 0 ? 1.0f / maxValue : 0.0f;
    for (std::int64_t r = 0; r < map.rows; ++r) {
        auto* line = reinterpret_cast<QRgb*>(image.scanLine(static_cast<int>(r)));
        for (std::int64_t c = 0; c < map.cols; ++c)
            line[c] = heatColor(map.values[static_cast<std::size_t>(r * map.cols + c)] * scale);
    }
    return image;
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
    m_detailItem = scene()->addPixmap(QPixmap());
    m_detailItem->setTransformationMode(Qt::FastTransformation);
    m_detailItem->setZValue(1);
    m_detailTimer = new QTimer(this);
    m_detailTimer->setSingleShot(true);
    m_detailTimer->setInterval(250);  // once the user stops zooming or scrolling
    connect(m_detailTimer, &QTimer::timeout, this, &HeatMapView::requestDetail);
    for (QScrollBar* bar : {horizontalScrollBar(), verticalScrollBar()})
        connect(bar, &QScrollBar::valueChanged, this, [this] {
            if (m_zoom >= 2.0) m_detailTimer->start();
        });
}

void HeatMapView::setMap(const meswitch::HeatMap& map) {
    const bool sameGeometry = map.rows == m_map.rows && map.cols == m_map.cols &&
                              map.row0 == m_map.row0 && map.row1 == m_map.row1 &&
                              map.col0 == m_map.col0 && map.col1 == m_map.col1;
    clearDetail();
    m_map = map;
    m_map.values.clear();
    if (map.rows <= 0 || map.cols <= 0) {
        m_image = QImage();
        m_item->setPixmap(QPixmap());
        return;
    }
    m_image = toImage(map, map.max_value);
    m_item->setPixmap(QPixmap::fromImage(m_image));
    scene()->setSceneRect(m_item->boundingRect());
    if (!sameGeometry) m_zoom = 1.0;  // the other map of the same layer keeps the view
    applyZoom();
}

void HeatMapView::clearDetail() {
    m_detailTimer->stop();
    m_detail = {};
    m_detailImage = QImage();
    m_detailItem->setPixmap(QPixmap());
}

void HeatMapView::setDetail(const meswitch::HeatMap& d) {
    const std::int64_t layerRows = m_map.row1 - m_map.row0, layerCols = m_map.col1 - m_map.col0;
    if (m_image.isNull() || d.rows <= 0 || d.cols <= 0 || layerRows <= 0 || layerCols <= 0 ||
        d.row0 < m_map.row0 || d.row1 > m_map.row1 || d.col0 < m_map.col0 || d.col1 > m_map.col1)
        return;
    // The same colour scale as the whole-layer map (a block maximum bounds every cell in it).
    m_detailImage = toImage(d, m_map.max_value);
    m_detail = d;
    m_detail.values.clear();
    const qreal sx = static_cast<qreal>(m_map.cols) / static_cast<qreal>(layerCols);
    const qreal sy = static_cast<qreal>(m_map.rows) / static_cast<qreal>(layerRows);
    m_detailItem->setPixmap(QPixmap::fromImage(m_detailImage));
    m_detailItem->setPos(static_cast<qreal>(d.col0 - m_map.col0) * sx,
                         static_cast<qreal>(d.row0 - m_map.row0) * sy);
    m_detailItem->setTransform(QTransform::fromScale(
        static_cast<qreal>(d.col1 - d.col0) * sx / static_cast<qreal>(d.cols),
        static_cast<qreal>(d.row1 - d.row0) * sy / static_cast<qreal>(d.rows)));
}

void HeatMapView::requestDetail() {
    const std::int64_t layerRows = m_map.row1 - m_map.row0, layerCols = m_map.col1 - m_map.col0;
    const bool shrunk = m_map.rows < layerRows || m_map.cols < layerCols;
    if (m_image.isNull() || m_zoom < 2.0 || !shrunk) return;
    const QRectF visible =
        mapToScene(viewport()->rect()).boundingRect().intersected(scene()->sceneRect());
    if (visible.isEmpty()) return;
    const double fx = static_cast<double>(layerCols) / static_cast<double>(m_map.cols);
    const double fy = static_cast<double>(layerRows) / static_cast<double>(m_map.rows);
    const auto clampTo = [](double v, std::int64_t lo, std::int64_t hi) {
        return std::clamp(static_cast<std::int64_t>(v), lo, hi);
    };
    const std::int64_t c0 = clampTo(std::floor(visible.left() * fx), 0, layerCols - 1);
    const std::int64_t c1 = clampTo(std::ceil(visible.right() * fx), c0 + 1, layerCols);
    const std::int64_t r0 = clampTo(std::floor(visible.top() * fy), 0, layerRows - 1);
    const std::int64_t r1 = clampTo(std::ceil(visible.bottom() * fy), r0 + 1, layerRows);
    emit detailRequested(m_map.row0 + r0, m_map.row0 + r1, m_map.col0 + c0, m_map.col0 + c1);
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
    if (m_zoom >= 2.0)
        m_detailTimer->start();
    else
        clearDetail();
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
    m_zoomIn = new QToolButton(this);
    m_zoomOut = new QToolButton(this);
    m_fit = new QToolButton(this);
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
    m_chartView->setMinimumHeight(180);

    m_heatMap = new HeatMapView(this);
    m_heatMap->setMinimumHeight(150);
    m_mapLegend = new QLabel(this);
    m_mapLegend->setWordWrap(true);

    // Two rows: a layer name ("model.layers.0.self_attn.q_proj.weight") takes a row of its
    // own, so it is shown whole and never pushes into the map controls.
    auto* layerRow = new QHBoxLayout;
    layerRow->addWidget(m_layerCombo, 1);
    auto* mapRow = new QHBoxLayout;
    mapRow->addWidget(m_mapCombo);
    mapRow->addStretch(1);
    mapRow->addWidget(m_zoomIn);
    mapRow->addWidget(m_zoomOut);
    mapRow->addWidget(m_fit);
    auto* top = new QGridLayout;
    top->addWidget(m_layerCaption, 0, 0);
    top->addLayout(layerRow, 0, 1);
    top->addWidget(m_mapCaption, 1, 0);
    top->addLayout(mapRow, 1, 1);
    top->setColumnStretch(1, 1);
    auto* mapBox = new QWidget(this);
    auto* mapLayout = new QVBoxLayout(mapBox);
    mapLayout->setContentsMargins(0, 0, 0, 0);
    mapLayout->addWidget(m_heatMap, 1);
    mapLayout->addWidget(m_mapLegend);
    // Chart above the heat map: side by side they would make the Compress page wider than the
    // window's default size.
    auto* split = new QSplitter(Qt::Vertical, this);
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
    connect(m_heatMap, &HeatMapView::detailRequested, this, &SaliencyView::requestDetail);
    connect(m_zoomIn, &QToolButton::clicked, m_heatMap, &HeatMapView::zoomIn);
    connect(m_zoomOut, &QToolButton::clicked, m_heatMap, &HeatMapView::zoomOut);
    connect(m_fit, &QToolButton::clicked, this, [this] {
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
    m_zoomIn->setToolTip(
        tr("Zoom into the heat map (mouse wheel or +); from 2× on, the "
           "visible part is read again in finer detail"));
    m_zoomOut->setText(tr("Zoom &out"));
    m_zoomOut->setToolTip(tr("Zoom out of the heat map (mouse wheel or −)"));
    m_fit->setText(tr("&Fit"));
    m_fit->setToolTip(tr("Show the whole layer again (0)"));
    m_chart->setTitle(tr("Δ per input channel: min and max over output rows"));
    m_max->setName(tr("max Δ"));
    m_min->setName(tr("min Δ"));
    m_salient->setName(tr("salient (kept in 16 bits)"));
    // The chart's title and legend are never cut: the chart is at least as wide as they need
    // (in this language), with the chart's and the view's margins around them.
    const QFontMetrics lfm(m_chart->legend()->font());
    int legend = 0;
    for (const QXYSeries* s : std::initializer_list<const QXYSeries*>{m_max, m_min, m_salient})
        legend += lfm.horizontalAdvance(s->name()) + 2 * lfm.height() + 8;
    const int title = QFontMetrics(m_chart->titleFont()).horizontalAdvance(m_chart->title());
    qreal left = 0, top = 0, right = 0, bottom = 0;
    if (m_chart->layout()) m_chart->layout()->getContentsMargins(&left, &top, &right, &bottom);
    m_chartView->setMinimumWidth(std::max(legend, title) + m_chart->margins().left() +
                                 m_chart->margins().right() + static_cast<int>(left + right) +
                                 2 * m_chartView->frameWidth() + 16);
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

void SaliencyView::setMapCells(std::int64_t rows, std::int64_t cols) {
    m_mapRows = std::max<std::int64_t>(1, rows);
    m_mapCols = std::max<std::int64_t>(1, cols);
}

void SaliencyView::clear() {
    if (m_job && m_engine) m_engine->cancel(m_job);
    if (m_detailJob && m_engine) m_engine->cancel(m_detailJob);
    m_job = 0;
    m_detailJob = 0;
    m_inspection.reset();
    m_detailInspection.reset();
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
    if (m_detailJob) m_engine->cancel(m_detailJob);
    m_detailJob = 0;
    m_inspection.reset();
    m_detailInspection.reset();
    m_error.clear();
    meswitch::LayerInspectOptions options;
    options.max_map_rows = m_mapRows;
    options.max_map_cols = m_mapCols;
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

void SaliencyView::requestDetail(qint64 row0, qint64 row1, qint64 col0, qint64 col1) {
    if (!m_engine || !m_inspection || m_job) return;
    if (m_detailJob) m_engine->cancel(m_detailJob);
    meswitch::LayerInspectOptions options;
    options.max_map_rows = m_mapRows;
    options.max_map_cols = m_mapCols;
    options.row0 = row0;
    options.row1 = row1;
    options.col0 = col0;
    options.col1 = col1;
    m_detailJob = m_engine->postInspectLayer(m_base, m_expert, m_msd, m_inspection->layer, options);
    const quint64 job = m_detailJob;
    auto* context = new QObject(this);
    connect(m_engine, &EngineHost::finished, context,
            [this, job, context](quint64 id, const QString&, const QVariant& result) {
                if (id != job) return;
                context->deleteLater();
                if (m_detailJob != job) return;
                m_detailJob = 0;
                auto detail = result.value<meswitch::LayerInspection>();
                if (!m_inspection || detail.layer != m_inspection->layer) return;
                m_detailInspection = std::move(detail);
                const bool error = m_mapCombo->currentIndex() == 1;
                m_heatMap->setDetail(error ? m_detailInspection->error_abs
                                           : m_detailInspection->delta_abs);
            });
    connect(
        m_engine, &EngineHost::failed, context,
        [this, job, context](quint64 id, const QString&, const QString& message, bool cancelled) {
            if (id != job) return;
            context->deleteLater();
            if (m_detailJob != job) return;
            m_detailJob = 0;
            if (!cancelled) m_status->setText(tr("The detail could not be read:\n%1").arg(message));
        });
}

void SaliencyView::showMap() {
    if (!m_inspection) {
        m_heatMap->setMap({});
        return;
    }
    const bool error = m_mapCombo->currentIndex() == 1;
    const auto& map = error ? m_inspection->error_abs : m_inspection->delta_abs;
    m_heatMap->setMap(map);
    if (m_detailInspection && m_detailInspection->layer == m_inspection->layer)
        m_heatMap->setDetail(error ? m_detailInspection->error_abs : m_detailInspection->delta_abs);
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
