// The conversations of the catalog for the Chat page's list, most recently updated first.
// Lives on the GUI thread only.
#pragma once

#include <QAbstractListModel>

#include <functional>

#include <vector>

#include "meswitch/catalog.h"

class ChatListModel : public QAbstractListModel {
    Q_OBJECT

public:
    static constexpr int ChatIdRole = Qt::UserRole + 1;

    explicit ChatListModel(meswitch::Catalog& catalog, QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;
    // Editing the title renames the chat in the catalog (an empty title is refused).
    bool setData(const QModelIndex& index, const QVariant& value, int role = Qt::EditRole) override;

    // Re-reads the chats (throws meswitch::Error from the catalog).
    void refresh();
    const meswitch::ChatRecord* chat(int row) const;
    int rowOf(std::int64_t chatId) const;  // -1 when absent

signals:
    void catalogError(const QString& message);

private:
    meswitch::Catalog& m_catalog;
    std::vector<meswitch::ChatRecord> m_chats;
};
