#include "moe_page.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>

#include <algorithm>

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

    auto* bar = new QHBoxLayout;
    bar->addWidget(m_planLabel);
    bar->addWidget(m_planBox, 1);
    bar->addWidget(m_colouringLabel);
    bar->addWidget(m_colouringBox);
    bar->addWidget(m_refreshButton);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(bar);
    layout->addWidget(m_summary);
    layout->addWidget(m_grid, 1);

    connect(m_refreshButton, &QPushButton::clicked, this, &MoePage::refresh);
    connect(m_planBox, &QComboBox::currentIndexChanged, this, &MoePage::showPlan);
    connect(m_colouringBox, &QComboBox::currentIndexChanged, this,
            [this](int i) { setColouring(i == 0 ? Colouring::sharing : Colouring::distance); });
    retranslateUi();
}

void MoePage::retranslateUi() {
    setWindowTitle(tr("MoE families"));
    m_planLabel->setText(tr("Consolidation plan:"));
    m_colouringLabel->setText(tr("Colour by:"));
    m_colouringBox->setItemText(0, tr("shared / own"));
    m_colouringBox->setItemText(1, tr("distance"));
    m_refreshButton->setText(tr("Refresh"));
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
                tr("No consolidation plan yet. Make one with: meswitch moe plan "
                   "--base BASE --variant A --variant B …"));
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
