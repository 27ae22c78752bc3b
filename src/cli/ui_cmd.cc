// `lathe ui [--data-dir D] [--config F] [--endpoint URL] [--open]`: a one-time link that logs a
// browser into the dashboard of `lathe serve` (docs/dashboard.md). The link's token is minted
// here from the key the server uses (the same lookup: config, LATHE_* variables, then
// DATA_DIR/credentials.json; ui/login_link.h), so it needs no request; the server accepts it
// once, within ten minutes.
#include <spawn.h>
#include <sys/wait.h>

#include <cstdio>
#include <ctime>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "core/env.h"
#include "engine/default_model.h"
#include "server/credentials.h"
#include "services/cleanup/serve_cleanup.h"
#include "ui/login_link.h"

extern char** environ;

namespace lathe::cli {
namespace {

struct UiArgs {
  std::string data_dir, config, endpoint;
  bool open = false;
};

// Where the server listens: --endpoint, else the URL the running server recorded in its data
// directory, else $AWS_ENDPOINT_URL, else the default address.
std::string Endpoint(const UiArgs& a, const std::string& data_dir) {
  std::string url = a.endpoint;
  if (url.empty() && ReadFileToString(Env::Default(), data_dir + "/" + cleanup::kServeUrlFile, &url).ok()) {
    while (!url.empty() && (url.back() == '\n' || url.back() == '\r')) url.pop_back();
  }
  if (url.empty())
    if (const char* env = std::getenv("AWS_ENDPOINT_URL")) url = env;
  if (url.empty()) url = "http://127.0.0.1:8080";
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

void OpenInBrowser(const std::string& link) {
  pid_t pid = 0;
  const char* argv[] = {"xdg-open", link.c_str(), nullptr};
  if (posix_spawnp(&pid, "xdg-open", nullptr, nullptr, const_cast<char* const*>(argv), environ) != 0) {
    std::fprintf(stderr, "lathe ui: xdg-open is not available; open the link above yourself\n");
    return;
  }
  int status = 0;
  waitpid(pid, &status, 0);
}

}  // namespace

void AddUiCommand(CLI::App* app, Context* ctx) {
  auto a = std::make_shared<UiArgs>();
  CLI::App* cmd = app->add_subcommand(
      "ui",
      "Print a one-time link that logs a browser into lathe serve's dashboard (/ui/).\n"
      "The link works once, within 10 minutes; the dashboard's login page also takes the access key\n"
      "id and secret that `lathe serve` printed.\n\nExample:\n  lathe ui --open");
  cmd->add_option("--data-dir", a->data_dir, "lathe serve's data directory (default: $LATHE_HOME or ~/.local/share/lathe)");
  cmd->add_option("--config", a->config, "lathe serve's JSON config (when its keys are there)");
  cmd->add_option("--endpoint", a->endpoint, "The server's URL (default: the one the running server recorded, "
                                              "$AWS_ENDPOINT_URL, or http://127.0.0.1:8080)");
  cmd->add_flag("--open", a->open, "Open the link with xdg-open");
  cmd->callback([a, ctx] {
    const std::string data_dir = a->data_dir.empty() ? engine::DefaultDataDir() : a->data_dir;
    auto creds = server::LoadOrCreateCredentials(data_dir, a->config);
    if (!creds.ok()) {
      ctx->exit_code = ReportError(creds.status());
      return;
    }
    const std::string token = ui::MintLoginToken(creds->credentials.access_key_id,
                                                 creds->credentials.secret_access_key, std::time(nullptr));
    const std::string link = Endpoint(*a, data_dir) + "/ui/link?token=" + token;
    std::printf("%s\n", link.c_str());
    std::fprintf(stderr, "lathe ui: the link logs in once, within %lld minutes (keys from %s)\n",
                 static_cast<long long>(ui::kMaxLinkSeconds / 60), creds->origin.c_str());
    std::fflush(stdout);
    if (a->open) OpenInBrowser(link);
    ctx->exit_code = kExitOk;
  });
}

}  // namespace lathe::cli
