#include "moe_page.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>

#include "engine_worker.h"
#include "message_boxes.h"
#include "meswitch/catalog.h"
#include "meswitch/error.h"

namespace {

// Low distance: green, high: red (relative to the plan's range).
QColor distanceColour(double t) {
    t = std::clamp(t, 0.0, 1.0);
    return QColor::fromHsvF(0.33 * (1.0 - t), 0.55, 0.95);
}

QString mib(std::uint64_t bytes) {
    return QString::number(bytes / 1048576.0, 'f', 2) + QStringLiteral(" MiB");
}

}  // namespace

MoePage::MoePage(meswitch::Catalog& catalog, QWidget* parent)
    : StudioPage(QStringLiteral("moe"), navigationIcon(QStringLiteral("library")), parent),
      m_catalog(catalog) {
    m_planLabel = new QLabel(this);
    m_planBox = new QComboBox(this);
    m_colouringLabel = new QLabel(this);
    m_colouringBox = new QComboBox(this);
    m_colouringBox->addItem(QString());
    m_colouringBox->addItem(QString());
    m_refreshButton = new QPushButton(this);
    m_grid = new QTableWidget(this);
    m_grid->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_grid->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    m_summary = new QLabel(this);
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_newButton = new QPushButton(this);
    m_deleteButton = new QPushButton(this);
    m_cancelButton = new QPushButton(this);
    m_progress = new QProgressBar(this);
    m_progress->setRange(0, 1000);
    m_progress->setTextVisible(false);
    m_jobLabel = new QLabel(this);
    m_jobLabel->setWordWrap(true);

    auto* bar = new QHBoxLayout;
    bar->addWidget(m_planLabel);
    bar->addWidget(m_planBox, 1);
    bar->addWidget(m_colouringLabel);
    bar->addWidget(m_colouringBox);
    bar->addWidget(m_refreshButton);
    auto* actions = new QHBoxLayout;
    actions->addWidget(m_newButton);
    actions->addWidget(m_deleteButton);
    actions->addWidget(m_progress, 1);
    actions->addWidget(m_cancelButton);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(bar);
    layout->addLayout(actions);
    layout->addWidget(m_jobLabel);
    layout->addWidget(m_summary);
    layout->addWidget(m_grid, 1);

    connect(m_refreshButton, &QPushButton::clicked, this, &MoePage::refresh);
    connect(m_newButton, &QPushButton::clicked, this, [this] {
        MoePlanDialog* dialog = newPlanDialog();
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        dialog->open();
    });
    connect(m_deleteButton, &QPushButton::clicked, this, [this] { deleteCurrentPlan(true); });
    connect(m_cancelButton, &QPushButton::clicked, this, &MoePage::cancelPlan);
    connect(m_planBox, &QComboBox::currentIndexChanged, this, &MoePage::showPlan);
    connect(m_colouringBox, &QComboBox::currentIndexChanged, this,
            [this](int i) { setColouring(i == 0 ? Colouring::sharing : Colouring::distance); });
    retranslateUi();
    updateButtons();
}

EngineHost* MoePage::engine() {
    if (!m_engine) {
        m_engine = EngineHost::forWindow(this, m_catalog.path(), m_catalog.path().parent_path());
        connect(m_engine, &EngineHost::progress, this,
                [this](quint64 job, double fraction, const QString& message) {
                    if (job != m_job) return;
                    m_progress->setValue(static_cast<int>(std::clamp(fraction, 0.0, 1.0) * 1000));
                    m_jobLabel->setText(tr("Making the plan: %1").arg(message));
                });
        connect(m_engine, &EngineHost::finished, this,
                [this](quint64 job, const QString&, const QVariant& result) {
                    if (job != m_job) return;
                    m_job = 0;
                    m_progress->setValue(1000);
                    refresh();
                    selectPlanId(result.toLongLong());
                    m_lastOutcome = tr("Plan saved.");
                    m_jobLabel->setText(m_lastOutcome);
                    updateButtons();
                    emit planFinished(true);
                });
        connect(m_engine, &EngineHost::failed, this,
                [this](quint64 job, const QString&, const QString& message, bool cancelled) {
                    if (job != m_job) return;
                    m_job = 0;
                    m_progress->setValue(0);
                    m_lastOutcome = cancelled ? tr("Cancelled: no plan was saved.")
                                              : tr("The plan could not be made: %1").arg(message);
                    m_jobLabel->setText(m_lastOutcome);
                    updateButtons();
                    emit planFinished(false);
                });
    }
    return m_engine;
}

