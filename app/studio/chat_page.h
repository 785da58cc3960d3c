// Chat: conversations saved in the catalog (new, rename, delete, export as Markdown or JSON),
// streamed answers from the expert the router picks (or the one chosen), stop (Esc),
// regenerate (earlier answers kept as alternatives, ‹ 1/2 ›), edit and resend, a system prompt
// and sampling settings. Each answer shows the model that answered, its routing
// confidence and tokens/s. The page builds the conversation and shows the answer; the serving
// engine (through a ChatBackend, by default EngineChatBackend) routes, picks the weights and the
// chat template and generates on its own thread. Nothing on the GUI thread waits for it: its
// callbacks are posted to the GUI thread, and streamed text reaches the view a few times per
// second.
#pragma once

#include <QPointer>
#include <QString>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "chat_backend.h"
#include "meswitch/catalog.h"
#include "studio_page.h"

class ChatListModel;
class ChatMessageWidget;
class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QListView;
class QPlainTextEdit;
class QPushButton;
class QScrollArea;
class QSpinBox;
class QTimer;
class QVBoxLayout;

class ChatPage : public StudioPage {
    Q_OBJECT

public:
    using ConfirmFn = std::function<bool(const QString& question)>;
    // Asks where to export a conversation (suggested: a file name); "" cancels.
    using SaveFileFn = std::function<QString(const QString& suggested)>;

    // `backend`: what answers (default: an EngineChatBackend over the catalog's file).
    ChatPage(meswitch::Catalog& catalog, std::unique_ptr<ChatBackend> backend = {},
             QWidget* parent = nullptr);
    ~ChatPage() override;

    void setConfirmHandler(ConfirmFn fn) { m_confirm = std::move(fn); }
    void setSaveFileHandler(SaveFileFn fn) { m_saveFile = std::move(fn); }

    QListView* conversationList() const { return m_chatList; }
    ChatListModel* conversations() const { return m_chats; }
    QComboBox* expertCombo() const { return m_expert; }
    QLineEdit* systemPromptEdit() const { return m_systemPrompt; }
    QPlainTextEdit* input() const { return m_input; }
    QPushButton* sendButton() const { return m_send; }
    QPushButton* stopButton() const { return m_stop; }
    QPushButton* newChatButton() const { return m_newChat; }
    QPushButton* exportChatButton() const { return m_exportChat; }
    QDoubleSpinBox* temperatureSpin() const { return m_temperature; }
    QDoubleSpinBox* topPSpin() const { return m_topP; }
    QSpinBox* maxTokensSpin() const { return m_maxTokens; }
    QSpinBox* seedSpin() const { return m_seed; }
    QCheckBox* modelDefaultsCheck() const { return m_modelDefaults; }
    QLabel* statusLabel() const { return m_status; }
    std::vector<ChatMessageWidget*> messageWidgets() const;

    bool isGenerating() const { return m_requestId != 0; }
    std::optional<std::int64_t> currentChatId() const { return m_chatId; }

public slots:
    void newChat();
    void send();
    void stop();
    void regenerate();
    void renameCurrentChat();
    void deleteCurrentChat();
    // Asks for a file (Markdown or JSON, by its suffix) and writes the conversation there.
    void exportCurrentChat();
    // Writes the conversation to `path`; false (and the error shown, naming the file) on failure.
    bool exportChat(std::int64_t chatId, const QString& path);
    // Makes alternative `index` of answer `messageId` the chosen one (‹ 1/2 ›).
    void chooseAlternative(std::int64_t messageId, int index);
    // Re-reads the models for the expert picker (kept selection when still present).
    void refreshModels();
    void openChat(std::int64_t chatId);

signals:
    void generationStarted();
    void textStreamed();  // after streamed text reached the view
    void generationFinished(bool stored);

protected:
    void retranslateUi() override;
    void showEvent(QShowEvent* event) override;

private:
    // What the catalog does not keep about an answer, for its footer during this session.
    struct AnswerExtra {
        ChatRouting routing;
        std::string stopReason;
    };
    struct Live {
        std::int64_t chatId = 0;
        std::optional<std::int64_t> regenerating;  // the answer that gets a new alternative
        ChatRouting routing;
        bool routed = false;
        QString text;
        QString pending;
    };

    void buildUi();
    void reloadChats();
    void reloadMessages();
    void rebuildMessageViews();
    ChatMessageWidget* messageView(const meswitch::MessageRecord& message,
                                   std::vector<ChatMessageWidget*>& reusable);
    ChatMessageWidget* createMessageView(const meswitch::MessageRecord& message);
    // regenerating: the answer that gets a new alternative (the history stops before it).
    void startGeneration(std::optional<std::int64_t> regenerating = {});
    // keepView: the live answer's view stays (it was stored and shows the same text).
    void finishGeneration(bool keepView = false);
    void flushPendingText();
    void showError(const QString& message);
    void updateActions();
    void scrollToEnd();
    void saveSampling();
    void cancelEdit();
    QString footerFor(const meswitch::MessageRecord& message, const AnswerExtra* extra) const;
    QString liveFooter() const;
    QString modelName(std::optional<std::int64_t> id) const;

    void onRouted(quint64 id, const ChatRouting& routing);
    void onText(quint64 id, const QString& piece);
    void onFinished(quint64 id, const ChatAnswer& answer);
    void onFailed(quint64 id, const QString& message, bool cancelled);

    meswitch::Catalog& m_catalog;
    ChatListModel* m_chats = nullptr;
    std::optional<std::int64_t> m_chatId;
    std::vector<meswitch::MessageRecord> m_messages;
    std::optional<std::int64_t> m_editingId;  // the user message being edited

    std::unique_ptr<ChatBackend> m_backend;
    quint64 m_requestId = 0;  // the page's number for the answer being generated (0: none)
    quint64 m_lastRequest = 0;
    ChatRequestId m_backendId = 0;
    Live m_live;
    QPointer<ChatMessageWidget> m_liveView;
    QTimer* m_flushTimer = nullptr;
    QString m_lastError;
    std::map<std::pair<std::int64_t, int>, AnswerExtra> m_extras;  // by message, alternative
    bool m_selecting = false;

    QListView* m_chatList = nullptr;
    QPushButton* m_newChat = nullptr;
    QPushButton* m_renameChat = nullptr;
    QPushButton* m_deleteChat = nullptr;
    QPushButton* m_exportChat = nullptr;
    QLabel* m_expertCaption = nullptr;
    QComboBox* m_expert = nullptr;
    QLabel* m_systemCaption = nullptr;
    QLineEdit* m_systemPrompt = nullptr;
    QLabel* m_temperatureCaption = nullptr;
    QDoubleSpinBox* m_temperature = nullptr;
    QLabel* m_topPCaption = nullptr;
    QDoubleSpinBox* m_topP = nullptr;
    QLabel* m_maxTokensCaption = nullptr;
    QSpinBox* m_maxTokens = nullptr;
    QLabel* m_seedCaption = nullptr;
    QSpinBox* m_seed = nullptr;
    QCheckBox* m_modelDefaults = nullptr;
    QScrollArea* m_scroll = nullptr;
    QWidget* m_messagesHost = nullptr;
    QVBoxLayout* m_messagesLayout = nullptr;
    QLabel* m_empty = nullptr;
    QLabel* m_editNote = nullptr;
    QPushButton* m_cancelEdit = nullptr;
    QPlainTextEdit* m_input = nullptr;
    QPushButton* m_send = nullptr;
    QPushButton* m_stop = nullptr;
    QLabel* m_status = nullptr;
    ConfirmFn m_confirm;
    SaveFileFn m_saveFile;
};
