#include "api_server_group.h"

#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QDateTime>
#include <QEvent>
#include <QFontDatabase>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QTimer>

#include <spdlog/spdlog.h>

#include "api_server_controller.h"
#include "studio_settings.h"

namespace {
constexpr int kLogLines = 500;
constexpr int kPollMs = 500;

// 'text' inside single quotes for a POSIX shell.
QString shellQuoted(const QString& text) {
    QString out = text;
    out.replace(QLatin1Char('\''), QLatin1String("'\\''"));
    return QLatin1Char('\'') + out + QLatin1Char('\'');
}
}  // namespace

ApiServerGroup::ApiServerGroup(QWidget* parent) : QGroupBox(parent) {
    setObjectName(QStringLiteral("apiServerGroup"));
    m_enabled = new QCheckBox(this);
    m_enabled->setObjectName(QStringLiteral("apiServerSwitch"));
    m_enabled->setChecked(StudioSettings::apiServerEnabled());
    m_enabled->setEnabled(false);  // until a controller is set
    connect(m_enabled, &QCheckBox::toggled, this, &ApiServerGroup::setEnabledByUser);

    m_addressCaption = new QLabel(this);
    m_host = new QLineEdit(this);
    m_host->setObjectName(QStringLiteral("apiHostEdit"));
    m_host->setPlaceholderText(QStringLiteral("127.0.0.1"));
    m_host->setText(StudioSettings::apiServerHost());
    m_addressCaption->setBuddy(m_host);
    connect(m_host, &QLineEdit::editingFinished, this, &ApiServerGroup::applyAddress);
    m_portCaption = new QLabel(this);
    m_port = new QSpinBox(this);
    m_port->setObjectName(QStringLiteral("apiPortSpin"));
    m_port->setRange(0, 65535);
    m_port->setKeyboardTracking(false);  // one restart when the number is typed, not per digit
    m_port->setValue(StudioSettings::apiServerPort());
    m_portCaption->setBuddy(m_port);
    connect(m_port, &QSpinBox::valueChanged, this, &ApiServerGroup::applyAddress);
    auto* address = new QHBoxLayout;
    address->addWidget(m_host, 1);
    address->addWidget(m_portCaption);
    address->addWidget(m_port);

    m_keyCaption = new QLabel(this);
    m_key = new QLineEdit(this);
    m_key->setObjectName(QStringLiteral("apiKeyEdit"));
    m_key->setEchoMode(QLineEdit::Password);
    m_key->setText(StudioSettings::apiServerKey());
    m_keyCaption->setBuddy(m_key);
    connect(m_key, &QLineEdit::editingFinished, this, &ApiServerGroup::applyAddress);
    m_showKey = new QPushButton(this);
    m_showKey->setObjectName(QStringLiteral("apiShowKeyButton"));
    m_showKey->setCheckable(true);
    connect(m_showKey, &QPushButton::toggled, this, [this](bool show) {
        m_key->setEchoMode(show ? QLineEdit::Normal : QLineEdit::Password);
        updateState();  // the example shows the key only while it is shown here
    });
    auto* key = new QHBoxLayout;
    key->addWidget(m_key, 1);
    key->addWidget(m_showKey);

    const QFont fixed = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    m_urlCaption = new QLabel(this);
    m_url = new QLineEdit(this);
    m_url->setObjectName(QStringLiteral("apiUrlEdit"));
    m_url->setReadOnly(true);
    m_urlCaption->setBuddy(m_url);
    m_exampleCaption = new QLabel(this);
    m_example = new QLineEdit(this);
    m_example->setObjectName(QStringLiteral("apiExampleEdit"));
    m_example->setReadOnly(true);
    m_example->setFont(fixed);
    m_exampleCaption->setBuddy(m_example);
    m_copy = new QPushButton(this);
    m_copy->setObjectName(QStringLiteral("apiCopyButton"));
    connect(m_copy, &QPushButton::clicked, this,
            [this] { QApplication::clipboard()->setText(exampleCommand(true)); });
    auto* example = new QHBoxLayout;
    example->addWidget(m_example, 1);
    example->addWidget(m_copy);

    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("apiStatusLabel"));
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_counter = new QLabel(this);
    m_counter->setObjectName(QStringLiteral("apiCounterLabel"));
    m_log = new QPlainTextEdit(this);
    m_log->setObjectName(QStringLiteral("apiLogView"));
    m_log->setReadOnly(true);
    m_log->setMaximumBlockCount(kLogLines);
    m_log->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_log->setFont(fixed);
    m_log->setMinimumHeight(4 * QFontMetrics(fixed).lineSpacing() + 12);

    auto* form = new QFormLayout(this);
    form->addRow(m_enabled);
    form->addRow(m_addressCaption, address);
    form->addRow(m_keyCaption, key);
    form->addRow(m_urlCaption, m_url);
    form->addRow(m_exampleCaption, example);
    form->addRow(m_status);
    form->addRow(m_counter);
    form->addRow(m_log);

    m_poll = new QTimer(this);
    m_poll->setInterval(kPollMs);
    connect(m_poll, &QTimer::timeout, this, &ApiServerGroup::updateState);
    retranslateUi();
}

