#include "import_wizard.h"

#include <QButtonGroup>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRadioButton>
#include <QTextBrowser>
#include <QVBoxLayout>

#include <spdlog/spdlog.h>

#include <algorithm>

#include "engine_worker.h"
#include "formatting.h"

using Formatting::qs;

namespace {
std::filesystem::path toPath(const QString& s) {
    return std::filesystem::path(s.toStdString());
}
QString esc(const QString& s) {
    return s.toHtmlEscaped();
}
}  // namespace

// A page whose completeness and set-up the wizard decides.
class ImportWizardPage : public QWizardPage {
public:
    ImportWizardPage(ImportWizard* wizard, int id) : m_wizard(wizard), m_id(id) {}
    bool isComplete() const override { return m_wizard->pageComplete(m_id); }
    void initializePage() override {
        if (m_id == ImportWizard::ReportPage)
            m_wizard->startInspection();
        else if (m_id == ImportWizard::RolePage)
            m_wizard->updateRolePage();
        else if (m_id == ImportWizard::ImportPage)
            m_wizard->startImport();
    }
    void cleanupPage() override {
        // Going back from the import page never leaves a job running.
        if (m_id == ImportWizard::ImportPage && m_wizard->m_importJob)
            m_wizard->m_engine->cancel(m_wizard->m_importJob);
    }

private:
    ImportWizard* m_wizard;
    int m_id;
};

