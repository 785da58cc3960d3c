#include "library_model.h"

#include <QFont>
#include <QLocale>

#include <algorithm>
#include <unordered_map>

#include "formatting.h"

using Formatting::qs;

LibraryModel::LibraryModel(QObject* parent) : QAbstractItemModel(parent) {}

void LibraryModel::reload(const meswitch::Catalog& catalog) {
    // Read everything first so that a failing query leaves the model as it was.
    std::vector<Entry> entries;
    const auto artifacts = catalog.delta_artifacts();
    for (auto& model : catalog.list_models()) {
        Entry e;
        e.domains = catalog.domains_of(model.id);
        for (const auto& a : artifacts)
            if (a.expert_id == model.id) e.artifacts.push_back(a);
        e.model = std::move(model);
        entries.push_back(std::move(e));
    }
    const auto byName = [&entries](int a, int b) {
        return QString::compare(qs(entries[a].model.name), qs(entries[b].model.name),
                                Qt::CaseInsensitive) < 0;
    };
    std::unordered_map<std::int64_t, int> position;
    for (int i = 0; i < static_cast<int>(entries.size()); ++i) position[entries[i].model.id] = i;
    std::vector<int> roots;
    for (int i = 0; i < static_cast<int>(entries.size()); ++i) {
        const auto& m = entries[i].model;
        auto base = m.base_model_id ? position.find(*m.base_model_id) : position.end();
        if (m.role == meswitch::ModelRole::expert && base != position.end() && base->second != i) {
            entries[i].parent = base->second;
            entries[base->second].children.push_back(i);
        } else {
            roots.push_back(i);
        }
    }
    std::sort(roots.begin(), roots.end(), byName);
    for (auto& e : entries) std::sort(e.children.begin(), e.children.end(), byName);

    beginResetModel();
    m_entries = std::move(entries);
    m_roots = std::move(roots);
    endResetModel();
}

void LibraryModel::retranslate() {
    emit headerDataChanged(Qt::Horizontal, 0, ColumnCount - 1);
    emit layoutAboutToBeChanged();
    emit layoutChanged();  // every row's texts may have changed
}

const LibraryModel::Entry* LibraryModel::entry(const QModelIndex& index) const {
    if (!index.isValid() || index.model() != this) return nullptr;
    const auto i = static_cast<std::size_t>(index.internalId());
    return i < m_entries.size() ? &m_entries[i] : nullptr;
}

QModelIndex LibraryModel::indexOfModel(std::int64_t id, int column) const {
    for (int i = 0; i < static_cast<int>(m_entries.size()); ++i) {
        if (m_entries[i].model.id != id) continue;
        const int p = m_entries[i].parent;
        const auto& siblings = p < 0 ? m_roots : m_entries[p].children;
        const int row =
            static_cast<int>(std::find(siblings.begin(), siblings.end(), i) - siblings.begin());
        return createIndex(row, column, static_cast<quintptr>(i));
    }
    return {};
}

QModelIndex LibraryModel::index(int row, int column, const QModelIndex& parent) const {
    if (row < 0 || column < 0 || column >= ColumnCount) return {};
    if (!parent.isValid()) {
        if (row >= static_cast<int>(m_roots.size())) return {};
        return createIndex(row, column, static_cast<quintptr>(m_roots[row]));
    }
    const Entry* p = entry(parent);
    if (!p || parent.column() != 0 || row >= static_cast<int>(p->children.size())) return {};
    return createIndex(row, column, static_cast<quintptr>(p->children[row]));
}

QModelIndex LibraryModel::parent(const QModelIndex& child) const {
    const Entry* e = entry(child);
    if (!e || e->parent < 0) return {};
    return indexOfModel(m_entries[e->parent].model.id);
}

int LibraryModel::rowCount(const QModelIndex& parent) const {
    if (!parent.isValid()) return static_cast<int>(m_roots.size());
    const Entry* e = entry(parent);
    return e && parent.column() == 0 ? static_cast<int>(e->children.size()) : 0;
}

int LibraryModel::columnCount(const QModelIndex&) const {
    return ColumnCount;
}

QString LibraryModel::text(const Entry& e, int column) const {
    const auto& m = e.model;
    const bool expert = m.role == meswitch::ModelRole::expert;
    switch (column) {
        case NameColumn:
            return qs(m.name);
        case RoleColumn:
            return expert ? tr("expert") : tr("base");
        case ArchitectureColumn:
            return qs(m.architecture);
        case DtypeColumn:
            return qs(m.dtype);
        case ParametersColumn:
            return Formatting::parameterCount(m.parameter_count);
        case SizeColumn:
            return Formatting::byteSize(m.bytes);
        case DomainsColumn:
            return Formatting::domainTags(e.domains);
        case CompressionColumn:
            return expert ? Formatting::compressionSummary(e.artifacts) : QString();
        case PathColumn:
            return qs(m.path);
        default:
            return {};
    }
}

QVariant LibraryModel::data(const QModelIndex& index, int role) const {
    const Entry* e = entry(index);
    if (!e) return {};
    switch (role) {
        case Qt::DisplayRole:
            return text(*e, index.column());
        case Qt::ToolTipRole:
            if (index.column() == PathColumn || index.column() == CompressionColumn ||
                index.column() == DomainsColumn)
                return text(*e, index.column());
            if (index.column() == ParametersColumn)
                return QLocale().toString(static_cast<qlonglong>(e->model.parameter_count));
            if (index.column() == SizeColumn)
                return tr("%1 bytes")
                    .arg(QLocale().toString(static_cast<qlonglong>(e->model.bytes)));
            return {};
        case Qt::TextAlignmentRole:
            if (index.column() == ParametersColumn || index.column() == SizeColumn)
                return QVariant(Qt::AlignRight | Qt::AlignVCenter);
            return {};
        case Qt::FontRole:
            if (index.column() == NameColumn && e->model.role == meswitch::ModelRole::base) {
                QFont bold;
                bold.setBold(true);
                return bold;
            }
            return {};
        case ModelIdRole:
            return QVariant::fromValue<qlonglong>(e->model.id);
        default:
            return {};
    }
}

QVariant LibraryModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
    switch (section) {
        case NameColumn:
            return tr("Name");
        case RoleColumn:
            return tr("Role");
        case ArchitectureColumn:
            return tr("Architecture");
        case DtypeColumn:
            return tr("Dtype");
        case ParametersColumn:
            return tr("Parameters");
        case SizeColumn:
            return tr("Size on disk");
        case DomainsColumn:
            return tr("Domains");
        case CompressionColumn:
            return tr("Compression");
        case PathColumn:
            return tr("Path");
        default:
            return {};
    }
}
