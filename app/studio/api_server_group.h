// The Settings page's "Local API server" group: the switch (off by default), the address and
// port (127.0.0.1:8181 unless the user names others), the API key (hidden unless shown), the
// base URL and a copyable example command, a live count of clients and requests, the status
// (listening, or why not) and the server's own log lines (the last 500). Remembered in
// QSettings (StudioSettings::apiServer*); the server itself is the ApiServerController.
#pragma once

#include <QGroupBox>
#include <QPointer>

class ApiServerController;
class QCheckBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QTimer;

class ApiServerGroup : public QGroupBox {
    Q_OBJECT

public:
    explicit ApiServerGroup(QWidget* parent = nullptr);

    // The server the switch drives (the main window's; null: the switch is disabled). When
    // the remembered switch is on, the server starts now.
    void setController(ApiServerController* controller);
    ApiServerController* controller() const;

    // The command the Copy button copies: a curl call of /v1/chat/completions with model auto
    // (and the Authorization header when a key is set, with the key itself).
    QString exampleCommand(bool revealKey = true) const;

    QCheckBox* enabledSwitch() const { return m_enabled; }
    QLineEdit* hostEdit() const { return m_host; }
    QSpinBox* portSpin() const { return m_port; }
    QLineEdit* keyEdit() const { return m_key; }
    QPushButton* showKeyButton() const { return m_showKey; }
    QLineEdit* urlEdit() const { return m_url; }
    QLineEdit* exampleEdit() const { return m_example; }
    QPushButton* copyButton() const { return m_copy; }
    QLabel* statusLabel() const { return m_status; }
    QLabel* counterLabel() const { return m_counter; }
    QPlainTextEdit* logView() const { return m_log; }

    void retranslateUi();

protected:
    void changeEvent(QEvent* event) override;

private:
    void setEnabledByUser(bool on);
    void applyAddress();  // saves the fields; restarts a server that runs
    void updateState();   // status, URL, example, counter; the poll timer
    QString currentUrl() const;

    QPointer<ApiServerController> m_controller;
    QCheckBox* m_enabled = nullptr;
    QLabel* m_addressCaption = nullptr;
    QLineEdit* m_host = nullptr;
    QLabel* m_portCaption = nullptr;
    QSpinBox* m_port = nullptr;
    QLabel* m_keyCaption = nullptr;
    QLineEdit* m_key = nullptr;
    QPushButton* m_showKey = nullptr;
    QLabel* m_urlCaption = nullptr;
    QLineEdit* m_url = nullptr;
    QLabel* m_exampleCaption = nullptr;
    QLineEdit* m_example = nullptr;
    QPushButton* m_copy = nullptr;
    QLabel* m_status = nullptr;
    QLabel* m_counter = nullptr;
    QPlainTextEdit* m_log = nullptr;
    QTimer* m_poll = nullptr;
};
