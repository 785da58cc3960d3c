#include "chat_list_model.h"

#include <QDateTime>
#include <QLocale>

#include "formatting.h"

using Formatting::qs;

ChatListModel::ChatListModel(meswitch::Catalog& catalog, QObject* parent)
    : QAbstractListModel(parent), m_catalog(catalog) {}

int ChatListModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_chats.size());
}

QVariant ChatListModel::data(const QModelIndex& index, int role) const {
    const meswitch::ChatRecord* c = chat(index.row());
    if (!c || index.parent().isValid()) return {};
    switch (role) {
        case Qt::DisplayRole:
        case Qt::EditRole:
            return c->title.empty() ? tr("Untitled chat") : qs(c->title);
        case Qt::ToolTipRole: {
            const QDateTime updated = QDateTime::fromString(qs(c->updated_at), Qt::ISODateWithMs);
            // The full title first: the list shows long ones cut off with "…".
            const QString title = c->title.empty() ? tr("Untitled chat") : qs(c->title);
            return title + QLatin1Char('\n') +
                   tr("Last message: %1")
                       .arg(updated.isValid()
                                ? QLocale().toString(updated.toLocalTime(), QLocale::ShortFormat)
                                : qs(c->updated_at));
        }
        case ChatIdRole:
            return QVariant::fromValue<qint64>(c->id);
        default:
            return {};
    }
}

Qt::ItemFlags ChatListModel::flags(const QModelIndex& index) const {
    const Qt::ItemFlags f = QAbstractListModel::flags(index);
    return chat(index.row()) ? f | Qt::ItemIsEditable : f;
}

bool ChatListModel::setData(const QModelIndex& index, const QVariant& value, int role) {
    if (role != Qt::EditRole || !chat(index.row())) return false;
    const QString title = value.toString().simplified();
    if (title.isEmpty()) return false;
    auto& c = m_chats[static_cast<std::size_t>(index.row())];
    try {
        m_catalog.rename_chat(c.id, title.toStdString());
    } catch (const std::exception& e) {
        emit catalogError(QString::fromUtf8(e.what()));
        return false;
    }
    c.title = title.toStdString();
    emit dataChanged(index, index);
    return true;
}

void ChatListModel::refresh() {
    auto chats = m_catalog.list_chats();
    beginResetModel();
    m_chats = std::move(chats);
    endResetModel();
}

const meswitch::ChatRecord* ChatListModel::chat(int row) const {
    return row >= 0 && row < rowCount() ? &m_chats[static_cast<std::size_t>(row)] : nullptr;
}

int ChatListModel::rowOf(std::int64_t chatId) const {
    for (std::size_t i = 0; i < m_chats.size(); ++i)
        if (m_chats[i].id == chatId) return static_cast<int>(i);
    return -1;
}
