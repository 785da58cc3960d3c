#include "chat_page.h"

#include <QAbstractItemView>
#include <QCheckBox>
#include <QComboBox>
#include <QCoreApplication>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QMenu>
#include <QPainter>
#include <QPainterPath>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QRandomGenerator>
#include <QScopedValueRollback>
#include <QScrollArea>
#include <QScrollBar>
#include <QSpinBox>
#include <QStandardPaths>
#include <QStyle>
#include <QThread>
#include <QTimer>
#include <QVBoxLayout>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>

#include "chat_engine_backend.h"
#include "chat_export.h"
#include "chat_list_model.h"
#include "chat_message_widget.h"
#include "formatting.h"
#include "message_boxes.h"
#include "studio_settings.h"

using Formatting::qs;

namespace {

// A speech bubble in the colours of the other navigation icons (blue outline, orange dots).
QIcon drawnChatIcon() {
    return StudioPage::drawnIcon([](QPainter& p) {
        QPainterPath bubble;
        bubble.addRoundedRect(QRectF(3, 5, 26, 18), 5, 5);
        QPainterPath tail;
        tail.moveTo(8, 21);
        tail.lineTo(7, 28);
        tail.lineTo(15, 22);
        bubble = bubble.united(tail);
        p.setPen(QPen(QColor(0x2b, 0x6c, 0xb0), 2.2));
        p.setBrush(QColor(0xe8, 0xf1, 0xfa));
        p.drawPath(bubble);
        p.setPen(Qt::NoPen);
        p.setBrush(QColor(0xf0, 0x9a, 0x1a));
        for (double x : {10.0, 16.0, 22.0}) p.drawEllipse(QPointF(x, 14), 2.2, 2.2);
    });
}

QIcon chatIcon() {
    QIcon icon = StudioPage::navigationIcon(QStringLiteral("chat"));
    if (icon.availableSizes().isEmpty()) icon = QIcon::fromTheme(QStringLiteral("internet-chat"));
    if (icon.isNull() || icon.availableSizes().isEmpty()) icon = drawnChatIcon();
    return icon;
}

int modelThreads() {
    // Leave a core to the GUI thread so that it never waits for the generation's threads.
    return std::max(1, QThread::idealThreadCount() - 1);
}

// The Settings' device ("auto", "cpu", "gpu:NAME") as the engine names it. The engine serves on
// the first CUDA device.
std::string engineDevice(const QString& setting) {
    if (setting == QLatin1String("cpu")) return "cpu";
    if (setting.startsWith(QLatin1String("gpu:"))) return "cuda";
    return "auto";
}

}  // namespace

ChatPage::ChatPage(meswitch::Catalog& catalog, std::unique_ptr<ChatBackend> backend,
                   QWidget* parent)
    : StudioPage(QStringLiteral("chat"), chatIcon(), parent),
      m_catalog(catalog),
      m_backend(std::move(backend)) {
    if (!m_backend) m_backend = std::make_unique<EngineChatBackend>(catalog.path(), modelThreads());

    m_flushTimer = new QTimer(this);
    m_flushTimer->setInterval(50);
    connect(m_flushTimer, &QTimer::timeout, this, &ChatPage::flushPendingText);

    m_chats = new ChatListModel(m_catalog, this);
    connect(m_chats, &ChatListModel::catalogError, this, &ChatPage::showError);
    buildUi();
    retranslateUi();
    reloadChats();
    refreshModels();
    rebuildMessageViews();
    updateActions();
}

ChatPage::~ChatPage() {
    // The engine stops the answer at its next step and joins its thread; what its callbacks
    // still post finds the page gone and is dropped.
    if (m_requestId) m_backend->cancel(m_backendId);
    m_backend.reset();
}

void ChatPage::showEvent(QShowEvent* event) {
    refreshModels();  // the Library may have imported or removed models meanwhile
    StudioPage::showEvent(event);
}

void ChatPage::saveSampling() {
    StudioSettings::ChatSampling s;
    s.temperature = m_temperature->value();
    s.topP = m_topP->value();
    s.maxTokens = m_maxTokens->value();
    s.seed = static_cast<quint64>(m_seed->value());
    s.modelDefaults = m_modelDefaults->isChecked();
    StudioSettings::setChatSampling(s);
}