MoePlanDialog* MoePage::newPlanDialog() {
    auto* dialog = new MoePlanDialog(m_catalog, this);
    connect(dialog, &QDialog::accepted, this, [this, dialog] { startPlan(dialog->request()); });
    return dialog;
}

bool MoePage::startPlan(const MoePlanRequest& request) {
    if (m_job != 0) return false;
    m_job = engine()->post(QStringLiteral("moe-plan"), [request](JobContext& ctx) -> QVariant {
        namespace fs = std::filesystem;
        auto resolve = [&](const QString& text) -> fs::path {
            const std::string t = text.toStdString();
            if (auto m = ctx.catalog().find_model(t)) return m->path;
            std::error_code ec;
            if (fs::is_directory(t, ec)) return t;
            throw meswitch::Error(meswitch::ErrorKind::not_found,
                                  "'" + t + "' is neither a model in the catalog nor a folder");
        };
        const fs::path base = resolve(request.base);
        std::vector<fs::path> variants;
        for (const QString& v : request.variants) variants.push_back(resolve(v));
        const meswitch::ProgressFn report = ctx.progressFn();
        const meswitch::moe::DistanceTable table = meswitch::moe::expert_distances(
            base, variants, request.metric,
            [&](double f, std::string_view message) { report(0.95 * f, message); },
            &ctx.cancelToken());
        meswitch::moe::PlanOptions o;
        o.shared_expert = request.sharedExpert;
        if (request.sharedPositions) o.shared_positions = *request.sharedPositions;
        if (request.budgetBytes) o.budget_bytes = *request.budgetBytes;
        meswitch::moe::ConsolidationPlan plan = meswitch::moe::plan_consolidation(table, o);
        plan.name = request.name.toStdString();
        ctx.cancelToken().throw_if_cancelled("the consolidation plan");
        report(0.97, "saving the plan");
        meswitch::moe::save_plan(ctx.catalog(), plan);
        return QVariant::fromValue<qint64>(plan.catalog_id.value_or(0));
    });
    m_progress->setValue(0);
    m_jobLabel->setText(tr("Making the plan…"));
    updateButtons();
    return true;
}

void MoePage::cancelPlan() {
    if (m_job != 0 && m_engine) m_engine->cancel(m_job);
}

bool MoePage::deleteCurrentPlan(bool ask) {
    const int index = m_planBox->currentIndex();
    if (index < 0 || index >= static_cast<int>(m_plans.size())) return false;
    const auto& p = m_plans[static_cast<std::size_t>(index)];
    if (!p.catalog_id) return false;
    if (ask && !MessageBoxes::confirm(
                   this, tr("Delete plan"),
                   tr("Delete the consolidation plan \"%1\"? The models are not touched.")
                       .arg(m_planBox->currentText()),
                   tr("Delete")))
        return false;
    try {
        meswitch::moe::remove_plan(m_catalog, *p.catalog_id);
    } catch (const meswitch::Error& e) {
        m_jobLabel->setText(tr("Cannot delete the plan: %1").arg(QString::fromStdString(e.what())));
        return false;
    }
    m_lastOutcome = tr("Plan deleted.");
    m_jobLabel->setText(m_lastOutcome);
    refresh();
    return true;
}

void MoePage::selectPlanId(std::int64_t id) {
    for (std::size_t i = 0; i < m_plans.size(); ++i)
        if (m_plans[i].catalog_id && *m_plans[i].catalog_id == id) {
            m_planBox->setCurrentIndex(static_cast<int>(i));
            return;
        }
}

void MoePage::updateButtons() {
    m_newButton->setEnabled(m_job == 0);
    m_deleteButton->setEnabled(m_job == 0 && !m_plans.empty());
    m_cancelButton->setVisible(m_job != 0);
    m_progress->setVisible(m_job != 0);
}

void MoePage::retranslateUi() {
    setWindowTitle(tr("MoE families"));
    m_planLabel->setText(tr("Consolidation plan:"));
    m_colouringLabel->setText(tr("Colour by:"));
    m_colouringBox->setItemText(0, tr("shared / own"));
    m_colouringBox->setItemText(1, tr("distance"));
    m_refreshButton->setText(tr("Refresh"));
    m_newButton->setText(tr("&New plan…"));
    m_newButton->setToolTip(
        tr("Measure the distances between the variants' experts and share "
           "the most similar positions (as meswitch moe plan does)"));
    m_deleteButton->setText(tr("&Delete plan"));
    m_cancelButton->setText(tr("Cancel"));
    if (m_job == 0) m_jobLabel->setText(m_lastOutcome);
    showPlan(m_planBox->currentIndex());
}

