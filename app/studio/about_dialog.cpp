#include "about_dialog.h"

#include <QApplication>
#include <QClipboard>
#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>

#include "formatting.h"

using Formatting::qs;

AboutDialog::AboutDialog(const std::optional<meswitch::DeviceScan>& scan, QWidget* parent)
    : QDialog(parent), m_scan(scan) {
    setObjectName(QStringLiteral("aboutDialog"));
    m_icon = new QLabel(this);
    m_icon->setPixmap(QApplication::windowIcon().pixmap(96, 96));
    m_icon->setAlignment(Qt::AlignTop);
    m_title = new QLabel(this);
    m_body = new QLabel(this);
    m_body->setObjectName(QStringLiteral("aboutBody"));
    m_body->setTextFormat(Qt::RichText);
    m_body->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_copy = new QPushButton(this);
    m_close = new QPushButton(this);
    m_close->setDefault(true);
    connect(m_copy, &QPushButton::clicked, this,
            [this] { QApplication::clipboard()->setText(plainText()); });
    connect(m_close, &QPushButton::clicked, this, &QDialog::accept);

    auto* text = new QVBoxLayout;
    text->addWidget(m_title);
    text->addWidget(m_body);
    text->addStretch(1);
    auto* top = new QHBoxLayout;
    top->addWidget(m_icon);
    top->addLayout(text, 1);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_copy);
    buttons->addStretch(1);
    buttons->addWidget(m_close);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addLayout(buttons);
    retranslateUi();
}

QList<QPair<QString, QString>> AboutDialog::facts(const meswitch::BuildInfo& build,
                                                  const std::optional<meswitch::DeviceScan>& scan) {
    QList<QPair<QString, QString>> rows;
    rows.append({tr("Version"), qs(build.version)});
    rows.append(
        {tr("Qt"),
         tr("%1 (built with %2)").arg(QLatin1String(qVersion()), QLatin1String(QT_VERSION_STR))});
    rows.append({tr("Build"), tr("%1, %2").arg(qs(build.build_type), qs(build.compiler))});
    if (build.cuda_compiled) {
        QString cuda = tr("compiled in (toolkit %1)").arg(qs(build.cuda_version));
        if (!build.cuda_architectures.empty())
            cuda += QStringLiteral(", ") + tr("architectures %1").arg(qs(build.cuda_architectures));
        rows.append({tr("CUDA"), cuda});
    } else {
        rows.append({tr("CUDA"), tr("not compiled in")});
    }
    if (!scan) {
        rows.append({tr("GPUs"), tr("still scanning…")});
        return rows;
    }
    const QString na = tr("not available");
    rows.append(
        {tr("CUDA runtime"), scan->runtime_version.empty() ? na : qs(scan->runtime_version)});
    rows.append({tr("CUDA driver"), scan->driver_version.empty() ? na : qs(scan->driver_version)});
    if (scan->devices.empty()) {
        QString none = tr("no GPU found");
        if (!scan->note.empty())
            none += QStringLiteral(" (") + qs(scan->note) + QStringLiteral(")");
        rows.append({tr("GPUs"), none});
    }
    for (const auto& d : scan->devices) {
        rows.append(
            {tr("GPU %1").arg(d.index),
             tr("%1, %2 (%3 free), compute capability %4.%5")
                 .arg(qs(d.name), Formatting::byteSize(static_cast<std::int64_t>(d.total_memory)),
                      Formatting::byteSize(static_cast<std::int64_t>(d.free_memory)))
                 .arg(d.compute_major)
                 .arg(d.compute_minor)});
    }
    return rows;
}

QString AboutDialog::plainText() const {
    QString out = QStringLiteral("ME-Switch Studio\n");
    for (const auto& [label, value] : facts(meswitch::build_info(), m_scan))
        out += tr("%1: %2").arg(label, value) + QLatin1Char('\n');
    return out;
}

void AboutDialog::setDeviceScan(const meswitch::DeviceScan& scan) {
    m_scan = scan;
    retranslateUi();
}

void AboutDialog::retranslateUi() {
    setWindowTitle(tr("About ME-Switch Studio"));
    m_title->setText(
        QStringLiteral("<h2>ME-Switch Studio</h2><p>%1</p>")
            .arg(tr("One base model, many compressed experts, one GPU.").toHtmlEscaped()));
    QString html = QStringLiteral("<table cellspacing='2' cellpadding='2'>");
    for (const auto& [label, value] : facts(meswitch::build_info(), m_scan))
        html += QStringLiteral("<tr><td><b>%1</b></td><td>%2</td></tr>")
                    .arg(label.toHtmlEscaped(), value.toHtmlEscaped());
    html += QStringLiteral("</table>");
    m_body->setText(html);
    m_copy->setText(tr("Copy to clipboard"));
    m_close->setText(tr("Close"));
}

void AboutDialog::changeEvent(QEvent* event) {
    if (event->type() == QEvent::LanguageChange) retranslateUi();
    QDialog::changeEvent(event);
}