void ChatPage::refreshModels() {
    const qint64 selected = m_expert->count() > 0 ? m_expert->currentData().toLongLong() : -1;
    std::vector<meswitch::ModelRecord> models;
    try {
        models = m_catalog.list_models();
    } catch (const std::exception& e) {
        spdlog::warn("chat: cannot list models: {}", e.what());
    }
    const QSignalBlocker block(m_expert);
    m_expert->clear();
    m_expert->addItem(tr("Automatic (router)"), qint64(-1));
    for (const auto& m : models) {
        QString label;
        if (m.role == meswitch::ModelRole::base) {
            label = tr("%1 (base model)").arg(qs(m.name));
        } else {
            QString details;
            try {
                details = Formatting::domainTags(m_catalog.domains_of(m.id));
                const auto artifacts = m_catalog.delta_artifacts(m.id);
                const QString compression = artifacts.empty()
                                                ? tr("full weights")
                                                : Formatting::compressionSummary(artifacts);
                details =
                    details.isEmpty() ? compression : details + QStringLiteral(", ") + compression;
            } catch (const std::exception&) {
            }
            label =
                details.isEmpty() ? qs(m.name) : QStringLiteral("%1 (%2)").arg(qs(m.name), details);
        }
        m_expert->addItem(label, qint64(m.id));
    }
    const int index = m_expert->findData(selected);
    m_expert->setCurrentIndex(index >= 0 ? index : 0);
    m_expert->view()->setMinimumWidth(m_expert->view()->sizeHintForColumn(0) +
                                      m_expert->style()->pixelMetric(QStyle::PM_ScrollBarExtent));
}

void ChatPage::reloadChats() {
    try {
        m_chats->refresh();
    } catch (const std::exception& e) {
        showError(QString::fromUtf8(e.what()));
    }
    const QScopedValueRollback guard(m_selecting, true);
    const int row = m_chatId ? m_chats->rowOf(*m_chatId) : -1;
    if (row >= 0)
        m_chatList->setCurrentIndex(m_chats->index(row));
    else
        m_chatList->clearSelection();
    updateActions();
}

void ChatPage::reloadMessages() {
    m_messages.clear();
    if (m_chatId) {
        try {
            m_messages = m_catalog.messages(*m_chatId);
        } catch (const std::exception& e) {
            showError(QString::fromUtf8(e.what()));
        }
    }
    rebuildMessageViews();
}

std::vector<ChatMessageWidget*> ChatPage::messageWidgets() const {
    std::vector<ChatMessageWidget*> out;
    for (int i = 0; i < m_messagesLayout->count(); ++i)
        if (auto* w = qobject_cast<ChatMessageWidget*>(m_messagesLayout->itemAt(i)->widget()))
            out.push_back(w);
    return out;
}

void ChatPage::rebuildMessageViews() {
    // The views of messages whose text has not changed are kept (a long answer is not rendered
    // again); the others go with deleteLater: a message's own button (edit, regenerate) may have
    // started this rebuild.
    std::vector<ChatMessageWidget*> reusable = messageWidgets();
    for (ChatMessageWidget* w : reusable) m_messagesLayout->removeWidget(w);
    const bool live = isGenerating() && m_chatId && *m_chatId == m_live.chatId;
    for (const auto& m : m_messages) {
        if (m.role != "user" && m.role != "assistant") continue;
        if (live && m_live.regenerating && m.id == *m_live.regenerating) continue;
        messageView(m, reusable);
    }
    if (live) {
        meswitch::MessageRecord answer;
        answer.role = "assistant";
        answer.text = m_live.text.toStdString();
        m_liveView = messageView(answer, reusable);
        m_liveView->setFooter(liveFooter());
        m_liveView->setAlternatives(0, 1);
    }
    for (ChatMessageWidget* w : reusable) {
        w->hide();
        w->deleteLater();
    }
    if (!m_lastError.isEmpty()) {
        auto* error = new ChatMessageWidget(ChatMessageWidget::Role::error, 0, m_messagesHost);
        error->setText(m_lastError);
        m_messagesLayout->insertWidget(m_messagesLayout->count() - 1, error);
    }
    m_empty->setVisible(messageWidgets().empty());
    updateActions();
    scrollToEnd();
}

