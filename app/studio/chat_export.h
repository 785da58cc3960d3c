// A conversation written out as Markdown (headings per message, for reading and sharing) or JSON
// ({"title", "system_prompt"?, "messages": [{"role", "content", "expert"?, ...}]}, for tools):
// the chosen alternative of every answer, as the conversation stands.
#pragma once

#include <QByteArray>
#include <QString>

#include <functional>
#include <optional>
#include <vector>

#include "meswitch/catalog.h"

namespace ChatExport {

enum class Format { markdown, json };

// By the file name's suffix: ".json" is JSON, anything else Markdown.
Format formatFor(const QString& path);

// The name of the model with this catalog id, or "" (the base model, or unknown).
using ModelNameFn = std::function<QString(std::optional<std::int64_t> id)>;

QByteArray toMarkdown(const meswitch::ChatRecord& chat,
                      const std::vector<meswitch::MessageRecord>& messages,
                      const ModelNameFn& modelName);
QByteArray toJson(const meswitch::ChatRecord& chat,
                  const std::vector<meswitch::MessageRecord>& messages,
                  const ModelNameFn& modelName);

// Writes `data` to a temporary file beside `path` and renames it over `path` (QSaveFile), so that
// a failure never leaves a half-written file. Returns "" or why it failed.
QString writeFile(const QString& path, const QByteArray& data);

// A file name for the conversation: its title without characters file systems refuse.
QString suggestedFileName(const QString& title, Format format);

}  // namespace ChatExport