ImportWizard::ImportWizard(meswitch::Catalog& catalog, EngineHost* engine, QWidget* parent)
    : QWizard(parent), m_catalog(catalog), m_engine(engine) {
    setObjectName(QStringLiteral("importWizard"));
    setWizardStyle(QWizard::ClassicStyle);
    setOption(QWizard::NoBackButtonOnLastPage, false);
    setMinimumSize(640, 480);

    // ---- folder
    auto* folderPage = new ImportWizardPage(this, FolderPage);
    m_folderIntro = new QLabel(folderPage);
    m_folderIntro->setWordWrap(true);
    m_folderCaption = new QLabel(folderPage);
    m_folderEdit = new QLineEdit(folderPage);
    m_folderEdit->setObjectName(QStringLiteral("importFolderEdit"));
    m_folderCaption->setBuddy(m_folderEdit);
    m_browseButton = new QPushButton(folderPage);
    connect(m_browseButton, &QPushButton::clicked, this, &ImportWizard::browse);
    connect(m_folderEdit, &QLineEdit::textChanged, this, &ImportWizard::notifyComplete);
    auto* folderRow = new QHBoxLayout;
    folderRow->addWidget(m_folderEdit, 1);
    folderRow->addWidget(m_browseButton);
    auto* fl = new QVBoxLayout(folderPage);
    fl->addWidget(m_folderIntro);
    fl->addSpacing(12);
    fl->addWidget(m_folderCaption);
    fl->addLayout(folderRow);
    fl->addStretch(1);
    setPage(FolderPage, folderPage);

    // ---- report
    auto* reportPage = new ImportWizardPage(this, ReportPage);
    m_report = new QTextBrowser(reportPage);
    m_report->setObjectName(QStringLiteral("importReport"));
    m_report->setOpenLinks(false);
    auto* rl = new QVBoxLayout(reportPage);
    rl->addWidget(m_report);
    setPage(ReportPage, reportPage);

    // ---- role and domain
    auto* rolePage = new ImportWizardPage(this, RolePage);
    m_nameCaption = new QLabel(rolePage);
    m_nameEdit = new QLineEdit(rolePage);
    m_nameEdit->setObjectName(QStringLiteral("importNameEdit"));
    m_nameCaption->setBuddy(m_nameEdit);
    m_baseRadio = new QRadioButton(rolePage);
    m_baseRadio->setObjectName(QStringLiteral("importBaseRadio"));
    m_expertRadio = new QRadioButton(rolePage);
    m_expertRadio->setObjectName(QStringLiteral("importExpertRadio"));
    m_roleGroup = new QButtonGroup(rolePage);
    m_roleGroup->addButton(m_baseRadio);
    m_roleGroup->addButton(m_expertRadio);
    m_baseRadio->setChecked(true);
    m_baseCombo = new QComboBox(rolePage);
    m_baseCombo->setObjectName(QStringLiteral("importBaseCombo"));
    m_matchWarning = new QLabel(rolePage);
    m_matchWarning->setObjectName(QStringLiteral("importMatchWarning"));
    m_matchWarning->setWordWrap(true);
    m_matchWarning->setStyleSheet(QStringLiteral("color: #b35c00;"));
    m_domainCaption = new QLabel(rolePage);
    m_domainCombo = new QComboBox(rolePage);
    m_domainCombo->setObjectName(QStringLiteral("importDomainCombo"));
    m_domainCombo->setEditable(true);
    m_domainCombo->setInsertPolicy(QComboBox::NoInsert);
    m_domainCaption->setBuddy(m_domainCombo);
    m_descriptionCaption = new QLabel(rolePage);
    m_domainDescription = new QLineEdit(rolePage);
    m_descriptionCaption->setBuddy(m_domainDescription);
    m_examplesCaption = new QLabel(rolePage);
    m_examples = new QPlainTextEdit(rolePage);
    m_examples->setObjectName(QStringLiteral("importExamplesEdit"));
    m_examples->setTabChangesFocus(true);
    m_examplesCaption->setBuddy(m_examples);
    m_copyCheck = new QCheckBox(rolePage);
    auto* roleForm = new QGridLayout(rolePage);
    roleForm->addWidget(m_nameCaption, 0, 0);
    roleForm->addWidget(m_nameEdit, 0, 1);
    roleForm->addWidget(m_baseRadio, 1, 0, 1, 2);
    roleForm->addWidget(m_expertRadio, 2, 0);
    roleForm->addWidget(m_baseCombo, 2, 1);
    roleForm->addWidget(m_matchWarning, 3, 1);
    roleForm->addWidget(m_domainCaption, 4, 0);
    roleForm->addWidget(m_domainCombo, 4, 1);
    roleForm->addWidget(m_descriptionCaption, 5, 0);
    roleForm->addWidget(m_domainDescription, 5, 1);
    roleForm->addWidget(m_examplesCaption, 6, 0, Qt::AlignTop);
    roleForm->addWidget(m_examples, 6, 1);
    roleForm->addWidget(m_copyCheck, 7, 0, 1, 2);
    setTabOrder(m_nameEdit, m_baseRadio);
    setTabOrder(m_baseRadio, m_expertRadio);
    setTabOrder(m_expertRadio, m_baseCombo);
    setTabOrder(m_baseCombo, m_domainCombo);
    setTabOrder(m_domainCombo, m_domainDescription);
    setTabOrder(m_domainDescription, m_examples);
    setTabOrder(m_examples, m_copyCheck);
    for (QRadioButton* radio : {m_baseRadio, m_expertRadio})
        connect(radio, &QRadioButton::toggled, this, &ImportWizard::updateRolePage);
    connect(m_baseCombo, &QComboBox::currentIndexChanged, this, &ImportWizard::updateRolePage);
    connect(m_nameEdit, &QLineEdit::textChanged, this, &ImportWizard::notifyComplete);
    connect(m_domainCombo, &QComboBox::currentTextChanged, this, [this](const QString& text) {
        // An existing domain shows its examples; a new one starts empty.
        const auto d = m_catalog.find_domain(text.trimmed().toStdString());
        // An existing domain's description is shown as a placeholder, never left behind as
        // text the user did not type when the name changes to a new domain.
        m_domainDescription->setEnabled(!d.has_value());
        if (m_domainDescription->text() == m_shownDescription) m_domainDescription->clear();
        m_shownDescription.clear();
        if (d) {
            m_shownDescription = qs(d->description);
            m_domainDescription->setText(m_shownDescription);
            QStringList lines;
            for (const auto& e : d->examples) lines << qs(e);
            m_examples->setPlaceholderText(lines.join(QLatin1Char('\n')));
        } else {
            m_examples->setPlaceholderText(QString());
        }
    });
    setPage(RolePage, rolePage);

    // ---- import (progress, then done or the error in full)
    auto* importPage = new ImportWizardPage(this, ImportPage);
    importPage->setFinalPage(true);
    m_progress = new QProgressBar(importPage);
    m_progress->setObjectName(QStringLiteral("importProgress"));
    m_progress->setRange(0, 1000);
    m_status = new QLabel(importPage);
    m_status->setObjectName(QStringLiteral("importStatus"));
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_error = new QTextBrowser(importPage);
    m_error->setObjectName(QStringLiteral("importError"));
    m_error->setVisible(false);
    auto* il = new QVBoxLayout(importPage);
    il->addWidget(m_progress);
    il->addWidget(m_status);
    il->addWidget(m_error, 1);
    il->addStretch(0);
    setPage(ImportPage, importPage);

    connect(m_engine, &EngineHost::finished, this, &ImportWizard::onFinished);
    connect(m_engine, &EngineHost::failed, this, &ImportWizard::onFailed);
    connect(m_engine, &EngineHost::progress, this, &ImportWizard::onProgress);
    retranslateUi();
}

