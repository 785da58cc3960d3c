// MoE families: the consolidation plans stored in the catalog, each shown as a layer × expert
// grid coloured either by the distance between the variants' experts or by whether a position
// is shared by all variants or kept per variant, with the memory the plan saves. "New plan…"
// makes one (the distances are measured on the engine thread, with progress and Cancel) as
// `meswitch moe plan` does; "Delete" removes the selected one.
#pragma once

#include <QPointer>

#include <vector>

#include "meswitch/moe.h"
#include "moe_plan_dialog.h"
#include "studio_page.h"

namespace meswitch {
class Catalog;
}
class EngineHost;
class QComboBox;
class QLabel;
class QProgressBar;
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
    QPushButton* newButton() const { return m_newButton; }
    QPushButton* deleteButton() const { return m_deleteButton; }
    QPushButton* cancelButton() const { return m_cancelButton; }
    QProgressBar* progressBar() const { return m_progress; }
    QLabel* jobLabel() const { return m_jobLabel; }
    bool busy() const { return m_job != 0; }

    // Measures the distances and makes and saves the plan on the engine thread; the page
    // shows its progress, and the plan once it is saved. Returns false while one is running.
    bool startPlan(const MoePlanRequest& request);
    // Removes the selected plan (after asking, with confirm). Returns whether one was removed.
    bool deleteCurrentPlan(bool confirm = true);
    // The dialog "New plan…" opens (not shown); the page runs its request when accepted.
    MoePlanDialog* newPlanDialog();

public slots:
    void refresh();
    void setColouring(Colouring colouring);
    void cancelPlan();

signals:
    void planFinished(bool saved);

protected:
    void retranslateUi() override;
    void showEvent(QShowEvent* event) override;

private:
    void showPlan(int index);
    EngineHost* engine();
    void updateButtons();
    void selectPlanId(std::int64_t id);

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
    QPushButton* m_newButton = nullptr;
    QPushButton* m_deleteButton = nullptr;
    QPushButton* m_cancelButton = nullptr;
    QProgressBar* m_progress = nullptr;
    QLabel* m_jobLabel = nullptr;
    QPointer<EngineHost> m_engine;
    quint64 m_job = 0;
    QString m_lastOutcome;  // the last plan job's result, shown until the next one
};
