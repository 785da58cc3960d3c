#include "moe_plan_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QEvent>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QPushButton>
#include <QRadioButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include "meswitch/catalog.h"
#include "meswitch/error.h"

namespace {

bool isMixtral(const meswitch::ModelRecord& m) {
    return m.architecture.find("Mixtral") != std::string::npos;
}

}  // namespace

MoePlanDialog::MoePlanDialog(meswitch::Catalog& catalog, QWidget* parent) : QDialog(parent) {
    setObjectName(QStringLiteral("moePlanDialog"));
    m_nameCaption = new QLabel(this);
    m_name = new QLineEdit(this);
    m_baseCaption = new QLabel(this);
    m_base = new QComboBox(this);
    m_base->setEditable(true);  // a catalog model, or a folder typed or browsed
    m_base->setInsertPolicy(QComboBox::NoInsert);
    m_browseBase = new QPushButton(this);
    m_variantsCaption = new QLabel(this);
    m_variants = new QListWidget(this);
    m_addVariant = new QPushButton(this);
    m_metricCaption = new QLabel(this);
    m_metric = new QComboBox(this);
    m_metric->addItem(QString(), int(meswitch::moe::DistanceMetric::l2));
    m_metric->addItem(QString(), int(meswitch::moe::DistanceMetric::cosine));
    m_sharedCaption = new QLabel(this);
    m_shared = new QComboBox(this);
    for (auto s : {meswitch::moe::SharedExpert::mean, meswitch::moe::SharedExpert::medoid,
                   meswitch::moe::SharedExpert::base})
        m_shared->addItem(QString(), int(s));
    m_byCount = new QRadioButton(this);
    m_count = new QSpinBox(this);
    m_count->setRange(0, 1000000);
    m_count->setValue(8);
    m_byBudget = new QRadioButton(this);
    m_budget = new QDoubleSpinBox(this);
    m_budget->setRange(0.01, 1e7);
    m_budget->setDecimals(2);
    m_budget->setValue(64);
    m_byCount->setChecked(true);
    m_problem = new QLabel(this);
    m_problem->setWordWrap(true);
    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);

    // Mixtral models of the catalog first: bases for the base box, every one as a variant.
    try {
        for (const meswitch::ModelRecord& m : catalog.list_models()) {
            if (!isMixtral(m)) continue;
            const QString name = QString::fromStdString(m.name);
            if (m.role == meswitch::ModelRole::base) m_base->addItem(name);
            auto* item = new QListWidgetItem(name, m_variants);
            item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
            item->setCheckState(Qt::Unchecked);
            item->setData(Qt::UserRole, name);
        }
    } catch (const meswitch::Error&) {
        // No readable catalog: folders still work.
    }
    m_base->setCurrentIndex(m_base->count() > 0 ? 0 : -1);

    auto* baseRow = new QHBoxLayout;
    baseRow->addWidget(m_base, 1);
    baseRow->addWidget(m_browseBase);
    auto* variantsColumn = new QVBoxLayout;
    variantsColumn->addWidget(m_variants, 1);
    variantsColumn->addWidget(m_addVariant, 0, Qt::AlignLeft);
    auto* countRow = new QHBoxLayout;
    countRow->addWidget(m_byCount);
    countRow->addWidget(m_count);
    countRow->addStretch(1);
    auto* budgetRow = new QHBoxLayout;
    budgetRow->addWidget(m_byBudget);
    budgetRow->addWidget(m_budget);
    budgetRow->addStretch(1);
    auto* form = new QFormLayout;
    form->addRow(m_nameCaption, m_name);
    form->addRow(m_baseCaption, baseRow);
    form->addRow(m_variantsCaption, variantsColumn);
    form->addRow(m_metricCaption, m_metric);
    form->addRow(m_sharedCaption, m_shared);
    form->addRow(countRow);
    form->addRow(budgetRow);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form, 1);
    layout->addWidget(m_problem);
    layout->addWidget(m_buttons);

    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_browseBase, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Base model folder"));
        if (!dir.isEmpty()) m_base->setEditText(dir);
    });
    connect(m_addVariant, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Variant folder"));
        if (!dir.isEmpty()) addVariantFolder(dir);
    });
    connect(m_base, &QComboBox::editTextChanged, this, &MoePlanDialog::updateState);
    connect(m_variants, &QListWidget::itemChanged, this, &MoePlanDialog::updateState);
    connect(m_byCount, &QRadioButton::toggled, this, &MoePlanDialog::updateState);
    retranslateUi();
    resize(sizeHint().expandedTo(QSize(520, 460)));
}