ImportWizard::~ImportWizard() {
    if (m_inspectJob) m_engine->cancel(m_inspectJob);
    if (m_importJob) m_engine->cancel(m_importJob);
}

void ImportWizard::retranslateUi() {
    setWindowTitle(tr("Import a model"));
    page(FolderPage)->setTitle(tr("Model folder"));
    page(FolderPage)->setSubTitle(QString());
    m_folderIntro->setText(
        tr("Choose a Hugging Face model folder: config.json, safetensors weights (one file or "
           "shards with model.safetensors.index.json) and tokenizer.json. The folder is used "
           "where it is; nothing in it is changed."));
    m_folderCaption->setText(tr("&Folder:"));
    m_browseButton->setText(tr("&Browse…"));
    page(ReportPage)->setTitle(tr("Validation report"));
    page(RolePage)->setTitle(tr("Role and domain"));
    m_nameCaption->setText(tr("Na&me:"));
    m_baseRadio->setText(tr("B&ase model"));
    m_expertRadio->setText(tr("&Expert of:"));
    m_domainCaption->setText(tr("&Domain:"));
    m_domainCombo->lineEdit()->setPlaceholderText(tr("existing or new domain, e.g. math"));
    m_descriptionCaption->setText(tr("Des&cription:"));
    m_examplesCaption->setText(tr("E&xample prompts\n(one per line):"));
    m_copyCheck->setText(tr("C&opy the folder into the data folder"));
    page(ImportPage)->setTitle(tr("Import"));
    updateReport();
    if (currentId() == RolePage) updateRolePage();
}

void ImportWizard::changeEvent(QEvent* event) {
    if (event->type() == QEvent::LanguageChange) retranslateUi();
    QWizard::changeEvent(event);
}

void ImportWizard::setFolder(const QString& folder) {
    m_folderEdit->setText(QDir::toNativeSeparators(folder));
}

QString ImportWizard::folder() const {
    return QDir::fromNativeSeparators(m_folderEdit->text().trimmed());
}

void ImportWizard::browse() {
    const QString dir =
        QFileDialog::getExistingDirectory(this, tr("Choose a model folder"), folder());
    if (!dir.isEmpty()) setFolder(dir);
}

void ImportWizard::notifyComplete() {
    if (auto* p = currentPage()) emit p->completeChanged();
}

bool ImportWizard::pageComplete(int id) const {
    switch (id) {
        case FolderPage:
            return !folder().isEmpty() && QFileInfo(folder()).isDir();
        case ReportPage:
            return m_inspection && m_inspection->problems.empty() && m_inspectedFolder == folder();
        case RolePage:
            return !m_nameEdit->text().trimmed().isEmpty() &&
                   (m_baseRadio->isChecked() || m_baseCombo->currentIndex() >= 0);
        case ImportPage:
            return m_imported.has_value();
        default:
            return false;
    }
}

void ImportWizard::startInspection() {
    if (m_inspectJob) m_engine->cancel(m_inspectJob);
    m_inspection.reset();
    m_inspectError.clear();
    m_inspectedFolder = folder();
    m_inspectJob = m_engine->postInspectModel(toPath(m_inspectedFolder));
    updateReport();
    notifyComplete();
}

