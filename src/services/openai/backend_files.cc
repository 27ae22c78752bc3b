// OpenAIBackend: /v1/files. A file is a row of the metadata store (kind "openai-file": name,
// size, purpose) and an object in the account's files bucket (FileObjects), key "files/<id>".
#include <algorithm>
#include <chrono>

#include "core/arn.h"
#include "data/problem.h"
#include "data/validator.h"
#include "services/openai/backend.h"
#include "services/openai/body_fields.h"
#include "services/openai/limits.h"
#include "services/openai/multipart.h"

namespace lathe::openai {
namespace {

using json = nlohmann::json;
constexpr const char* kFileKind = "openai-file";

json FileObject(const store::ResourceRow& row) {
  return {{"id", row.id},
          {"object", "file"},
          {"bytes", row.doc.value("bytes", 0)},
          {"created_at", row.created_ms / 1000},
          {"filename", row.doc.value("filename", "")},
          {"purpose", row.doc.value("purpose", "fine-tune")},
          {"status", "processed"},
          {"status_details", nullptr}};
}

bool WellFormedId(const std::string& id, const char* prefix) {
  const size_t p = std::char_traits<char>::length(prefix);
  if (id.size() <= p || id.size() > kMaxIdBytes || id.compare(0, p, prefix) != 0) return false;
  return std::all_of(id.begin() + p, id.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)); });
}

// The first error of `lathe data validate`'s report, in words.
std::string FirstError(const data::FileReport& report) {
  for (const auto& p : report.problems)
    if (p.severity == data::Severity::kError) return data::FormatProblem(p);
  return "invalid data";
}

}  // namespace

Answer OpenAIBackend::UploadFile(std::string_view content_type, std::string_view body) {
  if (!files_) return ApiError{ErrorKind::kUnknownUrl, "This server keeps no files", ""};
  auto parts = ParseMultipart(content_type, body);
  if (!parts.ok()) return Invalid("file", parts.status().message());
  const FormPart* file = nullptr;
  std::string purpose;
  for (const auto& part : *parts) {
    if (part.name == "file") file = &part;
    else if (part.name == "purpose") purpose = std::string(part.data.substr(0, 64));
  }
  if (purpose.empty()) return Invalid("purpose", "Missing required parameter: 'purpose'.");
  if (purpose != "fine-tune")
    return Invalid("purpose", "lathe keeps files for fine-tuning only: 'purpose' must be 'fine-tune'.");
  if (!file) return Invalid("file", "Missing required parameter: 'file'.");
  std::string filename = file->filename.empty() ? "upload.jsonl" : file->filename;
  if (filename.size() > kMaxFilenameBytes) return Invalid("file", "The file's name is longer than 256 bytes.");
  // The checks `lathe data validate` and a job's validation phase make, before anything is kept.
  data::ValidateOptions options;
  options.allow_small = true;  // as jobs validate: lathe's small models learn from small sets
  data::FileReport report = data::ValidateBuffer(file->data, filename, options);
  if (!report.ok())
    return Invalid("file", "Invalid file format for fine-tuning (" + std::to_string(report.errors) +
                               " error(s)); first: " + FirstError(report));
  store::ResourceRow row;
  row.kind = kFileKind;
  row.id = "file-" + NewResourceId(24);
  row.name = row.id;
  row.arn = files_->Uri(account_, "files/" + row.id);
  row.status = "processed";
  row.created_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch()).count();
  row.doc = {{"filename", filename}, {"bytes", file->data.size()}, {"purpose", purpose},
             {"key", "files/" + row.id}, {"records", report.records}};
  if (Status s = files_->Put(account_, "files/" + row.id, file->data); !s.ok()) return FromStatus(s);
  if (Status s = bedrock_->store()->Insert(row); !s.ok()) {
    (void)files_->Delete(account_, "files/" + row.id);
    return FromStatus(s);
  }
  return FileObject(row);
}

std::variant<store::ResourceRow, ApiError> OpenAIBackend::FindFile(const std::string& id) {
  if (!WellFormedId(id, "file-")) return ApiError{ErrorKind::kNotFound, "No such File object: " + id.substr(0, 64), "id"};
  auto row = bedrock_->store()->Find(kFileKind, id);
  if (!row.ok()) return ApiError{ErrorKind::kNotFound, "No such File object: " + id, "id"};
  return *row;
}

Answer OpenAIBackend::RetrieveFile(const std::string& id) {
  auto row = FindFile(id);
  if (auto* e = std::get_if<ApiError>(&row)) return *e;
  return FileObject(std::get<store::ResourceRow>(row));
}

Answer OpenAIBackend::ListFiles(const Query& query) {
  auto rows = bedrock_->store()->List(kFileKind);
  if (!rows.ok()) return FromStatus(rows.status());
  std::sort(rows->begin(), rows->end(), [](const auto& a, const auto& b) { return a.created_ms > b.created_ms; });
  int64_t limit = kMaxListLimit;
  if (auto it = query.find("limit"); it != query.end()) {
    if (it->second.empty() || it->second.size() > 6 || !std::all_of(it->second.begin(), it->second.end(), ::isdigit))
      return Invalid("limit", "'limit' must be an integer from 1 to 100.");
    limit = std::stoll(it->second);
    if (limit < 1 || limit > kMaxListLimit) return Invalid("limit", "'limit' must be an integer from 1 to 100.");
  }
  std::string purpose = query.count("purpose") ? query.at("purpose") : "";
  std::string after = query.count("after") ? query.at("after") : "";
  json data = json::array();
  bool started = after.empty(), more = false;
  for (const auto& r : *rows) {
    if (!started) {
      started = r.id == after;
      continue;
    }
    if (!purpose.empty() && r.doc.value("purpose", "") != purpose) continue;
    if (static_cast<int64_t>(data.size()) == limit) {
      more = true;
      break;
    }
    data.push_back(FileObject(r));
  }
  json out = {{"object", "list"}, {"data", data}, {"has_more", more}};
  out["first_id"] = data.empty() ? json() : data.front()["id"];
  out["last_id"] = data.empty() ? json() : data.back()["id"];
  return out;
}

Answer OpenAIBackend::DeleteFile(const std::string& id) {
  auto row = FindFile(id);
  if (auto* e = std::get_if<ApiError>(&row)) return *e;
  const auto& r = std::get<store::ResourceRow>(row);
  // The object first: a row without its object would answer content it cannot give.
  Status s = files_->Delete(account_, r.doc.value("key", ""));
  if (!s.ok() && s.aws_code() != "NoSuchKey") return FromStatus(s);
  if (Status d = bedrock_->store()->Delete(kFileKind, r.id); !d.ok()) return FromStatus(d);
  return json{{"id", r.id}, {"object", "file"}, {"deleted", true}};
}

Answer OpenAIBackend::FileContent(const std::string& id, std::string* bytes) {
  auto row = FindFile(id);
  if (auto* e = std::get_if<ApiError>(&row)) return *e;
  const auto& r = std::get<store::ResourceRow>(row);
  if (Status s = files_->Get(account_, files_->Bucket(account_), r.doc.value("key", ""), kMaxFileBytes, bytes); !s.ok())
    return FromStatus(s);
  return json();
}

}  // namespace lathe::openai