void MoePage::showEvent(QShowEvent* event) {
    StudioPage::showEvent(event);
    refresh();
}

void MoePage::refresh() {
    try {
        m_plans = meswitch::moe::list_plans(m_catalog);
    } catch (const meswitch::Error& e) {
        m_plans.clear();
        m_summary->setText(tr("Cannot read the plans: %1").arg(QString::fromStdString(e.what())));
    }
    const QSignalBlocker block(m_planBox);
    m_planBox->clear();
    for (const auto& p : m_plans) {
        QString label =
            QString::fromStdString(p.name.empty() ? p.base.filename().string() : p.name);
        label += tr(" (#%1, %2 of %3 shared)")
                     .arg(p.catalog_id.value_or(0))
                     .arg(p.shared_count())
                     .arg(p.positions());
        m_planBox->addItem(label);
    }
    showPlan(m_plans.empty() ? -1 : 0);
    updateButtons();
}

void MoePage::setColouring(Colouring colouring) {
    m_colouring = colouring;
    {
        const QSignalBlocker block(m_colouringBox);
        m_colouringBox->setCurrentIndex(colouring == Colouring::sharing ? 0 : 1);
    }
    showPlan(m_planBox->currentIndex());
}

void MoePage::showPlan(int index) {
    if (index < 0 || index >= static_cast<int>(m_plans.size())) {
        m_grid->clear();
        m_grid->setRowCount(0);
        m_grid->setColumnCount(0);
        if (m_plans.empty())
            m_summary->setText(
                tr("No consolidation plan yet. Make one with New plan…, or on the command "
                   "line: meswitch moe plan --base BASE --variant A --variant B …"));
        return;
    }
    const auto& p = m_plans[static_cast<std::size_t>(index)];
    QStringList names;
    for (const auto& n : p.variant_names) names << QString::fromStdString(n);
    m_summary->setText(
        tr("Variants: %1. %2 of %3 positions shared by all variants; expert memory %4 instead of "
           "%5 (saves %6). Metric %7, shared block = %8.")
            .arg(names.join(QStringLiteral(", ")))
            .arg(p.shared_count())
            .arg(p.positions())
            .arg(mib(p.expert_bytes()), mib(p.expert_bytes_unconsolidated()), mib(p.saved_bytes()))
            .arg(QString::fromLatin1(meswitch::moe::to_string(p.metric)),
                 QString::fromLatin1(meswitch::moe::to_string(p.shared_expert))));
    m_grid->clear();
    m_grid->setRowCount(static_cast<int>(p.layers));
    m_grid->setColumnCount(static_cast<int>(p.experts));
    QStringList rows, cols;
    for (std::int64_t l = 0; l < p.layers; ++l) rows << tr("layer %1").arg(l);
    for (std::int64_t e = 0; e < p.experts; ++e) cols << tr("expert %1").arg(e);
    m_grid->setVerticalHeaderLabels(rows);
    m_grid->setHorizontalHeaderLabels(cols);
    const auto [lo, hi] = std::minmax_element(p.distance.begin(), p.distance.end());
    const double range = *hi > *lo ? *hi - *lo : 1.0;
    for (std::int64_t l = 0; l < p.layers; ++l)
        for (std::int64_t e = 0; e < p.experts; ++e) {
            const auto i = static_cast<std::size_t>(l * p.experts + e);
            const bool shared = p.shared[i];
            auto* item =
                new QTableWidgetItem((shared ? tr("shared") : tr("own")) + QStringLiteral("\n") +
                                     QString::number(p.distance[i], 'g', 4));
            item->setTextAlignment(Qt::AlignCenter);
            item->setToolTip(tr("layer %1, expert %2: mean distance between variants %3, to the "
                                "base %4")
                                 .arg(l)
                                 .arg(e)
                                 .arg(p.distance[i], 0, 'g', 4)
                                 .arg(p.base_distance[i], 0, 'g', 4));
            item->setData(Qt::UserRole, shared);
            const QColor bg = m_colouring == Colouring::sharing
                                  ? (shared ? QColor(0x8f, 0xc9, 0xf0) : QColor(0xf2, 0xf2, 0xf2))
                                  : distanceColour((p.distance[i] - *lo) / range);
            item->setBackground(bg);
            item->setForeground(QColor(Qt::black));
            m_grid->setItem(static_cast<int>(l), static_cast<int>(e), item);
        }
    m_grid->resizeRowsToContents();
}