void ImportWizard::updateReport() {
    const QString folderText = QDir::toNativeSeparators(m_inspectedFolder);
    if (m_inspectJob) {
        m_report->setHtml(
            QStringLiteral("<p><i>%1</i></p>").arg(esc(tr("Checking %1…").arg(folderText))));
        return;
    }
    if (!m_inspectError.isEmpty()) {
        m_report->setHtml(
            QStringLiteral("<p><b>%1</b></p><pre>%2</pre>")
                .arg(esc(tr("The folder could not be checked:")), esc(m_inspectError)));
        return;
    }
    if (!m_inspection) {
        m_report->clear();
        return;
    }
    const auto& r = *m_inspection;
    const QLocale locale;
    QString html =
        QStringLiteral("<h3>%1</h3><table cellspacing='2' cellpadding='2'>").arg(esc(folderText));
    auto row = [&html](const QString& label, const QString& value) {
        html +=
            QStringLiteral("<tr><td><b>%1</b></td><td>%2</td></tr>").arg(esc(label), esc(value));
    };
    const QString none = tr("—");
    row(tr("Architecture"), r.architecture.empty() ? none : qs(r.architecture));
    row(tr("Parameters"), r.parameter_count > 0
                              ? QStringLiteral("%1 (%2)").arg(
                                    Formatting::parameterCount(r.parameter_count),
                                    locale.toString(static_cast<qlonglong>(r.parameter_count)))
                              : none);
    row(tr("Dtype"), r.dtype.empty() ? none : qs(r.dtype));
    row(tr("Tensor data"), Formatting::byteSize(static_cast<std::int64_t>(r.bytes)));
    row(tr("Tensors"), QString::number(static_cast<qulonglong>(r.tensor_count)));
    QStringList files;
    for (const auto& f : r.weight_files) files << qs(f.filename().string());
    row(tr("Weight files"), files.isEmpty() ? none : files.join(QStringLiteral(", ")));
    row(tr("Tokenizer"), r.tokenizer.empty() ? tr("missing or unreadable") : qs(r.tokenizer));
    row(tr("Chat template"), r.has_chat_template ? tr("yes") : tr("no"));
    QStringList bases;
    for (const auto& b : r.matching_bases) bases << qs(b);
    // "It can be imported as a base" only where the folder can be imported at all.
    row(tr("Matches imported base"), !bases.isEmpty() ? bases.join(QStringLiteral(", "))
                                     : r.problems.empty()
                                         ? tr("none (it can be imported as a base)")
                                         : tr("none"));
    html += QStringLiteral("</table>");
    if (r.problems.empty()) {
        html += QStringLiteral("<p style='color:#1b7a1b'><b>%1</b></p>")
                    .arg(esc(tr("The folder can be imported.")));
    } else {
        html += QStringLiteral("<p style='color:#b00020'><b>%1</b></p><ul>")
                    .arg(esc(tr("The folder cannot be imported:")));
        for (const auto& p : r.problems)
            html += QStringLiteral("<li><tt>%1</tt></li>").arg(esc(qs(p)));
        html += QStringLiteral("</ul><p>%1</p>")
                    .arg(esc(tr("Fix the folder, then go back and choose it again.")));
    }
    m_report->setHtml(html);
}

void ImportWizard::updateRolePage() {
    // The name follows the folder until the user types another.
    const QString folderName = QFileInfo(folder()).fileName();
    if (m_nameEdit->text().isEmpty() || m_nameEdit->text() == m_defaultName)
        m_nameEdit->setText(folderName);
    m_defaultName = folderName;
    // Bases: the matching ones first.
    const QString previous = m_baseCombo->currentText();
    const QSignalBlocker block(m_baseCombo);
    m_baseCombo->clear();
    QStringList matching, others;
    try {
        for (const auto& m : m_catalog.list_models()) {
            if (m.role != meswitch::ModelRole::base) continue;
            const bool match =
                m_inspection &&
                std::find(m_inspection->matching_bases.begin(), m_inspection->matching_bases.end(),
                          m.name) != m_inspection->matching_bases.end();
            (match ? matching : others) << qs(m.name);
        }
        if (m_domainCombo->count() == 0)
            for (const auto& d : m_catalog.list_domains()) m_domainCombo->addItem(qs(d.name));
    } catch (const std::exception& e) {
        spdlog::warn("import wizard: cannot read the catalog: {}", e.what());
    }
    m_baseCombo->addItems(matching + others);
    if (const int i = m_baseCombo->findText(previous); i >= 0) m_baseCombo->setCurrentIndex(i);
    if (m_baseCombo->count() == 0) {
        m_expertRadio->setEnabled(false);
        m_baseRadio->setChecked(true);
    } else {
        m_expertRadio->setEnabled(true);
        // A folder that matches a base is most likely one of its experts.
        if (!matching.isEmpty() && !m_expertRadio->isChecked() && previous.isEmpty())
            m_expertRadio->setChecked(true);
    }
    const bool expert = m_expertRadio->isChecked();
    m_baseCombo->setEnabled(expert);
    for (QWidget* w :
         {static_cast<QWidget*>(m_domainCaption), static_cast<QWidget*>(m_domainCombo),
          static_cast<QWidget*>(m_descriptionCaption), static_cast<QWidget*>(m_domainDescription),
          static_cast<QWidget*>(m_examplesCaption), static_cast<QWidget*>(m_examples)})
        w->setEnabled(expert);
    const QString base = m_baseCombo->currentText();
    const bool mismatch = expert && !base.isEmpty() && !matching.contains(base);
    m_matchWarning->setVisible(mismatch);
    if (mismatch)
        m_matchWarning->setText(
            tr("This folder does not have the architecture and tensor shapes of “%1”: the "
               "import will be refused.")
                .arg(base));
    page(RolePage)->setSubTitle(
        expert ? tr("An expert is stored as its difference to the base and can be compressed.")
               : tr("A base model holds the weights its experts are fine-tuned from."));
    notifyComplete();
}

