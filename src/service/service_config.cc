#include "service/service_config.h"

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "core/env.h"
#include "engine/language_model.h"
#include "service/s3_uri.h"

namespace lathe::service {

std::map<std::string, std::string> DefaultModelAliases() {
  std::map<std::string, std::string> aliases;
  for (const char* id : {"amazon.titan-text-express-v1", "amazon.titan-text-lite-v1",
                         "anthropic.claude-3-haiku-20240307-v1:0", "meta.llama2-13b-v1",
                         "cohere.command-light-text-v14"})
    aliases[id] = kDefaultModelId;
  return aliases;
}

int64_t DefaultModelMemoryBytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page_size <= 0) return int64_t{4} << 30;
  return static_cast<int64_t>(pages) * page_size / 4;
}

Result<ServiceConfig> LoadServiceConfig(const std::string& path, ServiceConfig c) {
  std::string text;
  LATHE_RETURN_IF_ERROR(ReadFileToString(Env::Default(), path, &text));
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::InvalidArgument(path + ": not a JSON object");
  auto bad = [&](const std::string& key, const char* want) {
    return Status::InvalidArgument(path + ": \"" + key + "\" must be " + want);
  };
  auto string_map = [&](const nlohmann::json& v, const std::string& key,
                        std::map<std::string, std::string>* out) -> Status {
    if (!v.is_object()) return bad(key, "an object of strings");
    for (const auto& [k, s] : v.items()) {
      if (!s.is_string()) return bad(key + "." + k, "a string");
      (*out)[k] = s.get<std::string>();
    }
    return Status::Ok();
  };
  auto positive = [&](const nlohmann::json& v, const std::string& key, int* out) -> Status {
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > 1000)
      return bad(key, "an integer in [0, 1000]");
    *out = v.get<int>();
    return Status::Ok();
  };
  // The whole list, replacing the default: the operator names every folder jobs may touch.
  auto file_roots = [&](const nlohmann::json& v, const std::string& key, std::vector<std::string>* out) -> Status {
    if (!v.is_array() || v.size() > kMaxFileRoots)
      return bad(key, ("an array of at most " + std::to_string(kMaxFileRoots) + " absolute folder paths").c_str());
    out->clear();
    for (size_t i = 0; i < v.size(); ++i) {
      const std::string at = key + "[" + std::to_string(i) + "]";
      if (!v[i].is_string()) return bad(at, "a string");
      const std::string root = v[i].get<std::string>();
      if (root.empty() || root.size() > kMaxFileRootLength)
        return bad(at, ("between 1 and " + std::to_string(kMaxFileRootLength) + " characters").c_str());
      if (root[0] != '/') return bad(at, "an absolute path (starting with /)");
      for (unsigned char ch : root)
        if (ch < 0x20 || ch == 0x7f) return bad(at, "free of control characters");
      out->push_back(root);
    }
    return Status::Ok();
  };
  for (const auto& [key, v] : j.items()) {
    if (key == "region" || key == "account") {
      if (!v.is_string() || v.get<std::string>().empty()) return bad(key, "a non-empty string");
      (key == "region" ? c.scope.region : c.scope.account) = v.get<std::string>();
    } else if (key == "models") {
      LATHE_RETURN_IF_ERROR(string_map(v, key, &c.models));
    } else if (key == "modelAliases") {
      LATHE_RETURN_IF_ERROR(string_map(v, key, &c.model_aliases));
    } else if (key == "weightPrecision") {
      constexpr size_t kMaxEntries = 1024, kMaxKeyLength = 2048;
      LATHE_RETURN_IF_ERROR(string_map(v, key, &c.weight_precision));
      if (c.weight_precision.size() > kMaxEntries) return bad(key, "an object of at most 1024 models");
      for (const auto& [model, precision] : c.weight_precision) {
        if (model.empty() || model.size() > kMaxKeyLength)
          return bad(key, "keyed by model ids or ARNs of 1 to 2048 characters");
        if (!engine::ParseWeightPrecision(precision).ok())
          return bad(key + "." + model.substr(0, 64), "\"f32\", \"bf16\" or \"q8_0\"");
      }
    } else if (key == "onDemandSlots") {
      LATHE_RETURN_IF_ERROR(positive(v, key, &c.on_demand_slots));
    } else if (key == "queuePerSlot") {
      LATHE_RETURN_IF_ERROR(positive(v, key, &c.queue_per_slot));
    } else if (key == "maxActiveJobs") {
      LATHE_RETURN_IF_ERROR(positive(v, key, &c.max_active_jobs));
    } else if (key == "modelMemoryBytes") {
      constexpr int64_t kMaxBytes = int64_t{1} << 50;  // 1 PiB: beyond any machine, far from overflow
      if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > kMaxBytes)
        return bad(key, "an integer number of bytes in [0, 2^50], e.g. 4294967296 for 4 GiB");
      c.model_memory_bytes = v.get<int64_t>();
    } else if (key == "maxImportBytes") {
      constexpr int64_t kMaxBytes = int64_t{1} << 50;
      if (!v.is_number_integer() || v.get<int64_t>() < 1 || v.get<int64_t>() > kMaxBytes)
        return bad(key, "an integer number of bytes in [1, 2^50], e.g. 34359738368 for 32 GiB");
      c.max_import_bytes = v.get<int64_t>();
    } else if (key == "workerNice") {
      LATHE_RETURN_IF_ERROR(positive(v, key, &c.worker_nice));
    } else if (key == "fileRoots") {
      LATHE_RETURN_IF_ERROR(file_roots(v, key, &c.file_roots));
    } else if (key == "allowedRegions") {
      constexpr size_t kMaxRegions = 64, kMaxRegionLength = 64;
      if (!v.is_array() || v.size() > kMaxRegions) return bad(key, "a list of at most 64 region names");
      for (const auto& r : v) {
        if (!r.is_string() || r.get<std::string>().empty() || r.get<std::string>().size() > kMaxRegionLength ||
            r.get<std::string>().find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos)
          return bad(key, "region names like \"us-east-1\" (a-z, 0-9, '-')");
        c.allowed_regions.push_back(r);
      }
    } else if (key == "continuousBatching") {
      if (!v.is_boolean()) return bad(key, "true or false");
      c.continuous_batching = v.get<bool>();
    } else if (key == "strictRoles") {
      if (!v.is_boolean()) return bad(key, "true or false");
      c.strict_roles = v.get<bool>();
    } else if (key == "strictAwsCompatibility") {
      if (!v.is_boolean()) return bad(key, "true or false");
      c.strict_aws_compatibility = v.get<bool>();
    } else if (key == "waitTimeScale") {
      if (!v.is_number() || !(v.get<double>() >= 0.0 && v.get<double>() <= 1000.0))
        return bad(key, "a number in [0, 1000] (1 = Wait states wait as written)");
      c.wait_time_scale = v.get<double>();
    } else if (key == "retention") {
      auto policy = RetentionPolicyFromJson(v, path + ": \"retention\"");
      if (!policy.ok()) return policy.status();
      c.retention = *policy;
    } else if (key == "smtpRelay") {
      if (!v.is_object()) return bad(key, "an object {\"url\": \"smtp://host:port\", \"from\": \"address\"}");
      for (const auto& [k, s] : v.items()) {
        if (!s.is_string() || s.get<std::string>().size() > 2048) return bad(key + "." + k, "a string of at most 2048 characters");
        const std::string value = s.get<std::string>();
        for (unsigned char ch : value)
          if (ch < 0x20 || ch == 0x7f) return bad(key + "." + k, "free of control characters");
        if (k == "url") c.smtp_relay.url = value;
        else if (k == "from") c.smtp_relay.from = value;
        else if (k == "username") c.smtp_relay.username = value;
        else if (k == "password") c.smtp_relay.password = value;
        else return bad(key + "." + k, "one of url, from, username, password");
      }
      if (c.smtp_relay.url.rfind("smtp://", 0) != 0 && c.smtp_relay.url.rfind("smtps://", 0) != 0)
        return bad(key + ".url", "an smtp:// or smtps:// URL");
      if (c.smtp_relay.from.find('@') == std::string::npos) return bad(key + ".from", "an email address");
    } else if (key == "publicUrl") {
      if (!v.is_string() || v.get<std::string>().size() > 1024 ||
          (v.get<std::string>().rfind("http://", 0) != 0 && v.get<std::string>().rfind("https://", 0) != 0))
        return bad(key, "an http:// or https:// URL of at most 1024 characters");
      c.public_url = v.get<std::string>();
      for (unsigned char ch : c.public_url)
        if (ch <= 0x20 || ch >= 0x7f) return bad(key, "a URL of printable ASCII characters");
      while (!c.public_url.empty() && c.public_url.back() == '/') c.public_url.pop_back();
    } else if (key == "prices") {
      auto prices = data::ParsePriceTable(v, path + ": \"prices\"");
      if (!prices.ok()) return prices.status();
      c.prices = std::move(*prices);
    } else if (key == "externalBuckets") {
      auto buckets = ParseExternalBuckets(v, path + ": \"externalBuckets\"");
      if (!buckets.ok()) return buckets.status();
      c.external_buckets = std::move(*buckets);
    } else if (key == "runJobsOn") {
      if (!v.is_string() || (v.get<std::string>() != "here" && v.get<std::string>() != "workers"))
        return bad(key, "\"here\" (this server trains) or \"workers\" (`lathe worker`s claim the jobs)");
      c.job_placement = v.get<std::string>() == "here" ? ServiceConfig::JobPlacement::kHere
                                                       : ServiceConfig::JobPlacement::kWorkers;
    } else if (key == "artifactBucket") {
      if (!v.is_string() || v.get<std::string>().empty() || v.get<std::string>().size() > 63 ||
          !ParseS3Uri("s3://" + v.get<std::string>()).ok() || v.get<std::string>().find('/') != std::string::npos)
        return bad(key, "an S3 bucket name (3-63 lowercase letters, digits, '.', '-')");
      c.artifact_bucket = v.get<std::string>();
    } else if (key == "leaseSeconds") {
      if (!v.is_number_integer() || v.get<int64_t>() < 5 || v.get<int64_t>() > 3600)
        return bad(key, "an integer number of seconds from 5 to 3600");
      c.lease_seconds = v.get<int>();
    } else if (key == "store") {
      constexpr size_t kMaxStoreUrl = 2048;
      if (!v.is_string() || v.get<std::string>().size() > kMaxStoreUrl ||
          (v.get<std::string>().rfind("postgresql://", 0) != 0 && v.get<std::string>().rfind("postgres://", 0) != 0))
        return bad(key, "a postgresql:// URL of at most 2048 characters");
      for (unsigned char ch : v.get<std::string>())
        if (ch < 0x20 || ch == 0x7f) return bad(key, "free of control characters");
      c.store_url = v.get<std::string>();
    } else if (key == "metrics") {
      if (!v.is_boolean()) return bad(key, "true or false (false: no GET /metrics)");
      c.metrics = v.get<bool>();
    } else if (key == "accessKeyId" || key == "secretAccessKey" || key == "bedrockApiKeys") {
      // Read by the server (credentials); accepted here so one file holds the whole setup.
    } else {
      return Status::InvalidArgument(path + ": unknown key \"" + key +
                                     "\" (known: region, account, models, modelAliases, onDemandSlots, "
                                     "queuePerSlot, workerNice, maxActiveJobs, fileRoots, modelMemoryBytes, maxImportBytes, weightPrecision, continuousBatching, strictRoles, allowedRegions, "
                                     "smtpRelay, publicUrl, strictAwsCompatibility, waitTimeScale, prices, retention, externalBuckets, runJobsOn, artifactBucket, leaseSeconds, store, "
                                     "metrics, accessKeyId, "
                                     "secretAccessKey, bedrockApiKeys)");
    }
  }
  if (c.scope.account.size() != 12 || c.scope.account.find_first_not_of("0123456789") != std::string::npos)
    return Status::InvalidArgument(path + ": \"account\" must be 12 digits, like an AWS account id");
  // The built-in table's placeholder fallback prices lathe's own models: the configured ones too.
  if (!c.prices.fallback_models.empty())
    for (const auto& entry : c.models) c.prices.fallback_models.insert(entry.first);
  return c;
}

}  // namespace lathe::service