void ApiServerGroup::setController(ApiServerController* controller) {
    if (m_controller) disconnect(m_controller, nullptr, this, nullptr);
    m_controller = controller;
    m_enabled->setEnabled(m_controller != nullptr);
    if (m_controller) {
        connect(m_controller, &ApiServerController::stateChanged, this,
                &ApiServerGroup::updateState);
        connect(m_controller, &ApiServerController::logLine, this, [this](const QString& line) {
            m_log->appendPlainText(
                QDateTime::currentDateTime().toString(QStringLiteral("HH:mm:ss ")) + line);
        });
        // The remembered switch: on means the server starts with the Studio.
        if (m_enabled->isChecked() && !m_controller->isWanted()) m_controller->start();
    }
    updateState();
}

ApiServerController* ApiServerGroup::controller() const {
    return m_controller;
}

void ApiServerGroup::setEnabledByUser(bool on) {
    StudioSettings::setApiServerEnabled(on);
    if (!m_controller) return;
    if (on) {
        applyAddress();  // the fields as they are now, even when still being edited
        if (!m_controller->isWanted()) m_controller->start();
    } else {
        m_controller->stop();
    }
    updateState();
}

void ApiServerGroup::applyAddress() {
    const QString host = m_host->text().trimmed();
    const bool changed = host != StudioSettings::apiServerHost() ||
                         m_port->value() != StudioSettings::apiServerPort() ||
                         m_key->text() != StudioSettings::apiServerKey();
    StudioSettings::setApiServerHost(host);
    StudioSettings::setApiServerPort(m_port->value());
    StudioSettings::setApiServerKey(m_key->text());
    if (host.isEmpty()) m_host->setText(StudioSettings::apiServerHost());
    if (changed && m_controller && m_controller->isWanted()) {
        spdlog::info("api: restarting the local API server on the new address or key");
        m_controller->start();
    }
    updateState();
}

QString ApiServerGroup::currentUrl() const {
    if (m_controller && m_controller->isRunning()) return m_controller->baseUrl();
    const int port = StudioSettings::apiServerPort();
    if (port == 0) return {};  // known once it listens
    return QStringLiteral("http://%1:%2/v1").arg(StudioSettings::apiServerHost()).arg(port);
}

