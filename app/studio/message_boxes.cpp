#include "message_boxes.h"

#include <QCoreApplication>
#include <QMessageBox>
#include <QPushButton>

namespace MessageBoxes {

void error(QWidget* parent, const QString& title, const QString& text) {
    QMessageBox box(parent);
    box.setIcon(QMessageBox::Warning);
    box.setWindowTitle(title);
    box.setText(text);
    box.setTextInteractionFlags(Qt::TextSelectableByMouse);
    box.addButton(QCoreApplication::translate("MessageBoxes", "OK"), QMessageBox::AcceptRole);
    box.exec();
}

bool confirm(QWidget* parent, const QString& title, const QString& text,
             const QString& acceptText) {
    QMessageBox box(parent);
    box.setIcon(QMessageBox::Question);
    box.setWindowTitle(title);
    box.setText(text);
    auto* accept = box.addButton(acceptText, QMessageBox::DestructiveRole);
    auto* cancel = box.addButton(QCoreApplication::translate("MessageBoxes", "Cancel"),
                                 QMessageBox::RejectRole);
    box.setDefaultButton(cancel);
    box.setEscapeButton(cancel);
    box.exec();
    return box.clickedButton() == accept;
}

}  // namespace MessageBoxes