ChatMessageWidget* ChatPage::messageView(const meswitch::MessageRecord& m,
                                         std::vector<ChatMessageWidget*>& reusable) {
    const auto role =
        m.role == "user" ? ChatMessageWidget::Role::user : ChatMessageWidget::Role::assistant;
    const QString text = qs(m.text);
    // The same message with the same text, or (id 0) the answer that was just streamed.
    auto found = std::find_if(reusable.begin(), reusable.end(), [&](ChatMessageWidget* w) {
        return w->role() == role && (w->messageId() == m.id || w->messageId() == 0) &&
               w->text() == text;
    });
    ChatMessageWidget* w = nullptr;
    if (found != reusable.end()) {
        w = *found;
        reusable.erase(found);
        w->setMessageId(m.id);
    } else {
        w = createMessageView(m);
    }
    if (role == ChatMessageWidget::Role::assistant && m.id != 0) {
        const auto extra = m_extras.find({m.id, m.alternative});
        w->setFooter(footerFor(m, extra != m_extras.end() ? &extra->second : nullptr));
        w->setAlternatives(m.alternative, m.alternative_count);
    }
    m_messagesLayout->insertWidget(m_messagesLayout->count() - 1, w);  // before the stretch
    w->show();  // now, not at the layout's next event: its buttons are usable at once
    return w;
}

ChatMessageWidget* ChatPage::createMessageView(const meswitch::MessageRecord& m) {
    const auto role =
        m.role == "user" ? ChatMessageWidget::Role::user : ChatMessageWidget::Role::assistant;
    auto* w = new ChatMessageWidget(role, m.id, m_messagesHost);
    w->setText(qs(m.text));
    connect(w, &ChatMessageWidget::editRequested, this,
            [this](std::int64_t id, const QString& text) {
                if (isGenerating()) return;
                m_editingId = id;
                m_input->setPlainText(text);
                m_input->setFocus();
                m_editNote->show();
                m_cancelEdit->show();
            });
    connect(w, &ChatMessageWidget::regenerateRequested, this, &ChatPage::regenerate);
    connect(w, &ChatMessageWidget::alternativeRequested, this, &ChatPage::chooseAlternative);
    return w;
}

QString ChatPage::modelName(std::optional<std::int64_t> id) const {
    if (!id) return {};
    try {
        if (auto m = m_catalog.model(*id)) return qs(m->name);
    } catch (const std::exception&) {
    }
    return tr("a removed model");
}

QString ChatPage::footerFor(const meswitch::MessageRecord& m, const AnswerExtra* extra) const {
    QStringList parts;
    if (m.expert_id) {
        parts << tr("Answered by %1").arg(modelName(m.expert_id));
    } else if (extra && !extra->routing.modelId && !extra->routing.modelName.empty()) {
        parts << tr("Answered by %1").arg(qs(extra->routing.modelName));  // a MoE variant
    } else if (extra && !extra->routing.modelName.empty()) {
        parts << tr("Answered by the base model %1").arg(qs(extra->routing.modelName));
    } else {
        parts << tr("Answered by the base model");
    }
    if (m.routing_confidence)
        parts << tr("routing confidence %1%").arg(*m.routing_confidence * 100.0, 0, 'f', 0);
    if (extra) {
        const std::string& reason = extra->routing.baseReason;
        if (reason == "below threshold")
            parts << tr("below the routing threshold %1%")
                         .arg(StudioSettings::routingThreshold() * 100.0, 0, 'f', 0);
        else if (reason == "empty prompt")
            parts << tr("empty message: not routed");
        else if (reason.rfind("routing unavailable: ", 0) == 0)
            parts << tr("routing unavailable: %1").arg(qs(reason.substr(21)));
        else if (!reason.empty())
            parts << qs(reason);
        if (!extra->routing.automatic) parts << tr("chosen by hand");
        // The engine's note (a chat template fallback, turns left out to fit the context).
        if (!extra->routing.note.empty()) parts << qs(extra->routing.note);
        // The model's own sampling defaults, when they were used.
        if (!extra->routing.modelDefaults.empty())
            parts << tr("model defaults: %1").arg(qs(extra->routing.modelDefaults));
    }
    parts << tr("%n tokens", "", static_cast<int>(m.token_count));
    if (m.tokens_per_second > 0) parts << tr("%1 tokens/s").arg(m.tokens_per_second, 0, 'f', 1);
    if (extra && extra->stopReason == "cancelled") parts << tr("stopped");
    if (extra && extra->stopReason == "max_tokens") parts << tr("reached the token limit");
    if (extra && extra->stopReason == "context_full") parts << tr("reached the context length");
    return parts.join(QStringLiteral(" · "));
}