QString ApiServerGroup::exampleCommand(bool revealKey) const {
    QString url = currentUrl();
    if (url.isEmpty())
        url = QStringLiteral("http://%1:PORT/v1").arg(StudioSettings::apiServerHost());
    QString command = QStringLiteral("curl %1/chat/completions -H %2")
                          .arg(url, shellQuoted(QStringLiteral("Content-Type: application/json")));
    const QString key = StudioSettings::apiServerKey();
    if (!key.isEmpty())
        command += QStringLiteral(" -H ") +
                   shellQuoted(QStringLiteral("Authorization: Bearer ") +
                               (revealKey ? key : QString(key.size(), QChar(0x2022))));
    command += QStringLiteral(" -d ") +
               shellQuoted(QStringLiteral(R"({"model": "auto", "messages": [{"role": "user", )"
                                          R"("content": "What is 17+25?"}]})"));
    return command;
}

void ApiServerGroup::updateState() {
    const bool running = m_controller && m_controller->isRunning();
    m_url->setText(currentUrl());
    m_example->setText(exampleCommand(m_showKey->isChecked()));
    m_example->setCursorPosition(0);
    m_example->setToolTip(m_example->text());  // the whole command, which the line cuts

    QString status;
    bool problem = false;
    if (!m_controller) {
        status = tr("Available in the ME-Switch Studio window.");
    } else if (!m_controller->isWanted()) {
        status = tr("Off: nothing listens.");
    } else if (!m_controller->errorText().isEmpty()) {
        status = tr("Not listening: %1").arg(m_controller->errorText());
        problem = true;
    } else if (!running) {
        status = tr("Paused while the engine is replaced…");
    } else {
        const QString state = m_controller->engineState();
        QString engine;
        if (state == QLatin1String("ready"))
            engine = tr("the engine is ready");
        else if (state == QLatin1String("loading"))
            engine = tr("the engine is loading the base; requests get 503 until it is ready");
        else if (state.startsWith(QLatin1String("failed"))) {
            engine = tr("the engine failed: %1 (turn the server off and on to try again)")
                         .arg(state.mid(state.indexOf(QLatin1Char(':')) + 1).trimmed());
            problem = true;
        } else {
            engine = state;
        }
        status = tr("Listening on %1; %2.").arg(m_controller->baseUrl(), engine);
    }
    m_status->setText(status);
    m_status->setStyleSheet(problem ? QStringLiteral("color: #b00020;") : QString());

    const meswitch::ApiServerStats stats =
        m_controller ? m_controller->stats() : meswitch::ApiServerStats{};
    m_counter->setText(tr("%n client(s) served", "", static_cast<int>(stats.connections)) +
                       QStringLiteral(" / ") +
                       tr("%n request(s)", "", static_cast<int>(stats.requests)));
    m_counter->setVisible(m_controller && m_controller->isWanted());

    if (running && !m_poll->isActive()) m_poll->start();
    if (!running && m_poll->isActive()) m_poll->stop();
}

void ApiServerGroup::retranslateUi() {
    setTitle(tr("Local API server"));
    m_enabled->setText(tr("Serve the models over an OpenAI-compatible HTTP API"));
    m_enabled->setToolTip(
        tr("Other programs (editors, chat front ends, OpenAI client libraries) can then use the "
           "base and its experts. Requests share the engine with the chat."));
    m_addressCaption->setText(tr("Address:"));
    m_host->setToolTip(
        tr("127.0.0.1 answers this computer only; 0.0.0.0 listens on every "
           "network interface."));
    m_portCaption->setText(tr("Port:"));
    m_port->setSpecialValueText(tr("any free"));
    m_port->updateGeometry();  // its width follows the special text
    m_keyCaption->setText(tr("API key:"));
    m_key->setPlaceholderText(tr("none (no key is asked for)"));
    m_showKey->setText(tr("Show"));
    m_urlCaption->setText(tr("Base URL:"));
    m_exampleCaption->setText(tr("Example:"));
    m_copy->setText(tr("Copy"));
    m_copy->setToolTip(tr("Copies the example command (with the API key) to the clipboard."));
    updateState();
}

void ApiServerGroup::changeEvent(QEvent* event) {
    if (event->type() == QEvent::LanguageChange) retranslateUi();
    QGroupBox::changeEvent(event);
}