meswitch::ImportOptions ImportWizard::importOptions() const {
    meswitch::ImportOptions o;
    o.name = m_nameEdit->text().trimmed().toStdString();
    o.copy = m_copyCheck->isChecked();
    o.data_home = m_engine->dataHome();
    if (m_expertRadio->isChecked()) {
        o.base = m_baseCombo->currentText().toStdString();
        const QString domain = m_domainCombo->currentText().trimmed();
        if (!domain.isEmpty()) {
            o.domain = domain.toStdString();
            o.domain_description = m_domainDescription->text().trimmed().toStdString();
            for (const QString& line : m_examples->toPlainText().split(QLatin1Char('\n'))) {
                const QString t = line.trimmed();
                if (!t.isEmpty()) o.examples.push_back(t.toStdString());
            }
        }
    }
    return o;
}

void ImportWizard::startImport() {
    m_imported.reset();
    m_importError.clear();
    m_importCancelled = false;
    m_error->clear();
    m_error->setVisible(false);
    m_progress->setValue(0);
    m_status->setText(tr("Importing %1…").arg(QDir::toNativeSeparators(folder())));
    m_importJob = m_engine->postImport(toPath(folder()), importOptions());
    notifyComplete();
}

void ImportWizard::onProgress(quint64 job, double fraction, const QString& message) {
    if (job != m_importJob) return;
    m_progress->setValue(static_cast<int>(fraction * 1000));
    m_status->setText(message);
}

void ImportWizard::onFinished(quint64 job, const QString&, const QVariant& result) {
    if (job == m_inspectJob) {
        m_inspectJob = 0;
        m_inspection = result.value<meswitch::ModelInspection>();
        updateReport();
        notifyComplete();
    } else if (job == m_importJob) {
        m_importJob = 0;
        m_imported = result.value<meswitch::ModelRecord>();
        m_progress->setValue(1000);
        const auto& m = *m_imported;
        m_status->setText(
            m.role == meswitch::ModelRole::expert
                ? tr("Done: “%1” was imported as an expert (%2 parameters). Compress it from the "
                     "Library or the Compress page.")
                      .arg(qs(m.name), Formatting::parameterCount(m.parameter_count))
                : tr("Done: “%1” was imported as a base model (%2 parameters).")
                      .arg(qs(m.name), Formatting::parameterCount(m.parameter_count)));
        spdlog::info("import wizard: imported '{}' (id {})", m.name, m.id);
        emit modelImported(m.id);
        notifyComplete();
        // The import is done and cannot be undone from here: only Finish is left.
        button(QWizard::BackButton)->setEnabled(false);
        button(QWizard::CancelButton)->setEnabled(false);
    }
}

void ImportWizard::onFailed(quint64 job, const QString&, const QString& message, bool cancelled) {
    if (job == m_inspectJob) {
        m_inspectJob = 0;
        m_inspectError = message;
        updateReport();
        notifyComplete();
    } else if (job == m_importJob) {
        m_importJob = 0;
        m_importError = message;
        m_importCancelled = cancelled;
        m_progress->setValue(0);
        m_status->setText(cancelled ? tr("The import was cancelled; the catalog is unchanged.")
                                    : tr("The import failed; the catalog is unchanged. Go back "
                                         "to change the choices."));
        m_error->setVisible(!cancelled);
        m_error->setPlainText(message);
        notifyComplete();
    }
}

void ImportWizard::reject() {
    if (m_inspectJob) m_engine->cancel(m_inspectJob);
    if (m_importJob) m_engine->cancel(m_importJob);
    QWizard::reject();
}