QPushButton* MoePlanDialog::makeButton() const {
    return m_buttons->button(QDialogButtonBox::Ok);
}

void MoePlanDialog::addVariantFolder(const QString& folder) {
    for (int i = 0; i < m_variants->count(); ++i)
        if (m_variants->item(i)->data(Qt::UserRole).toString() == folder) {
            m_variants->item(i)->setCheckState(Qt::Checked);
            return;
        }
    auto* item = new QListWidgetItem(folder, m_variants);
    item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
    item->setData(Qt::UserRole, folder);
    item->setToolTip(folder);
    item->setCheckState(Qt::Checked);
    updateState();
}

MoePlanRequest MoePlanDialog::request() const {
    MoePlanRequest r;
    r.name = m_name->text().trimmed();
    r.base = m_base->currentText().trimmed();
    for (int i = 0; i < m_variants->count(); ++i)
        if (m_variants->item(i)->checkState() == Qt::Checked)
            r.variants << m_variants->item(i)->data(Qt::UserRole).toString();
    r.metric = static_cast<meswitch::moe::DistanceMetric>(m_metric->currentData().toInt());
    r.sharedExpert = static_cast<meswitch::moe::SharedExpert>(m_shared->currentData().toInt());
    if (m_byCount->isChecked())
        r.sharedPositions = m_count->value();
    else
        r.budgetBytes = static_cast<quint64>(m_budget->value() * 1048576.0);
    return r;
}

QString MoePlanDialog::problem() const {
    const MoePlanRequest r = request();
    if (r.base.isEmpty()) return tr("Choose the base model (a catalog model or a folder).");
    if (r.variants.size() < 2) return tr("Tick at least two variants.");
    if (r.variants.contains(r.base)) return tr("The base cannot also be a variant.");
    return {};
}

void MoePlanDialog::updateState() {
    m_count->setEnabled(m_byCount->isChecked());
    m_budget->setEnabled(!m_byCount->isChecked());
    const QString p = problem();
    m_problem->setText(p);
    makeButton()->setEnabled(p.isEmpty());
}

void MoePlanDialog::changeEvent(QEvent* event) {
    if (event->type() == QEvent::LanguageChange) retranslateUi();
    QDialog::changeEvent(event);
}

void MoePlanDialog::retranslateUi() {
    setWindowTitle(tr("New consolidation plan"));
    m_nameCaption->setText(tr("&Name:"));
    m_nameCaption->setBuddy(m_name);
    m_name->setPlaceholderText(tr("optional"));
    m_baseCaption->setText(tr("&Base:"));
    m_baseCaption->setBuddy(m_base);
    m_browseBase->setText(tr("Browse…"));
    m_variantsCaption->setText(tr("&Variants:"));
    m_variantsCaption->setBuddy(m_variants);
    m_addVariant->setText(tr("Add folder…"));
    m_metricCaption->setText(tr("&Distance:"));
    m_metricCaption->setBuddy(m_metric);
    m_metric->setItemText(0, tr("L2"));
    m_metric->setItemText(1, tr("cosine"));
    m_sharedCaption->setText(tr("&Shared block:"));
    m_sharedCaption->setBuddy(m_shared);
    m_shared->setItemText(0, tr("mean of the variants"));
    m_shared->setItemText(1, tr("medoid variant"));
    m_shared->setItemText(2, tr("the base's"));
    m_byCount->setText(tr("Share this many positions:"));
    m_byBudget->setText(tr("Or fit the expert blocks in (MiB):"));
    makeButton()->setText(tr("&Make plan"));
    m_buttons->button(QDialogButtonBox::Cancel)->setText(tr("Cancel"));
    updateState();
}
