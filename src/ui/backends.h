// What the dashboard reads and changes: the services' backends, through their public headers
// only (never their wire). `lathe serve` fills this in (src/server); any pointer may be null (a
// service whose storage could not open, or a unit test), and the pages that need it answer 503.
#pragma once

#include <string>

namespace lathe::service {
class BedrockService;
class JobObjectStore;
}
namespace lathe::registry {
class Registry;
}
namespace lathe::states {
class StatesBackend;
}
namespace lathe::store {
class ExecutionStore;
class MetadataStore;
}
namespace lathe::events {
class EventsBackend;
}
namespace lathe::sns {
class SnsBackend;
}
namespace lathe::iam {
class AuditTrail;
}
namespace lathe::s3 {
class S3Backend;
class S3Objects;
}

namespace lathe::ui {

struct Backends {
  service::BedrockService* bedrock = nullptr;  // jobs, models, deployments, evaluations, runtime, the store
  store::MetadataStore* store = nullptr;       // rows the pages count and cost
  registry::Registry* registry = nullptr;
  states::StatesBackend* states = nullptr;
  store::ExecutionStore* executions = nullptr;
  events::EventsBackend* events = nullptr;
  sns::SnsBackend* sns = nullptr;
  s3::S3Backend* buckets = nullptr;
  s3::S3Objects* objects = nullptr;
  service::JobObjectStore* job_objects = nullptr;  // copies an object to a file (dataset checks)
  iam::AuditTrail* audit = nullptr;  // the server's audit trail: logins and every POST land in it
  std::string account = "000000000000";
  std::string region = "us-east-1";
  std::string data_dir;  // jobs' run folders (metrics CSVs), scratch space, disk use
};

}  // namespace lathe::ui
