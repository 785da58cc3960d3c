// The Chat page's widgets: building them (conversations, sampling controls, the message
// column, the input with its actions, shortcuts and tab order) and their texts in the current
// language. The page's behaviour is in chat_page.cpp.
#include <QAbstractItemView>
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QItemSelectionModel>
#include <QKeySequence>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QMenu>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QShortcut>
#include <QSpinBox>
#include <QSplitter>
#include <QStyledItemDelegate>
#include <QVBoxLayout>

#include "chat_list_model.h"
#include "chat_page.h"
#include "studio_settings.h"

namespace {

// Conversation titles take the list's width and end in "…" when longer: the items' own width is
// left out of their size, so the list never scrolls sideways (the full title is the tooltip).
class ElidingTitleDelegate : public QStyledItemDelegate {
public:
    using QStyledItemDelegate::QStyledItemDelegate;
    QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override {
        QSize size = QStyledItemDelegate::sizeHint(option, index);
        size.setWidth(1);
        return size;
    }
};

}  // namespace

void ChatPage::buildUi() {
    // Conversations.
    m_chatList = new QListView(this);
    m_chatList->setObjectName(QStringLiteral("conversationList"));
    m_chatList->setModel(m_chats);
    m_chatList->setEditTriggers(QAbstractItemView::EditKeyPressed |
                                QAbstractItemView::DoubleClicked);
    m_chatList->setItemDelegate(new ElidingTitleDelegate(m_chatList));
    m_chatList->setTextElideMode(Qt::ElideRight);
    m_chatList->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_chatList->setContextMenuPolicy(Qt::CustomContextMenu);
    m_newChat = new QPushButton(this);
    m_newChat->setObjectName(QStringLiteral("newChatButton"));
    m_renameChat = new QPushButton(this);
    m_renameChat->setObjectName(QStringLiteral("renameChatButton"));
    m_deleteChat = new QPushButton(this);
    m_deleteChat->setObjectName(QStringLiteral("deleteChatButton"));
    connect(m_newChat, &QPushButton::clicked, this, &ChatPage::newChat);
    connect(m_renameChat, &QPushButton::clicked, this, &ChatPage::renameCurrentChat);
    connect(m_deleteChat, &QPushButton::clicked, this, &ChatPage::deleteCurrentChat);
    m_exportChat = new QPushButton(this);
    m_exportChat->setObjectName(QStringLiteral("exportChatButton"));
    connect(m_exportChat, &QPushButton::clicked, this, &ChatPage::exportCurrentChat);
    connect(m_chatList, &QWidget::customContextMenuRequested, this, [this](const QPoint& at) {
        const QModelIndex index = m_chatList->indexAt(at);
        if (!index.isValid()) return;
        const qint64 id = index.data(ChatListModel::ChatIdRole).toLongLong();
        if (!m_chatId || *m_chatId != id) openChat(id);
        QMenu menu(this);
        menu.addAction(m_renameChat->text(), this, &ChatPage::renameCurrentChat);
        menu.addAction(m_exportChat->text(), this, &ChatPage::exportCurrentChat);
        menu.addAction(m_deleteChat->text(), this, &ChatPage::deleteCurrentChat)
            ->setEnabled(!isGenerating());
        menu.exec(m_chatList->viewport()->mapToGlobal(at));
    });
    connect(m_chatList->selectionModel(), &QItemSelectionModel::currentChanged, this,
            [this](const QModelIndex& current) {
                if (m_selecting || !current.isValid()) return;
                const qint64 id = current.data(ChatListModel::ChatIdRole).toLongLong();
                if (!m_chatId || *m_chatId != id) openChat(id);
            });
    auto* left = new QWidget(this);
    auto* leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    leftLayout->addWidget(m_newChat);
    leftLayout->addWidget(m_chatList, 1);
    auto* chatButtons = new QHBoxLayout;
    chatButtons->addWidget(m_renameChat);
    chatButtons->addWidget(m_deleteChat);
    chatButtons->addWidget(m_exportChat);
    leftLayout->addLayout(chatButtons);

    // Who answers, the system prompt and sampling.
    m_expertCaption = new QLabel(this);
    m_expert = new QComboBox(this);
    m_expert->setObjectName(QStringLiteral("expertCombo"));
    // Narrow enough for the row in any language; the list opens as wide as its longest entry.
    m_expert->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_expert->setMinimumContentsLength(16);
    m_expertCaption->setBuddy(m_expert);
    m_systemCaption = new QLabel(this);
    m_systemPrompt = new QLineEdit(this);
    m_systemPrompt->setObjectName(QStringLiteral("systemPromptEdit"));
    m_systemPrompt->setClearButtonEnabled(true);
    m_systemCaption->setBuddy(m_systemPrompt);
    connect(m_systemPrompt, &QLineEdit::editingFinished, this, [this] {
        if (!m_chatId) return;
        try {
            m_catalog.set_chat_system_prompt(*m_chatId, m_systemPrompt->text().toStdString());
        } catch (const std::exception& e) {
            showError(QString::fromUtf8(e.what()));
        }
    });

    const StudioSettings::ChatSampling sampling = StudioSettings::chatSampling();
    m_temperatureCaption = new QLabel(this);
    m_temperature = new QDoubleSpinBox(this);
    m_temperature->setObjectName(QStringLiteral("temperatureSpin"));
    m_temperature->setRange(0.0, 2.0);
    m_temperature->setSingleStep(0.1);
    m_temperature->setDecimals(2);
    m_temperature->setValue(sampling.temperature);
    m_topPCaption = new QLabel(this);
    m_topP = new QDoubleSpinBox(this);
    m_topP->setObjectName(QStringLiteral("topPSpin"));
    m_topP->setRange(0.05, 1.0);
    m_topP->setSingleStep(0.05);
    m_topP->setDecimals(2);
    m_topP->setValue(sampling.topP);
    m_maxTokensCaption = new QLabel(this);
    m_maxTokens = new QSpinBox(this);
    m_maxTokens->setObjectName(QStringLiteral("maxTokensSpin"));
    m_maxTokens->setRange(1, 32768);
    m_maxTokens->setValue(sampling.maxTokens);
    m_seedCaption = new QLabel(this);
    m_seed = new QSpinBox(this);
    m_seed->setObjectName(QStringLiteral("seedSpin"));
    m_seed->setRange(0, std::numeric_limits<int>::max());
    m_seed->setValue(static_cast<int>(std::min<quint64>(sampling.seed, 0x7fffffff)));
    m_modelDefaults = new QCheckBox(this);
    m_modelDefaults->setObjectName(QStringLiteral("modelDefaultsCheck"));
    m_modelDefaults->setChecked(sampling.modelDefaults);
    for (auto* label : {m_temperatureCaption, m_topPCaption, m_maxTokensCaption, m_seedCaption})
        label->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
    m_temperatureCaption->setBuddy(m_temperature);
    m_topPCaption->setBuddy(m_topP);
    m_maxTokensCaption->setBuddy(m_maxTokens);
    m_seedCaption->setBuddy(m_seed);
    connect(m_temperature, &QDoubleSpinBox::valueChanged, this, &ChatPage::saveSampling);
    connect(m_topP, &QDoubleSpinBox::valueChanged, this, &ChatPage::saveSampling);
    connect(m_maxTokens, &QSpinBox::valueChanged, this, &ChatPage::saveSampling);
    connect(m_seed, &QSpinBox::valueChanged, this, &ChatPage::saveSampling);
    connect(m_modelDefaults, &QCheckBox::toggled, this, &ChatPage::saveSampling);

    auto* topRow = new QHBoxLayout;
    topRow->addWidget(m_expertCaption);
    topRow->addWidget(m_expert, 1);
    topRow->addWidget(m_systemCaption);
    topRow->addWidget(m_systemPrompt, 2);
    auto* samplingRow = new QHBoxLayout;
    samplingRow->addWidget(m_temperatureCaption);
    samplingRow->addWidget(m_temperature);
    samplingRow->addWidget(m_topPCaption);
    samplingRow->addWidget(m_topP);
    samplingRow->addWidget(m_maxTokensCaption);
    samplingRow->addWidget(m_maxTokens);
    samplingRow->addWidget(m_seedCaption);
    samplingRow->addWidget(m_seed);
    samplingRow->addWidget(m_modelDefaults);
    samplingRow->addStretch(1);

    // The conversation.
    m_messagesHost = new QWidget(this);
    m_messagesHost->setObjectName(QStringLiteral("messages"));
    m_messagesLayout = new QVBoxLayout(m_messagesHost);
    m_messagesLayout->setSpacing(6);
    m_empty = new QLabel(m_messagesHost);
    m_empty->setObjectName(QStringLiteral("emptyChatLabel"));
    m_empty->setWordWrap(true);
    m_empty->setAlignment(Qt::AlignCenter);
    m_messagesLayout->addWidget(m_empty);
    m_messagesLayout->addStretch(1);
    m_scroll = new QScrollArea(this);
    m_scroll->setObjectName(QStringLiteral("messagesScroll"));
    m_scroll->setWidgetResizable(true);
    m_scroll->setWidget(m_messagesHost);
    m_scroll->setFocusPolicy(Qt::NoFocus);

    // Input.
    m_editNote = new QLabel(this);
    m_editNote->setObjectName(QStringLiteral("editNote"));
    m_editNote->setWordWrap(true);
    m_cancelEdit = new QPushButton(this);
    connect(m_cancelEdit, &QPushButton::clicked, this, &ChatPage::cancelEdit);
    auto* editRow = new QHBoxLayout;
    editRow->addWidget(m_editNote, 1);
    editRow->addWidget(m_cancelEdit);
    m_editNote->hide();
    m_cancelEdit->hide();
    m_input = new QPlainTextEdit(this);
    m_input->setObjectName(QStringLiteral("chatInput"));
    m_input->setTabChangesFocus(true);
    m_input->setFixedHeight(m_input->fontMetrics().lineSpacing() * 4 + 12);
    m_send = new QPushButton(this);
    m_send->setObjectName(QStringLiteral("sendButton"));
    m_send->setDefault(true);
    m_stop = new QPushButton(this);
    m_stop->setObjectName(QStringLiteral("stopButton"));
    connect(m_send, &QPushButton::clicked, this, &ChatPage::send);
    connect(m_stop, &QPushButton::clicked, this, &ChatPage::stop);
    auto* sendButtons = new QVBoxLayout;
    sendButtons->addWidget(m_send);
    sendButtons->addWidget(m_stop);
    sendButtons->addStretch(1);
    auto* inputRow = new QHBoxLayout;
    inputRow->addWidget(m_input, 1);
    inputRow->addLayout(sendButtons);
    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("chatStatus"));
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto* right = new QWidget(this);
    auto* rightLayout = new QVBoxLayout(right);
    rightLayout->setContentsMargins(0, 0, 0, 0);
    rightLayout->addLayout(topRow);
    rightLayout->addLayout(samplingRow);
    rightLayout->addWidget(m_scroll, 1);
    rightLayout->addLayout(editRow);
    rightLayout->addLayout(inputRow);
    rightLayout->addWidget(m_status);

    auto* splitter = new QSplitter(this);
    splitter->addWidget(left);
    splitter->addWidget(right);
    splitter->setStretchFactor(0, 0);
    splitter->setStretchFactor(1, 1);
    splitter->setSizes({220, 800});
    auto* layout = new QVBoxLayout(this);
    layout->addWidget(splitter);

    // Keyboard: Ctrl+Enter sends, Esc stops (Ctrl+N, new chat, is the main window's File menu).
    for (const QKeySequence& keys :
         {QKeySequence(Qt::CTRL | Qt::Key_Return), QKeySequence(Qt::CTRL | Qt::Key_Enter)}) {
        auto* shortcut = new QShortcut(keys, this);
        shortcut->setContext(Qt::WidgetWithChildrenShortcut);
        connect(shortcut, &QShortcut::activated, this, &ChatPage::send);
    }
    auto* escape = new QShortcut(QKeySequence(Qt::Key_Escape), this);
    escape->setContext(Qt::WidgetWithChildrenShortcut);
    connect(escape, &QShortcut::activated, this, [this] {
        if (isGenerating())
            stop();
        else if (m_editingId)
            cancelEdit();
    });

    setTabOrder(m_input, m_send);
    setTabOrder(m_send, m_stop);
    setTabOrder(m_stop, m_expert);
    setTabOrder(m_expert, m_systemPrompt);
    setTabOrder(m_systemPrompt, m_temperature);
    setTabOrder(m_temperature, m_topP);
    setTabOrder(m_topP, m_maxTokens);
    setTabOrder(m_maxTokens, m_seed);
    setTabOrder(m_seed, m_modelDefaults);
    setTabOrder(m_modelDefaults, m_chatList);
    setTabOrder(m_chatList, m_newChat);
    setFocusProxy(m_input);
}

