// View → Show log: the tail of the log file, with Refresh and Open folder.
#pragma once

#include <QDialog>
#include <QString>

class QLabel;
class QPlainTextEdit;
class QPushButton;

class LogViewerDialog : public QDialog {
    Q_OBJECT

public:
    // Shows at most this much of the end of the file.
    static constexpr qint64 kTailBytes = 256 * 1024;

    LogViewerDialog(const QString& logFile, QWidget* parent = nullptr);

    QString text() const;

public slots:
    void refresh();
    void openFolder();

protected:
    void changeEvent(QEvent* event) override;

private:
    void retranslateUi();

    QString m_file;
    QLabel* m_fileLabel = nullptr;
    QPlainTextEdit* m_text = nullptr;
    QPushButton* m_refresh = nullptr;
    QPushButton* m_openFolder = nullptr;
    QPushButton* m_close = nullptr;
};
