// Help → About: versions, build, CUDA and the GPUs found (or why none was).
#pragma once

#include <QDialog>
#include <QList>
#include <QPair>
#include <QString>

#include <optional>

#include "meswitch/system.h"

class QLabel;
class QPushButton;

class AboutDialog : public QDialog {
    Q_OBJECT

public:
    // `scan` is the device scan the main window made in the background; nullopt while it runs.
    AboutDialog(const std::optional<meswitch::DeviceScan>& scan, QWidget* parent = nullptr);

    // (label, value) rows shown in the dialog.
    static QList<QPair<QString, QString>> facts(const meswitch::BuildInfo& build,
                                                const std::optional<meswitch::DeviceScan>& scan);
    // The same rows as plain text ("Label: value" lines), also what "Copy" puts on the clipboard.
    QString plainText() const;
    // Shows a scan that finished after the dialog opened.
    void setDeviceScan(const meswitch::DeviceScan& scan);

protected:
    void changeEvent(QEvent* event) override;

private:
    void retranslateUi();

    std::optional<meswitch::DeviceScan> m_scan;
    QLabel* m_icon = nullptr;
    QLabel* m_title = nullptr;
    QLabel* m_body = nullptr;
    QPushButton* m_copy = nullptr;
    QPushButton* m_close = nullptr;
};
