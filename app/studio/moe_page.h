// MoE families: the consolidation plans stored in the catalog (meswitch moe plan), each shown
// as a layer × expert grid coloured either by the distance between the variants' experts or
// by whether a position is shared by all variants or kept per variant, with the memory the
// plan saves.
#pragma once

#include <vector>

#include "meswitch/moe.h"
#include "studio_page.h"

namespace meswitch {
class Catalog;
}
class QComboBox;
class QLabel;
class QPushButton;
class QTableWidget;

class MoePage : public StudioPage {
    Q_OBJECT

public:
    enum class Colouring { distance, sharing };

    explicit MoePage(meswitch::Catalog& catalog, QWidget* parent = nullptr);

    QComboBox* planBox() const { return m_planBox; }
    QComboBox* colouringBox() const { return m_colouringBox; }
    QTableWidget* grid() const { return m_grid; }
    QLabel* summary() const { return m_summary; }
    const std::vector<meswitch::moe::ConsolidationPlan>& plans() const { return m_plans; }

public slots:
    void refresh();
    void setColouring(Colouring colouring);

protected:
    void retranslateUi() override;
    void showEvent(QShowEvent* event) override;

private:
    void showPlan(int index);

    meswitch::Catalog& m_catalog;
    std::vector<meswitch::moe::ConsolidationPlan> m_plans;
    Colouring m_colouring = Colouring::sharing;
    QLabel* m_planLabel = nullptr;
    QComboBox* m_planBox = nullptr;
    QLabel* m_colouringLabel = nullptr;
    QComboBox* m_colouringBox = nullptr;
    QPushButton* m_refreshButton = nullptr;
    QTableWidget* m_grid = nullptr;
    QLabel* m_summary = nullptr;
};
