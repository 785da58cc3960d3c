// The Import wizard: pick a model folder → validation report (architecture, parameters,
// dtype, tokenizer, which imported base it matches, every problem in full) → role (base, or
// expert of a base) and domain (existing or new, with example prompts) → import with progress
// while hashing → done. Inspection and import run on the EngineHost's thread; the catalog is
// changed only by the engine's import transaction, so a refused or cancelled import leaves it
// as it was.
#pragma once

#include <QWizard>

#include <cstdint>
#include <filesystem>
#include <optional>

#include "meswitch/catalog.h"
#include "meswitch/import.h"

class EngineHost;
class QButtonGroup;
class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QRadioButton;
class QTextBrowser;

class ImportWizard : public QWizard {
    Q_OBJECT

public:
    enum PageId { FolderPage, ReportPage, RolePage, ImportPage };

    // `catalog` (GUI thread) lists bases and domains; the import itself runs on `engine`.
    ImportWizard(meswitch::Catalog& catalog, EngineHost* engine, QWidget* parent = nullptr);
    ~ImportWizard() override;

    void setFolder(const QString& folder);
    QString folder() const;

    // Widgets, for tests and keyboard users alike.
    QLineEdit* folderEdit() const { return m_folderEdit; }
    QTextBrowser* reportView() const { return m_report; }
    QRadioButton* baseRadio() const { return m_baseRadio; }
    QRadioButton* expertRadio() const { return m_expertRadio; }
    QComboBox* baseCombo() const { return m_baseCombo; }
    QLineEdit* nameEdit() const { return m_nameEdit; }
    QComboBox* domainCombo() const { return m_domainCombo; }
    QLineEdit* domainDescriptionEdit() const { return m_domainDescription; }
    QPlainTextEdit* examplesEdit() const { return m_examples; }
    QLabel* matchWarning() const { return m_matchWarning; }
    QProgressBar* progressBar() const { return m_progress; }
    QLabel* statusLabel() const { return m_status; }
    QTextBrowser* errorView() const { return m_error; }

    // State of the last inspection / import.
    bool inspectionDone() const { return m_inspection.has_value() || !m_inspectError.isEmpty(); }
    const std::optional<meswitch::ModelInspection>& inspection() const { return m_inspection; }
    bool importRunning() const { return m_importJob != 0; }
    const std::optional<meswitch::ModelRecord>& imported() const { return m_imported; }
    QString importError() const { return m_importError; }

    // The options the Role page describes.
    meswitch::ImportOptions importOptions() const;

    void reject() override;  // cancels a running job first

signals:
    void modelImported(qint64 id);

protected:
    void changeEvent(QEvent* event) override;

private:
    friend class ImportWizardPage;
    void retranslateUi();
    void startInspection();
    void startImport();
    void updateReport();
    void updateRolePage();
    void browse();
    bool pageComplete(int id) const;
    void onFinished(quint64 job, const QString& kind, const QVariant& result);
    void onFailed(quint64 job, const QString& kind, const QString& message, bool cancelled);
    void onProgress(quint64 job, double fraction, const QString& message);
    void notifyComplete();

    meswitch::Catalog& m_catalog;
    EngineHost* m_engine;
    std::optional<meswitch::ModelInspection> m_inspection;
    QString m_inspectError;
    QString m_inspectedFolder;
    QString m_defaultName;
    QString m_shownDescription;  // the existing domain's description the field shows
    quint64 m_inspectJob = 0;
    quint64 m_importJob = 0;
    std::optional<meswitch::ModelRecord> m_imported;
    QString m_importError;
    bool m_importCancelled = false;

    // Folder page
    QLabel* m_folderIntro = nullptr;
    QLabel* m_folderCaption = nullptr;
    QLineEdit* m_folderEdit = nullptr;
    QPushButton* m_browseButton = nullptr;
    // Report page
    QTextBrowser* m_report = nullptr;
    // Role page
    QLabel* m_nameCaption = nullptr;
    QLineEdit* m_nameEdit = nullptr;
    QRadioButton* m_baseRadio = nullptr;
    QRadioButton* m_expertRadio = nullptr;
    QButtonGroup* m_roleGroup = nullptr;
    QComboBox* m_baseCombo = nullptr;
    QLabel* m_matchWarning = nullptr;
    QLabel* m_domainCaption = nullptr;
    QComboBox* m_domainCombo = nullptr;
    QLabel* m_descriptionCaption = nullptr;
    QLineEdit* m_domainDescription = nullptr;
    QLabel* m_examplesCaption = nullptr;
    QPlainTextEdit* m_examples = nullptr;
    QCheckBox* m_copyCheck = nullptr;
    // Import page
    QProgressBar* m_progress = nullptr;
    QLabel* m_status = nullptr;
    QTextBrowser* m_error = nullptr;
};