void ChatPage::retranslateUi() {
    setWindowTitle(tr("Chat"));
    m_newChat->setText(tr("New chat"));
    m_newChat->setToolTip(tr("Start a new conversation (Ctrl+N)"));
    m_renameChat->setText(tr("Rename"));
    m_deleteChat->setText(tr("Delete"));
    m_exportChat->setText(tr("Export…"));
    m_exportChat->setToolTip(tr("Save this conversation as a Markdown or JSON file"));
    m_expertCaption->setText(tr("&Expert:"));
    m_expert->setToolTip(
        tr("Automatic: the router picks the expert for every message; below the "
           "routing threshold (Settings) the base model answers."));
    if (m_expert->count() > 0) m_expert->setItemText(0, tr("Automatic (router)"));
    m_systemCaption->setText(tr("S&ystem prompt:"));
    m_systemPrompt->setPlaceholderText(tr("Optional instructions for the model"));
    m_temperatureCaption->setText(tr("&Temperature:"));
    m_temperature->setToolTip(tr("0 always picks the most likely token"));
    m_topPCaption->setText(tr("Top-&p:"));
    m_maxTokensCaption->setText(tr("&Max tokens:"));
    m_seedCaption->setText(tr("See&d:"));
    m_seed->setSpecialValueText(tr("random"));
    m_modelDefaults->setText(tr("M&odel defaults"));
    m_modelDefaults->setToolTip(
        tr("Use the sampling settings each model ships in its generation_config.json "
           "(temperature, top-p, max tokens) where it has them; the values here fill the rest. "
           "Off: always the values here."));
    m_empty->setText(
        tr("Ask anything: the router sends every message to the expert that suits "
           "it.\nCtrl+Enter sends, Esc stops, Ctrl+N starts a new chat."));
    m_editNote->setText(
        tr("Editing an earlier message: sending replaces it and everything after "
           "it."));
    m_cancelEdit->setText(tr("Cancel edit"));
    m_input->setPlaceholderText(tr("Message (Ctrl+Enter to send)"));
    m_send->setText(tr("Send"));
    m_send->setToolTip(tr("Send the message (Ctrl+Enter)"));
    m_stop->setText(tr("Stop"));
    m_stop->setToolTip(tr("Stop the answer (Esc)"));
    refreshModels();
    rebuildMessageViews();
}