QString ChatPage::liveFooter() const {
    if (!m_live.routed) return tr("Choosing the expert…");
    const ChatRouting& r = m_live.routing;
    QStringList parts;
    if (r.expertId || (!r.modelId && !r.modelName.empty()))  // an expert, a MoE variant
        parts << tr("%1 is answering").arg(qs(r.modelName));
    else if (!r.modelName.empty())
        parts << tr("The base model %1 is answering").arg(qs(r.modelName));
    else
        parts << tr("The base model is answering");
    if (r.confidence) parts << tr("routing confidence %1%").arg(*r.confidence * 100.0, 0, 'f', 0);
    if (r.baseReason == "below threshold")
        parts << tr("below the routing threshold %1%")
                     .arg(StudioSettings::routingThreshold() * 100.0, 0, 'f', 0);
    else if (r.baseReason.rfind("routing unavailable: ", 0) == 0)
        parts << tr("routing unavailable: %1").arg(qs(r.baseReason.substr(21)));
    if (!r.automatic) parts << tr("chosen by hand");
    return parts.join(QStringLiteral(" · "));
}

void ChatPage::updateActions() {
    const bool busy = isGenerating();
    m_send->setEnabled(!busy);
    m_stop->setEnabled(busy);
    m_renameChat->setEnabled(m_chatId.has_value());
    m_deleteChat->setEnabled(m_chatId.has_value() && !busy);
    m_exportChat->setEnabled(m_chatId.has_value());
    std::vector<ChatMessageWidget*> views = messageWidgets();
    for (ChatMessageWidget* w : views) {
        w->setActionsEnabled(!busy);
        w->setRegenerateVisible(false);
    }
    // Regenerate on the last answer, or on the last question when it has no answer (stopped
    // before any text came, or failed): the question can be answered again.
    while (!views.empty() && views.back()->role() == ChatMessageWidget::Role::error)
        views.pop_back();
    if (!busy && !views.empty() && views.back()->messageId() != 0)
        views.back()->setRegenerateVisible(true);
}

void ChatPage::scrollToEnd() {
    QTimer::singleShot(0, this, [this] {
        QScrollBar* bar = m_scroll->verticalScrollBar();
        bar->setValue(bar->maximum());
    });
}

void ChatPage::showError(const QString& message) {
    m_lastError = message;
    m_status->setText(tr("Error: %1").arg(message));
    rebuildMessageViews();
}

void ChatPage::cancelEdit() {
    m_editingId.reset();
    m_input->clear();
    m_editNote->hide();
    m_cancelEdit->hide();
}

void ChatPage::newChat() {
    if (isGenerating()) {
        stop();
        finishGeneration();  // the stopped answer is dropped with the view it belonged to
    }
    m_chatId.reset();
    m_messages.clear();
    m_lastError.clear();
    m_systemPrompt->clear();
    cancelEdit();
    reloadChats();
    rebuildMessageViews();
    m_status->clear();
    m_input->setFocus();
}

void ChatPage::openChat(std::int64_t chatId) {
    if (isGenerating()) {
        stop();
        finishGeneration();
    }
    m_chatId = chatId;
    m_lastError.clear();
    cancelEdit();
    const int row = m_chats->rowOf(chatId);
    if (const meswitch::ChatRecord* c = m_chats->chat(row)) {
        m_systemPrompt->setText(qs(c->system_prompt));
        const QScopedValueRollback guard(m_selecting, true);
        m_chatList->setCurrentIndex(m_chats->index(row));
    }
    m_status->clear();
    reloadMessages();
}

