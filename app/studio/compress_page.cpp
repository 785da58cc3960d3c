#include "compress_page.h"

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPainter>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QStyle>
#include <QTabWidget>
#include <QTimer>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>

#include "compress_charts.h"
#include "engine_worker.h"
#include "formatting.h"
#include "saliency_view.h"

using Formatting::qs;

namespace {

QString duration(double seconds) {
    const auto s = static_cast<qint64>(std::max(0.0, seconds) + 0.5);
    if (s >= 3600)
        return QStringLiteral("%1:%2:%3")
            .arg(s / 3600)
            .arg((s / 60) % 60, 2, 10, QLatin1Char('0'))
            .arg(s % 60, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
}

// The navigation icon, drawn like the others (32 and 64 px): a block pressed between two
// arrows. The theme's or style's icons were 16 px and looked smaller than the rest.
QIcon compressIcon() {
    return StudioPage::drawnIcon([](QPainter& p) {
        const QColor blue(0x2f, 0x6f, 0xb3), orange(0xe0, 0x8a, 0x00);
        p.setPen(QPen(blue, 2.4, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
        p.setBrush(QColor(0xdb, 0xe7, 0xf5));
        p.drawRoundedRect(QRectF(5, 11.5, 22, 9), 2, 2);
        p.setPen(QPen(orange, 2.4, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
        p.setBrush(Qt::NoBrush);
        for (double dir : {1.0, -1.0}) {  // down onto the block from the top, up from below
            const double tip = 16 - dir * 7.5, tail = 16 - dir * 14.5;
            p.drawLine(QPointF(16, tail), QPointF(16, tip));
            p.drawPolyline(QPolygonF({QPointF(11.5, tip - dir * 4.5), QPointF(16, tip),
                                      QPointF(20.5, tip - dir * 4.5)}));
        }
    });
}

// The input channels SalientSpec::count keeps of a layer with `cols` inputs for `percent` %:
// round to nearest, at most all of them (the engine's rule, engine/src/delta/quant).
std::int64_t salientChannels(double percent, std::int64_t cols) {
    if (cols <= 0 || !(percent > 0)) return 0;
    const double k = std::round(percent / 100.0 * static_cast<double>(cols));
    return k >= static_cast<double>(cols) ? cols : static_cast<std::int64_t>(k);
}

// The smallest percentage with two decimals (the spin box's) that keeps a channel of `cols`.
double leastPercentKeepingOne(std::int64_t cols) {
    double p = std::ceil(5000.0 / static_cast<double>(cols)) / 100.0;
    while (salientChannels(p, cols) < 1) p += 0.01;
    return p;
}

// Lets a long layer name ("model.layers.0.self_attn.q_proj.weight") wrap at its dots.
QString breakable(QString text) {
    text.replace(QLatin1Char('.'), QStringLiteral(".\u200b"));
    text.replace(QLatin1Char('_'), QStringLiteral("_\u200b"));
    return text;
}

// "2026-12-03T08:07:38.220Z" (the catalog's UTC) → "2026-12-03 09:07" in local time.
QString runDate(const std::string& iso) {
    QDateTime t = QDateTime::fromString(qs(iso), Qt::ISODateWithMs);
    if (!t.isValid()) t = QDateTime::fromString(qs(iso), Qt::ISODate);
    return t.isValid() ? t.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm")) : qs(iso);
}

enum RunColumn { RunDate, RunMethod, RunSalient, RunStatus, RunError, RunColumns };

}  // namespace

CompressPage::CompressPage(meswitch::Catalog& catalog, QWidget* parent)
    : StudioPage(QStringLiteral("compress"), compressIcon(), parent), m_catalog(catalog) {
    // ---- settings
    m_settingsGroup = new QGroupBox(this);
    m_expertCaption = new QLabel(m_settingsGroup);
    m_expertCombo = new QComboBox(m_settingsGroup);
    m_expertCombo->setObjectName(QStringLiteral("compressExpertCombo"));
    m_expertCaption->setBuddy(m_expertCombo);
    m_methodCaption = new QLabel(m_settingsGroup);
    m_methodCombo = new QComboBox(m_settingsGroup);
    m_methodCombo->setObjectName(QStringLiteral("compressMethodCombo"));
    for (const char* m : {"meswitch", "rtn", "bitdelta"})
        m_methodCombo->addItem(Formatting::methodName(m), QString::fromLatin1(m));
    m_methodCaption->setBuddy(m_methodCombo);
    m_bitsCaption = new QLabel(m_settingsGroup);
    m_bitsSpin = new QSpinBox(m_settingsGroup);
    m_bitsSpin->setObjectName(QStringLiteral("compressBitsSpin"));
    m_bitsSpin->setRange(1, 4);
    m_bitsSpin->setValue(2);
    m_bitsCaption->setBuddy(m_bitsSpin);
    m_salientCaption = new QLabel(m_settingsGroup);
    m_salientSpin = new QDoubleSpinBox(m_settingsGroup);
    m_salientSpin->setObjectName(QStringLiteral("compressSalientSpin"));
    m_salientSpin->setRange(0.0, 50.0);
    m_salientSpin->setDecimals(2);
    m_salientSpin->setSingleStep(0.25);
    m_salientSpin->setValue(0.5);
    m_salientSpin->setSuffix(QStringLiteral(" %"));
    m_salientCaption->setBuddy(m_salientSpin);
    m_salientInfo = new QLabel(m_settingsGroup);
    m_salientInfo->setObjectName(QStringLiteral("compressSalientInfo"));
    m_salientInfo->setWordWrap(true);
    m_calibrationCaption = new QLabel(m_settingsGroup);
    m_calibrationCombo = new QComboBox(m_settingsGroup);
    m_calibrationCombo->setObjectName(QStringLiteral("compressCalibrationCombo"));
    m_calibrationCombo->addItems({QString(), QString()});
    m_calibrationCaption->setBuddy(m_calibrationCombo);
    m_calibrationFile = new QLineEdit(m_settingsGroup);
    m_calibrationFile->setObjectName(QStringLiteral("compressCalibrationFile"));
    m_browseCalibration = new QPushButton(m_settingsGroup);
    m_baselineCheck = new QCheckBox(m_settingsGroup);
    m_baselineCheck->setObjectName(QStringLiteral("compressBaselineCheck"));
    m_baselineCheck->setChecked(true);
    m_compressButton = new QPushButton(m_settingsGroup);
    m_compressButton->setObjectName(QStringLiteral("compressButton"));
    m_compressButton->setDefault(true);
    m_cancelButton = new QPushButton(m_settingsGroup);
    m_cancelButton->setObjectName(QStringLiteral("compressCancelButton"));
    m_cancelButton->setShortcut(QKeySequence(Qt::Key_Escape));

    auto* form = new QGridLayout(m_settingsGroup);
    form->addWidget(m_expertCaption, 0, 0);
    form->addWidget(m_expertCombo, 0, 1, 1, 2);
    form->addWidget(m_methodCaption, 1, 0);
    form->addWidget(m_methodCombo, 1, 1, 1, 2);
    form->addWidget(m_bitsCaption, 2, 0);
    form->addWidget(m_bitsSpin, 2, 1, 1, 2);
    form->addWidget(m_salientCaption, 3, 0);
    form->addWidget(m_salientSpin, 3, 1, 1, 2);
    form->addWidget(m_salientInfo, 4, 1, 1, 2);
    form->addWidget(m_calibrationCaption, 5, 0);
    form->addWidget(m_calibrationCombo, 5, 1, 1, 2);
    form->addWidget(m_calibrationFile, 6, 1);
    form->addWidget(m_browseCalibration, 6, 2);
    form->addWidget(m_baselineCheck, 7, 0, 1, 3);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_compressButton);
    buttons->addWidget(m_cancelButton);
    buttons->addStretch(1);
    form->addLayout(buttons, 8, 0, 1, 3);
    form->setColumnStretch(1, 1);

    // ---- progress
    m_progress = new QProgressBar(this);
    m_progress->setObjectName(QStringLiteral("compressProgress"));
    m_progress->setRange(0, 1000);
    m_progress->setValue(0);
    m_stepLabel = new QLabel(this);
    m_stepLabel->setObjectName(QStringLiteral("compressStepLabel"));
    m_stepLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_stepLabel->setWordWrap(true);  // never widens the panel (layer names wrap at dots)
    m_timeLabel = new QLabel(this);
    m_timeLabel->setObjectName(QStringLiteral("compressTimeLabel"));
    m_timeLabel->setWordWrap(true);
    m_message = new QLabel(this);
    m_message->setObjectName(QStringLiteral("compressMessage"));
    m_message->setWordWrap(true);
    m_message->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_message->setVisible(false);
    m_clock = new QTimer(this);
    m_clock->setInterval(500);
    connect(m_clock, &QTimer::timeout, this, &CompressPage::updateTime);

    // ---- runs
    m_runsGroup = new QGroupBox(this);
    m_runs = new QTreeWidget(m_runsGroup);
    m_runs->setObjectName(QStringLiteral("compressRunsView"));
    m_runs->setColumnCount(RunColumns);
    m_runs->setRootIsDecorated(false);
    m_runs->setUniformRowHeights(true);
    m_runs->setAlternatingRowColors(true);
    m_runs->header()->setStretchLastSection(true);
    m_runs->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);  // columns sized to fit
    auto* runsLayout = new QVBoxLayout(m_runsGroup);
    runsLayout->addWidget(m_runs);

    auto* left = m_leftPanel = new QWidget(this);
    left->setObjectName(QStringLiteral("compressLeftPanel"));
    auto* leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    leftLayout->addWidget(m_settingsGroup);
    leftLayout->addWidget(m_progress);
    leftLayout->addWidget(m_stepLabel);
    leftLayout->addWidget(m_timeLabel);
    leftLayout->addWidget(m_message);
    leftLayout->addWidget(m_runsGroup, 1);

    // ---- charts and saliency
    m_charts = new CompressCharts(this);
    m_saliency = new SaliencyView(this);
    m_tabs = new QTabWidget(this);
    m_tabs->setObjectName(QStringLiteral("compressTabs"));
    m_tabs->addTab(m_charts, QString());
    m_tabs->addTab(m_saliency, QString());

    auto* split = new QSplitter(Qt::Horizontal, this);
    split->addWidget(left);
    split->addWidget(m_tabs);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 5);
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(split);

    setTabOrder(m_expertCombo, m_methodCombo);
    setTabOrder(m_methodCombo, m_bitsSpin);
    setTabOrder(m_bitsSpin, m_salientSpin);
    setTabOrder(m_salientSpin, m_calibrationCombo);
    setTabOrder(m_calibrationCombo, m_calibrationFile);
    setTabOrder(m_calibrationFile, m_browseCalibration);
    setTabOrder(m_browseCalibration, m_baselineCheck);
    setTabOrder(m_baselineCheck, m_compressButton);
    setTabOrder(m_compressButton, m_cancelButton);
    setTabOrder(m_cancelButton, m_runs);
    setTabOrder(m_runs, m_tabs);

    connect(m_methodCombo, &QComboBox::currentIndexChanged, this, &CompressPage::updateForm);
    connect(m_calibrationCombo, &QComboBox::currentIndexChanged, this, &CompressPage::updateForm);
    connect(m_calibrationFile, &QLineEdit::textChanged, this, &CompressPage::updateForm);
    connect(m_salientSpin, &QDoubleSpinBox::valueChanged, this, &CompressPage::updateSalientInfo);
    connect(m_expertCombo, &QComboBox::currentIndexChanged, this, [this] {
        showNothing();
        refreshRuns();
        updateForm();
        updateSalientInfo();
    });
    connect(m_browseCalibration, &QPushButton::clicked, this, [this] {
        const QString file = QFileDialog::getOpenFileName(
            this, tr("Calibration text (one sample per line)"), m_calibrationFile->text(),
            tr("Text files (*.txt);;All files (*)"));
        if (!file.isEmpty()) m_calibrationFile->setText(QDir::toNativeSeparators(file));
    });
    connect(m_compressButton, &QPushButton::clicked, this, &CompressPage::startCompression);
    connect(m_cancelButton, &QPushButton::clicked, this, &CompressPage::cancelCompression);
    connect(m_runs, &QTreeWidget::currentItemChanged, this, [this](QTreeWidgetItem* item) {
        if (item && item->data(0, Qt::UserRole).isValid())
            openRun(item->data(0, Qt::UserRole).toLongLong());
    });

    m_saliency->setEngine(engine());
    connect(engine(), &EngineHost::progress, this, &CompressPage::onProgress);
    connect(engine(), &EngineHost::finished, this, &CompressPage::onFinished);
    connect(engine(), &EngineHost::event, this,
            [this](quint64 job, const QString& name, const QVariant& payload) {
                if (job == m_job && name == QLatin1String("layer"))
                    m_charts->addLayer(payload.value<meswitch::LayerStat>());
            });
    connect(engine(), &EngineHost::failed, this, &CompressPage::onFailed);

    retranslateUi();
    refreshExperts();
}

CompressPage::~CompressPage() {
    if (m_job && m_engine) m_engine->cancel(m_job);
}

EngineHost* CompressPage::engine() {
    if (!m_engine)
        m_engine = EngineHost::forWindow(this, m_catalog.path(), m_catalog.path().parent_path());
    return m_engine;
}

void CompressPage::retranslateUi() {
    setWindowTitle(tr("Compress"));
    m_settingsGroup->setTitle(tr("Compression settings"));
    m_expertCaption->setText(tr("&Expert:"));
    m_methodCaption->setText(tr("&Method:"));
    m_methodCombo->setToolTip(
        tr("ME-Switch keeps the most salient input channels in 16 bits and quantizes the rest; "
           "RTN rounds every weight to the nearest level; BitDelta keeps one sign bit per "
           "weight and one scale per matrix"));
    m_bitsCaption->setText(tr("&Bits:"));
    m_salientCaption->setText(tr("&Salient channels:"));
    m_salientSpin->setToolTip(
        tr("Fraction of each layer's input channels kept in 16 bits (ME-Switch only)"));
    m_calibrationCaption->setText(tr("C&alibration:"));
    m_calibrationCombo->setItemText(0, tr("Built-in text + the expert's domain examples"));
    m_calibrationCombo->setItemText(1, tr("Text file (one sample per line)"));
    m_calibrationFile->setPlaceholderText(tr("calibration text file"));
    m_browseCalibration->setText(tr("Bro&wse…"));
    m_baselineCheck->setText(tr("Also measure the RTN &baseline at the same bits"));
    m_compressButton->setText(tr("&Compress"));
    m_cancelButton->setText(tr("Cancel"));
    m_cancelButton->setToolTip(tr("Stop the compression (Esc); nothing is written"));
    m_runsGroup->setTitle(tr("Finished runs of this expert"));
    m_runs->setHeaderLabels(
        {tr("Date"), tr("Method"), tr("Salient"), tr("Status"), tr("Mean output error")});
    m_runs->headerItem()->setToolTip(RunError, tr("Mean relative output error over the layers"));
    m_tabs->setTabText(0, tr("Charts"));
    m_tabs->setTabText(1, tr("Saliency"));
    updatePanelWidth();
    updateSalientInfo();
    if (!m_job) {
        setStepText(m_idleStatus ? m_idleStatus() : tr("Ready."));
        m_timeLabel->setText(m_idleTime ? m_idleTime() : QString());
    } else {
        updateTime();
    }
    refreshRuns();
    updateForm();
}

void CompressPage::showEvent(QShowEvent* event) {
    refreshExperts();
    StudioPage::showEvent(event);
}

void CompressPage::refreshExperts() {
    const auto previous = selectedExpert();
    const QSignalBlocker block(m_expertCombo);
    m_expertCombo->clear();
    try {
        std::vector<meswitch::ModelRecord> experts;
        for (auto& m : m_catalog.list_models())
            if (m.role == meswitch::ModelRole::expert && m.base_model_id) experts.push_back(m);
        std::sort(experts.begin(), experts.end(),
                  [](const auto& a, const auto& b) { return a.name < b.name; });
        for (const auto& m : experts)
            m_expertCombo->addItem(qs(m.name), QVariant::fromValue<qlonglong>(m.id));
    } catch (const std::exception& e) {
        spdlog::error("compress: cannot read the catalog: {}", e.what());
        showMessage(tr("The catalog could not be read:\n%1").arg(QString::fromUtf8(e.what())),
                    true);
    }
    if (previous) {
        const int i = m_expertCombo->findData(QVariant::fromValue<qlonglong>(*previous));
        if (i >= 0) m_expertCombo->setCurrentIndex(i);
    }
    if (selectedExpert() != previous) showNothing();  // the signals were blocked
    refreshRuns();
    updateForm();
    updateSalientInfo();
}

void CompressPage::updatePanelWidth() {
    // Each run column as wide as its header or the widest text it can hold in this language.
    const QFontMetrics fm(m_runs->font());
    const int cellPad =
        2 * (style()->pixelMetric(QStyle::PM_FocusFrameHMargin, nullptr, m_runs) + 1) + 4;
    const int headPad = 2 * style()->pixelMetric(QStyle::PM_HeaderMargin, nullptr, m_runs) + 4;
    const QStringList samples[RunColumns] = {
        {QStringLiteral("2026-12-31 23:59")},
        {tr("%1-bit %2").arg(4).arg(Formatting::methodName("meswitch")),
         tr("%1-bit %2").arg(4).arg(Formatting::methodName("bitdelta")),
         tr("%1-bit %2").arg(4).arg(Formatting::methodName("rtn"))},
        {QStringLiteral("12.25%"), QStringLiteral("2048")},
        {tr("finished"), tr("failed"), tr("cancelled"), tr("running")},
        {QStringLiteral("0.0000")}};
    int total = 0;
    for (int c = 0; c < RunColumns; ++c) {
        int w = fm.horizontalAdvance(m_runs->headerItem()->text(c)) + headPad;
        for (const QString& sample : samples[c])
            w = std::max(w, fm.horizontalAdvance(sample) + cellPad);
        m_runs->header()->resizeSection(c, w);
        total += w;
    }
    const int frame = 2 * m_runs->frameWidth();
    const int scroll = style()->pixelMetric(QStyle::PM_ScrollBarExtent, nullptr, m_runs);
    const QMargins group = m_runsGroup->layout()->contentsMargins();
    const int runsWidth = total + frame + scroll + group.left() + group.right() + 2;
    // The placeholder of the calibration file is shown whole.
    const QFontMetrics efm(m_calibrationFile->font());
    m_calibrationFile->setMinimumWidth(
        efm.horizontalAdvance(m_calibrationFile->placeholderText()) + 4 + 2 * 2 +
        2 * style()->pixelMetric(QStyle::PM_DefaultFrameWidth, nullptr, m_calibrationFile));
    m_leftPanel->setFixedWidth(std::max({m_settingsGroup->sizeHint().width(), runsWidth, 360}));
}

void CompressPage::updateSalientInfo() {
    // The selected expert's layer widths, read from its config.json once per selection.
    const auto id = selectedExpert();
    if (id != m_shapeExpert) {
        m_shapeExpert = id;
        m_hidden = m_intermediate = 0;
    }
    if (id && m_hidden == 0) {
        try {
            if (const auto m = m_catalog.model(*id)) {
                QFile file(qs((std::filesystem::path(m->path) / "config.json").string()));
                if (file.open(QIODevice::ReadOnly)) {
                    const QJsonObject config = QJsonDocument::fromJson(file.readAll()).object();
                    m_hidden = config.value(QStringLiteral("hidden_size")).toInteger();
                    m_intermediate = config.value(QStringLiteral("intermediate_size")).toInteger();
                }
            }
        } catch (const std::exception& e) {
            spdlog::warn("compress: cannot read the expert's shape: {}", e.what());
        }
    }
    m_salientWarning = false;
    const bool meswitch = m_methodCombo->currentData().toString() == QLatin1String("meswitch");
    if (!meswitch || m_hidden <= 0) {
        m_salientInfo->setVisible(meswitch && selectedExpert().has_value());
        m_salientInfo->setText(tr("The expert's layer widths are unknown (no config.json)."));
        m_salientInfo->setStyleSheet(QString());
        return;
    }
    const double percent = m_salientSpin->value();
    const std::int64_t h = salientChannels(percent, m_hidden);
    QString text;
    if (m_intermediate > 0 && m_intermediate != m_hidden)
        text = tr("Keeps %1 of %2 input channels per layer (attention, MLP gate and up), %3 of "
                  "%4 (MLP down).")
                   .arg(h)
                   .arg(m_hidden)
                   .arg(salientChannels(percent, m_intermediate))
                   .arg(m_intermediate);
    else
        text = tr("Keeps %1 of %2 input channels per layer.").arg(h).arg(m_hidden);
    // A request that rounds to no channel for some width is said, never silently dropped.
    std::int64_t narrow = 0;
    for (std::int64_t cols : {m_hidden, m_intermediate})
        if (cols > 0 && percent > 0 && salientChannels(percent, cols) == 0)
            narrow = narrow ? std::max(narrow, cols) : cols;
    if (narrow) {
        m_salientWarning = true;
        text +=
            QLatin1Char(' ') +
            tr("Warning: %1 % of %2 inputs keeps no channel; ask for at least %3 % to keep one.")
                .arg(QLocale().toString(percent, 'f', 2))
                .arg(narrow)
                .arg(QLocale().toString(leastPercentKeepingOne(narrow), 'f', 2));
    }
    m_salientInfo->setText(text);
    m_salientInfo->setStyleSheet(m_salientWarning ? QStringLiteral("color: #b35c00;") : QString());
    m_salientInfo->setVisible(true);
}

void CompressPage::setStepText(const QString& text) {
    m_stepLabel->setText(text);
}

void CompressPage::showNothing() {
    // Another expert: the previous one's run, charts and message are not shown against it.
    if (m_job) return;
    m_message->setVisible(false);
    m_charts->clear();
    m_saliency->clear();
    m_shownRun.reset();
    m_progress->setValue(0);
    m_idleStatus = nullptr;
    m_idleTime = nullptr;
    setStepText(tr("Ready."));
    m_timeLabel->clear();
}

bool CompressPage::selectExpert(std::int64_t expertId) {
    refreshExperts();
    const int i = m_expertCombo->findData(QVariant::fromValue<qlonglong>(expertId));
    if (i < 0) return false;
    m_expertCombo->setCurrentIndex(i);
    return true;
}

std::optional<std::int64_t> CompressPage::selectedExpert() const {
    if (m_expertCombo->currentIndex() < 0) return std::nullopt;
    return m_expertCombo->currentData().toLongLong();
}

void CompressPage::refreshRuns() {
    const QSignalBlocker block(m_runs);
    m_runs->clear();
    const auto expert = selectedExpert();
    if (!expert) return;
    try {
        auto runs = m_catalog.compression_runs(*expert, false);
        std::sort(runs.begin(), runs.end(),
                  [](const auto& a, const auto& b) { return a.id > b.id; });
        for (const auto& r : runs) {
            auto* item = new QTreeWidgetItem(m_runs);
            item->setData(0, Qt::UserRole, QVariant::fromValue<qlonglong>(r.id));
            item->setText(RunDate, runDate(r.created_at));
            item->setToolTip(RunDate, qs(r.created_at));
            item->setText(RunMethod,
                          tr("%1-bit %2").arg(r.bits).arg(Formatting::methodName(r.method)));
            item->setText(RunSalient, qs(r.salient_spec));
            switch (r.status) {
                case meswitch::RunStatus::finished:
                    item->setText(RunStatus, tr("finished"));
                    break;
                case meswitch::RunStatus::failed:
                    item->setText(RunStatus, tr("failed"));
                    item->setToolTip(RunStatus, qs(r.message));
                    break;
                case meswitch::RunStatus::cancelled:
                    item->setText(RunStatus, tr("cancelled"));
                    break;
                case meswitch::RunStatus::running:
                    item->setText(RunStatus, tr("running"));
                    break;
            }
            if (r.status == meswitch::RunStatus::finished)
                item->setText(RunError, QString::number(r.mean_rel_output_error, 'f', 4));
            if (m_shownRun && *m_shownRun == r.id) m_runs->setCurrentItem(item);
        }
    } catch (const std::exception& e) {
        spdlog::error("compress: cannot read the runs: {}", e.what());
    }
}

void CompressPage::updateForm() {
    const QString method = m_methodCombo->currentData().toString();
    const bool idle = m_job == 0;
    const bool meswitch = method == QLatin1String("meswitch");
    const bool file = m_calibrationCombo->currentIndex() == 1;
    m_expertCombo->setEnabled(idle);
    m_methodCombo->setEnabled(idle);
    m_bitsSpin->setEnabled(idle && method != QLatin1String("bitdelta"));
    if (method == QLatin1String("bitdelta")) m_bitsSpin->setValue(1);
    m_salientSpin->setEnabled(idle && meswitch);
    m_salientInfo->setVisible(meswitch && selectedExpert().has_value());
    m_calibrationCombo->setEnabled(idle);
    m_calibrationFile->setEnabled(idle && file);
    m_browseCalibration->setEnabled(idle && file);
    m_baselineCheck->setEnabled(idle);
    m_compressButton->setEnabled(idle && selectedExpert().has_value() &&
                                 (!file || !m_calibrationFile->text().trimmed().isEmpty()));
    m_cancelButton->setEnabled(!idle);
    m_runs->setEnabled(idle);
}

meswitch::CompressOptions CompressPage::compressOptions() const {
    meswitch::CompressOptions o;
    o.method = m_methodCombo->currentData().toString().toStdString();
    o.bits = o.method == "bitdelta" ? 1 : m_bitsSpin->value();
    if (o.method == "meswitch")
        o.salient =
            (QString::number(m_salientSpin->value(), 'g', 6) + QLatin1Char('%')).toStdString();
    if (m_calibrationCombo->currentIndex() == 1)
        o.calibration_file =
            QDir::fromNativeSeparators(m_calibrationFile->text().trimmed()).toStdString();
    o.baseline = m_baselineCheck->isChecked();
    return o;
}

void CompressPage::startCompression() {
    if (m_job) return;
    const int index = m_expertCombo->currentIndex();
    if (index < 0) return;
    const std::string expert = m_expertCombo->currentText().toStdString();
    const meswitch::CompressOptions options = compressOptions();
    m_message->setVisible(false);
    m_idleStatus = nullptr;
    m_idleTime = nullptr;
    m_charts->clear();
    m_charts->setMethodName(Formatting::methodName(options.method));
    m_saliency->clear();
    m_shownRun.reset();
    m_fraction = 0;
    m_layersDone = 0;
    m_progress->setValue(0);
    setStepText(tr("Starting…"));
    m_elapsed.start();
    m_clock->start();
    m_job = engine()->postCompress(expert, options);
    spdlog::info("compress page: compressing '{}' ({} {}-bit, salient '{}')", expert,
                 options.method, options.bits, options.salient);
    updateTime();
    updateForm();
}

void CompressPage::cancelCompression() {
    if (!m_job) return;
    engine()->cancel(m_job);
    setStepText(tr("Cancelling…"));
    m_cancelButton->setEnabled(false);
}

void CompressPage::updateTime() {
    if (!m_job) return;
    const double elapsed = static_cast<double>(m_elapsed.elapsed()) / 1000.0;
    QString eta = tr("estimating…");
    if (m_fraction > 0.05) eta = duration(elapsed * (1.0 - m_fraction) / m_fraction);
    m_timeLabel->setText(tr("Elapsed %1 — remaining about %2").arg(duration(elapsed), eta));
}

void CompressPage::onProgress(quint64 job, double fraction, const QString& message) {
    if (job != m_job) return;
    m_fraction = fraction;
    m_progress->setValue(static_cast<int>(fraction * 1000));
    if (message.endsWith(QLatin1String(".weight"))) ++m_layersDone;
    // The layer name may wrap at its dots: the label never widens the panel.
    setStepText(m_layersDone > 0
                    ? tr("Layers done: %1 — %2").arg(m_layersDone).arg(breakable(message))
                    : breakable(message));
    updateTime();
}

void CompressPage::onFinished(quint64 job, const QString&, const QVariant& result) {
    if (job != m_job) return;
    m_job = 0;
    m_clock->stop();
    const auto r = result.value<meswitch::CompressResult>();
    m_progress->setValue(1000);
    // Kept as a function so that a language switch shows the same state in the new language.
    m_idleStatus = [this, seconds = r.seconds, layers = r.layers.size(), bits = r.bits_per_param,
                    error = r.mean_rel_output_error] {
        return tr("Done in %1: %2 layers, %3 bits/param, mean output error %4.")
            .arg(duration(seconds))
            .arg(layers)
            .arg(bits, 0, 'f', 3)
            .arg(error, 0, 'f', 4);
    };
    setStepText(m_idleStatus());
    // Where the time went, as `meswitch compress` prints it.
    m_idleTime = [this, st = r.stages] {
        const auto sec = [](double s) { return QString::number(s, 'f', s < 10 ? 1 : 0); };
        return tr("Time: calibration forward %1 s (%2 windows), statistics %3 s, layers %4 s, "
                  "embeddings and head %5 s, loading %6 s, writing %7 s.")
            .arg(sec(st.calibration_forward))
            .arg(st.windows)
            .arg(sec(st.statistics), sec(st.linears), sec(st.embeddings_head), sec(st.load),
                 sec(st.writing));
    };
    m_timeLabel->setText(m_idleTime());
    updateForm();
    if (r.run_id) {
        openRun(*r.run_id);
        refreshRuns();
        emit compressionFinished(*r.run_id);
    }
}

void CompressPage::onFailed(quint64 job, const QString&, const QString& message, bool cancelled) {
    if (job != m_job) return;
    m_job = 0;
    m_clock->stop();
    m_progress->setValue(0);
    m_idleTime = nullptr;
    m_timeLabel->clear();
    const QString text =
        cancelled ? tr("The compression was cancelled. No delta file was written and the catalog "
                       "is unchanged.")
                  : tr("The compression failed:\n%1").arg(message);
    m_idleStatus = [this, cancelled] { return cancelled ? tr("Cancelled.") : tr("Failed."); };
    setStepText(m_idleStatus());
    showMessage(text, !cancelled);
    updateForm();
    refreshRuns();  // a failed run is recorded with its message
    emit compressionStopped(text, cancelled);
}

void CompressPage::showMessage(const QString& text, bool error) {
    m_message->setText(text);
    m_message->setStyleSheet(error ? QStringLiteral("color: #b00020;")
                                   : QStringLiteral("color: #b35c00;"));
    m_message->setVisible(true);
}

bool CompressPage::openRun(std::int64_t runId) {
    std::optional<meswitch::CompressionRunRecord> run;
    std::optional<meswitch::ModelRecord> expert, base;
    std::optional<meswitch::DeltaArtifactRecord> artifact;
    try {
        run = m_catalog.compression_run(runId);
        if (!run) return false;
        expert = m_catalog.model(run->expert_id);
        if (expert && expert->base_model_id) base = m_catalog.model(*expert->base_model_id);
        if (run->artifact_id)
            for (const auto& a : m_catalog.delta_artifacts(run->expert_id))
                if (a.id == *run->artifact_id) artifact = a;
    } catch (const std::exception& e) {
        showMessage(
            tr("The run could not be read from the catalog:\n%1").arg(QString::fromUtf8(e.what())),
            true);
        return false;
    }
    m_shownRun = runId;
    m_charts->setMethodName(Formatting::methodName(run->method));
    m_charts->setLayers(run->layers);
    m_charts->setSizes(expert ? expert->bytes : 0, artifact ? artifact->bytes : 0);
    std::vector<std::string> layers;
    for (const auto& l : run->layers) layers.push_back(l.layer);
    if (expert && base && artifact)
        m_saliency->setSource(base->path, expert->path, artifact->path, layers);
    else
        m_saliency->clear();
    if (run->status != meswitch::RunStatus::finished)
        showMessage(tr("This run did not finish: %1").arg(qs(run->message)), true);
    return true;
}
