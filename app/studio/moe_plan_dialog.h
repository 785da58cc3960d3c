// "New consolidation plan": the base and variants of a Mixtral family (models of the catalog
// or folders), the distance metric, how a shared position's block is made, and either how many
// positions to share or the memory the expert blocks may take — what `meswitch moe plan`
// asks for. The dialog only gathers the request; the MoE page runs it on the engine thread.
#pragma once

#include <QDialog>
#include <QString>
#include <QStringList>

#include <optional>

#include "meswitch/moe.h"

namespace meswitch {
class Catalog;
}
class QComboBox;
class QDialogButtonBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QListWidget;
class QPushButton;
class QRadioButton;
class QSpinBox;

struct MoePlanRequest {
    QString name;
    QString base;          // a catalog model's name or a folder
    QStringList variants;  // the same, at least two
    meswitch::moe::DistanceMetric metric = meswitch::moe::DistanceMetric::l2;
    meswitch::moe::SharedExpert sharedExpert = meswitch::moe::SharedExpert::mean;
    std::optional<qint64> sharedPositions;
    std::optional<quint64> budgetBytes;
};

class MoePlanDialog : public QDialog {
    Q_OBJECT

public:
    explicit MoePlanDialog(meswitch::Catalog& catalog, QWidget* parent = nullptr);

    MoePlanRequest request() const;
    // Why the plan cannot be made yet ("" when it can); shown under the form.
    QString problem() const;

    QLineEdit* nameEdit() const { return m_name; }
    QComboBox* baseBox() const { return m_base; }
    QListWidget* variantList() const { return m_variants; }
    QRadioButton* byCountButton() const { return m_byCount; }
    QRadioButton* byBudgetButton() const { return m_byBudget; }
    QSpinBox* countBox() const { return m_count; }
    QDoubleSpinBox* budgetBox() const { return m_budget; }
    QPushButton* makeButton() const;
    // Adds a variant folder to the list, checked (what "Add folder…" does after its file dialog).
    void addVariantFolder(const QString& folder);

protected:
    void changeEvent(QEvent* event) override;

private:
    void retranslateUi();
    void updateState();

    QLabel* m_nameCaption = nullptr;
    QLineEdit* m_name = nullptr;
    QLabel* m_baseCaption = nullptr;
    QComboBox* m_base = nullptr;
    QPushButton* m_browseBase = nullptr;
    QLabel* m_variantsCaption = nullptr;
    QListWidget* m_variants = nullptr;
    QPushButton* m_addVariant = nullptr;
    QLabel* m_metricCaption = nullptr;
    QComboBox* m_metric = nullptr;
    QLabel* m_sharedCaption = nullptr;
    QComboBox* m_shared = nullptr;
    QRadioButton* m_byCount = nullptr;
    QSpinBox* m_count = nullptr;
    QRadioButton* m_byBudget = nullptr;
    QDoubleSpinBox* m_budget = nullptr;
    QLabel* m_problem = nullptr;
    QDialogButtonBox* m_buttons = nullptr;
};
