#include "chat_export.h"

#include <QCoreApplication>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSaveFile>

namespace ChatExport {

namespace {

QString qs(const std::string& s) {
    return QString::fromStdString(s);
}

QString tr(const char* text) {
    return QCoreApplication::translate("ChatExport", text);
}

}  // namespace

Format formatFor(const QString& path) {
    return QFileInfo(path).suffix().compare(QLatin1String("json"), Qt::CaseInsensitive) == 0
               ? Format::json
               : Format::markdown;
}

QByteArray toMarkdown(const meswitch::ChatRecord& chat,
                      const std::vector<meswitch::MessageRecord>& messages,
                      const ModelNameFn& modelName) {
    QString out =
        QStringLiteral("# %1\n\n").arg(chat.title.empty() ? tr("Untitled chat") : qs(chat.title));
    if (!chat.system_prompt.empty())
        out += QStringLiteral("**%1** %2\n\n").arg(tr("System prompt:"), qs(chat.system_prompt));
    for (const auto& m : messages) {
        if (m.role == "user") {
            out += QStringLiteral("## %1\n\n").arg(tr("You"));
        } else if (m.role == "assistant") {
            const QString name = modelName ? modelName(m.expert_id) : QString();
            out += name.isEmpty() ? QStringLiteral("## %1\n\n").arg(tr("Assistant"))
                                  : QStringLiteral("## %1 (%2)\n\n").arg(tr("Assistant"), name);
        } else {
            continue;
        }
        out += qs(m.text).trimmed() + QStringLiteral("\n\n");
    }
    return out.toUtf8();
}

QByteArray toJson(const meswitch::ChatRecord& chat,
                  const std::vector<meswitch::MessageRecord>& messages,
                  const ModelNameFn& modelName) {
    QJsonObject root;
    root[QStringLiteral("title")] = qs(chat.title);
    if (!chat.system_prompt.empty()) root[QStringLiteral("system_prompt")] = qs(chat.system_prompt);
    if (!chat.created_at.empty()) root[QStringLiteral("created_at")] = qs(chat.created_at);
    QJsonArray list;
    for (const auto& m : messages) {
        QJsonObject o;
        o[QStringLiteral("role")] = qs(m.role);
        o[QStringLiteral("content")] = qs(m.text);
        if (m.role == "assistant") {
            const QString name = modelName ? modelName(m.expert_id) : QString();
            if (!name.isEmpty()) o[QStringLiteral("expert")] = name;
            if (m.routing_confidence)
                o[QStringLiteral("routing_confidence")] = *m.routing_confidence;
            o[QStringLiteral("tokens")] = qint64(m.token_count);
            if (m.alternative_count > 1) {
                o[QStringLiteral("alternative")] = m.alternative;
                o[QStringLiteral("alternatives")] = m.alternative_count;
            }
        }
        if (!m.created_at.empty()) o[QStringLiteral("created_at")] = qs(m.created_at);
        list.append(o);
    }
    root[QStringLiteral("messages")] = list;
    return QJsonDocument(root).toJson(QJsonDocument::Indented);
}

QString writeFile(const QString& path, const QByteArray& data) {
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly)) return file.errorString();
    if (file.write(data) != data.size()) {
        const QString why = file.errorString();
        file.cancelWriting();
        return why;
    }
    if (!file.commit()) return file.errorString();
    return {};
}

QString suggestedFileName(const QString& title, Format format) {
    static const QRegularExpression unsafe(QStringLiteral("[\\\\/:*?\"<>|\\x00-\\x1f]+"));
    QString name = title.simplified().replace(unsafe, QStringLiteral("-")).left(60).trimmed();
    while (name.endsWith(QLatin1Char('.')) || name.endsWith(QStringLiteral("…"))) name.chop(1);
    if (name.isEmpty()) name = QStringLiteral("conversation");
    return name + (format == Format::json ? QStringLiteral(".json") : QStringLiteral(".md"));
}

}  // namespace ChatExport