void ChatPage::renameCurrentChat() {
    const QModelIndex index = m_chatList->currentIndex();
    if (index.isValid()) m_chatList->edit(index);
}

void ChatPage::deleteCurrentChat() {
    if (!m_chatId || isGenerating()) return;
    const int row = m_chats->rowOf(*m_chatId);
    const QString title = row >= 0 ? m_chats->index(row).data().toString() : QString();
    const QString question =
        tr("Delete the conversation \"%1\" and all its messages? This cannot be undone.")
            .arg(title);
    const bool ok =
        m_confirm ? m_confirm(question)
                  : MessageBoxes::confirm(this, tr("Delete conversation"), question, tr("Delete"));
    if (!ok) return;
    try {
        m_catalog.remove_chat(*m_chatId);
    } catch (const std::exception& e) {
        showError(QString::fromUtf8(e.what()));
        return;
    }
    newChat();
}

void ChatPage::send() {
    if (isGenerating()) return;
    const QString text = m_input->toPlainText().trimmed();
    if (text.isEmpty()) return;
    m_lastError.clear();
    try {
        const std::string system = m_systemPrompt->text().toStdString();
        if (!m_chatId) {
            QString title = text.simplified();
            if (title.size() > 48) title = title.left(47) + QStringLiteral("…");
            m_chatId = m_catalog.create_chat(title.toStdString(), system);
        } else {
            m_catalog.set_chat_system_prompt(*m_chatId, system);
            if (m_editingId) m_catalog.truncate_chat(*m_chatId, *m_editingId);
        }
        meswitch::MessageRecord user;
        user.chat_id = *m_chatId;
        user.role = "user";
        user.text = text.toStdString();
        m_catalog.add_message(user);
    } catch (const std::exception& e) {
        showError(QString::fromUtf8(e.what()));
        return;
    }
    m_editingId.reset();
    m_editNote->hide();
    m_cancelEdit->hide();
    m_input->clear();
    reloadChats();
    reloadMessages();
    startGeneration();
}

void ChatPage::regenerate() {
    if (isGenerating() || !m_chatId || m_messages.empty()) return;
    m_lastError.clear();
    // The last answer gets a new alternative (the earlier ones are kept); a question left
    // without an answer is answered.
    const meswitch::MessageRecord& last = m_messages.back();
    if (last.role == "assistant")
        startGeneration(last.id);
    else if (last.role == "user")
        startGeneration();
}

void ChatPage::chooseAlternative(std::int64_t messageId, int index) {
    if (isGenerating() || !m_chatId) return;
    try {
        m_catalog.choose_alternative(messageId, index);
    } catch (const std::exception& e) {
        showError(QString::fromUtf8(e.what()));
        return;
    }
    reloadMessages();
}

void ChatPage::exportCurrentChat() {
    if (!m_chatId) return;
    const int row = m_chats->rowOf(*m_chatId);
    const QString title = row >= 0 ? m_chats->index(row).data().toString() : QString();
    const QString suggested = ChatExport::suggestedFileName(title, ChatExport::Format::markdown);
    QString path;
    if (m_saveFile) {
        path = m_saveFile(suggested);
    } else {
        const QString folder = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation);
        QString filter;
        path = QFileDialog::getSaveFileName(this, tr("Export conversation"),
                                            QDir(folder).filePath(suggested),
                                            tr("Markdown (*.md);;JSON (*.json)"), &filter);
        // A name typed without a suffix takes the chosen filter's.
        if (!path.isEmpty() && QFileInfo(path).suffix().isEmpty())
            path += filter.contains(QLatin1String("json")) ? QStringLiteral(".json")
                                                           : QStringLiteral(".md");
    }
    if (path.isEmpty()) return;
    exportChat(*m_chatId, path);
}

