// `lathe serve`: the Bedrock-compatible API on this machine (docs/serve.md).
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <thread>

#include "server/credentials.h"
#include "cli/commands.h"
#include "cli/node_config.h"
#include "engine/default_model.h"
#include "http/tls_self_signed.h"
#include "server/lathe_server.h"
#include "service/bedrock_service.h"
#include "services/cleanup/serve_cleanup.h"

namespace lathe::cli {
namespace {

bool IsLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

}  // namespace

void AddServeCommand(CLI::App* app, Context* ctx) {
  struct Args {
    std::string listen = "127.0.0.1:8080", data_dir, config, store;
    bool no_auth = false;
    int default_max_records = 0;
    std::string default_build = "start";
    std::string tls_cert, tls_key;
    bool tls_self_signed = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = app->add_subcommand(
      "serve", "Run the AWS-compatible endpoint: Bedrock (control plane, runtime, job runner), IAM, STS, S3, SNS, EventBridge,\n"
      "Step Functions, Lambda, SageMaker's Model Registry");
  cmd->footer(
      "Unmodified boto3 / AWS CLI code works against it with AWS_ENDPOINT_URL set: one endpoint, the\n"
      "service chosen by the request's signature, as AWS's SDKs sign it. Requests must be signed\n"
      "(SigV4) with the keys it prints at start; ARNs carry the region they were signed for; jobs\n"
      "train one at a time in a worker process and resume after a restart. Details and limits:\n"
      "docs/serve.md; deliberate differences from AWS: docs/compatibility.md.\n\n"
      "Example:\n  lathe serve --listen 127.0.0.1:8080\n"
      "  export AWS_ENDPOINT_URL=http://127.0.0.1:8080\n"
      "  aws bedrock list-foundation-models --region ap-south-1\n"
      "  aws sts get-caller-identity\n"
      "  aws s3 mb s3://my-training-data --region ap-south-1");
  cmd->add_option("--listen", a->listen, "Address to listen on (loopback by default)")->capture_default_str();
  cmd->add_option("--data-dir", a->data_dir, "Metadata, jobs and models (default: $LATHE_HOME or ~/.local/share/lathe)");
  cmd->add_option("--store", a->store,
                  "The metadata store: a postgresql:// URL that several nodes share (default: DATA_DIR/lathe.db;\n"
                  "config \"store\"; docs/scale-out.md)");
  cmd->add_option("--config", a->config, "JSON config: region, account, models, modelAliases, fileRoots, strictRoles, allowedRegions,\n"
                  "smtpRelay, publicUrl, strictAwsCompatibility, "
                  "keys, bedrockApiKeys (docs/serve.md)")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--no-auth", a->no_auth, "Accept unsigned requests (throwaway local use only)");
  cmd->add_option("--default-max-records", a->default_max_records,
                  "Pretraining records if the default model must be built (smaller: faster, weaker)");
  cmd->add_option("--default-build", a->default_build,
                  "When to build the default model if it is missing: at start (in the background; InvokeModel\n"
                  "answers ThrottlingException with the time left until it is built) or at its first use")
      ->check(CLI::IsMember({"start", "first-use"}))
      ->capture_default_str();
  auto* tls_cert = cmd->add_option("--tls-cert", a->tls_cert,
                                   "Serve https (TLS 1.2+, HTTP/2 or HTTP/1.1 by ALPN) with this PEM certificate chain;\n"
                                   "SIGHUP re-reads it and the key")
                       ->check(CLI::ExistingFile);
  auto* tls_key = cmd->add_option("--tls-key", a->tls_key, "The PEM private key of --tls-cert")->check(CLI::ExistingFile);
  tls_cert->needs(tls_key);
  tls_key->needs(tls_cert);
  cmd->add_flag("--tls-self-signed", a->tls_self_signed,
                "Serve https with a certificate for the listen address from a local CA kept in DATA_DIR/tls;\n"
                "prints the AWS_CA_BUNDLE line clients need")
      ->excludes(tls_cert);
  cmd->callback([a, ctx] {
    auto loaded = LoadNodeConfig(a->data_dir, a->config, a->store);
    if (!loaded.ok()) {
      ctx->exit_code = ReportError(loaded.status());
      return;
    }
    service::ServiceConfig config = std::move(*loaded);
    config.build_default_at_start = a->default_build == "start";
    config.default_max_train_records = a->default_max_records;
    server::ServeOptions options;
    if (!ParseListen(a->listen, &options.host, &options.port)) {
      ctx->exit_code = ReportError(Status::InvalidArgument("--listen: expected HOST:PORT, got " + a->listen));
      return;
    }
    options.metrics = config.metrics;  // GET /metrics (docs/scale-out.md, Operations)
    options.tls_cert = a->tls_cert;
    options.tls_key = a->tls_key;
    if (a->tls_self_signed) {
      auto made = http::MakeSelfSigned(config.data_dir + "/tls", options.host);
      if (!made.ok()) {
        ctx->exit_code = ReportError(made.status());
        return;
      }
      options.tls_cert = made->cert;
      options.tls_key = made->key;
      options.tls_ca = made->ca_cert;
    }
    const bool tls = !options.tls_cert.empty();
    const std::string scheme = tls ? "https" : "http";
    options.gateway.no_auth = a->no_auth;
    options.gateway.default_region = config.scope.region;
    options.gateway.account = config.scope.account;
    options.gateway.allowed_regions = config.allowed_regions;
    std::string key_line;
    if (!a->no_auth) {
      auto creds = server::LoadOrCreateCredentials(config.data_dir, a->config);
      if (!creds.ok()) {
        ctx->exit_code = ReportError(creds.status());
        return;
      }
      options.credentials.push_back(creds->credentials);
      for (const std::string& token : creds->bedrock_api_keys)
        options.gateway.bearer_tokens.push_back({token, creds->credentials.access_key_id});
      key_line = "keys from " + creds->origin + (creds->created ? " (new)" : "") + "; configure clients with:\n" +
                 "  aws configure set aws_access_key_id " + creds->credentials.access_key_id + "\n" +
                 "  aws configure set aws_secret_access_key " + creds->credentials.secret_access_key + "\n" +
                 "  aws configure set region " + config.scope.region + "\n";
      if (!creds->bedrock_api_keys.empty())  // OpenAI's clients (docs/openai.md), with OPENAI_BASE_URL=<url>/v1
        key_line += "  export OPENAI_API_KEY=" + creds->bedrock_api_keys.front() + "\n";
    }
    // SIGINT/SIGTERM are taken by a thread of their own, so stopping is ordinary code.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGHUP);  // reload the TLS certificate
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    // The request log goes to stderr: stdout is for the address and keys, which scripts read.
    spdlog::set_default_logger(spdlog::stderr_color_mt("serve"));
    // No engine::ConfigureThreads() here: it would load the engine module (libtorch) at start-up;
    // LanguageModel::Load sets torch's threads when the first model loads.
    auto service = service::BedrockService::Open(config, /*start=*/false);
    if (!service.ok()) {
      ctx->exit_code = ReportError(service.status());
      return;
    }
    server::LatheServer server(service->get(), options);
    if (Status s = server.Listen(); !s.ok()) {
      ctx->exit_code = ReportError(s);
      return;
    }
    // Jobs start once the server has wired its S3 store in: a resumed job may read s3:// at once.
    (*service)->Start();
    if (!tls && !IsLoopback(options.host)) {
      spdlog::warn(
          "listening on {} without TLS: anyone on the network path can read the prompts, answers, training data "
          "and Bedrock API keys sent to this server, and replay signed requests for up to 15 minutes; use "
          "--tls-self-signed or --tls-cert/--tls-key",
          options.host);
    }
    std::printf("lathe serve: %s://%s:%d  (data: %s)\n%s", scheme.c_str(), options.host.c_str(), server.port(),
                config.data_dir.c_str(),
                a->no_auth ? "authentication OFF (--no-auth): any request is accepted\n" : key_line.c_str());
    std::printf("  export AWS_ENDPOINT_URL=%s://%s:%d\n", scheme.c_str(), options.host.c_str(), server.port());
    if (!a->no_auth)  // the dashboard's login takes the keys above (docs/dashboard.md)
      std::printf("  dashboard: %s://%s:%d/ui/  (log in with the keys above, or run `lathe ui` for a link)\n",
                  scheme.c_str(), options.host.c_str(), server.port());
    if (!options.tls_ca.empty()) {
      std::printf("  export AWS_CA_BUNDLE=%s  # also NODE_EXTRA_CA_CERTS for node, curl --cacert\n",
                  options.tls_ca.c_str());
    }
    std::fflush(stdout);
    // Beside serve.lock: where `lathe cleanup` (finding the lock held) reaches this server.
    const std::string url_file = config.data_dir + "/" + cleanup::kServeUrlFile;
    const bool any_host = options.host == "0.0.0.0" || options.host == "::" || options.host.empty();
    if (Status s = WriteFileAtomically(
            Env::Default(), url_file, scheme + "://" + (any_host ? std::string("127.0.0.1") : options.host) + ":" + std::to_string(server.port()) + "\n");
        !s.ok())
      spdlog::warn("cannot record the URL in {}: {}", url_file, s.ToString());
    std::atomic<bool> serving{true};
    std::thread waiter([&] {
      int sig = 0;
      while (sigwait(&stop_signals, &sig) == 0 && sig == SIGHUP && serving) {
        Status reloaded = tls ? server.ReloadTls() : Status::Ok();
        if (!tls) {
          spdlog::info("SIGHUP: no TLS certificate to reload");
        } else if (reloaded.ok()) {
          spdlog::info("SIGHUP: reloaded the TLS certificate {} (new connections use it)", options.tls_cert);
        } else {
          spdlog::error("SIGHUP: kept the old TLS certificate: {}", reloaded.ToString());
        }
      }
      if (!serving) return;  // Run ended on its own and woke us
      spdlog::info("signal {}: stopping (a running job resumes at the next start; again to quit at once)", sig);
      server.Stop();
      // Shutting down waits for the worker to checkpoint and for models being loaded; a second
      // signal means "now" (workers die with the server through PR_SET_PDEATHSIG).
      do {
        sigwait(&stop_signals, &sig);
      } while (sig == SIGHUP && serving);
      if (serving) std::_Exit(130);
    });
    server.Run();
    std::remove(url_file.c_str());  // before the lock goes with the service
    service->reset();  // stops the job runner (the worker checkpoints) and joins model loaders
    serving = false;
    pthread_kill(waiter.native_handle(), SIGTERM);  // wake the waiter wherever it waits
    waiter.join();
    ctx->exit_code = kExitOk;
  });
}

}  // namespace lathe::cli
