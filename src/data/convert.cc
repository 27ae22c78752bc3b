#include "data/convert.h"

#include <nlohmann/json.hpp>

#include "core/utf8.h"
#include "data/csv.h"
#include "data/example_reader.h"

namespace lathe::data {

using json = nlohmann::ordered_json;

Result<json> ExampleToJson(const Example& e, Format format, bool drop_system) {
  switch (format) {
    case Format::kPromptCompletion:
      if (e.format == Format::kPretraining)
        return Status::InvalidArgument("a pre-training record has no prompt and completion");
      if (e.turns.size() != 2)
        return Status::InvalidArgument("a conversation of " + std::to_string(e.turns.size()) +
                                       " messages has no single prompt and completion");
      if (!e.system.empty() && !drop_system)
        return Status::InvalidArgument("the record has a system prompt, which prompt/completion cannot hold "
                                       "(pass --drop-system to drop it)");
      return json{{"prompt", e.turns[0].text}, {"completion", e.turns[1].text}};
    case Format::kChat: {
      if (e.format == Format::kPretraining) return Status::InvalidArgument("a pre-training record has no messages");
      json msgs = json::array();
      for (const Turn& t : e.turns) msgs.push_back({{"role", RoleName(t.role)}, {"content", t.text}});
      json j = json::object();
      if (!e.system.empty()) j["system"] = e.system;
      j["messages"] = std::move(msgs);
      return j;
    }
    case Format::kConversation: {
      if (e.format == Format::kPretraining) return Status::InvalidArgument("a pre-training record has no messages");
      json msgs = json::array();
      for (const Turn& t : e.turns)
        msgs.push_back({{"role", RoleName(t.role)}, {"content", json::array({{{"text", t.text}}})}});
      json j = {{"schemaVersion", "bedrock-conversation-2024"}};
      if (!e.system.empty()) j["system"] = json::array({{{"text", e.system}}});
      j["messages"] = std::move(msgs);
      return j;
    }
    case Format::kPretraining:
      return json{{"input", e.AllText()}};
    case Format::kAuto: break;
  }
  return Status::InvalidArgument("choose a target format");
}

namespace {

std::string Line(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace

Result<ConvertResult> ConvertFile(Env* env, const std::string& in, const std::string& out, const ConvertOptions& o) {
  LATHE_RETURN_IF_ERROR(CheckNotSameFile(in, out));
  std::unique_ptr<ExampleReader> reader;
  LATHE_RETURN_IF_ERROR(ExampleReader::Open(env, in, Format::kAuto, &reader));
  std::unique_ptr<AtomicFileWriter> w;
  LATHE_RETURN_IF_ERROR(AtomicFileWriter::Open(env, out, &w));
  ConvertResult r;
  Record rec;
  while (reader->Next(&rec)) {
    Example e = std::move(rec.example);
    if (!o.system.empty() && o.to != Format::kPromptCompletion) e.system = o.system;
    auto j = ExampleToJson(e, o.to, o.drop_system);
    if (!j.ok())
      return Status::InvalidArgument(in + ":" + std::to_string(rec.line) + ": cannot convert to " + FormatName(o.to) +
                                     ": " + j.status().message());
    LATHE_RETURN_IF_ERROR(w->Append(Line(*j)));
    r.records++;
  }
  LATHE_RETURN_IF_ERROR(reader->status());
  r.from = reader->format();
  LATHE_RETURN_IF_ERROR(w->Commit());
  return r;
}

Result<ConvertResult> ConvertCsv(Env* env, const std::string& in, const std::string& out, const CsvOptions& o) {
  LATHE_RETURN_IF_ERROR(CheckNotSameFile(in, out));
  std::unique_ptr<CsvReader> csv;
  LATHE_RETURN_IF_ERROR(CsvReader::Open(env, in, &csv));
  std::vector<std::string> header, fields;
  uint64_t line = 0;
  if (!csv->Next(&header, &line)) {
    LATHE_RETURN_IF_ERROR(csv->status());
    return Status::InvalidArgument(in + " is empty: expected a header row");
  }
  auto column = [&](const std::string& name) -> Result<size_t> {
    for (size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return i;
    std::string have;
    for (const auto& h : header) have += (have.empty() ? "" : ", ") + ("\"" + h + "\"");
    return Status::InvalidArgument(in + ":1: no column \"" + name + "\" in the header (columns: " + have + ")");
  };
  const bool pretraining = !o.input_column.empty();
  std::vector<std::pair<std::string, size_t>> cols;
  for (const std::string& name : pretraining ? std::vector<std::string>{o.input_column}
                                             : std::vector<std::string>{o.prompt_column, o.completion_column}) {
    auto c = column(name);
    if (!c.ok()) return c.status();
    cols.push_back({name, *c});
  }
  std::unique_ptr<AtomicFileWriter> w;
  LATHE_RETURN_IF_ERROR(AtomicFileWriter::Open(env, out, &w));
  ConvertResult r;
  r.from = Format::kAuto;
  while (csv->Next(&fields, &line)) {
    if (fields.size() == 1 && fields[0].empty()) continue;  // blank line
    if (fields.size() != header.size())
      return Status::InvalidArgument(in + ":" + std::to_string(line) + ": " + std::to_string(fields.size()) +
                                     " fields, but the header has " + std::to_string(header.size()));
    json j = json::object();
    for (const auto& [name, idx] : cols) {
      if (size_t bad = FindInvalidUtf8(fields[idx]); bad != std::string::npos)
        return Status::InvalidArgument(in + ":" + std::to_string(line) + ": column \"" + name +
                                       "\" is not valid UTF-8 (byte " + std::to_string(bad + 1) +
                                       "); re-save the CSV as UTF-8");
      if (fields[idx].find_first_not_of(" \t\r\n") == std::string::npos)
        return Status::InvalidArgument(in + ":" + std::to_string(line) + ": column \"" + name + "\" is empty");
      j[pretraining ? "input" : (name == o.prompt_column ? "prompt" : "completion")] = fields[idx];
    }
    LATHE_RETURN_IF_ERROR(w->Append(Line(j)));
    r.records++;
  }
  LATHE_RETURN_IF_ERROR(csv->status());
  LATHE_RETURN_IF_ERROR(w->Commit());
  return r;
}

}  // namespace lathe::data
