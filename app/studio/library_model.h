// The Library page's item model: base models at the top level with their experts as children
// (an expert whose base is missing stays at the top level). Filled from the catalog on the GUI
// thread by reload(); texts are translated when asked for, so retranslate() only signals change.
#pragma once

#include <QAbstractItemModel>

#include <cstdint>
#include <vector>

#include "meswitch/catalog.h"

class LibraryModel : public QAbstractItemModel {
    Q_OBJECT

public:
    enum Column {
        NameColumn,
        RoleColumn,
        ArchitectureColumn,
        DtypeColumn,
        ParametersColumn,
        SizeColumn,
        DomainsColumn,
        CompressionColumn,
        PathColumn,
        ColumnCount
    };
    enum Role { ModelIdRole = Qt::UserRole + 1 };

    struct Entry {
        meswitch::ModelRecord model;
        std::vector<meswitch::DomainRecord> domains;
        std::vector<meswitch::DeltaArtifactRecord> artifacts;
        int parent = -1;            // index into entries, -1 at the top level
        std::vector<int> children;  // indices into entries
    };

    explicit LibraryModel(QObject* parent = nullptr);

    // Reads every model, its domains and delta artifacts. Throws meswitch::Error on catalog
    // failure (the previous contents stay).
    void reload(const meswitch::Catalog& catalog);
    void retranslate();

    int modelCount() const { return static_cast<int>(m_entries.size()); }
    const Entry* entry(const QModelIndex& index) const;
    QModelIndex indexOfModel(std::int64_t id, int column = 0) const;

    QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
    QModelIndex parent(const QModelIndex& child) const override;
    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation,
                        int role = Qt::DisplayRole) const override;

private:
    QString text(const Entry& e, int column) const;

    std::vector<Entry> m_entries;
    std::vector<int> m_roots;  // indices into m_entries, in display order
};