bool ChatPage::exportChat(std::int64_t chatId, const QString& path) {
    QString problem;
    try {
        std::optional<meswitch::ChatRecord> chat;
        for (const auto& c : m_catalog.list_chats())
            if (c.id == chatId) chat = c;
        if (!chat) throw std::runtime_error(tr("the conversation no longer exists").toStdString());
        const auto messages = m_catalog.messages(chatId);
        const auto name = [this](std::optional<std::int64_t> id) { return modelName(id); };
        const QByteArray data = ChatExport::formatFor(path) == ChatExport::Format::json
                                    ? ChatExport::toJson(*chat, messages, name)
                                    : ChatExport::toMarkdown(*chat, messages, name);
        problem = ChatExport::writeFile(path, data);
    } catch (const std::exception& e) {
        problem = QString::fromUtf8(e.what());
    }
    if (!problem.isEmpty()) {
        showError(tr("Could not export the conversation to %1: %2")
                      .arg(QDir::toNativeSeparators(path), problem));
        return false;
    }
    m_status->setText(tr("Exported the conversation to %1.").arg(QDir::toNativeSeparators(path)));
    return true;
}

void ChatPage::stop() {
    if (!isGenerating()) return;
    m_backend->cancel(m_backendId);  // returns at once; the outcome arrives as onFinished/onFailed
    m_status->setText(tr("Stopping…"));
}

void ChatPage::startGeneration(std::optional<std::int64_t> regenerating) {
    if (!m_chatId) return;
    ChatRequest request;
    const std::string system = m_systemPrompt->text().trimmed().toStdString();
    if (!system.empty()) request.conversation.push_back({"system", system});
    // The history: every message's chosen alternative, up to the answer being regenerated.
    for (const auto& m : m_messages) {
        if (regenerating && m.id >= *regenerating) break;
        if (m.role == "user" || m.role == "assistant")
            request.conversation.push_back({m.role, m.text});
    }
    const qint64 expert = m_expert->currentData().toLongLong();
    if (expert >= 0) request.expertId = expert;
    request.routingThreshold = StudioSettings::routingThreshold();
    request.device = engineDevice(StudioSettings::device());
    request.expertBudgetBytes =
        static_cast<std::uint64_t>(std::max(0, StudioSettings::expertMemoryBudgetMiB())) << 20;
    request.options.max_tokens = m_maxTokens->value();
    request.options.sampling.temperature = static_cast<float>(m_temperature->value());
    request.options.sampling.top_p = static_cast<float>(m_topP->value());
    request.options.sampling.seed = m_seed->value() > 0 ? static_cast<quint64>(m_seed->value())
                                                        : QRandomGenerator::global()->generate64();
    request.options.stop_on_bos = true;  // llama2.c-style models end a text with BOS
    request.useModelDefaults = m_modelDefaults->isChecked();

    // The backend's callbacks run on the engine thread: each is posted to the GUI thread (to
    // the application object, which outlives the page) and reaches the page only while it
    // exists. The QPointer is only read on the GUI thread.
    const quint64 ticket = ++m_lastRequest;
    const QPointer<ChatPage> self(this);
    const auto post = [self](auto fn) {
        QMetaObject::invokeMethod(
            QCoreApplication::instance(),
            [self, fn = std::move(fn)] {
                if (self) fn(self.data());
            },
            Qt::QueuedConnection);
    };
    ChatCallbacks callbacks;
    callbacks.onRouted = [post, ticket](const ChatRouting& routing) {
        post([ticket, routing](ChatPage* page) { page->onRouted(ticket, routing); });
    };
    callbacks.onText = [post, ticket](std::string_view piece) {
        post([ticket, text = QString::fromUtf8(piece.data(), static_cast<qsizetype>(piece.size()))](
                 ChatPage* page) { page->onText(ticket, text); });
    };
    callbacks.onFinished = [post, ticket](const ChatAnswer& answer) {
        post([ticket, answer](ChatPage* page) { page->onFinished(ticket, answer); });
    };
    callbacks.onFailed = [post, ticket](meswitch::ErrorKind kind, const std::string& message) {
        post([ticket, kind, text = QString::fromStdString(message)](ChatPage* page) {
            page->onFailed(ticket, text, kind == meswitch::ErrorKind::cancelled);
        });
    };

    m_live = Live{};
    m_live.chatId = *m_chatId;
    m_live.regenerating = regenerating;
    try {
        m_backendId = m_backend->submit(request, std::move(callbacks));
    } catch (const std::exception& e) {
        spdlog::warn("chat: {}", e.what());
        showError(QString::fromUtf8(e.what()));
        return;
    }
    m_requestId = ticket;
    m_status->setText(expert >= 0 ? tr("Loading the model…") : tr("Routing the message…"));
    rebuildMessageViews();  // adds the live answer
    m_flushTimer->start();
    emit generationStarted();
}

