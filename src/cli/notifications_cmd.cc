// `lathe notifications`: what SNS sent, read from the data directory without a running server.
//   lathe notifications                 the email outbox (DATA_DIR/notifications/outbox/*.eml)
//   lathe notifications --show ID       one message, as written (headers and body)
//   lathe notifications --deliveries    every protocol's delivery status (lathe.db, or a shared --store)
#include <algorithm>
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/store_choice.h"
#include "core/arn.h"
#include "core/env.h"
#include "engine/default_model.h"
#include "services/sns/backend.h"
#include "services/sns/delivery_worker.h"
#include "store/metadata_store.h"

namespace lathe::cli {
namespace {

constexpr size_t kMaxHeaderBytes = 64 * 1024;

struct OutboxEntry {
  std::string id, date, topic, subject, to, type, file;
};

// The value of header `name` in `head` (the part before the blank line), or "".
std::string HeaderValue(const std::string& head, const std::string& name) {
  size_t pos = 0;
  while (pos < head.size()) {
    size_t end = head.find("\r\n", pos);
    if (end == std::string::npos) end = head.size();
    std::string_view line(head.data() + pos, end - pos);
    if (line.size() > name.size() + 1 && line.substr(0, name.size()) == name && line[name.size()] == ':') {
      std::string_view v = line.substr(name.size() + 1);
      while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
      return std::string(v);
    }
    pos = end + 2;
  }
  return "";
}

// An outbox id is a file name without ".eml": digits, letters and '-' only (never a path).
bool IsOutboxId(const std::string& id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-')) return false;
  return true;
}

Result<std::vector<OutboxEntry>> ReadOutbox(const std::string& dir) {
  Env* env = Env::Default();
  std::vector<OutboxEntry> out;
  if (!env->FileExists(dir)) return out;
  std::vector<std::string> names;
  LATHE_RETURN_IF_ERROR(env->GetChildren(dir, &names));
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    if (name.size() <= 4 || name.substr(name.size() - 4) != ".eml") continue;
    OutboxEntry e;
    e.id = name.substr(0, name.size() - 4);
    if (!IsOutboxId(e.id)) continue;
    e.file = dir + "/" + name;
    std::string text;
    if (!ReadFileToString(env, e.file, &text).ok()) continue;
    const std::string head = text.substr(0, std::min(text.find("\r\n\r\n"), kMaxHeaderBytes));
    e.date = HeaderValue(head, "Date");
    e.topic = HeaderValue(head, "X-Lathe-Topic-Arn");
    e.subject = HeaderValue(head, "Subject");
    e.to = HeaderValue(head, "To");
    e.type = HeaderValue(head, "X-Lathe-Message-Type");
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

void AddNotificationsCommand(CLI::App* app, Context* ctx) {
  struct Args {
    StoreFlags where;  // --deliveries: the store; the outbox is the data directory's
    std::string show;
    bool deliveries = false, json = false;
    size_t limit = 50;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app->add_subcommand(
      "notifications",
      "What lathe serve's SNS sent: the email outbox (every email and email-json message, also when\n"
      "an SMTP relay sent it) and the status of every delivery (http, https, email)");
  cmd->footer(
      "Examples:\n  lathe notifications\n  lathe notifications --show 20260102-150405-1a2b3c4d5e6f\n"
      "  lathe notifications --deliveries --limit 20");
  cmd->add_option("--data-dir", a->where.data_dir, "lathe serve's data directory (default: $LATHE_HOME or ~/.local/share/lathe)");
  AddStoreOptions(cmd, &a->where, kConfigForStoreHelp);
  cmd->add_option("--show", a->show, "Print one outbox message (its ID from the list)");
  cmd->add_flag("--deliveries", a->deliveries, "List deliveries and their status, newest first");
  cmd->add_option("--limit", a->limit, "How many deliveries to list")->check(CLI::Range(1, 10000));
  cmd->add_flag("--json", a->json, "Print machine-readable results");
  cmd->callback([a, ctx] {
    const std::string data_dir = a->where.data_dir.empty() ? engine::DefaultDataDir() : a->where.data_dir;
    const std::string outbox = sns::OutboxDir(data_dir);
    if (!a->show.empty()) {
      if (!IsOutboxId(a->show)) {
        ctx->exit_code = ReportError(Status::InvalidArgument("--show: not an outbox id: " + a->show.substr(0, 80)));
        return;
      }
      std::string text;
      if (Status s = ReadFileToString(Env::Default(), outbox + "/" + a->show + ".eml", &text); !s.ok()) {
        ctx->exit_code = ReportError(Status::NotFound("no message " + a->show + " in " + outbox));
        return;
      }
      std::fwrite(text.data(), 1, text.size(), stdout);
      ctx->exit_code = kExitOk;
      return;
    }
    if (a->deliveries) {
      auto store = OpenChosenStore(a->where);
      if (!store.ok()) {
        ctx->exit_code = ReportError(store.status());
        return;
      }
      sns::SnsBackend backend(store->get());
      auto list = backend.RecentDeliveries(a->limit);
      if (!list.ok()) {
        ctx->exit_code = ReportError(list.status());
        return;
      }
      if (a->json) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto& d : *list)
          out.push_back({{"id", d.id}, {"time", Iso8601(d.created_ms)}, {"type", d.type}, {"messageId", d.message_id},
                         {"topicArn", d.topic_arn}, {"subscriptionArn", d.subscription_arn}, {"protocol", d.protocol},
                         {"endpoint", d.endpoint}, {"status", d.status}, {"attempts", d.attempts},
                         {"lastError", d.last_error}});
        PrintJson(out);
      } else {
        std::printf("%-24s  %-24s  %-10s  %-9s  %-8s  %s\n", "TIME", "TYPE", "PROTOCOL", "STATUS", "ATTEMPTS",
                    "ENDPOINT / LAST ERROR");
        for (const auto& d : *list)
          std::printf("%-24s  %-24s  %-10s  %-9s  %-8d  %s%s%s\n", Iso8601(d.created_ms).c_str(), d.type.c_str(),
                      d.protocol.c_str(), d.status.c_str(), d.attempts, d.endpoint.c_str(),
                      d.last_error.empty() ? "" : "  ", d.last_error.c_str());
      }
      ctx->exit_code = kExitOk;
      return;
    }
    auto entries = ReadOutbox(outbox);
    if (!entries.ok()) {
      ctx->exit_code = ReportError(entries.status());
      return;
    }
    if (a->json) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& e : *entries)
        out.push_back({{"id", e.id}, {"date", e.date}, {"topicArn", e.topic}, {"subject", e.subject}, {"to", e.to},
                       {"type", e.type}, {"file", e.file}});
      PrintJson(out);
    } else if (entries->empty()) {
      std::printf("no messages in %s\n", outbox.c_str());
    } else {
      std::printf("%-27s  %-31s  %-30s  %-40s  %s\n", "ID", "DATE", "TO", "SUBJECT", "TOPIC");
      for (const auto& e : *entries)
        std::printf("%-27s  %-31s  %-30s  %-40s  %s\n", e.id.c_str(), e.date.c_str(), e.to.c_str(), e.subject.c_str(),
                    e.topic.c_str());
      std::printf("(%zu in %s; lathe notifications --show ID prints one)\n", entries->size(), outbox.c_str());
    }
    ctx->exit_code = kExitOk;
  });
}

}  // namespace lathe::cli