void ChatPage::flushPendingText() {
    if (m_live.pending.isEmpty()) return;
    m_live.text += m_live.pending;
    m_live.pending.clear();
    if (m_liveView) {
        m_liveView->setText(m_live.text);
        scrollToEnd();
    }
    emit textStreamed();
}

void ChatPage::finishGeneration(bool keepView) {
    m_requestId = 0;
    m_backendId = 0;
    m_flushTimer->stop();
    m_live = Live{};
    if (m_liveView && keepView) {
        m_liveView = nullptr;  // the stored answer's view now (rebuildMessageViews finds it)
    } else if (m_liveView) {
        m_messagesLayout->removeWidget(m_liveView);
        m_liveView->hide();
        m_liveView->deleteLater();
    }
    updateActions();
}

void ChatPage::onRouted(quint64 id, const ChatRouting& routing) {
    if (id != m_requestId) return;
    m_live.routing = routing;
    m_live.routed = true;
    if (m_liveView) m_liveView->setFooter(liveFooter());
    m_status->setText(routing.modelName.empty()
                          ? tr("Generating with the base model…")
                          : tr("Generating with %1…").arg(qs(routing.modelName)));
}

void ChatPage::onText(quint64 id, const QString& piece) {
    if (id == m_requestId) m_live.pending += piece;  // shown by the flush timer
}

void ChatPage::onFinished(quint64 id, const ChatAnswer& answer) {
    if (id != m_requestId) return;
    flushPendingText();
    const std::int64_t chatId = m_live.chatId;
    const auto& r = answer.result;
    bool stored = false;
    if (!r.tokens.empty() || !r.text.empty()) {
        meswitch::MessageRecord m;
        m.chat_id = chatId;
        m.role = "assistant";
        m.text = r.text;
        m.expert_id = answer.routing.expertId;
        m.routing_confidence = answer.routing.confidence;
        m.token_count = static_cast<std::int64_t>(r.tokens.size());
        m.prompt_ms = r.prefill_ms;
        m.generate_ms = r.decode_ms;
        m.tokens_per_second = r.tokens_per_second;
        try {
            if (m_live.regenerating) {
                const int alternative = m_catalog.add_alternative(*m_live.regenerating, m);
                m_extras[{*m_live.regenerating, alternative}] =
                    AnswerExtra{answer.routing, r.stop_reason};
            } else {
                const std::int64_t messageId = m_catalog.add_message(m);
                m_extras[{messageId, 0}] = AnswerExtra{answer.routing, r.stop_reason};
            }
            stored = true;
        } catch (const std::exception& e) {
            m_lastError = QString::fromUtf8(e.what());
        }
    }
    if (r.stop_reason == "cancelled" && !stored)
        m_status->setText(tr("Stopped before the answer began. Regenerate answers again."));
    else if (r.stop_reason == "cancelled")
        m_status->setText(tr("Stopped after %n tokens.", "", static_cast<int>(r.tokens.size())));
    else if (answer.routing.modelName.empty())
        m_status->setText(tr("The base model answered: %n tokens at %1 tokens/s.", "",
                             static_cast<int>(r.tokens.size()))
                              .arg(r.tokens_per_second, 0, 'f', 1));
    else
        m_status->setText(
            tr("%1 answered: %n tokens at %2 tokens/s.", "", static_cast<int>(r.tokens.size()))
                .arg(qs(answer.routing.modelName))
                .arg(r.tokens_per_second, 0, 'f', 1));
    const bool current = m_chatId && *m_chatId == chatId;
    finishGeneration(stored && current);
    if (current) {
        reloadChats();
        reloadMessages();
    }
    emit generationFinished(stored);
}

void ChatPage::onFailed(quint64 id, const QString& message, bool cancelled) {
    if (id != m_requestId) return;
    finishGeneration();
    if (cancelled) {
        m_status->setText(tr("Stopped before the answer began. Regenerate answers again."));
        rebuildMessageViews();
    } else {
        showError(message);
    }
    emit generationFinished(false);
}
